/* gift_source.c: Moodle's GIFT format.
 *
 * Supported: multiple choice (one =right, ~wrong), multiple answers (no =,
 * the right options ~ with equal positive % weights that add up to 100,
 * scored by the share of right options chosen), true/false ({T} {F} {TRUE}
 * {FALSE}), short answer (only = items: a fill-in blank) and missing word
 * (text after the answer block: the blank goes where the block was). General
 * feedback (####...) is the explanation everyone sees; feedback after one
 * answer (#...) is not kept, with a warning (quizkit has one explanation per
 * question). $CATEGORY: sets the theme of the questions that follow; the
 * [plain] / [html] / [moodle] / [markdown] format markers are dropped.
 *
 * The answer key is never changed: what quizkit cannot score as Moodle
 * would (partial credit for one option of a single-choice question, several
 * = answers, unequal weights, a partly right short answer) is refused with
 * its line and why. Matching, numerical and essay questions are reported
 * with their line, never silently dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

typedef struct item {
    char mark; /* '=' or '~' */
    int weight; /* percent, its whole part; 100 for '=', 0 for '~' without a weight */
    double exact; /* percent as written (33.33333) */
    int has_weight;
    char *text;
    char *feedback;
} item;

/* Removes GIFT escapes (\~ \= \# \{ \} \: \\ and \n) and trims. */
static char *unescape(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[++i];
            out[w++] = c == 'n' ? '\n' : c;
        } else {
            out[w++] = s[i];
        }
    }
    out[w] = '\0';
    size_t a = 0;
    while (out[a] == ' ' || out[a] == '\t' || out[a] == '\n' || out[a] == '\r')
        a++;
    while (w > a && (out[w - 1] == ' ' || out[w - 1] == '\t' || out[w - 1] == '\n' || out[w - 1] == '\r'))
        w--;
    memmove(out, out + a, w - a);
    out[w - a] = '\0';
    /* a format marker before the text: [plain] [html] [moodle] [markdown] */
    static const char *const formats[] = {"[plain]", "[html]", "[moodle]", "[markdown]"};
    size_t rest = w - a;
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        size_t len = strlen(formats[f]);
        if (rest >= len && memcmp(out, formats[f], len) == 0) {
            size_t k = len;
            while (k < rest && (out[k] == ' ' || out[k] == '\t' || out[k] == '\n' || out[k] == '\r'))
                k++;
            memmove(out, out + k, rest - k + 1);
            break;
        }
    }
    return out;
}

/* Index of the next unescaped c in s[from..n), or n. */
static size_t find(const char *s, size_t from, size_t n, char c)
{
    for (size_t i = from; i < n; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == c)
            return i;
    }
    return n;
}

static int is_blank_line(const char *p, const char *end)
{
    for (; p < end && *p != '\n'; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return 0;
    }
    return 1;
}

static void free_items(item *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].text);
        free(v[i].feedback);
    }
    free(v);
}

/* Splits the answer block into items at unescaped = and ~. */
static item *parse_items(const char *b, size_t n, size_t *count, char **general, int *oom)
{
    *count = 0;
    *general = NULL;
    for (size_t i = 0; i + 3 < n; i++) {
        if (b[i] == '\\') {
            i++;
            continue;
        }
        if (memcmp(b + i, "####", 4) == 0) {
            *oom |= !(*general = unescape(b + i + 4, n - i - 4));
            n = i;
            break;
        }
    }
    item *v = NULL;
    size_t i = 0;
    while (i < n && b[i] != '=' && b[i] != '~')
        i++;
    while (i < n) {
        char mark = b[i++];
        size_t next = i;
        while (next < n) {
            if (b[next] == '\\') {
                next += 2;
                continue;
            }
            if (b[next] == '=' || b[next] == '~')
                break;
            next++;
        }
        if (next > n)
            next = n;
        item it = {mark, mark == '=' ? 100 : 0, mark == '=' ? 100.0 : 0.0, 0, NULL, NULL};
        size_t a = i;
        while (a < next && (b[a] == ' ' || b[a] == '\t' || b[a] == '\n' || b[a] == '\r'))
            a++;
        if (a < next && b[a] == '%') {
            size_t pct_end = find(b, a + 1, next, '%');
            if (pct_end < next) {
                /* %50% or %-33.33333%: the integer part is enough to tell right
                 * (positive) from wrong (zero or negative) options. */
                size_t k = a + 1;
                int neg = k < pct_end && b[k] == '-';
                if (neg)
                    k++;
                int w = 0;
                while (k < pct_end && b[k] >= '0' && b[k] <= '9' && w < 1000)
                    w = w * 10 + (b[k++] - '0');
                double frac = 0, scale = 0.1;
                if (k < pct_end && b[k] == '.')
                    for (k++; k < pct_end && b[k] >= '0' && b[k] <= '9'; k++, scale /= 10)
                        frac += (b[k] - '0') * scale;
                it.weight = neg ? -w : w;
                it.exact = neg ? -(w + frac) : w + frac;
                it.has_weight = 1;
                a = pct_end + 1;
            }
        }
        size_t hash = find(b, a, next, '#');
        it.text = unescape(b + a, hash - a);
        if (hash < next)
            *oom |= !(it.feedback = unescape(b + hash + 1, next - hash - 1));
        item *nv = it.text ? realloc(v, (*count + 1) * sizeof *nv) : NULL;
        if (!nv) {
            free(it.text);
            free(it.feedback);
            *oom = 1;
            break;
        }
        v = nv;
        v[(*count)++] = it;
        i = next;
    }
    return v;
}

