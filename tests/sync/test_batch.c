/* Tests for sync/src/batch.c, store.c and store_sqlite.c: the file transport.
 * Real progress files, a real server store, real signatures. */
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>
#include <zlib.h>

#include "../../sync/src/store.h"
#include "../../sync/src/sync_msg.h"
#include "qk_server.h"
#include "qk_stats.h"
#include "qk_sync.h"
#include "support.h"

typedef struct sx {
    char *dir, *spec, *db, *batch, *ack; /* db: the store's tables as a SQLite file (srv) */
    qk_engine *e;
    qk_bundle *b;
    qk_key *key;
    qk_store *store;
} sx;

static void play(sx *x, int answers)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = "t1";
    spec.order = QK_ORDER_SEQUENTIAL;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, x->e, x->b, NULL, &spec), QK_OK);
    qk_item it;
    for (int i = 0; i < answers && qk_session_next(s, &it) == QK_ROW; i++) {
        const char *in = it.q->type == QK_Q_JUDGE ? "对" : it.q->type == QK_Q_FILL ? "1921|南湖" : "A";
        assert_int_equal(qk_session_answer(s, in, NULL, NULL), QK_OK);
    }
    qk_session_free(s);
}

static int setup(void **state)
{
    sx *x = calloc(1, sizeof *x);
    x->dir = qkt_tmpdir();
    qkt_open(x->dir, &x->e, &x->b);
    x->batch = qkt_path(x->dir, "batch.qkd");
    x->ack = qkt_path(x->dir, "ack.json");
    assert_int_equal(qk_key_generate(&x->key), QK_OK);
    x->spec = qkt_store_spec(x->dir);
    assert_int_equal(qk_store_open(&x->store, x->spec, QK_LANG_EN), QK_OK);
    *state = x;
    return 0;
}

/* The server's tables as they are now, in a SQLite file (the store's own
 * file on SQLite; a copy on PostgreSQL). */
static const char *srv(sx *x)
{
    free(x->db);
    x->db = qkt_store_snapshot(x->spec, x->dir);
    return x->db;
}

static int teardown(void **state)
{
    sx *x = *state;
    qk_store_close(x->store);
    qk_key_free(x->key);
    qk_engine_close(x->e);
    qk_bundle_close(x->b);
    qkt_rmrf(x->dir);
    free(x->dir);
    free(x->db);
    free(x->spec);
    free(x->batch);
    free(x->ack);
    free(x);
    return 0;
}

static size_t export(sx *x, int64_t after)
{
    size_t n = 0;
    char msg[512];
    assert_int_equal(qk_batch_export(x->e, x->key, x->batch, after, &n, msg, sizeof msg), QK_OK);
    return n;
}

static void a_batch_travels_and_comes_back_acknowledged(void **state)
{
    sx *x = *state;
    play(x, 3); /* start + 3 answers = 4 events */
    assert_int_equal(export(x, 0), 4);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_string_equal(r.device_id, qk_engine_device_id(x->e));
    assert_int_equal(r.received, 4);
    assert_int_equal(r.inserted, 4);
    assert_int_equal(r.acked_seq, 4);
    assert_int_equal(r.n_gaps, 0);
    /* Importing the same file again changes nothing. */
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.inserted, 0);
    assert_int_equal(r.duplicates, 4);
    int64_t n = 0;
    assert_int_equal(qk_store_event_count(x->store, &n), QK_OK);
    assert_int_equal(n, 4);
    /* The acknowledgement goes back; then only new events are exported. */
    assert_int_equal(qk_store_write_ack(x->store, r.device_id, x->key, x->ack), QK_OK);
    int64_t acked = 0;
    char msg[512];
    assert_int_equal(qk_ack_apply(x->e, x->ack, NULL, NULL, &acked, msg, sizeof msg), QK_OK);
    assert_int_equal(acked, 4);
    assert_int_equal(export(x, acked), 0);
    play(x, 1);
    assert_int_equal(export(x, acked), 2);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.acked_seq, 6);
}

static void gaps_hold_back_the_acknowledgement(void **state)
{
    sx *x = *state;
    play(x, 4);
    assert_int_equal(export(x, 2), 3); /* 3..5 only, as if the first file was lost */
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.acked_seq, 0);
    assert_int_equal(r.n_gaps, 1);
    assert_int_equal(r.gaps[0][0], 1);
    assert_int_equal(r.gaps[0][1], 2);
    assert_int_equal(export(x, 0), 5); /* the device sends all unacknowledged ones */
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.duplicates, 3);
    assert_int_equal(r.acked_seq, 5);
    assert_int_equal(r.n_gaps, 0);
}

static void write_body(sx *x, const qk_key *key, const char *body);

/* Rewrites the batch body with edit applied to the first event, re-signed
 * with key (a device that lies) or not re-signed (a damaged file). */
static void rewrite_at(sx *x, const qk_key *key, const char *field, const char *value, int last);

static void rewrite(sx *x, const qk_key *key, const char *new_payload)
{
    rewrite_at(x, key, "payload", new_payload, 0);
}

static void rewrite_last(sx *x, const qk_key *key, const char *new_payload)
{
    rewrite_at(x, key, "payload", new_payload, 1);
}

/* The events of the exported batch file (after its header line). */
static json_t *batch_events(sx *x)
{
    size_t len = 0;
    int err = 0;
    char *text = qk__read_maybe_gz(x->batch, &len, &err);
    assert_non_null(text);
    json_error_t jerr;
    json_t *events = json_loads(strchr(text, '\n') + 1, 0, &jerr);
    assert_non_null(events);
    free(text);
    return events;
}

/* field of the first (or last) event set to value (JSON text). */
static void rewrite_at(sx *x, const qk_key *key, const char *field, const char *value, int last)
{
    json_error_t jerr;
    json_t *events = batch_events(x);
    size_t at = last ? json_array_size(events) - 1 : 0;
    json_object_set_new(json_array_get(events, at), field, json_loads(value, JSON_DECODE_ANY, &jerr));
    char *body = json_dumps(events, JSON_COMPACT | JSON_ENSURE_ASCII);
    write_body(x, key, body);
    free(body);
    json_decref(events);
}

static void an_altered_file_is_refused_whole(void **state)
{
    sx *x = *state;
    play(x, 2);
    export(x, 0);
    rewrite(x, NULL, "{\"forged\":true}");
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_ECORRUPT);
    assert_non_null(strstr(qk_store_errmsg(x->store), "does not match its signature"));
    int64_t n = -1;
    qk_store_event_count(x->store, &n);
    assert_int_equal(n, 0);
    /* Not a batch at all. */
    qkt_write(x->batch, "hello");
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_ECORRUPT);
}

/* The batch file with body as its body text, signed by key over it (a
 * device that lies) or keeping the old header (a damaged file). */
static void write_body(sx *x, const qk_key *key, const char *body)
{
    size_t len = 0;
    int err = 0;
    char *text = qk__read_maybe_gz(x->batch, &len, &err);
    assert_non_null(text);
    char *nl = strchr(text, '\n');
    json_error_t jerr;
    json_t *head = json_loadb(text, (size_t)(nl - text), 0, &jerr);
    if (key) {
        char hex[65], sig_hex[2 * QK_KEY_SIG_MAX + 1];
        unsigned char hash[32], sig[QK_KEY_SIG_MAX];
        size_t sl = 0;
        qk_sha256_hex(hex, body, strlen(body));
        qk__unhex(hash, sizeof hash, hex);
        assert_int_equal(qk_key_sign(key, hash, sig, &sl), QK_OK);
        qk__hex(sig_hex, sig, sl);
        json_object_set_new(head, "body_sha256", json_string(hex));
        json_object_set_new(head, "signature", json_string(sig_hex));
        char *pem = NULL;
        qk_key_public_pem(key, &pem);
        json_object_set_new(head, "device_key", json_string(pem));
        free(pem);
    }
    char *h = json_dumps(head, JSON_COMPACT);
    FILE *f = fopen(x->batch, "wb");
    fprintf(f, "%s\n%s\n", h, body);
    fclose(f);
    free(h);
    json_decref(head);
    free(text);
}

