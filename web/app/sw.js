/* sw.js: the phones' app's service worker (docs/app.md). It keeps a copy of
 * the app's files (the kiosk's page, script and style, the app's own, the
 * calendar they share and the WebAssembly module), so that the app opens with
 * no network. With a network each file is asked for again and the copy
 * refreshed (a branch that updates its server updates its phones); without
 * one the copy answers. The API (/api/) is never cached: the engine answers
 * the pages in the app's Worker, and sync talks to the server directly. The
 * bundle is not here either: the Worker keeps it in IndexedDB with the
 * answers. */
'use strict';
const CACHE = 'quizkit-app-1';
const SHELL = [
  './', 'kiosk.js', 'kiosk.css', 'app.js', 'app.css', 'worker.js', 'manifest.webmanifest', 'icon.svg',
  'quizkit-engine.js', 'quizkit-engine.wasm', '/common/calendar.js',
];

self.addEventListener('install', ev => {
  ev.waitUntil(caches.open(CACHE).then(c => c.addAll(SHELL.map(u => new Request(u, { cache: 'no-cache' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', ev => {
  ev.waitUntil(caches.keys()
    .then(keys => Promise.all(keys.filter(k => k !== CACHE).map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', ev => {
  const req = ev.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith('/app/') && url.pathname !== '/common/calendar.js') return;
  /* the page is one page: /app/ and /app/index.html are the same copy */
  const key = url.pathname === '/app/index.html' ? new Request('/app/') : new Request(url.pathname);
  ev.respondWith(fetch(req, { cache: 'no-cache' }).then(resp => {
    if (resp.ok) {
      const copy = resp.clone();
      ev.waitUntil(caches.open(CACHE).then(c => c.put(key, copy)));
    }
    return resp;
  }, () => caches.match(key).then(hit => hit || Response.error())));
});
