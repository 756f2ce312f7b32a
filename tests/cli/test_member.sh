#!/usr/bin/env bash
# Local members: add, list, PIN login, lockout after 5 wrong PINs, passwd, history.
. "$(dirname "$0")/lib.sh"
mini_bundle

"$QK" member add 1001 --name 李晓红 --branch 护理支部 --pin 2468 >"$WORK/add" 2>&1
expect_eq "member add exits 0" "$?" 0
expect_contains "member add confirms" "$WORK/add" "已添加成员 1001（李晓红）"
printf '1357\n' | "$QK" member add 1002 --name Tom --branch 医务支部 >/dev/null 2>&1
expect_eq "PIN read from stdin" "$?" 0
"$QK" member add 1001 --name 重复 --pin 1111 >"$WORK/dup" 2>&1
expect_eq "duplicate id exits 1" "$?" 1
expect_contains "duplicate id explained" "$WORK/dup" "成员编号 1001 已存在"
"$QK" member add 1003 --name 王 --pin 12 >"$WORK/short" 2>&1
expect_eq "short PIN exits 1" "$?" 1
expect_contains "short PIN explained" "$WORK/short" "PIN 必须是 4 到 12 位数字"

"$QK" member list >"$WORK/list"
# Columns line up by display width: the branch column starts at the same column
# on every row although the names differ in bytes.
col() { python3 -c "import sys,unicodedata as u
line=sys.argv[1]; i=line.index(sys.argv[2])
print(sum(2 if u.east_asian_width(c) in 'WF' else 1 for c in line[:i]))" "$1" "$2"; }
c1=$(col "$(grep 1001 "$WORK/list")" "护理支部")
c2=$(col "$(grep 1002 "$WORK/list")" "医务支部")
expect_eq "member list aligned by display width" "$c1" "$c2"

printf '2468\n对\n' | "$QK" play --bundle test.mini --theme u --member 1001 >"$WORK/play" 2>&1
expect_eq "play as member exits 0" "$?" 0
expect_contains "member greeted" "$WORK/play" "李晓红，你好！"

for i in 1 2 3 4; do
    printf '0000\n' | "$QK" play --bundle test.mini --theme u --member 1001 >"$WORK/wrong$i" 2>&1
done
expect_contains "wrong PIN counts down" "$WORK/wrong4" "PIN 错误，还可尝试 1 次"
printf '0000\n' | "$QK" play --bundle test.mini --theme u --member 1001 >"$WORK/lock" 2>&1
expect_eq "fifth wrong PIN exits 1" "$?" 1
expect_contains "fifth wrong PIN locks" "$WORK/lock" "成员 1001 已被锁定，请 5 分 0 秒后再试"
printf '2468\nA\n' | "$QK" play --bundle test.mini --theme u --member 1001 >"$WORK/locked" 2>&1
expect_eq "right PIN refused while locked" "$?" 1
expect_contains "locked message" "$WORK/locked" "已被锁定"
expect_eq "no attempt started while locked" "$(sql "select count(*) from events where kind='attempt.start' and member_id='1001'")" 1

"$QK" member list >"$WORK/list2"
expect_contains "list shows the lock" "$WORK/list2" "锁定中"
"$QK" member passwd 1001 --pin 9753 >"$WORK/pw" 2>&1
expect_contains "passwd confirms" "$WORK/pw" "已为 1001 设置新 PIN"
printf '9753\n对\n' | "$QK" play --bundle test.mini --theme u --member 1001 >"$WORK/after" 2>&1
expect_eq "new PIN works and unlocks" "$?" 0

printf '9753\n' | "$QK" history --member 1001 >"$WORK/hist" 2>&1
expect_eq "member history lists two attempts" "$(grep -c '另一个主题' "$WORK/hist")" 2
printf '1111\n' | "$QK" history --member 9999 >"$WORK/nohist" 2>&1
expect_eq "unknown member history exits 1" "$?" 1
expect_contains "unknown member named" "$WORK/nohist" "没有成员 9999"
# A member's records (history, points, the wrong-answer book) are shown only
# after the member's PIN, typed at a terminal as play asks it (not echoed);
# a wrong PIN shows nothing, and counts towards the lock like play's.
printf '9753\nA\n' | "$QK" play --bundle test.mini --theme t --order seq --count 1 --member 1001 >/dev/null 2>&1
PTY() { python3 "$TESTS/cli/pty_run.py" --transcript "$WORK/$1" "请输入 李晓红 的 PIN：=>$2" -- "${@:3}"; }
PTY pty-hist 9753 "$QK" history --member 1001
expect_eq "history with the PIN typed exits 0" "$?" 0
expect_contains "history asks for the PIN" "$WORK/pty-hist" "请输入 李晓红 的 PIN："
expect_contains "history greets the member" "$WORK/pty-hist" "李晓红，你好！"
expect_contains "history shows the records" "$WORK/pty-hist" "另一个主题"
expect_not_contains "the typed PIN is not on the screen" "$WORK/pty-hist" "9753"
PTY pty-points 9753 "$QK" points --member 1001
expect_eq "points with the PIN typed exits 0" "$?" 0
expect_contains "points asks for the PIN" "$WORK/pty-points" "请输入 李晓红 的 PIN："
expect_contains "points shows the points" "$WORK/pty-points" "每日上限"
PTY pty-book 9753 "$QK" review --list --member 1001
expect_eq "the wrong-answer book with the PIN typed exits 0" "$?" 0
expect_contains "the book asks for the PIN" "$WORK/pty-book" "请输入 李晓红 的 PIN："
expect_contains "the book shows the missed question" "$WORK/pty-book" "中国共产党成立于哪一年"
# A wrong PIN at a terminal is asked again, as play does.
python3 "$TESTS/cli/pty_run.py" --transcript "$WORK/pty-again" "PIN：=>0000" "PIN：=>9753" -- \
    "$QK" review --list --member 1001
expect_contains "a wrong PIN typed is refused" "$WORK/pty-again" "PIN 错误，还可尝试 4 次"
expect_contains "and asked again" "$WORK/pty-again" "中国共产党成立于哪一年"
for cmd in history points "review --list"; do
    # shellcheck disable=SC2086  # the command's words
    printf '0000\n' | "$QK" $cmd --member 1001 >"$WORK/nopin" 2>&1
    expect_eq "$cmd: a wrong PIN exits 1" "$?" 1
    expect_contains "$cmd: a wrong PIN is refused" "$WORK/nopin" "PIN 错误"
    expect_not_contains "$cmd: a wrong PIN shows no records" "$WORK/nopin" "另一个主题"
    expect_not_contains "$cmd: a wrong PIN shows no book" "$WORK/nopin" "中国共产党成立于哪一年"
    expect_not_contains "$cmd: a wrong PIN shows no points" "$WORK/nopin" "每日上限"
    "$QK" $cmd --member 1001 </dev/null >"$WORK/nopin" 2>&1
    expect_eq "$cmd: no PIN at all exits 1" "$?" 1
    expect_not_contains "$cmd: no PIN shows no records" "$WORK/nopin" "另一个主题"
done
# three wrong in a row above; the fourth and fifth lock the member
printf '0000\n' | "$QK" history --member 1001 >/dev/null 2>&1
printf '0000\n' | "$QK" review --list --member 1001 >/dev/null 2>&1
printf '9753\n' | "$QK" points --member 1001 >"$WORK/lock2" 2>&1
expect_eq "the lock holds for points too" "$?" 1
expect_contains "the lock is named" "$WORK/lock2" "已被锁定"
expect_not_contains "a locked member's points stay hidden" "$WORK/lock2" "每日上限"
"$QK" member passwd 1001 --pin 9753 >/dev/null 2>&1

# Member ids compare without regard to case (the kiosk's keypad types A12,
# a person may type a12): what the terminal then records and reads is the
# member's own id, A12, as added.
"$QK" member add A12 --name 王医生 --pin 1357 >/dev/null 2>&1
printf '1357\n对\n' | "$QK" play --bundle test.mini --theme u --member a12 >"$WORK/lower" 2>&1
expect_contains "a12 signs in as A12" "$WORK/lower" "王医生，你好！"
expect_eq "and the quiz is recorded as A12's" \
    "$(sql "select group_concat(distinct member_id) from events where kind in ('attempt.start','answer','attempt.finish') and lower(member_id)='a12'")" A12
printf '1357\n' | "$QK" history --member a12 >"$WORK/hist_lower" 2>&1
printf '1111\n' | "$QK" member add a12 --name 别人 >"$WORK/taken" 2>&1
expect_eq "a12 cannot be added beside A12" "$?" 1
expect_contains "which says so naming A12, before asking for a PIN" "$WORK/taken" "成员编号 A12 已存在（编号不区分大小写）"
expect_not_contains "(no PIN asked)" "$WORK/taken" "PIN"
expect_contains "history of a12 lists A12's quiz" "$WORK/hist_lower" "1/1   1/1"

# A PIN in clear would appear as a JSON value ("2468" or :2468); hex salts and
# hashes may contain those digits by chance, so look for values, not substrings.
expect_eq "no PIN in the progress file" "$(sql "select count(*) from events where payload like '%\"2468\"%' or payload like '%:2468%' or payload like '%\"9753\"%' or payload like '%:9753%' or json_extract(payload, '\$.pin') is not null")" 0
finish
