/* Tests for the server's store and its administration (sync/src/admin.c,
 * store.c, store_sqlite.c): real SQLite files, real PBKDF2, real keys. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../../engine/src/bundle_format.h"
#include "../../sync/src/store.h"
#include "../../sync/src/sync_msg.h"
#include "../../sync/src/writer.h"
#include "qk_server.h"
#include "support.h"

typedef struct fx {
    char *dir, *path;
    char spec[4200];
    qk_store *s;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    x->dir = qkt_tmpdir();
    char *spec = qkt_store_spec(x->dir);
    snprintf(x->spec, sizeof x->spec, "%s", spec);
    free(spec);
    /* the store's file, when it is one (tests of the SQLite file itself) */
    x->path = strdup(strncmp(x->spec, "sqlite:", 7) == 0 ? x->spec + 7 : "");
    assert_int_equal(qk_store_open(&x->s, x->spec, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_admin_branch_add(x->s, "b1", "第一党支部"), QK_OK);
    assert_int_equal(qk_admin_branch_add(x->s, "b2", "第二党支部"), QK_OK);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    qk_store_close(x->s);
    qkt_rmrf(x->dir);
    free(x->dir);
    free(x->path);
    free(x);
    return 0;
}

static void sql(fx *x, const char *q)
{
    qkt_store_exec(x->spec, q);
}

static int64_t sql_int(fx *x, const char *q)
{
    return qkt_store_int(x->spec, q);
}

static qk_key *new_key(void)
{
    qk_key *k = NULL;
    assert_int_equal(qk_key_generate(&k), QK_OK);
    return k;
}

static void enrol_ok(fx *x, const char *device, const qk_key *key, char token[65])
{
    char code[QK_CODE_LEN + 1], branch[QK_NAME_MAX + 1];
    int64_t exp;
    assert_int_equal(qk_admin_code_new(x->s, "b1", "li", 3600000, QK_CODE_SHARED, code, &exp), QK_OK);
    assert_int_equal(qkt_enrol(x->s, code, device, "kiosk", key, token, branch), QK_OK);
    assert_string_equal(branch, "b1");
}

static const char dev1[] = "01930000-0000-7000-8000-0000000000d1";

/* A store made by the file-transport version (no user_version) is migrated
 * and keeps its events. */
