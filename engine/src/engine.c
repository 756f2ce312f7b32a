/* engine.c: the progress file: open, migrate, the device id, and appending events.
 *
 * Durability (DESIGN.md decision 3): WAL with synchronous=FULL, and each event
 * is its own IMMEDIATE transaction, so the sequence number is taken and the row
 * written under one write lock and is on disk before the caller shows feedback.
 * In the browser (WebAssembly) the journal is a rollback journal instead: the
 * phone's app saves its files whole to IndexedDB after each answer
 * (docs/app.md), and a write-ahead log would grow to megabytes, saved whole
 * each time, where a rollback journal is gone at each commit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Numbered migrations: migrations[i] takes the schema from version i to i+1.
 * Never edit one that has shipped; append a new one. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE device(id TEXT NOT NULL, created_ms INTEGER NOT NULL);\n"
    "CREATE TABLE events(\n"
    "  id TEXT PRIMARY KEY,\n"
    "  device_id TEXT NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  member_id TEXT,\n"
    "  bundle_id TEXT,\n"
    "  bundle_version TEXT,\n"
    "  kind TEXT NOT NULL,\n"
    "  attempt_id TEXT,\n"
    "  payload TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  UNIQUE(device_id, seq));\n"
    "CREATE INDEX events_attempt ON events(attempt_id, seq);\n"
    "CREATE INDEX events_member_kind ON events(member_id, kind, created_ms);\n"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events\n"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n"
    "CREATE TABLE members(\n"
    "  id TEXT PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  branch TEXT NOT NULL DEFAULT '',\n"
    "  pin_salt BLOB NOT NULL,\n"
    "  pin_hash BLOB NOT NULL,\n"
    "  pin_iter INTEGER NOT NULL,\n"
    "  failed INTEGER NOT NULL DEFAULT 0,\n"
    "  locked_until_ms INTEGER NOT NULL DEFAULT 0,\n"
    "  created_ms INTEGER NOT NULL);\n",
    /* 1 -> 2: what the server has acknowledged */
    "CREATE TABLE sync_state(key TEXT PRIMARY KEY, value INTEGER NOT NULL);\n"
    "INSERT INTO sync_state(key, value) VALUES ('acked_seq', 0);\n",
    /* 2 -> 3: departments on the roster (team rankings), competitions a
     * leader published on the server for this device's branch */
    "ALTER TABLE members ADD COLUMN dept TEXT NOT NULL DEFAULT '';\n"
    "CREATE TABLE competitions(id TEXT PRIMARY KEY, bundle_id TEXT NOT NULL,\n"
    "  spec TEXT NOT NULL, received_ms INTEGER NOT NULL);\n",
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

const char *qk_engine_errmsg(const qk_engine *e)
{
    return e ? e->err.msg : "out of memory";
}

qk_lang qk_engine_lang(const qk_engine *e)
{
    return e->lang;
}

const char *qk_engine_device_id(const qk_engine *e)
{
    return e->device_id;
}

static int64_t clock_ms(void *payload)
{
    return qk_clock_now_ms(payload);
}

void qk_engine_set_clock(qk_engine *e, int64_t (*now_ms)(void *payload), void *payload)
{
    e->clock = now_ms ? now_ms : clock_ms;
    e->clock_payload = now_ms ? payload : &e->own_clock;
}

void qk_engine_set_mono_clock(qk_engine *e, int64_t (*mono_ms)(void *payload), void *payload)
{
    e->mono = mono_ms;
    e->mono_payload = payload;
}

void qk_engine_use_clock(qk_engine *e, const qk_clock *c)
{
    qk_clock sys = QK_CLOCK_SYSTEM;
    e->own_clock = c ? *c : sys;
    e->clock = clock_ms;
    e->clock_payload = &e->own_clock;
    e->mono = NULL;
    e->mono_payload = NULL;
}

int64_t qk_engine_mono_ms(qk_engine *e)
{
    if (e->mono)
        return e->mono(e->mono_payload);
    return qk_clock_mono_ms(&e->own_clock);
}

int64_t qk_engine_now_ms(qk_engine *e)
{
    return e->clock(e->clock_payload);
}

