// The phones' app (issue 18, docs/app.md) in a real browser: Debian's
// chromium, headless, at a phone's size (390×844, touch), against a real
// `quizkit serve` on loopback serving /app/ with the WebAssembly module. As a
// member would: open the app, enrol the phone with the branch's code (a wrong
// code first), go offline (the browser offline and the server stopped), sign
// in, take the daily quiz and a lesson, reload with no network and find the
// answers kept, see a second tab refused, come back online, sync, and find
// every event on the server exactly once, re-scored to the device's points.
//
// Screens go to SCREENS (build/screens/app): NN-name-390x844.png.
//
// usage: node app.mjs QUIZKIT SAMPLES.qkb KEY.pub MODULE_DIR SCREENS
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { appServer } from './appserver.mjs';
import { bad, expectEq, expectTrue, finish, launch, ok } from './harness.mjs';
import { answerAll, enrol, homeAfter, homeShown, login, pickAnswer, syncApp, waitScreen, walkLesson } from './walk.mjs';

const [qk, samples, keyPub, moduleDir, screens] = process.argv.slice(2);
if (!screens) {
  console.error('usage: node app.mjs QUIZKIT SAMPLES.qkb KEY.pub MODULE_DIR SCREENS');
  process.exit(2);
}
rmSync(screens, { recursive: true, force: true });
mkdirSync(screens, { recursive: true });
/* The walk's clock, the phone's and the server's: the last minutes of 2026 in
 * Beijing (still 31 December, 15:58, in UTC), running at the real rate. */
const clock = { now_ms: Date.parse('2026-12-31T23:58:00+08:00'), since_ms: Date.now(), rate: 1 };
let srv;
try {
  srv = await appServer(qk, samples, keyPub, moduleDir, clock);
} catch (e) {
  console.log(`FAIL - the server for the app: ${e.message}`);
  process.exit(1);
}
const { sql } = srv;
const code = srv.code();
if (process.env.QK_APP_DEBUG) process.on('exit', () => console.log(srv.log()));

/* A bundle of one lesson with a picture (a 2x2 red PNG written byte by
 * byte), signed with the key the samples are (KEY.pub's private half beside
 * it, KEY.key). */