static void test_migrates_old_store(void **state)
{
    fx *x = *state;
    char *old = qkt_path(x->dir, "old.db"), spec[4200];
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE events(id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq INTEGER"
                     " NOT NULL, member_id TEXT, bundle_id TEXT, bundle_version TEXT, kind TEXT NOT"
                     " NULL, attempt_id TEXT, payload TEXT NOT NULL, created_ms INTEGER NOT NULL,"
                     " received_ms INTEGER NOT NULL, UNIQUE(device_id, seq));"
                     "CREATE TABLE devices(id TEXT PRIMARY KEY, public_key TEXT NOT NULL, acked_seq"
                     " INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);"
                     "INSERT INTO events VALUES('e1','d1',1,NULL,NULL,NULL,'answer',NULL,'{}',1,1);"
                     "INSERT INTO devices VALUES('d1','pem',1,1);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    snprintf(spec, sizeof spec, "sqlite:%s", old);
    qk_store *s = NULL;
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    int64_t n = 0;
    assert_int_equal(qk_store_event_count(s, &n), QK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(qk_admin_branch_add(s, "b9", "新支部"), QK_OK);
    qk_store_close(s);
    /* Opening again runs nothing twice. */
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    qk_store_close(s);
    free(old);
}

/* A bundle signed by a trusted key but written by another tool, whose
 * version is a path ("../../x"): the fixture rewritten and signed again. */
static void forge_version(const char *path, const qk_key *key, const char *version)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE manifest SET value = ? WHERE key = 'version'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, version, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM signature", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE manifest SET value = ? WHERE key = 'publisher_key_id'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, qk_key_id(key), -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    /* the digests again, as the writer makes them */
    qk__digests d;
    const char *why = NULL;
    assert_int_equal(qk__bundle_digests(db, &d, &why), QK_OK);
    for (int s = 0; s <= QK__SEC_COUNT; s++) {
        char name[40];
        if (s < QK__SEC_COUNT)
            snprintf(name, sizeof name, "digest.%s", qk__section_names[s]);
        else
            snprintf(name, sizeof name, "content_digest");
        assert_int_equal(sqlite3_prepare_v2(db, "UPDATE manifest SET value = ? WHERE key = ?", -1,
                                            &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, s < QK__SEC_COUNT ? d.section[s] : d.total, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
    }
    unsigned char hash[32], sig[QK_KEY_SIG_MAX];
    size_t sl = 0;
    assert_int_equal(qk__manifest_hash(db, hash, &why), QK_OK);
    assert_int_equal(qk_key_sign(key, hash, sig, &sl), QK_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO signature(key_id, algorithm, value)"
                                            " VALUES (?, '" QK__SIG_ALG "', ?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, qk_key_id(key), -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, sig, (int)sl, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Issue 14, item 7: a version reached open() as a path on the server. */
static void test_published_versions_cannot_name_a_path(void **state)
{
    fx *x = *state;
    qk_key *key = NULL;
    assert_int_equal(qk_key_generate(&key), QK_OK);
    char *trust = qkt_path(x->dir, "trust"), *bundles = qkt_path(x->dir, "srv/bundles");
    char *pub = qkt_path(trust, "k.pub"), *file = qkt_path(x->dir, "f.qkb");
    char *srv = qkt_path(x->dir, "srv");
    assert_int_equal(mkdir(trust, 0700), 0);
    assert_int_equal(mkdir(srv, 0700), 0);
    char msg[256];
    assert_int_equal(qk_key_write(key, NULL, pub, QK_LANG_EN, msg, sizeof msg), QK_OK);
    qkt_build_fixture(file);
    forge_version(file, key, "../../x");
    qk_bundle *b = NULL; /* it is a well-signed bundle... */
    assert_int_equal(qk_bundle_open(&b, file, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_bundle_check_signature(b, (qk_key *[]){key}, 1), QK_OK);
    qk_bundle_close(b);
    qk_published p;
    assert_int_equal(qk_admin_bundle_publish(x->s, file, trust, "li", &p), QK_EINVAL);
    assert_non_null(strstr(qk_store_errmsg(x->s), "../../x"));
    char *escaped = qkt_path(x->dir, "x.qkb"), *escaped2 = qkt_path(x->dir, "srv/x.qkb");
    assert_int_equal(access(escaped, F_OK), -1); /* ...written nowhere */
    assert_int_equal(access(escaped2, F_OK), -1);
    assert_int_equal(sql_int(x, "SELECT count(*) FROM bundles"), 0);
    qk_key_free(key);
    free(trust), free(bundles), free(pub), free(file), free(srv), free(escaped), free(escaped2);
}

/* The store holds password hashes, the roster's PINs and every answer. */
static void test_store_file_is_readable_by_its_owner_only(void **state)
{
    fx *x = *state;
    char *p = qkt_path(x->dir, "other.db"), spec[4200];
    snprintf(spec, sizeof spec, "sqlite:%s", p);
    mode_t old = umask(022);
    qk_store *s = NULL;
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    umask(old);
    qk_store_close(s);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    free(p);
}

static void test_codes_single_use_and_expiry(void **state)
{
    fx *x = *state;
    char code[QK_CODE_LEN + 1], branch[QK_NAME_MAX + 1], token[65];
    int64_t exp;
    qk_key *key = new_key();
    assert_int_equal(qk_admin_code_new(x->s, "b1", "li", 3600000, QK_CODE_SHARED, code, &exp), QK_OK);
    assert_int_equal(strlen(code), 9);
    assert_int_equal(code[4], '-');
    /* Typed by hand: lower case and no dash still work. */
    char typed[16];
    snprintf(typed, sizeof typed, "%.4s %.4s", code, code + 5);
    for (char *p = typed; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    assert_int_equal(qkt_enrol(x->s, typed, dev1, "kiosk", key, token, branch), QK_OK);
    assert_int_equal(qkt_enrol(x->s, code, "01930000-0000-7000-8000-0000000000d2", "k2", key, token,
                               branch),
                     QK_ESTATE);
    assert_string_equal(qk_store_errmsg(x->s), "the enrolment code has been used");
    assert_int_equal(qkt_enrol(x->s, "ZZZZ-ZZZZ", dev1, "k", key, token, branch), QK_ENOTFOUND);
    assert_int_equal(qk_admin_code_new(x->s, "b1", "li", 3600000, QK_CODE_SHARED, code, &exp), QK_OK);
    sql(x, "UPDATE enrol_codes SET expires_ms = 1 WHERE used_ms IS NULL");
    assert_int_equal(qkt_enrol(x->s, code, dev1, "k", key, token, branch), QK_ETIMEOUT);
    /* A code made before codes had kinds enrols either kind. */
    assert_int_equal(qk_admin_code_new(x->s, "b1", "li", 3600000, QK_CODE_PHONE, code, &exp), QK_OK);
    assert_int_equal(qkt_enrol(x->s, code, "01930000-0000-7000-8000-0000000000d3", "k3", key, token,
                               branch),
                     QK_EPERM);
    sql(x, "UPDATE enrol_codes SET kind = NULL WHERE used_ms IS NULL");
    assert_int_equal(qkt_enrol(x->s, code, "01930000-0000-7000-8000-0000000000d3", "k3", key, token,
                               branch),
                     QK_OK);
    assert_int_equal(qk_admin_code_new(x->s, "b1", "li", 3600000, 7, code, &exp), QK_EINVAL);
    /* A code for a branch that does not exist is refused when made. */
    assert_int_equal(qk_admin_code_new(x->s, "nope", "li", 3600000, QK_CODE_SHARED, code, &exp), QK_ENOTFOUND);
    qk_key_free(key);
}

static void test_tokens_hashed_and_revocable(void **state)
{
    fx *x = *state;
    char token[65], hash[65], q[300];
    qk_key *key = new_key();
    enrol_ok(x, dev1, key, token);
    snprintf(q, sizeof q, "SELECT count(*) FROM devices WHERE token_hash = '%s'", token);
    assert_int_equal(sql_int(x, q), 0); /* never the token itself */
    qk_sha256_hex(hash, token, strlen(token));
    qk_device_rec d;
    assert_int_equal(x->s->ops->device_auth(x->s, hash, &d), QK_OK);
    assert_string_equal(d.id, dev1);
    assert_string_equal(d.branch, "b1");
    /* Enrolling the same device again with another key is refused. */
    qk_key *other = new_key();
    char code[QK_CODE_LEN + 1], branch[QK_NAME_MAX + 1], t2[65];
    int64_t exp;
    assert_int_equal(qk_admin_code_new(x->s, "b1", "li", 3600000, QK_CODE_SHARED, code, &exp), QK_OK);
    assert_int_equal(qkt_enrol(x->s, code, dev1, "k", other, t2, branch), QK_EEXISTS);
    assert_int_equal(qk_admin_device_revoke(x->s, dev1), QK_OK);
    assert_int_equal(x->s->ops->device_auth(x->s, hash, &d), QK_ENOTFOUND);
    assert_int_equal(qk_admin_device_revoke(x->s, "01930000-0000-7000-8000-0000000000ff"),
                     QK_ENOTFOUND);
    qk_key_free(key);
    qk_key_free(other);
}

static void test_accounts_and_login(void **state)
{
    fx *x = *state;
    qk_user u;
    assert_int_equal(qk_admin_user_add(x->s, "li", "leader", "b1", "leader-pass"), QK_OK);
    assert_int_equal(qk_admin_user_add(x->s, "li", "leader", "b1", "leader-pass"), QK_EEXISTS);
    assert_int_equal(qk_admin_user_add(x->s, "wang", "leader", "b7", "leader-pass"), QK_ENOTFOUND);
    assert_int_equal(qk_admin_user_add(x->s, "zhao", "leader", NULL, "leader-pass"), QK_EINVAL);
    assert_int_equal(qk_admin_user_add(x->s, "zhao", "admin", NULL, "short"), QK_EINVAL);
    assert_true(qk_admin_login(x->s, "li", "leader-pass", &u));
    assert_string_equal(u.role, "leader");
    assert_string_equal(u.branch, "b1");
    assert_false(qk_admin_login(x->s, "li", "leader-pasS", &u));
    assert_false(qk_admin_login(x->s, "nobody", "leader-pass", &u));
    /* The first admin is made once. */
    char pw[32];
    assert_int_equal(qk_admin_init(x->s, "admin", pw, sizeof pw), QK_EEXISTS);
}

static void test_first_admin(void **state)
{
    fx *x = *state;
    char pw[32];
    assert_int_equal(qk_admin_init(x->s, "admin", pw, sizeof pw), QK_OK);
    assert_int_equal(strlen(pw), 29); /* 24 hex digits in groups of four */
    qk_user u;
    assert_true(qk_admin_login(x->s, "admin", pw, &u));
    assert_string_equal(u.role, "admin");
    assert_int_equal(sql_int(x, "SELECT count(*) FROM users WHERE pw_hash LIKE 'pbkdf2-sha256$%'"), 1);
}

static void test_roster_cursor_and_pin_events(void **state)
{
    fx *x = *state;
    const char *csv = "\xef\xbb\xbf编号,姓名,支部,科室,PIN\r\nm1,张三,b1,内科,1234\r\n"
                      "m2,\"李,四\",b1,护理部,5678\r\nm3,王五,,药房,1111\r\nm9,赵六,b2,,2222\r\n";
    size_t added = 0;
    assert_int_equal(qk_admin_roster_import(x->s, csv, strlen(csv), "r.csv", "b1", NULL, &added), QK_OK);
    assert_int_equal(added, 4);
    json_t *page = NULL;
    int64_t cursor = 0;
    assert_int_equal(x->s->ops->roster(x->s, "b1", NULL, 0, 2, &page, &cursor), QK_OK);
    assert_int_equal(json_array_size(page), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(page, 1), "name")), "李,四");
    json_decref(page);
    int64_t c2 = 0;
    assert_int_equal(x->s->ops->roster(x->s, "b1", NULL, cursor, 2, &page, &c2), QK_OK);
    assert_int_equal(json_array_size(page), 1); /* m3; m9 is b2's */
    assert_string_equal(json_string_value(json_object_get(json_array_get(page, 0), "id")), "m3");
    json_decref(page);
    /* A PIN changed on a kiosk of b1 moves m1 past the cursor. */
    json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s, s:i}}", "kind", "member.pin_changed", "member_id",
                           "m1", "payload", "pin_salt", "00112233445566778899aabbccddeeff",
                           "pin_hash", "aa00000000000000000000000000000000000000000000000000000000000000",
                           "pin_iter", 60000);
    assert_int_equal(x->s->ops->member_event(x->s, "b1", ev), QK_OK);
    /* ... but a kiosk of b2 cannot change b1's members. */
    json_object_set_new(json_object_get(ev, "payload"), "pin_hash",
                        json_string("bb00000000000000000000000000000000000000000000000000000000000000"));
    assert_int_equal(x->s->ops->member_event(x->s, "b2", ev), QK_OK);
    json_decref(ev);
    int64_t c3 = 0;
    assert_int_equal(x->s->ops->roster(x->s, "b1", NULL, c2, 10, &page, &c3), QK_OK);
    assert_int_equal(json_array_size(page), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(page, 0), "pin_hash")),
                        "aa00000000000000000000000000000000000000000000000000000000000000");
    json_decref(page);
}

