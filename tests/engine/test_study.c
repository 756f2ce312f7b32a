/* Tests for engine/src/study.c and the study modes in session.c: the daily
 * quiz, the challenge, the wrong-answer book and its review. */
#include <stdlib.h>
#include <string.h>

#include "support.h"

typedef qkt_fx fx;

/* 2026-03-05 10:00 Beijing time = 02:00 UTC */
#define MAR5_10AM 1772676000000LL
#define HOUR (3600LL * 1000)

static int setup(void **state)
{
    qkt_fx_setup(state);
    qkt_fx *f = *state;
    f->clock.now_ms = MAR5_10AM;
    assert_int_equal(qk_member_add(f->e, "m1", "张三", "", "1234"), QK_OK);
    assert_int_equal(qk_member_add(f->e, "m2", "李四", "", "1234"), QK_OK);
    return 0;
}

#define teardown qkt_fx_teardown

static void beijing_days_turn_at_beijing_midnight(void **state)
{
    (void)state;
    char d[QK_DATE_LEN];
    qk_beijing_date(MAR5_10AM, d);
    assert_string_equal(d, "2026-03-05");
    /* 15:59:59 UTC on 4 March is 23:59:59 in Beijing; a second later it is the 5th. */
    int64_t before = MAR5_10AM - 10 * HOUR - 1000;
    qk_beijing_date(before, d);
    assert_string_equal(d, "2026-03-04");
    qk_beijing_date(before + 1000, d);
    assert_string_equal(d, "2026-03-05");
    assert_int_equal(qk_beijing_day(before + 1000) - qk_beijing_day(before), 1);
}

/* The question ids of a new daily attempt for member. */
static void daily_ids(fx *f, const char *member, char *out, size_t n)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_DAILY;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, member, &spec), QK_OK);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0;; i++) {
        qk_item it;
        if (qk_session_review(s, i, &it, NULL) != QK_OK)
            break;
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", it.q->id);
        for (size_t d = 0; d < it.q->n_options; d++)
            len += (size_t)snprintf(out + len, n - len, "%c", (char)('0' + (int)it.perm[d]));
    }
    qk_session_free(s);
}

static void daily_quiz_is_the_same_all_day_and_new_the_next(void **state)
{
    fx *f = *state;
    char a[256], b[256], c[256];
    daily_ids(f, "m1", a, sizeof a);
    /* the fixture has 5 questions, the default daily count is 5: all of them */
    assert_int_equal((int)(strchr(a, '\0') - a) > 0, 1);
    f->clock.now_ms += 13 * HOUR; /* 23:00 the same Beijing day */
    daily_ids(f, "m1", b, sizeof b);
    assert_string_equal(a, b);
    /* The next Beijing day: a different order (the set is drawn anew). Try a few
     * days, since with five questions two days may by chance agree. */
    int differs = 0;
    for (int day = 1; day <= 5 && !differs; day++) {
        f->clock.now_ms = MAR5_10AM + day * 24 * HOUR;
        daily_ids(f, "m1", c, sizeof c);
        differs = strcmp(a, c) != 0;
    }
    assert_true(differs);
    /* and another member gets their own set */
    f->clock.now_ms = MAR5_10AM;
    differs = 0;
    daily_ids(f, "m2", c, sizeof c);
    differs = strcmp(a, c) != 0;
    assert_true(differs);
}

static void daily_count_comes_from_the_bundle(void **state)
{
    fx *f = *state;
    char *p = qkt_path(f->dir, "d.qkb");
    qk_bundle_writer *w = NULL;
    assert_int_equal(qk_bundle_writer_open(&w, p, QK_LANG_EN), QK_OK);
    qk_manifest m = {"d", "1", "D", "zh-CN", 2, 0};
    assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "t", "T", NULL), QK_OK);
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "j%d", i);
        qk_question q = {.id = id, .theme = "t", .type = QK_Q_JUDGE, .stem = "s", .points = 1};
        assert_int_equal(qk_bundle_writer_question(w, &q), QK_OK);
    }
    assert_int_equal(qk_bundle_writer_commit(w), QK_OK);
    qk_bundle_writer_free(w);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, 0, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_bundle_info_get(b)->daily_count, 2);
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_DAILY;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, b, "m1", &spec), QK_OK);
    qk_item it;
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    assert_int_equal(it.total, 2);
    qk_session_free(s);
    qk_bundle_close(b);
    free(p);
}

