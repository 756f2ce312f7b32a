/* store_pg.c: the PostgreSQL backend of the server's store (issue 19,
 * docs/deploy.md), for a district's server: any number of `quizkit serve`
 * instances on one database, no state of theirs outside it.
 *
 * The same tables as the SQLite store, with PostgreSQL's types; text
 * columns compare and sort byte by byte (COLLATE "C"), as SQLite's do, so
 * replay order and every listing are the same on both. What a device sent
 * is never cast in SQL (a forged payload must not fail a batch): values
 * read from payloads come back as text and are converted here.
 *
 * Writers take turns: every write transaction first takes one advisory lock
 * of the database (pg_advisory_xact_lock), so writes are serialized across
 * connections and instances exactly as SQLite's one writer serializes them.
 * That keeps what the rest of the server relies on: a batch all or nothing,
 * each event once, and events' row numbers growing in commit order (the
 * points judge's marks). Reads take no lock. libpq is opened on first use
 * (netlib.h), like libcurl, so a member's `quizkit play` never maps it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qk_server.h" /* QK_CODE_* */
#include "store.h"
#include "sync_msg.h"

#if QK_WITH_POSTGRESQL

#include <libpq-fe.h>

#include "netlib.h"
#include "store_pg.h"

/* The schema, version 1: the SQLite store's twelve migrations as one.
 * T: text compared as bytes. */
#define T "text COLLATE \"C\""
static const char *const migrations[] = {
    "CREATE TABLE events(rowno bigint GENERATED ALWAYS AS IDENTITY UNIQUE,\n"
    "  id " T " PRIMARY KEY, device_id " T " NOT NULL, seq bigint NOT NULL,\n"
    "  member_id " T ", bundle_id " T ", bundle_version " T ", kind " T " NOT NULL,\n"
    "  attempt_id " T ", payload text NOT NULL, created_ms bigint NOT NULL,\n"
    "  received_ms bigint NOT NULL, UNIQUE(device_id, seq));\n"
    "CREATE INDEX events_attempt ON events(attempt_id, kind);\n"
    "CREATE INDEX events_member_kind ON events(member_id, kind);\n"
    "CREATE TABLE events_apart(\n"
    "  id " T " PRIMARY KEY, device_id " T " NOT NULL, seq bigint NOT NULL,\n"
    "  member_id " T ", bundle_id " T ", bundle_version " T ", kind " T " NOT NULL,\n"
    "  attempt_id " T ", payload text NOT NULL, created_ms bigint NOT NULL,\n"
    "  received_ms bigint NOT NULL, device_branch " T " NOT NULL, member_branch " T " NOT NULL,\n"
    "  UNIQUE(device_id, seq));\n"
    "CREATE TABLE branches(id " T " PRIMARY KEY, name text NOT NULL, created_ms bigint NOT NULL);\n"
    "CREATE TABLE devices(id " T " PRIMARY KEY, public_key text NOT NULL,\n"
    "  acked_seq bigint NOT NULL, last_seen_ms bigint NOT NULL, branch_id " T ",\n"
    "  name text NOT NULL DEFAULT '', token_hash " T " UNIQUE, enrolled_ms bigint,\n"
    "  revoked_ms bigint, member_id " T ");\n"
    "CREATE TABLE attempt_scores(attempt_id " T " PRIMARY KEY,\n"
    "  device_score integer, server_score integer, max integer, mismatch integer NOT NULL,\n"
    "  note text NOT NULL, rescored_ms bigint NOT NULL, member_id " T ", device_id " T ",\n"
    "  finished_ms bigint, competition " T ", server_points integer, device_points integer,\n"
    "  answer_ms bigint, flagged integer NOT NULL DEFAULT 0,\n"
    "  outside_window integer NOT NULL DEFAULT 0);\n"
    "CREATE INDEX attempt_scores_competition ON attempt_scores(competition, member_id, "
    "finished_ms);\n"
    "CREATE INDEX attempt_scores_doubt ON attempt_scores(finished_ms)\n"
    "  WHERE mismatch <> 0 OR flagged <> 0 OR outside_window <> 0;\n"
    "CREATE TABLE users(name " T " PRIMARY KEY, role " T
    " NOT NULL CHECK(role IN ('admin','leader')),\n"
    "  branch_id " T
    " REFERENCES branches(id), pw_hash text NOT NULL, created_ms bigint NOT NULL);\n"
    "CREATE TABLE sessions(token_hash " T " PRIMARY KEY, user_name " T
    " NOT NULL REFERENCES users(name),\n"
    "  expires_ms bigint NOT NULL);\n"
    "CREATE TABLE members(id " T " PRIMARY KEY, branch_id " T " NOT NULL REFERENCES branches(id),\n"
    "  name text NOT NULL, dept text NOT NULL DEFAULT '', pin_salt text NOT NULL,\n"
    "  pin_hash text NOT NULL, pin_iter integer NOT NULL, roster_seq bigint NOT NULL,\n"
    "  updated_ms bigint NOT NULL);\n"
    "CREATE INDEX members_roster ON members(branch_id, roster_seq);\n"
    "CREATE TABLE enrol_codes(code_hash " T " PRIMARY KEY,\n"
    "  branch_id " T " NOT NULL REFERENCES branches(id), created_by " T " NOT NULL,\n"
    "  expires_ms bigint NOT NULL, used_ms bigint, device_id " T ", kind " T ");\n"
    "CREATE TABLE throttle(key " T " PRIMARY KEY, window_start_ms bigint NOT NULL,\n"
    "  count integer NOT NULL);\n"
    "CREATE TABLE bundles(id " T " NOT NULL, version " T " NOT NULL, title text NOT NULL,\n"
    "  sha256 " T " NOT NULL, key_id " T " NOT NULL, file text NOT NULL, size bigint NOT NULL,\n"
    "  published_ms bigint NOT NULL, published_by " T " NOT NULL, PRIMARY KEY(id, version));\n"
    "CREATE TABLE bundle_chunks(id " T " NOT NULL, version " T " NOT NULL,\n"
    "  n bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY(id, version, n));\n"
    "CREATE TABLE competitions(id " T " PRIMARY KEY, bundle_id " T
    " NOT NULL, spec text NOT NULL,\n"
    "  branch_id " T " REFERENCES branches(id), published_by " T " NOT NULL,\n"
    "  published_ms bigint NOT NULL);\n"
    "CREATE TABLE member_points(member_id " T " NOT NULL, day bigint NOT NULL,\n"
    "  points bigint NOT NULL, PRIMARY KEY(member_id, day));\n"
    "CREATE TABLE points_judged(member_id " T " PRIMARY KEY, server_total bigint NOT NULL,\n"
    "  bundle_id " T ", bundle_version " T ", judged_ms bigint NOT NULL);\n"
    "CREATE TABLE points_claims(member_id " T " NOT NULL, device_id " T " NOT NULL,\n"
    "  claimed bigint NOT NULL, expected bigint NOT NULL, judged_ms bigint NOT NULL,\n"
    "  mark bigint NOT NULL DEFAULT 0, PRIMARY KEY(member_id, device_id));\n"
    "CREATE TABLE points_folds(member_id " T " NOT NULL, device_id " T " NOT NULL,\n"
    "  bundle_id " T " NOT NULL, bundle_version " T " NOT NULL, mark bigint NOT NULL,\n"
    "  last_ms bigint, last_device " T ", last_seq bigint, state bytea NOT NULL,\n"
    "  PRIMARY KEY(member_id, device_id));\n"
    "CREATE TABLE server_key(id integer PRIMARY KEY CHECK (id = 1), private_pem text NOT NULL,\n"
    "  created_ms bigint NOT NULL);\n",
    /* 2: a score's row number, new each time it is written (as the SQLite
     * store's INSERT OR REPLACE gives it a new rowid): the mark the
     * statistics' roll-ups (stats_pg.c, which makes their tables) take
     * scores in by */
    "CREATE SEQUENCE attempt_scores_rowno;\n"
    "ALTER TABLE attempt_scores ADD COLUMN rowno bigint NOT NULL\n"
    "  DEFAULT nextval('attempt_scores_rowno');\n"
    "CREATE UNIQUE INDEX attempt_scores_by_rowno ON attempt_scores(rowno);\n",
};
#undef T
#define N_MIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

/* The advisory lock every write transaction takes first (store.h). */
#define STR_(x) #x
#define STR(x) STR_(x)
#define WRITE_LOCK "SELECT pg_advisory_xact_lock(" STR(QK__PG_WRITE_LOCK) ")"

/* Statements prepared once per connection (named "qk<n>"). */
enum {
    S_DEVICE_KEY,
    S_SET_DEVICE,
    S_PUT_EVENT,
    S_PUT_RUN,
    S_PUT_APART,
    S_SAME_EVENT,
    S_HELD,
    S_PUT_SCORE,
    S_MEMBER_BRANCH,
    S_MEMBER_PIN,
    S_MEMBER_NEW,
    S_ATTEMPT_EVENTS,
    S_ATTEMPT_COMP,
    S_POINT_EVENTS,
    S_FOLD_GET,
    S_FOLD_PUT,
    S_FOLD_FITS,
    S_EVENTS_MARK,
    S_TOKEN_USER,
    S_DEVICE_AUTH,
    S_DEVICE_GET,
    S_POINTS_DAYS,
    S_POINTS_SET,
    S_POINTS_DEL,
    S_POINTS_JUDGED,
    S_COUNT
};

typedef struct pg {
    PGconn *c;
    unsigned char prepared[S_COUNT];
    int depth; /* open transactions: the outermost is BEGIN, the inner ones savepoints */
    int memo;  /* the last member_branch answer (see store_sqlite.c) */
    char memo_member[64], memo_branch[QK_NAME_MAX + 1];
} pg;

/* A statement's parameters: text, a number (as text) or bytes. */
#define MAX_ARGS 16
typedef struct args {
    int n;
    const char *v[MAX_ARGS];
    int len[MAX_ARGS], fmt[MAX_ARGS];
    char num[MAX_ARGS][24];
    /* instead, any number of texts of the given types (stats_pg.c) */
    const char *const *many;
    const Oid *types;
} args;

static void a_text(args *a, const char *v)
{
    a->v[a->n] = v;
    a->len[a->n] = 0;
    a->fmt[a->n++] = 0;
}

static void a_int(args *a, int64_t x)
{
    snprintf(a->num[a->n], sizeof a->num[a->n], "%lld", (long long)x);
    a_text(a, a->num[a->n]);
}

static void a_bytes(args *a, const void *p, size_t n)
{
    a->v[a->n] = p;
    a->len[a->n] = (int)n;
    a->fmt[a->n++] = 1;
}

/* The store's message: PostgreSQL's reason (its first line: the rest is
 * context), then the start of the statement. */
static int fail_with(qk_store *s, const char *what, const char *why)
{
    char line[400];
    if (!why || !*why)
        why = s->impl ? PQerrorMessage(((pg *)s->impl)->c)
                      : NULL; /* the connection's own (lost, ...) */
    int wn = (int)strcspn(why ? why : "?", "\n"), sn = (int)strcspn(what, "\n(");
    snprintf(line, sizeof line, "%.*s (%.*s%s)", wn, why ? why : "?", sn > 60 ? 60 : sn, what,
             sn > 60 ? "..." : "");
    qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, s->where, line);
    return QK_EIO;
}

static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message; /* NOTICEs (IF NOT EXISTS ...) are not the user's business */
}

/* Runs sql (prepared once as statement `which` when which >= 0) and keeps
 * its rows in *out (caller clears; NULL: not wanted). QK_OK, QK_EEXISTS for
 * a constraint (SQLSTATE class 23, as SQLite's SQLITE_CONSTRAINT), else
 * QK_EIO with s->err set. */
/* A connection the server dropped (restarted, failed over, an idle
 * connection cut) is made again; the statements it had prepared are gone
 * with it. */
static void reconnect(pg *p)
{
    PQreset(p->c);
    memset(p->prepared, 0, sizeof p->prepared);
    if (PQstatus(p->c) == CONNECTION_OK) {
        PQsetNoticeProcessor(p->c, quiet, NULL);
        PQclear(PQexec(p->c, "SET client_min_messages = warning; SET extra_float_digits = 3"));
    }
}

