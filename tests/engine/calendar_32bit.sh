#!/usr/bin/env bash
# The calendar gives the same answers on a 32-bit build: calendar.c and
# calendar_table.c built with -m32 (no sanitizers: their 32-bit runtimes are
# not installed), their table compared with the native build's.
#   $1 the native calendar_table, $2 the source tree, $3 the C compiler
set -u
native=$1 src=$2 cc=${3:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/qkcal-XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! "$cc" -m32 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O2 \
        -I "$src/engine/include" "$src/engine/src/calendar.c" "$src/tests/engine/calendar_table.c" \
        -o "$work/table32" 2>"$work/err"; then
    echo "SKIP - no 32-bit C library for $cc -m32 (install gcc-multilib):"
    sed 's/^/    | /' "$work/err" | head -5
    exit 77
fi
# ELF class byte: 1 for a 32-bit program
[ "$(head -c 5 "$work/table32" | tail -c 1 | od -An -tu1 | tr -d ' ')" = 1 ] ||
    { echo "FAIL - the -m32 build is not a 32-bit program"; exit 1; }
"$native" >"$work/native.txt" || { echo "FAIL - the native table"; exit 1; }
# A kernel built without IA32 emulation refuses to run it (exec format
# error, 126): then it runs under qemu-i386's user-mode emulation.
run32=()
"$work/table32" >"$work/32.txt" 2>"$work/err32"
rc=$?
if [ "$rc" -eq 126 ]; then
    if ! command -v qemu-i386 >/dev/null; then
        echo "SKIP - this kernel runs no 32-bit programs and qemu-i386 is not installed (qemu-user):"
        sed 's/^/    | /' "$work/err32" | head -3
        exit 77
    fi
    run32=(qemu-i386)
    "${run32[@]}" "$work/table32" >"$work/32.txt"
    rc=$?
fi
[ "$rc" -eq 0 ] || { echo "FAIL - the 32-bit table${run32:+ (under ${run32[*]})}"; exit 1; }
lines=$(wc -l <"$work/native.txt")
if cmp -s "$work/native.txt" "$work/32.txt"; then
    echo "ok - the 32-bit build agrees on all $lines lines (1900-9999, every day of 2036-2039)${run32:+, run under ${run32[*]}}"
    grep -F ' 2040-06-30|' "$work/32.txt" | head -1 | sed 's/^/    /'
    echo "1 passed, 0 failed"
else
    echo "FAIL - the 32-bit build differs:"
    diff "$work/native.txt" "$work/32.txt" | head -20
    echo "0 passed, 1 failed"
    exit 1
fi
