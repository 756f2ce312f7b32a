/* cmd_bundle.c: `quizkit bundle build|info|install|list`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A build's diagnostics, kept to be printed in the order of the files and
 * of their lines (a duplicate found at the end of a file, a question
 * refused while reading: each where it is). */
typedef struct kept {
    char *file, *message;
    int line, column, error;
    size_t file_no, seq;
} kept;

typedef struct diags {
    kept *v;
    size_t n, cap, files;
} diags;

static void keep_diag(const qk_diag *d, void *payload)
{
    diags *g = payload;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        kept *nv = realloc(g->v, cap * sizeof *nv);
        if (!nv)
            return;
        g->v = nv;
        g->cap = cap;
    }
    kept *k = &g->v[g->n];
    k->file = strdup(d->file ? d->file : "");
    k->message = strdup(d->message ? d->message : "");
    k->line = d->line;
    k->column = d->column;
    k->error = d->level == QK_DIAG_ERROR;
    k->seq = g->n;
    /* files in the order they were first named */
    k->file_no = g->files;
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->v[i].file, k->file) == 0) {
            k->file_no = g->v[i].file_no;
            break;
        }
    if (k->file_no == g->files)
        g->files++;
    g->n++;
}

static int cmp_kept(const void *x, const void *y)
{
    const kept *a = x, *b = y;
    if (a->file_no != b->file_no)
        return a->file_no < b->file_no ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Prints them as file:line[:column]: error|warning: message, sorted. */
static void print_diags(diags *g)
{
    if (g->n > 1)
        qsort(g->v, g->n, sizeof *g->v, cmp_kept);
    fflush(stdout);
    for (size_t i = 0; i < g->n; i++) {
        const kept *d = &g->v[i];
        fputs(d->file, stderr);
        if (d->line > 0)
            fprintf(stderr, ":%d", d->line);
        if (d->line > 0 && d->column > 0)
            fprintf(stderr, ":%d", d->column);
        fprintf(stderr, ": %s: %s\n", d->error ? "error" : "warning", d->message);
        free(d->file);
        free(d->message);
    }
    free(g->v);
    memset(g, 0, sizeof *g);
}

/* build and check share everything but the output. */
static int bundle_build(cli *c, int argc, char **argv, int check_only)
{
    const char *src = NULL, *outp = NULL, *keyp = NULL, *sheet = NULL;
    const char *cmd = check_only ? "bundle check" : "bundle build";
    int quiet = 0, skip_dups = 0;
    for (int i = 2; i < argc; i++) {
        int r;
        if (!check_only && strcmp(argv[i], "-o") == 0) {
            if (i + 1 >= argc) {
                err(c, M_UNKNOWN_OPT, cmd, argv[i]);
                return EXIT_USAGE;
            }
            outp = argv[++i];
        } else if ((r = opt_value(c, cmd, argc, argv, &i, "--sheet", &sheet)) ||
                   (!check_only && ((r = opt_value(c, cmd, argc, argv, &i, "--output", &outp)) ||
                                    (r = opt_value(c, cmd, argc, argv, &i, "--key", &keyp))))) {
            if (r < 0)
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "--skip-duplicates") == 0) {
            skip_dups = 1;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, cmd, argv[i]);
            return EXIT_USAGE;
        } else if (!src) {
            src = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!src) {
        err(c, M_MISSING_ARG, "SRC");
        return EXIT_USAGE;
    }
    if (!outp && !check_only) {
        err(c, M_B_NEED_OUT);
        return EXIT_USAGE;
    }
    qk_key *key = NULL;
    if (keyp) {
        char msg[512];
        if (qk_key_load(&key, keyp, c->lang, msg, sizeof msg) != QK_OK) {
            err_text(c, msg);
            return EXIT_USAGE;
        }
        if (!qk_key_can_sign(key)) {
            err(c, M_KEY_PUBLIC_ONLY, keyp);
            qk_key_free(key);
            return EXIT_USAGE;
        }
    }
    qk_build_opts opts = QK_BUILD_OPTS_INIT;
    opts.clock = &c->clock;
    opts.lang = c->lang;
    opts.key = key;
    opts.check_only = check_only;
    opts.skip_duplicates = skip_dups;
    opts.sheet = sheet;
    diags found = {NULL, 0, 0, 0};
    opts.fn = keep_diag;
    opts.payload = &found;
    qk_build_stats st;
    int rc = qk_content_build(src, outp, &opts, &st);
    print_diags(&found);
    char warn[64] = "", sig[64] = "";
    if (st.n_warnings)
        msgf(c, warn, sizeof warn, M_B_WARNINGS, st.n_warnings);
    if (key)
        msgf(c, sig, sizeof sig, M_B_SIGNED, qk_key_id(key));
    qk_key_free(key);
    if (rc == QK_OK) {
        if (check_only)
            out(c, stdout, M_B_CHECKED, st.n_themes, st.n_questions, st.n_lessons, warn);
        else if (!quiet || st.n_warnings) {
            out(c, stdout, M_B_BUILT, outp, st.n_themes, st.n_questions, st.n_lessons, warn);
            if (sig[0])
                printf("%s\n", sig);
        }
        return EXIT_OK;
    }
    if (check_only)
        out(c, stderr, M_B_CHECK_FAILED, st.n_errors);
    else
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
    /* the manifest keeps UTC (ISO 8601, Z); people read Beijing time */
    int64_t created_ms = 0;
    char created[QK_TIME_LEN + 32];
    if (qk_parse_instant(in->created, &created_ms) == 0) {
        fmt_time(created, sizeof created, created_ms);
        size_t len = strlen(created);
        snprintf(created + len, sizeof created - len, "%s", M(c, M_BEIJING_SUFFIX));
    } else {
        snprintf(created, sizeof created, "%s", in->created);
    }
    kv(c, M_I_CREATED, created);
    kv(c, M_I_DIGEST, in->content_digest);
    qk_key **keys = NULL;
    size_t nkeys = 0;
    trust_load(c, &keys, &nkeys);
    int sr = in->is_signed ? qk_bundle_check_signature(b, keys, nkeys) : QK_EUNSIGNED;
    trust_free(keys, nkeys);
    if (sr == QK_OK)
        msgf(c, sig, sizeof sig, M_I_TRUSTED, qk_bundle_signer(b));
    else if (sr == QK_EUNTRUSTED)
        msgf(c, sig, sizeof sig, M_I_NOT_TRUSTED, qk_bundle_signer(b));
    else if (sr == QK_EUNSIGNED)
        snprintf(sig, sizeof sig, "%s", M(c, M_I_UNSIGNED));
    else
        snprintf(sig, sizeof sig, "%s", qk_bundle_errmsg(b));
    kv(c, M_I_SIGNED, sig);
    snprintf(num, sizeof num, "%zu", in->n_questions);
    kv(c, M_I_QUESTIONS, num);
    printf("\n");
    table t = {0};
    table_add(&t, "%s", M(c, M_I_THEME_COLS));
    for (size_t i = 0; i < in->n_themes; i++) {
        const qk_theme *th = qk_bundle_theme(b, i);
        table_add(&t, "%s\t%s\t%zu", th->id, th->title, th->n_questions);
    }
    table_print(c, &t);
    table_free(&t);
    printf("\n✓ %s\n", M(c, M_I_VERIFIED));
    qk_bundle_close(b);
    return sr == QK_ESIGNATURE ? EXIT_FAIL : EXIT_OK;
}

