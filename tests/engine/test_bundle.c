/* Tests for engine/src/bundle.c, bundle_write.c and bundle_format.c. */
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../engine/src/bundle_format.h" /* the hasher, against mbedTLS */
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

/* The index a theme's questions are read through holds what the table does:
 * a byte changed in it (one entry's id made another's, so that a draw gives
 * s1 twice and m1 never) changes no digest of the table, and was taken as
 * a verified, signed bundle. */
static void an_index_that_differs_from_its_table_fails_verification(void **state)
{
    char *p = qkt_path(*state, "ix.qkb");
    qkt_build_fixture(p);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT rootpage FROM sqlite_schema WHERE name = 'questions_theme'),"
                                        " (SELECT page_size FROM pragma_page_size)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long page = sqlite3_column_int(st, 0), size = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    size_t len = 0;
    char *data = qkt_read(p, &len);
    assert_true(page > 1 && (size_t)(page * size) <= len);
    char *at = NULL; /* "m1" in the index's one page (the fixture's four fit in it) */
    for (long i = (page - 1) * size; !at && i + 2 <= page * size; i++) {
        if (memcmp(data + i, "m1", 2) == 0)
            at = data + i;
    }
    assert_non_null(at);
    int fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "s1", 2, at - data), 2);
    close(fd);
    free(data);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, 0, QK_LANG_EN), QK_OK); /* what the change does, unverified: */
    char **ids = NULL;
    size_t n = 0;
    assert_int_equal(qk_bundle_question_ids(b, "t1", &ids, &n), QK_OK);
    int s1 = 0, m1 = 0;
    for (size_t i = 0; i < n; i++) {
        s1 += strcmp(ids[i], "s1") == 0;
        m1 += strcmp(ids[i], "m1") == 0;
    }
    assert_int_equal(s1, 2);
    assert_int_equal(m1, 0);
    qk_strv_free(ids, n);
    qk_bundle_close(b);
    b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_EDIGEST);
    assert_non_null(strstr(qk_bundle_errmsg(b), "altered or damaged; changed: questions"));
    qk_bundle_close(b);
    free(p);
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

/* A bundle opened from its bytes in memory (how a server opens the bundles
 * it keeps in its database) reads and verifies as the file does: the caller's
 * copy may go at once, a changed byte fails verification, and bytes that are
 * no bundle are a clear error naming what was opened. */
