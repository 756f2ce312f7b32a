#!/usr/bin/env bash
# Issue 14, item 10: one address cannot take the server from everyone else.
# 300 idle TCP connections from 127.0.0.2 (256 was the cap, with no limit per
# address) used to keep the server from answering anyone. Now that address
# gets at most 32 connections, the ones it holds without sending a request
# are closed after 5 s, and a device on 127.0.0.1 is answered throughout.
. "$(dirname "$0")/lib.sh"
serve_test
python3 - "$(cat "$SRV/port")" "$URL" >"$WORK/flood" 2>&1 <<'PY'
import socket, sys, time, urllib.request
port, url = int(sys.argv[1]), sys.argv[2]
socks = []
for _ in range(300):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        socks.append(s)
    except OSError:
        s.close()
# which of them the server still holds open
def open_ones():
    alive = 0
    for s in socks:
        s.setblocking(False)
        try:
            alive += s.recv(1) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive
# until the server has taken (or refused) them: at most 32 held, 4 s at most
# (well before the 5 s after which silent ones are closed)
settle = time.monotonic() + 4
while open_ones() > 32 and time.monotonic() < settle:
    time.sleep(0.05)
held = open_ones()
print("held", held)
t0 = time.monotonic()
try:
    with urllib.request.urlopen(url + "/api/v1/time", timeout=3) as r:
        print("other", r.status, round(time.monotonic() - t0, 2))
except Exception as e:
    print("other failed", e)
deadline = time.monotonic() + 15
while open_ones() and time.monotonic() < deadline:
    time.sleep(0.2)
print("after", open_ones(), round(time.monotonic() - t0, 1))
PY
held=$(sed -n 's/^held //p' "$WORK/flood")
[ -n "$held" ] && [ "$held" -le 32 ] && ok "one address holds at most 32 connections (held $held of 300)" ||
    fail "one address holds at most 32 connections: $(cat "$WORK/flood")"
expect_contains "another device is answered at once" "$WORK/flood" "other 200"
after=$(sed -n 's/^after \([0-9]*\) .*/\1/p' "$WORK/flood")
expect_eq "silent connections are closed within seconds" "$after" 0
expect_eq "the server still answers" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/time")" 200

# A server started without --proxy that gets X-Forwarded-For is most likely
# behind a proxy nobody named: it says so, once, on its standard error.
expect_not_contains "no warning before any X-Forwarded-For" "$SRV/out" "X-Forwarded-For"
logged() { grep -c 'addr=127.0.0.1 method=GET path=/api/v1/time' "$SRV/log"; }
before=$(logged)
for ip in 198.51.100.7 198.51.100.8; do
    curl -s -o /dev/null -H "X-Forwarded-For: $ip" "$URL/api/v1/time"
done
expect_contains "the server warns that --proxy is missing" "$SRV/out" "请求带有 X-Forwarded-For，但没有给 --proxy"
expect_contains "and names the address it came from" "$SRV/out" "来自 127.0.0.1 的请求"
expect_eq "once, not for every request" "$(grep -c 'X-Forwarded-For' "$SRV/out")" 1
expect_not_contains "the header is not believed" "$SRV/log" "addr=198.51.100"
expect_eq "the two requests are logged from where they came" "$(($(logged) - before))" 2
finish
