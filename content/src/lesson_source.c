/* lesson_source.c: interactive lessons written as Markdown (docs/authoring.md).
 *
 *     ---
 *     id: lf-story
 *     title: 一颗永不生锈的螺丝钉
 *     theme: leifeng
 *     kind: story            (story | scenario | theory)
 *     minutes: 6
 *     completion: end        (end | pages | checkpoints)
 *     scoring: none          (none | end | path)
 *     ---
 *     ## start                          a page: Markdown text, then -> next
 *     ## q1 {question single points=1}  stem, "- [x] option", "= answer", "> explanation"
 *     ## c1 {choice}                    "* [score>=2] text -> step +1"
 *     ## good {end score=10}            feedback
 *
 * The graph is checked here so that every problem has its line: targets that
 * do not exist, pages without a next step, no end, steps that cannot be
 * reached, and loops from which no end can be reached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "lesson_source.h"

typedef struct ref {
    size_t step;  /* step holding the reference */
    int line;
    const char *target; /* points into a step's next or a choice's target */
} ref;

static char *trim_dup(const char *a, const char *b)
{
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
        b--;
    return qk__dupn(a, (size_t)(b - a));
}

static void append_line(char **text, const char *a, const char *b)
{
    char *line = trim_dup(a, b);
    if (!line)
        return;
    size_t old = *text ? strlen(*text) : 0, n = strlen(line);
    char *t = realloc(*text, old + n + 2);
    if (t) {
        if (old)
            t[old++] = '\n';
        memcpy(t + old, line, n + 1);
        *text = t;
    }
    free(line);
}

void qk__lesson_free(qk__lesson *l)
{
    for (size_t i = 0; i < l->n_steps; i++) {
        qk__lstep *s = &l->steps[i];
        free(s->id);
        free(s->body);
        free(s->next);
        free(s->answer);
        free(s->explanation);
        free(s->qtype);
        for (size_t k = 0; k < s->n_options; k++)
            free(s->options[k]);
        for (size_t c = 0; c < s->n_choices; c++) {
            free(s->choices[c].text);
            free(s->choices[c].target);
        }
        qk_question_free(s->question);
    }
    free(l->steps);
    free(l->id);
    free(l->title);
    free(l->theme);
    free(l->kind);
    free(l->completion);
    free(l->scoring);
    memset(l, 0, sizeof *l);
}

static int one_of(const char *v, const char *const *set)
{
    for (; *set; set++) {
        if (strcmp(v, *set) == 0)
            return 1;
    }
    return 0;
}

/* "score>=3" / "score<3" in a choice's [..] */
static int parse_cond(const char *c, qk__lchoice *ch)
{
    char *f = NULL;
    if (qk_text_nfkc(&f, c, strlen(c)) != QK_OK)
        return 0;
    char compact[64];
    size_t n = 0;
    for (const char *p = f; *p && n < sizeof compact - 1; p++) {
        if (*p != ' ')
            compact[n++] = *p;
    }
    compact[n] = '\0';
    free(f);
    int ok = 0;
    char *end = NULL;
    if (strncmp(compact, "score>=", 7) == 0) {
        long v = strtol(compact + 7, &end, 10);
        ok = end && !*end && end != compact + 7;
        ch->has_min = 1;
        ch->min_score = (int)v;
    } else if (strncmp(compact, "score<", 6) == 0) {
        long v = strtol(compact + 6, &end, 10);
        ok = end && !*end && end != compact + 6;
        ch->has_max = 1;
        ch->max_score = (int)v;
    }
    return ok;
}

/* "* [cond] text -> target +2" */
static int parse_choice(qk__src *src, qk__lstep *st, const char *a, const char *b, int line)
{
    if (st->n_choices == QK_LESSON_MAX_CHOICES) {
        qk__diag(src, QK_DIAG_ERROR, line, 0, QK_C_L_TOO_MANY, st->id);
        return 0;
    }
    qk__lchoice *ch = &st->choices[st->n_choices];
    memset(ch, 0, sizeof *ch);
    ch->line = line;
    const char *p = a;
    while (p < b && *p == ' ')
        p++;
    if (p < b && *p == '[') {
        const char *close = memchr(p, ']', (size_t)(b - p));
        char *cond = close ? qk__dupn(p + 1, (size_t)(close - p - 1)) : NULL;
        int ok = cond && parse_cond(cond, ch);
        free(cond);
        if (!ok) {
            qk__diag(src, QK_DIAG_ERROR, line, 0, QK_C_L_LINE, "choice");
            return 0;
        }
        p = close + 1;
    }
    const char *arrow = NULL;
    for (const char *q = p; q + 1 < b; q++) {
        if (q[0] == '-' && q[1] == '>')
            arrow = q;
    }
    if (!arrow) {
        qk__diag(src, QK_DIAG_ERROR, line, 0, QK_C_L_NO_NEXT, st->id);
        return 0;
    }
    ch->text = trim_dup(p, arrow);
    /* target, then an optional +N / -N */
    const char *t = arrow + 2;
    while (t < b && *t == ' ')
        t++;
    const char *te = t;
    while (te < b && *te != ' ' && *te != '\t' && *te != '\r')
        te++;
    ch->target = qk__dupn(t, (size_t)(te - t));
    const char *d = te;
    while (d < b && (*d == ' ' || *d == '\t'))
        d++;
    if (d < b && (*d == '+' || *d == '-')) {
        char num[16];
        size_t n = (size_t)(b - d) < sizeof num - 1 ? (size_t)(b - d) : sizeof num - 1;
        memcpy(num, d, n);
        num[n] = '\0';
        ch->delta = (int)strtol(num, NULL, 10);
    }
    st->n_choices++;
    return ch->text && ch->target;
}