static void bundle_opens_from_memory(void **state)
{
    char *p = qkt_path(*state, "m.qkb"), *t = qkt_path(*state, "t.qkb");
    qkt_build_fixture(p);
    size_t len = 0;
    char *bytes = qkt_read(p, &len);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open_memory(&b, bytes, len, "m.qkb", QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    memset(bytes, 0, len); /* the bundle has its own copy */
    free(bytes);
    assert_string_equal(qk_bundle_info_get(b)->id, "test.fixture");
    assert_int_equal(qk_bundle_info_get(b)->n_questions, 5);
    assert_int_equal(qk_bundle_theme_find(b, "t1")->n_questions, 4);
    qk_question *q = NULL;
    assert_int_equal(qk_bundle_question(b, "f1", &q), QK_OK);
    assert_string_equal(q->stem, "____年在____");
    qk_question_free(q);
    assert_int_equal(qk_bundle_verify(b), QK_OK);
    qk_bundle_close(b);
    /* a file last written in WAL mode (another tool) opens too */
    tamper(p, "PRAGMA journal_mode=WAL");
    bytes = qkt_read(p, &len);
    assert_int_equal(bytes[18], 2);
    assert_int_equal(qk_bundle_open_memory(&b, bytes, len, "wal.qkb", QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_bundle_info_get(b)->n_questions, 5);
    qk_bundle_close(b);
    free(bytes);

    qkt_build_fixture(t);
    tamper(t, "UPDATE options SET correct = 1 - correct WHERE question_id = 's1'");
    bytes = qkt_read(t, &len);
    assert_int_equal(qk_bundle_open_memory(&b, bytes, len, "t.qkb", QK_BUNDLE_VERIFY, QK_LANG_EN),
                     QK_EDIGEST);
    assert_non_null(strstr(qk_bundle_errmsg(b), "t.qkb"));
    qk_bundle_close(b);
    assert_int_equal(qk_bundle_open_memory(&b, bytes, 100, "short.qkb", 0, QK_LANG_EN), QK_ECORRUPT);
    assert_non_null(strstr(qk_bundle_errmsg(b), "short.qkb"));
    qk_bundle_close(b);
    memset(bytes, 'x', 4096); /* the header gone */
    assert_int_equal(qk_bundle_open_memory(&b, bytes, len, "junk.qkb", 0, QK_LANG_EN), QK_ECORRUPT);
    assert_non_null(strstr(qk_bundle_errmsg(b), "junk.qkb"));
    qk_bundle_close(b);
    free(bytes), free(p), free(t);
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

/* SHA-256 fed in pieces of piece bytes (0: at once) to a bulk hasher told
 * cpu. */
static void bulk_sha256(const unsigned char *p, size_t n, size_t piece, int cpu,
                        unsigned char out[32])
{
    qk_sha256 h;
    qk__sha256_init_bulk(&h, cpu);
    while (n > 0) {
        size_t k = piece && piece < n ? piece : n;
        qk_sha256_add(&h, p, k);
        p += k;
        n -= k;
    }
    qk__sha256_final(&h, out);
}

/* A bulk hasher gives SHA-256 on the CPU's SHA instructions as with mbedTLS,
 * whatever the length and however the bytes are fed (a bug there would make
 * every bundle fail, or worse, pass for other content). */
static void cpu_sha256_is_sha256(void **state)
{
    (void)state;
    int cpu = qk__sha256_cpu();
    if (!cpu)
        print_message("# this CPU has no SHA instructions: mbedTLS against itself\n");
    size_t max = 70000;
    unsigned char *buf = malloc(max);
    assert_non_null(buf);
    uint32_t x = 1;
    for (size_t i = 0; i < max; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    static const size_t pieces[] = {0, 1, 7, 55, 56, 63, 64, 65, 1000, 8191, 8192, 8193};
    for (size_t n = 0; n < max; n = n < 300 ? n + 1 : n * 3 / 2 + 1) {
        unsigned char want[32], got[32];
        qk__sha256(buf, n, want);
        for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
            bulk_sha256(buf, n, pieces[p], cpu, got);
            assert_memory_equal(got, want, 32);
        }
    }
    /* the known answer for "abc" (FIPS 180-2), both ways */
    static const unsigned char abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                          0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                          0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                          0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    unsigned char got[32];
    bulk_sha256((const unsigned char *)"abc", 3, 0, cpu, got);
    assert_memory_equal(got, abc, 32);
    qk__sha256("abc", 3, got);
    assert_memory_equal(got, abc, 32);
    free(buf);
}

#ifndef QKT_ENGINE_ONLY /* the importers build the sample */
static size_t sql_count(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The sample bundle has lessons whose checkpoint questions are no quiz's:
 * the counts and the quiz questions of a theme leave them out, exactly as a
 * lookup of every question in the lessons' steps does. */
static void lesson_checkpoints_are_not_quiz_questions(void **state)
{
    char *p = qkt_path(*state, "samples.qkb");
    qk_build_opts o = QK_BUILD_OPTS_INIT;
    qk_build_stats st;
    assert_int_equal(qk_content_build(QKT_SOURCE_DIR "/content/samples", p, &o, &st), QK_OK);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    static const char not_cp[] = " id NOT IN (SELECT question_id FROM lesson_steps WHERE"
                                 " question_id IS NOT NULL)";
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM questions WHERE%s", not_cp);
    const qk_bundle_info *in = qk_bundle_info_get(b);
    assert_true(sql_count(db, "SELECT count(*) FROM questions", NULL) > in->n_questions);
    assert_int_equal(in->n_questions, sql_count(db, sql, NULL));
    for (size_t i = 0; i < in->n_themes; i++) {
        const qk_theme *t = qk_bundle_theme(b, i);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM questions WHERE theme = ? AND%s", not_cp);
        assert_int_equal(t->n_questions, sql_count(db, sql, t->id));
        char **ids = NULL;
        size_t n = 0;
        assert_int_equal(qk_bundle_question_ids(b, t->id, &ids, &n), QK_OK);
        assert_int_equal(n, t->n_questions);
        qk_strv_free(ids, n);
    }
    sqlite3_close(db);
    qk_bundle_close(b);
    free(p);
}
#endif

/* --- the verified record (qk_bundle_open_trusted) --- */

/* A signed bundle of two themes. */
static void build_signed(const char *path, const qk_key *key)
{
    qk_bundle_writer *w = NULL;
    assert_int_equal(qk_bundle_writer_open(&w, path, QK_LANG_EN), QK_OK);
    qk_manifest m = {"rec.fixture", "1", "Remembered", "zh-CN", 0, 0};
    assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "t1", "主题一", NULL), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "t2", "主题二", NULL), QK_OK);
    qk_option o[2] = {{"全心全意为人民服务", 1}, {"艰苦奋斗", 0}};
    const char *ids[] = {"q1", "q2", "q3"}, *themes[] = {"t1", "t1", "t2"};
    for (int i = 0; i < 3; i++) {
        qk_question q = {.id = (char *)ids[i],
                         .theme = (char *)themes[i],
                         .type = QK_Q_SINGLE,
                         .stem = (char *)"党的根本宗旨是什么？",
                         .points = 1,
                         .n_options = 2,
                         .options = o};
        assert_int_equal(qk_bundle_writer_question(w, &q), QK_OK);
    }
    if (key)
        assert_int_equal(qk_bundle_writer_sign(w, key), QK_OK);
    assert_int_equal(qk_bundle_writer_commit(w), QK_OK);
    qk_bundle_writer_free(w);
}

static int open_trusted(const char *path, qk_key *key, const char *record, size_t *n_questions)
{
    qk_bundle *b = NULL;
    int rc = qk_bundle_open_trusted(&b, path, key ? &key : NULL, key ? 1 : 0, record, QK_LANG_EN);
    if (n_questions)
        *n_questions = rc == QK_OK ? qk_bundle_info_get(b)->n_questions : 0;
    qk_bundle_close(b);
    return rc;
}

/* Lines of the record that name path's file (its inode). */
static int record_lines_for(const char *record, const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    if (access(record, F_OK) != 0)
        return 0;
    size_t len = 0;
    char *text = qkt_read(record, &len);
    char want[64];
    snprintf(want, sizeof want, " %llu ", (unsigned long long)st.st_ino);
    int n = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *sp = strchr(line, ' '); /* after "qkv1 DEV" comes " INO " */
        sp = sp ? strchr(sp + 1, ' ') : NULL;
        n += sp && strncmp(sp, want, strlen(want)) == 0;
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return n;
}

/* Sets a file's modification time back to what it was, as `touch -r` would. */
static void put_back_mtime(const char *path, const struct stat *before)
{
    struct timespec ts[2] = {before->st_atim, before->st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* Replaces, in the file's bytes, the first "from" with "to" (as long). */
static void edit_bytes(const char *path, const char *from, const char *to)
{
    size_t len = 0, n = strlen(from);
    char *data = qkt_read(path, &len);
    assert_int_equal(strlen(to), n);
    char *at = NULL;
    for (size_t i = 0; !at && i + n <= len; i++) {
        if (memcmp(data + i, from, n) == 0)
            at = data + i;
    }
    assert_non_null(at);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, to, n, at - data), (ssize_t)n);
    close(fd);
    free(data);
}

/* A file changed less than RACY_MS (2 s) before it was verified is not
 * remembered: the tests wait until the real clock (the one file times come
 * from) is past that for last, the file they changed last. */
static void wait_racy(const char *last)
{
    struct stat st;
    assert_int_equal(stat(last, &st), 0);
    int64_t ready = (int64_t)st.st_ctim.tv_sec * 1000 + st.st_ctim.tv_nsec / 1000000 + 2000 + 10;
    while (qk_clock_real_ms() <= ready) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
}

#ifndef __EMSCRIPTEN__ /* the record is not used in wasm: bundle.h */
static void verified_bundle_is_remembered_while_unchanged(void **state)
{
    qk_key *key = NULL;
    assert_int_equal(qk_key_generate(&key), QK_OK);
    char *p = qkt_path(*state, "b.qkb"), *record = qkt_path(*state, ".verified");
    char *q = qkt_path(*state, "c.qkb");
    build_signed(p, key);
    build_signed(q, key);
    size_t n = 0;
    /* just written: verified, not remembered */
    assert_int_equal(open_trusted(p, key, record, &n), QK_OK);
    assert_int_equal(n, 3);
    assert_int_equal(access(record, F_OK), -1);
    wait_racy(p);
    assert_int_equal(open_trusted(p, key, record, &n), QK_OK);
    assert_int_equal(record_lines_for(record, p), 1);
    /* Opened again, the bundle is not read: what it says comes from the
     * record (which is why the record must be as safe as the trusted keys). */
    size_t len = 0;
    char *text = qkt_read(record, &len);
    char *forged = NULL;
    /* 3 questions, two themes of 2 and 1, each numbered on from 0 and 2 */
    const char *counts = strstr(text, " 3 0 0 0 2 2 0 1 2\n");
    assert_non_null(counts);
    size_t head = (size_t)(counts - text);
    forged = malloc(head + 32);
    memcpy(forged, text, head);
    snprintf(forged + head, 32, " 9 0 0 0 2 2 0 1 2\n");
    qkt_write(record, forged);
    assert_int_equal(open_trusted(p, key, record, &n), QK_OK);
    assert_int_equal(n, 9);
    /* a line of the first record's form (qkv1: counts alone, no theme's
     * first sort) is not read: verified in full, noted anew as qkv2 */
    snprintf(forged + head, 32, " 9 0 0 0 2 2 1\n");
    memcpy(forged, "qkv1", 4);
    qkt_write(record, forged);
    assert_int_equal(open_trusted(p, key, record, &n), QK_OK);
    assert_int_equal(n, 3);
    char *again = qkt_read(record, &len);
    assert_true(strncmp(again, "qkv2 ", 5) == 0);
    assert_non_null(strstr(again, " 3 0 0 0 2 2 0 1 2\n"));
    free(again);
    /* a record that is not one is no harm: verified in full, written anew */
    qkt_write(record, "qkv1 1 2 3\ngarbage\n\n");
    assert_int_equal(open_trusted(p, key, record, &n), QK_OK);
    assert_int_equal(n, 3);
    assert_int_equal(record_lines_for(record, p), 1);
    /* the same record holds other bundles too, one line each */
    assert_int_equal(open_trusted(q, key, record, &n), QK_OK);
    assert_int_equal(open_trusted(p, key, record, &n), QK_OK);
    assert_int_equal(record_lines_for(record, p), 1);
    assert_int_equal(record_lines_for(record, q), 1);
    /* a file dated before 1970 (touch -d 1960) is remembered as well, and
     * opened again it is not written anew (it was, at every open) */
    const struct timespec old[2] = {{-315619200, 0}, {-315619200, 0}};
    assert_int_equal(utimensat(AT_FDCWD, q, old, 0), 0);
    wait_racy(q);
    assert_int_equal(open_trusted(q, key, record, &n), QK_OK);
    assert_int_equal(record_lines_for(record, q), 1);
    char *dated = qkt_read(record, &len);
    assert_non_null(strstr(dated, " -315619200 0 "));
    free(dated);
    struct stat before, after;
    assert_int_equal(stat(record, &before), 0);
    assert_int_equal(open_trusted(q, key, record, &n), QK_OK);
    assert_int_equal(stat(record, &after), 0);
    assert_true(before.st_ino == after.st_ino && before.st_ctim.tv_sec == after.st_ctim.tv_sec &&
                before.st_ctim.tv_nsec == after.st_ctim.tv_nsec);
    free(text);
    free(forged);
    free(q);
    free(p);
    free(record);
    qk_key_free(key);
}

/* Someone who can write the bundle file but not the device's record or
 * trusted keys edits it after it was verified and remembered: every way that
 * goes through write(), utime(), a copy, a link or a rename is caught at the
 * next open, before a question is shown or scored. (A write through a shared
 * memory map need not move the file's times: bundle.h says what the record
 * does not stand against.) */
static void bundle_changed_after_it_was_remembered_is_refused(void **state)
{
    qk_key *key = NULL;
    assert_int_equal(qk_key_generate(&key), QK_OK);
    char *record = qkt_path(*state, ".verified");
    enum { N = 6 };
    char *p[N], *spare = qkt_path(*state, "spare.qkb");
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "b%d.qkb", i);
        p[i] = qkt_path(*state, name);
        build_signed(p[i], key);
    }
    build_signed(spare, key);
    wait_racy(spare);
    for (int i = 0; i < N; i++) {
        assert_int_equal(open_trusted(p[i], key, record, NULL), QK_OK);
        assert_int_equal(record_lines_for(record, p[i]), 1);
    }
    struct stat before;
    /* 0: the answer key changed with SQLite */
    tamper(p[0], "UPDATE options SET correct = 1 - correct WHERE question_id = 'q1'");
    assert_int_equal(open_trusted(p[0], key, record, NULL), QK_EDIGEST);
    /* 1: the same, with the modification time put back */
    assert_int_equal(stat(p[1], &before), 0);
    tamper(p[1], "UPDATE options SET correct = 1 - correct WHERE question_id = 'q1'");
    put_back_mtime(p[1], &before);
    assert_int_equal(open_trusted(p[1], key, record, NULL), QK_EDIGEST);
    /* 2: bytes changed in place (same size), modification time put back */
    assert_int_equal(stat(p[2], &before), 0);
    edit_bytes(p[2], "艰苦奋斗", "实事求是");
    put_back_mtime(p[2], &before);
    struct stat after;
    assert_int_equal(stat(p[2], &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    assert_int_equal(open_trusted(p[2], key, record, NULL), QK_EDIGEST);
    /* 3: another file renamed into its place, a changed copy of it */
    tamper(spare, "UPDATE questions SET stem = '改过的题干' WHERE id = 'q2'");
    assert_int_equal(rename(spare, p[3]), 0);
    assert_int_equal(open_trusted(p[3], key, record, NULL), QK_EDIGEST);
    /* 4: the key no longer trusted: the record does not vouch for it */
    assert_int_equal(open_trusted(p[4], NULL, record, NULL), QK_EUNTRUSTED);
    qk_key *other = NULL;
    assert_int_equal(qk_key_generate(&other), QK_OK);
    assert_int_equal(open_trusted(p[4], other, record, NULL), QK_EUNTRUSTED);
    /* 5: the manifest changed (a digest recomputed by the attacker) */
    tamper(p[5], "UPDATE manifest SET value = 'Other' WHERE key = 'title'");
    assert_int_equal(open_trusted(p[5], key, record, NULL), QK_EDIGEST);
    /* and an untouched one is still fine */
    assert_int_equal(open_trusted(p[4], key, record, NULL), QK_OK);
    for (int i = 0; i < N; i++)
        free(p[i]);
    free(spare);
    free(record);
    qk_key_free(key);
    qk_key_free(other);
}

/* What is not remembered: an unsigned bundle, one signed by a key not
 * trusted, and a symbolic link (its target could be anywhere). */
static void only_trusted_regular_files_are_remembered(void **state)
{
    qk_key *key = NULL, *other = NULL;
    assert_int_equal(qk_key_generate(&key), QK_OK);
    assert_int_equal(qk_key_generate(&other), QK_OK);
    char *record = qkt_path(*state, ".verified");
    char *unsigned_p = qkt_path(*state, "u.qkb"), *untrusted = qkt_path(*state, "x.qkb");
    char *target = qkt_path(*state, "t.qkb"), *link = qkt_path(*state, "l.qkb");
    build_signed(unsigned_p, NULL);
    build_signed(untrusted, other);
    build_signed(target, key);
    assert_int_equal(symlink(target, link), 0);
    wait_racy(target);
    assert_int_equal(open_trusted(unsigned_p, key, record, NULL), QK_EUNSIGNED);
    assert_int_equal(open_trusted(untrusted, key, record, NULL), QK_EUNTRUSTED);
    assert_int_equal(open_trusted(link, key, record, NULL), QK_OK);
    assert_int_equal(access(record, F_OK), -1);
    /* and a bundle opened without a record is verified every time */
    assert_int_equal(open_trusted(target, key, NULL, NULL), QK_OK);
    assert_int_equal(access(record, F_OK), -1);
    free(record);
    free(unsigned_p);
    free(untrusted);
    free(target);
    free(link);
    qk_key_free(key);
    qk_key_free(other);
}

#else
/* WebAssembly: emscripten's files have one time stamp that utime() sets, so
 * no record is kept or read (bundle.h): a bundle opened again is verified
 * again, and a change with its time put back is caught. */
static void every_open_verifies_in_full(void **state)
{
    qk_key *key = NULL;
    assert_int_equal(qk_key_generate(&key), QK_OK);
    char *p = qkt_path(*state, "b.qkb"), *record = qkt_path(*state, ".verified");
    build_signed(p, key);
    /* past the 2 s in which a record would not be written anyway */
    wait_racy(p);
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(open_trusted(p, key, record, &n), QK_OK);
        assert_int_equal(n, 3);
    }
    assert_int_equal(access(record, F_OK), -1);
    struct stat before;
    assert_int_equal(stat(p, &before), 0);
    edit_bytes(p, "艰苦奋斗", "实事求是");
    put_back_mtime(p, &before);
    assert_int_equal(open_trusted(p, key, record, NULL), QK_EDIGEST);
    assert_int_equal(access(record, F_OK), -1);
    assert_int_equal(record_lines_for(record, p), 0);
    free(p);
    free(record);
    qk_key_free(key);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(written_bundle_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(any_change_fails_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(an_index_that_differs_from_its_table_fails_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(digest_does_not_depend_on_file_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(not_a_bundle_is_a_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown(bundle_opens_from_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(newer_format_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_write_leaves_no_file, setup, teardown),
        cmocka_unit_test_setup_teardown(versions_cannot_name_a_path, setup, teardown),
        cmocka_unit_test_setup_teardown(writer_refuses_duplicates_and_unknown_themes, setup,
                                        teardown),
        cmocka_unit_test(cpu_sha256_is_sha256),
#ifndef QKT_ENGINE_ONLY
        cmocka_unit_test_setup_teardown(lesson_checkpoints_are_not_quiz_questions, setup, teardown),
#endif
#ifndef __EMSCRIPTEN__
        cmocka_unit_test_setup_teardown(verified_bundle_is_remembered_while_unchanged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bundle_changed_after_it_was_remembered_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(only_trusted_regular_files_are_remembered, setup, teardown),
#else
        cmocka_unit_test_setup_teardown(every_open_verifies_in_full, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
