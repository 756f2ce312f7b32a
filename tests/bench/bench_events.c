/* bench_events: how fast the event log takes rows, and why ids are UUIDv7.
 *
 * 1. The DESIGN.md decision 2 measurement, redone with our own generator:
 *    a table keyed by time-ordered UUIDv7 text against the same table keyed by
 *    random (v4-style) ids, batches of 200 rows in WAL mode. Printed as rows/s
 *    and the ratio v7 / random, measured in the same run.
 * 2. Durable answers through the real session API (synchronous=FULL, one
 *    transaction per answer, as on a kiosk), against issue 17's baseline:
 *    raw single-row durable commits (the same WAL mode and synchronous=FULL,
 *    one INSERT of an answer-sized event per transaction) on the same disk,
 *    in turns (three rounds, medians); goal >= 0.75x. Also printed: what
 *    durability costs against batched inserts.
 * Not a test: it prints figures and never fails on a slow machine.
 * Usage: bench_events [ROWS]   (default 200000) */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double insert_rows(const char *path, long rows, int v7)
{
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE events(id TEXT PRIMARY KEY, seq INTEGER, payload TEXT)",
                 NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?, ?, '{\"q\":\"x\",\"response\":\"A\"}')",
                       -1, &st, NULL);
    qk_rng *rng = NULL;
    qk_rng_new_random(&rng);
    qk_uuid_gen gen = {0, 0};
    double t0 = now_s();
    for (long i = 0; i < rows; i++) {
        if (i % 200 == 0)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        uint8_t rnd[16];
        qk_rng_bytes(rng, rnd, sizeof rnd);
        char id[QK_UUID_STRLEN + 1];
        if (v7) {
            qk_uuid_v7(&gen, (uint64_t)(1767225600000 + i / 50), rnd, id);
        } else {
            static const char hex[] = "0123456789abcdef";
            size_t o = 0;
            for (int k = 0; k < 16; k++) {
                if (k == 4 || k == 6 || k == 8 || k == 10)
                    id[o++] = '-';
                id[o++] = hex[rnd[k] >> 4];
                id[o++] = hex[rnd[k] & 15];
            }
            id[o] = '\0';
        }
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, i);
        sqlite3_step(st);
        sqlite3_reset(st);
        if (i % 200 == 199 || i == rows - 1)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double dt = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    qk_rng_free(rng);
    return (double)rows / dt;
}

static double durable_answers(const char *dir, long n)
{
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qkt_open(dir, &e, &b);
    /* the answers' own time: an attempt's start and finish are not answers
     * (the test bundle's themes are short, so they would be a third of it) */
    double dt = 0;
    long done = 0;
    while (done < n) {
        qk_session_spec spec = QK_SESSION_SPEC_INIT;
        spec.theme = "t1";
        spec.order = QK_ORDER_SEQUENTIAL;
        qk_session *s = NULL;
        qk_session_start(&s, e, b, NULL, &spec);
        qk_item it;
        while (done < n && qk_session_next(s, &it) == QK_ROW) {
            double t0 = now_s();
            qk_session_answer(s, it.q->type == QK_Q_JUDGE ? "对" : it.q->type == QK_Q_FILL ? "1|2" : "A",
                              NULL, NULL);
            dt += now_s() - t0;
            done++;
        }
        qk_session_finish(s, NULL);
        qk_session_free(s);
    }
    qk_engine_close(e);
    qk_bundle_close(b);
    return (double)n / dt;
}

/* The baseline: n single-row transactions, each on disk before the next. */
static double durable_commits(const char *dir, long n)
{
    char *path = qkt_path(dir, "commits.db");
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS events(id TEXT PRIMARY KEY, device_id TEXT NOT NULL,"
                     " seq INTEGER NOT NULL, member_id TEXT, kind TEXT NOT NULL, attempt_id TEXT,"
                     " payload TEXT NOT NULL, created_ms INTEGER NOT NULL, UNIQUE(device_id, seq))",
                 NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?1, 'dev', (SELECT count(*) FROM events) + 1, NULL,"
                           " 'answer', 'att', '{\"q\":\"q1\",\"response\":\"A\",\"correct\":true,"
                           "\"ms\":4200}', ?2)",
                       -1, &st, NULL);
    qk_rng *rng = NULL;
    qk_rng_new_random(&rng);
    qk_uuid_gen gen = {0, 0};
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        uint8_t rnd[16];
        qk_rng_bytes(rng, rnd, sizeof rnd);
        char id[QK_UUID_STRLEN + 1];
        qk_uuid_v7(&gen, (uint64_t)(1767225600000 + i), rnd, id);
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, 1767225600000 + i);
        sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double dt = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    qk_rng_free(rng);
    free(path);
    return (double)n / dt;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (rows < 1000)
        rows = 1000;
    char *dir = qkt_tmpdir();
    char *a = qkt_path(dir, "v7.db"), *r = qkt_path(dir, "v4.db");
    double v7 = insert_rows(a, rows, 1);
    double v4 = insert_rows(r, rows, 0);
    printf("event ids, %ld rows, batches of 200, WAL:\n", rows);
    printf("  uuidv7 keys : %10.0f rows/s\n", v7);
    printf("  random keys : %10.0f rows/s (baseline)\n", v4);
    printf("  ratio v7/random = %.2f\n", v7 / v4);
    long answers = 500;
    double ans[3], raw[3];
    for (int k = 0; k < 3; k++) { /* in turns: a busy spell of the disk falls on both */
        ans[k] = durable_answers(dir, answers);
        raw[k] = durable_commits(dir, answers);
    }
    qsort(ans, 3, sizeof *ans, cmp_d);
    qsort(raw, 3, sizeof *raw, cmp_d);
    double dur = ans[1];
    printf("durable answers through the session API (synchronous=FULL, one commit each), median of 3:\n");
    printf("  %ld answers: %.0f answers/s, %.2f ms per answer\n", answers, dur, 1000.0 / dur);
    printf("  raw single-row durable commits (baseline): %.0f commits/s, %.2f ms each\n", raw[1],
           1000.0 / raw[1]);
    printf("  ratio answers/raw = %.2f (issue 17: keep >= 0.75)\n", dur / raw[1]);
    printf("  ratio batched-insert/durable-answer = %.0f (what per-answer durability costs)\n",
           v7 / dur);
    qkt_rmrf(dir);
    free(a);
    free(r);
    free(dir);
    return 0;
}
