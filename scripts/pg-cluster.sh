#!/usr/bin/env bash
# pg-cluster.sh: a throwaway PostgreSQL cluster, for the tests of the server's
# PostgreSQL store (issue 19) and for a person who wants one by hand.
#
# usage: scripts/pg-cluster.sh run [--port N] -- CMD [ARGS...]
#        scripts/pg-cluster.sh start DIR [--port N]
#        scripts/pg-cluster.sh stop DIR
#
#   run    makes a cluster in a new temporary folder, starts it, runs CMD with
#          QK_PG_URL=postgresql://postgres@127.0.0.1:PORT (no database: the
#          caller makes its own) and QK_PG_BIN (the folder of psql, pg_dump,
#          pg_restore...) in its environment, then stops the server and
#          removes the folder, also when CMD fails or this script is sent
#          SIGTERM, SIGINT or SIGHUP (CMD is then sent SIGTERM). Exits with
#          CMD's status (2: a usage error, 3: the cluster could not be made
#          or started). When CMD fails, the server log's last lines are shown.
#   start  the same cluster in DIR (made if missing, started again if it
#          holds one), left running; prints the two export lines for a shell
#          (eval "$(scripts/pg-cluster.sh start DIR)").
#   stop   stops the cluster in DIR; the folder stays (rm -r it when done).
#   --port N  listen on port N (default: a free one).
#
# The cluster: initdb -E UTF8, locale C.UTF-8 (C where there is none), trust
# authentication, superuser postgres. The server listens on 127.0.0.1 only,
# its Unix socket in the folder, with fsync on, as users run it. PostgreSQL's
# programs come from $QK_PG_BIN if set, else the newest
# /usr/lib/postgresql/*/bin (Debian), else pg_config --bindir, else PATH.
# initdb and postgres refuse to run as root: as root they run as the system
# user postgres (Debian's postgresql-common makes it), which owns the folder.
set -uo pipefail

