/* store_sqlite.c: the embedded SQLite backend of the server's store (one
 * file, WAL, created on first use). Events are keyed by their UUIDv7 id,
 * which keeps inserts at the right edge of the index (DESIGN.md decision 2).
 * One store is one connection: the server opens one per worker thread. */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "qk_server.h" /* QK_CODE_* */
#include "store.h"
#include "sync_msg.h"

/* Numbered migrations; PRAGMA user_version says how many have run. */
static const char *const migrations[] = {
    /* 1: the file transport */
    "CREATE TABLE IF NOT EXISTS events(\n"
    "  id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq INTEGER NOT NULL,\n"
    "  member_id TEXT, bundle_id TEXT, bundle_version TEXT, kind TEXT NOT NULL,\n"
    "  attempt_id TEXT, payload TEXT NOT NULL, created_ms INTEGER NOT NULL,\n"
    "  received_ms INTEGER NOT NULL, UNIQUE(device_id, seq));\n"
    "CREATE TABLE IF NOT EXISTS devices(id TEXT PRIMARY KEY, public_key TEXT NOT NULL,\n"
    "  acked_seq INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS attempt_scores(attempt_id TEXT PRIMARY KEY,\n"
    "  device_score INTEGER, server_score INTEGER, max INTEGER, mismatch INTEGER NOT NULL,\n"
    "  note TEXT NOT NULL, rescored_ms INTEGER NOT NULL);\n",
    /* 2: the network: branches, accounts, roster, enrolment, bundles */
    "CREATE TABLE branches(id TEXT PRIMARY KEY, name TEXT NOT NULL, created_ms INTEGER NOT NULL);\n"
    "CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK(role IN ('admin','leader')),\n"
    "  branch_id TEXT REFERENCES branches(id), pw_hash TEXT NOT NULL, created_ms INTEGER NOT NULL);\n"
    "CREATE TABLE sessions(token_hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name),\n"
    "  expires_ms INTEGER NOT NULL);\n"
    "CREATE TABLE members(id TEXT PRIMARY KEY, branch_id TEXT NOT NULL REFERENCES branches(id),\n"
    "  name TEXT NOT NULL, dept TEXT NOT NULL DEFAULT '', pin_salt TEXT NOT NULL,\n"
    "  pin_hash TEXT NOT NULL, pin_iter INTEGER NOT NULL, roster_seq INTEGER NOT NULL,\n"
    "  updated_ms INTEGER NOT NULL);\n"
    "CREATE INDEX members_roster ON members(branch_id, roster_seq);\n"
    "CREATE TABLE enrol_codes(code_hash TEXT PRIMARY KEY,\n"
    "  branch_id TEXT NOT NULL REFERENCES branches(id),\n"
    "  created_by TEXT NOT NULL, expires_ms INTEGER NOT NULL, used_ms INTEGER, device_id TEXT);\n"
    "ALTER TABLE devices ADD COLUMN branch_id TEXT;\n"
    "ALTER TABLE devices ADD COLUMN name TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE devices ADD COLUMN token_hash TEXT;\n"
    "ALTER TABLE devices ADD COLUMN enrolled_ms INTEGER;\n"
    "ALTER TABLE devices ADD COLUMN revoked_ms INTEGER;\n"
    "CREATE UNIQUE INDEX devices_token ON devices(token_hash);\n"
    "CREATE TABLE throttle(key TEXT PRIMARY KEY, window_start_ms INTEGER NOT NULL,\n"
    "  count INTEGER NOT NULL);\n"
    "CREATE TABLE bundles(id TEXT NOT NULL, version TEXT NOT NULL, title TEXT NOT NULL,\n"
    "  sha256 TEXT NOT NULL, key_id TEXT NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL,\n"
    "  published_ms INTEGER NOT NULL, published_by TEXT NOT NULL, PRIMARY KEY(id, version));\n",
    /* 3: competition entries, as the server scored them */
    "ALTER TABLE attempt_scores ADD COLUMN member_id TEXT;\n"
    "ALTER TABLE attempt_scores ADD COLUMN device_id TEXT;\n"
    "ALTER TABLE attempt_scores ADD COLUMN finished_ms INTEGER;\n"
    "ALTER TABLE attempt_scores ADD COLUMN competition TEXT;\n"
    "ALTER TABLE attempt_scores ADD COLUMN server_points INTEGER;\n"
    "ALTER TABLE attempt_scores ADD COLUMN device_points INTEGER;\n"
    "ALTER TABLE attempt_scores ADD COLUMN answer_ms INTEGER;\n"
    "ALTER TABLE attempt_scores ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;\n"
    "CREATE INDEX attempt_scores_competition ON attempt_scores(competition, member_id, finished_ms);\n",
    /* 4: competitions leaders publish for a branch (or an admin for all) */
    "CREATE TABLE competitions(id TEXT PRIMARY KEY, bundle_id TEXT NOT NULL, spec TEXT NOT NULL,\n"
    "  branch_id TEXT REFERENCES branches(id), published_by TEXT NOT NULL,\n"
    "  published_ms INTEGER NOT NULL);\n",
    /* 5: entries begun outside their competition's window */
    "ALTER TABLE attempt_scores ADD COLUMN outside_window INTEGER NOT NULL DEFAULT 0;\n",
    /* 6: an attempt's events found by its id (re-scoring, statistics), and
     * the doubtful scores by day */
    "CREATE INDEX events_attempt ON events(attempt_id, kind);\n"
    "CREATE INDEX attempt_scores_doubt ON attempt_scores(finished_ms)\n"
    "  WHERE mismatch OR flagged OR outside_window;\n",
    /* 7: points as the server judges them (from the events and the bundle's
     * rules), per member and Beijing day, and what the devices claimed */
    "CREATE TABLE member_points(member_id TEXT NOT NULL, day INTEGER NOT NULL,\n"
    "  points INTEGER NOT NULL, PRIMARY KEY(member_id, day)) WITHOUT ROWID;\n"
    "CREATE TABLE points_judged(member_id TEXT PRIMARY KEY, server_total INTEGER NOT NULL,\n"
    "  bundle_id TEXT, bundle_version TEXT, judged_ms INTEGER NOT NULL);\n"
    /* each device's awards to a member against what its own events give */
    "CREATE TABLE points_claims(member_id TEXT NOT NULL, device_id TEXT NOT NULL,\n"
    "  claimed INTEGER NOT NULL, expected INTEGER NOT NULL, judged_ms INTEGER NOT NULL,\n"
    "  PRIMARY KEY(member_id, device_id)) WITHOUT ROWID;\n"
    "CREATE INDEX events_member_kind ON events(member_id, kind);\n"
    /* the key that signs this server's acknowledgements: the store's, so
     * every admin and every machine that imports signs with the same one */
    "CREATE TABLE server_key(id INTEGER PRIMARY KEY CHECK (id = 1), private_pem TEXT NOT NULL,\n"
    "  created_ms INTEGER NOT NULL);\n",
    /* 8: events a device sent for a member of another branch: held (so the
     * device's sequence is acknowledged) but apart from everything counted */
    "CREATE TABLE events_apart(\n"
    "  id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq INTEGER NOT NULL,\n"
    "  member_id TEXT, bundle_id TEXT, bundle_version TEXT, kind TEXT NOT NULL,\n"
    "  attempt_id TEXT, payload TEXT NOT NULL, created_ms INTEGER NOT NULL,\n"
    "  received_ms INTEGER NOT NULL, device_branch TEXT NOT NULL, member_branch TEXT NOT NULL,\n"
    "  UNIQUE(device_id, seq));\n",
    /* 9: each member's points replay as the judge left it (device_id '':
     * every device's events), so that a batch replays only what is new */
    "CREATE TABLE points_folds(member_id TEXT NOT NULL, device_id TEXT NOT NULL,\n"
    "  bundle_id TEXT NOT NULL, bundle_version TEXT NOT NULL, mark INTEGER NOT NULL,\n"
    "  last_ms INTEGER, last_device TEXT, last_seq INTEGER, state BLOB NOT NULL,\n"
    "  PRIMARY KEY(member_id, device_id)) WITHOUT ROWID;\n"
    /* the events a device's claim has summed (0: none yet) */
    "ALTER TABLE points_claims ADD COLUMN mark INTEGER NOT NULL DEFAULT 0;\n",
    /* 10: published bundles' bytes, in the store (they were files in a folder
     * beside it, named by bundles.file, which is '' from now on) */
    "CREATE TABLE bundle_chunks(id TEXT NOT NULL, version TEXT NOT NULL,\n"
    "  n INTEGER NOT NULL, data BLOB NOT NULL,\n"
    "  PRIMARY KEY(id, version, n));\n",
    /* 11: a member's own phone, bound to that member at enrolment */
    "ALTER TABLE devices ADD COLUMN member_id TEXT;\n",
    /* 12: what a code enrols: 'shared' (a kiosk, any device with the whole
     * roster) or 'phone' (a member's own, bound to them); NULL: made before */
    "ALTER TABLE enrol_codes ADD COLUMN kind TEXT;\n",
};
#define MIGRATION_BUNDLE_BYTES 10
#define N_MIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

/* Statements prepared once per connection. */
enum {
    S_DEVICE_KEY, S_SET_DEVICE, S_PUT_EVENT, S_PUT_APART, S_SAME_EVENT, S_HELD, S_PUT_SCORE,
    S_MEMBER_BRANCH,
    S_DEVICE_BRANCH, S_MEMBER_PIN, S_MEMBER_NEW, S_ATTEMPT_EVENTS, S_ATTEMPT_COMP, S_POINT_EVENTS, S_FOLD_GET, S_FOLD_PUT, S_FOLD_FITS, S_EVENTS_MARK, S_TOKEN_USER, S_DEVICE_AUTH, S_DEVICE_GET,
    S_POINTS_DAYS, S_POINTS_SET, S_POINTS_DEL, S_POINTS_JUDGED, S_COUNT
};

/* Writers of one store file in this process take turns on a mutex before
 * SQLite's write lock: a server's worker threads each have a connection, and
 * SQLite's busy handler makes a waiting writer sleep 1, 2, 5, 10 ... 100 ms
 * between tries, so under load the lock stood free while every thread slept
 * (batch p99 about a second with four threads). Other processes (another
 * server instance, `quizkit admin`) still meet the busy handler. */
typedef struct file_lock {
    dev_t dev;
    ino_t ino;
    int users;
    /* A ticket lock: writers go in the order they came (a plain mutex let
     * one thread win again and again while another waited a second). */
    pthread_mutex_t m;
    pthread_cond_t turn;
    uint64_t next, serving;
    struct file_lock *next_lock;
} file_lock;

static pthread_mutex_t file_locks_guard = PTHREAD_MUTEX_INITIALIZER;
static file_lock *file_locks;

/* The lock for the file at path (NULL when it cannot be stat'ed: then the
 * busy handler alone serializes). */
