/* request.h: parsing untrusted request bodies (internal; fuzzed). */
#ifndef QK_REQUEST_H
#define QK_REQUEST_H

#include <stddef.h>

#include <jansson.h>

#include "quizkit/common.h"

#define QK_BATCH_MAX_EVENTS 1000
#define QK_BATCH_MAX_BYTES ((size_t)1024 * 1024)

/* Inflates a gzip body, refusing more than max bytes out: QK_OK,
 * QK_ECORRUPT (damaged, truncated or trailing bytes), QK_ELIMIT, QK_ENOMEM. */
int qk__gunzip(const char *in, size_t n, size_t max, char **out, size_t *outlen);
/* A JSON object, or NULL with why ("...: message (line N)"). */
json_t *qk__parse_json(const char *body, size_t len, qk_lang lang, char *why, size_t whylen);
/* The events array of an upload, every event checked and from device; NULL
 * with why (and *forbidden when an event is another device's). */
json_t *qk__parse_upload(const char *body, size_t len, const char *device, qk_lang lang, char *why,
                         size_t whylen, int *forbidden);

#endif
