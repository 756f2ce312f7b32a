/* csv_source.c: question banks kept in WPS/Excel, saved as CSV.
 *
 * One row a question; the header row names the columns in Chinese or English
 * in any order (see docs/authoring.md). Fields follow RFC 4180: quoted fields
 * may hold commas, doubled quotes and line breaks; CRLF and LF both end rows;
 * blank rows are skipped. Decoding (BOM, GBK) happens before this file sees
 * the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

enum col {
    COL_IGNORE = -2,
    COL_UNKNOWN = -1,
    COL_ID = 0,
    COL_TYPE,
    COL_STEM,
    COL_ANSWER,
    COL_EXPLANATION,
    COL_THEME,
    COL_TAGS,
    COL_POINTS,
    COL_DIFFICULTY,
    COL_SOURCE,
    COL_SCORING,
    COL_OPT_A, /* .. COL_OPT_A + 7 */
    COL_COUNT = COL_OPT_A + QK_MAX_OPTIONS
};

/* Header names, compared after folding (NFKC, case, spaces and punctuation
 * removed), so "选项 A", "选项Ａ" and "Option A" all match. */
static const struct {
    const char *name;
    int col;
} headers[] = {
    {"id", COL_ID}, {"编号", COL_ID}, {"题号", COL_ID}, {"试题编号", COL_ID},
    {"序号", COL_IGNORE}, {"type", COL_TYPE}, {"题型", COL_TYPE}, {"类型", COL_TYPE},
    {"题目类型", COL_TYPE}, {"试题类型", COL_TYPE}, {"questiontype", COL_TYPE},
    {"stem", COL_STEM}, {"题干", COL_STEM}, {"题目", COL_STEM}, {"问题", COL_STEM},
    {"题目内容", COL_STEM}, {"试题内容", COL_STEM}, {"question", COL_STEM},
    {"answer", COL_ANSWER}, {"答案", COL_ANSWER}, {"正确答案", COL_ANSWER},
    {"标准答案", COL_ANSWER}, {"参考答案", COL_ANSWER}, {"explanation", COL_EXPLANATION},
    {"解析", COL_EXPLANATION}, {"答案解析", COL_EXPLANATION}, {"试题解析", COL_EXPLANATION},
    {"analysis", COL_EXPLANATION}, {"feedback", COL_EXPLANATION}, {"theme", COL_THEME},
    {"主题", COL_THEME}, {"分类", COL_THEME}, {"类别", COL_THEME}, {"category", COL_THEME},
    {"tags", COL_TAGS}, {"tag", COL_TAGS}, {"标签", COL_TAGS}, {"知识点", COL_TAGS},
    {"points", COL_POINTS}, {"分值", COL_POINTS}, {"分数", COL_POINTS}, {"score", COL_POINTS},
    {"difficulty", COL_DIFFICULTY}, {"难度", COL_DIFFICULTY}, {"source", COL_SOURCE},
    {"出处", COL_SOURCE}, {"来源", COL_SOURCE}, {"scoring", COL_SCORING},
    {"计分方式", COL_SCORING}, {"计分", COL_SCORING},
};

static int column_of(const char *name)
{
    char *f = NULL;
    if (qk_text_fold(&f, name, strlen(name)) != QK_OK)
        return COL_UNKNOWN;
    int col = COL_UNKNOWN;
    if (!f[0]) {
        col = COL_IGNORE; /* an unnamed column (often a trailing comma) */
    } else {
        for (size_t i = 0; i < sizeof headers / sizeof headers[0] && col == COL_UNKNOWN; i++) {
            if (strcmp(f, headers[i].name) == 0)
                col = headers[i].col;
        }
        /* Options: "A", "选项A", "optionA" ... up to H. */
        const char *rest = NULL;
        if (strncmp(f, "选项", strlen("选项")) == 0)
            rest = f + strlen("选项");
        else if (strncmp(f, "option", 6) == 0)
            rest = f + 6;
        else if (strlen(f) == 1)
            rest = f;
        if (col == COL_UNKNOWN && rest && rest[0] >= 'a' && rest[0] < 'a' + QK_MAX_OPTIONS &&
            rest[1] == '\0')
            col = COL_OPT_A + (rest[0] - 'a');
    }
    free(f);
    return col;
}

