# lib.sh: helpers for the end-to-end tests. Each test script gets
#   $1 the quizkit binary, $2 the built sample bundle, $3 the tests/ folder.
#
# Time: the tests never read the wall clock. quizkit reads its clock from
# QUIZKIT_NOW / QUIZKIT_NOW_RATE / QUIZKIT_NOW_SINCE (docs/time.md), which
# scripts/date-sweep.sh sets for a whole run; clock_now and clock_date say
# what that clock shows, frozen_at runs one command with it stopped.
#
# Processes: every process a test leaves running is started with spawn and
# ended with stop, or at exit by the EXIT trap, which kills and waits for
# each (the suite's last test, e2e/leftovers, fails if any survives).
set -u
QK=$1
SAMPLE=$2
TESTS=$3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qkcli-XXXXXX")
export QUIZKIT_HOME="$WORK/home"
unset LANG LC_ALL LC_MESSAGES QUIZKIT_LANG
export NO_COLOR=1
FAILS=0
PASSES=0
# An instant without its anchor would start a separate clock in each process:
# anchor it here, so every process of this test shares one moving clock.
if [ -n "${QUIZKIT_NOW:-}" ] && [ -z "${QUIZKIT_NOW_SINCE:-}" ]; then
    QUIZKIT_NOW_SINCE=$(date +%s%3N)
    export QUIZKIT_NOW_SINCE
fi

ok() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $1"; }

# --- processes ---
PIDS=()
# alive PID: running (a zombie, dead but not yet waited for, is not)
alive() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}
# spawn COMMAND...: runs it in the background (redirect the spawn call for its
# input and output); its PID is $LAST_PID and is ended at exit if the test
# does not. (<&0: a background command's input is otherwise /dev/null.)
spawn() { "$@" <&0 & LAST_PID=$!; PIDS+=("$LAST_PID"); }
# stop PID [SIGNAL]: sends SIGNAL (TERM; 0 sends nothing) and waits for the
# process, 20 s at most before SIGKILL; returns its exit status.
stop() {
    local p=$1 sig=${2:-TERM} rc
    {
        kill -"$sig" "$p"
        for _ in $(seq 400); do alive "$p" || break; sleep 0.05; done
        alive "$p" && { echo "# $p did not stop on SIG$sig: killed" >&3; kill -KILL "$p"; }
        wait "$p"
        rc=$?
    } 3>&1 2>/dev/null  # (and no "Killed" notice from the shell)
    forget "$p"
    return "$rc"
}
# forget PID: no longer ended at exit (the test waited for it itself).
forget() {
    local keep=() q
    for q in "${PIDS[@]+"${PIDS[@]}"}"; do [ "$q" = "$1" ] || keep+=("$q"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}
cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 40); do
        local left=0
        for p in "${PIDS[@]+"${PIDS[@]}"}"; do alive "$p" && left=1; done
        [ "$left" = 0 ] && break
        sleep 0.05
    done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -KILL "$p"; wait "$p"; done 2>/dev/null
    PIDS=()
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# wait_until SECONDS COMMAND...: runs COMMAND every 50 ms until it succeeds;
# fails if it has not within SECONDS.
wait_until() {
    local n=$(($1 * 20))
    shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
    "$@"
}
# wait_file FILE: waits (10 s at most) until FILE exists and is not empty.
wait_file() { wait_until 10 test -s "$1"; }

# --- the clock ---
# clock_now [--days N] [--seconds N]: the instant quizkit's clock shows now.
clock_now() { python3 "$TESTS/cli/qkclock.py" now "$@"; }
# clock_date [--at INSTANT] [--days N]: the Beijing date the clock shows now.
clock_date() { python3 "$TESTS/cli/qkclock.py" date "$@"; }
# frozen_at INSTANT COMMAND...: COMMAND with the clock stopped at INSTANT, for
# checks that hold within one day (today's points, the daily set) and must not
# see midnight pass between two commands.
frozen_at() { QUIZKIT_NOW=$1 QUIZKIT_NOW_RATE=0 QUIZKIT_NOW_SINCE= "${@:2}"; }

# answer_quiz [answer.py options] -- COMMAND...: COMMAND with its questions
# answered as they come (tests/cli/answer.py): right by default.
answer_quiz() { python3 "$TESTS/cli/answer.py" "$@"; }

