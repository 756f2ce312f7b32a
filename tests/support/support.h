/* support.h: helpers shared by the tests: temporary folders, a fixed clock and
 * a small bundle with known answers, written through the real writer. */
#ifndef QK_TEST_SUPPORT_H
#define QK_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "quizkit.h"

/* A new empty folder under $TMPDIR (or /tmp); caller frees the string. */
char *qkt_tmpdir(void);
/* cmocka fixtures: *state becomes a new temporary folder, removed afterwards. */
int qkt_setup_tmpdir(void **state);
int qkt_teardown_tmpdir(void **state);
/* Removes a folder and everything in it. */
void qkt_rmrf(const char *path);
/* dir + "/" + name; caller frees. */
char *qkt_path(const char *dir, const char *name);
/* Writes text to a file (creating parents is the caller's job). */
void qkt_write(const char *path, const char *text);
/* A whole file, NUL-terminated; caller frees. */
char *qkt_read(const char *path, size_t *len);

/* A clock the test moves by hand. */
typedef struct qkt_clock {
    int64_t now_ms;
} qkt_clock;
int64_t qkt_clock_fn(void *payload);

/* A cmocka fixture: the fixture bundle and a fresh engine in a temporary
 * folder, with a hand-moved clock starting at 2026-01-01 00:00 UTC. */
typedef struct qkt_fx {
    char *dir;
    qk_engine *e;
    qk_bundle *b;
    qkt_clock clock;
} qkt_fx;
int qkt_fx_setup(void **state);
int qkt_fx_teardown(void **state);

/* Fixture bundle "test.fixture" version "1":
 *   theme "t1": s1 single (right: B of A-D), m1 multi (A and C of A-D, partial),
 *               j1 judge (true), f1 fill (2 blanks: 1921|1921年 ; 嘉兴|南湖)
 *   theme "t2": s2 single (right: A of A-C, shuffle off)
 *   competitions: "c-fixed" (s1, j1, m1; 20 s; 2026-03-05 08:00 to 03-12 20:00
 *   Beijing; members only, one entry) and "c-draw" (3 drawn from t1 by seed 42;
 *   10 s; full points in the first quarter; streak bonus 100 up to 300; guests;
 *   two entries; teams by branch) */
void qkt_build_fixture(const char *path);
/* The same, signed by key (NULL: unsigned, as qkt_build_fixture). */
void qkt_build_fixture_signed(const char *path, const qk_key *key);
/* The same questions under another bundle id. */
void qkt_build_fixture_as(const char *path, const qk_key *key, const char *id);
/* Opens the fixture (building it first) and an engine in dir. */
void qkt_open(const char *dir, qk_engine **e, qk_bundle **b);

#ifndef QKT_ENGINE_ONLY
/* --- the server's store and the importers (support_full.c) --- */
typedef struct qk_store qk_store;
/* Publishes the fixture on the server's store as a leader does: signed by a
 * new key its trust folder holds (in dir/publish). Returns how many waiting
 * attempts the publication scored. The fixture the devices play (qkt_open)
 * has the same id, version and questions. */
size_t qkt_publish_fixture(qk_store *s, const char *dir);
/* The bundle file as the store keeps it once published, without the
 * publication's checks (benchmarks of other things); QK_OK or a status. */
int qkt_publish_file(qk_store *s, const char *file);
/* The server's store for a test working in dir: "sqlite:dir/server.db",
 * or, when the environment's QKT_PG names a PostgreSQL server
 * (postgresql://user@host:port, as scripts/pg-cluster.sh gives it), a new
 * database of its own there (issue 19: the same tests on both). Caller frees. */
char *qkt_store_spec(const char *dir);
/* SQL run on the store itself (spec as qkt_store_spec gives it), for what a
 * test sets up or checks beside the store's operations: qkt_store_exec
 * fails the test on an error; qkt_store_int gives the first column of the
 * first row as an integer (a boolean as 0 or 1; -1 when there is no row).
 * The SQL must mean the same on SQLite and PostgreSQL. */
void qkt_store_exec(const char *spec, const char *sql);
int64_t qkt_store_int(const char *spec, const char *sql);
/* A write transaction held on the store from another connection, as a long
 * `admin import` or another server instance holds one: the store's writers
 * wait for it (SQLite's write lock; on PostgreSQL the store's advisory
 * lock). sql (may be NULL) is run inside it; release commits it. */
typedef struct qkt_hold qkt_hold;
qkt_hold *qkt_store_hold_writes(const char *spec, const char *sql);
void qkt_store_release(qkt_hold *h);
/* 1 when the tests' stores are on PostgreSQL (QKT_PG is set): the tests of
 * the SQLite file itself (its migrations, locks, query plans) are not run. */
int qkt_store_is_pg(void);
/* The store's tables as a SQLite file the test reads with SQL: the store's
 * own file, or for PostgreSQL a copy of every table made now, at
 * dir/snapshot.db (integers as integers, bytea as blobs). Caller frees. */
char *qkt_store_snapshot(const char *spec, const char *dir);
/* qk_enrol as a device does it: with the proof made by key (NULL: no proof). */
int qkt_enrol(qk_store *s, const char *code, const char *device_id, const char *name,
              const qk_key *key, char token[65], char branch[65]);

/* --- importers: parse text and keep what came out --- */
#include "qk_content.h"

typedef struct qkt_q {
    char id[80], theme[80], stem[512], options[512], answer[256], explanation[256];
    qk_qtype type;
    qk_scoring scoring;
    int points, difficulty, line;
    size_t n_tags;
} qkt_q;

typedef struct qkt_parsed {
    qkt_q q[64];
    size_t n;
    char diags[8192]; /* "line: error|warning: message" lines */
    size_t diag_len;
    size_t errors, warnings;
} qkt_parsed;

/* Runs one importer over text; fills out (zeroed first). */
void qkt_parse(qk_source_format fmt, const char *text, qkt_parsed *out);
/* The parsed question with this id, or fails the test. */
const qkt_q *qkt_find(const qkt_parsed *p, const char *id);
#endif /* QKT_ENGINE_ONLY */

#endif
