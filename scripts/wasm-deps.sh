#!/usr/bin/env bash
# Builds the engine's libraries for WebAssembly from Debian's source packages.
#
# usage: scripts/wasm-deps.sh [DIR]          (DIR: build-wasm/deps by default)
#
# Emscripten's own "ports" download from the internet; here every third-party
# source is the Debian source package of the library the native build links
# (SQLite, mbedTLS, utf8proc, jansson, zlib, and cmocka for the tests), unpacked by
# `apt-get source` with Debian's patches applied (scripts/debsrc.sh: the
# deb-src list lives in DIR with its own lists and cache folders, so the
# machine's binary package lists are left as they are). Nothing fetched goes
# into the repository.
#
# DIR/src holds the unpacked sources, DIR/prefix the static libraries,
# headers and pkg-config files that cmake/wasm.cmake points the build at.
# Safe to run again: a library already in the prefix is not built twice.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/build-wasm/deps}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
prefix="$dir/prefix"
mkdir -p "$dir/src" "$prefix/lib/pkgconfig" "$prefix/include"

# Debian's emscripten finds its node modules (acorn, terser) only here.
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
for tool in emcc emar emcmake tclsh; do
    command -v "$tool" >/dev/null || {
        echo "wasm-deps: $tool not found (scripts/install-deps.sh installs it)" >&2
        exit 1
    }
done

say() { echo "wasm-deps: $*"; }

. "$root/scripts/debsrc.sh"