typedef qk_csv_row row;

static const char *field(const row *r, const int *map, size_t ncols, int col)
{
    for (size_t i = 0; i < ncols && i < r->n; i++) {
        if (map[i] == col)
            return r->fields[i];
    }
    return NULL;
}

static int parse_int(const char *s, int *out)
{
    char *norm = NULL;
    if (qk_text_nfkc(&norm, s, strlen(s)) != QK_OK)
        return 0;
    const char *p = norm;
    while (*p == ' ')
        p++;
    long v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && v < 1000000) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    while (*p == ' ')
        p++;
    int ok = digits > 0 && *p == '\0';
    free(norm);
    if (ok)
        *out = (int)v;
    return ok;
}

static int difficulty_of(const char *s, int *out)
{
    static const struct {
        const char *name;
        int v;
    } words[] = {{"易", 1}, {"简单", 1}, {"容易", 1}, {"较易", 2}, {"中", 3}, {"中等", 3},
                 {"一般", 3}, {"较难", 4}, {"难", 5}, {"困难", 5}};
    if (parse_int(s, out))
        return 1;
    char *f = NULL;
    if (qk_text_fold(&f, s, strlen(s)) != QK_OK)
        return 0;
    int ok = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0] && !ok; i++) {
        if (strcmp(f, words[i].name) == 0) {
            *out = words[i].v;
            ok = 1;
        }
    }
    free(f);
    return ok;
}

/* Tags from "党章、党史 学习"; sets *oom when memory ran out. */
static char **split_tags(const char *s, size_t *n, int *oom)
{
    char *norm = NULL;
    *n = 0;
    if (qk_text_nfkc(&norm, s, strlen(s)) != QK_OK) {
        *oom = 1;
        return NULL;
    }
    char **v = NULL;
    const char *p = norm;
    while (*p) {
        size_t len = 0;
        while (p[len] && !strchr(",;| \t", p[len]) && strncmp(p + len, "、", strlen("、")) != 0)
            len++;
        if (len > 0) {
            char **nv = realloc(v, (*n + 1) * sizeof *nv);
            if (!nv) {
                *oom = 1;
                break;
            }
            v = nv;
            if (!(v[*n] = qk__dupn(p, len))) {
                *oom = 1;
                break;
            }
            (*n)++;
        }
        p += len;
        if (strncmp(p, "、", strlen("、")) == 0)
            p += strlen("、");
        else if (*p)
            p++;
    }
    free(norm);
    return v;
}

