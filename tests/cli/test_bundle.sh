#!/usr/bin/env bash
# quizkit bundle build|check|info|verify|install|list|diff, keygen and trust.
. "$(dirname "$0")/lib.sh"
F="$TESTS/fixtures"

"$QK" bundle info "$SAMPLE" >"$WORK/info" 2>&1
expect_eq "info on the sample exits 0" "$?" 0
expect_contains "sample themes listed" "$WORK/info" "七一建党节·党史与党章"
expect_contains "info verifies" "$WORK/info" "校验通过"
expect_contains "sample is signed" "$WORK/info" "已签名（密钥"

# --- building and checking ---
"$QK" bundle build "$F/broken" -o "$WORK/broken.qkb" >"$WORK/b" 2>&1
expect_eq "build with errors exits 1" "$?" 1
expect_contains "bad letter reported at its line" "$WORK/b" "broken/q.json:4: error: 题目 b1："
expect_contains "two answers for single reported" "$WORK/b" "broken/q.json:6: error: 题目 b3：单选题答案应为一个字母"
expect_contains "failure summary" "$WORK/b" "生成失败：2 个错误"
expect_eq "no output file after errors" "$(ls "$WORK" | grep -c broken.qkb)" 0
"$QK" bundle check "$F/csv/bad.csv" >"$WORK/c" 2>&1
expect_eq "check with errors exits 1" "$?" 1
expect_contains "CSV error names the row and the stem" "$WORK/c" "bad.csv:2: error: 题目 “没有E选项”"
expect_contains "CSV duplicate reported" "$WORK/c" "bad.csv:9: error:"
expect_contains "a copy with another answer names the first and both answers" "$WORK/c" "bad.csv:8 的题目题干和选项相同，但答案不同（那里是 A，这里是 B）"
# Copies (issue 16): how they match is said, both lines are named; with
# --skip-duplicates a true copy is left out with a warning, never one whose
# answer differs; everything in line order.
printf '题型,题干,选项A,选项B,答案\n单选,下列说法正确的是：,甲,乙,A\n单选,第二题,丙,丁,A\n单选,下列说法 正确的是:,甲,乙,A\n单选,第二题,丙,丁,A\n单选,第二题,丙,丁,B\n单选,坏,甲,乙,E\n' >"$WORK/dups.csv"
"$QK" bundle check "$WORK/dups.csv" >"$WORK/c" 2>&1
expect_eq "copies are errors" "$?" 1
expect_contains "one that differs in spacing and punctuation is said to" "$WORK/c" "dups.csv:4: error: 题目 “下列说法 正确的是:”：与题目 “下列说法正确的是：”（$WORK/dups.csv:2）重复（题干和选项只差空格、标点、大小写或全角半角）；如要跳过重复的题，用 --skip-duplicates"
expect_contains "an exact copy is said to be one" "$WORK/c" "dups.csv:5: error: 题目 “第二题”：与题目 “第二题”（$WORK/dups.csv:3）重复（题干和选项完全相同）"
expect_eq "in line order" "$(grep -o 'dups.csv:[0-9]*: error' "$WORK/c" | cut -d: -f2 | tr '\n' ' ')" "4 5 6 7 "
"$QK" bundle check "$WORK/dups.csv" --skip-duplicates >"$WORK/c" 2>&1
expect_contains "--skip-duplicates leaves a copy out, naming both lines" "$WORK/c" "dups.csv:4: warning: 题目 “下列说法 正确的是:”：与 $WORK/dups.csv:2 的题目重复（题干和选项只差空格、标点、大小写或全角半角），已跳过"
expect_contains "but not a copy whose answer differs" "$WORK/c" "dups.csv:6: error: 题目 “第二题”：与 $WORK/dups.csv:3 的题目题干和选项相同，但答案不同（那里是 A，这里是 B）"
expect_contains "and the other errors stay" "$WORK/c" "检查发现 2 个错误"
# Every error at once: a duplicate id is named although the first question
# with it has an error of its own (not only once that one is fixed).
printf '编号,题型,题干,选项A,选项B,答案\nx1,单选,第一题,甲,乙,E\nx1,单选,第二题,丙,丁,B\nx2,单选,第三题,甲,乙,A\nx2,单选,第四题,丙,丁,\n' >"$WORK/dupid.csv"
"$QK" bundle check "$WORK/dupid.csv" >"$WORK/c" 2>&1
expect_eq "duplicate ids: check exits 1" "$?" 1
expect_contains "the first one's own error" "$WORK/c" "dupid.csv:2: error: 题目 x1：答案“E”"
expect_contains "the duplicate of a refused question, at once" "$WORK/c" "dupid.csv:3: error: 题目 x1：题目编号重复：$WORK/dupid.csv:2 已用过这个编号"
expect_contains "a refused question whose id is taken" "$WORK/c" "dupid.csv:5: error: 题目 x2：题目编号重复：$WORK/dupid.csv:4 已用过这个编号"
expect_contains "all four errors counted" "$WORK/c" "检查发现 4 个错误"
"$QK" --lang en bundle check "$F/csv/good.csv" >"$WORK/c" 2>&1
expect_eq "check of a good file exits 0" "$?" 0
expect_contains "unknown column is a warning" "$WORK/c" "good.csv:1:10: warning: unknown column"
expect_contains "check counts" "$WORK/c" "checked: themes 2, questions 5, lessons 0, no errors"
"$QK" bundle build "$WORK/nowhere" -o "$WORK/x.qkb" >"$WORK/n" 2>&1
expect_eq "missing source exits 2" "$?" 2
"$QK" bundle build "$F/mini" >"$WORK/n" 2>&1
expect_eq "missing -o exits 2" "$?" 2

