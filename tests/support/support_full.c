/* support_full.c: the helpers of support.h that need the importers or the
 * server's store (not in an engine-only build). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "qk_server.h"
#include "../../sync/src/store.h"
#include "../../sync/src/sync_msg.h"

size_t qkt_publish_fixture(qk_store *s, const char *dir)
{
    char *pub = qkt_path(dir, "publish"), *trust = qkt_path(pub, "trust");
    char *kp = qkt_path(trust, "publisher.pub"), *file = qkt_path(pub, "fixture.qkb");
    mkdir(pub, 0700);
    mkdir(trust, 0700);
    qk_key *key = NULL;
    char msg[256];
    assert_int_equal(qk_key_generate(&key), QK_OK);
    unlink(kp);
    assert_int_equal(qk_key_write(key, NULL, kp, QK_LANG_EN, msg, sizeof msg), QK_OK);
    unlink(file);
    qkt_build_fixture_signed(file, key);
    qk_published p;
    int rc = qk_admin_bundle_publish(s, file, trust, "test", &p);
    if (rc != QK_OK)
        fail_msg("publish: %s", qk_store_errmsg(s));
    qk_key_free(key);
    free(pub), free(trust), free(kp), free(file);
    return p.rescored;
}

int qkt_publish_file(qk_store *s, const char *file)
{
    char *data = NULL;
    size_t len = 0;
    qk_bundle *b = NULL;
    int rc = qk__read_file(file, QK_BUNDLE_MAX_BYTES, &data, &len);
    if (rc == QK_OK)
        rc = qk_bundle_open_memory(&b, data, len, file, 0, QK_LANG_EN);
    qk_published p;
    memset(&p, 0, sizeof p);
    if (rc == QK_OK) {
        const qk_bundle_info *i = qk_bundle_info_get(b);
        snprintf(p.id, sizeof p.id, "%s", i->id);
        snprintf(p.version, sizeof p.version, "%s", i->version);
        snprintf(p.title, sizeof p.title, "%s", i->title);
        snprintf(p.key_id, sizeof p.key_id, "%s", i->publisher_key_id);
        snprintf(p.by, sizeof p.by, "bench");
        qk_sha256_hex(p.sha256, data, len);
        p.size = (int64_t)len;
        rc = s->ops->bundle_put(s, &p, data, len);
    }
    qk_bundle_close(b);
    free(data);
    return rc;
}

static void parsed_diag(const qk_diag *d, void *payload)
{
    qkt_parsed *p = payload;
    if (d->level == QK_DIAG_ERROR)
        p->errors++;
    else
        p->warnings++;
    if (p->diag_len < sizeof p->diags)
        p->diag_len += (size_t)snprintf(p->diags + p->diag_len, sizeof p->diags - p->diag_len,
                                        "%d: %s: %s\n", d->line,
                                        d->level == QK_DIAG_ERROR ? "error" : "warning", d->message);
}

static int parsed_add(const qk_question *q, int line, void *payload)
{
    qkt_parsed *p = payload;
    if (p->n == sizeof p->q / sizeof p->q[0])
        return QK_ELIMIT;
    qkt_q *o = &p->q[p->n++];
    memset(o, 0, sizeof *o);
    snprintf(o->id, sizeof o->id, "%s", q->id);
    snprintf(o->theme, sizeof o->theme, "%s", q->theme ? q->theme : "");
    snprintf(o->stem, sizeof o->stem, "%s", q->stem);
    snprintf(o->explanation, sizeof o->explanation, "%s", q->explanation ? q->explanation : "");
    size_t len = 0;
    for (size_t i = 0; i < q->n_options; i++)
        len += (size_t)snprintf(o->options + len, sizeof o->options - len, "%s%s", i ? "|" : "",
                                q->options[i].text);
    char *ans = NULL;
    if (qk_question_answer_text(&ans, q, NULL, QK_LANG_ZH) == QK_OK)
        snprintf(o->answer, sizeof o->answer, "%s", ans);
    free(ans);
    o->type = q->type;
    o->scoring = q->scoring;
    o->points = q->points;
    o->difficulty = q->difficulty;
    o->n_tags = q->n_tags;
    o->line = line;
    return QK_OK;
}

void qkt_parse(qk_source_format fmt, const char *text, qkt_parsed *out)
{
    memset(out, 0, sizeof *out);
    qk_content_parse(fmt, "t", text, strlen(text), "默认", QK_LANG_EN, parsed_diag, out, parsed_add,
                     out);
}

const qkt_q *qkt_find(const qkt_parsed *p, const char *id)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->q[i].id, id) == 0)
            return &p->q[i];
    }
    fail_msg("no question %s; diagnostics:\n%s", id, p->diags);
    return NULL;
}

int qkt_enrol(qk_store *s, const char *code, const char *device_id, const char *name,
              const qk_key *key, char token[65], char branch[65])
{
    char *pem = NULL;
    assert_int_equal(qk_key_public_pem(key, &pem), QK_OK);
    unsigned char digest[32], sig[QK_KEY_SIG_MAX];
    size_t sl = 0;
    qk__enrol_digest(digest, code, device_id, pem);
    assert_int_equal(qk_key_sign(key, digest, sig, &sl), QK_OK);
    char proof[2 * QK_KEY_SIG_MAX + 1];
    qk__hex(proof, sig, sl);
    int rc = qk_enrol(s, code, device_id, name, pem, proof, token, branch);
    free(pem);
    return rc;
}

/* --- the store's backend: SQLite, or PostgreSQL when QKT_PG is set --- */

