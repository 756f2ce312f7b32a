/* cmd_server.c: the central server: `quizkit serve` and the `quizkit admin`
 * commands that work on its database directly (--db). */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "qk_client.h"
#include "qk_server.h"

/* Who a command on the database itself is done by (who made a code, who
 * published): the system account running it on this machine, "root@srv"
 * ("uid1000@srv" without a name). The "@" keeps it apart from the server's
 * own accounts, whose names cannot hold one (a leader's name would make a
 * bundle published here that branch's suggested one). */
static const char *local_user(void)
{
    static char name[160];
    if (name[0])
        return name;
    struct passwd pw, *found = NULL;
    char buf[1024], host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    host[strcspn(host, ".")] = '\0';
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found && found->pw_name[0])
        snprintf(name, sizeof name, "%.60s@%s", found->pw_name, host);
    else
        snprintf(name, sizeof name, "uid%lu@%s", (unsigned long)geteuid(), host);
    return name;
}

/* POST /api/v1/bundles?name=FILE, the file's own name (its last part,
 * percent-encoded) for the server's messages about it. */
static const char *upload_path(char *path, size_t n, const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t at = (size_t)snprintf(path, n, "/api/v1/bundles?name=");
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)base; *p && at + 4 < n; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
            path[at++] = (char)*p;
        } else {
            path[at++] = '%';
            path[at++] = hex[*p >> 4];
            path[at++] = hex[*p & 15];
        }
    }
    path[at] = '\0';
    return path;
}

/* A text member of a server's reply, "?" when it has none. */
static const char *text_of(json_t *reply, const char *key)
{
    const char *v = json_string_value(json_object_get(reply, key));
    return v ? v : "?";
}

