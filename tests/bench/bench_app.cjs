// bench_app: the phone app's WebAssembly module (issue 18): its size as the
// browser downloads it (gzip), and the cold time from the module's bytes to
// the first question of a quiz (compile and instantiate, verify and open the
// signed sample, a guest's practice quiz), against the native command
// verifying the same bundle in the same run.
//
// usage: node tests/bench/bench_app.cjs MODULE.js SAMPLES.qkb KEY.pub QUIZKIT [RUNS]
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');

const [modulePath, bundlePath, keyPath, quizkit, runsArg] = process.argv.slice(2);
if (!quizkit) {
  console.error('usage: node bench_app.cjs MODULE.js SAMPLES.qkb KEY.pub QUIZKIT [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg || 9);
const wasmPath = modulePath.replace(/\.js$/, '.wasm');
const median = xs => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

function gz(file) {
  return zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
}

async function coldFirstQuestion() {
  // a fresh module each time: nothing compiled or cached from the last run
  delete require.cache[require.resolve(path.resolve(modulePath))];
  const t0 = process.hrtime.bigint();
  const QuizkitEngine = require(path.resolve(modulePath));
  const M = await QuizkitEngine({ wasmBinary: fs.readFileSync(wasmPath) });
  M.FS.mkdir('/phone');
  M.FS.writeFile('/phone/bundle.qkb', fs.readFileSync(bundlePath));
  const app = M.ccall('qk_app_js_open', 'number', ['string', 'string', 'string', 'number'],
    ['/phone', '/phone/bundle.qkb', fs.readFileSync(keyPath, 'utf8'), 0]);
  if (!app) throw new Error(M.ccall('qk_app_js_error', 'string', [], []));
  const call = (method, p, token, body) => {
    const text = body ? JSON.stringify(body) : null;
    const r = M.ccall('qk_app_request', 'number',
      ['number', 'string', 'string', 'string', 'string', 'string', 'number'],
      [app, method, p, token, 'zh', text, text ? Buffer.byteLength(text) : 0]);
    const out = JSON.parse(M.UTF8ToString(M.ccall('qk_app_reply_body', 'number', ['number'], [r])));
    M.ccall('qk_app_reply_free', null, ['number'], [r]);
    return out;
  };
  const token = call('POST', '/api/guest').token;
  const q = call('POST', '/api/quiz', token, { mode: 'practice', theme: 'jiankang' });
  if (!q.item) throw new Error('no first question: ' + JSON.stringify(q));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  M.ccall('qk_app_close', null, ['number'], [app]);
  return ms;
}

function nativeVerify() {
  const t0 = process.hrtime.bigint();
  execFileSync(quizkit, ['--lang', 'en', 'bundle', 'verify', bundlePath, '--trust', keyPath], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

(async () => {
  const wasmGz = gz(wasmPath), jsGz = gz(modulePath);
  console.log(`module: ${fs.statSync(wasmPath).size} B wasm, ${wasmGz} B gzipped; ` +
    `loader ${fs.statSync(modulePath).size} B, ${jsGz} B gzipped`);
  console.log(`download: ${((wasmGz + jsGz) / 1000).toFixed(0)} KB gzipped (goal: <= 700 KB)`);
  const cold = [], native = [];
  for (let i = 0; i < runs; i++) {
    native.push(nativeVerify());
    cold.push(await coldFirstQuestion());
  }
  const c = median(cold), n = median(native);
  console.log(`cold to first question (wasm, node): median ${c.toFixed(0)} ms of ${runs} (goal: <= 1000 ms)`);
  console.log(`native 'quizkit bundle verify' of the same bundle: median ${n.toFixed(0)} ms`);
  console.log(`ratio wasm cold first question / native verify: ${(c / n).toFixed(2)}x`);
})().catch(e => { console.error(e); process.exit(1); });
