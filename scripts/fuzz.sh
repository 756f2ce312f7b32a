#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a fixed
# time on a copy of its seed corpus, one target per core at a time
# (QK_FUZZ_JOBS sets how many). CI runs it with a short time.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
build=${BUILD_DIR:-build-fuzz}
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DQK_FUZZ=ON -DQK_SANITIZE=ON >/dev/null
targets=(answer bundle batch request competition ack verified payload app_net json_source csv_source gift_source aiken_source lesson_source
         xlsx_source xlsx_parts)
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target quizkit "${targets[@]/#/fuzz_}" >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/qkfuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
# Each target on one core: as many at a time as there are cores
# (QK_FUZZ_JOBS), their results printed in the list's order.
lanes=${QK_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
run_one() {
    local t=$1
    mkdir -p "$work/$t"
    cp tests/fuzz/corpus/"$t"/* "$work/$t/" 2>/dev/null || true
    if [ "$t" = bundle ]; then
        ASAN_OPTIONS=detect_leaks=0 "$build/quizkit" bundle build tests/fixtures/mini -o "$work/$t/mini.qkb" --quiet
    fi
    if "$build/tests/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 \
        -artifact_prefix="$work/$t-" "$work/$t" >"$work/$t.log" 2>&1; then
        echo "fuzz_$t: $(grep -Eo 'Done [0-9]+ runs.*' "$work/$t.log" | tail -1)" >"$work/$t.result"
    else
        { echo "fuzz_$t: FAILED"; tail -40 "$work/$t.log"; } >"$work/$t.result"
        return 1
    fi
}
running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$lanes" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait || true
failed=0
for t in "${targets[@]}"; do
    if [ -f "$work/$t.result" ]; then cat "$work/$t.result"; else echo "fuzz_$t: FAILED (no result)"; fi
    grep -q '^fuzz_[a-z_0-9]*: FAILED' "$work/$t.result" 2>/dev/null && failed=$((failed + 1))
    [ -f "$work/$t.result" ] || failed=$((failed + 1))
done
echo "$(( ${#targets[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