static char *data_file(cli *c, const char *name)
{
    if (data_dir_ready(c))
        return NULL;
    size_t n = strlen(c->data_dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", c->data_dir, name);
    return p;
}

/* With the old --bundles folder: the published bundles the upgrade did not
 * find, taken in from it; then those still missing, named. */
static void bundles_missing(cli *c, qk_store *s, const char *old_dir)
{
    size_t taken = 0;
    if (old_dir && qk_admin_bundles_adopt(s, old_dir, &taken) == QK_OK && taken)
        out(c, stderr, M_BUNDLES_TAKEN, old_dir, taken);
    json_t *rows = NULL;
    size_t i;
    json_t *r;
    if (qk_admin_bundles_missing(s, &rows) == QK_OK)
        json_array_foreach(rows, i, r)
        {
            out(c, stderr, M_BUNDLE_MISSING, json_string_value(json_object_get(r, "id")),
                json_string_value(json_object_get(r, "version")), json_string_value(json_object_get(r, "file")));
        }
    json_decref(rows);
}

int cmd_serve(cli *c, int argc, char **argv)
{
    qk_server_config cfg = {0};
    cfg.lang = c->lang;
    cfg.clock = &c->clock;
    const char *port_s = NULL, *threads_s = NULL, *log_path = NULL, *port_file = NULL,
               *config = NULL, *gone = NULL;
    /* The config file first, so options on the command line win. */
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            out(c, stdout, M_SERVE_USAGE);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[i + 1];
    }
    char msg[1024];
    if (config && qk_server_config_load(&cfg, config, msg, sizeof msg) != QK_OK) {
        err_text(c, msg);
        qk_server_config_free(&cfg);
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        int k;
        const char *ignored;
        if ((k = opt_value(c, "serve", argc, argv, &i, "--db", &cfg.db)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--listen", &cfg.listen)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--port", &port_s)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--tls-cert", &cfg.tls_cert)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--tls-key", &cfg.tls_key)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--threads", &threads_s)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--proxy", &cfg.proxy)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--bundles", &gone)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--trust", &cfg.trust)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--web", &cfg.web)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--chartjs", &cfg.chartjs)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--app", &cfg.app)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--log", &log_path)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--port-file", &port_file)) ||
            (k = opt_value(c, "serve", argc, argv, &i, "--config", &ignored))) {
            if (k < 0) {
                qk_server_config_free(&cfg);
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--insecure-listen") == 0) {
            cfg.insecure_listen = 1;
        } else {
            err(c, M_UNKNOWN_OPT, "serve", argv[i]);
            qk_server_config_free(&cfg);
            return EXIT_USAGE;
        }
    }
    if (gone)
        out(c, stderr, M_BUNDLES_GONE, gone);
    unsigned long long v;
    if (port_s) {
        if (!parse_uint(port_s, 65535, &v)) {
            err(c, M_BAD_VALUE, "--port", port_s);
            qk_server_config_free(&cfg);
            return EXIT_USAGE;
        }
        cfg.port = (unsigned)v;
    } else if (!config) {
        cfg.port = cfg.tls_cert ? 8443 : 8080;
    }
    if (threads_s) {
        if (!parse_uint(threads_s, 256, &v) || v == 0) {
            err(c, M_BAD_VALUE, "--threads", threads_s);
            qk_server_config_free(&cfg);
            return EXIT_USAGE;
        }
        cfg.threads = (unsigned)v;
    }
    if (!cfg.tls_cert != !cfg.tls_key) {
        err(c, M_SERVE_TLS_PAIR);
        qk_server_config_free(&cfg);
        return EXIT_USAGE;
    }
    if (!cfg.listen)
        cfg.listen = cfg.tls_cert ? "0.0.0.0" : "127.0.0.1";
    if (!cfg.tls_cert && !cfg.insecure_listen && strncmp(cfg.listen, "127.", 4) != 0 &&
        strcmp(cfg.listen, "::1") != 0) {
        err(c, M_SERVE_PLAIN_PUBLIC, cfg.listen);
        qk_server_config_free(&cfg);
        return EXIT_USAGE;
    }
    char *db_default = NULL, *trust_default = NULL;
    /* an installed command's pages and app module, beside it (share/quizkit) */
    char web_dir[4300], app_dir[4300];
    if (!cfg.web && share_path(web_dir, sizeof web_dir, "web"))
        cfg.web = web_dir;
    if (!cfg.app && share_path(app_dir, sizeof app_dir, "app"))
        cfg.app = app_dir;
    if (!cfg.db) {
        char *p = data_file(c, "server.db");
        size_t n = p ? strlen(p) + 8 : 0;
        db_default = p ? malloc(n) : NULL;
        if (db_default)
            snprintf(db_default, n, "sqlite:%s", p);
        free(p);
        cfg.db = db_default;
    }
    if (!cfg.trust)
        cfg.trust = trust_default = data_file(c, "trust");
    FILE *log = log_path ? fopen(log_path, "a") : stderr;
    int status = EXIT_FAIL;
    if (!cfg.db || !log) {
        if (!log)
            err(c, M_DATA_DIR, log_path, strerror(errno));
        goto out;
    }
    cfg.log = log;
    qk_store *s = NULL;
    if (qk_store_open(&s, cfg.db, c->lang) != QK_OK) {
        err_text(c, qk_store_errmsg(s));
        qk_store_close(s);
        goto out;
    }
    bundles_missing(c, s, gone);

    sigset_t stop_signals;
    serve_signals_block(&stop_signals); /* before the server's threads start */
    qk_server *srv = qk_server_start(&cfg, msg, sizeof msg);
    if (!srv) {
        err_text(c, msg);
        qk_store_close(s);
        goto out;
    }
    /* The first start makes the first admin, once the server could start (a
     * password shown for a server that then failed would never be shown again). */
    char pw[32];
    if (qk_admin_init(s, "admin", pw, sizeof pw) == QK_OK)
        out(c, stdout, M_SERVE_ADMIN, "admin", pw);
    qk_store_close(s);
    unsigned port = qk_server_port(srv);
    char *shown = qk_store_spec_shown(cfg.db); /* never a password on the screen or in a log */
    out(c, stdout, M_SERVE_LISTENING, cfg.tls_cert ? "https" : "http", cfg.listen, port, shown ? shown : "");
    free(shown);
    fflush(stdout);
    if (port_file)
        write_port_file(port_file, port);
    serve_signals_wait(&stop_signals);
    out(c, stderr, M_SERVE_STOPPING);
    qk_server_stop(srv, 10000);
    out(c, stderr, M_SERVE_STOPPED);
    status = EXIT_OK;
out:
    if (log && log != stderr)
        fclose(log);
    free(db_default);
    free(trust_default);
    qk_server_config_free(&cfg);
    return status;
}

/* --- admin on the database --- */

typedef struct aopts {
    const char *db, *branch, *pin, *dept, *ttl, *password_file, *user, *trust, *gone;
    const char *server, *cacert, *bundle;
    const char *pos[4];
    int npos;
    int phone; /* code --phone: a code for a member's own phone */
} aopts;

