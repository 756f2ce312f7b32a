/* Tests for engine/src/points.c: awards, daily caps, streaks and corrections. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "support.h"

typedef qkt_fx fx;

#define MAR5_10AM 1772676000000LL
#define DAY (24LL * 3600 * 1000)

static int setup(void **state)
{
    qkt_fx_setup(state);
    qkt_fx *f = *state;
    f->clock.now_ms = MAR5_10AM;
    assert_int_equal(qk_member_add(f->e, "m1", "张三", "", "1234"), QK_OK);
    return 0;
}

#define teardown qkt_fx_teardown

/* Answers the current question of s right or wrong. */
static void answer(qk_session *s, int right)
{
    qk_item it;
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    const qk_question *q = it.q;
    char buf[16];
    if (q->type == QK_Q_JUDGE)
        snprintf(buf, sizeof buf, "%s", (q->judge_answer != 0) == right ? "T" : "F");
    else if (q->type == QK_Q_FILL)
        snprintf(buf, sizeof buf, "%s", right ? "1921|南湖" : "x|y");
    else {
        size_t len = 0;
        for (size_t d = 0; d < q->n_options && len < sizeof buf - 1; d++) {
            if (q->options[it.perm[d]].correct == right)
                buf[len++] = (char)('A' + d);
            if (!right && len)
                break;
        }
        buf[len] = '\0';
    }
    qk_feedback fb;
    assert_int_equal(qk_session_answer(s, buf, &fb, NULL), QK_OK);
    assert_int_equal(fb.correct, right);
}

/* A daily quiz with `right` right answers (the fixture's daily set is all 5). */
static qk_summary daily(fx *f, const char *member, int right)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_DAILY;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, member, &spec), QK_OK);
    for (int i = 0; i < 5; i++)
        answer(s, i < right);
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    qk_session_free(s);
    return sum;
}

static void daily_points_stop_at_the_cap(void **state)
{
    fx *f = *state;
    qk_summary a = daily(f, "m1", 3);
    assert_int_equal(a.points, 3);
    qk_summary b = daily(f, "m1", 5); /* 5 more right, but only 2 fit under the cap of 5 */
    assert_int_equal(b.points, 2);
    qk_summary c = daily(f, "m1", 5);
    assert_int_equal(c.points, 0);
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.today[QK_ACT_DAILY], 5);
    assert_int_equal(p.rules[QK_ACT_DAILY].daily_cap, 5);
    assert_int_equal(p.total, 5);
    assert_int_equal(p.streak_days, 1);
    /* The next day the cap starts again. */
    f->clock.now_ms += DAY;
    qk_summary d = daily(f, "m1", 2);
    assert_int_equal(d.points, 2);
}

static void guests_earn_nothing(void **state)
{
    fx *f = *state;
    qk_summary a = daily(f, NULL, 5);
    assert_int_equal(a.points, 0);
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(f->e, f->b, NULL, &p), QK_OK);
    assert_int_equal(p.total, 0);
}

static void streaks_count_days_in_a_row_and_earn_a_daily_bonus(void **state)
{
    fx *f = *state;
    daily(f, "m1", 1);
    f->clock.now_ms += DAY;
    daily(f, "m1", 1); /* second day in a row: +1 streak bonus */
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.streak_days, 2);
    assert_int_equal(p.today[QK_ACT_STREAK], 1);
    daily(f, "m1", 1); /* again today: the bonus is once a day */
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.today[QK_ACT_STREAK], 1);
    assert_int_equal(p.total, 1 + 1 + 1 + 1);
    /* The streak holds through the next day until that day ends without study. */
    f->clock.now_ms += DAY;
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.streak_days, 2);
    f->clock.now_ms += DAY;
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.streak_days, 0);
}

/* One streak rule (issue 15): every study day counts, whatever the mode, and
 * on each study day of a streak the bonus comes once. A day with only a
 * review drill, or a daily quiz with every answer wrong, is such a day; the
 * server's replay gives the same figure. */
