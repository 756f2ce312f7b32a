/* Tests for sync/src/app.c: the phone app's engine, the kiosk's screen API
 * answered in-process (qk_app.h). The same suite runs natively and, built
 * with emscripten, as WebAssembly under node (scripts/wasm-build.sh). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "qk_app.h"
#include "support.h"

typedef struct fx {
    char *dir, *bundle, *pem;
    qk_key *key;
    qk_app *a;
    qkt_clock clock;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = qkt_tmpdir();
    f->bundle = qkt_path(f->dir, "fixture.qkb");
    assert_int_equal(qk_key_generate(&f->key), QK_OK);
    assert_int_equal(qk_key_public_pem(f->key, &f->pem), QK_OK);
    qkt_build_fixture_signed(f->bundle, f->key);
    char *phone = qkt_path(f->dir, "phone");
    assert_int_equal(mkdir(phone, 0700), 0);
    char msg[256] = "";
    const char *trusted[] = {f->pem};
    assert_int_equal(qk_app_open(&f->a, phone, f->bundle, trusted, 1, QK_LANG_ZH, msg, sizeof msg),
                     QK_OK);
    free(phone);
    f->clock.now_ms = 1772668800000; /* 2026-03-05 08:00 Beijing */
    qk_engine_set_clock(qk_app_engine(f->a), qkt_clock_fn, &f->clock);
    assert_int_equal(qk_member_add(qk_app_engine(f->a), "m1", "张三", "", "1234"), QK_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    qk_app_close(f->a);
    qk_key_free(f->key);
    free(f->pem);
    qkt_rmrf(f->dir);
    free(f->dir);
    free(f->bundle);
    free(f);
    return 0;
}

/* One request; the reply's JSON (the caller decrefs), its status checked. */
static json_t *call(qk_app *a, const char *method, const char *path, const char *token,
                    const char *body, int want)
{
    qk_app_reply *r = qk_app_request(a, method, path, token, "zh", body, body ? strlen(body) : 0);
    assert_non_null(r);
    if (qk_app_reply_status(r) != want)
        fail_msg("%s %s: %d, not %d: %s", method, path, qk_app_reply_status(r), want,
                 qk_app_reply_body(r));
    assert_string_equal(qk_app_reply_type(r), "application/json");
    assert_int_equal(strlen(qk_app_reply_body(r)), qk_app_reply_len(r));
    json_error_t je;
    json_t *j = json_loads(qk_app_reply_body(r), 0, &je);
    assert_non_null(j);
    qk_app_reply_free(r);
    return j;
}

static char *login(qk_app *a)
{
    json_t *j = call(a, "POST", "/api/login", NULL, "{\"member\":\"m1\",\"pin\":\"1234\"}", 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "member"), "name")),
                        "张三");
    char *token = strdup(json_string_value(json_object_get(j, "token")));
    json_decref(j);
    return token;
}

/* A member signs in and takes a practice quiz, as the kiosk's pages do over
 * HTTP: the question, the feedback, the summary; the answers are the
 * engine's events, there after the app is closed and opened again. */
static void a_member_takes_a_quiz_in_process(void **state)
{
    fx *f = *state;
    char *token = login(f->a);
    json_t *j = call(f->a, "GET", "/api/home", token, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "bundle"), "id")),
                        "test.fixture");
    assert_string_equal(json_string_value(json_object_get(j, "today")), "2026-03-05");
    assert_false(json_is_true(json_object_get(json_object_get(j, "sync"), "enrolled")));
    json_decref(j);
    j = call(f->a, "POST", "/api/quiz", token, "{\"mode\":\"practice\",\"theme\":\"t2\"}", 200);
    json_t *item = json_object_get(j, "item");
    assert_string_equal(json_string_value(json_object_get(item, "stem")), "单选二");
    assert_int_equal(json_integer_value(json_object_get(item, "total")), 1);
    json_decref(j);
    j = call(f->a, "POST", "/api/quiz/answer", token, "{\"response\":\"A\"}", 200);
    json_t *fb = json_object_get(j, "feedback");
    assert_true(json_is_true(json_object_get(fb, "correct")));
    assert_true(json_is_true(json_object_get(j, "done")));
    json_decref(j);
    j = call(f->a, "POST", "/api/quiz/finish", token, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "correct")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "answered")), 1);
    json_decref(j);
    int64_t events = 0;
    assert_int_equal(qk_engine_event_count(qk_app_engine(f->a), &events), QK_OK);
    assert_true(events >= 3); /* started, answered, finished */
    qk_app_close(f->a);
    f->a = NULL;
    char *phone = qkt_path(f->dir, "phone"), msg[256];
    const char *trusted[] = {f->pem};
    assert_int_equal(qk_app_open(&f->a, phone, f->bundle, trusted, 1, QK_LANG_ZH, msg, sizeof msg),
                     QK_OK);
    int64_t again = 0;
    assert_int_equal(qk_engine_event_count(qk_app_engine(f->a), &again), QK_OK);
    assert_int_equal(again, events);
    free(phone);
    free(token);
}

/* A kiosk signs a screen out after 90 s idle (tests/cli/test_kiosk_api.sh);
 * a phone is its member's own and keeps them signed in, a day later too. */
