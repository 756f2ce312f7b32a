/* Tests for content/src/lesson_source.c: the lesson syntax and its graph checks. */
#include <string.h>

#include "../../content/src/lesson_source.h"
#include "support.h"

typedef struct diags {
    char text[4096];
    size_t len;
    int errors;
} diags;

static void collect(const qk_diag *d, void *payload)
{
    diags *g = payload;
    g->errors += d->level == QK_DIAG_ERROR;
    g->len += (size_t)snprintf(g->text + g->len, sizeof g->text - g->len, "%d: %s\n", d->line,
                               d->message);
}

static int parse(const char *text, diags *g, qk__lesson *l)
{
    memset(g, 0, sizeof *g);
    qk__src s = {"l.md", text, strlen(text), "t", QK_LANG_EN, collect, g, NULL, NULL, 0, NULL, NULL,
                 {NULL, 0, 0, NULL}, {NULL, 0, 0, NULL}, NULL};
    int rc = qk__parse_lesson(&s, "fallback-id", l);
    qk__label(&s, NULL);
    qk__idset_free(&s.made);
    return rc;
}

static void a_good_lesson_parses(void **state)
{
    (void)state;
    diags g;
    qk__lesson l;
    assert_int_equal(parse("---\n"
                           "title: 测试\n"
                           "theme: t\n"
                           "scoring: path\n"
                           "---\n"
                           "## start\n"
                           "# 标题\n"
                           "正文 **加粗**\n"
                           "-> c\n"
                           "## c {choice}\n"
                           "怎么办？\n"
                           "* 好办法 -> q +2\n"
                           "* [score >= 5] 隐藏选项 -> end\n"
                           "## q {question judge points=3}\n"
                           "对吗？\n"
                           "= 对\n"
                           "> 解析\n"
                           "-> end\n"
                           "## end {end score=7}\n"
                           "结束\n",
                           &g, &l),
                     0);
    assert_int_equal(g.errors, 0);
    assert_string_equal(l.id, "fallback-id"); /* no id: the file name */
    assert_int_equal(l.n_steps, 4);
    assert_string_equal(l.steps[0].body, "# 标题\n正文 **加粗**");
    assert_int_equal(l.steps[1].type, QK_STEP_CHOICE);
    assert_int_equal(l.steps[1].n_choices, 2);
    assert_int_equal(l.steps[1].choices[0].delta, 2);
    assert_true(l.steps[1].choices[1].has_min);
    assert_int_equal(l.steps[1].choices[1].min_score, 5);
    assert_non_null(l.steps[2].question);
    assert_string_equal(l.steps[2].question->id, "fallback-id.q");
    assert_int_equal(l.steps[2].question->judge_answer, 1);
    assert_int_equal(l.steps[2].question->points, 3);
    assert_int_equal(l.steps[3].score, 7);
    qk__lesson_free(&l);
}

static void graph_problems_are_reported_at_their_lines(void **state)
{
    (void)state;
    diags g;
    qk__lesson l;
    parse("---\n"
          "title: 坏的\n"
          "kind: opera\n"
          "---\n"
          "## start\n"       /* 5 */
          "-> nowhere\n"     /* 6: missing target */
          "## lost\n"        /* 7: unreachable, and no next */
          "text\n"
          "## c {choice}\n"  /* 9: unreachable */
          "* go -> loop\n"
          "## loop\n"        /* 11: a loop with no exit */
          "-> loop\n",
          &g, &l);
    assert_non_null(strstr(g.text, "1: front matter field kind has an invalid value \"opera\""));
    assert_non_null(strstr(g.text, "6: step start points to a missing step nowhere"));
    assert_non_null(strstr(g.text, "7: step lost has no next step"));
    assert_non_null(strstr(g.text, "1: the lesson has no end step"));
    qk__lesson_free(&l);

    parse("---\ntitle: x\n---\n"
          "## start {choice}\n"   /* 4 */
          "* a -> end\n"
          "* b -> loop\n"
          "## loop\n"             /* 7: reachable, but never reaches an end */
          "-> loop\n"
          "## island\n"           /* 9 */
          "-> end\n"
          "## end {end}\n"
          "bye\n",
          &g, &l);
    assert_non_null(strstr(g.text, "7: step loop is in a loop with no way to an end"));
    assert_non_null(strstr(g.text, "9: step island cannot be reached"));
    assert_int_equal(g.errors, 2);
    qk__lesson_free(&l);

    assert_int_equal(parse("no front matter\n", &g, &l), -1);
    assert_non_null(strstr(g.text, "must begin with a front matter block"));
    qk__lesson_free(&l);
}

static void checkpoint_answers_are_checked(void **state)
{
    (void)state;
    diags g;
    qk__lesson l;
    parse("---\ntitle: x\n---\n"
          "## q {question single}\n"  /* 4 */
          "哪个对？\n"
          "- [ ] 甲\n"
          "- [ ] 乙\n"
          "-> end\n"
          "## end {end}\n"
          "bye\n",
          &g, &l);
    assert_non_null(strstr(g.text, "4: question fallback-id.q: a single-choice question needs exactly one right option"));
    qk__lesson_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_good_lesson_parses),
        cmocka_unit_test(graph_problems_are_reported_at_their_lines),
        cmocka_unit_test(checkpoint_answers_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
