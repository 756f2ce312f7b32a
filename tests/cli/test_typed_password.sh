#!/usr/bin/env bash
# Issue 15, item 1: a leader types the password at the prompt, in a terminal,
# as a person does (the tests used to pass it only by QUIZKIT_PASSWORD, and a
# typed password never worked: the prompt's reader said "a line" with 1 and
# its callers took anything but 0 for a failure). stats, report, admin code
# and leader add, each through a pseudo-terminal; the password never shows.
. "$(dirname "$0")/lib.sh"
mini_bundle
serve_test
branch_fixture 'm1,张三,b1,内科,1111\n'
unset QUIZKIT_PASSWORD
PTY() { python3 "$TESTS/cli/pty_run.py" "$@"; }
PTY --transcript "$WORK/t1" "密码：=>leader-pass-1" -- "$QK" stats participation --server "$URL" --user li >/dev/null
expect_eq "stats --server: the typed password works" "$?" 0
expect_contains "and the figures come" "$WORK/t1" "参与率"
expect_not_contains "the password is not shown" "$WORK/t1" "leader-pass-1"
PTY --transcript "$WORK/t2" "密码：=>leader-pass-1" -- "$QK" report --xlsx "$WORK/r.xlsx" --server "$URL" --user li >/dev/null
expect_eq "report --server: the typed password works" "$?" 0
[ -s "$WORK/r.xlsx" ] && ok "and the workbook is written" || fail "and the workbook is written"
PTY --transcript "$WORK/t3" "密码：=>leader-pass-1" -- "$QK" admin code --server "$URL" --user li >/dev/null
expect_eq "admin code --server: the typed password works" "$?" 0
expect_contains "and gives a code" "$WORK/t3" "注册码："
expect_contains "for a shared device, saying the command to run" "$WORK/t3" "在设备上运行：quizkit enroll $URL "
PTY --transcript "$WORK/t3p" "密码：=>leader-pass-1" -- "$QK" admin code --phone --server "$URL" --user li >/dev/null
expect_eq "admin code --phone --server: a phone's code" "$?" 0
expect_contains "saying where the member's phone enrols with it" "$WORK/t3p" "党员用手机浏览器打开 ${URL%/}/app/"
PTY --transcript "$WORK/t4" "密码：=>wrong-password" -- "$QK" admin code --server "$URL" --user li >/dev/null
expect_eq "a wrong typed password is refused" "$?" 1
PTY --transcript "$WORK/t5" "密码=>new-leader-pw-9" -- "$QK" admin leader add wang --branch b1 --db "$DB" >/dev/null
expect_eq "admin leader add: the typed password works" "$?" 0
QUIZKIT_PASSWORD=new-leader-pw-9 "$QK" admin code --server "$URL" --user wang >"$WORK/o" 2>&1
expect_eq "the new leader signs in with it" "$?" 0
finish
