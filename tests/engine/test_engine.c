/* Tests for engine/src/engine.c: the progress file and its event log. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#define setup qkt_setup_tmpdir
#define teardown qkt_teardown_tmpdir

static void new_file_gets_schema_wal_and_a_device_id(void **state)
{
    char *p = qkt_path(*state, "progress.db");
    qk_engine *e = NULL;
    assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_OK);
    char dev[64];
    snprintf(dev, sizeof dev, "%s", qk_engine_device_id(e));
    assert_true(qk_uuid_is_v7(dev));
    qk_engine_close(e);

    /* Reopening keeps the same device id: it identifies the device to the server. */
    assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_OK);
    assert_string_equal(qk_engine_device_id(e), dev);
    qk_engine_close(e);

    sqlite3 *db = NULL;
    sqlite3_open(p, &db);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
#ifdef __EMSCRIPTEN__
    /* the phone's app saves whole files: a rollback journal, gone at each commit */
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete");
#else
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
#endif
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), QK_PROGRESS_SCHEMA);
    sqlite3_finalize(st);
    /* marked as a progress file, in the file's own header once it is closed */
    sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), QK_PROGRESS_APP_ID);
    sqlite3_finalize(st);
    sqlite3_close(db);
    unsigned char h[100];
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    assert_int_equal(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    assert_int_equal((uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71], QK_PROGRESS_APP_ID);
    /* a file of before (unmarked) is marked when it is opened, its schema
     * version unchanged: an older quizkit still opens it */
    sqlite3_open(p, &db);
    sqlite3_exec(db, "PRAGMA application_id = 0", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_OK);
    qk_engine_close(e);
    sqlite3_open(p, &db);
    sqlite3_prepare_v2(db, "SELECT (SELECT application_id FROM pragma_application_id),"
                           " (SELECT user_version FROM pragma_user_version)", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), QK_PROGRESS_APP_ID);
    assert_int_equal(sqlite3_column_int(st, 1), QK_PROGRESS_SCHEMA);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(p);
}

/* Issue 14: the progress file holds every answer and the roster's PIN
 * hashes; only its owner may read it, whatever the umask. */
static void the_progress_file_is_readable_by_its_owner_only(void **state)
{
    char *p = qkt_path(*state, "progress.db");
    mode_t old = umask(022);
    qk_engine *e = NULL;
    assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_member_add(e, "1001", "李护士", "", "2468"), QK_OK); /* a WAL file too */
    umask(old);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char *wal = qkt_path(*state, "progress.db-wal");
#ifndef __EMSCRIPTEN__ /* (no write-ahead log there: engine.c) */
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
#endif
    qk_engine_close(e);
    free(wal);
    free(p);
}

/* The acknowledgement moves forward with the server's word, and back only
 * when a server says it holds less (restored from a backup; issue 14, item 1). */
static void acknowledgements_move_forward_and_back_to_what_the_server_holds(void **state)
{
    char *p = qkt_path(*state, "progress.db");
    qk_engine *e = NULL;
    assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_OK);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "m%d", i);
        assert_int_equal(qk_member_add(e, id, "成员", "", "2468"), QK_OK); /* one event each */
    }
    int64_t acked = -1, last = -1;
    assert_int_equal(qk_engine_set_acked(e, 4), QK_OK);
    assert_int_equal(qk_engine_set_acked(e, 2), QK_OK); /* an old answer: no step back */
    assert_int_equal(qk_engine_sync_state(e, &acked, &last), QK_OK);
    assert_int_equal(acked, 4);
    assert_int_equal(last, 5);
    assert_int_equal(qk_engine_rewind_acked(e, 2), QK_OK); /* the server lost 3 and 4 */
    assert_int_equal(qk_engine_sync_state(e, &acked, &last), QK_OK);
    assert_int_equal(acked, 2);
    assert_int_equal(qk_engine_rewind_acked(e, 5), QK_OK); /* never forward */
    assert_int_equal(qk_engine_sync_state(e, &acked, &last), QK_OK);
    assert_int_equal(acked, 2);
    assert_int_equal(qk_engine_rewind_acked(e, 6), QK_EINVAL);
    assert_int_equal(qk_engine_rewind_acked(e, -1), QK_EINVAL);
    qk_engine_close(e);
    free(p);
}

