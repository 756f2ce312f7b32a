"""authz_lib.py: what the authorization matrix (authz.py) is made of: what a
cell expects besides its status (Effect, the checks), requests and the
bodies made when a cell runs, the fixture every cell runs on, and running a
cell."""
import datetime
import os

import qkconf as q

# --- what a cell expects besides its status -----------------------------------

class Effect:
    """changes: the tables the request may change (none for a read or a
    refused write); check(resp, F): what must hold afterwards, or None."""

    def __init__(self, desc, changes=(), check=None):
        self.desc = desc
        self.changes = set(changes)
        self.check = check


NOTHING = Effect("nothing changed")


def READ(check=None, desc=None):
    return Effect(desc or (check.desc if check else "nothing changed"), (), check)


def WRITES(tables, check=None):
    return Effect("changes %s%s" % ("+".join(sorted(tables)), "; " + check.desc if check else ""),
                  tables, check)


class Check:
    def __init__(self, desc, fn):
        self.desc = desc
        self.fn = fn

    def __call__(self, r, F):
        return self.fn(r, F)


def _items(r, key, field):
    return {x.get(field) for x in ((r.json or {}).get(key) or [])}


def lists(key, has=(), lacks=(), field="id"):
    """The answer's list key names every id in has and none in lacks."""
    def fn(r, F):
        got = _items(r, key, field)
        want, bad = {F.sub(x) for x in has}, {F.sub(x) for x in lacks}
        return want <= got and not (bad & got), "%s: %s" % (key, sorted(map(str, got)))
    return Check("%s lists %s%s" % (key, ",".join(has) or "-", (", not " + ",".join(lacks)) if lacks else ""), fn)


def all_in(key, branch, field="branch"):
    """Every item of the answer's list is of branch (and there is one)."""
    def fn(r, F):
        got = _items(r, key, field)
        return got == {branch}, "%s: %s" % (key, sorted(map(str, got)))
    return Check("all %s of %s" % (key, branch), fn)


def says(**want):
    def fn(r, F):
        got = {k: (r.json or {}).get(k) for k in want}
        return got == {k: F.sub(v) for k, v in want.items()}, "got %s" % got
    return Check(", ".join("%s=%s" % kv for kv in want.items()), fn)


def both(*checks):
    def fn(r, F):
        for c in checks:
            good, why = c(r, F)
            if not good:
                return False, why
        return True, ""
    return Check("; ".join(c.desc for c in checks), fn)


def lacks_text(*words):
    """The answer's body does not contain any of words (another branch's members)."""
    def fn(r, F):
        t = r.text()
        found = [w for w in words if w in t]
        return not found, "found %s" % found
    return Check("no " + ",".join(words), fn)


def member_of(mid, branch, name=None):
    """The admin's view: member mid is in branch (with name)."""
    def fn(r, F):
        ms = F.get("/members?branch=" + branch)["members"]
        m = [x for x in ms if x["id"] == mid]
        return bool(m) and (name is None or m[0]["name"] == name), "members of %s: %s" % (branch, ms)
    return Check("%s in %s%s" % (mid, branch, " named " + name if name else ""), fn)


def admin_sees(path, key, item):
    """The admin's GET path lists item."""
    def fn(r, F):
        got = {x.get("id") for x in F.get(path)[key]}
        return item in got, "%s: %s" % (key, sorted(got))
    return Check("%s then lists %s" % (path, item), fn)


def token_gets(token, status, branch=None):
    """GET /device with the named device's token answers status (and the
    device is still of branch)."""
    def fn(r, F):
        x = F.api.call("GET", "/device", F.tokens[token])
        return x.status == status and (branch is None or (x.json or {}).get("branch") == branch), \
            "GET /device as %s: %d %s" % (token, x.status, x.text())
    return Check("%s's token then gets %d%s" % (token, status, " in " + branch if branch else ""), fn)


def login_as(user, pw, role, branch):
    def fn(r, F):
        x = F.api.call("POST", "/login", None, {"user": user, "password": pw})
        j = x.json or {}
        return (x.status, j.get("role"), j.get("branch")) == (200, role, branch), x.text()
    return Check("%s logs in as %s of %s" % (user, role, branch), fn)


