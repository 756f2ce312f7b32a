/* cmd_review.c: `quizkit review`: the wrong-answer book (错题本), listed or drilled. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* text on one line, cut to cols display columns with "…". */
static void fit_cell(char *buf, size_t n, const char *text, size_t cols)
{
    size_t len = strlen(text), cut = qk_text_fit(text, len, cols);
    snprintf(buf, n, "%.*s%s", (int)cut, text, cut < len ? "…" : "");
    for (char *p = buf; *p; p++) {
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    }
}

static int list_book(cli *c, const char *member, const char *which)
{
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    if (engine_open(c, &e) || bundle_open_current(c, which, &b)) {
        qk_engine_close(e);
        return EXIT_FAIL;
    }
    /* A member's book is theirs: their PIN first, as play asks it. */
    char who[CLI_ID_BUF];
    int status = member ? member_login(c, e, &member, who) : EXIT_OK;
    qk_wrong *w = NULL;
    size_t n = 0;
    if (status != EXIT_OK) {
        /* reported (wrong PIN, locked, unknown member) */
    } else if (qk_wrongbook_list(e, member, &w, &n) != QK_OK) {
        err_text(c, qk_engine_errmsg(e));
        status = EXIT_FAIL;
    } else if (n == 0) {
        out(c, stdout, M_W_NONE);
    } else {
        table t = {0};
        table_add(&t, "%s", M(c, M_W_COLS));
        /* Answers as the member saw them when they missed them: that
         * attempt's letters, with the options' text. */
        if (qk_wrongbook_show(e, b, w, n) != QK_OK)
            err_text(c, qk_engine_errmsg(e));
        for (size_t i = 0; i < n; i++) {
            qk_question *q = NULL;
            if (!w[i].right_shown || qk_bundle_question(b, w[i].question_id, &q) != QK_OK)
                continue; /* no longer in this bundle */
            char when[32], stem[128], given[128], right[128];
            fmt_time(when, sizeof when, w[i].last_wrong_ms);
            /* Each on one line, cut to fit. */
            fit_cell(stem, sizeof stem, q->stem, 40);
            fit_cell(given, sizeof given, w[i].given_shown ? w[i].given_shown : M(c, M_W_TIMEOUT),
                     28);
            fit_cell(right, sizeof right, w[i].right_shown, 28);
            table_add(&t, "%s\t%s\t%s\t%d\t%s", stem, given, right, w[i].times_wrong, when);
            qk_question_free(q);
        }
        if (t.n > 1)
            table_print(c, &t);
        else
            out(c, stdout, M_W_NONE);
        table_free(&t);
    }
    qk_wrongbook_free(w, n);
    qk_bundle_close(b);
    qk_engine_close(e);
    return status;
}

int cmd_review(cli *c, int argc, char **argv)
{
    int list = 0, due = 0;
    const char *member = NULL, *which = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (is_help(argv[i])) {
            out(c, stdout, M_REVIEW_USAGE);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--list") == 0)
            list = 1;
        else if (strcmp(argv[i], "--due") == 0)
            due = 1;
        else if (opt_value(c, "review", argc, argv, &i, "--member", &v) > 0)
            member = v;
        else if (opt_value(c, "review", argc, argv, &i, "--bundle", &v) > 0)
            which = v;
    }
    if (list)
        return list_book(c, member, which);
    /* Drilling is a play session in review mode: same prompts, PIN and resume. */
    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (!args)
        return EXIT_FAIL;
    int n = 0;
    args[n++] = (char *)"play";
    args[n++] = (char *)"--mode";
    args[n++] = (char *)(due ? "srs" : "review");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--due") != 0)
            args[n++] = argv[i];
    }
    int status = cmd_play(c, n, args);
    free(args);
    return status;
}
