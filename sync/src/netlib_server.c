/* netlib_server.c: the server's libraries on first use (netlib.h):
 * libmicrohttpd, and libpq for a store on PostgreSQL. The loading itself is
 * netlib.c's, in the client library this one links. */
#define QK_NETLIB_TABLES /* the tables, without the names' redirection */
#include <microhttpd.h>
#if QK_WITH_POSTGRESQL
#include <libpq-fe.h>
#endif

#include "netlib.h"

#if QK_DLOPEN

struct qk__mhd_fns qk__mhd;
static const char *const mhd_names[] = {QK_MHD_FNS(QK_NETLIB_NAME)};
_Static_assert(sizeof(struct qk__mhd_fns) == QK_NETLIB_COUNT(mhd_names) * sizeof(void *),
               "one pointer per MHD name");
static qk__netlib mhd_lib = QK_NETLIB_INIT(QK_MHD_SONAME, mhd_names, &qk__mhd);

static void load_mhd(void)
{
    qk__netlib_fill(&mhd_lib);
}

int qk__netlib_mhd(qk_lang lang, char *msg, size_t n)
{
    return qk__netlib_loaded(&mhd_lib, load_mhd, lang, msg, n);
}

#if QK_WITH_POSTGRESQL
struct qk__pq_fns qk__pq;
static const char *const pq_names[] = {QK_PQ_FNS(QK_NETLIB_NAME)};
_Static_assert(sizeof(struct qk__pq_fns) == QK_NETLIB_COUNT(pq_names) * sizeof(void *),
               "one pointer per libpq name");
static qk__netlib pq_lib = QK_NETLIB_INIT(QK_PQ_SONAME, pq_names, &qk__pq);

static void load_pq(void)
{
    qk__netlib_fill(&pq_lib);
}

int qk__netlib_pq(qk_lang lang, char *msg, size_t n)
{
    return qk__netlib_loaded(&pq_lib, load_pq, lang, msg, n);
}
#endif

#else /* linked */

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

#endif