static void events_cannot_be_changed_or_deleted(void **state)
{
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qkt_open(*state, &e, &b);
    assert_int_equal(qk_member_add(e, "m1", "张三", "一支部", "1234"), QK_OK);
    int64_t n = 0;
    assert_int_equal(qk_engine_event_count(e, &n), QK_OK);
    assert_int_equal(n, 1);
    qk_engine_close(e);
    qk_bundle_close(b);

    char *p = qkt_path(*state, "progress.db");
    sqlite3 *db = NULL;
    sqlite3_open(p, &db);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET kind = 'x'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(p);
}

static void sequence_numbers_count_up_per_device(void **state)
{
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qkt_open(*state, &e, &b);
    assert_int_equal(qk_member_add(e, "a", "甲", "", "1111"), QK_OK);
    assert_int_equal(qk_member_add(e, "b", "乙", "", "2222"), QK_OK);
    assert_int_equal(qk_member_set_pin(e, "a", "3333"), QK_OK);
    qk_engine_close(e);
    qk_bundle_close(b);
    char *p = qkt_path(*state, "progress.db");
    sqlite3 *db = NULL;
    sqlite3_open(p, &db);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT seq, id FROM events ORDER BY seq", -1, &st, NULL);
    int64_t want = 1;
    char prev[64] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_int_equal(sqlite3_column_int64(st, 0), want++);
        const char *id = (const char *)sqlite3_column_text(st, 1);
        assert_true(qk_uuid_is_v7(id));
        assert_true(strcmp(prev, id) < 0); /* ids are time-ordered too */
        snprintf(prev, sizeof prev, "%s", id);
    }
    assert_int_equal(want, 4);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(p);
}

#ifndef __EMSCRIPTEN__
/* (Not in WebAssembly: a browser's storage has no read-only files, and the
 * wasm test runs as root under node with no fork() to drop it.) */
/* Opens a read-only progress file; returns 0 when refused as it should be. */
static int open_read_only(const char *p)
{
    qk_engine *e = NULL;
    int rc = qk_engine_open(&e, p, QK_LANG_EN);
    int ok = rc == QK_EREADONLY && strstr(qk_engine_errmsg(e), "read-only") != NULL;
    qk_engine_close(e);
    return ok ? 0 : 1;
}

static void read_only_file_is_refused_with_a_message(void **state)
{
    char *p = qkt_path(*state, "progress.db");
    qk_engine *e = NULL;
    assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_OK);
    qk_engine_close(e);
    assert_int_equal(chmod(p, 0444), 0);
    if (geteuid() != 0) {
        assert_int_equal(open_read_only(p), 0);
    } else {
        /* Root may write anything, so check as an unprivileged user in a child. */
        assert_int_equal(chown(*state, 65534, 65534), 0);
        assert_int_equal(chown(p, 65534, 65534), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(2);
            _exit(open_read_only(p));
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    free(p);
}
#endif

static void garbage_file_is_not_touched(void **state)
{
    char *p = qkt_path(*state, "progress.db");
    const char *junk = "not sqlite at all, a file someone put here by mistake ......... ";
    qkt_write(p, junk);
    qk_engine *e = NULL;
    assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_ECORRUPT);
    assert_non_null(strstr(qk_engine_errmsg(e), "not a progress file"));
    qk_engine_close(e);
    FILE *f = fopen(p, "rb");
    char buf[128] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    assert_int_equal(n, strlen(junk));
    assert_string_equal(buf, junk);
    free(p);
}

/* Another program's SQLite file (a bundle, say, given by mistake) is
 * refused, and left exactly as it was: not even switched to WAL. */
static void foreign_sqlite_file_is_refused(void **state)
{
    /* without a version, and with a version of its own (2) but not ours */
    for (int version = 0; version <= 2; version += 2) {
        char *p = qkt_path(*state, version ? "other.db" : "progress.db");
        sqlite3 *db = NULL;
        sqlite3_open(p, &db);
        sqlite3_exec(db, "CREATE TABLE mine(x); INSERT INTO mine VALUES (1)", NULL, NULL, NULL);
        if (version)
            sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL);
        sqlite3_close(db);
        size_t n0 = 0, n1 = 0;
        char *before = qkt_read(p, &n0);
        qk_engine *e = NULL;
        assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_ECORRUPT);
        assert_non_null(strstr(qk_engine_errmsg(e), "not a progress file"));
        qk_engine_close(e);
        char *after = qkt_read(p, &n1);
        assert_int_equal(n1, n0);
        assert_memory_equal(after, before, n0);
        char *wal = qkt_path(*state, version ? "other.db-wal" : "progress.db-wal");
        assert_int_equal(access(wal, F_OK), -1);
        free(wal);
        free(before);
        free(after);
        free(p);
    }
}

