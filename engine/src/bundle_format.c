/* bundle_format.c: the schema of bundle format 1, the per-section digests and
 * the canonical manifest that signatures cover.
 *
 * Each section digest is SHA-256 over a byte stream of the section's logical
 * rows, in primary-key order, each value tagged with its type and length-
 * prefixed. Because the stream is built from rows and not from the file's
 * pages, VACUUM or a different SQLite version changes nothing, while any change
 * of a value the engine reads changes its section. content_digest is SHA-256
 * over the section digests, and the signature covers the manifest that holds
 * them all: one signature, and verification can still say what changed.
 *
 * Also here: the line format of a device's verified record (bundle.c's
 * qk_bundle_open_trusted keeps the file; this is only its text). */
#include <stdlib.h>
#include <string.h>


#include "bundle_format.h"

const char qk__bundle_schema[] =
    "CREATE TABLE manifest(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;\n"
    "CREATE TABLE signature(key_id TEXT NOT NULL, algorithm TEXT NOT NULL, value BLOB NOT NULL);\n"
    "CREATE TABLE themes(id TEXT PRIMARY KEY, sort INTEGER NOT NULL, title TEXT NOT NULL,\n"
    "  description TEXT NOT NULL DEFAULT '', active TEXT NOT NULL DEFAULT '') WITHOUT ROWID;\n"
    "CREATE TABLE questions(id TEXT PRIMARY KEY, sort INTEGER NOT NULL,\n"
    "  theme TEXT NOT NULL REFERENCES themes(id), type TEXT NOT NULL, scoring TEXT NOT NULL,\n"
    "  stem TEXT NOT NULL, explanation TEXT, source TEXT, points INTEGER NOT NULL,\n"
    "  difficulty INTEGER NOT NULL, shuffle INTEGER NOT NULL, judge_answer INTEGER) WITHOUT ROWID;\n"
    "CREATE INDEX questions_theme ON questions(theme, sort);\n"
    "CREATE TABLE options(question_id TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL,\n"
    "  correct INTEGER NOT NULL, PRIMARY KEY(question_id, idx)) WITHOUT ROWID;\n"
    "CREATE TABLE blanks(question_id TEXT NOT NULL, blank INTEGER NOT NULL, idx INTEGER NOT NULL,\n"
    "  accepted TEXT NOT NULL, PRIMARY KEY(question_id, blank, idx)) WITHOUT ROWID;\n"
    "CREATE TABLE tags(question_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY(question_id, tag))"
    " WITHOUT ROWID;\n"
    "CREATE TABLE media(name TEXT PRIMARY KEY, mime TEXT NOT NULL, data BLOB NOT NULL);\n"
    "CREATE TABLE point_rules(activity TEXT PRIMARY KEY, points INTEGER NOT NULL,\n"
    "  daily_cap INTEGER NOT NULL) WITHOUT ROWID;\n"
    "CREATE TABLE lessons(id TEXT PRIMARY KEY, sort INTEGER NOT NULL,\n"
    "  theme TEXT NOT NULL REFERENCES themes(id), title TEXT NOT NULL, kind TEXT NOT NULL,\n"
    "  minutes INTEGER NOT NULL, completion TEXT NOT NULL, scoring TEXT NOT NULL,\n"
    "  start TEXT NOT NULL) WITHOUT ROWID;\n"
    "CREATE TABLE lesson_steps(lesson_id TEXT NOT NULL, step_id TEXT NOT NULL,\n"
    "  sort INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, next TEXT,\n"
    "  score INTEGER NOT NULL, question_id TEXT, PRIMARY KEY(lesson_id, step_id)) WITHOUT ROWID;\n"
    "CREATE TABLE lesson_choices(lesson_id TEXT NOT NULL, step_id TEXT NOT NULL,\n"
    "  idx INTEGER NOT NULL, text TEXT NOT NULL, target TEXT NOT NULL, delta INTEGER NOT NULL,\n"
    "  min_score INTEGER, max_score INTEGER, PRIMARY KEY(lesson_id, step_id, idx))\n"
    "  WITHOUT ROWID;\n"
    "CREATE TABLE competitions(id TEXT PRIMARY KEY, sort INTEGER NOT NULL, spec TEXT NOT NULL)\n"
    "  WITHOUT ROWID;\n";
