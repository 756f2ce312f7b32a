/* lesson.c: walking a lesson's graph of steps, with every step, choice and
 * answer recorded as an event so that a run resumes where it was left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct lchoice {
    char *text, *target;
    int delta;
    int has_min, min_score, has_max, max_score;
} lchoice;

typedef struct lstep {
    char *id;
    qk_step_type type;
    char *body;
    char *next;
    int score;
    qk_question *q;
    char *given, *right; /* the last answer and the right one, as shown */
    size_t n_choices;
    lchoice ch[QK_LESSON_MAX_CHOICES];
} lstep;

struct qk_lesson {
    qk_engine *e;
    qk_bundle *b;
    qk_lang lang;
    qk__err err;
    char *member;
    char run[QK_UUID_STRLEN + 1];
    char *id, *completion, *scoring;
    lstep *steps;
    size_t n;
    size_t cur;
    int score;
    int finished, completed;
    unsigned char *seen, *right;
    size_t offered[QK_LESSON_MAX_CHOICES];
    size_t n_offered;
    size_t identity[QK_MAX_OPTIONS];
};

static const char *const step_names[] = {NULL, "page", "question", "choice", "end"};

const char *qk_step_type_name(qk_step_type t)
{
    return t >= QK_STEP_PAGE && t <= QK_STEP_END ? step_names[t] : "?";
}

static qk_step_type step_type_parse(const char *s)
{
    for (int t = QK_STEP_PAGE; s && t <= QK_STEP_END; t++) {
        if (strcmp(s, step_names[t]) == 0)
            return (qk_step_type)t;
    }
    return (qk_step_type)0;
}

void qk_lesson_info_free(qk_lesson_info *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].id);
        free(v[i].theme);
        free(v[i].title);
        free(v[i].kind);
        free(v[i].completion);
        free(v[i].scoring);
    }
    free(v);
}

static char *col(sqlite3_stmt *st, int c)
{
    const unsigned char *t = sqlite3_column_text(st, c);
    return t ? qk__strdup((const char *)t) : NULL;
}

int qk_bundle_lessons(qk_bundle *b, qk_lesson_info **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(qk__bundle_db(b),
                           "SELECT id, theme, title, kind, completion, scoring, minutes FROM lessons"
                           " ORDER BY sort, id",
                           -1, &st, NULL) != SQLITE_OK)
        return QK_ECORRUPT;
    qk_lesson_info *v = NULL;
    size_t len = 0;
    int status = QK_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        qk_lesson_info *nv = realloc(v, (len + 1) * sizeof *nv);
        if (!nv) {
            status = QK_ENOMEM;
            break;
        }
        v = nv;
        qk_lesson_info *l = &v[len++];
        l->id = col(st, 0);
        l->theme = col(st, 1);
        l->title = col(st, 2);
        l->kind = col(st, 3);
        l->completion = col(st, 4);
        l->scoring = col(st, 5);
        l->minutes = sqlite3_column_int(st, 6);
        if (!l->id || !l->theme || !l->title || !l->kind || !l->completion || !l->scoring) {
            status = QK_ENOMEM;
            break;
        }
    }
    if (status == QK_OK && step != SQLITE_DONE)
        status = QK_ECORRUPT; /* a damaged bundle: not a shorter list */
    sqlite3_finalize(st);
    if (status != QK_OK) {
        qk_lesson_info_free(v, len);
        return status;
    }
    *out = v;
    *n = len;
    return QK_OK;
}

const char *qk_lesson_errmsg(const qk_lesson *l)
{
    return l ? l->err.msg : "out of memory";
}

static int bad(qk_lesson *l, const char *why)
{
    return qk__errf(&l->err, l->lang, QK_ECORRUPT, QK_M_L_BAD, l->id ? l->id : "?", why);
}

static size_t find_step(const qk_lesson *l, const char *id)
{
    for (size_t i = 0; id && i < l->n; i++) {
        if (strcmp(l->steps[i].id, id) == 0)
            return i;
    }
    return l->n;
}

