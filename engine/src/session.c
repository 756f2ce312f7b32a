/* session.c: quiz attempts: draw, answer, finish, and resume by replaying events.
 *
 * The draw is a pure function of (bundle questions, spec, seed, draw
 * version): the seeded generator first picks the questions from the theme's
 * list, then, question by question, shuffles the options of those that allow
 * it. Resume and the server's re-scoring call the same draw() with the
 * recorded seed and version (see QK_DRAW_CURRENT). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "quizkit/competition.h"

/* How an attempt's questions are picked from its theme's list, recorded in
 * its attempt.start as "draw" (absent: 1), so that a device and a server of
 * any later version draw an attempt the same way:
 * 1: the whole list shuffled (Fisher-Yates from the end), the first count
 *    taken: one generator call for every question of the theme.
 * 2: count picks, each uniform among the questions not yet picked
 *    (Fisher-Yates from the front, stopped after count): one call for each
 *    question asked, so a start costs the same in a theme of 100 or 100,000.
 * Options are shuffled the same way in both. A version this engine does not
 * know is a newer device's attempt: not resumed, not re-scored. */
#define QK_DRAW_CURRENT 2

typedef struct slot {
    qk_question *q;
    int kept; /* q belongs to the bundle (qk_bundle_keep_questions) */
    size_t perm[QK_MAX_OPTIONS];
    int answered;
    qk_centi score, max;
    int correct;
    int64_t elapsed_ms;
    int timed_out; /* challenge: no answer within the question's time */
    int comp_points; /* competition: this answer's points */
    int fast;        /* competition: faster than the floor (flagged) */
    char *given;
    char *right;
} slot;

struct qk_session {
    qk_engine *e;
    qk_bundle *b;
    qk_lang lang;
    qk__err err;
    char attempt_id[QK_UUID_STRLEN + 1];
    char *member_id;
    char *theme;
    qk_mode mode;
    qk_order order;
    size_t count;
    int time_limit_s;
    uint64_t seed;
    int draw; /* QK_DRAW_CURRENT, or the version an older attempt recorded */
    int64_t started_ms;
    size_t n;
    slot *slots;
    size_t cur;    /* slot last handed out by next(), or n */
    int presented; /* cur is valid */
    int64_t shown_ms;  /* engine clock when the current item was handed out */
    char **fixed;      /* review: the questions to ask, in order (else drawn from a theme) */
    size_t n_fixed;
    int ended;         /* challenge: a wrong answer ended the run */
    char day[QK_DATE_LEN]; /* daily: the Beijing day the set belongs to */
    qk_competition *comp; /* competition mode: its definition */
    int comp_borrowed;    /* comp belongs to a rescorer */
    int64_t shown_mono;   /* monotonic clock when the item was handed out */
    int finished;
    int timed_out;
    int expired;          /* daily: finished because its day ended (reason "expired") */
    int resumed;          /* continued from the log rather than begun */
    qk_expired_daily closed; /* a past day's daily this call finished (day[0]: none) */
    qk_summary summary;
};

static int engine_fail(qk_session *s, int status);
static void recount_competition(qk_session *s);
/* Which unfinished attempt to continue (see resume_pick): mode 0: any;
 * any_theme: every theme, else only theme (NULL: the all-themes attempts). */
typedef struct pick {
    qk_mode mode;
    int any_theme;
    const char *theme;
} pick;
static int resume_pick(qk_session *s, const pick *p);

static const char *const mode_names[] = {NULL,      "practice", "exam",        "daily",
                                         "challenge", "review", "srs", "competition", "lesson"};

const char *qk_mode_name(qk_mode m)
{
    return (unsigned)m < sizeof mode_names / sizeof mode_names[0] ? mode_names[m] : NULL;
}

qk_mode qk_mode_parse(const char *name)
{
    for (size_t i = 1; name && i < sizeof mode_names / sizeof mode_names[0]; i++) {
        if (strcmp(name, mode_names[i]) == 0)
            return (qk_mode)i;
    }
    return (qk_mode)0;
}

const char *qk_session_errmsg(const qk_session *s)
{
    return s ? s->err.msg : "out of memory";
}

const char *qk_session_attempt_id(const qk_session *s)
{
    return s->attempt_id;
}

const char *qk_session_theme(const qk_session *s)
{
    return s->theme;
}

qk_mode qk_session_mode(const qk_session *s)
{
    return s->mode;
}

size_t qk_session_answered(const qk_session *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->slots[i].answered ? 1 : 0;
    return n;
}

static qk_session *session_new(qk_engine *e, qk_bundle *b, const char *member_id)
{
    qk_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->e = e;
    s->b = b;
    s->lang = qk_engine_lang(e);
    if (member_id && !(s->member_id = qk__strdup(member_id))) {
        free(s);
        return NULL;
    }
    return s;
}

static int oom(qk_session *s)
{
    return qk__errf(&s->err, s->lang, QK_ENOMEM, QK_M_OOM);
}

/* Draws the attempt's questions into s->slots (see the comment at the top).
 * A review asks a fixed list in its order; the seed still shuffles options. */
static int draw(qk_session *s)
{
    size_t n_ids = s->fixed ? s->n_fixed : qk__bundle_theme_count(s->b, s->theme);
    size_t n = s->count == 0 || s->count > n_ids ? n_ids : s->count, *order = NULL;
    char **ids = NULL; /* the questions at order[0..n) */
    qk_rng *rng = NULL;
    int status = QK_OK;
    if (n_ids > UINT32_MAX) /* the generator picks below 2^32 */
        return qk__errf(&s->err, s->lang, QK_ELIMIT, QK_M_BUNDLE_CORRUPT, "bundle", "questions (too many)");
    if (n_ids == 0) {
        /* Named as a person knows it: the theme's title, or the whole bundle. */
        const qk_theme *t = s->theme ? qk_bundle_theme_find(s->b, s->theme) : NULL;
        return s->theme ? qk__errf(&s->err, s->lang, QK_ENOTFOUND, QK_M_EMPTY_THEME, t ? t->title : s->theme)
                        : qk__errf(&s->err, s->lang, QK_ENOTFOUND, QK_M_EMPTY_BUNDLE);
    }
    order = malloc(n_ids * sizeof *order);
    ids = calloc(n, sizeof *ids);
    s->slots = calloc(n, sizeof *s->slots);
    if (!order || !ids || !s->slots) {
        status = oom(s);
        goto out;
    }
    for (size_t i = 0; i < n_ids; i++)
        order[i] = i;
    if (s->order == QK_ORDER_RANDOM) {
        if ((status = qk_rng_new_seeded(&rng, s->seed)) != QK_OK) {
            status = qk__errf(&s->err, s->lang, status, QK_M_RNG);
            goto out;
        }
        if (s->fixed) {
            /* a fixed list keeps its order; the seed shuffles options only */
        } else if (s->draw == 1) {
            status = qk_rng_shuffle(rng, order, n_ids);
        } else {
            for (size_t i = 0; i < n && status == QK_OK; i++) {
                uint32_t j;
                if ((status = qk_rng_below(rng, (uint32_t)(n_ids - i), &j)) == QK_OK) {
                    size_t t = order[i];
                    order[i] = order[i + j];
                    order[i + j] = t;
                }
            }
        }
        if (status != QK_OK) {
            status = qk__errf(&s->err, s->lang, status, QK_M_RNG);
            goto out;
        }
    }
    for (size_t i = 0; s->fixed && i < n; i++) {
        if (!(ids[i] = qk__strdup(s->fixed[i]))) { /* in its own order */
            status = oom(s);
            goto out;
        }
    }
    if (!s->fixed && (status = qk__bundle_theme_at(s->b, s->theme, order, n, ids)) != QK_OK) {
        qk__errf(&s->err, s->lang, status, QK_M_BUNDLE_CORRUPT, "bundle", qk_bundle_errmsg(s->b));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        slot *sl = &s->slots[i];
        status = qk__bundle_question_kept(s->b, ids[i], &sl->q);
        if (status == 1)
            sl->kept = 1, status = QK_OK;
        else if (status == 0)
            status = qk_bundle_question(s->b, ids[i], &sl->q);
        if (status != QK_OK) {
            qk__errf(&s->err, s->lang, status, QK_M_BUNDLE_CORRUPT, "bundle",
                     qk_bundle_errmsg(s->b));
            goto out;
        }
        s->n = i + 1;
        for (size_t k = 0; k < QK_MAX_OPTIONS; k++)
            sl->perm[k] = k;
        if (rng && sl->q->shuffle && sl->q->n_options > 1 &&
            (status = qk_rng_shuffle(rng, sl->perm, sl->q->n_options)) != QK_OK)
            goto out;
    }
out:
    qk_rng_free(rng);
    free(order);
    qk_strv_free(ids, n);
    return status;
}

