/* The importers never change an answer key (issue 16's property test):
 * questions of every type, generated from a fixed seed with text that uses
 * each format's special characters, are written as CSV, GIFT, Aiken and
 * JSON the way an author would write them (and as .xlsx, by openpyxl from the
 * CSV, numbers typed as numbers), read back by the importer, and
 * then answered: the right answer must score as right and a wrong one as
 * wrong, and stem, options and key must be what was written. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "support.h"

#define N_GEN 160

typedef struct gen {
    char id[16];
    qk_qtype type;
    char stem[400];
    size_t n_opt;
    char opt[QK_MAX_OPTIONS][96];
    uint32_t right; /* choice: bit i = option i is right */
    int judge;
    size_t n_blanks;
    size_t n_alt[3];
    char alt[3][3][48];
} gen;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned roll(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Text as authors write it: Chinese, Latin, digits, full-width and ASCII
 * punctuation, and (where the format has a way to write them) characters
 * the format gives a meaning: `specials`. */
static void text(char *out, size_t cap, size_t min, size_t max, const char *const *specials, size_t n_sp)
{
    static const char *const pool[] = {"党", "章", "学", "习", "雷", "锋", "精", "神", "健", "康", "医",
                                       "护", "红", "船", "南", "湖", "人", "民", "服", "务", "a", "B",
                                       "z", "1", "9", "2", "0", "，", "。", "（", "）", "、", "：", "“",
                                       "”", "？", "%", "-", "+", "(", ")", "'"};
    size_t n = min + roll((unsigned)(max - min + 1)), w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        /* specials inside the text, never at its ends (which importers trim) */
        const char *c = n_sp && i > 0 && i + 1 < n && roll(8) == 0 ? specials[roll((unsigned)n_sp)]
                                                                    : pool[roll(sizeof pool / sizeof pool[0])];
        size_t l = strlen(c);
        if (w + l + 1 >= cap)
            break;
        memcpy(out + w, c, l + 1);
        w += l;
    }
}

/* Empty brackets are a blank in a fill-in stem ("（ ）"): the other text of
 * one has none (brackets become 、). */
static void no_brackets(char *s)
{
    static const char *const br[] = {"（", "）", "(", ")"};
    for (size_t b = 0; b < 4; b++) {
        char *p;
        size_t l = strlen(br[b]);
        while ((p = strstr(s, br[b])) != NULL) {
            memmove(p + 3, p + l, strlen(p + l) + 1);
            memcpy(p, "、", 3);
        }
    }
}

static void generate(gen *g, int i, const char *const *sp, size_t n_sp, int aiken)
{
    memset(g, 0, sizeof *g);
    snprintf(g->id, sizeof g->id, "r%03d", i);
    g->type = aiken ? QK_Q_SINGLE : (qk_qtype)(1 + roll(4));
    char body[300];
    text(body, sizeof body, 3, 30, sp, n_sp);
    if (g->type == QK_Q_FILL) {
        no_brackets(body);
        g->n_blanks = 1 + roll(3);
        /* the blanks where the stem shows them, numbered so stems differ */
        snprintf(g->stem, sizeof g->stem, "第%d题%s____", i, body);
        for (size_t b = 1; b < g->n_blanks; b++)
            strncat(g->stem, "和____", sizeof g->stem - strlen(g->stem) - 1);
        for (size_t b = 0; b < g->n_blanks; b++) {
            g->n_alt[b] = 1 + roll(3);
            for (size_t a = 0; a < g->n_alt[b]; a++) /* alternatives that fold apart */
                snprintf(g->alt[b][a], sizeof g->alt[b][a], "答%zu%zu%c", b, a, "xyzw"[roll(4)]);
        }
        return;
    }
    snprintf(g->stem, sizeof g->stem, "第%d题%s", i, body);
    if (g->type == QK_Q_JUDGE) {
        g->judge = (int)roll(2);
        return;
    }
    g->n_opt = 2 + roll(QK_MAX_OPTIONS - 1);
    for (size_t k = 0; k < g->n_opt; k++) {
        char t[80];
        text(t, sizeof t, 1, 12, sp, n_sp);
        snprintf(g->opt[k], sizeof g->opt[k], "%c%s", 'a' + (int)k, t); /* options differ */
    }
    if (g->type == QK_Q_SINGLE) {
        g->right = 1u << roll((unsigned)g->n_opt);
    } else {
        while (__builtin_popcount(g->right) < 2) /* GIFT writes multi-answer with 2 or more */
            g->right |= 1u << roll((unsigned)g->n_opt);
    }
}

/* --- the four formats, written as authors write them --- */