static int admin_opts(cli *c, int argc, char **argv, int first, aopts *o)
{
    for (int i = first; i < argc; i++) {
        int k;
        if ((k = opt_value(c, "admin", argc, argv, &i, "--db", &o->db)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--branch", &o->branch)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--pin", &o->pin)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--dept", &o->dept)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--ttl", &o->ttl)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--password-file", &o->password_file)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--user", &o->user)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--trust", &o->trust)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--bundles", &o->gone)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--server", &o->server)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--cacert", &o->cacert)) ||
            (k = opt_value(c, "admin", argc, argv, &i, "--bundle", &o->bundle))) {
            if (k < 0)
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--phone") == 0) {
            o->phone = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            err(c, M_UNKNOWN_OPT, "admin", argv[i]);
            return EXIT_USAGE;
        } else if (o->npos < 4) {
            o->pos[o->npos++] = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!o->db && !o->server) {
        err(c, M_MISSING_ARG, "--db sqlite:PATH | --db postgresql://... | --server URL");
        return EXIT_USAGE;
    }
    if (o->gone)
        out(c, stderr, M_BUNDLES_GONE, o->gone);
    return 0;
}

/* A new account's password: from a file (first line) or typed twice. */
static int read_password(cli *c, const char *file, const char *user, char *pw, size_t n)
{
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f || !fgets(pw, (int)n, f)) {
            err(c, M_DATA_DIR, file, strerror(errno ? errno : EIO));
            if (f)
                fclose(f);
            return EXIT_FAIL;
        }
        fclose(f);
        pw[strcspn(pw, "\r\n")] = '\0';
        return 0;
    }
    char prompt[256];
    msgf(c, prompt, sizeof prompt, M_PASSWORD_PROMPT, user);
    const char *line = NULL;
    if (term_read_secret(c, prompt, &line) != TERM_LINE || !line)
        return EXIT_INTERRUPTED;
    snprintf(pw, n, "%s", line);
    return 0;
}

static int store_fail(cli *c, qk_store *s)
{
    err_text(c, qk_store_errmsg(s));
    return EXIT_FAIL;
}

/* A listed column's header in the interface's language (the JSON keys are
 * the protocol's, not words for people). */
static const char *column_title(cli *c, const char *key)
{
    static const struct {
        const char *key;
        cli_msg msg;
    } titles[] = {{"id", M_COL_ID},
                  {"name", M_COL_NAME},
                  {"members", M_COL_MEMBERS},
                  {"devices", M_COL_DEVICES},
                  {"branch", M_COL_BRANCH},
                  {"acked_seq", M_COL_ACKED},
                  {"last_seq", M_COL_LAST_SEQ},
                  {"last_seen_ms", M_COL_LAST_SEEN},
                  {"revoked_ms", M_COL_REVOKED},
                  {"bundle_id", M_COL_BUNDLE},
                  {"published_by", M_COL_PUBLISHED_BY},
                  {"published_ms", M_COL_PUBLISHED}};
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++) {
        if (strcmp(titles[i].key, key) == 0)
            return M(c, titles[i].msg);
    }
    return key;
}

static void print_json_rows(cli *c, json_t *rows, const char *const *cols, size_t ncols)
{
    table t = {0};
    char line[1024];
    size_t w = 0;
    for (size_t k = 0; k < ncols; k++) {
        /* times are shown in Beijing time, and the header says so */
        const char *ms = strstr(cols[k], "_ms");
        w += (size_t)snprintf(line + w, sizeof line - w, "%s%s%s", k ? "\t" : "",
                              column_title(c, cols[k]), ms && !ms[3] ? M(c, M_BEIJING_SUFFIX) : "");
    }
    table_add(&t, "%s", line);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        w = 0;
        for (size_t k = 0; k < ncols && w < sizeof line; k++) {
            json_t *v = json_object_get(r, cols[k]);
            char val[256];
            if (json_is_string(v))
                snprintf(val, sizeof val, "%s", json_string_value(v));
            else if (json_is_integer(v) && strstr(cols[k], "_ms"))
                fmt_time(val, sizeof val, (int64_t)json_integer_value(v));
            else if (json_is_integer(v))
                snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
            else
                snprintf(val, sizeof val, "-");
            w += (size_t)snprintf(line + w, sizeof line - w, "%s%s", k ? "\t" : "", val);
        }
        table_add(&t, "%s", line);
    }
    table_print(c, &t);
    table_free(&t);
}