/* Every table keyed by what its rows are ordered by is WITHOUT ROWID, so the
 * ordered scans of verification read the file sequentially. media keeps a
 * rowid: its blobs are large, and SQLite stores large rows better that way. */

const char *const qk__section_names[QK__SEC_COUNT] = {
    "schema", "manifest", "themes", "questions", "options", "blanks", "tags", "media", "rules",
    "lessons", "steps", "choices", "competitions"};

const qk__msg_id qk__section_msgs[QK__SEC_COUNT] = {
    QK_M_SEC_SCHEMA,  QK_M_SEC_MANIFEST, QK_M_SEC_THEMES, QK_M_SEC_QUESTIONS,
    QK_M_SEC_OPTIONS, QK_M_SEC_BLANKS,   QK_M_SEC_TAGS,   QK_M_SEC_MEDIA, QK_M_SEC_RULES,
    QK_M_SEC_LESSONS, QK_M_SEC_LESSONS, QK_M_SEC_LESSONS, QK_M_SEC_COMPETITIONS};

/* The rows of each section. The manifest section leaves out the digests it
 * holds; the signature table is in no section (it signs the manifest). */
static const char *const section_queries[QK__SEC_COUNT] = {
    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
    "SELECT key, value FROM manifest WHERE key NOT LIKE 'digest.%' AND key <> 'content_digest' ORDER BY key",
    "SELECT * FROM themes ORDER BY id",
    "SELECT * FROM questions ORDER BY id",
    "SELECT * FROM options ORDER BY question_id, idx",
    "SELECT * FROM blanks ORDER BY question_id, blank, idx",
    "SELECT * FROM tags ORDER BY question_id, tag",
    "SELECT * FROM media ORDER BY name",
    "SELECT * FROM point_rules ORDER BY activity",
    "SELECT * FROM lessons ORDER BY id",
    "SELECT * FROM lesson_steps ORDER BY lesson_id, step_id",
    "SELECT * FROM lesson_choices ORDER BY lesson_id, step_id, idx",
    "SELECT * FROM competitions ORDER BY id",
};

/* Rows are fed as many small fields; batching them into one buffer before
 * they reach SHA-256 saves a call per field (verification time is dominated
 * by this on large bundles). */
typedef struct {
    qk_sha256 sha;
    unsigned char buf[8192];
    size_t used;
} hasher;

static void h_flush(hasher *h)
{
    if (!h->used)
        return;
    qk_sha256_add(&h->sha, h->buf, h->used);
    h->used = 0;
}

/* cpu: what qk__sha256_cpu said */
static void h_start(hasher *h, int cpu)
{
    h->used = 0;
    qk__sha256_init_bulk(&h->sha, cpu);
}

static void h_update(hasher *h, const void *p, size_t n)
{
    if (h->used + n > sizeof h->buf) {
        h_flush(h);
        if (n > sizeof h->buf) {
            qk_sha256_add(&h->sha, p, n);
            return;
        }
    }
    memcpy(h->buf + h->used, p, n);
    h->used += n;
}

static void h_finish(hasher *h, unsigned char out[32])
{
    h_flush(h);
    qk__sha256_final(&h->sha, out);
}

/* A one-byte tag and a big-endian 64-bit number: a length, a column count or
 * an integer value. */
static inline void h_tag_u64(hasher *h, char tag, uint64_t v)
{
    if (9 > sizeof h->buf - h->used)
        h_flush(h);
    unsigned char *b = h->buf + h->used;
    b[0] = (unsigned char)tag;
    b[1] = (unsigned char)(v >> 56);
    b[2] = (unsigned char)(v >> 48);
    b[3] = (unsigned char)(v >> 40);
    b[4] = (unsigned char)(v >> 32);
    b[5] = (unsigned char)(v >> 24);
    b[6] = (unsigned char)(v >> 16);
    b[7] = (unsigned char)(v >> 8);
    b[8] = (unsigned char)v;
    h->used += 9;
}

