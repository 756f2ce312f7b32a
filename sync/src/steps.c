/* steps.c: the device's protocol steps apart from the transport (steps.h),
 * and the digests both ends compute alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qk_sync.h" /* QK_ACK_FORMAT */
#include "steps.h"
#include "request.h" /* the batch limits */
#include "sync_msg.h"

typedef enum { ST_ASK, ST_DEVICE, ST_EVENTS, ST_DONE } push_state;

struct qk_push {
    qk_engine *e;
    qk_push_result *r;
    qk_lang lang;
    push_state st;
    int64_t acked, last, start, total;
    int64_t upto;  /* the last event of the batch in flight */
    size_t count;  /* events in it */
    char *body;    /* its JSON */
    int reported;  /* progress not yet reported: 1 */
};

int qk__push_new(qk_push **out, qk_engine *e, qk_push_result *r, qk_lang lang)
{
    memset(r, 0, sizeof *r);
    qk_push *p = calloc(1, sizeof *p);
    *out = p;
    if (!p)
        return QK_ENOMEM;
    p->e = e;
    p->r = r;
    p->lang = lang;
    return QK_OK;
}

void qk__push_free(qk_push *p)
{
    if (!p)
        return;
    free(p->body);
    free(p);
}

int qk__push_progress(qk_push *p, int64_t *done, int64_t *total)
{
    *done = p->acked - p->start;
    *total = p->total;
    int report = p->reported && p->total > 0;
    p->reported = 0;
    return report;
}

static int engine_fail(qk_push *p, int rc, char *msg, size_t n)
{
    snprintf(msg, n, "%s", qk_engine_errmsg(p->e));
    p->st = ST_DONE;
    return rc;
}

/* Everything acknowledged (QK_OK), or the next batch to post (QK_ROW). */
static int next_batch(qk_push *p, qk_push_req *req, char *msg, size_t n)
{
    if (p->acked >= p->last) {
        p->r->acked_seq = p->acked;
        p->r->pending = p->last - p->acked;
        p->st = ST_DONE;
        return QK_OK;
    }
    json_t *events = NULL;
    int rc = qk__collect_events(p->e, p->acked, QK_BATCH_MAX_EVENTS, QK_BATCH_MAX_BYTES * 3 / 4,
                                &events, &p->upto);
    if (rc != QK_OK)
        return engine_fail(p, rc, msg, n);
    p->count = json_array_size(events);
    json_t *body = json_pack("{s:o}", "events", events);
    free(p->body);
    p->body = body ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(body);
    if (!p->body) {
        qk__ymsgf(p->lang, msg, n, QK_Y_OOM);
        p->st = ST_DONE;
        return QK_ENOMEM;
    }
    req->method = "POST";
    req->path = "/api/v1/events";
    req->body = p->body;
    req->len = strlen(p->body);
    p->st = ST_EVENTS;
    return QK_ROW;
}

/* The server's word on what it holds, before anything is sent. */
static int on_device(qk_push *p, const json_t *dev, qk_push_req *req, char *msg, size_t n)
{
    json_t *sa = json_object_get(dev, "acked_seq");
    json_int_t server_acked = json_is_integer(sa) ? json_integer_value(sa) : -1;
    /* The server may hold more than we know (an answer lost on the way back):
     * so nothing is sent twice needlessly. */
    if (server_acked > p->acked && server_acked <= p->last &&
        qk_engine_set_acked(p->e, server_acked) == QK_OK)
        p->acked = server_acked;
    /* The server holds less than it once acknowledged (restored from a
     * backup): send again from what it holds. */
    if (server_acked >= 0 && server_acked < p->acked) {
        int rc = qk_engine_rewind_acked(p->e, server_acked);
        if (rc != QK_OK)
            return engine_fail(p, rc, msg, n);
        p->r->rewound_from = p->acked;
        p->acked = server_acked;
    }
    p->start = p->acked;
    p->total = p->last - p->acked;
    p->reported = 1;
    return next_batch(p, req, msg, n);
}

/* A batch's acknowledgement. */
static int on_events(qk_push *p, const json_t *reply, qk_push_req *req, char *msg, size_t n)
{
    qk_push_result *r = p->r;
    r->batches++;
    r->sent += (int64_t)p->count;
    json_t *na = json_object_get(reply, "acked_seq");
    json_int_t now_acked = json_is_integer(na) ? json_integer_value(na) : -1;
    r->conflicts += (int64_t)json_array_size(json_object_get(reply, "conflicts"));
    if (now_acked > p->acked && now_acked <= p->last) {
        int rc = qk_engine_set_acked(p->e, now_acked);
        if (rc != QK_OK)
            return engine_fail(p, rc, msg, n);
        p->acked = now_acked;
    } else if (now_acked >= 0 && now_acked < p->acked && !r->rewound_from) {
        /* the server lost events while we were sending (restored under us):
         * once, back to what it holds */
        int rc = qk_engine_rewind_acked(p->e, now_acked);
        if (rc != QK_OK)
            return engine_fail(p, rc, msg, n);
        r->rewound_from = p->acked;
        p->acked = now_acked;
        return next_batch(p, req, msg, n);
    }
    p->reported = 1;
    if (p->acked < p->upto) {
        /* The server did not take the batch in full (conflicts): sending it
         * again would not help. */
        qk__ymsgf(p->lang, msg, n, QK_Y_CONFLICTS, (long long)(r->conflicts ? r->conflicts : 1));
        r->acked_seq = p->acked;
        r->pending = p->last - p->acked;
        p->st = ST_DONE;
        return QK_EEXISTS;
    }
    return next_batch(p, req, msg, n);
}