/* Answers the current item right or wrong. */
static void answer(qk_session *s, const qk_item *it, int right, qk_feedback *fb)
{
    char buf[16] = "";
    const qk_question *q = it->q;
    if (q->type == QK_Q_JUDGE) {
        snprintf(buf, sizeof buf, "%s", (q->judge_answer != 0) == right ? "对" : "错");
    } else if (q->type == QK_Q_FILL) {
        snprintf(buf, sizeof buf, "%s", right ? "1921|南湖" : "1|2");
    } else {
        size_t len = 0;
        for (size_t d = 0; d < q->n_options; d++) {
            int c = q->options[it->perm[d]].correct;
            if (c == right || (!right && len == 0 && d == q->n_options - 1))
                buf[len++] = (char)('A' + d);
            if (!right && len)
                break;
        }
        buf[len] = '\0';
    }
    assert_int_equal(qk_session_answer(s, buf, fb, NULL), QK_OK);
    assert_int_equal(fb->correct, right);
}

static void challenge_ends_at_the_first_miss_and_keeps_the_best_run(void **state)
{
    fx *f = *state;
    size_t runs[2] = {2, 0};
    for (int r = 0; r < 2; r++) {
        qk_session_spec spec = QK_SESSION_SPEC_INIT;
        spec.mode = QK_MODE_CHALLENGE;
        qk_session *s = NULL;
        assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
        assert_int_equal(qk_session_remaining_ms(s), QK_CHALLENGE_DEFAULT_SECONDS * 1000);
        qk_item it;
        qk_feedback fb;
        for (size_t i = 0; i < runs[r]; i++) {
            assert_int_equal(qk_session_next(s, &it), QK_ROW);
            answer(s, &it, 1, &fb);
        }
        assert_int_equal(qk_session_next(s, &it), QK_ROW);
        answer(s, &it, 0, &fb);
        assert_int_equal(qk_session_next(s, &it), QK_DONE); /* the miss ended the run */
        qk_summary sum;
        assert_int_equal(qk_session_finish(s, &sum), QK_OK);
        assert_int_equal(sum.correct, runs[r]);
        qk_session_free(s);
    }
    size_t best = 99;
    assert_int_equal(qk_challenge_best(f->e, "m1", &best), QK_OK);
    assert_int_equal(best, 2);
    assert_int_equal(qk_challenge_best(f->e, "m2", &best), QK_OK);
    assert_int_equal(best, 0);
}

static void challenge_question_time_is_enforced_by_the_engine(void **state)
{
    fx *f = *state;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_CHALLENGE;
    spec.time_limit_s = 10;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    qk_item it;
    qk_feedback fb;
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    answer(s, &it, 1, &fb); /* in time */
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    f->clock.now_ms += 5000;
    assert_int_equal(qk_session_remaining_ms(s), 5000);
    assert_int_equal(qk_session_expire(s, &fb), QK_ESTATE); /* not yet */
    f->clock.now_ms += 6000;
    /* A right answer typed too late is a miss. */
    const char *late = it.q->type == QK_Q_JUDGE ? "对" : it.q->type == QK_Q_FILL ? "1921|南湖" : "A";
    assert_int_equal(qk_session_answer(s, late, &fb, NULL), QK_OK);
    assert_true(fb.timed_out);
    assert_false(fb.correct);
    assert_int_equal(qk_session_next(s, &it), QK_DONE);
    qk_session_free(s);
    /* The timeout survives a resume. */
    assert_int_equal(qk_session_resume(&s, f->e, f->b, "m1"), QK_OK);
    assert_int_equal(qk_session_next(s, &it), QK_DONE);
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    assert_int_equal(sum.correct, 1);
    assert_int_equal(sum.answered, 2);
    qk_session_free(s);
}

/* One practice answer to question id, right or wrong, at the clock's time. */
static void practise(fx *f, const char *id, int right)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.order = QK_ORDER_SEQUENTIAL;
    spec.count = 0;
    spec.theme = strcmp(id, "s2") == 0 ? "t2" : "t1";
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    qk_item it;
    qk_feedback fb;
    while (qk_session_next(s, &it) == QK_ROW && strcmp(it.q->id, id) != 0)
        answer(s, &it, 1, &fb);
    answer(s, &it, right, &fb);
    qk_session_free(s);
}

