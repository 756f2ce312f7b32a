/* import.c: diagnostics, decoding (UTF-8, BOM, GBK/GB18030) and question
 * finishing shared by every importer. */
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

char *qk__dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *qk__dup(const char *s)
{
    return s ? qk__dupn(s, strlen(s)) : NULL;
}

void qk__diag_text(qk__src *s, qk_diag_level level, int line, const char *text)
{
    qk_diag d = {level, s->file, line, 0, text};
    if (level == QK_DIAG_ERROR)
        s->errors++;
    if (s->fn)
        s->fn(&d, s->fn_payload);
}

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif

void qk__diag(qk__src *s, qk_diag_level level, int line, int column, qk__cmsg id, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, id);
    vsnprintf(buf, sizeof buf, qk__cmsg_text(s->lang, id), ap);
    va_end(ap);
    qk_diag d = {level, s->file, line, column, buf};
    if (level == QK_DIAG_ERROR)
        s->errors++;
    if (s->fn)
        s->fn(&d, s->fn_payload);
}

void qk__oom(qk__src *s, int line)
{
    qk__diag(s, QK_DIAG_ERROR, line, 0, QK_C_OOM_READ);
}

void qk__label(qk__src *s, const char *stem)
{
    free(s->label);
    s->label = NULL;
    if (!stem)
        return;
    size_t len = strlen(stem);
    size_t cut = qk_text_fit(stem, len, 24);
    /* stop at the first line break */
    const char *nl = memchr(stem, '\n', cut);
    if (nl)
        cut = (size_t)(nl - stem);
    size_t n = cut + 16;
    s->label = malloc(n);
    if (s->label)
        snprintf(s->label, n, "“%.*s%s”", (int)cut, stem, cut < len ? "…" : "");
}

void qk__qdiag(qk__src *s, qk_diag_level level, int line, const char *qid, qk__cmsg id, ...)
{
    if (s->label)
        qid = s->label;
    char detail[768], buf[1024];
    va_list ap;
    va_start(ap, id);
    vsnprintf(detail, sizeof detail, qk__cmsg_text(s->lang, id), ap);
    va_end(ap);
    snprintf(buf, sizeof buf, qk__cmsg_text(s->lang, QK_C_Q_PREFIX), qid ? qid : "?", detail);
    qk__diag_text(s, level, line, buf);
}

/* How many bytes at the start of s are valid UTF-8 (whole characters; no
 * overlong forms, surrogates or code points past U+10FFFF). */
static size_t utf8_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (k == 0 || i + k > n)
            return i;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return i;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) || (c == 0xf0 && s[i + 1] < 0x90) ||
            (c == 0xf4 && s[i + 1] > 0x8f))
            return i;
        i += k;
    }
    return n;
}

static int line_at(const char *s, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        line += s[i] == '\n';
    return line;
}

char *qk_text_decode(const char *raw, size_t len, size_t *out_len, int *converted, int *bad_line)
{
    *converted = 0;
    *bad_line = 0;
    if (len >= 3 && memcmp(raw, "\xef\xbb\xbf", 3) == 0) {
        raw += 3;
        len -= 3;
    }
    const char *nul = memchr(raw, '\0', len);
    if (nul) { /* no text file holds one: said at its own line */
        *bad_line = line_at(raw, (size_t)(nul - raw));
        *converted = QK_DECODE_NUL;
        return NULL;
    }
    if (qk_text_valid(raw, len)) {
        *out_len = len;
        return qk__dupn(raw, len);
    }
    size_t utf8_ok = utf8_prefix((const unsigned char *)raw, len);
    /* Not UTF-8: WPS and Excel on Chinese Windows save CSV in GBK; GB18030 is
     * its superset and maps every byte sequence GBK can produce. */
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = len * 2 + 16;
    char *out = malloc(cap);
    if (!out) {
        iconv_close(cd);
        return NULL;
    }
    char *in = (char *)raw, *o = out;
    size_t in_left = len, out_left = cap - 1;
    size_t r = iconv(cd, &in, &in_left, &o, &out_left);
    iconv_close(cd);
    if (r == (size_t)-1 || in_left > 0 || memchr(out, '\0', (size_t)(o - out))) {
        /* The line of the first bad byte, in whichever encoding read further:
         * a UTF-8 file with one bad byte near its end is read much further as
         * UTF-8 than as GB18030, and the other way round. */
        size_t gb_ok = (size_t)(in - raw);
        *bad_line = line_at(raw, utf8_ok > gb_ok ? utf8_ok : gb_ok);
        free(out);
        return NULL;
    }
    *o = '\0';
    *out_len = (size_t)(o - out);
    *converted = 1;
    if (*out_len >= 3 && memcmp(out, "\xef\xbb\xbf", 3) == 0) { /* GB18030's own BOM */
        memmove(out, out + 3, *out_len - 2);
        *out_len -= 3;
    }
    return out;
}


