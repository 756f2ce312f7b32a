/* http_msg.c: requests and replies as handlers see them (http.h), apart from
 * the server that carries them: the kiosk's handler runs behind the HTTP
 * server on a kiosk and in-process in the phone app (WebAssembly), where
 * there is no libmicrohttpd. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"

int qk_http_is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
           strncmp(addr, "::ffff:127.", 11) == 0;
}

const char *qk_http_header(const qk_http_req *r, const char *name)
{
    return r->lookup ? r->lookup(r, 0, name) : NULL;
}

const char *qk_http_query(const qk_http_req *r, const char *name)
{
    return r->lookup ? r->lookup(r, 1, name) : NULL;
}

void qk_http_add_header(qk_http_resp *r, const char *name, const char *value)
{
    if (r->n_headers < (int)(sizeof r->headers / sizeof r->headers[0])) {
        snprintf(r->headers[r->n_headers][0], sizeof r->headers[0][0], "%s", name);
        snprintf(r->headers[r->n_headers][1], sizeof r->headers[0][1], "%s", value);
        r->n_headers++;
    }
}

void qk_http_json(qk_http_resp *r, int status, json_t *body)
{
    free(r->body);
    r->status = status;
    /* 15 significant digits: a figure rounded to 33.3 is sent as 33.3, not
     * as the nearest double's 33.299999999999997 */
    r->body = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    r->len = r->body ? strlen(r->body) : 0;
    r->type = "application/json";
    json_decref(body);
    if (!r->body) {
        r->status = 500;
        r->body = strdup("{\"error\":{\"code\":\"server_error\",\"message\":\"out of memory\"}}");
        r->len = r->body ? strlen(r->body) : 0;
    }
}

void qk_http_error(qk_http_resp *r, int status, const char *code, const char *message)
{
    qk_http_json(r, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message",
                                      message ? message : code));
}

static const char *type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"}, {".json", "application/json"},
                 {".svg", "image/svg+xml"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
                 {".woff2", "font/woff2"}, {".ico", "image/x-icon"},
                 {".wasm", "application/wasm"}, {".webmanifest", "application/manifest+json"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

void qk_http_send_file(qk_http_resp *r, const char *path, const char *type)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        qk_http_error(r, 404, "not_found", path ? strrchr(path, '/') ? strrchr(path, '/') + 1 : path : "?");
        return;
    }
    r->status = 200;
    r->fd = fd;
    r->off = 0;
    r->flen = (uint64_t)st.st_size;
    r->type = type ? type : type_of(path);
    if (strncmp(r->type, "text/html", 9) == 0) {
        /* pages run only their own scripts and talk only to this server */
        qk_http_add_header(r, "Content-Security-Policy",
                           r->wasm_page
                               ? "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' "
                                 "data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
                                 "base-uri 'none'; form-action 'self'"
                               : "default-src 'self'; img-src 'self' data: blob:; style-src 'self' "
                                 "'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
        qk_http_add_header(r, "Referrer-Policy", "no-referrer");
    }
}

void qk_http_revalidate(const qk_http_req *rq, qk_http_resp *r)
{
    struct stat st;
    if (r->fd < 0 || fstat(r->fd, &st) != 0)
        return;
    char etag[80];
    snprintf(etag, sizeof etag, "\"%llx-%llx.%lx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
    qk_http_add_header(r, "ETag", etag);
    const char *inm = qk_http_header(rq, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(r->fd);
        r->fd = -1;
        r->flen = 0;
        r->status = 304;
    }
}

void qk_http_static(qk_http_resp *r, const char *root, const char *rel)
{
    int parts = 1, ok = root && rel && *rel && *rel != '.' && strlen(rel) < 200;
    for (const char *p = rel; ok && *p; p++) {
        if (*p == '/') {
            ok = ++parts <= 2 && p[1] && p[1] != '.' && p[1] != '/';
        } else {
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '.' || *p == '_' || *p == '-';
        }
    }
    if (!ok) {
        qk_http_error(r, 404, "not_found", rel ? rel : "?");
        return;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    qk_http_send_file(r, path, NULL);
}
