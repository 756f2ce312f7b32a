#!/usr/bin/env bash
# Issue 15, item 6: the README's order (a device syncs its entries, the admin
# publishes the competition's bundle afterwards) left the branch leaderboard
# empty for ever, with no hint. The entries wait, the device's board says
# what they wait for, and publishing scores them.
. "$(dirname "$0")/lib.sh"
export QUIZKIT_HOME="$WORK/kiosk"
mini_bundle
serve_test
A branch add b1 "第一党支部" >/dev/null
printf '编号,姓名,支部,科室,PIN\nm1,张三,b1,内科,1111\nm2,李四,b1,内科,2222\n' >"$WORK/roster.csv"
A member import "$WORK/roster.csv" >/dev/null || fail "roster import"
code() { A code --branch "$1" | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1; }

# The kiosk has the bundle (from a USB stick), the server not yet.
"$QK" trust add "$WORK/pub.pub" >/dev/null 2>&1
"$QK" bundle install "$WORK/mini.qkb" >/dev/null 2>&1 || fail "install mini"
"$QK" enroll "$URL" "$(code b1)" --name kiosk >/dev/null 2>&1 || fail "enrol kiosk"
"$QK" sync >/dev/null 2>&1 || fail "first sync"
printf '1111\n\n对\n对\n' | "$QK" compete start mini-cup --member m1 >/dev/null 2>&1 || fail "m1 plays"
printf '2222\n\n对\n错\n' | "$QK" compete start mini-cup --member m2 >/dev/null 2>&1 || fail "m2 plays"
"$QK" sync >"$WORK/s" 2>&1 || fail "sync: $(cat "$WORK/s")"
"$QK" compete board mini-cup >"$WORK/o" 2>&1
expect_contains "the board says two entries wait for the server" "$WORK/o" "另有 2 次答题在等服务器评分"
expect_contains "and what to do" "$WORK/o" "quizkit admin bundle publish"

# The admin publishes: the waiting entries are scored at once.
A bundle publish "$WORK/mini.qkb" --trust "$SRV/trust" >"$WORK/p" 2>&1 || fail "publish: $(cat "$WORK/p")"
expect_contains "publishing says it scored the waiting entries" "$WORK/p" "已为等待这个题库包的 2 次答题评分"
"$QK" sync >/dev/null 2>&1 || fail "second sync"
"$QK" compete board mini-cup >"$WORK/o" 2>&1
expect_contains "the branch board ranks m1" "$WORK/o" "张三"
expect_contains "and m2" "$WORK/o" "李四"
expect_not_contains "nothing waits any more" "$WORK/o" "在等服务器评分"
# The second publish of the same file changes nothing and scores nothing again.
A bundle publish "$WORK/mini.qkb" --trust "$SRV/trust" >"$WORK/p" 2>&1
expect_not_contains "a second publish scores nothing again" "$WORK/p" "次答题评分"
expect_contains "it says the file was published before" "$WORK/p" "test.mini 版本 1 已经发布过（同一个文件"
A bundle publish "$WORK/mini.qkb" --trust "$WORK/no-such-trust" >"$WORK/p" 2>&1
expect_eq "a trust folder that does not exist: exit 1" "$?" 1
expect_contains "it is named as missing" "$WORK/p" "信任的发布者公钥文件夹 $WORK/no-such-trust 不存在"
# A publish cut short while it scored (the server stopped): an entry left
# waiting is scored by publishing the same file again.
sqlite3 "$SRV/server.db" "UPDATE attempt_scores SET server_score = NULL, note = 'bundle not on the server' WHERE member_id = 'm2'"
A bundle publish "$WORK/mini.qkb" --trust "$SRV/trust" >"$WORK/p" 2>&1
expect_contains "publishing the same file again scores what still waits" "$WORK/p" "已为等待这个题库包的 1 次答题评分"
expect_eq "m2's entry has its score again" \
    "$(sqlite3 "$SRV/server.db" "SELECT server_score IS NOT NULL FROM attempt_scores WHERE member_id = 'm2'")" 1
# An attempt the server could not score for another reason (its events do
# not replay with the bundle) is not written again by each publish: a new
# row would be counted again by the statistics.
sqlite3 "$SRV/server.db" "UPDATE attempt_scores SET server_score = NULL, note = 'events do not replay' WHERE member_id = 'm1'"
row_before=$(sqlite3 "$SRV/server.db" "SELECT rowid, note FROM attempt_scores WHERE member_id = 'm1'")
A bundle publish "$WORK/mini.qkb" --trust "$SRV/trust" >"$WORK/p" 2>&1
expect_not_contains "nothing scored again" "$WORK/p" "次答题评分"
expect_eq "its row is left as it was" "$(sqlite3 "$SRV/server.db" "SELECT rowid, note FROM attempt_scores WHERE member_id = 'm1'")" "$row_before"
# A competition of the branch that nobody has played: its board says so.
printf '{"id": "b1-kong", "title": "空榜测试", "questions": ["q3", "u1"], "seconds": 25}\n' >"$WORK/comp.json"
A competition add "$WORK/comp.json" --bundle test.mini --branch b1 >"$WORK/p" 2>&1 || fail "competition: $(cat "$WORK/p")"
"$QK" sync >/dev/null 2>&1 || fail "third sync"
"$QK" compete board b1-kong >"$WORK/o" 2>&1
expect_contains "a board nobody has played says there is nothing yet" "$WORK/o" "还没有成绩"
finish
