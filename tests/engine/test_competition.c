/* Tests for competitions (engine/src/competition.c and the competition mode of
 * session.c): the scoring formula on worked examples, definitions and their
 * errors, Beijing-time windows, the shared question set, the time limit on a
 * hand-moved monotonic clock, entries, the local leaderboard and re-scoring. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "support.h"

typedef struct cfx {
    qkt_fx base;
    qkt_clock mono;
} cfx;

#define MAR5_10AM 1772676000000LL /* 2026-03-05 10:00 Beijing */
#define MAR5_8AM_BJ 1772668800000LL

static int setup(void **state)
{
    cfx *f = calloc(1, sizeof *f);
    void *inner = NULL;
    qkt_fx_setup(&inner);
    f->base = *(qkt_fx *)inner;
    free(inner);
    f->base.clock.now_ms = MAR5_10AM;
    qk_engine_set_clock(f->base.e, qkt_clock_fn, &f->base.clock);
    f->mono.now_ms = 1000000;
    qk_engine_set_mono_clock(f->base.e, qkt_clock_fn, &f->mono);
    assert_int_equal(qk_member_add(f->base.e, "m1", "张三", "一支部", "1234"), QK_OK);
    assert_int_equal(qk_member_add(f->base.e, "m2", "李四", "二支部", "1234"), QK_OK);
    assert_int_equal(qk_member_add(f->base.e, "m3", "王五", "一支部", "1234"), QK_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    cfx *f = *state;
    qk_engine_close(f->base.e);
    qk_bundle_close(f->base.b);
    qkt_rmrf(f->base.dir);
    free(f->base.dir);
    free(f);
    return 0;
}

static qk_competition *def(const char *json)
{
    qk_competition *c = NULL;
    char msg[256];
    assert_int_equal(qk_competition_parse(&c, json, QK_LANG_EN, msg, sizeof msg), QK_OK);
    return c;
}

/* The formula on worked examples, boundaries included. */
static void scoring_worked_examples(void **state)
{
    (void)state;
    qk_competition *c = def("{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"seconds\":20}");
    assert_int_equal(c->points, 1000);
    assert_int_equal(c->streak_bonus, 0); /* off unless asked for */
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 0, 0), 1000);     /* zero time */
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 10000, 0), 750);  /* half-way */
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 20000, 0), 500);  /* the limit */
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 20001, 0), 0);    /* late */
    assert_int_equal(qk_competition_answer_points(c, 0, 100, 1000, 0), 0);       /* wrong */
    assert_int_equal(qk_competition_answer_points(c, 50, 100, 0, 0), 500);       /* partial */
    assert_int_equal(qk_competition_answer_points(c, 100, 300, 0, 0), 333);      /* 1/3, rounded */
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 5000, 7), 875);   /* no streak bonus */
    qk_competition_free(c);
    c = def("{\"id\":\"y\",\"title\":\"y\",\"theme\":\"t\",\"seconds\":10,\"full_within\":0.25,"
            "\"streak_bonus\":100,\"streak_max\":300}");
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 2500, 0), 1000);  /* within the quarter */
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 6250, 0), 750);
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 10000, 0), 500);
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 0, 1), 1100);     /* streak of one */
    assert_int_equal(qk_competition_answer_points(c, 100, 100, 0, 5), 1300);     /* capped */
    assert_int_equal(qk_competition_answer_points(c, 50, 100, 0, 5), 500);       /* partial: no bonus */
    qk_competition_free(c);
}

/* What JSON allows still parses: escapes, spaces, numbers in every form. */
static void any_valid_json_is_read(void **state)
{
    (void)state;
    qk_competition *c = NULL;
    char msg[256] = "";
    assert_int_equal(qk_competition_parse(&c,
                                          " {\r\n\t\"id\" : \"x\", \"title\":\"\\u7ade\\u8d5b \\\"\\/\\n\","
                                          " \"theme\":\"t\", \"seconds\": 25, \"x\": [[], {}, -0.5E-2, 2.5e+1, null,"
                                          " true, false]} ",
                                          QK_LANG_EN, msg, sizeof msg),
                     QK_OK);
    assert_string_equal(msg, "");
    assert_string_equal(c->title, "竞赛 \"/\n");
    qk_competition_free(c);
}

