// What the browser tests share: TAP-like checks ("ok - ..." / "FAIL - ..."),
// Debian's chromium launched headless and kept off every network but
// loopback, and pages that note any request leaving the server under test.
import { chromium } from 'playwright-core';

let fails = 0, passes = 0;
export const ok = name => { passes++; console.log(`ok - ${name}`); };
export const bad = (name, why) => { fails++; console.log(`FAIL - ${name}: ${why}`); };
export const expectEq = (name, got, want) => {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  g === w ? ok(name) : bad(name, `got ${g}, want ${w}`);
};
export const expectTrue = (name, v, why = '') => (v ? ok(name) : bad(name, why || 'false'));

/* The tally line the shell side counts on, and the exit status. */
export function finish() {
  console.log(`${passes} passed, ${fails} failed`);
  process.exit(fails ? 1 : 0);
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', // CI runs as root
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--no-first-run', '--metrics-recording-only',
    ],
  });
}

/* A page in a fresh context (zh-CN); requests to anything but the allowed
 * origins land in foreign; script errors fail the run. */
export async function newPage(browser, viewport, allowed, foreign, extra = {}) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', ...extra });
  const page = await context.newPage();
  page.on('request', r => {
    const u = r.url();
    if (!allowed.some(o => u.startsWith(o)) && !u.startsWith('blob:') && !u.startsWith('data:')) foreign.push(u);
  });
  page.on('pageerror', e => bad('no script errors', e.message));
  return page;
}
