/* Tests for content/src/gift_source.c. */
#include <string.h>

#include "support.h"

static void the_supported_question_kinds(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_GIFT,
              "// a comment\n"
              "$CATEGORY: $course$/党史\n"
              "\n"
              "::s1:: 中共一大在哪一年召开？ {\n"
              "  =1921年 #对。\n"
              "  ~1919年 #那是五四运动。\n"
              "}\n"
              "\n"
              "::t1:: 学雷锋纪念日是3月5日。 {TRUE}\n"
              "\n"
              "::m1:: 哪些是“四个自信”？ {~%50%道路自信 ~%50%理论自信 ~%-100%别的 ####还有制度自信和文化自信。}\n"
              "\n"
              "::f1:: 一大闭幕于嘉兴哪里？ {=南湖 =嘉兴南湖}\n"
              "\n"
              "::w1:: 一大在{=上海 ~北京}开幕。\n"
              "\n"
              "::e1:: 转义\\{\\}与\\=号 {=答案\\=对 ~错}\n",
              &p);
    assert_int_equal(p.errors, 0);
    const qkt_q *q = qkt_find(&p, "s1");
    assert_int_equal(q->type, QK_Q_SINGLE);
    assert_string_equal(q->options, "1921年|1919年");
    assert_string_equal(q->answer, "A");
    /* one answer's feedback is not the explanation everyone sees: dropped, and said */
    assert_string_equal(q->explanation, "");
    assert_int_equal(p.warnings, 1);
    assert_non_null(strstr(p.diags, "4: warning: question s1: the feedback after an answer (# ...) was not imported"));
    assert_string_equal(q->theme, "党史");          /* from $CATEGORY */
    assert_int_equal(q->line, 4);
    assert_string_equal(qkt_find(&p, "t1")->answer, "对");
    q = qkt_find(&p, "m1");
    assert_int_equal(q->type, QK_Q_MULTI);
    assert_int_equal(q->scoring, QK_SCORE_PARTIAL);
    assert_string_equal(q->answer, "AB");
    assert_string_equal(q->explanation, "还有制度自信和文化自信。");
    q = qkt_find(&p, "f1");
    assert_int_equal(q->type, QK_Q_FILL);
    assert_string_equal(q->answer, "南湖 / 嘉兴南湖");
    q = qkt_find(&p, "w1");
    assert_string_equal(q->stem, "一大在____开幕。");
    assert_string_equal(q->answer, "A");
    q = qkt_find(&p, "e1");
    assert_string_equal(q->stem, "转义{}与=号");
    assert_string_equal(q->options, "答案=对|错");
}

static void unsupported_kinds_are_reported_not_dropped(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_GIFT,
              "::m:: 配对 {=a -> b =c -> d}\n"
              "\n"
              "::n:: 数值 {#3.14:0.01}\n"
              "\n"
              "::e:: 论述 {}\n"
              "\n"
              "只是说明\n"
              "\n"
              "::u:: 没闭合 {=甲 ~乙\n"
              "\n"
              "::r:: 没有正确答案 {~甲 ~乙}\n",
              &p);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.errors, 5);
    assert_int_equal(p.warnings, 1);
    assert_non_null(strstr(p.diags, "1: error: question m: GIFT matching questions are not supported"));
    assert_non_null(strstr(p.diags, "3: error: question n: GIFT numerical"));
    assert_non_null(strstr(p.diags, "5: error: question e: GIFT essay"));
    assert_non_null(strstr(p.diags, "7: warning: no answer block"));
    assert_non_null(strstr(p.diags, "9: error: the answer block { is not closed"));
    assert_non_null(strstr(p.diags, "11: error: question r: no right answer marked"));
}

/* Moodle's weights, as its own GIFT fixtures write them: what quizkit can
 * score as Moodle does is kept with the same key; the rest is refused with
 * its line and why, never imported with another key. */
