#!/usr/bin/env bash
# A kiosk enrolled with the branch server syncs in the background while it
# runs: answers reach the server without anyone running `quizkit sync`, a
# member added on the server can sign in at the kiosk, and the home screen's
# status says nothing is waiting and when it last synced. When the server is
# away, the kiosk keeps working and the answers wait.
. "$(dirname "$0")/lib.sh"
export QUIZKIT_HOME="$WORK/kiosk"
mini_bundle
serve_test
branch_fixture 'm1,张三,b1,内科,1111\n'
"$QK" enroll "$URL" "$(A code --branch b1 | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1)" --name kiosk >/dev/null 2>&1 || fail "enrol"
"$QK" kiosk --port 0 --port-file "$WORK/kport" --sync-interval 1 --bundle test.mini >"$WORK/kout" 2>&1 &
KPID=$!
trap 'kill -9 "$KPID" "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do [ -s "$WORK/kport" ] && break; sleep 0.05; done
K="http://127.0.0.1:$(cat "$WORK/kport")"
home() { curl -s "$K/api/home" | python3 -c "import json,sys; s=json.load(sys.stdin)['sync']; print($1)"; }
wait_for() { for _ in $(seq 100); do [ "$(eval "$1")" = "$2" ] && return 0; sleep 0.1; done; return 1; }

# The roster arrives by itself: m1 (from the server's roster) signs in.
wait_for "curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary '{\"member\":\"m1\",\"pin\":\"1111\"}' $K/api/login" 200
expect_eq "a member from the server's roster signs in at the kiosk" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary '{"member":"m1","pin":"1111"}' "$K/api/login")" 200
T=$(curl -s -X POST --data-binary '{"member":"m1","pin":"1111"}' "$K/api/login" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
curl -s -X POST -H "X-Kiosk-Session: $T" --data-binary '{"mode":"practice","theme":"t"}' "$K/api/quiz" >/dev/null
for a in B AC 对 '1921|南湖' A; do
    curl -s -X POST -H "X-Kiosk-Session: $T" --data-binary "{\"response\":\"$a\"}" "$K/api/quiz/answer" >/dev/null
done
curl -s -X POST -H "X-Kiosk-Session: $T" "$K/api/quiz/finish" >/dev/null
srv_count() { sqlite3 "$SRV/server.db" "select count(*) from events where kind='attempt.finish' and member_id='m1'"; }
wait_for srv_count 1
expect_eq "the quiz reached the server with nobody running sync" "$(srv_count)" 1
wait_for "home 's[\"pending\"]'" 0
expect_eq "home: nothing waiting, enrolled, a last sync time" "$(home 's["pending"], s["enrolled"], s["last_sync_ms"] > 0')" "0 True True"

# A member added on the server later.
printf '编号,姓名,支部,科室,PIN\nm2,李四,b1,内科,2222\n' >"$WORK/more.csv"
A member import "$WORK/more.csv" >/dev/null
wait_for "curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary '{\"member\":\"m2\",\"pin\":\"2222\"}' $K/api/login" 200
expect_eq "a member added on the server later can sign in too" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary '{"member":"m2","pin":"2222"}' "$K/api/login")" 200

# The server goes away: the kiosk keeps working; answers wait.
kill -9 "$SERVER_PID"
sleep 2
expect_eq "without the server the kiosk still answers" "$(curl -s -o /dev/null -w '%{http_code}' "$K/api/home")" 200
T=$(curl -s -X POST --data-binary '{"member":"m1","pin":"1111"}' "$K/api/login" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
curl -s -X POST -H "X-Kiosk-Session: $T" --data-binary '{"mode":"practice","theme":"t"}' "$K/api/quiz" >/dev/null
curl -s -X POST -H "X-Kiosk-Session: $T" --data-binary '{"response":"B"}' "$K/api/quiz/answer" >/dev/null
expect_eq "a member still studies, and the answers wait to be synced" "$(home 's["pending"] > 0')" True
kill -TERM "$KPID"
wait "$KPID"
expect_eq "SIGTERM stops the kiosk and its sync cleanly" "$?" 0
finish
