/* bench_server: DEVICES devices (default 20) sync at once with the real
 * server, which has the bundle published and so re-scores every finished
 * attempt (issue 17: "20 devices syncing at once, re-scoring").
 *
 * Before the clock starts, each device is a real engine (its own progress file
 * in a temporary folder) that adds a few members, plays ATTEMPTS practice
 * attempts of 10 questions from the bundle for them in turn (start, ten
 * answers, finish; about two answers in three right, as bench_ingest plays),
 * then enters each open competition of the bundle once per member. Its events
 * are then cut, in seq order, into the bodies the client POSTs to
 * /api/v1/events (qk__collect_events, {"events":[...]} compact ASCII JSON,
 * gzip, Content-Encoding: gzip), 200 events a body.
 *
 * The server (in this process, plain HTTP on loopback, SQLite store, 4 worker
 * threads) serves the bundle from its bundles folder; each device is enrolled
 * with its engine's device id. Timed: every device pushes all its bodies at
 * once, each on its own thread and connection. Prints events/s, the p50/p99
 * latency of a body, the attempts the server re-scored (attempt_scores, read
 * from the store afterwards) and its mismatches with the devices' scores, and
 * the ratio to a plain batched SQLite insert of the same rows into the same
 * events table (WAL, synchronous=FULL, one transaction per body) measured in
 * the same run.
 *
 * With QK_PG_URL set (postgresql://user@host:port: scripts/pg-cluster.sh run
 * -- build/tests/bench_server ...), the server's store is a new database on
 * that PostgreSQL server instead (issue 19); the baseline stays SQLite's.
 * Then, when nginx is installed, the same devices push the same bodies again
 * to two server instances on another new database, behind nginx (round
 * robin, as docs/deploy.md sets it up; each instance --proxy 127.0.0.1):
 * its events/s and latencies, and whether every event is held once and
 * every device acknowledged to its last event.
 *
 * usage: bench_server BUNDLE.qkb [DEVICES] [ATTEMPTS] [THREADS]   (default 20 100, and the
 * server's default worker threads) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "../../sync/src/sync_msg.h"
#include "qk_server.h"
#include "qk_sync.h"
#include "support.h"

#define BATCH 200                         /* events a body */
#define BATCH_BYTES ((size_t)768 * 1024) /* the client's bound: QK_BATCH_MAX_BYTES * 3 / 4 */
#define QUESTIONS 10
#define MEMBERS 5

typedef struct body {
    char *json; /* what the client serialises */
    char *z;    /* and sends, gzipped */
    size_t zlen;
    size_t events;
} body;

typedef struct dev {
    char id[QK_UUID_STRLEN + 1];
    char token[65];
    unsigned port;
    int n_bodies;
    body *bodies;
    double *lat_ms;
    int64_t last_seq, acked;
    size_t events, practice, entries;
    size_t rescored, mismatches, unscored;
    int failed;
} dev;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    buf *b = u;
    size_t len = s * n;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return 0;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, len);
    b->n += len;
    b->p[b->n] = '\0';
    return len;
}


static void *push(void *arg)
{
    dev *d = arg;
    CURL *h = curl_easy_init();
    char url[128], auth[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/v1/events", d->port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", d->token);
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Content-Encoding: gzip");
    hdr = curl_slist_append(hdr, "Expect:");
    buf reply = {0};
    for (int b = 0; b < d->n_bodies; b++) {
        reply.n = 0;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->bodies[b].z);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->bodies[b].zlen);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
        double t0 = now_s();
        long status = 0;
        CURLcode cr = curl_easy_perform(h);
        d->lat_ms[b] = (now_s() - t0) * 1000;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        json_t *j = cr == CURLE_OK && status == 200 && reply.p ? json_loads(reply.p, 0, NULL) : NULL;
        if (!j) {
            if (d->failed++ == 0)
                fprintf(stderr, "device %s body %d: HTTP %ld %s\n", d->id, b, status,
                        reply.p ? reply.p : curl_easy_strerror(cr));
            continue;
        }
        d->acked = json_integer_value(json_object_get(j, "acked_seq"));
        d->rescored += (size_t)json_integer_value(json_object_get(j, "rescored"));
        d->mismatches += (size_t)json_integer_value(json_object_get(j, "mismatches"));
        d->unscored += (size_t)json_integer_value(json_object_get(j, "unscored"));
        json_decref(j);
    }
    free(reply.p);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* An answer a person might give: right about two times in three (as
 * bench_ingest). */
