/* calendar.c: Beijing days, months, weeks and their text (quizkit/calendar.h).
 *
 * Only int64_t arithmetic and libc's snprintf: this file is also compiled on
 * its own for the 32-bit check (tests/engine/calendar_table.c), so it must
 * not include the engine's internals. */
#include <stdio.h>
#include <string.h>

#include "quizkit/calendar.h"

/* Floor division and its remainder, for a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b; /* never a - q * b: that overflows at INT64_MIN */
    return r < 0 ? r + b : r;
}

int64_t qk_beijing_day(int64_t unix_ms)
{
    /* Split first so that adding the offset cannot overflow near INT64_MAX. */
    int64_t day = floor_div(unix_ms, QK_DAY_MS);
    int64_t rest = floor_mod(unix_ms, QK_DAY_MS) + QK_BEIJING_OFFSET_MS;
    return day + (rest >= QK_DAY_MS ? 1 : 0);
}

int64_t qk_beijing_day_start_ms(int64_t day)
{
    /* The first and last days of the int64 range start outside it: held at
     * its ends rather than overflowing. */
    const int64_t first = QK_DAY_MS - QK_BEIJING_OFFSET_MS; /* day 0 ends here */
    if (day > 0) /* (day - 1) whole days, then the part of day 0 after 1970 */
        return day - 1 > (INT64_MAX - first) / QK_DAY_MS ? INT64_MAX
                                                          : (day - 1) * QK_DAY_MS + first;
    /* C's division truncates toward zero: for negatives, the ceiling */
    return day < (INT64_MIN + QK_BEIJING_OFFSET_MS) / QK_DAY_MS
               ? INT64_MIN
               : day * QK_DAY_MS - QK_BEIJING_OFFSET_MS;
}

int qk_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int qk_month_days(int64_t year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return days[month - 1] + (month == 2 && qk_leap_year(year));
}

/* Eras of 400 years (146,097 days) starting on 1 March: the leap day is the
 * last day of its year, which makes the month lengths a simple formula. */
int64_t qk_day_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* 0..399 */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return era * 146097 + doe - 719468;
}

void qk_civil_from_day(int64_t day, qk_civil *out)
{
    int64_t z = day + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                       /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                     /* 0..11 */
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = yoe + era * 400 + (out->month <= 2);
}

int qk_weekday(int64_t day)
{
    /* Day 0 was a Thursday (4). */
    return (int)floor_mod(day + 3, 7) + 1;
}

int64_t qk_month_of_day(int64_t day)
{
    qk_civil c;
    qk_civil_from_day(day, &c);
    return c.year * 12 + c.month - 1;
}

int64_t qk_month_first_day(int64_t month)
{
    return qk_day_from_civil(floor_div(month, 12), (int)floor_mod(month, 12) + 1, 1);
}

void qk_month_bounds(int64_t day, int64_t *first, int64_t *last)
{
    int64_t m = qk_month_of_day(day);
    *first = qk_month_first_day(m);
    *last = qk_month_first_day(m + 1) - 1;
}

void qk_week_bounds(int64_t day, int64_t *monday, int64_t *sunday)
{
    *monday = day - (qk_weekday(day) - 1);
    *sunday = *monday + 6;
}

int qk_month_day(int64_t day)
{
    qk_civil c;
    qk_civil_from_day(day, &c);
    return c.month * 100 + c.day;
}

void qk_beijing_month(int64_t unix_ms, int64_t *first_day, int64_t *last_day)
{
    qk_month_bounds(qk_beijing_day(unix_ms), first_day, last_day);
}

/* The year as ISO 8601 writes it: four digits at least, a sign when negative. */
static int year_text(char *out, size_t n, int64_t y)
{
    if (y < 0)
        return snprintf(out, n, "-%04lld", (long long)-y);
    return snprintf(out, n, "%04lld", (long long)y);
}

void qk_day_text(int64_t day, char out[QK_DATE_LEN])
{
    qk_civil c;
    qk_civil_from_day(day, &c);
    int k = year_text(out, QK_DATE_LEN, c.year);
    snprintf(out + k, (size_t)(QK_DATE_LEN - k), "-%02d-%02d", c.month, c.day);
}

void qk_beijing_date(int64_t unix_ms, char out[QK_DATE_LEN])
{
    qk_day_text(qk_beijing_day(unix_ms), out);
}

