/* http.c: the HTTP layer on libmicrohttpd (see http.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "netlib.h"

struct qk_http {
    struct MHD_Daemon *d;
    qk_http_handler handler;
    qk_http_limit limit;
    void *ctx;
    FILE *log;
    unsigned timeout_s; /* a connection that has sent a request: its idle timeout */
    qk_clock clock;
    pthread_mutex_t log_lock;
    atomic_int in_flight;
    pthread_mutex_t defer_lock; /* waiting and stopping, for qk_http_defer */
    int waiting;                /* deferred and not yet answered */
    int stopping;               /* qk_http_stop has begun: no more deferring */
    MHD_socket quiesced;
    char proxy[64]; /* a reverse proxy's address ("": none), as inet_ntop writes it */
    qk_lang lang;
    atomic_int xff_warned; /* an X-Forwarded-For came with no --proxy: said once */
};

/* Per request: the body as it arrives; and a deferred reply (qk_http_defer):
 * the handler's thread suspends the connection unless the answer came
 * first, the answering thread resumes it, and libmicrohttpd then calls
 * on_request again, which sends the answer. */
typedef struct pending {
    char *buf;
    size_t len, cap, max;
    size_t dropped; /* of a body past its limit, read and not kept */
    int too_big;
    int64_t start; /* monotonic ms */
    qk_http *srv;
    struct MHD_Connection *conn;
    pthread_mutex_t m; /* the fields below */
    int deferred, answered, suspended;
    qk_http_resp answer;
    char who[96]; /* the handler's, for the log line when it is sent */
} pending;

/* A request's headers and query, from libmicrohttpd's connection. */
static const char *mhd_lookup(const qk_http_req *r, int query, const char *name)
{
    return MHD_lookup_connection_value(r->conn, query ? MHD_GET_ARGUMENT_KIND : MHD_HEADER_KIND, name);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, n, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

/* A request the reverse proxy passed on comes from the last address its
 * X-Forwarded-For names (the one the proxy saw: nginx's
 * $proxy_add_x_forwarded_for appends it), when that is an address; from
 * anyone else the header is not believed. */
static void forwarded_addr(qk_http *s, struct MHD_Connection *c, char *addr, size_t n)
{
    if (!s->proxy[0]) {
        /* Most likely a reverse proxy nobody named: then every device is
         * its one address, and one person's failures lock out everyone.
         * Said once, on the server's standard error (the journal under
         * systemd); the header is not believed either way. */
        if (!atomic_load(&s->xff_warned) && MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For") &&
            !atomic_exchange(&s->xff_warned, 1))
            fprintf(stderr,
                    s->lang == QK_LANG_EN
                        ? "quizkit: warning: a request from %s came with X-Forwarded-For, but no --proxy was "
                          "given: if this server is behind a reverse proxy (nginx), give its address with "
                          "--proxy, or every device counts as the proxy's one address (one person's wrong "
                          "enrolment codes would lock out everyone); the header is not believed\n"
                        : "quizkit: 警告：来自 %s 的请求带有 X-Forwarded-For，但没有给 --proxy：如果服务器在反向代理"
                          "（nginx）之后，请用 --proxy 给出代理的地址，否则所有设备都算作代理这一个地址（一个人猜错"
                          "注册码，所有人都会被暂时拒绝）；这个请求头不被采信\n",
                    addr);
        return;
    }
    if (strcmp(addr, s->proxy) != 0)
        return;
    const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    if (!xff)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    char ip[64];
    size_t len = strcspn(last, " \t");
    if (len == 0 || len >= sizeof ip)
        return;
    memcpy(ip, last, len);
    ip[len] = '\0';
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, ip, buf) == 1)
        inet_ntop(AF_INET, buf, addr, (socklen_t)n);
    else if (inet_pton(AF_INET6, ip, buf) == 1)
        inet_ntop(AF_INET6, buf, addr, (socklen_t)n);
}

/* One line per request, its time in Beijing time with the offset written
 * out (2026-12-02T23:59:30.123+08:00), so it reads the same on any machine. */
static void log_line(qk_http *s, const qk_http_req *rq, const qk_http_resp *rs, const pending *p)
{
    if (!s->log)
        return;
    int64_t now = qk_clock_now_ms(&s->clock);
    char ts[QK_TIME_LEN];
    qk_beijing_time_text(now, 1, ts);
    char *sp = strchr(ts, ' '); /* date and time: ISO 8601's T, whatever the year's width */
    if (sp)
        *sp = 'T';
    pthread_mutex_lock(&s->log_lock);
    fprintf(s->log, "%s.%03d+08:00 addr=%s method=%s path=%s status=%d in=%zu out=%llu ms=%lld%s%s\n",
            ts, (int)(((now % 1000) + 1000) % 1000), rq->addr, rq->method, rq->path, rs->status,
            p->len, (unsigned long long)(rs->fd >= 0 ? rs->flen : rs->read ? rs->read_len : rs->len),
            (long long)(qk_clock_real_mono_ms() - p->start), rq->who[0] ? " who=" : "", rq->who);
    fflush(s->log);
    pthread_mutex_unlock(&s->log_lock);
}

