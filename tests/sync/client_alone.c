/* client_alone.c: a device's sync, linked against quizkit_client alone (issue
 * 20: an app embeds the client without the server, the kiosk or statistics).
 * It writes a USB batch file of a progress file's events and reads it back,
 * checks its signature, refuses the batch as an acknowledgement, keeps the
 * client's configuration, and asks a server (a one-request responder on
 * loopback, in a thread here) for its clock over HTTP with libcurl, then the
 * same port closed. tests/sync/test_client_alone.sh runs it and checks what
 * it links. Prints "ok - ..." per check; exit 1 when any failed.
 *   usage: client_alone DIR (an empty folder of its own) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "qk_client.h"
#include "qk_sync.h"

#define HOUR_MS 3600000

static int failures;

static void check(int ok, const char *what, const char *detail)
{
    if (ok) {
        printf("ok - %s\n", what);
    } else {
        printf("FAIL - %s%s%s\n", what, detail && detail[0] ? ": " : "", detail ? detail : "");
        failures++;
    }
}

/* The whole of a gzipped file (a batch), NUL-terminated; NULL on failure. */
static char *read_gz(const char *path)
{
    gzFile g = gzopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf = g ? malloc(cap) : NULL;
    int got = 0;
    while (buf && (got = gzread(g, buf + n, (unsigned)(cap - n - 1))) > 0) {
        n += (size_t)got;
        if (n + 1 == cap) {
            char *nb = cap < ((size_t)1 << 26) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (g)
        gzclose(g);
    if (buf && got < 0) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    return buf;
}

static int unhex(unsigned char *out, size_t cap, const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = hex[2 * i + (size_t)k];
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + (unsigned)d;
        }
        out[i] = (unsigned char)v;
    }
    *len = n / 2;
    return 0;
}

/* A batch file as a server would read it: a header line, then the events;
 * the header names this device and the count, and its signature over the
 * events' SHA-256 verifies with the device's key. */
static void check_batch(const char *path, qk_engine *e, const qk_key *k, size_t n)
{
    char *text = read_gz(path);
    char *nl = text ? strchr(text, '\n') : NULL;
    json_t *head = nl ? json_loadb(text, (size_t)(nl - text), 0, NULL) : NULL;
    char *body = nl ? nl + 1 : NULL;
    char *end = body ? strchr(body, '\n') : NULL;
    if (end)
        *end = '\0';
    json_t *events = end ? json_loads(body, 0, NULL) : NULL;
    const char *fmt = json_string_value(json_object_get(head, "format"));
    const char *dev = json_string_value(json_object_get(head, "device_id"));
    check(
        fmt && strcmp(fmt, QK_BATCH_FORMAT) == 0 && dev && strcmp(dev, qk_engine_device_id(e)) == 0,
        "the batch file is gzipped, its header a quizkit-batch of this device", text ? text : path);
    check(json_integer_value(json_object_get(head, "events")) == (json_int_t)n &&
              json_array_size(events) == n,
          "its header counts the events the file holds", NULL);
    size_t added = 0;
    for (size_t i = 0; i < json_array_size(events); i++) {
        const char *kind = json_string_value(json_object_get(json_array_get(events, i), "kind"));
        added += kind && strcmp(kind, "member.added") == 0;
    }
    check(added == 2, "the two members added are in it", NULL);
    char hash_hex[65];
    const char *want = json_string_value(json_object_get(head, "body_sha256"));
    const char *sig_hex = json_string_value(json_object_get(head, "signature"));
    unsigned char hash[32], sig[QK_KEY_SIG_MAX];
    size_t hlen = 0, slen = 0;
    int signed_ok = 0;
    if (body && want && sig_hex) {
        qk_sha256_hex(hash_hex, body, strlen(body));
        signed_ok = strcmp(hash_hex, want) == 0 && unhex(hash, sizeof hash, want, &hlen) == 0 &&
                    hlen == sizeof hash && unhex(sig, sizeof sig, sig_hex, &slen) == 0 &&
                    qk_key_verify(k, hash, sig, slen) == QK_OK;
    }
    check(signed_ok, "its events' SHA-256 is signed with the device's key", NULL);
    if (end)
        *end = '\n';
    json_decref(events);
    json_decref(head);
    free(text);
}

/* The server's side of one request: answers GET /api/v1/time, keeps the
 * request's head for the checks, and closes its socket. */
typedef struct responder {
    int fd;
    char request[2048];
} responder;

