/* import.h: what the importers (JSON, CSV, GIFT, Aiken) share: the source
 * being read, diagnostics with lines, text decoding, and finishing a question
 * with the engine's own answer parser and checks. Internal to content/. */
#ifndef QK_IMPORT_H
#define QK_IMPORT_H

#include "content_msg.h"
#include "qk_content.h"

/* The ids made from stems so far (qk__made_id). */
typedef struct qk__idset {
    char **slots;
    size_t cap, n;
    int *vals; /* a number kept with each (qk__idset_value) */
} qk__idset;
/* 1 when id was added, 0 when it was there already, -1 out of memory. */
int qk__idset_add(qk__idset *s, const char *id);
/* The number kept with key, which is added (with 0) when new; NULL out of memory. */
int *qk__idset_value(qk__idset *s, const char *key);
void qk__idset_free(qk__idset *s);

typedef struct qk__src {
    const char *file;
    const char *text; /* UTF-8 */
    size_t len;
    const char *default_theme;
    qk_lang lang;
    qk_diag_fn fn;
    void *fn_payload;
    qk_question_sink add;
    void *add_payload;
    size_t errors;
    char *label; /* how messages name the current question when its id was made up */
    /* Told of each question refused for its errors whose id the author wrote
     * (may be NULL; add_payload), so a later question with the same id is
     * named a duplicate now, not after the first one is fixed. */
    void (*rejected)(const char *id, int line, void *payload);
    qk__idset made; /* ids made from stems, unique within the file */
    qk__idset made_next; /* each made id's next free number (-2, -3, ...) */
    const char *sheet; /* .xlsx: the sheet to read (name or 1-based number); NULL: the first */
} qk__src;

/* An id made from a stem for a question whose author wrote none: the same
 * for the same stem in every build (members' progress follows it), with -2,
 * -3, ... for a stem seen already in this file (the same stem with other
 * options is another question). Caller frees. */
char *qk__made_id(qk__src *s, const char *prefix, const char *stem);

/* Names the question in messages by the start of its stem (for rows whose id
 * the author did not write); NULL returns to naming by id. */
void qk__label(qk__src *s, const char *stem);

/* qk_content_parse with the rejected hook above. */
size_t qk__content_parse(qk_source_format format, const char *file, const char *text, size_t len,
                         const char *default_theme, qk_lang lang, qk_diag_fn fn, void *fn_payload,
                         qk_question_sink add, void *add_payload,
                         void (*rejected)(const char *id, int line, void *payload), const char *sheet);

void qk__import_json(qk__src *s);
void qk__import_csv(qk__src *s);
void qk__import_xlsx(qk__src *s);
/* The next row of a table: 1 with a row in r (r->line its line or sheet row),
 * 0 at the end, -1 on an error the reader has reported. */
typedef int (*qk__next_row)(void *rd, qk_csv_row *r);
/* Questions from a table's rows, the first non-blank row (or the one under a
 * title row) naming the columns: what CSV and .xlsx share. */
void qk__import_rows(qk__src *s, qk__next_row next, void *rd);
/* Sets field col of r to a copy of text, adding empty fields up to it; -1
 * out of memory. */
int qk__row_set(qk_csv_row *r, size_t col, const char *text);
/* 1 when the row names at least two of the columns every table needs (题型,
 * 题干, 答案): a header row. */
int qk__header_row(const qk_csv_row *r);
void qk__import_gift(qk__src *s);
void qk__import_aiken(qk__src *s);

/* Reports catalogue message id (printf arguments follow). */
void qk__diag(qk__src *s, qk_diag_level level, int line, int column, qk__cmsg id, ...);
/* Reports "question ID: <message>". */
void qk__qdiag(qk__src *s, qk_diag_level level, int line, const char *qid, qk__cmsg id, ...);
/* Reports running out of memory at line (the file is not read whole). */
void qk__oom(qk__src *s, int line);
/* Reports ready text. */
void qk__diag_text(qk__src *s, qk_diag_level level, int line, const char *text);

/* Makes raw file bytes UTF-8: strips a BOM, accepts UTF-8, else converts from
 * GB18030 (a superset of GBK). On bad bytes returns NULL and *bad_line says
 * where; *converted is set when the input was GBK. Caller frees. */

/* Sets the answer key of q from text the way a member would type it (letters,
 * 对/错, blanks separated by | or ；, alternatives in a blank by /), checks
 * q with the engine, and passes it to the sink. Takes ownership of q.
 * Reports problems at line and returns 0 if q was not accepted. */
int qk__finish(qk__src *s, qk_question *q, const char *answer, int line);
/* Sets the answer key of a choice or true/false question from text, read by
 * the engine's own answer parser so authors write what a member would type.
 * Reports a problem at line and returns 0 when the text cannot be read. */
int qk__choice_key(qk__src *s, qk_question *q, const char *text, int line);
/* Sets a fill-in key from "1921/1921年|南湖" (blanks by | or ；, alternatives by /). */
int qk__fill_key(qk__src *s, qk_question *q, const char *answer, int line);
/* Checks q and passes it on (answer key already set). Takes ownership of q. */
int qk__emit(qk__src *s, qk_question *q, int line);

/* Question types by their Chinese or English names; 0 if unknown. */
qk_qtype qk__type_from_name(const char *name);
/* A stable id from text: prefix + 10 hex digits of SHA-256 of the folded text. */
char *qk__hash_id(const char *prefix, const char *text);
char *qk__dup(const char *s);
char *qk__dupn(const char *s, size_t n);

#endif
