/* The kiosk's screens. Everything that counts (scores, time limits, who may
 * take what, when a session ends) is decided by the engine behind /api; this
 * page shows what it answers and sends what was touched. Plain JavaScript,
 * no build step, nothing fetched from elsewhere. Dates, times and timers come
 * from /common/calendar.js, on the kiosk's clock (set from /api/home). */
'use strict';

const cal = window.qkCalendar;

const TEXT = {
  zh: {
    brand: '党员学习一体机', done: '完成，退出', toMenu: '返回菜单', welcome: '欢迎来学习',
    welcomeSub: '党员请登录答题、学习；居民可以访客身份参加健康知识答题。', memberLogin: '党员登录',
    guest: '居民访客', openComps: '正在进行的知识竞赛', compsHint: '登录或以居民访客进入后，点“知识竞赛”参加。', loginTitle: '党员登录', memberId: '党员编号',
    welcomeSubPhone: '登录后答题、学习，没有网络也可以。', compsHintPhone: '登录后点“知识竞赛”参加。',
    pin: 'PIN 密码', back: '返回', login: '登录', themes: '选择主题', submit: '提交答案', next: '下一题',
    resultTitle: '答题结束', again: '继续学习', meTitle: '我的学习', todayPoints: '今日积分',
    totalPoints: '累计积分', streak: '连续学习', history: '最近答题（北京时间）', stay: '我还在，继续', other: 'English',
    themedDay: t => `今日主题：<strong>${t}</strong>`, pending: n => `待同步 ${n} 条学习记录`, synced: '学习记录已全部同步',
    lastSync: w => `上次同步 ${w}（北京时间）`, offline: '本机未连接服务器，学习记录保存在本机', neverSynced: '尚未同步',
    hello: name => `${name}，你好`, guestWho: '访客', guestMenu: '健康知识答题（访客）',
    daily: ['每日答题', n => `每天 ${n} 题，答对得积分`], challenge: ['挑战答题', '连续答对，答错即止'],
    review: ['错题本', '复习答错过的题'], me: ['我的学习', '积分、连续学习天数、答题记录'],
    practice: '主题练习', exam: '模拟考试', practiceHint: '点主题开始练习', examHint: '点主题开始考试（限时，结束后看结果）',
    questions: n => `${n} 道题`, todayTag: '今日主题', progress: (i, n) => `第 ${i} / ${n} 题`,
    judgeTrue: '对', judgeFalse: '错', notFinished: '未完成', blank: i => `第 ${i} 空`, right: '回答正确！', wrong: '回答错误',
    timeUp: '时间到', rightAnswer: a => `正确答案：${a}`, yourAnswer: a => `你的答案：${a}`,
    seeResult: '查看结果', resumed: n => `继续上次未完成的答题（已答 ${n} 题）`,
    scoreDetail: (c, n, p) => `答对 ${c} / ${n} 题${p > 0 ? `，获得 ${p} 积分` : ''}`, unanswered: '未作答',
    idle: s => `${s} 秒后自动退出登录`, signedOut: '已因长时间未操作自动退出登录。', pinDigits: '请用数字键盘输入 PIN',
    needBoth: '请输入党员编号和 PIN', days: n => `${n} 天`, pts: n => `${n} 分`,
    acts: { daily: '每日答题', challenge: '挑战答题', lesson: '党课', competition: '知识竞赛', streak: '连续学习' },
    modes: { daily: '每日答题', practice: '练习', exam: '考试', challenge: '挑战', review: '错题本', competition: '竞赛', lesson: '党课' },
    letters: 'ABC', digits: '123', del: '删除', noThemes: '暂时没有可选的主题', noLessons: '题库里还没有党课',
    types: { single: '单选题', multi: '多选题（可选多项）', judge: '判断题', fill: '填空题' },
    lessonsTitle: '党课', continue: '继续', lessonDone: '学完了，返回', lessons: ['党课', '故事、情景选择和小测验'],
    minutes: n => `约 ${n} 分钟`, lessonCompleted: '本课已完成！',
    lessonResumed: '接着上次的地方继续', kinds: { story: '故事', scenario: '情景', theory: '理论' },
    hotseat: '同屏对战（2–4 人）', compsTitle: '知识竞赛', hotseatTitle: '同屏对战', pickComp: '选择竞赛',
    pickPlayers: '几人对战', oneVsOne: '双人（1 对 1）', fourPlayers: '四人', startGame: '开始对战',
    lookAway: '其他选手请回避，不要看屏幕。', ready: '我准备好了', localBoard: '本机排行榜',
    comps: ['知识竞赛', '限时抢答，本机排行榜'], soloStart: '个人赛，开始', slot: n => `选手 ${n}`,
    join: '党员加入', joinGuest: '访客加入', joinTitle: n => `选手 ${n} 登录`,
    turnText: (name, q, n) => `请 ${name} 答第 ${q} / ${n} 题`, gained: (p, sec) => `得 ${p} 分，用时 ${sec} 秒`,
    scoreboardTitle: (q, n) => `第 ${q} / ${n} 题后的比分`, podiumTitle: '最终排名', nextPlayer: '交给下一位',
    nextQuestion: '下一题', seePodium: '查看排名', perQuestion: (n, sec) => `${n} 题，每题 ${sec} 秒`,
    noComps: '现在没有进行中的竞赛', compPoints: p => `，竞赛得分 ${p}`, guestsToo: '访客可参加',
    pts2: p => `${p} 分`, joined: '已加入', fillSlots: '请每位选手加入后开始',
    skip: '跳过', backspace: '退格', padHint: '点下面的字填空，也可以用键盘输入',
    resumeGo: '继续答题', unfinished: (what, n) => `继续上次未完成的答题：${what}（已答 ${n} 题）`,
    expiredDaily: (day, x) => (x.answered > 0
      ? `${day}的每日答题没有做完，已把答了的 ${x.answered}/${x.total} 题计入那一天（答对 ${x.correct} 题，得 ${x.points} 积分），今天换了新题。`
      : `${day}的每日答题一题也没有答，今天换了新题。`),
  },
  en: {
    brand: 'Study kiosk', done: 'Done, sign out', toMenu: 'Menu', welcome: 'Welcome',
    welcomeSub: 'Members sign in to study; residents can take the health quiz as guests.', memberLogin: 'Member sign-in',
    guest: 'Resident (guest)', openComps: 'Competitions open now', compsHint: 'Sign in, or come in as a guest, and tap Competitions to take part.', loginTitle: 'Member sign-in', memberId: 'Member id',
    welcomeSubPhone: 'Sign in to study, with or without a network.', compsHintPhone: 'Sign in and tap Competitions to take part.',
    pin: 'PIN', back: 'Back', login: 'Sign in', themes: 'Pick a theme', submit: 'Submit', next: 'Next',
    resultTitle: 'Finished', again: 'Keep studying', meTitle: 'My study', todayPoints: 'Points today',
    totalPoints: 'Total points', streak: 'Streak', history: 'Recent quizzes (Beijing time)', stay: "I'm still here", other: '中文',
    themedDay: t => `Today's theme: <strong>${t}</strong>`, pending: n => `${n} records waiting to sync`, synced: 'All records synced',
    lastSync: w => `last sync ${w} (Beijing time)`, offline: 'Not connected to a server; records are kept here', neverSynced: 'not synced yet',
    hello: name => `Hello, ${name}`, guestWho: 'Guest', guestMenu: 'Health quiz (guest)',
    daily: ['Daily quiz', n => `${n} a day, points for right answers`], challenge: ['Challenge', 'Right in a row until the first miss'],
    review: ['Wrong-answer book', 'Go over what you missed'], me: ['My study', 'Points, streak, history'],
    practice: 'Practice', exam: 'Exam', practiceHint: 'Tap a theme to practise', examHint: 'Tap a theme for a timed exam',
    questions: n => `${n} questions`, todayTag: "Today's theme", progress: (i, n) => `Question ${i} of ${n}`,
    judgeTrue: 'True', judgeFalse: 'False', notFinished: 'not finished', blank: i => `Blank ${i}`, right: 'Right!', wrong: 'Not right',
    timeUp: 'Time is up', rightAnswer: a => `Answer: ${a}`, yourAnswer: a => `Yours: ${a}`,
    seeResult: 'See the result', resumed: n => `Picking up where you left off (${n} answered)`,
    scoreDetail: (c, n, p) => `${c} of ${n} right${p > 0 ? `, ${p} points` : ''}`, unanswered: 'not answered',
    idle: s => `Signing out in ${s} s`, signedOut: 'Signed out after being left idle.', pinDigits: 'Use the number keys for the PIN',
    needBoth: 'Enter your member id and PIN', days: n => `${n} days`, pts: n => `${n} pts`,
    acts: { daily: 'Daily quiz', challenge: 'Challenge', lesson: 'Lessons', competition: 'Competitions', streak: 'Streak' },
    modes: { daily: 'Daily', practice: 'Practice', exam: 'Exam', challenge: 'Challenge', review: 'Review', competition: 'Competition', lesson: 'Lesson' },
    letters: 'ABC', digits: '123', del: 'Delete', noThemes: 'No themes to choose from yet', noLessons: 'The bundle has no lessons yet',
    types: { single: 'One answer', multi: 'One or more answers', judge: 'True or false', fill: 'Fill in' },
    lessonsTitle: 'Lessons', continue: 'Continue', lessonDone: 'Done, back', lessons: ['Lessons', 'Stories, scenario choices and checkpoints'],
    minutes: n => `about ${n} min`, lessonCompleted: 'Lesson completed!',
    lessonResumed: 'Picking up where you left off', kinds: { story: 'Story', scenario: 'Scenario', theory: 'Theory' },
    hotseat: 'Play together (2–4 players)', compsTitle: 'Competitions', hotseatTitle: 'Play together', pickComp: 'Pick a competition',
    pickPlayers: 'How many players', oneVsOne: 'Two (1 vs 1)', fourPlayers: 'Four', startGame: 'Start',
    lookAway: 'Everyone else, please look away.', ready: "I'm ready", localBoard: 'Leaderboard on this kiosk',
    comps: ['Competitions', 'Timed questions, leaderboard'], soloStart: 'Play solo', slot: n => `Player ${n}`,
    join: 'Member joins', joinGuest: 'Guest joins', joinTitle: n => `Player ${n} signs in`,
    turnText: (name, q, n) => `${name}: question ${q} of ${n}`, gained: (p, sec) => `${p} points in ${sec} s`,
    scoreboardTitle: (q, n) => `Scores after ${q} of ${n}`, podiumTitle: 'Final ranking', nextPlayer: 'Next player',
    nextQuestion: 'Next question', seePodium: 'See the ranking', perQuestion: (n, sec) => `${n} questions, ${sec} s each`,
    noComps: 'No competition open now', compPoints: p => `, ${p} competition points`, guestsToo: 'guests welcome',
    pts2: p => `${p} pts`, joined: 'joined', fillSlots: 'Every player joins, then start',
    skip: 'Skip', backspace: 'Backspace', padHint: 'Tap the characters below, or type',
    resumeGo: 'Continue', unfinished: (what, n) => `Continue your unfinished quiz: ${what} (${n} answered)`,
    expiredDaily: (day, x) => (x.answered > 0
      ? `The daily quiz of ${day} was not finished: the ${x.answered} of ${x.total} questions answered count for that day (${x.correct} right, ${x.points} points). Today has new questions.`
      : `The daily quiz of ${day} was left without an answer. Today has new questions.`),
  },
};

