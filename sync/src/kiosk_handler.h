/* kiosk_handler.h: the kiosk's screen API (qk_kiosk.h) apart from the HTTP
 * server that carries it on a kiosk (kiosk_serve.c): the phone app (in
 * WebAssembly, in a Web Worker) hands the same handler its requests
 * in-process, with no server. Internal. */
#ifndef QK_KIOSK_HANDLER_H
#define QK_KIOSK_HANDLER_H

#include "http.h"
#include "qk_kiosk.h"

/* The handler's state on e and b (used, not owned); cfg->port, log and the
 * pages' presence are the server's. NULL on failure, with why in msg. */
qk_kiosk *qk__kiosk_new(qk_engine *e, qk_bundle *b, const qk_kiosk_config *cfg, char *msg,
                        size_t n);
/* One request: rq->loopback must be set for it to be served (the kiosk's
 * API answers this machine only; in-process is this machine). */
void qk__kiosk_handle(void *kiosk, qk_http_req *rq, qk_http_resp *rs);
/* The largest body a request may have. */
size_t qk__kiosk_body_limit(void *kiosk, const char *method, const char *path);
const char *qk__kiosk_web(const qk_kiosk *k);
qk_http *qk__kiosk_get_http(const qk_kiosk *k);
void qk__kiosk_set_http(qk_kiosk *k, qk_http *h);
/* Ends every screen session and frees the handler (not e and b). */
void qk__kiosk_free(qk_kiosk *k);

#endif
