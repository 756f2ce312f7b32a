/* stats_pg.c: the statistics of a server whose store is PostgreSQL (issue
 * 19, docs/deploy.md): the subjects of qk_stats.h in PostgreSQL's SQL, over
 * roll-ups kept in the database.
 *
 * The roll-ups are the SQLite store's stat_ tables (stats.c), brought up to
 * date by the row numbers of events and attempt_scores (high-water marks in
 * stat_state), a chunk of events a transaction, under the store's write
 * lock: several instances refreshing at once take turns and count nothing
 * twice, and the marks never pass a row a writer has not committed (writers
 * take the same lock, so row numbers grow in commit order). A chunk's sums
 * are made by stats.c itself, in a SQLite database in memory that holds the
 * chunk's events and what they refer to (qk__stats_stage): what a device
 * wrote in its payloads is read exactly as the SQLite store reads it, and
 * nothing a device sent is cast in PostgreSQL's SQL. The sums are then
 * added to PostgreSQL's tables with multi-row upserts. An attempt scored
 * again brings its old share of the sums (stat_scored) into the staging
 * database, which takes it out as it adds the new; its best score is
 * found again here, from every share PostgreSQL holds.
 *
 * A district's database holds the roll-ups from its first event on, so the
 * SQLite store's reach into older events by spans (stat_span, stat_last:
 * an old file meeting new roll-ups) is not needed here: every query reads
 * roll-ups that hold every event.
 *
 * The figures are the SQLite store's: the queries compute the same doubles
 * in the same order, and the ones the SQLite store rounds (columns named
 * r1, r2 here) are rounded by SQLite's own round(). tests/sync/
 * test_rescore_property.c, on PostgreSQL, compares every subject with a
 * SQLite store fed the same batches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "quizkit/calendar.h"
#include "quizkit/engine.h"

#include "qk_stats.h"
#include "store.h"

#if QK_WITH_POSTGRESQL

#include <libpq-fe.h>

#include "netlib.h"
#include "store_pg.h"

/* Events taken in per transaction (the write lock is held meanwhile), and
 * the most bytes of their payloads (an event may hold up to 1 MiB). */
#define CHUNK 65536
#define CHUNK_BYTES "67108864"
/* Rows a statement when the sums are added to PostgreSQL's tables. */
#define ROWS_A_STATEMENT 256
/* Texts from payloads (a theme, a question id, a wrong answer) longer than
 * this many characters are cut in the roll-ups' keys: a B-tree entry of
 * PostgreSQL holds at most about 2.7 kB, and a forged device may send any
 * length. A real one never comes near. */
#define KEY_CHARS "150"

enum { O_BOOL = 16, O_INT8 = 20, O_INT2 = 21, O_INT4 = 23, O_TEXT = 25, O_FLOAT4 = 700,
       O_FLOAT8 = 701, O_NUMERIC = 1700 };

static int store_err(qk_store *s, char *msg, size_t n)
{
    snprintf(msg, n, "%s", s->err);
    return QK_EIO;
}

static int sqlite_err(sqlite3 *db, char *msg, size_t n)
{
    snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
    return QK_EIO;
}

