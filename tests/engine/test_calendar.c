/* Tests for engine/src/calendar.c: Beijing days, months, weeks, their text
 * and parsing, at the edges people meet (midnight, month and year ends, leap
 * days, 2038, years far away) and over the whole int64 range. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "support.h"

#define HOUR (3600LL * 1000)
/* 2026-12-02 23:59:30 Beijing time */
#define DEC2_2359 1796227170000LL

static int64_t day_of(const char *date)
{
    int64_t d = 0;
    assert_int_equal(qk_beijing_parse_date(date, &d), 0);
    return d;
}

static void date_is(int64_t ms, const char *want)
{
    char d[QK_DATE_LEN];
    qk_beijing_date(ms, d);
    assert_string_equal(d, want);
}

static void time_is(int64_t ms, const char *want)
{
    char t[QK_TIME_LEN];
    qk_beijing_time_text(ms, 1, t);
    assert_string_equal(t, want);
}

static void the_day_turns_at_beijing_midnight(void **state)
{
    (void)state;
    time_is(DEC2_2359, "2026-12-02 23:59:30");
    date_is(DEC2_2359 + 29999, "2026-12-02");
    date_is(DEC2_2359 + 30000, "2026-12-03");
    assert_int_equal(qk_beijing_day(DEC2_2359 + 30000) - qk_beijing_day(DEC2_2359), 1);
    /* 16:00 UTC is Beijing midnight; 1970-01-01 00:00 UTC was 08:00 in Beijing */
    assert_int_equal(qk_beijing_day(0), 0);
    assert_int_equal(qk_beijing_day(-8 * HOUR), 0);
    assert_int_equal(qk_beijing_day(-8 * HOUR - 1), -1);
    date_is(-8 * HOUR - 1, "1969-12-31");
    assert_int_equal(qk_beijing_day_start_ms(day_of("2026-12-03")), DEC2_2359 + 30000);
}

static void months_years_and_leap_days(void **state)
{
    (void)state;
    int64_t first, last;
    qk_month_bounds(day_of("2028-02-14"), &first, &last);
    assert_int_equal(first, day_of("2028-02-01"));
    assert_int_equal(last, day_of("2028-02-29"));
    qk_month_bounds(day_of("2100-02-14"), &first, &last); /* not a leap year */
    assert_int_equal(last - first + 1, 28);
    qk_month_bounds(day_of("2000-02-29"), &first, &last); /* a leap year */
    assert_int_equal(last - first + 1, 29);
    int64_t d = 0;
    assert_int_equal(qk_beijing_parse_date("2100-02-29", &d), -1);
    assert_int_equal(qk_beijing_parse_date("2026-13-01", &d), -1);
    assert_int_equal(qk_beijing_parse_date("2026-04-31", &d), -1);
    assert_int_equal(qk_beijing_parse_date("2026-1x-01", &d), -1);
    /* the last minute of a year is in its last month */
    int64_t nye = qk_beijing_day_start_ms(day_of("2027-01-01")) - 60000;
    date_is(nye, "2026-12-31");
    qk_beijing_month(nye, &first, &last);
    assert_int_equal(first, day_of("2026-12-01"));
    assert_int_equal(last, day_of("2026-12-31"));
    assert_int_equal(qk_month_of_day(day_of("2026-12-31")) + 1, qk_month_of_day(day_of("2027-01-01")));
    assert_int_equal(qk_month_first_day(qk_month_of_day(day_of("2027-01-15"))), day_of("2027-01-01"));
    assert_int_equal(qk_month_day(day_of("2027-03-05")), 305);
}

static void weeks_run_monday_to_sunday(void **state)
{
    (void)state;
    assert_int_equal(qk_weekday(0), 4); /* 1970-01-01, a Thursday */
    assert_int_equal(qk_weekday(day_of("2026-12-02")), 3);
    assert_int_equal(qk_weekday(day_of("2026-12-06")), 7);
    assert_int_equal(qk_weekday(day_of("2040-01-01")), 7);
    assert_int_equal(qk_weekday(day_of("1969-12-29")), 1);
    int64_t mon, sun;
    qk_week_bounds(day_of("2026-12-06"), &mon, &sun); /* a Sunday */
    assert_int_equal(mon, day_of("2026-11-30"));
    assert_int_equal(sun, day_of("2026-12-06"));
    qk_week_bounds(day_of("2026-12-07"), &mon, &sun); /* the next Monday */
    assert_int_equal(mon, day_of("2026-12-07"));
    qk_week_bounds(day_of("2028-01-01"), &mon, &sun); /* a week across the new year */
    assert_int_equal(mon, day_of("2027-12-27"));
    assert_int_equal(sun, day_of("2028-01-02"));
}

