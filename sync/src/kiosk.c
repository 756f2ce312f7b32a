/* kiosk.c: the kiosk's local JSON API (qk_kiosk.h), the request handler
 * alone (kiosk_handler.h): kiosk_serve.c carries it over HTTP on a kiosk,
 * the phone app in-process. One engine behind one lock: a kiosk has one
 * screen, so requests take turns. */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "kiosk_handler.h"
#include "qk_client.h"
#include "qk_kiosk.h"
#include "sync_msg.h"

#ifndef QK_WEB_DIR
#define QK_WEB_DIR "/usr/share/quizkit/web"
#endif
#define MAX_SCREENS 8
#define MAX_PLAYERS 8
#define SMALL_BODY ((size_t)16 * 1024)

/* A hot-seat game on a screen: the engine's state machine (quizkit/hotseat.h,
 * the one `quizkit compete hotseat` plays too) and the last feedback, shown
 * until the next player takes over. */
typedef struct game {
    qk_hotseat *g;
    json_t *last_feedback;
} game;

/* A screen session: a member (or a guest, or a hot-seat game) from login to logout. */
typedef struct screen {
    char token[68];
    char *member; /* NULL: a guest (or the players of a game) */
    char *name;
    int64_t last_ms;
    qk_session *quiz;
    qk_lesson *lesson;
    game *game;
} screen;

struct qk_kiosk {
    qk_http *http; /* kiosk_serve.c's; NULL in the phone app */
    qk_engine *e;
    qk_bundle *b;
    char *web, *server_conf;
    int idle_s;
    double clock_rate; /* the pages' clock runs at the kiosk's (QUIZKIT_NOW_RATE) */
    qk_lang lang;
    pthread_mutex_t lock;
    screen screens[MAX_SCREENS];
};

/* One request as the handlers see it. */
typedef struct call {
    qk_kiosk *k;
    qk_http_req *rq;
    qk_http_resp *rs;
    qk_lang lang;
    json_t *body; /* the JSON object sent, or NULL */
    screen *sc;   /* the caller's screen session, when it named a live one */
} call;

static void fail(call *c, int status, const char *code, qk__ymsg id, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, id);
    qk__ymsgv(c->lang, msg, sizeof msg, id, ap);
    va_end(ap);
    qk_http_error(c->rs, status, code, msg);
}

static void ok(call *c, json_t *body)
{
    qk_http_json(c->rs, 200, body);
}

static void end_game(game *g)
{
    if (!g)
        return;
    qk_hotseat_free(g->g); /* a game left half-way ends every entry as it stands; they count */
    json_decref(g->last_feedback);
    free(g);
}

static void end_screen(screen *sc)
{
    end_game(sc->game);
    qk_session_free(sc->quiz);
    qk_lesson_free(sc->lesson);
    free(sc->member);
    free(sc->name);
    memset(sc, 0, sizeof *sc);
}

/* Ends the screens left idle longer than the kiosk allows (a phone's
 * never: idle_s 0). */
static void expire_idle(qk_kiosk *k)
{
    if (k->idle_s == 0)
        return;
    int64_t now = qk_engine_now_ms(k->e);
    for (int i = 0; i < MAX_SCREENS; i++) {
        if (k->screens[i].token[0] && now - k->screens[i].last_ms > (int64_t)k->idle_s * 1000)
            end_screen(&k->screens[i]);
    }
}

static screen *find_screen(qk_kiosk *k, const char *token)
{
    for (int i = 0; token && *token && i < MAX_SCREENS; i++) {
        if (k->screens[i].token[0] && strcmp(k->screens[i].token, token) == 0)
            return &k->screens[i];
    }
    return NULL;
}

/* A new screen session. On a kiosk, sessions left idle have ended by now
 * and all taken means busy; a phone's never end by themselves, so there the
 * least recently used one (a page reloaded, its token lost) makes room. */
static screen *new_screen(call *c, const char *member, const char *name)
{
    qk_kiosk *k = c->k;
    screen *sc = NULL;
    for (int i = 0; !sc && i < MAX_SCREENS; i++) {
        if (!k->screens[i].token[0])
            sc = &k->screens[i];
    }
    if (!sc && k->idle_s == 0) {
        sc = &k->screens[0];
        for (int i = 1; i < MAX_SCREENS; i++) {
            if (k->screens[i].last_ms < sc->last_ms)
                sc = &k->screens[i];
        }
        end_screen(sc);
    }
    if (!sc) {
        fail(c, 503, "busy", QK_Y_K_BUSY);
        return NULL;
    }
    unsigned char raw[32];
    qk_rng *rng = NULL;
    if (qk_rng_new_random(&rng) != QK_OK || qk_rng_bytes(rng, raw, sizeof raw) != QK_OK) {
        qk_rng_free(rng);
        qk_http_error(c->rs, 500, "server_error", "no randomness");
        return NULL;
    }
    qk_rng_free(rng);
    qk__hex(sc->token, raw, sizeof raw);
    sc->member = member ? strdup(member) : NULL;
    sc->name = name ? strdup(name) : NULL;
    sc->last_ms = qk_engine_now_ms(k->e);
    return sc;
}

static int need_screen(call *c)
{
    if (!c->sc) {
        fail(c, 401, "no_session", QK_Y_K_SESSION);
        return 0;
    }
    return 1;
}

static const char *field(call *c, const char *name)
{
    const char *v = json_string_value(json_object_get(c->body, name));
    if (!v)
        fail(c, 400, "bad_field", QK_Y_K_FIELD, name);
    return v;
}

/* --- what the screens show --- */

static json_t *theme_json(const qk_theme *t, int64_t now, const qk_bundle *b)
{
    const qk_theme *today = qk_bundle_theme_today(b, now);
    return json_pack("{s:s, s:s, s:s, s:I, s:b, s:b, s:s}", "id", t->id, "title", t->title,
                     "description", t->description, "questions", (json_int_t)t->n_questions,
                     "guests", t->guests, "today", today == t, "active", t->active);
}