SOURCE_DATE_EPOCH=1700000000 "$QK" bundle build "$F/mini" -o "$WORK/a.qkb" --quiet
SOURCE_DATE_EPOCH=1700000000 "$QK" bundle build "$F/mini" -o "$WORK/b.qkb" --quiet
da=$("$QK" --lang en bundle info "$WORK/a.qkb" | grep 'digest')
db=$("$QK" --lang en bundle info "$WORK/b.qkb" | grep 'digest')
expect_eq "same sources give the same digest" "$da" "$db"

# --- keys, signatures, trust ---
"$QK" keygen -o "$WORK/pub" >"$WORK/k" 2>&1
expect_eq "keygen exits 0" "$?" 0
expect_eq "private key is mode 600" "$(stat -c %a "$WORK/pub.key")" 600
kid=$(sed -n 's/^已生成密钥 \([0-9a-f]*\)$/\1/p' "$WORK/k")
expect_eq "keygen prints a 16-hex key id" "${#kid}" 16
"$QK" keygen -o "$WORK/pub" >"$WORK/k2" 2>&1
expect_eq "keygen never overwrites" "$?" 1
"$QK" keygen -o "$WORK/other" >/dev/null

"$QK" bundle build "$F/mini" -o "$WORK/mini.qkb" --key "$WORK/pub.pub" >"$WORK/k3" 2>&1
expect_eq "a public key cannot sign" "$?" 2
"$QK" bundle build "$F/mini" -o "$WORK/mini.qkb" --key "$WORK/pub.key" >"$WORK/s" 2>&1
expect_contains "build says it signed" "$WORK/s" "已用密钥 $kid 签名"
expect_eq "a built bundle is readable by others (for distribution)" "$(umask 022; "$QK" bundle build "$F/mini" -o "$WORK/perm.qkb" --quiet; stat -c %a "$WORK/perm.qkb")" 644
"$QK" bundle verify "$WORK/mini.qkb" --trust "$WORK/pub.pub" >"$WORK/v" 2>&1
expect_eq "verify with the right key exits 0" "$?" 0
"$QK" bundle verify "$WORK/mini.qkb" --trust "$WORK/other.pub" >"$WORK/v" 2>&1
expect_eq "verify with another key exits 1" "$?" 1
expect_contains "verify names the signer" "$WORK/v" "由密钥 $kid 签名，但该密钥不在信任列表中"

