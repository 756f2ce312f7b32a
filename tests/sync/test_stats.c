/* Tests for the participation statistics (sync/src/stats.c) on a small
 * hand-computed data set in a real progress file: four members, March 2026,
 * one answer near midnight on each side of the month's end (Beijing time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "../../sync/src/stats_rollup.h"
#include "qk_stats.h"
#include "support.h"

#define BJ(d, h, m) (1772323200000LL + ((int64_t)(d) - 1) * 86400000LL + (h) * 3600000LL + (m) * 60000LL - 28800000LL)
/* BJ(1, 0, 0) = 2026-03-01 00:00 Beijing. */

typedef struct sfx {
    qkt_fx base;
    char *path;
} sfx;

static void member(qk_engine *e, const char *id, const char *name, const char *dept)
{
    char salt[33], hash[65];
    int iter = 0;
    assert_int_equal(qk_pin_hash_new("1234", salt, hash, &iter), QK_OK);
    assert_int_equal(qk_member_apply(e, id, name, "b1", dept, salt, hash, iter), QK_OK);
}

/* A practice attempt on theme t1 in authoring order: s1 (1 point), m1 (2),
 * j1 (1), f1 (2). */
static void attempt(sfx *f, const char *who, int64_t at, int all_right)
{
    f->base.clock.now_ms = at;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = "t1";
    spec.order = QK_ORDER_SEQUENTIAL;
    spec.count = 0;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, who, &spec), QK_OK);
    static const char *const right[] = {"B", "AC", "对", "1921|南湖"};
    static const char *const half[] = {"B", "B", "对", "1900|x"}; /* 2 of 6 points */
    qk_item it;
    for (int i = 0; qk_session_next(s, &it) == QK_ROW; i++)
        assert_int_equal(qk_session_answer(s, all_right ? right[i] : half[i], NULL, NULL), QK_OK);
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
}

static int setup(void **state)
{
    sfx *f = calloc(1, sizeof *f);
    void *inner = NULL;
    qkt_fx_setup(&inner);
    f->base = *(qkt_fx *)inner;
    free(inner);
    qk_engine_set_clock(f->base.e, qkt_clock_fn, &f->base.clock);
    f->path = qkt_path(f->base.dir, "progress.db");
    member(f->base.e, "m1", "张三", "内科");
    member(f->base.e, "m2", "李四", "护理部");
    member(f->base.e, "m3", "王五", "内科");
    member(f->base.e, "m4", "赵六", "药房");
    attempt(f, "m1", BJ(5, 10, 0), 1);   /* Thu 5 March: 100% */
    attempt(f, "m1", BJ(6, 9, 0), 0);    /* Fri 6 March: 2 of 6 points */
    attempt(f, "m2", BJ(31, 23, 30), 1); /* Tue 31 March, 23:30 Beijing (15:30 UTC) */
    attempt(f, "m3", BJ(32, 0, 10), 1);  /* 1 April 00:10 Beijing: still 31 March in UTC */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    sfx *f = *state;
    qk_engine_close(f->base.e);
    qk_bundle_close(f->base.b);
    qkt_rmrf(f->base.dir);
    free(f->base.dir);
    free(f->path);
    free(f);
    return 0;
}

/* A subject's table for a period, on a given day (NULL: not known). */
static json_t *run_on(sfx *f, qk_stats_subject subject, const char *from, const char *to, const char *today)
{
    qk_stats_query q = {subject, 0, 0, f->base.b, 0};
    assert_int_equal(qk_stats_parse_day(from, &q.from_day), 0);
    assert_int_equal(qk_stats_parse_day(to, &q.to_day), 0);
    if (today)
        assert_int_equal(qk_stats_parse_day(today, &q.today), 0);
    json_t *t = NULL;
    char msg[256];
    int rc = qk_stats_local(f->path, &q, QK_LANG_EN, &t, msg, sizeof msg);
    if (rc != QK_OK)
        fail_msg("stats %s: %s", qk_stats_subject_name(subject), msg);
    return t;
}

static json_t *run(sfx *f, qk_stats_subject subject, const char *from, const char *to)
{
    return run_on(f, subject, from, to, NULL);
}

static json_t *row(json_t *t, size_t i)
{
    return json_array_get(json_object_get(t, "rows"), i);
}

static json_int_t ival(json_t *r, size_t i)
{
    return json_integer_value(json_array_get(r, i));
}

static double rval(json_t *r, size_t i)
{
    return json_number_value(json_array_get(r, i));
}

static const char *sval(json_t *r, size_t i)
{
    return json_string_value(json_array_get(r, i));
}

static void participation_in_beijing_days(void **state)
{
    sfx *f = *state;
    json_t *t = run(f, QK_STATS_PARTICIPATION, "2026-03-01", "2026-03-31");
    json_t *all = row(t, 0);
    assert_string_equal(sval(all, 0), "all");
    assert_int_equal(ival(all, 2), 4);      /* on the roster */
    assert_int_equal(ival(all, 3), 2);      /* m1 and m2; m3's answer was on 1 April (Beijing) */
    assert_true(rval(all, 4) == 50.0);      /* rate % */
    assert_true(rval(all, 5) == 1.5);       /* active days: m1 two, m2 one */
    assert_int_equal(ival(all, 6), 3);      /* attempts */
    json_t *theme = row(t, 1);
    assert_string_equal(sval(theme, 0), "theme");
    assert_string_equal(sval(theme, 1), "t1");
    assert_int_equal(ival(theme, 3), 2);
    json_decref(t);
    /* April holds m3's answer. */
    t = run(f, QK_STATS_PARTICIPATION, "2026-04-01", "2026-04-30");
    assert_int_equal(ival(row(t, 0), 3), 1);
    assert_string_equal(json_string_value(json_object_get(t, "from")), "2026-04-01");
    json_decref(t);
}

static void members_figures(void **state)
{
    sfx *f = *state;
    json_t *t = run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31");
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 4);
    json_t *m1 = row(t, 0);
    assert_string_equal(sval(m1, 0), "m1");
    assert_string_equal(sval(m1, 2), "内科");
    assert_int_equal(ival(m1, 3), 2);        /* attempts */
    assert_int_equal(ival(m1, 4), 8);        /* answers */
    assert_true(rval(m1, 5) == 75.0);        /* 6 of 8 right */
    assert_true(rval(m1, 6) == 66.7);        /* (100 + 33.3) / 2 */
    assert_true(rval(m1, 7) == 100.0);       /* best */
    assert_int_equal(ival(m1, 10), 2);       /* active days */
    assert_string_equal(sval(m1, 11), "2026-03-06");
    json_t *m3 = row(t, 2);
    assert_int_equal(ival(m3, 3), 0);
    assert_string_equal(sval(m3, 11), "2026-04-01"); /* last active, ever */
    assert_true(json_is_null(json_array_get(row(t, 3), 11))); /* m4: never */
    json_decref(t);
}

static void inactive_members(void **state)
{
    sfx *f = *state;
    json_t *t = run(f, QK_STATS_INACTIVE, "2026-03-01", "2026-03-31");
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 2);
    assert_string_equal(sval(row(t, 0), 0), "m4"); /* never active first */
    assert_string_equal(sval(row(t, 1), 0), "m3");
    assert_string_equal(sval(row(t, 1), 3), "2026-04-01");
    json_decref(t);
}

