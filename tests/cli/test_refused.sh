#!/usr/bin/env bash
# Issue 15: `sync --watch` on a phone downloaded and refused the same bundle
# (signed with a key the phone does not trust) on every cycle. A refused
# bundle is said once, shown by `status`, not fetched again until the trust
# store changes, and installed once its key is trusted.
. "$(dirname "$0")/lib.sh"
export QUIZKIT_HOME="$WORK/phone"
mini_bundle
serve_test
branch_fixture 'm1,张三,b1,内科,1111\n'
code() { A code --branch "$1" | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1; }
# A second publisher the server trusts and the phone does not.
"$QK" keygen -o "$WORK/other" >/dev/null 2>&1 || fail "keygen"
cp "$WORK/other.pub" "$SRV/trust/"
cp -r "$TESTS/fixtures/mini" "$WORK/src"
sed -i 's/"id": "test.mini"/"id": "test.other"/' "$WORK/src/bundle.json"
"$QK" bundle build "$WORK/src" -o "$WORK/other.qkb" --key "$WORK/other.key" --quiet >/dev/null || fail "build other"
A bundle publish "$WORK/other.qkb" --trust "$SRV/trust" >/dev/null 2>&1 || fail "publish other"

"$QK" enroll "$URL" "$(code b1)" --name phone >/dev/null 2>&1 || fail "enrol"
"$QK" sync >"$WORK/s1" 2>&1
expect_contains "the first sync says the bundle was not installed" "$WORK/s1" "题库包 test.other 版本 1 没有安装"
expect_contains "and what would change that" "$WORK/s1" "quizkit trust add"
gets() { grep -c "path=/api/v1/bundles/test.other/1 status=200" "$SRV/log"; }
expect_eq "it was downloaded once" "$(gets)" 1
"$QK" sync >"$WORK/s2" 2>&1
"$QK" sync >"$WORK/s3" 2>&1
expect_eq "later syncs do not download it again" "$(gets)" 1
expect_not_contains "nor say it again" "$WORK/s3" "test.other"
"$QK" status >"$WORK/st" 2>&1
expect_contains "status shows what was refused" "$WORK/st" "服务器提供的题库包 test.other 1 没有安装"
# The member trusts the key: the next sync fetches and installs it.
"$QK" trust add "$WORK/other.pub" >/dev/null 2>&1 || fail "trust add"
"$QK" sync >"$WORK/s4" 2>&1
expect_contains "once trusted, the next sync installs it" "$WORK/s4" "已下载并安装题库包 test.other 版本 1"
"$QK" status >"$WORK/st" 2>&1
expect_not_contains "and status no longer lists it as refused" "$WORK/st" "没有安装"
finish
