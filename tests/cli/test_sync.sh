#!/usr/bin/env bash
# A kiosk that never sees a network: export to a file, import on the server,
# bring the acknowledgement back; nothing lost, nothing counted twice.
. "$(dirname "$0")/lib.sh"
mini_bundle
SRV="$WORK/server"
mkdir -p "$SRV"

printf 'B\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq >/dev/null 2>&1
"$QK" status >"$WORK/s0"
expect_contains "status shows pending events" "$WORK/s0" "记录 7 条，服务器已确认 0 条，待同步 7 条"

"$QK" export --out "$WORK/stick.qkd" >"$WORK/e" 2>&1
expect_eq "export exits 0" "$?" 0
expect_contains "export counts" "$WORK/e" "已导出 7 条记录"
expect_eq "device key kept private" "$(stat -c %a "$QUIZKIT_HOME/device.key")" 600

# A server that does not have the bundle yet keeps the attempt and says why
# it could not score it (and nothing about events that do not replay).
BARE="$WORK/bare"
mkdir -p "$BARE"
"$QK" admin import "$WORK/stick.qkd" --db "sqlite:$BARE/server.db" --ack-dir "$BARE" >"$WORK/ib" 2>&1
expect_eq "import to a server without the bundle exits 0" "$?" 0
expect_contains "the attempt not scored, for want of its bundle" "$WORK/ib" "1 次答题无法评分：服务器上没有题库 test.mini 版本 1（用 quizkit admin bundle publish 发布后会补评）"
expect_not_contains "no replay failure claimed" "$WORK/ib" "无法按题库重放"
expect_not_contains "nothing said re-scored" "$WORK/ib" "重新评分"

# The server's admin publishes the bundle (kept in the database), then imports.
mkdir -p "$SRV/trust" && cp "$WORK/pub.pub" "$SRV/trust/"
"$QK" admin bundle publish "$WORK/mini.qkb" --db "sqlite:$SRV/server.db" --trust "$SRV/trust" >"$WORK/p" 2>&1
expect_eq "publish exits 0" "$?" 0
expect_eq "no bundles folder beside the database" "$(ls -d "$SRV/bundles" 2>/dev/null)" ""
"$QK" admin import "$WORK/stick.qkd" --db "sqlite:$SRV/server.db" --ack-dir "$SRV" >"$WORK/i" 2>&1
expect_eq "server import exits 0" "$?" 0
expect_contains "the server re-scores the attempt" "$WORK/i" "重新评分 1 次答题，其中 0 次与设备的分数不符"
expect_eq "both scores kept" "$(sqlite3 "$SRV/server.db" 'select device_score, server_score, mismatch from attempt_scores')" "700|700|0"
expect_contains "server counts" "$WORK/i" "收到 7 条，新增 7 条，重复 0 条，冲突 0 条；已确认到第 7 条"
"$QK" admin import "$WORK/stick.qkd" --db "sqlite:$SRV/server.db" --ack-dir "$SRV" >"$WORK/i2" 2>&1
expect_contains "the same file again changes nothing" "$WORK/i2" "新增 0 条，重复 7 条"
expect_eq "each event once on the server" "$(sqlite3 "$SRV/server.db" 'select count(*), count(distinct id) from events')" "7|7"
expect_eq "server holds the answers as given" "$(sqlite3 "$SRV/server.db" "select json_extract(payload,'\$.response') from events where kind='answer' and json_extract(payload,'\$.q')='q4'")" "1921|南湖"

