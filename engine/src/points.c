/* points.c: the points ledger and study streaks, as events. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Points already awarded today to member for activity a. */
static int awarded_today(qk_engine *e, const char *member, qk_activity a, const char *day, int *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT COALESCE(SUM(json_extract(payload, '$.amount')), 0) FROM events"
                           " WHERE kind = 'points.award' AND member_id = ?"
                           " AND json_extract(payload, '$.activity') = ?"
                           " AND json_extract(payload, '$.day') = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "points");
    sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, qk_activity_name(a), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, day, -1, SQLITE_STATIC);
    int status = QK_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    else
        status = qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "points");
    sqlite3_finalize(st);
    return status;
}

static int already_awarded(qk_engine *e, const char *member, qk_activity a, const char *ref,
                           int *yes)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT 1 FROM events WHERE kind = 'points.award' AND member_id = ?"
                           " AND json_extract(payload, '$.activity') = ?"
                           " AND json_extract(payload, '$.ref') = ? LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "points");
    sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, qk_activity_name(a), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ref, -1, SQLITE_STATIC);
    *yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return QK_OK;
}

static int append_award(qk_engine *e, const char *member, qk_activity a, int amount,
                        const char *day, const char *ref)
{
    qk__buf p = {0};
    qk__buf_fmt(&p, "{\"activity\":\"%s\",\"amount\":%d,\"day\":\"%s\",\"ref\":",
                qk_activity_name(a), amount, day);
    qk__buf_json_str(&p, ref);
    qk__buf_str(&p, "}");
    char *payload = qk__buf_take(&p);
    if (!payload)
        return qk__errf(&e->err, e->lang, QK_ENOMEM, QK_M_OOM);
    qk__event ev = {.member_id = member, .kind = "points.award", .payload = payload};
    int status = qk__event_append(e, &ev, NULL);
    free(payload);
    return status;
}

/* The statements of one streak count (see streak()). */
typedef struct streak_walk {
    sqlite3_stmt *starts;  /* the member's attempt starts before a time, newest first */
    sqlite3_stmt *answered; /* does an attempt have an answer of the member */
    sqlite3_stmt *loose;    /* an answer of the member on a day whose attempt has no start */
} streak_walk;

static void walk_close(streak_walk *w)
{
    sqlite3_finalize(w->starts);
    sqlite3_finalize(w->answered);
    sqlite3_finalize(w->loose);
}

