/* stats_rollup.c: the events' share of the statistics' roll-ups in one pass.
 *
 * Each roll-up used to be an INSERT ... SELECT ... GROUP BY over the new
 * events: seven passes, each parsing payloads again and sorting its groups
 * in SQLite's sorter: from nothing on a 5M-event file, 68 s (81 s in
 * another run of this machine). Here the events are
 * read once, in rowid order, the members of each payload its kind needs
 * read by json_fields.c (json_extract built a tree per call: half the pass;
 * what that reader declines, json_extract reads), and summed in C hash maps
 * keyed by the roll-ups' primary keys; the sums are then written in key
 * order with upserts, so a build from nothing and a day's refresh are one
 * code path (docs/performance.md has the figures).
 *
 * The day an event counts on is DESIGN.md decision 10's: an award's own
 * day, else the day its attempt began, else its own. An attempt's start is
 * remembered when the pass meets it, and looked up through events_attempt
 * for an event whose start came in an earlier refresh (or later in the
 * file). An attempt with two starts (only from a broken or forged device)
 * counts on the day of one of them: the first the pass meets, or the one
 * the index gives first when it looks (the SQL it replaced always took the
 * index's).
 *
 * Memory: the sums are written out and emptied when the maps hold 256k
 * rows between them (about 45 MB at the peak), and the attempts' starts
 * forgotten past 64k (a few MB; an attempt's events lie close together, so
 * few are looked up again), so a store of any size builds in bounded
 * memory; writing out early only splits a sum into two upserts. */
#include "stats_rollup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "quizkit/calendar.h"
#include "quizkit/engine.h"

#include "amap.h"
#include "json_fields.h"

typedef qk__cell cell;
typedef qk__amap amap;

#define FLUSH_ROWS (1u << 18) /* rows held in all maps before they are written */
#define STARTS_MAX (1u << 16) /* attempts' starts remembered before forgetting */

/* ---- keys: a day (or month) then NUL-terminated texts -------------------- */

typedef struct keybuf {
    unsigned char *b;
    size_t n, cap;
    int oom;
} keybuf;

static void kb_put(keybuf *k, const void *p, size_t n)
{
    unsigned char *nb = qk__grown(k->b, &k->cap, k->n + n, 256);
    if (!nb) {
        k->oom = 1;
        return;
    }
    k->b = nb;
    memcpy(k->b + k->n, p, n);
    k->n += n;
}

/* A text is cut at its first NUL, as binding it back as text would. */
static void kb_text(keybuf *k, const char *s)
{
    kb_put(k, s ? s : "", strlen(s ? s : "") + 1);
}

/* Whom an event counts for: its member, or its device as 'guest:DEVICE'
 * (counted in anonymous totals only). */
static void kb_who(keybuf *k, const char *member, const char *device)
{
    if (!member)
        kb_put(k, "guest:", 6);
    kb_text(k, member ? member : device);
}

static void kb_start(keybuf *k, int64_t day)
{
    k->n = 0;
    kb_put(k, &day, sizeof day);
}

/* Walks a key back: its number, then its texts in order. */
typedef struct keyrd {
    const unsigned char *p, *end;
} keyrd;

static int64_t kr_start(keyrd *r, const unsigned char *k, uint32_t len)
{
    int64_t day;
    memcpy(&day, k, sizeof day);
    r->p = k + sizeof day;
    r->end = k + len;
    return day;
}

static const char *kr_text(keyrd *r)
{
    const char *s = (const char *)r->p;
    r->p += strlen(s) + 1;
    return s;
}

/* ---- rows in key order ---------------------------------------------------- */

/* The flush writes each map's rows in its table's key order. Written in
 * the order they came, a table's B-tree pages were split half full and
 * scattered, and every later query read 1.7x the pages (participation on
 * 1M events: 19.6 -> 33.5 ms). A key's texts joined by their NULs compare
 * byte by byte as the tuple of texts does under SQLite's BINARY collation
 * (NUL is the least byte and no text holds one), so a row sorts by its
 * number, then the first 8 bytes of its texts as an integer, then the
 * rest with memcmp, which the first two rarely leave to it. */
typedef struct ordered {
    uint64_t day, head;
    const unsigned char *text; /* the texts, NUL-joined */
    size_t len;
    size_t off; /* the record */
} ordered;

