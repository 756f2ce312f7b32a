/* bench_bundle: issue 17's two bundle rows, each against a baseline timed in
 * the same run, on published bundles of 10,000 and 100,000 questions.
 *
 * The bundles are what a branch publishes: a spreadsheet (CSV as WPS/Excel
 * saves it) of single, multiple choice, true/false and fill-in questions in
 * five themes, with Chinese stems, options, explanations, sources and tags of
 * the lengths the sample content has, built and signed by the project's own
 * builder (qk_content_build, the `quizkit bundle build` path).
 *
 * 1. `bundle verify`: open with verification and check the signature, as a
 *    device does before it installs a bundle, against `sha256sum FILE` run
 *    through the shell (the baseline, process start included) and
 *    against SHA-256 of the same file computed here with mbedTLS over read()
 *    in 64 KiB chunks (no process start). Goal: <= 2x sha256sum.
 * 2. `play` start to the first question: what `quizkit play --theme T` does
 *    before it shows a question (cli/cmd_play.c): open the engine on the
 *    progress file, list the installed bundles, load the trusted keys, open
 *    the bundle checked as play opens it, find the theme, list unfinished
 *    attempts, start a 10-question practice session, the first
 *    qk_session_next. Timed in this process against opening the bundle with
 *    the SQLite C API and running SELECT count(*) FROM questions; and as a
 *    whole `quizkit play` process (stdin at EOF, so it exits after showing the
 *    first question) against `sqlite3 FILE 'SELECT count(*) FROM questions'`,
 *    both through the shell. Goal: <= 15 ms on 10k, and 100k <= 1.5x 10k.
 *    The first start after installing (3 s later, as plays come after an
 *    install) verifies the bundle in full and is shown apart; the device
 *    remembers it verified that file, and later starts are the median.
 *
 * Not a test: it prints figures and never fails on a slow machine.
 * Usage: bench_bundle [QUESTIONS...]   (default 10000 100000)
 * The quizkit binary is found beside the tests folder (build/quizkit), or at
 * $QUIZKIT_BIN. With BENCH_KEEP set, the bundles and devices are kept (the
 * folder is printed) to profile them by hand. */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <sqlite3.h>

#include "support.h"

#define RUNS 7

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One measurement: fn(arg) returns the seconds it took. */
typedef struct timed {
    double (*fn)(void *);
    void *arg;
    double best, median;
} timed;

/* Runs each measurement once to fill the page cache, then RUNS times each in
 * turns, so that a busy spell of the (shared) machine falls on all of them
 * alike; keeps the best and the median of each. */
static void interleave(timed *m, int n)
{
    double t[8][RUNS];
    for (int k = 0; k < n; k++)
        m[k].fn(m[k].arg);
    for (int i = 0; i < RUNS; i++) {
        for (int k = 0; k < n; k++)
            t[k][i] = m[k].fn(m[k].arg);
    }
    for (int k = 0; k < n; k++) {
        qsort(t[k], RUNS, sizeof t[k][0], cmp_double);
        m[k].best = t[k][0];
        m[k].median = t[k][RUNS / 2];
    }
}

/* --- realistic content ---------------------------------------------------- */

static const char *const themes[] = {"学雷锋志愿服务", "党史学习教育", "党章党规", "医德医风",
                                     "健康知识普及"};

