#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the sync tests: it sits between a device
and the real quizkit server on loopback and misbehaves on purpose.

usage: fault_proxy.py UPSTREAM_PORT PORT_FILE MODE [LISTEN_PORT]
It listens on LISTEN_PORT (default: a free one) and writes the port to
PORT_FILE, and the number of requests it has had to PORT_FILE.hits after each
(so a test can wait until a device has tried).
MODE: drop-after-send[:N]  forward the first N POST /api/v1/events, then cut
                           the connection before the answer reaches the device
      status:CODE:N        answer the first N requests with CODE (500, 503)
      slow:SECONDS         wait before every answer
      chaos:SEED           each request, by a generator seeded with SEED: one in
                           six is answered 503, one in six has its answer cut
                           after the server took it, one in six is held up to
                           half a second; the rest pass
      pass                 forward everything
"""
import http.client
import http.server
import os
import socketserver
import sys
import random
import threading
import time

upstream = int(sys.argv[1])
port_file = sys.argv[2]
mode = sys.argv[3]
listen_port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
lock = threading.Lock()
chaos = random.Random(int(mode.split(":")[1])) if mode.startswith("chaos:") else None
count = {"n": 0}
hits = {"n": 0}


def publish(path, value):
    with open(path + ".tmp", "w") as f:
        f.write(str(value))
    os.rename(path + ".tmp", path)


def take(limit):
    with lock:
        count["n"] += 1
        return count["n"] <= limit


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        with lock:
            hits["n"] += 1
            publish(port_file + ".hits", hits["n"])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        fault, delay = None, 0.0
        if chaos:
            with lock:
                fault = ("503", "cut", "slow", None, None, None)[chaos.randrange(6)]
                delay = 0.5 * chaos.random()
            if fault == "503":
                payload = b'{"error":{"code":"injected","message":"injected failure"}}'
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if fault == "slow":
                time.sleep(delay)
        if mode.startswith("status:"):
            _, code, n = mode.split(":")
            if take(int(n)):
                payload = b'{"error":{"code":"injected","message":"injected failure"}}'
                self.send_response(int(code))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
        if mode.startswith("slow:"):
            time.sleep(float(mode.split(":")[1]))
        conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError:
            # The server is gone: so is the device's connection.
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "cut":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode.startswith("drop-after-send") and self.command == "POST" and \
                self.path.startswith("/api/v1/events"):
            n = int(mode.split(":")[1]) if ":" in mode else 1
            if take(n):
                # The server has committed the batch; the device never hears.
                self.close_connection = True
                self.connection.shutdown(2)
                return
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = forward
    do_POST = forward


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


Server.allow_reuse_address = True  # a port a killed server had a moment ago
srv = Server(("127.0.0.1", listen_port), Proxy)
publish(port_file, srv.server_address[1])
srv.serve_forever()