/* One try of q()'s statement: its result (NULL only when out of memory). */
static PGresult *run(qk_store *s, int which, const char *sql, const args *a)
{
    pg *p = s->impl;
    if (which < 0 && a->many)
        return PQexecParams(p->c, sql, a->n, a->types, a->many, NULL, NULL, 0);
    if (which < 0)
        return a->n ? PQexecParams(p->c, sql, a->n, NULL, a->v, a->len, a->fmt, 0)
                    : PQexec(p->c, sql); /* may be several statements (the schema) */
    char name[16];
    snprintf(name, sizeof name, "qk%d", which);
    if (!p->prepared[which]) {
        PGresult *r = PQprepare(p->c, name, sql, a->n, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            return r;
        PQclear(r);
        p->prepared[which] = 1;
    }
    return PQexecPrepared(p->c, name, a->n, a->v, a->len, a->fmt, 0);
}

static int q(qk_store *s, int which, const char *sql, const args *a, PGresult **out)
{
    pg *p = s->impl;
    static const args none;
    if (!a)
        a = &none;
    if (out)
        *out = NULL;
    /* Outside a transaction a lost connection is made again and the
     * statement tried once more (it can only be a read, or the BEGIN of a
     * write: nothing was done). Inside one, the transaction is lost with
     * the connection and the caller's write fails, as it must. */
    if (PQstatus(p->c) == CONNECTION_BAD && p->depth == 0)
        reconnect(p);
    PGresult *r = run(s, which, sql, a);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && PQstatus(p->c) == CONNECTION_BAD &&
        p->depth == 0) {
        PQclear(r);
        reconnect(p);
        r = run(s, which, sql, a);
        st = PQresultStatus(r);
    }
    int rc = QK_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (state && strncmp(state, "23", 2) == 0)
            rc = QK_EEXISTS;
        else
            rc = fail_with(s, sql, r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL);
    }
    if (rc == QK_OK && out)
        *out = r;
    else
        PQclear(r);
    return rc;
}

static int exec(qk_store *s, const char *sql)
{
    return q(s, -1, sql, NULL, NULL);
}

/* Rows a write changed. */
static long changed(PGresult *r)
{
    const char *n = r ? PQcmdTuples(r) : "";
    return *n ? strtol(n, NULL, 10) : 0;
}

static const char *val(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int64_t int_at(PGresult *r, int row, int col)
{
    const char *v = val(r, row, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

static void copy_at(char *dst, size_t n, PGresult *r, int row, int col)
{
    const char *v = val(r, row, col);
    snprintf(dst, n, "%s", v ? v : "");
}

/* A value read from a device's payload (->> text) as a number, as SQLite's
 * sqlite3_column_int64 reads json_extract's: true 1, false 0; otherwise the
 * integer its text begins with (a real is cut toward zero: ->> writes JSON
 * numbers out in full; a string such as "1e5" or "12abc" gives its leading
 * digits, "inf" or "abc" 0), saturating at the int64 limits. */
static int64_t json_num(const char *v)
{
    if (!v || strcmp(v, "false") == 0)
        return 0;
    if (strcmp(v, "true") == 0)
        return 1;
    while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
        v++;
    int neg = *v == '-';
    if (*v == '-' || *v == '+')
        v++;
    int64_t x = 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        int d = *v - '0';
        if (x > (INT64_MAX - d) / 10)
            return neg ? INT64_MIN : INT64_MAX;
        x = x * 10 + d;
    }
    return neg ? -x : x;
}

/* bytea as PostgreSQL sends it in text ("\x" and hex) into *out (malloc'd). */
static int unhex(const char *v, int vlen, unsigned char **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (vlen < 2 || v[0] != '\\' || v[1] != 'x' || (vlen - 2) % 2)
        return QK_ECORRUPT;
    size_t len = (size_t)(vlen - 2) / 2;
    unsigned char *b = malloc(len ? len : 1);
    if (!b)
        return QK_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        int hi = (unsigned char)v[2 + 2 * i], lo = (unsigned char)v[3 + 2 * i];
        hi = hi <= '9' ? hi - '0' : (hi | 0x20) - 'a' + 10;
        lo = lo <= '9' ? lo - '0' : (lo | 0x20) - 'a' + 10;
        if (hi < 0 || hi > 15 || lo < 0 || lo > 15) {
            free(b);
            return QK_ECORRUPT;
        }
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = b;
    *n = len;
    return QK_OK;
}

/* all with item appended (taken), or NULL (all freed) when either is
 * missing or it could not be; for rows read into an array. */
static json_t *appended(json_t *all, json_t *item)
{
    if (all && item && json_array_append_new(all, item) == 0)
        return all;
    if (!all)
        json_decref(item);
    json_decref(all);
    return NULL;
}

/* The end of a read into JSON: r cleared, *out all (QK_ENOMEM when NULL). */
static int rows_kept(PGresult *r, json_t *all, json_t **out)
{
    PQclear(r);
    *out = all;
    return all ? QK_OK : QK_ENOMEM;
}

/* Rows as a JSON array of objects named by the columns; integers as numbers. */
static int rows_json(PGresult *r, json_t **out)
{
    json_t *a = json_array();
    int rows = PQntuples(r), cols = PQnfields(r);
    for (int i = 0; a && i < rows; i++) {
        json_t *o = json_object();
        for (int c = 0; o && c < cols; c++) {
            const char *v = val(r, i, c);
            Oid t = PQftype(r, c);
            json_t *j = !v                              ? json_null()
                        : t == 20 || t == 21 || t == 23 ? json_integer(strtoll(v, NULL, 10))
                                                        : json_string(v);
            json_object_set_new(o, PQfname(r, c), j ? j : json_null());
        }
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    PQclear(r);
    *out = a;
    return a ? QK_OK : QK_ENOMEM;
}

static int query_json(qk_store *s, const char *sql, const args *a, json_t **out)
{
    PGresult *r;
    *out = NULL;
    int rc = q(s, -1, sql, a, &r);
    return rc == QK_OK ? rows_json(r, out) : rc;
}

/* --- transactions --- */

/* Transactions nest as the SQLite store's do: the outermost is a
 * transaction that first takes the write lock, the inner ones savepoints. */
static int begin(qk_store *s)
{
    pg *p = s->impl;
    p->memo = 0;
    if (p->depth && PQtransactionStatus(p->c) == PQTRANS_IDLE)
        p->depth = 0; /* the server ended it (the connection was lost) */
    if (p->depth) {
        int rc = exec(s, "SAVEPOINT qk_nested");
        p->depth += rc == QK_OK;
        return rc;
    }
    int rc = exec(s, "BEGIN");
    if (rc != QK_OK)
        return rc;
    p->depth = 1; /* from here a lost connection is a lost transaction: not tried again */
    if ((rc = exec(s, WRITE_LOCK)) != QK_OK) {
        exec(s, "ROLLBACK");
        p->depth = 0;
    }
    return rc;
}

static void rollback(qk_store *s)
{
    pg *p = s->impl;
    p->memo = 0;
    if (p->depth > 1) {
        exec(s, "ROLLBACK TO SAVEPOINT qk_nested");
        exec(s, "RELEASE SAVEPOINT qk_nested");
    } else {
        exec(s, "ROLLBACK");
    }
    if (p->depth > 0)
        p->depth--;
    if (PQtransactionStatus(p->c) == PQTRANS_IDLE)
        p->depth = 0;
}

static int commit(qk_store *s)
{
    pg *p = s->impl;
    p->memo = 0;
    /* A transaction a statement failed in: COMMIT would end it as a
     * rollback and say nothing. */
    if (PQtransactionStatus(p->c) == PQTRANS_INERROR) {
        rollback(s); /* (the savepoint alone, for an inner one) */
        return fail_with(s, "commit", "a statement of the transaction failed");
    }
    int rc = exec(s, p->depth > 1 ? "RELEASE SAVEPOINT qk_nested" : "COMMIT");
    if (rc == QK_OK && p->depth > 0)
        p->depth--;
    else if (rc != QK_OK)
        rollback(s);
    if (PQtransactionStatus(p->c) == PQTRANS_IDLE)
        p->depth = 0;
    return rc;
}

/* One write on its own: a transaction of its own (or a savepoint of the
 * caller's), so that it waits for the write lock and a failure undoes it. */
static int write1(qk_store *s, int which, const char *sql, const args *a, PGresult **out)
{
    int rc = begin(s);
    if (rc != QK_OK)
        return rc;
    rc = q(s, which, sql, a, out);
    if (rc == QK_OK && (rc = commit(s)) != QK_OK && out) {
        PQclear(*out);
        *out = NULL;
    } else if (rc != QK_OK) {
        rollback(s);
    }
    return rc;
}

/* --- opening: the schema --- */

static int schema(qk_store *s)
{
    PGresult *r;
    /* Up to date: opened without the lock (every worker thread of every
     * instance opens a connection). */
    int rc = q(s, -1, "SELECT to_regclass('qk_schema') IS NOT NULL", NULL, &r);
    int have_table = rc == QK_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (rc != QK_OK)
        return rc;
    if (have_table) {
        if ((rc = q(s, -1, "SELECT coalesce(max(version), 0) FROM qk_schema", NULL, &r)) != QK_OK)
            return rc;
        int64_t v = int_at(r, 0, 0);
        PQclear(r);
        if (v == N_MIGRATIONS)
            return QK_OK;
    }
    if ((rc = begin(s)) != QK_OK)
        return rc;
    /* A database that holds another program's tables is not taken over
     * (pg_class: information_schema shows only the tables this role may
     * use, and another program's may be hidden from it). */
    rc = q(s, -1,
           "SELECT (SELECT min(c.relname) FROM pg_class c WHERE c.relnamespace ="
           " current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
           " AND c.relname <> 'qk_schema'), to_regclass('qk_schema') IS NOT NULL",
           NULL, &r);
    char other[128] = "";
    if (rc == QK_OK && !PQgetisnull(r, 0, 0))
        copy_at(other, sizeof other, r, 0, 0);
    int ours = rc == QK_OK && strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    PQclear(r);
    if (rc == QK_OK && other[0] && !ours) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_PG_FOREIGN, s->where, other);
        rc = QK_EFORMAT;
    }
    if (rc == QK_OK)
        rc = exec(s, "CREATE TABLE IF NOT EXISTS qk_schema(version integer NOT NULL)");
    int64_t have = 0;
    if (rc == QK_OK &&
        (rc = q(s, -1, "SELECT coalesce(max(version), 0) FROM qk_schema", NULL, &r)) == QK_OK) {
        have = int_at(r, 0, 0);
        PQclear(r);
    }
    if (rc == QK_OK && (have < 0 || have > N_MIGRATIONS)) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, s->where, "schema version");
        rc = QK_EFORMAT;
    }
    for (int64_t m = have; rc == QK_OK && m < N_MIGRATIONS; m++) {
        args a = {0};
        a_int(&a, m + 1);
        rc = exec(s, migrations[m]);
        if (rc == QK_OK)
            rc = exec(s, "DELETE FROM qk_schema");
        if (rc == QK_OK)
            rc = q(s, -1, "INSERT INTO qk_schema(version) VALUES ($1::integer)", &a, NULL);
    }
    if (rc == QK_OK)
        return commit(s);
    rollback(s);
    return rc;
}

int qk__pg_store_open(qk_store *s, const char *conninfo)
{
    char why[400];
    if (qk__netlib_pq(s->lang, why, sizeof why) != QK_OK) {
        snprintf(s->err, sizeof s->err, "%s", why);
        return QK_EIO;
    }
    pg *p = calloc(1, sizeof *p);
    if (!p)
        return QK_ENOMEM;
    p->c = PQconnectdb(conninfo);
    if (!p->c || PQstatus(p->c) != CONNECTION_OK) {
        snprintf(why, sizeof why, "%s", p->c ? PQerrorMessage(p->c) : "out of memory");
        why[strcspn(why, "\n")] = '\0';
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, s->where, why);
        PQfinish(p->c);
        free(p);
        return QK_EIO;
    }
    PQsetNoticeProcessor(p->c, quiet, NULL);
    s->impl = p;
    /* doubles as text in full (stats_pg.c reads them back exactly) */
    int rc = exec(s, "SET client_min_messages = warning; SET extra_float_digits = 3");
    if (rc == QK_OK)
        rc = schema(s);
    return rc;
}

/* --- devices and events --- */

static int device_key(qk_store *s, const char *device_id, char **pem)
{
    *pem = NULL;
    args a = {0};
    a_text(&a, device_id);
    PGresult *r;
    int rc = q(s, S_DEVICE_KEY, "SELECT public_key FROM devices WHERE id = $1", &a, &r);
    if (rc == QK_OK && PQntuples(r) == 1 && !(*pem = strdup(PQgetvalue(r, 0, 0))))
        rc = QK_ENOMEM;
    PQclear(r);
    return rc;
}