"$QK" bundle install "$WORK/a.qkb" >"$WORK/i" 2>&1
expect_eq "unsigned bundle refused" "$?" 1
expect_contains "unsigned explained" "$WORK/i" "未签名"
expect_contains "with what helps: signing it" "$WORK/i" "请发布者用 quizkit bundle build … --key 私钥 签名"
expect_not_contains "not trusting a key, which cannot" "$WORK/i" "quizkit trust add"
"$QK" bundle install "$WORK/mini.qkb" >"$WORK/i" 2>&1
expect_eq "untrusted signer refused" "$?" 1
expect_contains "untrusted explained" "$WORK/i" "不在信任列表中"
expect_contains "hint how to trust" "$WORK/i" "quizkit trust add"
"$QK" --allow-untrusted bundle install "$WORK/a.qkb" >"$WORK/i" 2>&1
expect_eq "--allow-untrusted installs" "$?" 0
expect_contains "--allow-untrusted warns" "$WORK/i" "仅供开发测试"
rm -rf "$QUIZKIT_HOME/bundles"

"$QK" trust add "$WORK/pub.pub" >"$WORK/t" 2>&1
expect_contains "trust add confirms" "$WORK/t" "已信任密钥 $kid"
"$QK" trust list >"$WORK/t"
expect_contains "trust list shows the key" "$WORK/t" "$kid"
"$QK" bundle install "$WORK/mini.qkb" >"$WORK/i" 2>&1
expect_contains "trusted bundle installs" "$WORK/i" "已安装：test.mini 版本 1"
"$QK" bundle list >"$WORK/l1"
expect_contains "list shows the bundle" "$WORK/l1" "端到端测试题库"

# Tampering: each part of the content, and the manifest, is named when it fails.
tamper() { cp "$WORK/mini.qkb" "$WORK/t.qkb"; sqlite3 "$WORK/t.qkb" "$1"; "$QK" bundle install "$WORK/t.qkb" >"$WORK/o" 2>&1; echo $?; }
expect_eq "changed stem refused" "$(tamper "update questions set stem='改' where id='q1'")" 1
expect_contains "changed stem named" "$WORK/o" "不符的部分：题目"
expect_eq "changed answer key refused" "$(tamper "update options set correct=1-correct where question_id='q1'")" 1
expect_contains "changed answer key named" "$WORK/o" "不符的部分：选项与答案"
expect_eq "changed option order refused" "$(tamper "update options set idx=idx+10 where question_id='q5'")" 1
expect_contains "changed option order named" "$WORK/o" "选项与答案"
expect_eq "changed fill answer refused" "$(tamper "update blanks set accepted='上海' where question_id='q4' and blank=1")" 1
expect_contains "changed fill answer named" "$WORK/o" "填空答案"
expect_eq "added media refused" "$(tamper "insert into media values('x.png','image/png',x'89504e47')")" 1
expect_contains "added media named" "$WORK/o" "媒体文件"
expect_eq "changed manifest refused" "$(tamper "update manifest set value='别的标题' where key='title'")" 1
expect_contains "changed manifest named" "$WORK/o" "清单"
expect_eq "changed version refused" "$(tamper "update manifest set value='2' where key='version'")" 1
# A forged bundle: content changed and every digest recomputed by rebuilding with another key.
"$QK" bundle build "$F/mini" -o "$WORK/forged.qkb" --key "$WORK/other.key" --quiet
"$QK" bundle install "$WORK/forged.qkb" >"$WORK/o" 2>&1
expect_eq "bundle signed by an unknown key refused" "$?" 1

# Versions: no downgrade, no second content under one version.
sed 's/"version": "1"/"version": "2"/' "$F/mini/bundle.json" >"$WORK/bundle.json"
mkdir -p "$WORK/v2" && cp "$WORK/bundle.json" "$F/mini/q.json" "$WORK/v2/"
"$QK" bundle build "$WORK/v2" -o "$WORK/v2.qkb" --key "$WORK/pub.key" --quiet
"$QK" bundle install "$WORK/v2.qkb" >"$WORK/o" 2>&1
expect_eq "newer version installs" "$?" 0
"$QK" bundle install "$WORK/mini.qkb" >"$WORK/o" 2>&1
expect_eq "older version refused" "$?" 1
expect_contains "downgrade explained" "$WORK/o" "拒绝降级"
sed -i 's/选第一个。/选第一个！/' "$WORK/v2/q.json"
"$QK" bundle build "$WORK/v2" -o "$WORK/v2b.qkb" --key "$WORK/pub.key" --quiet
"$QK" bundle install "$WORK/v2b.qkb" >"$WORK/o" 2>&1
expect_eq "same version, other content refused" "$?" 1
expect_contains "same version explained" "$WORK/o" "同一版本号不能对应不同内容"

