#!/usr/bin/env bash
# The engine cross-built for 64-bit and 32-bit ARM (Debian's arm64 and
# armhf), its suites run under qemu's user-mode emulation: the engine-only
# build (as scripts/mbedtls3-build.sh makes it), in build-cross-ARCH.
#
# usage: scripts/cross-build.sh ARCH [test]     ARCH: arm64 | armhf
#        scripts/cross-build.sh --help
#
#  1. Host packages: qemu-user, cmake, make, pkg-config, file and what the
#     cross compiler's programs link, installed when missing (as
#     scripts/install-deps.sh does).
#  2. build-cross-ARCH/toolchain: Debian's cross gcc and binutils for ARCH,
#     unpacked, not installed. (bookworm's gcc-12-aarch64-linux-gnu and
#     gcc-12-arm-linux-gnueabihf conflict with gcc-multilib, which the
#     native build's 32-bit checks need: installing them would remove it.)
#     build-cross-ARCH/sysroot: ARCH's own packages (C library, SQLite,
#     mbedTLS, utf8proc, cmocka) unpacked with dpkg-deb -x. Both are fetched
#     by `apt-get download` with a list, lists, cache and dpkg status of their
#     own under build-cross-ARCH/deps, so the machine's apt and dpkg state
#     are left as they are (and dpkg stays single-architecture). Kept between
#     runs: a second run builds only the engine.
#  3. build-cross-ARCH/toolchain.cmake: the compiler, the sysroot, find modes,
#     pkg-config in the sysroot, and qemu as the emulator ctest runs each
#     suite with.
#  4. build-cross-ARCH/engine: configured, built (warnings are errors), its
#     programs checked to be ARCH's; with "test", ctest runs the suites.
#  5. The time each part took, for CI's log.
set -Eeuo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

usage() { sed -n '2,/^set -Eeuo/p' "$0" | sed -e '/^set /d' -e 's/^# \{0,1\}//'; }

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    arm64) triplet=aarch64-linux-gnu processor=aarch64 qemu=qemu-aarch64
           elf='ELF 64-bit LSB .*ARM aarch64' loader=/lib/ld-linux-aarch64.so.1 ;;
    armhf) triplet=arm-linux-gnueabihf processor=arm qemu=qemu-arm
           elf='ELF 32-bit LSB .*ARM, EABI5' loader=/lib/ld-linux-armhf.so.3 ;;
    *) echo "cross-build: ARCH must be arm64 or armhf, not '${1:-}' (usage: $0 ARCH [test]; --help)" >&2
       exit 2 ;;
esac
arch=$1
run_tests=no
case "${2:-}" in
    "") ;;
    test) run_tests=yes ;;
    *) echo "cross-build: unknown argument '$2' (usage: $0 ARCH [test])" >&2; exit 2 ;;
esac

build="$root/build-cross-$arch"
deps="$build/deps"
sysroot="$build/sysroot"
toolchain="$build/toolchain"
# the suites' temporary folders (tests/support: TMPDIR), out of the shared /tmp
tmp="/tmp/cross-$arch"
jobs=2
# bookworm's cross compiler; its packages carry the version in their names
gcc_v=12

say() { echo "cross-build: $arch: $*"; }
fail() { echo "cross-build: $arch: $*" >&2; exit 1; }
# whatever else stops the script says what it was doing
trap 'echo "cross-build: $arch: failed (line $LINENO): $BASH_COMMAND" >&2' ERR
now() { date +%s; }
timings=()
took() { timings+=("$1 $(($(now) - $2))s${3:+ ($3)}"); }

# --- 1. host packages --------------------------------------------------------
host_pkgs=(qemu-user cmake make pkg-config file dpkg apt debian-archive-keyring
           libgmp10 libmpfr6 libmpc3 libisl23 libzstd1 zlib1g libjansson4)
missing=()
for p in "${host_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    say "installing ${missing[*]}"
    $SUDO apt-get update -q || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        fail "apt-get install ${missing[*]} failed"
fi
qemu_bin=$(command -v "$qemu") || fail "$qemu not found after installing qemu-user"

# --- 2. toolchain and sysroot --------------------------------------------------
host=$(dpkg --print-architecture)
tool_pkgs=("binutils-$triplet:$host" "cpp-$gcc_v-$triplet:$host" "gcc-$gcc_v-$triplet:$host"
           "libgcc-$gcc_v-dev-$arch-cross")
