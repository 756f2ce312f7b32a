"""qkconf.py: what the conformance suites (authz.py, protocol.py) share.

The suites drive a quizkit server only through its HTTP API (docs/protocol.md)
and its USB files, with the real `quizkit` binary as the reference device
(enroll, sync, export, import-ack) and importer (admin import). So the same
suites can run against any storage backend:

- by default they start `quizkit serve --db sqlite:PATH` themselves on a free
  loopback port (SqliteServer), and can then also look at the store's file
  (the state before and after a refused write) and restore it from a backup;
- with --pg URL they start it on a new database of their own in that
  PostgreSQL cluster (PgServer: a libpq URI with no database name, as
  scripts/pg-cluster.sh run gives in QK_PG_URL), read the store with psql,
  back it up and restore it with pg_dump and pg_restore, and drop the
  database at the end;
- with --url URL --admin-password PW they use a server that is already
  running (ExternalServer; set it up with --trust holding the public half of
  --publisher-key, and pass --db SPEC for `quizkit admin import`); the state
  checks then use what the API shows an admin, and the cases that restart
  the server are skipped, saying so. authz.py needs a new, empty store (its
  fixture makes branches b1 and b2, leaders, members m1, m2, m9...).

Python 3 standard library only (and the openssl command, to sign as a device
that is not the reference binary: Python has no ECDSA; with --pg, psql,
pg_dump and pg_restore from $QK_PG_BIN or PATH). Every process started here is kept and ended
(terminated, waited for, killed if it must be) when the suite ends, also on
SIGTERM/SIGINT."""
import argparse
import atexit
import gzip
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

# --- processes ---------------------------------------------------------------

_PROCS = []


def spawn(args, **kw):
    """Popen kept for the end of the suite."""
    p = subprocess.Popen(args, **kw)
    _PROCS.append(p)
    return p


