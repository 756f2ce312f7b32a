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
 *                     answered only once the files are saved to IndexedDB.
 *   media {path}      a picture of the bundle's (GET /api/media/NAME): {status,
 *                     type, bytes}
 *   enrol {code, name}, sync
 *                     the protocol's steps (qk_app.h) over fetch() to this
 *                     origin; then the publishers' keys and the newest bundle
 *                     when the server has another; answers {result, state,
 *                     bundle_problem} (why a new bundle was not taken, or "")
 * The state: {enrolled, bundle, branch_name, bundle_error}. Requests are
 * taken one at a time, in order. */
'use strict';
importScripts('quizkit-engine.js');

const DIR = '/qk';
const BUNDLE = `${DIR}/bundle.qkb`, KEYS = `${DIR}/keys.pem`, META = `${DIR}/bundle.json`;
const CONF = `${DIR}/server.json`;
let M = null, app = 0, lang = 0, bundleError = '';

const exists = p => { try { M.FS.stat(p); return true; } catch (e) { return false; } };
const readText = p => M.FS.readFile(p, { encoding: 'utf8' });
const syncfs = populate => new Promise((resolve, reject) =>
  M.FS.syncfs(populate, e => (e ? reject(new Error(`IndexedDB: ${e.message || e}`)) : resolve())));
const utf8Length = s => new TextEncoder().encode(s).length;
const lastError = () => M.ccall('qk_app_js_error', 'string', [], []);

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

/* The bundle kept, or none (yet): a bundle that no longer opens (a key
 * withdrawn) leaves the engine open without one, and says why. */
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

function state() {
  let branch = '';
  if (exists(CONF)) {
    try { branch = JSON.parse(readText(CONF)).branch_name || ''; } catch (e) { /* shown as enrolled */ }
  }
  return { enrolled: exists(CONF), bundle: exists(BUNDLE) && !bundleError, branch_name: branch, bundle_error: bundleError };
}

function request({ method, path, session, lang: l, body }) {
  const r = M.ccall('qk_app_request', 'number',
    ['number', 'string', 'string', 'string', 'string', 'string', 'number'],
    [app, method, path, session || null, l || 'zh', body || null, body ? utf8Length(body) : 0]);
  if (!r) throw new Error('out of memory');
  const status = M.ccall('qk_app_reply_status', 'number', ['number'], [r]);
  const len = M.ccall('qk_app_reply_len', 'number', ['number'], [r]);
  const text = M.UTF8ToString(M.ccall('qk_app_reply_body', 'number', ['number'], [r]), len);
  M.ccall('qk_app_reply_free', null, ['number'], [r]);
  return { status, text };
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
      const r = M.ccall('qk_app_net_next', 'number', ['number', 'number', 'string', 'number'],
        [net, status, text, text ? utf8Length(text) : 0]);
      if (r === 0) {
        return { result: JSON.parse(M.ccall('qk_app_net_result', 'string', ['number'], [net])),
                 token: M.ccall('qk_app_net_token', 'string', ['number'], [net]) };
      }
      if (r !== 1) throw new Error(M.ccall('qk_app_net_error', 'string', ['number'], [net]));
      const method = M.ccall('qk_app_net_method', 'string', ['number'], [net]);
      const url = M.ccall('qk_app_net_url', 'string', ['number'], [net]);
      const token = M.ccall('qk_app_net_token', 'string', ['number'], [net]);
      const bodyPtr = M.ccall('qk_app_net_body', 'number', ['number'], [net]);
      const headers = { 'Accept-Language': lang ? 'en' : 'zh-CN' };
      if (token) headers.Authorization = `Bearer ${token}`;
      let body;
      if (bodyPtr) {
        const z = await gzip(M.UTF8ToString(bodyPtr, M.ccall('qk_app_net_len', 'number', ['number'], [net])));
        body = z.body;
        headers['Content-Type'] = 'application/json';
        if (z.gz) headers['Content-Encoding'] = 'gzip';
      }
      try {
        const resp = await fetch(url, { method, headers, body, cache: 'no-store' });
        status = resp.status;
        text = await resp.text();
      } catch (e) {
        status = 0; /* the engine says it could not reach the server */
        text = String(e.message || e);
      }
    }
  } finally {
    M.ccall('qk_app_net_free', null, ['number'], [net]);
  }
}

async function getJson(path, token) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((j.error && j.error.message) || `HTTP ${r.status} ${path}`);
  return j;
}

/* The publishers' keys and the newest version of the bundle this phone runs
 * (the newest published of all, the first time), when it is not the one kept:
 * downloaded, checked by the engine with the keys, and only then put in place
 * of the old one (which stays when the new one does not open). */