/* A tagged, length-prefixed value. */
static inline void h_field(hasher *h, char tag, const void *p, size_t n)
{
    h_tag_u64(h, tag, n);
    if (n)
        h_update(h, p, n);
}

/* Hashes every row of one query into h. */
static int h_rows(hasher *h, sqlite3 *db, const char *sql, const char **sqlerr)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        *sqlerr = sqlite3_errmsg(db);
        return QK_ECORRUPT;
    }
    h_field(h, 'Q', sql, strlen(sql));
    int step, ncol = sqlite3_column_count(st);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        h_tag_u64(h, 'R', (uint64_t)ncol); /* row marker and column count */
        for (int c = 0; c < ncol; c++) {
            const void *p;
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_NULL:
                h_tag_u64(h, 'N', 0);
                break;
            case SQLITE_INTEGER:
                h_tag_u64(h, 'I', (uint64_t)sqlite3_column_int64(st, c));
                break;
            case SQLITE_FLOAT: /* no float columns in format 1; hash the text form */
                p = sqlite3_column_text(st, c);
                h_field(h, 'F', p, (size_t)sqlite3_column_bytes(st, c));
                break;
            case SQLITE_TEXT:
                p = sqlite3_column_text(st, c);
                h_field(h, 'T', p, (size_t)sqlite3_column_bytes(st, c));
                break;
            default:
                p = sqlite3_column_blob(st, c);
                h_field(h, 'B', p, (size_t)sqlite3_column_bytes(st, c));
            }
        }
    }
    int rc = QK_OK;
    if (step != SQLITE_DONE) {
        *sqlerr = sqlite3_errmsg(db);
        rc = step == SQLITE_NOMEM ? QK_ENOMEM : QK_ECORRUPT;
    }
    sqlite3_finalize(st);
    return rc;
}

static void to_digest(const unsigned char sum[32], char out[QK__DIGEST_STRLEN + 1])
{
    memcpy(out, "sha256:", 7);
    qk__hex_encode(out + 7, 65, sum, 32);
}

int qk__bundle_digests(sqlite3 *db, qk__digests *out, const char **sqlerr)
{
    int cpu = qk__sha256_cpu();
    hasher total;
    h_start(&total, cpu);
    h_field(&total, 'V', "quizkit-bundle-v1", 17);
    int rc = QK_OK;
    for (int s = 0; s < QK__SEC_COUNT && rc == QK_OK; s++) {
        hasher h;
        h_start(&h, cpu);
        rc = h_rows(&h, db, section_queries[s], sqlerr);
        unsigned char sum[32];
        h_finish(&h, sum);
        to_digest(sum, out->section[s]);
        h_field(&total, 'S', qk__section_names[s], strlen(qk__section_names[s]));
        h_field(&total, 'D', out->section[s], QK__DIGEST_STRLEN);
    }
    unsigned char sum[32];
    h_finish(&total, sum);
    to_digest(sum, out->total);
    return rc;
}

int qk__manifest_hash(sqlite3 *db, unsigned char out[32], const char **sqlerr)
{
    hasher h;
    h_start(&h, qk__sha256_cpu());
    h_field(&h, 'V', "quizkit-manifest-v1", 19);
    int rc = h_rows(&h, db, "SELECT key, value FROM manifest ORDER BY key", sqlerr);
    h_finish(&h, out);
    return rc;
}

/* --- the verified record's lines --- */

/* The next space-separated token of [*p, end): its start and length, or 0. */
static size_t token(const char **p, const char *end, const char **tok)
{
    const char *s = *p;
    if (s < end && *s == ' ')
        s++;
    const char *e = s;
    while (e < end && *e != ' ')
        e++;
    *tok = s;
    *p = e;
    return (size_t)(e - s);
}

/* n decimal digits at t, up to UINT64_MAX: an inode number can use all 64
 * bits (overlayfs sets the top ones). No sign, no '+', no empty number. */
