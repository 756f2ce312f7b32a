/* sync_msg.h: the sync module's message catalogue (internal). */
#ifndef QK_SYNC_MSG_H
#define QK_SYNC_MSG_H

#include <stdarg.h>
#include <stdio.h>

#include "quizkit/common.h"
#include <stdint.h>

typedef enum {
#define MSG(id, zh, en) id,
#include "messages.def"
#undef MSG
    QK_Y_COUNT
} qk__ymsg;

/* Formats catalogue message id into buf. */
void qk__ymsgf(qk_lang lang, char *buf, size_t n, qk__ymsg id, ...);
void qk__ymsgv(qk_lang lang, char *buf, size_t n, qk__ymsg id, va_list ap);

/* Lowercase hex of n bytes into out (2n+1); and back (returns bytes or -1). */
void qk__hex(char *out, const unsigned char *in, size_t n);
long qk__unhex(unsigned char *out, size_t cap, const char *hex);

/* Reads a whole file, gunzipping it when it is gzip (zlib). Caller frees. */
char *qk__read_maybe_gz(const char *path, size_t *len, int *err);
/* gzip of a buffer in memory (what the client sends); NULL on failure. */
char *qk__gzip(const char *in, size_t n, size_t *out_len);

/* The SHA-256 an acknowledgement's signature covers. */
void qk__ack_digest(unsigned char out[32], const char *device_id, int64_t acked);
/* An enrolment code as typed ("k7qf-9mzp", "K7QF 9MZP") made canonical
 * ("K7QF9MZP"); 0 unless it has 8 characters. */
int qk__code_norm(const char *code, char out[9]);
/* The SHA-256 a device signs with its own key to enrol: proof that it holds
 * the key of the device id it names (DESIGN.md decision 13). */
void qk__enrol_digest(unsigned char out[32], const char *code, const char *device_id,
                      const char *pem);

/* The device's events after seq `after`, in order, at most max_events and
 * about max_bytes of JSON (0: no bound). *last gets the last seq taken. */
typedef struct qk_engine qk_engine;
typedef struct json_t json_t;
int qk__collect_events(qk_engine *e, int64_t after, size_t max_events, size_t max_bytes,
                       json_t **events, int64_t *last);

#endif
