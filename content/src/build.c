/* build.c: a source folder (bundle.json + question files) -> a bundle file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "content_msg.h"
#include "qk_content.h"

#define MAX_SOURCE_FILE (64u * 1024 * 1024)

typedef struct build {
    qk_lang lang;
    qk_diag_fn fn;
    void *payload;
    qk_build_stats *stats;
    qk_bundle_writer *w;
    const char *file; /* file being read, for the sink's diagnostics */
} build;

/* Counts every diagnostic before passing it on, so the build's verdict does not
 * depend on who reported a problem. */
static void relay(const qk_diag *d, void *payload)
{
    build *b = payload;
    if (d->level == QK_DIAG_ERROR)
        b->stats->n_errors++;
    else
        b->stats->n_warnings++;
    if (b->fn)
        b->fn(d, b->payload);
}

static void say(build *b, const char *file, int line, const char *text)
{
    qk_diag d = {QK_DIAG_ERROR, file, line, 0, text};
    relay(&d, b);
}

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
static void format_one(qk_lang lang, char *out, size_t n, qk__cmsg id, const char *arg)
{
    snprintf(out, n, qk__cmsg_text(lang, id), arg);
}

/* Reports catalogue message id with one string argument. */
static void sayf(build *b, const char *file, int line, qk__cmsg id, const char *arg)
{
    char text[600];
    format_one(b->lang, text, sizeof text, id, arg);
    say(b, file, line, text);
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

static char *read_file(const char *path, size_t *len, int *err)
{
    *err = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            if (cap >= MAX_SOURCE_FILE) {
                *err = EFBIG;
                break;
            }
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                *err = ENOMEM;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                *err = EIO;
            break;
        }
    }
    fclose(f);
    if (*err) {
        free(buf);
        return NULL;
    }
    if (!buf && !(buf = malloc(1))) {
        *err = ENOMEM;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int sink(const qk_question *q, int line, void *payload)
{
    build *b = payload;
    int rc = qk_bundle_writer_question(b->w, q);
    if (rc != QK_OK) {
        say(b, b->file, line, qk_bundle_writer_errmsg(b->w));
        return rc;
    }
    b->stats->n_questions++;
    return QK_OK;
}

static const char *str_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int qk_content_build(const char *src_dir, const char *out_path, qk_lang lang, qk_diag_fn fn,
                     void *payload, qk_build_stats *stats)
{
    qk_build_stats local = {0};
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    build b = {lang, fn, payload, stats, NULL, NULL};
    char *mpath = join(src_dir, "bundle.json");
    char *text = NULL;
    json_t *root = NULL;
    int status = QK_OK;
    char line[600];
    if (!mpath)
        return QK_ENOMEM;

    struct stat sb;
    if (stat(src_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        sayf(&b, src_dir, 0, QK_C_NOT_DIR, strerror(errno ? errno : ENOTDIR));
        status = QK_EIO;
        goto out;
    }
    size_t len = 0;
    int err = 0;
    text = read_file(mpath, &len, &err);
    if (!text) {
        sayf(&b, mpath, 0, QK_C_NO_MANIFEST, strerror(err));
        status = QK_EIO;
        goto out;
    }
    json_error_t jerr;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        if (root) {
            snprintf(line, sizeof line, "%s", qk__cmsg_text(lang, QK_C_JSON_TOP));
        } else {
            char inner[sizeof line];
            snprintf(inner, sizeof inner, "%s", jerr.text);
            format_one(lang, line, sizeof line, QK_C_JSON, inner);
        }
        qk_diag d = {QK_DIAG_ERROR, mpath, root ? 1 : jerr.line, root ? 0 : jerr.column, line};
        relay(&d, &b);
        status = QK_EINVAL;
        goto out;
    }
    qk_manifest m = {str_field(root, "id"), str_field(root, "version"), str_field(root, "title"),
                     str_field(root, "language")};
    status = qk_bundle_writer_open(&b.w, out_path, lang);
    if (status != QK_OK) {
        say(&b, out_path, 0, qk_bundle_writer_errmsg(b.w));
        goto out;
    }
    if (qk_bundle_writer_manifest(b.w, &m) != QK_OK)
        say(&b, mpath, 1, qk_bundle_writer_errmsg(b.w));

    json_t *themes = json_object_get(root, "themes");
    size_t n_themes = json_is_array(themes) ? json_array_size(themes) : 0;
    if (n_themes == 0)
        say(&b, mpath, 1, qk__cmsg_text(lang, QK_C_NO_THEMES));
    for (size_t i = 0; i < n_themes; i++) {
        json_t *t = json_array_get(themes, i);
        const char *tid = str_field(t, "id");
        if (qk_bundle_writer_theme(b.w, tid, str_field(t, "title"), str_field(t, "description")) !=
            QK_OK)
            say(&b, mpath, 0, qk_bundle_writer_errmsg(b.w));
        else
            stats->n_themes++;
    }

    json_t *files = json_object_get(root, "files");
    size_t n_files = json_is_array(files) ? json_array_size(files) : 0;
    if (n_files == 0)
        say(&b, mpath, 1, qk__cmsg_text(lang, QK_C_NO_FILES));
    for (size_t i = 0; i < n_files; i++) {
        const char *name = json_string_value(json_array_get(files, i));
        if (!name || strstr(name, "..")) {
            say(&b, mpath, 0, qk__cmsg_text(lang, QK_C_BAD_FILE_NAME));
            continue;
        }
        char *path = join(src_dir, name);
        size_t flen = 0;
        char *ftext = path ? read_file(path, &flen, &err) : NULL;
        if (!ftext) {
            sayf(&b, path ? path : name, 0, QK_C_READ, strerror(path ? err : ENOMEM));
        } else {
            b.file = path;
            qk_content_parse_questions(path, ftext, flen, NULL, lang, relay, &b, sink, &b);
        }
        free(ftext);
        free(path);
    }
    if (stats->n_questions == 0 && stats->n_errors == 0)
        say(&b, mpath, 0, qk__cmsg_text(lang, QK_C_NO_QUESTIONS));
    if (stats->n_errors > 0) {
        status = QK_EINVAL;
        goto out;
    }
    if (qk_bundle_writer_commit(b.w) != QK_OK) {
        say(&b, out_path, 0, qk_bundle_writer_errmsg(b.w));
        status = QK_EIO;
    }
out:
    qk_bundle_writer_free(b.w); /* removes the temporary file unless committed */
    json_decref(root);
    free(text);
    free(mpath);
    return status;
}
