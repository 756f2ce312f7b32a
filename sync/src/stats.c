/* stats.c: participation statistics (qk_stats.h). Each subject is one SQL
 * query over the roll-ups of the events (the item analysis: three, whose
 * rows C sums); the local progress file and the server's store share the
 * events' shape, so the queries only differ in where the roster lives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "quizkit/calendar.h"

#include "qk_stats.h"
#include "amap.h"
#include "stats_rollup.h"
#include "store.h"


static const char *const subject_names[QK_STATS_COUNT] = {
    "participation", "members", "inactive", "themes", "trend", "questions", "flagged"};

const char *qk_stats_subject_name(qk_stats_subject s)
{
    return (unsigned)s < QK_STATS_COUNT ? subject_names[s] : NULL;
}

qk_stats_subject qk_stats_subject_parse(const char *name)
{
    for (int i = 0; name && i < QK_STATS_COUNT; i++) {
        if (strcmp(name, subject_names[i]) == 0)
            return (qk_stats_subject)i;
    }
    return QK_STATS_COUNT;
}

void qk_stats_day_text(int64_t day, char out[QK_DATE_LEN])
{
    qk_day_text(day, out);
}

int qk_stats_parse_day(const char *s, int64_t *day)
{
    return s && strlen(s) == 10 ? qk_beijing_parse_date(s, day) : -1;
}

void qk_stats_this_month(int64_t now_ms, int64_t *from_day, int64_t *to_day)
{
    qk_beijing_month(now_ms, from_day, to_day);
}

typedef struct col {
    const char *key, *zh, *en;
} col;

static json_t *columns(const col *c, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "key", c[i].key, "zh", c[i].zh, "en",
                                           c[i].en));
    return a;
}

/* Roll-ups: the statistics read small tables that are brought up to date
 * with the events received since the last time (a high-water mark per
 * source), never a scan of every event per request. They are derived data
 * (the stat_ tables in the progress file or the server's store): dropping
 * them rebuilds them from the events on the next query. Days are Beijing
 * days; guests are kept under 'guest:DEVICE' so they count in anonymous
 * totals only. */
/* 3: the events' share is summed in one pass in C (stats_rollup.c); an
 * answer counts as right once however its device wrote "correct" (a forged
 * 2 added 2 before). */
/* 4: a build takes older events in by the period asked (stat_span,
 * 'events_lo'); a binary of 3 would read a partial build as whole. */
/* 5: a finished attempt's fraction counts only when its score is within
 * 0..max (a forged 1e308 of 1 made infinities that stopped the roll-ups,
 * and on PostgreSQL overflowed its sums). 6: a scored attempt counts once
 * with its first finish and first start (ten forged starts and finishes of
 * one attempt id counted it a hundred times). 7: a server's attempt scored
 * again counts once, with its latest score (stat_scored): one scored when
 * its bundle came counted twice. */
#define ROLLUP_VERSION 7
#define DAY_OF(ms) QK_SQL_BEIJING_DAY(ms)

static const char rollup_schema[] =
    "CREATE TABLE IF NOT EXISTS stat_state(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    /* the latest day the events of each span of rowids can count on (below) */
    "CREATE TABLE IF NOT EXISTS stat_span(span INTEGER PRIMARY KEY, last_day INTEGER NOT NULL);"
    /* per member (or guest device) and day */
    "CREATE TABLE IF NOT EXISTS stat_day(day INTEGER NOT NULL, member_id TEXT NOT NULL,"
    " acts INTEGER NOT NULL DEFAULT 0, answers INTEGER NOT NULL DEFAULT 0,"
    " correct INTEGER NOT NULL DEFAULT 0, lessons INTEGER NOT NULL DEFAULT 0,"
    " points INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
    " scored INTEGER NOT NULL DEFAULT 0, pct_sum REAL NOT NULL DEFAULT 0, best_pct REAL,"
    " PRIMARY KEY(day, member_id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS stat_day_member ON stat_day(member_id, day);"
    /* per member, day, mode, theme and competition ('' when none) */
    "CREATE TABLE IF NOT EXISTS stat_attempts(day INTEGER NOT NULL, member_id TEXT NOT NULL,"
    " mode TEXT NOT NULL, theme TEXT NOT NULL, comp TEXT NOT NULL,"
    " started INTEGER NOT NULL DEFAULT 0, scored INTEGER NOT NULL DEFAULT 0,"
    " pct_sum REAL NOT NULL DEFAULT 0, h0 INTEGER NOT NULL DEFAULT 0,"
    " h1 INTEGER NOT NULL DEFAULT 0, h2 INTEGER NOT NULL DEFAULT 0, h3 INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(day, member_id, mode, theme, comp)) WITHOUT ROWID;"
    /* per question, member and day; the wrong answers per question, day and
     * branch ('' on a device) */
    "CREATE TABLE IF NOT EXISTS stat_answers(day INTEGER NOT NULL, q TEXT NOT NULL,"
    " member_id TEXT NOT NULL, n INTEGER NOT NULL, ok INTEGER NOT NULL,"
    " PRIMARY KEY(day, q, member_id)) WITHOUT ROWID;"
    /* the same per calendar month (Beijing; year * 12 + month - 1): a month's
     * item analysis reads one row per question and member */
    "CREATE TABLE IF NOT EXISTS stat_answers_month(month INTEGER NOT NULL, q TEXT NOT NULL,"
    " member_id TEXT NOT NULL, n INTEGER NOT NULL, ok INTEGER NOT NULL,"
    " PRIMARY KEY(month, q, member_id)) WITHOUT ROWID;"
    /* a member's last day of activity among the events below the range
     * when they had none above it (NULL: none), for members and inactive */
    "CREATE TABLE IF NOT EXISTS stat_last(member_id TEXT PRIMARY KEY, day INTEGER) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS stat_wrong(day INTEGER NOT NULL, q TEXT NOT NULL,"
    " grp TEXT NOT NULL, resp TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(day, grp, q, resp)) WITHOUT ROWID;"
    /* each re-scored attempt's share of the sums (the server's; below) */
    "CREATE TABLE IF NOT EXISTS stat_scored(attempt_id TEXT PRIMARY KEY, day INTEGER,"
    " member_id TEXT NOT NULL, mode TEXT NOT NULL, theme TEXT NOT NULL, comp TEXT NOT NULL, pct REAL);"
    "CREATE INDEX IF NOT EXISTS stat_scored_day ON stat_scored(day, member_id);";

/* Finished attempts as the server re-scored them (attempt_scores, rowid in
 * ?1..?2); a device's own scores are summed with its events
 * (qk__rollup_opts.finish_scores).
 *
 * An attempt's score row is written again when the server scores it later
 * (its bundle published after its events came: the row noted as waiting
 * becomes a score) or a device sends its finish again; the row then has a
 * new rowid and is taken in again. So each attempt's share of the sums is
 * kept in stat_scored (its day, whom, mode, theme, competition and
 * fraction; day NULL when its time is outside the protocol's range and it
 * counts nowhere), and a row taken in again takes its old share out of the
 * sums as it adds the new one: an attempt counts once, with its latest
 * score. A best score cannot be taken out of a maximum, so a day and member
 * that lost a share get theirs again from stat_scored. */
#define SERVER_SCORES                                                                              \
    "WITH sc AS (SELECT a.attempt_id, coalesce(a.member_id, 'guest:' || a.device_id) AS who,"      \
    " coalesce((SELECT st.created_ms FROM events st WHERE st.attempt_id = a.attempt_id"           \
    " AND st.kind = 'attempt.start'), a.finished_ms) AS ms,"                                       \
    " coalesce(a.server_score, json_extract(e.payload, '$.score')) AS score,"                      \
    " coalesce(a.max, json_extract(e.payload, '$.max')) AS max FROM attempt_scores a"              \
    " LEFT JOIN events e ON e.rowid = (SELECT f.rowid FROM events f WHERE f.attempt_id ="          \
    " a.attempt_id AND f.kind = 'attempt.finish' ORDER BY f.rowid LIMIT 1)"                         \
    " WHERE a.rowid > ?1 AND a.rowid <= ?2), "

/* The shares of the scores taken in now, and the days and members whose
 * old shares they replace (their best scores are found again). */
static const char scores_temp[] =
    "CREATE TEMP TABLE IF NOT EXISTS stat_new(attempt_id TEXT PRIMARY KEY, day INTEGER,"
    " member_id TEXT, mode TEXT, theme TEXT, comp TEXT, pct REAL);"
    "CREATE TEMP TABLE IF NOT EXISTS stat_old(day INTEGER, member_id TEXT);"
    "DELETE FROM temp.stat_new; DELETE FROM temp.stat_old";

static const char scores_new[] =
    SERVER_SCORES
    /* a row of before the scores named their member and device (both NULL)
     * counts nowhere, as one outside the protocol's times */
    "pc AS (SELECT attempt_id, coalesce(who, '') AS who, CASE WHEN who IS NOT NULL AND ms BETWEEN 0 AND "
    QK_SQL_EVENT_TIME_MAX " THEN " DAY_OF("ms") " END AS day,"
    " CASE WHEN max > 0 AND score >= 0 AND score <= max THEN 1.0 * score / max END AS pct FROM sc)"
    " INSERT OR REPLACE INTO temp.stat_new(attempt_id, day, member_id, mode, theme, comp, pct)"
    " SELECT pc.attempt_id, pc.day, pc.who, coalesce(json_extract(s.payload, '$.mode'), ''),"
    " coalesce(json_extract(s.payload, '$.theme'), ''),"
    " coalesce(json_extract(s.payload, '$.competition'), ''), pc.pct"
    " FROM pc LEFT JOIN events s ON s.rowid = (SELECT x.rowid FROM events x WHERE x.attempt_id ="
    " pc.attempt_id AND x.kind = 'attempt.start' ORDER BY x.rowid LIMIT 1)";

