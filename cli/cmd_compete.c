/* cmd_compete.c: quiz competitions in the terminal: list, a timed solo entry
 * with a countdown, hot-seat play for 2-8 players on one screen, and the
 * local leaderboard. The engine times, scores and ranks; this file shows. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

#define MAX_PLAYERS 8

static int usage(cli *c, int code)
{
    out(c, code ? stderr : stdout, M_COMPETE_USAGE);
    return code;
}

static const char *state_label(cli *c, qk_comp_state st)
{
    return M(c, st == QK_COMP_UPCOMING ? M_C_STATE_UPCOMING
                : st == QK_COMP_OPEN   ? M_C_STATE_OPEN
                                       : M_C_STATE_CLOSED);
}

static int list(cli *c)
{
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qk_competition **v = NULL;
    size_t n = 0;
    int status = EXIT_FAIL;
    if (engine_open(c, &e) || bundle_open_current(c, NULL, &b))
        goto out;
    if (qk_competitions_all(e, b, &v, &n) != QK_OK) {
        err_text(c, qk_bundle_errmsg(b));
        goto out;
    }
    if (n == 0) {
        out(c, stdout, M_C_NONE);
        status = EXIT_OK;
        goto out;
    }
    table t = {0};
    table_add(&t, "%s", M(c, M_C_LIST_HEAD));
    int64_t now = qk_engine_now_ms(e);
    for (size_t i = 0; i < n; i++) {
        char window[80] = "", a[32], z[32];
        if (v[i]->opens_ms || v[i]->closes_ms) {
            fmt_time(a, sizeof a, v[i]->opens_ms);
            fmt_time(z, sizeof z, v[i]->closes_ms);
            snprintf(window, sizeof window, "%s – %s", v[i]->opens_ms ? a : "", v[i]->closes_ms ? z : "");
        } else {
            snprintf(window, sizeof window, "%s", M(c, M_C_ALWAYS));
        }
        size_t count = v[i]->questions ? v[i]->n_questions : v[i]->count;
        char secs[32];
        msgf(c, secs, sizeof secs, M_DUR_S, v[i]->seconds);
        table_add(&t, "%s\t%s\t%s\t%s\t%zu\t%s\t%s", v[i]->id, v[i]->title,
                  state_label(c, qk_competition_state(v[i], now)), window, count, secs,
                  M(c, v[i]->guests ? M_C_YES : M_C_NO));
    }
    table_print(c, &t);
    table_free(&t);
    status = EXIT_OK;
out:
    qk_competition_list_free(v, n);
    qk_bundle_close(b);
    qk_engine_close(e);
    return status;
}

/* Waits for Enter (or input end); 0 to go on, else an exit status. */
static int wait_enter(cli *c, cli_msg prompt)
{
    out(c, stdout, prompt);
    fflush(stdout);
    const char *line = NULL;
    int r = term_read_line(&line, -1);
    if (r == TERM_INTERRUPTED)
        return EXIT_SIGINT;
    if (!isatty(0))
        fputc('\n', stdout);
    return r == TERM_LINE ? 0 : EXIT_INTERRUPTED;
}

/* Shows the question and reads the answer under the engine's clock: the
 * countdown line above the prompt ticks every second on a terminal. Returns
 * 0 with fb filled, or an exit status. */
/* Who takes the answer: a solo entry's session, or a hot-seat game (which
 * keeps the turns; its session only shows the clock). */
typedef struct answerer {
    qk_session *s;
    qk_hotseat *g;
} answerer;

static int give(const answerer *a, const char *line, qk_feedback *fb, qk_answer_problem *problem)
{
    return a->g ? qk_hotseat_answer(a->g, line, fb, problem) : qk_session_answer(a->s, line, fb, problem);
}

static int miss(const answerer *a, qk_feedback *fb)
{
    return a->g ? qk_hotseat_expire(a->g, fb) : qk_session_expire(a->s, fb);
}

static const char *answer_errmsg(const answerer *a)
{
    return a->g ? qk_hotseat_errmsg(a->g) : qk_session_errmsg(a->s);
}