/* "{question single points=2}", "{end score=5}", "{choice}" */
static void parse_header(qk__src *src, qk__lstep *st, const char *spec, int line)
{
    char *copy = qk__dup(spec);
    char *save = NULL;
    st->type = QK_STEP_PAGE;
    for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w; w = strtok_r(NULL, " \t", &save)) {
        if (strcmp(w, "page") == 0)
            st->type = QK_STEP_PAGE;
        else if (strcmp(w, "question") == 0)
            st->type = QK_STEP_QUESTION;
        else if (strcmp(w, "choice") == 0)
            st->type = QK_STEP_CHOICE;
        else if (strcmp(w, "end") == 0)
            st->type = QK_STEP_END;
        else if (strncmp(w, "score=", 6) == 0)
            st->score = (int)strtol(w + 6, NULL, 10);
        else if (strncmp(w, "points=", 7) == 0)
            st->points = (int)strtol(w + 7, NULL, 10);
        else if (st->type == QK_STEP_QUESTION && !st->qtype)
            st->qtype = qk__dup(w);
        else
            qk__diag(src, QK_DIAG_ERROR, line, 0, QK_C_L_STEP_TYPE, st->id, w);
    }
    free(copy);
}

static size_t find(const qk__lesson *l, const char *id)
{
    for (size_t i = 0; id && i < l->n_steps; i++) {
        if (strcmp(l->steps[i].id, id) == 0)
            return i;
    }
    return l->n_steps;
}

/* The graph checks: targets, next steps, an end, reachability, no traps. */
static void check_graph(qk__src *src, qk__lesson *l)
{
    size_t n = l->n_steps;
    int ends = 0;
    for (size_t i = 0; i < n; i++) {
        qk__lstep *s = &l->steps[i];
        for (size_t k = 0; k < i; k++) {
            if (strcmp(l->steps[k].id, s->id) == 0)
                qk__diag(src, QK_DIAG_ERROR, s->line, 0, QK_C_L_DUP, s->id);
        }
        ends += s->type == QK_STEP_END;
        if ((s->type == QK_STEP_PAGE || s->type == QK_STEP_QUESTION) && !s->next)
            qk__diag(src, QK_DIAG_ERROR, s->line, 0, QK_C_L_NO_NEXT, s->id);
        if (s->next && find(l, s->next) == n)
            qk__diag(src, QK_DIAG_ERROR, s->next_line, 0, QK_C_L_TARGET, s->id, s->next);
        if (s->type == QK_STEP_CHOICE && s->n_choices == 0)
            qk__diag(src, QK_DIAG_ERROR, s->line, 0, QK_C_L_NO_CHOICES, s->id);
        for (size_t c = 0; c < s->n_choices; c++) {
            if (find(l, s->choices[c].target) == n)
                qk__diag(src, QK_DIAG_ERROR, s->choices[c].line, 0, QK_C_L_TARGET, s->id,
                         s->choices[c].target);
        }
    }
    if (!ends) {
        qk__diag(src, QK_DIAG_ERROR, 1, 0, QK_C_L_NO_END);
        return;
    }
    /* Forward from the start: what can be reached. Backward from the ends:
     * what can still finish. O(steps x edges), small for lessons. */
    unsigned char *reach = calloc(n, 1), *done = calloc(n, 1);
    if (!reach || !done) {
        free(reach);
        free(done);
        return;
    }
    reach[0] = 1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (!reach[i])
                continue;
            qk__lstep *s = &l->steps[i];
            size_t t = find(l, s->next);
            if (t < n && !reach[t])
                reach[t] = changed = 1;
            for (size_t c = 0; c < s->n_choices; c++) {
                t = find(l, s->choices[c].target);
                if (t < n && !reach[t])
                    reach[t] = changed = 1;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        done[i] = l->steps[i].type == QK_STEP_END;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            qk__lstep *s = &l->steps[i];
            size_t t = find(l, s->next);
            int ok = t < n && done[t];
            for (size_t c = 0; c < s->n_choices && !ok; c++) {
                t = find(l, s->choices[c].target);
                ok = t < n && done[t];
            }
            if (ok)
                done[i] = changed = 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!reach[i])
            qk__diag(src, QK_DIAG_ERROR, l->steps[i].line, 0, QK_C_L_UNREACHABLE, l->steps[i].id);
        else if (!done[i])
            qk__diag(src, QK_DIAG_ERROR, l->steps[i].line, 0, QK_C_L_TRAP, l->steps[i].id);
    }
    free(reach);
    free(done);
}

