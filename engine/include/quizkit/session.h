/* quizkit/session.h: quiz sessions (attempts).
 *
 * Lifecycle: start (or resume) -> next -> answer -> next ... -> finish -> free.
 * qk_session_next returns QK_ROW with the next item or QK_DONE when every
 * question is answered; it never fails for "no more". qk_session_answer records
 * the answer durably in the event log before it returns the feedback.
 *
 * Every attempt is events: attempt.start (spec, seed, drawn question ids),
 * one answer event each, attempt.finish. Resume replays them: the seed redraws
 * the same questions in the same option order, the answer events restore what
 * was given. Practice and exam are built; the other modes are reserved names so
 * that daily quiz, challenge, review, spaced repetition, competitions and
 * lessons fit the same spec and the same events. */
#ifndef QUIZKIT_SESSION_H
#define QUIZKIT_SESSION_H

#include "bundle.h"
#include "competition.h"
#include "engine.h"
#include "points.h"
#include "study.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qk_mode {
    QK_MODE_PRACTICE = 1, /* feedback and 解析 after each answer */
    QK_MODE_EXAM = 2,     /* time limit; results only at the end */
    QK_MODE_DAILY = 3,     /* 每日答题: the day's set, the same all day (Beijing time) */
    QK_MODE_CHALLENGE = 4, /* 挑战答题: until the first miss; time_limit_s is per question */
    QK_MODE_REVIEW = 5,    /* 错题本: the wrong-answer book; count limits it */
    QK_MODE_SRS = 6,       /* spaced repetition: what SM-2 says is due today */
    QK_MODE_COMPETITION = 7, /* 知识竞赛: spec.competition names it; time per question */
    /* Reserved: lessons have their own runs (quizkit/lesson.h). */
    QK_MODE_LESSON = 8
} qk_mode;

const char *qk_mode_name(qk_mode m); /* "practice", "exam", ... */
qk_mode qk_mode_parse(const char *name); /* 0 if unknown */

typedef enum qk_order {
    QK_ORDER_RANDOM = 0,    /* 随机: questions drawn and options shuffled by the seed */
    QK_ORDER_SEQUENTIAL = 1 /* 顺序: authoring order, options as written */
} qk_order;

#define QK_SESSION_SPEC_VERSION 1
typedef struct qk_session_spec {
    int version;       /* QK_SESSION_SPEC_VERSION */
    qk_mode mode;
    const char *theme; /* theme id; NULL for all themes */
    size_t count;      /* questions to draw; 0 or more than there are: all */
    int time_limit_s;  /* 0: none. Exam with 0 gets 60 s per question; challenge: per
                          question, 0 gets QK_CHALLENGE_DEFAULT_SECONDS */
    qk_order order;
    int has_seed;      /* 0: a fresh seed from the OS */
    uint64_t seed;
    const char *competition; /* competition mode: the competition's id */
} qk_session_spec;
#define QK_SESSION_SPEC_INIT {QK_SESSION_SPEC_VERSION, QK_MODE_PRACTICE, NULL, 10, 0, QK_ORDER_RANDOM, 0, 0, NULL}

typedef struct qk_session qk_session;

typedef struct qk_item {
    size_t index; /* 0-based position in the attempt */
    size_t total;
    const qk_question *q;
    const size_t *perm;        /* display position -> option index */
    const char *option_text[QK_MAX_OPTIONS]; /* in display order */
} qk_item;

typedef struct qk_feedback {
    int correct;
    qk_centi score;
    qk_centi max;
    int reveal;              /* practice: show right/wrong now; exam: only at the end */
    int timed_out;           /* challenge: the question's time ran out (a miss) */
    const char *given;       /* what was answered, display form; owned by the session */
    const char *right;       /* the right answer, display form; owned by the session */
    const char *explanation; /* may be NULL */
    int comp_points;         /* competition: this answer's points */
    int64_t elapsed_ms;      /* how long the answer took */
    int fast;                /* competition: faster than the floor (flagged) */
} qk_feedback;

typedef struct qk_summary {
    char attempt_id[40];
    qk_mode mode;
    size_t total;
    size_t answered;
    size_t correct;
    qk_centi score;
    qk_centi max;
    int64_t duration_ms;
    int timed_out;
    int points; /* study points awarded for this attempt (daily, challenge, competition) */
    int comp_points;   /* competition: the entry's points (speed scoring) */
    int64_t answer_ms; /* competition: total answer time (ties) */
    int flagged;       /* competition: an answer faster than the floor */
} qk_summary;

/* member_id NULL: a guest attempt. *out is set even on failure (see errmsg). */
int qk_session_start(qk_session **out, qk_engine *e, qk_bundle *b, const char *member_id,
                     const qk_session_spec *spec);
/* Continues the member's latest unfinished attempt. QK_ENOTFOUND if there is none;
 * QK_EVERSION if it was made with another bundle or version.
 *
 * Midnight (DESIGN.md decision 10): an attempt belongs to the Beijing day on
 * which it began: its daily set, points, caps, streak and statistics. One
 * still on screen at midnight goes on and is finished for that day. A daily
 * quiz left unfinished when its day is over is not today's quiz: the next
 * start or resume of the member finishes it (reason "expired") with the
 * answers it has, its points counted on its own day, and never resumes it.
 * Starting the daily quiz continues today's when it was begun (there is one
 * daily set a day); qk_session_resumed() tells. Competition entries never
 * resume. */
int qk_session_resume(qk_session **out, qk_engine *e, qk_bundle *b, const char *member_id);
/* The same, limited to what spec asks for: an unfinished attempt of its mode,
 * and of its theme (NULL: the all-themes attempts; the daily quiz, review and
 * spaced repetition have no theme). A screen that offers modes and themes
 * continues only what the person chose. */