static int set_device(qk_store *s, const char *device_id, const char *pem, int64_t acked_seq)
{
    args a = {0};
    a_text(&a, device_id);
    a_text(&a, pem ? pem : "");
    a_int(&a, acked_seq);
    a_int(&a, qk__store_now(s));
    return write1(s, S_SET_DEVICE,
                  "INSERT INTO devices(id, public_key, acked_seq, last_seen_ms)"
                  " VALUES ($1, $2, $3, $4) ON CONFLICT(id) DO UPDATE SET"
                  " acked_seq = GREATEST(devices.acked_seq, EXCLUDED.acked_seq), last_seen_ms = $4",
                  &a, NULL);
}

/* The columns an event is stored and compared by ($1..$10). */
static void event_args(args *a, json_t *ev, const char *payload)
{
    static const char *const keys[] = {"id",        "device_id",      NULL,   "member_id",
                                       "bundle_id", "bundle_version", "kind", "attempt_id"};
    for (int i = 0; i < 8; i++) {
        if (keys[i])
            a_text(a, json_string_value(json_object_get(ev, keys[i])));
        else
            a_int(a, (int64_t)json_integer_value(json_object_get(ev, "seq")));
    }
    a_text(a, payload);
    a_int(a, (int64_t)json_integer_value(json_object_get(ev, "created_ms")));
}

static int member_branch(qk_store *s, const char *member, char *out, size_t n)
{
    pg *p = s->impl;
    out[0] = '\0';
    if (p->memo && strcmp(p->memo_member, member) == 0) {
        snprintf(out, n, "%s", p->memo_branch);
        return QK_OK;
    }
    args a = {0};
    a_text(&a, member);
    PGresult *r;
    int rc = q(s, S_MEMBER_BRANCH, "SELECT branch_id FROM members WHERE id = $1", &a, &r);
    if (rc != QK_OK)
        return rc;
    if (PQntuples(r) == 1)
        copy_at(out, n, r, 0, 0);
    PQclear(r);
    p->memo = strlen(member) < sizeof p->memo_member && strlen(out) < sizeof p->memo_branch;
    if (p->memo) {
        snprintf(p->memo_member, sizeof p->memo_member, "%s", member);
        snprintf(p->memo_branch, sizeof p->memo_branch, "%s", out);
    }
    return QK_OK;
}

#define EVENT_COLS                                                                                 \
    "id, device_id, seq, member_id, bundle_id, bundle_version, kind, attempt_id, payload, "        \
    "created_ms"
#define EVENT_VALUES "$1, $2, $3::bigint, $4, $5, $6, $7, $8, $9, $10::bigint, $11::bigint"
/* An event is held once, in events or in events_apart. */
#define NOT_IN(t)                                                                                  \
    " WHERE NOT EXISTS (SELECT 1 FROM " t " WHERE id = $1 OR (device_id = $2 AND seq = "           \
    "$3::bigint))"
#define SAME_IN(t)                                                                                 \
    "(SELECT count(*) FROM " t " WHERE id = $1 AND device_id = $2 AND seq = $3::bigint"            \
    " AND member_id IS NOT DISTINCT FROM $4 AND bundle_id IS NOT DISTINCT FROM $5"                 \
    " AND bundle_version IS NOT DISTINCT FROM $6 AND kind = $7 AND attempt_id IS NOT DISTINCT "    \
    "FROM $8"                                                                                      \
    " AND payload = $9 AND created_ms = $10::bigint)"

/* Whether the event is held apart (see store_sqlite.c's put_event). */
static int apart_of(qk_store *s, json_t *ev, const char *branch, const char *only, char *home,
                    size_t n, int *apart)
{
    const char *member = json_string_value(json_object_get(ev, "member_id"));
    home[0] = '\0';
    int rc = branch && *branch && member ? member_branch(s, member, home, n) : QK_OK;
    *apart = (home[0] && strcmp(home, branch) != 0) ||
             (only && *only && member && strcmp(member, only) != 0);
    return rc;
}

/* An event that did not go in is held already (by id, or by device and
 * seq), here or apart: the same content is a harmless resend; anything
 * else a conflict, not stored. */
static int held_outcome(qk_store *s, json_t *ev, const char *payload, int *outcome)
{
    args a = {0};
    event_args(&a, ev, payload);
    PGresult *r = NULL;
    int rc = q(s, S_SAME_EVENT, "SELECT " SAME_IN("events") " + " SAME_IN("events_apart"), &a, &r);
    if (rc == QK_OK)
        *outcome = int_at(r, 0, 0) == 1 ? QK_PUT_DUPLICATE : QK_PUT_CONFLICT;
    PQclear(r);
    return rc;
}

static int put_event(qk_store *s, json_t *ev, const char *branch, const char *only, int *outcome)
{
    const char *made = json_string_value(json_object_get(ev, QK__PAYLOAD_TEXT));
    char *own =
        made ? NULL : json_dumps(json_object_get(ev, "payload"), JSON_COMPACT | JSON_SORT_KEYS);
    const char *payload = made ? made : own;
    if (!payload)
        return QK_ENOMEM;
    char home[128];
    int apart = 0;
    int rc = apart_of(s, ev, branch, only, home, sizeof home, &apart);
    args a = {0};
    event_args(&a, ev, payload);
    a_int(&a, qk__store_now(s));
    PGresult *r = NULL;
    if (rc == QK_OK && apart) {
        a_text(&a, branch);
        a_text(&a, home);
        rc = q(s, S_PUT_APART,
               "INSERT INTO events_apart(" EVENT_COLS ", received_ms, device_branch, member_branch)"
               " SELECT " EVENT_VALUES ", $12, $13" NOT_IN("events") " ON CONFLICT DO NOTHING",
               &a, &r);
    } else if (rc == QK_OK) {
        rc = q(s, S_PUT_EVENT,
               "INSERT INTO events(" EVENT_COLS ", received_ms) SELECT " EVENT_VALUES NOT_IN(
                   "events_apart") " ON CONFLICT DO NOTHING",
               &a, &r);
    }
    long n = rc == QK_OK ? changed(r) : 0;
    PQclear(r);
    if (rc == QK_OK && n == 1) {
        *outcome = apart ? QK_PUT_APART : QK_PUT_INSERTED;
    } else if (rc == QK_OK) {
        rc = held_outcome(s, ev, payload, outcome);
    }
    free(own);
    return rc;
}

/* A run of events not held apart: copied (COPY, PostgreSQL's fastest way
 * in: no statement to parse, no parameters to bind) into a temporary table
 * of the connection, then moved into events by one statement that returns
 * the rows it inserted; an event whose row did not go in (held already, or
 * a second one in the run with the same id or device and seq) is a resend
 * or a conflict, as put_event says. 12,005 events: 0.52 s of the server's
 * time as multi-row INSERTs of 256 rows (parse, bind, execute), 0.2 s so. */
#define RUN_COLS 10
static const char run_table[] =
    "CREATE TEMP TABLE IF NOT EXISTS qk_run(n integer NOT NULL, id text, device_id text,"
    " seq bigint, member_id text, bundle_id text, bundle_version text, kind text,"
    " attempt_id text, payload text, created_ms bigint)";
static const char run_move[] =
    "WITH v AS (DELETE FROM qk_run RETURNING *) INSERT INTO events(" EVENT_COLS ", received_ms)"
    " SELECT id, device_id, seq, member_id, bundle_id, bundle_version, kind, attempt_id, payload,"
    " created_ms, $1::bigint FROM v WHERE NOT EXISTS (SELECT 1 FROM events_apart a"
    " WHERE a.id = v.id OR (a.device_id = v.device_id AND a.seq = v.seq))"
    " ORDER BY n ON CONFLICT DO NOTHING RETURNING id";

/* Appends a field to a COPY text row: \N for NULL, the four characters
 * COPY reads specially escaped; then a tab, or the row's newline. */
static int copy_field(char **buf, size_t *len, size_t *cap, const char *v, int last)
{
    size_t need = *len + (v ? 2 * strlen(v) : 2) + 2;
    if (need > *cap || !*buf) {
        size_t nc = need < 4096 ? 4096 : need + need / 2;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return QK_ENOMEM;
        *buf = nb;
        *cap = nc;
    }
    char *o = *buf + *len;
    if (!v) {
        *o++ = '\\';
        *o++ = 'N';
    }
    for (const char *c = v; c && *c; c++) {
        char e = *c == '\\' ? '\\' : *c == '\t' ? 't' : *c == '\n' ? 'n' : *c == '\r' ? 'r' : 0;
        if (e) {
            *o++ = '\\';
            *o++ = e;
        } else {
            *o++ = *c;
        }
    }
    *o++ = last ? '\n' : '\t';
    *len = (size_t)(o - *buf);
    return QK_OK;
}

/* COPY of the run's rows, row by row (libpq sends them in blocks): into
 * qk_run numbered (n first), or into events with the time received (last). */