int qk__engine_sqlerr(qk_engine *e, int rc, const char *what)
{
    int code = rc & 0xff;
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM)
        return qk__errf(&e->err, e->lang, QK_EREADONLY, QK_M_P_READONLY,
                        sqlite3_db_filename(e->db, "main"));
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        return qk__errf(&e->err, e->lang, QK_ECORRUPT, QK_M_P_NOTDB,
                        sqlite3_db_filename(e->db, "main"));
    if (code == SQLITE_NOMEM)
        return qk__errf(&e->err, e->lang, QK_ENOMEM, QK_M_OOM);
    return qk__errf(&e->err, e->lang, QK_EIO, QK_M_SQL, what, sqlite3_errmsg(e->db));
}

static int exec(qk_engine *e, const char *sql)
{
    int rc = sqlite3_exec(e->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? QK_OK : qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), sql);
}

/* How long an opener waits for another connection's lock on the progress file. */
#define BUSY_MS 5000

/* Sets the journal mode (sql: its PRAGMA). Switching a file to or from WAL
 * rewrites its header in a write transaction that starts inside a read one;
 * SQLite answers SQLITE_BUSY at once, without the busy handler (two such
 * upgrades waiting for each other would deadlock), while another connection
 * holds a write lock. Openers of a new file all switch it, so one that comes
 * while another is switching failed with "database is locked" (seen under
 * qemu, whose slowness widens the window; a kiosk and a command started
 * together can hit it anywhere). The failed statement holds no lock, so it
 * is tried again, every 10 ms for BUSY_MS in all. The tries after the first
 * run without the busy handler: each may otherwise wait BUSY_MS itself for
 * its read lock, and a lock held for good (another program's open
 * transaction) would be waited for 500 times over, not once. */
static int set_journal_mode(qk_engine *e, const char *sql)
{
    int rc = sqlite3_exec(e->db, sql, NULL, NULL, NULL);
    int retried = (rc & 0xff) == SQLITE_BUSY;
    if (retried)
        sqlite3_busy_timeout(e->db, 0);
    for (int waited = 0; (rc & 0xff) == SQLITE_BUSY && waited < BUSY_MS; waited += 10) {
        sqlite3_sleep(10);
        rc = sqlite3_exec(e->db, sql, NULL, NULL, NULL);
    }
    int status = rc == SQLITE_OK ? QK_OK : qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), sql);
    if (retried)
        sqlite3_busy_timeout(e->db, BUSY_MS);
    return status;
}

int qk__engine_uuid(qk_engine *e, char out[QK_UUID_STRLEN + 1])
{
    uint8_t rnd[10];
    int rc = qk_rng_bytes(e->rng, rnd, sizeof rnd);
    if (rc != QK_OK)
        return rc;
    int64_t now = qk_engine_now_ms(e);
    qk_uuid_v7(&e->uuids, (uint64_t)(now < 0 ? 0 : now), rnd, out);
    return QK_OK;
}

/* The file's schema version (*version) and what it holds: *tables, the
 * number of its tables and such, and *ours, whether it has the device table
 * every progress file has from the first migration on; read in the
 * transaction the caller is in. */
