/* Tests for engine/src/bundle.c, bundle_write.c and bundle_format.c. */
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

#define setup qkt_setup_tmpdir
#define teardown qkt_teardown_tmpdir

static void written_bundle_reads_back(void **state)
{
    char *p = qkt_path(*state, "b.qkb");
    qkt_build_fixture(p);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    const qk_bundle_info *in = qk_bundle_info_get(b);
    assert_string_equal(in->id, "test.fixture");
    assert_int_equal(in->n_themes, 2);
    assert_int_equal(in->n_questions, 5);
    assert_int_equal(in->is_signed, 0);
    assert_memory_equal(in->content_digest, "sha256:", 7);
    assert_string_equal(qk_bundle_theme(b, 0)->id, "t1");
    assert_int_equal(qk_bundle_theme(b, 0)->n_questions, 4);
    assert_string_equal(qk_bundle_theme_find(b, "主题二")->id, "t2");
    assert_null(qk_bundle_theme_find(b, "nope"));

    char **ids = NULL;
    size_t n = 0;
    assert_int_equal(qk_bundle_question_ids(b, "t1", &ids, &n), QK_OK);
    assert_int_equal(n, 4);
    assert_string_equal(ids[0], "s1"); /* authoring order */
    assert_string_equal(ids[3], "f1");
    qk_strv_free(ids, n);

    qk_question *q = NULL;
    assert_int_equal(qk_bundle_question(b, "f1", &q), QK_OK);
    assert_int_equal(q->type, QK_Q_FILL);
    assert_int_equal(q->n_blanks, 2);
    assert_string_equal(q->blanks[1].accepted[1], "南湖");
    qk_question_free(q);
    assert_int_equal(qk_bundle_question(b, "m1", &q), QK_OK);
    assert_int_equal(q->n_options, 4);
    assert_true(q->options[0].correct && !q->options[1].correct && q->options[2].correct);
    assert_int_equal(q->scoring, QK_SCORE_PARTIAL);
    qk_question_free(q);
    assert_int_equal(qk_bundle_question(b, "zz", &q), QK_ENOTFOUND);
    qk_bundle_close(b);
    free(p);
}

/* Changes one value inside the bundle with plain SQLite, as an attacker or a
 * damaged copy would, and checks that verification notices. */
static void tamper(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void any_change_fails_verification(void **state)
{
    const char *edits[] = {
        "UPDATE options SET correct = 1 - correct WHERE question_id = 's1'", /* answer key */
        "UPDATE questions SET stem = stem || ' ' WHERE id = 'j1'",           /* content */
        "UPDATE manifest SET value = 'Other' WHERE key = 'title'",           /* manifest */
        "INSERT INTO media VALUES ('a.png', 'image/png', x'00')",            /* media */
        "CREATE TABLE extra(x)",                                             /* schema */
        "UPDATE blanks SET accepted = '上海' WHERE question_id = 'f1' AND blank = 1 AND idx = 0",
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%zu.qkb", i);
        char *p = qkt_path(*state, name);
        qkt_build_fixture(p);
        tamper(p, edits[i]);
        qk_bundle *b = NULL;
        assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_EDIGEST);
        assert_non_null(strstr(qk_bundle_errmsg(b), "altered or damaged"));
        qk_bundle_close(b);
        free(p);
    }
}

static void digest_does_not_depend_on_file_layout(void **state)
{
    char *p = qkt_path(*state, "v.qkb");
    qkt_build_fixture(p);
    tamper(p, "VACUUM");
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    qk_bundle_close(b);
    free(p);
}

static void not_a_bundle_is_a_clear_error(void **state)
{
    char *p = qkt_path(*state, "junk.qkb");
    qkt_write(p, "this is not a database, just some text that is long enough to look like a header.....");
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, 0, QK_LANG_EN), QK_ECORRUPT);
    assert_non_null(strstr(qk_bundle_errmsg(b), "junk.qkb"));
    qk_bundle_close(b);

    char *db = qkt_path(*state, "other.db");
    tamper(db, "CREATE TABLE t(x)");
    assert_int_equal(qk_bundle_open(&b, db, 0, QK_LANG_EN), QK_ECORRUPT);
    assert_non_null(strstr(qk_bundle_errmsg(b), "not a quizkit bundle"));
    qk_bundle_close(b);

    char *missing = qkt_path(*state, "missing.qkb");
    assert_int_equal(qk_bundle_open(&b, missing, 0, QK_LANG_ZH), QK_ENOTFOUND);
    assert_non_null(strstr(qk_bundle_errmsg(b), "无法打开题库包"));
    qk_bundle_close(b);
    free(p);
    free(db);
    free(missing);
}

