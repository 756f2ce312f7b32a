/* client.c: the device's HTTPS client on libcurl (see qk_client.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zlib.h>

#include "netlib.h"
#include "steps.h"
#include "qk_client.h"
#include "request.h"
#include "store.h"
#include "sync_msg.h"

struct qk_client {
    CURL *curl;
    qk_client_conf conf;
    qk_lang lang;
    long status;     /* of the last request; 0 when it never got an answer */
    int retryable;   /* the last failure may go away by itself */
    qk_clock clock;  /* the device's clock (qk_client_use_clock) */
};

typedef struct buf {
    char *p;
    size_t len, cap, max;
} buf;

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
    buf *b = ud;
    size_t n = size * nmemb;
    if (b->len + n > b->max)
        return 0; /* an answer this big is not ours: abort */
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return 0;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* A loopback host: 127.0.0.0/8, ::1 or the name localhost itself. */
static int loopback_host(const char *host)
{
    unsigned char a[16];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        char v6[64];
        if (n - 2 >= sizeof v6)
            return 0;
        memcpy(v6, host + 1, n - 2);
        v6[n - 2] = '\0';
        static const unsigned char one[16] = {[15] = 1};
        return inet_pton(AF_INET6, v6, a) == 1 && memcmp(a, one, 16) == 0;
    }
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    return strcasecmp(host, "localhost") == 0;
}

/* https:// to any host; http:// only to this machine (DESIGN.md decision 6).
 * The URL is parsed by libcurl, the same parser that will connect, never
 * matched by prefix: "http://127.0.0.1:9@example.invalid" names the host
 * example.invalid. Credentials in the URL are refused too. */
static int url_ok(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
    int ok = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host &&
        curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER &&
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_NO_PASSWORD) {
        ok = strcmp(scheme, "https") == 0 || (strcmp(scheme, "http") == 0 && loopback_host(host));
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(u);
    return ok;
}

int qk_client_new(qk_client **out, const qk_client_conf *conf, qk_lang lang, char *msg, size_t n)
{
    *out = NULL;
    int rc = qk__netlib_curl(lang, msg, n);
    if (rc != QK_OK)
        return rc;
    if (!url_ok(conf->url)) {
        qk__ymsgf(lang, msg, n, QK_Y_URL, conf->url);
        return QK_EINVAL;
    }
    qk_client *c = calloc(1, sizeof *c);
    if (!c || !(c->curl = curl_easy_init())) {
        free(c);
        qk__ymsgf(lang, msg, n, QK_Y_OOM);
        return QK_ENOMEM;
    }
    c->conf = *conf;
    c->lang = lang;
    qk_client_use_clock(c, NULL);
    /* Strip a trailing slash so paths join cleanly. */
    size_t ul = strlen(c->conf.url);
    while (ul > 0 && c->conf.url[ul - 1] == '/')
        c->conf.url[--ul] = '\0';
    *out = c;
    return QK_OK;
}

void qk_client_use_clock(qk_client *c, const qk_clock *clock)
{
    qk_clock sys = QK_CLOCK_SYSTEM;
    c->clock = clock ? *clock : sys;
}

