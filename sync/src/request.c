/* request.c: reading request bodies from the network, which nobody vouches
 * for: gzip with a bound on the inflated size, and the event upload's JSON
 * checked field by field. The fuzz target fuzz_request drives these. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "request.h"
#include "store.h"
#include "sync_msg.h"

int qk__gunzip(const char *in, size_t n, size_t max, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return QK_ENOMEM;
    size_t cap = n * 4 + 1024 < max + 1 ? n * 4 + 1024 : max + 1;
    char *buf = malloc(cap + 1);
    int rc = buf ? QK_OK : QK_ENOMEM;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    size_t len = 0;
    while (rc == QK_OK) {
        if (len == cap) {
            if (cap > max) {
                rc = QK_ELIMIT;
                break;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                rc = QK_ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        z.next_out = (Bytef *)buf + len;
        z.avail_out = (uInt)(cap - len);
        int zr = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
        if (zr == Z_STREAM_END) {
            if (z.avail_in != 0)
                rc = QK_ECORRUPT; /* trailing bytes after the gzip member */
            break;
        }
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && z.avail_out == 0)) {
            rc = QK_ECORRUPT;
            break;
        }
        if (z.avail_in == 0 && z.avail_out != 0) {
            rc = QK_ECORRUPT; /* truncated */
            break;
        }
    }
    inflateEnd(&z);
    if (rc == QK_OK && len > max)
        rc = QK_ELIMIT;
    if (rc != QK_OK) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return QK_OK;
}

json_t *qk__parse_json(const char *body, size_t len, qk_lang lang, char *why, size_t whylen)
{
    json_error_t e;
    json_t *j = body && len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &e) : NULL;
    if (!j) {
        if (!body || !len)
            snprintf(e.text, sizeof e.text, "%s", lang == QK_LANG_EN ? "empty" : "为空");
        qk__ymsgf(lang, why, whylen, QK_Y_API_JSON, e.text, body && len ? e.line : 1);
        return NULL;
    }
    if (!json_is_object(j)) {
        qk__ymsgf(lang, why, whylen, QK_Y_API_JSON, lang == QK_LANG_EN ? "not an object" : "不是对象",
                  1);
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *qk__parse_upload(const char *body, size_t len, const char *device, qk_lang lang, char *why,
                         size_t whylen, int *forbidden)
{
    *forbidden = 0;
    json_t *j = qk__parse_json(body, len, lang, why, whylen);
    if (!j)
        return NULL;
    json_t *events = json_object_get(j, "events");
    if (!json_is_array(events)) {
        qk__ymsgf(lang, why, whylen, QK_Y_API_FIELD, "events");
        json_decref(j);
        return NULL;
    }
    if (json_array_size(events) > QK_BATCH_MAX_EVENTS) {
        qk__ymsgf(lang, why, whylen, QK_Y_API_TOO_MANY, QK_BATCH_MAX_EVENTS);
        json_decref(j);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *ev = json_array_get(events, i);
        char field[32];
        if (!qk__event_valid(ev, device, field, sizeof field)) {
            const char *dev = json_string_value(json_object_get(ev, "device_id"));
            if (strcmp(field, "device_id") == 0 && dev) {
                qk__ymsgf(lang, why, whylen, QK_Y_API_OTHER_DEVICE, device, dev);
                *forbidden = 1;
            } else {
                qk__ymsgf(lang, why, whylen, QK_Y_API_EVENT, i, field);
            }
            json_decref(j);
            return NULL;
        }
    }
    json_incref(events);
    json_decref(j);
    return events;
}