static void import_row(qk__src *s, const row *r, const int *map, size_t ncols)
{
    int line = r->line;
    const char *stem = field(r, map, ncols, COL_STEM);
    const char *type = field(r, map, ncols, COL_TYPE);
    const char *id = field(r, map, ncols, COL_ID);
    char *made = NULL;
    qk__label(s, id && *id ? NULL : stem && *stem ? stem : NULL);
    if (!id || !*id) {
        /* No id column: derive one from the stem, so that editing options,
         * answers or explanations keeps the id (and members' progress). */
        made = qk__made_id(s, "q-", stem ? stem : "");
        id = made;
    }
    qk_question *q = calloc(1, sizeof *q);
    if (!q || !id) {
        free(q);
        free(made);
        qk__oom(s, line);
        qk__label(s, NULL);
        return;
    }
    q->id = qk__dup(id);
    q->type = qk__type_from_name(type);
    q->stem = qk__dup(stem ? stem : "");
    int oom = !q->id || !q->stem;
    q->points = 1;
    q->shuffle = 1;
    const char *v;
    int ok = 1;
    if (!q->type) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_Q_TYPE, type ? type : "");
        ok = 0;
    }
    if ((v = field(r, map, ncols, COL_EXPLANATION)) && *v)
        oom |= !(q->explanation = qk__dup(v));
    if ((v = field(r, map, ncols, COL_SOURCE)) && *v)
        oom |= !(q->source = qk__dup(v));
    v = field(r, map, ncols, COL_THEME);
    oom |= !(q->theme = qk__dup(v && *v ? v : s->default_theme ? s->default_theme : ""));
    if ((v = field(r, map, ncols, COL_POINTS)) && *v && !parse_int(v, &q->points)) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_POINTS, "分值/points", v);
        ok = 0;
    }
    if ((v = field(r, map, ncols, COL_DIFFICULTY)) && *v && !difficulty_of(v, &q->difficulty)) {
        qk__qdiag(s, QK_DIAG_ERROR, line, q->id, QK_C_POINTS, "难度/difficulty", v);
        ok = 0;
    }
    if ((v = field(r, map, ncols, COL_SCORING)) && *v) {
        char *f = NULL;
        int rc = qk_text_fold(&f, v, strlen(v));
        oom |= rc == QK_ENOMEM;
        if (rc == QK_OK &&
            (strcmp(f, "partial") == 0 || strcmp(f, "部分") == 0 || strcmp(f, "部分得分") == 0))
            q->scoring = QK_SCORE_PARTIAL;
        free(f);
    }
    if ((v = field(r, map, ncols, COL_TAGS)) && *v)
        q->tags = split_tags(v, &q->n_tags, &oom);
    if (q->type == QK_Q_SINGLE || q->type == QK_Q_MULTI) {
        /* Options are the non-empty option cells, A.. in order; a gap (A, B, D)
         * is kept as written so that answer letters mean what the author saw. */
        size_t last = 0;
        for (int o = 0; o < QK_MAX_OPTIONS; o++) {
            v = field(r, map, ncols, COL_OPT_A + o);
            if (v && *v)
                last = (size_t)o + 1;
        }
        q->options = calloc(last ? last : 1, sizeof *q->options);
        oom |= !q->options;
        for (size_t o = 0; q->options && o < last; o++) {
            v = field(r, map, ncols, COL_OPT_A + (int)o);
            oom |= !(q->options[o].text = qk__dup(v ? v : ""));
            q->n_options = o + 1;
        }
    }
    const char *answer = field(r, map, ncols, COL_ANSWER);
    if (oom) {
        qk__oom(s, line);
        ok = 0;
    }
    if (ok)
        qk__finish(s, q, answer, line);
    else
        qk_question_free(q);
    free(made);
    qk__label(s, NULL);
}

int qk__header_row(const qk_csv_row *r)
{
    int named = 0;
    for (size_t i = 0; i < r->n; i++) {
        int col = column_of(r->fields[i]);
        named += col == COL_TYPE || col == COL_STEM || col == COL_ANSWER;
    }
    return named >= 2;
}

/* A header row names the columns; a row that names none of the three that
 * must be there, with one cell filled in, is a title above it ("2026年学雷锋
 * 知识竞赛题库", often merged across the columns) and is passed over. */
static int title_row(const row *r, const int *have)
{
    size_t filled = 0;
    for (size_t i = 0; i < r->n; i++)
        filled += r->fields[i][0] != '\0';
    return filled == 1 && !have[COL_TYPE] && !have[COL_STEM] && !have[COL_ANSWER];
}

/* The row under a header whose options sit under one merged "选项" cell:
 * the letters A, B, C ... in its cells and nothing under 题型 or 题干. */
static int letters_row(const row *r, const int *map, size_t ncols)
{
    size_t letters = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (!r->fields[i][0])
            continue;
        int col = column_of(r->fields[i]);
        if (col < COL_OPT_A || (i < ncols && map[i] != COL_UNKNOWN && map[i] != COL_IGNORE))
            return 0;
        letters++;
    }
    return letters >= 2;
}

/* The columns of a header row; have[col] is 1 + the index of the column that
 * names col. With warn, unknown columns are warned about and a column named
 * twice (two 答案, say) is an error: which one holds the key is anyone's guess. */
