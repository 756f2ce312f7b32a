/* build.c: a source folder (bundle.json + question files) or a single question
 * file -> a bundle. Also the checks that need the whole build in view:
 * themes, duplicates, long texts, media, and signing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdarg.h>

#include <jansson.h>

#include "import.h"
#include "lesson_source.h"

#define MAX_SOURCE_FILE ((size_t)64 * 1024 * 1024)
#define MAX_MEDIA_FILE ((size_t)16 * 1024 * 1024)
/* Characters (code points): above LONG_* a warning (hard to read on a
 * phone or the kiosk), above MAX_* the question is refused (docs/authoring.md). */
#define LONG_OPTION 100
#define LONG_STEM 300
#define MAX_OPTION 500
#define MAX_STEM 2000
#define MAX_EXPLANATION 5000

typedef struct theme {
    char *id, *title;
    size_t n_questions;
} theme;

typedef struct seen {
    char fp[65];    /* fingerprint of stem and options, folded */
    char exact[65]; /* the same, as written */
    char *file, *id;
    char *name;     /* how messages name it (question_name) */
    char *key;      /* its answer as shown (A, 对, 南湖 / 嘉兴南湖) */
    int line;
} seen;

typedef struct build {
    const qk_build_opts *o;
    qk_build_stats *stats;
    qk_bundle_writer *w;
    int single;       /* a single file: themes are declared as they appear */
    theme *themes;
    size_t n_themes;
    seen *seen;
    size_t n_seen, cap_seen;
    qk__idset fps; /* the folded fingerprints seen (--skip-duplicates) */
    seen *refused;    /* questions refused for errors, by the ids their authors wrote */
    size_t n_refused;
    char **media;     /* names already packed */
    size_t n_media;
    const char *file; /* file being read */
    char *dir;        /* its folder, for media */
    const char *default_theme;
    int unreadable; /* a source file could not be read: an I/O failure, not content */
} build;

qk_source_format qk_source_format_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return QK_SRC_UNKNOWN;
    char ext[8];
    size_t n = strlen(dot + 1);
    if (n >= sizeof ext)
        return QK_SRC_UNKNOWN;
    for (size_t i = 0; i <= n; i++)
        ext[i] = (char)(dot[1 + i] >= 'A' && dot[1 + i] <= 'Z' ? dot[1 + i] + 32 : dot[1 + i]);
    if (strcmp(ext, "json") == 0)
        return QK_SRC_JSON;
    if (strcmp(ext, "csv") == 0 || strcmp(ext, "tsv") == 0)
        return QK_SRC_CSV;
    if (strcmp(ext, "xlsx") == 0)
        return QK_SRC_XLSX;
    if (strcmp(ext, "gift") == 0)
        return QK_SRC_GIFT;
    if (strcmp(ext, "txt") == 0)
        return QK_SRC_AIKEN;
    if (strcmp(ext, "md") == 0)
        return QK_SRC_LESSON;
    return QK_SRC_UNKNOWN;
}

size_t qk_content_parse(qk_source_format format, const char *file, const char *text, size_t len,
                        const char *default_theme, qk_lang lang, qk_diag_fn fn, void *fn_payload,
                        qk_question_sink add, void *add_payload)
{
    return qk__content_parse(format, file, text, len, default_theme, lang, fn, fn_payload, add,
                             add_payload, NULL, NULL);
}

size_t qk__content_parse(qk_source_format format, const char *file, const char *text, size_t len,
                         const char *default_theme, qk_lang lang, qk_diag_fn fn, void *fn_payload,
                         qk_question_sink add, void *add_payload,
                         void (*rejected)(const char *id, int line, void *payload), const char *sheet)
{
    qk__src s = {file, text, len, default_theme, lang, fn, fn_payload, add, add_payload, 0, NULL,
                 rejected, {NULL, 0, 0, NULL}, {NULL, 0, 0, NULL}, sheet};
    switch (format) {
    case QK_SRC_JSON: qk__import_json(&s); break;
    case QK_SRC_CSV: qk__import_csv(&s); break;
    case QK_SRC_XLSX: qk__import_xlsx(&s); break;
    case QK_SRC_GIFT: qk__import_gift(&s); break;
    case QK_SRC_AIKEN: qk__import_aiken(&s); break;
    case QK_SRC_LESSON: {
        qk__lesson l;
        qk__parse_lesson(&s, "lesson", &l);
        qk__lesson_free(&l);
        break;
    }
    default: qk__diag(&s, QK_DIAG_ERROR, 0, 0, QK_C_UNKNOWN_FORMAT);
    }
    qk__label(&s, NULL);
    qk__idset_free(&s.made);
    qk__idset_free(&s.made_next);
    return s.errors;
}