static void a_phone_keeps_its_member(void **state)
{
    fx *f = *state;
    char *token = login(f->a);
    f->clock.now_ms += 24LL * 3600 * 1000;
    json_t *j = call(f->a, "GET", "/api/me", token, NULL, 200);
    json_decref(j);
    j = call(f->a, "GET", "/api/home", token, NULL, 200);
    assert_true(json_is_null(json_object_get(j, "idle_seconds"))); /* the pages' countdown is off */
    json_decref(j);
    /* sessions are never ended by time, so pages reloaded (their tokens
     * lost) must not fill the app up: the least recently used makes room */
    char *tokens[9];
    for (int i = 0; i < 9; i++) {
        f->clock.now_ms += 1000;
        tokens[i] = login(f->a);
    }
    j = call(f->a, "GET", "/api/me", tokens[8], NULL, 200);
    json_decref(j);
    j = call(f->a, "GET", "/api/me", tokens[1], NULL, 200);
    json_decref(j);
    j = call(f->a, "GET", "/api/me", tokens[0], NULL, 401);
    json_decref(j);
    for (int i = 0; i < 9; i++)
        free(tokens[i]);
    free(token);
}

/* A bundle the app was not told to trust, or not signed, or changed, is not
 * opened, and the message says why; nor is one when no key is given. */
static void only_a_trusted_bundle_opens(void **state)
{
    fx *f = *state;
    qk_key *other = NULL;
    char *pem = NULL, msg[512] = "";
    assert_int_equal(qk_key_generate(&other), QK_OK);
    assert_int_equal(qk_key_public_pem(other, &pem), QK_OK);
    char *phone = qkt_path(f->dir, "phone2");
    assert_int_equal(mkdir(phone, 0700), 0);
    const char *trusted[] = {pem};
    qk_app *a = NULL;
    assert_int_equal(qk_app_open(&a, phone, f->bundle, trusted, 1, QK_LANG_EN, msg, sizeof msg),
                     QK_EUNTRUSTED);
    assert_null(a);
    assert_true(msg[0] != '\0');
    char *plain = qkt_path(f->dir, "plain.qkb");
    qkt_build_fixture(plain);
    const char *ours[] = {f->pem};
    msg[0] = '\0';
    assert_int_equal(qk_app_open(&a, phone, plain, ours, 1, QK_LANG_EN, msg, sizeof msg),
                     QK_EUNSIGNED);
    assert_null(a);
    assert_non_null(strstr(msg, "not signed"));
    /* no key at all trusts nothing */
    assert_int_equal(qk_app_open(&a, phone, f->bundle, NULL, 0, QK_LANG_EN, msg, sizeof msg),
                     QK_EUNTRUSTED);
    assert_null(a);
    assert_non_null(strstr(msg, "no trusted key"));
    /* a changed byte in the signed bundle: verified in full, refused */
    size_t len = 0;
    char *data = qkt_read(f->bundle, &len);
    const char *stem = "单选二";
    size_t sl = strlen(stem), at = 0;
    while (at + sl <= len && memcmp(data + at, stem, sl) != 0)
        at++;
    assert_true(at + sl <= len);
    memcpy(data + at, "单选三", sl);
    char *changed = qkt_path(f->dir, "changed.qkb");
    FILE *out = fopen(changed, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(data, 1, len, out), len);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(qk_app_open(&a, phone, changed, ours, 1, QK_LANG_EN, msg, sizeof msg),
                     QK_EDIGEST);
    assert_null(a);
    free(data);
    free(changed);
    const char *junk[] = {"-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"};
    assert_int_equal(qk_app_open(&a, phone, f->bundle, junk, 1, QK_LANG_EN, msg, sizeof msg),
                     QK_EINVAL);
    assert_null(a);
    assert_non_null(strstr(msg, "trusted key 1"));
    qk_key_free(other);
    free(pem);
    free(plain);
    free(phone);
}

/* Only the API is answered in-process; bad requests get the kiosk's errors. */
static void only_the_api_is_answered(void **state)
{
    fx *f = *state;
    json_t *j = call(f->a, "GET", "/index.html", NULL, NULL, 404);
    json_decref(j);
    j = call(f->a, "POST", "/api/login", NULL, "{\"member\":", 400);
    json_decref(j);
    j = call(f->a, "GET", "/api/me", NULL, NULL, 401);
    json_decref(j);
    j = call(f->a, "POST", "/api/login", NULL, "{\"member\":\"m1\",\"pin\":\"0000\"}", 401);
    json_decref(j);
    size_t big = 64 * 1024;
    char *body = malloc(big + 1);
    assert_non_null(body);
    memset(body, ' ', big);
    body[0] = '{';
    body[big - 1] = '}';
    body[big] = '\0';
    j = call(f->a, "POST", "/api/login", NULL, body, 413);
    json_decref(j);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_member_takes_a_quiz_in_process, setup, teardown),
        cmocka_unit_test_setup_teardown(a_phone_keeps_its_member, setup, teardown),
        cmocka_unit_test_setup_teardown(only_a_trusted_bundle_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(only_the_api_is_answered, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