static file_lock *file_lock_get(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
    pthread_mutex_lock(&file_locks_guard);
    file_lock *l = file_locks;
    while (l && !(l->dev == st.st_dev && l->ino == st.st_ino))
        l = l->next_lock;
    if (!l && (l = calloc(1, sizeof *l)) != NULL) {
        l->dev = st.st_dev;
        l->ino = st.st_ino;
        pthread_mutex_init(&l->m, NULL);
        pthread_cond_init(&l->turn, NULL);
        l->next_lock = file_locks;
        file_locks = l;
    }
    if (l)
        l->users++;
    pthread_mutex_unlock(&file_locks_guard);
    return l;
}

static void file_lock_put(file_lock *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&file_locks_guard);
    if (--l->users == 0) {
        file_lock **at = &file_locks;
        while (*at != l)
            at = &(*at)->next_lock;
        *at = l->next_lock;
        pthread_cond_destroy(&l->turn);
        pthread_mutex_destroy(&l->m);
        free(l);
    }
    pthread_mutex_unlock(&file_locks_guard);
}

typedef struct sq {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    int depth; /* open transactions: the outermost is BEGIN, the inner ones savepoints */
    file_lock *lock; /* this file's writers in this process */
    int held;        /* this connection holds lock->m */
    /* The last member_branch answer, within one transaction or savepoint
     * and until a member event: a batch's events are mostly one member's
     * in a row. */
    int memo;
    char memo_member[64], memo_branch[QK_NAME_MAX + 1];
} sq;

static void file_lock_take(file_lock *l)
{
    pthread_mutex_lock(&l->m);
    uint64_t mine = l->next++;
    while (l->serving != mine)
        pthread_cond_wait(&l->turn, &l->m);
    pthread_mutex_unlock(&l->m);
}

static void file_lock_give(file_lock *l)
{
    pthread_mutex_lock(&l->m);
    l->serving++;
    pthread_cond_broadcast(&l->turn);
    pthread_mutex_unlock(&l->m);
}

/* Lets the next writer in once no transaction is open. */
static void settle(sq *q)
{
    if (q->depth == 0 && q->held && q->lock) {
        q->held = 0;
        file_lock_give(q->lock);
    }
}

static sqlite3 *db_of(qk_store *s)
{
    return ((sq *)s->impl)->db;
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

/* A cached statement, reset and unbound; NULL (and s->err set) on failure. */
static sqlite3_stmt *cached(qk_store *s, int which, const char *sql)
{
    sq *q = s->impl;
    if (!q->st[which]) {
        if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->st[which], NULL) !=
            SQLITE_OK) {
            fail(s, sql);
            return NULL;
        }
    } else {
        sqlite3_reset(q->st[which]);
        sqlite3_clear_bindings(q->st[which]);
    }
    return q->st[which];
}

/* A one-off statement; NULL (and s->err set) on failure. */
static sqlite3_stmt *prep(qk_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(s), sql, -1, &st, NULL) != SQLITE_OK) {
        fail(s, sql);
        return NULL;
    }
    return st;
}

/* Steps a statement that returns no rows (or whose rows are ignored). */
static int run(qk_store *s, sqlite3_stmt *st, const char *what, int finalize)
{
    int step = sqlite3_step(st);
    int rc = step == SQLITE_DONE || step == SQLITE_ROW ? QK_OK
             : (step & 0xff) == SQLITE_CONSTRAINT   ? QK_EEXISTS
                                                    : fail(s, what);
    if (finalize)
        sqlite3_finalize(st);
    else
        sqlite3_reset(st);
    return rc;
}

static void text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    snprintf(dst, n, "%s", v ? v : "");
}

/* Only bundles whose bytes the store holds count as published. */
#define HELD " EXISTS (SELECT 1 FROM bundle_chunks c WHERE c.id = bundles.id AND" \
             " c.version = bundles.version AND c.n = 0)"

/* Stores a bundle's bytes in chunks of QK_BUNDLE_CHUNK. */
static int put_chunks(qk_store *s, const char *id, const char *version, const void *data, size_t len)
{
    sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO bundle_chunks(id, version, n, data)"
                               " VALUES (?,?,?,?)");
    if (!st)
        return QK_EIO;
    int rc = QK_OK;
    for (size_t off = 0, n = 0; rc == QK_OK && off < len; off += QK_BUNDLE_CHUNK, n++) {
        size_t part = len - off < QK_BUNDLE_CHUNK ? len - off : QK_BUNDLE_CHUNK;
        text(st, 1, id);
        text(st, 2, version);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)n);
        sqlite3_bind_blob(st, 4, (const char *)data + off, (int)part, SQLITE_STATIC);
        rc = run(s, st, "bundle_chunks", 0);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Takes in the files of bundles published before the store kept them (rows
 * naming a file, their bytes not held): each from the path its row names,
 * or else from dir (by the file's name), when its SHA-256 is the one
 * published; *taken counts them. A row whose file is not found keeps its
 * path, for the admin to find (bundle_missing) and publish again. */
static int adopt_files(qk_store *s, const char *dir, size_t *taken)
{
    *taken = 0;
    sqlite3_stmt *st = prep(s, "SELECT id, version, file, sha256 FROM bundles WHERE file <> '' AND NOT" HELD);
    if (!st)
        return QK_EIO;
    int rc = QK_OK, step = SQLITE_DONE;
    while (rc == QK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *version = (const char *)sqlite3_column_text(st, 1);
        const char *file = (const char *)sqlite3_column_text(st, 2);
        const char *sha = (const char *)sqlite3_column_text(st, 3);
        if (!id || !version || !file || !sha)
            continue;
        const char *base = strrchr(file, '/');
        char other[4200];
        snprintf(other, sizeof other, "%s/%s", dir ? dir : ".", base ? base + 1 : file);
        const char *where[2] = {file, dir ? other : NULL};
        for (int i = 0; i < 2 && where[i] && rc == QK_OK; i++) {
            char *data = NULL, hex[65];
            size_t len = 0;
            if (qk__read_file(where[i], QK_BUNDLE_MAX_BYTES, &data, &len) != QK_OK)
                continue;
            qk_sha256_hex(hex, data, len);
            if (strcmp(hex, sha) == 0) {
                rc = put_chunks(s, id, version, data, len);
                *taken += rc == QK_OK;
                i = 2;
            }
            free(data);
        }
    }
    if (rc == QK_OK && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = fail(s, "bundles");
    sqlite3_finalize(st);
    if (rc == QK_OK)
        rc = exec(s, "UPDATE bundles SET file = '' WHERE file <> '' AND" HELD);
    return rc;
}

/* The upgrade to bundles in the store (migration 10): the files, from where
 * their rows say or from the folder "bundles" beside the store (the default
 * before). */
static int adopt_bundle_files(qk_store *s, const char *store_path)
{
    const char *slash = strrchr(store_path, '/');
    char dir[4200];
    snprintf(dir, sizeof dir, "%.*s%sbundles", slash ? (int)(slash - store_path) : 0, store_path,
             slash ? "/" : "");
    size_t taken;
    return adopt_files(s, dir, &taken);
}

/* PRAGMA application_id of a server store ("qksv"): a store is told from
 * any other SQLite file (a device's progress file has migrations of its own
 * numbered from 1 as well) before anything is written to it. */
#define STORE_APP_ID 0x716b7376

/* What the file at db is, read without writing: 1 a server store (or one
 * made before stores were marked, which has its tables: marked when the
 * migrations' lock is taken), 0 an empty file (a new store), -1 some other
 * SQLite file; -2 when it cannot be read (SQLite says why). */
static int store_kind(sqlite3 *db, int *marked)
{
    sqlite3_stmt *st = NULL;
    int app = -1, version = -1, tables = -1, ours = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT application_id FROM pragma_application_id),"
                           " (SELECT user_version FROM pragma_user_version),"
                           " (SELECT count(*) FROM sqlite_master WHERE type = 'table'),"
                           /* the first tables' columns, 9 in a store of before */
                           " (SELECT count(*) FROM pragma_table_info('events') WHERE name IN"
                           "  ('device_id', 'seq', 'kind', 'payload', 'created_ms', 'received_ms'))"
                           " + (SELECT count(*) FROM pragma_table_info('devices') WHERE name IN"
                           "  ('public_key', 'acked_seq', 'last_seen_ms'))",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        app = sqlite3_column_int(st, 0);
        version = sqlite3_column_int(st, 1);
        tables = sqlite3_column_int(st, 2);
        ours = sqlite3_column_int(st, 3);
    }
    sqlite3_finalize(st);
    *marked = app == STORE_APP_ID;
    if (tables < 0)
        return -2;
    if (app == STORE_APP_ID)
        return 1;
    if (app != 0)
        return -1;
    if (version == 0 && tables == 0)
        return 0;
    /* unmarked: a store of before has the first tables with their columns
     * (the oldest had events and devices only; a device's progress file
     * has events, but its device table is "device"; another program's
     * file with tables of these names lacks the columns) */
    return ours == 9 ? 1 : -1;
}

/* store_kind on a read-only connection of its own, so that another
 * program's file is left exactly as it was (a read-write connection to a
 * file in WAL mode checkpoints it when it closes); why: SQLite's words
 * when it returns -2. (A file in WAL mode that nothing has open gets an
 * empty -wal and a -shm beside it from the look, as from any reader; they
 * are not taken away: a program that opens the file meanwhile would lose
 * what it writes.) */
static int probe_kind(const char *path, int *marked, char *why, size_t n)
{
    sqlite3 *db = NULL;
    int kind = -2;
    *marked = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000); /* a running server's store: wait as its connections do */
        kind = store_kind(db, marked);
    }
    if (kind == -2)
        snprintf(why, n, "%s", db ? sqlite3_errmsg(db) : "?");
    sqlite3_close(db);
    return kind;
}

enum { LOOK_NEW, LOOK_MARKED, LOOK_PROBE };

/* The first n bytes of the file (fewer when it is shorter): the file's
 * size read, or -1. Read through SQLite's own VFS, never a descriptor of
 * our own: closing one would drop the POSIX locks of every connection this
 * process has to the file (a server's other workers), and the store would
 * be damaged; SQLite's unix VFS keeps such a descriptor until they go. */
static int64_t read_header(const char *path, unsigned char *h, size_t n)
{
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    if (!vfs)
        return -1;
    char *full = sqlite3_malloc(vfs->mxPathname + 1);
    sqlite3_file *f = sqlite3_malloc(vfs->szOsFile);
    const char *name = NULL;
    int64_t got = -1;
    /* SQLITE_OK_SYMLINK when the path went through a link: as good */
    if (full && f && (vfs->xFullPathname(vfs, path, vfs->mxPathname + 1, full) & 0xff) == SQLITE_OK)
        name = sqlite3_create_filename(full, "", "", 0, NULL);
    if (f)
        memset(f, 0, (size_t)vfs->szOsFile);
    int out = 0;
    if (name && vfs->xOpen(vfs, name, f, SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_READONLY, &out) == SQLITE_OK) {
        sqlite3_int64 size = 0;
        if (f->pMethods->xFileSize(f, &size) == SQLITE_OK) {
            int amt = size < (sqlite3_int64)n ? (int)size : (int)n;
            got = amt == 0 || f->pMethods->xRead(f, h, amt, 0) == SQLITE_OK ? amt : -1;
        }
    }
    if (f && f->pMethods)
        f->pMethods->xClose(f);
    sqlite3_free_filename((char *)name);
    sqlite3_free(f);
    sqlite3_free(full);
    return got;
}

