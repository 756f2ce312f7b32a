/* batch.c: batch files (export on the device) and acknowledgement files
 * (applied on the device), and reading a file that may be gzipped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "qk_sync.h"
#include "sync_msg.h"

char *qk__read_maybe_gz(const char *path, size_t *len, int *err)
{
    /* gzread reads plain files as they are, so one reader serves both. */
    *err = 0;
    gzFile g = gzopen(path, "rb");
    if (!g) {
        *err = errno ? errno : EIO;
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            *err = ENOMEM;
            break;
        }
        if (n == cap) {
            if (cap >= (size_t)256 * 1024 * 1024) {
                *err = EFBIG;
                break;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                *err = ENOMEM;
                break;
            }
            buf = nb;
        }
        int got = gzread(g, buf + n, (unsigned)(cap - n));
        if (got < 0) {
            *err = EILSEQ; /* a damaged gzip stream */
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    gzclose(g);
    if (*err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

typedef struct collect {
    json_t *events;
    int64_t first, last;
    size_t max_events, max_bytes, bytes;
} collect;

static int add_event(const qk_event_row *ev, void *payload)
{
    collect *c = payload;
    json_error_t jerr;
    json_t *body = json_loads(ev->payload ? ev->payload : "{}", 0, &jerr);
    json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:s, s:o, s:o, s:I}", "id", ev->id,
                          "device_id", ev->device_id, "seq", (json_int_t)ev->seq, "member_id",
                          str_or_null(ev->member_id), "bundle_id", str_or_null(ev->bundle_id),
                          "bundle_version", str_or_null(ev->bundle_version), "kind", ev->kind,
                          "attempt_id", str_or_null(ev->attempt_id), "payload",
                          body ? body : json_object(), "created_ms", (json_int_t)ev->created_ms);
    if (!o || json_array_append_new(c->events, o) != 0)
        return QK_ENOMEM;
    if (!c->first)
        c->first = ev->seq;
    c->last = ev->seq;
    /* A rough size: the fields as text plus the JSON around them. */
    c->bytes += strlen(ev->payload ? ev->payload : "") + strlen(ev->kind) + 400;
    if ((c->max_events && json_array_size(c->events) >= c->max_events) ||
        (c->max_bytes && c->bytes >= c->max_bytes))
        return QK_DONE;
    return QK_OK;
}

int qk__collect_events(qk_engine *e, int64_t after, size_t max_events, size_t max_bytes,
                       json_t **events, int64_t *last)
{
    collect c = {json_array(), 0, 0, max_events, max_bytes, 0};
    int rc = c.events ? qk_events_each(e, after, add_event, &c) : QK_ENOMEM;
    if (rc != QK_OK && rc != QK_DONE) {
        json_decref(c.events);
        *events = NULL;
        return rc;
    }
    *events = c.events;
    *last = c.last;
    return QK_OK;
}

int qk_batch_export(qk_engine *e, const qk_key *device_key, const char *path, int64_t after_seq,
                    size_t *n, char *msg, size_t msglen)
{
    qk_lang lang = qk_engine_lang(e);
    *n = 0;
    collect c = {json_array(), 0, 0, 0, 0, 0};
    int rc = c.events ? qk_events_each(e, after_seq, add_event, &c) : QK_ENOMEM;
    if (rc != QK_OK) {
        snprintf(msg, msglen, "%s", qk_engine_errmsg(e));
        json_decref(c.events);
        return rc;
    }
    *n = json_array_size(c.events);
    if (*n == 0) {
        json_decref(c.events);
        return QK_OK;
    }
    char *body = json_dumps(c.events, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(c.events);
    char hash_hex[65], *pem = NULL;
    unsigned char hash[32], sig[QK_KEY_SIG_MAX];
    size_t sig_len = 0;
    char sig_hex[2 * QK_KEY_SIG_MAX + 1];
    if (!body || qk_key_public_pem(device_key, &pem) != QK_OK) {
        free(body);
        qk__ymsgf(lang, msg, msglen, QK_Y_OOM);
        return QK_ENOMEM;
    }
    qk_sha256_hex(hash_hex, body, strlen(body));
    qk__unhex(hash, sizeof hash, hash_hex);
    rc = qk_key_sign(device_key, hash, sig, &sig_len);
    qk__hex(sig_hex, sig, sig_len);
    json_t *head = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "format",
                             QK_BATCH_FORMAT, "version", 1, "device_id", qk_engine_device_id(e),
                             "device_key", pem, "device_key_id", qk_key_id(device_key), "first_seq",
                             (json_int_t)c.first, "last_seq", (json_int_t)c.last, "events",
                             (json_int_t)*n, "body_sha256", hash_hex, "signature", sig_hex);
    char *head_text = head ? json_dumps(head, JSON_COMPACT) : NULL;
    json_decref(head);
    free(pem);
    /* Written to a temporary name and renamed: a half-written stick file never
     * looks like a batch. */
    size_t tl = strlen(path) + 8;
    char *tmp = malloc(tl);
    int written = 0;
    if (rc == QK_OK && head_text && tmp) {
        snprintf(tmp, tl, "%s.part", path);
        gzFile g = gzopen(tmp, "wb9");
        if (g && gzputs(g, head_text) >= 0 && gzputc(g, '\n') >= 0 && gzputs(g, body) >= 0 &&
            gzputc(g, '\n') >= 0 && gzclose(g) == Z_OK) {
            written = rename(tmp, path) == 0;
        } else if (g) {
            gzclose(g);
        }
        if (!written) {
            qk__ymsgf(lang, msg, msglen, QK_Y_WRITE, path, strerror(errno ? errno : EIO));
            unlink(tmp);
        }
    } else {
        qk__ymsgf(lang, msg, msglen, QK_Y_OOM);
    }
    free(tmp);
    free(head_text);
    free(body);
    return written ? QK_OK : QK_EIO;
}

