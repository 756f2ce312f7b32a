/* config.c: the server's config file: "key = value" lines, # comments; the
 * keys are the long options of `quizkit serve` without their dashes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qk_server.h"
#include "sync_msg.h"

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int number(const char *v, unsigned max, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (!*v || *end || errno || n > max)
        return 0;
    *out = (unsigned)n;
    return 1;
}

int qk_server_config_load(qk_server_config *c, const char *path, char *msg, size_t n)
{
    size_t len = 0;
    int err = 0;
    char *text = qk__read_maybe_gz(path, &len, &err);
    if (!text) {
        qk__ymsgf(c->lang, msg, n, QK_Y_READ, path, strerror(err ? err : EIO));
        return QK_EIO;
    }
    free(c->owned);
    c->owned = text;
    int line = 0;
    for (char *p = text, *next; p && *p; p = next) {
        line++;
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        char *hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(p);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(msg, n, "%s:%d: %s", path, line,
                     c->lang == QK_LANG_EN ? "expected key = value" : "应为“键 = 值”");
            return QK_EINVAL;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        int ok = 1;
        if (strcmp(key, "listen") == 0)
            c->listen = val;
        else if (strcmp(key, "port") == 0)
            ok = number(val, 65535, &c->port);
        else if (strcmp(key, "db") == 0)
            c->db = val;
        else if (strcmp(key, "tls-cert") == 0)
            c->tls_cert = val;
        else if (strcmp(key, "tls-key") == 0)
            c->tls_key = val;
        else if (strcmp(key, "bundles") == 0)
            ; /* before bundles were kept in the store: read once by its upgrade */
        else if (strcmp(key, "proxy") == 0)
            c->proxy = val;
        else if (strcmp(key, "trust") == 0)
            c->trust = val;
        else if (strcmp(key, "web") == 0)
            c->web = val;
        else if (strcmp(key, "chartjs") == 0)
            c->chartjs = val;
        else if (strcmp(key, "app") == 0)
            c->app = val;
        else if (strcmp(key, "threads") == 0)
            ok = number(val, 256, &c->threads) && c->threads > 0;
        else if (strcmp(key, "max-connections") == 0)
            ok = number(val, 100000, &c->max_conn) && c->max_conn > 0;
        else if (strcmp(key, "max-connections-per-address") == 0)
            ok = number(val, 100000, &c->max_conn_per_addr) && c->max_conn_per_addr > 0;
        else if (strcmp(key, "timeout") == 0)
            ok = number(val, 3600, &c->timeout_s) && c->timeout_s > 0;
        else if (strcmp(key, "insecure-listen") == 0)
            c->insecure_listen = strcmp(val, "true") == 0 || strcmp(val, "yes") == 0 ||
                                 strcmp(val, "1") == 0;
        else {
            snprintf(msg, n, "%s:%d: %s \"%s\"", path, line,
                     c->lang == QK_LANG_EN ? "unknown setting" : "未知设置", key);
            return QK_EINVAL;
        }
        if (!ok) {
            snprintf(msg, n, "%s:%d: %s %s", path, line,
                     c->lang == QK_LANG_EN ? "bad value for" : "取值无效：", key);
            return QK_EINVAL;
        }
    }
    return QK_OK;
}

void qk_server_config_free(qk_server_config *c)
{
    free(c->owned);
    c->owned = NULL;
}