/* The shares counted so far of the attempts taken in now */
#define OLD_SHARES                                                                                 \
    " stat_scored o WHERE o.day IS NOT NULL AND o.attempt_id IN (SELECT attempt_id FROM temp.stat_new)"
/* Each share with its sign: -1 for an old one taken out, 1 for a new one. */
#define SHARES                                                                                     \
    "(SELECT o.day, o.member_id, o.mode, o.theme, o.comp, o.pct, -1 AS g FROM" OLD_SHARES          \
    " UNION ALL SELECT day, member_id, mode, theme, comp, pct, 1 FROM temp.stat_new"                \
    " WHERE day IS NOT NULL)"

static const char scores_old[] = "INSERT INTO temp.stat_old SELECT DISTINCT o.day, o.member_id FROM" OLD_SHARES;

static const char scores_day[] =
    "INSERT INTO stat_day(day, member_id, attempts, scored, pct_sum, best_pct)"
    " SELECT day, member_id, sum(g), sum(CASE WHEN pct IS NOT NULL THEN g ELSE 0 END), total(g * pct),"
    " max(CASE WHEN g > 0 THEN pct END) FROM " SHARES " WHERE true GROUP BY 1, 2"
    " ON CONFLICT(day, member_id) DO UPDATE SET attempts = attempts + excluded.attempts,"
    " scored = scored + excluded.scored, pct_sum = pct_sum + excluded.pct_sum,"
    " best_pct = CASE WHEN best_pct IS NULL OR excluded.best_pct > best_pct"
    " THEN excluded.best_pct ELSE best_pct END";

static const char scores_themes[] =
    "INSERT INTO stat_attempts(day, member_id, mode, theme, comp, scored, pct_sum, h0, h1, h2, h3)"
    " SELECT day, member_id, mode, theme, comp, sum(CASE WHEN pct IS NOT NULL THEN g ELSE 0 END),"
    " total(g * pct), sum(CASE WHEN pct < 0.6 THEN g ELSE 0 END),"
    " sum(CASE WHEN pct >= 0.6 AND pct < 0.8 THEN g ELSE 0 END),"
    " sum(CASE WHEN pct >= 0.8 AND pct < 1 THEN g ELSE 0 END), sum(CASE WHEN pct >= 1 THEN g ELSE 0 END)"
    " FROM " SHARES " WHERE true GROUP BY 1, 2, 3, 4, 5"
    " ON CONFLICT(day, member_id, mode, theme, comp) DO UPDATE SET scored = scored + excluded.scored,"
    " pct_sum = pct_sum + excluded.pct_sum, h0 = h0 + excluded.h0, h1 = h1 + excluded.h1,"
    " h2 = h2 + excluded.h2, h3 = h3 + excluded.h3";

static const char scores_keep[] =
    "INSERT OR REPLACE INTO stat_scored(attempt_id, day, member_id, mode, theme, comp, pct)"
    " SELECT attempt_id, day, member_id, mode, theme, comp, pct FROM temp.stat_new";

static const char scores_best[] =
    "UPDATE stat_day SET best_pct = (SELECT max(s.pct) FROM stat_scored s WHERE s.day = stat_day.day"
    " AND s.member_id = stat_day.member_id) WHERE (day, member_id) IN (SELECT day, member_id FROM temp.stat_old)";

typedef struct backend {
    const char *scores_table;            /* where finished attempts' scores are */
    int server;                          /* wrong answers by branch; scores re-scored */
    int rescored;                        /* 0: scores come with the events */
    const char *prefix;                  /* the roster and guests for a query */
} backend;

static const backend local_backend = {
    "events", 0, 0,
    "WITH roster AS (SELECT id, name, dept, branch FROM members),"
    " bnames AS (SELECT '' AS id, '' AS name WHERE 0),"
    " guests AS (SELECT 'guest:' || id AS k FROM device), groups AS (SELECT '' AS g),"
    " judged AS (SELECT '' AS member_id WHERE 0),"
    " claims AS (SELECT '' AS member_id, '' AS device_id, 0 AS claimed, 0 AS expected WHERE 0),"
    " pts AS (SELECT '' AS member_id, 0 AS day, 0 AS points WHERE 0), "};
static const backend server_backend = {
    "attempt_scores", 1, 1,
    "WITH roster AS (SELECT id, name, dept, branch_id AS branch FROM members"
    " WHERE ?6 IS NULL OR branch_id = ?6), bnames AS (SELECT id, name FROM branches),"
    " guests AS (SELECT 'guest:' || id AS k FROM devices WHERE ?6 IS NULL OR branch_id = ?6),"
    " groups AS (SELECT id AS g FROM branches WHERE ?6 IS NULL OR id = ?6),"
    /* points as the server judged them (member_points), where it could */
    " judged AS (SELECT member_id FROM points_judged),"
    " claims AS (SELECT member_id, device_id, claimed, expected FROM points_claims),"
    " pts AS (SELECT member_id, day, points FROM member_points), "};

/* Runs sql with ?1 lo and ?2 hi; 0, or -1 with SQLite's reason in msg
 * (read before the statement is finalized, which forgets it). */
static int exec_range(sqlite3 *db, const char *sql, int64_t lo, int64_t hi, char *msg, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK ? 0 : -1;
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, lo);
        sqlite3_bind_int64(st, 2, hi);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    if (rc != 0)
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* Takes in the scores of rowid lo+1..hi (above): each attempt's old share
 * out, its new one in; best: the best scores of the days and members that
 * lost a share found again from stat_scored (a staging database, which
 * holds only the shares it was given, leaves that to its store). */
static int take_scores(sqlite3 *db, int64_t lo, int64_t hi, int best, char *msg, size_t n)
{
    if (sqlite3_exec(db, scores_temp, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
        return -1;
    }
    const char *const steps[] = {scores_new, scores_old, scores_day, scores_themes, scores_keep};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (exec_range(db, steps[i], lo, hi, msg, n))
            return -1;
    return best ? exec_range(db, scores_best, lo, hi, msg, n) : 0;
}

static int64_t scalar(sqlite3 *db, const char *sql, int64_t dflt)
{
    sqlite3_stmt *st = NULL;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The roll-ups' state value of key (stat_state), or dflt when it has none
 * (or there is no stat_state yet). */
static int64_t state_of(sqlite3 *db, const char *key, int64_t dflt)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT value FROM stat_state WHERE key = '%s'", key);
    return scalar(db, sql, dflt);
}

static int set_state(sqlite3 *db, const char *key, int64_t v)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO stat_state(key, value) VALUES ('%s', %lld)", key, (long long)v);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Events stored before the roll-ups were built (an old file, a definition
 * changed) are taken in newest first, only as far back as a query's period
 * needs: a leader's first look at this month on a store of three years
 * reads this month's events, not every one (docs/performance.md). The
 * events taken in are always one range of rowids, 'events_lo' < rowid <=
 * 'events' (stat_state; 'events_lo' 0 or missing: all of them).
 *
 * Whether a period needs an older event is decided by spans of 2^shift
 * rowids below the range, summed when the build begins: the latest day any
 * of a span's events can count on is its latest own day, or an award's day
 * when that is later (DESIGN.md decision 10; an answer counts on the day
 * its attempt began, before it). A period from day F takes in every span
 * down to the oldest whose last day is F or later. Only a forged device
 * that sends an answer before its attempt's start (in the order of its
 * events) could have it counted late: it counts once an earlier period is
 * asked for. */
#define SPAN_SHIFT 16

typedef struct window {
    int64_t chunk;    /* rowids taken in per transaction */
    int shift;        /* the spans' size when a build begins (2^shift rowids) */
    int64_t from_day; /* the period's first day (INT64_MIN: every event) */
} window;

/* The scan for the spans: every event's rowid, time and kind (on a device
 * its events_member_kind index holds all three, a fifth of the table), and
 * an award's own day from its payload. */
static const char sql_span_scan[] = "SELECT rowid, created_ms, kind FROM events";
static const char sql_award_day[] =
    "SELECT json_extract(payload, '$.day') FROM events WHERE rowid = ?1 AND json_valid(payload)";

#define SPANS_MAX ((size_t)1 << 20) /* spans noted at most (the shift grows) */

/* Notes the last day of each span of the events up to rowid top in
 * stat_span, and the shift used in stat_state. 0, or -1 (SQLite's error). */
static int note_spans(sqlite3 *db, int64_t top, int shift)
{
    if (top <= 0) /* no events: nothing below the range */
        return set_state(db, "span_shift", shift);
    while ((uint64_t)top >> shift >= SPANS_MAX)
        shift++;
    size_t n = (size_t)((uint64_t)top >> shift) + 1;
    int64_t *last = malloc(n * sizeof *last);
    if (!last)
        return -1;
    for (size_t i = 0; i < n; i++)
        last[i] = INT64_MIN;
    sqlite3_stmt *st = NULL, *award = NULL;
    int rc = sqlite3_prepare_v2(db, sql_span_scan, -1, &st, NULL) == SQLITE_OK &&
                     sqlite3_prepare_v2(db, sql_award_day, -1, &award, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id <= 0 || id > top)
            continue;
        int64_t day = qk_beijing_day(sqlite3_column_int64(st, 1)), own;
        const char *kind = (const char *)sqlite3_column_text(st, 2);
        if (kind && kind[0] == 'p' && (strcmp(kind, "points.award") == 0 || strcmp(kind, "points.correction") == 0)) {
            /* the rollup's rule: an award's day when it is a date */
            sqlite3_bind_int64(award, 1, id);
            const char *text = sqlite3_step(award) == SQLITE_ROW ? (const char *)sqlite3_column_text(award, 0) : NULL;
            if (text && strlen(text) == 10 && qk_beijing_parse_date(text, &own) == 0 && own > day)
                day = own;
            sqlite3_reset(award);
        }
        size_t i = (size_t)((uint64_t)id >> shift);
        if (day > last[i])
            last[i] = day;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize(st);
    sqlite3_finalize(award);
    st = NULL;
    if (rc == 0 && (set_state(db, "span_shift", shift) ||
                    sqlite3_prepare_v2(db, "INSERT INTO stat_span(span, last_day) VALUES (?1, ?2)", -1, &st,
                                       NULL) != SQLITE_OK))
        rc = -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (last[i] == INT64_MIN)
            continue;
        sqlite3_bind_int64(st, 1, (int64_t)i);
        sqlite3_bind_int64(st, 2, last[i]);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    free(last);
    return rc;
}