/* Counts every diagnostic before passing it on. */
static void relay(const qk_diag *d, void *payload)
{
    build *b = payload;
    if (d->level == QK_DIAG_ERROR)
        b->stats->n_errors++;
    else
        b->stats->n_warnings++;
    if (b->o->fn)
        b->o->fn(d, b->o->payload);
}

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif

static void say(build *b, qk_diag_level level, const char *file, int line, qk__cmsg id, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, id);
    vsnprintf(text, sizeof text, qk__cmsg_text(b->o->lang, id), ap);
    va_end(ap);
    qk_diag d = {level, file, line, 0, text};
    relay(&d, b);
}

static void say_text(build *b, const char *file, int line, const char *text)
{
    qk_diag d = {QK_DIAG_ERROR, file, line, 0, text};
    relay(&d, b);
}

/* "question ID: ..." */
static void qsay(build *b, qk_diag_level level, int line, const char *qid, qk__cmsg id, ...)
{
    char detail[768];
    va_list ap;
    va_start(ap, id);
    vsnprintf(detail, sizeof detail, qk__cmsg_text(b->o->lang, id), ap);
    va_end(ap);
    say(b, level, b->file, line, QK_C_Q_PREFIX, qid, detail);
}

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

static const theme *find_theme(const build *b, const char *key)
{
    for (size_t i = 0; i < b->n_themes; i++) {
        if (strcmp(b->themes[i].id, key) == 0)
            return &b->themes[i];
    }
    for (size_t i = 0; i < b->n_themes; i++) {
        if (strcmp(b->themes[i].title, key) == 0)
            return &b->themes[i];
    }
    return NULL;
}

static const theme *add_theme(build *b, const char *id, const char *title, const char *desc,
                              const char *file, int line)
{
    if (qk_bundle_writer_theme(b->w, id, title, desc) != QK_OK) {
        say_text(b, file, line, qk_bundle_writer_errmsg(b->w));
        return NULL;
    }
    theme *nv = realloc(b->themes, (b->n_themes + 1) * sizeof *nv);
    if (!nv)
        return NULL;
    b->themes = nv;
    theme *t = &b->themes[b->n_themes++];
    t->id = qk__dup(id);
    t->title = qk__dup(title);
    t->n_questions = 0;
    b->stats->n_themes++;
    return t;
}

/* A theme named in a single file that has no manifest: declared on first use,
 * with an id made from its title so the id is the same in every build. */
static const theme *auto_theme(build *b, const char *title, int line)
{
    const theme *t = find_theme(b, title);
    if (t)
        return t;
    char *id = qk__hash_id("t-", title);
    t = id ? add_theme(b, id, title, NULL, b->file, line) : NULL;
    free(id);
    return t;
}

