/* quizkit/hotseat.h: a hot-seat game (同屏对战), 2 to 8 players taking turns
 * at one screen in a competition, each with their own entry.
 *
 * The one state machine of the terminal's `quizkit compete hotseat` and the
 * kiosk's game screen, so both play a game the same way:
 *
 *   HANDOVER --reveal--> QUESTION --answer/expire--> FEEDBACK --continue--+
 *       ^                                                                 |
 *       +----------------- next player or question ----------------------+
 *                                                                         |
 *                 SCOREBOARD <--- after everyone (turns) / a player's last (rounds)
 *                      |--continue--> HANDOVER, or PODIUM after the last
 *
 * Taking turns (QK_HS_TURNS), every player answers question 1, then the
 * scoreboard, then question 2 ...; everyone has the same order of the set,
 * so the same question at the same step. In rounds (QK_HS_ROUNDS) each
 * player answers every question in turn, with the scoreboard after each
 * player; each has their own order. At the podium every entry is finished
 * and ranked by the engine's totals (qk_board_cmp: a miss counts its whole
 * time). A game freed before its podium finishes every entry as it stands:
 * entries begun count, as a competition's always do.
 *
 * The screens sign each member in (PIN) before starting; the game takes
 * their ids. Calls out of turn return QK_ESTATE and change nothing. */
#ifndef QUIZKIT_HOTSEAT_H
#define QUIZKIT_HOTSEAT_H

#include "competition.h"
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QK_HS_MAX_PLAYERS 8

typedef struct qk_hotseat qk_hotseat;

typedef enum { QK_HS_HANDOVER, QK_HS_QUESTION, QK_HS_FEEDBACK, QK_HS_SCOREBOARD, QK_HS_PODIUM } qk_hs_phase;
typedef enum { QK_HS_TURNS, QK_HS_ROUNDS } qk_hs_order;

/* One player as the screens show them. Running totals (points, correct,
 * answer time) add up each answer's feedback; at the podium they are the
 * engine's totals for the finished entry. */
typedef struct qk_hs_player {
    const char *member; /* NULL: a guest */
    const char *name;
    int points;
    size_t correct;
    int64_t answer_ms;
} qk_hs_player;

typedef struct qk_hs_state {
    qk_hs_phase phase;
    size_t question; /* 0-based: the one being played; at a turns scoreboard, how many are done */
    size_t total;    /* questions in the set */
    size_t turn;     /* whose turn (index into the players) */
    size_t players;
    qk_hs_order order;
} qk_hs_state;

/* Starts a game of competition comp_id for the players (member ids, NULL for
 * a guest) with their names as shown. QK_EINVAL: fewer than 2 or more than
 * QK_HS_MAX_PLAYERS, or one member twice; QK_ENOTFOUND: no such
 * competition; or what qk_competition_check says of a player. *out is set
 * even on failure, for qk_hotseat_errmsg; free it with qk_hotseat_free. */
int qk_hotseat_start(qk_hotseat **out, qk_engine *e, qk_bundle *b, const char *comp_id,
                     const char *const *members, const char *const *names, size_t n, qk_hs_order order);
const char *qk_hotseat_errmsg(const qk_hotseat *g);
void qk_hotseat_state(const qk_hotseat *g, qk_hs_state *st);
const qk_hs_player *qk_hotseat_player(const qk_hotseat *g, size_t i);
const qk_competition *qk_hotseat_competition(const qk_hotseat *g);
/* "handover", "question", "feedback", "scoreboard", "podium". */
const char *qk_hs_phase_name(qk_hs_phase phase);
/* The session of the player whose turn it is: to show a countdown
 * (qk_session_remaining_ms) or the question again (qk_session_review); answer
 * through the game. */
qk_session *qk_hotseat_session(qk_hotseat *g);

/* HANDOVER -> QUESTION: the player is ready; their question and its clock
 * start now. */
int qk_hotseat_reveal(qk_hotseat *g, qk_item *it);
/* QUESTION -> FEEDBACK. QK_EINVAL (with *problem) leaves the question open
 * for another try; an answer after the time counts as a miss (fb->timed_out).
 * fb always reveals the right answer: the next player cannot see it. */
int qk_hotseat_answer(qk_hotseat *g, const char *response, qk_feedback *fb, qk_answer_problem *problem);
/* QUESTION -> FEEDBACK when the time is up (QK_ESTATE if time is left). */
int qk_hotseat_expire(qk_hotseat *g, qk_feedback *fb);
/* FEEDBACK -> the next HANDOVER or the SCOREBOARD; SCOREBOARD -> the next
 * HANDOVER or, after the last, the PODIUM (every entry finished). */
int qk_hotseat_continue(qk_hotseat *g);
/* The players best first (indices into order[], n of them) with their
 * 1-based ranks (equal totals share one), by qk_board_cmp. */
void qk_hotseat_standings(const qk_hotseat *g, size_t order[QK_HS_MAX_PLAYERS], int rank[QK_HS_MAX_PLAYERS]);
void qk_hotseat_free(qk_hotseat *g);

#ifdef __cplusplus
}
#endif

#endif
