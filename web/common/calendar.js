/* calendar.js: the one calendar and clock of the pages (DESIGN.md decision
 * 10), the JavaScript twin of engine/src/calendar.c.
 *
 * Every date a page shows or counts by is a Beijing date: UTC+8, no daylight
 * saving. Days are numbered from 1970-01-01 (day 0, a Thursday); months as
 * year * 12 + month - 1; weeks run Monday to Sunday; division floors, so times
 * before 1970 get negative days. No Date object is used for the calendar: the
 * browser's time zone never enters, and the answers are the C file's for every
 * time a page meets (tests/web/calendar.mjs compares both, line by line).
 * Numbers are exact for times within 2^53 ms of 1970 (about 285,000 years),
 * where the C file's int64_t reaches further.
 *
 * The clock: a page shows and counts time by the clock of the quizkit process
 * that serves it (QUIZKIT_NOW and friends, quizkit/clock.h), never by the
 * browser's wall clock or zone. The page sets it from what the host says the
 * time is (the kiosk's /api/home "now_ms", the server's /api/v1/time
 * "server_ms") and it runs from there on the browser's monotonic clock. This
 * file is the only one under web/ that reads the browser's clocks.
 *
 * Plain JavaScript, no build step: a page loads it with <script src> and
 * finds window.qkCalendar; node loads it with require (module.exports). */