static const char *mime_of(const char *name)
{
    static const struct {
        const char *ext, *mime;
    } types[] = {{".png", "image/png"},  {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
                 {".mp3", "audio/mpeg"}, {".ogg", "audio/ogg"},  {".wav", "audio/wav"},
                 {".m4a", "audio/mp4"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++) {
        size_t n = strlen(types[i].ext);
        if (strlen(dot) == n) {
            size_t k = 0;
            while (k < n && (dot[k] | 0x20) == types[i].ext[k])
                k++;
            if (k == n)
                return types[i].mime;
        }
    }
    return NULL;
}

/* Packs every medium referenced as ![caption](name) in text. */
static void pack_media(build *b, const char *qid, const char *text, int line)
{
    for (const char *p = text ? strstr(text, "![") : NULL; p; p = strstr(p + 2, "![")) {
        const char *close = strstr(p, "](");
        const char *end = close ? strchr(close + 2, ')') : NULL;
        if (!close || !end)
            continue;
        char *name = qk__dupn(close + 2, (size_t)(end - close - 2));
        if (!name)
            return;
        int known = 0;
        for (size_t i = 0; i < b->n_media && !known; i++)
            known = strcmp(b->media[i], name) == 0;
        const char *mime = mime_of(name);
        if (known) {
            /* already packed */
        } else if (!mime || strstr(name, "..") || name[0] == '/') {
            say(b, QK_DIAG_ERROR, b->file, line, QK_C_MEDIA_TYPE, qid, name);
        } else {
            char *path = join(b->dir, name);
            size_t len = 0;
            int err = 0;
            char *data = path ? read_file(path, &len, &err) : NULL;
            if (!data) {
                say(b, QK_DIAG_ERROR, b->file, line, QK_C_MEDIA_MISSING, qid, name);
            } else if (len > MAX_MEDIA_FILE) {
                say(b, QK_DIAG_ERROR, b->file, line, QK_C_MEDIA_BIG, name);
            } else if (qk_bundle_writer_media(b->w, name, mime, data, len) != QK_OK) {
                say_text(b, b->file, line, qk_bundle_writer_errmsg(b->w));
            } else {
                char **nv = realloc(b->media, (b->n_media + 1) * sizeof *nv);
                if (nv) {
                    b->media = nv;
                    b->media[b->n_media++] = name;
                    name = NULL;
                }
            }
            free(data);
            free(path);
        }
        free(name);
    }
}

/* How messages name a question: its id as the author wrote it, or, for an
 * id made from its stem (q-, g- or a- and ten hex digits, maybe -2), the
 * start of the stem, which is what the author knows it by. */
static const char *question_name(const qk_question *q, char *buf, size_t n)
{
    const char *id = q->id;
    int made = id && strlen(id) >= 12 && (id[0] == 'q' || id[0] == 'g' || id[0] == 'a') && id[1] == '-';
    for (int i = 2; made && i < 12; i++)
        made = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    made = made && (id[12] == '\0' || id[12] == '-');
    if (!made || !q->stem || !q->stem[0])
        return id ? id : "?";
    size_t len = strlen(q->stem), cut = qk_text_fit(q->stem, len, 24);
    const char *nl = memchr(q->stem, '\n', cut);
    if (nl)
        cut = (size_t)(nl - q->stem);
    snprintf(buf, n, "“%.*s%s”", (int)cut, q->stem, cut < len ? "…" : "");
    return buf;
}

/* SHA-256 (hex) of the stem and options, folded (case, width, spaces and
 * punctuation do not hide a copy) into fp and as written into exact. 0 when
 * out of memory. */
static int fingerprint(const qk_question *q, char fp[65], char exact[65])
{
    size_t cap = 256, len = 0, elen = 0;
    char *buf = malloc(cap), *ebuf = NULL;
    const char *parts[QK_MAX_OPTIONS + 1];
    size_t n = 0, etotal = 0;
    parts[n++] = q->stem;
    for (size_t i = 0; i < q->n_options; i++)
        parts[n++] = q->options[i].text;
    for (size_t i = 0; i < n; i++)
        etotal += strlen(parts[i]) + 1;
    ebuf = malloc(etotal + 1);
    for (size_t i = 0; ebuf && i < n; i++) {
        size_t pl = strlen(parts[i]);
        memcpy(ebuf + elen, parts[i], pl);
        elen += pl;
        ebuf[elen++] = '\x1f';
    }
    for (size_t i = 0; buf && i < n; i++) {
        char *f = NULL;
        if (qk_text_fold(&f, parts[i], strlen(parts[i])) != QK_OK)
            continue;
        size_t fl = strlen(f);
        if (len + fl + 2 > cap) {
            cap = (len + fl + 2) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(f);
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        memcpy(buf + len, f, fl);
        len += fl;
        buf[len++] = '\x1f';
        free(f);
    }
    int ok = buf && ebuf;
    if (ok) {
        qk_sha256_hex(fp, buf, len);
        qk_sha256_hex(exact, ebuf, elen);
    }
    free(buf);
    free(ebuf);
    return ok;
}

static void remember(build *b, const qk_question *q, int line, const char *fp, const char *exact)
{
    if (b->n_seen == b->cap_seen) {
        size_t c = b->cap_seen ? b->cap_seen * 2 : 256;
        seen *nv = realloc(b->seen, c * sizeof *nv);
        if (!nv)
            return;
        b->seen = nv;
        b->cap_seen = c;
    }
    seen *s = &b->seen[b->n_seen++];
    snprintf(s->fp, sizeof s->fp, "%s", fp);
    snprintf(s->exact, sizeof s->exact, "%s", exact);
    s->file = qk__dup(b->file);
    s->id = qk__dup(q->id);
    char name[160];
    s->name = qk__dup(question_name(q, name, sizeof name));
    s->key = NULL;
    qk_question_answer_show(&s->key, q, NULL, b->o->lang, QK_SHOW_LETTERS);
    s->line = line;
}

/* The first question (refused or accepted) with this id, or NULL. O(n) a
 * call: called for refused questions, and per question only over those
 * refused, which are few. */
static const seen *id_taken(const seen *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].id && strcmp(v[i].id, id) == 0)
            return &v[i];
    }
    return NULL;
}

/* A question refused for its errors keeps its id taken: another question
 * with that id is a duplicate whichever of the two is fixed first. */