static int copy_run(qk_store *s, const char *const *v, size_t n, const char *received)
{
    pg *p = s->impl;
    int rc = received ? QK_OK : exec(s, run_table);
    if (rc != QK_OK)
        return rc;
    PGresult *r = PQexec(p->c, received ? "COPY events(" EVENT_COLS ", received_ms) FROM STDIN"
                                        : "COPY qk_run(n, " EVENT_COLS ") FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        rc = fail_with(s, "COPY", r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    char *row = NULL, num[24];
    size_t cap = 0, len = 0;
    int sent = 1;
    for (size_t i = 0; rc == QK_OK && sent && i < n; i++) {
        len = 0;
        snprintf(num, sizeof num, "%zu", i);
        if (!received)
            rc = copy_field(&row, &len, &cap, num, 0);
        for (int k = 0; rc == QK_OK && k < RUN_COLS; k++)
            rc = copy_field(&row, &len, &cap, v[RUN_COLS * i + (size_t)k], !received && k == RUN_COLS - 1);
        if (rc == QK_OK && received)
            rc = copy_field(&row, &len, &cap, received, 1);
        sent = rc == QK_OK && PQputCopyData(p->c, row, (int)len) == 1;
    }
    free(row);
    /* ended in every case: a copy left open holds the connection */
    sent = PQputCopyEnd(p->c, rc == QK_OK && sent ? NULL : "quizkit: the run was not sent") == 1 && sent;
    while ((r = PQgetResult(p->c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == QK_OK)
            rc = fail_with(s, "COPY", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
        PQclear(r);
    }
    if (rc == QK_OK && !sent)
        rc = fail_with(s, "COPY", NULL);
    return rc;
}

/* A column of the run as an array literal ({"a","b",NULL}); NULL out of
 * memory. */
static char *run_array(const char *const *v, size_t n, int col)
{
    size_t cap = 3, at = 0;
    for (size_t i = 0; i < n; i++)
        cap += v[RUN_COLS * i + (size_t)col] ? 2 * strlen(v[RUN_COLS * i + (size_t)col]) + 3 : 5;
    char *a = malloc(cap);
    if (!a)
        return NULL;
    a[at++] = '{';
    for (size_t i = 0; i < n; i++) {
        const char *e = v[RUN_COLS * i + (size_t)col];
        if (i)
            a[at++] = ',';
        if (!e) {
            memcpy(a + at, "NULL", 4);
            at += 4;
            continue;
        }
        a[at++] = '"';
        for (; *e; e++) {
            if (*e == '"' || *e == '\\')
                a[at++] = '\\';
            a[at++] = *e;
        }
        a[at++] = '"';
    }
    a[at++] = '}';
    a[at] = '\0';
    return a;
}

/* The run straight into events (COPY), in a savepoint, when nothing of it
 * is held apart and all of it is one device's: *done when every row went
 * in. When any did not (a resend, a conflict, the same id twice), the
 * savepoint is undone and the run goes the way that tells them apart. */
static int run_direct(qk_store *s, const char *const *v, size_t n, int *done)
{
    *done = 0;
    for (size_t i = 1; i < n; i++)
        if (!v[1] || !v[RUN_COLS * i + 1] || strcmp(v[1], v[RUN_COLS * i + 1]) != 0)
            return QK_OK;
    char *ids = run_array(v, n, 0), *seqs = run_array(v, n, 2);
    const char *pv[3] = {ids, v[1], seqs};
    PGresult *r = NULL;
    int rc = ids && seqs ? QK_OK : QK_ENOMEM;
    if (rc == QK_OK) {
        args a = {0};
        a.n = 3;
        a.many = pv;
        rc = q(s, -1,
               "SELECT EXISTS (SELECT 1 FROM events_apart WHERE id = ANY($1::text[]))"
               " OR EXISTS (SELECT 1 FROM events_apart WHERE device_id = $2"
               " AND seq = ANY($3::bigint[]))",
               &a, &r);
    }
    int apart = rc != QK_OK || strcmp(PQgetvalue(r, 0, 0), "f") != 0;
    PQclear(r);
    free(ids);
    free(seqs);
    if (rc != QK_OK || apart || (rc = begin(s)) != QK_OK)
        return rc;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)qk__store_now(s));
    if (copy_run(s, v, n, now) != QK_OK)
        rollback(s); /* to the savepoint */
    else if (commit(s) == QK_OK) /* (which undoes the savepoint when it cannot) */
        *done = 1;
    return QK_OK;
}

static int put_run(qk_store *s, json_t *const *evs, size_t n, int *outcomes)
{
    size_t all = n; /* n: those left to tell apart below */
    const char **v = calloc(RUN_COLS * n, sizeof *v);
    char(*num)[24] = calloc(2 * n, sizeof *num);
    char **own = calloc(n, sizeof *own);
    int rc = v && num && own ? QK_OK : QK_ENOMEM;
    static const char *const keys[RUN_COLS] = {
        "id",   "device_id",  NULL, "member_id", "bundle_id", "bundle_version",
        "kind", "attempt_id", NULL, NULL};
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        json_t *ev = evs[i];
        const char **row = v + RUN_COLS * i;
        for (int k = 0; k < RUN_COLS; k++)
            if (keys[k])
                row[k] = json_string_value(json_object_get(ev, keys[k]));
        snprintf(num[2 * i], sizeof num[0], "%lld",
                 (long long)json_integer_value(json_object_get(ev, "seq")));
        snprintf(num[2 * i + 1], sizeof num[0], "%lld",
                 (long long)json_integer_value(json_object_get(ev, "created_ms")));
        row[2] = num[2 * i];
        row[9] = num[2 * i + 1];
        row[8] = json_string_value(json_object_get(ev, QK__PAYLOAD_TEXT));
        if (!row[8] && !(row[8] = own[i] = json_dumps(json_object_get(ev, "payload"),
                                                      JSON_COMPACT | JSON_SORT_KEYS)))
            rc = QK_ENOMEM;
    }
    PGresult *r = NULL;
    int done = 0;
    if (rc == QK_OK && (rc = run_direct(s, v, n, &done)) == QK_OK && done) {
        for (size_t i = 0; i < n; i++)
            outcomes[i] = QK_PUT_INSERTED;
        n = 0; /* nothing left to tell apart */
    } else if (rc == QK_OK) {
        rc = copy_run(s, v, n, NULL);
    }
    if (rc == QK_OK && n) {
        args a = {0};
        a_int(&a, qk__store_now(s));
        rc = q(s, S_PUT_RUN, run_move, &a, &r);
    }
    /* Each row that went in is its event's: the first of the run with that id. */
    int rows = rc == QK_OK ? PQntuples(r) : 0;
    unsigned char *taken = rc == QK_OK ? calloc((size_t)rows + 1, 1) : NULL;
    if (rc == QK_OK && !taken)
        rc = QK_ENOMEM;
    for (size_t i = 0, k0 = 0; rc == QK_OK && i < n; i++) {
        const char *id = v[RUN_COLS * i];
        int found = 0;
        /* the rows come back in the run's order: the next one is nearly
         * always the event's own */
        for (int k = (int)k0; k < rows && !found; k++)
            if (!taken[k] && id && strcmp(PQgetvalue(r, k, 0), id) == 0)
                found = taken[k] = 1, k0 = (size_t)k + 1;
        for (int k = 0; k < (int)k0 && k < rows && !found; k++)
            if (!taken[k] && id && strcmp(PQgetvalue(r, k, 0), id) == 0)
                found = taken[k] = 1;
        if (found) {
            outcomes[i] = QK_PUT_INSERTED;
            continue;
        }
        rc = held_outcome(s, evs[i], v[RUN_COLS * i + 8], &outcomes[i]);
    }
    free(taken);
    PQclear(r);
    for (size_t i = 0; own && i < all; i++)
        free(own[i]);
    free(own);
    free(num);
    free(v);
    return rc;
}

/* Events in runs between those held apart (put one at a time, in place). */
static int put_events(qk_store *s, json_t *const *evs, size_t n, const char *branch,
                      const char *only, int *outcomes)
{
    int rc = QK_OK;
    size_t start = 0;
    for (size_t i = 0; rc == QK_OK && i <= n; i++) {
        char home[128];
        int apart = 0;
        if (i < n)
            rc = apart_of(s, evs[i], branch, only, home, sizeof home, &apart);
        if (rc != QK_OK || (i < n && !apart))
            continue;
        if (i > start)
            rc = put_run(s, evs + start, i - start, outcomes + start);
        if (rc == QK_OK && i < n)
            rc = put_event(s, evs[i], branch, only, &outcomes[i]);
        start = i + 1;
    }
    return rc;
}

static int held_seqs(qk_store *s, const char *device_id, int64_t after, int64_t **seqs, size_t *n)
{
    *seqs = NULL;
    *n = 0;
    args a = {0};
    a_text(&a, device_id);
    a_int(&a, after);
    PGresult *r;
    int rc =
        q(s, S_HELD,
          "SELECT seq FROM events WHERE device_id = $1 AND seq > $2::bigint UNION ALL"
          " SELECT seq FROM events_apart WHERE device_id = $1 AND seq > $2::bigint ORDER BY seq",
          &a, &r);
    if (rc != QK_OK)
        return rc;
    int rows = PQntuples(r);
    if (rows && !(*seqs = malloc((size_t)rows * sizeof **seqs)))
        rc = QK_ENOMEM;
    for (int i = 0; rc == QK_OK && i < rows; i++)
        (*seqs)[i] = int_at(r, i, 0);
    if (rc == QK_OK)
        *n = (size_t)rows;
    PQclear(r);
    return rc;
}

static int waiting(qk_store *s, const char *id, const char *version, json_t **events)
{
    *events = NULL;
    args a = {0};
    a_text(&a, id);
    a_text(&a, version);
    PGresult *r;
    int rc = q(s, -1,
               "SELECT e.id, e.device_id, e.seq, e.member_id, e.bundle_id,"
               " e.bundle_version, e.kind, e.attempt_id, e.payload, e.created_ms"
               " FROM events e JOIN attempt_scores a ON a.attempt_id = e.attempt_id"
               " WHERE e.kind = 'attempt.finish' AND e.bundle_id = $1"
               " AND e.bundle_version = $2 AND a.server_score IS NULL AND a.note = '" QK__NOTE_NO_BUNDLE "'"
               " ORDER BY e.created_ms, e.id",
               &a, &r);
    if (rc != QK_OK)
        return rc;
    static const char *const names[] = {"id",        "device_id",      "seq",  "member_id",
                                        "bundle_id", "bundle_version", "kind", "attempt_id",
                                        "payload",   "created_ms"};
    json_t *all = json_array();
    for (int i = 0; all && i < PQntuples(r); i++) {
        json_t *o = json_object();
        for (int c = 0; o && c < 10; c++) {
            const char *v = val(r, i, c);
            json_t *j = c == 2 || c == 9 ? json_integer(int_at(r, i, c))
                        : c == 8         ? json_loads(v ? v : "{}", 0, NULL)
                        : v              ? json_string(v)
                                         : json_null();
            json_object_set_new(o, names[c], j ? j : json_null());
        }
        all = appended(all, o);
    }
    return rows_kept(r, all, events);
}

static int member_bundle(qk_store *s, const char *member, char *id, size_t idn, char *version,
                         size_t vn)
{
    args a = {0};
    a_text(&a, member);
    PGresult *r;
    int rc = q(s, -1,
               "SELECT bundle_id, bundle_version FROM events WHERE member_id = $1"
               " AND bundle_id IS NOT NULL AND bundle_version IS NOT NULL"
               " ORDER BY created_ms DESC, seq DESC LIMIT 1",
               &a, &r);
    if (rc != QK_OK)
        return rc;
    rc = PQntuples(r) == 1 ? QK_OK : QK_ENOTFOUND;
    if (rc == QK_OK) {
        copy_at(id, idn, r, 0, 0);
        copy_at(version, vn, r, 0, 1);
    }
    PQclear(r);
    return rc;
}

static int count(qk_store *s, int64_t *n)
{
    PGresult *r;
    *n = 0;
    int rc = q(s, -1, "SELECT count(*) FROM events", NULL, &r);
    if (rc == QK_OK)
        *n = int_at(r, 0, 0);
    PQclear(r);
    return rc;
}

/* A score's parameters (16). */
static void score_args(args *a, qk_store *s, json_t *finish, const qk_rescore *sc, const char *note)
{
    a_text(a, json_string_value(json_object_get(finish, "attempt_id")));
    if (sc) {
        a_int(a, sc->device_score);
        a_int(a, sc->server_score);
        a_int(a, sc->max);
    } else {
        a_text(a, NULL);
        a_text(a, NULL);
        a_text(a, NULL);
    }
    a_int(a, sc ? sc->mismatch : 0);
    a_text(a, note ? note : "");
    a_int(a, qk__store_now(s));
    a_text(a, json_string_value(json_object_get(finish, "member_id")));
    a_text(a, json_string_value(json_object_get(finish, "device_id")));
    a_int(a, (int64_t)json_integer_value(json_object_get(finish, "created_ms")));
    if (sc && sc->competition) {
        a_text(a, sc->competition_id);
        a_int(a, sc->server_points);
        a_int(a, sc->device_points);
        a_int(a, sc->answer_ms);
        a_int(a, sc->flagged);
        a_int(a, sc->outside_window);
    } else {
        /* Not scored here (bundle missing): still an entry of its competition. */
        a_text(a, json_string_value(
                       json_object_get(json_object_get(finish, "payload"), "competition")));
        a_text(a, NULL);
        a_text(a, NULL);
        a_text(a, NULL);
        a_int(a, 0);
        a_int(a, 0);
    }
}

#define SCORE_COLS                                                                                 \
    "attempt_id, device_score, server_score, max, mismatch, note, rescored_ms, member_id,"        \
    " device_id, finished_ms, competition, server_points, device_points, answer_ms, flagged,"     \
    " outside_window"
#define SCORE_UPSERT                                                                               \
    " ON CONFLICT(attempt_id) DO UPDATE SET"                                                       \
    " device_score = EXCLUDED.device_score, server_score = EXCLUDED.server_score,"                 \
    " max = EXCLUDED.max, mismatch = EXCLUDED.mismatch, note = EXCLUDED.note,"                     \
    " rescored_ms = EXCLUDED.rescored_ms, member_id = EXCLUDED.member_id,"                         \
    " device_id = EXCLUDED.device_id, finished_ms = EXCLUDED.finished_ms,"                         \
    " competition = EXCLUDED.competition, server_points = EXCLUDED.server_points,"                 \
    " device_points = EXCLUDED.device_points, answer_ms = EXCLUDED.answer_ms,"                     \
    " flagged = EXCLUDED.flagged, outside_window = EXCLUDED.outside_window,"                       \
    " rowno = nextval('attempt_scores_rowno')"
/* a row's parameters from $k on, with their types */
#define SCORE_ROW                                                                                  \
    "($%d, $%d::integer, $%d::integer, $%d::integer, $%d::integer, $%d, $%d::bigint, $%d, $%d,"    \
    " $%d::bigint, $%d, $%d::integer, $%d::integer, $%d::bigint, $%d::integer, $%d::integer)"
#define SCORE_PARAMS 16

static int put_score(qk_store *s, json_t *finish, const qk_rescore *sc, const char *note)
{
    args a = {0};
    score_args(&a, s, finish, sc, note);
    char sql[2048];
    int k = 1;
    snprintf(sql, sizeof sql, "INSERT INTO attempt_scores(" SCORE_COLS ") VALUES " SCORE_ROW SCORE_UPSERT,
             k, k + 1, k + 2, k + 3, k + 4, k + 5, k + 6, k + 7, k + 8, k + 9, k + 10, k + 11, k + 12,
             k + 13, k + 14, k + 15);
    /* in a savepoint of its own: the judge's writes are best effort within
     * the batch (store.c's rescore), and on PostgreSQL a failed statement
     * would end the batch's whole transaction */
    return write1(s, S_PUT_SCORE, sql, &a, NULL);
}

