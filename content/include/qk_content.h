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
    size_t n_lessons;
    size_t n_errors;
    size_t n_warnings;
} qk_build_stats;

typedef enum qk_source_format {
    QK_SRC_UNKNOWN = 0,
    QK_SRC_JSON,  /* .json: the native format (docs/source.schema.json) */
    QK_SRC_CSV,   /* .csv: a spreadsheet saved as CSV, UTF-8 or GBK */
    QK_SRC_GIFT,  /* .gift: Moodle's GIFT */
    QK_SRC_AIKEN, /* .txt: Aiken */
    QK_SRC_LESSON, /* .md: an interactive lesson in Markdown */
    QK_SRC_XLSX    /* .xlsx: a WPS/Excel workbook, one sheet laid out as the CSV */
} qk_source_format;

/* The format a file name implies; QK_SRC_UNKNOWN if none. */
qk_source_format qk_source_format_of(const char *path);

#define QK_BUILD_OPTS_VERSION 1
typedef struct qk_build_opts {
    int version;       /* QK_BUILD_OPTS_VERSION */
    qk_lang lang;
    const qk_key *key; /* sign with this key; NULL: unsigned */
    int check_only;    /* report problems, write nothing */
    qk_diag_fn fn;     /* receives every problem; may be NULL */
    void *payload;
    const qk_clock *clock; /* the bundle's build time; NULL: the system clock */
    int skip_duplicates;   /* a copy of an earlier question (same stem and options, up to
                              case, width, spaces and punctuation) is left out with a
                              warning naming both lines, instead of being an error */
    const char *sheet;     /* .xlsx files: the sheet to read, by name or 1-based number;
                              NULL: the first */
} qk_build_opts;
#define QK_BUILD_OPTS_INIT {QK_BUILD_OPTS_VERSION, QK_LANG_ZH, NULL, 0, NULL, NULL, NULL, 0, NULL}

/* Builds src into out_path. src is a folder holding bundle.json, or a single
 * question file (.csv, .json, .gift, .txt) whose name gives the bundle's id
 * and title. QK_OK: built (or, with check_only, no errors). QK_EINVAL: content
 * errors, all reported. QK_EIO and others: a file could not be read or
 * written (reported too). Nothing is written unless the result is QK_OK. */
int qk_content_build(const char *src, const char *out_path, const qk_build_opts *opts,
                     qk_build_stats *stats);

/* Parses one question file's UTF-8 text (an .xlsx: the file's bytes, read
 * from its first sheet) for the builder and the fuzzers:
 * each accepted question goes to add, each problem to fn. Returns the number
 * of errors found. */
typedef int (*qk_question_sink)(const qk_question *q, int line, void *payload);
size_t qk_content_parse(qk_source_format format, const char *file, const char *text, size_t len,
                        const char *default_theme, qk_lang lang, qk_diag_fn fn, void *fn_payload,
                        qk_question_sink add, void *add_payload);

/* Differences between two bundles, by question id. */
typedef enum qk_diff_kind { QK_DIFF_ADDED, QK_DIFF_REMOVED, QK_DIFF_CHANGED } qk_diff_kind;
typedef void (*qk_diff_fn)(qk_diff_kind kind, const char *id, const char *what, void *payload);
/* Calls fn for each question added, removed or changed (what names the changed
 * fields, e.g. "stem,answer"). */
int qk_content_diff(qk_bundle *old_b, qk_bundle *new_b, qk_diff_fn fn, void *payload);

/* Text from WPS/Excel on Chinese Windows: UTF-8 with or without BOM, or GBK.
 * UTF-8 copy of raw (BOM removed; GB18030 converted, *converted = 1). NULL
 * when it is neither, with *bad_line the line of the first bad byte (in the
 * encoding that read further; 0 when out of memory), or with *converted =
 * QK_DECODE_NUL and *bad_line the line of a NUL byte. Caller frees. */
#define QK_DECODE_NUL (-2)
char *qk_text_decode(const char *raw, size_t len, size_t *out_len, int *converted, int *bad_line);


#endif
