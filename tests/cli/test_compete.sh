#!/usr/bin/env bash
# Competitions in the terminal: the list, a timed solo entry, one counted entry
# per member, hot-seat 1v1 on one screen with a podium, guests, the local board.
. "$(dirname "$0")/lib.sh"
mini_bundle
"$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1
"$QK" member add m2 --name 李四 --pin 5678 >/dev/null 2>&1

"$QK" compete list >"$WORK/o" 2>&1
expect_contains "list shows the competition" "$WORK/o" "mini-cup"
expect_contains "open now" "$WORK/o" "进行中"
expect_contains "the time per question in 秒, with the guests column named 访客" "$WORK/o" "30 秒  可"
expect_contains "(its head)" "$WORK/o" "每题   访客"

# Solo: the PIN, Enter to start, two answers (both questions are 对).
printf '1234\n\n对\n对\n' | "$QK" compete start mini-cup --member m1 >"$WORK/o" 2>&1
expect_eq "solo entry exits 0" "$?" 0
expect_contains "countdown shown" "$WORK/o" "⏱ 剩余 30 秒"
expect_contains "one verdict with the answer's competition points" "$WORK/o" "✓ 回答正确，本题得分 +"
expect_not_contains "not the question's own points beside them" "$WORK/o" "回答正确（+1 分）"
expect_contains "result" "$WORK/o" "答对 2/2 题"
expect_contains "rank on this device" "$WORK/o" "本机排名：第 1 名（共 1 人）"
printf '1234\n' | "$QK" compete start mini-cup --member m1 >"$WORK/o" 2>&1
expect_eq "a second entry is refused" "$?" 1
expect_contains "and explained" "$WORK/o" "你已参加过竞赛“测试杯”"
"$QK" compete start nope --guest >"$WORK/o" 2>&1
expect_contains "unknown competition named" "$WORK/o" "没有竞赛“nope”"

# Hot-seat 1v1: both log in, then take turns question by question.
printf '5678\n\n对\n\n\n对\n\n\n对\n\n\n错\n' | "$QK" compete hotseat mini-cup --players m2,guest --preset 1v1 >"$WORK/h" 2>&1
expect_eq "hot-seat exits 0" "$?" 0
expect_contains "turns announced" "$WORK/h" "轮到 李四 作答（第 1/2 题）"
expect_contains "the guest plays too" "$WORK/h" "轮到 访客1 作答（第 2/2 题）"
expect_contains "scoreboard between questions" "$WORK/h" "比分（第 1/2 题后）"
expect_contains "podium" "$WORK/h" "颁奖台"
expect_contains "winner first" "$WORK/h" "🥇 第 1 名：李四"
expect_contains "guest second" "$WORK/h" "🥈 第 2 名：访客1"
expect_contains "a wrong answer: its points and the right answer" "$WORK/h" "✗ 回答错误，本题得分 +0"
expect_contains "the right answer after a miss" "$WORK/h" "正确答案：对"
# Rounds: each player plays the whole round, then the next.
printf '\n对\n\n对\n\n\n对\n\n错\n' | "$QK" compete hotseat mini-cup --players guest,guest --mode rounds >"$WORK/r" 2>&1
expect_eq "rounds mode exits 0" "$?" 0
expect_eq "the first player plays both questions first" \
    "$(grep -o '轮到 访客[12] 作答（第 [12]/2 题）' "$WORK/r" | tr '\n' ' ')" \
    "轮到 访客1 作答（第 1/2 题） 轮到 访客1 作答（第 2/2 题） 轮到 访客2 作答（第 1/2 题） 轮到 访客2 作答（第 2/2 题） "
expect_contains "rounds podium" "$WORK/r" "🥇 第 1 名：访客1"
"$QK" compete hotseat mini-cup --players m1,m2,guest --preset 4p >"$WORK/o" 2>&1
expect_eq "preset needs its player count" "$?" 2
expect_contains "preset explained" "$WORK/o" "预设 4p 需要 4 名选手"
"$QK" compete hotseat mini-cup --players m1 >"$WORK/o" 2>&1
expect_contains "one player is not hot-seat" "$WORK/o" "需要 2–8 名选手"

# The board: each member's counted entry, guests too, ranked by points.
"$QK" compete board mini-cup >"$WORK/b" 2>&1
expect_contains "board has the solo entry" "$WORK/b" "张三"
expect_contains "board has the hot-seat winner" "$WORK/b" "李四"
expect_contains "board has the guest" "$WORK/b" "访客"
expect_eq "the board's times read in 秒" "$(grep -c '[0-9]\.[0-9] 秒' "$WORK/b")" "$(grep -c '张三\|李四\|访客' "$WORK/b")"
expect_eq "each entry is events in the log" \
    "$(sql "select count(*) from events where kind = 'attempt.finish' and json_extract(payload, '\$.competition') = 'mini-cup'")" 5

# Leaving half-way ends the entry; it still counts.
"$QK" member add m3 --name 王五 --pin 1111 >/dev/null 2>&1
printf '1111\n\n对\n' | "$QK" compete start mini-cup --member m3 >"$WORK/o" 2>&1
expect_eq "input ended mid-entry" "$?" 3
expect_contains "the partial result is shown" "$WORK/o" "答对 1/2 题"
printf '1111\n' | "$QK" compete start mini-cup --member m3 >"$WORK/o" 2>&1
expect_contains "and the entry is used" "$WORK/o" "你已参加过"
finish
