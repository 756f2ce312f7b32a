#!/usr/bin/env bash
# clang-tidy with the project's .clang-tidy (STYLE.md rule 10) over every .c
# file of engine/src, content/src, sync/src and cli (not the tests), the files
# in parallel on the available cores; every warning is an error. Prints the
# findings and exits 1 when there are any.
#   scripts/tidy.sh [BUILD_DIR]    default: build, configured when it has no
#                                  compile_commands.json (nothing is built)
# Environment: CLANG_TIDY names the binary (default clang-tidy).
# Headers are not checked (no header filter): only the .c files' own findings.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

build=${1:-build}
tidy=${CLANG_TIDY:-clang-tidy}
jobs=$(nproc 2>/dev/null || echo 2)
t0=$(date +%s)

if ! command -v "$tidy" >/dev/null 2>&1; then
    echo "tidy: $tidy not found (scripts/install-deps.sh installs clang-tidy)" >&2
    exit 2
fi
if [ ! -f "$build/compile_commands.json" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi

files=()
while IFS= read -r f; do files+=("$f"); done < <(find engine/src content/src sync/src cli -name '*.c' | sort)

# One log per file, so that parallel runs do not interleave their output.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export tidy build logs
status=0
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -I{} sh -c '
    log="$logs/$(printf %s "$1" | tr / _).log"
    "$tidy" -p "$build" --quiet --warnings-as-errors="*" "$1" >"$log" 2>&1 || echo "$1" >"$log.failed"
' _ {} || status=$?

failed=0
for f in "${files[@]}"; do
    log="$logs/$(printf %s "$f" | tr / _).log"
    if [ -f "$log.failed" ]; then
        failed=$((failed + 1))
        # "N warnings generated." counts what the check list and system headers hide.
        grep -v '^[0-9]* warnings\{0,1\} \(and [0-9]* errors\{0,1\} \)\{0,1\}generated\.$' "$log" || true
    fi
done
secs=$(($(date +%s) - t0))
if [ "$failed" -ne 0 ] || [ "$status" -ne 0 ]; then
    echo "tidy: findings in $failed of ${#files[@]} files (${secs} s)" >&2
    exit 1
fi
echo "tidy: ${#files[@]} files clean (${secs} s, $jobs in parallel)"