/* Scores in one statement, in a savepoint; when it fails (two scores of one
 * attempt, a forged value no row can hold) each is written on its own, as
 * put_score would, and only the ones that cannot be are left out. */
static int put_scores(qk_store *s, json_t *const *finishes, const qk_rescore *const *r,
                      const char *const *notes, size_t n)
{
    args *rows = calloc(n ? n : 1, sizeof *rows);
    const char **v = calloc(n * SCORE_PARAMS + 1, sizeof *v);
    size_t cap = 256 + n * 240, at = 0;
    char *sql = malloc(cap);
    int rc = rows && v && sql ? QK_OK : QK_ENOMEM;
    if (rc == QK_OK)
        at = (size_t)snprintf(sql, cap, "INSERT INTO attempt_scores(" SCORE_COLS ") VALUES ");
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        score_args(&rows[i], s, finishes[i], r[i], notes[i]);
        for (int c = 0; c < SCORE_PARAMS; c++)
            v[i * SCORE_PARAMS + (size_t)c] = rows[i].v[c];
        int k = (int)(i * SCORE_PARAMS) + 1;
        at += (size_t)snprintf(sql + at, cap - at, "%s" SCORE_ROW, i ? ", " : "", k, k + 1, k + 2,
                               k + 3, k + 4, k + 5, k + 6, k + 7, k + 8, k + 9, k + 10, k + 11, k + 12,
                               k + 13, k + 14, k + 15);
    }
    if (rc == QK_OK)
        snprintf(sql + at, cap - at, "%s", SCORE_UPSERT);
    if (rc == QK_OK && (rc = begin(s)) == QK_OK) {
        args a = {0};
        a.n = (int)(n * SCORE_PARAMS);
        a.many = v;
        rc = q(s, -1, sql, &a, NULL);
        if (rc == QK_OK)
            rc = commit(s);
        else
            rollback(s);
    }
    free(sql);
    free(v);
    free(rows);
    if (rc != QK_OK) {
        rc = QK_OK;
        for (size_t i = 0; i < n; i++)
            if (put_score(s, finishes[i], r[i], notes[i]) != QK_OK)
                rc = QK_EIO;
    }
    return rc;
}

/* An attempt's event as attempt_events gives it (row i of r, from column
 * c on: seq, kind, bundle_id, bundle_version, payload, created_ms). */
static json_t *attempt_event(PGresult *r, int i, int c)
{
    const char *kind = val(r, i, c + 1);
    return json_pack("{s:I, s:s, s:s?, s:s?, s:s, s:I}", "seq", (json_int_t)int_at(r, i, c), "kind",
                     kind ? kind : "", "bundle_id", val(r, i, c + 2), "bundle_version",
                     val(r, i, c + 3), "payload", PQgetvalue(r, i, c + 4), "created_ms",
                     (json_int_t)int_at(r, i, c + 5));
}

#define ATTEMPT_EVENT_COLS "seq, kind, bundle_id, bundle_version, payload, created_ms"

static int attempt_events(qk_store *s, const char *attempt_id, const char *device_id,
                          json_t **events)
{
    *events = NULL;
    args a = {0};
    a_text(&a, attempt_id);
    a_text(&a, device_id);
    PGresult *r;
    int rc = q(s, S_ATTEMPT_EVENTS,
               "SELECT " ATTEMPT_EVENT_COLS " FROM events"
               " WHERE attempt_id = $1 AND device_id IS NOT DISTINCT FROM $2 ORDER BY seq",
               &a, &r);
    if (rc != QK_OK)
        return rc;
    json_t *all = json_array();
    for (int i = 0; all && i < PQntuples(r); i++)
        all = appended(all, attempt_event(r, i, 0));
    return rows_kept(r, all, events);
}

/* The events of n attempts in one query (the judge's; a round trip each
 * was a third of a batch's time on PostgreSQL). */
static int attempts_events(qk_store *s, const char *const *ids, size_t n, json_t **by_attempt)
{
    *by_attempt = NULL;
    size_t cap = 160 + n * 12, at = 0;
    char *sql = malloc(cap);
    if (!sql)
        return QK_ENOMEM;
    at = (size_t)snprintf(sql, cap, "SELECT attempt_id, device_id, " ATTEMPT_EVENT_COLS
                                    " FROM events WHERE attempt_id IN (");
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(sql + at, cap - at, "%s$%zu", i ? ", " : "", i + 1);
    snprintf(sql + at, cap - at, ") ORDER BY attempt_id, seq");
    args a = {0};
    a.n = (int)n;
    a.many = ids;
    PGresult *r;
    int rc = q(s, -1, sql, &a, &r);
    free(sql);
    if (rc != QK_OK)
        return rc;
    json_t *all = json_object();
    for (int i = 0; all && i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0);
        json_t *list = json_object_get(all, id);
        if (!list && json_object_set_new(all, id, list = json_array()) != 0)
            list = NULL;
        json_t *ev = attempt_event(r, i, 2);
        if (ev && json_object_set_new(ev, "device_id", json_string(PQgetvalue(r, i, 1))) != 0) {
            json_decref(ev);
            ev = NULL;
        }
        if (!list || json_array_append_new(list, ev) != 0) { /* (ev taken, or NULL) */
            if (!list)
                json_decref(ev);
            json_decref(all);
            all = NULL;
        }
    }
    return rows_kept(r, all, by_attempt);
}

/* QK_SQL_POINT_EVENTS_RECEIVED (quizkit/points.h) in PostgreSQL's words:
 * the payload's values come back as text, never cast in SQL. An attempt's
 * start and finish are found by the attempt (events_attempt): the member
 * is compared with IS NOT DISTINCT FROM (the same here: e.member_id is
 * $1), which no index serves, or the planner, without statistics of a
 * table just filled, took events_member_kind and read all the member's
 * starts for each event (90 ms for one member's 200 attempts). */
#define POINT_EVENTS                                                                               \
    "SELECT e.kind, coalesce((SELECT s_.created_ms FROM events s_ WHERE s_.attempt_id = "          \
    "e.attempt_id"                                                                                 \
    " AND s_.kind = 'attempt.start' AND s_.member_id IS NOT DISTINCT FROM e.member_id LIMIT 1),"  \
    " e.created_ms),"                                                                               \
    " CASE WHEN e.kind = 'attempt.finish' THEN e.payload::jsonb->>'correct' END,"                  \
    " CASE WHEN e.kind = 'lesson.finish' THEN e.payload::jsonb->>'completed' END,"                 \
    " CASE WHEN e.kind = 'lesson.finish' THEN e.payload::jsonb->>'lesson' END,"                    \
    " CASE WHEN e.kind = 'points.correction' THEN e.payload::jsonb->>'amount' END,"                \
    " CASE WHEN e.kind = 'attempt.finish' THEN e.payload::jsonb->>'answered' END,"                 \
    " CASE WHEN e.kind = 'attempt.finish' THEN (SELECT s.payload::jsonb->>'mode' FROM events s"    \
    "   WHERE s.attempt_id = e.attempt_id AND s.kind = 'attempt.start'"                            \
    "   AND s.member_id IS NOT DISTINCT FROM e.member_id"                                          \
    "   LIMIT 1) END, e.device_id, e.created_ms, e.seq, e.rowno, e.received_ms"                    \
    " FROM events e WHERE e.member_id = $1 AND ($2::text IS NULL OR e.device_id = $2)"             \
    " AND e.rowno > coalesce($3::bigint, 0) AND e.rowno <= coalesce($4::bigint, "                  \
    "9223372036854775807)"                                                                         \
    " AND e.kind IN ('answer', 'attempt.finish', 'lesson.finish', 'points.correction')"            \
    " AND NOT (e.kind = 'attempt.finish' AND EXISTS (SELECT 1 FROM events f"                       \
    "  WHERE f.attempt_id = e.attempt_id AND f.kind = 'attempt.finish'"                            \
    "  AND f.member_id IS NOT DISTINCT FROM e.member_id"                                           \
    "  AND f.rowno < e.rowno))"                                                                    \
    " ORDER BY e.created_ms, e.device_id, e.seq"

static int point_events(qk_store *s, const char *member, const char *device, int64_t after,
                        int64_t upto, int (*fn)(void *arg, const qk_point_event *ev), void *arg)
{
    args a = {0};
    a_text(&a, member);
    a_text(&a, device);
    a_int(&a, after);
    a_int(&a, upto);
    PGresult *r;
    int rc = q(s, S_POINT_EVENTS, POINT_EVENTS, &a, &r);
    for (int i = 0; rc == QK_OK && i < PQntuples(r); i++) {
        qk_point_event ev = {
            .kind = val(r, i, 0),
            .counts_at = int_at(r, i, 1),
            .correct = (int)json_num(val(r, i, 2)),
            .completed = (int)json_num(val(r, i, 3)),
            .lesson = val(r, i, 4),
            .amount = json_num(val(r, i, 5)),
            .answered = (int)json_num(val(r, i, 6)),
            .mode = val(r, i, 7),
            .device_id = val(r, i, 8),
            .created_ms = int_at(r, i, 9),
            .seq = int_at(r, i, 10),
            .row = int_at(r, i, 11),
            .received_ms = int_at(r, i, 12),
        };
        rc = fn(arg, &ev);
    }
    PQclear(r);
    return rc;
}

/* Rows are numbered as they are stored, and stored one writer at a time
 * (the write lock), so a later row is a later write. */
static int events_mark(qk_store *s, int64_t *mark)
{
    *mark = 0;
    PGresult *r;
    int rc = q(s, S_EVENTS_MARK, "SELECT coalesce(max(rowno), 0) FROM events", NULL, &r);
    if (rc == QK_OK)
        *mark = int_at(r, 0, 0);
    PQclear(r);
    return rc;
}

static int points_fold_get(qk_store *s, const char *member, const char *device, qk__points_fold *f)
{
    memset(f, 0, sizeof *f);
    args a = {0};
    a_text(&a, member);
    a_text(&a, device ? device : "");
    PGresult *r;
    int rc = q(s, S_FOLD_GET,
               "SELECT bundle_id, bundle_version, mark, last_ms, last_device, last_seq, state"
               " FROM points_folds WHERE member_id = $1 AND device_id = $2",
               &a, &r);
    if (rc != QK_OK)
        return rc;
    if (PQntuples(r) == 0) {
        rc = QK_ENOTFOUND;
    } else {
        copy_at(f->bundle_id, sizeof f->bundle_id, r, 0, 0);
        copy_at(f->bundle_version, sizeof f->bundle_version, r, 0, 1);
        f->mark = int_at(r, 0, 2);
        f->has_last = !PQgetisnull(r, 0, 3);
        f->last_ms = int_at(r, 0, 3);
        copy_at(f->last_device, sizeof f->last_device, r, 0, 4);
        f->last_seq = int_at(r, 0, 5);
        rc = unhex(PQgetvalue(r, 0, 6), PQgetlength(r, 0, 6), &f->state, &f->len);
        if (rc == QK_ECORRUPT)
            fail_with(s, "points_folds", "state");
    }
    PQclear(r);
    return rc;
}

static int points_fold_put(qk_store *s, const char *member, const char *device,
                           const qk__points_fold *f)
{
    args a = {0};
    a_text(&a, member);
    a_text(&a, device ? device : "");
    a_text(&a, f->bundle_id);
    a_text(&a, f->bundle_version);
    a_int(&a, f->mark);
    if (f->has_last) {
        a_int(&a, f->last_ms);
        a_text(&a, f->last_device);
        a_int(&a, f->last_seq);
    } else {
        a_text(&a, NULL);
        a_text(&a, NULL);
        a_text(&a, NULL);
    }
    a_bytes(&a, f->state ? (const void *)f->state : "", f->len);
    return write1(/* (in a savepoint: as put_score) */
                  s, S_FOLD_PUT,
                  "INSERT INTO points_folds(member_id, device_id, bundle_id, bundle_version, mark, "
                  "last_ms,"
                  " last_device, last_seq, state) VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, "
                  "$7, "
                  "$8::bigint,"
                  " $9::bytea) ON CONFLICT(member_id, device_id) DO UPDATE SET bundle_id = "
                  "EXCLUDED.bundle_id,"
                  " bundle_version = EXCLUDED.bundle_version, mark = EXCLUDED.mark, last_ms = "
                  "EXCLUDED.last_ms,"
                  " last_device = EXCLUDED.last_device, last_seq = EXCLUDED.last_seq, state = "
                  "EXCLUDED.state",
                  &a, NULL);
}

