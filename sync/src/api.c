/* api.c: the central server's API v1 (docs/protocol.md): routing,
 * authentication and authorisation, and one handler per endpoint. Handlers
 * run in the HTTP layer's worker threads; each thread has its own store
 * connection. Every rule lives in admin.c or store.c, not here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "qk_stats.h"
#include "qk_server.h"
#include "request.h"
#include "store.h"
#include "sync_msg.h"
#include "writer.h"

#define SESSION_MS (12LL * 3600 * 1000)
#define THROTTLE_WINDOW_MS (15LL * 60 * 1000)
#define THROTTLE_MAX 10
#define ROSTER_PAGE 500
#define SMALL_BODY ((size_t)64 * 1024)
#define CHECKPOINT_MS 250
#define ROSTER_CSV_MAX ((size_t)4 * 1024 * 1024)

struct qk_server {
    qk_http *http;
    pthread_key_t key;
    /* the checkpointer: copies the store's write-ahead log back in the
     * background, every CHECKPOINT_MS, until stopping */
    pthread_t checkpointer;
    qk_store *checkpoint_store; /* its own connection */
    int has_checkpointer;
    int stop_pipe[2]; /* written to stop it */
    qk__writer *writer; /* devices' batches, in group commits (writer.c) */
    char *db, *trust, *web, *chartjs, *app;
    qk_lang lang;
    qk_clock clock;
};

#ifndef QK_APP_DIR
#define QK_APP_DIR "/usr/share/quizkit/app"
#endif
#ifndef QK_WEB_DIR
#define QK_WEB_DIR "/usr/share/quizkit/web"
#endif
#define CHARTJS_DEFAULT "/usr/share/javascript/chart.js/chart.min.js"

typedef enum { WHO_NONE, WHO_DEVICE, WHO_USER } who_kind;

/* One request as the handlers see it. */
typedef struct call {
    qk_server *srv;
    qk_store *s;
    qk_http_req *rq;
    qk_http_resp *rs;
    qk_lang lang;
    who_kind who;
    qk_device_rec dev;
    qk_user user;
    const char *rest; /* the path after the route's prefix */
} call;

/* --- helpers --- */

static void close_store(void *p)
{
    qk_store_close(p);
}

static qk_store *thread_store(qk_server *srv, char *msg, size_t n)
{
    qk_store *s = pthread_getspecific(srv->key);
    if (s)
        return s;
    if (qk_store_open(&s, srv->db, srv->lang) != QK_OK) {
        snprintf(msg, n, "%s", qk_store_errmsg(s));
        qk_store_close(s);
        return NULL;
    }
    qk_store_use_clock(s, &srv->clock);
    if (srv->has_checkpointer)
        s->ops->checkpoint(s, 0); /* the checkpointer's work, not a request's */
    pthread_setspecific(srv->key, s);
    return s;
}

static void fail(call *c, int status, const char *code, const char *msg)
{
    qk_http_error(c->rs, status, code, msg);
}

static void failf(call *c, int status, const char *code, qk__ymsg id, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, id);
    qk__ymsgv(c->lang, buf, sizeof buf, id, ap);
    va_end(ap);
    fail(c, status, code, buf);
}

/* A request's value as an answer may quote it: UTF-8 text of at most max
 * bytes without control characters, else "…" (a reply must be valid UTF-8,
 * and says no more than it was told). */
static const char *shown_long(const char *v, size_t max)
{
    size_t n = strlen(v);
    int ok = n <= max && qk_text_valid(v, n);
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)v[i] >= 0x20 && v[i] != 0x7f;
    return ok ? v : "…";
}

static const char *shown(const char *v)
{
    return shown_long(v, 40);
}

/* Maps a store or admin failure to a status, with the store's message err
 * (where: the store's spec, which a reply does not name). */
static void fail_store(qk_http_resp *rs, qk_lang lang, int rc, const char *err, const char *where)
{
    static const struct {
        int rc, status;
        const char *code;
    } map[] = {{QK_EINVAL, 400, "bad_request"}, {QK_ENOTFOUND, 404, "not_found"},
               {QK_EEXISTS, 409, "conflict"},   {QK_EPERM, 403, "forbidden"},
               {QK_ETIMEOUT, 410, "expired"},   {QK_ESTATE, 409, "used"},
               {QK_EDIGEST, 422, "bad_bundle"}, {QK_ECORRUPT, 422, "bad_bundle"},
               {QK_EUNSIGNED, 422, "untrusted"}, {QK_EUNTRUSTED, 422, "untrusted"},
               {QK_ESIGNATURE, 422, "bad_signature"}, {QK_ELIMIT, 413, "too_large"},
               {QK_EAUTH, 403, "wrong_member"}};
    char msg[600];
    const char *at = where && *where ? strstr(err, where) : NULL;
    if (at)
        snprintf(msg, sizeof msg, "%.*s%s%s", (int)(at - err), err,
                 lang == QK_LANG_EN ? "(the server's database)" : "（服务器数据库）", at + strlen(where));
    else
        snprintf(msg, sizeof msg, "%s", err);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].rc == rc) {
            qk_http_error(rs, map[i].status, map[i].code, msg);
            return;
        }
    }
    qk_http_error(rs, 500, "server_error", msg);
}

static void fail_rc(call *c, int rc)
{
    fail_store(c->rs, c->lang, rc, qk_store_errmsg(c->s), c->s->where);
}

static void ok(call *c, int status, json_t *body)
{
    qk_http_json(c->rs, status, body);
}

static int method(const call *c, const char *m)
{
    return strcmp(c->rq->method, m) == 0;
}

/* The request body as sent, gunzipped when Content-Encoding says gzip (*plain
 * then holds it; caller frees). 0, or -1 after answering. */
static int plain_body(call *c, const char **body, size_t *len, char **plain)
{
    const char *enc = qk_http_header(c->rq, "Content-Encoding");
    *body = c->rq->body;
    *len = c->rq->body_len;
    *plain = NULL;
    if (enc && strcmp(enc, "gzip") == 0) {
        int rc = qk__gunzip(*body, *len, QK_BATCH_MAX_BYTES, plain, len);
        if (rc == QK_ELIMIT) {
            fail(c, 413, "too_large", "the inflated body is larger than 1 MiB");
            return -1;
        }
        if (rc != QK_OK) {
            failf(c, 400, "bad_gzip", QK_Y_API_GZIP);
            return -1;
        }
        *body = *plain;
    } else if (enc && strcmp(enc, "identity") != 0) {
        fail(c, 415, "unsupported_encoding", "Content-Encoding must be gzip or identity");
        return -1;
    }
    return 0;
}

/* The request's JSON object; NULL after answering. */
static json_t *body_json(call *c)
{
    char why[600];
    const char *body;
    size_t len;
    char *plain;
    if (plain_body(c, &body, &len, &plain))
        return NULL;
    json_t *j = qk__parse_json(body, len, c->lang, why, sizeof why);
    free(plain);
    if (!j)
        fail(c, 400, "bad_json", why);
    return j;
}

/* A string field (NULL after answering 400 when required and absent). */
static const char *field(call *c, json_t *o, const char *name, int required)
{
    json_t *v = json_object_get(o, name);
    if (json_is_string(v))
        return json_string_value(v);
    if (required || (v && !json_is_null(v))) {
        failf(c, 400, "bad_field", QK_Y_API_FIELD, name);
        return NULL;
    }
    return "";
}

static int need_user(call *c, int admin_only)
{
    if (c->who != WHO_USER) {
        failf(c, c->who == WHO_NONE ? 401 : 403, c->who == WHO_NONE ? "unauthorized" : "forbidden",
              c->who == WHO_NONE ? QK_Y_API_AUTH : QK_Y_API_FORBIDDEN,
              c->lang == QK_LANG_EN ? "leaders and admins only" : "仅限支部书记和管理员");
        return 0;
    }
    if (admin_only && strcmp(c->user.role, "admin") != 0) {
        failf(c, 403, "forbidden", QK_Y_API_FORBIDDEN,
              c->lang == QK_LANG_EN ? "admins only" : "仅限管理员");
        return 0;
    }
    return 1;
}

static int is_admin(const call *c)
{
    return c->who == WHO_USER && strcmp(c->user.role, "admin") == 0;
}

/* The branch a leader's request is about: their own; an admin names one. */
static const char *branch_for(call *c, const char *asked)
{
    if (is_admin(c))
        return asked && *asked ? asked : NULL;
    if (asked && *asked && strcmp(asked, c->user.branch) != 0) {
        char what[200];
        snprintf(what, sizeof what,
                 c->lang == QK_LANG_EN ? "you manage branch \"%s\" only" : "你只能管理支部“%s”",
                 c->user.branch);
        failf(c, 403, "forbidden", QK_Y_API_FORBIDDEN, what);
        return NULL;
    }
    return c->user.branch;
}

static int need_device(call *c)
{
    if (c->who == WHO_DEVICE)
        return 1;
    failf(c, c->who == WHO_NONE ? 401 : 403, c->who == WHO_NONE ? "unauthorized" : "forbidden",
          c->who == WHO_NONE ? QK_Y_API_AUTH : QK_Y_API_FORBIDDEN,
          c->lang == QK_LANG_EN ? "enrolled devices only" : "仅限已注册的设备");
    return 0;
}

