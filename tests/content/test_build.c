/* Tests for content/src/build.c: folders and single files, themes, duplicates
 * across files, long texts, media, check-only and signing. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

typedef struct out {
    char text[8192];
    size_t len;
} out;

static void collect(const qk_diag *d, void *payload)
{
    out *o = payload;
    const char *base = strrchr(d->file, '/') ? strrchr(d->file, '/') + 1 : d->file;
    o->len += (size_t)snprintf(o->text + o->len, sizeof o->text - o->len, "%s:%d: %s: %s\n", base,
                               d->line, d->level == QK_DIAG_ERROR ? "error" : "warning", d->message);
}

static int run(const char *src, const char *dst, int check, const qk_key *key, out *o,
               qk_build_stats *st)
{
    memset(o, 0, sizeof *o);
    qk_build_opts opts = QK_BUILD_OPTS_INIT;
    opts.lang = QK_LANG_EN;
    opts.check_only = check;
    opts.key = key;
    opts.fn = collect;
    opts.payload = o;
    return qk_content_build(src, dst, &opts, st);
}

#define setup qkt_setup_tmpdir
#define teardown qkt_teardown_tmpdir

static void one_spreadsheet_is_a_whole_bundle(void **state)
{
    char *csv = qkt_path(*state, "Party History 2026.csv");
    qkt_write(csv, "题型,题干,选项A,选项B,答案,主题\n"
                   "单选,一大哪年召开？,1919,1921,B,党史\n"
                   "判断,3月5日是学雷锋纪念日。,,,对,学雷锋\n"
                   "判断,七一是建党纪念日。,,,对,党史\n");
    char *dst = qkt_path(*state, "x.qkb");
    out o;
    qk_build_stats st;
    assert_int_equal(run(csv, dst, 0, NULL, &o, &st), QK_OK);
    assert_int_equal(st.n_themes, 2);
    assert_int_equal(st.n_questions, 3);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, dst, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    const qk_bundle_info *in = qk_bundle_info_get(b);
    assert_string_equal(in->id, "party-history-2026");
    assert_string_equal(in->title, "Party History 2026");
    assert_int_equal(strlen(in->version), 15); /* YYYYMMDD.HHMMSS of the file */
    assert_non_null(qk_bundle_theme_find(b, "党史"));
    assert_int_equal(qk_bundle_theme_find(b, "党史")->n_questions, 2);
    qk_bundle_close(b);
    free(csv);
    free(dst);
}

/* A GIFT file saved as .gift.txt is read as GIFT, and the name is to be
 * fixed (issue 16); an Aiken .txt stays Aiken. */
static void a_gift_file_named_txt_is_read_as_gift(void **state)
{
    char *txt = qkt_path(*state, "党史题库.gift.txt");
    qkt_write(txt, "::g1:: 中共一大在哪一年召开？ {\n  =1921年\n  ~1919年\n}\n\n::g2:: 南湖红船 {T}\n");
    char *dst = qkt_path(*state, "g.qkb");
    out o;
    qk_build_stats st;
    assert_int_equal(run(txt, dst, 0, NULL, &o, &st), QK_OK);
    assert_int_equal(st.n_questions, 2);
    assert_int_equal(st.n_errors, 0);
    assert_non_null(strstr(o.text, "党史题库.gift.txt:0: warning: the file is GIFT inside"));
    char *aiken = qkt_path(*state, "aiken.txt");
    qkt_write(aiken, "国际护士节是哪一天？\nA. 3月5日\nB. 5月12日\nANSWER: B\n");
    assert_int_equal(run(aiken, dst, 0, NULL, &o, &st), QK_OK);
    assert_int_equal(st.n_questions, 1);
    assert_null(strstr(o.text, "GIFT"));
    free(txt);
    free(aiken);
    free(dst);
}

