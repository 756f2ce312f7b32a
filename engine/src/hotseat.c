/* hotseat.c: the hot-seat game's state machine (see quizkit/hotseat.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "quizkit/hotseat.h"
#include "quizkit/rng.h"

typedef struct hs_seat {
    qk_hs_player shown; /* member and name point at the two below */
    char *member, *name;
    qk_session *s;
} hs_seat;

struct qk_hotseat {
    qk_engine *e;
    qk_lang lang;
    qk__err err;
    qk_competition *def;
    hs_seat p[QK_HS_MAX_PLAYERS];
    qk_hs_state st;
};

static const char *const phase_names[] = {"handover", "question", "feedback", "scoreboard", "podium"};

const char *qk_hs_phase_name(qk_hs_phase phase)
{
    return (unsigned)phase < sizeof phase_names / sizeof phase_names[0] ? phase_names[phase] : "?";
}

const char *qk_hotseat_errmsg(const qk_hotseat *g)
{
    return g ? g->err.msg : "out of memory";
}

void qk_hotseat_state(const qk_hotseat *g, qk_hs_state *st)
{
    *st = g->st;
}

const qk_hs_player *qk_hotseat_player(const qk_hotseat *g, size_t i)
{
    return i < g->st.players ? &g->p[i].shown : NULL;
}

const qk_competition *qk_hotseat_competition(const qk_hotseat *g)
{
    return g->def;
}

qk_session *qk_hotseat_session(qk_hotseat *g)
{
    return g->st.phase == QK_HS_PODIUM ? NULL : g->p[g->st.turn].s;
}

static int out_of_turn(qk_hotseat *g)
{
    return qk__errf(&g->err, g->lang, QK_ESTATE, QK_M_HS_PHASE, qk_hs_phase_name(g->st.phase));
}

static int from_engine(qk_hotseat *g, int rc)
{
    snprintf(g->err.msg, sizeof g->err.msg, "%s", qk_engine_errmsg(g->e));
    return rc;
}

static int from_session(qk_hotseat *g, qk_session *s, int rc)
{
    snprintf(g->err.msg, sizeof g->err.msg, "%s", qk_session_errmsg(s));
    return rc;
}

/* Member ids compare as sign-in compares them (SQLite's NOCASE: ASCII
 * letters without case). */
static int same_id(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        x = x >= 'A' && x <= 'Z' ? (unsigned char)(x + 32) : x;
        y = y >= 'A' && y <= 'Z' ? (unsigned char)(y + 32) : y;
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

/* Who may play, checked before any entry is begun (an entry begun counts). */
static int check_players(qk_hotseat *g, const char *const *members, size_t n)
{
    if (n < 2 || n > QK_HS_MAX_PLAYERS)
        return qk__errf(&g->err, g->lang, QK_EINVAL, QK_M_HS_PLAYERS, QK_HS_MAX_PLAYERS);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; members[i] && k < i; k++) {
            if (members[k] && same_id(members[k], members[i]))
                return qk__errf(&g->err, g->lang, QK_EINVAL, QK_M_HS_TWICE, members[i]);
        }
        int rc = qk_competition_check(g->e, g->def, members[i]);
        if (rc != QK_OK)
            return from_engine(g, rc);
    }
    return QK_OK;
}

int qk_hotseat_start(qk_hotseat **out, qk_engine *e, qk_bundle *b, const char *comp_id,
                     const char *const *members, const char *const *names, size_t n, qk_hs_order order)
{
    qk_hotseat *g = calloc(1, sizeof *g);
    *out = g;
    if (!g)
        return QK_ENOMEM;
    g->e = e;
    g->lang = qk_engine_lang(e);
    g->st.phase = QK_HS_PODIUM; /* until every entry is begun: nothing to finish */
    g->st.order = order;
    int rc = qk_competition_find(e, b, comp_id, &g->def);
    if (rc == QK_ENOTFOUND)
        return qk__errf(&g->err, g->lang, rc, QK_M_C_NONE, comp_id);
    if (rc != QK_OK)
        return from_engine(g, rc);
    if ((rc = check_players(g, members, n)) != QK_OK)
        return rc;
    char **ids = NULL;
    if ((rc = qk_competition_question_set(g->def, b, &ids, &g->st.total)) != QK_OK)
        return qk__errf(&g->err, g->lang, rc, QK_M_C_NONE, comp_id);
    qk_strv_free(ids, g->st.total);
    /* Taking turns, everyone sees the same question at the same step: one
     * order for the game. In rounds each player has their own. */
    uint64_t seed = 0;
    if (order == QK_HS_TURNS && qk_rng_os_seed(&seed) != QK_OK)
        return qk__errf(&g->err, g->lang, QK_EIO, QK_M_P_OPEN, "seed", "entropy");
    for (size_t i = 0; i < n; i++) {
        hs_seat *p = &g->p[i];
        if ((members[i] && !(p->member = qk__strdup(members[i]))) ||
            !(p->name = qk__strdup(names[i] ? names[i] : "")))
            return qk__errf(&g->err, g->lang, QK_ENOMEM, QK_M_OOM);
        p->shown.member = p->member;
        p->shown.name = p->name;
        g->st.players = i + 1;
        qk_session_spec spec = QK_SESSION_SPEC_INIT;
        spec.mode = QK_MODE_COMPETITION;
        spec.competition = comp_id;
        spec.has_seed = order == QK_HS_TURNS;
        spec.seed = seed;
        g->st.phase = QK_HS_HANDOVER; /* from the first entry on, freeing finishes them */
        if ((rc = qk_session_start(&p->s, e, b, members[i], &spec)) != QK_OK) {
            from_session(g, p->s, rc);
            qk_session_free(p->s);
            p->s = NULL;
            return rc;
        }
    }
    return QK_OK;
}

