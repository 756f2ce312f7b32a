#!/usr/bin/env bash
# Installs the Debian packages quizkit needs to build, run and test.
# Safe to run again: apt-get skips what is already there. Needs root (or sudo).
# usage: scripts/install-deps.sh [--bench]   (--bench: also the benchmarks' tools)
set -euo pipefail

PKGS=(
    build-essential cmake pkg-config clang clang-tidy
    libsqlite3-dev libmbedtls-dev libutf8proc-dev libjansson-dev zlib1g-dev
    libmicrohttpd-dev libcurl4-openssl-dev openssl curl libxlsxwriter-dev unzip
    libzip-dev libexpat1-dev python3-openpyxl libreoffice-calc-nogui
    libcmocka-dev sqlite3 python3 util-linux
    libjs-chart.js chromium fonts-noto-cjk
    emscripten tcl
    cage systemd
    postgresql libpq-dev
)
# postgresql, libpq-dev: the server's store on PostgreSQL and its tests (issue 19).
# cage and systemd: the package's smoke test checks its units with
# systemd-analyze, which wants the programs they start (scripts/package.sh).
# emscripten and tcl: the WebAssembly build (scripts/wasm-build.sh; tcl makes
# SQLite's amalgamation from its Debian source package).
# A 32-bit C library for the calendar's 32-bit check (tests/engine/calendar_32bit.sh),
# and qemu-i386 to run its program where the kernel runs no 32-bit programs
# (some virtual machines' kernels are built without IA32 emulation).
[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] && PKGS+=(gcc-multilib qemu-user)
# --bench: what tests/bench/bench_auth.sh runs beside the server (wrk, nginx).
[ "${1:-}" = --bench ] && PKGS+=(wrk nginx-light)
# Node.js and npm run the browser tests (playwright-core drives chromium);
# Debian's own when the machine has none.
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The browser tests' one npm package, at the version package-lock.json pins.
web_tests() {
    local dir
    dir="$(cd "$(dirname "$0")/.." && pwd)/tests/web"
    if [ ! -d "$dir/node_modules/playwright-core" ]; then
        echo "install-deps: npm ci in tests/web"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    web_tests
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
web_tests
