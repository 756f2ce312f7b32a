/* store_pg.h: what the PostgreSQL store's statistics (stats_pg.c) use of
 * its connection (store_pg.c). Internal to sync/; only with libpq-fe.h. */
#ifndef QK_STORE_PG_H
#define QK_STORE_PG_H

#include <libpq-fe.h>

#include "store.h"

/* sql with n text parameters (NULL: SQL NULL) of the given types, its rows
 * in *out (caller clears; NULL: not wanted); a lost connection is made
 * again outside a transaction. QK_OK, else an error with s->err set. */
int qk__pg_exec(qk_store *s, const char *sql, int n, const char *const *v, const Oid *types,
                PGresult **out);
/* A write transaction (the write lock taken first; nested: a savepoint),
 * and its end. */
int qk__pg_begin(qk_store *s);
int qk__pg_commit(qk_store *s);
void qk__pg_rollback(qk_store *s);

/* The statistics (qk_stats.h) of a PostgreSQL store. */
int qk__stats_pg(qk_store *s, const char *branch, const qk_stats_query *q, qk_lang lang,
                 json_t **out, char *msg, size_t msglen);

#endif