# Issue 14, item 2: the first acknowledgement is not trusted for its own key.
# A USB-only device learns the server's key by its fingerprint, read out by
# the server's admin (quizkit admin server-key).
"$QK" import-ack "$SRV"/ack-*.json >"$WORK/a" 2>&1
expect_eq "a first acknowledgement without the server's fingerprint is refused" "$?" 1
expect_contains "and says where to get it" "$WORK/a" "quizkit admin server-key"
"$QK" keygen -o "$WORK/rogue" >/dev/null
"$QK" admin import "$WORK/stick.qkd" --db "sqlite:$SRV/server.db" --ack-dir "$WORK" --key "$WORK/rogue.key" >/dev/null 2>&1
"$QK" admin server-key --db "sqlite:$SRV/server.db" >"$WORK/fp" 2>&1
FP=$(sed -n 's/^服务器密钥指纹：\([0-9a-f]*\)$/\1/p' "$WORK/fp")
expect_eq "the admin reads the fingerprint from the store" "${#FP}" 16
expect_contains "the import named the same fingerprint" "$WORK/i" "服务器密钥指纹 $FP"
# the database may be named before the command word too
"$QK" admin --db "sqlite:$SRV/server.db" server-key >"$WORK/fp2" 2>&1
expect_eq "admin --db DB server-key: the same fingerprint" "$(cat "$WORK/fp2")" "$(cat "$WORK/fp")"
"$QK" admin --db "sqlite:$SRV/server.db" >"$WORK/o" 2>&1
expect_eq "admin --db DB with no command is a usage error" "$?" 2
expect_contains "and shows the commands" "$WORK/o" "server-key"
"$QK" admin import --help >"$WORK/o" 2>&1
expect_eq "admin import --help is help, not an unknown option" "$?" 0
expect_contains "the admin commands" "$WORK/o" "--ack-dir"
"$QK" import-ack --help >"$WORK/o" 2>&1
expect_contains "import-ack --help names the fingerprint it needs the first time" "$WORK/o" "--server-key-id"
"$QK" import-ack "$WORK/ack-"*.json --server-key-id "$FP" >"$WORK/a" 2>&1
expect_eq "an acknowledgement by any other key is refused, even with a fingerprint" "$?" 1
expect_contains "naming both keys" "$WORK/a" "不是管理员给出的服务器密钥 $FP"
expect_contains "nothing moved" "$("$QK" status >"$WORK/s" 2>&1; echo "$WORK/s")" "服务器已确认 0 条"
"$QK" import-ack "$SRV"/ack-*.json --server-key-id "$FP" >"$WORK/a" 2>&1
expect_contains "acknowledgement applied" "$WORK/a" "服务器已确认到第 7 条，尚待同步 0 条"
"$QK" export --out "$WORK/again.qkd" >"$WORK/e2" 2>&1
expect_contains "nothing left to export" "$WORK/e2" "没有需要导出的记录"
expect_eq "no empty file written" "$(test -e "$WORK/again.qkd" && echo yes || echo no)" no

# A damaged stick file is refused whole.
"$QK" play --bundle test.mini --theme u --order seq <<<'对' >/dev/null 2>&1
"$QK" export --out "$WORK/next.qkd" >/dev/null 2>&1
python3 - "$WORK/next.qkd" <<'PY'
import gzip, sys
p = sys.argv[1]
data = gzip.open(p).read().replace(b'"response":"T"', b'"response":"F"')
gzip.open(p, "wb").write(data)
PY
"$QK" admin import "$WORK/next.qkd" --db "sqlite:$SRV/server.db" --ack-dir "$SRV" >"$WORK/bad" 2>&1
expect_eq "altered file refused" "$?" 1
expect_contains "altered file explained" "$WORK/bad" "内容与签名不符"
expect_eq "nothing of it imported" "$(sqlite3 "$SRV/server.db" 'select count(*) from events')" 7
"$QK" admin import "$WORK/next.qkd" >"$WORK/u" 2>&1
expect_eq "admin import without --db is a usage error" "$?" 2

