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

finish() {
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}