static void definitions_are_checked(void **state)
{
    (void)state;
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"[1]", "{...}"},
        {"{\"title\":\"x\",\"theme\":\"t\"}", "id"},
        {"{\"id\":\"x\",\"theme\":\"t\"}", "title"},
        {"{\"id\":\"x\",\"title\":\"x\"}", "questions / theme"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"opens\":\"2026-02-30 08:00\"}", "opens"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"opens\":\"2026-03-05 08:00\",\"closes\":\"2026-03-05 07:00\"}",
         "closes (after opens)"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"seconds\":2}", "seconds"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"seconds\":\"20\"}", "seconds"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"full_within\":1}", "full_within"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"teams\":\"everyone\"}", "teams"},
        {"{\"id\":\"x\",\"title\":\"x\",\"questions\":[]}", "questions"},
        {"{\"id\":\"x\",\"title\":\"x\",\"questions\":[1]}", "questions[]"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"guests\":\"yes\"}", "guests"},
        /* text SQLite 3.40 takes as JSON and then reads out of bounds in
         * (an object where a member's name belongs; the fuzzer's find),
         * and other text that is not JSON */
        {"{\"id\":\"b\",\"title\":\"z\",{\"id\":\"c\",\"title\":\"x\",\"questions\":[\"\"]}:200}", "{...}"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",}", "{...}"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\"} trailing", "{...}"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"seconds\":01}", "{...}"},
        {"{\"id\":\"x\",\"title\":\"x\",\"theme\":\"t\",\"guests\":tru}", "{...}"},
        {"{\"id\":\"x\",\"title\":\"\\q\",\"theme\":\"t\"}", "{...}"},
        {"", "{...}"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        qk_competition *c = NULL;
        char msg[256] = "";
        assert_int_equal(qk_competition_parse(&c, bad[i].json, QK_LANG_EN, msg, sizeof msg), QK_EINVAL);
        assert_null(c);
        if (!strstr(msg, bad[i].field))
            fail_msg("%s: message \"%s\" does not name %s", bad[i].json, msg, bad[i].field);
    }
}

/* Windows are in Beijing time (UTC+8), whatever the device's zone. */
static void windows_in_beijing_time(void **state)
{
    cfx *f = *state;
    qk_competition *c = NULL;
    assert_int_equal(qk_competition_get(f->base.b, "c-fixed", &c), QK_OK);
    assert_int_equal(c->opens_ms, MAR5_8AM_BJ); /* 2026-03-05 00:00 UTC */
    assert_int_equal(qk_competition_state(c, MAR5_8AM_BJ - 1), QK_COMP_UPCOMING);
    assert_int_equal(qk_competition_state(c, MAR5_8AM_BJ), QK_COMP_OPEN);
    assert_int_equal(qk_competition_state(c, c->closes_ms - 1), QK_COMP_OPEN);
    assert_int_equal(qk_competition_state(c, c->closes_ms), QK_COMP_CLOSED);
    qk_competition_free(c);
    qk_competition **all = NULL;
    size_t n = 0;
    assert_int_equal(qk_competitions(f->base.b, &all, &n), QK_OK);
    assert_int_equal(n, 2);
    assert_string_equal(all[0]->id, "c-fixed"); /* authoring order */
    qk_competition_list_free(all, n);
    assert_int_equal(qk_competition_get(f->base.b, "nope", &c), QK_ENOTFOUND);
}

/* The display letter of option index idx in this item. */
static char letter(const qk_item *it, size_t idx)
{
    for (size_t d = 0; d < it->q->n_options; d++) {
        if (it->perm[d] == idx)
            return (char)('A' + d);
    }
    return '?';
}

/* A fully right (or wrong) answer to the item, typed as a player would. */
static void answer(const qk_item *it, int right, char *buf)
{
    if (it->q->type == QK_Q_JUDGE) {
        snprintf(buf, 16, "%s", (it->q->judge_answer != 0) == (right != 0) ? "对" : "错");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < it->q->n_options; i++) {
        if (right ? it->q->options[i].correct : !it->q->options[i].correct && n == 0)
            buf[n++] = letter(it, i);
    }
    buf[n] = '\0';
}

