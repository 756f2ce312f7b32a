/* quizkit/csv.h: CSV records from office software.
 *
 * qk_csv reads RFC 4180 records
 * (quoted fields, doubled quotes, line breaks inside quotes, CRLF), with a
 * tab separator when the first line has tabs and no commas. Question sources
 * and member rosters both come this way; decoding GBK files to UTF-8 is
 * qk_text_decode() in qk_content.h (it needs iconv, which phones may lack). */
#ifndef QUIZKIT_CSV_H
#define QUIZKIT_CSV_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_csv {
    const char *p, *end;
    int line;
    char sep;
} qk_csv;

/* One record: n fields (NUL-terminated copies), starting at line. */
typedef struct qk_csv_row {
    char **fields;
    size_t n, cap;
    int line;
} qk_csv_row;

void qk_csv_init(qk_csv *rd, const char *text, size_t len);
/* 1 with a record in r, 0 at the end, -1 on an unclosed quote (r->line says
 * where it opened) or out of memory. Start r as {0}. */
int qk_csv_next(qk_csv *rd, qk_csv_row *r);
/* 1 when every field is empty or blank. */
int qk_csv_blank(const qk_csv_row *r);
void qk_csv_row_free(qk_csv_row *r);

#ifdef __cplusplus
}
#endif

#endif
