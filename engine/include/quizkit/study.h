/* quizkit/study.h: study views derived from the event log: the Beijing
 * calendar day (daily quiz), the wrong-answer book (错题本) and the best
 * challenge run. Nothing here is stored: every view is recomputed from the
 * answer events, so the server can compute the same from synced events. */
#ifndef QUIZKIT_STUDY_H
#define QUIZKIT_STUDY_H

#include "engine.h"

#define QK_DAILY_DEFAULT_COUNT 5
#define QK_CHALLENGE_DEFAULT_SECONDS 20

/* The day in Beijing time (UTC+8, no daylight saving) as days since
 * 1970-01-01, and as "YYYY-MM-DD" (out needs 11 bytes). */
int64_t qk_beijing_day(int64_t unix_ms);
void qk_beijing_date(int64_t unix_ms, char out[11]);

typedef struct qk_wrong {
    char *question_id;
    char *given;          /* the last wrong answer, canonical (question's own letters) */
    int times_wrong;
    int right_days;       /* days in a row, since the last wrong answer, answered right */
    int64_t last_wrong_ms;
} qk_wrong;

/* A question leaves the book once it is answered right on this many
 * different days in a row after its last wrong answer. */
#define QK_WRONGBOOK_RIGHT_DAYS 2

/* The member's wrong-answer book (member NULL: the guest), most recently
 * missed first. Caller frees with qk_wrongbook_free(). */
int qk_wrongbook_list(qk_engine *e, const char *member_id, qk_wrong **out, size_t *n);
void qk_wrongbook_free(qk_wrong *v, size_t n);

/* The longest run of right answers in the member's finished challenges. */
int qk_challenge_best(qk_engine *e, const char *member_id, size_t *best);

#endif
