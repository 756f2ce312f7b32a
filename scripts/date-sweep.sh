#!/usr/bin/env bash
# date-sweep.sh: the end-to-end suites (ctest label e2e: the CLI, the server,
# the kiosk API, the browser) at each of a list of instants, so that a test
# that holds only on some days fails here and not on the day it happens
# (docs/time.md). Every process of one run shares one moving clock:
# QUIZKIT_NOW is the instant and QUIZKIT_NOW_SINCE the real time the run
# started. Each run ends with e2e/leftovers (no process of the suite left).
# Tests labelled own-clock set their own instant whatever the environment's,
# so they run at the first instant only; the soak (label soak) at none.
#
# usage: scripts/date-sweep.sh [--build DIR] [--only REGEX] [--no-own-clock] [--at INSTANT]...
#   --build DIR    the build folder (default build)
#   --only REGEX   only the end-to-end tests whose names match (ctest -R)
#   --no-own-clock not the own-clock tests, not even at the first instant
#                  (a run that has them elsewhere: CI runs them in its first
#                  step and in the other build's sweep)
#   --at INSTANT   these instants instead of the list below (repeatable;
#                  "now" is the real clock)
# Prints one line per instant (instant, passed/failed, seconds, the tests
# that failed) and a summary; each instant's ctest output is kept in
# DIR/date-sweep/. Exits 1 if any instant failed. QK_SWEEP_JOBS sets ctest -j
# (default 2).
set -uo pipefail

build=build
only=
own_clock=yes
ats=()
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=${2:?--build needs a folder}; shift 2 ;;
        --only) only=${2:?--only needs a pattern}; shift 2 ;;
        --no-own-clock) own_clock=no; shift ;;
        --at) ats+=("${2:?--at needs an instant}"); shift 2 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "date-sweep: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ ! -f "$build/CTestTestfile.cmake" ]; then
    echo "date-sweep: $build is not a configured build folder (cmake -S . -B $build && cmake --build $build)" >&2
    exit 2
fi

# The instants, in Beijing time, and why each.
if [ ${#ats[@]} -eq 0 ]; then
    ats=(
        2026-12-02T23:59:30+08:00   # midnight passes during the run
        2026-12-03T00:00:05+08:00   # just after midnight
        2026-11-30T23:59:00+08:00   # the last minute of a month
        2026-12-31T23:59:00+08:00   # the last minute of a year
        2028-02-29T12:00:00+08:00   # a leap day
        2027-03-05T10:00:00+08:00   # a themed day (3·5 学雷锋纪念日)
        2026-12-06T23:59:30+08:00   # Sunday into Monday: a week's end
        2040-06-30T23:59:40+08:00   # far ahead (past 2038), a half-year's end
        now                         # the real clock
    )
fi

logs="$build/date-sweep"
mkdir -p "$logs"
jobs=${QK_SWEEP_JOBS:-2}
failed=0
start_all=$(date +%s)
printf '%-27s  %-6s  %7s  %s\n' "instant (QUIZKIT_NOW)" result seconds "failed tests"
for at in "${ats[@]}"; do
    slug=$(printf '%s' "$at" | tr -c 'A-Za-z0-9-' '_')
    log="$logs/$slug.log"
    args=(--test-dir "$build" -L e2e -j "$jobs" --output-on-failure)
    [ -n "$only" ] && args+=(-R "$only")
    # the soak (two minutes, nothing about dates) is left to the ordinary runs
    if [ "$at" = "${ats[0]}" ] && [ "$own_clock" = yes ]; then args+=(-LE soak); else args+=(-LE 'own-clock|soak'); fi
    t0=$(date +%s)
    if [ "$at" = now ]; then
        env -u QUIZKIT_NOW -u QUIZKIT_NOW_SINCE -u QUIZKIT_NOW_RATE ctest "${args[@]}" >"$log" 2>&1
    else
        env -u QUIZKIT_NOW_RATE QUIZKIT_NOW="$at" QUIZKIT_NOW_SINCE="$(date +%s%3N)" \
            ctest "${args[@]}" >"$log" 2>&1
    fi
    rc=$?
    secs=$(($(date +%s) - t0))
    cp "$build/Testing/Temporary/LastTest.log" "$logs/$slug.all.log" 2>/dev/null
    # the names ctest lists under "The following tests FAILED"
    bad=$(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (.*/\1/p' "$log" | tr '\n' ' ')
    if [ "$rc" -eq 0 ]; then
        result=passed
    else
        result=failed
        failed=$((failed + 1))
        [ -n "$bad" ] || bad="(ctest exit $rc; see $log)"
    fi
    printf '%-27s  %-6s  %7d  %s\n' "$at" "$result" "$secs" "$bad"
    # what a failed test said (its last lines), so that a CI log shows why
    for t in $bad; do
        case "$t" in \(*) continue ;; esac
        echo "--- $t at $at: the end of its output ($logs/$slug.all.log has all of it)"
        awk -v t="$t" 'match($0, /^[0-9]+\/[0-9]+ Test: /) && substr($0, RLENGTH + 1) == t { on = 1; next }
                       on && index($0, "\"" t "\" end time") == 1 { on = 0 }
                       on' "$logs/$slug.all.log" | tail -n 60
        echo "---"
    done
done
total=$(($(date +%s) - start_all))
echo "date sweep: ${#ats[@]} instants, $((${#ats[@]} - failed)) passed, $failed failed, ${total} s in all; logs in $logs/"
[ "$failed" -eq 0 ]
