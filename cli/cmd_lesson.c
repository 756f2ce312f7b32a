/* cmd_lesson.c: `quizkit lesson list|start|resume`: walking a lesson in the
 * terminal, with its Markdown shown readably. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Prints **bold** as bold on a terminal (plain text in a pipe) and images as
 * their caption. */
static void inline_md(cli *c, const char *s)
{
    while (*s) {
        if (s[0] == '*' && s[1] == '*') {
            const char *end = strstr(s + 2, "**");
            if (end) {
                fputs(c->color ? "\x1b[1m" : "", stdout);
                fwrite(s + 2, 1, (size_t)(end - s - 2), stdout);
                fputs(c->color ? "\x1b[0m" : "", stdout);
                s = end + 2;
                continue;
            }
        }
        if (s[0] == '!' && s[1] == '[') {
            const char *close = strstr(s, "](");
            const char *end = close ? strchr(close, ')') : NULL;
            if (end) {
                char cap[256];
                snprintf(cap, sizeof cap, "%.*s", (int)(close - s - 2), s + 2);
                char shown[320];
                msgf(c, shown, sizeof shown, M_L_IMAGE, cap);
                fputs(shown, stdout);
                s = end + 1;
                continue;
            }
        }
        fputc(*s++, stdout);
    }
}

/* Headings, lists and quotes, one line at a time. */
static void render_md(cli *c, const char *text)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        if (!line)
            return;
        if (line[0] == '#') {
            const char *h = line;
            while (*h == '#')
                h++;
            while (*h == ' ')
                h++;
            printf("%s%s%s%s%s\n", c->color ? "\x1b[1;36m" : "", c->color ? "" : "【", h,
                   c->color ? "" : "】", c->color ? "\x1b[0m" : "");
        } else if ((line[0] == '-' || line[0] == '*') && line[1] == ' ') {
            fputs("  • ", stdout);
            inline_md(c, line + 2);
            fputc('\n', stdout);
        } else if (line[0] == '>') {
            fputs("  ┃ ", stdout);
            inline_md(c, line[1] == ' ' ? line + 2 : line + 1);
            fputc('\n', stdout);
        } else {
            inline_md(c, line);
            fputc('\n', stdout);
        }
        free(line);
        p = nl ? nl + 1 : NULL;
    }
}

/* Adds the lessons of b to rows; returns how many. */
static size_t add_lessons(cli *c, qk_bundle *b, table *rows, int *status)
{
    qk_lesson_info *v = NULL;
    size_t n = 0;
    if (qk_bundle_lessons(b, &v, &n) != QK_OK) {
        err_text(c, qk_bundle_errmsg(b));
        *status = EXIT_FAIL;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const qk_lesson_info *l = &v[i];
        const qk_theme *t = qk_bundle_theme_find(b, l->theme);
        char mins[32];
        msgf(c, mins, sizeof mins, M_L_MINUTES, l->minutes);
        cli_msg kind = strcmp(l->kind, "scenario") == 0 ? M_L_KIND_SCENARIO
                       : strcmp(l->kind, "theory") == 0 ? M_L_KIND_THEORY
                                                        : M_L_KIND_STORY;
        table_add(rows, "%s\t%s\t%s\t%s\t%s", l->id, l->title, M(c, kind), mins,
                  t ? t->title : l->theme);
    }
    qk_lesson_info_free(v, n);
    return n;
}

/* The lessons of the bundle asked for, else of every installed bundle (a
 * second bundle does not hide the first one's lessons). */
static int list_lessons(cli *c, const char *which)
{
    qk_bundle *b = NULL;
    if (bundle_open_current(c, which, &b)) /* installs the sample on first use */
        return EXIT_FAIL;
    int status = EXIT_OK;
    size_t n = 0;
    table rows = {0};
    table_add(&rows, "%s", M(c, M_LS_COLS));
    char **paths = NULL;
    size_t n_paths = 0;
    if (!which && bundle_installed(c, &paths, &n_paths) == 0 && n_paths > 1) {
        for (size_t i = 0; i < n_paths && status == EXIT_OK; i++) {
            qk_bundle *o = NULL;
            if (bundle_open_checked(c, paths[i], &o) == 0)
                n += add_lessons(c, o, &rows, &status);
            qk_bundle_close(o);
        }
    } else {
        n = add_lessons(c, b, &rows, &status);
    }
    if (status == EXIT_OK && n == 0)
        out(c, stdout, M_L_NONE_LESSONS);
    else if (status == EXIT_OK)
        table_print(c, &rows);
    table_free(&rows);
    qk_strv_free(paths, n_paths);
    qk_bundle_close(b);
    return status;
}

/* Without --bundle, the installed bundle that holds lesson id (the default
 * one when none does: it says there is no such lesson). */
static int bundle_with_lesson(cli *c, const char *id, qk_bundle **b)
{
    if (bundle_open_current(c, NULL, b))
        return EXIT_FAIL;
    char **paths = NULL;
    size_t n = 0;
    bundle_installed(c, &paths, &n);
    for (size_t i = 0; i < n && n > 1; i++) {
        qk_bundle *o = NULL;
        qk_lesson_info *v = NULL;
        size_t nv = 0;
        int has = 0;
        if (qk_bundle_open(&o, paths[i], 0, c->lang) == QK_OK &&
            qk_bundle_lessons(o, &v, &nv) == QK_OK) {
            for (size_t k = 0; k < nv && !has; k++)
                has = strcmp(v[k].id, id) == 0;
        }
        qk_lesson_info_free(v, nv);
        qk_bundle_close(o);
        if (has) {
            qk_bundle *chosen = NULL;
            if (bundle_open_checked(c, paths[i], &chosen) == 0) {
                qk_bundle_close(*b);
                *b = chosen;
            }
            break;
        }
    }
    qk_strv_free(paths, n);
    return 0;
}