/* Reads a whole file (a roster, a bundle); NULL with errno set. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    while (f && !feof(f) && !ferror(f)) {
        if (*len + 65536 > cap) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 131072);
            if (!nb)
                break;
            buf = nb;
        }
        *len += fread(buf + *len, 1, cap - *len - 1, f); /* a byte kept for the end mark */
    }
    int bad = !f || ferror(f);
    if (f)
        fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    if (!buf)
        return calloc(1, 1);
    buf[*len] = '\0'; /* text readers (a competition's JSON) need the end marked */
    return buf;
}

/* A roster file as UTF-8 (WPS/Excel save GBK too): 0, or an exit status
 * after saying what is wrong and where. */
static int read_roster(cli *c, const char *path, char **text, size_t *len)
{
    size_t rawlen = 0;
    int converted = 0, bad_line = 0;
    char *raw = read_all(path, &rawlen);
    *text = NULL;
    if (!raw) {
        err(c, M_DATA_DIR, path, strerror(errno ? errno : EIO));
        return EXIT_FAIL;
    }
    *text = qk_text_decode(raw, rawlen, len, &converted, &bad_line);
    free(raw);
    if (!*text) {
        char why[512];
        snprintf(why, sizeof why, "%s:%d: %s", path, bad_line,
                 c->lang == QK_LANG_EN ? "neither UTF-8 nor GBK text" : "既不是 UTF-8 也不是 GBK 文本");
        err_text(c, why);
        return EXIT_FAIL;
    }
    return 0;
}

/* A branch's name for people, from the store (its id where it has none). */
static void branch_label(qk_store *s, const char *id, char *out, size_t n)
{
    json_t *all = NULL;
    snprintf(out, n, "%s", id ? id : "");
    if (id && qk_admin_branches(s, &all) == QK_OK) {
        size_t i;
        json_t *b;
        json_array_foreach(all, i, b)
        {
            const char *bid = json_string_value(json_object_get(b, "id"));
            const char *name = json_string_value(json_object_get(b, "name"));
            if (bid && strcmp(bid, id) == 0 && name && name[0])
                snprintf(out, n, "%s", name);
        }
    }
    json_decref(all);
}

/* The same commands through the server's API, for leaders who have no access
 * to its database: log in, call, print what came back. */