/* Stems, options and explanations in the lengths of content/samples. */
static const char *const single_stems[] = {
    ("党章规定，中国共产党是中国工人阶级的先锋队，同时是中国人民和中华民族的先锋队，党的最高理想和最"
     "终目标是什么？"),
    "按照国家基本公共卫生服务规范，社区对原发性高血压患者每年至少进行几次面对面随访？",
    "家庭医生签约服务中，签约居民在病情需要时可以通过什么途径获得上级医院的专科诊疗服务？",
    "1963年3月5日，《人民日报》发表毛泽东同志为雷锋同志的题词，题词的内容是什么？",
    "医务人员在诊疗活动中应当向患者说明病情和医疗措施，需要实施手术的，应当取得谁的书面同意？",
    "糖化血红蛋白（HbA1c）是评价长期血糖控制的重要指标，它主要反映患者多长时间内的平均血糖水平？",
};
static const char *const single_opts[][4] = {
    {"实现共产主义", "全心全意为人民服务", "建设社会主义现代化强国", "实现中华民族伟大复兴"},
    {"每年1次", "每年2次", "每年至少4次", "每月1次"},
    {"家庭医生转诊", "直接挂专家号", "网上自助购药", "拨打急救电话"},
    {"向雷锋同志学习", "为人民服务", "学习雷锋好榜样", "雷锋精神永放光芒"},
    {"患者本人或其近亲属", "科室主任", "医院院长", "主治医师"},
    {"近1天", "近1周", "近2～3个月", "近1年"},
};
static const char single_right[] = {'A', 'C', 'A', 'A', 'A', 'C'};
static const char *const multi_stems[] = {
    "“三会一课”是党的组织生活的基本制度，其中的“三会”包括下列哪些会议？（多选）",
    "家庭医生团队以家庭医生为核心，通常还由下列哪些人员组成，为签约居民提供服务？",
    "下列哪些属于党章规定的党的纪律处分种类？请选出全部正确的选项。",
    "糖尿病典型的“三多一少”症状是指下列哪些表现？患者出现时应及时到社区随访。",
};
static const char *const multi_opts[][4] = {
    {"支部党员大会", "支部委员会会议", "党小组会", "职工代表大会"},
    {"家庭医生（全科医生等）", "社区护士", "公共卫生医师", "美容顾问"},
    {"警告、严重警告", "撤销党内职务", "留党察看、开除党籍", "罚款"},
    {"多饮、多食", "多尿", "体重减少", "发热"},
};
static const char *const multi_right[] = {"ABC", "ABC", "ABC", "ABC"};
static const char *const judge_stems[] = {
    "国家基本公共卫生服务为辖区内65岁及以上老年人每年提供1次健康管理服务，包括生活方式评估和体格检"
    "查。",
    "党员的党龄，从预备期满转为正式党员之日算起，预备期间不计算党龄。",
    "在家自测血压时，平均血压达到135/85 "
    "mmHg及以上，就应考虑高血压，并到社区卫生服务中心进一步诊断。",
    "预备党员享有表决权、选举权和被选举权，其他权利和义务与正式党员相同。",
};
static const char *const judge_right[] = {"对", "对", "对", "错"};
static const char *const fill_stems[] = {
    "入党誓词的最后一句是：随时准备为党和人民牺牲一切，永不____。",
    "中国共产党第一次全国代表大会于____年7月在上海召开，后转移到浙江嘉兴南湖的游船上继续举行。",
    "每年的5月12日是国际____节，以纪念现代护理学的创始人南丁格尔。",
};
static const char *const fill_right[] = {"叛党", "1921 / 1921年", "护士"};
static const char *const explanations[] = {
    "党章总纲明确规定了党的性质、宗旨和奋斗目标，党员应当牢记并在工作和生活中践行，这也是支部主题党"
    "日学习的重点内容之一。",
    "依据《国家基本公共卫生服务规范（第三版）》，慢性病患者健康管理要求定期面对面随访，评估病情并给"
    "予有针对性的健康指导。",
    "家庭医生签约服务与分级诊疗制度相衔接，签约居民可以通过家庭医生获得预约转诊、长处方和延伸处方等"
    "便利服务。",
    "雷锋精神的核心是全心全意为人民服务，社区卫生服务中心的志愿服务活动正是新时代学雷锋的生动实践"
    "。",
    "根据《医疗机构管理条例》和《中华人民共和国医师法》的有关规定，医务人员应当尊重患者的知情同意权"
    "，依法履行告知义务。",
};
static const char *const sources[] = {
    "《中国共产党章程》总纲", "《国家基本公共卫生服务规范（第三版）》",
    "《中华人民共和国医师法》第二十五条", "《中国共产党纪律处分条例》",
    "国家卫生健康委员会健康科普资料"};
static const char *const tags[] = {"党章;理想信念", "慢病管理;高血压", "家庭医生签约;分级诊疗",
                                   "学雷锋;志愿服务", "医德医风;知情同意"};