/* Loads the lesson's steps and choices; the graph was checked when built. */
static int load(qk_lesson *l, const char *lesson_id, char **start)
{
    sqlite3 *db = qk__bundle_db(l->b);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT completion, scoring, start FROM lessons WHERE id = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return bad(l, sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, lesson_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return qk__errf(&l->err, l->lang, QK_ENOTFOUND, QK_M_L_NOTFOUND, lesson_id);
    }
    l->completion = col(st, 0);
    l->scoring = col(st, 1);
    *start = col(st, 2);
    sqlite3_finalize(st);
    if (!l->completion || !l->scoring || !*start)
        return qk__errf(&l->err, l->lang, QK_ENOMEM, QK_M_OOM);
    if (sqlite3_prepare_v2(db,
                           "SELECT step_id, type, body, next, score, question_id FROM lesson_steps"
                           " WHERE lesson_id = ? ORDER BY sort",
                           -1, &st, NULL) != SQLITE_OK)
        return bad(l, sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, lesson_id, -1, SQLITE_STATIC);
    int status = QK_OK;
    while (status == QK_OK && sqlite3_step(st) == SQLITE_ROW) {
        lstep *nv = realloc(l->steps, (l->n + 1) * sizeof *nv);
        if (!nv) {
            status = QK_ENOMEM;
            break;
        }
        l->steps = nv;
        lstep *sp = &l->steps[l->n++];
        memset(sp, 0, sizeof *sp);
        sp->id = col(st, 0);
        sp->type = step_type_parse((const char *)sqlite3_column_text(st, 1));
        sp->body = col(st, 2);
        sp->next = col(st, 3);
        sp->score = sqlite3_column_int(st, 4);
        const char *qid = (const char *)sqlite3_column_text(st, 5);
        if (!sp->id || !sp->body || !sp->type)
            status = bad(l, "step");
        else if (sp->type == QK_STEP_QUESTION && (!qid || qk_bundle_question(l->b, qid, &sp->q) != QK_OK))
            status = bad(l, sp->id);
    }
    sqlite3_finalize(st);
    if (status != QK_OK)
        return status;
    if (sqlite3_prepare_v2(db,
                           "SELECT step_id, text, target, delta, min_score, max_score"
                           " FROM lesson_choices WHERE lesson_id = ? ORDER BY step_id, idx",
                           -1, &st, NULL) != SQLITE_OK)
        return bad(l, sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, lesson_id, -1, SQLITE_STATIC);
    while (status == QK_OK && sqlite3_step(st) == SQLITE_ROW) {
        size_t i = find_step(l, (const char *)sqlite3_column_text(st, 0));
        if (i == l->n || l->steps[i].n_choices == QK_LESSON_MAX_CHOICES) {
            status = bad(l, "choice");
            break;
        }
        lchoice *c = &l->steps[i].ch[l->steps[i].n_choices++];
        c->text = col(st, 1);
        c->target = col(st, 2);
        c->delta = sqlite3_column_int(st, 3);
        c->has_min = sqlite3_column_type(st, 4) != SQLITE_NULL;
        c->min_score = sqlite3_column_int(st, 4);
        c->has_max = sqlite3_column_type(st, 5) != SQLITE_NULL;
        c->max_score = sqlite3_column_int(st, 5);
        if (!c->text || !c->target || find_step(l, c->target) == l->n)
            status = bad(l, "choice target");
    }
    sqlite3_finalize(st);
    if (status == QK_OK && (l->n == 0 || find_step(l, *start) == l->n))
        status = bad(l, "start");
    l->seen = calloc(l->n ? l->n : 1, 1);
    l->right = calloc(l->n ? l->n : 1, 1);
    if (status == QK_OK && (!l->seen || !l->right))
        status = qk__errf(&l->err, l->lang, QK_ENOMEM, QK_M_OOM);
    return status;
}