static int64_t int_of(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* ---- the roll-ups brought up to date --------------------------------- */

/* The roll-ups' tables: stats.c's, with PostgreSQL's types; made (again)
 * by a refresh when one is missing (they are derived data: dropped, they
 * are built again from the events). */
#define T "text COLLATE \"C\""
static const char rollup_tables[] =
    "CREATE TABLE IF NOT EXISTS stat_state(key " T " PRIMARY KEY, value bigint NOT NULL);"
    "CREATE TABLE IF NOT EXISTS stat_day(day bigint NOT NULL, member_id " T " NOT NULL,"
    " acts bigint NOT NULL DEFAULT 0, answers bigint NOT NULL DEFAULT 0,"
    " correct bigint NOT NULL DEFAULT 0, lessons bigint NOT NULL DEFAULT 0,"
    " points bigint NOT NULL DEFAULT 0, attempts bigint NOT NULL DEFAULT 0,"
    " scored bigint NOT NULL DEFAULT 0, pct_sum double precision NOT NULL DEFAULT 0,"
    " best_pct double precision, PRIMARY KEY(day, member_id));"
    "CREATE INDEX IF NOT EXISTS stat_day_member ON stat_day(member_id, day);"
    "CREATE TABLE IF NOT EXISTS stat_attempts(day bigint NOT NULL, member_id " T " NOT NULL,"
    " mode " T " NOT NULL, theme " T " NOT NULL, comp " T " NOT NULL,"
    " started bigint NOT NULL DEFAULT 0, scored bigint NOT NULL DEFAULT 0,"
    " pct_sum double precision NOT NULL DEFAULT 0, h0 bigint NOT NULL DEFAULT 0,"
    " h1 bigint NOT NULL DEFAULT 0, h2 bigint NOT NULL DEFAULT 0, h3 bigint NOT NULL DEFAULT 0,"
    " PRIMARY KEY(day, member_id, mode, theme, comp));"
    "CREATE TABLE IF NOT EXISTS stat_answers(day bigint NOT NULL, q " T " NOT NULL,"
    " member_id " T " NOT NULL, n bigint NOT NULL, ok bigint NOT NULL,"
    " PRIMARY KEY(day, q, member_id));"
    "CREATE TABLE IF NOT EXISTS stat_answers_month(month bigint NOT NULL, q " T " NOT NULL,"
    " member_id " T " NOT NULL, n bigint NOT NULL, ok bigint NOT NULL,"
    " PRIMARY KEY(month, q, member_id));"
    "CREATE TABLE IF NOT EXISTS stat_wrong(day bigint NOT NULL, q " T " NOT NULL, grp " T " NOT NULL,"
    " resp " T " NOT NULL, n bigint NOT NULL, PRIMARY KEY(day, grp, q, resp));"
    "CREATE TABLE IF NOT EXISTS stat_scored(attempt_id " T " PRIMARY KEY, day bigint,"
    " member_id " T " NOT NULL, mode " T " NOT NULL, theme " T " NOT NULL, comp " T " NOT NULL,"
    " pct double precision);"
    "CREATE INDEX IF NOT EXISTS stat_scored_day ON stat_scored(day, member_id)";
#undef T
#define ROLLUP_TABLES 7
static const char sql_tables[] =
    "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
    " AND relkind = 'r' AND relname IN ('stat_state', 'stat_day', 'stat_attempts', 'stat_answers',"
    " 'stat_answers_month', 'stat_wrong', 'stat_scored')";

static const char sql_state[] =
    "SELECT coalesce((SELECT value FROM stat_state WHERE key = 'version'), 0),"
    " coalesce((SELECT value FROM stat_state WHERE key = 'events'), 0),"
    " coalesce((SELECT value FROM stat_state WHERE key = 'scores'), 0),"
    " coalesce((SELECT max(rowno) FROM events), 0),"
    " coalesce((SELECT max(rowno) FROM attempt_scores), 0)";

/* Only what the roll-ups read (stats_rollup.c's take): the kinds they
 * count, and the payloads of those whose members they read. */
#define EVENT_COLS                                                                                 \
    "rowno, kind, member_id, device_id, attempt_id, created_ms, CASE WHEN kind IN ('answer',"      \
    " 'attempt.start', 'attempt.finish', 'points.award', 'points.correction') THEN payload END"
#define COUNTED                                                                                    \
    " AND (kind = 'answer' OR kind ILIKE 'attempt.%' OR kind ILIKE 'lesson.%'"                    \
    " OR kind IN ('points.award', 'points.correction'))"
/* A chunk's events (rowno $1+1..$2), the starts of their attempts that lie
 * elsewhere, and the starts and finishes of the attempts whose scores are
 * taken in (rowno $3+1..$4). */
static const char sql_fetch_events[] =
    "SELECT " EVENT_COLS " FROM events WHERE rowno > $1 AND rowno <= $2" COUNTED
    " UNION ALL SELECT " EVENT_COLS " FROM events WHERE kind = 'attempt.start'"
    " AND attempt_id IN (SELECT attempt_id FROM events WHERE rowno > $1 AND rowno <= $2)"
    " AND NOT (rowno > $1 AND rowno <= $2)"
    " UNION ALL SELECT " EVENT_COLS " FROM events WHERE kind IN ('attempt.start', 'attempt.finish')"
    " AND attempt_id IN (SELECT attempt_id FROM attempt_scores WHERE rowno > $3 AND rowno <= $4)";
static const char sql_fetch_members[] =
    "SELECT id, branch_id FROM members WHERE id IN"
    " (SELECT member_id FROM events WHERE rowno > $1 AND rowno <= $2)";
static const char sql_fetch_scores[] =
    "SELECT rowno, attempt_id, member_id, device_id, finished_ms, server_score, max"
    " FROM attempt_scores WHERE rowno > $3 AND rowno <= $4";
/* The shares in the sums of the attempts whose scores are taken in again
 * (stats.c takes them out as it adds the new ones). */
static const char sql_fetch_shares[] =
    "SELECT attempt_id, day, member_id, mode, theme, comp, pct FROM stat_scored WHERE attempt_id IN"
    " (SELECT attempt_id FROM attempt_scores WHERE rowno > $3 AND rowno <= $4)";

/* Copies a PostgreSQL result into a staging table (insert: its n
 * parameters; the columns in ints are numbers, the others texts). */
static int stage_rows(sqlite3 *db, PGresult *r, const char *insert, unsigned ints, char *msg, size_t n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, insert, -1, &st, NULL) != SQLITE_OK)
        return sqlite_err(db, msg, n);
    int rc = QK_OK, cols = PQnfields(r);
    for (int i = 0; rc == QK_OK && i < PQntuples(r); i++) {
        for (int c = 0; c < cols; c++) {
            if (PQgetisnull(r, i, c))
                sqlite3_bind_null(st, c + 1);
            else if (ints & 1u << c)
                sqlite3_bind_int64(st, c + 1, int_of(r, i, c));
            else
                sqlite3_bind_text(st, c + 1, PQgetvalue(r, i, c), PQgetlength(r, i, c), SQLITE_STATIC);
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sqlite_err(db, msg, n);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* A roll-up table as its sums are added to PostgreSQL's: read from the
 * staging database (texts cut, rows that then share a key summed), and
 * upserted with parameters of the given types. */
typedef struct push {
    const char *select, *insert, *upsert;
    int cols;
    Oid types[12];
} push;

#define CUT(x) "CASE WHEN length(" x ") > " KEY_CHARS " THEN substr(" x ", 1, " KEY_CHARS ") || '…' ELSE " x " END"
/* a sum that cannot stop the roll-ups: clamped to bigint */
#define ADD_CLAMPED(c)                                                                             \
    c " = least(greatest(t." c "::numeric + EXCLUDED." c ", -9223372036854775808),"               \
      " 9223372036854775807)::bigint"

static const push pushes[] = {
    {"SELECT day, member_id, acts, answers, correct, lessons, points, attempts, scored, pct_sum,"
     " best_pct FROM stat_day",
     "INSERT INTO stat_day AS t(day, member_id, acts, answers, correct, lessons, points, attempts,"
     " scored, pct_sum, best_pct) VALUES",
     " ON CONFLICT(day, member_id) DO UPDATE SET acts = t.acts + EXCLUDED.acts,"
     " answers = t.answers + EXCLUDED.answers, correct = t.correct + EXCLUDED.correct,"
     " lessons = t.lessons + EXCLUDED.lessons, " ADD_CLAMPED("points") ","
     " attempts = t.attempts + EXCLUDED.attempts, scored = t.scored + EXCLUDED.scored,"
     " pct_sum = t.pct_sum + EXCLUDED.pct_sum, best_pct = CASE WHEN t.best_pct IS NULL"
     " OR EXCLUDED.best_pct > t.best_pct THEN EXCLUDED.best_pct ELSE t.best_pct END",
     11,
     {O_INT8, O_TEXT, O_INT8, O_INT8, O_INT8, O_INT8, O_INT8, O_INT8, O_INT8, O_FLOAT8, O_FLOAT8}},
    {"SELECT day, member_id, " CUT("mode") ", " CUT("theme") ", " CUT("comp") ", sum(started),"
     " sum(scored), sum(pct_sum), sum(h0), sum(h1), sum(h2), sum(h3) FROM stat_attempts"
     " GROUP BY 1, 2, 3, 4, 5",
     "INSERT INTO stat_attempts AS t(day, member_id, mode, theme, comp, started, scored, pct_sum,"
     " h0, h1, h2, h3) VALUES",
     " ON CONFLICT(day, member_id, mode, theme, comp) DO UPDATE SET"
     " started = t.started + EXCLUDED.started, scored = t.scored + EXCLUDED.scored,"
     " pct_sum = t.pct_sum + EXCLUDED.pct_sum, h0 = t.h0 + EXCLUDED.h0, h1 = t.h1 + EXCLUDED.h1,"
     " h2 = t.h2 + EXCLUDED.h2, h3 = t.h3 + EXCLUDED.h3",
     12,
     {O_INT8, O_TEXT, O_TEXT, O_TEXT, O_TEXT, O_INT8, O_INT8, O_FLOAT8, O_INT8, O_INT8, O_INT8,
      O_INT8}},
    {"SELECT day, " CUT("q") ", member_id, sum(n), sum(ok) FROM stat_answers GROUP BY 1, 2, 3",
     "INSERT INTO stat_answers AS t(day, q, member_id, n, ok) VALUES",
     " ON CONFLICT(day, q, member_id) DO UPDATE SET n = t.n + EXCLUDED.n, ok = t.ok + EXCLUDED.ok",
     5,
     {O_INT8, O_TEXT, O_TEXT, O_INT8, O_INT8}},
    {"SELECT month, " CUT("q") ", member_id, sum(n), sum(ok) FROM stat_answers_month GROUP BY 1, 2, 3",
     "INSERT INTO stat_answers_month AS t(month, q, member_id, n, ok) VALUES",
     " ON CONFLICT(month, q, member_id) DO UPDATE SET n = t.n + EXCLUDED.n, ok = t.ok + EXCLUDED.ok",
     5,
     {O_INT8, O_TEXT, O_TEXT, O_INT8, O_INT8}},
    {"SELECT day, " CUT("q") ", grp, " CUT("resp") ", sum(n) FROM stat_wrong GROUP BY 1, 2, 3, 4",
     "INSERT INTO stat_wrong AS t(day, q, grp, resp, n) VALUES",
     " ON CONFLICT(day, grp, q, resp) DO UPDATE SET n = t.n + EXCLUDED.n",
     5,
     {O_INT8, O_TEXT, O_TEXT, O_TEXT, O_INT8}},
    /* the attempts' new shares, in place of their old ones */
    {"SELECT attempt_id, day, member_id, mode, theme, comp, pct FROM stat_scored",
     "INSERT INTO stat_scored AS t(attempt_id, day, member_id, mode, theme, comp, pct) VALUES",
     " ON CONFLICT(attempt_id) DO UPDATE SET day = EXCLUDED.day, member_id = EXCLUDED.member_id,"
     " mode = EXCLUDED.mode, theme = EXCLUDED.theme, comp = EXCLUDED.comp, pct = EXCLUDED.pct",
     7,
     {O_TEXT, O_INT8, O_TEXT, O_TEXT, O_TEXT, O_TEXT, O_FLOAT8}},
    /* then the best scores of the days and members that lost a share */
    {"SELECT day, member_id FROM temp.stat_old",
     "UPDATE stat_day AS t SET best_pct = (SELECT max(s.pct) FROM stat_scored s WHERE s.day = t.day"
     " AND s.member_id = t.member_id) FROM (VALUES",
     ") AS o(day, member_id) WHERE t.day = o.day AND t.member_id = o.member_id",
     2,
     {O_INT8, O_TEXT}},
};

/* The statement for rows rows of a push ("... VALUES ($1, ..), (..) ON ..."). */
static char *push_sql(const push *p, int rows)
{
    size_t cap = strlen(p->insert) + strlen(p->upsert) + (size_t)rows * (size_t)p->cols * 10 + 16;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    size_t at = (size_t)snprintf(sql, cap, "%s", p->insert);
    for (int i = 0; i < rows; i++)
        for (int c = 0; c < p->cols; c++)
            at += (size_t)snprintf(sql + at, cap - at, "%s$%d%s", c ? ", " : i ? ", (" : " (",
                                   i * p->cols + c + 1, c == p->cols - 1 ? ")" : "");
    snprintf(sql + at, cap - at, "%s", p->upsert);
    return sql;
}

/* A staged cell as a parameter's text (a copy; NULL for NULL). */
static char *cell_text(sqlite3_stmt *st, int c, int *oom)
{
    char num[32];
    const char *t = num;
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_NULL: return NULL;
    case SQLITE_INTEGER: snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, c)); break;
    case SQLITE_FLOAT: snprintf(num, sizeof num, "%.17g", sqlite3_column_double(st, c)); break;
    default: t = (const char *)sqlite3_column_text(st, c);
    }
    char *copy = strdup(t ? t : "");
    *oom |= !copy;
    return copy;
}

