#!/usr/bin/env bash
# pg_run.sh: the PostgreSQL runs of the server's tests under ctest (issue 19).
# One throwaway cluster (scripts/pg-cluster.sh) serves every pg/* test: a
# ctest fixture starts it before them and stops it after the last.
#   pg_run.sh start DIR        a new cluster in DIR (a folder left from a run
#                              before is stopped and removed first)
#   pg_run.sh stop DIR         stops it and removes DIR
#   pg_run.sh with DIR CMD...  CMD with the cluster named in its environment:
#                              QK_PG_URL and QKT_PG (postgresql://postgres@
#                              127.0.0.1:PORT), QK_PG_BIN (psql, pg_dump...)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cluster() { bash "$here/scripts/pg-cluster.sh" "$@"; }
[ $# -ge 2 ] || { echo "usage: pg_run.sh start|stop DIR | with DIR CMD..." >&2; exit 2; }
what=$1 dir=$2
shift 2
case "$what" in
start)
    if [ -e "$dir" ]; then
        cluster stop "$dir/cluster" >/dev/null 2>&1 || true
        rm -rf "$dir"
    fi
    mkdir -p "$dir"
    cluster start "$dir/cluster" >"$dir/env"
    cat "$dir/env"
    ;;
stop)
    [ -d "$dir/cluster" ] && cluster stop "$dir/cluster"
    rm -rf "$dir"
    ;;
with)
    [ -s "$dir/env" ] || { echo "pg_run.sh: no cluster in $dir (the pg/cluster fixture did not run)" >&2; exit 1; }
    # shellcheck disable=SC1091
    . "$dir/env"
    export QKT_PG=$QK_PG_URL
    exec "$@"
    ;;
*)
    echo "pg_run.sh: unknown command $what" >&2
    exit 2
    ;;
esac
