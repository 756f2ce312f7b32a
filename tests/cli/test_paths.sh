#!/usr/bin/env bash
# Issue 14, item 7: no path comes from request data, and no reply names a
# path on the server. Bundle ids and versions in URLs follow the one id rule
# (a version of "../../x" never reaches open()); a refused upload names the
# upload, not the server's folders.
. "$(dirname "$0")/lib.sh"
mini_bundle
serve_test
branch_fixture 'm1,张三,b1,内科,1111\n'
TOKEN=$(curl -s -X POST --data-binary '{"user":"li","password":"leader-pass-1"}' "$URL/api/v1/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
get() { curl -s -o "$WORK/b" -w '%{http_code}' --path-as-is -H "Authorization: Bearer $TOKEN" "$URL$1"; }
expect_eq "a published bundle downloads" "$(get /api/v1/bundles/test.mini/1)" 200
# A file the server can read, outside its bundles folder, named by traversal.
printf 'TOP-SECRET-CONTENT' >"$SRV/secret-x.qkb"
for path in "/api/v1/bundles/test.mini/../../secret-x" "/api/v1/bundles/test.mini/..%2F..%2Fsecret-x" \
            "/api/v1/bundles/..%2Fsecret/x" "/api/v1/bundles/../../etc/passwd"; do
    code=$(get "$path")
    [ "$code" = 404 ] && ! grep -q TOP-SECRET "$WORK/b" && ok "refused: $path" || fail "refused: $path (got $code: $(head -c 200 "$WORK/b"))"
done
# A refused upload: the reason, without the server's folders.
curl -s -o "$WORK/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/vnd.quizkit.bundle' --data-binary @"$SAMPLE" "$URL/api/v1/bundles" >"$WORK/code"
expect_eq "a bundle of an untrusted key is refused" "$(cat "$WORK/code")" 422
expect_not_contains "the reply names no server path" "$WORK/b" "$SRV"
expect_not_contains "nor its upload's temporary name" "$WORK/b" ".upload-"
expect_contains "it says what was refused" "$WORK/b" "upload.qkb"
printf 'not a bundle' >"$WORK/junk"
curl -s -o "$WORK/b" -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/junk" "$URL/api/v1/bundles" >/dev/null
expect_not_contains "a damaged upload names no server path either" "$WORK/b" "$SRV"
finish