/* The body text of the batch file. */
static char *body_of(sx *x)
{
    size_t len = 0;
    int err = 0;
    char *text = qk__read_maybe_gz(x->batch, &len, &err);
    assert_non_null(text);
    char *body = strdup(strchr(text, '\n') + 1);
    body[strcspn(body, "\n")] = '\0';
    free(text);
    return body;
}

static void refused_whole(sx *x, const char *why)
{
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_ECORRUPT);
    if (!strstr(qk_store_errmsg(x->store), why))
        fail_msg("'%s' does not say '%s'", qk_store_errmsg(x->store), why);
    int64_t n = -1;
    qk_store_event_count(x->store, &n);
    assert_int_equal(n, 0);
}

/* Issue 17: a USB file is read as it streams, events stored as they come in
 * one transaction, and the body's digest known only at its end: whatever is
 * wrong anywhere in the file, nothing of it is kept, and the message names
 * the real fault (a damaged file is damaged, not "event 2 is invalid"). */
static void a_streamed_file_is_judged_at_its_end(void **state)
{
    sx *x = *state;
    play(x, 3); /* 4 events */
    export(x, 0);
    char *body = body_of(x);
    size_t n = strlen(body);
    char *edited = malloc(n + 3 * 1024 * 1024);

    /* damaged in the middle: event 2's kind no longer a string */
    snprintf(edited, n + 1, "%s", body);
    char *kind = strstr(strstr(edited, "\"kind\"") + 1, "\"kind\"");
    assert_non_null(kind);
    memcpy(kind, "\"kin\" ", 6);
    write_body(x, NULL, edited);
    refused_whole(x, "does not match its signature");

    /* cut short (a copy stopped half-way) */
    snprintf(edited, n - 40, "%s", body);
    write_body(x, NULL, edited);
    refused_whole(x, "does not match its signature");

    /* signed, but something after the events */
    snprintf(edited, n + 16, "%s{\"x\":1}", body);
    write_body(x, x->key, edited);
    refused_whole(x, "is not a quizkit batch file");

    /* signed, but not an array of events */
    write_body(x, x->key, "{\"events\":[]}");
    refused_whole(x, "is not a quizkit batch file");

    /* signed, with a 2 MB event after the first: no device writes one */
    char *second = strstr(body, "},{\"");
    assert_non_null(second);
    size_t head = (size_t)(second - body) + 2; /* "[{...}," */
    memcpy(edited, body, head);
    int w = snprintf(edited + head, 64, "{\"id\":\"x\",\"payload\":{\"pad\":\"");
    memset(edited + head + w, 'a', 2 * 1024 * 1024);
    snprintf(edited + head + w + 2 * 1024 * 1024, n + 64, "\"}},%s", body + head);
    write_body(x, x->key, edited);
    refused_whole(x, "event 2 is larger than 1 MB");

    /* and the file as the device wrote it still comes in whole */
    export(x, 0);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.inserted, 4);
    free(edited);
    free(body);
}

/* Issue 14, item 9: an event dated past 9999-12-31 (Beijing) stopped every
 * statistic of every branch. The server refuses it, naming the event and the
 * field, and takes nothing from the file. */
static void event_times_are_bounded(void **state)
{
    sx *x = *state;
    play(x, 2);
    export(x, 0);
    rewrite_at(x, x->key, "created_ms", "4611686018427387904", 1); /* 2^62 ms, signed by the device */
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_ECORRUPT);
    const char *msg = qk_store_errmsg(x->store);
    assert_non_null(strstr(msg, "event 3"));
    assert_non_null(strstr(msg, "created_ms"));
    int64_t n = -1;
    qk_store_event_count(x->store, &n);
    assert_int_equal(n, 0);
    /* the last moment of 9999 (Beijing time) is still a time */
    export(x, 0);
    rewrite_at(x, x->key, "created_ms", "253402271999999", 1);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.inserted, 3);
}

/* A file longer than the reader runs ahead of the writes (256 events) is
 * read on its own thread while its events are stored: taken in whole; with
 * its last event invalid, nothing is kept and the message names that event
 * (the events before it were stored, then undone). */
static void a_long_file_is_read_while_it_is_stored(void **state)
{
    sx *x = *state;
    for (int i = 0; i < 150; i++)
        play(x, 3); /* a start and three answers each */
    export(x, 0);
    rewrite_at(x, x->key, "created_ms", "4611686018427387904", 1);
    refused_whole(x, "event 600 has a missing or invalid created_ms");
    export(x, 0);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.inserted, 600);
    assert_int_equal(r.acked_seq, 600);
}

static void same_id_other_content_is_a_conflict(void **state)
{
    sx *x = *state;
    play(x, 2);
    export(x, 0);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    rewrite(x, x->key, "{\"mode\":\"exam\"}"); /* the device signs a changed event */
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.conflicts, 1);
    assert_int_equal(r.duplicates, 2);
    assert_int_equal(r.inserted, 0);
}

static void a_device_keeps_its_key(void **state)
{
    sx *x = *state;
    play(x, 1);
    export(x, 0);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    qk_key *other = NULL;
    qk_key_generate(&other);
    size_t n = 0;
    char msg[512];
    assert_int_equal(qk_batch_export(x->e, other, x->batch, 0, &n, msg, sizeof msg), QK_OK);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_ESIGNATURE);
    assert_non_null(strstr(qk_store_errmsg(x->store), "another key"));
    /* which of the files on the stick it was */
    assert_non_null(strstr(qk_store_errmsg(x->store), x->batch));
    qk_key_free(other);
}

static void acknowledgements_are_checked_on_the_device(void **state)
{
    sx *x = *state;
    play(x, 1);
    char msg[512];
    int64_t acked = 0;
    qkt_write(x->ack, "{\"format\":\"quizkit-ack\",\"device_id\":\"01234567-89ab-7def-8123-456789abcdef\",\"acked_seq\":1}");
    assert_int_equal(qk_ack_apply(x->e, x->ack, NULL, NULL, &acked, msg, sizeof msg), QK_EINVAL);
    assert_non_null(strstr(msg, "is for device"));
    char text[256];
    snprintf(text, sizeof text, "{\"format\":\"quizkit-ack\",\"device_id\":\"%s\",\"acked_seq\":99}",
             qk_engine_device_id(x->e));
    qkt_write(x->ack, text);
    /* Unsigned: refused, and nothing moves. */
    assert_int_equal(qk_ack_apply(x->e, x->ack, NULL, NULL, &acked, msg, sizeof msg), QK_ESIGNATURE);
    assert_non_null(strstr(msg, "no valid signature"));
    qkt_write(x->ack, "not json");
    assert_int_equal(qk_ack_apply(x->e, x->ack, NULL, NULL, &acked, msg, sizeof msg), QK_ECORRUPT);
}

/* A signed acknowledgement cannot be edited, and a device that knows its
 * server's key refuses another server's. */