/* Review and spaced repetition ask a fixed list: ids, in their order, that
 * this bundle still has (ids are stable across versions) and that belong to
 * the theme asked for, at most limit of them (0: all). empty_msg when none. */
static int keep_known(qk_session *s, const char *const *ids, size_t n, size_t limit,
                      qk__msg_id empty_msg)
{
    s->fixed = calloc(n ? n : 1, sizeof *s->fixed);
    if (!s->fixed)
        return oom(s);
    for (size_t i = 0; i < n && (!limit || s->n_fixed < limit); i++) {
        qk_question *q = NULL;
        int keep = qk_bundle_question(s->b, ids[i], &q) == QK_OK &&
                   (!s->theme || strcmp(q->theme, s->theme) == 0);
        qk_question_free(q);
        if (!keep)
            continue;
        if (!(s->fixed[s->n_fixed] = qk__strdup(ids[i])))
            return oom(s);
        s->n_fixed++;
    }
    if (s->n_fixed == 0)
        return qk__errf(&s->err, s->lang, QK_ENOTFOUND, empty_msg);
    s->count = 0;
    return QK_OK;
}

/* A competition entry: the window, guests, the member's counted entries, then
 * the shared question set in this entrant's own order (shuffled by the
 * entrant's seed; options too, by draw()). */
static int prepare_competition(qk_session *s, const qk_session_spec *spec)
{
    if (!spec->competition)
        return qk__errf(&s->err, s->lang, QK_EINVAL, QK_M_S_SPEC);
    int rc = qk_competition_find(s->e, s->b, spec->competition, &s->comp);
    if (rc != QK_OK)
        return qk__errf(&s->err, s->lang, rc, QK_M_C_NONE, spec->competition);
    if ((rc = qk_competition_check(s->e, s->comp, s->member_id)) != QK_OK)
        return engine_fail(s, rc);
    char **ids = NULL;
    size_t n = 0, *order = NULL;
    qk_rng *rng = NULL;
    rc = qk_competition_question_set(s->comp, s->b, &ids, &n);
    if (rc != QK_OK)
        return qk__errf(&s->err, s->lang, rc, QK_M_C_NONE, s->comp->id);
    if (!(order = malloc(n * sizeof *order)) || !(s->fixed = calloc(n, sizeof *s->fixed)))
        rc = QK_ENOMEM;
    for (size_t i = 0; rc == QK_OK && i < n; i++)
        order[i] = i;
    if (rc == QK_OK && s->order == QK_ORDER_RANDOM &&
        (rc = qk_rng_new_seeded(&rng, s->seed ^ 0x636f6d70u)) == QK_OK)
        rc = qk_rng_shuffle(rng, order, n);
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        s->fixed[i] = ids[order[i]];
        ids[order[i]] = NULL;
        s->n_fixed = i + 1;
    }
    qk_rng_free(rng);
    free(order);
    qk_strv_free(ids, n);
    if (rc != QK_OK)
        return oom(s);
    free(s->theme);
    s->theme = s->comp->theme ? qk__strdup(s->comp->theme) : NULL;
    s->count = 0;
    return QK_OK;
}

/* Mode-specific parts of a new attempt's spec:
 * - daily: the set is drawn by a seed made from the member, the Beijing day
 *   and the bundle, so starting again the same day gives the same questions,
 *   and the next day gives new ones; the bundle sets how many;
 * - challenge: every question of the theme, in random order unless asked
 *   otherwise (the run ends at the first wrong answer);
 * - review: the wrong-answer book, most recently missed first. */
static int prepare_mode(qk_session *s, const qk_session_spec *spec)
{
    const qk_bundle_info *info = qk_bundle_info_get(s->b);
    switch (s->mode) {
    case QK_MODE_DAILY: {
        qk_beijing_date(s->started_ms, s->day);
        qk__buf k = {0};
        qk__buf_str(&k, "daily\x1f");
        qk__buf_str(&k, s->member_id ? s->member_id : "");
        qk__buf_str(&k, "\x1f");
        qk__buf_str(&k, s->day);
        qk__buf_str(&k, "\x1f");
        qk__buf_str(&k, info->id);
        char *key = qk__buf_take(&k);
        if (!key)
            return oom(s);
        char hex[65];
        qk_sha256_hex(hex, key, strlen(key));
        free(key);
        s->seed = 0;
        for (int i = 0; i < 16; i++) /* the first 64 bits of the hash */
            s->seed = s->seed << 4 | (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
        s->order = QK_ORDER_RANDOM;
        s->count = info->daily_count > 0 ? (size_t)info->daily_count : QK_DAILY_DEFAULT_COUNT;
        break;
    }
    case QK_MODE_CHALLENGE:
        s->count = 0; /* as long as the member keeps answering right */
        break;
    case QK_MODE_COMPETITION:
        return prepare_competition(s, spec);
    case QK_MODE_SRS: {
        /* The questions SM-2 says are due today or earlier, soonest first. */
        qk_srs_item *due = NULL;
        size_t n = 0, n_due = 0;
        int rc = qk_srs_list(s->e, s->member_id, &due, &n);
        if (rc != QK_OK)
            return qk__errf(&s->err, s->lang, rc, QK_M_SQL, "srs", qk_engine_errmsg(s->e));
        int64_t today = qk_beijing_day(s->started_ms);
        const char **ids = calloc(n ? n : 1, sizeof *ids);
        for (size_t i = 0; ids && i < n && due[i].due_day <= today; i++)
            ids[n_due++] = due[i].question_id;
        rc = ids ? keep_known(s, ids, n_due, spec->count, QK_M_S_NO_DUE) : oom(s);
        free(ids);
        qk_srs_free(due, n);
        return rc;
    }
    case QK_MODE_REVIEW: {
        qk_wrong *book = NULL;
        size_t n = 0;
        int rc = qk_wrongbook_list(s->e, s->member_id, &book, &n);
        if (rc != QK_OK)
            return qk__errf(&s->err, s->lang, rc, QK_M_SQL, "wrongbook", qk_engine_errmsg(s->e));
        const char **ids = calloc(n ? n : 1, sizeof *ids);
        for (size_t i = 0; ids && i < n; i++)
            ids[i] = book[i].question_id;
        rc = ids ? keep_known(s, ids, n, spec->count, QK_M_S_NO_WRONG) : oom(s);
        free(ids);
        qk_wrongbook_free(book, n);
        return rc;
    }
    default: break;
    }
    return QK_OK;
}

int qk_session_start(qk_session **out, qk_engine *e, qk_bundle *b, const char *member_id,
                     const qk_session_spec *spec)
{
    qk_session *s = session_new(e, b, member_id);
    *out = s;
    if (!s)
        return QK_ENOMEM;
    if (!spec || spec->version != QK_SESSION_SPEC_VERSION)
        return qk__errf(&s->err, s->lang, QK_EINVAL, QK_M_S_SPEC);
    if (spec->mode != QK_MODE_PRACTICE && spec->mode != QK_MODE_EXAM &&
        spec->mode != QK_MODE_DAILY && spec->mode != QK_MODE_CHALLENGE &&
        spec->mode != QK_MODE_REVIEW && spec->mode != QK_MODE_SRS &&
        spec->mode != QK_MODE_COMPETITION) {
        const char *name = qk_mode_name(spec->mode);
        return qk__errf(&s->err, s->lang, QK_EINVAL, QK_M_S_MODE, name ? name : "?");
    }
    if (spec->mode == QK_MODE_DAILY && member_id) {
        /* One daily quiz a day: today's, if begun, continues; past days'
         * unfinished ones are finished on their own day (close_stale).
         * A guest is nobody in particular: a guest's daily quiz is never
         * another guest's to continue. */
        qk_session *r = session_new(e, b, member_id);
        pick p = {QK_MODE_DAILY, 1, NULL};
        if (!r)
            return oom(s);
        int rc = resume_pick(r, &p);
        if (rc == QK_OK) {
            qk_session_free(s);
            *out = r;
            return QK_OK;
        }
        s->closed = r->closed;
        qk_session_free(r);
    }
    if (spec->theme) {
        const qk_theme *t = qk_bundle_theme_find(b, spec->theme);
        if (!t)
            return qk__errf(&s->err, s->lang, QK_ENOTFOUND, QK_M_NO_THEME, spec->theme);
        if (!(s->theme = qk__strdup(t->id)))
            return oom(s);
    }
    /* One reading of the clock: the attempt's day (its daily set, points and
     * statistics) is the day of its attempt.start event. */
    s->started_ms = qk_engine_now_ms(e);
    s->mode = spec->mode;
    s->order = spec->order;
    s->count = spec->count;
    s->seed = spec->seed;
    s->draw = QK_DRAW_CURRENT;
    if (!spec->has_seed && qk_rng_os_seed(&s->seed) != QK_OK)
        return qk__errf(&s->err, s->lang, QK_EIO, QK_M_P_OPEN, "seed", "entropy");
    int status = prepare_mode(s, spec);
    if (status == QK_OK)
        status = draw(s);
    if (status != QK_OK)
        return status;
    s->time_limit_s = spec->time_limit_s;
    if (s->mode == QK_MODE_EXAM && s->time_limit_s <= 0)
        s->time_limit_s = (int)(60 * s->n);
    if (s->mode == QK_MODE_CHALLENGE && s->time_limit_s <= 0)
        s->time_limit_s = QK_CHALLENGE_DEFAULT_SECONDS; /* per question */
    if (s->mode == QK_MODE_COMPETITION)
        s->time_limit_s = s->comp->seconds; /* per question, the definition's */
    else if (s->mode != QK_MODE_EXAM && s->mode != QK_MODE_CHALLENGE)
        s->time_limit_s = 0;

    const qk_bundle_info *info = qk_bundle_info_get(b);
    qk__buf p = {0};
    qk__buf_str(&p, "{\"mode\":");
    qk__buf_json_str(&p, qk_mode_name(s->mode));
    qk__buf_str(&p, ",\"theme\":");
    if (s->theme)
        qk__buf_json_str(&p, s->theme);
    else
        qk__buf_str(&p, "null");
    qk__buf_fmt(&p, ",\"count\":%zu,\"order\":\"%s\",\"time_limit_s\":%d,\"seed\":\"%llu\",\"draw\":%d",
                s->count, s->order == QK_ORDER_RANDOM ? "random" : "sequential", s->time_limit_s,
                (unsigned long long)s->seed, s->draw);
    if (s->day[0])
        qk__buf_fmt(&p, ",\"day\":\"%s\"", s->day);
    if (s->comp) {
        qk__buf_str(&p, ",\"competition\":");
        qk__buf_json_str(&p, s->comp->id);
    }
    qk__buf_str(&p, ",\"questions\":[");
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            qk__buf_str(&p, ",");
        qk__buf_json_str(&p, s->slots[i].q->id);
    }
    qk__buf_str(&p, "]}");
    char *payload = qk__buf_take(&p);
    if (!payload)
        return oom(s);
    status = qk__engine_uuid(e, s->attempt_id);
    if (status == QK_OK) {
        qk__event ev = {.member_id = s->member_id,
                        .bundle_id = info->id,
                        .bundle_version = info->version,
                        .kind = "attempt.start",
                        .attempt_id = s->attempt_id,
                        .payload = payload,
                        .at_ms = s->started_ms};
        status = qk__event_append(e, &ev, NULL);
        if (status != QK_OK)
            snprintf(s->err.msg, sizeof s->err.msg, "%s", qk_engine_errmsg(e));
    }
    free(payload);
    s->cur = s->n;
    return status;
}

