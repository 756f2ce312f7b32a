/* Tests for content/src/csv_source.c (and the decoding in import.c). */
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "../../content/src/import.h" /* qk__decode */
#include "support.h"

static void columns_in_any_order_and_language(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV,
              "答案,Option B,选项 A,题干,编号,Type,分值,难度,标签,解析,出处\n"
              "B,1921年,1919年,中共一大哪年召开？,x1,单选题,2,较难,党史、一大,一大在1921年。,党史读本\n",
              &p);
    assert_int_equal(p.errors, 0);
    const qkt_q *q = qkt_find(&p, "x1");
    assert_int_equal(q->type, QK_Q_SINGLE);
    assert_string_equal(q->options, "1919年|1921年");
    assert_string_equal(q->answer, "B");
    assert_int_equal(q->points, 2);
    assert_int_equal(q->difficulty, 4);
    assert_int_equal(q->n_tags, 2);
    assert_string_equal(q->explanation, "一大在1921年。");
    assert_string_equal(q->theme, "默认"); /* no theme column: the file's default */
}

/* The blanks the stem shows and the answer's must agree (issue 16, item 4):
 * two （） and a one-blank answer would tell the member to type a|b, then
 * mark it wrong. A stem that shows no blank (a question) takes any. */
static void blanks_in_the_stem_and_the_answer_agree(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV,
              "编号,题型,题干,答案,A,B\n"
              "b1,填空,党的最高理想和最终目标是实现（ ），党的根本宗旨是（　）。,共产主义\n"
              "b2,填空,中共一大于____年在____召开。,1921\n"
              "b3,填空,一大在哪里闭幕？,南湖|嘉兴\n"
              "k1,填空,党的最高理想和最终目标是实现（ ），党的根本宗旨是（　）。,共产主义|全心全意为人民服务\n"
              "k2,填空,一大闭幕于嘉兴哪里？,南湖\n"
              "k3,填空,中共一大于____年在（）召开。,1921|上海\n"
              "k4,单选,下列说法正确的是（ ）,A,甲,乙\n",
              &p);
    assert_int_equal(p.errors, 2);
    assert_non_null(strstr(p.diags, "2: error: question b1: the stem has 2 blanks (____ or ( )) but the answer has 1"));
    assert_non_null(strstr(p.diags, "3: error: question b2: the stem has 2 blanks (____ or ( )) but the answer has 1"));
    assert_int_equal(p.n, 5); /* b1 and b2 refused, the others built */
    assert_non_null(qkt_find(&p, "b3")); /* a question, no blank shown: two answers asked */
    assert_non_null(qkt_find(&p, "k1"));
    assert_non_null(qkt_find(&p, "k2"));
    assert_non_null(qkt_find(&p, "k3"));
}

static void quotes_commas_newlines_crlf_and_blank_rows(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV,
              "id,type,stem,A,B,answer\r\n"
              "\r\n"
              "q1,single,\"有逗号, 有\"\"引号\"\"\r\n还有换行\",\"甲,乙\",丙,A\r\n"
              ",,,,,\r\n"
              "q2,judge,对吗,,,√\r\n",
              &p);
    assert_int_equal(p.errors, 0);
    assert_int_equal(p.n, 2);
    const qkt_q *q = qkt_find(&p, "q1");
    assert_string_equal(q->stem, "有逗号, 有\"引号\"\n还有换行");
    assert_string_equal(q->options, "甲,乙|丙");
    assert_int_equal(q->line, 3);
    assert_int_equal(qkt_find(&p, "q2")->line, 6); /* lines count the break inside q1 */
}

static void answers_written_the_ways_people_write_them(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV,
              "id,type,stem,A,B,C,D,answer,scoring\n"
              "m1,多选,s1,a,b,c,d,\"A,B,D\",部分\n"
              "m2,multi,s2,a,b,c,d,A、C,\n"
              "j1,判断,s3,,,,,错误,\n"
              "j2,判断,s4,,,,,T,\n"
              "f1,填空,s5____年在____和____,,,,,1921/1921年｜南湖；嘉兴,\n",
              &p);
    assert_int_equal(p.errors, 0);
    assert_string_equal(qkt_find(&p, "m1")->answer, "ABD");
    assert_int_equal(qkt_find(&p, "m1")->scoring, QK_SCORE_PARTIAL);
    assert_string_equal(qkt_find(&p, "m2")->answer, "AC");
    assert_string_equal(qkt_find(&p, "j1")->answer, "错");
    assert_string_equal(qkt_find(&p, "j2")->answer, "对");
    assert_string_equal(qkt_find(&p, "f1")->answer, "1921 / 1921年 | 南湖 | 嘉兴");
}

/* A / inside a real answer (issue 16, item 3: 1/3, 145/90mmHg, 毫米/年):
 * written \/ it is part of the answer; a bare / still separates alternatives,
 * as it always did, but never silently: the check says how it was read and
 * how to write either meaning. Spaced / is plainly alternatives. */
