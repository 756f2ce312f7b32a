/* paths.c: the data folder (--data-dir, QUIZKIT_HOME, XDG), the progress file,
 * and installed bundles under <data>/bundles. */
#define _DEFAULT_SOURCE /* realpath */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return ENOMEM;
    int e = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char keep = *s;
            *s = '\0';
            if (mkdir(p, 0700) != 0 && errno != EEXIST) {
                e = errno;
                break;
            }
            *s = keep;
            if (keep == '\0')
                break;
        }
    }
    free(p);
    if (e == 0) {
        struct stat sb;
        if (stat(path, &sb) != 0)
            e = errno;
        else if (!S_ISDIR(sb.st_mode))
            e = ENOTDIR;
    }
    return e;
}

int data_dir_ready(cli *c)
{
    if (c->data_dir)
        return 0;
    const char *opt = c->data_dir_opt;
    const char *home = getenv("QUIZKIT_HOME");
    if (opt && *opt) {
        c->data_dir = strdup(opt);
    } else if (home && *home) {
        c->data_dir = strdup(home);
    } else {
        const char *xdg = getenv("XDG_DATA_HOME");
        const char *h = getenv("HOME");
        if (xdg && *xdg == '/') {
            c->data_dir = join(xdg, "quizkit");
        } else if (h && *h) {
            c->data_dir = join(h, ".local/share/quizkit");
        } else {
            err(c, M_NO_HOME);
            return EXIT_FAIL;
        }
    }
    if (!c->data_dir)
        return EXIT_FAIL;
    int e = make_dirs(c->data_dir);
    if (e) {
        err(c, M_DATA_DIR, c->data_dir, strerror(e));
        return EXIT_FAIL;
    }
    return 0;
}

int engine_open(cli *c, qk_engine **e)
{
    *e = NULL;
    if (data_dir_ready(c))
        return EXIT_FAIL;
    char *path = join(c->data_dir, "progress.db");
    if (!path)
        return EXIT_FAIL;
    int rc = qk_engine_open_v2(e, path, c->lang, &c->clock);
    if (rc != QK_OK) {
        err_text(c, qk_engine_errmsg(*e));
        /* What to do about it: the file is left as it was, for its owner. */
        if (rc == QK_ECORRUPT)
            out(c, stderr, M_PROGRESS_DAMAGED, path, path, path, c->data_dir);
        qk_engine_close(*e);
        *e = NULL;
        free(path);
        return EXIT_FAIL;
    }
    free(path);
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int bundle_installed(cli *c, char ***paths, size_t *n)
{
    *paths = NULL;
    *n = 0;
    if (data_dir_ready(c))
        return EXIT_FAIL;
    char *dir = join(c->data_dir, "bundles");
    if (!dir)
        return EXIT_FAIL;
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return 0; /* nothing installed yet */
    }
    struct dirent *ent;
    char **v = NULL;
    size_t len = 0;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.' || !ends_with(ent->d_name, ".qkb"))
            continue;
        char **nv = realloc(v, (len + 1) * sizeof *nv);
        if (!nv)
            break;
        v = nv;
        if (!(v[len] = join(dir, ent->d_name)))
            break;
        len++;
    }
    closedir(d);
    free(dir);
    if (len > 1)
        qsort(v, len, sizeof *v, cmp_str);
    *paths = v;
    *n = len;
    return 0;
}

static int copy_file(const char *from, const char *to, int *err_out)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        *err_out = errno;
        return -1;
    }
    int outfd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (outfd < 0) {
        *err_out = errno;
        close(in);
        return -1;
    }
    char buf[65536];
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *err_out = errno;
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(outfd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                *err_out = errno;
                rc = -1;
                break;
            }
            off += w;
        }
        if (rc)
            break;
    }
    if (rc == 0 && fsync(outfd) != 0) {
        *err_out = errno;
        rc = -1;
    }
    close(in);
    if (close(outfd) != 0 && rc == 0) {
        *err_out = errno;
        rc = -1;
    }
    return rc;
}

void trust_free(qk_key **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        qk_key_free(keys[i]);
    free(keys);
}

