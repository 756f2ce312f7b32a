/* bundle.c: opening a bundle read-only (verified, or recalled from the device's
 * record of bundles it has verified), its manifest and themes, loading questions. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

#include <mbedtls/pk.h>

#include "bundle_format.h"

struct qk_bundle {
    sqlite3 *db;
    qk_lang lang;
    qk__err err;
    char *path;
    qk_bundle_info info;
    char *strings[8]; /* owned manifest strings behind info */
    qk_theme *themes;
    /* Per theme: when its quiz questions' sorts are consecutive integers,
     * the first (the question at position p has sort first + p; theme_walk). */
    struct theme_run {
        int on;
        int64_t first;
    } *runs;
    size_t n_checkpoints; /* questions that belong to lessons, not to quizzes */
    sqlite3_stmt *q_stmt, *opt_stmt, *blank_stmt, *tag_stmt, *at_stmt;
    char *signer;
    /* The quiz question lists of the themes drawn from (a bundle never
     * changes once open): read once, kept until the bundle is closed, so a
     * server's judge or a kiosk reads each theme's list once. */
    struct theme_list {
        char *theme;      /* NULL: all themes */
        const char **ids; /* into text: one allocation for the lot */
        char *text;
        size_t n;
    } *lists;
    size_t n_lists;
    /* Questions kept parsed once asked for (qk_bundle_keep_questions): an
     * open-addressed table by id, at most half full. */
    struct {
        int on;
        size_t n, cap;
        qk_question **slot;
    } kept;
};

const char *qk_bundle_errmsg(const qk_bundle *b)
{
    return b ? b->err.msg : "out of memory";
}

const qk_bundle_info *qk_bundle_info_get(const qk_bundle *b)
{
    return &b->info;
}

const qk_theme *qk_bundle_theme(const qk_bundle *b, size_t i)
{
    return i < b->info.n_themes ? &b->themes[i] : NULL;
}

const qk_theme *qk_bundle_theme_find(const qk_bundle *b, const char *id_or_title)
{
    for (size_t i = 0; i < b->info.n_themes; i++) {
        if (strcmp(b->themes[i].id, id_or_title) == 0)
            return &b->themes[i];
    }
    for (size_t i = 0; i < b->info.n_themes; i++) {
        if (strcmp(b->themes[i].title, id_or_title) == 0)
            return &b->themes[i];
    }
    return NULL;
}

/* SQLite URI for path: '%', '?' and '#' must be escaped in the path part. */
static char *file_uri(const char *path)
{
    qk__buf b = {0};
    qk__buf_str(&b, "file:");
    for (const char *p = path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            qk__buf_fmt(&b, "%%%02X", (unsigned char)*p);
        else
            qk__buf_add(&b, p, 1);
    }
    qk__buf_str(&b, "?mode=ro&immutable=1");
    return qk__buf_take(&b);
}

static int corrupt(qk_bundle *b, const char *why)
{
    return qk__errf(&b->err, b->lang, QK_ECORRUPT, QK_M_BUNDLE_CORRUPT, b->path, why);
}

/* Reads manifest value key (NULL if absent); caller frees. */
static char *manifest_value(qk_bundle *b, const char *key)
{
    sqlite3_stmt *st = NULL;
    char *v = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT value FROM manifest WHERE key = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = qk__strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return v;
}

static int load_manifest(qk_bundle *b)
{
    static const char *const keys[] = {"id",         "version",          "title",
                                       "language",   "publisher_key_id", "content_digest",
                                       "created",    "format"};
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(b->db, "SELECT value FROM manifest WHERE key = ?", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
            return corrupt(b, sqlite3_errmsg(b->db));
        if (strstr(sqlite3_errmsg(b->db), "no such table"))
            return qk__errf(&b->err, b->lang, QK_ECORRUPT, QK_M_BUNDLE_NOT, b->path);
        return qk__errf(&b->err, b->lang, QK_EIO, QK_M_BUNDLE_OPEN, b->path,
                        sqlite3_errmsg(b->db));
    }
    int status = QK_OK;
    for (size_t i = 0; i < 8 && status == QK_OK; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            b->strings[i] = qk__strdup((const char *)sqlite3_column_text(st, 0));
            if (!b->strings[i])
                status = QK_ENOMEM;
        } else if (step == SQLITE_DONE) {
            status = qk__errf(&b->err, b->lang, QK_ECORRUPT, QK_M_BUNDLE_FIELD, b->path, keys[i]);
        } else {
            status = corrupt(b, sqlite3_errmsg(b->db));
        }
    }
    sqlite3_finalize(st);
    if (status != QK_OK)
        return status;
    char *end = NULL;
    long fmt = strtol(b->strings[7], &end, 10);
    if (!end || *end || fmt != QK_BUNDLE_FORMAT)
        return qk__errf(&b->err, b->lang, QK_EFORMAT, QK_M_BUNDLE_FORMAT, b->path, (int)fmt,
                        QK_BUNDLE_FORMAT);
    b->info.format = (int)fmt;
    b->info.id = b->strings[0];
    b->info.version = b->strings[1];
    b->info.title = b->strings[2];
    b->info.language = b->strings[3];
    b->info.publisher_key_id = b->strings[4];
    b->info.content_digest = b->strings[5];
    b->info.created = b->strings[6];
    char *daily = manifest_value(b, "daily_count");
    b->info.daily_count = daily ? (int)strtol(daily, NULL, 10) : 0;
    if (b->info.daily_count < 0 || b->info.daily_count > 1000)
        b->info.daily_count = 0;
    free(daily);
    return QK_OK;
}

static int count(qk_bundle *b, const char *sql, size_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(b->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *out = (size_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return QK_OK;
    }
    int status = corrupt(b, sqlite3_errmsg(b->db));
    sqlite3_finalize(st);
    return status;
}

/* Whether the bundle is signed, and by which key id (not yet checked). */
static int load_signer(qk_bundle *b)
{
    size_t n = 0;
    int status = count(b, "SELECT count(*) FROM signature", &n);
    if (status != QK_OK)
        return status;
    b->info.is_signed = n > 0;
    if (n > 0) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(b->db, "SELECT key_id FROM signature LIMIT 1", -1, &st, NULL) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            b->signer = qk__strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    return QK_OK;
}

/* The themes in their order, without their question counts. */
static int load_theme_rows(qk_bundle *b)
{
    size_t n = 0;
    int status = count(b, "SELECT count(*) FROM themes", &n);
    if (status != QK_OK)
        return status;
    b->themes = calloc(n ? n : 1, sizeof *b->themes);
    b->runs = calloc(n ? n : 1, sizeof *b->runs);
    if (!b->themes || !b->runs)
        return QK_ENOMEM;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db,
                           "SELECT id, title, description, active FROM themes ORDER BY sort, id",
                           -1, &st, NULL) != SQLITE_OK)
        return corrupt(b, sqlite3_errmsg(b->db));
    size_t i = 0;
    while (i < n && sqlite3_step(st) == SQLITE_ROW) {
        qk_theme *t = &b->themes[i];
        t->id = qk__strdup((const char *)sqlite3_column_text(st, 0));
        t->title = qk__strdup((const char *)sqlite3_column_text(st, 1));
        t->description = qk__strdup((const char *)sqlite3_column_text(st, 2));
        t->active = qk__strdup((const char *)sqlite3_column_text(st, 3));
        i++;
        if (!t->id || !t->title || !t->description || !t->active) {
            status = QK_ENOMEM;
            break;
        }
    }
    b->info.n_themes = i;
    sqlite3_finalize(st);
    /* "guest_themes": the ids of the themes open to guests, comma-separated */
    char *guests = status == QK_OK ? manifest_value(b, "guest_themes") : NULL;
    for (size_t k = 0; guests && k < b->info.n_themes; k++) {
        size_t len = strlen(b->themes[k].id);
        for (const char *p = guests; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
            if (strncmp(p, b->themes[k].id, len) == 0 && (p[len] == ',' || p[len] == '\0'))
                b->themes[k].guests = 1;
        }
    }
    free(guests);
    return status;
}

