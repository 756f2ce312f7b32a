/* question.c: question consistency, parsing what a person typed, and scoring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void qk_question_free(qk_question *q)
{
    if (!q)
        return;
    free(q->id);
    free(q->theme);
    free(q->stem);
    free(q->explanation);
    free(q->source);
    for (size_t i = 0; i < q->n_options; i++)
        free(q->options[i].text);
    free(q->options);
    for (size_t i = 0; i < q->n_blanks; i++)
        qk_strv_free(q->blanks[i].accepted, q->blanks[i].n_accepted);
    free(q->blanks);
    qk_strv_free(q->tags, q->n_tags);
    free(q);
}

const char *qk_qtype_name(qk_qtype t)
{
    switch (t) {
    case QK_Q_SINGLE: return "single";
    case QK_Q_MULTI: return "multi";
    case QK_Q_JUDGE: return "judge";
    case QK_Q_FILL: return "fill";
    }
    return NULL;
}

qk_qtype qk_qtype_parse(const char *name)
{
    for (int t = QK_Q_SINGLE; t <= QK_Q_FILL; t++) {
        if (name && strcmp(name, qk_qtype_name((qk_qtype)t)) == 0)
            return (qk_qtype)t;
    }
    return (qk_qtype)0;
}

int qk_id_valid(const char *id, size_t max)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int id_valid(const char *id)
{
    return qk_id_valid(id, 64);
}

static int utf8_ok(const char *s)
{
    return !s || qk_text_valid(s, strlen(s));
}

/* Separators between blanks, before and after NFKC. */
static int has_blank_separator(const char *s)
{
    return strchr(s, '|') || strchr(s, ';') || strstr(s, "\xef\xbc\x9b") /* ； */ ||
           strstr(s, "\xef\xbd\x9c") /* ｜ */;
}

#define CHECK_FAIL(...)                                                                            \
    do {                                                                                           \
        qk__err e_;                                                                                \
        qk__errf(&e_, lang, QK_EINVAL, __VA_ARGS__);                                               \
        snprintf(msg, msglen, "%s", e_.msg);                                                       \
        return QK_EINVAL;                                                                          \
    } while (0)

int qk_question_check(const qk_question *q, qk_lang lang, char *msg, size_t msglen)
{
    if (!id_valid(q->id))
        CHECK_FAIL(QK_M_Q_ID);
    if (!q->stem || !q->stem[0])
        CHECK_FAIL(QK_M_Q_STEM);
    if (!utf8_ok(q->stem) || !utf8_ok(q->explanation) || !utf8_ok(q->source))
        CHECK_FAIL(QK_M_Q_UTF8);
    if (q->points < 1 || q->points > 100)
        CHECK_FAIL(QK_M_Q_POINTS);
    if (q->difficulty < 0 || q->difficulty > 5)
        CHECK_FAIL(QK_M_Q_DIFFICULTY);
    for (size_t i = 0; i < q->n_options; i++) {
        if (!q->options[i].text || !q->options[i].text[0])
            CHECK_FAIL(QK_M_Q_OPTION_EMPTY, (int)('A' + i));
        if (!utf8_ok(q->options[i].text))
            CHECK_FAIL(QK_M_Q_UTF8);
    }
    int n_correct = 0;
    for (size_t i = 0; i < q->n_options; i++)
        n_correct += q->options[i].correct ? 1 : 0;
    switch (q->type) {
    case QK_Q_SINGLE:
    case QK_Q_MULTI:
        if (q->n_options < 2 || q->n_options > QK_MAX_OPTIONS)
            CHECK_FAIL(QK_M_Q_NOPTIONS, q->n_options);
        if (q->type == QK_Q_SINGLE && n_correct != 1)
            CHECK_FAIL(QK_M_Q_SINGLE_ONE, n_correct);
        if (q->type == QK_Q_MULTI && n_correct < 1)
            CHECK_FAIL(QK_M_Q_MULTI_ONE);
        break;
    case QK_Q_JUDGE:
        if (q->n_options != 0)
            CHECK_FAIL(QK_M_Q_JUDGE_OPTS);
        break;
    case QK_Q_FILL:
        if (q->n_blanks < 1 || q->n_blanks > QK_MAX_BLANKS)
            CHECK_FAIL(QK_M_Q_NBLANKS, q->n_blanks);
        for (size_t b = 0; b < q->n_blanks; b++) {
            size_t good = 0;
            for (size_t a = 0; a < q->blanks[b].n_accepted; a++) {
                const char *s = q->blanks[b].accepted[a];
                if (!s || !utf8_ok(s))
                    CHECK_FAIL(QK_M_Q_UTF8);
                if (has_blank_separator(s))
                    CHECK_FAIL(QK_M_Q_BLANK_BAR, b + 1);
                char *f = NULL;
                if (qk_text_fold(&f, s, strlen(s)) == QK_OK && f[0])
                    good++;
                free(f);
            }
            if (good == 0)
                CHECK_FAIL(QK_M_Q_BLANK_EMPTY, b + 1);
        }
        break;
    default:
        CHECK_FAIL(QK_M_Q_TYPE);
    }
    return QK_OK;
}

