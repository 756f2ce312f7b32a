/* bench_events: how fast the event log takes rows, and why ids are UUIDv7.
 *
 * 1. The DESIGN.md decision 2 measurement, redone with our own generator:
 *    a table keyed by time-ordered UUIDv7 text against the same table keyed by
 *    random (v4-style) ids, batches of 200 rows in WAL mode. Printed as rows/s
 *    and the ratio v7 / random, measured in the same run.
 * 2. Durable answers through the real session API (synchronous=FULL, one
 *    transaction per answer, as on a kiosk), against the same inserts with
 *    synchronous=OFF as the baseline: what durability costs per answer.
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
    double t0 = now_s();
    long done = 0;
    while (done < n) {
        qk_session_spec spec = QK_SESSION_SPEC_INIT;
        spec.theme = "t1";
        spec.order = QK_ORDER_SEQUENTIAL;
        qk_session *s = NULL;
        qk_session_start(&s, e, b, NULL, &spec);
        qk_item it;
        while (done < n && qk_session_next(s, &it) == QK_ROW) {
            qk_session_answer(s, it.q->type == QK_Q_JUDGE ? "对" : it.q->type == QK_Q_FILL ? "1|2" : "A",
                              NULL, NULL);
            done++;
        }
        qk_session_finish(s, NULL);
        qk_session_free(s);
    }
    double dt = now_s() - t0;
    qk_engine_close(e);
    qk_bundle_close(b);
    return (double)n / dt;
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
    double dur = durable_answers(dir, answers);
    printf("durable answers through the session API (synchronous=FULL, one commit each):\n");
    printf("  %ld answers: %.0f answers/s, %.2f ms per answer\n", answers, dur, 1000.0 / dur);
    printf("  ratio batched-insert/durable-answer = %.0f (what per-answer durability costs)\n",
           v7 / dur);
    qkt_rmrf(dir);
    free(a);
    free(r);
    free(dir);
    return 0;
}