# ARCH's C library and what the engine and its suites link (libgcc_s: the
# cross compiler's libgcc_s.so names it)
target_pkgs=(libc6 libc6-dev linux-libc-dev libcrypt1 libcrypt-dev libgcc-s1
             libsqlite3-0 libsqlite3-dev
             libmbedcrypto7 libmbedx509-1 libmbedtls14 libmbedtls-dev
             libutf8proc2 libutf8proc-dev libcmocka0 libcmocka-dev)
target_pkgs=("${target_pkgs[@]/%/:$arch}")

apt_opts=(-o "Dir::Etc::sourcelist=$deps/sources.list" -o Dir::Etc::sourceparts=-
          -o "Dir::State::Lists=$deps/lists" -o "Dir::Cache=$deps/cache"
          -o "Dir::State::status=$deps/status"
          -o "APT::Architecture=$arch" -o "APT::Architectures=$arch,$host"
          -o APT::Sandbox::User=root -q)

# Downloads the packages into $deps/debs; the lists are read once and kept,
# and read again, once, when a package is gone from them (a point release).
fetch_debs() {
    mkdir -p "$deps/lists/partial" "$deps/cache/archives/partial" "$deps/debs"
    : >"$deps/status"
    # (the security archive's pool is not reachable from here: the point release only)
    echo "deb [arch=$arch,$host signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
        >"$deps/sources.list"
    local try
    for try in 1 2; do
        if [ ! -e "$deps/lists/.updated" ]; then
            rm -f "$deps"/lists/*Packages*
            if ! apt-get "${apt_opts[@]}" --error-on=any update >"$deps/apt-update.log" 2>&1; then
                cat "$deps/apt-update.log" >&2
                fail "apt-get update of $deps/sources.list failed"
            fi
            touch "$deps/lists/.updated"
        fi
        rm -f "$deps"/debs/*.deb
        if (cd "$deps/debs" && apt-get "${apt_opts[@]}" download "$@" >"$deps/apt-download.log" 2>&1); then
            return 0
        fi
        [ "$try" = 2 ] || rm -f "$deps/lists/.updated"
    done
    cat "$deps/apt-download.log" >&2
    fail "apt-get download failed (log: $deps/apt-download.log)"
}

# The cross binutils link libbfd and libopcodes of their own, unpacked in the
# toolchain's library folder, not the machine's: each program is called
# through a script that puts that folder on its library path. (gcc finds
# as and ld in usr/$triplet/bin, links to these.)
wrap_binutils() {
    local libdir real t
    libdir=$(find "$toolchain/usr/lib" -name "libbfd-*.so" -printf '%h\n' | head -1)
    [ -n "$libdir" ] || fail "no libbfd in the unpacked binutils-$triplet ($toolchain/usr/lib)"
    real="$toolchain/usr/libexec/cross-binutils"
    mkdir -p "$real"
    for t in as ld.bfd ld.gold ar ranlib nm objcopy objdump strip readelf size strings; do
        if [ ! -f "$toolchain/usr/bin/$triplet-$t" ] || [ -L "$toolchain/usr/bin/$triplet-$t" ]; then
            continue
        fi
        mv "$toolchain/usr/bin/$triplet-$t" "$real/"
        # shellcheck disable=SC2016 # (the wrapper expands it, when it runs)
        printf '#!/bin/sh\nLD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s" "$@"\n' \
            "$libdir" "$real/$triplet-$t" >"$toolchain/usr/bin/$triplet-$t"
        chmod 755 "$toolchain/usr/bin/$triplet-$t"
    done
}

# (the stamp names the packages, so a change to these lists fetches again)
stamp="$build/.sysroot-complete"
want="${tool_pkgs[*]} ${target_pkgs[*]}"
t0=$(now)
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    took sysroot "$t0" kept
else
    # a run cut short leaves a half-unpacked tree: start it again
    rm -rf "$sysroot" "$toolchain" "$stamp"
    say "fetching $arch packages and the cross toolchain (apt config: $deps)"
    fetch_debs "${tool_pkgs[@]}" "${target_pkgs[@]}"
    mkdir -p "$sysroot" "$toolchain"
    for d in "$deps"/debs/*.deb; do
        case "$(dpkg-deb -f "$d" Architecture)" in
            "$arch") dpkg-deb -x "$d" "$sysroot" || fail "dpkg-deb -x $d failed" ;;
            *) dpkg-deb -x "$d" "$toolchain" || fail "dpkg-deb -x $d failed" ;;
        esac
    done
    wrap_binutils
    printf '%s\n' "$want" >"$stamp"
    say "sysroot: $(find "$deps/debs" -name '*.deb' | wc -l) packages unpacked"
    took sysroot "$t0"
fi
cc="$toolchain/usr/bin/$triplet-gcc-$gcc_v"
[ -x "$cc" ] || fail "no cross compiler at $cc (remove $stamp to fetch again)"

# --- 3. toolchain file ---------------------------------------------------------
# The sysroot is a whole root for ARCH (its loader in /lib, its libraries in
# /lib/$triplet and /usr/lib/$triplet): qemu's -L finds the loader there. Its
# library folders go on the library path as well, by their real names: an
# armhf loader looks for /lib/arm-linux-gnueabihf with statx(), which qemu
# 7.2 does not send through -L, so it takes the folder for missing and finds
# no libc.so.6 there (arm64's loader uses newfstatat(), which qemu redirects).
cat >"$build/toolchain.cmake" <<EOF
# made by scripts/cross-build.sh $arch
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $processor)
set(CMAKE_C_COMPILER "$cc")
set(CMAKE_AR "$toolchain/usr/bin/$triplet-ar")
set(CMAKE_RANLIB "$toolchain/usr/bin/$triplet-ranlib")
set(CMAKE_SYSROOT "$sysroot")
set(CMAKE_LIBRARY_ARCHITECTURE $triplet)
set(CMAKE_FIND_ROOT_PATH "$sysroot")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_LIBDIR} "$sysroot/usr/lib/$triplet/pkgconfig:$sysroot/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "$sysroot")
set(CMAKE_CROSSCOMPILING_EMULATOR "$qemu_bin;-L;$sysroot;-E;LD_LIBRARY_PATH=$sysroot/lib/$triplet:$sysroot/usr/lib/$triplet")
EOF

# --- 4. build and test ---------------------------------------------------------
t0=$(now)
cmake -S "$root" -B "$build/engine" -DQK_ENGINE_ONLY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_TOOLCHAIN_FILE=$build/toolchain.cmake" >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; fail "cmake configure failed (log: $build/configure.log)"; }
if ! cmake --build "$build/engine" -j "$jobs" >"$build/build.log" 2>&1; then
    grep -v -E '^\[ *[0-9]+%\] (Building|Linking|Built)' "$build/build.log" >&2
    fail "build failed (log: $build/build.log)"
fi
# every program and the shared library must be ARCH's, not the machine's, and
# the programs ask for ARCH's loader (armhf's: the hard-float ABI's)
checked=0
while IFS= read -r f; do
    what=$(file -b "$f")
    echo "$what" | grep -q -E "$elf" || fail "$f is not built for $arch: $what"
    case "$f" in
        *.so*) ;;
        *) echo "$what" | grep -q -F "interpreter $loader," || fail "$f does not ask for $loader: $what" ;;
    esac
    checked=$((checked + 1))
done < <(find "$build/engine" -type f \( -name 'test_*' -o -name 'libquizkit.so*' \) -perm -u+x)
[ "$checked" -gt 1 ] || fail "no test programs found in $build/engine"
say "built; $checked programs and libraries checked: $arch ELF"
took build "$t0"

if [ "$run_tests" = yes ]; then
    t0=$(now)
    mkdir -p "$tmp"
    chmod 755 "$tmp"
    if ! (cd "$build/engine" && TMPDIR="$tmp" ctest -j "$jobs" --output-on-failure 2>&1 |
              tee "$build/ctest.log"); then
        took tests "$t0" failed
        say "times: ${timings[*]}"
        fail "ctest failed (log: $build/ctest.log)"
    fi
    total=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$build/ctest.log" | tail -1)
    emulated=$(grep -c "^add_test(.*\"$qemu_bin\"" "$build/engine/tests/CTestTestfile.cmake" || true)
    took tests "$t0" "${total:-?} of ${total:-?} passed, $emulated of them under $qemu"
fi
say "times: ${timings[*]}"
