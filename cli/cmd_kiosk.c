/* cmd_kiosk.c: `quizkit kiosk`: the touch-screen front end. The engine runs
 * behind a local JSON API on 127.0.0.1 (sync/src/kiosk.c) and the pages in
 * web/kiosk show it; --open starts Chromium in kiosk mode on it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "qk_kiosk.h"

/* Chromium full screen on the kiosk's page, in the background; the kiosk
 * keeps serving when the browser is closed. */
static void open_browser(cli *c, const char *url)
{
    static const char *const browsers[] = {"chromium", "chromium-browser", "google-chrome"};
    char app[128];
    snprintf(app, sizeof app, "--app=%s", url);
    /* Chromium will not run as root with its sandbox; a kiosk should run as
     * an ordinary user (docs/kiosk.md), but as root it still comes up. */
    int root = geteuid() == 0;
    if (root)
        warn_text(c, M(c, M_KIOSK_ROOT));
    pid_t pid = fork();
    if (pid == 0) {
        serve_signals_unblock(); /* the browser is stopped as any program is */
        setsid();
        for (size_t i = 0; i < sizeof browsers / sizeof browsers[0]; i++)
            execlp(browsers[i], browsers[i], "--kiosk", app, "--start-fullscreen", "--no-first-run",
                   "--disable-features=Translate,TranslateUI", "--noerrdialogs", "--disable-pinch",
                   root ? "--no-sandbox" : "--disable-sync", (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        err(c, M_KIOSK_NO_BROWSER, strerror(errno));
}

/* Background sync while the kiosk runs: whenever the server is reachable,
 * every interval (after a failure sooner, then backing off up to the
 * interval). Its own engine connection; the progress file is shared safely
 * (SQLite WAL). */
typedef struct syncer {
    cli *c;
    int interval_s;
    atomic_int stop; /* set by the main thread, read by the sync thread */
    pthread_t thread;
} syncer;

static void *sync_loop(void *arg)
{
    syncer *sy = arg;
    int wait_s = 1, failures = 0;
    qk_client *cl = NULL;
    while (!atomic_load(&sy->stop)) {
        for (int t = 0; t < wait_s * 10 && !atomic_load(&sy->stop); t++) {
            struct timespec ts = {0, 100L * 1000000};
            nanosleep(&ts, NULL);
        }
        if (atomic_load(&sy->stop))
            break;
        char *path = net_conf_path(sy->c);
        qk_client_conf conf;
        char msg[1024];
        int rc = path ? qk_client_conf_load(&conf, path, msg, sizeof msg) : QK_EIO;
        if (rc == QK_OK)
            rc = net_sync_once(sy->c, &conf, path, &cl, msg, sizeof msg);
        free(path);
        if (rc == QK_OK) {
            failures = 0;
            wait_s = sy->interval_s;
        } else {
            /* not enrolled, or the server is away: try again later */
            wait_s = failures < 8 ? 1 << failures : sy->interval_s;
            wait_s = wait_s > sy->interval_s ? sy->interval_s : wait_s;
            failures++;
            qk_client_free(cl); /* a fresh connection next time */
            cl = NULL;
        }
    }
    qk_client_free(cl);
    return NULL;
}

int cmd_kiosk(cli *c, int argc, char **argv)
{
    const char *port_s = NULL, *idle_s = NULL, *which = NULL, *port_file = NULL, *log_path = NULL;
    const char *sync_s = NULL;
    int start_browser = 0;
    qk_kiosk_config cfg = {0};
    char *server_conf = NULL;
    for (int i = 1; i < argc; i++) {
        int k;
        if (is_help(argv[i])) {
            out(c, stdout, M_KIOSK_USAGE);
            return EXIT_OK;
        }
        if ((k = opt_value(c, "kiosk", argc, argv, &i, "--port", &port_s)) ||
            (k = opt_value(c, "kiosk", argc, argv, &i, "--idle", &idle_s)) ||
            (k = opt_value(c, "kiosk", argc, argv, &i, "--bundle", &which)) ||
            (k = opt_value(c, "kiosk", argc, argv, &i, "--web", &cfg.web)) ||
            (k = opt_value(c, "kiosk", argc, argv, &i, "--port-file", &port_file)) ||
            (k = opt_value(c, "kiosk", argc, argv, &i, "--sync-interval", &sync_s)) ||
            (k = opt_value(c, "kiosk", argc, argv, &i, "--log", &log_path))) {
            if (k < 0)
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--open") == 0) {
            start_browser = 1;
        } else {
            err(c, M_UNKNOWN_OPT, "kiosk", argv[i]);
            return EXIT_USAGE;
        }
    }
    char web_dir[4300]; /* an installed command's pages, beside it (share/quizkit) */
    if (!cfg.web && share_path(web_dir, sizeof web_dir, "web"))
        cfg.web = web_dir;
    unsigned long long v = 8090;
    if (port_s && !parse_uint(port_s, 65535, &v)) {
        err(c, M_BAD_VALUE, "--port", port_s);
        return EXIT_USAGE;
    }
    cfg.port = (unsigned)v;
    v = 90;
    if (idle_s && (!parse_uint(idle_s, 3600, &v) || v < 1)) {
        err(c, M_BAD_VALUE, "--idle", idle_s);
        return EXIT_USAGE;
    }
    cfg.idle_s = (int)v;
    v = 60;
    if (sync_s && !parse_uint(sync_s, 86400, &v)) {
        err(c, M_BAD_VALUE, "--sync-interval", sync_s);
        return EXIT_USAGE;
    }
    syncer sy = {c, (int)v, 0, 0};
    cfg.lang = c->lang;
    cfg.clock = &c->clock;
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    FILE *log = NULL;
    int status = engine_open(c, &e);
    if (!status)
        status = bundle_open_current(c, which, &b);
    if (!status && log_path && !(log = fopen(log_path, "a"))) {
        err(c, M_DATA_DIR, log_path, strerror(errno));
        status = EXIT_FAIL;
    }
    if (status)
        goto out;
    cfg.log = log;
    server_conf = net_conf_path(c);
    cfg.server_conf = server_conf;
    sigset_t stop_signals;
    serve_signals_block(&stop_signals); /* before the first thread starts */
    signal(SIGCHLD, SIG_IGN); /* the browser is not waited for */
    char msg[1024];
    qk_kiosk *k = qk_kiosk_start(e, b, &cfg, msg, sizeof msg);
    if (!k) {
        err_text(c, msg);
        status = EXIT_FAIL;
        goto out;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", qk_kiosk_port(k));
    out(c, stdout, M_KIOSK_LISTENING, url, cfg.idle_s);
    fflush(stdout);
    if (port_file)
        write_port_file(port_file, qk_kiosk_port(k));
    if (start_browser)
        open_browser(c, url);
    int syncing = sy.interval_s > 0 && pthread_create(&sy.thread, NULL, sync_loop, &sy) == 0;
    serve_signals_wait(&stop_signals);
    if (syncing) {
        atomic_store(&sy.stop, 1);
        pthread_join(sy.thread, NULL);
    }
    qk_kiosk_stop(k);
    out(c, stderr, M_KIOSK_STOPPED);
out:
    free(server_conf);
    if (log)
        fclose(log);
    qk_bundle_close(b);
    qk_engine_close(e);
    return status;
}
