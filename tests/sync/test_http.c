/* Tests for sync/src/http.c's replies given later (qk_http_defer): a real
 * server on loopback with one worker thread, and plain sockets as clients.
 * A request whose reply waits (a device's batch in the writer's queue) must
 * not hold up the other connections that worker serves, the reply must
 * arrive whole whether it comes before or after the worker has let go of
 * the connection, and a stop must wait for it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../sync/src/http.h"
#include "support.h"

typedef struct held {
    pthread_mutex_t m;
    pthread_cond_t cv;
    qk_http_later *later; /* the /slow request's, once deferred */
    int release;          /* answer it now */
    int answered;
    pthread_t thread;
    int started;
    qk_http_later *many[64]; /* /held's, answered all at once by release */
    int n_many;
} held;

static void *answer_when_released(void *arg)
{
    held *h = arg;
    pthread_mutex_lock(&h->m);
    while (!h->release)
        pthread_cond_wait(&h->cv, &h->m);
    qk_http_later *l = h->later;
    pthread_mutex_unlock(&h->m);
    qk_http_resp rs = {.status = 500, .fd = -1};
    qk_http_json(&rs, 200, json_pack("{s:s}", "said", "later"));
    qk_http_answer(l, &rs);
    pthread_mutex_lock(&h->m);
    h->answered = 1;
    pthread_mutex_unlock(&h->m);
    return NULL;
}

static void *answer_soon(void *arg)
{
    nanosleep(&(struct timespec){0, 1000000}, NULL);
    qk_http_resp rs = {.status = 500, .fd = -1};
    qk_http_json(&rs, 200, json_pack("{s:s}", "said", "soon"));
    qk_http_answer(arg, &rs);
    return NULL;
}

static void handler(void *ctx, qk_http_req *rq, qk_http_resp *rs)
{
    held *h = ctx;
    if (strcmp(rq->path, "/slow") == 0) {
        qk_http_later *l = qk_http_defer(rq);
        assert_non_null(l);
        assert_null(qk_http_defer(rq)); /* once */
        snprintf(rq->who, sizeof rq->who, "test:slow");
        pthread_mutex_lock(&h->m);
        h->later = l;
        h->started = pthread_create(&h->thread, NULL, answer_when_released, h) == 0;
        pthread_mutex_unlock(&h->m);
        return;
    }
    if (strcmp(rq->path, "/held") == 0) {
        qk_http_later *l = qk_http_defer(rq);
        if (!l) { /* too many wait already: answered here */
            qk_http_json(rs, 200, json_pack("{s:s}", "said", "not deferred"));
            return;
        }
        pthread_mutex_lock(&h->m);
        h->many[h->n_many++] = l;
        pthread_mutex_unlock(&h->m);
        return;
    }
    if (strcmp(rq->path, "/quick") == 0) { /* answered a moment later by another thread */
        qk_http_later *l = qk_http_defer(rq);
        pthread_t t;
        if (!l)
            qk_http_json(rs, 200, json_pack("{s:s}", "said", "not deferred"));
        else if (pthread_create(&t, NULL, answer_soon, l) == 0)
            pthread_detach(t);
        else
            fail_msg("no thread to answer with");
        return;
    }
    if (strcmp(rq->path, "/at-once") == 0) { /* answered before the worker lets go */
        qk_http_later *l = qk_http_defer(rq);
        qk_http_resp now = {.status = 500, .fd = -1};
        qk_http_json(&now, 201, json_pack("{s:s}", "said", "at once"));
        qk_http_answer(l, &now);
        return;
    }
    qk_http_json(rs, 200, json_pack("{s:s}", "said", "fast"));
}

static size_t no_limit(void *ctx, const char *method, const char *path)
{
    (void)ctx;
    (void)method;
    (void)path;
    return 1024;
}

static int connect_to(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_get(int fd, const char *path)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
}

/* 1 when fd has something to read within ms. */
static int readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

/* The whole reply (the server closes the connection after it). */
static char *read_all(int fd)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (;;) {
        assert_true(readable(fd, 10000));
        ssize_t n = read(fd, buf + len, cap - len - 1);
        assert_true(n >= 0);
        if (n == 0)
            break;
        len += (size_t)n;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    close(fd);
    return buf;
}

/* A reply's text has its status line and says `said`. */
static void assert_reply(const char *r, const char *status, const char *said)
{
    char want[96];
    snprintf(want, sizeof want, "\"said\":\"%s\"", said);
    assert_non_null(strstr(r, status));
    assert_non_null(strstr(r, want));
}

/* A request on a connection of its own, and its whole reply checked. */
static void get_expect(unsigned port, const char *path, const char *status, const char *said)
{
    int fd = connect_to(port);
    send_get(fd, path);
    char *r = read_all(fd);
    assert_reply(r, status, said);
    free(r);
}

