// The leaders' dashboard in a real browser: Debian's chromium, headless, kept
// off every network but loopback, driven by playwright-core.
//
// usage: node dashboard.mjs URL LEADER PASSWORD ADMIN ADMIN_PASSWORD ARTIFACTS SCREENS [PLAYS_FROM_MS PLAYS_TO_MS]
// Prints one "ok - ..." or "FAIL - ..." line per check; exits 1 on a failure.
// Every screen a person meets is shot at 1080×1920 (a portrait screen),
// 1920×1080 and 390×844 (a phone) into SCREENS (build/screens/dashboard),
// named NN-screen-WxH.png in the order of the walk, beside the kiosk's, with
// an index.html of them all in the folder above. ARTIFACTS gets the downloads.
//
// The page counts its periods by the server's clock (whatever QUIZKIT_NOW
// says), and the checks hold it against the API for the very period it
// shows. PLAYS_FROM_MS and PLAYS_TO_MS (the server's clock before and after
// the test data's answers) say which month holds them: when a month ended
// since, the figures are looked at for the months the answers were given in.
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { bad, cal, expectEq, expectTrue, finish, launch, newPage as open, writeIndex } from './harness.mjs';

const [url, leader, leaderPw, admin, adminPw, artifacts, screensDir, playsFrom, playsTo] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
/* the folder holds this run's screens only */
rmSync(screensDir, { recursive: true, force: true });
mkdirSync(screensDir, { recursive: true });
const SIZES = [{ width: 1080, height: 1920 }, { width: 1920, height: 1080 }, { width: 390, height: 844 }];
let screenNo = 0;
/* Two frames: Chart.js redraws on the resize it observes. */
const settle = page => page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
/* The page as it stands, at each size (whole page), then back at its own size. */
async function screens(page, name) {
  const own = page.viewportSize();
  const n = String(++screenNo).padStart(2, '0');
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await settle(page);
    await page.screenshot({ path: `${screensDir}/${n}-${name}-${size.width}x${size.height}.png`, fullPage: true });
  }
  await page.setViewportSize(own);
  await settle(page);
}
/* What a person reads on the page (not the hidden headings of cards). */
const readable = page => page.evaluate(() => document.body.innerText);
/* Internal codes nobody should read in Chinese: modes, the all-themes star, branch ids. */
const CODES = /\b(daily|practice|review|challenge)\b|(^|\s)\*(\s|$)|\bb[0-9]+\b|（b[0-9]+）/;
const serverMs = async () => (await (await fetch(`${url}/api/v1/time`)).json()).server_ms;

/* What the API itself says, to hold the page against. */
async function apiJson(path, token) {
  const r = await fetch(url + path, { headers: { Authorization: `Bearer ${token}` } });
  return { status: r.status, body: await r.json() };
}
async function token(user, password) {
  const r = await fetch(`${url}/api/v1/login`, { method: 'POST', body: JSON.stringify({ user, password }) });
  return (await r.json()).token;
}

const browser = await launch();
const foreign = [];
const newPage = viewport => open(browser, viewport, [new URL(url).origin], foreign, { acceptDownloads: true });
const loaded = (page, n) => page.waitForFunction(k => window.qkDash && window.qkDash.loads >= k, n,
                                                 { timeout: 15000 });