static int append(qk_lesson *l, const char *kind, const char *payload)
{
    const qk_bundle_info *info = qk_bundle_info_get(l->b);
    qk__event ev = {.member_id = l->member,
                    .bundle_id = info->id,
                    .bundle_version = info->version,
                    .kind = kind,
                    .attempt_id = l->run,
                    .payload = payload};
    int status = qk__event_append(l->e, &ev, NULL);
    if (status != QK_OK)
        snprintf(l->err.msg, sizeof l->err.msg, "%s", qk_engine_errmsg(l->e));
    return status;
}

/* Appends {"lesson":..., "step":... <extra>} as an event of kind. */
static int append_step_event(qk_lesson *l, const char *kind, const char *step, const char *extra)
{
    qk__buf p = {0};
    qk__buf_str(&p, "{\"lesson\":");
    qk__buf_json_str(&p, l->id);
    if (step) {
        qk__buf_str(&p, ",\"step\":");
        qk__buf_json_str(&p, step);
    }
    qk__buf_str(&p, extra ? extra : "");
    qk__buf_str(&p, "}");
    char *payload = qk__buf_take(&p);
    if (!payload)
        return qk__errf(&l->err, l->lang, QK_ENOMEM, QK_M_OOM);
    int status = append(l, kind, payload);
    free(payload);
    return status;
}

static int all_marked(const qk_lesson *l, qk_step_type t, const unsigned char *marks)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->steps[i].type == t && !marks[i])
            return 0;
    }
    return 1;
}

static void judge_completion(qk_lesson *l)
{
    if (strcmp(l->completion, "pages") == 0)
        l->completed = all_marked(l, QK_STEP_PAGE, l->seen);
    else if (strcmp(l->completion, "checkpoints") == 0)
        l->completed = all_marked(l, QK_STEP_QUESTION, l->right);
    else
        l->completed = l->finished;
}

/* Moves to step i and records it; an end step also finishes the run. */
static int enter(qk_lesson *l, size_t i, int record)
{
    l->cur = i;
    l->seen[i] = 1;
    int status = record ? append_step_event(l, "lesson.step", l->steps[i].id, NULL) : QK_OK;
    if (status != QK_OK || l->steps[i].type != QK_STEP_END || l->finished)
        return status;
    l->finished = 1;
    if (strcmp(l->scoring, "end") == 0)
        l->score = l->steps[i].score;
    else if (strcmp(l->scoring, "none") == 0)
        l->score = 0;
    judge_completion(l);
    if (!record)
        return QK_OK;
    char extra[96];
    snprintf(extra, sizeof extra, ",\"score\":%d,\"completed\":%s", l->score,
             l->completed ? "true" : "false");
    status = append_step_event(l, "lesson.finish", l->steps[i].id, extra);
    /* A completed lesson earns points once (per lesson, not per run). */
    if (status == QK_OK && l->completed) {
        status = qk_points_award(l->e, l->b, l->member, QK_ACT_LESSON, 1, l->id, NULL);
        if (status != QK_OK)
            snprintf(l->err.msg, sizeof l->err.msg, "%s", qk_engine_errmsg(l->e));
    }
    return status;
}

/* Replays a run's events: where it stands, its score, what was seen and right. */
static int replay(qk_lesson *l)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->e->db,
                           "SELECT kind, json_extract(payload, '$.step'), json_extract(payload, '$.delta'),"
                           " json_extract(payload, '$.correct') FROM events WHERE attempt_id = ?"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(l->e, sqlite3_extended_errcode(l->e->db), "lesson");
    sqlite3_bind_text(st, 1, l->run, -1, SQLITE_STATIC);
    int status = QK_OK;
    while (status == QK_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        size_t i = find_step(l, (const char *)sqlite3_column_text(st, 1));
        if (!kind || strcmp(kind, "lesson.start") == 0 || strcmp(kind, "lesson.finish") == 0)
            continue;
        if (i == l->n) {
            status = bad(l, "record");
        } else if (strcmp(kind, "lesson.step") == 0) {
            status = enter(l, i, 0);
        } else if (strcmp(kind, "lesson.choice") == 0) {
            if (strcmp(l->scoring, "path") == 0)
                l->score += sqlite3_column_int(st, 2);
        } else if (strcmp(kind, "lesson.answer") == 0 && sqlite3_column_int(st, 3)) {
            l->right[i] = 1;
            if (strcmp(l->scoring, "path") == 0 && l->steps[i].q)
                l->score += l->steps[i].q->points;
        }
    }
    sqlite3_finalize(st);
    return status;
}