void qk_client_free(qk_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

int qk_client_retryable(const qk_client *c)
{
    return c->retryable;
}

/* What every transfer sets: timeouts, TLS verification and the pin. */
/* Why a transfer failed, in the person's language: the common network
 * failures in Chinese with what to check; anything else as libcurl says it. */
static const char *net_reason(CURLcode cr, const char *errbuf, qk_lang lang)
{
    if (lang == QK_LANG_EN)
        return errbuf[0] ? errbuf : curl_easy_strerror(cr);
    switch (cr) {
    case CURLE_COULDNT_CONNECT:
        return "连不上（服务器没有运行，或地址、端口不对）";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "找不到这个服务器名称（检查地址是否写对、网络是否连通）";
    case CURLE_COULDNT_RESOLVE_PROXY:
        return "找不到代理服务器（检查代理设置）";
    case CURLE_OPERATION_TIMEDOUT:
        return "等待服务器超时（网络太慢或中断了，稍后再试）";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return "服务器的证书无法验证（证书不受信任、已过期或地址不符），请联系服务器管理员";
    case CURLE_SSL_CONNECT_ERROR:
        return "加密连接建立失败（请联系服务器管理员）";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        return "连接中断了（网络不稳定，稍后再试）";
    case CURLE_GOT_NOTHING:
        return "服务器没有回答（稍后再试）";
    default:
        return errbuf[0] ? errbuf : curl_easy_strerror(cr);
    }
}

static void set_common(qk_client *c, CURL *h, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    /* Slow is fine, stalled is not: under 100 B/s for 30 s ends the transfer. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 100L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->conf.cacert[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, c->conf.cacert);
    if (c->conf.pin[0])
        curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->conf.pin);
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
}

/* One request. body may be NULL. *reply gets the parsed JSON answer of a 2xx
 * (NULL allowed). A non-2xx answer becomes msg with the server's message. */
static int request(qk_client *c, const char *method, const char *path, const void *body,
                   size_t len, const char *ctype, int gzip, json_t **reply, char *msg, size_t n)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->conf.url, path);
    buf b = {NULL, 0, 0, (size_t)16 * 1024 * 1024};
    struct curl_slist *hdr = NULL;
    char auth[128];
    if (c->conf.token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->conf.token);
        hdr = curl_slist_append(hdr, auth);
    }
    hdr = curl_slist_append(hdr, c->lang == QK_LANG_EN ? "Accept-Language: en" : "Accept-Language: zh-CN");
    char ct[128];
    if (ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        hdr = curl_slist_append(hdr, ct);
    }
    if (gzip)
        hdr = curl_slist_append(hdr, "Content-Encoding: gzip");
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    char errbuf[CURL_ERROR_SIZE];
    set_common(c, h, errbuf);
    CURLcode cr = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    c->status = 0;
    c->retryable = 0;
    if (reply)
        *reply = NULL;
    if (cr != CURLE_OK) {
        /* TLS trust problems will not go away by waiting. */
        c->retryable = cr != CURLE_PEER_FAILED_VERIFICATION && cr != CURLE_SSL_PINNEDPUBKEYNOTMATCH &&
                       cr != CURLE_SSL_CACERT_BADFILE && cr != CURLE_URL_MALFORMAT &&
                       cr != CURLE_UNSUPPORTED_PROTOCOL;
        qk__ymsgf(c->lang, msg, n, QK_Y_NET, c->conf.url, net_reason(cr, errbuf, c->lang));
        free(b.p);
        return QK_EIO;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    json_error_t je;
    json_t *j = b.len ? json_loadb(b.p, b.len, 0, &je) : NULL;
    free(b.p);
    if (c->status < 200 || c->status > 299) {
        c->retryable = c->status >= 500 || c->status == 429 || c->status == 408;
        const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        /* no words of the server's own: a proxy in front said it (nginx's 502
         * when the instance behind it is gone), or the server could not */
        char why[256];
        qk__ymsgf(c->lang, why, sizeof why, c->status >= 502 && c->status <= 504 ? QK_Y_HTTP_GATEWAY
                                                                                 : QK_Y_HTTP_NO_REASON);
        qk__ymsgf(c->lang, msg, n, QK_Y_HTTP, c->status, m ? m : why);
        json_decref(j);
        return c->status == 401 || c->status == 403 ? QK_EPERM
               : c->status == 404                    ? QK_ENOTFOUND
               : c->status == 409                    ? QK_EEXISTS
                                                     : QK_EIO;
    }
    if (reply && !json_is_object(j)) {
        json_decref(j);
        c->retryable = 1;
        qk__ymsgf(c->lang, msg, n, QK_Y_BAD_REPLY);
        return QK_EIO;
    }
    if (reply)
        *reply = j;
    else
        json_decref(j);
    return QK_OK;
}

static int post_json(qk_client *c, const char *path, json_t *body, json_t **reply, char *msg,
                     size_t n)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        qk__ymsgf(c->lang, msg, n, QK_Y_OOM);
        return QK_ENOMEM;
    }
    int rc = request(c, "POST", path, text, strlen(text), "application/json", 0, reply, msg, n);
    free(text);
    return rc;
}

