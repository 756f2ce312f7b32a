/* quizkit/lesson.h: interactive lessons (党课): story pages, checkpoint
 * questions and branching choices, walked step by step.
 *
 * A lesson is a graph of steps. Pages lead to one next step; a checkpoint
 * question is answered and then leads on; a choice step offers options that
 * lead to different steps (loops allowed), some only within a score range; an
 * end step closes the run with its feedback. Scoring is none, the end step's
 * score ("end"), or the sum of choice deltas and right checkpoints along the
 * path ("path"), the way H5P's Branching Scenario counts.
 *
 * Every step shown, choice made and answer given is an event, so a run
 * resumes where it was left, and completion (an end reached, every page seen,
 * or every checkpoint right) is derived from them. */
#ifndef QUIZKIT_LESSON_H
#define QUIZKIT_LESSON_H

#include "bundle.h"
#include "engine.h"
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QK_LESSON_MAX_CHOICES 8

typedef enum qk_step_type {
    QK_STEP_PAGE = 1,
    QK_STEP_QUESTION = 2,
    QK_STEP_CHOICE = 3,
    QK_STEP_END = 4
} qk_step_type;

const char *qk_step_type_name(qk_step_type t); /* "page", "question", "choice", "end" */

/* --- writing (the authoring tools build these from Markdown) --- */
typedef struct qk_lesson_choice_src {
    const char *text;
    const char *target;
    int delta;                /* score change when chosen */
    int has_min, min_score;   /* offered only when score >= min_score */
    int has_max, max_score;   /* offered only when score < max_score */
} qk_lesson_choice_src;

typedef struct qk_lesson_step_src {
    const char *id;
    qk_step_type type;
    const char *body;         /* Markdown */
    const char *next;         /* page and question steps */
    int score;                /* end steps: their score */
    const qk_question *question; /* question steps; its id is "<lesson>.<step>" */
    size_t n_choices;
    const qk_lesson_choice_src *choices;
} qk_lesson_step_src;

typedef struct qk_lesson_src {
    const char *id, *theme, *title;
    const char *kind;       /* "story", "scenario", "theory" */
    const char *completion; /* "end", "pages", "checkpoints" */
    const char *scoring;    /* "none", "end", "path" */
    int minutes;
    size_t n_steps;         /* the first step is where the lesson starts */
    const qk_lesson_step_src *steps;
} qk_lesson_src;

/* Adds a lesson (graph checks are the caller's: the authoring tools report
 * them with file and line). QK_EEXISTS for a duplicate id. */
int qk_bundle_writer_lesson(qk_bundle_writer *w, const qk_lesson_src *l);

/* --- reading and walking --- */
typedef struct qk_lesson_info {
    char *id, *theme, *title, *kind, *completion, *scoring;
    int minutes;
} qk_lesson_info;

int qk_bundle_lessons(qk_bundle *b, qk_lesson_info **out, size_t *n);
void qk_lesson_info_free(qk_lesson_info *v, size_t n);

typedef struct qk_lesson qk_lesson;

typedef struct qk_lesson_view {
    const char *step_id;
    qk_step_type type;
    const char *body;
    size_t n_choices; /* choices offered now (score conditions applied) */
    const char *choice_text[QK_LESSON_MAX_CHOICES];
    const qk_question *question;
    const size_t *perm;
    const char *option_text[QK_MAX_OPTIONS];
    int score;        /* so far */
    int finished;     /* an end step was reached */
    int completed;    /* the completion rule holds */
} qk_lesson_view;

/* Starts a new run of the lesson, or (resume) continues the member's latest
 * unfinished run of it: QK_ENOTFOUND when there is none. *out is set even on
 * failure (see errmsg). member_id NULL: a guest. */
int qk_lesson_open(qk_lesson **out, qk_engine *e, qk_bundle *b, const char *member_id,
                   const char *lesson_id, int resume);
const char *qk_lesson_errmsg(const qk_lesson *l);
/* The current step. */
int qk_lesson_current(qk_lesson *l, qk_lesson_view *out);
/* Page: go on to its next step. */
int qk_lesson_continue(qk_lesson *l);
/* Choice: take offered choice i (0-based, in the view's order). */
int qk_lesson_choose(qk_lesson *l, size_t i);
/* Question: answer it (as in qk_session_answer), then go on. QK_EINVAL for an
 * answer that cannot be read; nothing is recorded then. */
int qk_lesson_answer(qk_lesson *l, const char *input, qk_feedback *fb, qk_answer_problem *problem);
void qk_lesson_free(qk_lesson *l);

#ifdef __cplusplus
}
#endif

#endif