#include <sqlite3.h>
#if QK_WITH_POSTGRESQL
#include <libpq-fe.h>

static PGconn *pg_connect(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("PostgreSQL %s: %s", url, PQerrorMessage(c));
    return c;
}

static void pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}
#endif

int qkt_store_is_pg(void)
{
    const char *pg = getenv("QKT_PG");
    return pg && *pg;
}

char *qkt_store_spec(const char *dir)
{
    /* a process's second store in the same folder gets a name of its own */
    static unsigned made;
    char file[32];
    const char *pg = getenv("QKT_PG");
    made++;
    if (!pg || !*pg) {
        if (made == 1)
            snprintf(file, sizeof file, "server.db");
        else
            snprintf(file, sizeof file, "server%u.db", made);
        char *db = qkt_path(dir, file), *spec = malloc(strlen(db) + 8);
        assert_non_null(spec);
        snprintf(spec, strlen(db) + 8, "sqlite:%s", db);
        free(db);
        return spec;
    }
#if QK_WITH_POSTGRESQL
    /* a database of its own, named after the test's folder (unique) */
    const char *base = strrchr(dir, '/');
    char name[64], sql[128], admin[1024];
    snprintf(name, sizeof name, "qkt_%s_%u", base ? base + 1 : dir, made);
    for (char *p = name; *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p : '_');
    snprintf(admin, sizeof admin, "%s/postgres", pg);
    PGconn *c = pg_connect(admin);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    pg_exec(c, sql);
    PQfinish(c);
    size_t len = strlen(pg) + strlen(name) + 2;
    char *spec = malloc(len);
    assert_non_null(spec);
    snprintf(spec, len, "%s/%s", pg, name);
    return spec;
#else
    fail_msg("QKT_PG is set but this build has no PostgreSQL (QK_WITH_POSTGRESQL is off)");
    return NULL;
#endif
}