# Acknowledgements are signed by the server: an edited one, or one from
# another server than the first, is refused and the device keeps its events.
"$QK" export --out "$WORK/third.qkd" >/dev/null 2>&1
"$QK" admin import "$WORK/third.qkd" --db "sqlite:$SRV/server.db" --ack-dir "$SRV" >/dev/null 2>&1
ACK=$(ls "$SRV"/ack-*.json)
expect_contains "the acknowledgement carries a signature" "$ACK" '"signature"'
python3 - "$ACK" "$WORK/forged.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); a["acked_seq"] -= 1; json.dump(a, open(sys.argv[2], "w"))
PY
"$QK" import-ack "$WORK/forged.json" >"$WORK/f" 2>&1
expect_eq "forged acknowledgement refused" "$?" 1
expect_contains "forged acknowledgement explained" "$WORK/f" "签名无效"
rm -f "$WORK/ack-"*.json
"$QK" admin import "$WORK/third.qkd" --db "sqlite:$SRV/server.db" --ack-dir "$WORK" --key "$WORK/rogue.key" >/dev/null 2>&1
"$QK" import-ack "$WORK/ack-"*.json >"$WORK/f" 2>&1
expect_eq "another server's acknowledgement refused" "$?" 1
expect_contains "another server named" "$WORK/f" "由另一台服务器"
"$QK" status >"$WORK/s1"
expect_contains "events still pending after refused acks" "$WORK/s1" "服务器已确认 7 条，待同步 3 条"
"$QK" import-ack "$ACK" >"$WORK/f" 2>&1
expect_contains "the real acknowledgement applies" "$WORK/f" "尚待同步 0 条"

# The kiosk's server moves (a new store, a new key): the admin's fingerprint
# replaces the key pinned before, and only that fingerprint does.
printf '对\n' | "$QK" play --bundle test.mini --theme u --order seq >/dev/null 2>&1
"$QK" export --out "$WORK/fourth.qkd" >/dev/null 2>&1
SRV2="$WORK/server2"
mkdir -p "$SRV2"
"$QK" admin import "$WORK/fourth.qkd" --db "sqlite:$SRV2/server.db" --ack-dir "$SRV2" >/dev/null 2>&1
FP2=$("$QK" admin server-key --db "sqlite:$SRV2/server.db" | sed -n 's/^服务器密钥指纹：\([0-9a-f]*\)$/\1/p')
"$QK" import-ack "$SRV2"/ack-*.json >"$WORK/f" 2>&1
expect_eq "the new server's acknowledgement is refused while the old key is pinned" "$?" 1
"$QK" import-ack "$SRV2"/ack-*.json --server-key-id "$FP" >"$WORK/f" 2>&1
expect_eq "the old server's fingerprint does not let it in" "$?" 1
"$QK" import-ack "$SRV2"/ack-*.json --server-key-id "$FP2" >"$WORK/f" 2>&1
expect_eq "the new server's fingerprint replaces the pinned key" "$?" 0
expect_contains "and the new server (which holds only the last file) sends the device back" "$WORK/f" "服务器已确认到第 0 条，尚待同步 13 条"

# A store made by an older release has no key of its own, and that release
# signed with the importing admin's <data>/server.key, which kiosks pinned:
# that key becomes the store's, and the kiosks keep accepting.
OLDADMIN="$WORK/old-admin"
mkdir -p "$OLDADMIN"
"$QK" keygen -o "$OLDADMIN/server" >/dev/null
cp "$OLDADMIN/server.pub" "$QUIZKIT_HOME/ack-server.pem"   # what the kiosk pinned then
printf '对\n' | "$QK" play --bundle test.mini --theme u --order seq >/dev/null 2>&1
"$QK" export --out "$WORK/fifth.qkd" >/dev/null 2>&1
SRV3="$WORK/server3"
mkdir -p "$SRV3"
QUIZKIT_HOME="$OLDADMIN" "$QK" admin import "$WORK/fifth.qkd" --db "sqlite:$SRV3/server.db" --ack-dir "$SRV3" >/dev/null 2>&1
"$QK" import-ack "$SRV3"/ack-*.json >"$WORK/f" 2>&1
expect_eq "an older release's key carries over to the store" "$?" 0
finish