static qk_theme *theme_by_id(qk_bundle *b, const char *id)
{
    for (size_t i = 0; id && i < b->info.n_themes; i++) {
        if (strcmp(b->themes[i].id, id) == 0)
            return &b->themes[i];
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids of the lessons' checkpoint questions, sorted (few). */
static int checkpoint_ids(qk_bundle *b, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!b->n_checkpoints)
        return QK_OK;
    char **v = calloc(b->n_checkpoints, sizeof *v);
    if (!v)
        return QK_ENOMEM;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db,
                           "SELECT id FROM questions WHERE id IN (SELECT question_id FROM"
                           " lesson_steps WHERE question_id IS NOT NULL) ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        free(v);
        return corrupt(b, sqlite3_errmsg(b->db));
    }
    int status = QK_OK, step;
    while (status == QK_OK && (step = sqlite3_step(st)) == SQLITE_ROW && *n < b->n_checkpoints) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        status = id && (v[*n] = qk__strdup(id)) ? QK_OK : QK_ENOMEM;
        *n += status == QK_OK;
    }
    if (status == QK_OK && (step != SQLITE_DONE || *n != b->n_checkpoints))
        status = step == SQLITE_DONE ? corrupt(b, "lesson_steps") : corrupt(b, sqlite3_errmsg(b->db));
    sqlite3_finalize(st);
    if (status != QK_OK) {
        qk_strv_free(v, *n);
        *n = 0;
        return status;
    }
    qsort(v, *n, sizeof *v, cmp_str); /* strcmp's order, whatever SQLite's */
    *out = v;
    return QK_OK;
}

/* The end of a theme's rows in theme_walk: n quiz questions, their sorts
 * consecutive from first when run. A theme met twice (not one group in the
 * index) has no run. */
static void theme_done(qk_bundle *b, qk_theme *t, size_t n, int run, int64_t first)
{
    if (!t)
        return;
    struct theme_run *r = &b->runs[t - b->themes];
    r->on = run && !t->n_questions;
    r->first = r->on ? first : 0;
    t->n_questions += n;
}

/* One pass over the theme index, (theme, sort, id): each theme's quiz
 * questions counted (a lesson's checkpoint questions are no quiz's), and
 * when their sorts are consecutive integers (every sort the one before plus
 * 1: none missing, no two alike, so that the order (sort, id) is the order
 * of sort alone) the first noted, so that a draw finds the question at
 * position p by its sort, first + p, with one lookup in the index
 * (qk__bundle_theme_at) instead of stepping over the p before it. The
 * builder numbers them so (bundle_write.c); a bundle numbered otherwise is
 * drawn from as before. */
static int theme_walk(qk_bundle *b)
{
    for (size_t i = 0; i < b->info.n_themes; i++) {
        b->themes[i].n_questions = 0;
        b->runs[i] = (struct theme_run){0, 0};
    }
    char **cps = NULL;
    size_t n_cps = 0;
    int status = checkpoint_ids(b, &cps, &n_cps);
    if (status != QK_OK)
        return status;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT theme, sort, id FROM questions ORDER BY theme, sort, id",
                           -1, &st, NULL) != SQLITE_OK) {
        qk_strv_free(cps, n_cps);
        return corrupt(b, sqlite3_errmsg(b->db));
    }
    char *cur = NULL; /* the theme of the rows so far, as stored */
    qk_theme *t = NULL;
    size_t n = 0;
    int64_t first = 0, last = 0;
    int run = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *theme = (const char *)sqlite3_column_text(st, 0);
        const char *id = (const char *)sqlite3_column_text(st, 2);
        if (!theme || !id) {
            status = sqlite3_errcode(b->db) == SQLITE_NOMEM ? QK_ENOMEM : corrupt(b, "questions");
            break;
        }
        if (n_cps && bsearch(&id, cps, n_cps, sizeof *cps, cmp_str))
            continue;
        int integer = sqlite3_column_type(st, 1) == SQLITE_INTEGER;
        int64_t sort = sqlite3_column_int64(st, 1);
        if (!cur || strcmp(cur, theme) != 0) {
            theme_done(b, t, n, run, first);
            free(cur);
            if (!(cur = qk__strdup(theme))) {
                status = QK_ENOMEM;
                break;
            }
            t = theme_by_id(b, cur);
            n = 0;
            first = sort;
            run = integer;
        } else if (!integer || last == INT64_MAX || sort != last + 1) {
            run = 0;
        }
        n++;
        last = sort;
    }
    if (status == QK_OK && step != SQLITE_DONE)
        status = corrupt(b, sqlite3_errmsg(b->db));
    if (status == QK_OK)
        theme_done(b, t, n, run, first);
    sqlite3_finalize(st);
    free(cur);
    qk_strv_free(cps, n_cps);
    return status;
}

/* Quiz questions in all and by theme, lessons, media. A lesson's checkpoint
 * questions are no quiz's: they are counted apart (there are few). */
static int count_contents(qk_bundle *b)
{
    size_t all = 0;
    int status;
    if ((status = count(b, "SELECT count(*) FROM questions", &all)) != QK_OK ||
        (status = count(b,
                        "SELECT count(*) FROM questions WHERE id IN (SELECT question_id FROM"
                        " lesson_steps WHERE question_id IS NOT NULL)",
                        &b->n_checkpoints)) != QK_OK ||
        (status = count(b, "SELECT count(*) FROM lessons", &b->info.n_lessons)) != QK_OK ||
        (status = count(b, "SELECT count(*) FROM media", &b->info.n_media)) != QK_OK)
        return status;
    b->info.n_questions = all >= b->n_checkpoints ? all - b->n_checkpoints : 0;
    return theme_walk(b);
}

static int load_themes(qk_bundle *b)
{
    int status = load_signer(b);
    if (status == QK_OK)
        status = load_theme_rows(b);
    if (status == QK_OK)
        status = count_contents(b);
    return status;
}

