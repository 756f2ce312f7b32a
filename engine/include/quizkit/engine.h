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
#define QK_PROGRESS_SCHEMA 1

int qk_engine_open(qk_engine **out, const char *progress_path, qk_lang lang);
const char *qk_engine_errmsg(const qk_engine *e);
qk_lang qk_engine_lang(const qk_engine *e);
/* This device's id (a UUID made on first open); owned by the engine. */
const char *qk_engine_device_id(const qk_engine *e);
/* Replaces the wall clock (milliseconds since 1970 UTC). For tests and for a
 * device that knows its clock is off; NULL restores the system clock. */
void qk_engine_set_clock(qk_engine *e, int64_t (*now_ms)(void *payload), void *payload);
int64_t qk_engine_now_ms(qk_engine *e);
/* Number of events in the log (all kinds). */
int qk_engine_event_count(qk_engine *e, int64_t *out);
/* Closes the engine; NULL is a no-op. */
void qk_engine_close(qk_engine *e);

#endif