const $ = id => document.getElementById(id);
const state = {
  lang: 'zh', token: null, member: null, guest: false, home: null, idleSeconds: 90,
  lastTouch: cal.now(), field: 'member', typed: { member: '', pin: '' }, letters: false,
  themeMode: 'practice', quiz: null, chosen: new Set(), timer: null, deadline: 0,
};
/* What the page shows, for people and for the browser tests; homes counts
 * the home screen's answers from the kiosk taken; drawn counts
 * every view drawn (a screen, a question, feedback, a lesson step, a game
 * phase), so a test can wait for the next one. */
window.qkKiosk = { state, screen: 'home', drawn: 0, homes: 0 };
const drawn = () => { window.qkKiosk.drawn++; };
const t = k => TEXT[state.lang][k];

/* --- the API --- */

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

/* The transport: HTTP to the kiosk; on a member's phone (the page served
 * under /app/, web/app/app.js) the same requests go to the engine in the
 * app's Web Worker, answered by the same handler. */
function send(method, path, headers, body) {
  return window.qkApp ? window.qkApp.request(method, path, headers, body)
    : fetch(path, { method, headers, body });
}

async function api(method, path, body, token = state.token) {
  const headers = { 'Accept-Language': state.lang === 'en' ? 'en' : 'zh-CN' };
  if (token) headers['X-Kiosk-Session'] = token;
  const r = await send(method, path, headers, body ? JSON.stringify(body) : undefined);
  const j = await r.json();
  if (!r.ok) {
    const e = new ApiError(r.status, j.error && j.error.code, (j.error && j.error.message) || `HTTP ${r.status}`);
    if (e.code === 'no_session' && state.token) {
      reset();
      show('home');
      loadHome(t('signedOut'));
    }
    throw e;
  }
  return j;
}

/* --- screens --- */

function show(name) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== `s-${name}`;
  window.qkKiosk.screen = name;
  drawn();
  $('done').hidden = !state.token;
  /* back to the menu without signing out (a quiz left half-way is offered
   * there to continue); a hot-seat game has its own way through */
  $('to-menu').hidden = !state.token || !!state.game || name.startsWith('hs-') || ['menu', 'home', 'login'].includes(name);
  $('who').hidden = !state.token;
  $('who').textContent = state.member ? TEXT[state.lang].hello(state.member.name)
    : state.game ? t('hotseatTitle') : t('guestWho');
  $('app').scrollTop = 0;
}