/* Opens the file and reads its manifest: the first part of every open. */
static int open_file(qk_bundle **out, const char *path, qk_lang lang)
{
    qk_bundle *b = calloc(1, sizeof *b);
    *out = b;
    if (!b)
        return QK_ENOMEM;
    b->lang = lang;
    b->path = qk__strdup(path);
    if (!b->path)
        return QK_ENOMEM;
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return qk__errf(&b->err, lang, QK_ENOTFOUND, QK_M_BUNDLE_OPEN, path,
                        qk_strerror(QK_ENOTFOUND, lang));
    char *uri = file_uri(path);
    if (!uri)
        return QK_ENOMEM;
    /* No mutex: a bundle is used by one thread at a time (its statements and
     * caches are unlocked anyway), and verification makes several SQLite
     * calls for every value in the bundle, each of which would lock it. */
    int rc = sqlite3_open_v2(uri, &b->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    free(uri);
    if (rc != SQLITE_OK)
        return qk__errf(&b->err, lang, QK_EIO, QK_M_BUNDLE_OPEN, path,
                        b->db ? sqlite3_errmsg(b->db) : "?");
    /* A bundle never changes under us: reading it through a memory map saves a
     * copy per page during verification. */
    sqlite3_exec(b->db, "PRAGMA mmap_size=268435456", NULL, NULL, NULL);
    return load_manifest(b);
}

/* The same from a copy of the file's bytes (SQLite's deserialize), read-only. */
static int open_bytes(qk_bundle **out, const void *data, size_t len, const char *name, qk_lang lang)
{
    qk_bundle *b = calloc(1, sizeof *b);
    *out = b;
    if (!b)
        return QK_ENOMEM;
    b->lang = lang;
    b->path = qk__strdup(name ? name : "");
    if (!b->path)
        return QK_ENOMEM;
    if (!data || len < 512) /* shorter than SQLite's smallest page */
        return qk__errf(&b->err, lang, QK_ECORRUPT, QK_M_BUNDLE_NOT, b->path);
    int rc = sqlite3_open_v2(":memory:", &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    unsigned char *copy = rc == SQLITE_OK ? sqlite3_malloc64(len) : NULL;
    if (!copy)
        return rc == SQLITE_OK ? QK_ENOMEM
                               : qk__errf(&b->err, lang, QK_EIO, QK_M_BUNDLE_OPEN, b->path,
                                          b->db ? sqlite3_errmsg(b->db) : "?");
    memcpy(copy, data, len);
    /* A file last written in WAL mode says so in its header (bytes 18 and 19
     * are 2), which an in-memory database cannot open; as rollback-journal
     * mode (1) the same pages read the same. */
    if (copy[18] == 2 && copy[19] == 2)
        copy[18] = copy[19] = 1;
    /* SQLite owns the copy from here, freed on close even when this fails. */
    rc = sqlite3_deserialize(b->db, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
                             SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
    if (rc != SQLITE_OK)
        return qk__errf(&b->err, lang, QK_EIO, QK_M_BUNDLE_OPEN, b->path, sqlite3_errmsg(b->db));
    return load_manifest(b);
}

int qk_bundle_open_memory(qk_bundle **out, const void *data, size_t len, const char *name,
                          unsigned flags, qk_lang lang)
{
    int status = open_bytes(out, data, len, name, lang);
    if (status == QK_OK)
        status = load_themes(*out);
    if (status == QK_OK && (flags & QK_BUNDLE_VERIFY))
        status = qk_bundle_verify(*out);
    return status;
}

int qk_bundle_open(qk_bundle **out, const char *path, unsigned flags, qk_lang lang)
{
    int status = open_file(out, path, lang);
    if (status == QK_OK)
        status = load_themes(*out);
    if (status == QK_OK && (flags & QK_BUNDLE_VERIFY))
        status = qk_bundle_verify(*out);
    return status;
}

/* --- The verified record (qk_bundle_open_trusted) ---
 *
 * Verifying reads and hashes the whole bundle; a device that opens the same
 * installed file at every start remembers instead that it verified it, by
 * what identifies the file on disk: device, inode, size, modification time
 * and change time (ctime). A write() to the file, and any utime() that puts
 * its modification time back, sets its ctime to the current time, and no
 * unprivileged process can set a ctime; a file renamed or linked into place
 * gets a new ctime too, and another file has another inode. So an entry that
 * still matches is the file that was verified, unchanged by any of those.
 * (Not by everything: a page of a shared memory map that is written again
 * while still dirty moves no time stamp, and a folder swapped between the
 * checks and SQLite's open shows one file and opens another. Both need write
 * access to the file or the data folder, whose owner can change the trusted
 * keys anyway; bundle.h says so.) What the matching costs is an lstat(), the
 * manifest's hash (a few rows) and reading the record: nothing grows with the
 * bundle.
 *
 * Time stamps are as coarse as the file system keeps them (2 s on FAT, 1 s on
 * ext3 and HFS+) and even fine ones come from a clock that ticks every few
 * milliseconds: a change made just after verification could carry the same
 * ctime as one made just before. So a file whose last change is not at least
 * RACY_MS older than the start of its verification is verified, and not
 * remembered (git's "racily clean" index entries have the same cure). */
#define RACY_MS 2000
#define RECORD_KEEP 32           /* lines kept: bundles verified on this device */
/* a larger record is not read: 32 lines of at most 4096 themes are under 3 MiB */
#define RECORD_MAX ((off_t)4 * 1024 * 1024)

static void identity_of(const struct stat *st, qk__verified *e)
{
    e->dev = (uint64_t)st->st_dev;
    e->ino = (uint64_t)st->st_ino;
    e->size = (uint64_t)st->st_size;
    e->mtime_s = (int64_t)st->st_mtim.tv_sec;
    e->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
    e->ctime_s = (int64_t)st->st_ctim.tv_sec;
    e->ctime_ns = (int64_t)st->st_ctim.tv_nsec;
}

/* A regular file (not a symbolic link, whose target could be anywhere) and
 * its identity; 0 otherwise. */
static int file_identity(const char *path, qk__verified *e)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    identity_of(&st, e);
    return 1;
}

static int same_file(const qk__verified *a, const qk__verified *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_s == b->mtime_s &&
           a->mtime_ns == b->mtime_ns && a->ctime_s == b->ctime_s && a->ctime_ns == b->ctime_ns;
}

/* The trusted key with this id and the SHA-256 (hex) of its public PEM, so
 * that a key id now trusted for another key does not match; NULL if none. */
static const qk_key *trusted_key(qk_key *const *trusted, size_t n, const char *id, char sum[65])
{
    for (size_t i = 0; id && i < n; i++) {
        char *pem = NULL;
        if (strcmp(qk_key_id(trusted[i]), id) != 0 || qk_key_public_pem(trusted[i], &pem) != QK_OK)
            continue;
        unsigned char raw[32];
        qk__sha256(pem, strlen(pem), raw);
        free(pem);
        qk__hex_encode(sum, 65, raw, 32);
        return trusted[i];
    }
    return NULL;
}

/* The record's text, NUL-terminated; NULL when there is none (or it is not a
 * plain file of a sensible size). */
static char *record_read(const char *record, size_t *len)
{
    *len = 0;
    int fd = open(record, O_RDONLY);
    struct stat st;
    if (fd < 0)
        return NULL;
    char *text = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= RECORD_MAX &&
        (text = malloc((size_t)st.st_size + 1)) != NULL) {
        ssize_t got = read(fd, text, (size_t)st.st_size);
        if (got == st.st_size) {
            text[got] = '\0';
            *len = (size_t)got;
        } else {
            free(text);
            text = NULL;
        }
    }
    close(fd);
    return text;
}

/* 1 and *e when the record holds this very file (now: its identity and
 * manifest hash) as verified and signed by a key that is still trusted. */
static int record_find(const char *record, const qk__verified *now, qk_key *const *trusted,
                       size_t n, qk__verified *e)
{
    size_t len;
    char *text = record_read(record, &len);
    int found = 0;
    if (!text)
        return 0;
    for (const char *p = text, *end = text + len; p < end && !found;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break; /* a line without its newline is not whole */
        char sum[65];
        if (qk__verified_parse(p, (size_t)(nl - p), e) == QK_OK) {
            found = same_file(e, now) && strcmp(e->manifest, now->manifest) == 0 &&
                    trusted_key(trusted, n, e->key_id, sum) && strcmp(sum, e->key_sum) == 0;
            if (!found)
                qk__verified_clear(e);
        }
        p = nl + 1;
    }
    free(text);
    return found;
}

/* Appends to out the whole lines of text that name another file than e,
 * after the first skip of them; returns how many there are in all. */
static size_t other_lines(const char *text, size_t len, const qk__verified *e, size_t skip,
                          qk__buf *out)
{
    size_t n = 0;
    if (!text)
        return 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        qk__verified o;
        if (qk__verified_parse(p, (size_t)(nl - p), &o) == QK_OK) {
            if ((o.dev != e->dev || o.ino != e->ino) && n++ >= skip && out)
                qk__buf_add(out, p, (size_t)(nl + 1 - p));
            qk__verified_clear(&o);
        }
        p = nl + 1;
    }
    return n;
}

/* Writes the record with e's line in place of any other for the same file,
 * through a temporary file and rename(), so that a reader sees the old
 * record or the new one. Failing to write it is not an error: the next open
 * verifies again. */
static void record_store(const char *record, const qk__verified *e)
{
    size_t len;
    char *text = record_read(record, &len);
    qk__buf out = {0};
    /* the other files' lines, the oldest left out beyond RECORD_KEEP */
    size_t others = other_lines(text, len, e, 0, NULL);
    other_lines(text, len, e, others >= RECORD_KEEP ? others - (RECORD_KEEP - 1) : 0, &out);
    free(text);
    qk__verified_format(&out, e);
    char *data = qk__buf_take(&out);
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.XXXXXX", record);
    if (!data || n < 0 || (size_t)n >= sizeof tmp) {
        free(data);
        return;
    }
    /* a name of its own for each writer, threads of one process included */
    int fd = mkstemp(tmp);
    size_t want = strlen(data);
    int ok = fd >= 0 && write(fd, data, want) == (ssize_t)want;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (fd >= 0 && (!ok || rename(tmp, record) != 0))
        unlink(tmp);
    free(data);
}