(function (root) {
  'use strict';

  const DAY_MS = 86400000;
  const OFFSET_MS = 8 * 3600 * 1000; /* Beijing: UTC+8 all year */

  /* Floor modulo and division for a positive divisor. JavaScript's % is exact
   * on integers, so the quotient is formed from an exact multiple of b and
   * never rounds the wrong way (Math.floor(a / b) can, near 2^53). */
  function floorMod(a, b) {
    const r = a % b;
    return r < 0 ? r + b : r;
  }
  function floorDiv(a, b) {
    return (a - floorMod(a, b)) / b;
  }

  /* The Beijing day of a time (ms since 1970 UTC). */
  function beijingDay(ms) {
    const day = floorDiv(ms, DAY_MS);
    const rest = floorMod(ms, DAY_MS) + OFFSET_MS;
    return day + (rest >= DAY_MS ? 1 : 0);
  }

  /* The first millisecond of a Beijing day. */
  function dayStartMs(day) {
    return day * DAY_MS - OFFSET_MS;
  }

  function leapYear(y) {
    return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  }

  const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  function monthDays(year, month) {
    if (month < 1 || month > 12) return 0;
    return MONTH_DAYS[month - 1] + (month === 2 && leapYear(year) ? 1 : 0);
  }

  /* H. Hinnant's days_from_civil and civil_from_days, as calendar.c has them:
   * eras of 400 years starting on 1 March, so the leap day ends its year. */
  function dayFromCivil(year, month, day) {
    const y = year - (month <= 2 ? 1 : 0);
    const era = floorDiv(y, 400);
    const yoe = y - era * 400; /* 0..399 */
    const doy = Math.trunc((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
    const doe = yoe * 365 + Math.trunc(yoe / 4) - Math.trunc(yoe / 100) + doy;
    return era * 146097 + doe - 719468;
  }

  /* {year, month 1-12, day 1-31} of a day number. */
  function civilFromDay(dayNumber) {
    const z = dayNumber + 719468;
    const era = floorDiv(z, 146097);
    const doe = z - era * 146097; /* 0..146096 */
    const yoe = Math.trunc((doe - Math.trunc(doe / 1460) + Math.trunc(doe / 36524) -
                            Math.trunc(doe / 146096)) / 365); /* 0..399 */
    const doy = doe - (365 * yoe + Math.trunc(yoe / 4) - Math.trunc(yoe / 100));
    const mp = Math.trunc((5 * doy + 2) / 153); /* 0..11 */
    const day = doy - Math.trunc((153 * mp + 2) / 5) + 1;
    const month = mp < 10 ? mp + 3 : mp - 9;
    return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
  }

  /* 1 Monday ... 7 Sunday (day 0 was a Thursday). */
  function weekday(day) {
    return floorMod(day + 3, 7) + 1;
  }

  /* Months as year * 12 + month - 1. */
  function monthOfDay(day) {
    const c = civilFromDay(day);
    return c.year * 12 + c.month - 1;
  }
  function monthFirstDay(month) {
    return dayFromCivil(floorDiv(month, 12), floorMod(month, 12) + 1, 1);
  }

  /* [first, last] day of the month, and [Monday, Sunday] of the week, a day is in. */
  function monthBounds(day) {
    const m = monthOfDay(day);
    return [monthFirstDay(m), monthFirstDay(m + 1) - 1];
  }
  function weekBounds(day) {
    const monday = day - (weekday(day) - 1);
    return [monday, monday + 6];
  }

  /* month * 100 + day: 5 March is 305. */
  function monthDay(day) {
    const c = civilFromDay(day);
    return c.month * 100 + c.day;
  }

  const pad = (n, w) => String(n).padStart(w, '0');
  /* ISO 8601's year: four digits at least, a sign when negative. */
  const yearText = y => (y < 0 ? `-${pad(-y, 4)}` : pad(y, 4));

  /* "YYYY-MM-DD" of a day number. */
  function dayText(day) {
    const c = civilFromDay(day);
    return `${yearText(c.year)}-${pad(c.month, 2)}-${pad(c.day, 2)}`;
  }

  /* "YYYY-MM-DD" of the Beijing day of a time. */
  function dateText(ms) {
    return dayText(beijingDay(ms));
  }

  /* "YYYY-MM-DD HH:MM", or with seconds, in Beijing time. */
  function timeText(ms, seconds) {
    let inDay = floorMod(ms, DAY_MS) + OFFSET_MS;
    if (inDay >= DAY_MS) inDay -= DAY_MS;
    const s = Math.trunc(inDay / 1000); /* 0..86399 */
    const hm = `${pad(Math.trunc(s / 3600), 2)}:${pad(Math.trunc(s / 60) % 60, 2)}`;
    return `${dateText(ms)} ${hm}${seconds ? ':' + pad(s % 60, 2) : ''}`;
  }

  /* "MM-DD HH:MM" in Beijing time, for lists where the year is evident. */
  function shortText(ms) {
    const full = timeText(ms, false);
    return full.slice(full.indexOf('-', 1) + 1);
  }

  /* "YYYY-MM-DD" (its first ten characters; a real date with a four-digit
   * year): the day number, or null. */
  function parseDate(s) {
    const m = typeof s === 'string' && /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
    if (!m) return null;
    const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
    if (mo < 1 || mo > 12 || d < 1 || d > monthDays(y, mo)) return null;
    return dayFromCivil(y, mo, d);
  }

  /* A day as people say it: "12月2日" or "2 December" (no year). */
  const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                       'September', 'October', 'November', 'December'];
  function dayLabel(day, lang) {
    const c = civilFromDay(day);
    return lang === 'en' ? `${c.day} ${MONTH_NAMES[c.month - 1]}` : `${c.month}月${c.day}日`;
  }

  /* --- the clock --- */

  const hasPerf = typeof performance !== 'undefined' && typeof performance.now === 'function';
  /* the browser's monotonic clock, in ms from an arbitrary origin */
  const mono = () => (hasPerf ? performance.now() : Date.now());
  let anchor = null; /* { hostMs, at: mono() when the host's clock showed hostMs, rate } */

  /* The host says its clock shows hostMs. sentAt (mono() taken when the
   * request left) puts the reading in the middle of the round trip. rate is
   * the host clock's speed (QUIZKIT_NOW_RATE: seconds per real second; 1
   * unless the host says otherwise). */
  function setNow(hostMs, sentAt, rate) {
    if (typeof hostMs !== 'number' || !Number.isFinite(hostMs)) return;
    const got = mono();
    anchor = {
      hostMs,
      at: typeof sentAt === 'number' && sentAt <= got ? (sentAt + got) / 2 : got,
      rate: typeof rate === 'number' && Number.isFinite(rate) && rate >= 0 ? rate : 1,
    };
  }

  /* The host's time now, in ms since 1970 UTC (whole ms, as the host counts).
   * Until a page has heard from its host there is nothing better than the
   * browser's own clock. */
  function now() {
    return anchor ? Math.floor(anchor.hostMs + (mono() - anchor.at) * anchor.rate) : Date.now();
  }

  const api = {
    DAY_MS, OFFSET_MS, beijingDay, dayStartMs, leapYear, monthDays, dayFromCivil, civilFromDay,
    weekday, monthOfDay, monthFirstDay, monthBounds, weekBounds, monthDay, dayText, dateText,
    timeText, shortText, parseDate, dayLabel,
    now, setNow, mono, synced: () => anchor !== null,
    rate: () => (anchor ? anchor.rate : 1), /* host clock ms per real ms */
    today: () => beijingDay(now()),
  };
  root.qkCalendar = api;
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
})(typeof window !== 'undefined' ? window : globalThis);