static void wrong_book_entry_and_exit(void **state)
{
    fx *f = *state;
    qk_wrong *w = NULL;
    size_t n = 0;
    practise(f, "s1", 0); /* wrong: in the book */
    assert_int_equal(qk_wrongbook_list(f->e, "m1", &w, &n), QK_OK);
    assert_int_equal(n, 1);
    assert_string_equal(w[0].question_id, "s1");
    assert_int_equal(w[0].times_wrong, 1);
    assert_non_null(w[0].given);
    qk_wrongbook_free(w, n);

    practise(f, "s1", 1); /* right once */
    practise(f, "s1", 1); /* right again the same day: still once */
    assert_int_equal(qk_wrongbook_list(f->e, "m1", &w, &n), QK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].right_days, 1);
    qk_wrongbook_free(w, n);

    f->clock.now_ms += 24 * HOUR; /* right on a second day: out of the book */
    practise(f, "s1", 1);
    assert_int_equal(qk_wrongbook_list(f->e, "m1", &w, &n), QK_OK);
    assert_int_equal(n, 0);
    qk_wrongbook_free(w, n);

    /* A miss after a right day starts the count again. */
    practise(f, "s2", 0);
    practise(f, "s2", 1);
    f->clock.now_ms += 24 * HOUR;
    practise(f, "s2", 0);
    f->clock.now_ms += 24 * HOUR;
    practise(f, "s2", 1);
    assert_int_equal(qk_wrongbook_list(f->e, "m1", &w, &n), QK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].times_wrong, 2);
    assert_int_equal(w[0].right_days, 1);
    qk_wrongbook_free(w, n);
    /* other members' books are their own */
    assert_int_equal(qk_wrongbook_list(f->e, "m2", &w, &n), QK_OK);
    assert_int_equal(n, 0);
    qk_wrongbook_free(w, n);
}

static void review_drills_the_book_and_resumes_its_own_list(void **state)
{
    fx *f = *state;
    qk_session *s = NULL;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_REVIEW;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_ENOTFOUND);
    assert_non_null(strstr(qk_session_errmsg(s), "wrong-answer book is empty"));
    qk_session_free(s);
    practise(f, "s1", 0);
    f->clock.now_ms += 1000;
    practise(f, "j1", 0);
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    qk_item it;
    qk_feedback fb;
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    assert_int_equal(it.total, 2);
    assert_string_equal(it.q->id, "j1"); /* most recently missed first */
    answer(s, &it, 1, &fb);
    qk_session_free(s);
    /* Resume asks what the review asked, although the book changed meanwhile. */
    assert_int_equal(qk_session_resume(&s, f->e, f->b, "m1"), QK_OK);
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    assert_int_equal(it.index, 1);
    assert_string_equal(it.q->id, "s1");
    qk_session_free(s);
}

/* Worked examples of SM-2 as Wozniak describes it: with grade 4 the factor
 * stays 2.5 and the intervals are 1, 6, 15 days; grade 5 raises it by 0.1 a
 * time; grade 3 lowers it by 0.14; a miss restarts at 1 day, never below 1.3. */
static void sm2_worked_examples(void **state)
{
    (void)state;
    int n = 0, i = 0;
    double ef = 2.5;
    qk_srs_step(4, &n, &ef, &i);
    assert_int_equal(i, 1);
    qk_srs_step(4, &n, &ef, &i);
    assert_int_equal(i, 6);
    qk_srs_step(4, &n, &ef, &i);
    assert_int_equal(i, 15);
    assert_true(ef > 2.499 && ef < 2.501);
    n = 0, i = 0, ef = 2.5;
    qk_srs_step(5, &n, &ef, &i); /* I=1, EF 2.6 */
    qk_srs_step(5, &n, &ef, &i); /* I=6, EF 2.7 */
    qk_srs_step(5, &n, &ef, &i); /* I=round(6 x 2.7)=16, EF 2.8 */
    assert_int_equal(i, 16);
    assert_true(ef > 2.799 && ef < 2.801);
    qk_srs_step(3, &n, &ef, &i); /* I=round(16 x 2.8)=45, EF 2.66 */
    assert_int_equal(i, 45);
    assert_true(ef > 2.659 && ef < 2.661);
    qk_srs_step(1, &n, &ef, &i); /* a miss: back to 1 day, EF 2.66 - 0.54 = 2.12 */
    assert_int_equal(i, 1);
    assert_int_equal(n, 0);
    assert_true(ef > 2.119 && ef < 2.121);
    for (int k = 0; k < 5; k++)
        qk_srs_step(0, &n, &ef, &i);
    assert_true(ef > 1.299 && ef < 1.301);
}

