/* Tests for engine/src/lesson.c on the sample lessons: every path of the
 * scenario walked with its score, completion rules, resume, points. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/src/internal.h" /* qk__bundle_theme_run */
#include "support.h"

typedef struct fx {
    char *dir;
    qk_engine *e;
    qk_bundle *b;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = qkt_tmpdir();
    char *out = qkt_path(f->dir, "samples.qkb"), *pp = qkt_path(f->dir, "progress.db");
    qk_build_opts o = QK_BUILD_OPTS_INIT;
    qk_build_stats st;
    assert_int_equal(qk_content_build(QKT_SOURCE_DIR "/content/samples", out, &o, &st), QK_OK);
    assert_int_equal(st.n_lessons, 3);
    assert_int_equal(qk_bundle_open(&f->b, out, QK_BUNDLE_VERIFY, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_engine_open(&f->e, pp, QK_LANG_EN), QK_OK);
    assert_int_equal(qk_member_add(f->e, "m1", "张三", "", "1234"), QK_OK);
    free(out);
    free(pp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    qk_engine_close(f->e);
    qk_bundle_close(f->b);
    qkt_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Answers a checkpoint right (right = 1) or wrong, by its own key. */
static void checkpoint(qk_lesson *l, const qk_lesson_view *v, int right)
{
    const qk_question *q = v->question;
    char buf[16] = "";
    if (q->type == QK_Q_JUDGE) {
        snprintf(buf, sizeof buf, "%s", (q->judge_answer != 0) == right ? "T" : "F");
    } else {
        size_t n = 0;
        for (size_t i = 0; i < q->n_options; i++) {
            if (q->options[i].correct == right)
                buf[n++] = (char)('A' + i);
            if (!right && n)
                break;
        }
        buf[n] = '\0';
    }
    qk_feedback fb;
    assert_int_equal(qk_lesson_answer(l, buf, &fb, NULL), QK_OK);
    assert_int_equal(fb.correct, right);
}

/* Walks a lesson taking the given choices (1-based) in turn; pages go on,
 * checkpoints are answered right. Returns the final score. */
static int walk(fx *f, const char *id, const char *member, const int *choices, size_t n,
                int *completed)
{
    qk_lesson *l = NULL;
    assert_int_equal(qk_lesson_open(&l, f->e, f->b, member, id, 0), QK_OK);
    size_t next = 0;
    qk_lesson_view v;
    for (int guard = 0; guard < 100; guard++) {
        qk_lesson_current(l, &v);
        if (v.type == QK_STEP_END)
            break;
        if (v.type == QK_STEP_PAGE)
            assert_int_equal(qk_lesson_continue(l), QK_OK);
        else if (v.type == QK_STEP_QUESTION)
            checkpoint(l, &v, 1);
        else {
            assert_true(next < n);
            assert_int_equal(qk_lesson_choose(l, (size_t)choices[next++] - 1), QK_OK);
        }
    }
    assert_int_equal(v.type, QK_STEP_END);
    assert_true(v.finished);
    assert_int_equal(next, n); /* every planned choice was made */
    *completed = v.completed;
    qk_lesson_free(l);
    return v.score;
}

static void every_path_of_the_scenario_scores_as_designed(void **state)
{
    fx *f = *state;
    static const struct {
        int choices[4];
        size_t n;
        int score;
    } paths[] = {
        {{1, 1}, 2, 2 + 2 + 2},               /* assess, call, checkpoint (2 points) */
        {{2, 1}, 2, -1 + 2 + 2},              /* blood pressure only, then call */
        {{3, 1}, 2, -2 + 2 + 2},              /* sent to the queue, then call */
        {{1, 2, 1}, 3, 2 - 1 + 2 + 2},        /* assess, family drives (a wrong turn), call */
        {{2, 3, 1}, 3, -1 - 2 + 2 + 2},       /* below zero, "give water" is offered: 3rd */
        {{3, 2, 3, 1}, 4, -2 - 1 - 2 + 2 + 2}, /* every wrong turn, then the right one */
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int completed = 0;
        int score = walk(f, "lesson-duty-scenario", NULL, paths[i].choices, paths[i].n, &completed);
        assert_int_equal(score, paths[i].score);
        assert_true(completed); /* completion: an end reached */
    }
}

static void choices_depend_on_the_score(void **state)
{
    fx *f = *state;
    qk_lesson *l = NULL;
    qk_lesson_view v;
    assert_int_equal(qk_lesson_open(&l, f->e, f->b, NULL, "lesson-duty-scenario", 0), QK_OK);
    assert_int_equal(qk_lesson_continue(l), QK_OK);
    assert_int_equal(qk_lesson_choose(l, 0), QK_OK); /* assess: +2 */
    assert_int_equal(qk_lesson_continue(l), QK_OK);
    qk_lesson_current(l, &v);
    assert_int_equal(v.type, QK_STEP_CHOICE);
    assert_int_equal(v.n_choices, 2); /* "give water" only below zero */
    assert_int_equal(qk_lesson_choose(l, 2), QK_EINVAL);
    assert_int_equal(qk_lesson_continue(l), QK_ESTATE); /* not a page */
    qk_lesson_free(l);
}

static void story_completes_when_every_page_is_seen(void **state)
{
    fx *f = *state;
    int completed = 0;
    assert_int_equal(walk(f, "lesson-leifeng-story", "m1", NULL, 0, &completed), 0);
    assert_true(completed);
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.today[QK_ACT_LESSON], 2);
    /* The same lesson again earns nothing more. */
    walk(f, "lesson-leifeng-story", "m1", NULL, 0, &completed);
    assert_int_equal(qk_points_summary_get(f->e, f->b, "m1", &p), QK_OK);
    assert_int_equal(p.today[QK_ACT_LESSON], 2);
    /* and recomputing from the raw events (as the server does) agrees */
    char *db = qkt_path(f->dir, "progress.db");
    int64_t total = -1;
    char msg[256];
    assert_int_equal(qk_points_recompute(db, f->b, "m1", &total, msg, sizeof msg), QK_OK);
    assert_int_equal(total, p.total);
    free(db);
}

static void theory_needs_every_checkpoint_right(void **state)
{
    fx *f = *state;
    qk_lesson *l = NULL;
    qk_lesson_view v;
    assert_int_equal(qk_lesson_open(&l, f->e, f->b, NULL, "lesson-sanhui-theory", 0), QK_OK);
    int wrong_once = 1;
    for (int guard = 0; guard < 20; guard++) {
        qk_lesson_current(l, &v);
        if (v.type == QK_STEP_END)
            break;
        if (v.type == QK_STEP_PAGE)
            qk_lesson_continue(l);
        else if (v.type == QK_STEP_QUESTION) {
            checkpoint(l, &v, !wrong_once);
            wrong_once = 0;
        }
    }
    assert_true(v.finished);
    assert_false(v.completed);
    assert_int_equal(v.score, 2); /* path scoring: the two right checkpoints, 1 point each */
    qk_lesson_free(l);
    int completed = 0;
    assert_int_equal(walk(f, "lesson-sanhui-theory", NULL, NULL, 0, &completed), 3);
    assert_true(completed);
}

static void a_lesson_resumes_where_it_was_left(void **state)
{
    fx *f = *state;
    qk_lesson *l = NULL;
    qk_lesson_view v;
    assert_int_equal(qk_lesson_open(&l, f->e, f->b, "m1", "lesson-duty-scenario", 0), QK_OK);
    assert_int_equal(qk_lesson_continue(l), QK_OK);
    assert_int_equal(qk_lesson_choose(l, 1), QK_OK); /* blood pressure only: -1 */
    qk_lesson_free(l);                               /* like a kill: nothing more written */
    assert_int_equal(qk_lesson_open(&l, f->e, f->b, NULL, "lesson-duty-scenario", 1), QK_ENOTFOUND);
    qk_lesson_free(l);
    assert_int_equal(qk_lesson_open(&l, f->e, f->b, "m1", "lesson-duty-scenario", 1), QK_OK);
    qk_lesson_current(l, &v);
    assert_string_equal(v.step_id, "pressure");
    assert_int_equal(v.score, -1);
    assert_int_equal(qk_lesson_continue(l), QK_OK);
    qk_lesson_current(l, &v);
    assert_int_equal(v.n_choices, 3); /* below zero: the third choice is offered */
    qk_lesson_free(l);
    assert_int_equal(qk_lesson_open(&l, f->e, f->b, "m1", "no-such-lesson", 0), QK_ENOTFOUND);
    qk_lesson_free(l);
}

static void checkpoint_questions_stay_out_of_quizzes(void **state)
{
    fx *f = *state;
    char **ids = NULL;
    size_t n = 0;
    assert_int_equal(qk_bundle_question_ids(f->b, NULL, &ids, &n), QK_OK);
    assert_int_equal(n, 200);
    for (size_t i = 0; i < n; i++)
        assert_null(strstr(ids[i], "lesson-"));
    qk_strv_free(ids, n);
}

#define CHECKPOINTS "(SELECT question_id FROM lesson_steps WHERE question_id IS NOT NULL)"

/* A copy of the samples at name changed by the statement sql; its path.
 * Opened without verification (the digests change). */
static char *renumbered(fx *f, const char *name, const char *sql)
{
    char *from = qkt_path(f->dir, "samples.qkb"), *to = qkt_path(f->dir, name);
    size_t len = 0;
    char *bytes = qkt_read(from, &len);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(bytes, 1, len, out), len);
    fclose(out);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(to, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_true(sqlite3_changes(db) > 0);
    sqlite3_close(db);
    free(bytes);
    free(from);
    return to;
}

/* A device finds a draw's few questions by their sort in the theme index
 * (the builder numbers each theme's questions on from one sort), or, in a
 * bundle numbered otherwise, by stepping through the index; a server's
 * judge reads the theme's whole list once and picks from it. All three must
 * give the same questions for every seed, count and theme, checkpoint
 * questions left out (the samples have some). */
static void draws_from_the_index_and_from_the_list_agree(void **state)
{
    fx *f = *state;
    /* the builder's numbering, sorts with gaps, and sorts two alike (in the
     * order of their ids then): each opened as a device and as a judge */
    char *paths[] = {
        qkt_path(f->dir, "samples.qkb"),
        renumbered(f, "gaps.qkb", "UPDATE questions SET sort = sort * 3 + 7 WHERE id NOT IN " CHECKPOINTS),
        renumbered(f, "ties.qkb", "UPDATE questions SET sort = sort / 2 WHERE id NOT IN " CHECKPOINTS),
        /* the builder's, but each checkpoint question on its theme's first
         * quiz question's number, and named to come before it: still drawn
         * by number, never drawn */
        renumbered(f, "cp.qkb",
                   "UPDATE questions SET sort = (SELECT min(q.sort) FROM questions q WHERE q.theme ="
                   " questions.theme AND q.id NOT IN " CHECKPOINTS ") WHERE id IN " CHECKPOINTS ";"
                   "UPDATE questions SET id = '0-' || id WHERE id IN " CHECKPOINTS ";"
                   "UPDATE options SET question_id = '0-' || question_id WHERE question_id IN " CHECKPOINTS ";"
                   "UPDATE blanks SET question_id = '0-' || question_id WHERE question_id IN " CHECKPOINTS ";"
                   "UPDATE tags SET question_id = '0-' || question_id WHERE question_id IN " CHECKPOINTS ";"
                   "UPDATE lesson_steps SET question_id = '0-' || question_id WHERE question_id IS NOT NULL")};
    enum { N = sizeof paths / sizeof paths[0] };
    qk_bundle *devices[N], *judges[N];
    for (size_t d = 0; d < N; d++) {
        assert_int_equal(qk_bundle_open(&devices[d], paths[d], 0, QK_LANG_EN), QK_OK);
        assert_int_equal(qk_bundle_open(&judges[d], paths[d], 0, QK_LANG_EN), QK_OK);
        qk_bundle_keep_questions(judges[d]);
    }
    const qk_bundle_info *in = qk_bundle_info_get(f->b);
    for (size_t t = 0; t < in->n_themes; t++) {
        const char *theme = qk_bundle_theme(f->b, t)->id;
        int64_t first = -1;
        assert_int_equal(qk__bundle_theme_run(devices[0], theme, &first), 1);
        assert_true(first >= 0);
        assert_int_equal(qk__bundle_theme_run(devices[1], theme, &first), 0);
        assert_int_equal(qk__bundle_theme_run(devices[2], theme, &first), 0);
        assert_int_equal(qk__bundle_theme_run(devices[3], theme, &first), 1);
        for (size_t d = 1; d < N; d++)
            assert_int_equal(qk_bundle_theme(devices[d], t)->n_questions,
                             qk_bundle_theme(f->b, t)->n_questions);
    }
    const size_t counts[] = {1, 10, 64, 65, 0};
    size_t draws = 0;
    for (size_t d = 0; d < N; d++) {
        for (size_t t = 0; t <= in->n_themes; t++) {
            const char *theme = t < in->n_themes ? qk_bundle_theme(f->b, t)->id : NULL;
            for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
                for (uint64_t seed = 1; seed <= 6; seed++) {
                    qk_session_spec spec = QK_SESSION_SPEC_INIT;
                    spec.theme = theme;
                    spec.count = counts[c];
                    spec.has_seed = 1;
                    spec.seed = seed * 7919 + c;
                    qk_session *a = NULL, *b = NULL;
                    assert_int_equal(qk_session_start(&a, f->e, devices[d], NULL, &spec), QK_OK);
                    assert_int_equal(qk_session_start(&b, f->e, judges[d], NULL, &spec), QK_OK);
                    qk_item x, y;
                    size_t i = 0;
                    for (; qk_session_review(a, i, &x, NULL) == QK_OK; i++) {
                        assert_int_equal(qk_session_review(b, i, &y, NULL), QK_OK);
                        assert_string_equal(x.q->id, y.q->id);
                        assert_null(strstr(x.q->id, "lesson-"));
                    }
                    assert_int_not_equal(qk_session_review(b, i, &y, NULL), QK_OK);
                    size_t in_theme = theme ? qk_bundle_theme(f->b, t)->n_questions : in->n_questions;
                    assert_int_equal(i, counts[c] && counts[c] < in_theme ? counts[c] : in_theme);
                    qk_session_free(a);
                    qk_session_free(b);
                    draws++;
                }
            }
        }
    }
    assert_true(draws >= 240);
    for (size_t d = 0; d < N; d++) {
        qk_bundle_close(devices[d]);
        qk_bundle_close(judges[d]);
        free(paths[d]);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(every_path_of_the_scenario_scores_as_designed),
        T(choices_depend_on_the_score),
        T(story_completes_when_every_page_is_seen),
        T(theory_needs_every_checkpoint_right),
        T(a_lesson_resumes_where_it_was_left),
        T(checkpoint_questions_stay_out_of_quizzes),
        T(draws_from_the_index_and_from_the_list_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
