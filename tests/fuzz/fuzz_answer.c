/* Fuzz target: what a person types as an answer, for every question type.
 * Input: first byte picks the type and blank count, the rest is the answer. */
#include <stdlib.h>
#include <string.h>

#include "quizkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    qk_option opts[8] = {{"a", 1}, {"b", 0}, {"c", 1}, {"d", 0}, {"e", 0}, {"f", 0}, {"g", 0}, {"h", 1}};
    char *acc[] = {"1921年", "１９２１", "南湖"};
    qk_blank blanks[3] = {{3, acc}, {1, acc}, {2, acc + 1}};
    qk_question q = {.id = "z", .stem = "s", .points = 3, .scoring = QK_SCORE_PARTIAL,
                     .options = opts, .blanks = blanks};
    q.type = (qk_qtype)(1 + data[0] % 4);
    q.n_options = q.type == QK_Q_JUDGE || q.type == QK_Q_FILL ? 0 : 2 + (data[0] >> 2) % 7;
    q.n_blanks = q.type == QK_Q_FILL ? 1 + (data[0] >> 2) % 3 : 0;
    size_t perm[8] = {7, 6, 5, 4, 3, 2, 1, 0};
    qk_response r;
    qk_answer_problem p;
    if (qk_response_parse(&r, &q, q.n_options == 8 ? perm : NULL, text, &p) == QK_OK) {
        qk_centi s, m;
        int ok;
        qk_response_score(&q, &r, &s, &m, &ok);
        if (s < 0 || s > m)
            abort();
        char *canon = NULL;
        /* The canonical form must parse back to a response with the same score. */
        if (qk_response_canonical(&canon, &q, &r) == QK_OK) {
            qk_response r2;
            if (qk_response_parse(&r2, &q, NULL, canon, &p) == QK_OK) {
                qk_centi s2, m2;
                int ok2;
                qk_response_score(&q, &r2, &s2, &m2, &ok2);
                if (s2 != s)
                    abort();
                qk_response_clear(&r2);
            } else if (q.type != QK_Q_FILL) {
                abort(); /* fill blanks may be empty strings, which re-parse as empty */
            }
            free(canon);
        }
        qk_response_clear(&r);
    }
    char *f = NULL;
    if (qk_text_fold(&f, text, strlen(text)) == QK_OK)
        free(f);
    (void)qk_text_width(text, strlen(text));
    free(text);
    return 0;
}