function picturesBundle(version = '1', key = keyPub.replace(/\.pub$/, '.key')) {
  const src = `${srv.work}/pics`;
  if (!existsSync(key)) execFileSync(qk, ['keygen', '-o', key.replace(/\.key$/, '')], { env: srv.env, stdio: 'ignore' });
  mkdirSync(`${src}/images`, { recursive: true });
  const crc = buf => {
    let c = ~0;
    for (const b of buf) { c ^= b; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
    return ~c >>> 0;
  };
  const chunk = (kind, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(kind, 'latin1'), data]);
    const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(2, 0); ihdr.writeUInt32BE(2, 4); ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.from([0, 255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0, 0]);
  writeFileSync(`${src}/images/dot.png`, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
  writeFileSync(`${src}/bundle.json`, JSON.stringify({ id: 'test.pics', version, title: '图片测试',
    themes: [{ id: 't', title: '测试主题', guests: true }], files: ['q.json', 'pic.md'] }));
  writeFileSync(`${src}/q.json`, JSON.stringify({ theme: 't', questions: [
    { id: 'p1', type: 'judge', stem: '红色是三原色之一。', answer: '对' }] }));
  writeFileSync(`${src}/pic.md`, ['---', 'id: lesson-pic', 'title: 看图党课', 'theme: t', 'kind: story', 'minutes: 1',
    'completion: end', 'scoring: none', '---', '', '## start', '请看这张图：![一个红点](images/dot.png)', '-> end', '',
    '## end {end}', '学完了。', ''].join('\n'));
  const out = `${srv.work}/pics-${version}-${key.replace(/^.*\//, '')}.qkb`;
  execFileSync(qk, ['bundle', 'build', src, '-o', out, '--key', key, '--quiet'], { env: srv.env });
  return out;
}

let shots = 0;
const shot = (page, name) => page.screenshot({ path: `${screens}/${String(++shots).padStart(2, '0')}-${name}-390x844.png` });
const status = page => page.locator('#app-status').textContent();

const origin = srv.origin;
const browser = await launch();
const context = await browser.newContext({
  viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN', deviceScaleFactor: 2,
});
const foreign = [];
context.on('request', r => { if (!r.url().startsWith(origin) && !r.url().startsWith(`blob:${origin}`)) foreign.push(r.url()); });
await context.addInitScript(c => { window.qkAppClock = c; }, clock);
let page = await context.newPage();
page.on('pageerror', e => bad('no script errors', e.message));
if (process.env.QK_APP_DEBUG) page.on('console', m => console.log(`# console: ${m.text()}`));
try {
  // A new phone: the enrolment screen, in Chinese.
  await page.goto(`${origin}/app/`);
  await waitScreen(page, 'enrol', 30000);
  ok('a new phone opens on the enrolment screen');
  expectEq('the app says what it is', await page.locator('.brand').textContent(), '党员学习');
  expectEq('the manifest is linked', await page.evaluate(async () => (await (await fetch(document.querySelector('link[rel=manifest]').href)).json()).start_url), '/app/');
  await shot(page, 'enrol');
  const enrolError = async () => {
    await page.locator('#enrol-error').waitFor({ state: 'visible' });
    const said = await page.locator('#enrol-error').textContent();
    await page.evaluate(() => { document.getElementById('enrol-error').hidden = true; });
    return said;
  };
  await enrol(page, { code: 'ZZZZ-ZZZZ', member: 'm1', pin: '1234', name: '张三的手机' });
  const wrongCode = await enrolError();
  expectTrue('a wrong code is refused, in words', /注册码无效/.test(wrongCode), wrongCode);
  await shot(page, 'enrol-wrong-code');
  // The phone is its member's: the server checks the member's PIN.
  await enrol(page, { code: code.toLowerCase(), member: 'm1', pin: '0000', name: '张三的手机' });
  const wrongPin = await enrolError();
  expectTrue("a wrong PIN for the member is refused, and the code stays unused", /党员编号或 PIN 不对/.test(wrongPin), wrongPin);
  await enrol(page, { code: code.toLowerCase(), member: 'x9', pin: '9999', name: '张三的手机' });
  const otherBranch = await enrolError();
  expectTrue("so is another branch's member with their own PIN", /党员编号或 PIN 不对/.test(otherBranch), otherBranch);
  // A shared device's code (a kiosk's) enrols no phone.
  const kioskCode = srv.admin('code', '--branch', 'b1').match(/[0-9A-Z]{4}-[0-9A-Z]{4}/)[0];
  await enrol(page, { code: kioskCode, member: 'm1', pin: '1234', name: '张三的手机' });
  const sharedCode = await enrolError();
  expectTrue("a kiosk's code is refused, saying what it is for", /一体机等共用设备/.test(sharedCode), sharedCode);
  expectEq('and no device is made', sql('select count(*) from devices'), '0');
  await page.fill('#enrol-code', code);
  await page.fill('#enrol-member', 'm1');
  await page.fill('#enrol-pin', '1234');
  await homeAfter(page, () => page.click('#enrol-go'));
  await waitScreen(page, 'home', 30000);
  expectEq("enrolled with the code: one device, of branch b1, m1's own", sql("select branch_id, member_id from devices"), 'b1|m1');
  expectTrue('the home screen names the branch', (await status(page)).includes('第一支部'), await status(page));
  expectTrue('and has a sync button', await page.locator('#app-sync').isVisible());
  expectTrue("and, a member's own phone, no guest or players-in-turn button",
    !(await page.locator('#go-guest').isVisible()) && !(await page.locator('#go-hotseat').isVisible()));
  const homeText = await page.locator('#s-home').innerText();
  expectTrue('nor words asking guests in', !/居民访客|访客身份/.test(homeText), homeText);
  expectEq('a phone does not sign out by itself', await page.evaluate(() => window.qkKiosk.state.idleSeconds), null);
  await shot(page, 'home');

  // The app is kept for use with no network.
  await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller, null, { timeout: 30000 });
  ok('the service worker controls the app');
  const cached = await page.evaluate(async () => (await (await caches.open('quizkit-app-1')).keys()).map(r => new URL(r.url).pathname).sort());
  expectTrue('it keeps the page, the scripts and the WebAssembly module',
    ['/app/', '/app/app.js', '/app/kiosk.js', '/app/worker.js', '/app/quizkit-engine.wasm', '/common/calendar.js']
      .every(p => cached.includes(p)), JSON.stringify(cached));

  // Offline: the browser off the network, and the server gone too.
  await context.setOffline(true);
  await srv.stop();
  // The phone holds its member alone: a colleague of the branch cannot sign
  // in on it (their PIN hash is not on it), nor a member of another branch.
  for (const [who, pin] of [['m2', '5678'], ['x9', '9999']]) {
    await login(page, who, pin);
    await page.locator('#login-error').waitFor({ state: 'visible' });
    expectTrue(`${who} is not on m1's phone`, await page.locator('#login-error').isVisible());
    await page.click('#login-back');
    await waitScreen(page, 'home');
  }
  await login(page, 'm1', '1234');
  await waitScreen(page, 'menu');
  ok('m1 signs in with no network (the roster came with the enrolment)');
  await page.click('.tile.mode-daily');
  await waitScreen(page, 'quiz');
  expectEq('the daily quiz has five questions', await page.locator('#q-progress').textContent(), '第 1 / 5 题');
  await answerAll(page, async (what, n) => { if (n === 0) await shot(page, `daily-${what}`); });
  const detail = await page.locator('#r-detail').textContent();
  expectTrue('the daily quiz is scored on the phone', /答对 \d \/ 5 题/.test(detail), detail);
  await shot(page, 'daily-result');
  await page.click('#r-again');
  await waitScreen(page, 'menu');
  await page.click('.tile.mode-lessons');
  await waitScreen(page, 'lessons');
  await page.locator('#lesson-list .tile').first().click();
  await waitScreen(page, 'lesson');
  await shot(page, 'lesson');
  const steps = await walkLesson(page);
  expectTrue('a lesson walked to its end offline', await page.locator('#l-end').isVisible(), JSON.stringify([...steps]));
  await page.click('#l-end');
  await waitScreen(page, 'menu');
  // A competition entry, offline too: the phone scores it on its own clock.
  await page.click('.tile.mode-comps');
  await waitScreen(page, 'comps');
  await page.click('#comp-tiles button[data-comp="dangzhang-keshi"]');
  await waitScreen(page, 'quiz');
  await answerAll(page);
  ok('a competition entry played offline to its result');
  await page.click('#r-again');
  await waitScreen(page, 'menu');
  const meBefore = await page.evaluate(async () => {
    const r = await window.qkApp.request('GET', '/api/me', { 'X-Kiosk-Session': window.qkKiosk.state.token }, null);
    return r.json();
  });
  await homeAfter(page, () => page.click('#done'));
  await waitScreen(page, 'home');
  let pending = await page.evaluate(() => window.qkKiosk.state.home.sync.pending);
  expectTrue('the answers wait to be synced', pending > 5, String(pending));

  // Reload with no network: the app opens from the service worker's copy,
  // the engine from IndexedDB, every answer kept.
  await page.reload();
  await waitScreen(page, 'home', 30000);
  await page.waitForFunction(() => window.qkKiosk.state.home && window.qkKiosk.state.home.sync, null, { timeout: 30000 });
  expectEq('after a reload offline, the same records wait', await page.evaluate(() => window.qkKiosk.state.home.sync.pending), pending);
  await page.click('#go-login');
  await waitScreen(page, 'login');
  expectEq('the phone remembers its member (the PIN is asked again)',
    await page.evaluate(() => [window.qkKiosk.state.typed.member, window.qkKiosk.state.typed.pin]), ['m1', '']);
  await page.click('#login-back');
  await waitScreen(page, 'home');
  await login(page, 'm1', '1234');
  await waitScreen(page, 'menu');
  const meAfter = await page.evaluate(async () => {
    const r = await window.qkApp.request('GET', '/api/me', { 'X-Kiosk-Session': window.qkKiosk.state.token }, null);
    return r.json();
  });
  expectEq("and the member's history and points are those before", [meAfter.history.length, meAfter.total],
    [meBefore.history.length, meBefore.total]);
  await shot(page, 'menu-after-reload');

  // A second tab: refused, so that two engines never write at once.
  const second = await context.newPage();
  second.on('pageerror', e => bad('no script errors (second tab)', e.message));
  await second.goto(`${origin}/app/`);
  await waitScreen(second, 'elsewhere', 30000);
  expectTrue('a second tab is refused, and says why', /另一个标签页/.test(await second.locator('#s-elsewhere').innerText()));
  expectEq('and opens no engine of its own', await second.evaluate(() => window.qkKiosk.state.home), null);
  await second.screenshot({ path: `${screens}/${String(++shots).padStart(2, '0')}-second-tab-390x844.png` });
  await second.close();

  // A crash just after an answer is acknowledged: the page and its Worker
  // end at once (no unload). The answer was saved before the page heard of
  // it, so the app opened again resumes after it.
  await page.locator('#theme-list .tile').first().click();
  await waitScreen(page, 'quiz');
  const asked = await page.evaluate(() => window.qkKiosk.state.quiz.item);
  await pickAnswer(page, asked);
  await page.click('#q-submit');
  await page.locator('#q-next').waitFor({ state: 'visible' });
  await page.close({ runBeforeUnload: false });
  page = await context.newPage();
  page.on('pageerror', e => bad('no script errors (after the crash)', e.message));
  await page.goto(`${origin}/app/`);
  await waitScreen(page, 'home', 30000);
  await homeShown(page);
  await login(page, 'm1', '1234');
  await waitScreen(page, 'menu');
  await page.locator('#theme-list .tile').first().click();
  await waitScreen(page, 'quiz');
  expectTrue('after a crash, the answer acknowledged is kept: the quiz resumes after it',
    (await page.locator('#q-note').textContent()).includes('已答 1 题'), await page.locator('#q-note').textContent());
  await page.click('#to-menu');
  await waitScreen(page, 'menu');
  const pendingNow = await page.evaluate(async () => {
    const r = await window.qkApp.request('GET', '/api/home', {}, null);
    return (await r.json()).sync.pending;
  });
  expectTrue('and its records wait with the others', pendingNow > pending, `${pendingNow} after ${pending}`);
  pending = pendingNow;

  // Back online: sync, each event once on the server, re-scored the same.
  await srv.start();
  await context.setOffline(false);
  await page.click('#done');
  await waitScreen(page, 'home');
  // A slow network: the server's answer to each batch comes 3 s late. The
  // member is not kept waiting meanwhile: the engine answers the page at once.
  let held = 0;
  const slow = async route => { held++; await new Promise(r => setTimeout(r, 3000)); await route.continue(); };
  await context.route('**/api/v1/events', slow);
  await page.click('#app-sync');
  for (const until = Date.now() + 20000; held === 0 && Date.now() < until;) await new Promise(r => setTimeout(r, 50));
  const during = await page.evaluate(async () => {
    const t0 = performance.now();
    const r = await window.qkApp.request('GET', '/api/home', {}, null);
    const j = await r.json();
    return { status: r.status, ms: performance.now() - t0, pending: j.sync.pending,
             syncing: /正在同步/.test(document.getElementById('app-status').textContent) };
  });
  expectTrue('while a sync waits for the network, the engine answers the page at once',
    held > 0 && during.status === 200 && during.ms < 1500 && during.syncing, JSON.stringify({ held, ...during }));
  await page.waitForFunction(() => /同步完成|同步没有完成/.test(document.getElementById('app-status').textContent),
    null, { timeout: 60000 });
  await context.unroute('**/api/v1/events', slow);
  expectTrue('the sync says what it sent', (await status(page)).includes(`上传 ${pending} 条记录`), await status(page));
  expectEq('nothing waits any more', await page.evaluate(() => window.qkKiosk.state.home.sync.pending), 0);
  await shot(page, 'synced');
  expectEq('every event on the server exactly once', sql('select count(*), count(distinct id) from events'), `${pending}|${pending}`);
  expectEq("every attempt re-scored by the server to the phone's score",
    sql("select count(*) >= 1, count(*) = sum(device_score = server_score), sum(mismatch) from attempt_scores"), '1|1|0');
  expectEq("the competition entry re-scored by the server to the phone's points",
    sql("select count(*), sum(server_points = device_points), sum(mismatch) from attempt_scores where competition = 'dangzhang-keshi'"),
    '1|1|0');
  expectEq("the daily quiz is 31 December's, by the phone's clock in Beijing time",
    sql("select json_extract(payload, '$.day') from events where kind = 'attempt.start' and json_extract(payload, '$.mode') = 'daily'"),
    '2026-12-31');
  expectEq("m1's points on the server are those the phone gave",
    sql("select claimed = expected from points_claims where member_id = 'm1'"), '1');
  expectEq('and they are the points the phone shows', Number(sql("select server_total from points_judged where member_id = 'm1'")), meAfter.total);
  await page.click('#app-sync');
  await page.waitForFunction(() => /上传 0 条记录/.test(document.getElementById('app-status').textContent), null, { timeout: 30000 });
  expectEq('a second sync sends nothing again', sql('select count(*) from events'), String(pending));

  // Opened again with a network: the app comes from its copies at once, and
  // they are checked in the background, each file by its ETag.
  await page.reload();
  await waitScreen(page, 'home', 30000);
  let log = '';
  for (let i = 0; i < 100 && !/path=\/app\/quizkit-engine\.wasm status=304/.test(log); i++) {
    await new Promise(r => setTimeout(r, 100));
    log = srv.log();
  }
  expectTrue('an open with a network checks the copies: the module unchanged is a 304, not downloaded again',
    /path=\/app\/quizkit-engine\.wasm status=304/.test(log));
  const sizes = [...log.matchAll(/path=\/app\/quizkit-engine\.wasm status=200 in=0 out=(\d+)/g)].map(m => Number(m[1]));
  expectTrue('and the module travels gzipped (under 700 KB)', sizes.length > 0 && sizes.every(n => n < 700000),
    JSON.stringify(sizes));

  // Revoked by the leader, with an answer not yet synced: the sync says the
  // server no longer takes the phone and offers to enrol again; with a new
  // code the same phone comes back, and its answer goes up once.
  await homeShown(page);
  /* (the settings saved again in this page's life) */
  expectTrue('synced before the revocation', /同步完成/.test(await syncApp(page)), await status(page));
  await login(page, 'm1', '1234');
  await waitScreen(page, 'menu');
  await page.locator('#theme-list .tile').first().click();
  await waitScreen(page, 'quiz');
  await pickAnswer(page, await page.evaluate(() => window.qkKiosk.state.quiz.item));
  await page.click('#q-submit');
  await page.locator('#q-next').waitFor({ state: 'visible' });
  await page.click('#done');
  await waitScreen(page, 'home');
  const device = sql('select id from devices where member_id = \'m1\'');
  srv.admin('device', 'revoke', device);
  const before = Number(sql('select count(*) from events'));
  await page.click('#app-sync');
  await waitScreen(page, 'enrol', 30000);
  expectTrue('a revoked phone is told to enrol again, its records kept',
    /重新注册/.test(await page.locator('#enrol-error').textContent()), await page.locator('#enrol-error').textContent());
  expectTrue('with the fields to enrol again (its member filled in)',
    await page.locator('#enrol-code').isVisible() && (await page.inputValue('#enrol-member')) === 'm1');
  await shot(page, 'revoked');
  await page.reload();
  await waitScreen(page, 'enrol', 30000);
  expectTrue('and opened again, it still asks to enrol', await page.locator('#enrol-code').isVisible() &&
    /重新注册/.test(await page.locator('#enrol-error').textContent()));
  await enrol(page, { code: srv.code(), member: 'm1', pin: '1234', name: '张三的手机' });
  await waitScreen(page, 'home', 30000);
  expectTrue('enrolled again, it syncs', /同步完成/.test(await syncApp(page)), await status(page));
  expectEq('enrolled again, the same device sends what it kept, each once',
    [sql('select count(*) from devices'), Number(sql('select count(*) from events')) > before,
     sql('select count(*) = count(distinct id) from events')], ['1', true, '1']);

  // A new phone, once the branch has published another bundle: it takes the
  // newest, and a lesson's picture comes from the bundle in the engine.
  const pics = picturesBundle();
  srv.publish(pics);
  const other = await context.browser().newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' });
  await other.addInitScript(c => { window.qkAppClock = c; }, clock);
  other.on('request', r => { if (!r.url().startsWith(origin) && !r.url().startsWith(`blob:${origin}`)) foreign.push(r.url()); });
  const p2 = await other.newPage();
  p2.on('pageerror', e => bad('no script errors (second phone)', e.message));
  await p2.goto(`${origin}/app/`);
  await waitScreen(p2, 'enrol', 30000);
  await enrol(p2, { code: srv.code(), member: 'm2', pin: '5678', name: '李四的手机' });
  await waitScreen(p2, 'home', 30000);
  await login(p2, 'm2', '5678');
  await waitScreen(p2, 'menu');
  await p2.click('.tile.mode-lessons');
  await waitScreen(p2, 'lessons');
  expectEq("the new phone runs the newest bundle (its one lesson)", await p2.locator('#lesson-list .tile').count(), 1);
  await p2.click('#lesson-list .tile[data-lesson="lesson-pic"]');
  await waitScreen(p2, 'lesson');
  await p2.waitForFunction(() => { const i = document.querySelector('#s-lesson img'); return i && i.complete && i.naturalWidth > 0; },
    null, { timeout: 10000 });
  expectEq("the lesson's picture, from the bundle in the phone's engine (2x2, a blob: URL)",
    await p2.evaluate(() => { const i = document.querySelector('#s-lesson img'); return [i.naturalWidth, i.src.slice(0, 5), i.alt]; }),
    [2, 'blob:', '一个红点']);
  await p2.screenshot({ path: `${screens}/${String(++shots).padStart(2, '0')}-picture-lesson-390x844.png` });

  // A forged file on the server: version 2 of that bundle, its bytes in the
  // store replaced by a file signed with a key nobody trusts. The phone
  // syncs its answers, refuses the bundle, says why, and keeps version 1.
  const v2 = picturesBundle('2', keyPub.replace(/\.pub$/, '.key'));
  srv.publish(v2);
  const forged = picturesBundle('2', `${srv.work}/stranger.key`);
  const bytes = readFileSync(forged);
  sql(`delete from bundle_chunks where id = 'test.pics' and version = '2';
       insert into bundle_chunks values ('test.pics', '2', 0, readfile('${forged}'));
       update bundles set size = ${bytes.length}, sha256 = '${createHash('sha256').update(bytes).digest('hex')}'
        where id = 'test.pics' and version = '2';`);
  await p2.click('#l-end').catch(() => {});
  await p2.click('#done');
  await waitScreen(p2, 'home');
  const said = await syncApp(p2);
  expectTrue('a forged bundle is refused: the answers synced, the bundle not taken, and why', /同步完成.*没有装上.*信任/.test(said), said);
  await p2.screenshot({ path: `${screens}/${String(++shots).padStart(2, '0')}-forged-bundle-refused-390x844.png` });
  const running = () => p2.evaluate(() => window.qkKiosk.state.home.bundle).then(b => `${b.id} ${b.version}`);
  expectEq('and the phone still runs version 1', await running(), 'test.pics 1');
  // The real version 2 published in its place: the next sync takes it.
  sql("delete from bundle_chunks where id = 'test.pics' and version = '2'; delete from bundles where id = 'test.pics' and version = '2';");
  srv.publish(v2);
  await p2.click('#app-sync');
  await p2.waitForFunction(() => /同步完成|同步没有完成/.test(document.getElementById('app-status').textContent) &&
    window.qkKiosk.state.home.bundle.version === '2', null, { timeout: 30000 }).catch(() => {});
  expectEq('a new version signed by a trusted key is taken at the next sync', await running(), 'test.pics 2');
  expectTrue('and the sync says nothing is wrong', !/没有装上/.test(await status(p2)), await status(p2));
  await other.close();
  expectEq('the app asked nothing of any other origin', foreign, []);
} catch (e) {
  bad('the walk ran to its end', e.stack || e.message);
  await shot(page, 'failed').catch(() => {});
} finally {
  await browser.close();
  await srv.stop();
}
finish();
