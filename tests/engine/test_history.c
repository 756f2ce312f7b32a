/* Tests for engine/src/history.c: attempts derived from the event log. */
#include <stdlib.h>
#include <string.h>

#include "support.h"

static void history_lists_attempts_newest_first_per_member(void **state)
{
    (void)state;
    char *dir = qkt_tmpdir();
    qk_engine *e = NULL;
    qk_bundle *b = NULL;
    qkt_open(dir, &e, &b);
    qkt_clock clock = {1767225600000};
    qk_engine_set_clock(e, qkt_clock_fn, &clock);
    assert_int_equal(qk_member_add(e, "m1", "张三", "", "1234"), QK_OK);

    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = "t1";
    spec.order = QK_ORDER_SEQUENTIAL;
    qk_session *s = NULL;
    qk_item it;
    assert_int_equal(qk_session_start(&s, e, b, "m1", &spec), QK_OK);
    const char *answers[] = {"B", "AC", "错", "1921|嘉兴"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(qk_session_next(s, &it), QK_ROW);
        assert_int_equal(qk_session_answer(s, answers[i], NULL, NULL), QK_OK);
    }
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    qk_session_free(s);

    clock.now_ms += 3600 * 1000;
    spec.theme = "t2";
    spec.mode = QK_MODE_EXAM;
    assert_int_equal(qk_session_start(&s, e, b, "m1", &spec), QK_OK);
    qk_session_free(s); /* left unfinished */

    assert_int_equal(qk_session_start(&s, e, b, NULL, &spec), QK_OK); /* a guest */
    qk_session_free(s);

    qk_attempt_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(qk_history_list(e, "m1", &rows, &n), QK_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].theme, "t2");
    assert_string_equal(rows[0].mode, "exam");
    assert_int_equal(rows[0].finished_ms, 0);
    assert_string_equal(rows[1].theme, "t1");
    assert_int_equal(rows[1].started_ms, 1767225600000);
    assert_true(rows[1].finished_ms > 0);
    assert_int_equal(rows[1].total, 4);
    assert_int_equal(rows[1].answered, 4);
    assert_int_equal(rows[1].correct, 3);
    assert_int_equal(rows[1].score, 500);
    assert_int_equal(rows[1].max, 600);
    qk_history_free(rows, n);

    assert_int_equal(qk_history_list(e, NULL, &rows, &n), QK_OK);
    assert_int_equal(n, 1);
    qk_history_free(rows, n);

    qk_engine_close(e);
    qk_bundle_close(b);
    qkt_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(history_lists_attempts_newest_first_per_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
