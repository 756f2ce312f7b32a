/* aiken_source.c: the Aiken format (simple multiple choice).
 *
 *     中国共产党第一次全国代表大会在哪一年召开？
 *     A. 1919年
 *     B. 1921年
 *     ANSWER: B
 *
 * A question is its text line(s), option lines "A." or "A)", and the line
 * "ANSWER: letter"; blank lines between questions are optional. Full-width
 * letters and punctuation are read as their ASCII forms, and "答案：" works
 * like "ANSWER:". Only single choice exists in Aiken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

/* Option letter of a line ("A. text", "A) text", "Ａ．text"), or -1. */
static int option_letter(const char *norm, const char **text)
{
    if (norm[0] >= 'A' && norm[0] < 'A' + QK_MAX_OPTIONS && (norm[1] == '.' || norm[1] == ')')) {
        const char *t = norm + 2;
        while (*t == ' ' || *t == '\t')
            t++;
        *text = t;
        return norm[0] - 'A';
    }
    return -1;
}

/* The answer of an "ANSWER: B" / "答案: B" line, or NULL. */
static const char *answer_of(const char *norm)
{
    static const char *const keys[] = {"ANSWER:", "Answer:", "answer:", "答案:", "正确答案:"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t n = strlen(keys[i]);
        if (strncmp(norm, keys[i], n) == 0) {
            const char *a = norm + n;
            while (*a == ' ' || *a == '\t')
                a++;
            return a;
        }
    }
    return NULL;
}

/* Skips leading blanks, then n UTF-8 characters (the option letter and its
 * '.' or ')', in either width), then blanks: the option text as written. */
static const char *after_label(const char *raw, int n)
{
    while (*raw == ' ' || *raw == '\t')
        raw++;
    for (int i = 0; i < n && *raw; i++) {
        raw++;
        while ((*raw & 0xc0) == 0x80)
            raw++;
    }
    while (*raw == ' ' || *raw == '\t')
        raw++;
    return raw;
}

static char *trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return qk__dupn(s, n);
}

typedef struct pending {
    char *stem;
    char *options[QK_MAX_OPTIONS];
    size_t n_options;
    int line;
    int broken; /* a bad line was reported; skip to the ANSWER line */
} pending;

static void reset(pending *q)
{
    free(q->stem);
    for (size_t i = 0; i < q->n_options; i++)
        free(q->options[i]);
    memset(q, 0, sizeof *q);
}

/* Memory ran out reading line: said, and the question it belongs to is not
 * taken (nothing quietly left out of it). */
static void lost(qk__src *s, pending *q, int line)
{
    qk__oom(s, line);
    q->broken = 1;
}

static void emit(qk__src *s, pending *p, const char *answer)
{
    qk_question *q = calloc(1, sizeof *q);
    if (!q) {
        qk__oom(s, p->line);
        return;
    }
    q->stem = p->stem;
    p->stem = NULL;
    q->id = qk__made_id(s, "a-", q->stem);
    q->theme = qk__dup(s->default_theme ? s->default_theme : "");
    q->type = QK_Q_SINGLE;
    q->points = 1;
    q->shuffle = 1;
    q->options = calloc(QK_MAX_OPTIONS, sizeof *q->options);
    for (size_t i = 0; q->options && i < p->n_options; i++) {
        q->options[i].text = p->options[i];
        p->options[i] = NULL;
        q->n_options = i + 1;
    }
    if (q->options)
        p->n_options = 0; /* moved; else the caller's reset frees them */
    qk__label(s, q->stem);
    if (!q->id || !q->theme || !q->options) {
        qk__oom(s, p->line);
        qk_question_free(q);
    } else if (q->n_options < 2) {
        qk__qdiag(s, QK_DIAG_ERROR, p->line, q->id, QK_C_AIKEN_FEW);
        qk_question_free(q);
    } else {
        qk__finish(s, q, answer, p->line);
    }
    qk__label(s, NULL);
}

void qk__import_aiken(qk__src *s)
{
    const char *p = s->text, *end = s->text + s->len;
    int line = 0;
    pending q;
    memset(&q, 0, sizeof q);
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\n')
            eol++;
        line++;
        char *raw = qk__dupn(p, (size_t)(eol - p));
        p = eol < end ? eol + 1 : end;
        char *norm = NULL;
        if (!raw || qk_text_nfkc(&norm, raw, strlen(raw)) != QK_OK) {
            free(raw);
            lost(s, &q, line);
            continue;
        }
        /* trim */
        char *t = norm;
        while (*t == ' ' || *t == '\t')
            t++;
        size_t n = strlen(t);
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r'))
            t[--n] = '\0';
        const char *otext = NULL; /* position in the normalised line; unused for text */
        int letter;
        const char *answer;
        /* The empty branches are the lines skipped, each named for why. */
        if (n == 0) {
            /* blank lines separate nothing in particular, but they end a
             * question reported broken: what follows is the next one, never
             * lost to a skip that waits for an ANSWER line */
            if (q.broken)
                reset(&q);
        } else if ((answer = answer_of(t)) != NULL) {
            if (!q.stem && !q.broken)
                qk__diag(s, QK_DIAG_ERROR, line, 0, QK_C_AIKEN_OPTION);
            else if (!q.broken)
                emit(s, &q, answer);
            reset(&q);
        } else if (q.broken && option_letter(t, &otext) >= 0) {
            /* the broken question's other options */
        } else if (q.broken) {
            /* text after a broken question's options: the next question */
            reset(&q);
            q.stem = trimmed(raw);
            q.line = line;
            if (!q.stem)
                lost(s, &q, line);
        } else if (q.stem && (letter = option_letter(t, &otext)) >= 0) {
            if ((size_t)letter != q.n_options) {
                qk__diag(s, QK_DIAG_ERROR, line, 0, QK_C_AIKEN_ORDER, (int)('A' + q.n_options),
                         (int)('A' + letter));
                q.broken = 1;
            } else {
                if ((q.options[q.n_options] = trimmed(after_label(raw, 2))) != NULL)
                    q.n_options++;
                else
                    lost(s, &q, line);
            }
        } else if (!q.stem) {
            q.stem = trimmed(raw); /* as written: NFKC would turn ， into , */
            q.line = line;
            if (!q.stem)
                lost(s, &q, line);
        } else if (q.n_options == 0) {
            /* a stem running over several lines */
            char *more = trimmed(raw);
            size_t len = strlen(q.stem) + (more ? strlen(more) : 0) + 2;
            char *joined = more ? malloc(len) : NULL;
            if (joined) {
                snprintf(joined, len, "%s\n%s", q.stem, more);
                free(q.stem);
                q.stem = joined;
            } else {
                lost(s, &q, line);
            }
            free(more);
        } else {
            /* Text after the options: most likely the next question, begun
             * before this one had its ANSWER line. */
            qk__diag(s, QK_DIAG_ERROR, q.line, 0, QK_C_AIKEN_NO_ANSWER);
            reset(&q);
            q.stem = trimmed(raw);
            q.line = line;
            if (!q.stem)
                lost(s, &q, line);
        }
        free(norm);
        free(raw);
    }
    if (q.stem && !q.broken)
        qk__diag(s, QK_DIAG_ERROR, q.line, 0, QK_C_AIKEN_NO_ANSWER);
    reset(&q);
}