static void themes_and_distribution(void **state)
{
    sfx *f = *state;
    json_t *t = run(f, QK_STATS_THEMES, "2026-03-01", "2026-03-31");
    json_t *r = row(t, 0);
    assert_string_equal(sval(r, 0), "t1");
    assert_string_equal(sval(r, 1), "practice");
    assert_int_equal(ival(r, 2), 3);
    assert_int_equal(ival(r, 3), 2);
    assert_true(rval(r, 4) == 77.8); /* (100 + 33.3 + 100) / 3 */
    assert_int_equal(ival(r, 5), 1); /* under 60% */
    assert_int_equal(ival(r, 6), 0);
    assert_int_equal(ival(r, 7), 0);
    assert_int_equal(ival(r, 8), 2); /* full marks */
    json_decref(t);
}

static void weekly_trend(void **state)
{
    sfx *f = *state;
    json_t *t = run(f, QK_STATS_TREND, "2026-03-01", "2026-03-31");
    /* every week from the first activity to the period's end: the three
     * weeks between with nothing are rows of zeros, not left out */
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 5);
    assert_string_equal(sval(row(t, 0), 0), "2026-03-02"); /* the Monday of 5 and 6 March */
    assert_int_equal(ival(row(t, 0), 1), 1);
    assert_int_equal(ival(row(t, 0), 2), 2);
    assert_int_equal(ival(row(t, 0), 3), 8);
    static const char *const empty[] = {"2026-03-09", "2026-03-16", "2026-03-23"};
    for (int i = 0; i < 3; i++) {
        json_t *r = row(t, (size_t)i + 1);
        assert_string_equal(sval(r, 0), empty[i]);
        for (size_t c = 1; c <= 4; c++)
            assert_int_equal(ival(r, c), 0);
    }
    assert_string_equal(sval(row(t, 4), 0), "2026-03-30");
    assert_int_equal(ival(row(t, 4), 3), 4);
    json_decref(t);
    /* the weeks after the last activity, up to today, are zeros too (a
     * branch that stopped shows it), but none past the period's end */
    t = run_on(f, QK_STATS_TREND, "2026-03-01", "2026-04-30", "2026-04-21");
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 8);
    assert_string_equal(sval(row(t, 7), 0), "2026-04-20");
    assert_int_equal(ival(row(t, 7), 2), 0);
    json_decref(t);
    t = run_on(f, QK_STATS_TREND, "2026-03-01", "2026-03-31", "2026-06-01");
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 5);
    json_decref(t);
    /* no week before the first activity, none after the latest (1 April,
     * in the week of 30 March) when today is not known */
    t = run(f, QK_STATS_TREND, "2026-02-01", "2026-04-30");
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 5);
    assert_string_equal(sval(row(t, 0), 0), "2026-03-02");
    assert_string_equal(sval(row(t, 4), 0), "2026-03-30");
    json_decref(t);
    /* a period with nothing in it has no weeks at all (the chart says so) */
    t = run(f, QK_STATS_TREND, "2026-02-01", "2026-02-28");
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 0);
    json_decref(t);
}

static void item_analysis(void **state)
{
    sfx *f = *state;
    json_t *t = run(f, QK_STATS_QUESTIONS, "2026-03-01", "2026-03-31");
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 4);
    json_t *r = row(t, 0); /* hardest first: f1 and m1 at 2 of 3, f1 by id */
    assert_string_equal(sval(r, 0), "f1");
    assert_int_equal(ival(r, 1), 3);
    assert_int_equal(ival(r, 2), 2);
    assert_true(rval(r, 3) == 0.67);
    assert_true(json_is_null(json_array_get(r, 4))); /* two members: no discrimination */
    assert_string_equal(sval(r, 5), "1900 | x (1)"); /* the blanks typed, apart */
    assert_string_equal(sval(r, 6), "____年在____"); /* the stem, from the bundle */
    assert_string_equal(sval(row(t, 1), 0), "m1");
    assert_string_equal(sval(row(t, 1), 5), "乙 (1)"); /* the option's text, not its letter B */
    assert_true(rval(row(t, 3), 3) == 1.0);
    json_decref(t);
    /* May: two strong members, two weak ones. */
    attempt(f, "m1", BJ(62, 10, 0), 1);
    attempt(f, "m2", BJ(62, 11, 0), 1);
    attempt(f, "m3", BJ(62, 12, 0), 0);
    attempt(f, "m4", BJ(62, 13, 0), 0);
    t = run(f, QK_STATS_QUESTIONS, "2026-05-01", "2026-05-31");
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(t, "rows"), i, q)
    {
        if (strcmp(sval(q, 0), "m1") == 0) {
            assert_true(rval(q, 3) == 0.5);
            assert_true(rval(q, 4) == 1.0); /* the strong got it, the weak did not */
        }
        if (strcmp(sval(q, 0), "s1") == 0)
            assert_true(rval(q, 4) == 0.0); /* everyone got it: it tells them apart not at all */
    }
    json_decref(t);
}

/* The item analysis as one SQL query over the daily roll-up, as it was
 * written before it was summed in C (stats.c, item_analysis): the judge. */
static const char item_judge_sql[] =
    "WITH roster AS (SELECT id FROM members),"
    " a AS (SELECT q, member_id, n, ok FROM stat_answers WHERE day BETWEEN ?1 AND ?2"
    " AND member_id IN (SELECT id FROM roster)),"
    " ability AS (SELECT member_id, 1.0 * sum(correct) / sum(answers) AS a FROM stat_day"
    " WHERE answers > 0 AND day BETWEEN ?1 AND ?2 AND member_id IN (SELECT id FROM roster) GROUP BY member_id),"
    " ranked AS (SELECT member_id, (row_number() OVER (ORDER BY a, member_id) >"
    " count(*) OVER () - (27 * count(*) OVER () + 99) / 100) AS top,"
    " (row_number() OVER (ORDER BY a, member_id) <= (27 * count(*) OVER () + 99) / 100) AS bottom FROM ability),"
    " top AS (SELECT member_id FROM ranked WHERE top), bottom AS (SELECT member_id FROM ranked WHERE bottom),"
    " per AS (SELECT q, sum(n) AS n, count(DISTINCT member_id) AS members, 1.0 * sum(ok) / sum(n) AS fac,"
    " (SELECT count(*) FROM ranked) AS nm,"
    " 1.0 * sum(CASE WHEN member_id IN top THEN ok END) / sum(CASE WHEN member_id IN top THEN n END) AS hi,"
    " 1.0 * sum(CASE WHEN member_id IN bottom THEN ok END) / sum(CASE WHEN member_id IN bottom THEN n END) AS lo"
    " FROM a GROUP BY q),"
    " wrong AS (SELECT q, resp, c FROM (SELECT q, resp, sum(n) AS c, row_number() OVER"
    " (PARTITION BY q ORDER BY sum(n) DESC, resp) AS k FROM stat_wrong WHERE day BETWEEN ?1 AND ?2"
    " AND grp = '' GROUP BY q, resp) WHERE k = 1)"
    " SELECT per.q, n, members, round(fac, 2), CASE WHEN nm >= 4 THEN round(hi - lo, 2) END,"
    " w.resp || ' (' || w.c || ')' FROM per LEFT JOIN wrong w ON w.q = per.q ORDER BY fac, n DESC, per.q";

/* The item analysis gives what the judge's SQL gives, row for row, for
 * random answers (members of every strength and some of equal strength,
 * one answering for a member no longer on the roster, ids that sort in
 * surprising ways) over random periods: a day, whole months, months with
 * days around them, a member answering a question both in a whole month and
 * on a day around it (counted once among its members). */
