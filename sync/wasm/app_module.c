/* sync/wasm/app_module.c: what the phone app's Web Worker calls in the WebAssembly
 * module (through emscripten's ccall), beside qk_app.h's request functions:
 * C strings and numbers only, so that JavaScript needs no C structures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <emscripten.h>

#include "qk_app.h"

static char last_error[1024];

/* Opens the app (qk_app_open) trusting the public keys in pems, one PEM
 * block after another (anything between blocks is ignored); lang 0 zh-CN,
 * 1 English; bundle "" for none yet (the engine alone, for the enrolment).
 * NULL on failure, with qk_app_js_error() saying why. */
EMSCRIPTEN_KEEPALIVE qk_app *qk_app_js_open(const char *dir, const char *bundle, const char *pems,
                                            int lang)
{
    static const char begin[] = "-----BEGIN PUBLIC KEY-----", end[] = "-----END PUBLIC KEY-----";
    last_error[0] = '\0';
    size_t n = 0, cap = 0;
    char **keys = NULL;
    int rc = QK_OK;
    for (const char *p = pems ? strstr(pems, begin) : NULL; p && rc == QK_OK; p = strstr(p, begin)) {
        const char *e = strstr(p, end);
        if (!e)
            break;
        e += sizeof end - 1;
        if (n == cap) {
            cap = cap ? 2 * cap : 4;
            char **more = realloc(keys, cap * sizeof *keys);
            if (!more) {
                rc = QK_ENOMEM;
                break;
            }
            keys = more;
        }
        keys[n] = strndup(p, (size_t)(e - p));
        if (!keys[n])
            rc = QK_ENOMEM;
        else
            n++;
        p = e;
    }
    qk_lang l = lang ? QK_LANG_EN : QK_LANG_ZH;
    qk_app *a = NULL;
    if (rc == QK_OK)
        rc = qk_app_open(&a, dir, bundle && bundle[0] ? bundle : NULL, (const char *const *)keys, n, l, last_error,
                         sizeof last_error);
    if (rc != QK_OK && !last_error[0])
        snprintf(last_error, sizeof last_error, "%s", qk_strerror(rc, l));
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    return rc == QK_OK ? a : NULL;
}

EMSCRIPTEN_KEEPALIVE const char *qk_app_js_error(void)
{
    return last_error;
}
