/* embed.c: quizkit's engine inside a program (docs/embedding.md). Opens the
 * progress file, opens a bundle signed by a trusted key, takes three
 * questions of a theme, in order, for member m1 (answering A to a choice, 对
 * to a true-or-false question, 1921 to a blank), and lists the events a sync
 * would send. Exits 1 on any error, having said why.
 * usage: embed PROGRESS.db BUNDLE.qkb KEY.pub THEME */
#include <stdio.h>

#include <quizkit/engine.h>
#include <quizkit/key.h>
#include <quizkit/member.h>
#include <quizkit/session.h>

static int show(const qk_event_row *ev, void *arg)
{
    (void)arg;
    printf("event %lld %s\n", (long long)ev->seq, ev->kind);
    return 0;
}

int main(int argc, char **argv)
{
    qk_engine *e = NULL;
    qk_key *key = NULL;
    qk_bundle *b = NULL;
    qk_session *s = NULL;
    char msg[256];
    int status = 1;
    if (argc != 5) {
        fprintf(stderr, "usage: embed PROGRESS.db BUNDLE.qkb KEY.pub THEME\n");
        return 2;
    }
    if (qk_engine_open(&e, argv[1], QK_LANG_ZH) != QK_OK) {
        fprintf(stderr, "%s\n", e ? qk_engine_errmsg(e) : "out of memory");
        goto out;
    }
    if (qk_key_load(&key, argv[3], QK_LANG_ZH, msg, sizeof msg) != QK_OK) {
        fprintf(stderr, "%s\n", msg);
        goto out;
    }
    /* verified in full, and signed by the key: anything else is refused */
    if (qk_bundle_open_trusted(&b, argv[2], &key, 1, NULL, QK_LANG_ZH) != QK_OK) {
        fprintf(stderr, "%s\n", b ? qk_bundle_errmsg(b) : "out of memory");
        goto out;
    }
    int rc = qk_member_add(e, "m1", "张三", "b1", "1234");
    if (rc != QK_OK && rc != QK_EEXISTS) {
        fprintf(stderr, "%s\n", qk_engine_errmsg(e));
        goto out;
    }
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = argv[4];
    spec.count = 3;
    spec.order = QK_ORDER_SEQUENTIAL; /* the theme's first three, as written */
    if (qk_session_start(&s, e, b, "m1", &spec) != QK_OK) {
        fprintf(stderr, "%s\n", s ? qk_session_errmsg(s) : "out of memory");
        goto out;
    }
    qk_item it;
    qk_feedback fb;
    qk_summary sum;
    while ((rc = qk_session_next(s, &it)) == QK_ROW) {
        printf("%zu/%zu %s\n", it.index + 1, it.total, it.q->stem);
        const char *input = it.q->type == QK_Q_JUDGE ? "对" : it.q->type == QK_Q_FILL ? "1921" : "A";
        /* (QK_EINVAL: the input could not be read; a screen would ask again) */
        if (qk_session_answer(s, input, &fb, NULL) != QK_OK) {
            fprintf(stderr, "%s\n", qk_session_errmsg(s));
            goto out;
        }
        printf("  %s %s; %s\n", input, fb.correct ? "对" : "错", fb.right);
    }
    if (rc != QK_DONE || qk_session_finish(s, &sum) != QK_OK) {
        fprintf(stderr, "%s\n", qk_session_errmsg(s));
        goto out;
    }
    printf("%zu of %zu right\n", sum.correct, sum.total);
    if (qk_events_each(e, 0, show, NULL) != QK_OK) {
        fprintf(stderr, "%s\n", qk_engine_errmsg(e));
        goto out;
    }
    status = 0;
out:
    qk_session_free(s);
    qk_bundle_close(b);
    qk_key_free(key);
    qk_engine_close(e);
    return status;
}
