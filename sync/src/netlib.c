/* netlib.c: opening libcurl and libmicrohttpd on first use (netlib.h). */
#define QK_NETLIB_TABLES /* the tables, without the names' redirection */
#include <curl/curl.h>
#include <microhttpd.h>
#if QK_WITH_POSTGRESQL
#include <libpq-fe.h>
#endif

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

struct qk__curl_fns qk__curl;
struct qk__mhd_fns qk__mhd;
#if QK_WITH_POSTGRESQL
struct qk__pq_fns qk__pq;
#endif

#define QK_NETLIB_NAME(f) #f,
static const char *const curl_names[] = {QK_CURL_FNS(QK_NETLIB_NAME)};
static const char *const mhd_names[] = {QK_MHD_FNS(QK_NETLIB_NAME)};
#if QK_WITH_POSTGRESQL
static const char *const pq_names[] = {QK_PQ_FNS(QK_NETLIB_NAME)};
#endif
#define COUNT(a) (sizeof(a) / sizeof *(a))

/* The tables are filled through an array of pointers as many as their
 * members (POSIX: a function's address fits a void *). */
_Static_assert(sizeof(struct qk__curl_fns) == COUNT(curl_names) * sizeof(void *),
               "one pointer per curl name");
_Static_assert(sizeof(struct qk__mhd_fns) == COUNT(mhd_names) * sizeof(void *),
               "one pointer per MHD name");
#if QK_WITH_POSTGRESQL
_Static_assert(sizeof(struct qk__pq_fns) == COUNT(pq_names) * sizeof(void *), "one pointer per libpq name");
#endif

/* Each library is opened once; the outcome and the loader's reason are kept
 * for every caller, whose language the message is made in. */
typedef struct {
    pthread_once_t once;
    const char *soname;
    const char *const *names;
    void *table;
    size_t count;
    int failed;
    char why[400];
} lib;

static lib curl_lib = {PTHREAD_ONCE_INIT, QK_CURL_SONAME, curl_names, &qk__curl, COUNT(curl_names), 0, ""};
static lib mhd_lib = {PTHREAD_ONCE_INIT, QK_MHD_SONAME, mhd_names, &qk__mhd, COUNT(mhd_names), 0, ""};

#if QK_WITH_POSTGRESQL
static lib pq_lib = {PTHREAD_ONCE_INIT, QK_PQ_SONAME, pq_names, &qk__pq, COUNT(pq_names), 0, ""};
#endif

static void load(lib *l)
{
    void *fns[32];
    l->failed = l->count > COUNT(fns) || open_lib(l->soname, l->names, fns, l->count, l->why, sizeof l->why);
    if (!l->failed)
        memcpy(l->table, fns, l->count * sizeof *fns);
}

static void load_curl(void)
{
    load(&curl_lib);
    /* Once, before any thread uses it (libcurl's rule). */
    if (!curl_lib.failed)
        qk__curl.curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void load_mhd(void)
{
    load(&mhd_lib);
}

static int loaded(lib *l, void (*init)(void), qk_lang lang, char *msg, size_t n)
{
    pthread_once(&l->once, init);
    if (l->failed) {
        qk__ymsgf(lang, msg, n, QK_Y_NETLIB, l->soname, l->why);
        return QK_EIO;
    }
    return QK_OK;
}

int qk__netlib_curl(qk_lang lang, char *msg, size_t n)
{
    return loaded(&curl_lib, load_curl, lang, msg, n);
}

int qk__netlib_mhd(qk_lang lang, char *msg, size_t n)
{
    return loaded(&mhd_lib, load_mhd, lang, msg, n);
}

#if QK_WITH_POSTGRESQL
static void load_pq(void)
{
    load(&pq_lib);
}

int qk__netlib_pq(qk_lang lang, char *msg, size_t n)
{
    return loaded(&pq_lib, load_pq, lang, msg, n);
}
#endif

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

int qk__netlib_mhd(qk_lang lang, char *msg, size_t n)
{
    (void)lang, (void)msg, (void)n;
    return QK_OK;
}

int qk__netlib_pq(qk_lang lang, char *msg, size_t n)
{
    (void)lang, (void)msg, (void)n;
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
