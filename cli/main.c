/* main.c: global options (--data-dir, --lang, --help, --version), the choice
 * of language, and dispatch to one file per subcommand. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* zh-CN unless the user asked for English, by --lang or by an English locale. */
static qk_lang pick_lang(const char *opt)
{
    if (opt)
        return strncmp(opt, "en", 2) == 0 ? QK_LANG_EN : QK_LANG_ZH;
    const char *vars[] = {"QUIZKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return qk_lang_from_locale(v);
    }
    return QK_LANG_ZH;
}

int main(int argc, char **argv)
{
    cli c = {0};
    const char *lang_opt = NULL;
    /* Global options may stand anywhere; take them out before dispatch. */
    int n = 0;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return EXIT_FAIL;
    int bad_lang = 0;
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (i > 0 && (r = opt_value(&c, "quizkit", argc, argv, &i, "--data-dir", &v)) != 0) {
            if (r < 0) {
                free(rest);
                return EXIT_USAGE;
            }
            c.data_dir_opt = v;
        } else if (i > 0 && (r = opt_value(&c, "quizkit", argc, argv, &i, "--lang", &v)) != 0) {
            if (r < 0) {
                free(rest);
                return EXIT_USAGE;
            }
            lang_opt = v;
            bad_lang = strcmp(v, "zh") != 0 && strcmp(v, "zh-CN") != 0 && strcmp(v, "en") != 0;
        } else if (i > 0 && strcmp(argv[i], "--allow-untrusted") == 0) {
            c.allow_untrusted = 1;
        } else {
            rest[n++] = argv[i];
        }
    }
    c.lang = pick_lang(bad_lang ? NULL : lang_opt);
    c.color = isatty(1) && !getenv("NO_COLOR");
    if (bad_lang) {
        err(&c, M_BAD_VALUE, "--lang", lang_opt);
        free(rest);
        return EXIT_USAGE;
    }
    setlocale(LC_CTYPE, "");
    /* The one clock of this command (quizkit/clock.h). */
    char clock_msg[512];
    if (qk_clock_from_env(&c.clock, c.lang, clock_msg, sizeof clock_msg) != QK_OK) {
        err_text(&c, clock_msg);
        free(rest);
        return EXIT_USAGE;
    }
    term_set_clock(&c.clock);

    int status;
    const char *cmd = n > 1 ? rest[1] : NULL;
    if (!cmd || is_help(cmd)) {
        out(&c, cmd ? stdout : stderr, M_USAGE);
        status = cmd ? EXIT_OK : EXIT_USAGE;
    } else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("quizkit %s\n", qk_version());
        status = EXIT_OK;
    } else if (strcmp(cmd, "play") == 0) {
        status = cmd_play(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "history") == 0) {
        status = cmd_history(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "member") == 0) {
        status = cmd_member(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "bundle") == 0) {
        status = cmd_bundle(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "export") == 0) {
        status = cmd_export(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "import-ack") == 0) {
        status = cmd_import_ack(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "status") == 0) {
        status = cmd_status(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "admin") == 0) {
        status = cmd_admin(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "lesson") == 0) {
        status = cmd_lesson(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "points") == 0) {
        status = cmd_points(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "review") == 0) {
        status = cmd_review(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "keygen") == 0) {
        status = cmd_keygen(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "trust") == 0) {
        status = cmd_trust(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "report") == 0) {
        status = cmd_report(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "stats") == 0) {
        status = cmd_stats(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "compete") == 0) {
        status = cmd_compete(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "kiosk") == 0) {
        status = cmd_kiosk(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "serve") == 0) {
        status = cmd_serve(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "enroll") == 0) {
        status = cmd_enroll(&c, n - 1, rest + 1);
    } else if (strcmp(cmd, "sync") == 0) {
        status = cmd_sync(&c, n - 1, rest + 1);
    } else {
        err(&c, M_UNKNOWN_CMD, cmd);
        status = EXIT_USAGE;
    }
    fflush(stdout);
    free(c.data_dir);
    free(rest);
    return status;
}