static void mixed_folder_with_duplicates_across_files(void **state)
{
    char *src = qkt_path(*state, "src");
    mkdir(src, 0700);
    char *m = qkt_path(src, "bundle.json"), *j = qkt_path(src, "a.json"),
         *c = qkt_path(src, "b.csv"), *g = qkt_path(src, "c.gift");
    qkt_write(m, "{\"id\": \"mix\", \"version\": \"1\", \"title\": \"混合\",\n"
                 " \"themes\": [{\"id\": \"ds\", \"title\": \"党史\"}, {\"id\": \"kong\", \"title\": \"空主题\"}],\n"
                 " \"files\": [\"a.json\", {\"path\": \"b.csv\", \"theme\": \"ds\"}, \"c.gift\"]}\n");
    qkt_write(j, "{\"theme\": \"ds\", \"questions\": [\n"
                 " {\"id\": \"j1\", \"type\": \"single\", \"stem\": \"一大 哪年？\", \"options\": [\"1919\", \"1921\"], \"answer\": \"B\"}\n]}\n");
    qkt_write(c, "题型,题干,选项A,选项B,答案,主题\n"
                 "单选,一大哪年？,1919,1921,A,\n"            /* same stem and options as j1 */
                 "判断,按标题找到主题,,,对,党史\n"           /* theme by its title */
                 "判断,未知主题,,,对,不存在的主题\n");
    qkt_write(g, "$CATEGORY: 党史\n\n::g1:: 南湖红船 {T}\n");
    char *dst = qkt_path(*state, "mix.qkb");
    out o;
    qk_build_stats st;
    assert_int_equal(run(src, dst, 0, NULL, &o, &st), QK_EINVAL);
    assert_non_null(strstr(o.text, "b.csv:2: error: question "));
    /* the same stem and options with another answer: said so, both keys named */
    assert_non_null(strstr(o.text, "the same stem and options as the question at "));
    assert_non_null(strstr(o.text, "but another answer (B there, A here)"));
    assert_non_null(strstr(o.text, "b.csv:4: error: question "));
    assert_non_null(strstr(o.text, "theme 不存在的主题 is not declared"));
    assert_non_null(strstr(o.text, "warning: theme kong has no questions"));
    assert_int_equal(st.n_errors, 2);
    assert_int_equal(access(dst, F_OK), -1);
    free(src);
    free(m);
    free(j);
    free(c);
    free(g);
    free(dst);
}

static void media_is_packed_or_missing_media_named(void **state)
{
    char *src = qkt_path(*state, "m");
    mkdir(src, 0700);
    char *m = qkt_path(src, "bundle.json"), *j = qkt_path(src, "q.json"),
         *png = qkt_path(src, "leifeng.png");
    qkt_write(png, "\x89PNG\r\n\x1a\n fake image");
    qkt_write(m, "{\"id\": \"media\", \"version\": \"1\", \"title\": \"媒体\",\n"
                 " \"themes\": [{\"id\": \"t\", \"title\": \"T\"}], \"files\": [\"q.json\"]}\n");
    qkt_write(j, "{\"theme\": \"t\", \"questions\": [\n"
                 " {\"id\": \"p1\", \"type\": \"judge\", \"stem\": \"![雷锋像](leifeng.png) 这是雷锋。\", \"answer\": true},\n"
                 " {\"id\": \"p2\", \"type\": \"judge\", \"stem\": \"看图\", \"explanation\": \"![图](missing.jpg)\", \"answer\": true},\n"
                 " {\"id\": \"p3\", \"type\": \"judge\", \"stem\": \"![x](notes.exe)\", \"answer\": true}\n"
                 "]}\n");
    char *dst = qkt_path(*state, "m.qkb");
    out o;
    qk_build_stats st;
    assert_int_equal(run(src, dst, 0, NULL, &o, &st), QK_EINVAL);
    assert_non_null(strstr(o.text, "question p2 refers to media file missing.jpg, which does not exist"));
    assert_non_null(strstr(o.text, "question p3 refers to notes.exe, which is not a supported media type"));
    qkt_write(j, "{\"theme\": \"t\", \"questions\": [\n"
                 " {\"id\": \"p1\", \"type\": \"judge\", \"stem\": \"![雷锋像](leifeng.png) 这是雷锋。\", \"answer\": true}\n]}\n");
    assert_int_equal(run(src, dst, 0, NULL, &o, &st), QK_OK);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, dst, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_bundle_info_get(b)->n_media, 1);
    void *data = NULL;
    size_t len = 0;
    char *mime = NULL;
    assert_int_equal(qk_bundle_media(b, "leifeng.png", &data, &len, &mime), QK_OK);
    assert_string_equal(mime, "image/png");
    assert_int_equal(len, strlen("\x89PNG\r\n\x1a\n fake image"));
    assert_memory_equal(data, "\x89PNG", 4);
    free(data);
    free(mime);
    assert_int_equal(qk_bundle_media(b, "nope.png", &data, &len, &mime), QK_ENOTFOUND);
    qk_bundle_close(b);
    free(src);
    free(m);
    free(j);
    free(png);
    free(dst);
}

