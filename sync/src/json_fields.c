/* json_fields.c: chosen top-level members of a JSON object in one scan
 * (json_fields.h). The statistics' pass reads a handful of members of each
 * event's payload; SQLite's json_extract builds the whole tree for each
 * call, which was half the time of a build from nothing. Anything this
 * reader does not take simply (an escaped member name, a wanted member
 * twice, deep nesting, malformed text) is refused, and the caller asks
 * json_extract instead, so the two can never disagree on what is read. */
#include "json_fields.h"

#include <stdint.h>
#include <string.h>

#define DEPTH_MAX 64

typedef struct rd {
    const char *s, *e;
} rd;

static void ws(rd *r)
{
    while (r->s < r->e && (*r->s == ' ' || *r->s == '\t' || *r->s == '\n' || *r->s == '\r'))
        r->s++;
}

static int hex4(const char *p, const char *e, unsigned *v)
{
    if (e - p < 4)
        return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* At a '"': the string's contents, the reader after its closing quote. */
static int string(rd *r, const char **p, size_t *n, int *escaped)
{
    const char *b = ++r->s;
    *escaped = 0;
    while (r->s < r->e) {
        unsigned char c = (unsigned char)*r->s;
        if (c == '"') {
            *p = b;
            *n = (size_t)(r->s - b);
            r->s++;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            *escaped = 1;
            if (++r->s >= r->e)
                return -1;
            unsigned v;
            if (*r->s == 'u') {
                if (hex4(r->s + 1, r->e, &v))
                    return -1;
                r->s += 5;
                continue;
            }
            if (!strchr("\"\\/bfnrt", *r->s) || *r->s == '\0')
                return -1;
        }
        r->s++;
    }
    return -1;
}

static int digits(rd *r)
{
    const char *b = r->s;
    while (r->s < r->e && *r->s >= '0' && *r->s <= '9')
        r->s++;
    return r->s > b ? 0 : -1;
}

static int number(rd *r)
{
    if (r->s < r->e && *r->s == '-')
        r->s++;
    if (r->s < r->e && *r->s == '0')
        r->s++;
    else if (digits(r))
        return -1;
    if (r->s < r->e && *r->s == '.') {
        r->s++;
        if (digits(r))
            return -1;
    }
    if (r->s < r->e && (*r->s == 'e' || *r->s == 'E')) {
        r->s++;
        if (r->s < r->e && (*r->s == '+' || *r->s == '-'))
            r->s++;
        if (digits(r))
            return -1;
    }
    return 0;
}

static int literal(rd *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->e - r->s) < n || memcmp(r->s, word, n) != 0)
        return -1;
    r->s += n;
    return 0;
}

static int value(rd *r, qk_jf *out, int depth);

/* A value's members or elements, after its '{' or '['. */
static int container(rd *r, int object, int depth)
{
    char close = object ? '}' : ']';
    ws(r);
    if (r->s < r->e && *r->s == close) {
        r->s++;
        return 0;
    }
    for (;;) {
        if (object) {
            const char *p;
            size_t n;
            int esc;
            if (r->s >= r->e || *r->s != '"' || string(r, &p, &n, &esc))
                return -1;
            ws(r);
            if (r->s >= r->e || *r->s != ':')
                return -1;
            r->s++;
            ws(r);
        }
        if (value(r, NULL, depth + 1))
            return -1;
        ws(r);
        if (r->s < r->e && *r->s == ',') {
            r->s++;
            ws(r);
            continue;
        }
        if (r->s < r->e && *r->s == close) {
            r->s++;
            return 0;
        }
        return -1;
    }
}

/* One value at the reader (whitespace skipped before it); out, when given,
 * says what it was. */
static int value(rd *r, qk_jf *out, int depth)
{
    if (r->s >= r->e || depth > DEPTH_MAX)
        return -1;
    const char *b = r->s;
    qk_jf_type t;
    int esc = 0;
    const char *p = b;
    size_t n = 0;
    switch (*r->s) {
    case '"':
        if (string(r, &p, &n, &esc))
            return -1;
        t = QK_JF_STRING;
        break;
    case '{':
    case '[':
        r->s++;
        if (container(r, *b == '{', depth))
            return -1;
        t = QK_JF_OTHER;
        break;
    case 't':
        if (literal(r, "true"))
            return -1;
        t = QK_JF_TRUE;
        break;
    case 'f':
        if (literal(r, "false"))
            return -1;
        t = QK_JF_FALSE;
        break;
    case 'n':
        if (literal(r, "null"))
            return -1;
        t = QK_JF_NULL;
        break;
    default:
        if (number(r))
            return -1;
        t = QK_JF_NUMBER;
        n = (size_t)(r->s - b);
        break;
    }
    if (out) {
        out->type = t;
        out->p = p;
        out->n = t == QK_JF_OTHER ? (size_t)(r->s - b) : n;
        out->escaped = esc;
    }
    return 0;
}

int qk__json_fields(const char *text, size_t len, qk_jf *f, int nf)
{
    for (int i = 0; i < nf; i++) {
        f[i].type = QK_JF_ABSENT;
        f[i].p = NULL;
        f[i].n = 0;
        f[i].escaped = 0;
    }
    rd r = {text, text + len};
    ws(&r);
    if (r.s >= r.e || *r.s != '{')
        return -1;
    r.s++;
    ws(&r);
    if (r.s < r.e && *r.s == '}') {
        r.s++;
    } else {
        for (;;) {
            const char *key;
            size_t kn;
            int esc;
            if (r.s >= r.e || *r.s != '"' || string(&r, &key, &kn, &esc) || esc)
                return -1;
            ws(&r);
            if (r.s >= r.e || *r.s != ':')
                return -1;
            r.s++;
            ws(&r);
            qk_jf *want = NULL;
            for (int i = 0; i < nf && !want; i++)
                if (strlen(f[i].name) == kn && memcmp(f[i].name, key, kn) == 0)
                    want = &f[i];
            if (want && want->type != QK_JF_ABSENT)
                return -1; /* twice: which one counts is the full parser's call */
            if (value(&r, want, 1))
                return -1;
            ws(&r);
            if (r.s < r.e && *r.s == ',') {
                r.s++;
                ws(&r);
                continue;
            }
            if (r.s < r.e && *r.s == '}') {
                r.s++;
                break;
            }
            return -1;
        }
    }
    ws(&r);
    return r.s == r.e ? 0 : -1;
}

static size_t utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int qk__json_unescape(const char *p, size_t n, char *out)
{
    const char *e = p + n;
    size_t o = 0;
    while (p < e) {
        if (*p != '\\') {
            out[o++] = *p++;
            continue;
        }
        if (e - p < 2)
            return -1;
        char x = p[1];
        p += 2;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = x ? strchr(from, x) : NULL;
        if (k) {
            out[o++] = to[k - from];
            continue;
        }
        unsigned cp, lo;
        if (x != 'u' || hex4(p, e, &cp))
            return -1;
        p += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, e, &lo) || lo < 0xDC00 ||
                lo > 0xDFFF)
                return -1;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        if (cp == 0)
            return -1;
        o += utf8(cp, out + o);
    }
    out[o] = '\0';
    return 0;
}
