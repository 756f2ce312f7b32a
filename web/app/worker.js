/* worker.js: the phones' app's engine (docs/app.md). The C engine compiled
 * to WebAssembly (quizkit-engine.js, sync/wasm/app_module.c) with its files
 * in IndexedDB (emscripten's IDBFS, mounted at /qk): the progress file, the
 * signed bundle and the keys it is checked with, the phone's key pair and its
 * server settings. One such Worker per browser: the page that starts it holds
 * the lock "quizkit-app" (navigator.locks) for as long as it lives.
 *
 * The page asks by message {id, op, ...} and is answered {id, ok, ...}:
 *   boot {lang, wasm, clock}
 *                     the module compiled by the page, the files read back from
 *                     IndexedDB, the engine opened; answers the state (below)
 *   request {method, path, session, lang, body}
 *                     the kiosk's screen API, in-process: {status, text}.
 *                     A request that may change something (any but GET) is
 *                     answered only once the files are saved to IndexedDB;
 *                     when they cannot be, the engine goes back to what is
 *                     saved and the request fails.
 *   media {path}      a picture of the bundle's (GET /api/media/NAME): {status,
 *                     type, bytes}
 *   enrol {code, name, member, pin}, sync
 *                     the protocol's steps (qk_app.h) over fetch() to this
 *                     origin; then the publishers' keys and the newest bundle
 *                     when the server has another; answers {result, state,
 *                     bundle_problem} (why a new bundle or keys were not
 *                     taken, or "")
 *   state             the state: {enrolled, bundle, branch_name, bundle_error}
 * A failure is answered {id, ok: false, error, status} (status: the server's
 * answer to a network step, when there was one).
 * Requests are taken one at a time, in order (a sync too: the sync button is
 * on the home screen, where nobody is answering). */
'use strict';
importScripts('quizkit-engine.js');

/* IndexedDB's writes durable before they count as done: Chrome completes a
 * "relaxed" transaction (its default) once the data is handed to the
 * operating system, before it is on disk; an answer is acknowledged only
 * once saved, so IDBFS's read-write transactions are opened "strict". */
{
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, mode, options) {
    return transaction.call(this, stores, mode,
      mode === 'readwrite' ? { ...options, durability: 'strict' } : options);
  };
}

const DIR = '/qk';
const BUNDLE = `${DIR}/bundle.qkb`, KEYS = `${DIR}/keys.pem`, META = `${DIR}/bundle.json`;
const CONF = `${DIR}/server.json`;
const NET_TIMEOUT_MS = 30000, BUNDLE_TIMEOUT_MS = 300000;
let M = null, app = 0, lang = 0, bundleError = '';

/* Whether a file is there, by its folder's listing: emscripten 3.1.6's FS
 * keeps a file replaced by rename (the engine writes server.json so) in its
 * lookup cache after the file is unlinked, where FS.stat still finds it. */
const exists = p => {
  const slash = p.lastIndexOf('/');
  try { return M.FS.readdir(p.slice(0, slash) || '/').includes(p.slice(slash + 1)); } catch (e) { return false; }
};
const readText = p => M.FS.readFile(p, { encoding: 'utf8' });
const unlink = p => { if (exists(p)) M.FS.unlink(p); };
const syncfs = populate => new Promise((resolve, reject) =>
  M.FS.syncfs(populate, e => (e ? reject(new Error(`IndexedDB: ${e.message || e}`)) : resolve())));
const utf8Length = s => new TextEncoder().encode(s).length;
const lastError = () => M.ccall('qk_app_js_error', 'string', [], []);
/* a request that ends when the network does not answer in time */
const timeout = ms => (typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(ms) : undefined);

function close() {
  if (app) M.ccall('qk_app_close', null, ['number'], [app]);
  app = 0;
}

/* The engine on the bundle at path (checked with the keys at keys), or on
 * none: 0 and why when it does not open. */
function openWith(path, keys) {
  const a = M.ccall('qk_app_js_open', 'number', ['string', 'string', 'string', 'number'],
    [DIR, path || '', keys ? readText(keys) : '', lang]);
  return a ? { app: a } : { error: lastError() };
}

/* The bundle kept, or none (yet): a bundle that no longer opens leaves the
 * engine open without one, and says why. */
