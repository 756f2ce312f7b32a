/* bundle_format.h: the bundle schema (format 1) and its digest, shared by the
 * reader and the writer so that the two can never disagree. */
#ifndef QK_BUNDLE_FORMAT_H
#define QK_BUNDLE_FORMAT_H

#include "internal.h"

/* The schema, executed by the writer; its text is part of the digest. */
extern const char qk__bundle_schema[];

/* "sha256:" + 64 hex + NUL */
#define QK__DIGEST_STRLEN (7 + 64)

/* Computes the canonical content digest of an open bundle database (see
 * docs/bundle-format.md). Returns QK_OK or a SQLite result code mapped to
 * QK_ECORRUPT/QK_ENOMEM; *sqlerr gets the SQLite message on failure. */
int qk__bundle_digest(sqlite3 *db, char out[QK__DIGEST_STRLEN + 1], const char **sqlerr);

#endif
