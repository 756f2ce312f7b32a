#!/usr/bin/env bash
# The server's store and batch code under ThreadSanitizer: the writer thread
# that groups devices' batches, the writers' lock, the USB file's reader
# thread, the HTTP server's deferred replies. Built with clang into
# build-tsan, libcurl and libmicrohttpd linked (QK_DLOPEN=OFF, as on systems
# without dlopen); any race stops the run (halt_on_error).
#   scripts/tsan.sh        (CI runs it; --help: this text)
set -euo pipefail
case "${1:-}" in
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "") ;;
    *) echo "tsan: no arguments (got: $*; --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-fsanitize=thread \
    -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DQK_DLOPEN=OFF >/dev/null
cmake --build build-tsan -j "$(nproc)" --target test_sync_server_store test_sync_client test_sync_batch \
    test_sync_http >/dev/null
for t in test_sync_server_store test_sync_batch test_sync_http test_sync_client; do
    echo "tsan: $t"
    TSAN_OPTIONS=halt_on_error=1 "build-tsan/tests/$t"
done
