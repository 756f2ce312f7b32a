/* store.h: the server's storage behind one small interface, so that a
 * PostgreSQL backend can be added without touching import or the handlers
 * (DESIGN.md decision 7). SQLite is the embedded default. Internal. */
#ifndef QK_STORE_H
#define QK_STORE_H

#include <jansson.h>

#include "qk_sync.h"

enum { QK_PUT_INSERTED = 0, QK_PUT_DUPLICATE = 1, QK_PUT_CONFLICT = 2 };

typedef struct qk_store_ops {
    int (*begin)(qk_store *s);
    int (*commit)(qk_store *s);
    void (*rollback)(qk_store *s);
    /* The device's public key as first seen (*pem NULL when unknown); caller frees. */
    int (*device_key)(qk_store *s, const char *device_id, char **pem);
    int (*set_device)(qk_store *s, const char *device_id, const char *pem, int64_t acked_seq);
    /* Inserts one event unless held; *outcome says which of QK_PUT_*. */
    int (*put_event)(qk_store *s, json_t *ev, int *outcome);
    /* The device's held sequence numbers, ascending; caller frees. */
    int (*held_seqs)(qk_store *s, const char *device_id, int64_t **seqs, size_t *n);
    int (*count)(qk_store *s, int64_t *n);
    /* Records a re-scoring; the device's and the server's scores are both kept. */
    int (*put_score)(qk_store *s, const char *attempt_id, const qk_rescore *r, const char *note);
    /* The database file another connection can read (for the engine's re-scoring). */
    const char *(*path)(qk_store *s);
    void (*close)(qk_store *s);
} qk_store_ops;

struct qk_store {
    const qk_store_ops *ops;
    qk_lang lang;
    char err[512];
    char *where; /* the spec, for messages */
    char *bundles; /* folder of published bundles, or NULL */
    void *impl;
};

extern const qk_store_ops qk__sqlite_store;
int qk__sqlite_store_open(qk_store *s, const char *path);

#endif
