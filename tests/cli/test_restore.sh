#!/usr/bin/env bash
# Issue 14, item 1: a server restored from `admin backup` (a disk died) holds
# less than it once acknowledged. The device sends again from what the server
# says it holds, over the network and by USB, and every event ends on the
# server exactly once.
. "$(dirname "$0")/lib.sh"
export QUIZKIT_HOME="$WORK/kiosk"
mini_bundle
serve_test
branch_fixture 'm1,张三,b1,内科,1111\n'
PORT=$(cat "$SRV/port")
A code --branch b1 >"$WORK/code" 2>&1
"$QK" enroll "$URL" "$(grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' "$WORK/code" | head -1)" >/dev/null 2>&1 || fail "enrol"
play() { for _ in $(seq "$1"); do printf 'B\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq >/dev/null 2>&1; done; }
device_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["device_id"])' "$QUIZKIT_HOME/server.json")
server_has() { sqlite3 "$SRV/server.db" "select count(*) || '/' || count(distinct id) || '/' || coalesce(max(seq), 0) from events where device_id = '$device_id'"; }
device_has() { sql "select count(*) || '/' || count(distinct id) || '/' || max(seq) from events"; }
restart_from() { # BACKUP: the server stops, its database is replaced by the backup, it starts again
    stop "$SERVER_PID"
    rm -f "$SRV/server.db-wal" "$SRV/server.db-shm"
    cp "$1" "$SRV/server.db"
    rm -f "$SRV/port"
    spawn "$QK" serve --db "$DB" --port "$PORT" --port-file "$SRV/port" --trust "$SRV/trust" --log "$SRV/log" \
        >>"$SRV/out" 2>&1
    SERVER_PID=$LAST_PID
    wait_file "$SRV/port" || fail "the server started again: $(tail -3 "$SRV/out")"
}

play 3
"$QK" sync >"$WORK/s" 2>&1 || fail "first sync: $(cat "$WORK/s")"
A backup "$WORK/backup.db" >/dev/null 2>&1 || fail "backup"
held=$(server_has)
play 3
"$QK" sync >"$WORK/s" 2>&1 || fail "second sync: $(cat "$WORK/s")"
expect_eq "before the disk dies, the server holds all" "$(server_has)" "$(device_has)"
restart_from "$WORK/backup.db"
expect_eq "the restored server holds only what the backup had" "$(server_has)" "$held"
play 2
"$QK" sync >"$WORK/s" 2>&1
expect_eq "the next sync succeeds" "$?" 0
expect_contains "and says the server had lost records, sent again" "$WORK/s" "服务器丢失了本机已确认过的记录"
expect_eq "every event on the server exactly once" "$(server_has)" "$(device_has)"
"$QK" status >"$WORK/st" 2>&1
expect_contains "status: nothing left to sync" "$WORK/st" "待同步 0 条"

# The same by USB: the restored server's signed acknowledgement takes the
# device back, and the next export carries what was lost.
A backup "$WORK/backup2.db" >/dev/null 2>&1
held=$(server_has)
play 2
"$QK" sync >/dev/null 2>&1 || fail "third sync"
restart_from "$WORK/backup2.db"
play 1
"$QK" export --out "$WORK/stick.qkd" >/dev/null 2>&1
stop "$SERVER_PID"
"$QK" admin import "$WORK/stick.qkd" --db "$DB" --ack-dir "$WORK" >"$WORK/i" 2>&1 || fail "import: $(cat "$WORK/i")"
"$QK" import-ack "$WORK"/ack-*.json >"$WORK/a" 2>&1 || fail "import-ack: $(cat "$WORK/a")"
"$QK" export --out "$WORK/stick2.qkd" >"$WORK/e" 2>&1
expect_contains "after the restored server's ack, the export carries what it lost" "$WORK/e" "已导出"
mkdir -p "$WORK/acks2"
"$QK" admin import "$WORK/stick2.qkd" --db "$DB" --ack-dir "$WORK/acks2" >"$WORK/i" 2>&1 || fail "import 2: $(cat "$WORK/i")"
expect_eq "by USB too, every event on the server exactly once" "$(server_has)" "$(device_has)"

# Issue 14, item 2: the server's acknowledgement key was pinned at enrolment.
# An import run by another account (another data folder) signs with the
# store's key, which the device accepts; a file signed by any other key is
# refused and nothing moves.
play 1
"$QK" export --out "$WORK/stick3.qkd" >/dev/null 2>&1
mkdir -p "$WORK/acks3" "$WORK/acks4"
QUIZKIT_HOME="$WORK/another-admin" "$QK" admin import "$WORK/stick3.qkd" --db "$DB" --ack-dir "$WORK/acks3" >/dev/null 2>&1
"$QK" keygen -o "$WORK/rogue" >/dev/null
"$QK" admin import "$WORK/stick3.qkd" --db "$DB" --ack-dir "$WORK/acks4" --key "$WORK/rogue.key" >/dev/null 2>&1
acked() { sql "select value from sync_state where key = 'acked_seq'"; }
before=$(acked)
"$QK" import-ack "$WORK/acks4/"ack-*.json >"$WORK/a" 2>&1
expect_eq "an acknowledgement signed by another key is refused" "$?" 1
expect_contains "as another server's" "$WORK/a" "由另一台服务器"
expect_eq "nothing moved" "$(acked)" "$before"
"$QK" import-ack "$WORK/acks3/"ack-*.json >"$WORK/a" 2>&1
expect_eq "another admin's import signs with the server's own key, which the device knows" "$?" 0
expect_contains "and it applies" "$WORK/a" "尚待同步 0 条"
finish