static void a_slash_is_never_silently_taken_apart(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV,
              "编号,题型,题干,答案\n"
              "f1,填空,三个苹果平均分给三个人，每人分到全部的____。,1\\/3\n"
              "f2,填空,血压____属于高血压。,145/90mmHg\n"
              "f3,填空,发展党员需要____名正式党员作介绍人。,2 / 两 / 二\n"
              "f4,填空,速度的单位可以是____或____。,毫米\\/年|米\\/秒\n",
              &p);
    assert_int_equal(p.errors, 0);
    assert_string_equal(qkt_find(&p, "f1")->answer, "1/3");
    assert_string_equal(qkt_find(&p, "f2")->answer, "145 / 90mmHg");
    assert_string_equal(qkt_find(&p, "f3")->answer, "2 / 两 / 二");
    assert_string_equal(qkt_find(&p, "f4")->answer, "毫米/年 | 米/秒");
    assert_int_equal(p.warnings, 1);
    assert_non_null(strstr(p.diags, "3: warning: question f2: the answer \"145/90mmHg\" is read as alternatives: \"145\" or \"90mmHg\""));
}

/* A blank with more accepted answers than a blank holds is refused with a
 * message (it used to be read from freed memory and crash the builder). */
static void too_many_alternatives_are_refused(void **state)
{
    (void)state;
    char csv[1024] = "id,type,stem,answer\nf1,fill,测试____。,";
    for (int i = 0; i < 40; i++)
        snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "%sa%d", i ? "/" : "", i);
    snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "\n");
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV, csv, &p);
    assert_int_equal(p.errors, 1);
    assert_int_equal(p.n, 0);
    assert_non_null(strstr(p.diags, "at most 32 accepted answers"));
}

static void ids_made_from_stems_are_stable_and_unique(void **state)
{
    (void)state;
    qkt_parsed a, b;
    qkt_parse(QK_SRC_CSV, "type,stem,A,B,answer\nsingle,同一个题干,x,y,A\nsingle,另一个,x,y,B\n", &a);
    qkt_parse(QK_SRC_CSV, "type,stem,A,B,answer\nsingle,同一个题干,x,改了选项,B\n", &b);
    assert_int_equal(a.n, 2);
    /* Editing options and answer keeps the id, so progress follows the question. */
    assert_string_equal(a.q[0].id, b.q[0].id);
    assert_string_not_equal(a.q[0].id, a.q[1].id);
    qkt_parsed c;
    qkt_parse(QK_SRC_CSV, "type,stem,A,B,answer\nsingle,同题,x,y,A\nsingle,同题,x,z,A\n", &c);
    assert_int_equal(c.n, 2);
    assert_string_not_equal(c.q[0].id, c.q[1].id);
}

static void every_row_problem_is_reported_with_its_line(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV,
              "type,stem,A,B,answer,points,colour\n"
              "single,letter out of range,x,y,C,,\n"
              "single,two answers,x,y,AB,,\n"
              "essay,unknown type,,,x,,\n"
              "judge,not a judgement,,,maybe,,\n"
              "fill,no answer,,,,,\n"
              "single,,x,y,A,,\n"
              "single,bad points,x,y,A,lots,\n"
              "single,ok,x,y,A,,red\n",
              &p);
    assert_int_equal(p.warnings, 1);
    assert_non_null(strstr(p.diags, "1: warning: unknown column \"colour\" ignored"));
    assert_non_null(strstr(p.diags, "2: error: question “letter out of range”: answer \"C\""));
    assert_non_null(strstr(p.diags, "3: error: question “two answers”: a single-choice answer must be one letter"));
    assert_non_null(strstr(p.diags, "4: error: question “unknown type”: unknown type \"essay\""));
    assert_non_null(strstr(p.diags, "5: error: question “not a judgement”: a true/false answer must be"));
    assert_non_null(strstr(p.diags, "6: error: question “no answer”: the answer is empty"));
    assert_non_null(strstr(p.diags, "7: error:"));
    assert_non_null(strstr(p.diags, "the stem is empty"));
    assert_non_null(strstr(p.diags, "8: error: question “bad points”: \"分值/points\" must be a whole number"));
    assert_int_equal(p.errors, 7);
    assert_int_equal(p.n, 1);
}

/* A sheet saved as it was laid out: a title row (merged across the columns
 * in the spreadsheet) above the header, and the options under one merged
 * 选项 cell with the letters in the row below. */