/* A reply read a piece at a time (qk_http_resp.read). */
typedef struct reader {
    long (*read)(void *arg, uint64_t pos, char *buf, size_t max);
    void (*read_free)(void *arg);
    void *arg;
} reader;

static ssize_t reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    reader *rd = cls;
    long n = rd->read(rd->arg, pos, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : (ssize_t)n;
}

static void reader_free(void *cls)
{
    reader *rd = cls;
    if (rd->read_free)
        rd->read_free(rd->arg);
    free(rd);
}

#define READ_PIECE ((size_t)256 * 1024)

static enum MHD_Result send_resp(struct MHD_Connection *c, qk_http_resp *rs)
{
    struct MHD_Response *r;
    if (rs->fd < 0 && rs->read) {
        reader *rd = calloc(1, sizeof *rd);
        if (rd) {
            rd->read = rs->read;
            rd->read_free = rs->read_free;
            rd->arg = rs->read_arg;
        } else if (rs->read_free) {
            rs->read_free(rs->read_arg);
        }
        r = rd ? MHD_create_response_from_callback(rs->read_len, READ_PIECE, reader_cb, rd, reader_free)
               : NULL;
        if (rd && !r)
            reader_free(rd);
        rs->read = NULL;
        free(rs->body);
    } else if (rs->fd >= 0) {
        r = MHD_create_response_from_fd_at_offset64(rs->flen, rs->fd, rs->off);
        rs->fd = -1; /* MHD closes it */
        free(rs->body);
    } else {
        r = MHD_create_response_from_buffer(rs->len, rs->body ? rs->body : (void *)"",
                                            rs->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    }
    rs->body = NULL;
    if (!r)
        return MHD_NO;
    if (rs->type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->type);
    /* nothing is kept by a browser's or a proxy's cache, unless the handler
     * says otherwise (the phones' app's files: kept, and asked again) */
    int cache_said = 0;
    for (int i = 0; i < rs->n_headers; i++)
        cache_said |= strcasecmp(rs->headers[i][0], "Cache-Control") == 0;
    if (!cache_said)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    for (int i = 0; i < rs->n_headers; i++)
        MHD_add_response_header(r, rs->headers[i][0], rs->headers[i][1]);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Moves a reply: to takes from's body, file and reader, from keeps none. */
static void move_resp(qk_http_resp *to, qk_http_resp *from)
{
    *to = *from;
    from->body = NULL;
    from->fd = -1;
    from->read = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    qk_http *s = cls;
    pending *p = *con_cls;
    if (!p) {
        /* First call: headers only. Refuse an oversized body before reading it. */
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        p->start = qk_clock_real_mono_ms();
        p->srv = s;
        p->conn = c;
        p->answer.fd = -1;
        pthread_mutex_init(&p->m, NULL);
        /* It has sent a request: from now on the full idle timeout (until
         * then it had QK_HTTP_SILENT_TIMEOUT_S, see qk_http_start). */
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, s->timeout_s);
        p->max = s->limit ? s->limit(s->ctx, method, url) : 0;
        *con_cls = p;
        atomic_fetch_add(&s->in_flight, 1);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > p->max)
            p->too_big = 1;
        else
            return MHD_YES;
    }
    if (*upload_size) {
        if (!p->too_big && p->len + *upload_size > p->max)
            p->too_big = 1;
        if (p->too_big) {
            /* A body without a Content-Length (chunked) grew past the limit:
             * libmicrohttpd takes no reply before the body has ended, so the
             * rest is read and dropped, then 413 is sent; a body that goes on
             * past QK_HTTP_DRAIN_MAX more is cut off without one. */
            p->dropped += *upload_size;
            *upload_size = 0;
            return p->dropped > QK_HTTP_DRAIN_MAX ? MHD_NO : MHD_YES;
        }
        {
            if (p->len + *upload_size + 1 > p->cap) {
                size_t cap = p->cap ? p->cap : 16384;
                while (cap < p->len + *upload_size + 1)
                    cap *= 2;
                char *nb = realloc(p->buf, cap);
                if (!nb)
                    return MHD_NO;
                p->buf = nb;
                p->cap = cap;
            }
            memcpy(p->buf + p->len, upload, *upload_size);
            p->len += *upload_size;
            p->buf[p->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    qk_http_req rq = {.method = method, .path = url, .body = p->buf, .body_len = p->len, .conn = c,
                      .lookup = mhd_lookup};
    client_addr(c, rq.addr, sizeof rq.addr);
    rq.loopback = qk_http_is_loopback(rq.addr);
    forwarded_addr(s, c, rq.addr, sizeof rq.addr);
    qk_http_resp rs = {.status = 500, .fd = -1};
    if (p->deferred) {
        /* resumed: the answer is here */
        pthread_mutex_lock(&p->m);
        int answered = p->answered;
        if (answered)
            move_resp(&rs, &p->answer);
        pthread_mutex_unlock(&p->m);
        if (!answered)
            return MHD_YES;
        snprintf(rq.who, sizeof rq.who, "%s", p->who);
    } else if (p->too_big) {
        char m[128];
        snprintf(m, sizeof m, "the request body is larger than %zu bytes", p->max);
        qk_http_error(&rs, 413, "too_large", m);
    } else {
        rq.later = p;
        s->handler(s->ctx, &rq, &rs);
        if (p->deferred) {
            free(p->buf); /* the handler has read it; a waiting batch holds only its parse */
            p->buf = NULL;
            free(rs.body); /* the answer is what counts */
            rs = (qk_http_resp){.status = 500, .fd = -1};
            snprintf(p->who, sizeof p->who, "%s", rq.who);
            pthread_mutex_lock(&p->m);
            if (!p->answered) {
                MHD_suspend_connection(c);
                p->suspended = 1;
                pthread_mutex_unlock(&p->m);
                return MHD_YES;
            }
            move_resp(&rs, &p->answer); /* answered before it could be suspended */
            pthread_mutex_unlock(&p->m);
        }
    }
    log_line(s, &rq, &rs, p);
    if (rs.fd >= 0 && rs.status >= 300) {
        close(rs.fd);
        rs.fd = -1;
    }
    if (rs.read && rs.status >= 300) {
        if (rs.read_free)
            rs.read_free(rs.read_arg);
        rs.read = NULL;
    }
    return send_resp(c, &rs);
}

qk_http_later *qk_http_defer(qk_http_req *req)
{
    pending *p = req->later;
    if (!p || p->deferred)
        return NULL;
    qk_http *s = p->srv;
    pthread_mutex_lock(&s->defer_lock);
    /* a stop waits only for the deferrals made before it began; and
     * replies waiting are bounded (each holds a parsed batch) */
    int ok = !s->stopping && s->waiting < QK_HTTP_DEFER_MAX;
    s->waiting += ok;
    pthread_mutex_unlock(&s->defer_lock);
    if (!ok)
        return NULL;
    p->deferred = 1;
    return (qk_http_later *)p;
}

static int deferred_now(qk_http *s)
{
    pthread_mutex_lock(&s->defer_lock);
    int n = s->waiting;
    pthread_mutex_unlock(&s->defer_lock);
    return n;
}

void qk_http_answer(qk_http_later *l, qk_http_resp *resp)
{
    pending *p = (pending *)l;
    qk_http *s = p->srv;
    pthread_mutex_lock(&p->m);
    move_resp(&p->answer, resp);
    p->answered = 1;
    if (p->suspended) {
        p->suspended = 0;
        MHD_resume_connection(p->conn);
    }
    pthread_mutex_unlock(&p->m);
    /* the last touch of s: a stop waiting for this may free it next */
    pthread_mutex_lock(&s->defer_lock);
    s->waiting--;
    pthread_mutex_unlock(&s->defer_lock);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
    (void)c;
    (void)why;
    qk_http *s = cls;
    pending *p = *con_cls;
    if (p) {
        free(p->buf);
        free(p->answer.body); /* an answer never sent (the client left) */
        if (p->answer.fd >= 0)
            close(p->answer.fd);
        if (p->answer.read && p->answer.read_free)
            p->answer.read_free(p->answer.read_arg);
        pthread_mutex_destroy(&p->m);
        free(p);
        *con_cls = NULL;
        atomic_fetch_sub(&s->in_flight, 1);
    }
}

qk_http *qk_http_start(const qk_http_opts *o, qk_http_handler h, qk_http_limit lim, void *ctx,
                       char *msg, size_t n)
{
    if (qk__netlib_mhd(o->lang, msg, n) != QK_OK)
        return NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    const char *addr = o->listen ? o->listen : "127.0.0.1";
    int v6 = strchr(addr, ':') != NULL;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)o->port);
        if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
            goto bad_addr;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)o->port);
        if (inet_pton(AF_INET, addr, &a->sin_addr) != 1)
            goto bad_addr;
    }
    unsigned char proxy_bin[sizeof(struct in6_addr)];
    int proxy_v4 = o->proxy && inet_pton(AF_INET, o->proxy, proxy_bin) == 1;
    if (o->proxy && !proxy_v4 && inet_pton(AF_INET6, o->proxy, proxy_bin) != 1) {
        snprintf(msg, n, o->lang == QK_LANG_EN ? "--proxy %s: not an IPv4 or IPv6 address" : "--proxy %s 不是 IPv4 或 IPv6 地址", o->proxy);
        return NULL;
    }
    qk_http *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(msg, n, "out of memory");
        return NULL;
    }
    if (o->proxy) /* written as client_addr writes addresses, to compare */
        inet_ntop(proxy_v4 ? AF_INET : AF_INET6, proxy_bin, s->proxy, sizeof s->proxy);
    s->lang = o->lang;
    s->handler = h;
    s->limit = lim;
    s->ctx = ctx;
    s->log = o->log;
    s->timeout_s = o->timeout_s ? o->timeout_s : 30;
    qk_clock sys = QK_CLOCK_SYSTEM;
    s->clock = o->clock ? *o->clock : sys;
    s->quiesced = MHD_INVALID_SOCKET;
    pthread_mutex_init(&s->log_lock, NULL);
    pthread_mutex_init(&s->defer_lock, NULL);
    /* MHD_USE_AUTO: epoll where there is one (select(), with its limit of
     * 1024 descriptors, elsewhere). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_AUTO |
                     MHD_ALLOW_SUSPEND_RESUME |
                     (v6 ? MHD_USE_IPv6 : 0);
    int tls = o->cert_pem && o->key_pem;
    if (tls)
        flags |= MHD_USE_TLS;
    /* One address cannot take every connection (max_conn_per_addr), and a
     * connection that sends nothing is closed after a few seconds: idle
     * sockets from one host cannot keep the server from everyone else.
     * Behind a reverse proxy every connection comes from it: the proxy
     * limits each client (nginx's limit_conn), not this server. */
    unsigned max_conn = o->max_conn ? o->max_conn : 256;
    unsigned per_addr = o->proxy ? max_conn : o->max_conn_per_addr ? o->max_conn_per_addr : 32;
    unsigned silent = QK_HTTP_SILENT_TIMEOUT_S < s->timeout_s ? QK_HTTP_SILENT_TIMEOUT_S : s->timeout_s;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        /* one thread: the polling thread itself, no pool (a pool of 1 or 0
         * is a warning): the timeout's entry again in its place */
        {o->threads == 1 ? MHD_OPTION_CONNECTION_TIMEOUT : MHD_OPTION_THREAD_POOL_SIZE,
         o->threads == 1 ? silent : o->threads ? o->threads : 4, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, max_conn, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_addr, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, silent, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_done, s},
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)o->cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    s->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY,
                            opts, MHD_OPTION_END);
    if (!s->d) {
        snprintf(msg, n, "cannot listen on %s port %u (%s)", addr, o->port,
                 errno ? strerror(errno) : tls ? "check the certificate and key" : "?");
        pthread_mutex_destroy(&s->log_lock);
        pthread_mutex_destroy(&s->defer_lock);
        free(s);
        return NULL;
    }
    return s;
