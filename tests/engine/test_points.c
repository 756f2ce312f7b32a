/* Tests for engine/src/points.c: awards, daily caps, streaks and corrections. */
#include <stdlib.h>
#include <string.h>

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

/* A daily quiz with `right` right answers (the fixture's daily set is all 5). */
static qk_summary daily(fx *f, const char *member, int right)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_DAILY;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, member, &spec), QK_OK);
    qk_item it;
    int i = 0;
    while (qk_session_next(s, &it) == QK_ROW) {
        const qk_question *q = it.q;
        char buf[16];
        int want = i++ < right;
        if (q->type == QK_Q_JUDGE)
            snprintf(buf, sizeof buf, "%s", (q->judge_answer != 0) == want ? "T" : "F");
        else if (q->type == QK_Q_FILL)
            snprintf(buf, sizeof buf, "%s", want ? "1921|南湖" : "x|y");
        else {
            size_t len = 0;
            for (size_t d = 0; d < q->n_options && len < sizeof buf - 1; d++) {
                if (q->options[it.perm[d]].correct == want)
                    buf[len++] = (char)('A' + d);
                if (!want && len)
                    break;
            }
            buf[len] = '\0';
        }
        qk_feedback fb;
        assert_int_equal(qk_session_answer(s, buf, &fb, NULL), QK_OK);
        assert_int_equal(fb.correct, want);
    }
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

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(daily_points_stop_at_the_cap),
        T(guests_earn_nothing),
        T(streaks_count_days_in_a_row_and_earn_a_daily_bonus),
        T(awards_happen_once_per_attempt_and_corrections_add_up),
        T(rules_come_from_the_bundle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