need=()
[ -e "$prefix/lib/libsqlite3.a" ] || need+=(sqlite3)
[ -e "$prefix/lib/libmbedcrypto.a" ] || need+=(mbedtls)
[ -e "$prefix/lib/libutf8proc.a" ] || need+=(utf8proc)
[ -e "$prefix/lib/libjansson.a" ] || need+=(jansson)
[ -e "$prefix/lib/libcmocka.a" ] || need+=(cmocka)
[ -e "$prefix/lib/libz.a" ] || need+=(zlib)
if [ ${#need[@]} -eq 0 ]; then
    say "all libraries in $prefix/lib already"
    exit 0
fi
missing=()
for p in "${need[@]}"; do
    debsrc_dir "$dir" "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "fetching Debian source packages (bookworm): ${missing[*]}"
    debsrc_fetch "$dir" bookworm "${missing[@]}"
fi

# The same flags for every library: optimised, no threads (the engine runs in
# one Web Worker), no dynamic loading.
cflags="-O2"
cmake_common=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=$prefix" -DBUILD_SHARED_LIBS=OFF
              "-DCMAKE_C_FLAGS=$cflags")

# lib$1.a in the prefix from the objects that follow.
archive() {
    local name=$1
    shift
    rm -f "$prefix/lib/lib$name.a"
    emar rcs "$prefix/lib/lib$name.a" "$@"
}

# Each build_* below works in $dir/build/NAME on the unpacked $src.
build_sqlite() {
    local b="$dir/build/sqlite3"
    mkdir -p "$b"
    say "sqlite3: the amalgamation from $(basename "$src") (native tools), then emcc"
    # The amalgamation is made by the source tree's own tools (tclsh, a
    # host compiler); only the result is compiled for wasm.
    (cd "$b" && "$src/configure" --disable-tcl >configure.log 2>&1 && make sqlite3.c >make.log 2>&1) || {
        tail -20 "$b/configure.log" "$b/make.log" >&2
        echo "wasm-deps: making sqlite3.c failed (logs in $b)" >&2
        exit 1
    }
    # The options the engine relies on are SQLite's defaults; single-threaded
    # (one worker), no extension loading, double-quoted strings are errors.
    emcc $cflags -c "$b/sqlite3.c" -o "$b/sqlite3.o" -DSQLITE_THREADSAFE=0 \
        -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_DQS=0 -DSQLITE_DEFAULT_FOREIGN_KEYS=0
    archive sqlite3 "$b/sqlite3.o"
    cp "$b/sqlite3.h" "$b/sqlite3ext.h" "$prefix/include/"
    local v
    v=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' "$b/sqlite3.h")
    printf 'prefix=%s\nName: SQLite\nDescription: SQL database engine (wasm)\nVersion: %s\nLibs: -L${prefix}/lib -lsqlite3\nCflags: -I${prefix}/include\n' \
        "$prefix" "$v" >"$prefix/lib/pkgconfig/sqlite3.pc"
}

build_cmake() { # name cmake-options...
    local name=$1
    shift
    local b="$dir/build/$name"
    say "$name: $(basename "$src") with emcmake"
    mkdir -p "$b"
    (emcmake cmake -S "$src" -B "$b" "${cmake_common[@]}" "$@" >"$b.configure.log" 2>&1 &&
        cmake --build "$b" -j"$(nproc)" >"$b.build.log" 2>&1 &&
        cmake --install "$b" >"$b.install.log" 2>&1) || {
        tail -30 "$b.configure.log" "$b.build.log" "$b.install.log" 2>/dev/null >&2
        echo "wasm-deps: building $name failed (logs beside $b)" >&2
        exit 1
    }
}

build_utf8proc() {
    local b="$dir/build/utf8proc"
    mkdir -p "$b"
    say "utf8proc: $(basename "$src") with emcc"
    # One source file; its tables are included by it.
    emcc $cflags -DUTF8PROC_STATIC -c "$src/utf8proc.c" -o "$b/utf8proc.o"
    archive utf8proc "$b/utf8proc.o"
    cp "$src/utf8proc.h" "$prefix/include/"
    printf 'prefix=%s\nName: libutf8proc\nDescription: Unicode library (wasm)\nVersion: %s\nLibs: -L${prefix}/lib -lutf8proc\nCflags: -I${prefix}/include -DUTF8PROC_STATIC\n' \
        "$prefix" "$(basename "$src" | sed 's/^utf8proc-//')" >"$prefix/lib/pkgconfig/libutf8proc.pc"
}

build_zlib() {
    local b="$dir/build/zlib" objs=() f
    mkdir -p "$b"
    say "zlib: $(basename "$src") with emcc"
    # deflate and inflate (gzip in memory); not the gz* file functions
    for f in adler32 crc32 deflate inflate infback inffast inftrees trees zutil compress uncompr; do
        emcc $cflags -c "$src/$f.c" -o "$b/$f.o"
        objs+=("$b/$f.o")
    done
    archive z "${objs[@]}"
    cp "$src/zlib.h" "$src/zconf.h" "$prefix/include/"
}

for p in "${need[@]}"; do
    src=$(debsrc_dir "$dir" "$p") # (checked here: a failure inside "$(...)" as an argument would go unseen)
    case $p in
    sqlite3) build_sqlite ;;
    mbedtls) build_cmake mbedtls -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF \
        -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DUSE_STATIC_MBEDTLS_LIBRARY=ON -DMBEDTLS_FATAL_WARNINGS=OFF ;;
    utf8proc) build_utf8proc ;;
    zlib) build_zlib ;;
    jansson) build_cmake jansson -DJANSSON_BUILD_DOCS=OFF -DJANSSON_EXAMPLES=OFF \
        -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_SHARED_LIBS=OFF ;;
    # cmocka.h declares uintptr_t itself unless told it exists (as
    # unsigned int, where wasm32's is unsigned long): the tests say so too
    # (cmake/wasm.cmake). Its stack protector finds no guard in wasm's libc.
    cmocka) build_cmake cmocka -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF \
        -DUNIT_TESTING=OFF "-DCMAKE_C_FLAGS=$cflags -D_UINTPTR_T" -DWITH_STACK_PROTECTOR_STRONG=OFF \
        -DWITH_STACK_PROTECTOR=OFF ;;
    esac
done
# jansson and cmocka install into lib/ or lib/cmake; their pkg-config files
# name the prefix they were configured with, which is this one.
say "done: $(find "$prefix/lib" -maxdepth 1 -name '*.a' | wc -l) libraries in $prefix/lib"
