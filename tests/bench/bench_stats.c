/* bench_stats: each statistics subject's query time on a progress file
 * holding 100,000 and then 5,000,000 generated events, and the ratio between
 * the two. Data grows the way it does in the field: a branch of 200 members
 * (30 of whom never take part, and 10 stopped two years ago) answering at a
 * steady 4,800 events a day (400 quizzes of 10 answers), so 100,000 events
 * are the last three weeks and 5,000,000 almost three years of history. The query is the leaders' default,
 * this month (November 2026), so the answer must not depend on the years
 * before it. Issue 7's goal: under 100 ms per subject at 5M events, and a
 * ratio under 3.
 *
 * Also printed: the time to build the roll-ups from nothing (the first query
 * on an old file: this month's share, as a first query takes in only what
 * its period needs), beside the time SQLite takes to read every event's
 * payload once (what a build of every event must read at least), then the
 * first query of the whole history after it (the rest taken in), the first
 * query on the old file of the members and inactive lists (they show each
 * member's last day of activity ever; issue 17's goal: under 5 s at 5M),
 * and the time to bring the roll-ups up to date after one more day.
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

#define PER_DAY 4800
#define END_MS (1796054400000LL - 28800000LL) /* 2026-12-01 00:00 Beijing */
#define LAPSED_MS (END_MS - 730 * 86400000LL)

static void die_db(sqlite3 *db)
{
    fprintf(stderr, "bench_stats: %s\n", sqlite3_errmsg(db));
    exit(1);
}

/* Appends n events, PER_DAY a day from first_ms on, numbered from *seq. */
static void add_events(const char *path, long n, int64_t first_ms, long *seq)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die_db(db);
    /* The bench writes straight into the file: no append-only triggers, no fsync. */
    sqlite3_exec(db, "PRAGMA synchronous=OFF; DROP TRIGGER IF EXISTS events_no_update;"
                     "DROP TRIGGER IF EXISTS events_no_delete; BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO events(id, device_id, seq, member_id, bundle_id, bundle_version,"
                           " kind, attempt_id, payload, created_ms) VALUES (?,'dev',?,?,'b','1',?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        die_db(db);
    unsigned seed = (unsigned)(42 + *seq);
    char id[64], attempt[64], member[16], payload[256];
    long end = *seq + n;
    while (*seq < end) {
        long k0 = *seq;
        int64_t day_ms = first_ms + (int64_t)((k0 - (end - n)) / PER_DAY) * 86400000LL;
        int m = (int)(rand_r(&seed) % 170); /* 30 members never take part */
        if (m >= 160 && day_ms >= LAPSED_MS) /* and 10 stopped two years before the end */
            m -= 10;
        int64_t t = day_ms + (int64_t)(rand_r(&seed) % 86000u) * 1000;
        snprintf(member, sizeof member, "m%03d", m);
        snprintf(attempt, sizeof attempt, "a%ld", k0);
        int theme = (int)(rand_r(&seed) % 8), right = 0;
        for (int k = 0; k < 12 && *seq < end; k++, (*seq)++) {
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
            snprintf(id, sizeof id, "e%ld", *seq);
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, *seq + 1);
            sqlite3_bind_text(st, 3, member, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, attempt, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, payload, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 7, t + k * 20000);
            if (sqlite3_step(st) != SQLITE_DONE)
                die_db(db);
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(db, "COMMIT; ANALYZE", NULL, NULL, NULL) != SQLITE_OK)
        die_db(db);
    sqlite3_close(db);
}

/* A progress file whose n events end on 30 November 2026. */
static char *generate(const char *dir, long n, long *seq)
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
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int m = 0; m < 200; m++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO members(id, name, branch, dept, pin_salt, pin_hash, pin_iter, created_ms)"
                 " VALUES ('m%03d', '成员%03d', 'b1', 'd%d', x'00', x'00', 1, 0)", m, m, m % 6);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    long days = (n + PER_DAY - 1) / PER_DAY;
    *seq = 0;
    add_events(path, n, END_MS - days * 86400000LL, seq);
    return path;
}

static double query_from_ms(const char *path, qk_stats_subject s, const char *from)
{
    qk_stats_query q = {s, 0, 0, NULL, 0};
    qk_stats_parse_day(from, &q.from_day);
    qk_stats_parse_day("2026-11-30", &q.to_day);
    json_t *t = NULL;
    char msg[256];
    double t0 = now_s();
    if (qk_stats_local(path, &q, QK_LANG_EN, &t, msg, sizeof msg) != QK_OK) {
        fprintf(stderr, "%s\n", msg);
        exit(1);
    }
    double dt = now_s() - t0;
    json_decref(t);
    return dt * 1000;
}

static double query_ms(const char *path, qk_stats_subject s)
{
    return query_from_ms(path, s, "2026-11-01");
}

typedef struct figures {
    double subject[QK_STATS_COUNT];
    double build, all, day, scan, members_first, inactive_first;
} figures;