/* The options as shown (display order, lettered A, B, ...); none for true/false. */
static json_t *options_json(const qk_question *q, const char *const *option_text)
{
    json_t *opts = json_array();
    for (size_t i = 0; q->type != QK_Q_JUDGE && i < q->n_options; i++)
        json_array_append_new(opts, json_pack("{s:s, s:s}", "key", (char[]){(char)('A' + i), 0},
                                              "text", option_text[i]));
    return opts;
}

/* A fill-in question's character pads, one per blank (pad.h): a touch screen
 * answers by tapping them. A blank too long for a pad gets an empty one (the
 * screen offers typing only). Not for other types. */
static json_t *pads_json(call *c, const qk_question *q, const char *salt)
{
    json_t *pads = json_array();
    for (size_t i = 0; q->type == QK_Q_FILL && i < q->n_blanks; i++) {
        char **keys = NULL;
        size_t n = 0;
        json_t *pad = json_array();
        if (qk_pad_keys(&keys, &n, c->k->b, q, i, salt) == QK_OK) {
            for (size_t k = 0; k < n; k++)
                json_array_append_new(pad, json_string(keys[k]));
        }
        qk_strv_free(keys, n);
        json_array_append_new(pads, pad);
    }
    return pads;
}

static json_t *item_json(call *c, qk_session *s, const qk_item *it)
{
    json_t *opts = options_json(it->q, it->option_text);
    const char *tid = qk_session_theme(s);
    const qk_theme *t = tid ? qk_bundle_theme_find(c->k->b, tid) : NULL;
    return json_pack("{s:I, s:I, s:s, s:s, s:o, s:I, s:o, s:I, s:s, s:s?}", "index", (json_int_t)it->index,
                     "total", (json_int_t)it->total, "type", qk_qtype_name(it->q->type), "stem", it->q->stem,
                     "options", opts, "blanks", (json_int_t)it->q->n_blanks, "pads",
                     pads_json(c, it->q, qk_session_attempt_id(s)), "remaining_ms",
                     (json_int_t)qk_session_remaining_ms(s), "mode", qk_mode_name(qk_session_mode(s)),
                     "theme", t ? t->title : NULL);
}

/* The current question of the screen's quiz, or done when all are answered. */
static json_t *quiz_state(call *c)
{
    qk_item it;
    qk_session *s = c->sc->quiz;
    int rc = qk_session_next(s, &it);
    const char *day = qk_session_day(s)[0] ? qk_session_day(s) : NULL;
    if (rc == QK_ROW)
        return json_pack("{s:b, s:o, s:s?}", "done", 0, "item", item_json(c, s, &it), "day", day);
    return json_pack("{s:b, s:s?}", "done", 1, "day", day);
}

static json_t *feedback_json(const qk_feedback *fb)
{
    if (!fb->reveal) /* an exam: nothing until the end */
        return json_pack("{s:b}", "reveal", 0);
    return json_pack("{s:b, s:b, s:b, s:I, s:I, s:s?, s:s?, s:s?, s:i, s:I}", "reveal", 1, "correct",
                     fb->correct, "timed_out", fb->timed_out, "score", (json_int_t)fb->score, "max",
                     (json_int_t)fb->max, "given", fb->given, "right", fb->right, "explanation",
                     fb->explanation, "points", fb->comp_points, "elapsed_ms",
                     (json_int_t)fb->elapsed_ms);
}

/* --- handlers --- */

static json_t *open_competitions(call *c, int detail);

static void h_home(call *c)
{
    qk_kiosk *k = c->k;
    const qk_bundle_info *info = qk_bundle_info_get(k->b);
    int64_t now = qk_engine_now_ms(k->e);
    const qk_theme *today = qk_bundle_theme_today(k->b, now);
    char day[QK_DATE_LEN];
    qk_beijing_date(now, day);
    json_t *open = open_competitions(c, 0);
    int64_t acked = 0, last = 0;
    qk_engine_sync_state(k->e, &acked, &last);
    /* enrolled with a server, and when it last synced (kept by the sync in server.json) */
    qk_client_conf conf;
    char msg[256];
    int enrolled = k->server_conf && qk_client_conf_load(&conf, k->server_conf, msg, sizeof msg) == QK_OK;
    ok(c, json_pack("{s:{s:s, s:s, s:s, s:i}, s:s, s:I, s:f, s:o, s:o, s:{s:I, s:b, s:I}, s:o}",
                    "bundle", "id", info->id, "version", info->version, "title", info->title, "daily_count",
                    info->daily_count > 0 ? info->daily_count : QK_DAILY_DEFAULT_COUNT,
                    "today", day, "now_ms", (json_int_t)now, "clock_rate", k->clock_rate,
                    "themed_day", today ? theme_json(today, now, k->b) : json_null(), "competitions",
                    open, "sync", "pending", (json_int_t)(last - acked), "enrolled", enrolled,
                    "last_sync_ms", (json_int_t)(enrolled ? conf.last_sync_ms : 0), "idle_seconds",
                    k->idle_s ? json_integer(k->idle_s) : json_null()));
}

static void h_login(call *c)
{
    const char *id = field(c, "member");
    const char *pin = id ? field(c, "pin") : NULL;
    if (!pin)
        return;
    int64_t remaining = 0;
    int rc = qk_member_login(c->k->e, id, pin, &remaining);
    if (rc == QK_ELOCKED) {
        char after[32];
        snprintf(after, sizeof after, "%lld", (long long)((remaining + 999) / 1000));
        qk_http_add_header(c->rs, "Retry-After", after);
        return fail(c, 423, "locked", QK_Y_K_LOCKED, (int)((remaining + 59999) / 60000));
    }
    if (rc == QK_EAUTH)
        return fail(c, 401, "wrong_pin", QK_Y_K_WRONG_PIN, (int)remaining);
    if (rc != QK_OK)
        return fail(c, 401, "wrong_pin", QK_Y_K_NO_MEMBER);
    qk_member *m = NULL;
    qk_member_get(c->k->e, id, &m);
    /* the member as added ("A12"), whatever case the keypad typed */
    screen *sc = new_screen(c, m ? m->id : id, m ? m->name : id);
    qk_member_free(m);
    if (!sc)
        return;
    ok(c, json_pack("{s:s, s:{s:s, s:s}}", "token", sc->token, "member", "id", sc->member, "name",
                    sc->name));
}