static void every_study_day_earns_the_streak_bonus_whatever_the_mode(void **state)
{
    fx *f = *state;
    daily(f, "m1", 1); /* day 1 */
    f->clock.now_ms += DAY;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_PRACTICE; /* day 2: a drill of two questions, nothing else */
    spec.count = 2;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    answer(s, 1);
    answer(s, 0);
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    qk_session_free(s);
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.streak_days, 2);
    assert_int_equal(p.today[QK_ACT_STREAK], 1);
    f->clock.now_ms += DAY;
    daily(f, "m1", 0); /* day 3: a daily quiz, all wrong: no daily points, a study day */
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.streak_days, 3);
    assert_int_equal(p.today[QK_ACT_DAILY], 0);
    assert_int_equal(p.today[QK_ACT_STREAK], 1);
    assert_int_equal(p.total, 1 + 1 + 1);
    char *path = qkt_path(f->dir, "progress.db");
    int64_t total = -1;
    char msg[256];
    assert_int_equal(qk_points_recompute(path, f->b, "m1", &total, msg, sizeof msg), QK_OK);
    assert_int_equal(total, p.total);
    free(path);
}

static void awards_happen_once_per_attempt_and_corrections_add_up(void **state)
{
    fx *f = *state;
    int got = -1;
    assert_int_equal(qk_points_award(f->e, f->b, "m1", QK_ACT_LESSON, 1, "lesson-1", &got), QK_OK);
    assert_int_equal(got, 2);
    assert_int_equal(qk_points_award(f->e, f->b, "m1", QK_ACT_LESSON, 1, "lesson-1", &got), QK_OK);
    assert_int_equal(got, 0); /* the same lesson again: no second award */
    assert_int_equal(qk_points_correct(f->e, "m1", QK_ACT_LESSON, -2, "re-scored by the server"), QK_OK);
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.total, 0);
    assert_int_equal(p.today[QK_ACT_LESSON], 2); /* the cap counts awards, not corrections */
}

static void rules_come_from_the_bundle(void **state)
{
    fx *f = *state;
    char *p = qkt_path(f->dir, "r.qkb");
    qk_bundle_writer *w = NULL;
    assert_int_equal(qk_bundle_writer_open(&w, p, QK_LANG_EN), QK_OK);
    qk_manifest m = {"r", "1", "R", "zh-CN", 0, 0};
    assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "t", "T", NULL), QK_OK);
    qk_question q = {.id = "j", .theme = "t", .type = QK_Q_JUDGE, .stem = "s", .points = 1};
    assert_int_equal(qk_bundle_writer_question(w, &q), QK_OK);
    assert_int_equal(qk_bundle_writer_point_rule(w, "challenge", 2, 10), QK_OK);
    assert_int_equal(qk_bundle_writer_point_rule(w, "gossip", 2, 10), QK_EINVAL);
    assert_int_equal(qk_bundle_writer_commit(w), QK_OK);
    qk_bundle_writer_free(w);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    qk_point_rule rules[QK_ACT_COUNT];
    qk_point_rules(b, rules);
    assert_int_equal(rules[QK_ACT_CHALLENGE].points, 2);
    assert_int_equal(rules[QK_ACT_CHALLENGE].daily_cap, 10);
    assert_int_equal(rules[QK_ACT_DAILY].points, 1); /* default */
    int got = 0;
    assert_int_equal(qk_points_award(f->e, b, "m1", QK_ACT_CHALLENGE, 7, "run", &got), QK_OK);
    assert_int_equal(got, 10);
    qk_bundle_close(b);
    free(p);
}

/* The award events' days and amounts of member, "day:activity:amount,...". */
static void awards(fx *f, const char *member, char *out, size_t n)
{
    char *path = qkt_path(f->dir, "progress.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT json_extract(payload, '$.day'),"
                                        " json_extract(payload, '$.activity'),"
                                        " json_extract(payload, '$.amount') FROM events"
                                        " WHERE kind = 'points.award' AND member_id = ? ORDER BY seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
    size_t len = 0;
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW)
        len += (size_t)snprintf(out + len, n - len, "%s%s:%s:%d", len ? "," : "",
                                (const char *)sqlite3_column_text(st, 0),
                                (const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2));
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
}