/* Failures counted under keys: "WHAT:addr:ADDRESS", "WHAT:account:NAME" for
 * an account (a user, a phone's member), "WHAT:code:CODE" for an enrolment
 * code. */
static int failures(call *c, const char *what, const char *kind, const char *name, int add)
{
    char key[200];
    int n = 0;
    snprintf(key, sizeof key, "%s:%s:%s", what, kind, name);
    return c->s->ops->throttle(c->s, key, qk__store_now(c->s), THROTTLE_WINDOW_MS, add, &n) == QK_OK ? n : 0;
}

/* 1 (and the 429 said) when the address, the account or the code (NULL:
 * none) is over the limit of failures. */
static int throttled(call *c, const char *what, const char *account, const char *code)
{
    int worst = failures(c, what, "addr", c->rq->addr, 0);
    int n = account ? failures(c, what, "account", account, 0) : 0;
    worst = n > worst ? n : worst;
    n = code ? failures(c, what, "code", code, 0) : 0;
    worst = n > worst ? n : worst;
    if (worst < THROTTLE_MAX)
        return 0;
    char secs[16];
    snprintf(secs, sizeof secs, "%lld", THROTTLE_WINDOW_MS / 1000);
    failf(c, 429, "rate_limited", QK_Y_API_THROTTLED, (int)(THROTTLE_WINDOW_MS / 60000));
    qk_http_add_header(c->rs, "Retry-After", secs);
    return 1;
}

/* One failure more: against the address (by_addr), the account and the code
 * given. */
static void count_failure(call *c, const char *what, int by_addr, const char *account, const char *code)
{
    if (by_addr)
        failures(c, what, "addr", c->rq->addr, 1);
    if (account)
        failures(c, what, "account", account, 1);
    if (code)
        failures(c, what, "code", code, 1);
}

