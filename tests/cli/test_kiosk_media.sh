#!/usr/bin/env bash
# A lesson page with a picture at the kiosk: the picture travels in the signed
# bundle and the kiosk serves it as it is (PNG, byte for byte); names that
# are not in the bundle get a 404.
. "$(dirname "$0")/lib.sh"
test_key
SRC="$WORK/pics"
mkdir -p "$SRC/images"
# A 2x2 red PNG, written byte by byte.
python3 - "$SRC/images/dot.png" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
cat >"$SRC/bundle.json" <<'JSON'
{"id": "test.pics", "version": "1", "title": "图片测试", "themes": [{"id": "t", "title": "测试主题", "guests": true}],
 "files": ["q.json", "pic.md"]}
JSON
cat >"$SRC/q.json" <<'JSON'
{"theme": "t", "questions": [{"id": "p1", "type": "judge", "stem": "红色是三原色之一。", "answer": "对"}]}
JSON
cat >"$SRC/pic.md" <<'MD'
---
id: lesson-pic
title: 看图党课
theme: t
kind: story
minutes: 1
completion: end
scoring: none
---

## start
请看这张图：![一个红点](images/dot.png)
-> end

## end {end}
学完了。
MD
"$QK" bundle build "$SRC" -o "$WORK/pics.qkb" --key "$WORK/pub.key" --quiet >"$WORK/o" 2>&1 || fail "build: $(cat "$WORK/o")"
"$QK" bundle install "$WORK/pics.qkb" >/dev/null 2>&1 || fail "install"
spawn "$QK" kiosk --port 0 --port-file "$WORK/port" --bundle test.pics >"$WORK/out" 2>&1
wait_file "$WORK/port" || fail "the kiosk started: $(cat "$WORK/out")"
K="http://127.0.0.1:$(cat "$WORK/port")"
G=$(curl -s -X POST "$K/api/guest" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
curl -s -X POST -H "X-Kiosk-Session: $G" --data-binary '{"id":"lesson-pic"}' "$K/api/lesson" >"$WORK/l"
expect_contains "the page names its picture" "$WORK/l" "](images/dot.png)"
expect_eq "the picture is served" "$(curl -s -o "$WORK/got.png" -w '%{http_code} %{content_type}' "$K/api/media/images/dot.png")" "200 image/png"
expect_eq "byte for byte" "$(cmp -s "$WORK/got.png" "$SRC/images/dot.png" && echo same)" same
expect_eq "and as the page asks for it (escaped)" "$(curl -s -o /dev/null -w '%{http_code}' "$K/api/media/images%2Fdot.png")" 200
expect_eq "a name not in the bundle" "$(curl -s -o /dev/null -w '%{http_code}' "$K/api/media/images/none.png")" 404
finish
