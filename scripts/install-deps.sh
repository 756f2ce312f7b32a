#!/usr/bin/env bash
# Installs the Debian packages quizkit needs to build, run and test.
# Safe to run again: apt-get skips what is already there. Needs root (or sudo).
set -euo pipefail

PKGS=(
    build-essential cmake pkg-config clang
    libsqlite3-dev libmbedtls-dev libutf8proc-dev libjansson-dev zlib1g-dev
    libmicrohttpd-dev libcurl4-openssl-dev openssl curl faketime libxlsxwriter-dev unzip
    libcmocka-dev sqlite3 python3 util-linux
)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