int trust_load(cli *c, qk_key ***keys, size_t *n)
{
    *keys = NULL;
    *n = 0;
    if (data_dir_ready(c))
        return EXIT_FAIL;
    char *dir = join(c->data_dir, "trust");
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        free(dir);
        return 0;
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.' || !ends_with(ent->d_name, ".pub"))
            continue;
        char *p = join(dir, ent->d_name);
        qk_key *k = NULL;
        char msg[512];
        if (p && qk_key_load(&k, p, c->lang, msg, sizeof msg) == QK_OK) {
            qk_key **nv = realloc(*keys, (*n + 1) * sizeof *nv);
            if (nv) {
                *keys = nv;
                (*keys)[(*n)++] = k;
                k = NULL;
            }
        } else if (p) {
            warn_text(c, msg);
        }
        qk_key_free(k);
        free(p);
    }
    closedir(d);
    free(dir);
    return 0;
}

int trust_add_file(cli *c, const char *pub, int dev_notice)
{
    if (data_dir_ready(c))
        return EXIT_FAIL;
    qk_key *k = NULL;
    char msg[512];
    if (qk_key_load(&k, pub, c->lang, msg, sizeof msg) != QK_OK) {
        err_text(c, msg);
        return EXIT_FAIL;
    }
    char *dir = join(c->data_dir, "trust");
    char name[64];
    snprintf(name, sizeof name, "%s.pub", qk_key_id(k));
    char *dest = dir ? join(dir, name) : NULL;
    char *tmp = dir ? join(dir, ".add.tmp") : NULL;
    int status = EXIT_FAIL, e = 0;
    if (!tmp) {
        e = ENOMEM;
    } else if (access(dest, F_OK) == 0) {
        if (!dev_notice)
            out(c, stdout, M_TRUST_ALREADY, qk_key_id(k));
        status = 0;
    } else if ((e = make_dirs(dir)) == 0 && copy_file(pub, tmp, &e) == 0 && rename(tmp, dest) == 0) {
        out(c, dev_notice ? stderr : stdout, dev_notice ? M_TRUST_DEV : M_TRUST_ADDED, qk_key_id(k));
        status = 0;
    } else {
        if (!e)
            e = errno;
        if (tmp)
            unlink(tmp);
    }
    if (status)
        err(c, M_DATA_DIR, dest ? dest : pub, strerror(e));
    qk_key_free(k);
    free(tmp);
    free(dest);
    free(dir);
    return status;
}

/* Opens path verified (digests and signature). An installed bundle (kept)
 * is remembered once verified, in the bundles folder's record, beside the
 * trusted keys and as writable as they are: the next open of the unchanged
 * file skips reading all of it (qk_bundle_open_trusted). A file from
 * elsewhere (--bundle, bundle install) is verified in full every time. */
static int open_checked(cli *c, const char *path, int kept, qk_bundle **b)
{
    *b = NULL;
    qk_key **keys = NULL;
    size_t n = 0;
    if (trust_load(c, &keys, &n))
        return EXIT_FAIL;
    char *record = kept ? join(c->data_dir, "bundles/.verified") : NULL;
    int rc = qk_bundle_open_trusted(b, path, keys, n, record, c->lang);
    free(record);
    int status = EXIT_OK;
    if (rc != QK_OK && rc != QK_EUNSIGNED && rc != QK_EUNTRUSTED && rc != QK_ESIGNATURE) {
        err_text(c, qk_bundle_errmsg(*b));
        status = EXIT_FAIL;
    } else if (rc != QK_OK) {
        if ((rc == QK_EUNSIGNED || rc == QK_EUNTRUSTED) && c->allow_untrusted) {
            char buf[1024];
            msgf(c, buf, sizeof buf, M_UNTRUSTED_WARN, qk_bundle_errmsg(*b));
            warn_text(c, buf);
        } else {
            err_text(c, qk_bundle_errmsg(*b));
            /* trusting a key helps a bundle signed by an unknown key; an
             * unsigned one must be signed (bundle build --key) first */
            if (rc == QK_EUNTRUSTED || rc == QK_EUNSIGNED)
                fprintf(stderr, "  %s\n", M(c, rc == QK_EUNTRUSTED ? M_UNTRUSTED_HINT : M_UNSIGNED_HINT));
            status = EXIT_FAIL;
        }
    }
    trust_free(keys, n);
    if (status) {
        qk_bundle_close(*b);
        *b = NULL;
    }
    return status;
}