def roster_pin(device, mid, changed):
    """The roster device gets shows mid with the PIN of the events below
    (changed) or with another one."""
    def fn(r, F):
        m = [x for x in F.api.call("GET", "/roster", F.tokens[device]).json["members"] if x["id"] == mid]
        return bool(m) and (m[0]["pin_hash"] in EVENT_PINS) == changed, "roster of %s: %s" % (device, m)
    return Check("%s's PIN %s" % (mid, "now the event's" if changed else "not the event's"), fn)


def stat_row(first, col, value):
    """The statistics table's row whose first column is first has value in column col."""
    def fn(r, F):
        rows = [x for x in (r.json or {}).get("rows", []) if x and x[0] == first]
        return bool(rows) and rows[0][col] == value, "rows %s" % rows
    return Check("row %s: column %d is %r" % (first, col, value), fn)


def conflict_reported():
    def fn(r, F):
        j = r.json or {}
        got = (j.get("inserted"), [c.get("id") for c in j.get("conflicts", [])])
        return got == (0, [F.vars["b2_event"]]), r.text()
    return Check("conflict reported, not stored", fn)


def content_type(prefix):
    def fn(r, F):
        return r.headers.get("content-type", "").startswith(prefix), r.headers.get("content-type")
    return Check("a " + prefix.split("/")[-1][:20] + " file", fn)


def same_bytes(path_var):
    def fn(r, F):
        with open(F.vars[path_var], "rb") as f:
            return r.data == f.read(), "%d bytes" % len(r.data)
    return Check("the published file's bytes", fn)


# --- requests ----------------------------------------------------------------

def GET(path):
    return ("GET", path, None)


def POST(path, body=None):
    """body: a dict (JSON), a str (sent as it is), FILE(name) or a function
    of the fixture that makes the body when the cell runs."""
    return ("POST", path, body)


class FILE:
    """The bytes of the fixture's file vars[name] as the body."""

    def __init__(self, name):
        self.name = name


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def own_event(device="dev-b1", kind="lesson.step", member=None, payload=None):
    """One event naming device (a name in Fixture.devices): for dev-b1 its
    next seq (after what the server acknowledges), for the others seq 1."""
    def body(F):
        seq = F.next_seq() if device == "dev-b1" else 1
        return {"events": [q.event(F.devices[device].id, seq, F.now(), kind=kind, member_id=member,
                                   payload=payload or {"step": seq})]}
    return body


EVENT_PINS = ("cd" * 32, "ef" * 32)  # the PIN hashes the events below carry


def pin_event(member):
    pin = {"pin_salt": "ab" * 16, "pin_hash": EVENT_PINS[0], "pin_iter": 1000, "name": "冒名顶替"}
    return own_event("dev-b1", "member.pin_changed", member, pin)


def added_event(member):
    return own_event("dev-b1", "member.added", member,
                     {"pin_salt": "ab" * 16, "pin_hash": EVENT_PINS[1], "pin_iter": 1000, "name": "冒名顶替",
                      "dept": ""})


def attempt_events(member, competition="mini-cup"):
    """dev-b1's next three events: a whole competition entry of member
    (start, one right answer, finish), as a device records it."""
    def body(F):
        seq, now = F.next_seq(), F.now()
        aid = q.uuid7(now)
        common = dict(member_id=member, bundle_id="test.mini", bundle_version="1", attempt_id=aid)
        start = {"mode": "competition", "theme": "t", "count": 1, "order": "sequential",
                 "time_limit_s": 30, "seed": "1", "competition": competition, "questions": ["q1"]}
        finish = {"score": 200, "max": 200, "correct": 1, "answered": 1, "total": 1, "duration_ms": 3000,
                  "reason": "done", "competition": competition, "comp_points": 999, "answer_ms": 3000,
                  "flagged": 0}
        dev = F.devices["dev-b1"].id
        return {"events": [
            q.event(dev, seq, now, kind="attempt.start", payload=start, **common),
            q.event(dev, seq + 1, now + 1000, kind="answer", payload={"q": "q1", "given": "B", "ms": 3000},
                    **common),
            q.event(dev, seq + 2, now + 3000, kind="attempt.finish", payload=finish, **common)]}
    return body