int qk__push_next(qk_push *p, const json_t *reply, qk_push_req *req, char *msg, size_t n)
{
    memset(req, 0, sizeof *req);
    switch (p->st) {
    case ST_ASK: {
        int rc = qk_engine_sync_state(p->e, &p->acked, &p->last);
        if (rc != QK_OK)
            return engine_fail(p, rc, msg, n);
        req->method = "GET";
        req->path = "/api/v1/device";
        p->st = ST_DEVICE;
        return QK_ROW;
    }
    case ST_DEVICE:
        return on_device(p, reply, req, msg, n);
    case ST_EVENTS:
        return on_events(p, reply, req, msg, n);
    case ST_DONE:
        break;
    }
    qk__ymsgf(p->lang, msg, n, QK_Y_BAD_REPLY);
    return QK_EINVAL;
}

/* --- enrolment --- */

json_t *qk__enrol_body(qk_engine *e, const char *code, const char *name, const qk_key *device_key)
{
    char *pem = NULL;
    unsigned char digest[32], sig[QK_KEY_SIG_MAX];
    char proof[2 * QK_KEY_SIG_MAX + 1];
    size_t sl = 0;
    if (qk_key_public_pem(device_key, &pem) != QK_OK)
        return NULL;
    /* proof that this device holds its key (qk_enrol) */
    qk__enrol_digest(digest, code, qk_engine_device_id(e), pem);
    json_t *body = NULL;
    if (qk_key_sign(device_key, digest, sig, &sl) == QK_OK) {
        qk__hex(proof, sig, sl);
        body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", code, "device_id",
                         qk_engine_device_id(e), "name", name ? name : "", "public_key", pem, "proof",
                         proof);
    }
    free(pem);
    return body;
}

int qk__enrol_reply(const json_t *reply, qk_engine *e, qk_client_conf *conf, qk_lang lang, char *msg,
                    size_t n)
{
    const char *token = json_string_value(json_object_get(reply, "token"));
    const char *branch = json_string_value(json_object_get(reply, "branch"));
    if (!token || !branch || strlen(token) >= sizeof conf->token) {
        qk__ymsgf(lang, msg, n, QK_Y_BAD_REPLY);
        return QK_EIO;
    }
    snprintf(conf->token, sizeof conf->token, "%s", token);
    snprintf(conf->branch, sizeof conf->branch, "%s", branch);
    const char *bname = json_string_value(json_object_get(reply, "branch_name"));
    snprintf(conf->branch_name, sizeof conf->branch_name, "%s", bname ? bname : "");
    /* the server's acknowledgement key, pinned at enrolment (DESIGN.md decision 13) */
    const char *skey = json_string_value(json_object_get(reply, "server_key"));
    snprintf(conf->server_key, sizeof conf->server_key, "%s",
             skey && strlen(skey) < sizeof conf->server_key ? skey : "");
    snprintf(conf->device_id, sizeof conf->device_id, "%s", qk_engine_device_id(e));
    conf->roster_cursor = 0;
    return QK_OK;
}

/* --- what both ends compute alike (sync_msg.h) --- */

/* What an acknowledgement's signature covers. */
void qk__ack_digest(unsigned char out[32], const char *device_id, int64_t acked)
{
    char text[128], hex[65];
    snprintf(text, sizeof text, "%s\n%s\n%lld", QK_ACK_FORMAT, device_id, (long long)acked);
    qk_sha256_hex(hex, text, strlen(text));
    qk__unhex(out, 32, hex);
}

int qk__code_norm(const char *code, char out[9])
{
    size_t n = 0;
    memset(out, 0, 9);
    for (const char *p = code ? code : ""; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        if (n == 8)
            return 0;
        out[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
    return n == 8;
}

void qk__enrol_digest(unsigned char out[32], const char *code, const char *device_id,
                      const char *pem)
{
    char norm[9];
    qk__code_norm(code, norm);
    size_t n = strlen(device_id) + strlen(pem) + 64;
    char *text = malloc(n), hex[65];
    if (!text) {
        memset(out, 0, 32); /* verifies against nothing */
        return;
    }
    snprintf(text, n, "quizkit-enrol-1\n%s\n%s\n%s", norm, device_id, pem);
    qk_sha256_hex(hex, text, strlen(text));
    qk__unhex(out, 32, hex);
    free(text);
}

void qk__roster_path(const qk_client_conf *conf, char *path, size_t n)
{
    snprintf(path, n, "/api/v1/roster?after=%lld", (long long)conf->roster_cursor);
}

int qk__roster_apply(const json_t *reply, qk_engine *e, qk_client_conf *conf, size_t *changed,
                     char *msg, size_t n)
{
    json_t *members = json_object_get(reply, "members");
    size_t i;
    json_t *m;
    json_array_foreach(members, i, m)
    {
        int rc = qk_member_apply(e, json_string_value(json_object_get(m, "id")),
                                 json_string_value(json_object_get(m, "name")),
                                 json_string_value(json_object_get(m, "branch")),
                                 json_string_value(json_object_get(m, "dept")),
                                 json_string_value(json_object_get(m, "pin_salt")),
                                 json_string_value(json_object_get(m, "pin_hash")),
                                 (int)json_integer_value(json_object_get(m, "pin_iter")));
        if (rc != QK_OK) {
            snprintf(msg, n, "%s", qk_engine_errmsg(e));
            return rc;
        }
        (*changed)++;
    }
    conf->roster_cursor = json_integer_value(json_object_get(reply, "cursor"));
    const char *bname = json_string_value(json_object_get(reply, "branch_name"));
    if (bname && bname[0]) /* renamed on the server: the next sync says so */
        snprintf(conf->branch_name, sizeof conf->branch_name, "%s", bname);
    return json_is_true(json_object_get(reply, "more")) ? QK_ROW : QK_OK;
}