/* Issue 14, item 4: a leader of b1 writing a member id that b2 holds
 * overwrote b2's member (branch, name and PIN) and could then read their
 * history and sign in as them on b1's kiosks. Writes are scoped like reads. */
static void test_leaders_write_only_their_branch(void **state)
{
    fx *x = *state;
    qk_roster_member m = {0};
    snprintf(m.id, sizeof m.id, "m9");
    snprintf(m.name, sizeof m.name, "周九");
    snprintf(m.branch, sizeof m.branch, "b2");
    assert_int_equal(qk_admin_member_add(x->s, &m, "9999"), QK_OK); /* b2's member */
    int64_t before = sql_int(x, "SELECT roster_seq FROM members WHERE id = 'm9'");
    snprintf(m.name, sizeof m.name, "冒名");
    snprintf(m.branch, sizeof m.branch, "b1");
    assert_int_equal(qk_admin_member_put(x->s, &m, "1111", "b1"), QK_EPERM);
    assert_non_null(strstr(qk_store_errmsg(x->s), "m9"));
    assert_int_equal(sql_int(x, "SELECT count(*) FROM members WHERE id = 'm9' AND branch_id = 'b2'"
                                " AND name = '周九'"), 1);
    assert_int_equal(sql_int(x, "SELECT roster_seq FROM members WHERE id = 'm9'"), before);
    /* the same by a roster file of b1 */
    const char *csv = "id,name,PIN\nm8,新人,2222\nm9,冒名,1111\n";
    size_t added = 9;
    assert_int_equal(qk_admin_roster_import(x->s, csv, strlen(csv), "r.csv", "b1", "b1", &added),
                     QK_EPERM);
    assert_int_equal(added, 0);
    assert_non_null(strstr(qk_store_errmsg(x->s), "r.csv:3"));
    assert_int_equal(sql_int(x, "SELECT count(*) FROM members WHERE id = 'm8'"), 0);
    assert_int_equal(sql_int(x, "SELECT count(*) FROM members WHERE id = 'm9' AND branch_id = 'b2'"), 1);
    /* a leader still updates their own member, and an admin may move one */
    snprintf(m.id, sizeof m.id, "m7");
    assert_int_equal(qk_admin_member_put(x->s, &m, "1111", "b1"), QK_OK);
    assert_int_equal(qk_admin_member_put(x->s, &m, "2222", "b1"), QK_OK);
    snprintf(m.id, sizeof m.id, "m9");
    assert_int_equal(qk_admin_member_put(x->s, &m, "1111", NULL), QK_OK);
    assert_int_equal(sql_int(x, "SELECT count(*) FROM members WHERE id = 'm9' AND branch_id = 'b1'"), 1);
}

static void test_roster_all_or_nothing(void **state)
{
    fx *x = *state;
    const char *csv = "id,name,PIN\nm1,Zhang,1234\nm2,,5678\nm3,Wang,1111\n";
    size_t added = 9;
    assert_int_equal(qk_admin_roster_import(x->s, csv, strlen(csv), "r.csv", "b1", NULL, &added),
                     QK_EINVAL);
    assert_int_equal(added, 0);
    assert_non_null(strstr(qk_store_errmsg(x->s), "r.csv:3: "));
    assert_int_equal(sql_int(x, "SELECT count(*) FROM members"), 0);
    /* A leader's import cannot reach another branch. */
    const char *other = "id,name,branch,PIN\nm1,Zhang,b2,1234\n";
    assert_int_equal(qk_admin_roster_import(x->s, other, strlen(other), "r.csv", "b1", "b1", &added),
                     QK_EPERM);
    const char *nocols = "foo,bar\n1,2\n";
    assert_int_equal(qk_admin_roster_import(x->s, nocols, strlen(nocols), "r.csv", "b1", NULL, &added),
                     QK_EINVAL);
    assert_non_null(strstr(qk_store_errmsg(x->s), "r.csv:1: "));
}

static void test_throttle_window(void **state)
{
    fx *x = *state;
    int n = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(x->s->ops->throttle(x->s, "login:addr:1.2.3.4", 1000000 + i, 60000, 1, &n), QK_OK);
    assert_int_equal(n, 3);
    assert_int_equal(x->s->ops->throttle(x->s, "login:addr:1.2.3.4", 1050000, 60000, 0, &n), QK_OK);
    assert_int_equal(n, 3);
    /* A new window starts over. */
    assert_int_equal(x->s->ops->throttle(x->s, "login:addr:1.2.3.4", 1070000, 60000, 0, &n), QK_OK);
    assert_int_equal(n, 0);
    assert_int_equal(x->s->ops->throttle(x->s, "login:addr:1.2.3.4", 1070000, 60000, 1, &n), QK_OK);
    assert_int_equal(n, 1);
}

static json_t *event(int seq, const char *id)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:I, s:{s:s}}", "id", id, "device_id", dev1, "seq", seq,
                     "kind", "answer", "created_ms", (json_int_t)1764460800000 + seq, "payload", "q",
                     "q1");
}