static void h_guest(call *c)
{
    screen *sc = new_screen(c, NULL, NULL);
    if (sc)
        ok(c, json_pack("{s:s, s:b}", "token", sc->token, "guest", 1));
}

static void h_logout(call *c)
{
    if (c->sc)
        end_screen(c->sc);
    ok(c, json_pack("{s:b}", "ok", 1));
}

static void h_themes(call *c)
{
    if (!need_screen(c))
        return;
    const qk_bundle_info *info = qk_bundle_info_get(c->k->b);
    int64_t now = qk_engine_now_ms(c->k->e);
    json_t *list = json_array();
    for (size_t i = 0; i < info->n_themes; i++) {
        const qk_theme *t = qk_bundle_theme(c->k->b, i);
        if (t->n_questions > 0 && (c->sc->member || t->guests))
            json_array_append_new(list, theme_json(t, now, c->k->b));
    }
    ok(c, json_pack("{s:o, s:b}", "themes", list, "guest", !c->sc->member));
}

static void h_me(call *c)
{
    if (!need_screen(c))
        return;
    if (!c->sc->member)
        return fail(c, 403, "members_only", QK_Y_K_MEMBERS_ONLY);
    qk_points_summary ps;
    if (qk_points_summary_get(c->k->e, c->k->b, c->sc->member, &ps) != QK_OK)
        return qk_http_error(c->rs, 500, "server_error", qk_engine_errmsg(c->k->e));
    json_t *acts = json_array();
    for (int a = 0; a < QK_ACT_COUNT; a++)
        json_array_append_new(acts, json_pack("{s:s, s:i, s:i, s:i}", "activity",
                                              qk_activity_name((qk_activity)a), "today", ps.today[a],
                                              "cap", ps.rules[a].daily_cap, "points",
                                              ps.rules[a].points));
    qk_attempt_row *rows = NULL;
    size_t n = 0;
    json_t *hist = json_array();
    if (qk_history_list(c->k->e, c->sc->member, &rows, &n) == QK_OK) {
        for (size_t i = 0; i < n && i < 10; i++) {
            const qk_theme *t = rows[i].theme[0] ? qk_bundle_theme_find(c->k->b, rows[i].theme) : NULL;
            json_array_append_new(
                hist, json_pack("{s:s, s:s, s:I, s:b, s:I, s:I, s:I, s:I}", "mode", rows[i].mode, "theme",
                                t ? t->title : rows[i].theme, "started_ms", (json_int_t)rows[i].started_ms,
                                "finished", rows[i].finished_ms != 0, "answered",
                                (json_int_t)rows[i].answered, "correct", (json_int_t)rows[i].correct,
                                "score", (json_int_t)rows[i].score, "max", (json_int_t)rows[i].max));
        }
        qk_history_free(rows, n);
    }
    ok(c, json_pack("{s:{s:s, s:s}, s:i, s:I, s:i, s:o, s:o}", "member", "id", c->sc->member,
                    "name", c->sc->name, "today_total", ps.today_total, "total",
                    (json_int_t)ps.total, "streak_days", ps.streak_days, "activities", acts,
                    "history", hist));
}

/* POST /quiz {mode, theme}: the member's unfinished quiz of that mode and
 * theme continues (theirs to finish first); otherwise a new one starts. A
 * past day's daily quiz is never today's (the engine finishes it on its own
 * day and says so: "expired_daily"). */
static void h_quiz_start(call *c)
{
    if (!need_screen(c))
        return;
    qk_kiosk *k = c->k;
    screen *sc = c->sc;
    int resumed = 0;
    json_t *expired = NULL;
    if (!sc->quiz) {
        const char *mode_s = field(c, "mode");
        if (!mode_s)
            return;
        qk_session_spec spec = QK_SESSION_SPEC_INIT;
        spec.mode = qk_mode_parse(mode_s);
        if (spec.mode != QK_MODE_DAILY && spec.mode != QK_MODE_PRACTICE && spec.mode != QK_MODE_EXAM &&
            spec.mode != QK_MODE_CHALLENGE && spec.mode != QK_MODE_REVIEW)
            return fail(c, 400, "bad_field", QK_Y_K_BAD_MODE, mode_s);
        const char *tid = json_string_value(json_object_get(c->body, "theme"));
        const qk_theme *t = tid ? qk_bundle_theme_find(k->b, tid) : NULL;
        if (tid && !t)
            return fail(c, 404, "no_theme", QK_Y_K_NO_THEME, tid);
        if (!sc->member && (!t || !t->guests || spec.mode == QK_MODE_REVIEW))
            return fail(c, 403, "guest_theme", QK_Y_K_GUEST_THEME);
        spec.theme = t ? t->id : NULL;
        if (spec.mode == QK_MODE_DAILY || spec.mode == QK_MODE_REVIEW)
            spec.theme = NULL;
        qk_session *s = NULL;
        if (sc->member && spec.mode != QK_MODE_DAILY &&
            qk_session_resume_spec(&s, k->e, k->b, sc->member, &spec) == QK_OK) {
            sc->quiz = s;
        } else {
            qk_session_free(s);
            s = NULL;
            if (qk_session_start(&s, k->e, k->b, sc->member, &spec) != QK_OK) {
                qk_http_error(c->rs, 409, "cannot_start", qk_session_errmsg(s));
                qk_session_free(s);
                return;
            }
            sc->quiz = s;
        }
        resumed = qk_session_resumed(s);
        const qk_expired_daily *old = qk_session_expired_daily(s);
        if (old)
            expired = json_pack("{s:s, s:I, s:I, s:I, s:i}", "day", old->day, "answered",
                                (json_int_t)old->answered, "total", (json_int_t)old->total,
                                "correct", (json_int_t)old->correct, "points", old->points);
    }
    json_t *st = quiz_state(c);
    json_object_set_new(st, "resumed", json_boolean(resumed));
    json_object_set_new(st, "expired_daily", expired ? expired : json_null());
    json_object_set_new(st, "answered", json_integer((json_int_t)qk_session_answered(sc->quiz)));
    ok(c, st);
}

