/* bench_answers: the cost of reading typed answers the way a person means them.
 * Compares checking fill-in answers with Unicode folding (qk_response_parse +
 * qk_response_score) against a plain byte comparison of the same strings as
 * the baseline, measured in the same run. Prints checks/s and the ratio.
 * Usage: bench_answers [N]   (default 200000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (n < 1000)
        n = 1000;
    char *acc[] = {"1921年", "1921"};
    char *acc2[] = {"嘉兴南湖", "南湖"};
    qk_blank blanks[2] = {{2, acc}, {2, acc2}};
    qk_question q = {.id = "f", .type = QK_Q_FILL, .stem = "s", .points = 2, .n_blanks = 2,
                     .blanks = blanks};
    const char *inputs[] = {"１９２１年｜嘉兴 南湖", "1921|南湖", "1927年|上海", "一九二一|南湖。"};
    volatile long right = 0;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        qk_response r;
        if (qk_response_parse(&r, &q, NULL, inputs[i % 4], NULL) == QK_OK) {
            qk_centi s, m;
            int ok;
            qk_response_score(&q, &r, &s, &m, &ok);
            right += ok;
            qk_response_clear(&r);
        }
    }
    double folded = (double)n / (now_s() - t0);
    t0 = now_s();
    for (long i = 0; i < n; i++)
        right += strcmp(inputs[i % 4], "1921|南湖") == 0;
    double plain = (double)n / (now_s() - t0);
    printf("fill-in answer checks, %ld inputs:\n", n);
    printf("  folded (NFKC, case, punctuation): %10.0f checks/s, %.2f us each\n", folded,
           1e6 / folded);
    printf("  plain strcmp (baseline)         : %10.0f checks/s\n", plain);
    printf("  ratio baseline/folded = %.0f (folding cost per answer, still far below a keypress)\n",
           plain / folded);
    return right < 0;
}