/* Issue 14, item 5: any valid code plus a device's id and public key (both
 * in every USB file's header) moved the device to the attacker's branch and
 * locked the real one out. Enrolling proves possession of the device's key. */
static void test_enrolment_proves_the_device_key(void **state)
{
    fx *x = *state;
    char token[65], t2[65], branch[QK_NAME_MAX + 1], code[QK_CODE_LEN + 1], hash[65];
    int64_t exp;
    qk_key *key = new_key(), *attacker = new_key();
    enrol_ok(x, dev1, key, token); /* the real device, in b1 */
    char *pem = NULL;
    assert_int_equal(qk_key_public_pem(key, &pem), QK_OK);
    assert_int_equal(qk_admin_code_new(x->s, "b2", "mallory", 3600000, QK_CODE_SHARED, code, &exp), QK_OK);
    /* no proof */
    assert_int_equal(qk_enrol(x->s, code, dev1, "x", pem, NULL, t2, branch), QK_ESIGNATURE);
    assert_non_null(strstr(qk_store_errmsg(x->s), dev1));
    /* a proof made with another key, for the real device's public key */
    unsigned char digest[32], sig[QK_KEY_SIG_MAX];
    size_t sl = 0;
    char proof[2 * QK_KEY_SIG_MAX + 1];
    qk__enrol_digest(digest, code, dev1, pem);
    assert_int_equal(qk_key_sign(attacker, digest, sig, &sl), QK_OK);
    qk__hex(proof, sig, sl);
    assert_int_equal(qk_enrol(x->s, code, dev1, "x", pem, proof, t2, branch), QK_ESIGNATURE);
    /* a proof the real device once made for another code does not carry over */
    char code2[QK_CODE_LEN + 1];
    assert_int_equal(qk_admin_code_new(x->s, "b2", "mallory", 3600000, QK_CODE_SHARED, code2, &exp), QK_OK);
    qk__enrol_digest(digest, code, dev1, pem);
    assert_int_equal(qk_key_sign(key, digest, sig, &sl), QK_OK);
    qk__hex(proof, sig, sl);
    assert_int_equal(qk_enrol(x->s, code2, dev1, "x", pem, proof, t2, branch), QK_ESIGNATURE);
    /* the codes were not used up, the device is still b1's and its token works */
    assert_int_equal(sql_int(x, "SELECT count(*) FROM enrol_codes WHERE used_ms IS NULL AND branch_id = 'b2'"), 2);
    qk_sha256_hex(hash, token, strlen(token));
    qk_device_rec d;
    assert_int_equal(x->s->ops->device_auth(x->s, hash, &d), QK_OK);
    assert_string_equal(d.branch, "b1");
    /* the real device itself may move with a code of b2 */
    assert_int_equal(qkt_enrol(x->s, code2, dev1, "moved", key, t2, branch), QK_OK);
    assert_string_equal(branch, "b2");
    free(pem);
    qk_key_free(key);
    qk_key_free(attacker);
}

static void test_ingest_ack_and_gaps(void **state)
{
    fx *x = *state;
    char token[65];
    qk_key *key = new_key();
    enrol_ok(x, dev1, key, token);
    json_t *evs = json_array();
    json_array_append_new(evs, event(1, "01930000-0000-7000-8000-000000000001"));
    json_array_append_new(evs, event(2, "01930000-0000-7000-8000-000000000002"));
    json_array_append_new(evs, event(4, "01930000-0000-7000-8000-000000000004"));
    qk_import_result r;
    json_t *conflicts = json_array();
    assert_int_equal(qk__store_ingest(x->s, dev1, NULL, evs, &r, conflicts), QK_OK);
    assert_int_equal(r.inserted, 3);
    assert_int_equal(r.acked_seq, 2);
    assert_int_equal(r.n_gaps, 1);
    assert_int_equal(r.gaps[0][0], 3);
    assert_int_equal(r.gaps[0][1], 3);
    /* The whole batch again: all duplicates, nothing changes. */
    assert_int_equal(qk__store_ingest(x->s, dev1, NULL, evs, &r, conflicts), QK_OK);
    assert_int_equal(r.inserted, 0);
    assert_int_equal(r.duplicates, 3);
    assert_int_equal(json_array_size(conflicts), 0);
    json_decref(evs);
    /* The missing one arrives, plus a conflicting copy of seq 1. */
    evs = json_array();
    json_array_append_new(evs, event(3, "01930000-0000-7000-8000-000000000003"));
    json_t *bad = event(1, "01930000-0000-7000-8000-000000000001");
    json_object_set_new(json_object_get(bad, "payload"), "q", json_string("q2"));
    json_array_append_new(evs, bad);
    assert_int_equal(qk__store_ingest(x->s, dev1, NULL, evs, &r, conflicts), QK_OK);
    assert_int_equal(r.inserted, 1);
    assert_int_equal(r.conflicts, 1);
    assert_string_equal(json_string_value(json_array_get(conflicts, 0)),
                        "01930000-0000-7000-8000-000000000001");
    assert_int_equal(r.acked_seq, 4);
    assert_int_equal(r.n_gaps, 0);
    assert_int_equal(sql_int(x, "SELECT payload = '{\"q\":\"q1\"}' FROM events WHERE seq = 1"), 1);
    json_decref(evs);
    json_decref(conflicts);
    qk_key_free(key);
}

/* The judge writes a member's points by day as its replay found them:
 * days gone from the replay (rules changed) go, changed days change, new
 * days come, the rest stay, untouched (a member's history grows a row a
 * day of study: rewriting it all slowed every batch the longer they had
 * studied). */
static void test_points_by_day_follow_the_replay(void **state)
{
    fx *x = *state;
    static const qk_points_day first[] = {{20500, 5}, {20501, 3}, {20503, 7}};
    static const qk_points_day then[] = {{20504, 1}, {20501, 4}, {20503, 7}, {20499, 2}}; /* any order */
    assert_int_equal(x->s->ops->points_put(x->s, "m1", first, 3, 15, "b", "1"), QK_OK);
    assert_int_equal(x->s->ops->points_put(x->s, "m2", first, 1, 5, "b", "1"), QK_OK);
    /* rows written from here on, counted by triggers: only the four days
     * that differ (one kept as it was), not the member's whole history */
    if (qkt_store_is_pg())
        sql(x, "CREATE TABLE writes(n integer); INSERT INTO writes VALUES (0);"
               " CREATE FUNCTION count_write() RETURNS trigger LANGUAGE plpgsql AS"
               " $$ BEGIN UPDATE writes SET n = n + 1; RETURN NULL; END $$;"
               " CREATE TRIGGER w AFTER INSERT OR UPDATE OR DELETE ON member_points"
               " FOR EACH ROW EXECUTE FUNCTION count_write();");
    else
        sql(x, "CREATE TABLE writes(n INTEGER); INSERT INTO writes VALUES (0);"
               " CREATE TRIGGER wi AFTER INSERT ON member_points BEGIN UPDATE writes SET n = n + 1; END;"
               " CREATE TRIGGER wu AFTER UPDATE ON member_points BEGIN UPDATE writes SET n = n + 1; END;"
               " CREATE TRIGGER wd AFTER DELETE ON member_points BEGIN UPDATE writes SET n = n + 1; END;");
    assert_int_equal(x->s->ops->points_put(x->s, "m1", then, 4, 14, "b", "2"), QK_OK);
    assert_int_equal(sql_int(x, "SELECT n FROM writes"), 4);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *snap = qkt_store_snapshot(x->spec, x->dir);
    assert_int_equal(sqlite3_open(snap, &db), SQLITE_OK);
    free(snap);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(member_id || ':' || day || '=' || points, ' ')"
                                        " FROM (SELECT * FROM member_points ORDER BY member_id, day)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0),
                        "m1:20499=2 m1:20501=4 m1:20503=7 m1:20504=1 m2:20500=5");
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(sql_int(x, "SELECT server_total FROM points_judged WHERE member_id = 'm1'"), 14);
    /* none at all: every day goes */
    assert_int_equal(x->s->ops->points_put(x->s, "m1", NULL, 0, 0, "b", "2"), QK_OK);
    assert_int_equal(sql_int(x, "SELECT count(*) FROM member_points WHERE member_id = 'm1'"), 0);
    assert_int_equal(sql_int(x, "SELECT count(*) FROM member_points WHERE member_id = 'm2'"), 1);
}