/* No path, or an empty one (SQLite would open a temporary file, and every
 * answer would be lost at close), is an error that says so. */
static void a_progress_file_needs_a_path(void **state)
{
    (void)state;
    qk_engine *e = NULL;
    assert_int_equal(qk_engine_open(&e, NULL, QK_LANG_EN), QK_EINVAL);
    assert_non_null(strstr(qk_engine_errmsg(e), "no progress file path"));
    qk_engine_close(e);
    assert_int_equal(qk_engine_open(&e, "", QK_LANG_ZH), QK_EINVAL);
    assert_non_null(strstr(qk_engine_errmsg(e), "进度文件"));
    qk_engine_close(e);
}

#ifndef __EMSCRIPTEN__
/* A kiosk and a command started together on a new progress file: each
 * process opens it (the schema set up once), and all get the same device.
 * Before, the one that lost the race for the write lock ran the first
 * migration again ("table already exists") or took the half-seen file for
 * another program's. */
static void many_first_opens_at_once_make_one_device(void **state)
{
    enum { N = 8 };
    char *p = qkt_path(*state, "progress.db");
    int go[2], ids[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(ids), 0);
    pid_t kids[N];
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            close(go[1]);
            char c;
            (void)!read(go[0], &c, 1); /* all released together: the parent closes it */
            qk_engine *e = NULL;
            int rc = qk_engine_open(&e, p, QK_LANG_EN);
            char line[64] = "";
            snprintf(line, sizeof line, "%-40.40s\n",
                     rc == QK_OK ? qk_engine_device_id(e) : "failed");
            if (rc != QK_OK)
                fprintf(stderr, "open %d: %s\n", i, qk_engine_errmsg(e));
            (void)!write(ids[1], line, strlen(line));
            qk_engine_close(e);
            _exit(rc == QK_OK ? 0 : 1);
        }
    }
    close(go[0]);
    close(ids[1]);
    close(go[1]);
    for (int i = 0; i < N; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    char all[N * 41 + 1];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof all - 1 && (r = read(ids[0], all + got, sizeof all - 1 - got)) > 0)
        got += (size_t)r;
    close(ids[0]);
    all[got] = '\0';
    assert_int_equal(got, (size_t)N * 41);
    for (int i = 1; i < N; i++)
        assert_memory_equal(all + (size_t)i * 41, all, 41);
    char first[37];
    memcpy(first, all, 36);
    first[36] = '\0';
    assert_true(qk_uuid_is_v7(first));
    free(p);
}
#endif

static void newer_schema_is_refused(void **state)
{
    char *p = qkt_path(*state, "progress.db");
    qk_engine *e = NULL;
    assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_OK);
    qk_engine_close(e);
    sqlite3 *db = NULL;
    sqlite3_open(p, &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(qk_engine_open(&e, p, QK_LANG_EN), QK_EFORMAT);
    assert_non_null(strstr(qk_engine_errmsg(e), "upgrade quizkit"));
    qk_engine_close(e);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(new_file_gets_schema_wal_and_a_device_id, setup, teardown),
        cmocka_unit_test_setup_teardown(events_cannot_be_changed_or_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(
            acknowledgements_move_forward_and_back_to_what_the_server_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(the_progress_file_is_readable_by_its_owner_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sequence_numbers_count_up_per_device, setup, teardown),
#ifndef __EMSCRIPTEN__
        cmocka_unit_test_setup_teardown(read_only_file_is_refused_with_a_message, setup, teardown),
#endif
        cmocka_unit_test_setup_teardown(garbage_file_is_not_touched, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_sqlite_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(newer_schema_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_progress_file_needs_a_path, setup, teardown),
#ifndef __EMSCRIPTEN__
        cmocka_unit_test_setup_teardown(many_first_opens_at_once_make_one_device, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
