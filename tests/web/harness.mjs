// What the browser tests share: TAP-like checks ("ok - ..." / "FAIL - ..." /
// "SKIP - ..."), Debian's chromium launched headless and kept off every
// network but loopback, pages that note any request leaving the server under
// test, the pages' own calendar (web/common/calendar.js) for the test side,
// and servers a test starts itself, stopped and waited for before it ends.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

let fails = 0, passes = 0;
export const ok = name => { passes++; console.log(`ok - ${name}`); };
export const bad = (name, why) => { fails++; console.log(`FAIL - ${name}: ${why}`); };
/* A check that could not run: said so, counted neither way. */
export const skip = (name, why) => console.log(`SKIP - ${name}: ${why}`);
export const expectEq = (name, got, want) => {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  g === w ? ok(name) : bad(name, `got ${g}, want ${w}`);
};
export const expectTrue = (name, v, why = '') => (v ? ok(name) : bad(name, why || 'false'));

/* The calendar the pages use, here for the test side (days, text). */
export const cal = createRequire(import.meta.url)('../../web/common/calendar.js');

/* ROOT/index.html: every screenshot under ROOT's folders (kiosk/,
 * dashboard/), in the order of each walk, for a reviewer to page through in a
 * browser. Each browser test writes it when it ends; the test that ends last
 * lists both. */
export function writeIndex(root) {
  const esc = s => s.replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  const parts = [];
  for (const dir of readdirSync(root, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name).sort()) {
    const shots = readdirSync(`${root}/${dir}`).filter(f => f.endsWith('.png')).sort();
    const screens = new Map(); /* NN-name -> its sizes */
    for (const f of shots) {
      const m = f.match(/^(\d+-.*)-(\d+x\d+)\.png$/);
      if (!m) continue;
      if (!screens.has(m[1])) screens.set(m[1], []);
      screens.get(m[1]).push(f);
    }
    parts.push(`<h2 id="${esc(dir)}">${esc(dir)}: ${screens.size} screens</h2>`);
    for (const [name, files] of screens) {
      parts.push(`<section><h3>${esc(name)}</h3>` + files.map(f =>
        `<figure><a href="${esc(dir)}/${esc(f)}"><img loading="lazy" src="${esc(dir)}/${esc(f)}" alt="${esc(f)}"></a>` +
        `<figcaption>${esc(f.replace(/^.*-(\d+x\d+)\.png$/, '$1'))}</figcaption></figure>`).join('') + '</section>');
    }
  }
  writeFileSync(`${root}/index.html`, `<!doctype html><meta charset="utf-8"><title>quizkit screens</title>
<style>body{font-family:sans-serif;margin:1em}section{display:flex;gap:1em;align-items:flex-start;flex-wrap:wrap;border-top:1px solid #ccc}
h3{width:100%;margin:.5em 0}figure{margin:0}img{max-height:360px;border:1px solid #999}figcaption{text-align:center;color:#555}</style>
<h1>quizkit: every kiosk and dashboard screen at 1080×1920, 1920×1080 and 390×844</h1>
${parts.join('\n')}
`);
}

/* The tally line the shell side counts on, and the exit status. */
export function finish() {
  console.log(`${passes} passed, ${fails} failed`);
  process.exit(fails ? 1 : 0);
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', // CI runs as root
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--no-first-run', '--metrics-recording-only',
    ],
  });
}

/* A page in a fresh context (zh-CN); requests to anything but the allowed
 * origins land in foreign; script errors fail the run. */
export async function newPage(browser, viewport, allowed, foreign, extra = {}) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', ...extra });
  const page = await context.newPage();
  page.on('request', r => {
    const u = r.url();
    if (!allowed.some(o => u.startsWith(o)) && !u.startsWith('blob:') && !u.startsWith('data:')) foreign.push(u);
  });
  page.on('pageerror', e => bad('no script errors', e.message));
  return page;
}

/* Servers this process started: stopped when it ends, however it ends (a
 * test stops each itself, and waits for it, on the normal path). */
const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
for (const sig of ['SIGTERM', 'SIGINT']) process.once(sig, () => process.exit(sig === 'SIGINT' ? 130 : 143));

/* Starts `quizkit ARGS... --port 0 --port-file FILE` with env, and resolves
 * once it listens: { url, child, output() }. */
export async function startServer(bin, args, env, portFile) {
  rmSync(portFile, { force: true });
  const child = spawn(bin, [...args, '--port', '0', '--port-file', portFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', d => { out += d; });
  child.stderr.on('data', d => { out += d; });
  const exited = new Promise(r => child.once('exit', r));
  child.exited = exited;
  for (let i = 0; i < 200; i++) {
    if (existsSync(portFile) && readFileSync(portFile, 'utf8').trim()) {
      return { url: `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}/`, child, output: () => out };
    }
    if (child.exitCode !== null || child.signalCode !== null) break;
    await new Promise(r => setTimeout(r, 50));
  }
  await stopServer({ child });
  throw new Error(`${bin} ${args.join(' ')} did not start: ${out}`);
}

/* Asks a server to end (TERM), then kills it after 10 s; waits for it either way. */
export async function stopServer(s) {
  if (!s || !children.has(s.child)) return;
  if (s.child.exitCode === null && s.child.signalCode === null) {
    s.child.kill('SIGTERM');
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 10000);
    await s.child.exited;
    clearTimeout(timer);
  }
  children.delete(s.child);
}
