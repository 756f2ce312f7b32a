/* Allocation-failure torture (issue 14; libcurl's and SQLite's malloc
 * tests): every allocation our code makes goes through the linker's --wrap
 * (see tests/CMakeLists.txt), and each operation below is run again and
 * again with the 1st, 2nd, 3rd ... allocation failing, until a run makes no
 * more allocations than the failure point. Each run must end cleanly with
 * QK_OK, QK_ENOMEM or an ordinary error: no crash, no half-filled result
 * read as whole, and (under AddressSanitizer) nothing leaked. jansson's
 * allocations are failed too (json_set_alloc_funcs), so the request parser,
 * which is jansson throughout, is tortured where it allocates; SQLite's and
 * zlib's are theirs to test and are not failed. */
#include <execinfo.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "../../sync/src/request.h"
#include "qk_content.h"
#include "support.h"

/* --- the wrapped allocator --- */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long calls, fail_at; /* fail_at 0: never */

/* Where the failed allocation was made, printed when the run that failed it
 * went wrong (addr2line -e test_engine_alloc OFFSET names the line). */
static void *trace[10];
static int n_trace;

static int fails(void)
{
    int f = fail_at > 0 && ++calls == fail_at;
    if (f)
        n_trace = backtrace(trace, 10);
    return f;
}

void *__wrap_malloc(size_t n)
{
    return fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fails() ? NULL : __real_strdup(s);
}

static void *json_alloc(size_t n)
{
    return fails() ? NULL : __real_malloc(n);
}

/* Runs op with each allocation failing in turn; op returns its status. */
static void torture(const char *what, int (*op)(void *arg), void *arg)
{
    long n;
    for (n = 1; n < 100000; n++) {
        calls = 0;
        fail_at = n;
        int rc = op(arg);
        long made = calls;
        fail_at = 0;
        if (rc != QK_OK && rc != QK_ENOMEM && rc != QK_EINVAL && rc != QK_ECORRUPT) {
            backtrace_symbols_fd(trace, n_trace, 1);
            fail_msg("%s: allocation %ld failing gave status %d", what, n, rc);
        }
        if (made < n) { /* this run never reached the failure: every point is covered */
            if (rc != QK_OK)
                fail_msg("%s: with no failure it should succeed, got %d", what, rc);
            break;
        }
    }
    print_message("%s: %ld allocation points failed in turn\n", what, n - 1);
    assert_true(n > 1);
}

/* --- the operations --- */

static const char comp_json[] =
    "{\"id\":\"c1\",\"title\":\"党章知识竞赛\",\"theme\":\"t1\",\"count\":5,\"seed\":7,\"seconds\":20,"
    "\"opens\":\"2027-03-05 08:00\",\"closes\":\"2027-03-12 20:00\",\"full_within\":0.25,"
    "\"streak_bonus\":100,\"streak_max\":300,\"attempts\":2,\"teams\":\"dept\",\"guests\":true}";
static const char comp_fixed[] =
    "{\"id\":\"c2\",\"title\":\"固定题\",\"questions\":[\"s1\",\"j1\",\"m1\",\"f1\"],\"seconds\":30}";

static int parse_competition(void *arg)
{
    qk_competition *c = NULL;
    char msg[256];
    int rc = qk_competition_parse(&c, arg, QK_LANG_ZH, msg, sizeof msg);
    if (rc == QK_OK && (!c || !c->id || !c->title || strcmp(c->id, "") == 0))
        rc = -999; /* a "whole" result with holes */
    qk_competition_free(c);
    return rc;
}

static void the_competition_parser_survives_every_failed_allocation(void **state)
{
    (void)state;
    torture("competition (theme)", parse_competition, (void *)comp_json);
    torture("competition (fixed set)", parse_competition, (void *)comp_fixed);
}

static const char upload[] =
    "{\"events\":[{\"id\":\"01930000-0000-7000-8000-000000000001\","
    "\"device_id\":\"01930000-0000-7000-8000-0000000000aa\",\"seq\":1,\"member_id\":\"m1\","
    "\"bundle_id\":\"b\",\"bundle_version\":\"1\",\"kind\":\"answer\",\"attempt_id\":null,"
    "\"payload\":{\"q\":\"q1\",\"response\":\"B\",\"correct\":true},\"created_ms\":1764460800000}]}";