void qk_beijing_time_text(int64_t unix_ms, int seconds, char out[QK_TIME_LEN])
{
    int64_t day = qk_beijing_day(unix_ms);
    /* Seconds into the Beijing day, without forming the day's start (which
     * could overflow for the last days an int64_t reaches). */
    int64_t in_day = floor_mod(unix_ms, QK_DAY_MS) + QK_BEIJING_OFFSET_MS;
    if (in_day >= QK_DAY_MS)
        in_day -= QK_DAY_MS;
    in_day /= 1000; /* 0..86399 */
    char date[QK_DATE_LEN];
    qk_day_text(day, date);
    int h = (int)(in_day / 3600), mi = (int)(in_day / 60 % 60), s = (int)(in_day % 60);
    if (seconds)
        snprintf(out, QK_TIME_LEN, "%s %02d:%02d:%02d", date, h, mi, s);
    else
        snprintf(out, QK_TIME_LEN, "%s %02d:%02d", date, h, mi);
}

void qk_beijing_short_text(int64_t unix_ms, char out[QK_TIME_LEN])
{
    char full[QK_TIME_LEN];
    qk_beijing_time_text(unix_ms, 0, full);
    /* the year is everything before the first '-' after an optional sign */
    const char *p = strchr(full + 1, '-');
    snprintf(out, QK_TIME_LEN, "%s", p ? p + 1 : full);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int qk_beijing_parse_date(const char *s, int64_t *day)
{
    int y, m, d;
    if (!s || strnlen(s, 10) < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
        digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1 || d > qk_month_days(y, m))
        return -1;
    *day = qk_day_from_civil(y, m, d);
    return 0;
}

/* "HH:MM" at s: seconds since midnight. */
static int parse_hm(const char *s, int *secs)
{
    int h, mi;
    if (s[2] != ':' || digits(s, 2, &h) || digits(s + 3, 2, &mi) || h > 23 || mi > 59)
        return -1;
    *secs = h * 3600 + mi * 60;
    return 0;
}

int qk_beijing_parse_minute(const char *s, int64_t *unix_ms)
{
    int64_t day;
    int secs;
    if (!s || strlen(s) != 16 || (s[10] != ' ' && s[10] != 'T') ||
        qk_beijing_parse_date(s, &day) || parse_hm(s + 11, &secs))
        return -1;
    *unix_ms = qk_beijing_day_start_ms(day) + (int64_t)secs * 1000;
    return 0;
}

/* "@SECONDS": Unix time, optionally negative. */
static int parse_unix(const char *s, int64_t *unix_ms)
{
    int neg = *s == '-';
    s += neg;
    if (!*s || strlen(s) > 15)
        return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    *unix_ms = (neg ? -v : v) * 1000;
    return 0;
}

int qk_parse_instant(const char *s, int64_t *unix_ms)
{
    if (!s)
        return -1;
    if (*s == '@')
        return parse_unix(s + 1, unix_ms);
    int64_t day;
    if (qk_beijing_parse_date(s, &day))
        return -1;
    const char *p = s + 10;
    int64_t ms = 0;
    if (*p == 'T' || *p == ' ') {
        int secs;
        if (strnlen(p + 1, 5) < 5 || parse_hm(p + 1, &secs))
            return -1;
        ms = (int64_t)secs * 1000;
        p += 6;
        if (*p == ':') {
            int sec;
            if (digits(p + 1, 2, &sec) || sec > 59)
                return -1;
            ms += (int64_t)sec * 1000;
            p += 3;
            if (*p == '.' || *p == ',') {
                int scale = 100, n = 0;
                for (p++; *p >= '0' && *p <= '9'; p++, n++) {
                    ms += (int64_t)(*p - '0') * scale;
                    scale /= 10;
                }
                if (n == 0)
                    return -1;
            }
        }
    } else if (*p) {
        return -1;
    }
    /* The offset from UTC; none: Beijing. */
    int64_t offset_ms = QK_BEIJING_OFFSET_MS;
    if (*p == 'Z' || *p == 'z') {
        offset_ms = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, h, mi = 0;
        p++;
        if (digits(p, 2, &h) || h > 23)
            return -1;
        p += 2;
        if (*p == ':')
            p++;
        if (*p && (digits(p, 2, &mi) || mi > 59))
            return -1;
        p += *p ? 2 : 0;
        offset_ms = (int64_t)sign * (h * 60 + mi) * 60000;
    }
    if (*p)
        return -1;
    /* Local wall time at that offset, back to UTC. */
    *unix_ms = day * QK_DAY_MS + ms - offset_ms;
    return 0;
}