static void authenticate(call *c)
{
    const char *h = qk_http_header(c->rq, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return;
    const char *tok = h + 7;
    char hash[65];
    qk_sha256_hex(hash, tok, strlen(tok));
    if (strncmp(tok, "s-", 2) == 0) {
        if (c->s->ops->token_user(c->s, hash, qk__store_now(c->s), &c->user) == QK_OK) {
            c->who = WHO_USER;
            snprintf(c->rq->who, sizeof c->rq->who, "user:%s", c->user.name);
        }
    } else if (c->s->ops->device_auth(c->s, hash, &c->dev) == QK_OK && !c->dev.revoked) {
        c->who = WHO_DEVICE;
        snprintf(c->rq->who, sizeof c->rq->who, "device:%s", c->dev.id);
    }
}

/* --- handlers --- */

static void h_time(call *c)
{
    ok(c, 200, json_pack("{s:I, s:f, s:i}", "server_ms", (json_int_t)qk__store_now(c->s),
                         "clock_rate", qk_clock_rate(&c->srv->clock), "api", 1));
}

static void h_login(call *c)
{
    json_t *j = body_json(c);
    const char *user = j ? field(c, j, "user", 1) : NULL;
    const char *pw = user ? field(c, j, "password", 1) : NULL;
    if (pw && !throttled(c, "login", user, NULL)) {
        qk_user u;
        if (!qk_admin_login(c->s, user, pw, &u)) {
            count_failure(c, "login", 1, user, NULL);
            failf(c, 401, "wrong_login", QK_Y_API_LOGIN);
        } else {
            char raw[65], token[68], hash[65];
            unsigned char rnd[32];
            qk_rng *rng = NULL;
            int rc = qk_rng_new_random(&rng);
            if (rc == QK_OK)
                rc = qk_rng_bytes(rng, rnd, sizeof rnd);
            qk_rng_free(rng);
            qk__hex(raw, rnd, sizeof rnd);
            snprintf(token, sizeof token, "s-%s", raw);
            qk_sha256_hex(hash, token, strlen(token));
            int64_t exp = qk__store_now(c->s) + SESSION_MS;
            if (rc == QK_OK)
                rc = c->s->ops->token_put(c->s, hash, u.name, exp);
            if (rc != QK_OK)
                fail_rc(c, rc);
            else
                ok(c, 200, json_pack("{s:s, s:s, s:s, s:s?, s:I}", "token", token, "user", u.name,
                                     "role", u.role, "branch", u.branch[0] ? u.branch : NULL,
                                     "expires_ms", (json_int_t)exp));
        }
    }
    json_decref(j);
}

static void h_branches(call *c)
{
    if (!need_user(c, method(c, "POST")))
        return;
    if (method(c, "GET")) {
        json_t *all = NULL;
        int rc = qk_admin_branches(c->s, &all);
        if (rc != QK_OK)
            return fail_rc(c, rc);
        json_t *mine = json_array();
        size_t i;
        json_t *b;
        json_array_foreach(all, i, b)
        {
            if (is_admin(c) || strcmp(json_string_value(json_object_get(b, "id")), c->user.branch) == 0)
                json_array_append(mine, b);
        }
        json_decref(all);
        return ok(c, 200, json_pack("{s:o}", "branches", mine));
    }
    json_t *j = body_json(c);
    const char *id = j ? field(c, j, "id", 1) : NULL;
    const char *name = id ? field(c, j, "name", 1) : NULL;
    int rc;
    if (name && (rc = qk_admin_branch_add(c->s, id, name)) != QK_OK)
        fail_rc(c, rc);
    else if (name)
        ok(c, 201, json_pack("{s:s, s:s}", "id", id, "name", name));
    json_decref(j);
}

static void h_users(call *c)
{
    if (!need_user(c, 1))
        return;
    json_t *j = body_json(c);
    const char *name = j ? field(c, j, "name", 1) : NULL;
    const char *role = name ? field(c, j, "role", 1) : NULL;
    const char *branch = role ? field(c, j, "branch", 0) : NULL;
    const char *pw = branch ? field(c, j, "password", 1) : NULL;
    int rc;
    if (pw && (rc = qk_admin_user_add(c->s, name, role, *branch ? branch : NULL, pw)) != QK_OK)
        fail_rc(c, rc);
    else if (pw)
        ok(c, 201, json_pack("{s:s, s:s, s:s?}", "name", name, "role", role, "branch",
                             *branch ? branch : NULL));
    json_decref(j);
}

static void h_members(call *c)
{
    if (!need_user(c, 0))
        return;
    if (method(c, "GET")) {
        const char *branch = branch_for(c, qk_http_query(c->rq, "branch"));
        if (!branch && !is_admin(c))
            return;
        if (!branch)
            return failf(c, 400, "bad_field", QK_Y_API_FIELD, "branch");
        json_t *rows = NULL;
        int64_t cursor = 0;
        int rc = c->s->ops->roster(c->s, branch, NULL, 0, 100000, &rows, &cursor);
        if (rc != QK_OK)
            return fail_rc(c, rc);
        size_t i;
        json_t *m;
        json_array_foreach(rows, i, m)
        {
            json_object_del(m, "pin_salt");
            json_object_del(m, "pin_hash");
            json_object_del(m, "pin_iter");
            json_object_del(m, "cursor");
        }
        return ok(c, 200, json_pack("{s:o}", "members", rows));
    }
    json_t *j = body_json(c);
    const char *id = j ? field(c, j, "id", 1) : NULL;
    const char *name = id ? field(c, j, "name", 1) : NULL;
    const char *asked = name ? field(c, j, "branch", 0) : NULL;
    const char *dept = asked ? field(c, j, "dept", 0) : NULL;
    const char *pin = dept ? field(c, j, "pin", 1) : NULL;
    const char *branch = pin ? branch_for(c, asked) : NULL;
    if (pin && !branch && is_admin(c))
        failf(c, 400, "bad_field", QK_Y_API_FIELD, "branch");
    if (branch) {
        qk_roster_member m = {0};
        snprintf(m.id, sizeof m.id, "%s", id);
        snprintf(m.name, sizeof m.name, "%s", name);
        snprintf(m.branch, sizeof m.branch, "%s", branch);
        snprintf(m.dept, sizeof m.dept, "%s", dept);
        int rc = qk_admin_member_put(c->s, &m, pin, is_admin(c) ? NULL : c->user.branch);
        if (rc != QK_OK)
            fail_rc(c, rc);
        else
            ok(c, 201, json_pack("{s:s, s:s, s:s}", "id", id, "name", name, "branch", branch));
    }
    json_decref(j);
}

static void h_members_import(call *c)
{
    if (!need_user(c, 0))
        return;
    const char *asked = qk_http_query(c->rq, "branch");
    const char *branch = branch_for(c, asked);
    if (!branch && !is_admin(c))
        return;
    size_t added = 0;
    int rc = qk_admin_roster_import(c->s, c->rq->body ? c->rq->body : "", c->rq->body_len,
                                    "roster.csv", branch, is_admin(c) ? NULL : c->user.branch,
                                    &added);
    if (rc != QK_OK)
        return fail_rc(c, rc);
    ok(c, 200, json_pack("{s:I}", "imported", (json_int_t)added));
}

/* Every branch's name by id ({"b1": "第一党支部", ...}; ids without a name
 * left out); a new object, NULL when the store cannot say. */
static json_t *branch_names(call *c)
{
    json_t *all = NULL, *names = NULL;
    if (qk_admin_branches(c->s, &all) == QK_OK && (names = json_object())) {
        size_t i;
        json_t *b;
        json_array_foreach(all, i, b)
        {
            const char *bid = json_string_value(json_object_get(b, "id"));
            const char *bname = json_string_value(json_object_get(b, "name"));
            if (bid && bname && bname[0])
                json_object_set_new(names, bid, json_string(bname));
        }
    }
    json_decref(all);
    return names;
}

/* A branch's name for people (the id where it has none); a new string. */
static json_t *branch_name(call *c, const char *id)
{
    json_t *names = id ? branch_names(c) : NULL;
    const char *name = json_string_value(json_object_get(names, id ? id : ""));
    json_t *out = json_string(name ? name : id ? id : "");
    json_decref(names);
    return out;
}

static void h_codes(call *c)
{
    if (!need_user(c, 0))
        return;
    json_t *j = body_json(c);
    const char *asked = j ? field(c, j, "branch", 0) : NULL;
    const char *branch = asked ? branch_for(c, asked) : NULL;
    json_t *ttl = j ? json_object_get(j, "ttl_s") : NULL;
    json_int_t ttl_s = ttl ? json_integer_value(ttl) : (json_int_t)24 * 3600;
    /* "shared" (the default: a kiosk, `quizkit enroll`) or "phone" */
    json_t *kj = j ? json_object_get(j, "kind") : NULL;
    const char *kind = kj ? json_string_value(kj) : "shared";
    int k = kind && strcmp(kind, "phone") == 0 ? QK_CODE_PHONE
            : kind && strcmp(kind, "shared") == 0 ? QK_CODE_SHARED
                                                  : -1;
    if (asked && !branch && is_admin(c)) {
        failf(c, 400, "bad_field", QK_Y_API_FIELD, "branch");
    } else if (branch && ((ttl && !json_is_integer(ttl)) || ttl_s < 60 ||
                          ttl_s > (json_int_t)30 * 24 * 3600)) {
        failf(c, 400, "bad_field", QK_Y_API_FIELD, "ttl_s (60..2592000)");
    } else if (branch && k < 0) {
        failf(c, 400, "bad_field", QK_Y_API_FIELD, "kind (shared, phone)");
    } else if (branch) {
        char code[QK_CODE_LEN + 1];
        int64_t exp = 0;
        int rc = qk_admin_code_new(c->s, branch, c->user.name, ttl_s * 1000, k, code, &exp);
        if (rc != QK_OK)
            fail_rc(c, rc);
        else
            ok(c, 201, json_pack("{s:s, s:s, s:o, s:I, s:s}", "code", code, "branch", branch,
                                 "branch_name", branch_name(c, branch), "expires_ms", (json_int_t)exp,
                                 "kind", k == QK_CODE_PHONE ? "phone" : "shared"));
    }
    json_decref(j);
}

/* The throttle's key for a phone's member: the id in lower case (ids compare
 * without regard to case), NULL for a shared device. */
static const char *member_key(const char *member, char out[QK_NAME_MAX + 8])
{
    if (!member || !*member)
        return NULL;
    size_t n = 0;
    for (; member[n] && n < QK_NAME_MAX; n++)
        out[n] = (char)(member[n] >= 'A' && member[n] <= 'Z' ? member[n] + 32 : member[n]);
    out[n] = '\0';
    return out;
}

/* The throttle's key for an enrolment code: the SHA-256 of the code as codes
 * are compared (qk__code_norm; a code that still works is never kept in
 * clear, as enrol_codes keeps only its hash), NULL when it is none. */
static const char *code_key(const char *code, char out[65])
{
    char norm[9];
    if (!code || !qk__code_norm(code, norm))
        return NULL;
    qk_sha256_hex(out, norm, 8);
    return out;
}

static void h_enroll(call *c)
{
    char acct[QK_NAME_MAX + 8], ckey[65];
    json_t *j = body_json(c);
    const char *code = j ? field(c, j, "code", 1) : NULL;
    const char *dev = code ? field(c, j, "device_id", 1) : NULL;
    const char *name = dev ? field(c, j, "name", 0) : NULL;
    const char *pem = name ? field(c, j, "public_key", 1) : NULL;
    const char *proof = pem ? field(c, j, "proof", 1) : NULL;
    if (!proof)
        pem = NULL;
    /* a member's own phone names its member and their PIN (both optional) */
    const char *member = pem ? field(c, j, "member", 0) : NULL;
    const char *pin = member ? field(c, j, "pin", 0) : NULL;
    if (!pin)
        pem = NULL; /* (either was not a string: said) */
    qk_key *k = NULL;
    if (pem && !qk_uuid_is_v7(dev)) {
        failf(c, 400, "bad_field", QK_Y_API_FIELD, "device_id");
    } else if (pem && (strlen(name) > QK_NAME_MAX || !qk_text_valid(name, strlen(name)))) {
        failf(c, 400, "bad_field", QK_Y_API_FIELD, "name");
    } else if (pem && qk_key_from_pem(&k, pem) != QK_OK) {
        failf(c, 400, "bad_field", QK_Y_API_FIELD, "public_key");
    } else if (pem && !throttled(c, "enrol", member_key(member, acct), code_key(code, ckey))) {
        char token[65], branch[QK_NAME_MAX + 1];
        int rc = qk_enrol_member(c->s, code, dev, name, pem, proof, member && *member ? member : NULL,
                                 member && *member ? (pin ? pin : "") : NULL, token, branch);
        /* A code that does not work, or a proof that does not hold, counts
         * against the address (codes guessed from one address). A wrong
         * member or PIN (the code worked) counts against the member and the
         * code, not the address: a member's PIN guessed from many addresses,
         * or many members' PINs tried with one code, meet the limit, while
         * the phones of a station, behind one address, do not lock one
         * another out for their members' typos. */
        if (rc == QK_ENOTFOUND || rc == QK_ETIMEOUT || rc == QK_ESTATE || rc == QK_ESIGNATURE)
            count_failure(c, "enrol", 1, NULL, NULL);
        else if (rc == QK_EAUTH)
            count_failure(c, "enrol", 0, member_key(member, acct), code_key(code, ckey));
        if (rc != QK_OK) {
            fail_rc(c, rc);
        } else {
            snprintf(c->rq->who, sizeof c->rq->who, "device:%s", dev);
            /* the key its USB acknowledgements will carry: pinned now */
            qk_key *sk = NULL;
            char *spem = NULL;
            if (qk_admin_server_key(c->s, &sk) == QK_OK)
                qk_key_public_pem(sk, &spem);
            ok(c, 201, json_pack("{s:s, s:s, s:s, s:o, s:s?, s:s?}", "device_id", dev, "token", token,
                                 "branch", branch, "branch_name", branch_name(c, branch), "server_key",
                                 spem, "server_key_id", sk ? qk_key_id(sk) : NULL));
            free(spem);
            qk_key_free(sk);
        }
    }
    qk_key_free(k);
    json_decref(j);
}

static void h_devices(call *c)
{
    if (!need_user(c, 0))
        return;
    if (method(c, "GET")) {
        const char *branch = branch_for(c, qk_http_query(c->rq, "branch"));
        if (!branch && !is_admin(c))
            return;
        json_t *rows = NULL;
        int rc = qk_admin_devices(c->s, branch, &rows);
        return rc == QK_OK ? ok(c, 200, json_pack("{s:o}", "devices", rows)) : fail_rc(c, rc);
    }
    /* POST /devices/{id}/revoke */
    char id[QK_UUID_STRLEN + 1];
    const char *slash = strchr(c->rest, '/');
    if (!slash || strcmp(slash, "/revoke") != 0 || (size_t)(slash - c->rest) > QK_UUID_STRLEN)
        return failf(c, 404, "not_found", QK_Y_API_NOT_FOUND, c->rq->method, c->rq->path);
    snprintf(id, sizeof id, "%.*s", (int)(slash - c->rest), c->rest);
    qk_device_rec d;
    int rc = c->s->ops->device_get(c->s, id, &d);
    if (rc == QK_OK && !is_admin(c) && strcmp(d.branch, c->user.branch) != 0)
        rc = QK_ENOTFOUND; /* another branch's devices do not exist for a leader */
    if (rc == QK_OK)
        rc = qk_admin_device_revoke(c->s, id);
    else
        qk__ymsgf(c->lang, c->s->err, sizeof c->s->err, QK_Y_NOT_FOUND,
                  c->lang == QK_LANG_EN ? "device" : "设备", id);
    if (rc != QK_OK)
        return fail_rc(c, rc);
    ok(c, 200, json_pack("{s:s, s:b}", "device_id", id, "revoked", 1));
}

/* The reply to a batch: what the store made of it. */
static void events_reply(qk_http_resp *rs, qk_lang lang, const qk_import_result *r, json_t *conflicts)
{
    json_t *gaps = json_array();
    for (size_t g = 0; g < r->n_gaps; g++)
        json_array_append_new(gaps, json_pack("[I, I]", (json_int_t)r->gaps[g][0],
                                              (json_int_t)r->gaps[g][1]));
    json_t *conf = json_array();
    size_t i;
    json_t *id;
    char cmsg[200];
    qk__ymsgf(lang, cmsg, sizeof cmsg, QK_Y_API_CONFLICT);
    json_array_foreach(conflicts, i, id)
    {
        json_array_append_new(conf, json_pack("{s:O, s:i, s:s}", "id", id, "status", 409, "error",
                                              cmsg));
    }
    qk_http_json(rs, 200, json_pack("{s:I, s:I, s:I, s:o, s:I, s:o, s:I, s:I, s:I, s:I}", "received",
                                    (json_int_t)r->received, "inserted", (json_int_t)r->inserted,
                                    "duplicates", (json_int_t)r->duplicates, "conflicts", conf,
                                    "acked_seq", (json_int_t)r->acked_seq, "gaps", gaps, "rescored",
                                    (json_int_t)r->rescored, "mismatches", (json_int_t)r->mismatches,
                                    "unscored", (json_int_t)r->unscored, "apart", (json_int_t)r->apart));
}

/* A batch on its way through the writer, answered from the writer's thread
 * once its transaction is on disk: the worker thread that read it serves
 * its other connections meanwhile (with four workers and twenty devices,
 * a device's next batch waited behind four others' turns in the writer). */
typedef struct upload {
    qk_http_later *later;
    json_t *events, *conflicts;
    qk_import_result r;
    qk_lang lang;
    const char *where;
    char device[QK_UUID_STRLEN + 1];
    char err[512];
} upload;

static void upload_free(upload *u)
{
    json_decref(u->events);
    json_decref(u->conflicts);
    free(u);
}

static void upload_done(void *arg, int rc)
{
    upload *u = arg;
    qk_http_resp rs = {.status = 500, .fd = -1};
    if (rc != QK_OK)
        fail_store(&rs, u->lang, rc, u->err, u->where);
    else
        events_reply(&rs, u->lang, &u->r, u->conflicts);
    qk_http_answer(u->later, &rs);
    upload_free(u);
}

static void h_events(call *c)
{
    if (!need_device(c))
        return;
    char why[600];
    const char *body;
    size_t len;
    char *plain;
    if (plain_body(c, &body, &len, &plain))
        return;
    int forbidden = 0;
    json_t *events = qk__parse_upload(body, len, c->dev.id, c->lang, why, sizeof why, &forbidden);
    free(plain);
    if (!events)
        return fail(c, forbidden ? 403 : 400, forbidden ? "forbidden" : "bad_event", why);
    json_t *conflicts = json_array();
    qk_http_later *later = c->srv->writer ? qk_http_defer(c->rq) : NULL;
    if (later) {
        upload *u = calloc(1, sizeof *u);
        if (u) {
            *u = (upload){.later = later, .events = events, .conflicts = conflicts, .lang = c->lang,
                          .where = c->s->where};
            snprintf(u->device, sizeof u->device, "%s", c->dev.id);
        }
        if (!u || qk__writer_submit(c->srv->writer, u->device, events, c->lang, &u->r, conflicts, u->err,
                                    sizeof u->err, upload_done, u) != QK_OK) {
            qk_http_resp rs = {.status = 500, .fd = -1};
            qk_http_error(&rs, 500, "server_error", "out of memory");
            qk_http_answer(later, &rs);
            if (u)
                upload_free(u);
            else {
                json_decref(events);
                json_decref(conflicts);
            }
        }
        return;
    }
    /* Answered here (the server is stopping, or many replies wait): the
     * worker waits for the writer, as a full queue's back-pressure. */
    qk_import_result r;
    int rc = c->srv->writer ? qk__writer_ingest(c->srv->writer, c->dev.id, events, c->lang, &r, conflicts,
                                                c->s->err, sizeof c->s->err)
                            : qk__store_ingest(c->s, c->dev.id, NULL, events, &r, conflicts);
    json_decref(events);
    if (rc != QK_OK)
        fail_rc(c, rc);
    else
        events_reply(c->rs, c->lang, &r, conflicts);
    json_decref(conflicts);
}

static void h_device(call *c)
{
    if (!need_device(c))
        return;
    ok(c, 200, json_pack("{s:s, s:s, s:s, s:I, s:I}", "device_id", c->dev.id, "branch",
                         c->dev.branch, "name", c->dev.name, "acked_seq",
                         (json_int_t)c->dev.acked_seq, "server_ms", (json_int_t)qk__store_now(c->s)));
}

/* GET /keys: the keys this server trusts for bundles, for the phones' app
 * (which holds no key of its own to check the bundles it downloads). */
static void h_keys(call *c)
{
    if (!need_device(c))
        return;
    json_t *rows = NULL;
    int rc = qk_admin_trusted_keys(c->srv->trust, &rows);
    rc == QK_OK ? ok(c, 200, json_pack("{s:o}", "keys", rows)) : fail(c, 500, "server_error", qk_strerror(rc, c->lang));
}

static void h_roster(call *c)
{
    if (!need_device(c))
        return;
    const char *after_s = qk_http_query(c->rq, "after");
    char *end = NULL;
    long long after = after_s ? strtoll(after_s, &end, 10) : 0;
    if (after_s && (!*after_s || *end || after < 0))
        return failf(c, 400, "bad_field", QK_Y_API_FIELD, "after");
    json_t *rows = NULL;
    int64_t cursor = 0;
    /* a member's own phone: that member's row alone (no other PIN hash; an id
     * that differs from it only in case is another member's) */
    int rc = c->s->ops->roster(c->s, c->dev.branch, c->dev.member[0] ? c->dev.member : NULL, after,
                               ROSTER_PAGE, &rows, &cursor);
    if (rc != QK_OK)
        return fail_rc(c, rc);
    for (size_t k = json_array_size(rows); c->dev.member[0] && k-- > 0;) {
        if (strcmp(json_string_value(json_object_get(json_array_get(rows, k), "id")), c->dev.member) != 0)
            json_array_remove(rows, k);
    }
    size_t n = json_array_size(rows);
    size_t i;
    json_t *m;
    json_array_foreach(rows, i, m) json_object_del(m, "cursor");
    ok(c, 200, json_pack("{s:o, s:I, s:b, s:o}", "members", rows, "cursor", (json_int_t)cursor, "more",
                         n == ROSTER_PAGE, "branch_name", branch_name(c, c->dev.branch)));
}

static void h_bundle_publish(call *c)
{
    if (!need_user(c, 0))
        return;
    /* the file's name as the uploader gave it (?name=), for the messages
     * alone: plain text without a folder, else "upload.qkb" */
    const char *name = qk_http_query(c->rq, "name");
    int plain = name && name[0] && shown_long(name, 120) == name && !strpbrk(name, "/\\");
    qk_published p;
    int rc = qk__admin_bundle_publish_bytes(c->s, c->rq->body ? c->rq->body : "", c->rq->body_len,
                                            plain ? name : "upload.qkb", c->srv->trust, c->user.name, &p);
    if (rc != QK_OK)
        return fail_rc(c, rc);
    /* the same file again: 200 and already_published, with when and by whom */
    ok(c, p.already ? 200 : 201,
       json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:I, s:s}", "id", p.id, "version", p.version, "sha256",
                 p.sha256, "key_id", p.key_id, "size", (json_int_t)p.size, "rescored", (json_int_t)p.rescored,
                 "already_published", p.already, "published_ms", (json_int_t)p.published_ms, "published_by",
                 p.by));
}