static void past_2038_and_far_years(void **state)
{
    (void)state;
    time_is(2147483648000LL, "2038-01-19 11:14:08"); /* 2^31 s: where 32-bit time_t ends */
    time_is(4102444800000LL, "2100-01-01 08:00:00");
    date_is(qk_beijing_day_start_ms(day_of("2040-03-05")), "2040-03-05");
    char t[QK_DATE_LEN];
    qk_day_text(qk_day_from_civil(10000, 1, 1), t);
    assert_string_equal(t, "10000-01-01");
    qk_day_text(qk_day_from_civil(-1, 12, 31), t);
    assert_string_equal(t, "-0001-12-31");
    /* the ends of int64 milliseconds (Python: datetime arithmetic, UTC+8) */
    char full[QK_TIME_LEN];
    qk_beijing_time_text(INT64_MAX, 1, full);
    assert_string_equal(full, "292278994-08-17 15:12:55");
    qk_beijing_time_text(INT64_MIN, 1, full);
    assert_string_equal(full, "-292275055-05-17 00:47:04");
    /* the days holding them start (or would start) outside the range: held */
    assert_int_equal(qk_beijing_day_start_ms(qk_beijing_day(INT64_MIN)), INT64_MIN);
    int64_t last = qk_beijing_day_start_ms(qk_beijing_day(INT64_MAX));
    assert_true(last < INT64_MAX && INT64_MAX - last < QK_DAY_MS);
    date_is(last, "292278994-08-17");
    assert_int_equal(qk_beijing_day_start_ms(qk_beijing_day(INT64_MAX) + 1), INT64_MAX);
    char shortt[QK_TIME_LEN];
    qk_beijing_short_text(DEC2_2359, shortt);
    assert_string_equal(shortt, "12-02 23:59");
}

static void civil_round_trips_over_the_whole_range(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = (int64_t)x;
        int64_t day = qk_beijing_day(ms);
        qk_civil c;
        qk_civil_from_day(day, &c);
        assert_true(c.month >= 1 && c.month <= 12);
        assert_true(c.day >= 1 && c.day <= qk_month_days(c.year, c.month));
        assert_int_equal(qk_day_from_civil(c.year, c.month, c.day), day);
        /* the day's start is at or before the time, the next day's after it */
        if (day > -106751991167LL && day < 106751991166LL) {
            assert_true(qk_beijing_day_start_ms(day) <= ms);
            assert_true(qk_beijing_day_start_ms(day + 1) > ms);
        }
        int w = qk_weekday(day);
        assert_int_equal(qk_weekday(day + 1), w % 7 + 1);
    }
}

static void instants_parse_with_and_without_offsets(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(qk_parse_instant("2026-12-02T23:59:30+08:00", &ms), 0);
    assert_int_equal(ms, DEC2_2359);
    assert_int_equal(qk_parse_instant("2026-12-02 23:59:30", &ms), 0); /* Beijing */
    assert_int_equal(ms, DEC2_2359);
    assert_int_equal(qk_parse_instant("2026-12-02T15:59:30Z", &ms), 0);
    assert_int_equal(ms, DEC2_2359);
    assert_int_equal(qk_parse_instant("2026-12-02T10:59:30.250-05:00", &ms), 0);
    assert_int_equal(ms, DEC2_2359 + 250);
    assert_int_equal(qk_parse_instant("2026-12-02T23:59:30+0800", &ms), 0);
    assert_int_equal(ms, DEC2_2359);
    assert_int_equal(qk_parse_instant("2026-12-03", &ms), 0); /* Beijing midnight */
    assert_int_equal(ms, DEC2_2359 + 30000);
    assert_int_equal(qk_parse_instant("2026-12-02T23:59", &ms), 0);
    assert_int_equal(ms, DEC2_2359 - 30000);
    assert_int_equal(qk_parse_instant("@1796227170", &ms), 0);
    assert_int_equal(ms, DEC2_2359);
    const char *bad[] = {"", "now", "2026-12-02T24:00", "2026-12-02T23:60", "2026-02-30",
                         "2026-12-02T23:59:30+8", "2026-12-02T23:59:30 junk", "2026-12-02T23",
                         "2026-12-02T23:59:30.", "@", "@12a", "2026-12-02T23:59:61"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (qk_parse_instant(bad[i], &ms) != -1)
            fail_msg("accepted '%s'", bad[i]);
    }
    assert_int_equal(qk_beijing_parse_minute("2027-03-05 08:00", &ms), 0);
    assert_int_equal(ms, qk_beijing_day_start_ms(day_of("2027-03-05")) + 8 * HOUR);
    assert_int_equal(qk_beijing_parse_minute("2027-03-05 08:00:00", &ms), -1);
}

