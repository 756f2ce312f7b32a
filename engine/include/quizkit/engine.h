/* quizkit/engine.h: the engine handle over a progress file (progress.db).
 *
 * The progress file holds the append-only event log of DESIGN.md (decision 2)
 * and the local member roster. It is created on first open, migrated forward by
 * numbered migrations, and kept in WAL mode; every event is committed with
 * synchronous=FULL before the call that made it returns, so what a screen has
 * confirmed survives a power cut.
 *
 * One engine handle per thread. Like sqlite3_open, qk_engine_open sets *out
 * even when it fails (unless out of memory) so qk_engine_errmsg() can say why. */
#ifndef QUIZKIT_ENGINE_H
#define QUIZKIT_ENGINE_H

#include "clock.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_engine qk_engine;

/* Schema version this library writes (PRAGMA user_version). */
#define QK_PROGRESS_SCHEMA 3
/* A progress file's PRAGMA application_id ("qkdv", set when it is opened):
 * other programs can tell one from their own files by its header. */
#define QK_PROGRESS_APP_ID 0x716b6476

/* Opens the progress file at progress_path, making it (and its device id) on
 * first open and migrating an older one forward; threads or processes opening
 * a new file at the same moment all get it, with one device id. A file that
 * is not a progress file is refused untouched (QK_ECORRUPT), a newer one too
 * (QK_EFORMAT); NULL or "" is QK_EINVAL. *out is set even on failure (for
 * qk_engine_errmsg), except out of memory; close it in every case. */
int qk_engine_open(qk_engine **out, const char *progress_path, qk_lang lang);
/* The same on a clock (quizkit/clock.h; NULL: the system clock), which the
 * engine copies; everything the engine records or decides by time reads it. */
int qk_engine_open_v2(qk_engine **out, const char *progress_path, qk_lang lang,
                      const qk_clock *clock);
const char *qk_engine_errmsg(const qk_engine *e);
qk_lang qk_engine_lang(const qk_engine *e);
/* This device's id (a UUID made on first open); owned by the engine. */
const char *qk_engine_device_id(const qk_engine *e);
/* Uses clock (copied; NULL: the system clock) for both the time and the
 * monotonic time. */
void qk_engine_use_clock(qk_engine *e, const qk_clock *clock);
/* Replaces the time with a callback (milliseconds since 1970 UTC), for unit
 * tests that step time by hand; NULL returns to the engine's clock. */
void qk_engine_set_clock(qk_engine *e, int64_t (*now_ms)(void *payload), void *payload);
int64_t qk_engine_now_ms(qk_engine *e);
/* The monotonic clock that times answers (the engine's clock's monotonic
 * time unless a test sets a callback); it never jumps when the wall clock is set. */
void qk_engine_set_mono_clock(qk_engine *e, int64_t (*mono_ms)(void *payload), void *payload);
int64_t qk_engine_mono_ms(qk_engine *e);
/* One event as stored (for sync). Strings may be NULL; owned by the engine
 * during the callback only. */
typedef struct qk_event_row {
    const char *id, *device_id, *member_id, *bundle_id, *bundle_version, *kind, *attempt_id;
    const char *payload; /* JSON object text */
    int64_t seq;
    int64_t created_ms;
} qk_event_row;

/* Calls fn for this device's events with seq > after_seq, in seq order; a
 * non-zero return from fn stops and is returned. */
int qk_events_each(qk_engine *e, int64_t after_seq, int (*fn)(const qk_event_row *ev, void *payload),
                   void *payload);
/* The highest sequence number the server has acknowledged (0: none), and the
 * highest this device has written. */
int qk_engine_sync_state(qk_engine *e, int64_t *acked_seq, int64_t *last_seq);
/* Records an acknowledgement; it only moves forward, and never past last_seq
 * (QK_EINVAL). */
int qk_engine_set_acked(qk_engine *e, int64_t acked_seq);
/* Moves the acknowledgement back to acked_seq when a server that holds this
 * device's events up to acked_seq only (restored from a backup after a disk
 * died) says so: what it lost is sent again. Events are never deleted, and
 * resending is harmless (they are set union by id), so the worst a lying
 * server can cause is a needless resend. A higher value changes nothing. */
int qk_engine_rewind_acked(qk_engine *e, int64_t acked_seq);

/* The latest time an event may carry: 9999-12-31 23:59:59.999 Beijing time
 * (the earliest is 1970-01-01 UTC, 0). A server refuses events outside this
 * range, so that every date it shows or counts by has four digits. */
#define QK_EVENT_TIME_MAX_MS 253402271999999LL
#define QK_SQL_EVENT_TIME_MAX "253402271999999" /* the same, for SQL text */

/* The time an event counts at, as SQL over a table of the events' shape
 * (progress file or server store) aliased ev (DESIGN.md decision 10): an
 * event of an attempt counts at the attempt's start, so an attempt begun at
 * 23:58 and finished at 00:00:29 Beijing time belongs wholly to the first
 * day; any other event at its own time. */
#define QK_SQL_COUNTS_AT(ev)                                                                       \
    "coalesce((SELECT s_.created_ms FROM events s_ WHERE s_.attempt_id = " ev ".attempt_id"        \
    " AND s_.kind = 'attempt.start' LIMIT 1), " ev ".created_ms)"

/* Number of events in the log (all kinds). */
int qk_engine_event_count(qk_engine *e, int64_t *out);
/* Closes the engine; NULL is a no-op. */
void qk_engine_close(qk_engine *e);

#ifdef __cplusplus
}
#endif

#endif