/* A bundle's bytes from the store as a reply takes them (qk_http_resp.read),
 * on the worker thread's own connection. */
typedef struct bundle_reader {
    qk_server *srv;
    char id[QK_NAME_MAX + 1], version[QK_NAME_MAX + 1];
    uint64_t from, len; /* the reply: its first byte in the bundle, its length */
} bundle_reader;

static long read_bundle(void *arg, uint64_t pos, char *buf, size_t max)
{
    bundle_reader *rd = arg;
    char msg[256];
    qk_store *s = thread_store(rd->srv, msg, sizeof msg);
    if (!s || pos >= rd->len)
        return QK_HTTP_READ_ERROR;
    size_t n = rd->len - pos < max ? (size_t)(rd->len - pos) : max;
    if (n > LONG_MAX)
        n = LONG_MAX;
    return s->ops->bundle_read(s, rd->id, rd->version, (int64_t)(rd->from + pos), buf, n) == QK_OK
               ? (long)n
               : QK_HTTP_READ_ERROR;
}

/* GET /bundles/{id}[/{version}]: the file, with ETag and Range. */
static void h_bundle_get(call *c)
{
    char id[QK_NAME_MAX + 1], version[QK_NAME_MAX + 1] = "";
    const char *slash = strchr(c->rest, '/');
    size_t idlen = slash ? (size_t)(slash - c->rest) : strlen(c->rest);
    if (idlen == 0 || idlen > QK_NAME_MAX || (slash && strlen(slash + 1) > QK_NAME_MAX))
        return failf(c, 404, "not_found", QK_Y_API_NOT_FOUND, c->rq->method, c->rq->path);
    snprintf(id, sizeof id, "%.*s", (int)idlen, c->rest);
    if (slash)
        snprintf(version, sizeof version, "%s", slash + 1);
    /* never a path from the request: ids and versions by the one id rule */
    if (!qk_id_valid(id, QK_BUNDLE_ID_MAX) ||
        (version[0] && !qk_id_valid(version, QK_BUNDLE_VERSION_MAX)))
        return failf(c, 404, "not_found", QK_Y_API_NOT_FOUND, c->rq->method, c->rq->path);
    qk_published p;
    int rc = c->s->ops->bundle_get(c->s, id, version[0] ? version : NULL, &p);
    if (rc != QK_OK) {
        qk__ymsgf(c->lang, c->s->err, sizeof c->s->err, QK_Y_NOT_FOUND,
                  c->lang == QK_LANG_EN ? "bundle" : "题库包", c->rest);
        return fail_rc(c, rc);
    }
    char etag[70];
    snprintf(etag, sizeof etag, "\"%s\"", p.sha256);
    qk_http_add_header(c->rs, "ETag", etag);
    qk_http_add_header(c->rs, "Accept-Ranges", "bytes");
    const char *inm = qk_http_header(c->rq, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        c->rs->status = 304;
        return;
    }
    uint64_t from = 0, to = (uint64_t)p.size - 1;
    const char *range = qk_http_header(c->rq, "Range");
    int partial = 0;
    if (range) {
        unsigned long long a = 0, b = to;
        char *e1 = NULL, *e2 = NULL;
        if (strncmp(range, "bytes=", 6) == 0) {
            a = strtoull(range + 6, &e1, 10);
            if (e1 && *e1 == '-') {
                if (e1[1])
                    b = strtoull(e1 + 1, &e2, 10);
                if ((e2 && *e2) || e1 == range + 6)
                    e1 = NULL;
            } else {
                e1 = NULL;
            }
        }
        if (!e1 || a > b || a >= (uint64_t)p.size) {
            char cr[64];
            snprintf(cr, sizeof cr, "bytes */%lld", (long long)p.size);
            failf(c, 416, "bad_range", QK_Y_API_RANGE);
            qk_http_add_header(c->rs, "Content-Range", cr);
            return;
        }
        from = a;
        to = b < (uint64_t)p.size ? b : (uint64_t)p.size - 1;
        partial = 1;
    }
    /* From the store, a piece at a time as the client takes it. */
    bundle_reader *rd = calloc(1, sizeof *rd);
    if (!rd)
        return fail(c, 500, "server_error", strerror(ENOMEM));
    rd->srv = c->srv;
    rd->from = from;
    rd->len = to - from + 1;
    snprintf(rd->id, sizeof rd->id, "%s", p.id);
    snprintf(rd->version, sizeof rd->version, "%s", p.version);
    c->rs->status = partial ? 206 : 200;
    c->rs->read = read_bundle;
    c->rs->read_free = free;
    c->rs->read_arg = rd;
    c->rs->read_len = to - from + 1;
    c->rs->type = "application/vnd.quizkit.bundle";
    if (partial) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%lld", (unsigned long long)from,
                 (unsigned long long)to, (long long)p.size);
        qk_http_add_header(c->rs, "Content-Range", cr);
    }
}

