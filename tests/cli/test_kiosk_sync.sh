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
json_start
"$QK" enroll "$URL" "$(A code --branch b1 | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1)" --name kiosk >/dev/null 2>&1 || fail "enrol"
spawn "$QK" kiosk --port 0 --port-file "$WORK/kport" --sync-interval 1 --bundle test.mini >"$WORK/kout" 2>&1
KPID=$LAST_PID
wait_file "$WORK/kport" || fail "the kiosk started: $(cat "$WORK/kout")"
K="http://127.0.0.1:$(cat "$WORK/kport")"
# home EXPR: EXPR over the home screen (d), d["sync"] its sync status
home() { curl -s "$K/api/home" >"$WORK/home" && jv "$WORK/home" "$1"; }
login() { curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "{\"member\":\"$1\",\"pin\":\"$2\"}" "$K/api/login"; }
is() { [ "$("${@:2}")" = "$1" ]; }  # is WANT COMMAND...: COMMAND prints WANT

# The roster arrives by itself: m1 (from the server's roster) signs in.
wait_until 10 is 200 login m1 1111
expect_eq "a member from the server's roster signs in at the kiosk" "$(login m1 1111)" 200
T=$(curl -s -X POST --data-binary '{"member":"m1","pin":"1111"}' "$K/api/login" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
curl -s -X POST -H "X-Kiosk-Session: $T" --data-binary '{"mode":"practice","theme":"t"}' "$K/api/quiz" >/dev/null
for a in B AC 对 '1921|南湖' A; do
    curl -s -X POST -H "X-Kiosk-Session: $T" --data-binary "{\"response\":\"$a\"}" "$K/api/quiz/answer" >/dev/null
done
curl -s -X POST -H "X-Kiosk-Session: $T" "$K/api/quiz/finish" >/dev/null
srv_count() { sqlite3 "$SRV/server.db" "select count(*) from events where kind='attempt.finish' and member_id='m1'"; }
wait_until 10 is 1 srv_count
expect_eq "the quiz reached the server with nobody running sync" "$(srv_count)" 1
wait_until 10 is 0 home 'd["sync"]["pending"]'
expect_eq "home: nothing waiting, enrolled, a last sync time" "$(home 'd["sync"]["pending"], d["sync"]["enrolled"], d["sync"]["last_sync_ms"] > 0')" "0 True True"

# A member added on the server later.
printf '编号,姓名,支部,科室,PIN\nm2,李四,b1,内科,2222\n' >"$WORK/more.csv"
A member import "$WORK/more.csv" >/dev/null
wait_until 10 is 200 login m2 2222
expect_eq "a member added on the server later can sign in too" "$(login m2 2222)" 200

# The server goes away; on its port, something that only answers 503 and
# counts the kiosk's tries. The kiosk keeps working; answers wait.
PORT=$(cat "$SRV/port")
stop "$SERVER_PID" KILL
spawn python3 "$TESTS/cli/fault_proxy.py" 1 "$WORK/away" status:503:1000000 "$PORT"
wait_file "$WORK/away" || fail "the stand-in took the server's port"
expect_eq "without the server the kiosk still answers" "$(curl -s -o /dev/null -w '%{http_code}' "$K/api/home")" 200
T=$(curl -s -X POST --data-binary '{"member":"m1","pin":"1111"}' "$K/api/login" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
curl -s -X POST -H "X-Kiosk-Session: $T" --data-binary '{"mode":"practice","theme":"t"}' "$K/api/quiz" >/dev/null
curl -s -X POST -H "X-Kiosk-Session: $T" --data-binary '{"response":"B"}' "$K/api/quiz/answer" >/dev/null
hits() { cat "$WORK/away.hits" 2>/dev/null || echo 0; }
H=$(hits)
tried() { [ "$(hits)" -gt "$H" ]; }
wait_until 20 tried || fail "the kiosk tried to sync while the server was away"
expect_eq "a member still studies, and after a failed sync the answers wait" "$(home 'd["sync"]["pending"] > 0')" True
expect_eq "the kiosk is still there" "$(curl -s -o /dev/null -w '%{http_code}' "$K/api/home")" 200
stop "$KPID" TERM
expect_eq "SIGTERM stops the kiosk and its sync cleanly" "$?" 0
finish
