/* Tests for engine/src/hotseat.c: the hot-seat game both screens play. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quizkit/hotseat.h"
#include "support.h"

typedef qkt_fx fx;

static int setup(void **state)
{
    qkt_fx_setup(state);
    fx *f = *state;
    /* answers are timed on the monotonic clock: the same hand-moved one */
    qk_engine_set_mono_clock(f->e, qkt_clock_fn, &f->clock);
    assert_int_equal(qk_member_add(f->e, "m1", "张三", "", "1234"), QK_OK);
    assert_int_equal(qk_member_add(f->e, "m2", "李四", "", "1234"), QK_OK);
    return 0;
}

#define teardown qkt_fx_teardown

/* The display letters of the right options of it (c-draw draws from t1:
 * s1 乙, m1 甲 and 丙, j1 true, f1 1921|南湖), or a wrong answer. */
static void response(const qk_item *it, int right, char *out, size_t cap)
{
    if (it->q->type == QK_Q_JUDGE) {
        snprintf(out, cap, "%s", right ? "对" : "错");
        return;
    }
    if (it->q->type == QK_Q_FILL) {
        snprintf(out, cap, "%s", right ? "1921|南湖" : "1927|上海");
        return;
    }
    size_t len = 0;
    out[0] = 0;
    for (size_t d = 0; d < it->q->n_options; d++) {
        const char *t = it->option_text[d];
        int good = it->q->type == QK_Q_MULTI ? strcmp(t, "甲") == 0 || strcmp(t, "丙") == 0 : strcmp(t, "乙") == 0;
        if (good == right && (right || len == 0))
            len += (size_t)snprintf(out + len, cap - len, "%c", (char)('A' + d));
    }
}

static qk_hs_state state_of(qk_hotseat *g)
{
    qk_hs_state st;
    qk_hotseat_state(g, &st);
    return st;
}

