/* quizkit/text.h: UTF-8 text helpers built on utf8proc.
 *
 * Folding makes typed answers comparable the way a person would judge them:
 * NFKC (full-width digits and letters become ASCII), case folding, and all
 * whitespace and punctuation removed, so "１９２１年" equals "1921年" and
 * "Ａ，Ｂ" equals "a,b". Width is the number of terminal columns: CJK takes two. */
#ifndef QUIZKIT_TEXT_H
#define QUIZKIT_TEXT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Folds s[0..len) into a new NUL-terminated string in *out (caller frees with free()).
 * QK_EINVAL if s is not valid UTF-8. */
int qk_text_fold(char **out, const char *s, size_t len);

/* NFKC only (no case folding, nothing removed); caller frees *out. */
int qk_text_nfkc(char **out, const char *s, size_t len);

/* 1 when s[0..len) is valid UTF-8 with no NUL, 0 otherwise. */
int qk_text_valid(const char *s, size_t len);
/* 1 when s is an id: 1 to max characters of [A-Za-z0-9._-] (question, member,
 * branch and account ids all follow this rule, with their own max). */
int qk_id_valid(const char *s, size_t max);

/* Display columns of s[0..len); invalid bytes count as one column each. */
size_t qk_text_width(const char *s, size_t len);

/* Length in bytes of the longest prefix of s that fits in max_cols columns,
 * never splitting a character. */
size_t qk_text_fit(const char *s, size_t len, size_t max_cols);

/* SHA-256 of data as 64 lowercase hex digits plus NUL. */
void qk_sha256_hex(char out[65], const void *data, size_t len);
/* The same over data given in parts: begin (NULL when out of memory), add
 * each part, then end writes the hex digest and frees the state. */
typedef struct qk_sha256 qk_sha256;
qk_sha256 *qk_sha256_begin(void);
void qk_sha256_add(qk_sha256 *h, const void *data, size_t len);
void qk_sha256_end(qk_sha256 *h, char out[65]);

#ifdef __cplusplus
}
#endif

#endif
