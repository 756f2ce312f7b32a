// A branch server for the phones' app, as the browser walk (app.mjs) and the
// app's browser benchmark (tests/bench/bench_app_browser.mjs) need it: a real
// `quizkit serve` on loopback with its own database, two branches, members,
// the signed sample bundle published and an enrolment code for b1, serving
// /app/ with the WebAssembly module of MODULE_DIR. It can be stopped and
// started again on the same port (the phone knows its origin). Given a
// clock ({now_ms, since_ms, rate}), the server runs on it.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function appServer(qk, samples, keyPub, moduleDir, clock = null) {
  for (const f of [qk, samples, keyPub, `${moduleDir}/quizkit-engine.wasm`]) {
    if (!existsSync(f)) throw new Error(`${f} is not there (the native build, then scripts/wasm-build.sh)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'qk-app-web-'));
  const db = `sqlite:${work}/server.db`;
  const env = { ...process.env, QUIZKIT_HOME: `${work}/home`, LANG: 'C.UTF-8' };
  /* the server on the clock the phone is given (QUIZKIT_NOW, docs/time.md) */
  for (const k of ['QUIZKIT_NOW', 'QUIZKIT_NOW_SINCE', 'QUIZKIT_NOW_RATE']) delete env[k];
  if (clock) {
    Object.assign(env, { QUIZKIT_NOW: `@${Math.floor(clock.now_ms / 1000)}`, QUIZKIT_NOW_SINCE: String(clock.since_ms),
      QUIZKIT_NOW_RATE: String(clock.rate) });
  }
  const admin = (...args) => execFileSync(qk, ['--lang', 'en', 'admin', ...args, '--db', db], { encoding: 'utf8', env });
  mkdirSync(`${work}/trust`);
  execFileSync('cp', [keyPub, `${work}/trust/publisher.pub`]);
  admin('branch', 'add', 'b1', '第一支部');
  admin('branch', 'add', 'b2', '第二支部');
  admin('member', 'add', 'm1', '张三', '--branch', 'b1', '--pin', '1234');
  admin('member', 'add', 'm2', '李四', '--branch', 'b1', '--pin', '5678');
  admin('member', 'add', 'x9', '王五', '--branch', 'b2', '--pin', '9999');
  admin('bundle', 'publish', samples, '--trust', `${work}/trust`);
  let child = null, exited = null, port = 0;
  const s = {
    work, env,
    publish: file => admin('bundle', 'publish', file, '--trust', `${work}/trust`),
    admin,
    // a phone's code (a shared device's would be refused by a phone)
    code: () => admin('code', '--branch', 'b1', '--phone').match(/[0-9A-Z]{4}-[0-9A-Z]{4}/)[0],
    sql: q => execFileSync('sqlite3', [`${work}/server.db`, q], { encoding: 'utf8' }).trim(),
    log: () => (existsSync(`${work}/log`) ? readFileSync(`${work}/log`, 'utf8') : ''),
    get origin() { return `http://127.0.0.1:${port}`; },
    async start() {
      rmSync(`${work}/port`, { force: true });
      child = spawn(qk, ['serve', '--db', db, '--trust', `${work}/trust`, '--app', moduleDir,
        '--port', String(port), '--port-file', `${work}/port`, '--log', `${work}/log`], { env, stdio: 'ignore' });
      exited = new Promise(r => child.once('exit', r));
      for (let i = 0; i < 200 && !(existsSync(`${work}/port`) && readFileSync(`${work}/port`, 'utf8').trim()); i++) {
        if (child.exitCode !== null) break;
        await new Promise(r => setTimeout(r, 50));
      }
      if (!existsSync(`${work}/port`)) throw new Error(`quizkit serve did not start (${s.log()})`);
      port = Number(readFileSync(`${work}/port`, 'utf8').trim());
    },
    async stop() {
      if (!child) return;
      child.kill('SIGTERM');
      await exited;
      child = null;
    },
    /* the server stopped (killed if need be) and its folder gone */
    end() {
      if (child) child.kill('SIGKILL');
      rmSync(work, { recursive: true, force: true });
    },
  };
  process.on('exit', () => s.end());
  await s.start();
  return s;
}