int qk_lesson_open(qk_lesson **out, qk_engine *e, qk_bundle *b, const char *member_id,
                   const char *lesson_id, int resume)
{
    qk_lesson *l = calloc(1, sizeof *l);
    *out = l;
    if (!l)
        return QK_ENOMEM;
    l->e = e;
    l->b = b;
    l->lang = qk_engine_lang(e);
    for (size_t i = 0; i < QK_MAX_OPTIONS; i++)
        l->identity[i] = i;
    l->id = qk__strdup(lesson_id);
    if (!l->id || (member_id && !(l->member = qk__strdup(member_id))))
        return qk__errf(&l->err, l->lang, QK_ENOMEM, QK_M_OOM);
    char *start = NULL;
    int status = load(l, lesson_id, &start);
    if (status == QK_OK && resume) {
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(e->db,
                           "SELECT s.attempt_id FROM events s WHERE s.kind = 'lesson.start'"
                           " AND s.member_id IS ? AND json_extract(s.payload, '$.lesson') = ?"
                           " AND NOT EXISTS (SELECT 1 FROM events f WHERE f.attempt_id = s.attempt_id"
                           " AND f.kind = 'lesson.finish') ORDER BY s.created_ms DESC, s.seq DESC"
                           " LIMIT 1",
                           -1, &st, NULL);
        if (member_id)
            sqlite3_bind_text(st, 1, member_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, lesson_id, -1, SQLITE_STATIC);
        const unsigned char *run = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
        if (run && strlen((const char *)run) == QK_UUID_STRLEN)
            memcpy(l->run, run, QK_UUID_STRLEN + 1);
        sqlite3_finalize(st);
        if (!l->run[0])
            status = qk__errf(&l->err, l->lang, QK_ENOTFOUND, QK_M_L_NONE, lesson_id);
        else
            status = replay(l);
    } else if (status == QK_OK) {
        status = qk__engine_uuid(e, l->run);
        if (status == QK_OK)
            status = append_step_event(l, "lesson.start", NULL, NULL);
        if (status == QK_OK)
            status = enter(l, find_step(l, start), 1);
    }
    free(start);
    return status;
}

static int score_allows(const qk_lesson *l, const lchoice *c)
{
    return (!c->has_min || l->score >= c->min_score) && (!c->has_max || l->score < c->max_score);
}

int qk_lesson_current(qk_lesson *l, qk_lesson_view *out)
{
    memset(out, 0, sizeof *out);
    const lstep *sp = &l->steps[l->cur];
    out->step_id = sp->id;
    out->type = sp->type;
    out->body = sp->body;
    out->score = l->score;
    out->finished = l->finished;
    out->completed = l->completed;
    l->n_offered = 0;
    for (size_t c = 0; c < sp->n_choices; c++) {
        if (score_allows(l, &sp->ch[c])) {
            l->offered[l->n_offered] = c;
            out->choice_text[l->n_offered++] = sp->ch[c].text;
        }
    }
    out->n_choices = l->n_offered;
    if (sp->q) {
        out->question = sp->q;
        out->perm = l->identity;
        for (size_t d = 0; d < sp->q->n_options; d++)
            out->option_text[d] = sp->q->options[d].text;
    }
    return QK_OK;
}

static int state_error(qk_lesson *l)
{
    return qk__errf(&l->err, l->lang, QK_ESTATE, QK_M_L_STATE);
}