static void csv_field(char *out, size_t cap, const char *s)
{
    size_t w = strlen(out);
    w += (size_t)snprintf(out + w, cap - w, "\"");
    for (; *s && w + 3 < cap; s++) {
        if (*s == '"')
            out[w++] = '"';
        out[w++] = *s;
    }
    snprintf(out + w, cap - w, "\",");
}

static char *write_csv(const gen *g, size_t n)
{
    size_t cap = n * 2048 + 256, w;
    char *out = malloc(cap);
    snprintf(out, cap, "编号,题型,题干,选项A,选项B,选项C,选项D,选项E,选项F,选项G,选项H,答案\n");
    for (size_t i = 0; i < n; i++) {
        static const char *const types[] = {"", "单选", "多选", "判断", "填空"};
        char row[2048] = "";
        csv_field(row, sizeof row, g[i].id);
        csv_field(row, sizeof row, types[g[i].type]);
        csv_field(row, sizeof row, g[i].stem);
        for (size_t k = 0; k < QK_MAX_OPTIONS; k++)
            csv_field(row, sizeof row, k < g[i].n_opt ? g[i].opt[k] : "");
        char key[256] = "";
        if (g[i].type == QK_Q_JUDGE) {
            snprintf(key, sizeof key, "%s", g[i].judge ? "对" : "错");
        } else if (g[i].type == QK_Q_FILL) {
            for (size_t b = 0; b < g[i].n_blanks; b++)
                for (size_t a = 0; a < g[i].n_alt[b]; a++)
                    snprintf(key + strlen(key), sizeof key - strlen(key), "%s%s", a ? " / " : b ? "|" : "",
                             g[i].alt[b][a]);
        } else {
            for (size_t k = 0; k < g[i].n_opt; k++)
                if (g[i].right & (1u << k))
                    snprintf(key + strlen(key), sizeof key - strlen(key), "%c", (int)('A' + k));
        }
        csv_field(row, sizeof row, key);
        row[strlen(row) - 1] = '\n';
        w = strlen(out);
        snprintf(out + w, cap - w, "%s", row);
    }
    return out;
}

static void gift_text(char *out, size_t cap, const char *s)
{
    size_t w = strlen(out);
    for (; *s && w + 3 < cap; s++) {
        if (strchr("~=#{}:\\", *s))
            out[w++] = '\\';
        out[w++] = *s;
    }
    out[w] = '\0';
}

static char *write_gift(const gen *g, size_t n)
{
    size_t cap = n * 2048 + 64;
    char *out = calloc(1, cap);
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(out);
        snprintf(out + w, cap - w, "::%s:: ", g[i].id);
        /* GIFT's short answer is one blank, the stem a question */
        gift_text(out, cap, g[i].type == QK_Q_FILL ? "请填写：" : g[i].stem);
        if (g[i].type == QK_Q_FILL)
            gift_text(out, cap, g[i].id);
        strncat(out, " {", cap - strlen(out) - 1);
        if (g[i].type == QK_Q_JUDGE) {
            strncat(out, g[i].judge ? "T" : "F", cap - strlen(out) - 1);
        } else if (g[i].type == QK_Q_FILL) {
            for (size_t a = 0; a < g[i].n_alt[0]; a++) {
                strncat(out, " =", cap - strlen(out) - 1);
                gift_text(out, cap, g[i].alt[0][a]);
            }
        } else {
            int k_right = __builtin_popcount(g[i].right);
            for (size_t k = 0; k < g[i].n_opt; k++) {
                int r = (g[i].right >> k) & 1;
                char mark[32];
                if (g[i].type == QK_Q_SINGLE)
                    snprintf(mark, sizeof mark, " %s", r ? "=" : "~");
                else
                    snprintf(mark, sizeof mark, " ~%%%s%.5f%%", r ? "" : "-", r ? 100.0 / k_right : 100.0);
                strncat(out, mark, cap - strlen(out) - 1);
                gift_text(out, cap, g[i].opt[k]);
            }
        }
        strncat(out, "}\n\n", cap - strlen(out) - 1);
    }
    return out;
}

static char *write_aiken(const gen *g, size_t n)
{
    size_t cap = n * 2048 + 64, w = 0;
    char *out = calloc(1, cap);
    for (size_t i = 0; i < n; i++) {
        w += (size_t)snprintf(out + w, cap - w, "%s\n", g[i].stem);
        for (size_t k = 0; k < g[i].n_opt; k++)
            w += (size_t)snprintf(out + w, cap - w, "%c. %s\n", (int)('A' + k), g[i].opt[k]);
        w += (size_t)snprintf(out + w, cap - w, "ANSWER: %c\n\n", (int)('A' + __builtin_ctz(g[i].right)));
    }
    return out;
}

