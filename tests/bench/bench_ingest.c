/* bench_ingest: what devices really send, received by the server's store.
 *
 * A device (the real engine, a progress file on disk) plays ATTEMPTS practice
 * attempts of 10 questions from the published bundle for MEMBERS members in
 * turn, answering as a person might (some right, some wrong), and exports
 * its events as one signed USB batch: per attempt a start, ten answers and a
 * finish. The same file is then imported (qk_store_import, what
 * `quizkit admin import` and the HTTP ingest share) three ways, each into a
 * fresh store, and timed:
 *
 *   judged   the bundle is published: the server re-scores every finished
 *            attempt and judges each member's points (issue 17's workload)
 *   stored   no bundle on the server: the events are only stored
 *   raw      baseline: the same rows inserted straight into the same events
 *            table (WAL, synchronous=FULL, 200 rows a transaction)
 *
 * Prints events/s for each, the ratios to raw, and the process's peak RSS
 * after each. Issue 17's goal: judged >= 20,000 events/s and >= 0.25x raw.
 *
 * With QK_PG_URL set (postgresql://user@host:port, a server of one's own:
 * scripts/pg-cluster.sh run -- build/tests/bench_ingest ...), the same file
 * is also imported into stores on PostgreSQL, each a new database, judged
 * and stored, beside PostgreSQL's own COPY of the same rows into the same
 * table in one transaction (issue 19's goal: judged >= 0.25x COPY).
 *
 * usage: bench_ingest BUNDLE.qkb [ATTEMPTS] [MEMBERS]   (default 1000 5) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>
#if QK_WITH_POSTGRESQL
#include <libpq-fe.h>
#endif

#include "../../sync/src/sync_msg.h"
#include "qk_server.h"
#include "qk_sync.h"
#include "support.h"

#define QUESTIONS 10
#define RAW_BATCH 200
#define ROUNDS 3

static double median(double t[ROUNDS])
{
    for (int i = 1; i < ROUNDS; i++)
        for (int k = i; k > 0 && t[k] < t[k - 1]; k--) {
            double x = t[k];
            t[k] = t[k - 1];
            t[k - 1] = x;
        }
    return t[ROUNDS / 2];
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long peak_rss_mb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024;
}

/* An answer a person might give: right about two times in three. */
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

static int play(qk_engine *e, qk_bundle *b, int attempts, int members)
{
    unsigned seed = 7;
    for (int a = 0; a < attempts; a++) {
        char member[16];
        snprintf(member, sizeof member, "m%d", a % members + 1);
        qk_session_spec spec = QK_SESSION_SPEC_INIT;
        spec.count = QUESTIONS;
        qk_session *s = NULL;
        if (qk_session_start(&s, e, b, member, &spec) != QK_OK) {
            fprintf(stderr, "start: %s\n", s ? qk_session_errmsg(s) : "?");
            qk_session_free(s);
            return -1;
        }
        qk_item it;
        while (qk_session_next(s, &it) == QK_ROW) {
            qk_feedback fb;
            qk_answer_problem problem;
            if (qk_session_answer(s, answer_for(&it, &seed), &fb, &problem) != QK_OK &&
                qk_session_answer(s, it.q->type == QK_Q_FILL ? "1921|南湖" : "A", &fb, &problem) != QK_OK)
                break; /* an answer this bench cannot type: the attempt ends here */
        }
        qk_summary sum;
        qk_session_finish(s, &sum);
        qk_session_free(s);
    }
    return 0;
}

#if QK_WITH_POSTGRESQL
static PGconn *pg_open(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s: %s", url, PQerrorMessage(c));
        exit(1);
    }
    return c;
}

static void pg_run(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
}

