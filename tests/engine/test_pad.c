/* Tests for engine/src/pad.c: the character pad of a fill-in blank (issue 15,
 * item 2: a fill-in question answered on a touch screen alone). */
#include <stdlib.h>
#include <string.h>

#include "support.h"

typedef qkt_fx fx;

#define setup qkt_fx_setup

#define teardown qkt_fx_teardown

static int has_key(char **keys, size_t n, const char *k)
{
    int count = 0;
    for (size_t i = 0; i < n; i++)
        count += strcmp(keys[i], k) == 0;
    return count;
}

static char *joined(char **keys, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(keys[i]);
    char *s = calloc(1, len);
    for (size_t i = 0; i < n; i++)
        strncat(s, keys[i], len - strlen(s) - 1);
    return s;
}

/* f1 asks "____年在____" (1921 | 嘉兴, or 南湖). */
static void a_pad_holds_the_answer_among_others_once_each(void **state)
{
    fx *f = *state;
    qk_question *q = NULL;
    assert_int_equal(qk_bundle_question(f->b, "f1", &q), QK_OK);
    char **keys = NULL;
    size_t n = 0;
    /* digits: all ten, each once, though 1921 has two 1s */
    assert_int_equal(qk_pad_keys(&keys, &n, f->b, q, 0, "attempt-1"), QK_OK);
    assert_int_equal(n, 10);
    for (char d = '0'; d <= '9'; d++)
        assert_int_equal(has_key(keys, n, (char[]){d, 0}), 1);
    qk_strv_free(keys, n);
    /* Chinese: 嘉 and 兴 with six characters of the other questions' answers and
     * options, those of the same theme (甲乙丙丁) first, then the bundle's
     * (一二以上都对); never the blank's other accepted form 南湖, nor 年 of
     * the other blank (they would tell the answer) */
    assert_int_equal(qk_pad_keys(&keys, &n, f->b, q, 1, "attempt-1"), QK_OK);
    assert_int_equal(n, 8);
    const char *const want[] = {"嘉", "兴", "甲", "乙", "丙", "丁"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(has_key(keys, n, want[i]), 1);
    int others = 0;
    const char *const rest[] = {"一", "二", "以", "上", "都", "对"};
    for (size_t i = 0; i < 6; i++)
        others += has_key(keys, n, rest[i]);
    assert_int_equal(others, 2);
    assert_int_equal(has_key(keys, n, "南") + has_key(keys, n, "湖") + has_key(keys, n, "年"), 0);
    /* tapping 嘉 then 兴 answers the blank: the engine judges it right */
    qk_response r;
    assert_int_equal(qk_response_parse(&r, q, NULL, "1921|嘉兴", NULL), QK_OK);
    qk_centi score, max;
    int correct = 0;
    qk_response_score(q, &r, &score, &max, &correct);
    assert_true(correct);
    qk_response_clear(&r);
    qk_strv_free(keys, n);
    qk_question_free(q);
}

/* A resumed attempt shows the pad it showed before; another attempt (or
 * blank) another order, so the order tells nothing. */
static void the_same_attempt_shows_the_same_pad(void **state)
{
    fx *f = *state;
    qk_question *q = NULL;
    assert_int_equal(qk_bundle_question(f->b, "f1", &q), QK_OK);
    char **a = NULL, **b = NULL;
    size_t na = 0, nb = 0;
    assert_int_equal(qk_pad_keys(&a, &na, f->b, q, 0, "attempt-1"), QK_OK);
    char *first = joined(a, na);
    qk_strv_free(a, na);
    assert_int_equal(qk_pad_keys(&a, &na, f->b, q, 0, "attempt-1"), QK_OK);
    char *again = joined(a, na);
    assert_string_equal(first, again);
    int differs = 0;
    const char *const salts[] = {"attempt-2", "attempt-3", "attempt-4", "attempt-5"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(qk_pad_keys(&b, &nb, f->b, q, 0, salts[i]), QK_OK);
        char *other = joined(b, nb);
        differs += strcmp(first, other) != 0;
        free(other);
        qk_strv_free(b, nb);
    }
    assert_true(differs > 0);
    free(first);
    free(again);
    qk_strv_free(a, na);
    qk_question_free(q);
}

static void only_fill_in_blanks_have_a_pad(void **state)
{
    fx *f = *state;
    qk_question *q = NULL;
    char **keys = NULL;
    size_t n = 0;
    assert_int_equal(qk_bundle_question(f->b, "s1", &q), QK_OK);
    assert_int_equal(qk_pad_keys(&keys, &n, f->b, q, 0, "a"), QK_EINVAL);
    assert_null(keys);
    qk_question_free(q);
    assert_int_equal(qk_bundle_question(f->b, "f1", &q), QK_OK);
    assert_int_equal(qk_pad_keys(&keys, &n, f->b, q, 2, "a"), QK_EINVAL);
    assert_int_equal(n, 0);
    qk_question_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_pad_holds_the_answer_among_others_once_each, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_same_attempt_shows_the_same_pad, setup, teardown),
        cmocka_unit_test_setup_teardown(only_fill_in_blanks_have_a_pad, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