static int admin_remote(cli *c, const char *cmd, const char *sub, const aopts *o)
{
    if (strcmp(cmd, "init") == 0 || strcmp(cmd, "backup") == 0) {
        err(c, M_ADMIN_NEEDS_DB, cmd);
        return EXIT_USAGE;
    }
    if (!o->user) {
        err(c, M_MISSING_ARG, "--user");
        return EXIT_USAGE;
    }
    qk_client_conf conf = {0};
    snprintf(conf.url, sizeof conf.url, "%s", o->server);
    if (o->cacert)
        snprintf(conf.cacert, sizeof conf.cacert, "%s", o->cacert);
    char msg[1024];
    qk_client *cl = NULL;
    int made = qk_client_new(&cl, &conf, c->lang, msg, sizeof msg);
    if (made != QK_OK) {
        err_text(c, msg);
        return made == QK_EINVAL ? EXIT_USAGE : EXIT_FAIL; /* the URL, or libcurl missing */
    }
    /* The login password: QUIZKIT_PASSWORD (scripts) or typed. */
    const char *pw = getenv("QUIZKIT_PASSWORD");
    char prompt[256];
    if (!pw) {
        msgf(c, prompt, sizeof prompt, M_LOGIN_PROMPT, o->user, o->server);
        if (term_read_secret(c, prompt, &pw) != TERM_LINE || !pw) {
            qk_client_free(cl);
            return EXIT_INTERRUPTED;
        }
    }
    int r = EXIT_OK, rc = qk_client_login(cl, o->user, pw, msg, sizeof msg);
    json_t *reply = NULL, *body = NULL;
    char path[512], newpw[256];
    char *data = NULL;
    size_t len = 0;
    if (rc != QK_OK) {
        /* reported below */
    } else if (strcmp(cmd, "branch") == 0 && strcmp(sub, "add") == 0 && o->npos == 2) {
        body = json_pack("{s:s, s:s}", "id", o->pos[0], "name", o->pos[1]);
        snprintf(path, sizeof path, "/api/v1/branches");
    } else if (strcmp(cmd, "branch") == 0 && strcmp(sub, "list") == 0 && o->npos == 0) {
        static const char *const cols[] = {"id", "name", "members", "devices"};
        if ((rc = qk_client_call(cl, "GET", "/api/v1/branches", NULL, 0, NULL, &reply, msg,
                                 sizeof msg)) == QK_OK)
            print_json_rows(c, json_object_get(reply, "branches"), cols, 4);
    } else if ((strcmp(cmd, "leader") == 0 || strcmp(cmd, "admin") == 0) &&
               strcmp(sub, "add") == 0 && o->npos == 1) {
        if ((r = read_password(c, o->password_file, o->pos[0], newpw, sizeof newpw)) == 0) {
            body = json_pack("{s:s, s:s, s:s?, s:s}", "name", o->pos[0], "role", cmd, "branch",
                             o->branch, "password", newpw);
            snprintf(path, sizeof path, "/api/v1/users");
        }
    } else if (strcmp(cmd, "member") == 0 && strcmp(sub, "add") == 0 && o->npos == 2) {
        if (!o->pin) {
            err(c, M_MISSING_ARG, "--pin");
            r = EXIT_USAGE;
        } else {
            body = json_pack("{s:s, s:s, s:s?, s:s?, s:s}", "id", o->pos[0], "name", o->pos[1],
                             "branch", o->branch, "dept", o->dept, "pin", o->pin);
            snprintf(path, sizeof path, "/api/v1/members");
        }
    } else if (strcmp(cmd, "member") == 0 && strcmp(sub, "import") == 0 && o->npos == 1) {
        size_t tlen = 0;
        if ((r = read_roster(c, o->pos[0], &data, &tlen)) == 0) {
            snprintf(path, sizeof path, "/api/v1/members/import%s%s", o->branch ? "?branch=" : "",
                     o->branch ? o->branch : "");
            if ((rc = qk_client_call(cl, "POST", path, data, tlen, "text/csv", &reply, msg,
                                     sizeof msg)) == QK_OK)
                out(c, stdout, M_ADMIN_OK_IMPORT, o->pos[0],
                    (size_t)json_integer_value(json_object_get(reply, "imported")));
        }
    } else if (strcmp(cmd, "competition") == 0 && strcmp(sub, "add") == 0 && o->npos == 1) {
        json_error_t je;
        json_t *spec = json_load_file(o->pos[0], 0, &je);
        if (!o->bundle) {
            err(c, M_MISSING_ARG, "--bundle ID");
            r = EXIT_USAGE;
        } else if (!spec) {
            char why[600];
            snprintf(why, sizeof why, "%s:%d: %s", o->pos[0], je.line, je.text);
            err_text(c, why);
            r = EXIT_FAIL;
        } else {
            json_t *req = json_pack("{s:s, s:s?, s:O}", "bundle_id", o->bundle, "branch", o->branch, "spec", spec);
            char *text = json_dumps(req, JSON_COMPACT);
            json_decref(req);
            if ((rc = qk_client_call(cl, "POST", "/api/v1/competitions", text, strlen(text),
                                     "application/json", &reply, msg, sizeof msg)) == QK_OK)
                out(c, stdout, M_ADMIN_COMP_ADDED, o->pos[0], o->bundle,
                    json_string_value(json_object_get(reply, "branch")) ? json_string_value(json_object_get(reply, "branch")) : M(c, M_ALL_BRANCHES));
            free(text);
        }
        json_decref(spec);
    } else if (strcmp(cmd, "code") == 0 && o->npos == 0) {
        unsigned long long hours = 24;
        if (o->ttl && (!parse_uint(o->ttl, 720, &hours) || hours == 0)) {
            err(c, M_BAD_VALUE, "--ttl", o->ttl);
            r = EXIT_USAGE;
        } else {
            json_t *req = json_pack("{s:s?, s:I, s:s}", "branch", o->branch, "ttl_s", (json_int_t)hours * 3600,
                                    "kind", o->phone ? "phone" : "shared");
            char *text = json_dumps(req, JSON_COMPACT);
            json_decref(req);
            if ((rc = qk_client_call(cl, "POST", "/api/v1/enrol-codes", text, strlen(text),
                                     "application/json", &reply, msg, sizeof msg)) == QK_OK) {
                char until[64];
                const char *code = json_string_value(json_object_get(reply, "code"));
                fmt_time(until, sizeof until, (int64_t)json_integer_value(json_object_get(reply, "expires_ms")));
                const char *bname = json_string_value(json_object_get(reply, "branch_name"));
                char origin[512]; /* the server's address with no trailing slash, for /app/ */
                snprintf(origin, sizeof origin, "%s", o->server);
                for (size_t n = strlen(origin); n > 0 && origin[n - 1] == '/'; n--)
                    origin[n - 1] = '\0';
                const char *label = bname ? bname : json_string_value(json_object_get(reply, "branch"));
                const char *kind = json_string_value(json_object_get(reply, "kind"));
                if (o->phone && (!kind || strcmp(kind, "phone") != 0)) {
                    /* a server from before codes had kinds made a code for any device */
                    err(c, M_NO_PHONE_CODES, o->server);
                    r = EXIT_FAIL;
                } else if (o->phone)
                    out(c, stdout, M_ADMIN_CODE_PHONE_URL, code, label, until, origin);
                else
                    out(c, stdout, M_ADMIN_CODE_URL, code, label, until, o->server, code);
            }
            free(text);
        }
    } else if (strcmp(cmd, "device") == 0 && strcmp(sub, "list") == 0 && o->npos == 0) {
        static const char *const cols[] = {"id", "branch", "name", "acked_seq", "last_seq",
                                           "last_seen_ms", "revoked_ms"};
        snprintf(path, sizeof path, "/api/v1/devices%s%s", o->branch ? "?branch=" : "",
                 o->branch ? o->branch : "");
        if ((rc = qk_client_call(cl, "GET", path, NULL, 0, NULL, &reply, msg, sizeof msg)) == QK_OK)
            print_json_rows(c, json_object_get(reply, "devices"), cols, 7);
    } else if (strcmp(cmd, "device") == 0 && strcmp(sub, "revoke") == 0 && o->npos == 1) {
        snprintf(path, sizeof path, "/api/v1/devices/%s/revoke", o->pos[0]);
        if ((rc = qk_client_call(cl, "POST", path, NULL, 0, NULL, &reply, msg, sizeof msg)) == QK_OK)
            out(c, stdout, M_ADMIN_REVOKED, o->pos[0]);
    } else if (strcmp(cmd, "bundle") == 0 && strcmp(sub, "publish") == 0 && o->npos == 1) {
        if (!(data = read_all(o->pos[0], &len))) {
            err(c, M_DATA_DIR, o->pos[0], strerror(errno ? errno : EIO));
            r = EXIT_FAIL;
        } else if ((rc = qk_client_call(cl, "POST", upload_path(path, sizeof path, o->pos[0]), data, len,
                                        "application/vnd.quizkit.bundle", &reply, msg,
                                        sizeof msg)) == QK_OK) {
            char day[QK_DATE_LEN];
            qk_beijing_date((int64_t)json_integer_value(json_object_get(reply, "published_ms")), day);
            if (json_is_true(json_object_get(reply, "already_published")))
                out(c, stdout, M_ADMIN_ALREADY_PUBLISHED, text_of(reply, "id"), text_of(reply, "version"), day,
                    text_of(reply, "published_by"));
            else
                out(c, stdout, M_ADMIN_PUBLISHED, text_of(reply, "id"), text_of(reply, "version"),
                    (long long)json_integer_value(json_object_get(reply, "size")), text_of(reply, "key_id"));
            size_t waited = (size_t)json_integer_value(json_object_get(reply, "rescored"));
            if (waited)
                out(c, stdout, M_ADMIN_RESCORED_WAITING, waited);
        }
    } else {
        err(c, M_ADMIN_NEEDS_DB, cmd);
        r = EXIT_USAGE;
    }
    /* Commands that only send a JSON body and print their own line. */
    if (rc == QK_OK && r == EXIT_OK && body) {
        char *text = json_dumps(body, JSON_COMPACT);
        rc = qk_client_call(cl, "POST", path, text, strlen(text), "application/json", &reply, msg,
                            sizeof msg);
        free(text);
        if (rc == QK_OK && strcmp(path, "/api/v1/users") == 0)
            out(c, stdout, M_ADMIN_OK_USER,
                M(c, strcmp(cmd, "leader") == 0 ? M_ROLE_LEADER : M_ROLE_ADMIN), o->pos[0]);
        else if (rc == QK_OK && strcmp(path, "/api/v1/branches") == 0)
            out(c, stdout, M_ADMIN_OK_BRANCH, o->pos[0], o->pos[1]);
        else if (rc == QK_OK && strcmp(path, "/api/v1/members") == 0)
            out(c, stdout, M_ADMIN_OK_MEMBER, o->pos[0], o->pos[1],
                json_string_value(json_object_get(reply, "branch")));
    }
    if (rc != QK_OK) {
        err_text(c, msg);
        r = EXIT_FAIL;
    }
    json_decref(body);
    json_decref(reply);
    free(data);
    qk_client_free(cl);
    return r;
}