/* The folder of path (a path without one is in the current folder). */
static void folder_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, n, ".");
    else
        snprintf(dir, n, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

static int folder_exists(const char *path)
{
    char dir[4200];
    folder_of(path, dir, sizeof dir);
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* 1 when SQLite can keep its -wal and -shm beside the file (as this
 * process's effective user): in the folder of the file the path leads to
 * (through links, as SQLite follows them; dir, n bytes), or both are there
 * already and writable. A read-only file system is left to the checks that
 * name it. */
static int wal_room(const char *path, char *dir, size_t n)
{
    char *real = realpath(path, NULL), side[4300];
    const char *p = real ? real : path;
    folder_of(p, dir, n);
    int ok = faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0 || errno == EROFS;
    if (!ok) {
        snprintf(side, sizeof side, "%s-wal", p);
        ok = faccessat(AT_FDCWD, side, R_OK | W_OK, AT_EACCESS) == 0;
        snprintf(side, sizeof side, "%s-shm", p);
        ok = ok && faccessat(AT_FDCWD, side, R_OK | W_OK, AT_EACCESS) == 0;
    }
    free(real);
    return ok;
}

/* Says why path cannot be used, in the user's words where we have them
 * (creating: it was being made in its folder). */
static int say_errno(qk_store *s, const char *path, int e, int creating)
{
    char dir[4200];
    struct stat st;
    if ((e == ENOENT || e == ENOTDIR) && !folder_exists(path)) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_NO_DIR, path);
        return QK_ENOTFOUND;
    }
    if (e == EEXIST && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_DANGLING, path);
        return QK_ENOTFOUND;
    }
    if (e == EROFS)
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_READ_ONLY_FS, path);
    else if ((e == EACCES || e == EPERM) && creating) {
        folder_of(path, dir, sizeof dir);
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_DIR_NO_WRITE, dir);
    } else if (e == EACCES || e == EPERM)
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_NO_ACCESS, path);
    else
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, path, strerror(e));
    return QK_EIO;
}

/* What is at path, looked at with plain reads before SQLite opens it
 * (SQLite's own words for a folder or a text file are English and vague):
 * nothing (then made, 0600: password hashes, PINs, every answer) or an
 * empty file, LOOK_NEW; a SQLite file marked as a store, LOOK_MARKED; an
 * unmarked one (a store of before, or one whose mark is still in its WAL),
 * LOOK_PROBE. Anything else is refused untouched, saying what it is. */
static int look_at(qk_store *s, const char *path, int *look)
{
    struct stat st;
    for (int tries = 0; stat(path, &st) != 0; tries++) {
        int e = errno;
        if (e != ENOENT)
            return say_errno(s, path, e, 0);
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            *look = LOOK_NEW;
            return QK_OK;
        }
        /* EEXIST: made meanwhile (looked at again), or a dangling link */
        if (errno != EEXIST || tries)
            return say_errno(s, path, errno, 1);
    }
    if (S_ISDIR(st.st_mode)) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_IS_DIR, path, path);
        return QK_EINVAL;
    }
    if (!S_ISREG(st.st_mode)) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_NOT_FILE, path);
        return QK_EINVAL;
    }
    if (access(path, R_OK | W_OK) != 0)
        return say_errno(s, path, errno, 0);
    char dir[4200];
    if (!wal_room(path, dir, sizeof dir)) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_DIR_NO_WAL, path, dir);
        return QK_EIO;
    }
    unsigned char h[100];
    int64_t got = read_header(path, h, sizeof h);
    /* shorter than a header: being made by another program or thread (its
     * first page not written whole yet), looked at again a few times */
    for (int tries = 0; got > 0 && got < (int64_t)sizeof h && tries < 10; tries++) {
        struct timespec pause = {0, 20000000L}; /* 20 ms */
        nanosleep(&pause, NULL);
        got = read_header(path, h, sizeof h);
    }
    if (got < 0) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, path, strerror(EIO));
        return QK_EIO;
    }
    if (got == 0) { /* an empty file (made for the store, say): one, 0600 */
        if ((st.st_mode & 077) && st.st_uid == geteuid())
            (void)chmod(path, 0600);
        *look = LOOK_NEW;
        return QK_OK;
    }
    if (got < (int64_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_NOT_SQLITE, path);
        return QK_EFORMAT;
    }
    uint32_t app = (uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71];
    if (app == QK_PROGRESS_APP_ID) { /* a device's progress file (quizkit/engine.h) */
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_PROGRESS, path);
        return QK_EFORMAT;
    }
    if (app != 0 && app != STORE_APP_ID) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_FOREIGN, path);
        return QK_EFORMAT;
    }
    *look = app == STORE_APP_ID ? LOOK_MARKED : LOOK_PROBE;
    return QK_OK;
}

int qk__sqlite_store_open(qk_store *s, const char *path)
{
    sq *q = calloc(1, sizeof *q);
    if (!q)
        return QK_ENOMEM;
    /* another program's file is refused before anything is written to it
     * (not even its journal mode is changed) */
    int look = LOOK_NEW; /* ":memory:" is always a new store */
    if (strcmp(path, ":memory:") != 0) {
        int lrc = look_at(s, path, &look);
        if (lrc != QK_OK) {
            free(q);
            return lrc;
        }
    }
    char why[256];
    int marked = look == LOOK_MARKED;
    int kind = look == LOOK_PROBE ? probe_kind(path, &marked, why, sizeof why) : 1;
    if (kind < 0) {
        if (kind == -2)
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, path, why);
        else
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE_FOREIGN, path);
        free(q);
        return kind == -2 ? QK_EIO : QK_EFORMAT;
    }
    /* A store is used by one thread at a time (the server keeps one per
     * worker thread), so its connection needs no mutex of SQLite's own:
     * taking one on every call was a tenth of a small request's time. */
    if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, path,
                  q->db ? sqlite3_errmsg(q->db) : "?");
        sqlite3_close(q->db);
        free(q);
        return QK_EIO;
    }
    s->impl = q;
    q->lock = file_lock_get(path);
    sqlite3_busy_timeout(q->db, 10000);
    int rc = exec(s, "PRAGMA journal_mode=WAL");
    if (rc == QK_OK)
        rc = exec(s, "PRAGMA synchronous=FULL");
    if (rc == QK_OK)
        rc = exec(s, "PRAGMA foreign_keys=ON");
    /* A store that is up to date is opened without the write lock (a server
     * opening a connection per worker waited behind every batch, in SQLite's
     * sleeping busy handler, before its first request). Migrations run under
     * one write lock, so two servers starting at once do not both run them. */
    int current = -1;
    if (rc == QK_OK) {
        sqlite3_stmt *st = prep(s, "PRAGMA user_version");
        current = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        sqlite3_finalize(st);
    }
    if (rc == QK_OK && current == N_MIGRATIONS && marked)
        return QK_OK;
    if (rc == QK_OK)
        rc = exec(s, "BEGIN IMMEDIATE");
    if (rc == QK_OK) {
        sqlite3_stmt *st = prep(s, "PRAGMA user_version");
        int have = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        sqlite3_finalize(st);
        if (have < 0 || have > N_MIGRATIONS) {
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, path, "schema version");
            rc = QK_EFORMAT;
        }
        if (rc == QK_OK && !marked) {
            char mark[64];
            snprintf(mark, sizeof mark, "PRAGMA application_id=%d", STORE_APP_ID);
            rc = exec(s, mark);
        }
        for (int m = have; rc == QK_OK && m < N_MIGRATIONS; m++) {
            char ver[64];
            snprintf(ver, sizeof ver, "PRAGMA user_version=%d", m + 1);
            rc = exec(s, migrations[m]);
            if (rc == QK_OK && m + 1 == MIGRATION_BUNDLE_BYTES)
                rc = adopt_bundle_files(s, path);
            if (rc == QK_OK)
                rc = exec(s, ver);
        }
        if (rc == QK_OK)
            rc = exec(s, "COMMIT");
        else
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

/* Transactions nest: an operation that is one transaction on its own (a
 * member's points) joins the one around it (a batch's scores) as a savepoint,
 * so that the batch's writes reach the disk together. */
static int begin(qk_store *s)
{
    sq *q = s->impl;
    q->memo = 0;
    if (sqlite3_get_autocommit(q->db))
        q->depth = 0; /* SQLite ended it (a full disk, an I/O error): start afresh */
    if (q->depth == 0 && q->lock && !q->held) {
        file_lock_take(q->lock);
        q->held = 1;
    }
    int rc = exec(s, q->depth ? "SAVEPOINT inner" : "BEGIN IMMEDIATE");
    if (rc == QK_OK)
        q->depth++;
    settle(q);
    return rc;
}

static int commit(qk_store *s)
{
    sq *q = s->impl;
    q->memo = 0;
    int rc = exec(s, q->depth > 1 ? "RELEASE inner" : "COMMIT");
    if (rc == QK_OK && q->depth > 0) {
        q->depth--;
    } else if (rc != QK_OK && q->depth > 1) { /* the inner part is undone, the outer goes on */
        sqlite3_exec(q->db, "ROLLBACK TO inner", NULL, NULL, NULL);
        sqlite3_exec(q->db, "RELEASE inner", NULL, NULL, NULL);
        q->depth--;
    } else if (rc != QK_OK) { /* not kept: nothing half-open stays */
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
        q->depth = 0;
    }
    if (sqlite3_get_autocommit(q->db))
        q->depth = 0;
    settle(q);
    return rc;
}

