#!/usr/bin/env bash
# Issue 19: two `quizkit serve` instances on one PostgreSQL database behind
# nginx (round robin), as a district runs them. Devices take quizzes and sync
# through nginx while one instance is killed (SIGKILL, mid-batch if it is
# in one) and started again, twice. At the end every event of every device
# is on the server exactly once, each device's acknowledgement is its last
# event, and each finished attempt was scored once. Needs a PostgreSQL
# server: run it under scripts/pg-cluster.sh (QK_PG_URL), as ctest does.
. "$(dirname "$0")/lib.sh"
N=${QK_PG_DEVICES:-6}
ROUNDS=${QK_PG_ROUNDS:-12}
if [ -z "${QK_PG_URL:-}" ]; then
    fail "QK_PG_URL is not set: run this under scripts/pg-cluster.sh run -- ..."
    finish
    exit 1
fi
PSQL=${QK_PG_BIN:+$QK_PG_BIN/}psql
NAME="qk_two_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
"$PSQL" -X -q "$QK_PG_URL/postgres" -c "CREATE DATABASE $NAME" || { fail "create database"; finish; exit 1; }
DB="$QK_PG_URL/$NAME"
q() { "$PSQL" -XAt "$DB" -c "$1"; }

mini_bundle
SRV="$WORK/srv"
mkdir -p "$SRV/trust"
cp "$WORK/pub.pub" "$SRV/trust/"
A init >"$WORK/init" 2>&1 || fail "admin init: $(cat "$WORK/init")"
branch_fixture 'm1,张三,b1,内科,1111\n'

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
P1=$(free_port)
P2=$(free_port)
PN=$(free_port)
declare -A SERVER
start_instance() { # start_instance K: instance K on its port
    local port
    [ "$1" = 1 ] && port=$P1 || port=$P2
    rm -f "$SRV/port$1"
    spawn "$QK" serve --db "$DB" --port "$port" --port-file "$SRV/port$1" --trust "$SRV/trust" \
        --proxy 127.0.0.1 --log "$SRV/log$1" >>"$SRV/out$1" 2>&1
    SERVER[$1]=$LAST_PID
    wait_file "$SRV/port$1" || fail "instance $1 started: $(tail -3 "$SRV/out$1")"
}
start_instance 1
start_instance 2

