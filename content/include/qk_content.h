/* qk_content.h: authoring tools: read a source folder and build a bundle.
 *
 * Problems are reported through a callback, one at a time, each with the file
 * and line they were found at, and the build goes on to find them all. A build
 * with any error writes nothing (the engine's writer only renames its temporary
 * file into place on commit). */
#ifndef QK_CONTENT_H
#define QK_CONTENT_H

#include "quizkit.h"

typedef enum qk_diag_level { QK_DIAG_ERROR = 0, QK_DIAG_WARNING = 1 } qk_diag_level;

typedef struct qk_diag {
    qk_diag_level level;
    const char *file; /* as given, relative to the source folder's parent */
    int line;         /* 1-based; 0 when unknown */
    int column;       /* 1-based; 0 when unknown */
    const char *message;
} qk_diag;

typedef void (*qk_diag_fn)(const qk_diag *d, void *payload);

typedef struct qk_build_stats {
    size_t n_themes;
    size_t n_questions;
    size_t n_errors;
    size_t n_warnings;
} qk_build_stats;

/* Builds src_dir (holding bundle.json) into out_path.
 * QK_OK: built. QK_EINVAL: content errors (all reported). QK_EIO or others:
 * the folder or the output could not be read or written (also reported). */
int qk_content_build(const char *src_dir, const char *out_path, qk_lang lang, qk_diag_fn fn,
                     void *payload, qk_build_stats *stats);

/* Parses one JSON question file's text (for the builder and the fuzzer):
 * each question found is passed to add; problems go to fn. Returns the number
 * of errors found. */
typedef int (*qk_question_sink)(const qk_question *q, int line, void *payload);
size_t qk_content_parse_questions(const char *file, const char *text, size_t len,
                                  const char *default_theme, qk_lang lang, qk_diag_fn fn,
                                  void *fn_payload, qk_question_sink add, void *add_payload);

#endif
