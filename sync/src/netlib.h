/* netlib.h: libcurl, libmicrohttpd (and libpq, when built with PostgreSQL),
 * loaded when first needed (internal).
 *
 * Most runs of quizkit never touch the network: a member's `play`, `lesson`,
 * `review`, a USB export. Linked, libcurl and libmicrohttpd bring 30 more
 * shared libraries (GnuTLS, Kerberos, LDAP, SSH…) that the dynamic loader
 * maps and relocates at every start, about 5 ms of a 7 ms start on the CI
 * machine (docs/performance.md). With QK_DLOPEN (the default on Linux) the
 * two are opened by their stable sonames the first time the client or a
 * server needs them, as git keeps libcurl out of `git` itself; without it
 * they are linked as usual (other systems, static builds).
 *
 * A file that calls them includes its library's header, then this one; the
 * calls are written as always (curl_easy_init()) and go through a table of
 * pointers that qk__netlib_curl()/qk__netlib_mhd() fill once.
 *
 * The loading and libcurl's table are netlib.c's, in the client library
 * (quizkit_client, what an app embeds); libmicrohttpd's and libpq's tables
 * are netlib_server.c's, in the server's (quizkit_sync), so a program that
 * only syncs carries nothing of the server's libraries. */
#ifndef QK_NETLIB_H
#define QK_NETLIB_H

#include <stddef.h>

#include "quizkit/common.h"

/* Loads libcurl / libmicrohttpd once (thread-safe). QK_OK, or QK_EIO with a
 * message naming the library and the loader's reason. Without QK_DLOPEN they
 * are linked, and these return QK_OK. */
int qk__netlib_curl(qk_lang lang, char *msg, size_t n);
int qk__netlib_mhd(qk_lang lang, char *msg, size_t n);
/* libpq, for a server whose store is PostgreSQL (store_pg.c): the same. */
int qk__netlib_pq(qk_lang lang, char *msg, size_t n);

/* Opens soname and looks up count symbols into fns (tests name a missing
 * library or symbol). QK_OK, or QK_EIO and the message. */
int qk__netlib_open(const char *soname, const char *const *names, void **fns, size_t count,
                    qk_lang lang, char *msg, size_t n);

#if QK_DLOPEN

#include <pthread.h>

/* One library opened on first use: its soname, the names looked up and the
 * table of pointers they fill (as many pointers as names). The outcome and
 * the loader's reason are kept for every later caller. */
typedef struct qk__netlib {
    pthread_once_t once;
    const char *soname;
    const char *const *names;
    void *table;
    size_t count;
    int failed;
    char why[400];
} qk__netlib;

#define QK_NETLIB_NAME(f) #f,
#define QK_NETLIB_COUNT(a) (sizeof(a) / sizeof *(a))
/* A qk__netlib for a static array of names and its table. */
#define QK_NETLIB_INIT(soname, names, table)                                                  \
    { PTHREAD_ONCE_INIT, soname, names, table, QK_NETLIB_COUNT(names), 0, "" }

/* Opens l's library and fills its table: called once, through pthread_once
 * (fill is a function of no arguments that calls it for its library). */
void qk__netlib_fill(qk__netlib *l);
/* Runs fill once for all threads; QK_OK, or QK_EIO with the message naming
 * the library and the loader's reason, in lang. */
int qk__netlib_loaded(qk__netlib *l, void (*fill)(void), qk_lang lang, char *msg, size_t n);

/* The functions quizkit calls, each once in the table. */
#define QK_CURL_FNS(X)                                                                        \
    X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_reset)             \
    X(curl_easy_setopt) X(curl_easy_getinfo) X(curl_easy_perform) X(curl_easy_strerror)       \
    X(curl_free) X(curl_slist_append) X(curl_slist_free_all) X(curl_url) X(curl_url_cleanup) \
    X(curl_url_get) X(curl_url_set)
#define QK_MHD_FNS(X)                                                                         \
    X(MHD_start_daemon) X(MHD_stop_daemon) X(MHD_quiesce_daemon) X(MHD_get_daemon_info)     \
    X(MHD_get_connection_info) X(MHD_set_connection_option) X(MHD_lookup_connection_value)  \
    X(MHD_create_response_from_buffer) X(MHD_create_response_from_callback)                 \
    X(MHD_create_response_from_fd_at_offset64) X(MHD_add_response_header)                   \
    X(MHD_queue_response) X(MHD_destroy_response) X(MHD_suspend_connection)                 \
    X(MHD_resume_connection)

#define QK_PQ_FNS(X)                                                                          \
    X(PQconnectdb) X(PQstatus) X(PQerrorMessage) X(PQfinish) X(PQexec) X(PQexecParams)         \
    X(PQprepare) X(PQexecPrepared) X(PQresultStatus) X(PQresultErrorField) X(PQclear)          \
    X(PQntuples) X(PQnfields) X(PQfname) X(PQgetvalue) X(PQgetlength) X(PQgetisnull)           \
    X(PQcmdTuples) X(PQftype) X(PQsetNoticeProcessor) X(PQtransactionStatus) X(PQreset)     \
    X(PQputCopyData) X(PQputCopyEnd) X(PQgetResult)

