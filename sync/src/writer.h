/* writer.h: the server's one writer of devices' batches (group commit).
 * Internal. */
#ifndef QK_WRITER_H
#define QK_WRITER_H

#include <stddef.h>

#include <jansson.h>

#include "qk_sync.h"
#include "quizkit/clock.h"

typedef struct qk__writer qk__writer;

/* Starts the writer on its own connection to the store spec (leaving the
 * log's checkpoints to the server's checkpointer when there is one); NULL
 * with msg set when the store cannot be opened. */
qk__writer *qk__writer_start(const char *spec, const qk_clock *clock, int checkpointer, char *msg,
                             size_t n);
/* qk__store_ingest of one device's batch by the writer, which may keep it in
 * one transaction with other batches; returns once that transaction is on
 * disk (or undone: then rc is not QK_OK, err says why, r is zero). lang: of
 * the messages. */
int qk__writer_ingest(qk__writer *w, const char *device, json_t *events, qk_lang lang,
                      qk_import_result *r, json_t *conflicts, char *err, size_t errlen);
/* The same without waiting: returns at once, and done(arg, rc) is called
 * on the writer's thread once the transaction holding the batch is on disk
 * (or undone). events, r, conflicts and err stay the caller's and must live
 * until then; done must not call back into the writer. QK_ENOMEM (done not
 * called) when the batch could not be queued. */
typedef void (*qk__writer_done)(void *arg, int rc);
int qk__writer_submit(qk__writer *w, const char *device, json_t *events, qk_lang lang, qk_import_result *r,
                      json_t *conflicts, char *err, size_t errlen, qk__writer_done done, void *arg);
/* Lets the batches queued finish, then stops. */
void qk__writer_stop(qk__writer *w);

#endif