/* A new, empty database on the server QK_PG_URL names; its URL into url. */
static void pg_database(const char *name, char *url, size_t n)
{
    const char *base = getenv("QK_PG_URL");
    char sql[256];
    snprintf(url, n, "%s/postgres", base);
    PGconn *c = pg_open(url);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS qkb_%s", name);
    pg_run(c, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE qkb_%s", name);
    pg_run(c, sql);
    PQfinish(c);
    snprintf(url, n, "%s/qkb_%s", base, name);
}
#endif

/* A new store; with bundle (a file), that bundle published in it. A name
 * "pg-..." is a database on PostgreSQL (QK_PG_URL), any other a file in dir. */
static qk_store *fresh_store(const char *dir, const char *name, const char *bundle)
{
    char spec[1024];
    static const char *const parts[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) { /* fresh, also in a folder kept from a run before */
        snprintf(spec, sizeof spec, "%s/%s%s", dir, name, parts[i]);
        unlink(spec);
    }
    snprintf(spec, sizeof spec, "sqlite:%s/%s", dir, name);
#if QK_WITH_POSTGRESQL
    if (strncmp(name, "pg", 2) == 0)
        pg_database(name + 3, spec, sizeof spec);
#endif
    qk_store *s = NULL;
    if (qk_store_open(&s, spec, QK_LANG_EN) != QK_OK) {
        fprintf(stderr, "store: %s\n", qk_store_errmsg(s));
        exit(1);
    }
    if (bundle && qkt_publish_file(s, bundle) != QK_OK) {
        fprintf(stderr, "publish %s: %s\n", bundle, qk_store_errmsg(s));
        exit(1);
    }
    return s;
}

static double import(qk_store *s, const char *batch, qk_import_result *r)
{
    double t0 = now_s();
    if (qk_store_import(s, batch, r) != QK_OK) {
        fprintf(stderr, "import: %s\n", qk_store_errmsg(s));
        exit(1);
    }
    return now_s() - t0;
}

/* The statistics on a store just filled: the first query (it builds the
 * roll-ups of every event) and then each subject once (the roll-ups up to
 * date), every day of 2000-2099; seconds, and ms a subject. */
typedef struct stats_times {
    double build_s, subject_ms;
} stats_times;

static stats_times time_stats(qk_store *s)
{
    stats_times t = {0, 0};
    qk_stats_query q = {QK_STATS_PARTICIPATION, 0, 0, NULL, 0};
    qk_stats_parse_day("2000-01-01", &q.from_day);
    qk_stats_parse_day("2099-12-31", &q.to_day);
    char msg[512];
    double t0 = now_s();
    for (int i = -1; i < QK_STATS_COUNT; i++) {
        q.subject = i < 0 ? QK_STATS_PARTICIPATION : (qk_stats_subject)i;
        json_t *out = NULL;
        if (qk_store_stats(s, NULL, &q, QK_LANG_ZH, &out, msg, sizeof msg) != QK_OK) {
            fprintf(stderr, "stats: %s\n", msg);
            exit(1);
        }
        json_decref(out);
        if (i < 0) {
            t.build_s = now_s() - t0;
            t0 = now_s();
        }
    }
    t.subject_ms = (now_s() - t0) * 1000 / QK_STATS_COUNT;
    return t;
}

/* The batch imported ROUNDS times, each into a fresh store, judged (the
 * bundle published) and stored only: SQLite files in dir, or with pg
 * databases on QK_PG_URL. r gets a judged import's result, st the
 * statistics' times on the first judged store. */
static void time_imports(const char *dir, int pg, const char *bundles, const char *batch,
                         double t_judged[ROUNDS], double t_stored[ROUNDS], qk_import_result *r,
                         stats_times *st)
{
    for (int k = 0; k < ROUNDS; k++) {
        char name[32];
        qk_import_result rs;
        if (pg)
            snprintf(name, sizeof name, "pg-judged%d", k);
        else
            snprintf(name, sizeof name, "judged-%d.db", k);
        qk_store *judged = fresh_store(dir, name, bundles);
        t_judged[k] = import(judged, batch, r);
        if (k == 0)
            *st = time_stats(judged);
        qk_store_close(judged);
        if (pg)
            snprintf(name, sizeof name, "pg-stored%d", k);
        else
            snprintf(name, sizeof name, "stored-%d.db", k);
        qk_store *stored = fresh_store(dir, name, NULL);
        t_stored[k] = import(stored, batch, &rs);
        qk_store_close(stored);
    }
}


/* The batch's events inserted straight into a store's events table. */
/* This process's peak resident memory (MB) since its image began (VmHWM:
 * unlike getrusage, nothing of the process it was forked from). */
static long own_peak_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

/* Peak RSS (MB) of a new process that opens a fresh store and, when batch
 * is not NULL, imports it (judged when bundle, the file, is published). */
static long child_rss_mb(const char *dir, const char *name, const char *bundles, const char *batch)
{
    char self[1024], cmd[5000];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    snprintf(cmd, sizeof cmd, "'%s' --child '%s' '%s' '%s' '%s'", self, dir, name, bundles ? bundles : "",
             batch ? batch : "");
    FILE *p = popen(cmd, "r");
    long mb = -1;
    if (!p || fscanf(p, "%ld", &mb) != 1)
        mb = -1;
    if (p && pclose(p) != 0)
        mb = -1;
    return mb;
}

static double raw_insert(const char *dir, const char *name, const char *device, json_t *events)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    qk_store_close(fresh_store(dir, name, NULL)); /* the same schema */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO events(id, device_id, seq, member_id, bundle_id, bundle_version, kind,"
                           " attempt_id, payload, created_ms, received_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       -1, &st, NULL);
    double t0 = now_s();
    size_t n = json_array_size(events);
    for (size_t i = 0; i < n; i++) {
        if (i % RAW_BATCH == 0)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        json_t *ev = json_array_get(events, i);
        char *payload = json_dumps(json_object_get(ev, "payload"), JSON_COMPACT | JSON_SORT_KEYS);
        static const char *const text[] = {"id", NULL, NULL, "member_id", "bundle_id", "bundle_version",
                                           "kind", "attempt_id"};
        for (int c = 0; c < 8; c++)
            if (text[c])
                sqlite3_bind_text(st, c + 1, json_string_value(json_object_get(ev, text[c])), -1,
                                  SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(ev, "seq")));
        sqlite3_bind_text(st, 9, payload, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 10, json_integer_value(json_object_get(ev, "created_ms")));
        sqlite3_bind_int64(st, 11, 1);
        if (sqlite3_step(st) != SQLITE_DONE)
            fprintf(stderr, "raw insert: %s\n", sqlite3_errmsg(db));
        sqlite3_reset(st);
        free(payload);
        if (i % RAW_BATCH == RAW_BATCH - 1 || i + 1 == n)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double t = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return t;
}

#if QK_WITH_POSTGRESQL
/* COPY's text format: a tab, a newline and a backslash escaped; NULL as \N. */
static void copy_field(char **buf, size_t *len, size_t *cap, const char *v, int last)
{
    size_t need = *len + (v ? 2 * strlen(v) : 2) + 2;
    if (need > *cap || !*buf) {
        char *grown = realloc(*buf, 2 * need);
        if (!grown) {
            fprintf(stderr, "COPY: out of memory\n");
            exit(1);
        }
        *buf = grown;
        *cap = 2 * need;
    }
    char *o = *buf + *len;
    if (!v) {
        *o++ = '\\';
        *o++ = 'N';
    }
    for (const char *p = v; p && *p; p++) {
        if (*p == '\\' || *p == '\t' || *p == '\n' || *p == '\r') {
            *o++ = '\\';
            *o++ = *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : '\\';
        } else {
            *o++ = *p;
        }
    }
    *o++ = last ? '\n' : '\t';
    *len = (size_t)(o - *buf);
}

/* The baseline on PostgreSQL: the batch's rows into a fresh store's events
 * table with COPY, in one transaction (PostgreSQL's fastest way in). */
static double pg_copy(const char *dir, const char *name, const char *device, json_t *events)
{
    qk_store_close(fresh_store(dir, name, NULL)); /* the same schema */
    char url[1024];
    snprintf(url, sizeof url, "%s/qkb_%s", getenv("QK_PG_URL"), name + 3);
    PGconn *c = pg_open(url);
    double t0 = now_s();
    pg_run(c, "BEGIN");
    PGresult *r = PQexec(c, "COPY events(id, device_id, seq, member_id, bundle_id, bundle_version, kind,"
                            " attempt_id, payload, created_ms, received_ms) FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fprintf(stderr, "COPY: %s", PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    char *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *ev = json_array_get(events, i);
        char *payload = json_dumps(json_object_get(ev, "payload"), JSON_COMPACT | JSON_SORT_KEYS);
        char seq[24], ms[24];
        snprintf(seq, sizeof seq, "%lld", (long long)json_integer_value(json_object_get(ev, "seq")));
        snprintf(ms, sizeof ms, "%lld", (long long)json_integer_value(json_object_get(ev, "created_ms")));
        const char *row[11] = {json_string_value(json_object_get(ev, "id")), device, seq,
                               json_string_value(json_object_get(ev, "member_id")),
                               json_string_value(json_object_get(ev, "bundle_id")),
                               json_string_value(json_object_get(ev, "bundle_version")),
                               json_string_value(json_object_get(ev, "kind")),
                               json_string_value(json_object_get(ev, "attempt_id")), payload, ms, "1"};
        size_t len = 0;
        for (int k = 0; k < 11; k++)
            copy_field(&buf, &len, &cap, row[k], k == 10);
        if (PQputCopyData(c, buf, (int)len) != 1) {
            fprintf(stderr, "COPY: %s", PQerrorMessage(c));
            exit(1);
        }
        free(payload);
    }
    free(buf);
    if (PQputCopyEnd(c, NULL) != 1) {
        fprintf(stderr, "COPY: %s", PQerrorMessage(c));
        exit(1);
    }
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "COPY: %s", PQerrorMessage(c));
            exit(1);
        }
        PQclear(r);
    }
    pg_run(c, "COMMIT");
    double t = now_s() - t0;
    PQfinish(c);
    return t;
}