# nginx in front, round robin; its log names the instance of each request.
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 256; }
http {
    log_format up '\$status \$upstream_addr \$upstream_status \$request_uri';
    access_log $WORK/nginx/logs/access.log up;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    client_max_body_size 64m;
    upstream quizkit { server 127.0.0.1:$P1 max_fails=0; server 127.0.0.1:$P2 max_fails=0; }
    server {
        listen 127.0.0.1:$PN;
        location / {
            proxy_pass http://quizkit;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
}
EOF
spawn nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/out" 2>&1
NGINX_PID=$LAST_PID
wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$PN/" || fail "nginx started: $(cat "$WORK/nginx/out")"
URL="http://127.0.0.1:$PN"

# Behind the proxy each client is itself (--proxy: the instances believe
# X-Forwarded-For from nginx only). Someone guessing enrolment codes from
# 127.0.0.2 is stopped after ten; the devices at 127.0.0.1 enrol all the
# same. Straight to an instance, the header is not believed: guesses from
# 127.0.0.3 naming a new address each time are stopped after ten too.
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/guess.key" 2>/dev/null
openssl ec -in "$WORK/guess.key" -pubout -out "$WORK/guess.pub" 2>/dev/null
guess() { # guess FROM PORT N: N enrolments with made-up codes; the last status
    python3 - "$1" "$2" "$3" "$WORK/guess.pub" <<'PY'
import http.client, json, sys, uuid, time, random
src, port, n, pem = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), open(sys.argv[4]).read()
for i in range(n):
    ms = int(time.time() * 1000)
    dev = "%08x-%04x-7%03x-8%03x-%012x" % (ms >> 16, ms & 0xffff, random.getrandbits(12), random.getrandbits(12), random.getrandbits(48))
    body = json.dumps({"code": "ZZZZ-%04d" % i, "device_id": dev, "name": "guess", "public_key": pem,
                       "proof": "x", "member": "", "pin": ""})
    c = http.client.HTTPConnection("127.0.0.1", port, source_address=(src, 0), timeout=30)
    c.request("POST", "/api/v1/enroll", body, {"Content-Type": "application/json",
                                               "X-Forwarded-For": "198.51.100.%d" % i})
    status = c.getresponse().status
    c.close()
print(status)
PY
}
expect_eq "through nginx, the eleventh guessed code from one address is refused" "$(guess 127.0.0.2 "$PN" 11)" 429
expect_eq "straight to an instance, a forged X-Forwarded-For does not hide the guesser" "$(guess 127.0.0.3 "$P2" 11)" 429
grep -q 'addr=127\.0\.0\.2 method=POST path=/api/v1/enroll' "$SRV/log1" "$SRV/log2" &&
    ok "the instances' logs name the client, not nginx" || fail "the instances' logs name the client: $(tail -2 "$SRV/log1")"

for i in $(seq "$N"); do
    D="$WORK/dev$i"
    "$QK" --data-dir "$D" trust add "$WORK/pub.pub" >/dev/null 2>&1
    "$QK" --data-dir "$D" bundle install "$WORK/mini.qkb" >/dev/null 2>&1
    code=$(A code --branch b1 | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1)
    "$QK" --data-dir "$D" enroll "$URL" "$code" --name "kiosk-$i" >"$WORK/enrol$i" 2>&1 ||
        fail "device $i enrols through nginx: $(cat "$WORK/enrol$i")"
done

# Each device: ROUNDS times a quiz (7 events) and a sync; a failed sync (an
# instance gone) is tried again the next round, as a kiosk does.
device() {
    local D=$1
    for _ in $(seq "$ROUNDS"); do
        printf 'B\nAC\n对\n1921|南湖\nA\n' | "$QK" --data-dir "$D" play --bundle test.mini --theme t --order seq \
            >/dev/null 2>&1
        "$QK" --data-dir "$D" sync --no-retry >>"$D/sync.log" 2>&1
    done
}
DEVS=()
for i in $(seq "$N"); do
    spawn device "$WORK/dev$i"
    DEVS+=("$LAST_PID")
done
expected=$((N * ROUNDS * 7))
# Instance 1 dies twice while the devices sync: at a third and at two thirds
# of the events, started again each time on its port.
events_reach() { [ "$(q 'SELECT count(*) FROM events')" -ge "$1" ]; }
for k in 1 2; do
    wait_until 120 events_reach $((expected * k / 3)) ||
        fail "the events reached $((k * 100 / 3))% before the kill"
    stop "${SERVER[1]}" KILL
    echo "# instance 1 killed at $(q 'SELECT count(*) FROM events') of $expected events"
    sleep 0.5
    start_instance 1
done
for p in "${DEVS[@]}"; do wait "$p"; forget "$p"; done

# Every device syncs until nothing is left (straight through nginx).
for i in $(seq "$N"); do
    for _ in 1 2 3; do "$QK" --data-dir "$WORK/dev$i" sync --no-retry >"$WORK/final$i" 2>&1 && break; done
done
bad=""
total=0
for i in $(seq "$N"); do
    D="$WORK/dev$i"
    dev=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["device_id"])' "$D/server.json")
    mine=$(sqlite3 "$D/progress.db" "select count(*) || '/' || count(distinct id) || '/' || max(seq) from events")
    theirs=$(q "SELECT count(*) || '/' || count(DISTINCT id) || '/' || coalesce(max(seq), 0) FROM events
                WHERE device_id = '$dev'")
    acked=$(q "SELECT acked_seq FROM devices WHERE id = '$dev'")
    [ "$mine" = "$theirs" ] || bad="$bad device $i: $mine on the device, $theirs on the server;"
    [ "$acked" = "${mine##*/}" ] || bad="$bad device $i: acknowledged to $acked of ${mine##*/};"
    grep -q '待同步 0 条' "$WORK/final$i" || bad="$bad device $i: $(tail -1 "$WORK/final$i");"
    total=$((total + ${mine%%/*}))
done
expect_eq "every event of every device on the database exactly once, each acknowledged ($total events)" "$bad" ""
expect_eq "all of them ($N devices x $ROUNDS quizzes x 7 events)" "$(q 'SELECT count(*) FROM events')/$total" \
    "$expected/$expected"
finished=$(q "SELECT count(*) FROM events WHERE kind = 'attempt.finish'")
expect_eq "each finished attempt scored once ($finished)" \
    "$(q 'SELECT count(*) || $$/$$ || count(DISTINCT attempt_id) FROM attempt_scores WHERE server_score IS NOT NULL')" \
    "$finished/$finished"
# Both instances served, and the kills were felt: requests nginx could not
# pass on (502), or that an instance died answering.
log="$WORK/nginx/logs/access.log"
served1=$(grep -c " 127.0.0.1:$P1 200 " "$log")
served2=$(grep -c " 127.0.0.1:$P2 200 " "$log")
echo "# nginx: $(wc -l <"$log") requests, instance 1 answered $served1 with 200, instance 2 $served2"
[ "$served1" -gt 0 ] && [ "$served2" -gt 0 ] && ok "nginx sent requests to both instances" ||
    fail "nginx sent requests to both instances ($served1, $served2)"
failed=$(grep -vc '^200 ' "$log")
[ "$failed" -gt 0 ] && ok "the kills came while devices synced: $failed requests got no answer (502) or an instance's error" ||
    fail "the kills came while devices synced (every request got a 200: the kills missed the load)"
stop "$NGINX_PID"
for k in 1 2; do
    stop "${SERVER[$k]}"
    expect_eq "instance $k stops cleanly on SIGTERM" "$?" 0
done
"$PSQL" -X -q "$QK_PG_URL/postgres" -c "DROP DATABASE $NAME" >/dev/null 2>&1
finish