static char *write_json(const gen *g, size_t n)
{
    json_t *qs = json_array();
    for (size_t i = 0; i < n; i++) {
        static const char *const types[] = {"", "single", "multi", "judge", "fill"};
        json_t *q = json_pack("{s:s, s:s, s:s}", "id", g[i].id, "type", types[g[i].type], "stem", g[i].stem);
        if (g[i].type == QK_Q_JUDGE) {
            json_object_set_new(q, "answer", json_boolean(g[i].judge));
        } else if (g[i].type == QK_Q_FILL) {
            json_t *blanks = json_array();
            for (size_t b = 0; b < g[i].n_blanks; b++) {
                json_t *alts = json_array();
                for (size_t a = 0; a < g[i].n_alt[b]; a++)
                    json_array_append_new(alts, json_string(g[i].alt[b][a]));
                json_array_append_new(blanks, alts);
            }
            json_object_set_new(q, "answer", blanks);
        } else {
            json_t *opts = json_array();
            char key[16] = "";
            for (size_t k = 0; k < g[i].n_opt; k++) {
                json_array_append_new(opts, json_string(g[i].opt[k]));
                if (g[i].right & (1u << k))
                    snprintf(key + strlen(key), sizeof key - strlen(key), "%c", (int)('A' + k));
            }
            json_object_set_new(q, "options", opts);
            json_object_set_new(q, "answer", json_string(key));
        }
        json_array_append_new(qs, q);
    }
    json_t *doc = json_pack("{s:s, s:o}", "theme", "t", "questions", qs);
    char *out = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    return out;
}

/* --- reading back and answering --- */

typedef struct back {
    const gen *g;
    size_t n, seen, checked;
    int gift, aiken;
} back;

static const gen *match(const back *bk, const qk_question *q)
{
    for (size_t i = 0; i < bk->n; i++) {
        if (bk->aiken ? strcmp(bk->g[i].stem, q->stem) == 0 : strcmp(bk->g[i].id, q->id) == 0)
            return &bk->g[i];
    }
    return NULL;
}

static int score_of(const qk_question *q, const char *input)
{
    qk_response r;
    qk_answer_problem p = QK_ANS_OK;
    if (qk_response_parse(&r, q, NULL, input, &p) != QK_OK)
        return -1; /* not even read as an answer */
    qk_centi score = 0, max = 0;
    int correct = 0;
    qk_response_score(q, &r, &score, &max, &correct);
    qk_response_clear(&r);
    return correct;
}

static int answer_back(const qk_question *q, int line, void *payload)
{
    (void)line;
    back *bk = payload;
    bk->seen++;
    const gen *g = match(bk, q);
    if (!g) {
        print_error("question %s (%s) was not written\n", q->id, q->stem);
        return QK_EINVAL;
    }
    /* what was written came back: the type, stem and options, the key */
    assert_int_equal(q->type, g->type);
    if (!(bk->gift && g->type == QK_Q_FILL))
        assert_string_equal(q->stem, g->stem);
    char right[256] = "", wrong[256] = "";
    if (g->type == QK_Q_JUDGE) {
        assert_int_equal(q->judge_answer, g->judge);
        snprintf(right, sizeof right, "%s", g->judge ? "对" : "错");
        snprintf(wrong, sizeof wrong, "%s", g->judge ? "错" : "对");
    } else if (g->type == QK_Q_FILL) {
        size_t nb = bk->gift ? 1 : g->n_blanks;
        assert_int_equal(q->n_blanks, nb);
        for (size_t b = 0; b < nb; b++) {
            assert_int_equal(q->blanks[b].n_accepted, g->n_alt[b]);
            for (size_t a = 0; a < g->n_alt[b]; a++)
                assert_string_equal(q->blanks[b].accepted[a], g->alt[b][a]);
            /* any alternative is right; the last one, say */
            snprintf(right + strlen(right), sizeof right - strlen(right), "%s%s", b ? "|" : "",
                     g->alt[b][g->n_alt[b] - 1]);
            snprintf(wrong + strlen(wrong), sizeof wrong - strlen(wrong), "%s%s", b ? "|" : "",
                     b == nb - 1 ? "不对的答案" : g->alt[b][0]);
        }
    } else {
        assert_int_equal(q->n_options, g->n_opt);
        uint32_t key = 0;
        for (size_t k = 0; k < q->n_options; k++) {
            assert_string_equal(q->options[k].text, g->opt[k]);
            key |= q->options[k].correct ? 1u << k : 0;
            if (g->right & (1u << k))
                snprintf(right + strlen(right), sizeof right - strlen(right), "%c", (int)('A' + k));
        }
        assert_int_equal(key, g->right);
        unsigned first_wrong = (unsigned)__builtin_ctz(~g->right);
        if (g->type == QK_Q_SINGLE) {
            snprintf(wrong, sizeof wrong, "%c", (int)('A' + first_wrong));
        } else if (first_wrong < g->n_opt) { /* the right ones and a wrong one */
            snprintf(wrong, sizeof wrong, "%s%c", right, (int)('A' + first_wrong));
        } else { /* every option is right: one of them only */
            snprintf(wrong, sizeof wrong, "%c", right[0]);
        }
    }
    if (score_of(q, right) != 1)
        fail_msg("%s (%s): the right answer \"%s\" did not score as right", g->id, q->stem, right);
    if (score_of(q, wrong) != 0)
        fail_msg("%s (%s): the wrong answer \"%s\" did not score as wrong", g->id, q->stem, wrong);
    bk->checked++;
    return QK_OK;
}