static int *map_header(qk__src *s, const row *r, int *have, int warn)
{
    int *map = calloc(r->n ? r->n : 1, sizeof *map);
    memset(have, 0, COL_COUNT * sizeof *have);
    for (size_t i = 0; map && i < r->n; i++) {
        map[i] = column_of(r->fields[i]);
        if (map[i] >= 0 && have[map[i]] && warn)
            qk__diag(s, QK_DIAG_ERROR, r->line, (int)i + 1, QK_C_CSV_DUP_COL, have[map[i]],
                     r->fields[have[map[i]] - 1], (int)i + 1, r->fields[i]);
        else if (map[i] >= 0 && !have[map[i]])
            have[map[i]] = (int)i + 1;
        else if (map[i] == COL_UNKNOWN && warn)
            qk__diag(s, QK_DIAG_WARNING, r->line, (int)i + 1, QK_C_CSV_EXTRA_COL, r->fields[i]);
    }
    return map;
}

int qk__row_set(qk_csv_row *r, size_t col, const char *text)
{
    while (r->n <= col) {
        if (r->n == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 16;
            char **nv = realloc(r->fields, cap * sizeof *nv);
            if (!nv)
                return -1;
            r->fields = nv;
            r->cap = cap;
        }
        if (!(r->fields[r->n] = qk__dup("")))
            return -1;
        r->n++;
    }
    char *t = qk__dup(text);
    if (!t)
        return -1;
    free(r->fields[col]);
    r->fields[col] = t;
    return 0;
}

void qk__import_rows(qk__src *s, qk__next_row next, void *rd)
{
    row r = {NULL, 0, 0, 0}, head = {NULL, 0, 0, 0};
    int have[COL_COUNT] = {0};
    int got;
    /* The header is the first non-blank row, or the one after a title. */
    while ((got = next(rd, &r)) == 1 && qk_csv_blank(&r))
        ;
    int *map = got == 1 ? map_header(s, &r, have, 0) : NULL;
    if (map && title_row(&r, have)) {
        while ((got = next(rd, &r)) == 1 && qk_csv_blank(&r))
            ;
    }
    free(map);
    map = NULL;
    if (got != 1) {
        if (got == 0)
            qk__diag(s, QK_DIAG_ERROR, 1, 0, QK_C_CSV_NO_HEADER);
        qk_csv_row_free(&r);
        return;
    }
    int ok = 1;
    for (size_t i = 0; ok && i < r.n; i++)
        ok = qk__row_set(&head, i, r.fields[i]) == 0;
    head.line = r.line;
    map = ok ? map_header(s, &head, have, 0) : NULL;
    if (!map)
        qk__oom(s, head.line);
    got = map ? next(rd, &r) : -1;
    if (got == 1 && letters_row(&r, map, head.n)) {
        /* Options under one merged 选项 cell: the letters name the columns. */
        for (size_t i = 0; ok && i < r.n; i++)
            if (r.fields[i][0])
                ok = qk__row_set(&head, i, r.fields[i]) == 0;
        if (!ok)
            qk__oom(s, r.line);
        got = ok ? next(rd, &r) : -1;
    }
    free(map);
    size_t errors_before = s->errors;
    map = ok ? map_header(s, &head, have, 1) : NULL;
    if (ok && !map)
        qk__oom(s, head.line);
    int named_twice = s->errors > errors_before;
    const char *missing = !have[COL_TYPE] ? "题型/type" : !have[COL_STEM] ? "题干/stem"
                          : !have[COL_ANSWER]                        ? "答案/answer"
                                                                     : NULL;
    if (map && missing) {
        qk__diag(s, QK_DIAG_ERROR, head.line, 0, QK_C_CSV_MISSING_COL, missing);
    } else if (map && !named_twice) { /* else the rows would be read by a guess */
        while (got == 1) {
            if (!qk_csv_blank(&r))
                import_row(s, &r, map, head.n);
            got = next(rd, &r);
        }
    }
    free(map);
    qk_csv_row_free(&head);
    qk_csv_row_free(&r);
}

typedef struct csv_reader {
    qk_csv rd;
    qk__src *s;
} csv_reader;

static int next_csv(void *payload, row *r)
{
    csv_reader *c = payload;
    int got = qk_csv_next(&c->rd, r);
    if (got < 0)
        qk__diag(c->s, QK_DIAG_ERROR, r->line, 0, QK_C_CSV_QUOTE);
    return got;
}

void qk__import_csv(qk__src *s)
{
    csv_reader c = {.s = s};
    qk_csv_init(&c.rd, s->text, s->len);
    qk__import_rows(s, next_csv, &c);
}
