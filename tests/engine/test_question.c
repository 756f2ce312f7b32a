/* Tests for engine/src/question.c: what a person types, and how it scores. */
#include <stdlib.h>
#include <string.h>

#include "support.h"

static qk_option abcd_opts[4] = {{"甲", 0}, {"乙", 1}, {"丙", 0}, {"丁", 0}};
static qk_question single = {.id = "s", .type = QK_Q_SINGLE, .stem = "x", .points = 1,
                             .n_options = 4, .options = abcd_opts};

static qk_option multi_opts[4] = {{"甲", 1}, {"乙", 0}, {"丙", 1}, {"丁", 1}};

static int parse(const qk_question *q, const size_t *perm, const char *in, qk_response *r,
                 qk_answer_problem *p)
{
    return qk_response_parse(r, q, perm, in, p);
}

static void letters_in_any_case_and_width(void **state)
{
    (void)state;
    qk_response r;
    const char *inputs[] = {"B", "b", "Ｂ", " b ", "ｂ"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(parse(&single, NULL, inputs[i], &r, NULL), QK_OK);
        assert_int_equal(r.choices, 1u << 1);
        qk_response_clear(&r);
    }
}

static void single_refuses_two_letters_and_unknown_letters(void **state)
{
    (void)state;
    qk_response r;
    qk_answer_problem p;
    assert_int_equal(parse(&single, NULL, "AB", &r, &p), QK_EINVAL);
    assert_int_equal(p, QK_ANS_ONE_ONLY);
    assert_int_equal(parse(&single, NULL, "E", &r, &p), QK_EINVAL);
    assert_int_equal(p, QK_ANS_BAD_LETTER);
    assert_int_equal(parse(&single, NULL, "   ", &r, &p), QK_EINVAL);
    assert_int_equal(p, QK_ANS_EMPTY);
    assert_int_equal(parse(&single, NULL, "\xff", &r, &p), QK_EINVAL);
    assert_int_equal(p, QK_ANS_BAD_ENCODING);
}

static void display_letters_map_through_the_shuffle(void **state)
{
    (void)state;
    /* Display A shows option 3, B shows option 1 (the right one), ... */
    size_t perm[4] = {3, 1, 0, 2};
    qk_response r;
    assert_int_equal(parse(&single, perm, "B", &r, NULL), QK_OK);
    assert_int_equal(r.choices, 1u << 1);
    qk_centi s, m;
    int ok;
    qk_response_score(&single, &r, &s, &m, &ok);
    assert_true(ok);
    char *canon = NULL;
    assert_int_equal(qk_response_canonical(&canon, &single, &r), QK_OK);
    assert_string_equal(canon, "B"); /* stored in the question's own order */
    free(canon);
    char *right = NULL;
    assert_int_equal(qk_question_answer_text(&right, &single, perm, QK_LANG_ZH), QK_OK);
    assert_string_equal(right, "B");
    free(right);
    size_t perm2[4] = {1, 0, 2, 3};
    assert_int_equal(qk_question_answer_text(&right, &single, perm2, QK_LANG_ZH), QK_OK);
    assert_string_equal(right, "A");
    free(right);
}

static void multi_partial_credit_only_without_wrong_options(void **state)
{
    (void)state;
    qk_question q = {.id = "m", .type = QK_Q_MULTI, .scoring = QK_SCORE_PARTIAL, .stem = "x",
                     .points = 3, .n_options = 4, .options = multi_opts};
    qk_response r;
    qk_centi s, m;
    int ok;
    assert_int_equal(parse(&q, NULL, "A、C，d", &r, NULL), QK_OK);
    qk_response_score(&q, &r, &s, &m, &ok);
    assert_true(ok);
    assert_int_equal(s, 300);
    assert_int_equal(m, 300);
    assert_int_equal(parse(&q, NULL, "AC", &r, NULL), QK_OK);
    qk_response_score(&q, &r, &s, &m, &ok);
    assert_false(ok);
    assert_int_equal(s, 200); /* two of three right options, none wrong */
    assert_int_equal(parse(&q, NULL, "ABC", &r, NULL), QK_OK);
    qk_response_score(&q, &r, &s, &m, &ok);
    assert_int_equal(s, 0); /* a wrong option chosen: nothing */
    q.scoring = QK_SCORE_ALL;
    assert_int_equal(parse(&q, NULL, "AC", &r, NULL), QK_OK);
    qk_response_score(&q, &r, &s, &m, &ok);
    assert_int_equal(s, 0);
}

