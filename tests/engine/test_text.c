/* Tests for engine/src/text.c: answer folding and display width. */
#include <stdlib.h>
#include <string.h>

#include "support.h"

static void folds(const char *in, const char *want)
{
    char *out = NULL;
    assert_int_equal(qk_text_fold(&out, in, strlen(in)), QK_OK);
    assert_string_equal(out, want);
    free(out);
}

static void fullwidth_digits_match_ascii(void **state)
{
    (void)state;
    folds("１９２１年", "1921年");
}

static void punctuation_and_spaces_are_ignored(void **state)
{
    (void)state;
    folds("  嘉 兴，南湖。 ", "嘉兴南湖");
    folds("“为人民服务”", "为人民服务");
    folds("A, b", "ab");
}

static void case_and_fullwidth_letters_fold(void **state)
{
    (void)state;
    folds("ＣＰＲ", "cpr");
    folds("Dna", "dna");
}

static void invalid_utf8_is_refused(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(qk_text_fold(&out, "\xff\xfe", 2), QK_EINVAL);
    assert_null(out);
    assert_int_equal(qk_text_valid("\xe4\xb8", 2), 0);
    assert_int_equal(qk_text_valid("中", strlen("中")), 1);
}

static void chinese_takes_two_columns(void **state)
{
    (void)state;
    assert_int_equal(qk_text_width("abc", 3), 3);
    assert_int_equal(qk_text_width("雷锋", strlen("雷锋")), 4);
    assert_int_equal(qk_text_width("A雷", strlen("A雷")), 3);
    assert_int_equal(qk_text_width("１", strlen("１")), 2);
}

static void fit_never_splits_a_character(void **state)
{
    (void)state;
    const char *s = "雷锋精神";
    assert_int_equal(qk_text_fit(s, strlen(s), 5), 6); /* two characters: 4 columns */
    assert_int_equal(qk_text_fit(s, strlen(s), 1), 0);
    assert_int_equal(qk_text_fit("ab", 2, 10), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fullwidth_digits_match_ascii),
        cmocka_unit_test(punctuation_and_spaces_are_ignored),
        cmocka_unit_test(case_and_fullwidth_letters_fold),
        cmocka_unit_test(invalid_utf8_is_refused),
        cmocka_unit_test(chinese_takes_two_columns),
        cmocka_unit_test(fit_never_splits_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