typedef struct fx {
    held h;
    qk_http *http;
    unsigned port;
    char *dir;
    FILE *log;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    pthread_mutex_init(&x->h.m, NULL);
    pthread_cond_init(&x->h.cv, NULL);
    x->dir = qkt_tmpdir();
    char *path = qkt_path(x->dir, "access.log");
    x->log = fopen(path, "w+");
    free(path);
    qk_http_opts o = {.listen = "127.0.0.1", .threads = 1, .log = x->log, .max_conn_per_addr = 100};
    char msg[256];
    x->http = qk_http_start(&o, handler, no_limit, &x->h, msg, sizeof msg);
    assert_non_null(x->http);
    x->port = qk_http_port(x->http);
    *state = x;
    return 0;
}

static void release(held *h)
{
    pthread_mutex_lock(&h->m);
    h->release = 1;
    pthread_cond_broadcast(&h->cv);
    int n = h->n_many;
    h->n_many = 0;
    pthread_mutex_unlock(&h->m);
    for (int i = 0; i < n; i++) {
        qk_http_resp rs = {.status = 500, .fd = -1};
        qk_http_json(&rs, 200, json_pack("{s:s}", "said", "held"));
        qk_http_answer(h->many[i], &rs);
    }
}

static int teardown(void **state)
{
    fx *x = *state;
    release(&x->h);
    qk_http_stop(x->http, 1000);
    if (x->h.started)
        pthread_join(x->h.thread, NULL);
    fclose(x->log);
    qkt_rmrf(x->dir);
    free(x->dir);
    pthread_cond_destroy(&x->h.cv);
    pthread_mutex_destroy(&x->h.m);
    free(x);
    return 0;
}

/* 1 once met(arg) holds, checked every 10 ms for up to ms; else 0. */
static int wait_until(int (*met)(void *), void *arg, int ms)
{
    for (int waited = 0; waited < ms; waited += 10) {
        if (met(arg))
            return 1;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    return met(arg);
}

static int slow_deferred(void *arg)
{
    held *h = arg;
    pthread_mutex_lock(&h->m);
    int d = h->later != NULL;
    pthread_mutex_unlock(&h->m);
    return d;
}

static int all_held(void *arg)
{
    held *h = arg;
    pthread_mutex_lock(&h->m);
    int n = h->n_many;
    pthread_mutex_unlock(&h->m);
    return n == QK_HTTP_DEFER_MAX;
}

/* Waits until the /slow request has been deferred. */
static void until_deferred(held *h)
{
    if (!wait_until(slow_deferred, h, 10000))
        fail_msg("the slow request never reached the handler");
}

/* With one worker thread: while /slow waits for its answer, /fast on
 * another connection is answered; then /slow gets its own answer, whole. */
static void a_waiting_reply_does_not_hold_up_the_worker(void **state)
{
    fx *x = *state;
    int slow = connect_to(x->port);
    send_get(slow, "/slow");
    until_deferred(&x->h);
    get_expect(x->port, "/fast", "200 OK", "fast");
    assert_false(readable(slow, 100)); /* still waiting */
    release(&x->h);
    char *r = read_all(slow);
    assert_reply(r, "200 OK", "later");
    assert_non_null(strstr(r, "Cache-Control: no-store"));
    free(r);
    /* logged when sent, with who the handler said it was */
    fflush(x->log);
    char line[512];
    int seen = 0;
    rewind(x->log);
    while (fgets(line, sizeof line, x->log))
        seen += strstr(line, "path=/slow status=200") && strstr(line, "who=test:slow");
    assert_int_equal(seen, 1);
}

/* An answer given before the handler returns is sent as well. */
static void an_answer_before_the_worker_lets_go_is_sent(void **state)
{
    fx *x = *state;
    for (int i = 0; i < 3; i++)
        get_expect(x->port, "/at-once", "201 Created", "at once");
}

typedef struct stopper {
    qk_http *http;
    int done;
    pthread_mutex_t m;
} stopper;

static void *stop_it(void *arg)
{
    stopper *s = arg;
    qk_http_stop(s->http, 50); /* a grace far shorter than the wait */
    pthread_mutex_lock(&s->m);
    s->done = 1;
    pthread_mutex_unlock(&s->m);
    return NULL;
}

static int stopped(void *arg)
{
    stopper *st = arg;
    pthread_mutex_lock(&st->m);
    int done = st->done;
    pthread_mutex_unlock(&st->m);
    return done;
}

/* A stop begun while a reply waits waits for it: the client gets it whole. */
static void a_stop_waits_for_a_waiting_reply(void **state)
{
    fx *x = *state;
    int slow = connect_to(x->port);
    send_get(slow, "/slow");
    until_deferred(&x->h);
    stopper st = {.http = x->http};
    pthread_mutex_init(&st.m, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_it, &st), 0);
    nanosleep(&(struct timespec){0, 300000000}, NULL);
    pthread_mutex_lock(&st.m);
    assert_int_equal(st.done, 0); /* still waiting, past its grace */
    pthread_mutex_unlock(&st.m);
    release(&x->h);
    char *r = read_all(slow);
    assert_reply(r, "200 OK", "later");
    free(r);
    pthread_join(t, NULL);
    assert_int_equal(st.done, 1);
    pthread_mutex_destroy(&st.m);
    x->http = NULL; /* stopped */
}