/* The rowid above which a period from from_day needs every event (lo when
 * the range already reaches back far enough). */
static int64_t needed_above(sqlite3 *db, int64_t lo, int64_t from_day)
{
    if (lo <= 0)
        return lo;
    int shift = (int)state_of(db, "span_shift", SPAN_SHIFT);
    sqlite3_stmt *st = NULL;
    int64_t span = -1;
    if (sqlite3_prepare_v2(db, "SELECT min(span) FROM stat_span WHERE last_day >= ?1 AND span <= ?2", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, from_day);
        sqlite3_bind_int64(st, 2, lo >> shift);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            span = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (span < 0)
        return lo;
    int64_t first = span << shift; /* the span's first rowid */
    return first > 0 ? first - 1 : 0;
}

/* 1 when the roll-ups have this definition, have taken in everything new and
 * reach back as far as a period from from_day needs: plain reads, so a query
 * with nothing new never takes the write lock (the server keeps ingesting
 * while leaders look). A missing table reads as 0. */
static int up_to_date(sqlite3 *db, const backend *be, int64_t from_day)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT value FROM stat_state WHERE key = 'version') = %d"
             " AND (SELECT value FROM stat_state WHERE key = 'events') IS"
             " (SELECT max(rowid) FROM events)"
             " AND (SELECT value FROM stat_state WHERE key = 'scores') IS (SELECT max(rowid) FROM %s)",
             ROLLUP_VERSION, be->scores_table);
    if (scalar(db, sql, 0) != 1)
        return 0;
    int64_t lo = state_of(db, "events_lo", 0);
    return needed_above(db, lo, from_day) >= lo;
}

/* Rowids of each source taken in per transaction: the write lock is held
 * about a second at a time, so that devices syncing while the roll-ups are
 * built from nothing (some 20 s on 5M events) do not wait past their busy
 * timeout (10 s) and fail. */
#define REFRESH_CHUNK 262144

static int refresh_txn(sqlite3 *db, const backend *be, const window *w, int *more, char *msg, size_t n);

/* One transaction of a refresh: up to chunk rowids of each source past its
 * high-water mark, else of the older events the period needs (read inside
 * the transaction, so two refreshes at once take turns rather than counting
 * anything twice). *more: a source has more. */
static int refresh_step(sqlite3 *db, const backend *be, const qk__write_turn *turn, const window *w, int *more,
                        char *msg, size_t n)
{
    *more = 0;
    if (turn) /* behind the process's other writers, in order */
        turn->take(turn->arg);
    int rc = refresh_txn(db, be, w, more, msg, n);
    if (turn)
        turn->give(turn->arg);
    return rc;
}

/* A build begins: nothing is taken in, the events there are now are left
 * below the range, each span's last day noted. */
static int begin_build(sqlite3 *db, int shift)
{
    int64_t top = scalar(db, "SELECT max(rowid) FROM events", 0);
    return set_state(db, "version", ROLLUP_VERSION) || set_state(db, "events", top) ||
                   set_state(db, "events_lo", top) || note_spans(db, top, shift)
               ? -1
               : 0;
}