/* The bundle id (into id) a device should run when it has none yet (a new
 * phone), among those published (rows): the one a leader of its branch
 * published last, else the one its member last studied with; 0 when
 * neither is published (the app takes the newest of all). */
static int suggested_bundle(call *c, json_t *rows, char *id, size_t idn)
{
    char version[QK_NAME_MAX + 1];
    int found = c->s->ops->branch_bundle(c->s, c->dev.branch, id, idn) == QK_OK;
    if (!found && c->dev.member[0])
        found = c->s->ops->member_bundle(c->s, c->dev.member, id, idn, version, sizeof version) == QK_OK;
    if (!found)
        return 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *have = json_string_value(json_object_get(row, "id"));
        if (have && strcmp(have, id) == 0)
            return 1;
    }
    return 0;
}

static void h_bundles(call *c)
{
    if (c->who == WHO_NONE)
        return failf(c, 401, "unauthorized", QK_Y_API_AUTH);
    if (method(c, "POST"))
        return h_bundle_publish(c);
    if (*c->rest)
        return h_bundle_get(c);
    json_t *rows = NULL;
    int rc = c->s->ops->bundle_list(c->s, &rows);
    if (rc != QK_OK)
        return fail_rc(c, rc);
    char mine[QK_NAME_MAX + 1];
    json_t *out = json_pack("{s:o}", "bundles", rows);
    if (out && c->who == WHO_DEVICE && suggested_bundle(c, rows, mine, sizeof mine))
        json_object_set_new(out, "suggested", json_string(mine));
    ok(c, 200, out);
}

/* Calls fn with each published bundle, newest first, until it returns 1. */
static void each_published(call *c, int (*fn)(qk_bundle *b, void *arg), void *arg)
{
    json_t *list = NULL;
    if (c->s->ops->bundle_list(c->s, &list) != QK_OK)
        return;
    int done = 0;
    for (size_t i = json_array_size(list); !done && i > 0; i--) {
        json_t *b = json_array_get(list, i - 1);
        qk_bundle *bun = NULL;
        if (qk__store_bundle_open(c->s, json_string_value(json_object_get(b, "id")),
                                  json_string_value(json_object_get(b, "version")), &bun) == QK_OK)
            done = fn(bun, arg);
        qk_bundle_close(bun);
    }
    json_decref(list);
}

struct comp_find {
    const char *id;
    qk_competition **def;
};

static int competition_in(qk_bundle *b, void *arg)
{
    struct comp_find *f = arg;
    return qk_competition_get(b, f->id, f->def) == QK_OK && *f->def;
}

/* The definition of a competition: published on the server, or from the
 * newest published bundle that has it. */
/* The competition id as visible to a caller of branch (NULL: an admin, who
 * sees all): one published for every branch or for that one, or one in a
 * published bundle. Another branch's competition is not found. */
static qk_competition *find_competition(call *c, const char *id, const char *branch)
{
    json_t *list = NULL;
    qk_competition *def = NULL;
    char msg[256];
    if (qk_admin_competitions(c->s, branch, &list) == QK_OK) {
        size_t i;
        json_t *r;
        json_array_foreach(list, i, r)
        {
            if (!def && strcmp(json_string_value(json_object_get(r, "id")), id) == 0)
                qk_competition_parse(&def, json_string_value(json_object_get(r, "spec")), c->lang,
                                     msg, sizeof msg);
        }
    }
    json_decref(list);
    if (!def)
        each_published(c, competition_in, &(struct comp_find){id, &def});
    return def;
}

static qk_board_key entry_key(json_t *e)
{
    qk_board_key k = {(int)json_integer_value(json_object_get(e, "points")),
                      json_integer_value(json_object_get(e, "answer_ms")),
                      json_integer_value(json_object_get(e, "finished_ms"))};
    return k;
}

/* The engine's order of entries (qk_board_cmp), over the store's rows. */
static int cmp_entry(const void *a, const void *b)
{
    qk_board_key x = entry_key(*(json_t *const *)a), y = entry_key(*(json_t *const *)b);
    return qk_board_cmp(&x, &y);
}

static int cmp_team(const void *a, const void *b)
{
    double x = json_real_value(json_object_get(*(json_t *const *)a, "points_mean"));
    double y = json_real_value(json_object_get(*(json_t *const *)b, "points_mean"));
    return x > y ? -1 : x < y;
}

/* GET /competitions/{id}/leaderboard: the merged board of the caller's branch
 * (an admin: every branch, or ?branch=), ranked by the server's own points. */