qk_qtype qk__type_from_name(const char *name)
{
    static const struct {
        const char *name;
        qk_qtype t;
    } names[] = {
        {"single", QK_Q_SINGLE}, {"单选", QK_Q_SINGLE}, {"单选题", QK_Q_SINGLE},
        {"单项选择", QK_Q_SINGLE}, {"单项选择题", QK_Q_SINGLE}, {"singlechoice", QK_Q_SINGLE},
        {"multi", QK_Q_MULTI}, {"multiple", QK_Q_MULTI}, {"多选", QK_Q_MULTI},
        {"多选题", QK_Q_MULTI}, {"多项选择", QK_Q_MULTI}, {"多项选择题", QK_Q_MULTI},
        {"不定项", QK_Q_MULTI}, {"不定项选择", QK_Q_MULTI}, {"multiplechoice", QK_Q_MULTI},
        {"judge", QK_Q_JUDGE}, {"判断", QK_Q_JUDGE}, {"判断题", QK_Q_JUDGE},
        {"truefalse", QK_Q_JUDGE}, {"tf", QK_Q_JUDGE}, {"是非", QK_Q_JUDGE},
        {"是非题", QK_Q_JUDGE}, {"fill", QK_Q_FILL}, {"填空", QK_Q_FILL},
        {"填空题", QK_Q_FILL}, {"fillin", QK_Q_FILL}, {"blank", QK_Q_FILL},
        {"shortanswer", QK_Q_FILL},
    };
    if (!name)
        return (qk_qtype)0;
    /* Compare folded: "Single choice", "单选题 " and "SINGLE" all match. */
    char *f = NULL;
    if (qk_text_fold(&f, name, strlen(name)) != QK_OK)
        return (qk_qtype)0;
    qk_qtype t = (qk_qtype)0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !t; i++) {
        if (strcmp(f, names[i].name) == 0)
            t = names[i].t;
    }
    free(f);
    return t;
}

char *qk__hash_id(const char *prefix, const char *text)
{
    char *f = NULL;
    if (qk_text_fold(&f, text, strlen(text)) != QK_OK)
        f = qk__dup(text);
    if (!f)
        return NULL;
    char hex[65];
    qk_sha256_hex(hex, f, strlen(f));
    free(f);
    size_t n = strlen(prefix) + 12;
    char *id = malloc(n);
    if (id)
        snprintf(id, n, "%s%.10s", prefix, hex);
    return id;
}

/* Ids made from stems must be unique within the file: a small open-addressing
 * set of the ids handed out so far (qk__src.made). */

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The slot of id, added when it is not there (*added says); -1 out of memory. */
static long idset_slot(qk__idset *s, const char *id, int *added)
{
    *added = 0;
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        char **slots = calloc(cap, sizeof *slots);
        int *vals = calloc(cap, sizeof *vals);
        if (!slots || !vals) {
            free(slots);
            free(vals);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (s->slots[i]) {
                size_t k = fnv(s->slots[i]) & (cap - 1);
                while (slots[k])
                    k = (k + 1) & (cap - 1);
                slots[k] = s->slots[i];
                vals[k] = s->vals[i];
            }
        }
        free(s->slots);
        free(s->vals);
        s->slots = slots;
        s->vals = vals;
        s->cap = cap;
    }
    size_t k = fnv(id) & (s->cap - 1);
    while (s->slots[k]) {
        if (strcmp(s->slots[k], id) == 0)
            return (long)k;
        k = (k + 1) & (s->cap - 1);
    }
    if (!(s->slots[k] = qk__dup(id)))
        return -1;
    s->vals[k] = 0;
    s->n++;
    *added = 1;
    return (long)k;
}

int qk__idset_add(qk__idset *s, const char *id)
{
    int added;
    return idset_slot(s, id, &added) < 0 ? -1 : added;
}

int *qk__idset_value(qk__idset *s, const char *key)
{
    int added;
    long k = idset_slot(s, key, &added);
    return k < 0 ? NULL : &s->vals[k];
}

void qk__idset_free(qk__idset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i]);
    free(s->slots);
    free(s->vals);
}