/* A leader's first look at members on a store whose roll-ups were built
 * for May only: their branch's last days come from each member's own
 * events, not from taking in every older one (March stays out), and are
 * what a build of every event gives. m1 began a quiz at 23:59 on 5 March
 * (Beijing) and answered after midnight: last active 5 March. Another
 * branch's member is no business of this query and is not noted. */
static void test_members_last_days_on_a_lazy_build(void **state)
{
    fx *x = *state;
    static const char *const who[][2] = {{"m1", "b1"}, {"m2", "b1"}, {"m9", "b2"}};
    for (int i = 0; i < 3; i++) {
        qk_roster_member rm = {0};
        snprintf(rm.id, sizeof rm.id, "%s", who[i][0]);
        snprintf(rm.name, sizeof rm.name, "成员%d", i);
        snprintf(rm.branch, sizeof rm.branch, "%s", who[i][1]);
        assert_int_equal(qk_admin_member_add(x->s, &rm, "1234"), QK_OK);
    }
    /* 2026-03-05 23:59 Beijing = 1772726340000 ms; 2026-04-10 12:00 =
     * 1775793600000; 2026-05-03 10:00 = 1777773600000 */
    sql(x, "INSERT INTO events(id, device_id, seq, member_id, kind, attempt_id, payload, created_ms,"
           " received_ms) VALUES"
           " ('e1', 'd1', 1, 'm1', 'attempt.start', 'a1', '{\"mode\":\"practice\"}', 1772726340000, 0),"
           " ('e2', 'd1', 2, 'm1', 'answer', 'a1', '{\"q\":\"s1\",\"correct\":true}', 1772726460000, 0),"
           " ('e3', 'd9', 1, 'm9', 'lesson.finish', NULL, '{}', 1775793600000, 0)");
    /* a span of rowids (2^16) of April's before May's */
    sql(x, "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 66000)"
           " INSERT INTO events(id, device_id, seq, kind, payload, created_ms, received_ms)"
           " SELECT 'f' || n, 'dx', n, 'device.note', '{}', 1775793600000, 0 FROM c");
    sql(x, "INSERT INTO events(id, device_id, seq, member_id, kind, attempt_id, payload, created_ms,"
           " received_ms) VALUES"
           " ('e4', 'd2', 1, 'm2', 'attempt.start', 'a2', '{\"mode\":\"practice\"}', 1777773600000, 0),"
           " ('e5', 'd2', 2, 'm2', 'answer', 'a2', '{\"q\":\"s1\",\"correct\":true}', 1777773660000, 0)");
    qk_stats_query q = {QK_STATS_PARTICIPATION, 0, 0, NULL, 0};
    assert_int_equal(qk_stats_parse_day("2026-05-01", &q.from_day), 0);
    assert_int_equal(qk_stats_parse_day("2026-05-31", &q.to_day), 0);
    json_t *t = NULL;
    char msg[256];
    assert_int_equal(qk_store_stats(x->s, "b1", &q, QK_LANG_EN, &t, msg, sizeof msg), QK_OK);
    json_decref(t);
    int64_t lo = sql_int(x, "SELECT value FROM stat_state WHERE key = 'events_lo'");
    assert_true(lo >= 65535); /* March's and April's below the range */
    char *text[2];
    for (int pass = 0; pass < 2; pass++) {
        q.subject = QK_STATS_MEMBERS;
        assert_int_equal(qk_store_stats(x->s, "b1", &q, QK_LANG_EN, &t, msg, sizeof msg), QK_OK);
        json_t *rows = json_object_get(t, "rows");
        assert_int_equal(json_array_size(rows), 2);
        assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 11)), "2026-03-05");
        assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 1), 11)), "2026-05-03");
        text[pass] = json_dumps(t, JSON_SORT_KEYS);
        json_decref(t);
        if (pass == 0) {
            assert_int_equal(sql_int(x, "SELECT value FROM stat_state WHERE key = 'events_lo'"), lo);
            assert_int_equal(sql_int(x, "SELECT count(*) FROM stat_last WHERE member_id = 'm9'"), 0);
            /* then every event, from a build asked for since 2020 */
            sql(x, "DROP TABLE stat_state");
            q.subject = QK_STATS_PARTICIPATION;
            assert_int_equal(qk_stats_parse_day("2020-01-01", &q.from_day), 0);
            assert_int_equal(qk_store_stats(x->s, NULL, &q, QK_LANG_EN, &t, msg, sizeof msg), QK_OK);
            json_decref(t);
            assert_int_equal(sql_int(x, "SELECT value FROM stat_state WHERE key = 'events_lo'"), 0);
            assert_int_equal(qk_stats_parse_day("2026-05-01", &q.from_day), 0);
        }
    }
    assert_string_equal(text[0], text[1]);
    free(text[0]);
    free(text[1]);
}

