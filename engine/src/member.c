/* member.c: the local roster, PIN hashing (PBKDF2-HMAC-SHA256) and lockout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include "internal.h"

#define SALT_LEN 16
#define HASH_LEN 32
/* Their lengths in hex, as the stored "pbkdf2-sha256$iter$salt$hash" text holds them. */
enum { SALT_HEX_LEN = 2 * SALT_LEN, HASH_HEX_LEN = 2 * HASH_LEN };

int qk_pin_valid(const char *pin)
{
    size_t n = pin ? strlen(pin) : 0;
    if (n < QK_PIN_MIN || n > QK_PIN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (pin[i] < '0' || pin[i] > '9')
            return 0;
    }
    return 1;
}

#define MEMBER_ID_MAX 32

static int member_id_valid(const char *id)
{
    return qk_id_valid(id, MEMBER_ID_MAX);
}

/* Member ids compare without regard to case everywhere (member.h): the id as
 * it was added, in out, for the id in whatever case it was typed.
 * QK_ENOTFOUND when there is no such member. */
static int stored_member_id(qk_engine *e, const char *id, char out[MEMBER_ID_MAX + 1])
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db, "SELECT id FROM members WHERE id = ? COLLATE NOCASE", -1, &st,
                           NULL) != SQLITE_OK)
        return QK_ENOTFOUND;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        snprintf(out, MEMBER_ID_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return found ? QK_OK : QK_ENOTFOUND;
}

static int pin_hash(const char *pin, const unsigned char *salt, int iter, unsigned char out[HASH_LEN])
{
    int rc;
#if MBEDTLS_VERSION_NUMBER >= 0x03030000
    rc = mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, (const unsigned char *)pin, strlen(pin),
                                       salt, SALT_LEN, (unsigned)iter, HASH_LEN, out);
#else
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)pin, strlen(pin), salt, SALT_LEN,
                                       (unsigned)iter, HASH_LEN, out);
    mbedtls_md_free(&md);
#endif
    return rc == 0 ? QK_OK : QK_EIO;
}

/* A fresh random salt and the PIN's hash under it. */
static int new_pin_hash(qk_engine *e, const char *pin, unsigned char salt[SALT_LEN],
                        unsigned char hash[HASH_LEN])
{
    int status = qk_rng_bytes(e->rng, salt, SALT_LEN);
    if (status == QK_OK)
        status = pin_hash(pin, salt, QK_PBKDF2_ITERATIONS, hash);
    return status == QK_OK ? QK_OK : qk__errf(&e->err, e->lang, status, QK_M_OOM);
}

/* Constant-time comparison: a PIN check must not leak how many bytes matched. */
static int same(const unsigned char *a, const unsigned char *b, size_t n)
{
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

static int sqlerr(qk_engine *e, const char *what)
{
    return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), what);
}

/* The pin event carries the salt and hash (never the PIN) so the roster can sync. */
static char *pin_payload(const char *name, const char *branch, const unsigned char *salt,
                         const unsigned char *hash, int iter)
{
    char hs[SALT_HEX_LEN + 1], hh[HASH_HEX_LEN + 1];
    qk__hex_encode(hs, sizeof hs, salt, SALT_LEN);
    qk__hex_encode(hh, sizeof hh, hash, HASH_LEN);
    qk__buf b = {0};
    qk__buf_str(&b, "{");
    if (name) {
        qk__buf_str(&b, "\"name\":");
        qk__buf_json_str(&b, name);
        qk__buf_str(&b, ",\"branch\":");
        qk__buf_json_str(&b, branch ? branch : "");
        qk__buf_str(&b, ",");
    }
    qk__buf_fmt(&b, "\"pin_salt\":\"%s\",\"pin_hash\":\"%s\",\"pin_iter\":%d}", hs, hh, iter);
    return qk__buf_take(&b);
}

static int add_row(qk_engine *e, const char *id, const char *name, const char *branch,
                   const unsigned char *salt, const unsigned char *hash);
static int pin_row(qk_engine *e, const char *id, const unsigned char *salt,
                   const unsigned char *hash);