static int ask(cli *c, const answerer *a, const qk_item *it, qk_feedback *fb)
{
    qk_session *s = a->s;
    char pts[16];
    fmt_points(pts, sizeof pts, (qk_centi)it->q->points * 100);
    fputc('\n', stdout);
    out(c, stdout, M_Q_HEAD, it->index + 1, it->total, qtype_label(c, it->q->type), pts);
    fputc('\n', stdout);
    printf("%s\n", it->q->stem);
    show_options(it->q, it->option_text);
    int tty = isatty(0) && isatty(1);
    for (;;) {
        int64_t left = qk_session_remaining_ms(s);
        out(c, stdout, M_C_COUNTDOWN, (int)((left + 999) / 1000));
        fputc('\n', stdout);
        answer_prompt(c, it->q);
        fflush(stdout);
        const char *line = NULL;
        int r;
        for (;;) {
            left = qk_session_remaining_ms(s);
            /* Past the limit the engine will call it a miss; wait only a tick more. */
            r = term_read_line(&line, tty ? (left > 1000 ? 1000 : left + 50) : left + 50);
            if (r != TERM_TIMEOUT || qk_session_remaining_ms(s) == 0)
                break;
            if (tty) { /* redraw the countdown line above the prompt, keep what is typed */
                char buf[64];
                msgf(c, buf, sizeof buf, M_C_COUNTDOWN, (int)((qk_session_remaining_ms(s) + 999) / 1000));
                printf("\x1b" "7\x1b[1A\r%s\x1b[K\x1b" "8", buf);
                fflush(stdout);
            }
        }
        if (r == TERM_INTERRUPTED)
            return EXIT_SIGINT;
        if (r == TERM_EOF)
            return EXIT_INTERRUPTED;
        if (r == TERM_TIMEOUT) {
            /* Make sure the limit has passed on the engine's own clock. */
            int rc;
            while ((rc = miss(a, fb)) == QK_ESTATE) {
                struct timespec ts = {0, 20L * 1000000};
                nanosleep(&ts, NULL);
            }
            fputc('\n', stdout);
            if (rc != QK_OK) {
                err_text(c, answer_errmsg(a));
                return EXIT_FAIL;
            }
            return 0;
        }
        if (!isatty(0))
            printf("%s\n", line);
        qk_answer_problem problem;
        int rc = give(a, line, fb, &problem);
        if (rc == QK_EINVAL) {
            explain_problem(c, it->q, problem);
            continue;
        }
        if (rc != QK_OK) {
            err_text(c, answer_errmsg(a));
            return EXIT_FAIL;
        }
        return 0;
    }
}

/* A competition answer's feedback: one verdict with the competition points
 * it earned, not the question's own points beside them (two scores on one
 * answer read as a contradiction). */
static void show_gain(cli *c, const qk_feedback *fb, const qk_question *q)
{
    if (fb->timed_out || !fb->reveal) {
        show_feedback(c, fb, q);
        return;
    }
    cli_msg verdict = fb->correct ? M_C_RIGHT : fb->score > 0 ? M_C_PARTIAL : M_C_WRONG;
    out(c, stdout, verdict, fb->comp_points, (double)fb->elapsed_ms / 1000.0,
        fb->fast ? M(c, M_C_FAST) : "");
    if (!fb->correct)
        out(c, stdout, M_C_RIGHT_ANSWER, fb->right);
    if (fb->explanation)
        out(c, stdout, M_EXPLAIN, fb->explanation);
    if (q->source)
        out(c, stdout, M_SOURCE, q->source);
}

static int start_entry(cli *c, qk_engine *e, qk_bundle *b, const char *comp, const char *member,
                       int shared_seed, uint64_t seed, qk_session **s)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_COMPETITION;
    spec.competition = comp;
    spec.has_seed = shared_seed;
    spec.seed = seed;
    if (qk_session_start(s, e, b, member, &spec) != QK_OK) {
        err_text(c, qk_session_errmsg(*s));
        qk_session_free(*s);
        *s = NULL;
        return EXIT_FAIL;
    }
    return 0;
}

