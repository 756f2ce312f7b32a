#!/usr/bin/env bash
# quizkit play driven through stdin: score, feedback, events in progress.db.
. "$(dirname "$0")/lib.sh"
mini_bundle

# Practice, in order: q1 right, q2 partly right after one unreadable answer,
# q3 right, q4 right in full-width digits, q5 wrong.
printf 'B\nZ\nA\n对\n１９２１年|南湖\nB\n' |
    "$QK" play --bundle test.mini --theme t --order seq --count 0 >"$WORK/out" 2>&1
expect_eq "practice exits 0" "$?" 0
expect_contains "header names theme and mode" "$WORK/out" "测试主题 · 练习 · 共 5 题"
expect_contains "right answer confirmed" "$WORK/out" "✓ 回答正确（+1 分）"
expect_contains "explanation shown in practice" "$WORK/out" "解析：1921年中共一大召开。"
expect_contains "unreadable answer asked again" "$WORK/out" "没有这个选项，请输入 A 到 D 之间的字母。"
expect_contains "partial credit shown, letters with the options' text" "$WORK/out" "◐ 部分正确（+1 分）。正确答案：A. 2；C. 4"
expect_contains "wrong answer shows the right one" "$WORK/out" "✗ 回答错误。正确答案：A. 第一"
expect_contains "final score" "$WORK/out" "得分：5 / 7 分    答对：3 / 5 题"
if iconv -f UTF-8 -t UTF-8 "$WORK/out" >/dev/null 2>&1; then ok "output is valid UTF-8"; else fail "output is not valid UTF-8"; fi
expect_not_contains "no colour codes in a pipe" "$WORK/out" $'\x1b['

expect_eq "one attempt started" "$(sql "select count(*) from events where kind='attempt.start'")" 1
expect_eq "five answers recorded" "$(sql "select count(*) from events where kind='answer'")" 5
expect_eq "unreadable answer not recorded" "$(sql "select count(*) from events where kind='answer' and json_extract(payload,'$.response')='Z'")" 0
expect_eq "finish records the score" "$(sql "select json_extract(payload,'$.score')||'/'||json_extract(payload,'$.max') from events where kind='attempt.finish'")" "500/700"
expect_eq "full-width answer stored as typed blanks" "$(sql "select json_extract(payload,'$.response') from events where kind='answer' and json_extract(payload,'$.q')='q4'")" "1921年|南湖"
expect_eq "sequence numbers have no gaps" "$(sql "select max(seq)-min(seq)+1 = count(*) from events")" 1

# Exam: no per-question verdicts, a review at the end.
printf 'B\nAC\n错\n1921|南湖\nA\n' |
    "$QK" play --bundle test.mini --theme t --order seq --mode exam >"$WORK/exam" 2>&1
expect_eq "exam exits 0" "$?" 0
expect_contains "exam has a time limit" "$WORK/exam" "限时 5 分钟"
expect_not_contains "no verdict during the exam" "$WORK/exam" "回答正确"
expect_contains "exam review at the end" "$WORK/exam" "—— 答题回顾 ——"
expect_contains "review shows the wrong answer" "$WORK/exam" "3. ✗  你的答案：错  正确答案：对"
expect_contains "exam score" "$WORK/exam" "得分：6 / 7 分"

# A theme with no questions is named by its title, never by its id.
cp -r "$TESTS/fixtures/mini" "$WORK/kong"
sed -i 's/"id": "test.mini"/"id": "test.kong"/; s/{"id": "u", "title": "另一个主题"}/{"id": "u", "title": "另一个主题"}, {"id": "kong", "title": "空主题"}/' "$WORK/kong/bundle.json"
"$QK" bundle build "$WORK/kong" -o "$WORK/kong.qkb" --key "$WORK/pub.key" --quiet >/dev/null 2>&1
"$QK" play --bundle "$WORK/kong.qkb" --theme 空主题 >"$WORK/kong.out" 2>&1
expect_eq "a theme with no questions exits 1" "$?" 1
expect_contains "and is named by its title" "$WORK/kong.out" "主题“空主题”中没有题目"