static int schema_of(qk_engine *e, int *version, int *tables, int *ours)
{
    sqlite3_stmt *st = NULL;
    *version = -1;
    *tables = *ours = 0;
    if (sqlite3_prepare_v2(e->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (*version >= 0 &&
        sqlite3_prepare_v2(e->db,
                           "SELECT count(*), coalesce(sum(type = 'table' AND name = 'device'), 0) "
                           "FROM sqlite_master",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *tables = sqlite3_column_int(st, 0);
        *ours = sqlite3_column_int(st, 1) == 1;
    } else {
        *version = -1;
    }
    sqlite3_finalize(st);
    return *version < 0 ? qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "user_version")
                        : QK_OK;
}

/* Refuses a file that is not a progress file, or is one of a newer quizkit:
 * read before anything is written to it (not even the switch to WAL). */
static int ours(qk_engine *e, const char *path, int version, int tables, int has_device)
{
    if (version > N_MIGRATIONS)
        return qk__errf(&e->err, e->lang, QK_EFORMAT, QK_M_P_NEWER, path, version, N_MIGRATIONS);
    /* Tables but no version, or a version without our device table: another
     * program's file. Refuse rather than mix. */
    if ((version == 0 && tables != 0) || (version > 0 && !has_device))
        return qk__errf(&e->err, e->lang, QK_ECORRUPT, QK_M_P_NOTDB, path);
    return QK_OK;
}

static int check_ours(qk_engine *e, const char *path, int *version)
{
    int tables = 0, has_device = 0;
    /* one snapshot: a file being set up by another process at this moment
     * reads as empty or as set up, never as half of each */
    int status = exec(e, "BEGIN");
    if (status == QK_OK) {
        status = schema_of(e, version, &tables, &has_device);
        if (status == QK_OK)
            status = exec(e, "COMMIT");
        else
            sqlite3_exec(e->db, "ROLLBACK", NULL, NULL, NULL); /* (its message kept) */
    }
    return status == QK_OK ? ours(e, path, *version, tables, has_device) : status;
}

/* Migration v (to v + 1) in the write transaction the caller holds; the
 * first also gives the file its device id. */
static int migrate_one(qk_engine *e, int v)
{
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
    int status = exec(e, migrations[v]);
    if (status == QK_OK)
        status = exec(e, sql);
    if (status != QK_OK || v != 0)
        return status;
    char id[QK_UUID_STRLEN + 1];
    sqlite3_stmt *st = NULL;
    status = qk__engine_uuid(e, id);
    if (status == QK_OK &&
        sqlite3_prepare_v2(e->db, "INSERT INTO device(id, created_ms) VALUES (?, ?)", -1, &st,
                           NULL) != SQLITE_OK)
        status = qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "device");
    if (status == QK_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, qk_engine_now_ms(e));
        if (sqlite3_step(st) != SQLITE_DONE)
            status = qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "device");
    }
    sqlite3_finalize(st);
    return status;
}

/* Brings the file to the newest schema, one migration a transaction. Each
 * reads the version again once it holds the write lock: another process or
 * thread opening the same new file at the same moment may have done it (the
 * version read is then the newest, and nothing is left to do). */
static int migrate(qk_engine *e, const char *path, int version)
{
    while (version < N_MIGRATIONS) {
        int tables = 0, v = 0, has_device = 0;
        int status = exec(e, "BEGIN IMMEDIATE");
        if (status == QK_OK && (status = schema_of(e, &v, &tables, &has_device)) == QK_OK)
            status = ours(e, path, v, tables, has_device);
        if (status == QK_OK && v >= 0 && v < N_MIGRATIONS)
            status = migrate_one(e, v);
        if (status == QK_OK)
            status = exec(e, "COMMIT");
        if (status != QK_OK) {
            sqlite3_exec(e->db, "ROLLBACK", NULL, NULL, NULL);
            return status;
        }
        version = v + 1;
    }
    return QK_OK;
}

/* Marks the file as a progress file (QK_PROGRESS_APP_ID), once: a program
 * given it in place of its own file (a server given it as its database)
 * tells it by its header alone. A header field, not a migration: an older
 * quizkit still opens the file. Best effort: a file that cannot be written
 * now is marked another time. */