static void show_rank(cli *c, qk_engine *e, qk_bundle *b, const char *comp, const char *attempt)
{
    qk_competition *def = NULL;
    qk_board_row *rows = NULL;
    size_t n = 0;
    if (qk_competition_find(e, b, comp, &def) == QK_OK && qk_competition_board(e, def, &rows, &n) == QK_OK) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(rows[i].attempt_id, attempt) == 0)
                out(c, stdout, M_C_RANK, rows[i].rank, n);
        }
    }
    qk_board_free(rows, n);
    qk_competition_free(def);
}

static size_t question_count(const qk_competition *def, qk_bundle *b)
{
    char **ids = NULL;
    size_t n = 0;
    if (qk_competition_question_set(def, b, &ids, &n) != QK_OK)
        return 0;
    qk_strv_free(ids, n);
    return n;
}

static int solo(cli *c, const char *comp, const char *member, int guest)
{
    char who[CLI_ID_BUF];
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qk_session *s = NULL;
    qk_competition *def = NULL;
    int status = EXIT_FAIL;
    if (engine_open(c, &e) || bundle_open_current(c, NULL, &b))
        goto out;
    if (qk_competition_find(e, b, comp, &def) != QK_OK) {
        err(c, M_C_NOT_FOUND, comp);
        goto out;
    }
    if (!guest && !member) {
        err(c, M_MISSING_ARG, "--member ID | --guest");
        status = EXIT_USAGE;
        goto out;
    }
    if (member && (status = member_login(c, e, &member, who)) != EXIT_OK)
        goto out;
    status = EXIT_FAIL;
    if (qk_competition_check(e, def, member) != QK_OK) {
        err_text(c, qk_engine_errmsg(e));
        goto out;
    }
    /* The entry starts (and its clock with it) once the player is ready. */
    out(c, stdout, M_C_INTRO, def->title, question_count(def, b), def->seconds);
    fflush(stdout);
    if ((status = wait_enter(c, M_EMPTY)) != 0)
        goto out;
    status = EXIT_FAIL;
    if (start_entry(c, e, b, comp, member, 0, 0, &s))
        goto out;
    qk_item it;
    int rc;
    while ((rc = qk_session_next(s, &it)) == QK_ROW) {
        qk_feedback fb;
        answerer a = {s, NULL};
        if ((status = ask(c, &a, &it, &fb)) != 0) {
            /* Leaving ends the entry as it stands; it still counts. */
            qk_summary part;
            if (qk_session_finish(s, &part) == QK_OK)
                out(c, stdout, M_C_RESULT, part.comp_points, part.correct, part.total,
                    (double)part.answer_ms / 1000.0, "");
            goto out;
        }
        show_gain(c, &fb, it.q);
    }
    qk_summary sum;
    if (rc != QK_DONE || qk_session_finish(s, &sum) != QK_OK) {
        err_text(c, qk_session_errmsg(s));
        goto out;
    }
    out(c, stdout, M_C_RESULT, sum.comp_points, sum.correct, sum.total,
        (double)sum.answer_ms / 1000.0, sum.flagged ? M(c, M_C_FAST) : "");
    if (sum.points > 0)
        out(c, stdout, M_P_EARNED, sum.points);
    show_rank(c, e, b, comp, sum.attempt_id);
    status = EXIT_OK;
out:
    qk_session_free(s);
    qk_competition_free(def);
    qk_bundle_close(b);
    qk_engine_close(e);
    return status;
}

typedef struct player {
    const char *id; /* NULL: a guest; after the PIN, who */
    char who[CLI_ID_BUF];
    char name[128];
} player;

static void scoreboard(cli *c, const qk_hotseat *g, size_t done, size_t total)
{
    size_t order[QK_HS_MAX_PLAYERS];
    int rank[QK_HS_MAX_PLAYERS];
    qk_hotseat_standings(g, order, rank);
    qk_hs_state st;
    qk_hotseat_state(g, &st);
    out(c, stdout, M_C_SCOREBOARD, done, total);
    for (size_t i = 0; i < st.players; i++) {
        const qk_hs_player *p = qk_hotseat_player(g, order[i]);
        out(c, stdout, M_C_SCORE_LINE, rank[i], p->name, p->points);
    }
}