static int points_fold_fits(qk_store *s, const char *member, const char *device,
                            const qk__points_fold *f, int64_t upto, int *fits)
{
    *fits = 0;
    args a = {0};
    a_text(&a, member);
    a_text(&a, device);
    a_int(&a, f->mark);
    a_int(&a, upto);
    if (f->has_last) {
        a_int(&a, f->last_ms);
        a_text(&a, f->last_device);
        a_int(&a, f->last_seq);
    } else {
        a_text(&a, NULL);
        a_text(&a, NULL);
        a_text(&a, NULL);
    }
    PGresult *r;
    int rc = q(s, S_FOLD_FITS,
               "SELECT EXISTS (SELECT 1 FROM events e WHERE e.member_id = $1"
               " AND ($2::text IS NULL OR e.device_id = $2 OR e.kind = 'attempt.start')"
               " AND e.kind IN ('answer', 'attempt.finish', 'lesson.finish', 'points.correction', "
               "'attempt.start')"
               " AND e.rowno > $3::bigint AND e.rowno <= $4::bigint"
               " AND ((($2::text IS NULL OR e.device_id = $2) AND $5::bigint IS NOT NULL"
               "   AND (e.created_ms, e.device_id, e.seq) <= ($5::bigint, $6::text COLLATE \"C\", "
               "$7::bigint))"
               "  OR (e.kind = 'attempt.start' AND EXISTS (SELECT 1 FROM events o"
               "   WHERE o.attempt_id = e.attempt_id AND o.member_id = $1 AND ($2::text IS NULL OR "
               "o.device_id = $2)"
               "   AND o.rowno <= $3::bigint))))",
               &a, &r);
    if (rc == QK_OK)
        *fits = strcmp(PQgetvalue(r, 0, 0), "f") == 0;
    PQclear(r);
    return rc;
}

static int competition_spec(qk_store *s, const char *id, const char *bundle_id, char **spec)
{
    *spec = NULL;
    args a = {0};
    a_text(&a, id);
    a_text(&a, bundle_id);
    PGresult *r;
    int rc = q(s, S_ATTEMPT_COMP, "SELECT spec FROM competitions WHERE id = $1 AND bundle_id = $2",
               &a, &r);
    if (rc == QK_OK && PQntuples(r) == 1 && !(*spec = strdup(PQgetvalue(r, 0, 0))))
        rc = QK_ENOMEM;
    PQclear(r);
    return rc;
}

/* The next roster cursor: one counter for the whole store (writes take turns). */
#define NEXT_ROSTER_SEQ "(SELECT coalesce(max(roster_seq), 0) + 1 FROM members)"

static int member_event(qk_store *s, const char *branch, json_t *ev)
{
    ((pg *)s->impl)->memo = 0;
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    const char *member = json_string_value(json_object_get(ev, "member_id"));
    json_t *p = json_object_get(ev, "payload");
    const char *salt = json_string_value(json_object_get(p, "pin_salt"));
    const char *hash = json_string_value(json_object_get(p, "pin_hash"));
    json_int_t iter = json_integer_value(json_object_get(p, "pin_iter"));
    if (!branch || !*branch || !member || !salt || !hash || strlen(salt) != 32 ||
        strlen(hash) != 64 || iter < 1 || iter > 10000000)
        return QK_OK;
    args a = {0};
    a_text(&a, salt);
    a_text(&a, hash);
    a_int(&a, iter);
    a_text(&a, member);
    a_int(&a, qk__store_now(s));
    a_text(&a, branch);
    if (strcmp(kind, "member.pin_changed") == 0)
        return write1(s, S_MEMBER_PIN,
                      "UPDATE members SET pin_salt = $1, pin_hash = $2, pin_iter = $3::integer, "
                      "roster_seq = " NEXT_ROSTER_SEQ
                      ", updated_ms = $5::bigint WHERE id = $4 AND branch_id = $6"
                      " AND pin_hash <> $2",
                      &a, NULL);
    const char *name = json_string_value(json_object_get(p, "name"));
    if (!name || !*name)
        return QK_OK;
    a_text(&a, name);
    int rc =
        write1(s, S_MEMBER_NEW,
               "INSERT INTO members(pin_salt, pin_hash, pin_iter, id, updated_ms, branch_id, name,"
               " roster_seq) SELECT $1, $2, $3::integer, $4, $5::bigint, $6, $7, " NEXT_ROSTER_SEQ
               " WHERE EXISTS (SELECT 1 FROM branches WHERE id = $6) ON CONFLICT DO NOTHING",
               &a, NULL);
    return rc == QK_EEXISTS ? QK_OK : rc;
}

/* --- accounts --- */

static int branch_add(qk_store *s, const char *id, const char *name)
{
    args a = {0};
    a_text(&a, id);
    a_text(&a, name);
    a_int(&a, qk__store_now(s));
    return write1(s, -1, "INSERT INTO branches(id, name, created_ms) VALUES ($1, $2, $3::bigint)",
                  &a, NULL);
}

static int branch_list(qk_store *s, json_t **out)
{
    return query_json(s,
                      "SELECT b.id, b.name,"
                      " (SELECT count(*) FROM members m WHERE m.branch_id = b.id) AS members,"
                      " (SELECT count(*) FROM devices d WHERE d.branch_id = b.id"
                      "  AND d.revoked_ms IS NULL) AS devices FROM branches b ORDER BY b.id",
                      NULL, out);
}

static int user_add(qk_store *s, const qk_user *u)
{
    args a = {0};
    a_text(&a, u->name);
    a_text(&a, u->role);
    a_text(&a, u->branch[0] ? u->branch : NULL);
    a_text(&a, u->pw_hash);
    a_int(&a, qk__store_now(s));
    return write1(s, -1,
                  "INSERT INTO users(name, role, branch_id, pw_hash, created_ms) VALUES ($1, $2, "
                  "$3, $4, $5::bigint)",
                  &a, NULL);
}

static int user_row(PGresult *r, qk_user *u)
{
    if (PQntuples(r) != 1) {
        PQclear(r);
        return QK_ENOTFOUND;
    }
    copy_at(u->name, sizeof u->name, r, 0, 0);
    copy_at(u->role, sizeof u->role, r, 0, 1);
    copy_at(u->branch, sizeof u->branch, r, 0, 2);
    copy_at(u->pw_hash, sizeof u->pw_hash, r, 0, 3);
    PQclear(r);
    return QK_OK;
}

static int user_get(qk_store *s, const char *name, qk_user *u)
{
    args a = {0};
    a_text(&a, name);
    PGresult *r;
    int rc = q(s, -1, "SELECT name, role, branch_id, pw_hash FROM users WHERE name = $1", &a, &r);
    return rc == QK_OK ? user_row(r, u) : rc;
}

static int user_count(qk_store *s, int64_t *n)
{
    PGresult *r;
    *n = 0;
    int rc = q(s, -1, "SELECT count(*) FROM users", NULL, &r);
    if (rc == QK_OK)
        *n = int_at(r, 0, 0);
    PQclear(r);
    return rc;
}

static int token_put(qk_store *s, const char *token_hash, const char *user, int64_t expires_ms)
{
    args a = {0};
    a_text(&a, token_hash);
    a_text(&a, user);
    a_int(&a, expires_ms);
    int rc = write1(
        s, -1,
        "INSERT INTO sessions(token_hash, user_name, expires_ms) VALUES ($1, $2, $3::bigint)", &a,
        NULL);
    if (rc == QK_OK) { /* old sessions go as new ones come */
        args b = {0};
        a_int(&b, qk__store_now(s));
        write1(s, -1, "DELETE FROM sessions WHERE expires_ms < $1::bigint", &b, NULL);
    }
    return rc;
}

static int token_user(qk_store *s, const char *token_hash, int64_t now_ms, qk_user *u)
{
    args a = {0};
    a_text(&a, token_hash);
    a_int(&a, now_ms);
    PGresult *r;
    int rc = q(s, S_TOKEN_USER,
               "SELECT u.name, u.role, u.branch_id, u.pw_hash FROM sessions t JOIN users u ON "
               "u.name = t.user_name"
               " WHERE t.token_hash = $1 AND t.expires_ms > $2::bigint",
               &a, &r);
    return rc == QK_OK ? user_row(r, u) : rc;
}

static int member_put(qk_store *s, const qk_roster_member *m, const char *only_branch)
{
    args a = {0};
    a_text(&a, m->id);
    a_text(&a, m->branch);
    a_text(&a, m->name);
    a_text(&a, m->dept);
    a_text(&a, m->pin_salt);
    a_text(&a, m->pin_hash);
    a_int(&a, m->pin_iter);
    a_int(&a, qk__store_now(s));
    a_text(&a, only_branch);
    PGresult *r = NULL;
    int rc = write1(
        s, -1,
        "INSERT INTO members(id, branch_id, name, dept, pin_salt, pin_hash, pin_iter, roster_seq,"
        " updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7::integer, " NEXT_ROSTER_SEQ ", $8::bigint)"
        " ON CONFLICT(id) DO UPDATE SET branch_id = $2, name = $3, dept = $4, pin_salt = $5,"
        " pin_hash = $6, pin_iter = $7::integer, roster_seq = " NEXT_ROSTER_SEQ
        ", updated_ms = $8::bigint WHERE $9::text IS NULL OR members.branch_id = $9",
        &a, &r);
    long n = rc == QK_OK ? changed(r) : 0;
    PQclear(r);
    ((pg *)s->impl)->memo = 0;
    if (rc == QK_EEXISTS) { /* the only constraint left is the branch */
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_NO_BRANCH, m->branch);
        rc = QK_ENOTFOUND;
    } else if (rc == QK_OK && n == 0) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_MEMBER_OTHER_BRANCH, m->id);
        rc = QK_EPERM;
    }
    return rc;
}

static int roster(qk_store *s, const char *branch, const char *member, int64_t after, int limit,
                  json_t **members, int64_t *cursor)
{
    args a = {0};
    a_text(&a, branch);
    a_int(&a, after);
    a_int(&a, limit);
    a_text(&a, member);
    /* lower(): SQLite's NOCASE, which folds ASCII only, as the "C" collation's lower() does */
    int rc = query_json(
        s,
        "SELECT id, name, branch_id AS branch, dept, pin_salt, pin_hash, pin_iter,"
        " roster_seq AS cursor FROM members WHERE branch_id = $1 AND roster_seq > $2::bigint"
        " AND ($4::text IS NULL OR lower(id) = lower($4::text COLLATE \"C\")) ORDER BY roster_seq "
        "LIMIT $3::integer",
        &a, members);
    *cursor = after;
    size_t n = rc == QK_OK ? json_array_size(*members) : 0;
    if (n)
        *cursor = json_integer_value(json_object_get(json_array_get(*members, n - 1), "cursor"));
    return rc;
}

static int code_put(qk_store *s, const char *code_hash, const char *branch, const char *by,
                    int kind, int64_t expires_ms)
{
    args a = {0};
    a_text(&a, code_hash);
    a_text(&a, branch);
    a_text(&a, by);
    a_int(&a, expires_ms);
    a_text(&a, kind == QK_CODE_PHONE ? "phone" : "shared");
    return write1(s, -1,
                  "INSERT INTO enrol_codes(code_hash, branch_id, created_by, expires_ms, kind)"
                  " VALUES ($1, $2, $3, $4::bigint, $5)",
                  &a, NULL);
}

static int code_take(qk_store *s, const char *code_hash, const char *device_id, int64_t now_ms,
                     char branch[QK_NAME_MAX + 1], int *kind)
{
    *kind = QK_CODE_ANY;
    int rc = begin(s);
    if (rc != QK_OK)
        return rc;
    args a = {0};
    a_text(&a, code_hash);
    PGresult *r;
    rc = q(s, -1,
           "SELECT branch_id, expires_ms, used_ms, kind FROM enrol_codes WHERE code_hash = $1", &a,
           &r);
    if (rc == QK_OK) {
        if (PQntuples(r) != 1) {
            rc = QK_ENOTFOUND;
        } else {
            const char *k = val(r, 0, 3);
            if (k)
                *kind = strcmp(k, "phone") == 0 ? QK_CODE_PHONE : QK_CODE_SHARED;
            copy_at(branch, QK_NAME_MAX + 1, r, 0, 0);
            if (!PQgetisnull(r, 0, 2))
                rc = QK_ESTATE;
            else if (int_at(r, 0, 1) <= now_ms)
                rc = QK_ETIMEOUT;
        }
        PQclear(r);
    }
    if (rc == QK_OK) {
        args b = {0};
        a_int(&b, now_ms);
        a_text(&b, device_id);
        a_text(&b, code_hash);
        rc = q(s, -1,
               "UPDATE enrol_codes SET used_ms = $1::bigint, device_id = $2 WHERE code_hash = $3 "
               "AND used_ms IS NULL",
               &b, &r);
        if (rc == QK_OK && changed(r) != 1)
            rc = QK_ESTATE;
        PQclear(r);
    }
    if (rc == QK_OK)
        return commit(s);
    rollback(s);
    return rc;
}

