#!/usr/bin/env bash
# The kiosk (issue 8) in a real browser: `quizkit kiosk` on loopback with the
# sample bundle and two members; tests/web/kiosk.mjs walks it. Screenshots go
# to $QK_ARTIFACTS (default build/artifacts).
. "$(dirname "$0")/../cli/lib.sh"
ART=${QK_ARTIFACTS:-$(dirname "$QK")/artifacts}
mkdir -p "$ART"
"$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1 || fail "member m1"
"$QK" member add m2 --name 李四 --pin 5678 >/dev/null 2>&1 || fail "member m2"
"$QK" kiosk --port 0 --port-file "$WORK/port" --idle 12 --log "$WORK/log" >"$WORK/out" 2>&1 &
KPID=$!
trap 'kill -9 "$KPID" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
[ -s "$WORK/port" ] || { fail "the kiosk started: $(cat "$WORK/out")"; finish; exit 1; }
URL="http://127.0.0.1:$(cat "$WORK/port")/"

if ! command -v node >/dev/null || [ ! -d "$TESTS/web/node_modules/playwright-core" ]; then
    fail "node and playwright-core are needed (scripts/install-deps.sh installs them)"
    finish
    exit 1
fi
# A second kiosk on 5 March (学雷锋纪念日), for the themed-day home screen
# (libfaketime; not under AddressSanitizer, which it cannot preload into).
URL2=""
if ! nm -D "$QK" 2>/dev/null | grep -q __asan_init; then
    QUIZKIT_HOME="$WORK/day" faketime '2027-03-05 10:00:00' "$QK" kiosk --port 0 --port-file "$WORK/port2" >"$WORK/out2" 2>&1 &
    K2PID=$!
    trap 'kill -9 "$KPID" "$K2PID" 2>/dev/null; rm -rf "$WORK"' EXIT
    for _ in $(seq 100); do [ -s "$WORK/port2" ] && break; sleep 0.05; done
    URL2="http://127.0.0.1:$(cat "$WORK/port2")/"
fi
node "$TESTS/web/kiosk.mjs" "$URL" "$ART" "$URL2" | tee "$WORK/web"
PASSES=$((PASSES + $(grep -c '^ok - ' "$WORK/web")))
FAILS=$((FAILS + $(grep -c '^FAIL - ' "$WORK/web")))
grep -q ' passed, ' "$WORK/web" || fail "the browser test ran to its end"

# What the walk left in the progress file: the guest's quiz without a member,
# the member's daily quiz, the half-done practice.
expect_eq "a guest attempt, with no member id" \
    "$(sql "select count(*) from events where kind='attempt.finish' and member_id is null")" 1
expect_eq "m1's daily quiz, finished" \
    "$(sql "select count(*) from events e where kind='attempt.finish' and member_id='m1' and exists (select 1 from events s where s.attempt_id=e.attempt_id and s.kind='attempt.start' and json_extract(s.payload,'\$.mode')='daily')")" 1
expect_eq "one practice left unfinished (resumed, not restarted)" \
    "$(sql "select count(*) from events s where kind='attempt.start' and member_id='m1' and json_extract(payload,'\$.mode')='practice' and not exists (select 1 from events f where f.attempt_id=s.attempt_id and f.kind='attempt.finish')")" 1
expect_contains "the kiosk logs each request" "$WORK/log" "path=/api/login status=401"
finish
