#!/usr/bin/env bash
# Issue 20: the sync client links without the server. Runs client_alone (a
# device's sync through qk_client.h and qk_sync.h, linked against
# quizkit_client alone and with --no-as-needed, so every library on its link
# line shows in its dynamic section), then checks that neither the program
# nor the client library holds anything of libmicrohttpd, libxlsxwriter or
# libpq: no such library needed, no such symbol wanted or defined, none of
# the server's, the kiosk's or the statistics' code. With QK_DLOPEN=1
# libcurl is opened at run time and not linked either; with 0 it is linked.
#   usage: test_client_alone.sh PROGRAM CLIENT_LIB QK_DLOPEN NM READELF
set -u
prog=$1 lib=$2 dlopen=$3 nm=$4 readelf=$5
work=$(mktemp -d "${TMPDIR:-/tmp}/qkclient-XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
ok() { echo "ok - $1"; }
fail() { fails=$((fails + 1)); echo "FAIL - $1"; }
# either FOUND OK_TEXT FAIL_TEXT: ok when nothing was found
either() { if [ -z "$1" ]; then ok "$2"; else fail "$3"; fi; }

if timeout 60 "$prog" "$work" >"$work/out" 2>&1; then
    ok "client_alone: $(grep -c '^ok - ' "$work/out") checks of a device's sync"
else
    fail "client_alone:"
    sed 's/^/    | /' "$work/out"
fi

# the server's libraries, and what they define (MHD_*, libxlsxwriter's
# workbook_/worksheet_/lxw_*, libpq's PQ*), and our tables of them
server_libs='lib(microhttpd|xlsxwriter|pq)\.'
server_syms='^(MHD_|lxw_|workbook_|worksheet_|chartsheet_|PQ[a-z]|qk__mhd|qk__pq|qk__netlib_(mhd|pq)$)'

if ! "$readelf" -d "$prog" >"$work/dynamic" 2>"$work/err"; then
    fail "readelf -d $prog: $(head -3 "$work/err")"
fi
grep 'NEEDED' "$work/dynamic" | sed 's/.*\[\(.*\)\]/\1/' >"$work/needed"
grep -q '^libc\.so' "$work/needed" || fail "readelf found no NEEDED libc (is $prog dynamic?)"
bad=$(grep -E "$server_libs" "$work/needed" | tr '\n' ' ')
either "$bad" "needs no server library: $(tr '\n' ' ' <"$work/needed")" "client_alone needs $bad"
if [ "$dlopen" = 1 ]; then
    either "$(grep libcurl "$work/needed")" "libcurl is not linked (opened at run time)" \
        "libcurl is linked, not opened at run time (QK_DLOPEN=1)"
else
    if grep -q libcurl "$work/needed"; then ok "libcurl is linked (QK_DLOPEN=0)"
    else fail "QK_DLOPEN=0 and libcurl is not among the needed libraries"; fi
fi

"$nm" -u "$prog" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' | sort -u >"$work/undefined"
grep -q -E '^gzopen(64)?$' "$work/undefined" || fail "nm -u lists no gzopen (nm could not read $prog?)"
bad=$(grep -E "$server_syms" "$work/undefined" | head -5 | tr '\n' ' ')
either "$bad" "wants no symbol of the server's libraries" "client_alone wants $bad"
if [ "$dlopen" = 1 ]; then
    bad=$(grep -E '^curl_' "$work/undefined" | head -3 | tr '\n' ' ')
    either "$bad" "wants no curl_ symbol (they come through dlopen)" "client_alone wants $bad"
fi

# The library itself, every member, used or not: a server file moved into it
# would name the server's libraries or tables, or define the server's API.
if ! "$nm" -A "$lib" >"$work/lib" 2>"$work/err"; then
    fail "nm $lib: $(head -3 "$work/err")"
fi
grep -q ' T qk_client_push$' "$work/lib" || fail "nm finds no qk_client_push in $lib"
bad=$(awk '{print $NF}' "$work/lib" | grep -E "$server_syms" | sort -u | head -5 | tr '\n' ' ')
either "$bad" "$(basename "$lib") names nothing of the server's libraries" "$(basename "$lib") names $bad"
bad=$(grep -E ' [TDB] qk_(server|store|kiosk|stats|app)_' "$work/lib" | awk '{print $NF}' | head -5 | tr '\n' ' ')
either "$bad" "and holds none of the server's, the kiosk's or the statistics' code" \
    "$(basename "$lib") defines $bad"

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