static void h_quiz_get(call *c)
{
    if (!need_screen(c))
        return;
    if (!c->sc->quiz)
        return fail(c, 404, "no_quiz", QK_Y_K_NO_QUIZ);
    ok(c, quiz_state(c));
}

static void h_quiz_answer(call *c)
{
    if (!need_screen(c))
        return;
    if (!c->sc->quiz)
        return fail(c, 404, "no_quiz", QK_Y_K_NO_QUIZ);
    const char *resp = field(c, "response");
    if (!resp)
        return;
    qk_item it;
    if (qk_session_next(c->sc->quiz, &it) != QK_ROW)
        return ok(c, json_pack("{s:b}", "done", 1));
    qk_feedback fb;
    qk_answer_problem problem = QK_ANS_OK;
    int rc = qk_session_answer(c->sc->quiz, resp, &fb, &problem);
    if (rc == QK_EINVAL)
        return fail(c, 400, "bad_answer", QK_Y_K_BAD_ANSWER);
    if (rc == QK_ETIMEOUT) {
        json_t *st = json_pack("{s:b, s:b}", "done", 1, "time_up", 1);
        return ok(c, st);
    }
    if (rc != QK_OK)
        return qk_http_error(c->rs, 500, "server_error", qk_session_errmsg(c->sc->quiz));
    json_t *st = quiz_state(c);
    json_object_set_new(st, "feedback", feedback_json(&fb));
    ok(c, st);
}

static void h_quiz_expire(call *c)
{
    if (!need_screen(c))
        return;
    if (!c->sc->quiz)
        return fail(c, 404, "no_quiz", QK_Y_K_NO_QUIZ);
    qk_feedback fb;
    if (qk_session_expire(c->sc->quiz, &fb) != QK_OK)
        return qk_http_error(c->rs, 409, "time_left", qk_session_errmsg(c->sc->quiz));
    json_t *st = quiz_state(c);
    json_object_set_new(st, "feedback", feedback_json(&fb));
    ok(c, st);
}

static void h_quiz_finish(call *c)
{
    if (!need_screen(c))
        return;
    qk_session *s = c->sc->quiz;
    if (!s)
        return fail(c, 404, "no_quiz", QK_Y_K_NO_QUIZ);
    qk_summary sum;
    if (qk_session_finish(s, &sum) != QK_OK)
        return qk_http_error(c->rs, 500, "server_error", qk_session_errmsg(s));
    json_t *review = json_array();
    qk_item it;
    qk_feedback fb;
    /* the questions answered, with their right answers; an exam's whole paper
     * (every question was on it), never the questions a quiz ended before
     * (a challenge draws the whole theme: its end would list every answer) */
    for (size_t i = 0; qk_session_review(s, i, &it, &fb) == QK_OK; i++)
        if (fb.given || sum.mode == QK_MODE_EXAM)
            json_array_append_new(review, json_pack("{s:s, s:b, s:s?, s:s?, s:s?}", "stem", it.q->stem,
                                                "correct", fb.given && fb.correct, "given", fb.given,
                                                "right", fb.right, "explanation", fb.explanation));
    ok(c, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:i, s:i, s:I, s:o}", "attempt_id",
                    sum.attempt_id, "mode", qk_mode_name(sum.mode), "total", (json_int_t)sum.total,
                    "answered", (json_int_t)sum.answered, "correct", (json_int_t)sum.correct, "score",
                    (json_int_t)sum.score, "max", (json_int_t)sum.max, "timed_out", sum.timed_out,
                    "points", sum.points, "comp_points", sum.comp_points, "answer_ms",
                    (json_int_t)sum.answer_ms, "review", review));
    qk_session_free(s);
    c->sc->quiz = NULL;
}

/* --- lessons --- */

/* May this screen take the lesson? Members: any; guests: those of the themes
 * open to residents. */
static int lesson_allowed(call *c, const qk_lesson_info *l)
{
    const qk_theme *t = qk_bundle_theme_find(c->k->b, l->theme);
    return c->sc->member || (t && t->guests);
}

static void h_lessons(call *c)
{
    if (!need_screen(c))
        return;
    qk_lesson_info *v = NULL;
    size_t n = 0;
    if (qk_bundle_lessons(c->k->b, &v, &n) != QK_OK)
        return qk_http_error(c->rs, 500, "server_error", "lessons");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!lesson_allowed(c, &v[i]))
            continue;
        const qk_theme *t = qk_bundle_theme_find(c->k->b, v[i].theme);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:i}", "id", v[i].id, "title",
                                              v[i].title, "kind", v[i].kind, "theme",
                                              t ? t->title : v[i].theme, "minutes", v[i].minutes));
    }
    qk_lesson_info_free(v, n);
    ok(c, json_pack("{s:o}", "lessons", list));
}

/* The current step as the screen shows it. */
static json_t *lesson_view(call *c)
{
    qk_lesson_view v;
    if (qk_lesson_current(c->sc->lesson, &v) != QK_OK)
        return NULL;
    json_t *choices = json_array();
    for (size_t i = 0; i < v.n_choices; i++)
        json_array_append_new(choices, json_string(v.choice_text[i]));
    json_t *q = json_null();
    if (v.type == QK_STEP_QUESTION && v.question) {
        q = json_pack("{s:s, s:s, s:o, s:I, s:o}", "type", qk_qtype_name(v.question->type), "stem",
                      v.question->stem, "options", options_json(v.question, v.option_text), "blanks",
                      (json_int_t)v.question->n_blanks, "pads", pads_json(c, v.question, v.step_id));
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:i, s:b, s:b}", "step", v.step_id, "type",
                     qk_step_type_name(v.type), "body", v.body ? v.body : "", "choices", choices,
                     "question", q, "score", v.score, "finished", v.finished, "completed",
                     v.completed);
}

static void lesson_reply(call *c, json_t *extra)
{
    json_t *v = lesson_view(c);
    if (!v) {
        json_decref(extra);
        return qk_http_error(c->rs, 500, "server_error", qk_lesson_errmsg(c->sc->lesson));
    }
    if (extra)
        json_object_update_new(v, extra);
    ok(c, v);
}