static void acknowledgements_are_signed(void **state)
{
    sx *x = *state;
    play(x, 2);
    size_t n = 0;
    char msg[512];
    assert_int_equal(qk_batch_export(x->e, x->key, x->batch, 0, &n, msg, sizeof msg), QK_OK);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    qk_key *server = NULL, *other = NULL;
    assert_int_equal(qk_key_generate(&server), QK_OK);
    assert_int_equal(qk_key_generate(&other), QK_OK);
    char *server_pem = NULL, *got = NULL;
    assert_int_equal(qk_key_public_pem(server, &server_pem), QK_OK);
    /* Edited after signing: the count no longer matches the signature. */
    assert_int_equal(qk_store_write_ack(x->store, r.device_id, server, x->ack), QK_OK);
    json_error_t je;
    json_t *ack = json_load_file(x->ack, 0, &je);
    json_int_t held = json_integer_value(json_object_get(ack, "acked_seq"));
    assert_true(held > 1);
    json_object_set_new(ack, "acked_seq", json_integer(held - 1));
    assert_int_equal(json_dump_file(ack, x->ack, 0), 0);
    json_decref(ack);
    int64_t acked = 0;
    assert_int_equal(qk_ack_apply(x->e, x->ack, NULL, &got, &acked, msg, sizeof msg), QK_ESIGNATURE);
    assert_null(got);
    /* Signed by another server than the one this device trusts. */
    assert_int_equal(qk_store_write_ack(x->store, r.device_id, other, x->ack), QK_OK);
    assert_int_equal(qk_ack_apply(x->e, x->ack, server_pem, &got, &acked, msg, sizeof msg), QK_ESIGNATURE);
    assert_non_null(strstr(msg, "another server"));
    int64_t still = 0, last = 0;
    assert_int_equal(qk_engine_sync_state(x->e, &still, &last), QK_OK);
    assert_int_equal(still, 0);
    /* The real one: applied, and its key handed back to remember. */
    assert_int_equal(qk_store_write_ack(x->store, r.device_id, server, x->ack), QK_OK);
    assert_int_equal(qk_ack_apply(x->e, x->ack, server_pem, &got, &acked, msg, sizeof msg), QK_OK);
    assert_int_equal(acked, held);
    assert_string_equal(got, server_pem);
    free(got);
    free(server_pem);
    qk_key_free(server);
    qk_key_free(other);
}

/* A quiz of mode (daily, or a challenge of theme t1) for member, every
 * answer right, a second of the clock between answers. */
static void right_quiz(qk_engine *e, qk_bundle *b, const char *member, qk_mode mode, qkt_clock *clock)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = mode;
    spec.order = QK_ORDER_SEQUENTIAL;
    spec.theme = mode == QK_MODE_CHALLENGE ? "t1" : NULL;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, e, b, member, &spec), QK_OK);
    qk_item it;
    while (qk_session_next(s, &it) == QK_ROW) {
        const qk_question *q = it.q;
        char in[16] = "A";
        if (q->type == QK_Q_JUDGE)
            snprintf(in, sizeof in, "%s", q->judge_answer ? "对" : "错");
        else if (q->type == QK_Q_FILL)
            snprintf(in, sizeof in, "1921|南湖");
        else {
            size_t n = 0;
            for (size_t d = 0; d < q->n_options; d++) {
                if (q->options[it.perm[d]].correct)
                    in[n++] = (char)('A' + d);
            }
            in[n] = '\0';
        }
        assert_int_equal(qk_session_answer(s, in, NULL, NULL), QK_OK);
        clock->now_ms += 1000;
    }
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
}

/* The same rules over the same events give the same points on the device and
 * on the server: several days of daily quizzes and challenges for a member,
 * with caps hit and a streak, exported and imported by file. */
static void server_recomputes_the_device_points(void **state)
{
    sx *x = *state;
    qkt_clock clock = {1772676000000LL}; /* 2026-03-05 10:00 Beijing */
    qk_engine_set_clock(x->e, qkt_clock_fn, &clock);
    assert_int_equal(qk_member_add(x->e, "m1", "张三", "", "1234"), QK_OK);
    for (int day = 0; day < 3; day++) {
        right_quiz(x->e, x->b, "m1", QK_MODE_DAILY, &clock);
        right_quiz(x->e, x->b, "m1", QK_MODE_CHALLENGE, &clock);
        clock.now_ms += 24LL * 3600 * 1000;
    }
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(x->e, x->b, "m1", &p), QK_OK);
    /* daily 5/day (capped) + challenge 4/day + streak 1 on days 2 and 3 */
    assert_int_equal(p.total, 3 * 5 + 3 * 4 + 2);
    char *progress = qkt_path(x->dir, "progress.db");
    int64_t device_total = -1, server_total = -1;
    char msg[256];
    assert_int_equal(qk_points_recompute(progress, x->b, "m1", &device_total, msg, sizeof msg), QK_OK);
    assert_int_equal(device_total, p.total);
    assert_true(export(x, 0) > 0);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(qk_points_recompute(srv(x), x->b, "m1", &server_total, msg, sizeof msg), QK_OK);
    assert_int_equal(server_total, p.total);
    free(progress);
}

/* The fixture published on the server, and on the device (its clock at
 * *clock, which stays the engine's) member m1 added and through a daily
 * quiz answered right. */
static void m1_took_a_daily_quiz(sx *x, qkt_clock *clock)
{
    qkt_publish_fixture(x->store, x->dir);
    qk_engine_set_clock(x->e, qkt_clock_fn, clock);
    assert_int_equal(qk_member_add(x->e, "m1", "张三", "", "1234"), QK_OK);
    right_quiz(x->e, x->b, "m1", QK_MODE_DAILY, clock);
}

/* The server's points, as its statistics read them. */
static int64_t server_points(sx *x, const char *member)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(srv(x), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT server_total FROM points_judged WHERE member_id = ?", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Each device's claim for the member (kept batch by batch, each adding the
 * award events stored since) is the sum of all its award events; returns
 * the claims compared. */