static int refresh_txn(sqlite3 *db, const backend *be, const window *w, int *more, char *msg, size_t n)
{
    int64_t chunk = w->chunk;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    if (rc == 0 && sqlite3_exec(db, rollup_schema, NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    if (rc == 0 && state_of(db, "version", 0) != ROLLUP_VERSION) {
        /* another definition (or none yet): build again from the start */
        rc = sqlite3_exec(db, "DELETE FROM stat_state; DELETE FROM stat_day; DELETE FROM stat_attempts;"
                              " DELETE FROM stat_answers; DELETE FROM stat_answers_month; DELETE FROM stat_wrong;"
                              " DELETE FROM stat_span; DELETE FROM stat_last; DELETE FROM stat_scored;",
                          NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
        if (rc == 0)
            rc = begin_build(db, w->shift);
    }
    char sql[128];
    int64_t ev_from = state_of(db, "events", 0);
    int64_t ev_max = scalar(db, "SELECT max(rowid) FROM events", 0);
    int64_t ev_to = ev_max > ev_from && ev_max - ev_from > chunk ? ev_from + chunk : ev_max;
    snprintf(sql, sizeof sql, "SELECT max(rowid) FROM %s", be->scores_table);
    int64_t sc_from = state_of(db, "scores", 0);
    int64_t sc_max = scalar(db, sql, 0);
    int64_t sc_to = sc_max > sc_from && sc_max - sc_from > chunk ? sc_from + chunk : sc_max;
    if (!be->rescored) /* a device's scores come with its events (the same rowids) */
        sc_to = ev_to > ev_from ? ev_to : sc_to;
    if (rc == 0 && ev_to > ev_from) {
        qk__rollup_opts o = {be->server, !be->rescored, 0, 0};
        if (qk__rollup_events(db, &o, ev_from, ev_to, msg, n) != QK_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return QK_EIO; /* msg says why */
        }
        rc = set_state(db, "events", ev_to);
    }
    if (rc == 0 && sc_to > sc_from && be->rescored && take_scores(db, sc_from, sc_to, 1, msg, n)) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return QK_EIO; /* msg says why */
    }
    if (rc == 0 && sc_to > sc_from)
        rc = set_state(db, "scores", sc_to);
    /* then older events, newest first, once the new ones are in */
    int64_t lo = state_of(db, "events_lo", 0);
    int64_t need = needed_above(db, lo, w->from_day);
    if (rc == 0 && ev_to == ev_max && need < lo) {
        int64_t below = lo - need > chunk ? lo - chunk : need;
        qk__rollup_opts o = {be->server, !be->rescored, 0, 0};
        if (qk__rollup_events(db, &o, below, lo, msg, n) != QK_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return QK_EIO; /* msg says why */
        }
        rc = set_state(db, "events_lo", below);
        lo = below;
    }
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    if (rc != 0) {
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return QK_EIO;
    }
    *more = ev_to < ev_max || sc_to < sc_max || need < lo;
    return QK_OK;
}

/* Brings the roll-ups up to date for a period, chunk rowids a transaction. */
static int refresh_by(sqlite3 *db, const backend *be, const qk__write_turn *turn, const window *w, char *msg,
                      size_t n)
{
    int more = 1, rc = QK_OK;
    while (rc == QK_OK && more && !up_to_date(db, be, w->from_day))
        rc = refresh_step(db, be, turn, w, &more, msg, n);
    return rc;
}

static int refresh(sqlite3 *db, const backend *be, const qk__write_turn *turn, int64_t from_day, char *msg,
                   size_t n)
{
    window w = {REFRESH_CHUNK, SPAN_SHIFT, from_day};
    return refresh_by(db, be, turn, &w, msg, n);
}

int qk__stats_refresh_local(sqlite3 *db, int64_t chunk, int span_shift, int64_t from_day, char *msg, size_t n)
{
    window w = {chunk, span_shift > 0 ? span_shift : SPAN_SHIFT, from_day};
    return refresh_by(db, &local_backend, NULL, &w, msg, n);
}

/* Another store's roll-ups (store_pg.c through stats_pg.c) are summed here,
 * in a SQLite database in memory that holds the events of a range and what
 * they refer to: the sums are then exactly the SQLite store's, however a
 * device wrote its payloads (json_extract decides what the one-pass reader
 * declines), and the other store only adds them to its own tables. */
static const char stage_schema[] =
    "CREATE TABLE events(rowid INTEGER PRIMARY KEY, kind TEXT, member_id TEXT, device_id TEXT,"
    " attempt_id TEXT, created_ms INTEGER, payload TEXT);"
    "CREATE INDEX events_attempt ON events(attempt_id, kind);"
    "CREATE TABLE attempt_scores(rowid INTEGER PRIMARY KEY, attempt_id TEXT, member_id TEXT,"
    " device_id TEXT, finished_ms INTEGER, server_score INTEGER, max INTEGER);"
    "CREATE TABLE members(id TEXT PRIMARY KEY, branch_id TEXT);";

int qk__stats_stage_open(sqlite3 **db, char *msg, size_t n)
{
    *db = NULL;
    if (sqlite3_open_v2(":memory:", db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(*db, stage_schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(*db, rollup_schema, NULL, NULL, NULL) != SQLITE_OK ||
        /* made here too: a chunk without scores pushes them (empty) */
        sqlite3_exec(*db, scores_temp, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(msg, n, "stats: %s", *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return QK_ENOMEM;
    }
    return QK_OK;
}

int qk__stats_stage(sqlite3 *db, int64_t ev_lo, int64_t ev_hi, int64_t sc_lo, int64_t sc_hi, char *msg,
                    size_t n)
{
    qk__rollup_opts o = {1, 0, 0, 0}; /* the server's: scores from attempt_scores */
    if (ev_hi > ev_lo && qk__rollup_events(db, &o, ev_lo, ev_hi, msg, n) != QK_OK)
        return QK_EIO; /* msg says why */
    if (sc_hi > sc_lo && take_scores(db, sc_lo, sc_hi, 0, msg, n))
        return QK_EIO;
    return QK_OK;
}

int qk__stats_rollup_version(void)
{
    return ROLLUP_VERSION;
}

/* A day's month as year * 12 + month - 1, and a month's first day. */
static int64_t month_of(int64_t day)
{
    return qk_month_of_day(day);
}

static int64_t month_start(int64_t month)
{
    return qk_month_first_day(month);
}

/* The whole months inside from..to (m1..m2; none when m1 > m2) and the days
 * left around them: from..edge1 before, edge2..to after. */
static void whole_months(int64_t from, int64_t to, int64_t *m1, int64_t *m2, int64_t *edge1,
                         int64_t *edge2)
{
    *m1 = month_of(from) + (month_start(month_of(from)) == from ? 0 : 1);
    *m2 = month_of(to) - (month_start(month_of(to) + 1) == to + 1 ? 0 : 1);
    if (*m1 > *m2) { /* no whole month: every day from the daily roll-up */
        *edge1 = to;
        *edge2 = to + 1;
    } else {
        *edge1 = month_start(*m1) - 1;
        *edge2 = month_start(*m2 + 1);
    }
}

/* Prepares a query made of a backend's prefix (its roster and the like)
 * and a body; SQLite's result code (SQLITE_NOMEM for the text itself). */
static int prepare_after(sqlite3 *db, const char *prefix, const char *body, sqlite3_stmt **st)
{
    size_t len = strlen(prefix) + strlen(body) + 1;
    char *sql = malloc(len);
    *st = NULL;
    if (!sql)
        return SQLITE_NOMEM;
    snprintf(sql, len, "%s%s", prefix, body);
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    free(sql);
    return rc;
}

/* A subject's parameters: the period as ?1 and ?2 (Beijing day numbers,
 * inclusive), the labels some subjects put in their rows, the branch (?6,
 * NULL: all), the whole months in the period (?8..?11) and today (?13, 0:
 * unknown); numbers as text in num. */
void qk__stats_params(const qk_stats_query *q, const char *branch, qk_lang lang, char num[][24],
                      const char *v[QK__STATS_PARAMS])
{
    int en = lang == QK_LANG_EN;
    int64_t m[4];
    whole_months(q->from_day, q->to_day, &m[0], &m[1], &m[2], &m[3]);
    int64_t nums[7] = {q->from_day, q->to_day, m[0], m[1], m[2], m[3], q->today};
    static const int at[7] = {0, 1, 7, 8, 9, 10, 12};
    for (int i = 0; i < 7; i++) {
        snprintf(num[i], 24, "%lld", (long long)nums[i]);
        v[at[i]] = num[i];
    }
    v[2] = en ? "all" : "全部";
    v[3] = en ? "theme" : "主题";
    v[4] = en ? "competition" : "竞赛";
    v[5] = branch;
    v[6] = en ? "guests (anonymous)" : "访客（匿名）";
    v[11] = en ? "branch" : "支部";
}

static void bind_query(sqlite3_stmt *st, const qk_stats_query *q, const char *branch, qk_lang lang)
{
    char num[7][24];
    const char *v[QK__STATS_PARAMS];
    qk__stats_params(q, branch, lang, num, v);
    int np = sqlite3_bind_parameter_count(st);
    for (int i = 0; i < np && i < QK__STATS_PARAMS; i++) {
        if (!v[i])
            continue;
        if (i <= 1 || (i >= 7 && i <= 10) || i == 12) /* the numbers */
            sqlite3_bind_int64(st, i + 1, strtoll(v[i], NULL, 10));
        else
            sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
    }
}

/* A statement of the backend's prefix and body, bound; NULL with msg and
 * *rc set. */
static sqlite3_stmt *query_for(sqlite3 *db, const char *prefix, const char *body, const qk_stats_query *q,
                               const char *branch, qk_lang lang, int *rc, char *msg, size_t n)
{
    sqlite3_stmt *st = NULL;
    int prc = prepare_after(db, prefix, body, &st);
    if (prc != SQLITE_OK) {
        *rc = prc == SQLITE_NOMEM ? QK_ENOMEM : QK_EIO;
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
        return NULL;
    }
    bind_query(st, q, branch, lang);
    return st;
}

/* Runs a subject's query with the period bound as ?1 and ?2 (Beijing day
 * numbers, inclusive); each result row becomes an array. */
static int rows(sqlite3 *db, const char *prefix, const char *body, const qk_stats_query *q,
                const char *branch, qk_lang lang, json_t *out, char *msg, size_t n)
{
    int rc = QK_OK;
    sqlite3_stmt *st = query_for(db, prefix, body, q, branch, lang, &rc, msg, n);
    if (!st)
        return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *r = json_array();
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_INTEGER: json_array_append_new(r, json_integer(sqlite3_column_int64(st, c))); break;
            case SQLITE_FLOAT: json_array_append_new(r, json_real(sqlite3_column_double(st, c))); break;
            case SQLITE_NULL: json_array_append_new(r, json_null()); break;
            default: json_array_append_new(r, json_string((const char *)sqlite3_column_text(st, c)));
            }
        }
        json_array_append_new(out, r);
    }
    rc = step == SQLITE_DONE ? QK_OK : QK_EIO;
    if (rc != QK_OK)
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* The period's rows of members on the roster. */
#define IN_PERIOD "day BETWEEN ?1 AND ?2 AND member_id IN (SELECT id FROM roster)"
/* A member's last day of activity in the roll-ups' days (NULL: none). */
#define HELD_LAST(m) "(SELECT max(s.day) FROM stat_day s WHERE s.member_id = " m " AND s.acts > 0)"
/* The last day a member was active, ever: the roll-ups' or the one noted
 * below their range (stat_last). */
#define LAST(m)                                                                                    \
    "(SELECT date(max(d) * 86400, 'unixepoch') FROM (SELECT " HELD_LAST(m) " AS d"                \
    " UNION ALL SELECT l.day FROM stat_last l WHERE l.member_id = " m "))"

static const char sql_participation[] =
    "d AS (SELECT member_id FROM stat_day WHERE acts > 0 AND " IN_PERIOD "),"
    " t AS (SELECT * FROM stat_attempts WHERE " IN_PERIOD "),"
    " rn AS (SELECT count(*) AS n FROM roster)"
    " SELECT ?3, '', (SELECT n FROM rn), count(DISTINCT member_id),"
    " round(100.0 * count(DISTINCT member_id) / max((SELECT n FROM rn), 1), 1),"
    " round(1.0 * count(*) / max(count(DISTINCT member_id), 1), 1),"
    " (SELECT coalesce(sum(attempts), 0) FROM stat_day WHERE " IN_PERIOD ") FROM d"
    " UNION ALL SELECT * FROM (SELECT ?4, theme, (SELECT n FROM rn), count(DISTINCT member_id),"
    " round(100.0 * count(DISTINCT member_id) / max((SELECT n FROM rn), 1), 1), NULL, sum(scored)"
    " FROM t WHERE theme <> '' AND comp = '' GROUP BY theme HAVING sum(scored) > 0 ORDER BY theme)"
    " UNION ALL SELECT * FROM (SELECT ?5, comp, (SELECT n FROM rn), count(DISTINCT member_id),"
    " round(100.0 * count(DISTINCT member_id) / max((SELECT n FROM rn), 1), 1), NULL, sum(scored)"
    " FROM t WHERE comp <> '' GROUP BY comp HAVING sum(scored) > 0 ORDER BY comp)"
    /* branches side by side, when the roster has more than one (an admin's view) */
    " UNION ALL SELECT * FROM (SELECT ?12, coalesce((SELECT name FROM bnames WHERE id = r.branch)"
    " || '（' || r.branch || '）', r.branch), count(*), count(a.member_id),"
    " round(100.0 * count(a.member_id) / count(*), 1),"
    " round(1.0 * sum(a.days) / max(count(a.member_id), 1), 1), coalesce(sum(a.attempts), 0)"
    " FROM roster r LEFT JOIN (SELECT member_id, count(*) AS days, sum(attempts) AS attempts"
    " FROM stat_day WHERE acts > 0 AND day BETWEEN ?1 AND ?2 GROUP BY member_id) a"
    " ON a.member_id = r.id WHERE (SELECT count(DISTINCT branch) FROM roster) > 1"
    " GROUP BY r.branch ORDER BY r.branch)"
    " UNION ALL SELECT ?7, '', NULL, NULL, NULL, NULL, coalesce(sum(attempts), 0) FROM stat_day"
    " WHERE day BETWEEN ?1 AND ?2 AND member_id IN (SELECT k FROM guests)";

static const col cols_participation[] = {
    {"scope", "范围", "scope"},          {"name", "名称", "name"},
    {"roster", "名单人数", "on roster"}, {"active", "参与人数", "active"},
    {"rate_pct", "参与率%", "rate %"},   {"days_per_member", "人均活跃天数", "active days each"},
    {"attempts", "答题次数", "attempts"}};

/* points: total() cast back, saturating (forged awards summing past 2^63
 * stopped sum() with "integer overflow": the members list and the report
 * answered 500 for the whole branch); exact below 2^53. */
static const char sql_members[] =
    "d AS (SELECT member_id, sum(answers) AS answers, sum(correct) AS correct, sum(lessons) AS lessons,"
    " CAST(total(points) AS INTEGER) AS points, sum(acts > 0) AS days, sum(attempts) AS attempts, sum(scored) AS scored,"
    " sum(pct_sum) AS pct_sum, max(best_pct) AS best FROM stat_day WHERE " IN_PERIOD
    " GROUP BY member_id)"
    " SELECT m.id, m.name, m.dept, coalesce(d.attempts, 0), coalesce(d.answers, 0),"
    " round(100.0 * d.correct / nullif(d.answers, 0), 1), round(100.0 * d.pct_sum / nullif(d.scored, 0), 1),"
    " round(100.0 * d.best, 1), coalesce(d.lessons, 0),"
    /* the server's own figure for a member it could judge; else the devices' */
    " CASE WHEN m.id IN (SELECT member_id FROM judged) THEN (SELECT CAST(total(points) AS INTEGER)"
    "  FROM pts WHERE pts.member_id = m.id AND pts.day BETWEEN ?1 AND ?2)"
    "  ELSE coalesce(d.points, 0) END, coalesce(d.days, 0), "
    LAST("m.id") " FROM roster m LEFT JOIN d ON d.member_id = m.id ORDER BY m.id";

static const col cols_members[] = {
    {"member_id", "编号", "id"},          {"name", "姓名", "name"},
    {"dept", "科室", "department"},        {"attempts", "答题次数", "attempts"},
    {"answers", "答题数", "answers"},      {"accuracy_pct", "正确率%", "accuracy %"},
    {"avg_score_pct", "平均得分%", "average score %"}, {"best_score_pct", "最高得分%", "best score %"},
    {"lessons", "完成党课", "lessons"},    {"points", "积分", "points"},
    {"active_days", "活跃天数", "active days"}, {"last_active", "最近参与", "last active"}};

static const char sql_inactive[] =
    "out AS (SELECT m.id, m.name, m.dept, " LAST("m.id") " AS last FROM roster m"
    " WHERE m.id NOT IN (SELECT member_id FROM stat_day WHERE acts > 0 AND day BETWEEN ?1 AND ?2))"
    " SELECT * FROM out ORDER BY last IS NOT NULL, last, id";

static const col cols_inactive[] = {{"member_id", "编号", "id"},
                                    {"name", "姓名", "name"},
                                    {"dept", "科室", "department"},
                                    {"last_active", "最近参与", "last active"}};

static const char sql_themes[] =
    "t AS (SELECT * FROM stat_attempts WHERE " IN_PERIOD ")"
    " SELECT CASE WHEN comp <> '' THEN comp WHEN theme <> '' THEN theme ELSE '*' END,"
    " CASE WHEN comp <> '' THEN ?5 ELSE mode END, sum(scored), count(DISTINCT CASE WHEN scored > 0"
    " THEN member_id END), round(100.0 * sum(pct_sum) / nullif(sum(scored), 0), 1),"
    " sum(h0), sum(h1), sum(h2), sum(h3),"
    " round(min(100.0, 100.0 * sum(scored) / nullif(sum(started), 0)), 1)"
    " FROM t GROUP BY 1, 2 HAVING sum(scored) > 0 ORDER BY 3 DESC, 1, 2";

static const col cols_themes[] = {
    {"theme", "主题或竞赛", "theme or competition"}, {"mode", "方式", "mode"},
    {"attempts", "答题次数", "attempts"}, {"members", "参与人数", "members"},
    {"avg_score_pct", "平均得分%", "average score %"}, {"under_60", "<60%", "<60%"},
    {"from_60", "60–79%", "60-79%"}, {"from_80", "80–99%", "80-99%"}, {"full", "满分", "full marks"},
    {"completion_pct", "完成率%", "completion %"}};

/* Weeks start on Monday (1970-01-01 was a Thursday: day + 3 is 0 on Mondays
 * mod 7; kept 0..6 for days before 1970 too). Every week is a row, a week
 * without activity one of zeros (a gap would draw as a line across it, and
 * the weeks a branch stopped would not show at all): from the group's first
 * activity in the period to the period's end or today (?13), whichever is
 * earlier (its last activity when today is not known, or when that is
 * later: a device's clock ahead), ten years at most (a forged day cannot
 * make a request of half a million rows); none when the period has no
 * activity of the group. Only the group's own days and today bound it:
 * nothing of another branch shows. */
#define MONDAY(d) "(" d " - ((" d " + 3) % 7 + 7) % 7)"
static const char sql_trend[] =
    "d AS (SELECT * FROM stat_day WHERE " IN_PERIOD "),"
    " f AS (SELECT min(day) AS first, CASE WHEN ?13 > 0 THEN min(?2, max(?13, max(day)))"
    " ELSE max(day) END AS hi FROM d WHERE acts > 0),"
    " b AS (SELECT max(first, hi - 3653) AS lo, hi FROM f WHERE first IS NOT NULL),"
    " a AS (SELECT " MONDAY("day") " AS week, count(DISTINCT CASE WHEN acts > 0 THEN member_id END) AS n,"
    " sum(attempts) AS attempts, sum(answers) AS answers, sum(lessons) AS lessons FROM d GROUP BY 1),"
    " w(week) AS (SELECT " MONDAY("lo") " FROM b UNION ALL SELECT week + 7 FROM w, b WHERE week + 7 <= hi)"
    " SELECT date(w.week * 86400, 'unixepoch') AS week, coalesce(a.n, 0), coalesce(a.attempts, 0),"
    " coalesce(a.answers, 0), coalesce(a.lessons, 0) FROM w LEFT JOIN a ON a.week = w.week ORDER BY w.week";

static const col cols_trend[] = {{"week", "周（周一）", "week (Monday)"},
                                 {"active", "参与人数", "active members"},
                                 {"attempts", "答题次数", "attempts"},
                                 {"answers", "答题数", "answers"},
                                 {"lessons", "完成党课", "lessons"}};

/* The item analysis: each question's answers, members, facility (the
 * share right), discrimination (the share right among the strongest 27% of
 * the period's members by their share right, less among the weakest 27%:
 * at least one each, ties by id; only with four members or more) and most
 * chosen wrong answer; hardest first. SQLite gives the rows, C sums them
 * (item_analysis below): in SQL the 5M-event bench's month took 85-140 ms,
 * most of it four look-ups into the ranked members for every row and the
 * sorter of GROUP BY q. */
/* each question's answers by member: whole months from the monthly roll-up
 * (?8..?9), the days around them from the daily one (?1..?10 and ?11..?2);
 * a member may come in more than one row of a question */
static const char sql_item_answers[] =
    "a AS (SELECT q, member_id, n, ok FROM stat_answers_month WHERE month BETWEEN ?8 AND ?9"
    " AND member_id IN (SELECT id FROM roster) UNION ALL SELECT q, member_id, n, ok FROM stat_answers"
    " WHERE (day BETWEEN ?1 AND ?10 OR day BETWEEN ?11 AND ?2) AND member_id IN (SELECT id FROM roster))"
    " SELECT q, member_id, n, ok FROM a";
/* the members who answered in the period, 1 among the strongest, 2 the
 * weakest (3 both: fewer than four), by their share right */
static const char sql_item_ranks[] =
    "ability AS (SELECT member_id, 1.0 * sum(correct) / sum(answers) AS a FROM stat_day"
    " WHERE answers > 0 AND " IN_PERIOD " GROUP BY member_id),"
    " ranked AS (SELECT member_id, (row_number() OVER (ORDER BY a, member_id) >"
    " count(*) OVER () - (27 * count(*) OVER () + 99) / 100) AS top,"
    " (row_number() OVER (ORDER BY a, member_id) <= (27 * count(*) OVER () + 99) / 100) AS bottom"
    " FROM ability)"
    " SELECT member_id, top + 2 * bottom FROM ranked";
/* each question's most chosen wrong answer (ties by the response) */
static const char sql_item_wrong[] =
    "w AS (SELECT q, resp, sum(n) AS c, row_number() OVER"
    " (PARTITION BY q ORDER BY sum(n) DESC, resp) AS k FROM stat_wrong"
    " WHERE day BETWEEN ?1 AND ?2 AND grp IN (SELECT g FROM groups) GROUP BY q, resp)"
    " SELECT q, resp, c FROM w WHERE k = 1";

#define TOP_WRONG_COL 5 /* top_wrong's place in cols_questions */
static const col cols_questions[] = {
    {"question_id", "题目编号", "question id"}, {"answers", "作答次数", "answers"},
    {"members", "作答人数", "members"},         {"facility", "难度系数（答对率）", "facility"},
    {"discrimination", "区分度", "discrimination"}, {"top_wrong", "最常见错答（次数）", "most chosen wrong answer"},
    {"stem", "题干", "stem"}};

/* A question's sums (its map's cells). I_WRONG: its most chosen wrong
 * answer's offset in the texts + 1 (0: none). */
enum { I_N, I_OK, I_TOP_N, I_TOP_OK, I_LOW_N, I_LOW_OK, I_MEMBERS, I_WRONG, I_WRONG_C, I_CELLS };

typedef struct item {
    const char *q; /* NUL-terminated: the key */
    const qk__cell *c;
    double fac;
    int has_fac;
} item;

/* Hardest first (a question nobody answered, before them), then the most
 * answered, then by id: the order the SQL gave (ORDER BY fac, n DESC, q). */
static int item_order(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->has_fac != y->has_fac)
        return x->has_fac - y->has_fac;
    if (x->has_fac && x->fac != y->fac)
        return x->fac < y->fac ? -1 : 1;
    if (x->c[I_N].i != y->c[I_N].i)
        return x->c[I_N].i > y->c[I_N].i ? -1 : 1;
    return strcmp(x->q, y->q);
}

/* v rounded to two places as SQL's round() does (the figures are the ones
 * the SQL gave), or null; NULL when SQLite could not (out of memory). */
static json_t *rounded(sqlite3_stmt *round2, int has, double v)
{
    if (!has)
        return json_null();
    sqlite3_reset(round2);
    sqlite3_bind_double(round2, 1, v);
    if (sqlite3_step(round2) != SQLITE_ROW || sqlite3_column_type(round2, 0) != SQLITE_FLOAT)
        return NULL;
    return json_real(sqlite3_column_double(round2, 0));
}

typedef struct items {
    qk__amap qs, members, pairs; /* question -> sums; member -> rank; question NUL member -> seen */
    char *texts;                 /* the wrong answers */
    size_t tlen, tcap;
    unsigned char *key;
    size_t kcap;
} items;

/* key = a NUL b NUL (b may be NULL); its length, or 0 out of memory. */
static size_t item_key(items *it, const char *a, const char *b)
{
    size_t na = strlen(a) + 1, nb = b ? strlen(b) + 1 : 0;
    unsigned char *k = qk__grown(it->key, &it->kcap, na + nb, 256);
    if (!k)
        return 0;
    it->key = k;
    memcpy(k, a, na);
    if (b)
        memcpy(k + na, b, nb);
    return na + nb;
}

static const char *col_str(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

/* Sums the rows of the three queries into it; the members ranked as *nm. */
static int item_sums(sqlite3 *db, sqlite3_stmt *ranks, sqlite3_stmt *answers, sqlite3_stmt *wrong, items *it,
                     int64_t *nm, char *msg, size_t n)
{
    int step;
    *nm = 0;
    while ((step = sqlite3_step(ranks)) == SQLITE_ROW) {
        size_t kn = item_key(it, col_str(ranks, 0), NULL);
        qk__cell *c = kn ? qk__amap_get(&it->members, it->key, kn) : NULL;
        if (!c)
            return QK_ENOMEM;
        c[0].i = sqlite3_column_int64(ranks, 1);
        (*nm)++;
    }
    if (step == SQLITE_DONE) {
        while ((step = sqlite3_step(answers)) == SQLITE_ROW) {
            const char *q = col_str(answers, 0), *m = col_str(answers, 1);
            int64_t an = sqlite3_column_int64(answers, 2), ok = sqlite3_column_int64(answers, 3);
            size_t kn = item_key(it, m, NULL);
            const qk__cell *r = kn ? qk__amap_find(&it->members, it->key, kn) : NULL;
            int64_t rank = r ? r[0].i : 0;
            kn = item_key(it, q, m);
            qk__cell *seen = kn ? qk__amap_get(&it->pairs, it->key, kn) : NULL;
            if (!seen)
                return QK_ENOMEM;
            int first = seen[0].i == 0;
            seen[0].i = 1;
            qk__cell *c = qk__amap_get(&it->qs, it->key, strlen(q) + 1); /* the key's first part */
            if (!c)
                return QK_ENOMEM;
            c[I_N].i += an;
            c[I_OK].i += ok;
            c[I_MEMBERS].i += first;
            if (rank & 1) {
                c[I_TOP_N].i += an;
                c[I_TOP_OK].i += ok;
            }
            if (rank & 2) {
                c[I_LOW_N].i += an;
                c[I_LOW_OK].i += ok;
            }
        }
    }
    if (step == SQLITE_DONE) {
        while ((step = sqlite3_step(wrong)) == SQLITE_ROW) {
            const char *q = col_str(wrong, 0), *resp = col_str(wrong, 1);
            size_t kn = item_key(it, q, NULL);
            qk__cell *c = kn ? qk__amap_find(&it->qs, it->key, kn) : NULL;
            if (!c) /* wrong answers of a question not in the period's answers */
                continue;
            char *t = qk__grown(it->texts, &it->tcap, it->tlen + strlen(resp) + 1, 4096);
            if (!t)
                return QK_ENOMEM;
            it->texts = t;
            c[I_WRONG].i = (int64_t)it->tlen + 1;
            c[I_WRONG_C].i = sqlite3_column_int64(wrong, 2);
            memcpy(t + it->tlen, resp, strlen(resp) + 1);
            it->tlen += strlen(resp) + 1;
        }
    }
    if (step != SQLITE_DONE) {
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
        return step == SQLITE_NOMEM ? QK_ENOMEM : QK_EIO;
    }
    return QK_OK;
}

/* The questions' rows, hardest first, into out. */
static int item_rows(sqlite3_stmt *round2, items *it, int64_t nm, json_t *out)
{
    item *v = malloc((it->qs.n ? it->qs.n : 1) * sizeof *v);
    if (!v)
        return QK_ENOMEM;
    for (size_t i = 0; i < it->qs.n; i++) {
        uint32_t len;
        v[i].q = (const char *)qk__rec_key(&it->qs, it->qs.rec[i], &len);
        v[i].c = qk__rec_cells(&it->qs, it->qs.rec[i]);
        v[i].has_fac = v[i].c[I_N].i != 0;
        v[i].fac = v[i].has_fac ? 1.0 * (double)v[i].c[I_OK].i / (double)v[i].c[I_N].i : 0;
    }
    qsort(v, it->qs.n, sizeof *v, item_order);
    int rc = QK_OK;
    for (size_t i = 0; i < it->qs.n && rc == QK_OK; i++) {
        const qk__cell *c = v[i].c;
        int disc = nm >= 4 && c[I_TOP_N].i != 0 && c[I_LOW_N].i != 0;
        double hi = disc ? 1.0 * (double)c[I_TOP_OK].i / (double)c[I_TOP_N].i : 0;
        double lo = disc ? 1.0 * (double)c[I_LOW_OK].i / (double)c[I_LOW_N].i : 0;
        json_t *w = json_null();
        if (c[I_WRONG].i) {
            const char *resp = it->texts + c[I_WRONG].i - 1;
            size_t wn = strlen(resp) + 32;
            char *t = malloc(wn);
            w = NULL;
            if (t) {
                snprintf(t, wn, "%s (%lld)", resp, (long long)c[I_WRONG_C].i);
                w = json_string(t);
            }
            free(t);
        }
        json_t *fac = rounded(round2, v[i].has_fac, v[i].fac), *dis = rounded(round2, disc, hi - lo);
        json_t *r = w && fac && dis ? json_pack("[s, I, I, O, O, O]", v[i].q, (json_int_t)c[I_N].i,
                                                (json_int_t)c[I_MEMBERS].i, fac, dis, w)
                                    : NULL;
        json_decref(w);
        json_decref(fac);
        json_decref(dis);
        if (!r || json_array_append_new(out, r))
            rc = QK_ENOMEM;
    }
    free(v);
    return rc;
}

/* The item analysis (sql_item_* above) as rows into out. */
static int item_analysis(sqlite3 *db, const char *prefix, const qk_stats_query *q, const char *branch,
                         qk_lang lang, json_t *out, char *msg, size_t n)
{
    items it;
    memset(&it, 0, sizeof it);
    it.qs.nv = I_CELLS;
    it.members.nv = 1;
    it.pairs.nv = 1;
    int rc = QK_OK;
    int64_t nm = 0;
    sqlite3_stmt *ranks = query_for(db, prefix, sql_item_ranks, q, branch, lang, &rc, msg, n);
    sqlite3_stmt *answers = rc ? NULL : query_for(db, prefix, sql_item_answers, q, branch, lang, &rc, msg, n);
    sqlite3_stmt *wrong = rc ? NULL : query_for(db, prefix, sql_item_wrong, q, branch, lang, &rc, msg, n);
    sqlite3_stmt *round2 = NULL;
    int prc = rc == QK_OK ? sqlite3_prepare_v2(db, "SELECT round(?1, 2)", -1, &round2, NULL) : SQLITE_OK;
    if (prc != SQLITE_OK) {
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
        rc = prc == SQLITE_NOMEM ? QK_ENOMEM : QK_EIO;
    }
    /* The three read one snapshot, as the one query they replace did (a
     * refresh on another connection may commit between them); inside the
     * caller's transaction when there is one. */
    int own = rc == QK_OK && sqlite3_get_autocommit(db);
    if (own && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
        rc = QK_EIO;
        own = 0;
    }
    if (rc == QK_OK)
        rc = item_sums(db, ranks, answers, wrong, &it, &nm, msg, n);
    if (own) {
        sqlite3_reset(ranks);
        sqlite3_reset(answers);
        sqlite3_reset(wrong);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL); /* (it wrote nothing) */
    }
    if (rc == QK_OK)
        rc = item_rows(round2, &it, nm, out);
    if (rc == QK_ENOMEM)
        snprintf(msg, n, "stats: out of memory");
    sqlite3_finalize(ranks);
    sqlite3_finalize(answers);
    sqlite3_finalize(wrong);
    sqlite3_finalize(round2);
    qk__amap_free(&it.qs);
    qk__amap_free(&it.members);
    qk__amap_free(&it.pairs);
    free(it.texts);
    free(it.key);
    return rc;
}

/* Attempts whose scores the server doubts: the device's total differs from
 * the server's, answers faster than a competition allows, or begun outside
 * its window. Listed apart; the figures use the server's scores. */
static const char sql_flagged[] =
    "fa AS (SELECT a.*, " DAY_OF("coalesce((SELECT st.created_ms FROM events st"
    " WHERE st.attempt_id = a.attempt_id AND st.kind = 'attempt.start'), a.finished_ms)") " AS day"
    " FROM attempt_scores a WHERE (mismatch OR flagged OR outside_window)"
    /* a finish comes after its start: the index on finished_ms narrows first */
    " AND a.finished_ms >= ?1 * 86400000 - 28800000),"
    " f AS (SELECT * FROM fa WHERE day BETWEEN ?1 AND ?2)"
    " SELECT * FROM (SELECT date(f.day * 86400, 'unixepoch'), f.member_id, m.name, f.attempt_id,"
    " f.competition, f.device_score, f.server_score, f.max, f.device_points, f.server_points,"
    " f.mismatch, f.flagged, f.outside_window,"
    " f.device_id FROM f JOIN roster m ON m.id = f.member_id ORDER BY f.finished_ms, f.attempt_id)"
    /* devices whose study-point awards to a member differ from what their
     * own events give by the rules (the server's figure is the one counted):
     * listed whatever the period, until the device's events agree */
    " UNION ALL SELECT * FROM (SELECT NULL, c.member_id, m.name, ?3, '', NULL, NULL, NULL,"
    " c.claimed, c.expected, 1, 0, 0, c.device_id FROM claims c JOIN roster m ON m.id = c.member_id"
    " WHERE c.claimed <> c.expected ORDER BY c.member_id, c.device_id)";

static const col cols_flagged[] = {
    {"day", "日期", "day"},                    {"member_id", "编号", "id"},
    {"name", "姓名", "name"},                  {"attempt_id", "答题记录", "attempt"},
    {"competition", "竞赛", "competition"},    {"device_score", "终端得分", "device score"},
    {"server_score", "服务器得分", "server score"}, {"max", "满分", "max"},
    {"device_points", "终端竞赛积分", "device points"}, {"server_points", "服务器竞赛积分", "server points"},
    {"mismatch", "得分不符", "scores differ"}, {"too_fast", "答题过快", "too fast"},
    {"outside_window", "不在竞赛时段", "outside window"}, {"device_id", "终端", "device"}};

/* Each subject's query (NULL: item_analysis) and columns. */
static const struct {
    const char *sql;
    const col *cols;
    size_t n;
} subj[QK_STATS_COUNT] = {
    {sql_participation, cols_participation, sizeof cols_participation / sizeof(col)},
    {sql_members, cols_members, sizeof cols_members / sizeof(col)},
    {sql_inactive, cols_inactive, sizeof cols_inactive / sizeof(col)},
    {sql_themes, cols_themes, sizeof cols_themes / sizeof(col)},
    {sql_trend, cols_trend, sizeof cols_trend / sizeof(col)},
    {NULL, cols_questions, sizeof cols_questions / sizeof(col)}, /* item_analysis */
    {sql_flagged, cols_flagged, sizeof cols_flagged / sizeof(col)},
};

/* Adds each question's stem from the bundle (the last column; null when
 * not known). */
static void add_stems(json_t *rows_, qk_bundle *b)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows_, i, r)
        json_array_append_new(r, json_null());
    if (b)
        qk_stats_fill_stems(rows_, b);
}

/* The most chosen wrong answer, "resp (n)" with resp as the log keeps it
 * (the question's own letters, which nobody was shown: options are shuffled
 * for each person), as a person reads it: the options' text, "1927年 (3)";
 * true/false as 对/错; the blanks typed, apart ("1900 | x (1)"). Left as it
 * is when it does not fit the question. */
static void wrong_as_text(json_t *r, const qk_question *q, qk_lang lang)
{
    const char *cell = json_string_value(json_array_get(r, TOP_WRONG_COL));
    const char *count = cell ? strrchr(cell, '(') : NULL;
    if (!count || count == cell || count[-1] != ' ')
        return;
    char *resp = strndup(cell, (size_t)(count - cell - 1));
    qk_response rs;
    char *text = NULL;
    const char *only = "";
    if (resp && qk_response_parse(&rs, q, NULL, resp, NULL) == QK_OK) {
        qk_response_show(&text, q, NULL, &rs, lang, QK_SHOW_TEXT);
        /* some of the right options and nothing else: wrong for what is
         * missing, which "用法 (3)" alone would not say */
        uint32_t right = 0;
        for (size_t k = 0; k < q->n_options && k < 32; k++)
            right |= q->options[k].correct ? 1u << k : 0;
        if (q->type == QK_Q_MULTI && rs.choices && (rs.choices & ~right) == 0 && rs.choices != right)
            only = lang == QK_LANG_EN ? "only " : "只选了 ";
        qk_response_clear(&rs);
    }
    size_t n = text ? strlen(only) + strlen(text) + strlen(count) + 2 : 0;
    char *both = n ? malloc(n) : NULL;
    if (both) {
        snprintf(both, n, "%s%s %s", only, text, count);
        json_array_set_new(r, TOP_WRONG_COL, json_string(both));
    }
    free(both);
    free(text);
    free(resp);
}

void qk_stats_fill_stems(json_t *rows_, qk_bundle *b)
{
    const char *language = qk_bundle_info_get(b)->language;
    qk_lang lang = language && strncmp(language, "en", 2) == 0 ? QK_LANG_EN : QK_LANG_ZH;
    size_t i;
    json_t *r;
    json_array_foreach(rows_, i, r)
    {
        qk_question *q = NULL;
        const char *id = json_string_value(json_array_get(r, 0));
        size_t last = json_array_size(r) - 1;
        if (id && json_is_null(json_array_get(r, last)) && qk_bundle_question(b, id, &q) == QK_OK) {
            json_array_set_new(r, last, json_string(q->stem));
            wrong_as_text(r, q, lang);
        }
        qk_question_free(q);
    }
}

/* Where a table names a theme or a competition: the row's cell that holds
 * the id (-1: none), and whether it is a competition. */
static int id_cell(const char *subject, json_t *row, int *comp)
{
    const char *scope = json_string_value(json_array_get(row, 0));
    const char *mode = json_string_value(json_array_get(row, 1));
    if (strcmp(subject, "participation") == 0 && scope) {
        *comp = strcmp(scope, "竞赛") == 0 || strcmp(scope, "competition") == 0;
        return *comp || strcmp(scope, "主题") == 0 || strcmp(scope, "theme") == 0 ? 1 : -1;
    }
    if (strcmp(subject, "themes") == 0 && mode) {
        *comp = strcmp(mode, "竞赛") == 0 || strcmp(mode, "competition") == 0;
        return 0;
    }
    return -1;
}

void qk_stats_fill_titles(json_t *table, qk_bundle *b)
{
    const char *subject = json_string_value(json_object_get(table, "subject"));
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(table, "rows"), i, row)
    {
        int comp = 0, k = subject && b ? id_cell(subject, row, &comp) : -1;
        const char *id = k >= 0 ? json_string_value(json_array_get(row, (size_t)k)) : NULL;
        if (!id || strcmp(id, "*") == 0)
            continue;
        if (comp) {
            qk_competition *c = NULL;
            if (qk_competition_get(b, id, &c) == QK_OK && c->title)
                json_array_set_new(row, (size_t)k, json_string(c->title));
            qk_competition_free(c);
        } else {
            const qk_theme *th = qk_bundle_theme_find(b, id);
            if (th && th->title && strcmp(th->id, id) == 0)
                json_array_set_new(row, (size_t)k, json_string(th->title));
        }
    }
}

