/* cmd_net.c: the device on the network: `quizkit enroll` and `quizkit sync`,
 * and the server part of `quizkit status`. */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "qk_client.h"

char *net_conf_path(cli *c)
{
    if (data_dir_ready(c))
        return NULL;
    size_t n = strlen(c->data_dir) + 16;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/server.json", c->data_dir);
    return p;
}

int cmd_enroll(cli *c, int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL}, *cacert = NULL, *pin = NULL, *name = NULL;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        int k;
        if (is_help(argv[i])) {
            out(c, stdout, M_ENROLL_USAGE);
            return EXIT_OK;
        }
        if ((k = opt_value(c, "enroll", argc, argv, &i, "--cacert", &cacert)) ||
            (k = opt_value(c, "enroll", argc, argv, &i, "--pin", &pin)) ||
            (k = opt_value(c, "enroll", argc, argv, &i, "--name", &name))) {
            if (k < 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "enroll", argv[i]);
            return EXIT_USAGE;
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (npos < 2) {
        out(c, stderr, M_ENROLL_USAGE);
        return EXIT_USAGE;
    }
    qk_client_conf conf = {0};
    snprintf(conf.url, sizeof conf.url, "%s", pos[0]);
    if (cacert) {
        /* Kept as an absolute path: sync may run from another folder. */
        char *abs = realpath(cacert, NULL);
        if (!abs) {
            err(c, M_DATA_DIR, cacert, strerror(errno));
            return EXIT_FAIL;
        }
        snprintf(conf.cacert, sizeof conf.cacert, "%s", abs);
        free(abs);
    }
    if (pin)
        snprintf(conf.pin, sizeof conf.pin, "%s", pin);
    char msg[1024];
    qk_engine *e = NULL;
    qk_key *k = NULL;
    qk_client *cl = NULL;
    char *pem = NULL, *path = NULL;
    int status = EXIT_FAIL;
    int rc = qk_client_new(&cl, &conf, c->lang, msg, sizeof msg);
    if (rc != QK_OK) {
        err_text(c, msg);
        return rc == QK_EINVAL ? EXIT_USAGE : EXIT_FAIL; /* the URL, or libcurl missing */
    }
    if (engine_open(c, &e) || device_key(c, &k) || qk_key_public_pem(k, &pem) != QK_OK ||
        !(path = net_conf_path(c)))
        goto out;
    char host[256];
    if (!name && gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        name = host;
    }
    if (qk_client_enroll(cl, e, pos[1], name, k, &conf, msg, sizeof msg) != QK_OK ||
        qk_client_conf_save(&conf, path, msg, sizeof msg) != QK_OK) {
        err_text(c, msg);
        goto out;
    }
    out(c, stdout, M_ENROLLED, conf.device_id, conf.branch_name[0] ? conf.branch_name : conf.branch, conf.url);
    status = EXIT_OK;
out:
    free(pem);
    free(path);
    qk_key_free(k);
    qk_engine_close(e);
    qk_client_free(cl);
    return status;
}

