# lib.sh: helpers for the end-to-end tests. Each test script gets
#   $1 the quizkit binary, $2 the built sample bundle, $3 the tests/ folder.
set -u
QK=$1
SAMPLE=$2
TESTS=$3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qkcli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export QUIZKIT_HOME="$WORK/home"
unset LANG LC_ALL LC_MESSAGES QUIZKIT_LANG
export NO_COLOR=1
FAILS=0
PASSES=0

ok() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $1"; }

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
# folder in $WORK/srv, the test key trusted for publishing. Sets SRV, DB, URL
# and ADMIN_PW; the server is killed when the test ends.
serve_test() {
    SRV="$WORK/srv"
    DB="sqlite:$SRV/server.db"
    mkdir -p "$SRV/trust"
    [ -f "$WORK/pub.pub" ] && cp "$WORK/pub.pub" "$SRV/trust/"
    "$QK" serve --db "$DB" --port 0 --port-file "$SRV/port" --trust "$SRV/trust" --log "$SRV/log" \
        >"$SRV/out" 2>&1 &
    SERVER_PID=$!
    trap 'kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
    for _ in $(seq 100); do [ -s "$SRV/port" ] && break; sleep 0.05; done
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