static int by_key(const void *a, const void *b)
{
    const ordered *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->head != y->head)
        return x->head < y->head ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n > 8 ? memcmp(x->text + 8, y->text + 8, n - 8) : 0;
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* The map's rows in key order; NULL out of memory. */
static ordered *sorted_rows(const amap *m)
{
    ordered *o = malloc((m->n ? m->n : 1) * sizeof *o);
    if (!o)
        return NULL;
    for (size_t i = 0; i < m->n; i++) {
        uint32_t len;
        const unsigned char *k = qk__rec_key(m, m->rec[i], &len);
        int64_t day;
        memcpy(&day, k, sizeof day);
        o[i].day = (uint64_t)day ^ (UINT64_C(1) << 63);
        o[i].text = k + sizeof day;
        o[i].len = len - sizeof day;
        o[i].head = 0;
        for (size_t j = 0; j < 8; j++)
            o[i].head = o[i].head << 8 | (j < o[i].len ? o[i].text[j] : 0);
        o[i].off = m->rec[i];
    }
    qsort(o, m->n, sizeof *o, by_key);
    return o;
}

/* ---- the roll-ups -------------------------------------------------------- */

enum {
    D_ACTS,
    D_ANSWERS,
    D_CORRECT,
    D_LESSONS,
    D_POINTS,
    D_ATTEMPTS,
    D_SCORED,
    D_PCT_SUM,
    D_BEST,
    D_HAS_BEST,
    D_CELLS
};
enum { A_STARTED, A_SCORED, A_PCT_SUM, A_H0, A_CELLS = A_H0 + 4 };
enum { S_HAS, S_MS, S_TEXT, S_CELLS }; /* an attempt's start; S_TEXT: offset in texts + 1 */

typedef struct roll {
    sqlite3 *db;
    const qk__rollup_opts *o;
    amap day, att, ans, month, wrong; /* the five tables */
    amap starts;                      /* attempt id -> its start */
    amap branch;                      /* member id -> branch (server) */
    char *texts;                      /* starts' "mode\0theme\0comp\0", branches' names */
    size_t tlen, tcap;
    keybuf k;
    size_t flush_rows, starts_max;
    char *buf[3]; /* a payload's texts (read_payload) */
    size_t bufn[3];
    sqlite3_stmt *find_start, *payload, *find_branch;
    char *msg;
    size_t msgn;
} roll;

static int oom(roll *r)
{
    snprintf(r->msg, r->msgn, "stats: out of memory");
    return QK_ENOMEM;
}

static int db_err(roll *r)
{
    snprintf(r->msg, r->msgn, "stats: %s", sqlite3_errmsg(r->db));
    return QK_EIO;
}

