/* text.c: UTF-8 folding, validation and display width (utf8proc). */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "internal.h"

int qk_text_valid(const char *s, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0 || cp == 0)
            return 0;
        p += n;
        left -= n;
    }
    return 1;
}

static int map(char **out, const char *s, size_t len, utf8proc_option_t opts)
{
    *out = NULL;
    if (!qk_text_valid(s, len))
        return QK_EINVAL;
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &dst,
                                      opts);
    if (n < 0)
        return n == UTF8PROC_ERROR_NOMEM ? QK_ENOMEM : QK_EINVAL;
    *out = (char *)dst;
    return QK_OK;
}

int qk_text_nfkc(char **out, const char *s, size_t len)
{
    return map(out, s, len, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
}

/* Whitespace, punctuation, symbols that people type loosely, and format/control
 * characters are dropped when comparing answers. Letters, digits and CJK stay. */
static int dropped(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
        return 1;
    default:
        return 0;
    }
}

int qk_text_fold(char **out, const char *s, size_t len)
{
    char *mapped = NULL;
    int rc = map(&mapped, s, len,
                 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
    if (rc != QK_OK)
        return rc;
    /* Filter in place: the result is never longer than the input. */
    size_t r = 0, w = 0, n = strlen(mapped);
    while (r < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)mapped + r,
                                              (utf8proc_ssize_t)(n - r), &cp);
        if (k <= 0)
            break; /* cannot happen: utf8proc_map produced it */
        if (!dropped(cp)) {
            memmove(mapped + w, mapped + r, (size_t)k);
            w += (size_t)k;
        }
        r += (size_t)k;
    }
    mapped[w] = '\0';
    *out = mapped;
    return QK_OK;
}

/* Width of one code point; ambiguous and control characters count as 1 or 0
 * the way terminals draw them. */
static size_t cp_width(utf8proc_int32_t cp)
{
    int w = utf8proc_charwidth(cp);
    return w < 0 ? 0 : (size_t)w;
}

size_t qk_text_width(const char *s, size_t len)
{
    size_t cols = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            cols++;
            n = 1;
        } else {
            cols += cp_width(cp);
        }
        p += n;
        left -= n;
    }
    return cols;
}

size_t qk_text_fit(const char *s, size_t len, size_t max_cols)
{
    size_t cols = 0, off = 0;
    while (off < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + off,
                                              (utf8proc_ssize_t)(len - off), &cp);
        size_t w = 1;
        if (n <= 0)
            n = 1;
        else
            w = cp_width(cp);
        if (cols + w > max_cols)
            break;
        cols += w;
        off += (size_t)n;
    }
    return off;
}