static void rollback(qk_store *s)
{
    sq *q = s->impl;
    q->memo = 0;
    if (q->depth > 1) {
        sqlite3_exec(q->db, "ROLLBACK TO inner", NULL, NULL, NULL);
        sqlite3_exec(q->db, "RELEASE inner", NULL, NULL, NULL);
    } else {
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (q->depth > 0)
        q->depth--;
    if (sqlite3_get_autocommit(q->db))
        q->depth = 0;
    settle(q);
}

static int device_key(qk_store *s, const char *device_id, char **pem)
{
    *pem = NULL;
    sqlite3_stmt *st = cached(s, S_DEVICE_KEY, "SELECT public_key FROM devices WHERE id = ?");
    if (!st)
        return QK_EIO;
    text(st, 1, device_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        *pem = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return QK_OK;
}

static int set_device(qk_store *s, const char *device_id, const char *pem, int64_t acked_seq)
{
    sqlite3_stmt *st = cached(s, S_SET_DEVICE,
                              "INSERT INTO devices(id, public_key, acked_seq, last_seen_ms)"
                              " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET"
                              " acked_seq = MAX(acked_seq, ?3), last_seen_ms = ?4");
    if (!st)
        return QK_EIO;
    text(st, 1, device_id);
    text(st, 2, pem ? pem : "");
    sqlite3_bind_int64(st, 3, acked_seq);
    sqlite3_bind_int64(st, 4, qk__store_now(s));
    return run(s, st, "devices", 0);
}

/* The columns an event is stored and compared by, bound from its JSON. */
static void bind_event(sqlite3_stmt *st, json_t *ev, const char *payload)
{
    static const char *const keys[] = {"id", "device_id", NULL, "member_id", "bundle_id",
                                       "bundle_version", "kind", "attempt_id"};
    for (int i = 0; i < 8; i++) {
        if (keys[i])
            text(st, i + 1, json_string_value(json_object_get(ev, keys[i])));
    }
    sqlite3_bind_int64(st, 3, (sqlite3_int64)json_integer_value(json_object_get(ev, "seq")));
    sqlite3_bind_text(st, 9, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)json_integer_value(json_object_get(ev, "created_ms")));
}

/* The branch whose roster holds member (*out "" when none holds it). */
static int member_branch(qk_store *s, const char *member, char *out, size_t n)
{
    sq *q = s->impl;
    out[0] = '\0';
    if (q->memo && strcmp(q->memo_member, member) == 0) {
        snprintf(out, n, "%s", q->memo_branch);
        return QK_OK;
    }
    sqlite3_stmt *st = cached(s, S_MEMBER_BRANCH, "SELECT branch_id FROM members WHERE id = ?");
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        copy_col(out, n, st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return fail(s, "members");
    q->memo = strlen(member) < sizeof q->memo_member && strlen(out) < sizeof q->memo_branch;
    if (q->memo) {
        snprintf(q->memo_member, sizeof q->memo_member, "%s", member);
        snprintf(q->memo_branch, sizeof q->memo_branch, "%s", out);
    }
    return QK_OK;
}

/* An event is held once, in events or in events_apart: each insert checks
 * the other table for its id and its (device, seq). */
#define NOT_IN(t) " WHERE NOT EXISTS (SELECT 1 FROM " t " WHERE id = ?1 OR (device_id = ?2 AND seq = ?3))"
#define SAME_IN(t)                                                                          \
    "(SELECT count(*) FROM " t " WHERE id = ?1 AND device_id = ?2 AND seq = ?3"              \
    " AND member_id IS ?4 AND bundle_id IS ?5 AND bundle_version IS ?6"                      \
    " AND kind = ?7 AND attempt_id IS ?8 AND payload = ?9 AND created_ms = ?10)"

static int put_event(qk_store *s, json_t *ev, const char *branch, const char *only, int *outcome)
{
    /* Canonical payload text, so the same event always compares equal:
     * made as the batch was read (qk__event_valid), else here. */
    const char *made = json_string_value(json_object_get(ev, QK__PAYLOAD_TEXT));
    char *own = made ? NULL : json_dumps(json_object_get(ev, "payload"), JSON_COMPACT | JSON_SORT_KEYS);
    const char *payload = made ? made : own;
    if (!payload)
        return QK_ENOMEM;
    char home[128] = "";
    const char *member = json_string_value(json_object_get(ev, "member_id"));
    int rc = branch && *branch && member ? member_branch(s, member, home, sizeof home) : QK_OK;
    /* (exactly: the phone names its member as the roster's row does, and a
     * roster may hold two ids that differ only in case) */
    int apart = (home[0] && strcmp(home, branch) != 0) ||
                (only && *only && member && strcmp(member, only) != 0);
    sqlite3_stmt *st =
        rc != QK_OK ? NULL
        : apart     ? cached(s, S_PUT_APART,
                             "INSERT OR IGNORE INTO events_apart(id, device_id, seq, member_id,"
                                 " bundle_id, bundle_version, kind, attempt_id, payload, created_ms,"
                                 " received_ms, device_branch, member_branch)"
                                 " SELECT ?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13" NOT_IN("events"))
                    : cached(s, S_PUT_EVENT,
                             "INSERT OR IGNORE INTO events(id, device_id, seq, member_id, bundle_id,"
                             " bundle_version, kind, attempt_id, payload, created_ms, received_ms)"
                             " SELECT ?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11" NOT_IN("events_apart"));
    if (!st && rc == QK_OK)
        rc = QK_EIO;
    if (st) {
        bind_event(st, ev, payload);
        sqlite3_bind_int64(st, 11, qk__store_now(s));
        if (apart) {
            text(st, 12, branch);
            text(st, 13, home);
        }
        rc = run(s, st, apart ? "events_apart" : "events", 0);
    }
    if (rc == QK_OK && sqlite3_changes(db_of(s)) == 1) {
        *outcome = apart ? QK_PUT_APART : QK_PUT_INSERTED;
    } else if (rc == QK_OK) {
        /* Held already (by id, or by device and seq), here or apart: the same
         * content is a harmless resend; anything else is a conflict and is
         * not stored. */
        st = cached(s, S_SAME_EVENT, "SELECT " SAME_IN("events") " + " SAME_IN("events_apart"));
        if (!st) {
            rc = QK_EIO;
        } else {
            bind_event(st, ev, payload);
            if (sqlite3_step(st) == SQLITE_ROW)
                *outcome = sqlite3_column_int(st, 0) == 1 ? QK_PUT_DUPLICATE : QK_PUT_CONFLICT;
            else
                rc = fail(s, "events");
            sqlite3_reset(st);
        }
    }
    free(own);
    return rc;
}

static int held_seqs(qk_store *s, const char *device_id, int64_t after, int64_t **seqs, size_t *n)
{
    *seqs = NULL;
    *n = 0;
    sqlite3_stmt *st = cached(s, S_HELD,
                              "SELECT seq FROM events WHERE device_id = ?1 AND seq > ?2 UNION ALL"
                              " SELECT seq FROM events_apart WHERE device_id = ?1 AND seq > ?2"
                              " ORDER BY seq");
    if (!st)
        return QK_EIO;
    text(st, 1, device_id);
    sqlite3_bind_int64(st, 2, after);
    size_t cap = 0;
    int rc = QK_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
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
    if (rc == QK_OK && step != SQLITE_DONE)
        rc = fail(s, "events"); /* never an acknowledgement from half a list */
    sqlite3_reset(st);
    return rc;
}

static int waiting(qk_store *s, const char *id, const char *version, json_t **events)
{
    *events = NULL;
    sqlite3_stmt *st = prep(s, "SELECT e.id, e.device_id, e.seq, e.member_id, e.bundle_id,"
                               " e.bundle_version, e.kind, e.attempt_id, e.payload, e.created_ms"
                               " FROM events e JOIN attempt_scores a ON a.attempt_id = e.attempt_id"
                               " WHERE e.kind = 'attempt.finish' AND e.bundle_id = ?1"
                               " AND e.bundle_version = ?2 AND a.server_score IS NULL"
                               " AND a.note = '" QK__NOTE_NO_BUNDLE "'"
                               " ORDER BY e.created_ms, e.id");
    if (!st)
        return QK_EIO;
    text(st, 1, id);
    text(st, 2, version);
    json_t *a = json_array();
    int step;
    while (a && (step = sqlite3_step(st)) == SQLITE_ROW) {
        static const char *const names[] = {"id", "device_id", "seq", "member_id", "bundle_id",
                                            "bundle_version", "kind", "attempt_id", "payload",
                                            "created_ms"};
        json_t *o = json_object();
        for (int c = 0; o && c < 10; c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            json_t *j = c == 2 || c == 9 ? json_integer(sqlite3_column_int64(st, c))
                        : c == 8        ? json_loads(v ? v : "{}", 0, NULL)
                        : v             ? json_string(v)
                                        : json_null();
            json_object_set_new(o, names[c], j ? j : json_null());
        }
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    sqlite3_finalize(st);
    if (!a)
        return QK_ENOMEM;
    if (step != SQLITE_DONE) {
        json_decref(a);
        return fail(s, "events");
    }
    *events = a;
    return QK_OK;
}

static int member_bundle(qk_store *s, const char *member, char *id, size_t idn, char *version,
                         size_t vn)
{
    sqlite3_stmt *st = prep(s, "SELECT bundle_id, bundle_version FROM events WHERE member_id = ?"
                               " AND bundle_id IS NOT NULL AND bundle_version IS NOT NULL"
                               " ORDER BY created_ms DESC, seq DESC LIMIT 1");
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        copy_col(id, idn, st, 0);
        copy_col(version, vn, st, 1);
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? QK_OK : step == SQLITE_DONE ? QK_ENOTFOUND : fail(s, "events");
}

static int count(qk_store *s, int64_t *n)
{
    sqlite3_stmt *st = prep(s, "SELECT count(*) FROM events");
    if (!st)
        return QK_EIO;
    *n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return QK_OK;
}

static int put_score(qk_store *s, json_t *finish, const qk_rescore *r, const char *note)
{
    sqlite3_stmt *st = cached(s, S_PUT_SCORE,
                              "INSERT OR REPLACE INTO attempt_scores(attempt_id, device_score,"
                              " server_score, max, mismatch, note, rescored_ms, member_id, device_id,"
                              " finished_ms, competition, server_points, device_points, answer_ms,"
                              " flagged, outside_window) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return QK_EIO;
    text(st, 1, json_string_value(json_object_get(finish, "attempt_id")));
    if (r) {
        sqlite3_bind_int(st, 2, r->device_score);
        sqlite3_bind_int(st, 3, r->server_score);
        sqlite3_bind_int(st, 4, r->max);
    }
    sqlite3_bind_int(st, 5, r ? r->mismatch : 0);
    text(st, 6, note ? note : "");
    sqlite3_bind_int64(st, 7, qk__store_now(s));
    text(st, 8, json_string_value(json_object_get(finish, "member_id")));
    text(st, 9, json_string_value(json_object_get(finish, "device_id")));
    sqlite3_bind_int64(st, 10, (sqlite3_int64)json_integer_value(json_object_get(finish, "created_ms")));
    if (r && r->competition) {
        text(st, 11, r->competition_id);
        sqlite3_bind_int(st, 12, r->server_points);
        sqlite3_bind_int(st, 13, r->device_points);
        sqlite3_bind_int64(st, 14, r->answer_ms);
        sqlite3_bind_int(st, 15, r->flagged);
        sqlite3_bind_int(st, 16, r->outside_window);
    } else {
        /* Not scored here (bundle missing): still an entry of its competition. */
        text(st, 11, json_string_value(json_object_get(json_object_get(finish, "payload"), "competition")));
        sqlite3_bind_int(st, 15, 0);
        sqlite3_bind_int(st, 16, 0);
    }
    return run(s, st, "attempt_scores", 0);
}

static int attempt_events(qk_store *s, const char *attempt_id, const char *device_id, json_t **events)
{
    *events = json_array();
    sqlite3_stmt *st = cached(s, S_ATTEMPT_EVENTS,
                              "SELECT seq, kind, bundle_id, bundle_version, payload, created_ms FROM events"
                              " WHERE attempt_id = ? AND +device_id = ? ORDER BY seq");
    /* "+device_id": found by the attempt's index (a dozen rows), not by walking
     * the device's every event in (device_id, seq) order for the ORDER BY */
    if (!*events || !st) {
        json_decref(*events);
        *events = NULL;
        return st ? QK_ENOMEM : QK_EIO;
    }
    text(st, 1, attempt_id);
    text(st, 2, device_id);
    int rc = QK_OK, step;
    while (rc == QK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        json_t *ev = json_pack("{s:I, s:s, s:s?, s:s?, s:s, s:I}", "seq", (json_int_t)sqlite3_column_int64(st, 0),
                               "kind", kind ? kind : "", "bundle_id", (const char *)sqlite3_column_text(st, 2),
                               "bundle_version", (const char *)sqlite3_column_text(st, 3), "payload",
                               (const char *)sqlite3_column_text(st, 4), "created_ms",
                               (json_int_t)sqlite3_column_int64(st, 5));
        if (!ev || json_array_append_new(*events, ev) != 0)
            rc = QK_ENOMEM;
    }
    if (rc == QK_OK && step != SQLITE_DONE)
        rc = fail(s, "events");
    sqlite3_reset(st); /* a statement left stepping would hold its read snapshot */
    if (rc != QK_OK) {
        json_decref(*events);
        *events = NULL;
    }
    return rc;
}

static int point_events(qk_store *s, const char *member, const char *device, int64_t after,
                        int64_t upto, int (*fn)(void *arg, const qk_point_event *ev), void *arg)
{
    sqlite3_stmt *st = cached(s, S_POINT_EVENTS, QK_SQL_POINT_EVENTS_RECEIVED);
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    text(st, 2, device);
    sqlite3_bind_int64(st, 3, after);
    sqlite3_bind_int64(st, 4, upto);
    int rc = QK_OK, step;
    while (rc == QK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        qk_point_event ev;
        qk_point_event_read(st, &ev);
        rc = fn(arg, &ev);
    }
    if (rc == QK_OK && step != SQLITE_DONE)
        rc = fail(s, "events");
    sqlite3_reset(st);
    return rc;
}

/* The events' rowids only grow: nothing deletes an event from the store,
 * so SQLite gives each new row the largest rowid yet plus one. */
static int events_mark(qk_store *s, int64_t *mark)
{
    *mark = 0;
    sqlite3_stmt *st = cached(s, S_EVENTS_MARK, "SELECT coalesce(max(rowid), 0) FROM events");
    if (!st)
        return QK_EIO;
    int rc = sqlite3_step(st) == SQLITE_ROW ? QK_OK : fail(s, "events");
    if (rc == QK_OK)
        *mark = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc;
}

static int points_fold_get(qk_store *s, const char *member, const char *device, qk__points_fold *f)
{
    memset(f, 0, sizeof *f);
    sqlite3_stmt *st = cached(s, S_FOLD_GET,
                              "SELECT bundle_id, bundle_version, mark, last_ms, last_device, last_seq, state"
                              " FROM points_folds WHERE member_id = ? AND device_id = ?");
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    text(st, 2, device ? device : "");
    int rc = QK_ENOTFOUND, step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        copy_col(f->bundle_id, sizeof f->bundle_id, st, 0);
        copy_col(f->bundle_version, sizeof f->bundle_version, st, 1);
        f->mark = sqlite3_column_int64(st, 2);
        f->has_last = sqlite3_column_type(st, 3) != SQLITE_NULL;
        f->last_ms = sqlite3_column_int64(st, 3);
        copy_col(f->last_device, sizeof f->last_device, st, 4);
        f->last_seq = sqlite3_column_int64(st, 5);
        f->len = (size_t)sqlite3_column_bytes(st, 6);
        f->state = malloc(f->len ? f->len : 1);
        rc = f->state ? QK_OK : QK_ENOMEM;
        if (f->state && f->len)
            memcpy(f->state, sqlite3_column_blob(st, 6), f->len);
    } else if (step != SQLITE_DONE) {
        rc = fail(s, "points_folds");
    }
    sqlite3_reset(st);
    return rc;
}

static int points_fold_put(qk_store *s, const char *member, const char *device, const qk__points_fold *f)
{
    sqlite3_stmt *st = cached(s, S_FOLD_PUT,
                              "INSERT OR REPLACE INTO points_folds(member_id, device_id, bundle_id,"
                              " bundle_version, mark, last_ms, last_device, last_seq, state)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    text(st, 2, device ? device : "");
    text(st, 3, f->bundle_id);
    text(st, 4, f->bundle_version);
    sqlite3_bind_int64(st, 5, f->mark);
    if (f->has_last) {
        sqlite3_bind_int64(st, 6, f->last_ms);
        text(st, 7, f->last_device);
        sqlite3_bind_int64(st, 8, f->last_seq);
    }
    sqlite3_bind_blob(st, 9, f->state, (int)f->len, SQLITE_TRANSIENT);
    return run(s, st, "points_folds", 0);
}

/* The events QK_SQL_POINT_EVENTS reads (of device, when not NULL), and the
 * member's attempt starts from any device: the day and the mode of their
 * attempts' events are read from them, so a new start of an attempt the
 * fold has seen events of means the fold is no longer the replay. */
static int points_fold_fits(qk_store *s, const char *member, const char *device, const qk__points_fold *f,
                            int64_t upto, int *fits)
{
    *fits = 0;
    sqlite3_stmt *st = cached(
        s, S_FOLD_FITS,
        "SELECT EXISTS (SELECT 1 FROM events e WHERE e.member_id = ?1"
        " AND (?2 IS NULL OR e.device_id = ?2 OR e.kind = 'attempt.start')"
        " AND e.kind IN ('answer', 'attempt.finish', 'lesson.finish', 'points.correction', 'attempt.start')"
        " AND e.rowid > ?3 AND e.rowid <= ?4"
        " AND (((?2 IS NULL OR e.device_id = ?2) AND ?5 IS NOT NULL"
        "   AND (e.created_ms, e.device_id, e.seq) <= (?5, ?6, ?7))"
        "  OR (e.kind = 'attempt.start' AND EXISTS (SELECT 1 FROM events o"
        "   WHERE o.attempt_id = e.attempt_id AND +o.member_id = ?1 AND (?2 IS NULL OR o.device_id = ?2)"
        "   AND o.rowid <= ?3))))");
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    text(st, 2, device);
    sqlite3_bind_int64(st, 3, f->mark);
    sqlite3_bind_int64(st, 4, upto);
    if (f->has_last) {
        sqlite3_bind_int64(st, 5, f->last_ms);
        text(st, 6, f->last_device);
        sqlite3_bind_int64(st, 7, f->last_seq);
    }
    int rc = sqlite3_step(st) == SQLITE_ROW ? QK_OK : fail(s, "events");
    if (rc == QK_OK)
        *fits = sqlite3_column_int(st, 0) == 0;
    sqlite3_reset(st);
    return rc;
}

static int competition_spec(qk_store *s, const char *id, const char *bundle_id, char **spec)
{
    *spec = NULL;
    sqlite3_stmt *st = cached(s, S_ATTEMPT_COMP, "SELECT spec FROM competitions WHERE id = ? AND bundle_id = ?");
    if (!st)
        return QK_EIO;
    text(st, 1, id);
    text(st, 2, bundle_id);
    int rc = QK_OK;
    if (sqlite3_step(st) == SQLITE_ROW && !(*spec = strdup((const char *)sqlite3_column_text(st, 0))))
        rc = QK_ENOMEM;
    sqlite3_reset(st);
    return rc;
}

/* The next roster cursor: one counter for the whole store. */
#define NEXT_ROSTER_SEQ "(SELECT coalesce(max(roster_seq), 0) + 1 FROM members)"

static int member_event(qk_store *s, const char *branch, json_t *ev)
{
    ((sq *)s->impl)->memo = 0; /* the roster may change */
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    const char *member = json_string_value(json_object_get(ev, "member_id"));
    json_t *p = json_object_get(ev, "payload");
    const char *salt = json_string_value(json_object_get(p, "pin_salt"));
    const char *hash = json_string_value(json_object_get(p, "pin_hash"));
    json_int_t iter = json_integer_value(json_object_get(p, "pin_iter"));
    if (!branch || !*branch || !member || !salt || !hash || strlen(salt) != 32 ||
        strlen(hash) != 64 || iter < 1 || iter > 10000000)
        return QK_OK; /* nothing the roster can use */
    sqlite3_stmt *st;
    if (strcmp(kind, "member.pin_changed") == 0) {
        st = cached(s, S_MEMBER_PIN,
                    "UPDATE members SET pin_salt = ?1, pin_hash = ?2, pin_iter = ?3, roster_seq = "
                    NEXT_ROSTER_SEQ ", updated_ms = ?5 WHERE id = ?4 AND branch_id = ?6"
                    " AND pin_hash <> ?2");
    } else {
        const char *name = json_string_value(json_object_get(p, "name"));
        if (!name || !*name)
            return QK_OK;
        st = cached(s, S_MEMBER_NEW,
                    "INSERT OR IGNORE INTO members(pin_salt, pin_hash, pin_iter, id, updated_ms,"
                    " branch_id, name, roster_seq) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                    NEXT_ROSTER_SEQ " WHERE EXISTS (SELECT 1 FROM branches WHERE id = ?6)");
        if (st)
            text(st, 7, name);
    }
    if (!st)
        return QK_EIO;
    text(st, 1, salt);
    text(st, 2, hash);
    sqlite3_bind_int64(st, 3, iter);
    text(st, 4, member);
    sqlite3_bind_int64(st, 5, qk__store_now(s));
    text(st, 6, branch);
    int rc = run(s, st, "members", 0);
    return rc == QK_EEXISTS ? QK_OK : rc;
}

/* --- accounts --- */

static int branch_add(qk_store *s, const char *id, const char *name)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO branches(id, name, created_ms) VALUES (?,?,?)");
    if (!st)
        return QK_EIO;
    text(st, 1, id);
    text(st, 2, name);
    sqlite3_bind_int64(st, 3, qk__store_now(s));
    return run(s, st, "branches", 1);
}

/* Rows of a query as a JSON array of objects named by the columns. */
static int rows_json(qk_store *s, sqlite3_stmt *st, json_t **out)
{
    json_t *a = json_array();
    int step;
    while (a && (step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int c = 0; o && c < sqlite3_column_count(st); c++) {
            json_t *v;
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(st, c)); break;
            case SQLITE_NULL: v = json_null(); break;
            default: v = json_string((const char *)sqlite3_column_text(st, c)); break;
            }
            json_object_set_new(o, sqlite3_column_name(st, c), v ? v : json_null());
        }
        json_array_append_new(a, o);
    }
    int rc = !a ? QK_ENOMEM : step == SQLITE_DONE ? QK_OK : fail(s, "query");
    sqlite3_finalize(st);
    if (rc != QK_OK) {
        json_decref(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

static int branch_list(qk_store *s, json_t **out)
{
    sqlite3_stmt *st = prep(s, "SELECT b.id, b.name,"
                               " (SELECT count(*) FROM members m WHERE m.branch_id = b.id) AS members,"
                               " (SELECT count(*) FROM devices d WHERE d.branch_id = b.id"
                               "  AND d.revoked_ms IS NULL) AS devices"
                               " FROM branches b ORDER BY b.id");
    return st ? rows_json(s, st, out) : QK_EIO;
}

static int user_add(qk_store *s, const qk_user *u)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO users(name, role, branch_id, pw_hash, created_ms)"
                               " VALUES (?,?,?,?,?)");
    if (!st)
        return QK_EIO;
    text(st, 1, u->name);
    text(st, 2, u->role);
    text(st, 3, u->branch[0] ? u->branch : NULL);
    text(st, 4, u->pw_hash);
    sqlite3_bind_int64(st, 5, qk__store_now(s));
    return run(s, st, "users", 1);
}

static int user_row(qk_store *s, sqlite3_stmt *st, qk_user *u)
{
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        copy_col(u->name, sizeof u->name, st, 0);
        copy_col(u->role, sizeof u->role, st, 1);
        copy_col(u->branch, sizeof u->branch, st, 2);
        copy_col(u->pw_hash, sizeof u->pw_hash, st, 3);
    }
    int rc = step == SQLITE_ROW ? QK_OK : step == SQLITE_DONE ? QK_ENOTFOUND : fail(s, "users");
    sqlite3_reset(st); /* kept for the next call, or finalized by the caller */
    return rc;
}

static int user_get(qk_store *s, const char *name, qk_user *u)
{
    sqlite3_stmt *st = prep(s, "SELECT name, role, branch_id, pw_hash FROM users WHERE name = ?");
    if (!st)
        return QK_EIO;
    text(st, 1, name);
    int rc = user_row(s, st, u);
    sqlite3_finalize(st);
    return rc;
}

static int user_count(qk_store *s, int64_t *n)
{
    sqlite3_stmt *st = prep(s, "SELECT count(*) FROM users");
    if (!st)
        return QK_EIO;
    *n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return QK_OK;
}

static int token_put(qk_store *s, const char *token_hash, const char *user, int64_t expires_ms)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO sessions(token_hash, user, expires_ms) VALUES (?,?,?)");
    if (!st)
        return QK_EIO;
    text(st, 1, token_hash);
    text(st, 2, user);
    sqlite3_bind_int64(st, 3, expires_ms);
    int rc = run(s, st, "sessions", 1);
    /* Old sessions go as new ones come. */
    if (rc == QK_OK && (st = prep(s, "DELETE FROM sessions WHERE expires_ms < ?")) != NULL) {
        sqlite3_bind_int64(st, 1, qk__store_now(s));
        run(s, st, "sessions", 1);
    }
    return rc;
}

static int token_user(qk_store *s, const char *token_hash, int64_t now_ms, qk_user *u)
{
    /* every signed-in request asks: prepared once per connection */
    sqlite3_stmt *st = cached(s, S_TOKEN_USER,
                              "SELECT u.name, u.role, u.branch_id, u.pw_hash FROM sessions t"
                              " JOIN users u ON u.name = t.user"
                              " WHERE t.token_hash = ? AND t.expires_ms > ?");
    if (!st)
        return QK_EIO;
    text(st, 1, token_hash);
    sqlite3_bind_int64(st, 2, now_ms);
    return user_row(s, st, u);
}

static int member_put(qk_store *s, const qk_roster_member *m, const char *only_branch)
{
    /* The update only touches a member of only_branch: a leader writes to
     * their own branch exactly as they read it (DESIGN.md decision 13). */
    sqlite3_stmt *st = prep(s, "INSERT INTO members(id, branch_id, name, dept, pin_salt, pin_hash,"
                               " pin_iter, roster_seq, updated_ms) VALUES (?1,?2,?3,?4,?5,?6,?7, "
                               NEXT_ROSTER_SEQ ", ?8) ON CONFLICT(id) DO UPDATE SET"
                               " branch_id = ?2, name = ?3, dept = ?4, pin_salt = ?5,"
                               " pin_hash = ?6, pin_iter = ?7, roster_seq = " NEXT_ROSTER_SEQ
                               ", updated_ms = ?8 WHERE ?9 IS NULL OR members.branch_id = ?9");
    if (!st)
        return QK_EIO;
    if (only_branch)
        text(st, 9, only_branch);
    text(st, 1, m->id);
    text(st, 2, m->branch);
    text(st, 3, m->name);
    text(st, 4, m->dept);
    text(st, 5, m->pin_salt);
    text(st, 6, m->pin_hash);
    sqlite3_bind_int(st, 7, m->pin_iter);
    sqlite3_bind_int64(st, 8, qk__store_now(s));
    int rc = run(s, st, "members", 1);
    if (rc == QK_EEXISTS) { /* the only constraint left is the branch */
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_NO_BRANCH, m->branch);
        rc = QK_ENOTFOUND;
    } else if (rc == QK_OK && sqlite3_changes(db_of(s)) == 0) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_MEMBER_OTHER_BRANCH, m->id);
        rc = QK_EPERM;
    }
    return rc;
}