function applyLang() {
  document.documentElement.lang = state.lang === 'en' ? 'en' : 'zh-CN';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  $('lang').textContent = t('other');
  if (state.note) $('q-note').textContent = state.note(TEXT[state.lang]);
  unfinishedText();
  drawKeypad();
}

/* After a change of language: the screen shown, drawn again in it (a quiz
 * keeps what was typed and chosen: only its labels change). */
async function redraw() {
  const sc = window.qkKiosk.screen;
  /* a screen drawn from the kiosk's answers is shown (and counted as drawn)
   * once it is whole in the new language, never half translated */
  if (sc === 'menu') return openMenu();
  if (sc === 'me') return openMe();
  if (sc === 'lessons') return openLessons();
  if (sc === 'comps') return openComps();
  show(sc);
  if (sc === 'hs-setup') drawSetup();
  else if ((sc === 'hs-turn' || sc === 'hs-board') && state.game) drawGame(state.game);
  else if (sc === 'quiz' && state.quiz && state.quiz.item) itemHead(state.quiz.item);
}

function reset() {
  clearTimer();
  state.token = null;
  state.member = null;
  state.guest = false;
  state.quiz = null;
  state.game = null;
  state.joining = null;
  state.typed = { member: '', pin: '' };
  state.themeMode = 'practice'; /* the next person starts from the start */
  state.pickedTheme = null;
  note(null);
  $('idle').hidden = true;
}

/* --- home --- */

async function loadHome(notice) {
  const sent = cal.mono();
  const h = await api('GET', '/api/home');
  cal.setNow(h.now_ms, sent, h.clock_rate); /* the page's clock is the kiosk's */
  state.home = h;
  window.qkKiosk.homes++;
  nextDay();
  state.idleSeconds = h.idle_seconds;
  const day = $('themed-day');
  day.hidden = !h.themed_day;
  if (h.themed_day) day.innerHTML = TEXT[state.lang].themedDay(escapeHtml(h.themed_day.title));
  $('open-comps').hidden = h.competitions.length === 0;
  $('comp-list').replaceChildren(...h.competitions.map(c => li(c.title)));
  $('sync-status').textContent = notice || syncText(h.sync);
}

/* A home screen left alone shows the new day's theme after midnight
 * (Beijing time, by the kiosk's clock). */
function nextDay() {
  clearTimeout(state.dayTimer);
  /* the host's clock may run faster than real time (QUIZKIT_NOW_RATE): the
   * wait is in real ms; a stopped clock never reaches midnight */
  const rate = cal.rate();
  const left = cal.dayStartMs(cal.today() + 1) - cal.now() + 1000;
  const wait = rate > 0 ? left / rate : Infinity;
  state.dayTimer = setTimeout(() => {
    if (!state.token && window.qkKiosk.screen === 'home') loadHome().catch(() => nextDay());
    else nextDay();
  }, Math.min(Math.max(wait, 1000), 6 * 3600 * 1000));
}

/* The sync status line: what waits, and when the server last took it. */
function syncText(s) {
  const L = TEXT[state.lang];
  const waiting = s.pending > 0 ? L.pending(s.pending) : t('synced');
  if (!s.enrolled) return s.pending > 0 ? `${t('offline')} · ${waiting}` : t('offline');
  /* enrolled, never synced, nothing made yet: not "all synced" */
  if (!(s.last_sync_ms > 0) && !(s.pending > 0)) return t('neverSynced');
  const when = s.last_sync_ms > 0 ? L.lastSync(cal.shortText(s.last_sync_ms)) : t('neverSynced');
  return `${waiting} · ${when}`;
}

function li(text) {
  const el = document.createElement('li');
  el.textContent = text;
  return el;
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, ch => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch]));
}

/* --- login on the keypad --- */

function drawKeypad() {
  const pad = $('keypad');
  const keys = state.letters && state.field === 'member'
    ? [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''), ['fn:digits', t('digits')], ['fn:del', '⌫']]
    : ['1', '2', '3', '4', '5', '6', '7', '8', '9', state.field === 'member' ? ['fn:letters', t('letters')] : ['fn:none', ''], '0', ['fn:del', '⌫']];
  pad.className = state.letters && state.field === 'member' ? 'keypad letters' : 'keypad';
  pad.replaceChildren(...keys.map(k => {
    const b = document.createElement('button');
    b.type = 'button';
    const [value, label] = Array.isArray(k) ? k : [k, k];
    b.className = value.startsWith('fn:') ? 'key fn' : 'key';
    b.textContent = label;
    b.dataset.key = value;
    if (value === 'fn:del') b.setAttribute('aria-label', t('del'));
    if (value === 'fn:none') b.disabled = true;
    return b;
  }));
}

function drawFields() {
  $('v-member').textContent = state.typed.member;
  $('v-pin').textContent = '●'.repeat(state.typed.pin.length);
  $('f-member').classList.toggle('active', state.field === 'member');
  $('f-pin').classList.toggle('active', state.field === 'pin');
}

function onKey(key) {
  const f = state.field;
  if (key === 'fn:letters') state.letters = true;
  else if (key === 'fn:digits') state.letters = false;
  else if (key === 'fn:del') state.typed[f] = state.typed[f].slice(0, -1);
  else if (!key.startsWith('fn:') && state.typed[f].length < (f === 'pin' ? 12 : 32)) state.typed[f] += key; /* as shown: ids compare without case */
  drawKeypad();
  drawFields();
}

function pickField(f) {
  state.field = f;
  state.letters = false;
  drawKeypad();
  drawFields();
}

async function signIn() {
  const err = $('login-error');
  err.hidden = true;
  if (!state.typed.member || !state.typed.pin) {
    err.textContent = t('needBoth');
    err.hidden = false;
    return;
  }
  if (state.joining !== null && state.joining !== undefined) return joinPlayer(err);
  try {
    const j = await api('POST', '/api/login', { member: state.typed.member, pin: state.typed.pin });
    state.token = j.token;
    state.member = j.member;
    state.guest = false;
    state.lastTouch = cal.now();
    /* a phone is its member's: the id is there the next time (the PIN is not) */
    if (window.qkApp) localStorage.setItem('quizkit.member', j.member.id);
    await openMenu();
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
    state.typed.pin = '';
    pickField('pin');
  }
}

/* A hot-seat player signs in on the keypad: the PIN is checked now (and its
 * sign-in ended at once), so the slot shows the member's name and a wrong
 * PIN is said at once; the game checks it again when it starts. */
async function joinPlayer(err) {
  try {
    const j = await api('POST', '/api/login', { member: state.typed.member, pin: state.typed.pin });
    await api('POST', '/api/logout', undefined, j.token);
    state.setup.slots[state.joining] = { member: j.member.id, pin: state.typed.pin, label: j.member.name };
    state.joining = null;
    drawSetup();
    show('hs-setup');
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
    state.typed.pin = '';
    pickField('pin');
  }
}