/* A WPS/Excel-style CSV of n questions (each stem numbered so none repeats). */
static void print_diag(const qk_diag *d, void *payload)
{
    int *shown = payload;
    if (d->level == QK_DIAG_ERROR && (*shown)++ < 5)
        fprintf(stderr, "  %s:%d: %s\n", d->file, d->line, d->message);
}

static void write_csv(const char *path, long n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs("\xef\xbb\xbf编号,题型,题干,选项A,选项B,选项C,选项D,答案,解析,主题,分值,难度,出处,标签\n",
          f);
    for (long i = 0; i < n; i++) {
        const char *theme = themes[i % 5], *expl = explanations[(i / 5) % 5];
        const char *src = sources[(i / 3) % 5], *tag = tags[(i / 7) % 5];
        int diff = (int)(i % 3) + 1;
        long k = i / 4;
        switch (i % 4) {
        case 0: {
            size_t s = (size_t)k % 6;
            fprintf(f, "q%06ld,单选,（第%ld题）%s,%s,%s,%s,%s,%c,%s,%s,1,%d,%s,%s\n", i, i + 1,
                    single_stems[s], single_opts[s][0], single_opts[s][1], single_opts[s][2],
                    single_opts[s][3], single_right[s], expl, theme, diff, src, tag);
            break;
        }
        case 1: {
            size_t s = (size_t)k % 4;
            fprintf(f, "q%06ld,多选,（第%ld题）%s,%s,%s,%s,%s,%s,%s,%s,2,%d,%s,%s\n", i, i + 1,
                    multi_stems[s], multi_opts[s][0], multi_opts[s][1], multi_opts[s][2],
                    multi_opts[s][3], multi_right[s], expl, theme, diff, src, tag);
            break;
        }
        case 2: {
            size_t s = (size_t)k % 4;
            fprintf(f, "q%06ld,判断,（第%ld题）%s,,,,,%s,%s,%s,1,%d,%s,%s\n", i, i + 1,
                    judge_stems[s], judge_right[s], expl, theme, diff, src, tag);
            break;
        }
        default: {
            size_t s = (size_t)k % 3;
            fprintf(f, "q%06ld,填空,（第%ld题）%s,,,,,%s,%s,%s,1,%d,%s,%s\n", i, i + 1,
                    fill_stems[s], fill_right[s], expl, theme, diff, src, tag);
        }
        }
    }
    fclose(f);
}

/* --- row 1: verification against hashing the file ------------------------ */

typedef struct job {
    const char *qkb;   /* the published file */
    qk_key *key;       /* its publisher's key, trusted */
    const char *qk;    /* the quizkit binary, or NULL */
    const char *data;  /* the device's data folder */
    const char *theme; /* the theme play is asked for */
    char cmd[8192];
    double open_best; /* play start: the least time to the bundle open */
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

static double shell_once(void *p)
{
    job *j = p;
    double t0 = now_s();
    if (system(j->cmd) != 0) {
        fprintf(stderr, "failed: %s\n", j->cmd);
        exit(1);
    }
    return now_s() - t0;
}

static double mbedtls_sha256_once(void *p)
{
    job *j = p;
    static unsigned char buf[65536];
    double t0 = now_s();
    int fd = open(j->qkb, O_RDONLY);
    if (fd < 0) {
        perror(j->qkb);
        exit(1);
    }
    mbedtls_sha256_context ctx;
    mbedtls_sha256_init(&ctx);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_sha256_starts(&ctx, 0);
#else
    mbedtls_sha256_starts_ret(&ctx, 0);
#endif
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
        mbedtls_sha256_update(&ctx, buf, (size_t)got);
#else
        mbedtls_sha256_update_ret(&ctx, buf, (size_t)got);
#endif
    }
    unsigned char sum[32];
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_sha256_finish(&ctx, sum);
#else
    mbedtls_sha256_finish_ret(&ctx, sum);
#endif
    mbedtls_sha256_free(&ctx);
    close(fd);
    return now_s() - t0;
}

/* --- row 2: play start ---------------------------------------------------- */

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_bundle: %s: %s\n", what, msg);
    exit(1);
}

