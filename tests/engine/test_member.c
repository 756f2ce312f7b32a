/* Tests for engine/src/member.c: PINs and lockout. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

typedef qkt_fx fx;

#define setup qkt_fx_setup

#define teardown qkt_fx_teardown

static void right_pin_logs_in_wrong_pin_does_not(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_add(f->e, "1001", "李护士", "护理支部", "2468"), QK_OK);
    assert_int_equal(qk_member_login(f->e, "1001", "2468", NULL), QK_OK);
    int64_t left = 0;
    assert_int_equal(qk_member_login(f->e, "1001", "0000", &left), QK_EAUTH);
    assert_int_equal(left, 4);
    assert_non_null(strstr(qk_engine_errmsg(f->e), "4 tries left"));
    assert_int_equal(qk_member_login(f->e, "nobody", "2468", NULL), QK_ENOTFOUND);
}

/* A phone enrolled for one member forgets the others (their PIN hashes
 * with them); the one kept is found whatever the case it is named in. */
static void a_phone_keeps_only_its_member(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_add(f->e, "1001", "李护士", "护理支部", "2468"), QK_OK);
    assert_int_equal(qk_member_add(f->e, "Ab7", "王医生", "护理支部", "1357"), QK_OK);
    assert_int_equal(qk_member_add(f->e, "1003", "赵药师", "护理支部", "8642"), QK_OK);
    assert_int_equal(qk_member_keep_only(f->e, "aB7"), QK_OK);
    qk_member **all = NULL;
    size_t n = 0;
    assert_int_equal(qk_member_list(f->e, &all, &n), QK_OK);
    assert_int_equal(n, 1);
    assert_string_equal(all[0]->id, "Ab7");
    qk_member_list_free(all, n);
    assert_int_equal(qk_member_login(f->e, "1001", "2468", NULL), QK_ENOTFOUND);
    assert_int_equal(qk_member_login(f->e, "Ab7", "1357", NULL), QK_OK);
}

/* Known answers made by another implementation (Python's hashlib.pbkdf2_hmac),
 * so that every build hashes alike: mbedTLS 2.28 and 3.x, native and
 * WebAssembly (the CI builds each). A roster a server made signs in on any
 * device, and a server's account passwords outlive an upgrade. */
static void pin_hashes_are_those_of_another_implementation(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_apply(f->e, "k1", "测试", "b1", "", "00112233445566778899aabbccddeeff",
                                     "23ad2daa4e59be477bd7ef0eb0dc22c3e4f52a97976a7824b1a17a910ff6bc66",
                                     1000),
                     QK_OK);
    assert_int_equal(qk_member_login(f->e, "k1", "2468", NULL), QK_OK);
    assert_int_equal(qk_member_login(f->e, "k1", "2469", NULL), QK_EAUTH);
    static const char stored[] = "pbkdf2-sha256$2000$00112233445566778899aabbccddeeff$"
                                 "428e3a2f8db47d5dcbf51283afb674b6d72ea136702071bddf85663158f700ab";
    assert_true(qk_secret_verify("正确的口令 horse", stored));
    assert_false(qk_secret_verify("正确的口令 horsE", stored));
}

static void pin_is_never_stored_in_clear(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_add(f->e, "1002", "王医生", "", "86428642"), QK_OK);
    char *p = qkt_path(f->dir, "progress.db");
    sqlite3 *db = NULL;
    sqlite3_open(p, &db);
    sqlite3_stmt *st = NULL;
    /* Search every text and blob in the file's tables for the PIN. */
    sqlite3_prepare_v2(db,
                       "SELECT count(*) FROM members WHERE instr(CAST(pin_hash AS TEXT), '86428642')"
                       " OR instr(name, '86428642') UNION ALL"
                       " SELECT count(*) FROM events WHERE instr(payload, '86428642')",
                       -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW)
        assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT length(pin_salt), length(pin_hash), pin_iter FROM members", -1, &st,
                       NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 16);
    assert_int_equal(sqlite3_column_int(st, 1), 32);
    assert_int_equal(sqlite3_column_int(st, 2), QK_PBKDF2_ITERATIONS);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(p);
}

