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
 * block after another; lang 0 zh-CN, 1 English. NULL on failure, with
 * qk_app_js_error() saying why. */
EMSCRIPTEN_KEEPALIVE qk_app *qk_app_js_open(const char *dir, const char *bundle, const char *pems,
                                            int lang)
{
    static const char end[] = "-----END PUBLIC KEY-----";
    last_error[0] = '\0';
    const char *keys[16];
    char *copy = strdup(pems ? pems : "");
    size_t n = 0;
    for (char *p = copy; p && *p && n < sizeof keys / sizeof keys[0];) {
        char *e = strstr(p, end);
        if (!e)
            break;
        e += sizeof end - 1;
        char after = *e;
        *e = '\0';
        keys[n++] = p;
        p = after ? e + 1 : e;
    }
    qk_app *a = NULL;
    int rc = copy ? qk_app_open(&a, dir, bundle, keys, n, lang ? QK_LANG_EN : QK_LANG_ZH, last_error,
                                sizeof last_error)
                  : QK_ENOMEM;
    if (rc != QK_OK && !last_error[0])
        snprintf(last_error, sizeof last_error, "%s", qk_strerror(rc, lang ? QK_LANG_EN : QK_LANG_ZH));
    free(copy);
    return rc == QK_OK ? a : NULL;
}

EMSCRIPTEN_KEEPALIVE const char *qk_app_js_error(void)
{
    return last_error;
}