async function asGuest() {
  const j = await api('POST', '/api/guest');
  state.token = j.token;
  state.member = null;
  state.guest = true;
  state.lastTouch = cal.now();
  await openMenu();
}

async function signOut() {
  try { if (state.token) await api('POST', '/api/logout'); } catch (e) { /* gone already */ }
  reset();
  show('home');
  await loadHome();
}

/* --- the study menu --- */

/* A menu action that may be refused (an empty wrong-answer book, an entry
 * already used): the engine's reason shows above the menu. */
function guarded(fn) {
  return async () => {
    $('menu-error').hidden = true;
    try {
      await fn();
    } catch (e) {
      if (e.code === 'no_session') return;
      $('menu-error').textContent = e.message;
      $('menu-error').hidden = false;
      if (window.qkKiosk.screen !== 'menu') show('menu');
    }
  };
}

function tile(title, desc, onTap, extra) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `tile ${extra || ''}`;
  const tt = document.createElement('span');
  tt.className = 't';
  tt.textContent = title;
  const dd = document.createElement('span');
  dd.className = 'd';
  dd.textContent = desc;
  b.append(tt, dd);
  b.addEventListener('click', guarded(onTap));
  return b;
}

async function openMenu() {
  const j = await api('GET', '/api/themes');
  $('menu-error').hidden = true;
  $('menu-title').textContent = state.guest ? t('guestMenu') : TEXT[state.lang].hello(state.member.name);
  const modes = $('menu-modes');
  const L0 = TEXT[state.lang];
  const lessonsTile = tile(L0.lessons[0], L0.lessons[1], openLessons, 'mode-lessons');
  if (state.guest) {
    modes.replaceChildren(lessonsTile, tile(L0.comps[0], L0.comps[1], openComps, 'mode-comps'));
  } else {
    const L = TEXT[state.lang];
    modes.replaceChildren(
      tile(L.daily[0], L.daily[1]((state.home && state.home.bundle.daily_count) || 5), () => startQuiz('daily'), 'mode-daily'),
      tile(L.challenge[0], L.challenge[1], () => startQuiz('challenge'), 'mode-challenge'),
      tile(L.review[0], L.review[1], () => startQuiz('review'), 'mode-review'),
      lessonsTile,
      tile(L.comps[0], L.comps[1], openComps, 'mode-comps'),
      tile(L.me[0], L.me[1], openMe, 'mode-me'),
      tile(L.practice, L.practiceHint, () => setThemeMode('practice'), 'mode-practice'),
      tile(L.exam, L.examHint, () => setThemeMode('exam'), 'mode-exam'));
  }
  state.themes = j.themes;
  drawThemes();
  await drawUnfinished();
  show('menu');
}

function setThemeMode(m) {
  state.themeMode = m;
  drawThemes();
}

/* The choices made show as made: practice or exam, and the theme tapped last. */
function markPicked() {
  for (const m of ['practice', 'exam']) {
    const el = document.querySelector(`#menu-modes .mode-${m}`);
    if (!el) continue;
    el.classList.toggle('picked', state.themeMode === m);
    el.setAttribute('aria-pressed', String(state.themeMode === m));
  }
  for (const el of $('theme-list').querySelectorAll('.tile')) {
    el.classList.toggle('picked', el.dataset.theme === state.pickedTheme);
    el.setAttribute('aria-pressed', String(el.dataset.theme === state.pickedTheme));
  }
}

function drawThemes() {
  const L = TEXT[state.lang];
  $('themes-title').textContent = `${t('themes')} · ${state.themeMode === 'exam' ? L.exam : L.practice}`;
  const list = (state.themes || []).map(th => {
    const b = tile(th.title, `${th.today ? L.todayTag + ' · ' : ''}${L.questions(th.questions)}`, () => {
      state.pickedTheme = th.id;
      markPicked();
      return startQuiz(state.themeMode, th.id); /* that theme's own, never another unfinished quiz */
    }, th.today ? 'today' : '');
    b.dataset.theme = th.id;
    return b;
  });
  $('theme-list').replaceChildren(...(list.length ? list : [li(t('noThemes'))]));
  markPicked();
}

/* What a member left unfinished (the latest quiz that can continue, today's
 * daily quiz only): offered on its own card, calmly, beside the menu; tapping
 * a theme never continues it. */
const RESUMABLE = new Set(['daily', 'practice', 'exam', 'challenge', 'review']);
async function drawUnfinished() {
  const box = $('menu-unfinished');
  state.unfinished = null;
  box.hidden = true;
  if (!state.member) return;
  let m;
  try { m = await api('GET', '/api/me'); } catch (e) { return; } /* the menu works without the card */
  const u = m.history.find(h => !h.finished && RESUMABLE.has(h.mode) &&
                                (h.mode !== 'daily' || cal.beijingDay(h.started_ms) === cal.today()));
  const theme = u && u.theme ? (state.themes || []).find(th => th.title === u.theme) : null;
  if (!u || (u.theme && !theme)) return;
  state.unfinished = { mode: u.mode, theme: theme ? theme.id : null, title: theme ? theme.title : '', answered: u.answered };
  unfinishedText();
  box.hidden = false;
}

function unfinishedText() {
  const u = state.unfinished;
  if (!u) return;
  const L = TEXT[state.lang];
  $('unfinished-text').textContent = L.unfinished(`${L.modes[u.mode]}${u.title ? ' · ' + u.title : ''}`, u.answered);
}

/* --- a quiz --- */

async function startQuiz(mode, theme) {
  const j = await api('POST', '/api/quiz', theme ? { mode, theme } : { mode });
  state.quiz = { mode, resumed: j.resumed };
  $('q-error').hidden = true;
  const old = j.expired_daily;
  if (old) { /* the engine finished a past day's daily quiz on its own day */
    const day = cal.parseDate(old.day);
    note(L => L.expiredDaily(day === null ? old.day : cal.dayLabel(day, state.lang), old));
  } else if (j.resumed && j.answered > 0) {
    note(L => L.resumed(j.answered));
  } else {
    note(null);
  }
  show('quiz');
  if (j.done) return finishQuiz();
  drawItem(j.item);
}

/* A calm note above the question, not an error: text(L) in the language shown. */
function note(text) {
  state.note = text;
  $('q-note').hidden = !text;
  $('q-note').textContent = text ? text(TEXT[state.lang]) : '';
}

function flash(msg) {
  const el = $('q-error');
  el.textContent = msg;
  el.hidden = false;
}

function itemHead(item) {
  $('q-progress').textContent = TEXT[state.lang].progress(item.index + 1, item.total);
  $('q-theme').textContent = `${state.game ? state.game.player + ' · ' : ''}${t('types')[item.type]} · ${item.theme || t('modes')[item.mode] || ''}`;
  for (const [i, input] of [...$('q-blanks').querySelectorAll('input')].entries()) {
    input.placeholder = TEXT[state.lang].blank(i + 1);
    input.setAttribute('aria-label', TEXT[state.lang].blank(i + 1));
  }
}