int qk_client_call(qk_client *c, const char *method, const char *path, const void *body,
                   size_t len, const char *ctype, json_t **reply, char *msg, size_t n)
{
    return request(c, method, path, body, len, ctype, 0, reply, msg, n);
}

int qk_client_login(qk_client *c, const char *user, const char *password, char *msg, size_t n)
{
    json_t *reply = NULL;
    int rc = post_json(c, "/api/v1/login", json_pack("{s:s, s:s}", "user", user, "password", password),
                       &reply, msg, n);
    const char *token = json_string_value(json_object_get(reply, "token"));
    if (rc == QK_OK && (!token || strlen(token) >= sizeof c->conf.token)) {
        qk__ymsgf(c->lang, msg, n, QK_Y_BAD_REPLY);
        rc = QK_EIO;
    }
    if (rc == QK_OK)
        snprintf(c->conf.token, sizeof c->conf.token, "%s", token);
    json_decref(reply);
    return rc;
}

int qk_client_enroll(qk_client *c, qk_engine *e, const char *code, const char *name,
                     const qk_key *device_key, qk_client_conf *conf, char *msg, size_t n)
{
    json_t *body = qk__enrol_body(e, code, name, device_key);
    if (!body) {
        qk__ymsgf(c->lang, msg, n, QK_Y_OOM);
        return QK_ENOMEM;
    }
    json_t *reply = NULL;
    int rc = post_json(c, "/api/v1/enroll", body, &reply, msg, n);
    if (rc == QK_OK)
        rc = qk__enrol_reply(reply, e, conf, c->lang, msg, n);
    if (rc == QK_OK)
        c->conf = *conf;
    json_decref(reply);
    return rc;
}

char *qk__gzip(const char *in, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    char *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int zr = out ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* The steps are push.c's; here they go over libcurl, the events gzipped. */
int qk_client_push(qk_client *c, qk_engine *e, qk_progress_fn fn, void *ctx, qk_push_result *r,
                   char *msg, size_t n)
{
    qk_push *p = NULL;
    if (qk__push_new(&p, e, r, c->lang) != QK_OK) {
        qk__ymsgf(c->lang, msg, n, QK_Y_OOM);
        return QK_ENOMEM;
    }
    json_t *reply = NULL;
    qk_push_req req;
    int rc;
    while ((rc = qk__push_next(p, reply, &req, msg, n)) == QK_ROW) {
        json_decref(reply);
        reply = NULL;
        int64_t done = 0, total = 0;
        if (fn && qk__push_progress(p, &done, &total))
            fn(ctx, done, total);
        size_t zlen = 0;
        char *z = req.body ? qk__gzip(req.body, req.len, &zlen) : NULL;
        if (req.body && !z) {
            qk__ymsgf(c->lang, msg, n, QK_Y_OOM);
            rc = QK_ENOMEM;
            break;
        }
        rc = request(c, req.method, req.path, z, zlen, z ? "application/json" : NULL, z != NULL,
                     &reply, msg, n);
        free(z);
        if (rc != QK_OK)
            break;
    }
    json_decref(reply);
    int64_t done = 0, total = 0;
    if (fn && qk__push_progress(p, &done, &total))
        fn(ctx, done, total);
    qk__push_free(p);
    return rc;
}

int qk_client_pull_roster(qk_client *c, qk_engine *e, qk_client_conf *conf, size_t *changed,
                          char *msg, size_t n)
{
    *changed = 0;
    for (;;) {
        char path[128];
        qk__roster_path(conf, path, sizeof path);
        json_t *reply = NULL;
        int rc = request(c, "GET", path, NULL, 0, NULL, 0, &reply, msg, n);
        if (rc != QK_OK)
            return rc;
        rc = qk__roster_apply(reply, e, conf, changed, msg, n);
        json_decref(reply);
        if (rc != QK_ROW)
            return rc;
    }
}

int qk_client_clock_offset(qk_client *c, int64_t *offset_ms, char *msg, size_t n)
{
    int64_t before = qk_clock_now_ms(&c->clock);
    json_t *reply = NULL;
    int rc = request(c, "GET", "/api/v1/time", NULL, 0, NULL, 0, &reply, msg, n);
    if (rc != QK_OK)
        return rc;
    int64_t after = qk_clock_now_ms(&c->clock);
    json_int_t server = json_integer_value(json_object_get(reply, "server_ms"));
    json_decref(reply);
    /* The server read its clock about half-way through the round trip. */
    *offset_ms = server - (before + (after - before) / 2);
    return QK_OK;
}

int qk_client_catalogue(qk_client *c, json_t **bundles, char *msg, size_t n)
{
    json_t *reply = NULL;
    int rc = request(c, "GET", "/api/v1/bundles", NULL, 0, NULL, 0, &reply, msg, n);
    if (rc != QK_OK)
        return rc;
    *bundles = json_incref(json_object_get(reply, "bundles"));
    json_decref(reply);
    if (!json_is_array(*bundles)) {
        json_decref(*bundles);
        *bundles = NULL;
        qk__ymsgf(c->lang, msg, n, QK_Y_BAD_REPLY);
        return QK_EIO;
    }
    return QK_OK;
}

typedef struct dl {
    FILE *f;
    qk_progress_fn fn;
    void *ctx;
    int64_t base, total;
} dl;

static size_t on_file(char *data, size_t size, size_t nmemb, void *ud)
{
    return fwrite(data, size, nmemb, ((dl *)ud)->f) * size;
}

static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ult, curl_off_t uln)
{
    (void)ult;
    (void)uln;
    dl *d = ud;
    if (d->fn && dltotal > 0)
        d->fn(d->ctx, d->base + dlnow, d->base + dltotal);
    return 0;
}