int qk_member_add(qk_engine *e, const char *id, const char *name, const char *branch,
                  const char *pin)
{
    if (!member_id_valid(id))
        return qk__errf(&e->err, e->lang, QK_EINVAL, QK_M_M_ID, id ? id : "");
    size_t nlen = name ? strlen(name) : 0;
    if (nlen == 0 || !qk_text_valid(name, nlen) || qk_text_width(name, nlen) > 128 ||
        (branch && !qk_text_valid(branch, strlen(branch))))
        return qk__errf(&e->err, e->lang, QK_EINVAL, QK_M_M_NAME);
    if (!qk_pin_valid(pin))
        return qk__errf(&e->err, e->lang, QK_EINVAL, QK_M_M_PIN, QK_PIN_MIN, QK_PIN_MAX);
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    int status = new_pin_hash(e, pin, salt, hash);
    if (status != QK_OK)
        return status;
    char *payload = pin_payload(name, branch, salt, hash, QK_PBKDF2_ITERATIONS);
    if (!payload)
        return qk__errf(&e->err, e->lang, QK_ENOMEM, QK_M_OOM);
    /* The roster row and the event that tells the server about it land
     * together or not at all. */
    if ((status = qk__engine_begin(e)) != QK_OK) {
        free(payload);
        return status;
    }
    status = add_row(e, id, name, branch, salt, hash);
    if (status == QK_OK) {
        qk__event ev = {.member_id = id, .kind = "member.added", .payload = payload};
        status = qk__event_append_tx(e, &ev, NULL);
    }
    free(payload);
    return qk__engine_end(e, status);
}

/* The id is new when no member has it in any case: "A12" and "a12" are one
 * member (see member.h), so the second is refused like an exact repeat. */
static int add_row(qk_engine *e, const char *id, const char *name, const char *branch,
                   const unsigned char *salt, const unsigned char *hash)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "INSERT INTO members(id, name, branch, pin_salt, pin_hash, pin_iter,"
                           " created_ms) SELECT ?1,?2,?3,?4,?5,?6,?7 WHERE NOT EXISTS"
                           " (SELECT 1 FROM members WHERE id = ?1 COLLATE NOCASE)",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlerr(e, "members");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, branch ? branch : "", -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, salt, SALT_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, hash, HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, QK_PBKDF2_ITERATIONS);
    sqlite3_bind_int64(st, 7, qk_engine_now_ms(e));
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if ((step & 0xff) == SQLITE_CONSTRAINT || (step == SQLITE_DONE && sqlite3_changes(e->db) == 0)) {
        char stored[MEMBER_ID_MAX + 1]; /* named as it was added: A12 for a12 */
        return qk__errf(&e->err, e->lang, QK_EEXISTS, QK_M_M_EXISTS,
                        stored_member_id(e, id, stored) == QK_OK ? stored : id);
    }
    if (step != SQLITE_DONE)
        return qk__engine_sqlerr(e, step, "members");
    return QK_OK;
}

int qk_member_set_pin(qk_engine *e, const char *id, const char *pin)
{
    if (!qk_pin_valid(pin))
        return qk__errf(&e->err, e->lang, QK_EINVAL, QK_M_M_PIN, QK_PIN_MIN, QK_PIN_MAX);
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    int status = new_pin_hash(e, pin, salt, hash);
    if (status != QK_OK)
        return status;
    char *payload = pin_payload(NULL, NULL, salt, hash, QK_PBKDF2_ITERATIONS);
    if (!payload)
        return qk__errf(&e->err, e->lang, QK_ENOMEM, QK_M_OOM);
    /* the event names the member as added, whatever case the id was typed in */
    char stored_id[MEMBER_ID_MAX + 1];
    if (stored_member_id(e, id, stored_id) == QK_OK)
        id = stored_id;
    /* the new PIN and its event together (the server updates its roster from it) */
    if ((status = qk__engine_begin(e)) != QK_OK) {
        free(payload);
        return status;
    }
    status = pin_row(e, id, salt, hash);
    if (status == QK_OK) {
        qk__event ev = {.member_id = id, .kind = "member.pin_changed", .payload = payload};
        status = qk__event_append_tx(e, &ev, NULL);
    }
    free(payload);
    return qk__engine_end(e, status);
}