/* 23:58 Beijing time on 5 March 2026 */
#define MAR5_2358 (MAR5_10AM + 13 * 3600000LL + 58 * 60000LL)

/* DESIGN.md decision 10: a daily quiz begun at 23:58 and finished at
 * 00:00:29 belongs wholly to the day it began: its points, its cap, the
 * streak; the next day's own quiz earns its own points. The server's
 * recomputation from the raw events agrees. */
static void a_daily_quiz_across_midnight_belongs_to_the_day_it_began(void **state)
{
    fx *f = *state;
    f->clock.now_ms = MAR5_2358 - 24 * 3600000LL; /* a quiz on 4 March first: a streak */
    daily(f, "m1", 1);
    f->clock.now_ms = MAR5_2358;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_DAILY;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    assert_string_equal(qk_session_day(s), "2026-03-05");
    answer(s, 1);
    answer(s, 1);
    f->clock.now_ms = MAR5_2358 + 2 * 60000 + 29000; /* 00:00:29 on 6 March */
    answer(s, 1);
    answer(s, 1);
    answer(s, 1);
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    qk_session_free(s);
    assert_int_equal(sum.points, 5);
    char got[512];
    awards(f, "m1", got, sizeof got);
    assert_string_equal(got, "2026-03-04:daily:1,2026-03-05:daily:5,2026-03-05:streak:1");
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.today[QK_ACT_DAILY], 0); /* 6 March: nothing yet */
    assert_int_equal(p.streak_days, 2);          /* 4 and 5 March; 6 March not over */
    /* 6 March's own quiz: a new set, its own cap, a third day of the streak */
    f->clock.now_ms += 9 * 3600000LL;
    qk_summary next = daily(f, "m1", 5);
    assert_int_equal(next.points, 5);
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.today[QK_ACT_DAILY], 5);
    assert_int_equal(p.today[QK_ACT_STREAK], 1);
    assert_int_equal(p.streak_days, 3);
    /* the server, replaying the raw events under the same rules, agrees */
    char *path = qkt_path(f->dir, "progress.db");
    int64_t total = -1;
    char msg[256];
    assert_int_equal(qk_points_recompute(path, f->b, "m1", &total, msg, sizeof msg), QK_OK);
    assert_int_equal(total, p.total);
    assert_int_equal(total, 1 + 5 + 1 + 5 + 1);
    free(path);
}

/* A daily quiz left unfinished at midnight is finished the next time the
 * member starts a quiz: its answers count for its own day, and it is not
 * today's quiz. The server counts it the same way. */
static void a_past_days_unfinished_daily_is_finished_on_its_own_day(void **state)
{
    fx *f = *state;
    f->clock.now_ms = MAR5_2358;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_DAILY;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    answer(s, 1);
    answer(s, 0);
    answer(s, 1);
    char old_id[40];
    snprintf(old_id, sizeof old_id, "%s", qk_session_attempt_id(s));
    qk_session_free(s); /* the member walks away; the kiosk signs them out */
    /* The same day, starting the daily quiz again continues it. */
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    assert_int_equal(qk_session_resumed(s), 1);
    assert_string_equal(qk_session_attempt_id(s), old_id);
    assert_int_equal((int)qk_session_answered(s), 3);
    assert_null(qk_session_expired_daily(s));
    qk_session_free(s);
    /* The next morning it is no longer today's quiz: resume does not offer it */
    f->clock.now_ms = MAR5_2358 + 8 * 3600000LL;
    assert_int_equal(qk_session_resume(&s, f->e, f->b, "m1"), QK_ENOTFOUND);
    const qk_expired_daily *old = qk_session_expired_daily(s);
    assert_non_null(old);
    assert_string_equal(old->day, "2026-03-05");
    assert_int_equal((int)old->answered, 3);
    assert_int_equal((int)old->correct, 2);
    assert_int_equal((int)old->total, 5);
    assert_int_equal(old->points, 2);
    qk_session_free(s);
    /* and the daily quiz starts 6 March's set */
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    assert_int_equal(qk_session_resumed(s), 0);
    assert_string_equal(qk_session_day(s), "2026-03-06");
    assert_null(qk_session_expired_daily(s)); /* finished once, by the resume above */
    assert_string_not_equal(qk_session_attempt_id(s), old_id);
    qk_session_free(s);
    char got[512];
    awards(f, "m1", got, sizeof got);
    assert_string_equal(got, "2026-03-05:daily:2");
    char *path = qkt_path(f->dir, "progress.db");
    int64_t total = -1;
    char msg[256];
    assert_int_equal(qk_points_recompute(path, f->b, "m1", &total, msg, sizeof msg), QK_OK);
    assert_int_equal(total, 2);
    free(path);
}