void qk_stats_name_competition(json_t *table, const char *id, const char *title)
{
    const char *subject = json_string_value(json_object_get(table, "subject"));
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(table, "rows"), i, row)
    {
        int comp = 0, k = subject && id && title ? id_cell(subject, row, &comp) : -1;
        const char *cell = k >= 0 ? json_string_value(json_array_get(row, (size_t)k)) : NULL;
        if (comp && cell && strcmp(cell, id) == 0)
            json_array_set_new(row, (size_t)k, json_string(title));
    }
}

/* Moves the last element of a to the front. */
static void last_first(json_t *a)
{
    size_t n = json_array_size(a);
    if (n < 2)
        return;
    json_t *last = json_incref(json_array_get(a, n - 1));
    json_array_remove(a, n - 1);
    json_array_insert_new(a, 0, last);
}

void qk_stats_stem_first(json_t *table)
{
    const char *subject = json_string_value(json_object_get(table, "subject"));
    if (!subject || strcmp(subject, "questions") != 0)
        return;
    json_t *cols = json_object_get(table, "columns");
    const char *key = json_string_value(json_object_get(json_array_get(cols, json_array_size(cols) - 1), "key"));
    if (!key || strcmp(key, "stem") != 0)
        return; /* done already */
    last_first(cols);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(table, "rows"), i, row)
        last_first(row);
    /* the id after the figures, not between the stem and them */
    json_t *id = json_incref(json_array_get(cols, 1));
    json_array_remove(cols, 1);
    json_array_append_new(cols, id);
    json_array_foreach(json_object_get(table, "rows"), i, row)
    {
        json_t *v = json_incref(json_array_get(row, 1));
        json_array_remove(row, 1);
        json_array_append_new(row, v);
    }
}

