#!/usr/bin/env bash
# Issue 20, install: `cmake --install` with a prefix of its own, the tree then
# moved elsewhere whole, and the installed command finds its files beside
# itself (share/quizkit), never in the source or build folders: the sample
# bundle for a first quiz, the pages the server and the kiosk serve (a mark
# put into the installed copies shows which copy is served), the phones'
# app's module when the wasm build made one.
. "$(dirname "$0")/lib.sh"
BUILD=$(dirname "$QK")
if cmake --install "$BUILD" --prefix "$WORK/root" >"$WORK/install.out" 2>&1; then
    ok "cmake --install with a prefix of its own"
else
    fail "cmake --install: $(tail -5 "$WORK/install.out")"
    finish
    exit 1
fi
mv "$WORK/root" "$WORK/moved"
Q="$WORK/moved/bin/quizkit"
S="$WORK/moved/share/quizkit"
for f in samples.qkb dev-key.pub web/kiosk/index.html web/kiosk/kiosk.js web/dashboard/index.html \
         web/common/calendar.js web/app/worker.js web/app/sw.js web/app/manifest.webmanifest; do
    [ -f "$S/$f" ] && ok "installed: share/quizkit/$f" || fail "installed: share/quizkit/$f"
done

# The man page, in both languages: every command's section, rendered by
# groff with no warning but CJK text's line breaking.
for page in "$WORK/moved/share/man/man1/quizkit.1" "$WORK/moved/share/man/zh_CN/man1/quizkit.1"; do
    if [ -f "$page" ]; then
        groff -k -man -Tutf8 -ww -Wbreak -z "$page" >"$WORK/groff" 2>&1
        expect_eq "man page ${page#"$WORK/moved/"} renders without warnings" "$(cat "$WORK/groff")" ""
        for cmd in play lesson compete kiosk sync serve admin trust; do
            grep -q "^\.SS quizkit $cmd\$" "$page" || fail "the man page has quizkit $cmd: ${page#"$WORK/moved/"}"
        done
    else
        fail "installed: ${page#"$WORK/moved/"}"
    fi
done
groff -k -man -Tutf8 -rLL=120n "$WORK/moved/share/man/zh_CN/man1/quizkit.1" 2>/dev/null >"$WORK/man.txt"
expect_contains "the Chinese page shows each command's own help" "$WORK/man.txt" "用法：quizkit play [选项]"

# A first quiz from the installed sample (moved with the tree).
printf 'A\n' | "$Q" play --theme jiankang --count 1 --order seq >"$WORK/play" 2>&1
expect_contains "the installed command installs the sample beside it on first use" "$WORK/play" "已安装示例题库"
expect_contains "and a quiz runs from it to its end" "$WORK/play" "答题结束"

# The server and the kiosk serve the installed pages.
printf '<!-- installed copy -->\n' >>"$S/web/dashboard/index.html"
printf '<!-- installed copy -->\n' >>"$S/web/kiosk/index.html"
mkdir -p "$WORK/srv"
spawn "$Q" serve --db "sqlite:$WORK/srv/server.db" --trust "$WORK/srv" --port 0 --port-file "$WORK/srv/port" \
    >"$WORK/srv/out" 2>&1
SPID=$LAST_PID
if wait_file "$WORK/srv/port"; then
    U="http://127.0.0.1:$(cat "$WORK/srv/port")"
    curl -s "$U/dashboard/" >"$WORK/dash"
    expect_contains "the server serves the installed dashboard" "$WORK/dash" "installed copy"
    curl -s "$U/app/" >"$WORK/app"
    expect_contains "and the installed app page (the kiosk's, under /app/)" "$WORK/app" "installed copy"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$U/app/quizkit-engine.wasm")
    if [ -f "$S/app/quizkit-engine.wasm" ]; then
        expect_eq "and the installed app module" "$code" 200
    else
        expect_eq "no module installed (no wasm build yet): the server says it is not there" "$code" 404
    fi
else
    fail "the installed server started: $(cat "$WORK/srv/out")"
fi
stop "$SPID"
spawn "$Q" kiosk --port 0 --port-file "$WORK/kport" >"$WORK/kout" 2>&1
KPID=$LAST_PID
if wait_file "$WORK/kport"; then
    curl -s "http://127.0.0.1:$(cat "$WORK/kport")/" >"$WORK/kiosk"
    expect_contains "the installed kiosk serves the installed pages" "$WORK/kiosk" "installed copy"
else
    fail "the installed kiosk started: $(cat "$WORK/kout")"
fi
stop "$KPID"
finish
