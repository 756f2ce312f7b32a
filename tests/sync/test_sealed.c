/* Issue 17: the server's store interface is the only way the server touches
 * storage. This test is linked with -Wl,--wrap for SQLite's open calls, so
 * every file the engine, the judge, the statistics or the store open passes
 * through here: after the store is open, nothing may open its file again,
 * whatever the server is asked to do (import with re-scoring and points,
 * re-scoring the attempts that waited for a bundle, every statistic), and
 * once a bundle is published the server opens no other file: the bundle is
 * kept in the store and opened from its bytes. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "../../sync/src/store.h"
#include "qk_server.h"
#include "qk_stats.h"
#include "qk_sync.h"
#include "support.h"

static const char *watched; /* the store's file */
static int watched_opens;
static int watched_probes; /* read-only: the store's look at what the file is, before it writes */
static int other_opens;
static int memory_opens; /* of these, databases in memory (a bundle from the store's bytes) */

static int is_watched(const char *file)
{
    struct stat a, b;
    if (!watched || !file)
        return 0;
    if (stat(file, &a) == 0 && stat(watched, &b) == 0)
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
    return strcmp(file, watched) == 0;
}

int __real_sqlite3_open_v2(const char *file, sqlite3 **db, int flags, const char *vfs);
int __wrap_sqlite3_open_v2(const char *file, sqlite3 **db, int flags, const char *vfs);
int __real_sqlite3_open(const char *file, sqlite3 **db);
int __wrap_sqlite3_open(const char *file, sqlite3 **db);

int __wrap_sqlite3_open_v2(const char *file, sqlite3 **db, int flags, const char *vfs)
{
    if (is_watched(file) && (flags & SQLITE_OPEN_READONLY))
        watched_probes++;
    else if (is_watched(file))
        watched_opens++;
    else
        other_opens++;
    if (file && strcmp(file, ":memory:") == 0)
        memory_opens++;
    return __real_sqlite3_open_v2(file, db, flags, vfs);
}

int __wrap_sqlite3_open(const char *file, sqlite3 **db)
{
    if (is_watched(file))
        watched_opens++;
    else
        other_opens++;
    if (file && strcmp(file, ":memory:") == 0)
        memory_opens++;
    return __real_sqlite3_open(file, db);
}

/* A member's daily quiz and a practice on t1, some answers right. */
static void play(qk_engine *e, qk_bundle *b, qk_mode mode, const char *theme)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = mode;
    spec.theme = theme;
    spec.order = QK_ORDER_SEQUENTIAL;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, e, b, "m1", &spec), QK_OK);
    qk_item it;
    while (qk_session_next(s, &it) == QK_ROW) {
        const char *in = it.q->type == QK_Q_JUDGE ? "对" : it.q->type == QK_Q_FILL ? "1921|南湖" : "B";
        assert_int_equal(qk_session_answer(s, in, NULL, NULL), QK_OK);
    }
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
}

static void nothing_but_the_store_opens_its_file(void **state)
{
    (void)state;
    char *dir = qkt_tmpdir();
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qkt_open(dir, &e, &b);
    qkt_clock clock = {1772676000000LL}; /* 2026-03-05 10:00 Beijing */
    qk_engine_set_clock(e, qkt_clock_fn, &clock);
    assert_int_equal(qk_member_add(e, "m1", "张三", "", "1234"), QK_OK);
    for (int day = 0; day < 2; day++) {
        play(e, b, QK_MODE_DAILY, NULL);
        play(e, b, QK_MODE_PRACTICE, "t1");
        clock.now_ms += 24LL * 3600 * 1000;
    }
    qk_key *key = NULL;
    assert_int_equal(qk_key_generate(&key), QK_OK);
    char *batch = qkt_path(dir, "batch.qkd"), *db = qkt_path(dir, "server.db");
    char msg[512], spec[4200];
    size_t n = 0;
    assert_int_equal(qk_batch_export(e, key, batch, 0, &n, msg, sizeof msg), QK_OK);

    watched = db;
    snprintf(spec, sizeof spec, "sqlite:%s", db);
    qk_store *s = NULL;
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    assert_int_equal(watched_opens, 1); /* the store itself */
    /* a new file is looked at with plain reads (its header), no connection */
    assert_int_equal(watched_probes, 0);
    assert_int_equal(qk_admin_branch_add(s, "b1", "第一党支部"), QK_OK);
    qk_roster_member rm = {0};
    snprintf(rm.id, sizeof rm.id, "m1");
    snprintf(rm.name, sizeof rm.name, "张三");
    snprintf(rm.branch, sizeof rm.branch, "b1");
    assert_int_equal(qk_admin_member_add(s, &rm, "1234"), QK_OK);

    /* Received before the bundle is on the server: stored, judged later. */
    qk_import_result r;
    assert_int_equal(qk_store_import(s, batch, &r), QK_OK);
    assert_int_equal(r.inserted, n);
    assert_int_equal(r.rescored, 0);
    assert_int_equal(r.unscored, 4);
    /* Published as a leader does: kept in the store, checked and judged by
     * from its bytes in memory, and the four scored. */
    int memory_at_publish = memory_opens;
    assert_int_equal(qkt_publish_fixture(s, dir), 4);
    assert_true(memory_opens > memory_at_publish);
    /* From here on the server opens no file but its store's: the bundle
     * comes from the store's bytes, opened in memory. */
    int others_before = other_opens, memory_before = memory_opens;

    /* Two more days, received with the bundle there: judged at once. */
    for (int day = 0; day < 2; day++) {
        play(e, b, QK_MODE_DAILY, NULL);
        clock.now_ms += 24LL * 3600 * 1000;
    }
    assert_int_equal(qk_batch_export(e, key, batch, 0, &n, msg, sizeof msg), QK_OK);
    assert_int_equal(qk_store_import(s, batch, &r), QK_OK);
    assert_int_equal(r.rescored, 2);
    assert_int_equal(r.mismatches, 0);

    /* Every statistic, the server's points among them. */
    for (int subject = 0; subject < QK_STATS_COUNT; subject++) {
        qk_stats_query q = {0};
        q.subject = (qk_stats_subject)subject;
        assert_int_equal(qk_stats_parse_day("2026-03-01", &q.from_day), 0);
        assert_int_equal(qk_stats_parse_day("2026-03-31", &q.to_day), 0);
        json_t *t = NULL;
        assert_int_equal(qk_store_stats(s, NULL, &q, QK_LANG_EN, &t, msg, sizeof msg), QK_OK);
        if (subject == QK_STATS_MEMBERS) { /* m1's points, as the server judged them */
            json_t *row = json_array_get(json_object_get(t, "rows"), 0);
            qk_points_summary p;
            assert_int_equal(qk_points_summary_get(e, b, "m1", &p), QK_OK);
            assert_true(p.total > 0);
            assert_int_equal(json_integer_value(json_array_get(row, 9)), p.total);
        }
        json_decref(t);
    }
    assert_true(other_opens > 0); /* the wrap sees the engine's and the bundle's opens */
    assert_int_equal(watched_opens, 1);
    assert_int_equal(other_opens - others_before, memory_opens - memory_before);
    qk_store_close(s);
    /* opened again: its header says it is a store (the last connection put
     * the mark in the file itself), so no connection looks first */
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    assert_int_equal(watched_opens, 2);
    assert_int_equal(watched_probes, 0);
    qk_store_close(s);
    watched = NULL;

    qk_key_free(key);
    qk_engine_close(e);
    qk_bundle_close(b);
    qkt_rmrf(dir);
    free(batch);
    free(db);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_but_the_store_opens_its_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
