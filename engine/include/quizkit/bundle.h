/* quizkit/bundle.h: reading and writing content bundles (.qkb).
 *
 * A bundle is a SQLite file opened read-only and immutable. Its manifest names
 * a SHA-256 digest of everything the engine reads (schema, themes, questions,
 * options, blanks, tags, media); qk_bundle_verify() recomputes it and checks
 * that the indexes the engine reads hold exactly their tables' rows, so a
 * changed byte in anything the engine reads fails with QK_EDIGEST (free space
 * in a page may change unseen). The format is in docs/bundle-format.md.
 *
 * The file must not change while it is open (immutable: SQLite neither locks
 * nor re-reads it; a file cut short under a mapping can end the process with
 * SIGBUS): install a new bundle by writing another file and renaming it over
 * the old, as `quizkit bundle install` does, and open it again.
 *
 * Lifecycle: qk_bundle_open -> (info, themes, questions) -> qk_bundle_close.
 * Like sqlite3_open, qk_bundle_open sets *out even when it fails (unless out of
 * memory) so that qk_bundle_errmsg() can say why; close it in every case. */
#ifndef QUIZKIT_BUNDLE_H
#define QUIZKIT_BUNDLE_H

#include "common.h"
#include "key.h"
#include "question.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QK_BUNDLE_FORMAT 1

typedef struct qk_bundle qk_bundle;

typedef struct qk_bundle_info {
    int format;
    const char *id;
    const char *version;
    const char *title;
    const char *language;
    const char *publisher_key_id; /* "" while unsigned */
    const char *content_digest;   /* "sha256:<hex>" */
    const char *created;          /* ISO 8601 UTC */
    int is_signed;
    size_t n_themes;
    size_t n_questions;
    size_t n_media;
    int daily_count; /* questions in the daily quiz; 0: the default */
    size_t n_lessons;
} qk_bundle_info;

typedef struct qk_theme {
    const char *id;
    const char *title;
    const char *description;
    size_t n_questions;
    const char *active; /* themed days: "03-05" or "05-12,08-19" or "03-01..03-10"; "" none */
    int guests;         /* open to guests (residents without an account, e.g. at a kiosk) */
} qk_theme;

/* Flags for qk_bundle_open. */
#define QK_BUNDLE_VERIFY 1u /* recompute the content digest before returning */

int qk_bundle_open(qk_bundle **out, const char *path, unsigned flags, qk_lang lang);
/* The same from the bytes of a bundle file held in memory (a server keeps
 * published bundles in its database): data is copied, so the caller may free
 * it at once; name stands for the file in messages. */
int qk_bundle_open_memory(qk_bundle **out, const void *data, size_t len, const char *name,
                          unsigned flags, qk_lang lang);
const char *qk_bundle_errmsg(const qk_bundle *b);
/* Recomputes the digest of every section (schema, manifest, themes, questions,
 * options and answer keys, fill-in answers, tags, media): QK_OK, or QK_EDIGEST
 * with a message naming the sections that changed, or QK_ECORRUPT. */
int qk_bundle_verify(qk_bundle *b);
/* Checks the signature against trusted public keys: QK_OK, QK_EUNSIGNED,
 * QK_EUNTRUSTED (signed, but by none of these keys) or QK_ESIGNATURE (the
 * manifest does not match its signature). Pair it with qk_bundle_verify():
 * the signature covers the manifest, the manifest covers the content. */
int qk_bundle_check_signature(qk_bundle *b, qk_key *const *trusted, size_t n);
/* Opens a bundle as a device opens one it is about to use: qk_bundle_open
 * with QK_BUNDLE_VERIFY, then qk_bundle_check_signature against trusted, with
 * their results (QK_EUNSIGNED or QK_EUNTRUSTED: verified, but not signed by a
 * trusted key; the bundle is open and a caller may accept it).
 *
 * record (may be NULL) names a file in which the device remembers the bundle
 * files it has verified and found signed by a trusted key: the file's device,
 * inode, size, modification and change times, the hash of its manifest and
 * the key. Opening the same file again skips the digests and the signature
 * and takes the counts (questions, by theme, lessons, media) from the
 * record, so that it costs the same whatever the bundle's size, as long as
 * the file is unchanged and the key still trusted. A write through write(),
 * a modification time put back, a copy, link or rename put in the file's
 * place, or a file changed less than 2 seconds before it was verified (time
 * stamps can be that coarse) is verified in full again; a symbolic link, and
 * a file on a file system without change times of its own (FAT, exFAT, FUSE
 * shares), are never remembered.
 *
 * What the record does not stand against: someone who may write the data
 * folder or the bundle file itself. Writes through a shared memory map can
 * leave the change time as it was, the folder can be swapped while the file
 * is opened, and the record is not signed. Such a person can change the
 * trusted keys and the progress file as well, so keep the record, the
 * bundles and the trusted keys in one folder writable by the app alone, and
 * pass NULL for a file brought in from elsewhere (a USB stick, a download):
 * that is verified in full every time. In a WebAssembly build the record is
 * not used (emscripten's files have no change time of their own): every open
 * verifies in full. */
int qk_bundle_open_trusted(qk_bundle **out, const char *path, qk_key *const *trusted, size_t n,
                           const char *record, qk_lang lang);
