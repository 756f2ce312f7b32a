/* Tests for content/src/aiken_source.c. */
#include <string.h>

#include "support.h"

static void options_answers_and_full_width_labels(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_AIKEN,
              "国际护士节是哪一天？\n"
              "A. 3月5日\n"
              "B) 5月12日\n"
              "ANSWER: B\n"
              "成人正常心率是多少，每分钟？\n"
              "Ａ．40～60次\n"
              "Ｂ．60～100次\n"
              "答案：Ｂ\n",
              &p);
    assert_int_equal(p.errors, 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.q[0].options, "3月5日|5月12日");
    assert_string_equal(p.q[0].answer, "B");
    /* Text is kept as written: the Chinese comma stays a Chinese comma. */
    assert_string_equal(p.q[1].stem, "成人正常心率是多少，每分钟？");
    assert_string_equal(p.q[1].options, "40～60次|60～100次");
    assert_int_equal(p.q[1].line, 5);
}

/* The same stem with other options is another question (issue 16): both
 * import, each with an id of its own, the first one's as before. */
static void the_same_stem_with_other_options(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_AIKEN,
              "下列说法正确的是（ ）\n"
              "A. 党的最高理想是实现共产主义\n"
              "B. 党的最高理想是实现小康\n"
              "ANSWER: A\n"
              "\n"
              "下列说法正确的是（ ）\n"
              "A. 入党誓词有八十个字\n"
              "B. 入党誓词有八十四个字\n"
              "ANSWER: A\n",
              &p);
    assert_int_equal(p.errors, 0);
    assert_int_equal(p.n, 2);
    assert_string_not_equal(p.q[0].id, p.q[1].id);
    assert_memory_equal(p.q[0].id, "a-", 2);
    assert_int_equal((int)strlen(p.q[0].id), 12); /* a- and ten hex digits: the id it always had */
    assert_string_equal(p.q[1].id + 12, "-2");
    assert_memory_equal(p.q[1].id, p.q[0].id, 12);
}

/* One bad question costs only itself (issue 16): the questions after it,
 * with or without a blank line between, import as Moodle imports them. */
static void after_a_bad_question_the_rest_imports(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_AIKEN,
              "skipped letter, no answer line\n"
              "A. x\n"
              "C. z\n"
              "What is the status of a quiz nobody has opened?\n"
              "A) Question not started\n"
              "B) Question finished\n"
              "ANSWER: A\n"
              "another bad one\n"
              "A. x\n"
              "C. z\n"
              "\n"
              "国际护士节是哪一天？\n"
              "A. 3月5日\n"
              "B. 5月12日\n"
              "ANSWER: B\n",
              &p);
    assert_int_equal(p.errors, 2);
    assert_non_null(strstr(p.diags, "3: error: the option letter should be B, not C"));
    assert_non_null(strstr(p.diags, "10: error: the option letter should be B, not C"));
    assert_int_equal(p.n, 2);
    assert_string_equal(p.q[0].stem, "What is the status of a quiz nobody has opened?");
    assert_string_equal(p.q[0].options, "Question not started|Question finished");
    assert_string_equal(p.q[0].answer, "A");
    assert_int_equal(p.q[0].line, 4);
    assert_string_equal(p.q[1].stem, "国际护士节是哪一天？");
}

static void broken_questions_are_reported_with_lines(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_AIKEN,
              "no answer line\n"
              "A. x\n"
              "B. y\n"
              "\n"
              "one option only\n"
              "A. x\n"
              "ANSWER: A\n"
              "\n"
              "skipped letter\n"
              "A. x\n"
              "C. z\n"
              "ANSWER: A\n"
              "\n"
              "bad answer\n"
              "A. x\n"
              "B. y\n"
              "ANSWER: D\n"
              "\n"
              "ends without answer\n"
              "A. x\n",
              &p);
    assert_int_equal(p.n, 0);
    assert_non_null(strstr(p.diags, "1: error: the \"ANSWER: letter\" line is missing"));
    assert_non_null(strstr(p.diags, "5: error: question “one option only”: a choice question needs at least two"));
    assert_non_null(strstr(p.diags, "11: error: the option letter should be B, not C"));
    assert_non_null(strstr(p.diags, "14: error: question “bad answer”: answer \"D\""));
    assert_non_null(strstr(p.diags, "19: error: the \"ANSWER: letter\" line is missing"));
    assert_int_equal(p.errors, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_answers_and_full_width_labels),
        cmocka_unit_test(broken_questions_are_reported_with_lines),
        cmocka_unit_test(the_same_stem_with_other_options),
        cmocka_unit_test(after_a_bad_question_the_rest_imports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