static void podium(cli *c, const qk_hotseat *g)
{
    size_t order[QK_HS_MAX_PLAYERS];
    int rank[QK_HS_MAX_PLAYERS];
    qk_hotseat_standings(g, order, rank);
    qk_hs_state st;
    qk_hotseat_state(g, &st);
    out(c, stdout, M_C_PODIUM);
    static const char *const medals[] = {"🥇", "🥈", "🥉"};
    for (size_t i = 0; i < st.players; i++) {
        const qk_hs_player *p = qk_hotseat_player(g, order[i]);
        out(c, stdout, M_C_PODIUM_LINE, rank[i] <= 3 ? medals[rank[i] - 1] : "  ", rank[i], p->name, p->points,
            p->correct, (double)p->answer_ms / 1000.0);
    }
}

/* The handover to the player whose turn it is, their question and feedback. */
static int turn(cli *c, qk_hotseat *g, const qk_hs_state *st)
{
    if (isatty(1))
        fputs("\x1b[2J\x1b[H", stdout); /* a clean screen for each player */
    out(c, stdout, M_C_TURN, qk_hotseat_player(g, st->turn)->name, st->question + 1, st->total);
    fflush(stdout);
    int status = wait_enter(c, M_EMPTY);
    if (status)
        return status;
    qk_item it;
    if (qk_hotseat_reveal(g, &it) != QK_OK) {
        err_text(c, qk_hotseat_errmsg(g));
        return EXIT_FAIL;
    }
    qk_feedback fb;
    answerer a = {qk_hotseat_session(g), g};
    if ((status = ask(c, &a, &it, &fb)) != 0)
        return status;
    show_gain(c, &fb, it.q);
    return 0;
}

/* A game through the engine's hot-seat state machine (quizkit/hotseat.h),
 * the one the kiosk plays too; this shows each step and waits for Enter
 * where the screen passes to another player. */
static int play_game(cli *c, qk_hotseat *g)
{
    qk_hs_state st;
    for (qk_hotseat_state(g, &st); st.phase != QK_HS_PODIUM; qk_hotseat_state(g, &st)) {
        int status, turns = st.order == QK_HS_TURNS, pass;
        if (st.phase == QK_HS_HANDOVER) {
            if ((status = turn(c, g, &st)) != 0)
                return status;
            continue;
        }
        if (st.phase == QK_HS_FEEDBACK) {
            pass = turns && st.turn + 1 < st.players;
        } else {
            scoreboard(c, g, turns ? st.question : st.total, st.total);
            pass = turns ? st.question < st.total : st.turn + 1 < st.players;
        }
        if (pass && (status = wait_enter(c, M_C_PASS)) != 0)
            return status;
        if (qk_hotseat_continue(g) != QK_OK) {
            err_text(c, qk_hotseat_errmsg(g));
            return EXIT_FAIL;
        }
    }
    podium(c, g);
    return EXIT_OK;
}