def event_reusing_b2_id():
    """dev-b1's next event, under the id of an event dev-b2 sent."""
    def body(F):
        e = q.event(F.devices["dev-b1"].id, F.next_seq(), F.now())
        e["id"] = F.vars["b2_event"]
        return {"events": [e]}
    return body


def enrol(code_branch, device, key, proof=True, code=None):
    """POST /enroll with a fresh code of code_branch (or code as given), the
    id of device (a name in Fixture.devices, or "new"), the public key of key
    ("ours": a key of the suite's own; or a device's own, from the header of
    its USB file) and the proof signed with our key."""
    def body(F):
        c = code or F.code(code_branch)
        dev = q.uuid7() if device == "new" else F.devices[device].id
        pem = F.ours.pem if key == "ours" else F.device_pem[key]
        b = {"code": c, "device_id": dev, "name": "rogue", "public_key": pem}
        if proof:
            b["proof"] = q.enrol_proof(F.ours, c, dev, pem)
        return b
    return body


NEW_LEADER = {"name": "li2", "role": "leader", "branch": "b1", "password": "leader-pass-9"}
SPEC = {"title": "支部杯", "questions": ["q3", "u1"], "seconds": 25}


def comp(cid, branch=None):
    body = {"bundle_id": "test.mini", "spec": dict(SPEC, id=cid)}
    if branch is not None:
        body["branch"] = branch
    return body


def member(mid, branch=None, name="新成员", pin="2468"):
    body = {"id": mid, "name": name, "dept": "内科", "pin": pin}
    if branch is not None:
        body["branch"] = branch
    return body


# --- the fixture --------------------------------------------------------------