static int bundle_verify(cli *c, int argc, char **argv)
{
    const char *file = NULL;
    qk_key **keys = NULL;
    size_t n = 0;
    int status = EXIT_USAGE;
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int r = opt_value(c, "bundle verify", argc, argv, &i, "--trust", &v);
        if (r < 0)
            goto out;
        if (r > 0) {
            qk_key *k = NULL;
            char msg[512];
            if (qk_key_load(&k, v, c->lang, msg, sizeof msg) != QK_OK) {
                err_text(c, msg);
                goto out;
            }
            qk_key **nv = realloc(keys, (n + 1) * sizeof *nv);
            if (!nv) {
                qk_key_free(k);
                goto out;
            }
            keys = nv;
            keys[n++] = k;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "bundle verify", argv[i]);
            goto out;
        } else if (!file) {
            file = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            goto out;
        }
    }
    if (!file) {
        err(c, M_MISSING_ARG, "FILE.qkb");
        goto out;
    }
    if (n == 0) {
        err(c, M_V_NEED_TRUST);
        goto out;
    }
    qk_bundle *b = NULL;
    status = EXIT_FAIL;
    if (qk_bundle_open(&b, file, QK_BUNDLE_VERIFY, c->lang) == QK_OK &&
        qk_bundle_check_signature(b, keys, n) == QK_OK) {
        out(c, stdout, M_V_OK, file, qk_bundle_signer(b));
        status = EXIT_OK;
    } else {
        err_text(c, qk_bundle_errmsg(b));
    }
    qk_bundle_close(b);
