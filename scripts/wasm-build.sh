#!/usr/bin/env bash
# The WebAssembly build of the engine, from one command (docs/wasm.md).
#
# usage: scripts/wasm-build.sh [test]      (test: also run its suites under node)
#
# 1. scripts/wasm-deps.sh builds SQLite, mbedTLS, utf8proc, jansson, zlib and
#    cmocka for wasm from Debian's source packages into build-wasm/deps/prefix;
# 2. Debian's emscripten builds the engine (QK_ENGINE_ONLY, forced for wasm),
#    the phone app's module (build-wasm/app/quizkit-engine.{js,wasm}: the
#    engine and the kiosk's handler) and the test suites into build-wasm;
# 3. with "test", ctest runs each suite as a wasm program under node, on the
#    real file system, and the phone app's module as its Web Worker uses it,
#    on the signed sample of a native build (QK_NATIVE_BUILD, default build/),
#    enrolling and syncing with that build's `quizkit serve` on loopback.
# Needs the packages scripts/install-deps.sh installs (emscripten, tcl among them).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${QK_WASM_BUILD:-$root/build-wasm}"
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
case "${1:-}" in
"" | test) ;;
-h | --help)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "wasm-build: unknown argument '$1' (usage: scripts/wasm-build.sh [test])" >&2
    exit 2
    ;;
esac
# The app module's test opens the native build's signed sample bundle.
native="${QK_NATIVE_BUILD:-$root/build}"
if [ "${1:-}" = test ]; then
    lacking=()
    for f in samples.qkb dev-key.pub quizkit; do
        [ -e "$native/$f" ] || lacking+=("$native/$f")
    done
    if [ ${#lacking[@]} -gt 0 ]; then
        echo "wasm-build: the tests use the native build's signed sample, its key and its server;" \
            "not there: ${lacking[*]}. Run scripts/quickstart.sh first, or set QK_NATIVE_BUILD" \
            "to a native build folder" >&2
        exit 1
    fi
fi
bash "$root/scripts/wasm-deps.sh" "$build/deps"
echo "wasm-build: configuring $build"
emcmake cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    "-DQK_WASM_PREFIX=$build/deps/prefix" "-DCMAKE_CROSSCOMPILING_EMULATOR=$(command -v node)" \
    "-DQK_NATIVE_BUILD=$native" \
    >"$build/configure.log" 2>&1 || {
    cat "$build/configure.log" >&2
    exit 1
}
echo "wasm-build: building"
cmake --build "$build" -j"$(nproc)"
if [ "${1:-}" = test ]; then
    (cd "$build" && ctest -j"$(nproc)" --output-on-failure)
fi
