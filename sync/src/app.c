/* app.c: the phone app's engine (qk_app.h): the kiosk's handler, reached
 * in-process. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"
#include "kiosk_handler.h"
#include "qk_app.h"
#include "qk_client.h"
#include "steps.h"
#include "sync_msg.h"

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define QK_APP_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define QK_APP_EXPORT
#endif

struct qk_app {
    qk_engine *e;
    qk_bundle *b;
    qk_kiosk *k;
    qk_lang lang;
    char *key_path, *conf_path; /* dir/device.key, dir/server.json */
};

struct qk_app_reply {
    int status;
    char *body;
    size_t len;
    const char *type;
};

/* The request's headers, as the pages would send them over HTTP. */
typedef struct carried {
    const char *session, *lang;
} carried;

static const char *lookup(const qk_http_req *r, int query, const char *name)
{
    const carried *c = r->conn;
    if (query)
        return NULL;
    if (strcasecmp(name, "X-Kiosk-Session") == 0)
        return c->session;
    if (strcasecmp(name, "Accept-Language") == 0)
        return c->lang;
    return NULL;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

QK_APP_EXPORT int qk_app_open(qk_app **out, const char *dir, const char *bundle,
                              const char *const *trusted_pem, size_t n_trusted, qk_lang lang,
                              char *msg, size_t n)
{
    *out = NULL;
    if (!dir) {
        qk__ymsgf(lang, msg, n, QK_Y_APP_ARGS);
        return QK_EINVAL;
    }
    if (bundle && n_trusted == 0) {
        /* a bundle is trusted for a key, never for want of one */
        qk__ymsgf(lang, msg, n, QK_Y_APP_NO_KEY);
        return QK_EUNTRUSTED;
    }
    qk_app *a = calloc(1, sizeof *a);
    qk_key **keys = calloc(n_trusted ? n_trusted : 1, sizeof *keys);
    char *progress = join(dir, "progress.db");
    char *conf = join(dir, "server.json");
    if (!a || !keys || !progress || !conf) {
        qk__ymsgf(lang, msg, n, QK_Y_OOM);
        free(a), free(keys), free(progress), free(conf);
        return QK_ENOMEM;
    }
    a->lang = lang;
    int rc = QK_OK;
    for (size_t i = 0; rc == QK_OK && i < n_trusted; i++) {
        rc = qk_key_from_pem(&keys[i], trusted_pem[i]);
        if (rc != QK_OK)
            qk__ymsgf(lang, msg, n, QK_Y_APP_KEY, i + 1);
    }
    /* the commands' clock (QUIZKIT_NOW, docs/time.md): in the browser the
     * module's environment, which the app's page may set for a test */
    qk_clock clock;
    if (rc == QK_OK)
        rc = qk_clock_from_env(&clock, lang, msg, n);
    if (rc == QK_OK && bundle) {
        rc = qk_bundle_open_trusted(&a->b, bundle, keys, n_trusted, NULL, lang);
        if (rc != QK_OK)
            snprintf(msg, n, "%s", qk_bundle_errmsg(a->b));
    }
    for (size_t i = 0; i < n_trusted; i++)
        qk_key_free(keys[i]);
    free(keys);
    if (rc == QK_OK) {
        rc = qk_engine_open_v2(&a->e, progress, lang, &clock);
        if (rc != QK_OK)
            snprintf(msg, n, "%s", qk_engine_errmsg(a->e));
    }
    if (rc == QK_OK && bundle) {
        /* a phone keeps its member signed in; the pages are not ours to serve */
        qk_kiosk_config cfg = {.idle_s = -1, .web = "", .server_conf = conf, .lang = lang,
                               .clock = &clock};
        a->k = qk__kiosk_new(a->e, a->b, &cfg, msg, n);
        if (!a->k)
            rc = QK_ENOMEM;
    }
    free(progress);
    a->conf_path = conf;
    a->key_path = join(dir, "device.key");
    if (rc == QK_OK && !a->key_path) {
        qk__ymsgf(lang, msg, n, QK_Y_OOM);
        rc = QK_ENOMEM;
    }
    if (rc != QK_OK) {
        qk_app_close(a);
        return rc;
    }
    *out = a;
    return QK_OK;
}

qk_engine *qk_app_engine(qk_app *a)
{
    return a->e;
}

qk_bundle *qk_app_bundle(qk_app *a)
{
    return a->b;
}

QK_APP_EXPORT void qk_app_close(qk_app *a)
{
    if (!a)
        return;
    qk__kiosk_free(a->k);
    qk_engine_close(a->e);
    qk_bundle_close(a->b);
    free(a->key_path);
    free(a->conf_path);
    free(a);
}

QK_APP_EXPORT qk_app_reply *qk_app_request(qk_app *a, const char *method, const char *path,
                                           const char *session, const char *lang, const char *body,
                                           size_t body_len)
{
    qk_app_reply *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (!body)
        body_len = 0;
    carried c = {.session = session, .lang = lang};
    qk_http_req rq = {.method = method ? method : "GET", .path = path ? path : "/", .loopback = 1,
                      .conn = &c, .lookup = lookup};
    snprintf(rq.addr, sizeof rq.addr, "app");
    qk_http_resp rs = {.status = 200, .fd = -1};
    int answered = 1;
    if (!a)
        qk_http_error(&rs, 500, "server_error", "no app");
    else if (strncmp(rq.path, "/api/", 5) != 0)
        qk_http_error(&rs, 404, "not_found", rq.path);
    else if (!a->k) /* opened before its first bundle came */
        qk_http_error(&rs, 503, "no_bundle", rq.path);
    else if (body_len > qk__kiosk_body_limit(a->k, rq.method, rq.path))
        qk_http_error(&rs, 413, "too_large", rq.path);
    else
        answered = 0;
    if (answered)
        body_len = 0;
    /* the body as the HTTP layer hands it: a NUL-terminated copy (within
     * the handler's limit, checked above) */
    char *copy = NULL;
    if (body_len) {
        copy = malloc(body_len + 1);
        if (!copy) {
            free(r);
            return NULL;
        }
        memcpy(copy, body, body_len);
        copy[body_len] = '\0';
        rq.body = copy;
        rq.body_len = body_len;
    }
    if (!answered)
        qk__kiosk_handle(a->k, &rq, &rs);
    free(copy);
    /* The handler answers the app with bodies only: files and readers are
     * for the pages and bundles it serves over HTTP, which the app has not
     * (no web folder). Should one come, it is refused, not half-read. */
    if (rs.fd >= 0 || rs.read) {
        if (rs.fd >= 0)
            close(rs.fd);
        if (rs.read_free)
            rs.read_free(rs.read_arg);
        free(rs.body);
        rs.body = NULL;
        qk_http_error(&rs, 500, "server_error", rq.path);
    }
    r->status = rs.status;
    r->type = rs.type ? rs.type : "application/octet-stream";
    r->len = rs.len;
    /* one byte more, so that a text body is a C string too */
    r->body = realloc(rs.body, rs.len + 1);
    if (!r->body) {
        free(rs.body);
        free(r);
        return NULL;
    }
    r->body[rs.len] = '\0';
    return r;
}

QK_APP_EXPORT int qk_app_reply_status(const qk_app_reply *r)
{
    return r ? r->status : 500;
}

QK_APP_EXPORT const char *qk_app_reply_body(const qk_app_reply *r)
{
    return r ? r->body : "";
}

QK_APP_EXPORT size_t qk_app_reply_len(const qk_app_reply *r)
{
    return r ? r->len : 0;
}

QK_APP_EXPORT const char *qk_app_reply_type(const qk_app_reply *r)
{
    return r ? r->type : "";
}

QK_APP_EXPORT void qk_app_reply_free(qk_app_reply *r)
{
    if (!r)
        return;
    free(r->body);
    free(r);
}

/* --- enrolment and sync over the app's transport --- */

typedef enum { NET_ENROL, NET_SYNC } net_kind;

struct qk_app_net {
    qk_app *a;
    net_kind kind;
    int started, finished; /* finished: 1 done, -1 failed */
    int roster;            /* the roster's pages, after the enrolment or the push */
    size_t members;        /* members added or changed by them */
    qk_client_conf conf;
    qk_key *key;
    char *code, *name, *member, *pin;
    qk_push *push;
    qk_push_result pr;
    const char *method;
    char url[600];
    char *body;  /* to send: the push's, or owned */
    char *owned; /* the enrolment's body */
    size_t len;
    char error[1024];
    char result[256];
};

static int net_fail(qk_app_net *n)
{
    n->finished = -1;
    n->method = NULL;
    return -1;
}

static void net_request(qk_app_net *n, const char *method, const char *path, char *body, size_t len)
{
    n->method = method;
    snprintf(n->url, sizeof n->url, "%s%s", n->conf.url, path);
    n->body = body;
    n->len = len;
}

qk_app_net *qk_app_enrol(qk_app *a, const char *url, const char *code, const char *name,
                         const char *member, const char *pin)
{
    qk_app_net *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->a = a;
    n->kind = NET_ENROL;
    n->code = strdup(code ? code : "");
    n->name = strdup(name ? name : "");
    n->member = strdup(member ? member : "");
    n->pin = strdup(pin ? pin : "");
    if (!n->code || !n->name || !n->member || !n->pin) {
        qk_app_net_free(n);
        return NULL;
    }
    size_t ul = url ? strlen(url) : 0;
    while (ul && url[ul - 1] == '/')
        ul--;
    if (ul == 0 || ul >= sizeof n->conf.url) {
        qk__ymsgf(a->lang, n->error, sizeof n->error, QK_Y_APP_URL);
        n->finished = -1;
    }
    snprintf(n->conf.url, sizeof n->conf.url, "%.*s", (int)ul, url ? url : "");
    return n;
}

qk_app_net *qk_app_sync(qk_app *a)
{
    qk_app_net *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->a = a;
    n->kind = NET_SYNC;
    char msg[256];
    if (qk_client_conf_load(&n->conf, a->conf_path, msg, sizeof msg) != QK_OK) {
        qk__ymsgf(a->lang, n->error, sizeof n->error, QK_Y_APP_NOT_ENROLLED);
        n->finished = -1;
    }
    return n;
}

/* The phone's key pair: the one it has, or a new one kept now. */
static int device_key(qk_app_net *n)
{
    qk_app *a = n->a;
    char msg[512];
    if (access(a->key_path, F_OK) == 0) {
        if (qk_key_load(&n->key, a->key_path, a->lang, msg, sizeof msg) == QK_OK)
            return QK_OK;
        snprintf(n->error, sizeof n->error, "%s", msg);
        return QK_ECORRUPT;
    }
    int rc = qk_key_generate(&n->key);
    if (rc != QK_OK) {
        qk__ymsgf(a->lang, n->error, sizeof n->error, QK_Y_OOM);
        return rc;
    }
    /* written once, never over another (write_new): a second enrolment
     * keeps the key the server may know already */
    rc = qk_key_write(n->key, a->key_path, NULL, a->lang, msg, sizeof msg);
    if (rc != QK_OK)
        snprintf(n->error, sizeof n->error, "%s", msg);
    return rc;
}

static int roster_step(qk_app_net *n, const json_t *reply);

static int enrol_step(qk_app_net *n, const json_t *reply)
{
    qk_app *a = n->a;
    if (!n->started) {
        n->started = 1;
        int rc = device_key(n);
        if (rc != QK_OK)
            return net_fail(n);
        json_t *body = qk__enrol_body(a->e, n->code, n->name, n->key);
        /* a member's own phone: the server checks the PIN and binds it */
        if (body && n->member[0] &&
            (json_object_set_new(body, "member", json_string(n->member)) != 0 ||
             json_object_set_new(body, "pin", json_string(n->pin)) != 0)) {
            json_decref(body);
            body = NULL;
        }
        char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        if (!text) {
            qk__ymsgf(a->lang, n->error, sizeof n->error, QK_Y_OOM);
            return net_fail(n);
        }
        n->owned = text;
        net_request(n, "POST", "/api/v1/enroll", text, strlen(text));
        return 1;
    }
    int rc = qk__enrol_reply(reply, a->e, &n->conf, a->lang, n->error, sizeof n->error);
    /* enrolled for a member: whoever else the phone held before (its last
     * owner, a shared device's roster) can no longer sign in on it, before
     * the phone counts as enrolled (a roster fetch that fails after this
     * leaves nobody else behind) */
    if (rc == QK_OK && n->member[0] && (rc = qk_member_keep_only(a->e, n->member)) != QK_OK)
        snprintf(n->error, sizeof n->error, "%s", qk_engine_errmsg(a->e));
    if (rc == QK_OK)
        rc = qk_client_conf_save(&n->conf, a->conf_path, n->error, sizeof n->error);
    if (rc != QK_OK)
        return net_fail(n);
    /* enrolled (kept now); then the branch's members, so that they can sign in */
    return roster_step(n, NULL);
}

/* The roster's pages (after the enrolment or the push), then the end: the
 * settings kept with the roster's cursor, and what was done. */
static int roster_step(qk_app_net *n, const json_t *reply)
{
    qk_app *a = n->a;
    int rc = QK_ROW;
    if (n->roster)
        rc = qk__roster_apply(reply, a->e, &n->conf, &n->members, n->error, sizeof n->error);
    n->roster = 1;
    if (rc == QK_ROW) {
        char path[128];
        qk__roster_path(&n->conf, path, sizeof path);
        net_request(n, "GET", path, NULL, 0);
        return 1;
    }
    if (rc != QK_OK)
        return net_fail(n);
    if (n->kind == NET_SYNC)
        n->conf.last_sync_ms = qk_engine_now_ms(a->e);
    if (qk_client_conf_save(&n->conf, a->conf_path, n->error, sizeof n->error) != QK_OK)
        return net_fail(n);
    if (n->kind == NET_ENROL) {
        json_t *r = json_pack("{s:s, s:s, s:I}", "branch", n->conf.branch, "branch_name",
                              n->conf.branch_name, "members", (json_int_t)n->members);
        char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
        json_decref(r);
        snprintf(n->result, sizeof n->result, "%s", text ? text : "{}");
        free(text);
    } else {
        snprintf(n->result, sizeof n->result,
                 "{\"sent\":%lld,\"acked_seq\":%lld,\"pending\":%lld,\"batches\":%d,\"members\":%zu}",
                 (long long)n->pr.sent, (long long)n->pr.acked_seq, (long long)n->pr.pending,
                 n->pr.batches, n->members);
    }
    n->finished = 1;
    n->method = NULL;
    return 0;
}

static int sync_step(qk_app_net *n, const json_t *reply)
{
    qk_app *a = n->a;
    int rc = QK_OK;
    if (!n->started) {
        n->started = 1;
        rc = qk__push_new(&n->push, a->e, &n->pr, a->lang);
        if (rc != QK_OK) {
            qk__ymsgf(a->lang, n->error, sizeof n->error, QK_Y_OOM);
            return net_fail(n);
        }
    }
    qk_push_req req;
    rc = qk__push_next(n->push, reply, &req, n->error, sizeof n->error);
    if (rc == QK_ROW) {
        net_request(n, req.method, req.path, req.body, req.len);
        return 1;
    }
    if (rc != QK_OK)
        return net_fail(n);
    /* every answer acknowledged: then the roster's changes */
    return roster_step(n, NULL);
}

int qk_app_net_next(qk_app_net *n, int status, const char *body, size_t len)
{
    if (!n)
        return -1;
    if (n->finished)
        return n->finished > 0 ? 0 : -1;
    json_t *reply = NULL;
    if (n->started) {
        /* the transport's answer to the request in flight */
        json_error_t je;
        reply = body && len ? json_loadb(body, len, 0, &je) : NULL;
        if (status < 200 || status > 299) {
            const char *m = json_string_value(json_object_get(json_object_get(reply, "error"), "message"));
            /* the transport's own words: len bytes, not a C string */
            char said[256] = "?";
            if (body && len)
                snprintf(said, sizeof said, "%.*s", (int)(len < sizeof said ? len : sizeof said - 1), body);
            if (status == 0)
                qk__ymsgf(n->a->lang, n->error, sizeof n->error, QK_Y_NET, n->conf.url, m ? m : said);
            else if (m) /* a member reads the server's words, not its status code */
                snprintf(n->error, sizeof n->error, "%s", m);
            else
                qk__ymsgf(n->a->lang, n->error, sizeof n->error, QK_Y_HTTP_BARE, (long)status);
            json_decref(reply);
            return net_fail(n);
        }
        if (!json_is_object(reply)) {
            json_decref(reply);
            qk__ymsgf(n->a->lang, n->error, sizeof n->error, QK_Y_BAD_REPLY);
            return net_fail(n);
        }
    }
    int r = n->roster ? roster_step(n, reply)
            : n->kind == NET_ENROL ? enrol_step(n, reply) : sync_step(n, reply);
    json_decref(reply);
    return r;
}

const char *qk_app_net_method(const qk_app_net *n)
{
    return n && n->method ? n->method : "";
}

const char *qk_app_net_url(const qk_app_net *n)
{
    return n && n->method ? n->url : "";
}

const char *qk_app_net_token(const qk_app_net *n)
{
    return n ? n->conf.token : "";
}

const char *qk_app_net_body(const qk_app_net *n)
{
    return n && n->method ? n->body : NULL;
}

size_t qk_app_net_len(const qk_app_net *n)
{
    return n && n->method && n->body ? n->len : 0;
}

const char *qk_app_net_error(const qk_app_net *n)
{
    return n ? n->error : "out of memory";
}

const char *qk_app_net_result(const qk_app_net *n)
{
    return n && n->finished > 0 ? n->result : "{}";
}

void qk_app_net_free(qk_app_net *n)
{
    if (!n)
        return;
    qk_key_free(n->key);
    qk__push_free(n->push);
    free(n->owned);
    free(n->code);
    free(n->name);
    free(n->member);
    if (n->pin) /* not left in memory after use */
        memset(n->pin, 0, strlen(n->pin));
    free(n->pin);
    free(n);
}