/* The SQL form of the day gives what the C function gives, negatives too. */
static void the_sql_day_is_the_c_day(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT " QK_SQL_BEIJING_DAY("?1"), -1, &st, NULL),
                     SQLITE_OK);
    const int64_t cases[] = {0, -1, -8 * HOUR, -8 * HOUR - 1, DEC2_2359, DEC2_2359 + 30000,
                             -86400000LL * 365 * 100, 253402300799999LL};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sqlite3_bind_int64(st, 1, cases[i]);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(st, 0), qk_beijing_day(cases[i]));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void the_clock_can_be_set_and_runs_at_its_rate(void **state)
{
    (void)state;
    qk_clock c;
    char msg[256];
    assert_int_equal(qk_clock_parse(&c, "2026-12-02T23:59:30+08:00", "0", NULL, QK_LANG_EN, msg,
                                    sizeof msg),
                     QK_OK);
    assert_int_equal(qk_clock_now_ms(&c), DEC2_2359); /* stopped */
    /* a shared start: 10 real seconds ago at 60x is 10 minutes on */
    char since[32];
    snprintf(since, sizeof since, "%lld", (long long)(qk_clock_real_ms() - 10000));
    assert_int_equal(qk_clock_parse(&c, "2026-12-02T23:59:30+08:00", "60", since, QK_LANG_EN, msg,
                                    sizeof msg),
                     QK_OK);
    int64_t now = qk_clock_now_ms(&c);
    assert_true(now >= DEC2_2359 + 600000 && now < DEC2_2359 + 660000);
    assert_int_equal(qk_clock_parse(&c, "tomorrow", NULL, NULL, QK_LANG_EN, msg, sizeof msg),
                     QK_EINVAL);
    assert_non_null(strstr(msg, "QUIZKIT_NOW"));
    assert_non_null(strstr(msg, "tomorrow"));
    assert_int_equal(qk_clock_parse(&c, "2026-12-02", "fast", NULL, QK_LANG_EN, msg, sizeof msg),
                     QK_EINVAL);
    assert_non_null(strstr(msg, "QUIZKIT_NOW_RATE"));
    assert_int_equal(qk_clock_parse(&c, "2026-12-02", NULL, "-5", QK_LANG_ZH, msg, sizeof msg),
                     QK_EINVAL);
    assert_non_null(strstr(msg, "QUIZKIT_NOW_SINCE"));
    /* none set: the system clock */
    assert_int_equal(qk_clock_parse(&c, NULL, "60", NULL, QK_LANG_EN, msg, sizeof msg), QK_OK);
    assert_int_equal(c.set, 0);
    /* the far ends: 100,000x since 1970, or an anchor at the end of time,
     * hold at the int64 ends (no overflow: UBSan checks this build) */
    assert_int_equal(qk_clock_parse(&c, "9999-12-31T23:59", "100000", "0", QK_LANG_EN, msg,
                                    sizeof msg),
                     QK_OK);
    int64_t before = qk_clock_real_ms();
    int64_t far = qk_clock_now_ms(&c);
    int64_t after = qk_clock_real_ms();
    assert_true(far >= c.at_ms + before * 100000 && far <= c.at_ms + after * 100000);
    assert_true(qk_clock_mono_ms(&c) > 0);
    assert_int_equal(qk_clock_parse(&c, "1970-01-01T08:00", "100000", "9223372036854775807",
                                    QK_LANG_EN, msg, sizeof msg),
                     QK_OK);
    assert_true(qk_clock_now_ms(&c) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_day_turns_at_beijing_midnight),
        cmocka_unit_test(months_years_and_leap_days),
        cmocka_unit_test(weeks_run_monday_to_sunday),
        cmocka_unit_test(past_2038_and_far_years),
        cmocka_unit_test(civil_round_trips_over_the_whole_range),
        cmocka_unit_test(instants_parse_with_and_without_offsets),
        cmocka_unit_test(the_sql_day_is_the_c_day),
        cmocka_unit_test(the_clock_can_be_set_and_runs_at_its_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
