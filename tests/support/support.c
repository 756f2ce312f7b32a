/* support.c: see support.h. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

char *qkt_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = qkt_path(base && *base ? base : "/tmp", "qktest-XXXXXX");
    assert_non_null(mkdtemp(tmpl));
    return tmpl;
}

int qkt_setup_tmpdir(void **state)
{
    *state = qkt_tmpdir();
    return 0;
}

int qkt_teardown_tmpdir(void **state)
{
    qkt_rmrf(*state);
    free(*state);
    return 0;
}

void qkt_rmrf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *ent;
        while ((ent = readdir(d)) != NULL) {
            if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
                continue;
            char *p = qkt_path(path, ent->d_name);
            struct stat sb;
            if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
                qkt_rmrf(p);
            else
                unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(path);
}

char *qkt_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void qkt_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

char *qkt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

int64_t qkt_clock_fn(void *payload)
{
    return ((qkt_clock *)payload)->now_ms;
}

static void add_choice(qk_bundle_writer *w, const char *id, const char *theme, qk_qtype type,
                       const char *stem, const char *const *opts, size_t n, uint32_t right,
                       qk_scoring scoring, int shuffle)
{
    qk_option o[8];
    memset(o, 0, sizeof o);
    for (size_t i = 0; i < n; i++) {
        o[i].text = (char *)opts[i];
        o[i].correct = (right >> i) & 1u;
    }
    qk_question q;
    memset(&q, 0, sizeof q);
    q.id = (char *)id;
    q.theme = (char *)theme;
    q.type = type;
    q.scoring = scoring;
    q.stem = (char *)stem;
    q.explanation = (char *)"解析";
    q.points = type == QK_Q_MULTI ? 2 : 1;
    q.shuffle = shuffle;
    q.n_options = n;
    q.options = o;
    assert_int_equal(qk_bundle_writer_question(w, &q), QK_OK);
}

void qkt_build_fixture_signed(const char *path, const qk_key *key)
{
    qkt_build_fixture_as(path, key, "test.fixture");
}

void qkt_build_fixture_as(const char *path, const qk_key *key, const char *id)
{
    qk_bundle_writer *w = NULL;
    assert_int_equal(qk_bundle_writer_open(&w, path, QK_LANG_EN), QK_OK);
    qk_manifest m = {id, "1", "Fixture", "zh-CN", 0, 0};
    assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "t1", "主题一", "first"), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "t2", "主题二", NULL), QK_OK);
    const char *const abcd[] = {"甲", "乙", "丙", "丁"};
    add_choice(w, "s1", "t1", QK_Q_SINGLE, "单选", abcd, 4, 1u << 1, QK_SCORE_ALL, 1);
    add_choice(w, "m1", "t1", QK_Q_MULTI, "多选", abcd, 4, 1u | 1u << 2, QK_SCORE_PARTIAL, 1);

    qk_question q;
    memset(&q, 0, sizeof q);
    q.id = (char *)"j1";
    q.theme = (char *)"t1";
    q.type = QK_Q_JUDGE;
    q.stem = (char *)"判断";
    q.points = 1;
    q.judge_answer = 1;
    assert_int_equal(qk_bundle_writer_question(w, &q), QK_OK);

    char *b1[] = {(char *)"1921", (char *)"1921年"};
    char *b2[] = {(char *)"嘉兴", (char *)"南湖"};
    qk_blank blanks[2] = {{2, b1}, {2, b2}};
    memset(&q, 0, sizeof q);
    q.id = (char *)"f1";
    q.theme = (char *)"t1";
    q.type = QK_Q_FILL;
    q.scoring = QK_SCORE_PARTIAL;
    q.stem = (char *)"____年在____";
    q.points = 2;
    q.n_blanks = 2;
    q.blanks = blanks;
    assert_int_equal(qk_bundle_writer_question(w, &q), QK_OK);

    const char *const abc[] = {"一", "二", "以上都对"};
    add_choice(w, "s2", "t2", QK_Q_SINGLE, "单选二", abc, 3, 1u, QK_SCORE_ALL, 0);
    assert_int_equal(qk_bundle_writer_competition(
                         w, "{\"id\":\"c-fixed\",\"title\":\"固定题竞赛\",\"questions\":[\"s1\",\"j1\",\"m1\"],"
                            "\"seconds\":20,\"opens\":\"2026-03-05 08:00\",\"closes\":\"2026-03-12 20:00\"}"),
                     QK_OK);
    assert_int_equal(qk_bundle_writer_competition(
                         w, "{\"id\":\"c-draw\",\"title\":\"抽题竞赛\",\"theme\":\"t1\",\"count\":3,"
                            "\"seed\":42,\"seconds\":10,\"full_within\":0.25,\"streak_bonus\":100,"
                            "\"streak_max\":300,\"guests\":true,\"attempts\":2,\"teams\":\"branch\"}"),
                     QK_OK);
    if (key)
        assert_int_equal(qk_bundle_writer_sign(w, key), QK_OK);
    assert_int_equal(qk_bundle_writer_commit(w), QK_OK);
    qk_bundle_writer_free(w);
}

void qkt_build_fixture(const char *path)
{
    qkt_build_fixture_signed(path, NULL);
}

void qkt_open(const char *dir, qk_engine **e, qk_bundle **b)
{
    char *bp = qkt_path(dir, "fixture.qkb");
    char *pp = qkt_path(dir, "progress.db");
    if (access(bp, F_OK) != 0)
        qkt_build_fixture(bp);
    assert_int_equal(qk_bundle_open(b, bp, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_engine_open(e, pp, QK_LANG_EN), QK_OK);
    free(bp);
    free(pp);
}

int qkt_fx_setup(void **state)
{
    qkt_fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = qkt_tmpdir();
    qkt_open(f->dir, &f->e, &f->b);
    f->clock.now_ms = 1767225600000; /* 2026-01-01 */
    qk_engine_set_clock(f->e, qkt_clock_fn, &f->clock);
    *state = f;
    return 0;
}

int qkt_fx_teardown(void **state)
{
    qkt_fx *f = *state;
    qk_engine_close(f->e);
    qk_bundle_close(f->b);
    qkt_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}
