/* bundle_write.c: writing a bundle into a temporary file and renaming it into
 * place on commit, so that a failed build never leaves a partial bundle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/pk.h>

#include "bundle_format.h"

struct qk_bundle_writer {
    sqlite3 *db;
    qk_lang lang;
    qk__err err;
    char *path;
    char *tmp;
    int have_manifest;
    int committed;
    int64_t n_themes;
    int64_t n_questions;
    int64_t n_lessons;
    const qk_key *key;
};

const char *qk_bundle_writer_errmsg(const qk_bundle_writer *w)
{
    return w ? w->err.msg : "out of memory";
}

static int sqlfail(qk_bundle_writer *w, const char *what)
{
    return qk__errf(&w->err, w->lang, QK_EIO, QK_M_SQL, what, sqlite3_errmsg(w->db));
}

static int exec(qk_bundle_writer *w, const char *sql)
{
    return sqlite3_exec(w->db, sql, NULL, NULL, NULL) == SQLITE_OK ? QK_OK : sqlfail(w, sql);
}

int qk_bundle_writer_open(qk_bundle_writer **out, const char *path, qk_lang lang)
{
    qk_bundle_writer *w = calloc(1, sizeof *w);
    *out = w;
    if (!w)
        return QK_ENOMEM;
    w->lang = lang;
    w->path = qk__strdup(path);
    size_t n = strlen(path) + 16;
    w->tmp = malloc(n);
    if (!w->path || !w->tmp)
        return QK_ENOMEM;
    snprintf(w->tmp, n, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(w->tmp);
    if (fd < 0) {
        int e = errno;
        free(w->tmp);
        w->tmp = NULL;
        return qk__errf(&w->err, lang, QK_EIO, QK_M_W_TEMP, path, strerror(e));
    }
    close(fd);
    if (sqlite3_open_v2(w->tmp, &w->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return qk__errf(&w->err, lang, QK_EIO, QK_M_W_TEMP, w->tmp,
                        w->db ? sqlite3_errmsg(w->db) : "?");
    int rc = exec(w, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=4096;");
    if (rc == QK_OK)
        rc = exec(w, qk__bundle_schema);
    if (rc == QK_OK)
        rc = exec(w, "BEGIN");
    return rc;
}

static int id_ok(const char *id)
{
    if (!id || !id[0] || strlen(id) > 128)
        return 0;
    for (const char *p = id; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
              *p == '-'))
            return 0;
    }
    return 1;
}

static int put_manifest(qk_bundle_writer *w, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc = QK_OK;
    if (sqlite3_prepare_v2(w->db, "INSERT OR REPLACE INTO manifest(key, value) VALUES (?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        return sqlfail(w, "manifest");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sqlfail(w, "manifest");
    sqlite3_finalize(st);
    return rc;
}

int qk_bundle_writer_manifest(qk_bundle_writer *w, const qk_manifest *m)
{
    if (!id_ok(m->id))
        return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_ID, m->id ? m->id : "");
    const char *fields[][2] = {{"version", m->version}, {"title", m->title}};
    for (size_t i = 0; i < 2; i++) {
        if (!fields[i][1] || !fields[i][1][0] || !qk_text_valid(fields[i][1], strlen(fields[i][1])))
            return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_MANIFEST, fields[i][0]);
    }
    /* A version names files on servers and devices (ID-VERSION.qkb): the id
     * rule, so it can never name a path. */
    if (!qk_id_valid(m->version, QK_BUNDLE_VERSION_MAX))
        return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_VERSION, m->version);
    /* SOURCE_DATE_EPOCH makes builds reproducible (same sources, same digest). */
    int64_t now = m->created_ms ? m->created_ms : qk_clock_now_ms(NULL);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end = NULL;
        long long v = strtoll(sde, &end, 10);
        if (end && !*end && v >= 0 && v < 253402300800LL) /* before the year 10000 */
            now = (int64_t)v * 1000;
    }
    /* UTC in the manifest (ISO 8601 with Z); screens show it in Beijing time. */
    char created[QK_TIME_LEN + 4];
    qk_beijing_time_text(now - QK_BEIJING_OFFSET_MS, 1, created);
    char *sp = strchr(created, ' '); /* date and time: ISO 8601's T, whatever the year's width */
    if (sp)
        *sp = 'T';
    size_t clen = strlen(created);
    snprintf(created + clen, sizeof created - clen, "Z");
    char fmt[8];
    snprintf(fmt, sizeof fmt, "%d", QK_BUNDLE_FORMAT);
    int rc;
    if ((rc = put_manifest(w, "format", fmt)) != QK_OK ||
        (rc = put_manifest(w, "id", m->id)) != QK_OK ||
        (rc = put_manifest(w, "version", m->version)) != QK_OK ||
        (rc = put_manifest(w, "title", m->title)) != QK_OK ||
        (rc = put_manifest(w, "language", m->language && *m->language ? m->language : "zh-CN")) !=
            QK_OK ||
        (rc = put_manifest(w, "created", created)) != QK_OK)
        return rc;
    if (m->daily_count > 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", m->daily_count);
        if ((rc = put_manifest(w, "daily_count", n)) != QK_OK)
            return rc;
    }
    w->have_manifest = 1;
    return QK_OK;
}