static void check_only_writes_nothing_and_warns_about_long_options(void **state)
{
    char *csv = qkt_path(*state, "long.csv");
    char row[2048] = "type,stem,A,B,answer\nsingle,长选项,";
    size_t n = strlen(row);
    for (int i = 0; i < 120; i++)
        n += (size_t)snprintf(row + n, sizeof row - n, "字");
    snprintf(row + n, sizeof row - n, ",短,B\n");
    qkt_write(csv, row);
    char *dst = qkt_path(*state, "never.qkb");
    out o;
    qk_build_stats st;
    assert_int_equal(run(csv, dst, 1, NULL, &o, &st), QK_OK);
    assert_int_equal(st.n_warnings, 1);
    assert_non_null(strstr(o.text, "option A is long (120 characters)"));
    assert_int_equal(access(dst, F_OK), -1);
    free(csv);
    free(dst);
}

/* Hard limits (issue 16: a 5 MB stem built with a warning that counted half
 * its characters): refused above them, warned about long text below them,
 * counted in characters whatever the script. */
static void text_past_the_limits_is_refused_and_counted_right(void **state)
{
    char *csv = qkt_path(*state, "limits.csv");
    size_t cap = 64 * 1024;
    char *t = malloc(cap);
    size_t n = (size_t)snprintf(t, cap, "id,type,stem,A,B,answer,explanation\nhuge,single,");
    for (int i = 0; i < 2001; i++)
        n += (size_t)snprintf(t + n, cap - n, "题");
    n += (size_t)snprintf(t + n, cap - n, ",a,b,A,\nwide,single,ok,");
    for (int i = 0; i < 501; i++)
        n += (size_t)snprintf(t + n, cap - n, "x");
    n += (size_t)snprintf(t + n, cap - n, ",b,A,\nlong,single,");
    for (int i = 0; i < 301; i++)
        n += (size_t)snprintf(t + n, cap - n, "y");
    n += (size_t)snprintf(t + n, cap - n, ",a,b,A,\nwhy,single,ok?,a,b,A,");
    for (int i = 0; i < 5001; i++)
        n += (size_t)snprintf(t + n, cap - n, "解");
    snprintf(t + n, cap - n, "\n");
    qkt_write(csv, t);
    free(t);
    char *dst = qkt_path(*state, "never.qkb");
    out o;
    qk_build_stats st;
    run(csv, dst, 1, NULL, &o, &st);
    assert_int_equal(st.n_errors, 3);
    assert_non_null(strstr(o.text, "limits.csv:2: error: question huge: the stem is too long (2001 characters, at most 2000)"));
    assert_non_null(strstr(o.text, "limits.csv:3: error: question wide: option A is too long (501 characters, at most 500)"));
    assert_non_null(strstr(o.text, "limits.csv:5: error: question why: the explanation is too long (5001 characters, at most 5000)"));
    assert_non_null(strstr(o.text, "limits.csv:4: warning: question long: the stem is long (301 characters)"));
    free(csv);
    free(dst);
}

static void a_key_signs_the_build(void **state)
{
    char *csv = qkt_path(*state, "s.csv");
    qkt_write(csv, "type,stem,answer\njudge,ok,T\n");
    char *dst = qkt_path(*state, "s.qkb");
    qk_key *k = NULL;
    qk_key_generate(&k);
    out o;
    qk_build_stats st;
    assert_int_equal(run(csv, dst, 0, k, &o, &st), QK_OK);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, dst, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    qk_key *trusted[1] = {k};
    assert_int_equal(qk_bundle_check_signature(b, trusted, 1), QK_OK);
    qk_bundle_close(b);
    qk_key_free(k);
    free(csv);
    free(dst);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(one_spreadsheet_is_a_whole_bundle),
        T(mixed_folder_with_duplicates_across_files),
        T(a_gift_file_named_txt_is_read_as_gift),
        T(media_is_packed_or_missing_media_named),
        T(check_only_writes_nothing_and_warns_about_long_options),
        T(a_key_signs_the_build),
        T(text_past_the_limits_is_refused_and_counted_right),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
