#!/usr/bin/env bash
# The server copies its write-ahead log back into the database file in the
# background (a checkpointer thread, every quarter of a second), not in the
# middle of a device's request: what devices synced reaches server.db itself
# soon after, even when the log is far below SQLite's own threshold (1,000
# pages) and no connection closes. Without it, a request now and then stopped
# to copy the log back and flush the file while every other device waited.
. "$(dirname "$0")/lib.sh"
export QUIZKIT_HOME="$WORK/kiosk"
mini_bundle
serve_test
branch_fixture 'm1,张三,b1,内科,1111\n'
CODE=$(A code --branch b1 | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1)
"$QK" enroll "$URL" "$CODE" --name kiosk >/dev/null 2>&1 || fail "enrol"
printf 'B\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq >"$WORK/p" 2>&1 ||
    fail "a quiz is played: $(cat "$WORK/p")"
"$QK" sync >"$WORK/s" 2>&1 || fail "sync: $(cat "$WORK/s")"
held=$(sqlite3 "$SRV/server.db" "SELECT count(*) FROM events")
[ "$held" -gt 5 ] && ok "the server holds the synced events ($held)" || fail "the server holds the synced events ($held)"
# The database file alone, as a copy that leaves the log behind would see it.
copied=0
for _ in $(seq 1 50); do
    cp "$SRV/server.db" "$WORK/copy.db" && rm -f "$WORK/copy.db-wal" "$WORK/copy.db-shm"
    copied=$(sqlite3 "$WORK/copy.db" "SELECT count(*) FROM events" 2>/dev/null || echo 0)
    [ "$copied" = "$held" ] && break
    sleep 0.1
done
expect_eq "within 5 s, server.db itself holds every synced event" "$copied" "$held"
expect_eq "and the server still answers" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/time")" 200
finish