static void item_analysis_is_the_plain_sql(void **state)
{
    sfx *f = *state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (int m = 0; m < 14; m++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO members(id, name, branch, dept, pin_salt, pin_hash, pin_iter, created_ms)"
                 " VALUES ('r%02d', '成员%02d', 'b1', 'd', x'00', x'00', 1, 0)", m, m);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    static const char *const qs[] = {"q1", "q10", "q2", "Q1", "题一", "题二", "q1 ", "z"};
    sqlite3_stmt *ins = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO events(id, device_id, seq, member_id, kind, payload, created_ms)"
                                        " VALUES (?, 'dev9', ?, ?, 'answer', json_object('q', ?, 'correct',"
                                        " json(?), 'response', ?), ?)",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    unsigned seed = 17;
    for (int k = 0; k < 1500; k++) {
        char id[32], who[8];
        int m = (int)(rand_r(&seed) % 15);
        if (m == 14)
            snprintf(who, sizeof who, "gone"); /* not on the roster */
        else
            snprintf(who, sizeof who, "r%02d", m);
        /* r00-r03 always right, r04-r05 never: equal strengths, ties by id */
        int right = m < 4 ? 1 : m < 6 ? 0 : (int)(rand_r(&seed) % 100) < 20 + 5 * m;
        snprintf(id, sizeof id, "rand%d", k);
        sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 2, k + 1);
        sqlite3_bind_text(ins, 3, who, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 4, qs[rand_r(&seed) % 8], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, right ? "true" : "false", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, right ? "A" : (const char *[]){"B", "C", "D", "甲"}[rand_r(&seed) % 4], -1,
                          SQLITE_STATIC);
        /* 1 February to 31 May 2026, Beijing */
        sqlite3_bind_int64(ins, 7, BJ(-27, 0, 0) + (int64_t)(rand_r(&seed) % (120u * 1440u)) * 60000);
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    static const char *const periods[][2] = {
        {"2026-03-01", "2026-03-31"}, {"2026-02-01", "2026-05-31"}, {"2026-02-20", "2026-04-03"},
        {"2026-03-15", "2026-03-15"}, {"2026-03-31", "2026-04-01"}, {"2026-01-01", "2026-02-28"},
        {"2026-04-02", "2026-05-30"}, {"2026-06-01", "2026-06-30"}, {"2026-02-28", "2026-03-31"}};
    sqlite3_stmt *judge = NULL;
    int discriminating = 0, members_apart = 0;
    for (size_t p = 0; p < sizeof periods / sizeof periods[0]; p++) {
        json_t *t = run(f, QK_STATS_QUESTIONS, periods[p][0], periods[p][1]);
        json_t *got = json_object_get(t, "rows");
        if (!judge) /* (the roll-ups' tables made by the first query) */
            assert_int_equal(sqlite3_prepare_v2(db, item_judge_sql, -1, &judge, NULL), SQLITE_OK);
        int64_t from = 0, to = 0;
        qk_stats_parse_day(periods[p][0], &from);
        qk_stats_parse_day(periods[p][1], &to);
        sqlite3_reset(judge);
        sqlite3_bind_int64(judge, 1, from);
        sqlite3_bind_int64(judge, 2, to);
        size_t i = 0;
        for (; sqlite3_step(judge) == SQLITE_ROW; i++) {
            json_t *r = json_array_get(got, i);
            if (!r)
                fail_msg("%s..%s: %zu rows, the judge has more", periods[p][0], periods[p][1], i);
            assert_string_equal(sval(r, 0), (const char *)sqlite3_column_text(judge, 0));
            assert_int_equal(ival(r, 1), sqlite3_column_int64(judge, 1));
            assert_int_equal(ival(r, 2), sqlite3_column_int64(judge, 2));
            members_apart += ival(r, 2) < ival(r, 1);
            for (int c = 3; c <= 4; c++) {
                if (sqlite3_column_type(judge, c) == SQLITE_NULL) {
                    assert_true(json_is_null(json_array_get(r, (size_t)c)));
                } else {
                    assert_true(rval(r, c) == sqlite3_column_double(judge, c));
                    discriminating += c == 4;
                }
            }
            /* (the set-up's questions, in the bundle, have theirs in words) */
            if (sqlite3_column_type(judge, 5) == SQLITE_NULL)
                assert_true(json_is_null(json_array_get(r, 5)));
            else if (json_is_null(json_array_get(r, 6)))
                assert_string_equal(sval(r, 5), (const char *)sqlite3_column_text(judge, 5));
        }
        assert_int_equal(json_array_size(got), i);
        json_decref(t);
    }
    sqlite3_finalize(judge);
    sqlite3_close(db);
    /* the data reaches what is compared: discrimination, repeated members */
    assert_true(discriminating > 20);
    assert_true(members_apart > 20);
}

/* The most chosen wrong answer as a person reads it: the options' texts (a
 * multiple choice joined by ；), 对/错 in the bundle's language (zh-CN here),
 * and a response that does not fit the question left as it is. Some of a
 * multiple choice's right options and nothing else is said to be only those
 * (m1's key is 甲 and 丙: "甲 (1)" alone would read as if 甲 were wrong). */
static void wrong_answers_in_words(void **state)
{
    sfx *f = *state;
    json_t *rows = json_pack("[[s,i,i,f,n,s,n],[s,i,i,f,n,s,n],[s,i,i,f,n,s,n],[s,i,i,f,n,s,n],[s,i,i,f,n,n,n],"
                             "[s,i,i,f,n,s,n]]",
                             "m1", 3, 3, 0.3, "AC (2)", "j1", 2, 2, 0.5, "F (1)", "s1", 2, 2, 0.5,
                             "Z (1)", "f1", 1, 1, 0.0, "19 (21)|南湖 (1)", "s1", 1, 1, 1.0, "m1", 1, 1, 0.0, "A (1)");
    qk_stats_fill_stems(rows, f->base.b);
    assert_string_equal(sval(json_array_get(rows, 0), 5), "甲；丙 (2)");
    assert_string_equal(sval(json_array_get(rows, 0), 6), "多选");
    assert_string_equal(sval(json_array_get(rows, 1), 5), "错 (1)");
    assert_string_equal(sval(json_array_get(rows, 2), 5), "Z (1)"); /* no option Z */
    assert_string_equal(sval(json_array_get(rows, 3), 5), "19 (21) | 南湖 (1)");
    assert_true(json_is_null(json_array_get(json_array_get(rows, 4), 5))); /* nobody answered wrong */
    assert_string_equal(sval(json_array_get(rows, 5), 5), "只选了 甲 (1)");
    json_decref(rows);
}

static json_int_t answers_of(sfx *f, const char *qid, const char *from, const char *to)
{
    json_t *t = run(f, QK_STATS_QUESTIONS, from, to);
    json_int_t n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(t, "rows"), i, r)
    {
        if (strcmp(sval(r, 0), qid) == 0)
            n = ival(r, 1);
    }
    json_decref(t);
    return n;
}

/* Whole months come from the monthly roll-up, the days around them from the
 * daily one: any period counts each answer once. */
