/* csv.c: reading CSV records (RFC 4180: quotes,
 * doubled quotes, line breaks inside quotes, CRLF; tab-separated when the
 * header has tabs and no commas). Used for question sources and rosters. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "quizkit/csv.h"

static int push(qk_csv_row *r, char *field)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        char **nf = realloc(r->fields, cap * sizeof *nf);
        if (!nf) {
            free(field);
            return 0;
        }
        r->fields = nf;
        r->cap = cap;
    }
    r->fields[r->n++] = field;
    return 1;
}

static void row_clear(qk_csv_row *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->fields[i]);
    r->n = 0;
}

/* Reads one record. Returns 1 with a row, 0 at the end, -1 on an unclosed quote. */
int qk_csv_next(qk_csv *rd, qk_csv_row *r)
{
    row_clear(r);
    if (rd->p >= rd->end)
        return 0;
    r->line = rd->line;
    for (;;) {
        /* one field */
        size_t cap = 64, len = 0;
        char *buf = malloc(cap);
        if (!buf)
            return -1;
        int quoted = rd->p < rd->end && *rd->p == '"';
        if (quoted) {
            rd->p++;
            for (;;) {
                if (rd->p >= rd->end) {
                    free(buf);
                    return -1;
                }
                char ch = *rd->p++;
                if (ch == '"') {
                    if (rd->p < rd->end && *rd->p == '"') {
                        rd->p++;
                    } else {
                        break;
                    }
                } else if (ch == '\n') {
                    rd->line++;
                }
                if (len + 2 > cap) {
                    cap *= 2;
                    char *nb = realloc(buf, cap);
                    if (!nb) {
                        free(buf);
                        return -1;
                    }
                    buf = nb;
                }
                buf[len++] = ch;
            }
        }
        /* unquoted part (or what follows a closing quote, kept as typed) */
        while (rd->p < rd->end && *rd->p != rd->sep && *rd->p != '\n' && *rd->p != '\r') {
            if (len + 2 > cap) {
                cap *= 2;
                char *nb = realloc(buf, cap);
                if (!nb) {
                    free(buf);
                    return -1;
                }
                buf = nb;
            }
            buf[len++] = *rd->p++;
        }
        buf[len] = '\0';
        /* Normalise line breaks inside a field to \n. */
        size_t w = 0;
        for (size_t i = 0; i < len; i++) {
            if (buf[i] == '\r' && buf[i + 1] == '\n')
                continue;
            buf[w++] = buf[i];
        }
        buf[w] = '\0';
        if (!push(r, buf))
            return -1;
        if (rd->p < rd->end && *rd->p == rd->sep) {
            rd->p++;
            continue;
        }
        if (rd->p < rd->end && *rd->p == '\r')
            rd->p++;
        if (rd->p < rd->end && *rd->p == '\n')
            rd->p++;
        rd->line++;
        return 1;
    }
}

int qk_csv_blank(const qk_csv_row *r)
{
    for (size_t i = 0; i < r->n; i++) {
        for (const char *p = r->fields[i]; *p; p++) {
            if (*p != ' ' && *p != '\t')
                return 0;
        }
    }
    return 1;
}

void qk_csv_init(qk_csv *rd, const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    size_t hl = nl ? (size_t)(nl - text) : len;
    rd->p = text;
    rd->end = text + len;
    rd->line = 1;
    rd->sep = memchr(text, '\t', hl) && !memchr(text, ',', hl) ? '\t' : ',';
}

void qk_csv_row_free(qk_csv_row *r)
{
    row_clear(r);
    free(r->fields);
    r->fields = NULL;
    r->cap = 0;
}
