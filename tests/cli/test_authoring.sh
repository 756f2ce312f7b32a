#!/usr/bin/env bash
# The whole story of a staff member: copy the template, fill questions in a
# spreadsheet saved as GBK, build and sign it, and play it on a device that
# trusts the key; a tampered copy is refused.
. "$(dirname "$0")/lib.sh"
T="$TESTS/../content/templates/题库模板.csv"

# "Fill 20 questions": the template's 4 rows plus 16 more, one with a mistake first.
{
    sed '1s/^\xef\xbb\xbf//; s/\r$//' "$T"
    for i in $(seq 5 20); do
        echo "dj-0$i,判断,第${i}题：党员应当按期交纳党费。,,,,,,,对,党章规定党员要按期交纳党费。,党章党规,1,易,党章,"
    done
    echo "dj-099,单选,写错答案的题,甲,乙,,,,,C,,党章党规,1,,,"
} | sed 's/$/\r/' | iconv -f UTF-8 -t GBK >"$WORK/支部题库.csv"

"$QK" keygen -o "$WORK/支部" >/dev/null
"$QK" bundle build "$WORK/支部题库.csv" -o "$WORK/支部题库.qkb" --key "$WORK/支部.key" >"$WORK/o" 2>&1
expect_eq "a mistake stops the build" "$?" 1
expect_contains "the mistake is named with its row" "$WORK/o" "支部题库.csv:22: error: 题目 dj-099：答案“C”"
expect_eq "nothing written" "$(ls "$WORK" | grep -c '支部题库.qkb')" 0

# Fix the row and build again.
iconv -f GBK -t UTF-8 "$WORK/支部题库.csv" | sed 's/写错答案的题,甲,乙,,,,,C/写对答案的题,甲,乙,,,,,A/' |
    iconv -f UTF-8 -t GBK >"$WORK/fixed.csv" && mv "$WORK/fixed.csv" "$WORK/支部题库.csv"
"$QK" bundle build "$WORK/支部题库.csv" -o "$WORK/支部题库.qkb" --key "$WORK/支部.key" >"$WORK/o" 2>&1
expect_eq "the fixed sheet builds" "$?" 0
expect_contains "21 questions, signed" "$WORK/o" "1 个主题，21 道题"

# A device that trusts the key plays it.
"$QK" trust add "$WORK/支部.pub" >/dev/null
"$QK" bundle install "$WORK/支部题库.qkb" >/dev/null 2>&1
expect_eq "installs on a trusting device" "$?" 0
answers=$(printf 'A\nABC\n对\n18\n'; for i in $(seq 5 20); do echo 对; done; echo A)
printf '%s\n' "$answers" | "$QK" play --theme 党章党规 --order seq --count 0 >"$WORK/play" 2>&1
expect_eq "the quiz runs" "$?" 0
expect_contains "all right" "$WORK/play" "答对：21 / 21 题"

# A tampered copy is refused, on install and when opened directly.
cp "$WORK/支部题库.qkb" "$WORK/copy.qkb"
sqlite3 "$WORK/copy.qkb" "update options set correct = 1 - correct where question_id = 'dj-001'"
"$QK" --data-dir "$WORK/other-device" trust add "$WORK/支部.pub" >/dev/null
"$QK" --data-dir "$WORK/other-device" bundle install "$WORK/copy.qkb" >"$WORK/o" 2>&1
expect_eq "tampered copy refused" "$?" 1
expect_contains "tampered part named" "$WORK/o" "不符的部分：选项与答案"
printf 'A\n' | "$QK" --data-dir "$WORK/other-device" play --bundle "$WORK/copy.qkb" >"$WORK/o" 2>&1
expect_eq "tampered copy cannot be played" "$?" 1
finish
