/* Issue 17: re-scoring a device's attempts on the server gives the device's
 * own scores, for every mode. A property test over attempts generated from
 * one seed (printed; QKT_SEED=n repeats a run): a real device (the fixture
 * bundle, a progress file, a hand-moved clock that also drives the monotonic
 * time) plays practice, exams, daily quizzes, challenges, reviews, spaced
 * repetition and both fixture competitions, for members and guests, with
 * answers right, wrong, partly right and refused, think times that run past
 * a question's limit (expired or answered late), exams whose time runs out,
 * the program closed mid-attempt and the attempt resumed (sometimes after
 * midnight, when a daily quiz is finished for its own day instead), and some
 * attempts left unfinished. Batches go to a real server store holding the
 * bundle, at random moments (an attempt may span two batches).
 *
 * Then, for every attempt.finish in the progress file: the server's row in
 * attempt_scores agrees with it (score, and a competition's points), and
 * both agree with the feedback the device gave answer by answer, which the
 * generator summed as it played (an oracle neither loader computes). And
 * each member's points, judged batch after batch from the replay kept since
 * the batch before, are those of one replay of the member's whole history. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "qk_server.h"
#include "qk_sync.h"
#include "support.h"

#define SEED_DEFAULT 20260305u
#define ATTEMPTS 280
#define MEMBERS 24
#define MIN_PER_KIND 10          /* finished attempts of each mode and competition, at least */
#define START_MS 1772672400000LL /* 2026-03-05 09:00 Beijing: c-fixed is open */
#define DAY_MS (24LL * 3600 * 1000)
#define BEIJING_MS (8LL * 3600 * 1000)

/* What the generator knows of one attempt: the sums of the feedback the
 * device gave for each recorded answer. */
typedef struct att {
    size_t n; /* 1, 2, ...: the order attempts began in (ids differ run to run) */
    char id[40];
    qk_mode mode;
    const char *theme; /* as asked at start (for resume) */
    const char *comp;  /* competition id, or NULL */
    int member;        /* -1: a guest */
    int64_t started_ms;
    int64_t exam_ms;  /* exam: the whole attempt's limit */
    int64_t limit_ms; /* challenge or competition: per question */
    size_t answered;
    qk_centi score;
    int comp_points;
    int finished; /* 1: by the generator; | 2: the log holds its attempt.finish */
} att;

/* What the run saw happen, so that it cannot pass without them. */
typedef struct seen {
    size_t resumes, midnight_resumes, expired, late, at_limit, refused, partial, exam_timeouts,
        left, batches, split;
} seen;

typedef struct gen {
    uint64_t seed, rng;
    char *dir, *batch, *spec, *db; /* db: the store's tables as a SQLite file, once done */
    qk_engine *e;
    qk_bundle *b;
    qkt_clock clock;
    qk_competition *fixed, *drawn;
    qk_key *key;
    qk_store *store;
    qk_store *twin; /* on PostgreSQL: a SQLite store that takes the same batches */
    int64_t sent; /* the device's last seq the server holds */
    size_t rescored, mismatches, unscored;
    att *atts;
    size_t n_atts, cap;
    int fixed_entered[MEMBERS], drawn_entries[MEMBERS];
    seen saw;
} gen;

static char members[MEMBERS][8]; /* "m01", "m02", ... */

