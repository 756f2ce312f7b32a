/* Tests for sync/src/app.c: the phone app's engine, the kiosk's screen API
 * answered in-process (qk_app.h). The same suite runs natively and, built
 * with emscripten, as WebAssembly under node (scripts/wasm-build.sh). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "qk_app.h"
#include "support.h"

#ifndef __EMSCRIPTEN__
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../../sync/src/store.h" /* the roster as the server keeps it */
#include "qk_server.h"
#endif

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

#ifndef __EMSCRIPTEN__
/* --- enrolment and sync with the real server, over a transport of the
 * test's own (as fetch() is the browser's): plain HTTP/1.1 on loopback --- */

typedef struct wire {
    int status;
    char *body;
    size_t len;
} wire;

static wire http_call(unsigned port, const char *method, const char *path, const char *token,
                      const char *body, size_t len)
{
    wire w = {0, NULL, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return w; /* status 0: no answer, as fetch() rejecting */
    }
    char head[1024];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n%s%s%s\r\n",
                      method, path, len, token && *token ? "Authorization: Bearer " : "",
                      token && *token ? token : "", token && *token ? "\r\n" : "");
    assert_int_equal(write(fd, head, (size_t)hl), hl);
    if (len)
        assert_int_equal(write(fd, body, len), (ssize_t)len);
    size_t cap = 1 << 16, got = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + got, cap - got - 1)) > 0) {
        got += (size_t)r;
        if (got + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    close(fd);
    buf[got] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    assert_non_null(end);
    w.status = (int)strtol(buf + 9, NULL, 10);
    w.len = got - (size_t)(end + 4 - buf);
    w.body = malloc(w.len + 1);
    memcpy(w.body, end + 4, w.len + 1);
    free(buf);
    return w;
}

/* GET path of the server with a device's token: the reply's JSON (the
 * caller decrefs), its status checked. */
static json_t *get_json(unsigned port, const char *path, const char *token, int want)
{
    wire w = http_call(port, "GET", path, token, NULL, 0);
    assert_int_equal(w.status, want);
    json_error_t je;
    json_t *j = json_loadb(w.body, w.len, 0, &je);
    free(w.body);
    assert_non_null(j);
    return j;
}

/* Runs the app's steps over the wire; what qk_app_net_next said last. */
static int carry(qk_app_net *n, unsigned port, int *requests)
{
    int status = 0, r;
    wire w = {0, NULL, 0};
    while ((r = qk_app_net_next(n, status, w.body, w.len)) == 1) {
        free(w.body);
        const char *url = qk_app_net_url(n);
        const char *path = strstr(url + strlen("http://"), "/");
        assert_non_null(path);
        w = http_call(port, qk_app_net_method(n), path, qk_app_net_token(n), qk_app_net_body(n),
                      qk_app_net_len(n));
        status = w.status;
        (*requests)++;
    }
    free(w.body);
    return r;
}

/* The phone enrols with a code and sends the member's answers: every event
 * reaches the server once, a second sync sends nothing, and what went wrong
 * is said (not enrolled, a code used up, no network). */
static void the_phone_enrols_and_syncs_with_the_server(void **state)
{
    fx *f = *state;
    char *spec_path = qkt_path(f->dir, "server.db"), spec[4200], msg[512];
    { /* SQLite, or PostgreSQL under QKT_PG */
        char *made = qkt_store_spec(f->dir);
        snprintf(spec, sizeof spec, "%s", made);
        free(made);
    }
    qk_store *s = NULL;
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_admin_branch_add(s, "b1", "第一支部"), QK_OK);
    qk_roster_member m;
    memset(&m, 0, sizeof m);
    snprintf(m.id, sizeof m.id, "m1");
    snprintf(m.name, sizeof m.name, "张三");
    snprintf(m.branch, sizeof m.branch, "b1");
    assert_int_equal(qk_admin_member_add(s, &m, "1234"), QK_OK);
    /* a member the phone has never seen, and one of another branch */
    snprintf(m.id, sizeof m.id, "m2");
    snprintf(m.name, sizeof m.name, "李四");
    assert_int_equal(qk_admin_member_add(s, &m, "5678"), QK_OK);
    assert_int_equal(qk_admin_branch_add(s, "b2", "第二支部"), QK_OK);
    snprintf(m.id, sizeof m.id, "x9");
    snprintf(m.name, sizeof m.name, "王五");
    snprintf(m.branch, sizeof m.branch, "b2");
    assert_int_equal(qk_admin_member_add(s, &m, "9999"), QK_OK);
    qkt_publish_fixture(s, f->dir);
    char code[QK_CODE_LEN + 1];
    int64_t exp = 0;
    assert_int_equal(qk_admin_code_new(s, "b1", "test", 3600000, QK_CODE_PHONE, code, &exp), QK_OK);
    qk_store_close(s);
    qk_server_config cfg = {.listen = "127.0.0.1", .port = 0, .db = spec, .threads = 2,
                            .lang = QK_LANG_EN};
    qk_server *srv = qk_server_start(&cfg, msg, sizeof msg);
    assert_non_null(srv);
    unsigned port = qk_server_port(srv);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);

    /* answers made offline, before the phone ever met the server */
    char *token = login(f->a);
    json_t *j = call(f->a, "POST", "/api/quiz", token, "{\"mode\":\"practice\",\"theme\":\"t2\"}", 200);
    json_decref(j);
    j = call(f->a, "POST", "/api/quiz/answer", token, "{\"response\":\"A\"}", 200);
    json_decref(j);
    j = call(f->a, "POST", "/api/quiz/finish", token, NULL, 200);
    json_decref(j);
    int64_t events = 0;
    assert_int_equal(qk_engine_event_count(qk_app_engine(f->a), &events), QK_OK);

    int requests = 0;
    qk_app_net *n = qk_app_sync(f->a);
    assert_int_equal(qk_app_net_next(n, 0, NULL, 0), -1);
    assert_non_null(strstr(qk_app_net_error(n), "没有注册"));
    qk_app_net_free(n);

    /* the phone held another member before (a last owner): forgotten once
     * it is enrolled for m1 */
    assert_int_equal(qk_member_add(qk_app_engine(f->a), "k7", "赵六", "", "7777"), QK_OK);
    /* a phone's code enrols no shared device (which would hold every
     * member's PIN hash): refused, the code left for the phone */
    n = qk_app_enrol(f->a, url, code, "共用设备", NULL, NULL);
    assert_int_equal(carry(n, port, &requests), -1);
    /* (the server's words alone: a member has no use for its status code) */
    if (strstr(qk_app_net_error(n), "403") || !strstr(qk_app_net_error(n), "for a member's own phone"))
        fail_msg("%s", qk_app_net_error(n));
    qk_app_net_free(n);
    /* the phone is enrolled for its member: a wrong PIN, or a member of
     * another branch, enrols nothing and leaves the code unused */
    static const char *const wrong[][2] = {{"m1", "0000"}, {"x9", "9999"}, {"nobody", "1234"}};
    for (size_t i = 0; i < 3; i++) {
        n = qk_app_enrol(f->a, url, code, "张三的手机", wrong[i][0], wrong[i][1]);
        assert_int_equal(carry(n, port, &requests), -1);
        /* (the server's words, in its language: English here) */
        if (strstr(qk_app_net_error(n), "403") || !strstr(qk_app_net_error(n), "wrong member id or PIN"))
            fail_msg("%s", qk_app_net_error(n));
        qk_app_net_free(n);
    }
    n = qk_app_enrol(f->a, url, code, "张三的手机", "M1", "1234");
    assert_int_equal(carry(n, port, &requests), 0);
    /* enrolled, then its member's row of the roster alone: not m2's, nor
     * b2's x9 (no other member's PIN hash is on the phone) */
    assert_string_equal(qk_app_net_result(n),
                        "{\"branch\":\"b1\",\"branch_name\":\"第一支部\",\"members\":1}");
    /* and its token fetches no more: the server's roster for it is m1's row */
    j = get_json(port, "/api/v1/roster?after=0", qk_app_net_token(n), 200);
    assert_int_equal(json_array_size(json_object_get(j, "members")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "members"), 0), "id")),
                        "m1");
    json_decref(j);
    qk_app_net_free(n);
    j = call(f->a, "POST", "/api/login", NULL, "{\"member\":\"m2\",\"pin\":\"5678\"}", 401);
    json_decref(j);
    j = call(f->a, "POST", "/api/login", NULL, "{\"member\":\"x9\",\"pin\":\"9999\"}", 401);
    json_decref(j);
    j = call(f->a, "POST", "/api/login", NULL, "{\"member\":\"k7\",\"pin\":\"7777\"}", 401);
    json_decref(j);
    qk_member *gone = NULL;
    assert_int_equal(qk_member_get(qk_app_engine(f->a), "k7", &gone), QK_ENOTFOUND);
    assert_int_equal(qk_member_get(qk_app_engine(f->a), "m1", &gone), QK_OK);
    qk_member_free(gone);
    char *conf = qkt_path(f->dir, "phone/server.json"), *key = qkt_path(f->dir, "phone/device.key");
    assert_int_equal(access(conf, F_OK), 0);
    assert_int_equal(access(key, F_OK), 0);

    /* the phone, made to add a colleague with a PIN of its choosing (as a
     * changed app could) and to answer in their name: the events go up and
     * are held apart (acknowledged, never counted, scored or judged), and
     * the server's roster stays as the leader made it (a member's phone
     * speaks for its own member alone) */
    assert_int_equal(qk_member_add(qk_app_engine(f->a), "m2", "李四", "b1", "0002"), QK_OK);
    assert_int_equal(qk_member_set_pin(qk_app_engine(f->a), "m2", "0001"), QK_OK);
    j = call(f->a, "POST", "/api/login", NULL, "{\"member\":\"m2\",\"pin\":\"0001\"}", 200);
    char *as_m2 = strdup(json_string_value(json_object_get(j, "token")));
    json_decref(j);
    j = call(f->a, "POST", "/api/quiz", as_m2, "{\"mode\":\"practice\",\"theme\":\"t2\"}", 200);
    json_decref(j);
    j = call(f->a, "POST", "/api/quiz/answer", as_m2, "{\"response\":\"A\"}", 200);
    json_decref(j);
    j = call(f->a, "POST", "/api/quiz/finish", as_m2, NULL, 200);
    json_decref(j);
    free(as_m2);
    int64_t m1_events = events;
    assert_int_equal(qk_engine_event_count(qk_app_engine(f->a), &events), QK_OK);
    n = qk_app_sync(f->a);
    requests = 0;
    assert_int_equal(carry(n, port, &requests), 0);
    char want[128];
    snprintf(want, sizeof want,
             "{\"sent\":%lld,\"acked_seq\":%lld,\"pending\":0,\"batches\":1,\"members\":0}",
             (long long)events, (long long)events);
    assert_string_equal(qk_app_net_result(n), want);
    assert_int_equal(requests, 3); /* what the server holds, one batch, the roster's changes */
    qk_app_net_free(n);
    /* again: nothing to send, nothing sent */
    n = qk_app_sync(f->a);
    assert_int_equal(carry(n, port, &requests), 0);
    snprintf(want, sizeof want,
             "{\"sent\":0,\"acked_seq\":%lld,\"pending\":0,\"batches\":0,\"members\":0}",
             (long long)events);
    assert_string_equal(qk_app_net_result(n), want);
    qk_app_net_free(n);
    /* the home screen says the phone is enrolled and when it last synced */
    j = call(f->a, "GET", "/api/home", token, NULL, 200);
    assert_true(json_is_true(json_object_get(json_object_get(j, "sync"), "enrolled")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "sync"), "pending")), 0);
    json_decref(j);

    /* The bundle a new phone of this member would be given (GET /bundles
     * names it for a device): not the newest published, but the one its
     * member studies with; once a leader of its branch publishes one, that
     * one; another branch's leader's newer bundle changes nothing. */
    char *tdir = qkt_path(f->dir, "trust"), *tpub = qkt_path(f->dir, "trust/k.pub");
    assert_int_equal(mkdir(tdir, 0700), 0);
    qkt_write(tpub, f->pem);
    qk_store *pub = NULL;
    assert_int_equal(qk_store_open(&pub, spec, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_admin_user_add(pub, "l1", "leader", "b1", "leader-pass-1"), QK_OK);
    assert_int_equal(qk_admin_user_add(pub, "l2", "leader", "b2", "leader-pass-2"), QK_OK);
    json_t *sj = json_load_file(conf, 0, NULL);
    char *phone_token = strdup(json_string_value(json_object_get(sj, "token")));
    json_decref(sj);
    static const struct {
        const char *id, *by, *suggested;
    } steps[] = {{"test.newest", "admin", "test.fixture"},
                 {"test.branch", "l1", "test.branch"},
                 {"test.other-branch", "l2", "test.branch"}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char *file = qkt_path(f->dir, "published.qkb");
        unlink(file);
        qkt_build_fixture_as(file, f->key, steps[i].id);
        qk_published p;
        if (qk_admin_bundle_publish(pub, file, tdir, steps[i].by, &p) != QK_OK)
            fail_msg("publish %s: %s", steps[i].id, qk_store_errmsg(pub));
        free(file);
        j = get_json(port, "/api/v1/bundles", phone_token, 200);
        assert_int_equal(json_array_size(json_object_get(j, "bundles")), i + 2);
        const char *said = json_string_value(json_object_get(j, "suggested"));
        if (!said || strcmp(said, steps[i].suggested) != 0)
            fail_msg("after %s published by %s: suggested %s, not %s", steps[i].id, steps[i].by,
                     said ? said : "(none)", steps[i].suggested);
        json_decref(j);
    }
    qk_store_close(pub);
    free(phone_token);
    free(tdir);
    free(tpub);

    /* a code used up: the server's own words */
    qk_app_net *again = qk_app_enrol(f->a, url, code, "another", "m1", "1234");
    assert_int_equal(carry(again, port, &requests), -1);
    assert_non_null(strstr(qk_app_net_error(again), "the enrolment code has been used"));
    qk_app_net_free(again);
    /* no network: the transport says so with status 0 */
    n = qk_app_sync(f->a);
    assert_int_equal(qk_app_net_next(n, 0, NULL, 0), 1);
    /* the transport's words are len bytes, not a C string: only those are said */
    assert_int_equal(qk_app_net_next(n, 0, "Failed to fetch, and more bytes", 15), -1);
    assert_non_null(strstr(qk_app_net_error(n), "无法连接服务器"));
    assert_non_null(strstr(qk_app_net_error(n), "Failed to fetch"));
    assert_null(strstr(qk_app_net_error(n), "more bytes"));
    qk_app_net_free(n);

    qk_server_stop(srv, 1000);
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    int64_t held = 0;
    assert_int_equal(qk_store_event_count(s, &held), QK_OK);
    assert_int_equal(held, m1_events); /* each of m1's once */
    /* every one naming m2, apart, and the member.added of the phone's last
     * owner k7; no score and no points of m2's */
    sqlite3 *db = NULL;
    free(spec_path);
    spec_path = qkt_store_snapshot(spec, f->dir); /* the store's tables as they are now */
    assert_int_equal(sqlite3_open(spec_path, &db), SQLITE_OK);
    const struct {
        const char *sql, *what;
        int64_t want;
    } counts[] = {
        {"SELECT count(*) FROM events_apart WHERE member_id = 'm2' AND device_branch = 'b1'", "m2's apart",
         events - m1_events - 1},
        {"SELECT count(*) FROM events WHERE member_id = 'm2'", "m2's counted", 0},
        {"SELECT count(*) FROM events_apart WHERE member_id = 'k7' AND kind = 'member.added'", "k7's apart", 1},
        {"SELECT count(*) FROM attempt_scores WHERE attempt_id IN (SELECT attempt_id FROM events_apart)",
         "scores", 0},
        {"SELECT count(*) FROM member_points WHERE member_id = 'm2'", "points", 0}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, counts[i].sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        int64_t got = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (got != counts[i].want)
            fail_msg("%s: %lld, not %lld", counts[i].what, (long long)got, (long long)counts[i].want);
    }
    sqlite3_close(db);
    json_t *rows = NULL;
    int64_t cursor = 0;
    assert_int_equal(s->ops->roster(s, "b1", "m2", 0, 8, &rows, &cursor), QK_OK);
    json_t *m2 = json_array_get(rows, 0);
    assert_non_null(m2);
    const char *salt = json_string_value(json_object_get(m2, "pin_salt"));
    const char *hash = json_string_value(json_object_get(m2, "pin_hash"));
    int iter = (int)json_integer_value(json_object_get(m2, "pin_iter"));
    assert_true(qk_pin_check("5678", salt, hash, iter));
    assert_false(qk_pin_check("0001", salt, hash, iter));
    assert_false(qk_pin_check("0002", salt, hash, iter));
    json_decref(rows);
    qk_store_close(s);
    free(conf);
    free(key);
    free(token);
    free(spec_path);
}