/* Adds a staged table's rows to PostgreSQL's, ROWS_A_STATEMENT at a time. */
static int push_table(qk_store *s, sqlite3 *db, const push *p, char *msg, size_t n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, p->select, -1, &st, NULL) != SQLITE_OK)
        return sqlite_err(db, msg, n);
    size_t per = (size_t)p->cols * ROWS_A_STATEMENT;
    char **v = calloc(per, sizeof *v);
    Oid *types = malloc(per * sizeof *types);
    int rc = v && types ? QK_OK : QK_ENOMEM;
    for (size_t i = 0; rc == QK_OK && i < per; i++)
        types[i] = p->types[i % (size_t)p->cols];
    int rows = 0, step = SQLITE_ROW, oom = 0;
    while (rc == QK_OK && step == SQLITE_ROW) {
        step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            for (int c = 0; c < p->cols; c++)
                v[(size_t)rows * (size_t)p->cols + (size_t)c] = cell_text(st, c, &oom);
            rows++;
            rc = oom ? QK_ENOMEM : QK_OK;
        } else if (step != SQLITE_DONE) {
            rc = sqlite_err(db, msg, n);
        }
        if (rc == QK_OK && rows && (rows == ROWS_A_STATEMENT || step == SQLITE_DONE)) {
            char *sql = push_sql(p, rows);
            rc = !sql                                                                   ? QK_ENOMEM
                 : qk__pg_exec(s, sql, rows * p->cols, (const char *const *)v, types, NULL) == QK_OK ? QK_OK
                                                                                       : store_err(s, msg, n);
            free(sql);
        }
        if (rc != QK_OK || rows == ROWS_A_STATEMENT || step != SQLITE_ROW) {
            for (size_t i = 0; v && i < (size_t)rows * (size_t)p->cols; i++) {
                free(v[i]);
                v[i] = NULL;
            }
            rows = 0;
        }
    }
    sqlite3_finalize(st);
    free(v);
    free(types);
    if (rc == QK_ENOMEM)
        snprintf(msg, n, "stats: out of memory");
    return rc;
}