int qk_client_download(qk_client *c, const char *id, const char *version, const char *sha256,
                       const char *dest, qk_progress_fn fn, void *ctx, char *msg, size_t n)
{
    char part[4096], url[1024];
    snprintf(part, sizeof part, "%s.part", dest);
    struct stat st;
    int64_t have = stat(part, &st) == 0 ? (int64_t)st.st_size : 0;
    dl d = {fopen(part, "ab"), fn, ctx, have, 0};
    if (!d.f) {
        qk__ymsgf(c->lang, msg, n, QK_Y_WRITE, part, strerror(errno));
        return QK_EIO;
    }
    snprintf(url, sizeof url, "%s/api/v1/bundles/%s/%s", c->conf.url, id, version);
    CURL *h = c->curl;
    curl_easy_reset(h);
    struct curl_slist *hdr = NULL;
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->conf.token);
    hdr = curl_slist_append(hdr, auth);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    char range[64];
    if (have > 0) {
        snprintf(range, sizeof range, "%lld-", (long long)have);
        curl_easy_setopt(h, CURLOPT_RANGE, range);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_file);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &d);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    char errbuf[CURL_ERROR_SIZE];
    set_common(c, h, errbuf);
    CURLcode cr = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    int closed = fclose(d.f);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cr == CURLE_HTTP_RETURNED_ERROR && status == 416 && have > 0) {
        /* The part file is whole (or from another file): check it below. */
        cr = CURLE_OK;
    }
    if (cr != CURLE_OK || closed != 0) {
        c->retryable = 1;
        qk__ymsgf(c->lang, msg, n, QK_Y_NET, c->conf.url, net_reason(cr, errbuf, c->lang));
        return QK_EIO;
    }
    size_t len = 0;
    int err = 0;
    FILE *f = fopen(part, "rb");
    char *data = NULL;
    if (f && fstat(fileno(f), &st) == 0 && (data = malloc((size_t)st.st_size + 1)) != NULL)
        len = fread(data, 1, (size_t)st.st_size, f);
    if (f)
        fclose(f);
    (void)err;
    char got[65] = "";
    if (data)
        qk_sha256_hex(got, data, len);
    free(data);
    if (strcmp(got, sha256) != 0) {
        unlink(part); /* start over next time */
        c->retryable = 1;
        qk__ymsgf(c->lang, msg, n, QK_Y_SHA, dest);
        return QK_ECORRUPT;
    }
    if (rename(part, dest) != 0) {
        qk__ymsgf(c->lang, msg, n, QK_Y_WRITE, dest, strerror(errno));
        return QK_EIO;
    }
    return QK_OK;
}