static int hotseat(cli *c, const char *comp, const char *players, const char *mode,
                   const char *preset)
{
    player p[MAX_PLAYERS];
    memset(p, 0, sizeof p);
    size_t n = 0, guests = 0;
    char *list_copy = strdup(players ? players : "");
    for (char *save = NULL, *tok = strtok_r(list_copy, ",", &save); tok && list_copy;
         tok = strtok_r(NULL, ",", &save)) {
        if (n == MAX_PLAYERS) {
            n = MAX_PLAYERS + 1;
            break;
        }
        p[n++].id = strcmp(tok, "guest") == 0 ? NULL : tok;
    }
    int turns = !mode || strcmp(mode, "turns") == 0;
    int want = preset ? (strcmp(preset, "1v1") == 0 ? 2 : strcmp(preset, "4p") == 0 ? 4 : -1) : 0;
    int status = EXIT_USAGE;
    if (n < 2 || n > MAX_PLAYERS) {
        err(c, M_C_PLAYERS);
        goto done;
    }
    if (mode && !turns && strcmp(mode, "rounds") != 0) {
        err(c, M_BAD_VALUE, "--mode", mode);
        goto done;
    }
    if (want < 0 || (want > 0 && (size_t)want != n)) {
        if (want < 0)
            err(c, M_BAD_VALUE, "--preset", preset);
        else
            err(c, M_C_PRESET, preset, want);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++) {
            /* before anyone types a PIN (the game checks again) */
            if (p[i].id && p[k].id && strcasecmp(p[i].id, p[k].id) == 0) {
                err(c, M_C_DUP_PLAYER, p[i].id);
                goto done;
            }
        }
    }
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qk_hotseat *g = NULL;
    status = EXIT_FAIL;
    if (engine_open(c, &e) || bundle_open_current(c, NULL, &b))
        goto close;
    /* Everyone joins with their PIN before the game starts. */
    const char *members[MAX_PLAYERS], *names[MAX_PLAYERS];
    for (size_t i = 0; i < n; i++) {
        if (p[i].id) {
            qk_member *m = NULL;
            if ((status = member_login(c, e, &p[i].id, p[i].who)) != EXIT_OK)
                goto close;
            if (qk_member_get(e, p[i].id, &m) == QK_OK)
                snprintf(p[i].name, sizeof p[i].name, "%s", m->name);
            qk_member_free(m);
        } else {
            snprintf(p[i].name, sizeof p[i].name, "%s%zu", M(c, M_C_GUEST), ++guests);
        }
        members[i] = p[i].id;
        names[i] = p[i].name;
    }
    status = EXIT_FAIL;
    int rc = qk_hotseat_start(&g, e, b, comp, members, names, n, turns ? QK_HS_TURNS : QK_HS_ROUNDS);
    if (rc == QK_ENOTFOUND)
        err(c, M_C_NOT_FOUND, comp);
    else if (rc != QK_OK)
        err_text(c, qk_hotseat_errmsg(g));
    else
        status = play_game(c, g);
close:
    qk_hotseat_free(g); /* a game left half-way ends every entry as it stands; they count */
    qk_bundle_close(b);
    qk_engine_close(e);
done:
    free(list_copy);
    return status;
}

/* The branch board from the last sync, if there is one. */
static void server_board(cli *c, const qk_competition *def)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/boards/%s.json", c->data_dir, def->id);
    json_error_t je;
    json_t *b = json_load_file(path, 0, &je);
    if (!b)
        return;
    char when[64];
    fmt_time(when, sizeof when, (int64_t)json_integer_value(json_object_get(b, "server_ms")));
    const char *branch = json_string_value(json_object_get(b, "branch"));
    const char *bname = json_string_value(json_object_get(b, "branch_name"));
    out(c, stdout, M_C_SERVER_BOARD, bname ? bname : branch ? branch : M(c, M_ALL_BRANCHES), when);
    json_t *entries = json_object_get(b, "entries");
    table t = {0};
    table_add(&t, "%s", M(c, M_C_BOARD_HEAD));
    size_t i;
    json_t *r;
    json_array_foreach(entries, i, r)
    {
        /* a branch by its name where the server gave it */
        const char *rname = json_string_value(json_object_get(r, "branch_name"));
        const char *team = def->teams == QK_TEAMS_DEPT ? json_string_value(json_object_get(r, "dept"))
                           : rname                     ? rname
                                                       : json_string_value(json_object_get(r, "branch"));
        char secs[32];
        msgf(c, secs, sizeof secs, M_DUR_S1, (double)json_integer_value(json_object_get(r, "answer_ms")) / 1000.0);
        table_add(&t, "%lld\t%s\t%s\t%lld\t-\t%s\t%s",
                  (long long)json_integer_value(json_object_get(r, "rank")),
                  json_string_value(json_object_get(r, "name")), team && *team ? team : "-",
                  (long long)json_integer_value(json_object_get(r, "points")), secs,
                  json_is_true(json_object_get(r, "flagged")) ? M(c, M_C_FLAG) : "");
    }
    table_print(c, &t);
    table_free(&t);
    /* An empty board says why: entries waiting for the server to score them
     * (their bundle not published there yet), or none synced so far. */
    json_int_t waiting = json_integer_value(json_object_get(b, "unscored"));
    if (waiting > 0)
        out(c, stdout, M_C_BOARD_WAITING, (long long)waiting);
    else if (json_array_size(entries) == 0)
        out(c, stdout, M_C_BOARD_NONE);
    json_t *teams = json_object_get(b, "teams");
    json_array_foreach(teams, i, r)
    {
        out(c, stdout, M_C_TEAM_LINE, (int)json_integer_value(json_object_get(r, "rank")),
            json_string_value(json_object_get(r, json_object_get(r, "name") ? "name" : "team")),
            (int)json_integer_value(json_object_get(r, "members")),
            json_real_value(json_object_get(r, "points_mean")));
    }
    json_decref(b);
}

