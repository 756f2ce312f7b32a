/* The leaders' dashboard. It shows what the server's statistics API returns
 * (/api/v1/stats/...) and computes nothing of its own but the period's
 * dates, in Beijing days by the server's clock (/common/calendar.js, set from
 * /api/v1/time). Plain JavaScript, served as it is; Chart.js comes from the
 * server too (/vendor/chart.js), so a branch network without internet works. */
'use strict';

const cal = window.qkCalendar;

const TEXT = {
  zh: {
    title: '学习参与统计', logout: '退出登录', loginTitle: '支部书记登录', user: '账号', password: '密码',
    login: '登录', period: '统计期间（北京时间）', thisMonth: '本月', lastMonth: '上月', thisWeek: '本周', custom: '自定义',
    from: '从', to: '到', branch: '支部', allBranches: '全部支部', show: '查看', downloadXlsx: '下载 Excel 报表',
    rate: '参与率', activeOfRoster: '参与人数 / 名单人数', daysEach: '人均活跃天数', attempts: '答题次数',
    guests: '访客答题（匿名）', rateChart: '参与情况', trendChart: '每周趋势',
    noCharts: '图表组件（Chart.js）未安装，以下只显示表格。', inactiveTitle: '未参与的成员', csv: '下载 CSV',
    allTookPart: '本期间所有成员都参加了学习。', hardTitle: '难题（答对率最低的题目）',
    noAnswers: '本期间还没有答题记录。', membersTitle: '成员情况（点表头排序）',
    footer: '数据来自本服务器（成绩为服务器复核后的分数），时间按北京时间计。',
    took: '已参与', notYet: '未参与', activeMembers: '参与人数', loading: '正在加载……',
    shown: (f, t) => `${f} 至 ${t}（北京时间）`, signedIn: (u, b) => `${u}${b ? '（' + b + '）' : ''}`,
    never: '从未参与', needLogin: '请输入账号和密码。', badDates: '请选择开始和结束日期，结束不早于开始。',
    downloading: '正在生成文件……', downloaded: name => `已下载 ${name}`, other: 'English',
    sessionOver: '登录已过期，请重新登录。', failed: msg => `出错了：${msg}`,
    branchesTitle: '各支部参与情况', branchScope: '支部',
    fewWeeks: n => `数据只有 ${n} 周，再过几周才看得出趋势。`, noWeeks: '本期间还没有数据。',
    week: (a, b) => `${a}–${b}`,
  },
  en: {
    title: 'Study participation', logout: 'Sign out', loginTitle: 'Branch leader sign-in', user: 'Account',
    password: 'Password', login: 'Sign in', period: 'Period (Beijing time)', thisMonth: 'This month', lastMonth: 'Last month',
    thisWeek: 'This week', custom: 'Custom', from: 'From', to: 'To', branch: 'Branch', allBranches: 'All branches',
    show: 'Show', downloadXlsx: 'Download Excel report', rate: 'Participation rate',
    activeOfRoster: 'Active / on roster', daysEach: 'Active days each', attempts: 'Quiz attempts',
    guests: 'Guest attempts (anonymous)', rateChart: 'Participation', trendChart: 'Weekly trend',
    noCharts: 'Chart.js is not installed; tables only.', inactiveTitle: 'Members who have not taken part',
    csv: 'Download CSV', allTookPart: 'Every member took part in this period.',
    hardTitle: 'Difficult questions (lowest share right)', noAnswers: 'No answers in this period yet.',
    membersTitle: 'Members (click a heading to sort)',
    footer: 'Figures from this server (scores as the server re-checked them), in Beijing time.',
    took: 'Took part', notYet: 'Not yet', activeMembers: 'Active members', loading: 'Loading…',
    shown: (f, t) => `${f} to ${t} (Beijing time)`, signedIn: (u, b) => `${u}${b ? ' (' + b + ')' : ''}`,
    never: 'never', needLogin: 'Enter your account and password.',
    badDates: 'Pick a start and an end date, the end not before the start.',
    downloading: 'Preparing the file…', downloaded: name => `Downloaded ${name}`, other: '中文',
    sessionOver: 'Your session has ended; please sign in again.', failed: msg => `Something went wrong: ${msg}`,
    branchesTitle: 'Branches side by side', branchScope: 'branch',
    fewWeeks: n => `Only ${n} week${n === 1 ? '' : 's'} of data so far; a trend shows after a few more.`,
    noWeeks: 'No data in this period yet.',
    week: (a, b) => `${a} – ${b}`,
  },
};