static int roster(qk_store *s, const char *branch, const char *member, int64_t after, int limit,
                  json_t **members, int64_t *cursor)
{
    sqlite3_stmt *st = prep(s, "SELECT id, name, branch_id AS branch, dept, pin_salt, pin_hash,"
                               " pin_iter, roster_seq AS cursor FROM members"
                               " WHERE branch_id = ?1 AND roster_seq > ?2"
                               " AND (?4 IS NULL OR id = ?4 COLLATE NOCASE) ORDER BY roster_seq LIMIT ?3");
    if (!st)
        return QK_EIO;
    text(st, 1, branch);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int(st, 3, limit);
    text(st, 4, member);
    int rc = rows_json(s, st, members);
    *cursor = after;
    size_t n = rc == QK_OK ? json_array_size(*members) : 0;
    if (n)
        *cursor = json_integer_value(json_object_get(json_array_get(*members, n - 1), "cursor"));
    return rc;
}

static int code_put(qk_store *s, const char *code_hash, const char *branch, const char *by,
                    int kind, int64_t expires_ms)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO enrol_codes(code_hash, branch_id, created_by, expires_ms,"
                               " kind) VALUES (?,?,?,?,?)");
    if (!st)
        return QK_EIO;
    text(st, 1, code_hash);
    text(st, 2, branch);
    text(st, 3, by);
    sqlite3_bind_int64(st, 4, expires_ms);
    text(st, 5, kind == QK_CODE_PHONE ? "phone" : "shared");
    return run(s, st, "enrol_codes", 1);
}