int qk_lesson_continue(qk_lesson *l)
{
    const lstep *sp = &l->steps[l->cur];
    if (l->finished || sp->type != QK_STEP_PAGE)
        return state_error(l);
    return enter(l, find_step(l, sp->next), 1);
}

int qk_lesson_choose(qk_lesson *l, size_t i)
{
    const lstep *sp = &l->steps[l->cur];
    if (l->finished || sp->type != QK_STEP_CHOICE)
        return state_error(l);
    qk_lesson_view v;
    qk_lesson_current(l, &v); /* which choices are offered now */
    if (i >= l->n_offered)
        return qk__errf(&l->err, l->lang, QK_EINVAL, QK_M_L_CHOICE, i + 1);
    const lchoice *c = &sp->ch[l->offered[i]];
    char extra[160];
    snprintf(extra, sizeof extra, ",\"choice\":%zu,\"delta\":%d", l->offered[i], c->delta);
    int status = append_step_event(l, "lesson.choice", sp->id, extra);
    if (status != QK_OK)
        return status;
    if (strcmp(l->scoring, "path") == 0)
        l->score += c->delta;
    return enter(l, find_step(l, c->target), 1);
}

int qk_lesson_answer(qk_lesson *l, const char *input, qk_feedback *fb, qk_answer_problem *problem)
{
    lstep *sp = &l->steps[l->cur];
    if (l->finished || sp->type != QK_STEP_QUESTION || !sp->q)
        return state_error(l);
    qk_response r;
    int status = qk_response_parse(&r, sp->q, NULL, input, problem);
    if (status != QK_OK)
        return qk__errf(&l->err, l->lang, status, QK_M_S_BADANS);
    qk_centi score, max;
    int correct;
    qk_response_score(sp->q, &r, &score, &max, &correct);
    char *canon = NULL;
    qk_response_canonical(&canon, sp->q, &r);
    qk__buf p = {0};
    qk__buf_str(&p, ",\"q\":");
    qk__buf_json_str(&p, sp->q->id);
    qk__buf_str(&p, ",\"response\":");
    qk__buf_json_str(&p, canon ? canon : "");
    qk__buf_fmt(&p, ",\"correct\":%s", correct ? "true" : "false");
    char *extra = qk__buf_take(&p);
    status = extra ? append_step_event(l, "lesson.answer", sp->id, extra)
                   : qk__errf(&l->err, l->lang, QK_ENOMEM, QK_M_OOM);
    free(extra);
    free(canon);
    if (status == QK_OK) {
        if (correct) {
            l->right[l->cur] = 1;
            if (strcmp(l->scoring, "path") == 0)
                l->score += sp->q->points;
        }
        free(sp->given);
        sp->given = NULL;
        /* Lesson options are never shuffled: the question's letters are the ones shown. */
        qk_response_show(&sp->given, sp->q, NULL, &r, l->lang, QK_SHOW_LETTERS | QK_SHOW_TEXT);
        if (!sp->right)
            qk_question_answer_show(&sp->right, sp->q, NULL, l->lang,
                                    QK_SHOW_LETTERS | QK_SHOW_TEXT);
        if (fb) {
            memset(fb, 0, sizeof *fb);
            fb->correct = correct;
            fb->score = score;
            fb->max = max;
            fb->reveal = 1;
            fb->given = sp->given;
            fb->right = sp->right;
            fb->explanation = sp->q->explanation;
        }
        status = enter(l, find_step(l, sp->next), 1);
    }
    qk_response_clear(&r);
    return status;
}

void qk_lesson_free(qk_lesson *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        lstep *sp = &l->steps[i];
        free(sp->id);
        free(sp->body);
        free(sp->next);
        qk_question_free(sp->q);
        free(sp->given);
        free(sp->right);
        for (size_t c = 0; c < sp->n_choices; c++) {
            free(sp->ch[c].text);
            free(sp->ch[c].target);
        }
    }
    free(l->steps);
    free(l->seen);
    free(l->right);
    free(l->member);
    free(l->id);
    free(l->completion);
    free(l->scoring);
    free(l);
}
