/* quizkit/points.h: the points ledger (学习积分) and study streaks.
 *
 * Rules come from the bundle (so they are covered by its signature), one per
 * activity with points and a daily cap; a bundle without rules uses the
 * defaults below. Every award is an event ("points.award", at most one per
 * attempt and activity); a correction (e.g. after the server re-scores an
 * attempt) is a new "points.correction" event with a signed amount and a
 * reason, never an edit. Totals, today's points and streaks are derived from
 * those events, so a server running the same rules over the same events gets
 * the same numbers. */
#ifndef QUIZKIT_POINTS_H
#define QUIZKIT_POINTS_H

#include "bundle.h"
#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qk_activity {
    QK_ACT_DAILY = 0,   /* "daily": each right answer in the daily quiz */
    QK_ACT_CHALLENGE,   /* "challenge": each right answer of a challenge run */
    QK_ACT_LESSON,      /* "lesson": each lesson completed */
    QK_ACT_COMPETITION, /* "competition": each competition taken part in */
    QK_ACT_STREAK,      /* "streak": each study day once the streak is 2 days or more */
    QK_ACT_COUNT
} qk_activity;

const char *qk_activity_name(qk_activity a); /* "daily", ... */
qk_activity qk_activity_parse(const char *name); /* QK_ACT_COUNT if unknown */

typedef struct qk_point_rule {
    int points;    /* per unit of the activity */
    int daily_cap; /* at most this many points a day from the activity */
} qk_point_rule;

/* The bundle's rules, or the defaults for activities it does not set. */
void qk_point_rules(qk_bundle *b, qk_point_rule rules[QK_ACT_COUNT]);

typedef struct qk_points_summary {
    int today[QK_ACT_COUNT]; /* awarded today (Beijing day), per activity */
    qk_point_rule rules[QK_ACT_COUNT];
    int64_t total;           /* all awards and corrections */
    int today_total;
    int streak_days;         /* consecutive study days up to today (or yesterday) */
} qk_points_summary;

int qk_points_summary_get(qk_engine *e, qk_bundle *b, const char *member_id,
                          qk_points_summary *out);

/* Records a correction of amount points (positive or negative) with a reason. */
int qk_points_correct(qk_engine *e, const char *member_id, qk_activity a, int amount,
                      const char *reason);

/* Awards points for a completed activity of the member now (lessons and
 * competitions call it; sessions award daily and challenge points themselves
 * when they finish). ref names what earned it (an attempt or lesson id) and
 * makes the award happen at most once. *awarded gets the points given after
 * the daily cap (may be NULL). */
int qk_points_award(qk_engine *e, qk_bundle *b, const char *member_id, qk_activity a, int units,
                    const char *ref, int *awarded);

/* The server's check of a member's points: attempts, answers and lessons
 * replayed in time order under the bundle's rules and caps, ignoring the
 * award events the device wrote, so the server can check the device's
 * ledger. Corrections count. The replay is a pure function of the events it
 * is given (the server's store reads them with QK_SQL_POINT_EVENTS; nothing
 * here opens a file). */
typedef struct qk_point_event {
    const char *kind;      /* answer, attempt.finish, lesson.finish, points.correction */
    int64_t counts_at;     /* the instant its Beijing day is taken from (its attempt's start) */
    int correct;           /* attempt.finish: questions right */
    int completed;         /* lesson.finish: the lesson was completed */
    const char *lesson;    /* lesson.finish: the lesson's id */
    int64_t amount;        /* points.correction: the points corrected */
    int answered;          /* attempt.finish: questions answered */
    const char *mode;      /* attempt.finish: its attempt's mode */
    const char *device_id; /* the device that recorded it */
    int64_t created_ms;    /* with device_id and seq, its place in replay order */
    int64_t seq;
    int64_t row;           /* its row in the events table (rowid) */
    int64_t received_ms;   /* when a server received it (QK_SQL_POINT_EVENTS_RECEIVED); 0: not known */
} qk_point_event;

/* The rows of qk_point_event, in that column order and in replay order,
 * from an events table of the progress file's shape: ?1 the member, ?2 one
 * device's events only (NULL: every device's), ?3 and ?4 the rows after ?3
 * up to ?4 only (NULL: from the first, to the last); an answer is read for
 * its day only (its payload is not parsed). An attempt earns once, as on
 * the device (an award per attempt), however many finish events two
 * screens may have written for it. An event's day (QK_SQL_COUNTS_AT) and
 * its attempt's mode come from the member's own start of the attempt:
 * another member's events cannot change them (a server keeps each member's
 * replay and adds only new events of the member's, see sync/src/store.c).
 * The unary + on the subqueries' member_id keeps SQLite's planner on the
 * attempt's index: without it the planner found the start through the
 * member's index, a walk of all the member's starts for every event (a
 * 12,005-event USB file judged at 4,400 events/s instead of 20,000). */