char *qk__made_id(qk__src *s, const char *prefix, const char *stem)
{
    char *base = qk__hash_id(prefix, stem);
    if (!base)
        return NULL;
    /* the same stem again (下列说法正确的是（ ）with other options): -2, -3, ...,
     * the next number kept with the base (40,000 copies of one stem are 40,000
     * steps, not 800 million) */
    int *next = qk__idset_value(&s->made_next, base);
    char *made = next ? qk__dup(base) : NULL;
    int k = next && *next > 2 ? *next : 2;
    for (int got; made && (got = qk__idset_add(&s->made, made)) != 1; k++) {
        free(made);
        made = NULL;
        if (got < 0)
            break;
        size_t n = strlen(base) + 16;
        if ((made = malloc(n)) != NULL)
            snprintf(made, n, "%s-%d", base, k);
    }
    if (next && made)
        *next = k;
    free(base);
    return made;
}

/* A question refused for its errors: its id, when the author wrote it, is
 * still taken (see qk__src.rejected). */
static void refused(qk__src *s, const qk_question *q, int line)
{
    if (s->rejected && !s->label && q->id && q->id[0])
        s->rejected(q->id, line, s->add_payload);
}

/* The blanks a stem shows: runs of two or more underscores (ASCII or
 * full-width) and empty brackets, （）（ ）() ( ) with spaces (also the
 * ideographic one) inside. */
static size_t stem_blanks(const char *stem)
{
    size_t n = 0;
    for (const char *p = stem; p && *p;) {
        size_t run = 0;
        while (*p == '_' || strncmp(p, "＿", 3) == 0) {
            p += *p == '_' ? 1 : 3;
            run++;
        }
        if (run >= 2) {
            n++;
            continue;
        }
        if (run)
            continue;
        int wide = strncmp(p, "（", 3) == 0;
        if (wide || *p == '(') {
            const char *k = p + (wide ? 3 : 1);
            while (*k == ' ' || *k == '\t' || strncmp(k, "　", 3) == 0)
                k += *k == ' ' || *k == '\t' ? 1 : 3;
            if (strncmp(k, "）", 3) == 0 || *k == ')') {
                n++;
                p = k + (*k == ')' ? 1 : 3);
                continue;
            }
        }
        p++;
    }
    return n;
}

int qk__emit(qk__src *s, qk_question *q, int line)
{
    char why[256];
    int ok = 0;
    size_t shown = q->type == QK_Q_FILL ? stem_blanks(q->stem) : 0;
    if (shown > 0 && q->n_blanks > 0 && shown != q->n_blanks) {
        /* the help would tell the member to type a|b, marked wrong */
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_BLANK_COUNT, shown, q->n_blanks);
        refused(s, q, line);
    } else if (qk_question_check(q, s->lang, why, sizeof why) != QK_OK) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_BUILD, why);
        refused(s, q, line);
    } else
        ok = !s->add || s->add(q, line, s->add_payload) == QK_OK;
    qk_question_free(q);
    return ok;
}

/* Splits s at any of the separator bytes; trims spaces; keeps empty parts.
 * More than max parts: max + 1 (nothing kept). Out of memory: SIZE_MAX
 * (nothing kept). */
static size_t split(const char *s, const char *seps, char **parts, size_t max)
{
    size_t n = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == '\0' || strchr(seps, *p)) {
            if (n == max) {
                for (size_t i = 0; i < n; i++)
                    free(parts[i]);
                return max + 1;
            }
            const char *a = start, *b = p;
            while (a < b && (*a == ' ' || *a == '\t'))
                a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r' || b[-1] == '\n'))
                b--;
            if (!(parts[n++] = qk__dupn(a, (size_t)(b - a)))) {
                for (size_t i = 0; i < n; i++)
                    free(parts[i]);
                return SIZE_MAX;
            }
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    return n;
}

/* One blank's accepted answers: separated by /, a literal slash written \/
 * (1\/3, 145\/90mmHg). *bare is set when a / has no space on either side
 * ("1/3", "毫米/年"): read as alternatives, but the author may have meant a
 * fraction or a unit, so the caller says so. Returns the count as split(). */
static size_t split_alts(const char *s, char **parts, size_t max, int *bare)
{
    size_t n = 0, len = strlen(s);
    char *cur = malloc(len + 1);
    if (!cur)
        return SIZE_MAX;
    size_t w = 0;
    for (size_t i = 0;; i++) {
        if (s[i] == '\\' && s[i + 1] == '/') {
            cur[w++] = '/';
            i++;
            continue;
        }
        if (s[i] != '\0' && s[i] != '/') {
            cur[w++] = s[i];
            continue;
        }
        if (s[i] == '/' && !(i > 0 && s[i - 1] == ' ' && s[i + 1] == ' '))
            *bare = 1;
        size_t a = 0, b = w;
        while (a < b && (cur[a] == ' ' || cur[a] == '\t'))
            a++;
        while (b > a && (cur[b - 1] == ' ' || cur[b - 1] == '\t' || cur[b - 1] == '\r' || cur[b - 1] == '\n'))
            b--;
        if (n == max || !(parts[n] = qk__dupn(cur + a, b - a))) {
            int full = n == max;
            for (size_t k = 0; k < n; k++)
                free(parts[k]);
            free(cur);
            return full ? max + 1 : SIZE_MAX;
        }
        n++;
        w = 0;
        if (s[i] == '\0')
            break;
    }
    free(cur);
    return n;
}