/* Issue 19: the same file into stores on PostgreSQL, beside COPY. */
static void bench_pg(const char *dir, const char *bundles, const char *batch, const char *device, json_t *events)
{
    double t_judged[ROUNDS], t_stored[ROUNDS], t_copy[ROUNDS];
    qk_import_result r;
    stats_times st;
    time_imports(dir, 1, bundles, batch, t_judged, t_stored, &r, &st);
    for (int k = 0; k < ROUNDS; k++) {
        char name[32];
        snprintf(name, sizeof name, "pg-copy%d", k);
        t_copy[k] = pg_copy(dir, name, device, events);
    }
    double ev = (double)json_array_size(events);
    double tj = median(t_judged), ts = median(t_stored), tc = median(t_copy);
    printf("\nPostgreSQL (%s): judged %zu inserted, %zu re-scored, %zu mismatches\n", getenv("QK_PG_URL"),
           r.inserted, r.rescored, r.mismatches);
    printf("%-8s %12s %10s %14s\n", "import", "events/s", "seconds", "ratio to COPY");
    printf("%-8s %12.0f %10.3f %14.3f\n", "judged", ev / tj, tj, tc / tj);
    printf("%-8s %12.0f %10.3f %14.3f\n", "stored", ev / ts, ts, tc / ts);
    printf("%-8s %12.0f %10.3f %14.3f\n", "COPY", ev / tc, tc, 1.0);
    printf("(median of %d imports each, each into a new database; issue 19's goal: judged >= 0.25x COPY)\n",
           ROUNDS);
    printf("statistics: roll-ups of the %.0f events built by the first query in %.3f s; then %.1f ms a subject\n",
           ev, st.build_s, st.subject_ms);
}
#endif

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "--child") == 0) { /* see child_rss_mb */
        qk_store *s = fresh_store(argv[2], argv[3], argv[4][0] ? argv[4] : NULL);
        qk_import_result r;
        if (argv[5][0])
            import(s, argv[5], &r);
        qk_store_close(s);
        printf("%ld\n", own_peak_mb());
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fprintf(stderr, "usage: bench_ingest BUNDLE.qkb [ATTEMPTS] [MEMBERS]   (default 1000 5)\n"
                        "       bench_ingest BUNDLE.qkb --again DIR   (the device and batch a run kept)\n"
                        "BENCH_KEEP=1: keep the device, the batch and the stores\n");
        return argc < 2 ? 2 : 0;
    }
    /* --again DIR: the imports again, of the batch a kept run made (its
     * device takes minutes to play 8,400 attempts) */
    const char *again = argc > 3 && strcmp(argv[2], "--again") == 0 ? argv[3] : NULL;
    int attempts = argc > 2 && !again ? (int)strtol(argv[2], NULL, 10) : 1000;
    int members = argc > 3 && !again ? (int)strtol(argv[3], NULL, 10) : 5;
    if (attempts < 1 || members < 1 || members > 1000) {
        fprintf(stderr, "bench_ingest: ATTEMPTS and MEMBERS must be positive\n");
        return 2;
    }
    char *dir = again ? strdup(again) : qkt_tmpdir();
    char devdir[1024], progress[1100], batch[1024], cmd[5000], msg[600];
    const char *bundles = argv[1]; /* published in every judged store */
    snprintf(devdir, sizeof devdir, "%s/device", dir);
    snprintf(batch, sizeof batch, "%s/batch.qkd", dir);
    snprintf(progress, sizeof progress, "%s/progress.db", devdir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", devdir);
    if (!again && system(cmd) != 0)
        return 1;

    /* The device: members, attempts, one USB batch. */
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qk_key *key = NULL;
    if (qk_engine_open(&e, progress, QK_LANG_EN) != QK_OK || qk_bundle_open(&b, argv[1], 0, QK_LANG_EN) != QK_OK ||
        qk_key_generate(&key) != QK_OK) {
        fprintf(stderr, "bench_ingest: cannot open the device or %s\n", argv[1]);
        return 1;
    }
    size_t n = 0;
    double t_play = 1;
    if (!again) {
        for (int m = 1; m <= members; m++) {
            char id[16], name[32];
            snprintf(id, sizeof id, "m%d", m);
            snprintf(name, sizeof name, "成员%d", m);
            qk_member_add(e, id, name, "", "1234");
        }
        double t0 = now_s();
        if (play(e, b, attempts, members) != 0)
            return 1;
        t_play = now_s() - t0;
        if (qk_batch_export(e, key, batch, 0, &n, msg, sizeof msg) != QK_OK) {
            fprintf(stderr, "export: %s\n", msg);
            return 1;
        }
    }
    json_t *events = NULL;
    int64_t last = 0;
    qk__collect_events(e, 0, (size_t)-1, (size_t)-1, &events, &last);
    if (again)
        n = json_array_size(events);
    else
        printf("device: %d attempts of %d questions by %d members = %zu events (%.0f durable events/s on the "
               "device)\n",
               attempts, QUESTIONS, members, n, (double)n / t_play);

    /* Each import ROUNDS times into a fresh store; the median is printed
     * (one run on a shared VM varies by a fifth). */
    qk_import_result r;
    double t_judged[ROUNDS], t_stored[ROUNDS], t_raw[ROUNDS];
    stats_times sts;
    time_imports(dir, 0, bundles, batch, t_judged, t_stored, &r, &sts);
    for (int k = 0; k < ROUNDS; k++) {
        char name[32];
        snprintf(name, sizeof name, "raw-%d.db", k);
        t_raw[k] = raw_insert(dir, name, qk_engine_device_id(e), events);
    }
    long rss_judged = peak_rss_mb();
    printf("judged: %zu inserted, %zu attempts re-scored, %zu mismatches, %zu unscored\n", r.inserted,
           r.rescored, r.mismatches, r.unscored);
    double tj = median(t_judged), ts = median(t_stored), tr = median(t_raw);

    /* Memory: the import alone, in a process of its own, against the same
     * process opening the store and importing nothing. */
    long rss_open = child_rss_mb(dir, "rss-open.db", bundles, NULL);
    long rss_import = child_rss_mb(dir, "rss-judged.db", bundles, batch);
    struct stat st;
    long file_kb = stat(batch, &st) == 0 ? (long)(st.st_size / 1024) : -1;

    double ev = (double)n;
    printf("\n%-8s %12s %10s %14s\n", "import", "events/s", "seconds", "ratio to raw");
    printf("%-8s %12.0f %10.3f %14.3f\n", "judged", ev / tj, tj, tr / tj);
    printf("%-8s %12.0f %10.3f %14.3f\n", "stored", ev / ts, ts, tr / ts);
    printf("%-8s %12.0f %10.3f %14.3f\n", "raw", ev / tr, tr, 1.0);
    printf("(median of %d imports each; peak RSS of this process %ld MB)\n", ROUNDS, rss_judged);
    printf("statistics: roll-ups of the %.0f events built by the first query in %.3f s; then %.1f ms a subject\n",
           ev, sts.build_s, sts.subject_ms);
    printf("\nmemory: a process importing the batch (%ld KB gzip file) peaks at %ld MB; opening the store"
           " alone %ld MB: the import adds %ld MB\n",
           file_kb, rss_import, rss_open, rss_import - rss_open);
    printf("\nissue 17 goals: judged >= 20000 events/s and >= 0.25x raw; an import's memory bounded by one batch"
           " (<= 32 MB) whatever the file's size\n");

#if QK_WITH_POSTGRESQL
    if (getenv("QK_PG_URL") && *getenv("QK_PG_URL"))
        bench_pg(dir, bundles, batch, qk_engine_device_id(e), events);
#endif
    json_decref(events);
    qk_key_free(key);
    qk_bundle_close(b);
    qk_engine_close(e);
    if (getenv("BENCH_KEEP") || again)
        printf("files kept in %s (batch.qkd; bench_ingest --child DIR NAME BUNDLES BATCH imports it again)\n", dir);
    else
        qkt_rmrf(dir);
    free(dir);
    return 0;
}