bad_addr:
    snprintf(msg, n, "\"%s\" is not an IP address", addr);
    return NULL;
}

unsigned qk_http_port(const qk_http *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void qk_http_stop(qk_http *s, int grace_ms)
{
    if (!s)
        return;
    /* Stop accepting, let the requests in flight finish, then stop. */
    s->quiesced = MHD_quiesce_daemon(s->d);
    /* connections kept alive may still send requests: from here on they
     * are answered in their worker thread, never deferred */
    pthread_mutex_lock(&s->defer_lock);
    s->stopping = 1;
    pthread_mutex_unlock(&s->defer_lock);
    /* A deferred request is waited for however long its answer takes (its
     * batch is in the writer's queue, which runs until after this), and
     * then a moment for the answer to go out: libmicrohttpd must not stop
     * with a connection suspended. */
    for (int waited = 0, answered_for = 0;; waited += 10) {
        int deferred = deferred_now(s) > 0, busy = atomic_load(&s->in_flight) > 0;
        if (!deferred && (!busy || (waited >= grace_ms && answered_for >= 200)))
            break;
        answered_for = deferred ? 0 : answered_for + 10;
        struct timespec ts = {0, 10L * 1000000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    if (s->quiesced != MHD_INVALID_SOCKET)
        close(s->quiesced);
    pthread_mutex_destroy(&s->log_lock);
    pthread_mutex_destroy(&s->defer_lock);
    free(s);
}
