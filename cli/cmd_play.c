/* cmd_play.c: `quizkit play`: log in, choose a theme, answer, see the score.
 * Works the same on a terminal and with answers piped on stdin. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct play_opts {
    const char *theme, *member, *bundle;
    qk_session_spec spec;
    int resume;
    int question_s; /* challenge: seconds per question */
} play_opts;

static int parse_opts(cli *c, int argc, char **argv, play_opts *o)
{
    qk_session_spec init = QK_SESSION_SPEC_INIT;
    o->spec = init;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        unsigned long long u;
        if (is_help(argv[i])) {
            out(c, stdout, M_PLAY_USAGE);
            return -1;
        } else if (strcmp(argv[i], "--resume") == 0) {
            o->resume = 1;
        } else if ((r = opt_value(c, "play", argc, argv, &i, "--theme", &o->theme)) ||
                   (r = opt_value(c, "play", argc, argv, &i, "--member", &o->member)) ||
                   (r = opt_value(c, "play", argc, argv, &i, "--bundle", &o->bundle))) {
            if (r < 0)
                return EXIT_USAGE;
        } else if ((r = opt_value(c, "play", argc, argv, &i, "--mode", &v))) {
            if (r < 0)
                return EXIT_USAGE;
            o->spec.mode = qk_mode_parse(v);
            if (o->spec.mode < QK_MODE_PRACTICE || o->spec.mode > QK_MODE_SRS) {
                err(c, M_BAD_VALUE, "--mode", v);
                return EXIT_USAGE;
            }
        } else if ((r = opt_value(c, "play", argc, argv, &i, "--count", &v))) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_uint(v, 100000, &u)) {
                err(c, M_BAD_VALUE, "--count", v);
                return EXIT_USAGE;
            }
            o->spec.count = (size_t)u;
        } else if ((r = opt_value(c, "play", argc, argv, &i, "--time-limit", &v))) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_uint(v, 24ULL * 60, &u) || u == 0) {
                err(c, M_BAD_VALUE, "--time-limit", v);
                return EXIT_USAGE;
            }
            o->spec.time_limit_s = (int)u * 60;
        } else if ((r = opt_value(c, "play", argc, argv, &i, "--question-time", &v))) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_uint(v, 3600, &u) || u == 0) {
                err(c, M_BAD_VALUE, "--question-time", v);
                return EXIT_USAGE;
            }
            o->question_s = (int)u;
        } else if ((r = opt_value(c, "play", argc, argv, &i, "--order", &v))) {
            if (r < 0)
                return EXIT_USAGE;
            if (strcmp(v, "random") == 0)
                o->spec.order = QK_ORDER_RANDOM;
            else if (strcmp(v, "seq") == 0 || strcmp(v, "sequential") == 0)
                o->spec.order = QK_ORDER_SEQUENTIAL;
            else {
                err(c, M_BAD_VALUE, "--order", v);
                return EXIT_USAGE;
            }
        } else if ((r = opt_value(c, "play", argc, argv, &i, "--seed", &v))) {
            if (r < 0)
                return EXIT_USAGE;
            if (!parse_uint(v, UINT64_MAX, &u)) {
                err(c, M_BAD_VALUE, "--seed", v);
                return EXIT_USAGE;
            }
            o->spec.seed = u;
            o->spec.has_seed = 1;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "play", argv[i]);
            return EXIT_USAGE;
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* Asks for the PIN until it is right (a terminal) or once (a pipe). */
int member_login(cli *c, qk_engine *e, const char **idp, char who[CLI_ID_BUF])
{
    const char *id = *idp;
    qk_member *m = NULL;
    if (qk_member_get(e, id, &m) != QK_OK) {
        err_text(c, qk_engine_errmsg(e));
        return EXIT_FAIL;
    }
    char prompt[256];
    msgf(c, prompt, sizeof prompt, M_PIN_PROMPT, m->name);
    int status = EXIT_FAIL;
    for (;;) {
        const char *pin = NULL;
        int r = term_read_secret(c, prompt, &pin);
        if (r == TERM_INTERRUPTED) {
            status = EXIT_SIGINT;
            break;
        }
        if (r != TERM_LINE) {
            err(c, M_MISSING_ARG, "PIN");
            break;
        }
        int rc = qk_member_login(e, id, pin, NULL);
        if (rc == QK_OK) {
            snprintf(who, CLI_ID_BUF, "%s", m->id);
            *idp = who;
            out(c, stdout, M_WELCOME, m->name);
            status = EXIT_OK;
            break;
        }
        err_text(c, qk_engine_errmsg(e));
        if (rc != QK_EAUTH || !isatty(0))
            break;
    }
    qk_member_free(m);
    return status;
}

