#!/usr/bin/env bash
# The central server for real: `quizkit serve` over HTTPS on loopback with a
# CA and certificate made here, admin on its database, a kiosk enrolled with a
# one-time code, quizzes synced, faults injected; every event on the server
# exactly once, nothing lost on the device.
. "$(dirname "$0")/lib.sh"
mini_bundle
SRV="$WORK/srv"
DB="sqlite:$SRV/server.db"
mkdir -p "$SRV/trust" && cp "$WORK/pub.pub" "$SRV/trust/"

# A throwaway CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=quizkit test CA" \
    -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$WORK/srv.key" -out "$WORK/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$WORK/ext"
openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
    -days 2 -extfile "$WORK/ext" -out "$WORK/srv.pem" 2>/dev/null
expect_eq "test certificate made" "$(test -s "$WORK/srv.pem" && echo yes)" yes

start_server() { # extra args...; sets PORT and SPID
    rm -f "$SRV/port"
    spawn "$QK" serve --db "$DB" --port 0 --port-file "$SRV/port" --trust "$SRV/trust" --log "$SRV/access.log" "$@" \
        >>"$SRV/out" 2>>"$SRV/err"
    SPID=$LAST_PID
    wait_file "$SRV/port" || fail "the server started: $(cat "$SRV/err")"
    PORT=$(cat "$SRV/port")
}

# Plain HTTP is refused anywhere but loopback.
"$QK" serve --db "$DB" --listen 0.0.0.0 >"$WORK/o" 2>&1
expect_eq "plain HTTP on 0.0.0.0 refused" "$?" 2
expect_contains "and says why" "$WORK/o" "拒绝在 0.0.0.0 上使用不加密的 HTTP"
printf 'port = 99999\n' >"$WORK/bad.conf"
"$QK" serve --config "$WORK/bad.conf" >"$WORK/o" 2>&1
expect_contains "config errors name file:line" "$WORK/o" "bad.conf:1:"

start_server --tls-cert "$WORK/srv.pem" --tls-key "$WORK/srv.key"
URL="https://127.0.0.1:$PORT"
expect_contains "first start prints a one-time admin password" "$SRV/out" "已创建管理员账号 admin，初始密码："
ADMINPW=$(sed -n 's/.*初始密码：\([0-9a-f-]*\).*/\1/p' "$SRV/out")
expect_contains "listening on https" "$SRV/out" "https://0.0.0.0:$PORT"
# A server that cannot start (its port taken) shows no password: the first
# start that listens does, on the same database.
"$QK" serve --db "sqlite:$WORK/second.db" --port "$PORT" --log "$WORK/second.log" >"$WORK/o" 2>&1
expect_eq "a second server on a taken port fails" "$?" 1
expect_not_contains "and makes no admin it would never show again" "$WORK/o" "初始密码"
expect_eq "no account in its database" "$(sqlite3 "$WORK/second.db" 'SELECT count(*) FROM users')" 0