static int device_enrol(qk_store *s, const qk_device_rec *d, const char *pem,
                        const char *token_hash)
{
    int rc = begin(s);
    if (rc != QK_OK)
        return rc;
    char *known = NULL;
    rc = device_key(s, d->id, &known);
    if (rc == QK_OK && known && *known && strcmp(known, pem) != 0)
        rc = QK_EEXISTS;
    free(known);
    if (rc == QK_OK) {
        /* A device seen before by file keeps its events and acknowledgement. */
        args a = {0};
        a_text(&a, d->id);
        a_text(&a, pem);
        a_int(&a, qk__store_now(s));
        a_text(&a, d->branch);
        a_text(&a, d->name);
        a_text(&a, token_hash);
        a_text(&a, d->member);
        rc = q(s, -1,
               "INSERT INTO devices(id, public_key, acked_seq, last_seen_ms, branch_id, name, "
               "token_hash,"
               " enrolled_ms, member_id) VALUES ($1, $2, 0, $3::bigint, $4, $5, $6, $3::bigint, "
               "NULLIF($7, ''))"
               " ON CONFLICT(id) DO UPDATE SET public_key = $2, branch_id = $4, name = $5, "
               "token_hash = $6,"
               " enrolled_ms = $3::bigint, revoked_ms = NULL, member_id = NULLIF($7, '')",
               &a, NULL);
    }
    if (rc == QK_OK)
        return commit(s);
    rollback(s);
    return rc;
}

#define DEVICE_COLS "SELECT id, branch_id, name, revoked_ms, acked_seq, member_id FROM devices "

static int device_row(PGresult *r, qk_device_rec *d)
{
    int rc = PQntuples(r) == 1 ? QK_OK : QK_ENOTFOUND;
    if (rc == QK_OK) {
        copy_at(d->id, sizeof d->id, r, 0, 0);
        copy_at(d->branch, sizeof d->branch, r, 0, 1);
        copy_at(d->name, sizeof d->name, r, 0, 2);
        d->revoked = !PQgetisnull(r, 0, 3);
        d->acked_seq = int_at(r, 0, 4);
        copy_at(d->member, sizeof d->member, r, 0, 5);
    }
    PQclear(r);
    return rc;
}

static int device_auth(qk_store *s, const char *token_hash, qk_device_rec *d)
{
    args a = {0};
    a_text(&a, token_hash);
    PGresult *r;
    int rc = q(s, S_DEVICE_AUTH, DEVICE_COLS "WHERE token_hash = $1", &a, &r);
    return rc == QK_OK ? device_row(r, d) : rc;
}

static int device_get(qk_store *s, const char *id, qk_device_rec *d)
{
    args a = {0};
    a_text(&a, id);
    PGresult *r;
    int rc = q(s, S_DEVICE_GET, DEVICE_COLS "WHERE id = $1", &a, &r);
    return rc == QK_OK ? device_row(r, d) : rc;
}

static int device_revoke(qk_store *s, const char *id)
{
    args a = {0};
    a_int(&a, qk__store_now(s));
    a_text(&a, id);
    PGresult *r = NULL;
    int rc =
        write1(s, -1, "UPDATE devices SET revoked_ms = $1::bigint, token_hash = NULL WHERE id = $2",
               &a, &r);
    if (rc == QK_OK && changed(r) == 0)
        rc = QK_ENOTFOUND;
    PQclear(r);
    return rc;
}

/* The highest seq a device sent, held or held apart (NULL: none). */
#define LAST_IN(t) "(SELECT max(seq) FROM " t " e WHERE e.device_id = d.id)"

static int device_list(qk_store *s, const char *branch, json_t **out)
{
    args a = {0};
    a_text(&a, branch);
    return query_json(
        s,
        "SELECT id, branch_id AS branch, name, acked_seq, last_seen_ms, enrolled_ms, revoked_ms,"
        " GREATEST(" LAST_IN("events") ", " LAST_IN(
            "events_apart") ") AS last_seq"
                            " FROM devices d WHERE $1::text IS NULL OR branch_id = $1 ORDER BY id",
        &a, out);
}

static int throttle(qk_store *s, const char *key, int64_t now_ms, int64_t window_ms, int add,
                    int *n)
{
    args a = {0};
    a_text(&a, key);
    a_int(&a, now_ms);
    a_int(&a, add);
    a_int(&a, window_ms);
    *n = 0;
    if (add) {
        int rc = write1(
            s, -1,
            "INSERT INTO throttle(key, window_start_ms, count) VALUES ($1, $2::bigint, $3::integer)"
            " ON CONFLICT(key) DO UPDATE SET count = CASE WHEN throttle.window_start_ms"
            " <= $2::bigint - $4::bigint THEN $3::integer ELSE throttle.count + $3::integer END,"
            " window_start_ms = CASE WHEN throttle.window_start_ms <= $2::bigint - $4::bigint"
            " THEN $2::bigint ELSE throttle.window_start_ms END",
            &a, NULL);
        if (rc != QK_OK)
            return rc;
    }
    args b = {0};
    a_text(&b, key);
    a_int(&b, now_ms);
    a_int(&b, window_ms);
    PGresult *r;
    int rc = q(s, -1,
               "SELECT CASE WHEN window_start_ms > $2::bigint - $3::bigint THEN count ELSE 0 END"
               " FROM throttle WHERE key = $1",
               &b, &r);
    if (rc == QK_OK && PQntuples(r) == 1)
        *n = (int)int_at(r, 0, 0);
    PQclear(r);
    return rc;
}

static int entries(qk_store *s, const char *competition, const char *branch, json_t **rows,
                   int64_t *guests, int64_t *unscored)
{
    args a = {0};
    a_text(&a, competition);
    a_text(&a, branch);
    *guests = *unscored = 0;
    int rc = query_json(
        s,
        "SELECT a.member_id, m.name, m.branch_id AS branch, m.dept, a.server_points AS points,"
        " a.answer_ms, a.finished_ms, a.flagged, a.mismatch, a.device_id FROM attempt_scores a"
        " JOIN members m ON m.id = a.member_id"
        " WHERE a.competition = $1 AND a.server_points IS NOT NULL"
        " AND ($2::text IS NULL OR m.branch_id = $2) AND a.outside_window = 0"
        " AND a.attempt_id = (SELECT b.attempt_id FROM attempt_scores b"
        "  WHERE b.competition = $1 AND b.member_id = a.member_id"
        "  AND b.outside_window = 0 ORDER BY b.finished_ms, b.attempt_id LIMIT 1)",
        &a, rows);
    if (rc != QK_OK)
        return rc;
    a.n = 1;
    PGresult *r;
    if (q(s, -1,
          "SELECT coalesce(sum((member_id IS NULL)::integer), 0),"
          " coalesce(sum((member_id IS NOT NULL AND (server_points IS NULL OR outside_window <> "
          "0))::integer), 0)"
          " FROM attempt_scores WHERE competition = $1",
          &a, &r) == QK_OK) {
        *guests = int_at(r, 0, 0);
        *unscored = int_at(r, 0, 1);
        PQclear(r);
    }
    return rc;
}

static int competition_put(qk_store *s, const char *id, const char *bundle_id, const char *spec,
                           const char *branch, const char *by)
{
    args a = {0};
    a_text(&a, id);
    a_text(&a, bundle_id);
    a_text(&a, spec);
    a_text(&a, branch);
    a_text(&a, by);
    a_int(&a, qk__store_now(s));
    return write1(
        s, -1,
        "INSERT INTO competitions(id, bundle_id, spec, branch_id, published_by, published_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6::bigint)",
        &a, NULL);
}

static int competition_list(qk_store *s, const char *branch, json_t **out)
{
    args a = {0};
    a_text(&a, branch);
    return query_json(
        s,
        "SELECT id, bundle_id, spec, branch_id AS branch, published_by, published_ms FROM "
        "competitions"
        " WHERE $1::text IS NULL OR branch_id IS NULL OR branch_id = $1 ORDER BY published_ms",
        &a, out);
}

/* --- published bundles --- */

#define HELD                                                                                       \
    " EXISTS (SELECT 1 FROM bundle_chunks c WHERE c.id = bundles.id AND"                           \
    " c.version = bundles.version AND c.n = 0)"

static int put_chunks(qk_store *s, const char *id, const char *version, const void *data,
                      size_t len)
{
    int rc = QK_OK;
    for (size_t off = 0, n = 0; rc == QK_OK && off < len; off += QK_BUNDLE_CHUNK, n++) {
        size_t part = len - off < QK_BUNDLE_CHUNK ? len - off : QK_BUNDLE_CHUNK;
        args a = {0};
        a_text(&a, id);
        a_text(&a, version);
        a_int(&a, (int64_t)n);
        a_bytes(&a, (const char *)data + off, part);
        rc = q(
            s, -1,
            "INSERT INTO bundle_chunks(id, version, n, data) VALUES ($1, $2, $3::bigint, $4::bytea)"
            " ON CONFLICT(id, version, n) DO UPDATE SET data = EXCLUDED.data",
            &a, NULL);
    }
    return rc;
}