static int code_take(qk_store *s, const char *code_hash, const char *device_id, int64_t now_ms,
                     char branch[QK_NAME_MAX + 1], int *kind)
{
    sqlite3_stmt *st = prep(s, "SELECT branch_id, expires_ms, used_ms, kind FROM enrol_codes"
                               " WHERE code_hash = ?");
    if (!st)
        return QK_EIO;
    text(st, 1, code_hash);
    int step = sqlite3_step(st);
    int rc = step == SQLITE_ROW ? QK_OK : step == SQLITE_DONE ? QK_ENOTFOUND : fail(s, "codes");
    *kind = QK_CODE_ANY;
    if (rc == QK_OK) {
        const char *k = (const char *)sqlite3_column_text(st, 3);
        if (k)
            *kind = strcmp(k, "phone") == 0 ? QK_CODE_PHONE : QK_CODE_SHARED;
        copy_col(branch, QK_NAME_MAX + 1, st, 0);
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            rc = QK_ESTATE;
        else if (sqlite3_column_int64(st, 1) <= now_ms)
            rc = QK_ETIMEOUT;
    }
    sqlite3_finalize(st);
    if (rc != QK_OK)
        return rc;
    st = prep(s, "UPDATE enrol_codes SET used_ms = ?, device_id = ? WHERE code_hash = ?"
                 " AND used_ms IS NULL");
    if (!st)
        return QK_EIO;
    sqlite3_bind_int64(st, 1, now_ms);
    text(st, 2, device_id);
    text(st, 3, code_hash);
    rc = run(s, st, "codes", 1);
    return rc == QK_OK && sqlite3_changes(db_of(s)) != 1 ? QK_ESTATE : rc;
}

static int device_enrol(qk_store *s, const qk_device_rec *d, const char *pem, const char *token_hash)
{
    char *known = NULL;
    int rc = device_key(s, d->id, &known);
    if (rc == QK_OK && known && *known && strcmp(known, pem) != 0)
        rc = QK_EEXISTS;
    free(known);
    if (rc != QK_OK)
        return rc;
    /* A device seen before by file keeps its events and acknowledgement. */
    sqlite3_stmt *st = prep(s, "INSERT INTO devices(id, public_key, acked_seq, last_seen_ms,"
                               " branch_id, name, token_hash, enrolled_ms, member_id)"
                               " VALUES (?1,?2,0,?3,?4,?5,?6,?3,NULLIF(?7,'')) ON CONFLICT(id) DO UPDATE SET"
                               " public_key = ?2, branch_id = ?4, name = ?5, token_hash = ?6,"
                               " enrolled_ms = ?3, revoked_ms = NULL, member_id = NULLIF(?7,'')");
    if (!st)
        return QK_EIO;
    text(st, 1, d->id);
    text(st, 2, pem);
    sqlite3_bind_int64(st, 3, qk__store_now(s));
    text(st, 4, d->branch);
    text(st, 5, d->name);
    text(st, 6, token_hash);
    text(st, 7, d->member);
    return run(s, st, "devices", 1);
}

static int device_row(qk_store *s, sqlite3_stmt *st, qk_device_rec *d)
{
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        copy_col(d->id, sizeof d->id, st, 0);
        copy_col(d->branch, sizeof d->branch, st, 1);
        copy_col(d->name, sizeof d->name, st, 2);
        d->revoked = sqlite3_column_type(st, 3) != SQLITE_NULL;
        d->acked_seq = sqlite3_column_int64(st, 4);
        copy_col(d->member, sizeof d->member, st, 5);
    }
    int rc = step == SQLITE_ROW ? QK_OK : step == SQLITE_DONE ? QK_ENOTFOUND : fail(s, "devices");
    sqlite3_reset(st);
    return rc;
}

#define DEVICE_COLS "SELECT id, branch_id, name, revoked_ms, acked_seq, member_id FROM devices "

static int device_auth(qk_store *s, const char *token_hash, qk_device_rec *d)
{
    /* every device request asks: prepared once per connection */
    sqlite3_stmt *st = cached(s, S_DEVICE_AUTH, DEVICE_COLS "WHERE token_hash = ?");
    if (!st)
        return QK_EIO;
    text(st, 1, token_hash);
    return device_row(s, st, d);
}

static int device_get(qk_store *s, const char *id, qk_device_rec *d)
{
    sqlite3_stmt *st = cached(s, S_DEVICE_GET, DEVICE_COLS "WHERE id = ?");
    if (!st)
        return QK_EIO;
    text(st, 1, id);
    return device_row(s, st, d);
}