const $ = id => document.getElementById(id);
const state = {
  lang: localStorage.getItem('qk.lang') === 'en' ? 'en' : 'zh',
  token: sessionStorage.getItem('qk.token'),
  user: JSON.parse(sessionStorage.getItem('qk.user') || 'null'),
  tables: {},
  charts: {},
  branchNames: new Map(), /* branch id -> name, from /api/v1/branches */
};
/* What the page shows, for people and for the browser tests. */
window.qkDash = { state, loads: 0 };

const t = key => TEXT[state.lang][key];

function applyLang() {
  document.documentElement.lang = state.lang === 'en' ? 'en' : 'zh-CN';
  document.title = `${t('title')} · quizkit`;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  $('lang').textContent = t('other');
  $('lang').setAttribute('aria-label', t('other'));
  if (state.user) showUser();
}

/* A branch as people know it: its name. The id is for the API only; while
 * the names are not known (or the list failed) the header names no branch. */
const branchName = id => state.branchNames.get(id) || '';

function showUser() {
  $('who').textContent = TEXT[state.lang].signedIn(state.user.user, branchName(state.user.branch));
}

/* --- the API --- */

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = { 'Accept-Language': state.lang === 'en' ? 'en' : 'zh-CN' };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (options.body) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { ...options, headers });
  if (!r.ok) {
    let msg = `HTTP ${r.status}`;
    try { msg = (await r.json()).error.message || msg; } catch (e) { /* not JSON */ }
    throw new ApiError(r.status, msg);
  }
  return r;
}

function fail(e) {
  if (e.status === 401 && state.token) {
    signOut();
    showLoginError(t('sessionOver'));
    return;
  }
  $('error').textContent = TEXT[state.lang].failed(e.message);
  $('error').hidden = false;
  $('status').textContent = '';
}

/* --- sign in and out --- */

function showLoginError(msg) {
  $('login-error').textContent = msg;
  $('login-error').hidden = false;
}

async function signIn(ev) {
  ev.preventDefault();
  const user = $('user').value.trim(), password = $('password').value;
  if (!user || !password) return showLoginError(t('needLogin'));
  $('login-btn').disabled = true;
  try {
    const r = await api('/api/v1/login', { method: 'POST', body: JSON.stringify({ user, password }) });
    const j = await r.json();
    state.token = j.token;
    state.user = { user: j.user, role: j.role, branch: j.branch || null };
    sessionStorage.setItem('qk.token', state.token);
    sessionStorage.setItem('qk.user', JSON.stringify(state.user));
    $('password').value = '';
    $('login-error').hidden = true;
    await enter();
  } catch (e) {
    showLoginError(e.message);
  } finally {
    $('login-btn').disabled = false;
  }
}

function signOut() {
  state.token = null;
  state.user = null;
  sessionStorage.removeItem('qk.token');
  sessionStorage.removeItem('qk.user');
  for (const c of Object.values(state.charts)) c.destroy();
  state.charts = {};
  $('dash-view').hidden = true;
  $('login-view').hidden = false;
  $('logout').hidden = true;
  $('who').hidden = true;
  $('user').focus();
}

async function enter() {
  $('login-view').hidden = true;
  $('dash-view').hidden = false;
  $('logout').hidden = false;
  $('who').hidden = false;
  showUser();
  await syncClock();
  setPeriod($('period').value);
  /* a leader's list holds their own branch, an admin's every branch */
  try {
    const j = await (await api('/api/v1/branches')).json();
    state.branchNames = new Map(j.branches.map(b => [b.id, b.name]));
    showUser();
    if (state.user.role === 'admin') {
      const sel = $('branch');
      sel.replaceChildren(new Option(t('allBranches'), ''));
      for (const b of j.branches) sel.append(new Option(b.name, b.id));
      $('branch-box').hidden = false;
    }
  } catch (e) { fail(e); }
  await load();
}

/* --- the period, in Beijing days by the server's clock --- */

/* The page counts days by the server's clock, not the browser's (which may
 * be wrong, or in another zone): the server says what time it is. */
async function syncClock() {
  try {
    const sent = cal.mono();
    const j = await (await api('/api/v1/time')).json();
    cal.setNow(j.server_ms, sent, j.clock_rate);
  } catch (e) { /* the statistics themselves will say what is wrong */ }
}

function setPeriod(kind) {
  const today = cal.today();
  let from, to;
  if (kind === 'month') [from, to] = cal.monthBounds(today);
  else if (kind === 'last-month') [from, to] = cal.monthBounds(cal.monthBounds(today)[0] - 1);
  else if (kind === 'week') [from, to] = cal.weekBounds(today);
  else return;
  $('from').value = cal.dayText(from);
  $('to').value = cal.dayText(to);
}

function query() {
  const p = new URLSearchParams({ from: $('from').value, to: $('to').value });
  if (state.user.role === 'admin' && $('branch').value) p.set('branch', $('branch').value);
  return p.toString();
}