static void item_analysis_over_any_period(void **state)
{
    sfx *f = *state;
    assert_int_equal(answers_of(f, "f1", "2026-03-01", "2026-03-31"), 3);  /* one whole month */
    assert_int_equal(answers_of(f, "f1", "2026-03-01", "2026-04-01"), 4);  /* and a day after */
    assert_int_equal(answers_of(f, "f1", "2026-03-06", "2026-04-01"), 3);  /* no whole month */
    assert_int_equal(answers_of(f, "f1", "2026-02-15", "2026-04-30"), 4);  /* two whole, days before */
    assert_int_equal(answers_of(f, "f1", "2026-03-06", "2026-03-06"), 1);  /* one day */
    assert_int_equal(answers_of(f, "f1", "2026-03-07", "2026-03-30"), 0);
    assert_int_equal(answers_of(f, "f1", "2025-12-31", "2026-03-05"), 1);  /* across a new year */
}

/* A resident's quiz at the kiosk (no member id) shows in the anonymous
 * total and nowhere else. */
static void guests_only_in_anonymous_totals(void **state)
{
    sfx *f = *state;
    attempt(f, NULL, BJ(10, 15, 0), 1);
    json_t *t = run(f, QK_STATS_PARTICIPATION, "2026-03-01", "2026-03-31");
    size_t n = json_array_size(json_object_get(t, "rows"));
    json_t *guests = row(t, n - 1);
    assert_string_equal(sval(guests, 0), "guests (anonymous)");
    assert_int_equal(ival(guests, 6), 1);
    assert_true(json_is_null(json_array_get(guests, 3))); /* no head count for guests */
    assert_int_equal(ival(row(t, 0), 3), 2);              /* members active: still m1 and m2 */
    assert_int_equal(ival(row(t, 0), 6), 3);              /* members' attempts: still 3 */
    json_decref(t);
    t = run(f, QK_STATS_THEMES, "2026-03-01", "2026-03-31");
    assert_int_equal(ival(row(t, 0), 2), 3);
    json_decref(t);
    t = run(f, QK_STATS_QUESTIONS, "2026-03-01", "2026-03-31");
    assert_int_equal(ival(row(t, 0), 1), 3); /* f1: the members' three answers only */
    json_decref(t);
}

/* The figures follow new events (the roll-ups take in only what is new),
 * and come out the same when the roll-ups are thrown away and rebuilt. */
static void rollups_follow_and_rebuild(void **state)
{
    sfx *f = *state;
    json_t *t = run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31");
    assert_int_equal(ival(row(t, 3), 3), 0); /* m4: no attempts yet */
    json_decref(t);
    attempt(f, "m4", BJ(20, 8, 0), 0);
    attempt(f, "m4", BJ(20, 9, 0), 1);
    t = run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31");
    json_t *m4 = row(t, 3);
    assert_int_equal(ival(m4, 3), 2);
    assert_int_equal(ival(m4, 4), 8);
    assert_true(rval(m4, 6) == 66.7);
    assert_true(rval(m4, 7) == 100.0);
    assert_string_equal(sval(m4, 11), "2026-03-20");
    char *before = json_dumps(t, JSON_SORT_KEYS);
    json_decref(t);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE stat_day; DROP TABLE stat_state", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    t = run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31");
    char *after = json_dumps(t, JSON_SORT_KEYS);
    assert_string_equal(before, after);
    free(before);
    free(after);
    json_decref(t);
}

/* DESIGN.md decision 10: m4 begins at 23:59 on 31 March and answers the
 * last three questions after midnight, in April: the attempt, all four
 * answers and the day of activity are March's, in every subject. */
/* m4's practice of t1 in authoring order, begun at 23:59 on 31 March. */
static qk_session *m4_begins_before_midnight(sfx *f)
{
    f->base.clock.now_ms = BJ(31, 23, 59);
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = "t1";
    spec.order = QK_ORDER_SEQUENTIAL;
    spec.count = 0;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, "m4", &spec), QK_OK);
    return s;
}

static void an_attempt_across_midnight_counts_on_the_day_it_began(void **state)
{
    sfx *f = *state;
    qk_session *s = m4_begins_before_midnight(f);
    static const char *const right[] = {"B", "AC", "对", "1921|南湖"};
    qk_item it;
    for (int i = 0; qk_session_next(s, &it) == QK_ROW; i++) {
        if (i == 1)
            f->base.clock.now_ms = BJ(32, 0, 0) + 29000; /* 1 April 00:00:29 */
        assert_int_equal(qk_session_answer(s, right[i], NULL, NULL), QK_OK);
    }
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
    json_t *t = run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31");
    json_t *m4 = row(t, 3);
    assert_string_equal(sval(m4, 0), "m4");
    assert_int_equal(ival(m4, 3), 1);  /* the attempt */
    assert_int_equal(ival(m4, 4), 4);  /* all four answers */
    assert_true(rval(m4, 6) == 100.0); /* its score */
    assert_int_equal(ival(m4, 10), 1);
    assert_string_equal(sval(m4, 11), "2026-03-31"); /* last took part: within March */
    json_decref(t);
    t = run(f, QK_STATS_MEMBERS, "2026-04-01", "2026-04-30");
    for (size_t i = 0; i < json_array_size(json_object_get(t, "rows")); i++) {
        json_t *r = row(t, i);
        if (strcmp(sval(r, 0), "m4") == 0) {
            assert_int_equal(ival(r, 3), 0);
            assert_int_equal(ival(r, 4), 0);
        }
    }
    json_decref(t);
    t = run(f, QK_STATS_PARTICIPATION, "2026-03-31", "2026-03-31");
    assert_int_equal(ival(row(t, 0), 3), 2); /* m2 and m4 took part on 31 March */
    assert_int_equal(ival(row(t, 0), 6), 2); /* two attempts that day */
    json_decref(t);
}

/* The same across two refreshes of the roll-ups: the statistics are looked
 * at between m4's first answer (31 March, 23:59) and the rest (1 April), so
 * the second refresh takes in answers whose attempt began in events it has
 * already taken in. They still count on 31 March, in every roll-up: the
 * day's answers, the question's month (item analysis) and the wrong answers.
 * A query for April finds only m3's, given at 00:10 on 1 April. */
static void answers_after_a_refresh_count_on_the_day_their_attempt_began(void **state)
{
    sfx *f = *state;
    qk_session *s = m4_begins_before_midnight(f);
    static const char *const half[] = {"B", "B", "对", "1900|x"};
    qk_item it;
    for (int i = 0; qk_session_next(s, &it) == QK_ROW; i++) {
        if (i == 1) {
            json_decref(run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31")); /* a refresh */
            f->base.clock.now_ms = BJ(32, 0, 5);
        }
        assert_int_equal(qk_session_answer(s, half[i], NULL, NULL), QK_OK);
    }
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
    json_t *t = run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31");
    json_t *m4 = row(t, 3);
    assert_string_equal(sval(m4, 0), "m4");
    assert_int_equal(ival(m4, 4), 4); /* all four answers in March */
    json_decref(t);
    /* April: m3's four answers (1 April 00:10), one a question, none of m4's */
    t = run(f, QK_STATS_QUESTIONS, "2026-04-01", "2026-04-30");
    size_t i;
    json_t *q;
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 4);
    json_array_foreach(json_object_get(t, "rows"), i, q) assert_int_equal(ival(q, 1), 1);
    json_decref(t);
    t = run(f, QK_STATS_QUESTIONS, "2026-03-01", "2026-03-31");
    int seen = 0;
    json_array_foreach(json_object_get(t, "rows"), i, q)
    {
        if (strcmp(sval(q, 0), "f1") == 0) { /* m1 twice and m2 before, m4 now (wrong) */
            assert_int_equal(ival(q, 1), 4); /* answers */
            assert_int_equal(ival(q, 2), 3); /* members */
            assert_true(rval(q, 3) == 0.5);  /* 2 of 4 right */
            assert_string_equal(sval(q, 5), "1900 | x (2)"); /* m1's and m4's */
            seen = 1;
        }
    }
    assert_true(seen);
    json_decref(t);
}