static int parse_upload(void *arg)
{
    (void)arg;
    char why[300];
    int forbidden = 0;
    json_t *ev = qk__parse_upload(upload, strlen(upload), "01930000-0000-7000-8000-0000000000aa",
                                  QK_LANG_EN, why, sizeof why, &forbidden);
    int rc = ev ? QK_OK : QK_ENOMEM;
    if (ev && json_array_size(ev) != 1)
        rc = -999;
    json_decref(ev);
    return rc;
}

static void the_request_parser_survives_every_failed_allocation(void **state)
{
    (void)state;
    torture("event upload", parse_upload, NULL);
}

typedef struct src {
    qk_source_format fmt;
    const char *text;
    size_t len; /* 0: strlen(text) */
    int want;   /* questions in it */
} src;

static int keep(const qk_question *q, int line, void *payload)
{
    (void)q;
    (void)line;
    (*(int *)payload)++;
    return 0;
}

/* A failed allocation must be said (an error), never a question quietly
 * missing from a file that reports none. */
static int parse_source(void *arg)
{
    const src *s = arg;
    int n = 0;
    size_t errors = qk_content_parse(s->fmt, "t", s->text, s->len ? s->len : strlen(s->text), "t1",
                                     QK_LANG_ZH, NULL, NULL, keep, &n);
    return errors ? QK_EINVAL : n == s->want ? QK_OK : -999;
}

static void the_importers_survive_every_failed_allocation(void **state)
{
    (void)state;
    src csv = {QK_SRC_CSV, "题型,题干,A,B,C,答案,解析\n单选,中国共产党成立于哪一年？,1919年,1921年,1927年,B,一大\n"
                           "判断,雷锋纪念日是3月5日。,,,,对,\n填空,一大闭幕于嘉兴____。,,,,南湖,\n", 0, 3};
    torture("CSV source", parse_source, &csv);
    src gift = {QK_SRC_GIFT,
                "$CATEGORY: 党史\n\n::一大::中国共产党成立于哪一年？{~1919年 =1921年 ~1927年#一大在上海召开}\n\n"
                "雷锋纪念日是3月5日。{T}\n\n一大闭幕于嘉兴{=南湖 =南湖红船}。\n",
                0, 3};
    torture("GIFT source", parse_source, &gift);
    src aiken = {QK_SRC_AIKEN,
                 "中国共产党成立于哪一年？\nA. 1919年\nB. 1921年\nC. 1927年\nANSWER: B\n\n"
                 "雷锋纪念日是哪一天？\nA) 3月5日\nB) 5月4日\nANSWER: A\n",
                 0, 2};
    torture("Aiken source", parse_source, &aiken);
    size_t len = 0;
    char *path = qkt_path(QKT_SOURCE_DIR "/content/templates", "题库模板.xlsx");
    char *xlsx = qkt_read(path, &len);
    src book = {QK_SRC_XLSX, xlsx, len, 4};
    torture(".xlsx source", parse_source, &book);
    free(xlsx);
    free(path);
}

static int answer(void *arg)
{
    const qk_question *q = arg;
    qk_response r;
    qk_answer_problem problem;
    int rc = qk_response_parse(&r, q, NULL, "1921|南湖", &problem);
    if (rc == QK_OK) {
        char *canon = NULL, *text = NULL;
        rc = qk_response_canonical(&canon, q, &r);
        if (rc == QK_OK)
            rc = qk_response_text(&text, q, NULL, &r, QK_LANG_ZH);
        free(canon);
        free(text);
        qk_response_clear(&r);
    }
    return rc;
}

static void answers_survive_every_failed_allocation(void **state)
{
    char *dir = qkt_tmpdir();
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qkt_open(dir, &e, &b);
    qk_question *q = NULL;
    assert_int_equal(qk_bundle_question(b, "f1", &q), QK_OK);
    torture("fill-in answer", answer, q);
    qk_question_free(q);
    qk_bundle_close(b);
    qk_engine_close(e);
    qkt_rmrf(dir);
    free(dir);
    (void)state;
}

/* The server's re-scoring of a finished practice attempt: the log read back,
 * the questions drawn again and every answer scored again. Its first
 * allocation, the session itself, failing once crashed it (clang-tidy's
 * analyzer found it: the competition points were recounted on a NULL session). */
