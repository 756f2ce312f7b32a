/* xlsx_source.c: question banks as WPS and Excel save them, read as they are.
 *
 * An .xlsx is a zip (read with libzip) of XML parts (read with expat): the
 * package's relationships name the workbook, the workbook lists its sheets in
 * tab order and names each sheet's part, sharedStrings holds the text most
 * cells point at, and styles says which numbers the author saw as percentages
 * or dates. One sheet's rows become the rows the CSV importer reads, each with
 * the sheet's own row number as its line, so both formats share one set of
 * headers, checks and messages (qk__import_rows).
 *
 * What a cell says is what the author saw: a number is written the way its
 * format shows it (1921, 0.5, 50%, 1,921); a date, a time or a format this
 * reader cannot show the same way is refused with the cell named, never
 * turned into a different answer. */
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#include "import.h"

#define XLSX_MAX_PART ((zip_uint64_t)64 * 1024 * 1024) /* one XML part, unpacked */
#define XLSX_MAX_COLS 256                             /* columns read; A..IV */
#define XLSX_MAX_SHEETS 256

typedef struct strbuf {
    char *p;
    size_t n, cap;
    int oom;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (!b->p || b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_clear(strbuf *b)
{
    b->n = 0;
    if (b->p)
        b->p[0] = '\0';
}

/* A cell's text: OOXML writes characters XML cannot carry as _xHHHH_
 * (Excel's carriage returns as _x000D_, "_" itself as _x005F_ before such a
 * pattern); every line break becomes \n. */
static char *cell_text(const char *s, size_t n)
{
    strbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        int ok = s[i] == '_' && i + 6 < n && s[i + 1] == 'x' && s[i + 6] == '_';
        for (size_t k = 2; ok && k < 6; k++) {
            char c = s[i + k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F'                               ? c - 'A' + 10
                                                                         : -1;
            ok = d >= 0;
            v = v * 16 + (unsigned)(ok ? d : 0);
        }
        if (ok && v > 0 && v < 0x80) {
            char c = (char)v;
            sb_add(&b, &c, 1);
            i += 6;
        } else {
            sb_add(&b, s + i, 1);
        }
    }
    sb_add(&b, "", 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    /* CRLF and lone CR: one \n */
    size_t w = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (b.p[i] == '\r') {
            b.p[w++] = '\n';
            if (i + 1 < b.n && b.p[i + 1] == '\n')
                i++;
        } else {
            b.p[w++] = b.p[i];
        }
    }
    b.p[w] = '\0';
    return b.p;
}

/* ---- the package ---------------------------------------------------- */

typedef struct xlsx {
    qk__src *s;
    zip_t *z;
    int failed; /* an error was reported: read nothing more */
    /* relationships of the part being resolved */
    struct rel {
        char *id, *type, *target;
    } *rels;
    size_t n_rels;
    /* the workbook's sheets, in tab order */
    struct sheet {
        char *name, *rid;
        int hidden; /* state="hidden" or "veryHidden": not a tab anyone sees */
    } *sheets;
    size_t n_sheets;
    char **strings; /* sharedStrings, in order */
    size_t n_strings, cap_strings;
    int *xf_fmt; /* number format id of each cell style (cellXfs) */
    size_t n_xf;
    struct numfmt {
        int id;
        char *code;
    } *fmts;
    size_t n_fmts;
    /* the parse in progress */
    XML_Parser parser;
    const char *part;
    int depth_rph, in_t, in_v, in_xfs, in_numfmts, in_is, in_sheetdata;
    strbuf text;
    /* the sheet's rows */
    qk_csv_row *rows;
    size_t n_rows, cap_rows, next_row;
    int row_no, col_no, cell_style, cell_formula, far_cols;
    int row_bad; /* a cell of this row was refused: the row is not read */
    struct merge {
        int r1, c1, r2, c2;
    } *merges; /* merged cells, as mergeCell refs name them */
    size_t n_merges;
    char cell_type[12];
    strbuf value;
    qk_csv_row cur;
} xlsx;

static void fail(xlsx *x, int line, qk__cmsg id, const char *a, const char *b)
{
    qk__diag(x->s, QK_DIAG_ERROR, line, 0, id, a, b);
    x->failed = 1;
}

static void oom(xlsx *x)
{
    if (!x->failed)
        fail(x, 0, QK_C_XLSX_MEMORY, "", "");
}

/* A small non-negative number from an attribute ("12"); -1 when it is not one. */
static int small_int(const char *v)
{
    if (!v)
        return -1;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    return end != v && !*end && n >= 0 && n <= 1000000 ? (int)n : -1;
}

static const char *local(const char *name)
{
    const char *bar = strrchr(name, '|');
    return bar ? bar + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2) {
        if (strcmp(local(atts[i]), name) == 0)
            return atts[i + 1];
    }
    return NULL;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* An OOXML document has no DOCTYPE: one here is refused (no entities). */
static void XMLCALL no_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)internal;
    xlsx *x = ud;
    fail(x, 0, QK_C_XLSX_XML, x->part, "DOCTYPE");
    XML_StopParser(x->parser, XML_FALSE);
}

/* Reads part name (NULL when absent: said when required). */
static char *read_part(xlsx *x, const char *name, size_t *len, int required)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(x->z, name, ZIP_FL_NOCASE, &st) != 0) {
        if (required)
            fail(x, 0, QK_C_XLSX_PART, name, "");
        return NULL;
    }
    if (!(st.valid & ZIP_STAT_SIZE) || st.size > XLSX_MAX_PART) {
        fail(x, 0, QK_C_XLSX_BIG, name, "");
        return NULL;
    }
    zip_file_t *f = zip_fopen(x->z, name, ZIP_FL_NOCASE);
    if (!f) {
        fail(x, 0, QK_C_XLSX_DAMAGED, name, zip_strerror(x->z));
        return NULL;
    }
    char *buf = malloc((size_t)st.size + 1);
    zip_int64_t got = buf ? zip_fread(f, buf, st.size) : -1;
    if (!buf) {
        oom(x);
    } else if (got < 0 || (zip_uint64_t)got != st.size) {
        fail(x, 0, QK_C_XLSX_DAMAGED, name, zip_file_strerror(f));
        free(buf);
        buf = NULL;
    }
    zip_fclose(f);
    if (!buf)
        return NULL;
    buf[st.size] = '\0';
    *len = (size_t)st.size;
    return buf;
}