class Fixture:
    """Branches b1 and b2, leaders li (b1) and wang (b2), members m1, m2 (b1)
    and m9 (b2), the test bundle published, competitions c-b2 (b2 only) and
    c-all (every branch), devices dev-b1 and dev-b2 that have synced, dev-r1
    (b1) and dev-r2 (b2) to be revoked, one device revoked already. All made
    through the API (the devices with the reference binary)."""

    def __init__(self, S):
        self.S = S
        self.api = S.api
        a = S.admin
        S.must("POST", "/branches", {"id": "b1", "name": "第一党支部"})
        S.must("POST", "/branches", {"id": "b2", "name": "第二党支部"})
        S.must("POST", "/users", {"name": "li", "role": "leader", "branch": "b1", "password": "leader-pass-1"})
        S.must("POST", "/users", {"name": "wang", "role": "leader", "branch": "b2", "password": "leader-pass-2"})
        for mid, name, b, pin in (("m1", "张三", "b1", "1111"), ("m2", "李四", "b1", "2222"),
                                  ("m9", "王五", "b2", "9999")):
            S.must("POST", "/members", {"id": mid, "name": name, "branch": b, "dept": "内科", "pin": pin})
        with open(S.bundle, "rb") as f:
            S.must("POST", "/bundles", f.read())
        S.must("POST", "/competitions", comp("c-b2", "b2"))
        S.must("POST", "/competitions", comp("c-all"))
        self.devices = {}
        for name, branch in (("dev-b1", "b1"), ("dev-b2", "b2"), ("dev-r1", "b1"), ("dev-r2", "b2"), ("revoked", "b1")):
            self.devices[name] = S.enrolled(name, branch)
        S.must("POST", "/devices/%s/revoke" % self.devices["revoked"].id)
        # m1 has played on dev-b1 and m9 on dev-b2, both synced: each branch
        # has activity the other's statistics must not show; dev-b2's key is
        # in its USB file's header, as anyone with the stick can read it
        b1, b2 = self.devices["dev-b1"], self.devices["dev-b2"]
        for d, mid, pin in ((b1, "m1", "1111"), (b2, "m9", "9999")):
            d.must("sync")
            d.must("play", "--bundle", "test.mini", "--theme", "t", "--order", "seq", "--member", mid,
                   input=pin + "\n" + q.ANSWERS)
        b2.must("export", "--out", os.path.join(S.work, "b2.qkd"))
        for d in (b1, b2):
            d.must("sync")
        stick = os.path.join(S.work, "b2.qkd")
        self.device_pem = {"dev-b2": q.usb_header(stick)["device_key"]}
        self.ours = q.Signer(S.work, "ours")
        self.tokens = {"none": None, "member": None, "bogus": "0" * 64, "admin": a,
                       "li": self.api.login("li", "leader-pass-1"), "wang": self.api.login("wang", "leader-pass-2")}
        self.tokens.update({n: d.token for n, d in self.devices.items()})
        self.vars = dict(admin_pw=S.server.admin_password, unknown_device=q.uuid7(),
                         b2_event=q.usb_events(stick)[0]["id"],
                         mini_v1=S.bundle,
                         mini_v2=q.bundle_variant(S, "mini-v2", "2"),
                         mini_v1_other=q.bundle_variant(S, "mini-v1-other", "1", title="另一个内容"),
                         mini_rogue=self.rogue_bundle())
        for n, d in self.devices.items():
            self.vars[n.replace("-", "_")] = d.id
        # the statistics' period: the Beijing days around the play above (the
        # default, this month, may have ended since: the date sweep starts a
        # run in the last minute of a month)
        bj = datetime.datetime.fromtimestamp(S.now() / 1000, datetime.timezone(datetime.timedelta(hours=8)))
        self.vars["period"] = "from=%s&to=%s" % ((bj - datetime.timedelta(days=3)).date(),
                                                 (bj + datetime.timedelta(days=3)).date())

    def rogue_bundle(self):
        self.S.tool.must("keygen", "-o", os.path.join(self.S.work, "rogue"))
        return q.bundle_variant(self.S, "mini-rogue", "3", key=os.path.join(self.S.work, "rogue.key"))

    def sub(self, v):
        """{name} in strings, dicts and lists from vars."""
        if isinstance(v, str):
            return v.format_map(self.vars) if "{" in v else v
        if isinstance(v, dict):
            return {k: self.sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.sub(x) for x in v]
        return v

    def next_seq(self):
        """dev-b1's next seq: its events on the server have no gaps, so the
        one after what the server acknowledges."""
        return self.api.call("GET", "/device", self.tokens["dev-b1"]).json["acked_seq"] + 1

    def now(self):
        return self.get("/time")["server_ms"]

    def code(self, branch):
        return self.S.code(branch)

    def get(self, path):
        return self.S.must("GET", path).json


def affected(key):
    """The logical tables a state key stands for (api:members:b1 -> members)."""
    view, _, name = key.partition(":")
    name = name.split(":")[0]
    if view == "api" and name == "branches":  # it counts members and devices too
        return {"branches", "members", "devices"}
    return {name}


def run_cell(F, R, cell):
    endpoint, role, case, (method, path, body), status, effect = cell
    label = "%s | %s | %s" % (endpoint, role, case)
    try:
        if callable(body):
            body = body(F)
        elif isinstance(body, FILE):
            with open(F.vars[body.name], "rb") as f:
                body = f.read()
        else:
            body = F.sub(body)
        path = F.sub(path)
        before = F.S.state()
        r = F.api.call(method, path, F.tokens[role], body)
        after = F.S.state()
    except Exception as e:  # a cell that cannot run is a failed cell, not a stopped suite
        R.fail(label, "%s: %s" % (type(e).__name__, e))
        return
    changed = q.diff_tables(before, after)
    stray = sorted(k for k in changed if not (affected(k) & effect.changes))
    why = []
    if r.status != status:
        why.append("status %d, want %d: %s" % (r.status, status, r.text()[:300]))
    if stray:
        why.append("changed %s" % ", ".join(stray))
    if effect.check and r.status == status:
        good, detail = effect.check(r, F)
        if not good:
            why.append("%s does not hold: %s" % (effect.check.desc, str(detail)[:400]))
    want = "%d, %s" % (status, effect.desc)
    if why:
        R.fail("%s -> %s" % (label, want), "; ".join(why))
    else:
        R.ok("%s -> %s" % (label, want))