int qk_bundle_writer_theme(qk_bundle_writer *w, const char *id, const char *title,
                           const char *description)
{
    if (!id_ok(id))
        return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_ID, id ? id : "");
    if (!title || !title[0] || !qk_text_valid(title, strlen(title)))
        return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_MANIFEST, "title");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "INSERT INTO themes(id, sort, title, description) VALUES (?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "themes");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, w->n_themes);
    sqlite3_bind_text(st, 3, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, description ? description : "", -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step == SQLITE_CONSTRAINT)
        return qk__errf(&w->err, w->lang, QK_EEXISTS, QK_M_W_DUP_THEME, id);
    if (step != SQLITE_DONE)
        return sqlfail(w, "themes");
    w->n_themes++;
    return QK_OK;
}

int qk_bundle_writer_theme_days(qk_bundle_writer *w, const char *id, const char *days)
{
    if (!qk_theme_days_valid(days))
        return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_DAYS, id, days ? days : "");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "UPDATE themes SET active = ? WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return sqlfail(w, "themes");
    sqlite3_bind_text(st, 1, days, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return sqlfail(w, "themes");
    return sqlite3_changes(w->db) ? QK_OK
                                  : qk__errf(&w->err, w->lang, QK_ENOTFOUND, QK_M_NO_THEME, id);
}

static int theme_exists(qk_bundle_writer *w, const char *theme, int *yes);

int qk_bundle_writer_theme_guests(qk_bundle_writer *w, const char *id)
{
    int yes = 0;
    int rc = theme_exists(w, id, &yes);
    if (rc != QK_OK)
        return rc;
    if (!yes)
        return qk__errf(&w->err, w->lang, QK_ENOTFOUND, QK_M_NO_THEME, id);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO manifest(key, value) VALUES ('guest_themes', ?1)"
                           " ON CONFLICT(key) DO UPDATE SET value = value || ',' || excluded.value"
                           " WHERE instr(',' || value || ',', ',' || excluded.value || ',') = 0",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "manifest");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : sqlfail(w, "manifest");
}

static int theme_exists(qk_bundle_writer *w, const char *theme, int *yes)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "SELECT 1 FROM themes WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "themes");
    sqlite3_bind_text(st, 1, theme, -1, SQLITE_STATIC);
    *yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return QK_OK;
}

static int step_done(qk_bundle_writer *w, sqlite3_stmt *st, const char *what)
{
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? QK_OK : sqlfail(w, what);
}

static int insert_children(qk_bundle_writer *w, const qk_question *q)
{
    sqlite3_stmt *st = NULL;
    int rc = QK_OK;
    if (sqlite3_prepare_v2(w->db, "INSERT INTO options(question_id, idx, text, correct) VALUES (?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "options");
    for (size_t i = 0; i < q->n_options && rc == QK_OK; i++) {
        sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_text(st, 3, q->options[i].text, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, q->options[i].correct ? 1 : 0);
        rc = step_done(w, st, "options");
    }
    sqlite3_finalize(st);
    if (rc != QK_OK)
        return rc;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO blanks(question_id, blank, idx, accepted) VALUES (?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "blanks");
    for (size_t b = 0; b < q->n_blanks && rc == QK_OK; b++) {
        for (size_t a = 0; a < q->blanks[b].n_accepted && rc == QK_OK; a++) {
            sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (int64_t)b);
            sqlite3_bind_int64(st, 3, (int64_t)a);
            sqlite3_bind_text(st, 4, q->blanks[b].accepted[a], -1, SQLITE_STATIC);
            rc = step_done(w, st, "blanks");
        }
    }
    sqlite3_finalize(st);
    if (rc != QK_OK)
        return rc;
    if (sqlite3_prepare_v2(w->db, "INSERT OR IGNORE INTO tags(question_id, tag) VALUES (?,?)", -1,
                           &st, NULL) != SQLITE_OK)
        return sqlfail(w, "tags");
    for (size_t t = 0; t < q->n_tags && rc == QK_OK; t++) {
        sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, q->tags[t], -1, SQLITE_STATIC);
        rc = step_done(w, st, "tags");
    }
    sqlite3_finalize(st);
    return rc;
}

