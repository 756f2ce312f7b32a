/* sync_msg.c: the sync module's messages in zh-CN and English
 * (messages.def) and its hex helpers (sync_msg.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sync_msg.h"

static const char *const catalogue[QK_Y_COUNT][2] = {
#define MSG(id, zh, en) {zh, en},
#include "messages.def"
#undef MSG
};

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif

void qk__ymsgv(qk_lang lang, char *buf, size_t n, qk__ymsg id, va_list ap)
{
    vsnprintf(buf, n, catalogue[id][lang == QK_LANG_EN ? 1 : 0], ap);
}

void qk__ymsgf(qk_lang lang, char *buf, size_t n, qk__ymsg id, ...)
{
    va_list ap;
    va_start(ap, id);
    qk__ymsgv(lang, buf, n, id, ap);
    va_end(ap);
}

void qk__hex(char *out, const unsigned char *in, size_t n)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[in[i] >> 4];
        out[2 * i + 1] = h[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int nibble(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long qk__unhex(unsigned char *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int a = nibble(hex[2 * i]), b = nibble(hex[2 * i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i] = (unsigned char)(a << 4 | b);
    }
    return (long)(n / 2);
}