static void five_wrong_pins_lock_for_five_minutes(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_add(f->e, "1003", "赵", "", "1357"), QK_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(qk_member_login(f->e, "1003", "9999", NULL), QK_EAUTH);
    int64_t left = 0;
    assert_int_equal(qk_member_login(f->e, "1003", "9999", &left), QK_ELOCKED);
    assert_int_equal(left, 5 * 60 * 1000);
    /* Locked: even the right PIN is refused, and says how long is left. */
    f->clock.now_ms += 60 * 1000;
    assert_int_equal(qk_member_login(f->e, "1003", "1357", &left), QK_ELOCKED);
    assert_int_equal(left, 4 * 60 * 1000);
    assert_non_null(strstr(qk_engine_errmsg(f->e), "try again in 4 min 0 s"));
    /* After five minutes the right PIN works again. */
    f->clock.now_ms += 4 * 60 * 1000;
    assert_int_equal(qk_member_login(f->e, "1003", "1357", NULL), QK_OK);
    qk_member *m = NULL;
    assert_int_equal(qk_member_get(f->e, "1003", &m), QK_OK);
    assert_int_equal(m->failed, 0);
    assert_int_equal(m->locked_until_ms, 0);
    qk_member_free(m);
}

static void a_right_pin_resets_the_count(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_add(f->e, "1004", "钱", "", "2222"), QK_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(qk_member_login(f->e, "1004", "0000", NULL), QK_EAUTH);
    assert_int_equal(qk_member_login(f->e, "1004", "2222", NULL), QK_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(qk_member_login(f->e, "1004", "0000", NULL), QK_EAUTH);
}

static void new_pin_replaces_old_and_unlocks(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_add(f->e, "1005", "孙", "", "1111"), QK_OK);
    for (int i = 0; i < 5; i++)
        qk_member_login(f->e, "1005", "0000", NULL);
    assert_int_equal(qk_member_login(f->e, "1005", "1111", NULL), QK_ELOCKED);
    assert_int_equal(qk_member_set_pin(f->e, "1005", "5555"), QK_OK);
    assert_int_equal(qk_member_login(f->e, "1005", "5555", NULL), QK_OK);
    assert_int_equal(qk_member_login(f->e, "1005", "1111", NULL), QK_EAUTH);
    assert_int_equal(qk_member_set_pin(f->e, "nobody", "5555"), QK_ENOTFOUND);
}

static void bad_fields_are_refused_with_reasons(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_add(f->e, "a b", "名", "", "1234"), QK_EINVAL);
    assert_non_null(strstr(qk_engine_errmsg(f->e), "member id a b is invalid"));
    assert_int_equal(qk_member_add(f->e, "ok", "", "", "1234"), QK_EINVAL);
    assert_int_equal(qk_member_add(f->e, "ok", "名", "", "12"), QK_EINVAL);
    assert_non_null(strstr(qk_engine_errmsg(f->e), "4 to 12 digits"));
    assert_int_equal(qk_member_add(f->e, "ok", "名", "", "12ab"), QK_EINVAL);
    assert_int_equal(qk_member_add(f->e, "ok", "名", "", "1234"), QK_OK);
    assert_int_equal(qk_member_add(f->e, "ok", "别名", "", "1234"), QK_EEXISTS);
    qk_member **v = NULL;
    size_t n = 0;
    assert_int_equal(qk_member_list(f->e, &v, &n), QK_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0]->name, "名");
    qk_member_list_free(v, n);
}

/* Makes the progress file refuse events of one kind, as a full disk or a
 * crash between two writes would, from a second connection. */
static void refuse_events(fx *f, const char *kind)
{
    char *p = qkt_path(f->dir, "progress.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.kind = '%s'"
             " BEGIN SELECT RAISE(ABORT, 'disk full'); END",
             kind);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(p);
}

/* Issue 14, item 3: a roster change and the event that tells the server
 * about it land together or not at all, or the server never hears of a
 * member the kiosk has. */