/* Resuming what was chosen: a practice of one theme is not continued by a
 * practice of another, nor by the daily quiz. */
static void resume_continues_only_the_mode_and_theme_chosen(void **state)
{
    fx *f = *state;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = "t1";
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    answer(s, 1);
    qk_session_free(s);
    qk_session_spec other = QK_SESSION_SPEC_INIT;
    other.theme = "t2";
    assert_int_equal(qk_session_resume_spec(&s, f->e, f->b, "m1", &other), QK_ENOTFOUND);
    qk_session_free(s);
    other.theme = NULL; /* all themes */
    assert_int_equal(qk_session_resume_spec(&s, f->e, f->b, "m1", &other), QK_ENOTFOUND);
    qk_session_free(s);
    other.mode = QK_MODE_EXAM;
    other.theme = "t1";
    assert_int_equal(qk_session_resume_spec(&s, f->e, f->b, "m1", &other), QK_ENOTFOUND);
    qk_session_free(s);
    assert_int_equal(qk_session_resume_spec(&s, f->e, f->b, "m1", &spec), QK_OK);
    assert_int_equal((int)qk_session_answered(s), 1);
    qk_session_free(s);
    spec.mode = QK_MODE_DAILY;
    spec.theme = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    assert_int_equal(qk_session_resumed(s), 0);
    qk_session_free(s);
}

/* The server's replay awards what the device awards for taking part in a
 * competition (issue 14, item 8: the server judges points). */
static void the_replay_counts_competitions_like_the_device(void **state)
{
    fx *f = *state;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_COMPETITION;
    spec.competition = "c-fixed";
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    answer(s, 1);
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    qk_session_free(s);
    assert_true(sum.points > 0);
    daily(f, "m1", 2);
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    char *path = qkt_path(f->dir, "progress.db");
    int64_t total = -1;
    qk_points_day *days = NULL;
    size_t n = 0;
    char msg[256];
    assert_int_equal(qk_points_recompute_days(path, f->b, "m1", NULL, &total, &days, &n, msg,
                                              sizeof msg),
                     QK_OK);
    assert_int_equal(total, p.total);
    assert_int_equal(n, 1);
    assert_int_equal(days[0].day, qk_beijing_day(MAR5_10AM));
    assert_int_equal(days[0].points, p.total);
    free(days);
    free(path);
}

/* A correction's amount is a device's number on the server: forged ones
 * at the ends of int64 are held there, not wrapped (nor undefined). */