#define QK_SQL_POINT_EVENTS QK__SQL_POINT_EVENTS_COLS QK__SQL_POINT_EVENTS_FROM
/* The same with a thirteenth column, the event's received_ms, from a
 * server's events table. */
#define QK_SQL_POINT_EVENTS_RECEIVED QK__SQL_POINT_EVENTS_COLS ", e.received_ms" QK__SQL_POINT_EVENTS_FROM
#define QK__SQL_POINT_EVENTS_COLS                                                                    \
    "SELECT e.kind, coalesce((SELECT s_.created_ms FROM events s_ WHERE s_.attempt_id = e.attempt_id"  \
    " AND s_.kind = 'attempt.start' AND +s_.member_id = e.member_id LIMIT 1), e.created_ms),"          \
    " CASE WHEN e.kind = 'attempt.finish' THEN json_extract(e.payload, '$.correct') END,"             \
    " CASE WHEN e.kind = 'lesson.finish' THEN json_extract(e.payload, '$.completed') END,"            \
    " CASE WHEN e.kind = 'lesson.finish' THEN json_extract(e.payload, '$.lesson') END,"               \
    " CASE WHEN e.kind = 'points.correction' THEN json_extract(e.payload, '$.amount') END,"           \
    " CASE WHEN e.kind = 'attempt.finish' THEN json_extract(e.payload, '$.answered') END,"            \
    " CASE WHEN e.kind = 'attempt.finish' THEN (SELECT json_extract(s.payload, '$.mode') FROM events s" \
    "   WHERE s.attempt_id = e.attempt_id AND s.kind = 'attempt.start' AND +s.member_id = e.member_id)" \
    " END, e.device_id,"                                                                               \
    " e.created_ms, e.seq, e.rowid"
#define QK__SQL_POINT_EVENTS_FROM                                                                    \
    " FROM events e WHERE e.member_id = ?1 AND (?2 IS NULL OR e.device_id = ?2)"                       \
    " AND e.rowid > coalesce(?3, 0) AND e.rowid <= coalesce(?4, 9223372036854775807)"                 \
    " AND e.kind IN ('answer', 'attempt.finish', 'lesson.finish', 'points.correction')"                \
    " AND NOT (e.kind = 'attempt.finish' AND EXISTS (SELECT 1 FROM events f"                           \
    "  WHERE f.attempt_id = e.attempt_id AND f.kind = 'attempt.finish' AND +f.member_id = e.member_id" \
    "  AND f.rowid < e.rowid))"                                                                        \
    " ORDER BY e.created_ms, e.device_id, e.seq"

/* The row a statement of QK_SQL_POINT_EVENTS stands on, as an event; its
 * strings stay the statement's until it steps again. */
struct sqlite3_stmt;
void qk_point_event_read(struct sqlite3_stmt *st, qk_point_event *ev);

typedef struct qk_points_day {
    int64_t day;
    int64_t points;
} qk_points_day;

typedef struct qk_points_replay qk_points_replay;
int qk_points_replay_new(qk_points_replay **out, qk_bundle *b);
/* Adds the next event; QK_ENOMEM when it could not be kept (the replay's
 * result is then no total). */
int qk_points_replay_add(qk_points_replay *r, const qk_point_event *ev);
/* The points: *total, and those of each Beijing day (days in no order;
 * caller frees *days with free(); days may be NULL). Frees r. */
int qk_points_replay_end(qk_points_replay *r, int64_t *total, qk_points_day **days, size_t *n_days);
/* The replay so far as bytes (*state, caller frees): a replay resumed from
 * them and given the events that come after gives what this one would
 * given the same events. So a server keeps each member's replay and adds
 * only new events, as long as they come after (replay order) those added. */
int qk_points_replay_save(const qk_points_replay *r, unsigned char **state, size_t *len);
/* A replay resumed from qk_points_replay_save's bytes, under the rules of
 * b (the bundle it was saved under: the caller keeps which). QK_ECORRUPT
 * when the bytes are not such a state (or of another version's layout). */
int qk_points_replay_resume(qk_points_replay **out, qk_bundle *b, const void *state, size_t len);

/* The same over a device's progress file (or any SQLite file with its events
 * table): *total gets the result; messages go to msg. */
int qk_points_recompute(const char *events_db, qk_bundle *b, const char *member_id,
                        int64_t *total, char *msg, size_t msglen);
/* With each day's points, and from one device's events only when device_id
 * is not NULL: what that device, by the rules, should have awarded itself. */
int qk_points_recompute_days(const char *events_db, qk_bundle *b, const char *member_id,
                             const char *device_id, int64_t *total, qk_points_day **days,
                             size_t *n_days, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif

#endif
