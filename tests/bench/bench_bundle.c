/* bench_bundle: build a 10,000-question bundle from CSV, sign it, and verify it
 * the way a device does before installing (every section digest and the
 * signature). The baseline is `sha256sum` of the same .qkb file, timed in the
 * same run; the goal is verification within 2x of hashing the file.
 * Not a test: it prints figures and never fails on a slow machine.
 * Usage: bench_bundle [QUESTIONS]   (default 10000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "support.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double best_of(int runs, double (*fn)(void *), void *arg)
{
    double best = 1e9;
    for (int i = 0; i < runs; i++) {
        double t = fn(arg);
        if (t < best)
            best = t;
    }
    return best;
}

typedef struct job {
    const char *qkb;
    qk_key *key;
} job;

static double verify_once(void *p)
{
    job *j = p;
    double t0 = now_s();
    qk_bundle *b = NULL;
    int rc = qk_bundle_open(&b, j->qkb, QK_BUNDLE_VERIFY, QK_LANG_EN);
    if (rc == QK_OK)
        rc = qk_bundle_check_signature(b, &j->key, 1);
    double dt = now_s() - t0;
    if (rc != QK_OK) {
        fprintf(stderr, "verify failed: %s\n", qk_bundle_errmsg(b));
        exit(1);
    }
    qk_bundle_close(b);
    return dt;
}

static double sha256sum_once(void *p)
{
    job *j = p;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sha256sum '%s' >/dev/null", j->qkb);
    double t0 = now_s();
    if (system(cmd) != 0)
        exit(1);
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
    if (n < 100)
        n = 100;
    char *dir = qkt_tmpdir();
    char *csv = qkt_path(dir, "bank.csv"), *qkb = qkt_path(dir, "bank.qkb");
    FILE *f = fopen(csv, "w");
    fputs("编号,题型,题干,选项A,选项B,选项C,选项D,答案,解析,主题,分值\n", f);
    static const char *const themes[] = {"学雷锋", "党史", "党章党规", "医德医风", "健康知识"};
    for (long i = 0; i < n; i++) {
        switch (i % 4) {
        case 0:
            fprintf(f, "b%ld,单选,第%ld题：党的根本宗旨是什么？（单选）,全心全意为人民服务,艰苦奋斗,"
                       "实事求是,群众路线,A,党章规定全心全意为人民服务是党的根本宗旨。,%s,1\n",
                    i, i, themes[i % 5]);
            break;
        case 1:
            fprintf(f, "b%ld,多选,第%ld题：“三会一课”中的“三会”包括？,支部党员大会,支部委员会,"
                       "党小组会,职代会,ABC,三会指支部党员大会、支部委员会会议和党小组会。,%s,2\n",
                    i, i, themes[i % 5]);
            break;
        case 2:
            fprintf(f, "b%ld,判断,第%ld题：学雷锋纪念日是3月5日。,,,,,对,1963年3月5日题词发表。,%s,1\n",
                    i, i, themes[i % 5]);
            break;
        default:
            fprintf(f, "b%ld,填空,第%ld题：中共一大于____年召开。,,,,,1921/1921年,一大于1921年7月召开。,%s,1\n",
                    i, i, themes[i % 5]);
        }
    }
    fclose(f);
    qk_key *key = NULL;
    qk_key_generate(&key);
    qk_build_opts o = QK_BUILD_OPTS_INIT;
    o.lang = QK_LANG_EN;
    o.key = key;
    qk_build_stats st;
    double t0 = now_s();
    int rc = qk_content_build(csv, qkb, &o, &st);
    double build = now_s() - t0;
    if (rc != QK_OK) {
        fprintf(stderr, "build failed (%zu errors)\n", st.n_errors);
        return 1;
    }
    struct stat sb;
    stat(qkb, &sb);
    job j = {qkb, key};
    verify_once(&j); /* warm the page cache for both measurements */
    sha256sum_once(&j);
    double verify = best_of(5, verify_once, &j);
    double hash = best_of(5, sha256sum_once, &j);
    printf("bundle of %ld questions from CSV: %.1f MiB\n", n, (double)sb.st_size / 1048576.0);
    printf("  build + sign from CSV : %8.3f s (%.0f questions/s)\n", build, (double)n / build);
    printf("  verify (digests+sig)  : %8.3f s\n", verify);
    printf("  sha256sum of the file : %8.3f s (baseline, includes process start)\n", hash);
    printf("  ratio verify/sha256sum = %.2f (goal: <= 2)\n", verify / hash);
    qk_key_free(key);
    qkt_rmrf(dir);
    free(csv);
    free(qkb);
    free(dir);
    return 0;
}