A() { "$QK" admin "$@" --db "$DB"; }
A branch add b1 "第一党支部" >/dev/null && A branch add b2 "第二党支部" >/dev/null
printf 'leader-pass-1\n' >"$WORK/pw"
A leader add li --branch b1 --password-file "$WORK/pw" >"$WORK/o" 2>&1
expect_contains "leader added" "$WORK/o" "已添加支部书记账号 li"
printf '编号,姓名,支部,科室,PIN\nm1,张三,b1,内科,1234\nm2,李四,b1,护理部,5678\nm9,王五,b2,药房,1111\n' >"$WORK/roster.csv"
A member import "$WORK/roster.csv" >"$WORK/o" 2>&1
expect_contains "roster imported" "$WORK/o" "导入 3 名成员"
printf '编号,姓名,支部,PIN\nm3,赵六,b1,12\n' >"$WORK/bad.csv"
A member import "$WORK/bad.csv" >"$WORK/o" 2>&1
expect_eq "bad roster refused" "$?" 1
expect_contains "bad roster row named by file:line" "$WORK/o" "bad.csv:2：PIN 应为 4–12 位数字"
A code --branch b1 >"$WORK/code" 2>&1
CODE=$(grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' "$WORK/code" | head -1)
expect_contains "a code names its branch as people do" "$WORK/code" "（第一党支部，"

# The device refuses a certificate it cannot verify, then enrols with the CA.
"$QK" enroll "$URL" "$CODE" >"$WORK/o" 2>&1
expect_eq "unverified TLS refused" "$?" 1
expect_contains "and the reason is shown" "$WORK/o" "无法连接服务器"
"$QK" enroll "http://192.0.2.1:80" "$CODE" >"$WORK/o" 2>&1
expect_contains "plain http to another host refused" "$WORK/o" "须为 https://"
"$QK" enroll "$URL" "$CODE" --cacert "$WORK/ca.pem" --name kiosk-1 >"$WORK/o" 2>&1
expect_eq "enrol exits 0" "$?" 0
expect_contains "enrolled to the branch, named as people name it" "$WORK/o" "属于支部 第一党支部"
expect_eq "credentials private" "$(stat -c %a "$QUIZKIT_HOME/server.json")" 600
expect_eq "server keeps only the token's hash" \
    "$(sqlite3 "$SRV/server.db" "select count(*) from devices where token_hash = '$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["token"])' "$QUIZKIT_HOME/server.json")'")" 0
"$QK" --data-dir "$WORK/other" enroll "$URL" "$CODE" --cacert "$WORK/ca.pem" >"$WORK/o" 2>&1
expect_contains "a code works once" "$WORK/o" "注册码已被使用"

# Offline play, then sync.
for _ in 1 2 3; do printf 'B\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq >/dev/null 2>&1; done
mkdir -p "$SRV/bundles" && "$QK" admin bundle publish "$WORK/mini.qkb" --db "$DB" --trust "$SRV/trust" >"$WORK/o" 2>&1
expect_contains "bundle published" "$WORK/o" "已发布 test.mini"
"$QK" sync >"$WORK/o" 2>&1
expect_eq "sync exits 0" "$?" 0
expect_contains "sync reports" "$WORK/o" "服务器已确认到第 21 条，待同步 0 条"
expect_contains "roster pulled" "$WORK/o" "名单更新 2 人"
expect_eq "events on the server" "$(sqlite3 "$SRV/server.db" 'select count(*), count(distinct id) from events')" "21|21"
expect_eq "server re-scored all three attempts itself" \
    "$(sqlite3 "$SRV/server.db" 'select count(*), sum(server_score), sum(mismatch) from attempt_scores')" "3|2100|0"
"$QK" member list >"$WORK/o"
expect_contains "branch members can log in here" "$WORK/o" "张三"
expect_not_contains "other branches' members are not sent" "$WORK/o" "王五"
expect_eq "their branch by name, as the server named it" "$(grep 张三 "$WORK/o" | awk '{print $3}')" 第一党支部
"$QK" status >"$WORK/o"
expect_contains "status shows the server and the branch by name" "$WORK/o" "服务器 $URL（支部 第一党支部）"
expect_not_contains "status shows a last sync" "$WORK/o" "上次成功同步：从未"

