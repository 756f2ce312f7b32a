#!/usr/bin/env bash
# The engine against mbedTLS 3.6 (Debian 13's), beside the 2.28 (Debian 12's)
# every other build links (issue 20): mbedTLS from trixie's source package
# (scripts/debsrc.sh), built into a prefix of its own, then the engine-only
# build against it and, with "test", its suites. The suites include known
# answers made by other implementations (a PIN hash by Python's hashlib, a
# signature by OpenSSL), so 2.28 and 3.6 are held to the same bytes.
#
# usage: scripts/mbedtls3-build.sh [test]
#   QK_MBEDTLS3_BUILD: the build folder (default build-mbedtls3); its deps/
#   keeps the source and the prefix, so a second run builds only the engine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${QK_MBEDTLS3_BUILD:-$root/build-mbedtls3}"
deps="$build/deps"
jobs=$(nproc 2>/dev/null || echo 2)
. "$root/scripts/debsrc.sh"
say() { echo "mbedtls3-build: $*"; }

if [ ! -e "$deps/prefix/lib/libmbedcrypto.a" ]; then
    if ! debsrc_dir "$deps" mbedtls >/dev/null 2>&1; then
        say "fetching Debian's mbedtls source package (trixie)"
        debsrc_fetch "$deps" trixie mbedtls
    fi
    src=$(debsrc_dir "$deps" mbedtls)
    say "building $(basename "$src") into $deps/prefix"
    cmake -S "$src" -B "$deps/build" -DCMAKE_BUILD_TYPE=Release -DENABLE_TESTING=OFF \
        -DENABLE_PROGRAMS=OFF -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DMBEDTLS_FATAL_WARNINGS=OFF \
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
        "-DCMAKE_INSTALL_PREFIX=$deps/prefix" >"$deps/configure.log" 2>&1 ||
        { cat "$deps/configure.log"; exit 1; }
    cmake --build "$deps/build" -j "$jobs" >"$deps/build.log" 2>&1 || { tail -40 "$deps/build.log"; exit 1; }
    cmake --install "$deps/build" >/dev/null
fi

cmake -S "$root" -B "$build/engine" -DQK_ENGINE_ONLY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_PREFIX_PATH=$deps/prefix" >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
# the mbedTLS found must be the 3.x of the prefix, not the system's 2.28
found=$(grep -o 'Found MbedTLS: .*' "$build/configure.log" || true)
case "$found" in
    *"$deps/prefix"*'version "3.'*) say "$found" ;;
    *) say "the engine did not find mbedTLS 3 in $deps/prefix: ${found:-nothing found}"; exit 1 ;;
esac
if ! cmake --build "$build/engine" -j "$jobs" >"$build/build.log" 2>&1; then
    grep -v -E '^\[ *[0-9]+%\] (Building|Linking|Built)' "$build/build.log"
    exit 1
fi
if [ "${1:-}" = test ]; then
    (cd "$build/engine" && ctest -j "$jobs" --output-on-failure)
fi