static int parse_part(xlsx *x, const char *name, int required, XML_StartElementHandler start,
                      XML_EndElementHandler end, XML_CharacterDataHandler chars)
{
    size_t len = 0;
    char *buf = read_part(x, name, &len, required);
    if (!buf)
        return 0;
    XML_Parser p = XML_ParserCreateNS(NULL, '|');
    if (!p) {
        free(buf);
        oom(x);
        return 0;
    }
    x->parser = p;
    x->part = name;
    XML_SetUserData(p, x);
    XML_SetElementHandler(p, start, end);
    XML_SetCharacterDataHandler(p, chars);
    XML_SetStartDoctypeDeclHandler(p, no_doctype);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    int ok = 1;
    if (XML_Parse(p, buf, (int)len, 1) == XML_STATUS_ERROR && !x->failed) {
        char where[96];
        snprintf(where, sizeof where, "%lu:%lu", (unsigned long)XML_GetCurrentLineNumber(p),
                 (unsigned long)XML_GetCurrentColumnNumber(p) + 1);
        char what[256];
        snprintf(what, sizeof what, "%s (%s)", XML_ErrorString(XML_GetErrorCode(p)), where);
        fail(x, 0, QK_C_XLSX_XML, name, what);
    }
    ok = !x->failed;
    XML_ParserFree(p);
    x->parser = NULL;
    free(buf);
    return ok;
}

static void XMLCALL no_text(void *ud, const XML_Char *s, int n)
{
    (void)ud;
    (void)s;
    (void)n;
}

static void XMLCALL no_end(void *ud, const XML_Char *name)
{
    (void)ud;
    (void)name;
}

/* ---- relationships, workbook ----------------------------------------- */

static void free_rels(xlsx *x)
{
    for (size_t i = 0; i < x->n_rels; i++) {
        free(x->rels[i].id);
        free(x->rels[i].type);
        free(x->rels[i].target);
    }
    free(x->rels);
    x->rels = NULL;
    x->n_rels = 0;
}

static void XMLCALL rel_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xlsx *x = ud;
    if (x->failed || strcmp(local(name), "Relationship") != 0)
        return;
    const char *id = attr(atts, "Id"), *type = attr(atts, "Type"), *target = attr(atts, "Target");
    if (!id || !type || !target || x->n_rels >= 4096)
        return;
    struct rel *nv = realloc(x->rels, (x->n_rels + 1) * sizeof *nv);
    if (!nv) {
        oom(x);
        return;
    }
    x->rels = nv;
    struct rel *r = &x->rels[x->n_rels];
    r->id = qk__dup(id);
    r->type = qk__dup(type);
    r->target = qk__dup(target);
    if (!r->id || !r->type || !r->target) {
        free(r->id);
        free(r->type);
        free(r->target);
        oom(x);
        return;
    }
    x->n_rels++;
}

/* Target resolved against the folder of the part that names it. */
static char *resolve(const char *base_dir, const char *target)
{
    strbuf b = {0};
    if (target[0] != '/')
        sb_add(&b, base_dir, strlen(base_dir));
    else
        target++;
    const char *p = target;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            /* up one folder */
            while (b.n > 0 && b.p[b.n - 1] == '/')
                b.n--;
            while (b.n > 0 && b.p[b.n - 1] != '/')
                b.n--;
        } else if (!(n == 1 && p[0] == '.') && n > 0) {
            sb_add(&b, p, n);
            if (slash)
                sb_add(&b, "/", 1);
        }
        p += n + (slash ? 1 : 0);
    }
    sb_add(&b, "", 0);
    if (b.oom || !b.p) {
        free(b.p);
        return NULL;
    }
    b.p[b.n] = '\0';
    return b.p;
}

static const struct rel *rel_of_type(const xlsx *x, const char *tail)
{
    for (size_t i = 0; i < x->n_rels; i++) {
        if (ends_with(x->rels[i].type, tail))
            return &x->rels[i];
    }
    return NULL;
}

static void XMLCALL book_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xlsx *x = ud;
    if (x->failed || strcmp(local(name), "sheet") != 0)
        return;
    const char *sheet = attr(atts, "name"), *rid = attr(atts, "id"), *state = attr(atts, "state");
    if (!sheet || !rid || x->n_sheets >= XLSX_MAX_SHEETS)
        return;
    struct sheet *nv = realloc(x->sheets, (x->n_sheets + 1) * sizeof *nv);
    if (!nv) {
        oom(x);
        return;
    }
    x->sheets = nv;
    nv[x->n_sheets].name = qk__dup(sheet);
    nv[x->n_sheets].rid = qk__dup(rid);
    nv[x->n_sheets].hidden = state && (strcmp(state, "hidden") == 0 || strcmp(state, "veryHidden") == 0);
    if (!nv[x->n_sheets].name || !nv[x->n_sheets].rid) {
        free(nv[x->n_sheets].name);
        free(nv[x->n_sheets].rid);
        oom(x);
        return;
    }
    x->n_sheets++;
}

/* ---- shared strings, styles ------------------------------------------- */

static void XMLCALL sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    xlsx *x = ud;
    const char *n = local(name);
    if (strcmp(n, "si") == 0) {
        sb_clear(&x->text);
        x->depth_rph = 0;
    } else if (strcmp(n, "rPh") == 0) {
        x->depth_rph++; /* phonetic guide (furigana): not the cell's text */
    } else if (strcmp(n, "t") == 0 && !x->depth_rph) {
        x->in_t = 1;
    }
}