def stop(p, sig=signal.SIGTERM, grace_s=20):
    """Sends sig, waits (grace_s at most, then SIGKILL); returns the exit status."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(grace_s)
        except subprocess.TimeoutExpired:
            print("# %d did not stop: killed" % p.pid)
            p.kill()
            p.wait()
    if p in _PROCS:
        _PROCS.remove(p)
    return p.returncode


def _cleanup():
    for p in list(_PROCS):
        stop(p, grace_s=5)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))


def wait_until(seconds, cond):
    end = time.monotonic() + seconds
    while True:
        v = cond()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.05)


# --- the environment ---------------------------------------------------------

def test_env(home=None):
    """The environment of every quizkit this suite runs: messages in Chinese
    (the default), one moving clock for all (QUIZKIT_NOW anchored once, as
    tests/cli/lib.sh does), the data folder given."""
    env = dict(os.environ)
    for k in ("LANG", "LC_ALL", "LC_MESSAGES", "QUIZKIT_LANG"):
        env.pop(k, None)
    env["NO_COLOR"] = "1"
    if home:
        env["QUIZKIT_HOME"] = home
    return env


if os.environ.get("QUIZKIT_NOW") and not os.environ.get("QUIZKIT_NOW_SINCE"):
    os.environ["QUIZKIT_NOW_SINCE"] = str(int(time.time() * 1000))


# --- reporting ---------------------------------------------------------------

class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, name):
        self.passed += 1
        print("ok - " + name, flush=True)

    def fail(self, name, why=""):
        self.failed += 1
        print("FAIL - " + name + (": " + why if why else ""), flush=True)

    def check(self, name, cond, why=""):
        (self.ok if cond else lambda n: self.fail(n, why))(name)
        return bool(cond)

    def eq(self, name, got, want):
        return self.check(name, got == want, "got %r, want %r" % (got, want))

    def skip(self, name, why):
        print("ok - %s # SKIP %s" % (name, why), flush=True)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 else 1


# --- HTTP --------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data
        try:
            self.json = json.loads(data.decode("utf-8")) if data else None
        except (ValueError, UnicodeDecodeError):
            self.json = None

    def error_code(self):
        e = (self.json or {}).get("error") if isinstance(self.json, dict) else None
        return e.get("code") if isinstance(e, dict) else None

    def text(self):
        return self.data.decode("utf-8", "replace")


class Api:
    """One server's API v1."""

    def __init__(self, url, cacert=None):
        u = urllib.parse.urlsplit(url)
        self.url = url.rstrip("/")
        self.https = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port or (443 if self.https else 80)
        self.ctx = ssl.create_default_context(cafile=cacert) if self.https else None

    def conn(self, timeout=60):
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def call(self, method, path, token=None, body=None, headers=None, timeout=60):
        """body: a dict or list (sent as JSON), bytes or str (sent as they are)."""
        h = {"Accept-Language": "en"}
        if token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode("utf-8")
            h["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode("utf-8")
        h.update(headers or {})
        c = self.conn(timeout)
        try:
            c.request(method, "/api/v1" + path, body=body, headers=h)
            r = c.getresponse()
            return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            c.close()

    def raw(self, data, timeout=10):
        """Sends bytes as they are and returns the status line's code (or
        None) and the whole reply read until the server closes or timeout."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        if self.https:
            s = self.ctx.wrap_socket(s, server_hostname=self.host)
        got = b""
        try:
            s.sendall(data)
            while b"\r\n\r\n" not in got:
                k = s.recv(65536)
                if not k:
                    break
                got += k
        except (socket.timeout, OSError):
            pass
        finally:
            s.close()
        m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
        return (int(m.group(1)) if m else None), got

    def login(self, user, password):
        r = self.call("POST", "/login", body={"user": user, "password": password})
        if r.status != 200:
            raise RuntimeError("login %s: %d %s" % (user, r.status, r.text()))
        return r.json["token"]


# --- events ------------------------------------------------------------------

def uuid7(ms=None):
    """A UUIDv7 (RFC 9562) at ms, random otherwise."""
    ms = int(time.time() * 1000) if ms is None else ms
    b = bytearray(ms.to_bytes(6, "big") + secrets.token_bytes(10))
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def event(device_id, seq, created_ms, **kw):
    """A plain event of the protocol (a lesson step, no member): what the
    server stores and acknowledges without scoring it."""
    e = {"id": uuid7(created_ms), "device_id": device_id, "seq": seq, "member_id": None,
         "bundle_id": None, "bundle_version": None, "kind": "lesson.step", "attempt_id": None,
         "payload": {"step": seq}, "created_ms": created_ms}
    e.update(kw)
    return e


# --- the device (the real quizkit binary) -----------------------------------

ANSWERS = "B\nAC\n对\n1921|南湖\nA\n"  # right answers to tests/fixtures/mini theme t, in order


class Device:
    def __init__(self, qk, home):
        self.qk = qk
        self.home = home
        os.makedirs(home, exist_ok=True)

    def run(self, *args, input=None, timeout=120):
        return subprocess.run([self.qk] + list(args), input=input, capture_output=True,
                              text=True, env=test_env(self.home), timeout=timeout)

    def must(self, *args, **kw):
        r = self.run(*args, **kw)
        if r.returncode != 0:
            raise RuntimeError("quizkit %s: %d %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def enroll(self, url, code, name="", cacert=None):
        extra = ["--name", name] if name else []
        if cacert:
            extra += ["--cacert", cacert]
        return self.must("enroll", url, code, *extra)

    @property
    def conf(self):
        with open(os.path.join(self.home, "server.json")) as f:
            return json.load(f)

    @property
    def id(self):
        """The device's id, as `quizkit status` shows it (enrolled or not; it never changes)."""
        if not getattr(self, "_id", None):
            m = re.search(r"^device (\S+)$", self.must("--lang", "en", "status").stdout, re.M)
            self._id = m.group(1)
        return self._id

    @property
    def token(self):
        return self.conf["token"]

    def play(self, times=1):
        for _ in range(times):
            self.must("play", "--bundle", "test.mini", "--theme", "t", "--order", "seq", input=ANSWERS)

    def sql(self, q):
        db = sqlite3.connect(os.path.join(self.home, "progress.db"))
        try:
            return db.execute(q).fetchall()
        finally:
            db.close()

    def last_seq(self):
        return self.sql("select coalesce(max(seq), 0) from events")[0][0]

    def acked(self):
        rows = self.sql("select value from sync_state where key = 'acked_seq'")
        return int(rows[0][0]) if rows else 0


# --- servers -----------------------------------------------------------------

# Store tables a request may change without being a write of its caller's:
# a login writes a session, failures are counted (throttle), statistics
# requests roll up (stat_*), and a device's request notes when it was seen.
VOLATILE_TABLES = ("sessions", "throttle")
VOLATILE_PREFIXES = ("stat_", "sqlite_")
VOLATILE_COLUMNS = {"devices": ("last_seen_ms",)}


class Server:
    """What a suite needs of the server under test besides its API."""
    url = None
    admin_password = None
    db = None  # the store spec for `quizkit admin import/backup`, if known

    def store_state(self):
        """{table: sorted rows} of the store, or None when it cannot be read."""
        return None

    def can_restart(self):
        return False


    def finish(self, R):
        """Stops the server if this suite started it; every run of it must
        have ended as SIGTERM asks (exit 0), without a sanitizer's report."""


class ExternalServer(Server):
    def __init__(self, url, admin_password, db=None):
        self.url = url
        self.admin_password = admin_password
        self.db = db


class SqliteServer(Server):
    """`quizkit serve` on a SQLite file, started and stopped by this suite."""

    def __init__(self, qk, work, trust_dir, cacert=None):
        self.qk = qk
        self.dir = os.path.join(work, "srv")
        os.makedirs(self.dir, exist_ok=True)
        self.path = os.path.join(self.dir, "server.db")
        self.db = "sqlite:" + self.path
        self.trust = trust_dir
        self.port = 0
        self.proc = None
        self.exits = []  # the exit status of each run, SIGTERM'ed

    def start(self):
        port_file = os.path.join(self.dir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        out = open(os.path.join(self.dir, "out"), "a")
        self.proc = spawn([self.qk, "serve", "--db", self.db, "--port", str(self.port), "--port-file",
                           port_file, "--trust", self.trust, "--log", os.path.join(self.dir, "log")],
                          stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          env=test_env(os.path.join(self.dir, "home")))
        out.close()
        if not wait_until(30, lambda: os.path.getsize(port_file) > 0 if os.path.exists(port_file)
                          else self.proc.poll() is not None) or self.proc.poll() is not None:
            raise RuntimeError("the server did not start: " + self.output())
        with open(port_file) as f:
            self.port = int(f.read().strip())
        self.url = "http://127.0.0.1:%d" % self.port
        m = re.search(r"初始密码：([0-9a-f-]+)", self.output())
        if m and not self.admin_password:
            self.admin_password = m.group(1)

    def output(self):
        with open(os.path.join(self.dir, "out"), errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc:
            self.exits.append(stop(self.proc))
        self.proc = None

    def can_restart(self):
        return True

    def finish(self, R):
        self.stop()
        R.eq("the server stopped cleanly each time it was asked to (exit 0)", self.exits, [0] * len(self.exits))
        out = self.output()
        R.check("the server's output has no sanitizer report", "Sanitizer" not in out,
                out[out.find("Sanitizer") - 200:][:2000])

    def backup(self, dest):
        r = subprocess.run([self.qk, "admin", "backup", dest, "--db", self.db], capture_output=True,
                           text=True, env=test_env(os.path.join(self.dir, "home")), timeout=120)
        if r.returncode != 0:
            raise RuntimeError("backup: " + r.stdout + r.stderr)

    def restore(self, backup):
        """The disk died: the server stops, its file is replaced by the
        backup, it starts again on the same port."""
        self.stop()
        for ext in ("-wal", "-shm"):
            if os.path.exists(self.path + ext):
                os.unlink(self.path + ext)
        shutil.copyfile(backup, self.path)
        self.start()

    def store_state(self):
        db = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=30)
        try:
            tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
            out = {}
            for t in tables:
                if t in VOLATILE_TABLES or t.startswith(VOLATILE_PREFIXES):
                    continue
                cols = [r[1] for r in db.execute("pragma table_info(%s)" % t)
                        if r[1] not in VOLATILE_COLUMNS.get(t, ())]
                rows = db.execute("select %s from %s" % (", ".join(cols), t)).fetchall()
                out[t] = sorted(rows, key=repr)
            return out
        finally:
            db.close()


class PgServer(SqliteServer):
    """`quizkit serve` on a PostgreSQL database of its own: made new in the
    cluster at url (a libpq URI naming no database) under a name no other
    run uses, dropped when the suite ends. The server runs as on SQLite."""

    def __init__(self, qk, work, trust_dir, url):
        super().__init__(qk, work, trust_dir)
        self.path = None
        self.name = "qk_conf_" + secrets.token_hex(6)
        self.admin_db = pg_url(url, "postgres")
        self.db = pg_url(url, self.name)
        self.dropped = False
        self._sql(self.admin_db, 'CREATE DATABASE "%s"' % self.name)
        # (atexit runs last-registered first: this stops the server, if it
        # still runs, before the database goes, when the suite ends early)
        atexit.register(self._drop_at_exit)

    def _sql(self, db, sql, env=None):
        """sql run by psql on db; its output. Any error raises."""
        r = subprocess.run([pg_tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=120, env=env)
        if r.returncode != 0:
            raise RuntimeError("psql %s: %s: %s" % (db, sql[:200], r.stderr.strip()))
        return r.stdout

    def _recreate(self):
        self._sql(self.admin_db, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)
        self._sql(self.admin_db, 'CREATE DATABASE "%s"' % self.name)

    def drop(self):
        """Drops the suite's database (the server stopped first)."""
        self.stop()
        if not self.dropped:
            self._sql(self.admin_db, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)
            self.dropped = True

    def _drop_at_exit(self):
        try:
            self.drop()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            print("# the database %s was not dropped: %s" % (self.name, e), flush=True)

    def finish(self, R):
        super().finish(R)
        self._drop_at_exit()

    def backup(self, dest):
        r = subprocess.run([pg_tool("pg_dump"), "-Fc", "-f", dest, self.db], capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            raise RuntimeError("pg_dump: " + r.stdout + r.stderr)

    def restore(self, backup):
        """The disk died: the server stops, its database is made again from
        the backup, it starts again on the same port."""
        self.stop()
        self._recreate()
        r = subprocess.run([pg_tool("pg_restore"), "--exit-on-error", "--single-transaction", "-d", self.db,
                            backup], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("pg_restore: " + r.stdout + r.stderr)
        self.start()

    def store_state(self):
        """As SqliteServer's: {table: rows sorted by repr} of the tables of
        schema public, each row a tuple in the table's column order (values
        as json_agg gives them), read in read-only transactions. Identity
        and generated columns are left out, as pragma table_info leaves out
        SQLite's rowid and generated columns: an identity column (events'
        rowno) is the store's stand-in for the rowid, and a suite finds the
        other columns where they are on SQLite (protocol.py's once_each
        reads events' columns by position)."""
        env = dict(os.environ, PGOPTIONS="-c default_transaction_read_only=on")
        cols = json.loads(self._sql(self.db, """
            select coalesce(json_object_agg(table_name, cols), '{}') from (
                select c.table_name, json_agg(c.column_name::text order by c.ordinal_position) as cols
                from information_schema.columns c
                join information_schema.tables t using (table_schema, table_name)
                where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
                    and c.is_identity = 'NO' and c.is_generated = 'NEVER'
                group by c.table_name) x""", env))
        tables = sorted(t for t in cols if t not in VOLATILE_TABLES and not t.startswith(VOLATILE_PREFIXES))
        if not tables:
            return {}
        q = " union all ".join(
            "select %s, (select coalesce(json_agg(r), '[]') from (select %s from %s) r)" %
            (pg_literal(t), ", ".join(pg_ident(c) for c in cols[t] if c not in VOLATILE_COLUMNS.get(t, ())),
             pg_ident(t)) for t in tables)
        rows = json.loads(self._sql(self.db, "select json_object_agg(t, r) from (%s) x(t, r)" % q, env))
        out = {}
        for t in tables:
            keep = [c for c in cols[t] if c not in VOLATILE_COLUMNS.get(t, ())]
            out[t] = sorted((tuple(r[c] for c in keep) for r in rows[t]), key=repr)
        return out


def pg_url(url, dbname):
    """The libpq URI url with dbname as its database (its query kept)."""
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment))


def pg_tool(name):
    """A PostgreSQL client program: from $QK_PG_BIN (scripts/pg-cluster.sh
    sets it) if it is there, else from PATH."""
    d = os.environ.get("QK_PG_BIN")
    if d and os.access(os.path.join(d, name), os.X_OK):
        return os.path.join(d, name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError("%s not found (set QK_PG_BIN or install postgresql-client)" % name)
    return found


def pg_ident(name):
    return '"%s"' % name.replace('"', '""')


def pg_literal(text):
    return "'%s'" % text.replace("'", "''")


def diff_tables(before, after):
    """The tables whose rows differ."""
    if before is None or after is None:
        return set()
    return {t for t in set(before) | set(after) if (before.get(t) or []) != (after.get(t) or [])}


# --- the command line every suite takes --------------------------------------

def options(doc):
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qk", required=True, help="the quizkit binary (the reference device and importer)")
    ap.add_argument("--tests", required=True, help="the tests/ folder (fixtures)")
    ap.add_argument("--url", help="a running server to test (default: start quizkit serve on SQLite)")
    ap.add_argument("--pg", metavar="URL", help="start quizkit serve on a new database in this PostgreSQL "
                    "cluster instead (a libpq URI with no database name, e.g. postgresql://postgres@127.0.0.1:5432; "
                    "scripts/pg-cluster.sh run gives one in QK_PG_URL); the database is dropped at the end")
    ap.add_argument("--admin-password", help="the password of its account admin (with --url)")
    ap.add_argument("--admin-user", default="admin")
    ap.add_argument("--db", help="with --url: its store spec, for quizkit admin import")
    ap.add_argument("--cacert", help="with an https --url: the CA certificate to trust")
    ap.add_argument("--publisher-key", help="with --url: a publisher key (quizkit keygen) whose .pub "
                    "the server trusts (--trust); bundles are signed with it")
    ap.add_argument("--work", help="a folder for the suite's files (default: a new temporary one, removed)")
    args = ap.parse_args()
    if args.pg is not None and not args.pg:
        ap.error("--pg: an empty URL (is QK_PG_URL set? scripts/pg-cluster.sh run sets it)")
    if args.pg and args.url:
        ap.error("--pg starts a server of its own: not with --url")
    return args


class Setup:
    """The suite's folder, the publisher key, the test bundle, the server."""

    def __init__(self, args):
        self.args = args
        self.qk = os.path.abspath(args.qk)
        self.tests = os.path.abspath(args.tests)
        if args.work:
            self.work = os.path.abspath(args.work)
            os.makedirs(self.work, exist_ok=True)
        else:
            self.work = tempfile.mkdtemp(prefix="qkconf-", dir=os.environ.get("TMPDIR"))
            atexit.register(shutil.rmtree, self.work, True)
        self.tool = Device(self.qk, os.path.join(self.work, "tool"))
        if args.publisher_key:
            self.key = os.path.abspath(args.publisher_key)
            pub = re.sub(r"\.key$", "", self.key) + ".pub"
        else:
            self.tool.must("keygen", "-o", os.path.join(self.work, "pub"))
            self.key = os.path.join(self.work, "pub.key")
            pub = os.path.join(self.work, "pub.pub")
        self.pub = pub
        self.bundle = os.path.join(self.work, "mini.qkb")
        self.tool.must("bundle", "build", os.path.join(self.tests, "fixtures", "mini"), "-o", self.bundle,
                       "--key", self.key, "--quiet")
        if args.url:
            if not args.admin_password:
                sys.exit("--url needs --admin-password")
            self.server = ExternalServer(args.url, args.admin_password, args.db)
        else:
            trust = os.path.join(self.work, "srv-trust")
            os.makedirs(trust, exist_ok=True)
            shutil.copy(pub, trust)
            if args.pg:
                self.server = PgServer(self.qk, self.work, trust, args.pg)
            else:
                self.server = SqliteServer(self.qk, self.work, trust)
            self.server.start()
        self.api = Api(self.server.url, args.cacert)
        self.admin = self.api.login(args.admin_user, self.server.admin_password)

    def device(self, name):
        """A reference device that trusts the test bundle's publisher and has it installed."""
        d = Device(self.qk, os.path.join(self.work, "dev-" + name))
        d.must("trust", "add", self.pub)
        d.must("bundle", "install", self.bundle)
        return d

    def code(self, branch, token=None):
        r = self.api.call("POST", "/enrol-codes", token or self.admin, {"branch": branch})
        if r.status != 201:
            raise RuntimeError("enrol code: %d %s" % (r.status, r.text()))
        return r.json["code"]

    def enrolled(self, name, branch):
        d = self.device(name)
        d.enroll(self.server.url, self.code(branch), name, self.args.cacert)
        return d

    def must(self, method, path, body=None, status=(200, 201), token=None):
        r = self.api.call(method, path, token or self.admin, body)
        if r.status not in status:
            raise RuntimeError("%s %s: %d %s" % (method, path, r.status, r.text()))
        return r

    def now(self):
        """The server's clock (it judges with its own)."""
        return self.must("GET", "/time").json["server_ms"]

    def api_state(self):
        """What the API shows an admin: branches, each branch's members and
        devices, competitions, bundles (the state check when the store
        cannot be read directly)."""
        out = {}
        br = self.must("GET", "/branches").json["branches"]
        out["branches"] = sorted(json.dumps(b, sort_keys=True) for b in br)
        for b in br:
            out["members:" + b["id"]] = sorted(json.dumps(m, sort_keys=True) for m in
                                               self.must("GET", "/members?branch=" + b["id"]).json["members"])
        devs = self.must("GET", "/devices").json["devices"]
        for d in devs:
            d.pop("last_seen_ms", None)
        out["devices"] = sorted(json.dumps(d, sort_keys=True) for d in devs)
        out["competitions"] = sorted(json.dumps(c, sort_keys=True) for c in
                                     self.must("GET", "/competitions").json["competitions"])
        out["bundles"] = sorted(json.dumps(b, sort_keys=True) for b in self.must("GET", "/bundles").json["bundles"])
        return out

    def state(self):
        """Both views: the API's (any backend) and the store's (when readable)."""
        s = {"api:" + k: v for k, v in self.api_state().items()}
        st = self.server.store_state()
        if st is not None:
            s.update({"store:" + k: v for k, v in st.items()})
        return s


def gz(data):
    return gzip.compress(data)


def usb_header(path):
    """The JSON header (line 1) of a batch file from `quizkit export`."""
    with gzip.open(path, "rb") as f:
        return json.loads(f.readline())


def usb_events(path):
    """The events (line 2) of a batch file."""
    with gzip.open(path, "rb") as f:
        f.readline()
        return json.loads(f.readline())


def bundle_variant(setup, name, version, title=None, key=None):
    """The test bundle built again with another version or title, signed by
    key (the test publisher's by default)."""
    src = os.path.join(setup.tests, "fixtures", "mini")
    dst = os.path.join(setup.work, "src-" + name)
    shutil.copytree(src, dst)
    with open(os.path.join(dst, "bundle.json"), encoding="utf-8") as f:
        b = json.load(f)
    b["version"] = version
    if title:
        b["title"] = title
    with open(os.path.join(dst, "bundle.json"), "w", encoding="utf-8") as f:
        json.dump(b, f, ensure_ascii=False)
    out = os.path.join(setup.work, name + ".qkb")
    setup.tool.must("bundle", "build", dst, "-o", out, "--key", key or setup.key, "--quiet")
    return out


class Signer:
    """A P-256 key of our own (openssl; Python's standard library has no
    ECDSA): to prove possession at enrolment as a device that is not the
    reference binary would, and to show that a valid proof by another key
    enrols nothing under an existing device id."""

    def __init__(self, work, name):
        self.key = os.path.join(work, name + ".pem")
        subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.key],
                       check=True, capture_output=True)
        self.pem = subprocess.run(["openssl", "ec", "-in", self.key, "-pubout"], check=True,
                                  capture_output=True, text=True).stdout

    def sign_hex(self, data):
        """hex DER ECDSA signature over SHA-256(data)."""
        return subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=data, check=True,
                              capture_output=True).stdout.hex()


def signed_batch(path, header, key_file, events):
    """A USB batch file (docs/protocol.md) of events, with header's device
    fields, signed with the device's own key file as `quizkit export` signs
    it: the SHA-256 of line 2 in the header, and an ECDSA signature over it."""
    body = json.dumps(events, separators=(",", ":")).encode("ascii")
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_file], input=body, check=True,
                         capture_output=True).stdout.hex()
    h = dict(header, first_seq=events[0]["seq"], last_seq=events[-1]["seq"], events=len(events),
             body_sha256=hashlib.sha256(body).hexdigest(), signature=sig)
    with gzip.open(path, "wb") as f:
        f.write(json.dumps(h).encode("ascii") + b"\n" + body + b"\n")


def enrol_proof(signer, code, device_id, pem):
    """The enrolment proof of docs/protocol.md: signer's signature of the
    SHA-256 of "quizkit-enrol-1\\nCODE\\nDEVICE_ID\\nPUBLIC_KEY_PEM", CODE upper
    case without '-' and spaces."""
    norm = code.upper().replace("-", "").replace(" ", "")
    return signer.sign_hex(("quizkit-enrol-1\n%s\n%s\n%s" % (norm, device_id, pem)).encode("utf-8"))
