/* competition.c: competition definitions, the speed-scoring formula, the
 * shared question set and the local leaderboard (quizkit/competition.h).
 * Definitions are JSON; the engine reads them with SQLite's JSON functions,
 * so it needs no JSON library of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "quizkit/competition.h"

void qk_competition_free(qk_competition *c)
{
    if (!c)
        return;
    free(c->id);
    free(c->title);
    free(c->theme);
    qk_strv_free(c->questions, c->n_questions);
    free(c);
}

void qk_competition_list_free(qk_competition **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        qk_competition_free(v[i]);
    free(v);
}

/* One field of the definition: its JSON type and value. */
typedef struct jf {
    const char *type; /* "text", "integer", "real", "true", "false", "array", "null", NULL */
    const char *text;
    double real;
    int64_t integer;
} jf;

/* A field's type and value. When memory runs out the field reads as absent
 * and *oom is set, so that the whole parse fails with QK_ENOMEM rather than
 * reading a half-filled field (or a present one as missing). */
static int field(sqlite3 *db, const char *json, const char *path, jf *f, char *buf, size_t buflen,
                 int *oom)
{
    sqlite3_stmt *st = NULL;
    memset(f, 0, sizeof *f);
    if (sqlite3_prepare_v2(db, "SELECT json_type(?1, ?2), json_extract(?1, ?2)", -1, &st, NULL) !=
        SQLITE_OK) {
        *oom = 1;
        return QK_ENOMEM;
    }
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    int rc = QK_OK;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        snprintf(buf, buflen, "%s", (const char *)sqlite3_column_text(st, 0));
        f->type = buf;
        f->integer = sqlite3_column_int64(st, 1);
        f->real = sqlite3_column_double(st, 1);
        const char *t = (const char *)sqlite3_column_text(st, 1);
        size_t n = t ? strlen(t) : 0;
        char *copy = malloc(n + 1);
        if (!copy) {
            rc = QK_ENOMEM;
            f->type = NULL;
            *oom = 1;
        } else {
            memcpy(copy, t ? t : "", n + 1);
            f->text = copy;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static void jf_clear(jf *f)
{
    free((char *)f->text);
    f->text = NULL;
}

static int bad(qk_lang lang, char *msg, size_t n, const char *id, const char *what)
{
    snprintf(msg, n, lang == QK_LANG_EN ? "competition %s: %s is missing or not valid"
                                        : "竞赛 %s：%s 缺失或无效",
             id && *id ? id : "?", what);
    return QK_EINVAL;
}

/* An optional integer field within [lo, hi]; def when absent. */
static int int_field(sqlite3 *db, const char *json, const char *path, int64_t lo, int64_t hi,
                     int64_t def, int64_t *out, int *oom)
{
    jf f;
    char tb[16];
    if (field(db, json, path, &f, tb, sizeof tb, oom) != QK_OK)
        return 0;
    int ok = 1;
    if (!f.type)
        *out = def;
    else if (strcmp(f.type, "integer") == 0 && f.integer >= lo && f.integer <= hi)
        *out = f.integer;
    else
        ok = 0;
    jf_clear(&f);
    return ok;
}

int qk_competition_parse(qk_competition **out, const char *json, qk_lang lang, char *msg,
                         size_t msglen)
{
    *out = NULL;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return QK_ENOMEM;
    }
    qk_competition *c = calloc(1, sizeof *c);
    if (!c) {
        sqlite3_close(db);
        return QK_ENOMEM;
    }
    int rc = QK_OK;
    jf f;
    char tb[16];
    int oom = 0;
    const char *id = "";
    /* id, title: required strings */
    if (rc == QK_OK && !qk__json_valid(json))
        rc = bad(lang, msg, msglen, "", "{...}");
    if (rc == QK_OK) {
        if (field(db, json, "$", &f, tb, sizeof tb, &oom) != QK_OK || !f.type ||
            strcmp(f.type, "object") != 0)
            rc = bad(lang, msg, msglen, "", "{...}");
        jf_clear(&f);
    }
    if (rc == QK_OK) {
        field(db, json, "$.id", &f, tb, sizeof tb, &oom);
        if (!f.type || strcmp(f.type, "text") != 0 || !*f.text || strlen(f.text) > 64)
            rc = bad(lang, msg, msglen, "", "id");
        else
            c->id = (char *)f.text, f.text = NULL, id = c->id;
        jf_clear(&f);
    }
    if (rc == QK_OK) {
        field(db, json, "$.title", &f, tb, sizeof tb, &oom);
        if (!f.type || strcmp(f.type, "text") != 0 || !*f.text)
            rc = bad(lang, msg, msglen, id, "title");
        else
            c->title = (char *)f.text, f.text = NULL;
        jf_clear(&f);
    }
    if (rc == QK_OK) {
        field(db, json, "$.theme", &f, tb, sizeof tb, &oom);
        if (f.type && strcmp(f.type, "text") == 0)
            c->theme = (char *)f.text, f.text = NULL;
        else if (f.type && strcmp(f.type, "null") != 0)
            rc = bad(lang, msg, msglen, id, "theme");
        jf_clear(&f);
    }
    static const char *const times[] = {"$.opens", "$.closes"};
    for (int k = 0; rc == QK_OK && k < 2; k++) {
        field(db, json, times[k], &f, tb, sizeof tb, &oom);
        int64_t *dst = k ? &c->closes_ms : &c->opens_ms;
        if (f.type && (strcmp(f.type, "text") != 0 || qk_beijing_parse_minute(f.text, dst) != 0))
            rc = bad(lang, msg, msglen, id, k ? "closes (YYYY-MM-DD HH:MM)" : "opens (YYYY-MM-DD HH:MM)");
        jf_clear(&f);
    }
    if (rc == QK_OK && c->opens_ms && c->closes_ms && c->closes_ms <= c->opens_ms)
        rc = bad(lang, msg, msglen, id, "closes (after opens)");
    /* The question set: a fixed list, or count drawn from the theme. */
    if (rc == QK_OK) {
        field(db, json, "$.questions", &f, tb, sizeof tb, &oom);
        int is_array = f.type && strcmp(f.type, "array") == 0;
        jf_clear(&f);
        if (is_array) {
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(db, "SELECT type, value FROM json_each(?1, '$.questions')", -1,
                                   &st, NULL) != SQLITE_OK) {
                rc = QK_ENOMEM;
            } else {
                sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
                while (rc == QK_OK && sqlite3_step(st) == SQLITE_ROW) {
                    const char *t = (const char *)sqlite3_column_text(st, 0);
                    const char *v = (const char *)sqlite3_column_text(st, 1);
                    if (!t || strcmp(t, "text") != 0 || !v || !*v) {
                        rc = bad(lang, msg, msglen, id, "questions[]");
                        break;
                    }
                    char **nv = realloc(c->questions, (c->n_questions + 1) * sizeof *nv);
                    if (nv)
                        c->questions = nv;
                    if (!nv || !(nv[c->n_questions] = qk__strdup(v)))
                        rc = QK_ENOMEM;
                    else
                        c->n_questions++;
                }
                sqlite3_finalize(st);
            }
            if (rc == QK_OK && c->n_questions == 0)
                rc = bad(lang, msg, msglen, id, "questions");
        } else if (!c->theme) {
            rc = bad(lang, msg, msglen, id, "questions / theme");
        }
    }
    int64_t v = 0;
    if (rc == QK_OK && !c->questions) {
        if (!int_field(db, json, "$.count", 1, 500, 10, &v, &oom))
            rc = bad(lang, msg, msglen, id, "count (1-500)");
        c->count = (size_t)v;
        if (rc == QK_OK && !int_field(db, json, "$.seed", 0, INT64_MAX, 0, &v, &oom))
            rc = bad(lang, msg, msglen, id, "seed");
        c->seed = (uint64_t)v;
        if (rc == QK_OK && v == 0) {
            /* No seed given: one from the id, the same for every entrant. */
            char hex[65];
            qk_sha256_hex(hex, c->id, strlen(c->id));
            for (int i = 0; i < 15; i++)
                c->seed = c->seed << 4 | (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
        }
    }
    struct {
        const char *path, *what;
        int64_t lo, hi, def;
        int *dst;
    } ints[] = {
        {"$.seconds", "seconds (5-600)", 5, 600, 20, &c->seconds},
        {"$.points", "points (1-100000)", 1, 100000, 1000, &c->points},
        {"$.streak_bonus", "streak_bonus (0-10000)", 0, 10000, 0, &c->streak_bonus},
        {"$.streak_max", "streak_max (0-100000)", 0, 100000, 500, &c->streak_max},
        {"$.min_ms", "min_ms (0-10000)", 0, 10000, 300, &c->min_ms},
        {"$.attempts", "attempts (1-100)", 1, 100, 1, &c->attempts},
    };
    for (size_t i = 0; rc == QK_OK && i < sizeof ints / sizeof ints[0]; i++) {
        if (!int_field(db, json, ints[i].path, ints[i].lo, ints[i].hi, ints[i].def, &v, &oom))
            rc = bad(lang, msg, msglen, id, ints[i].what);
        else
            *ints[i].dst = (int)v;
    }
    if (rc == QK_OK) {
        field(db, json, "$.full_within", &f, tb, sizeof tb, &oom);
        if (f.type && ((strcmp(f.type, "real") != 0 && strcmp(f.type, "integer") != 0) ||
                       f.real < 0 || f.real >= 1))
            rc = bad(lang, msg, msglen, id, "full_within (0 to under 1)");
        else
            c->full_permille = f.type ? (int)(f.real * 1000 + 0.5) : 0;
        jf_clear(&f);
    }
    if (rc == QK_OK) {
        field(db, json, "$.teams", &f, tb, sizeof tb, &oom);
        if (!f.type || (strcmp(f.type, "text") == 0 && strcmp(f.text, "none") == 0))
            c->teams = QK_TEAMS_NONE;
        else if (strcmp(f.type, "text") == 0 && strcmp(f.text, "dept") == 0)
            c->teams = QK_TEAMS_DEPT;
        else if (strcmp(f.type, "text") == 0 && strcmp(f.text, "branch") == 0)
            c->teams = QK_TEAMS_BRANCH;
        else
            rc = bad(lang, msg, msglen, id, "teams (none, dept, branch)");
        jf_clear(&f);
    }
    if (rc == QK_OK) {
        field(db, json, "$.guests", &f, tb, sizeof tb, &oom);
        if (f.type && strcmp(f.type, "true") != 0 && strcmp(f.type, "false") != 0)
            rc = bad(lang, msg, msglen, id, "guests (true/false)");
        c->guests = f.type && strcmp(f.type, "true") == 0;
        jf_clear(&f);
    }
    sqlite3_close(db);
    if (oom) {
        rc = QK_ENOMEM;
        snprintf(msg, msglen, "%s", lang == QK_LANG_EN ? "out of memory" : "内存不足");
    }
    if (rc != QK_OK) {
        qk_competition_free(c);
        return rc;
    }
    *out = c;
    return QK_OK;
}

/* Definitions from a table with a spec column: the bundle's (in authoring
 * order), or those a server published for this bundle (in a progress file or
 * the server's own store). */
static int load_from(sqlite3 *db, const char *sql, const char *id, const char *bundle_id,
                     qk_competition ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    /* A file made before competitions existed simply has none. */
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return id ? QK_ENOTFOUND : QK_OK;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (bundle_id)
        sqlite3_bind_text(st, 2, bundle_id, -1, SQLITE_STATIC);
    int rc = QK_OK;
    qk_competition **v = NULL;
    size_t len = 0;
    while (rc == QK_OK && sqlite3_step(st) == SQLITE_ROW) {
        qk_competition *c = NULL;
        char msg[256];
        rc = qk_competition_parse(&c, (const char *)sqlite3_column_text(st, 0), QK_LANG_EN, msg,
                                  sizeof msg);
        qk_competition **nv = rc == QK_OK ? realloc(v, (len + 1) * sizeof *nv) : NULL;
        if (rc == QK_OK && !nv) {
            qk_competition_free(c);
            rc = QK_ENOMEM;
        } else if (rc == QK_OK) {
            v = nv;
            v[len++] = c;
        }
    }
    sqlite3_finalize(st);
    if (rc != QK_OK) {
        qk_competition_list_free(v, len);
        return rc == QK_EINVAL ? QK_ECORRUPT : rc;
    }
    *out = v;
    *n = len;
    return QK_OK;
}

static const char bundle_sql[] =
    "SELECT spec FROM competitions WHERE ?1 IS NULL OR id = ?1 ORDER BY sort";
static const char published_sql[] =
    "SELECT spec FROM competitions WHERE (?1 IS NULL OR id = ?1) AND bundle_id = ?2 ORDER BY id";

static int load(qk_bundle *b, const char *id, qk_competition ***out, size_t *n)
{
    return load_from(qk__bundle_db(b), bundle_sql, id, NULL, out, n);
}

int qk_competitions(qk_bundle *b, qk_competition ***out, size_t *n)
{
    return load(b, NULL, out, n);
}

int qk__competition_published(sqlite3 *db, const char *bundle_id, const char *id,
                              qk_competition **out)
{
    qk_competition **v = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = load_from(db, published_sql, id, bundle_id, &v, &n);
    if (rc == QK_OK && n == 0)
        rc = QK_ENOTFOUND;
    if (rc == QK_OK) {
        *out = v[0];
        v[0] = NULL;
    }
    qk_competition_list_free(v, n);
    return rc;
}

int qk_competitions_all(qk_engine *e, qk_bundle *b, qk_competition ***out, size_t *n)
{
    qk_competition **v = NULL, **w = NULL;
    size_t nv = 0, nw = 0;
    int rc = load(b, NULL, &v, &nv);
    if (rc == QK_OK)
        rc = load_from(e->db, published_sql, NULL, qk_bundle_info_get(b)->id, &w, &nw);
    qk_competition **all = rc == QK_OK ? realloc(v, (nv + nw + 1) * sizeof *all) : NULL;
    if (rc == QK_OK && !all)
        rc = QK_ENOMEM;
    if (rc != QK_OK) {
        qk_competition_list_free(v, nv);
        qk_competition_list_free(w, nw);
        return rc;
    }
    /* The bundle's come first; a published one with the same id is ignored. */
    size_t k = nv;
    for (size_t i = 0; i < nw; i++) {
        int dup = 0;
        for (size_t j = 0; j < nv; j++)
            dup |= strcmp(all[j]->id, w[i]->id) == 0;
        if (dup)
            qk_competition_free(w[i]);
        else
            all[k++] = w[i];
    }
    free(w);
    *out = all;
    *n = k;
    return QK_OK;
}

int qk_competition_find(qk_engine *e, qk_bundle *b, const char *id, qk_competition **out)
{
    int rc = qk_competition_get(b, id, out);
    if (rc == QK_ENOTFOUND)
        rc = qk__competition_published(e->db, qk_bundle_info_get(b)->id, id, out);
    return rc;
}

int qk_competition_save(qk_engine *e, qk_bundle *b, const char *spec_json)
{
    qk_competition *c = NULL;
    char msg[256];
    int rc = qk_competition_parse(&c, spec_json, e->lang, msg, sizeof msg);
    if (rc != QK_OK) {
        snprintf(e->err.msg, sizeof e->err.msg, "%s", msg);
        return rc;
    }
    /* Its questions must be in this bundle, or nobody could play it here. */
    char **ids = NULL;
    size_t n = 0;
    rc = qk_competition_question_set(c, b, &ids, &n);
    qk_strv_free(ids, n);
    if (rc != QK_OK) {
        rc = qk__errf(&e->err, e->lang, rc, QK_M_C_NONE, c->id);
        qk_competition_free(c);
        return rc;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
                           "INSERT OR REPLACE INTO competitions(id, bundle_id, spec, received_ms)"
                           " VALUES (?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        qk_competition_free(c);
        return qk__engine_sqlerr(e, sqlite3_errcode(e->db), "competitions");
    }
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, qk_bundle_info_get(b)->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, spec_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, qk_engine_now_ms(e));
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    qk_competition_free(c);
    return step == SQLITE_DONE ? QK_OK : qk__engine_sqlerr(e, step, "competitions");
}