static int pin_row(qk_engine *e, const char *id, const unsigned char *salt,
                   const unsigned char *hash)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "UPDATE members SET pin_salt = ?, pin_hash = ?, pin_iter = ?, failed = 0,"
                           " locked_until_ms = 0 WHERE id = ? COLLATE NOCASE",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlerr(e, "members");
    sqlite3_bind_blob(st, 1, salt, SALT_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, QK_PBKDF2_ITERATIONS);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return qk__engine_sqlerr(e, step, "members");
    if (sqlite3_changes(e->db) == 0)
        return qk__errf(&e->err, e->lang, QK_ENOTFOUND, QK_M_M_NOTFOUND, id);
    return QK_OK;
}

static int set_failures(qk_engine *e, const char *id, int failed, int64_t locked_until)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db, "UPDATE members SET failed = ?, locked_until_ms = ? WHERE id = ? COLLATE NOCASE",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlerr(e, "members");
    sqlite3_bind_int(st, 1, failed);
    sqlite3_bind_int64(st, 2, locked_until);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : qk__engine_sqlerr(e, step, "members");
}

static int locked_msg(qk_engine *e, const char *id, int64_t left_ms)
{
    int64_t s = (left_ms + 999) / 1000;
    return qk__errf(&e->err, e->lang, QK_ELOCKED, QK_M_M_LOCKED, id, (int)(s / 60), (int)(s % 60));
}

int qk_member_login(qk_engine *e, const char *id, const char *pin, int64_t *remaining)
{
    int64_t dummy;
    if (!remaining)
        remaining = &dummy;
    *remaining = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT pin_salt, pin_hash, pin_iter, failed, locked_until_ms, id"
                           " FROM members WHERE id = ? COLLATE NOCASE",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlerr(e, "members");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (step == SQLITE_DONE)
            return qk__errf(&e->err, e->lang, QK_ENOTFOUND, QK_M_M_NOTFOUND, id);
        return qk__engine_sqlerr(e, step, "members");
    }
    unsigned char salt[SALT_LEN], stored[HASH_LEN], hash[HASH_LEN];
    int ok_shape = sqlite3_column_bytes(st, 0) == SALT_LEN && sqlite3_column_bytes(st, 1) == HASH_LEN;
    if (ok_shape) {
        memcpy(salt, sqlite3_column_blob(st, 0), SALT_LEN);
        memcpy(stored, sqlite3_column_blob(st, 1), HASH_LEN);
    }
    int iter = sqlite3_column_int(st, 2);
    int failed = sqlite3_column_int(st, 3);
    int64_t locked_until = sqlite3_column_int64(st, 4);
    /* the member's id as it was added: what the lockout's event names */
    char stored_id[MEMBER_ID_MAX + 1];
    snprintf(stored_id, sizeof stored_id, "%s", (const char *)sqlite3_column_text(st, 5));
    id = stored_id;
    sqlite3_finalize(st);
    if (!ok_shape || iter < 1)
        return qk__errf(&e->err, e->lang, QK_ECORRUPT, QK_M_P_NOTDB, "members");

    int64_t now = qk_engine_now_ms(e);
    if (locked_until > now) {
        *remaining = locked_until - now;
        return locked_msg(e, id, *remaining);
    }
    if (locked_until != 0) /* the lock has run out: a fresh set of tries */
        failed = 0;
    int status = QK_OK;
    if (qk_pin_valid(pin) && pin_hash(pin, salt, iter, hash) == QK_OK && same(hash, stored, HASH_LEN))
        return failed || locked_until ? set_failures(e, id, 0, 0) : QK_OK;

    failed++;
    if (failed >= QK_MEMBER_MAX_FAILS) {
        /* the lock and its event together */
        if ((status = qk__engine_begin(e)) != QK_OK)
            return status;
        status = set_failures(e, id, failed, now + QK_MEMBER_LOCK_MS);
        if (status == QK_OK) {
            qk__event ev = {.member_id = id, .kind = "member.locked", .payload = "{}"};
            status = qk__event_append_tx(e, &ev, NULL);
        }
        if ((status = qk__engine_end(e, status)) != QK_OK)
            return status;
        *remaining = QK_MEMBER_LOCK_MS;
        return locked_msg(e, id, QK_MEMBER_LOCK_MS);
    }
    status = set_failures(e, id, failed, 0);
    if (status != QK_OK)
        return status;
    *remaining = QK_MEMBER_MAX_FAILS - failed;
    return qk__errf(&e->err, e->lang, QK_EAUTH, QK_M_M_WRONG, QK_MEMBER_MAX_FAILS - failed);
}

