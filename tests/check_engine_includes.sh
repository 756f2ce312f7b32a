#!/usr/bin/env bash
# DESIGN.md: the engine depends on SQLite, mbedTLS, utf8proc and libc only, and
# never includes a header from another folder of the project.
set -u
root=${1:-.}
bad=0
while IFS= read -r line; do
    file=${line%%:*}
    inc=$(printf '%s' "$line" | sed -E 's/.*#[[:space:]]*include[[:space:]]*[<"]([^>"]+)[>"].*/\1/')
    case "$line" in
        *'"'*)
            # Quoted: must be a file inside engine/ (its own sources or public headers).
            dir=$(dirname "$file")
            if [ ! -f "$dir/$inc" ] && [ ! -f "$root/engine/include/$inc" ] && [ ! -f "$root/engine/include/quizkit/$inc" ]; then
                echo "$file: includes \"$inc\", which is not in engine/"; bad=1
            fi ;;
        *)
            case "$inc" in
                sqlite3.h|mbedtls/*|utf8proc.h) ;;
                assert.h|ctype.h|errno.h|fcntl.h|limits.h|stdarg.h|stddef.h|stdint.h|stdio.h|stdlib.h|string.h|time.h|unistd.h|sys/stat.h|sys/types.h) ;;
                # the compiler's own x86 intrinsics (no library): the SHA-256
                # instructions in sha256.c, behind #if __x86_64__
                cpuid.h|immintrin.h) ;;
                # statfs(), to tell file systems without change times (bundle.c, Linux only)
                sys/vfs.h) ;;
                *) echo "$file: includes <$inc>, which the engine may not use"; bad=1 ;;
            esac ;;
    esac
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include' "$root/engine")
[ $bad -eq 0 ] && echo "engine includes only its own headers, libc, SQLite, mbedTLS and utf8proc"
exit $bad