void qkt_store_exec(const char *spec, const char *sql)
{
    if (strncmp(spec, "sqlite:", 7) == 0) {
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(spec + 7, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        sqlite3_close(db);
        return;
    }
#if QK_WITH_POSTGRESQL
    PGconn *c = pg_connect(spec);
    pg_exec(c, sql);
    PQfinish(c);
#else
    fail_msg("%s: not a SQLite store", spec);
#endif
}

int64_t qkt_store_int(const char *spec, const char *sql)
{
    int64_t v = -1;
    if (strncmp(spec, "sqlite:", 7) == 0) {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_open(spec + 7, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return v;
    }
#if QK_WITH_POSTGRESQL
    PGconn *c = pg_connect(spec);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    if (PQntuples(r) > 0) {
        const char *t = PQgetvalue(r, 0, 0);
        v = strcmp(t, "t") == 0 ? 1 : strcmp(t, "f") == 0 ? 0 : strtoll(t, NULL, 10);
    }
    PQclear(r);
    PQfinish(c);
#else
    fail_msg("%s: not a SQLite store", spec);
#endif
    return v;
}

struct qkt_hold {
    sqlite3 *db;
#if QK_WITH_POSTGRESQL
    PGconn *c;
#endif
};

qkt_hold *qkt_store_hold_writes(const char *spec, const char *sql)
{
    qkt_hold *h = calloc(1, sizeof *h);
    assert_non_null(h);
    if (strncmp(spec, "sqlite:", 7) == 0) {
        assert_int_equal(sqlite3_open(spec + 7, &h->db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        if (sql && sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            fail_msg("%s: %s", sql, sqlite3_errmsg(h->db));
        return h;
    }
#if QK_WITH_POSTGRESQL
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", (long long)QK__PG_WRITE_LOCK);
    h->c = pg_connect(spec);
    pg_exec(h->c, "BEGIN");
    pg_exec(h->c, lock);
    if (sql)
        pg_exec(h->c, sql);
#else
    fail_msg("%s: not a SQLite store", spec);
#endif
    return h;
}

void qkt_store_release(qkt_hold *h)
{
    if (h->db) {
        assert_int_equal(sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h->db);
    }
#if QK_WITH_POSTGRESQL
    if (h->c) {
        pg_exec(h->c, "COMMIT");
        PQfinish(h->c);
    }
#endif
    free(h);
}

char *qkt_store_snapshot(const char *spec, const char *dir)
{
    if (strncmp(spec, "sqlite:", 7) == 0)
        return strdup(spec + 7);
#if QK_WITH_POSTGRESQL
    char *path = qkt_path(dir, "snapshot.db");
    unlink(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    PGconn *c = pg_connect(spec);
    PGresult *tables = PQexec(c, "SELECT table_name FROM information_schema.tables"
                                 " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
    assert_int_equal(PQresultStatus(tables), PGRES_TUPLES_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int t = 0; t < PQntuples(tables); t++) {
        const char *name = PQgetvalue(tables, t, 0);
        char sql[4096];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1", name); /* events: by row */
        PGresult *r = PQexec(c, sql);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        int cols = PQnfields(r);
        size_t at = (size_t)snprintf(sql, sizeof sql, "CREATE TABLE %s(", name);
        for (int k = 0; k < cols; k++)
            at += (size_t)snprintf(sql + at, sizeof sql - at, "%s%s", k ? ", " : "", PQfname(r, k));
        snprintf(sql + at, sizeof sql - at, ")");
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        at = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (", name);
        for (int k = 0; k < cols; k++)
            at += (size_t)snprintf(sql + at, sizeof sql - at, "%s?", k ? ", " : "");
        snprintf(sql + at, sizeof sql - at, ")");
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        for (int i = 0; i < PQntuples(r); i++) {
            for (int k = 0; k < cols; k++) {
                Oid type = PQftype(r, k);
                const char *v = PQgetvalue(r, i, k);
                if (PQgetisnull(r, i, k)) {
                    sqlite3_bind_null(st, k + 1);
                } else if (type == 20 || type == 21 || type == 23) {
                    sqlite3_bind_int64(st, k + 1, strtoll(v, NULL, 10));
                } else if (type == 17) { /* bytea, as "\x" and hex */
                    size_t len = 0;
                    unsigned char *b = PQunescapeBytea((const unsigned char *)v, &len);
                    sqlite3_bind_blob(st, k + 1, b, (int)len, SQLITE_TRANSIENT);
                    PQfreemem(b);
                } else {
                    sqlite3_bind_text(st, k + 1, v, -1, SQLITE_TRANSIENT);
                }
            }
            assert_int_equal(sqlite3_step(st), SQLITE_DONE);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        PQclear(r);
    }
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    PQclear(tables);
    PQfinish(c);
    sqlite3_close(db);
    return path;
#else
    (void)dir; /* (the PostgreSQL store's copy is made there) */
    fail_msg("%s: not a SQLite store, and this build has no PostgreSQL", spec);
    return NULL;
#endif
}
