/* pad.c: the character pad for fill-in blanks on a touch screen (pad.h).
 *
 * Keys are gathered as code points in one small array: the answer's own, then
 * the distractors of each kind the answer uses. Distractors come from a pool
 * of the characters in other questions' answers and options, read in the
 * bundle's order and then shuffled by the seed, so the pick is deterministic
 * and differs from question to question. A pad holds at most QK_PAD_MAX_KEYS
 * keys; the pool is read one question at a time and stops as soon as it is
 * full enough, so a large bundle costs no more than a theme. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "internal.h"

enum kind { K_NONE, K_DIGIT, K_HAN, K_OTHER, K_COUNT };

/* How many distractors a pad wants for u answer characters of a kind (digits
 * are all ten, whatever the answer). */
static size_t wanted(size_t u)
{
    size_t d = u < 4 ? 8 - u : u + 2;
    return d > 12 ? 12 : d;
}

static enum kind kind_of(utf8proc_int32_t cp)
{
    if (cp >= '0' && cp <= '9')
        return K_DIGIT;
    if ((cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0x20000 && cp <= 0x2FFFF))
        return K_HAN;
    utf8proc_category_t c = utf8proc_category(cp);
    if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO)
        return K_OTHER;
    return K_NONE; /* punctuation, spaces, symbols: folded away when answers are compared */
}

typedef struct cpset {
    utf8proc_int32_t v[512];
    size_t n;
} cpset;

static int has(const cpset *s, utf8proc_int32_t cp)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i] == cp)
            return 1;
    }
    return 0;
}

static void put(cpset *s, utf8proc_int32_t cp)
{
    if (s->n < sizeof s->v / sizeof s->v[0] && !has(s, cp))
        s->v[s->n++] = cp;
}

/* Adds the characters of text (NFKC, as a person would tap them) to s. */
static int harvest(cpset *s, const char *text)
{
    char *t = NULL;
    int rc = qk_text_nfkc(&t, text, strlen(text));
    if (rc != QK_OK)
        return rc == QK_EINVAL ? QK_OK : rc; /* a text that is not UTF-8 gives nothing */
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)t;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(t);
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, left, &cp);
        if (k <= 0)
            break;
        if (kind_of(cp) != K_NONE)
            put(s, cp);
        p += k;
        left -= k;
    }
    free(t);
    return QK_OK;
}

static int harvest_question(cpset *pool, const qk_question *q)
{
    int rc = QK_OK;
    for (size_t i = 0; rc == QK_OK && i < q->n_options; i++)
        rc = harvest(pool, q->options[i].text);
    for (size_t i = 0; rc == QK_OK && i < q->n_blanks; i++) {
        for (size_t a = 0; rc == QK_OK && a < q->blanks[i].n_accepted; a++)
            rc = harvest(pool, q->blanks[i].accepted[a]);
    }
    return rc;
}

/* Fills pool from the other questions of theme (NULL: all) until it holds
 * enough Chinese characters and letters to choose from. */
static int fill_pool(cpset *pool, qk_bundle *b, const qk_question *q, const char *theme)
{
    char **ids = NULL;
    size_t n = 0;
    int rc = qk_bundle_question_ids(b, theme, &ids, &n);
    for (size_t i = 0; rc == QK_OK && i < n && pool->n < 256; i++) {
        qk_question *other = NULL;
        if (strcmp(ids[i], q->id) == 0)
            continue;
        rc = qk_bundle_question(b, ids[i], &other);
        if (rc == QK_OK)
            rc = harvest_question(pool, other);
        qk_question_free(other);
    }
    qk_strv_free(ids, n);
    return rc;
}

/* The seed for one blank of one question in one attempt. */
static uint64_t pad_seed(const qk_question *q, size_t blank, const char *salt)
{
    qk__buf b = {0};
    char num[24];
    snprintf(num, sizeof num, "\n%zu\n", blank);
    qk__buf_str(&b, salt ? salt : "");
    qk__buf_str(&b, num);
    qk__buf_str(&b, q->id);
    char hex[65];
    qk_sha256_hex(hex, b.p ? b.p : "", b.len);
    free(b.p);
    uint64_t seed = 0;
    for (int i = 0; i < 16; i++)
        seed = seed << 4 | (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    return seed;
}

/* v shuffled as qk_rng_shuffle shuffles positions (the same draws). */
static int shuffle_cps(qk_rng *rng, utf8proc_int32_t *v, size_t n)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    utf8proc_int32_t *was = malloc((n ? n : 1) * sizeof *was);
    int rc = idx && was ? QK_OK : QK_ENOMEM;
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        idx[i] = i;
        was[i] = v[i];
    }
    if (rc == QK_OK && (rc = qk_rng_shuffle(rng, idx, n)) == QK_OK)
        for (size_t i = 0; i < n; i++)
            v[i] = was[idx[i]];
    free(idx);
    free(was);
    return rc;
}