/* Plays an entry: each question answered after ms[i] on the monotonic clock,
 * right when right[i]. */
static qk_summary play(cfx *f, const char *comp, const char *member, const int64_t *ms,
                       const int *right, uint64_t seed)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_COMPETITION;
    spec.competition = comp;
    spec.has_seed = 1;
    spec.seed = seed;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, member, &spec), QK_OK);
    qk_item it;
    for (size_t i = 0; qk_session_next(s, &it) == QK_ROW; i++) {
        f->mono.now_ms += ms[i];
        char in[16];
        answer(&it, right[i], in);
        qk_feedback fb;
        assert_int_equal(qk_session_answer(s, in, &fb, NULL), QK_OK);
        if (getenv("QKT_DEBUG"))
            fprintf(stderr, "%s %s -> correct %d timed_out %d\n", it.q->id, in, fb.correct, fb.timed_out);
    }
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    qk_session_free(s);
    f->base.clock.now_ms += 60000;
    return sum;
}

static void an_entry_is_scored_for_speed(void **state)
{
    cfx *f = *state;
    const int64_t ms[] = {5000, 10000, 20000};
    const int right[] = {1, 1, 1};
    qk_summary sum = play(f, "c-fixed", "m1", ms, right, 7);
    assert_int_equal(sum.total, 3);
    assert_int_equal(sum.correct, 3);
    assert_int_equal(sum.comp_points, 875 + 750 + 500);
    assert_int_equal(sum.answer_ms, 35000);
    assert_int_equal(sum.flagged, 0);
    assert_true(sum.points > 0); /* study points for taking part */
}

/* The engine, not the UI, enforces the time: an answer after the limit is a
 * miss with no points, and expire() closes a question left to run out. */
static void the_time_limit_is_enforced(void **state)
{
    cfx *f = *state;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_COMPETITION;
    spec.competition = "c-fixed";
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, "m1", &spec), QK_OK);
    qk_item it;
    qk_feedback fb;
    char in[16];
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    assert_int_equal(qk_session_remaining_ms(s), 20000);
    f->mono.now_ms += 20001;
    assert_int_equal(qk_session_remaining_ms(s), 0);
    answer(&it, 1, in);
    assert_int_equal(qk_session_answer(s, in, &fb, NULL), QK_OK);
    assert_true(fb.timed_out);
    assert_false(fb.correct);
    assert_int_equal(qk_session_next(s, &it), QK_ROW); /* a miss does not end the run */
    f->mono.now_ms += 5000;
    assert_int_equal(qk_session_expire(s, &fb), QK_ESTATE); /* time left */
    f->mono.now_ms += 15000; /* exactly the limit: still time */
    assert_int_equal(qk_session_expire(s, &fb), QK_ESTATE);
    f->mono.now_ms += 1;
    assert_int_equal(qk_session_expire(s, &fb), QK_OK);
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    f->mono.now_ms += 100; /* impossibly fast: kept, flagged */
    answer(&it, 1, in);
    assert_int_equal(qk_session_answer(s, in, &fb, NULL), QK_OK);
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    assert_int_equal(sum.correct, 1);
    assert_int_equal(sum.comp_points, 998);
    assert_int_equal(sum.answer_ms, 20000 + 20000 + 100); /* a miss counts the whole limit */
    assert_int_equal(sum.flagged, 1);
    qk_session_free(s);
}

static void windows_guests_and_entries(void **state)
{
    cfx *f = *state;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_COMPETITION;
    spec.competition = "c-fixed";
    qk_session *s = NULL;
    f->base.clock.now_ms = MAR5_8AM_BJ - 60000;
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, "m1", &spec), QK_ESTATE);
    assert_non_null(strstr(qk_session_errmsg(s), "has not opened"));
    qk_session_free(s);
    f->base.clock.now_ms = MAR5_8AM_BJ + 8LL * 24 * 3600 * 1000;
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, "m1", &spec), QK_ESTATE);
    assert_non_null(strstr(qk_session_errmsg(s), "has closed"));
    qk_session_free(s);
    f->base.clock.now_ms = MAR5_10AM;
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, NULL, &spec), QK_EPERM);
    qk_session_free(s);
    const int64_t ms[] = {1000, 1000, 1000};
    const int right[] = {1, 0, 1};
    play(f, "c-fixed", "m1", ms, right, 1);
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, "m1", &spec), QK_ELIMIT);
    assert_non_null(strstr(qk_session_errmsg(s), "taken part"));
    qk_session_free(s);
    /* Guests may play c-draw, as often as they like. */
    play(f, "c-draw", NULL, ms, right, 2);
    play(f, "c-draw", NULL, ms, right, 3);
}