static void h_leaderboard(call *c)
{
    if (c->who == WHO_NONE)
        return failf(c, 401, "unauthorized", QK_Y_API_AUTH);
    const char *slash = strchr(c->rest, '/');
    if (!slash || strcmp(slash, "/leaderboard") != 0 || slash == c->rest ||
        (size_t)(slash - c->rest) > QK_NAME_MAX)
        return failf(c, 404, "not_found", QK_Y_API_NOT_FOUND, c->rq->method, c->rq->path);
    char id[QK_NAME_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int)(slash - c->rest), c->rest);
    const char *branch;
    if (c->who == WHO_DEVICE) {
        branch = c->dev.branch;
    } else {
        branch = branch_for(c, qk_http_query(c->rq, "branch"));
        if (!branch && !is_admin(c))
            return;
    }
    qk_competition *def = find_competition(c, id, is_admin(c) ? NULL : branch);
    json_t *rows = NULL;
    int64_t guests = 0, unscored = 0;
    int rc = c->s->ops->entries(c->s, id, branch, &rows, &guests, &unscored);
    if (rc != QK_OK) {
        qk_competition_free(def);
        return fail_rc(c, rc);
    }
    if (!def && unscored > 0) {
        /* Entries of the caller's branch wait for a bundle the server does
         * not have: an empty board that says so (and how many wait). */
        json_decref(rows);
        ok(c, 200, json_pack("{s:{s:s, s:s, s:s}, s:s?, s:[], s:[], s:I, s:I, s:b, s:I}",
                             "competition", "id", id, "title", id, "teams", "none", "branch", branch,
                             "entries", "teams", "guest_entries", (json_int_t)guests, "unscored",
                             (json_int_t)unscored, "waiting_for_bundle", 1, "server_ms",
                             (json_int_t)qk__store_now(c->s)));
        return;
    }
    if (!def) {
        json_decref(rows);
        qk__ymsgf(c->lang, c->s->err, sizeof c->s->err, QK_Y_NOT_FOUND,
                  c->lang == QK_LANG_EN ? "competition" : "竞赛", id);
        return fail_rc(c, QK_ENOTFOUND);
    }
    size_t n = json_array_size(rows);
    json_t **v = calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        v[i] = json_array_get(rows, i);
    if (v)
        qsort(v, n, sizeof *v, cmp_entry);
    json_t *ranked = json_array(), *teams = json_object(), *names = branch_names(c);
    for (size_t i = 0; v && i < n; i++) {
        const char *eb = json_string_value(json_object_get(v[i], "branch"));
        json_t *bn = eb ? json_object_get(names, eb) : NULL;
        if (bn) /* the branch as people name it, beside its id */
            json_object_set(v[i], "branch_name", bn);
        int rank = (int)i + 1;
        if (i > 0 && cmp_entry(&v[i], &v[i - 1]) == 0)
            rank = (int)json_integer_value(json_object_get(v[i - 1], "rank"));
        json_object_set_new(v[i], "rank", json_integer(rank));
        json_object_set_new(v[i], "flagged", json_boolean(json_integer_value(json_object_get(v[i], "flagged"))));
        json_object_set_new(v[i], "mismatch", json_boolean(json_integer_value(json_object_get(v[i], "mismatch"))));
        json_array_append(ranked, v[i]);
        const char *team = def->teams == QK_TEAMS_DEPT     ? json_string_value(json_object_get(v[i], "dept"))
                           : def->teams == QK_TEAMS_BRANCH ? json_string_value(json_object_get(v[i], "branch"))
                                                           : NULL;
        if (team && *team) {
            json_t *t = json_object_get(teams, team);
            if (!t) {
                json_t *tn = def->teams == QK_TEAMS_BRANCH ? json_object_get(names, team) : NULL;
                t = json_pack("{s:s, s:s, s:i, s:I}", "team", team, "name", tn ? json_string_value(tn) : team,
                              "members", 0, "points_total", (json_int_t)0);
                json_object_set_new(teams, team, t);
            }
            json_object_set_new(t, "members", json_integer(json_integer_value(json_object_get(t, "members")) + 1));
            json_object_set_new(t, "points_total",
                                json_integer(json_integer_value(json_object_get(t, "points_total")) +
                                             json_integer_value(json_object_get(v[i], "points"))));
        }
    }
    /* Teams rank by their members' mean points, so size does not decide. */
    size_t nt = json_object_size(teams), k = 0;
    json_t **tv = calloc(nt ? nt : 1, sizeof *tv);
    const char *key;
    json_t *t;
    json_object_foreach(teams, key, t)
    {
        json_object_set_new(t, "points_mean",
                            json_real((double)json_integer_value(json_object_get(t, "points_total")) /
                                      (double)json_integer_value(json_object_get(t, "members"))));
        if (tv)
            tv[k++] = t;
    }
    if (tv)
        qsort(tv, k, sizeof *tv, cmp_team);
    json_t *team_list = json_array();
    for (size_t i = 0; tv && i < k; i++) {
        json_object_set_new(tv[i], "rank", json_integer((json_int_t)i + 1));
        json_array_append(team_list, tv[i]);
    }
    static const char *const team_names[] = {"none", "dept", "branch"};
    json_t *own = branch ? json_object_get(names, branch) : NULL;
    ok(c, 200, json_pack("{s:{s:s, s:s, s:s}, s:s?, s:s?, s:o, s:o, s:I, s:I, s:I}", "competition", "id", def->id,
                         "title", def->title, "teams", team_names[def->teams], "branch", branch,
                         "branch_name", own ? json_string_value(own) : NULL,
                         "entries", ranked, "teams", team_list, "guest_entries", (json_int_t)guests,
                         "unscored", (json_int_t)unscored, "server_ms", (json_int_t)qk__store_now(c->s)));
    json_decref(names);
    free(v);
    free(tv);
    json_decref(rows);
    json_decref(teams);
    qk_competition_free(def);
}

/* GET: the competitions published for the caller's branch; POST (leaders,
 * admins): publish one, {"bundle_id", "branch", "spec": {...}}. */
static void h_competitions(call *c)
{
    if (c->who == WHO_NONE)
        return failf(c, 401, "unauthorized", QK_Y_API_AUTH);
    if (method(c, "GET")) {
        const char *branch = c->who == WHO_DEVICE ? c->dev.branch : is_admin(c) ? NULL : c->user.branch;
        json_t *rows = NULL;
        int rc = qk_admin_competitions(c->s, branch, &rows);
        if (rc != QK_OK)
            return fail_rc(c, rc);
        size_t i;
        json_t *r;
        json_error_t je;
        json_array_foreach(rows, i, r)
        {
            json_t *spec = json_loads(json_string_value(json_object_get(r, "spec")), 0, &je);
            json_object_set_new(r, "spec", spec ? spec : json_null());
        }
        return ok(c, 200, json_pack("{s:o}", "competitions", rows));
    }
    if (!need_user(c, 0))
        return;
    json_t *j = body_json(c);
    const char *bundle = j ? field(c, j, "bundle_id", 1) : NULL;
    const char *asked = bundle ? field(c, j, "branch", 0) : NULL;
    json_t *spec = j ? json_object_get(j, "spec") : NULL;
    if (asked && !json_is_object(spec)) {
        failf(c, 400, "bad_field", QK_Y_API_FIELD, "spec");
    } else if (asked) {
        const char *branch = branch_for(c, asked);
        if (branch || is_admin(c)) {
            char *text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
            int rc = text ? qk_admin_competition_add(c->s, text, bundle, branch, c->user.name) : QK_ENOMEM;
            if (rc != QK_OK)
                fail_rc(c, rc);
            else
                ok(c, 201, json_pack("{s:O, s:s, s:s?}", "id", json_object_get(spec, "id"), "bundle_id",
                                     bundle, "branch", branch));
            free(text);
        }
    }
    json_decref(j);
}

/* The questions' stems from the published bundles, newest first. */
static int stems_from(qk_bundle *b, void *table)
{
    qk_stats_fill_stems(json_object_get(table, "rows"), b);
    return 0;
}

static void server_stems(call *c, json_t *table)
{
    each_published(c, stems_from, table);
}

/* Theme and competition titles from the published bundles, newest first. */
static int titles_from(qk_bundle *b, void *table)
{
    qk_stats_fill_titles(table, b);
    return 0;
}

/* A table for people (CSV, Excel): titles and mode names, not codes. The
 * competitions leaders published on the server first, then the bundles'. */
static void server_names(call *c, json_t *table)
{
    json_t *list = NULL;
    if (qk_admin_competitions(c->s, NULL, &list) == QK_OK) {
        size_t i;
        json_t *r;
        json_array_foreach(list, i, r)
        {
            const char *text = json_string_value(json_object_get(r, "spec"));
            json_t *spec = text ? json_loads(text, 0, NULL) : NULL;
            qk_stats_name_competition(table, json_string_value(json_object_get(r, "id")),
                                      json_string_value(json_object_get(spec, "title")));
            json_decref(spec);
        }
    }
    json_decref(list);
    each_published(c, titles_from, table);
    qk_stats_stem_first(table);
    qk_stats_name_modes(table, c->lang);
}

/* The branch (leaders: their own; admins: ?branch= or all) and the period
 * (?from=&to=, this month by default) of a statistics request; 0 when the
 * request was refused (the answer is set). */
static int stats_scope(call *c, const char **branch, qk_stats_query *q)
{
    *branch = branch_for(c, qk_http_query(c->rq, "branch"));
    if (!*branch && !is_admin(c))
        return 0;
    const char *from = qk_http_query(c->rq, "from"), *to = qk_http_query(c->rq, "to");
    qk_stats_this_month(qk__store_now(c->s), &q->from_day, &q->to_day);
    q->today = qk_beijing_day(qk__store_now(c->s));
    if (from && qk_stats_parse_day(from, &q->from_day))
        failf(c, 400, "bad_field", QK_Y_API_DATE, "from", shown(from));
    else if (to && qk_stats_parse_day(to, &q->to_day))
        failf(c, 400, "bad_field", QK_Y_API_DATE, "to", shown(to));
    else if (q->to_day < q->from_day) {
        char t[QK_DATE_LEN], f[QK_DATE_LEN];
        qk_stats_day_text(q->to_day, t);
        qk_stats_day_text(q->from_day, f);
        if (from && to)
            failf(c, 400, "bad_field", QK_Y_API_BACKWARDS, t, f);
        else if (from)
            failf(c, 400, "bad_field", QK_Y_API_FROM_AFTER_TO, f, t);
        else
            failf(c, 400, "bad_field", QK_Y_API_PERIOD, t, f);
    }
    else
        return 1;
    return 0;
}

