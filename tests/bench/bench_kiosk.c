/* bench_kiosk: issue 17's kiosk row. The real kiosk (qk_kiosk_start: the
 * engine behind the HTTP layer on 127.0.0.1, a progress file on disk, the
 * sample bundle) answers a guest's practice quizzes through its JSON API, one
 * POST /api/quiz/answer at a time over a kept-alive connection, as the
 * touch screen's page sends them; each answer is a durable event. Printed:
 * the answer requests' p50 and p99, against the baseline the issue names, a
 * GET of /api/home from the same server plus one raw single-row durable
 * commit (the same WAL mode and synchronous=FULL) on the same disk, measured
 * in turns with the answers. Not a test: figures and ratios only.
 *
 * usage: bench_kiosk BUNDLE.qkb [ANSWERS]   (default 1000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "qk_kiosk.h"
#include "support.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_kiosk: %s: %s\n", what, why);
    exit(1);
}

typedef struct reply {
    char *body;
    size_t len;
} reply;

static size_t take(char *p, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    char *nb = realloc(r->body, r->len + size * n + 1);
    if (!nb)
        return 0;
    memcpy(nb + r->len, p, size * n);
    r->len += size * n;
    nb[r->len] = '\0';
    r->body = nb;
    return size * n;
}

typedef struct client {
    CURL *h;
    char base[64];
    char token[128];
} client;

/* One request; the reply's JSON (the caller frees), and its time in *ms. */
static json_t *call(client *c, const char *method, const char *path, const char *body, double *ms)
{
    char url[256], hdr[200];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    if (c->token[0]) {
        snprintf(hdr, sizeof hdr, "X-Kiosk-Session: %s", c->token);
        h = curl_slist_append(h, hdr);
    }
    reply r = {NULL, 0};
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, strcmp(method, "POST") == 0 ? (body ? body : "") : NULL);
    curl_easy_setopt(c->h, CURLOPT_HTTPGET, strcmp(method, "GET") == 0 ? 1L : 0L);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &r);
    double t0 = now_s();
    CURLcode rc = curl_easy_perform(c->h);
    double dt = (now_s() - t0) * 1000;
    curl_slist_free_all(h);
    long status = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200)
        die(path, r.body ? r.body : curl_easy_strerror(rc));
    if (ms)
        *ms = dt;
    json_error_t jerr;
    json_t *j = json_loads(r.body ? r.body : "", 0, &jerr);
    free(r.body);
    if (!j)
        die(path, "not JSON");
    return j;
}

/* A readable answer to the item: 对, x in each blank, or A. */
static void answer_for(json_t *item, char *out, size_t n)
{
    const char *type = json_string_value(json_object_get(item, "type"));
    if (type && strcmp(type, "judge") == 0) {
        snprintf(out, n, "{\"response\":\"对\"}");
    } else if (type && strcmp(type, "fill") == 0) {
        char resp[64] = "x";
        size_t len = 1;
        for (json_int_t i = 1; i < json_integer_value(json_object_get(item, "blanks")) && len + 3 < sizeof resp; i++)
            len += (size_t)snprintf(resp + len, sizeof resp - len, "|x");
        snprintf(out, n, "{\"response\":\"%s\"}", resp);
    } else {
        snprintf(out, n, "{\"response\":\"A\"}");
    }
}