/* POST /lesson {id}: continues the member's unfinished run of it, or starts one. */
static void h_lesson_open(call *c)
{
    if (!need_screen(c))
        return;
    const char *id = field(c, "id");
    if (!id)
        return;
    qk_lesson_info *v = NULL;
    size_t n = 0;
    int found = 0, allowed = 0;
    if (qk_bundle_lessons(c->k->b, &v, &n) == QK_OK) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(v[i].id, id) == 0) {
                found = 1;
                allowed = lesson_allowed(c, &v[i]);
            }
        }
    }
    qk_lesson_info_free(v, n);
    if (!found)
        return fail(c, 404, "no_lesson", QK_Y_K_NO_LESSON, id);
    if (!allowed)
        return fail(c, 403, "guest_theme", QK_Y_K_GUEST_THEME);
    qk_lesson_free(c->sc->lesson);
    c->sc->lesson = NULL;
    qk_lesson *l = NULL;
    int resumed = c->sc->member && qk_lesson_open(&l, c->k->e, c->k->b, c->sc->member, id, 1) == QK_OK;
    if (!resumed) {
        qk_lesson_free(l);
        l = NULL;
        if (qk_lesson_open(&l, c->k->e, c->k->b, c->sc->member, id, 0) != QK_OK) {
            qk_http_error(c->rs, 409, "cannot_start", qk_lesson_errmsg(l));
            qk_lesson_free(l);
            return;
        }
    }
    c->sc->lesson = l;
    lesson_reply(c, json_pack("{s:b}", "resumed", resumed));
}

static int need_lesson(call *c)
{
    if (!need_screen(c))
        return 0;
    if (!c->sc->lesson) {
        fail(c, 404, "no_lesson", QK_Y_K_NO_LESSON, "-");
        return 0;
    }
    return 1;
}

static void h_lesson_get(call *c)
{
    if (need_lesson(c))
        lesson_reply(c, NULL);
}

static void h_lesson_continue(call *c)
{
    if (!need_lesson(c))
        return;
    if (qk_lesson_continue(c->sc->lesson) != QK_OK)
        return qk_http_error(c->rs, 409, "not_a_page", qk_lesson_errmsg(c->sc->lesson));
    lesson_reply(c, NULL);
}

static void h_lesson_choose(call *c)
{
    if (!need_lesson(c))
        return;
    json_t *i = json_object_get(c->body, "index");
    if (!json_is_integer(i) || json_integer_value(i) < 0)
        return fail(c, 400, "bad_field", QK_Y_K_FIELD, "index");
    if (qk_lesson_choose(c->sc->lesson, (size_t)json_integer_value(i)) != QK_OK)
        return qk_http_error(c->rs, 409, "bad_choice", qk_lesson_errmsg(c->sc->lesson));
    lesson_reply(c, NULL);
}

static void h_lesson_answer(call *c)
{
    if (!need_lesson(c))
        return;
    const char *resp = field(c, "response");
    if (!resp)
        return;
    qk_feedback fb;
    qk_answer_problem problem = QK_ANS_OK;
    int rc = qk_lesson_answer(c->sc->lesson, resp, &fb, &problem);
    if (rc == QK_EINVAL)
        return fail(c, 400, "bad_answer", QK_Y_K_BAD_ANSWER);
    if (rc != QK_OK)
        return qk_http_error(c->rs, 409, "not_a_question", qk_lesson_errmsg(c->sc->lesson));
    fb.reveal = 1; /* a checkpoint always says how it went */
    lesson_reply(c, json_pack("{s:o}", "feedback", feedback_json(&fb)));
}

/* GET /media/NAME: a picture from the bundle (lesson pages). */
static void h_media(call *c)
{
    const char *name = c->rq->path + strlen("/api/media/");
    void *data = NULL;
    size_t len = 0;
    char *mime = NULL;
    if (!*name || qk_bundle_media(c->k->b, name, &data, &len, &mime) != QK_OK) {
        free(data);
        free(mime);
        return fail(c, 404, "not_found", QK_Y_K_NOT_FOUND, c->rq->method, c->rq->path);
    }
    c->rs->status = 200;
    c->rs->body = data;
    c->rs->len = len;
    /* the type is the bundle's own word: only the picture types we know are
     * passed on (a constant string, never the bundle's text) */
    static const char *const pictures[] = {"image/png", "image/jpeg", "image/webp", "image/gif"};
    c->rs->type = "application/octet-stream";
    for (size_t i = 0; mime && i < sizeof pictures / sizeof pictures[0]; i++) {
        if (strcmp(mime, pictures[i]) == 0)
            c->rs->type = pictures[i];
    }
    free(mime);
}

/* --- competitions: solo entries and hot-seat games --- */

static json_t *board_json(call *c, const qk_competition *def);

/* How many questions every entrant of a competition gets. */
static size_t question_count(call *c, const qk_competition *def)
{
    char **ids = NULL;
    size_t n = 0;
    if (qk_competition_question_set(def, c->k->b, &ids, &n) != QK_OK)
        return 0;
    qk_strv_free(ids, n);
    return n;
}

/* The competitions open now (the bundle's and those published for the
 * branch); detail adds the question count, time and local leaderboard. */
static json_t *open_competitions(call *c, int detail)
{
    qk_competition **v = NULL;
    size_t n = 0;
    int64_t now = qk_engine_now_ms(c->k->e);
    json_t *list = json_array();
    if (qk_competitions_all(c->k->e, c->k->b, &v, &n) != QK_OK)
        return list;
    for (size_t i = 0; i < n; i++) {
        if (qk_competition_state(v[i], now) != QK_COMP_OPEN)
            continue;
        json_t *o = json_pack("{s:s, s:s, s:b}", "id", v[i]->id, "title", v[i]->title, "guests",
                              v[i]->guests);
        if (detail) {
            json_object_set_new(o, "questions", json_integer((json_int_t)question_count(c, v[i])));
            json_object_set_new(o, "seconds", json_integer(v[i]->seconds));
            json_object_set_new(o, "board", board_json(c, v[i]));
        }
        json_array_append_new(list, o);
    }
    qk_competition_list_free(v, n);
    return list;
}

