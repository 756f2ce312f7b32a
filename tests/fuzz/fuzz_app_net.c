/* Fuzz target: the replies a phone's transport hands the app's enrolment and
 * sync (qk_app_net_next, qk_app.h): whatever a server, a proxy or a captive
 * portal sends back. The input is a list of replies, each a status (one byte,
 * an index into the statuses below), a length (two bytes, little-endian) and
 * that many bytes of body; an enrolment takes replies until it ends, then a
 * sync takes the rest. The phone has answers of its own to send (a guest's
 * quiz, made once).
 *
 * What must hold: a step is 1, 0 or -1; a request says its method and URL; a
 * failure says why; an ended net stays ended; nothing a reply says moves the
 * phone's acknowledged mark past what it has. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qk_app.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int statuses[] = {0, 200, 201, 204, 302, 400, 401, 404, 409, 410, 413, 429, 500, 503};
static qk_app *app;
static char *dir;

static void cleanup(void)
{
    qk_app_close(app);
    if (dir)
        qkt_rmrf(dir);
    free(dir);
}

/* A phone with a signed bundle and a guest's finished quiz to send. */
static void phone(void)
{
    dir = qkt_tmpdir();
    char *bundle = qkt_path(dir, "bundle.qkb"), *pem = NULL, msg[512];
    qk_key *key = NULL;
    if (qk_key_generate(&key) != QK_OK || qk_key_public_pem(key, &pem) != QK_OK)
        abort();
    qkt_build_fixture_signed(bundle, key);
    const char *trusted[] = {pem};
    if (qk_app_open(&app, dir, bundle, trusted, 1, QK_LANG_EN, msg, sizeof msg) != QK_OK)
        abort();
    qk_key_free(key);
    free(pem);
    free(bundle);
    atexit(cleanup);
    qk_app_reply *r = qk_app_request(app, "POST", "/api/guest", NULL, "en", NULL, 0);
    const char *t = strstr(qk_app_reply_body(r), "\"token\":\"");
    char token[128] = "";
    if (t) {
        t += 9;
        size_t n = strcspn(t, "\"");
        snprintf(token, sizeof token, "%.*s", (int)(n < sizeof token ? n : sizeof token - 1), t);
    }
    qk_app_reply_free(r);
    static const char *const steps[][2] = {{"/api/quiz", "{\"mode\":\"practice\",\"theme\":\"t2\"}"},
                                           {"/api/quiz/answer", "{\"response\":\"A\"}"},
                                           {"/api/quiz/finish", NULL}};
    for (size_t i = 0; i < 3; i++) {
        const char *body = steps[i][1];
        qk_app_reply_free(
            qk_app_request(app, "POST", steps[i][0], token, "en", body, body ? strlen(body) : 0));
    }
}

/* The replies read from the input, one at a time. */
typedef struct input {
    const uint8_t *p;
    size_t left;
} input;

static int next_reply(input *in, int *status, const char **body, size_t *len)
{
    if (in->left < 3)
        return 0;
    *status = statuses[in->p[0] % (sizeof statuses / sizeof statuses[0])];
    size_t n = (size_t)in->p[1] | (size_t)in->p[2] << 8;
    in->p += 3;
    in->left -= 3;
    if (n > in->left)
        n = in->left;
    *body = (const char *)in->p;
    *len = n;
    in->p += n;
    in->left -= n;
    return 1;
}

static void carry(qk_app_net *n, input *in)
{
    if (!n)
        return;
    int status = 0, r;
    const char *body = NULL;
    size_t len = 0;
    while ((r = qk_app_net_next(n, status, body, len)) == 1) {
        if (!*qk_app_net_method(n) || strncmp(qk_app_net_url(n), "http://fuzz.invalid/api/v1/", 27) != 0)
            abort();
        if (!next_reply(in, &status, &body, &len))
            break;
    }
    if (r == -1 && !*qk_app_net_error(n))
        abort(); /* a failure says why */
    if (r == 0 || r == -1) {
        if (qk_app_net_next(n, 200, "{}", 2) != r || *qk_app_net_method(n))
            abort(); /* ended, and stays so */
    } else if (r != 1) {
        abort();
    }
    qk_app_net_free(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!app)
        phone();
    int64_t last = 0, acked_after = 0;
    input in = {data, size};
    /* each input from a phone not enrolled, so that what an input does is
     * its own (the answers made once stay, and the acknowledged mark) */
    char *conf = qkt_path(dir, "server.json");
    unlink(conf);
    free(conf);
    carry(qk_app_enrol(app, "http://fuzz.invalid", "ABCD-EFGH", "fuzz", "m1", "1234"), &in);
    carry(qk_app_sync(app), &in);
    qk_engine_sync_state(qk_app_engine(app), &acked_after, &last);
    /* the server's word on what it holds moves the mark either way (a
     * server restored from a backup holds less), never past what the phone
     * has or below nothing */
    if (acked_after > last || acked_after < 0)
        abort();
    return 0;
}