void qk_response_clear(qk_response *r)
{
    for (size_t i = 0; i < r->n_blanks; i++)
        free(r->blanks[i]);
    memset(r, 0, sizeof *r);
}

static int is_letter_separator(char c)
{
    return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '/' || c == '.';
}

static int parse_choices(qk_response *out, const qk_question *q, const size_t *perm,
                         const char *s, qk_answer_problem *problem)
{
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (is_letter_separator((char)c))
            continue;
        if (strncmp(p, "\xe3\x80\x81", 3) == 0) { /* 、 */
            p += 2;
            continue;
        }
        int pos = -1;
        if (c >= 'A' && c <= 'H')
            pos = c - 'A';
        else if (c >= 'a' && c <= 'h')
            pos = c - 'a';
        if (pos < 0 || (size_t)pos >= q->n_options) {
            *problem = QK_ANS_BAD_LETTER;
            return QK_EINVAL;
        }
        size_t opt = perm ? perm[pos] : (size_t)pos;
        if (!(out->choices & (1u << opt)))
            n++;
        out->choices |= 1u << opt;
    }
    if (n == 0) {
        *problem = QK_ANS_EMPTY;
        return QK_EINVAL;
    }
    if (q->type == QK_Q_SINGLE && n > 1) {
        *problem = QK_ANS_ONE_ONLY;
        return QK_EINVAL;
    }
    return QK_OK;
}

static int parse_judge(qk_response *out, const char *s, qk_answer_problem *problem)
{
    static const char *const yes[] = {"对", "√", "✓", "✔", "t", "true", "正确", "是", "y",
                                      "yes", "right", "o"};
    static const char *const no[] = {"错", "×", "✗", "✘", "x", "f", "false", "错误", "否",
                                     "n", "no", "wrong"};
    char *f = NULL;
    int rc = qk_text_fold(&f, s, strlen(s));
    if (rc != QK_OK)
        return rc;
    int v = -1;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0] && v < 0; i++) {
        if (strcmp(f, yes[i]) == 0)
            v = 1;
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0] && v < 0; i++) {
        if (strcmp(f, no[i]) == 0)
            v = 0;
    }
    int empty = f[0] == '\0';
    free(f);
    if (v < 0) {
        *problem = empty ? QK_ANS_EMPTY : QK_ANS_NOT_JUDGE;
        return QK_EINVAL;
    }
    out->judge = v;
    return QK_OK;
}

static char *trim_dup(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return qk__strndup(s, n);
}

/* Blanks are split on '|' or ';' (full-width ｜ and ； become these under
 * NFKC) when the answer holds one: then spaces, colons and commas belong to
 * the blanks' text. Otherwise on runs of spaces, ':' and ',' (from ： and ，
 * too), as people write "30:2" for "____:____" or "1921 南湖". */
static int is_loose_separator(char c)
{
    return c == ' ' || c == '\t' || c == ':' || c == ',';
}

static int parse_fill(qk_response *out, const qk_question *q, const char *s,
                      qk_answer_problem *problem)
{
    const char *parts[QK_MAX_BLANKS];
    size_t lens[QK_MAX_BLANKS];
    size_t n = 0;
    if (q->n_blanks == 1) {
        parts[0] = s;
        lens[0] = strlen(s);
        n = 1;
    } else if (strchr(s, '|') || strchr(s, ';')) {
        const char *start = s;
        for (const char *p = s;; p++) {
            if (*p == '|' || *p == ';' || *p == '\0') {
                if (n == QK_MAX_BLANKS) {
                    *problem = QK_ANS_BLANK_COUNT;
                    return QK_EINVAL;
                }
                parts[n] = start;
                lens[n] = (size_t)(p - start);
                n++;
                start = p + 1;
                if (*p == '\0')
                    break;
            }
        }
    } else {
        const char *p = s;
        for (;;) {
            while (*p && is_loose_separator(*p))
                p++;
            if (!*p)
                break;
            if (n == QK_MAX_BLANKS) {
                *problem = QK_ANS_BLANK_COUNT;
                return QK_EINVAL;
            }
            parts[n] = p;
            while (*p && !is_loose_separator(*p))
                p++;
            lens[n] = (size_t)(p - parts[n]);
            n++;
        }
    }
    if (n != q->n_blanks) {
        *problem = QK_ANS_BLANK_COUNT;
        return QK_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        out->blanks[i] = trim_dup(parts[i], lens[i]);
        if (!out->blanks[i])
            return QK_ENOMEM;
        out->n_blanks = i + 1;
    }
    return QK_OK;
}