static int bundle_put(qk_store *s, const qk_published *p, const void *data, size_t len)
{
    if ((size_t)p->size != len)
        return QK_EINVAL;
    int rc = begin(s);
    if (rc != QK_OK)
        return rc;
    args a = {0};
    a_text(&a, p->id);
    a_text(&a, p->version);
    PGresult *r;
    rc = q(s, -1, "SELECT sha256 FROM bundles WHERE id = $1 AND version = $2 AND" HELD, &a, &r);
    if (rc == QK_OK && PQntuples(r) == 1) {
        rc = strcmp(PQgetvalue(r, 0, 0), p->sha256) == 0 ? QK_OK : QK_EEXISTS;
        PQclear(r);
        rollback(s);
        return rc;
    }
    PQclear(r);
    if (rc == QK_OK) {
        a_text(&a, p->title);
        a_text(&a, p->sha256);
        a_text(&a, p->key_id);
        a_int(&a, p->size);
        a_int(&a, p->published_ms);
        a_text(&a, p->by);
        rc = q(s, -1,
               "INSERT INTO bundles(id, version, title, sha256, key_id, file, size, published_ms, "
               "published_by)"
               " VALUES ($1, $2, $3, $4, $5, '', $6::bigint, $7::bigint, $8) ON CONFLICT(id, "
               "version) DO UPDATE"
               " SET title = EXCLUDED.title, sha256 = EXCLUDED.sha256, key_id = EXCLUDED.key_id, "
               "file = '',"
               " size = EXCLUDED.size, published_ms = EXCLUDED.published_ms, published_by = "
               "EXCLUDED.published_by",
               &a, NULL);
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
    return query_json(
        s,
        "SELECT id, version, title, sha256, key_id, size, published_ms FROM bundles WHERE" HELD
        " ORDER BY id, published_ms",
        NULL, out);
}

static int branch_bundle(qk_store *s, const char *branch, char *id, size_t idn)
{
    args a = {0};
    a_text(&a, branch);
    PGresult *r;
    int rc = q(s, -1,
               "SELECT bundles.id FROM bundles JOIN users ON users.name = bundles.published_by"
               " WHERE users.role = 'leader' AND users.branch_id = $1 AND" HELD
               " ORDER BY published_ms DESC LIMIT 1",
               &a, &r);
    if (rc != QK_OK)
        return rc;
    rc = PQntuples(r) == 1 ? QK_OK : QK_ENOTFOUND;
    if (rc == QK_OK)
        copy_at(id, idn, r, 0, 0);
    PQclear(r);
    return rc;
}

static int bundle_get(qk_store *s, const char *id, const char *version, qk_published *p)
{
    args a = {0};
    a_text(&a, id);
    a_text(&a, version);
    PGresult *r;
    int rc =
        q(s, -1,
          "SELECT id, version, title, sha256, key_id, size, published_ms, published_by FROM bundles"
          " WHERE id = $1 AND (version = $2 OR $2::text IS NULL) AND" HELD
          " ORDER BY published_ms DESC LIMIT 1",
          &a, &r);
    if (rc != QK_OK)
        return rc;
    rc = PQntuples(r) == 1 ? QK_OK : QK_ENOTFOUND;
    if (rc == QK_OK) {
        copy_at(p->id, sizeof p->id, r, 0, 0);
        copy_at(p->version, sizeof p->version, r, 0, 1);
        copy_at(p->title, sizeof p->title, r, 0, 2);
        copy_at(p->sha256, sizeof p->sha256, r, 0, 3);
        copy_at(p->key_id, sizeof p->key_id, r, 0, 4);
        p->size = int_at(r, 0, 5);
        p->published_ms = int_at(r, 0, 6);
        copy_at(p->by, sizeof p->by, r, 0, 7);
    }
    PQclear(r);
    return rc;
}

/* A PostgreSQL store was never a folder of bundle files: nothing to adopt. */
static int bundle_missing(qk_store *s, json_t **out)
{
    return query_json(s,
                      "SELECT id, version, file FROM bundles WHERE file <> '' AND NOT" HELD
                      " ORDER BY id, version",
                      NULL, out);
}

static int bundle_adopt(qk_store *s, const char *dir, size_t *taken)
{
    (void)s, (void)dir;
    *taken = 0;
    return QK_OK;
}

static int bundle_read(qk_store *s, const char *id, const char *version, int64_t off, void *buf,
                       size_t len)
{
    if (off < 0)
        return QK_EINVAL;
    if (len == 0)
        return QK_OK;
    uint64_t from = (uint64_t)off, to = from + len; /* [from, to) */
    args a = {0};
    a_text(&a, id);
    a_text(&a, version);
    a_int(&a, (int64_t)(from / QK_BUNDLE_CHUNK));
    a_int(&a, (int64_t)((to - 1) / QK_BUNDLE_CHUNK));
    PGresult *r;
    int rc = q(s, -1,
               "SELECT n, data FROM bundle_chunks WHERE id = $1 AND version = $2"
               " AND n BETWEEN $3::bigint AND $4::bigint ORDER BY n",
               &a, &r);
    if (rc != QK_OK)
        return rc;
    uint64_t at = from;
    for (int i = 0; rc == QK_OK && at < to && i < PQntuples(r); i++) {
        uint64_t start = (uint64_t)int_at(r, i, 0) * QK_BUNDLE_CHUNK;
        unsigned char *data = NULL;
        size_t n = 0;
        rc = unhex(PQgetvalue(r, i, 1), PQgetlength(r, i, 1), &data, &n);
        if (rc == QK_OK && (start > at || start + n <= at)) {
            rc = QK_ECORRUPT; /* a chunk missing or short */
        } else if (rc == QK_OK) {
            uint64_t end = start + n < to ? start + n : to;
            memcpy((unsigned char *)buf + (at - from), data + (at - start), (size_t)(end - at));
            at = end;
        }
        free(data);
    }
    PQclear(r);
    if (rc == QK_OK && at != to)
        rc = QK_ECORRUPT;
    if (rc == QK_ECORRUPT)
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_STORE, s->where, "bundle_chunks: short");
    return rc;
}

/* PostgreSQL's own tools copy a database while it is in use. */
static int backup(qk_store *s, const char *dest)
{
    qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_PG_BACKUP, dest);
    return QK_EINVAL;
}

/* --- for stats_pg.c (store_pg.h) --- */

int qk__pg_exec(qk_store *s, const char *sql, int n, const char *const *v, const Oid *types,
                PGresult **out)
{
    args a = {0};
    a.n = n;
    a.many = v;
    a.types = types;
    return q(s, -1, sql, &a, out);
}

int qk__pg_begin(qk_store *s)
{
    return begin(s);
}

int qk__pg_commit(qk_store *s)
{
    return commit(s);
}

void qk__pg_rollback(qk_store *s)
{
    rollback(s);
}

static int stats(qk_store *s, const char *branch, const qk_stats_query *qq, qk_lang lang,
                 json_t **out, char *msg, size_t msglen)
{
    return qk__stats_pg(s, branch, qq, lang, out, msg, msglen);
}

/* PostgreSQL checkpoints on its own. */
static int checkpoint(qk_store *s, int now)
{
    (void)s, (void)now;
    return QK_OK;
}

static void close_store(qk_store *s)
{
    pg *p = s->impl;
    PQfinish(p->c);
    free(p);
    s->impl = NULL;
}

/* --- points --- */

static int by_day(const void *a, const void *b)
{
    int64_t x = ((const qk_points_day *)a)->day, y = ((const qk_points_day *)b)->day;
    return x < y ? -1 : x > y;
}

static int point_day(qk_store *s, int which, const char *sql, const char *member, int64_t day,
                     const int64_t *points)
{
    args a = {0};
    a_text(&a, member);
    a_int(&a, day);
    if (points)
        a_int(&a, *points);
    return q(s, which, sql, &a, NULL);
}

#define POINT_DAY_SET                                                                              \
    "INSERT INTO member_points(member_id, day, points) VALUES ($1, $2::bigint, $3::bigint)"        \
    " ON CONFLICT(member_id, day) DO UPDATE SET points = EXCLUDED.points"
#define POINT_DAY_DROP "DELETE FROM member_points WHERE member_id = $1 AND day = $2::bigint"

/* The member's points by day as the judge found them: only the days that
 * changed are written (see store_sqlite.c). */
static int points_put(qk_store *s, const char *member, const qk_points_day *days, size_t n,
                      int64_t server_total, const char *bundle_id, const char *bundle_version)
{
    qk_points_day *want = malloc((n ? n : 1) * sizeof *want);
    int rc = want ? begin(s) : QK_ENOMEM, begun = rc == QK_OK;
    PGresult *r = NULL;
    if (rc == QK_OK) {
        if (n)
            memcpy(want, days, n * sizeof *want);
        qsort(want, n, sizeof *want, by_day);
        args a = {0};
        a_text(&a, member);
        rc = q(s, S_POINTS_DAYS,
               "SELECT day, points FROM member_points WHERE member_id = $1 ORDER BY day", &a, &r);
    }
    size_t nh = rc == QK_OK ? (size_t)PQntuples(r) : 0;
    for (size_t i = 0, j = 0; rc == QK_OK && (i < nh || j < n);) {
        int64_t hd = i < nh ? int_at(r, (int)i, 0) : 0;
        if (j == n || (i < nh && hd < want[j].day)) {
            rc = point_day(s, S_POINTS_DEL, POINT_DAY_DROP, member, hd, NULL);
            i++;
        } else if (i == nh || want[j].day < hd) {
            rc = point_day(s, S_POINTS_SET, POINT_DAY_SET, member, want[j].day, &want[j].points);
            j++;
        } else {
            if (int_at(r, (int)i, 1) != want[j].points)
                rc =
                    point_day(s, S_POINTS_SET, POINT_DAY_SET, member, want[j].day, &want[j].points);
            i++;
            j++;
        }
    }
    PQclear(r);
    free(want);
    if (rc == QK_OK) {
        args j = {0};
        a_text(&j, member);
        a_int(&j, server_total);
        a_text(&j, bundle_id);
        a_text(&j, bundle_version);
        a_int(&j, qk__store_now(s));
        rc = q(s, S_POINTS_JUDGED,
               "INSERT INTO points_judged(member_id, server_total, bundle_id, bundle_version, "
               "judged_ms)"
               " VALUES ($1, $2::bigint, $3, $4, $5::bigint) ON CONFLICT(member_id) DO UPDATE SET"
               " server_total = EXCLUDED.server_total, bundle_id = EXCLUDED.bundle_id,"
               " bundle_version = EXCLUDED.bundle_version, judged_ms = EXCLUDED.judged_ms",
               &j, NULL);
    }
    if (rc == QK_OK)
        return commit(s);
    if (begun)
        rollback(s);
    return rc;
}

/* A device's awards (payload amounts) summed as SQLite's
 * sum(json_extract(...)) sums them: a number as it is, true 1, a string by
 * the number its text begins with ("500" 500, "abc" 0), anything else 0;
 * nothing a device wrote can fail the batch with a cast (the exponent a
 * string may carry is kept to three digits; each amount is held within
 * +-1e19 and the sum within int64, where SQLite's sum of reals saturates). */
#define AMOUNT_OF(j)                                                                               \
    "LEAST(GREATEST(CASE jsonb_typeof(" j ") WHEN 'number' THEN (" j ")::text::numeric"            \
    " WHEN 'boolean' THEN CASE WHEN (" j ")::text = 'true' THEN 1 ELSE 0 END"                      \
    " WHEN 'string' THEN coalesce(substring((" j ") #>> '{}' from"                                 \
    " '^\\s*[-+]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?')::numeric, 0)"            \
    " ELSE 0 END, -1e19), 1e19)"
#define AMOUNT AMOUNT_OF("payload::jsonb->'amount'")

static int points_claim(qk_store *s, const char *member, const char *device, int64_t expected,
                        int64_t upto)
{
    args a = {0};
    a_text(&a, member);
    a_text(&a, device);
    a_int(&a, expected);
    a_int(&a, qk__store_now(s));
    a_int(&a, upto);
    return write1(
        s, -1,
        "INSERT INTO points_claims(member_id, device_id, claimed, expected, judged_ms, mark)"
        " SELECT $1, $2, trunc(LEAST(GREATEST("
        "  coalesce((SELECT claimed FROM points_claims WHERE member_id = $1 AND device_id = $2"
        "   AND mark > 0), 0)"
        "  + (SELECT coalesce(sum(" AMOUNT
        "), 0) FROM events WHERE member_id = $1 AND device_id = $2"
        "   AND kind IN ('points.award', 'points.correction')"
        "   AND rowno > coalesce((SELECT mark FROM points_claims WHERE member_id = $1 AND "
        "device_id = $2), 0)"
        "   AND rowno <= $5::bigint), -9223372036854775808), 9223372036854775807))::bigint, "
        "$3::bigint,"
        " $4::bigint, $5::bigint"
        " WHERE NOT EXISTS (SELECT 1 FROM points_claims WHERE member_id = $1 AND device_id = $2"
        "  AND mark > $5::bigint)"
        " ON CONFLICT(member_id, device_id) DO UPDATE SET claimed = EXCLUDED.claimed,"
        " expected = EXCLUDED.expected, judged_ms = EXCLUDED.judged_ms, mark = EXCLUDED.mark",
        &a, NULL);
}

static int server_key(qk_store *s, const char *pem, char **out)
{
    *out = NULL;
    if (pem) {
        args a = {0};
        a_text(&a, pem);
        a_int(&a, qk__store_now(s));
        int rc =
            write1(s, -1,
                   "INSERT INTO server_key(id, private_pem, created_ms) VALUES (1, $1, $2::bigint)"
                   " ON CONFLICT DO NOTHING",
                   &a, NULL);
        if (rc != QK_OK)
            return rc;
    }
    PGresult *r;
    int rc = q(s, -1, "SELECT private_pem FROM server_key WHERE id = 1", NULL, &r);
    if (rc == QK_OK)
        rc = PQntuples(r) == 1 ? (*out = strdup(PQgetvalue(r, 0, 0))) ? QK_OK : QK_ENOMEM
                               : QK_ENOTFOUND;
    PQclear(r);
    return rc;
}

const qk_store_ops qk__pg_store = {
    .server_key = server_key,
    .points_claim = points_claim,
    .points_put = points_put,
    .begin = begin,
    .commit = commit,
    .rollback = rollback,
    .device_key = device_key,
    .set_device = set_device,
    .put_event = put_event,
    .put_events = put_events,
    .held_seqs = held_seqs,
    .member_bundle = member_bundle,
    .waiting = waiting,
    .count = count,
    .put_score = put_score,
    .put_scores = put_scores,
    .attempt_events = attempt_events,
    .attempts_events = attempts_events,
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

#else /* built without libpq */

const qk_store_ops qk__pg_store;

int qk__pg_store_open(qk_store *s, const char *conninfo)
{
    (void)conninfo;
    qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_NO_PG, s->where);
    return QK_EINVAL;
}

#endif
