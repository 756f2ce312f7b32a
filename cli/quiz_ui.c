/* quiz_ui.c: showing a question, prompting for its answer and showing the
 * feedback, shared by play, review and lessons. */
#include <string.h>

#include "cli.h"

const char *qtype_label(const cli *c, qk_qtype t)
{
    switch (t) {
    case QK_Q_SINGLE: return M(c, M_TYPE_SINGLE);
    case QK_Q_MULTI: return M(c, M_TYPE_MULTI);
    case QK_Q_JUDGE: return M(c, M_TYPE_JUDGE);
    case QK_Q_FILL: return M(c, M_TYPE_FILL);
    }
    return "";
}

void answer_prompt(cli *c, const qk_question *q)
{
    switch (q->type) {
    case QK_Q_SINGLE: out(c, stdout, M_PROMPT_SINGLE); break;
    case QK_Q_MULTI: out(c, stdout, M_PROMPT_MULTI); break;
    case QK_Q_JUDGE: out(c, stdout, M_PROMPT_JUDGE); break;
    case QK_Q_FILL:
        if (q->n_blanks > 1)
            out(c, stdout, M_PROMPT_FILL_N, q->n_blanks);
        else
            out(c, stdout, M_PROMPT_FILL);
        break;
    }
    fflush(stdout);
}

void explain_problem(cli *c, const qk_question *q, qk_answer_problem p)
{
    switch (p) {
    case QK_ANS_BAD_LETTER: out(c, stdout, M_ANS_BAD_LETTER, (int)('A' + q->n_options - 1)); break;
    case QK_ANS_ONE_ONLY: out(c, stdout, M_ANS_ONE_ONLY); break;
    case QK_ANS_NOT_JUDGE: out(c, stdout, M_ANS_NOT_JUDGE); break;
    case QK_ANS_BLANK_COUNT: out(c, stdout, M_ANS_BLANK_COUNT, q->n_blanks); break;
    case QK_ANS_BAD_ENCODING: out(c, stdout, M_ANS_ENCODING); break;
    case QK_ANS_TOO_LONG: out(c, stdout, M_ANS_TOO_LONG); break;
    default: out(c, stdout, M_ANS_EMPTY); break;
    }
}

void show_feedback(cli *c, const qk_feedback *fb, const qk_question *q)
{
    if (!fb->reveal) {
        out(c, stdout, M_RECORDED);
        return;
    }
    if (fb->timed_out) {
        out(c, stdout, M_Q_TIMEOUT, fb->right);
        if (fb->explanation)
            out(c, stdout, M_EXPLAIN, fb->explanation);
        return;
    }
    char pts[16];
    fmt_points(pts, sizeof pts, fb->score);
    const char *color = fb->correct ? "\x1b[32m" : fb->score > 0 ? "\x1b[33m" : "\x1b[31m";
    if (c->color)
        fputs(color, stdout);
    if (fb->correct)
        out(c, stdout, M_RIGHT, pts);
    else if (fb->score > 0)
        out(c, stdout, M_PARTIAL, pts, fb->right);
    else
        out(c, stdout, M_WRONG, fb->right);
    if (c->color)
        fputs("\x1b[0m", stdout);
    if (fb->explanation)
        out(c, stdout, M_EXPLAIN, fb->explanation);
    if (q->source)
        out(c, stdout, M_SOURCE, q->source);
}


void show_options(const qk_question *q, const char *const *option_text)
{
    for (size_t d = 0; d < q->n_options; d++)
        printf("  %c. %s\n", (int)('A' + d), option_text[d]);
}

const char *mode_label(const cli *c, qk_mode m)
{
    switch (m) {
    case QK_MODE_EXAM: return M(c, M_MODE_EXAM);
    case QK_MODE_DAILY: return M(c, M_MODE_DAILY);
    case QK_MODE_CHALLENGE: return M(c, M_MODE_CHALLENGE);
    case QK_MODE_REVIEW: return M(c, M_MODE_REVIEW);
    case QK_MODE_SRS: return M(c, M_MODE_SRS);
    case QK_MODE_COMPETITION: return M(c, M_MODE_COMPETITION);
    case QK_MODE_LESSON: return M(c, M_MODE_LESSON);
    default: return M(c, M_MODE_PRACTICE);
    }
}