static int engine_fail(qk_session *s, int status)
{
    snprintf(s->err.msg, sizeof s->err.msg, "%s", qk_engine_errmsg(s->e));
    return status;
}

static int set_display(qk_session *s, slot *sl, const qk_response *r)
{
    free(sl->given);
    sl->given = NULL;
    if (qk_response_show(&sl->given, sl->q, sl->perm, r, s->lang, QK_SHOW_LETTERS | QK_SHOW_TEXT) !=
        QK_OK)
        return oom(s);
    return QK_OK;
}

/* Draws an attempt again (resume, re-scoring): it must give exactly the
 * questions its attempt.start recorded, or the bundle changed under it. */
static int redraw(qk_session *s, const char *recorded)
{
    int status = draw(s);
    if (status != QK_OK)
        return status;
    qk__buf ids = {0};
    qk__buf_str(&ids, "[");
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            qk__buf_str(&ids, ",");
        qk__buf_json_str(&ids, s->slots[i].q->id);
    }
    qk__buf_str(&ids, "]");
    char *drawn = qk__buf_take(&ids);
    if (!drawn)
        status = oom(s);
    else if (!recorded || strcmp(drawn, recorded) != 0)
        status = qk__errf(&s->err, s->lang, QK_EVERSION, QK_M_S_REPLAY, s->attempt_id);
    free(drawn);
    return status;
}

/* --- an attempt as its events record it: the one loader of resume and re-score --- */

typedef struct logged_answer {
    int64_t i;
    char *q, *response;
    int64_t elapsed_ms;
    int timeout;
} logged_answer;

typedef struct attempt_log {
    int started; /* its attempt.start was read */
    char *bundle_id, *bundle_version;
    int64_t started_ms;
    char *mode, *theme, *order, *seed, *questions, *competition, *day;
    int64_t count;
    int time_limit_s;
    int64_t draw; /* its "draw": 1 when not recorded, -1 when not a number */
    logged_answer *answers; /* in the order they were given (seq) */
    size_t n_answers, cap;
    int finished; /* its attempt.finish was read */
    int64_t score;
    int comp_points;
} attempt_log;

/* Reads events' payloads: statements over any SQLite connection (they touch
 * no table, only the JSON bound to them). */
typedef struct log_reader {
    sqlite3 *db;
    sqlite3_stmt *start, *answer, *finish, *ids;
} log_reader;

static void reader_close(log_reader *r)
{
    sqlite3_finalize(r->start);
    sqlite3_finalize(r->answer);
    sqlite3_finalize(r->finish);
    sqlite3_finalize(r->ids);
    memset(r, 0, sizeof *r);
}