# --- JSON ---
# json_start: one Python for every jv of this test (start it in the test's
# own shell, not in a $(...)); jv FILE EXPR prints EXPR over the JSON in FILE
# (as d), e.g. jv "$WORK/b" 'd["token"]'.
JSON_PID=
json_start() {
    coproc JSONEVAL { exec python3 -u "$TESTS/cli/jsoneval.py"; }
    JSON_PID=$JSONEVAL_PID
    PIDS+=("$JSON_PID")
}
jv() {
    if [ -z "$JSON_PID" ]; then
        python3 -c "import json,sys; d=b=json.load(open(sys.argv[1])); print($2)" "$1"
        return
    fi
    local line
    printf '%s\t%s\n' "$1" "$2" >&"${JSONEVAL[1]}"
    while IFS= read -r line <&"${JSONEVAL[0]}"; do
        [ "$line" = $'\x1e' ] && return 0
        printf '%s\n' "$line"
    done
}

# expect_contains NAME FILE TEXT
expect_contains() {
    if grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1: '$3' not in output:"; sed 's/^/    | /' "$2"; fi
}
expect_not_contains() {
    if grep -qF -- "$3" "$2"; then fail "$1: '$3' should not be in output"; sed 's/^/    | /' "$2"; else ok "$1"; fi
}
# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}
# sql QUERY: runs a query on the progress file
sql() { sqlite3 "$QUIZKIT_HOME/progress.db" "$1"; }

# A publisher key for the test bundles, trusted by the test's data folder.
test_key() {
    [ -f "$WORK/pub.key" ] || "$QK" keygen -o "$WORK/pub" >/dev/null || { fail "keygen"; return 1; }
    "$QK" trust add "$WORK/pub.pub" >/dev/null || { fail "trust add"; return 1; }
}

# The small fixture bundle with known answers, signed and installed.
mini_bundle() {
    test_key
    "$QK" bundle build "$TESTS/fixtures/mini" -o "$WORK/mini.qkb" --key "$WORK/pub.key" --quiet >/dev/null || { fail "build mini"; return 1; }
    "$QK" bundle install "$WORK/mini.qkb" >/dev/null || { fail "install mini"; return 1; }
}

# serve_test: a server on a free loopback port with its database and trust
# folder in $WORK/srv, the test key trusted for publishing. Sets SRV, DB, URL,
# ADMIN_PW and SERVER_PID; the server is stopped when the test ends.
serve_test() {
    SRV="$WORK/srv"
    DB="sqlite:$SRV/server.db"
    mkdir -p "$SRV/trust"
    [ -f "$WORK/pub.pub" ] && cp "$WORK/pub.pub" "$SRV/trust/"
    spawn "$QK" serve --db "$DB" --port 0 --port-file "$SRV/port" --trust "$SRV/trust" --log "$SRV/log" \
        >"$SRV/out" 2>&1
    SERVER_PID=$LAST_PID
    wait_file "$SRV/port" || fail "the server started: $(cat "$SRV/out")"
    URL="http://127.0.0.1:$(cat "$SRV/port")"
    ADMIN_PW=$(sed -n 's/.*初始密码：\([0-9a-f-]*\).*/\1/p' "$SRV/out")
}

# branch_fixture ROWS: on the test server, branches b1 and b2, the roster
# rows given ("id,name,branch,dept,PIN" lines), the mini bundle published,
# and the leader li of b1 (password leader-pass-1). A runs admin commands.
A() { "$QK" admin "$@" --db "$DB"; }
branch_fixture() {
    A branch add b1 "第一党支部" >/dev/null
    A branch add b2 "第二党支部" >/dev/null
    printf '编号,姓名,支部,科室,PIN\n%b' "$1" >"$WORK/roster.csv"
    A member import "$WORK/roster.csv" >/dev/null || fail "roster import"
    A bundle publish "$WORK/mini.qkb" --trust "$SRV/trust" >/dev/null || fail "publish mini"
    printf 'leader-pass-1\n' >"$WORK/pw"
    A leader add li --branch b1 --password-file "$WORK/pw" >/dev/null || fail "leader li"
}

finish() {
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}