/* One transaction of a refresh; *more: there is more to take in. */
static int refresh_step(qk_store *s, int *more, char *msg, size_t n)
{
    *more = 0;
    if (qk__pg_begin(s) != QK_OK)
        return store_err(s, msg, n);
    PGresult *r = NULL;
    int rc = qk__pg_exec(s, sql_tables, 0, NULL, NULL, &r);
    int whole = rc == QK_OK && int_of(r, 0, 0) == ROLLUP_TABLES;
    PQclear(r);
    r = NULL;
    if (rc == QK_OK && !whole)
        rc = qk__pg_exec(s, rollup_tables, 0, NULL, NULL, NULL);
    if (rc == QK_OK)
        rc = qk__pg_exec(s, sql_state, 0, NULL, NULL, &r);
    int64_t version = 0, ev_from = 0, sc_from = 0, ev_max = 0, sc_max = 0;
    if (rc == QK_OK) {
        version = int_of(r, 0, 0), ev_from = int_of(r, 0, 1), sc_from = int_of(r, 0, 2);
        ev_max = int_of(r, 0, 3), sc_max = int_of(r, 0, 4);
        PQclear(r);
    }
    if (rc == QK_OK && (version != qk__stats_rollup_version() || !whole)) {
        /* another definition, none yet, or a table of them gone: built again */
        rc = qk__pg_exec(s,
                         "DELETE FROM stat_state; DELETE FROM stat_day; DELETE FROM stat_attempts;"
                         " DELETE FROM stat_answers; DELETE FROM stat_answers_month;"
                         " DELETE FROM stat_wrong; DELETE FROM stat_scored",
                         0, NULL, NULL, NULL);
        ev_from = sc_from = 0;
    }
    int64_t ev_to = ev_max - ev_from > CHUNK ? ev_from + CHUNK : ev_max;
    if (rc == QK_OK && ev_to > ev_from) { /* and no more than CHUNK_BYTES of payloads */
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT max(rowno) FROM (SELECT rowno, sum(pg_column_size(payload)) OVER"
                 " (ORDER BY rowno) AS b FROM events WHERE rowno > %lld AND rowno <= %lld) x"
                 " WHERE b <= " CHUNK_BYTES, (long long)ev_from, (long long)ev_to);
        if ((rc = qk__pg_exec(s, sql, 0, NULL, NULL, &r)) == QK_OK) {
            int64_t fits = int_of(r, 0, 0);
            ev_to = fits > ev_from ? fits : ev_from + 1; /* at least one */
            PQclear(r);
        }
    }
    int64_t sc_to = sc_max - sc_from > CHUNK ? sc_from + CHUNK : sc_max;
    char num[4][24];
    int64_t marks[4] = {ev_from, ev_to, sc_from, sc_to};
    const char *v[4];
    static const Oid four[4] = {O_INT8, O_INT8, O_INT8, O_INT8};
    for (int i = 0; i < 4; i++) {
        snprintf(num[i], sizeof num[i], "%lld", (long long)marks[i]);
        v[i] = num[i];
    }
    sqlite3 *db = NULL;
    if (rc != QK_OK)
        rc = store_err(s, msg, n);
    else if ((ev_to > ev_from || sc_to > sc_from) && (rc = qk__stats_stage_open(&db, msg, n)) == QK_OK) {
        static const struct {
            const char *fetch, *insert;
            int params;
            unsigned ints;
        } stage[] = {
            {sql_fetch_events, "INSERT OR IGNORE INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", 4,
             1u << 0 | 1u << 5},
            {sql_fetch_members, "INSERT OR IGNORE INTO members VALUES (?1, ?2)", 2, 0},
            {sql_fetch_scores, "INSERT INTO attempt_scores VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", 4,
             1u << 0 | 1u << 4 | 1u << 5 | 1u << 6},
            {sql_fetch_shares, "INSERT INTO stat_scored VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", 4, 1u << 1},
        };
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        for (size_t i = 0; rc == QK_OK && i < sizeof stage / sizeof stage[0]; i++) {
            if (qk__pg_exec(s, stage[i].fetch, stage[i].params, v, four, &r) != QK_OK) {
                rc = store_err(s, msg, n);
                break;
            }
            rc = stage_rows(db, r, stage[i].insert, stage[i].ints, msg, n);
            PQclear(r);
        }
        if (rc == QK_OK)
            rc = qk__stats_stage(db, ev_from, ev_to, sc_from, sc_to, msg, n);
        for (size_t i = 0; rc == QK_OK && i < sizeof pushes / sizeof pushes[0]; i++)
            rc = push_table(s, db, &pushes[i], msg, n);
        sqlite3_close(db);
    }
    if (rc == QK_OK) {
        char sql[320];
        snprintf(sql, sizeof sql,
                 "INSERT INTO stat_state(key, value) VALUES ('version', %d), ('events', %lld),"
                 " ('scores', %lld) ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value",
                 qk__stats_rollup_version(), (long long)ev_to, (long long)sc_to);
        rc = qk__pg_exec(s, sql, 0, NULL, NULL, NULL) == QK_OK ? QK_OK : store_err(s, msg, n);
    }
    if (rc == QK_OK && qk__pg_commit(s) != QK_OK)
        return store_err(s, msg, n);
    if (rc != QK_OK) {
        qk__pg_rollback(s);
        return rc;
    }
    *more = ev_to < ev_max || sc_to < sc_max;
    return QK_OK;
}