/* Everyone gets the same questions, each in their own order. */
static void the_question_set_is_shared(void **state)
{
    cfx *f = *state;
    char *sets[2][3];
    int differ = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        qk_session_spec spec = QK_SESSION_SPEC_INIT;
        spec.mode = QK_MODE_COMPETITION;
        spec.competition = "c-draw";
        spec.has_seed = 1;
        spec.seed = seed;
        qk_session *s = NULL;
        assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, NULL, &spec), QK_OK);
        qk_item it;
        char *ids[3];
        for (size_t i = 0; i < 3; i++) {
            f->mono.now_ms += 1000;
            assert_int_equal(qk_session_next(s, &it), QK_ROW);
            ids[i] = strdup(it.q->id);
            assert_int_equal(qk_session_expire(s, NULL) == QK_ESTATE, 1);
            f->mono.now_ms += 10001;
            assert_int_equal(qk_session_expire(s, NULL), QK_OK);
        }
        qk_session_free(s);
        if (seed <= 2) {
            memcpy(sets[seed - 1], ids, sizeof ids);
            continue;
        }
        /* the same three ids as the first entrant's, in some order */
        for (size_t i = 0; i < 3; i++) {
            int found = 0;
            for (size_t k = 0; k < 3; k++)
                found |= strcmp(ids[i], sets[0][k]) == 0;
            assert_true(found);
            differ |= strcmp(ids[i], sets[0][i]) != 0;
            free(ids[i]);
        }
    }
    assert_true(differ); /* the orders are not all the same */
    for (size_t i = 0; i < 3; i++) {
        free(sets[0][i]);
        free(sets[1][i]);
    }
    /* A drawn set is a pure function of the definition. */
    qk_competition *c = NULL;
    char **a = NULL, **b = NULL;
    size_t na = 0, nb = 0;
    assert_int_equal(qk_competition_get(f->base.b, "c-draw", &c), QK_OK);
    assert_int_equal(qk_competition_question_set(c, f->base.b, &a, &na), QK_OK);
    assert_int_equal(qk_competition_question_set(c, f->base.b, &b, &nb), QK_OK);
    assert_int_equal(na, 3);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);
    qk_strv_free(a, na);
    qk_strv_free(b, nb);
    qk_competition_free(c);
}

static void the_board_ranks_counted_entries(void **state)
{
    cfx *f = *state;
    const int64_t fast[] = {2000, 2000, 2000}, slow[] = {4000, 4000, 4000};
    const int all[] = {1, 1, 1}, two[] = {1, 1, 0};
    {
        /* before anyone has played: an empty board */
        qk_competition *c0 = NULL;
        qk_board_row *r0 = NULL;
        size_t n0 = 7;
        assert_int_equal(qk_competition_get(f->base.b, "c-draw", &c0), QK_OK);
        assert_int_equal(qk_competition_board(f->base.e, c0, &r0, &n0), QK_OK);
        assert_int_equal(n0, 0);
        qk_board_free(r0, n0);
        qk_competition_free(c0);
    }
    play(f, "c-draw", "m1", slow, all, 11);  /* 3 right, slower */
    play(f, "c-draw", "m2", fast, all, 12);  /* 3 right, faster: first */
    play(f, "c-draw", "m3", fast, two, 13);  /* 2 right */
    play(f, "c-draw", "m3", fast, all, 14);  /* a second entry: not the counted one */
    play(f, "c-draw", NULL, fast, two, 15);  /* a guest */
    qk_competition *c = NULL;
    assert_int_equal(qk_competition_get(f->base.b, "c-draw", &c), QK_OK);
    qk_board_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(qk_competition_board(f->base.e, c, &rows, &n), QK_OK);
    assert_int_equal(n, 4);
    assert_string_equal(rows[0].member_id, "m2");
    assert_string_equal(rows[0].name, "李四");
    assert_string_equal(rows[0].team, "二支部"); /* teams by branch */
    assert_string_equal(rows[1].member_id, "m1");
    assert_true(rows[0].points > rows[1].points);
    assert_int_equal(rows[0].rank, 1);
    assert_int_equal(rows[1].rank, 2);
    /* m3's counted entry is the first (two right), tied with the guest's on
     * points and time: the earlier finish goes first. */
    assert_string_equal(rows[2].member_id, "m3");
    assert_int_equal(rows[2].correct, 2);
    assert_null(rows[3].member_id);
    assert_int_equal(rows[2].points, rows[3].points);
    assert_true(rows[2].finished_ms < rows[3].finished_ms);
    qk_board_free(rows, n);
    qk_competition_free(c);
}

