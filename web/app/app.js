/* app.js: the phones' app (docs/app.md), around the kiosk's pages. kiosk.js
 * loads it when the page is served under /app/ and then asks its screen API
 * of window.qkApp.request() instead of fetch(): the same C handler as on the
 * kiosk, in the app's Web Worker (worker.js) on the phone's own database.
 *
 * Here: one copy of the engine per browser (a second tab is told the app is
 * open elsewhere: two would each keep their own answers and lose some), the
 * service worker that keeps the app for use with no network, persistent
 * storage asked for, the enrolment screen a phone starts on, and the sync
 * button on the home screen. */
'use strict';
(() => {
  const TEXT = {
    zh: {
      brand: '党员学习', opening: '正在打开学习应用……',
      enrolTitle: '把这部手机注册到支部',
      enrolSub: '这部手机注册给你自己：请输入支部书记给你的注册码、你的党员编号和 PIN，再给手机起个名字。注册以后，没有网络也能学习，有网络时同步。',
      memberId: '党员编号', pin: 'PIN 密码', needMember: '请输入你的党员编号和 PIN。',
      code: '注册码', name: '手机名称', namePlaceholder: '例如：张三的手机', enrol: '注册',
      enrolling: '正在注册……', needCode: '请输入注册码。', needName: '请输入手机名称。',
      noBundle: '这部手机已注册，但还没有题库。请连上网络后点“同步学习记录”。',
      elsewhereTitle: '学习应用已在另一个标签页中打开',
      elsewhereSub: '同一部手机上只能在一个地方打开，这样答题记录才不会丢失。请回到那个标签页继续；或者关掉它，再点下面的按钮。',
      retry: '在这里打开', sync: '同步学习记录', syncing: '正在同步……',
      synced: r => `同步完成：上传 ${r.sent} 条记录${r.members ? `，更新 ${r.members} 名成员` : ''}。`,
      syncFailed: m => `同步没有完成：${m}`, branch: b => `支部：${b}`,
      bundleProblem: m => `新的题库包没有装上，仍用原来的：${m}`,
      revoked: '服务器已不再接受这部手机（可能被停用了）。请向支部书记要一个新的注册码重新注册；还没同步的记录都在手机上，注册后会上传。',
      failed: m => `学习应用无法打开：${m}`,
      noOffline: m => `注意：这部手机上还不能离线使用（${m}）。请用支部给的 https:// 地址打开，并确认证书受信任。`,
      old: '这个浏览器太旧，无法运行学习应用（需要 Web Worker 和 IndexedDB）。',
    },
    en: {
      brand: 'Member study', opening: 'Opening the study app...',
      enrolTitle: 'Enrol this phone with your branch',
      enrolSub: 'This phone is enrolled for you: type the enrolment code your branch leader gave you, your member id and PIN, and a name for the phone. Once enrolled, study works with no network and syncs when there is one.',
      memberId: 'Member id', pin: 'PIN', needMember: 'Type your member id and PIN.',
      code: 'Enrolment code', name: 'Phone name', namePlaceholder: "e.g. Zhang San's phone", enrol: 'Enrol',
      enrolling: 'Enrolling...', needCode: 'Type the enrolment code.', needName: 'Type a name for the phone.',
      noBundle: 'This phone is enrolled but has no questions yet. Connect to a network and tap "Sync my records".',
      elsewhereTitle: 'The study app is open in another tab',
      elsewhereSub: 'On one phone it opens in one place only, so that no answer is lost. Go back to that tab, or close it and tap the button below.',
      retry: 'Open it here', sync: 'Sync my records', syncing: 'Syncing...',
      synced: r => `Synced: ${r.sent} records sent${r.members ? `, ${r.members} members updated` : ''}.`,
      syncFailed: m => `The sync did not finish: ${m}`, branch: b => `Branch: ${b}`,
      bundleProblem: m => `The new bundle was not taken; the one before stays: ${m}`,
      revoked: 'The server no longer takes this phone (it may have been revoked). Ask your branch leader for a new enrolment code and enrol again; the records not yet synced stay on the phone and go up once enrolled.',
      failed: m => `The study app could not open: ${m}`,
      noOffline: m => `Note: this phone cannot use the app offline yet (${m}). Open it at the https:// address your branch gave, with a certificate the phone trusts.`,
      old: 'This browser is too old for the study app (it needs Web Workers and IndexedDB).',
    },
  };
  const $ = id => document.getElementById(id);
  const lang = () => (document.documentElement.lang === 'en' ? 'en' : 'zh');
  const t = k => TEXT[lang()][k];
  let worker = null, seq = 0, kiosk = null, appState = null;
  const waiting = new Map();

  function call(op, args = {}, transfer = []) {
    return new Promise((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, op, ...args }, transfer);
    });
  }

  function el(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'app') e.dataset.app = v;
      else e.setAttribute(k, v);
    }
    e.append(...kids);
    return e;
  }

  /* The app's screens and the sync button, in the kiosk's page; their words
   * follow the page's language (data-app keys). */
  function build() {
    document.body.classList.add('phone');
    document.head.append(el('link', { rel: 'manifest', href: 'manifest.webmanifest' }),
      el('link', { rel: 'stylesheet', href: 'app.css' }), el('link', { rel: 'icon', href: 'icon.svg' }),
      el('meta', { name: 'theme-color', content: '#b71c1c' }));
    const brand = document.querySelector('.brand');
    brand.removeAttribute('data-i18n'); /* the app's name, not the kiosk's */
    brand.dataset.app = 'brand';
    const main = $('app');
    main.append(
      el('section', { id: 's-enrol', class: 'screen', hidden: '' },
        el('h1', { app: 'enrolTitle' }), el('p', { class: 'sub', app: 'enrolSub' }),
        el('label', { class: 'app-field' }, el('span', { app: 'code' }),
          el('input', { id: 'enrol-code', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false',
            placeholder: 'AB12-CD34', maxlength: '32' })),
        el('label', { class: 'app-field' }, el('span', { app: 'memberId' }),
          el('input', { id: 'enrol-member', autocomplete: 'username', autocapitalize: 'characters', spellcheck: 'false',
            maxlength: '32' })),
        el('label', { class: 'app-field' }, el('span', { app: 'pin' }),
          el('input', { id: 'enrol-pin', type: 'password', inputmode: 'numeric', autocomplete: 'current-password',
            maxlength: '12' })),
        el('label', { class: 'app-field' }, el('span', { app: 'name' }),
          el('input', { id: 'enrol-name', autocomplete: 'off', maxlength: '64' })),
        el('p', { id: 'enrol-error', class: 'error', role: 'alert', hidden: '' }),
        el('button', { type: 'button', id: 'enrol-go', class: 'big primary wide', app: 'enrol' }),
        el('p', { id: 'enrol-status', class: 'status' })),
      el('section', { id: 's-elsewhere', class: 'screen', hidden: '' },
        el('h1', { app: 'elsewhereTitle' }), el('p', { class: 'sub', app: 'elsewhereSub' }),
        el('button', { type: 'button', id: 'elsewhere-retry', class: 'big primary wide', app: 'retry' })));
    const home = $('s-home');
    home.insertBefore(el('button', { type: 'button', id: 'app-sync', class: 'big secondary wide', app: 'sync' }),
      $('sync-status'));
    home.append(el('p', { id: 'app-status', class: 'status', role: 'status' }));
    $('enrol-go').addEventListener('click', enrol);
    $('app-sync').addEventListener('click', sync);
    $('elsewhere-retry').addEventListener('click', () => location.reload());
    words();
    new MutationObserver(pictures).observe(main, { childList: true, subtree: true });
    new MutationObserver(words).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  }

  function words() {
    for (const e of document.querySelectorAll('[data-app]')) e.textContent = t(e.dataset.app);
    $('enrol-name').placeholder = t('namePlaceholder');
    if (plain) status();
    document.title = `${t('brand')} · quizkit`;
  }

  /* The lessons' pictures (kiosk.js leaves them as data-media on a phone):
   * from the engine's bundle, shown as blob: URLs. */
  function pictures() {
    for (const img of document.querySelectorAll('img[data-media]')) {
      const path = img.dataset.media;
      img.removeAttribute('data-media');
      call('media', { path: `/api/media/${decodeURIComponent(path.slice('/api/media/'.length))}` }).then(r => {
        if (r.status !== 200) return;
        img.src = URL.createObjectURL(new Blob([r.bytes], { type: r.type }));
        img.addEventListener('load', () => URL.revokeObjectURL(img.src), { once: true });
      }).catch(() => {});
    }
  }

  let offline = ''; /* why the app cannot open offline, when it cannot */
  let plain = true; /* the status line says the branch alone: redrawn in another language */
  function status(text) {
    plain = !text;
    const s = $('app-status');
    const branch = appState && appState.branch_name ? TEXT[lang()].branch(appState.branch_name) : '';
    if (s) s.textContent = [text || branch, offline].filter(Boolean).join(' ');
  }

  async function enrol() {
    const code = $('enrol-code').value.trim(), name = $('enrol-name').value.trim();
    const member = $('enrol-member').value.trim(), pin = $('enrol-pin').value;
    const err = $('enrol-error');
    err.hidden = true;
    if (!appState.enrolled && (!code || !member || !pin || !name)) {
      err.textContent = t(!code ? 'needCode' : !member || !pin ? 'needMember' : 'needName');
      err.hidden = false;
      return;
    }
    $('enrol-go').disabled = true;
    $('enrol-status').textContent = t('enrolling');
    try {
      const r = await call(appState.enrolled ? 'sync' : 'enrol', { code, name, member, pin });
      $('enrol-pin').value = '';
      appState = r.state;
      /* the phone is its member's: the id is there at sign-in (the PIN is not) */
      if (appState.enrolled && member) localStorage.setItem('quizkit.member', member);
      if (appState.bundle) return ready();
      err.textContent = r.bundle_problem || appState.bundle_error || t('noBundle');
      err.hidden = false;
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      /* enrolled on the server before a later step failed: the next tap syncs */
      appState = await call('state').catch(() => appState);
      showEnrol();
    } finally {
      $('enrol-go').disabled = false;
      $('enrol-status').textContent = '';
    }
  }

  async function sync() {
    const b = $('app-sync');
    b.disabled = true;
    status(t('syncing'));
    try {
      const r = await call('sync');
      appState = r.state;
      await kiosk.refresh();
      status(TEXT[lang()].synced(r.result) + (r.bundle_problem ? ` ${TEXT[lang()].bundleProblem(r.bundle_problem)}` : ''));
    } catch (e) {
      status(TEXT[lang()].syncFailed(e.message));
      /* revoked (the server's 401), or not enrolled any more: enrolled again
       * with a new code, the records kept */
      appState = await call('state').catch(() => appState);
      if (e.status === 401 || !appState.enrolled) revoked();
    } finally {
      b.disabled = false;
    }
  }

  let started, began = false;
  function ready() {
    status();
    /* home, unless the member has already gone on from it (a tap on 党员登录
     * while the engine was still opening is not undone) */
    if (['home', 'enrol'].includes(window.qkKiosk.screen)) kiosk.show('home');
    if (began) kiosk.refresh(); /* enrolled again: the home screen anew */
    began = true;
    started();
  }

  /* The lock held for as long as this page lives: true when this page has
   * it, false when another tab keeps it (waited for two seconds: a page
   * reloaded lets go of its lock as its old copy ends). */
  function takeLock() {
    if (!navigator.locks) return Promise.resolve(true); /* older browsers: docs/app.md */
    return new Promise(resolve => {
      const signal = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(2000) : undefined;
      navigator.locks.request('quizkit-app', signal ? { signal } : { ifAvailable: true }, lock => {
        resolve(!!lock);
        return lock ? new Promise(() => {}) : undefined;
      }).catch(() => resolve(false));
    });
  }

  /* A phone the server no longer takes: the enrolment again, saying why. */
  function revoked() {
    $('enrol-code').value = ''; /* the code used before is used up */
    $('enrol-error').textContent = t('revoked');
    $('enrol-error').hidden = false;
    showEnrol();
  }

  /* The enrolment screen, or its sync alone for a phone enrolled already
   * (whose bundle did not come). */
  function showEnrol() {
    /* enrolled again (revoked): its member's id is there already */
    if (!$('enrol-member').value) $('enrol-member').value = localStorage.getItem('quizkit.member') || '';
    for (const f of ['enrol-code', 'enrol-member', 'enrol-pin', 'enrol-name']) $(f).closest('label').hidden = appState.enrolled;
    $('enrol-go').dataset.app = appState.enrolled ? 'sync' : 'enrol';
    if (appState.enrolled && $('enrol-error').hidden) {
      $('enrol-error').textContent = appState.bundle_error || t('noBundle');
      $('enrol-error').hidden = false;
    }
    words();
    kiosk.show('enrol');
  }

  window.qkApp = {
    /* Resolves once the engine is open on a bundle (after the enrolment, on
     * a new phone); never, in a tab refused for another. */
    async start(k) {
      kiosk = k;
      build();
      kiosk.show('home');
      $('sync-status').textContent = t('opening');
      if (!window.Worker || !window.indexedDB) {
        $('sync-status').textContent = t('old');
        return new Promise(() => {});
      }
      performance.mark('qk-app-start'); /* the marks: where a start's time goes (bench_app_browser) */
      if (!(await takeLock())) {
        kiosk.show('elsewhere');
        return new Promise(() => {});
      }
      /* the copies that let the app open with no network; without them (a
       * certificate the phone does not trust, a page not on https://) the app
       * works while online, and says so */
      if ('serviceWorker' in navigator) {
        navigator.serviceWorker.register('sw.js').catch(e => {
          offline = TEXT[lang()].noOffline(e.message || String(e));
          status();
        });
      } else {
        offline = TEXT[lang()].noOffline('service worker');
      }
      if (navigator.storage && navigator.storage.persist) {
        navigator.storage.persist().catch(() => {}); /* the browser may ask, or say no */
      }
      worker = new Worker('worker.js');
      worker.onerror = ev => { /* the engine's Worker died: every request waiting fails, and says so */
        const why = TEXT[lang()].failed(ev.message || 'worker');
        for (const w of waiting.values()) w.reject(new Error(why));
        waiting.clear();
        $('sync-status').textContent = why;
      };
      worker.onmessage = ev => {
        const w = waiting.get(ev.data.id);
        if (!w) return;
        waiting.delete(ev.data.id);
        if (ev.data.ok) {
          w.resolve(ev.data.value);
        } else {
          const e = new Error(ev.data.error);
          e.status = ev.data.status;
          w.reject(e);
        }
      };
      try {
        /* compiled here, as it streams in (from the service worker's copy,
         * whose compiled code the browser keeps), and handed to the Worker */
        let wasm;
        try {
          wasm = await WebAssembly.compileStreaming(fetch('quizkit-engine.wasm'));
        } catch (e) { /* served as another type, or no streaming here */
          wasm = await WebAssembly.compile(await (await fetch('quizkit-engine.wasm')).arrayBuffer());
        }
        performance.mark('qk-app-compiled');
        /* window.qkAppClock: another clock, for a demonstration or a test (worker.js) */
        appState = await call('boot', { lang: lang(), wasm, clock: window.qkAppClock || null });
      } catch (e) {
        $('sync-status').textContent = TEXT[lang()].failed(e.message);
        return new Promise(() => {});
      }
      performance.mark('qk-app-booted');
      return new Promise(resolve => {
        started = resolve;
        if (appState.bundle && appState.enrolled) return ready();
        /* a phone with a bundle but enrolled no more (revoked) */
        if (appState.bundle) return revoked();
        showEnrol(); /* a new phone, or one whose bundle did not come */
      });
    },
    /* The kiosk's fetch(), answered by the engine: what fetch() would say
     * of a JSON reply. */
    async request(method, path, headers, body) {
      const r = await call('request', {
        method, path, session: headers['X-Kiosk-Session'] || null,
        lang: /^en/.test(headers['Accept-Language'] || '') ? 'en' : 'zh', body: body || null,
      });
      return { status: r.status, ok: r.status >= 200 && r.status < 300, json: async () => JSON.parse(r.text) };
    },
  };
})();