static void weights_never_change_the_key(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_GIFT,
              "::p1:: Which? {~a ~%50%b =c}\n"
              "\n"
              "::p2:: Where was Jesus born? {~Jerusalem ~%25%Bethlehem ~%50%Galilee =Nazareth}\n"
              "\n"
              "::p3:: Where? {=%25%Bethlehem =Nazareth}\n"
              "\n"
              "::p4:: Pet? {=%50%Cat =Dog}\n"
              "\n"
              "::p5:: Two right ones? {=甲 =乙 ~丙}\n"
              "\n"
              "::p6:: Unequal? {~%70%甲 ~%30%乙 ~丙}\n"
              "\n"
              "::k1:: Thirds {~%33.33333%甲 ~%33.33333%乙 ~%33.33333%丙 ~%-100%丁}\n"
              "\n"
              "::k2:: Negative wrong ones {=甲 ~%-50%乙 ~丙}\n"
              "\n"
              "::k3:: Full marks in a short answer {=%100%南湖 =嘉兴南湖}\n",
              &p);
    assert_int_equal(p.errors, 6);
    assert_non_null(strstr(p.diags, "1: error: question p1: option \"b\" gives partial credit (50%)"));
    assert_non_null(strstr(p.diags, "3: error: question p2: option \"Bethlehem\" gives partial credit (25%)"));
    assert_non_null(strstr(p.diags, "5: error: question p3: the answer \"Bethlehem\" gives partial credit (25%)"));
    assert_non_null(strstr(p.diags, "7: error: question p4: the answer \"Cat\" gives partial credit (50%)"));
    assert_non_null(strstr(p.diags, "9: error: question p5: 2 answers are marked right with ="));
    assert_non_null(strstr(p.diags, "11: error: question p6: the right options' percentages (70%, 30%) must be equal"));
    assert_int_equal(p.n, 3);
    const qkt_q *q = qkt_find(&p, "k1");
    assert_int_equal(q->type, QK_Q_MULTI);
    assert_int_equal(q->scoring, QK_SCORE_PARTIAL);
    assert_string_equal(q->answer, "ABC");
    q = qkt_find(&p, "k2"); /* one right option: single choice, not a multi with partial credit */
    assert_int_equal(q->type, QK_Q_SINGLE);
    assert_int_equal(q->scoring, QK_SCORE_ALL);
    assert_string_equal(q->answer, "A");
    assert_string_equal(qkt_find(&p, "k3")->answer, "南湖 / 嘉兴南湖");
}

/* Format markers leave no trace; true/false feedback is per answer (not the
 * explanation), general feedback is. */
static void text_as_moodle_reads_it(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_GIFT,
              "::x1:: [markdown]党的**最高**理想是？ {=[plain]实现共产主义 ~[html]小康 ####[markdown]见党章总纲。}\n"
              "\n"
              "::x2:: 党的根本宗旨是全心全意为人民服务。 {T#再想想。#对。####党章总纲规定的根本宗旨。}\n"
              "\n"
              "::x3:: 入党誓词中写着“永不叛党”。 {TRUE#不对，誓词里有这四个字。#对。}\n",
              &p);
    assert_int_equal(p.errors, 0);
    const qkt_q *q = qkt_find(&p, "x1");
    assert_string_equal(q->stem, "党的**最高**理想是？");
    assert_string_equal(q->options, "实现共产主义|小康");
    assert_string_equal(q->explanation, "见党章总纲。");
    q = qkt_find(&p, "x2");
    assert_string_equal(q->answer, "对");
    assert_string_equal(q->explanation, "党章总纲规定的根本宗旨。");
    q = qkt_find(&p, "x3");
    assert_string_equal(q->answer, "对");
    assert_string_equal(q->explanation, ""); /* not "不对，誓词里有这四个字。#对。" */
    assert_int_equal(p.warnings, 2);
    assert_non_null(strstr(p.diags, "3: warning: question x2: the feedback after an answer"));
    assert_non_null(strstr(p.diags, "5: warning: question x3: the feedback after an answer"));
}

static void titles_that_are_not_ids_are_hashed(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_GIFT, "::第一题:: 题干 {T}\n", &p);
    assert_int_equal(p.n, 1);
    assert_memory_equal(p.q[0].id, "g-", 2);
    /* the same stem with other options is another question, with an id of its own */
    qkt_parse(QK_SRC_GIFT,
              "下列说法正确的是（ ） {=党的最高理想是实现共产主义 ~党的最高理想是实现小康}\n"
              "\n"
              "下列说法正确的是（ ） {=入党誓词有八十个字 ~入党誓词有八十四个字}\n",
              &p);
    assert_int_equal(p.errors, 0);
    assert_int_equal(p.n, 2);
    assert_string_not_equal(p.q[0].id, p.q[1].id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_supported_question_kinds),
        cmocka_unit_test(unsupported_kinds_are_reported_not_dropped),
        cmocka_unit_test(weights_never_change_the_key),
        cmocka_unit_test(text_as_moodle_reads_it),
        cmocka_unit_test(titles_that_are_not_ids_are_hashed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