# A new version published on the server reaches the kiosk on its next sync:
# downloaded (resuming a partial file with Range), checked, installed.
cp -r "$TESTS/fixtures/mini" "$WORK/mini2"
sed -i 's/"version": "1"/"version": "2"/' "$WORK/mini2/bundle.json"
"$QK" bundle build "$WORK/mini2" -o "$WORK/mini2.qkb" --key "$WORK/pub.key" --quiet >/dev/null
"$QK" admin bundle publish "$WORK/mini2.qkb" --db "$DB" --trust "$SRV/trust" >/dev/null 2>&1
"$QK" status >"$WORK/o"
head -c 3000 "$WORK/mini2.qkb" >"$QUIZKIT_HOME/download-test.mini-2.qkb.part"
"$QK" sync >"$WORK/o" 2>&1
expect_contains "new version downloaded and installed" "$WORK/o" "已下载并安装题库包 test.mini 版本 2"
expect_contains "the download resumed where it stopped" "$SRV/access.log" "path=/api/v1/bundles/test.mini/2 status=206"
"$QK" bundle list >"$WORK/o" 2>&1
expect_contains "installed version is 2" "$WORK/o" "test.mini"
"$QK" status >"$WORK/o"
expect_contains "status shows version 2" "$WORK/o" "已安装题库包 test.mini 版本 2"
expect_not_contains "no update waiting" "$WORK/o" "服务器上有新版本"

# A PIN changed on this kiosk travels to the server's roster.
printf '4321\n4321\n' | "$QK" member passwd m1 >/dev/null 2>&1
OLD=$(sqlite3 "$SRV/server.db" "select pin_hash from members where id='m1'")
"$QK" sync >/dev/null 2>&1
expect_eq "PIN change reached the server" \
    "$([ "$(sqlite3 "$SRV/server.db" "select pin_hash from members where id='m1'")" != "$OLD" ] && echo changed)" changed

# Bad input to every endpoint: a 4xx with a JSON error, never a crash.
TOK=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["token"])' "$QUIZKIT_HOME/server.json")
C() { curl -s --cacert "$WORK/ca.pem" -o "$WORK/body" -w '%{http_code}' "$@"; }
for ep in login enroll events branches users members enrol-codes; do
    code=$(C -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' --data-binary '{"x":' "$URL/api/v1/$ep")
    case "$code" in 4??) ok "malformed JSON to $ep: $code" ;; *) fail "malformed JSON to $ep: $code" ;; esac
done
expect_eq "wrong types" "$(C -H "Authorization: Bearer $TOK" --data-binary '{"events":"x"}' "$URL/api/v1/events")" 400
expect_contains "error body is JSON with the field" "$WORK/body" '"message":"字段 events 缺失或类型不对"'
expect_eq "huge numbers" "$(C -H "Authorization: Bearer $TOK" --data-binary '{"events":[{"seq":99999999999999999999999}]}' "$URL/api/v1/events")" 400
printf '{"user":"\xff\xfe","password":"x"}' >"$WORK/badutf8"
expect_eq "invalid UTF-8" "$(C --data-binary @"$WORK/badutf8" "$URL/api/v1/login")" 400
expect_eq "a field named in a bad event" "$(C -H "Authorization: Bearer $TOK" --data-binary '{"events":[{"id":"nope"}]}' "$URL/api/v1/events")" 400
expect_contains "index and field" "$WORK/body" "events[0].id"
printf 'not gzip at all' >"$WORK/notgz"
expect_eq "corrupted gzip" "$(C -H "Authorization: Bearer $TOK" -H 'Content-Encoding: gzip' --data-binary @"$WORK/notgz" "$URL/api/v1/events")" 400
head -c 1100000 /dev/zero | tr '\0' ' ' >"$WORK/big"
expect_eq "oversized body" "$(C -H "Authorization: Bearer $TOK" --data-binary @"$WORK/big" "$URL/api/v1/events")" 413
expect_eq "unknown endpoint" "$(C "$URL/api/v1/nothing")" 404
expect_eq "server time needs no login" "$(C "$URL/api/v1/time")" 200

# A whole batch the server holds already: every event a duplicate, nothing new.
python3 - "$QUIZKIT_HOME/progress.db" >"$WORK/dups.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select id, device_id, seq, member_id, bundle_id, bundle_version, kind, attempt_id,"
                  " payload, created_ms from events order by seq limit 20").fetchall()
