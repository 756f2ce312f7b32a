/* quizkit/calendar.h: the one calendar (DESIGN.md decision 10).
 *
 * Every date a person sees or a rule counts by is a Beijing date: UTC+8, no
 * daylight saving. Days are numbered from 1970-01-01 (day 0, a Thursday);
 * months as year * 12 + month - 1; weeks run Monday to Sunday.
 *
 * Everything here is integer arithmetic on int64_t: no time_t, no gmtime, no
 * locale and no time zone database, so the answers are the same on every
 * target (32-bit ARM past 2038 included) and for every 64-bit millisecond
 * time. The file needs nothing but libc (it is also built alone for a 32-bit
 * check), and the JavaScript twin is web/common/calendar.js. */
#ifndef QUIZKIT_CALENDAR_H
#define QUIZKIT_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QK_BEIJING_OFFSET_MS (8LL * 3600 * 1000)
#define QK_DAY_MS (86400LL * 1000)

/* "YYYY-MM-DD" needs 11 bytes for years 0-9999; a year outside that range
 * gets its sign and all its digits, so buffers are this size. */
#define QK_DATE_LEN 24
/* "YYYY-MM-DD HH:MM:SS" (same rule for the year). */
#define QK_TIME_LEN 40

/* The Beijing day of a time (milliseconds since 1970 UTC): floor division,
 * so times before 1970 get negative days. */
int64_t qk_beijing_day(int64_t unix_ms);
/* The first millisecond of a Beijing day. */
int64_t qk_beijing_day_start_ms(int64_t day);

typedef struct qk_civil {
    int64_t year;
    int month; /* 1-12 */
    int day;   /* 1-31 */
} qk_civil;

/* Proleptic Gregorian conversions (H. Hinnant's days_from_civil and
 * civil_from_days), exact for every int64_t day a time can give. */
void qk_civil_from_day(int64_t day, qk_civil *out);
/* month 1-12 and day 1-31 (not checked against the month's length). */
int64_t qk_day_from_civil(int64_t year, int month, int day);
int qk_leap_year(int64_t year);
/* Days in a month of a year. */
int qk_month_days(int64_t year, int month);
/* 1 Monday ... 7 Sunday. */
int qk_weekday(int64_t day);

/* Months as year * 12 + month - 1 (floor division for negative years). */
int64_t qk_month_of_day(int64_t day);
int64_t qk_month_first_day(int64_t month);
/* The first and last day of the month / the Monday-Sunday week a day is in. */
void qk_month_bounds(int64_t day, int64_t *first, int64_t *last);
void qk_week_bounds(int64_t day, int64_t *monday, int64_t *sunday);
/* Month and day as month * 100 + day (themed days: "03-05" is 305). */
int qk_month_day(int64_t day);

/* The Beijing month a time falls in (kept from the first version of the API). */
void qk_beijing_month(int64_t unix_ms, int64_t *first_day, int64_t *last_day);

/* "YYYY-MM-DD" of a day number, and of the Beijing day of a time. */
void qk_day_text(int64_t day, char out[QK_DATE_LEN]);
void qk_beijing_date(int64_t unix_ms, char out[QK_DATE_LEN]);
/* "YYYY-MM-DD HH:MM" in Beijing time, or with seconds ("YYYY-MM-DD HH:MM:SS"). */
void qk_beijing_time_text(int64_t unix_ms, int seconds, char out[QK_TIME_LEN]);
/* "MM-DD HH:MM" in Beijing time (short lists where the year is evident). */
void qk_beijing_short_text(int64_t unix_ms, char out[QK_TIME_LEN]);

/* "YYYY-MM-DD" (the first ten characters of s are read; a real calendar date
 * with a four-digit year): 0 and its day number, or -1. */
int qk_beijing_parse_date(const char *s, int64_t *day);
/* Exactly "YYYY-MM-DD HH:MM" or "YYYY-MM-DDTHH:MM", Beijing time: 0 and the
 * time in ms, or -1. */
int qk_beijing_parse_minute(const char *s, int64_t *unix_ms);
/* An instant: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" (or a space for
 * the T), followed by "Z" or an offset "+HH:MM", "+HHMM" or "+HH"; without
 * an offset the time is Beijing time, and a date alone is its midnight.
 * "@SECONDS" is Unix time. 0 and the time in ms, or -1. */
int qk_parse_instant(const char *s, int64_t *unix_ms);

/* The same rules as SQL text, for queries that group by day (SQLite integer
 * arithmetic; floor division so that negative times are right too). */
#define QK_SQL_BEIJING_DAY(ms)                                                                     \
    "(((" ms ") + 28800000 - ((((" ms ") + 28800000) % 86400000) + 86400000) % 86400000)"          \
    " / 86400000)"

#ifdef __cplusplus
}
#endif

#endif