static void XMLCALL sst_end(void *ud, const XML_Char *name)
{
    xlsx *x = ud;
    const char *n = local(name);
    if (strcmp(n, "t") == 0) {
        x->in_t = 0;
    } else if (strcmp(n, "rPh") == 0) {
        x->depth_rph--;
    } else if (strcmp(n, "si") == 0 && !x->failed) {
        if (x->n_strings == x->cap_strings) {
            size_t cap = x->cap_strings ? x->cap_strings * 2 : 256;
            char **nv = realloc(x->strings, cap * sizeof *nv);
            if (!nv) {
                oom(x);
                XML_StopParser(x->parser, XML_FALSE);
                return;
            }
            x->strings = nv;
            x->cap_strings = cap;
        }
        char *t = x->text.oom ? NULL : cell_text(x->text.p ? x->text.p : "", x->text.n);
        if (!t) {
            oom(x);
            XML_StopParser(x->parser, XML_FALSE);
            return;
        }
        x->strings[x->n_strings++] = t;
    }
}

static void XMLCALL keep_text(void *ud, const XML_Char *s, int n)
{
    xlsx *x = ud;
    if (x->in_t || x->in_v)
        sb_add(x->in_v ? &x->value : &x->text, s, (size_t)n);
}

static void XMLCALL style_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xlsx *x = ud;
    const char *n = local(name);
    if (x->failed)
        return;
    if (strcmp(n, "cellXfs") == 0) {
        x->in_xfs = 1;
    } else if (strcmp(n, "numFmts") == 0) {
        x->in_numfmts = 1;
    } else if (strcmp(n, "xf") == 0 && x->in_xfs) {
        const char *id = attr(atts, "numFmtId");
        int *nv = realloc(x->xf_fmt, (x->n_xf + 1) * sizeof *nv);
        if (!nv) {
            oom(x);
            return;
        }
        x->xf_fmt = nv;
        int fmt = small_int(id);
        x->xf_fmt[x->n_xf++] = fmt < 0 ? 0 : fmt;
    } else if (strcmp(n, "numFmt") == 0 && x->in_numfmts) { /* not a conditional format's */
        const char *id = attr(atts, "numFmtId"), *code = attr(atts, "formatCode");
        if (!id || !code)
            return;
        struct numfmt *nv = realloc(x->fmts, (x->n_fmts + 1) * sizeof *nv);
        if (!nv) {
            oom(x);
            return;
        }
        x->fmts = nv;
        nv[x->n_fmts].id = small_int(id);
        if (!(nv[x->n_fmts].code = qk__dup(code))) {
            oom(x);
            return;
        }
        x->n_fmts++;
    }
}

static void XMLCALL style_end(void *ud, const XML_Char *name)
{
    xlsx *x = ud;
    if (strcmp(local(name), "cellXfs") == 0)
        x->in_xfs = 0;
    else if (strcmp(local(name), "numFmts") == 0)
        x->in_numfmts = 0;
}

/* ---- numbers as the author saw them ----------------------------------- */

enum shown { SHOWN_OK, SHOWN_DATE, SHOWN_OTHER, SHOWN_LONG };

/* The built-in formats a number can have (ECMA-376 18.8.30); NULL where the
 * id is a date or time, or not one this reader shows. */
static const char *builtin_format(int id, enum shown *kind)
{
    *kind = SHOWN_OTHER;
    switch (id) { /* shown as said only, for the messages */
    case 11: return "0.00E+00";
    case 12: return "# ?/?";
    case 13: return "# ?" "?/?" "?";
    case 41:
    case 42:
    case 43:
    case 44: return "会计专用 / accounting";
    case 48: return "##0.0E+0";
    default: break;
    }
    *kind = SHOWN_OK;
    switch (id) {
    case 0: return "General";
    case 1: return "0";
    case 2: return "0.00";
    case 3: return "#,##0";
    case 4: return "#,##0.00";
    case 9: return "0%";
    case 10: return "0.00%";
    case 37: /* 38 shows the negative in red: the same text */
    case 38: return "#,##0 ;(#,##0)";
    case 39:
    case 40: return "#,##0.00;(#,##0.00)";
    case 49: return "@";
    default: break;
    }
    if ((id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) ||
        (id >= 50 && id <= 58))
        *kind = SHOWN_DATE;
    else
        *kind = SHOWN_OTHER;
    return NULL;
}

/* |v| in decimal as Excel holds it, 15 significant digits, rounded half away
 * from zero to `decimals` places (Excel rounds the decimal digits it shows,
 * so 2.5 shows as 3 and 1.005 as 1.01, where printf would give 2 and 1.00):
 * the integer digits in ip (no leading zeros; "0" for none), the decimals in
 * fp. */
static void decimal_digits(double v, int decimals, char *ip, size_t ipn, char *fp, size_t fpn)
{
    char e[48];
    snprintf(e, sizeof e, "%.14e", fabs(v)); /* d.dddddddddddddde+XX */
    char d[16];
    int nd = 0;
    for (const char *p = e; *p && *p != 'e' && nd < 15; p++)
        if (*p >= '0' && *p <= '9')
            d[nd++] = *p;
    const char *ep = strchr(e, 'e');
    long exp = ep ? strtol(ep + 1, NULL, 10) : 0;
    if (exp > 40)
        exp = 40; /* never asked: callers refuse numbers past 15 digits */
    if (decimals > 60)
        decimals = 60;
    /* digits S with the point after P of them, long enough to round */
    char sd[160];
    memset(sd, '0', sizeof sd);
    int len = 0, point;
    if (exp >= 0) {
        point = (int)exp + 1;
    } else {
        for (long k = 0; k < -exp && len < 40; k++)
            sd[len++] = '0';
        point = 1;
    }
    for (int k = 0; k < nd; k++)
        sd[len++] = d[k];
    while (len < point + decimals + 1) /* at most 41 + 60 + 1 */
        sd[len++] = '0';
    int keep = point + decimals;
    if (keep < len && sd[keep] >= '5') {
        int k = keep - 1;
        while (k >= 0 && sd[k] == '9')
            sd[k--] = '0';
        if (k >= 0) {
            sd[k]++;
        } else { /* 9.99 -> 10.0 */
            memmove(sd + 1, sd, (size_t)len);
            sd[0] = '1';
            len++;
            point++;
            keep++;
        }
    }
    int lead = 0;
    while (lead < point - 1 && sd[lead] == '0')
        lead++;
    snprintf(ip, ipn, "%.*s", point - lead, sd + lead);
    snprintf(fp, fpn, "%.*s", decimals, sd + point);
}