int qk_competition_get(qk_bundle *b, const char *id, qk_competition **out)
{
    qk_competition **v = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = load(b, id, &v, &n);
    if (rc == QK_OK && n == 0)
        rc = QK_ENOTFOUND;
    if (rc == QK_OK) {
        *out = v[0];
        v[0] = NULL;
    }
    qk_competition_list_free(v, n);
    return rc;
}

qk_comp_state qk_competition_state(const qk_competition *c, int64_t now_ms)
{
    if (c->opens_ms && now_ms < c->opens_ms)
        return QK_COMP_UPCOMING;
    if (c->closes_ms && now_ms >= c->closes_ms)
        return QK_COMP_CLOSED;
    return QK_COMP_OPEN;
}

int qk_competition_answer_points(const qk_competition *c, qk_centi score, qk_centi max,
                                 int64_t elapsed_ms, int streak)
{
    int64_t limit = (int64_t)c->seconds * 1000;
    if (max <= 0 || score <= 0 || elapsed_ms < 0 || elapsed_ms > limit)
        return 0;
    int64_t full = limit * c->full_permille / 1000;
    /* factor in millionths: 1 within full, then down to 1/2 at the limit. */
    int64_t factor = elapsed_ms <= full ? 1000000
                                        : 1000000 - 500000 * (elapsed_ms - full) / (limit - full);
    int64_t num = (int64_t)c->points * score * factor, den = (int64_t)max * 1000000;
    int pts = (int)((num + den / 2) / den);
    if (c->streak_bonus > 0 && score == max && streak > 0) {
        int64_t bonus = (int64_t)streak * c->streak_bonus;
        pts += (int)(bonus < c->streak_max ? bonus : c->streak_max);
    }
    return pts;
}

