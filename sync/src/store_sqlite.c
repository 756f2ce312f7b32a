/* store_sqlite.c: the embedded SQLite backend of the server's store (one
 * file, WAL, created on first use). Events are keyed by their UUIDv7 id,
 * which keeps inserts at the right edge of the index (DESIGN.md decision 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "sync_msg.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS events(\n"
    "  id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq INTEGER NOT NULL,\n"
    "  member_id TEXT, bundle_id TEXT, bundle_version TEXT, kind TEXT NOT NULL,\n"
    "  attempt_id TEXT, payload TEXT NOT NULL, created_ms INTEGER NOT NULL,\n"
    "  received_ms INTEGER NOT NULL, UNIQUE(device_id, seq));\n"
    "CREATE TABLE IF NOT EXISTS devices(id TEXT PRIMARY KEY, public_key TEXT NOT NULL,\n"
    "  acked_seq INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS attempt_scores(attempt_id TEXT PRIMARY KEY,\n"
    "  device_score INTEGER, server_score INTEGER, max INTEGER, mismatch INTEGER NOT NULL,\n"
    "  note TEXT NOT NULL, rescored_ms INTEGER NOT NULL);\n";

static sqlite3 *db_of(qk_store *s)
{
    return s->impl;
}

static int fail(qk_store *s, const char *what)
{
    char why[400];
    snprintf(why, sizeof why, "%s: %s", what, sqlite3_errmsg(db_of(s)));
    qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, s->where, why);
    return QK_EIO;
}

static int exec(qk_store *s, const char *sql)
{
    return sqlite3_exec(db_of(s), sql, NULL, NULL, NULL) == SQLITE_OK ? QK_OK : fail(s, sql);
}

int qk__sqlite_store_open(qk_store *s, const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return QK_EIO;
    }
    s->impl = db;
    sqlite3_busy_timeout(db, 5000);
    int rc = exec(s, "PRAGMA journal_mode=WAL");
    if (rc == QK_OK)
        rc = exec(s, "PRAGMA synchronous=FULL");
    if (rc == QK_OK)
        rc = exec(s, schema);
    return rc;
}

static int begin(qk_store *s)
{
    return exec(s, "BEGIN IMMEDIATE");
}

static int commit(qk_store *s)
{
    return exec(s, "COMMIT");
}

static void rollback(qk_store *s)
{
    sqlite3_exec(db_of(s), "ROLLBACK", NULL, NULL, NULL);
}

static int device_key(qk_store *s, const char *device_id, char **pem)
{
    *pem = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(s), "SELECT public_key FROM devices WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return fail(s, "devices");
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *pem = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return QK_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_device(qk_store *s, const char *device_id, const char *pem, int64_t acked_seq)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(s),
                           "INSERT INTO devices(id, public_key, acked_seq, last_seen_ms)"
                           " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET"
                           " acked_seq = MAX(acked_seq, ?3), last_seen_ms = ?4",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "devices");
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pem, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, acked_seq);
    sqlite3_bind_int64(st, 4, now_ms());
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : fail(s, "devices");
}

static void bind_str(sqlite3_stmt *st, int i, json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Canonical payload text, so the same event always compares equal. */
static char *payload_text(json_t *ev)
{
    return json_dumps(json_object_get(ev, "payload"), JSON_COMPACT | JSON_SORT_KEYS);
}