/* splitmix64: the one source of every choice the generator makes. */
static uint64_t next64(gen *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int64_t pick(gen *g, int64_t n)
{
    return (int64_t)(next64(g) % (uint64_t)n);
}

static void tick(gen *g, int64_t ms)
{
    g->clock.now_ms += ms;
}

static const char *member_id(int m)
{
    return m < 0 ? NULL : members[m];
}

/* The device program starting: the bundle and the progress file opened, on
 * the hand-moved clock (wall and monotonic time both). */
static void open_device(gen *g)
{
    qkt_open(g->dir, &g->e, &g->b);
    qk_engine_set_clock(g->e, qkt_clock_fn, &g->clock);
    qk_engine_set_mono_clock(g->e, qkt_clock_fn, &g->clock);
}

static void close_device(gen *g)
{
    qk_engine_close(g->e);
    qk_bundle_close(g->b);
    g->e = NULL;
    g->b = NULL;
}

/* Sends what the server does not hold yet in one signed batch and adds up
 * what it judged. */
static void sync_now(gen *g)
{
    size_t n = 0;
    char msg[512];
    assert_int_equal(qk_batch_export(g->e, g->key, g->batch, g->sent, &n, msg, sizeof msg), QK_OK);
    if (n == 0)
        return;
    qk_import_result r;
    if (qk_store_import(g->store, g->batch, &r) != QK_OK)
        fail_msg("seed %" PRIu64 ": import: %s", g->seed, qk_store_errmsg(g->store));
    assert_int_equal(r.inserted, n);
    assert_int_equal(r.conflicts, 0);
    assert_int_equal(r.n_gaps, 0);
    g->sent = r.acked_seq;
    if (g->twin) {
        qk_import_result t;
        if (qk_store_import(g->twin, g->batch, &t) != QK_OK)
            fail_msg("seed %" PRIu64 ": import (SQLite): %s", g->seed, qk_store_errmsg(g->twin));
        assert_int_equal(t.inserted, r.inserted);
        assert_int_equal(t.rescored, r.rescored);
        assert_int_equal(t.acked_seq, r.acked_seq);
        /* the roll-ups on PostgreSQL taken in batch by batch now and then
         * (an attempt's events in two of them, its start in an earlier) */
        if (g->saw.batches % 4 == 1) {
            qk_stats_query q = {QK_STATS_PARTICIPATION, 0, 30000, g->b, 0};
            json_t *t_ = NULL;
            if (qk_store_stats(g->store, NULL, &q, QK_LANG_ZH, &t_, msg, sizeof msg) != QK_OK)
                fail_msg("stats on PostgreSQL: %s", msg);
            json_decref(t_);
        }
    }
    g->rescored += r.rescored;
    g->mismatches += r.mismatches;
    g->unscored += r.unscored;
    g->saw.batches++;
}

/* --- answers --- */

typedef enum intent { RIGHT, WRONG, PARTIAL, INVALID } intent;
static const char *const intent_names[] = {"right", "wrong", "partly right", "refused"};

/* The display letter of option index idx in this item. */
static char letter(const qk_item *it, size_t idx)
{
    for (size_t d = 0; d < it->q->n_options; d++) {
        if (it->perm[d] == idx)
            return (char)('A' + d);
    }
    return '?';
}

/* What a player types to mean how. PARTIAL is only asked of questions that
 * give partial credit (multi, fill). */
static void compose(gen *g, const qk_item *it, intent how, char *buf, size_t len)
{
    const qk_question *q = it->q;
    if (how == INVALID && pick(g, 3) == 0) {
        snprintf(buf, len, "%s", ""); /* nothing typed */
        return;
    }
    if (q->type == QK_Q_JUDGE) {
        snprintf(buf, len, "%s",
                 how == INVALID                             ? "也许"
                 : (q->judge_answer != 0) == (how == RIGHT) ? "对"
                                                            : "错");
        return;
    }
    if (q->type == QK_Q_FILL) {
        snprintf(buf, len, "%s",
                 how == RIGHT     ? (pick(g, 2) ? "1921|南湖" : "1921年；嘉兴")
                 : how == PARTIAL ? "1921|上海"
                 : how == WRONG   ? "1900|北京"
                                  : "1921|南湖|上海");
        return;
    }
    if (how == INVALID) {
        snprintf(buf, len, "%s", q->type == QK_Q_SINGLE && pick(g, 2) ? "AB" : "Z");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < q->n_options && n + 1 < len; i++) {
        int right = q->options[i].correct != 0;
        if (how == RIGHT ? right : how == PARTIAL ? right && n == 0 : !right && n == 0)
            buf[n++] = letter(it, i);
    }
    buf[n] = '\0';
}

static intent choose_intent(gen *g, const qk_item *it, int allow_invalid)
{
    int r = (int)pick(g, 20);
    int partial_ok = it->q->type == QK_Q_MULTI || it->q->type == QK_Q_FILL;
    if (allow_invalid && r < 3)
        return INVALID;
    if (r < 6)
        return partial_ok ? PARTIAL : WRONG;
    return r < 11 ? WRONG : RIGHT;
}

/* The feedback of an answer in time says what was meant. */
static void check_feedback(const gen *g, const att *a, intent how, const qk_feedback *fb)
{
    int ok = how == RIGHT   ? fb->correct && fb->score == fb->max
             : how == WRONG ? !fb->correct && fb->score == 0
                            : !fb->correct && fb->score > 0 && fb->score < fb->max;
    if (!ok || fb->timed_out)
        fail_msg("seed %" PRIu64 ", attempt #%zu (%s): a %s answer scored %d of %d%s", g->seed,
                 a->n, qk_mode_name(a->mode), intent_names[how], (int)fb->score, (int)fb->max,
                 fb->timed_out ? ", timed out" : "");
}

static void count(att *a, const qk_feedback *fb)
{
    a->answered++;
    a->score += fb->score;
    a->comp_points += fb->comp_points;
}

/* Too late for this question: the limit has passed. A competition still
 * takes an answer at exactly its limit; a challenge's question ends there. */
static int late(const gen *g, const att *a, int64_t shown)
{
    int64_t waited = g->clock.now_ms - shown;
    return a->limit_ms &&
           (a->mode == QK_MODE_COMPETITION ? waited > a->limit_ms : waited >= a->limit_ms);
}

static int exam_over(const gen *g, const att *a)
{
    return a->mode == QK_MODE_EXAM && g->clock.now_ms >= a->started_ms + a->exam_ms;
}

/* A player thinking: mostly within the question's time, sometimes past it
 * or exactly at it. */
static void think(gen *g, const att *a)
{
    int r = (int)pick(g, 10);
    if (a->limit_ms && r == 0)
        tick(g, a->limit_ms + 1 + pick(g, 10000));
    else if (a->limit_ms && r == 1)
        tick(g, a->limit_ms);
    else if (a->limit_ms)
        tick(g, 100 + pick(g, a->limit_ms - 100));
    else
        tick(g, 500 + pick(g, a->mode == QK_MODE_EXAM ? 20000 : 40000));
}

/* One question: expired when its countdown reached zero, or answered (a
 * refused answer typed again). Returns 0 when the exam's time has run out. */
static int answer_one(gen *g, qk_session *s, att *a, const qk_item *it, int64_t shown)
{
    qk_feedback fb;
    qk_answer_problem problem;
    think(g, a);
    if (a->limit_ms && g->clock.now_ms - shown == a->limit_ms)
        g->saw.at_limit++;
    if (a->limit_ms && pick(g, late(g, a, shown) ? 2 : 6) == 0) {
        /* the screen's countdown reached zero (or the player thinks it did) */
        int rc = qk_session_expire(s, &fb);
        if (!late(g, a, shown)) {
            assert_int_equal(rc, QK_ESTATE); /* time left: nothing recorded */
        } else {
            assert_int_equal(rc, QK_OK);
            assert_true(fb.timed_out);
            count(a, &fb);
            g->saw.expired++;
            return 1;
        }
    }
    intent how = choose_intent(g, it, 1);
    for (;;) {
        char in[64];
        compose(g, it, how, in, sizeof in);
        int over = exam_over(g, a), too_late = late(g, a, shown);
        int rc = qk_session_answer(s, in, &fb, &problem);
        if (over) {
            assert_int_equal(rc, QK_ETIMEOUT);
            return 0;
        }
        if (too_late) { /* whatever was typed: a miss */
            assert_int_equal(rc, QK_OK);
            assert_true(fb.timed_out);
            count(a, &fb);
            g->saw.late++;
            return 1;
        }
        if (how == INVALID) {
            assert_int_equal(rc, QK_EINVAL);
            assert_int_not_equal(problem, QK_ANS_OK);
            g->saw.refused++;
            how = choose_intent(g, it, 0);
            tick(g, 200 + pick(g, 3000)); /* reads the message, types again */
            continue;
        }
        assert_int_equal(rc, QK_OK);
        check_feedback(g, a, how, &fb);
        g->saw.partial += how == PARTIAL;
        count(a, &fb);
        return 1;
    }
}

/* --- attempts --- */

static att *find_att(gen *g, const char *id)
{
    for (size_t i = 0; i < g->n_atts; i++) {
        if (strcmp(g->atts[i].id, id) == 0)
            return &g->atts[i];
    }
    return NULL;
}

static att *new_att(gen *g)
{
    if (g->n_atts == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 64;
        g->atts = realloc(g->atts, g->cap * sizeof *g->atts);
        assert_non_null(g->atts);
    }
    att *a = &g->atts[g->n_atts++];
    memset(a, 0, sizeof *a);
    a->n = g->n_atts;
    return a;
}

/* The program closed mid-attempt (the session and the engine freed), opened
 * again a while later, and the attempt resumed. A daily quiz resumed after
 * its day is over is finished for its own day instead: NULL then. */
static qk_session *resume(gen *g, qk_session *s, att *a)
{
    qk_session_free(s);
    close_device(g);
    int midnight = a->mode == QK_MODE_DAILY && (!g->saw.midnight_resumes || pick(g, 5) == 0);
    if (midnight) { /* to the small hours of the next Beijing day */
        int64_t next = ((g->clock.now_ms + BEIJING_MS) / DAY_MS + 1) * DAY_MS - BEIJING_MS;
        g->clock.now_ms = next + 1 + pick(g, 3 * 3600 * 1000);
    } else {
        tick(g, 1000 + pick(g, 300000));
    }
    open_device(g);
    if (pick(g, 3) == 0) { /* the server gets the attempt's first part now */
        sync_now(g);
        g->saw.split++;
    }
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = a->mode;
    spec.theme = a->theme;
    s = NULL;
    int rc = qk_session_resume_spec(&s, g->e, g->b, member_id(a->member), &spec);
    g->saw.resumes++;
    /* the day is over for a daily quiz begun on an earlier day, however far
     * the clock went */
    int over = a->mode == QK_MODE_DAILY &&
               qk_beijing_day(g->clock.now_ms) != qk_beijing_day(a->started_ms);
    if (over) {
        assert_int_equal(rc, QK_ENOTFOUND);
        qk_session_free(s);
        g->saw.midnight_resumes++;
        return NULL; /* finished (reason "expired") by the resume itself */
    }
    if (rc != QK_OK)
        fail_msg("seed %" PRIu64 ", attempt #%zu (%s): resume: %s", g->seed, a->n,
                 qk_mode_name(a->mode), qk_session_errmsg(s));
    assert_string_equal(qk_session_attempt_id(s), a->id);
    assert_int_equal(qk_session_answered(s), a->answered);
    return s;
}

/* Plays attempt a in s to its end (finished), or leaves it. */
static void play_attempt(gen *g, qk_session *s, att *a)
{
    int leave = pick(g, 6) == 0;
    size_t shown_index = SIZE_MAX;
    int64_t shown = 0;
    for (;;) {
        qk_item it;
        int rc = qk_session_next(s, &it);
        if (rc == QK_DONE)
            break;
        if (rc == QK_ETIMEOUT) {
            assert_true(exam_over(g, a));
            g->saw.exam_timeouts++;
            break;
        }
        assert_int_equal(rc, QK_ROW);
        assert_false(exam_over(g, a));
        assert_int_equal(it.index, a->answered); /* questions come in order */
        if (it.index != shown_index) {
            shown_index = it.index;
            shown = g->clock.now_ms;
        }
        if (leave && pick(g, 3) == 0) { /* walked away; maybe continued another day */
            qk_session_free(s);
            g->saw.left++;
            return;
        }
        if (a->mode != QK_MODE_COMPETITION && pick(g, 8) == 0) {
            if (!(s = resume(g, s, a)))
                return;
            shown_index = SIZE_MAX;
            continue;
        }
        if (!answer_one(g, s, a, &it, shown)) {
            g->saw.exam_timeouts++;
            break;
        }
        shown_index = SIZE_MAX;
    }
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    if (sum.score != a->score || sum.comp_points != a->comp_points || sum.answered != a->answered)
        fail_msg("seed %" PRIu64 ", attempt #%zu (%s): the device's summary %d (%d points, %zu "
                 "answered) is not its answers' %d (%d points, %zu answered)",
                 g->seed, a->n, qk_mode_name(a->mode), (int)sum.score, sum.comp_points,
                 sum.answered, (int)a->score, a->comp_points, a->answered);
    a->finished = 1;
    qk_session_free(s);
}

static const char *any_theme(gen *g)
{
    static const char *const themes[] = {"t1", "t2", NULL};
    return themes[pick(g, 3)];
}

/* The spec of a new attempt of mode for member m (a competition becomes
 * c-fixed for a member who has not entered while it is open, else c-draw
 * while entries are left, else a practice). */
static void choose_spec(gen *g, qk_session_spec *spec, qk_mode mode, int m)
{
    spec->mode = mode;
    spec->has_seed = 1;
    spec->seed = next64(g);
    spec->order = pick(g, 4) == 0 ? QK_ORDER_SEQUENTIAL : QK_ORDER_RANDOM;
    spec->count = (size_t)pick(g, 6); /* 0: all */
    switch (mode) {
    case QK_MODE_PRACTICE:
        spec->theme = any_theme(g);
        break;
    case QK_MODE_EXAM:
        spec->theme = any_theme(g);
        spec->time_limit_s = pick(g, 3) ? 15 + (int)pick(g, 60) : 0; /* 0: 60 s a question */
        break;
    case QK_MODE_CHALLENGE:
        spec->theme = any_theme(g);
        spec->time_limit_s = pick(g, 2) ? 5 + (int)pick(g, 25) : 0; /* 0: 20 s */
        break;
    case QK_MODE_REVIEW:
    case QK_MODE_SRS:
        spec->theme = pick(g, 4) == 0 ? "t1" : NULL;
        spec->count = (size_t)pick(g, 4);
        break;
    case QK_MODE_COMPETITION:
        if (m >= 0 && !g->fixed_entered[m] &&
            qk_competition_state(g->fixed, g->clock.now_ms) == QK_COMP_OPEN)
            spec->competition = "c-fixed";
        else if (m < 0 || g->drawn_entries[m] < g->drawn->attempts)
            spec->competition = "c-draw";
        else
            choose_spec(g, spec, QK_MODE_PRACTICE, m);
        break;
    default:
        break;
    }
}

/* The attempt a started session s is: a new one, or today's daily quiz
 * continued. */
static att *attempt_of(gen *g, qk_session *s, const qk_session_spec *spec, int m)
{
    const char *id = qk_session_attempt_id(s);
    if (qk_session_resumed(s)) {
        att *a = find_att(g, id);
        assert_non_null(a);
        assert_int_equal(a->mode, QK_MODE_DAILY);
        assert_int_equal(qk_session_answered(s), a->answered);
        return a;
    }
    assert_null(find_att(g, id));
    att *a = new_att(g);
    snprintf(a->id, sizeof a->id, "%s", id);
    a->mode = spec->mode;
    a->theme = spec->mode == QK_MODE_DAILY ? NULL : spec->theme;
    a->comp = spec->competition;
    a->member = m;
    a->started_ms = g->clock.now_ms;
    qk_item it; /* the first question on screen: how many there are */
    size_t total = qk_session_next(s, &it) == QK_ROW ? it.total : 0;
    if (spec->mode == QK_MODE_EXAM)
        a->exam_ms = 1000LL * (spec->time_limit_s > 0 ? spec->time_limit_s : 60 * (int)total);
    if (spec->mode == QK_MODE_CHALLENGE)
        a->limit_ms =
            1000LL * (spec->time_limit_s > 0 ? spec->time_limit_s : QK_CHALLENGE_DEFAULT_SECONDS);
    if (spec->mode == QK_MODE_COMPETITION) {
        const qk_competition *c = strcmp(spec->competition, "c-fixed") == 0 ? g->fixed : g->drawn;
        a->limit_ms = 1000LL * c->seconds;
        if (m >= 0 && c == g->fixed)
            g->fixed_entered[m] = 1;
        else if (m >= 0)
            g->drawn_entries[m]++;
    }
    return a;
}

static void one_attempt(gen *g)
{
    static const qk_mode modes[] = {QK_MODE_PRACTICE,    QK_MODE_EXAM,       QK_MODE_DAILY,
                                    QK_MODE_CHALLENGE,   QK_MODE_REVIEW,     QK_MODE_SRS,
                                    QK_MODE_COMPETITION, QK_MODE_COMPETITION};
    int m = pick(g, 6) == 0 ? -1 : (int)pick(g, MEMBERS);
    qk_mode mode = modes[pick(g, sizeof modes / sizeof modes[0])];
    if (mode == QK_MODE_COMPETITION && m >= 0 && g->fixed_entered[m]) {
        /* one entry each: a member who has not entered c-fixed comes, if any */
        int from = (int)pick(g, MEMBERS);
        for (int k = 0; k < MEMBERS && g->fixed_entered[m]; k++)
            m = (from + k) % MEMBERS;
    }
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    choose_spec(g, &spec, mode, m);
    qk_session *s = NULL;
    int rc = qk_session_start(&s, g->e, g->b, member_id(m), &spec);
    int book = spec.mode == QK_MODE_REVIEW || spec.mode == QK_MODE_SRS,
        from = (int)pick(g, MEMBERS + 1);
    for (int k = 0; rc == QK_ENOTFOUND && book && k <= MEMBERS; k++) {
        /* nothing in their book, or nothing due (of that theme): someone
         * else's review or repetition (the guests' too), else a practice */
        qk_session_free(s);
        m = (from + k) % (MEMBERS + 1) - 1;
        if (k == MEMBERS) {
            spec = (qk_session_spec)QK_SESSION_SPEC_INIT;
            choose_spec(g, &spec, QK_MODE_PRACTICE, m);
        }
        rc = qk_session_start(&s, g->e, g->b, member_id(m), &spec);
    }
    if (rc != QK_OK)
        fail_msg("seed %" PRIu64 ": start %s for %s: %s", g->seed, qk_mode_name(spec.mode),
                 m < 0 ? "a guest" : members[m], qk_session_errmsg(s));
    play_attempt(g, s, attempt_of(g, s, &spec, m));
}

/* --- the check --- */

/* One attempt's figures: the device's (its attempt.finish) or the server's
 * (its attempt_scores row, whose device_score is what it read of the finish). */
typedef struct figures {
    int score, points, flagged, outside;
    int64_t answer_ms;
    int device_score, device_points, mismatch; /* the server's row only */
    char note[256], competition[72];
} figures;

/* The server's row for attempt id in the store file (read after the store
 * is closed); 0 when there is none. */
static int server_row(sqlite3_stmt *st, const char *id, figures *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        out->device_score = sqlite3_column_int(st, 0);
        out->score = sqlite3_column_int(st, 1);
        out->mismatch = sqlite3_column_int(st, 2);
        snprintf(out->note, sizeof out->note, "%s", (const char *)sqlite3_column_text(st, 3));
        const char *c = (const char *)sqlite3_column_text(st, 4);
        snprintf(out->competition, sizeof out->competition, "%s", c ? c : "");
        out->points = sqlite3_column_int(st, 5);
        out->device_points = sqlite3_column_int(st, 6);
        out->answer_ms = sqlite3_column_int64(st, 7);
        out->flagged = sqlite3_column_int(st, 8);
        out->outside = sqlite3_column_int(st, 9);
    }
    sqlite3_reset(st);
    return found;
}