/* One enrolment from a fresh phone (its own folder under dir, named name):
 * 0, or -1 with the server's words in why. */
static int enrol_once(const char *dir, const char *name, unsigned port, const char *code, const char *member,
                      const char *pin, char *why, size_t n)
{
    char *home = qkt_path(dir, name), msg[256], url[64];
    mkdir(home, 0700);
    qk_app *a = NULL;
    assert_int_equal(qk_app_open(&a, home, NULL, NULL, 0, QK_LANG_EN, msg, sizeof msg), QK_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    qk_app_net *net = qk_app_enrol(a, url, code, name, member, pin);
    int requests = 0, r = carry(net, port, &requests);
    snprintf(why, n, "%s", r == 0 ? "" : qk_app_net_error(net));
    qk_app_net_free(net);
    qk_app_close(a);
    free(home);
    return r;
}

/* The phones of a health-service station reach the server from one address.
 * Ten members mistyping their PINs there do not lock the eleventh out; but a
 * member's PIN, many members' PINs with one code, and codes themselves are
 * each still tried ten times at most in the window. */
static void a_station_behind_one_address_enrols_its_phones(void **state)
{
    fx *f = *state;
    char *spec_path = qkt_path(f->dir, "server.db"), spec[4200], msg[512], why[512];
    { /* SQLite, or PostgreSQL under QKT_PG */
        char *made = qkt_store_spec(f->dir);
        snprintf(spec, sizeof spec, "%s", made);
        free(made);
    }
    qk_store *s = NULL;
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_admin_branch_add(s, "b1", "第一支部"), QK_OK);
    enum { MEMBERS = 12, CODES = 16 };
    for (int i = 1; i <= MEMBERS; i++) {
        qk_roster_member m;
        memset(&m, 0, sizeof m);
        snprintf(m.id, sizeof m.id, "m%02d", i);
        snprintf(m.name, sizeof m.name, "成员%d", i);
        snprintf(m.branch, sizeof m.branch, "b1");
        assert_int_equal(qk_admin_member_add(s, &m, "2468"), QK_OK);
    }
    char codes[CODES][QK_CODE_LEN + 1];
    for (int i = 0; i < CODES; i++) {
        int64_t exp = 0;
        assert_int_equal(qk_admin_code_new(s, "b1", "test", 3600000, QK_CODE_PHONE, codes[i], &exp), QK_OK);
    }
    qk_store_close(s);
    qk_server_config cfg = {.listen = "127.0.0.1", .port = 0, .db = spec, .threads = 2, .lang = QK_LANG_EN};
    qk_server *srv = qk_server_start(&cfg, msg, sizeof msg);
    assert_non_null(srv);
    unsigned port = qk_server_port(srv);
    char *dir = qkt_path(f->dir, "phones"), member[8], name[32];
    assert_int_equal(mkdir(dir, 0700), 0);
    int phone = 0;
#define ENROL(code, who, pin) (snprintf(name, sizeof name, "phone%d", ++phone), \
                               enrol_once(dir, name, port, code, who, pin, why, sizeof why))

    /* ten members, one typo each, each with their own code */
    for (int i = 0; i < 10; i++) {
        snprintf(member, sizeof member, "m%02d", i + 1);
        assert_int_equal(ENROL(codes[i], member, "1111"), -1);
        if (!strstr(why, "wrong member id or PIN"))
            fail_msg("%s: %s", member, why);
    }
    if (ENROL(codes[10], "m11", "2468") != 0)
        fail_msg("the eleventh member of the station: %s", why);

    /* one member's PIN guessed: ten tries, then not even the right one */
    for (int i = 0; i < 10; i++)
        assert_int_equal(ENROL(codes[11], "m12", "0000"), -1);
    assert_int_equal(ENROL(codes[11], "m12", "2468"), -1);
    if (!strstr(why, "too many failures"))
        fail_msg("m12's eleventh try: %s", why);

    /* many members' PINs tried with one code: ten, then the code is held */
    for (int i = 0; i < 10; i++) {
        snprintf(member, sizeof member, "m%02d", i + 1);
        assert_int_equal(ENROL(codes[12], member, "9999"), -1);
    }
    assert_int_equal(ENROL(codes[12], "m01", "2468"), -1);
    if (!strstr(why, "too many failures"))
        fail_msg("the code's eleventh member: %s", why);

    /* codes guessed from the address: ten, then the address is held */
    for (int i = 0; i < 10; i++) {
        char guess[16];
        snprintf(guess, sizeof guess, "ZZZZ-%04d", i);
        assert_int_equal(ENROL(guess, "m02", "2468"), -1);
        if (!strstr(why, "code"))
            fail_msg("guess %d: %s", i, why);
    }
    assert_int_equal(ENROL(codes[13], "m02", "2468"), -1);
    if (!strstr(why, "too many failures"))
        fail_msg("after ten unknown codes: %s", why);
