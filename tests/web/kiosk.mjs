// The kiosk in a real browser (Debian's chromium, headless, off every network
// but loopback), walked as people at the service station would: a resident's
// guest quiz, a member's wrong then right PIN on the keypad, the daily quiz,
// "me", a lesson, a quiz left half-way and resumed, the idle sign-out, a
// hot-seat game, and the screens at kiosk and phone sizes; then a kiosk on
// 5 March (its themed day) and a daily quiz left unfinished on one day and
// finished by the next day's kiosk.
//
// The walk runs on the kiosk's clock, whatever it is: it assumes neither
// which questions the daily set holds nor that the day does not end on the
// way. Each tap waits for the view that answers it (window.qkKiosk.drawn
// counts the views the page draws), never for a while.
//
// Every screen is photographed at the three sizes people use (a portrait
// kiosk, a landscape one, a phone) into SCREENS (build/screens/kiosk),
// numbered in the order of the walk: NN-screen-WIDTHxHEIGHT.png; the folder
// above gets an index.html of them all.
//
// usage: node kiosk.mjs URL SCREENS [THEMED_DAY_URL [QUIZKIT_BIN DAILY_HOME [FILL_URL]]]
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  bad, cal, expectEq, expectTrue, finish, launch, newPage as open, skip, startServer, stopServer, writeIndex,
} from './harness.mjs';
import { answerAll as answerEvery, homeShown, keypad, login, pickAnswer, screen, tap, waitScreen } from './walk.mjs';

const [url, screens, themedUrl, qkBin, dailyHome, fillUrl] = process.argv.slice(2);
rmSync(screens, { recursive: true, force: true }); /* this run's screens only */
mkdirSync(screens, { recursive: true });
const browser = await launch();
/* Every question answered, the first one's question and feedback photographed. */
const answerAll = (page, shots) => answerEvery(page, async (what, n) => { if (n === 0) await shot(page, `${shots}-${what}`); });
const foreign = [];
const allowed = [url, themedUrl, fillUrl].filter(Boolean).map(u => new URL(u).origin);
const newPage = viewport => open(browser, viewport, allowed, foreign, { hasTouch: true });
/* The screen as it is now, at each size (the page is laid out again for each,
 * then given its own size back). */
const SIZES = [[1080, 1920], [1920, 1080], [390, 844]];
let shots = 0;
async function shot(page, name) {
  const n = String(++shots).padStart(2, '0');
  const own = page.viewportSize();
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `${screens}/${n}-${name}-${width}x${height}.png` });
  }
  await page.setViewportSize(own);
}

/* Chinese screens say 你 (never 您) and 访客 (never 游客), and show no code
 * meant for programs: modes (daily, practice, ...), "*", theme ids. */
async function plainChinese(page, where) {
  const text = await page.evaluate(() => document.body.innerText);
  const codes = /\b(daily|practice|exam|challenge|review|competition|lesson|dangzhang|dangshi|jiankang|leifeng|yihu|yide|tiankong|xuanze)\b|\*|您|游客/;
  const m = text.match(codes);
  expectTrue(`${where}: plain Chinese, one form of address, no internal codes`, !m, m && m[0]);
}

/* The home screen has heard from the kiosk (and set the page's clock). */

/* The kiosk's clock, as /api/home has it. */
const kioskNow = page => page.evaluate(async () => (await (await fetch('/api/home')).json()).now_ms);

/* Runs a check that compares the page with the kiosk's answers about
 * "today"; when the day ends in the middle of it, runs it again (a day
 * cannot end twice within a few seconds). */
async function onOneDay(page, check) {
  for (let i = 0; ; i++) {
    const day = cal.beijingDay(await kioskNow(page));
    const r = await check();
    if (cal.beijingDay(await kioskNow(page)) === day || i === 2) return r;
    console.log('# the day ended during the check; once more');
  }
}

/* The page's clock is the kiosk's, not the browser's. */
async function expectKioskClock(page, name) {
  const before = await kioskNow(page);
  const shown = await page.evaluate(() => window.qkCalendar.now());
  const after = await kioskNow(page);
  expectTrue(name, shown >= before - 1000 && shown <= after + 1000,
             `page ${cal.timeText(shown, true)}, kiosk ${cal.timeText(before, true)}..${cal.timeText(after, true)}`);
}

/* The day ended between a check's start and its end. */
class DayEnded extends Error {}
async function sameDay(page, day) {
  if (cal.beijingDay(await kioskNow(page)) !== day)
    throw new DayEnded(`on the ${await screen(page)} screen, in ${await page.evaluate(() => window.qkKiosk.state.lang)}`);
}

/* Waits for the card to say text; when it does not because the day ended on
 * the way (yesterday's quiz is no longer offered), DayEnded. */
async function cardSays(page, text, day) {
  try {
    await page.locator('#unfinished-text').filter({ hasText: text }).waitFor({ timeout: 5000 });
  } catch (e) {
    await sameDay(page, day);
    throw e;
  }
}

/* Whether the daily quiz's card shows within a few seconds of the menu. */
const cardShown = page => page.locator('#unfinished-text').filter({ hasText: '每日答题' })
  .waitFor({ timeout: 5000 }).then(() => true, () => false);

