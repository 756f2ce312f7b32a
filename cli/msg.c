/* msg.c: the message catalogue and the small printing helpers built on it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const catalogue[M__COUNT][2] = {
#define MSG(id, zh, en) {zh, en},
#include "messages.def"
#undef MSG
};

const char *M(const cli *c, cli_msg id)
{
    return catalogue[id][c->lang == QK_LANG_EN ? 1 : 0];
}

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif

void out(const cli *c, FILE *f, cli_msg id, ...)
{
    va_list ap;
    va_start(ap, id);
    vfprintf(f, M(c, id), ap);
    va_end(ap);
}

void msgf(const cli *c, char *buf, size_t n, cli_msg id, ...)
{
    va_list ap;
    va_start(ap, id);
    vsnprintf(buf, n, M(c, id), ap);
    va_end(ap);
}

void err_text(const cli *c, const char *text)
{
    fflush(stdout);
    fprintf(stderr, "quizkit: %s%s\n", M(c, M_ERR_PREFIX), text);
}

void warn_text(const cli *c, const char *text)
{
    fflush(stdout);
    fprintf(stderr, "quizkit: %s%s\n", M(c, M_WARN_PREFIX), text);
}

void err(const cli *c, cli_msg id, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, id);
    vsnprintf(buf, sizeof buf, M(c, id), ap);
    va_end(ap);
    err_text(c, buf);
}

int is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int opt_value(const cli *c, const char *cmd, int argc, char **argv, int *i, const char *name,
              const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        err(c, M_UNKNOWN_OPT, cmd, a);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    if (!s || !*s)
        return 0;
    unsigned long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        unsigned d = (unsigned)(*p - '0');
        if (d > max || v > (max - d) / 10) /* (d > max first: max - d must not wrap) */
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}
