/* sw.js: the phones' app's service worker (docs/app.md). It keeps a copy of
 * the app's files (the kiosk's page, script and style, the app's own, the
 * calendar they share and the WebAssembly module) as one set, and the app
 * opens from that set, at once and with or without a network. Each time the
 * app opens with a network, the set is checked against the server in the
 * background (each file asked again with its ETag: a file unchanged costs a
 * 304) and, when every file has come, replaced whole, for the next open: a
 * page and a module always come from the same set, and a slow or failing
 * server never holds the app up. The API (/api/) is never cached: the engine
 * answers the pages in the app's Worker, and sync talks to the server
 * directly. The bundle is not here either: the Worker keeps it in IndexedDB
 * with the answers. */
'use strict';
const CACHE = 'quizkit-app-1';
const SHELL = [
  '/app/', '/app/kiosk.js', '/app/kiosk.css', '/app/app.js', '/app/app.css', '/app/worker.js',
  '/app/manifest.webmanifest', '/app/icon.svg', '/app/quizkit-engine.js', '/app/quizkit-engine.wasm',
  '/common/calendar.js',
];
const CHECK_TIMEOUT_MS = 60000;

/* Every file of the set from the server, read whole: [url, copy] for each
 * file that came, [url, null] for one unchanged since the copy kept (a 304
 * to its ETag); throws when any fails, so a set is never half replaced. The
 * copies keep the server's headers but its transfer encoding (the body is
 * already decoded). */
async function fetchSet(cache, timeoutMs) {
  const signal = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeoutMs) : undefined;
  return Promise.all(SHELL.map(async url => {
    const kept = cache && await cache.match(url);
    const etag = kept && kept.headers.get('ETag');
    const resp = await fetch(url, { cache: 'no-store', signal, headers: etag ? { 'If-None-Match': etag } : {} });
    if (resp.status === 304 && kept) return [url, null];
    if (!resp.ok) throw new Error(`${url}: ${resp.status}`);
    const headers = new Headers(resp.headers);
    headers.delete('Content-Encoding');
    headers.delete('Content-Length');
    return [url, new Response(await resp.blob(), { status: 200, headers })];
  }));
}

async function store(set) {
  const cache = await caches.open(CACHE);
  await Promise.all(set.filter(([, resp]) => resp).map(([url, resp]) => cache.put(url, resp)));
}

self.addEventListener('install', ev => {
  ev.waitUntil(fetchSet(null, CHECK_TIMEOUT_MS).then(store).then(() => self.skipWaiting()));
});

self.addEventListener('activate', ev => {
  ev.waitUntil(caches.keys()
    .then(keys => Promise.all(keys.filter(k => k !== CACHE).map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});

/* The set checked against the server, once at a time, and replaced when
 * every file has come. */
let checking = null;
function check() {
  if (!checking) {
    checking = caches.open(CACHE).then(cache => fetchSet(cache, CHECK_TIMEOUT_MS)).then(store)
      .catch(() => { /* offline, or the server failed: the set kept stays */ })
      .finally(() => { checking = null; });
  }
  return checking;
}

self.addEventListener('fetch', ev => {
  const req = ev.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  /* the page is one page: /app/ and /app/index.html are the same copy */
  const path = url.pathname === '/app/index.html' ? '/app/' : url.pathname;
  if (!SHELL.includes(path)) return; /* anything else goes to the network as it is */
  if (req.mode === 'navigate') ev.waitUntil(check());
  ev.respondWith(caches.match(path).then(hit => hit || fetch(req)));
});
