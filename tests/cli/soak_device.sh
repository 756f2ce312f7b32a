#!/usr/bin/env bash
# soak_device.sh QUIZKIT DATA_DIR UNTIL_EPOCH: one device of the soak test
# (test_soak.sh): until the real time UNTIL_EPOCH (seconds), it takes a quiz
# and syncs, over and over; a sync that fails (the fault proxy, a server
# that is down) is simply tried again the next round, as a kiosk would.
# Each command runs in the background and is waited for, so that a TERM
# ends the command with the loop.
QK=$1 DATA=$2 UNTIL=$3
child=
trap '[ -n "$child" ] && kill "$child" 2>/dev/null; wait; exit 143' TERM
run() { "$@" <&0 & child=$!; wait "$child"; child=; } # <&0: a background command reads /dev/null otherwise
rounds=0
while [ "$(date +%s)" -lt "$UNTIL" ]; do
    printf 'B\nAC\n对\n1921|南湖\nA\n' >"$DATA/answers"
    run "$QK" --data-dir "$DATA" play --bundle test.mini --theme t --order seq <"$DATA/answers" >/dev/null 2>&1
    run "$QK" --data-dir "$DATA" sync --no-retry >>"$DATA/sync.log" 2>&1
    rounds=$((rounds + 1))
done
echo "$rounds" >"$DATA/rounds"