static void judge_accepts_the_usual_marks(void **state)
{
    (void)state;
    qk_question q = {.id = "j", .type = QK_Q_JUDGE, .stem = "x", .points = 1, .judge_answer = 0};
    const char *yes[] = {"对", "√", "T", "true", "正确", "是", "Ｔ"};
    const char *no[] = {"错", "×", "f", "FALSE", "错误", "否", "✗"};
    qk_response r;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(parse(&q, NULL, yes[i], &r, NULL), QK_OK);
        assert_int_equal(r.judge, 1);
        assert_int_equal(parse(&q, NULL, no[i], &r, NULL), QK_OK);
        assert_int_equal(r.judge, 0);
    }
    qk_answer_problem p;
    assert_int_equal(parse(&q, NULL, "也许", &r, &p), QK_EINVAL);
    assert_int_equal(p, QK_ANS_NOT_JUDGE);
    char *right = NULL;
    assert_int_equal(qk_question_answer_text(&right, &q, NULL, QK_LANG_ZH), QK_OK);
    assert_string_equal(right, "错");
    free(right);
}

static void fill_compares_after_folding(void **state)
{
    (void)state;
    char *b1[] = {"1921", "1921年"};
    char *b2[] = {"嘉兴南湖", "南湖"};
    qk_blank blanks[2] = {{2, b1}, {2, b2}};
    qk_question q = {.id = "f", .type = QK_Q_FILL, .scoring = QK_SCORE_PARTIAL, .stem = "x",
                     .points = 2, .n_blanks = 2, .blanks = blanks};
    qk_response r;
    qk_centi s, m;
    int ok;
    assert_int_equal(parse(&q, NULL, "１９２１年｜嘉兴 南湖", &r, NULL), QK_OK);
    qk_response_score(&q, &r, &s, &m, &ok);
    assert_true(ok);
    assert_int_equal(s, 200);
    qk_response_clear(&r);
    assert_int_equal(parse(&q, NULL, "1921；上海", &r, NULL), QK_OK);
    qk_response_score(&q, &r, &s, &m, &ok);
    assert_false(ok);
    assert_int_equal(s, 100); /* one of two blanks, partial scoring */
    char *canon = NULL;
    assert_int_equal(qk_response_canonical(&canon, &q, &r), QK_OK);
    assert_string_equal(canon, "1921|上海");
    qk_response_clear(&r);
    /* The canonical form parses back to the same response (server re-scoring). */
    assert_int_equal(parse(&q, NULL, canon, &r, NULL), QK_OK);
    qk_response_score(&q, &r, &s, &m, &ok);
    assert_int_equal(s, 100);
    qk_response_clear(&r);
    free(canon);
    qk_answer_problem p;
    assert_int_equal(parse(&q, NULL, "1921", &r, &p), QK_EINVAL);
    assert_int_equal(p, QK_ANS_BLANK_COUNT);
}

/* "____:____" answered as people write it: 30:2, 30：2, 30 2, 30，2, 30|2. */
static void fill_blanks_split_on_what_people_type(void **state)
{
    (void)state;
    char *b1[] = {"30"};
    char *b2[] = {"2"};
    qk_blank blanks[2] = {{1, b1}, {1, b2}};
    qk_question q = {.id = "f", .type = QK_Q_FILL, .stem = "比例是____:____", .points = 1,
                     .n_blanks = 2, .blanks = blanks};
    const char *const ways[] = {"30:2", "30：2", "30 2", "30，2", "30,2", "30 : 2", "30|2",
                                "30｜2", "30；2", " 30　2 "};
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
        qk_response r;
        qk_centi s, m;
        int ok;
        assert_int_equal(parse(&q, NULL, ways[i], &r, NULL), QK_OK);
        qk_response_score(&q, &r, &s, &m, &ok);
        if (!ok)
            fail_msg("\"%s\" was not read as 30 and 2", ways[i]);
        char *canon = NULL;
        assert_int_equal(qk_response_canonical(&canon, &q, &r), QK_OK);
        assert_string_equal(canon, "30|2");
        free(canon);
        qk_response_clear(&r);
    }
    /* With a | the blanks keep their spaces, colons and commas. */
    char *c1[] = {"New York"};
    char *c2[] = {"1:2"};
    qk_blank spaced[2] = {{1, c1}, {1, c2}};
    qk_question q2 = {.id = "g", .type = QK_Q_FILL, .stem = "x", .points = 1, .n_blanks = 2,
                      .blanks = spaced};
    qk_response r;
    assert_int_equal(parse(&q2, NULL, "New York|1:2", &r, NULL), QK_OK);
    assert_string_equal(r.blanks[0], "New York");
    assert_string_equal(r.blanks[1], "1:2");
    qk_response_clear(&r);
    qk_answer_problem p;
    assert_int_equal(parse(&q, NULL, "30:2:5", &r, &p), QK_EINVAL); /* three for two blanks */
    assert_int_equal(p, QK_ANS_BLANK_COUNT);
    assert_int_equal(parse(&q, NULL, "30", &r, &p), QK_EINVAL);
    assert_int_equal(p, QK_ANS_BLANK_COUNT);
}