out:
    trust_free(keys, n);
    return status;
}

typedef struct diff_counts {
    const cli *c;
    size_t added, removed, changed;
} diff_counts;

static void print_change(qk_diff_kind kind, const char *id, const char *what, void *payload)
{
    diff_counts *d = payload;
    const char *label = M(d->c, kind == QK_DIFF_ADDED     ? M_D_ADDED
                                : kind == QK_DIFF_REMOVED ? M_D_REMOVED
                                                          : M_D_CHANGED);
    char mark = kind == QK_DIFF_ADDED ? '+' : kind == QK_DIFF_REMOVED ? '-' : '~';
    printf("%c %s  %s%s%s\n", mark, label, id, what[0] ? "  " : "", what);
    if (kind == QK_DIFF_ADDED)
        d->added++;
    else if (kind == QK_DIFF_REMOVED)
        d->removed++;
    else
        d->changed++;
}

static int bundle_diff(cli *c, int argc, char **argv)
{
    if (argc != 4) {
        err(c, M_MISSING_ARG, "OLD.qkb NEW.qkb");
        return EXIT_USAGE;
    }
    qk_bundle *a = NULL, *b = NULL;
    int status = EXIT_FAIL;
    if (qk_bundle_open(&a, argv[2], QK_BUNDLE_VERIFY, c->lang) != QK_OK) {
        err_text(c, qk_bundle_errmsg(a));
    } else if (qk_bundle_open(&b, argv[3], QK_BUNDLE_VERIFY, c->lang) != QK_OK) {
        err_text(c, qk_bundle_errmsg(b));
    } else {
        diff_counts d = {c, 0, 0, 0};
        if (qk_content_diff(a, b, print_change, &d) == QK_OK) {
            out(c, stdout, M_D_SUMMARY, d.added, d.removed, d.changed);
            status = EXIT_OK;
        } else {
            err_text(c, qk_bundle_errmsg(b));
        }
    }
    qk_bundle_close(a);
    qk_bundle_close(b);
    return status;
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
    table t = {0};
    table_add(&t, "%s", M(c, M_L_COLS));
    for (size_t i = 0; i < n; i++) {
        qk_bundle *b = NULL;
        if (qk_bundle_open(&b, paths[i], 0, c->lang) == QK_OK) {
            const qk_bundle_info *in = qk_bundle_info_get(b);
            table_add(&t, "%s\t%s\t%s\t%zu\t%s", in->id, in->version, in->title,
                      in->n_questions, paths[i]);
        } else {
            char why[600];
            msgf(c, why, sizeof why, M_L_BROKEN, qk_bundle_errmsg(b));
            table_add(&t, "?\t?\t%s\t-\t%s", why, paths[i]);
        }
        qk_bundle_close(b);
    }
    table_print(c, &t);
    table_free(&t);
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
        return bundle_build(c, argc, argv, 0);
    if (sub && strcmp(sub, "check") == 0)
        return bundle_build(c, argc, argv, 1);
    if (sub && strcmp(sub, "verify") == 0)
        return bundle_verify(c, argc, argv);
    if (sub && strcmp(sub, "diff") == 0)
        return bundle_diff(c, argc, argv);
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
