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
    assert_string_equal(q->explanation, "对。"); /* the right answer's feedback */
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

static void titles_that_are_not_ids_are_hashed(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_GIFT, "::第一题:: 题干 {T}\n", &p);
    assert_int_equal(p.n, 1);
    assert_memory_equal(p.q[0].id, "g-", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_supported_question_kinds),
        cmocka_unit_test(unsupported_kinds_are_reported_not_dropped),
        cmocka_unit_test(titles_that_are_not_ids_are_hashed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