int qk_competition_question_set(const qk_competition *c, qk_bundle *b, char ***ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (c->questions) {
        char **v = calloc(c->n_questions, sizeof *v);
        for (size_t i = 0; v && i < c->n_questions; i++) {
            qk_question *q = NULL;
            if (qk_bundle_question(b, c->questions[i], &q) != QK_OK) {
                qk_strv_free(v, i);
                return QK_ENOTFOUND;
            }
            qk_question_free(q);
            if (!(v[i] = qk__strdup(c->questions[i]))) {
                qk_strv_free(v, i);
                return QK_ENOMEM;
            }
        }
        if (!v)
            return QK_ENOMEM;
        *ids = v;
        *n = c->n_questions;
        return QK_OK;
    }
    /* Drawn: the theme's questions shuffled by the shared seed, the first count. */
    char **all = NULL;
    size_t n_all = 0, *order = NULL;
    qk_rng *rng = NULL;
    int rc = qk_bundle_question_ids(b, c->theme, &all, &n_all);
    if (rc == QK_OK && n_all == 0)
        rc = QK_ENOTFOUND;
    if (rc == QK_OK && !(order = malloc(n_all * sizeof *order)))
        rc = QK_ENOMEM;
    for (size_t i = 0; rc == QK_OK && i < n_all; i++)
        order[i] = i;
    if (rc == QK_OK && (rc = qk_rng_new_seeded(&rng, c->seed)) == QK_OK)
        rc = qk_rng_shuffle(rng, order, n_all);
    size_t take = c->count < n_all ? c->count : n_all;
    char **v = rc == QK_OK ? calloc(take ? take : 1, sizeof *v) : NULL;
    if (rc == QK_OK && !v)
        rc = QK_ENOMEM;
    for (size_t i = 0; rc == QK_OK && i < take; i++) {
        if (!(v[i] = qk__strdup(all[order[i]]))) {
            qk_strv_free(v, i);
            v = NULL;
            rc = QK_ENOMEM;
        }
    }
    qk_rng_free(rng);
    free(order);
    qk_strv_free(all, n_all);
    if (rc == QK_OK) {
        *ids = v;
        *n = take;
    }
    return rc;
}