/* Checkpoint steps become questions "<lesson>.<step>" (theme set by the caller). */
static void make_questions(qk__src *src, qk__lesson *l)
{
    for (size_t i = 0; i < l->n_steps; i++) {
        qk__lstep *s = &l->steps[i];
        if (s->type != QK_STEP_QUESTION)
            continue;
        qk_question *q = calloc(1, sizeof *q);
        if (!q)
            return;
        size_t n = strlen(l->id) + strlen(s->id) + 2;
        q->id = malloc(n);
        if (q->id)
            snprintf(q->id, n, "%s.%s", l->id, s->id);
        q->type = qk__type_from_name(s->qtype ? s->qtype : "single");
        q->stem = qk__dup(s->body ? s->body : "");
        q->explanation = qk__dup(s->explanation);
        q->theme = qk__dup("");
        q->points = s->points > 0 ? s->points : 1;
        q->options = calloc(QK_MAX_OPTIONS, sizeof *q->options);
        for (size_t k = 0; q->options && k < s->n_options && k < QK_MAX_OPTIONS; k++) {
            q->options[k].text = qk__dup(s->options[k]);
            q->options[k].correct = s->option_right[k];
            q->n_options = k + 1;
        }
        if (!q->type) {
            qk__qdiag(src, QK_DIAG_ERROR, s->line, q->id, QK_C_Q_TYPE, s->qtype ? s->qtype : "");
            qk_question_free(q);
            continue;
        }
        int ok = 1;
        if (q->type == QK_Q_JUDGE || q->type == QK_Q_FILL) {
            /* the key comes from the "= answer" line, read like a spreadsheet cell */
            if (!s->answer) {
                qk__qdiag(src, QK_DIAG_ERROR, s->line, q->id, QK_C_EMPTY_ANSWER);
                ok = 0;
            } else if (q->type == QK_Q_JUDGE) {
                ok = qk__choice_key(src, q, s->answer, s->line);
            } else {
                ok = qk__fill_key(src, q, s->answer, s->line);
            }
        }
        char why[256];
        if (ok && qk_question_check(q, src->lang, why, sizeof why) != QK_OK) {
            qk__qdiag(src, QK_DIAG_ERROR, s->line, q->id, QK_C_BUILD, why);
            ok = 0;
        }
        if (ok)
            s->question = q;
        else
            qk_question_free(q);
    }
}