/* The themes as the menu numbers them: the bundle's order, a theme whose
 * themed day is today (e.g. 学雷锋纪念日 on 5 March) moved to the front; all
 * themes is number n + 1. Caller frees *out. */
static int theme_order(qk_engine *e, qk_bundle *b, const qk_theme ***out, size_t *n_out)
{
    size_t n = qk_bundle_info_get(b)->n_themes;
    const qk_theme *today = qk_bundle_theme_today(b, qk_engine_now_ms(e));
    const qk_theme **order = calloc(n ? n : 1, sizeof *order);
    if (!order)
        return EXIT_FAIL;
    for (size_t i = 0; i < n; i++)
        order[i] = qk_bundle_theme(b, i);
    for (size_t i = 1; today && i < n; i++) {
        if (order[i] == today) {
            memmove(order + 1, order, i * sizeof *order);
            order[0] = today;
            break;
        }
    }
    *out = order;
    *n_out = n;
    return 0;
}

/* A theme given as the menu's number or as its id or title: 1 and *id set
 * (NULL: all themes), or 0. */
static int theme_pick(qk_bundle *b, const qk_theme **order, size_t n, const char *text,
                      const char **id)
{
    unsigned long long pick;
    const qk_theme *t = NULL;
    if (parse_uint(text, n + 1, &pick) && pick >= 1) {
        *id = pick <= n ? order[pick - 1]->id : NULL;
        return 1;
    }
    if (*text && (t = qk_bundle_theme_find(b, text)) != NULL) {
        *id = t->id;
        return 1;
    }
    return 0;
}

/* Lists the themes (numbered as theme_order says) on out's stream. */
static void list_themes(cli *c, FILE *to, qk_engine *e, qk_bundle *b, const qk_theme **order,
                        size_t n)
{
    const qk_theme *today = qk_bundle_theme_today(b, qk_engine_now_ms(e));
    for (size_t i = 0; i < n; i++)
        out(c, to, M_THEME_LINE, i + 1, order[i]->title, order[i] == today ? M(c, M_THEME_TODAY) : "",
            order[i]->n_questions);
    out(c, to, M_THEME_LINE, n + 1, M(c, M_THEME_ALL), "", qk_bundle_info_get(b)->n_questions);
}

/* --theme as the menu's number, id or title; a value that is none of them is
 * refused with the themes it may be. */
static int theme_option(cli *c, qk_engine *e, qk_bundle *b, const char *text, const char **id)
{
    const qk_theme **order = NULL;
    size_t n = 0;
    if (theme_order(e, b, &order, &n))
        return EXIT_FAIL;
    int status = EXIT_OK;
    if (!theme_pick(b, order, n, text, id)) {
        err(c, M_BAD_VALUE, "--theme", text);
        out(c, stderr, M_THEME_CHOICES);
        list_themes(c, stderr, e, b, order, n);
        status = EXIT_USAGE;
    }
    free(order);
    return status;
}

/* Lists the themes and reads a choice; *theme NULL means all themes. */
static int choose_theme(cli *c, qk_engine *e, qk_bundle *b, const char **theme)
{
    const qk_theme **order = NULL;
    size_t n = 0;
    if (theme_order(e, b, &order, &n))
        return EXIT_FAIL;
    out(c, stdout, M_THEMES_HEAD);
    list_themes(c, stdout, e, b, order, n);
    for (;;) {
        out(c, stdout, M_THEME_PROMPT, n + 1);
        fflush(stdout);
        const char *line = NULL;
        int r = term_read_line(&line, -1);
        if (r != TERM_LINE) {
            free(order);
            if (r == TERM_INTERRUPTED)
                return EXIT_SIGINT;
            fputc('\n', stdout);
            return EXIT_INTERRUPTED;
        }
        if (!isatty(0))
            printf("%s\n", line);
        while (*line == ' ')
            line++;
        if (theme_pick(b, order, n, line, theme)) {
            free(order);
            return 0;
        }
        out(c, stdout, M_THEME_BAD, n + 1);
    }
}