void qk_stats_name_modes(json_t *table, qk_lang lang)
{
    static const struct {
        const char *code, *zh, *en;
    } modes[] = {{"practice", "练习", "practice"},       {"exam", "考试", "exam"},
                 {"daily", "每日答题", "daily quiz"},     {"challenge", "挑战答题", "challenge"},
                 {"review", "错题复习", "wrong-answer review"}, {"srs", "间隔复习", "spaced review"},
                 {"lesson", "党课", "lesson"}};
    const char *subject = json_string_value(json_object_get(table, "subject"));
    if (!subject || strcmp(subject, "themes") != 0)
        return;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(table, "rows"), i, row)
    {
        const char *theme = json_string_value(json_array_get(row, 0));
        const char *mode = json_string_value(json_array_get(row, 1));
        if (theme && strcmp(theme, "*") == 0)
            json_array_set_new(row, 0, json_string(lang == QK_LANG_EN ? "All themes" : "全部主题"));
        for (size_t m = 0; mode && m < sizeof modes / sizeof modes[0]; m++)
            if (strcmp(mode, modes[m].code) == 0) {
                json_array_set_new(row, 1, json_string(lang == QK_LANG_EN ? modes[m].en : modes[m].zh));
                break;
            }
    }
}

/* Members and inactive show each member's last day of activity ever, and
 * a first query on an old store must not take in all its years for that
 * (issue 17: 19 s on 5M events). A member with days in the roll-ups needs
 * the events below their range ('events_lo') only on a span whose last
 * day is as late as theirs (the earliest such day over the roster is what
 * the query's window then reaches back to). A member with none, one who
 * stopped taking part long ago or never did, has their last day below the
 * range read once from their own events by their index (the roll-up's
 * rule, decision 10: an event counts on the day its attempt began) and
 * noted in stat_last: events are never changed or taken away, and the
 * range only grows downwards, so the note stays true. */