static int walk_open(qk_engine *e, streak_walk *w, const char *member, int64_t day)
{
    memset(w, 0, sizeof *w);
    int rc = sqlite3_prepare_v2(e->db,
                                "SELECT created_ms, attempt_id FROM events WHERE member_id = ?1"
                                " AND kind = 'attempt.start' AND created_ms < ?2 ORDER BY created_ms DESC",
                                -1, &w->starts, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(e->db,
                                "SELECT 1 FROM events WHERE attempt_id = ?1 AND kind = 'answer'"
                                " AND +member_id = ?2 LIMIT 1",
                                -1, &w->answered, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(e->db,
                                "SELECT 1 FROM events a WHERE a.member_id = ?1 AND a.kind = 'answer'"
                                " AND a.created_ms >= ?2 AND a.created_ms < ?3 AND NOT EXISTS (SELECT 1 FROM"
                                " events s_ WHERE s_.attempt_id = a.attempt_id AND s_.kind = 'attempt.start')"
                                " LIMIT 1",
                                -1, &w->loose, NULL);
    if (rc != SQLITE_OK) {
        walk_close(w);
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "streak");
    }
    sqlite3_bind_text(w->starts, 1, member, -1, SQLITE_STATIC);
    sqlite3_bind_int64(w->starts, 2, qk_beijing_day_start_ms(day + 1));
    sqlite3_bind_text(w->answered, 2, member, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->loose, 1, member, -1, SQLITE_STATIC);
    return QK_OK;
}

/* 1 when statement st (bound) has a row, 0 when not, -1 on an error. */
static int has_row(sqlite3_stmt *st)
{
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

/* Whether day d is a study day by an answer whose attempt has no start
 * (such an answer counts on its own day; a device's own log has none). */
static int loose_answer_on(streak_walk *w, int64_t d)
{
    sqlite3_bind_int64(w->loose, 2, qk_beijing_day_start_ms(d));
    sqlite3_bind_int64(w->loose, 3, qk_beijing_day_start_ms(d + 1));
    return has_row(w->loose);
}

/* Counts the study days from *expect down to day d by answers without a
 * start (today may have none yet: the streak holds from yesterday). 1 when
 * *expect has reached d, 0 at a day without study, -1 on an error. */
static int reach(streak_walk *w, int64_t today, int64_t d, int64_t *expect, int *out)
{
    while (*expect > d) {
        int found = loose_answer_on(w, *expect);
        if (found < 0)
            return -1;
        if (!found && !(*expect == today && *out == 0))
            return 0;
        *out += found;
        (*expect)--;
    }
    return 1;
}

/* Consecutive study days ending on day, or on the day before when day has
 * none yet (the streak is not broken until the day is over). A study day is
 * a day with answers, each counting on its attempt's day (QK_SQL_COUNTS_AT).
 * The member's attempts are walked newest first through the member's index
 * and the walk stops at the first day without study, so the work follows
 * the streak, not the member's whole history. */
static int streak(qk_engine *e, const char *member, int64_t day, int *out)
{
    *out = 0;
    streak_walk w;
    int status = walk_open(e, &w, member, day);
    if (status != QK_OK)
        return status;
    int64_t expect = day; /* the next day the streak needs */
    int step, r = 1;
    while (r == 1 && (step = sqlite3_step(w.starts)) == SQLITE_ROW) {
        int64_t d = qk_beijing_day(sqlite3_column_int64(w.starts, 0));
        if (d > expect)
            continue; /* a day already counted */
        sqlite3_bind_text(w.answered, 1, (const char *)sqlite3_column_text(w.starts, 1), -1, SQLITE_TRANSIENT);
        int found = has_row(w.answered);
        if (found == 0)
            continue; /* an attempt begun and left without an answer */
        r = found < 0 ? -1 : reach(&w, day, d, &expect, out);
        if (r == 1) {
            (*out)++;
            expect = d - 1;
        }
    }
    if (r == 1 && step == SQLITE_DONE) /* past the oldest attempt: answers without one */
        r = reach(&w, day, INT64_MIN, &expect, out);
    walk_close(&w);
    if (r < 0 || (r == 1 && step != SQLITE_DONE))
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "streak");
    return QK_OK;
}

int qk_points_award(qk_engine *e, qk_bundle *b, const char *member_id, qk_activity a, int units,
                    const char *ref, int *awarded)
{
    return qk__points_award_on(e, b, member_id, a, units, ref,
                               qk_beijing_day(qk_engine_now_ms(e)), awarded);
}

int qk__points_award_on(qk_engine *e, qk_bundle *b, const char *member_id, qk_activity a,
                        int units, const char *ref, int64_t on_day, int *awarded)
{
    int dummy;
    if (!awarded)
        awarded = &dummy;
    *awarded = 0;
    if (!member_id || units <= 0) /* guests earn no points */
        return QK_OK;
    if ((unsigned)a >= QK_ACT_COUNT)
        return qk__errf(&e->err, e->lang, QK_EINVAL, QK_M_P_ACTIVITY, "?");
    qk_point_rule rules[QK_ACT_COUNT];
    qk_point_rules(b, rules);
    char day[QK_DATE_LEN];
    qk_day_text(on_day, day);
    int yes = 0, today = 0;
    int status = already_awarded(e, member_id, a, ref, &yes);
    if (status != QK_OK || yes)
        return status; /* e.g. a session finished again after a crash */
    if ((status = awarded_today(e, member_id, a, day, &today)) != QK_OK)
        return status;
    int64_t want = (int64_t)units * rules[a].points;
    int room = rules[a].daily_cap - today;
    int amount = room <= 0 ? 0 : want > room ? room : (int)want;
    if (amount > 0 && (status = append_award(e, member_id, a, amount, day, ref)) != QK_OK)
        return status;
    *awarded = amount;
    if (status == QK_OK && a != QK_ACT_STREAK)
        status = qk__points_streak_on(e, b, member_id, on_day);
    return status;
}

/* The one streak rule: every study day (a day with answers, in any mode)
 * counts; on a study day of a streak of two days or more, the bonus is
 * booked once, with the first quiz or lesson of the day that is finished. */
int qk__points_streak_on(qk_engine *e, qk_bundle *b, const char *member_id, int64_t on_day)
{
    if (!member_id)
        return QK_OK;
    qk_point_rule rules[QK_ACT_COUNT];
    qk_point_rules(b, rules);
    char day[QK_DATE_LEN];
    qk_day_text(on_day, day);
    int days = 0, bonus_today = 0;
    int status = streak(e, member_id, on_day, &days);
    if (status == QK_OK && days >= 2 &&
        (status = awarded_today(e, member_id, QK_ACT_STREAK, day, &bonus_today)) == QK_OK &&
        bonus_today < rules[QK_ACT_STREAK].daily_cap) {
        int bonus = rules[QK_ACT_STREAK].points;
        if (bonus > rules[QK_ACT_STREAK].daily_cap - bonus_today)
            bonus = rules[QK_ACT_STREAK].daily_cap - bonus_today;
        if (bonus > 0)
            status = append_award(e, member_id, QK_ACT_STREAK, bonus, day, day);
    }
    return status;
}

int qk_points_correct(qk_engine *e, const char *member_id, qk_activity a, int amount,
                      const char *reason)
{
    if ((unsigned)a >= QK_ACT_COUNT)
        return qk__errf(&e->err, e->lang, QK_EINVAL, QK_M_P_ACTIVITY, "?");
    char day[QK_DATE_LEN];
    qk_beijing_date(qk_engine_now_ms(e), day);
    qk__buf p = {0};
    qk__buf_fmt(&p, "{\"activity\":\"%s\",\"amount\":%d,\"day\":\"%s\",\"reason\":",
                qk_activity_name(a), amount, day);
    qk__buf_json_str(&p, reason ? reason : "");
    qk__buf_str(&p, "}");
    char *payload = qk__buf_take(&p);
    if (!payload)
        return qk__errf(&e->err, e->lang, QK_ENOMEM, QK_M_OOM);
    qk__event ev = {.member_id = member_id, .kind = "points.correction", .payload = payload};
    int status = qk__event_append(e, &ev, NULL);
    free(payload);
    return status;
}

int qk_points_summary_get(qk_engine *e, qk_bundle *b, const char *member_id,
                          qk_points_summary *out)
{
    memset(out, 0, sizeof *out);
    qk_point_rules(b, out->rules);
    if (!member_id)
        return QK_OK;
    int64_t today = qk_beijing_day(qk_engine_now_ms(e));
    char day[QK_DATE_LEN];
    qk_day_text(today, day);
    int status = QK_OK;
    for (int a = 0; a < QK_ACT_COUNT && status == QK_OK; a++) {
        status = awarded_today(e, member_id, (qk_activity)a, day, &out->today[a]);
        out->today_total += out->today[a];
    }
    sqlite3_stmt *st = NULL;
    if (status == QK_OK &&
        sqlite3_prepare_v2(e->db,
                           "SELECT COALESCE(SUM(json_extract(payload, '$.amount')), 0) FROM events"
                           " WHERE kind IN ('points.award', 'points.correction') AND member_id = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, member_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            out->total = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (status == QK_OK)
        status = streak(e, member_id, today, &out->streak_days);
    return status;
}

/* --- recomputation from raw events (the server's check) --- */

typedef struct day_award {
    int64_t day;
    int amount[QK_ACT_COUNT];
    int64_t correction; /* points.correction events of the day */
} day_award;

typedef struct replay {
    qk_point_rule rules[QK_ACT_COUNT];
    day_award *days;
    size_t n_days, cap_days;
    int64_t *study;       /* distinct study days so far, ascending */
    size_t n_study, cap_study;
    char **lessons;       /* lessons already rewarded */
    size_t n_lessons;
    int64_t total;
    int oom; /* an event could not be counted in full: the result is no total */
} replay;

/* *x += v, held at INT64_MIN or INT64_MAX rather than overflowing: a
 * correction's amount is a device's number (a forged INT64_MAX twice
 * would otherwise wrap, or stop a sanitized build). */
static void add_sat(int64_t *x, int64_t v)
{
    if (__builtin_add_overflow(*x, v, x))
        *x = v < 0 ? INT64_MIN : INT64_MAX;
}

static day_award *day_of(replay *r, int64_t day)
{
    for (size_t i = 0; i < r->n_days; i++) {
        if (r->days[i].day == day)
            return &r->days[i];
    }
    if (r->n_days == r->cap_days) {
        size_t cap = r->cap_days ? r->cap_days * 2 : 16;
        day_award *nv = realloc(r->days, cap * sizeof *nv);
        if (!nv)
            return NULL;
        r->days = nv;
        r->cap_days = cap;
    }
    day_award *d = &r->days[r->n_days++];
    memset(d, 0, sizeof *d);
    d->day = day;
    return d;
}

/* Keeps the study days sorted and distinct: an answer of an attempt begun
 * before midnight can arrive after answers of the next day. */
static void note_study_day(replay *r, int64_t day)
{
    size_t i = r->n_study;
    while (i > 0 && r->study[i - 1] > day)
        i--;
    if (i > 0 && r->study[i - 1] == day)
        return;
    if (r->n_study == r->cap_study) {
        size_t cap = r->cap_study ? r->cap_study * 2 : 64;
        int64_t *nv = realloc(r->study, cap * sizeof *nv);
        if (!nv) {
            r->oom = 1;
            return;
        }
        r->study = nv;
        r->cap_study = cap;
    }
    memmove(&r->study[i + 1], &r->study[i], (r->n_study - i) * sizeof *r->study);
    r->study[i] = day;
    r->n_study++;
}

/* The streak as of day: study days up to it (see streak()). */
static int streak_at(const replay *r, int64_t day)
{
    size_t i = r->n_study;
    while (i > 0 && r->study[i - 1] > day)
        i--;
    int n = 0;
    int64_t expect = i > 0 && r->study[i - 1] == day ? day : day - 1;
    for (; i > 0 && r->study[i - 1] == expect; i--, expect--)
        n++;
    return n;
}

/* The streak rule of qk__points_streak_on. */
static void streak_bonus(replay *r, int64_t day)
{
    day_award *d = day_of(r, day);
    if (!d)
        r->oom = 1;
    if (d && streak_at(r, day) >= 2 && d->amount[QK_ACT_STREAK] < r->rules[QK_ACT_STREAK].daily_cap) {
        int bonus = r->rules[QK_ACT_STREAK].points;
        if (bonus > r->rules[QK_ACT_STREAK].daily_cap - d->amount[QK_ACT_STREAK])
            bonus = r->rules[QK_ACT_STREAK].daily_cap - d->amount[QK_ACT_STREAK];
        d->amount[QK_ACT_STREAK] += bonus;
        add_sat(&r->total, bonus);
    }
}

/* The same rule as qk_points_award: capped per day, then the streak bonus. */
static void award(replay *r, qk_activity a, int units, int64_t day)
{
    day_award *d = day_of(r, day);
    if (!d)
        r->oom = 1;
    if (!d || units <= 0)
        return;
    int64_t want = (int64_t)units * r->rules[a].points;
    int room = r->rules[a].daily_cap - d->amount[a];
    int amount = room <= 0 ? 0 : want > room ? room : (int)want;
    d->amount[a] += amount;
    add_sat(&r->total, amount);
    streak_bonus(r, day);
}

int qk_points_recompute(const char *events_db, qk_bundle *b, const char *member_id,
                        int64_t *total, char *msg, size_t msglen)
{
    return qk_points_recompute_days(events_db, b, member_id, NULL, total, NULL, NULL, msg, msglen);
}

void qk_point_event_read(sqlite3_stmt *st, qk_point_event *ev)
{
    ev->kind = (const char *)sqlite3_column_text(st, 0);
    ev->counts_at = sqlite3_column_int64(st, 1);
    ev->correct = sqlite3_column_int(st, 2);
    ev->completed = sqlite3_column_int(st, 3);
    ev->lesson = (const char *)sqlite3_column_text(st, 4);
    ev->amount = sqlite3_column_int64(st, 5);
    ev->answered = sqlite3_column_int(st, 6);
    ev->mode = (const char *)sqlite3_column_text(st, 7);
    ev->device_id = (const char *)sqlite3_column_text(st, 8);
    ev->created_ms = sqlite3_column_int64(st, 9);
    ev->seq = sqlite3_column_int64(st, 10);
    ev->row = sqlite3_column_int64(st, 11);
    ev->received_ms = sqlite3_column_count(st) > 12 ? sqlite3_column_int64(st, 12) : 0;
}

struct qk_points_replay {
    replay r;
    int oom;
};

int qk_points_replay_new(qk_points_replay **out, qk_bundle *b)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return QK_ENOMEM;
    qk_point_rules(b, (*out)->r.rules);
    return QK_OK;
}

int qk_points_replay_add(qk_points_replay *p, const qk_point_event *ev)
{
    replay *r = &p->r;
    const char *kind = ev->kind ? ev->kind : "";
    int64_t day = qk_beijing_day(ev->counts_at); /* the attempt's day */
    if (strcmp(kind, "answer") == 0) {
        note_study_day(r, day);
    } else if (strcmp(kind, "attempt.finish") == 0) {
        const char *mode = ev->mode;
        if (mode && strcmp(mode, "daily") == 0)
            award(r, QK_ACT_DAILY, ev->correct, day);
        else if (mode && strcmp(mode, "challenge") == 0)
            award(r, QK_ACT_CHALLENGE, ev->correct, day);
        else if (mode && strcmp(mode, "competition") == 0)
            award(r, QK_ACT_COMPETITION, 1, day); /* taking part, as the session awards it */
        if (ev->answered > 0) /* any quiz with answers: a study day */
            streak_bonus(r, day);
    } else if (strcmp(kind, "lesson.finish") == 0 && ev->completed && ev->lesson) {
        int seen = 0;
        for (size_t i = 0; i < r->n_lessons && !seen; i++)
            seen = strcmp(r->lessons[i], ev->lesson) == 0;
        if (!seen) {
            char **nv = realloc(r->lessons, (r->n_lessons + 1) * sizeof *nv);
            char *id = qk__strdup(ev->lesson);
            if (!nv || !id) {
                free(id);
                if (nv)
                    r->lessons = nv;
                p->oom = 1;
                return QK_ENOMEM;
            }
            r->lessons = nv;
            r->lessons[r->n_lessons++] = id;
            award(r, QK_ACT_LESSON, 1, day);
        }
    } else if (strcmp(kind, "points.correction") == 0) {
        day_award *d = day_of(r, day);
        if (!d) {
            p->oom = 1;
            return QK_ENOMEM;
        }
        add_sat(&d->correction, ev->amount);
        add_sat(&r->total, ev->amount);
    }
    return QK_OK;
}

int qk_points_replay_end(qk_points_replay *p, int64_t *total, qk_points_day **days, size_t *n_days)
{
    *total = 0;
    if (days)
        *days = NULL;
    if (n_days)
        *n_days = 0;
    replay *r = &p->r;
    int status = p->oom || r->oom ? QK_ENOMEM : QK_OK;
    if (status == QK_OK && days && n_days && r->n_days) {
        *days = calloc(r->n_days, sizeof **days);
        if (!*days) {
            status = QK_ENOMEM;
        } else {
            for (size_t i = 0; i < r->n_days; i++) {
                int64_t sum = r->days[i].correction;
                for (int a = 0; a < QK_ACT_COUNT; a++)
                    add_sat(&sum, r->days[i].amount[a]);
                (*days)[i].day = r->days[i].day;
                (*days)[i].points = sum;
            }
            *n_days = r->n_days;
        }
    }
    if (status == QK_OK)
        *total = r->total;
    free(r->days);
    free(r->study);
    qk_strv_free(r->lessons, r->n_lessons);
    free(p);
    return status;
}

/* --- a replay's state as bytes ---
 * "QKPR", the layout's version, the rules' version, QK_ACT_COUNT, the
 * total; the days (each its number, the amount of every activity, the
 * corrections); the study days; the lessons rewarded (each its length and
 * bytes). Numbers are 8 bytes, big-endian (two's complement for negative
 * ones). */
#define STATE_VERSION 1
/* What qk_points_replay_add does with an event (caps, streaks, lessons,
 * corrections, which modes earn): a release that changes any of it bumps
 * this, so that a server's kept replays are replayed again from the events
 * (a state of another version is refused) rather than continued by other
 * rules. */
/* 2: a server's judge adds no event whose day had not begun when the
 * server received it (sync/src/store.c ahead_of_receipt): replays kept
 * under 1 may hold such points, and are replayed again.
 * 3: sums are held at the ends of int64 (add_sat): a kept total that a
 * forged correction wrapped is replayed again. */
#define REPLAY_RULES 3

static void put_i64(qk__buf *o, int64_t v)
{
    unsigned char b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(u >> (56 - 8 * i));
    qk__buf_add(o, b, sizeof b);
}

int qk_points_replay_save(const qk_points_replay *p, unsigned char **state, size_t *len)
{
    *state = NULL;
    *len = 0;
    if (p->oom || p->r.oom)
        return QK_ENOMEM;
    const replay *r = &p->r;
    qk__buf o = {0};
    qk__buf_add(&o, "QKPR", 4);
    put_i64(&o, STATE_VERSION);
    put_i64(&o, REPLAY_RULES);
    put_i64(&o, QK_ACT_COUNT);
    put_i64(&o, r->total);
    put_i64(&o, (int64_t)r->n_days);
    for (size_t i = 0; i < r->n_days; i++) {
        put_i64(&o, r->days[i].day);
        for (int a = 0; a < QK_ACT_COUNT; a++)
            put_i64(&o, r->days[i].amount[a]);
        put_i64(&o, r->days[i].correction);
    }
    put_i64(&o, (int64_t)r->n_study);
    for (size_t i = 0; i < r->n_study; i++)
        put_i64(&o, r->study[i]);
    put_i64(&o, (int64_t)r->n_lessons);
    for (size_t i = 0; i < r->n_lessons; i++) {
        size_t n = strlen(r->lessons[i]);
        put_i64(&o, (int64_t)n);
        qk__buf_add(&o, r->lessons[i], n);
    }
    if (o.oom) {
        qk__buf_free(&o);
        return QK_ENOMEM;
    }
    *state = (unsigned char *)o.p;
    *len = o.len;
    return QK_OK;
}

typedef struct {
    const unsigned char *p;
    size_t len, at;
    int bad;
} in_buf;

static int64_t get_i64(in_buf *in)
{
    if (in->bad || in->len - in->at < 8) {
        in->bad = 1;
        return 0;
    }
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | in->p[in->at + (size_t)i];
    in->at += 8;
    return (int64_t)u;
}

/* A count of items of at least `each` bytes that the rest can hold. */
static size_t get_count(in_buf *in, size_t each)
{
    int64_t n = get_i64(in);
    if (in->bad || n < 0 || (uint64_t)n > (in->len - in->at) / each) {
        in->bad = 1;
        return 0;
    }
    return (size_t)n;
}

int qk_points_replay_resume(qk_points_replay **out, qk_bundle *b, const void *state, size_t len)
{
    *out = NULL;
    in_buf in = {state, len, 0, 0};
    if (len < 4 || memcmp(state, "QKPR", 4) != 0)
        return QK_ECORRUPT;
    in.at = 4;
    if (get_i64(&in) != STATE_VERSION || get_i64(&in) != REPLAY_RULES || get_i64(&in) != QK_ACT_COUNT ||
        in.bad)
        return QK_ECORRUPT;
    int rc = qk_points_replay_new(out, b);
    if (rc != QK_OK)
        return rc;
    replay *r = &(*out)->r;
    r->total = get_i64(&in);
    size_t n = get_count(&in, (size_t)8 * (QK_ACT_COUNT + 2));
    if (n && !(r->days = calloc(n, sizeof *r->days)))
        rc = QK_ENOMEM;
    r->cap_days = n;
    for (size_t i = 0; rc == QK_OK && i < n && !in.bad; i++) {
        day_award *d = &r->days[r->n_days++];
        d->day = get_i64(&in);
        for (int a = 0; a < QK_ACT_COUNT; a++) {
            int64_t v = get_i64(&in);
            if (v < INT_MIN || v > INT_MAX)
                in.bad = 1;
            d->amount[a] = (int)v;
        }
        d->correction = get_i64(&in);
    }
    n = rc == QK_OK ? get_count(&in, 8) : 0;
    if (n && !(r->study = malloc(n * sizeof *r->study)))
        rc = QK_ENOMEM;
    r->cap_study = n;
    for (size_t i = 0; rc == QK_OK && i < n && !in.bad; i++) {
        r->study[r->n_study] = get_i64(&in);
        if (r->n_study && r->study[r->n_study] <= r->study[r->n_study - 1])
            in.bad = 1; /* ascending and distinct, as note_study_day keeps them */
        r->n_study++;
    }
    n = rc == QK_OK ? get_count(&in, 8) : 0;
    if (n && !(r->lessons = calloc(n, sizeof *r->lessons)))
        rc = QK_ENOMEM;
    for (size_t i = 0; rc == QK_OK && i < n && !in.bad; i++) {
        size_t k = get_count(&in, 1);
        char *id = in.bad ? NULL : malloc(k + 1);
        if (!in.bad && !id) {
            rc = QK_ENOMEM;
            break;
        }
        if (id) {
            memcpy(id, in.p + in.at, k);
            id[k] = '\0';
            in.at += k;
            r->lessons[r->n_lessons++] = id;
        }
    }
    if (rc == QK_OK && (in.bad || in.at != in.len))
        rc = QK_ECORRUPT;
    if (rc != QK_OK) {
        int64_t t;
        qk_points_replay_end(*out, &t, NULL, NULL);
        *out = NULL;
    }
    return rc;
}

int qk_points_recompute_days(const char *events_db, qk_bundle *b, const char *member_id,
                             const char *device_id, int64_t *total, qk_points_day **days,
                             size_t *n_days, char *msg, size_t msglen)
{
    *total = 0;
    if (days)
        *days = NULL;
    if (n_days)
        *n_days = 0;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(events_db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(msg, msglen, "%s: %s", events_db, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return QK_EIO;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, QK_SQL_POINT_EVENTS, -1, &st, NULL) != SQLITE_OK) {
        snprintf(msg, msglen, "%s: %s", events_db, sqlite3_errmsg(db));
        sqlite3_close(db);
        return QK_ECORRUPT;
    }
    qk_points_replay *r = NULL;
    int status = qk_points_replay_new(&r, b), step = SQLITE_DONE;
    sqlite3_bind_text(st, 1, member_id, -1, SQLITE_STATIC);
    if (device_id)
        sqlite3_bind_text(st, 2, device_id, -1, SQLITE_STATIC);
    while (status == QK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        qk_point_event ev;
        qk_point_event_read(st, &ev);
        status = qk_points_replay_add(r, &ev);
    }
    if (status == QK_OK && step != SQLITE_DONE) { /* a read that stopped half-way is no total */
        snprintf(msg, msglen, "%s: %s", events_db, sqlite3_errmsg(db));
        status = QK_EIO;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (r) {
        int end = qk_points_replay_end(r, total, days, n_days);
        if (status == QK_OK)
            status = end;
        if (status != QK_OK) {
            *total = 0;
            if (days) {
                free(*days);
                *days = NULL;
            }
            if (n_days)
                *n_days = 0;
        }
    }
    if (status == QK_ENOMEM)
        snprintf(msg, msglen, "%s", qk_strerror(status, QK_LANG_EN));
    return status;
}