static void show_item(cli *c, qk_session *s, const qk_item *it)
{
    char pts[16];
    fmt_points(pts, sizeof pts, (qk_centi)it->q->points * 100);
    fputc('\n', stdout);
    if (c->color)
        fputs("\x1b[1;36m", stdout);
    out(c, stdout, M_Q_HEAD, it->index + 1, it->total, qtype_label(c, it->q->type), pts);
    int64_t left = qk_session_remaining_ms(s);
    if (left >= 0) {
        int sec = (int)(left / 1000);
        out(c, stdout, M_Q_REMAINING, sec / 60, sec % 60);
    }
    if (c->color)
        fputs("\x1b[0m", stdout);
    fputc('\n', stdout);
    printf("%s\n", it->q->stem);
    show_options(it->q, it->option_text);
}

static void show_summary(cli *c, qk_engine *e, qk_session *s, const qk_summary *sum,
                         const char *member)
{
    char score[16], max[16], dur[64];
    fmt_points(score, sizeof score, sum->score);
    fmt_points(max, sizeof max, sum->max);
    fmt_duration(c, dur, sizeof dur, sum->duration_ms);
    out(c, stdout, M_DONE_HEAD);
    /* A challenge runs until the first miss: out of every question in the
     * theme reads as a failed exam. It says what was answered instead. */
    if (sum->mode == QK_MODE_CHALLENGE)
        out(c, stdout, M_CHALLENGE_SCORE, score, sum->answered, sum->correct, dur);
    else
        out(c, stdout, M_DONE_SCORE, score, max, sum->correct, sum->total, dur);
    if (sum->points > 0)
        out(c, stdout, M_P_EARNED, sum->points);
    if (sum->mode == QK_MODE_CHALLENGE) {
        size_t best = 0;
        qk_challenge_best(e, member, &best);
        out(c, stdout, M_CHALLENGE_RUN, sum->correct, best);
    }
    if (sum->mode != QK_MODE_EXAM)
        return;
    out(c, stdout, M_REVIEW_HEAD);
    for (size_t i = 0; i < sum->total; i++) {
        qk_item it;
        qk_feedback fb;
        if (qk_session_review(s, i, &it, &fb) != QK_OK)
            break;
        const char *mark = fb.given ? (fb.correct ? "✓" : "✗") : "·";
        out(c, stdout, M_REVIEW_LINE, i + 1, mark, fb.given ? fb.given : M(c, M_NOT_ANSWERED),
            fb.right);
        printf("   %s\n", it.q->stem);
        if (fb.explanation)
            out(c, stdout, M_EXPLAIN, fb.explanation);
    }
}

static int saved_exit(cli *c, qk_session *s, const play_opts *o, int code)
{
    char hint[160] = "";
    if (o->member)
        snprintf(hint, sizeof hint, " --member %s", o->member);
    size_t total = 0;
    qk_item it;
    if (qk_session_review(s, 0, &it, NULL) == QK_OK)
        total = it.total;
    out(c, stdout, M_SAVED, qk_session_answered(s), total, hint);
    return code;
}

static void warn_unfinished(cli *c, qk_engine *e, const char *member)
{
    qk_attempt_row *rows = NULL;
    size_t n = 0;
    if (qk_history_list(e, member, &rows, &n) != QK_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].finished_ms == 0) {
            out(c, stdout, M_HAS_UNFINISHED);
            break;
        }
    }
    qk_history_free(rows, n);
}

/* Runs the question loop; returns an exit status. */
static int run(cli *c, qk_engine *e, qk_session *s, const play_opts *o)
{
    int timed_out = 0;
    for (;;) {
        qk_item it;
        int rc = qk_session_next(s, &it);
        if (rc == QK_DONE)
            break;
        if (rc == QK_ETIMEOUT) {
            timed_out = 1;
            break;
        }
        if (rc != QK_ROW) {
            err_text(c, qk_session_errmsg(s));
            return EXIT_FAIL;
        }
        show_item(c, s, &it);
        for (;;) {
            answer_prompt(c, it.q);
            const char *line = NULL;
            int r;
            /* the terminal's wait may end a few milliseconds before the
             * session's deadline: wait out the rest, so that a question's
             * own time running out is always the question's miss */
            do
                r = term_read_line(&line, qk_session_remaining_ms(s));
            while (r == TERM_TIMEOUT && qk_session_remaining_ms(s) > 0);
            if (r == TERM_INTERRUPTED)
                return saved_exit(c, s, o, EXIT_SIGINT);
            if (r == TERM_EOF)
                return saved_exit(c, s, o, EXIT_INTERRUPTED);
            if (r == TERM_TIMEOUT) {
                fputc('\n', stdout);
                qk_feedback fb;
                /* A challenge question's own time ran out: a miss, the run ends. */
                if (qk_session_expire(s, &fb) == QK_OK) {
                    show_feedback(c, &fb, it.q);
                    break;
                }
                timed_out = 1;
                break;
            }
            if (!isatty(0))
                printf("%s\n", line); /* echo piped answers so the transcript reads well */
            qk_feedback fb;
            qk_answer_problem problem;
            rc = qk_session_answer(s, line, &fb, &problem);
            if (rc == QK_EINVAL) {
                explain_problem(c, it.q, problem);
                continue;
            }
            if (rc == QK_ETIMEOUT) {
                timed_out = 1;
                break;
            }
            if (rc != QK_OK) {
                err_text(c, qk_session_errmsg(s));
                return EXIT_FAIL;
            }
            show_feedback(c, &fb, it.q);
            break;
        }
        if (timed_out)
            break;
    }
    if (timed_out)
        out(c, stdout, M_TIMEUP);
    qk_summary sum;
    if (qk_session_finish(s, &sum) != QK_OK) {
        err_text(c, qk_session_errmsg(s));
        return EXIT_FAIL;
    }
    show_summary(c, e, s, &sum, o->member);
    return EXIT_OK;
}