/* Appends texts (each with its NUL); the offset + 1, or 0 out of memory. */
static int64_t keep_texts(roll *r, const char *const *s, int count)
{
    size_t need = 0;
    for (int i = 0; i < count; i++)
        need += strlen(s[i]) + 1;
    char *nt = qk__grown(r->texts, &r->tcap, r->tlen + need, 4096);
    if (!nt)
        return 0;
    r->texts = nt;
    int64_t off = (int64_t)r->tlen + 1;
    for (int i = 0; i < count; i++) {
        size_t l = strlen(s[i]) + 1;
        memcpy(r->texts + r->tlen, s[i], l);
        r->tlen += l;
    }
    return off;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* Forgets the attempts' starts when starts_max are kept: an attempt's
 * events lie close together, so few are looked up again. The branches'
 * names share their texts and are read again on demand. */
static void room_for_a_start(roll *r)
{
    if (r->starts.n < r->starts_max)
        return;
    qk__amap_clear(&r->starts);
    qk__amap_clear(&r->branch);
    r->tlen = 0;
}

/* The start of an attempt (S_HAS 0 when it has none), looked up in the
 * events when the pass has not met it; NULL on error (msg set). */
static const cell *start_of(roll *r, const char *attempt)
{
    size_t an = strlen(attempt);
    const cell *c = qk__amap_find(&r->starts, (const unsigned char *)attempt, an);
    if (c)
        return c;
    room_for_a_start(r);
    sqlite3_stmt *st = r->find_start;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, attempt, (int)an, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_err(r);
        return NULL;
    }
    cell *s = qk__amap_get(&r->starts, (const unsigned char *)attempt, an);
    if (!s) {
        oom(r);
        return NULL;
    }
    if (rc == SQLITE_ROW) {
        const char *t[3] = {col_text(st, 1), col_text(st, 2), col_text(st, 3)};
        s[S_TEXT].i = keep_texts(r, t, 3);
        if (!s[S_TEXT].i) {
            oom(r);
            return NULL;
        }
        s[S_HAS].i = 1;
        s[S_MS].i = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return s;
}

/* The branch of a member (server), NULL when the roster has no such member. */
static const char *branch_of(roll *r, const char *member, int *err)
{
    size_t mn = strlen(member);
    const cell *c = qk__amap_find(&r->branch, (const unsigned char *)member, mn);
    if (!c) {
        /* Looked up once per member and pass (again after the starts are
         * forgotten: they share texts); a member the roster lacks is
         * remembered as such. */
        sqlite3_stmt *st = r->find_branch;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, member, (int)mn, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        cell *nc = rc == SQLITE_ROW || rc == SQLITE_DONE
                       ? qk__amap_get(&r->branch, (const unsigned char *)member, mn)
                       : NULL;
        if (nc && rc == SQLITE_ROW) {
            const char *t[1] = {col_text(st, 0)};
            nc[0].i = keep_texts(r, t, 1);
            if (!nc[0].i)
                nc = NULL;
        }
        if (!nc)
            *err = rc == SQLITE_ROW || rc == SQLITE_DONE ? oom(r) : db_err(r);
        sqlite3_reset(st);
        c = nc;
    }
    return c && c[0].i ? r->texts + c[0].i - 1 : NULL;
}

/* The cells of a row after its key, from parameter at on. */
typedef void (*bind_cells)(sqlite3_stmt *st, int at, const cell *v, unsigned nv);

static void bind_counts(sqlite3_stmt *st, int at, const cell *v, unsigned nv)
{
    for (unsigned c = 0; c < nv; c++)
        sqlite3_bind_int64(st, at + (int)c, v[c].i);
}

static void bind_day(sqlite3_stmt *st, int at, const cell *v, unsigned nv)
{
    bind_counts(st, at, v, D_PCT_SUM);
    sqlite3_bind_double(st, at + D_PCT_SUM, v[D_PCT_SUM].d);
    if (v[D_HAS_BEST].i)
        sqlite3_bind_double(st, at + D_BEST, v[D_BEST].d);
    else
        sqlite3_bind_null(st, at + D_BEST);
    (void)nv;
}

static void bind_attempts(sqlite3_stmt *st, int at, const cell *v, unsigned nv)
{
    bind_counts(st, at, v, nv);
    sqlite3_bind_double(st, at + A_PCT_SUM, v[A_PCT_SUM].d);
}

/* A roll-up table as the flush writes it: rows of cols parameters (the
 * number, texts texts, then the cells bind binds), many rows a statement. */
typedef struct table {
    const char *insert; /* up to VALUES */
    const char *upsert; /* ON CONFLICT ...: the sums add up */
    int cols, texts;
    bind_cells bind;
} table;

/* Rows a statement: one INSERT of one row costs ~2 us in SQLite's statement
 * start and end alone; 32 rows share them (2.6x faster on 570k rows). */
#define ROWS_A_STATEMENT 32

static int prepare_rows(roll *r, const table *t, int rows, sqlite3_stmt **st)
{
    size_t n = strlen(t->insert) + strlen(t->upsert) + (size_t)rows * ((size_t)t->cols * 2 + 3) + 1;
    char *sql = malloc(n);
    if (!sql)
        return oom(r);
    size_t at = (size_t)snprintf(sql, n, "%s", t->insert);
    for (int i = 0; i < rows; i++) {
        sql[at++] = i ? ',' : ' ';
        sql[at++] = '(';
        for (int c = 0; c < t->cols; c++) {
            sql[at++] = c ? ',' : '?';
            if (c)
                sql[at++] = '?';
        }
        sql[at++] = ')';
    }
    snprintf(sql + at, n - at, "%s", t->upsert);
    int rc = sqlite3_prepare_v2(r->db, sql, -1, st, NULL) == SQLITE_OK ? QK_OK : db_err(r);
    free(sql);
    return rc;
}

/* Writes a map's rows in key order with the table's upsert. */
static int flush_map(roll *r, const amap *m, const table *t)
{
    sqlite3_stmt *full = NULL, *tail = NULL;
    ordered *o = NULL;
    int rc = prepare_rows(r, t, ROWS_A_STATEMENT, &full);
    if (rc == QK_OK && m->n % ROWS_A_STATEMENT)
        rc = prepare_rows(r, t, (int)(m->n % ROWS_A_STATEMENT), &tail);
    if (rc == QK_OK && !(o = sorted_rows(m)))
        rc = oom(r);
    for (size_t i = 0; rc == QK_OK && i < m->n;) {
        sqlite3_stmt *st = m->n - i >= ROWS_A_STATEMENT ? full : tail;
        for (int j = 0; j < ROWS_A_STATEMENT && i < m->n; j++, i++) {
            int base = j * t->cols;
            uint32_t len;
            const unsigned char *key = qk__rec_key(m, o[i].off, &len);
            keyrd kr;
            sqlite3_bind_int64(st, base + 1, kr_start(&kr, key, len));
            for (int c = 0; c < t->texts; c++)
                sqlite3_bind_text(st, base + 2 + c, kr_text(&kr), -1, SQLITE_STATIC);
            t->bind(st, base + 2 + t->texts, qk__rec_cells(m, o[i].off), m->nv);
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_err(r);
        sqlite3_reset(st);
    }
    free(o);
    sqlite3_finalize(full);
    sqlite3_finalize(tail);
    return rc;
}

static const table day_table = {
    "INSERT INTO stat_day(day, member_id, acts, answers, correct, lessons, points, attempts, "
    "scored,"
    " pct_sum, best_pct) VALUES",
    " ON CONFLICT(day, member_id) DO UPDATE SET acts = acts + excluded.acts,"
    " answers = answers + excluded.answers, correct = correct + excluded.correct,"
    " lessons = lessons + excluded.lessons, points = points + excluded.points,"
    " attempts = attempts + excluded.attempts, scored = scored + excluded.scored,"
    " pct_sum = pct_sum + excluded.pct_sum, best_pct = CASE WHEN best_pct IS NULL"
    " OR excluded.best_pct > best_pct THEN excluded.best_pct ELSE best_pct END",
    11, 1, bind_day};
static const table attempts_table = {
    "INSERT INTO stat_attempts(day, member_id, mode, theme, comp, started, scored, pct_sum,"
    " h0, h1, h2, h3) VALUES",
    " ON CONFLICT(day, member_id, mode, theme, comp) DO UPDATE SET"
    " started = started + excluded.started, scored = scored + excluded.scored,"
    " pct_sum = pct_sum + excluded.pct_sum, h0 = h0 + excluded.h0, h1 = h1 + excluded.h1,"
    " h2 = h2 + excluded.h2, h3 = h3 + excluded.h3",
    12, 4, bind_attempts};
static const table answers_table = {
    "INSERT INTO stat_answers(day, q, member_id, n, ok) VALUES",
    " ON CONFLICT(day, q, member_id) DO UPDATE SET n = n + excluded.n, ok = ok + excluded.ok", 5, 2,
    bind_counts};
static const table month_table = {
    "INSERT INTO stat_answers_month(month, q, member_id, n, ok) VALUES",
    " ON CONFLICT(month, q, member_id) DO UPDATE SET n = n + excluded.n, ok = ok + excluded.ok", 5,
    2, bind_counts};
/* keyed as the table is: day, branch, question, response */
static const table wrong_table = {
    "INSERT INTO stat_wrong(day, grp, q, resp, n) VALUES",
    " ON CONFLICT(day, grp, q, resp) DO UPDATE SET n = n + excluded.n", 5, 3, bind_counts};

static int flush(roll *r)
{
    int rc = flush_map(r, &r->day, &day_table);
    if (rc == QK_OK)
        rc = flush_map(r, &r->att, &attempts_table);
    if (rc == QK_OK)
        rc = flush_map(r, &r->ans, &answers_table);
    if (rc == QK_OK)
        rc = flush_map(r, &r->month, &month_table);
    if (rc == QK_OK)
        rc = flush_map(r, &r->wrong, &wrong_table);
    qk__amap_clear(&r->day);
    qk__amap_clear(&r->att);
    qk__amap_clear(&r->ans);
    qk__amap_clear(&r->month);
    qk__amap_clear(&r->wrong);
    return rc;
}

/* The payload's members the pass uses, as json_extract gives them. By the
 * event's kind (columns of payload_sql):
 *   answer            question, right (1/0), response when a member's is wrong
 *   attempt.start     mode, theme, competition
 *   attempt.finish    -, the score's fraction (NULL without a maximum)
 *   points.*          day, amount
 * The pass reads them itself (read_payload); this statement is the
 * definition, and what is asked when the reader declines a payload. */
#define PAYLOAD(f) "json_extract(payload, '$." f "')"
#define RIGHT "coalesce(" PAYLOAD("correct") ", 0)"
/* clang-format off */
static const char payload_sql[] =
    "SELECT CASE kind WHEN 'answer' THEN " PAYLOAD("q")
    " WHEN 'attempt.start' THEN " PAYLOAD("mode")
    " WHEN 'points.award' THEN " PAYLOAD("day")
    " WHEN 'points.correction' THEN " PAYLOAD("day") " END,"
    " CASE kind WHEN 'answer' THEN CASE WHEN " RIGHT " THEN 1 ELSE 0 END"
    " WHEN 'attempt.start' THEN " PAYLOAD("theme")
    " WHEN 'attempt.finish' THEN CASE WHEN " PAYLOAD("max") " > 0 AND " PAYLOAD("score") " >= 0"
    " AND " PAYLOAD("score") " <= " PAYLOAD("max") " THEN 1.0 * " PAYLOAD("score") " / " PAYLOAD("max") " END"
    " WHEN 'points.award' THEN coalesce(" PAYLOAD("amount") ", 0)"
    " WHEN 'points.correction' THEN coalesce(" PAYLOAD("amount") ", 0) END,"
    " CASE WHEN kind = 'answer' AND member_id IS NOT NULL AND NOT " RIGHT
    " THEN " PAYLOAD("response")
    " WHEN kind = 'attempt.start' THEN " PAYLOAD("competition") " END"
    " FROM (SELECT ?1 AS kind, ?2 AS member_id, ?3 AS payload)";

/* The pass: the events of rowid ?1..?2. NOT INDEXED: read as a range of
 * rowids. Given the choice, SQLite's planner took events_member_kind
 * (member, kind, time) with a skip-scan, which read every answer ever
 * stored to find one day's (a day's refresh on 5M events took 2.7 s).
 * Times outside the protocol's range (QK_EVENT_TIME_MAX_MS) are left out,
 * so that a row a store took before the range was checked cannot stop the
 * statistics. */
static const char pass_sql[] =
    "SELECT kind, member_id, device_id, attempt_id, created_ms, payload"
    " FROM events NOT INDEXED WHERE rowid > ?1 AND rowid <= ?2"
    " AND created_ms BETWEEN 0 AND " QK_SQL_EVENT_TIME_MAX;

static const char find_start_sql[] =
    "SELECT created_ms, " PAYLOAD("mode") ", " PAYLOAD("theme") ", " PAYLOAD("competition")
    " FROM events WHERE attempt_id = ?1 AND kind = 'attempt.start' LIMIT 1";
/* clang-format on */

enum { K_OTHER, K_ANSWER, K_START, K_FINISH, K_POINTS };

/* A member of the payload as payload_sql gives it: its type (SQLITE_NULL,
 * _INTEGER, _FLOAT, _TEXT), the number, and the text (NULL for a NULL). */
typedef struct val {
    int type;
    int64_t i;
    double d;
    const char *t;
} val;

/* Copies n bytes of a string member into buffer k, unescaped when it has
 * escapes, as v; -1 when the reader should decline. */
static int take_text(roll *r, int k, const qk_jf *f, val *v)
{
    v->type = SQLITE_NULL;
    v->t = NULL;
    if (f->type == QK_JF_ABSENT || f->type == QK_JF_NULL)
        return 0;
    if (f->type != QK_JF_STRING)
        return -1; /* a number or a literal as text: json_extract's spelling */
    if (f->n + 1 > r->bufn[k]) {
        char *nb = realloc(r->buf[k], f->n + 1);
        if (!nb)
            return -1;
        r->buf[k] = nb;
        r->bufn[k] = f->n + 1;
    }
    if (f->escaped) {
        if (qk__json_unescape(f->p, f->n, r->buf[k]))
            return -1;
    } else {
        memcpy(r->buf[k], f->p, f->n);
        r->buf[k][f->n] = '\0';
        if (memchr(f->p, '\0', f->n))
            return -1;
    }
    v->type = SQLITE_TEXT;
    v->t = r->buf[k];
    return 0;
}

/* A JSON number member as a double (-1 when it is not a number). */
static int take_number(const qk_jf *f, double *d)
{
    char num[64];
    if (f->type != QK_JF_NUMBER || f->n >= sizeof num)
        return -1;
    memcpy(num, f->p, f->n);
    num[f->n] = '\0';
    *d = strtod(num, NULL);
    return 0;
}

/* The payload's members for the pass, read without json_extract; -1 when
 * anything is not plain (then payload_sql decides). */
static int read_payload(roll *r, int kind, int member, const char *pl, size_t n, val v[3])
{
    static const char *const names[][3] = {{NULL, NULL, NULL},
                                           {"q", "correct", "response"},
                                           {"mode", "theme", "competition"},
                                           {"score", "max", NULL},
                                           {"day", "amount", NULL}};
    qk_jf f[3];
    int nf = 0;
    for (; nf < 3 && names[kind][nf]; nf++)
        f[nf].name = names[kind][nf];
    if (qk__json_fields(pl, n, f, nf))
        return -1;
    for (int i = 0; i < 3; i++)
        v[i] = (val){SQLITE_NULL, 0, 0, NULL};
    switch (kind) {
    case K_ANSWER: {
        int right = f[1].type == QK_JF_TRUE;
        if (f[1].type != QK_JF_TRUE && f[1].type != QK_JF_FALSE && f[1].type != QK_JF_NULL &&
            f[1].type != QK_JF_ABSENT)
            return -1;
        v[1].type = SQLITE_INTEGER;
        v[1].i = right;
        return take_text(r, 0, &f[0], &v[0]) ||
               (member && !right ? take_text(r, 2, &f[2], &v[2]) : 0);
    }
    case K_START:
        return take_text(r, 0, &f[0], &v[0]) || take_text(r, 1, &f[1], &v[1]) ||
               take_text(r, 2, &f[2], &v[2]);
    case K_FINISH: {
        double score, max;
        if (f[1].type == QK_JF_ABSENT || f[1].type == QK_JF_NULL)
            return 0; /* no maximum: no fraction */
        if (take_number(&f[1], &max))
            return -1;
        if (!(max > 0))
            return 0;
        if (f[0].type == QK_JF_ABSENT || f[0].type == QK_JF_NULL)
            return 0;
        if (take_number(&f[0], &score))
            return -1;
        if (!(score >= 0 && score <= max))
            return 0; /* not a score of this maximum (forged): no fraction */
        if (!isfinite(score) || !isfinite(max))
            return -1; /* 1e400: SQLite's arithmetic decides (inf/inf is NULL there, NaN here) */
        v[1].type = SQLITE_FLOAT;
        v[1].d = score / max;
        return 0;
    }
    case K_POINTS:
        v[1].type = SQLITE_INTEGER;
        if (f[1].type == QK_JF_NUMBER) {
            /* a plain integer only; anything else is json_extract's */
            for (size_t i = 0; i < f[1].n; i++)
                if (f[1].p[i] != '-' && (f[1].p[i] < '0' || f[1].p[i] > '9'))
                    return -1;
            char num[24];
            if (f[1].n > 18) /* 18 digits always fit */
                return -1;
            memcpy(num, f[1].p, f[1].n);
            num[f[1].n] = '\0';
            v[1].i = strtoll(num, NULL, 10);
        } else if (f[1].type != QK_JF_ABSENT && f[1].type != QK_JF_NULL)
            return -1;
        return take_text(r, 0, &f[0], &v[0]);
    default:
        return 0;
    }
}

/* The payload's members by payload_sql, for what read_payload declined.
 * The texts hold until the next call. */
static int ask_sqlite(roll *r, sqlite3_stmt *st, val v[3])
{
    sqlite3_stmt *q = r->payload;
    sqlite3_reset(q);
    sqlite3_bind_value(q, 1, sqlite3_column_value(st, 0));
    sqlite3_bind_value(q, 2, sqlite3_column_value(st, 1));
    sqlite3_bind_value(q, 3, sqlite3_column_value(st, 5));
    if (sqlite3_step(q) != SQLITE_ROW)
        return db_err(r);
    for (int c = 0; c < 3; c++) {
        v[c].type = sqlite3_column_type(q, c);
        v[c].i = sqlite3_column_int64(q, c);
        v[c].d = sqlite3_column_double(q, c);
        v[c].t = (const char *)sqlite3_column_text(q, c);
    }
    return QK_OK;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t s;
    if (__builtin_add_overflow(a, b, &s))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return s;
}

/* An attempt.start met in the pass: remembered unless one came before. */
static int note_start(roll *r, const char *attempt, int64_t ms, const char *const t[3])
{
    size_t an = strlen(attempt);
    if (qk__amap_find(&r->starts, (const unsigned char *)attempt, an))
        return QK_OK;
    room_for_a_start(r);
    cell *s = qk__amap_get(&r->starts, (const unsigned char *)attempt, an);
    if (!s)
        return oom(r);
    s[S_TEXT].i = keep_texts(r, t, 3);
    if (!s[S_TEXT].i)
        return oom(r);
    s[S_HAS].i = 1;
    s[S_MS].i = ms;
    return QK_OK;
}

/* One event of the pass, summed into the maps. */
static const char *text_or_empty(const val *v)
{
    return v->t ? v->t : "";
}

static int take(roll *r, sqlite3_stmt *st)
{
    const char *kind = col_text(st, 0);
    int answer = strcmp(kind, "answer") == 0;
    int points = strcmp(kind, "points.award") == 0 || strcmp(kind, "points.correction") == 0;
    int activity =
        answer || strncasecmp(kind, "attempt.", 8) == 0 || strncasecmp(kind, "lesson.", 7) == 0;
    if (!activity && !points)
        return QK_OK;
    int is_start = strcmp(kind, "attempt.start") == 0;
    int is_finish = strcmp(kind, "attempt.finish") == 0;
    int k = answer ? K_ANSWER : is_start ? K_START : is_finish ? K_FINISH : points ? K_POINTS : K_OTHER;
    const char *member = (const char *)sqlite3_column_text(st, 1);
    val v[3] = {{SQLITE_NULL, 0, 0, NULL}, {SQLITE_NULL, 0, 0, NULL}, {SQLITE_NULL, 0, 0, NULL}};
    if (k != K_OTHER) {
        const char *pl = (const char *)sqlite3_column_text(st, 5);
        int rc = pl && read_payload(r, k, member != NULL, pl, (size_t)sqlite3_column_bytes(st, 5), v) == 0
                     ? QK_OK
                     : ask_sqlite(r, st, v);
        if (rc != QK_OK)
            return rc;
    }
    const char *device = col_text(st, 2);
    const char *attempt = (const char *)sqlite3_column_text(st, 3);
    int64_t ms = sqlite3_column_int64(st, 4);
    const cell *start = NULL;
    if (attempt && is_start) {
        const char *t[3] = {text_or_empty(&v[0]), text_or_empty(&v[1]), text_or_empty(&v[2])};
        int rc = note_start(r, attempt, ms, t);
        if (rc != QK_OK)
            return rc;
    }
    if (attempt && !(start = start_of(r, attempt)))
        return QK_EIO; /* msg set */
    /* The day it counts on (DESIGN.md decision 10). An award's day that is
     * not a real YYYY-MM-DD date, from a broken or forged device, falls back
     * to the attempt's day: it must never stop the roll-ups. */
    int64_t at = start && start[S_HAS].i ? start[S_MS].i : ms;
    int64_t day = qk_beijing_day(at), own;
    const char *dtext = v[0].t;
    if (points && dtext && strlen(dtext) == 10 && qk_beijing_parse_date(dtext, &own) == 0)
        day = own;
    keybuf *kb = &r->k;

    kb_start(kb, day);
    kb_who(kb, member, device);
    cell *d = kb->oom ? NULL : qk__amap_get(&r->day, kb->b, kb->n);
    if (!d)
        return oom(r);
    d[D_ACTS].i += activity;
    if (answer) {
        d[D_ANSWERS].i++;
        d[D_CORRECT].i += v[1].i != 0;
    }
    d[D_LESSONS].i += strcmp(kind, "lesson.finish") == 0;
    if (points)
        d[D_POINTS].i = add_sat(d[D_POINTS].i, v[1].i);
    if (is_finish && r->o->finish_scores && at >= 0 && at <= QK_EVENT_TIME_MAX_MS) {
        int has = v[1].type != SQLITE_NULL && !isnan(v[1].d); /* a NaN would stop the roll-ups */
        double pct = v[1].d;
        d[D_ATTEMPTS].i++;
        if (has) {
            d[D_SCORED].i++;
            d[D_PCT_SUM].d += pct;
            if (!d[D_HAS_BEST].i || pct > d[D_BEST].d)
                d[D_BEST].d = pct;
            d[D_HAS_BEST].i = 1;
        }
        kb_start(kb, day);
        kb_who(kb, member, device);
        /* the mode, theme and competition of its start ('' without one);
         * texts does not move before they are copied into the key */
        keyrd kr = {(const unsigned char *)r->texts +
                        (start && start[S_HAS].i ? start[S_TEXT].i - 1 : 0),
                    NULL};
        for (int i = 0; i < 3; i++)
            kb_text(kb, start && start[S_HAS].i ? kr_text(&kr) : "");
        cell *a = kb->oom ? NULL : qk__amap_get(&r->att, kb->b, kb->n);
        if (!a)
            return oom(r);
        if (has) {
            a[A_SCORED].i++;
            a[A_PCT_SUM].d += pct;
            a[A_H0 + (pct < 0.6 ? 0 : pct < 0.8 ? 1 : pct < 1 ? 2 : 3)].i++;
        }
    }
    if (is_start) {
        kb_start(kb, day);
        kb_who(kb, member, device);
        for (int i = 0; i < 3; i++)
            kb_text(kb, text_or_empty(&v[i]));
        cell *a = kb->oom ? NULL : qk__amap_get(&r->att, kb->b, kb->n);
        if (!a)
            return oom(r);
        a[A_STARTED].i++;
    }
    const char *q = v[0].t;
    if (answer && q) {
        int64_t ok = v[1].i != 0;
        kb_start(kb, day);
        kb_text(kb, q);
        kb_who(kb, member, device);
        cell *c = kb->oom ? NULL : qk__amap_get(&r->ans, kb->b, kb->n);
        if (!c)
            return oom(r);
        c[0].i++;
        c[1].i += ok;
        kb_start(kb, qk_month_of_day(day));
        kb_text(kb, q);
        kb_who(kb, member, device);
        c = kb->oom ? NULL : qk__amap_get(&r->month, kb->b, kb->n);
        if (!c)
            return oom(r);
        c[0].i++;
        c[1].i += ok;
        const char *resp = v[2].t;
        if (member && !ok && resp) {
            int err = QK_OK;
            const char *grp = r->o->server ? branch_of(r, member, &err) : "";
            if (err != QK_OK)
                return err;
            if (grp) {
                kb_start(kb, day);
                kb_text(kb, grp);
                kb_text(kb, q);
                kb_text(kb, resp);
                c = kb->oom ? NULL : qk__amap_get(&r->wrong, kb->b, kb->n);
                if (!c)
                    return oom(r);
                c[0].i++;
            }
        }
    }
    return QK_OK;
}

int qk__rollup_events(sqlite3 *db, const qk__rollup_opts *o, int64_t lo, int64_t hi, char *msg,
                      size_t n)
{
    roll r;
    memset(&r, 0, sizeof r);
    r.db = db;
    r.o = o;
    r.msg = msg;
    r.msgn = n;
    r.day.nv = D_CELLS;
    r.att.nv = A_CELLS;
    r.ans.nv = r.month.nv = 2;
    r.wrong.nv = 1;
    r.starts.nv = S_CELLS;
    r.branch.nv = 1;
    r.flush_rows = o->flush_rows ? o->flush_rows : FLUSH_ROWS;
    r.starts_max = o->starts_max ? o->starts_max : STARTS_MAX;
    sqlite3_stmt *st = NULL;
    int rc = QK_OK;
    if (sqlite3_prepare_v2(db, pass_sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, find_start_sql, -1, &r.find_start, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, payload_sql, -1, &r.payload, NULL) != SQLITE_OK ||
        (o->server && sqlite3_prepare_v2(db, "SELECT branch_id FROM members WHERE id = ?1", -1,
                                         &r.find_branch, NULL) != SQLITE_OK)) {
        rc = db_err(&r);
        goto out;
    }
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    int step;
    while (rc == QK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = take(&r, st);
        if (rc == QK_OK && r.day.n + r.att.n + r.ans.n + r.month.n + r.wrong.n >= r.flush_rows)
            rc = flush(&r);
    }
    if (rc == QK_OK && step != SQLITE_DONE)
        rc = db_err(&r);
    if (rc == QK_OK)
        rc = flush(&r);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(r.find_start);
    sqlite3_finalize(r.payload);
    sqlite3_finalize(r.find_branch);
    for (int i = 0; i < 3; i++)
        free(r.buf[i]);
    qk__amap_free(&r.day);
    qk__amap_free(&r.att);
    qk__amap_free(&r.ans);
    qk__amap_free(&r.month);
    qk__amap_free(&r.wrong);
    qk__amap_free(&r.starts);
    qk__amap_free(&r.branch);
    free(r.texts);
    free(r.k.b);
    return rc;
}