int qk_hotseat_reveal(qk_hotseat *g, qk_item *it)
{
    if (g->st.phase != QK_HS_HANDOVER)
        return out_of_turn(g);
    qk_session *s = g->p[g->st.turn].s;
    int rc = qk_session_next(s, it);
    if (rc != QK_ROW)
        return from_session(g, s, rc == QK_DONE ? QK_ESTATE : rc);
    g->st.phase = QK_HS_QUESTION;
    return QK_OK;
}

/* The answer (or miss) of the player whose turn it is, as session s took it
 * (rc): added to their running totals, and on to their feedback. */
static int answered(qk_hotseat *g, qk_session *s, int rc, qk_feedback *fb)
{
    if (rc != QK_OK)
        return from_session(g, s, rc);
    qk_hs_player *p = &g->p[g->st.turn].shown;
    fb->reveal = 1;
    p->points += fb->comp_points;
    p->correct += fb->correct ? 1 : 0;
    /* a miss counts its whole time, as the entry's totals will */
    p->answer_ms += fb->timed_out ? (int64_t)g->def->seconds * 1000 : fb->elapsed_ms;
    g->st.phase = QK_HS_FEEDBACK;
    return QK_OK;
}

int qk_hotseat_answer(qk_hotseat *g, const char *response, qk_feedback *fb, qk_answer_problem *problem)
{
    if (g->st.phase != QK_HS_QUESTION)
        return out_of_turn(g);
    qk_session *s = g->p[g->st.turn].s;
    int rc = qk_session_answer(s, response, fb, problem);
    if (rc == QK_ETIMEOUT) /* too late: the question counts as missed */
        rc = qk_session_expire(s, fb);
    return answered(g, s, rc, fb);
}

int qk_hotseat_expire(qk_hotseat *g, qk_feedback *fb)
{
    if (g->st.phase != QK_HS_QUESTION)
        return out_of_turn(g);
    qk_session *s = g->p[g->st.turn].s;
    return answered(g, s, qk_session_expire(s, fb), fb);
}

/* Every entry finished; the engine's totals (a miss counts its whole time)
 * replace the running ones. */
static int podium(qk_hotseat *g)
{
    for (size_t i = 0; i < g->st.players; i++) {
        qk_summary sum;
        int rc = qk_session_finish(g->p[i].s, &sum);
        if (rc != QK_OK)
            return from_session(g, g->p[i].s, rc);
        g->p[i].shown.points = sum.comp_points;
        g->p[i].shown.answer_ms = sum.answer_ms;
        g->p[i].shown.correct = sum.correct;
    }
    g->st.phase = QK_HS_PODIUM;
    return QK_OK;
}

int qk_hotseat_continue(qk_hotseat *g)
{
    qk_hs_state *st = &g->st;
    int turns = st->order == QK_HS_TURNS;
    if (st->phase == QK_HS_FEEDBACK) {
        /* the next player at this question, or this player's next question */
        int more = turns ? ++st->turn < st->players : ++st->question < st->total;
        if (!more && turns) { /* everyone answered: the scoreboard counts it done */
            st->turn = 0;
            st->question++;
        }
        st->phase = more ? QK_HS_HANDOVER : QK_HS_SCOREBOARD;
        return QK_OK;
    }
    if (st->phase != QK_HS_SCOREBOARD)
        return out_of_turn(g);
    if (turns ? st->question < st->total : st->turn + 1 < st->players) {
        if (!turns) {
            st->turn++;
            st->question = 0;
        }
        st->phase = QK_HS_HANDOVER;
        return QK_OK;
    }
    return podium(g);
}

void qk_hotseat_standings(const qk_hotseat *g, size_t order[QK_HS_MAX_PLAYERS], int rank[QK_HS_MAX_PLAYERS])
{
    size_t n = g->st.players;
    qk_board_key key[QK_HS_MAX_PLAYERS];
    for (size_t i = 0; i < n; i++) {
        /* the players of one game finish together: no earlier finish */
        key[i] = (qk_board_key){g->p[i].shown.points, g->p[i].shown.answer_ms, 0};
        size_t j = i;
        for (; j > 0 && qk_board_cmp(&key[order[j - 1]], &key[i]) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (size_t i = 0; i < n; i++)
        rank[i] = i > 0 && qk_board_cmp(&key[order[i - 1]], &key[order[i]]) == 0 ? rank[i - 1] : (int)i + 1;
}

void qk_hotseat_free(qk_hotseat *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->st.players; i++) {
        /* a game left half-way ends every entry as it stands; they count */
        if (g->st.phase != QK_HS_PODIUM && g->p[i].s)
            qk_session_finish(g->p[i].s, NULL);
        qk_session_free(g->p[i].s);
        free(g->p[i].member);
        free(g->p[i].name);
    }
    qk_competition_free(g->def);
    free(g);
}
