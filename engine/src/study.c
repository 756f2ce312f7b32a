/* study.c: the Beijing day, the wrong-answer book and the best challenge run,
 * all derived from answer events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define BEIJING_OFFSET_MS (8LL * 3600 * 1000)
#define DAY_MS (86400LL * 1000)

int64_t qk_beijing_day(int64_t unix_ms)
{
    int64_t t = unix_ms + BEIJING_OFFSET_MS;
    return t >= 0 ? t / DAY_MS : -((-t + DAY_MS - 1) / DAY_MS);
}

void qk_beijing_date(int64_t unix_ms, char out[11])
{
    time_t t = (time_t)(qk_beijing_day(unix_ms) * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int qk_beijing_parse_date(const char *s, int64_t *day)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    }
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return -1;
    *day = days_from_civil(y, m, d);
    return 0;
}

void qk_beijing_month(int64_t unix_ms, int64_t *first_day, int64_t *last_day)
{
    time_t t = (time_t)(qk_beijing_day(unix_ms) * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    int y = tm.tm_year + 1900, m = tm.tm_mon + 1;
    *first_day = days_from_civil(y, m, 1);
    *last_day = (m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1)) - 1;
}

typedef struct row {
    char *qid;
    char *response;
    int correct;
    int64_t ms;
    int64_t order; /* position in the log, to keep same-millisecond answers in order */
} row;

static int cmp_rows(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->qid, y->qid);
    if (c)
        return c;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_wrong(const void *a, const void *b)
{
    const qk_wrong *x = a, *y = b;
    if (x->last_wrong_ms != y->last_wrong_ms)
        return x->last_wrong_ms > y->last_wrong_ms ? -1 : 1;
    return strcmp(x->question_id, y->question_id);
}

void qk_wrongbook_free(qk_wrong *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].question_id);
        free(v[i].given);
    }
    free(v);
}

int qk_wrongbook_list(qk_engine *e, const char *member_id, qk_wrong **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT json_extract(payload, '$.q'), json_extract(payload, '$.response'),"
                           " json_extract(payload, '$.correct'), created_ms, rowid FROM events"
                           " WHERE kind = 'answer' AND member_id IS ?",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "wrongbook");
    if (member_id)
        sqlite3_bind_text(st, 1, member_id, -1, SQLITE_STATIC);
    row *rows = NULL;
    size_t len = 0, cap = 0;
    int status = QK_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *q = (const char *)sqlite3_column_text(st, 0);
        const char *r = (const char *)sqlite3_column_text(st, 1);
        if (!q || !r)
            continue;
        if (len == cap) {
            size_t c = cap ? cap * 2 : 256;
            row *nv = realloc(rows, c * sizeof *nv);
            if (!nv) {
                status = QK_ENOMEM;
                break;
            }
            rows = nv;
            cap = c;
        }
        rows[len].qid = qk__strdup(q);
        rows[len].response = qk__strdup(r);
        rows[len].correct = sqlite3_column_int(st, 2);
        rows[len].ms = sqlite3_column_int64(st, 3);
        rows[len].order = sqlite3_column_int64(st, 4);
        len++;
        if (!rows[len - 1].qid || !rows[len - 1].response) {
            status = QK_ENOMEM;
            break;
        }
    }
    if (status == QK_OK && step != SQLITE_DONE)
        status = qk__engine_sqlerr(e, step, "wrongbook");
    sqlite3_finalize(st);

    /* Walk each question's answers in time order: a wrong answer puts it in the
     * book and resets its count; a right answer on a new day counts one more;
     * QK_WRONGBOOK_RIGHT_DAYS such days take it out. O(n log n) for the sort. */
    qk_wrong *v = NULL;
    size_t nv = 0;
    if (status == QK_OK && len > 0) {
        qsort(rows, len, sizeof *rows, cmp_rows);
        v = calloc(len, sizeof *v);
        if (!v)
            status = QK_ENOMEM;
        for (size_t i = 0; v && i < len;) {
            size_t j = i;
            qk_wrong w = {NULL, NULL, 0, 0, 0};
            int in_book = 0;
            int64_t last_right_day = INT64_MIN;
            const char *given = NULL;
            for (; j < len && strcmp(rows[j].qid, rows[i].qid) == 0; j++) {
                if (!rows[j].correct) {
                    in_book = 1;
                    w.times_wrong++;
                    w.right_days = 0;
                    w.last_wrong_ms = rows[j].ms;
                    given = rows[j].response;
                    last_right_day = INT64_MIN;
                } else if (in_book) {
                    int64_t day = qk_beijing_day(rows[j].ms);
                    if (day != last_right_day) {
                        w.right_days++;
                        last_right_day = day;
                    }
                    if (w.right_days >= QK_WRONGBOOK_RIGHT_DAYS)
                        in_book = 0;
                }
            }
            if (in_book) {
                w.question_id = qk__strdup(rows[i].qid);
                w.given = qk__strdup(given);
                v[nv++] = w;
            }
            i = j;
        }
        if (v)
            qsort(v, nv, sizeof *v, cmp_wrong);
    }
    for (size_t i = 0; i < len; i++) {
        free(rows[i].qid);
        free(rows[i].response);
    }
    free(rows);
    if (status != QK_OK) {
        qk_wrongbook_free(v, nv);
        return status;
    }
    *out = v;
    *n = nv;
    return QK_OK;
}

