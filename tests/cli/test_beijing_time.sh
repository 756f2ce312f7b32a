#!/usr/bin/env bash
# No time shown to a person is UTC (DESIGN.md decision 10): on a UTC machine
# (TZ=UTC, as every server and most kiosks), with the clock stopped at
# 2026-12-02 23:59:30 Beijing time (15:59:30 UTC), every command that shows the
# time of a known event shows 2026-12-02 23:59 (or the expiry a day later),
# and no output anywhere holds the UTC reading 15:59.
. "$(dirname "$0")/lib.sh"
export TZ=UTC QUIZKIT_NOW=2026-12-02T23:59:30+08:00 QUIZKIT_NOW_RATE=0
unset QUIZKIT_NOW_SINCE
export QUIZKIT_HOME="$WORK/kiosk"
OUT="$WORK/outputs"
mkdir -p "$OUT"
mini_bundle
serve_test
branch_fixture 'm1,张三,b1,内科,1111\nm2,李四,b1,内科,2222\n'
printf '{"id": "b1-cup", "title": "支部杯", "questions": ["q1", "q3"], "seconds": 30}' >"$WORK/cup.json"
A competition add "$WORK/cup.json" --bundle test.mini --branch b1 >/dev/null 2>&1 || fail "publish a competition"

# A shows the output of a command under a name, for the checks below.
show() { local name=$1; shift; "$@" >"$OUT/$name" 2>&1; }
show code A code --branch b1
CODE=$(grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' "$OUT/code" | head -1)
show enroll "$QK" enroll "$URL" "$CODE" --name kiosk
show sync1 "$QK" sync
# m1 takes a quiz with one wrong answer (the wrong-answer book), and a
# competition entry.
printf '1111\nA\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq --count 0 --member m1 >"$OUT/play" 2>&1
printf '1111\n\nB\n对\n' | "$QK" compete start b1-cup --member m1 >"$OUT/compete" 2>&1
show sync2 "$QK" sync
show sync3 "$QK" sync   # the board, with the server's scores
show history sh -c "printf '1111\n' | \"$QK\" history --member m1"
show review sh -c "printf '1111\n' | \"$QK\" review --list --member m1"
show status "$QK" status
show board "$QK" compete board b1-cup
show complist "$QK" compete list
show devices A device list
show comps A competition list
show branches A branch list
show info "$QK" bundle info "$WORK/mini.qkb"

expect_contains "the enrolment code is valid until a day later, Beijing time" "$OUT/code" "2026-12-03 23:59"
expect_contains "history: the attempt began at 23:59" "$OUT/history" "2026-12-02 23:59"
expect_contains "history says it is Beijing time" "$OUT/history" "北京时间"
expect_contains "the wrong-answer book: missed at 23:59" "$OUT/review" "2026-12-02 23:59"
expect_contains "status: last synced at 23:59 Beijing time" "$OUT/status" "2026-12-02 23:59（北京时间）"
expect_contains "the branch board: synced at 23:59" "$OUT/board" "2026-12-02 23:59"
expect_contains "the device list: last seen at 23:59" "$OUT/devices" "2026-12-02 23:59"
expect_contains "the device list's header says Beijing time" "$OUT/devices" "北京时间"
expect_contains "the device list's headers are Chinese" "$OUT/devices" "最近联系（北京时间）"
expect_not_contains "no protocol keys as headers (devices)" "$OUT/devices" "last_seen"
expect_contains "the competition list's headers are Chinese" "$OUT/comps" "发布时间（北京时间）"
expect_not_contains "no protocol keys as headers (competitions)" "$OUT/comps" "bundle_id"
expect_contains "the branch list's headers are Chinese" "$OUT/branches" "成员数"
expect_not_contains "no protocol keys as headers (branches)" "$OUT/branches" "members"
expect_contains "the history names the competition entry" "$OUT/history" "知识竞赛"
expect_contains "published competitions: at 23:59" "$OUT/comps" "2026-12-02 23:59"
expect_contains "bundle info: built at 23:59 Beijing time" "$OUT/info" "2026-12-02 23:59（北京时间）"
# The server's log writes the offset out.
expect_contains "the server's log: Beijing time with its offset" "$SRV/log" "2026-12-02T23:59:30.000+08:00"
utc=$(grep -l '15:59' "$OUT"/* "$SRV/log" 2>/dev/null | xargs -r -n1 basename | tr '\n' ' ')
expect_eq "no output shows the UTC time 15:59" "$utc" ""
finish