static int put_event(qk_store *s, json_t *ev, int *outcome)
{
    char *payload = payload_text(ev);
    if (!payload)
        return QK_ENOMEM;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(s),
                           "INSERT OR IGNORE INTO events(id, device_id, seq, member_id, bundle_id,"
                           " bundle_version, kind, attempt_id, payload, created_ms, received_ms)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        free(payload);
        return fail(s, "events");
    }
    bind_str(st, 1, ev, "id");
    bind_str(st, 2, ev, "device_id");
    sqlite3_bind_int64(st, 3, (sqlite3_int64)json_integer_value(json_object_get(ev, "seq")));
    bind_str(st, 4, ev, "member_id");
    bind_str(st, 5, ev, "bundle_id");
    bind_str(st, 6, ev, "bundle_version");
    bind_str(st, 7, ev, "kind");
    bind_str(st, 8, ev, "attempt_id");
    sqlite3_bind_text(st, 9, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)json_integer_value(json_object_get(ev, "created_ms")));
    sqlite3_bind_int64(st, 11, now_ms());
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        free(payload);
        return fail(s, "events");
    }
    if (sqlite3_changes(db_of(s)) == 1) {
        *outcome = QK_PUT_INSERTED;
        free(payload);
        return QK_OK;
    }
    /* Held already (by id, or by device and seq): the same content is a
     * harmless resend; anything else is a conflict and is not stored. */
    st = NULL;
    int rc = QK_OK;
    if (sqlite3_prepare_v2(db_of(s),
                           "SELECT count(*) FROM events WHERE id = ? AND device_id = ? AND seq = ?"
                           " AND kind = ? AND payload = ? AND created_ms = ?"
                           " AND member_id IS ? AND attempt_id IS ?",
                           -1, &st, NULL) != SQLITE_OK) {
        free(payload);
        return fail(s, "events");
    }
    bind_str(st, 1, ev, "id");
    bind_str(st, 2, ev, "device_id");
    sqlite3_bind_int64(st, 3, (sqlite3_int64)json_integer_value(json_object_get(ev, "seq")));
    bind_str(st, 4, ev, "kind");
    sqlite3_bind_text(st, 5, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)json_integer_value(json_object_get(ev, "created_ms")));
    bind_str(st, 7, ev, "member_id");
    bind_str(st, 8, ev, "attempt_id");
    if (sqlite3_step(st) == SQLITE_ROW)
        *outcome = sqlite3_column_int(st, 0) == 1 ? QK_PUT_DUPLICATE : QK_PUT_CONFLICT;
    else
        rc = fail(s, "events");
    sqlite3_finalize(st);
    free(payload);
    return rc;
}

static int held_seqs(qk_store *s, const char *device_id, int64_t **seqs, size_t *n)
{
    *seqs = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(s), "SELECT seq FROM events WHERE device_id = ? ORDER BY seq", -1,
                           &st, NULL) != SQLITE_OK)
        return fail(s, "events");
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc = QK_OK;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            int64_t *nv = realloc(*seqs, cap * sizeof *nv);
            if (!nv) {
                rc = QK_ENOMEM;
                break;
            }
            *seqs = nv;
        }
        (*seqs)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return rc;
}

static int count(qk_store *s, int64_t *n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(s), "SELECT count(*) FROM events", -1, &st, NULL) != SQLITE_OK)
        return fail(s, "events");
    *n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return QK_OK;
}

static int put_score(qk_store *s, const char *attempt_id, const qk_rescore *r, const char *note)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(s),
                           "INSERT OR REPLACE INTO attempt_scores(attempt_id, device_score,"
                           " server_score, max, mismatch, note, rescored_ms)"
                           " VALUES (?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "attempt_scores");
    sqlite3_bind_text(st, 1, attempt_id, -1, SQLITE_STATIC);
    if (r) {
        sqlite3_bind_int(st, 2, r->device_score);
        sqlite3_bind_int(st, 3, r->server_score);
        sqlite3_bind_int(st, 4, r->max);
    }
    sqlite3_bind_int(st, 5, r ? r->mismatch : 0);
    sqlite3_bind_text(st, 6, note ? note : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now_ms());
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : fail(s, "attempt_scores");
}

static const char *path_of(qk_store *s)
{
    return sqlite3_db_filename(db_of(s), "main");
}

static void close_store(qk_store *s)
{
    sqlite3_close(db_of(s));
    s->impl = NULL;
}

const qk_store_ops qk__sqlite_store = {begin,     commit, rollback,  device_key, set_device,
                                       put_event, held_seqs, count, put_score, path_of,
                                       close_store};