static int reader_open(log_reader *r, sqlite3 *db)
{
    memset(r, 0, sizeof *r);
    r->db = db;
    int rc = sqlite3_prepare_v3(db,
                                "SELECT json_extract(?1, '$.mode'), json_extract(?1, '$.theme'),"
                                " json_extract(?1, '$.count'), json_extract(?1, '$.order'),"
                                " json_extract(?1, '$.time_limit_s'), json_extract(?1, '$.seed'),"
                                " json_extract(?1, '$.questions'), json_extract(?1, '$.competition'),"
                                " json_extract(?1, '$.day'),"
                                " CASE WHEN json_type(?1, '$.draw') IS NULL THEN 1"
                                " WHEN json_type(?1, '$.draw') = 'integer' THEN json_extract(?1, '$.draw') ELSE -1 END",
                                -1, SQLITE_PREPARE_PERSISTENT, &r->start, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(db,
                                "SELECT json_extract(?1, '$.i'), json_extract(?1, '$.q'),"
                                " json_extract(?1, '$.response'), json_extract(?1, '$.elapsed_ms'),"
                                " json_extract(?1, '$.timeout')",
                                -1, SQLITE_PREPARE_PERSISTENT, &r->answer, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(db, "SELECT json_extract(?1, '$.score'), json_extract(?1, '$.comp_points')", -1,
                                SQLITE_PREPARE_PERSISTENT, &r->finish, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(db, "SELECT value FROM json_each(?1)", -1, SQLITE_PREPARE_PERSISTENT, &r->ids,
                                NULL);
    if (rc != SQLITE_OK)
        reader_close(r);
    return rc == SQLITE_OK ? QK_OK : rc == SQLITE_NOMEM ? QK_ENOMEM : QK_EIO;
}

static void log_free(attempt_log *log)
{
    char **owned[] = {&log->bundle_id, &log->bundle_version, &log->mode,        &log->theme, &log->order,
                      &log->seed,      &log->questions,      &log->competition, &log->day};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        free(*owned[i]);
    for (size_t i = 0; i < log->n_answers; i++) {
        free(log->answers[i].q);
        free(log->answers[i].response);
    }
    free(log->answers);
    memset(log, 0, sizeof *log);
}

/* A copy of column col, or NULL for SQL NULL; *oom set when the copy failed. */
static char *col_copy(sqlite3_stmt *st, int col, int *oom)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    char *c = v ? qk__strdup(v) : NULL;
    *oom |= v && !c;
    return c;
}

static int grow_answers(attempt_log *log)
{
    size_t cap = log->cap ? 2 * log->cap : 16;
    logged_answer *v = realloc(log->answers, cap * sizeof *v);
    if (!v)
        return 0;
    log->answers = v;
    log->cap = cap;
    return 1;
}

/* Adds one of the attempt's events, in seq order, to log. Events of other
 * kinds are not the attempt's record and are passed over. */
static int log_add(log_reader *r, attempt_log *log, const char *kind, const char *bundle_id,
                   const char *bundle_version, const char *payload, int64_t created_ms)
{
    sqlite3_stmt *st = strcmp(kind, "attempt.start") == 0    ? (log->started ? NULL : r->start)
                       : strcmp(kind, "answer") == 0         ? r->answer
                       : strcmp(kind, "attempt.finish") == 0 ? (log->finished ? NULL : r->finish)
                                                             : NULL;
    if (!st)
        return QK_OK;
    sqlite3_bind_text(st, 1, payload ? payload : "{}", -1, SQLITE_STATIC);
    int step = sqlite3_step(st), oom = 0;
    if (step != SQLITE_ROW) {
        sqlite3_reset(st);
        /* a payload that is not JSON is a damaged record, not a failed read */
        return step == SQLITE_NOMEM ? QK_ENOMEM : QK_ECORRUPT;
    }
    if (st == r->start) {
        log->started = 1;
        log->bundle_id = bundle_id ? qk__strdup(bundle_id) : NULL;
        log->bundle_version = bundle_version ? qk__strdup(bundle_version) : NULL;
        oom = (bundle_id && !log->bundle_id) || (bundle_version && !log->bundle_version);
        log->started_ms = created_ms;
        log->mode = col_copy(st, 0, &oom);
        log->theme = col_copy(st, 1, &oom);
        log->count = sqlite3_column_int64(st, 2);
        log->order = col_copy(st, 3, &oom);
        log->time_limit_s = sqlite3_column_int(st, 4);
        log->seed = col_copy(st, 5, &oom);
        log->questions = col_copy(st, 6, &oom);
        log->competition = col_copy(st, 7, &oom);
        log->day = col_copy(st, 8, &oom);
        log->draw = sqlite3_column_int64(st, 9);
    } else if (st == r->finish) {
        log->finished = 1;
        log->score = sqlite3_column_int64(st, 0);
        log->comp_points = sqlite3_column_int(st, 1);
    } else if (log->n_answers == log->cap &&
               !grow_answers(log)) {
        oom = 1;
    } else {
        logged_answer *a = &log->answers[log->n_answers++];
        memset(a, 0, sizeof *a);
        a->i = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
        a->q = col_copy(st, 1, &oom);
        a->response = col_copy(st, 2, &oom);
        a->elapsed_ms = sqlite3_column_int64(st, 3);
        a->timeout = sqlite3_column_int(st, 4);
    }
    sqlite3_reset(st);
    return oom ? QK_ENOMEM : QK_OK;
}

/* The log of attempt aid from the events table of db (a progress file). */
static int log_read_db(log_reader *r, const char *aid, attempt_log *log)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT kind, bundle_id, bundle_version, payload, created_ms FROM events"
                           " WHERE attempt_id = ? ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return QK_EIO;
    sqlite3_bind_text(st, 1, aid, -1, SQLITE_STATIC);
    int status = QK_OK, step;
    while (status == QK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        status = log_add(r, log, kind ? kind : "", (const char *)sqlite3_column_text(st, 1),
                         (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
                         sqlite3_column_int64(st, 4));
    }
    if (status == QK_OK && step != SQLITE_DONE)
        status = step == SQLITE_NOMEM ? QK_ENOMEM : QK_EIO;
    sqlite3_finalize(st);
    return status;
}

/* A review's, a spaced repetition's or a competition's question list comes
 * from its attempt.start record: the book may have changed since, but the
 * attempt asks what it asked when it began. */
static int load_fixed(qk_session *s, log_reader *r, const char *json_ids)
{
    sqlite3_stmt *st = r->ids;
    sqlite3_bind_text(st, 1, json_ids, -1, SQLITE_STATIC);
    int status = QK_OK;
    while (status == QK_OK && sqlite3_step(st) == SQLITE_ROW) {
        char **nv = realloc(s->fixed, (s->n_fixed + 1) * sizeof *nv);
        if (!nv) {
            status = oom(s);
            break;
        }
        s->fixed = nv;
        if (!(s->fixed[s->n_fixed] = qk__strdup((const char *)sqlite3_column_text(st, 0))))
            status = oom(s);
        else
            s->n_fixed++;
    }
    sqlite3_reset(st);
    return status;
}

/* Restores the answers of a logged attempt, scoring each again from the raw
 * response rather than trusting the score the device stored. */
static int replay_answers(qk_session *s, const attempt_log *log)
{
    for (size_t k = 0; k < log->n_answers; k++) {
        const logged_answer *a = &log->answers[k];
        if (a->i < 0 || (size_t)a->i >= s->n || !a->q || (!a->response && !a->timeout) ||
            strcmp(a->q, s->slots[a->i].q->id) != 0)
            return qk__errf(&s->err, s->lang, QK_ECORRUPT, QK_M_S_REPLAY, s->attempt_id);
        slot *sl = &s->slots[a->i];
        if (a->timeout) {
            sl->answered = sl->timed_out = 1;
            sl->max = (qk_centi)sl->q->points * 100;
            s->ended |= s->mode == QK_MODE_CHALLENGE;
            continue;
        }
        qk_response r;
        if (qk_response_parse(&r, sl->q, NULL, a->response, NULL) != QK_OK)
            return qk__errf(&s->err, s->lang, QK_ECORRUPT, QK_M_S_REPLAY, s->attempt_id);
        qk_response_score(sl->q, &r, &sl->score, &sl->max, &sl->correct);
        sl->answered = 1;
        sl->elapsed_ms = a->elapsed_ms;
        s->ended |= s->mode == QK_MODE_CHALLENGE && !sl->correct;
        int status = set_display(s, sl, &r);
        qk_response_clear(&r);
        if (status != QK_OK)
            return status;
    }
    return QK_OK;
}

/* Finds the competition an attempt entered: the device's (its bundle or a
 * competition its server published to it), or the one the server judges by. */
typedef int (*find_competition)(void *arg, qk_bundle *b, const char *id, qk_competition **out,
                                int *borrowed);

/* Loads the attempt log records into s (whose attempt_id is set): the spec
 * its attempt.start recorded, the same draw, and every answer given. The
 * one loader of resume and re-score, so both ask the same of a record. */
static int load_log(qk_session *s, log_reader *r, const attempt_log *log, find_competition find, void *arg)
{
    const qk_bundle_info *info = qk_bundle_info_get(s->b);
    if (!log->bundle_id || !log->bundle_version || strcmp(log->bundle_id, info->id) != 0 ||
        strcmp(log->bundle_version, info->version) != 0)
        return qk__errf(&s->err, s->lang, QK_EVERSION, QK_M_S_BUNDLE, log->bundle_id ? log->bundle_id : "?",
                        log->bundle_version ? log->bundle_version : "?", info->id, info->version);
    s->started_ms = log->started_ms;
    s->mode = qk_mode_parse(log->mode);
    if (log->theme && !(s->theme = qk__strdup(log->theme)))
        return oom(s);
    s->count = (size_t)log->count;
    s->order = log->order && strcmp(log->order, "sequential") == 0 ? QK_ORDER_SEQUENTIAL : QK_ORDER_RANDOM;
    s->time_limit_s = log->time_limit_s;
    s->seed = log->seed ? strtoull(log->seed, NULL, 10) : 0;
    if (log->draw < 1)
        return qk__errf(&s->err, s->lang, QK_ECORRUPT, QK_M_S_DRAW_BAD, s->attempt_id);
    if (log->draw > QK_DRAW_CURRENT)
        return qk__errf(&s->err, s->lang, QK_EVERSION, QK_M_S_DRAW, s->attempt_id, (long long)log->draw);
    s->draw = (int)log->draw;
    if (s->mode == QK_MODE_DAILY)
        snprintf(s->day, sizeof s->day, "%s", log->day ? log->day : "");
    if (!log->questions || s->mode < QK_MODE_PRACTICE || s->mode > QK_MODE_COMPETITION)
        return qk__errf(&s->err, s->lang, QK_ECORRUPT, QK_M_S_REPLAY, s->attempt_id);
    int status = QK_OK;
    if (s->mode == QK_MODE_REVIEW || s->mode == QK_MODE_SRS || s->mode == QK_MODE_COMPETITION)
        status = load_fixed(s, r, log->questions);
    if (status == QK_OK && s->mode == QK_MODE_COMPETITION &&
        (!log->competition || find(arg, s->b, log->competition, &s->comp, &s->comp_borrowed) != QK_OK))
        status = qk__errf(&s->err, s->lang, QK_EVERSION, QK_M_S_REPLAY, s->attempt_id);
    if (status == QK_OK)
        status = redraw(s, log->questions);
    if (status == QK_OK)
        status = replay_answers(s, log);
    recount_competition(s);
    return status;
}

static int find_on_device(void *arg, qk_bundle *b, const char *id, qk_competition **out, int *borrowed)
{
    (void)borrowed;
    return qk_competition_find(arg, b, id, out);
}

/* Loads attempt aid of the progress file into s, to continue it or show it. */
static int load_attempt(qk_session *s, const char *aid)
{
    qk_engine *e = s->e;
    memcpy(s->attempt_id, aid, QK_UUID_STRLEN + 1);
    log_reader r;
    attempt_log log;
    memset(&log, 0, sizeof log);
    int status = reader_open(&r, e->db);
    if (status == QK_OK)
        status = log_read_db(&r, aid, &log);
    if (status == QK_ENOMEM)
        status = oom(s);
    else if (status == QK_EIO)
        status = engine_fail(s, qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "events"));
    else if (status == QK_ECORRUPT)
        status = qk__errf(&s->err, s->lang, QK_ECORRUPT, QK_M_S_REPLAY, s->attempt_id);
    else if (!log.started)
        status = qk__errf(&s->err, s->lang, QK_ENOTFOUND, QK_M_S_NONE);
    else
        status = load_log(s, &r, &log, find_on_device, e);
    log_free(&log);
    reader_close(&r);
    s->cur = s->n;
    s->resumed = status == QK_OK;
    return status;
}

/* The Beijing day an attempt's set belongs to: its recorded day, else the
 * day it began. */
static int64_t attempt_day(const char *day_text, int64_t started_ms)
{
    int64_t day;
    if (day_text && qk_beijing_parse_date(day_text, &day) == 0)
        return day;
    return qk_beijing_day(started_ms);
}


/* 1 when the log already holds this attempt's finish, 0 when not, -1 on a
 * database error (recorded in the engine). */
static int attempt_finished(qk_session *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->e->db,
                           "SELECT 1 FROM events WHERE attempt_id = ? AND kind = 'attempt.finish'",
                           -1, &st, NULL) != SQLITE_OK) {
        (void)qk__engine_sqlerr(s->e, sqlite3_extended_errcode(s->e->db), "events");
        return -1;
    }
    sqlite3_bind_text(st, 1, s->attempt_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step == SQLITE_ROW)
        return 1;
    if (step != SQLITE_DONE) {
        (void)qk__engine_sqlerr(s->e, step, "events");
        return -1;
    }
    return 0;
}