/* Whether the file system of path keeps a change time of its own. FAT and
 * exFAT have none (Linux shows the modification time), and what a FUSE or
 * SMB share shows is up to its server: a file there is never remembered.
 * Elsewhere than Linux the caller's word (bundle.h) is taken. */
static int keeps_ctime(const char *path)
{
#ifdef __linux__
    struct statfs fs;
    if (statfs(path, &fs) != 0)
        return 0;
    switch ((unsigned long)fs.f_type) {
    case 0x4d44UL:     /* MSDOS_SUPER_MAGIC: FAT */
    case 0x2011bab0UL: /* EXFAT_SUPER_MAGIC */
    case 0x65735546UL: /* FUSE_SUPER_MAGIC (fuseblk too: exFAT, NTFS-3G) */
    case 0x517bUL:     /* SMB_SUPER_MAGIC */
    case 0xfe534d42UL: /* SMB2_MAGIC_NUMBER */
    case 0xff534d42UL: /* CIFS_SUPER_MAGIC */
        return 0;
    default:
        return 1;
    }
#else
    (void)path;
    return 1;
#endif
}

/* Remembers b, just verified in full and signed by a trusted key, when its
 * file is still the one whose identity was taken before it was opened and
 * its last change is older than verification (see RACY_MS). */
static void remember(qk_bundle *b, const char *record, qk__verified *e, int64_t began_ms,
                     qk_key *const *trusted, size_t n)
{
    qk__verified after;
    int64_t changed_ms = e->ctime_s * 1000 + e->ctime_ns / 1000000;
    if (!file_identity(b->path, &after) || !same_file(&after, e) ||
        changed_ms > began_ms - RACY_MS || !trusted_key(trusted, n, b->signer, e->key_sum) ||
        !keeps_ctime(b->path))
        return;
    snprintf(e->key_id, sizeof e->key_id, "%s", b->signer);
    e->n_questions = b->info.n_questions;
    e->n_lessons = b->info.n_lessons;
    e->n_media = b->info.n_media;
    e->n_checkpoints = b->n_checkpoints;
    e->n_themes = b->info.n_themes;
    e->themes = malloc((e->n_themes ? e->n_themes : 1) * sizeof *e->themes);
    if (!e->themes)
        return;
    for (size_t i = 0; i < e->n_themes; i++) {
        e->themes[i].count = b->themes[i].n_questions;
        e->themes[i].run = b->runs[i].on;
        e->themes[i].first = b->runs[i].first;
    }
    record_store(record, e);
    qk__verified_clear(e);
}

/* Takes the counts from the record's line, which must name the key the
 * bundle's signature table names (load_signer read it). */
static int recall(qk_bundle *b, const qk__verified *e)
{
    if (e->n_themes != b->info.n_themes || !b->signer || strcmp(b->signer, e->key_id) != 0)
        return 0;
    b->info.n_questions = (size_t)e->n_questions;
    b->info.n_lessons = (size_t)e->n_lessons;
    b->info.n_media = (size_t)e->n_media;
    b->n_checkpoints = (size_t)e->n_checkpoints;
    for (size_t i = 0; i < e->n_themes; i++) {
        b->themes[i].n_questions = (size_t)e->themes[i].count;
        b->runs[i] = (struct theme_run){e->themes[i].run, e->themes[i].first};
    }
    return 1;
}

int qk_bundle_open_trusted(qk_bundle **out, const char *path, qk_key *const *trusted, size_t n,
                           const char *record, qk_lang lang)
{
    int64_t began_ms = qk_clock_real_ms(); /* file times are real times, whatever the clock */
#ifdef __EMSCRIPTEN__
    /* In WebAssembly the files are emscripten's: one time stamp stands for
     * the modification and the change time, and utime() sets both, so the
     * ctime the record rests on proves nothing. Every open verifies in full. */
    record = NULL;
#endif
    qk__verified now, seen, again;
    memset(&now, 0, sizeof now);
    memset(&seen, 0, sizeof seen);
    int known = record && file_identity(path, &now);
    int status = open_file(out, path, lang);
    qk_bundle *b = *out;
    if (status == QK_OK)
        status = load_signer(b);
    if (status == QK_OK)
        status = load_theme_rows(b);
    if (status != QK_OK)
        return status;
    unsigned char mh[32];
    const char *sqlerr = NULL;
    known = known && qk__manifest_hash(b->db, mh, &sqlerr) == QK_OK;
    if (known)
        qk__hex_encode(now.manifest, sizeof now.manifest, mh, 32);
    /* The entry must match the file as it was before it was opened and as it
     * is now that it is open, so the file open is that one. */
    int hit = known && record_find(record, &now, trusted, n, &seen);
    hit = hit && file_identity(path, &again) && same_file(&again, &now) && recall(b, &seen);
    qk__verified_clear(&seen);
    if (hit)
        return QK_OK;
    status = count_contents(b);
    if (status == QK_OK)
        status = qk_bundle_verify(b);
    if (status == QK_OK)
        status = qk_bundle_check_signature(b, trusted, n);
    if (status == QK_OK && known)
        remember(b, record, &now, began_ms, trusted, n);
    return status;
}

/* The two indexes a bundle's lookups read hold exactly their tables' rows.
 * The digests read the tables; a draw or a theme's list reads
 * questions_theme, a media file is found through its table's own index of
 * names, and neither index is in a digest: a byte changed in one gave other
 * questions (one twice, one never) than the signed bundle holds, and still
 * verified.
 *
 * questions_theme: the table's (theme, sort, id), read from the table (a
 * column the index lacks named, or the planner scans the covering index
 * instead), sorted in C as the index orders them (BINARY: bytes), then
 * compared one by one with the index's own scan. An EXCEPT of the two took
 * 280 ms of temporary b-trees at 100k questions; this, a tenth of that. */
typedef struct ix_row {
    size_t theme, id; /* offsets in the texts, then (once all are in) */
    const char *theme_p, *id_p; /* where they are */
    size_t theme_n, id_n;
    int64_t sort;
} ix_row;

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static int ix_order(const void *x, const void *y)
{
    const ix_row *a = x, *b = y;
    int c = bytes_cmp(a->theme_p, a->theme_n, b->theme_p, b->theme_n);
    if (c)
        return c;
    if (a->sort != b->sort)
        return a->sort < b->sort ? -1 : 1;
    return bytes_cmp(a->id_p, a->id_n, b->id_p, b->id_n);
}

/* 1 when questions_theme holds the table's rows, 0 when not, a QK_E* code
 * when they cannot be read. */
