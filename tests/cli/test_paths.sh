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
# A server started as before bundles were kept in its database, with
# `--bundles bundles`: it says the option is no longer needed and starts; a
# publish keeps the bundle in the database (no folder is made), downloads
# come from there, and a damaged upload is answered naming only the upload.
mkdir -p "$WORK/srv2/trust"
cp "$WORK/pub.pub" "$WORK/srv2/trust/"
spawn bash -c "cd '$WORK/srv2' && exec '$QK' serve --db sqlite:server.db --bundles bundles --port 0 \
    --port-file port --trust trust --log log" >"$WORK/srv2/out" 2>&1
SRV2_PID=$LAST_PID
wait_file "$WORK/srv2/port" || fail "the second server started: $(cat "$WORK/srv2/out")"
expect_contains "--bundles is noted as no longer needed" "$WORK/srv2/out" "--bundles 已不再需要"
URL2="http://127.0.0.1:$(cat "$WORK/srv2/port")"
PW2=$(sed -n 's/.*初始密码：\([0-9a-f-]*\).*/\1/p' "$WORK/srv2/out")
TOKEN2=$(curl -s -X POST --data-binary "{\"user\":\"admin\",\"password\":\"$PW2\"}" "$URL2/api/v1/login" |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
code=$(curl -s -o "$WORK/b" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN2" \
       --data-binary @"$WORK/junk" "$URL2/api/v1/bundles")
expect_eq "a damaged upload is answered" "$code" 422
expect_contains "naming the upload" "$WORK/b" "upload.qkb"
# publish_fetch FILE VERSION FROM TO: published over HTTP, kept in the
# database (no folder), downloaded whole and by the range FROM-TO.
publish_fetch() {
    local code
    code=$(curl -s -o "$WORK/b" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN2" \
           -H 'Content-Type: application/vnd.quizkit.bundle' --data-binary @"$1" "$URL2/api/v1/bundles")
    expect_eq "a bundle of $(stat -c %s "$1") bytes is published" "$code" 201
    expect_eq "into the database: no bundles folder" "$(ls -A "$WORK/srv2" | grep -c '^bundles$')" 0
    code=$(curl -s -o "$WORK/dl" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN2" \
           "$URL2/api/v1/bundles/test.mini/$2")
    expect_eq "it downloads" "$code" 200
    expect_eq "byte for byte" "$(cmp -s "$WORK/dl" "$1" && echo same)" same
    code=$(curl -s -o "$WORK/part" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN2" \
           -H "Range: bytes=$3-$4" "$URL2/api/v1/bundles/test.mini/$2")
    expect_eq "a range of it downloads ($3-$4)" "$code" 206
    expect_eq "the bytes asked for" \
        "$(cmp -s "$WORK/part" <(tail -c +$(($3 + 1)) "$1" | head -c $(($4 - $3 + 1))) && echo same)" same
}
publish_fetch "$WORK/mini.qkb" 1 100 299
# A bundle larger than the store's pieces (256 KiB): a picture of 700 KiB,
# and a range across two pieces.
mkdir -p "$WORK/big/images"
cp "$TESTS/fixtures/mini/bundle.json" "$WORK/big/"
sed 's|"stem": "中国共产党成立于哪一年？"|"stem": "![图](images/big.png) 中国共产党成立于哪一年？"|' \
    "$TESTS/fixtures/mini/q.json" >"$WORK/big/q.json"
{ printf '\x89PNG\r\n\x1a\n'; head -c 716800 /dev/urandom; } >"$WORK/big/images/big.png"
sed -i 's/"version": "1"/"version": "2"/' "$WORK/big/bundle.json"
"$QK" bundle build "$WORK/big" -o "$WORK/big.qkb" --key "$WORK/pub.key" --quiet || fail "build the big bundle"
publish_fetch "$WORK/big.qkb" 2 262000 600000
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL2/api/v1/time")
expect_eq "and the server still answers" "$code" 200
stop "$SRV2_PID"
finish