static void a_title_row_and_options_under_one_heading(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV,
              "2026年学雷锋知识竞赛题库,,,,,,\n"
              "题型,题干,选项,,,,答案\n"
              ",,A,B,C,D,\n"
              "单选,雷锋同志的家乡在哪里？,湖南望城,辽宁抚顺,湖北武汉,广东广州,A\n"
              "判断,雷锋出生于1940年。,,,,,对\n",
              &p);
    assert_int_equal(p.errors, 0);
    assert_int_equal(p.warnings, 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.q[0].options, "湖南望城|辽宁抚顺|湖北武汉|广东广州");
    assert_int_equal(p.q[0].line, 4);
    assert_int_equal(p.q[1].line, 5);
    /* Without the letters row, 选项 alone names no column: the options are lost, said. */
    qkt_parse(QK_SRC_CSV, "题型,题干,选项,,答案\n单选,哪一个？,甲,乙,A\n", &p);
    assert_int_equal(p.n, 0);
    assert_non_null(strstr(p.diags, "1: warning: unknown column \"选项\" ignored"));
}

/* Two columns that both mean the answer: which one holds the key would be a
 * guess, so neither is taken. */
static void a_column_named_twice_is_an_error(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV, "题型,题干,A,B,答案,正确答案\n单选,哪一个？,甲,乙,A,B\n", &p);
    assert_int_equal(p.errors, 1);
    assert_non_null(strstr(p.diags, "1: error: column 5 (\"答案\") and column 6 (\"正确答案\") name the same thing"));
    assert_int_equal(p.n, 0);
}

static void missing_columns_and_unclosed_quotes(void **state)
{
    (void)state;
    qkt_parsed p;
    qkt_parse(QK_SRC_CSV, "题干,答案\nx,A\n", &p);
    assert_int_equal(p.errors, 1);
    assert_non_null(strstr(p.diags, "the header has no \"题型/type\" column"));
    qkt_parse(QK_SRC_CSV, "type,stem,A,B,answer\nsingle,\"never closed,x,y,A\n", &p);
    assert_non_null(strstr(p.diags, "2: error: a quoted field is not closed"));
    qkt_parse(QK_SRC_CSV, "", &p);
    assert_non_null(strstr(p.diags, "no header row"));
}

static void gbk_and_bom_are_decoded(void **state)
{
    (void)state;
    const char *utf8 = "题型,题干,选项A,选项B,答案\r\n单选,雷锋原名叫什么？,雷正兴,雷明,A\r\n";
    /* what WPS writes on Chinese Windows */
    char gbk[256];
    iconv_t cd = iconv_open("GBK", "UTF-8");
    char *in = (char *)utf8, *o = gbk;
    size_t il = strlen(utf8), ol = sizeof gbk;
    assert_true(iconv(cd, &in, &il, &o, &ol) != (size_t)-1);
    iconv_close(cd);
    size_t glen = (size_t)(o - gbk);
    assert_false(qk_text_valid(gbk, glen));
    size_t n = 0;
    int converted = 0, bad = 0;
    char *text = qk_text_decode(gbk, glen, &n, &converted, &bad);
    assert_non_null(text);
    assert_true(converted);
    assert_string_equal(text, utf8);
    free(text);
    char bom[256];
    snprintf(bom, sizeof bom, "\xef\xbb\xbf%s", utf8);
    text = qk_text_decode(bom, strlen(bom), &n, &converted, &bad);
    assert_string_equal(text, utf8);
    assert_false(converted);
    free(text);
    const char broken[] = "ok\nok\n\x81\x20\xff\n";
    text = qk_text_decode(broken, sizeof broken - 1, &n, &converted, &bad);
    assert_null(text);
    assert_int_equal(bad, 3);
    /* A UTF-8 file with one bad byte on line 4: said at line 4, not where
     * reading it as GB18030 gave up (line 2) */
    const char bad_utf8[] = "题型,题干,答案\n判断,中共一大在上海召开。,对\n判断,遵义会议在1935年召开。,对\n判断,坏\xff字节,对\n";
    text = qk_text_decode(bad_utf8, sizeof bad_utf8 - 1, &n, &converted, &bad);
    assert_null(text);
    assert_int_equal(bad, 4);
    /* a NUL byte: its own line, and said as such */
    const char nul[] = "题型,题干,答案\n判断,对吗,对\n判断,有\0空字符,对\n";
    text = qk_text_decode(nul, sizeof nul - 1, &n, &converted, &bad);
    assert_null(text);
    assert_int_equal(converted, QK_DECODE_NUL);
    assert_int_equal(bad, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(columns_in_any_order_and_language),
        cmocka_unit_test(quotes_commas_newlines_crlf_and_blank_rows),
        cmocka_unit_test(blanks_in_the_stem_and_the_answer_agree),
        cmocka_unit_test(answers_written_the_ways_people_write_them),
        cmocka_unit_test(too_many_alternatives_are_refused),
        cmocka_unit_test(a_slash_is_never_silently_taken_apart),
        cmocka_unit_test(ids_made_from_stems_are_stable_and_unique),
        cmocka_unit_test(every_row_problem_is_reported_with_its_line),
        cmocka_unit_test(missing_columns_and_unclosed_quotes),
        cmocka_unit_test(a_title_row_and_options_under_one_heading),
        cmocka_unit_test(a_column_named_twice_is_an_error),
        cmocka_unit_test(gbk_and_bom_are_decoded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
