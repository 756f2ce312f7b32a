#!/usr/bin/env bash
# STYLE.md rule 5: these functions are not used anywhere in our C sources.
# DESIGN.md decision 10: nothing reads the system clock or the local time
# zone but engine/src/clock.c (benchmarks, which time themselves, excepted).
set -u
root=${1:-.}
dirs=("$root/engine" "$root/content" "$root/sync" "$root/cli" "$root/tests")
status=0
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|sscanf)[[:space:]]*\('
hits=$(grep -rnE "$banned" --include='*.c' --include='*.h' "${dirs[@]}" 2>/dev/null | grep -v 'check_banned')
if [ -n "$hits" ]; then
    echo "banned functions used (STYLE.md rule 5):"
    echo "$hits"
    status=1
fi
clock='\b(clock_gettime|gettimeofday|localtime_r|localtime|gmtime_r|gmtime|mktime|timegm|ctime)[[:space:]]*\(|\btime[[:space:]]*\([[:space:]]*(NULL|0|&)|\bstrftime[[:space:]]*\([[:space:]]*[A-Za-z_]'
hits=$(grep -rnE "$clock" --include='*.c' --include='*.h' "${dirs[@]}" 2>/dev/null |
       grep -v -e '/engine/src/clock.c:' -e '/tests/bench/')
if [ -n "$hits" ]; then
    echo "the clock or the local time zone read outside engine/src/clock.c (DESIGN.md decision 10):"
    echo "$hits"
    status=1
fi
[ "$status" -eq 0 ] && echo "no banned functions; the clock is read in one place"
exit "$status"
