/* quizkit/history.h: a member's past attempts, derived from the event log. */
#ifndef QUIZKIT_HISTORY_H
#define QUIZKIT_HISTORY_H

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_attempt_row {
    char *attempt_id;
    char *mode;
    char *theme; /* theme id, "" for all themes */
    char *bundle_id;
    int64_t started_ms;
    int64_t finished_ms; /* 0 while unfinished */
    size_t total;
    size_t answered;
    size_t correct;
    qk_centi score;
    qk_centi max;
    int64_t duration_ms;
    int timed_out;
    char *competition; /* competition entries: the competition's id; else "" */
} qk_attempt_row;

/* Attempts of member_id (NULL: guest attempts), newest first.
 * Caller frees with qk_history_free(). */
int qk_history_list(qk_engine *e, const char *member_id, qk_attempt_row **rows, size_t *n);
void qk_history_free(qk_attempt_row *rows, size_t n);

#ifdef __cplusplus
}
#endif

#endif