static json_t *board_json(call *c, const qk_competition *def)
{
    qk_board_row *rows = NULL;
    size_t n = 0;
    json_t *a = json_array();
    if (qk_competition_board(c->k->e, def, &rows, &n) == QK_OK) {
        for (size_t i = 0; i < n && i < 10; i++)
            json_array_append_new(a, json_pack("{s:i, s:s, s:i, s:I, s:I}", "rank", rows[i].rank,
                                               "name", rows[i].member_id ? rows[i].name : "",
                                               "points", rows[i].points, "correct",
                                               (json_int_t)rows[i].correct, "answer_ms",
                                               (json_int_t)rows[i].answer_ms));
    }
    qk_board_free(rows, n);
    return a;
}

/* The competition by id (the bundle's or a published one); 0 after answering
 * 404. Whether a player may enter now is qk_competition_check's to say. */
static int find_competition(call *c, const char *id, qk_competition **def)
{
    *def = NULL;
    if (qk_competition_find(c->k->e, c->k->b, id, def) != QK_OK) {
        fail(c, 404, "no_competition", QK_Y_K_NO_COMP, id);
        return 0;
    }
    return 1;
}

static int entry_start(call *c, const char *comp, const char *member, uint64_t seed, int shared,
                       qk_session **s)
{
    qk_session_spec spec = QK_SESSION_SPEC_INIT;
    spec.mode = QK_MODE_COMPETITION;
    spec.competition = comp;
    spec.has_seed = shared;
    spec.seed = seed;
    if (qk_session_start(s, c->k->e, c->k->b, member, &spec) != QK_OK) {
        qk_http_error(c->rs, 409, "cannot_enter", qk_session_errmsg(*s));
        qk_session_free(*s);
        *s = NULL;
        return 0;
    }
    return 1;
}

/* GET /competitions: those open now, with the local leaderboard. */
static void h_competitions(call *c)
{
    ok(c, json_pack("{s:o}", "competitions", open_competitions(c, 1)));
}

/* POST /compete {id}: a solo entry for the signed-in member (or a guest, when
 * the competition lets them); then the quiz endpoints run it. */
static void h_compete(call *c)
{
    if (!need_screen(c))
        return;
    const char *id = field(c, "id");
    qk_competition *def = NULL;
    if (!id || !find_competition(c, id, &def))
        return;
    int rc = qk_competition_check(c->k->e, def, c->sc->member);
    qk_competition_free(def);
    if (rc != QK_OK)
        return qk_http_error(c->rs, 409, "cannot_enter", qk_engine_errmsg(c->k->e));
    qk_session_free(c->sc->quiz);
    c->sc->quiz = NULL;
    if (!entry_start(c, id, c->sc->member, 0, 0, &c->sc->quiz))
        return;
    ok(c, quiz_state(c));
}

static json_t *players_json(const qk_hotseat *g)
{
    json_t *a = json_array();
    qk_hs_state st;
    qk_hotseat_state(g, &st);
    for (size_t i = 0; i < st.players; i++) {
        const qk_hs_player *p = qk_hotseat_player(g, i);
        json_array_append_new(a, json_pack("{s:s, s:b, s:i, s:I, s:I}", "name", p->name, "guest", !p->member,
                                           "points", p->points, "correct", (json_int_t)p->correct, "answer_ms",
                                           (json_int_t)p->answer_ms));
    }
    return a;
}

static void game_reply(call *c, json_t *extra)
{
    game *gm = c->sc->game;
    qk_hs_state st;
    qk_hotseat_state(gm->g, &st);
    const qk_competition *def = qk_hotseat_competition(gm->g);
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o}", "competition", def->id, "title", def->title,
                          "phase", qk_hs_phase_name(st.phase), "question", (json_int_t)st.question, "total",
                          (json_int_t)st.total, "turn", (json_int_t)st.turn, "player",
                          qk_hotseat_player(gm->g, st.turn)->name, "players", players_json(gm->g));
    if (gm->last_feedback && st.phase == QK_HS_FEEDBACK)
        json_object_set(o, "feedback", gm->last_feedback);
    if (st.phase == QK_HS_PODIUM) /* with the kiosk's own leaderboard */
        json_object_set_new(o, "board", board_json(c, def));
    if (extra)
        json_object_update_new(o, extra);
    ok(c, o);
}

/* POST /hotseat {competition, players: [{member, pin} | {guest: true}]}: every
 * player signs in (each PIN checked, with its lockout) before the game
 * starts; the game gets its own screen token, taken first so that a full
 * kiosk turns a game away before it begins anyone's entry. */
