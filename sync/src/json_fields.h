/* json_fields.h: chosen top-level members of a JSON object, read in one
 * scan without building a tree (the statistics' pass reads a few members
 * of millions of event payloads). Internal to sync/. */
#ifndef QK_JSON_FIELDS_H
#define QK_JSON_FIELDS_H

#include <stddef.h>

typedef enum qk_jf_type {
    QK_JF_ABSENT, /* the object has no such member */
    QK_JF_NULL,
    QK_JF_TRUE,
    QK_JF_FALSE,
    QK_JF_NUMBER, /* p, n: the number as written */
    QK_JF_STRING, /* p, n: between the quotes, escapes as written */
    QK_JF_OTHER   /* an object or an array */
} qk_jf_type;

typedef struct qk_jf {
    const char *name; /* in: the member's name (plain ASCII, no escapes) */
    qk_jf_type type;  /* out */
    const char *p;    /* out: see the types */
    size_t n;
    int escaped; /* out: a string with a backslash in it */
} qk_jf;

/* Reads text[0..len) as one JSON object (RFC 8259; whitespace around it)
 * and fills each of the nf fields with its member. 0, or -1 when the text
 * is not such an object or cannot be read this simply (a member's name
 * with an escape in it, a wanted member twice, nesting deeper than 64):
 * the caller then asks a full parser. */
int qk__json_fields(const char *text, size_t len, qk_jf *f, int nf);

/* A string's contents (QK_JF_STRING's p, n) unescaped into out as UTF-8,
 * NUL-terminated; out holds n + 1 bytes (unescaping never lengthens).
 * -1 for an escape that is not valid JSON, a lone surrogate or a \u0000. */
int qk__json_unescape(const char *p, size_t n, char *out);

#endif
