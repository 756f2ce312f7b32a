#!/usr/bin/env bash
# Builds the engine's libraries for WebAssembly from Debian's source packages.
#
# usage: scripts/wasm-deps.sh [DIR]          (DIR: build-wasm/deps by default)
#
# Emscripten's own "ports" download from the internet; here every third-party
# source is the Debian source package of the library the native build links
# (SQLite, mbedTLS, utf8proc, jansson, and cmocka for the tests), unpacked by
# `apt-get source` with Debian's patches applied. The deb-src list lives in
# DIR with its own lists and cache folders, so the machine's binary package
# lists are left as they are. Nothing fetched goes into the repository.
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
mkdir -p "$dir/src" "$dir/lists/partial" "$dir/cache/archives/partial" "$prefix/lib/pkgconfig" \
    "$prefix/include"

# Debian's emscripten finds its node modules (acorn, terser) only here.
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
for tool in emcc emar emcmake tclsh; do
    command -v "$tool" >/dev/null || {
        echo "wasm-deps: $tool not found (scripts/install-deps.sh installs it)" >&2
        exit 1
    }
done

say() { echo "wasm-deps: $*"; }

# apt-get source from bookworm's deb-src, with a list of its own.
apt_src() {
    cat >"$dir/sources.list" <<'EOF'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
EOF
    local opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=-
                -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
                -o APT::Sandbox::User=root -q)
    if [ ! -e "$dir/lists/.updated" ]; then
        apt-get "${opts[@]}" update >"$dir/apt-update.log" 2>&1 || {
            cat "$dir/apt-update.log" >&2
            echo "wasm-deps: apt-get update of the deb-src list failed" >&2
            exit 1
        }
        touch "$dir/lists/.updated"
    fi
    (cd "$dir/src" && apt-get "${opts[@]}" source --only-source "$@" >"$dir/apt-source.log" 2>&1) || {
        cat "$dir/apt-source.log" >&2
        echo "wasm-deps: apt-get source $* failed" >&2
        exit 1
    }
}

# The unpacked folder of a source package (e.g. src/sqlite3-3.40.1).
src_of() {
    local d
    d=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name "$1-[0-9]*" | sort | tail -1)
    [ -n "$d" ] || { echo "wasm-deps: no unpacked source for $1 in $dir/src" >&2; exit 1; }
    echo "$d"
}

need=()
[ -e "$prefix/lib/libsqlite3.a" ] || need+=(sqlite3)
[ -e "$prefix/lib/libmbedcrypto.a" ] || need+=(mbedtls)
[ -e "$prefix/lib/libutf8proc.a" ] || need+=(utf8proc)
[ -e "$prefix/lib/libjansson.a" ] || need+=(jansson)
[ -e "$prefix/lib/libcmocka.a" ] || need+=(cmocka)
if [ ${#need[@]} -eq 0 ]; then
    say "all libraries in $prefix"
    exit 0
fi
missing=()
for p in "${need[@]}"; do
    find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name "$p-[0-9]*" | grep -q . || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "fetching Debian source packages: ${missing[*]}"
    apt_src "${missing[@]}"
fi

# The same flags for every library: optimised, no threads (the engine runs in
# one Web Worker), no dynamic loading.
cflags="-O2"
cmake_common=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=$prefix" -DBUILD_SHARED_LIBS=OFF
              "-DCMAKE_C_FLAGS=$cflags")

build_sqlite() {
    local src b
    src=$(src_of sqlite3)
    b="$dir/build/sqlite3"
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
    rm -f "$prefix/lib/libsqlite3.a"
    emar rcs "$prefix/lib/libsqlite3.a" "$b/sqlite3.o"
    cp "$b/sqlite3.h" "$b/sqlite3ext.h" "$prefix/include/"
    local v
    v=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' "$b/sqlite3.h")
    printf 'prefix=%s\nName: SQLite\nDescription: SQL database engine (wasm)\nVersion: %s\nLibs: -L${prefix}/lib -lsqlite3\nCflags: -I${prefix}/include\n' \
        "$prefix" "$v" >"$prefix/lib/pkgconfig/sqlite3.pc"
}

build_cmake() { # name source-folder cmake-options...
    local name=$1 src=$2
    shift 2
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
    local src b
    src=$(src_of utf8proc)
    b="$dir/build/utf8proc"
    mkdir -p "$b"
    say "utf8proc: $(basename "$src") with emcc"
    # One source file; its tables are included by it.
    emcc $cflags -DUTF8PROC_STATIC -c "$src/utf8proc.c" -o "$b/utf8proc.o"
    rm -f "$prefix/lib/libutf8proc.a"
    emar rcs "$prefix/lib/libutf8proc.a" "$b/utf8proc.o"
    cp "$src/utf8proc.h" "$prefix/include/"
    printf 'prefix=%s\nName: libutf8proc\nDescription: Unicode library (wasm)\nVersion: %s\nLibs: -L${prefix}/lib -lutf8proc\nCflags: -I${prefix}/include -DUTF8PROC_STATIC\n' \
        "$prefix" "$(basename "$src" | sed 's/^utf8proc-//')" >"$prefix/lib/pkgconfig/libutf8proc.pc"
}

for p in "${need[@]}"; do
    case $p in
    sqlite3) build_sqlite ;;
    mbedtls) build_cmake mbedtls "$(src_of mbedtls)" -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF \
        -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DUSE_STATIC_MBEDTLS_LIBRARY=ON -DMBEDTLS_FATAL_WARNINGS=OFF ;;
    utf8proc) build_utf8proc ;;
    jansson) build_cmake jansson "$(src_of jansson)" -DJANSSON_BUILD_DOCS=OFF -DJANSSON_EXAMPLES=OFF \
        -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_SHARED_LIBS=OFF ;;
    # cmocka.h declares uintptr_t itself unless told it exists (as
    # unsigned int, where wasm32's is unsigned long): the tests say so too
    # (cmake/wasm.cmake). Its stack protector finds no guard in wasm's libc.
    cmocka) build_cmake cmocka "$(src_of cmocka)" -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF \
        -DUNIT_TESTING=OFF "-DCMAKE_C_FLAGS=$cflags -D_UINTPTR_T" -DWITH_STACK_PROTECTOR_STRONG=OFF \
        -DWITH_STACK_PROTECTOR=OFF ;;
    esac
done
# jansson and cmocka install into lib/ or lib/cmake; their pkg-config files
# name the prefix they were configured with, which is this one.
say "done: $prefix"
ls "$prefix/lib"