function open() {
  close();
  bundleError = '';
  if (exists(BUNDLE) && exists(KEYS)) {
    const r = openWith(BUNDLE, KEYS);
    if (r.app) { app = r.app; return; }
    bundleError = r.error;
  }
  const r = openWith('', null);
  if (!r.app) throw new Error(r.error);
  app = r.app;
}

/* The engine takes one caller at a time (exclusive): a page's request with
 * its save, each step of a sync or an enrolment, a save. A sync's waits for
 * the network are outside, so that a member's answers are taken while it
 * runs (inNet counts the syncs under way); syncs and enrolments go one at a
 * time among themselves (oneNet). */
let inNet = 0;
/* a save that failed while a sync held the engine: its error, until the
 * sync has ended and the engine has gone back to what IndexedDB holds */
let unsaved = null;
/* a member signed in on the page (a screen session lives in the engine's
 * memory): a new bundle is not put in place under them, since reopening the
 * engine would end the session; the next sync takes it */
let signedIn = false;
/* A line of calls: each runs once those before it have ended, however they ended. */
function line() {
  let tail = Promise.resolve();
  return fn => {
    const p = tail.then(fn);
    tail = p.catch(() => {});
    return p;
  };
}
const exclusive = line(), oneNet = line();
/* a sync's save, unless one has failed during it (then nothing is saved) */
const saveForSync = () => exclusive(() => (unsaved ? undefined : save()));

/* Saves the files to IndexedDB; when that fails, goes back to what is saved
 * there (and reopens on it), so that what the engine holds is what is kept:
 * at once, or, while a sync holds the engine's handle, once the sync has
 * stopped (until then no change is taken, and the sync stops at its next
 * step, saving nothing). */
async function save() {
  try {
    await syncfs(false);
  } catch (e) {
    if (inNet) {
      unsaved = unsaved || e;
    } else {
      await syncfs(true).catch(() => {});
      open();
    }
    throw e;
  }
}

function state() {
  let branch = '';
  if (exists(CONF)) {
    try { branch = JSON.parse(readText(CONF)).branch_name || ''; } catch (e) { /* shown as enrolled */ }
  }
  return { enrolled: exists(CONF), bundle: !!app && exists(BUNDLE) && !bundleError, branch_name: branch,
           bundle_error: bundleError };
}

/* One request to the screen API: the reply's status, type and body (as text
 * or as bytes). */
function request({ method, path, session, lang: l, body }, bytes = false) {
  const r = M.ccall('qk_app_request', 'number',
    ['number', 'string', 'string', 'string', 'string', 'string', 'number'],
    [app, method, path, session || null, l || 'zh', body || null, body ? utf8Length(body) : 0]);
  if (!r) throw new Error('out of memory');
  const status = M.ccall('qk_app_reply_status', 'number', ['number'], [r]);
  const type = M.ccall('qk_app_reply_type', 'string', ['number'], [r]);
  const len = M.ccall('qk_app_reply_len', 'number', ['number'], [r]);
  const ptr = M.ccall('qk_app_reply_body', 'number', ['number'], [r]);
  const out = bytes ? { status, type, bytes: M.HEAPU8.slice(ptr, ptr + len) }
    : { status, text: M.UTF8ToString(ptr, len) };
  M.ccall('qk_app_reply_free', null, ['number'], [r]);
  return out;
}

/* A JSON body, gzipped where the browser can (the server takes both). */
async function gzip(text) {
  if (typeof CompressionStream !== 'function') return { body: text, gz: false };
  const s = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return { body: new Uint8Array(await new Response(s).arrayBuffer()), gz: true };
}

/* The steps of an enrolment or a sync (a qk_app_net), carried by fetch():
 * the result, or an Error with the engine's words. */