int qk_challenge_best(qk_engine *e, const char *member_id, size_t *best)
{
    *best = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT COALESCE(MAX(json_extract(f.payload, '$.correct')), 0)"
                           " FROM events f JOIN events s ON s.attempt_id = f.attempt_id"
                           " AND s.kind = 'attempt.start'"
                           " WHERE f.kind = 'attempt.finish' AND f.member_id IS ?"
                           " AND json_extract(s.payload, '$.mode') = 'challenge'",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "challenge");
    if (member_id)
        sqlite3_bind_text(st, 1, member_id, -1, SQLITE_STATIC);
    int status = QK_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *best = (size_t)sqlite3_column_int64(st, 0);
    else
        status = qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "challenge");
    sqlite3_finalize(st);
    return status;
}

void qk_srs_step(int grade, int *repetitions, double *ef, int *interval_days)
{
    if (grade >= 3) {
        if (*repetitions == 0)
            *interval_days = 1;
        else if (*repetitions == 1)
            *interval_days = 6;
        else
            *interval_days = (int)(*interval_days * *ef + 0.5);
        (*repetitions)++;
    } else {
        *repetitions = 0;
        *interval_days = 1;
    }
    int d = 5 - grade;
    *ef += 0.1 - d * (0.08 + d * 0.02);
    if (*ef < 1.3)
        *ef = 1.3;
}

void qk_srs_free(qk_srs_item *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i].question_id);
    free(v);
}

static int cmp_due(const void *a, const void *b)
{
    const qk_srs_item *x = a, *y = b;
    if (x->due_day != y->due_day)
        return x->due_day < y->due_day ? -1 : 1;
    return strcmp(x->question_id, y->question_id);
}

int qk_srs_list(qk_engine *e, const char *member_id, qk_srs_item **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    /* Answers by question and time; score/max tells right, partly right, wrong. */
    if (sqlite3_prepare_v2(e->db,
                           "SELECT json_extract(payload, '$.q'), json_extract(payload, '$.correct'),"
                           " json_extract(payload, '$.score'), created_ms FROM events"
                           " WHERE kind = 'answer' AND member_id IS ?"
                           " ORDER BY json_extract(payload, '$.q'), created_ms, seq",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "srs");
    if (member_id)
        sqlite3_bind_text(st, 1, member_id, -1, SQLITE_STATIC);
    qk_srs_item *v = NULL;
    size_t len = 0, cap = 0;
    int status = QK_OK;
    char *cur = NULL;
    int64_t last_day = INT64_MIN;
    qk_srs_item item;
    memset(&item, 0, sizeof item);
    for (;;) {
        int step = sqlite3_step(st);
        const char *q = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (step == SQLITE_ROW && !q)
            continue;
        /* A new question (or the end): keep the finished one. */
        if (cur && (!q || strcmp(q, cur) != 0)) {
            if (len == cap) {
                cap = cap ? cap * 2 : 64;
                qk_srs_item *nv = realloc(v, cap * sizeof *nv);
                if (!nv) {
                    status = QK_ENOMEM;
                    free(cur);
                    cur = NULL;
                    break;
                }
                v = nv;
            }
            item.question_id = cur;
            item.due_day = last_day + item.interval_days;
            v[len++] = item;
            cur = NULL;
        }
        if (step != SQLITE_ROW) {
            if (step != SQLITE_DONE)
                status = qk__engine_sqlerr(e, step, "srs");
            break;
        }
        if (!cur) {
            cur = qk__strdup(q);
            if (!cur) {
                status = QK_ENOMEM;
                break;
            }
            memset(&item, 0, sizeof item);
            item.ef = 2.5;
            last_day = INT64_MIN;
        }
        int64_t day = qk_beijing_day(sqlite3_column_int64(st, 3));
        if (day == last_day)
            continue; /* one repetition a day: the first answer counts */
        int grade = sqlite3_column_int(st, 1) ? 4 : sqlite3_column_int(st, 2) > 0 ? 3 : 1;
        qk_srs_step(grade, &item.repetitions, &item.ef, &item.interval_days);
        last_day = day;
    }
    sqlite3_finalize(st);
    free(cur);
    if (status != QK_OK) {
        qk_srs_free(v, len);
        return status;
    }
    if (len > 1)
        qsort(v, len, sizeof *v, cmp_due);
    *out = v;
    *n = len;
    return QK_OK;
}