static void mark(qk_engine *e)
{
    sqlite3_stmt *st = NULL;
    int app = -1;
    if (sqlite3_prepare_v2(e->db, "PRAGMA application_id", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        app = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (app == 0) {
        char sql[48];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d", (int)QK_PROGRESS_APP_ID);
        sqlite3_exec(e->db, sql, NULL, NULL, NULL);
    }
}

static int load_device(qk_engine *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db, "SELECT id FROM device LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "device");
    int status = QK_OK;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == QK_UUID_STRLEN)
        memcpy(e->device_id, sqlite3_column_text(st, 0), QK_UUID_STRLEN + 1);
    else
        status = qk__errf(&e->err, e->lang, QK_ECORRUPT, QK_M_P_NOTDB,
                          sqlite3_db_filename(e->db, "main"));
    sqlite3_finalize(st);
    return status;
}

int qk_engine_open(qk_engine **out, const char *progress_path, qk_lang lang)
{
    return qk_engine_open_v2(out, progress_path, lang, NULL);
}

int qk_engine_open_v2(qk_engine **out, const char *progress_path, qk_lang lang,
                      const qk_clock *clock)
{
    qk_engine *e = calloc(1, sizeof *e);
    *out = e;
    if (!e)
        return QK_ENOMEM;
    e->lang = lang;
    qk_engine_use_clock(e, clock);
    if (!progress_path || !*progress_path)
        return qk__errf(&e->err, lang, QK_EINVAL, QK_M_P_NOPATH);
    int status = qk_rng_new_random(&e->rng);
    if (status != QK_OK)
        return qk__errf(&e->err, lang, status, QK_M_P_OPEN, progress_path, "entropy");
    /* Writable is required: a read-only progress file would silently lose answers. */
    if (access(progress_path, F_OK) == 0 && access(progress_path, W_OK) != 0)
        return qk__errf(&e->err, lang, QK_EREADONLY, QK_M_P_READONLY, progress_path);
    /* The file holds every answer and the roster's PIN hashes: only its owner
     * reads it (0600; SQLite gives its -wal and -shm files the same mode). */
    if (strcmp(progress_path, ":memory:") != 0) {
        int fd = open(progress_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
    }
    int rc =
        sqlite3_open_v2(progress_path, &e->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        const char *why = e->db ? sqlite3_errmsg(e->db) : "?";
        return qk__errf(&e->err, lang, QK_EIO, QK_M_P_OPEN, progress_path, why);
    }
    sqlite3_busy_timeout(e->db, BUSY_MS);
    sqlite3_extended_result_codes(e->db, 1);
    int version = 0;
    status = check_ours(e, progress_path, &version);
#ifdef __EMSCRIPTEN__
    if (status == QK_OK)
        status = set_journal_mode(e, "PRAGMA journal_mode=DELETE");
#else
    if (status == QK_OK)
        status = set_journal_mode(e, "PRAGMA journal_mode=WAL");
#endif
    if (status == QK_OK)
        status = exec(e, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
    if (status == QK_OK)
        status = migrate(e, progress_path, version);
    if (status == QK_OK)
        status = load_device(e);
    if (status == QK_OK)
        mark(e);
    return status;
}

int qk_engine_event_count(qk_engine *e, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db, "SELECT count(*) FROM events", -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "events");
    int status = QK_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        status = qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "events");
    sqlite3_finalize(st);
    return status;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int qk__engine_begin(qk_engine *e)
{
    return exec(e, "BEGIN IMMEDIATE");
}

int qk__engine_end(qk_engine *e, int status)
{
    if (status == QK_OK)
        status = exec(e, "COMMIT");
    if (status != QK_OK)
        sqlite3_exec(e->db, "ROLLBACK", NULL, NULL, NULL);
    return status;
}

int qk__event_append(qk_engine *e, const qk__event *ev, char id_out[QK_UUID_STRLEN + 1])
{
    int status = qk__engine_begin(e);
    if (status != QK_OK)
        return status;
    return qk__engine_end(e, qk__event_append_tx(e, ev, id_out));
}

int qk__event_append_tx(qk_engine *e, const qk__event *ev, char id_out[QK_UUID_STRLEN + 1])
{
    char id[QK_UUID_STRLEN + 1];
    int status = qk__engine_uuid(e, id);
    if (status != QK_OK)
        return status;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "INSERT INTO events(id, device_id, seq, member_id, bundle_id,"
                           " bundle_version, kind, attempt_id, payload, created_ms)"
                           " VALUES (?1, ?2,"
                           " (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE device_id = ?2),"
                           " ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &st, NULL) != SQLITE_OK) {
        status = qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "events");
    } else {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, e->device_id, -1, SQLITE_STATIC);
        bind_opt(st, 3, ev->member_id);
        bind_opt(st, 4, ev->bundle_id);
        bind_opt(st, 5, ev->bundle_version);
        bind_opt(st, 6, ev->kind);
        bind_opt(st, 7, ev->attempt_id);
        sqlite3_bind_text(st, 8, ev->payload ? ev->payload : "{}", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, ev->at_ms ? ev->at_ms : qk_engine_now_ms(e));
        if (sqlite3_step(st) != SQLITE_DONE)
            status = qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "events");
    }
    sqlite3_finalize(st);
    if (status == QK_OK && id_out)
        memcpy(id_out, id, sizeof id);
    return status;
}