/* --- loading and drawing --- */

async function stats(subject) {
  const j = await (await api(`/api/v1/stats/${subject}?${query()}`)).json();
  state.tables[subject] = j;
  return j;
}

async function load(ev) {
  if (ev) ev.preventDefault();
  const from = $('from').value, to = $('to').value;
  if (!from || !to || to < from) {
    $('error').textContent = t('badDates');
    $('error').hidden = false;
    return;
  }
  $('error').hidden = true;
  $('status').textContent = t('loading');
  try {
    const [part, inactive, trend, questions, members] = await Promise.all(
      ['participation', 'inactive', 'trend', 'questions', 'members'].map(stats));
    drawParticipation(part);
    /* an admin's view of every branch: one row each */
    const branches = part.rows.filter(r => r[0] === t('branchScope')).map(r => [r[0], shownBranch(r[1]), ...r.slice(2)]);
    drawTable($('branches'), { ...part, rows: branches }, [1, 2, 3, 4, 5, 6]);
    $('branches-card').hidden = branches.length === 0;
    drawTrend(trend);
    drawTable($('inactive'), inactive, [1, 0, 2, 3], row => [row[1], row[0], row[2], row[3] || t('never')]);
    $('inactive-empty').hidden = inactive.rows.length > 0;
    /* The stem where the server knows it (from a published bundle); the
     * question's id only where it does not, as the one thing to go by. */
    const hard = questions.rows.slice(0, 10).map(r => [r[0], r[1], r[2], r[3], r[4], r[5], r[6] || r[0]]);
    drawTable($('questions'), { ...questions, rows: hard }, [6, 3, 4, 5, 1], null, { 6: 'stem' });
    hard.forEach((r, i) => { $('questions').tBodies[0].rows[i].dataset.q = r[0]; });
    $('questions-empty').hidden = questions.rows.length > 0;
    drawTable($('members'), members, members.columns.map((c, i) => i));
    state.sort = null;
    $('status').textContent = TEXT[state.lang].shown(part.from, part.to);
    window.qkDash.loads++;
  } catch (e) {
    fail(e);
  }
}

function drawParticipation(part) {
  const all = part.rows[0] || [];
  const guests = part.rows.find(r => r[2] === null);
  const [roster, active, rate, days, attempts] = [all[2] || 0, all[3] || 0, all[4] || 0, all[5] || 0, all[6] || 0];
  $('kpi-rate').textContent = `${rate}%`;
  $('kpi-active').textContent = `${active} / ${roster}`;
  $('kpi-days').textContent = String(days);
  $('kpi-attempts').textContent = String(attempts);
  $('kpi-guests').textContent = String(guests ? guests[6] : 0);
  if (!window.Chart) { $('no-charts').hidden = false; return; }
  state.charts.rate?.destroy();
  state.charts.rate = new Chart($('rate-chart'), {
    type: 'doughnut',
    data: {
      labels: [t('took'), t('notYet')],
      datasets: [{ data: [active, Math.max(roster - active, 0)], backgroundColor: ['#b71c1c', '#d9d9d9'] }],
    },
    options: { maintainAspectRatio: false, animation: false, plugins: { legend: { position: 'bottom' } } },
  });
  $('rate-chart').setAttribute('aria-label', `${t('rate')} ${rate}%`);
}

/* A branch's name where the server says "name（id）" (the branches side by
 * side): the name alone, as in the picker. */
function shownBranch(cell) {
  for (const [id, name] of state.branchNames) if (cell === `${name}（${id}）` || cell === id) return name;
  return cell;
}

/* A week as people read it: "11月30日–12月6日" (the API gives its Monday). */
function weekLabel(monday) {
  const d = cal.parseDate(monday);
  return d === null ? monday : TEXT[state.lang].week(cal.dayLabel(d, state.lang), cal.dayLabel(d + 6, state.lang));
}

/* Bars no wider than this (px): one week of data is one bar of a week's
 * width, not a slab across the whole chart. */
const BAR_MAX = 48;