static int64_t entries(fx *f, const char *kind)
{
    char *p = qkt_path(f->dir, "progress.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM events WHERE kind = ?", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(p);
    return n;
}

/* Two players take turns: the same question for both at each step, the
 * scoreboard after both, the podium after the last, ranked by the engine's
 * totals; a player who lets the time run out gets a miss. */
static void players_take_turns_to_the_podium(void **state)
{
    fx *f = *state;
    const char *members[] = {"m1", NULL};
    const char *names[] = {"张三", "访客 1"};
    qk_hotseat *g = NULL;
    assert_int_equal(qk_hotseat_start(&g, f->e, f->b, "c-draw", members, names, 2, QK_HS_TURNS), QK_OK);
    qk_hs_state st = state_of(g);
    assert_int_equal(st.phase, QK_HS_HANDOVER);
    assert_int_equal(st.total, 3);
    assert_int_equal(st.players, 2);
    assert_int_equal(entries(f, "attempt.start"), 2);
    qk_feedback fb;
    qk_item it;
    /* out of turn: refused, nothing changes */
    assert_int_equal(qk_hotseat_answer(g, "A", &fb, NULL), QK_ESTATE);
    assert_non_null(strstr(qk_hotseat_errmsg(g), "handover"));
    assert_int_equal(qk_hotseat_continue(g), QK_ESTATE);
    assert_int_equal(state_of(g).phase, QK_HS_HANDOVER);
    int sum[2] = {0, 0};
    for (size_t q = 0; q < 3; q++) {
        char first[64] = "";
        for (size_t p = 0; p < 2; p++) {
            st = state_of(g);
            assert_int_equal(st.phase, QK_HS_HANDOVER);
            assert_int_equal(st.turn, p);
            assert_int_equal(st.question, q);
            assert_int_equal(qk_hotseat_reveal(g, &it), QK_OK);
            assert_int_equal(qk_hotseat_reveal(g, &it), QK_ESTATE);
            if (p == 0)
                snprintf(first, sizeof first, "%s", it.q->id);
            assert_string_equal(it.q->id, first); /* one order for the game */
            f->clock.now_ms += 2000;
            if (p == 1 && q == 2) {
                assert_int_equal(qk_hotseat_expire(g, &fb), QK_ESTATE); /* 8 s left */
                f->clock.now_ms += 9000;
                assert_int_equal(qk_hotseat_expire(g, &fb), QK_OK);
                assert_true(fb.timed_out);
            } else {
                char r[16];
                response(&it, p == 0, r, sizeof r);
                assert_int_equal(qk_hotseat_answer(g, r, &fb, NULL), QK_OK);
                assert_int_equal(fb.correct, p == 0);
            }
            assert_true(fb.reveal); /* the next player cannot see the screen yet */
            sum[p] += fb.comp_points;
            assert_int_equal(qk_hotseat_player(g, p)->points, sum[p]);
            assert_int_equal(state_of(g).phase, QK_HS_FEEDBACK);
            assert_int_equal(qk_hotseat_continue(g), QK_OK);
        }
        st = state_of(g);
        assert_int_equal(st.phase, QK_HS_SCOREBOARD);
        assert_int_equal(st.question, q + 1); /* done */
        if (q == 2) /* the running time, the miss whole: as the podium will count it */
            assert_int_equal(qk_hotseat_player(g, 1)->answer_ms, 2000 + 2000 + 10000);
        assert_int_equal(qk_hotseat_continue(g), QK_OK);
    }
    st = state_of(g);
    assert_int_equal(st.phase, QK_HS_PODIUM);
    assert_int_equal(entries(f, "attempt.finish"), 2);
    assert_true(sum[0] > 0);
    assert_int_equal(sum[1], 0);
    const qk_hs_player *a = qk_hotseat_player(g, 0), *b = qk_hotseat_player(g, 1);
    assert_int_equal(a->points, sum[0]);
    assert_int_equal(a->correct, 3);
    assert_int_equal(a->answer_ms, 3 * 2000);
    assert_int_equal(b->correct, 0);
    assert_int_equal(b->answer_ms, 2000 + 2000 + 10000); /* a miss counts its whole time */
    assert_null(b->member);
    size_t order[QK_HS_MAX_PLAYERS];
    int rank[QK_HS_MAX_PLAYERS];
    qk_hotseat_standings(g, order, rank);
    assert_int_equal(order[0], 0);
    assert_int_equal(rank[0], 1);
    assert_int_equal(order[1], 1);
    assert_int_equal(rank[1], 2);
    assert_int_equal(qk_hotseat_continue(g), QK_ESTATE);
    qk_hotseat_free(g);
    assert_int_equal(entries(f, "attempt.finish"), 2); /* finished once */
}

/* In rounds each player answers every question, the scoreboard after each
 * player; equal totals share a rank. */
static void rounds_go_player_by_player(void **state)
{
    fx *f = *state;
    const char *members[] = {"m1", "m2"};
    const char *names[] = {"张三", "李四"};
    qk_hotseat *g = NULL;
    assert_int_equal(qk_hotseat_start(&g, f->e, f->b, "c-draw", members, names, 2, QK_HS_ROUNDS), QK_OK);
    for (size_t p = 0; p < 2; p++) {
        for (size_t q = 0; q < 3; q++) {
            qk_hs_state st = state_of(g);
            assert_int_equal(st.phase, QK_HS_HANDOVER);
            assert_int_equal(st.turn, p);
            assert_int_equal(st.question, q);
            qk_item it;
            qk_feedback fb;
            assert_int_equal(qk_hotseat_reveal(g, &it), QK_OK);
            f->clock.now_ms += 10001; /* both miss everything: equal */
            assert_int_equal(qk_hotseat_answer(g, "A", &fb, NULL), QK_OK); /* too late: a miss */
            assert_true(fb.timed_out);
            assert_int_equal(qk_hotseat_continue(g), QK_OK);
        }
        assert_int_equal(state_of(g).phase, QK_HS_SCOREBOARD);
        if (p == 1) { /* the last scoreboard already ranks them as the podium will */
            size_t order[QK_HS_MAX_PLAYERS];
            int rank[QK_HS_MAX_PLAYERS];
            qk_hotseat_standings(g, order, rank);
            assert_int_equal(rank[1], 1);
        }
        assert_int_equal(qk_hotseat_continue(g), QK_OK);
    }
    assert_int_equal(state_of(g).phase, QK_HS_PODIUM);
    size_t order[QK_HS_MAX_PLAYERS];
    int rank[QK_HS_MAX_PLAYERS];
    qk_hotseat_standings(g, order, rank);
    assert_int_equal(rank[0], 1);
    assert_int_equal(rank[1], 1);
    qk_hotseat_free(g);
}

/* Who may play is checked before any entry begins (an entry begun counts
 * against the attempts allowed); a game left half-way finishes its entries. */
static void players_are_checked_and_a_game_left_finishes_its_entries(void **state)
{
    fx *f = *state;
    const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    const char *one[] = {"m1"};
    const char *twice[] = {"m1", "M1"};
    const char *nine[9] = {NULL};
    qk_hotseat *g = NULL;
    assert_int_equal(qk_hotseat_start(&g, f->e, f->b, "c-draw", one, names, 1, QK_HS_TURNS), QK_EINVAL);
    assert_non_null(strstr(qk_hotseat_errmsg(g), "2 to 8 players"));
    qk_hotseat_free(g);
    assert_int_equal(qk_hotseat_start(&g, f->e, f->b, "c-draw", nine, names, 9, QK_HS_TURNS), QK_EINVAL);
    qk_hotseat_free(g);
    assert_int_equal(qk_hotseat_start(&g, f->e, f->b, "c-draw", twice, names, 2, QK_HS_TURNS), QK_EINVAL);
    assert_non_null(strstr(qk_hotseat_errmsg(g), "M1 cannot play twice"));
    qk_hotseat_free(g);
    assert_int_equal(qk_hotseat_start(&g, f->e, f->b, "no-such", twice, names, 2, QK_HS_TURNS), QK_ENOTFOUND);
    assert_non_null(strstr(qk_hotseat_errmsg(g), "no-such"));
    qk_hotseat_free(g);
    /* c-fixed opens on 2026-03-05; the fixture's clock is at 2026-01-01 */
    assert_int_equal(qk_hotseat_start(&g, f->e, f->b, "c-fixed", twice, names, 2, QK_HS_TURNS), QK_ESTATE);
    qk_hotseat_free(g);
    assert_int_equal(entries(f, "attempt.start"), 0);

    /* c-draw allows 2 entries a member: a game left after one answer uses one */
    const char *pair[] = {"m1", "m2"};
    for (int game = 0; game < 2; game++) {
        assert_int_equal(qk_hotseat_start(&g, f->e, f->b, "c-draw", pair, names, 2, QK_HS_TURNS), QK_OK);
        qk_item it;
        qk_feedback fb;
        char r[16];
        assert_int_equal(qk_hotseat_reveal(g, &it), QK_OK);
        response(&it, 0, r, sizeof r);
        assert_int_equal(qk_hotseat_answer(g, r, &fb, NULL), QK_OK);
        qk_hotseat_free(g);
    }
    assert_int_equal(entries(f, "attempt.finish"), 4);
    assert_int_equal(qk_hotseat_start(&g, f->e, f->b, "c-draw", pair, names, 2, QK_HS_TURNS), QK_ELIMIT);
    qk_hotseat_free(g);
    assert_int_equal(entries(f, "attempt.start"), 4);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(players_take_turns_to_the_podium),
        T(rounds_go_player_by_player),
        T(players_are_checked_and_a_game_left_finishes_its_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