/* General: up to 15 significant digits, never in E notation (a number that
 * would need it is refused by the caller). */
static void general(double v, char *out, size_t n)
{
    char ip[40], fp[40];
    /* 15 significant digits: 14 - floor(log10 |v|) decimals */
    int decimals = v == 0 ? 0 : 14 - (int)floor(log10(fabs(v)));
    decimal_digits(v, decimals < 0 ? 0 : decimals > 30 ? 30 : decimals, ip, sizeof ip, fp, sizeof fp);
    size_t k = strlen(fp);
    while (k > 0 && fp[k - 1] == '0')
        fp[--k] = '\0';
    int zero = strcmp(ip, "0") == 0 && !fp[0];
    snprintf(out, n, "%s%s%s%s", v < 0 && !zero ? "-" : "", ip, fp[0] ? "." : "", fp);
}

/* A [...] part of a format: 1 when it only colours the text (or names a
 * currency, copied to lit), 0 when it is elapsed time (a date), -1 when it is
 * a condition or anything else this reader does not show. */
static int bracket(const char *b, size_t n, char *lit, size_t litn)
{
    static const char *const colours[] = {"Black", "Blue", "Cyan", "Green", "Magenta", "Red", "White",
                                           "Yellow", "黑色", "蓝色", "青色", "绿色", "洋红", "红色",
                                           "白色", "黄色"};
    if (n > 0 && b[0] == '$') { /* [$¥-804]: a currency symbol */
        size_t k = 1;
        while (k < n && b[k] != '-')
            k++;
        snprintf(lit + strlen(lit), litn - strlen(lit), "%.*s", (int)(k - 1), b + 1);
        return 1;
    }
    for (size_t i = 0; i < sizeof colours / sizeof colours[0]; i++)
        if (strlen(colours[i]) == n && strncasecmp(b, colours[i], n) == 0)
            return 1;
    if (n > 5 && strncasecmp(b, "Color", 5) == 0 && strspn(b + 5, "0123456789") == n - 5)
        return 1;
    if (n > 0 && strspn(b, "hHmMsS") == n)
        return 0;
    return -1; /* [>=100], [DBNum1], [$-F800] ... */
}

/* The number v shown through one section of a format code; SHOWN_OK with the
 * text in out, or why it cannot be shown. */
static enum shown show_section(double v, const char *code, size_t len, char *out, size_t n)
{
    char before[128] = "", after[128] = "";
    int placeholders = 0, done_number = 0, decimals = 0, in_decimals = 0, thousands = 0;
    int int_zeros = 0, percent = 0, text_at = 0, is_general = 0;
    for (size_t i = 0; i < len; i++) {
        char c = code[i];
        char *lit = done_number || placeholders ? after : before;
        if (c == '"') {
            size_t j = i + 1;
            while (j < len && code[j] != '"')
                j++;
            if (placeholders)
                done_number = 1;
            snprintf(lit + strlen(lit), 128 - strlen(lit), "%.*s", (int)(j - i - 1), code + i + 1);
            i = j;
        } else if (c == '\\' && i + 1 < len) {
            if (placeholders)
                done_number = 1;
            i++;
            size_t k = 1;
            while (i + k < len && ((unsigned char)code[i + k] & 0xc0) == 0x80)
                k++;
            snprintf(lit + strlen(lit), 128 - strlen(lit), "%.*s", (int)k, code + i);
            i += k - 1;
        } else if (c == '[') {
            size_t j = i + 1;
            while (j < len && code[j] != ']')
                j++;
            int kind = bracket(code + i + 1, j - i - 1, lit, 128);
            if (kind == 0)
                return SHOWN_DATE;
            if (kind < 0)
                return SHOWN_OTHER;
            i = j;
        } else if (c == '_' || c == '*') {
            i++; /* padding and fill */
        } else if (len - i >= 7 && strncasecmp(code + i, "General", 7) == 0) {
            is_general = 1;
            placeholders++;
            i += 6;
        } else if (len - i >= strlen("G/通用格式") && strncmp(code + i, "G/通用格式", strlen("G/通用格式")) == 0) {
            is_general = 1; /* General as WPS and Chinese Excel write it */
            placeholders++;
            i += strlen("G/通用格式") - 1;
        } else if (c == '0' || c == '#' || c == '?') {
            if (done_number)
                return SHOWN_OTHER; /* digits split by text: 000-0000 */
            if (c == '?')
                return SHOWN_OTHER; /* aligned digits: spaces this reader does not keep */
            placeholders++;
            decimals += in_decimals;
            int_zeros += !in_decimals && c == '0';
        } else if (c == '.' && (placeholders || (i + 1 < len && strchr("0#?", code[i + 1])))) {
            if (in_decimals || done_number)
                return SHOWN_OTHER;
            in_decimals = 1;
            placeholders += !placeholders;
        } else if (c == ',' && placeholders && !done_number) {
            if (!in_decimals && i + 1 < len && strchr("0#?", code[i + 1]))
                thousands = 1;
            else
                return SHOWN_OTHER; /* a trailing comma divides by 1000 */
        } else if (c == '%') {
            percent = 1;
            if (placeholders)
                done_number = 1;
            snprintf(lit + strlen(lit), 128 - strlen(lit), "%%");
        } else if (c == '@') {
            text_at = 1;
            if (placeholders)
                done_number = 1;
            else
                placeholders++;
        } else if (((c == 'E' || c == 'e') && i + 1 < len && (code[i + 1] == '+' || code[i + 1] == '-')) ||
                   (c == '/' && placeholders)) {
            return SHOWN_OTHER; /* scientific, or a fraction */
        } else if (strchr("yYmMdDhHsSbBgGeEaA", c)) {
            return SHOWN_DATE;
        } else {
            if (placeholders)
                done_number = 1;
            size_t k = 1;
            while (i + k < len && ((unsigned char)code[i + k] & 0xc0) == 0x80)
                k++;
            snprintf(lit + strlen(lit), 128 - strlen(lit), "%.*s", (int)k, code + i);
            i += k - 1;
        }
        if (strlen(before) > 100 || strlen(after) > 100)
            return SHOWN_OTHER;
    }
    if (percent)
        v *= 100;
    char num[256] = "";
    if (is_general || text_at) {
        double a = fabs(v);
        if (a >= 1e15 || (a > 0 && a < 1e-9))
            return SHOWN_LONG; /* E notation in Excel, and digits lost past 15 */
        general(v, num, sizeof num);
    } else if (placeholders) {
        if (fabs(v) >= 1e15)
            return SHOWN_LONG;
        char ip[64], fp[64];
        decimal_digits(v, decimals, ip, sizeof ip, fp, sizeof fp);
        if (strcmp(ip, "0") == 0 && int_zeros == 0)
            ip[0] = '\0'; /* "#.00" shows 0.5 as .50, "#" shows 0 as nothing */
        char padded[96];
        size_t il = strlen(ip);
        size_t pad = int_zeros > (int)il ? (size_t)int_zeros - il : 0; /* "000" shows 7 as 007 */
        snprintf(padded, sizeof padded, "%.*s%s", (int)pad, "0000000000000000000000000000000", ip);
        char grouped[128];
        size_t w = 0, pl = strlen(padded);
        for (size_t i = 0; i < pl && w + 2 < sizeof grouped; i++) {
            if (thousands && i > 0 && (pl - i) % 3 == 0)
                grouped[w++] = ',';
            grouped[w++] = padded[i];
        }
        grouped[w] = '\0';
        /* a negative number keeps its sign however it rounds (-0.4 as "0" shows -0) */
        snprintf(num, sizeof num, "%s%s%s%s", v < 0 ? "-" : "", grouped, decimals ? "." : "", fp);
    }
    snprintf(out, n, "%s%s%s", before, num, after);
    /* trailing spaces of padding ("#,##0 ") are not text anyone types */
    size_t k = strlen(out);
    while (k > 0 && out[k - 1] == ' ')
        out[--k] = '\0';
    return SHOWN_OK;
}