function drawItem(item) {
  state.quiz.item = item;
  $('q-stem').textContent = item.stem;
  $('q-feedback').hidden = true;
  $('q-next').hidden = true;
  $('q-submit').hidden = false;
  $('q-skip').hidden = item.type !== 'fill';
  $('q-skip').disabled = false;
  drawQuestion(item, $('q-options'), $('q-blanks'), $('q-feedback'), $('q-submit'));
  itemHead(item);
  startTimer(item.remaining_ms);
  drawn();
}

/* A question's choices (or true/false, or blanks) in the given places: the
 * quiz, a lesson's checkpoint and a hot-seat turn all draw them the same
 * way; taps are collected in state.chosen until the answer is sent. */
function drawQuestion(q, opts, blanks, feedback, submit) {
  state.chosen = new Set();
  opts.className = q.type === 'judge' ? 'options judge' : 'options';
  const choices = q.type === 'judge'
    ? [{ key: '对', text: t('judgeTrue') }, { key: '错', text: t('judgeFalse') }]
    : q.options;
  opts.replaceChildren(...choices.map(o => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'option';
    b.dataset.key = o.key;
    if (q.type !== 'judge') {
      const k = document.createElement('span');
      k.className = 'k';
      k.textContent = o.key;
      b.append(k);
    }
    const tx = document.createElement('span');
    tx.textContent = o.text;
    b.append(tx);
    b.addEventListener('click', () => {
      if (!feedback.hidden) return; /* answered already */
      if (q.type === 'multi') state.chosen.has(o.key) ? state.chosen.delete(o.key) : state.chosen.add(o.key);
      else state.chosen = new Set([o.key]);
      for (const x of opts.children) x.classList.toggle('chosen', state.chosen.has(x.dataset.key));
      submit.disabled = state.chosen.size === 0;
    });
    return b;
  }));
  blanks.replaceChildren(...Array.from({ length: q.type === 'fill' ? q.blanks : 0 },
                                       (_, i) => blankRow(q, i, blanks, feedback, submit)));
  if (q.type === 'fill') fillChanged(blanks, submit);
  else submit.disabled = true;
}

/* A fill-in blank: its box (a keyboard types into it as ever) and, under it,
 * the kiosk's pad of characters for the touch screen (from the engine: the
 * answer's characters among others, in no telling order), with a backspace.
 * A key types at the end of its own blank. */
function blankRow(q, i, blanks, feedback, submit) {
  const L = TEXT[state.lang];
  const row = document.createElement('div');
  row.className = 'blank-row';
  row.dataset.blank = String(i);
  const input = document.createElement('input');
  input.placeholder = L.blank(i + 1);
  input.setAttribute('aria-label', L.blank(i + 1));
  input.className = 'blank';
  input.autocomplete = 'off';
  input.addEventListener('input', () => fillChanged(blanks, submit));
  row.append(input);
  const keys = (q.pads && q.pads[i]) || [];
  if (keys.length) {
    const pad = document.createElement('div');
    pad.className = 'pad';
    pad.setAttribute('aria-label', L.padHint);
    const key = (text, label, fn, cls) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = cls;
      b.textContent = text;
      if (label) b.setAttribute('aria-label', label);
      b.addEventListener('click', () => {
        if (!feedback.hidden) return; /* answered already */
        fn();
        fillChanged(blanks, submit);
      });
      return b;
    };
    pad.append(...keys.map(k => {
      const b = key(k, null, () => { input.value += k; }, 'pad-key');
      b.dataset.char = k;
      return b;
    }), key('⌫', L.backspace, () => { input.value = [...input.value].slice(0, -1).join(''); }, 'pad-key fn'));
    row.append(pad);
  }
  return row;
}

/* Submit waits until every blank holds something. */
function fillChanged(blanks, submit) {
  submit.disabled = [...blanks.querySelectorAll('input')].some(x => !x.value.trim());
}

/* What a skipped fill-in question records: a wrong answer (the engine has no
 * "unanswered" for a question it is showing), in words a person reading the
 * record later understands, the same in either language. */
const SKIPPED = '跳过';
function skipText(q) {
  return Array.from({ length: q.blanks }, () => SKIPPED).join('|');
}

/* The answer as the engine reads it: the letters chosen, 对/错, or the blanks joined with |. */
function answerText(q, blanks) {
  if (q.type === 'fill') return [...blanks.querySelectorAll('input')].map(i => i.value.trim()).join('|');
  return [...state.chosen].sort().join('');
}

function response() {
  return answerText(state.quiz.item, $('q-blanks'));
}

async function submit(skipped) {
  $('q-submit').disabled = true;
  $('q-skip').disabled = true;
  const resp = skipped === true ? skipText(state.quiz.item) : response();
  if (state.game) return gameAnswer(resp);
  try {
    const j = await api('POST', '/api/quiz/answer', { response: resp });
    $('q-error').hidden = true;
    note(null);
    afterAnswer(j);
  } catch (e) {
    flash(e.message);
    $('q-submit').disabled = false;
    $('q-skip').disabled = false;
  }
}

function afterAnswer(j) {
  clearTimer();
  if (j.time_up) return finishQuiz();
  const fb = j.feedback;
  state.quiz.next = j;
  if (!fb || !fb.reveal) return j.done ? finishQuiz() : drawItem(j.item);
  const box = $('q-feedback');
  const L = TEXT[state.lang];
  box.className = `feedback ${fb.correct ? 'ok' : 'bad'}`;
  box.replaceChildren();
  const v = document.createElement('div');
  v.className = 'verdict';
  v.textContent = fb.timed_out ? t('timeUp') : fb.correct ? t('right') : t('wrong');
  box.append(v);
  if (!fb.correct) {
    if (fb.given) box.append(div(L.yourAnswer(fb.given)));
    if (fb.right) box.append(div(L.rightAnswer(fb.right)));
  }
  if (state.quiz.mode === 'competition') box.append(div(L.gained(fb.points, (fb.elapsed_ms / 1000).toFixed(1))));
  if (fb.explanation) box.append(div(fb.explanation));
  box.hidden = false;
  for (const b of $('q-options').children) {
    if (!fb.correct && state.chosen.has(b.dataset.key)) b.classList.add('wrong');
  }
  $('q-submit').hidden = true;
  $('q-skip').hidden = true;
  $('q-next').hidden = false;
  $('q-next').textContent = j.done ? t('seeResult') : t('next');
  drawn();
}

function div(text) {
  const d = document.createElement('div');
  d.textContent = text;
  return d;
}

function next() {
  const j = state.quiz.next;
  if (j.done) finishQuiz();
  else drawItem(j.item);
}