int qk_ack_peek(qk_engine *e, const char *ack_path, char *msg, size_t msglen)
{
    qk_lang lang = qk_engine_lang(e);
    size_t len = 0;
    int err = 0;
    char *text = qk__read_maybe_gz(ack_path, &len, &err);
    if (!text) {
        if (err == EILSEQ)
            qk__ymsgf(lang, msg, msglen, QK_Y_NOT_ACK, ack_path);
        else
            qk__ymsgf(lang, msg, msglen, QK_Y_READ, ack_path, strerror(err));
        return err == EILSEQ ? QK_ECORRUPT : QK_EIO;
    }
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    free(text);
    const char *fmt = json_string_value(json_object_get(o, "format"));
    const char *dev = json_string_value(json_object_get(o, "device_id"));
    int rc = QK_OK;
    if (!fmt || strcmp(fmt, QK_ACK_FORMAT) != 0 || !dev ||
        !json_is_integer(json_object_get(o, "acked_seq"))) {
        qk__ymsgf(lang, msg, msglen, QK_Y_NOT_ACK, ack_path);
        rc = QK_ECORRUPT;
    } else if (strcmp(dev, qk_engine_device_id(e)) != 0) {
        qk__ymsgf(lang, msg, msglen, QK_Y_OTHER_DEVICE, dev, qk_engine_device_id(e));
        rc = QK_EINVAL;
    }
    json_decref(o);
    return rc;
}

int qk_ack_apply(qk_engine *e, const char *ack_path, const char *expected_pem, char **server_pem,
                 int64_t *acked, char *msg, size_t msglen)
{
    qk_lang lang = qk_engine_lang(e);
    if (server_pem)
        *server_pem = NULL;
    size_t len = 0;
    int err = 0;
    char *text = qk__read_maybe_gz(ack_path, &len, &err);
    if (!text) {
        qk__ymsgf(lang, msg, msglen, QK_Y_READ, ack_path, strerror(err));
        return QK_EIO;
    }
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    free(text);
    const char *fmt = json_string_value(json_object_get(o, "format"));
    const char *dev = json_string_value(json_object_get(o, "device_id"));
    const char *pem = json_string_value(json_object_get(o, "server_key"));
    const char *sig_hex = json_string_value(json_object_get(o, "signature"));
    json_t *seq = json_object_get(o, "acked_seq");
    int rc;
    qk_key *k = NULL;
    unsigned char hash[32], sig[QK_KEY_SIG_MAX];
    long sig_len = sig_hex ? qk__unhex(sig, sizeof sig, sig_hex) : -1;
    if (!fmt || strcmp(fmt, QK_ACK_FORMAT) != 0 || !dev || !json_is_integer(seq)) {
        qk__ymsgf(lang, msg, msglen, QK_Y_NOT_ACK, ack_path);
        rc = QK_ECORRUPT;
    } else if (strcmp(dev, qk_engine_device_id(e)) != 0) {
        qk__ymsgf(lang, msg, msglen, QK_Y_OTHER_DEVICE, dev, qk_engine_device_id(e));
        rc = QK_EINVAL;
    } else if (!pem || sig_len <= 0 || qk_key_from_pem(&k, pem) != QK_OK ||
               (qk__ack_digest(hash, dev, (int64_t)json_integer_value(seq)),
                qk_key_verify(k, hash, sig, (size_t)sig_len) != QK_OK)) {
        qk__ymsgf(lang, msg, msglen, QK_Y_ACK_SIG, ack_path);
        rc = QK_ESIGNATURE;
    } else if (expected_pem && strcmp(expected_pem, pem) != 0) {
        qk__ymsgf(lang, msg, msglen, QK_Y_ACK_OTHER_SERVER, ack_path, qk_key_id(k));
        rc = QK_ESIGNATURE;
    } else {
        /* The server's word, signed: forward, or back when it holds less than
         * it once acknowledged (restored from a backup) so the next export
         * carries what it lost. */
        int64_t to = (int64_t)json_integer_value(seq);
        rc = qk_engine_set_acked(e, to);
        if (rc == QK_OK)
            rc = qk_engine_rewind_acked(e, to);
        if (rc != QK_OK)
            snprintf(msg, msglen, "%s", qk_engine_errmsg(e));
        else if (server_pem)
            *server_pem = strdup(pem);
    }
    qk_key_free(k);
    json_decref(o);
    int64_t last = 0;
    if (rc == QK_OK)
        rc = qk_engine_sync_state(e, acked, &last);
    return rc;
}