static int word_is(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(words[i]);
        if (strncmp(s, words[i], len) == 0 && (s[len] == '\0' || s[len] == '#' || s[len] == ' '))
            return 1;
    }
    return 0;
}

/* Theme title from "$CATEGORY: top/党史/七一": the last part. */
static char *category_title(const char *line, size_t n)
{
    const char *p = line + strlen("$CATEGORY:");
    const char *end = line + n;
    const char *last = p;
    for (const char *q = p; q < end; q++) {
        if (*q == '/')
            last = q + 1;
    }
    return unescape(last, (size_t)(end - last));
}

static void import_block(qk__src *s, const char *b, size_t n, int line, const char *theme)
{
    size_t i = 0;
    char *title = NULL;
    int oom = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    if (i + 1 < n && b[i] == ':' && b[i + 1] == ':') {
        size_t close = i + 2;
        while (close + 1 < n && !(b[close] == ':' && b[close + 1] == ':' && b[close - 1] != '\\'))
            close++;
        if (close + 1 < n) {
            oom |= !(title = unescape(b + i + 2, close - i - 2));
            i = close + 2;
        }
    }
    /* A [markdown] / [html] / [plain] format marker is dropped. */
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n'))
        i++;
    if (i < n && b[i] == '[') {
        size_t close = find(b, i, n, ']');
        if (close < n && close - i < 12)
            i = close + 1;
    }
    size_t open = find(b, i, n, '{');
    if (open == n) {
        qk__diag(s, QK_DIAG_WARNING, line, 0, QK_C_GIFT_NO_ANSWER);
        free(title);
        return;
    }
    size_t close = find(b, open + 1, n, '}');
    if (close == n) {
        qk__diag(s, QK_DIAG_ERROR, line, 0, QK_C_GIFT_UNCLOSED);
        free(title);
        return;
    }
    char *prefix = unescape(b + i, open - i);
    char *suffix = unescape(b + close + 1, n - close - 1);
    /* Kept escaped: items are split at unescaped = and ~, then unescaped. */
    size_t bs = open + 1, be = close;
    while (bs < be && (b[bs] == ' ' || b[bs] == '\t' || b[bs] == '\n' || b[bs] == '\r'))
        bs++;
    while (be > bs && (b[be - 1] == ' ' || b[be - 1] == '\t' || b[be - 1] == '\n' || b[be - 1] == '\r'))
        be--;
    char *body = qk__dupn(b + bs, be - bs);
    size_t bn = body ? strlen(body) : 0;
    qk_question *q = calloc(1, sizeof *q);
    item *items = NULL;
    size_t count = 0;
    char *general = NULL;
    if (oom || !q || !prefix || !suffix || !body) {
        qk__oom(s, line);
        goto out;
    }
    /* Missing word: the blank goes where the answer block stood. */
    if (suffix[0]) {
        size_t len = strlen(prefix) + strlen(suffix) + 8;
        q->stem = malloc(len);
        if (q->stem)
            snprintf(q->stem, len, "%s____%s", prefix, suffix);
    } else {
        q->stem = qk__dup(prefix[0] ? prefix : title ? title : "");
    }
    q->theme = qk__dup(theme ? theme : s->default_theme ? s->default_theme : "");
    q->points = 1;
    q->shuffle = 1;
    /* Titles that are valid ids keep progress stable across edits; others are hashed. */
    int title_ok = title && title[0] && strlen(title) <= 64;
    for (const char *t = title; title_ok && *t; t++)
        title_ok = (*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
                   *t == '.' || *t == '_' || *t == '-';
    q->id = title_ok ? qk__dup(title) : qk__made_id(s, "g-", q->stem ? q->stem : "");
    if (!q->stem || !q->theme || !q->id) {
        qk__oom(s, line);
        goto out;
    }
    qk__label(s, title_ok ? NULL : q->stem);
    static const char *const yes[] = {"TRUE", "T"};
    static const char *const no[] = {"FALSE", "F"};
    if (bn == 0) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_GIFT_UNSUPPORTED, qk__cmsg_text(s->lang, QK_C_T_ESSAY));
        goto out;
    }
    if (body[0] == '#') {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_GIFT_UNSUPPORTED, qk__cmsg_text(s->lang, QK_C_T_NUMERICAL));
        goto out;
    }
    if (word_is(body, yes, 2) || word_is(body, no, 2)) {
        q->type = QK_Q_JUDGE;
        q->judge_answer = word_is(body, yes, 2);
        /* {F#feedback for a wrong answer#for a right one####general} */
        size_t h = find(body, 0, bn, '#');
        size_t g = bn;
        for (size_t k = 0; k + 3 < bn; k++) {
            if (body[k] == '\\') {
                k++;
                continue;
            }
            if (memcmp(body + k, "####", 4) == 0) {
                g = k;
                break;
            }
        }
        if (g < bn)
            oom |= !(q->explanation = unescape(body + g + 4, bn - g - 4));
        if (h < g) {
            char *fb = unescape(body + h + 1, g - h - 1);
            oom |= !fb;
            if (fb && fb[0] && fb[strspn(fb, "# \t\r\n")])
                qk__qdiag(s, QK_DIAG_WARNING, line, q->id, QK_C_GIFT_FEEDBACK);
            free(fb);
        }
        if (oom) {
            qk__oom(s, line);
            goto out;
        }
        qk__emit(s, q, line);
        q = NULL;
        goto out;
    }
    items = parse_items(body, bn, &count, &general, &oom);
    if (oom) {
        qk__oom(s, line);
        goto out;
    }
    for (size_t k = 0; k < count; k++) {
        if (strstr(items[k].text, "->")) {
            qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_GIFT_UNSUPPORTED,
                      qk__cmsg_text(s->lang, QK_C_T_MATCHING));
            goto out;
        }
    }
    size_t n_tilde = 0, n_right = 0, n_eq = 0;
    int feedback = 0;
    for (size_t k = 0; k < count; k++) {
        n_tilde += items[k].mark == '~';
        n_eq += items[k].mark == '=';
        n_right += items[k].mark == '=' || items[k].exact > 0;
        feedback |= items[k].feedback && items[k].feedback[0];
    }
    /* Partial credit that quizkit cannot give as Moodle does: refused, never
     * scored another way. */
    for (size_t k = 0; k < count; k++) {
        const item *it = &items[k];
        int full = it->exact > 99.9995 && it->exact < 100.0005;
        if (n_tilde == 0 && it->has_weight && !full) {
            qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_GIFT_PARTIAL_FILL, it->text, it->exact);
            goto out;
        }
        if (n_tilde > 0 && n_eq > 0 && it->has_weight && it->exact > 0 && !full) {
            qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_GIFT_PARTIAL, it->text, it->exact);
            goto out;
        }
    }
    if (n_tilde > 0 && n_eq > 1) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_GIFT_MANY_EQ, n_eq);
        goto out;
    }
    if (n_tilde > 0 && n_eq == 0 && n_right > 1) {
        /* multiple answers: the same share for each right option, 100 in all
         * (33.33333 three times, 12.5 eight times) */
        double lo = 1000, hi = 0, sum = 0;
        char list[160] = "";
        for (size_t k = 0; k < count; k++) {
            if (items[k].exact <= 0)
                continue;
            lo = items[k].exact < lo ? items[k].exact : lo;
            hi = items[k].exact > hi ? items[k].exact : hi;
            sum += items[k].exact;
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%g%%", used ? ", " : "", items[k].exact);
        }
        if (hi - lo > 0.01 || sum < 99.9 || sum > 100.01) {
            qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_GIFT_WEIGHTS, list);
            goto out;
        }
    }
    if (feedback)
        qk__qdiag(s, QK_DIAG_WARNING, line, q->id, QK_C_GIFT_FEEDBACK);
    if (n_tilde == 0) {
        /* Short answer: every = item is an accepted answer of one blank. */
        q->type = QK_Q_FILL;
        q->blanks = calloc(1, sizeof *q->blanks);
        if (!q->blanks || !(q->blanks[0].accepted = calloc(count ? count : 1, sizeof(char *)))) {
            qk__oom(s, line);
            goto out;
        }
        q->n_blanks = 1;
        for (size_t k = 0; k < count; k++) {
            if (items[k].exact > 0 && items[k].text[0]) {
                char *alt = qk__dup(items[k].text);
                if (alt)
                    q->blanks[0].accepted[q->blanks[0].n_accepted++] = alt;
                else
                    oom = 1;
            }
        }
    } else {
        /* one right option: single choice (wrong ones may carry negative
         * weights, which change nothing here); more: multiple answers, scored
         * by the share of right options chosen */
        q->type = n_right == 1 ? QK_Q_SINGLE : QK_Q_MULTI;
        q->scoring = n_right == 1 ? QK_SCORE_ALL : QK_SCORE_PARTIAL;
        if (count > QK_MAX_OPTIONS) {
            char why[64];
            snprintf(why, sizeof why, "%zu > %d", count, QK_MAX_OPTIONS);
            qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_BUILD, why);
            goto out;
        }
        if (n_right == 0) {
            qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_GIFT_NO_RIGHT);
            goto out;
        }
        q->options = calloc(count, sizeof *q->options);
        oom |= !q->options;
        for (size_t k = 0; q->options && k < count; k++) {
            oom |= !(q->options[k].text = qk__dup(items[k].text));
            q->options[k].correct = items[k].mark == '=' || items[k].exact > 0;
            q->n_options = k + 1;
        }
    }
    if (general && general[0])
        oom |= !(q->explanation = qk__dup(general));
    if (oom) {
        qk__oom(s, line);
        goto out;
    }
    qk__emit(s, q, line);
    q = NULL;
