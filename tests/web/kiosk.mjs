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
// usage: node kiosk.mjs URL ARTIFACTS [THEMED_DAY_URL [QUIZKIT_BIN DAILY_HOME]]
import { mkdirSync } from 'node:fs';
import {
  bad, cal, expectEq, expectTrue, finish, launch, newPage as open, skip, startServer, stopServer,
} from './harness.mjs';

const [url, artifacts, themedUrl, qkBin, dailyHome] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const browser = await launch();
const foreign = [];
const allowed = [new URL(url).origin, ...(themedUrl ? [new URL(themedUrl).origin] : [])];
const newPage = viewport => open(browser, viewport, allowed, foreign, { hasTouch: true });
const screen = page => page.evaluate(() => window.qkKiosk.screen);
const waitScreen = (page, name) => page.waitForFunction(n => window.qkKiosk.screen === n, name, { timeout: 10000 });
const shot = (page, name) => page.screenshot({ path: `${artifacts}/kiosk-${name}.png` });

/* Taps (act) and waits until the page has drawn the view that answers the
 * tap: the count of views drawn, read before the tap, must grow. */
async function tap(page, act) {
  const before = await page.evaluate(() => window.qkKiosk.drawn);
  await act();
  await page.waitForFunction(n => window.qkKiosk.drawn > n, before, { timeout: 10000 });
}

/* Picks an answer to whatever is asked: the first option, 对, or "x" in each blank. */
async function pickAnswer(page, item, where = 'q') {
  if (item.type === 'fill') for (const input of await page.locator(`#${where}-blanks input`).all()) await input.fill('x');
  else await page.locator(`#${where}-options .option`).first().click();
}

/* Answers every question until the result. */
async function answerAll(page, shots) {
  for (let n = 0; n < 40 && (await screen(page)) === 'quiz'; n++) {
    const item = await page.evaluate(() => window.qkKiosk.state.quiz.item);
    await pickAnswer(page, item);
    if (shots && n === 0) await shot(page, `${shots}-question`);
    /* the engine's answer: feedback (and a Next button), the next question (an exam), or the end */
    await tap(page, () => page.click('#q-submit'));
    if (await page.locator('#q-next').isVisible()) {
      if (shots && n === 0) await shot(page, `${shots}-feedback`);
      await tap(page, () => page.click('#q-next'));
    }
  }
  await waitScreen(page, 'result');
}

async function keypad(page, text) {
  for (const ch of text) {
    if (/[a-z]/i.test(ch)) {
      if (await page.locator('.key[data-key="fn:letters"]').count()) await page.click('.key[data-key="fn:letters"]');
      await page.click(`.key[data-key="${ch.toUpperCase()}"]`);
    } else {
      if (await page.locator('.key[data-key="fn:digits"]').count()) await page.click('.key[data-key="fn:digits"]');
      await page.click(`.key[data-key="${ch}"]`);
    }
  }
}

async function login(page, member, pin) {
  await page.click('#go-login');
  await waitScreen(page, 'login');
  await keypad(page, member);
  await page.click('#f-pin');
  await keypad(page, pin);
  await page.click('#login-ok');
}

/* The home screen has heard from the kiosk (and set the page's clock). */
const homeShown = page => page.waitForFunction(() => window.qkKiosk.state.home !== null, null, { timeout: 10000 });

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