static int questions_index_agrees(qk_bundle *b)
{
    sqlite3_stmt *t = NULL, *x = NULL;
    qk__buf texts = {0};
    ix_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = QK_OK, agree = 0, step = SQLITE_ERROR;
    if (sqlite3_prepare_v2(b->db, "SELECT theme, sort, id FROM questions WHERE typeof(stem) <> ''", -1, &t,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(b->db, "SELECT theme, sort, id FROM questions INDEXED BY questions_theme", -1, &x,
                           NULL) != SQLITE_OK)
        goto out;
    while ((step = sqlite3_step(t)) == SQLITE_ROW) {
        if (sqlite3_column_type(t, 1) != SQLITE_INTEGER)
            goto out; /* the builder writes whole numbers: a forgery at best */
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            ix_row *nr = realloc(rows, nc * sizeof *nr);
            if (!nr) {
                rc = QK_ENOMEM;
                goto out;
            }
            rows = nr;
            cap = nc;
        }
        ix_row *r = &rows[n++];
        r->theme_n = (size_t)sqlite3_column_bytes(t, 0);
        r->theme = texts.len;
        const unsigned char *theme = sqlite3_column_text(t, 0), *id = sqlite3_column_text(t, 2);
        if (!theme || !id)
            goto out; /* NOT NULL columns: a forgery at best */
        qk__buf_add(&texts, theme, r->theme_n);
        r->sort = sqlite3_column_int64(t, 1);
        r->id_n = (size_t)sqlite3_column_bytes(t, 2);
        r->id = texts.len;
        qk__buf_add(&texts, id, r->id_n);
    }
    if (texts.oom)
        rc = QK_ENOMEM;
    if (step != SQLITE_DONE || rc != QK_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        rows[i].theme_p = texts.p + rows[i].theme;
        rows[i].id_p = texts.p + rows[i].id;
    }
    if (n)
        qsort(rows, n, sizeof *rows, ix_order);
    size_t k = 0;
    agree = 1;
    while (agree && (step = sqlite3_step(x)) == SQLITE_ROW) {
        const ix_row *r = k < n ? &rows[k++] : NULL;
        const char *theme = (const char *)sqlite3_column_text(x, 0), *id = (const char *)sqlite3_column_text(x, 2);
        size_t theme_n = (size_t)sqlite3_column_bytes(x, 0), id_n = (size_t)sqlite3_column_bytes(x, 2);
        agree = r && sqlite3_column_type(x, 1) == SQLITE_INTEGER && sqlite3_column_int64(x, 1) == r->sort &&
                bytes_cmp(theme ? theme : "", theme_n, r->theme_p, r->theme_n) == 0 &&
                bytes_cmp(id ? id : "", id_n, r->id_p, r->id_n) == 0;
    }
    if (agree && step == SQLITE_DONE)
        agree = k == n; /* none of the table's left over */
    else if (agree)
        agree = 0, rc = QK_ECORRUPT; /* a read error */
out:
    if (rc == QK_OK && step != SQLITE_DONE && step != SQLITE_ROW && !agree)
        rc = QK_ECORRUPT;
    if (rc == QK_ECORRUPT)
        rc = corrupt(b, sqlite3_errmsg(b->db));
    else if (rc == QK_ENOMEM)
        rc = qk__errf(&b->err, b->lang, QK_ENOMEM, QK_M_OOM);
    sqlite3_finalize(t);
    sqlite3_finalize(x);
    qk__buf_free(&texts);
    free(rows);
    return rc == QK_OK ? agree : rc;
}

/* media's index of names against the table (few rows: an EXCEPT each way). */
static const char media_index_check[] =
    "SELECT (SELECT count(*) FROM media WHERE typeof(mime) <> '') ="
    " (SELECT count(*) FROM media INDEXED BY sqlite_autoindex_media_1)"
    " AND NOT EXISTS (SELECT rowid, name FROM media WHERE typeof(mime) <> ''"
    " EXCEPT SELECT rowid, name FROM media INDEXED BY sqlite_autoindex_media_1)"
    " AND NOT EXISTS (SELECT rowid, name FROM media INDEXED BY sqlite_autoindex_media_1"
    " EXCEPT SELECT rowid, name FROM media WHERE typeof(mime) <> '')";

/* QK_OK when the indexes agree with their tables; QK_EDIGEST naming the
 * section when one does not; QK_ECORRUPT when they cannot be read. */
static int indexes_agree(qk_bundle *b)
{
    int q = questions_index_agrees(b);
    if (q < 0)
        return q;
    if (q == 0)
        return qk__errf(&b->err, b->lang, QK_EDIGEST, QK_M_BUNDLE_CHANGED, b->path,
                        qk__msg(b->lang, QK_M_SEC_QUESTIONS));
    sqlite3_stmt *st = NULL;
    int step = sqlite3_prepare_v2(b->db, media_index_check, -1, &st, NULL) == SQLITE_OK ? sqlite3_step(st)
                                                                                     : SQLITE_ERROR;
    int agree = step == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    int rc = step == SQLITE_ROW ? QK_OK : corrupt(b, sqlite3_errmsg(b->db));
    sqlite3_finalize(st);
    if (rc == QK_OK && !agree)
        rc = qk__errf(&b->err, b->lang, QK_EDIGEST, QK_M_BUNDLE_CHANGED, b->path, qk__msg(b->lang, QK_M_SEC_MEDIA));
    return rc;
}

int qk_bundle_verify(qk_bundle *b)
{
    qk__digests d;
    const char *sqlerr = NULL;
    int rc = qk__bundle_digests(b->db, &d, &sqlerr);
    if (rc == QK_ENOMEM)
        return qk__errf(&b->err, b->lang, rc, QK_M_OOM);
    if (rc != QK_OK)
        return corrupt(b, sqlerr ? sqlerr : "?");
    /* Name every section whose digest differs from the one the manifest holds. */
    qk__buf changed = {0};
    for (int s = 0; s < QK__SEC_COUNT; s++) {
        char key[32];
        snprintf(key, sizeof key, "digest.%s", qk__section_names[s]);
        char *want = manifest_value(b, key);
        if (!want || strcmp(want, d.section[s]) != 0) {
            if (changed.len)
                qk__buf_str(&changed, b->lang == QK_LANG_EN ? ", " : "、");
            qk__buf_str(&changed, qk__msg(b->lang, qk__section_msgs[s]));
        }
        free(want);
    }
    if (!changed.len && strcmp(d.total, b->info.content_digest) != 0)
        qk__buf_str(&changed, qk__msg(b->lang, QK_M_SEC_DIGEST));
    char *what = qk__buf_take(&changed);
    if (!what)
        return qk__errf(&b->err, b->lang, QK_ENOMEM, QK_M_OOM);
    rc = what[0] ? qk__errf(&b->err, b->lang, QK_EDIGEST, QK_M_BUNDLE_CHANGED, b->path, what)
                 : indexes_agree(b);
    free(what);
    return rc;
}

const char *qk_bundle_signer(const qk_bundle *b)
{
    return b->signer ? b->signer : "";
}

int qk_bundle_check_signature(qk_bundle *b, qk_key *const *trusted, size_t n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT key_id, algorithm, value FROM signature", -1, &st, NULL) !=
        SQLITE_OK)
        return corrupt(b, sqlite3_errmsg(b->db));
    int status = QK_EUNSIGNED;
    while (status != QK_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *kid = (const char *)sqlite3_column_text(st, 0);
        const char *alg = (const char *)sqlite3_column_text(st, 1);
        const unsigned char *sig = sqlite3_column_blob(st, 2);
        size_t sig_len = (size_t)sqlite3_column_bytes(st, 2);
        if (!kid || !alg || strcmp(alg, QK__SIG_ALG) != 0)
            continue;
        free(b->signer);
        b->signer = qk__strdup(kid);
        const qk_key *key = NULL;
        for (size_t i = 0; i < n && !key; i++) {
            if (strcmp(qk_key_id(trusted[i]), kid) == 0)
                key = trusted[i];
        }
        if (!key) {
            status = QK_EUNTRUSTED;
            continue;
        }
        unsigned char hash[32];
        const char *sqlerr = NULL;
        if (qk__manifest_hash(b->db, hash, &sqlerr) != QK_OK) {
            status = QK_ECORRUPT;
            break;
        }
        /* The manifest must also name the key that signed it. */
        int named = b->info.publisher_key_id && strcmp(b->info.publisher_key_id, kid) == 0;
        if (named && mbedtls_pk_verify(qk__key_pk(key), MBEDTLS_MD_SHA256, hash, 0, sig, sig_len) == 0)
            status = QK_OK;
        else
            status = QK_ESIGNATURE;
    }
    sqlite3_finalize(st);
    switch (status) {
    case QK_OK: return QK_OK;
    case QK_EUNSIGNED: return qk__errf(&b->err, b->lang, status, QK_M_SIG_NONE, b->path);
    case QK_EUNTRUSTED:
        return qk__errf(&b->err, b->lang, status, QK_M_SIG_UNTRUSTED, b->path,
                        b->signer ? b->signer : "?");
    case QK_ESIGNATURE: return qk__errf(&b->err, b->lang, status, QK_M_SIG_BAD, b->path);
    default: return corrupt(b, sqlite3_errmsg(b->db));
    }
}

/* The list of theme (NULL: every theme) that b keeps, or NULL. */
static const struct theme_list *kept_list(const qk_bundle *b, const char *theme)
{
    for (size_t i = 0; i < b->n_lists; i++) {
        const char *t = b->lists[i].theme;
        if (theme ? t && strcmp(theme, t) == 0 : !t)
            return &b->lists[i];
    }
    return NULL;
}