/* The distractors: for each kind the answer has, some of the pool's (all ten
 * digits for digits), never one of the answer's own. */
static int add_distractors(cpset *keys, cpset *pool, size_t n_theme, const size_t per_kind[K_COUNT],
                           qk_rng *rng)
{
    /* the theme's characters stay ahead of the rest: the most plausible first */
    int rc = shuffle_cps(rng, pool->v, n_theme);
    if (rc == QK_OK)
        rc = shuffle_cps(rng, pool->v + n_theme, pool->n - n_theme);
    for (int k = K_DIGIT; rc == QK_OK && k < K_COUNT; k++) {
        if (!per_kind[k])
            continue;
        if (k == K_DIGIT) {
            for (utf8proc_int32_t d = '0'; d <= '9'; d++)
                put(keys, d);
            continue;
        }
        size_t want = wanted(per_kind[k]);
        for (size_t i = 0; i < pool->n && want > 0 && keys->n < QK_PAD_MAX_KEYS; i++) {
            if (kind_of(pool->v[i]) == (enum kind)k && !has(keys, pool->v[i])) {
                put(keys, pool->v[i]);
                want--;
            }
        }
    }
    return rc;
}

static int keys_out(char ***out, size_t *n, const cpset *keys)
{
    char **v = calloc(keys->n ? keys->n : 1, sizeof *v);
    if (!v)
        return QK_ENOMEM;
    for (size_t i = 0; i < keys->n; i++) {
        utf8proc_uint8_t enc[8] = {0};
        utf8proc_ssize_t k = utf8proc_encode_char(keys->v[i], enc);
        v[i] = qk__strndup((const char *)enc, (size_t)k);
        if (!v[i]) {
            qk_strv_free(v, i);
            return QK_ENOMEM;
        }
    }
    *out = v;
    *n = keys->n;
    return QK_OK;
}

int qk_pad_keys(char ***out, size_t *n, qk_bundle *b, const qk_question *q, size_t blank,
                const char *salt)
{
    *out = NULL;
    *n = 0;
    if (!q || q->type != QK_Q_FILL || blank >= q->n_blanks || q->blanks[blank].n_accepted == 0)
        return QK_EINVAL;
    cpset *keys = calloc(1, sizeof *keys), *pool = calloc(1, sizeof *pool);
    qk_rng *rng = NULL;
    int rc = keys && pool ? QK_OK : QK_ENOMEM;
    if (rc != QK_OK) {
        free(keys);
        free(pool);
        return rc;
    }
    /* the answer's own characters: the first accepted form that has any */
    for (size_t a = 0; rc == QK_OK && keys->n == 0 && a < q->blanks[blank].n_accepted; a++)
        rc = harvest(keys, q->blanks[blank].accepted[a]);
    size_t per_kind[K_COUNT] = {0};
    for (size_t i = 0; rc == QK_OK && i < keys->n; i++)
        per_kind[kind_of(keys->v[i])]++;
    if (rc == QK_OK && keys->n > QK_PAD_MAX_KEYS - 10)
        rc = QK_ELIMIT; /* too many different characters for one pad: the screen offers typing only */
    size_t n_theme = 0;
    if (rc == QK_OK && (per_kind[K_HAN] || per_kind[K_OTHER])) {
        rc = fill_pool(pool, b, q, q->theme);
        n_theme = pool->n;
        if (rc == QK_OK && pool->n < 64)
            rc = fill_pool(pool, b, q, NULL);
    }
    if (rc == QK_OK)
        rc = qk_rng_new_seeded(&rng, pad_seed(q, blank, salt));
    if (rc == QK_OK)
        rc = add_distractors(keys, pool, n_theme, per_kind, rng);
    if (rc == QK_OK)
        rc = shuffle_cps(rng, keys->v, keys->n);
    if (rc == QK_OK)
        rc = keys_out(out, n, keys);
    qk_rng_free(rng);
    free(keys);
    free(pool);
    return rc;
}