int qk_response_parse(qk_response *out, const qk_question *q, const size_t *perm,
                      const char *input, qk_answer_problem *problem)
{
    qk_answer_problem dummy;
    if (!problem)
        problem = &dummy;
    *problem = QK_ANS_OK;
    memset(out, 0, sizeof *out);
    out->type = q->type;
    size_t len = strlen(input);
    if (len > QK_MAX_ANSWER) {
        *problem = QK_ANS_TOO_LONG;
        return QK_EINVAL;
    }
    if (!qk_text_valid(input, len)) {
        *problem = QK_ANS_BAD_ENCODING;
        return QK_EINVAL;
    }
    char *s = NULL;
    int rc = qk_text_nfkc(&s, input, len);
    if (rc != QK_OK)
        return rc;
    /* Blank input is refused for every type: nothing was answered. */
    char *folded = NULL;
    rc = qk_text_fold(&folded, s, strlen(s));
    int empty = rc == QK_OK && folded[0] == '\0';
    free(folded);
    if (rc == QK_OK && empty) {
        *problem = QK_ANS_EMPTY;
        rc = QK_EINVAL;
    } else if (rc == QK_OK) {
        switch (q->type) {
        case QK_Q_SINGLE:
        case QK_Q_MULTI: rc = parse_choices(out, q, perm, s, problem); break;
        case QK_Q_JUDGE: rc = parse_judge(out, s, problem); break;
        case QK_Q_FILL: rc = parse_fill(out, q, s, problem); break;
        default: rc = QK_EINVAL;
        }
    }
    free(s);
    if (rc != QK_OK)
        qk_response_clear(out);
    out->type = q->type;
    return rc;
}

int qk_response_canonical(char **out, const qk_question *q, const qk_response *r)
{
    qk__buf b = {0};
    switch (q->type) {
    case QK_Q_SINGLE:
    case QK_Q_MULTI:
        for (size_t i = 0; i < q->n_options; i++) {
            if (r->choices & (1u << i)) {
                char c = (char)('A' + i);
                qk__buf_add(&b, &c, 1);
            }
        }
        break;
    case QK_Q_JUDGE: qk__buf_str(&b, r->judge ? "T" : "F"); break;
    case QK_Q_FILL:
        for (size_t i = 0; i < r->n_blanks; i++) {
            if (i)
                qk__buf_add(&b, "|", 1);
            qk__buf_str(&b, r->blanks[i]);
        }
        break;
    }
    *out = qk__buf_take(&b);
    return *out ? QK_OK : QK_ENOMEM;
}

static uint32_t correct_mask(const qk_question *q)
{
    uint32_t m = 0;
    for (size_t i = 0; i < q->n_options; i++) {
        if (q->options[i].correct)
            m |= 1u << i;
    }
    return m;
}

