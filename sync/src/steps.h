/* steps.h: enrolling a device and sending its events to the server, as the
 * protocol's steps apart from the transport that carries them: the command's
 * client makes the requests with libcurl (client.c), the phone app with
 * fetch() (qk_app.h), and both follow these same steps (DESIGN.md: one
 * protocol layer). Internal.
 *
 * The device asks what the server holds (GET /api/v1/device), takes the
 * server's word when it holds more, goes back when it holds less (restored
 * from a backup), then posts its unacknowledged events in batches of at most
 * QK_BATCH_MAX_EVENTS (POST /api/v1/events), applying each acknowledgement. */
#ifndef QK_STEPS_H
#define QK_STEPS_H

#include <jansson.h>

#include "qk_client.h"

typedef struct qk_push qk_push;

/* The next request: method and path, and a JSON body (owned by the push,
 * valid until the next call; NULL for none), which the transport may send
 * gzipped (Content-Encoding: gzip). */
typedef struct qk_push_req {
    const char *method, *path;
    char *body;
    size_t len;
} qk_push_req;

/* A push of e's events; r is filled as it goes (and whole at the end). */
int qk__push_new(qk_push **out, qk_engine *e, qk_push_result *r, qk_lang lang);
/* Given the JSON reply to the last request (NULL before the first; a 2xx
 * reply's, the transport reports any other as a failure itself): QK_ROW with
 * *req the request to make next; QK_OK when every event is acknowledged; a
 * status with why in msg otherwise (QK_EEXISTS: the server took a batch only
 * in part, for conflicts). */
int qk__push_next(qk_push *p, const json_t *reply, qk_push_req *req, char *msg, size_t n);
/* 1 once after each step that moved the progress (and once when the total is
 * known): events acknowledged of those there were to send. */
int qk__push_progress(qk_push *p, int64_t *done, int64_t *total);
void qk__push_free(qk_push *p);

/* Enrolment (POST /api/v1/enroll): the body for this device, its key's
 * proof signed (NULL when out of memory); and the reply taken into conf
 * (token, branch, the server's pinned key, the device id). */
json_t *qk__enrol_body(qk_engine *e, const char *code, const char *name, const qk_key *device_key);
int qk__enrol_reply(const json_t *reply, qk_engine *e, qk_client_conf *conf, qk_lang lang, char *msg,
                    size_t n);

/* The roster (GET /api/v1/roster): the path of the next page of changes
 * after conf->roster_cursor, and a page's reply applied to e (members added
 * or changed counted in *changed; the cursor and the branch's name moved in
 * conf): QK_ROW when another page follows, QK_OK at the end, or a status
 * with why in msg. */
void qk__roster_path(const qk_client_conf *conf, char *path, size_t n);
int qk__roster_apply(const json_t *reply, qk_engine *e, qk_client_conf *conf, size_t *changed,
                     char *msg, size_t n);

#endif