/* What cmd_play does from its start to the first question, through the same
 * public calls (cli/paths.c: engine_open, bundle_open_current with
 * bundle_installed, trust_load and bundle_open_checked; cli/cmd_play.c:
 * theme_option, warn_unfinished, qk_session_start, qk_session_review and
 * qk_session_next). A guest plays: logging in is PBKDF2, not the bundle. */
static double play_start_once(void *p)
{
    job *j = p;
    char path[1024];
    double t0 = now_s();
    qk_engine *e = NULL;
    snprintf(path, sizeof path, "%s/progress.db", j->data);
    if (qk_engine_open_v2(&e, path, QK_LANG_ZH, NULL) != QK_OK)
        die("engine", qk_engine_errmsg(e));
    /* bundle_installed: the bundles folder, *.qkb; trust_load: trust/ *.pub */
    char **qkbs = NULL;
    size_t n_qkb = 0;
    qk_key **keys = NULL;
    size_t n_keys = 0;
    const char *sub[] = {"bundles", "trust"};
    for (int d = 0; d < 2; d++) {
        snprintf(path, sizeof path, "%s/%s", j->data, sub[d]);
        DIR *dir = opendir(path);
        struct dirent *ent;
        while (dir && (ent = readdir(dir)) != NULL) {
            size_t len = strlen(ent->d_name);
            char file[1280];
            snprintf(file, sizeof file, "%s/%s", path, ent->d_name);
            if (d == 0 && len > 4 && strcmp(ent->d_name + len - 4, ".qkb") == 0) {
                qkbs = realloc(qkbs, (n_qkb + 1) * sizeof *qkbs);
                qkbs[n_qkb++] = strdup(file);
            } else if (d == 1 && len > 4 && strcmp(ent->d_name + len - 4, ".pub") == 0) {
                char msg[256];
                keys = realloc(keys, (n_keys + 1) * sizeof *keys);
                if (qk_key_load(&keys[n_keys], file, QK_LANG_ZH, msg, sizeof msg) != QK_OK)
                    die(file, msg);
                n_keys++;
            }
        }
        if (dir)
            closedir(dir);
    }
    if (n_qkb != 1)
        die("bundles", "expected one installed bundle");
    /* bundle_open_checked for an installed bundle: verified, or recalled
     * from the record of bundles this device has verified */
    qk_bundle *b = NULL;
    snprintf(path, sizeof path, "%s/bundles/.verified", j->data);
    if (qk_bundle_open_trusted(&b, qkbs[0], keys, n_keys, path, QK_LANG_ZH) != QK_OK)
        die("bundle", qk_bundle_errmsg(b));
    double opened = now_s() - t0;
    if (opened < j->open_best)
        j->open_best = opened;
    const qk_theme *t = qk_bundle_theme_find(b, j->theme);
    if (!t)
        die("theme", j->theme);
    qk_attempt_row *rows = NULL;
    size_t n_rows = 0;
    if (qk_history_list(e, NULL, &rows, &n_rows) != QK_OK)
        die("history", qk_engine_errmsg(e));
    qk_history_free(rows, n_rows);
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = t->id;
    qk_session *s = NULL;
    if (qk_session_start(&s, e, b, NULL, &spec) != QK_OK)
        die("session", qk_session_errmsg(s));
    qk_item it;
    if (qk_session_review(s, 0, &it, NULL) != QK_OK || qk_session_next(s, &it) != QK_ROW)
        die("session", qk_session_errmsg(s));
    double dt = now_s() - t0;
    qk_session_free(s);
    qk_bundle_close(b);
    for (size_t i = 0; i < n_keys; i++)
        qk_key_free(keys[i]);
    free(keys);
    qk_strv_free(qkbs, n_qkb);
    qk_engine_close(e);
    return dt;
}