static sqlite3 *open_ro(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    return st;
}

/* Finished attempts of each kind: the modes, with competitions by id. */
enum { K_PRACTICE, K_EXAM, K_DAILY, K_CHALLENGE, K_REVIEW, K_SRS, K_FIXED, K_DRAWN, K_COUNT };
static const char *const kind_names[K_COUNT] = {"practice", "exam", "daily",   "challenge",
                                                "review",   "srs",  "c-fixed", "c-draw"};

static int kind_of(const att *a)
{
    if (a->mode == QK_MODE_COMPETITION)
        return strcmp(a->comp, "c-fixed") == 0 ? K_FIXED : K_DRAWN;
    return (int)a->mode - QK_MODE_PRACTICE;
}

/* The server agrees with the device's finish d of attempt a, and both with
 * the answers the generator gave. */
static int agree(const att *a, const figures *d, int held, const figures *r)
{
    if (!held || r->mismatch || r->note[0] || r->score != d->score || r->device_score != d->score ||
        d->score != a->score)
        return 0;
    if (a->mode != QK_MODE_COMPETITION)
        return 1;
    return r->points == d->points && r->device_points == d->points && d->points == a->comp_points &&
           strcmp(r->competition, a->comp) == 0 && r->answer_ms == d->answer_ms &&
           r->flagged == d->flagged && !r->outside;
}

