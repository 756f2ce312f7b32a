/* client_conf.c: the device's stored sync settings, <data>/server.json
 * (qk_client.h), apart from the libcurl client: the kiosk's home screen
 * reads them too, in the phone app as well. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "qk_client.h"
#include "sync_msg.h"

int qk_client_conf_load(qk_client_conf *c, const char *path, char *msg, size_t n)
{
    memset(c, 0, sizeof *c);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        snprintf(msg, n, "%s", path);
        return errno == ENOENT || access(path, F_OK) != 0 ? QK_ENOTFOUND : QK_ECORRUPT;
    }
    const char *url = json_string_value(json_object_get(j, "url"));
    const char *token = json_string_value(json_object_get(j, "token"));
    const char *dev = json_string_value(json_object_get(j, "device_id"));
    int rc = url && token && dev ? QK_OK : QK_ECORRUPT;
    if (rc == QK_OK) {
        snprintf(c->url, sizeof c->url, "%s", url);
        snprintf(c->token, sizeof c->token, "%s", token);
        snprintf(c->device_id, sizeof c->device_id, "%s", dev);
        const char *s;
        if ((s = json_string_value(json_object_get(j, "cacert"))))
            snprintf(c->cacert, sizeof c->cacert, "%s", s);
        if ((s = json_string_value(json_object_get(j, "pin"))))
            snprintf(c->pin, sizeof c->pin, "%s", s);
        if ((s = json_string_value(json_object_get(j, "branch"))))
            snprintf(c->branch, sizeof c->branch, "%s", s);
        if ((s = json_string_value(json_object_get(j, "branch_name"))))
            snprintf(c->branch_name, sizeof c->branch_name, "%s", s);
        c->roster_cursor = json_integer_value(json_object_get(j, "roster_cursor"));
        c->last_sync_ms = json_integer_value(json_object_get(j, "last_sync_ms"));
        c->clock_offset_ms = json_integer_value(json_object_get(j, "clock_offset_ms"));
        if ((s = json_string_value(json_object_get(j, "server_key"))))
            snprintf(c->server_key, sizeof c->server_key, "%s", s);
    } else {
        snprintf(msg, n, "%s", path);
    }
    json_decref(j);
    return rc;
}

int qk_client_conf_save(const qk_client_conf *c, const char *path, char *msg, size_t n)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "url", c->url, "token",
                          c->token, "device_id", c->device_id, "branch", c->branch, "cacert",
                          c->cacert, "pin", c->pin, "roster_cursor", (json_int_t)c->roster_cursor,
                          "last_sync_ms", (json_int_t)c->last_sync_ms, "clock_offset_ms",
                          (json_int_t)c->clock_offset_ms);
    if (j && c->server_key[0])
        json_object_set_new(j, "server_key", json_string(c->server_key));
    if (j && c->branch_name[0])
        json_object_set_new(j, "branch_name", json_string(c->branch_name));
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    size_t len = text ? strlen(text) : 0;
    int ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
             fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        qk__ymsgf(QK_LANG_EN, msg, n, QK_Y_WRITE, path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return QK_EIO;
    }
    return QK_OK;
}