try {
  const page = await newPage({ width: 1366, height: 900 });
  await page.goto(`${url}/`);
  expectEq('the server root leads to the dashboard', new URL(page.url()).pathname, '/dashboard/');
  expectEq('the page is in Chinese first', await page.locator('h1').textContent(), '学习参与统计');
  expectTrue('the login form shows', await page.locator('#login-form').isVisible());
  await screens(page, 'login');

  await page.fill('#user', leader);
  await page.fill('#password', 'not-the-password');
  await page.click('#login-btn');
  await page.locator('#login-error').waitFor({ state: 'visible' });
  expectTrue('a wrong password is refused with a message',
             (await page.locator('#login-error').textContent()).length > 0);
  expectTrue('and the figures stay hidden', !(await page.locator('#dash-view').isVisible()));
  await screens(page, 'login-refused');

  const before = await serverMs();
  await page.fill('#password', leaderPw);
  await page.click('#login-btn');
  await loaded(page, 1);
  const after = await serverMs();
  const shownNow = await page.evaluate(() => window.qkCalendar.now());
  expectTrue("the page keeps the server's time (/api/v1/time), not the browser's",
             shownNow >= before - 1000 && shownNow <= await serverMs() + 1000,
             `page ${cal.timeText(shownNow, true)}, server from ${cal.timeText(before, true)}`);
  const period = async () => [await page.inputValue('#from'), await page.inputValue('#to')];
  const months = [before, after].map(ms => cal.monthBounds(cal.beijingDay(ms)).map(cal.dayText));
  const shown = await period();
  expectTrue("the period is this month, in Beijing days by the server's clock",
             months.some(m => m[0] === shown[0] && m[1] === shown[1]), `${shown} / ${JSON.stringify(months)}`);
  expectEq('and says so, in Beijing time', await page.locator('#status').textContent(), `${shown[0]} 至 ${shown[1]}（北京时间）`);
  if (playsFrom && playsTo) {
    /* a month that ended since the answers were given: look at the months they were given in */
    console.log(`# the answers were given between ${cal.timeText(Number(playsFrom), true)} and ` +
                `${cal.timeText(Number(playsTo), true)} (Beijing time, by the server's clock)`);
    const [d0, d1] = [Number(playsFrom), Number(playsTo)].map(cal.beijingDay);
    if (cal.dayText(d0) < shown[0] || cal.dayText(d1) > shown[1]) {
      const want = [cal.monthBounds(d0)[0], cal.monthBounds(d1)[1]].map(cal.dayText);
      console.log(`# a month ended since the answers were given: the figures of ${want.join(' to ')}`);
      await page.selectOption('#period', 'custom');
      await page.fill('#from', want[0]);
      await page.fill('#to', want[1]);
      await page.click('#controls button[type="submit"]');
      await loaded(page, 2);
    }
  }
  const [from, to] = await period();
  const q = `?from=${from}&to=${to}`;
  const lt = await token(leader, leaderPw);
  const part = (await apiJson(`/api/v1/stats/participation${q}`, lt)).body;
  const all = part.rows[0];
  expectEq("the period shown is the API's", await page.locator('#status').textContent(),
           `${part.from} 至 ${part.to}（北京时间）`);
  const loads = await page.evaluate(() => window.qkDash.loads);
  expectEq('the participation rate is the API\'s', await page.locator('#kpi-rate').textContent(), `${all[4]}%`);
  expectEq('active of roster', await page.locator('#kpi-active').textContent(), `${all[3]} / ${all[2]}`);
  expectEq('the rate chart draws those numbers',
           await page.evaluate(() => window.qkDash.state.charts.rate.data.datasets[0].data),
           [all[3], all[2] - all[3]]);
  const inactive = (await apiJson(`/api/v1/stats/inactive${q}`, lt)).body;
  expectTrue('someone has not taken part (the test data has them)', inactive.rows.length > 0);
  expectEq('the inactive list names them, name first', await page.locator('#inactive tbody tr td:first-child').allTextContents(),
           inactive.rows.map(r => r[1]));
  const trend = (await apiJson(`/api/v1/stats/trend${q}`, lt)).body;
  const weekText = monday => { const d = cal.parseDate(monday); return `${cal.dayLabel(d, 'zh')}–${cal.dayLabel(d + 6, 'zh')}`; };
  expectEq('the weekly trend chart has the API\'s weeks, as days people read (11月30日–12月6日)',
           await page.evaluate(() => window.qkDash.state.charts.trend.data.labels), trend.rows.map(r => weekText(r[0])));
  /* the test data is one week's: one bar, not a slab across the chart */
  expectEq('the test data is one week of answers', trend.rows.length, 1);
  const bar = await page.evaluate(() => {
    const c = window.qkDash.state.charts.trend;
    return { width: c.getDatasetMeta(0).data[0].width, area: c.chartArea.right - c.chartArea.left,
             cap: c.data.datasets[0].maxBarThickness, point: c.data.datasets[1].pointRadius };
  });
  expectTrue('one week is one narrow bar (at most 48 px of a wide chart)', bar.width <= 48 && bar.cap === 48 &&
             bar.width < bar.area / 5, JSON.stringify(bar));
  expectTrue('and the active members a visible point', bar.point >= 4, JSON.stringify(bar));
  expectEq('the chart says there is only one week so far', await page.locator('#trend-note').textContent(),
           '数据只有 1 周，再过几周才看得出趋势。');
  expectTrue('beneath it', await page.locator('#trend-note').isVisible());
  const questions = (await apiJson(`/api/v1/stats/questions${q}`, lt)).body;
  expectEq('the difficult questions, hardest first',
           await page.locator('#questions tbody tr').evaluateAll(rows => rows.map(r => r.dataset.q)),
           questions.rows.slice(0, 10).map(r => r[0]));
  expectTrue('the API knows the stems from the published bundle', questions.rows.every(r => r[6]));
  expectEq('and the list shows them first, not the ids',
           await page.locator('#questions tbody tr td:first-child').allTextContents(),
           questions.rows.slice(0, 10).map(r => r[6]));
  /* m2 chose a wrong option for q1 (中国共产党成立于哪一年？): its text, never a letter */
  const wrongs = questions.rows.filter(r => r[5]).map(r => [r[0], r[5]]);
  expectEq("the most chosen wrong answer is the option's text (the API)",
           wrongs.filter(w => w[0] === 'q1').map(w => w[1].replace(/ \(\d+\)$/, '')).filter(w =>
             ['1919年', '1927年', '1949年'].includes(w)).length, 1);
  expectTrue('and no wrong answer is a bare letter', wrongs.length > 0 && wrongs.every(w => !/^[A-H]+ \(/.test(w[1])),
             JSON.stringify(wrongs));
  const shownWrongs = await page.locator('#questions tbody tr td:nth-child(4)').allTextContents();
  expectTrue('the page shows those texts', shownWrongs.some(w => /^19(19|27|49)年 \(1\)$/.test(w)) &&
             shownWrongs.every(w => !/^[A-H]+ \(/.test(w)), JSON.stringify(shownWrongs));
  expectEq("the header names the leader's branch, not its id", await page.locator('#who').textContent(), 'li（第一党支部）');
  const headings = await page.locator('#dash-view th').allTextContents();
  expectTrue('every column heading is in Chinese', headings.length > 10 &&
             headings.every(h => /[\u4e00-\u9fff]|^[<\d]/.test(h)), JSON.stringify(headings.filter(h => !/[\u4e00-\u9fff]/.test(h))));
  const text = await readable(page);
  expectTrue('no internal code is shown (modes, *, branch ids)', !CODES.test(text), String(CODES.exec(text)));
  const members = await page.locator('#members tbody tr td:nth-child(2)').allTextContents();
  expectTrue('the leader sees only their branch (no 周九 of b2)', members.length > 0 && !members.includes('周九'),
             JSON.stringify(members));
  expectTrue('no branch picker for a leader', !(await page.locator('#branch-box').isVisible()));
  expectTrue('nor a table of branches', !(await page.locator('#branches-card').isVisible()));
  expectEq('another branch through the API is refused',
           await page.evaluate(async () => (await fetch('/api/v1/stats/members?branch=b2', {
             headers: { Authorization: `Bearer ${sessionStorage.getItem('qk.token')}` } })).status), 403);
  await screens(page, 'leader');

  // Sorting: by attempts, most first (a second click).
  const th = page.locator('#members th[data-col="3"]');
  await th.click();
  await th.click();
  const attempts = (await page.locator('#members tbody tr td:nth-child(4)').allTextContents()).map(Number);
  expectTrue('members sort by attempts, most first', attempts.every((v, i) => i === 0 || attempts[i - 1] >= v),
             JSON.stringify(attempts));

  // The report as an Excel workbook, and a table as CSV.
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#xlsx')]);
  await xlsx.saveAs(`${artifacts}/report.xlsx`);
  expectTrue('the XLSX report downloads with its name', /^quizkit-report-.*\.xlsx$/.test(xlsx.suggestedFilename()),
             xlsx.suggestedFilename());
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('button[data-csv="inactive"]')]);
  await csv.saveAs(`${artifacts}/inactive.csv`);
  const csvText = readFileSync(`${artifacts}/inactive.csv`);
  expectTrue('the CSV starts with the BOM and holds the names',
             csvText[0] === 0xef && csvText[1] === 0xbb && csvText[2] === 0xbf &&
             inactive.rows.every(r => csvText.toString('utf8').includes(r[1])));

  // English, then a phone.
  await page.click('#lang');
  await loaded(page, loads + 1);
  expectEq('English on request', await page.locator('h1').textContent(), 'Study participation');
  expectTrue('with the period in English', (await page.locator('#status').textContent()).includes('(Beijing time)'));
  expectEq('and the picker says its days are Beijing days', await page.locator('label[for="period"]').textContent(),
           'Period (Beijing time)');
  expectEq('the weeks in English', await page.evaluate(() => window.qkDash.state.charts.trend.data.labels),
           trend.rows.map(r => { const d = cal.parseDate(r[0]); return `${cal.dayLabel(d, 'en')} – ${cal.dayLabel(d + 6, 'en')}`; }));
  await screens(page, 'leader-en');
  await page.click('#lang');
  await loaded(page, loads + 2);

  const phone = await newPage({ width: 390, height: 844 });
  await phone.goto(`${url}/dashboard/`);
  await phone.fill('#user', leader);
  await phone.fill('#password', leaderPw);
  await phone.click('#login-btn');
  await loaded(phone, 1);
  if (await phone.inputValue('#from') !== from || await phone.inputValue('#to') !== to) {
    /* a month ended since the first page loaded: the phone looks at the same days */
    console.log(`# the phone opened on another month: the figures of ${from} to ${to}`);
    await phone.selectOption('#period', 'custom');
    await phone.fill('#from', from);
    await phone.fill('#to', to);
    await phone.click('#controls button[type="submit"]');
    await loaded(phone, 2);
  }
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expectTrue('on a phone the page fits the width', overflow <= 0, `${overflow}px too wide`);
  const stem = await phone.evaluate(() => {
    const table = document.getElementById('questions');
    const cell = table.querySelector('tbody td.stem');
    const r = cell.getBoundingClientRect();
    return { cell: r.width, table: table.getBoundingClientRect().width, lines: Math.round(r.height / parseFloat(getComputedStyle(cell).lineHeight)),
             text: cell.textContent };
  });
  expectTrue('on a phone the stem of a hard question takes most of the width (at least 55%)',
             stem.cell >= 0.55 * stem.table && stem.table > 300, JSON.stringify(stem));
  const box = await phone.locator('#questions tbody td.stem').first().boundingBox();
  const fig = await phone.locator('#questions tbody tr').first().locator('td.num').first().boundingBox();
  expectTrue("and its figures sit below it, beside their headings", fig.y >= box.y + box.height - 1,
             JSON.stringify({ box, fig }));
  expectTrue('each figure says what it is', (await phone.locator('#questions tbody td.num').first()
    .evaluate(td => getComputedStyle(td, '::before').content)).includes('答'));
  const sticky = await phone.evaluate(() => {
    const box = document.getElementById('members').parentElement;
    box.scrollLeft = box.scrollWidth;
    const name = document.querySelector('#members tbody td:nth-child(2)').getBoundingClientRect();
    const seen = box.getBoundingClientRect();
    const r = { scrolled: box.scrollLeft, nameLeft: name.left, boxLeft: seen.left };
    box.scrollLeft = 0;
    return r;
  });
  const nameLines = await phone.evaluate(() => [...document.querySelectorAll('#members tbody td:nth-child(2)')].map(td => {
    const r = document.createRange(); /* the line boxes of the name's text */
    r.selectNodeContents(td);
    return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size;
  }));
  expectTrue('a name stays on one line on a phone (李晓红, never 李晓 / 红)', nameLines.every(n => n <= 1), JSON.stringify(nameLines));
  expectTrue("the members' figures scroll sideways under their names, which stay in view",
             sticky.scrolled > 0 && Math.abs(sticky.nameLeft - sticky.boxLeft) <= 1, JSON.stringify(sticky));
  const phoneBar = await phone.evaluate(() => window.qkDash.state.charts.trend.getDatasetMeta(0).data[0].width);
  expectTrue('the one week is a narrow bar on a phone too', phoneBar <= 48, `${phoneBar}px`);

  // Sign out: the figures go, and a reload does not bring them back.
  await page.click('#logout');
  expectTrue('signing out shows the login again', await page.locator('#login-form').isVisible());
  await page.reload();
  expectTrue('and stays signed out after a reload', !(await page.locator('#dash-view').isVisible()));

  // An admin picks a branch.
  await page.fill('#user', admin);
  await page.fill('#password', adminPw);
  await page.click('#login-btn');
  await loaded(page, 1);
  expectTrue('an admin gets the branch picker', await page.locator('#branch-box').isVisible());
  expectEq('and every branch side by side, by name',
           await page.locator('#branches tbody tr td:first-child').allTextContents(),
           ['第一党支部', '第二党支部']);
  expectEq('the branch picker names the branches, not their ids',
           await page.locator('#branch option').allTextContents(), ['全部支部', '第一党支部', '第二党支部']);
  expectEq('and asks for them by id', await page.locator('#branch option').evaluateAll(o => o.map(x => x.value)), ['', 'b1', 'b2']);
  expectEq('an admin belongs to no branch: the header names none', await page.locator('#who').textContent(), 'admin');
  const adminText = await readable(page);
  expectTrue("no internal code in the admin's view either", !CODES.test(adminText), String(CODES.exec(adminText)));
  await screens(page, 'admin-all-branches');
  await page.selectOption('#branch', 'b2');
  await page.click('#controls button[type="submit"]');
  await loaded(page, 2);
  expectTrue("and sees the other branch's members",
             (await page.locator('#members tbody').textContent()).includes('周九'));
  expectEq('a branch with no answers: the trend chart says there is no data yet',
           await page.locator('#trend-note').textContent(), '本期间还没有数据。');
  await screens(page, 'admin-second-branch');
  const files = readdirSync(screensDir);
  expectEq('every screen at the three sizes is in one folder', files.length, screenNo * SIZES.length);

  expectEq('nothing was fetched from anywhere but the server', foreign, []);
} catch (e) {
  bad('the walk-through finished', e.stack || String(e));
} finally {
  await browser.close();
}
writeIndex(dirname(screensDir));
finish();