/* qk_attempt_rescore over a file, and the same through a rescorer fed the
 * attempt's events from that file as a server's store hands them over: the
 * two judges must agree on every figure. Returns the file's. */
static qk_rescore rescore_both(const char *db, qk_bundle *b, const char *attempt)
{
    qk_rescore want, got;
    char msg[256];
    assert_int_equal(qk_attempt_rescore(db, b, attempt, &want, QK_LANG_EN, msg, sizeof msg), QK_OK);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT seq, kind, bundle_id, bundle_version, payload, created_ms"
                                           " FROM events WHERE attempt_id = ? ORDER BY seq DESC",
                                        -1, &st, NULL),
                     SQLITE_OK); /* newest first: the rescorer orders by seq itself */
    sqlite3_bind_text(st, 1, attempt, -1, SQLITE_STATIC);
    qk_event_in ev[64];
    char *keep[64 * 4];
    size_t n = 0, k = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 64) {
        ev[n].seq = sqlite3_column_int64(st, 0);
        ev[n].kind = keep[k++] = strdup((const char *)sqlite3_column_text(st, 1));
        ev[n].attempt_id = attempt;
        ev[n].bundle_id = keep[k++] = strdup((const char *)sqlite3_column_text(st, 2));
        ev[n].bundle_version = keep[k++] = strdup((const char *)sqlite3_column_text(st, 3));
        ev[n].payload = keep[k++] = strdup((const char *)sqlite3_column_text(st, 4));
        ev[n].created_ms = sqlite3_column_int64(st, 5);
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    qk_rescorer *r = NULL;
    assert_int_equal(qk_rescorer_new(&r), QK_OK);
    /* twice: what one attempt left in the rescorer must not reach the next */
    for (int round = 0; round < 2; round++) {
        assert_int_equal(qk_rescorer_score(r, b, attempt, ev, n, NULL, NULL, &got, QK_LANG_EN, msg, sizeof msg),
                         QK_OK);
        assert_int_equal(got.server_score, want.server_score);
        assert_int_equal(got.device_score, want.device_score);
        assert_int_equal(got.max, want.max);
        assert_int_equal(got.answered, want.answered);
        assert_int_equal(got.correct, want.correct);
        assert_int_equal(got.finished, want.finished);
        assert_int_equal(got.mismatch, want.mismatch);
        assert_int_equal(got.competition, want.competition);
        assert_string_equal(got.competition_id, want.competition_id);
        assert_int_equal(got.server_points, want.server_points);
        assert_int_equal(got.device_points, want.device_points);
        assert_int_equal(got.answer_ms, want.answer_ms);
        assert_int_equal(got.flagged, want.flagged);
        assert_int_equal(got.outside_window, want.outside_window);
    }
    /* an attempt it holds no events of is not found, and leaves nothing behind */
    assert_int_equal(qk_rescorer_score(r, b, "no-such-attempt", NULL, 0, NULL, NULL, &got, QK_LANG_EN, msg,
                                       sizeof msg),
                     QK_ENOTFOUND);
    qk_rescorer_free(r);
    for (size_t i = 0; i < k; i++)
        free(keep[i]);
    return want;
}