static void a_member_is_added_with_its_event_or_not_at_all(void **state)
{
    fx *f = *state;
    refuse_events(f, "member.added");
    assert_int_not_equal(qk_member_add(f->e, "1003", "赵药师", "", "1357"), QK_OK);
    qk_member *m = NULL;
    assert_int_equal(qk_member_get(f->e, "1003", &m), QK_ENOTFOUND);
    qk_member_free(m);
    int64_t n = -1;
    assert_int_equal(qk_engine_event_count(f->e, &n), QK_OK);
    assert_int_equal(n, 0);
}

static void a_new_pin_lands_with_its_event_or_not_at_all(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_add(f->e, "1004", "钱护士", "", "2468"), QK_OK);
    refuse_events(f, "member.pin_changed");
    assert_int_not_equal(qk_member_set_pin(f->e, "1004", "9753"), QK_OK);
    assert_int_equal(qk_member_login(f->e, "1004", "2468", NULL), QK_OK); /* the old PIN holds */
    assert_int_equal(qk_member_login(f->e, "1004", "9753", NULL), QK_EAUTH);
}

/* Issue 15, item 5: member ids compare without regard to case everywhere. A
 * member added as "A12" signs in as "a12" (a terminal) or "A12" (the kiosk's
 * keypad); "a12" cannot be added beside it; a wrong PIN typed under either
 * spelling counts against the one member, and the events name the member as
 * added. */
static void ids_compare_without_case_and_keep_their_spelling(void **state)
{
    fx *f = *state;
    assert_int_equal(qk_member_add(f->e, "A12", "周医生", "", "2468"), QK_OK);
    assert_int_equal(qk_member_login(f->e, "A12", "2468", NULL), QK_OK);
    assert_int_equal(qk_member_login(f->e, "a12", "2468", NULL), QK_OK);
    assert_int_equal(qk_member_add(f->e, "a12", "另一人", "", "1357"), QK_EEXISTS);
    qk_member *m = NULL;
    assert_int_equal(qk_member_get(f->e, "a12", &m), QK_OK);
    assert_string_equal(m->id, "A12");
    assert_string_equal(m->name, "周医生");
    qk_member_free(m);
    int64_t left = 0;
    assert_int_equal(qk_member_login(f->e, "a12", "0000", &left), QK_EAUTH);
    assert_int_equal(qk_member_login(f->e, "A12", "0000", &left), QK_EAUTH);
    assert_int_equal(left, 3); /* one count for the one member */
    for (int i = 0; i < 3; i++)
        qk_member_login(f->e, "a12", "0000", NULL);
    assert_int_equal(qk_member_set_pin(f->e, "a12", "9753"), QK_OK);
    assert_int_equal(qk_member_login(f->e, "A12", "9753", NULL), QK_OK);
    qk_member **v = NULL;
    size_t n = 0;
    assert_int_equal(qk_member_list(f->e, &v, &n), QK_OK);
    assert_int_equal(n, 1);
    qk_member_list_free(v, n);
    char *p = qkt_path(f->dir, "progress.db");
    sqlite3 *db = NULL;
    sqlite3_open(p, &db);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT group_concat(DISTINCT member_id) FROM events", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "A12");
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(right_pin_logs_in_wrong_pin_does_not, setup, teardown),
        cmocka_unit_test_setup_teardown(a_phone_keeps_only_its_member, setup, teardown),
        cmocka_unit_test_setup_teardown(pin_is_never_stored_in_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(pin_hashes_are_those_of_another_implementation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(five_wrong_pins_lock_for_five_minutes, setup, teardown),
        cmocka_unit_test_setup_teardown(a_right_pin_resets_the_count, setup, teardown),
        cmocka_unit_test_setup_teardown(new_pin_replaces_old_and_unlocks, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_fields_are_refused_with_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(a_member_is_added_with_its_event_or_not_at_all, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_new_pin_lands_with_its_event_or_not_at_all, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ids_compare_without_case_and_keep_their_spelling, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
