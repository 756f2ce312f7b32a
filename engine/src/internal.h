/* internal.h: helpers shared by the engine's files; not part of the public API. */
#ifndef QK_INTERNAL_H
#define QK_INTERNAL_H

#include <mbedtls/sha256.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>

#include "quizkit.h"

/* The engine's message catalogue: format strings in zh-CN and en. */
typedef enum qk__msg_id {
#define MSG(id, zh, en) id,
#include "messages.def"
#undef MSG
    QK__MSG_COUNT
} qk__msg_id;

const char *qk__msg(qk_lang lang, qk__msg_id id);

/* A handle's last error message. */
#define QK__ERRLEN 512
typedef struct qk__err {
    char msg[QK__ERRLEN];
} qk__err;

/* Formats catalogue message id into err and returns code. */
int qk__errf(qk__err *err, qk_lang lang, int code, qk__msg_id id, ...);
/* 1 when text is one JSON value and nothing else, by RFC 8259's syntax, at
 * most 64 arrays and objects deep (json_check.c): text from outside passes
 * this before it reaches SQLite's JSON functions. */
int qk__json_valid(const char *text);
void qk__err_clear(qk__err *err);

char *qk__strdup(const char *s);
char *qk__strndup(const char *s, size_t n);

/* A growable byte buffer; used to build JSON payloads and digests. */
typedef struct qk__buf {
    char *p;
    size_t len, cap;
    int oom;
} qk__buf;
void qk__buf_add(qk__buf *b, const void *data, size_t n);
void qk__buf_str(qk__buf *b, const char *s);
void qk__buf_fmt(qk__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal with quotes and escapes. */
void qk__buf_json_str(qk__buf *b, const char *s);
/* Takes the contents as a NUL-terminated string (NULL on OOM); resets b. */
char *qk__buf_take(qk__buf *b);
void qk__buf_free(qk__buf *b);

/* The engine handle. */
struct qk_engine {
    sqlite3 *db;
    qk_lang lang;
    qk__err err;
    char device_id[QK_UUID_STRLEN + 1];
    qk_clock own_clock; /* the host's clock (qk_engine_use_clock); system by default */
    int64_t (*clock)(void *payload);
    void *clock_payload;
    int64_t (*mono)(void *payload); /* NULL: CLOCK_MONOTONIC */
    void *mono_payload;
    qk_rng *rng; /* OS-seeded: ids and salts */
    qk_uuid_gen uuids;
};

/* One event to append. Strings may be NULL (stored as NULL). */
typedef struct qk__event {
    const char *member_id;
    const char *bundle_id;
    const char *bundle_version;
    const char *kind;
    const char *attempt_id;
    const char *payload; /* JSON object text */
    int64_t at_ms;       /* created_ms; 0: now by the engine's clock */
} qk__event;

/* Appends an event durably inside its own transaction and writes its id to
 * id_out (may be NULL). */
int qk__event_append(qk_engine *e, const qk__event *ev, char id_out[QK_UUID_STRLEN + 1]);
/* A change that must land whole (a roster row and the event that tells the
 * server about it): begin, write rows and qk__event_append_tx, then end,
 * which commits when status is QK_OK and rolls back otherwise, and returns
 * the final status. */
int qk__engine_begin(qk_engine *e);
int qk__event_append_tx(qk_engine *e, const qk__event *ev, char id_out[QK_UUID_STRLEN + 1]);
int qk__engine_end(qk_engine *e, int status);
/* Makes a new v7 UUID at the engine's clock. */
int qk__engine_uuid(qk_engine *e, char out[QK_UUID_STRLEN + 1]);
/* Maps a SQLite failure on the engine's database to a status with message. */
int qk__engine_sqlerr(qk_engine *e, int rc, const char *what);

/* The bundle's read-only database, for engine modules that read their own tables. */
/* SHA-256 in parts (sha256.c, the one place that knows mbedTLS's two
 * spellings and the CPU's SHA instructions): embed a qk_sha256, init,
 * qk_sha256_add, then final (which frees nothing: the state is the
 * caller's). qk_sha256_begin/end allocate one around it.
 *
 * qk__sha256_init hashes with mbedTLS, for the short inputs of most callers.
 * Long ones (a bundle's sections, a request's body) ask qk__sha256_cpu once,
 * whether the CPU has SHA instructions (which costs microseconds in a
 * virtual machine), and give the answer to each qk__sha256_init_bulk: with
 * 1 the hasher runs whole blocks through the CPU, about five times mbedTLS's
 * speed. The digest is the same either way. qk_sha256_begin is bulk. */
struct qk_sha256 {
    mbedtls_sha256_context ctx;
    int cpu;           /* 1: state, total and part below; 0: ctx */
    uint32_t state[8]; /* the eight words after total bytes */
    uint64_t total;
    size_t part_len; /* bytes waiting for a whole block */
    unsigned char part[64];
};
void qk__sha256_init(qk_sha256 *h);
int qk__sha256_cpu(void);
void qk__sha256_init_bulk(qk_sha256 *h, int cpu);
void qk__sha256_final(qk_sha256 *h, unsigned char out[32]);
/* SHA-256 of n bytes at once (mbedTLS). */
void qk__sha256(const void *p, size_t n, unsigned char out[32]);
sqlite3 *qk__bundle_db(qk_bundle *b);
/* When b keeps its questions (qk_bundle_keep_questions): question id, owned
 * by b, in *out, and 1; 0 when b does not keep them (*out untouched). A
 * failure is returned as a negative QK_E* status with b's message set. */
int qk__bundle_question_kept(qk_bundle *b, const char *id, qk_question **out);
/* The quiz questions of theme (NULL: all) in the bundle's order, borrowed:
 * kept by b until qk_bundle_close. */
int qk__bundle_theme_ids(qk_bundle *b, const char *theme, const char *const **ids, size_t *n);
/* How many quiz questions theme (NULL: all) has, without reading them. */
size_t qk__bundle_theme_count(qk_bundle *b, const char *theme);
/* The ids at positions pos[0..k) of that list, copied into out (which the
 * caller frees, also on failure); positions must be distinct. */
int qk__bundle_theme_at(qk_bundle *b, const char *theme, const size_t *pos, size_t k, char **out);
/* 1 when theme's quiz questions have consecutive sorts from *first (a draw
 * looks each position up by its sort), 0 when a draw steps through the
 * index; for tests. */
int qk__bundle_theme_run(const qk_bundle *b, const char *theme, int64_t *first);
typedef struct qk_competition qk_competition;
/* A competition a server published for bundle_id, from any database with
 * the competitions(id, bundle_id, spec) table (progress file or server store). */
int qk__competition_published(sqlite3 *db, const char *bundle_id, const char *id,
                              qk_competition **out);

/* qk_points_award for an activity that belongs to a given Beijing day (an
 * attempt's: the day it began), whatever the time now. */
/* The streak bonus of on_day, if due (one rule for every mode: see points.c). */
int qk__points_streak_on(qk_engine *e, qk_bundle *b, const char *member_id, int64_t on_day);
int qk__points_award_on(qk_engine *e, qk_bundle *b, const char *member_id, qk_activity a,
                        int units, const char *ref, int64_t on_day, int *awarded);

/* mbedTLS-style random callback over a qk_rng. */
int qk__rng_fn(void *rng, unsigned char *out, size_t n);
/* The key's mbedtls_pk_context. */
void *qk__key_pk(const qk_key *k);

int qk__hex_encode(char *out, size_t outlen, const unsigned char *in, size_t n);

#endif