int qk_competition_entries(qk_engine *e, const char *comp_id, const char *member_id, int *n)
{
    /* Entries begun count, finished or not: leaving half-way (or pulling the
     * plug) and starting again with the questions known would not be fair. */
    sqlite3_stmt *st = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(e->db,
                           "SELECT count(*) FROM events s WHERE s.kind = 'attempt.start'"
                           " AND json_extract(s.payload, '$.competition') = ?1 AND s.member_id IS ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_errcode(e->db), "events");
    sqlite3_bind_text(st, 1, comp_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, member_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return QK_OK;
}

void qk_board_free(qk_board_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].member_id);
        free(rows[i].name);
        free(rows[i].team);
    }
    free(rows);
}

int qk_board_cmp(const qk_board_key *a, const qk_board_key *b)
{
    if (a->points != b->points)
        return a->points > b->points ? -1 : 1;
    if (a->answer_ms != b->answer_ms)
        return a->answer_ms < b->answer_ms ? -1 : 1;
    return a->finished_ms < b->finished_ms ? -1 : a->finished_ms > b->finished_ms;
}

static qk_board_key row_key(const qk_board_row *r)
{
    qk_board_key k = {r->points, r->answer_ms, r->finished_ms};
    return k;
}

static int row_cmp(const void *a, const void *b)
{
    qk_board_key x = row_key(a), y = row_key(b);
    return qk_board_cmp(&x, &y);
}