static int board(cli *c, const char *comp)
{
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qk_competition *def = NULL;
    qk_board_row *rows = NULL;
    size_t n = 0;
    int status = EXIT_FAIL;
    if (engine_open(c, &e) || bundle_open_current(c, NULL, &b))
        goto out;
    if (qk_competition_find(e, b, comp, &def) != QK_OK) {
        err(c, M_C_NOT_FOUND, comp);
        goto out;
    }
    if (qk_competition_board(e, def, &rows, &n) != QK_OK) {
        err_text(c, qk_engine_errmsg(e));
        goto out;
    }
    printf("%s\n", def->title);
    server_board(c, def);
    out(c, stdout, M_C_LOCAL_BOARD);
    if (n == 0) {
        out(c, stdout, M_C_BOARD_EMPTY);
    } else {
        table t = {0};
        table_add(&t, "%s", M(c, M_C_BOARD_HEAD));
        for (size_t i = 0; i < n; i++) {
            char secs[32];
            msgf(c, secs, sizeof secs, M_DUR_S1, (double)rows[i].answer_ms / 1000.0);
            table_add(&t, "%d\t%s\t%s\t%d\t%zu/%zu\t%s\t%s", rows[i].rank,
                      rows[i].member_id ? rows[i].name : M(c, M_C_GUEST),
                      rows[i].team[0] ? rows[i].team : "-", rows[i].points, rows[i].correct,
                      rows[i].total, secs, rows[i].flagged ? M(c, M_C_FLAG) : "");
        }
        table_print(c, &t);
        table_free(&t);
    }
    status = EXIT_OK;
out:
    qk_board_free(rows, n);
    qk_competition_free(def);
    qk_bundle_close(b);
    qk_engine_close(e);
    return status;
}

int cmd_compete(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return usage(c, EXIT_USAGE);
    const char *member = NULL, *players = NULL, *mode = NULL, *preset = NULL, *pos = NULL;
    int guest = 0;
    for (int i = 2; i < argc; i++) {
        int k;
        if (is_help(argv[i]))
            return usage(c, EXIT_OK);
        if ((k = opt_value(c, "compete", argc, argv, &i, "--member", &member)) ||
            (k = opt_value(c, "compete", argc, argv, &i, "--players", &players)) ||
            (k = opt_value(c, "compete", argc, argv, &i, "--mode", &mode)) ||
            (k = opt_value(c, "compete", argc, argv, &i, "--preset", &preset))) {
            if (k < 0)
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--guest") == 0) {
            guest = 1;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "compete", argv[i]);
            return EXIT_USAGE;
        } else if (!pos) {
            pos = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    const char *sub = argv[1];
    if (is_help(sub))
        return usage(c, EXIT_OK);
    if (strcmp(sub, "list") == 0 && !pos)
        return list(c);
    if (!pos) {
        err(c, M_MISSING_ARG, "ID");
        return usage(c, EXIT_USAGE);
    }
    term_init();
    if (strcmp(sub, "start") == 0)
        return solo(c, pos, member, guest);
    if (strcmp(sub, "hotseat") == 0)
        return hotseat(c, pos, players, mode, preset);
    if (strcmp(sub, "board") == 0)
        return board(c, pos);
    err(c, M_UNKNOWN_CMD, sub);
    return usage(c, EXIT_USAGE);
}