static int device_revoke(qk_store *s, const char *id)
{
    sqlite3_stmt *st = prep(s, "UPDATE devices SET revoked_ms = ?, token_hash = NULL WHERE id = ?");
    if (!st)
        return QK_EIO;
    sqlite3_bind_int64(st, 1, qk__store_now(s));
    text(st, 2, id);
    int rc = run(s, st, "devices", 1);
    return rc == QK_OK && sqlite3_changes(db_of(s)) == 0 ? QK_ENOTFOUND : rc;
}

/* The highest seq a device sent, held or held apart (NULL: none). */
#define LAST_IN(t) "(SELECT max(seq) FROM " t " e WHERE e.device_id = d.id)"

static int device_list(qk_store *s, const char *branch, json_t **out)
{
    sqlite3_stmt *st = prep(s, "SELECT id, branch_id AS branch, name, acked_seq, last_seen_ms,"
                               " enrolled_ms, revoked_ms,"
                               " coalesce(max(" LAST_IN("events") ", " LAST_IN("events_apart") "), "
                               LAST_IN("events") ", " LAST_IN("events_apart") ") AS last_seq"
                               " FROM devices d WHERE ?1 IS NULL OR branch_id = ?1 ORDER BY id");
    if (!st)
        return QK_EIO;
    text(st, 1, branch);
    return rows_json(s, st, out);
}

static int throttle(qk_store *s, const char *key, int64_t now_ms, int64_t window_ms, int add,
                    int *n)
{
    sqlite3_stmt *st;
    if (add) {
        st = prep(s, "INSERT INTO throttle(key, window_start_ms, count) VALUES (?1, ?2, ?3)"
                     " ON CONFLICT(key) DO UPDATE SET count = CASE WHEN window_start_ms <= ?2 - ?4"
                     " THEN ?3 ELSE count + ?3 END, window_start_ms = CASE WHEN window_start_ms"
                     " <= ?2 - ?4 THEN ?2 ELSE window_start_ms END");
        if (!st)
            return QK_EIO;
        text(st, 1, key);
        sqlite3_bind_int64(st, 2, now_ms);
        sqlite3_bind_int(st, 3, add);
        sqlite3_bind_int64(st, 4, window_ms);
        int rc = run(s, st, "throttle", 1);
        if (rc != QK_OK)
            return rc;
    }
    st = prep(s, "SELECT CASE WHEN window_start_ms > ?2 - ?3 THEN count ELSE 0 END"
                 " FROM throttle WHERE key = ?1");
    if (!st)
        return QK_EIO;
    text(st, 1, key);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, window_ms);
    *n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return QK_OK;
}

static int entries(qk_store *s, const char *competition, const char *branch, json_t **rows,
                   int64_t *guests, int64_t *unscored)
{
    sqlite3_stmt *st = prep(s, "SELECT a.member_id, m.name, m.branch_id AS branch, m.dept,"
                               " a.server_points AS points, a.answer_ms, a.finished_ms, a.flagged,"
                               " a.mismatch, a.device_id FROM attempt_scores a"
                               " JOIN members m ON m.id = a.member_id"
                               " WHERE a.competition = ?1 AND a.server_points IS NOT NULL"
                               " AND (?2 IS NULL OR m.branch_id = ?2) AND a.outside_window = 0"
                               " AND a.attempt_id = (SELECT b.attempt_id FROM attempt_scores b"
                               "  WHERE b.competition = ?1 AND b.member_id = a.member_id"
                               "  AND b.outside_window = 0 ORDER BY b.finished_ms, b.attempt_id LIMIT 1)");
    if (!st)
        return QK_EIO;
    text(st, 1, competition);
    text(st, 2, branch);
    int rc = rows_json(s, st, rows);
    *guests = *unscored = 0;
    if (rc == QK_OK && (st = prep(s, "SELECT coalesce(sum(member_id IS NULL), 0),"
                                     " coalesce(sum(member_id IS NOT NULL AND (server_points IS NULL"
                                     " OR outside_window)), 0)"
                                     " FROM attempt_scores WHERE competition = ?1")) != NULL) {
        text(st, 1, competition);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *guests = sqlite3_column_int64(st, 0);
            *unscored = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
    }
    return rc;
}

static int competition_put(qk_store *s, const char *id, const char *bundle_id, const char *spec,
                           const char *branch, const char *by)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO competitions(id, bundle_id, spec, branch_id, published_by,"
                               " published_ms) VALUES (?,?,?,?,?,?)");
    if (!st)
        return QK_EIO;
    text(st, 1, id);
    text(st, 2, bundle_id);
    text(st, 3, spec);
    text(st, 4, branch);
    text(st, 5, by);
    sqlite3_bind_int64(st, 6, qk__store_now(s));
    return run(s, st, "competitions", 1);
}

static int competition_list(qk_store *s, const char *branch, json_t **out)
{
    /* branch NULL: every competition (an admin); else those for the branch or all. */
    sqlite3_stmt *st = prep(s, "SELECT id, bundle_id, spec, branch_id AS branch, published_by,"
                               " published_ms FROM competitions WHERE ?1 IS NULL OR branch_id IS NULL"
                               " OR branch_id = ?1 ORDER BY published_ms");
    if (!st)
        return QK_EIO;
    text(st, 1, branch);
    return rows_json(s, st, out);
}

static int bundle_put(qk_store *s, const qk_published *p, const void *data, size_t len)
{
    if ((size_t)p->size != len)
        return QK_EINVAL;
    int rc = begin(s);
    if (rc != QK_OK)
        return rc;
    /* Checked again under the write lock: another publish of the same
     * version may have come first (the same bytes: nothing to do). */
    sqlite3_stmt *st = prep(s, "SELECT sha256 FROM bundles WHERE id = ? AND version = ? AND" HELD);
    if (!st) {
        rollback(s);
        return QK_EIO;
    }
    text(st, 1, p->id);
    text(st, 2, p->version);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *had = (const char *)sqlite3_column_text(st, 0);
        rc = had && strcmp(had, p->sha256) == 0 ? QK_OK : QK_EEXISTS;
        sqlite3_finalize(st);
        rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        rc = fail(s, "bundles");
        rollback(s);
        return rc;
    }
    /* A row whose bytes an upgrade could not find is taken over. */
    st = prep(s, "INSERT OR REPLACE INTO bundles(id, version, title, sha256, key_id,"
                               " file, size, published_ms, published_by) VALUES (?,?,?,?,?,'',?,?,?)");
    if (!st)
        rc = QK_EIO;
    if (rc == QK_OK) {
        text(st, 1, p->id);
        text(st, 2, p->version);
        text(st, 3, p->title);
        text(st, 4, p->sha256);
        text(st, 5, p->key_id);
        sqlite3_bind_int64(st, 6, p->size);
        sqlite3_bind_int64(st, 7, p->published_ms);
        text(st, 8, p->by);
        rc = run(s, st, "bundles", 1);
    }
    if (rc == QK_OK)
        rc = put_chunks(s, p->id, p->version, data, len);
    if (rc == QK_OK)
        return commit(s);
    rollback(s);
    return rc;
}

static int bundle_list(qk_store *s, json_t **out)
{
    sqlite3_stmt *st = prep(s, "SELECT id, version, title, sha256, key_id, size, published_ms"
                               " FROM bundles WHERE" HELD " ORDER BY id, published_ms");
    return st ? rows_json(s, st, out) : QK_EIO;
}

static int branch_bundle(qk_store *s, const char *branch, char *id, size_t idn)
{
    sqlite3_stmt *st = prep(s, "SELECT bundles.id FROM bundles JOIN users ON users.name = bundles.published_by"
                               " WHERE users.role = 'leader' AND users.branch_id = ? AND" HELD
                               " ORDER BY published_ms DESC LIMIT 1");
    if (!st)
        return QK_EIO;
    text(st, 1, branch);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        copy_col(id, idn, st, 0);
    int rc = step == SQLITE_ROW ? QK_OK : step == SQLITE_DONE ? QK_ENOTFOUND : fail(s, "bundles");
    sqlite3_finalize(st);
    return rc;
}

static int bundle_get(qk_store *s, const char *id, const char *version, qk_published *p)
{
    sqlite3_stmt *st = prep(s, "SELECT id, version, title, sha256, key_id, size, published_ms,"
                               " published_by FROM bundles WHERE id = ?1 AND (version = ?2 OR"
                               " (?2 IS NULL)) AND" HELD " ORDER BY published_ms DESC LIMIT 1");
    if (!st)
        return QK_EIO;
    text(st, 1, id);
    text(st, 2, version);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        copy_col(p->id, sizeof p->id, st, 0);
        copy_col(p->version, sizeof p->version, st, 1);
        copy_col(p->title, sizeof p->title, st, 2);
        copy_col(p->sha256, sizeof p->sha256, st, 3);
        copy_col(p->key_id, sizeof p->key_id, st, 4);
        p->size = sqlite3_column_int64(st, 5);
        p->published_ms = sqlite3_column_int64(st, 6);
        copy_col(p->by, sizeof p->by, st, 7);
    }
    int rc = step == SQLITE_ROW ? QK_OK : step == SQLITE_DONE ? QK_ENOTFOUND : fail(s, "bundles");
    sqlite3_finalize(st);
    return rc;
}

static int bundle_missing(qk_store *s, json_t **out)
{
    sqlite3_stmt *st = prep(s, "SELECT id, version, file FROM bundles WHERE file <> '' AND NOT" HELD
                               " ORDER BY id, version");
    return st ? rows_json(s, st, out) : QK_EIO;
}

static int bundle_adopt(qk_store *s, const char *dir, size_t *taken)
{
    *taken = 0;
    int rc = begin(s);
    if (rc != QK_OK)
        return rc;
    if ((rc = adopt_files(s, dir, taken)) == QK_OK)
        return commit(s);
    rollback(s);
    return rc;
}

static int bundle_read(qk_store *s, const char *id, const char *version, int64_t off, void *buf,
                       size_t len)
{
    if (off < 0)
        return QK_EINVAL;
    if (len == 0)
        return QK_OK;
    sqlite3_stmt *st = prep(s, "SELECT n, data FROM bundle_chunks WHERE id = ? AND version = ?"
                               " AND n BETWEEN ? AND ? ORDER BY n");
    if (!st)
        return QK_EIO;
    uint64_t from = (uint64_t)off, to = from + len; /* [from, to) */
    text(st, 1, id);
    text(st, 2, version);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(from / QK_BUNDLE_CHUNK));
    sqlite3_bind_int64(st, 4, (sqlite3_int64)((to - 1) / QK_BUNDLE_CHUNK));
    uint64_t at = from; /* the next byte wanted */
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t start = (uint64_t)sqlite3_column_int64(st, 0) * QK_BUNDLE_CHUNK;
        const unsigned char *data = sqlite3_column_blob(st, 1);
        uint64_t n = (uint64_t)sqlite3_column_bytes(st, 1);
        if (start > at || start + n <= at)
            break; /* a chunk missing or short */
        uint64_t end = start + n < to ? start + n : to;
        memcpy((unsigned char *)buf + (at - from), data + (at - start), (size_t)(end - at));
        at = end;
        if (at == to)
            break;
    }
    int rc = at == to ? QK_OK : step == SQLITE_ROW || step == SQLITE_DONE ? QK_ECORRUPT
                                                                          : fail(s, "bundle_chunks");
    if (rc == QK_ECORRUPT)
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, s->where, "bundle_chunks: short");
    sqlite3_finalize(st);
    return rc;
}