async function finishQuiz() {
  clearTimer();
  const s = await api('POST', '/api/quiz/finish');
  const L = TEXT[state.lang];
  $('r-score').textContent = s.max > 0 ? `${Math.round((100 * s.score) / s.max)}%` : '–';
  /* a challenge ends at its first miss: out of the questions it asked */
  $('r-detail').textContent = L.scoreDetail(s.correct, s.mode === 'challenge' ? s.answered : s.total, s.points) +
    (s.mode === 'competition' ? L.compPoints(s.comp_points) : '');
  $('r-review').replaceChildren(...s.review.map(r => {
    const el = document.createElement('li');
    const stem = div(r.stem);
    const ans = document.createElement('div');
    ans.className = r.correct ? 'right' : 'wrong';
    ans.textContent = `${r.correct ? '✔' : '✘'} ${L.yourAnswer(r.given || L.unanswered)}${r.correct ? '' : ' · ' + L.rightAnswer(r.right || '')}`;
    el.append(stem, ans);
    return el;
  }));
  state.quiz = null;
  note(null);
  show('result');
}

/* The time left comes from the engine; the page only counts it down. */
function startTimer(ms) {
  clearTimer();
  const el = $('q-timer');
  el.hidden = ms < 0;
  if (ms < 0) return;
  state.deadline = cal.now() + ms;
  const tick = async () => {
    const left = Math.max(0, Math.ceil((state.deadline - cal.now()) / 1000));
    el.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    el.classList.toggle('low', left <= 5);
    if (left > 0) return;
    clearTimer();
    if (state.game) {
      try { drawGame(await api('POST', '/api/hotseat/expire')); } catch (e) { flash(e.message); }
    } else if (state.quiz && (state.quiz.mode === 'challenge' || state.quiz.mode === 'competition')) {
      try { afterAnswer(await api('POST', '/api/quiz/expire')); } catch (e) { flash(e.message); }
    } else {
      finishQuiz();
    }
  };
  tick();
  state.timer = setInterval(tick, 250);
}

function clearTimer() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

/* --- lessons --- */

/* A safe rendering of a lesson page's Markdown: text is escaped first, then
 * paragraphs, headings (# to ###, shown as one heading size: a page is short),
 * **bold** and pictures from the bundle (![caption](name)). */
function markdown(md) {
  const esc = escapeHtml(md || '');
  return esc.split(/\n\s*\n/).map(par => {
    const heading = par.match(/^#{1,3}\s+(.+?)(?:\n([\s\S]*))?$/);
    if (heading) return `<h3>${heading[1]}</h3>${heading[2] ? markdownPar(heading[2]) : ''}`;
    return markdownPar(par);
  }).join('');
}

function markdownPar(par) {
  /* a picture from the bundle: over HTTP on a kiosk; on a phone the app
   * fills it in from its engine (data-media) */
  const attr = window.qkApp ? 'data-media' : 'src';
  const html = par
    .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_, alt, src) => `<img alt="${alt}" ${attr}="/api/media/${encodeURIComponent(src)}">`)
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\n/g, '<br>');
  return `<p>${html}</p>`;
}

async function openLessons() {
  const j = await api('GET', '/api/lessons');
  const L = TEXT[state.lang];
  state.lessonTitles = Object.fromEntries(j.lessons.map(l => [l.id, l.title]));
  $('lesson-list').replaceChildren(...(j.lessons.length ? j.lessons.map(l => {
    const b = tile(l.title, `${L.kinds[l.kind] || l.kind} · ${l.theme} · ${L.minutes(l.minutes)}`, () => openLesson(l.id));
    b.dataset.lesson = l.id;
    return b;
  }) : [li(t('noLessons'))]));
  show('lessons');
}

async function openLesson(id) {
  const v = await api('POST', '/api/lesson', { id });
  state.lesson = { id, title: (state.lessonTitles || {})[id] };
  show('lesson');
  drawStep(v);
  /* a calm note, not an error: the lesson goes on where it was left */
  $('l-note').textContent = v.resumed ? t('lessonResumed') : '';
  $('l-note').hidden = !v.resumed;
}

function drawStep(v) {
  state.lesson.view = v;
  state.chosen = new Set();
  $('l-error').hidden = true;
  if (state.lesson.shownStep !== undefined && state.lesson.shownStep !== v.step) $('l-note').hidden = true;
  state.lesson.shownStep = v.step;
  $('l-feedback').hidden = true;
  $('l-title').textContent = state.lesson.title || '';
  $('l-body').innerHTML = v.type === 'question' ? '' : markdown(v.body);
  $('l-choices').replaceChildren(...(v.type === 'choice' ? v.choices.map((text, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'option';
    b.textContent = text;
    b.addEventListener('click', () => choosePath(i));
    return b;
  }) : []));
  $('l-question').hidden = v.type !== 'question';
  if (v.type === 'question') drawCheckpoint(v.question);
  $('l-submit').hidden = v.type !== 'question';
  $('l-skip').hidden = !(v.type === 'question' && v.question.type === 'fill');
  $('l-skip').disabled = false;
  $('l-next').hidden = v.type !== 'page';
  $('l-end').hidden = v.type !== 'end';
  if (v.type === 'end' && v.completed) {
    const done = div(t('lessonCompleted'));
    done.className = 'verdict';
    $('l-feedback').className = 'feedback ok';
    $('l-feedback').replaceChildren(done);
    $('l-feedback').hidden = false;
  }
  $('app').scrollTop = 0;
  drawn();
}

function drawCheckpoint(q) {
  $('l-stem').textContent = q.stem;
  drawQuestion(q, $('l-options'), $('l-blanks'), $('l-feedback'), $('l-submit'));
}

async function choosePath(i) {
  try { drawStep(await api('POST', '/api/lesson/choose', { index: i })); }
  catch (e) { $('l-error').textContent = e.message; $('l-error').hidden = false; }
}

async function lessonAnswer(skipped) {
  const q = state.lesson.view.question;
  const resp = skipped === true ? skipText(q) : answerText(q, $('l-blanks'));
  $('l-submit').disabled = true;
  $('l-skip').disabled = true;
  try {
    const v = await api('POST', '/api/lesson/answer', { response: resp });
    const fb = v.feedback;
    const L = TEXT[state.lang];
    const box = $('l-feedback');
    box.className = `feedback ${fb.correct ? 'ok' : 'bad'}`;
    const verdict = div(fb.correct ? t('right') : t('wrong'));
    verdict.className = 'verdict';
    box.replaceChildren(verdict);
    /* as a quiz's feedback: what was answered beside what was right */
    if (!fb.correct && fb.given) box.append(div(L.yourAnswer(fb.given)));
    if (!fb.correct && fb.right) box.append(div(L.rightAnswer(fb.right)));
    if (fb.explanation) box.append(div(fb.explanation));
    box.hidden = false;
    state.lesson.after = v;
    $('l-submit').hidden = true;
    $('l-skip').hidden = true;
    $('l-next').hidden = false;
    drawn();
  } catch (e) {
    $('l-error').textContent = e.message;
    $('l-error').hidden = false;
    $('l-submit').disabled = false;
    $('l-skip').disabled = false;
  }
}