static const char *answer_for(const qk_item *it, unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    int right = (*seed >> 16) % 3 != 0;
    switch (it->q->type) {
    case QK_Q_JUDGE: return right == it->q->judge_answer ? "对" : "错";
    case QK_Q_FILL: return right ? "1921" : "不知道";
    case QK_Q_MULTI: return right ? "AB" : "C";
    default: return right ? "A" : "B";
    }
}

/* One attempt played to its finish (bench_ingest's play). */
static int play_one(qk_engine *e, qk_bundle *b, const char *member, const qk_session_spec *spec,
                    unsigned *seed)
{
    qk_session *s = NULL;
    if (qk_session_start(&s, e, b, member, spec) != QK_OK) {
        fprintf(stderr, "start: %s\n", s ? qk_session_errmsg(s) : "?");
        qk_session_free(s);
        return -1;
    }
    qk_item it;
    while (qk_session_next(s, &it) == QK_ROW) {
        qk_feedback fb;
        qk_answer_problem problem;
        if (qk_session_answer(s, answer_for(&it, seed), &fb, &problem) != QK_OK &&
            qk_session_answer(s, it.q->type == QK_Q_FILL ? "1921|南湖" : "A", &fb, &problem) != QK_OK)
            break; /* an answer this bench cannot type: the attempt ends here */
    }
    qk_summary sum;
    qk_session_finish(s, &sum);
    qk_session_free(s);
    return 0;
}

/* A device: members, practice attempts, competition entries; then its events
 * cut into the client's bodies. */
static int make_device(dev *d, int k, const char *dir, qk_bundle *b, int attempts)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/device-%d.db", dir, k);
    qk_engine *e = NULL;
    if (qk_engine_open(&e, path, QK_LANG_EN) != QK_OK) {
        fprintf(stderr, "bench_server: cannot open %s\n", path);
        return -1;
    }
    snprintf(d->id, sizeof d->id, "%s", qk_engine_device_id(e));
    char members[MEMBERS][16];
    for (int m = 0; m < MEMBERS; m++) {
        char name[32];
        snprintf(members[m], sizeof members[m], "d%dm%d", k + 1, m + 1);
        snprintf(name, sizeof name, "成员%d-%d", k + 1, m + 1);
        qk_member_add(e, members[m], name, "", "1234");
    }
    unsigned seed = 7 + (unsigned)k;
    for (int a = 0; a < attempts; a++) {
        qk_session_spec spec = QK_SESSION_SPEC_INIT;
        spec.count = QUESTIONS;
        if (play_one(e, b, members[a % MEMBERS], &spec, &seed) != 0)
            return -1;
        d->practice++;
    }
    qk_competition **comps = NULL;
    size_t nc = 0;
    if (qk_competitions(b, &comps, &nc) == QK_OK) {
        for (size_t c = 0; c < nc; c++)
            for (int m = 0; m < MEMBERS; m++) {
                if (qk_competition_check(e, comps[c], members[m]) != QK_OK)
                    continue; /* not open now, or entries used up */
                qk_session_spec spec = QK_SESSION_SPEC_INIT;
                spec.mode = QK_MODE_COMPETITION;
                spec.competition = comps[c]->id;
                if (play_one(e, b, members[m], &spec, &seed) == 0)
                    d->entries++;
            }
        qk_competition_list_free(comps, nc);
    }

    int64_t acked = 0;
    qk_engine_sync_state(e, &acked, &d->last_seq);
    int cap = 16;
    d->bodies = calloc((size_t)cap, sizeof *d->bodies);
    while (acked < d->last_seq) {
        json_t *events = NULL;
        int64_t upto = 0;
        if (qk__collect_events(e, acked, BATCH, BATCH_BYTES, &events, &upto) != QK_OK || upto <= acked) {
            fprintf(stderr, "collect: %s\n", qk_engine_errmsg(e));
            return -1;
        }
        if (d->n_bodies == cap)
            d->bodies = realloc(d->bodies, (size_t)(cap *= 2) * sizeof *d->bodies);
        body *bd = &d->bodies[d->n_bodies++];
        bd->events = json_array_size(events);
        json_t *j = json_pack("{s:o}", "events", events);
        bd->json = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
        json_decref(j);
        bd->z = qk__gzip(bd->json, strlen(bd->json), &bd->zlen);
        d->events += bd->events;
        acked = upto;
    }
    d->lat_ms = calloc((size_t)d->n_bodies, sizeof *d->lat_ms);
    qk_engine_close(e);
    return 0;
}