/* The format code of a cell style; NULL (with *kind) for a built-in format
 * this reader does not show. */
static const char *format_of(const xlsx *x, int style, enum shown *kind)
{
    int id = style >= 0 && (size_t)style < x->n_xf ? x->xf_fmt[style] : 0;
    *kind = SHOWN_OK;
    for (size_t i = 0; i < x->n_fmts; i++) {
        if (x->fmts[i].id == id)
            return x->fmts[i].code;
    }
    return builtin_format(id, kind);
}

/* Splits a format code into its sections (positive;negative;zero;text). */
static int sections(const char *code, const char *sec[4], size_t sec_len[4])
{
    sec[0] = code;
    sec_len[0] = strlen(code);
    int n_sec = 1, quoted = 0, in_bracket = 0;
    for (const char *p = code; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
        } else if (*p == '"') {
            quoted = !quoted;
        } else if (!quoted && *p == '[') {
            in_bracket = 1;
        } else if (!quoted && *p == ']') {
            in_bracket = 0;
        } else if (!quoted && !in_bracket && *p == ';' && n_sec < 4) {
            sec_len[n_sec - 1] = (size_t)(p - sec[n_sec - 1]);
            sec[n_sec] = p + 1;
            sec_len[n_sec] = strlen(p + 1);
            n_sec++;
        }
    }
    return n_sec;
}

static enum shown show_number(const xlsx *x, double v, int style, char *out, size_t n,
                              const char **code_out)
{
    enum shown kind;
    const char *code = format_of(x, style, &kind);
    *code_out = code;
    if (kind != SHOWN_OK)
        return kind;
    if (!code)
        return SHOWN_OTHER;
    const char *sec[4];
    size_t sec_len[4];
    int n_sec = sections(code, sec, sec_len);
    if (v < 0 && n_sec >= 2)
        return show_section(-v, sec[1], sec_len[1], out, n);
    if (v == 0 && n_sec >= 3)
        return show_section(v, sec[2], sec_len[2], out, n);
    return show_section(v, sec[0], sec_len[0], out, n);
}

/* Text as its cell's format shows it: a text section with words around @
 * (@"年" shows 1921 typed as text as 1921年); NULL when the format adds
 * nothing (the caller keeps the text), else a copy the caller frees. */