keys = ["id", "device_id", "seq", "member_id", "bundle_id", "bundle_version", "kind", "attempt_id",
        "payload", "created_ms"]
evs = [dict(zip(keys, r)) for r in rows]
for e in evs:
    e["payload"] = json.loads(e["payload"])
print(json.dumps({"events": evs}, ensure_ascii=False))
PY
expect_eq "a batch of duplicates is accepted" "$(C -H "Authorization: Bearer $TOK" --data-binary @"$WORK/dups.json" "$URL/api/v1/events")" 200
expect_contains "and changes nothing" "$WORK/body" '"received":20,"inserted":0,"duplicates":20,"conflicts":[]'
expect_eq "still each event once" "$(sqlite3 "$SRV/server.db" 'select count(*) = count(distinct id) from events')" 1

# Authorisation matrix.
LT=$(curl -s --cacert "$WORK/ca.pem" --data-binary '{"user":"li","password":"leader-pass-1"}' "$URL/api/v1/login" |
    python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
AT=$(curl -s --cacert "$WORK/ca.pem" --data-binary "{\"user\":\"admin\",\"password\":\"$ADMINPW\"}" "$URL/api/v1/login" |
    python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
expect_eq "no token: 401" "$(C "$URL/api/v1/devices")" 401
expect_eq "device cannot read the roster admin list" "$(C -H "Authorization: Bearer $TOK" "$URL/api/v1/members")" 403
expect_eq "leader sees own branch" "$(C -H "Authorization: Bearer $LT" "$URL/api/v1/members")" 200
expect_not_contains "leader's list has no PIN hashes" "$WORK/body" "pin_hash"
expect_eq "leader cannot see another branch" "$(C -H "Authorization: Bearer $LT" "$URL/api/v1/members?branch=b2")" 403
expect_eq "leader cannot add branches" "$(C -H "Authorization: Bearer $LT" --data-binary '{"id":"b3","name":"x"}' "$URL/api/v1/branches")" 403
expect_eq "leader cannot make codes for another branch" "$(C -H "Authorization: Bearer $LT" --data-binary '{"branch":"b2"}' "$URL/api/v1/enrol-codes")" 403
expect_eq "leader makes codes for own branch" "$(C -H "Authorization: Bearer $LT" --data-binary '{}' "$URL/api/v1/enrol-codes")" 201
expect_eq "leader cannot push events" "$(C -H "Authorization: Bearer $LT" --data-binary '{"events":[]}' "$URL/api/v1/events")" 403
expect_eq "admin sees every branch" "$(C -H "Authorization: Bearer $AT" "$URL/api/v1/branches")" 200
expect_contains "both branches" "$WORK/body" '"b2"'
DEV=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["device_id"])' "$QUIZKIT_HOME/server.json")
FOREIGN=$(python3 -c "print('{\"events\":[{\"id\":\"01930000-0000-7000-8000-000000000001\",\"device_id\":\"01930000-0000-7000-8000-0000000000ff\",\"seq\":1,\"kind\":\"x\",\"created_ms\":1,\"payload\":{}}]}')")
expect_eq "a device cannot push another device's events" "$(C -H "Authorization: Bearer $TOK" --data-binary "$FOREIGN" "$URL/api/v1/events")" 403
for i in $(seq 10); do C --data-binary '{"user":"li","password":"wrong-wrong"}' "$URL/api/v1/login" >/dev/null; done
expect_eq "failed logins are rate-limited" "$(C --data-binary '{"user":"li","password":"leader-pass-1"}' "$URL/api/v1/login")" 429

# Bundles: catalogue, ETag, Range.
expect_eq "catalogue" "$(C -H "Authorization: Bearer $TOK" "$URL/api/v1/bundles")" 200
SHA=$(sha256sum "$WORK/mini.qkb" | cut -d' ' -f1)
expect_contains "catalogue lists the bundle" "$WORK/body" "$SHA"
expect_eq "download" "$(C -H "Authorization: Bearer $TOK" "$URL/api/v1/bundles/test.mini/1")" 200
expect_eq "downloaded bytes intact" "$(sha256sum <"$WORK/body" | cut -d' ' -f1)" "$SHA"
expect_eq "If-None-Match" "$(C -H "Authorization: Bearer $TOK" -H "If-None-Match: \"$SHA\"" "$URL/api/v1/bundles/test.mini/1")" 304
expect_eq "Range" "$(C -H "Authorization: Bearer $TOK" -H 'Range: bytes=100-' "$URL/api/v1/bundles/test.mini/1")" 206
expect_eq "Range body" "$(stat -c %s "$WORK/body")" "$(( $(stat -c %s "$WORK/mini.qkb") - 100 ))"

