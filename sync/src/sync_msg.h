/* sync_msg.h: the sync module's message catalogue (internal). */
#ifndef QK_SYNC_MSG_H
#define QK_SYNC_MSG_H

#include <stdio.h>

#include "quizkit/common.h"

typedef enum {
#define MSG(id, zh, en) id,
#include "messages.def"
#undef MSG
    QK_Y_COUNT
} qk__ymsg;

/* Formats catalogue message id into buf. */
void qk__ymsgf(qk_lang lang, char *buf, size_t n, qk__ymsg id, ...);

/* Lowercase hex of n bytes into out (2n+1); and back (returns bytes or -1). */
void qk__hex(char *out, const unsigned char *in, size_t n);
long qk__unhex(unsigned char *out, size_t cap, const char *hex);

/* Reads a whole file, gunzipping it when it is gzip (zlib). Caller frees. */
char *qk__read_maybe_gz(const char *path, size_t *len, int *err);

#endif