static void newer_format_is_refused(void **state)
{
    char *p = qkt_path(*state, "f.qkb");
    qkt_build_fixture(p);
    tamper(p, "UPDATE manifest SET value = '9' WHERE key = 'format'");
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, 0, QK_LANG_EN), QK_EFORMAT);
    assert_non_null(strstr(qk_bundle_errmsg(b), "format version 9"));
    qk_bundle_close(b);
    free(p);
}

static void failed_write_leaves_no_file(void **state)
{
    char *p = qkt_path(*state, "never.qkb");
    qk_bundle_writer *w = NULL;
    assert_int_equal(qk_bundle_writer_open(&w, p, QK_LANG_EN), QK_OK);
    qk_manifest m = {"Bad Id", "1", "t", "zh-CN", 0, 0};
    assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_EINVAL);
    assert_non_null(strstr(qk_bundle_writer_errmsg(w), "bundle id Bad Id is invalid"));
    assert_int_equal(qk_bundle_writer_commit(w), QK_ESTATE);
    qk_bundle_writer_free(w);
    assert_int_equal(access(p, F_OK), -1);
    /* and no temporary file either: the folder is empty again */
    DIR *d = opendir(*state);
    assert_non_null(d);
    struct dirent *ent;
    int entries = 0;
    while ((ent = readdir(d)) != NULL)
        entries += ent->d_name[0] != '.';
    closedir(d);
    assert_int_equal(entries, 0);
    free(p);
}

/* Issue 14, item 7: a version names files (ID-VERSION.qkb on the server,
 * download-ID-VERSION.qkb on a device): it follows the id rule. */
static void versions_cannot_name_a_path(void **state)
{
    char *p = qkt_path(*state, "v.qkb");
    const char *bad[] = {"../../x", "1/2", "2026 12", "", "x\\y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        qk_bundle_writer *w = NULL;
        assert_int_equal(qk_bundle_writer_open(&w, p, QK_LANG_EN), QK_OK);
        qk_manifest m = {"x", bad[i], "t", "zh-CN", 0, 0};
        assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_EINVAL);
        assert_non_null(strstr(qk_bundle_writer_errmsg(w), bad[i][0] ? "version" : "must not be empty"));
        qk_bundle_writer_free(w);
    }
    qk_bundle_writer *w = NULL;
    assert_int_equal(qk_bundle_writer_open(&w, p, QK_LANG_EN), QK_OK);
    qk_manifest m = {"x", "2026.12.1-rc_2", "t", "zh-CN", 0, 0};
    assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_OK);
    qk_bundle_writer_free(w);
    free(p);
}

static void writer_refuses_duplicates_and_unknown_themes(void **state)
{
    char *p = qkt_path(*state, "d.qkb");
    qk_bundle_writer *w = NULL;
    assert_int_equal(qk_bundle_writer_open(&w, p, QK_LANG_EN), QK_OK);
    qk_manifest m = {"x", "1", "t", "zh-CN", 0, 0};
    assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "a", "A", NULL), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "a", "A", NULL), QK_EEXISTS);
    qk_question q = {.id = "q1", .theme = "a", .type = QK_Q_JUDGE, .stem = "s", .points = 1};
    assert_int_equal(qk_bundle_writer_question(w, &q), QK_OK);
    assert_int_equal(qk_bundle_writer_question(w, &q), QK_EEXISTS);
    q.id = "q2";
    q.theme = "b";
    assert_int_equal(qk_bundle_writer_question(w, &q), QK_ENOTFOUND);
    assert_non_null(strstr(qk_bundle_writer_errmsg(w), "theme b is not declared"));
    qk_bundle_writer_free(w);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(written_bundle_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(any_change_fails_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(digest_does_not_depend_on_file_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(not_a_bundle_is_a_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown(newer_format_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_write_leaves_no_file, setup, teardown),
        cmocka_unit_test_setup_teardown(versions_cannot_name_a_path, setup, teardown),
        cmocka_unit_test_setup_teardown(writer_refuses_duplicates_and_unknown_themes, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