static int count_commit(void *n)
{
    ++*(int *)n;
    return 0;
}

/* The roll-up tables as text, every table in key order, reals to nine
 * places (a sum added up in pieces may differ in its last bits). */
static char *rollups(const char *path, int *empty_tables)
{
    static const char *const tables[] = {"stat_day", "stat_attempts", "stat_answers",
                                         "stat_answers_month", "stat_wrong"};
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    size_t len = 0;
    char *text = NULL;
    FILE *out = open_memstream(&text, &len);
    *empty_tables = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2, 3", tables[t]);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        int rows = 0;
        for (; sqlite3_step(st) == SQLITE_ROW; rows++) {
            fprintf(out, "%s", tables[t]);
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                if (sqlite3_column_type(st, c) == SQLITE_FLOAT)
                    fprintf(out, " %.9f", sqlite3_column_double(st, c));
                else
                    fprintf(out, " %s", sqlite3_column_text(st, c) ? (const char *)sqlite3_column_text(st, c) : "NULL");
            }
            fputc('\n', out);
        }
        *empty_tables += rows == 0;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    fclose(out);
    return text;
}

/* Three attempts on 20 March begun together and answered in turn (m1 all
 * right, m2 (an exam) and m3 half: the same wrong answers), then m1 twice
 * more (half), and two awards of points to m1 that day. */
