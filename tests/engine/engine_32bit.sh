#!/usr/bin/env bash
# The engine, the content tools and the server compile for a 32-bit CPU
# (armhf phones and boards), warnings as errors, with the 64-bit file offsets
# and times the build sets (without them readdir() fails with EOVERFLOW on a
# filesystem with 64-bit inode numbers: no trust or bundle folder could be
# listed). A 64-bit-only assumption (a 64-bit constant in a size_t, a
# pointer in an int) fails here. Only compiled: the 32-bit libraries to link
# are not installed. The files that include libcurl's header are left out
# (its 32-bit header is not installed either).
#   $1 the source tree, $2 the C compiler, $3 the build's wide definitions
set -u
src=$1 cc=${2:-cc}
read -r -a wide <<<"${3//;/ }"
work=$(mktemp -d "${TMPDIR:-/tmp}/qk32-XXXXXX")
trap 'rm -rf "$work"' EXIT
echo 'int main(void) { return 0; }' >"$work/probe.c"
if ! "$cc" -m32 "$work/probe.c" -o "$work/probe" 2>"$work/err"; then
    echo "SKIP - no 32-bit C library for $cc -m32 (install gcc-multilib):"
    sed 's/^/    | /' "$work/err" | head -5
    exit 77
fi
defs=(-D_POSIX_C_SOURCE=200809L)
for d in "${wide[@]}"; do defs+=("-D$d"); done
# the sizes the definitions are for
cat >"$work/sizes.c" <<'C'
#include <sys/types.h>
#include <time.h>
_Static_assert(sizeof(off_t) == 8, "off_t");
_Static_assert(sizeof(ino_t) == 8, "ino_t");
_Static_assert(sizeof(time_t) == 8, "time_t");
_Static_assert(sizeof(void *) == 4, "a 32-bit build");
C
if ! "$cc" -m32 -std=c11 "${defs[@]}" -c "$work/sizes.c" -o "$work/sizes.o" 2>"$work/err"; then
    echo "FAIL - the definitions ${wide[*]} do not give 64-bit offsets, inodes and times:"
    sed 's/^/    | /' "$work/err" | head -5
    exit 1
fi
passed=0 failed=0
for f in "$src"/engine/src/*.c "$src"/content/src/*.c "$src"/sync/src/*.c; do
    grep -q '#include <curl/' "$f" && continue
    if "$cc" -m32 -std=c11 "${defs[@]}" -DQK_BUILD_SAMPLE='""' -DQK_INSTALL_SAMPLE='""' \
            -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Werror \
            -I "$src/engine/include" -I "$src/engine/src" -I "$src/content/include" -I "$src/content/src" \
            -I "$src/sync/include" -I "$src/sync/src" -c "$f" -o "$work/x.o" 2>"$work/err"; then
        passed=$((passed + 1))
    else
        echo "FAIL - ${f#"$src"/} for a 32-bit CPU:"
        sed 's/^/    | /' "$work/err" | head -8
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed (32-bit, ${wide[*]})"
[ "$failed" -eq 0 ] && [ "$passed" -gt 40 ]