/* The member's unfinished attempts, newest first: fn(aid, mode, theme, day)
 * for each until it returns non-zero. Competition entries never resume
 * (their clock cannot be stopped; the UI ends an entry it leaves). */
static int each_unfinished(qk_engine *e, const char *member,
                           int (*fn)(void *arg, const char *aid, qk_mode mode, const char *theme,
                                     int64_t day),
                           void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT s.attempt_id, json_extract(s.payload, '$.mode'),"
                           " json_extract(s.payload, '$.theme'), json_extract(s.payload, '$.day'),"
                           " s.created_ms FROM events s WHERE s.kind = 'attempt.start'"
                           " AND s.member_id IS ?"
                           " AND json_extract(s.payload, '$.mode') IS NOT 'competition'"
                           " AND NOT EXISTS (SELECT 1 FROM events f WHERE f.attempt_id = s.attempt_id"
                           " AND f.kind = 'attempt.finish')"
                           " ORDER BY s.created_ms DESC, s.seq DESC",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "events");
    if (member)
        sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *aid = (const char *)sqlite3_column_text(st, 0);
        if (!aid || strlen(aid) != QK_UUID_STRLEN)
            continue;
        rc = fn(arg, aid, qk_mode_parse((const char *)sqlite3_column_text(st, 1)),
                (const char *)sqlite3_column_text(st, 2),
                attempt_day((const char *)sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4)));
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = qk__engine_sqlerr(e, step, "events");
    sqlite3_finalize(st);
    return rc;
}

typedef struct found {
    const pick *p;
    int64_t today;
    char aid[QK_UUID_STRLEN + 1];
    char (*stale)[QK_UUID_STRLEN + 1]; /* past days' daily quizzes */
    size_t n_stale;
} found;

static int find_one(void *arg, const char *aid, qk_mode mode, const char *theme, int64_t day)
{
    found *f = arg;
    if (mode == QK_MODE_DAILY && day < f->today) {
        void *nv = realloc(f->stale, (f->n_stale + 1) * sizeof *f->stale);
        if (!nv)
            return QK_ENOMEM;
        f->stale = nv;
        memcpy(f->stale[f->n_stale++], aid, QK_UUID_STRLEN + 1);
        return 0;
    }
    if (f->aid[0] || (f->p->mode && mode != f->p->mode))
        return 0;
    if (!f->p->any_theme && mode != QK_MODE_DAILY && mode != QK_MODE_REVIEW &&
        mode != QK_MODE_SRS &&
        (theme ? !f->p->theme || strcmp(theme, f->p->theme) != 0 : f->p->theme != NULL))
        return 0;
    memcpy(f->aid, aid, QK_UUID_STRLEN + 1);
    return 0;
}

/* Finishes the past days' daily quizzes of the member that f found (their
 * points go to their own day); the newest one is described in s->closed. A
 * quiz made with another bundle cannot be replayed and is left as it is. */
static void close_stale(qk_session *s, const found *f)
{
    for (size_t i = f->n_stale; i > 0; i--) {
        qk_session *old = session_new(s->e, s->b, s->member_id);
        qk_summary sum = {0};
        if (old && load_attempt(old, f->stale[i - 1]) == QK_OK) {
            old->expired = 1;
            if (qk_session_finish(old, &sum) == QK_OK) {
                snprintf(s->closed.day, sizeof s->closed.day, "%s", old->day);
                s->closed.answered = sum.answered;
                s->closed.correct = sum.correct;
                s->closed.total = sum.total;
                s->closed.points = sum.points;
            }
        }
        qk_session_free(old);
    }
}

/* Finds the attempt to continue for p (closing past days' daily quizzes on
 * the way) and loads it into s. QK_ENOTFOUND when there is none. */
static int resume_pick(qk_session *s, const pick *p)
{
    found f;
    memset(&f, 0, sizeof f);
    f.p = p;
    f.today = qk_beijing_day(qk_engine_now_ms(s->e));
    int rc = each_unfinished(s->e, s->member_id, find_one, &f);
    if (rc == QK_OK)
        close_stale(s, &f);
    free(f.stale);
    if (rc != QK_OK)
        return engine_fail(s, rc);
    if (!f.aid[0])
        return qk__errf(&s->err, s->lang, QK_ENOTFOUND, QK_M_S_NONE);
    return load_attempt(s, f.aid);
}

int qk_session_resume(qk_session **out, qk_engine *e, qk_bundle *b, const char *member_id)
{
    qk_session *s = session_new(e, b, member_id);
    *out = s;
    if (!s)
        return QK_ENOMEM;
    pick p = {(qk_mode)0, 1, NULL};
    return resume_pick(s, &p);
}

int qk_session_resume_spec(qk_session **out, qk_engine *e, qk_bundle *b, const char *member_id,
                           const qk_session_spec *spec)
{
    qk_session *s = session_new(e, b, member_id);
    *out = s;
    if (!s)
        return QK_ENOMEM;
    if (!spec || spec->version != QK_SESSION_SPEC_VERSION || !qk_mode_name(spec->mode))
        return qk__errf(&s->err, s->lang, QK_EINVAL, QK_M_S_SPEC);
    const char *theme = NULL;
    if (spec->theme) {
        const qk_theme *t = qk_bundle_theme_find(b, spec->theme);
        if (!t)
            return qk__errf(&s->err, s->lang, QK_ENOTFOUND, QK_M_NO_THEME, spec->theme);
        theme = t->id;
    }
    pick p = {spec->mode, 0, theme};
    return resume_pick(s, &p);
}

const qk_expired_daily *qk_session_expired_daily(const qk_session *s)
{
    return s->closed.day[0] ? &s->closed : NULL;
}

int qk_session_resumed(const qk_session *s)
{
    return s->resumed;
}

const char *qk_session_day(const qk_session *s)
{
    return s->day;
}

int64_t qk_session_remaining_ms(qk_session *s)
{
    if (s->time_limit_s <= 0)
        return -1;
    int64_t limit = (int64_t)s->time_limit_s * 1000, left;
    if (s->mode == QK_MODE_COMPETITION) /* per question, on the monotonic clock */
        left = s->presented ? s->shown_mono + limit - qk_engine_mono_ms(s->e) : limit;
    else if (s->mode == QK_MODE_CHALLENGE) /* the limit is per question */
        left = s->presented ? s->shown_ms + limit - qk_engine_now_ms(s->e) : limit;
    else
        left = s->started_ms + limit - qk_engine_now_ms(s->e);
    return left > 0 ? left : 0;
}