int qk__parse_lesson(qk__src *src, const char *default_id, qk__lesson *l)
{
    memset(l, 0, sizeof *l);
    const char *p = src->text, *end = src->text + src->len;
    int line = 0, in_front = 0, front_done = 0;
    qk__lstep *cur = NULL;
    size_t cap = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        line++;
        const char *a = p, *b = eol;
        p = eol < end ? eol + 1 : end;
        while (b > a && (b[-1] == '\r' || b[-1] == ' ' || b[-1] == '\t'))
            b--;
        size_t len = (size_t)(b - a);
        if (!front_done) {
            if (!in_front) {
                if (len == 0)
                    continue;
                if (len == 3 && memcmp(a, "---", 3) == 0) {
                    in_front = 1;
                    continue;
                }
                qk__diag(src, QK_DIAG_ERROR, line, 0, QK_C_L_FRONT);
                return -1;
            }
            if (len == 3 && memcmp(a, "---", 3) == 0) {
                front_done = 1;
                continue;
            }
            const char *colon = memchr(a, ':', len);
            if (!colon)
                continue;
            char *key = trim_dup(a, colon), *val = trim_dup(colon + 1, b);
            char **slot = !key ? NULL
                          : strcmp(key, "id") == 0 ? &l->id
                          : strcmp(key, "title") == 0 ? &l->title
                          : strcmp(key, "theme") == 0 ? &l->theme
                          : strcmp(key, "kind") == 0 ? &l->kind
                          : strcmp(key, "completion") == 0 ? &l->completion
                          : strcmp(key, "scoring") == 0 ? &l->scoring
                                                         : NULL;
            if (slot) {
                free(*slot);
                *slot = val;
                val = NULL;
            } else if (key && strcmp(key, "minutes") == 0 && val) {
                l->minutes = (int)strtol(val, NULL, 10);
            } else if (key) {
                qk__diag(src, QK_DIAG_WARNING, line, 0, QK_C_UNKNOWN_FIELD, key);
            }
            free(key);
            free(val);
            continue;
        }
        if (len >= 3 && memcmp(a, "## ", 3) == 0) {
            if (l->n_steps == cap) {
                cap = cap ? cap * 2 : 16;
                qk__lstep *nv = realloc(l->steps, cap * sizeof *nv);
                if (!nv)
                    return -1;
                l->steps = nv;
            }
            cur = &l->steps[l->n_steps++];
            memset(cur, 0, sizeof *cur);
            cur->line = line;
            const char *brace = memchr(a, '{', len);
            const char *close = brace ? memchr(brace, '}', (size_t)(b - brace)) : NULL;
            cur->id = trim_dup(a + 3, brace ? brace : b);
            if (brace && close) {
                char *spec = qk__dupn(brace + 1, (size_t)(close - brace - 1));
                if (spec)
                    parse_header(src, cur, spec, line);
                free(spec);
            } else {
                cur->type = QK_STEP_PAGE;
            }
            continue;
        }
        if (!cur) {
            if (len > 0 && a[0] != '#')
                qk__diag(src, QK_DIAG_WARNING, line, 0, QK_C_L_OUTSIDE);
            continue;
        }
        if (len >= 2 && a[0] == '-' && a[1] == '>') {
            if (cur->type == QK_STEP_CHOICE || cur->type == QK_STEP_END) {
                qk__diag(src, QK_DIAG_ERROR, line, 0, QK_C_L_LINE, qk_step_type_name(cur->type));
                continue;
            }
            free(cur->next);
            cur->next = trim_dup(a + 2, b);
            cur->next_line = line;
        } else if (cur->type == QK_STEP_CHOICE && len >= 2 && a[0] == '*' && a[1] == ' ') {
            parse_choice(src, cur, a + 2, b, line);
        } else if (cur->type == QK_STEP_QUESTION && len >= 6 && a[0] == '-' && a[1] == ' ' &&
                   a[2] == '[' && (a[3] == 'x' || a[3] == 'X' || a[3] == ' ') && a[4] == ']') {
            if (cur->n_options < QK_MAX_OPTIONS) {
                cur->option_right[cur->n_options] = a[3] != ' ';
                cur->options[cur->n_options++] = trim_dup(a + 5, b);
            }
        } else if (cur->type == QK_STEP_QUESTION && len >= 1 && a[0] == '=') {
            free(cur->answer);
            cur->answer = trim_dup(a + 1, b);
        } else if (cur->type == QK_STEP_QUESTION && len >= 1 && a[0] == '>') {
            append_line(&cur->explanation, a + 1, b);
        } else {
            if (len == 0 && !cur->body)
                continue;
            append_line(&cur->body, a, b);
        }
    }
    /* trailing blank lines of bodies */
    for (size_t i = 0; i < l->n_steps; i++) {
        char *body = l->steps[i].body;
        size_t n = body ? strlen(body) : 0;
        while (n > 0 && body[n - 1] == '\n')
            body[--n] = '\0';
    }
    if (!front_done) {
        qk__diag(src, QK_DIAG_ERROR, 1, 0, QK_C_L_FRONT);
        return -1;
    }
    if (!l->id)
        l->id = qk__dup(default_id);
    static const char *const kinds[] = {"story", "scenario", "theory", NULL};
    static const char *const completions[] = {"end", "pages", "checkpoints", NULL};
    static const char *const scorings[] = {"none", "end", "path", NULL};
    if (!l->kind)
        l->kind = qk__dup("story");
    if (!l->completion)
        l->completion = qk__dup("end");
    if (!l->scoring)
        l->scoring = qk__dup("none");
    if (!l->title || !l->title[0])
        qk__diag(src, QK_DIAG_ERROR, 1, 0, QK_C_FIELD_MISSING, "title");
    if (!one_of(l->kind, kinds))
        qk__diag(src, QK_DIAG_ERROR, 1, 0, QK_C_L_FIELD, "kind", l->kind);
    if (!one_of(l->completion, completions))
        qk__diag(src, QK_DIAG_ERROR, 1, 0, QK_C_L_FIELD, "completion", l->completion);
    if (!one_of(l->scoring, scorings))
        qk__diag(src, QK_DIAG_ERROR, 1, 0, QK_C_L_FIELD, "scoring", l->scoring);
    if (l->n_steps == 0) {
        qk__diag(src, QK_DIAG_ERROR, 1, 0, QK_C_L_NO_STEPS);
        return -1;
    }
    check_graph(src, l);
    make_questions(src, l);
    return 0;
}
