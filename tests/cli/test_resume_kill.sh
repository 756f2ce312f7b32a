#!/usr/bin/env bash
# Kill quizkit play with SIGKILL mid-attempt; --resume finds every answer.
. "$(dirname "$0")/lib.sh"
mini_bundle

# The test holds the input open (a FIFO opened both ways: one way only would
# wait for the other end).
answers() { [ "$(sql "select count(*) from events where kind='answer'" 2>/dev/null)" = "$1" ]; }
fifo="$WORK/in"
mkfifo "$fifo"
exec 3<>"$fifo"
spawn "$QK" play --bundle test.mini --theme t --order seq <"$fifo" >"$WORK/first" 2>&1
printf 'B\nAC\n对\n' >&3
# Wait until the third answer is on disk, then pull the plug.
wait_until 10 answers 3
stop "$LAST_PID" KILL
exec 3>&-
expect_eq "three answers durable before the kill" "$(sql "select count(*) from events where kind='answer'")" 3
expect_eq "no finish after the kill" "$(sql "select count(*) from events where kind='attempt.finish'")" 0

printf '1921|南湖\nA\n' | "$QK" play --bundle test.mini --resume >"$WORK/second" 2>&1
expect_eq "resume exits 0" "$?" 0
expect_contains "resume says what was kept" "$WORK/second" "继续上次的答题：已答 3 / 5 题。"
expect_contains "resume starts at question 4" "$WORK/second" "第 4/5 题"
expect_not_contains "answered questions not asked again" "$WORK/second" "第 1/5 题"
expect_contains "score counts answers from before the kill" "$WORK/second" "得分：7 / 7 分    答对：5 / 5 题"
expect_eq "one attempt in all" "$(sql "select count(distinct attempt_id) from events where attempt_id is not null")" 1
expect_eq "five answers in all" "$(sql "select count(*) from events where kind='answer'")" 5

"$QK" history >"$WORK/hist" 2>&1
expect_contains "history shows the finished attempt" "$WORK/hist" "已完成"
expect_contains "history shows the score" "$WORK/hist" "7/7"

# Ctrl-C: exits 130, keeps the answers, says how to resume.
mkfifo "$WORK/in2"
exec 4<>"$WORK/in2"
spawn "$QK" play --bundle test.mini --theme t --order seq <"$WORK/in2" >"$WORK/third" 2>&1
printf 'B\n' >&4
wait_until 10 answers 6
stop "$LAST_PID" INT
code=$?
exec 4>&-
expect_eq "Ctrl-C exits 130" "$code" 130
expect_contains "Ctrl-C says progress is saved" "$WORK/third" "已保存进度（已答 1 / 5 题）"

# Input ending mid-quiz: exit 3, resumable.
printf 'B\n' | "$QK" play --bundle test.mini --theme u >"$WORK/eof" 2>&1
expect_eq "no more input exits 3" "$?" 3
finish
