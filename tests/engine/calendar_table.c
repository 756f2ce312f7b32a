/* calendar_table: prints what engine/src/calendar.c answers for a fixed set of
 * times, one line each, so that two builds can be compared line by line: the
 * native one and a 32-bit one (-m32), whose time_t ends in 2038 but whose
 * calendar must not. The JavaScript twin (web/common/calendar.js) is compared
 * with the same table by tests/web/calendar.mjs. Built from calendar.c alone. */
#include <stdio.h>

#include "quizkit/calendar.h"

static void line(int64_t ms)
{
    int64_t day = qk_beijing_day(ms), first, last, mon, sun;
    char date[QK_DATE_LEN], t[QK_TIME_LEN];
    qk_day_text(day, date);
    qk_beijing_time_text(ms, 1, t);
    qk_month_bounds(day, &first, &last);
    qk_week_bounds(day, &mon, &sun);
    int64_t back = 0;
    int parsed = qk_beijing_parse_date(date, &back);
    printf("%lld %lld %s|%s %d %lld %lld %lld %lld %d %d %lld\n", (long long)ms, (long long)day,
           date, t, qk_weekday(day), (long long)qk_month_of_day(day), (long long)first,
           (long long)last, (long long)mon, qk_month_day(day), parsed,
           (long long)(parsed == 0 ? back - day : 0));
}

int main(void)
{
    static const char *const instants[] = {
        "1970-01-01T00:00:00Z",      "1969-12-31T23:59:59.999+08:00", "2026-12-02T23:59:30+08:00",
        "2026-12-03T00:00:05+08:00", "2026-11-30T23:59:00+08:00",    "2026-12-31T23:59:00+08:00",
        "2027-01-01T00:00:00+08:00", "2028-02-29T12:00:00+08:00",    "2027-03-05T10:00:00+08:00",
        "2026-12-06T23:59:59+08:00", "2026-12-07T00:00:00+08:00",    "2038-01-19T03:14:07Z",
        "2038-01-19T03:14:08Z",      "2040-06-30T23:59:59+08:00",    "2100-02-28T23:59:59+08:00",
        "2100-03-01T00:00:00+08:00", "9999-12-31T23:59:59.999+08:00", "1900-01-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        int64_t ms = 0;
        if (qk_parse_instant(instants[i], &ms) != 0) {
            printf("cannot parse %s\n", instants[i]);
            return 1;
        }
        line(ms);
    }
    /* Every day boundary for four years around 2038, then times spread over
     * the years 1900-9999 by a fixed generator (the same on every build). */
    int64_t from = qk_beijing_day_start_ms(qk_day_from_civil(2036, 1, 1));
    for (int64_t d = 0; d < 4 * 366; d++) {
        line(from + d * QK_DAY_MS - 1);
        line(from + d * QK_DAY_MS);
    }
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 5000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* -2208988800000 (1900) .. 253402300799999 (9999-12-31) */
        line(-2208988800000LL + (int64_t)(x % 255611289600000u));
    }
    return 0;
}