async function carry(net) {
  let status = 0, text = null;
  try {
    for (;;) {
      /* the engine's step, then the network's wait outside it */
      const step = await exclusive(() => {
        if (unsaved) throw unsaved;
        const r = M.ccall('qk_app_net_next', 'number', ['number', 'number', 'string', 'number'],
          [net, status, text, text ? utf8Length(text) : 0]);
        if (r === 0) {
          return { done: { result: JSON.parse(M.ccall('qk_app_net_result', 'string', ['number'], [net])),
                           token: M.ccall('qk_app_net_token', 'string', ['number'], [net]) } };
        }
        if (r !== 1) {
          const e = new Error(M.ccall('qk_app_net_error', 'string', ['number'], [net]));
          e.status = status; /* the server's answer to the last request (0: none) */
          throw e;
        }
        const bodyPtr = M.ccall('qk_app_net_body', 'number', ['number'], [net]);
        return { method: M.ccall('qk_app_net_method', 'string', ['number'], [net]),
                 url: M.ccall('qk_app_net_url', 'string', ['number'], [net]),
                 token: M.ccall('qk_app_net_token', 'string', ['number'], [net]),
                 body: bodyPtr ? M.UTF8ToString(bodyPtr, M.ccall('qk_app_net_len', 'number', ['number'], [net])) : null };
      });
      if (step.done) return step.done;
      const headers = { 'Accept-Language': lang ? 'en' : 'zh-CN' };
      if (step.token) headers.Authorization = `Bearer ${step.token}`;
      let body;
      if (step.body !== null) {
        const z = await gzip(step.body);
        body = z.body;
        headers['Content-Type'] = 'application/json';
        if (z.gz) headers['Content-Encoding'] = 'gzip';
      }
      try {
        const resp = await fetch(step.url, { method: step.method, headers, body, cache: 'no-store',
          signal: timeout(NET_TIMEOUT_MS) });
        status = resp.status;
        text = await resp.text();
      } catch (e) {
        status = 0; /* the engine says it could not reach the server, in the member's words
                       rather than the browser's ("Failed to fetch") */
        const late = e && (e.name === 'TimeoutError' || e.name === 'AbortError');
        text = late ? (lang ? 'no answer in time' : '服务器没有及时回答')
          : (lang ? 'no network, or the server is not running' : '没有网络，或者服务器没有开');
      }
    }
  } finally {
    await exclusive(() => M.ccall('qk_app_net_free', null, ['number'], [net]));
  }
}

async function getJson(path, token) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store',
    signal: timeout(NET_TIMEOUT_MS) });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((j.error && j.error.message) || `HTTP ${r.status} ${path}`);
  return j;
}

/* The keys the server names and the newest version of the bundle this phone
 * runs (the first time, the one the server suggests for the phone: its
 * branch's, or its member's; else the newest published of all). Whatever
 * changes (the bundle, the keys, or both) is put in place only once the
 * engine has opened the bundle with those keys; otherwise the bundle and
 * keys kept stay, and why is thrown. */
