#!/usr/bin/env bash
# Issue 14, item 11: `quizkit serve` and `quizkit kiosk` stop cleanly on
# SIGTERM and SIGINT, whenever the signal comes once they are up, whichever
# thread would have taken it: the stop signals are blocked in every thread
# and waited for in one place (a flag and pause() could miss the wake-up and
# hang for ever). Each is started and stopped many times, the signal sent
# at once or after a few milliseconds, while requests are in flight.
. "$(dirname "$0")/lib.sh"
ROUNDS=${QK_SIGNAL_ROUNDS:-12}
"$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1
# stop_one NAME SIGNAL DELAY CMD...: starts CMD, waits for its port file,
# sends SIGNAL after DELAY seconds with requests going, and checks it ends
# by itself with status 0 within 5 s.
stop_one() {
    local name=$1 sig=$2 delay=$3
    shift 3
    rm -f "$WORK/port"
    spawn "$@" --port 0 --port-file "$WORK/port" >"$WORK/out" 2>&1
    local pid=$LAST_PID
    wait_file "$WORK/port"
    local url="http://127.0.0.1:$(cat "$WORK/port" 2>/dev/null)"
    for _ in 1 2 3 4; do curl -s -o /dev/null --max-time 2 "$url/api/home" & done
    sleep "$delay"
    kill -s "$sig" "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name stops on SIG$sig after ${delay}s: still running after 5 s"
        stop "$pid" KILL
        return
    fi
    wait "$pid"
    local rc=$?
    forget "$pid"
    [ "$rc" -eq 0 ] || fail "$name stops on SIG$sig after ${delay}s with status 0 (got $rc): $(tail -3 "$WORK/out")"
    wait # the curls
    STOPPED=$((STOPPED + 1))
}
STOPPED=0
for i in $(seq "$ROUNDS"); do
    sig=TERM
    [ $((i % 2)) -eq 0 ] && sig=INT
    delay=0
    [ $((i % 3)) -eq 1 ] && delay=0.01
    [ $((i % 3)) -eq 2 ] && delay=0.2
    stop_one "serve" "$sig" "$delay" "$QK" serve --db "sqlite:$WORK/server.db"
    stop_one "kiosk" "$sig" "$delay" "$QK" kiosk --sync-interval 1
done
expect_eq "every start ended cleanly on its signal (serve and kiosk, $ROUNDS rounds each)" \
    "$STOPPED" $((2 * ROUNDS))
expect_contains "and says it stopped" "$WORK/out" "已停止"
finish
