# procs.sh: the processes a browser test starts are kept by PID, stopped by
# PID when the test ends (however it ends) and waited for, so that none
# outlives the test. Sourced after tests/cli/lib.sh. The helpers are lib.sh's
# own where it has them (spawn, stop, cleanup, alive, wait_file, with the PIDS
# array); where it does not, the same ones, with the same behaviour, are
# defined here. reap is the browser tests' own.
if ! declare -F spawn >/dev/null; then
    PIDS=()
    # alive PID: running (a zombie, dead but not yet waited for, is not)
    alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
    # spawn COMMAND...: runs it in the background (redirect the spawn call for
    # its output); its PID is $LAST_PID and is ended at exit if the test does not.
    spawn() { "$@" & LAST_PID=$!; PIDS+=("$LAST_PID"); }
    # stop PID [SIGNAL]: sends SIGNAL (TERM) and waits for the process, 20 s at
    # most before SIGKILL; returns its exit status.
    stop() {
        local p=$1 sig=${2:-TERM} rc
        kill -"$sig" "$p" 2>/dev/null
        for _ in $(seq 400); do alive "$p" || break; sleep 0.05; done
        alive "$p" && { echo "# $p did not stop on SIG$sig: killed"; kill -KILL "$p" 2>/dev/null; }
        wait "$p" 2>/dev/null
        rc=$?
        forget "$p"
        return "$rc"
    }
    cleanup() {
        local p
        for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop "$p" >/dev/null; done
        rm -rf "$WORK"
    }
    wait_file() {
        for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done
        return 1
    }
    # serve_test (of a lib.sh without spawn) sets a trap of its own: this puts
    # its server with the others and the trap back.
    adopt_server() {
        PIDS+=("$SERVER_PID")
        trap cleanup EXIT
    }
    trap cleanup EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
else
    adopt_server() { :; } # lib.sh's serve_test spawns its server
fi

# forget PID: no longer ended at exit (it ended, and was waited for).
forget() {
    local keep=() q
    for q in "${PIDS[@]+"${PIDS[@]}"}"; do [ "$q" = "$1" ] || keep+=("$q"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

# reap PID: waits for a process that ends by itself (a browser walk, however
# long it takes); its status is in $REAPED.
reap() {
    wait "$1"
    REAPED=$?
    forget "$1"
}