static void board_rank(qk_board_row *rows, size_t n)
{
    if (n > 1) /* an empty board may have no array at all */
        qsort(rows, n, sizeof *rows, row_cmp);
    for (size_t i = 0; i < n; i++) {
        rows[i].rank = i > 0 && row_cmp(&rows[i], &rows[i - 1]) == 0 ? rows[i - 1].rank : (int)i + 1;
    }
}

int qk_competition_board(qk_engine *e, const qk_competition *c, qk_board_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    /* Each member's first finished entry; every guest entry. */
    if (sqlite3_prepare_v2(
            e->db,
            "SELECT f.member_id, coalesce(m.name, ''), coalesce(m.branch, ''), f.attempt_id,"
            " json_extract(f.payload, '$.comp_points'), json_extract(f.payload, '$.answer_ms'),"
            " f.created_ms, json_extract(f.payload, '$.correct'), json_extract(f.payload, '$.total'),"
            " json_extract(f.payload, '$.flagged'), coalesce(m.dept, '')"
            " FROM events f JOIN events s ON s.attempt_id = f.attempt_id AND s.kind = 'attempt.start'"
            " LEFT JOIN members m ON m.id = f.member_id"
            " WHERE f.kind = 'attempt.finish' AND json_extract(s.payload, '$.competition') = ?1"
            " AND (f.member_id IS NULL OR f.seq = (SELECT min(f2.seq) FROM events f2 JOIN events s2"
            "  ON s2.attempt_id = f2.attempt_id AND s2.kind = 'attempt.start'"
            "  WHERE f2.kind = 'attempt.finish' AND f2.member_id = f.member_id"
            "  AND json_extract(s2.payload, '$.competition') = ?1))",
            -1, &st, NULL) != SQLITE_OK)
        return qk__engine_sqlerr(e, sqlite3_errcode(e->db), "events");
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    qk_board_row *v = NULL;
    size_t len = 0;
    int rc = QK_OK;
    while (rc == QK_OK && sqlite3_step(st) == SQLITE_ROW) {
        qk_board_row *nv = realloc(v, (len + 1) * sizeof *nv);
        if (!nv) {
            rc = QK_ENOMEM;
            break;
        }
        v = nv;
        qk_board_row *r = &v[len];
        memset(r, 0, sizeof *r);
        const char *mid = (const char *)sqlite3_column_text(st, 0);
        r->member_id = mid ? qk__strdup(mid) : NULL;
        r->name = qk__strdup((const char *)sqlite3_column_text(st, 1));
        r->team = qk__strdup(c->teams == QK_TEAMS_BRANCH ? (const char *)sqlite3_column_text(st, 2)
                             : c->teams == QK_TEAMS_DEPT ? (const char *)sqlite3_column_text(st, 10)
                                                         : "");
        snprintf(r->attempt_id, sizeof r->attempt_id, "%s", (const char *)sqlite3_column_text(st, 3));
        r->points = sqlite3_column_int(st, 4);
        r->answer_ms = sqlite3_column_int64(st, 5);
        r->finished_ms = sqlite3_column_int64(st, 6);
        r->correct = (size_t)sqlite3_column_int64(st, 7);
        r->total = (size_t)sqlite3_column_int64(st, 8);
        r->flagged = sqlite3_column_int(st, 9);
        len++;
        if ((mid && !r->member_id) || !r->name || !r->team)
            rc = QK_ENOMEM;
    }
    sqlite3_finalize(st);
    if (rc != QK_OK) {
        qk_board_free(v, len);
        return rc;
    }
    board_rank(v, len);
    *rows = v;
    *n = len;
    return QK_OK;
}

int qk_competition_check(qk_engine *e, const qk_competition *c, const char *member_id)
{
    qk_comp_state st = qk_competition_state(c, qk_engine_now_ms(e));
    if (st != QK_COMP_OPEN)
        return qk__errf(&e->err, e->lang, QK_ESTATE,
                        st == QK_COMP_UPCOMING ? QK_M_C_NOT_OPEN : QK_M_C_CLOSED, c->title);
    if (!member_id && !c->guests)
        return qk__errf(&e->err, e->lang, QK_EPERM, QK_M_C_NO_GUESTS, c->title);
    int entries = 0, rc;
    if (member_id && (rc = qk_competition_entries(e, c->id, member_id, &entries)) != QK_OK)
        return rc;
    if (member_id && entries >= c->attempts)
        return qk__errf(&e->err, e->lang, QK_ELIMIT, QK_M_C_DONE, c->title, c->attempts);
    return QK_OK;
}