static int claims_add_up(sx *x, const char *member)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(srv(x), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT claimed, (SELECT coalesce(sum(json_extract(payload, '$.amount')), 0)"
                                            " FROM events e WHERE e.member_id = c.member_id AND e.device_id = c.device_id"
                                            " AND e.kind IN ('points.award', 'points.correction'))"
                                            " FROM points_claims c WHERE member_id = ?", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_true(sqlite3_column_int64(st, 1) > 0);
        assert_int_equal(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* One replay of every event the server holds for the member. */
static int64_t replayed_points(sx *x, const char *member)
{
    int64_t total = -1;
    char msg[256];
    assert_int_equal(qk_points_recompute(srv(x), x->b, member, &total, msg, sizeof msg), QK_OK);
    return total;
}

/* The server's clock, stopped at at_ms. */
static void server_at(sx *x, int64_t at_ms)
{
    qk_clock c = {.set = 1, .at_ms = at_ms, .anchor_ms = qk_clock_real_mono_ms(), .rate_milli = 0};
    qk_store_use_clock(x->store, &c);
}

/* What the server expects the device to have awarded the member, and what
 * it did (*claimed). */
static int64_t claim_expected(sx *x, const char *member, int64_t *claimed)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(srv(x), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT claimed, expected FROM points_claims WHERE member_id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *claimed = sqlite3_column_int64(st, 0);
    int64_t v = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* An activity counts on the Beijing day its attempt began by the device's
 * clock; the server takes no points for a day that had not begun when the
 * events reached it. A device with its clock set three days ahead earns
 * nothing there (its own award stands against none expected); what it did
 * counts once sent after its day began (a device offline for days); a
 * clock 40 minutes fast at midnight loses nothing. */
static void points_ahead_of_the_server_are_not_taken(void **state)
{
    sx *x = *state;
    qkt_publish_fixture(x->store, x->dir);
    const int64_t day = 24LL * 3600 * 1000, start = 1772676000000LL; /* 2026-03-05 10:00 Beijing */
    server_at(x, start);
    qkt_clock clock = {start + 3 * day};
    qk_engine_set_clock(x->e, qkt_clock_fn, &clock);
    assert_int_equal(qk_member_add(x->e, "m1", "张三", "", "1234"), QK_OK);
    assert_int_equal(qk_member_add(x->e, "m2", "李四", "", "1234"), QK_OK);
    assert_int_equal(qk_member_add(x->e, "m3", "王五", "", "1234"), QK_OK);
    right_quiz(x->e, x->b, "m1", QK_MODE_DAILY, &clock);
    qk_points_summary p;
    assert_int_equal(qk_points_summary_get(x->e, x->b, "m1", &p), QK_OK);
    assert_true(p.total > 0); /* awarded on the device */
    qk_import_result r;
    assert_true(export(x, 0) > 0);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(server_points(x, "m1"), 0);
    int64_t claimed = 0;
    assert_int_equal(claim_expected(x, "m1", &claimed), 0);
    assert_int_equal(claimed, p.total);

    /* m2's quiz, the same day by the device, sent once that day has begun */
    right_quiz(x->e, x->b, "m2", QK_MODE_DAILY, &clock);
    server_at(x, start + 3 * day + 2 * 3600 * 1000);
    assert_true(export(x, 0) > 0);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(qk_points_summary_get(x->e, x->b, "m2", &p), QK_OK);
    assert_true(p.total > 0);
    assert_int_equal(server_points(x, "m2"), p.total);
    assert_int_equal(claim_expected(x, "m2", &claimed), p.total);
    /* and m1's first, received before its day, stays without (m1 judged
     * again with a later quiz, which counts) */
    right_quiz(x->e, x->b, "m1", QK_MODE_CHALLENGE, &clock);
    assert_true(export(x, 0) > 0);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(qk_points_summary_get(x->e, x->b, "m1", &p), QK_OK);
    int64_t m1_server = server_points(x, "m1");
    assert_true(m1_server > 0 && m1_server < p.total);

    /* m3 at 00:10 by a clock 40 minutes fast, the server at 23:30 */
    int64_t midnight = start - 10 * 3600 * 1000 + 5 * day; /* 2026-03-10 00:00 Beijing */
    clock.now_ms = midnight + 10 * 60 * 1000;
    server_at(x, midnight - 30 * 60 * 1000);
    right_quiz(x->e, x->b, "m3", QK_MODE_DAILY, &clock);
    assert_true(export(x, 0) > 0);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(qk_points_summary_get(x->e, x->b, "m3", &p), QK_OK);
    assert_true(p.total > 0);
    assert_int_equal(server_points(x, "m3"), p.total);
}

/* Issue 17: the judge keeps each member's points replay between batches and
 * adds only the new events when they come after those it has seen. Seen
 * from outside through a kept replay made to hold 1,000 points more than
 * the events give: a later batch of the same device keeps them (only its
 * events were added), and a batch from another device with events from
 * before (its clock was behind) makes the judge replay everything again.
 * Each device's claim (the sum of its own award events) is kept the same
 * way, and adds up. */
static void the_judge_adds_new_events_to_the_replay_it_kept(void **state)
{
    sx *x = *state;
    qkt_clock clock = {1772676000000LL}; /* 2026-03-05 10:00 Beijing */
    m1_took_a_daily_quiz(x, &clock);
    qk_import_result r;
    assert_true(export(x, 0) > 0);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    int64_t first = server_points(x, "m1");
    assert_true(first > 0);
    assert_int_equal(first, replayed_points(x, "m1"));

    /* The replay kept for every device's events, made 1,000 points richer. */
    qk__points_fold f;
    assert_int_equal(x->store->ops->points_fold_get(x->store, "m1", NULL, &f), QK_OK);
    qk_points_replay *rp = NULL;
    assert_int_equal(qk_points_replay_resume(&rp, x->b, f.state, f.len), QK_OK);
    qk_point_event corr = {.kind = "points.correction", .counts_at = clock.now_ms, .amount = 1000};
    assert_int_equal(qk_points_replay_add(rp, &corr), QK_OK);
    unsigned char *blob = NULL;
    size_t len = 0;
    assert_int_equal(qk_points_replay_save(rp, &blob, &len), QK_OK);
    int64_t t;
    assert_int_equal(qk_points_replay_end(rp, &t, NULL, NULL), QK_OK);
    assert_int_equal(t, first + 1000);
    free(f.state);
    f.state = blob;
    f.len = len;
    assert_int_equal(x->store->ops->points_fold_put(x->store, "m1", NULL, &f), QK_OK);
    free(blob);

    /* The next day's quiz on the same device: added to the kept replay. */
    clock.now_ms += 24LL * 3600 * 1000;
    int64_t acked = r.acked_seq;
    right_quiz(x->e, x->b, "m1", QK_MODE_DAILY, &clock);
    assert_true(export(x, acked) > 0);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    int64_t both = replayed_points(x, "m1");
    assert_true(both > first);
    assert_int_equal(server_points(x, "m1"), both + 1000);
    assert_int_equal(claims_add_up(x, "m1"), 1); /* the first day's awards and the second's */

    /* Another device, whose quiz began before the first device's last one. */
    char *dir2 = qkt_path(x->dir, "second");
    assert_int_equal(mkdir(dir2, 0700), 0);
    qk_engine *e2 = NULL;
    qk_bundle *b2 = NULL;
    qkt_open(dir2, &e2, &b2);
    qkt_clock behind = {clock.now_ms - 3600 * 1000};
    qk_engine_set_clock(e2, qkt_clock_fn, &behind);
    assert_int_equal(qk_member_add(e2, "m1", "张三", "", "1234"), QK_OK);
    right_quiz(e2, b2, "m1", QK_MODE_CHALLENGE, &behind);
    qk_key *key2 = NULL;
    assert_int_equal(qk_key_generate(&key2), QK_OK);
    size_t n = 0;
    char msg[512];
    assert_int_equal(qk_batch_export(e2, key2, x->batch, 0, &n, msg, sizeof msg), QK_OK);
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    int64_t all = replayed_points(x, "m1");
    assert_true(all > both);
    assert_int_equal(server_points(x, "m1"), all); /* everything replayed: the 1,000 are gone */
    assert_int_equal(claims_add_up(x, "m1"), 2);
    qk_key_free(key2);
    qk_engine_close(e2);
    qk_bundle_close(b2);
    free(dir2);
}

/* Branch b1 with member m1 on the server's roster, and m1 on the device,
 * its clock at *clock. */
static void m1_of_b1(sx *x, qkt_clock *clock)
{
    assert_int_equal(qk_admin_branch_add(x->store, "b1", "第一党支部"), QK_OK);
    qk_roster_member rm = {0};
    snprintf(rm.id, sizeof rm.id, "m1");
    snprintf(rm.name, sizeof rm.name, "张三");
    snprintf(rm.branch, sizeof rm.branch, "b1");
    assert_int_equal(qk_admin_member_add(x->store, &rm, "1234"), QK_OK);
    qk_engine_set_clock(x->e, qkt_clock_fn, clock);
    assert_int_equal(qk_member_add(x->e, "m1", "张三", "b1", "1234"), QK_OK);
}

/* Issue 14, item 8: a +100 points award forged into a device's log showed
 * as 105 points on the server, where the bundle's rules give 5. The server
 * judges points from the events and the rules: its statistics show its own
 * figure, and the member is listed as doubtful with both. */
static void judge_forged_award(sx *x, int own_batch)
{
    qkt_publish_fixture(x->store, x->dir);
    qkt_clock clock = {1772676000000LL}; /* 5 March 2026, 10:00 Beijing */
    m1_of_b1(x, &clock);
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_DAILY;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, x->e, x->b, "m1", &spec), QK_OK);
    qk_item it;
    while (qk_session_next(s, &it) == QK_ROW) {
        const char *in = it.q->type == QK_Q_JUDGE ? "对" : it.q->type == QK_Q_FILL ? "1921|南湖" : "A";
        assert_int_equal(qk_session_answer(s, in, NULL, NULL), QK_OK);
    }
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    qk_session_free(s);
    int honest = sum.points;
    int64_t after = 0;
    if (own_batch) { /* the honest quiz reaches the server first, on its own */
        assert_true(export(x, 0) > 0);
        qk_import_result r0;
        assert_int_equal(qk_store_import(x->store, x->batch, &r0), QK_OK);
        after = r0.acked_seq;
    }
    /* the forger appends an award of 100 to the device's own log */
    char *progress = qkt_path(x->dir, "progress.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(progress, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO events(id, device_id, seq, member_id, kind, payload,"
                                  " created_ms) SELECT '01950000-0000-7000-8000-00000000f00d', id,"
                                  " (SELECT max(seq) + 1 FROM events), 'm1', 'points.award',"
                                  " '{\"activity\":\"daily\",\"amount\":100,\"day\":\"2026-03-05\",\"ref\":\"x\"}',"
                                  " 1772676060000 FROM device",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_true(export(x, after) > 0);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    if (own_batch)
        assert_int_equal(r.inserted, 1); /* the award alone, naming no bundle */
    qk_stats_query q = {QK_STATS_MEMBERS, 0, 0, x->b, 0};
    assert_int_equal(qk_stats_parse_day("2026-03-01", &q.from_day), 0);
    assert_int_equal(qk_stats_parse_day("2026-03-31", &q.to_day), 0);
    json_t *t = NULL;
    char msg[256];
    assert_int_equal(qk_store_stats(x->store, NULL, &q, QK_LANG_EN, &t, msg, sizeof msg), QK_OK);
    json_t *m1 = json_array_get(json_object_get(t, "rows"), 0);
    assert_string_equal(json_string_value(json_array_get(m1, 0)), "m1");
    assert_int_equal(json_integer_value(json_array_get(m1, 9)), honest); /* not honest + 100 */
    json_decref(t);
    q.subject = QK_STATS_FLAGGED;
    int src = qk_store_stats(x->store, NULL, &q, QK_LANG_EN, &t, msg, sizeof msg); if (src) fprintf(stderr, "MSG %s\n", msg);
    assert_int_equal(src, QK_OK);
    json_t *rows = json_object_get(t, "rows");
    assert_int_equal(json_array_size(rows), 1);
    json_t *f = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_array_get(f, 1)), "m1");
    assert_int_equal(json_integer_value(json_array_get(f, 8)), honest + 100); /* the device's claim */
    assert_int_equal(json_integer_value(json_array_get(f, 9)), honest);       /* the server's */
    json_decref(t);
    free(progress);
}

static void the_server_judges_points(void **state)
{
    judge_forged_award(*state, 0);
}

/* The forged award sent in a batch of its own names no bundle: the member is
 * judged by the newest bundle the server holds their events of. */
static void a_forged_award_alone_is_judged_too(void **state)
{
    judge_forged_award(*state, 1);
}

/* The server scores every finished attempt again from its raw answers; a
 * device that reports another score is flagged, not trusted. */
static void the_server_rescores_attempts_and_flags_lies(void **state)
{
    sx *x = *state;
    qkt_publish_fixture(x->store, x->dir);
    qk_session_spec spec = QK_SESSION_SPEC_INIT; /* random order and options: the seed matters */
    spec.theme = "t1";
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, x->e, x->b, NULL, &spec), QK_OK);
    qk_item it;
    while (qk_session_next(s, &it) == QK_ROW) {
        const char *in = it.q->type == QK_Q_JUDGE ? "对" : it.q->type == QK_Q_FILL ? "1921|嘉兴" : "B";
        assert_int_equal(qk_session_answer(s, in, NULL, NULL), QK_OK);
    }
    qk_summary sum;
    assert_int_equal(qk_session_finish(s, &sum), QK_OK);
    char attempt[64];
    snprintf(attempt, sizeof attempt, "%s", qk_session_attempt_id(s));
    qk_session_free(s);
    assert_int_equal(export(x, 0), 6);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.rescored, 1);
    assert_int_equal(r.mismatches, 0);
    qk_rescore res;
    char msg[256];
    assert_int_equal(qk_attempt_rescore(srv(x), x->b, attempt, &res, QK_LANG_EN, msg, sizeof msg), QK_OK);
    assert_true(res.finished);
    assert_int_equal(res.server_score, sum.score);
    assert_int_equal(res.device_score, sum.score);
    assert_int_equal(res.answered, 4);
    /* Another device-side copy of the log claims full marks for the same attempt. */
    qk_store *other = NULL;
    char *spec2 = qkt_store_spec(x->dir);
    assert_int_equal(qk_store_open(&other, spec2, QK_LANG_EN), QK_OK);
    qkt_publish_fixture(other, x->dir);
    size_t len = 0;
    int err = 0;
    char *text = qk__read_maybe_gz(x->batch, &len, &err);
    char *nl = strchr(text, '\n');
    json_error_t jerr;
    json_t *events = json_loads(nl + 1, 0, &jerr);
    json_t *finish = json_array_get(events, json_array_size(events) - 1);
    char *lie = NULL;
    {
        json_t *p = json_deep_copy(json_object_get(finish, "payload"));
        json_object_set_new(p, "score", json_integer(600));
        lie = json_dumps(p, JSON_COMPACT);
        json_decref(p);
    }
    json_decref(events);
    free(text);
    /* put the lie at the first event's place: rewrite() edits event 0, so move it */
    rewrite_last(x, x->key, lie);
    free(lie);
    assert_int_equal(qk_store_import(other, x->batch, &r), QK_OK);
    assert_int_equal(r.rescored, 1);
    assert_int_equal(r.mismatches, 1);
    qk_store_close(other);
    /* Without the bundle on the server an attempt cannot be scored, and says so. */
    char *spec3 = qkt_store_spec(x->dir);
    qk_store *bare = NULL;
    assert_int_equal(qk_store_open(&bare, spec3, QK_LANG_EN), QK_OK);
    play(x, 1);
    qk_session_spec again = QK_SESSION_SPEC_INIT;
    again.theme = "t2";
    assert_int_equal(qk_session_start(&s, x->e, x->b, NULL, &again), QK_OK);
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    assert_int_equal(qk_session_answer(s, "A", NULL, NULL), QK_OK);
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
    assert_true(export(x, 6) > 0);
    assert_int_equal(qk_store_import(bare, x->batch, &r), QK_OK);
    assert_int_equal(r.rescored, 0);
    assert_int_equal(r.unscored, 1);
    assert_int_equal(r.no_bundle, 1); /* and why */
    qk_store_close(bare);
    free(spec2);
    free(spec3);
}