say() { echo "pg-cluster: $*" >&2; }
usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; }
usage_error() { say "$* (see --help)"; exit 2; }
die() { say "$*"; exit 3; }
port_arg() {
    if ! [[ "$1" =~ ^[0-9]{1,5}$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
        usage_error "--port needs a port number"
    fi
    port=$1
    port_given=1
}

# The last lines of a log, indented, to stderr.
show_tail() {
    [ -s "$2" ] || return 0
    say "$1 ($2, last lines):"
    tail -n 30 "$2" | sed 's/^/    /' >&2
}

# The folder of initdb, pg_ctl, pg_isready, psql...
find_bindir() {
    local d
    if [ -n "${QK_PG_BIN:-}" ]; then
        [ -x "$QK_PG_BIN/initdb" ] || die "QK_PG_BIN=$QK_PG_BIN holds no initdb"
        echo "$QK_PG_BIN"
        return
    fi
    # Debian installs each major version beside the others; sort -V puts 9.6 before 15.
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    done
    d=$(pg_config --bindir 2>/dev/null) && [ -x "$d/initdb" ] && { echo "$d"; return; }
    d=$(command -v initdb) && { dirname "$(readlink -f "$d")"; return; }
    die "no PostgreSQL server programs (initdb) found: install postgresql (scripts/install-deps.sh) or set QK_PG_BIN"
}

# as_pg [-o LOG] CMD...: CMD as the user PostgreSQL runs as (postgres when
# we are root), from the folder $work so that it never starts in one it
# cannot enter; with -o, its output appended to LOG. The redirection is made
# inside the subshell: a signal that comes meanwhile is trapped once CMD
# ends, and the trap must find our own stderr, not LOG.
if [ "$(id -u)" -eq 0 ]; then
    as_root=1
    if command -v runuser >/dev/null 2>&1; then
        runas=(runuser -u postgres --)
    else
        runas=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    fi
else
    as_root=0
    runas=()
fi
as_pg() {
    local log=
    if [ "$1" = -o ]; then
        log=$2
        shift 2
    fi
    (
        cd "$work" || exit
        if [ -n "$log" ]; then exec >>"$log" 2>&1; fi
        exec "${runas[@]}" "$@"
    )
}

# Makes the folder $work PostgreSQL's (as root: the user postgres's) and
# checks that it can write there.
own_work() {
    if [ "$as_root" = 1 ]; then
        id -u postgres >/dev/null 2>&1 || die "run as root, and there is no system user postgres to run" \
            "initdb and postgres as (they refuse root): install postgresql (scripts/install-deps.sh)"
        chown postgres: "$work" || die "could not give $work to the user postgres"
    fi
    local who
    who=$(id -un)
    [ "$as_root" = 0 ] || who=postgres
    as_pg -o /dev/null test -w "$work" ||
        die "the user $who cannot write $work (each folder above it must let it through): choose another folder"
}

# The socket's path ($work/sock/.s.PGSQL.PORT) must fit in a sockaddr_un (107 bytes).
check_socket_path() {
    [ $((${#work} + 21)) -le 107 ] || die "$work is too long a path for PostgreSQL's Unix socket in it:" \
        "choose a shorter one"
}

# A free port on 127.0.0.1: one the kernel gives, else the first of a few
# random ones nothing answers on.
free_port() {
    local p _
    p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
        2>/dev/null) && { echo "$p"; return; }
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    die "no free port found on 127.0.0.1"
}

# initdb in $work/data, then our settings.
init_cluster() {
    local locale=C sock
    locale -a 2>/dev/null | grep -qixE 'c\.utf-?8' && locale=C.UTF-8
    as_pg mkdir -p "$work/sock" || die "could not make $work/sock"
    if ! as_pg -o "$work/initdb.log" "$bin/initdb" -D "$work/data" -U postgres -E UTF8 \
        --locale="$locale" --auth=trust; then
        show_tail "initdb failed" "$work/initdb.log"
        die "initdb failed"
    fi
    sock=${work//\'/\'\'}/sock
    # Loopback only; fsync is the default, said here so that nobody turns it off unawares.
    # (As root too, the file stays the user postgres's: it is appended to.)
    if ! cat >>"$work/data/postgresql.conf" <<EOF; then
# scripts/pg-cluster.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
fsync = on
EOF
        die "could not write $work/data/postgresql.conf"
    fi
}

# Starts the server on port $port ($port_given: 0 lets another free port be
# tried when something took this one first) and waits until it accepts
# connections; sets $port.
start_cluster() {
    local try
    for try in 1 2 3 4 5; do
        [ -n "$port" ] || port=$(free_port) || exit 3
        if as_pg -o "$work/pg_ctl.log" "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -o "-p $port" \
            -w -t 60 start; then
            break
        fi
        if [ "$port_given" = 0 ] && [ "$try" -lt 5 ] && grep -q "Address already in use" "$work/server.log"; then
            say "port $port was taken meanwhile: trying another"
            port=
            continue
        fi
        show_tail "pg_ctl start failed" "$work/pg_ctl.log"
        show_tail "the server's log" "$work/server.log"
        die "the server did not start on 127.0.0.1:$port"
    done
    for try in $(seq 300); do
        "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres && return 0
        sleep 0.1
    done
    show_tail "the server's log" "$work/server.log"
    die "the server started but pg_isready says it does not accept connections on 127.0.0.1:$port"
}

# Stops the server of $work if it runs: fast (connections cut, no waiting
# for them), immediate if that fails, SIGKILL if even that fails.
stop_cluster() {
    local pid
    [ -f "$work/data/postmaster.pid" ] || return 0
    as_pg -o "$work/pg_ctl.log" "$bin/pg_ctl" -D "$work/data" -m fast -w -t 60 stop && return 0
    say "pg_ctl stop -m fast failed; stopping the server with -m immediate"
    as_pg -o "$work/pg_ctl.log" "$bin/pg_ctl" -D "$work/data" -m immediate -w -t 30 stop && return 0
    pid=$(head -n 1 "$work/data/postmaster.pid" 2>/dev/null)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        say "killing the server (pid $pid)"
        kill -KILL "$pid"
        return 0
    fi
    show_tail "pg_ctl stop failed" "$work/pg_ctl.log"
    return 1
}

url() { echo "postgresql://postgres@127.0.0.1:$port"; }

# --- run ---------------------------------------------------------------------

child=

# Ends CMD (SIGTERM, SIGKILL after 30 s); SIGTERM whatever signal we got,
# since a command started in the background of a script ignores SIGINT.
end_child() {
    local _
    [ -n "$child" ] && kill -0 "$child" 2>/dev/null || return 0
    kill -TERM "$child" 2>/dev/null
    for _ in $(seq 300); do
        kill -0 "$child" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$child" 2>/dev/null && { say "the command did not end on SIGTERM: killed"; kill -KILL "$child"; }
    wait "$child" 2>/dev/null
}

on_signal() {
    say "got SIG$1: ending the command, stopping the server"
    end_child
    exit "$2"
}

cleanup() {
    local rc=$?
    trap '' TERM INT HUP
    if [ -n "$work" ] && [ -d "$work" ]; then
        stop_cluster || say "the server in $work may still run"
        rm -rf "$work"
    fi
    exit "$rc"
}

cmd_run() {
    local rc base
    while [ $# -gt 0 ]; do
        case "$1" in
            --port) port_arg "${2:-}"; shift 2 ;;
            --) shift; break ;;
            *) usage_error "run: unknown argument $1 (the command comes after --)" ;;
        esac
    done
    [ $# -gt 0 ] || usage_error "run: no command after --"
    bin=$(find_bindir) || exit 3
    trap cleanup EXIT
    trap 'on_signal TERM 143' TERM
    trap 'on_signal INT 130' INT
    trap 'on_signal HUP 129' HUP
    # Under $TMPDIR when the socket's path fits there, else /tmp.
    base=${TMPDIR:-/tmp}
    [ ${#base} -le 60 ] || base=/tmp
    work=$(mktemp -d "$base/qk-pg.XXXXXX") || die "could not make a folder in $base"
    own_work
    check_socket_path
    init_cluster
    start_cluster
    export QK_PG_URL QK_PG_BIN="$bin"
    QK_PG_URL=$(url)
    # In the background so that a signal is handled at once (bash runs a
    # trap only when the foreground command ends); stdin passed on, since a
    # background command's is /dev/null otherwise.
    "$@" <&0 &
    child=$!
    wait "$child"
    rc=$?
    child=
    if [ "$rc" -ne 0 ]; then
        say "the command exited with $rc"
        show_tail "the server's log" "$work/server.log"
    fi
    exit "$rc"
}

# --- start and stop ------------------------------------------------------------

cmd_start() {
    if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then usage_error "start: which folder?"; fi
    work=$1
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
            --port) port_arg "${2:-}"; shift 2 ;;
            *) usage_error "start: unknown argument $1" ;;
        esac
    done
    bin=$(find_bindir) || exit 3
    mkdir -p "$work" || die "could not make $work"
    work=$(cd "$work" && pwd)
    if [ -f "$work/data/PG_VERSION" ]; then
        [ ! -f "$work/data/postmaster.pid" ] || die "$work's server runs already (or was not stopped):" \
            "scripts/pg-cluster.sh stop $work"
        # The same port as before unless told otherwise: the URL stays.
        [ -n "$port" ] || port=$(cat "$work/port" 2>/dev/null)
        port_given=${port:+1}
        port_given=${port_given:-0}
    else
        [ -z "$(ls -A "$work")" ] || die "$work is neither empty nor a cluster of this script"
        own_work
        check_socket_path
        init_cluster
    fi
    start_cluster
    echo "$port" >"$work/port"
    say "PostgreSQL $("$bin/postgres" -V | sed 's/^[^0-9]*//') runs in $work (log: $work/server.log);" \
        "stop it with: $0 stop $work"
    echo "export QK_PG_URL=$(url)"
    echo "export QK_PG_BIN=$bin"
}

cmd_stop() {
    [ $# -eq 1 ] || usage_error "stop: which folder?"
    work=$(cd "$1" 2>/dev/null && pwd) || die "no folder $1"
    [ -f "$work/data/PG_VERSION" ] || die "$work holds no cluster of this script"
    bin=$(find_bindir) || exit 3
    [ -f "$work/data/postmaster.pid" ] || { say "$work's server was not running"; return 0; }
    stop_cluster || die "could not stop $work's server"
    say "stopped; the cluster stays in $work (rm -r it when done)"
}

work=
port=
port_given=0
bin=
case "${1:-}" in
    run) shift; cmd_run "$@" ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    -h|--help|help) usage ;;
    "") usage >&2; exit 2 ;;
    *) usage_error "unknown command $1" ;;
esac
