#!/usr/bin/env bash
# Issue 20, embed: the engine installed as a library (`cmake --install`: the
# headers, libquizkit.so and .a, quizkit.pc, the CMake package), and the
# embedding example of docs/embedding.md (docs/examples/embed.c) built
# against the installed files alone, four ways: pkg-config with the shared
# and with the static library, find_package(quizkit) with each. Each program
# takes three questions of the installed sample bundle and lists its events;
# the shared library exports the public API alone.
# A cross build (scripts/cross-build.sh arm64 --full) passes its toolchain
# file and sysroot: the example is compiled for the target with them (the
# sysroot's .pc files, find_package inside the find root) and its programs
# run through binfmt_misc, as the suites' do.
#   usage: test_embed.sh BUILD_DIR SOURCE_DIR CC [CFLAGS [TOOLCHAIN_FILE SYSROOT]]
set -u
BUILD=$1
SRC=$2
CC=$3
CFLAGS=${4:-}
TOOLCHAIN=${5:-}
SYSROOT=${6:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qkembed-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILS=0
ok() { echo "ok - $1"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $1"; }

if ! cmake --install "$BUILD" --prefix "$WORK/prefix" >"$WORK/install.out" 2>&1; then
    echo "FAIL - cmake --install: $(tail -5 "$WORK/install.out")"
    exit 1
fi
# moved after install: nothing may point back at the build or the prefix given
mv "$WORK/prefix" "$WORK/moved"
P="$WORK/moved"
LIBDIR=$(dirname "$(find "$P" -name quizkit.pc -print -quit)")
LIBDIR=${LIBDIR%/pkgconfig}
for f in include/quizkit/engine.h include/quizkit/session.h; do
    [ -f "$P/$f" ] && ok "installed: $f" || fail "installed: $f"
done
for f in libquizkit.a libquizkit.so libquizkit.so.0 pkgconfig/quizkit.pc cmake/quizkit/quizkitConfig.cmake \
         cmake/quizkit/quizkitConfigVersion.cmake; do
    [ -e "$LIBDIR/$f" ] && ok "installed: ${LIBDIR#"$P/"}/$f" || fail "installed: ${LIBDIR#"$P/"}/$f"
done

# The shared library's exports: the public API, none of the engine's own
# qk__ helpers and nothing of SQLite's or mbedTLS's.
nm -D --defined-only "$LIBDIR/libquizkit.so" | awk '{print $3}' | sed 's/@.*//' | sort -u >"$WORK/exports"
grep -q '^qk_session_start$' "$WORK/exports" && ok "libquizkit.so exports qk_session_start" \
    || fail "libquizkit.so does not export qk_session_start"
bad=$(grep -v -E '^(qk_[a-z][A-Za-z0-9_]*|QUIZKIT_0)$' "$WORK/exports" | head -5 | tr '\n' ' ')
[ -z "$bad" ] && ok "and nothing but the qk_ API ($(wc -l <"$WORK/exports") symbols)" \
    || fail "libquizkit.so exports more than the API: $bad"

export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
if [ -n "$SYSROOT" ]; then
    # the target's .pc files alone, their paths as they are: pkg-config
    # leaves out -I/usr/include; an -L/usr/lib/TRIPLET it gives is not put
    # under --sysroot by the linker (only "="-paths are), but names nothing
    # on a host without TRIPLET's libraries, and the linker then finds them
    # in the sysroot by itself; the prefix's paths are absolute already
    triplet=$($CC -dumpmachine)
    export PKG_CONFIG_LIBDIR="$SYSROOT/usr/lib/$triplet/pkgconfig:$SYSROOT/usr/share/pkgconfig"
    unset PKG_CONFIG_SYSROOT_DIR
    CFLAGS="$CFLAGS --sysroot=$SYSROOT"
fi
EX="$SRC/docs/examples/embed.c"
# shellcheck disable=SC2086 # (flags are words)
if $CC $CFLAGS -Wall -Wextra -Werror -o "$WORK/pc_shared" "$EX" $(pkg-config --cflags --libs quizkit) \
        2>"$WORK/cc1"; then ok "pkg-config: the example builds with the shared library"
else fail "pkg-config, shared: $(head -5 "$WORK/cc1")"; fi
# shellcheck disable=SC2086
if $CC $CFLAGS -Wall -Wextra -Werror -o "$WORK/pc_static" "$EX" \
        $(pkg-config --cflags quizkit) "$LIBDIR/libquizkit.a" $(pkg-config --libs --static quizkit | sed 's/-lquizkit//') \
        2>"$WORK/cc2"; then ok "pkg-config --static: the example builds with the static library"
else fail "pkg-config, static: $(head -5 "$WORK/cc2")"; fi
# C++ (an app's JNI or Objective-C++ layer): every installed header, and a call linked
{
    for h in "$P"/include/quizkit/*.h; do printf '#include <quizkit/%s>\n' "$(basename "$h")"; done
    printf 'int main() { qk_engine *e = nullptr; int rc = qk_engine_open(&e, "%s", QK_LANG_EN);\n' "$WORK/cxx.db"
    printf '  qk_engine_close(e); return rc == QK_OK ? 0 : 1; }\n'
} >"$WORK/cxx.cpp"
CXX=${CXX:-c++}
# shellcheck disable=SC2086
if [ -n "$SYSROOT" ]; then
    # (no cross C++ compiler in the cross toolchain: what this checks, the
    # headers as C++ and their extern "C", is the same on every CPU)
    echo "skip - C++: cross build (the native build checks the headers as C++)"
elif $CXX $CFLAGS -Wall -Wextra -Werror -o "$WORK/cxx" "$WORK/cxx.cpp" $(pkg-config --cflags --libs quizkit) \
        2>"$WORK/cxx.err" && LD_LIBRARY_PATH="$LIBDIR" timeout 60 "$WORK/cxx"; then
    ok "C++: every header compiles and qk_engine_open links (extern \"C\")"
else
    fail "C++: $(head -5 "$WORK/cxx.err")"
fi
cross=()
if [ -n "$TOOLCHAIN" ]; then
    # the build's toolchain file, with the installed prefix inside the find
    # root (its packages are searched there alone)
    printf 'include("%s")\nlist(APPEND CMAKE_FIND_ROOT_PATH "%s")\n' "$TOOLCHAIN" "$P" >"$WORK/toolchain.cmake"
    cross=("-DCMAKE_TOOLCHAIN_FILE=$WORK/toolchain.cmake")
fi
if cmake -S "$SRC/tests/embed" -B "$WORK/cm" "${cross[@]}" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC" \
        "-DCMAKE_C_FLAGS=$CFLAGS" "-DEXAMPLE=$EX" >"$WORK/cm.out" 2>&1 &&
        cmake --build "$WORK/cm" >>"$WORK/cm.out" 2>&1; then
    ok "find_package(quizkit): the example builds with quizkit::quizkit and quizkit::quizkit_static"
else
    fail "find_package(quizkit): $(grep -m5 -i -E 'error|could not' "$WORK/cm.out")"
fi

# Each program is built for the library's CPU (a cross build's: the target's)
machine() { readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p'; }
want=$(machine "$LIBDIR/libquizkit.so.0")
for prog in pc_shared pc_static cm/embed_shared cm/embed_static; do
    [ -x "$WORK/$prog" ] || continue
    got=$(machine "$WORK/$prog")
    [ -n "$want" ] && [ "$got" = "$want" ] && ok "${prog#cm/} is built for $want" \
        || fail "${prog#cm/} is built for '$got', libquizkit.so.0 for '$want'"
done

# Each program takes its three questions from the installed sample, signed
# by the installed key, each with its own progress file.
SAMPLE="$P/share/quizkit/samples.qkb"
KEY="$P/share/quizkit/dev-key.pub"
for prog in pc_shared pc_static cm/embed_shared cm/embed_static; do
    [ -x "$WORK/$prog" ] || continue
    name=${prog#cm/}
    if LD_LIBRARY_PATH="$LIBDIR" timeout 60 "$WORK/$prog" "$WORK/$name.db" "$SAMPLE" "$KEY" jiankang >"$WORK/$name.out" 2>&1 &&
            grep -q '^3/3 ' "$WORK/$name.out" && grep -q ' of 3 right$' "$WORK/$name.out" &&
            [ "$(grep -c '^event [0-9]* answer$' "$WORK/$name.out")" = 3 ] &&
            grep -q '^event [0-9]* attempt.finish$' "$WORK/$name.out"; then
        ok "$name: three questions, three answers and the finish in the log"
    else
        fail "$name: $(head -12 "$WORK/$name.out")"
    fi
done
# shared programs use the installed library, not a copy linked in: the
# libraries the program's own loader (the sysroot's, when cross) loads for it
if [ -x "$WORK/pc_shared" ]; then
    interp=$(readelf -l "$WORK/pc_shared" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
    if [ -z "$interp" ]; then
        fail "pc_shared names no program interpreter"
    elif LD_LIBRARY_PATH="$LIBDIR" "$SYSROOT$interp" --list "$WORK/pc_shared" >"$WORK/loaded" 2>&1 &&
            grep -qF "libquizkit.so.0 => $LIBDIR/libquizkit.so.0 " "$WORK/loaded"; then
        ok "the shared build loads the installed libquizkit.so.0"
    else
        fail "pc_shared does not load $LIBDIR/libquizkit.so.0: $(head -5 "$WORK/loaded")"
    fi
fi
# A bundle whose content was changed is refused by the example as by the command.
if [ -x "$WORK/pc_static" ]; then
    # a question's words changed in place (健康档案 -> 健康记录, the same length)
    LC_ALL=C sed 's/\xe5\x81\xa5\xe5\xba\xb7\xe6\xa1\xa3\xe6\xa1\x88/\xe5\x81\xa5\xe5\xba\xb7\xe8\xae\xb0\xe5\xbd\x95/' \
        "$SAMPLE" >"$WORK/forged.qkb"
    cmp -s "$SAMPLE" "$WORK/forged.qkb" && fail "the forged copy is the same as the sample"
    rc=0
    timeout 60 "$WORK/pc_static" "$WORK/forged.db" "$WORK/forged.qkb" "$KEY" jiankang >"$WORK/forged.out" 2>&1 || rc=$?
    if [ "$rc" = 1 ] && grep -q "已被改动或损坏，不符的部分：题目" "$WORK/forged.out"; then
        ok "a changed bundle is refused, exit 1: $(head -1 "$WORK/forged.out")"
    else
        fail "a changed bundle: exit $rc, $(head -3 "$WORK/forged.out")"
    fi
fi
[ "$FAILS" -eq 0 ] || { echo "$FAILS failed"; exit 1; }
