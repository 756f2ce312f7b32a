#!/usr/bin/env bash
# bench_auth.sh: issue 17's "authenticated GET /api/v1/device, wrk -c50"
# against nginx serving the same reply as a static file, in the same run.
#
# The real `quizkit serve` (plain HTTP on loopback, a new SQLite store, its
# default threads, an access log) enrols a device with a one-time code
# through the real `quizkit enroll`; wrk then asks GET /api/v1/device with
# that device's token (Authorization: Bearer ...: the server hashes the
# token and looks the device up on every request) over CONNS connections
# for SECONDS, three times. The baseline is nginx (2 workers, no access
# log) serving the reply the server gave, as a file, to the same wrk, in
# turns with quizkit. Prints requests/s, latency and errors of each round
# and the ratio of the medians; exits non-zero when a request of quizkit's
# was not answered 200 (wrk's "Non-2xx") or a connection of its failed
# (wrk's "Socket errors"), or when the tools are missing.
# Issue 17's goal: >= 0.6x nginx.
#
# usage: tests/bench/bench_auth.sh [QUIZKIT] [SECONDS] [CONNS]
#        (default build/quizkit 10 50; needs wrk and nginx:
#        scripts/install-deps.sh --bench). KEEP=1 leaves the work folder,
#        the server and nginx as they are at the end, to look into.
set -uo pipefail
case "${1:-}" in -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
QK=${1:-build/quizkit}
SECS=${2:-10}
CONNS=${3:-50}
for tool in wrk nginx; do
    if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
        echo "bench_auth: $tool is not installed (scripts/install-deps.sh --bench)" >&2
        exit 2
    fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$QK" ] || { echo "bench_auth: $QK is not a quizkit binary (build first)" >&2; exit 2; }
QK=$(cd "$(dirname "$QK")" && pwd)/$(basename "$QK")
WORK=$(mktemp -d /tmp/qkbench-auth-XXXXXX)
SRV_PID=
cleanup() {
    [ -n "${KEEP:-}" ] && return
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
    [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# The server and a device enrolled to it. All of wrk's connections come from
# one address, as phones behind a station's NAT do: the server is told so, as
# docs/protocol.md says to (max-connections-per-address, default 32).
DB="sqlite:$WORK/server.db"
printf 'max-connections-per-address = %d\n' "$CONNS" >"$WORK/serve.conf"
QUIZKIT_HOME="$WORK/srv" "$QK" serve --config "$WORK/serve.conf" --db "$DB" --port 0 --port-file "$WORK/port" \
    --log "$WORK/access.log" >"$WORK/serve.out" 2>&1 &
SRV_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
[ -s "$WORK/port" ] || { echo "bench_auth: the server did not start:" >&2; cat "$WORK/serve.out" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$WORK/port")"
"$QK" admin branch add b1 "第一支部" --db "$DB" >/dev/null || exit 1
CODE=$("$QK" admin code --branch b1 --db "$DB" | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1)
QUIZKIT_HOME="$WORK/dev" "$QK" enroll "$URL" "$CODE" --name bench >/dev/null || exit 1
TOKEN=$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' "$WORK/dev/server.json")
[ -n "$TOKEN" ] || { echo "bench_auth: no token in $WORK/dev/server.json" >&2; exit 1; }
REPLY=$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL/api/v1/device") ||
    { echo "bench_auth: GET /api/v1/device with the device's token failed" >&2; exit 1; }
curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/device" | grep -q 401 ||
    { echo "bench_auth: GET /api/v1/device without a token was not refused" >&2; exit 1; }

# nginx, serving that reply as a file (its workers may run as another user:
# they may pass through the work folder, read only the reply).
chmod 711 "$WORK"
mkdir -p "$WORK/nginx/root/api/v1"
chmod -R a+rX "$WORK/nginx"
printf '%s' "$REPLY" >"$WORK/nginx/root/api/v1/device"
chmod a+r "$WORK/nginx/root/api/v1/device"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp;
    proxy_temp_path $WORK/nginx/tmp;
    fastcgi_temp_path $WORK/nginx/tmp;
    uwsgi_temp_path $WORK/nginx/tmp;
    scgi_temp_path $WORK/nginx/tmp;
    server {
        listen 127.0.0.1:0;
        root $WORK/nginx/root;
        default_type application/json;
    }
}
EOF
# nginx cannot listen on port 0 and report it: take a free port the kernel gives.
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/listen 127.0.0.1:0;/listen 127.0.0.1:$NPORT;/" "$WORK/nginx/nginx.conf"
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>"$WORK/nginx/start.err" ||
    { echo "bench_auth: nginx did not start:" >&2; cat "$WORK/nginx/start.err" >&2; exit 1; }
NURL="http://127.0.0.1:$NPORT"
for _ in $(seq 100); do curl -sf "$NURL/api/v1/device" >/dev/null && break; sleep 0.05; done
[ "$(curl -sf "$NURL/api/v1/device")" = "$REPLY" ] || { echo "bench_auth: nginx does not serve the reply" >&2; exit 1; }

# wrk, the same way at both, in turns (quizkit, nginx, quizkit, ...: a
# noisy moment hurts both), ROUNDS times; the median of each is compared.
ROUNDS=3
run() { # name url round -> prints one line; appends requests/s to $WORK/rps.NAME
    local out="$WORK/wrk.$1.$3"
    wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$2/api/v1/device" >"$out" 2>&1
    local rps p50 p99 errs non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    errs=$(sed -n 's/^ *Socket errors: //p' "$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$out")
    echo "${rps:-0}" >>"$WORK/rps.$1"
    # a connection refused or cut (the per-address limit, a crash) fails the run too
    [ "$1" = quizkit ] && [ -n "$non2xx$errs" ] && echo "${non2xx:-0} non-2xx; socket errors: ${errs:-none}" >>"$WORK/bad"
    printf '  %-8s %8.0f req/s  p50 %-8s p99 %-8s%s%s\n' "$1" "${rps:-0}" "$p50" "$p99" \
        "${non2xx:+  non-2xx $non2xx}" "${errs:+  socket errors: $errs}"
}
median() { sort -n "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
echo "GET /api/v1/device with a device's token, wrk -t2 -c$CONNS, $ROUNDS rounds of ${SECS}s each, $(nproc) cores"
for r in $(seq "$ROUNDS"); do
    echo "round $r"
    run quizkit "$URL" "$r"
    run nginx "$NURL" "$r"
done
Q=$(median "$WORK/rps.quizkit")
N=$(median "$WORK/rps.nginx")
awk -v q="$Q" -v n="$N" 'BEGIN { printf "median: quizkit %.0f req/s, nginx %.0f req/s; ratio quizkit/nginx %.2f (issue 17 goal: >= 0.6)\n", q, n, (n > 0 ? q / n : 0) }'
if [ -s "$WORK/bad" ]; then
    echo "bench_auth: some of quizkit's requests were not answered 200 or their connections failed (see above)" >&2
    exit 1
fi