#define LAST_BELOW                                                                                 \
    "(SELECT max(" DAY_OF("coalesce((SELECT st.created_ms FROM events st WHERE st.attempt_id ="   \
    " e.attempt_id AND st.kind = 'attempt.start' LIMIT 1), e.created_ms)") ")"                     \
    " FROM events e INDEXED BY events_member_kind WHERE e.member_id = m.id AND e.rowid <= ?1"      \
    " AND e.created_ms BETWEEN 0 AND " QK_SQL_EVENT_TIME_MAX                                       \
    /* what the roll-up counts as activity (stats_rollup.c, take) */                              \
    " AND (e.kind = 'answer' OR e.kind LIKE 'attempt.%' OR e.kind LIKE 'lesson.%'))"
#define DAYLESS                                                                                    \
    "dayless AS (SELECT m.id FROM roster m WHERE NOT EXISTS (SELECT 1 FROM stat_last l"           \
    " WHERE l.member_id = m.id) AND NOT EXISTS (SELECT 1 FROM stat_day s WHERE s.member_id = m.id"  \
    " AND s.acts > 0))"

static const char sql_dayless_any[] = DAYLESS " SELECT EXISTS (SELECT 1 FROM dayless)";
static const char sql_note_last[] =
    DAYLESS ", noted AS (SELECT m.id, " LAST_BELOW " AS day FROM roster m WHERE m.id IN dayless)"
    " INSERT INTO stat_last(member_id, day) SELECT id, day FROM noted WHERE true";