static void refuse(const char *id, int line, void *payload)
{
    build *b = payload;
    const seen *first = id_taken(b->seen, b->n_seen, id);
    if (!first)
        first = id_taken(b->refused, b->n_refused, id);
    if (first) {
        qsay(b, QK_DIAG_ERROR, line, id, QK_C_DUP_ID, first->file, first->line);
        return;
    }
    seen *nv = realloc(b->refused, (b->n_refused + 1) * sizeof *nv);
    if (!nv)
        return;
    b->refused = nv;
    memset(&nv[b->n_refused], 0, sizeof *nv);
    nv[b->n_refused].file = qk__dup(b->file);
    nv[b->n_refused].id = qk__dup(id);
    nv[b->n_refused].line = line;
    b->n_refused++;
}

/* Characters (code points) of UTF-8 text. */
static size_t chars_of(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int sink(const qk_question *q, int line, void *payload)
{
    build *b = payload;
    char nbuf[160];
    const char *who = question_name(q, nbuf, sizeof nbuf);
    const seen *first = id_taken(b->refused, b->n_refused, q->id);
    if (first) {
        qsay(b, QK_DIAG_ERROR, line, who, QK_C_DUP_ID, first->file, first->line);
        return QK_EINVAL;
    }
    const char *want = q->theme && q->theme[0] ? q->theme : b->default_theme;
    const theme *t = NULL;
    if (b->single)
        t = auto_theme(b, want ? want : "", line);
    else
        t = want ? find_theme(b, want) : NULL;
    qk_question copy = *q;
    copy.theme = t ? t->id : (char *)(want ? want : "");
    /* Text too long to show is refused; long text is warned about. */
    size_t chars = chars_of(q->stem);
    if (chars > MAX_STEM) {
        qsay(b, QK_DIAG_ERROR, line, who, QK_C_TOO_LONG_STEM, chars, MAX_STEM);
        return QK_EINVAL;
    }
    if (q->explanation && chars_of(q->explanation) > MAX_EXPLANATION) {
        qsay(b, QK_DIAG_ERROR, line, who, QK_C_TOO_LONG_EXPLANATION, chars_of(q->explanation),
             MAX_EXPLANATION);
        return QK_EINVAL;
    }
    for (size_t i = 0; i < q->n_options; i++) {
        size_t w = chars_of(q->options[i].text);
        if (w > MAX_OPTION) {
            qsay(b, QK_DIAG_ERROR, line, who, QK_C_TOO_LONG_OPTION, (int)('A' + i), w, MAX_OPTION);
            return QK_EINVAL;
        }
    }
    if (chars > LONG_STEM)
        qsay(b, QK_DIAG_WARNING, line, who, QK_C_LONG_STEM, chars);
    for (size_t i = 0; i < q->n_options; i++) {
        size_t w = chars_of(q->options[i].text);
        if (w > LONG_OPTION)
            qsay(b, QK_DIAG_WARNING, line, who, QK_C_LONG_OPTION, (int)('A' + i), w);
    }
    char fp[65], exact[65];
    if (!fingerprint(q, fp, exact))
        fp[0] = exact[0] = '\0';
    if (b->o->skip_duplicates && fp[0] && qk__idset_add(&b->fps, fp) == 0) {
        /* a copy of an earlier question: left out, said with both lines;
         * one whose answer differs is no copy to leave out, but an error */
        for (size_t i = 0; i < b->n_seen; i++) {
            if (strcmp(b->seen[i].fp, fp) != 0)
                continue;
            char *key = NULL;
            qk_question_answer_show(&key, q, NULL, b->o->lang, QK_SHOW_LETTERS);
            int same = key && b->seen[i].key && strcmp(key, b->seen[i].key) == 0;
            if (same)
                qsay(b, QK_DIAG_WARNING, line, who, QK_C_DUP_SKIPPED, b->seen[i].file, b->seen[i].line,
                     qk__cmsg_text(b->o->lang, strcmp(b->seen[i].exact, exact) == 0 ? QK_C_SAME_EXACT
                                                                                     : QK_C_SAME_FOLDED));
            else
                qsay(b, QK_DIAG_ERROR, line, who, QK_C_DUP_CONFLICT, b->seen[i].file, b->seen[i].line,
                     b->seen[i].key ? b->seen[i].key : "?", key ? key : "?");
            free(key);
            return same ? QK_OK : QK_EINVAL;
        }
        return QK_OK;
    }
    if (qk_bundle_writer_question(b->w, &copy) != QK_OK) {
        say_text(b, b->file, line, qk_bundle_writer_errmsg(b->w));
        return QK_EINVAL;
    }
    if (t)
        ((theme *)t)->n_questions++;
    b->stats->n_questions++;
    if (fp[0])
        remember(b, q, line, fp, exact);
    pack_media(b, q->id, q->stem, line);
    pack_media(b, q->id, q->explanation, line);
    return QK_OK;
}

static int cmp_seen(const void *x, const void *y)
{
    const seen *a = x, *b = y;
    int c = strcmp(a->fp, b->fp);
    if (c)
        return c;
    c = strcmp(a->file, b->file);
    return c ? c : a->line - b->line;
}

static void report_duplicates(build *b)
{
    if (b->n_seen > 1)
        qsort(b->seen, b->n_seen, sizeof *b->seen, cmp_seen);
    for (size_t i = 1; i < b->n_seen; i++) {
        size_t k = i;
        while (k > 0 && strcmp(b->seen[k - 1].fp, b->seen[i].fp) == 0)
            k--;
        const seen *first = &b->seen[k];
        if (k != i) {
            char detail[768];
            const seen *d = &b->seen[i];
            if (first->key && d->key && strcmp(first->key, d->key) != 0)
                snprintf(detail, sizeof detail, qk__cmsg_text(b->o->lang, QK_C_DUP_CONFLICT), first->file,
                         first->line, first->key, d->key);
            else
                snprintf(detail, sizeof detail, qk__cmsg_text(b->o->lang, QK_C_DUPLICATE), first->name,
                         first->file, first->line,
                         qk__cmsg_text(b->o->lang, strcmp(first->exact, d->exact) == 0 ? QK_C_SAME_EXACT
                                                                                      : QK_C_SAME_FOLDED));
            say(b, QK_DIAG_ERROR, d->file, d->line, QK_C_Q_PREFIX, d->name, detail);
        }
    }
}

/* A lesson file: parse and check it, then write it with its checkpoint
 * questions and the media its pages show. */
static void import_lesson(build *b, const char *path, const char *text, size_t len)
{
    qk__src src = {path, text, len, b->default_theme, b->o->lang, relay, b, NULL, NULL, 0, NULL, NULL,
                   {NULL, 0, 0, NULL}, {NULL, 0, 0, NULL}, NULL};
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char *stem = qk__dupn(base, strrchr(base, '.') ? (size_t)(strrchr(base, '.') - base) : strlen(base));
    qk__lesson l;
    memset(&l, 0, sizeof l);
    size_t before = b->stats->n_errors;
    if (stem && qk__parse_lesson(&src, stem, &l) == 0) {
        const char *want = l.theme ? l.theme : b->default_theme;
        const theme *t = b->single ? auto_theme(b, want ? want : l.title ? l.title : "", 1)
                                   : want ? find_theme(b, want) : NULL;
        if (!t) {
            say(b, QK_DIAG_ERROR, path, 1, QK_C_L_THEME, l.id ? l.id : "?", want ? want : "");
        } else if (b->stats->n_errors == before) {
            qk_lesson_step_src *steps = calloc(l.n_steps, sizeof *steps);
            qk_lesson_choice_src *choices = calloc(l.n_steps * QK_LESSON_MAX_CHOICES + 1, sizeof *choices);
            for (size_t i = 0; steps && choices && i < l.n_steps; i++) {
                qk__lstep *ls = &l.steps[i];
                if (ls->question) {
                    free(ls->question->theme);
                    ls->question->theme = qk__dup(t->id);
                }
                qk_lesson_choice_src *cs = choices + i * QK_LESSON_MAX_CHOICES;
                for (size_t c = 0; c < ls->n_choices; c++) {
                    qk__lchoice *lc = &ls->choices[c];
                    qk_lesson_choice_src x = {lc->text, lc->target, lc->delta, lc->has_min,
                                              lc->min_score, lc->has_max, lc->max_score};
                    cs[c] = x;
                }
                qk_lesson_step_src st = {ls->id, ls->type, ls->body, ls->next, ls->score,
                                         ls->question, ls->n_choices, cs};
                steps[i] = st;
                b->file = path;
                pack_media(b, l.id, ls->body, ls->line);
            }
            qk_lesson_src src_l = {l.id, t->id, l.title, l.kind, l.completion, l.scoring,
                                   l.minutes > 0 ? l.minutes : 5, l.n_steps, steps};
            if (!steps || !choices)
                say(b, QK_DIAG_ERROR, path, 0, QK_C_READ, strerror(ENOMEM));
            else if (qk_bundle_writer_lesson(b->w, &src_l) != QK_OK)
                say_text(b, path, 1, qk_bundle_writer_errmsg(b->w));
            else
                b->stats->n_lessons++;
            free(steps);
            free(choices);
        }
    }
    qk__lesson_free(&l);
    qk__idset_free(&src.made);
    free(stem);
}

/* Reads, decodes and imports one question file. */
/* A .txt file is Aiken by its name; one that is GIFT inside (saved as
 * 题库.gift.txt by an editor that adds .txt) has answer blocks {=… ~…} or
 * ::titles:: and no ANSWER line. */
static int gift_inside(const char *text)
{
    int gift = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *t = p;
        while (t < p + n && (*t == ' ' || *t == '\t'))
            t++;
        if (strncmp(t, "ANSWER", 6) == 0 || strncmp(t, "Answer", 6) == 0 || strncmp(t, "answer", 6) == 0 ||
            strncmp(t, "答案", strlen("答案")) == 0 || strncmp(t, "正确答案", strlen("正确答案")) == 0)
            return 0; /* Aiken's own line */
        if (strncmp(t, "::", 2) == 0 || strncmp(t, "$CATEGORY:", 10) == 0)
            gift = 1;
        for (const char *k = t; k < p + n; k++) {
            if (*k != '{')
                continue;
            const char *c = k + 1;
            while (c < p + n && (*c == ' ' || *c == '\t'))
                c++;
            if (c >= p + n || *c == '=' || *c == '~') /* a block, or one that goes on below */
                gift = 1;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return gift;
}

static void import_file(build *b, const char *path, qk_source_format fmt)
{
    size_t len = 0;
    int err = 0, converted = 0, bad_line = 0;
    char *raw = read_file(path, &len, &err);
    if (!raw) {
        say(b, QK_DIAG_ERROR, path, 0, QK_C_READ, strerror(err));
        b->unreadable = 1;
        return;
    }
    size_t ulen = 0;
    char *text = NULL;
    if (fmt == QK_SRC_XLSX) { /* a zip: read as it is */
        text = raw;
        ulen = len;
    } else {
        text = fmt == QK_SRC_UNKNOWN ? NULL : qk_text_decode(raw, len, &ulen, &converted, &bad_line);
        free(raw);
    }
    free(b->dir);
    const char *slash = strrchr(path, '/');
    b->dir = slash ? qk__dupn(path, (size_t)(slash - path)) : qk__dup(".");
    b->file = path;
    if (fmt == QK_SRC_UNKNOWN) {
        say(b, QK_DIAG_ERROR, path, 0, QK_C_UNKNOWN_FORMAT);
    } else if (!text) {
        say(b, QK_DIAG_ERROR, path, bad_line, converted == QK_DECODE_NUL ? QK_C_NUL : QK_C_ENCODING);
    } else if (fmt == QK_SRC_LESSON) {
        import_lesson(b, path, text, ulen);
    } else {
        if (fmt == QK_SRC_AIKEN && gift_inside(text)) {
            say(b, QK_DIAG_WARNING, path, 0, QK_C_GIFT_IN_TXT);
            fmt = QK_SRC_GIFT;
        }
        qk__content_parse(fmt, path, text, ulen, b->default_theme, b->o->lang, relay, b, sink, b,
                          refuse, b->o->sheet);
    }
    free(text);
}

/* id and title from a file name: "学雷锋题库.csv" -> title 学雷锋题库; the id keeps
 * ASCII letters and digits, or is made from the title. */
static void names_from_file(const char *path, char **id, char **title)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot > base ? (size_t)(dot - base) : strlen(base);
    *title = qk__dupn(base, n);
    char *slug = malloc(n + 1);
    size_t w = 0, alnum = 0;
    for (size_t i = 0; slug && i < n; i++) {
        char c = base[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            slug[w++] = c;
            alnum++;
        } else if ((c == '-' || c == '_' || c == '.' || c == ' ') && w > 0 && slug[w - 1] != '-') {
            slug[w++] = '-';
        }
    }
    while (w > 0 && slug[w - 1] == '-')
        w--;
    if (slug)
        slug[w] = '\0';
    /* Mostly Chinese names keep too little ASCII to tell bundles apart. */
    if (!slug || alnum * 2 < n || w < 3) {
        free(slug);
        slug = *title ? qk__hash_id("bundle-", *title) : NULL;
    }
    *id = slug;
}

static int build_single(build *b, const char *src)
{
    qk_source_format fmt = qk_source_format_of(src);
    char *id = NULL, *title = NULL;
    names_from_file(src, &id, &title);
    /* The version is the file's modification time (Beijing), so a re-saved
     * sheet is newer: "20261202.235930". */
    struct stat sb;
    char version[QK_TIME_LEN] = "1";
    if (stat(src, &sb) == 0) {
        char t[QK_TIME_LEN];
        qk_beijing_time_text((int64_t)sb.st_mtime * 1000, 1, t);
        size_t k = 0;
        for (const char *p = t; *p && k + 1 < sizeof version; p++) {
            if (*p >= '0' && *p <= '9')
                version[k++] = *p;
            else if (*p == ' ')
                version[k++] = '.';
        }
        version[k] = '\0';
    }
    qk_manifest m = {id, version, title, "zh-CN", 0, qk_clock_now_ms(b->o->clock)};
    if (!id || !title || qk_bundle_writer_manifest(b->w, &m) != QK_OK)
        say_text(b, src, 0, qk_bundle_writer_errmsg(b->w));
    b->single = 1;
    b->default_theme = title;
    import_file(b, src, fmt);
    b->default_theme = NULL;
    free(id);
    free(title);
    return QK_OK;
}

static const char *str_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int build_folder(build *b, const char *src)
{
    char *mpath = join(src, "bundle.json");
    size_t len = 0;
    int err = 0;
    char *text = mpath ? read_file(mpath, &len, &err) : NULL;
    if (!text) {
        say(b, QK_DIAG_ERROR, mpath ? mpath : src, 0, QK_C_NO_MANIFEST, strerror(err));
        free(mpath);
        return QK_EIO;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root || !json_is_object(root)) {
        if (root) {
            say(b, QK_DIAG_ERROR, mpath, 1, QK_C_JSON_TOP);
        } else {
            char msg[600];
            snprintf(msg, sizeof msg, qk__cmsg_text(b->o->lang, QK_C_JSON), jerr.text);
            qk_diag d = {QK_DIAG_ERROR, mpath, jerr.line, jerr.column, msg};
            relay(&d, b);
        }
        json_decref(root);
        free(mpath);
        return QK_EINVAL;
    }
    json_t *daily = json_object_get(root, "daily_count");
    qk_manifest m = {str_field(root, "id"), str_field(root, "version"), str_field(root, "title"),
                     str_field(root, "language"),
                     json_is_integer(daily) ? (int)json_integer_value(daily) : 0,
                     qk_clock_now_ms(b->o->clock)};
    if (qk_bundle_writer_manifest(b->w, &m) != QK_OK)
        say_text(b, mpath, 1, qk_bundle_writer_errmsg(b->w));
    json_t *themes = json_object_get(root, "themes");
    size_t n_themes = json_is_array(themes) ? json_array_size(themes) : 0;
    if (n_themes == 0)
        say(b, QK_DIAG_ERROR, mpath, 1, QK_C_NO_THEMES);
    for (size_t i = 0; i < n_themes; i++) {
        json_t *t = json_array_get(themes, i);
        const theme *added = add_theme(b, str_field(t, "id"), str_field(t, "title"),
                                       str_field(t, "description"), mpath, 0);
        /* "active": "03-05" or ["05-12", "08-19", "03-01..03-10"]: its themed days */
        json_t *act = json_object_get(t, "active");
        char days[256] = "";
        size_t used = 0;
        if (json_is_string(act))
            snprintf(days, sizeof days, "%s", json_string_value(act));
        for (size_t k = 0; json_is_array(act) && k < json_array_size(act); k++) {
            const char *d = json_string_value(json_array_get(act, k));
            used += (size_t)snprintf(days + used, used < sizeof days ? sizeof days - used : 0,
                                     "%s%s", k ? "," : "", d ? d : "?");
        }
        if (added && act && qk_bundle_writer_theme_days(b->w, added->id, days) != QK_OK)
            say_text(b, mpath, 0, qk_bundle_writer_errmsg(b->w));
        /* "guests": true opens the theme to residents without an account */
        if (added && json_is_true(json_object_get(t, "guests")) &&
            qk_bundle_writer_theme_guests(b->w, added->id) != QK_OK)
            say_text(b, mpath, 0, qk_bundle_writer_errmsg(b->w));
    }
    /* "points": [{"activity": "daily", "points": 1, "daily_cap": 5}, ...] */
    json_t *rules = json_object_get(root, "points");
    for (size_t i = 0; json_is_array(rules) && i < json_array_size(rules); i++) {
        json_t *r = json_array_get(rules, i);
        json_t *pts = json_object_get(r, "points"), *cap = json_object_get(r, "daily_cap");
        if (!json_is_integer(pts) || !json_is_integer(cap) ||
            qk_bundle_writer_point_rule(b->w, str_field(r, "activity"), (int)json_integer_value(pts),
                                        (int)json_integer_value(cap)) != QK_OK) {
            qk_bundle_writer_point_rule(b->w, str_field(r, "activity"), -1, -1); /* for the message */
            say_text(b, mpath, 0, qk_bundle_writer_errmsg(b->w));
        }
    }
    /* "competitions": [{"id": ..., "title": ..., ...}] (quizkit/competition.h) */
    json_t *comps = json_object_get(root, "competitions");
    for (size_t i = 0; json_is_array(comps) && i < json_array_size(comps); i++) {
        char *spec = json_dumps(json_array_get(comps, i), JSON_COMPACT | JSON_SORT_KEYS);
        if (!spec || qk_bundle_writer_competition(b->w, spec) != QK_OK)
            say_text(b, mpath, 0, qk_bundle_writer_errmsg(b->w));
        free(spec);
    }
    json_t *files = json_object_get(root, "files");
    size_t n_files = json_is_array(files) ? json_array_size(files) : 0;
    if (n_files == 0)
        say(b, QK_DIAG_ERROR, mpath, 1, QK_C_NO_FILES);
    for (size_t i = 0; i < n_files; i++) {
        /* "file.csv" or {"path": "file.csv", "theme": "leifeng"} */
        json_t *f = json_array_get(files, i);
        const char *name = json_is_string(f) ? json_string_value(f) : str_field(f, "path");
        if (!name || strstr(name, "..") || name[0] == '/') {
            say(b, QK_DIAG_ERROR, mpath, 0, QK_C_BAD_FILE_NAME);
            continue;
        }
        b->default_theme = json_is_object(f) ? str_field(f, "theme") : NULL;
        char *path = join(src, name);
        if (path)
            import_file(b, path, qk_source_format_of(name));
        b->file = NULL;
        free(path);
        b->default_theme = NULL;
    }
    json_decref(root);
    free(mpath);
    return QK_OK;
}

int qk_content_build(const char *src, const char *out_path, const qk_build_opts *opts,
                     qk_build_stats *stats)
{
    qk_build_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    build b;
    memset(&b, 0, sizeof b);
    b.o = opts;
    b.stats = stats;
    int status = QK_OK;
    char tmp_out[64] = "";
    struct stat sb;
    if (stat(src, &sb) != 0) { /* a name mistyped: said as such, not as "not a folder" */
        if (errno == ENOENT || errno == ENOTDIR)
            say(&b, QK_DIAG_ERROR, src, 0, QK_C_NOT_FOUND);
        else
            say(&b, QK_DIAG_ERROR, src, 0, QK_C_READ, strerror(errno ? errno : EIO));
        return QK_EIO;
    }
    if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) {
        say(&b, QK_DIAG_ERROR, src, 0, QK_C_NOT_DIR, strerror(ENOTDIR));
        return QK_EIO;
    }
    if (opts->check_only) {
        /* The checks use the real writer, on a scratch file that is never committed. */
        const char *tmpdir = getenv("TMPDIR");
        snprintf(tmp_out, sizeof tmp_out, "%s/quizkit-check.qkb",
                 tmpdir && *tmpdir && strlen(tmpdir) < 32 ? tmpdir : "/tmp");
        out_path = tmp_out;
    }
    status = qk_bundle_writer_open(&b.w, out_path, opts->lang);
    if (status != QK_OK) {
        say_text(&b, out_path, 0, qk_bundle_writer_errmsg(b.w));
        qk_bundle_writer_free(b.w);
        return QK_EIO;
    }
    if (opts->key && qk_bundle_writer_sign(b.w, opts->key) != QK_OK)
        say(&b, QK_DIAG_ERROR, src, 0, QK_C_KEY, qk_bundle_writer_errmsg(b.w));
    status = S_ISDIR(sb.st_mode) ? build_folder(&b, src) : build_single(&b, src);
    if (status == QK_OK) {
        report_duplicates(&b);
        if (stats->n_questions == 0 && stats->n_lessons == 0 && stats->n_errors == 0)
            say(&b, QK_DIAG_ERROR, src, 0, QK_C_NO_QUESTIONS);
        for (size_t i = 0; i < b.n_themes && !b.single; i++) {
            if (b.themes[i].n_questions == 0)
                say(&b, QK_DIAG_WARNING, src, 0, QK_C_EMPTY_THEME, b.themes[i].id);
        }
        if (stats->n_errors > 0)
            status = b.unreadable ? QK_EIO : QK_EINVAL;
        else if (!opts->check_only && qk_bundle_writer_commit(b.w) != QK_OK) {
            say_text(&b, out_path, 0, qk_bundle_writer_errmsg(b.w));
            status = QK_EIO;
        }
    } else if (stats->n_errors == 0) {
        status = QK_EIO;
    }
    qk_bundle_writer_free(b.w); /* removes the temporary file unless committed */
    for (size_t i = 0; i < b.n_themes; i++) {
        free(b.themes[i].id);
        free(b.themes[i].title);
    }
    free(b.themes);
    for (size_t i = 0; i < b.n_seen; i++) {
        free(b.seen[i].file);
        free(b.seen[i].id);
        free(b.seen[i].name);
        free(b.seen[i].key);
    }
    free(b.seen);
    qk__idset_free(&b.fps);
    for (size_t i = 0; i < b.n_refused; i++) {
        free(b.refused[i].file);
        free(b.refused[i].id);
    }
    free(b.refused);
    qk_strv_free(b.media, b.n_media);
    free(b.dir);
    return status;
}
