/* netlib.c: opening a library on first use (netlib.h), and libcurl, the
 * client's. The server's libmicrohttpd and libpq are netlib_server.c's, in
 * the server's library, so the client library names neither. */
#define QK_NETLIB_TABLES /* the tables, without the names' redirection */
#include <curl/curl.h>

#include "netlib.h"

#include <stdio.h>
#include <string.h>

#include "sync_msg.h"

#include <pthread.h>
#if QK_DLOPEN
#include <dlfcn.h>
#endif

#if QK_DLOPEN

/* Opens soname and fills fns; 0, or -1 with the loader's reason in why. */
static int open_lib(const char *soname, const char *const *names, void **fns, size_t count,
                    char *why, size_t wn)
{
    /* RTLD_NODELETE: a pointer taken from the table stays valid for the
     * process; the handle is never closed. */
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h) {
        const char *e = dlerror();
        size_t sn = strlen(soname);
        if (e && strncmp(e, soname, sn) == 0 && strncmp(e + sn, ": ", 2) == 0)
            e += sn + 2; /* the message names the library already */
        snprintf(why, wn, "%s", e ? e : "?");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        void *f = dlsym(h, names[i]);
        if (!f) {
            snprintf(why, wn, "%s: no such function", names[i]);
            dlclose(h);
            return -1;
        }
        fns[i] = f;
    }
    return 0;
}

int qk__netlib_open(const char *soname, const char *const *names, void **fns, size_t count,
                    qk_lang lang, char *msg, size_t n)
{
    char why[400];
    if (open_lib(soname, names, fns, count, why, sizeof why) != 0) {
        qk__ymsgf(lang, msg, n, QK_Y_NETLIB, soname, why);
        return QK_EIO;
    }
    return QK_OK;
}

/* The table is filled through an array of pointers as many as its members
 * (POSIX: a function's address fits a void *), all at once or not at all. */
void qk__netlib_fill(qk__netlib *l)
{
    void *fns[32];
    l->failed = l->count > QK_NETLIB_COUNT(fns) ||
                open_lib(l->soname, l->names, fns, l->count, l->why, sizeof l->why);
    if (!l->failed)
        memcpy(l->table, fns, l->count * sizeof *fns);
}

int qk__netlib_loaded(qk__netlib *l, void (*fill)(void), qk_lang lang, char *msg, size_t n)
{
    pthread_once(&l->once, fill);
    if (l->failed) {
        qk__ymsgf(lang, msg, n, QK_Y_NETLIB, l->soname, l->why);
        return QK_EIO;
    }
    return QK_OK;
}

struct qk__curl_fns qk__curl;
static const char *const curl_names[] = {QK_CURL_FNS(QK_NETLIB_NAME)};
_Static_assert(sizeof(struct qk__curl_fns) == QK_NETLIB_COUNT(curl_names) * sizeof(void *),
               "one pointer per curl name");
static qk__netlib curl_lib = QK_NETLIB_INIT(QK_CURL_SONAME, curl_names, &qk__curl);

static void load_curl(void)
{
    qk__netlib_fill(&curl_lib);
    /* Once, before any thread uses it (libcurl's rule). */
    if (!curl_lib.failed)
        qk__curl.curl_global_init(CURL_GLOBAL_DEFAULT);
}

int qk__netlib_curl(qk_lang lang, char *msg, size_t n)
{
    return qk__netlib_loaded(&curl_lib, load_curl, lang, msg, n);
}

#else /* linked */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void init_curl(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int qk__netlib_curl(qk_lang lang, char *msg, size_t n)
{
    (void)lang, (void)msg, (void)n;
    pthread_once(&curl_once, init_curl);
    return QK_OK;
}

int qk__netlib_open(const char *soname, const char *const *names, void **fns, size_t count,
                    qk_lang lang, char *msg, size_t n)
{
    (void)names, (void)fns, (void)count;
    qk__ymsgf(lang, msg, n, QK_Y_NETLIB, soname, "built without QK_DLOPEN");
    return QK_EIO;
}

#endif