static void say_disagreement(const gen *g, const att *a, const char *reason, const figures *d,
                             int held, const figures *r)
{
    print_message("seed %" PRIu64 ", attempt #%zu %s (%s%s%s, %s, %zu answered): device %d "
                  "(%d points, %lld ms, flag %d), answers %d (%d points), server %s%d (%d points, "
                  "%lld ms, flag %d, outside %d)%s%s\n",
                  g->seed, a->n, a->id, qk_mode_name(a->mode), a->comp ? " " : "",
                  a->comp ? a->comp : "", reason ? reason : "?", a->answered, d->score, d->points,
                  (long long)d->answer_ms, d->flagged, (int)a->score, a->comp_points,
                  held ? "" : "(no row) ", r->score, r->points, (long long)r->answer_ms, r->flagged,
                  r->outside, r->note[0] ? ": " : "", r->note);
}

/* Every attempt.finish of the progress file against the server's row and the
 * generator's sums; returns the number of finishes, per kind in per_kind,
 * and those finished because their day was over in *expired. */
static size_t check_every_finish(gen *g, size_t per_kind[K_COUNT], size_t *expired)
{
    char *progress = qkt_path(g->dir, "progress.db");
    sqlite3 *dev = open_ro(progress), *srv = open_ro(g->db);
    sqlite3_stmt *fin = prepare(dev, "SELECT attempt_id, json_extract(payload, '$.score'),"
                                     " json_extract(payload, '$.comp_points'),"
                                     " json_extract(payload, '$.answer_ms'),"
                                     " json_extract(payload, '$.flagged'),"
                                     " json_extract(payload, '$.reason')"
                                     " FROM events WHERE kind = 'attempt.finish' ORDER BY seq");
    sqlite3_stmt *row = prepare(srv, "SELECT device_score, server_score, mismatch, note,"
                                     " competition, server_points, device_points, answer_ms,"
                                     " flagged, outside_window"
                                     " FROM attempt_scores WHERE attempt_id = ?");
    size_t n = 0, bad = 0;
    int step;
    while ((step = sqlite3_step(fin)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(fin, 0);
        figures d, r;
        memset(&d, 0, sizeof d);
        d.score = sqlite3_column_int(fin, 1);
        d.points = sqlite3_column_int(fin, 2);
        d.answer_ms = sqlite3_column_int64(fin, 3);
        d.flagged = sqlite3_column_int(fin, 4);
        const char *reason = (const char *)sqlite3_column_text(fin, 5);
        att *a = find_att(g, id);
        if (!a)
            fail_msg("seed %" PRIu64 ": a finish for attempt %s, never played", g->seed, id);
        int held = server_row(row, id, &r);
        if (!agree(a, &d, held, &r)) {
            say_disagreement(g, a, reason, &d, held, &r);
            bad++;
        }
        per_kind[kind_of(a)]++;
        *expired += reason && strcmp(reason, "expired") == 0;
        a->finished |= 2; /* a finish is held for it */
        n++;
    }
    assert_int_equal(step, SQLITE_DONE);
    sqlite3_finalize(fin);
    sqlite3_finalize(row);
    sqlite3_stmt *all = prepare(srv, "SELECT count(*) FROM attempt_scores");
    assert_int_equal(sqlite3_step(all), SQLITE_ROW);
    size_t rows = (size_t)sqlite3_column_int64(all, 0);
    sqlite3_finalize(all);
    sqlite3_close(dev);
    sqlite3_close(srv);
    free(progress);
    if (bad)
        fail_msg("seed %" PRIu64 ": %zu of %zu finished attempts judged otherwise on the server",
                 g->seed, bad, n);
    assert_int_equal(rows, n); /* nothing unfinished was judged */
    return n;
}

static uint64_t seed_from_env(void)
{
    const char *v = getenv("QKT_SEED");
    if (!v || !*v)
        return SEED_DEFAULT;
    char *end = NULL;
    uint64_t seed = strtoull(v, &end, 0);
    if (*end)
        fail_msg("QKT_SEED=%s is not a number", v);
    return seed;
}

/* A server store as the test's server has it: the fixture published, the
 * two branches and their members (odd ones in b1), the judge's clock
 * stopped (it judges nothing by it here). */
static qk_store *server_store(gen *g, const char *spec)
{
    qk_store *s = NULL;
    if (qk_store_open(&s, spec, QK_LANG_EN) != QK_OK)
        fail_msg("%s", qk_store_errmsg(s));
    qkt_publish_fixture(s, g->dir);
    static qk_clock judge = {1, START_MS + 30 * DAY_MS, 0, 0, 0};
    qk_store_use_clock(s, &judge);
    assert_int_equal(qk_admin_branch_add(s, "b1", "第一党支部"), QK_OK);
    assert_int_equal(qk_admin_branch_add(s, "b2", "第二党支部"), QK_OK);
    for (int m = 0; m < MEMBERS; m++) {
        qk_roster_member r = {0};
        snprintf(r.id, sizeof r.id, "%.7s", members[m]);
        snprintf(r.name, sizeof r.name, "党员%02d", m + 1);
        snprintf(r.branch, sizeof r.branch, "%s", m % 2 ? "b1" : "b2");
        snprintf(r.dept, sizeof r.dept, "%s", m % 3 ? "内科" : "外科");
        assert_int_equal(qk_admin_member_add(s, &r, "1234"), QK_OK);
    }
    return s;
}

static void gen_open(gen *g)
{
    memset(g, 0, sizeof *g);
    g->seed = g->rng = seed_from_env();
    print_message("rescore property: seed %" PRIu64 " (QKT_SEED=%" PRIu64 " repeats this run)\n",
                  g->seed, g->seed);
    g->dir = qkt_tmpdir();
    g->batch = qkt_path(g->dir, "batch.qkd");
    g->spec = qkt_store_spec(g->dir);
    g->clock.now_ms = START_MS;
    open_device(g);
    /* the roster as a server sends it: one PIN hash for all (PBKDF2 is slow) */
    char salt[33], hash[65];
    int iter = 0;
    assert_int_equal(qk_pin_hash_new("1234", salt, hash, &iter), QK_OK);
    for (int m = 0; m < MEMBERS; m++) {
        snprintf(members[m], sizeof members[m], "m%02d", m + 1);
        assert_int_equal(
            qk_member_apply(g->e, members[m], "党员", m % 2 ? "b1" : "b2", "", salt, hash, iter),
            QK_OK);
    }
    assert_int_equal(qk_competition_get(g->b, "c-fixed", &g->fixed), QK_OK);
    assert_int_equal(qk_competition_get(g->b, "c-draw", &g->drawn), QK_OK);
    assert_int_equal(qk_key_generate(&g->key), QK_OK);
    g->store = server_store(g, g->spec);
    if (qkt_store_is_pg()) {
        char *twin = qkt_path(g->dir, "twin.db"), spec[4096];
        snprintf(spec, sizeof spec, "sqlite:%s", twin);
        g->twin = server_store(g, spec);
        free(twin);
    }
}

static void gen_close(gen *g)
{
    close_device(g);
    qk_key_free(g->key);
    qk_competition_free(g->fixed);
    qk_competition_free(g->drawn);
    free(g->atts);
    qkt_rmrf(g->dir);
    free(g->dir);
    free(g->batch);
    free(g->spec);
    free(g->db);
}

/* Each member's points as the server judged them batch after batch (each
 * batch's events added to the replay kept from the batches before) against
 * one replay of the member's whole history in the progress file: the
 * total and every day's points. Returns the members compared. */
static int check_points(gen *g)
{
    char *progress = qkt_path(g->dir, "progress.db");
    sqlite3 *srv = open_ro(g->db);
    sqlite3_stmt *judged = prepare(srv, "SELECT server_total FROM points_judged WHERE member_id = ?");
    sqlite3_stmt *day = prepare(srv, "SELECT points FROM member_points WHERE member_id = ? AND day = ?");
    sqlite3_stmt *n_days = prepare(srv, "SELECT count(*) FROM member_points WHERE member_id = ?");
    int compared = 0;
    for (int m = 0; m < MEMBERS; m++) {
        int64_t total = 0;
        qk_points_day *days = NULL;
        size_t n = 0;
        char msg[256];
        assert_int_equal(qk_points_recompute_days(progress, g->b, members[m], NULL, &total, &days, &n, msg,
                                                  sizeof msg),
                         QK_OK);
        sqlite3_bind_text(judged, 1, members[m], -1, SQLITE_STATIC);
        if (sqlite3_step(judged) != SQLITE_ROW) { /* never judged: never played */
            assert_int_equal(n, 0);
        } else {
            int64_t server = sqlite3_column_int64(judged, 0);
            if (server != total)
                fail_msg("seed %" PRIu64 ": %s has %lld points on the server, %lld by one replay of"
                         " the progress file", g->seed, members[m], (long long)server, (long long)total);
            for (size_t i = 0; i < n; i++) {
                sqlite3_bind_text(day, 1, members[m], -1, SQLITE_STATIC);
                sqlite3_bind_int64(day, 2, days[i].day);
                int64_t held = sqlite3_step(day) == SQLITE_ROW ? sqlite3_column_int64(day, 0) : -1;
                if (held != days[i].points)
                    fail_msg("seed %" PRIu64 ": %s, day %lld: %lld points on the server, %lld by one"
                             " replay", g->seed, members[m], (long long)days[i].day, (long long)held,
                             (long long)days[i].points);
                sqlite3_reset(day);
            }
            sqlite3_bind_text(n_days, 1, members[m], -1, SQLITE_STATIC);
            assert_int_equal(sqlite3_step(n_days), SQLITE_ROW);
            assert_int_equal(sqlite3_column_int64(n_days, 0), (int64_t)n);
            sqlite3_reset(n_days);
            compared++;
        }
        sqlite3_reset(judged);
        free(days);
    }
    sqlite3_finalize(judged);
    sqlite3_finalize(day);
    sqlite3_finalize(n_days);
    sqlite3_close(srv);
    free(progress);
    return compared;
}

/* The statistics of the store on PostgreSQL against those of the SQLite
 * store that took the same batches: every subject, for every branch and
 * each one, in both languages, over periods inside the events' days,
 * around them, across months and empty; the same tables, cell for cell
 * (reals exactly). Returns the tables compared. */
static int same_statistics(gen *g)
{
    static const char *const periods[][2] = {
        {"2026-03-01", "2026-03-31"}, {"2026-03-05", "2026-03-05"}, {"2026-03-06", "2026-03-08"},
        {"2026-02-20", "2026-04-10"}, {"2026-03-12", "2026-03-20"}};
    static const char *const branches[] = {NULL, "b1"};
    int compared = 0;
    size_t member_rows = 0, question_rows = 0;
    for (size_t p = 0; p < sizeof periods / sizeof periods[0]; p++) {
        qk_stats_query q = {0, 0, 0, g->b, 0};
        assert_int_equal(qk_stats_parse_day(periods[p][0], &q.from_day), 0);
        assert_int_equal(qk_stats_parse_day(periods[p][1], &q.to_day), 0);
        /* today known in every other period (the trend's weeks run to it) */
        if (p % 2 == 0)
            assert_int_equal(qk_stats_parse_day("2026-03-25", &q.today), 0);
        for (int subject = 0; subject < QK_STATS_COUNT; subject++)
            for (size_t b = 0; b < 2; b++)
                for (int lang = 0; lang < 2; lang++) {
                    q.subject = (qk_stats_subject)subject;
                    qk_lang l = lang ? QK_LANG_EN : QK_LANG_ZH;
                    json_t *pg = NULL, *lite = NULL;
                    char msg[512];
                    if (qk_store_stats(g->store, branches[b], &q, l, &pg, msg, sizeof msg) != QK_OK)
                        fail_msg("stats %s on PostgreSQL: %s", qk_stats_subject_name(q.subject), msg);
                    if (qk_store_stats(g->twin, branches[b], &q, l, &lite, msg, sizeof msg) != QK_OK)
                        fail_msg("stats %s on SQLite: %s", qk_stats_subject_name(q.subject), msg);
                    if (!json_equal(pg, lite)) {
                        json_t *pr = json_object_get(pg, "rows"), *lr = json_object_get(lite, "rows");
                        size_t i = 0;
                        while (json_equal(json_array_get(pr, i), json_array_get(lr, i)))
                            i++;
                        char *a = json_dumps(json_array_get(pr, i), JSON_COMPACT | JSON_ENCODE_ANY);
                        char *c = json_dumps(json_array_get(lr, i), JSON_COMPACT | JSON_ENCODE_ANY);
                        print_message("seed %" PRIu64 ": stats %s %s..%s branch %s, row %zu:\n"
                                      "  PostgreSQL %s\n  SQLite     %s\n",
                                      g->seed, qk_stats_subject_name(q.subject), periods[p][0], periods[p][1],
                                      branches[b] ? branches[b] : "(all)", i, a ? a : "(none)", c ? c : "(none)");
                        fail_msg("the statistics differ on PostgreSQL and SQLite");
                    }
                    size_t rows = json_array_size(json_object_get(lite, "rows"));
                    member_rows += p == 0 && q.subject == QK_STATS_MEMBERS ? rows : 0;
                    question_rows += p == 0 && q.subject == QK_STATS_QUESTIONS ? rows : 0;
                    json_decref(pg);
                    json_decref(lite);
                    compared++;
                }
    }
    /* what they agree on is not nothing: the whole roster, and questions answered */
    assert_int_equal(member_rows, 2 * (MEMBERS + MEMBERS / 2));
    assert_true(question_rows > 8);
    return compared;
}

static void the_server_scores_every_attempt_as_the_device_did(void **state)
{
    (void)state;
    gen g;
    gen_open(&g);
    for (int i = 0; i < ATTEMPTS; i++) {
        tick(&g, 1000 + pick(&g, 20 * 60 * 1000)); /* until the next one sits down */
        if (pick(&g, 12) == 0)
            sync_now(&g);
        one_attempt(&g);
    }
    sync_now(&g);
    if (g.twin) {
        print_message("rescore property: %d tables of statistics the same on PostgreSQL and SQLite\n",
                      same_statistics(&g));
        qk_store_close(g.twin);
        g.twin = NULL;
    }
    qk_store_close(g.store);
    g.store = NULL;
    g.db = qkt_store_snapshot(g.spec, g.dir);
    print_message("rescore property: the store was %s\n", strncmp(g.spec, "sqlite:", 7) == 0 ? "SQLite" : "PostgreSQL");

    size_t per_kind[K_COUNT] = {0}, expired = 0, unfinished = 0;
    size_t finished = check_every_finish(&g, per_kind, &expired);
    for (size_t i = 0; i < g.n_atts; i++) {
        if (g.atts[i].finished == 1)
            fail_msg("seed %" PRIu64 ": attempt #%zu finished without a finish event", g.seed,
                     g.atts[i].n);
        unfinished += g.atts[i].finished == 0;
    }
    print_message("rescore property: %zu attempts, %zu finished (expired %zu), %zu unfinished;"
                  " %zu batches, %zu re-scored, %zu mismatches, %zu unscored\n",
                  g.n_atts, finished, expired, unfinished, g.saw.batches, g.rescored, g.mismatches,
                  g.unscored);
    for (int k = 0; k < K_COUNT; k++)
        print_message("  %-9s %zu finished\n", kind_names[k], per_kind[k]);
    print_message("  resumes %zu (past midnight %zu, batch cut %zu), expired %zu, late %zu, "
                  "at the limit %zu, refused %zu, partial %zu, exam time-outs %zu, left %zu\n",
                  g.saw.resumes, g.saw.midnight_resumes, g.saw.split, g.saw.expired, g.saw.late,
                  g.saw.at_limit, g.saw.refused, g.saw.partial, g.saw.exam_timeouts, g.saw.left);
    assert_int_equal(g.mismatches, 0);
    assert_int_equal(g.unscored, 0);
    assert_int_equal(g.rescored, finished);
    int judged = check_points(&g);
    print_message("  points of %d members judged batch by batch = one replay of their history\n", judged);
    assert_true(judged >= MEMBERS / 2);
    for (int k = 0; k < K_COUNT; k++) {
        if (per_kind[k] < MIN_PER_KIND)
            fail_msg("seed %" PRIu64 ": %zu finished %s attempts, fewer than %d", g.seed,
                     per_kind[k], kind_names[k], MIN_PER_KIND);
    }
    assert_true(g.saw.resumes > 0 && g.saw.midnight_resumes > 0 && g.saw.split > 0);
    assert_true(g.saw.expired > 0 && g.saw.late > 0 && g.saw.at_limit > 0);
    assert_true(g.saw.refused > 0 && g.saw.partial > 0 && g.saw.exam_timeouts > 0);
    assert_true(expired > 0 && unfinished > 0);
    gen_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_server_scores_every_attempt_as_the_device_did),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