# A leader without the database works through the API from the CLI (after the
# rate-limit window above has passed).
sqlite3 "$SRV/server.db" "delete from throttle"
R() { QUIZKIT_PASSWORD=leader-pass-1 "$QK" admin "$@" --server "$URL" --user li --cacert "$WORK/ca.pem"; }
R code >"$WORK/o" 2>&1
expect_contains "leader makes a code remotely, for the branch by name" "$WORK/o" "（第一党支部，"
expect_contains "and the command to run says the server's address" "$WORK/o" "quizkit enroll $URL "
R member add m5 "孙七" --pin 2468 --dept 检验科 >"$WORK/o" 2>&1
expect_contains "leader adds a member remotely" "$WORK/o" "已添加成员 m5（孙七），支部 b1"
printf '编号,姓名,PIN\nm6,周八,1357\n' >"$WORK/r2.csv"
R member import "$WORK/r2.csv" >"$WORK/o" 2>&1
expect_contains "leader imports a roster remotely" "$WORK/o" "导入 1 名成员"
expect_eq "imported into the leader's branch" "$(sqlite3 "$SRV/server.db" "select branch_id from members where id='m6'")" b1
R branch add b3 "第三党支部" >"$WORK/o" 2>&1
expect_eq "leader cannot add branches remotely" "$?" 1
expect_contains "and is told why" "$WORK/o" "服务器回答 403"
R bundle publish "$SAMPLE" >"$WORK/o" 2>&1
expect_eq "a bundle signed by a key the server does not trust is refused" "$?" 1
expect_contains "with the reason" "$WORK/o" "服务器回答 422"
expect_contains "naming the file as it was given" "$WORK/o" "$(basename "$SAMPLE") 未通过校验"
expect_not_contains "not a name of the server's own" "$WORK/o" "upload.qkb"
R bundle publish "$WORK/mini.qkb" >"$WORK/o" 2>&1
expect_contains "publishing the same file again is harmless, and said so" "$WORK/o" "test.mini 版本 1 已经发布过（同一个文件"
R device list >"$WORK/o" 2>&1
expect_contains "leader lists own devices" "$WORK/o" "kiosk-1"
QUIZKIT_PASSWORD=wrong "$QK" admin code --server "$URL" --user li --cacert "$WORK/ca.pem" >"$WORK/o" 2>&1
expect_eq "wrong password refused" "$?" 1
R backup "$WORK/x.db" >"$WORK/o" 2>&1
expect_contains "database-only commands say so" "$WORK/o" "只能直接操作数据库"

# Revoked devices are shut out.
"$QK" admin device revoke "$DEV" --db "$DB" >/dev/null
printf '对\n' | "$QK" play --bundle test.mini --theme u --order seq >/dev/null 2>&1
"$QK" sync --no-retry >"$WORK/o" 2>&1
expect_eq "revoked token: sync fails" "$?" 1
expect_contains "revoked token: 401 explained" "$WORK/o" "服务器回答 401"