/* The server re-scores an entry from its raw answers and times; a changed
 * score in the finish event is caught. */
static void rescoring_catches_a_tampered_total(void **state)
{
    cfx *f = *state;
    const int64_t ms[] = {3000, 6000, 9000};
    const int right[] = {1, 1, 0};
    qk_summary sum = play(f, "c-fixed", "m1", ms, right, 5);
    char *db = qkt_path(f->base.dir, "progress.db");
    qk_rescore r = rescore_both(db, f->base.b, sum.attempt_id);
    char msg[256];
    assert_true(r.competition);
    assert_int_equal(r.server_points, sum.comp_points);
    assert_int_equal(r.device_points, sum.comp_points);
    assert_false(r.mismatch);
    /* A copy of the log where the device claims more points. */
    char *copy = qkt_path(f->base.dir, "tampered.db");
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(copy, &h), SQLITE_OK);
    char sql[600];
    snprintf(sql, sizeof sql,
             "ATTACH '%s' AS src; CREATE TABLE events AS SELECT * FROM src.events;"
             "UPDATE events SET payload = json_set(payload, '$.comp_points', 3000)"
             " WHERE kind = 'attempt.finish' AND attempt_id = '%s';",
             db, sum.attempt_id);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    r = rescore_both(copy, f->base.b, sum.attempt_id);
    assert_int_equal(r.device_points, 3000);
    assert_int_equal(r.server_points, sum.comp_points);
    assert_true(r.mismatch);
    assert_false(r.outside_window);
    /* Begun (by the device's clock) before the window opened: flagged. */
    h = NULL;
    assert_int_equal(sqlite3_open(copy, &h), SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE events SET created_ms = %lld WHERE kind = 'attempt.start'"
             " AND attempt_id = '%s'", (long long)MAR5_8AM_BJ - 1, sum.attempt_id);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    r = rescore_both(copy, f->base.b, sum.attempt_id);
    assert_true(r.outside_window);
    (void)msg;
    free(copy);
    free(db);
}

/* An entry cut off (the program killed) is not resumed like a quiz: its
 * clock cannot be stopped. It still counts as begun. */
static void entries_are_not_resumed(void **state)
{
    cfx *f = *state;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_COMPETITION;
    spec.competition = "c-fixed";
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, "m1", &spec), QK_OK);
    qk_item it;
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    qk_session_free(s); /* as if the power went */
    assert_int_equal(qk_session_resume(&s, f->base.e, f->base.b, "m1"), QK_ENOTFOUND);
    qk_session_free(s);
    assert_int_equal(qk_session_start(&s, f->base.e, f->base.b, "m1", &spec), QK_ELIMIT);
    qk_session_free(s);
}

/* One order wherever entries are ranked (device board, server board,
 * hot-seat): points, then answer time, then who finished first. */
static void one_order_of_entries(void **state)
{
    (void)state;
    qk_board_key a = {300, 40000, 1000}, b = {290, 10000, 500};
    assert_true(qk_board_cmp(&a, &b) < 0); /* more points win, however slow */
    b.points = 300;
    assert_true(qk_board_cmp(&b, &a) < 0); /* then the faster */
    b.answer_ms = 40000;
    assert_true(qk_board_cmp(&b, &a) < 0); /* then the earlier finish */
    b.finished_ms = 1000;
    assert_int_equal(qk_board_cmp(&a, &b), 0); /* the same: one rank */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scoring_worked_examples),
        cmocka_unit_test(one_order_of_entries),
        cmocka_unit_test(definitions_are_checked),
        cmocka_unit_test(any_valid_json_is_read),
        cmocka_unit_test_setup_teardown(windows_in_beijing_time, setup, teardown),
        cmocka_unit_test_setup_teardown(an_entry_is_scored_for_speed, setup, teardown),
        cmocka_unit_test_setup_teardown(the_time_limit_is_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(windows_guests_and_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(the_question_set_is_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(the_board_ranks_counted_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(rescoring_catches_a_tampered_total, setup, teardown),
        cmocka_unit_test_setup_teardown(entries_are_not_resumed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