int cmd_play(cli *c, int argc, char **argv)
{
    play_opts o;
    memset(&o, 0, sizeof o);
    int status = parse_opts(c, argc, argv, &o);
    if (status)
        return status < 0 ? EXIT_OK : status;
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qk_session *s = NULL;
    char who[CLI_ID_BUF];
    if ((status = engine_open(c, &e)) || (status = bundle_open_current(c, o.bundle, &b)))
        goto out;
    term_init();
    if (!o.bundle && !o.resume)
        bundle_note_others(c, b); /* a second bundle does not hide the first */
    if (o.member && (status = member_login(c, e, &o.member, who)))
        goto out;
    int rc;
    if (o.resume) {
        rc = qk_session_resume(&s, e, b, o.member);
    } else {
        const char *theme = o.theme;
        if (theme) {
            if ((status = theme_option(c, e, b, theme, &theme)))
                goto out;
        } else if (o.spec.mode != QK_MODE_DAILY && o.spec.mode != QK_MODE_REVIEW &&
                   o.spec.mode != QK_MODE_SRS &&
                   (status = choose_theme(c, e, b, &theme))) {
            goto out;
        }
        if (o.spec.mode != QK_MODE_DAILY) /* the daily quiz continues today's itself */
            warn_unfinished(c, e, o.member);
        o.spec.theme = theme;
        if (o.spec.mode == QK_MODE_CHALLENGE)
            o.spec.time_limit_s = o.question_s;
        rc = qk_session_start(&s, e, b, o.member, &o.spec);
    }
    if (rc == QK_ENOTFOUND && !o.resume &&
        (o.spec.mode == QK_MODE_SRS || o.spec.mode == QK_MODE_REVIEW)) {
        /* Nothing due, or an empty book: good news, not a failure. */
        out(c, stdout, o.spec.mode == QK_MODE_SRS ? M_NOTHING_DUE : M_NOTHING_TO_REVIEW);
        status = EXIT_OK;
        goto out;
    }
    if (rc != QK_OK) {
        err_text(c, qk_session_errmsg(s));
        status = EXIT_FAIL;
        goto out;
    }
    const char *tid = qk_session_theme(s);
    const qk_theme *t = tid ? qk_bundle_theme_find(b, tid) : NULL;
    qk_item first;
    size_t total = qk_session_review(s, 0, &first, NULL) == QK_OK ? first.total : 0;
    char limit[64] = "";
    int64_t left = qk_session_remaining_ms(s);
    if (left >= 0)
        msgf(c, limit, sizeof limit, M_QUIZ_LIMIT, (int)((left + 59999) / 60000));
    fputc('\n', stdout);
    qk_mode mode = qk_session_mode(s);
    if (mode == QK_MODE_CHALLENGE)
        limit[0] = '\0'; /* the limit is per question, shown with each one */
    out(c, stdout, M_QUIZ_HEAD, t ? t->title : M(c, M_THEME_ALL), mode_label(c, mode), total,
        limit);
    const qk_expired_daily *old = qk_session_expired_daily(s);
    if (old)
        out(c, stdout, M_DAILY_EXPIRED, old->day, old->answered, old->total, old->correct,
            old->points);
    if (mode == QK_MODE_DAILY)
        out(c, stdout, M_DAILY_DAY, qk_session_day(s));
    if (qk_session_resumed(s))
        out(c, stdout, M_RESUMED, qk_session_answered(s), total);
    status = run(c, e, s, &o);
out:
    qk_session_free(s);
    qk_bundle_close(b);
    qk_engine_close(e);
    return status;
}