/* The whole attempt's time is up (exams); a challenge's limit is per question. */
static int time_is_up(qk_session *s)
{
    if (s->mode == QK_MODE_EXAM && qk_session_remaining_ms(s) == 0) {
        s->timed_out = 1;
        return 1;
    }
    return 0;
}

static void fill_item(qk_session *s, size_t i, qk_item *out)
{
    slot *sl = &s->slots[i];
    memset(out, 0, sizeof *out);
    out->index = i;
    out->total = s->n;
    out->q = sl->q;
    out->perm = sl->perm;
    for (size_t d = 0; d < sl->q->n_options; d++)
        out->option_text[d] = sl->q->options[sl->perm[d]].text;
}

int qk_session_next(qk_session *s, qk_item *out)
{
    if (s->finished || s->ended)
        return QK_DONE;
    if (time_is_up(s))
        return qk__errf(&s->err, s->lang, QK_ETIMEOUT, QK_M_S_TIMEOUT);
    size_t i = 0;
    while (i < s->n && s->slots[i].answered)
        i++;
    if (i == s->n) {
        s->presented = 0;
        return QK_DONE;
    }
    if (!s->presented || s->cur != i) {
        s->cur = i;
        s->presented = 1;
        s->shown_ms = qk_engine_now_ms(s->e);
        s->shown_mono = qk_engine_mono_ms(s->e);
    }
    fill_item(s, i, out);
    return QK_ROW;
}

static int fill_feedback(qk_session *s, slot *sl, qk_feedback *fb)
{
    if (!sl->right && qk_question_answer_show(&sl->right, sl->q, sl->perm, s->lang,
                                              QK_SHOW_LETTERS | QK_SHOW_TEXT) != QK_OK)
        return oom(s);
    memset(fb, 0, sizeof *fb);
    fb->correct = sl->correct;
    fb->score = sl->score;
    fb->max = sl->max ? sl->max : (qk_centi)sl->q->points * 100;
    fb->reveal = s->mode != QK_MODE_EXAM || s->finished;
    fb->timed_out = sl->timed_out;
    fb->given = sl->answered && !sl->timed_out ? sl->given : NULL;
    fb->right = sl->right;
    fb->explanation = sl->q->explanation;
    fb->comp_points = sl->comp_points;
    fb->elapsed_ms = sl->elapsed_ms;
    fb->fast = sl->fast;
    return QK_OK;
}

/* Fully right answers in a row just before the current one (streak bonus). */
static int streak_before(const qk_session *s)
{
    int k = 0;
    for (size_t i = s->cur; i > 0; i--) {
        const slot *sl = &s->slots[i - 1];
        if (!sl->answered || sl->timed_out || sl->score != sl->max || sl->max == 0)
            break;
        k++;
    }
    return k;
}

/* Competition points of every answered slot again, in order, from the raw
 * scores and times (after a resume, and on the server). */
static void recount_competition(qk_session *s)
{
    size_t cur = s->cur;
    for (size_t i = 0; s->comp && i < s->n; i++) {
        slot *sl = &s->slots[i];
        s->cur = i;
        sl->comp_points = sl->answered && !sl->timed_out
                              ? qk_competition_answer_points(s->comp, sl->score, sl->max,
                                                             sl->elapsed_ms, streak_before(s))
                              : 0;
        sl->fast = sl->answered && !sl->timed_out && sl->elapsed_ms < s->comp->min_ms;
    }
    s->cur = cur;
}

/* Writes the answer event for the current slot (r NULL: the question's time
 * ran out) and updates the slot. Durable first: feedback is only given for an
 * answer that is on disk. */
static int record(qk_session *s, const qk_response *r, qk_feedback *fb)
{
    slot *sl = &s->slots[s->cur];
    qk_centi score = 0, max = (qk_centi)sl->q->points * 100;
    int correct = 0;
    char *canon = NULL;
    if (r) {
        qk_response_score(sl->q, r, &score, &max, &correct);
        if (qk_response_canonical(&canon, sl->q, r) != QK_OK)
            return oom(s);
    }
    int64_t elapsed = qk_engine_mono_ms(s->e) - s->shown_mono;
    int comp_points = 0, fast = 0;
    if (s->comp && r) {
        comp_points = qk_competition_answer_points(s->comp, score, max, elapsed, streak_before(s));
        fast = elapsed < s->comp->min_ms;
    }
    qk__buf p = {0};
    qk__buf_fmt(&p, "{\"i\":%zu,\"q\":", s->cur);
    qk__buf_json_str(&p, sl->q->id);
    qk__buf_str(&p, ",\"response\":");
    if (canon)
        qk__buf_json_str(&p, canon);
    else
        qk__buf_str(&p, "null");
    qk__buf_fmt(&p, ",\"correct\":%s,\"score\":%d,\"max\":%d,\"elapsed_ms\":%lld%s",
                correct ? "true" : "false", (int)score, (int)max, (long long)elapsed,
                r ? "" : ",\"timeout\":true");
    if (s->comp)
        qk__buf_fmt(&p, ",\"points\":%d%s", comp_points, fast ? ",\"fast\":true" : "");
    qk__buf_str(&p, "}");
    free(canon);
    char *payload = qk__buf_take(&p);
    if (!payload)
        return oom(s);
    const qk_bundle_info *info = qk_bundle_info_get(s->b);
    qk__event ev = {.member_id = s->member_id,
                    .bundle_id = info->id,
                    .bundle_version = info->version,
                    .kind = "answer",
                    .attempt_id = s->attempt_id,
                    .payload = payload};
    int status = qk__event_append(s->e, &ev, NULL);
    free(payload);
    if (status != QK_OK)
        return engine_fail(s, status);
    sl->answered = 1;
    sl->timed_out = !r;
    sl->score = score;
    sl->max = max;
    sl->correct = correct;
    sl->elapsed_ms = elapsed;
    sl->comp_points = comp_points;
    sl->fast = fast;
    s->ended |= s->mode == QK_MODE_CHALLENGE && !correct; /* the run ends at the first miss */
    status = r ? set_display(s, sl, r) : QK_OK;
    s->presented = 0;
    if (status == QK_OK && fb)
        status = fill_feedback(s, sl, fb);
    return status;
}

/* A challenge question whose own time has run out. */
static int question_expired(qk_session *s)
{
    if (s->mode == QK_MODE_COMPETITION) /* an answer at exactly the limit still counts */
        return s->presented &&
               qk_engine_mono_ms(s->e) - s->shown_mono > (int64_t)s->time_limit_s * 1000;
    return s->mode == QK_MODE_CHALLENGE && s->presented && qk_session_remaining_ms(s) == 0;
}

int qk_session_answer(qk_session *s, const char *input, qk_feedback *fb,
                      qk_answer_problem *problem)
{
    qk_answer_problem dummy;
    if (!problem)
        problem = &dummy;
    *problem = QK_ANS_OK;
    if (s->finished || s->ended)
        return qk__errf(&s->err, s->lang, QK_ESTATE, QK_M_S_STATE);
    if (!s->presented || s->cur >= s->n)
        return qk__errf(&s->err, s->lang, QK_ESTATE, QK_M_S_DONE);
    if (time_is_up(s))
        return qk__errf(&s->err, s->lang, QK_ETIMEOUT, QK_M_S_TIMEOUT);
    if (question_expired(s))
        return record(s, NULL, fb); /* too late: counts as a miss, whatever was typed */
    slot *sl = &s->slots[s->cur];
    qk_response r;
    int status = qk_response_parse(&r, sl->q, sl->perm, input, problem);
    if (status != QK_OK)
        return qk__errf(&s->err, s->lang, status, QK_M_S_BADANS);
    status = record(s, &r, fb);
    qk_response_clear(&r);
    return status;
}

int qk_session_expire(qk_session *s, qk_feedback *fb)
{
    if (s->finished || s->ended || !question_expired(s))
        return qk__errf(&s->err, s->lang, QK_ESTATE, QK_M_S_STATE);
    return record(s, NULL, fb);
}