/* A client that leaves while its reply waits: the reply goes nowhere, the
 * server goes on (under ASan in CI: nothing freed twice or leaked). */
static void a_client_gone_while_its_reply_waits(void **state)
{
    fx *x = *state;
    int slow = connect_to(x->port);
    send_get(slow, "/slow");
    until_deferred(&x->h);
    close(slow);
    release(&x->h);
    pthread_join(x->h.thread, NULL);
    x->h.started = 0;
    get_expect(x->port, "/fast", "200 OK", "fast");
}

/* Replies waiting are bounded: past QK_HTTP_DEFER_MAX the handler answers
 * in its worker (a waiting batch holds its parse in memory). */
static void waiting_replies_are_bounded(void **state)
{
    fx *x = *state;
    int fds[QK_HTTP_DEFER_MAX];
    for (int i = 0; i < QK_HTTP_DEFER_MAX; i++) {
        fds[i] = connect_to(x->port);
        send_get(fds[i], "/held");
    }
    assert_true(wait_until(all_held, &x->h, 10000)); /* all of them deferred */
    get_expect(x->port, "/held", "200 OK", "not deferred");
    release(&x->h);
    for (int i = 0; i < QK_HTTP_DEFER_MAX; i++) {
        char *r = read_all(fds[i]);
        assert_reply(r, "200 OK", "held");
        free(r);
    }
}

static atomic_int sending, replies;

static int some_replies(void *arg)
{
    (void)arg;
    return atomic_load(&replies) >= 20;
}

/* Keep-alive requests for /quick, one after another, until told to stop or
 * the server goes away; replies counts what came back. */
static void *keep_asking(void *arg)
{
    fx *x = arg;
    int fd = connect_to(x->port);
    char buf[4096];
    while (atomic_load(&sending)) {
        static const char req[] = "GET /quick HTTP/1.1\r\nHost: localhost\r\n\r\n";
        if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
            break;
        /* one reply: its headers, then Content-Length bytes */
        size_t got = 0, want = 0;
        char *end = NULL;
        while (!end || got < want) {
            if (!readable(fd, 5000) || got == sizeof buf - 1)
                goto out;
            ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
            if (n <= 0)
                goto out;
            got += (size_t)n;
            buf[got] = '\0';
            if (!end && (end = strstr(buf, "\r\n\r\n")) != NULL) {
                const char *cl = strstr(buf, "Content-Length: ");
                if (!cl || cl > end)
                    goto out;
                want = (size_t)(end - buf) + 4 + strtoul(cl + 16, NULL, 10);
            }
        }
        atomic_fetch_add(&replies, 1);
    }
out:
    close(fd);
    return NULL;
}

/* A stop while clients keep asking on connections kept alive ends within
 * its grace and does not abort: what arrives after it began is answered in
 * the worker, never left suspended (libmicrohttpd aborts a stop with a
 * connection suspended). */
static void a_stop_amid_kept_alive_requests(void **state)
{
    fx *x = *state;
    atomic_store(&sending, 1);
    atomic_store(&replies, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, keep_asking, x), 0);
    assert_true(wait_until(some_replies, NULL, 10000)); /* the clients are going */
    stopper st = {.http = x->http};
    pthread_mutex_init(&st.m, NULL);
    pthread_t s;
    assert_int_equal(pthread_create(&s, NULL, stop_it, &st), 0);
    int done = wait_until(stopped, &st, 3000); /* the grace is 50 ms */
    int still = atomic_load(&sending);
    atomic_store(&sending, 0);
    pthread_join(s, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    pthread_mutex_destroy(&st.m);
    x->http = NULL;
    assert_true(still);
    assert_int_equal(done, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_waiting_reply_does_not_hold_up_the_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(an_answer_before_the_worker_lets_go_is_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stop_waits_for_a_waiting_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(a_client_gone_while_its_reply_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(waiting_replies_are_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stop_amid_kept_alive_requests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
