// What the browser walks of the kiosk's pages share (the kiosk's, kiosk.mjs,
// and the phones' app's, app.mjs, which runs the same pages): which screen
// shows, taps that wait for the view that answers them (window.qkKiosk.drawn
// counts the views the page draws), never for a while, and answering as a
// member would, on the on-screen keypad.

export const screen = page => page.evaluate(() => window.qkKiosk.screen);
export const waitScreen = (page, name, timeout = 10000) =>
  page.waitForFunction(n => window.qkKiosk.screen === n, name, { timeout });

/* The home screen has heard from the kiosk (and set the page's clock). */
export const homeShown = page => page.waitForFunction(() => window.qkKiosk.state.home !== null, null, { timeout: 10000 });

/* Acts (a tap that leads home) and waits until the home screen has heard from
 * the kiosk again: state.home kept from an earlier visit is not the answer. */
export async function homeAfter(page, act, timeout = 30000) {
  const before = await page.evaluate(() => window.qkKiosk.homes);
  await act();
  await page.waitForFunction(n => window.qkKiosk.homes > n, before, { timeout });
}

/* Taps (act) and waits until the page has drawn the view that answers the
 * tap: the count of views drawn, read before the tap, must grow. */
export async function tap(page, act) {
  const before = await page.evaluate(() => window.qkKiosk.drawn);
  await act();
  await page.waitForFunction(n => window.qkKiosk.drawn > n, before, { timeout: 10000 });
}

/* Picks an answer to whatever is asked: the first option, 对, or "x" in each blank. */
export async function pickAnswer(page, item, where = 'q') {
  if (item.type === 'fill') for (const input of await page.locator(`#${where}-blanks input`).all()) await input.fill('x');
  else await page.locator(`#${where}-options .option`).first().click();
}

/* Answers every question until the result; seen('question' | 'feedback', n)
 * is called with each question answered and each feedback shown. */
export async function answerAll(page, seen = async () => {}) {
  for (let n = 0; n < 40 && (await screen(page)) === 'quiz'; n++) {
    const item = await page.evaluate(() => window.qkKiosk.state.quiz.item);
    await pickAnswer(page, item);
    await seen('question', n);
    /* the engine's answer: feedback (and a Next button), the next question (an exam), or the end */
    await tap(page, () => page.click('#q-submit'));
    if (await page.locator('#q-next').isVisible()) {
      await seen('feedback', n);
      await tap(page, () => page.click('#q-next'));
    }
  }
  await waitScreen(page, 'result');
}

export async function keypad(page, text) {
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

/* Signs in on the keypad (a member id the page remembers is not typed again). */
export async function login(page, member, pin) {
  await page.click('#go-login');
  await waitScreen(page, 'login');
  const remembered = await page.evaluate(() => window.qkKiosk.state.typed.member);
  if (remembered !== member) {
    /* another id remembered: rubbed out first */
    await page.click('#f-member');
    for (let i = 0; i < remembered.length; i++) await page.click('.key[data-key="fn:del"]');
    await keypad(page, member);
  }
  await page.click('#f-pin');
  await keypad(page, pin);
  await page.click('#login-ok');
}

/* Walks the lesson shown to its end: the next page, the first choice, any
 * answer to a checkpoint question; the kinds of steps seen. */
export async function walkLesson(page) {
  const seen = new Set();
  for (let n = 0; n < 60 && !(await page.locator('#l-end').isVisible()); n++) {
    const v = await page.evaluate(() => window.qkKiosk.state.lesson.view);
    seen.add(v.type);
    if (v.type === 'choice') {
      await tap(page, () => page.locator('#l-choices .option').first().click());
    } else if (v.type === 'question') {
      await pickAnswer(page, v.question, 'l');
      await tap(page, () => page.click('#l-submit'));
      await tap(page, () => page.click('#l-next'));
    } else {
      await tap(page, () => page.click('#l-next'));
    }
  }
  return seen;
}

/* The phone app's enrolment screen filled in and 注册 tapped (what follows
 * is the caller's to wait for). */
export async function enrol(page, { code, member, pin, name }) {
  await page.fill('#enrol-code', code);
  await page.fill('#enrol-member', member);
  await page.fill('#enrol-pin', pin);
  await page.fill('#enrol-name', name);
  await page.click('#enrol-go');
}

/* The phone app's 同步学习记录 tapped, and the sync waited for to its end,
 * either way: what the status line then says. */
export async function syncApp(page) {
  await page.click('#app-sync');
  await page.waitForFunction(() => /同步完成|同步没有完成/.test(document.getElementById('app-status').textContent),
    null, { timeout: 30000 });
  return page.locator('#app-status').textContent();
}