async function refreshBundle(token) {
  const keys = (await getJson('/api/v1/keys', token)).keys || [];
  const rows = (await getJson('/api/v1/bundles', token)).bundles || [];
  const meta = exists(META) ? JSON.parse(readText(META)) : null;
  const mine = rows.filter(b => !meta || b.id === meta.id);
  const pick = (mine.length ? mine : rows).reduce((a, b) => (!a || b.published_ms > a.published_ms ? b : a), null);
  if (!pick) return; /* nothing published yet */
  const pems = keys.map(k => k.pem).join('\n');
  if (meta && meta.sha256 === pick.sha256 && exists(BUNDLE) && !bundleError) {
    M.FS.writeFile(KEYS, pems); /* a key the server added or withdrew */
    return;
  }
  const r = await fetch(`/api/v1/bundles/${encodeURIComponent(pick.id)}/${encodeURIComponent(pick.version)}`,
    { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (!r.ok) throw new Error(`HTTP ${r.status}: ${pick.id} ${pick.version}`);
  M.FS.writeFile(`${BUNDLE}.new`, new Uint8Array(await r.arrayBuffer()));
  M.FS.writeFile(`${KEYS}.new`, pems);
  close();
  const tried = openWith(`${BUNDLE}.new`, `${KEYS}.new`);
  if (!tried.app) {
    M.FS.unlink(`${BUNDLE}.new`);
    M.FS.unlink(`${KEYS}.new`);
    open();
    throw new Error(tried.error);
  }
  M.ccall('qk_app_close', null, ['number'], [tried.app]);
  M.FS.rename(`${BUNDLE}.new`, BUNDLE);
  M.FS.rename(`${KEYS}.new`, KEYS);
  M.FS.writeFile(META, JSON.stringify({ id: pick.id, version: pick.version, sha256: pick.sha256 }));
  open();
}

async function network(op, msg) {
  const net = op === 'enrol'
    ? M.ccall('qk_app_enrol', 'number', ['number', 'string', 'string', 'string'],
      [app, self.location.origin, msg.code || '', msg.name || ''])
    : M.ccall('qk_app_sync', 'number', ['number'], [app]);
  if (!net) throw new Error('out of memory');
  let out;
  try {
    out = await carry(net);
  } finally {
    await syncfs(false); /* the settings, the acknowledgements and the roster, kept */
  }
  /* the answers are the server's now; a bundle that does not come or does
   * not open is said apart, and the one before stays */
  const bundleProblem = await refreshBundle(out.token).then(() => '', e => String(e.message || e));
  await syncfs(false);
  return { result: out.result, state: state(), bundle_problem: bundleProblem };
}

/* The engine's clock is the phone's (Date.now(), which emscripten's
 * clock_gettime reads). A page may set another for a demonstration or a
 * test, as QUIZKIT_NOW does for the commands (docs/time.md): the instant
 * now_ms at the real time since_ms, running rate times as fast. The phone's
 * clock is its member's to set in any case; the server judges by its own. */
function setClock({ now_ms: now, since_ms: since, rate }) {
  const real = Date.now.bind(Date);
  Date.now = () => Math.floor(now + (real() - since) * rate);
}

async function handle(msg) {
  switch (msg.op) {
    case 'boot': {
      lang = msg.lang === 'en' ? 1 : 0;
      if (!M) {
        if (msg.clock) setClock(msg.clock);
        /* the page's compiled module (a WebAssembly.Module), instantiated here */
        M = await QuizkitEngine({
          instantiateWasm(imports, done) {
            WebAssembly.instantiate(msg.wasm, imports).then(inst => done(inst, msg.wasm));
            return {};
          },
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
      const r = request(msg);
      /* acknowledged once saved: an answer the page saw taken is in IndexedDB */
      if (msg.method !== 'GET') await syncfs(false);
      return r;
    }
    case 'media': { /* a picture from the bundle, as bytes */
      const r = M.ccall('qk_app_request', 'number',
        ['number', 'string', 'string', 'string', 'string', 'string', 'number'],
        [app, 'GET', msg.path, null, 'zh', null, 0]);
      if (!r) throw new Error('out of memory');
      const status = M.ccall('qk_app_reply_status', 'number', ['number'], [r]);
      const type = M.ccall('qk_app_reply_type', 'string', ['number'], [r]);
      const ptr = M.ccall('qk_app_reply_body', 'number', ['number'], [r]);
      const bytes = M.HEAPU8.slice(ptr, ptr + M.ccall('qk_app_reply_len', 'number', ['number'], [r]));
      M.ccall('qk_app_reply_free', null, ['number'], [r]);
      return { status, type, bytes };
    }
    case 'enrol':
    case 'sync':
      return network(msg.op, msg);
    case 'state':
      return state();
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
}

/* one at a time, in the order asked */
let chain = Promise.resolve();
self.onmessage = ev => {
  const msg = ev.data;
  chain = chain.then(() => handle(msg)).then(
    value => self.postMessage({ id: msg.id, ok: true, value }),
    e => self.postMessage({ id: msg.id, ok: false, error: String((e && e.message) || e) }));
};
