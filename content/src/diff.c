/* diff.c: what changed between two versions of a bundle, question by question. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Names of the fields that differ, comma-separated, into buf. */
static void compare(const qk_question *a, const qk_question *b, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
#define ADD(name)                                                                                  \
    len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? "," : "", name)
    if (a->type != b->type)
        ADD("type");
    if (!same_str(a->stem, b->stem))
        ADD("stem");
    int opts = a->n_options != b->n_options, key = a->judge_answer != b->judge_answer;
    for (size_t i = 0; !opts && i < a->n_options; i++) {
        opts = !same_str(a->options[i].text, b->options[i].text);
        key |= a->options[i].correct != b->options[i].correct;
    }
    if (a->n_options == b->n_options) {
        for (size_t i = 0; i < a->n_options; i++)
            key |= a->options[i].correct != b->options[i].correct;
    }
    int blanks = a->n_blanks != b->n_blanks;
    for (size_t i = 0; !blanks && i < a->n_blanks; i++) {
        blanks = a->blanks[i].n_accepted != b->blanks[i].n_accepted;
        for (size_t k = 0; !blanks && k < a->blanks[i].n_accepted; k++)
            blanks = !same_str(a->blanks[i].accepted[k], b->blanks[i].accepted[k]);
    }
    if (opts)
        ADD("options");
    if (key || blanks)
        ADD("answer");
    if (!same_str(a->explanation, b->explanation))
        ADD("explanation");
    if (!same_str(a->theme, b->theme))
        ADD("theme");
    if (a->points != b->points || a->scoring != b->scoring)
        ADD("points");
    if (!same_str(a->source, b->source))
        ADD("source");
#undef ADD
}

static int find(char **ids, size_t n, const char *id)
{
    /* ids are sorted: binary search */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(ids[mid], id);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int qk_content_diff(qk_bundle *old_b, qk_bundle *new_b, qk_diff_fn fn, void *payload)
{
    char **a = NULL, **b = NULL;
    size_t na = 0, nb = 0;
    int rc = qk_bundle_question_ids(old_b, NULL, &a, &na);
    if (rc == QK_OK)
        rc = qk_bundle_question_ids(new_b, NULL, &b, &nb);
    if (rc != QK_OK)
        goto out;
    qsort(a, na, sizeof *a, cmp);
    qsort(b, nb, sizeof *b, cmp);
    for (size_t i = 0; i < nb; i++) {
        if (!find(a, na, b[i]))
            fn(QK_DIFF_ADDED, b[i], "", payload);
    }
    for (size_t i = 0; i < na; i++) {
        if (!find(b, nb, a[i])) {
            fn(QK_DIFF_REMOVED, a[i], "", payload);
            continue;
        }
        qk_question *qa = NULL, *qb = NULL;
        if ((rc = qk_bundle_question(old_b, a[i], &qa)) == QK_OK &&
            (rc = qk_bundle_question(new_b, a[i], &qb)) == QK_OK) {
            char what[256];
            compare(qa, qb, what, sizeof what);
            if (what[0])
                fn(QK_DIFF_CHANGED, a[i], what, payload);
        }
        qk_question_free(qa);
        qk_question_free(qb);
        if (rc != QK_OK)
            break;
    }
out:
    qk_strv_free(a, na);
    qk_strv_free(b, nb);
    return rc;
}
