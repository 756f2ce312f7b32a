#!/usr/bin/env bash
# Study modes in the terminal: daily quiz, challenge, wrong-answer book and review.
. "$(dirname "$0")/lib.sh"
mini_bundle
"$QK" member add m1 --name 张三 --pin 1234 >/dev/null

# The checks below hold within one day (the daily set, today's points, the
# streak, nothing due yet): the clock stands still at the run's "now" for
# them, so midnight cannot pass between two of them.
T=$(clock_now)
Q() { frozen_at "$T" "$QK" "$@"; }

# Daily: the same set when started again the same day, every answer right
# (whichever questions the day gives): 5 points, the daily cap, however often.
qs() { grep -E '^第 [0-9]+/[0-9]+ 题' -A1 "$1" | grep -vE '^第|^--' ; }
frozen_at "$T" answer_quiz --pin 1234 -- "$QK" play --mode daily --member m1 >"$WORK/d1" 2>&1
frozen_at "$T" answer_quiz --pin 1234 -- "$QK" play --mode daily --member m1 >"$WORK/d2" 2>&1
expect_contains "daily quiz named" "$WORK/d1" "每日答题"
expect_contains "daily quiz says the set is today's" "$WORK/d1" "当天重新开始仍是同一组题"
expect_contains "the first daily quiz is finished" "$WORK/d1" "答对：5 / 5 题"
expect_eq "same questions when started again today" "$(qs "$WORK/d1" | md5sum)" "$(qs "$WORK/d2" | md5sum)"
expect_contains "the daily set has the default 5 of the bundle's 6 questions" "$WORK/d1" "每日答题 · 共 5 题"

# Challenge in order: q1 right, q2 wrong ends the run.
printf 'B\nA\n对\n' | Q play --mode challenge --theme t --order seq >"$WORK/c" 2>&1
expect_eq "challenge exits 0" "$?" 0
expect_contains "run length and best shown" "$WORK/c" "本次连续答对 1 题，最好成绩 1 题。"
expect_contains "the challenge's score counts what was answered" "$WORK/c" "得分：2 分    作答 2 题，答对 1 题"
expect_not_contains "not out of every question in the theme" "$WORK/c" "答对：1 / 5 题"
expect_not_contains "no question after the miss" "$WORK/c" "第 3/"
expect_contains "challenge shows the per-question countdown" "$WORK/c" "剩余 0:20"

# The miss is in the guest's wrong-answer book; a review drills it.
Q review --list >"$WORK/w" 2>&1
expect_contains "book lists the missed question" "$WORK/w" "哪些是偶数？"
grep '哪些是偶数？' "$WORK/w" >"$WORK/wl"
expect_contains "book shows the answer given, with the option's text" "$WORK/wl" " A. 2 "
expect_contains "book shows the right answer, with the options' text" "$WORK/wl" " A. 2；C. 4 "
printf 'AC\n' | Q review --order seq >"$WORK/r" 2>&1
expect_eq "review exits 0" "$?" 0
expect_contains "review is named" "$WORK/r" "错题复习"
expect_contains "review asks the missed question" "$WORK/r" "哪些是偶数？"
expect_contains "review scored" "$WORK/r" "答对：1 / 1 题"
Q review --list >"$WORK/w2" 2>&1
expect_contains "one right day is not enough to leave the book" "$WORK/w2" "哪些是偶数？"
printf '1234\n' | Q review --member m1 --list >"$WORK/w3" 2>&1
expect_contains "each member has their own book" "$WORK/w3" "错题本是空的"

# Spaced review: nothing is due on the day of the first answers.
Q review --due >"$WORK/due" 2>&1
expect_eq "nothing due today is no error: exit 0" "$?" 0
expect_contains "nothing due explained" "$WORK/due" "今天没有到期需要复习的题目，明天再来。"
expect_not_contains "nothing due is not an error" "$WORK/due" "错误"

