/* json_source.c: the native JSON source format (bundle.json + question files)
 * and the build that turns a source folder into a bundle. The format is
 * documented in docs/authoring.md and docs/source.schema.json. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "import.h"

typedef qk__cmsg cmsg;
typedef qk__src ctx;

static const char *msg(const ctx *c, cmsg id)
{
    return qk__cmsg_text(c->lang, id);
}

#define diagf(c, level, line, ...) qk__diag(c, level, line, 0, __VA_ARGS__)
#define qdiag qk__qdiag

/* jansson does not keep positions of values, so a question's line is the line
 * of its quoted id in the text: ids are unique, so this finds the right one. */
static int line_of_string(const ctx *c, const char *s)
{
    size_t n = strlen(s);
    if (!c->text || n == 0 || n + 2 > c->len)
        return 0;
    for (size_t i = 0; i + n + 2 <= c->len; i++) {
        if (c->text[i] == '"' && memcmp(c->text + i + 1, s, n) == 0 && c->text[i + n + 1] == '"') {
            int line = 1;
            for (size_t k = 0; k < i; k++)
                line += c->text[k] == '\n';
            return line;
        }
    }
    return 0;
}

/* Optional string field; reports a type error. *ok cleared on error. */
static const char *opt_string(ctx *c, json_t *obj, const char *key, int line, const char *qid, int *ok)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_FIELD_TYPE, key, msg(c, QK_C_T_STRING));
        *ok = 0;
        return NULL;
    }
    return json_string_value(v);
}

static const char *const known_fields[] = {"id",     "type",   "stem",       "options",
                                           "answer", "explanation", "source", "tags",
                                           "points", "difficulty",  "shuffle", "scoring",
                                           "theme"};

static int parse_blank(json_t *v, qk_blank *b)
{
    if (json_is_string(v)) {
        b->accepted = calloc(1, sizeof *b->accepted);
        if (!b->accepted || !(b->accepted[0] = qk__dup(json_string_value(v))))
            return 0;
        b->n_accepted = 1;
        return 1;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return 0;
    size_t n = json_array_size(v);
    b->accepted = calloc(n, sizeof *b->accepted);
    if (!b->accepted)
        return 0;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || !(b->accepted[i] = qk__dup(json_string_value(s))))
            return 0;
        b->n_accepted = i + 1;
    }
    return 1;
}

/* Fills q's answer key from the "answer" field. Returns 0 after reporting. */
static int parse_answer(ctx *c, json_t *ans, qk_question *q, int line)
{
    if (!ans) {
        qdiag(c, QK_DIAG_ERROR, line, q->id, QK_C_FIELD_MISSING, "answer");
        return 0;
    }
    if (q->type == QK_Q_FILL) {
        json_t *arr = ans;
        json_t *wrap = NULL;
        if (json_is_string(ans)) { /* one blank with one accepted answer */
            wrap = json_array();
            json_array_append(wrap, ans);
            arr = wrap;
        }
        size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
        int ok = n > 0 && n <= QK_MAX_BLANKS;
        if (ok) {
            q->blanks = calloc(n, sizeof *q->blanks);
            ok = q->blanks != NULL;
        }
        for (size_t i = 0; ok && i < n; i++) {
            q->n_blanks = i + 1;
            ok = parse_blank(json_array_get(arr, i), &q->blanks[i]);
        }
        json_decref(wrap);
        if (!ok)
            qdiag(c, QK_DIAG_ERROR, line, q->id, QK_C_Q_FILL_ANSWER);
        return ok;
    }
    const char *text = NULL;
    if (json_is_string(ans))
        text = json_string_value(ans);
    else if (json_is_boolean(ans) && q->type == QK_Q_JUDGE)
        text = json_is_true(ans) ? "T" : "F";
    if (!text) {
        qdiag(c, QK_DIAG_ERROR, line, q->id, QK_C_FIELD_TYPE, "answer",
              msg(c, q->type == QK_Q_JUDGE ? QK_C_T_BOOL : QK_C_T_STRING));
        return 0;
    }
    return qk__choice_key(c, q, text, line);
}

static int int_field(ctx *c, json_t *o, const char *key, int def, int line, const char *qid, int *ok)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return def;
    if (!json_is_integer(v) || json_integer_value(v) < -1000000 || json_integer_value(v) > 1000000) {
        qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_FIELD_TYPE, key, msg(c, QK_C_T_INT));
        *ok = 0;
        return def;
    }
    return (int)json_integer_value(v);
}

