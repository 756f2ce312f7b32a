/* bench_server: N devices (default 50) push 200-event batches at once to the
 * real server (in this process, plain HTTP on loopback, SQLite store), each
 * device on its own thread with its own connection. Prints events/s, the
 * p50/p99 latency of a batch, and the ratio to a plain batched SQLite insert
 * of the same rows (same schema, WAL, synchronous=FULL, 200 per transaction)
 * measured in the same run. Goal (issue 5): >= 20,000 events/s on 2 cores and
 * at least a quarter of the raw insert rate.
 *
 * usage: bench_server [DEVICES] [BATCHES_PER_DEVICE]   (default 50 10) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "qk_server.h"
#include "support.h"

#define BATCH 200

typedef struct dev {
    char id[QK_UUID_STRLEN + 1];
    char token[65];
    unsigned port;
    int batches;
    char **bodies; /* prepared JSON batches */
    double *lat_ms;
    int failed;
} dev;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
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
    hdr = curl_slist_append(hdr, "Expect:");
    for (int b = 0; b < d->batches; b++) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->bodies[b]);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        double t0 = now_s();
        long status = 0;
        if (curl_easy_perform(h) != CURLE_OK ||
            (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status), status != 200))
            d->failed++;
        d->lat_ms[b] = (now_s() - t0) * 1000;
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The same rows inserted straight into SQLite: the baseline. */
static double raw_insert(const char *path, dev *devs, int n, int batches)
{
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE events(id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq INTEGER"
                     " NOT NULL, member_id TEXT, bundle_id TEXT, bundle_version TEXT, kind TEXT NOT"
                     " NULL, attempt_id TEXT, payload TEXT NOT NULL, created_ms INTEGER NOT NULL,"
                     " received_ms INTEGER NOT NULL, UNIQUE(device_id, seq))",
                 NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?,?,?,?,NULL,NULL,?,NULL,?,?,?)", -1, &st, NULL);
    double t0 = now_s();
    for (int b = 0; b < batches; b++) {
        for (int k = 0; k < n; k++) {
            json_error_t e;
            json_t *j = json_loads(devs[k].bodies[b], 0, &e);
            json_t *evs = json_object_get(j, "events");
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
            size_t i;
            json_t *ev;
            json_array_foreach(evs, i, ev)
            {
                char *payload = json_dumps(json_object_get(ev, "payload"), JSON_COMPACT | JSON_SORT_KEYS);
                sqlite3_bind_text(st, 1, json_string_value(json_object_get(ev, "id")), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 2, devs[k].id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(ev, "seq")));
                sqlite3_bind_text(st, 4, json_string_value(json_object_get(ev, "member_id")), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 5, "answer", -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 6, payload, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(st, 7, json_integer_value(json_object_get(ev, "created_ms")));
                sqlite3_bind_int64(st, 8, 1);
                sqlite3_step(st);
                sqlite3_reset(st);
                free(payload);
            }
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            json_decref(j);
        }
    }
    double t = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return t;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 50;
    int batches = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 10;
    if (n < 1 || n > 1000 || batches < 1) {
        fprintf(stderr, "usage: bench_server [DEVICES] [BATCHES_PER_DEVICE]\n");
        return 2;
    }
    char *dir = qkt_tmpdir();
    char spec[512], raw[512], msg[600];
    snprintf(spec, sizeof spec, "sqlite:%s/server.db", dir);
    snprintf(raw, sizeof raw, "%s/raw.db", dir);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    qk_store *s = NULL;
    if (qk_store_open(&s, spec, QK_LANG_EN) != QK_OK || qk_admin_branch_add(s, "b1", "bench") != QK_OK) {
        fprintf(stderr, "store: %s\n", qk_store_errmsg(s));
        return 1;
    }
    dev *devs = calloc((size_t)n, sizeof *devs);
    qk_uuid_gen gen = {0};
    uint8_t rnd[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    uint64_t base_ms = 1764460800000ULL;
    for (int k = 0; k < n; k++) {
        dev *d = &devs[k];
        qk_uuid_v7(&gen, base_ms, rnd, d->id);
        char code[QK_CODE_LEN + 1], branch[QK_NAME_MAX + 1];
        int64_t exp;
        qk_key *key = NULL;
        char *pem = NULL;
        qk_key_generate(&key);
        qk_key_public_pem(key, &pem);
        if (qk_admin_code_new(s, "b1", "bench", 3600000, code, &exp) != QK_OK ||
            qkt_enrol(s, code, d->id, "bench", key, d->token, branch) != QK_OK) {
            fprintf(stderr, "enrol: %s\n", qk_store_errmsg(s));
            return 1;
        }
        free(pem);
        qk_key_free(key);
        d->batches = batches;
        d->bodies = calloc((size_t)batches, sizeof *d->bodies);
        d->lat_ms = calloc((size_t)batches, sizeof *d->lat_ms);
        for (int b = 0; b < batches; b++) {
            json_t *evs = json_array();
            for (int i = 0; i < BATCH; i++) {
                char id[QK_UUID_STRLEN + 1], member[16];
                uint64_t ms = base_ms + (uint64_t)(b * BATCH + i) * 1000;
                rnd[0] = (uint8_t)(rnd[0] * 31 + 7);
                rnd[3] = (uint8_t)(rnd[3] * 17 + (uint8_t)k);
                qk_uuid_v7(&gen, ms, rnd, id);
                snprintf(member, sizeof member, "m%d", k % 40);
                json_array_append_new(
                    evs, json_pack("{s:s, s:s, s:i, s:s, s:s, s:I, s:{s:s, s:s, s:b, s:i, s:i, s:i}}",
                                   "id", id, "device_id", d->id, "seq", b * BATCH + i + 1,
                                   "member_id", member, "kind", "answer", "created_ms",
                                   (json_int_t)ms, "payload", "q", "q17", "response", "AC",
                                   "correct", 1, "score", 100, "max", 100, "elapsed_ms", 5120));
            }
            json_t *body = json_pack("{s:o}", "events", evs);
            d->bodies[b] = json_dumps(body, JSON_COMPACT);
            json_decref(body);
        }
    }
    qk_store_close(s);
    qk_server_config cfg = {.listen = "127.0.0.1", .port = 0, .db = spec, .threads = 4,
                            .max_conn = (unsigned)n + 16, .lang = QK_LANG_EN};
    qk_server *srv = qk_server_start(&cfg, msg, sizeof msg);
    if (!srv) {
        fprintf(stderr, "server: %s\n", msg);
        return 1;
    }
    pthread_t *th = calloc((size_t)n, sizeof *th);
    double t0 = now_s();
    for (int k = 0; k < n; k++) {
        devs[k].port = qk_server_port(srv);
        pthread_create(&th[k], NULL, push, &devs[k]);
    }
    int failed = 0;
    for (int k = 0; k < n; k++) {
        pthread_join(th[k], NULL);
        failed += devs[k].failed;
    }
    double t_server = now_s() - t0;
    qk_server_stop(srv, 5000);
    double *lat = calloc((size_t)(n * batches), sizeof *lat);
    for (int k = 0; k < n; k++)
        memcpy(lat + k * batches, devs[k].lat_ms, (size_t)batches * sizeof *lat);
    qsort(lat, (size_t)(n * batches), sizeof *lat, cmp_d);
    double t_raw = raw_insert(raw, devs, n, batches);
    double total = (double)n * batches * BATCH;
    printf("devices %d, batches of %d, %d batches each: %.0f events\n", n, BATCH, batches, total);
    printf("server over loopback: %.2f s, %.0f events/s, batch latency p50 %.1f ms, p99 %.1f ms%s\n",
           t_server, total / t_server, lat[(n * batches) / 2], lat[(n * batches) * 99 / 100],
           failed ? " (SOME BATCHES FAILED)" : "");
    printf("raw batched SQLite insert: %.2f s, %.0f events/s\n", t_raw, total / t_raw);
    printf("ratio server/raw: %.2f (goal >= 0.25; and >= 20000 events/s)\n", t_raw / t_server);
    for (int k = 0; k < n; k++) {
        for (int b = 0; b < batches; b++)
            free(devs[k].bodies[b]);
        free(devs[k].bodies);
        free(devs[k].lat_ms);
    }
    free(devs);
    free(th);
    free(lat);
    qkt_rmrf(dir);
    free(dir);
    return failed ? 1 : 0;
}