static void progress(void *ctx, int64_t done, int64_t total)
{
    cli *c = ctx;
    if (!isatty(2) || total <= 0)
        return;
    char bar[31];
    int fill = (int)(done * 30 / total);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[30] = '\0';
    char line[256];
    msgf(c, line, sizeof line, M_SYNC_PROGRESS, bar, (long long)done, (long long)total);
    fputs(line, stderr);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* {bundle id: version} of the bundles installed here. */
static json_t *installed_versions(cli *c)
{
    json_t *v = json_object();
    char **inst = NULL;
    size_t ninst = 0;
    bundle_installed(c, &inst, &ninst);
    for (size_t k = 0; k < ninst; k++) {
        qk_bundle *b = NULL;
        if (qk_bundle_open(&b, inst[k], 0, c->lang) == QK_OK)
            json_object_set_new(v, qk_bundle_info_get(b)->id,
                                json_string(qk_bundle_info_get(b)->version));
        qk_bundle_close(b);
        free(inst[k]);
    }
    free(inst);
    return v;
}

/* {bundle id: catalogue entry} of the newest published version of each id
 * (the catalogue lists versions in publishing order). */
static json_t *latest_published(json_t *cat)
{
    json_t *v = json_object(), *e;
    size_t i;
    json_array_foreach(cat, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        if (id)
            json_object_set(v, id, e);
    }
    return v;
}

/* What the trust store looks like now (its folder's change time): a bundle
 * refused under one look is tried again only under another, after a
 * `trust add` or `trust remove`. */
static void trust_state(cli *c, char *out, size_t n)
{
    char dir[4200];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/trust", c->data_dir);
    if (stat(dir, &st) != 0)
        snprintf(out, n, "none");
    else
        snprintf(out, n, "%lld.%09ld", (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
}

/* Installs the catalogue's bundles this device lacks or has older; the
 * catalogue is kept in <data>/catalogue.json for `status`. A bundle this
 * device refused (a key it does not trust) is remembered by its digest in
 * <data>/refused.json and not fetched again every cycle of `sync --watch`
 * until the trust store changes. */
static int pull_bundles(cli *c, qk_client *cl, char *msg, size_t n)
{
    json_t *cat = NULL;
    int rc = qk_client_catalogue(cl, &cat, msg, n);
    if (rc != QK_OK)
        return rc;
    char path[4096];
    snprintf(path, sizeof path, "%s/catalogue.json", c->data_dir);
    json_dump_file(cat, path, JSON_INDENT(2));
    json_t *have = installed_versions(c), *wanted = latest_published(cat);
    char refused_path[4200], trust_now[64];
    snprintf(refused_path, sizeof refused_path, "%s/refused.json", c->data_dir);
    trust_state(c, trust_now, sizeof trust_now);
    json_t *refused = json_load_file(refused_path, 0, NULL);
    const char *was = json_string_value(json_object_get(refused, "trust"));
    int refused_changed = 0;
    if (!json_is_object(refused) || !was || strcmp(was, trust_now) != 0) {
        /* the trust store changed: everything may be tried again */
        refused_changed = refused != NULL;
        json_decref(refused);
        refused = json_pack("{s:s, s:{}}", "trust", trust_now, "bundles");
    }
    json_t *refused_list = json_object_get(refused, "bundles");
    const char *id;
    json_t *b;
    json_object_foreach(wanted, id, b)
    {
        const char *ver = json_string_value(json_object_get(b, "version"));
        const char *sha = json_string_value(json_object_get(b, "sha256"));
        const char *mine = json_string_value(json_object_get(have, id));
        if (!ver || !sha || (mine && strcmp(mine, ver) == 0))
            continue;
        /* the catalogue is the server's word: it names files here only by the id rule */
        if (!qk_id_valid(id, QK_BUNDLE_ID_MAX) || !qk_id_valid(ver, QK_BUNDLE_VERSION_MAX)) {
            err(c, M_SYNC_BAD_NAME, id, ver);
            continue;
        }
        if (json_object_get(refused_list, sha))
            continue; /* refused before, under the same trust: said then, and in status */
        char dest[4096];
        snprintf(dest, sizeof dest, "%s/download-%s-%s.qkb", c->data_dir, id, ver);
        rc = qk_client_download(cl, id, ver, sha, dest, NULL, NULL, msg, n);
        if (rc != QK_OK)
            break;
        /* Verified against the trust store and swapped in atomically. */
        if (bundle_install(c, dest, 1) == EXIT_OK) {
            out(c, stdout, M_SYNC_BUNDLE, id, ver);
        } else {
            err(c, M_SYNC_REFUSED, id, ver);
            char what[300];
            snprintf(what, sizeof what, "%s %s", id, ver);
            json_object_set_new(refused_list, sha, json_string(what));
            refused_changed = 1;
        }
        unlink(dest);
    }
    if (refused_changed)
        json_dump_file(refused, refused_path, JSON_INDENT(2));
    json_decref(refused);
    json_decref(have);
    json_decref(wanted);
    json_decref(cat);
    return rc;
}

/* The branch leaderboards of the installed bundles' competitions, kept in
 * <data>/boards/ID.json for `compete board` to show offline. A competition
 * the server does not know yet is skipped. */
static int pull_boards(cli *c, qk_engine *e, qk_client *cl, char *msg, size_t n)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/boards", c->data_dir);
    mkdir(dir, 0700);
    char **inst = NULL;
    size_t ninst = 0;
    bundle_installed(c, &inst, &ninst);
    int rc = QK_OK;
    for (size_t k = 0; k < ninst && rc == QK_OK; k++) {
        qk_bundle *b = NULL;
        qk_competition **v = NULL;
        size_t nc = 0;
        if (qk_bundle_open(&b, inst[k], 0, c->lang) == QK_OK &&
            qk_competitions_all(e, b, &v, &nc) == QK_OK) {
            for (size_t i = 0; i < nc && rc == QK_OK; i++) {
                char path[512];
                snprintf(path, sizeof path, "/api/v1/competitions/%s/leaderboard", v[i]->id);
                json_t *board = NULL;
                rc = qk_client_call(cl, "GET", path, NULL, 0, NULL, &board, msg, n);
                if (rc == QK_ENOTFOUND) {
                    rc = QK_OK;
                    continue;
                }
                char file[4200];
                snprintf(file, sizeof file, "%s/%s.json", dir, v[i]->id);
                if (rc == QK_OK)
                    json_dump_file(board, file, JSON_INDENT(1));
                json_decref(board);
            }
        }
        qk_competition_list_free(v, nc);
        qk_bundle_close(b);
    }
    for (size_t k = 0; k < ninst; k++)
        free(inst[k]);
    free(inst);
    return rc;
}

/* Competitions leaders published for this branch, kept for the installed
 * bundle they belong to. *got counts the new or changed ones. */
static int pull_competitions(cli *c, qk_engine *e, qk_client *cl, size_t *got, char *msg, size_t n)
{
    *got = 0;
    json_t *reply = NULL;
    int rc = qk_client_call(cl, "GET", "/api/v1/competitions", NULL, 0, NULL, &reply, msg, n);
    if (rc != QK_OK)
        return rc;
    char **inst = NULL;
    size_t ninst = 0;
    bundle_installed(c, &inst, &ninst);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(reply, "competitions"), i, r)
    {
        const char *bid = json_string_value(json_object_get(r, "bundle_id"));
        char *spec = json_dumps(json_object_get(r, "spec"), JSON_COMPACT | JSON_SORT_KEYS);
        for (size_t k = 0; bid && spec && k < ninst; k++) {
            qk_bundle *b = NULL;
            if (qk_bundle_open(&b, inst[k], 0, c->lang) == QK_OK &&
                strcmp(qk_bundle_info_get(b)->id, bid) == 0) {
                if (qk_competition_save(e, b, spec) == QK_OK)
                    (*got)++;
                else
                    warn_text(c, qk_engine_errmsg(e));
            }
            qk_bundle_close(b);
        }
        free(spec);
    }
    for (size_t k = 0; k < ninst; k++)
        free(inst[k]);
    free(inst);
    json_decref(reply);
    return QK_OK;
}

/* One sync: clock, push, roster, bundles, competitions, leaderboards. */
int net_sync_once(cli *c, qk_client_conf *conf, const char *path, qk_client **clp, char *msg,
                     size_t n)
{
    qk_engine *e = NULL;
    if (engine_open(c, &e))
        return QK_EIO;
    qk_client *cl = *clp;
    int rc = QK_OK;
    if (!cl && (rc = qk_client_new(&cl, conf, c->lang, msg, n)) == QK_OK)
        qk_client_use_clock(cl, &c->clock);
    if (!cl) {
        qk_engine_close(e);
        return rc;
    }
    *clp = cl;
    qk_push_result pr = {0};
    size_t changed = 0, comps = 0;
    int64_t offset = 0;
    if ((rc = qk_client_clock_offset(cl, &offset, msg, n)) == QK_OK &&
        (rc = qk_client_push(cl, e, progress, c, &pr, msg, n)) == QK_OK &&
        (rc = qk_client_pull_roster(cl, e, conf, &changed, msg, n)) == QK_OK &&
        (rc = pull_bundles(c, cl, msg, n)) == QK_OK &&
        (rc = pull_competitions(c, e, cl, &comps, msg, n)) == QK_OK &&
        (rc = pull_boards(c, e, cl, msg, n)) == QK_OK) {
        conf->clock_offset_ms = offset;
        conf->last_sync_ms = qk_clock_now_ms(&c->clock);
        if (pr.rewound_from)
            out(c, stdout, M_SYNC_REWOUND, (long long)pr.rewound_from, (long long)pr.acked_seq);
        out(c, stdout, M_SYNC_DONE, (long long)pr.sent, pr.batches, (long long)pr.acked_seq,
            (long long)pr.pending, changed, (long long)offset);
        fflush(stdout);
    }
    /* The cursor and times are kept even after a failure part-way. */
    char m2[512];
    qk_client_conf_save(conf, path, m2, sizeof m2);
    qk_engine_close(e);
    return rc;
}

int cmd_sync(cli *c, int argc, char **argv)
{
    int watch = 0, retry = 1;
    const char *interval_s = NULL;
    for (int i = 1; i < argc; i++) {
        int k;
        if (is_help(argv[i])) {
            out(c, stdout, M_SYNC_NET_USAGE);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--once") == 0) {
            watch = 0;
        } else if (strcmp(argv[i], "--watch") == 0) {
            watch = 1;
        } else if (strcmp(argv[i], "--no-retry") == 0) {
            retry = 0;
        } else if ((k = opt_value(c, "sync", argc, argv, &i, "--interval", &interval_s))) {
            if (k < 0)
                return EXIT_USAGE;
        } else {
            err(c, M_UNKNOWN_OPT, "sync", argv[i]);
            return EXIT_USAGE;
        }
    }
    unsigned long long interval = 60;
    if (interval_s && (!parse_uint(interval_s, 86400, &interval) || interval == 0)) {
        err(c, M_BAD_VALUE, "--interval", interval_s);
        return EXIT_USAGE;
    }
    char *path = net_conf_path(c);
    qk_client_conf conf;
    char msg[1024];
    int rc = path ? qk_client_conf_load(&conf, path, msg, sizeof msg) : QK_EIO;
    if (rc != QK_OK) {
        if (rc == QK_ENOTFOUND)
            err(c, M_NOT_ENROLLED);
        else if (path)
            err(c, M_DATA_DIR, path, "server.json");
        free(path);
        return EXIT_FAIL;
    }
    term_init();
    qk_client *cl = NULL;
    unsigned seed = (unsigned)qk_clock_real_mono_ms() ^ (unsigned)getpid();
    int failures = 0;
    for (;;) {
        rc = net_sync_once(c, &conf, path, &cl, msg, sizeof msg);
        if (rc == QK_OK)
            failures = 0;
        int again = rc != QK_OK && retry && cl && qk_client_retryable(cl) &&
                    (watch || failures < 4);
        if (rc != QK_OK && !again && !watch)
            break;
        if (rc == QK_OK && !watch)
            break;
        /* Exponential backoff with full jitter (1 s, 2 s, 4 s ... up to 5 min),
         * so a room of kiosks does not hammer a server that comes back. */
        int wait_s = (int)interval;
        if (rc != QK_OK) {
            int cap = failures < 8 ? 1 << failures : 300;
            cap = cap > 300 ? 300 : cap;
            wait_s = 1 + (int)(rand_r(&seed) % (unsigned)cap);
            failures++;
            out(c, stderr, M_SYNC_RETRY, msg, wait_s);
        }
        for (int s = 0; s < wait_s * 10 && !term_interrupted(); s++) {
            struct timespec ts = {0, 100L * 1000000};
            nanosleep(&ts, NULL);
        }
        if (term_interrupted())
            break;
    }
    if (rc != QK_OK)
        err_text(c, msg);
    qk_client_free(cl);
    free(path);
    if (term_interrupted())
        return EXIT_SIGINT;
    return rc == QK_OK ? EXIT_OK : EXIT_FAIL;
}

/* The server part of `quizkit status`. */
void status_server(cli *c)
{
    char *path = net_conf_path(c);
    qk_client_conf conf;
    char msg[512], when[64];
    if (!path || qk_client_conf_load(&conf, path, msg, sizeof msg) != QK_OK) {
        out(c, stdout, M_STATUS_NO_SERVER);
    } else {
        if (conf.last_sync_ms)
            fmt_time(when, sizeof when, conf.last_sync_ms);
        else
            snprintf(when, sizeof when, "%s", M(c, M_STATUS_NEVER));
        out(c, stdout, M_STATUS_SERVER, conf.url, conf.branch_name[0] ? conf.branch_name : conf.branch, when,
            (long long)conf.clock_offset_ms);
    }
    /* Installed bundles, and whether the last catalogue had newer ones. */
    char cat_path[4096];
    snprintf(cat_path, sizeof cat_path, "%s/catalogue.json", c->data_dir);
    json_error_t je;
    json_t *cat = json_load_file(cat_path, 0, &je);
    json_t *have = installed_versions(c), *latest = latest_published(cat);
    const char *id;
    json_t *ver;
    json_object_foreach(have, id, ver)
    {
        char waiting[160] = "";
        const char *newest = json_string_value(json_object_get(json_object_get(latest, id), "version"));
        if (newest && strcmp(newest, json_string_value(ver)) != 0)
            msgf(c, waiting, sizeof waiting, M_STATUS_UPDATE, newest);
        out(c, stdout, M_STATUS_BUNDLE, id, json_string_value(ver), waiting);
    }
    /* Bundles the server offers that this device refused (an untrusted key). */
    char refused_path[4200];
    snprintf(refused_path, sizeof refused_path, "%s/refused.json", c->data_dir);
    json_t *refused = json_load_file(refused_path, 0, NULL);
    const char *sha;
    json_t *what;
    json_object_foreach(json_object_get(refused, "bundles"), sha, what)
        out(c, stdout, M_STATUS_REFUSED, json_string_value(what));
    json_decref(refused);
    json_decref(have);
    json_decref(latest);
    json_decref(cat);
    free(path);
}