int bundle_open_checked(cli *c, const char *path, qk_bundle **b)
{
    return open_checked(c, path, 0, b);
}

/* Refuses to replace an installed bundle with an older version, or the same
 * version with other content. *same: the very same bundle is installed. */
static int check_upgrade(cli *c, const char *dest, const qk_bundle_info *in, int *same)
{
    *same = 0;
    if (access(dest, F_OK) != 0)
        return 0;
    qk_bundle *old = NULL;
    int status = 0;
    if (qk_bundle_open(&old, dest, 0, c->lang) == QK_OK) {
        const qk_bundle_info *o = qk_bundle_info_get(old);
        int cmp = qk_bundle_version_cmp(in->version, o->version);
        if (cmp < 0) {
            err(c, M_DOWNGRADE, o->id, o->version, in->version);
            status = EXIT_FAIL;
        } else if (cmp == 0 && strcmp(in->content_digest, o->content_digest) != 0) {
            err(c, M_SAME_VERSION, o->id, o->version);
            status = EXIT_FAIL;
        } else if (cmp == 0) {
            *same = 1;
        }
    } /* an unreadable installed copy is simply replaced */
    qk_bundle_close(old);
    return status;
}

int bundle_install(cli *c, const char *file, int quiet)
{
    qk_bundle *b = NULL;
    if (data_dir_ready(c) || bundle_open_checked(c, file, &b))
        return EXIT_FAIL;
    const qk_bundle_info *info = qk_bundle_info_get(b);
    char *dir = join(c->data_dir, "bundles");
    char name[200];
    snprintf(name, sizeof name, "%s.qkb", info->id);
    char *dest = dir ? join(dir, name) : NULL;
    char *tmp = dest ? join(dir, ".install.tmp") : NULL;
    int status = EXIT_FAIL, e = 0, same = 0;
    if (!tmp) {
        e = ENOMEM;
    } else if (check_upgrade(c, dest, info, &same)) {
        e = -1; /* already reported */
    } else if (same) {
        if (!quiet)
            out(c, stdout, M_ALREADY_INSTALLED, info->id, info->version);
        status = 0;
    } else if ((e = make_dirs(dir)) == 0) {
        /* Copy beside the target, then rename: an installed bundle is never half-written. */
        if (copy_file(file, tmp, &e) == 0 && rename(tmp, dest) == 0)
            status = 0;
        else if (!e)
            e = errno;
        if (status)
            unlink(tmp);
    }
    if (status && e > 0)
        err(c, M_DATA_DIR, dest ? dest : file, strerror(e));
    else if (!status && !same && quiet)
        out(c, stderr, M_SAMPLE_INSTALLED, info->title, info->version);
    else if (!status && !same)
        out(c, stdout, M_INSTALLED, info->id, info->version, dest);
    qk_bundle_close(b);
    free(tmp);
    free(dest);
    free(dir);
    return status;
}

int share_path(char *out, size_t n, const char *name)
{
    static char share[4096];
    static int looked;
    if (!looked) {
        looked = 1;
        char exe[4096];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        char *slash = len > 0 ? (exe[len] = '\0', strrchr(exe, '/')) : NULL;
        if (slash) {
            snprintf(share, sizeof share, "%.*s/../share/quizkit", (int)(slash - exe), exe);
            struct stat st;
            char *real = realpath(share, NULL); /* as a person would write it: /usr/share/quizkit */
            if (stat(share, &st) != 0 || !S_ISDIR(st.st_mode))
                share[0] = '\0';
            else if (real && strlen(real) < sizeof share)
                memcpy(share, real, strlen(real) + 1);
            free(real);
        }
    }
    if (!share[0])
        return 0;
    snprintf(out, n, "%s/%s", share, name);
    return access(out, F_OK) == 0;
}

/* The sample bundle: QUIZKIT_SAMPLE_BUNDLE, the installed one beside the
 * command, or the build's. */
static const char *sample_bundle(void)
{
    static char installed[4300];
    const char *env = getenv("QUIZKIT_SAMPLE_BUNDLE");
    if (env && *env && access(env, R_OK) == 0)
        return env;
    if (share_path(installed, sizeof installed, "samples.qkb") && access(installed, R_OK) == 0)
        return installed;
    return access(QK_BUILD_SAMPLE, R_OK) == 0 ? QK_BUILD_SAMPLE : NULL;
}


