/* quizkit/pad.h: the character pad a touch screen offers for a fill-in blank.
 *
 * A kiosk has no keyboard, so a fill-in blank is answered by tapping keys: the
 * characters of the blank's answer (its first accepted form, punctuation and
 * spaces left out) mixed with plausible others: every digit when the answer
 * has digits, Chinese characters and letters taken from the answers and
 * options of the bundle's other questions (the same theme's first). Each key
 * is one character and appears once, whatever the answer repeats, and the
 * keys are shuffled, so the pad tells neither which keys are right nor how
 * long the answer is. The same question, blank and salt (an attempt id) give
 * the same pad, so a resumed attempt shows the pad it showed before. */
#ifndef QUIZKIT_PAD_H
#define QUIZKIT_PAD_H

#include "bundle.h"
#include "question.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QK_PAD_MAX_KEYS 32

/* The keys for blank (0-based) of fill-in question q, each a NUL-terminated
 * UTF-8 character, in the order to show them. The caller frees the array and
 * each key with qk_strv_free(*out, *n). QK_EINVAL when q is not a fill-in
 * question or has no such blank. */
int qk_pad_keys(char ***out, size_t *n, qk_bundle *b, const qk_question *q, size_t blank,
                const char *salt);

#ifdef __cplusplus
}
#endif

#endif