/* A statement listing the quiz questions of theme (NULL: every theme) as
 * "sort, id" in their order (?1: the theme), with the condition more and
 * the clause tail after the ORDER BY. */
static int theme_list(qk_bundle *b, const char *theme, const char *more, const char *tail, sqlite3_stmt **st)
{
    /* Checkpoint questions belong to their lessons, not to quizzes; most
     * bundles have none, and then no question needs looking up in them. */
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT sort, id FROM questions WHERE %s%s%s ORDER BY sort, id%s",
             theme ? "theme = ?1" : "1", more,
             b->n_checkpoints ? " AND id NOT IN (SELECT question_id FROM lesson_steps"
                                " WHERE question_id IS NOT NULL)"
                              : "",
             tail);
    *st = NULL;
    if (sqlite3_prepare_v2(b->db, sql, -1, st, NULL) != SQLITE_OK)
        return corrupt(b, sqlite3_errmsg(b->db));
    if (theme)
        sqlite3_bind_text(*st, 1, theme, -1, SQLITE_STATIC);
    return QK_OK;
}

/* The quiz questions of theme (NULL: every theme) in their order, read once
 * into one buffer and kept for the next draw of that theme. */
static int read_theme_ids(qk_bundle *b, const char *theme)
{
    sqlite3_stmt *st = NULL;
    int status = theme_list(b, theme, "", "", &st), step;
    if (status != QK_OK)
        return status;
    /* Offsets while the text grows (it moves), pointers once it is whole. */
    size_t *at = NULL, n = 0, cap = 0, used = 0, room = 0;
    char *text = NULL;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1) + 1;
        if (!id) {
            status = sqlite3_errcode(b->db) == SQLITE_NOMEM ? QK_ENOMEM : corrupt(b, "questions.id");
            break;
        }
        if (n == cap) {
            size_t *v = realloc(at, (cap = cap ? 2 * cap : 256) * sizeof *v);
            if (!v) {
                status = QK_ENOMEM;
                break;
            }
            at = v;
        }
        if (room - used < len) {
            while (room - used < len)
                room = room ? 2 * room : 4096;
            char *t = realloc(text, room);
            if (!t) {
                status = QK_ENOMEM;
                break;
            }
            text = t;
        }
        memcpy(text + used, id, len);
        at[n++] = used;
        used += len;
    }
    if (status == QK_OK && step != SQLITE_DONE)
        status = corrupt(b, sqlite3_errmsg(b->db));
    sqlite3_finalize(st);
    char *kept_theme = theme ? qk__strdup(theme) : NULL;
    const char **ids = status == QK_OK ? malloc((n ? n : 1) * sizeof *ids) : NULL;
    if (status == QK_OK && (!ids || (theme && !kept_theme)))
        status = QK_ENOMEM;
    if (status != QK_OK) {
        free(at);
        free(text);
        free(kept_theme);
        free(ids);
        return status;
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = text + at[i];
    free(at);
    if (n != qk__bundle_theme_count(b, theme)) {
        /* the counts a draw picks positions from (taken at open, or from the
         * verified record) must be the list's */
        free(text);
        free(kept_theme);
        free(ids);
        return corrupt(b, "questions (count)");
    }
    struct theme_list *v = realloc(b->lists, (b->n_lists + 1) * sizeof *v);
    if (!v) {
        free(text);
        free(kept_theme);
        free(ids);
        return QK_ENOMEM;
    }
    b->lists = v;
    v[b->n_lists++] = (struct theme_list){kept_theme, ids, text, n};
    return QK_OK;
}

int qk__bundle_theme_ids(qk_bundle *b, const char *theme, const char *const **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    const struct theme_list *l = kept_list(b, theme);
    if (!l) {
        int rc = read_theme_ids(b, theme);
        if (rc != QK_OK)
            return rc;
        l = &b->lists[b->n_lists - 1];
    }
    *ids = l->ids;
    *n = l->n;
    return QK_OK;
}

size_t qk__bundle_theme_count(qk_bundle *b, const char *theme)
{
    const struct theme_list *l = kept_list(b, theme);
    if (l)
        return l->n;
    const qk_theme *t = theme ? theme_by_id(b, theme) : NULL;
    return theme ? (t ? t->n_questions : 0) : b->info.n_questions;
}

/* A device draws once a process. A theme whose sorts are consecutive
 * (theme_walk: every bundle the builder makes) has each drawn position
 * looked up by its sort. Otherwise positions up to this many are looked up one by one in
 * the theme index, each skipping on from the one before (SQLite steps over
 * an index entry faster than it hands one out), so a 10-question draw from
 * a 20,000-question theme copies out 10 ids, not 20,000. More than this, a
 * draw from every theme, or a bundle that keeps its questions (a server's
 * judge: many draws), read the whole list once and keep it. */
#define QK_SEEK_MAX 64

static int prepare_cached(qk_bundle *b, sqlite3_stmt **st, const char *sql);

/* The questions at positions pos of theme t, whose sorts are consecutive
 * from first (theme_walk): one lookup in the theme index each. */