typedef struct rescore_arg {
    char *db;
    qk_bundle *b;
    char attempt_id[40];
} rescore_arg;

static int rescore(void *arg)
{
    const rescore_arg *a = arg;
    qk_rescore r;
    char msg[256];
    int rc = qk_attempt_rescore(a->db, a->b, a->attempt_id, &r, QK_LANG_EN, msg, sizeof msg);
    if (rc == QK_OK && (r.answered != 4 || r.correct != 4 || !r.finished || r.mismatch))
        rc = -999;
    return rc;
}

/* The same judge through a rescorer, as the server runs it: the attempt's
 * events handed over in memory. */
typedef struct rescorer_arg {
    rescore_arg *a;
    qk_event_in ev[16];
    size_t n;
} rescorer_arg;

static int rescore_in_memory(void *arg)
{
    rescorer_arg *m = arg;
    qk_rescorer *r = NULL;
    int rc = qk_rescorer_new(&r);
    qk_rescore out;
    char msg[256];
    if (rc == QK_OK)
        rc = qk_rescorer_score(r, m->a->b, m->a->attempt_id, m->ev, m->n, NULL, NULL, &out, QK_LANG_EN, msg,
                               sizeof msg);
    if (rc == QK_OK && (out.answered != 4 || out.correct != 4 || !out.finished || out.mismatch))
        rc = -999;
    qk_rescorer_free(r);
    return rc;
}

static void rescoring_survives_every_failed_allocation(void **state)
{
    static const char *const right_t1[] = {"B", "A C", "对", "1921年|南湖"};
    char *dir = qkt_tmpdir();
    qk_engine *e = NULL;
    rescore_arg a = {qkt_path(dir, "progress.db"), NULL, ""};
    qkt_open(dir, &e, &a.b);
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = "t1";
    spec.order = QK_ORDER_SEQUENTIAL;
    spec.count = 0;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, e, a.b, NULL, &spec), QK_OK);
    qk_item it;
    for (size_t i = 0; qk_session_next(s, &it) == QK_ROW; i++) {
        qk_feedback fb;
        assert_true(i < 4);
        assert_int_equal(qk_session_answer(s, right_t1[i], &fb, NULL), QK_OK);
    }
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    snprintf(a.attempt_id, sizeof a.attempt_id, "%s", sum.attempt_id);
    qk_session_free(s);
    torture("re-scoring", rescore, &a);
    /* The attempt's events, read as a server's store would hand them over. */
    rescorer_arg m = {&a, {{0}}, 0};
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(a.db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT seq, kind, bundle_id, bundle_version, payload, created_ms"
                                           " FROM events WHERE attempt_id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, a.attempt_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && m.n < 16) {
        qk_event_in *e_in = &m.ev[m.n++];
        e_in->seq = sqlite3_column_int64(st, 0);
        e_in->kind = __real_strdup((const char *)sqlite3_column_text(st, 1));
        e_in->attempt_id = a.attempt_id;
        e_in->bundle_id = __real_strdup((const char *)sqlite3_column_text(st, 2));
        e_in->bundle_version = __real_strdup((const char *)sqlite3_column_text(st, 3));
        e_in->payload = __real_strdup((const char *)sqlite3_column_text(st, 4));
        e_in->created_ms = sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    torture("re-scoring in memory", rescore_in_memory, &m);
    for (size_t i = 0; i < m.n; i++) {
        free((char *)m.ev[i].kind);
        free((char *)m.ev[i].bundle_id);
        free((char *)m.ev[i].bundle_version);
        free((char *)m.ev[i].payload);
    }
    qk_bundle_close(a.b);
    qk_engine_close(e);
    qkt_rmrf(dir);
    free(a.db);
    free(dir);
    (void)state;
}

int main(void)
{
    json_set_alloc_funcs(json_alloc, free);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_competition_parser_survives_every_failed_allocation),
        cmocka_unit_test(the_request_parser_survives_every_failed_allocation),
        cmocka_unit_test(the_importers_survive_every_failed_allocation),
        cmocka_unit_test(answers_survive_every_failed_allocation),
        cmocka_unit_test(rescoring_survives_every_failed_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