# Challenge timeout: a question left unanswered past its time ends the run
# (on the run's moving clock: time has to pass).
# The test holds the input open (opened both ways first: opening a FIFO for
# one way only waits for the other end).
mkfifo "$WORK/in"
exec 3<>"$WORK/in"
spawn "$QK" play --mode challenge --theme u --question-time 1 <"$WORK/in" >"$WORK/t" 2>&1
stop "$LAST_PID" 0   # signal 0: only waits for it
code=$?
exec 3>&-
expect_eq "timed-out challenge exits 0" "$code" 0
expect_contains "time-out is a miss" "$WORK/t" "时间到，本题未作答"
# Points: a member's challenge run of one right answer earns 1 point (1 a right answer).
printf '1234\nB\nA\n' | Q play --mode challenge --theme t --order seq --member m1 >"$WORK/pc" 2>&1
expect_contains "the run says what it earned" "$WORK/pc" "本次获得 1 学习积分"
printf '1234\n' | Q points --member m1 >"$WORK/p" 2>&1
expect_eq "points exits 0" "$?" 0
expect_contains "challenge points against the cap" "$WORK/p" "挑战答题  1         6"
expect_contains "daily points up to the cap" "$WORK/p" "每日答题  5         5"
expect_contains "totals and streak" "$WORK/p" "今日共 6 分，累计 6 分，已连续学习 1 天"
printf '1234\n' | Q history --member m1 >"$WORK/h" 2>&1
expect_contains "history names the challenge" "$WORK/h" "挑战答题"
expect_contains "history names the daily quiz" "$WORK/h" "每日答题"
Q points >"$WORK/g" 2>&1
expect_contains "guests earn no points" "$WORK/g" "访客不累计积分"

# Shuffled options: the letters a person is shown are the letters the
# feedback and the wrong-answer book use, with the options' text. Seed 1
# (draw 2) shows 1921年 (the question's own B) as C, and the multiple
# choice's 2 and 4 (its A and C) as A and B.
"$QK" member add m2 --name 李四 --pin 5678 >/dev/null
frozen_at "$T" answer_quiz --plan w --pin 5678 -- "$QK" play --member m2 --theme t --seed 1 --count 0 \
    >"$WORK/sh" 2>&1
expect_contains "seed 1 shows 1921年 under C" "$WORK/sh" "  C. 1921年"
expect_contains "seed 1 shows 1927年 under A" "$WORK/sh" "  A. 1927年"
expect_contains "feedback: the letter shown, with its text" "$WORK/sh" "✗ 回答错误。正确答案：C. 1921年"
expect_contains "feedback: the letters shown, with their text" "$WORK/sh" "✗ 回答错误。正确答案：A. 2；B. 4"
expect_eq "the log keeps the question's own letter (1927年 is its C)" \
    "$(sql "select json_extract(payload,'$.response') from events where kind='answer' and member_id='m2' and json_extract(payload,'$.q')='q1'")" C
printf '5678\n' | Q review --list --member m2 >"$WORK/sb" 2>&1
grep '中国共产党成立于哪一年' "$WORK/sb" >"$WORK/sb1"
expect_contains "book: the answer given as shown" "$WORK/sb1" " A. 1927年 "
expect_contains "book: the right answer as shown" "$WORK/sb1" " C. 1921年 "
grep '哪些是偶数' "$WORK/sb" >"$WORK/sb2"
expect_contains "book: the multiple choice's right answer as shown" "$WORK/sb2" " A. 2；B. 4 "
# The statistics' most chosen wrong answer is the option's text: the log's
# letter C was shown to m2 as A, to another person as another letter.
Q stats questions --local >"$WORK/sq" 2>&1
grep '中国共产党成立于哪一年' "$WORK/sq" >"$WORK/sq1"
expect_contains "most chosen wrong answer as the option's text" "$WORK/sq1" " 1927年 (1) "
# People read a question by its stem: first, where the eye starts; the id last.
expect_eq "the questions table starts with the stem" "$(sed -n 2p "$WORK/sq" | awk '{print $1}')" 题干
expect_eq "and ends with the question's id" "$(sed -n 2p "$WORK/sq" | awk '{print $NF}')" 题目编号
expect_eq "a row starts with its stem" "$(awk '{print $1}' "$WORK/sq1")" "中国共产党成立于哪一年？"
finish