/* A member with a letter in their id (A12, or B34 when the walk is done
 * again) signs in, leaves the daily quiz after one answer, finds it offered
 * on the card, continues it, leaves again, and then taps a theme. Every check
 * about the card is made only when the kiosk's day has not changed since the
 * daily quiz started (else DayEnded, and the caller walks it again with the
 * other member, who has no daily quiz of the new day begun). */
async function unfinishedDaily(page, [id, pin, name]) {
  await login(page, id, pin);
  await waitScreen(page, 'menu');
  expectEq(`${id} signs in on the keypad`, [await page.locator('#v-member').textContent(), await page.locator('#menu-title').textContent()],
           [id, `${name}，你好`]);
  expectEq('with no unfinished quiz offered yet', await page.locator('#menu-unfinished').isVisible(), false);

  const startMs = await kioskNow(page);
  const day = cal.beijingDay(startMs);
  console.log(`# ${id}'s daily quiz starts at ${cal.timeText(startMs, true)} (Beijing time)`);
  await page.click('.tile.mode-daily');
  await waitScreen(page, 'quiz');
  await pickAnswer(page, await page.evaluate(() => window.qkKiosk.state.quiz.item));
  await tap(page, () => page.click('#q-submit'));
  await page.click('#done');
  await waitScreen(page, 'home');
  await login(page, id, pin);
  await waitScreen(page, 'menu');
  const card = page.locator('#menu-unfinished');
  await cardShown(page);
  const offered = [await card.isVisible(), await page.locator('#unfinished-text').textContent()];
  await sameDay(page, day);
  expectEq('the unfinished daily quiz is offered on its own card', offered, [true, '继续上次未完成的答题：每日答题（已答 1 题）']);
  expectEq('as information, not in the red error box',
           [await card.evaluate(e => e.classList.contains('note') && !e.classList.contains('error')), await page.locator('#menu-error').isVisible()],
           [true, false]);
  await plainChinese(page, 'the menu with an unfinished quiz');
  await shot(page, 'menu-unfinished');
  // Switching language after signing in: the whole menu.
  await tap(page, () => page.click('#lang'));
  await cardSays(page, 'Continue your unfinished quiz', day);
  const english = await page.evaluate(() => ['#menu-title', '#menu-modes', '#themes-title', '#unfinished-text', '#who', '#done']
    .map(s => document.querySelector(s).innerText).join(' '));
  expectTrue('switching to English after signing in translates the whole menu (only names and theme titles stay Chinese)',
             !/[\u4e00-\u9fff]/.test(english.replaceAll(name, '')), english);
  await shot(page, 'menu-english');
  await tap(page, () => page.click('#lang'));
  await cardSays(page, '继续上次未完成的答题', day);
  await tap(page, () => page.click('#unfinished-go'));
  await waitScreen(page, 'quiz');
  const continued = [await page.evaluate(() => window.qkKiosk.state.quiz.item.mode), await page.locator('#q-progress').textContent()];
  await sameDay(page, day);
  expectEq('the card continues the daily quiz where it was left', continued, ['daily', '第 2 / 5 题']);
  await page.click('#done');
  await waitScreen(page, 'home');
  await login(page, id, pin);
  await waitScreen(page, 'menu');
  const still = await cardShown(page);
  await sameDay(page, day);
  expectTrue('left again, the daily quiz is still offered on its card', still);
  const second = await page.locator('#theme-list .tile').nth(1);
  const secondTitle = await second.locator('.t').textContent();
  await second.click();
  await waitScreen(page, 'quiz');
  const started = await page.evaluate(() => window.qkKiosk.state.quiz.item);
  expectEq('tapping a theme starts that theme\'s practice, from its first question, not the daily quiz left unfinished',
           [started.mode, started.theme, started.index, await page.locator('#q-note').isVisible()],
           ['practice', secondTitle, 0, false]);
  expectTrue('and the screen says so', (await page.locator('#q-theme').textContent()).includes(started.theme) &&
             !(await page.locator('#q-theme').textContent()).includes('每日答题'));
  await page.click('#done');
  await waitScreen(page, 'home');
}

