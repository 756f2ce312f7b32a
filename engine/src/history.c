/* history.c: past attempts, derived from attempt.start and attempt.finish events. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void qk_history_free(qk_attempt_row *rows, size_t n)
{
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++) {
        free(rows[i].attempt_id);
        free(rows[i].mode);
        free(rows[i].theme);
        free(rows[i].bundle_id);
        free(rows[i].competition);
    }
    free(rows);
}

static char *dup_col(sqlite3_stmt *st, int c)
{
    const unsigned char *t = sqlite3_column_text(st, c);
    return qk__strdup(t ? (const char *)t : "");
}

int qk_history_list(qk_engine *e, const char *member_id, qk_attempt_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    /* Answers are counted from answer events so that an unfinished attempt shows
     * its progress too; finished ones take their totals from attempt.finish. */
    static const char sql[] =
        "SELECT s.attempt_id, json_extract(s.payload, '$.mode'), json_extract(s.payload, '$.theme'),"
        " s.bundle_id, s.created_ms, f.created_ms,"
        " json_array_length(s.payload, '$.questions'),"
        " (SELECT count(*) FROM events a WHERE a.attempt_id = s.attempt_id AND a.kind = 'answer'),"
        " (SELECT count(*) FROM events a WHERE a.attempt_id = s.attempt_id AND a.kind = 'answer'"
        "   AND json_extract(a.payload, '$.correct') = 1),"
        " (SELECT COALESCE(sum(json_extract(a.payload, '$.score')), 0) FROM events a"
        "   WHERE a.attempt_id = s.attempt_id AND a.kind = 'answer'),"
        " json_extract(f.payload, '$.max'), json_extract(f.payload, '$.duration_ms'),"
        " json_extract(f.payload, '$.reason'), json_extract(s.payload, '$.competition')"
        " FROM events s LEFT JOIN events f ON f.attempt_id = s.attempt_id AND f.kind = 'attempt.finish'"
        " WHERE s.kind = 'attempt.start' AND s.member_id IS ?"
        " ORDER BY s.created_ms DESC, s.seq DESC";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db, sql, -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_extended_errcode(e->db), "history");
    if (member_id)
        sqlite3_bind_text(st, 1, member_id, -1, SQLITE_STATIC);
    qk_attempt_row *v = NULL;
    size_t len = 0;
    int status = QK_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        qk_attempt_row *nv = realloc(v, (len + 1) * sizeof *nv);
        if (!nv) {
            status = QK_ENOMEM;
            break;
        }
        v = nv;
        qk_attempt_row *r = &v[len++];
        memset(r, 0, sizeof *r);
        r->attempt_id = dup_col(st, 0);
        r->mode = dup_col(st, 1);
        r->theme = dup_col(st, 2);
        r->bundle_id = dup_col(st, 3);
        r->started_ms = sqlite3_column_int64(st, 4);
        r->finished_ms = sqlite3_column_int64(st, 5);
        r->total = (size_t)sqlite3_column_int64(st, 6);
        r->answered = (size_t)sqlite3_column_int64(st, 7);
        r->correct = (size_t)sqlite3_column_int64(st, 8);
        r->score = (qk_centi)sqlite3_column_int64(st, 9);
        r->max = (qk_centi)sqlite3_column_int64(st, 10);
        r->duration_ms = sqlite3_column_int64(st, 11);
        const unsigned char *reason = sqlite3_column_text(st, 12);
        r->timed_out = reason && strcmp((const char *)reason, "timeout") == 0;
        r->competition = dup_col(st, 13);
        if (!r->attempt_id || !r->mode || !r->theme || !r->bundle_id || !r->competition) {
            status = QK_ENOMEM;
            break;
        }
    }
    if (status == QK_OK && step != SQLITE_DONE)
        status = qk__engine_sqlerr(e, step, "history");
    sqlite3_finalize(st);
    if (status != QK_OK) {
        qk_history_free(v, len);
        return status;
    }
    *rows = v;
    *n = len;
    return QK_OK;
}
