// The phone app's WebAssembly module (build-wasm/app/quizkit-engine.js) used
// the way the app's Web Worker uses it: the factory, emscripten's file
// system, and the C functions through ccall; its enrolment and sync go to a
// real `quizkit serve` on loopback over node's fetch(), as the browser's would.
// The signed sample bundle, its public key and the server are the native
// build's.
//
// usage: node tests/wasm/app_module.cjs MODULE.js SAMPLES.qkb KEY.pub QUIZKIT
'use strict';
const assert = require('assert');
const fs = require('fs');

const os = require('os');
const path = require('path');
const { execFileSync, spawn } = require('child_process');

const [modulePath, bundlePath, keyPath, quizkit] = process.argv.slice(2);
if (!modulePath || !bundlePath || !keyPath || !quizkit) {
  console.error('usage: node app_module.cjs MODULE.js SAMPLES.qkb KEY.pub QUIZKIT');
  process.exit(2);
}

let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAILED ${name}\n  ${e.stack || e}`);
  }
}

async function main() {
  const QuizkitEngine = require(require('path').resolve(modulePath));
  // emscripten 3.1.6 under node 18+ would fetch() the .wasm by name: hand it over
  const M = await QuizkitEngine({ wasmBinary: fs.readFileSync(modulePath.replace(/\.js$/, '.wasm')) });
  const pem = fs.readFileSync(keyPath, 'utf8');
  M.FS.mkdir('/phone');
  M.FS.writeFile('/phone/bundle.qkb', fs.readFileSync(bundlePath));

  const open = (dir, bundle, keys, lang) =>
    M.ccall('qk_app_js_open', 'number', ['string', 'string', 'string', 'number'], [dir, bundle, keys, lang]);
  const request = (app, method, path, token, body) => {
    const text = body === undefined ? null : JSON.stringify(body);
    const r = M.ccall('qk_app_request', 'number',
      ['number', 'string', 'string', 'string', 'string', 'string', 'number'],
      [app, method, path, token || null, 'zh', text, text ? Buffer.byteLength(text) : 0]);
    assert.notStrictEqual(r, 0, 'a reply');
    const status = M.ccall('qk_app_reply_status', 'number', ['number'], [r]);
    const type = M.UTF8ToString(M.ccall('qk_app_reply_type', 'number', ['number'], [r]));
    const json = M.UTF8ToString(M.ccall('qk_app_reply_body', 'number', ['number'], [r]));
    M.ccall('qk_app_reply_free', null, ['number'], [r]);
    assert.strictEqual(type, 'application/json');
    return { status, body: JSON.parse(json) };
  };

  await check('the engine says its version', () => {
    assert.match(M.ccall('qk_version', 'string', [], []), /^\d+\.\d+\.\d+/);
  });

  await check('a bundle signed by a key it was not given is refused, with why', () => {
    const other = require('crypto').generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' });
    assert.strictEqual(open('/phone', '/phone/bundle.qkb', '', 0), 0);
    assert.notStrictEqual(M.ccall('qk_app_js_error', 'string', [], []), '');
    assert.strictEqual(open('/phone', '/phone/bundle.qkb', other, 1), 0);
    assert.match(M.ccall('qk_app_js_error', 'string', [], []), /not trusted/);
  });

  await check('the right key among others opens it, however the blocks are joined', () => {
    const others = [0, 1, 2].map(() => require('crypto').generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' }).trim());
    const joined = others[0] + others[1] + 'some words between\n' + pem.trim() + others[2];
    const two = open('/phone', '/phone/bundle.qkb', joined, 0);
    assert.notStrictEqual(two, 0, M.ccall('qk_app_js_error', 'string', [], []));
    M.ccall('qk_app_close', null, ['number'], [two]);
    assert.strictEqual(open('/phone', '/phone/bundle.qkb', others.join('\n'), 1), 0);
    assert.match(M.ccall('qk_app_js_error', 'string', [], []), /not trusted/);
    assert.strictEqual(open('/phone', '/phone/bundle.qkb', 'no key here', 1), 0);
    assert.match(M.ccall('qk_app_js_error', 'string', [], []), /no trusted key/);
  });

  const app = open('/phone', '/phone/bundle.qkb', pem, 0);
  await check('the signed sample opens with its key', () => {
    assert.notStrictEqual(app, 0, M.ccall('qk_app_js_error', 'string', [], []));
  });
  if (!app) return;

  await check('a guest takes a quiz of a guests\' theme in-process', () => {
    const home = request(app, 'GET', '/api/home');
    assert.strictEqual(home.status, 200);
    assert.strictEqual(home.body.idle_seconds, null, 'a phone does not sign out by itself');
    const guest = request(app, 'POST', '/api/guest');
    assert.strictEqual(guest.status, 200);
    const token = guest.body.token;
    const daily = request(app, 'POST', '/api/quiz', token, { mode: 'daily' });
    assert.strictEqual(daily.status, 403, 'the daily quiz is for members');
    const themes = request(app, 'GET', '/api/themes', token);
    assert.strictEqual(themes.status, 200);
    assert.deepStrictEqual(themes.body.themes.map(t => t.id), ['jiankang']);
    const q = request(app, 'POST', '/api/quiz', token, { mode: 'practice', theme: 'jiankang' });
    assert.strictEqual(q.status, 200, JSON.stringify(q.body));
    assert.strictEqual(q.body.done, false);
    assert.ok(q.body.item.stem.length > 0);
    // an answer of the question's kind (the draw is random), as the page sends
    // it: a letter, 对 or 错, or text in each blank
    const it = q.body.item;
    const response = it.type === 'fill' ? Array(it.blanks).fill('不知道').join('|')
      : it.type === 'judge' ? '对' : 'A';
    const a = request(app, 'POST', '/api/quiz/answer', token, { response });
    assert.strictEqual(a.status, 200, JSON.stringify(a.body));
    assert.strictEqual(a.body.feedback.reveal, true);
  });

  await check('the progress file is in the module\'s file system', () => {
    const st = M.FS.stat('/phone/progress.db');
    assert.ok(st.size > 0);
  });

  await check('only the API is answered, and bad JSON is a 400', () => {
    assert.strictEqual(request(app, 'GET', '/index.html').status, 404);
    const r = M.ccall('qk_app_request', 'number',
      ['number', 'string', 'string', 'string', 'string', 'string', 'number'],
      [app, 'POST', '/api/login', null, 'en', '{"member":', 10]);
    assert.notStrictEqual(r, 0);
    assert.strictEqual(M.ccall('qk_app_reply_status', 'number', ['number'], [r]), 400);
    M.ccall('qk_app_reply_free', null, ['number'], [r]);
  });
  await check('the phone enrols and syncs with a real server over fetch(), each event once', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qk-app-'));
    const db = `sqlite:${work}/server.db`;
    const q = (...args) => execFileSync(quizkit, ['--lang', 'en', ...args], { encoding: 'utf8' });
    fs.mkdirSync(`${work}/trust`);
    fs.copyFileSync(keyPath, `${work}/trust/dev.pub`);
    q('admin', 'branch', 'add', 'b1', 'Branch one', '--db', db);
    q('admin', 'bundle', 'publish', bundlePath, '--db', db, '--trust', `${work}/trust`);
    const code = q('admin', 'code', '--branch', 'b1', '--db', db).match(/[0-9A-Z]{4}-[0-9A-Z]{4}/)[0];
    const srv = spawn(quizkit, ['serve', '--db', db, '--port', '0', '--port-file', `${work}/port`,
      '--trust', `${work}/trust`], { stdio: 'ignore' });
    try {
      let port = '';
      for (let i = 0; i < 200 && !port; i++) {
        await new Promise(r => setTimeout(r, 50));
        port = fs.existsSync(`${work}/port`) ? fs.readFileSync(`${work}/port`, 'utf8').trim() : '';
      }
      assert.ok(port, 'the server says its port');
      // the transport, as the app's Worker will have it: fetch(), gzip by CompressionStream
      const carry = async net => {
        let status = 0, text = null, r, requests = 0;
        for (;;) {
          r = M.ccall('qk_app_net_next', 'number', ['number', 'number', 'string', 'number'],
            [net, status, text, text ? Buffer.byteLength(text) : 0]);
          if (r !== 1) return { r, requests };
          requests++;
          const method = M.ccall('qk_app_net_method', 'string', ['number'], [net]);
          const url = M.ccall('qk_app_net_url', 'string', ['number'], [net]);
          const token = M.ccall('qk_app_net_token', 'string', ['number'], [net]);
          const bodyPtr = M.ccall('qk_app_net_body', 'number', ['number'], [net]);
          const headers = { 'Accept-Language': 'zh-CN' };
          if (token) headers.Authorization = `Bearer ${token}`;
          let body;
          if (bodyPtr) {
            const json = M.UTF8ToString(bodyPtr, M.ccall('qk_app_net_len', 'number', ['number'], [net]));
            const gz = new Response(new Blob([json]).stream().pipeThrough(new CompressionStream('gzip')));
            body = new Uint8Array(await gz.arrayBuffer());
            headers['Content-Type'] = 'application/json';
            headers['Content-Encoding'] = 'gzip';
          }
          try {
            const resp = await fetch(url, { method, headers, body });
            status = resp.status;
            text = await resp.text();
          } catch (e) {
            status = 0;
            text = String(e.message || e);
          }
        }
      };
      const base = `http://127.0.0.1:${port}`;
      // a shared device (no member named: the branch's whole roster, as a kiosk's)
      let net = M.ccall('qk_app_enrol', 'number', ['number', 'string', 'string', 'string', 'string', 'string'],
        [app, base, code, '张三的手机', '', '']);
      let out = await carry(net);
      assert.strictEqual(out.r, 0, M.ccall('qk_app_net_error', 'string', ['number'], [net]));
      assert.deepStrictEqual(JSON.parse(M.ccall('qk_app_net_result', 'string', ['number'], [net])),
        { branch: 'b1', branch_name: 'Branch one', members: 0 });
      M.ccall('qk_app_net_free', null, ['number'], [net]);
      net = M.ccall('qk_app_sync', 'number', ['number'], [app]);
      out = await carry(net);
      assert.strictEqual(out.r, 0, M.ccall('qk_app_net_error', 'string', ['number'], [net]));
      const result = JSON.parse(M.ccall('qk_app_net_result', 'string', ['number'], [net]));
      M.ccall('qk_app_net_free', null, ['number'], [net]);
      assert.ok(result.sent >= 2, JSON.stringify(result));
      assert.strictEqual(result.pending, 0);
      // again: nothing more is sent
      net = M.ccall('qk_app_sync', 'number', ['number'], [app]);
      out = await carry(net);
      assert.strictEqual(out.r, 0);
      assert.strictEqual(JSON.parse(M.ccall('qk_app_net_result', 'string', ['number'], [net])).sent, 0);
      M.ccall('qk_app_net_free', null, ['number'], [net]);
      const held = execFileSync('sqlite3', [`${work}/server.db`,
        'select count(*), count(distinct id) from events'], { encoding: 'utf8' }).trim();
      assert.strictEqual(held, `${result.sent}|${result.sent}`, 'each event once on the server');
      // a server that is not there: the phone says it cannot reach it
      net = M.ccall('qk_app_enrol', 'number', ['number', 'string', 'string', 'string', 'string', 'string'],
        [app, 'http://127.0.0.1:9', code, 'x', '', '']);
      out = await carry(net);
      assert.strictEqual(out.r, -1);
      assert.match(M.ccall('qk_app_net_error', 'string', ['number'], [net]), /无法连接服务器/);
      M.ccall('qk_app_net_free', null, ['number'], [net]);
    } finally {
      srv.kill('SIGTERM');
      await new Promise(r => srv.once('exit', r));
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
  M.ccall('qk_app_close', null, ['number'], [app]);
}

main().then(() => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}, e => {
  console.log(`FAILED: ${e.stack || e}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