int qk_bundle_writer_question(qk_bundle_writer *w, const qk_question *q)
{
    char why[256];
    if (qk_question_check(q, w->lang, why, sizeof why) != QK_OK)
        return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_QUESTION, q->id ? q->id : "?", why);
    int yes = 0;
    int rc = theme_exists(w, q->theme ? q->theme : "", &yes);
    if (rc != QK_OK)
        return rc;
    if (!yes)
        return qk__errf(&w->err, w->lang, QK_ENOTFOUND, QK_M_W_Q_THEME, q->id,
                        q->theme ? q->theme : "");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO questions(id, sort, theme, type, scoring, stem, explanation,"
                           " source, points, difficulty, shuffle, judge_answer)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "questions");
    sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, w->n_questions);
    sqlite3_bind_text(st, 3, q->theme, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, qk_qtype_name(q->type), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, q->scoring == QK_SCORE_PARTIAL ? "partial" : "all", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, q->stem, -1, SQLITE_STATIC);
    if (q->explanation && q->explanation[0])
        sqlite3_bind_text(st, 7, q->explanation, -1, SQLITE_STATIC);
    if (q->source && q->source[0])
        sqlite3_bind_text(st, 8, q->source, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, q->points);
    sqlite3_bind_int(st, 10, q->difficulty);
    sqlite3_bind_int(st, 11, q->shuffle ? 1 : 0);
    if (q->type == QK_Q_JUDGE)
        sqlite3_bind_int(st, 12, q->judge_answer ? 1 : 0);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step == SQLITE_CONSTRAINT)
        return qk__errf(&w->err, w->lang, QK_EEXISTS, QK_M_W_DUP_Q, q->id);
    if (step != SQLITE_DONE)
        return sqlfail(w, "questions");
    w->n_questions++;
    return insert_children(w, q);
}

int qk_bundle_writer_media(qk_bundle_writer *w, const char *name, const char *mime,
                           const void *data, size_t len)
{
    if (len > (size_t)64 * 1024 * 1024)
        return qk__errf(&w->err, w->lang, QK_ELIMIT, QK_M_W_MANIFEST, name);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "INSERT INTO media(name, mime, data) VALUES (?,?,?)", -1, &st,
                           NULL) != SQLITE_OK)
        return sqlfail(w, "media");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, mime, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, data, (int)len, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : sqlfail(w, "media");
}

int qk_bundle_writer_point_rule(qk_bundle_writer *w, const char *activity, int points,
                                int daily_cap)
{
    if (qk_activity_parse(activity) == QK_ACT_COUNT || points < 0 || points > 1000 ||
        daily_cap < 0 || daily_cap > 1000)
        return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_RULE, activity ? activity : "");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT OR REPLACE INTO point_rules(activity, points, daily_cap)"
                           " VALUES (?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "point_rules");
    sqlite3_bind_text(st, 1, activity, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, points);
    sqlite3_bind_int(st, 3, daily_cap);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : sqlfail(w, "point_rules");
}

int qk_bundle_writer_competition(qk_bundle_writer *w, const char *spec_json)
{
    qk_competition *c = NULL;
    char msg[512];
    int rc = qk_competition_parse(&c, spec_json, w->lang, msg, sizeof msg);
    if (rc != QK_OK)
        return qk__errf(&w->err, w->lang, rc, QK_M_W_COMP, msg);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO competitions(id, sort, spec) VALUES"
                           " (?, (SELECT count(*) FROM competitions), ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        qk_competition_free(c);
        return sqlfail(w, "competitions");
    }
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, spec_json, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if ((step & 0xff) == SQLITE_CONSTRAINT)
        rc = qk__errf(&w->err, w->lang, QK_EEXISTS, QK_M_W_DUP_COMP, c->id);
    else if (step != SQLITE_DONE)
        rc = sqlfail(w, "competitions");
    qk_competition_free(c);
    return rc;
}

