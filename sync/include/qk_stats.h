/* qk_stats.h: participation statistics for branch leaders (issue 7).
 *
 * Subjects: participation, members, inactive, themes, trend, and questions
 * (item analysis like Moodle's quiz statistics: facility index = share right;
 * discrimination index = facility among the strongest 27% of members (by
 * their share of right answers in the period; at least one member, ties by
 * id; shown from four members up) minus among the weakest 27%;
 * the most chosen wrong answer), hardest first. Days are Beijing days (UTC+8): an answer at 23:30 Beijing time on
 * the 31st belongs to the 31st, whatever the device's zone. A period is
 * from..to inclusive, as day numbers since 1970-01-01 (Beijing).
 *
 * Results are tables as JSON, the same shape for the terminal, CSV, JSON and
 * (later) the server's API and XLSX:
 *   {"subject": "...", "from": "YYYY-MM-DD", "to": "YYYY-MM-DD",
 *    "columns": [{"key": "...", "zh": "...", "en": "..."}],
 *    "rows": [[...], ...], "summary": {...}}
 * Activity is quiz attempts, answers and lessons; roster changes and points
 * are not activity. Guests (no member id) are left out. */
#ifndef QK_STATS_H
#define QK_STATS_H

#include <jansson.h>

#include "quizkit.h"

typedef enum qk_stats_subject {
    QK_STATS_PARTICIPATION = 0,
    QK_STATS_MEMBERS,
    QK_STATS_INACTIVE,
    QK_STATS_THEMES,
    QK_STATS_TREND,
    QK_STATS_QUESTIONS,
    QK_STATS_FLAGGED, /* the server only: attempts whose scores it doubts */
    QK_STATS_COUNT
} qk_stats_subject;

const char *qk_stats_subject_name(qk_stats_subject s);
qk_stats_subject qk_stats_subject_parse(const char *name); /* QK_STATS_COUNT if unknown */

typedef struct qk_stats_query {
    qk_stats_subject subject;
    int64_t from_day, to_day; /* Beijing day numbers, inclusive */
    qk_bundle *bundle;        /* optional: question stems for the questions subject */
    int64_t today;            /* Beijing day number of now, where the trend's weeks end
                                 (0: unknown: they end at the last activity) */
} qk_stats_query;

/* "YYYY-MM-DD" -> Beijing day number; 0 on success. */
int qk_stats_parse_day(const char *s, int64_t *day);
/* A day number as "YYYY-MM-DD". */
void qk_stats_day_text(int64_t day, char out[QK_DATE_LEN]);
/* The Beijing month around now: first and last day. */
void qk_stats_this_month(int64_t now_ms, int64_t *from_day, int64_t *to_day);

/* Statistics of one device's progress file (a kiosk that is never online). */
int qk_stats_local(const char *progress_path, const qk_stats_query *q, qk_lang lang, json_t **out,
                   char *msg, size_t msglen);

/* Events of a progress file the statistics' roll-ups have not taken in yet
 * that query q needs (all of them when the roll-ups are missing or of an
 * older definition: what a period needs is found as they are built): the
 * next qk_stats_local takes them in first, some 4 us an event, so a caller
 * can say why a first query on an old file takes seconds. Only reads. */
int qk_stats_local_pending(const char *progress_path, const qk_stats_query *q, int64_t *events, char *msg,
                           size_t msglen);

/* The server's statistics come from its store: qk_store_stats (qk_server.h). */

/* Fills the stems (the questions table's last column) still unknown from
 * this bundle, and says those questions' most chosen wrong answer in the
 * options' own words (top_wrong: "1919年 (3)", not the bundle's letter). */
void qk_stats_fill_stems(json_t *rows, qk_bundle *b);

/* Names for people in the participation and themes tables: the theme and
 * competition ids this bundle knows become their titles (党章学习, not
 * dangzhang). Call once per bundle, newest first; an id no bundle knows
 * stays as it is. */
void qk_stats_fill_titles(json_t *table, qk_bundle *b);
/* The same for one competition a leader published on the server. */
void qk_stats_name_competition(json_t *table, const char *id, const char *title);
/* The themes table's modes in the language (练习, 每日答题, not practice,
 * daily) and 全部主题 for the "*" of quizzes over every theme. For tables
 * people read (the terminal, CSV, Excel); the JSON API keeps the codes. */
void qk_stats_name_modes(json_t *table, qk_lang lang);

/* The questions table for people: the stem first, where a person reads
 * across, and the question's id last (for whoever edits the bank). */
void qk_stats_stem_first(json_t *table);

/* One cell as text: integers as they are, reals as short as they print,
 * null empty (CSV and the terminal table both use it). */
void qk_stats_cell_text(json_t *v, char *buf, size_t n);

/* The table as CSV: UTF-8 with a BOM (so Excel and WPS read Chinese right),
 * RFC 4180 quoting, CRLF. Caller frees. */
char *qk_stats_csv(json_t *table, qk_lang lang, size_t *len);

/* A workbook: a summary sheet first (from the participation and inactive
 * tables when given), then one sheet per table; header rows frozen and bold,
 * column widths fitted to Chinese text, numbers as numbers. Written to a
 * temporary name and renamed. */
int qk_stats_xlsx(const char *path, json_t *const *tables, size_t n, qk_lang lang, char *msg,
                  size_t msglen);

#endif