/* Brings the roll-ups up to date: nothing new, no write lock taken (the
 * server keeps ingesting while leaders look). */
static int refresh(qk_store *s, char *msg, size_t n)
{
    for (;;) {
        PGresult *r = NULL;
        if (qk__pg_exec(s, sql_tables, 0, NULL, NULL, &r) != QK_OK)
            return store_err(s, msg, n);
        int current = int_of(r, 0, 0) == ROLLUP_TABLES;
        PQclear(r);
        r = NULL;
        if (current && qk__pg_exec(s, sql_state, 0, NULL, NULL, &r) != QK_OK)
            return store_err(s, msg, n);
        current = current && int_of(r, 0, 0) == qk__stats_rollup_version() &&
                  int_of(r, 0, 1) == int_of(r, 0, 3) && int_of(r, 0, 2) == int_of(r, 0, 4);
        PQclear(r);
        int more = 0, rc = current ? QK_OK : refresh_step(s, &more, msg, n);
        if (current || rc != QK_OK || !more)
            return rc;
    }
}

/* ---- the subjects ------------------------------------------------------ */

/* The roster and what goes with it, for one branch ($6) or all. */
#define PREFIX                                                                                     \
    "WITH roster AS (SELECT id, name, dept, branch_id AS branch FROM members"                      \
    " WHERE $6 IS NULL OR branch_id = $6), bnames AS (SELECT id, name FROM branches),"             \
    " guests AS (SELECT 'guest:' || id AS k FROM devices WHERE $6 IS NULL OR branch_id = $6),"     \
    " groups AS (SELECT id AS g FROM branches WHERE $6 IS NULL OR id = $6),"                       \
    " judged AS (SELECT member_id FROM points_judged),"                                            \
    " claims AS (SELECT member_id, device_id, claimed, expected FROM points_claims),"              \
    " pts AS (SELECT member_id, day, points FROM member_points), "