static void h_hotseat_new(call *c)
{
    const char *id = field(c, "competition");
    json_t *players = json_object_get(c->body, "players");
    if (!id)
        return;
    if (!json_is_array(players) || json_array_size(players) < 2 || json_array_size(players) > MAX_PLAYERS)
        return fail(c, 400, "bad_field", QK_Y_K_FIELD, "players (2-8)");
    size_t n = json_array_size(players), guests = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *pl = json_array_get(players, i), *m = json_object_get(pl, "member"), *pin = json_object_get(pl, "pin");
        if (!json_is_object(pl) || (m && !json_is_string(m)) || (pin && !json_is_string(pin)) ||
            (!m && !json_is_true(json_object_get(pl, "guest"))))
            return fail(c, 400, "bad_field", QK_Y_K_FIELD, "players: {member, pin} | {guest: true}");
    }
    qk_competition *def = NULL;
    if (!find_competition(c, id, &def))
        return;
    qk_competition_free(def);
    screen *sc = new_screen(c, NULL, NULL);
    if (!sc)
        return;
    const char *members[MAX_PLAYERS] = {NULL};
    char *names[MAX_PLAYERS] = {NULL};
    int good = 1;
    for (size_t i = 0; good && i < n; i++) {
        json_t *pl = json_array_get(players, i);
        const char *m = json_string_value(json_object_get(pl, "member"));
        const char *pin = json_string_value(json_object_get(pl, "pin"));
        if (!m) {
            char name[64];
            qk__ymsgf(c->lang, name, sizeof name, QK_Y_K_GUEST_N, (int)++guests);
            if (!(names[i] = strdup(name))) {
                qk_http_error(c->rs, 500, "server_error", "out of memory");
                good = 0;
            }
            continue;
        }
        for (size_t k = 0; good && k < i; k++) {
            /* before a PIN is tried (the game checks again) */
            if (members[k] && strcasecmp(members[k], m) == 0) {
                fail(c, 400, "same_player", QK_Y_K_SAME_PLAYER, m);
                good = 0;
            }
        }
        int64_t remaining = 0;
        int rc = good ? qk_member_login(c->k->e, m, pin ? pin : "", &remaining) : QK_OK;
        if (good && rc != QK_OK) {
            if (rc == QK_ELOCKED)
                fail(c, 423, "locked", QK_Y_K_LOCKED, (int)((remaining + 59999) / 60000));
            else
                fail(c, 401, "wrong_pin", QK_Y_K_PLAYER_PIN, m);
            good = 0;
        }
        if (!good)
            break;
        qk_member *mm = NULL;
        qk_member_get(c->k->e, m, &mm);
        members[i] = strdup(mm ? mm->id : m); /* as enrolled, whatever case was typed */
        names[i] = strdup(mm ? mm->name : m);
        qk_member_free(mm);
        if (!members[i] || !names[i]) {
            qk_http_error(c->rs, 500, "server_error", "out of memory");
            good = 0;
        }
    }
    game *gm = good ? calloc(1, sizeof *gm) : NULL;
    if (good && !gm)
        qk_http_error(c->rs, 500, "server_error", "out of memory");
    int rc = gm ? qk_hotseat_start(&gm->g, c->k->e, c->k->b, id, members, (const char *const *)names, n,
                                   QK_HS_TURNS)
                : QK_ENOMEM;
    if (gm && rc != QK_OK) {
        /* who may not play (refused before any entry began), or the kiosk failed */
        int who = rc == QK_EINVAL || rc == QK_ESTATE || rc == QK_EPERM || rc == QK_ELIMIT || rc == QK_ENOTFOUND;
        qk_http_error(c->rs, rc == QK_EINVAL ? 400 : who ? 409 : 500,
                      rc == QK_EINVAL ? "bad_field" : who ? "cannot_enter" : "server_error", qk_hotseat_errmsg(gm->g));
    }
    for (size_t i = 0; i < n; i++) {
        free((char *)members[i]);
        free(names[i]);
    }
    if (rc != QK_OK) {
        end_game(gm); /* nothing was played: any entry begun ends as it is */
        end_screen(sc);
        return;
    }
    sc->game = gm;
    c->sc = sc;
    game_reply(c, json_pack("{s:s}", "token", sc->token));
}

static int need_game(call *c, qk_hs_phase phase)
{
    if (!need_screen(c))
        return 0;
    if (!c->sc->game) {
        fail(c, 404, "no_game", QK_Y_K_NO_GAME);
        return 0;
    }
    qk_hs_state st;
    qk_hotseat_state(c->sc->game->g, &st);
    if (phase != st.phase) {
        fail(c, 409, "wrong_phase", QK_Y_K_PHASE, qk_hs_phase_name(st.phase));
        return 0;
    }
    return 1;
}

static void h_hotseat_get(call *c)
{
    if (!need_screen(c))
        return;
    if (!c->sc->game)
        return fail(c, 404, "no_game", QK_Y_K_NO_GAME);
    game_reply(c, NULL);
}

/* POST /hotseat/reveal: the player whose turn it is is ready; their question
 * (and its clock) starts now. */
static void h_hotseat_reveal(call *c)
{
    if (!need_game(c, QK_HS_HANDOVER))
        return;
    qk_hotseat *g = c->sc->game->g;
    qk_item it;
    if (qk_hotseat_reveal(g, &it) != QK_OK)
        return qk_http_error(c->rs, 500, "server_error", qk_hotseat_errmsg(g));
    game_reply(c, json_pack("{s:o}", "item", item_json(c, qk_hotseat_session(g), &it)));
}

/* After a player's answer (or their time ran out): their feedback, then on
 * /continue the next player's handover, or the scoreboard after everyone. */
static void after_turn(call *c, const qk_feedback *fb)
{
    game *gm = c->sc->game;
    json_decref(gm->last_feedback);
    gm->last_feedback = feedback_json(fb);
    game_reply(c, NULL);
}

static void h_hotseat_answer(call *c)
{
    if (!need_game(c, QK_HS_QUESTION))
        return;
    const char *resp = field(c, "response");
    if (!resp)
        return;
    qk_hotseat *g = c->sc->game->g;
    qk_feedback fb;
    qk_answer_problem problem = QK_ANS_OK;
    int rc = qk_hotseat_answer(g, resp, &fb, &problem);
    if (rc == QK_EINVAL)
        return fail(c, 400, "bad_answer", QK_Y_K_BAD_ANSWER);
    if (rc != QK_OK)
        return qk_http_error(c->rs, 500, "server_error", qk_hotseat_errmsg(g));
    after_turn(c, &fb);
}

static void h_hotseat_expire(call *c)
{
    if (!need_game(c, QK_HS_QUESTION))
        return;
    qk_hotseat *g = c->sc->game->g;
    qk_feedback fb;
    if (qk_hotseat_expire(g, &fb) != QK_OK)
        return qk_http_error(c->rs, 409, "time_left", qk_hotseat_errmsg(g));
    after_turn(c, &fb);
}

/* POST /hotseat/continue: from a player's feedback to the next player, from
 * the scoreboard to the next question, and after the last to the podium. */
static void h_hotseat_continue(call *c)
{
    if (!need_screen(c))
        return;
    if (!c->sc->game)
        return fail(c, 404, "no_game", QK_Y_K_NO_GAME);
    qk_hotseat *g = c->sc->game->g;
    qk_hs_state st;
    qk_hotseat_state(g, &st);
    int rc = qk_hotseat_continue(g);
    if (rc == QK_ESTATE)
        return fail(c, 409, "wrong_phase", QK_Y_K_PHASE, qk_hs_phase_name(st.phase));
    if (rc != QK_OK)
        return qk_http_error(c->rs, 500, "server_error", qk_hotseat_errmsg(g));
    game_reply(c, NULL);
}

/* --- routing --- */

typedef struct route {
    const char *method, *path;
    void (*fn)(call *c);
} route;