static char *show_text(const xlsx *x, const char *text, int style)
{
    enum shown kind;
    const char *code = format_of(x, style, &kind);
    if (!code || kind != SHOWN_OK)
        return NULL;
    const char *sec[4];
    size_t sec_len[4];
    int n_sec = sections(code, sec, sec_len);
    const char *t = NULL;
    size_t tl = 0;
    for (int i = 0; i < n_sec && !t; i++) {
        int quoted = 0;
        for (size_t k = 0; k < sec_len[i] && !t; k++) {
            if (sec[i][k] == '"')
                quoted = !quoted;
            else if (!quoted && sec[i][k] == '@') {
                t = sec[i];
                tl = sec_len[i];
            }
        }
    }
    if (!t || (tl == 1 && t[0] == '@'))
        return NULL;
    strbuf b = {0};
    for (size_t i = 0; i < tl; i++) {
        char c = t[i];
        if (c == '"') {
            size_t j = i + 1;
            while (j < tl && t[j] != '"')
                j++;
            sb_add(&b, t + i + 1, j - i - 1);
            i = j;
        } else if (c == '\\' && i + 1 < tl) {
            sb_add(&b, t + i + 1, 1);
            i++;
        } else if (c == '@') {
            sb_add(&b, text, strlen(text));
        } else if (c == '_' || c == '*') {
            i++;
        } else if (c == '[') {
            while (i < tl && t[i] != ']')
                i++;
        } else {
            sb_add(&b, t + i, 1);
        }
    }
    sb_add(&b, "", 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    size_t k = b.n;
    while (k > 0 && b.p[k - 1] == ' ')
        b.p[--k] = '\0';
    return b.p;
}

/* ---- the sheet --------------------------------------------------------- */

/* "BC12" -> column 54 (0-based 54), row 12; 0 when not a cell reference. */
static int cell_ref(const char *r, int *col, int *row)
{
    int c = 0, k = 0;
    while (r[k] >= 'A' && r[k] <= 'Z' && k < 4)
        c = c * 26 + (r[k++] - 'A' + 1);
    if (k == 0 || r[k] < '1' || r[k] > '9')
        return 0;
    long n = strtol(r + k, NULL, 10);
    if (n <= 0 || n > 1048576)
        return 0;
    *col = c - 1;
    *row = (int)n;
    return 1;
}

static void col_name(int col, char *out)
{
    char tmp[8];
    int k = 0;
    for (int c = col + 1; c > 0 && k < 7; c = (c - 1) / 26)
        tmp[k++] = (char)('A' + (c - 1) % 26);
    for (int i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    out[k] = '\0';
}

static void cell_error(xlsx *x, qk__cmsg id, const char *detail)
{
    char ref[24];
    col_name(x->col_no, ref);
    snprintf(ref + strlen(ref), sizeof ref - strlen(ref), "%d", x->row_no);
    qk__diag(x->s, QK_DIAG_ERROR, x->row_no, x->col_no + 1, id, ref, detail);
    x->row_bad = 1;
}

static void end_cell(xlsx *x)
{
    const char *t = x->cell_type;
    const char *v = x->value.p ? x->value.p : "";
    char shown[256];
    char *owned = NULL;
    const char *text = "";
    if (strcmp(t, "s") == 0) {
        char *end = NULL;
        unsigned long i = strtoul(v, &end, 10);
        if (!*v || *end || i >= x->n_strings) {
            cell_error(x, QK_C_XLSX_STRING, v);
            return;
        }
        text = x->strings[i];
    } else if (strcmp(t, "inlineStr") == 0) {
        text = owned = cell_text(x->text.p ? x->text.p : "", x->text.n);
    } else if (strcmp(t, "str") == 0) {
        text = owned = cell_text(v, x->value.n);
    } else if (strcmp(t, "b") == 0) {
        text = strcmp(v, "1") == 0 ? "TRUE" : "FALSE";
    } else if (strcmp(t, "e") == 0) {
        cell_error(x, QK_C_XLSX_ERROR_CELL, v);
        return;
    } else if (strcmp(t, "d") == 0) {
        cell_error(x, QK_C_XLSX_DATE, v);
        return;
    } else if (!*v) {
        if (x->cell_formula)
            cell_error(x, QK_C_XLSX_NO_VALUE, "");
        return;
    } else {
        char *end = NULL;
        double d = strtod(v, &end);
        const char *code = NULL;
        if (*end || !isfinite(d)) {
            cell_error(x, QK_C_XLSX_NUMBER, v);
            return;
        }
        enum shown k = show_number(x, d, x->cell_style, shown, sizeof shown, &code);
        if (k == SHOWN_DATE) {
            cell_error(x, QK_C_XLSX_DATE, v);
            return;
        }
        if (k == SHOWN_LONG) {
            cell_error(x, QK_C_XLSX_LONG, v);
            return;
        }
        if (k == SHOWN_OTHER) {
            char what[160];
            int style = x->cell_style;
            if (code)
                snprintf(what, sizeof what, "%s", code);
            else
                snprintf(what, sizeof what, "#%d", style >= 0 && (size_t)style < x->n_xf ? x->xf_fmt[style] : 0);
            cell_error(x, QK_C_XLSX_FORMAT, what);
            return;
        }
        text = shown;
    }
    if (text && (strcmp(t, "s") == 0 || strcmp(t, "inlineStr") == 0 || strcmp(t, "str") == 0)) {
        char *as_shown = show_text(x, text, x->cell_style);
        if (as_shown) {
            free(owned);
            text = owned = as_shown;
        }
    }
    if (!text || qk__row_set(&x->cur, (size_t)x->col_no, text) != 0) {
        oom(x);
        XML_StopParser(x->parser, XML_FALSE);
    }
    free(owned);
}

static void XMLCALL sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xlsx *x = ud;
    const char *n = local(name);
    if (x->failed)
        return;
    if (strcmp(n, "sheetData") == 0) {
        x->in_sheetdata = 1;
    } else if (strcmp(n, "mergeCell") == 0) {
        const char *ref = attr(atts, "ref"), *colon = ref ? strchr(ref, ':') : NULL;
        struct merge m;
        if (colon && x->n_merges < 100000 && cell_ref(ref, &m.c1, &m.r1) && cell_ref(colon + 1, &m.c2, &m.r2)) {
            struct merge *nv = realloc(x->merges, (x->n_merges + 1) * sizeof *nv);
            if (!nv) {
                oom(x);
                XML_StopParser(x->parser, XML_FALSE);
                return;
            }
            x->merges = nv;
            x->merges[x->n_merges++] = m;
        }
    } else if (!x->in_sheetdata) {
        return;
    } else if (strcmp(n, "row") == 0) {
        const char *r = attr(atts, "r");
        long no = r ? strtol(r, NULL, 10) : x->row_no + 1;
        x->row_no = no > 0 && no <= 1048576 ? (int)no : x->row_no + 1;
        x->col_no = -1;
        x->row_bad = 0;
        qk_csv_row_free(&x->cur);
        memset(&x->cur, 0, sizeof x->cur);
    } else if (strcmp(n, "c") == 0) {
        const char *r = attr(atts, "r"), *t = attr(atts, "t"), *s = attr(atts, "s");
        int col = x->col_no + 1, row = x->row_no;
        if (r && !cell_ref(r, &col, &row))
            col = x->col_no + 1;
        x->col_no = col;
        snprintf(x->cell_type, sizeof x->cell_type, "%s", t ? t : "n");
        x->cell_style = s ? small_int(s) : 0;
        x->cell_formula = 0;
        sb_clear(&x->value);
        sb_clear(&x->text);
        x->depth_rph = 0;
    } else if (strcmp(n, "v") == 0) {
        x->in_v = 1;
    } else if (strcmp(n, "f") == 0) {
        x->cell_formula = 1;
    } else if (strcmp(n, "is") == 0) {
        x->in_is = 1;
    } else if (strcmp(n, "rPh") == 0) {
        x->depth_rph++;
    } else if (strcmp(n, "t") == 0 && x->in_is && !x->depth_rph) {
        x->in_t = 1;
    }
}

static void XMLCALL sheet_end(void *ud, const XML_Char *name)
{
    xlsx *x = ud;
    const char *n = local(name);
    if (x->failed)
        return;
    if (strcmp(n, "sheetData") == 0) {
        x->in_sheetdata = 0;
    } else if (strcmp(n, "v") == 0) {
        x->in_v = 0;
    } else if (strcmp(n, "t") == 0) {
        x->in_t = 0;
    } else if (strcmp(n, "is") == 0) {
        x->in_is = 0;
    } else if (strcmp(n, "rPh") == 0) {
        x->depth_rph--;
    } else if (strcmp(n, "c") == 0 && x->in_sheetdata) {
        if (x->value.oom || x->text.oom) {
            oom(x);
            XML_StopParser(x->parser, XML_FALSE);
        } else if (x->col_no >= XLSX_MAX_COLS) {
            x->far_cols = 1;
        } else {
            end_cell(x);
        }
    } else if (strcmp(n, "row") == 0 && x->in_sheetdata) {
        if (qk_csv_blank(&x->cur) || x->row_bad)
            return; /* formatted but empty, or refused: nothing to read */
        if (x->n_rows == x->cap_rows) {
            size_t cap = x->cap_rows ? x->cap_rows * 2 : 64;
            qk_csv_row *nv = realloc(x->rows, cap * sizeof *nv);
            if (!nv) {
                oom(x);
                XML_StopParser(x->parser, XML_FALSE);
                return;
            }
            x->rows = nv;
            x->cap_rows = cap;
        }
        x->cur.line = x->row_no;
        x->rows[x->n_rows++] = x->cur;
        memset(&x->cur, 0, sizeof x->cur);
    }
}

/* A cell merged down over question rows ("每题 2 分" beside twenty rows, one
 * 主题 for a block) shows its value on each of them: each row gets it, as
 * the author sees it. Merges at or above the header (a title, a 选项 cell
 * over its letters) are left as they are: the header logic reads them. */
static void fill_merges(xlsx *x)
{
    int header = 0;
    for (size_t i = 0; i < x->n_rows && !header; i++)
        if (qk__header_row(&x->rows[i]))
            header = x->rows[i].line;
    for (size_t m = 0; m < x->n_merges && !x->failed; m++) {
        const struct merge *g = &x->merges[m];
        if (g->r2 <= g->r1 || g->r1 <= header || g->c1 >= XLSX_MAX_COLS)
            continue;
        const char *v = NULL;
        size_t i = 0;
        while (i < x->n_rows && x->rows[i].line < g->r1)
            i++;
        if (i < x->n_rows && x->rows[i].line == g->r1 && (size_t)g->c1 < x->rows[i].n)
            v = x->rows[i].fields[g->c1];
        if (!v || !*v)
            continue;
        char *keep = qk__dup(v); /* the row's own copy may move as fields are added */
        for (i++; keep && i < x->n_rows && x->rows[i].line <= g->r2; i++)
            if (qk__row_set(&x->rows[i], (size_t)g->c1, keep) != 0)
                oom(x);
        if (!keep)
            oom(x);
        free(keep);
    }
}

static int next_sheet_row(void *payload, qk_csv_row *r)
{
    xlsx *x = payload;
    if (x->next_row >= x->n_rows)
        return 0;
    qk_csv_row_free(r);
    *r = x->rows[x->next_row];
    memset(&x->rows[x->next_row], 0, sizeof x->rows[0]);
    x->next_row++;
    return 1;
}

/* ---- the whole file ---------------------------------------------------- */

/* The sheet to read: the one named (or numbered) by --sheet, else the first
 * tab; NULL (said) when there is none. */
static const struct sheet *choose_sheet(xlsx *x)
{
    const char *want = x->s->sheet;
    strbuf names = {0};
    for (size_t i = 0; i < x->n_sheets; i++) {
        if (i)
            sb_add(&names, "、", strlen("、"));
        sb_add(&names, "“", strlen("“"));
        sb_add(&names, x->sheets[i].name, strlen(x->sheets[i].name));
        sb_add(&names, "”", strlen("”"));
        if (x->sheets[i].hidden) {
            const char *h = qk__cmsg_text(x->s->lang, QK_C_XLSX_HIDDEN);
            sb_add(&names, h, strlen(h));
        }
    }
    const struct sheet *found = NULL;
    if (x->n_sheets == 0) {
        fail(x, 0, QK_C_XLSX_NO_SHEET, "", "");
    } else if (!want || !*want) {
        /* the first tab the author sees: hidden sheets (an old bank kept out
         * of sight) are passed over */
        for (size_t i = 0; i < x->n_sheets && !found; i++)
            if (!x->sheets[i].hidden)
                found = &x->sheets[i];
        if (!found)
            found = &x->sheets[0];
        if (x->n_sheets > 1)
            qk__diag(x->s, QK_DIAG_WARNING, 0, 0, QK_C_XLSX_FIRST_SHEET, found->name,
                     names.p ? names.p : "");
    } else {
        for (size_t i = 0; i < x->n_sheets && !found; i++)
            if (strcmp(x->sheets[i].name, want) == 0)
                found = &x->sheets[i];
        for (size_t i = 0; i < x->n_sheets && !found; i++)
            if (strcasecmp(x->sheets[i].name, want) == 0)
                found = &x->sheets[i];
        char *end = NULL;
        long k = strtol(want, &end, 10);
        if (!found && !*end && k >= 1 && (size_t)k <= x->n_sheets)
            found = &x->sheets[k - 1];
        if (!found)
            fail(x, 0, QK_C_XLSX_SHEET, want, names.p ? names.p : "");
    }
    free(names.p);
    return found;
}

void qk__import_xlsx(qk__src *s)
{
    xlsx x;
    memset(&x, 0, sizeof x);
    x.s = s;
    const unsigned char *raw = (const unsigned char *)s->text;
    if (s->len >= 8 && memcmp(raw, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0) {
        /* OLE2: an old .xls, or an .xlsx with a password (also kept in OLE2) */
        qk__diag(s, QK_DIAG_ERROR, 0, 0, QK_C_XLSX_OLE);
        return;
    }
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(s->text, (zip_uint64_t)s->len, 0, &ze);
    x.z = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!x.z) {
        int code = zip_error_code_zip(&ze);
        if (code == ZIP_ER_NOZIP && s->len >= 4 && memcmp(raw, "PK\x03\x04", 4) == 0)
            code = ZIP_ER_INCONS; /* starts as a zip: cut short, not renamed */
        const char *why = code == ZIP_ER_NOZIP   ? qk__cmsg_text(s->lang, QK_C_XLSX_WHY_NOZIP)
                          : code == ZIP_ER_INCONS || code == ZIP_ER_CRC || code == ZIP_ER_EOF
                              ? qk__cmsg_text(s->lang, QK_C_XLSX_WHY_BROKEN)
                              : zip_error_strerror(&ze);
        qk__diag(s, QK_DIAG_ERROR, 0, 0, QK_C_XLSX_NOT_ZIP, why);
        if (src)
            zip_source_free(src);
        zip_error_fini(&ze);
        return;
    }
    zip_error_fini(&ze);
    /* The workbook, as the package's relationships name it. */
    char *book = NULL;
    if (parse_part(&x, "_rels/.rels", 0, rel_start, no_end, no_text)) {
        const struct rel *r = rel_of_type(&x, "/officeDocument");
        book = r ? resolve("", r->target) : NULL;
    }
    free_rels(&x);
    if (!x.failed && !book && !(book = qk__dup("xl/workbook.xml")))
        oom(&x);
    char *dir = NULL, *rels_name = NULL;
    if (!x.failed) {
        const char *slash = strrchr(book, '/');
        size_t dn = slash ? (size_t)(slash - book) + 1 : 0;
        dir = qk__dupn(book, dn);
        size_t rn = strlen(book) + 16;
        rels_name = malloc(rn);
        if (rels_name)
            snprintf(rels_name, rn, "%s_rels/%s.rels", dir ? dir : "", book + dn);
        if (!dir || !rels_name)
            oom(&x);
    }
    if (!x.failed)
        parse_part(&x, book, 1, book_start, no_end, no_text);
    if (!x.failed)
        parse_part(&x, rels_name, 1, rel_start, no_end, no_text);
    const struct sheet *sheet = x.failed ? NULL : choose_sheet(&x);
    char *sheet_part = NULL;
    if (sheet) {
        for (size_t i = 0; i < x.n_rels && !sheet_part; i++)
            if (strcmp(x.rels[i].id, sheet->rid) == 0)
                sheet_part = resolve(dir, x.rels[i].target);
        if (!sheet_part)
            fail(&x, 0, QK_C_XLSX_PART, sheet->name, "");
    }
    if (!x.failed) {
        const struct rel *r = rel_of_type(&x, "/sharedStrings");
        char *part = r ? resolve(dir, r->target) : NULL;
        if (r && !part)
            oom(&x);
        if (part)
            parse_part(&x, part, 1, sst_start, sst_end, keep_text);
        free(part);
    }
    if (!x.failed) {
        const struct rel *r = rel_of_type(&x, "/styles");
        char *part = r ? resolve(dir, r->target) : NULL;
        if (r && !part)
            oom(&x);
        if (part)
            parse_part(&x, part, 1, style_start, style_end, no_text);
        free(part);
    }
    if (!x.failed) {
        sb_clear(&x.text);
        parse_part(&x, sheet_part, 1, sheet_start, sheet_end, keep_text);
        if (x.far_cols)
            qk__diag(s, QK_DIAG_WARNING, 0, 0, QK_C_XLSX_FAR_COLS, "IV");
    }
    if (!x.failed)
        fill_merges(&x);
    if (!x.failed)
        qk__import_rows(s, next_sheet_row, &x);
    free(sheet_part);
    free(dir);
    free(rels_name);
    free(book);
    free_rels(&x);
    for (size_t i = 0; i < x.n_sheets; i++) {
        free(x.sheets[i].name);
        free(x.sheets[i].rid);
    }
    free(x.sheets);
    for (size_t i = 0; i < x.n_strings; i++)
        free(x.strings[i]);
    free(x.strings);
    free(x.xf_fmt);
    for (size_t i = 0; i < x.n_fmts; i++)
        free(x.fmts[i].code);
    free(x.fmts);
    for (size_t i = 0; i < x.n_rows; i++)
        qk_csv_row_free(&x.rows[i]);
    free(x.rows);
    free(x.merges);
    qk_csv_row_free(&x.cur);
    free(x.text.p);
    free(x.value.p);
    zip_discard(x.z); /* frees the source too */
}
