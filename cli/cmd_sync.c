/* cmd_sync.c: moving events by file: `quizkit export`, `quizkit import-ack`,
 * `quizkit status` on the device and `quizkit admin import` on the server. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "qk_client.h"
#include "qk_server.h"
#include "qk_sync.h"

/* A signing key in the data folder (0600), made on first use. */
static int own_key(cli *c, const char *name, qk_key **k)
{
    if (data_dir_ready(c))
        return EXIT_FAIL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->data_dir, name);
    char msg[512];
    if (access(path, F_OK) == 0) {
        if (qk_key_load(k, path, c->lang, msg, sizeof msg) != QK_OK) {
            err_text(c, msg);
            return EXIT_FAIL;
        }
        return 0;
    }
    if (qk_key_generate(k) != QK_OK || qk_key_write(*k, path, NULL, c->lang, msg, sizeof msg) != QK_OK) {
        err_text(c, msg);
        qk_key_free(*k);
        *k = NULL;
        return EXIT_FAIL;
    }
    return 0;
}

/* The device's key: signs its batch files, identifies it at enrolment. */
int device_key(cli *c, qk_key **k)
{
    return own_key(c, "device.key", k);
}

/* Reads a small text file whole; NULL when absent. Caller frees. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(8192);
    size_t n = buf ? fread(buf, 1, 8191, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static int help_or_args(cli *c, int argc, char **argv, int need)
{
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            out(c, stdout, M_SYNC_USAGE);
            return EXIT_OK;
        }
    }
    if (argc - 1 < need) {
        out(c, stderr, M_SYNC_USAGE);
        return EXIT_USAGE;
    }
    return -1;
}

int cmd_export(cli *c, int argc, char **argv)
{
    int r = help_or_args(c, argc, argv, 0);
    if (r >= 0)
        return r;
    const char *outp = NULL;
    for (int i = 1; i < argc; i++) {
        int k;
        if ((k = opt_value(c, "export", argc, argv, &i, "--out", &outp))) {
            if (k < 0)
                return EXIT_USAGE;
        } else {
            err(c, M_UNKNOWN_OPT, "export", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!outp) {
        err(c, M_MISSING_ARG, "--out FILE");
        return EXIT_USAGE;
    }
    qk_engine *e = NULL;
    qk_key *k = NULL;
    int status = EXIT_FAIL;
    int64_t acked = 0, last = 0;
    if (engine_open(c, &e) || device_key(c, &k) || qk_engine_sync_state(e, &acked, &last) != QK_OK)
        goto out;
    size_t n = 0;
    char msg[600];
    if (qk_batch_export(e, k, outp, acked, &n, msg, sizeof msg) != QK_OK) {
        err_text(c, msg);
        goto out;
    }
    if (n == 0)
        out(c, stdout, M_EXPORT_NONE, (long long)last);
    else
        out(c, stdout, M_EXPORTED, n, outp, qk_engine_device_id(e));
    status = EXIT_OK;
out:
    qk_key_free(k);
    qk_engine_close(e);
    return status;
}

int cmd_import_ack(cli *c, int argc, char **argv)
{
    int r = help_or_args(c, argc, argv, 1);
    if (r >= 0)
        return r;
    const char *file = NULL, *key_file = NULL, *key_id = NULL;
    for (int i = 1; i < argc; i++) {
        int k;
        if ((k = opt_value(c, "import-ack", argc, argv, &i, "--server-key", &key_file)) ||
            (k = opt_value(c, "import-ack", argc, argv, &i, "--server-key-id", &key_id))) {
            if (k < 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "import-ack", argv[i]);
            return EXIT_USAGE;
        } else if (!file) {
            file = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    qk_engine *e = NULL;
    if (!file || engine_open(c, &e))
        return file ? EXIT_FAIL : EXIT_USAGE;
    char peek[600];
    if (qk_ack_peek(e, file, peek, sizeof peek) != QK_OK) { /* the file first, then keys */
        err_text(c, peek);
        qk_engine_close(e);
        return EXIT_FAIL;
    }
    /* The server's key is pinned, never taken from the first file that comes
     * (DESIGN.md decision 13): the fingerprint the server's admin reads out
     * (--server-key-id; it also replaces a key pinned before, e.g. when a
     * server moved), a key file given (--server-key), or the key pinned at a
     * first import or at enrolment. */
    char pinned_path[4096];
    snprintf(pinned_path, sizeof pinned_path, "%s/ack-server.pem", c->data_dir);
    char *expected = NULL;
    if (key_id) {
        json_error_t je;
        json_t *ack = json_load_file(file, 0, &je);
        const char *pem = json_string_value(json_object_get(ack, "server_key"));
        qk_key *k = NULL;
        if (!ack)
            err(c, M_DATA_DIR, file, je.text);
        else if (pem && qk_key_from_pem(&k, pem) == QK_OK && strcmp(qk_key_id(k), key_id) == 0)
            expected = strdup(pem);
        else
            err(c, M_ACK_KEY_ID, file, k ? qk_key_id(k) : "?", key_id);
        qk_key_free(k);
        json_decref(ack);
    } else {
        expected = key_file ? slurp(key_file) : slurp(pinned_path);
        if (key_file && !expected)
            err(c, M_DATA_DIR, key_file, strerror(errno));
        qk_client_conf conf;
        char *conf_path = net_conf_path(c), cmsg[256];
        if (!expected && !key_file && conf_path &&
            qk_client_conf_load(&conf, conf_path, cmsg, sizeof cmsg) == QK_OK && conf.server_key[0])
            expected = strdup(conf.server_key);
        free(conf_path);
        if (!expected && !key_file)
            err(c, M_ACK_NO_KEY, file);
    }
    if (!expected) {
        qk_engine_close(e);
        return EXIT_FAIL;
    }
    int64_t acked = 0, last = 0;
    char msg[600], *server_pem = NULL;
    int status = EXIT_FAIL;
    if (qk_ack_apply(e, file, expected, &server_pem, &acked, msg, sizeof msg) != QK_OK) {
        err_text(c, msg);
    } else if (qk_engine_sync_state(e, &acked, &last) == QK_OK) {
        if (key_file || key_id) { /* pinned from now on */
            FILE *f = fopen(pinned_path, "w");
            if (f) {
                fputs(server_pem, f);
                fclose(f);
            }
        }
        out(c, stdout, M_ACKED, (long long)acked, (long long)(last - acked));
        status = EXIT_OK;
    }
    free(server_pem);
    free(expected);
    qk_engine_close(e);
    return status;
}

