/* Tests for content/src/json_source.c and build.c: JSON sources -> bundle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qk_content.h"
#include "support.h"

typedef struct diags {
    char text[8192];
    size_t len;
} diags;

static void collect(const qk_diag *d, void *payload)
{
    diags *g = payload;
    g->len += (size_t)snprintf(g->text + g->len, sizeof g->text - g->len, "%s:%d: %s: %s\n",
                               strrchr(d->file, '/') ? strrchr(d->file, '/') + 1 : d->file, d->line,
                               d->level == QK_DIAG_ERROR ? "error" : "warning", d->message);
}

static const char manifest[] =
    "{\"id\": \"t.src\", \"version\": \"1\", \"title\": \"测试\",\n"
    " \"themes\": [{\"id\": \"a\", \"title\": \"甲\"}],\n"
    " \"files\": [\"q.json\"]}\n";

static char *make_src(const char *questions)
{
    char *dir = qkt_tmpdir();
    char *src = qkt_path(dir, "src");
    mkdir(src, 0700);
    char *m = qkt_path(src, "bundle.json");
    char *q = qkt_path(src, "q.json");
    qkt_write(m, manifest);
    qkt_write(q, questions);
    free(m);
    free(q);
    free(src);
    return dir;
}

static int build(const char *dir, diags *g, qk_build_stats *st)
{
    char *src = qkt_path(dir, "src");
    char *out = qkt_path(dir, "out.qkb");
    memset(g, 0, sizeof *g);
    qk_build_opts o = QK_BUILD_OPTS_INIT;
    o.lang = QK_LANG_EN;
    o.fn = collect;
    o.payload = g;
    int rc = qk_content_build(src, out, &o, st);
    free(src);
    free(out);
    return rc;
}

static void good_source_builds_a_bundle_that_plays(void **state)
{
    (void)state;
    char *dir = make_src("{\"theme\": \"a\", \"questions\": [\n"
                         " {\"id\": \"q1\", \"type\": \"单选\", \"stem\": \"一加一？\",\n"
                         "  \"options\": [\"1\", \"2\"], \"answer\": \"B\", \"explanation\": \"算术\"},\n"
                         " {\"id\": \"q2\", \"type\": \"multi\", \"stem\": \"偶数？\",\n"
                         "  \"options\": [\"2\", \"3\", \"4\"], \"answer\": \"A,C\", \"scoring\": \"partial\"},\n"
                         " {\"id\": \"q3\", \"type\": \"judge\", \"stem\": \"对吗？\", \"answer\": \"错\"},\n"
                         " {\"id\": \"q4\", \"type\": \"fill\", \"stem\": \"____年\", \"answer\": [[\"1921\", \"1921年\"]]}\n"
                         "]}\n");
    diags g;
    qk_build_stats st;
    assert_int_equal(build(dir, &g, &st), QK_OK);
    assert_int_equal(st.n_questions, 4);
    assert_int_equal(st.n_errors, 0);
    char *out = qkt_path(dir, "out.qkb");
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, out, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    qk_question *q = NULL;
    assert_int_equal(qk_bundle_question(b, "q2", &q), QK_OK);
    assert_true(q->options[0].correct && !q->options[1].correct && q->options[2].correct);
    assert_int_equal(q->scoring, QK_SCORE_PARTIAL);
    qk_question_free(q);
    assert_int_equal(qk_bundle_question(b, "q3", &q), QK_OK);
    assert_int_equal(q->judge_answer, 0);
    qk_question_free(q);
    qk_bundle_close(b);
    free(out);
    qkt_rmrf(dir);
    free(dir);
}

static void every_problem_is_reported_with_its_line_and_nothing_is_written(void **state)
{
    (void)state;
    char *dir = make_src("{\"theme\": \"a\", \"questions\": [\n"
                         " {\"id\": \"q1\", \"type\": \"single\", \"stem\": \"x\",\n"
                         "  \"options\": [\"1\", \"2\"], \"answer\": \"C\"},\n"
                         " {\"id\": \"q2\", \"type\": \"single\", \"stem\": \"x\",\n"
                         "  \"options\": [\"1\", \"2\"], \"answer\": \"AB\"},\n"
                         " {\"id\": \"q3\", \"type\": \"single\", \"stem\": \"\",\n"
                         "  \"options\": [\"1\", \"2\"], \"answer\": \"A\"},\n"
                         " {\"id\": \"q4\", \"type\": \"fill\", \"stem\": \"x\", \"answer\": []},\n"
                         " {\"id\": \"q5\", \"type\": \"essay\", \"stem\": \"x\"},\n"
                         " {\"id\": \"q6\", \"type\": \"judge\", \"stem\": \"x\", \"answer\": true,\n"
                         "  \"theme\": \"zz\", \"colour\": \"red\"}\n"
                         "]}\n");
    diags g;
    qk_build_stats st;
    assert_int_equal(build(dir, &g, &st), QK_EINVAL);
    assert_int_equal(st.n_errors, 6);
    assert_int_equal(st.n_warnings, 2); /* the unknown field, and theme a left empty */
    assert_non_null(strstr(g.text, "q.json:2: error: question q1: answer \"C\""));
    assert_non_null(strstr(g.text, "q.json:4: error: question q2: a single-choice answer must be one letter"));
    assert_non_null(strstr(g.text, "q.json:6: error: question q3: the stem is empty"));
    assert_non_null(strstr(g.text, "q.json:8: error: question q4: a fill-in answer must be an array"));
    assert_non_null(strstr(g.text, "q.json:9: error: question q5: unknown type \"essay\""));
    assert_non_null(strstr(g.text, "q.json:10: warning: question q6: unknown field \"colour\""));
    assert_non_null(strstr(g.text, "q.json:10: error: question q6: theme zz is not declared"));
    char *out = qkt_path(dir, "out.qkb");
    assert_int_equal(access(out, F_OK), -1);
    free(out);
    qkt_rmrf(dir);
    free(dir);
}

static void json_syntax_error_names_line_and_column(void **state)
{
    (void)state;
    char *dir = make_src("{\"questions\": [\n  {\"id\": \"q1\",, }\n]}\n");
    diags g;
    qk_build_stats st;
    assert_int_equal(build(dir, &g, &st), QK_EINVAL);
    assert_non_null(strstr(g.text, "q.json:2: error: JSON syntax error"));
    qkt_rmrf(dir);
    free(dir);
}

static void missing_folder_is_an_io_error(void **state)
{
    (void)state;
    diags g;
    memset(&g, 0, sizeof g);
    qk_build_stats st;
    qk_build_opts o = QK_BUILD_OPTS_INIT;
    o.lang = QK_LANG_EN;
    o.fn = collect;
    o.payload = &g;
    assert_int_equal(qk_content_build("/nonexistent/src", "/tmp/never.qkb", &o, &st), QK_EIO);
    assert_non_null(strstr(g.text, "no such file or folder"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_source_builds_a_bundle_that_plays),
        cmocka_unit_test(every_problem_is_reported_with_its_line_and_nothing_is_written),
        cmocka_unit_test(json_syntax_error_names_line_and_column),
        cmocka_unit_test(missing_folder_is_an_io_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