static void collect(const qk_diag *d, void *payload)
{
    (void)payload;
    print_error("%d: %s: %s\n", d->line, d->level == QK_DIAG_ERROR ? "error" : "warning", d->message);
}

/* The CSV text as an .xlsx written by openpyxl (tests/content/csv2xlsx.py);
 * *len its size. */
static char *csv_to_xlsx(const char *csv, size_t *len)
{
    char *dir = qkt_tmpdir();
    char *in = qkt_path(dir, "gen.csv"), *out = qkt_path(dir, "gen.xlsx");
    qkt_write(in, csv);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/content/csv2xlsx.py' '%s' '%s'", QKT_SOURCE_DIR, in,
             out);
    if (system(cmd) != 0)
        fail_msg("csv2xlsx.py failed (is python3-openpyxl installed? scripts/install-deps.sh)");
    char *bytes = qkt_read(out, len);
    qkt_rmrf(dir);
    free(in);
    free(out);
    free(dir);
    return bytes;
}

static void round_trip(qk_source_format fmt, char *(*writer)(const gen *, size_t), const char *const *sp,
                       size_t n_sp, int gift, int aiken)
{
    static gen g[N_GEN];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N_GEN; i++)
            generate(&g[i], round * N_GEN + i, sp, n_sp, aiken);
        if (gift) /* GIFT's short answer: one blank, each alternative an = */
            for (int i = 0; i < N_GEN; i++)
                if (g[i].type == QK_Q_FILL)
                    g[i].n_blanks = 1;
        char *text_out = writer(g, N_GEN);
        size_t len = strlen(text_out);
        if (fmt == QK_SRC_XLSX) {
            char *book = csv_to_xlsx(text_out, &len);
            free(text_out);
            text_out = book;
        }
        back bk = {g, N_GEN, 0, 0, gift, aiken};
        size_t errors = qk_content_parse(fmt, "gen", text_out, len, "t", QK_LANG_EN, collect, NULL,
                                         answer_back, &bk);
        if (errors && fmt != QK_SRC_XLSX)
            print_error("%s\n", text_out);
        free(text_out);
        assert_int_equal(errors, 0);
        assert_int_equal(bk.seen, N_GEN);
        assert_int_equal(bk.checked, N_GEN);
    }
}

static void csv_keeps_every_key(void **state)
{
    (void)state;
    static const char *const sp[] = {",", "\"", "\n", "/", ";"};
    round_trip(QK_SRC_CSV, write_csv, sp, sizeof sp / sizeof sp[0], 0, 0);
}

static void xlsx_keeps_every_key(void **state)
{
    (void)state;
    static const char *const sp[] = {",", "\"", "\n", "/", ";", "="};
    round_trip(QK_SRC_XLSX, write_csv, sp, sizeof sp / sizeof sp[0], 0, 0);
}

static void gift_keeps_every_key(void **state)
{
    (void)state;
    static const char *const sp[] = {"~", "=", "#", "{", "}", ":", "\\"};
    round_trip(QK_SRC_GIFT, write_gift, sp, sizeof sp / sizeof sp[0], 1, 0);
}

static void aiken_keeps_every_key(void **state)
{
    (void)state;
    round_trip(QK_SRC_AIKEN, write_aiken, NULL, 0, 0, 1);
}

static void json_keeps_every_key(void **state)
{
    (void)state;
    static const char *const sp[] = {"\"", "\\", "\n", "\t", "/", "|"};
    round_trip(QK_SRC_JSON, write_json, sp, sizeof sp / sizeof sp[0], 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_keeps_every_key),
        cmocka_unit_test(xlsx_keeps_every_key),
        cmocka_unit_test(gift_keeps_every_key),
        cmocka_unit_test(aiken_keeps_every_key),
        cmocka_unit_test(json_keeps_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