int cmd_status(cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            out(c, stdout, M_STATUS_USAGE);
            return EXIT_OK;
        }
        if (argv[i][0] == '-')
            err(c, M_UNKNOWN_OPT, "status", argv[i]);
        else
            err(c, M_EXTRA_ARG, argv[i]);
        return EXIT_USAGE;
    }
    qk_engine *e = NULL;
    if (engine_open(c, &e))
        return EXIT_FAIL;
    int64_t acked = 0, last = 0;
    int status = EXIT_FAIL;
    if (qk_engine_sync_state(e, &acked, &last) == QK_OK) {
        out(c, stdout, M_STATUS, qk_engine_device_id(e), (long long)last, (long long)acked,
            (long long)(last - acked));
        status_server(c);
        status = EXIT_OK;
    } else {
        err_text(c, qk_engine_errmsg(e));
    }
    qk_engine_close(e);
    return status;
}

/* The store's signing key. A store made by an older release has none, and
 * that release signed with <data>/server.key: that key, when there, becomes
 * the store's, so that kiosks which pinned it keep accepting acknowledgements. */
static int store_key(cli *c, qk_store *s, qk_key **out)
{
    char path[4096];
    if (data_dir_ready(c) == 0) {
        snprintf(path, sizeof path, "%s/server.key", c->data_dir);
        qk_key *old = NULL;
        char msg[256];
        if (access(path, F_OK) == 0 && qk_key_load(&old, path, c->lang, msg, sizeof msg) == QK_OK)
            qk_admin_server_key_seed(s, old);
        qk_key_free(old);
    }
    return qk_admin_server_key(s, out);
}

