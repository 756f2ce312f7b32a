# scripts/debsrc.sh: Debian source packages for builds that need a library's
# sources (the WebAssembly build, the mbedTLS 3 build), sourced by their
# scripts. `apt-get source` from one suite's deb-src, with a list, lists and
# cache folders of their own under DIR, so the machine's binary package lists
# are left as they are; Debian's patches are applied on unpacking. Nothing
# fetched goes into the repository.
#
#   debsrc_fetch DIR SUITE PACKAGE...   unpacks into DIR/src
#   debsrc_dir DIR PACKAGE              prints DIR/src/PACKAGE-VERSION, the
#                                       newest unpacked in full (its .dsc is
#                                       beside it), or fails

debsrc_fetch() {
    local dir=$1 suite=$2
    shift 2
    mkdir -p "$dir/src" "$dir/lists/partial" "$dir/cache/archives/partial"
    # (the security archive's source pool is not reachable from here, though
    # its index is: the suite's point release only)
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
        >"$dir/sources.list"
    local opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=-
                -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
                -o APT::Sandbox::User=root -q)
    # an unpacking cut short leaves a folder without its .dsc: start again
    local p
    for p in "$@"; do
        debsrc_dir "$dir" "$p" >/dev/null 2>&1 ||
            find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name "$p-[0-9]*" -exec rm -rf {} +
    done
    # The list is read once and kept; when a source is gone from it (a point
    # release replaced it) it is read again, once.
    local try
    for try in 1 2; do
        if [ ! -e "$dir/lists/.updated" ]; then
            rm -f "$dir"/lists/*Sources*
            if ! apt-get "${opts[@]}" --error-on=any update >"$dir/apt-update.log" 2>&1 ||
                ! compgen -G "$dir/lists/*Sources*" >/dev/null; then
                cat "$dir/apt-update.log" >&2
                echo "debsrc: apt-get update of the deb-src list ($dir/sources.list) failed" >&2
                return 1
            fi
            touch "$dir/lists/.updated"
        fi
        if (cd "$dir/src" && apt-get "${opts[@]}" source --only-source "$@" >"$dir/apt-source.log" 2>&1); then
            return 0
        fi
        rm -f "$dir/lists/.updated"
    done
    cat "$dir/apt-source.log" >&2
    echo "debsrc: apt-get source $* failed (log: $dir/apt-source.log)" >&2
    return 1
}

debsrc_dir() {
    local d
    d=$(find "$1/src" -mindepth 1 -maxdepth 1 -type d -name "$2-[0-9]*" 2>/dev/null | sort | tail -1)
    if [ -z "$d" ] || ! compgen -G "$1/src/${2}_*.dsc" >/dev/null; then
        echo "debsrc: no unpacked source for $2 in $1/src" >&2
        return 1
    fi
    echo "$d"
}