/* The baseline in this process: open the file with SQLite, count the questions. */
static double sqlite_count_once(void *p)
{
    job *j = p;
    double t0 = now_s();
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(j->qkb, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM questions", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        die("sqlite3", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return now_s() - t0;
}

static void run_shell(const char *cmd)
{
    if (system(cmd) != 0)
        die("command failed", cmd);
}

typedef struct figures {
    double verify, sha256sum, mbed, play_first, play, count, play_proc, count_proc;
} figures;

static void measure(const char *dir, const char *qk, long n, qk_key *key, figures *fg)
{
    char csv[512], qkb[512], data[512], cmd[4096];
    snprintf(csv, sizeof csv, "%s/题库%ld.csv", dir, n);
    snprintf(qkb, sizeof qkb, "%s/bench%ld.qkb", dir, n);
    snprintf(data, sizeof data, "%s/device%ld", dir, n);
    write_csv(csv, n);
    qk_build_opts o = QK_BUILD_OPTS_INIT;
    o.lang = QK_LANG_EN;
    o.key = key;
    int shown = 0;
    o.fn = print_diag;
    o.payload = &shown;
    qk_build_stats st;
    double t0 = now_s();
    if (qk_content_build(csv, qkb, &o, &st) != QK_OK) {
        fprintf(stderr, "build failed (%zu errors)\n", st.n_errors);
        exit(1);
    }
    double build = now_s() - t0;
    struct stat sb;
    stat(qkb, &sb);
    printf("bundle of %ld questions (CSV, 5 themes, signed): %.1f MiB, built in %.2f s (%.0f "
           "questions/s)\n",
           n, (double)sb.st_size / 1048576.0, build, (double)n / build);

    /* 1. verification against hashing the file */
    job j = {qkb, key, qk, data, themes[0], "", 1e9};
    job sum = j;
    snprintf(sum.cmd, sizeof sum.cmd, "sha256sum '%s' >/dev/null", qkb);
    timed r1[] = {
        {verify_once, &j, 0, 0}, {shell_once, &sum, 0, 0}, {mbedtls_sha256_once, &j, 0, 0}};
    interleave(r1, 3);

    /* 2. a device: the publisher's key trusted, the bundle installed */
    mkdir(data, 0700);
    snprintf(cmd, sizeof cmd, "%s/trust", data);
    mkdir(cmd, 0700);
    snprintf(cmd, sizeof cmd, "%s/trust/%s.pub", data, qk_key_id(key));
    char msg[256];
    if (qk_key_write(key, NULL, cmd, QK_LANG_EN, msg, sizeof msg) != QK_OK)
        die("key", msg);
    if (qk) {
        snprintf(cmd, sizeof cmd, "'%s' --data-dir '%s' bundle install '%s' >/dev/null", qk, data,
                 qkb);
    } else {
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/bundles' && cp '%s' '%s/bundles/bench%ld.qkb'",
                 data, qkb, data, n);
    }
    run_shell(cmd);
    /* Plays come later than the install: a file changed less than 2 s before
     * it is verified is not remembered (bundle.c, RACY_MS). */
    sleep(3);
    fg->play_first = play_start_once(&j);
    snprintf(cmd, sizeof cmd, "%s/bundles/.verified", data);
    if (access(cmd, F_OK) != 0)
        printf("  (the first start did not remember the bundle: every start verifies it)\n");
    j.open_best = 1e9;
    job play = j, count = j;
    snprintf(play.cmd, sizeof play.cmd,
             "'%s' --data-dir '%s' play --theme '%s' </dev/null >/dev/null 2>&1 || [ $? = 3 ]", qk,
             data, themes[0]);
    snprintf(count.cmd, sizeof count.cmd,
             "sqlite3 '%s' 'SELECT count(*) FROM questions' >/dev/null", qkb);
    timed r2[] = {{play_start_once, &j, 0, 0},
                  {sqlite_count_once, &j, 0, 0},
                  {shell_once, &play, 0, 0},
                  {shell_once, &count, 0, 0}};
    interleave(r2, qk ? 4 : 2);
    fg->verify = r1[0].best;
    fg->sha256sum = r1[1].best;
    fg->mbed = r1[2].best;
    fg->play = r2[0].best;
    fg->count = r2[1].best;
    fg->play_proc = qk ? r2[2].best : 0;
    fg->count_proc = qk ? r2[3].best : 0;

    double ms = 1000.0;
    printf("  (best of %d runs taken in turns; medians in brackets)\n", RUNS);
    printf("  1. bundle verify (digests + signature)   %8.1f ms [%.1f]\n", fg->verify * ms,
           r1[0].median * ms);
    printf("     sha256sum FILE via the shell (baseline)%8.1f ms [%.1f]   ratio %.2f [%.2f] (goal "
           "<= 2)\n",
           fg->sha256sum * ms, r1[1].median * ms, fg->verify / fg->sha256sum,
           r1[0].median / r1[1].median);
    printf("     SHA-256 of the file, mbedTLS, read()   %8.1f ms [%.1f]   ratio %.2f [%.2f]\n",
           fg->mbed * ms, r1[2].median * ms, fg->verify / fg->mbed, r1[0].median / r1[2].median);
    printf("  2. play start to first question, theme %s (%ld questions)\n", themes[0], n / 5);
    printf("     first start after install (verifies)   %8.1f ms\n", fg->play_first * ms);
    printf("     in process                             %8.1f ms [%.1f]\n", fg->play * ms,
           r2[0].median * ms);
    printf("       of which up to the bundle open       %8.1f ms\n", j.open_best * ms);
    printf("     SQLite open + count(*) (baseline)      %8.1f ms [%.1f]   ratio %.1f [%.1f]\n",
           fg->count * ms, r2[1].median * ms, fg->play / fg->count, r2[0].median / r2[1].median);
    if (qk) {
        printf("     `quizkit play` process                 %8.1f ms [%.1f]\n", fg->play_proc * ms,
               r2[2].median * ms);
        printf("     `sqlite3 FILE count(*)` (baseline)     %8.1f ms [%.1f]   ratio %.1f [%.1f]\n",
               fg->count_proc * ms, r2[3].median * ms, fg->play_proc / fg->count_proc,
               r2[2].median / r2[3].median);
    }
    unlink(csv);
}

