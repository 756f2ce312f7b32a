/* qk_app.h: the members' phone app's engine (issue 18; DESIGN.md, decision
 * 14). One progress file, one signed bundle, and the kiosk's screen API
 * (qk_kiosk.h) answering in-process: the same handler the kiosk serves over
 * HTTP, with the phone's rules (a phone keeps its member: no idle sign-out).
 * In the browser this is compiled to WebAssembly and runs in the one Web
 * Worker that owns the database; natively, the tests make the same calls.
 *
 * Only the API is answered here (paths under /api/): the app's pages are the
 * branch server's files, cached by the browser. */
#ifndef QK_APP_H
#define QK_APP_H

#include <stddef.h>

#include "quizkit.h"

typedef struct qk_app qk_app;

/* Opens the progress file dir/progress.db (made when new) and the bundle
 * file, verified in full and signed by one of the n public keys given as PEM
 * text. QK_OK, or a status with why in msg (the bundle's own message for a
 * bundle that fails to verify). With bundle NULL (a phone not yet enrolled,
 * whose first bundle comes from its server) the engine alone is opened:
 * enrolment and sync work, and the screen API answers 503 "no_bundle". */
int qk_app_open(qk_app **out, const char *dir, const char *bundle, const char *const *trusted_pem,
                size_t n_trusted, qk_lang lang, char *msg, size_t n);
/* The engine and bundle the app runs on (owned by the app). */
qk_engine *qk_app_engine(qk_app *a);
qk_bundle *qk_app_bundle(qk_app *a);
void qk_app_close(qk_app *a);

/* One request to the screen API, as the pages make it over HTTP on a kiosk:
 * method, path (with no query), the session token (the X-Kiosk-Session
 * header; NULL or "" for none), the page's language ("zh", "en"; NULL: the
 * app's) and the body (JSON; may be NULL). Never NULL but when out of memory. */
typedef struct qk_app_reply qk_app_reply;
qk_app_reply *qk_app_request(qk_app *a, const char *method, const char *path, const char *session,
                             const char *lang, const char *body, size_t body_len);
int qk_app_reply_status(const qk_app_reply *r);
/* The body (NUL-terminated after len bytes) and its media type. */
const char *qk_app_reply_body(const qk_app_reply *r);
size_t qk_app_reply_len(const qk_app_reply *r);
const char *qk_app_reply_type(const qk_app_reply *r);
void qk_app_reply_free(qk_app_reply *r);

/* --- enrolment and sync, over the app's own transport ---
 * The app makes no request itself: it says which request to make, the
 * transport (fetch() in the browser) makes it and hands the reply back, until
 * the work is done. The steps are those the command's client follows over
 * libcurl; the server sees a device like any other. */
typedef struct qk_app_net qk_app_net;
/* Enrols this phone with the branch server at url (its origin, as
 * "https://host:port") with an enrolment code: the phone's key pair is made
 * now and kept in dir/device.key, the settings in dir/server.json. With a
 * member id and PIN (checked by the server) the phone is that member's own:
 * it gets that member's row of the roster alone, never the PIN hashes of the
 * others; with none (NULL or "") it is a shared device, as a kiosk is. */
qk_app_net *qk_app_enrol(qk_app *a, const char *url, const char *code, const char *name,
                         const char *member, const char *pin);
/* Sends every answer the server has not acknowledged (once enrolled). */
qk_app_net *qk_app_sync(qk_app *a);
/* Given the reply to the last request (status 0 and no body before the
 * first): 1, a request to make (below); 0, done (qk_app_net_result); -1,
 * failed (qk_app_net_error, in the app's language). */
int qk_app_net_next(qk_app_net *n, int status, const char *body, size_t len);
const char *qk_app_net_method(const qk_app_net *n);
const char *qk_app_net_url(const qk_app_net *n);
/* The device's token, for "Authorization: Bearer ..." ("" before enrolment). */
const char *qk_app_net_token(const qk_app_net *n);
/* A JSON body to send (NULL: none), len bytes; it may be sent gzipped. */
const char *qk_app_net_body(const qk_app_net *n);
size_t qk_app_net_len(const qk_app_net *n);
const char *qk_app_net_error(const qk_app_net *n);
/* What was done, as JSON: {"branch", "branch_name", "members"} for an
 * enrolment; {"sent", "acked_seq", "pending", "batches", "members"} for a
 * sync (members: the roster's members added or changed; both end with the
 * branch's roster, so that its members can sign in on the phone). */
const char *qk_app_net_result(const qk_app_net *n);
void qk_app_net_free(qk_app_net *n);

#endif
