/* Fuzz target: competition definitions (JSON), as a bundle or a server
 * brings them, parsed and then scored with extreme answer times. */
#include <stdlib.h>
#include <string.h>

#include "quizkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    qk_competition *c = NULL;
    char msg[256];
    if (qk_competition_parse(&c, text, QK_LANG_ZH, msg, sizeof msg) == QK_OK) {
        static const int64_t times[] = {0, 1, 999, 5000, 600000, 600001, INT64_MAX};
        for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
            int p = qk_competition_answer_points(c, 100, 100, times[i], (int)i);
            if (p < 0 || p > c->points + c->streak_max)
                abort(); /* points are never negative or above full plus the bonus cap */
        }
        (void)qk_competition_state(c, 0);
    }
    qk_competition_free(c);
    free(text);
    return 0;
}