static void single_blank_takes_the_whole_line(void **state)
{
    (void)state;
    char *b1[] = {"雷正兴"};
    qk_blank blanks[1] = {{1, b1}};
    qk_question q = {.id = "f", .type = QK_Q_FILL, .stem = "x", .points = 1, .n_blanks = 1,
                     .blanks = blanks};
    qk_response r;
    qk_centi s, m;
    int ok;
    assert_int_equal(parse(&q, NULL, "  雷正兴。", &r, NULL), QK_OK);
    qk_response_score(&q, &r, &s, &m, &ok);
    assert_true(ok);
    qk_response_clear(&r);
    assert_int_equal(parse(&q, NULL, "雷锋", &r, NULL), QK_OK);
    qk_response_score(&q, &r, &s, &m, &ok);
    assert_false(ok);
    qk_response_clear(&r);
}

static void check_catches_inconsistent_questions(void **state)
{
    (void)state;
    char msg[256];
    qk_option two_right[2] = {{"a", 1}, {"b", 1}};
    qk_question q = {.id = "bad", .type = QK_Q_SINGLE, .stem = "x", .points = 1, .n_options = 2,
                     .options = two_right};
    assert_int_equal(qk_question_check(&q, QK_LANG_EN, msg, sizeof msg), QK_EINVAL);
    assert_non_null(strstr(msg, "exactly one"));
    q.type = QK_Q_MULTI;
    assert_int_equal(qk_question_check(&q, QK_LANG_EN, msg, sizeof msg), QK_OK);
    q.stem = "";
    assert_int_equal(qk_question_check(&q, QK_LANG_EN, msg, sizeof msg), QK_EINVAL);
    assert_non_null(strstr(msg, "stem"));
    q.stem = "x";
    q.id = "has space";
    assert_int_equal(qk_question_check(&q, QK_LANG_EN, msg, sizeof msg), QK_EINVAL);
    char *bar[] = {"a|b"};
    qk_blank bl[1] = {{1, bar}};
    qk_question f = {.id = "f", .type = QK_Q_FILL, .stem = "x", .points = 1, .n_blanks = 1,
                     .blanks = bl};
    assert_int_equal(qk_question_check(&f, QK_LANG_ZH, msg, sizeof msg), QK_EINVAL);
    assert_non_null(strstr(msg, "第 1 个空"));
}

/* A damaged bundle (one not built by our writer) must not crash scoring. */
static void inconsistent_questions_score_zero_instead_of_crashing(void **state)
{
    (void)state;
    qk_option none_right[2] = {{"a", 0}, {"b", 0}};
    qk_question m = {.id = "m", .type = QK_Q_MULTI, .scoring = QK_SCORE_PARTIAL, .stem = "x",
                     .points = 2, .n_options = 2, .options = none_right};
    qk_response r = {.type = QK_Q_MULTI, .choices = 1u};
    qk_centi s = -1, mx;
    int ok;
    qk_response_score(&m, &r, &s, &mx, &ok);
    assert_int_equal(s, 0);
    qk_question f = {.id = "f", .type = QK_Q_FILL, .scoring = QK_SCORE_PARTIAL, .stem = "x",
                     .points = 1, .n_blanks = 0};
    qk_response rf = {.type = QK_Q_FILL};
    qk_response_score(&f, &rf, &s, &mx, &ok);
    assert_int_equal(s, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(letters_in_any_case_and_width),
        cmocka_unit_test(single_refuses_two_letters_and_unknown_letters),
        cmocka_unit_test(display_letters_map_through_the_shuffle),
        cmocka_unit_test(multi_partial_credit_only_without_wrong_options),
        cmocka_unit_test(judge_accepts_the_usual_marks),
        cmocka_unit_test(fill_compares_after_folding),
        cmocka_unit_test(fill_blanks_split_on_what_people_type),
        cmocka_unit_test(single_blank_takes_the_whole_line),
        cmocka_unit_test(check_catches_inconsistent_questions),
        cmocka_unit_test(inconsistent_questions_score_zero_instead_of_crashing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
