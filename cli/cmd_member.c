/* cmd_member.c: `quizkit member add|list|passwd`: the local roster. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "qk_client.h"

/* A new PIN: from --pin, or asked twice on a terminal, or one line from a pipe. */
static int read_new_pin(cli *c, const char *given, char *buf, size_t n)
{
    if (given) {
        snprintf(buf, n, "%s", given);
        return 0;
    }
    const char *line = NULL;
    if (term_read_secret(c, M(c, M_PIN_NEW), &line) != TERM_LINE) {
        err(c, M_MISSING_ARG, "PIN");
        return EXIT_USAGE;
    }
    snprintf(buf, n, "%s", line);
    if (isatty(0)) {
        if (term_read_secret(c, M(c, M_PIN_AGAIN), &line) != TERM_LINE || strcmp(buf, line) != 0) {
            err(c, M_PIN_MISMATCH);
            return EXIT_FAIL;
        }
    }
    return 0;
}

static int member_add(cli *c, int argc, char **argv)
{
    const char *id = NULL, *name = NULL, *branch = "", *pin = NULL;
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = opt_value(c, "member add", argc, argv, &i, "--name", &name)) ||
            (r = opt_value(c, "member add", argc, argv, &i, "--branch", &branch)) ||
            (r = opt_value(c, "member add", argc, argv, &i, "--pin", &pin))) {
            if (r < 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "member add", argv[i]);
            return EXIT_USAGE;
        } else if (!id) {
            id = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!id) {
        err(c, M_MISSING_ARG, "ID");
        return EXIT_USAGE;
    }
    if (!name) {
        err(c, M_M_NO_NAME);
        return EXIT_USAGE;
    }
    qk_engine *e = NULL;
    if (engine_open(c, &e))
        return EXIT_FAIL;
    char buf[64];
    qk_member *old = NULL;
    int status = 0;
    if (qk_member_get(e, id, &old) == QK_OK) {
        /* taken (ids compare without case): said before a PIN is asked for */
        err(c, M_M_TAKEN, old->id);
        status = EXIT_FAIL;
    }
    qk_member_free(old);
    if (status == 0)
        status = read_new_pin(c, pin, buf, sizeof buf);
    if (status == 0) {
        if (qk_member_add(e, id, name, branch, buf) != QK_OK) {
            err_text(c, qk_engine_errmsg(e));
            status = EXIT_FAIL;
        } else {
            out(c, stdout, M_M_ADDED, id, name);
        }
    }
    memset(buf, 0, sizeof buf);
    qk_engine_close(e);
    return status;
}

static int member_passwd(cli *c, int argc, char **argv)
{
    const char *id = NULL, *pin = NULL;
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = opt_value(c, "member passwd", argc, argv, &i, "--pin", &pin))) {
            if (r < 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "member passwd", argv[i]);
            return EXIT_USAGE;
        } else if (!id) {
            id = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!id) {
        err(c, M_MISSING_ARG, "ID");
        return EXIT_USAGE;
    }
    qk_engine *e = NULL;
    if (engine_open(c, &e))
        return EXIT_FAIL;
    qk_member *m = NULL;
    int status = EXIT_FAIL;
    char buf[64];
    if (qk_member_get(e, id, &m) != QK_OK) {
        err_text(c, qk_engine_errmsg(e));
    } else if ((status = read_new_pin(c, pin, buf, sizeof buf)) == 0) {
        if (qk_member_set_pin(e, id, buf) != QK_OK) {
            err_text(c, qk_engine_errmsg(e));
            status = EXIT_FAIL;
        } else {
            out(c, stdout, M_M_PIN_SET, id);
        }
    }
    memset(buf, 0, sizeof buf);
    qk_member_free(m);
    qk_engine_close(e);
    return status;
}

static int member_list(cli *c, int argc, char **argv)
{
    if (argc > 2) {
        err(c, M_EXTRA_ARG, argv[2]);
        return EXIT_USAGE;
    }
    qk_engine *e = NULL;
    if (engine_open(c, &e))
        return EXIT_FAIL;
    qk_member **v = NULL;
    size_t n = 0;
    int status = EXIT_OK;
    if (qk_member_list(e, &v, &n) != QK_OK) {
        err_text(c, qk_engine_errmsg(e));
        status = EXIT_FAIL;
    } else if (n == 0) {
        out(c, stdout, M_M_NONE);
    } else {
        int64_t now = qk_engine_now_ms(e);
        /* the device's own branch by the name the server gave it */
        qk_client_conf conf = {0};
        char *path = net_conf_path(c), msg[512];
        if (!path || qk_client_conf_load(&conf, path, msg, sizeof msg) != QK_OK)
            conf.branch[0] = '\0';
        free(path);
        table t = {0};
        table_add(&t, "%s", M(c, M_M_COLS));
        for (size_t i = 0; i < n; i++) {
            const char *branch = v[i]->branch ? v[i]->branch : "";
            if (conf.branch[0] && conf.branch_name[0] && strcmp(branch, conf.branch) == 0)
                branch = conf.branch_name;
            table_add(&t, "%s\t%s\t%s\t%s", v[i]->id, v[i]->name, branch,
                      M(c, v[i]->locked_until_ms > now ? M_M_LOCKED : M_M_OK));
        }
        table_print(c, &t);
        table_free(&t);
    }
    qk_member_list_free(v, n);
    qk_engine_close(e);
    return status;
}

int cmd_member(cli *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            out(c, stdout, M_MEMBER_USAGE);
            return EXIT_OK;
        }
    }
    if (sub && strcmp(sub, "add") == 0)
        return member_add(c, argc, argv);
    if (sub && strcmp(sub, "list") == 0)
        return member_list(c, argc, argv);
    if (sub && strcmp(sub, "passwd") == 0)
        return member_passwd(c, argc, argv);
    if (sub)
        err(c, M_UNKNOWN_CMD, sub);
    out(c, stderr, M_MEMBER_USAGE);
    return EXIT_USAGE;
}