out:
    qk__label(s, NULL);
    qk_question_free(q);
    free_items(items, count);
    free(general);
    free(prefix);
    free(suffix);
    free(body);
    free(title);
}

void qk__import_gift(qk__src *s)
{
    const char *p = s->text, *end = s->text + s->len;
    int line = 1;
    char *theme = NULL;
    /* Collect a block of lines until a blank line outside an answer block. */
    char *block = malloc(s->len + 1);
    size_t blen = 0;
    int block_line = 0, depth = 0;
    if (!block) {
        qk__oom(s, 1);
        return;
    }
    while (p <= end) {
        const char *eol = p;
        while (eol < end && *eol != '\n')
            eol++;
        const char *t = p;
        while (t < eol && (*t == ' ' || *t == '\t'))
            t++;
        int blank = is_blank_line(p, eol);
        int comment = depth == 0 && eol - t >= 2 && t[0] == '/' && t[1] == '/';
        int category = depth == 0 && (size_t)(eol - t) >= strlen("$CATEGORY:") &&
                       strncmp(t, "$CATEGORY:", strlen("$CATEGORY:")) == 0;
        /* A blank line always ends a question (GIFT allows none inside one), so
         * an unclosed { is reported instead of swallowing the next question. */
        if (blank || p == end || category) {
            if (blen > 0)
                import_block(s, block, blen, block_line, theme);
            blen = 0;
            depth = 0;
            if (category) {
                free(theme);
                theme = category_title(t, (size_t)(eol - t));
                if (!theme)
                    qk__oom(s, line);
                if (theme && !theme[0]) {
                    free(theme);
                    theme = NULL;
                }
            }
        } else if (!comment) {
            if (blen == 0)
                block_line = line;
            for (const char *c = p; c < eol; c++) {
                if (*c == '\\' && c + 1 < eol) {
                    c++;
                    continue;
                }
                if (*c == '{')
                    depth++;
                else if (*c == '}' && depth > 0)
                    depth--;
            }
            memcpy(block + blen, p, (size_t)(eol - p));
            blen += (size_t)(eol - p);
            block[blen++] = '\n';
        }
        if (eol >= end)
            break;
        p = eol + 1;
        line++;
    }
    if (blen > 0)
        import_block(s, block, blen, block_line, theme);
    free(block);
    free(theme);
}