# A bundle changed after it was installed is refused when opened.
sqlite3 "$QUIZKIT_HOME/bundles/test.mini.qkb" "update options set correct=1-correct where question_id='q1'"
printf 'B\n' | "$QK" play --theme t >"$WORK/o" 2>&1
expect_eq "tampered installed bundle refused by play" "$?" 1
# Played once, an installed bundle is remembered as verified (bundles/.verified)
# and not read in full at the next start; changed after that, even with its
# modification time put back, it is refused at the next start.
cp "$WORK/v2.qkb" "$QUIZKIT_HOME/bundles/test.mini.qkb"
# a file changed within 2 s of its verification is not remembered: wait until
# the real clock (file times') is past that for the copy
ready=$(stat -c '%.3Z' "$QUIZKIT_HOME/bundles/test.mini.qkb" | awk '{ printf "%.0f", $1 * 1000 + 2010 }')
while [ "$(date +%s%3N)" -le "$ready" ]; do sleep 0.05; done
printf 'B\n' | "$QK" play --theme t --count 1 --order seq >"$WORK/o" 2>&1
expect_eq "good copy plays again" "$?" 0
expect_eq "played bundle remembered" "$(grep -c '^qkv2 ' "$QUIZKIT_HOME/bundles/.verified")" 1
printf 'B\n' | "$QK" play --theme t --count 1 --order seq >"$WORK/o" 2>&1
expect_eq "remembered bundle plays" "$?" 0
touch -r "$QUIZKIT_HOME/bundles/test.mini.qkb" "$WORK/when"
sqlite3 "$QUIZKIT_HOME/bundles/test.mini.qkb" "update options set correct=1-correct where question_id='q1'"
touch -r "$WORK/when" "$QUIZKIT_HOME/bundles/test.mini.qkb"
printf 'B\n' | "$QK" play --theme t --count 1 --order seq >"$WORK/o" 2>&1
expect_eq "remembered bundle changed since (its time put back) refused by play" "$?" 1
expect_contains "the change is named" "$WORK/o" "选项与答案"

"$QK" trust remove "$kid" >"$WORK/t" 2>&1
expect_contains "trust remove confirms" "$WORK/t" "已不再信任密钥 $kid"
"$QK" trust remove 0123456789abcdef >"$WORK/t" 2>&1
expect_eq "removing an unknown key exits 1" "$?" 1

# diff
"$QK" bundle diff "$WORK/v2.qkb" "$WORK/v2b.qkb" >"$WORK/d" 2>&1
expect_contains "diff shows the changed stem" "$WORK/d" "~ 修改  q5  stem"
expect_contains "diff summary" "$WORK/d" "新增 0 题，删除 0 题，修改 1 题"

# Single files of every format, GBK included.
sed '1s/^\xef\xbb\xbf//' "$F/csv/good.csv" | iconv -f UTF-8 -t GBK >"$WORK/题库.csv"
"$QK" bundle build "$WORK/题库.csv" -o "$WORK/gbk.qkb" --key "$WORK/pub.key" >"$WORK/o" 2>&1
expect_eq "GBK spreadsheet builds" "$?" 0
expect_eq "GBK text converted" "$(sqlite3 "$WORK/gbk.qkb" "select count(*) from questions where stem like '%中国共产党%'")" 1
expect_eq "title from the file name" "$(sqlite3 "$WORK/gbk.qkb" "select value from manifest where key='title'")" "题库"
for f in "$F/gift/good.gift" "$F/aiken/good.txt" "$F/csv/template.csv"; do
    "$QK" bundle build "$f" -o "$WORK/one.qkb" --quiet >"$WORK/o" 2>&1
    expect_eq "single file $(basename "$f") builds" "$?" 0
done
# The sample content: every question says why its answer is right (issue 15:
# the questions written in GIFT had none), in every theme.
expect_eq "the samples hold 200 questions or more" \
    "$(sqlite3 "$SAMPLE" "select count(*) >= 200 from questions")" 1
expect_eq "every sample question explains its answer" \
    "$(sqlite3 "$SAMPLE" "select group_concat(id) from questions where coalesce(trim(explanation), '') = ''")" ""
finish