static void test_backup_is_consistent(void **state)
{
    fx *x = *state;
    char *dest = qkt_path(x->dir, "backup.db");
    mode_t old = umask(022);
    assert_int_equal(qk_admin_backup(x->s, dest), QK_OK);
    umask(old);
    struct stat sb; /* it holds the server's signing key and every hash */
    assert_int_equal(stat(dest, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(qk_admin_backup(x->s, dest), QK_EEXISTS); /* never overwrites */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(dest, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM branches", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(dest);
}


/* A connection to a store that is up to date opens while another process
 * writes (a long `admin import`, another server): it takes no write lock to
 * open. It waited behind every write, and failed after ten seconds of one. */
static void test_store_opens_while_another_writes(void **state)
{
    fx *x = *state;
    qkt_hold *h = qkt_store_hold_writes(x->spec, "INSERT INTO branches VALUES('b9','九',1)");
    qk_store *s = NULL;
    assert_int_equal(qk_store_open(&s, x->spec, QK_LANG_EN), QK_OK);
    json_t *list = NULL;
    assert_int_equal(qk_admin_branches(s, &list), QK_OK); /* reads what was committed */
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    qk_store_close(s);
    qkt_store_release(h);
}

/* Devices' batches sent at once go through the server's one writer, which
 * may keep several in one transaction: each device still gets the result of
 * its own batch (its events, its acknowledgement), nothing is stored twice,
 * and a resent batch is all duplicates. */
#define W_DEVICES 6
#define W_BATCHES 5
#define W_EVENTS 20
typedef struct wdev {
    qk__writer *w;
    char id[QK_UUID_STRLEN + 1];
    int k, ok, inserted, duplicates;
    int64_t acked;
} wdev;

static json_t *wbatch(const wdev *d, int b)
{
    json_t *evs = json_array();
    for (int e = 0; e < W_EVENTS; e++) {
        int seq = b * W_EVENTS + e + 1;
        char id[QK_UUID_STRLEN + 1];
        snprintf(id, sizeof id, "01930000-0000-7000-8%03d-%012d", d->k, seq);
        json_array_append_new(evs, json_pack("{s:s, s:s, s:i, s:s, s:I, s:{s:i}}", "id", id, "device_id", d->id,
                                             "seq", seq, "kind", "answer", "created_ms",
                                             (json_int_t)1764460800000 + seq, "payload", "n", seq));
    }
    return evs;
}

static void *wpush(void *arg)
{
    wdev *d = arg;
    for (int b = 0; b <= W_BATCHES; b++) { /* the last one again at the end */
        json_t *evs = wbatch(d, b < W_BATCHES ? b : W_BATCHES - 1), *conflicts = json_array();
        qk_import_result r;
        char err[512];
        if (qk__writer_ingest(d->w, d->id, evs, QK_LANG_EN, &r, conflicts, err, sizeof err) == QK_OK) {
            d->ok++;
            d->inserted += (int)r.inserted;
            d->duplicates += (int)r.duplicates;
            d->acked = r.acked_seq;
        }
        json_decref(evs);
        json_decref(conflicts);
    }
    return NULL;
}

static void test_writer_keeps_each_batch_its_own(void **state)
{
    fx *x = *state;
    char msg[512];
    qk_clock clock = {1, 1764460800000LL, 0, 0, 0}; /* 2025-11-30 08:00 Beijing, stopped */
    qk__writer *w = qk__writer_start(x->spec, &clock, 0, msg, sizeof msg);
    assert_non_null(w);
    wdev d[W_DEVICES];
    pthread_t th[W_DEVICES];
    memset(d, 0, sizeof d);
    for (int k = 0; k < W_DEVICES; k++) {
        char token[65];
        qk_key *key = new_key();
        d[k].w = w;
        d[k].k = k;
        snprintf(d[k].id, sizeof d[k].id, "01930000-0000-7000-8000-0000000000%02d", 10 + k);
        enrol_ok(x, d[k].id, key, token);
        qk_key_free(key);
    }
    for (int k = 0; k < W_DEVICES; k++)
        assert_int_equal(pthread_create(&th[k], NULL, wpush, &d[k]), 0);
    for (int k = 0; k < W_DEVICES; k++)
        pthread_join(th[k], NULL);
    qk__writer_stop(w);
    for (int k = 0; k < W_DEVICES; k++) {
        assert_int_equal(d[k].ok, W_BATCHES + 1);
        assert_int_equal(d[k].inserted, W_BATCHES * W_EVENTS);
        assert_int_equal(d[k].duplicates, W_EVENTS);
        assert_int_equal(d[k].acked, W_BATCHES * W_EVENTS);
    }
    assert_int_equal(sql_int(x, "SELECT count(*) FROM events"), W_DEVICES * W_BATCHES * W_EVENTS);
    assert_int_equal(sql_int(x, "SELECT count(*) FROM devices WHERE acked_seq = 100"), W_DEVICES);
}

/* A batch that fails is undone alone, whichever batches share its
 * transaction: here the writer waits on another connection's write lock
 * while three batches queue behind it (taken then as one group), and the
 * middle one holds an event the store cannot write. */
typedef struct wjob {
    qk__writer *w;
    const char *device;
    json_t *events;
    int rc;
} wjob;

static void *wsubmit(void *arg)
{
    wjob *j = arg;
    qk_import_result r;
    json_t *conflicts = json_array();
    char err[512];
    j->rc = qk__writer_ingest(j->w, j->device, j->events, QK_LANG_EN, &r, conflicts, err, sizeof err);
    json_decref(conflicts);
    return NULL;
}

static void test_writer_undoes_a_failing_batch_alone(void **state)
{
    fx *x = *state;
    char msg[512];
    qk_clock clock = {1, 1764460800000LL, 0, 0, 0};
    wdev d[4];
    memset(d, 0, sizeof d);
    for (int k = 0; k < 4; k++) {
        char token[65];
        qk_key *key = new_key();
        d[k].k = k;
        snprintf(d[k].id, sizeof d[k].id, "01930000-0000-7000-8000-0000000000%02d", 20 + k);
        enrol_ok(x, d[k].id, key, token);
        qk_key_free(key);
    }
    qkt_hold *h = qkt_store_hold_writes(x->spec, NULL);
    qk__writer *w = qk__writer_start(x->spec, &clock, 0, msg, sizeof msg);
    assert_non_null(w);
    wjob j[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        j[k] = (wjob){w, d[k].id, wbatch(&d[k], 0), -1};
        if (k == 2) /* no payload: the store cannot write it (the API refuses such an event first) */
            json_object_del(json_array_get(j[k].events, 5), "payload");
        assert_int_equal(pthread_create(&th[k], NULL, wsubmit, &j[k]), 0);
        if (k == 0)
            sched_yield(); /* the first is taken alone and waits for the lock; the rest queue */
    }
    for (int spin = 0; spin < 200; spin++)
        sched_yield();
    qkt_store_release(h);
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        json_decref(j[k].events);
    }
    qk__writer_stop(w);
    assert_int_equal(j[0].rc, QK_OK);
    assert_int_equal(j[1].rc, QK_OK);
    assert_int_not_equal(j[2].rc, QK_OK);
    assert_int_equal(j[3].rc, QK_OK);
    char q[256];
    for (int k = 0; k < 4; k++) {
        snprintf(q, sizeof q, "SELECT count(*) FROM events WHERE device_id = '%s'", d[k].id);
        assert_int_equal(sql_int(x, q), k == 2 ? 0 : W_EVENTS); /* none of the failed one's five before it */
    }
}

/* The upgrade that moved published bundles into the store: each bundle's
 * file is taken in from where its row says, or from the bundles folder
 * beside the database, when its SHA-256 is the one published; a bundle whose
 * file is gone or changed is not served, and can be published again. */
static void test_upgrade_takes_published_files_in(void **state)
{
    fx *x = *state;
    char *up = qkt_path(x->dir, "up"), *beside = qkt_path(up, "bundles");
    char *dbp = qkt_path(up, "server.db"), *file = qkt_path(x->dir, "f.qkb");
    char *copy = qkt_path(beside, "beside-3.qkb"), *changed = qkt_path(x->dir, "changed.qkb");
    assert_int_equal(mkdir(up, 0700), 0);
    assert_int_equal(mkdir(beside, 0700), 0);
    qkt_build_fixture(file);
    size_t len = 0;
    char *bytes = qkt_read(file, &len), sha[65], q[8192], spec[4200];
    qk_sha256_hex(sha, bytes, len);
    FILE *f = fopen(copy, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    f = fopen(changed, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len - 1, f), len - 1);
    fclose(f);
    /* A store as the release before left it: schema 9, bundles as files. */
    snprintf(spec, sizeof spec, "sqlite:%s", dbp);
    qk_store *s = NULL;
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    qk_store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbp, &db), SQLITE_OK);
    snprintf(q, sizeof q,
             "DROP TABLE bundle_chunks; ALTER TABLE devices DROP COLUMN member_id;"
             " ALTER TABLE enrol_codes DROP COLUMN kind;"
             " PRAGMA user_version=9;"
             "INSERT INTO bundles VALUES('test.fixture','1','F','%s','k','%s/gone.qkb',%zu,1,'li');"
             "INSERT INTO bundles VALUES('other','2','O','%s','k','%s',%zu,2,'li');"
             "INSERT INTO bundles VALUES('beside','3','B','%s','k','/moved/away/beside-3.qkb',%zu,3,'li');"
             "INSERT INTO bundles VALUES('changed','4','C','%s','k','%s',%zu,4,'li');",
             sha, x->dir, len, sha, file, len, sha, len, sha, changed, len);
    assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    qk_published p;
    assert_int_equal(s->ops->bundle_get(s, "other", "2", &p), QK_OK);
    assert_int_equal(p.size, (int64_t)len);
    char *got = malloc(len);
    assert_int_equal(s->ops->bundle_read(s, "other", "2", 0, got, len), QK_OK);
    assert_memory_equal(got, bytes, len);
    assert_int_equal(s->ops->bundle_get(s, "beside", "3", &p), QK_OK); /* from the folder beside */
    assert_int_equal(s->ops->bundle_read(s, "beside", "3", 1000, got, len - 1000), QK_OK);
    assert_memory_equal(got, bytes + 1000, len - 1000);
    assert_int_equal(s->ops->bundle_read(s, "beside", "3", 1000, got, len), QK_ECORRUPT); /* past its end */
    assert_int_equal(s->ops->bundle_get(s, "changed", "4", &p), QK_ENOTFOUND);
    assert_int_equal(s->ops->bundle_get(s, "test.fixture", "1", &p), QK_ENOTFOUND);
    json_t *list = NULL;
    assert_int_equal(s->ops->bundle_list(s, &list), QK_OK);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    /* The two not taken in are named with the files they were published as. */
    assert_int_equal(qk_admin_bundles_missing(s, &list), QK_OK);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "changed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "file")), changed);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "id")), "test.fixture");
    json_decref(list);
    /* The gone one published again takes its row over, and judges. */
    assert_int_equal(qkt_publish_fixture(s, x->dir), 0);
    assert_int_equal(s->ops->bundle_get(s, "test.fixture", "1", &p), QK_OK);
    assert_string_not_equal(p.sha256, sha); /* signed this time */
    qk_bundle *b = NULL;
    assert_int_equal(qk__store_bundle_open(s, "test.fixture", "1", &b), QK_OK);
    assert_int_equal(qk_bundle_info_get(b)->n_questions, 5);
    qk_bundle_close(b);
    assert_int_equal(qk_admin_bundles_missing(s, &list), QK_OK);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    /* The changed one's right file, found in the old --bundles folder. */
    char *old_dir = qkt_path(x->dir, "old-bundles"), *right = qkt_path(old_dir, "changed.qkb");
    assert_int_equal(mkdir(old_dir, 0700), 0);
    f = fopen(right, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    size_t taken = 9;
    assert_int_equal(qk_admin_bundles_adopt(s, old_dir, &taken), QK_OK);
    assert_int_equal(taken, 1);
    assert_int_equal(s->ops->bundle_get(s, "changed", "4", &p), QK_OK);
    assert_int_equal(qk_admin_bundles_missing(s, &list), QK_OK);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_int_equal(qk_admin_bundles_adopt(s, old_dir, &taken), QK_OK); /* again: nothing to do */
    assert_int_equal(taken, 0);
    free(old_dir), free(right);
    qk_store_close(s);
    assert_int_equal(sqlite3_open(dbp, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM bundles WHERE file <> ''", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0); /* every one taken in: none names a file */
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(got), free(bytes), free(up), free(beside), free(dbp), free(file), free(copy), free(changed);
}

/* A published bundle is kept whole in the store, however its size falls on
 * the store's pieces, and a file over the limit is refused before anything
 * is written. */
static void test_bundles_are_kept_whole(void **state)
{
    fx *x = *state;
    static const size_t sizes[] = {512, QK_BUNDLE_CHUNK - 1, QK_BUNDLE_CHUNK, QK_BUNDLE_CHUNK + 1,
                                   3 * QK_BUNDLE_CHUNK + 77};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t len = sizes[k];
        unsigned char *data = malloc(len), *back = malloc(len);
        for (size_t i = 0; i < len; i++)
            data[i] = (unsigned char)(i * 31 + k);
        qk_published p;
        memset(&p, 0, sizeof p);
        snprintf(p.id, sizeof p.id, "size.test");
        snprintf(p.version, sizeof p.version, "%zu", k);
        snprintf(p.sha256, sizeof p.sha256, "x");
        p.size = (int64_t)len;
        assert_int_equal(x->s->ops->bundle_put(x->s, &p, data, len), QK_OK);
        memset(back, 0, len);
        assert_int_equal(x->s->ops->bundle_read(x->s, p.id, p.version, 0, back, len), QK_OK);
        assert_memory_equal(back, data, len);
        /* every piece boundary, read across */
        size_t off = len > QK_BUNDLE_CHUNK ? QK_BUNDLE_CHUNK - 3 : len / 2;
        assert_int_equal(x->s->ops->bundle_read(x->s, p.id, p.version, (int64_t)off, back, len - off), QK_OK);
        assert_memory_equal(back, data + off, len - off);
        free(data), free(back);
    }
    /* A second put of a version already held: the same bytes change nothing,
     * other bytes are refused (two publishes racing past their first check). */
    {
        unsigned char data[600];
        memset(data, 7, sizeof data);
        qk_published p;
        memset(&p, 0, sizeof p);
        snprintf(p.id, sizeof p.id, "size.test");
        snprintf(p.version, sizeof p.version, "0");
        snprintf(p.sha256, sizeof p.sha256, "x");
        p.size = sizeof data;
        assert_int_equal(x->s->ops->bundle_put(x->s, &p, data, sizeof data), QK_OK);
        snprintf(p.sha256, sizeof p.sha256, "y");
        assert_int_equal(x->s->ops->bundle_put(x->s, &p, data, sizeof data), QK_EEXISTS);
        unsigned char back[512];
        assert_int_equal(x->s->ops->bundle_read(x->s, "size.test", "0", 0, back, 512), QK_OK);
        assert_int_not_equal(back[0], 7); /* the first bytes kept */
    }
    char *big = qkt_path(x->dir, "big.qkb"), *trust = qkt_path(x->dir, "trust");
    FILE *f = fopen(big, "wb");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)QK_BUNDLE_MAX_BYTES, SEEK_SET), 0); /* one byte over */
    assert_int_equal(fputc('x', f), 'x');
    fclose(f);
    qk_published p;
    assert_int_equal(qk_admin_bundle_publish(x->s, big, trust, "li", &p), QK_ELIMIT);
    assert_non_null(strstr(qk_store_errmsg(x->s), "64 MiB"));
    assert_int_equal(sql_int(x, "SELECT count(*) FROM bundle_chunks WHERE id <> 'size.test'"), 0);
    free(big), free(trust);
}