#undef ENROL
    qk_server_stop(srv, 1000);
    /* a code that still works is not in the store in clear (enrol_codes keeps
     * its hash; so does the count of its failures) */
    char norm[9] = "", like[16];
    for (size_t i = 0, k = 0; codes[12][i] && k < 8; i++)
        if (codes[12][i] != '-')
            norm[k++] = codes[12][i];
    snprintf(like, sizeof like, "%%%s%%", norm);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    free(spec_path);
    spec_path = qkt_store_snapshot(spec, f->dir); /* the store's tables as they are now */
    assert_int_equal(sqlite3_open(spec_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(key LIKE ?) FROM throttle", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(sqlite3_column_int(st, 0) > 0);
    assert_int_equal(sqlite3_column_int(st, 1), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(dir);
    free(spec_path);
}

/* A new phone has no bundle until its server sends one: the engine opens
 * alone, the screen API says so (503 no_bundle), and the phone enrols; the
 * server names the keys its bundles are signed by, for devices only. */
static void a_new_phone_enrols_before_its_first_bundle(void **state)
{
    fx *f = *state;
    char *spec_path = qkt_path(f->dir, "server.db"), spec[4200], msg[512];
    { /* SQLite, or PostgreSQL under QKT_PG */
        char *made = qkt_store_spec(f->dir);
        snprintf(spec, sizeof spec, "%s", made);
        free(made);
    }
    qk_store *s = NULL;
    assert_int_equal(qk_store_open(&s, spec, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_admin_branch_add(s, "b1", "第一支部"), QK_OK);
    char code[QK_CODE_LEN + 1];
    int64_t exp = 0;
    assert_int_equal(qk_admin_code_new(s, "b1", "test", 3600000, QK_CODE_SHARED, code, &exp), QK_OK);
    qk_store_close(s);
    char *trust = qkt_path(f->dir, "trust"), *pub = qkt_path(f->dir, "trust/publisher.pub");
    assert_int_equal(mkdir(trust, 0700), 0);
    qkt_write(pub, f->pem);
    qk_server_config cfg = {.listen = "127.0.0.1", .port = 0, .db = spec, .threads = 2,
                            .lang = QK_LANG_EN, .trust = trust};
    qk_server *srv = qk_server_start(&cfg, msg, sizeof msg);
    assert_non_null(srv);
    unsigned port = qk_server_port(srv);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);

    char *fresh = qkt_path(f->dir, "fresh");
    assert_int_equal(mkdir(fresh, 0700), 0);
    qk_app *a = NULL;
    assert_int_equal(qk_app_open(&a, fresh, NULL, NULL, 0, QK_LANG_EN, msg, sizeof msg), QK_OK);
    assert_null(qk_app_bundle(a));
    json_t *j = call(a, "GET", "/api/home", NULL, NULL, 503);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "no_bundle");
    json_decref(j);
    int requests = 0;
    /* a shared device's code enrols no member's phone: refused, unused */
    qk_app_net *n = qk_app_enrol(a, url, code, "新手机", "m1", "1234");
    assert_int_equal(carry(n, port, &requests), -1);
    if (strstr(qk_app_net_error(n), "403") || !strstr(qk_app_net_error(n), "not a phone"))
        fail_msg("%s", qk_app_net_error(n));
    qk_app_net_free(n);
    n = qk_app_enrol(a, url, code, "新手机", NULL, NULL); /* a shared device */
    assert_int_equal(carry(n, port, &requests), 0);
    assert_string_equal(qk_app_net_result(n),
                        "{\"branch\":\"b1\",\"branch_name\":\"第一支部\",\"members\":0}");
    /* the keys, with the phone's token; none without one */
    j = get_json(port, "/api/v1/keys", qk_app_net_token(n), 200);
    json_t *k0 = json_array_get(json_object_get(j, "keys"), 0);
    assert_int_equal(json_array_size(json_object_get(j, "keys")), 1);
    assert_string_equal(json_string_value(json_object_get(k0, "id")), qk_key_id(f->key));
    assert_string_equal(json_string_value(json_object_get(k0, "pem")), f->pem);
    json_decref(j);
    wire w = http_call(port, "GET", "/api/v1/keys", NULL, NULL, 0);
    assert_int_equal(w.status, 401);
    free(w.body);
    qk_app_net_free(n);
    qk_app_close(a);
    qk_server_stop(srv, 1000);
    free(fresh);
    free(trust);
    free(pub);
    free(spec_path);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_member_takes_a_quiz_in_process, setup, teardown),
        cmocka_unit_test_setup_teardown(a_phone_keeps_its_member, setup, teardown),
        cmocka_unit_test_setup_teardown(only_a_trusted_bundle_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(only_the_api_is_answered, setup, teardown),
#ifndef __EMSCRIPTEN__
        cmocka_unit_test_setup_teardown(the_phone_enrols_and_syncs_with_the_server, setup, teardown),
        cmocka_unit_test_setup_teardown(a_new_phone_enrols_before_its_first_bundle, setup, teardown),
        cmocka_unit_test_setup_teardown(a_station_behind_one_address_enrols_its_phones, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
