/* Tests for engine/src/key.c and the signature checks in bundle.c. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../engine/src/bundle_format.h" /* to forge digests the way an attacker could */
#include "support.h"

#define setup qkt_setup_tmpdir
#define teardown qkt_teardown_tmpdir

static void keys_round_trip_through_pem_files(void **state)
{
    qk_key *k = NULL;
    assert_int_equal(qk_key_generate(&k), QK_OK);
    assert_int_equal(strlen(qk_key_id(k)), QK_KEY_ID_LEN);
    char *priv = qkt_path(*state, "a.key"), *pub = qkt_path(*state, "a.pub");
    char msg[256];
    assert_int_equal(qk_key_write(k, priv, pub, QK_LANG_EN, msg, sizeof msg), QK_OK);
    struct stat sb;
    assert_int_equal(stat(priv, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    qk_key *kp = NULL, *kq = NULL;
    assert_int_equal(qk_key_load(&kp, priv, QK_LANG_EN, msg, sizeof msg), QK_OK);
    assert_int_equal(qk_key_load(&kq, pub, QK_LANG_EN, msg, sizeof msg), QK_OK);
    assert_string_equal(qk_key_id(kp), qk_key_id(k));
    assert_string_equal(qk_key_id(kq), qk_key_id(k));
    assert_true(qk_key_can_sign(kp));
    assert_false(qk_key_can_sign(kq));
    /* never overwrites */
    assert_int_equal(qk_key_write(k, priv, NULL, QK_LANG_EN, msg, sizeof msg), QK_EEXISTS);
    assert_non_null(strstr(msg, "already exists"));
    qk_key_free(k);
    qk_key_free(kp);
    qk_key_free(kq);
    free(priv);
    free(pub);
}

static void garbage_is_not_a_key(void **state)
{
    char *p = qkt_path(*state, "junk.pub");
    qkt_write(p, "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n");
    qk_key *k = NULL;
    char msg[256];
    assert_int_equal(qk_key_load(&k, p, QK_LANG_EN, msg, sizeof msg), QK_EINVAL);
    assert_non_null(strstr(msg, "not an ECDSA P-256 key"));
    assert_null(k);
    char *missing = qkt_path(*state, "none.pub");
    assert_int_equal(qk_key_load(&k, missing, QK_LANG_EN, msg, sizeof msg), QK_EIO);
    free(p);
    free(missing);
}

/* Builds the fixture signed with key into dir/name. */
static char *signed_fixture(const char *dir, const char *name, const qk_key *key)
{
    char *p = qkt_path(dir, name);
    qk_bundle_writer *w = NULL;
    assert_int_equal(qk_bundle_writer_open(&w, p, QK_LANG_EN), QK_OK);
    qk_manifest m = {"s.fixture", "1", "Signed", "zh-CN", 0, 0};
    assert_int_equal(qk_bundle_writer_manifest(w, &m), QK_OK);
    assert_int_equal(qk_bundle_writer_theme(w, "t", "T", NULL), QK_OK);
    qk_option o[2] = {{"甲", 1}, {"乙", 0}};
    qk_question q = {.id = "q", .theme = "t", .type = QK_Q_SINGLE, .stem = "s", .points = 1,
                     .n_options = 2, .options = o};
    assert_int_equal(qk_bundle_writer_question(w, &q), QK_OK);
    assert_int_equal(qk_bundle_writer_media(w, "a.png", "image/png", "\x89PNG", 4), QK_OK);
    if (key)
        assert_int_equal(qk_bundle_writer_sign(w, key), QK_OK);
    assert_int_equal(qk_bundle_writer_commit(w), QK_OK);
    qk_bundle_writer_free(w);
    return p;
}

static void signature_checks_against_trusted_keys(void **state)
{
    qk_key *k = NULL, *other = NULL;
    qk_key_generate(&k);
    qk_key_generate(&other);
    char *p = signed_fixture(*state, "s.qkb", k);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    assert_true(qk_bundle_info_get(b)->is_signed);
    assert_string_equal(qk_bundle_info_get(b)->publisher_key_id, qk_key_id(k));
    qk_key *both[2] = {other, k};
    assert_int_equal(qk_bundle_check_signature(b, both, 2), QK_OK);
    assert_string_equal(qk_bundle_signer(b), qk_key_id(k));
    assert_int_equal(qk_bundle_check_signature(b, both, 1), QK_EUNTRUSTED);
    assert_non_null(strstr(qk_bundle_errmsg(b), "not trusted"));
    assert_int_equal(qk_bundle_check_signature(b, NULL, 0), QK_EUNTRUSTED);
    qk_bundle_close(b);

    char *u = signed_fixture(*state, "u.qkb", NULL);
    assert_int_equal(qk_bundle_open(&b, u, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_bundle_check_signature(b, both, 2), QK_EUNSIGNED);
    qk_bundle_close(b);
    qk_key_free(k);
    qk_key_free(other);
    free(p);
    free(u);
}

/* An attacker who changes the content and recomputes every digest still
 * cannot produce the signature: the manifest no longer matches it. */
static void recomputed_digests_do_not_fool_the_signature(void **state)
{
    qk_key *k = NULL;
    qk_key_generate(&k);
    char *p = signed_fixture(*state, "f.qkb", k);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_exec(db, "UPDATE options SET correct = 1 - correct", NULL, NULL, NULL);
    qk__digests d;
    const char *err = NULL;
    assert_int_equal(qk__bundle_digests(db, &d, &err), QK_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "UPDATE manifest SET value = ? WHERE key = ?", -1, &st, NULL);
    for (int s = 0; s < QK__SEC_COUNT; s++) {
        char key[32];
        snprintf(key, sizeof key, "digest.%s", qk__section_names[s]);
        sqlite3_bind_text(st, 1, d.section[s], -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_bind_text(st, 1, d.total, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, "content_digest", -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
    sqlite3_close(db);

    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK); /* digests agree */
    qk_key *trusted[1] = {k};
    assert_int_equal(qk_bundle_check_signature(b, trusted, 1), QK_ESIGNATURE);
    assert_non_null(strstr(qk_bundle_errmsg(b), "does not match the manifest"));
    qk_bundle_close(b);
    qk_key_free(k);
    free(p);
}

static void media_changes_are_named(void **state)
{
    char *p = signed_fixture(*state, "m.qkb", NULL);
    sqlite3 *db = NULL;
    sqlite3_open(p, &db);
    sqlite3_exec(db, "UPDATE media SET data = x'00'", NULL, NULL, NULL);
    sqlite3_close(db);
    qk_bundle *b = NULL;
    assert_int_equal(qk_bundle_open(&b, p, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_EDIGEST);
    assert_non_null(strstr(qk_bundle_errmsg(b), "changed: media"));
    qk_bundle_close(b);
    free(p);
}

/* A signature made by another implementation (OpenSSL: `openssl dgst -sha256
 * -sign` with a P-256 key) verifies, and one bit changed does not: bundles
 * signed by any build (mbedTLS 2.28 or 3.x, native or WebAssembly) open in
 * every other. */
static void a_signature_made_elsewhere_verifies(void **state)
{
    (void)state;
    static const char pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAES8MdlAwknRQuEWCaMMPyHWYAcDZG\n"
                              "RL2CygdX0ukb57dzWnSvuec+6H8JTTtDg6POq6x92xXlF8lh1wK9hwPDiA==\n"
                              "-----END PUBLIC KEY-----\n";
    /* SHA-256 of "quizkit-kat\n", and the DER signature of it */
    static const char hash_hex[] = "46e7fad1d611437b093376a88dc387b8028179ed88a6a2863096ade65a77e048";
    static const char sig_hex[] = "3045022100a9f2618476baa28747828e2ffd9dd3966fdf8b824a1c1653ccdd3ad90b"
                                  "37195c0220194f3d24fba85823c43d166db07ed4eb1e568d992c3fc17236df6fc86a"
                                  "1fc6ae";
    unsigned char hash[32], sig[80];
    size_t sig_len = (sizeof sig_hex - 1) / 2;
    for (size_t i = 0; i < 32; i++)
        hash[i] = (unsigned char)strtoul((char[]){hash_hex[2 * i], hash_hex[2 * i + 1], 0}, NULL, 16);
    for (size_t i = 0; i < sig_len; i++)
        sig[i] = (unsigned char)strtoul((char[]){sig_hex[2 * i], sig_hex[2 * i + 1], 0}, NULL, 16);
    qk_key *k = NULL;
    assert_int_equal(qk_key_from_pem(&k, pem), QK_OK);
    assert_int_equal(qk_key_verify(k, hash, sig, sig_len), QK_OK);
    hash[31] ^= 1;
    assert_int_equal(qk_key_verify(k, hash, sig, sig_len), QK_ESIGNATURE);
    qk_key_free(k);
}

static void versions_compare_by_number(void **state)
{
    (void)state;
    assert_true(qk_bundle_version_cmp("2026.10", "2026.9") > 0);
    assert_true(qk_bundle_version_cmp("1.2.3", "1.2.3") == 0);
    assert_true(qk_bundle_version_cmp("1.02", "1.2") == 0);
    assert_true(qk_bundle_version_cmp("1.2", "1.2.1") < 0);
    assert_true(qk_bundle_version_cmp("20261129.101500", "20261129.091500") > 0);
    assert_true(qk_bundle_version_cmp("1.0-beta", "1.0") > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(keys_round_trip_through_pem_files, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_is_not_a_key, setup, teardown),
        cmocka_unit_test_setup_teardown(signature_checks_against_trusted_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(recomputed_digests_do_not_fool_the_signature, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(media_changes_are_named, setup, teardown),
        cmocka_unit_test(versions_compare_by_number),
        cmocka_unit_test(a_signature_made_elsewhere_verifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