/* Returns -1 when argv[1] is not one of these commands. */
int admin_server(cli *c, int argc, char **argv)
{
    static const char *const known[] = {"init",   "branch", "leader", "admin",      "member",
                                        "code",   "device", "backup", "bundle", "competition"};
    int found = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        found |= strcmp(argv[1], known[i]) == 0;
    if (!found)
        return -1;
    const char *cmd = argv[1];
    /* Two-word commands: "branch add", "member import", ... */
    const char *sub = argc > 2 && argv[2][0] != '-' &&
                              (strcmp(cmd, "branch") == 0 || strcmp(cmd, "leader") == 0 ||
                               strcmp(cmd, "admin") == 0 || strcmp(cmd, "member") == 0 ||
                               strcmp(cmd, "device") == 0 || strcmp(cmd, "bundle") == 0 ||
                               strcmp(cmd, "competition") == 0)
                          ? argv[2]
                          : "";
    aopts o = {0};
    int r = admin_opts(c, argc, argv, *sub ? 3 : 2, &o);
    if (r)
        return r;
    if (o.server && !o.db)
        return admin_remote(c, cmd, sub, &o);
    qk_store *s = NULL;
    if (qk_store_open(&s, o.db, c->lang) != QK_OK) {
        r = store_fail(c, s);
        qk_store_close(s);
        return r;
    }
    qk_store_use_clock(s, &c->clock);
    if (o.gone)
        bundles_missing(c, s, o.gone);
    int rc = QK_OK;
    r = EXIT_OK;
    if (strcmp(cmd, "init") == 0 && o.npos == 0) {
        char pw[32];
        const char *user = o.user ? o.user : "admin";
        if ((rc = qk_admin_init(s, user, pw, sizeof pw)) == QK_OK)
            out(c, stdout, M_ADMIN_INIT, user, pw);
    } else if (strcmp(cmd, "branch") == 0 && strcmp(sub, "add") == 0 && o.npos == 2) {
        if ((rc = qk_admin_branch_add(s, o.pos[0], o.pos[1])) == QK_OK)
            out(c, stdout, M_ADMIN_OK_BRANCH, o.pos[0], o.pos[1]);
    } else if (strcmp(cmd, "branch") == 0 && strcmp(sub, "list") == 0 && o.npos == 0) {
        json_t *rows = NULL;
        static const char *const cols[] = {"id", "name", "members", "devices"};
        if ((rc = qk_admin_branches(s, &rows)) == QK_OK)
            print_json_rows(c, rows, cols, 4);
        json_decref(rows);
    } else if ((strcmp(cmd, "leader") == 0 || strcmp(cmd, "admin") == 0) &&
               strcmp(sub, "add") == 0 && o.npos == 1) {
        int leader = strcmp(cmd, "leader") == 0;
        char pw[256];
        if (leader && !o.branch) {
            err(c, M_MISSING_ARG, "--branch");
            r = EXIT_USAGE;
        } else if ((r = read_password(c, o.password_file, o.pos[0], pw, sizeof pw)) == 0 &&
                   (rc = qk_admin_user_add(s, o.pos[0], cmd, o.branch, pw)) == QK_OK) {
            out(c, stdout, M_ADMIN_OK_USER, M(c, leader ? M_ROLE_LEADER : M_ROLE_ADMIN), o.pos[0]);
        }
    } else if (strcmp(cmd, "member") == 0 && strcmp(sub, "add") == 0 && o.npos == 2) {
        qk_roster_member m = {0};
        snprintf(m.id, sizeof m.id, "%s", o.pos[0]);
        snprintf(m.name, sizeof m.name, "%s", o.pos[1]);
        snprintf(m.branch, sizeof m.branch, "%s", o.branch ? o.branch : "");
        snprintf(m.dept, sizeof m.dept, "%s", o.dept ? o.dept : "");
        if (!o.branch || !o.pin) {
            err(c, M_MISSING_ARG, !o.branch ? "--branch" : "--pin");
            r = EXIT_USAGE;
        } else if ((rc = qk_admin_member_add(s, &m, o.pin)) == QK_OK) {
            out(c, stdout, M_ADMIN_OK_MEMBER, m.id, m.name, m.branch);
        }
    } else if (strcmp(cmd, "member") == 0 && strcmp(sub, "import") == 0 && o.npos == 1) {
        char *text = NULL;
        size_t tlen = 0, added = 0;
        if ((r = read_roster(c, o.pos[0], &text, &tlen)) == 0 &&
            (rc = qk_admin_roster_import(s, text, tlen, o.pos[0], o.branch, NULL, &added)) == QK_OK)
            out(c, stdout, M_ADMIN_OK_IMPORT, o.pos[0], added);
        free(text);
    } else if (strcmp(cmd, "code") == 0 && o.npos == 0) {
        unsigned long long hours = 24;
        if (!o.branch) {
            err(c, M_MISSING_ARG, "--branch");
            r = EXIT_USAGE;
        } else if (o.ttl && (!parse_uint(o.ttl, 720, &hours) || hours == 0)) {
            err(c, M_BAD_VALUE, "--ttl", o.ttl);
            r = EXIT_USAGE;
        } else {
            char code[QK_CODE_LEN + 1], until[64];
            int64_t exp = 0;
            if ((rc = qk_admin_code_new(s, o.branch, local_user(), (int64_t)hours * 3600 * 1000,
                                        o.phone ? QK_CODE_PHONE : QK_CODE_SHARED, code, &exp)) == QK_OK) {
                fmt_time(until, sizeof until, exp);
                char bname[260];
                branch_label(s, o.branch, bname, sizeof bname);
                if (o.phone)
                    out(c, stdout, M_ADMIN_CODE_PHONE, code, bname, until);
                else
                    out(c, stdout, M_ADMIN_CODE, code, bname, until, code);
            }
        }
    } else if (strcmp(cmd, "device") == 0 && strcmp(sub, "list") == 0 && o.npos == 0) {
        json_t *rows = NULL;
        static const char *const cols[] = {"id", "branch", "name", "acked_seq", "last_seq",
                                           "last_seen_ms", "revoked_ms"};
        if ((rc = qk_admin_devices(s, o.branch, &rows)) == QK_OK)
            print_json_rows(c, rows, cols, 7);
        json_decref(rows);
    } else if (strcmp(cmd, "device") == 0 && strcmp(sub, "revoke") == 0 && o.npos == 1) {
        if ((rc = qk_admin_device_revoke(s, o.pos[0])) == QK_OK)
            out(c, stdout, M_ADMIN_REVOKED, o.pos[0]);
    } else if (strcmp(cmd, "competition") == 0 && strcmp(sub, "add") == 0 && o.npos == 1) {
        size_t len = 0;
        char *spec = read_all(o.pos[0], &len);
        if (!o.bundle) {
            err(c, M_MISSING_ARG, "--bundle ID");
            r = EXIT_USAGE;
        } else if (!spec) {
            err(c, M_DATA_DIR, o.pos[0], strerror(errno ? errno : EIO));
            r = EXIT_FAIL;
        } else if ((rc = qk_admin_competition_add(s, spec, o.bundle, o.branch, local_user())) == QK_OK) {
            out(c, stdout, M_ADMIN_COMP_ADDED, o.pos[0], o.bundle, o.branch ? o.branch : M(c, M_ALL_BRANCHES));
        }
        free(spec);
    } else if (strcmp(cmd, "competition") == 0 && strcmp(sub, "list") == 0 && o.npos == 0) {
        json_t *rows = NULL;
        static const char *const cols[] = {"id", "bundle_id", "branch", "published_by", "published_ms"};
        if ((rc = qk_admin_competitions(s, o.branch, &rows)) == QK_OK)
            print_json_rows(c, rows, cols, 5);
        json_decref(rows);
    } else if (strcmp(cmd, "backup") == 0 && o.npos == 1) {
        if ((rc = qk_admin_backup(s, o.pos[0])) == QK_OK)
            out(c, stdout, M_ADMIN_BACKUP, o.pos[0]);
    } else if (strcmp(cmd, "bundle") == 0 && strcmp(sub, "publish") == 0 && o.npos == 1) {
        char *trust = o.trust ? NULL : data_file(c, "trust");
        qk_published p;
        if ((rc = qk_admin_bundle_publish(s, o.pos[0], o.trust ? o.trust : trust, local_user(), &p)) == QK_OK) {
            char day[QK_DATE_LEN];
            qk_beijing_date(p.published_ms, day);
            if (p.already)
                out(c, stdout, M_ADMIN_ALREADY_PUBLISHED, p.id, p.version, day, p.by);
            else
                out(c, stdout, M_ADMIN_PUBLISHED, p.id, p.version, (long long)p.size, p.key_id);
            if (p.rescored)
                out(c, stdout, M_ADMIN_RESCORED_WAITING, p.rescored);
        }
        free(trust);
    } else {
        out(c, stderr, M_ADMIN_USAGE);
        r = EXIT_USAGE;
    }
    if (rc != QK_OK)
        r = store_fail(c, s);
    qk_store_close(s);
    return r;
}