/* Every theme and question a competition names must be in the bundle. */
static int check_competitions(qk_bundle_writer *w)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db,
                           "SELECT c.id, 'theme', json_extract(c.spec, '$.theme') FROM competitions c"
                           " WHERE json_extract(c.spec, '$.theme') IS NOT NULL AND NOT EXISTS"
                           " (SELECT 1 FROM themes t WHERE t.id = json_extract(c.spec, '$.theme'))"
                           " UNION ALL SELECT c.id, 'question', j.value FROM competitions c,"
                           " json_each(c.spec, '$.questions') j WHERE NOT EXISTS"
                           " (SELECT 1 FROM questions q WHERE q.id = j.value) LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "competitions");
    int rc = QK_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        rc = qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_COMP_REF,
                      (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                      (const char *)sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    return rc;
}

int qk_bundle_writer_lesson(qk_bundle_writer *w, const qk_lesson_src *l)
{
    if (!id_ok(l->id) || l->n_steps == 0)
        return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_W_ID, l->id ? l->id : "");
    sqlite3_stmt *st = NULL;
    int rc = QK_OK;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO lessons(id, sort, theme, title, kind, minutes, completion,"
                           " scoring, start) VALUES (?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "lessons");
    sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, w->n_lessons);
    sqlite3_bind_text(st, 3, l->theme, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, l->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, l->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, l->minutes);
    sqlite3_bind_text(st, 7, l->completion, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, l->scoring, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, l->steps[0].id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if ((step & 0xff) == SQLITE_CONSTRAINT)
        return qk__errf(&w->err, w->lang, QK_EEXISTS, QK_M_W_DUP_Q, l->id);
    if (step != SQLITE_DONE)
        return sqlfail(w, "lessons");
    w->n_lessons++;
    sqlite3_stmt *ss = NULL, *cs = NULL;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO lesson_steps(lesson_id, step_id, sort, type, body, next,"
                           " score, question_id) VALUES (?,?,?,?,?,?,?,?)",
                           -1, &ss, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db,
                           "INSERT INTO lesson_choices(lesson_id, step_id, idx, text, target, delta,"
                           " min_score, max_score) VALUES (?,?,?,?,?,?,?,?)",
                           -1, &cs, NULL) != SQLITE_OK) {
        sqlite3_finalize(ss);
        return sqlfail(w, "lesson_steps");
    }
    for (size_t i = 0; i < l->n_steps && rc == QK_OK; i++) {
        const qk_lesson_step_src *sp = &l->steps[i];
        if (sp->type == QK_STEP_QUESTION && sp->question) {
            rc = qk_bundle_writer_question(w, sp->question);
            if (rc != QK_OK)
                break;
        }
        sqlite3_bind_text(ss, 1, l->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ss, 2, sp->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ss, 3, (int64_t)i);
        sqlite3_bind_text(ss, 4, qk_step_type_name(sp->type), -1, SQLITE_STATIC);
        sqlite3_bind_text(ss, 5, sp->body ? sp->body : "", -1, SQLITE_STATIC);
        if (sp->next)
            sqlite3_bind_text(ss, 6, sp->next, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(ss, 6);
        sqlite3_bind_int(ss, 7, sp->score);
        if (sp->question)
            sqlite3_bind_text(ss, 8, sp->question->id, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(ss, 8);
        rc = step_done(w, ss, "lesson_steps");
        sqlite3_clear_bindings(ss);
        for (size_t c = 0; c < sp->n_choices && rc == QK_OK; c++) {
            const qk_lesson_choice_src *ch = &sp->choices[c];
            sqlite3_bind_text(cs, 1, l->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 2, sp->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(cs, 3, (int64_t)c);
            sqlite3_bind_text(cs, 4, ch->text, -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 5, ch->target, -1, SQLITE_STATIC);
            sqlite3_bind_int(cs, 6, ch->delta);
            if (ch->has_min)
                sqlite3_bind_int(cs, 7, ch->min_score);
            else
                sqlite3_bind_null(cs, 7);
            if (ch->has_max)
                sqlite3_bind_int(cs, 8, ch->max_score);
            else
                sqlite3_bind_null(cs, 8);
            rc = step_done(w, cs, "lesson_choices");
            sqlite3_clear_bindings(cs);
        }
    }
    sqlite3_finalize(ss);
    sqlite3_finalize(cs);
    return rc;
}

int qk_bundle_writer_sign(qk_bundle_writer *w, const qk_key *key)
{
    if (!qk_key_can_sign(key))
        return qk__errf(&w->err, w->lang, QK_EINVAL, QK_M_SIG_FAIL, qk_key_id(key));
    w->key = key;
    return QK_OK;
}

static int sign_manifest(qk_bundle_writer *w)
{
    unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t sig_len = 0;
    const char *sqlerr = NULL;
    if (qk__manifest_hash(w->db, hash, &sqlerr) != QK_OK)
        return qk__errf(&w->err, w->lang, QK_EIO, QK_M_SQL, "manifest", sqlerr ? sqlerr : "?");
    qk_rng *rng = NULL;
    int rc = qk_rng_new_random(&rng);
    if (rc == QK_OK) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
        rc = mbedtls_pk_sign(qk__key_pk(w->key), MBEDTLS_MD_SHA256, hash, 0, sig, sizeof sig,
                             &sig_len, qk__rng_fn, rng);
#else
        rc = mbedtls_pk_sign(qk__key_pk(w->key), MBEDTLS_MD_SHA256, hash, 0, sig, &sig_len,
                             qk__rng_fn, rng);
#endif
        rc = rc == 0 ? QK_OK : QK_EIO;
    }
    qk_rng_free(rng);
    if (rc != QK_OK)
        return qk__errf(&w->err, w->lang, rc, QK_M_SIG_FAIL, qk_key_id(w->key));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "INSERT INTO signature(key_id, algorithm, value) VALUES (?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(w, "signature");
    sqlite3_bind_text(st, 1, qk_key_id(w->key), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, QK__SIG_ALG, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, sig, (int)sig_len, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? QK_OK : sqlfail(w, "signature");
}

int qk_bundle_writer_commit(qk_bundle_writer *w)
{
    if (!w->have_manifest || w->committed)
        return qk__errf(&w->err, w->lang, QK_ESTATE, QK_M_W_STATE, "commit");
    int rc = check_competitions(w);
    /* The questions numbered theme by theme (in the themes' order), each
     * theme's in the order they came, the lessons' checkpoint questions
     * after all of them: a theme's quiz questions then have consecutive
     * sorts, and a draw finds the one at position p by its sort, the
     * theme's first plus p, with one lookup (bundle.c's theme_walk) instead
     * of stepping over the p before it. Before the digests, which it
     * changes. */
    if (rc == QK_OK)
        rc = exec(w, "CREATE TEMP TABLE q_sort(id TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
                     "INSERT INTO temp.q_sort SELECT q.id, row_number() OVER (ORDER BY"
                     " q.id IN (SELECT question_id FROM lesson_steps WHERE question_id IS NOT NULL),"
                     " t.sort, t.id, q.sort, q.id) - 1"
                     " FROM questions q JOIN themes t ON t.id = q.theme;"
                     "UPDATE questions SET sort = (SELECT n FROM temp.q_sort s WHERE s.id = questions.id);"
                     "DROP TABLE temp.q_sort;");
    if (rc == QK_OK)
        rc = put_manifest(w, "publisher_key_id", w->key ? qk_key_id(w->key) : "");
    if (rc != QK_OK)
        return rc;
    qk__digests d;
    const char *sqlerr = NULL;
    if (qk__bundle_digests(w->db, &d, &sqlerr) != QK_OK)
        return qk__errf(&w->err, w->lang, QK_EIO, QK_M_SQL, "digest", sqlerr ? sqlerr : "?");
    for (int s = 0; s < QK__SEC_COUNT && rc == QK_OK; s++) {
        char key[32];
        snprintf(key, sizeof key, "digest.%s", qk__section_names[s]);
        rc = put_manifest(w, key, d.section[s]);
    }
    if (rc == QK_OK)
        rc = put_manifest(w, "content_digest", d.total);
    if (rc == QK_OK && w->key)
        rc = sign_manifest(w);
    if (rc != QK_OK || (rc = exec(w, "COMMIT")) != QK_OK)
        return rc;
    if (sqlite3_close(w->db) != SQLITE_OK)
        return sqlfail(w, "close");
    w->db = NULL;
    /* mkstemp made it private; a bundle is for distribution (umask applies). */
    mode_t mask = umask(0);
    umask(mask);
    chmod(w->tmp, 0666 & ~mask);
    if (rename(w->tmp, w->path) != 0)
        return qk__errf(&w->err, w->lang, QK_EIO, QK_M_W_RENAME, w->path, strerror(errno));
    w->committed = 1;
    return QK_OK;
}

void qk_bundle_writer_free(qk_bundle_writer *w)
{
    if (!w)
        return;
    sqlite3_close(w->db);
    if (!w->committed && w->tmp)
        unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    free(w);
}