/* A device newer than the server draws by rules the server does not know
 * (here "draw":3): the server does not guess, it keeps the attempt unscored
 * with the reason, which names the draw. (Draw 2 and starts without "draw"
 * are redrawn as the device drew them: engine/session and the property test
 * in sync/rescore_property.) */
static void a_draw_the_server_does_not_know_stays_unscored(void **state)
{
    sx *x = *state;
    qkt_publish_fixture(x->store, x->dir);
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = "t1";
    spec.count = 2;
    spec.has_seed = 1; /* the same two questions on every run */
    spec.seed = 20261204;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, x->e, x->b, NULL, &spec), QK_OK);
    qk_item it;
    while (qk_session_next(s, &it) == QK_ROW) {
        const char *in = it.q->type == QK_Q_JUDGE ? "对" : it.q->type == QK_Q_FILL ? "1921|南湖" : "A";
        assert_int_equal(qk_session_answer(s, in, NULL, NULL), QK_OK);
    }
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
    assert_int_equal(export(x, 0), 4);
    size_t len = 0;
    int err = 0;
    char *text = qk__read_maybe_gz(x->batch, &len, &err);
    json_error_t jerr;
    json_t *events = json_loads(strchr(text, '\n') + 1, 0, &jerr);
    json_t *start = json_array_get(events, 0);
    assert_string_equal(json_string_value(json_object_get(start, "kind")), "attempt.start");
    json_t *p = json_deep_copy(json_object_get(start, "payload"));
    assert_int_equal(json_integer_value(json_object_get(p, "draw")), 2);
    json_object_set_new(p, "draw", json_integer(3));
    char *newer = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    json_decref(events);
    free(text);
    rewrite(x, x->key, newer);
    free(newer);
    qk_import_result r;
    assert_int_equal(qk_store_import(x->store, x->batch, &r), QK_OK);
    assert_int_equal(r.rescored, 0);
    assert_int_equal(r.unscored, 1);
    assert_int_equal(r.no_bundle, 0); /* the bundle is there: the draw is what fails */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(srv(x), &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT note, server_score IS NULL FROM attempt_scores", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(st, 0), "draw method 3"));
    assert_int_equal(sqlite3_column_int(st, 1), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The judge reads each of a member's events with its attempt's start and
 * first finish: found by the attempt's index, one lookup each. Found by the
 * member's index instead (SQLite's planner chose it when it could), every
 * event walked all the member's starts, and a 12,005-event USB file was
 * judged at a quarter of the speed, slower the longer a member's history. */
static void the_judge_finds_an_attempts_start_by_the_attempt(void **state)
{
    sx *x = *state;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(srv(x), &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN " QK_SQL_POINT_EVENTS_RECEIVED, -1, &st, NULL), SQLITE_OK);
    int lookups = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (strncmp(detail, "SEARCH e ", 9) == 0 || strncmp(detail, "SEARCH", 6) != 0)
            continue;
        print_message("%s\n", detail);
        assert_non_null(strstr(detail, "USING INDEX events_attempt (attempt_id=? AND kind=?"));
        lookups++;
    }
    assert_int_equal(lookups, 3); /* the start's day, its mode, an earlier finish */
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A device's claim of points is the sum of its award events' amounts, read
 * as the store reads them whatever a forger wrote there: strings, booleans,
 * reals, huge or empty values. The claim the store keeps equals SQLite's
 * sum(json_extract(...)) over the same events (claims_add_up), on either
 * store; the batch is kept. */
static void odd_award_amounts_are_summed_as_sqlite_sums_them(void **state)
{
    sx *x = *state;
    qkt_clock clock = {1772676000000LL}; /* 2026-03-05 10:00 Beijing */
    m1_took_a_daily_quiz(x, &clock);
    static const char *const amounts[] = {"\"500\"", "true", "false", "\"abc\"", "\"1e3\"", "2.5",
                                          "\"12abc\"", "\" 7\"", "-3", "null", "\"\"", "1e5", "\"-2.5e1\"",
                                          "\"1e999999\"", "[1]", "{\"a\":1}"};
    char *progress = qkt_path(x->dir, "progress.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(progress, &db), SQLITE_OK);
    for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++) {
        char sql[600];
        snprintf(sql, sizeof sql,
                 "INSERT INTO events(id, device_id, seq, member_id, kind, payload, created_ms)"
                 " SELECT '01950000-0000-7000-8000-0000000%05zu', id, (SELECT max(seq) + 1 FROM events),"
                 " 'm1', 'points.award', '{\"activity\":\"daily\",\"amount\":%s,\"day\":\"2026-03-05\","
                 "\"ref\":\"x%zu\"}', 1772676060000 + %zu FROM device",
                 i, amounts[i], i, i);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_close(db);
    free(progress);
    assert_true(export(x, 0) > 0);
    qk_import_result r;
    if (qk_store_import(x->store, x->batch, &r) != QK_OK)
        fail_msg("the batch was refused: %s", qk_store_errmsg(x->store));
    assert_int_equal(claims_add_up(x, "m1"), 1);
}

/* What a device writes in a payload is kept as it is, whatever its size:
 * a finish naming a competition 12,000 characters long (no bundle on the
 * server, so it is kept as an unscored entry of that competition) is stored
 * with the rest of its batch. On PostgreSQL the entry's row is too big for
 * its index and cannot be written: that write alone fails, in a savepoint,
 * and the batch is kept (it failed whole, and the device sent it for ever). */
static void a_huge_payload_value_does_not_fail_the_batch(void **state)
{
    sx *x = *state;
    play(x, 2);
    qk_session *s = NULL;
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.theme = "t2";
    assert_int_equal(qk_session_start(&s, x->e, x->b, NULL, &spec), QK_OK);
    qk_item it;
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    assert_int_equal(qk_session_answer(s, "A", NULL, NULL), QK_OK);
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
    size_t n = export(x, 0);
    /* random hex: it does not compress below the index's limit */
    char *huge = malloc(12001);
    uint64_t r = 20261206;
    for (int i = 0; i < 12000; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        huge[i] = "0123456789abcdef"[(r >> 33) & 15];
    }
    huge[12000] = '\0';
    json_t *p = json_pack("{s:s, s:i, s:i}", "competition", huge, "score", 100, "max", 100);
    char *text = json_dumps(p, JSON_COMPACT);
    rewrite_last(x, x->key, text);
    qk_import_result res;
    if (qk_store_import(x->store, x->batch, &res) != QK_OK)
        fail_msg("the batch was refused: %s", qk_store_errmsg(x->store));
    assert_int_equal(res.inserted, n);
    int64_t held = 0;
    assert_int_equal(qk_store_event_count(x->store, &held), QK_OK);
    assert_int_equal(held, (int64_t)n);
    assert_int_equal(res.acked_seq, (int64_t)n);
    /* and the store goes on: the same file again is all resends */
    assert_int_equal(qk_store_import(x->store, x->batch, &res), QK_OK);
    assert_int_equal(res.duplicates, n);
    json_decref(p);
    free(text);
    free(huge);
}

/* Every attempt.finish of the batch gets the next of payloads (JSON texts). */
static void rewrite_finishes(sx *x, const char *const *payloads, size_t n)
{
    size_t len = 0, k = 0;
    int err = 0;
    char *text = qk__read_maybe_gz(x->batch, &len, &err);
    assert_non_null(text);
    json_error_t jerr;
    json_t *events = json_loads(strchr(text, '\n') + 1, 0, &jerr), *ev;
    size_t i;
    json_array_foreach(events, i, ev)
    {
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        if (kind && strcmp(kind, "attempt.finish") == 0 && k < n)
            json_object_set_new(ev, "payload", json_loads(payloads[k++], 0, &jerr));
    }
    assert_int_equal(k, n);
    char *body = json_dumps(events, JSON_COMPACT | JSON_ENSURE_ASCII);
    write_body(x, x->key, body);
    free(body);
    json_decref(events);
    free(text);
}

/* Every subject of the statistics over 2026 answers, each members row
 * whole (12 cells); *scored: the attempts the themes count as scored. */
static void statistics_answer(sx *x, int64_t *scored)
{
    qk_stats_query q = {0, 0, 0, x->b, 0};
    assert_int_equal(qk_stats_parse_day("2026-01-01", &q.from_day), 0);
    assert_int_equal(qk_stats_parse_day("2026-12-31", &q.to_day), 0);
    *scored = 0;
    for (int subject = 0; subject < QK_STATS_COUNT; subject++) {
        q.subject = (qk_stats_subject)subject;
        json_t *t = NULL;
        char msg[512];
        if (qk_store_stats(x->store, NULL, &q, QK_LANG_EN, &t, msg, sizeof msg) != QK_OK)
            fail_msg("stats %s: %s", qk_stats_subject_name(q.subject), msg);
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(t, "rows"), i, row)
        {
            if (q.subject == QK_STATS_MEMBERS)
                assert_int_equal(json_array_size(row), 12);
            if (q.subject == QK_STATS_THEMES)
                *scored += json_integer_value(json_array_get(row, 2));
        }
        json_decref(t);
    }
}

/* A forged finish whose score no maximum allows, on a server without the
 * bundle (so the device's own score is the only one): 1e308 of 1 made an
 * infinite share that PostgreSQL's sums refused, and with -1e308 beside it
 * a NaN that SQLite's roll-ups could not keep; either stopped the
 * statistics for good. Now such a score is not counted as one, on both
 * stores, and an honest one beside it is. */
static void a_forged_score_does_not_stop_the_statistics(void **state)
{
    sx *x = *state;
    qkt_clock clock = {1772676000000LL}; /* 5 March 2026, 10:00 Beijing */
    m1_of_b1(x, &clock);
    static const char *const forged[] = {
        "{\"score\":1e308,\"max\":1}",    /* first batch */
        "{\"score\":1e308,\"max\":1e-300}", /* second: +inf */
        "{\"score\":-1e308,\"max\":1e-300}", /* and -inf */
        "{\"score\":3,\"max\":4}"};        /* an honest 75% */
    int64_t sent = 0, scored = -1;
    for (int batch = 0; batch < 2; batch++) {
        for (int k = 0; k < (batch ? 3 : 1); k++)
            right_quiz(x->e, x->b, "m1", QK_MODE_PRACTICE, &clock);
        size_t n = export(x, sent);
        rewrite_finishes(x, forged + batch, batch ? 3 : 1);
        qk_import_result r;
        if (qk_store_import(x->store, x->batch, &r) != QK_OK)
            fail_msg("import: %s", qk_store_errmsg(x->store));
        assert_int_equal(r.inserted, n);
        sent = r.acked_seq;
        statistics_answer(x, &scored); /* the roll-ups taken in batch by batch */
    }
    assert_int_equal(scored, 1); /* the honest one */
}

/* An event id of the protocol's form: like, with its last four digits n. */
static void fresh_id(char id[64], const char *like, unsigned n)
{
    snprintf(id, 64, "%s", like);
    size_t l = strlen(id);
    assert_true(l > 4);
    snprintf(id + l - 4, 5, "%04x", n & 0xffff);
}

/* A device forging the same attempt three times over (its start and
 * finish sent again under new ids) and two awards of 9e18 points on two
 * days: the attempt is counted once (three starts and three finishes were
 * nine scored attempts), the members list still answers on SQLite (its
 * sum of the days stopped with "integer overflow": the list and the
 * report gave 500 for the whole branch), and the roll-ups, dropped, are
 * built again on both stores. */
static void forged_repeats_count_once_and_roll_ups_come_back(void **state)
{
    sx *x = *state;
    qkt_clock clock = {1772676000000LL}; /* 5 March 2026, 10:00 Beijing */
    m1_of_b1(x, &clock);
    right_quiz(x->e, x->b, "m1", QK_MODE_PRACTICE, &clock);
    export(x, 0);
    json_error_t jerr;
    json_t *events = batch_events(x), *ev, *copies = json_array();
    int64_t seq = (int64_t)json_array_size(events);
    size_t i;
    json_array_foreach(events, i, ev)
    {
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        if (strcmp(kind, "attempt.start") != 0 && strcmp(kind, "attempt.finish") != 0)
            continue;
        for (int k = 1; k <= 2; k++) {
            json_t *c = json_deep_copy(ev);
            char id[64];
            fresh_id(id, json_string_value(json_object_get(ev, "id")), (unsigned)seq);
            json_object_set_new(c, "id", json_string(id));
            json_object_set_new(c, "seq", json_integer(++seq));
            json_array_append_new(copies, c);
        }
    }
    json_t *award = json_deep_copy(json_array_get(copies, 0)); /* m1's, from this device */
    for (int day = 5; day <= 6; day++) {
        char id[64], payload[96];
        fresh_id(id, json_string_value(json_object_get(json_array_get(copies, 0), "id")), (unsigned)seq + 1);
        snprintf(payload, sizeof payload, "{\"day\":\"2026-03-0%d\",\"amount\":9000000000000000000}", day);
        json_t *a = json_deep_copy(award);
        json_object_set_new(a, "id", json_string(id));
        json_object_set_new(a, "seq", json_integer(++seq));
        json_object_set_new(a, "kind", json_string("points.award"));
        json_object_del(a, "attempt_id");
        json_object_set_new(a, "payload", json_loads(payload, 0, &jerr));
        json_array_append_new(copies, a);
    }
    json_decref(award);
    json_array_extend(events, copies);
    char *body = json_dumps(events, JSON_COMPACT | JSON_ENSURE_ASCII);
    write_body(x, x->key, body);
    qk_import_result r;
    if (qk_store_import(x->store, x->batch, &r) != QK_OK)
        fail_msg("import: %s", qk_store_errmsg(x->store));
    assert_int_equal(r.inserted, json_array_size(events));
    int64_t scored = -1;
    statistics_answer(x, &scored); /* every subject answers: the members list too */
    assert_int_equal(scored, 1);
    /* the roll-ups are derived data: dropped, they are built again */
    qkt_store_exec(x->spec, "DROP TABLE stat_state; DROP TABLE stat_day; DROP TABLE stat_attempts;"
                            " DROP TABLE stat_answers; DROP TABLE stat_answers_month; DROP TABLE stat_wrong");
    statistics_answer(x, &scored);
    assert_int_equal(scored, 1);
    free(body);
    json_decref(copies);
    json_decref(events);
}

/* m1's row of the members list for 2026 (its own copy). */
static json_t *m1_in_members(sx *x)
{
    qk_stats_query q = {QK_STATS_MEMBERS, 0, 0, x->b, 0};
    assert_int_equal(qk_stats_parse_day("2026-01-01", &q.from_day), 0);
    assert_int_equal(qk_stats_parse_day("2026-12-31", &q.to_day), 0);
    json_t *t = NULL;
    char msg[512];
    if (qk_store_stats(x->store, NULL, &q, QK_LANG_EN, &t, msg, sizeof msg) != QK_OK)
        fail_msg("stats members: %s", msg);
    json_t *rows = json_object_get(t, "rows");
    assert_int_equal(json_array_size(rows), 1);
    json_t *row = json_deep_copy(json_array_get(rows, 0));
    assert_string_equal(json_string_value(json_array_get(row, 0)), "m1");
    json_decref(t);
    return row;
}

static double cell_number(json_t *row, size_t i)
{
    json_t *v = json_array_get(row, i);
    if (!json_is_number(v))
        fail_msg("cell %zu is not a number", i);
    return json_number_value(v);
}

/* Member m1 of b1 (on the device, its clock at *clock) begins a practice,
 * its questions in order. */
static qk_session *m1_starts_a_practice(sx *x, qkt_clock *clock)
{
    m1_of_b1(x, clock);
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_PRACTICE;
    spec.order = QK_ORDER_SEQUENTIAL;
    qk_session *s = NULL;
    assert_int_equal(qk_session_start(&s, x->e, x->b, "m1", &spec), QK_OK);
    return s;
}

/* A batch with answers but no finished attempt (a member stopped half-way;
 * the rest comes in a later sync): the statistics take its events in with
 * no score among them. On PostgreSQL such a step failed ("no such table:
 * temp.stat_old") and the statistics stopped until a score came. */
static void statistics_of_a_batch_without_a_finish(void **state)
{
    sx *x = *state;
    qkt_clock clock = {1772676000000LL}; /* 5 March 2026, 10:00 Beijing */
    qkt_publish_fixture(x->store, x->dir);
    qk_session *s = m1_starts_a_practice(x, &clock);
    qk_item it;
    assert_int_equal(qk_session_next(s, &it), QK_ROW);
    assert_int_equal(qk_session_answer(s, it.q->type == QK_Q_FILL ? "1921|南湖" : "A", NULL, NULL), QK_OK);
    qk_session_free(s); /* left unfinished */
    assert_true(export(x, 0) >= 2); /* its start and answer */
    qk_import_result r;
    if (qk_store_import(x->store, x->batch, &r) != QK_OK)
        fail_msg("import: %s", qk_store_errmsg(x->store));
    assert_int_equal(r.rescored + r.unscored, 0);
    int64_t scored = -1;
    statistics_answer(x, &scored); /* every subject answers */
    assert_int_equal(scored, 0);
    json_t *row = m1_in_members(x);
    assert_int_equal((int)cell_number(row, 3), 0);  /* no finished attempt */
    assert_int_equal((int)cell_number(row, 4), 1);  /* one answer */
    assert_int_equal((int)cell_number(row, 10), 1); /* one active day */
    json_decref(row);
}

/* A member's attempt that reached the server before its bundle: counted
 * with the device's own score (here a lie: 100%, every answer wrong), and
 * scored by the server once the bundle is published. Its score row was
 * written again, taken in again by the statistics, and the attempt counted
 * twice (2 attempts, 2 scored in the themes, the best 100% kept): it counts
 * once, with the server's score. Both stores. */
static void an_attempt_scored_when_its_bundle_comes_counts_once(void **state)
{
    sx *x = *state;
    qkt_clock clock = {1772676000000LL}; /* 5 March 2026, 10:00 Beijing */
    qk_session *s = m1_starts_a_practice(x, &clock);
    qk_item it;
    while (qk_session_next(s, &it) == QK_ROW) { /* every answer wrong */
        const qk_question *q = it.q;
        char in[16] = "";
        if (q->type == QK_Q_JUDGE)
            snprintf(in, sizeof in, "%s", q->judge_answer ? "错" : "对");
        else if (q->type == QK_Q_FILL)
            snprintf(in, sizeof in, "1949|北京"); /* two blanks, both wrong */
        else
            for (size_t d = 0; d < q->n_options && !in[0]; d++)
                if (!q->options[it.perm[d]].correct)
                    in[0] = (char)('A' + d);
        assert_int_equal(qk_session_answer(s, in, NULL, NULL), QK_OK);
        clock.now_ms += 1000;
    }
    assert_int_equal(qk_session_finish(s, NULL), QK_OK);
    qk_session_free(s);
    export(x, 0);
    json_t *events = batch_events(x), *ev;
    size_t i, finishes = 0;
    json_array_foreach(events, i, ev)
    {
        if (strcmp(json_string_value(json_object_get(ev, "kind")), "attempt.finish") != 0)
            continue;
        json_t *p = json_object_get(ev, "payload");
        assert_int_equal(json_integer_value(json_object_get(p, "score")), 0);
        json_object_set(p, "score", json_object_get(p, "max")); /* the device says: all right */
        finishes++;
    }
    assert_int_equal(finishes, 1);
    char *body = json_dumps(events, JSON_COMPACT | JSON_ENSURE_ASCII);
    write_body(x, x->key, body);
    free(body);
    json_decref(events);
    qk_import_result r;
    if (qk_store_import(x->store, x->batch, &r) != QK_OK)
        fail_msg("import: %s", qk_store_errmsg(x->store));
    assert_int_equal(r.no_bundle, 1);
    assert_string_equal(r.no_bundle_id, "test.fixture"); /* what to publish */
    assert_int_equal(r.no_bundle_others, 0);

    int64_t scored = -1;
    statistics_answer(x, &scored); /* the roll-ups take the waiting row in */
    assert_int_equal(scored, 1);
    json_t *row = m1_in_members(x);
    assert_int_equal((int)cell_number(row, 3), 1);            /* attempts */
    assert_true(cell_number(row, 6) == 100.0);                /* average: the device's word */
    assert_true(cell_number(row, 7) == 100.0);                /* best */
    json_decref(row);

    assert_int_equal(qkt_publish_fixture(x->store, x->dir), 1); /* scored now */
    statistics_answer(x, &scored);
    assert_int_equal(scored, 1);
    row = m1_in_members(x);
    assert_int_equal((int)cell_number(row, 3), 1);
    assert_true(cell_number(row, 6) == 0.0); /* the server's score, in place of the device's */
    assert_true(cell_number(row, 7) == 0.0);
    json_decref(row);

    /* built again from nothing, the same */
    qkt_store_exec(x->spec, "DROP TABLE stat_state");
    row = m1_in_members(x);
    assert_int_equal((int)cell_number(row, 3), 1);
    assert_true(cell_number(row, 7) == 0.0);
    json_decref(row);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(a_batch_travels_and_comes_back_acknowledged),
        T(a_draw_the_server_does_not_know_stays_unscored),
        T(an_attempt_scored_when_its_bundle_comes_counts_once),
        T(statistics_of_a_batch_without_a_finish),
        T(gaps_hold_back_the_acknowledgement),
        T(an_altered_file_is_refused_whole),
        T(a_streamed_file_is_judged_at_its_end),
        T(event_times_are_bounded),
        T(a_long_file_is_read_while_it_is_stored),
        T(same_id_other_content_is_a_conflict),
        T(a_device_keeps_its_key),
        T(acknowledgements_are_checked_on_the_device),
        T(acknowledgements_are_signed),
        T(server_recomputes_the_device_points),
        T(points_ahead_of_the_server_are_not_taken),
        T(the_judge_adds_new_events_to_the_replay_it_kept),
        T(the_server_rescores_attempts_and_flags_lies),
        T(a_huge_payload_value_does_not_fail_the_batch),
        T(odd_award_amounts_are_summed_as_sqlite_sums_them),
        T(the_server_judges_points),
        T(a_forged_award_alone_is_judged_too),
        T(a_forged_score_does_not_stop_the_statistics),
        T(forged_repeats_count_once_and_roll_ups_come_back),
    };
    /* SQLite's query planner */
    const struct CMUnitTest sqlite_only[] = {
        T(the_judge_finds_an_attempts_start_by_the_attempt),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!qkt_store_is_pg())
        failed += cmocka_run_group_tests(sqlite_only, NULL, NULL);
    return failed;
}
