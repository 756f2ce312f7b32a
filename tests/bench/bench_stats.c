/* bench_stats: each statistics subject's query time on a generated progress
 * file at two sizes (default 100,000 and 5,000,000 events; 200 members, ~35
 * answers per attempt, a month), and the ratio between the sizes. Issue 7's
 * goal: under 100 ms per subject at 5M events, and a ratio under 3.
 *
 * usage: bench_stats [SMALL] [LARGE]   (events) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "qk_stats.h"
#include "support.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A progress file with n events over November 2026: 200 members, attempts of
 * 10 answers on 8 themes, a lesson now and then. */
static char *generate(const char *dir, long n)
{
    char name[64];
    snprintf(name, sizeof name, "progress-%ld.db", n);
    char *path = qkt_path(dir, name);
    qk_engine *e = NULL;
    if (qk_engine_open(&e, path, QK_LANG_EN) != QK_OK) {
        fprintf(stderr, "%s\n", qk_engine_errmsg(e));
        exit(1);
    }
    qk_engine_close(e); /* the schema, with its indexes */
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA journal_mode=OFF; DROP TRIGGER events_no_update;"
                     "DROP TRIGGER events_no_delete; BEGIN", NULL, NULL, NULL);
    for (int m = 0; m < 200; m++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO members(id, name, branch, dept, pin_salt, pin_hash, pin_iter, created_ms)"
                 " VALUES ('m%03d', '成员%03d', 'b1', 'd%d', x'00', x'00', 1, 0)", m, m, m % 6);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db,
                       "INSERT INTO events(id, device_id, seq, member_id, bundle_id, bundle_version,"
                       " kind, attempt_id, payload, created_ms) VALUES (?,'dev',?,?,'b','1',?,?,?,?)",
                       -1, &st, NULL);
    const int64_t start = 1793491200000LL - 28800000LL; /* 2026-11-01 00:00 Beijing */
    unsigned seed = 42;
    long seq = 0;
    char id[64], attempt[64], member[16], payload[256];
    while (seq < n) {
        int m = (int)(rand_r(&seed) % 170); /* 30 members never take part */
        int64_t t = start + (int64_t)(rand_r(&seed) % (30u * 86400u)) * 1000;
        snprintf(member, sizeof member, "m%03d", m);
        snprintf(attempt, sizeof attempt, "a%ld", seq);
        int theme = (int)(rand_r(&seed) % 8), right = 0;
        for (int k = 0; k < 12 && seq < n; k++, seq++) {
            const char *kind = k == 0 ? "attempt.start" : k == 11 ? "attempt.finish" : "answer";
            if (k == 0)
                snprintf(payload, sizeof payload, "{\"mode\":\"practice\",\"theme\":\"t%d\"}", theme);
            else if (k < 11) {
                int ok = rand_r(&seed) % 10 < 7;
                right += ok;
                snprintf(payload, sizeof payload,
                         "{\"q\":\"q%d-%u\",\"response\":\"%c\",\"correct\":%s,\"score\":%d,\"max\":100}",
                         theme, rand_r(&seed) % 40, "ABCD"[rand_r(&seed) % 4], ok ? "true" : "false",
                         ok ? 100 : 0);
            } else
                snprintf(payload, sizeof payload, "{\"score\":%d,\"max\":1000}", right * 100);
            snprintf(id, sizeof id, "e%ld", seq);
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, seq + 1);
            sqlite3_bind_text(st, 3, member, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, attempt, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, payload, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 7, t + k * 20000);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT; ANALYZE", NULL, NULL, NULL);
    sqlite3_close(db);
    return path;
}

static void measure(const char *path, double out[QK_STATS_COUNT])
{
    for (int s = 0; s < QK_STATS_COUNT; s++) {
        qk_stats_query q = {(qk_stats_subject)s, 0, 0, NULL};
        qk_stats_parse_day("2026-11-01", &q.from_day);
        qk_stats_parse_day("2026-11-30", &q.to_day);
        json_t *t = NULL;
        char msg[256];
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_s();
            if (qk_stats_local(path, &q, QK_LANG_EN, &t, msg, sizeof msg) != QK_OK) {
                fprintf(stderr, "%s\n", msg);
                exit(1);
            }
            double dt = now_s() - t0;
            best = dt < best ? dt : best;
            json_decref(t);
        }
        out[s] = best * 1000;
    }
}

int main(int argc, char **argv)
{
    long small = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    long large = argc > 2 ? strtol(argv[2], NULL, 10) : 5000000;
    char *dir = qkt_tmpdir();
    double a[QK_STATS_COUNT], b[QK_STATS_COUNT];
    double t0 = now_s();
    char *p1 = generate(dir, small);
    fprintf(stderr, "generated %ld events in %.1f s\n", small, now_s() - t0);
    measure(p1, a);
    t0 = now_s();
    char *p2 = generate(dir, large);
    fprintf(stderr, "generated %ld events in %.1f s\n", large, now_s() - t0);
    measure(p2, b);
    printf("%-14s %12s %12s %8s\n", "subject", "small ms", "large ms", "ratio");
    for (int s = 0; s < QK_STATS_COUNT; s++)
        printf("%-14s %12.1f %12.1f %8.1f\n", qk_stats_subject_name((qk_stats_subject)s), a[s], b[s],
               b[s] / (a[s] > 0.001 ? a[s] : 0.001));
    printf("(%ld and %ld events; goal: under 100 ms each at 5M, ratio under 3)\n", small, large);
    qkt_rmrf(dir);
    free(p1);
    free(p2);
    free(dir);
    return 0;
}
