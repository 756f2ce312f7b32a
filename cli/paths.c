/* paths.c: the data folder (--data-dir, QUIZKIT_HOME, XDG), the progress file,
 * and installed bundles under <data>/bundles. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
    int rc = qk_engine_open(e, path, c->lang);
    free(path);
    if (rc != QK_OK) {
        err_text(c, qk_engine_errmsg(*e));
        qk_engine_close(*e);
        *e = NULL;
        return EXIT_FAIL;
    }
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

int bundle_install(cli *c, const char *file, int quiet)
{
    qk_bundle *b = NULL;
    int rc = qk_bundle_open(&b, file, QK_BUNDLE_VERIFY, c->lang);
    if (rc != QK_OK) {
        err_text(c, qk_bundle_errmsg(b));
        qk_bundle_close(b);
        return EXIT_FAIL;
    }
    const qk_bundle_info *info = qk_bundle_info_get(b);
    char *dir = join(c->data_dir, "bundles");
    char name[200];
    snprintf(name, sizeof name, "%s.qkb", info->id);
    char *dest = dir ? join(dir, name) : NULL;
    char *tmp = dest ? join(dir, ".install.tmp") : NULL;
    int status = EXIT_FAIL, e = 0;
    if (!tmp) {
        e = ENOMEM;
    } else if ((e = make_dirs(dir)) == 0) {
        /* Copy beside the target, then rename: an installed bundle is never half-written. */
        if (copy_file(file, tmp, &e) == 0 && rename(tmp, dest) == 0)
            status = 0;
        else if (!e)
            e = errno;
        if (status)
            unlink(tmp);
    }
    if (status)
        err(c, M_DATA_DIR, dest ? dest : file, strerror(e));
    else if (quiet)
        out(c, stderr, M_SAMPLE_INSTALLED, info->title, info->version);
    else
        out(c, stdout, M_INSTALLED, info->id, info->version, dest);
    qk_bundle_close(b);
    free(tmp);
    free(dest);
    free(dir);
    return status;
}

static const char *sample_bundle(void)
{
    static const char *const candidates[] = {QK_BUILD_SAMPLE, QK_INSTALL_SAMPLE};
    const char *env = getenv("QUIZKIT_SAMPLE_BUNDLE");
    if (env && *env && access(env, R_OK) == 0)
        return env;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    }
    return NULL;
}

static int open_path(cli *c, const char *path, unsigned flags, qk_bundle **b)
{
    int rc = qk_bundle_open(b, path, flags, c->lang);
    if (rc != QK_OK) {
        err_text(c, qk_bundle_errmsg(*b));
        qk_bundle_close(*b);
        *b = NULL;
        return EXIT_FAIL;
    }
    return 0;
}

int bundle_open_current(cli *c, const char *which, qk_bundle **b)
{
    *b = NULL;
    if (data_dir_ready(c))
        return EXIT_FAIL;
    /* A path given on the command line has not been verified: verify it now. */
    if (which && (strchr(which, '/') || ends_with(which, ".qkb")))
        return open_path(c, which, QK_BUNDLE_VERIFY, b);
    char **paths = NULL;
    size_t n = 0;
    bundle_installed(c, &paths, &n);
    if (n == 0 && !which) {
        const char *sample = sample_bundle();
        if (!sample) {
            err(c, M_NO_BUNDLE);
            return EXIT_FAIL;
        }
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
            status = open_path(c, paths[i], 0, b);
        else
            err(c, M_BUNDLE_NOT_INSTALLED, which);
    } else if (n > 0) {
        /* Installed bundles were verified when installed; the first by id is the default. */
        status = open_path(c, paths[0], 0, b);
    } else {
        err(c, M_NO_BUNDLE);
    }
    qk_strv_free(paths, n);
    return status;
}