#define QK_NETLIB_PTR(f) __typeof__(f) *f;
#ifdef CURLVERSION_NOW
extern struct qk__curl_fns {
    QK_CURL_FNS(QK_NETLIB_PTR)
} qk__curl;
#ifndef QK_NETLIB_TABLES
/* curl.h's type-checking wrappers would call the names below. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (qk__curl.curl_global_init)
#define curl_easy_init (qk__curl.curl_easy_init)
#define curl_easy_cleanup (qk__curl.curl_easy_cleanup)
#define curl_easy_reset (qk__curl.curl_easy_reset)
#define curl_easy_setopt (qk__curl.curl_easy_setopt)
#define curl_easy_getinfo (qk__curl.curl_easy_getinfo)
#define curl_easy_perform (qk__curl.curl_easy_perform)
#define curl_easy_strerror (qk__curl.curl_easy_strerror)
#define curl_free (qk__curl.curl_free)
#define curl_slist_append (qk__curl.curl_slist_append)
#define curl_slist_free_all (qk__curl.curl_slist_free_all)
#define curl_url (qk__curl.curl_url)
#define curl_url_cleanup (qk__curl.curl_url_cleanup)
#define curl_url_get (qk__curl.curl_url_get)
#define curl_url_set (qk__curl.curl_url_set)
#endif
#endif
#ifdef MHD_VERSION
extern struct qk__mhd_fns {
    QK_MHD_FNS(QK_NETLIB_PTR)
} qk__mhd;
#ifndef QK_NETLIB_TABLES
#define MHD_start_daemon (qk__mhd.MHD_start_daemon)
#define MHD_stop_daemon (qk__mhd.MHD_stop_daemon)
#define MHD_quiesce_daemon (qk__mhd.MHD_quiesce_daemon)
#define MHD_get_daemon_info (qk__mhd.MHD_get_daemon_info)
#define MHD_get_connection_info (qk__mhd.MHD_get_connection_info)
#define MHD_set_connection_option (qk__mhd.MHD_set_connection_option)
#define MHD_lookup_connection_value (qk__mhd.MHD_lookup_connection_value)
#define MHD_create_response_from_buffer (qk__mhd.MHD_create_response_from_buffer)
#define MHD_create_response_from_callback (qk__mhd.MHD_create_response_from_callback)
#define MHD_create_response_from_fd_at_offset64 (qk__mhd.MHD_create_response_from_fd_at_offset64)
#define MHD_add_response_header (qk__mhd.MHD_add_response_header)
#define MHD_queue_response (qk__mhd.MHD_queue_response)
#define MHD_destroy_response (qk__mhd.MHD_destroy_response)
#define MHD_suspend_connection (qk__mhd.MHD_suspend_connection)
#define MHD_resume_connection (qk__mhd.MHD_resume_connection)
#endif
#endif

#ifdef LIBPQ_FE_H
extern struct qk__pq_fns {
    QK_PQ_FNS(QK_NETLIB_PTR)
} qk__pq;
#ifndef QK_NETLIB_TABLES
#define PQconnectdb (qk__pq.PQconnectdb)
#define PQstatus (qk__pq.PQstatus)
#define PQerrorMessage (qk__pq.PQerrorMessage)
#define PQfinish (qk__pq.PQfinish)
#define PQexec (qk__pq.PQexec)
#define PQexecParams (qk__pq.PQexecParams)
#define PQprepare (qk__pq.PQprepare)
#define PQexecPrepared (qk__pq.PQexecPrepared)
#define PQresultStatus (qk__pq.PQresultStatus)
#define PQresultErrorField (qk__pq.PQresultErrorField)
#define PQclear (qk__pq.PQclear)
#define PQntuples (qk__pq.PQntuples)
#define PQnfields (qk__pq.PQnfields)
#define PQfname (qk__pq.PQfname)
#define PQgetvalue (qk__pq.PQgetvalue)
#define PQgetlength (qk__pq.PQgetlength)
#define PQgetisnull (qk__pq.PQgetisnull)
#define PQcmdTuples (qk__pq.PQcmdTuples)
#define PQftype (qk__pq.PQftype)
#define PQsetNoticeProcessor (qk__pq.PQsetNoticeProcessor)
#define PQtransactionStatus (qk__pq.PQtransactionStatus)
#define PQreset (qk__pq.PQreset)
#define PQputCopyData (qk__pq.PQputCopyData)
#define PQputCopyEnd (qk__pq.PQputCopyEnd)
#define PQgetResult (qk__pq.PQgetResult)
#endif
#endif

#endif /* QK_DLOPEN */
#endif
