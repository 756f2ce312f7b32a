/* quizkit/study.h: study views derived from the event log: the
 * wrong-answer book (错题本), spaced repetition and the best challenge run
 * (days are Beijing days, quizkit/calendar.h). Nothing here is stored:
 * every view is recomputed from the answer events, so the server can compute
 * the same from synced events. */
#ifndef QUIZKIT_STUDY_H
#define QUIZKIT_STUDY_H

#include "calendar.h"
#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QK_DAILY_DEFAULT_COUNT 5
#define QK_CHALLENGE_DEFAULT_SECONDS 20

typedef struct qk_wrong {
    char *question_id;
    char *given;          /* the last wrong answer, canonical (question's own letters) */
    int times_wrong;
    int right_days;       /* days in a row, since the last wrong answer, answered right */
    int64_t last_wrong_ms;
    char *attempt_id;     /* the attempt of the last wrong answer ("": not known) */
    size_t index;         /* the question's position in that attempt */
    char *given_shown;    /* filled by qk_wrongbook_show (quizkit/session.h), else NULL */
    char *right_shown;
} qk_wrong;

/* A question leaves the book once it is answered right on this many
 * different days in a row after its last wrong answer. */
#define QK_WRONGBOOK_RIGHT_DAYS 2

/* The member's wrong-answer book (member NULL: the guest), most recently
 * missed first. Caller frees with qk_wrongbook_free(). */
int qk_wrongbook_list(qk_engine *e, const char *member_id, qk_wrong **out, size_t *n);
void qk_wrongbook_free(qk_wrong *v, size_t n);

/* --- spaced repetition (SM-2) ---
 * Every question the member has answered is scheduled by SM-2 (Wozniak,
 * 1990): grade q 0..5 (a right answer is 4, a partly right one 3, a wrong one
 * 1); with q >= 3 the interval goes 1 day, 6 days, then round(I x EF) and the
 * repetition count grows; with q < 3 it starts again at 1 day; after each
 * repetition EF += 0.1 - (5 - q)(0.08 + (5 - q) 0.02), never below 1.3. Only
 * the first answer of a Beijing day counts as that day's repetition. */
typedef struct qk_srs_item {
    char *question_id;
    int repetitions;
    double ef;
    int interval_days;
    int64_t due_day;  /* Beijing day number (qk_beijing_day) when it is due */
} qk_srs_item;

/* One SM-2 step, exposed for tests against worked examples. */
void qk_srs_step(int grade, int *repetitions, double *ef, int *interval_days);

/* The member's schedule, soonest due first. Caller frees with qk_srs_free(). */
int qk_srs_list(qk_engine *e, const char *member_id, qk_srs_item **out, size_t *n);
void qk_srs_free(qk_srs_item *v, size_t n);

/* The longest run of right answers in the member's finished challenges. */
int qk_challenge_best(qk_engine *e, const char *member_id, size_t *best);

#ifdef __cplusplus
}
#endif

#endif