async function lessonNext() {
  if (state.lesson.after) { /* the answer already moved the lesson on */
    const v = state.lesson.after;
    state.lesson.after = null;
    return drawStep(v);
  }
  try { drawStep(await api('POST', '/api/lesson/continue')); }
  catch (e) { $('l-error').textContent = e.message; $('l-error').hidden = false; }
}

/* --- competitions --- */

function boardList(el, rows) {
  el.replaceChildren(...rows.map(r => {
    const x = document.createElement('li');
    const pts = document.createElement('span');
    pts.className = 'pts';
    pts.textContent = TEXT[state.lang].pts2(r.points);
    const rank = document.createElement('span');
    rank.className = 'rank';
    rank.textContent = String(r.rank);
    x.append(rank, document.createTextNode(r.name || t('guestWho')), pts);
    return x;
  }));
}

async function openComps() {
  const j = await api('GET', '/api/competitions');
  const L = TEXT[state.lang];
  const cards = j.competitions.filter(c => state.member || c.guests).map(c => {
    const card = document.createElement('div');
    card.className = 'comp-card';
    const h = document.createElement('h2');
    h.textContent = c.title;
    const guestsToo = c.guests && !window.qkApp ? ' · ' + L.guestsToo : ''; /* (no guests on a phone) */
    const info = div(`${L.perQuestion(c.questions, c.seconds)}${guestsToo}`);
    info.className = 'muted';
    const list = document.createElement('ol');
    list.className = 'scores small';
    boardList(list, c.board.slice(0, 3));
    const go = document.createElement('button');
    go.type = 'button';
    go.className = 'big primary';
    go.textContent = L.soloStart;
    go.dataset.comp = c.id;
    go.addEventListener('click', () => startSolo(c.id));
    card.append(h, info, list, go);
    return card;
  });
  $('comp-tiles').replaceChildren(...(cards.length ? cards : [li(t('noComps'))]));
  show('comps');
}

async function startSolo(id) {
  try {
    const j = await api('POST', '/api/compete', { id });
    state.quiz = { mode: 'competition' };
    show('quiz');
    $('q-error').hidden = true;
    drawItem(j.item);
  } catch (e) {
    $('comp-tiles').prepend(Object.assign(div(e.message), { className: 'error' }));
  }
}

/* --- hot-seat: several players, one screen --- */

async function openSetup() {
  const j = await api('GET', '/api/competitions');
  state.setup = { comps: j.competitions, comp: j.competitions[0] || null, size: 2, slots: [null, null] };
  drawSetup();
  show('hs-setup');
}

function drawSetup() {
  const st = state.setup;
  const L = TEXT[state.lang];
  $('hs-comps').replaceChildren(...(st.comps.length ? st.comps.map(c => {
    const b = tile(c.title, L.perQuestion(c.questions, c.seconds), () => { st.comp = c; drawSetup(); },
                   st.comp && st.comp.id === c.id ? 'picked' : '');
    b.dataset.comp = c.id;
    return b;
  }) : [li(t('noComps'))]));
  $('hs-2').classList.toggle('picked', st.size === 2);
  $('hs-4').classList.toggle('picked', st.size === 4);
  $('hs-slots').replaceChildren(...st.slots.map((slot, i) => {
    const box = document.createElement('div');
    box.className = slot ? 'slot joined' : 'slot';
    box.dataset.slot = String(i);
    const who = div(slot ? `${L.slot(i + 1)}：${slot.label} ✔` : L.slot(i + 1));
    who.className = 'who';
    box.append(who);
    const join = document.createElement('button');
    join.type = 'button';
    join.className = 'join-member';
    join.textContent = t('join');
    join.addEventListener('click', () => {
      state.joining = i;
      state.typed = { member: '', pin: '' };
      $('login-error').hidden = true;
      pickField('member');
      show('login');
    });
    box.append(join);
    if (st.comp && st.comp.guests) {
      const g = document.createElement('button');
      g.type = 'button';
      g.className = 'join-guest';
      g.textContent = t('joinGuest');
      g.addEventListener('click', () => { st.slots[i] = { guest: true, label: t('guestWho') }; drawSetup(); });
      box.append(g);
    }
    return box;
  }));
  $('hs-start').disabled = !st.comp || st.slots.some(x => !x);
}

function setSize(n) {
  const st = state.setup;
  st.size = n;
  st.slots = Array.from({ length: n }, (_, i) => st.slots[i] || null);
  drawSetup();
}

async function startGame() {
  const st = state.setup;
  $('hs-error').hidden = true;
  try {
    const players = st.slots.map(x => (x.guest ? { guest: true } : { member: x.member, pin: x.pin }));
    const g = await api('POST', '/api/hotseat', { competition: st.comp.id, players });
    state.token = g.token;
    state.member = null;
    state.guest = false;
    state.game = g;
    state.lastTouch = cal.now();
    drawGame(g);
  } catch (e) {
    $('hs-error').textContent = e.message;
    $('hs-error').hidden = false;
    /* a wrong PIN: that player signs in again */
    st.slots = st.slots.map(x => (x && !x.guest && e.message.includes(x.member) ? null : x));
    drawSetup();
  }
}

function scores(g, el) {
  const order = [...g.players].sort((a, b) => b.points - a.points || a.answer_ms - b.answer_ms);
  const medals = ['gold', 'silver', 'bronze'];
  el.replaceChildren(...order.map((p, i) => {
    const x = document.createElement('li');
    const pts = document.createElement('span');
    pts.className = 'pts';
    pts.textContent = TEXT[state.lang].pts2(p.points);
    const m = document.createElement('span'); /* the place, once: a medal for the first three at the end */
    m.className = g.phase === 'podium' && i < 3 ? `medal ${medals[i]}` : 'rank';
    m.textContent = String(i + 1);
    x.append(m, document.createTextNode(p.name), pts);
    return x;
  }));
}

/* Every game screen follows the engine's phase. */
function drawGame(g) {
  state.game = g;
  window.qkKiosk.game = g;
  drawn();
  const L = TEXT[state.lang];
  clearTimer();
  if (g.phase === 'handover') {
    $('hs-turn-text').textContent = L.turnText(g.player, g.question + 1, g.total);
    show('hs-turn');
  } else if (g.phase === 'question') {
    state.quiz = { mode: 'competition' };
    show('quiz');
    $('q-error').hidden = true;
    drawItem(g.item);
  } else {
    $('hs-gain').hidden = g.phase !== 'feedback';
    if (g.phase === 'feedback') {
      const fb = g.feedback;
      $('hs-gain').className = `feedback ${fb.correct ? 'ok' : 'bad'}`;
      const v = div(fb.timed_out ? t('timeUp') : fb.correct ? t('right') : t('wrong'));
      v.className = 'verdict';
      $('hs-gain').replaceChildren(v, div(`${g.player}：${L.gained(fb.points, (fb.elapsed_ms / 1000).toFixed(1))}`));
      if (!fb.correct && fb.right) $('hs-gain').append(div(L.rightAnswer(fb.right)));
    }
    $('hs-board-title').textContent = g.phase === 'podium' ? t('podiumTitle')
      : L.scoreboardTitle(g.phase === 'feedback' ? g.question + 1 : g.question, g.total);
    scores(g, $('hs-scores'));
    $('hs-local').hidden = g.phase !== 'podium';
    if (g.phase === 'podium') boardList($('hs-local-list'), g.board || []);
    const last = g.turn + 1 >= g.players.length;
    $('hs-continue').textContent = g.phase === 'podium' ? t('done')
      : g.phase === 'feedback' ? (last ? t('nextQuestion') : t('nextPlayer'))
      : g.question >= g.total ? t('seePodium') : t('nextQuestion');
    show('hs-board');
  }
}