#define IN_PERIOD "day BETWEEN $1 AND $2 AND member_id IN (SELECT id FROM roster)"
#define F(x) "(" x ")::float8"
#define DATE(d) "to_char(date '1970-01-01' + (" d ")::integer, 'YYYY-MM-DD')"
#define LAST(m)                                                                                    \
    "(SELECT " DATE("max(s.day)") " FROM stat_day s WHERE s.member_id = " m " AND s.acts > 0)"
#define RATE(n, of) "100::float8 * " F(n) " / " F(of)

static const char sql_participation[] =
    PREFIX "d AS (SELECT member_id FROM stat_day WHERE acts > 0 AND " IN_PERIOD "),"
    " t AS (SELECT * FROM stat_attempts WHERE " IN_PERIOD "),"
    " rn AS (SELECT count(*) AS n FROM roster)"
    " SELECT $3, ''::text, (SELECT n FROM rn), count(DISTINCT member_id),"
    " " RATE("count(DISTINCT member_id)", "greatest((SELECT n FROM rn), 1)") " AS r1,"
    " " F("count(*)") " / " F("greatest(count(DISTINCT member_id), 1)") " AS r1,"
    " (SELECT coalesce(sum(attempts), 0) FROM stat_day WHERE " IN_PERIOD ") FROM d"
    " UNION ALL SELECT * FROM (SELECT $4, theme, (SELECT n FROM rn), count(DISTINCT member_id),"
    " " RATE("count(DISTINCT member_id)", "greatest((SELECT n FROM rn), 1)") ", NULL::float8, sum(scored)"
    " FROM t WHERE theme <> '' AND comp = '' GROUP BY theme HAVING sum(scored) > 0 ORDER BY theme) th"
    " UNION ALL SELECT * FROM (SELECT $5, comp, (SELECT n FROM rn), count(DISTINCT member_id),"
    " " RATE("count(DISTINCT member_id)", "greatest((SELECT n FROM rn), 1)") ", NULL::float8, sum(scored)"
    " FROM t WHERE comp <> '' GROUP BY comp HAVING sum(scored) > 0 ORDER BY comp) co"
    /* branches side by side, when the roster has more than one (an admin's view) */
    " UNION ALL SELECT * FROM (SELECT $12, coalesce((SELECT name FROM bnames WHERE id = r.branch)"
    " || '（' || r.branch || '）', r.branch), count(*), count(a.member_id),"
    " " RATE("count(a.member_id)", "count(*)") ","
    " " F("sum(a.days)") " / " F("greatest(count(a.member_id), 1)") ", coalesce(sum(a.attempts), 0)"
    " FROM roster r LEFT JOIN (SELECT member_id, count(*) AS days, sum(attempts) AS attempts"
    " FROM stat_day WHERE acts > 0 AND day BETWEEN $1 AND $2 GROUP BY member_id) a"
    " ON a.member_id = r.id WHERE (SELECT count(DISTINCT branch) FROM roster) > 1"
    " GROUP BY r.branch ORDER BY r.branch) br"
    " UNION ALL SELECT $7, '', NULL, NULL, NULL, NULL, coalesce(sum(attempts), 0) FROM stat_day"
    " WHERE day BETWEEN $1 AND $2 AND member_id IN (SELECT k FROM guests)";

static const char sql_members[] =
    PREFIX "d AS (SELECT member_id, sum(answers) AS answers, sum(correct) AS correct,"
    " sum(lessons) AS lessons, sum(points) AS points, count(*) FILTER (WHERE acts > 0) AS days,"
    " sum(attempts) AS attempts, sum(scored) AS scored, sum(pct_sum) AS pct_sum,"
    " max(best_pct) AS best FROM stat_day WHERE " IN_PERIOD " GROUP BY member_id)"
    " SELECT m.id, m.name, m.dept, coalesce(d.attempts, 0), coalesce(d.answers, 0),"
    " " RATE("d.correct", "nullif(d.answers, 0)") " AS r1,"
    " 100::float8 * d.pct_sum / " F("nullif(d.scored, 0)") " AS r1, 100::float8 * d.best AS r1,"
    " coalesce(d.lessons, 0),"
    /* the server's own figure for a member it could judge; else the devices' */
    " CASE WHEN m.id IN (SELECT member_id FROM judged) THEN (SELECT coalesce(sum(points), 0)"
    "  FROM pts WHERE pts.member_id = m.id AND pts.day BETWEEN $1 AND $2)"
    "  ELSE coalesce(d.points, 0) END, coalesce(d.days, 0), "
    LAST("m.id") " FROM roster m LEFT JOIN d ON d.member_id = m.id ORDER BY m.id";

static const char sql_inactive[] =
    PREFIX "out AS (SELECT m.id, m.name, m.dept, " LAST("m.id") " AS last FROM roster m"
    " WHERE m.id NOT IN (SELECT member_id FROM stat_day WHERE acts > 0 AND day BETWEEN $1 AND $2))"
    " SELECT * FROM out ORDER BY last IS NOT NULL, last, id";