int qk_session_finish(qk_session *s, qk_summary *out)
{
    if (!s->finished) {
        qk_summary *sum = &s->summary;
        memset(sum, 0, sizeof *sum);
        memcpy(sum->attempt_id, s->attempt_id, sizeof s->attempt_id);
        sum->mode = s->mode;
        sum->total = s->n;
        int64_t active = 0;
        for (size_t i = 0; i < s->n; i++) {
            slot *sl = &s->slots[i];
            sum->max += (qk_centi)sl->q->points * 100;
            if (!sl->answered)
                continue;
            sum->answered++;
            sum->correct += sl->correct ? 1 : 0;
            sum->score += sl->score;
            active += sl->elapsed_ms;
            sum->comp_points += sl->comp_points;
            sum->flagged |= sl->fast;
            /* A question left to run out counts its whole time. */
            sum->answer_ms += sl->timed_out && s->comp ? (int64_t)s->comp->seconds * 1000
                                                       : sl->elapsed_ms;
        }
        if (s->comp) /* unanswered questions count their whole time too */
            sum->answer_ms += (int64_t)(sum->total - sum->answered) * s->comp->seconds * 1000;
        time_is_up(s);
        sum->timed_out = s->timed_out;
        if (s->mode == QK_MODE_EXAM && s->time_limit_s > 0) {
            /* An exam runs on the wall clock from its start, capped by the limit. */
            int64_t wall = qk_engine_now_ms(s->e) - s->started_ms;
            int64_t cap = (int64_t)s->time_limit_s * 1000;
            sum->duration_ms = wall < 0 ? 0 : wall > cap ? cap : wall;
        } else {
            sum->duration_ms = active; /* practice: time spent answering, across resumes */
        }
        const char *reason = s->expired                     ? "expired"
                             : s->timed_out                 ? "timeout"
                             : s->ended                     ? "ended"
                             : sum->answered < sum->total ? "incomplete"
                                                           : "done";
        qk__buf p = {0};
        qk__buf_fmt(&p,
                    "{\"score\":%d,\"max\":%d,\"correct\":%zu,\"answered\":%zu,\"total\":%zu,"
                    "\"duration_ms\":%lld,\"reason\":\"%s\"}",
                    (int)sum->score, (int)sum->max, sum->correct, sum->answered, sum->total,
                    (long long)sum->duration_ms, reason);
        if (s->comp) {
            p.len--; /* reopen the object */
            qk__buf_str(&p, ",\"competition\":");
            qk__buf_json_str(&p, s->comp->id);
            qk__buf_fmt(&p, ",\"comp_points\":%d,\"answer_ms\":%lld,\"flagged\":%d}",
                        sum->comp_points, (long long)sum->answer_ms, sum->flagged);
        }
        char *payload = qk__buf_take(&p);
        if (!payload)
            return oom(s);
        /* Points first, then the finish: a crash in between finishes the attempt
         * again on resume, and the award, keyed by the attempt, is not repeated. */
        qk_activity act = s->mode == QK_MODE_DAILY         ? QK_ACT_DAILY
                          : s->mode == QK_MODE_CHALLENGE   ? QK_ACT_CHALLENGE
                          : s->mode == QK_MODE_COMPETITION ? QK_ACT_COMPETITION
                                                           : QK_ACT_COUNT;
        /* Competitions earn study points for taking part, not per answer. */
        int units = act == QK_ACT_COMPETITION ? 1 : (int)sum->correct;
        int status = act < QK_ACT_COUNT && s->member_id
                         ? qk__points_award_on(s->e, s->b, s->member_id, act, units,
                                               s->attempt_id, qk_beijing_day(s->started_ms),
                                               &sum->points)
                         : QK_OK;
        /* A quiz with answers makes a study day in any mode (a review drill
         * too): the streak bonus, if due, comes with it. */
        if (status == QK_OK && s->member_id && sum->answered > 0)
            status = qk__points_streak_on(s->e, s->b, s->member_id, qk_beijing_day(s->started_ms));
        if (status != QK_OK) {
            free(payload);
            return engine_fail(s, status);
        }
        /* Another handle on the same attempt (a second kiosk tab, the
         * terminal) may have finished it already: one finish per attempt. */
        int done = attempt_finished(s);
        if (done < 0) {
            free(payload);
            return engine_fail(s, QK_EIO);
        }
        if (done) {
            free(payload);
            s->finished = 1;
            if (out)
                *out = s->summary;
            return QK_OK;
        }
        const qk_bundle_info *info = qk_bundle_info_get(s->b);
        qk__event ev = {.member_id = s->member_id,
                        .bundle_id = info->id,
                        .bundle_version = info->version,
                        .kind = "attempt.finish",
                        .attempt_id = s->attempt_id,
                        .payload = payload};
        status = qk__event_append(s->e, &ev, NULL);
        free(payload);
        if (status != QK_OK)
            return engine_fail(s, status);
        s->finished = 1;
    }
    if (out)
        *out = s->summary;
    return QK_OK;
}

int qk_session_review(qk_session *s, size_t i, qk_item *item, qk_feedback *fb)
{
    if (i >= s->n)
        return QK_ENOTFOUND;
    if (item)
        fill_item(s, i, item);
    return fb ? fill_feedback(s, &s->slots[i], fb) : QK_OK;
}

int qk_session_open(qk_session **out, qk_engine *e, qk_bundle *b, const char *attempt_id)
{
    qk_session *s = session_new(e, b, NULL);
    *out = s;
    if (!s)
        return QK_ENOMEM;
    if (!attempt_id || strlen(attempt_id) != QK_UUID_STRLEN)
        return qk__errf(&s->err, s->lang, QK_ENOTFOUND, QK_M_S_NONE);
    int status = load_attempt(s, attempt_id);
    /* Finished as far as this handle goes: nothing more is asked or written,
     * and every feedback is revealed (an exam's too). */
    s->finished = 1;
    s->summary.mode = s->mode;
    return status;
}

/* The book entry w as shown in slot i of the opened attempt s, or 0. */
static int shown_in(qk_session *s, qk_wrong *w)
{
    if (w->index >= s->n || strcmp(s->slots[w->index].q->id, w->question_id) != 0 ||
        !s->slots[w->index].given)
        return 0;
    qk_feedback fb;
    memset(&fb, 0, sizeof fb);
    if (fill_feedback(s, &s->slots[w->index], &fb) != QK_OK || !fb.given || !fb.right)
        return 0;
    w->given_shown = qk__strdup(fb.given);
    w->right_shown = qk__strdup(fb.right);
    return 1;
}

/* The options' text alone, from the question's own order. */
static int shown_plain(qk_bundle *b, qk_lang lang, qk_wrong *w)
{
    qk_question *q = NULL;
    if (qk_bundle_question(b, w->question_id, &q) != QK_OK)
        return QK_OK; /* no longer in this bundle: nothing to show */
    qk_response r;
    int status = QK_OK;
    if (w->given && qk_response_parse(&r, q, NULL, w->given, NULL) == QK_OK) {
        status = qk_response_show(&w->given_shown, q, NULL, &r, lang, QK_SHOW_TEXT);
        qk_response_clear(&r);
    }
    if (status == QK_OK)
        status = qk_question_answer_show(&w->right_shown, q, NULL, lang, QK_SHOW_TEXT);
    qk_question_free(q);
    return status;
}

int qk_wrongbook_show(qk_engine *e, qk_bundle *b, qk_wrong *w, size_t n)
{
    int status = QK_OK;
    for (size_t i = 0; i < n && status == QK_OK; i++) {
        if (w[i].given_shown || w[i].right_shown)
            continue; /* shown with an attempt opened for an earlier entry */
        qk_session *s = NULL;
        if (w[i].attempt_id && qk_session_open(&s, e, b, w[i].attempt_id) == QK_OK) {
            /* Every entry last missed in this attempt, in one replay. */
            for (size_t j = i; j < n; j++) {
                if (!w[j].right_shown && w[j].attempt_id &&
                    strcmp(w[j].attempt_id, w[i].attempt_id) == 0)
                    shown_in(s, &w[j]);
            }
        }
        if (!s)
            status = QK_ENOMEM;
        qk_session_free(s);
        if (status == QK_OK && !w[i].right_shown)
            status = shown_plain(b, qk_engine_lang(e), &w[i]);
    }
    return status;
}

void qk_session_free(qk_session *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        if (!s->slots[i].kept)
            qk_question_free(s->slots[i].q);
        free(s->slots[i].given);
        free(s->slots[i].right);
    }
    free(s->slots);
    qk_strv_free(s->fixed, s->n_fixed);
    if (!s->comp_borrowed)
        qk_competition_free(s->comp);
    free(s->member_id);
    free(s->theme);
    free(s);
}

/* --- re-scoring on the server (DESIGN.md decision 4: the server is the judge) --- */

