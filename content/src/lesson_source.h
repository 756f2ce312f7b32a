/* lesson_source.h: a parsed Markdown lesson, before it is written (internal). */
#ifndef QK_LESSON_SOURCE_H
#define QK_LESSON_SOURCE_H

#include "import.h"

typedef struct qk__lchoice {
    char *text, *target;
    int delta;
    int has_min, min_score, has_max, max_score;
    int line;
} qk__lchoice;

typedef struct qk__lstep {
    char *id;
    qk_step_type type;
    int line, next_line;
    char *body, *next;
    int score, points;
    char *qtype, *answer, *explanation;
    char *options[QK_MAX_OPTIONS];
    int option_right[QK_MAX_OPTIONS];
    size_t n_options;
    qk__lchoice choices[QK_LESSON_MAX_CHOICES];
    size_t n_choices;
    qk_question *question; /* built from the above for question steps */
} qk__lstep;

typedef struct qk__lesson {
    char *id, *title, *theme, *kind, *completion, *scoring;
    int minutes;
    qk__lstep *steps;
    size_t n_steps;
} qk__lesson;

/* Parses src's text; problems are reported through src. Returns -1 when the
 * file could not be read as a lesson at all. */
int qk__parse_lesson(qk__src *src, const char *default_id, qk__lesson *l);
void qk__lesson_free(qk__lesson *l);

#endif
