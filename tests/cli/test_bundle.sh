#!/usr/bin/env bash
# quizkit bundle build|info|install|list.
. "$(dirname "$0")/lib.sh"

"$QK" bundle info "$SAMPLE" >"$WORK/info" 2>&1
expect_eq "info on the sample exits 0" "$?" 0
expect_contains "sample has 64 questions" "$WORK/info" "64"
expect_contains "sample themes listed" "$WORK/info" "七一建党节·党史与党章"
expect_contains "info verifies" "$WORK/info" "校验通过"

"$QK" bundle build "$TESTS/fixtures/broken" -o "$WORK/broken.qkb" >"$WORK/b" 2>&1
expect_eq "build with errors exits 1" "$?" 1
expect_contains "bad letter reported at its line" "$WORK/b" "broken/q.json:4: error: 题目 b1："
expect_contains "two answers for single reported" "$WORK/b" "broken/q.json:6: error: 题目 b3：单选题答案应为一个字母"
expect_contains "failure summary" "$WORK/b" "生成失败：2 个错误"
expect_eq "no output file after errors" "$(ls "$WORK" | grep -c broken.qkb)" 0

"$QK" bundle build "$WORK/nowhere" -o "$WORK/x.qkb" >"$WORK/n" 2>&1
expect_eq "missing source folder exits 2" "$?" 2
"$QK" bundle build "$TESTS/fixtures/mini" >"$WORK/n" 2>&1
expect_eq "missing -o exits 2" "$?" 2

SOURCE_DATE_EPOCH=1700000000 "$QK" bundle build "$TESTS/fixtures/mini" -o "$WORK/a.qkb" --quiet
SOURCE_DATE_EPOCH=1700000000 "$QK" bundle build "$TESTS/fixtures/mini" -o "$WORK/b.qkb" --quiet
da=$("$QK" --lang en bundle info "$WORK/a.qkb" | grep 'digest')
db=$("$QK" --lang en bundle info "$WORK/b.qkb" | grep 'digest')
expect_eq "same sources give the same digest" "$da" "$db"

"$QK" bundle list >"$WORK/l0"
expect_contains "nothing installed yet" "$WORK/l0" "没有已安装的题库包"
"$QK" bundle install "$WORK/a.qkb" >"$WORK/i" 2>&1
expect_contains "install confirms" "$WORK/i" "已安装：test.mini 版本 1"
"$QK" bundle list >"$WORK/l1"
expect_contains "list shows the bundle" "$WORK/l1" "端到端测试题库"
finish