/* The file as it was before any roll-up: every stat_ table dropped. */
static void drop_rollups(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "DROP TABLE IF EXISTS stat_state; DROP TABLE IF EXISTS stat_span;"
                     " DROP TABLE IF EXISTS stat_day; DROP TABLE IF EXISTS stat_attempts;"
                     " DROP TABLE IF EXISTS stat_answers; DROP TABLE IF EXISTS stat_answers_month;"
                     " DROP TABLE IF EXISTS stat_wrong; DROP TABLE IF EXISTS stat_last",
                     NULL, NULL, NULL) != SQLITE_OK)
        die_db(db);
    sqlite3_close(db);
}

/* The baseline: every event's payload read once, as a build must. */
static double scan_ms(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT sum(length(payload)) FROM events NOT INDEXED", -1, &st, NULL) !=
            SQLITE_OK)
        die_db(db);
    double t0 = now_s();
    if (sqlite3_step(st) != SQLITE_ROW)
        die_db(db);
    double dt = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return dt * 1000;
}

static void measure(const char *path, long *seq, figures *f)
{
    f->scan = scan_ms(path);
    f->build = query_ms(path, QK_STATS_PARTICIPATION); /* builds the roll-ups */
    f->all = query_from_ms(path, QK_STATS_PARTICIPATION, "2020-01-01"); /* and the rest */
    for (int s = 0; s < QK_STATS_COUNT; s++) {
        if (s == QK_STATS_FLAGGED) /* the server's only */
            continue;
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double dt = query_ms(path, (qk_stats_subject)s);
            best = dt < best ? dt : best;
        }
        f->subject[s] = best;
    }
    /* The first query on the old file again, of the subjects that show
     * each member's last day of activity ever. */
    drop_rollups(path);
    f->members_first = query_ms(path, QK_STATS_MEMBERS);
    drop_rollups(path);
    f->inactive_first = query_ms(path, QK_STATS_INACTIVE);
    /* One more day arrives (1 December); the next query takes it in. */
    add_events(path, PER_DAY, END_MS, seq);
    f->day = query_ms(path, QK_STATS_PARTICIPATION);
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: bench_stats [SMALL] [LARGE]\n"
               "  statistics query times on progress files of SMALL (default 100000) and\n"
               "  LARGE (default 5000000) generated events; about 5 minutes at the defaults.\n"
               "  QK_BENCH_KEEP=1 keeps the files.\n");
        return 0;
    }
    long small = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    long large = argc > 2 ? strtol(argv[2], NULL, 10) : 5000000;
    char *dir = qkt_tmpdir();
    figures a = {{0}, 0, 0, 0, 0, 0, 0}, b = {{0}, 0, 0, 0, 0, 0, 0};
    long seq = 0;
    double t0 = now_s();
    char *p1 = generate(dir, small, &seq);
    fprintf(stderr, "generated %ld events in %.1f s\n", small, now_s() - t0);
    measure(p1, &seq, &a);
    t0 = now_s();
    char *p2 = generate(dir, large, &seq);
    fprintf(stderr, "generated %ld events in %.1f s\n", large, now_s() - t0);
    measure(p2, &seq, &b);
    printf("%-22s %12s %12s %8s\n", "subject (this month)", "small ms", "large ms", "ratio");
    for (int s = 0; s < QK_STATS_COUNT; s++) {
        if (s != QK_STATS_FLAGGED)
            printf("%-22s %12.1f %12.1f %8.1f\n", qk_stats_subject_name((qk_stats_subject)s),
                   a.subject[s], b.subject[s], b.subject[s] / (a.subject[s] > 0.001 ? a.subject[s] : 0.001));
    }
    printf("%-22s %12.1f %12.1f\n", "roll-ups from nothing", a.build, b.build);
    printf("%-22s %12.1f %12.1f   (from nothing / read: %.1fx)\n", "  read every payload", a.scan,
           b.scan, b.build / (b.scan > 0.001 ? b.scan : 0.001));
    printf("%-22s %12.1f %12.1f   (and the first from 2020: %.1fx)\n", "then all since 2020", a.all, b.all,
           b.all / (b.scan > 0.001 ? b.scan : 0.001));
    printf("%-22s %12.1f %12.1f   (from nothing / read: %.2fx)\n", "members from nothing", a.members_first,
           b.members_first, b.members_first / (b.scan > 0.001 ? b.scan : 0.001));
    printf("%-22s %12.1f %12.1f   (from nothing / read: %.2fx)\n", "inactive from nothing", a.inactive_first,
           b.inactive_first, b.inactive_first / (b.scan > 0.001 ? b.scan : 0.001));
    printf("%-22s %12.1f %12.1f\n", "+1 day (4,800 events)", a.day, b.day);
    printf("(%ld and %ld events at %d a day; goal: under 100 ms each at 5M, ratio under 3)\n", small,
           large, PER_DAY);
    if (getenv("QK_BENCH_KEEP"))
        fprintf(stderr, "kept %s\n", dir);
    else
        qkt_rmrf(dir);
    free(p1);
    free(p2);
    free(dir);
    return 0;
}