static void srs_schedule_and_due_review(void **state)
{
    fx *f = *state;
    practise(f, "s1", 1); /* day 0: right, due day 1 */
    practise(f, "s2", 0); /* day 0: wrong, due day 1 */
    qk_srs_item *v = NULL;
    size_t n = 0;
    assert_int_equal(qk_srs_list(f->e, "m1", &v, &n), QK_OK);
    int64_t today = qk_beijing_day(f->clock.now_ms);
    assert_true(n >= 2);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i].due_day, today + 1);
    qk_srs_free(v, n);
    /* Nothing is due today. */
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_SRS;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_ENOTFOUND);
    qk_session_free(s);
    /* Tomorrow they are; s1 right again: next due 6 days later. */
    f->clock.now_ms += 24 * HOUR;
    assert_int_equal(qk_session_start(&s, f->e, f->b, "m1", &spec), QK_OK);
    qk_item it;
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    assert_true(it.total >= 2);
    qk_session_free(s);
    practise(f, "s1", 1);
    assert_int_equal(qk_srs_list(f->e, "m1", &v, &n), QK_OK);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].question_id, "s1") == 0) {
            found = 1;
            assert_int_equal(v[i].interval_days, 6);
            assert_int_equal(v[i].due_day, today + 1 + 6);
        }
    }
    assert_true(found);
    qk_srs_free(v, n);
}

static void themed_days_and_guest_themes(void **state)
{
    fx *f = *state;
    assert_true(qk_theme_days_valid("03-05"));
    assert_true(qk_theme_days_valid("05-12, 08-19"));
    assert_true(qk_theme_days_valid("12-25..01-05"));
    assert_false(qk_theme_days_valid("3月5日"));
    assert_false(qk_theme_days_valid("13-01"));
    char *p = qkt_path(f->dir, "days.qkb");
    qk_bundle_writer *w = NULL;
    assert_int_equal(qk_bundle_writer_open(&w, p, QK_LANG_EN), QK_OK);
    qk_manifest m = {"days", "1", "D", "zh-CN", 0, 0};
    assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "lf", "学雷锋", NULL), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "yh", "护士节与医师节", NULL), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "ny", "元旦前后", NULL), QK_OK);
    assert_int_equal(qk_bundle_writer_theme_days(w, "lf", "03-05"), QK_OK);
    assert_int_equal(qk_bundle_writer_theme_days(w, "yh", "05-12,08-19"), QK_OK);
    assert_int_equal(qk_bundle_writer_theme_days(w, "ny", "12-30..01-02"), QK_OK);
    assert_int_equal(qk_bundle_writer_theme_days(w, "lf", "March 5"), QK_EINVAL);
    /* themes open to guests (residents at the kiosk) */
    assert_int_equal(qk_bundle_writer_theme_guests(w, "yh"), QK_OK);
    assert_int_equal(qk_bundle_writer_theme_guests(w, "ny"), QK_OK);
    assert_int_equal(qk_bundle_writer_theme_guests(w, "yh"), QK_OK); /* twice: still once */
    assert_int_equal(qk_bundle_writer_theme_guests(w, "nope"), QK_ENOTFOUND);
    qk_question q = {.id = "j", .theme = "lf", .type = QK_Q_JUDGE, .stem = "s", .points = 1};
    assert_int_equal(qk_bundle_writer_question(w, &q), QK_OK);
    assert_int_equal(qk_bundle_writer_commit(w), QK_OK);
    qk_bundle_writer_free(w);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    const qk_theme *t = qk_bundle_theme_today(b, MAR5_10AM);
    assert_non_null(t);
    assert_string_equal(t->id, "lf");
    /* 23:30 Beijing on 4 March is still the 4th: no themed day yet */
    assert_null(qk_bundle_theme_today(b, MAR5_10AM - 10 * HOUR - 30 * 60 * 1000));
    /* 19 August (医师节) */
    assert_string_equal(qk_bundle_theme_today(b, MAR5_10AM + 167 * 24 * HOUR)->id, "yh");
    /* across the new year */
    assert_string_equal(qk_bundle_theme_today(b, MAR5_10AM - 63 * 24 * HOUR)->id, "ny");
    assert_false(qk_bundle_theme_find(b, "lf")->guests);
    assert_true(qk_bundle_theme_find(b, "yh")->guests);
    assert_true(qk_bundle_theme_find(b, "ny")->guests);
    qk_bundle_close(b);
    free(p);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(beijing_days_turn_at_beijing_midnight),
        T(daily_quiz_is_the_same_all_day_and_new_the_next),
        T(daily_count_comes_from_the_bundle),
        T(challenge_ends_at_the_first_miss_and_keeps_the_best_run),
        T(challenge_question_time_is_enforced_by_the_engine),
        T(wrong_book_entry_and_exit),
        T(review_drills_the_book_and_resumes_its_own_list),
        cmocka_unit_test(sm2_worked_examples),
        T(srs_schedule_and_due_review),
        T(themed_days_and_guest_themes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
