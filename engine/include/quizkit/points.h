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

/* Recomputes a member's points from the raw events in any SQLite database
 * with an events table of the progress file's shape (a device's progress.db
 * or the server's store): attempts, answers and lessons are replayed in time
 * order under the bundle's rules and caps, ignoring the award events the
 * device wrote, so the server can check the device's ledger. Corrections
 * count. *total gets the result; messages go to msg. */
int qk_points_recompute(const char *events_db, qk_bundle *b, const char *member_id,
                        int64_t *total, char *msg, size_t msglen);
/* The same, with the points of each Beijing day (days in no order; caller
 * frees *days with free(); days may be NULL), from one device's events only
 * when device_id is not NULL: what that device, by the rules, should have
 * awarded itself. */
typedef struct qk_points_day {
    int64_t day;
    int64_t points;
} qk_points_day;
int qk_points_recompute_days(const char *events_db, qk_bundle *b, const char *member_id,
                             const char *device_id, int64_t *total, qk_points_day **days,
                             size_t *n_days, char *msg, size_t msglen);

#endif
