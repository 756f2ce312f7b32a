/* quizkit/question.h: question types, answers typed by a person, and scoring.
 *
 * A response is what a member answered, in the question's own option order
 * (not the shuffled display order). Its canonical text form is what the event
 * log stores and what the server re-scores: option letters ("ABD"), "T"/"F"
 * for true/false, and blanks joined by '|' for fill-in. */
#ifndef QUIZKIT_QUESTION_H
#define QUIZKIT_QUESTION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QK_MAX_OPTIONS 8 /* A..H */
#define QK_MAX_BLANKS 16

typedef enum qk_qtype {
    QK_Q_SINGLE = 1, /* 单选 */
    QK_Q_MULTI = 2,  /* 多选 */
    QK_Q_JUDGE = 3,  /* 判断 */
    QK_Q_FILL = 4    /* 填空 */
} qk_qtype;

typedef enum qk_scoring {
    QK_SCORE_ALL = 0,    /* all or nothing */
    QK_SCORE_PARTIAL = 1 /* multi: share of right options if no wrong one; fill: per blank */
} qk_scoring;

typedef struct qk_option {
    char *text;
    int correct;
} qk_option;

typedef struct qk_blank {
    size_t n_accepted;
    char **accepted; /* every string that counts as right for this blank */
} qk_blank;

typedef struct qk_question {
    char *id; /* stable across bundle versions */
    char *theme;
    qk_qtype type;
    qk_scoring scoring;
    char *stem;
    char *explanation; /* 解析, may be NULL */
    char *source;      /* 出处, may be NULL */
    int points;        /* whole points, >= 1 */
    int difficulty;    /* 1..5, 0 unknown */
    int shuffle;       /* options may be shuffled */
    int judge_answer;  /* QK_Q_JUDGE: 1 true (对), 0 false (错) */
    size_t n_options;
    qk_option *options;
    size_t n_blanks;
    qk_blank *blanks;
    size_t n_tags;
    char **tags;
} qk_question;

/* Frees a question and everything it owns; NULL is a no-op. */
void qk_question_free(qk_question *q);

/* Checks a question's internal consistency (as the bundle writer does).
 * On failure returns QK_EINVAL and writes a reason to msg. */
int qk_question_check(const qk_question *q, qk_lang lang, char *msg, size_t msglen);

/* Lower-case type name: "single", "multi", "judge", "fill"; NULL if unknown. */
const char *qk_qtype_name(qk_qtype t);
/* Parses "single"/"multi"/"judge"/"fill"; 0 if unknown. */
qk_qtype qk_qtype_parse(const char *name);

typedef struct qk_response {
    qk_qtype type;
    uint32_t choices; /* bit i set: option i chosen (question order) */
    int judge;        /* 1 true, 0 false */
    size_t n_blanks;
    char *blanks[QK_MAX_BLANKS];
} qk_response;

/* Why an answer string was refused (QK_EINVAL from qk_response_parse). */
typedef enum qk_answer_problem {
    QK_ANS_OK = 0,
    QK_ANS_EMPTY,        /* nothing typed */
    QK_ANS_BAD_LETTER,   /* a letter with no such option, or not a letter */
    QK_ANS_ONE_ONLY,     /* single choice given more than one letter */
    QK_ANS_NOT_JUDGE,    /* not a recognised 对/错 */
    QK_ANS_BLANK_COUNT,  /* wrong number of blanks */
    QK_ANS_BAD_ENCODING, /* not valid UTF-8 */
    QK_ANS_TOO_LONG      /* longer than QK_MAX_ANSWER bytes */
} qk_answer_problem;

#define QK_MAX_ANSWER 1024

/* Parses what a person typed. perm maps display position -> option index
 * (NULL: identity). Accepts letters in either case and width, with spaces,
 * commas or 、 between them; 对/错/√/×/T/F/正确/错误/是/否 for true/false; blanks
 * separated by '|' or '；', or, in an answer with neither, by spaces, colons or
 * commas (half- or full-width: "30:2", "30：2", "1921 南湖", "1921，南湖"). On QK_EINVAL, *problem says why. The response owns
 * copies of the blanks: release it with qk_response_clear(). */
int qk_response_parse(qk_response *out, const qk_question *q, const size_t *perm,
                      const char *input, qk_answer_problem *problem);
void qk_response_clear(qk_response *r);

/* Canonical text of a response (see above); caller frees *out. */
int qk_response_canonical(char **out, const qk_question *q, const qk_response *r);

/* Scores a response: *score and *max in hundredths of a point; *correct is 1
 * only for a fully right answer. */
void qk_response_score(const qk_question *q, const qk_response *r, qk_centi *score, qk_centi *max,
                       int *correct);

/* A response as a person reads it, in display order (perm as below): "C",
 * "对", "1921 | 嘉兴". Caller frees *out. */
int qk_response_text(char **out, const qk_question *q, const size_t *perm, const qk_response *r,
                     qk_lang lang);

/* The right answer as a person reads it, in display order (perm as above):
 * "B", "ACD", "对", "1921|嘉兴". Caller frees *out. */
int qk_question_answer_text(char **out, const qk_question *q, const size_t *perm, qk_lang lang);

/* What qk_response_show and qk_question_answer_show write for chosen options
 * (true/false and fill-in read the same whatever the flags):
 *   QK_SHOW_LETTERS              "AC" (as qk_response_text)
 *   QK_SHOW_TEXT                 "2；4": the options' text, no letters: for
 *                                answers whose display order is not known
 *   QK_SHOW_LETTERS|QK_SHOW_TEXT "A. 2；C. 4": what a person is shown
 * Letters are display letters (perm as above; NULL: the question's own order,
 * which a person saw only when options were not shuffled). "；" separates
 * options in zh-CN, "; " in English. */
#define QK_SHOW_LETTERS 1
#define QK_SHOW_TEXT 2
int qk_response_show(char **out, const qk_question *q, const size_t *perm, const qk_response *r,
                     qk_lang lang, int flags);
int qk_question_answer_show(char **out, const qk_question *q, const size_t *perm, qk_lang lang,
                            int flags);

#ifdef __cplusplus
}
#endif

#endif
