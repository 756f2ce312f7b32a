#!/usr/bin/env bash
# Issue 14: a soak. 20 devices take quizzes and sync through a proxy that
# answers 503, cuts answers after the server took the batch, or holds them
# up (fault_proxy.py chaos), for QK_SOAK_SECONDS (120); meanwhile the server
# is killed twice and restored each time from a backup taken a while before
# (a disk died: it has lost what came after). At the end every device syncs
# straight to the server, and every event of every device is on it exactly
# once. Loopback only, bounded in time.
. "$(dirname "$0")/lib.sh"
N=${QK_SOAK_DEVICES:-20}
SECS=${QK_SOAK_SECONDS:-120}
mini_bundle
serve_test
branch_fixture 'm1,张三,b1,内科,1111\n'
PORT=$(cat "$SRV/port")
for i in $(seq "$N"); do
    D="$WORK/dev$i"
    "$QK" --data-dir "$D" trust add "$WORK/pub.pub" >/dev/null 2>&1
    "$QK" --data-dir "$D" bundle install "$WORK/mini.qkb" >/dev/null 2>&1
    code=$(A code --branch b1 | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1)
    "$QK" --data-dir "$D" enroll "$URL" "$code" --name "kiosk-$i" >/dev/null 2>&1 || fail "enrol device $i"
done
spawn python3 "$TESTS/cli/fault_proxy.py" "$PORT" "$WORK/pport" chaos:20261202 >"$WORK/proxy.log" 2>&1
PROXY_PID=$LAST_PID
wait_file "$WORK/pport" || fail "the proxy started"
PROXY="http://127.0.0.1:$(cat "$WORK/pport")"
point() { # point URL: every device's server.json at URL
    for i in $(seq "$N"); do
        python3 - "$WORK/dev$i/server.json" "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["url"] = sys.argv[2]; json.dump(c, open(sys.argv[1], "w"))
PY
    done
}
point "$PROXY"

restart_from() { # BACKUP: kill -9, the database replaced by the backup, start again
    stop "$SERVER_PID" KILL
    rm -f "$SRV/server.db-wal" "$SRV/server.db-shm"
    cp "$1" "$SRV/server.db"
    rm -f "$SRV/port"
    spawn "$QK" serve --db "$DB" --port "$PORT" --port-file "$SRV/port" --trust "$SRV/trust" \
        --log "$SRV/log" >>"$SRV/out" 2>&1
    SERVER_PID=$LAST_PID
    wait_file "$SRV/port" || fail "the server started again: $(tail -3 "$SRV/out")"
}

start=$(date +%s)
until=$((start + SECS))
DEVS=()
for i in $(seq "$N"); do
    spawn bash "$TESTS/cli/soak_device.sh" "$QK" "$WORK/dev$i" "$until"
    DEVS+=("$LAST_PID")
done
# Backups at 1/6 and 4/6 of the time, deaths at 2/6 and 5/6: each restore
# loses what arrived after its backup.
at() { while [ "$(date +%s)" -lt $((start + $1)) ]; do sleep 0.2; done; }
at $((SECS / 6)); A backup "$WORK/b1.db" >/dev/null 2>&1 || fail "backup 1"
at $((SECS * 2 / 6)); restart_from "$WORK/b1.db"; echo "# the server died and was restored (1)"
at $((SECS * 4 / 6)); A backup "$WORK/b2.db" >/dev/null 2>&1 || fail "backup 2"
at $((SECS * 5 / 6)); restart_from "$WORK/b2.db"; echo "# the server died and was restored (2)"
for p in "${DEVS[@]}"; do wait "$p"; forget "$p"; done
rounds=0
for i in $(seq "$N"); do rounds=$((rounds + $(cat "$WORK/dev$i/rounds" 2>/dev/null || echo 0))); done
echo "# $N devices, $rounds quizzes and syncs in $SECS s; the proxy had $(cat "$WORK/pport.hits") requests"
[ "$rounds" -ge "$N" ] && ok "every device played and synced through the faults ($rounds rounds)" ||
    fail "every device played and synced through the faults ($rounds rounds)"

# The network heals: every device syncs straight to the server.
point "$URL"
for i in $(seq "$N"); do
    for _ in 1 2 3; do "$QK" --data-dir "$WORK/dev$i" sync --no-retry >"$WORK/final$i" 2>&1 && break; done
done
bad=""
total=0
for i in $(seq "$N"); do
    D="$WORK/dev$i"
    dev=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["device_id"])' "$D/server.json")
    mine=$(sqlite3 "$D/progress.db" "select count(*) || '/' || count(distinct id) || '/' || max(seq) from events")
    theirs=$(sqlite3 "$SRV/server.db" "select count(*) || '/' || count(distinct id) || '/' || coalesce(max(seq), 0) from events where device_id = '$dev'")
    [ "$mine" = "$theirs" ] || bad="$bad device $i: $mine on the device, $theirs on the server;"
    total=$((total + ${mine%%/*}))
done
expect_eq "every event of every device on the server exactly once ($total events)" "$bad" ""
expect_eq "and nothing else" "$(sqlite3 "$SRV/server.db" "select count(*) - count(distinct id) from events")" 0
grep -q '服务器丢失了本机已确认过的记录' "$WORK"/dev*/sync.log "$WORK"/final* &&
    ok "devices noticed the restored server and sent again" || fail "devices noticed the restored server and sent again"
stop "$PROXY_PID"
finish
