/* stats.c: participation statistics (qk_stats.h). Each subject is one SQL
 * query over the events; the local progress file and (later) the server's
 * store share the events' shape, so the queries only differ in where the
 * roster lives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "qk_stats.h"

#define DAY_MS 86400000LL
#define BJ_MS 28800000LL /* UTC+8 */

static const char *const subject_names[QK_STATS_COUNT] = {"participation", "members", "inactive",
                                                          "themes", "trend", "questions"};

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

void qk_stats_day_text(int64_t day, char out[16])
{
    qk_beijing_date(day * DAY_MS - BJ_MS, out); /* the day's first moment in Beijing */
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

/* Where the roster and the scores come from: a device's own file (its
 * members; the scores it gave), or the server's store (a branch's members, ?6,
 * or all; the server's own re-scored scores). */
static const char local_prefix[] =
    "WITH roster AS (SELECT id, name, dept FROM members),"
    " scores AS (SELECT attempt_id, json_extract(payload, '$.score') AS score,"
    " json_extract(payload, '$.max') AS max FROM events WHERE kind = 'attempt.finish'), ";
static const char server_prefix[] =
    "WITH roster AS (SELECT id, name, dept FROM members WHERE ?6 IS NULL OR branch_id = ?6),"
    " scores AS (SELECT e.attempt_id, coalesce(a.server_score, json_extract(e.payload, '$.score'))"
    " AS score, coalesce(a.max, json_extract(e.payload, '$.max')) AS max FROM events e"
    " LEFT JOIN attempt_scores a ON a.attempt_id = e.attempt_id WHERE e.kind = 'attempt.finish'), ";

/* Runs sql with the period bound as ?1 (from, ms) and ?2 (to, exclusive ms);
 * each result row becomes an array. */
static int rows(sqlite3 *db, const char *prefix, const char *body, const qk_stats_query *q,
                const char *branch, qk_lang lang, json_t *out, char *msg, size_t n)
{
    sqlite3_stmt *st = NULL;
    size_t len = strlen(prefix) + strlen(body) + 1;
    char *sql = malloc(len);
    if (!sql)
        return QK_ENOMEM;
    snprintf(sql, len, "%s%s", prefix, body);
    int prc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    free(sql);
    if (prc != SQLITE_OK) {
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
        return QK_EIO;
    }
    sqlite3_bind_int64(st, 1, q->from_day * DAY_MS - BJ_MS);
    sqlite3_bind_int64(st, 2, (q->to_day + 1) * DAY_MS - BJ_MS);
    /* Labels some subjects put in their rows. */
    int en = lang == QK_LANG_EN;
    int np = sqlite3_bind_parameter_count(st);
    if (np >= 5) {
        sqlite3_bind_text(st, 3, en ? "all" : "全部", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, en ? "theme" : "主题", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, en ? "competition" : "竞赛", -1, SQLITE_STATIC);
    }
    if (np >= 6 && branch)
        sqlite3_bind_text(st, 6, branch, -1, SQLITE_STATIC);
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
    int rc = step == SQLITE_DONE ? QK_OK : QK_EIO;
    if (rc != QK_OK)
        snprintf(msg, n, "stats: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* Activity in the period: attempts, answers and lessons of members on the roster. */
#define ACT                                                                                        \
    "act AS (SELECT member_id, kind, attempt_id, payload, (created_ms + 28800000) / 86400000 AS day" \
    " FROM events WHERE member_id IN (SELECT id FROM roster)"                                        \
    " AND (kind = 'answer' OR kind LIKE 'attempt.%' OR kind LIKE 'lesson.%')"                        \
    " AND created_ms >= ?1 AND created_ms < ?2)"
/* Finished attempts in the period with their mode, theme and competition. */
#define FIN                                                                                        \
    "fin AS (SELECT f.member_id, f.attempt_id, json_extract(s.payload, '$.mode') AS mode,"           \
    " json_extract(s.payload, '$.theme') AS theme, json_extract(s.payload, '$.competition') AS comp," \
    " sc.score AS score, sc.max AS max"                                                              \
    " FROM events f JOIN events s ON s.attempt_id = f.attempt_id AND s.kind = 'attempt.start'"       \
    " JOIN scores sc ON sc.attempt_id = f.attempt_id"                                                \
    " WHERE f.kind = 'attempt.finish' AND f.member_id IN (SELECT id FROM roster)"                    \
    " AND f.created_ms >= ?1 AND f.created_ms < ?2)"
/* The last day each member was active, ever. */
#define LAST                                                                                       \
    "last AS (SELECT member_id, date(max(created_ms + 28800000) / 1000, 'unixepoch') AS day"         \
    " FROM events WHERE member_id IS NOT NULL AND (kind = 'answer' OR kind LIKE 'attempt.%'"          \
    " OR kind LIKE 'lesson.%') GROUP BY member_id)"

static const char sql_participation[] =
    ACT ", " FIN ", rn AS (SELECT count(*) AS n FROM roster)"
    " SELECT ?3, '', (SELECT n FROM rn), count(DISTINCT member_id),"
    " round(100.0 * count(DISTINCT member_id) / max((SELECT n FROM rn), 1), 1),"
    " round(1.0 * count(DISTINCT member_id || '/' || day) / max(count(DISTINCT member_id), 1), 1),"
    " (SELECT count(*) FROM fin) FROM act"
    " UNION ALL SELECT ?4, theme, (SELECT n FROM rn), count(DISTINCT member_id),"
    " round(100.0 * count(DISTINCT member_id) / max((SELECT n FROM rn), 1), 1), NULL, count(*)"
    " FROM fin WHERE theme IS NOT NULL AND comp IS NULL GROUP BY theme"
    " UNION ALL SELECT ?5, comp, (SELECT n FROM rn), count(DISTINCT member_id),"
    " round(100.0 * count(DISTINCT member_id) / max((SELECT n FROM rn), 1), 1), NULL, count(*)"
    " FROM fin WHERE comp IS NOT NULL GROUP BY comp";

static const col cols_participation[] = {
    {"scope", "范围", "scope"},          {"name", "名称", "name"},
    {"roster", "名单人数", "on roster"}, {"active", "参与人数", "active"},
    {"rate_pct", "参与率%", "rate %"},   {"days_per_member", "人均活跃天数", "active days each"},
    {"attempts", "答题次数", "attempts"}};

/* One pass over the period's events per figure, joined to the roster. */
static const char sql_members[] =
    ACT ", " FIN ", " LAST ","
    " agg AS (SELECT member_id, sum(kind = 'answer') AS answers,"
    " round(100.0 * avg(CASE WHEN kind = 'answer' THEN json_extract(payload, '$.correct') END), 1)"
    " AS acc, sum(kind = 'lesson.finish') AS lessons, count(DISTINCT day) AS days"
    " FROM act GROUP BY member_id),"
    " fa AS (SELECT member_id, count(*) AS attempts,"
    " round(100.0 * avg(CASE WHEN max > 0 THEN 1.0 * score / max END), 1) AS avg_pct,"
    " round(100.0 * max(CASE WHEN max > 0 THEN 1.0 * score / max END), 1) AS best_pct"
    " FROM fin GROUP BY member_id),"
    " pts AS (SELECT member_id, sum(json_extract(payload, '$.amount')) AS points FROM events"
    " WHERE kind IN ('points.award', 'points.correction') AND created_ms >= ?1 AND created_ms < ?2"
    " GROUP BY member_id)"
    " SELECT m.id, m.name, m.dept, coalesce(fa.attempts, 0), coalesce(agg.answers, 0), agg.acc,"
    " fa.avg_pct, fa.best_pct, coalesce(agg.lessons, 0), coalesce(pts.points, 0),"
    " coalesce(agg.days, 0), last.day"
    " FROM roster m LEFT JOIN agg ON agg.member_id = m.id LEFT JOIN fa ON fa.member_id = m.id"
    " LEFT JOIN pts ON pts.member_id = m.id LEFT JOIN last ON last.member_id = m.id ORDER BY m.id";

static const col cols_members[] = {
    {"member_id", "编号", "id"},          {"name", "姓名", "name"},
    {"dept", "科室", "department"},        {"attempts", "答题次数", "attempts"},
    {"answers", "答题数", "answers"},      {"accuracy_pct", "正确率%", "accuracy %"},
    {"avg_score_pct", "平均得分%", "average score %"}, {"best_score_pct", "最高得分%", "best score %"},
    {"lessons", "完成党课", "lessons"},    {"points", "积分", "points"},
    {"active_days", "活跃天数", "active days"}, {"last_active", "最近参与", "last active"}};

static const char sql_inactive[] =
    ACT ", " LAST
    " SELECT m.id, m.name, m.dept, (SELECT day FROM last WHERE last.member_id = m.id)"
    " FROM roster m WHERE m.id NOT IN (SELECT member_id FROM act)"
    " ORDER BY (SELECT day FROM last WHERE last.member_id = m.id) IS NOT NULL,"
    " (SELECT day FROM last WHERE last.member_id = m.id), m.id";

static const col cols_inactive[] = {{"member_id", "编号", "id"},
                                    {"name", "姓名", "name"},
                                    {"dept", "科室", "department"},
                                    {"last_active", "最近参与", "last active"}};

static const char sql_themes[] =
    FIN " SELECT coalesce(comp, theme, '*'), CASE WHEN comp IS NOT NULL THEN ?5"
    " ELSE mode END, count(*), count(DISTINCT member_id),"
    " round(100.0 * avg(1.0 * score / max), 1),"
    " sum(1.0 * score / max < 0.6), sum(1.0 * score / max >= 0.6 AND 1.0 * score / max < 0.8),"
    " sum(1.0 * score / max >= 0.8 AND 1.0 * score / max < 1), sum(score = max)"
    " FROM fin WHERE max > 0 GROUP BY 1, 2 ORDER BY 3 DESC, 1";

static const col cols_themes[] = {
    {"theme", "主题或竞赛", "theme or competition"}, {"mode", "方式", "mode"},
    {"attempts", "答题次数", "attempts"}, {"members", "参与人数", "members"},
    {"avg_score_pct", "平均得分%", "average score %"}, {"under_60", "<60%", "<60%"},
    {"from_60", "60–79%", "60-79%"}, {"from_80", "80–99%", "80-99%"}, {"full", "满分", "full marks"}};

/* Weeks start on Monday (1970-01-01 was a Thursday: day + 3 is 0 on Mondays mod 7). */
static const char sql_trend[] =
    ACT " SELECT date((day - (day + 3) % 7) * 86400, 'unixepoch') AS week,"
    " count(DISTINCT member_id), sum(kind = 'attempt.finish'), sum(kind = 'answer'),"
    " sum(kind = 'lesson.finish') FROM act GROUP BY week ORDER BY week";

static const col cols_trend[] = {{"week", "周（周一）", "week (Monday)"},
                                 {"active", "参与人数", "active members"},
                                 {"attempts", "答题次数", "attempts"},
                                 {"answers", "答题数", "answers"},
                                 {"lessons", "完成党课", "lessons"}};

static const char sql_questions[] =
    "ans AS (SELECT member_id, json_extract(payload, '$.q') AS q,"
    " json_extract(payload, '$.correct') AS ok, json_extract(payload, '$.response') AS resp"
    " FROM events WHERE kind = 'answer' AND member_id IN (SELECT id FROM roster)"
    " AND created_ms >= ?1 AND created_ms < ?2),"
    " ability AS (SELECT member_id, avg(ok) AS a FROM ans GROUP BY member_id),"
    /* the weakest and strongest 27% (at least one each), ties by id */
    " ranked AS (SELECT member_id, row_number() OVER (ORDER BY a, member_id) AS rn,"
    " count(*) OVER () AS n FROM ability),"
    " wrong AS (SELECT q, resp, c FROM (SELECT q, resp, count(*) AS c, row_number() OVER"
    " (PARTITION BY q ORDER BY count(*) DESC, resp) AS k FROM ans WHERE NOT ok AND resp IS NOT NULL"
    " GROUP BY q, resp) WHERE k = 1),"
    " per AS (SELECT a.q, count(*) AS n, count(DISTINCT a.member_id) AS members, avg(a.ok) AS fac,"
    " max(r.n) AS nm, avg(CASE WHEN r.rn > r.n - (27 * r.n + 99) / 100 THEN a.ok END) AS hi,"
    " avg(CASE WHEN r.rn <= (27 * r.n + 99) / 100 THEN a.ok END) AS lo"
    " FROM ans a JOIN ranked r ON r.member_id = a.member_id GROUP BY a.q)"
    " SELECT per.q, n, members, round(fac, 2), CASE WHEN nm >= 4 THEN round(hi - lo, 2) END,"
    " w.resp || ' (' || w.c || ')' FROM per LEFT JOIN wrong w ON w.q = per.q"
    " ORDER BY fac, n DESC, per.q";

static const col cols_questions[] = {
    {"question_id", "题目", "question"},       {"answers", "作答次数", "answers"},
    {"members", "作答人数", "members"},         {"facility", "难度系数（答对率）", "facility"},
    {"discrimination", "区分度", "discrimination"}, {"top_wrong", "最常见错答（次数）", "most chosen wrong answer"},
    {"stem", "题干", "stem"}};

/* Adds each question's stem from the bundle (the last column). */
static void add_stems(json_t *rows_, qk_bundle *b)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows_, i, r)
    {
        qk_question *q = NULL;
        const char *id = json_string_value(json_array_get(r, 0));
        if (b && id && qk_bundle_question(b, id, &q) == QK_OK)
            json_array_append_new(r, json_string(q->stem));
        else
            json_array_append_new(r, json_null());
        qk_question_free(q);
    }
}

static int run_stats(const char *db_path, const char *prefix, const char *branch,
                     const qk_stats_query *q, qk_lang lang, json_t **out, char *msg, size_t msglen)
{
    *out = NULL;
    if ((unsigned)q->subject >= QK_STATS_COUNT || q->to_day < q->from_day) {
        snprintf(msg, msglen, "stats: bad query");
        return QK_EINVAL;
    }
    sqlite3 *db = NULL;
    char uri[4200];
    snprintf(uri, sizeof uri, "file:%s?mode=ro", db_path);
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        snprintf(msg, msglen, "%s: %s", db_path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return QK_EIO;
    }
    sqlite3_busy_timeout(db, 5000);
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
        {sql_questions, cols_questions, sizeof cols_questions / sizeof(col)},
    };
    char from[16], to[16];
    qk_stats_day_text(q->from_day, from);
    qk_stats_day_text(q->to_day, to);
    json_t *r = json_array();
    int rc = rows(db, prefix, subj[q->subject].sql, q, branch, lang, r, msg, msglen);
    sqlite3_close(db);
    if (rc != QK_OK) {
        json_decref(r);
        return rc;
    }
    if (q->subject == QK_STATS_QUESTIONS)
        add_stems(r, q->bundle);
    *out = json_pack("{s:s, s:s, s:s, s:s?, s:o, s:o}", "subject", subject_names[q->subject], "from",
                     from, "to", to, "branch", branch, "columns",
                     columns(subj[q->subject].cols, subj[q->subject].n), "rows", r);
    return *out ? QK_OK : QK_ENOMEM;
}

int qk_stats_local(const char *progress_path, const qk_stats_query *q, qk_lang lang, json_t **out,
                   char *msg, size_t msglen)
{
    return run_stats(progress_path, local_prefix, NULL, q, lang, out, msg, msglen);
}

int qk_stats_server(const char *store_path, const char *branch, const qk_stats_query *q,
                    qk_lang lang, json_t **out, char *msg, size_t msglen)
{
    return run_stats(store_path, server_prefix, branch, q, lang, out, msg, msglen);
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