try {
  const page = await newPage({ width: 1080, height: 1920 });
  await page.goto(url);
  await page.locator('#sync-status').filter({ hasText: /同步/ }).waitFor();
  expectEq('the home screen is in Chinese', await page.locator('#s-home .hero').textContent(), '欢迎来学习');
  expectTrue('it lists the open competitions', (await page.locator('#comp-list li').count()) > 0);
  expectEq('and says how to take part in one (the list itself is not for tapping)',
           await page.locator('#open-comps p').textContent(), '登录或以居民访客进入后，点“知识竞赛”参加。');
  expectTrue('and the sync status', (await page.locator('#sync-status').textContent()).length > 0);
  console.log(`# the kiosk's clock says ${cal.timeText(await kioskNow(page), true)} (Beijing time)`);
  await expectKioskClock(page, "the page keeps the kiosk's time (/api/home), not the browser's");
  const targets = await page.evaluate(() => [...document.querySelectorAll('button:not([hidden])')]
    .filter(b => b.offsetParent).map(b => Math.min(b.offsetWidth, b.offsetHeight)));
  expectTrue('every button is at least 48 px', targets.every(s => s >= 48), JSON.stringify(targets));
  const filled = await page.evaluate(() => document.querySelector('#sync-status').getBoundingClientRect().bottom / window.innerHeight);
  expectTrue('the portrait home uses the height of the screen, not its top 40%', filled > 0.8, filled.toFixed(2));
  await plainChinese(page, 'the home screen');
  await shot(page, 'home');

  // A resident: health themes only, a quiz, nothing personal.
  await page.click('#go-guest');
  await waitScreen(page, 'menu');
  const guestThemes = await page.locator('#theme-list .tile .t').allTextContents();
  expectEq('a guest sees only the themes open to residents', guestThemes, ['居民健康知识']);
  expectEq('and, of the study modes, only lessons and competitions (those open to residents)',
           await page.locator('#menu-modes .tile').evaluateAll(ts => ts.map(t => t.className.trim())),
           ['tile mode-lessons', 'tile mode-comps']);
  await plainChinese(page, 'the guest menu');
  await shot(page, 'guest-menu');
  await page.locator('#theme-list .tile').first().click();
  await waitScreen(page, 'quiz');
  await answerAll(page, 'guest');
  expectTrue('the guest quiz ends with a score', /%$/.test(await page.locator('#r-score').textContent()));
  await shot(page, 'guest-result');
  await page.click('#done');
  await waitScreen(page, 'home');
  expectEq('"done" signs the guest out', await page.evaluate(() => window.qkKiosk.state.token), null);

  // A member: a wrong PIN, then the right one.
  await login(page, 'm1', '9999');
  await page.locator('#login-error').waitFor({ state: 'visible' });
  expectTrue('a wrong PIN is refused, saying how many tries are left',
             (await page.locator('#login-error').textContent()).includes('再错 4 次'));
  expectEq('the member id was typed on the keypad, as its keys show it', await page.locator('#v-member').textContent(), 'M1');
  await shot(page, 'login-wrong-pin');
  await keypad(page, '1234');
  await page.click('#login-ok');
  await waitScreen(page, 'menu');
  expectEq('the right PIN opens the study menu', await page.locator('#menu-title').textContent(), '张三，你好');
  expectTrue('with every theme', (await page.locator('#theme-list .tile').count()) > 1);
  await plainChinese(page, 'the member menu');
  await shot(page, 'member-menu');

  // Practice or exam: the one chosen shows as chosen.
  await page.click('.tile.mode-exam');
  expectEq('模拟考试 tapped shows as chosen, 主题练习 not',
           await page.evaluate(() => ['exam', 'practice'].map(m => document.querySelector(`.mode-${m}`).getAttribute('aria-pressed'))),
           ['true', 'false']);
  expectTrue('and looks chosen', await page.evaluate(() => getComputedStyle(document.querySelector('.mode-exam')).backgroundColor !==
                                                          getComputedStyle(document.querySelector('.mode-practice')).backgroundColor));
  await shot(page, 'menu-exam-chosen');
  await page.click('.tile.mode-practice');

  // An empty wrong-answer book says so.
  await page.click('.tile.mode-review');
  await page.locator('#menu-error').waitFor({ state: 'visible' });
  expectTrue('an empty wrong-answer book says so', (await page.locator('#menu-error').textContent()).includes('错题本是空的'));

  // The daily quiz.
  await page.click('.tile.mode-daily');
  await waitScreen(page, 'quiz');
  expectEq('the daily quiz has five questions', (await page.locator('#q-progress').textContent()), '第 1 / 5 题');
  await answerAll(page, 'daily');
  await shot(page, 'daily-result');
  const detail = await page.locator('#r-detail').textContent();
  expectTrue('the result says how many were right', /答对 \d \/ 5 题/.test(detail), detail);
  await plainChinese(page, 'the result');

  // Me: what the engine says about today (looked at again if the day ends meanwhile).
  await page.click('#r-again');
  await waitScreen(page, 'menu');
  const [shownToday, me] = await onOneDay(page, async () => {
    if ((await screen(page)) === 'me') {
      await page.click('#me-back');
      await waitScreen(page, 'menu');
    }
    await page.click('.tile.mode-me');
    await waitScreen(page, 'me');
    return [await page.locator('#me-today').textContent(),
            await page.evaluate(async () => (await fetch('/api/me', {
              headers: { 'X-Kiosk-Session': window.qkKiosk.state.token } })).json())];
  });
  console.log(`# "me" looked at by ${cal.timeText(await kioskNow(page), true)}`);
  expectEq("today's points are the engine's", shownToday, String(me.today_total));
  expectEq('one bar per activity with its cap', await page.locator('#me-caps .cap').count(), me.activities.length);
  expectTrue('the daily quiz is in the history', (await page.locator('#me-history li').count()) >= 1);
  const firstRow = await page.locator('#me-history li').first().textContent();
  expectTrue('its time is the engine\'s, in Beijing time (MM-DD HH:MM)',
             me.history.length > 0 && firstRow.startsWith(cal.shortText(me.history[0].started_ms)),
             `${firstRow} / ${me.history.length && cal.shortText(me.history[0].started_ms)}`);
  expectEq('and the list says the times are Beijing time', await page.locator('#s-me h2').textContent(), '最近答题（北京时间）');
  const rows = await page.locator('#me-history li').allTextContents();
  expectTrue('each quiz shows its score, or 未完成 for one not finished (never a bare dash)',
             rows.length === me.history.length &&
             rows.every((r, i) => (me.history[i].finished ? /\d+%$/.test(r) || (me.history[i].max === 0 && r.endsWith('–')) : r.endsWith('未完成'))),
             JSON.stringify(rows.map((r, i) => [r, me.history[i].finished])));
  await plainChinese(page, '"me"');
  await shot(page, 'me');

  // A scenario lesson: story pages, choices, a checkpoint question, the end.
  await page.click('#me-back');
  await waitScreen(page, 'menu');
  await page.click('.tile.mode-lessons');
  await waitScreen(page, 'lessons');
  expectTrue('the lessons are listed', (await page.locator('#lesson-list .tile').count()) >= 3);
  await page.click('#lesson-list .tile[data-lesson="lesson-duty-scenario"]');
  await waitScreen(page, 'lesson');
  await shot(page, 'lesson-page');
  const seen = new Set();
  for (let n = 0; n < 40 && !(await page.locator('#l-end').isVisible()); n++) {
    const v = await page.evaluate(() => window.qkKiosk.state.lesson.view);
    seen.add(v.type);
    const lessonText = await page.locator('#s-lesson').innerText();
    expectTrue(`lesson step ${n + 1}: no unexplained score, no Markdown marks`, !/得分|^#|\*\*/m.test(lessonText), lessonText);
    if (v.type === 'page') {
      await tap(page, () => page.click('#l-next'));
    } else if (v.type === 'choice') {
      if (!seen.has('shot-choice')) { await shot(page, 'lesson-choice'); seen.add('shot-choice'); }
      await tap(page, () => page.locator('#l-choices .option').first().click());
    } else if (v.type === 'question') {
      await pickAnswer(page, v.question, 'l');
      await tap(page, () => page.click('#l-submit')); /* the feedback */
      expectTrue('a checkpoint answer gets its feedback', await page.locator('#l-feedback').isVisible());
      const lfb = await page.locator('#l-feedback').innerText();
      expectTrue('wrong, it says the answer given beside the right one, as a quiz does',
                 /回答正确/.test(lfb) || (/你的答案：/.test(lfb) && /正确答案：/.test(lfb)), lfb);
      await shot(page, 'lesson-checkpoint');
      await tap(page, () => page.click('#l-next'));
    } else {
      bad('the lesson shows pages, choices, questions and an end', `a view of type ${v.type}`);
      break;
    }
  }
  expectTrue('the lesson walks pages, choices and a checkpoint to its end',
             seen.has('page') && seen.has('choice') && seen.has('question') && await page.locator('#l-end').isVisible(),
             JSON.stringify([...seen]));
  await shot(page, 'lesson-end');
  await page.click('#l-end');
  await waitScreen(page, 'menu');

  // A practice quiz left half-way resumes at the next login.
  await page.locator('#theme-list .tile').first().click();
  await waitScreen(page, 'quiz');
  const first = await page.evaluate(() => window.qkKiosk.state.quiz.item);
  await pickAnswer(page, first);
  await tap(page, () => page.click('#q-submit'));
  expectTrue('practice shows the feedback', await page.locator('#q-next').isVisible());
  // Back to the menu in the middle of a quiz, still signed in; the quiz
  // stays to be continued.
  expectTrue('a quiz offers the way back to the menu', await page.locator('#to-menu').isVisible());
  await tap(page, () => page.click('#to-menu'));
  await waitScreen(page, 'menu');
  expectEq('返回菜单 leads to the menu, still signed in as the member',
           [await page.locator('#menu-title').textContent(), await page.locator('#done').isVisible(),
            await page.locator('#to-menu').isVisible()],
           ['张三，你好', true, false]);
  await page.click('#done');
  await waitScreen(page, 'home');
  await login(page, 'm1', '1234');
  await waitScreen(page, 'menu');
  await page.locator('#theme-list .tile').first().click();
  await waitScreen(page, 'quiz');
  expectTrue('the theme tapped shows as chosen', await page.locator('#theme-list .tile').first().evaluate(e => e.classList.contains('picked')));
  expectTrue('the half-done quiz resumes for the same member, and says so calmly',
             (await page.locator('#q-note').textContent()).includes('已答 1 题') &&
             await page.locator('#q-note').isVisible() && !(await page.locator('#q-error').isVisible()));
  expectEq('at its second question', await page.locator('#q-progress').textContent(), `第 2 / ${first.total} 题`);
  await shot(page, 'resumed');

  // Left alone: the countdown shows, then the screen signs out by itself.
  const token = await page.evaluate(() => window.qkKiosk.state.token);
  await page.locator('#idle').waitFor({ state: 'visible', timeout: 30000 });
  expectTrue('an idle countdown shows', /秒后自动退出登录/.test(await page.locator('#idle-text').textContent()));
  await shot(page, 'idle-countdown');
  await waitScreen(page, 'home');
  expectEq('then the kiosk is back home, signed out', await page.evaluate(() => window.qkKiosk.state.token), null);
  const status = await page.evaluate(async tk => (await fetch('/api/me', { headers: { 'X-Kiosk-Session': tk } })).status, token);
  expectEq('and the old session is gone on the server too', status, 401);

  // A member id with a letter, typed on the keypad as its keys show it; a
  // theme tapped starts that theme, never the daily quiz left unfinished,
  // which is offered on a card of its own. The card is today's daily quiz
  // only, so when the day ends on the way (the sweep's 23:59:30 runs) the
  // walk is done again on the new day, when yesterday's quiz is no longer
  // offered, by another member (the first may have begun the new day's quiz
  // already). A wait that timed out counts as the day's end too when the
  // kiosk's day is no longer the one the walk began on: a tap made just
  // after midnight meets the new day's answers. Anything else is a failure.
  const walkers = [['A12', '2468', '王医生'], ['B34', '1357', '赵护士']];
  for (let pass = 0; ; pass++) {
    const dayBefore = cal.beijingDay(await kioskNow(page));
    try {
      await unfinishedDaily(page, walkers[pass]);
      break;
    } catch (e) {
      const dayNow = await kioskNow(page).then(ms => cal.beijingDay(ms), () => dayBefore);
      const ended = e instanceof DayEnded || (e.name === 'TimeoutError' && dayNow !== dayBefore);
      if (!ended || pass === 1) throw e;
      console.log(`# the day ended during the unfinished daily quiz walk (${e.message.split('\n')[0]}); once more on the new day`);
      if (await page.locator('#idle').isVisible()) await waitScreen(page, 'home'); // signing out by itself
      else if (await screen(page) !== 'home') { await page.click('#done'); await waitScreen(page, 'home'); }
      // the day may have ended while the menu was in English
      // (on the home screen the switch reloads the home, drawing no new view)
      if (await page.evaluate(() => window.qkKiosk.state.lang) !== 'zh') {
        await page.click('#lang');
        await page.waitForFunction(() => window.qkKiosk.state.lang === 'zh' && document.documentElement.lang === 'zh-CN',
                                   null, { timeout: 10000 });
      }
    }
  }

  // Two members, one screen: a 1v1 round of the residents' health competition.
  await page.click('#go-hotseat');
  await waitScreen(page, 'hs-setup');
  await page.click('#hs-comps .tile[data-comp="jiankang-changshe"]');
  await page.click('#hs-2');
  for (const [i, who, pin] of [[0, 'm1', '1234'], [1, 'm2', '5678']]) {
    await page.click(`#hs-slots .slot[data-slot="${i}"] .join-member`);
    await waitScreen(page, 'login');
    await keypad(page, who);
    await page.click('#f-pin');
    await keypad(page, pin);
    await page.click('#login-ok');
    await waitScreen(page, 'hs-setup');
  }
  expectEq('both players joined', await page.locator('#hs-slots .slot.joined').count(), 2);
  expectEq('each slot shows the player\'s name, not the id',
           (await page.locator('#hs-slots .slot .who').allTextContents()).map(x => x.trim()), ['选手 1：张三 ✔', '选手 2：李四 ✔']);
  await shot(page, 'hotseat-setup');
  await page.click('#hs-start');
  await waitScreen(page, 'hs-turn');
  expectEq("the first turn is 张三's, privately", await page.locator('#hs-turn-text').textContent(), '请 张三 答第 1 / 8 题');
  await shot(page, 'hotseat-handover');
  const turns = [];
  for (let n = 0; n < 80; n++) {
    const { sc, phase } = await page.evaluate(() => ({ sc: window.qkKiosk.screen, phase: window.qkKiosk.game.phase }));
    if (phase === 'podium') break;
    if (sc === 'hs-turn') {
      await tap(page, () => page.click('#hs-ready')); /* the question, for this player's eyes */
      expectTrue(`turn ${turns.length + 1}: the question shows after the handover`, (await screen(page)) === 'quiz');
      const item = await page.evaluate(() => window.qkKiosk.state.quiz.item);
      if (n < 2) await shot(page, 'hotseat-question');
      await pickAnswer(page, item);
      await tap(page, () => page.click('#q-submit')); /* the engine's feedback on the board */
      expectTrue(`turn ${turns.length + 1}: the answer's feedback shows on the board`, (await screen(page)) === 'hs-board');
      turns.push(await page.evaluate(() => window.qkKiosk.game.player));
      if (n < 3) await shot(page, 'hotseat-feedback');
    } else if (sc === 'hs-board') {
      if (phase === 'scoreboard' && turns.length === 2) await shot(page, 'hotseat-scoreboard');
      await tap(page, () => page.click('#hs-continue'));
    } else {
      bad('the game moves between handover, question and board', `screen ${sc}, phase ${phase}`);
      break;
    }
  }
  expectEq('they took turns, question by question', turns.slice(0, 4), ['张三', '李四', '张三', '李四']);
  expectEq('eight questions each', turns.length, 16);
  await waitScreen(page, 'hs-board');
  expectEq('the podium', await page.locator('#hs-board-title').textContent(), '最终排名');
  const game = await page.evaluate(() => window.qkKiosk.game);
  const ranked = [...game.players].sort((a, b) => b.points - a.points || a.answer_ms - b.answer_ms).map(p => p.name);
  expectEq('ranks the players by the engine\'s points, then time',
           (await page.locator('#hs-scores li').allTextContents()).map(t => t.replace(/^\d/, '').replace(/\d+ 分$/, '')), ranked);
  expectTrue('and shows the kiosk\'s leaderboard with both', (await page.locator('#hs-local-list li').count()) >= 2);
  expectEq('each place once: a medal with its number, no list number beside it',
           await page.locator('#hs-scores').evaluate(el => [getComputedStyle(el).listStyleType,
             [...el.querySelectorAll('li')].map(li => li.querySelectorAll('.medal, .rank').length)]), ['none', [1, 1]]);
  await shot(page, 'hotseat-podium');
  await page.click('#hs-continue');
  await waitScreen(page, 'home');

  // English on the home screen.
  await page.click('#lang');
  expectEq('English on request', await page.locator('#s-home .hero').textContent(), 'Welcome');
  await page.click('#lang');

  // Landscape and a phone.
  const wide = await newPage({ width: 1920, height: 1080 });
  await wide.goto(url);
  await wide.locator('#sync-status').filter({ hasText: /同步/ }).waitFor();
  await wide.click('#go-guest');
  await waitScreen(wide, 'menu');
  await wide.locator('#theme-list .tile').first().click();
  await waitScreen(wide, 'quiz');
  const wideOverflow = await wide.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expectTrue('landscape: nothing is wider than the screen', wideOverflow <= 0, `${wideOverflow}px`);
  await wide.click('#done');
  await waitScreen(wide, 'home');
  const phone = await newPage({ width: 390, height: 844 });
  await phone.goto(url);
  await phone.locator('#sync-status').filter({ hasText: /同步/ }).waitFor();
  await phone.click('#go-login');
  await waitScreen(phone, 'login');
  await phone.click('.key[data-key="fn:letters"]');
  const letterKeys = await phone.evaluate(() => [...document.querySelectorAll('#keypad .key')]
    .map(b => Math.min(b.getBoundingClientRect().width, b.getBoundingClientRect().height)));
  expectTrue('on a phone every letter key is at least 48 px', letterKeys.length >= 26 && letterKeys.every(x => x >= 48),
             JSON.stringify(letterKeys.map(Math.round)));
  await shot(phone, 'login-letters');
  await phone.click('#login-back');
  await waitScreen(phone, 'home');
  await phone.click('#go-guest');
  await waitScreen(phone, 'menu');
  await phone.locator('#theme-list .tile').first().click();
  await waitScreen(phone, 'quiz');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expectTrue('on a phone nothing is wider than the screen', overflow <= 0, `${overflow}px`);
  await phone.click('#done');
  await waitScreen(phone, 'home');
  await login(phone, 'm1', '1234');
  await waitScreen(phone, 'menu');
  await phone.click('.tile.mode-me');
  await waitScreen(phone, 'me');
  await phone.click('#me-back');
  await waitScreen(phone, 'menu');
  await phone.click('.tile.mode-lessons');
  await waitScreen(phone, 'lessons');
  await phone.locator('#lesson-list .tile').first().click();
  await waitScreen(phone, 'lesson');
  const overflow2 = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expectTrue('a lesson fits the phone too', overflow2 <= 0, `${overflow2}px`);
  // Left after one step, the lesson continues where it was, saying so calmly.
  const lessonId = await phone.evaluate(() => window.qkKiosk.state.lesson.id);
  const step1 = await phone.evaluate(() => window.qkKiosk.state.lesson.view);
  if (step1.type === 'choice') await tap(phone, () => phone.locator('#l-choices .option').first().click());
  else await tap(phone, () => phone.click('#l-next'));
  const step2 = await phone.evaluate(() => window.qkKiosk.state.lesson.view.step);
  await phone.click('#done');
  await waitScreen(phone, 'home');
  await login(phone, 'm1', '1234');
  await waitScreen(phone, 'menu');
  await phone.click('.tile.mode-lessons');
  await waitScreen(phone, 'lessons');
  await phone.click(`#lesson-list .tile[data-lesson="${lessonId}"]`);
  await waitScreen(phone, 'lesson');
  expectEq('a lesson left part-way continues at its step, with a calm note, not the red error box',
           [await phone.evaluate(() => window.qkKiosk.state.lesson.view.step), await phone.locator('#l-note').isVisible(),
            await phone.locator('#l-note').textContent(), await phone.locator('#l-error').isVisible()],
           [step2, true, '接着上次的地方继续', false]);
  expectTrue('its page shows headings as headings, not "#"', !/^#/m.test(await phone.locator('#l-body').innerText()));
  await shot(phone, 'lesson-resumed');

  if (themedUrl) { /* a kiosk whose clock says 5 March */
    const day = await newPage({ width: 1080, height: 1920 });
    await day.goto(themedUrl);
    await day.locator('#themed-day').waitFor({ state: 'visible' });
    expectTrue('on 5 March the home screen leads with 学雷锋纪念日',
               (await day.locator('#themed-day').textContent()).includes('学雷锋'));
    expectEq("and the page's clock says 5 March too (the kiosk's, not the browser's)",
             await day.evaluate(() => window.qkCalendar.dateText(window.qkCalendar.now())), '2027-03-05');
    await shot(day, 'home-themed-day');
  } else {
    skip('the themed-day home screen', 'no kiosk on 5 March was given');
  }

  if (fillUrl) await fillIn();
  else skip('fill-in questions on the touch screen alone', 'no kiosk with the fill-in bundle was given');

  if (qkBin && dailyHome) await dailyAcrossDays();
  else skip('a daily quiz left on one day and finished by the next', 'no quizkit binary and data folder were given');

  expectEq('nothing was fetched from anywhere but the kiosks', foreign, []);
} catch (e) {
  bad('the walk-through finished', e.stack || String(e));
} finally {
  await browser.close();
}
writeIndex(dirname(screens));
finish();

/* A member starts the daily quiz on a kiosk at 23:59 on 2 December, answers
 * one question and signs out; the kiosk of 3 December finishes that quiz on
 * its own day when the member taps 每日答题 again, and says so calmly. */
async function dailyAcrossDays() {
  const env = day => {
    const e = { ...process.env, QUIZKIT_HOME: dailyHome, QUIZKIT_NOW: day };
    delete e.QUIZKIT_NOW_SINCE;
    delete e.QUIZKIT_NOW_RATE;
    return e;
  };
  let kiosk = null;
  try {
    kiosk = await startServer(qkBin, ['kiosk'], env('2026-12-02T23:59:00+08:00'), `${dailyHome}/port`);
    allowed.push(new URL(kiosk.url).origin);
    const late = await newPage({ width: 1080, height: 1920 });
    await late.goto(kiosk.url);
    await homeShown(late);
    await login(late, 'm1', '1234');
    await waitScreen(late, 'menu');
    await late.click('.tile.mode-daily');
    await waitScreen(late, 'quiz');
    const item = await late.evaluate(() => window.qkKiosk.state.quiz.item);
    await pickAnswer(late, item);
    await tap(late, () => late.click('#q-submit'));
    expectEq('at 23:59 on 2 December a member answers one daily question',
             [cal.dateText(await kioskNow(late)), await late.locator('#q-next').isVisible()], ['2026-12-02', true]);
    await late.click('#done');
    await waitScreen(late, 'home');
    await late.close();
    await stopServer(kiosk);

    kiosk = await startServer(qkBin, ['kiosk'], env('2026-12-03T10:00:00+08:00'), `${dailyHome}/port`);
    allowed.push(new URL(kiosk.url).origin);
    const next = await newPage({ width: 1080, height: 1920 });
    await next.goto(kiosk.url);
    await homeShown(next);
    await login(next, 'm1', '1234');
    await waitScreen(next, 'menu');
    const [resp] = await Promise.all([
      next.waitForResponse(r => new URL(r.url()).pathname === '/api/quiz'),
      next.click('.tile.mode-daily'),
    ]);
    await waitScreen(next, 'quiz');
    const old = (await resp.json()).expired_daily;
    expectTrue("the next day's kiosk finished 2 December's daily quiz (expired_daily)",
               old && old.day === '2026-12-02' && old.answered === 1 && old.total === 5, JSON.stringify(old));
    const o = old || {};
    expectEq('and says so in a calm note, not as an error',
             [await next.locator('#q-note').isVisible(), await next.locator('#q-note').textContent(),
              await next.locator('#q-error').isVisible()],
             [true, `12月2日的每日答题没有做完，已把答了的 1/5 题计入那一天（答对 ${o.correct} 题，得 ${o.points} 积分），今天换了新题。`,
              false]);
    expectEq('then starts the new day\'s daily quiz', await next.locator('#q-progress').textContent(), '第 1 / 5 题');
    await shot(next, 'daily-expired');
    await next.click('#lang');
    expectEq('the note in English too', await next.locator('#q-note').textContent(),
             `The daily quiz of 2 December was not finished: the 1 of 5 questions answered count for that day (${o.correct} right, ${o.points} points). Today has new questions.`);
    await shot(next, 'daily-expired-en');
    await next.click('#lang');
    expectTrue('and back in Chinese', (await next.locator('#q-note').textContent()).startsWith('12月2日'));
    await next.click('#done');
    await waitScreen(next, 'home');
    await next.close();
  } catch (e) {
    bad('the daily quiz across two days', `${e.stack || e}\n${kiosk ? kiosk.output() : ''}`);
  } finally {
    await stopServer(kiosk);
  }
}

/* A fill-in question on the touch screen alone (issue 15, item 2): on the
 * kiosk of test_kiosk.sh's fill-in bundle, a member answers one question by
 * tapping the pad's characters (正确), skips one, and types one on a
 * keyboard; an attempt left and resumed shows the same pad. */
async function fillIn() {
  const answers = {
    '雷锋同志的原名是____。': ['雷正兴'],
    '中国医师节是每年的____月____日。': ['8', '19'],
    '《中国医学生誓言》的第一句是：“健康所系，____相托。”': ['性命'],
  };
  try {
    const fp = await newPage({ width: 1080, height: 1920 });
    await fp.goto(fillUrl);
    await homeShown(fp);
    // A resident, as a guest: the first question, tapped, is right.
    await fp.click('#go-guest');
    await waitScreen(fp, 'menu');
    await fp.click('#theme-list .tile[data-theme="tiankong"]');
    await waitScreen(fp, 'quiz');
    const guestItem = await fp.evaluate(() => window.qkKiosk.state.quiz.item);
    for (const [i, a] of (answers[guestItem.stem] || []).entries()) {
      for (const ch of a) await fp.click(`#q-blanks .blank-row[data-blank="${i}"] .pad-key[data-char="${ch}"]`);
    }
    await tap(fp, () => fp.click('#q-submit'));
    expectEq('a resident (a guest) answers a fill-in question by tapping alone, and it is right',
             await fp.locator('#q-feedback .verdict').textContent(), '回答正确！');
    await fp.click('#done');
    await waitScreen(fp, 'home');
    await login(fp, 'm1', '1234');
    await waitScreen(fp, 'menu');
    await fp.click('#theme-list .tile[data-theme="tiankong"]');
    await waitScreen(fp, 'quiz');
    const item = await fp.evaluate(() => window.qkKiosk.state.quiz.item);
    const want = answers[item.stem] || [];
    const padKeys = async () => Promise.all((await fp.locator('#q-blanks .pad').all()).map(p => p.locator('.pad-key:not(.fn)').allTextContents()));
    const pads = await padKeys();
    expectEq('a fill-in question shows a pad of characters under each blank', pads.length, want.length);
    expectTrue("each pad holds its answer's characters once each, among others",
               want.length > 0 && want.every((a, i) => [...a].every(ch => pads[i].filter(k => k === ch).length === 1) &&
                                                 pads[i].length >= [...new Set(a)].length + 4), JSON.stringify(pads));
    expectTrue('the pads the kiosk sends are characters only, nothing marking the right ones',
               item.pads.every(p => p.every(k => typeof k === 'string' && [...k].length === 1)), JSON.stringify(item.pads));
    expectEq('with a backspace and 跳过 beside 提交答案, which waits for an answer',
             [await fp.locator('#q-blanks .pad-key.fn').count(), await fp.locator('#q-skip').textContent(),
              await fp.locator('#q-skip').isVisible(), await fp.locator('#q-submit').isDisabled()],
             [want.length, '跳过', true, true]);
    await plainChinese(fp, 'a fill-in question');
    await shot(fp, 'fill-pad');
    // Left and resumed: the same question shows the same pad.
    await fp.click('#done');
    await waitScreen(fp, 'home');
    await login(fp, 'm1', '1234');
    await waitScreen(fp, 'menu');
    await fp.click('#theme-list .tile[data-theme="tiankong"]');
    await waitScreen(fp, 'quiz');
    expectEq('the attempt resumed shows the same pad', [await fp.evaluate(() => window.qkKiosk.state.quiz.item.stem), await padKeys()],
             [item.stem, pads]);

    const ways = ['tap', 'skip', 'keyboard'];
    for (let n = 0; n < 3 && (await screen(fp)) === 'quiz'; n++) {
      const it = await fp.evaluate(() => window.qkKiosk.state.quiz.item);
      const ans = answers[it.stem] || [];
      const how = ways[n];
      if (how === 'tap') {
        for (const [i, a] of ans.entries()) {
          const row = fp.locator(`#q-blanks .blank-row[data-blank="${i}"]`);
          await row.locator('.pad-key:not(.fn)').filter({ hasNotText: new RegExp(`[${a}]`) }).first().click(); /* a slip */
          await row.locator('.pad-key.fn').click(); /* taken back */
          for (const ch of a) await row.locator(`.pad-key[data-char="${ch}"]`).click();
        }
        expectEq('tapping the pad fills the blanks', await fp.locator('#q-blanks input').evaluateAll(xs => xs.map(x => x.value)), ans);
        expectEq('and 提交答案 is ready', await fp.locator('#q-submit').isEnabled(), true);
        await shot(fp, 'fill-tapped');
        await tap(fp, () => fp.click('#q-submit'));
        expectEq('an answer tapped on the pad alone is judged 正确', await fp.locator('#q-feedback .verdict').textContent(), '回答正确！');
        await shot(fp, 'fill-right');
      } else if (how === 'skip') {
        await tap(fp, () => fp.click('#q-skip'));
        const fb = await fp.locator('#q-feedback').innerText();
        expectTrue('跳过 moves on, recorded as a wrong answer that says it was skipped, with the right answer',
                   fb.includes('回答错误') && fb.includes('你的答案：跳过') && fb.includes(`正确答案：${ans[0]}`), fb);
        await shot(fp, 'fill-skipped');
      } else {
        for (const [i, a] of ans.entries()) {
          await fp.locator('#q-blanks input').nth(i).focus();
          await fp.keyboard.type(a);
        }
        await tap(fp, () => fp.click('#q-submit'));
        expectEq('a keyboard still types into the blanks', await fp.locator('#q-feedback .verdict').textContent(), '回答正确！');
      }
      await tap(fp, () => fp.click('#q-next'));
    }
    await waitScreen(fp, 'result');
    expectEq('the result counts two right of three', await fp.locator('#r-detail').textContent(), '答对 2 / 3 题');
    await shot(fp, 'fill-result');
    await fp.click('#done');
    await waitScreen(fp, 'home');
    await fp.close();
  } catch (e) {
    bad('fill-in questions on the touch screen', e.stack || String(e));
  }
}
