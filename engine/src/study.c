/* study.c: the wrong-answer book, spaced repetition and the best challenge
 * run, all derived from answer events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct row {
    char *qid;
    char *response;
    char *attempt_id;
    size_t index;
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
        free(v[i].attempt_id);
        free(v[i].given_shown);
        free(v[i].right_shown);
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
                           " json_extract(payload, '$.correct'), created_ms, rowid,"
                           " attempt_id, json_extract(payload, '$.i') FROM events"
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
        const char *aid = (const char *)sqlite3_column_text(st, 5);
        rows[len].attempt_id = qk__strdup(aid ? aid : "");
        int64_t index = sqlite3_column_int64(st, 6);
        rows[len].index = index > 0 ? (size_t)index : 0;
        len++;
        if (!rows[len - 1].qid || !rows[len - 1].response || !rows[len - 1].attempt_id) {
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
            qk_wrong w;
            memset(&w, 0, sizeof w);
            int in_book = 0;
            int64_t last_right_day = INT64_MIN;
            const row *last = NULL; /* the last wrong answer */
            for (; j < len && strcmp(rows[j].qid, rows[i].qid) == 0; j++) {
                if (!rows[j].correct) {
                    in_book = 1;
                    w.times_wrong++;
                    w.right_days = 0;
                    w.last_wrong_ms = rows[j].ms;
                    last = &rows[j];
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
            if (in_book && last) {
                w.question_id = qk__strdup(rows[i].qid);
                w.given = qk__strdup(last->response);
                w.attempt_id = qk__strdup(last->attempt_id);
                w.index = last->index;
                v[nv++] = w;
                if (!w.question_id || !w.given || !w.attempt_id)
                    status = QK_ENOMEM;
            }
            i = j;
        }
        if (v)
            qsort(v, nv, sizeof *v, cmp_wrong);
    }
    for (size_t i = 0; i < len; i++) {
        free(rows[i].qid);
        free(rows[i].response);
        free(rows[i].attempt_id);
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