/* One raw durable commit of an answer-sized row: its time in ms. */
static double commit_once(sqlite3 *db, sqlite3_stmt *st, long i)
{
    char id[40];
    snprintf(id, sizeof id, "raw-%ld", i);
    double t0 = now_s();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, i);
    sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return (now_s() - t0) * 1000;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, int p)
{
    return v[n * (size_t)p / 100 < n ? n * (size_t)p / 100 : n - 1];
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fprintf(stderr, "usage: bench_kiosk BUNDLE.qkb [ANSWERS]   (default 1000)\n");
        return argc < 2 ? 2 : 0;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
    if (n < 100)
        n = 100;
    char *dir = qkt_tmpdir();
    char *progress = qkt_path(dir, "progress.db"), *raw = qkt_path(dir, "raw.db");
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    if (qk_engine_open(&e, progress, QK_LANG_ZH) != QK_OK)
        die(progress, qk_engine_errmsg(e));
    if (qk_bundle_open(&b, argv[1], 0, QK_LANG_ZH) != QK_OK)
        die(argv[1], qk_bundle_errmsg(b));
    char msg[512];
    qk_kiosk_config cfg = {0, NULL, 3600, NULL, QK_LANG_ZH, NULL, NULL};
    qk_kiosk *k = qk_kiosk_start(e, b, &cfg, msg, sizeof msg);
    if (!k)
        die("kiosk", msg);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    client c = {curl_easy_init(), "", ""};
    snprintf(c.base, sizeof c.base, "http://127.0.0.1:%u", qk_kiosk_port(k));
    json_t *g = call(&c, "POST", "/api/guest", NULL, NULL);
    snprintf(c.token, sizeof c.token, "%s", json_string_value(json_object_get(g, "token")));
    json_decref(g);
    json_t *th = call(&c, "GET", "/api/themes", NULL, NULL);
    const char *theme = json_string_value(json_object_get(json_array_get(json_object_get(th, "themes"), 0), "id"));
    if (!theme)
        die("themes", "no theme open to guests");
    char start[256];
    snprintf(start, sizeof start, "{\"mode\":\"practice\",\"theme\":\"%s\"}", theme);
    /* theme points into th, held to the end */

    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(raw, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         "CREATE TABLE events(id TEXT PRIMARY KEY, seq INTEGER NOT NULL, payload TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?1, ?2, '{\"q\":\"q1\",\"response\":\"A\","
                               "\"correct\":true,\"ms\":4200}')", -1, &st, NULL) != SQLITE_OK)
        die(raw, sqlite3_errmsg(db));

    double *ans = calloc((size_t)n, sizeof *ans), *get = calloc((size_t)n, sizeof *get),
           *com = calloc((size_t)n, sizeof *com);
    long done = 0, quizzes = 0;
    while (done < n) {
        json_t *q = call(&c, "POST", "/api/quiz", start, NULL);
        quizzes++;
        while (done < n && !json_is_true(json_object_get(q, "done"))) {
            char body[256];
            answer_for(json_object_get(q, "item"), body, sizeof body);
            json_decref(q);
            q = call(&c, "POST", "/api/quiz/answer", body, &ans[done]);
            /* the baseline in turns with it */
            json_decref(call(&c, "GET", "/api/home", NULL, &get[done]));
            com[done] = commit_once(db, st, done);
            done++;
        }
        json_decref(q);
        json_decref(call(&c, "POST", "/api/quiz/finish", NULL, NULL));
    }
    qsort(ans, (size_t)n, sizeof *ans, cmp_d);
    qsort(get, (size_t)n, sizeof *get, cmp_d);
    qsort(com, (size_t)n, sizeof *com, cmp_d);
    double base50 = pct(get, (size_t)n, 50) + pct(com, (size_t)n, 50);
    double base99 = pct(get, (size_t)n, 99) + pct(com, (size_t)n, 99);
    printf("kiosk: %ld answers in %ld practice quizzes of theme %s, as a guest, over one connection\n", n,
           quizzes, theme);
    printf("  POST /api/quiz/answer          p50 %6.2f ms   p99 %6.2f ms\n", pct(ans, (size_t)n, 50),
           pct(ans, (size_t)n, 99));
    printf("  GET /api/home                  p50 %6.2f ms   p99 %6.2f ms\n", pct(get, (size_t)n, 50),
           pct(get, (size_t)n, 99));
    printf("  raw durable commit             p50 %6.2f ms   p99 %6.2f ms\n", pct(com, (size_t)n, 50),
           pct(com, (size_t)n, 99));
    printf("  baseline (GET + commit)        p50 %6.2f ms   p99 %6.2f ms\n", base50, base99);
    printf("  ratio answer/baseline          p50 %6.2f      p99 %6.2f\n", pct(ans, (size_t)n, 50) / base50,
           pct(ans, (size_t)n, 99) / base99);
    printf("(issue 17: keep the answer request near GET + one durable commit; the first wave measured"
           " 0.55 / 1.2 ms)\n");

    json_decref(th);
    sqlite3_finalize(st);
    sqlite3_close(db);
    curl_easy_cleanup(c.h);
    curl_global_cleanup();
    qk_kiosk_stop(k);
    qk_bundle_close(b);
    qk_engine_close(e);
    qkt_rmrf(dir);
    free(ans);
    free(get);
    free(com);
    free(progress);
    free(raw);
    free(dir);
    return 0;
}