/* Builds one question from its JSON object; NULL after reporting a problem. */
static qk_question *parse_question(ctx *c, json_t *o, size_t index, const char *default_theme,
                                   int *line_out)
{
    json_t *idv = json_object_get(o, "id");
    if (!json_is_string(idv) || !json_string_value(idv)[0]) {
        diagf(c, QK_DIAG_ERROR, 0, QK_C_Q_NOID, index + 1);
        return NULL;
    }
    const char *qid = json_string_value(idv);
    int line = line_of_string(c, qid);
    *line_out = line;
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val)
    {
        size_t k = 0;
        while (k < sizeof known_fields / sizeof known_fields[0] && strcmp(key, known_fields[k]) != 0)
            k++;
        if (k == sizeof known_fields / sizeof known_fields[0])
            qdiag(c, QK_DIAG_WARNING, line, qid, QK_C_UNKNOWN_FIELD, key);
    }
    qk_question *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    int ok = 1;
    q->id = qk__dup(qid);
    const char *type = opt_string(c, o, "type", line, qid, &ok);
    q->type = qk__type_from_name(type);
    if (ok && !type) {
        qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_FIELD_MISSING, "type");
        ok = 0;
    } else if (ok && !q->type) {
        qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_Q_TYPE, type);
        ok = 0;
    }
    const char *stem = opt_string(c, o, "stem", line, qid, &ok);
    if (ok && !stem) {
        qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_FIELD_MISSING, "stem");
        ok = 0;
    }
    q->stem = qk__dup(stem);
    q->explanation = qk__dup(opt_string(c, o, "explanation", line, qid, &ok));
    q->source = qk__dup(opt_string(c, o, "source", line, qid, &ok));
    const char *theme = opt_string(c, o, "theme", line, qid, &ok);
    q->theme = qk__dup(theme ? theme : default_theme ? default_theme : "");
    q->points = int_field(c, o, "points", 1, line, qid, &ok);
    q->difficulty = int_field(c, o, "difficulty", 0, line, qid, &ok);
    json_t *sh = json_object_get(o, "shuffle");
    q->shuffle = 1;
    if (sh && !json_is_boolean(sh)) {
        qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_FIELD_TYPE, "shuffle", msg(c, QK_C_T_BOOL));
        ok = 0;
    } else if (sh) {
        q->shuffle = json_is_true(sh);
    }
    const char *scoring = opt_string(c, o, "scoring", line, qid, &ok);
    if (scoring && strcmp(scoring, "partial") == 0) {
        q->scoring = QK_SCORE_PARTIAL;
    } else if (scoring && strcmp(scoring, "all") != 0) {
        qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_Q_SCORING);
        ok = 0;
    }
    json_t *opts = json_object_get(o, "options");
    if (opts && !json_is_array(opts)) {
        qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_FIELD_TYPE, "options", msg(c, QK_C_T_ARRAY));
        ok = 0;
    } else if (opts) {
        size_t n = json_array_size(opts);
        q->options = calloc(n ? n : 1, sizeof *q->options);
        if (!q->options)
            ok = 0;
        for (size_t i = 0; ok && i < n; i++) {
            json_t *s = json_array_get(opts, i);
            if (!json_is_string(s)) {
                qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_FIELD_TYPE, "options", msg(c, QK_C_T_STRING));
                ok = 0;
                break;
            }
            q->options[i].text = qk__dup(json_string_value(s));
            q->n_options = i + 1;
        }
    }
    json_t *tags = json_object_get(o, "tags");
    if (tags && json_is_array(tags) && json_array_size(tags) > 0) {
        size_t n = json_array_size(tags);
        q->tags = calloc(n, sizeof *q->tags);
        for (size_t i = 0; q->tags && i < n; i++) {
            json_t *s = json_array_get(tags, i);
            if (!json_is_string(s))
                break;
            q->tags[i] = qk__dup(json_string_value(s));
            q->n_tags = i + 1;
        }
    } else if (tags && !json_is_array(tags)) {
        qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_FIELD_TYPE, "tags", msg(c, QK_C_T_ARRAY));
        ok = 0;
    }
    if (ok && (q->type == QK_Q_SINGLE || q->type == QK_Q_MULTI) && q->n_options < 2) {
        char why[256];
        if (qk_question_check(q, c->lang, why, sizeof why) != QK_OK) {
            qdiag(c, QK_DIAG_ERROR, line, qid, QK_C_BUILD, why);
            ok = 0;
        }
    }
    if (ok)
        ok = parse_answer(c, json_object_get(o, "answer"), q, line);
    if (!ok) {
        qk_question_free(q);
        return NULL;
    }
    return q;
}

void qk__import_json(qk__src *c)
{
    const char *default_theme = c->default_theme;
    json_error_t jerr;
    json_t *root = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        qk__diag(c, QK_DIAG_ERROR, jerr.line > 0 ? jerr.line : 0, jerr.column > 0 ? jerr.column : 0,
                 QK_C_JSON, jerr.text);
        return;
    }
    json_t *questions = NULL;
    if (!json_is_object(root)) {
        diagf(c, QK_DIAG_ERROR, 1, QK_C_NOT_OBJECT);
    } else {
        json_t *th = json_object_get(root, "theme");
        if (th && json_is_string(th))
            default_theme = json_string_value(th);
        questions = json_object_get(root, "questions");
        if (!questions)
            diagf(c, QK_DIAG_ERROR, 1, QK_C_FIELD_MISSING, "questions");
        else if (!json_is_array(questions))
            diagf(c, QK_DIAG_ERROR, line_of_string(c, "questions"), QK_C_FIELD_TYPE, "questions",
                  msg(c, QK_C_T_ARRAY));
    }
    for (size_t i = 0; questions && json_is_array(questions) && i < json_array_size(questions); i++) {
        json_t *o = json_array_get(questions, i);
        if (!json_is_object(o)) {
            diagf(c, QK_DIAG_ERROR, 0, QK_C_Q_NOID, i + 1);
            continue;
        }
        int line = 0;
        qk_question *q = parse_question(c, o, i, default_theme, &line);
        if (q)
            qk__emit(c, q, line);
    }
    json_decref(root);
}
