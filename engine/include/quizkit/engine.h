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

#include "common.h"

typedef struct qk_engine qk_engine;

/* Schema version this library writes (PRAGMA user_version). */
#define QK_PROGRESS_SCHEMA 3

int qk_engine_open(qk_engine **out, const char *progress_path, qk_lang lang);
const char *qk_engine_errmsg(const qk_engine *e);
qk_lang qk_engine_lang(const qk_engine *e);
/* This device's id (a UUID made on first open); owned by the engine. */
const char *qk_engine_device_id(const qk_engine *e);
/* Replaces the wall clock (milliseconds since 1970 UTC). For tests and for a
 * device that knows its clock is off; NULL restores the system clock. */
void qk_engine_set_clock(qk_engine *e, int64_t (*now_ms)(void *payload), void *payload);
int64_t qk_engine_now_ms(qk_engine *e);
/* The monotonic clock that times answers in competitions (CLOCK_MONOTONIC
 * unless a test sets another); it never jumps when the wall clock is set. */
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

/* Number of events in the log (all kinds). */
int qk_engine_event_count(qk_engine *e, int64_t *out);
/* Closes the engine; NULL is a no-op. */
void qk_engine_close(qk_engine *e);

#endif