static int saved(cli *c, const char *id, const char *member, int code)
{
    char hint[128] = "";
    if (member)
        snprintf(hint, sizeof hint, " --member %s", member);
    out(c, stdout, M_L_SAVED, id, hint);
    return code;
}

/* Walks the lesson until an end is reached or input stops. */
static int walk(cli *c, qk_lesson *l, const char *id, const char *member)
{
    for (;;) {
        qk_lesson_view v;
        qk_lesson_current(l, &v);
        fputc('\n', stdout);
        if (v.type != QK_STEP_QUESTION)
            render_md(c, v.body);
        if (v.type == QK_STEP_END) {
            out(c, stdout, M_L_DONE);
            out(c, stdout, M_L_SCORE, v.score);
            if (v.completed)
                out(c, stdout, M_L_COMPLETED);
            return EXIT_OK;
        }
        const char *line = NULL;
        int r;
        if (v.type == QK_STEP_PAGE) {
            out(c, stdout, M_L_CONTINUE);
            fflush(stdout);
            r = term_read_line(&line, -1);
            if (r != TERM_LINE)
                return saved(c, id, member, r == TERM_INTERRUPTED ? EXIT_SIGINT : EXIT_INTERRUPTED);
            if (!isatty(0))
                fputc('\n', stdout);
            if (qk_lesson_continue(l) != QK_OK) {
                err_text(c, qk_lesson_errmsg(l));
                return EXIT_FAIL;
            }
        } else if (v.type == QK_STEP_CHOICE) {
            for (size_t i = 0; i < v.n_choices; i++)
                printf("  %zu. %s\n", i + 1, v.choice_text[i]);
            for (;;) {
                out(c, stdout, M_L_CHOOSE, v.n_choices);
                fflush(stdout);
                r = term_read_line(&line, -1);
                if (r != TERM_LINE)
                    return saved(c, id, member, r == TERM_INTERRUPTED ? EXIT_SIGINT : EXIT_INTERRUPTED);
                if (!isatty(0))
                    printf("%s\n", line);
                unsigned long long k;
                if (parse_uint(line, v.n_choices, &k) && k >= 1)
                    break;
                out(c, stdout, M_L_BAD_CHOICE, v.n_choices);
            }
            unsigned long long k = 0;
            parse_uint(line, v.n_choices, &k);
            if (qk_lesson_choose(l, (size_t)k - 1) != QK_OK) {
                err_text(c, qk_lesson_errmsg(l));
                return EXIT_FAIL;
            }
        } else {
            printf("%s\n", v.question->stem);
            show_options(v.question, v.option_text);
            for (;;) {
                answer_prompt(c, v.question);
                r = term_read_line(&line, -1);
                if (r != TERM_LINE)
                    return saved(c, id, member, r == TERM_INTERRUPTED ? EXIT_SIGINT : EXIT_INTERRUPTED);
                if (!isatty(0))
                    printf("%s\n", line);
                qk_feedback fb;
                qk_answer_problem problem;
                int rc = qk_lesson_answer(l, line, &fb, &problem);
                if (rc == QK_EINVAL) {
                    explain_problem(c, v.question, problem);
                    continue;
                }
                if (rc != QK_OK) {
                    err_text(c, qk_lesson_errmsg(l));
                    return EXIT_FAIL;
                }
                show_feedback(c, &fb, v.question);
                break;
            }
        }
    }
}

int cmd_lesson(cli *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL, *id = NULL, *member = NULL, *which = NULL;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            out(c, stdout, M_LESSON_USAGE);
            return EXIT_OK;
        }
    }
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = opt_value(c, "lesson", argc, argv, &i, "--member", &member)) ||
            (r = opt_value(c, "lesson", argc, argv, &i, "--bundle", &which))) {
            if (r < 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "lesson", argv[i]);
            return EXIT_USAGE;
        } else if (!id) {
            id = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (sub && strcmp(sub, "list") == 0)
        return list_lessons(c, which);
    int resume = sub && strcmp(sub, "resume") == 0;
    if (!sub || (!resume && strcmp(sub, "start") != 0)) {
        if (sub)
            err(c, M_UNKNOWN_CMD, sub);
        out(c, stderr, M_LESSON_USAGE);
        return EXIT_USAGE;
    }
    if (!id) {
        err(c, M_MISSING_ARG, "ID");
        return EXIT_USAGE;
    }
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qk_lesson *l = NULL;
    char who[CLI_ID_BUF];
    int status = EXIT_FAIL;
    if (engine_open(c, &e) ||
        (which ? bundle_open_current(c, which, &b) : bundle_with_lesson(c, id, &b)))
        goto out;
    term_init();
    if (member && (status = member_login(c, e, &member, who)) != EXIT_OK)
        goto out;
    if (qk_lesson_open(&l, e, b, member, id, resume) != QK_OK) {
        err_text(c, qk_lesson_errmsg(l));
        status = EXIT_FAIL;
        goto out;
    }
    status = walk(c, l, id, member);
out:
    qk_lesson_free(l);
    qk_bundle_close(b);
    qk_engine_close(e);
    return status;
}
