#!/usr/bin/env bash
# The README's two commands (and the build alone, which CI uses):
#   scripts/quickstart.sh play [quizkit play options]   install, build, take a quiz
#   scripts/quickstart.sh test [ctest options]          install, build, run every test
#   scripts/quickstart.sh build                         install and build only
# Environment: QK_SANITIZE=1 builds with ASan+UBSan (clang) into build-asan/;
# BUILD_DIR overrides the build folder.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

what=${1:-}
case "$what" in
    play|test) shift ;;
    build)
        shift
        [ $# -eq 0 ] || { echo "quickstart: build takes no options (got: $*)" >&2; exit 2; } ;;
    -h|--help|"")
        sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
        [ -n "$what" ] && exit 0 || exit 2 ;;
    *) echo "quickstart: unknown command '$what' (use play, test or build)" >&2; exit 2 ;;
esac

bash scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
if [ "${QK_SANITIZE:-0}" = 1 ]; then
    build=${BUILD_DIR:-build-asan}
    CC=${CC:-clang} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DQK_SANITIZE=ON >/dev/null
else
    build=${BUILD_DIR:-build}
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j "$jobs"

[ "$what" != build ] || exit 0
if [ "$what" = play ]; then
    exec "$build/quizkit" play "$@"
fi
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"