/* A new empty file for a workbook, in $TMPDIR (else /tmp), its name in
 * path (n bytes): 0, or -1 with msg saying where it could not be made (the
 * file is closed: libxlsxwriter writes it by name). */
static int temp_workbook(char *path, size_t n, const char *stem, char *msg, size_t msglen)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || dir[0] != '/')
        dir = "/tmp";
    int fd = -1;
    if ((size_t)snprintf(path, n, "%s/%s-XXXXXX", dir, stem) >= n)
        errno = ENAMETOOLONG;
    else
        fd = mkstemp(path);
    if (fd < 0) {
        snprintf(msg, msglen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

/* GET /stats/{subject}?from=&to=&branch=&format=json|csv|xlsx: a branch's
 * statistics from the server's own scores (leaders: their branch only). */
static void h_stats(call *c)
{
    if (!need_user(c, 0))
        return;
    qk_stats_query q = {0};
    if ((q.subject = qk_stats_subject_parse(c->rest)) == QK_STATS_COUNT)
        return failf(c, 404, "not_found", QK_Y_API_NOT_FOUND, c->rq->method, c->rq->path);
    const char *branch = NULL;
    if (!stats_scope(c, &branch, &q))
        return;
    const char *format = qk_http_query(c->rq, "format");
    if (format && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0 &&
        strcmp(format, "xlsx") != 0)
        return failf(c, 400, "bad_field", QK_Y_API_FIELD, "format (json, csv, xlsx)");
    json_t *t = NULL;
    char msg[600];
    if (qk_store_stats(c->s, branch, &q, c->lang, &t, msg, sizeof msg) != QK_OK)
        return fail(c, 500, "server_error", msg);
    if (q.subject == QK_STATS_QUESTIONS)
        server_stems(c, t);
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"quizkit-%s-%s.%s\"", c->rest,
             json_string_value(json_object_get(t, "from")), format ? format : "json");
    /* a table for people: titles and mode names (a CSV or a workbook; JSON
     * when asked with names=1, as the CLI's tables ask) */
    const char *names = qk_http_query(c->rq, "names");
    if ((format && strcmp(format, "json") != 0) || (names && strcmp(names, "1") == 0))
        server_names(c, t);
    if (format && strcmp(format, "csv") == 0) {
        size_t len = 0;
        char *text = qk_stats_csv(t, c->lang, &len);
        json_decref(t);
        if (!text)
            return fail(c, 500, "server_error", "out of memory");
        c->rs->status = 200;
        c->rs->body = text;
        c->rs->len = len;
        c->rs->type = "text/csv; charset=utf-8";
        qk_http_add_header(c->rs, "Content-Disposition", disp);
        return;
    }
    if (format && strcmp(format, "xlsx") == 0) {
        char path[4096];
        int made = temp_workbook(path, sizeof path, "quizkit-stats", msg, sizeof msg);
        int rc = made == 0 ? qk_stats_xlsx(path, &t, 1, c->lang, msg, sizeof msg) : QK_EIO;
        json_decref(t);
        int file = rc == QK_OK ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        struct stat st;
        if (file < 0 || fstat(file, &st) != 0) {
            if (file >= 0)
                close(file);
            if (made == 0)
                unlink(path);
            return fail(c, 500, "server_error", rc == QK_OK ? strerror(errno) : msg);
        }
        unlink(path); /* the open file stays readable until sent */
        c->rs->status = 200;
        c->rs->fd = file;
        c->rs->off = 0;
        c->rs->flen = (uint64_t)st.st_size;
        c->rs->type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        qk_http_add_header(c->rs, "Content-Disposition", disp);
        return;
    }
    ok(c, 200, t);
}

/* GET /report?from=&to=&branch=: the monthly report as one workbook, every
 * subject a sheet after a summary (what `quizkit report --server` writes). */
static void h_report(call *c)
{
    if (!need_user(c, 0))
        return;
    const char *branch = NULL;
    qk_stats_query q = {0};
    if (!stats_scope(c, &branch, &q))
        return;
    json_t *t[QK_STATS_COUNT] = {0};
    char msg[600];
    int rc = QK_OK;
    for (int i = 0; i < QK_STATS_COUNT && rc == QK_OK; i++) {
        q.subject = (qk_stats_subject)i;
        rc = qk_store_stats(c->s, branch, &q, c->lang, &t[i], msg, sizeof msg);
        if (rc == QK_OK && i == QK_STATS_QUESTIONS)
            server_stems(c, t[i]);
        if (rc == QK_OK)
            server_names(c, t[i]);
    }
    char path[4096];
    int made = rc == QK_OK ? temp_workbook(path, sizeof path, "quizkit-report", msg, sizeof msg) : -1;
    if (made == 0)
        rc = qk_stats_xlsx(path, t, QK_STATS_COUNT, c->lang, msg, sizeof msg);
    else if (rc == QK_OK)
        rc = QK_EIO;
    char disp[160];
    char day[QK_DATE_LEN];
    qk_stats_day_text(q.from_day, day);
    snprintf(disp, sizeof disp, "attachment; filename=\"quizkit-report-%s%s%s.xlsx\"", day,
             branch ? "-" : "", branch ? branch : "");
    for (int i = 0; i < QK_STATS_COUNT; i++)
        json_decref(t[i]);
    if (rc != QK_OK) {
        if (made == 0)
            unlink(path);
        return fail(c, 500, "server_error", msg);
    }
    qk_http_send_file(c->rs, path, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    unlink(path); /* the open file stays readable until sent */
    qk_http_add_header(c->rs, "Content-Disposition", disp);
}

/* --- routing --- */

typedef struct route {
    const char *method; /* NULL: GET or POST */
    const char *path;   /* ends with '/' for a prefix */
    void (*fn)(call *c);
    size_t max_body;
} route;

static const route routes[] = {
    {"GET", "/api/v1/time", h_time, 0},
    {"POST", "/api/v1/login", h_login, SMALL_BODY},
    {NULL, "/api/v1/branches", h_branches, SMALL_BODY},
    {"POST", "/api/v1/users", h_users, SMALL_BODY},
    {"POST", "/api/v1/members/import", h_members_import, ROSTER_CSV_MAX},
    {NULL, "/api/v1/members", h_members, SMALL_BODY},
    {"POST", "/api/v1/enrol-codes", h_codes, SMALL_BODY},
    {"POST", "/api/v1/enroll", h_enroll, SMALL_BODY},
    {"GET", "/api/v1/devices", h_devices, 0},
    {"POST", "/api/v1/devices/", h_devices, SMALL_BODY},
    {"POST", "/api/v1/events", h_events, QK_BATCH_MAX_BYTES},
    {"GET", "/api/v1/device", h_device, 0},
    {"GET", "/api/v1/roster", h_roster, 0},
    {"GET", "/api/v1/keys", h_keys, 0},
    {NULL, "/api/v1/bundles", h_bundles, QK_BUNDLE_MAX_BYTES},
    {"GET", "/api/v1/bundles/", h_bundles, 0},
    {"GET", "/api/v1/competitions/", h_leaderboard, 0},
    {NULL, "/api/v1/competitions", h_competitions, SMALL_BODY},
    {"GET", "/api/v1/stats/", h_stats, 0},
    {"GET", "/api/v1/report", h_report, 0},
};

static const route *find_route(const char *m, const char *path, const char **rest, int *wrong_method)
{
    *wrong_method = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const route *r = &routes[i];
        size_t n = strlen(r->path);
        int prefix = r->path[n - 1] == '/';
        if (prefix ? strncmp(path, r->path, n) != 0 || !path[n] : strcmp(path, r->path) != 0)
            continue;
        if (r->method ? strcmp(m, r->method) != 0 : strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0) {
            *wrong_method = 1;
            continue;
        }
        *rest = prefix ? path + n : "";
        return r;
    }
    return NULL;
}

static size_t body_limit(void *ctx, const char *m, const char *path)
{
    (void)ctx;
    const char *rest;
    int wrong;
    const route *r = find_route(m, path, &rest, &wrong);
    /* No route: a small body is read, so the answer says what is wrong (404,
     * 405) rather than that it is too large. */
    return r ? r->max_body : SMALL_BODY;
}

/* The phones' app (docs/app.md) under /app/: the kiosk's page, script and
 * style as they are (web/kiosk; kiosk.js turns to the app's transport under
 * /app/), the app's own files (web/app: the Worker, the service worker, the
 * manifest) and the WebAssembly module from the wasm build. */
static void app_pages(qk_server *srv, const qk_http_req *rq, const char *rel, qk_http_resp *rs)
{
    char dir[4200];
    if (!*rel || strcmp(rel, "index.html") == 0 || strcmp(rel, "kiosk.js") == 0 ||
        strcmp(rel, "kiosk.css") == 0) {
        snprintf(dir, sizeof dir, "%s/kiosk", srv->web);
        rs->wasm_page = 1; /* the app's page compiles the engine (app.js) */
        qk_http_static(rs, dir, *rel ? rel : "index.html");
    } else if (strcmp(rel, "quizkit-engine.js") == 0 || strcmp(rel, "quizkit-engine.wasm") == 0) {
        /* the module gzipped (made beside it by the wasm build) to a browser
         * that takes gzip: 620 KB where it is 1.5 MB */
        const char *ae = qk_http_header(rq, "Accept-Encoding");
        char gz[64], path[4400];
        snprintf(gz, sizeof gz, "%s.gz", rel);
        snprintf(path, sizeof path, "%s/%s", srv->app, gz);
        if (ae && strstr(ae, "gzip") && access(path, R_OK) == 0) {
            qk_http_static(rs, srv->app, gz);
            if (rs->status == 200) {
                rs->type = rel[15] == 'w' ? "application/wasm" : "text/javascript; charset=utf-8";
                qk_http_add_header(rs, "Content-Encoding", "gzip");
            }
        } else {
            qk_http_static(rs, srv->app, rel);
        }
        qk_http_add_header(rs, "Vary", "Accept-Encoding");
    } else {
        snprintf(dir, sizeof dir, "%s/app", srv->web);
        qk_http_static(rs, dir, rel);
    }
    if (rs->status == 200) {
        /* kept by the service worker, which asks again with the ETag */
        qk_http_add_header(rs, "Cache-Control", "no-cache");
        qk_http_revalidate(rq, rs);
    }
}

/* The dashboard's pages, as they are in web/dashboard, what they share with
 * the kiosk (web/common), and Chart.js from where the system keeps it;
 * nothing comes from elsewhere. */
static void pages(qk_server *srv, qk_http_req *rq, qk_http_resp *rs)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/dashboard", srv->web);
    if (strcmp(rq->path, "/") == 0 || strcmp(rq->path, "/dashboard") == 0) {
        rs->status = 302;
        qk_http_add_header(rs, "Location", "/dashboard/");
    } else if (strcmp(rq->path, "/app") == 0) {
        rs->status = 302;
        qk_http_add_header(rs, "Location", "/app/");
    } else if (strncmp(rq->path, "/app/", 5) == 0) {
        app_pages(srv, rq, rq->path + 5, rs);
    } else if (strcmp(rq->path, "/dashboard/") == 0) {
        qk_http_static(rs, dir, "index.html");
    } else if (strncmp(rq->path, "/dashboard/", 11) == 0) {
        qk_http_static(rs, dir, rq->path + 11);
    } else if (strncmp(rq->path, "/common/", 8) == 0) { /* shared with the kiosk (web/common) */
        snprintf(dir, sizeof dir, "%s/common", srv->web);
        qk_http_static(rs, dir, rq->path + 8);
    } else if (strcmp(rq->path, "/vendor/chart.js") == 0) {
        qk_http_send_file(rs, srv->chartjs, "text/javascript; charset=utf-8");
    } else {
        qk_http_error(rs, 404, "not_found", rq->path);
    }
}

