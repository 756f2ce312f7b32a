// The pages' calendar (web/common/calendar.js) answers as the engine's
// (engine/src/calendar.c) does: tests/engine/calendar_table.c prints the C
// answers for a fixed set of times (midnights, month and year ends, leap days,
// 2038, every day boundary of 2036-2039, 5,000 times over the years
// 1900-9999), and each line is rebuilt here from calendar.js and compared.
// Then the clock: it follows the host's reading, not the browser's, and only
// calendar.js reads the browser's clocks.
//
// usage: node calendar.mjs CALENDAR_TABLE_BINARY
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, '..', '..', 'web');
const cal = createRequire(import.meta.url)(join(web, 'common', 'calendar.js'));

let passes = 0, fails = 0;
const ok = name => { passes++; console.log(`ok - ${name}`); };
const bad = (name, why) => { fails++; console.log(`FAIL - ${name}: ${why}`); };
const expectEq = (name, got, want) => {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  g === w ? ok(name) : bad(name, `got ${g}, want ${w}`);
};

/* The line calendar_table.c prints for ms, from calendar.js. */
function line(ms) {
  const day = cal.beijingDay(ms);
  const date = cal.dayText(day);
  const [first, last] = cal.monthBounds(day);
  const [mon] = cal.weekBounds(day);
  const back = cal.parseDate(date);
  const parsed = back === null ? -1 : 0;
  return `${ms} ${day} ${date}|${cal.timeText(ms, true)} ${cal.weekday(day)} ${cal.monthOfDay(day)} ` +
    `${first} ${last} ${mon} ${cal.monthDay(day)} ${parsed} ${parsed === 0 ? back - day : 0}`;
}

const table = process.argv[2];
let lines = [];
try {
  lines = execFileSync(table, { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean);
} catch (e) {
  bad('the C table printer runs', `${table}: ${e.message}`);
}
expectEq('the C table has its 7,946 lines', lines.length, 7946);

/* Three parts, as calendar_table.c prints them. */
const parts = [
  ['the named instants (midnights, month and year ends, leap days, 2038, 9999)', 0, 18],
  ['every day boundary of 2036-2039, a millisecond either side', 18, 18 + 4 * 366 * 2],
  ['5,000 times over the years 1900-9999', 18 + 4 * 366 * 2, lines.length],
];
for (const [name, from, to] of parts) {
  const wrong = [];
  for (let i = from; i < to; i++) {
    const ms = Number(lines[i].split(' ')[0]);
    const js = line(ms);
    if (js !== lines[i]) wrong.push(`\n    C:  ${lines[i]}\n    JS: ${js}`);
  }
  if (to <= from) bad(`C and JS agree on ${name}`, 'no lines');
  else if (wrong.length) bad(`C and JS agree on ${name}`, `${wrong.length} lines differ${wrong.slice(0, 5).join('')}`);
  else ok(`C and JS agree on ${name} (${to - from} lines)`);
}

// Text the table does not print.
const at = (y, mo, d, h, mi, s) => cal.dayStartMs(cal.dayFromCivil(y, mo, d)) + ((h * 60 + mi) * 60 + s) * 1000;
const t = at(2026, 12, 2, 23, 59, 30);
expectEq('Beijing time of 2026-12-02T15:59:30Z', cal.timeText(Date.UTC(2026, 11, 2, 15, 59, 30), true), '2026-12-02 23:59:30');
expectEq('a time without seconds', cal.timeText(t, false), '2026-12-02 23:59');
expectEq('the short text of a time (no year)', cal.shortText(t), '12-02 23:59');
expectEq('the short text before the year 0', cal.shortText(cal.dayStartMs(cal.dayFromCivil(-44, 3, 15))), '03-15 00:00');
expectEq('a day as people say it', [cal.dayLabel(cal.beijingDay(t), 'zh'), cal.dayLabel(cal.beijingDay(t), 'en')],
         ['12月2日', '2 December']);
expectEq('midnight in Beijing is the next day', cal.dateText(t + 30000), '2026-12-03');
expectEq('the leap day parses', cal.dayText(cal.parseDate('2028-02-29')), '2028-02-29');
expectEq('dates that are not real do not',
         ['2027-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '26-12-02', '2026/12/02', '', null].map(cal.parseDate),
         [null, null, null, null, null, null, null, null]);
expectEq('a date followed by a time parses (its first ten characters)', cal.parseDate('2026-12-02 23:59'),
         cal.dayFromCivil(2026, 12, 2));
expectEq('the week of Sunday 2026-12-06 starts on Monday 11-30',
         cal.weekBounds(cal.parseDate('2026-12-06')).map(cal.dayText), ['2026-11-30', '2026-12-06']);
expectEq('February of a leap year', cal.monthBounds(cal.parseDate('2028-02-10')).map(cal.dayText),
         ['2028-02-01', '2028-02-29']);

// The clock follows the host, at the browser's pace, never its wall clock.
const host = at(2040, 6, 30, 23, 59, 40);
cal.setNow(host);
const seen = cal.now();
expectTrue('after the host says 2040-06-30 23:59:40 the clock shows it', seen >= host && seen - host < 1000, String(seen - host));
const t0 = cal.now();
await new Promise(r => setTimeout(r, 300));
const ran = cal.now() - t0;
expectTrue('and runs on from there', ran >= 250 && ran < 2000, `${ran} ms`);
const sent = cal.mono();
await new Promise(r => setTimeout(r, 200));
cal.setNow(host, sent);
const mid = cal.now() - host;
expectTrue('a reading taken over a round trip counts from its middle', mid >= 50 && mid < 1000, `${mid} ms`);
expectEq("today is the host's day", cal.dayText(cal.today()), '2040-06-30');
cal.setNow(host, undefined, 0);
await new Promise(r => setTimeout(r, 100));
expectEq('a host clock that stands (QUIZKIT_NOW_RATE=0) stands on the page too', cal.now(), host);
cal.setNow(host, undefined, 60);
await new Promise(r => setTimeout(r, 200));
const fast = cal.now() - host;
expectTrue('and one that runs 60 times as fast runs so', fast >= 150 * 60 && fast < 2000 * 60, `${fast} ms`);
expectEq('the times are whole milliseconds', Number.isInteger(cal.now()), true);
expectEq("the page knows the host clock's rate (the kiosk's wait for midnight is in real ms)", cal.rate(), 60);

function expectTrue(name, v, why) { v ? ok(name) : bad(name, why || 'false'); }

// Only calendar.js reads the browser's clocks (and the zone it would bring).
const readers = [];
for (const dir of readdirSync(web, { withFileTypes: true }).filter(d => d.isDirectory())) {
  for (const f of readdirSync(join(web, dir.name)).filter(n => /\.(js|html)$/.test(n))) {
    const rel = `${dir.name}/${f}`;
    if (rel === 'common/calendar.js') continue;
    const src = readFileSync(join(web, dir.name, f), 'utf8');
    if (/\bDate\.now\s*\(|\bnew\s+Date\b|\bDate\s*\(|performance\.now|getTimezoneOffset|toLocale(Date|Time)?String/.test(src))
      readers.push(rel);
  }
}
expectEq('no page but calendar.js reads the clock or the time zone', readers, []);

console.log(`${passes} passed, ${fails} failed`);
process.exit(fails ? 1 : 0);
