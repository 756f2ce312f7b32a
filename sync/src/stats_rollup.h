/* stats_rollup.h: the events' share of the statistics' roll-ups, taken in
 * one pass in C (stats_rollup.c). Internal to sync/. */
#ifndef QK_STATS_ROLLUP_H
#define QK_STATS_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

typedef struct qk__rollup_opts {
    /* 1 on the server: a member's wrong answers count under the branch the
     * members table gives (members.branch_id), 0 on a device (''). */
    int server;
    /* 1 on a device: finished attempts' own scores (the attempt.finish
     * events in the range) are rolled up in the same pass; the server takes
     * its re-scored ones from attempt_scores instead. */
    int finish_scores;
    /* Rows held before they are written out, and attempts' starts kept
     * before they are forgotten; 0 for the defaults (256k and 64k). Tests
     * set them small to check that a sum written in pieces is the same. */
    size_t flush_rows, starts_max;
} qk__rollup_opts;

/* Adds the events of rowid lo+1..hi to stat_day, stat_attempts,
 * stat_answers, stat_answers_month and stat_wrong, inside the caller's
 * transaction. Memory is bounded: the sums are written out every 256k
 * distinct rows. QK_OK, or an error with msg filled. */
int qk__rollup_events(struct sqlite3 *db, const qk__rollup_opts *o, int64_t lo, int64_t hi,
                      char *msg, size_t n);

/* Brings a progress file's roll-ups up to date for a period from from_day
 * (INT64_MIN: every event), chunk rowids of events a transaction (stats.c
 * uses 262144; tests, a few); a build that begins here notes the older
 * events' last days by spans of 2^span_shift rowids (0: the default, 65536;
 * tests, a few). */
int qk__stats_refresh_local(struct sqlite3 *db, int64_t chunk, int span_shift, int64_t from_day, char *msg,
                            size_t n);

#endif
