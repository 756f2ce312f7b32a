/* app.c: the phone app's engine (qk_app.h): the kiosk's handler, reached
 * in-process. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"
#include "kiosk_handler.h"
#include "qk_app.h"
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
    if (!dir || !bundle) {
        qk__ymsgf(lang, msg, n, QK_Y_APP_ARGS);
        return QK_EINVAL;
    }
    if (n_trusted == 0) {
        /* a bundle is trusted for a key, never for want of one */
        qk__ymsgf(lang, msg, n, QK_Y_APP_NO_KEY);
        return QK_EUNTRUSTED;
    }
    qk_app *a = calloc(1, sizeof *a);
    qk_key **keys = calloc(n_trusted, sizeof *keys);
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
    if (rc == QK_OK) {
        rc = qk_bundle_open_trusted(&a->b, bundle, keys, n_trusted, NULL, lang);
        if (rc != QK_OK)
            snprintf(msg, n, "%s", qk_bundle_errmsg(a->b));
    }
    for (size_t i = 0; i < n_trusted; i++)
        qk_key_free(keys[i]);
    free(keys);
    if (rc == QK_OK) {
        rc = qk_engine_open(&a->e, progress, lang);
        if (rc != QK_OK)
            snprintf(msg, n, "%s", qk_engine_errmsg(a->e));
    }
    if (rc == QK_OK) {
        /* a phone keeps its member signed in; the pages are not ours to serve */
        qk_kiosk_config cfg = {.idle_s = -1, .web = "", .server_conf = conf, .lang = lang};
        a->k = qk__kiosk_new(a->e, a->b, &cfg, msg, n);
        if (!a->k)
            rc = QK_ENOMEM;
    }
    free(progress);
    free(conf);
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
    free(a);
}

/* A reply the handler gave as a file (fd) or a reader, read whole. */
static int read_whole(qk_http_resp *rs)
{
    uint64_t len = rs->fd >= 0 ? rs->flen : rs->read_len;
    if (len > ((uint64_t)64 << 20))
        return 0;
    char *p = malloc((size_t)len + 1);
    size_t got = 0;
    while (p && got < len) {
        long r = rs->fd >= 0 ? (long)pread(rs->fd, p + got, (size_t)len - got, (off_t)(rs->off + got))
                             : rs->read(rs->read_arg, got, p + got, (size_t)len - got);
        if (r <= 0) {
            free(p);
            p = NULL;
            break;
        }
        got += (size_t)r;
    }
    free(rs->body);
    rs->body = p;
    rs->len = p ? (size_t)len : 0;
    return p != NULL;
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
    int whole = 1;
    if (rs.fd >= 0 || rs.read)
        whole = read_whole(&rs);
    if (rs.fd >= 0)
        close(rs.fd);
    if (rs.read_free)
        rs.read_free(rs.read_arg);
    if (!whole) {
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