/* Key id that signed the bundle, or "" when unsigned; owned by the bundle. */
const char *qk_bundle_signer(const qk_bundle *b);
/* Owned by the bundle, valid until close. */
const qk_bundle_info *qk_bundle_info_get(const qk_bundle *b);
const qk_theme *qk_bundle_theme(const qk_bundle *b, size_t i);
/* Finds a theme by id, or else by exact title; NULL if none. */
const qk_theme *qk_bundle_theme_find(const qk_bundle *b, const char *id_or_title);
/* The theme whose themed day (Beijing date) includes unix_ms, e.g. 学雷锋纪念日
 * on 5 March; NULL when none is active. */
const qk_theme *qk_bundle_theme_today(const qk_bundle *b, int64_t unix_ms);
/* 1 if the themed-day spec ("MM-DD", "MM-DD..MM-DD", comma-separated) is well formed. */
int qk_theme_days_valid(const char *spec);

/* Question ids of a theme (NULL theme: all), in authoring order. The caller frees
 * the array and each id with qk_strv_free(). */
int qk_bundle_question_ids(qk_bundle *b, const char *theme, char ***ids, size_t *n);
/* Loads one question; caller frees with qk_question_free(). QK_ENOTFOUND if absent. */
int qk_bundle_question(qk_bundle *b, const char *id, qk_question **out);

/* Keeps every question drawn from b parsed for as long as b is open, so a
 * session draws it again without reading the bundle (a server's judge, which
 * re-draws thousands of attempts from one bundle). Costs the memory of the
 * questions asked for; devices leave it off. */
void qk_bundle_keep_questions(qk_bundle *b);
/* Loads a medium (image or audio) by the name questions use in ![caption](name).
 * *data (len bytes) and *mime are new copies the caller frees with free().
 * QK_ENOTFOUND if the bundle has no such medium. */
int qk_bundle_media(qk_bundle *b, const char *name, void **data, size_t *len, char **mime);
void qk_bundle_close(qk_bundle *b);

void qk_strv_free(char **v, size_t n);

/* Orders bundle versions: numeric runs compare as numbers ("2026.10" after
 * "2026.9"), other characters as bytes. <0, 0 or >0 like strcmp. */
int qk_bundle_version_cmp(const char *a, const char *b);

/* --- Writing (used by the authoring tools in content/) --- */
typedef struct qk_bundle_writer qk_bundle_writer;

/* Bundle ids are 1-128 of [a-z0-9._-]; versions 1-64 of [A-Za-z0-9._-]
 * (qk_id_valid): both name files, so neither can hold a path. */
#define QK_BUNDLE_ID_MAX 128
#define QK_BUNDLE_VERSION_MAX 64

typedef struct qk_manifest {
    const char *id;       /* [a-z0-9._-]+ */
    const char *version;  /* e.g. "2026.11.1" (QK_BUNDLE_VERSION_MAX) */
    const char *title;
    const char *language; /* e.g. "zh-CN" */
    int daily_count;      /* questions in the daily quiz; 0: the default */
    int64_t created_ms;   /* when it was built; 0: now by the system clock, or
                             SOURCE_DATE_EPOCH when set (reproducible builds) */
} qk_manifest;

/* Starts a bundle that will appear at path only when committed: it is written
 * to a temporary file beside it and renamed into place, so a failed build never
 * leaves a partial file. *out is set even on failure (see errmsg). */
int qk_bundle_writer_open(qk_bundle_writer **out, const char *path, qk_lang lang);
const char *qk_bundle_writer_errmsg(const qk_bundle_writer *w);
int qk_bundle_writer_manifest(qk_bundle_writer *w, const qk_manifest *m);
int qk_bundle_writer_theme(qk_bundle_writer *w, const char *id, const char *title,
                           const char *description);
/* Opens a declared theme to guests (manifest key guest_themes, so readers
 * that do not know it ignore it). */
int qk_bundle_writer_theme_guests(qk_bundle_writer *w, const char *id);
/* Sets the themed days of a declared theme (see qk_theme.active). */
int qk_bundle_writer_theme_days(qk_bundle_writer *w, const char *id, const char *days);
/* QK_EINVAL if the question is inconsistent, QK_EEXISTS for a duplicate id,
 * QK_ENOTFOUND for an undeclared theme. */
int qk_bundle_writer_question(qk_bundle_writer *w, const qk_question *q);
int qk_bundle_writer_media(qk_bundle_writer *w, const char *name, const char *mime,
                           const void *data, size_t len);
/* Signs the bundle with key on commit (the key must stay valid until then). */
int qk_bundle_writer_sign(qk_bundle_writer *w, const qk_key *key);
/* Sets the points rule of an activity by its name ("daily", "challenge",
 * "lesson", "competition", "streak"); QK_EINVAL for an unknown one. */
/* A competition definition (JSON object; see quizkit/competition.h), checked
 * when added; its theme and questions are checked at commit. */
int qk_bundle_writer_competition(qk_bundle_writer *w, const char *spec_json);
int qk_bundle_writer_point_rule(qk_bundle_writer *w, const char *activity, int points,
                                int daily_cap);
/* Computes the digests, writes the manifest, signs it if a key was given, and
 * renames into place. */
int qk_bundle_writer_commit(qk_bundle_writer *w);
/* Frees the writer; removes the temporary file if not committed. NULL is a no-op. */
void qk_bundle_writer_free(qk_bundle_writer *w);

#ifdef __cplusplus
}
#endif

#endif