static int backup(qk_store *s, const char *dest)
{
    sqlite3 *to = NULL;
    int rc = QK_OK;
    /* A copy of everything, the server's signing key included: its owner's only. */
    int fd = open(dest, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        fchmod(fd, 0600);
        close(fd);
    }
    if (sqlite3_open(dest, &to) != SQLITE_OK) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, dest, to ? sqlite3_errmsg(to) : "?");
        sqlite3_close(to);
        return QK_EIO;
    }
    sqlite3_backup *b = sqlite3_backup_init(to, "main", db_of(s), "main");
    if (!b) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, dest, sqlite3_errmsg(to));
        rc = QK_EIO;
    } else {
        /* Small steps, so writers are held up only briefly. */
        int step;
        while ((step = sqlite3_backup_step(b, 256)) == SQLITE_OK || step == SQLITE_BUSY ||
               step == SQLITE_LOCKED)
            sqlite3_sleep(step == SQLITE_OK ? 0 : 20);
        sqlite3_backup_finish(b);
        if (step != SQLITE_DONE) {
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, dest, sqlite3_errstr(step));
            rc = QK_EIO;
        }
    }
    sqlite3_close(to);
    return rc;
}

static void turn_take(void *arg)
{
    file_lock_take(arg);
}

static void turn_give(void *arg)
{
    file_lock_give(arg);
}

static int stats(qk_store *s, const char *branch, const qk_stats_query *q, qk_lang lang, json_t **out, char *msg,
                 size_t msglen)
{
    sq *qs = s->impl;
    qk__write_turn turn = {turn_take, turn_give, qs->lock};
    /* (inside a transaction of this connection the turn is held already) */
    return qk__stats_sqlite(db_of(s), qs->lock && !qs->held ? &turn : NULL, branch, q, lang, out, msg, msglen);
}

static int checkpoint(qk_store *s, int now)
{
    if (!now)
        return exec(s, "PRAGMA wal_autocheckpoint=0");
    int rc = sqlite3_wal_checkpoint_v2(db_of(s), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? QK_OK : fail(s, "checkpoint");
}

static void close_store(qk_store *s)
{
    sq *q = s->impl;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_close(q->db);
    q->depth = 0;
    settle(q);
    file_lock_put(q->lock);
    free(q);
    s->impl = NULL;
}

/* The server's figure for a member: the points of each day (replacing what
 * was there) and the totals, in one transaction. */
static int by_day(const void *a, const void *b)
{
    int64_t x = ((const qk_points_day *)a)->day, y = ((const qk_points_day *)b)->day;
    return x < y ? -1 : x > y;
}

/* The member's days as the store holds them, in order (*have, caller frees). */
static int points_days(qk_store *s, const char *member, qk_points_day **have, size_t *n)
{
    *have = NULL;
    *n = 0;
    sqlite3_stmt *st = cached(s, S_POINTS_DAYS, "SELECT day, points FROM member_points WHERE member_id = ?"
                                                " ORDER BY day");
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    size_t cap = 0;
    int rc = QK_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            qk_points_day *v = realloc(*have, (cap = cap ? 2 * cap : 64) * sizeof *v);
            if (!v) {
                rc = QK_ENOMEM;
                break;
            }
            *have = v;
        }
        (*have)[*n].day = sqlite3_column_int64(st, 0);
        (*have)[(*n)++].points = sqlite3_column_int64(st, 1);
    }
    if (rc == QK_OK && step != SQLITE_DONE)
        rc = fail(s, "member_points");
    sqlite3_reset(st);
    return rc;
}

static int point_day_set(qk_store *s, const char *member, int64_t day, int64_t points)
{
    sqlite3_stmt *st = cached(s, S_POINTS_SET, "INSERT OR REPLACE INTO member_points(member_id, day, points)"
                                               " VALUES (?, ?, ?)");
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    sqlite3_bind_int64(st, 2, day);
    sqlite3_bind_int64(st, 3, points);
    return run(s, st, "points", 0);
}

static int point_day_drop(qk_store *s, const char *member, int64_t day)
{
    sqlite3_stmt *st = cached(s, S_POINTS_DEL, "DELETE FROM member_points WHERE member_id = ? AND day = ?");
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    sqlite3_bind_int64(st, 2, day);
    return run(s, st, "points", 0);
}

/* The member's points by day as the judge found them: only the days that
 * changed are written (a batch touches a day or two of a member's history,
 * which grows by a row a day of study; rewriting it all made every batch
 * slower the longer the server ran). */
static int points_put(qk_store *s, const char *member, const qk_points_day *days, size_t n,
                      int64_t server_total, const char *bundle_id, const char *bundle_version)
{
    qk_points_day *have = NULL, *want = malloc((n ? n : 1) * sizeof *want);
    size_t nh = 0;
    int rc = want ? begin(s) : QK_ENOMEM, begun = rc == QK_OK;
    if (rc == QK_OK) {
        if (n)
            memcpy(want, days, n * sizeof *want);
        qsort(want, n, sizeof *want, by_day);
        rc = points_days(s, member, &have, &nh);
    }
    for (size_t i = 0, j = 0; rc == QK_OK && (i < nh || j < n);) {
        if (j == n || (i < nh && have[i].day < want[j].day)) {
            rc = point_day_drop(s, member, have[i++].day);
        } else if (i == nh || want[j].day < have[i].day) {
            rc = point_day_set(s, member, want[j].day, want[j].points);
            j++;
        } else {
            if (have[i].points != want[j].points)
                rc = point_day_set(s, member, want[j].day, want[j].points);
            i++;
            j++;
        }
    }
    free(have);
    free(want);
    sqlite3_stmt *st = NULL;
    if (rc == QK_OK &&
        !(st = cached(s, S_POINTS_JUDGED, "INSERT OR REPLACE INTO points_judged(member_id, server_total,"
                                          " bundle_id, bundle_version, judged_ms) VALUES (?1, ?2, ?3, ?4, ?5)")))
        rc = QK_EIO;
    if (rc == QK_OK) {
        text(st, 1, member);
        sqlite3_bind_int64(st, 2, server_total);
        text(st, 3, bundle_id);
        text(st, 4, bundle_version);
        sqlite3_bind_int64(st, 5, qk__store_now(s));
        rc = run(s, st, "points", 0);
    }
    if (rc == QK_OK)
        rc = commit(s);
    else if (begun)
        rollback(s);
    return rc;
}

/* A device's own awards to a member (the sum of its award and correction
 * events) against what the rules give for its events. A sum needs no order:
 * the claim kept adds the events stored since its mark, up to upto (a claim
 * already past upto, kept meanwhile by another connection, stays). */
static int points_claim(qk_store *s, const char *member, const char *device, int64_t expected, int64_t upto)
{
    sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO points_claims(member_id, device_id, claimed,"
                               " expected, judged_ms, mark) SELECT ?1, ?2,"
                               " coalesce((SELECT claimed FROM points_claims"
                               "  WHERE member_id = ?1 AND device_id = ?2 AND mark > 0), 0)"
                               " + (SELECT coalesce(sum(json_extract(payload, '$.amount')), 0) FROM events"
                               "  WHERE member_id = ?1 AND device_id = ?2"
                               "  AND kind IN ('points.award', 'points.correction')"
                               "  AND rowid > coalesce((SELECT mark FROM points_claims"
                               "   WHERE member_id = ?1 AND device_id = ?2), 0) AND rowid <= ?5), ?3, ?4, ?5"
                               " WHERE NOT EXISTS (SELECT 1 FROM points_claims"
                               "  WHERE member_id = ?1 AND device_id = ?2 AND mark > ?5)");
    if (!st)
        return QK_EIO;
    text(st, 1, member);
    text(st, 2, device);
    sqlite3_bind_int64(st, 3, expected);
    sqlite3_bind_int64(st, 4, qk__store_now(s));
    sqlite3_bind_int64(st, 5, upto);
    return run(s, st, "points", 1);
}

/* The server's signing key: the one kept, or pem kept as it (first one wins). */
static int server_key(qk_store *s, const char *pem, char **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (pem) {
        if (!(st = prep(s, "INSERT OR IGNORE INTO server_key(id, private_pem, created_ms)"
                           " VALUES (1, ?, ?)")))
            return QK_EIO;
        text(st, 1, pem);
        sqlite3_bind_int64(st, 2, qk__store_now(s));
        int rc = run(s, st, "server_key", 1);
        if (rc != QK_OK)
            return rc;
    }
    if (!(st = prep(s, "SELECT private_pem FROM server_key WHERE id = 1")))
        return QK_EIO;
    int step = sqlite3_step(st);
    int rc = step == SQLITE_ROW ? QK_OK : step == SQLITE_DONE ? QK_ENOTFOUND : fail(s, "server_key");
    if (rc == QK_OK && !(*out = strdup((const char *)sqlite3_column_text(st, 0))))
        rc = QK_ENOMEM;
    sqlite3_finalize(st);
    return rc;
}

const qk_store_ops qk__sqlite_store = {
    .server_key = server_key,
    .points_claim = points_claim,
    .points_put = points_put,
    .begin = begin,
    .commit = commit,
    .rollback = rollback,
    .device_key = device_key,
    .set_device = set_device,
    .put_event = put_event,
    .held_seqs = held_seqs,
    .member_bundle = member_bundle,
    .waiting = waiting,
    .count = count,
    .put_score = put_score,
    .attempt_events = attempt_events,
    .competition_spec = competition_spec,
    .point_events = point_events,
    .events_mark = events_mark,
    .points_fold_get = points_fold_get,
    .points_fold_put = points_fold_put,
    .points_fold_fits = points_fold_fits,
    .member_event = member_event,
    .branch_add = branch_add,
    .branch_list = branch_list,
    .user_add = user_add,
    .user_get = user_get,
    .user_count = user_count,
    .token_put = token_put,
    .token_user = token_user,
    .member_put = member_put,
    .roster = roster,
    .code_put = code_put,
    .code_take = code_take,
    .device_enrol = device_enrol,
    .device_auth = device_auth,
    .device_get = device_get,
    .device_revoke = device_revoke,
    .device_list = device_list,
    .throttle = throttle,
    .entries = entries,
    .competition_put = competition_put,
    .competition_list = competition_list,
    .bundle_put = bundle_put,
    .bundle_list = bundle_list,
    .branch_bundle = branch_bundle,
    .bundle_get = bundle_get,
    .bundle_read = bundle_read,
    .bundle_missing = bundle_missing,
    .bundle_adopt = bundle_adopt,
    .backup = backup,
    .stats = stats,
    .checkpoint = checkpoint,
    .close = close_store,
};