/* What re-scoring the logged attempt in s found (s loaded by load_log). */
static void judge(qk_session *s, const attempt_log *log, qk_rescore *out)
{
    out->competition = s->comp != NULL;
    if (s->comp) {
        snprintf(out->competition_id, sizeof out->competition_id, "%s", s->comp->id);
        /* Begun outside the window by the device's clock: flagged. */
        out->outside_window = qk_competition_state(s->comp, log->started_ms) != QK_COMP_OPEN;
    }
    for (size_t i = 0; i < s->n; i++) {
        out->max += (qk_centi)s->slots[i].q->points * 100;
        if (s->comp)
            out->answer_ms += !s->slots[i].answered || s->slots[i].timed_out ? (int64_t)s->comp->seconds * 1000
                                                                            : s->slots[i].elapsed_ms;
        if (s->slots[i].answered) {
            out->answered++;
            out->correct += s->slots[i].correct ? 1 : 0;
            out->server_score += s->slots[i].score;
            out->server_points += s->slots[i].comp_points;
            out->flagged |= s->slots[i].fast;
        }
    }
    if (log->finished) {
        out->finished = 1;
        out->device_score = (qk_centi)log->score;
        out->device_points = log->comp_points;
        out->mismatch = out->device_score != out->server_score ||
                        (out->competition && out->device_points != out->server_points);
    }
}

/* Re-scores the attempt log records: the same draw as on the device, then
 * every raw answer scored again. */
static int rescore_log(log_reader *r, const attempt_log *log, qk_bundle *b, const char *attempt_id,
                       find_competition find, void *arg, qk_rescore *out, qk_lang lang, char *msg,
                       size_t msglen)
{
    memset(out, 0, sizeof *out);
    qk_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(msg, msglen, "%s", qk_strerror(QK_ENOMEM, lang));
        return QK_ENOMEM;
    }
    s->b = b;
    s->lang = lang;
    snprintf(s->attempt_id, sizeof s->attempt_id, "%s", attempt_id);
    int status = log->started ? load_log(s, r, log, find, arg)
                              : qk__errf(&s->err, lang, QK_ENOTFOUND, QK_M_S_REPLAY, attempt_id);
    if (status == QK_OK)
        judge(s, log, out);
    else
        snprintf(msg, msglen, "%s", s->err.msg);
    qk_session_free(s);
    return status;
}

/* The competition a progress file's server published, when the bundle has none of that id. */
static int find_in_file(void *arg, qk_bundle *b, const char *id, qk_competition **out, int *borrowed)
{
    (void)borrowed;
    int rc = qk_competition_get(b, id, out);
    if (rc != QK_OK)
        rc = qk__competition_published(arg, qk_bundle_info_get(b)->id, id, out);
    return rc;
}

/* "attempt … cannot be replayed" into msg: a record that is not JSON. */
static void replay_msg(const char *attempt_id, qk_lang lang, char *msg, size_t msglen)
{
    qk__err err;
    qk__errf(&err, lang, QK_ECORRUPT, QK_M_S_REPLAY, attempt_id);
    snprintf(msg, msglen, "%s", err.msg);
}

int qk_attempt_rescore(const char *events_db, qk_bundle *b, const char *attempt_id,
                       qk_rescore *out, qk_lang lang, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(events_db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(msg, msglen, "%s: %s", events_db, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return QK_EIO;
    }
    log_reader r;
    attempt_log log;
    memset(&log, 0, sizeof log);
    int status = reader_open(&r, db);
    if (status == QK_OK)
        status = log_read_db(&r, attempt_id, &log);
    if (status == QK_OK)
        status = rescore_log(&r, &log, b, attempt_id, find_in_file, db, out, lang, msg, msglen);
    else if (status == QK_ECORRUPT)
        replay_msg(attempt_id, lang, msg, msglen);
    else
        snprintf(msg, msglen, "%s: %s", events_db, status == QK_ENOMEM ? qk_strerror(status, lang) : sqlite3_errmsg(db));
    log_free(&log);
    reader_close(&r);
    sqlite3_close(db);
    return status;
}

/* --- the rescorer: the same judge over events in memory --- */

struct qk_rescorer {
    sqlite3 *db; /* :memory:, no tables: only reads the events' JSON */
    log_reader r;
    /* the published competition last judged by, parsed once */
    char *comp_id, *comp_spec;
    qk_competition *comp;
    /* the bundle's competition last judged by (a bundle's id and version
     * never change what it holds): "id\nversion\ncompetition" */
    char *bcomp_key;
    qk_competition *bcomp;
};

int qk_rescorer_new(qk_rescorer **out)
{
    *out = NULL;
    qk_rescorer *r = calloc(1, sizeof *r);
    if (!r)
        return QK_ENOMEM;
    int rc = sqlite3_open_v2(":memory:", &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    int status = rc == SQLITE_OK ? reader_open(&r->r, r->db) : rc == SQLITE_NOMEM ? QK_ENOMEM : QK_EIO;
    if (status != QK_OK) {
        qk_rescorer_free(r);
        return status;
    }
    *out = r;
    return QK_OK;
}

void qk_rescorer_free(qk_rescorer *r)
{
    if (!r)
        return;
    reader_close(&r->r);
    sqlite3_close(r->db);
    free(r->comp_id);
    free(r->comp_spec);
    qk_competition_free(r->comp);
    free(r->bcomp_key);
    qk_competition_free(r->bcomp);
    free(r);
}

/* The bundle's competition of this id, else the published one the caller
 * gave (parsed once while the same spec keeps coming). */
static int find_given(void *arg, qk_bundle *b, const char *id, qk_competition **out, int *borrowed)
{
    qk_rescorer *r = arg;
    *out = NULL;
    const qk_bundle_info *info = qk_bundle_info_get(b);
    size_t klen = strlen(info->id) + strlen(info->version) + strlen(id) + 3;
    char *key = malloc(klen);
    if (!key)
        return QK_ENOMEM;
    snprintf(key, klen, "%s\n%s\n%s", info->id, info->version, id);
    int kept = r->bcomp_key && strcmp(r->bcomp_key, key) == 0;
    qk_competition *c = NULL;
    if (!kept && qk_competition_get(b, id, &c) == QK_OK) {
        free(r->bcomp_key);
        qk_competition_free(r->bcomp);
        r->bcomp_key = key;
        r->bcomp = c;
        key = NULL;
        kept = 1;
    }
    free(key);
    if (kept) {
        *out = r->bcomp; /* the rescorer's: the session must not free it */
        *borrowed = 1;
        return QK_OK;
    }
    if (!r->comp || strcmp(r->comp_id, id) != 0)
        return QK_ENOTFOUND;
    *out = r->comp; /* the rescorer's: the session must not free it */
    *borrowed = 1;
    return QK_OK;
}

/* Keeps the published competition (id, spec) parsed; 0 when it does not parse. */
static int keep_given(qk_rescorer *r, const char *id, const char *spec)
{
    if (r->comp && strcmp(r->comp_id, id) == 0 && strcmp(r->comp_spec, spec) == 0)
        return QK_OK;
    free(r->comp_id);
    free(r->comp_spec);
    qk_competition_free(r->comp);
    r->comp = NULL;
    r->comp_id = qk__strdup(id);
    r->comp_spec = qk__strdup(spec);
    if (!r->comp_id || !r->comp_spec)
        return QK_ENOMEM;
    char msg[256];
    qk_competition *c = NULL;
    int rc = qk_competition_parse(&c, spec, QK_LANG_EN, msg, sizeof msg);
    if (rc == QK_OK && strcmp(c->id, id) == 0)
        r->comp = c;
    else
        qk_competition_free(c);
    return rc == QK_ENOMEM ? rc : QK_OK;
}

static int by_seq(const void *a, const void *b)
{
    const qk_event_in *x = *(const qk_event_in *const *)a, *y = *(const qk_event_in *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int qk_rescorer_score(qk_rescorer *r, qk_bundle *b, const char *attempt_id, const qk_event_in *ev,
                      size_t n, const char *comp_id, const char *comp_spec, qk_rescore *out,
                      qk_lang lang, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    const qk_event_in **sorted = malloc((n ? n : 1) * sizeof *sorted);
    attempt_log log;
    memset(&log, 0, sizeof log);
    int status = sorted ? QK_OK : QK_ENOMEM;
    for (size_t i = 0; sorted && i < n; i++)
        sorted[i] = &ev[i];
    if (sorted)
        qsort(sorted, n, sizeof *sorted, by_seq);
    for (size_t i = 0; status == QK_OK && i < n; i++) {
        const qk_event_in *e = sorted[i];
        if (e->attempt_id && strcmp(e->attempt_id, attempt_id) == 0)
            status = log_add(&r->r, &log, e->kind ? e->kind : "", e->bundle_id, e->bundle_version, e->payload,
                             e->created_ms);
    }
    free(sorted);
    if (status == QK_OK && comp_id && comp_spec)
        status = keep_given(r, comp_id, comp_spec);
    if (status == QK_OK)
        status = rescore_log(&r->r, &log, b, attempt_id, find_given, r, out, lang, msg, msglen);
    else if (status == QK_ECORRUPT)
        replay_msg(attempt_id, lang, msg, msglen);
    else
        snprintf(msg, msglen, "%s", qk_strerror(status, lang));
    log_free(&log);
    return status;
}