int qk_events_each(qk_engine *e, int64_t after_seq,
                   int (*fn)(const qk_event_row *ev, void *payload), void *payload)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT id, device_id, member_id, bundle_id, bundle_version, kind,"
                           " attempt_id, payload, seq, created_ms FROM events"
                           " WHERE device_id = ? AND seq > ? ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "events");
    sqlite3_bind_text(st, 1, e->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after_seq);
    int rc = QK_OK;
    while (rc == QK_OK && sqlite3_step(st) == SQLITE_ROW) {
        qk_event_row r;
        r.id = (const char *)sqlite3_column_text(st, 0);
        r.device_id = (const char *)sqlite3_column_text(st, 1);
        r.member_id = (const char *)sqlite3_column_text(st, 2);
        r.bundle_id = (const char *)sqlite3_column_text(st, 3);
        r.bundle_version = (const char *)sqlite3_column_text(st, 4);
        r.kind = (const char *)sqlite3_column_text(st, 5);
        r.attempt_id = (const char *)sqlite3_column_text(st, 6);
        r.payload = (const char *)sqlite3_column_text(st, 7);
        r.seq = sqlite3_column_int64(st, 8);
        r.created_ms = sqlite3_column_int64(st, 9);
        rc = fn(&r, payload);
    }
    sqlite3_finalize(st);
    return rc;
}

int qk_engine_sync_state(qk_engine *e, int64_t *acked_seq, int64_t *last_seq)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT (SELECT value FROM sync_state WHERE key = 'acked_seq'),"
                           " (SELECT COALESCE(MAX(seq), 0) FROM events WHERE device_id = ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "sync_state");
    sqlite3_bind_text(st, 1, e->device_id, -1, SQLITE_STATIC);
    int rc = QK_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *acked_seq = sqlite3_column_int64(st, 0);
        *last_seq = sqlite3_column_int64(st, 1);
    } else {
        rc = qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "sync_state");
    }
    sqlite3_finalize(st);
    return rc;
}

static int write_acked(qk_engine *e, int64_t acked_seq);

/* Moves the acknowledgement to acked_seq (0..last_seq) when it goes the way
 * asked: forward (dir > 0) or back (dir < 0); otherwise changes nothing. */
static int move_acked(qk_engine *e, int64_t acked_seq, int dir)
{
    int64_t acked = 0, last = 0;
    int rc = qk_engine_sync_state(e, &acked, &last);
    if (rc != QK_OK)
        return rc;
    if (acked_seq < 0 || acked_seq > last)
        return qk__errf(&e->err, e->lang, QK_EINVAL, QK_M_ACK_RANGE, (long long)acked_seq,
                        (long long)last);
    if (dir > 0 ? acked_seq <= acked : acked_seq >= acked)
        return QK_OK;
    return write_acked(e, acked_seq);
}

int qk_engine_set_acked(qk_engine *e, int64_t acked_seq)
{
    return move_acked(e, acked_seq, 1); /* acknowledgements move forward */
}

int qk_engine_rewind_acked(qk_engine *e, int64_t acked_seq)
{
    return move_acked(e, acked_seq, -1);
}

static int write_acked(qk_engine *e, int64_t acked_seq)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db, "UPDATE sync_state SET value = ? WHERE key = 'acked_seq'", -1,
                           &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "sync_state");
    sqlite3_bind_int64(st, 1, acked_seq);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : qk__engine_sqlerr(e, step, "sync_state");
}

void qk_engine_close(qk_engine *e)
{
    if (!e)
        return;
    sqlite3_close(e->db);
    qk_rng_free(e->rng);
    free(e);
}