static const route routes[] = {
    {"GET", "/api/home", h_home},          {"POST", "/api/login", h_login},
    {"POST", "/api/guest", h_guest},        {"POST", "/api/logout", h_logout},
    {"GET", "/api/themes", h_themes},       {"GET", "/api/me", h_me},
    {"POST", "/api/quiz", h_quiz_start},    {"GET", "/api/quiz", h_quiz_get},
    {"POST", "/api/quiz/answer", h_quiz_answer}, {"POST", "/api/quiz/expire", h_quiz_expire},
    {"POST", "/api/quiz/finish", h_quiz_finish},
    {"GET", "/api/lessons", h_lessons},      {"POST", "/api/lesson", h_lesson_open},
    {"GET", "/api/lesson", h_lesson_get},    {"POST", "/api/lesson/continue", h_lesson_continue},
    {"POST", "/api/lesson/choose", h_lesson_choose}, {"POST", "/api/lesson/answer", h_lesson_answer},
    {"GET", "/api/competitions", h_competitions}, {"POST", "/api/compete", h_compete},
    {"POST", "/api/hotseat", h_hotseat_new},  {"GET", "/api/hotseat", h_hotseat_get},
    {"POST", "/api/hotseat/reveal", h_hotseat_reveal}, {"POST", "/api/hotseat/answer", h_hotseat_answer},
    {"POST", "/api/hotseat/expire", h_hotseat_expire}, {"POST", "/api/hotseat/continue", h_hotseat_continue},
};

static const route media_route = {"GET", "/api/media/", h_media};

size_t qk__kiosk_body_limit(void *ctx, const char *m, const char *path)
{
    (void)ctx;
    (void)path;
    return strcmp(m, "POST") == 0 ? SMALL_BODY : 0;
}

void qk__kiosk_handle(void *ctx, qk_http_req *rq, qk_http_resp *rs)
{
    qk_kiosk *k = ctx;
    call c = {.k = k, .rq = rq, .rs = rs, .lang = k->lang};
    const char *al = qk_http_header(rq, "Accept-Language");
    if (al)
        c.lang = strncmp(al, "en", 2) == 0 ? QK_LANG_EN : strncmp(al, "zh", 2) == 0 ? QK_LANG_ZH : c.lang;
    if (!rq->loopback)
        return fail(&c, 403, "loopback_only", QK_Y_K_LOOPBACK);
    if (strncmp(rq->path, "/api/", 5) != 0 && !k->web[0]) /* the phone app's: no pages here */
        return fail(&c, 404, "not_found", QK_Y_K_NOT_FOUND, rq->method, rq->path);
    if (strncmp(rq->path, "/api/", 5) != 0) {
        /* the kiosk's pages, and what they share with the dashboard (web/common) */
        int common = strncmp(rq->path, "/common/", 8) == 0;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", k->web, common ? "common" : "kiosk");
        if (strcmp(rq->method, "GET") != 0)
            return fail(&c, 405, "method_not_allowed", QK_Y_K_NOT_FOUND, rq->method, rq->path);
        const char *rel = strcmp(rq->path, "/") == 0 ? "index.html" : rq->path + (common ? 8 : 1);
        return qk_http_static(rs, dir, rel);
    }
    const route *r = NULL;
    for (size_t i = 0; !r && i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].path, rq->path) == 0 && strcmp(routes[i].method, rq->method) == 0)
            r = &routes[i];
    }
    if (!r && strcmp(rq->method, "GET") == 0 && strncmp(rq->path, "/api/media/", 11) == 0)
        r = &media_route;
    if (!r)
        return fail(&c, 404, "not_found", QK_Y_K_NOT_FOUND, rq->method, rq->path);
    if (strcmp(rq->method, "POST") == 0 && rq->body_len > 0) {
        json_error_t jerr;
        c.body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(c.body)) {
            json_decref(c.body);
            return fail(&c, 400, "bad_json", QK_Y_K_JSON);
        }
    }
    pthread_mutex_lock(&k->lock);
    expire_idle(k);
    c.sc = find_screen(k, qk_http_header(rq, "X-Kiosk-Session"));
    if (c.sc) {
        c.sc->last_ms = qk_engine_now_ms(k->e);
        snprintf(rq->who, sizeof rq->who, "%s", c.sc->member ? c.sc->member : "guest");
    }
    r->fn(&c);
    pthread_mutex_unlock(&k->lock);
    json_decref(c.body);
}

qk_kiosk *qk__kiosk_new(qk_engine *e, qk_bundle *b, const qk_kiosk_config *cfg, char *msg, size_t n)
{
    qk_kiosk *k = calloc(1, sizeof *k);
    if (!k) {
        qk__ymsgf(cfg->lang, msg, n, QK_Y_OOM);
        return NULL;
    }
    k->e = e;
    k->b = b;
    k->lang = cfg->lang;
    k->idle_s = cfg->idle_s > 0 ? cfg->idle_s : cfg->idle_s < 0 ? 0 : 90;
    k->clock_rate = qk_clock_rate(cfg->clock);
    k->web = strdup(cfg->web ? cfg->web : QK_WEB_DIR);
    k->server_conf = cfg->server_conf ? strdup(cfg->server_conf) : NULL;
    if (!k->web || (cfg->server_conf && !k->server_conf)) {
        qk__ymsgf(cfg->lang, msg, n, QK_Y_OOM);
        free(k->web);
        free(k->server_conf);
        free(k);
        return NULL;
    }
    pthread_mutex_init(&k->lock, NULL);
    return k;
}

const char *qk__kiosk_web(const qk_kiosk *k)
{
    return k->web;
}

qk_http *qk__kiosk_get_http(const qk_kiosk *k)
{
    return k->http;
}

void qk__kiosk_set_http(qk_kiosk *k, qk_http *h)
{
    k->http = h;
}

void qk__kiosk_free(qk_kiosk *k)
{
    if (!k)
        return;
    for (int i = 0; i < MAX_SCREENS; i++) {
        if (k->screens[i].token[0])
            end_screen(&k->screens[i]);
    }
    pthread_mutex_destroy(&k->lock);
    free(k->web);
    free(k->server_conf);
    free(k);
}