static const char sql_themes[] =
    PREFIX "t AS (SELECT * FROM stat_attempts WHERE " IN_PERIOD ")"
    " SELECT CASE WHEN comp <> '' THEN comp WHEN theme <> '' THEN theme ELSE '*' END,"
    " CASE WHEN comp <> '' THEN $5 COLLATE \"C\" ELSE mode END, sum(scored),"
    " count(DISTINCT CASE WHEN scored > 0 THEN member_id END),"
    " 100::float8 * sum(pct_sum) / " F("nullif(sum(scored), 0)") " AS r1,"
    " sum(h0), sum(h1), sum(h2), sum(h3),"
    " CASE WHEN sum(started) <> 0 THEN least(100::float8, " RATE("sum(scored)", "sum(started)") ")"
    " END AS r1 FROM t GROUP BY 1, 2 HAVING sum(scored) > 0 ORDER BY 3 DESC, 1, 2";

/* Weeks start on Monday; every week from the group's first activity in the
 * period to today, as stats.c's sql_trend says. */
#define MONDAY(d) "(" d " - ((" d " + 3) % 7 + 7) % 7)"
static const char sql_trend[] =
    PREFIX "d AS (SELECT * FROM stat_day WHERE " IN_PERIOD "),"
    " f AS (SELECT min(day) AS first, CASE WHEN $13 > 0 THEN least($2, greatest($13, max(day)))"
    " ELSE max(day) END AS hi FROM d WHERE acts > 0),"
    " b AS (SELECT greatest(first, hi - 3653) AS lo, hi FROM f WHERE first IS NOT NULL),"
    " a AS (SELECT " MONDAY("day") " AS week, count(DISTINCT CASE WHEN acts > 0 THEN member_id END) AS n,"
    " sum(attempts) AS attempts, sum(answers) AS answers, sum(lessons) AS lessons FROM d GROUP BY 1),"
    " w AS (SELECT generate_series(" MONDAY("lo") ", hi, 7) AS week FROM b)"
    " SELECT " DATE("w.week") " AS week, coalesce(a.n, 0), coalesce(a.attempts, 0),"
    " coalesce(a.answers, 0), coalesce(a.lessons, 0) FROM w LEFT JOIN a ON a.week = w.week ORDER BY w.week";

/* The item analysis (stats.c's item_analysis, in one query): each
 * question's answers, members, facility and discrimination (the share right
 * among the strongest 27% of the period's members less among the weakest
 * 27%; only with four members or more) and most chosen wrong answer,
 * hardest first. */
static const char sql_questions[] =
    PREFIX "a AS (SELECT q, member_id, n, ok FROM stat_answers_month WHERE month BETWEEN $8 AND $9"
    " AND member_id IN (SELECT id FROM roster) UNION ALL SELECT q, member_id, n, ok FROM stat_answers"
    " WHERE (day BETWEEN $1 AND $10 OR day BETWEEN $11 AND $2) AND member_id IN (SELECT id FROM roster)),"
    " ability AS (SELECT member_id, " F("sum(correct)") " / " F("sum(answers)") " AS a FROM stat_day"
    " WHERE answers > 0 AND " IN_PERIOD " GROUP BY member_id),"
    " ranked AS (SELECT member_id,"
    " row_number() OVER w > count(*) OVER () - (27 * count(*) OVER () + 99) / 100 AS top,"
    " row_number() OVER w <= (27 * count(*) OVER () + 99) / 100 AS bottom"
    " FROM ability WINDOW w AS (ORDER BY a, member_id)),"
    " per AS (SELECT a.q, sum(a.n) AS n, sum(a.ok) AS ok, count(DISTINCT a.member_id) AS members,"
    " sum(a.n) FILTER (WHERE r.top) AS top_n, sum(a.ok) FILTER (WHERE r.top) AS top_ok,"
    " sum(a.n) FILTER (WHERE r.bottom) AS low_n, sum(a.ok) FILTER (WHERE r.bottom) AS low_ok"
    " FROM a LEFT JOIN ranked r ON r.member_id = a.member_id GROUP BY a.q),"
    " w AS (SELECT q, resp, sum(n) AS c, row_number() OVER (PARTITION BY q ORDER BY sum(n) DESC, resp)"
    " AS k FROM stat_wrong WHERE day BETWEEN $1 AND $2 AND grp IN (SELECT g FROM groups) GROUP BY q, resp),"
    " f AS (SELECT per.*, CASE WHEN n <> 0 THEN " F("ok") " / " F("n") " END AS fac FROM per)"
    " SELECT f.q, f.n, f.members, f.fac AS r2,"
    " CASE WHEN (SELECT count(*) FROM ranked) >= 4 AND f.top_n <> 0 AND f.low_n <> 0"
    " THEN " F("f.top_ok") " / " F("f.top_n") " - " F("f.low_ok") " / " F("f.low_n") " END AS r2,"
    " w.resp || ' (' || w.c || ')'"
    " FROM f LEFT JOIN w ON w.q = f.q AND w.k = 1 ORDER BY f.fac IS NOT NULL, f.fac, f.n DESC, f.q";

/* Attempts whose scores the server doubts, and devices whose study-point
 * awards differ from what their events give (stats.c's sql_flagged). */
