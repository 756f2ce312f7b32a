#!/usr/bin/env bash
# The engine cross-built for 64-bit and 32-bit ARM (Debian's arm64 and
# armhf), its suites run under qemu's user-mode emulation: the engine-only
# build (as scripts/mbedtls3-build.sh makes it), in build-cross-ARCH/engine;
# and, on arm64, the whole project (--full), in build-cross-arm64/full.
#
# usage: scripts/cross-build.sh ARCH [test]     ARCH: arm64 | armhf
#        scripts/cross-build.sh arm64 --full [test]
#        scripts/cross-build.sh --help
#
#  1. Host packages: qemu-user, cmake, make, pkg-config, file and what the
#     cross compiler's programs link, installed when missing (as
#     scripts/install-deps.sh does); with --full, qemu-user-binfmt too.
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
#     With --full, the whole project's libraries join the sysroot (jansson,
#     zlib, libzip, expat, libmicrohttpd, libcurl, libxlsxwriter, and what
#     each needs to run: libcurl and libmicrohttpd are opened at run time),
#     their dependencies resolved by `apt-get install --download-only` on
#     the same empty dpkg status (a cache of their own: deps/full-cache).
#  3. build-cross-ARCH/toolchain.cmake: the compiler, the sysroot, find modes,
#     pkg-config in the sysroot, and qemu as the emulator ctest runs each
#     suite with.
#  4. build-cross-ARCH/engine: configured, built (warnings are errors), its
#     programs checked to be ARCH's; with "test", ctest runs the suites.
#     --full: build-cross-arm64/full, the whole project (no PostgreSQL: no
#     libpq in the sysroot; QK_DLOPEN as by default), and with "test" every
#     suite but the end-to-end ones (ctest -LE 'e2e|pg|soak'). The build
#     runs the built quizkit (the sample bundle, the man page) and suites
#     start it themselves, so arm64 programs must run as any program does:
#     the kernel's binfmt_misc hands them to qemu-aarch64 (Debian's
#     qemu-user-binfmt), set up here when it is not (binfmt_misc mounted, the
#     qemu-aarch64 entry registered and enabled: root or sudo), and
#     QEMU_LD_PREFIX names the sysroot for qemu to find the loader and the
#     libraries in.
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
    *) echo "cross-build: ARCH must be arm64 or armhf, not '${1:-}' (usage: $0 ARCH [--full] [test]; --help)" >&2
       exit 2 ;;
esac
arch=$1
shift
run_tests=no
full=no
for a in "$@"; do
    case "$a" in
        test) run_tests=yes ;;
        --full) full=yes ;;
        *) echo "cross-build: unknown argument '$a' (usage: $0 ARCH [--full] [test])" >&2; exit 2 ;;
    esac
done
if [ "$full" = yes ] && [ "$arch" != arm64 ]; then
    echo "cross-build: --full is for arm64 only (armhf: the engine's suites)" >&2
    exit 2
fi

build="$root/build-cross-$arch"
deps="$build/deps"
sysroot="$build/sysroot"
toolchain="$build/toolchain"
# the build's folder, and the suites' temporary folders (tests/support:
# TMPDIR), out of the shared /tmp
if [ "$full" = yes ]; then
    out="$build/full" tmp="/tmp/cross-full-$arch" label="$arch --full" logs="$build/full"
else
    out="$build/engine" tmp="/tmp/cross-$arch" label=$arch logs=$build
fi
jobs=2
# bookworm's cross compiler; its packages carry the version in their names
gcc_v=12

say() { echo "cross-build: $label: $*"; }
fail() { echo "cross-build: $label: $*" >&2; exit 1; }
# whatever else stops the script says what it was doing
trap 'echo "cross-build: $label: failed (line $LINENO): $BASH_COMMAND" >&2' ERR
now() { date +%s; }
timings=()
took() { timings+=("$1 $(($(now) - $2))s${3:+ ($3)}"); }

# --- 1. host packages --------------------------------------------------------
host_pkgs=(qemu-user cmake make pkg-config file dpkg apt debian-archive-keyring
           libgmp10 libmpfr6 libmpc3 libisl23 libzstd1 zlib1g libjansson4)
# (--full: qemu-aarch64's binfmt_misc entry, /usr/share/binfmts/qemu-aarch64)
[ "$full" = no ] || host_pkgs+=(qemu-user-binfmt)
missing=()
for p in "${host_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
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
full_stamp="$build/.sysroot-full-complete"
want="${tool_pkgs[*]} ${target_pkgs[*]}"
t0=$(now)
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    took sysroot "$t0" kept
else
    # a run cut short leaves a half-unpacked tree: start it again (and the
    # whole project's packages, unpacked in it, with it)
    rm -rf "$sysroot" "$toolchain" "$stamp" "$full_stamp"
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