static void corrections_past_int64_are_held_at_its_ends(void **state)
{
    fx *f = *state;
    const int64_t big[2] = {INT64_MAX, INT64_MIN};
    for (int k = 0; k < 2; k++) {
        qk_points_replay *r = NULL;
        assert_int_equal(qk_points_replay_new(&r, f->b), QK_OK);
        qk_point_event ev[] = {
            {.kind = "points.correction", .counts_at = MAR5_10AM, .amount = big[k]},
            {.kind = "answer", .counts_at = MAR5_10AM},
            {.kind = "attempt.finish", .counts_at = MAR5_10AM, .correct = 5, .answered = 5, .mode = "daily"},
            {.kind = "points.correction", .counts_at = MAR5_10AM, .amount = big[k]},
        };
        for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
            assert_int_equal(qk_points_replay_add(r, &ev[i]), QK_OK);
        int64_t total = 0;
        qk_points_day *days = NULL;
        size_t n = 0;
        assert_int_equal(qk_points_replay_end(r, &total, &days, &n), QK_OK);
        assert_true(total == big[k]);
        assert_int_equal(n, 1);
        /* the day: the held correction and the day's few awards, same sign */
        if (k == 0)
            assert_true(days[0].points == INT64_MAX);
        else
            assert_true(days[0].points > INT64_MIN && days[0].points < INT64_MIN + 1000);
        free(days);
    }
}

/* The server keeps a member's replay between batches (issue 17): a replay
 * saved after any number of events and resumed gives, for the events after,
 * exactly what one replay of them all gives: caps, the streak, lessons
 * rewarded once, corrections; every day's points too. Bytes that are not a
 * saved state (cut short anywhere, another header, one byte more) are
 * refused, never read as a state. */