static int popcount(uint32_t v)
{
    int n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

static int blank_right(const qk_blank *b, const char *given)
{
    char *g = NULL;
    if (qk_text_fold(&g, given, strlen(given)) != QK_OK)
        return 0;
    int ok = 0;
    for (size_t i = 0; i < b->n_accepted && !ok && g[0]; i++) {
        char *a = NULL;
        if (qk_text_fold(&a, b->accepted[i], strlen(b->accepted[i])) == QK_OK)
            ok = strcmp(a, g) == 0;
        free(a);
    }
    free(g);
    return ok;
}

void qk_response_score(const qk_question *q, const qk_response *r, qk_centi *score, qk_centi *max,
                       int *correct)
{
    qk_centi full = (qk_centi)q->points * 100;
    qk_centi got = 0;
    int right = 0;
    switch (q->type) {
    case QK_Q_SINGLE:
    case QK_Q_MULTI: {
        uint32_t m = correct_mask(q);
        right = r->choices == m;
        if (right)
            got = full;
        else if (q->type == QK_Q_MULTI && q->scoring == QK_SCORE_PARTIAL && r->choices && m &&
                 (r->choices & ~m) == 0)
            got = full * popcount(r->choices) / popcount(m); /* no wrong option chosen */
        break;
    }
    case QK_Q_JUDGE:
        right = r->judge == q->judge_answer;
        got = right ? full : 0;
        break;
    case QK_Q_FILL: {
        size_t n_right = 0;
        for (size_t i = 0; i < q->n_blanks && i < r->n_blanks; i++)
            n_right += blank_right(&q->blanks[i], r->blanks[i]) ? 1 : 0;
        right = q->n_blanks > 0 && n_right == q->n_blanks && r->n_blanks == q->n_blanks;
        if (right)
            got = full;
        else if (q->scoring == QK_SCORE_PARTIAL && q->n_blanks > 0)
            got = (qk_centi)((int64_t)full * (int64_t)n_right / (int64_t)q->n_blanks);
        break;
    }
    }
    *score = got;
    *max = full;
    *correct = right;
}

/* The options set in mask, in display order, as flags ask (question.h). */
static void add_choices(qk__buf *b, const qk_question *q, const size_t *perm, uint32_t mask,
                        qk_lang lang, int flags)
{
    int first = 1;
    for (size_t d = 0; d < q->n_options; d++) {
        size_t opt = perm ? perm[d] : d;
        if (!(mask & (1u << opt)))
            continue;
        char c = (char)('A' + d);
        if (!(flags & QK_SHOW_TEXT)) {
            qk__buf_add(b, &c, 1);
            continue;
        }
        if (!first)
            qk__buf_str(b, lang == QK_LANG_EN ? "; " : "\xef\xbc\x9b"); /* ； */
        first = 0;
        if (flags & QK_SHOW_LETTERS) {
            qk__buf_add(b, &c, 1);
            qk__buf_str(b, ". ");
        }
        qk__buf_str(b, q->options[opt].text ? q->options[opt].text : "");
    }
}

int qk_response_text(char **out, const qk_question *q, const size_t *perm,
                         const qk_response *r, qk_lang lang)
{
    return qk_response_show(out, q, perm, r, lang, QK_SHOW_LETTERS);
}

int qk_response_show(char **out, const qk_question *q, const size_t *perm, const qk_response *r,
                     qk_lang lang, int flags)
{
    qk__buf b = {0};
    switch (q->type) {
    case QK_Q_SINGLE:
    case QK_Q_MULTI: add_choices(&b, q, perm, r->choices, lang, flags); break;
    case QK_Q_JUDGE: qk__buf_str(&b, qk__msg(lang, r->judge ? QK_M_JUDGE_T : QK_M_JUDGE_F)); break;
    case QK_Q_FILL:
        for (size_t i = 0; i < r->n_blanks; i++) {
            if (i)
                qk__buf_str(&b, " | ");
            qk__buf_str(&b, r->blanks[i]);
        }
        break;
    }
    *out = qk__buf_take(&b);
    return *out ? QK_OK : QK_ENOMEM;
}

int qk_question_answer_text(char **out, const qk_question *q, const size_t *perm, qk_lang lang)
{
    return qk_question_answer_show(out, q, perm, lang, QK_SHOW_LETTERS);
}

int qk_question_answer_show(char **out, const qk_question *q, const size_t *perm, qk_lang lang,
                            int flags)
{
    qk__buf b = {0};
    switch (q->type) {
    case QK_Q_SINGLE:
    case QK_Q_MULTI: add_choices(&b, q, perm, correct_mask(q), lang, flags); break;
    case QK_Q_JUDGE:
        qk__buf_str(&b, qk__msg(lang, q->judge_answer ? QK_M_JUDGE_T : QK_M_JUDGE_F));
        break;
    case QK_Q_FILL:
        for (size_t i = 0; i < q->n_blanks; i++) {
            if (i)
                qk__buf_str(&b, " | ");
            for (size_t a = 0; a < q->blanks[i].n_accepted; a++) {
                if (a)
                    qk__buf_str(&b, " / ");
                qk__buf_str(&b, q->blanks[i].accepted[a]);
            }
        }
        break;
    }
    *out = qk__buf_take(&b);
    return *out ? QK_OK : QK_ENOMEM;
}