int bundle_open_current(cli *c, const char *which, qk_bundle **b)
{
    *b = NULL;
    if (data_dir_ready(c))
        return EXIT_FAIL;
    /* Every bundle is verified when opened, installed or not: a file in the data
     * folder can be changed after it was installed. */
    if (which && (strchr(which, '/') || ends_with(which, ".qkb")))
        return bundle_open_checked(c, which, b);
    char **paths = NULL;
    size_t n = 0;
    bundle_installed(c, &paths, &n);
    if (n == 0 && !which) {
        const char *sample = sample_bundle();
        qk_strv_free(paths, n);
        paths = NULL;
        if (!sample) {
            err(c, M_NO_BUNDLE);
            return EXIT_FAIL;
        }
        /* The sample is signed with this build's development key, kept beside it. */
        char *slash = strrchr(sample, '/');
        char *pub = NULL;
        if (slash) {
            size_t dlen = (size_t)(slash - sample);
            pub = malloc(dlen + 16);
            if (pub)
                snprintf(pub, dlen + 16, "%.*s/dev-key.pub", (int)dlen, sample);
        }
        if (QK_PACKAGED) {
            /* A package's build key is nobody's to trust unasked: say how to. */
            err(c, M_NO_BUNDLE_PACKAGED, sample, pub ? pub : "dev-key.pub", pub ? pub : "dev-key.pub", sample);
            free(pub);
            return EXIT_FAIL;
        }
        if (pub && access(pub, R_OK) == 0)
            trust_add_file(c, pub, 1);
        free(pub);
        if (bundle_install(c, sample, 1))
            return EXIT_FAIL;
        bundle_installed(c, &paths, &n);
    }
    int status = EXIT_FAIL;
    if (which) {
        char name[200];
        snprintf(name, sizeof name, "/%s.qkb", which);
        size_t i = 0;
        while (i < n && !ends_with(paths[i], name))
            i++;
        if (i < n)
            status = open_checked(c, paths[i], 1, b);
        else
            err(c, M_BUNDLE_NOT_INSTALLED, which);
    } else if (n > 0) {
        /* Installed bundles were verified when installed; the first by id is the default. */
        status = open_checked(c, paths[0], 1, b);
    } else {
        err(c, M_NO_BUNDLE);
    }
    qk_strv_free(paths, n);
    return status;
}

int bundle_open_installed(cli *c, qk_bundle **b)
{
    *b = NULL;
    char **paths = NULL;
    size_t n = 0;
    int status = 1;
    if (bundle_installed(c, &paths, &n) == 0 && n > 0 &&
        qk_bundle_open(b, paths[0], 0, c->lang) == QK_OK)
        status = 0;
    if (status) {
        qk_bundle_close(*b);
        *b = NULL;
    }
    qk_strv_free(paths, n);
    return status;
}

void bundle_note_others(cli *c, const qk_bundle *current)
{
    char **paths = NULL;
    size_t n = 0;
    if (bundle_installed(c, &paths, &n) != 0 || n < 2) {
        qk_strv_free(paths, n);
        return;
    }
    const qk_bundle_info *cur = qk_bundle_info_get(current);
    out(c, stdout, M_BUNDLES_IN_USE, n, cur->title, cur->id);
    for (size_t i = 0; i < n; i++) {
        qk_bundle *b = NULL;
        if (qk_bundle_open(&b, paths[i], 0, c->lang) == QK_OK) {
            const qk_bundle_info *in = qk_bundle_info_get(b);
            if (strcmp(in->id, cur->id) != 0)
                out(c, stdout, M_BUNDLES_OTHER, in->id, in->title, in->n_questions, in->n_lessons);
        }
        qk_bundle_close(b);
    }
    qk_strv_free(paths, n);
}

void serve_signals_block(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int serve_signals_wait(const sigset_t *set)
{
    /* sigwait takes a signal that is pending or the next one to come: no
     * window in which one can be missed (unlike a flag and pause()). */
    int sig = 0;
    while (sigwait(set, &sig) != 0)
        ;
    return sig;
}

void serve_signals_unblock(void)
{
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
}

void write_port_file(const char *path, unsigned port)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f) {
        fprintf(f, "%u\n", port);
        if (fclose(f) == 0)
            rename(tmp, path); /* whole or not at all: scripts poll for it */
    }
}