int main(int argc, char **argv)
{
    long sizes[8] = {10000, 100000};
    int n_sizes = 2;
    if (argc > 1) {
        n_sizes = 0;
        for (int i = 1; i < argc && n_sizes < 8; i++) {
            char *end = NULL;
            long v = strtol(argv[i], &end, 10);
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                printf("usage: bench_bundle [QUESTIONS...]   (default 10000 100000)\n"
                       "Builds and signs a bundle of each size, then times `bundle verify` against\n"
                       "sha256sum of the file and play start to the first question against SQLite's\n"
                       "count(*), and compares the largest size's play start with the smallest's.\n"
                       "QUIZKIT_BIN: the quizkit binary (default: ../quizkit beside this program).\n"
                       "BENCH_KEEP=1: keep the bundles and device folders.\n");
                return 0;
            }
            if (!end || *end || v < 100 || v > 10000000) {
                fprintf(stderr, "bench_bundle: %s: a number of questions from 100 to 10000000 "
                                "(--help)\n", argv[i]);
                return 2;
            }
            sizes[n_sizes++] = v;
        }
    }
    /* the quizkit binary: $QUIZKIT_BIN, or build/quizkit beside build/tests */
    static char qk_buf[1024];
    const char *qk = getenv("QUIZKIT_BIN");
    if (!qk || !*qk) {
        char self[1024];
        snprintf(self, sizeof self, "%s", argv[0]);
        snprintf(qk_buf, sizeof qk_buf, "%s/../quizkit", dirname(self));
        qk = qk_buf;
    }
    if (access(qk, X_OK) != 0) {
        fprintf(stderr, "bench_bundle: no quizkit binary at %s; timing in process only\n", qk);
        qk = NULL;
    }
    char *dir = qkt_tmpdir();
    qk_key *key = NULL;
    qk_key_generate(&key);
    figures fg[8];
    for (int i = 0; i < n_sizes; i++)
        measure(dir, qk, sizes[i], key, &fg[i]);
    if (n_sizes >= 2) {
        int a = 0, z = n_sizes - 1;
        printf("play start, %ld vs %ld questions: in process %.2fx", sizes[z], sizes[a],
               fg[z].play / fg[a].play);
        if (qk)
            printf(", process %.2fx", fg[z].play_proc / fg[a].play_proc);
        printf(" (goal <= 1.5x)\n");
    }
    qk_key_free(key);
    if (getenv("BENCH_KEEP")) /* to profile the files by hand */
        printf("files kept in %s\n", dir);
    else
        qkt_rmrf(dir);
    free(dir);
    return 0;
}