async function refreshBundle(token) {
  const keys = (await getJson('/api/v1/keys', token)).keys || [];
  const listed = await getJson('/api/v1/bundles', token);
  const rows = listed.bundles || [];
  const meta = exists(META) ? JSON.parse(readText(META)) : null;
  const want = meta ? meta.id : listed.suggested;
  const mine = rows.filter(b => !want || b.id === want);
  const pick = (mine.length ? mine : rows).reduce((a, b) => (!a || b.published_ms > a.published_ms ? b : a), null);
  if (!pick) return; /* nothing published yet */
  const pems = keys.map(k => k.pem).join('\n');
  const kept = meta && meta.sha256 === pick.sha256 && exists(BUNDLE) && !bundleError;
  if (kept && exists(KEYS) && readText(KEYS) === pems) return; /* nothing new */
  let data = null;
  if (!kept) {
    const r = await fetch(`/api/v1/bundles/${encodeURIComponent(pick.id)}/${encodeURIComponent(pick.version)}`,
      { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store', signal: timeout(BUNDLE_TIMEOUT_MS) });
    if (!r.ok) throw new Error(`HTTP ${r.status}: ${pick.id} ${pick.version}`);
    data = new Uint8Array(await r.arrayBuffer());
  }
  await exclusive(() => {
    if (signedIn || unsaved) return; /* (the next sync) */
    if (data) M.FS.writeFile(`${BUNDLE}.new`, data);
    M.FS.writeFile(`${KEYS}.new`, pems);
    close();
    try {
      const tried = openWith(kept ? BUNDLE : `${BUNDLE}.new`, `${KEYS}.new`);
      if (!tried.app) throw new Error(tried.error);
      M.ccall('qk_app_close', null, ['number'], [tried.app]);
      if (!kept) M.FS.rename(`${BUNDLE}.new`, BUNDLE);
      M.FS.rename(`${KEYS}.new`, KEYS);
      if (!kept) M.FS.writeFile(META, JSON.stringify({ id: pick.id, version: pick.version, sha256: pick.sha256 }));
    } finally {
      unlink(`${BUNDLE}.new`);
      unlink(`${KEYS}.new`);
      open();
    }
  });
}

async function network(op, msg) {
  inNet++;
  try {
    const net = await exclusive(() => (op === 'enrol'
      ? M.ccall('qk_app_enrol', 'number', ['number', 'string', 'string', 'string', 'string', 'string'],
        [app, self.location.origin, msg.code || '', msg.name || '', msg.member || '', msg.pin || ''])
      : M.ccall('qk_app_sync', 'number', ['number'], [app])));
    if (!net) throw new Error('out of memory');
    let out;
    try {
      out = await carry(net);
    } catch (e) {
      /* the server no longer knows this phone's token (revoked, or a server
       * restored without it): enrolled no more, so that a new code enrols it
       * again, the same device with its records */
      if (op === 'sync' && e.status === 401) await exclusive(() => unlink(CONF));
      throw e;
    } finally {
      /* the settings, the acknowledgements and the roster, kept */
      await saveForSync();
    }
    /* the answers are the server's now; a bundle or keys that do not come or
     * do not open are said apart, and those kept before stay */
    let bundleProblem = '';
    try {
      await refreshBundle(out.token);
      await saveForSync();
    } catch (e) {
      bundleProblem = String(e.message || e);
    }
    return { result: out.result, state: await exclusive(state), bundle_problem: bundleProblem };
  } finally {
    inNet--;
    if (!inNet && unsaved) {
      /* a save failed meanwhile: back to what IndexedDB holds */
      await exclusive(async () => { unsaved = null; await syncfs(true).catch(() => {}); open(); }).catch(() => {});
    }
  }
}

/* The clock a page gives (window.qkAppClock, for a demonstration or a test:
 * the instant now_ms at the real time since_ms, running rate times as fast)
 * as the commands take theirs (QUIZKIT_NOW, docs/time.md): in the module's
 * environment, which the engine reads when it opens. */
function clockEnv({ now_ms: now, since_ms: since, rate }) {
  return { QUIZKIT_NOW: `@${Math.floor(now / 1000)}`, QUIZKIT_NOW_SINCE: String(since),
           QUIZKIT_NOW_RATE: String(rate) };
}

async function handle(msg) {
  switch (msg.op) {
    case 'boot': {
      lang = msg.lang === 'en' ? 1 : 0;
      if (!M) {
        /* the page's compiled module (a WebAssembly.Module), instantiated here */
        M = await QuizkitEngine({
          instantiateWasm(imports, done) {
            WebAssembly.instantiate(msg.wasm, imports).then(inst => done(inst, msg.wasm));
            return {};
          },
          preRun: [mod => { if (msg.clock) Object.assign(mod.ENV, clockEnv(msg.clock)); }],
        });
        M.FS.mkdir(DIR);
        M.FS.mount(M.FS.filesystems.IDBFS, {}, DIR);
        await syncfs(true);
      }
      performance.mark('qk-app-open');
      open();
      performance.measure('qk-app-opened', 'qk-app-open'); /* verifying the bundle is most of it */
      return state();
    }
    case 'request': {
      if (unsaved && msg.method !== 'GET') throw unsaved; /* (until the sync has stopped) */
      const r = request(msg);
      if (msg.path === '/api/logout' || r.status === 401) signedIn = false;
      else if (r.status < 300 && (msg.session || msg.path === '/api/login')) signedIn = true;
      /* acknowledged once saved: an answer the page saw taken is in IndexedDB */
      if (msg.method !== 'GET') await save();
      return r;
    }
    case 'media':
      return request({ method: 'GET', path: msg.path }, true);
    case 'state':
      return state();
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
}

/* a page's requests one at a time, in the order asked; a sync beside them */
self.onmessage = ev => {
  const msg = ev.data;
  const run = msg.op === 'enrol' || msg.op === 'sync' ? oneNet(() => network(msg.op, msg)) : exclusive(() => handle(msg));
  run.then(
    value => self.postMessage({ id: msg.id, ok: true, value }),
    e => self.postMessage({ id: msg.id, ok: false, error: String((e && e.message) || e), status: e && e.status }));
};
