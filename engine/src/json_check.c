/* json_check.c: a strict JSON syntax check (RFC 8259) for text the engine
 * hands to SQLite's JSON functions from outside (competition definitions).
 * SQLite 3.40's parser takes some malformed text as valid (an object where a
 * member's name belongs: {"a":1,{"b":2}:3}) and then reads out of bounds
 * when a path looks into it, so nothing reaches those functions that this
 * check has not passed. Syntax only; what the values mean is the caller's. */
#include <stddef.h>

#include "internal.h"

#define DEPTH_MAX 64

static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Each returns the byte after what it read, or NULL when it is not JSON. */
static const char *string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*p++;
        if (c == '"')
            return p;
        if (c < 0x20) /* the end of the text, or a control character */
            return NULL;
        if (c != '\\')
            continue;
        c = (unsigned char)*p++;
        if (c == 'u') {
            for (int i = 0; i < 4; i++) {
                if (!is_hex(*p++))
                    return NULL;
            }
        } else if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' &&
                   c != 'r' && c != 't') {
            return NULL;
        }
    }
}

static const char *number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (is_digit(*p))
            p++;
    else
        return NULL;
    if (*p == '.') {
        if (!is_digit(*++p))
            return NULL;
        while (is_digit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return NULL;
        while (is_digit(*p))
            p++;
    }
    return p;
}

static const char *word(const char *p, const char *w)
{
    while (*w) {
        if (*p++ != *w++)
            return NULL;
    }
    return p;
}

static const char *value(const char *p, int depth)
{
    p = ws(p);
    switch (*p) {
    case '{':
        if (depth >= DEPTH_MAX)
            return NULL;
        p = ws(p + 1);
        if (*p == '}')
            return p + 1;
        for (;;) {
            p = string(ws(p));
            if (!p || *(p = ws(p)) != ':')
                return NULL;
            p = value(p + 1, depth + 1);
            if (!p)
                return NULL;
            p = ws(p);
            if (*p == '}')
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    case '[':
        if (depth >= DEPTH_MAX)
            return NULL;
        p = ws(p + 1);
        if (*p == ']')
            return p + 1;
        for (;;) {
            p = value(p, depth + 1);
            if (!p)
                return NULL;
            p = ws(p);
            if (*p == ']')
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    case '"':
        return string(p);
    case 't':
        return word(p, "true");
    case 'f':
        return word(p, "false");
    case 'n':
        return word(p, "null");
    default:
        return number(p);
    }
}

int qk__json_valid(const char *text)
{
    const char *end = text ? value(text, 0) : NULL;
    return end && *ws(end) == '\0';
}