int qk__fill_key(qk__src *s, qk_question *q, const char *answer, int line)
{
    char *norm = NULL;
    if (qk_text_nfkc(&norm, answer, strlen(answer)) != QK_OK) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_OOM);
        return 0;
    }
    char *blanks[QK_MAX_BLANKS + 1];
    size_t nb = split(norm, "|;", blanks, QK_MAX_BLANKS);
    free(norm);
    if (nb == SIZE_MAX) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_OOM);
        return 0;
    }
    if (nb > QK_MAX_BLANKS) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_Q_FILL_ANSWER);
        return 0;
    }
    /* Out of memory anywhere below fails the question loudly: a key with an
     * alternative or a blank missing would mark a right answer wrong. */
    q->blanks = calloc(nb, sizeof *q->blanks);
    int ok = q->blanks != NULL, too_many = 0;
    for (size_t i = 0; i < nb; i++) {
        if (ok) {
            qk_blank *b = &q->blanks[i];
            char *alts[33];
            int bare = 0;
            size_t na = split_alts(blanks[i], alts, 32, &bare);
            if (bare && na > 1 && na <= 32) {
                char list[512] = "";
                for (size_t a = 0; a < na; a++) {
                    size_t used = strlen(list);
                    int en = s->lang == QK_LANG_EN;
                    snprintf(list + used, sizeof list - used, en ? "%s\"%s\"" : "%s“%s”", a ? (en ? " or " : "或") : "",
                             alts[a]);
                }
                qk__qdiag(s, QK_DIAG_WARNING, line, q->id, QK_C_FILL_SLASH, blanks[i], list);
            }
            if (na == SIZE_MAX) { /* out of memory: nothing kept */
                na = 0;
                ok = 0;
            } else if (na > 32) { /* too many: split kept nothing either */
                na = 0;
                too_many = 1;
            }
            b->accepted = na ? calloc(na, sizeof *b->accepted) : NULL;
            ok = ok && (na == 0 || b->accepted);
            for (size_t a = 0; a < na; a++) {
                if (b->accepted && alts[a][0])
                    b->accepted[b->n_accepted++] = alts[a];
                else
                    free(alts[a]);
            }
            q->n_blanks = i + 1;
        }
        free(blanks[i]);
    }
    if (!ok)
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_OOM);
    else if (too_many)
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_Q_FILL_ALTS, 32);
    return ok && !too_many;
}

int qk__choice_key(qk__src *s, qk_question *q, const char *a, int line)
{
    qk_response r;
    qk_answer_problem problem = QK_ANS_OK;
    if (qk_response_parse(&r, q, NULL, a, &problem) != QK_OK) {
        if (problem == QK_ANS_ONE_ONLY)
            qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_Q_ANSWER_SINGLE, a);
        else if (q->type == QK_Q_JUDGE)
            qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_JUDGE_ANSWER, a);
        else
            qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_Q_LETTER, a, q->n_options);
        return 0;
    }
    if (q->type == QK_Q_JUDGE) {
        q->judge_answer = r.judge;
    } else {
        for (size_t i = 0; i < q->n_options; i++)
            q->options[i].correct = (r.choices >> i) & 1u;
    }
    qk_response_clear(&r);
    return 1;
}

int qk__finish(qk__src *s, qk_question *q, const char *answer, int line)
{
    const char *a = answer ? answer : "";
    while (*a == ' ' || *a == '\t')
        a++;
    if (!*a) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_EMPTY_ANSWER);
        refused(s, q, line);
        qk_question_free(q);
        return 0;
    }
    if (q->type == QK_Q_FILL) {
        if (!qk__fill_key(s, q, a, line)) {
            refused(s, q, line);
            qk_question_free(q);
            return 0;
        }
        return qk__emit(s, q, line);
    }
    if (!qk__choice_key(s, q, a, line)) {
        refused(s, q, line);
        qk_question_free(q);
        return 0;
    }
    return qk__emit(s, q, line);
}