# --full: what the whole project builds with and its suites link or open,
# with every package they depend on (resolved by apt on an empty dpkg status,
# so the C library and the rest come along: all of it unpacked in the
# sysroot). libcurl4-openssl-dev: the libcurl the native build uses.
full_pkgs=(libc6-dev libsqlite3-dev libmbedtls-dev libutf8proc-dev libcmocka-dev
           libjansson-dev zlib1g-dev libzip-dev libexpat1-dev libmicrohttpd-dev
           libcurl4-openssl-dev libxlsxwriter-dev)
full_pkgs=("${full_pkgs[@]/%/:$arch}")
full_cache="$deps/full-cache"
if [ "$full" = yes ]; then
    t0=$(now)
    if [ "$(cat "$full_stamp" 2>/dev/null)" = "${full_pkgs[*]}" ]; then
        took full-sysroot "$t0" kept
    else
        rm -f "$full_stamp"
        say "fetching the whole project's $arch packages and their dependencies (apt cache: $full_cache)"
        rm -rf "$full_cache"
        mkdir -p "$full_cache/archives/partial"
        : >"$deps/status"
        # (the lists fetch_debs read: fetched again, once, if a package is gone)
        full_opts=("${apt_opts[@]}" -o "Dir::Cache=$full_cache")
        for try in 1 2; do
            if apt-get "${full_opts[@]}" -y install --download-only --no-install-recommends "${full_pkgs[@]}" \
                    >"$deps/apt-full.log" 2>&1; then
                break
            fi
            [ "$try" = 1 ] || { cat "$deps/apt-full.log" >&2; fail "apt-get install --download-only failed (log: $deps/apt-full.log)"; }
            rm -f "$deps"/lists/*Packages* "$deps/lists/.updated"
            apt-get "${apt_opts[@]}" --error-on=any update >"$deps/apt-update.log" 2>&1 ||
                { cat "$deps/apt-update.log" >&2; fail "apt-get update of $deps/sources.list failed"; }
            touch "$deps/lists/.updated"
        done
        # (the engine's stamp goes too until this is done: unpacking writes
        # over files the engine's packages put there, and a run cut short
        # here must leave a sysroot that is fetched again, by either kind)
        rm -f "$stamp"
        n=0
        for d in "$full_cache"/archives/*.deb; do
            case "$(dpkg-deb -f "$d" Architecture)" in
                "$arch" | all) dpkg-deb -x "$d" "$sysroot" || fail "dpkg-deb -x $d failed"
                               n=$((n + 1)) ;;
                *) fail "apt chose $d, not $arch's (log: $deps/apt-full.log)" ;;
            esac
        done
        [ "$n" -gt 0 ] || fail "apt downloaded nothing (log: $deps/apt-full.log)"
        printf '%s\n' "$want" >"$stamp"
        printf '%s\n' "${full_pkgs[*]}" >"$full_stamp"
        say "sysroot: $n packages of the whole project unpacked"
        took full-sysroot "$t0"
    fi
fi
# The packages' absolute links (usr/lib/$triplet/libz.so -> /lib/$triplet/
# libz.so.1.2.13, libm.so, libexpat.so, ...) point out of the sysroot, at
# nothing: the linker would take libz.a for -lz, and CMake's FindZLIB libz.a.
# Each is made relative, within the sysroot (every run: a sysroot kept from
# before has them too).
while IFS= read -r l; do
    ln -sfn "$(realpath -s -m --relative-to="$(dirname "$l")" "$sysroot$(readlink "$l")")" "$l"
done < <(find "$sysroot" -type l -lname '/*')
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

# binfmt_misc hands arm64 programs to qemu-aarch64: mounted when it is not,
# Debian's qemu-aarch64 entry (qemu-user-binfmt) registered (by
# update-binfmts when binfmt-support is there, from the package's own
# definition otherwise) and enabled when it is not; then an arm64 program of
# the sysroot (its C library, which runs) must run, or the build stops here.
setup_binfmt() {
    local fs=/proc/sys/fs/binfmt_misc name=qemu-aarch64 def=/usr/share/binfmts/qemu-aarch64
    local key value magic="" mask="" offset=0 interp="" flags="" out
    if [ ! -e "$fs/register" ]; then
        say "mounting binfmt_misc on $fs"
        $SUDO mount binfmt_misc -t binfmt_misc "$fs" ||
            fail "cannot mount binfmt_misc on $fs (root is needed; in a container, the host must allow it): --full runs arm64 programs through it"
    fi
    if [ ! -e "$fs/$name" ]; then
        if command -v update-binfmts >/dev/null; then
            say "enabling binfmt_misc's $name (update-binfmts)"
            $SUDO update-binfmts --enable "$name" || fail "update-binfmts --enable $name failed"
        else
            [ -r "$def" ] || fail "no $def (qemu-user-binfmt) to register $name from"
            while read -r key value; do
                case "$key" in
                    magic) magic=$value ;;
                    mask) mask=$value ;;
                    offset) offset=$value ;;
                    interpreter) interp=$value ;;
                    preserve) [ "$value" != yes ] || flags+=P ;;
                    credentials) [ "$value" != yes ] || flags+=C ;;
                    fix_binary) [ "$value" != yes ] || flags+=F ;;
                esac
            done <"$def"
            if [ -z "$magic" ] || [ ! -x "$interp" ]; then
                fail "$def names no magic or no interpreter that is there"
            fi
            say "registering binfmt_misc's $name from $def ($interp)"
            printf ':%s:M:%s:%s:%s:%s:%s' "$name" "$offset" "$magic" "$mask" "$interp" "$flags" |
                $SUDO tee "$fs/register" >/dev/null || fail "cannot register $name in $fs/register"
        fi
    fi
    if [ "$(head -1 "$fs/$name")" != enabled ]; then
        say "enabling binfmt_misc's $name"
        echo 1 | $SUDO tee "$fs/$name" >/dev/null || fail "cannot enable $fs/$name"
    fi
    if [ "$(cat "$fs/status")" != enabled ]; then
        say "enabling binfmt_misc"
        echo 1 | $SUDO tee "$fs/status" >/dev/null || fail "cannot enable $fs/status"
    fi
    out=$(QEMU_LD_PREFIX="$sysroot" "$sysroot/lib/$triplet/libc.so.6" 2>&1) ||
        fail "binfmt_misc does not run $arch programs ($sysroot/lib/$triplet/libc.so.6: $out; $fs/$name: $(tr '\n' ' ' <"$fs/$name"))"
    say "binfmt_misc runs $arch programs ($(sed -n 's/^interpreter //p' "$fs/$name"), QEMU_LD_PREFIX=$sysroot)"
}

# --- 4. build and test ---------------------------------------------------------
# --full: arm64 programs run as any other, through binfmt_misc (the build
# runs quizkit; suites start it, and other test programs)
if [ "$full" = yes ]; then
    t0=$(now)
    setup_binfmt
    took binfmt "$t0"
    export QEMU_LD_PREFIX="$sysroot"
    configure=(-DQK_WITH_POSTGRESQL=OFF)
else
    configure=(-DQK_ENGINE_ONLY=ON)
fi
t0=$(now)
mkdir -p "$out"
cmake -S "$root" -B "$out" "${configure[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_TOOLCHAIN_FILE=$build/toolchain.cmake" >"$logs/configure.log" 2>&1 ||
    { cat "$logs/configure.log" >&2; fail "cmake configure failed (log: $logs/configure.log)"; }
if ! cmake --build "$out" -j "$jobs" >"$logs/build.log" 2>&1; then
    grep -v -E '^\[ *[0-9]+%\] (Building|Linking|Built)' "$logs/build.log" >&2
    fail "build failed (log: $logs/build.log)"
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
done < <(find "$out" -type f \( -name 'test_*' -o -name 'libquizkit.so*' -o -name quizkit \) -perm -u+x)
[ "$checked" -gt 1 ] || fail "no test programs found in $out"
say "built; $checked programs and libraries checked: $arch ELF"
took build "$t0"

if [ "$run_tests" = yes ]; then
    t0=$(now)
    mkdir -p "$tmp"
    chmod 755 "$tmp"
    # (--full: not the end-to-end suites, nor PostgreSQL's, nor the soak)
    select=()
    [ "$full" = no ] || select=(-LE 'e2e|pg|soak')
    if ! (cd "$out" && TMPDIR="$tmp" ctest -j "$jobs" "${select[@]}" --output-on-failure 2>&1 |
              tee "$logs/ctest.log"); then
        took tests "$t0" failed
        say "times: ${timings[*]}"
        fail "ctest failed (log: $logs/ctest.log)"
    fi
    total=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$logs/ctest.log" | tail -1)
    skipped=$(grep -c -E '^[[:space:]]+[0-9]+ - .* \(Skipped\)$' "$logs/ctest.log" || true)
    # the suites ctest starts under qemu itself (the others, scripts, run
    # ARCH's programs through binfmt_misc)
    emulated=0
    while IFS= read -r t; do
        if grep -q -F "add_test($t \"$qemu_bin\"" "$out/tests/CTestTestfile.cmake"; then
            emulated=$((emulated + 1))
        fi
    done < <(cd "$out" && ctest -N "${select[@]}" | sed -n 's/^ *Test *#[0-9]*: //p')
    took tests "$t0" "${total:-?} of ${total:-?} passed ($skipped of them skipped), $emulated of them under $qemu"
fi
say "times: ${timings[*]}"