static qk_member *row_member(sqlite3_stmt *st)
{
    qk_member *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->id = qk__strdup((const char *)sqlite3_column_text(st, 0));
    m->name = qk__strdup((const char *)sqlite3_column_text(st, 1));
    m->branch = qk__strdup((const char *)sqlite3_column_text(st, 2));
    m->created_ms = sqlite3_column_int64(st, 3);
    m->failed = sqlite3_column_int(st, 4);
    m->locked_until_ms = sqlite3_column_int64(st, 5);
    if (!m->id || !m->name || !m->branch) {
        qk_member_free(m);
        return NULL;
    }
    return m;
}

#define MEMBER_COLS "id, name, branch, created_ms, failed, locked_until_ms"

int qk_member_keep_only(qk_engine *e, const char *id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db, "DELETE FROM members WHERE id <> ? COLLATE NOCASE", -1, &st, NULL) !=
        SQLITE_OK)
        return sqlerr(e, "members");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : qk__engine_sqlerr(e, step, "members");
}

int qk_member_get(qk_engine *e, const char *id, qk_member **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db, "SELECT " MEMBER_COLS " FROM members WHERE id = ? COLLATE NOCASE", -1, &st,
                           NULL) != SQLITE_OK)
        return sqlerr(e, "members");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int status = QK_OK;
    if (step == SQLITE_ROW) {
        *out = row_member(st);
        if (!*out)
            status = QK_ENOMEM;
    } else if (step == SQLITE_DONE) {
        status = qk__errf(&e->err, e->lang, QK_ENOTFOUND, QK_M_M_NOTFOUND, id);
    } else {
        status = qk__engine_sqlerr(e, step, "members");
    }
    sqlite3_finalize(st);
    return status;
}

int qk_member_list(qk_engine *e, qk_member ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db, "SELECT " MEMBER_COLS " FROM members ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK)
        return sqlerr(e, "members");
    qk_member **v = NULL;
    size_t len = 0;
    int status = QK_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        qk_member **nv = realloc(v, (len + 1) * sizeof *nv);
        if (!nv || !(nv[len] = row_member(st))) {
            if (nv)
                v = nv;
            status = QK_ENOMEM;
            break;
        }
        v = nv;
        len++;
    }
    if (status == QK_OK && step != SQLITE_DONE)
        status = qk__engine_sqlerr(e, step, "members");
    sqlite3_finalize(st);
    if (status != QK_OK) {
        qk_member_list_free(v, len);
        return status;
    }
    *out = v;
    *n = len;
    return QK_OK;
}

void qk_member_free(qk_member *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->name);
    free(m->branch);
    free(m);
}

void qk_member_list_free(qk_member **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        qk_member_free(v[i]);
    free(v);
}

/* --- hashes that travel: the roster and the server's own accounts --- */

static int random_salt(unsigned char salt[SALT_LEN])
{
    qk_rng *rng = NULL;
    int rc = qk_rng_new_random(&rng);
    if (rc == QK_OK)
        rc = qk_rng_bytes(rng, salt, SALT_LEN);
    qk_rng_free(rng);
    return rc;
}

int qk_pin_hash_new(const char *pin, char salt_hex[33], char hash_hex[65], int *iter)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    int rc = random_salt(salt);
    if (rc == QK_OK)
        rc = pin_hash(pin, salt, QK_PBKDF2_ITERATIONS, hash);
    if (rc != QK_OK)
        return rc;
    qk__hex_encode(salt_hex, 33, salt, SALT_LEN);
    qk__hex_encode(hash_hex, 65, hash, HASH_LEN);
    *iter = QK_PBKDF2_ITERATIONS;
    return QK_OK;
}