static void handle(void *ctx, qk_http_req *rq, qk_http_resp *rs)
{
    qk_server *srv = ctx;
    call c = {.srv = srv, .rq = rq, .rs = rs, .lang = srv->lang};
    const char *al = qk_http_header(rq, "Accept-Language");
    if (al)
        c.lang = strncmp(al, "en", 2) == 0 ? QK_LANG_EN : strncmp(al, "zh", 2) == 0 ? QK_LANG_ZH : c.lang;
    if (strncmp(rq->path, "/api/", 5) != 0 && strcmp(rq->method, "GET") == 0)
        return pages(srv, rq, rs);
    int wrong = 0;
    const route *r = find_route(rq->method, rq->path, &c.rest, &wrong);
    if (!r) {
        if (wrong)
            return fail(&c, 405, "method_not_allowed", rq->method);
        return failf(&c, 404, "not_found", QK_Y_API_NOT_FOUND, rq->method, rq->path);
    }
    char msg[600];
    c.s = thread_store(srv, msg, sizeof msg);
    if (!c.s)
        return fail(&c, 503, "store_unavailable", msg);
    c.s->lang = c.lang;
    authenticate(&c);
    r->fn(&c);
}

/* --- the server --- */

static void *checkpoints(void *arg)
{
    qk_server *srv = arg;
    qk_store *s = srv->checkpoint_store;
    struct pollfd p = {.fd = srv->stop_pipe[0], .events = POLLIN};
    /* until qk_server_stop writes to the pipe (or closes it) */
    while (poll(&p, 1, CHECKPOINT_MS) == 0 || (p.revents == 0 && errno == EINTR))
        s->ops->checkpoint(s, 1);
    s->ops->checkpoint(s, 1);
    qk_store_close(s);
    return NULL;
}

qk_server *qk_server_start(const qk_server_config *cfg, char *msg, size_t n)
{
    qk_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(msg, n, "out of memory");
        return NULL;
    }
    srv->lang = cfg->lang;
    srv->db = strdup(cfg->db ? cfg->db : "");
    srv->trust = cfg->trust ? strdup(cfg->trust) : NULL;
    srv->web = strdup(cfg->web ? cfg->web : QK_WEB_DIR);
    srv->chartjs = strdup(cfg->chartjs ? cfg->chartjs : CHARTJS_DEFAULT);
    srv->app = strdup(cfg->app ? cfg->app : QK_APP_DIR);
    qk_clock sys = QK_CLOCK_SYSTEM;
    srv->clock = cfg->clock ? *cfg->clock : sys;
    pthread_key_create(&srv->key, close_store);
    srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
    /* Open the store once here, so a bad database fails at start, not on the
     * first request. */
    qk_store *s = NULL;
    if (qk_store_open(&s, srv->db, srv->lang) != QK_OK) {
        snprintf(msg, n, "%s", qk_store_errmsg(s));
        qk_store_close(s);
        qk_server_stop(srv, 0);
        return NULL;
    }
    /* That connection is the checkpointer's; without one, each connection
     * checkpoints as SQLite does by default. */
    srv->checkpoint_store = s;
    srv->has_checkpointer = pipe(srv->stop_pipe) == 0 && fcntl(srv->stop_pipe[0], F_SETFD, FD_CLOEXEC) == 0 &&
                            fcntl(srv->stop_pipe[1], F_SETFD, FD_CLOEXEC) == 0 &&
                            pthread_create(&srv->checkpointer, NULL, checkpoints, srv) == 0;
    if (!srv->has_checkpointer) {
        qk_store_close(s);
        srv->checkpoint_store = NULL;
    }
    /* Without a writer each worker writes its batches itself. */
    srv->writer = qk__writer_start(srv->db, &srv->clock, srv->has_checkpointer, msg, n);
    if (!srv->writer && cfg->log)
        fprintf(cfg->log, "no writer thread (%s): each worker writes its batches itself\n", msg);
    char *cert = NULL, *key = NULL;
    if (cfg->tls_cert && cfg->tls_key) {
        size_t len;
        int err = 0;
        cert = qk__read_maybe_gz(cfg->tls_cert, &len, &err);
        if (cert)
            key = qk__read_maybe_gz(cfg->tls_key, &len, &err);
        if (!cert || !key) {
            qk__ymsgf(srv->lang, msg, n, QK_Y_READ, cert ? cfg->tls_key : cfg->tls_cert,
                      strerror(err ? err : EIO));
            free(cert);
            free(key);
            qk_server_stop(srv, 0);
            return NULL;
        }
    }
    qk_http_opts o = {.listen = cfg->listen,
                      .port = cfg->port,
                      .cert_pem = cert,
                      .key_pem = key,
                      .threads = cfg->threads,
                      .max_conn = cfg->max_conn,
                      .timeout_s = cfg->timeout_s,
                      .max_conn_per_addr = cfg->max_conn_per_addr,
                      .proxy = cfg->proxy,
                      .log = cfg->log,
                      .clock = &srv->clock,
                      .lang = srv->lang};
    srv->http = qk_http_start(&o, handle, body_limit, srv, msg, n);
    free(cert);
    free(key);
    if (!srv->http) {
        qk_server_stop(srv, 0);
        return NULL;
    }
    return srv;
}

unsigned qk_server_port(const qk_server *srv)
{
    return qk_http_port(srv->http);
}

void qk_server_stop(qk_server *srv, int grace_ms)
{
    if (!srv)
        return;
    qk_http_stop(srv->http, grace_ms);
    qk__writer_stop(srv->writer); /* after the requests that wait for it */
    if (srv->has_checkpointer) { /* after the requests: it copies back their last writes */
        ssize_t w = write(srv->stop_pipe[1], "x", 1);
        (void)w; /* a full pipe has woken it already */
        pthread_join(srv->checkpointer, NULL);
    }
    for (int i = 0; i < 2; i++)
        if (srv->stop_pipe[i] >= 0)
            close(srv->stop_pipe[i]);
    pthread_key_delete(srv->key);
    free(srv->db);
    free(srv->trust);
    free(srv->web);
    free(srv->chartjs);
    free(srv->app);
    free(srv);
}