int qk_session_resume_spec(qk_session **out, qk_engine *e, qk_bundle *b, const char *member_id,
                           const qk_session_spec *spec);
/* 1 when the session continues an attempt from the log. */
int qk_session_resumed(const qk_session *s);
/* The daily quiz's day ("YYYY-MM-DD", Beijing); "" for other modes. */
const char *qk_session_day(const qk_session *s);

/* A past day's daily quiz that a start or resume finished (see above). */
typedef struct qk_expired_daily {
    char day[QK_DATE_LEN]; /* the day it belongs to */
    size_t answered, correct, total;
    int points;            /* the points it earned, on its own day */
} qk_expired_daily;
/* NULL when the call finished none; owned by the session. */
const qk_expired_daily *qk_session_expired_daily(const qk_session *s);
const char *qk_session_errmsg(const qk_session *s);
int qk_session_next(qk_session *s, qk_item *out);
/* QK_OK with feedback; QK_EINVAL for an answer that cannot be read (nothing is
 * recorded; *problem says why); QK_ETIMEOUT once the time limit has passed. */
int qk_session_answer(qk_session *s, const char *input, qk_feedback *fb,
                      qk_answer_problem *problem);
/* Challenge: records the current question as missed once its own time has run
 * out (the UI calls it when its countdown reaches zero); the run then ends.
 * QK_ESTATE if there is time left. */
int qk_session_expire(qk_session *s, qk_feedback *fb);
/* Milliseconds left before the time limit (for a challenge: the current
 * question's), or -1 when there is none. */
int64_t qk_session_remaining_ms(qk_session *s);
/* Number of answers already given (after resume: those restored). */
size_t qk_session_answered(const qk_session *s);
/* Records attempt.finish (once) and fills the summary. */
int qk_session_finish(qk_session *s, qk_summary *out);
/* After finish: item i with its feedback (what was given, right answer,
 * explanation), for the end-of-exam review. QK_ENOTFOUND past the end;
 * a question left unanswered has fb->given == NULL. */
int qk_session_review(qk_session *s, size_t i, qk_item *item, qk_feedback *fb);
/* Opens attempt_id of the progress file to look at, never to answer: its
 * questions in the order and option order they were shown, with the answers
 * given, for qk_session_review (every feedback revealed; next, answer and
 * finish write nothing). QK_ENOTFOUND: no such attempt; QK_EVERSION: made with
 * another bundle or version. *out is set even on failure (see errmsg); free it
 * with qk_session_free. */
int qk_session_open(qk_session **out, qk_engine *e, qk_bundle *b, const char *attempt_id);

/* Fills given_shown and right_shown of the n book entries w (quizkit/study.h)
 * as the member saw them when they last missed each question: the letters of
 * that attempt's display with the options' text ("C. 1927年", "B. 1921年"),
 * as feedback showed them. An attempt that cannot be replayed (made with
 * another bundle version) gives the options' text alone, never letters that
 * may not be the ones shown. Entries whose question b lacks stay NULL. Each
 * attempt is replayed once. */
int qk_wrongbook_show(qk_engine *e, qk_bundle *b, qk_wrong *w, size_t n);

const char *qk_session_attempt_id(const qk_session *s);
const char *qk_session_theme(const qk_session *s);
qk_mode qk_session_mode(const qk_session *s);
void qk_session_free(qk_session *s);

/* Re-scores a finished (or unfinished) attempt from the raw events in any
 * database with the progress file's events table (the server's store): the
 * recorded seed redraws the questions, every raw answer is scored again with
 * this engine, and the device's own finish score is compared. QK_EVERSION
 * when the bundle is not the attempt's id and version. */
typedef struct qk_rescore {
    qk_centi server_score; /* from the raw answers */
    qk_centi device_score; /* what the device's attempt.finish said */
    qk_centi max;
    size_t answered, correct;
    int finished;          /* an attempt.finish event is held */
    int mismatch;          /* finished, and the two scores (or competition points) differ */
    int competition;       /* a competition entry: the points below apply */
    char competition_id[72];
    int server_points, device_points;
    int64_t answer_ms;     /* total answer time, misses counting their whole limit */
    int flagged;           /* an answer faster than the competition's floor */
    int outside_window;    /* begun outside the competition's window (device clock) */
} qk_rescore;
int qk_attempt_rescore(const char *events_db, qk_bundle *b, const char *attempt_id,
                       qk_rescore *out, qk_lang lang, char *msg, size_t msglen);

/* The same judge over an attempt's events held in memory, for a server that
 * keeps its events in a store of its own: nothing is opened but a private
 * in-memory database, kept by the rescorer for the next attempt. One
 * rescorer per thread. */
typedef struct qk_rescorer qk_rescorer;
/* One event as the protocol carries it; payload is its JSON text. */
typedef struct qk_event_in {
    int64_t seq;
    const char *kind, *attempt_id, *bundle_id, *bundle_version, *payload;
    int64_t created_ms;
} qk_event_in;
int qk_rescorer_new(qk_rescorer **out);
void qk_rescorer_free(qk_rescorer *r);
/* Scores attempt_id from its events ev[0..n) (any order; seq orders the
 * answers). comp_id and comp_spec: the published competition the attempt
 * entered, when the bundle does not hold it (NULL otherwise). */
int qk_rescorer_score(qk_rescorer *r, qk_bundle *b, const char *attempt_id, const qk_event_in *ev,
                      size_t n, const char *comp_id, const char *comp_spec, qk_rescore *out,
                      qk_lang lang, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif

#endif