static void *respond(void *arg)
{
    responder *r = arg;
    int c = accept(r->fd, NULL, NULL);
    size_t n = 0;
    while (c >= 0 && n + 1 < sizeof r->request) {
        ssize_t got = read(c, r->request + n, sizeof r->request - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
        r->request[n] = '\0';
        if (strstr(r->request, "\r\n\r\n"))
            break;
    }
    if (c >= 0) {
        char body[64], reply[256];
        int bl = snprintf(body, sizeof body, "{\"server_ms\": %lld}",
                          (long long)qk_clock_real_ms() + HOUR_MS);
        int rl = snprintf(reply, sizeof reply,
                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                          bl, body);
        if (write(c, reply, (size_t)rl) != rl)
            r->request[0] = '\0';
        close(c);
    }
    close(r->fd);
    return NULL;
}

/* A listening socket on 127.0.0.1 at a port the system picks; -1 on failure. */
static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void check_http(void)
{
    char msg[1024] = "";
    qk_client_conf conf;
    memset(&conf, 0, sizeof conf);
    qk_client *c = NULL;
    snprintf(conf.url, sizeof conf.url, "http://example.com");
    check(qk_client_new(&c, &conf, QK_LANG_EN, msg, sizeof msg) == QK_EINVAL && !c,
          "plain HTTP to another host is refused", msg);
    responder r = {-1, ""};
    int port = 0;
    r.fd = listen_loopback(&port);
    check(r.fd >= 0, "a listening socket on loopback", NULL);
    if (r.fd < 0)
        return;
    snprintf(conf.url, sizeof conf.url, "http://127.0.0.1:%d/", port);
    snprintf(conf.token, sizeof conf.token, "t0ken");
    int rc = qk_client_new(&c, &conf, QK_LANG_EN, msg, sizeof msg);
    check(rc == QK_OK, "a client for the loopback server (libcurl loaded)", msg);
    pthread_t t;
    if (rc != QK_OK || pthread_create(&t, NULL, respond, &r) != 0) {
        close(r.fd);
        qk_client_free(c);
        return;
    }
    int64_t offset = 0;
    rc = qk_client_clock_offset(c, &offset, msg, sizeof msg);
    pthread_join(t, NULL);
    char got[64];
    snprintf(got, sizeof got, "rc %d, offset %lld ms", rc, (long long)offset);
    check(rc == QK_OK && offset > HOUR_MS - 5000 && offset < HOUR_MS + 5000,
          "over HTTP, the server's clock an hour ahead", rc == QK_OK ? got : msg);
    check(strncmp(r.request, "GET /api/v1/time HTTP/1.1\r\n", 27) == 0 &&
              strstr(r.request, "Authorization: Bearer t0ken\r\n"),
          "the request is GET /api/v1/time with the device's token", r.request);
    /* the server gone: a failure worth retrying, said as such */
    rc = qk_client_clock_offset(c, &offset, msg, sizeof msg);
    check(rc == QK_EIO && qk_client_retryable(c), "the port closed: a network error to retry later",
          msg);
    qk_client_free(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: client_alone DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char progress[1024], batch[1024], conf_path[1024], msg[1024] = "";
    snprintf(progress, sizeof progress, "%s/progress.db", dir);
    snprintf(batch, sizeof batch, "%s/device.qkbatch", dir);
    snprintf(conf_path, sizeof conf_path, "%s/server.json", dir);

    qk_engine *e = NULL;
    qk_key *k = NULL;
    int rc = qk_engine_open(&e, progress, QK_LANG_EN);
    check(rc == QK_OK, "a progress file", e ? qk_engine_errmsg(e) : "out of memory");
    if (rc != QK_OK) {
        qk_engine_close(e);
        return 1;
    }
    check(qk_member_add(e, "m1", "Li Hua", "b1", "135790") == QK_OK &&
              qk_member_add(e, "m2", "Wang Fang", "b1", "246802") == QK_OK,
          "two members, two events in the log", qk_engine_errmsg(e));
    int64_t acked = -1, last = 0;
    check(qk_engine_sync_state(e, &acked, &last) == QK_OK && acked == 0 && last >= 2,
          "none of them acknowledged yet", NULL);
    check(qk_key_generate(&k) == QK_OK, "the device's key", NULL);

    size_t n = 0;
    rc = k ? qk_batch_export(e, k, batch, acked, &n, msg, sizeof msg) : QK_ENOMEM;
    check(rc == QK_OK && n == (size_t)last, "qk_batch_export writes every unacknowledged event",
          msg);
    if (rc == QK_OK)
        check_batch(batch, e, k, n);
    msg[0] = '\0';
    check(qk_ack_peek(e, batch, msg, sizeof msg) == QK_ECORRUPT && strstr(msg, batch),
          "a batch given as an acknowledgement is refused, naming the file", msg);

    qk_client_conf conf, back;
    memset(&conf, 0, sizeof conf);
    snprintf(conf.url, sizeof conf.url, "https://quiz.example.cn:8443");
    snprintf(conf.token, sizeof conf.token, "secret-token");
    snprintf(conf.device_id, sizeof conf.device_id, "%s", qk_engine_device_id(e));
    snprintf(conf.branch, sizeof conf.branch, "b1");
    conf.roster_cursor = 42;
    struct stat st;
    check(qk_client_conf_save(&conf, conf_path, msg, sizeof msg) == QK_OK &&
              stat(conf_path, &st) == 0 && (st.st_mode & 0777) == 0600 &&
              qk_client_conf_load(&back, conf_path, msg, sizeof msg) == QK_OK &&
              strcmp(back.url, conf.url) == 0 && strcmp(back.token, conf.token) == 0 &&
              strcmp(back.device_id, conf.device_id) == 0 && back.roster_cursor == 42,
          "the client's configuration is saved (0600) and read back the same", msg);

    check_http();
    qk_key_free(k);
    qk_engine_close(e);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