/* The same rows inserted straight into the store's events table, one
 * transaction per body: the baseline. */
static double raw_insert(const char *dir, dev *devs, int n)
{
    char spec[1200], path[1100];
    snprintf(path, sizeof path, "%s/raw.db", dir);
    snprintf(spec, sizeof spec, "sqlite:%s", path);
    qk_store *s = NULL;
    if (qk_store_open(&s, spec, QK_LANG_EN) != QK_OK) /* the same schema */
        return -1;
    qk_store_close(s);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO events(id, device_id, seq, member_id, bundle_id, bundle_version, kind,"
                           " attempt_id, payload, created_ms, received_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       -1, &st, NULL);
    static const char *const text[] = {"id", NULL, NULL, "member_id", "bundle_id", "bundle_version",
                                       "kind", "attempt_id"};
    double t0 = now_s();
    for (int k = 0; k < n; k++)
        for (int b = 0; b < devs[k].n_bodies; b++) {
            json_t *j = json_loads(devs[k].bodies[b].json, 0, NULL);
            json_t *evs = json_object_get(j, "events"), *ev;
            size_t i;
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
            json_array_foreach(evs, i, ev)
            {
                char *payload = json_dumps(json_object_get(ev, "payload"), JSON_COMPACT | JSON_SORT_KEYS);
                for (int c = 0; c < 8; c++)
                    if (text[c])
                        sqlite3_bind_text(st, c + 1, json_string_value(json_object_get(ev, text[c])), -1,
                                          SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 2, devs[k].id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(ev, "seq")));
                sqlite3_bind_text(st, 9, payload, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(st, 10, json_integer_value(json_object_get(ev, "created_ms")));
                sqlite3_bind_int64(st, 11, 1);
                if (sqlite3_step(st) != SQLITE_DONE)
                    fprintf(stderr, "raw insert: %s\n", sqlite3_errmsg(db));
                sqlite3_reset(st);
                free(payload);
            }
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            json_decref(j);
        }
    double t = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return t;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* What the store at spec holds, to read: its file, or its tables copied. */
static sqlite3 *held(const char *spec, const char *dir)
{
    char *path = qkt_store_snapshot(spec, dir);
    sqlite3 *db = NULL;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    free(path);
    return db;
}

/* Every device pushes all its bodies at once to port, each on its own
 * thread; the seconds until the last is answered. */
static double push_all(dev *devs, int n, unsigned port, int *failed, int *short_acked)
{
    pthread_t *th = calloc((size_t)n, sizeof *th);
    double t0 = now_s();
    for (int k = 0; k < n; k++) {
        devs[k].port = port;
        pthread_create(&th[k], NULL, push, &devs[k]);
    }
    *failed = *short_acked = 0;
    for (int k = 0; k < n; k++) {
        pthread_join(th[k], NULL);
        *failed += devs[k].failed;
        *short_acked += devs[k].acked != devs[k].last_seq;
    }
    free(th);
    return now_s() - t0;
}

/* The server's store at spec: one branch, the bundle published, each device
 * enrolled under its own id (its token in devs). 0, or 1 said on stderr. */
static int server_store(const char *spec, const char *bundle_file, dev *devs, int n)
{
    qk_store *s = NULL;
    if (qk_store_open(&s, spec, QK_LANG_EN) != QK_OK || qk_admin_branch_add(s, "b1", "bench") != QK_OK ||
        qkt_publish_file(s, bundle_file) != QK_OK) {
        fprintf(stderr, "store: %s\n", qk_store_errmsg(s));
        return 1;
    }
    for (int k = 0; k < n; k++) {
        char code[QK_CODE_LEN + 1], branch[QK_NAME_MAX + 1];
        int64_t exp;
        qk_key *key = NULL;
        qk_key_generate(&key);
        if (qk_admin_code_new(s, "b1", "bench", 3600000, QK_CODE_SHARED, code, &exp) != QK_OK ||
            qkt_enrol(s, code, devs[k].id, "bench", key, devs[k].token, branch) != QK_OK) {
            fprintf(stderr, "enrol: %s\n", qk_store_errmsg(s));
            return 1;
        }
        qk_key_free(key);
    }
    qk_store_close(s);
    return 0;
}

/* A loopback port nobody listens on now. */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* nginx on port in front of the two instances (round robin), its files in
 * dir/nginx; its pid, or -1. */
static pid_t start_nginx(const char *dir, unsigned port, unsigned p1, unsigned p2)
{
    char root[1024], conf[1100], cmd[2400];
    snprintf(root, sizeof root, "%s/nginx", dir);
    snprintf(conf, sizeof conf, "%s/nginx.conf", root);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/logs'", root);
    if (system(cmd) != 0)
        return -1;
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    fprintf(f,
            "daemon off; worker_processes 1; pid %s/nginx.pid; error_log %s/logs/error.log;\n"
            "events { worker_connections 1024; }\n"
            "http { access_log off; client_max_body_size 64m; client_body_temp_path %s/body;\n"
            "  proxy_temp_path %s/proxy; fastcgi_temp_path %s/fastcgi; uwsgi_temp_path %s/uwsgi;\n"
            "  scgi_temp_path %s/scgi;\n"
            "  upstream quizkit { server 127.0.0.1:%u; server 127.0.0.1:%u; keepalive 64; }\n"
            "  server { listen 127.0.0.1:%u; location / { proxy_pass http://quizkit;\n"
            "    proxy_http_version 1.1; proxy_set_header Connection \"\";\n"
            "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; } } }\n",
            root, root, root, root, root, root, root, p1, p2, port);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("nginx", "nginx", "-p", root, "-c", conf, (char *)NULL);
        _exit(127);
    }
    /* up when it answers */
    for (int i = 0; pid > 0 && i < 100; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        int up = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (up)
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    if (pid > 0)
        kill(pid, SIGTERM);
    return -1;
}

/* The devices push their bodies again, to two instances on a new database
 * behind nginx; prints what it measured. 0, or 1 when an event is missing,
 * held twice, or a device is not acknowledged to its last. */
static int behind_nginx(const char *bundle_file, const char *dir, dev *devs, int n, unsigned threads)
{
    char spec[1100], msg[600];
    char *made = qkt_store_spec(dir); /* another new database */
    snprintf(spec, sizeof spec, "%s", made);
    free(made);
    if (server_store(spec, bundle_file, devs, n) != 0)
        return 1;
    qk_server_config cfg = {.listen = "127.0.0.1", .port = 0, .db = spec, .threads = threads,
                            .max_conn = (unsigned)n + 80, .proxy = "127.0.0.1", .lang = QK_LANG_EN};
    qk_server *one = qk_server_start(&cfg, msg, sizeof msg);
    qk_server *two = one ? qk_server_start(&cfg, msg, sizeof msg) : NULL;
    unsigned port = free_port();
    pid_t nginx = two && port ? start_nginx(dir, port, qk_server_port(one), qk_server_port(two)) : -1;
    if (nginx < 0) {
        fprintf(stderr, "two instances behind nginx: %s\n", two ? "nginx did not start" : msg);
        qk_server_stop(one, 5000);
        qk_server_stop(two, 5000);
        return 1;
    }
    size_t sent = 0, nb = 0;
    for (int k = 0; k < n; k++) {
        devs[k].acked = devs[k].failed = 0;
        devs[k].rescored = devs[k].mismatches = devs[k].unscored = 0;
        sent += devs[k].events;
        nb += (size_t)devs[k].n_bodies;
    }
    int failed = 0, short_acked = 0;
    double t = push_all(devs, n, port, &failed, &short_acked);
    kill(nginx, SIGTERM);
    waitpid(nginx, NULL, 0);
    qk_server_stop(one, 5000);
    qk_server_stop(two, 5000);
    double *lat = calloc(nb ? nb : 1, sizeof *lat);
    for (int k = 0, i = 0; k < n; k++)
        for (int b = 0; b < devs[k].n_bodies; b++)
            lat[i++] = devs[k].lat_ms[b];
    qsort(lat, nb, sizeof *lat, cmp_d);
    sqlite3 *db = held(spec, dir);
    int64_t stored = one_int(db, "SELECT count(*) FROM events");
    int64_t ids = one_int(db, "SELECT count(DISTINCT id) FROM events");
    int64_t scored = one_int(db, "SELECT count(*) FROM attempt_scores");
    int64_t mism = one_int(db, "SELECT count(*) FROM attempt_scores WHERE mismatch != 0");
    sqlite3_close(db);
    printf("\ntwo instances behind nginx (round robin, %s worker threads each), the same devices and"
           " bodies, a new database:\n", threads ? "the given" : "default");
    printf("  %.2f s, %.0f events/s, batch latency p50 %.1f ms, p99 %.1f ms\n", t, (double)sent / t,
           lat[nb / 2], lat[nb * 99 / 100]);
    printf("  sent %zu events; the database holds %lld (%lld ids), %lld attempts scored, %lld mismatches;"
           " %d failed bodies, %d devices short of their last acknowledgement\n",
           sent, (long long)stored, (long long)ids, (long long)scored, (long long)mism, failed, short_acked);
    free(lat);
    return failed || short_acked || stored != (int64_t)sent || ids != stored || mism != 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fprintf(stderr, "usage: bench_server BUNDLE.qkb [DEVICES] [ATTEMPTS] [THREADS]   (default 20 100,"
                        " the server's default threads)\n"
                        "  DEVICES devices, each playing ATTEMPTS practice attempts of 10 questions\n"
                        "  (and entering the bundle's open competitions), push at once to a server\n"
                        "  that has BUNDLE published and re-scores every finished attempt.\n");
        return argc < 2 ? 2 : 0;
    }
    int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 20;
    int attempts = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 100;
    unsigned threads = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 0; /* 0: the server's default */
    if (n < 1 || n > 1000 || attempts < 0) {
        fprintf(stderr, "usage: bench_server BUNDLE.qkb [DEVICES] [ATTEMPTS] [THREADS]\n");
        return 2;
    }
    char *dir = qkt_tmpdir();
    char spec[1100], msg[600];
    if (getenv("QK_PG_URL") && *getenv("QK_PG_URL"))
        setenv("QKT_PG", getenv("QK_PG_URL"), 1);
    char *made = qkt_store_spec(dir); /* sqlite:DIR/server.db, or a database on QK_PG_URL */
    snprintf(spec, sizeof spec, "%s", made);
    free(made);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    /* The devices. */
    qk_bundle *bundle = NULL;
    if (qk_bundle_open(&bundle, argv[1], 0, QK_LANG_EN) != QK_OK) {
        fprintf(stderr, "bench_server: cannot open %s\n", argv[1]);
        return 1;
    }
    dev *devs = calloc((size_t)n, sizeof *devs);
    double t_prep = now_s();
    for (int k = 0; k < n; k++)
        if (make_device(&devs[k], k, dir, bundle, attempts) != 0)
            return 1;
    t_prep = now_s() - t_prep;
    qk_bundle_close(bundle);

    /* The server's store: one branch, each device enrolled under its own id. */
    if (server_store(spec, argv[1], devs, n) != 0)
        return 1;

    qk_server_config cfg = {.listen = "127.0.0.1", .port = 0, .db = spec, .threads = threads,
                            .max_conn = (unsigned)n + 16, .max_conn_per_addr = (unsigned)n + 16,
                            .lang = QK_LANG_EN};
    qk_server *srv = qk_server_start(&cfg, msg, sizeof msg);
    if (!srv) {
        fprintf(stderr, "server: %s\n", msg);
        return 1;
    }
    int failed = 0, short_acked = 0;
    double t_server = push_all(devs, n, qk_server_port(srv), &failed, &short_acked);
    qk_server_stop(srv, 5000);

    /* What the server holds. */
    sqlite3 *db = held(spec, dir);
    int64_t stored = one_int(db, "SELECT count(*) FROM events");
    int64_t scored = one_int(db, "SELECT count(*) FROM attempt_scores");
    int64_t mism = one_int(db, "SELECT count(*) FROM attempt_scores WHERE mismatch != 0");
    int64_t comp_scored = one_int(db, "SELECT count(*) FROM attempt_scores WHERE competition IS NOT NULL"
                                      " AND competition != ''");
    char kinds[512] = "";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT kind, count(*) FROM events GROUP BY kind ORDER BY 2 DESC", -1, &st,
                           NULL) == SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW) {
            size_t l = strlen(kinds);
            snprintf(kinds + l, sizeof kinds - l, "%s%s %lld", l ? ", " : "",
                     (const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1));
        }
    sqlite3_finalize(st);
    sqlite3_close(db);

    size_t total = 0, nb = 0, practice = 0, entries = 0, rescored = 0, mismatches = 0, unscored = 0, zbytes = 0,
           jbytes = 0;
    for (int k = 0; k < n; k++) {
        total += devs[k].events;
        nb += (size_t)devs[k].n_bodies;
        practice += devs[k].practice;
        entries += devs[k].entries;
        rescored += devs[k].rescored;
        mismatches += devs[k].mismatches;
        unscored += devs[k].unscored;
        for (int b = 0; b < devs[k].n_bodies; b++) {
            zbytes += devs[k].bodies[b].zlen;
            jbytes += strlen(devs[k].bodies[b].json);
        }
    }
    double *lat = calloc(nb, sizeof *lat);
    for (int k = 0, i = 0; k < n; k++)
        for (int b = 0; b < devs[k].n_bodies; b++)
            lat[i++] = devs[k].lat_ms[b];
    qsort(lat, nb, sizeof *lat, cmp_d);
    double t_raw = raw_insert(dir, devs, n);

    printf("devices %d, each %d members, %d practice attempts of %d questions + competition entries"
           " (prepared in %.1f s)\n",
           n, MEMBERS, attempts, QUESTIONS, t_prep);
    printf("sent: %zu events (%zu practice attempts, %zu competition entries) in %zu gzip bodies of <= %d"
           " events (%.0f KB JSON, %.0f KB gzip)\n",
           total, practice, entries, nb, BATCH, (double)jbytes / 1024, (double)zbytes / 1024);
    printf("server holds: %lld events (%s)\n", (long long)stored, kinds);
    printf("re-scored: %lld attempts in attempt_scores (%lld competition entries), %lld mismatches;"
           " replies said rescored %zu, mismatches %zu, unscored %zu\n",
           (long long)scored, (long long)comp_scored, (long long)mism, rescored, mismatches, unscored);
    printf("store: %s\n", strncmp(spec, "sqlite:", 7) == 0 ? "SQLite" : "PostgreSQL");
    printf("server over loopback (%s worker threads): %.2f s, %.0f events/s, batch latency p50 %.1f ms,"
           " p99 %.1f ms%s%s\n", threads ? argv[4] : "default", t_server,
           (double)total / t_server, lat[nb / 2], lat[nb * 99 / 100], failed ? " (SOME BATCHES FAILED)" : "",
           short_acked ? " (SOME DEVICES NOT FULLY ACKED)" : "");
    /* where the tail is: the slowest bodies, by device and place in its
     * sequence (the first bodies meet a server that has just started) */
    printf("slowest bodies (device:body ms):");
    char *shown = calloc(nb, 1);
    for (int w = 0; w < 6 && (size_t)w < nb; w++) {
        size_t at = 0, best = nb;
        int bk = 0, bb = 0;
        for (int k = 0; k < n; k++)
            for (int b = 0; b < devs[k].n_bodies; b++, at++)
                if (!shown[at] && (best == nb || devs[k].lat_ms[b] > devs[bk].lat_ms[bb])) {
                    best = at;
                    bk = k;
                    bb = b;
                }
        if (best < nb) {
            shown[best] = 1;
            printf(" %d:%d %.0f", bk, bb, devs[bk].lat_ms[bb]);
        }
    }
    free(shown);
    printf("\n");
    /* and the mean by place in each device's sequence */
    int most = 0;
    for (int k = 0; k < n; k++)
        most = devs[k].n_bodies > most ? devs[k].n_bodies : most;
    printf("mean by body (ms):");
    for (int b = 0; b < most; b++) {
        double sum = 0;
        int cnt = 0;
        for (int k = 0; k < n; k++)
            if (b < devs[k].n_bodies) {
                sum += devs[k].lat_ms[b];
                cnt++;
            }
        printf(" %d:%.0f", b, sum / cnt);
    }
    printf("\n");
    printf("raw batched SQLite insert: %.2f s, %.0f events/s\n", t_raw, (double)total / t_raw);
    printf("ratio server/raw: %.3f\n", t_raw / t_server);
    printf("\nissue 17 goals: 20 devices syncing at once, re-scoring: >= 20000 events/s, batch p99 <= 250 ms;"
           " and >= 0.25x raw\n");
    int nginx_failed = 0;
    if (strncmp(spec, "sqlite:", 7) != 0 && system("command -v nginx >/dev/null 2>&1") == 0)
        nginx_failed = behind_nginx(argv[1], dir, devs, n, threads);

    for (int k = 0; k < n; k++) {
        for (int b = 0; b < devs[k].n_bodies; b++) {
            free(devs[k].bodies[b].json);
            free(devs[k].bodies[b].z);
        }
        free(devs[k].bodies);
        free(devs[k].lat_ms);
    }
    free(devs);
    free(lat);
    curl_global_cleanup();
    qkt_rmrf(dir);
    free(dir);
    return failed || short_acked || mism != 0 || nginx_failed ? 1 : 0;
}
