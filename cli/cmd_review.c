/* cmd_review.c: `quizkit review`: the wrong-answer book (错题本), listed or drilled. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int list_book(cli *c, const char *member, const char *which)
{
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    if (engine_open(c, &e) || bundle_open_current(c, which, &b)) {
        qk_engine_close(e);
        return EXIT_FAIL;
    }
    qk_member *m = NULL;
    int status = EXIT_OK;
    qk_wrong *w = NULL;
    size_t n = 0;
    if ((member && qk_member_get(e, member, &m) != QK_OK) ||
        qk_wrongbook_list(e, member, &w, &n) != QK_OK) {
        err_text(c, qk_engine_errmsg(e));
        status = EXIT_FAIL;
    } else if (n == 0) {
        out(c, stdout, M_W_NONE);
    } else {
        table t = {0};
        table_add(&t, "%s", M(c, M_W_COLS));
        for (size_t i = 0; i < n; i++) {
            qk_question *q = NULL;
            if (qk_bundle_question(b, w[i].question_id, &q) != QK_OK)
                continue; /* no longer in this bundle */
            qk_response r;
            char *given = NULL, *right = NULL, when[32];
            if (w[i].given && qk_response_parse(&r, q, NULL, w[i].given, NULL) == QK_OK) {
                qk_response_text(&given, q, NULL, &r, c->lang);
                qk_response_clear(&r);
            }
            qk_question_answer_text(&right, q, NULL, c->lang);
            fmt_time(when, sizeof when, w[i].last_wrong_ms);
            /* The stem, cut to fit a line, on one line. */
            char stem[128];
            size_t cut = qk_text_fit(q->stem, strlen(q->stem), 40);
            snprintf(stem, sizeof stem, "%.*s%s", (int)cut, q->stem, cut < strlen(q->stem) ? "…" : "");
            for (char *p = stem; *p; p++) {
                if (*p == '\n' || *p == '\t')
                    *p = ' ';
            }
            table_add(&t, "%s\t%s\t%s\t%d\t%s", stem, given ? given : M(c, M_W_TIMEOUT),
                      right ? right : "", w[i].times_wrong, when);
            free(given);
            free(right);
            qk_question_free(q);
        }
        if (t.n > 1)
            table_print(c, &t);
        else
            out(c, stdout, M_W_NONE);
        table_free(&t);
    }
    qk_wrongbook_free(w, n);
    qk_member_free(m);
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