static int unhex(unsigned char *out, size_t n, const char *hex)
{
    if (!hex || strlen(hex) != 2 * n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16u;
            if (d > 15)
                return 0;
            v = v * 16 + d;
        }
        out[i] = (unsigned char)v;
    }
    return 1;
}

int qk_secret_hash(const char *secret, char *out, size_t outlen)
{
    char salt[33], hash[65];
    int iter = 0;
    int rc = qk_pin_hash_new(secret, salt, hash, &iter);
    if (rc != QK_OK)
        return rc;
    int n = snprintf(out, outlen, "pbkdf2-sha256$%d$%s$%s", iter, salt, hash);
    return n > 0 && (size_t)n < outlen ? QK_OK : QK_ELIMIT;
}

int qk_secret_verify(const char *secret, const char *stored)
{
    static const char prefix[] = "pbkdf2-sha256$";
    unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    if (!secret || !stored || strncmp(stored, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *p = stored + sizeof prefix - 1;
    long iter = 0;
    while (*p >= '0' && *p <= '9' && iter <= 10000000)
        iter = iter * 10 + (*p++ - '0');
    if (*p != '$' || iter < 1 || iter > 10000000 ||
        strlen(p + 1) != SALT_HEX_LEN + 1 + HASH_HEX_LEN || p[1 + SALT_HEX_LEN] != '$')
        return 0;
    char salt_hex[SALT_HEX_LEN + 1];
    memcpy(salt_hex, p + 1, SALT_HEX_LEN);
    salt_hex[SALT_HEX_LEN] = '\0';
    if (!unhex(salt, SALT_LEN, salt_hex) || !unhex(want, HASH_LEN, p + 2 + SALT_HEX_LEN))
        return 0;
    return pin_hash(secret, salt, (int)iter, got) == QK_OK && same(got, want, HASH_LEN);
}

int qk_pin_check(const char *pin, const char *salt_hex, const char *hash_hex, int iter)
{
    unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    return qk_pin_valid(pin) && iter >= 1 && iter <= 10000000 && unhex(salt, SALT_LEN, salt_hex) &&
           unhex(want, HASH_LEN, hash_hex) && pin_hash(pin, salt, iter, got) == QK_OK &&
           same(got, want, HASH_LEN);
}

int qk_member_apply(qk_engine *e, const char *id, const char *name, const char *branch,
                    const char *dept, const char *salt_hex, const char *hash_hex, int iter)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    if (!member_id_valid(id))
        return qk__errf(&e->err, e->lang, QK_EINVAL, QK_M_M_ID, id ? id : "");
    if (!name || !*name || !qk_text_valid(name, strlen(name)) || iter < 1 ||
        !unhex(salt, SALT_LEN, salt_hex) || !unhex(hash, HASH_LEN, hash_hex))
        return qk__errf(&e->err, e->lang, QK_EINVAL, QK_M_M_NAME);
    /* a member held here under another case of the id is the same member */
    char stored_id[MEMBER_ID_MAX + 1];
    if (stored_member_id(e, id, stored_id) == QK_OK)
        id = stored_id;
    sqlite3_stmt *st = NULL;
    /* A changed PIN clears the lockout, as a PIN set here would. */
    if (sqlite3_prepare_v2(e->db,
                           "INSERT INTO members(id, name, branch, pin_salt, pin_hash, pin_iter,"
                           " created_ms, dept) VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(id) DO UPDATE"
                           " SET name = ?2, branch = ?3, dept = ?8, failed = CASE WHEN pin_hash = ?5 THEN failed"
                           " ELSE 0 END, locked_until_ms = CASE WHEN pin_hash = ?5 THEN"
                           " locked_until_ms ELSE 0 END, pin_salt = ?4, pin_hash = ?5, pin_iter = ?6",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlerr(e, "members");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, branch ? branch : "", -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, salt, SALT_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, hash, HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, iter);
    sqlite3_bind_int64(st, 7, qk_engine_now_ms(e));
    sqlite3_bind_text(st, 8, dept ? dept : "", -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : qk__engine_sqlerr(e, step, "members");
}