static int run_at(qk_bundle *b, const qk_theme *t, int64_t first, const size_t *pos, size_t k,
                  char **out)
{
    int status = QK_OK;
    for (size_t i = 0; status == QK_OK && i < k; i++) {
        /* (a verified record's first is trusted as its counts are, but
         * not to be added past the largest integer) */
        if (pos[i] >= t->n_questions || first > INT64_MAX - (int64_t)pos[i])
            return corrupt(b, "questions");
        /* a checkpoint question may share a quiz question's sort: never it */
        if ((status = prepare_cached(b, &b->at_stmt,
                                     b->n_checkpoints
                                         ? "SELECT id FROM questions WHERE theme = ?1 AND sort = ?2"
                                           " AND id NOT IN (SELECT question_id FROM lesson_steps"
                                           " WHERE question_id IS NOT NULL)"
                                         : "SELECT id FROM questions WHERE theme = ?1 AND sort = ?2")) !=
            QK_OK)
            return status;
        sqlite3_bind_text(b->at_stmt, 1, t->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(b->at_stmt, 2, first + (int64_t)pos[i]);
        int step = sqlite3_step(b->at_stmt);
        const char *id = step == SQLITE_ROW ? (const char *)sqlite3_column_text(b->at_stmt, 0) : NULL;
        if (id)
            status = (out[i] = qk__strdup(id)) ? QK_OK : QK_ENOMEM;
        else if (step == SQLITE_NOMEM || sqlite3_errcode(b->db) == SQLITE_NOMEM)
            status = QK_ENOMEM;
        else /* not there, though the walk or the record said so: damaged */
            status = corrupt(b, step == SQLITE_ROW || step == SQLITE_DONE ? "questions"
                                                                          : sqlite3_errmsg(b->db));
        sqlite3_reset(b->at_stmt);
    }
    return status;
}

int qk__bundle_theme_run(const qk_bundle *b, const char *theme, int64_t *first)
{
    for (size_t i = 0; theme && i < b->info.n_themes; i++) {
        if (strcmp(b->themes[i].id, theme) == 0) {
            *first = b->runs[i].first;
            return b->runs[i].on;
        }
    }
    *first = 0;
    return 0;
}

int qk__bundle_theme_at(qk_bundle *b, const char *theme, const size_t *pos, size_t k, char **out)
{
    memset(out, 0, k * sizeof *out);
    const struct theme_list *l = kept_list(b, theme);
    const qk_theme *t = !l && theme && !b->kept.on ? theme_by_id(b, theme) : NULL;
    if (t && b->runs[t - b->themes].on)
        return run_at(b, t, b->runs[t - b->themes].first, pos, k, out);
    /* (every theme at once has no index in (sort, id) order to seek in) */
    if (!l && (k > QK_SEEK_MAX || b->kept.on || !theme)) {
        int rc = read_theme_ids(b, theme);
        if (rc != QK_OK)
            return rc;
        l = &b->lists[b->n_lists - 1];
    }
    if (l) {
        for (size_t i = 0; i < k; i++) {
            if (pos[i] >= l->n)
                return corrupt(b, "questions");
            if (!(out[i] = qk__strdup(l->ids[pos[i]])))
                return QK_ENOMEM;
        }
        return QK_OK;
    }
    /* In ascending order of position, each found from the last one found. */
    size_t order[QK_SEEK_MAX];
    for (size_t i = 0; i < k; i++) {
        size_t j = i;
        for (; j > 0 && pos[order[j - 1]] > pos[i]; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    sqlite3_stmt *first = NULL, *next = NULL;
    int status = theme_list(b, theme, "", " LIMIT 1 OFFSET ?4", &first);
    if (status == QK_OK)
        status = theme_list(b, theme, " AND (sort, id) > (?2, ?3)", " LIMIT 1 OFFSET ?4", &next);
    sqlite3_value *last_sort = NULL; /* as stored: compared as SQLite orders it */
    for (size_t i = 0; status == QK_OK && i < k; i++) {
        size_t at = pos[order[i]], before = i ? pos[order[i - 1]] : 0;
        sqlite3_stmt *st = i ? next : first;
        sqlite3_bind_int64(st, 4, (sqlite3_int64)(i ? at - before - 1 : at));
        if (i) {
            sqlite3_bind_value(st, 2, last_sort);
            sqlite3_bind_text(st, 3, out[order[i - 1]], -1, SQLITE_STATIC);
        }
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            sqlite3_value_free(last_sort);
            if (!(last_sort = sqlite3_value_dup(sqlite3_column_value(st, 0))))
                status = QK_ENOMEM;
            const char *id = (const char *)sqlite3_column_text(st, 1);
            if (status == QK_OK && !(out[order[i]] = id ? qk__strdup(id) : NULL))
                status = QK_ENOMEM;
        } else {
            /* fewer questions than the counts said: a damaged bundle */
            status = step == SQLITE_NOMEM ? QK_ENOMEM : corrupt(b, step == SQLITE_DONE ? "questions" : sqlite3_errmsg(b->db));
        }
        sqlite3_reset(st);
    }
    sqlite3_value_free(last_sort);
    sqlite3_finalize(first);
    sqlite3_finalize(next);
    return status;
}

int qk_bundle_question_ids(qk_bundle *b, const char *theme, char ***ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    const char *const *kept;
    size_t len;
    int rc = qk__bundle_theme_ids(b, theme, &kept, &len);
    if (rc != QK_OK)
        return rc;
    char **v = malloc((len ? len : 1) * sizeof *v);
    if (!v)
        return QK_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        if (!(v[i] = qk__strdup(kept[i]))) {
            qk_strv_free(v, i);
            return QK_ENOMEM;
        }
    }
    *ids = v;
    *n = len;
    return QK_OK;
}

static int prepare_cached(qk_bundle *b, sqlite3_stmt **st, const char *sql)
{
    if (!*st && sqlite3_prepare_v2(b->db, sql, -1, st, NULL) != SQLITE_OK)
        return corrupt(b, sqlite3_errmsg(b->db));
    sqlite3_reset(*st);
    sqlite3_clear_bindings(*st);
    return QK_OK;
}

static char *col_dup(sqlite3_stmt *st, int c)
{
    if (sqlite3_column_type(st, c) == SQLITE_NULL)
        return NULL;
    return qk__strdup((const char *)sqlite3_column_text(st, c));
}

static int load_children(qk_bundle *b, qk_question *q)
{
    int status, step;
    if ((status = prepare_cached(b, &b->opt_stmt,
                                 "SELECT text, correct FROM options WHERE question_id = ?"
                                 " ORDER BY idx")) != QK_OK)
        return status;
    sqlite3_bind_text(b->opt_stmt, 1, q->id, -1, SQLITE_STATIC);
    q->options = calloc(QK_MAX_OPTIONS, sizeof *q->options);
    if (!q->options)
        return QK_ENOMEM;
    while ((step = sqlite3_step(b->opt_stmt)) == SQLITE_ROW) {
        if (q->n_options == QK_MAX_OPTIONS)
            return corrupt(b, q->id);
        qk_option *o = &q->options[q->n_options++];
        o->correct = sqlite3_column_int(b->opt_stmt, 1) != 0;
        if (!(o->text = col_dup(b->opt_stmt, 0)))
            return QK_ENOMEM;
    }
    if (step != SQLITE_DONE)
        return corrupt(b, sqlite3_errmsg(b->db));

    if ((status = prepare_cached(b, &b->blank_stmt,
                                 "SELECT blank, accepted FROM blanks WHERE question_id = ?"
                                 " ORDER BY blank, idx")) != QK_OK)
        return status;
    sqlite3_bind_text(b->blank_stmt, 1, q->id, -1, SQLITE_STATIC);
    q->blanks = calloc(QK_MAX_BLANKS, sizeof *q->blanks);
    if (!q->blanks)
        return QK_ENOMEM;
    while ((step = sqlite3_step(b->blank_stmt)) == SQLITE_ROW) {
        int blank = sqlite3_column_int(b->blank_stmt, 0);
        if (blank < 0 || blank >= QK_MAX_BLANKS || (size_t)blank > q->n_blanks)
            return corrupt(b, q->id);
        if ((size_t)blank == q->n_blanks)
            q->n_blanks++;
        qk_blank *bl = &q->blanks[blank];
        char **nv = realloc(bl->accepted, (bl->n_accepted + 1) * sizeof *nv);
        if (!nv)
            return QK_ENOMEM;
        bl->accepted = nv;
        if (!(bl->accepted[bl->n_accepted] = col_dup(b->blank_stmt, 1)))
            return QK_ENOMEM;
        bl->n_accepted++;
    }
    if (step != SQLITE_DONE)
        return corrupt(b, sqlite3_errmsg(b->db));

    if ((status = prepare_cached(b, &b->tag_stmt,
                                 "SELECT tag FROM tags WHERE question_id = ? ORDER BY tag")) !=
        QK_OK)
        return status;
    sqlite3_bind_text(b->tag_stmt, 1, q->id, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(b->tag_stmt)) == SQLITE_ROW) {
        char **nv = realloc(q->tags, (q->n_tags + 1) * sizeof *nv);
        if (!nv)
            return QK_ENOMEM;
        q->tags = nv;
        if (!(q->tags[q->n_tags] = col_dup(b->tag_stmt, 0)))
            return QK_ENOMEM;
        q->n_tags++;
    }
    if (step != SQLITE_DONE)
        return corrupt(b, sqlite3_errmsg(b->db));
    return QK_OK;
}

int qk_bundle_question(qk_bundle *b, const char *id, qk_question **out)
{
    *out = NULL;
    int status = prepare_cached(b, &b->q_stmt,
                                "SELECT id, theme, type, scoring, stem, explanation, source,"
                                " points, difficulty, shuffle, judge_answer"
                                " FROM questions WHERE id = ?");
    if (status != QK_OK)
        return status;
    sqlite3_bind_text(b->q_stmt, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(b->q_stmt);
    if (step == SQLITE_DONE)
        return qk__errf(&b->err, b->lang, QK_ENOTFOUND, QK_M_NO_QUESTION, id);
    if (step != SQLITE_ROW)
        return corrupt(b, sqlite3_errmsg(b->db));
    qk_question *q = calloc(1, sizeof *q);
    if (!q)
        return QK_ENOMEM;
    sqlite3_stmt *st = b->q_stmt;
    q->id = col_dup(st, 0);
    q->theme = col_dup(st, 1);
    q->type = qk_qtype_parse((const char *)sqlite3_column_text(st, 2));
    const char *scoring = (const char *)sqlite3_column_text(st, 3);
    q->scoring = scoring && strcmp(scoring, "partial") == 0 ? QK_SCORE_PARTIAL : QK_SCORE_ALL;
    q->stem = col_dup(st, 4);
    q->explanation = col_dup(st, 5);
    q->source = col_dup(st, 6);
    q->points = sqlite3_column_int(st, 7);
    q->difficulty = sqlite3_column_int(st, 8);
    q->shuffle = sqlite3_column_int(st, 9) != 0;
    q->judge_answer = sqlite3_column_int(st, 10) != 0;
    if (!q->id || !q->theme || !q->stem) {
        qk_question_free(q);
        return QK_ENOMEM;
    }
    status = load_children(b, q);
    if (status == QK_OK && q->type == 0)
        status = corrupt(b, q->id);
    if (status != QK_OK) {
        qk_question_free(q);
        return status;
    }
    *out = q;
    return QK_OK;
}

void qk_bundle_keep_questions(qk_bundle *b)
{
    b->kept.on = 1;
}

static size_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a, 64-bit on every CPU */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return (size_t)(h ^ (h >> 32)); /* both halves count where size_t is 32 bits */
}