async function gameAnswer(resp) {
  try {
    drawGame(await api('POST', '/api/hotseat/answer', { response: resp }));
  } catch (e) {
    flash(e.message);
    $('q-submit').disabled = false;
    $('q-skip').disabled = false;
  }
}

async function gameContinue() {
  if (state.game.phase === 'podium') return signOut();
  drawGame(await api('POST', '/api/hotseat/continue'));
}

/* --- me --- */

async function openMe() {
  const m = await api('GET', '/api/me');
  const L = TEXT[state.lang];
  $('me-today').textContent = String(m.today_total);
  $('me-total').textContent = String(m.total);
  $('me-streak').textContent = L.days(m.streak_days);
  $('me-caps').replaceChildren(...m.activities.map(a => {
    const row = document.createElement('div');
    row.className = 'cap';
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${a.cap > 0 ? Math.min(100, (100 * a.today) / a.cap) : 0}%`;
    bar.append(fill);
    row.append(div(L.acts[a.activity] || a.activity), bar, div(`${a.today} / ${a.cap}`));
    return row;
  }));
  $('me-history').replaceChildren(...m.history.map(h => {
    const el = document.createElement('li');
    const when = cal.shortText(h.started_ms);
    el.append(div(`${when} · ${L.modes[h.mode] || ''}${h.theme ? ' · ' + h.theme : ''}`),
              div(!h.finished ? t('notFinished') : h.max > 0 ? `${Math.round((100 * h.score) / h.max)}%` : '–'));
    return el;
  }));
  show('me');
}

/* --- the idle countdown: the shared screen signs out by itself --- */

function touched() {
  state.lastTouch = cal.now();
  $('idle').hidden = true;
}

function idleTick() {
  /* a member's own phone keeps them signed in (idle_seconds null) */
  if (!state.token || !(state.idleSeconds > 0)) return;
  const left = Math.ceil(state.idleSeconds - (cal.now() - state.lastTouch) / 1000);
  const warnFrom = Math.min(15, Math.max(3, Math.floor(state.idleSeconds / 3)));
  if (left <= 0) {
    $('idle').hidden = true;
    signOut().then(() => { $('sync-status').textContent = t('signedOut'); });
  } else if (left <= warnFrom) {
    $('idle-text').textContent = TEXT[state.lang].idle(left);
    $('idle').hidden = false;
  }
}

/* --- wiring --- */

document.addEventListener('DOMContentLoaded', () => {
  if (location.pathname.startsWith('/app/')) {
    /* a member's own phone: no guests, no players taking turns (the phone
     * knows its own member alone) */
    for (const id of ['go-guest', 'go-hotseat']) $(id).hidden = true;
    for (const el of document.querySelectorAll('[data-i18n="welcomeSub"], [data-i18n="compsHint"]')) {
      el.dataset.i18n += 'Phone';
    }
  }
  applyLang();
  drawFields();
  $('go-login').addEventListener('click', () => {
    state.joining = null;
    state.typed = { member: (window.qkApp && localStorage.getItem('quizkit.member')) || '', pin: '' };
    $('login-error').hidden = true;
    pickField(state.typed.member ? 'pin' : 'member');
    show('login');
  });
  $('go-guest').addEventListener('click', () => asGuest().catch(e => { $('sync-status').textContent = e.message; }));
  $('login-back').addEventListener('click', () => {
    if (state.joining !== null && state.joining !== undefined) { state.joining = null; show('hs-setup'); }
    else show('home');
  });
  $('login-ok').addEventListener('click', signIn);
  $('f-member').addEventListener('click', () => pickField('member'));
  $('f-pin').addEventListener('click', () => pickField('pin'));
  $('keypad').addEventListener('click', ev => {
    const b = ev.target.closest('.key');
    if (b && !b.disabled) onKey(b.dataset.key);
  });
  $('q-submit').addEventListener('click', () => submit(false));
  $('q-skip').addEventListener('click', () => submit(true));
  $('unfinished-go').addEventListener('click', guarded(() => {
    const u = state.unfinished;
    return u && startQuiz(u.mode, u.theme || undefined);
  }));
  $('q-next').addEventListener('click', next);
  $('r-again').addEventListener('click', () => openMenu());
  $('me-back').addEventListener('click', () => openMenu());
  $('lessons-back').addEventListener('click', () => openMenu());
  $('l-next').addEventListener('click', lessonNext);
  $('l-submit').addEventListener('click', () => lessonAnswer(false));
  $('l-skip').addEventListener('click', () => lessonAnswer(true));
  $('l-end').addEventListener('click', () => openMenu());
  $('comps-back').addEventListener('click', () => openMenu());
  $('go-hotseat').addEventListener('click', () => openSetup().catch(e => { $('sync-status').textContent = e.message; }));
  $('hs-2').addEventListener('click', () => setSize(2));
  $('hs-4').addEventListener('click', () => setSize(4));
  $('hs-back').addEventListener('click', () => { state.setup = null; show('home'); });
  $('hs-start').addEventListener('click', startGame);
  $('hs-ready').addEventListener('click', async () => drawGame(await api('POST', '/api/hotseat/reveal')));
  $('hs-continue').addEventListener('click', gameContinue);
  $('done').addEventListener('click', signOut);
  $('to-menu').addEventListener('click', guarded(() => openMenu()));
  $('idle-stay').addEventListener('click', touched);
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'en' ? 'zh' : 'en';
    applyLang();
    drawFields();
    if (!state.token) loadHome();
    else redraw().catch(e => { $('sync-status').textContent = e.message; });
  });
  for (const ev of ['pointerdown', 'keydown']) document.addEventListener(ev, touched, true);
  setInterval(idleTick, 1000);
  show('home');
  /* under /app/, the phones' app: its script first, then the engine it opens */
  const phone = location.pathname.startsWith('/app/') ? startApp() : Promise.resolve();
  phone.then(() => loadHome()).catch(e => { $('sync-status').textContent = e.message; });
});

function startApp() {
  window.qkKiosk.show = show;
  window.qkKiosk.refresh = () => loadHome();
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = 'app.js';
    s.onload = () => window.qkApp.start(window.qkKiosk).then(resolve, reject);
    s.onerror = () => reject(new Error('app.js'));
    document.head.append(s);
  });
}