/* PostgreSQL: a connection the database dropped (a restart, a failover, an
 * idle connection cut by a firewall) is made again by the next call: the
 * server goes on without a restart of its own. */
static void test_a_lost_connection_is_made_again(void **state)
{
    fx *x = *state;
    json_t *list = NULL;
    assert_int_equal(qk_admin_branches(x->s, &list), QK_OK);
    json_decref(list);
    sql(x, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
           " WHERE datname = current_database() AND pid <> pg_backend_pid()");
    assert_int_equal(qk_admin_branches(x->s, &list), QK_OK); /* a read: tried again */
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    sql(x, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
           " WHERE datname = current_database() AND pid <> pg_backend_pid()");
    assert_int_equal(qk_admin_branch_add(x->s, "b3", "第三党支部"), QK_OK); /* a write: made again at its BEGIN */
    assert_int_equal(sql_int(x, "SELECT count(*) FROM branches"), 3);
}

/* PostgreSQL: a database that holds another program's tables is refused
 * untouched, the table named, also when the role quizkit connects as may
 * not read that table (it is found in pg_class, which every role sees). */
static void test_another_programs_database_is_refused(void **state)
{
    fx *x = *state;
    char *spec = qkt_store_spec(x->dir); /* a new, empty database */
    qkt_store_exec(spec, "CREATE TABLE invoices(id integer); CREATE ROLE qkt_other_owner;"
                         " ALTER TABLE invoices OWNER TO qkt_other_owner; REVOKE ALL ON invoices FROM PUBLIC");
    qk_store *s = NULL;
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_EFORMAT);
    assert_non_null(strstr(qk_store_errmsg(s), "another program's tables (invoices"));
    qk_store_close(s);
    assert_int_equal(qkt_store_int(spec, "SELECT count(*) FROM pg_class WHERE relname IN ('events', 'qk_schema')"), 0);
    assert_int_equal(qkt_store_int(spec, "SELECT count(*) FROM invoices"), 0); /* still there */
    qkt_store_exec(spec, "DROP TABLE invoices; DROP ROLE qkt_other_owner");
    free(spec);
}