static void busy_day(sfx *f)
{
    static const char *const right[] = {"B", "AC", "对", "1921|南湖"};
    static const char *const half[] = {"B", "B", "对", "1900|x"};
    static const char *const who[] = {"m1", "m2", "m3"};
    qk_session *s[3];
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = "t1";
    spec.order = QK_ORDER_SEQUENTIAL;
    spec.count = 0;
    f->base.clock.now_ms = BJ(20, 9, 0);
    for (int k = 0; k < 3; k++) {
        spec.mode = k == 1 ? QK_MODE_EXAM : QK_MODE_PRACTICE; /* texts of two lengths */
        spec.time_limit_s = k == 1 ? 3600 : 0;
        assert_int_equal(qk_session_start(&s[k], f->base.e, f->base.b, who[k], &spec), QK_OK);
    }
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++) {
            qk_item it;
            f->base.clock.now_ms = BJ(20, 9, 1 + i);
            assert_int_equal(qk_session_next(s[k], &it), QK_ROW);
            assert_int_equal(qk_session_answer(s[k], k == 0 ? right[i] : half[i], NULL, NULL), QK_OK);
        }
    for (int k = 0; k < 3; k++) {
        assert_int_equal(qk_session_finish(s[k], NULL), QK_OK);
        qk_session_free(s[k]);
    }
    attempt(f, "m1", BJ(20, 10, 0), 0);
    attempt(f, "m1", BJ(20, 10, 30), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO events(id, device_id, seq, member_id, kind, payload, created_ms) VALUES"
             " ('p1', 'other', 1, 'm1', 'points.award', '{\"day\":\"2026-03-20\",\"amount\":5}', %lld),"
             " ('p2', 'other', 2, 'm1', 'points.award', '{\"day\":\"2026-03-20\",\"amount\":3}', %lld)",
             (long long)BJ(20, 11, 0), (long long)BJ(20, 11, 1));
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* One value of the roll-ups, as text. */
static char *rollup_value(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    char *v = strdup(t ? (const char *)t : "NULL");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void assert_rollup(const char *path, const char *sql, const char *want)
{
    char *v = rollup_value(path, sql);
    assert_string_equal(v, want);
    free(v);
}

/* The events' sums are written out whenever 256k rows are held, and the
 * attempts' starts forgotten past 64k: written every 3 rows with 1 start
 * kept (so that interleaved attempts' starts are forgotten and looked up
 * again, and one day's sums are merged from several writes), the roll-ups
 * are the same, and they hold what was done on the busy day. */
static void rollups_written_in_pieces_are_the_same(void **state)
{
    sfx *f = *state;
    qk_session *s = m4_begins_before_midnight(f); /* across midnight, half right */
    static const char *const half[] = {"B", "B", "对", "1900|x"};
    qk_item it;
    for (int i = 0; qk_session_next(s, &it) == QK_ROW; i++) {
        f->base.clock.now_ms = BJ(32, 0, 1 + i);
        assert_int_equal(qk_session_answer(s, half[i], NULL, NULL), QK_OK);
    }
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
    busy_day(f);
    json_decref(run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31")); /* built at once */
    int empty = 0;
    char *whole = rollups(f->path, &empty);
    assert_int_equal(empty, 0);
    char sql[256];
    int64_t d20 = qk_beijing_day(BJ(20, 12, 0));
    /* m1 on the 20th: three attempts (100%, twice 2 of 6 points), 8 points */
    snprintf(sql, sizeof sql,
             "SELECT attempts || ' ' || scored || ' ' || round(pct_sum, 3) || ' ' || best_pct || ' '"
             " || points || ' ' || answers || ' ' || correct FROM stat_day"
             " WHERE day = %lld AND member_id = 'm1'", (long long)d20);
    assert_rollup(f->path, sql, "3 3 1.667 1.0 8 12 8");
    /* the same wrong answer to m1 (multiple choice): m1 twice, m2, m3 */
    snprintf(sql, sizeof sql, "SELECT n FROM stat_wrong WHERE day = %lld AND q = 'm1' AND resp = 'B'",
             (long long)d20);
    assert_rollup(f->path, sql, "4");
    snprintf(sql, sizeof sql,
             "SELECT started || ' ' || scored || ' ' || h0 || ' ' || h3 FROM stat_attempts"
             " WHERE day = %lld AND member_id = 'm1'", (long long)d20);
    assert_rollup(f->path, sql, "3 3 2 1");

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN; DELETE FROM stat_day; DELETE FROM stat_attempts;"
                                      " DELETE FROM stat_answers; DELETE FROM stat_answers_month;"
                                      " DELETE FROM stat_wrong", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT max(rowid) FROM events", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t last = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    qk__rollup_opts o = {0, 1, 3, 1};
    char msg[256] = "";
    assert_int_equal(qk__rollup_events(db, &o, 0, last, msg, sizeof msg), QK_OK);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char *pieces = rollups(f->path, &empty);
    assert_string_equal(whole, pieces);
    free(whole);
    free(pieces);
}

/* A refresh takes 262144 events a transaction, so that devices syncing
 * while a large store's roll-ups are built are not locked out: taken 3
 * events a transaction (each its own commit), they are the same. */
static void rollups_refreshed_a_few_events_a_transaction_are_the_same(void **state)
{
    sfx *f = *state;
    json_decref(run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31"));
    int empty = 0;
    char *whole = rollups(f->path, &empty);
    assert_int_equal(empty, 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM stat_state", NULL, NULL, NULL), SQLITE_OK);
    int commits = 0;
    sqlite3_commit_hook(db, count_commit, &commits);
    char msg[256] = "";
    assert_int_equal(qk__stats_refresh_local(db, 3, 0, INT64_MIN, msg, sizeof msg), QK_OK);
    sqlite3_close(db);
    char *pieces = rollups(f->path, &empty);
    assert_string_equal(whole, pieces);
    assert_true(commits >= 5); /* the fixture's events, 3 a transaction */
    free(whole);
    free(pieces);
}

/* What a first query will have to take in: every event, none once it has
 * run, and the new ones after more were played. */
static void events_pending_for_the_roll_ups(void **state)
{
    sfx *f = *state;
    int64_t pending = -1, total = 0;
    qk_stats_query march = {QK_STATS_PARTICIPATION, qk_beijing_day(BJ(1, 0, 0)), 0, NULL, 0};
    char msg[256];
    assert_int_equal(qk_engine_event_count(f->base.e, &total), QK_OK);
    assert_int_equal(qk_stats_local_pending(f->path, &march, &pending, msg, sizeof msg), QK_OK);
    assert_true(total > 20);
    assert_int_equal(pending, total);
    json_decref(run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31"));
    assert_int_equal(qk_stats_local_pending(f->path, &march, &pending, msg, sizeof msg), QK_OK);
    assert_int_equal(pending, 0);
    attempt(f, "m4", BJ(20, 8, 0), 1); /* a start, four answers, a finish */
    assert_int_equal(qk_stats_local_pending(f->path, &march, &pending, msg, sizeof msg), QK_OK);
    assert_int_equal(pending, 6);
    char *missing = qkt_path(f->base.dir, "no-such.db");
    assert_int_equal(qk_stats_local_pending(missing, &march, &pending, msg, sizeof msg), QK_EIO);
    assert_non_null(strstr(msg, "no-such.db"));
    free(missing);
}

/* Every subject over each period, as text, in the order asked. */
static char *periods_text(sfx *f, const char *const (*periods)[2], size_t n)
{
    size_t len = 0;
    char *text = NULL;
    FILE *out = open_memstream(&text, &len);
    for (size_t p = 0; p < n; p++) {
        for (int s = 0; s < QK_STATS_COUNT; s++) {
            if (s == QK_STATS_FLAGGED) /* the server's only */
                continue;
            json_t *t = run(f, (qk_stats_subject)s, periods[p][0], periods[p][1]);
            char *j = json_dumps(t, JSON_SORT_KEYS);
            fprintf(out, "%s %s %s\n", periods[p][0], periods[p][1], j);
            free(j);
            json_decref(t);
        }
    }
    fclose(out);
    return text;
}

/* Starts the roll-ups again, spans of 4 rowids, taking in what a period from
 * from_day needs; returns what a period from 1 March still needs. */
static int64_t build_again(sfx *f, int64_t from_day)
{
    sqlite3 *db = NULL;
    char msg[256] = "";
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE IF EXISTS stat_state", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(qk__stats_refresh_local(db, 5, 2, from_day, msg, sizeof msg), QK_OK);
    sqlite3_close(db);
    int64_t pending = -1;
    qk_stats_query march = {QK_STATS_PARTICIPATION, qk_beijing_day(BJ(1, 0, 0)), 0, NULL, 0};
    assert_int_equal(qk_stats_local_pending(f->path, &march, &pending, msg, sizeof msg), QK_OK);
    return pending;
}

/* On an old file (or after the definition changed) a first query takes in
 * only the events its period needs, newest first, and each older period
 * reaches further back when it is asked for: whatever the order periods are
 * asked in, every subject gives what a build of every event gives, and so
 * do the roll-ups once the widest period was asked. An award dated into
 * May, stored with March's events (its own day counts), is needed by May. */
static void a_first_query_takes_in_only_what_its_period_needs(void **state)
{
    sfx *f = *state;
    /* an award written on 6 March for 20 May (another device's), then
     * April and May */
    sqlite3 *db = NULL;
    char sql[320];
    snprintf(sql, sizeof sql,
             "INSERT INTO events(id, device_id, seq, member_id, kind, payload, created_ms) VALUES"
             " ('award-may', 'other', 1, 'm2', 'points.award', '{\"day\":\"2026-05-20\",\"amount\":5}', %lld)",
             (long long)BJ(6, 12, 0));
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    attempt(f, "m2", BJ(41, 10, 0), 1);  /* 10 April (m1's last stays 6 March, far below) */
    attempt(f, "m4", BJ(42, 23, 50), 0); /* 11 April, to 12 April past midnight */
    attempt(f, "m2", BJ(64, 8, 0), 1);   /* 3 May */
    attempt(f, "m4", BJ(81, 21, 0), 1);  /* 20 May */
    int64_t may = qk_beijing_day(BJ(62, 0, 0));
    static const char *const periods[][2] = {
        {"2026-05-01", "2026-05-31"}, {"2026-03-05", "2026-03-06"}, {"2026-04-01", "2026-04-30"},
        {"2026-05-20", "2026-05-20"}, {"2026-03-01", "2026-05-31"}, {"2026-03-01", "2026-03-31"}};
    size_t n = sizeof periods / sizeof periods[0];

    /* May first: only May's events and the award are taken in */
    int64_t pending = build_again(f, may);
    assert_true(pending > 0);
    int64_t before_may = pending;
    char *lazy = periods_text(f, periods, n);
    int empty = 0;
    char *lazy_tables = rollups(f->path, &empty);
    assert_int_equal(build_again(f, INT64_MIN), 0); /* every event, at once */
    char *whole = periods_text(f, periods, n);
    char *whole_tables = rollups(f->path, &empty);
    assert_string_equal(lazy, whole);
    assert_string_equal(lazy_tables, whole_tables);
    /* May's members: m2's 5 points from the award dated 20 May */
    json_t *t = run(f, QK_STATS_MEMBERS, "2026-05-20", "2026-05-20");
    char *j = json_dumps(t, 0);
    assert_non_null(strstr(j, "\"m2\", \"李四\""));
    free(j);
    json_decref(t);
    /* April alone takes in fewer than May leaves out: March's stay out */
    int64_t before_april = build_again(f, qk_beijing_day(BJ(32, 0, 0)));
    assert_true(before_april > 0);
    assert_true(before_april < before_may);
    free(lazy);
    free(whole);
    free(lazy_tables);
    free(whole_tables);
}

/* The roll-ups' rows for days from `from` on (whole months from its month
 * on, or the next when it is not the first), every table, as text. */
static char *rollups_from(const char *path, int64_t from)
{
    int64_t m = qk_month_of_day(from);
    int64_t m1 = qk_month_first_day(m) == from ? m : m + 1;
    char sql[5][128];
    snprintf(sql[0], sizeof sql[0], "SELECT * FROM stat_day WHERE day >= %lld ORDER BY 1, 2", (long long)from);
    snprintf(sql[1], sizeof sql[1], "SELECT * FROM stat_attempts WHERE day >= %lld ORDER BY 1, 2, 3, 4, 5",
             (long long)from);
    snprintf(sql[2], sizeof sql[2], "SELECT * FROM stat_answers WHERE day >= %lld ORDER BY 1, 2, 3", (long long)from);
    snprintf(sql[3], sizeof sql[3], "SELECT * FROM stat_answers_month WHERE month >= %lld ORDER BY 1, 2, 3",
             (long long)m1);
    snprintf(sql[4], sizeof sql[4], "SELECT * FROM stat_wrong WHERE day >= %lld ORDER BY 1, 2, 3, 4", (long long)from);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    size_t len = 0;
    char *text = NULL;
    FILE *out = open_memstream(&text, &len);
    for (int t = 0; t < 5; t++) {
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql[t], -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(out, "%d", t);
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const unsigned char *v = sqlite3_column_text(st, c);
                fprintf(out, " %s", v ? (const char *)v : "NULL");
            }
            fputc('\n', out);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    fclose(out);
    return text;
}

/* Built again from nothing for a period from `from`, spans of 2^shift
 * rowids, chunk rowids a transaction. */
static void build_for(const char *path, int64_t chunk, int shift, int64_t from)
{
    sqlite3 *db = NULL;
    char msg[256] = "";
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE IF EXISTS stat_state", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(qk__stats_refresh_local(db, chunk, shift, from, msg, sizeof msg), QK_OK);
    sqlite3_close(db);
}

/* For any first day, span size and transaction size, a build for a period
 * holds, for that period's days, exactly what a build of every event holds:
 * nothing on a span's edge or a transaction's edge is lost or counted twice
 * (an off-by-one rowid there fails it), and an award dated later than it
 * was written (stored among April's events, for 20 May) is taken in. */
static void a_build_for_a_period_holds_its_days_whole(void **state)
{
    sfx *f = *state;
    char sql[320];
    snprintf(sql, sizeof sql,
             "INSERT INTO events(id, device_id, seq, member_id, kind, payload, created_ms) VALUES"
             " ('award-may', 'other', 1, 'm2', 'points.award', '{\"day\":\"2026-05-20\",\"amount\":5}', %lld)",
             (long long)BJ(42, 12, 0));
    attempt(f, "m1", BJ(41, 10, 0), 1);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    attempt(f, "m4", BJ(42, 23, 50), 0); /* across midnight */
    attempt(f, "m2", BJ(50, 8, 0), 1);
    attempt(f, "m3", BJ(64, 8, 0), 0);
    attempt(f, "m1", BJ(81, 21, 0), 1);
    int64_t first = qk_beijing_day(BJ(1, 0, 0)), last = qk_beijing_day(BJ(84, 0, 0));
    int checks = 0;
    for (int shift = 1; shift <= 2; shift++) {
        for (int64_t chunk = 1; chunk <= 4; chunk += 3) {
            for (int64_t from = first; from <= last; from += 3) {
                build_for(f->path, chunk, shift, from);
                char *lazy = rollups_from(f->path, from);
                build_for(f->path, 1000, shift, INT64_MIN);
                char *whole = rollups_from(f->path, from);
                if (strcmp(lazy, whole) != 0)
                    fail_msg("spans of %d, %lld a transaction, from day %lld:\n-- for the period\n%s-- whole\n%s",
                             1 << shift, (long long)chunk, (long long)from, lazy, whole);
                free(lazy);
                free(whole);
                checks++;
            }
        }
    }
    assert_true(checks > 100);
}

/* Members and inactive show each member's last day of activity ever: on a
 * build begun for a later period they take in what came before, and say
 * what a build of every event says (m1, last active on 6 March, asked
 * about May). */
static void the_last_day_of_activity_is_found_however_far_back(void **state)
{
    sfx *f = *state;
    attempt(f, "m4", BJ(64, 8, 0), 1); /* 3 May */
    qk_stats_subject subjects[] = {QK_STATS_INACTIVE, QK_STATS_MEMBERS};
    for (int i = 0; i < 2; i++) {
        build_for(f->path, 5, 1, qk_beijing_day(BJ(62, 0, 0)));
        json_t *t = run(f, subjects[i], "2026-05-01", "2026-05-31");
        char *lazy = json_dumps(t, JSON_SORT_KEYS);
        json_decref(t);
        build_for(f->path, 1000, 1, INT64_MIN);
        t = run(f, subjects[i], "2026-05-01", "2026-05-31");
        char *whole = json_dumps(t, JSON_SORT_KEYS);
        json_decref(t);
        assert_string_equal(lazy, whole);
        assert_non_null(strstr(whole, "2026-03-06"));
        free(lazy);
        free(whole);
    }
}

/* ... without taking in the years before the period: asked about May on a
 * build begun for May, the members' last days below it are read from each
 * member's own events, so nothing more is taken in (what a March query
 * still needs is as before), and they are what a build of every event
 * gives: m1's 6 March; m4's attempt begun at 23:59 on 31 March, answered
 * after midnight, on 31 March (the day it began); none for m5, who never
 * took part. */
static void the_last_days_take_in_no_more_than_they_need(void **state)
{
    sfx *f = *state;
    member(f->base.e, "m5", "钱七", "内科");
    qk_session *s = m4_begins_before_midnight(f);
    qk_item it;
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    f->base.clock.now_ms = BJ(32, 0, 0) + 29000; /* 1 April 00:00:29 */
    assert_int_equal(qk_session_answer(s, "B", NULL, NULL), QK_OK);
    qk_session_free(s); /* left unfinished */
    attempt(f, "m2", BJ(64, 8, 0), 1); /* 3 May */
    qk_stats_query march = {QK_STATS_PARTICIPATION, qk_beijing_day(BJ(1, 0, 0)), 0, NULL, 0};
    qk_stats_query may = {QK_STATS_MEMBERS, qk_beijing_day(BJ(62, 0, 0)), qk_beijing_day(BJ(92, 0, 0)), NULL, 0};
    char msg[256];
    int64_t for_members = -1, before = -1, after = -1;
    build_for(f->path, 5, 1, may.from_day);
    assert_int_equal(qk_stats_local_pending(f->path, &may, &for_members, msg, sizeof msg), QK_OK);
    assert_int_equal(qk_stats_local_pending(f->path, &march, &before, msg, sizeof msg), QK_OK);
    assert_int_equal(for_members, 0);
    assert_true(before > 20);
    static const char *const want[][2] = {
        {"m1", "2026-03-06"}, {"m2", "2026-05-03"}, {"m3", "2026-04-01"}, {"m4", "2026-03-31"}, {"m5", NULL}};
    qk_stats_subject subjects[] = {QK_STATS_MEMBERS, QK_STATS_INACTIVE};
    for (int k = 0; k < 2; k++) {
        json_t *t = run(f, subjects[k], "2026-05-01", "2026-05-31");
        assert_int_equal(qk_stats_local_pending(f->path, &march, &after, msg, sizeof msg), QK_OK);
        assert_int_equal(after, before);
        char *lazy = json_dumps(t, JSON_SORT_KEYS);
        size_t last = k == 0 ? 11 : 3, found = 0;
        for (size_t i = 0; i < json_array_size(json_object_get(t, "rows")); i++)
            for (size_t w = 0; w < 5; w++)
                if (strcmp(sval(row(t, i), 0), want[w][0]) == 0) {
                    json_t *v = json_array_get(row(t, i), last);
                    if (want[w][1])
                        assert_string_equal(json_string_value(v), want[w][1]);
                    else
                        assert_true(json_is_null(v));
                    found++;
                }
        assert_int_equal(found, k == 0 ? 5 : 4); /* inactive in May: all but m2 */
        json_decref(t);
        build_for(f->path, 1000, 1, INT64_MIN);
        t = run(f, subjects[k], "2026-05-01", "2026-05-31");
        char *whole = json_dumps(t, JSON_SORT_KEYS);
        json_decref(t);
        assert_string_equal(lazy, whole);
        free(lazy);
        free(whole);
        build_for(f->path, 5, 1, may.from_day);
    }
    /* roll-ups made by the binary before stat_last (the same version):
     * it is made on the first such query, still without the older events */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE stat_last", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(qk_stats_local_pending(f->path, &may, &for_members, msg, sizeof msg), QK_OK);
    assert_int_equal(for_members, 0);
    json_t *t = run(f, QK_STATS_MEMBERS, "2026-05-01", "2026-05-31");
    assert_string_equal(sval(row(t, 0), 11), "2026-03-06");
    json_decref(t);
    assert_int_equal(qk_stats_local_pending(f->path, &march, &after, msg, sizeof msg), QK_OK);
    assert_int_equal(after, before);
}

/* The pass reads payloads itself and asks SQLite's json_extract about
 * anything it does not read simply; either way a member counts as
 * json_extract reads it: a question id written with an escape is that id,
 * a number is its text, a "correct" of 1 is right, and a finish whose
 * score and maximum overflow to infinity is finished but not scored. */
static void payloads_count_as_json_extract_reads_them(void **state)
{
    sfx *f = *state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO events(id, device_id, seq, member_id, kind, payload, created_ms) VALUES"
             " ('x1', 'other', 1, 'm1', 'answer', '{\"q\":\"s\\u0031\",\"correct\":true}', %lld),"
             " ('x2', 'other', 2, 'm1', 'answer', '{\"q\":7,\"correct\":1,\"response\":\"A\"}', %lld),"
             " ('x3', 'other', 3, 'm2', 'answer', '{\"correct\":false,\"q\":\"m1\",\"response\":[\"A\",\"C\"]}', %lld),"
             /* a broken device's finish: inf / inf is no fraction, and must not stop the roll-ups */
             " ('x4', 'other', 4, 'm3', 'attempt.finish', '{\"score\":1e400,\"max\":1e400}', %lld)",
             (long long)BJ(10, 10, 0), (long long)BJ(10, 10, 1), (long long)BJ(10, 10, 2),
             (long long)BJ(10, 10, 3));
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    json_decref(run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31"));
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql,
             "SELECT group_concat(q || ':' || member_id || ':' || n || ':' || ok, ' ') FROM"
             " (SELECT * FROM stat_answers WHERE day = %lld ORDER BY q)",
             (long long)qk_beijing_day(BJ(10, 0, 0)));
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "7:m1:1:1 m1:m2:1:0 s1:m1:1:1");
    sqlite3_finalize(st);
    snprintf(sql, sizeof sql, "SELECT q, resp, n FROM stat_wrong WHERE day = %lld",
             (long long)qk_beijing_day(BJ(10, 0, 0)));
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "m1");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "[\"A\",\"C\"]");
    assert_int_equal(sqlite3_column_int(st, 2), 1);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    snprintf(sql, sizeof sql,
             "SELECT attempts || ' ' || scored || ' ' || pct_sum FROM stat_day WHERE day = %lld"
             " AND member_id = 'm3'", (long long)qk_beijing_day(BJ(10, 0, 0)));
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "1 0 0.0");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Issue 14, item 9: one event dated beyond the year 9999 (taken by a store
 * before event times were bounded) made every roll-up fail. It is left out;
 * the figures are the same as without it. */
static void an_event_out_of_range_cannot_stop_the_statistics(void **state)
{
    sfx *f = *state;
    json_t *before = run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO events(id, device_id, seq, member_id, kind, attempt_id,"
                                  " payload, created_ms) VALUES ('018f0000-0000-7000-8000-000000000001',"
                                  " (SELECT id FROM device), 9999, 'm1', 'answer', NULL,"
                                  " '{\"q\":\"s1\",\"correct\":true}', 4611686018427387904)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    for (int s = 0; s < QK_STATS_FLAGGED; s++) {
        qk_stats_query q = {(qk_stats_subject)s, 0, 0, f->base.b, 0};
        assert_int_equal(qk_stats_parse_day("2026-03-01", &q.from_day), 0);
        assert_int_equal(qk_stats_parse_day("2026-03-31", &q.to_day), 0);
        json_t *t = NULL;
        char msg[256] = "";
        if (qk_stats_local(f->path, &q, QK_LANG_EN, &t, msg, sizeof msg) != QK_OK)
            fail_msg("%s: %s", qk_stats_subject_name((qk_stats_subject)s), msg);
        json_decref(t);
    }
    json_t *after = run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31");
    assert_true(json_equal(json_object_get(before, "rows"), json_object_get(after, "rows")));
    json_decref(after);
    /* Awards whose day is not a date count on their own day, and stop nothing. */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    /* and awards whose day is not a date ("soon", "now", 30 February) */
    static const char *const days[] = {"soon", "now", "2026-02-30", "2026-3-5"};
    for (int i = 0; i < 4; i++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "INSERT INTO events(id, device_id, seq, member_id, kind, payload, created_ms)"
                 " VALUES ('018f0000-0000-7000-8000-00000000000%d', (SELECT id FROM device), %d,"
                 " 'm1', 'points.award', '{\"activity\":\"daily\",\"amount\":1,\"day\":\"%s\"}',"
                 " 1772676000000)",
                 i + 2, 10000 + i, days[i]);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_close(db);
    after = run(f, QK_STATS_MEMBERS, "2026-03-01", "2026-03-31");
    assert_int_equal(ival(row(after, 0), 9), ival(row(before, 0), 9) + 4); /* m1, 5 March */
    json_decref(before);
    json_decref(after);
}

static void periods_and_days(void **state)
{
    (void)state;
    int64_t d = 0, from = 0, to = 0;
    assert_int_equal(qk_stats_parse_day("2026-02-29", &d), -1);
    assert_int_equal(qk_stats_parse_day("2024-02-29", &d), 0);
    assert_int_equal(qk_stats_parse_day("2026-3-1", &d), -1);
    /* 31 March 16:30 UTC is already 1 April in Beijing: April's month. */
    qk_stats_this_month(1774974600000LL, &from, &to);
    assert_int_equal(qk_stats_parse_day("2026-04-01", &d), 0);
    assert_int_equal(from, d);
    assert_int_equal(qk_stats_parse_day("2026-04-30", &d), 0);
    assert_int_equal(to, d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(participation_in_beijing_days, setup, teardown),
        cmocka_unit_test_setup_teardown(members_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(inactive_members, setup, teardown),
        cmocka_unit_test_setup_teardown(themes_and_distribution, setup, teardown),
        cmocka_unit_test_setup_teardown(weekly_trend, setup, teardown),
        cmocka_unit_test_setup_teardown(item_analysis, setup, teardown),
        cmocka_unit_test_setup_teardown(item_analysis_over_any_period, setup, teardown),
        cmocka_unit_test_setup_teardown(item_analysis_is_the_plain_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_answers_in_words, setup, teardown),
        cmocka_unit_test_setup_teardown(guests_only_in_anonymous_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(rollups_follow_and_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(an_attempt_across_midnight_counts_on_the_day_it_began, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(answers_after_a_refresh_count_on_the_day_their_attempt_began,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(rollups_written_in_pieces_are_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(payloads_count_as_json_extract_reads_them, setup, teardown),
        cmocka_unit_test_setup_teardown(events_pending_for_the_roll_ups, setup, teardown),
        cmocka_unit_test_setup_teardown(a_first_query_takes_in_only_what_its_period_needs, setup, teardown),
        cmocka_unit_test_setup_teardown(a_build_for_a_period_holds_its_days_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(the_last_day_of_activity_is_found_however_far_back, setup, teardown),
        cmocka_unit_test_setup_teardown(the_last_days_take_in_no_more_than_they_need, setup, teardown),
        cmocka_unit_test_setup_teardown(rollups_refreshed_a_few_events_a_transaction_are_the_same,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(an_event_out_of_range_cannot_stop_the_statistics, setup,
                                        teardown),
        cmocka_unit_test(periods_and_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