static int digits(const char *t, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9')
            return 0;
        uint64_t d = (uint64_t)(t[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int parse_u64(const char **p, const char *end, uint64_t *out)
{
    const char *t;
    size_t n = token(p, end, &t);
    return digits(t, n, out);
}

/* A time: a file may carry one from before 1970 (touch -d 1960). */
static int parse_i64(const char **p, const char *end, int64_t *out)
{
    const char *t;
    size_t n = token(p, end, &t);
    int neg = n > 0 && t[0] == '-';
    uint64_t v;
    if (!digits(t + neg, n - (size_t)neg, &v) || v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return 0;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 1;
}

/* Exactly n lowercase hex digits into out (n + 1 bytes). */
static int parse_hex(const char **p, const char *end, size_t n, char *out)
{
    const char *t;
    if (token(p, end, &t) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return 0;
    }
    memcpy(out, t, n);
    out[n] = '\0';
    return 1;
}

int qk__verified_parse(const char *line, size_t len, qk__verified *e)
{
    memset(e, 0, sizeof *e);
    const char *p = line, *end = line + len, *t;
    uint64_t n_themes = 0;
    if (token(&p, end, &t) != 4 || memcmp(t, "qkv2", 4) != 0 || !parse_u64(&p, end, &e->dev) ||
        !parse_u64(&p, end, &e->ino) || !parse_u64(&p, end, &e->size) ||
        !parse_i64(&p, end, &e->mtime_s) || !parse_i64(&p, end, &e->mtime_ns) ||
        !parse_i64(&p, end, &e->ctime_s) || !parse_i64(&p, end, &e->ctime_ns) ||
        !parse_hex(&p, end, 64, e->manifest) || !parse_hex(&p, end, QK_KEY_ID_LEN, e->key_id) ||
        !parse_hex(&p, end, 64, e->key_sum) || !parse_u64(&p, end, &e->n_questions) ||
        !parse_u64(&p, end, &e->n_lessons) || !parse_u64(&p, end, &e->n_media) ||
        !parse_u64(&p, end, &e->n_checkpoints) || !parse_u64(&p, end, &n_themes) ||
        n_themes > QK__VERIFIED_MAX_THEMES)
        return QK_ECORRUPT;
    e->themes = malloc((n_themes ? n_themes : 1) * sizeof *e->themes);
    if (!e->themes)
        return QK_ENOMEM;
    e->n_themes = (size_t)n_themes;
    for (size_t i = 0; i < e->n_themes; i++) {
        struct qk__verified_theme *th = &e->themes[i];
        const char *first = NULL;
        int ok = parse_u64(&p, end, &th->count);
        if (ok) {
            first = p;
            th->run = !(token(&p, end, &t) == 1 && t[0] == '-');
            th->first = 0;
        }
        if (!ok || (th->run && (p = first, !parse_i64(&p, end, &th->first)))) {
            qk__verified_clear(e);
            return QK_ECORRUPT;
        }
    }
    if (p != end) {
        qk__verified_clear(e);
        return QK_ECORRUPT;
    }
    return QK_OK;
}

void qk__verified_format(qk__buf *out, const qk__verified *e)
{
    qk__buf_fmt(out, "qkv2 %llu %llu %llu %lld %lld %lld %lld %s %s %s %llu %llu %llu %llu %zu",
                (unsigned long long)e->dev, (unsigned long long)e->ino, (unsigned long long)e->size,
                (long long)e->mtime_s, (long long)e->mtime_ns, (long long)e->ctime_s,
                (long long)e->ctime_ns, e->manifest, e->key_id, e->key_sum,
                (unsigned long long)e->n_questions, (unsigned long long)e->n_lessons,
                (unsigned long long)e->n_media, (unsigned long long)e->n_checkpoints, e->n_themes);
    for (size_t i = 0; i < e->n_themes; i++)
    {
        const struct qk__verified_theme *th = &e->themes[i];
        if (th->run)
            qk__buf_fmt(out, " %llu %lld", (unsigned long long)th->count, (long long)th->first);
        else
            qk__buf_fmt(out, " %llu -", (unsigned long long)th->count);
    }
    qk__buf_str(out, "\n");
}

void qk__verified_clear(qk__verified *e)
{
    free(e->themes);
    e->themes = NULL;
    e->n_themes = 0;
}