static const char sql_flagged[] =
    PREFIX "fa AS (SELECT a.*, " QK_SQL_BEIJING_DAY(
        "coalesce((SELECT st.created_ms FROM events st WHERE st.attempt_id = a.attempt_id"
        " AND st.kind = 'attempt.start' ORDER BY st.rowno LIMIT 1), a.finished_ms)") " AS day"
    " FROM attempt_scores a WHERE (mismatch <> 0 OR flagged <> 0 OR outside_window <> 0)"
    " AND a.finished_ms >= $1 * 86400000 - 28800000),"
    " f AS (SELECT * FROM fa WHERE day BETWEEN $1 AND $2)"
    " SELECT * FROM (SELECT " DATE("f.day") ", f.member_id, m.name, f.attempt_id,"
    " f.competition, f.device_score, f.server_score, f.max, f.device_points::bigint,"
    " f.server_points::bigint, f.mismatch, f.flagged, f.outside_window,"
    " f.device_id FROM f JOIN roster m ON m.id = f.member_id ORDER BY f.finished_ms, f.attempt_id) x"
    " UNION ALL SELECT * FROM (SELECT NULL::text, c.member_id, m.name, $3, '', NULL::integer,"
    " NULL::integer, NULL::integer,"
    " c.claimed, c.expected, 1, 0, 0, c.device_id FROM claims c JOIN roster m ON m.id = c.member_id"
    " WHERE c.claimed <> c.expected ORDER BY c.member_id, c.device_id) y";

static const char *const subject_sql[QK_STATS_COUNT] = {
    sql_participation, sql_members, sql_inactive, sql_themes, sql_trend, sql_questions, sql_flagged};

/* A cell as the SQLite store gives it: whole numbers as integers (a sum is
 * numeric here), doubles as reals, rounded as SQLite rounds them when the
 * column is named r1 or r2. NULL out of memory. */
static json_t *cell(PGresult *r, int row, int col, sqlite3_stmt *round)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    const char *v = PQgetvalue(r, row, col);
    Oid t = PQftype(r, col);
    const char *name = PQfname(r, col);
    if (t == O_INT8 || t == O_INT4 || t == O_INT2 || (t == O_NUMERIC && !strchr(v, '.')))
        return json_integer(strtoll(v, NULL, 10));
    if (t == O_BOOL)
        return json_integer(v[0] == 't');
    if (t != O_FLOAT8 && t != O_FLOAT4 && t != O_NUMERIC)
        return json_string(v);
    double d = strtod(v, NULL);
    if (name && name[0] == 'r' && (name[1] == '1' || name[1] == '2') && !name[2]) {
        sqlite3_reset(round);
        sqlite3_bind_double(round, 1, d);
        sqlite3_bind_int(round, 2, name[1] - '0');
        if (sqlite3_step(round) != SQLITE_ROW)
            return NULL;
        d = sqlite3_column_double(round, 0);
    }
    return json_real(d);
}

static int subject_rows(qk_store *s, const qk_stats_query *q, const char *branch, qk_lang lang,
                        json_t *out, char *msg, size_t n)
{
    static const Oid types[QK__STATS_PARAMS] = {O_INT8, O_INT8, O_TEXT, O_TEXT, O_TEXT, O_TEXT, O_TEXT,
                                                O_INT8, O_INT8, O_INT8, O_INT8, O_TEXT, O_INT8};
    char num[7][24];
    const char *v[QK__STATS_PARAMS];
    qk__stats_params(q, branch, lang, num, v);
    PGresult *r = NULL;
    if (qk__pg_exec(s, subject_sql[q->subject], QK__STATS_PARAMS, v, types, &r) != QK_OK)
        return store_err(s, msg, n);
    sqlite3 *db = NULL;
    sqlite3_stmt *round = NULL;
    int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
                     sqlite3_prepare_v2(db, "SELECT round(?1, ?2)", -1, &round, NULL) == SQLITE_OK
                 ? QK_OK
                 : QK_ENOMEM;
    for (int i = 0; rc == QK_OK && i < PQntuples(r); i++) {
        json_t *row = json_array();
        for (int c = 0; row && c < PQnfields(r); c++) {
            json_t *j = cell(r, i, c, round);
            if (!j || json_array_append_new(row, j)) {
                json_decref(row);
                row = NULL;
            }
        }
        if (!row || json_array_append_new(out, row))
            rc = QK_ENOMEM;
    }
    if (rc == QK_ENOMEM)
        snprintf(msg, n, "stats: out of memory");
    PQclear(r);
    sqlite3_finalize(round);
    sqlite3_close(db);
    return rc;
}

int qk__stats_pg(qk_store *s, const char *branch, const qk_stats_query *q, qk_lang lang,
                 json_t **out, char *msg, size_t msglen)
{
    *out = NULL;
    int rc = qk__stats_query_ok(q, msg, msglen);
    if (rc == QK_OK)
        rc = refresh(s, msg, msglen);
    json_t *rows = rc == QK_OK ? json_array() : NULL;
    if (rc == QK_OK)
        rc = rows ? subject_rows(s, q, branch, lang, rows, msg, msglen) : QK_ENOMEM;
    if (rc != QK_OK) {
        json_decref(rows);
        return rc;
    }
    *out = qk__stats_table(q, branch, rows);
    return *out ? QK_OK : QK_ENOMEM;
}

#endif
