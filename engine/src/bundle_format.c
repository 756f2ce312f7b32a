/* bundle_format.c: the schema of bundle format 1 and the canonical digest.
 *
 * The digest is SHA-256 over a byte stream that names every table and row the
 * engine reads, in primary-key order, each value tagged with its type and
 * length-prefixed. Because the stream is built from the logical rows and not
 * from the file's pages, VACUUM or a different SQLite version does not change
 * it, while any change of content, answer keys, media, manifest or schema does. */
#include <string.h>

#include <mbedtls/sha256.h>

#include "bundle_format.h"

const char qk__bundle_schema[] =
    "CREATE TABLE manifest(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE signature(key_id TEXT NOT NULL, algorithm TEXT NOT NULL, value BLOB NOT NULL);\n"
    "CREATE TABLE themes(id TEXT PRIMARY KEY, sort INTEGER NOT NULL, title TEXT NOT NULL,\n"
    "  description TEXT NOT NULL DEFAULT '');\n"
    "CREATE TABLE questions(id TEXT PRIMARY KEY, sort INTEGER NOT NULL,\n"
    "  theme TEXT NOT NULL REFERENCES themes(id), type TEXT NOT NULL, scoring TEXT NOT NULL,\n"
    "  stem TEXT NOT NULL, explanation TEXT, source TEXT, points INTEGER NOT NULL,\n"
    "  difficulty INTEGER NOT NULL, shuffle INTEGER NOT NULL, judge_answer INTEGER);\n"
    "CREATE INDEX questions_theme ON questions(theme, sort);\n"
    "CREATE TABLE options(question_id TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL,\n"
    "  correct INTEGER NOT NULL, PRIMARY KEY(question_id, idx));\n"
    "CREATE TABLE blanks(question_id TEXT NOT NULL, blank INTEGER NOT NULL, idx INTEGER NOT NULL,\n"
    "  accepted TEXT NOT NULL, PRIMARY KEY(question_id, blank, idx));\n"
    "CREATE TABLE tags(question_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY(question_id, tag));\n"
    "CREATE TABLE media(name TEXT PRIMARY KEY, mime TEXT NOT NULL, data BLOB NOT NULL);\n";

/* Every table whose rows are digested, with the order that makes rows canonical.
 * The manifest's own content_digest row is left out (it holds the result), and
 * so is the signature table (it signs the manifest, which holds the digest). */
static const char *const digest_queries[] = {
    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
    "SELECT key, value FROM manifest WHERE key <> 'content_digest' ORDER BY key",
    "SELECT * FROM themes ORDER BY id",
    "SELECT * FROM questions ORDER BY id",
    "SELECT * FROM options ORDER BY question_id, idx",
    "SELECT * FROM blanks ORDER BY question_id, blank, idx",
    "SELECT * FROM tags ORDER BY question_id, tag",
    "SELECT * FROM media ORDER BY name",
};

typedef struct {
    mbedtls_sha256_context ctx;
} hasher;

static void h_update(hasher *h, const void *p, size_t n)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_sha256_update(&h->ctx, p, n);
#else
    mbedtls_sha256_update_ret(&h->ctx, p, n);
#endif
}

static void h_u64(hasher *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (56 - 8 * i));
    h_update(h, b, 8);
}

static void h_field(hasher *h, char tag, const void *p, size_t n)
{
    h_update(h, &tag, 1);
    h_u64(h, n);
    if (n)
        h_update(h, p, n);
}

int qk__bundle_digest(sqlite3 *db, char out[QK__DIGEST_STRLEN + 1], const char **sqlerr)
{
    hasher h;
    int rc = QK_OK;
    mbedtls_sha256_init(&h.ctx);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_sha256_starts(&h.ctx, 0);
#else
    mbedtls_sha256_starts_ret(&h.ctx, 0);
#endif
    h_field(&h, 'V', "quizkit-bundle-v1", 17);
    for (size_t q = 0; q < sizeof digest_queries / sizeof digest_queries[0] && rc == QK_OK; q++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, digest_queries[q], -1, &st, NULL) != SQLITE_OK) {
            *sqlerr = sqlite3_errmsg(db);
            rc = QK_ECORRUPT;
            break;
        }
        h_field(&h, 'Q', digest_queries[q], strlen(digest_queries[q]));
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            int ncol = sqlite3_column_count(st);
            h_update(&h, "R", 1); /* row marker and column count */
            h_u64(&h, (uint64_t)ncol);
            for (int c = 0; c < ncol; c++) {
                switch (sqlite3_column_type(st, c)) {
                case SQLITE_NULL: h_field(&h, 'N', NULL, 0); break;
                case SQLITE_INTEGER: {
                    h_update(&h, "I", 1);
                    h_u64(&h, (uint64_t)sqlite3_column_int64(st, c));
                    break;
                }
                case SQLITE_FLOAT: {
                    /* No float columns in format 1; hash the text form if one appears. */
                    const unsigned char *t = sqlite3_column_text(st, c);
                    h_field(&h, 'F', t, (size_t)sqlite3_column_bytes(st, c));
                    break;
                }
                case SQLITE_TEXT: {
                    const unsigned char *t = sqlite3_column_text(st, c);
                    h_field(&h, 'T', t, (size_t)sqlite3_column_bytes(st, c));
                    break;
                }
                default: {
                    const void *b = sqlite3_column_blob(st, c);
                    h_field(&h, 'B', b, (size_t)sqlite3_column_bytes(st, c));
                }
                }
            }
        }
        if (step != SQLITE_DONE) {
            *sqlerr = sqlite3_errmsg(db);
            rc = step == SQLITE_NOMEM ? QK_ENOMEM : QK_ECORRUPT;
        }
        sqlite3_finalize(st);
    }
    unsigned char sum[32];
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_sha256_finish(&h.ctx, sum);
#else
    mbedtls_sha256_finish_ret(&h.ctx, sum);
#endif
    mbedtls_sha256_free(&h.ctx);
    if (rc == QK_OK) {
        memcpy(out, "sha256:", 7);
        qk__hex_encode(out + 7, 65, sum, 32);
    }
    return rc;
}
