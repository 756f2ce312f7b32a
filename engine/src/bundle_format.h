/* bundle_format.h: the bundle schema (format 1), its per-section digests and
 * the signed manifest, shared by the reader and the writer so that the two can
 * never disagree. See docs/bundle-format.md. */
#ifndef QK_BUNDLE_FORMAT_H
#define QK_BUNDLE_FORMAT_H

#include "internal.h"

/* The schema, executed by the writer; its text is part of the digest. */
extern const char qk__bundle_schema[];

/* "sha256:" + 64 hex + NUL */
#define QK__DIGEST_STRLEN (7 + 64)

/* Sections of the content, each with its own digest in the manifest
 * (digest.<name>), so that a failed verification can say what changed. */
typedef enum qk__section {
    QK__SEC_SCHEMA,
    QK__SEC_MANIFEST,
    QK__SEC_THEMES,
    QK__SEC_QUESTIONS,
    QK__SEC_OPTIONS,
    QK__SEC_BLANKS,
    QK__SEC_TAGS,
    QK__SEC_MEDIA,
    QK__SEC_RULES,
    QK__SEC_LESSONS,
    QK__SEC_STEPS,
    QK__SEC_CHOICES,
    QK__SEC_COMPETITIONS,
    QK__SEC_COUNT
} qk__section;

extern const char *const qk__section_names[QK__SEC_COUNT];
/* Catalogue message naming each section for people. */
extern const qk__msg_id qk__section_msgs[QK__SEC_COUNT];

typedef struct qk__digests {
    char section[QK__SEC_COUNT][QK__DIGEST_STRLEN + 1];
    char total[QK__DIGEST_STRLEN + 1]; /* content_digest: over the section digests */
} qk__digests;

/* Computes every section digest and the total of an open bundle database.
 * QK_OK, QK_ENOMEM, or QK_ECORRUPT with *sqlerr set. */
int qk__bundle_digests(sqlite3 *db, qk__digests *out, const char **sqlerr);

/* SHA-256 of the canonical manifest (every manifest row, ordered by key),
 * which is what a signature signs. */
int qk__manifest_hash(sqlite3 *db, unsigned char out[32], const char **sqlerr);

#define QK__SIG_ALG "ecdsa-p256-sha256"

/* One line of a device's verified record (qk_bundle_open_trusted): a bundle
 * file verified in full and signed by a trusted key, and what opening it
 * again needs without reading the whole bundle. The line is
 *   qkv2 DEV INO SIZE MTIME_S MTIME_NS CTIME_S CTIME_NS MANIFEST KEY_ID KEY_SUM
 *        N_QUESTIONS N_LESSONS N_MEDIA N_CHECKPOINTS N_THEMES (COUNT FIRST)...
 * in decimal, MANIFEST and KEY_SUM in hex (the manifest's signed hash, and
 * SHA-256 of the signing key's public PEM), a COUNT and a FIRST a theme in
 * theme order: its quiz questions, and the sort of its first when their
 * sorts are consecutive integers ("-" when not; bundle.c's theme_walk). A
 * qkv1 line (the counts alone) is not read: its bundle is verified again and
 * noted as qkv2. */
#define QK__VERIFIED_MAX_THEMES 4096
typedef struct qk__verified {
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
    char manifest[65];
    char key_id[QK_KEY_ID_LEN + 1];
    char key_sum[65];
    uint64_t n_questions, n_lessons, n_media, n_checkpoints;
    size_t n_themes;
    struct qk__verified_theme {
        uint64_t count;
        int run; /* 0: FIRST is "-" */
        int64_t first;
    } *themes; /* n_themes, owned (qk__verified_clear) */
} qk__verified;

/* Parses one line (without its newline): QK_OK, QK_ENOMEM, or QK_ECORRUPT
 * for anything that is not a whole, well-formed line. */
int qk__verified_parse(const char *line, size_t len, qk__verified *out);
/* Appends e as a line, newline included. */
void qk__verified_format(qk__buf *out, const qk__verified *e);
void qk__verified_clear(qk__verified *e);

#endif
