/* cmd_bundle.c: `quizkit bundle build|info|install|list`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Prints a build diagnostic as file:line[:column]: error|warning: message. */
static void print_diag(const qk_diag *d, void *payload)
{
    const cli *c = payload;
    (void)c;
    fflush(stdout);
    fputs(d->file, stderr);
    if (d->line > 0)
        fprintf(stderr, ":%d", d->line);
    if (d->line > 0 && d->column > 0)
        fprintf(stderr, ":%d", d->column);
    fprintf(stderr, ": %s: %s\n", d->level == QK_DIAG_ERROR ? "error" : "warning", d->message);
}

static int bundle_build(cli *c, int argc, char **argv)
{
    const char *src = NULL, *outp = NULL;
    int quiet = 0;
    for (int i = 2; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            if (i + 1 >= argc) {
                err(c, M_UNKNOWN_OPT, "bundle build", argv[i]);
                return EXIT_USAGE;
            }
            outp = argv[++i];
        } else if ((r = opt_value(c, "bundle build", argc, argv, &i, "--output", &outp))) {
            if (r < 0)
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "bundle build", argv[i]);
            return EXIT_USAGE;
        } else if (!src) {
            src = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!src) {
        err(c, M_MISSING_ARG, "SRC_DIR");
        return EXIT_USAGE;
    }
    if (!outp) {
        err(c, M_B_NEED_OUT);
        return EXIT_USAGE;
    }
    qk_build_stats st;
    int rc = qk_content_build(src, outp, c->lang, print_diag, c, &st);
    if (rc == QK_OK) {
        char warn[64] = "";
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
        if (st.n_warnings)
            snprintf(warn, sizeof warn, M(c, M_B_WARNINGS), st.n_warnings);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
        if (!quiet || st.n_warnings)
            out(c, stdout, M_B_BUILT, outp, st.n_themes, st.n_questions, warn);
        return EXIT_OK;
    }
    out(c, stderr, M_B_FAILED, st.n_errors, outp);
    return rc == QK_EINVAL ? EXIT_FAIL : EXIT_USAGE;
}

static void kv(const cli *c, cli_msg key, const char *value)
{
    term_pad(stdout, M(c, key), 10);
    printf("  %s\n", value);
}

static int bundle_info(cli *c, int argc, char **argv)
{
    if (argc < 3) {
        err(c, M_MISSING_ARG, "FILE.qkb");
        return EXIT_USAGE;
    }
    if (argc > 3) {
        err(c, M_EXTRA_ARG, argv[3]);
        return EXIT_USAGE;
    }
    qk_bundle *b = NULL;
    if (qk_bundle_open(&b, argv[2], QK_BUNDLE_VERIFY, c->lang) != QK_OK) {
        err_text(c, qk_bundle_errmsg(b));
        qk_bundle_close(b);
        return EXIT_FAIL;
    }
    const qk_bundle_info *in = qk_bundle_info_get(b);
    char num[32], sig[200], fmt[16];
    kv(c, M_I_ID, in->id);
    kv(c, M_I_VERSION, in->version);
    kv(c, M_I_TITLE, in->title);
    kv(c, M_I_LANGUAGE, in->language);
    snprintf(fmt, sizeof fmt, "%d", in->format);
    kv(c, M_I_FORMAT, fmt);
    kv(c, M_I_CREATED, in->created);
    kv(c, M_I_DIGEST, in->content_digest);
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    if (in->is_signed)
        snprintf(sig, sizeof sig, M(c, M_I_SIGNED_BY), in->publisher_key_id);
    else
        snprintf(sig, sizeof sig, "%s", M(c, M_I_UNSIGNED));
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    kv(c, M_I_SIGNED, sig);
    snprintf(num, sizeof num, "%zu", in->n_questions);
    kv(c, M_I_QUESTIONS, num);
    printf("\n");
    size_t n = in->n_themes;
    char **rows = calloc(n + 1, sizeof *rows);
    for (size_t i = 0; rows && i <= n; i++) {
        rows[i] = malloc(512);
        if (!rows[i])
            break;
        if (i == 0) {
            snprintf(rows[i], 512, "%s", M(c, M_I_THEME_COLS));
        } else {
            const qk_theme *t = qk_bundle_theme(b, i - 1);
            snprintf(rows[i], 512, "%s\t%s\t%zu", t->id, t->title, t->n_questions);
        }
    }
    if (rows)
        term_table(stdout, (const char *const *)rows, n + 1, 1, c->color);
    qk_strv_free(rows, n + 1);
    printf("\n✓ %s\n", M(c, M_I_VERIFIED));
    qk_bundle_close(b);
    return EXIT_OK;
}

static int bundle_install_cmd(cli *c, int argc, char **argv)
{
    if (argc < 3) {
        err(c, M_MISSING_ARG, "FILE.qkb");
        return EXIT_USAGE;
    }
    if (argc > 3) {
        err(c, M_EXTRA_ARG, argv[3]);
        return EXIT_USAGE;
    }
    if (data_dir_ready(c))
        return EXIT_FAIL;
    return bundle_install(c, argv[2], 0);
}

static int bundle_list(cli *c)
{
    char **paths = NULL;
    size_t n = 0;
    if (bundle_installed(c, &paths, &n))
        return EXIT_FAIL;
    if (n == 0) {
        out(c, stdout, M_L_NONE);
        return EXIT_OK;
    }
    char **rows = calloc(n + 1, sizeof *rows);
    for (size_t i = 0; rows && i <= n; i++) {
        rows[i] = malloc(1024);
        if (!rows[i])
            break;
        if (i == 0) {
            snprintf(rows[i], 1024, "%s", M(c, M_L_COLS));
            continue;
        }
        qk_bundle *b = NULL;
        if (qk_bundle_open(&b, paths[i - 1], 0, c->lang) == QK_OK) {
            const qk_bundle_info *in = qk_bundle_info_get(b);
            snprintf(rows[i], 1024, "%s\t%s\t%s\t%zu\t%s", in->id, in->version, in->title,
                     in->n_questions, paths[i - 1]);
        } else {
            char why[600];
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
            snprintf(why, sizeof why, M(c, M_L_BROKEN), qk_bundle_errmsg(b));
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
            snprintf(rows[i], 1024, "?\t?\t%s\t-\t%s", why, paths[i - 1]);
        }
        qk_bundle_close(b);
    }
    if (rows)
        term_table(stdout, (const char *const *)rows, n + 1, 1, c->color);
    qk_strv_free(rows, n + 1);
    qk_strv_free(paths, n);
    return EXIT_OK;
}

int cmd_bundle(cli *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            out(c, stdout, M_BUNDLE_USAGE);
            return EXIT_OK;
        }
    }
    if (sub && strcmp(sub, "build") == 0)
        return bundle_build(c, argc, argv);
    if (sub && strcmp(sub, "info") == 0)
        return bundle_info(c, argc, argv);
    if (sub && strcmp(sub, "install") == 0)
        return bundle_install_cmd(c, argc, argv);
    if (sub && strcmp(sub, "list") == 0)
        return bundle_list(c);
    if (sub)
        err(c, M_UNKNOWN_CMD, sub);
    out(c, stderr, M_BUNDLE_USAGE);
    return EXIT_USAGE;
}
