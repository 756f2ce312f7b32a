/* quizkit/competition.h: quiz competitions (知识竞赛).
 *
 * A competition is defined in the bundle (so its signature covers it): a
 * window in Beijing time, a question set shared by every entrant (a fixed list,
 * or drawn from a theme by a seed they all share, each entrant getting the set
 * in their own shuffled order), a time per question the engine enforces, and
 * the scoring constants. Entries are ordinary attempts in the event log (mode
 * "competition"), so the server re-scores them from the raw answers.
 *
 * Scoring, per answer (constants in the definition; defaults in brackets):
 *   - wrong, or later than the time limit: 0;
 *   - answered within full_within of the limit [0]: points [1000] x credit;
 *   - after that, falling linearly to half at the limit:
 *       points x credit x (1 - 0.5 x (t - full) / (limit - full)),
 *     where credit is the question's own partial credit (score / max) and t the
 *     answer time on the monotonic clock, rounded to the nearest point;
 *   - streak bonus, off unless streak_bonus > 0: a fully right answer after k
 *     right answers in a row adds min(k x streak_bonus, streak_max);
 *   - answers faster than min_ms [300] are flagged (kept, shown as doubtful).
 * Ranking: points (high first), then total answer time (low first), then the
 * earlier finish. */
#ifndef QUIZKIT_COMPETITION_H
#define QUIZKIT_COMPETITION_H

#include "bundle.h"
#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qk_team_mode {
    QK_TEAMS_NONE = 0, /* individual */
    QK_TEAMS_DEPT,     /* by department (科室) */
    QK_TEAMS_BRANCH    /* by branch (支部) */
} qk_team_mode;

struct qk_competition {
    char *id, *title, *theme; /* theme may be NULL */
    int64_t opens_ms, closes_ms; /* 0: no bound */
    char **questions;            /* a fixed set, or NULL: drawn from the theme */
    size_t n_questions;
    size_t count;                /* drawn: how many */
    uint64_t seed;               /* drawn: the shared seed */
    int seconds;                 /* per question */
    int points;
    int full_permille;           /* full points within this share of the time, in ‰ */
    int streak_bonus, streak_max;
    int min_ms;
    int attempts;                /* entries that count per member */
    qk_team_mode teams;
    int guests;                  /* residents without an account may play */
};
typedef struct qk_competition qk_competition;

/* Parses a definition (JSON object text). QK_EINVAL with a message naming the
 * field. Times are "YYYY-MM-DD HH:MM" in Beijing time. Caller frees. */
int qk_competition_parse(qk_competition **out, const char *json, qk_lang lang, char *msg,
                         size_t msglen);
void qk_competition_free(qk_competition *c);
void qk_competition_list_free(qk_competition **v, size_t n);
/* The bundle's competitions in authoring order. */
int qk_competitions(qk_bundle *b, qk_competition ***out, size_t *n);
/* One by id; QK_ENOTFOUND. */
int qk_competition_get(qk_bundle *b, const char *id, qk_competition **out);

/* Leaders may also publish competitions on the server for their branch; a
 * device keeps those it received for a bundle in its progress file. Saving
 * checks the definition and that its questions are in b. */
int qk_competition_save(qk_engine *e, qk_bundle *b, const char *spec_json);
/* The bundle's competitions, then those published for it (by id). */
int qk_competitions_all(qk_engine *e, qk_bundle *b, qk_competition ***out, size_t *n);
/* One by id, from the bundle or the published ones; QK_ENOTFOUND. */
int qk_competition_find(qk_engine *e, qk_bundle *b, const char *id, qk_competition **out);

typedef enum { QK_COMP_UPCOMING, QK_COMP_OPEN, QK_COMP_CLOSED } qk_comp_state;
qk_comp_state qk_competition_state(const qk_competition *c, int64_t now_ms);

/* Points for one answer (see the top of this file). streak: fully right
 * answers in a row just before this one. */
int qk_competition_answer_points(const qk_competition *c, qk_centi score, qk_centi max,
                                 int64_t elapsed_ms, int streak);

/* The question ids shared by every entrant (before each one's own shuffle). */
int qk_competition_question_set(const qk_competition *c, qk_bundle *b, char ***ids, size_t *n);

/* Whether member_id (NULL: a guest) may enter now: QK_OK, or QK_ESTATE (not
 * open), QK_EPERM (members only), QK_ELIMIT (entries used up), with the
 * reason in qk_engine_errmsg(). */
int qk_competition_check(qk_engine *e, const qk_competition *c, const char *member_id);

/* One row of a leaderboard. */
typedef struct qk_board_row {
    char *member_id; /* NULL: a guest */
    char *name;      /* the member's name, or "" */
    char *team;      /* dept or branch, per the competition; "" when individual */
    char attempt_id[40];
    int points;
    int64_t answer_ms; /* total answer time */
    int64_t finished_ms;
    size_t correct, total;
    int flagged;       /* an answer faster than min_ms */
    int rank;          /* 1-based; equal rows share a rank */
} qk_board_row;

/* The one order of a competition's entries, wherever they are ranked (a
 * device's board, the server's, a hot-seat game): more points first, then
 * less answer time, then the earlier finish. Negative when a ranks above b;
 * 0 when they share a rank. */
typedef struct qk_board_key {
    int points;
    int64_t answer_ms;
    int64_t finished_ms;
} qk_board_key;
int qk_board_cmp(const qk_board_key *a, const qk_board_key *b);

/* The local leaderboard of a competition: each member's first finished entry
 * (their counted one), guests' entries too, ranked. */
int qk_competition_board(qk_engine *e, const qk_competition *c, qk_board_row **rows, size_t *n);
void qk_board_free(qk_board_row *rows, size_t n);
/* Entries a member has begun in a competition on this device (finished or
 * not: they all count against the attempts allowed). */
int qk_competition_entries(qk_engine *e, const char *comp_id, const char *member_id, int *n);

#ifdef __cplusplus
}
#endif

#endif