static int kept_grow(qk_bundle *b)
{
    size_t cap = b->kept.cap ? b->kept.cap * 2 : 64;
    qk_question **slot = calloc(cap, sizeof *slot);
    if (!slot)
        return QK_ENOMEM;
    for (size_t i = 0; i < b->kept.cap; i++) {
        qk_question *q = b->kept.slot[i];
        if (!q)
            continue;
        size_t k = id_hash(q->id) & (cap - 1);
        while (slot[k])
            k = (k + 1) & (cap - 1);
        slot[k] = q;
    }
    free(b->kept.slot);
    b->kept.slot = slot;
    b->kept.cap = cap;
    return QK_OK;
}

int qk__bundle_question_kept(qk_bundle *b, const char *id, qk_question **out)
{
    if (!b->kept.on)
        return 0;
    if (2 * (b->kept.n + 1) > b->kept.cap && kept_grow(b) != QK_OK)
        return QK_ENOMEM;
    size_t k = id_hash(id) & (b->kept.cap - 1);
    for (; b->kept.slot[k]; k = (k + 1) & (b->kept.cap - 1)) {
        if (strcmp(b->kept.slot[k]->id, id) == 0) {
            *out = b->kept.slot[k];
            return 1;
        }
    }
    qk_question *q = NULL;
    int status = qk_bundle_question(b, id, &q);
    if (status != QK_OK)
        return status;
    b->kept.slot[k] = q;
    b->kept.n++;
    *out = q;
    return 1;
}

int qk_bundle_media(qk_bundle *b, const char *name, void **data, size_t *len, char **mime)
{
    *data = NULL;
    *len = 0;
    *mime = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT mime, data FROM media WHERE name = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return corrupt(b, sqlite3_errmsg(b->db));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int status = QK_OK;
    if (step == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        *mime = qk__strdup((const char *)sqlite3_column_text(st, 0));
        *data = malloc(n ? n : 1);
        if (!*mime || !*data) {
            free(*mime);
            free(*data);
            *mime = NULL;
            *data = NULL;
            status = QK_ENOMEM;
        } else {
            if (n)
                memcpy(*data, sqlite3_column_blob(st, 1), n);
            *len = n;
        }
    } else if (step == SQLITE_DONE) {
        status = qk__errf(&b->err, b->lang, QK_ENOTFOUND, QK_M_NO_MEDIA, name);
    } else {
        status = corrupt(b, sqlite3_errmsg(b->db));
    }
    sqlite3_finalize(st);
    return status;
}

void qk_bundle_close(qk_bundle *b)
{
    if (!b)
        return;
    sqlite3_finalize(b->q_stmt);
    sqlite3_finalize(b->opt_stmt);
    sqlite3_finalize(b->blank_stmt);
    sqlite3_finalize(b->tag_stmt);
    sqlite3_finalize(b->at_stmt);
    sqlite3_close(b->db);
    for (size_t i = 0; i < b->info.n_themes; i++) {
        free((char *)b->themes[i].id);
        free((char *)b->themes[i].title);
        free((char *)b->themes[i].description);
        free((char *)b->themes[i].active);
    }
    free(b->themes);
    free(b->runs);
    for (size_t i = 0; i < 8; i++)
        free(b->strings[i]);
    free(b->path);
    free(b->signer);
    for (size_t i = 0; i < b->n_lists; i++) {
        free(b->lists[i].theme);
        free(b->lists[i].ids);
        free(b->lists[i].text);
    }
    free(b->lists);
    for (size_t i = 0; i < b->kept.cap; i++)
        qk_question_free(b->kept.slot[i]);
    free(b->kept.slot);
    free(b);
}

int qk_bundle_version_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            /* Compare digit runs by value: skip leading zeros, then length, then digits. */
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t la = 0, lb = 0;
            while (a[la] >= '0' && a[la] <= '9')
                la++;
            while (b[lb] >= '0' && b[lb] <= '9')
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = memcmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

static const char *const activity_names[QK_ACT_COUNT] = {"daily", "challenge", "lesson",
                                                         "competition", "streak"};

const char *qk_activity_name(qk_activity a)
{
    return (unsigned)a < QK_ACT_COUNT ? activity_names[a] : "?";
}

qk_activity qk_activity_parse(const char *name)
{
    for (int a = 0; name && a < QK_ACT_COUNT; a++) {
        if (strcmp(name, activity_names[a]) == 0)
            return (qk_activity)a;
    }
    return QK_ACT_COUNT;
}

void qk_point_rules(qk_bundle *b, qk_point_rule rules[QK_ACT_COUNT])
{
    /* Defaults in the spirit of the national study apps: a point a right
     * answer, small daily caps so that steady study beats one long session. */
    static const qk_point_rule defaults[QK_ACT_COUNT] = {
        {1, 5}, /* daily quiz: 1 a right answer, 5 a day */
        {1, 6}, /* challenge: 1 a right answer in the run, 6 a day */
        {2, 6}, /* lesson: 2 a lesson, 6 a day */
        {3, 3}, /* competition: 3 for taking part, once a day */
        {1, 1}, /* streak: 1 a day from the second day in a row */
    };
    memcpy(rules, defaults, sizeof defaults);
    sqlite3_stmt *st = NULL;
    if (!b || sqlite3_prepare_v2(b->db, "SELECT activity, points, daily_cap FROM point_rules", -1,
                                 &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        qk_activity a = qk_activity_parse((const char *)sqlite3_column_text(st, 0));
        int points = sqlite3_column_int(st, 1), cap = sqlite3_column_int(st, 2);
        if (a < QK_ACT_COUNT && points >= 0 && points <= 1000 && cap >= 0 && cap <= 1000) {
            rules[a].points = points;
            rules[a].daily_cap = cap;
        }
    }
    sqlite3_finalize(st);
}

sqlite3 *qk__bundle_db(qk_bundle *b)
{
    return b->db;
}

/* "MM-DD" -> month * 100 + day, or -1. */
static int month_day(const char *s, size_t n)
{
    if (n != 5 || s[2] != '-')
        return -1;
    for (int i = 0; i < 5; i++) {
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    }
    int m = (s[0] - '0') * 10 + (s[1] - '0'), d = (s[3] - '0') * 10 + (s[4] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31 ? m * 100 + d : -1;
}

/* Calls back for each "from..to" range of a spec; returns 0 on a malformed one. */
static int day_ranges(const char *spec, int md, int *hit)
{
    const char *p = spec;
    *hit = 0;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        const char *dots = NULL;
        for (size_t i = 0; i + 1 < len; i++) {
            if (p[i] == '.' && p[i + 1] == '.') {
                dots = p + i;
                break;
            }
        }
        int from = month_day(p, dots ? (size_t)(dots - p) : len);
        int to = dots ? month_day(dots + 2, len - (size_t)(dots - p) - 2) : from;
        if (from < 0 || to < 0)
            return 0;
        /* A range may run over the new year ("12-25..01-05"). */
        if (from <= to ? (md >= from && md <= to) : (md >= from || md <= to))
            *hit = 1;
        p = comma ? comma + 1 : NULL;
    }
    return 1;
}

int qk_theme_days_valid(const char *spec)
{
    int hit;
    return spec && day_ranges(spec, 0, &hit);
}

const qk_theme *qk_bundle_theme_today(const qk_bundle *b, int64_t unix_ms)
{
    int md = qk_month_day(qk_beijing_day(unix_ms));
    for (size_t i = 0; i < b->info.n_themes; i++) {
        int hit = 0;
        if (b->themes[i].active[0] && day_ranges(b->themes[i].active, md, &hit) && hit)
            return &b->themes[i];
    }
    return NULL;
}
