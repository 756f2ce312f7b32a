/* cmd_history.c: `quizkit history`: past attempts from the event log. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_history(cli *c, int argc, char **argv)
{
    const char *member = NULL, *limit_s = NULL;
    unsigned long long limit = 50;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            out(c, stdout, M_HISTORY_USAGE);
            return EXIT_OK;
        } else if ((r = opt_value(c, "history", argc, argv, &i, "--member", &member)) ||
                   (r = opt_value(c, "history", argc, argv, &i, "--limit", &limit_s))) {
            if (r < 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "history", argv[i]);
            return EXIT_USAGE;
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (limit_s && !parse_uint(limit_s, 1000000, &limit)) {
        err(c, M_BAD_VALUE, "--limit", limit_s);
        return EXIT_USAGE;
    }
    qk_engine *e = NULL;
    if (engine_open(c, &e))
        return EXIT_FAIL;
    /* A member's records are theirs: their PIN first, as play asks it. */
    char who[CLI_ID_BUF];
    int status = member ? member_login(c, e, &member, who) : EXIT_OK;
    if (status != EXIT_OK) {
        qk_engine_close(e);
        return status;
    }
    /* Theme titles come from the installed bundle when there is one. */
    qk_bundle *b = NULL;
    bundle_open_installed(c, &b);
    qk_attempt_row *rows = NULL;
    size_t n = 0;
    if (qk_history_list(e, member, &rows, &n) != QK_OK) {
        err_text(c, qk_engine_errmsg(e));
        status = EXIT_FAIL;
    } else if (n == 0) {
        out(c, stdout, M_H_NONE);
    } else {
        size_t shown = n < limit ? n : (size_t)limit;
        table lines = {0};
        table_add(&lines, "%s", M(c, M_H_COLS));
        for (size_t i = 0; i < shown; i++) {
            const qk_attempt_row *r = &rows[i];
            char when[32], score[16], max[16], dur[48], right[32];
            fmt_time(when, sizeof when, r->started_ms);
            const qk_theme *t = b && r->theme[0] ? qk_bundle_theme_find(b, r->theme) : NULL;
            const char *theme = t ? t->title : r->theme[0] ? r->theme : M(c, M_THEME_ALL);
            /* A competition entry is named by its competition. */
            qk_competition *comp = NULL;
            if (r->competition[0])
                theme = b && qk_competition_find(e, b, r->competition, &comp) == QK_OK
                            ? comp->title
                            : r->competition;
            const char *mode = mode_label(c, qk_mode_parse(r->mode));
            fmt_points(score, sizeof score, r->score);
            snprintf(right, sizeof right, "%zu/%zu", r->correct, r->total);
            const char *state;
            if (r->finished_ms) {
                fmt_points(max, sizeof max, r->max);
                fmt_duration(c, dur, sizeof dur, r->duration_ms);
                state = M(c, r->timed_out ? M_H_TIMEOUT : M_H_DONE);
                table_add(&lines, "%s\t%s\t%s\t%s/%s\t%s\t%s\t%s", when, theme, mode, score, max,
                          right, dur, state);
            } else {
                table_add(&lines, "%s\t%s\t%s\t%s\t%s\t-\t%s", when, theme, mode, score, right,
                          M(c, M_H_OPEN));
            }
            qk_competition_free(comp);
        }
        table_print(c, &lines);
        table_free(&lines);
    }
    qk_history_free(rows, n);
    qk_bundle_close(b);
    qk_engine_close(e);
    return status;
}