# An expired code is refused.
A code --branch b1 >"$WORK/code" 2>&1
CODE=$(grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' "$WORK/code" | head -1)
sqlite3 "$SRV/server.db" "update enrol_codes set expires_ms = 1 where used_ms is null"
"$QK" enroll "$URL" "$CODE" --cacert "$WORK/ca.pem" >"$WORK/o" 2>&1
expect_contains "expired code refused" "$WORK/o" "注册码已过期"

# Backup while running.
"$QK" admin backup "$WORK/backup.db" --db "$DB" >"$WORK/o" 2>&1
expect_eq "online backup holds the events" "$(sqlite3 "$WORK/backup.db" 'select count(*) from events')" \
    "$(sqlite3 "$SRV/server.db" 'select count(*) from events')"

# Graceful stop.
stop "$SPID" TERM
expect_eq "SIGTERM: clean exit" "$?" 0
expect_contains "stopped message" "$SRV/err" "服务器已停止"
expect_contains "structured request log" "$SRV/access.log" "method=POST path=/api/v1/events status=200"

# --- faults, over plain HTTP on loopback through a misbehaving proxy ---
export QUIZKIT_HOME="$WORK/kiosk2"
mini_bundle
start_server
A code --branch b1 >"$WORK/code" 2>&1
CODE=$(grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' "$WORK/code" | head -1)
"$QK" enroll "http://127.0.0.1:$PORT" "$CODE" >/dev/null 2>&1 || fail "enrol kiosk 2"
proxy() { # MODE: points the device at a fresh proxy
    rm -f "$WORK/pport"
    spawn python3 "$TESTS/cli/fault_proxy.py" "$PORT" "$WORK/pport" "$1"
    PPID_=$LAST_PID
    wait_file "$WORK/pport" || fail "the proxy started"
    python3 - "$QUIZKIT_HOME/server.json" "http://127.0.0.1:$(cat "$WORK/pport")" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["url"] = sys.argv[2]; json.dump(c, open(sys.argv[1], "w"))
PY
}
play_n() { for _ in $(seq "$1"); do printf 'B\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq >/dev/null 2>&1; done; }
# Many events quickly: a bundle of 699 questions, each attempt 701 events
# (start, answers, finish), published on the server like any other.
mkdir -p "$WORK/bulk"
python3 - "$WORK/bulk" <<'PY'
import json, os, sys
qs = [{"id": "b%03d" % i, "type": "judge", "stem": "第 %d 条：党员应当按期交纳党费。" % i, "answer": "对"}
      for i in range(1, 700)]
json.dump({"theme": "b", "questions": qs}, open(os.path.join(sys.argv[1], "q.json"), "w"), ensure_ascii=False)
json.dump({"id": "test.bulk", "version": "1", "title": "批量测试", "themes": [{"id": "b", "title": "批量"}],
           "files": ["q.json"]}, open(os.path.join(sys.argv[1], "bundle.json"), "w"), ensure_ascii=False)
PY
"$QK" bundle build "$WORK/bulk" -o "$WORK/bulk.qkb" --key "$WORK/pub.key" --quiet >/dev/null || fail "build bulk"
"$QK" bundle install "$WORK/bulk.qkb" >/dev/null || fail "install bulk"
A bundle publish "$WORK/bulk.qkb" --trust "$SRV/trust" >/dev/null 2>&1 || fail "publish bulk"
play_bulk() { for _ in $(seq "$1"); do yes 对 | head -n 699 | "$QK" play --bundle test.bulk --theme b --order seq --count 0 >/dev/null 2>&1; done; }
server_has() { sqlite3 "$SRV/server.db" "select count(*), count(distinct id) from events where device_id = '$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["device_id"])' "$QUIZKIT_HOME/server.json")'"; }
device_has() { sql "select count(*) from events"; }

play_bulk 2 # 1,402 events: two batches
proxy drop-after-send:1
POSTS=$(grep -c 'path=/api/v1/events status=200' "$SRV/access.log")
"$QK" sync --no-retry >"$WORK/o" 2>&1
"$QK" sync --no-retry >>"$WORK/o" 2>&1
expect_eq "answer lost on the way back: the device resends until acknowledged" "$?" 0
expect_eq "the server got the lost batch again (2 batches + 1 resend)" \
    "$(( $(grep -c 'path=/api/v1/events status=200' "$SRV/access.log") - POSTS ))" 3
expect_eq "every event once after a lost answer" "$(server_has)" "$(device_has)|$(device_has)"
stop "$PPID_"

play_n 3
proxy status:503:2
"$QK" sync >"$WORK/o" 2>&1
expect_eq "503 twice: retried with backoff, then synced" "$?" 0
expect_contains "retry announced" "$WORK/o" "秒后重试"
stop "$PPID_"
proxy status:500:1
play_n 1
"$QK" sync >"$WORK/o" 2>&1
expect_eq "500 once: retried, then synced" "$?" 0
expect_eq "every event once after 5xx" "$(server_has)" "$(device_has)|$(device_has)"
stop "$PPID_"

# A device whose clock is three days slow: its events keep their own times,
# the server takes them, and the device records the offset. The device's
# commands run three days behind the run's clock; the server keeps the run's.
SLOW=(env QUIZKIT_NOW="$(clock_now --days -3)" QUIZKIT_NOW_SINCE=)
printf "B\nAC\n对\n1921|南湖\nA\n" | "${SLOW[@]}" "$QK" play --bundle test.mini --theme t --order seq >/dev/null 2>&1
proxy pass
SLOW=(env QUIZKIT_NOW="$(clock_now --days -3)" QUIZKIT_NOW_SINCE=)
"${SLOW[@]}" "$QK" sync >"$WORK/o" 2>&1
expect_eq "sync with a clock three days slow" "$?" 0
OFF=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["clock_offset_ms"])' "$QUIZKIT_HOME/server.json")
expect_eq "clock offset recorded (about +3 days): $OFF ms" "$([ "$OFF" -gt 259000000 ] && [ "$OFF" -lt 259400000 ] && echo yes)" yes
expect_eq "events keep the device's time; the server notes its own" \
    "$(sqlite3 "$SRV/server.db" 'select count(*) > 0 from events where received_ms - created_ms > 259000000')" 1
expect_eq "every event once with a skewed clock" "$(server_has)" "$(device_has)|$(device_has)"
stop "$PPID_"

# Kill the server in the middle of a sync; restart; nothing lost or doubled.
# Three batches, each held up by the proxy: the server dies once it has taken
# the first, while the second is on its way.
play_bulk 3
proxy slow:0.3
posts() { grep -c 'path=/api/v1/events status=200' "$SRV/access.log"; }
POSTS=$(posts)
taken() { [ "$(posts)" -gt "$POSTS" ]; }
spawn "$QK" sync --no-retry >"$WORK/o" 2>&1
SY=$LAST_PID
wait_until 30 taken || fail "the first batch reached the server"
stop "$SPID" KILL
stop "$SY" 0
expect_eq "sync fails while the server is gone" "$?" 1
expect_eq "the server had taken one batch of three" "$(( $(posts) - POSTS ))" 1
start_server
stop "$PPID_"
proxy pass
"$QK" sync >"$WORK/o" 2>&1
expect_eq "sync after the restart" "$?" 0
expect_eq "every event once after a killed server" "$(server_has)" "$(device_has)|$(device_has)"
expect_eq "device has nothing pending" "$(sql 'select value from sync_state where key = '\''acked_seq'\''') $(sql 'select max(seq) from events')" \
    "$(sql 'select max(seq) from events') $(sql 'select max(seq) from events')"
"$QK" sync >"$WORK/o" 2>&1
expect_contains "a further sync sends nothing" "$WORK/o" "上传 0 条"
stop "$PPID_"

finish