static int admin_import(cli *c, int argc, char **argv)
{
    const char *db = NULL, *ack_dir = ".", *bundles = NULL, *key_path = NULL;
    const char *files[256];
    int n = 0;
    for (int i = 2; i < argc; i++) {
        int k;
        if ((k = opt_value(c, "admin import", argc, argv, &i, "--db", &db)) ||
            (k = opt_value(c, "admin import", argc, argv, &i, "--ack-dir", &ack_dir)) ||
            (k = opt_value(c, "admin import", argc, argv, &i, "--bundles", &bundles)) ||
            (k = opt_value(c, "admin import", argc, argv, &i, "--key", &key_path))) {
            if (k < 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "admin import", argv[i]);
            return EXIT_USAGE;
        } else if (n < 256) {
            files[n++] = argv[i];
        }
    }
    if (!db || n == 0) {
        out(c, stderr, M_ADMIN_USAGE);
        return EXIT_USAGE;
    }
    if (bundles)
        out(c, stderr, M_BUNDLES_GONE, bundles);
    /* The server's key signs the acknowledgements: the store's own (the same
     * whoever runs the import), unless --key names another. */
    qk_key *skey = NULL;
    char msg[512];
    if (key_path && qk_key_load(&skey, key_path, c->lang, msg, sizeof msg) != QK_OK) {
        err_text(c, msg);
        return EXIT_FAIL;
    }
    qk_store *s = NULL;
    if (qk_store_open(&s, db, c->lang) != QK_OK ||
        (!skey && store_key(c, s, &skey) != QK_OK)) {
        err_text(c, qk_store_errmsg(s));
        qk_store_close(s);
        qk_key_free(skey);
        return EXIT_FAIL;
    }
    qk_store_use_clock(s, &c->clock);
    size_t taken = 0; /* the old folder: what the upgrade did not find there, so that it re-scores */
    if (bundles && qk_admin_bundles_adopt(s, bundles, &taken) == QK_OK && taken)
        out(c, stderr, M_BUNDLES_TAKEN, bundles, taken);
    int status = EXIT_OK;
    for (int f = 0; f < n; f++) {
        qk_import_result res;
        if (qk_store_import(s, files[f], &res) != QK_OK) {
            err_text(c, qk_store_errmsg(s));
            status = EXIT_FAIL;
            continue;
        }
        out(c, stdout, M_IMPORTED, files[f], res.device_id, res.received, res.inserted,
            res.duplicates, res.conflicts, (long long)res.acked_seq);
        if (res.apart)
            out(c, stdout, M_APART, res.apart);
        for (size_t g = 0; g < res.n_gaps; g++)
            out(c, stdout, M_GAP, (long long)res.gaps[g][0], (long long)res.gaps[g][1]);
        if (res.rescored)
            out(c, stdout, M_RESCORED, res.rescored, res.mismatches);
        if (res.no_bundle)
            out(c, stdout, res.no_bundle_others ? M_UNSCORED_NO_BUNDLES : M_UNSCORED_NO_BUNDLE, res.no_bundle,
                res.no_bundle_id, res.no_bundle_version);
        if (res.unscored > res.no_bundle)
            out(c, stdout, M_UNSCORED_REPLAY, res.unscored - res.no_bundle);
        char ack[4096];
        snprintf(ack, sizeof ack, "%s/ack-%s.json", ack_dir, res.device_id);
        if (qk_store_write_ack(s, res.device_id, skey, ack) != QK_OK) {
            err_text(c, qk_store_errmsg(s));
            status = EXIT_FAIL;
        } else {
            out(c, stdout, M_ACK_WRITTEN, ack, qk_key_id(skey));
        }
        if (res.conflicts)
            status = EXIT_FAIL;
    }
    qk_store_close(s);
    qk_key_free(skey);
    return status;
}

/* `quizkit admin server-key --db DB`: the fingerprint to read out. */
static int admin_server_key(cli *c, int argc, char **argv)
{
    const char *db = NULL;
    for (int i = 2; i < argc; i++) {
        int k;
        if ((k = opt_value(c, "admin server-key", argc, argv, &i, "--db", &db))) {
            if (k < 0)
                return EXIT_USAGE;
        } else {
            err(c, M_UNKNOWN_OPT, "admin server-key", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!db) {
        err(c, M_MISSING_ARG, "--db sqlite:PATH | --db postgresql://...");
        return EXIT_USAGE;
    }
    qk_store *s = NULL;
    qk_key *k = NULL;
    int status = EXIT_FAIL;
    if (qk_store_open(&s, db, c->lang) == QK_OK && store_key(c, s, &k) == QK_OK) {
        out(c, stdout, M_SERVER_KEY, qk_key_id(k), qk_key_id(k));
        status = EXIT_OK;
    } else {
        err_text(c, qk_store_errmsg(s));
    }
    qk_key_free(k);
    qk_store_close(s);
    return status;
}

static void reverse(char **a, char **end)
{
    while (a < --end) {
        char *t = *a;
        *a++ = *end;
        *end = t;
    }
}

/* `quizkit admin --db sqlite:x import f` as well as `… import f --db
 * sqlite:x`: options written before the command word (every admin option
 * takes a value, as the next word or after '=') are moved after it, where
 * the commands read them. 0, or an exit status. */
static int options_last(cli *c, int argc, char **argv)
{
    int k = 1;
    while (k < argc && strncmp(argv[k], "--", 2) == 0 && argv[k][2] && !is_help(argv[k]))
        k += strchr(argv[k], '=') ? 1 : 2;
    if (k == 1)
        return 0;
    if (k >= argc) { /* options only, no command */
        out(c, stderr, M_ADMIN_USAGE);
        return EXIT_USAGE;
    }
    /* argv[1..k) and argv[k..argc) swap places: three reversals */
    reverse(argv + 1, argv + k);
    reverse(argv + k, argv + argc);
    reverse(argv + 1, argv + argc);
    return 0;
}

int cmd_admin(cli *c, int argc, char **argv)
{
    int moved = argc > 1 ? options_last(c, argc, argv) : 0;
    if (moved)
        return moved;
    if (argc < 2) {
        out(c, stderr, M_ADMIN_USAGE);
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) { /* admin --help, admin import --help, … */
        if (is_help(argv[i])) {
            out(c, stdout, M_ADMIN_USAGE);
            return EXIT_OK;
        }
    }
    if (strcmp(argv[1], "import") == 0)
        return admin_import(c, argc, argv);
    if (argc > 1 && strcmp(argv[1], "server-key") == 0)
        return admin_server_key(c, argc, argv);
    if (argc > 1) {
        int r = admin_server(c, argc, argv);
        if (r >= 0)
            return r;
        err(c, M_UNKNOWN_CMD, argv[1]);
    }
    out(c, stderr, M_ADMIN_USAGE);
    return EXIT_USAGE;
}
