/* cmd_points.c: `quizkit points`: today's points against each cap, total, streak. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_points(cli *c, int argc, char **argv)
{
    const char *member = NULL, *which = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            out(c, stdout, M_POINTS_USAGE);
            return EXIT_OK;
        } else if ((r = opt_value(c, "points", argc, argv, &i, "--member", &member)) ||
                   (r = opt_value(c, "points", argc, argv, &i, "--bundle", &which))) {
            if (r < 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "points", argv[i]);
            return EXIT_USAGE;
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!member) {
        out(c, stdout, M_P_GUEST);
        return EXIT_OK;
    }
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qk_points_summary sum;
    char who[CLI_ID_BUF];
    /* A member's points are theirs: their PIN first, as play asks it. */
    int status = engine_open(c, &e) || bundle_open_current(c, which, &b)
                     ? EXIT_FAIL
                     : member_login(c, e, &member, who);
    if (status != EXIT_OK) {
        /* reported (and for a wrong PIN, a lock or an unknown member, nothing shown) */
    } else if (qk_points_summary_get(e, b, member, &sum) != QK_OK) {
        err_text(c, qk_engine_errmsg(e));
        status = EXIT_FAIL;
    } else {
        static const cli_msg names[QK_ACT_COUNT] = {M_P_DAILY, M_P_CHALLENGE, M_P_LESSON,
                                                    M_P_COMPETITION, M_P_STREAK};
        static const cli_msg rules[QK_ACT_COUNT] = {M_P_RULE_EACH, M_P_RULE_EACH, M_P_RULE_LESSON,
                                                    M_P_RULE_COMP, M_P_RULE_STREAK};
        table t = {0};
        table_add(&t, "%s", M(c, M_P_COLS));
        for (int a = 0; a < QK_ACT_COUNT; a++) {
            char rule[128];
            msgf(c, rule, sizeof rule, rules[a], sum.rules[a].points);
            table_add(&t, "%s\t%d\t%d\t%s", M(c, names[a]), sum.today[a], sum.rules[a].daily_cap,
                      rule);
        }
        table_print(c, &t);
        table_free(&t);
        out(c, stdout, M_P_TOTALS, sum.today_total, (long long)sum.total, sum.streak_days);
    }
    qk_bundle_close(b);
    qk_engine_close(e);
    return status;
}