try {
  const page = await newPage({ width: 1080, height: 1920 });
  await page.goto(url);
  await page.locator('#sync-status').filter({ hasText: /同步/ }).waitFor();
  expectEq('the home screen is in Chinese', await page.locator('#s-home .hero').textContent(), '欢迎来学习');
  expectTrue('it lists the open competitions', (await page.locator('#comp-list li').count()) > 0);
  expectTrue('and the sync status', (await page.locator('#sync-status').textContent()).length > 0);
  console.log(`# the kiosk's clock says ${cal.timeText(await kioskNow(page), true)} (Beijing time)`);
  await expectKioskClock(page, "the page keeps the kiosk's time (/api/home), not the browser's");
  const targets = await page.evaluate(() => [...document.querySelectorAll('button:not([hidden])')]
    .filter(b => b.offsetParent).map(b => Math.min(b.offsetWidth, b.offsetHeight)));
  expectTrue('every button is at least 48 px', targets.every(s => s >= 48), JSON.stringify(targets));
  await shot(page, 'home-portrait');

  // A resident: health themes only, a quiz, nothing personal.
  await page.click('#go-guest');
  await waitScreen(page, 'menu');
  const guestThemes = await page.locator('#theme-list .tile .t').allTextContents();
  expectEq('a guest sees only the themes open to residents', guestThemes, ['居民健康知识']);
  expectEq('and, of the study modes, only lessons and competitions (those open to residents)',
           await page.locator('#menu-modes .tile').evaluateAll(ts => ts.map(t => t.className.trim())),
           ['tile mode-lessons', 'tile mode-comps']);
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
  expectEq('the member id was typed on the keypad', await page.locator('#v-member').textContent(), 'm1');
  await shot(page, 'login-wrong-pin');
  await keypad(page, '1234');
  await page.click('#login-ok');
  await waitScreen(page, 'menu');
  expectEq('the right PIN opens the study menu', await page.locator('#menu-title').textContent(), '张三，你好');
  expectTrue('with every theme', (await page.locator('#theme-list .tile').count()) > 1);
  await shot(page, 'member-menu');

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
    if (v.type === 'page') {
      await tap(page, () => page.click('#l-next'));
    } else if (v.type === 'choice') {
      if (!seen.has('shot-choice')) { await shot(page, 'lesson-choice'); seen.add('shot-choice'); }
      await tap(page, () => page.locator('#l-choices .option').first().click());
    } else if (v.type === 'question') {
      await pickAnswer(page, v.question, 'l');
      await tap(page, () => page.click('#l-submit')); /* the feedback */
      expectTrue('a checkpoint answer gets its feedback', await page.locator('#l-feedback').isVisible());
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
  await page.click('#done');
  await waitScreen(page, 'home');
  await login(page, 'm1', '1234');
  await waitScreen(page, 'menu');
  await page.locator('#theme-list .tile').first().click();
  await waitScreen(page, 'quiz');
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
  await shot(wide, 'home-landscape');
  await wide.click('#go-guest');
  await waitScreen(wide, 'menu');
  await shot(wide, 'menu-landscape');
  await wide.locator('#theme-list .tile').first().click();
  await waitScreen(wide, 'quiz');
  await shot(wide, 'quiz-landscape');
  await wide.click('#done');
  await waitScreen(wide, 'home');
  const phone = await newPage({ width: 390, height: 844 });
  await phone.goto(url);
  await phone.locator('#sync-status').filter({ hasText: /同步/ }).waitFor();
  await shot(phone, 'home-phone');
  await phone.click('#go-guest');
  await waitScreen(phone, 'menu');
  await phone.locator('#theme-list .tile').first().click();
  await waitScreen(phone, 'quiz');
  await shot(phone, 'quiz-phone');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expectTrue('on a phone nothing is wider than the screen', overflow <= 0, `${overflow}px`);
  await phone.click('#done');
  await waitScreen(phone, 'home');
  await login(phone, 'm1', '1234');
  await waitScreen(phone, 'menu');
  await shot(phone, 'menu-phone');
  await phone.click('.tile.mode-me');
  await waitScreen(phone, 'me');
  await shot(phone, 'me-phone');
  await phone.click('#me-back');
  await waitScreen(phone, 'menu');
  await phone.click('.tile.mode-lessons');
  await waitScreen(phone, 'lessons');
  await phone.locator('#lesson-list .tile').first().click();
  await waitScreen(phone, 'lesson');
  await shot(phone, 'lesson-phone');
  const overflow2 = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expectTrue('a lesson fits the phone too', overflow2 <= 0, `${overflow2}px`);

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

  if (qkBin && dailyHome) await dailyAcrossDays();
  else skip('a daily quiz left on one day and finished by the next', 'no quizkit binary and data folder were given');

  expectEq('nothing was fetched from anywhere but the kiosks', foreign, []);
} catch (e) {
  bad('the walk-through finished', e.stack || String(e));
} finally {
  await browser.close();
}
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