static void a_saved_replay_resumes_as_one_replay(void **state)
{
    fx *f = *state;
    const int64_t day = 24LL * 3600 * 1000;
    qk_point_event ev[40];
    size_t n = 0;
    for (int d = 0; d < 4; d++) {
        int64_t at = MAR5_10AM + d * day + (d == 2 ? 3 * day : 0); /* a gap breaks the streak */
        ev[n++] = (qk_point_event){.kind = "answer", .counts_at = at};
        ev[n++] = (qk_point_event){.kind = "attempt.finish", .counts_at = at, .correct = 5 + d, .answered = 6,
                                   .mode = "daily"};
        ev[n++] = (qk_point_event){.kind = "answer", .counts_at = at + 60000};
        ev[n++] = (qk_point_event){.kind = "attempt.finish", .counts_at = at + 60000, .correct = 9,
                                   .answered = 10, .mode = "challenge"};
        ev[n++] = (qk_point_event){.kind = "lesson.finish", .counts_at = at, .completed = 1,
                                   .lesson = d % 2 ? "lesson-a" : "lesson-b"};
        if (d == 1)
            ev[n++] = (qk_point_event){.kind = "points.correction", .counts_at = at, .amount = -3};
        if (d == 3)
            ev[n++] = (qk_point_event){.kind = "attempt.finish", .counts_at = at, .answered = 4,
                                       .mode = "competition"};
    }
    int64_t whole = 0;
    qk_points_day *whole_days = NULL;
    size_t n_whole = 0;
    qk_points_replay *r = NULL;
    assert_int_equal(qk_points_replay_new(&r, f->b), QK_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(qk_points_replay_add(r, &ev[i]), QK_OK);
    assert_int_equal(qk_points_replay_end(r, &whole, &whole_days, &n_whole), QK_OK);
    assert_true(whole > 0 && n_whole == 4);
    for (size_t k = 0; k <= n; k++) {
        assert_int_equal(qk_points_replay_new(&r, f->b), QK_OK);
        for (size_t i = 0; i < k; i++)
            assert_int_equal(qk_points_replay_add(r, &ev[i]), QK_OK);
        unsigned char *saved = NULL;
        size_t len = 0;
        assert_int_equal(qk_points_replay_save(r, &saved, &len), QK_OK);
        int64_t t;
        assert_int_equal(qk_points_replay_end(r, &t, NULL, NULL), QK_OK);
        /* cut short anywhere, or one byte more: refused */
        for (size_t cut = 0; cut < len; cut += k % 7 + 1) {
            qk_points_replay *bad = NULL;
            assert_int_equal(qk_points_replay_resume(&bad, f->b, saved, cut), QK_ECORRUPT);
            assert_null(bad);
        }
        unsigned char *longer = malloc(len + 1);
        memcpy(longer, saved, len);
        longer[len] = 0;
        qk_points_replay *bad = NULL;
        assert_int_equal(qk_points_replay_resume(&bad, f->b, longer, len + 1), QK_ECORRUPT);
        longer[0] = 'X';
        assert_int_equal(qk_points_replay_resume(&bad, f->b, longer, len), QK_ECORRUPT);
        free(longer);
        assert_int_equal(qk_points_replay_resume(&r, f->b, saved, len), QK_OK);
        free(saved);
        for (size_t i = k; i < n; i++)
            assert_int_equal(qk_points_replay_add(r, &ev[i]), QK_OK);
        qk_points_day *days = NULL;
        size_t n_days = 0;
        assert_int_equal(qk_points_replay_end(r, &t, &days, &n_days), QK_OK);
        assert_int_equal(t, whole);
        assert_int_equal(n_days, n_whole);
        for (size_t i = 0; i < n_days; i++) {
            size_t j = 0;
            while (j < n_whole && whole_days[j].day != days[i].day)
                j++;
            assert_true(j < n_whole);
            assert_int_equal(days[i].points, whole_days[j].points);
        }
        free(days);
    }
    free(whole_days);
}

/* An attempt belongs to its member: a start written for the attempt under
 * another member (a forged or mixed-up event, a day earlier and another
 * mode) changes neither the day the member's answers count on nor the
 * attempt's mode, so the replay gives what it gave. (A server keeps each
 * member's replay and adds only that member's new events: another
 * member's events must not change it.) */
static void another_members_start_changes_nothing(void **state)
{
    fx *f = *state;
    daily(f, "m1", 3);
    char *path = qkt_path(f->dir, "progress.db");
    int64_t before = -1, after = -1;
    qk_points_day *days = NULL;
    size_t n = 0;
    char msg[256];
    assert_int_equal(qk_points_recompute_days(path, f->b, "m1", NULL, &before, &days, &n, msg, sizeof msg),
                     QK_OK);
    assert_true(before > 0);
    assert_int_equal(n, 1);
    assert_int_equal(days[0].day, qk_beijing_day(MAR5_10AM));
    free(days);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db,
                          "INSERT INTO events(id, device_id, seq, member_id, kind, attempt_id, payload, created_ms)"
                          " SELECT 'forged', 'other-device', 1, 'm2', 'attempt.start', attempt_id,"
                          " '{\"mode\":\"challenge\"}', created_ms - 86400000 FROM events"
                          " WHERE kind = 'attempt.finish' AND member_id = 'm1'",
                          NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("insert: %s", err);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
    assert_int_equal(qk_points_recompute_days(path, f->b, "m1", NULL, &after, &days, &n, msg, sizeof msg),
                     QK_OK);
    assert_int_equal(after, before);
    assert_int_equal(n, 1);
    assert_int_equal(days[0].day, qk_beijing_day(MAR5_10AM));
    free(days);
    free(path);
}

/* On a kiosk every guest is somebody else: a guest who starts the daily quiz
 * gets a new one, never the half-done quiz the previous guest walked away
 * from (which would show that guest's answers). */
static void a_guest_never_continues_another_guests_daily_quiz(void **state)
{
    fx *f = *state;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_DAILY;
    qk_session *first = NULL, *second = NULL;
    assert_int_equal(qk_session_start(&first, f->e, f->b, NULL, &spec), QK_OK);
    answer(first, 0);
    char aid[64];
    snprintf(aid, sizeof aid, "%s", qk_session_attempt_id(first));
    qk_session_free(first); /* walked away */
    assert_int_equal(qk_session_start(&second, f->e, f->b, NULL, &spec), QK_OK);
    assert_string_not_equal(qk_session_attempt_id(second), aid);
    assert_int_equal(qk_session_answered(second), 0);
    assert_false(qk_session_resumed(second));
    qk_session_free(second);
    /* a member's own daily quiz still continues */
    assert_int_equal(qk_session_start(&first, f->e, f->b, "m1", &spec), QK_OK);
    answer(first, 1);
    snprintf(aid, sizeof aid, "%s", qk_session_attempt_id(first));
    qk_session_free(first);
    assert_int_equal(qk_session_start(&second, f->e, f->b, "m1", &spec), QK_OK);
    assert_string_equal(qk_session_attempt_id(second), aid);
    assert_int_equal(qk_session_answered(second), 1);
    qk_session_free(second);
}

static int64_t finishes(fx *f, const char *aid)
{
    char *path = qkt_path(f->dir, "progress.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM events WHERE attempt_id = ?"
                                        " AND kind = 'attempt.finish'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, aid, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return n;
}

/* Two handles on one attempt (the kiosk and the terminal, two kiosk tabs):
 * the attempt is finished once, its points booked once. */
static void an_attempt_is_finished_once_whoever_finishes_it(void **state)
{
    fx *f = *state;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_DAILY;
    qk_session *a = NULL, *b = NULL;
    assert_int_equal(qk_session_start(&a, f->e, f->b, "m1", &spec), QK_OK);
    answer(a, 1);
    assert_int_equal(qk_session_start(&b, f->e, f->b, "m1", &spec), QK_OK);
    char aid[64];
    snprintf(aid, sizeof aid, "%s", qk_session_attempt_id(a));
    assert_string_equal(qk_session_attempt_id(b), aid);
    qk_summary sa, sb;
    assert_int_equal(qk_session_finish(a, &sa), QK_OK);
    assert_int_equal(qk_session_finish(b, &sb), QK_OK);
    assert_int_equal(finishes(f, aid), 1);
    qk_session_free(a);
    qk_session_free(b);
    char got[256];
    awards(f, "m1", got, sizeof got);
    assert_string_equal(got, "2026-03-05:daily:1");
}

/* One question of practice at the clock's time: a study day. */
static void study(fx *f)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_PRACTICE;
    spec.count = 1;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    answer(s, 1);
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
}

/* Streaks longer than the days the engine reads first (64, then four times
 * as many): a gap right where the first read ends, and a streak of 300 days
 * with a gap and an older study day before it, count exactly. */
static void long_streaks_count_every_day(void **state)
{
    fx *f = *state;
    qk_points_summary p;
    int64_t today = MAR5_10AM + 400 * DAY;
    f->clock.now_ms = today - 305 * DAY; /* an older study day, then a gap */
    study(f);
    for (int back = 300; back >= 1; back--) {
        f->clock.now_ms = today - back * DAY;
        study(f);
        if (back == 301 - 64) { /* 64 days in a row so far: the first read's edge */
            assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
            assert_int_equal(p.streak_days, 64);
        }
    }
    f->clock.now_ms = today; /* today not studied yet: the streak holds */
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.streak_days, 300);
    study(f);
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.streak_days, 301);
    assert_int_equal(p.today[QK_ACT_STREAK], 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(daily_points_stop_at_the_cap),
        T(guests_earn_nothing),
        T(streaks_count_days_in_a_row_and_earn_a_daily_bonus),
        T(every_study_day_earns_the_streak_bonus_whatever_the_mode),
        T(awards_happen_once_per_attempt_and_corrections_add_up),
        T(rules_come_from_the_bundle),
        T(a_daily_quiz_across_midnight_belongs_to_the_day_it_began),
        T(a_past_days_unfinished_daily_is_finished_on_its_own_day),
        T(resume_continues_only_the_mode_and_theme_chosen),
        T(the_replay_counts_competitions_like_the_device),
        T(corrections_past_int64_are_held_at_its_ends),
        T(a_saved_replay_resumes_as_one_replay),
        T(another_members_start_changes_nothing),
        T(a_guest_never_continues_another_guests_daily_quiz),
        T(an_attempt_is_finished_once_whoever_finishes_it),
        T(long_streaks_count_every_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