function drawTrend(trend) {
  // weeks with any activity (the weeks between are rows of zeros)
  const n = trend.rows.filter(r => r.slice(1).some(v => v > 0)).length;
  $('trend-note').textContent = n === 0 ? t('noWeeks') : n < 3 ? TEXT[state.lang].fewWeeks(n) : '';
  $('trend-note').hidden = n >= 3;
  if (!window.Chart) return;
  const label = i => trend.columns[i][state.lang === 'en' ? 'en' : 'zh'];
  state.charts.trend?.destroy();
  state.charts.trend = new Chart($('trend-chart'), {
    data: {
      labels: trend.rows.map(r => weekLabel(r[0])),
      datasets: [
        { type: 'bar', label: label(2), data: trend.rows.map(r => r[2]), backgroundColor: '#ef9a9a', yAxisID: 'y',
          maxBarThickness: BAR_MAX, order: 2 },
        { type: 'line', label: label(1), data: trend.rows.map(r => r[1]), borderColor: '#b71c1c',
          backgroundColor: '#b71c1c', yAxisID: 'y1', tension: 0.2, pointRadius: 5, pointHoverRadius: 7, order: 1 },
      ],
    },
    options: {
      maintainAspectRatio: false, animation: false,
      scales: {
        x: { ticks: { maxRotation: 0, autoSkip: true } },
        y: { beginAtZero: true, position: 'left', title: { display: true, text: label(2) }, ticks: { precision: 0 } },
        y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false },
              title: { display: true, text: label(1) }, ticks: { precision: 0 } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
  });
  $('trend-chart').setAttribute('aria-label', trend.rows.map(r => `${weekLabel(r[0])}: ${r[1]}`).join('; '));
}

/* A table from an API table: the columns picked, each cell as text; kinds
 * names a class for some columns (the stem). Each cell carries its column's
 * heading (data-label), which a phone shows beside it when rows are cards. */
function drawTable(el, table, pick, cells, kinds = {}) {
  const key = state.lang === 'en' ? 'en' : 'zh';
  const head = document.createElement('tr');
  for (const i of pick) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = table.columns[i][key];
    th.dataset.col = String(i);
    const sample = table.rows.find(r => r[i] !== null);
    if (sample && typeof sample[i] === 'number') th.className = 'num';
    if (kinds[i]) th.className = kinds[i];
    head.append(th);
  }
  const body = document.createElement('tbody');
  for (const row of table.rows) {
    const values = cells ? cells(row) : pick.map(i => row[i]);
    const tr = document.createElement('tr');
    values.forEach((v, k) => {
      const td = document.createElement('td');
      td.textContent = v === null || v === undefined ? '' : String(v);
      td.dataset.label = table.columns[pick[k]][key];
      if (typeof v === 'number') td.className = 'num';
      if (kinds[pick[k]]) td.className = kinds[pick[k]];
      tr.append(td);
    });
    body.append(tr);
  }
  const thead = document.createElement('thead');
  thead.append(head);
  el.replaceChildren(thead, body);
}

function sortMembers(th) {
  const col = Number(th.dataset.col);
  const asc = th.getAttribute('aria-sort') !== 'ascending';
  const table = state.tables.members;
  const rows = [...table.rows].sort((a, b) => {
    const x = a[col], y = b[col];
    if (x === y) return 0;
    if (x === null) return 1; /* empty cells last either way */
    if (y === null) return -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN');
    return asc ? c : -c;
  });
  drawTable($('members'), { ...table, rows }, table.columns.map((c, i) => i));
  const again = $('members').querySelector(`th[data-col="${col}"]`);
  again.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
}

/* --- downloads: fetched with the sign-in, then saved --- */

async function download(path, fallback) {
  $('status').textContent = t('downloading');
  try {
    const r = await api(path);
    const blob = await r.blob();
    const m = /filename="([^"]+)"/.exec(r.headers.get('Content-Disposition') || '');
    const name = m ? m[1] : fallback;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    $('status').textContent = TEXT[state.lang].downloaded(name);
  } catch (e) {
    fail(e);
  }
}

/* --- wiring --- */

document.addEventListener('DOMContentLoaded', () => {
  applyLang();
  $('login-form').addEventListener('submit', signIn);
  $('logout').addEventListener('click', signOut);
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'en' ? 'zh' : 'en';
    localStorage.setItem('qk.lang', state.lang);
    applyLang();
    if (state.token) load();
  });
  $('controls').addEventListener('submit', load);
  $('period').addEventListener('change', () => {
    setPeriod($('period').value);
    if ($('period').value !== 'custom') load();
  });
  for (const id of ['from', 'to']) $(id).addEventListener('change', () => { $('period').value = 'custom'; });
  $('members').addEventListener('click', ev => {
    const th = ev.target.closest('th');
    if (th) sortMembers(th);
  });
  $('xlsx').addEventListener('click', () => download(`/api/v1/report?${query()}`, 'quizkit-report.xlsx'));
  for (const b of document.querySelectorAll('[data-csv]'))
    b.addEventListener('click', () => download(`/api/v1/stats/${b.dataset.csv}?${query()}&format=csv`,
                                               `quizkit-${b.dataset.csv}.csv`));
  if (state.token && state.user) enter().catch(fail);
  else $('user').focus();
});
