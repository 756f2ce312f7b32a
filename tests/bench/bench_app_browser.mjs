// bench_app_browser: the phones' app in Chromium (issue 18), what a member
// waits for, against the kiosk's same pages on the native engine over HTTP
// in the same run (the baseline: one page, two transports).
//
//   first open   a phone that has never seen the app: from the address to
//                the enrolment screen (download the pages and the module,
//                compile it, open IndexedDB, start the engine)
//   cold start   an enrolled phone, the app opened in a new tab (the
//                service worker's copies, the engine started again, its
//                files read back from IndexedDB and the bundle verified in
//                full): from the address to the first question of a guest's
//                practice quiz (goal ≤ 1 s on this machine). The kiosk's
//                figure is the same walk on `quizkit kiosk`.
//   answer       one answer taken and saved (the page's request, the
//                engine's write, IndexedDB's save before the reply), median;
//                the kiosk's: the request over HTTP and a durable commit.
//
// Each figure is the median of RUNS (default 7), taken in turns with the
// kiosk's so that a busy spell of the machine falls on both.
//
// usage: node tests/bench/bench_app_browser.mjs QUIZKIT SAMPLES.qkb KEY.pub MODULE_DIR [RUNS]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, startServer, stopServer } from '../web/harness.mjs';
import { appServer } from '../web/appserver.mjs';
import { enrol, pickAnswer, screen, tap, waitScreen } from '../web/walk.mjs';

const [qk, samples, keyPub, moduleDir, runsArg] = process.argv.slice(2);
if (!moduleDir) {
  console.error('usage: node bench_app_browser.mjs QUIZKIT SAMPLES.qkb KEY.pub MODULE_DIR [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg || 7);
const median = xs => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const fmt = ms => `${ms.toFixed(0)} ms`;

/* The same clock for the server, the kiosk and the phone (none read the wall clock for their day). */
const clock = { now_ms: Date.parse('2026-12-02T10:00:00+08:00'), since_ms: Date.now(), rate: 1 };
const srv = await appServer(qk, samples, keyPub, moduleDir, clock);
const kioskHome = mkdtempSync(join(tmpdir(), 'qk-bench-kiosk-'));
const kenv = { ...srv.env, QUIZKIT_HOME: kioskHome };
execFileSync(qk, ['trust', 'add', keyPub], { env: kenv, stdio: 'ignore' });
execFileSync(qk, ['bundle', 'install', samples], { env: kenv, stdio: 'ignore' });
const kiosk = await startServer(qk, ['kiosk'], kenv, `${kioskHome}/port`);
process.on('exit', () => rmSync(kioskHome, { recursive: true, force: true }));

const browser = await launch();
const phoneContext = () => browser.newContext({
  viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN',
}).then(async c => { await c.addInitScript(k => { window.qkAppClock = k; }, clock); return c; });

/* From the address to the first question of a guest's practice quiz; then
 * the answers' round trips, one question after another. */
async function firstQuestion(page, url) {
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForFunction(() => window.qkKiosk && window.qkKiosk.state.home !== null, null, { timeout: 60000 });
  await tap(page, () => page.click('#go-guest'));
  await waitScreen(page, 'menu');
  await page.locator('#theme-list .tile').first().click();
  await waitScreen(page, 'quiz');
  const cold = performance.now() - t0;
  const marks = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark')
    .filter(m => m.name.startsWith('qk-app-')).map(m => [m.name, m.startTime])));
  const answers = [];
  for (let n = 0; n < 5 && (await screen(page)) === 'quiz'; n++) {
    await pickAnswer(page, await page.evaluate(() => window.qkKiosk.state.quiz.item));
    const a0 = performance.now();
    await tap(page, () => page.click('#q-submit'));
    answers.push(performance.now() - a0);
    if (await page.locator('#q-next').isVisible()) await tap(page, () => page.click('#q-next'));
  }
  return { cold, answer: median(answers), marks };
}

// First open, each on a phone that never saw the app.
const first = [];
for (let i = 0; i < runs; i++) {
  const c = await phoneContext();
  const p = await c.newPage();
  const t0 = performance.now();
  await p.goto(`${srv.origin}/app/`);
  await waitScreen(p, 'enrol', 60000);
  first.push(performance.now() - t0);
  await c.close();
}

// One enrolled phone; each cold start in a new tab of it (the last one closed).
const phone = await phoneContext();
let page = await phone.newPage();
await page.goto(`${srv.origin}/app/`);
await waitScreen(page, 'enrol', 60000);
await enrol(page, { code: srv.code(), member: 'm1', pin: '1234', name: 'bench' });
await waitScreen(page, 'home', 60000);
await page.waitForFunction(() => navigator.serviceWorker.controller, null, { timeout: 60000 });
await page.close();
const app = { cold: [], answer: [] }, base = { cold: [], answer: [] };
for (let i = 0; i < runs; i++) {
  page = await phone.newPage();
  const a = await firstQuestion(page, `${srv.origin}/app/`);
  await page.close();
  const kc = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const kp = await kc.newPage();
  const k = await firstQuestion(kp, kiosk.url);
  await kc.close();
  app.cold.push(a.cold); app.answer.push(a.answer);
  for (const [k, v] of Object.entries(a.marks)) (app[k] = app[k] || []).push(v);
  base.cold.push(k.cold); base.answer.push(k.answer);
}
await browser.close();
await stopServer(kiosk);
await srv.stop();

const ratio = (a, b) => (median(a) / median(b)).toFixed(2);
console.log(`bench_app_browser: Chromium (headless), 390x844, ${runs} runs each, medians`);
console.log(`  first open (never seen: download, compile, engine)   ${fmt(median(first))}`);
console.log(`  cold start to the first question: app ${fmt(median(app.cold))}, kiosk ${fmt(median(base.cold))}` +
  `  ratio ${ratio(app.cold, base.cold)}  (goal: app <= 1000 ms)`);
console.log(`  one answer, saved before the reply: app ${fmt(median(app.answer))}, kiosk ${fmt(median(base.answer))}` +
  `  ratio ${ratio(app.answer, base.answer)}`);
if (app['qk-app-start']) {
  const at = k => median(app[k]);
  console.log(`  of the app's cold start, from the page's own start: script ${fmt(at('qk-app-start'))},` +
    ` module compiled ${fmt(at('qk-app-compiled'))}, engine open ${fmt(at('qk-app-booted'))}`);
}
process.exit(0);