/* the earliest last day over members with days and no note */
static const char sql_reach[] =
    "one AS (SELECT 1) SELECT min(" HELD_LAST("m.id") ") FROM roster m"
    " WHERE NOT EXISTS (SELECT 1 FROM stat_last l WHERE l.member_id = m.id)";

/* Runs a roster query (the backend's prefix, then body; ?1 lo, ?6 the
 * branch): its first column as *v (INT64_MAX for NULL). 0, or -1. */
static int roster_query(sqlite3 *db, const backend *be, const char *branch, const char *body, int64_t lo,
                        int64_t *v)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare_after(db, be->prefix, body, &st) == SQLITE_OK ? 0 : -1;
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, lo);
        if (branch && sqlite3_bind_parameter_count(st) >= 6)
            sqlite3_bind_text(st, 6, branch, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && v)
            *v = sqlite3_column_type(st, 0) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 0);
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The first day the members' last days need the roll-ups to reach back to
 * (INT64_MAX: none before the period's); -1 when it cannot tell (no
 * stat_last yet: roll-ups of a binary before it). */
static int last_days_reach(sqlite3 *db, const backend *be, const char *branch, int64_t lo, int64_t *day)
{
    *day = INT64_MIN;
    return roster_query(db, be, branch, sql_reach, lo, day);
}

static int shows_last_days(const qk_stats_query *q)
{
    return q->subject == QK_STATS_MEMBERS || q->subject == QK_STATS_INACTIVE;
}

/* Notes the last day below the range of each member on the roster with no
 * day in the roll-ups (above), when there is one not noted yet. */
static int note_last_days(sqlite3 *db, const backend *be, const qk__write_turn *turn, const char *branch,
                          char *msg, size_t n)
{
    int64_t any = 0, lo = state_of(db, "events_lo", 0);
    if (lo <= 0 || (roster_query(db, be, branch, sql_dayless_any, lo, &any) == 0 && any != 1))
        return QK_OK; /* the roll-ups hold every event; or none to note */
    if (turn)
        turn->take(turn->arg);
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    /* (roll-ups made before stat_last have none yet) */
    if (rc == 0 && sqlite3_exec(db, rollup_schema, NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    if (rc == 0) { /* the range as it is now, inside the transaction */
        lo = state_of(db, "events_lo", 0);
        rc = roster_query(db, be, branch, sql_note_last, lo, NULL);
        if (sqlite3_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
            rc = -1;
    }
    if (rc != 0) {
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (turn)
        turn->give(turn->arg);
    return rc == 0 ? QK_OK : QK_EIO;
}

/* Brings the roll-ups far enough back for every member's last day of
 * activity, a chunk at a time. */
static int refresh_last_days(sqlite3 *db, const backend *be, const qk__write_turn *turn, const char *branch,
                             char *msg, size_t n)
{
    for (;;) {
        int rc = note_last_days(db, be, turn, branch, msg, n);
        int64_t lo = state_of(db, "events_lo", 0);
        if (rc != QK_OK || lo <= 0)
            return rc;
        window w = {REFRESH_CHUNK, SPAN_SHIFT, INT64_MIN};
        last_days_reach(db, be, branch, lo, &w.from_day); /* INT64_MIN when unknown: every event */
        if (w.from_day == INT64_MAX || needed_above(db, lo, w.from_day) >= lo)
            return QK_OK;
        /* a member's later day found may need older spans again: asked anew */
        int more = 0;
        rc = refresh_step(db, be, turn, &w, &more, msg, n);
        if (rc != QK_OK || (!more && state_of(db, "events_lo", 0) == lo))
            return rc;
    }
}

static int run_stats_db(sqlite3 *db, const backend *be, const qk__write_turn *turn, const char *branch,
                        const qk_stats_query *q,
                        qk_lang lang, json_t **out, char *msg, size_t msglen)
{
    *out = NULL;
    int rc0 = qk__stats_query_ok(q, msg, msglen);
    if (rc0 != QK_OK)
        return rc0;
    if (q->subject == QK_STATS_FLAGGED && be != &server_backend) {
        snprintf(msg, msglen,
                 lang == QK_LANG_EN
                     ? "stats flagged: only the server re-scores attempts; ask it with --server"
                     : "stats flagged：只有服务器会复核得分，请用 --server 查询");
        return QK_EINVAL;
    }
    json_t *r = json_array();
    int rc = refresh(db, be, turn, q->from_day, msg, msglen);
    if (rc == QK_OK && shows_last_days(q))
        rc = refresh_last_days(db, be, turn, branch, msg, msglen);
    if (rc == QK_OK && q->subject == QK_STATS_QUESTIONS)
        rc = item_analysis(db, be->prefix, q, branch, lang, r, msg, msglen);
    else if (rc == QK_OK)
        rc = rows(db, be->prefix, subj[q->subject].sql, q, branch, lang, r, msg, msglen);
    if (rc != QK_OK) {
        json_decref(r);
        return rc;
    }
    *out = qk__stats_table(q, branch, r);
    return *out ? QK_OK : QK_ENOMEM;
}

json_t *qk__stats_table(const qk_stats_query *q, const char *branch, json_t *rows_)
{
    char from[QK_DATE_LEN], to[QK_DATE_LEN];
    qk_stats_day_text(q->from_day, from);
    qk_stats_day_text(q->to_day, to);
    if (q->subject == QK_STATS_QUESTIONS)
        add_stems(rows_, q->bundle);
    return json_pack("{s:s, s:s, s:s, s:s?, s:o, s:o}", "subject", subject_names[q->subject], "from",
                     from, "to", to, "branch", branch, "columns",
                     columns(subj[q->subject].cols, subj[q->subject].n), "rows", rows_);
}

int qk__stats_query_ok(const qk_stats_query *q, char *msg, size_t msglen)
{
    if ((unsigned)q->subject >= QK_STATS_COUNT || q->to_day < q->from_day) {
        snprintf(msg, msglen, "stats: bad query");
        return QK_EINVAL;
    }
    return QK_OK;
}

/* A device's progress file for the statistics; NULL with msg naming it. */
static sqlite3 *open_progress(const char *path, int flags, char *msg, size_t msglen)
{
    sqlite3 *db = NULL;
    /* one thread uses it: no mutex on every call */
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(msg, msglen, "%s: %s", path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

int qk_stats_local(const char *progress_path, const qk_stats_query *q, qk_lang lang, json_t **out,
                   char *msg, size_t msglen)
{
    *out = NULL;
    sqlite3 *db = open_progress(progress_path, SQLITE_OPEN_READWRITE, msg, msglen);
    if (!db)
        return QK_EIO;
    int rc = run_stats_db(db, &local_backend, NULL, NULL, q, lang, out, msg, msglen);
    sqlite3_close(db);
    return rc;
}

int qk_stats_local_pending(const char *progress_path, const qk_stats_query *q, int64_t *events, char *msg,
                           size_t msglen)
{
    *events = 0;
    sqlite3 *db = open_progress(progress_path, SQLITE_OPEN_READONLY, msg, msglen);
    if (!db)
        return QK_EIO;
    int64_t last = scalar(db, "SELECT max(rowid) FROM events", 0);
    /* a missing stat_state reads as "none taken in" */
    int current = state_of(db, "version", 0) == ROLLUP_VERSION;
    int64_t taken = current ? state_of(db, "events", 0) : 0;
    *events = last > taken ? last - taken : 0;
    /* and the older ones the period reaches back to */
    int64_t lo = current ? state_of(db, "events_lo", 0) : 0;
    int64_t from_day = q->from_day;
    int64_t reach = 0;
    /* as far as is known now (no stat_last yet: its notes are made from
     * each member's own events, not by taking older ones in) */
    if (lo > 0 && shows_last_days(q) && last_days_reach(db, &local_backend, NULL, lo, &reach) == 0)
        from_day = reach < from_day ? reach : from_day;
    *events += lo - needed_above(db, lo, from_day);
    sqlite3_close(db);
    return QK_OK;
}

int qk__stats_sqlite(sqlite3 *db, const qk__write_turn *turn, const char *branch, const qk_stats_query *q,
                     qk_lang lang, json_t **out, char *msg, size_t msglen)
{
    return run_stats_db(db, &server_backend, turn, branch, q, lang, out, msg, msglen);
}

void qk_stats_cell_text(json_t *v, char *buf, size_t n)
{
    if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%g", json_real_value(v));
    else if (json_is_string(v))
        snprintf(buf, n, "%s", json_string_value(v));
    else
        buf[0] = '\0';
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

char *qk_stats_csv(json_t *t, qk_lang lang, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    fputs("\xef\xbb\xbf", f); /* the BOM Excel needs to read UTF-8 */
    size_t i, k;
    json_t *head, *row, *v;
    json_array_foreach(json_object_get(t, "columns"), i, head)
    {
        if (i)
            fputc(',', f);
        csv_field(f, json_string_value(json_object_get(head, lang == QK_LANG_EN ? "en" : "zh")));
    }
    fputs("\r\n", f);
    json_array_foreach(json_object_get(t, "rows"), i, row)
    {
        json_array_foreach(row, k, v)
        {
            char cellbuf[1024];
            qk_stats_cell_text(v, cellbuf, sizeof cellbuf);
            if (k)
                fputc(',', f);
            csv_field(f, cellbuf);
        }
        fputs("\r\n", f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}