/* A database URL as the server prints and logs it: no password, wherever
 * libpq would take one from (user:password@, password=, sslpassword=). */
static void test_a_database_password_is_never_shown(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *shown;
    } cases[] = {
        {"sqlite:/srv/quizkit/server.db", "sqlite:/srv/quizkit/server.db"},
        {"postgresql://quizkit@db/quizkit", "postgresql://quizkit@db/quizkit"},
        {"postgresql://quizkit:S3cret@db:5432/quizkit", "postgresql://quizkit:***@db:5432/quizkit"},
        {"postgresql://quizkit:@db/quizkit", "postgresql://quizkit:***@db/quizkit"},
        {"postgres://db/quizkit?user=q&password=S3cret", "postgres://db/quizkit?user=q&password=***"},
        {"postgresql://db/q?sslpassword=abc&password=S3cret&sslmode=require",
         "postgresql://db/q?sslpassword=***&password=***&sslmode=require"},
        {"postgresql://db/q?password=", "postgresql://db/q?password=***"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *shown = qk_store_spec_shown(cases[i].spec);
        assert_string_equal(shown, cases[i].shown);
        free(shown);
    }
    /* and a store's messages name it so */
    qk_store *s = NULL;
    assert_int_not_equal(qk_store_open(&s, "postgresql://quizkit:S3cret@127.0.0.1:1/none?connect_timeout=2",
                                       QK_LANG_EN), QK_OK);
    assert_null(strstr(qk_store_errmsg(s), "S3cret"));
    assert_non_null(strstr(qk_store_errmsg(s), "quizkit:***@127.0.0.1:1"));
    qk_store_close(s);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_store_opens_while_another_writes),
        T(test_writer_keeps_each_batch_its_own),
        T(test_writer_undoes_a_failing_batch_alone),
        T(test_bundles_are_kept_whole),
        T(test_codes_single_use_and_expiry),
        T(test_enrolment_proves_the_device_key),
        T(test_published_versions_cannot_name_a_path),
        T(test_leaders_write_only_their_branch),
        T(test_tokens_hashed_and_revocable),
        T(test_accounts_and_login),
        T(test_first_admin),
        T(test_roster_cursor_and_pin_events),
        T(test_roster_all_or_nothing),
        T(test_throttle_window),
        T(test_ingest_ack_and_gaps),
        T(test_points_by_day_follow_the_replay),
        cmocka_unit_test(test_a_database_password_is_never_shown),
    };
    /* The SQLite file itself: its migrations, its mode, its online backup
     * (PostgreSQL's is pg_dump), and its roll-ups' lazy build of an old file
     * (a database on PostgreSQL has its roll-ups from its first event on). */
    const struct CMUnitTest sqlite_only[] = {
        T(test_migrates_old_store),
        T(test_upgrade_takes_published_files_in),
        T(test_store_file_is_readable_by_its_owner_only),
        T(test_backup_is_consistent),
        T(test_members_last_days_on_a_lazy_build),
    };
    /* what only a store on PostgreSQL has */
    const struct CMUnitTest pg_only[] = {
        T(test_a_lost_connection_is_made_again),
        T(test_another_programs_database_is_refused),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!qkt_store_is_pg())
        failed += cmocka_run_group_tests(sqlite_only, NULL, NULL);
    else
        failed += cmocka_run_group_tests(pg_only, NULL, NULL);
    return failed;
}
