/* http.h: a small HTTP(S) server on libmicrohttpd, shared by the central
 * server and the kiosk: a thread pool, bounded connections and bodies,
 * timeouts, one log line per request, and a shutdown that lets requests in
 * flight finish. Handlers see a whole request and fill a response. Internal.
 * The request and reply helpers below (http_msg.c) need no server: the phone
 * app hands its handler requests in-process. */
#ifndef QK_HTTP_H
#define QK_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "quizkit/calendar.h"
#include "quizkit/clock.h"

typedef struct qk_http_req {
    const char *method;
    const char *path; /* without the query */
    const char *body; /* NUL-terminated copy (NULL when empty) */
    size_t body_len;
    char addr[64];   /* the client's address */
    int loopback;    /* the client is on this machine */
    void *conn;      /* the carrier's: libmicrohttpd's connection, or the app's request */
    /* qk_http_header (query 0) and qk_http_query (query 1) ask the carrier */
    const char *(*lookup)(const struct qk_http_req *r, int query, const char *name);
    char who[96];    /* filled by the handler, for the log */
    void *later;     /* qk_http_defer's */
} qk_http_req;

typedef struct qk_http_resp {
    int status;
    char *body; /* malloc'd; freed by the server */
    size_t len;
    const char *type;
    int fd; /* when >= 0: send [off, off+flen) of this file instead of body */
    uint64_t off, flen;
    /* when read is set (and fd < 0): send read_len bytes that read produces,
     * a piece at a time as the client takes them, in the worker thread that
     * ran the handler: the bytes from pos on into buf (at most max), their
     * count, or QK_HTTP_READ_ERROR to cut the reply short. read_free(read_arg)
     * when done (also when never sent). */
    long (*read)(void *arg, uint64_t pos, char *buf, size_t max);
    void (*read_free)(void *arg);
    void *read_arg;
    uint64_t read_len;
    char headers[6][2][256]; /* extra headers */
    /* a page that compiles WebAssembly (the phones' app): its Content-Security-
     * Policy allows that ('wasm-unsafe-eval'), and still no other eval */
    int wasm_page;
    int n_headers;
} qk_http_resp;

#define QK_HTTP_READ_ERROR (-2L)

/* What the server calls for each request, in a worker thread. */
typedef void (*qk_http_handler)(void *ctx, qk_http_req *req, qk_http_resp *resp);
/* The largest body a request may have (0: none), decided before it is read. */
typedef size_t (*qk_http_limit)(void *ctx, const char *method, const char *path);

typedef struct qk_http_opts {
    const char *listen;
    unsigned port;
    const char *cert_pem, *key_pem; /* TLS when both are set */
    unsigned threads, max_conn, timeout_s;
    unsigned max_conn_per_addr; /* connections from one address at once (default 32) */
    const char *proxy;          /* a reverse proxy's address (NULL: none), see qk_server_config */
    FILE *log;
    const qk_clock *clock; /* for the log's times (copied); NULL: the system clock */
    qk_lang lang;          /* of the message when libmicrohttpd cannot be loaded */
} qk_http_opts;

typedef struct qk_http qk_http;

/* How long a connection may stay open without sending a request. */
#define QK_HTTP_SILENT_TIMEOUT_S 5
/* How much of a chunked body past its limit is read (and dropped) to answer
 * it with 413; beyond that the connection is closed without a reply. */
#define QK_HTTP_DRAIN_MAX ((size_t)8 << 20)

qk_http *qk_http_start(const qk_http_opts *o, qk_http_handler h, qk_http_limit lim, void *ctx,
                       char *msg, size_t n);
unsigned qk_http_port(const qk_http *s);
void qk_http_stop(qk_http *s, int grace_ms);

/* A reply given later, from any thread: a handler that would wait (a
 * batch for the writer thread) calls qk_http_defer, hands the token on and
 * returns at once, leaving resp alone; the worker thread goes on serving
 * its other connections. qk_http_answer(token, resp) then sends resp (its
 * body and file taken over), exactly once per token; the request is logged
 * then. The server's stop waits for every deferred request's answer. */
typedef struct qk_http_later qk_http_later;
/* NULL when the request cannot wait (the server is stopping, or
 * QK_HTTP_DEFER_MAX replies wait already): answer it in the handler. */
qk_http_later *qk_http_defer(qk_http_req *req);
#define QK_HTTP_DEFER_MAX 32
void qk_http_answer(qk_http_later *l, qk_http_resp *resp);

const char *qk_http_header(const qk_http_req *r, const char *name);
const char *qk_http_query(const qk_http_req *r, const char *name);

/* Response helpers. */
void qk_http_json(qk_http_resp *r, int status, json_t *body); /* steals body */
void qk_http_error(qk_http_resp *r, int status, const char *code, const char *message);
void qk_http_add_header(qk_http_resp *r, const char *name, const char *value);

/* Serves a file as it is: root/rel, where rel is one or two plain names
 * ([A-Za-z0-9._-], not starting with '.'), so nothing outside root can be
 * named; the type from the extension. 404 JSON when there is no such file. */
void qk_http_static(qk_http_resp *r, const char *root, const char *rel);
/* For a file reply (after qk_http_static): an ETag from the file's size and
 * time, and 304 with no body when the request's If-None-Match names it. */
void qk_http_revalidate(const qk_http_req *rq, qk_http_resp *r);
/* Serves one named file (a vendor script the system provides). */
void qk_http_send_file(qk_http_resp *r, const char *path, const char *type);

/* 1 when the address text is a loopback address. */
int qk_http_is_loopback(const char *addr);

#endif