# Blanks as people separate them: a space, a full-width colon or comma.
printf 'B\nAC\n对\n1921 南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq >"$WORK/sp" 2>&1
expect_contains "blanks separated by a space" "$WORK/sp" "得分：7 / 7 分"
printf 'B\nAC\n对\n1921：南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq >"$WORK/sp" 2>&1
expect_contains "blanks separated by a full-width colon" "$WORK/sp" "得分：7 / 7 分"
printf 'B\nAC\n对\n1921\n1921，南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq >"$WORK/sp" 2>&1
expect_contains "one blank for two: the ways to separate them are said" "$WORK/sp" "这道题有 2 个空，请用 | 分隔各空的答案（也可用空格、冒号或逗号，如 30:2）。"
expect_contains "then a full-width comma separates them" "$WORK/sp" "得分：7 / 7 分"

# English interface.
printf 'B\nAC\nT\n1921|南湖\nA\n' |
    "$QK" --lang en play --bundle test.mini --theme t --order seq >"$WORK/en" 2>&1
expect_contains "English interface" "$WORK/en" "Score: 7 / 7    Right: 5 / 5"
LANG=en_US.UTF-8 "$QK" play --help >"$WORK/help"
expect_contains "English locale picks English" "$WORK/help" "usage: quizkit play"

# The theme menu: numbers past the list are refused and asked again (not
# taken as 全部主题); --theme takes the menu's number too; a --theme that is
# no theme lists the ones there are.
printf '7\n99\n0\n1\nB\n' | "$QK" play --bundle test.mini --count 1 --order seq >"$WORK/menu" 2>&1
expect_eq "menu: exits 0" "$?" 0
expect_eq "menu: 7, 99 and 0 are each refused and asked again" "$(grep -c '请输入 1 到 3 之间的编号。' "$WORK/menu")" 3
expect_contains "menu: then 1 plays the first theme" "$WORK/menu" "测试主题 · 练习 · 共 1 题"
expect_not_contains "menu: never all themes" "$WORK/menu" "全部主题 · 练习"
printf 'B\n' | "$QK" play --bundle test.mini --theme 1 --count 1 --order seq >"$WORK/t1" 2>&1
expect_eq "--theme 1 exits 0" "$?" 0
expect_contains "--theme 1 is the menu's first theme" "$WORK/t1" "测试主题 · 练习 · 共 1 题"
printf '对\n' | "$QK" play --bundle test.mini --theme 3 --count 1 --order seq >"$WORK/t3" 2>&1
expect_contains "--theme 3 is the menu's all themes" "$WORK/t3" "全部主题 · 练习 · 共 1 题"
"$QK" play --bundle test.mini --theme 九 >"$WORK/tbad" 2>&1
expect_eq "an unknown --theme is a usage error" "$?" 2
expect_contains "an unknown --theme is named" "$WORK/tbad" "--theme 的值无效：九"
expect_contains "and the themes are listed" "$WORK/tbad" " 1. 测试主题（5 题）"
expect_contains "with all themes" "$WORK/tbad" " 3. 全部主题（6 题）"
"$QK" play --bundle test.mini --theme 4 >"$WORK/t4" 2>&1
expect_eq "--theme past the list is a usage error" "$?" 2
expect_contains "and lists the themes" "$WORK/t4" " 2. 另一个主题（1 题）"

# Theme chosen from the list by number (a themed day's theme comes first on
# its day, so the number is read from the list); the sample bundle is
# installed on first use.
rm -rf "$QUIZKIT_HOME"
QUIZKIT_SAMPLE_BUNDLE="$SAMPLE" answer_quiz --theme ". 3·5 学雷锋纪念日" -- "$QK" play --count 3 --order seq >"$WORK/sample" 2>&1
expect_eq "sample quiz exits 0" "$?" 0
expect_contains "theme list shown" "$WORK/sample" ". 3·5 学雷锋纪念日"
expect_contains "sample installed on first use" "$WORK/sample" "已安装示例题库"
expect_contains "the theme chosen is played" "$WORK/sample" "3·5 学雷锋纪念日 · 练习 · 共 3 题"
expect_contains "sample quiz scored" "$WORK/sample" "得分：3 / 3 分    答对：3 / 3 题"
expect_eq "sample attempt recorded with its bundle" "$(sql "select bundle_id||' '||(bundle_version<>'') from events where kind='attempt.finish'")" "cn.quizkit.samples 1"
finish
