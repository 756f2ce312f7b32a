#!/usr/bin/env bash
# Lessons in the terminal, and the issue's whole day: today's quiz, a scenario
# lesson with a wrong turn and then the right one, the wrong-answer book, and
# today's points against each cap, all without a network.
. "$(dirname "$0")/lib.sh"
export QUIZKIT_SAMPLE_BUNDLE="$SAMPLE"
"$QK" member add 2001 --name 王护士 --branch 护理支部 --pin 2468 >/dev/null 2>&1

"$QK" lesson list >"$WORK/l" 2>&1
expect_eq "lesson list exits 0" "$?" 0
expect_contains "the scenario lesson is listed" "$WORK/l" "情景党课：值班时遇到需要帮助的居民"
expect_contains "kinds shown" "$WORK/l" "故事"

# The day's story happens within one day: the clock stands still from the
# daily quiz to the points, wherever the run's clock is (at 23:59:59 the
# points would otherwise land on two days).
T=$(clock_now)
Q() { frozen_at "$T" "$QK" "$@"; }

# Today's five questions, whichever they are today: the first missed, the rest right.
frozen_at "$T" answer_quiz --pin 2468 --plan wr -- "$QK" play --mode daily --member 2001 >"$WORK/d" 2>&1
expect_eq "today's quiz exits 0" "$?" 0
expect_contains "today's quiz has five questions" "$WORK/d" "每日答题 · 共 5 题"
expect_contains "four of them right" "$WORK/d" "答对：4 / 5 题"

# The scenario: take the wrong turn (blood pressure only), then call 120;
# a choice past the list (5, 0) is asked again, not the end of the lesson.
printf '2468\n\n5\n0\n2\n\n1\n\nABD\n' | Q lesson start lesson-duty-scenario --member 2001 >"$WORK/s" 2>&1
expect_eq "lesson exits 0" "$?" 0
expect_eq "5 and 0 are each asked again" "$(grep -c '^请输入 1 到 3 之间的编号。' "$WORK/s")" 2
expect_contains "the wrong turn's consequence is shown" "$WORK/s" "这时你注意到他的嘴角有些歪"
expect_contains "the checkpoint is answered" "$WORK/s" "✓ 回答正确（+2 分）"
expect_contains "the lesson ends with its score" "$WORK/s" "本课得分：3"
expect_contains "the lesson is completed" "$WORK/s" "已完成本课"

# Kill-safe: leave a lesson half way and resume it.
printf '2468\n\n2\n' | Q lesson start lesson-duty-scenario --member 2001 >"$WORK/h" 2>&1
expect_eq "input ending mid-lesson exits 3" "$?" 3
expect_contains "says how to resume" "$WORK/h" "quizkit lesson resume lesson-duty-scenario --member 2001"
printf '2468\n\n1\n\nABD\n' | Q lesson resume lesson-duty-scenario --member 2001 >"$WORK/r" 2>&1
expect_eq "resume exits 0" "$?" 0
expect_not_contains "resume does not start over" "$WORK/r" "你首先怎么做？"
expect_contains "resume reaches the end" "$WORK/r" "本课结束"

# The wrong-answer book holds what was missed in today's quiz.
printf '2468\n' | Q review --list --member 2001 >"$WORK/w" 2>&1
expect_not_contains "the book is not empty" "$WORK/w" "错题本是空的"
expect_contains "it holds the question missed" "$WORK/w" "$(sed -n '/^第 1\/5 题/{n;p;q}' "$WORK/d" | cut -c1-12)"
expect_contains "the book has its columns" "$WORK/w" "你的答案"

# Today's points against each cap.
printf '2468\n' | Q points --member 2001 >"$WORK/p" 2>&1
expect_contains "lesson points, once" "$WORK/p" "学习党课  2         6"
expect_contains "daily quiz: a point a right answer, within its cap" "$WORK/p" "每日答题  4         5"
expect_contains "streak" "$WORK/p" "已连续学习 1 天"

# Markdown shown readably, in a pipe: headings, lists, images named.
printf '\n\n\n\n\n' | "$QK" lesson start lesson-leifeng-story >"$WORK/st" 2>&1
expect_contains "heading rendered" "$WORK/st" "【从望城走出来的孩子】"
expect_contains "list rendered" "$WORK/st" "  • 一个人的作用"
expect_contains "bold rendered as text" "$WORK/st" "原名雷正兴。"
"$QK" lesson start no-such-lesson >"$WORK/n" 2>&1
expect_eq "unknown lesson exits 1" "$?" 1
expect_contains "unknown lesson named" "$WORK/n" "没有党课 no-such-lesson"
# A second installed bundle (its id sorts first, so it is the default) does
# not hide the first: lesson list shows every bundle's lessons, lesson start
# finds the lesson in its bundle, and play says which bundle it uses and how
# to choose another.
test_key
cp -r "$TESTS/fixtures/mini" "$WORK/extra"
sed -i 's/"id": "test.mini"/"id": "a.extra"/; s/端到端测试题库/第二个题库/' "$WORK/extra/bundle.json"
"$QK" bundle build "$WORK/extra" -o "$WORK/extra.qkb" --key "$WORK/pub.key" --quiet >/dev/null 2>&1
"$QK" bundle install "$WORK/extra.qkb" >/dev/null 2>&1 || fail "install a second bundle"
"$QK" lesson list >"$WORK/l2" 2>&1
expect_contains "the sample's lessons are still listed" "$WORK/l2" "情景党课：值班时遇到需要帮助的居民"
printf '\n' | "$QK" lesson start lesson-duty-scenario >"$WORK/l3" 2>&1
expect_contains "a lesson starts from the bundle that has it" "$WORK/l3" "你首先怎么做？"
printf '1\n对\n' | "$QK" play --count 1 --order seq >"$WORK/p2" 2>&1
expect_contains "play says which bundle it uses" "$WORK/p2" "已安装 2 个题库，现在使用“第二个题库”（a.extra）。选择其他题库："
expect_contains "and how to choose the other" "$WORK/p2" "--bundle cn.quizkit.samples   quizkit 示例题库"
finish
