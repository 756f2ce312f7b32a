#!/usr/bin/env python3
"""Protocol conformance (docs/protocol.md), through the server's HTTP API and
its USB files only, with the real quizkit binary as the reference device and
importer. One "ok - ..."/"FAIL - ..." line per check, then "N passed, M failed".

Cases:
  idempotent     the same batch twice (as JSON, gzipped, by the reference
                 device's sync, by USB file): duplicates, nothing new
  acks and gaps  seq 1-3 and 5: acked 3, gap [4,4]; then 4: acked 5; two gaps
  conflicts      the same id (or device and seq) with other content: not
                 stored, reported
  restore        the server restored from `admin backup`: the device sends what
                 the server lost, over the network and by USB, each event once
  forged acks    an edited acknowledgement, one signed by another key and one
                 of another device are refused by `quizkit import-ack`
  usb impostor   a USB file naming an enrolled device, signed by another key,
                 is refused whole
  re-enrolment   an enrolment naming an existing device id without the proof of
                 its key is refused and changes nothing; its holder may
  time bounds    created_ms from 0 to 253402271999999 (9999-12-31 Beijing):
                 outside it 400 naming events[i].created_ms, nothing stored,
                 and a USB file carrying one is refused whole
  body limits    a body announced larger than its endpoint's limit is 413
                 before it is sent; an inflating gzip body past 1 MiB is 413;
                 more than 1,000 events are refused
  bad bodies     bad JSON, bad UTF-8, JSON nested too deep, not an object, bad
                 gzip, an unknown encoding, a method the route does not
                 take: 4xx, nothing changed
(the authorization matrix is authz.py, its own test).

usage: protocol.py --qk QUIZKIT --tests TESTS_DIR [--url URL --admin-password PW --db SPEC ...]
(see qkconf.py)."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qkconf as q  # noqa: E402

TIME_MAX_MS = 253402271999999  # 9999-12-31 23:59:59.999 Beijing time
GZIP = {"Content-Encoding": "gzip"}


def post_events(S, dev, events, headers=None, gz=False):
    body = json.dumps({"events": events}).encode()
    if gz:
        body = q.gz(body)
        headers = dict(headers or {}, **GZIP)
    return S.api.call("POST", "/events", dev.token, body, headers)


def summary(r):
    """The parts of an upload's answer the cases compare."""
    j = r.json or {}
    return {"status": r.status, "received": j.get("received"), "inserted": j.get("inserted"),
            "duplicates": j.get("duplicates"), "conflicts": [c.get("id") for c in j.get("conflicts", [])],
            "acked_seq": j.get("acked_seq"), "gaps": j.get("gaps")}


def want(received, inserted, duplicates, acked, gaps=(), conflicts=()):
    return {"status": 200, "received": received, "inserted": inserted, "duplicates": duplicates,
            "conflicts": list(conflicts), "acked_seq": acked, "gaps": [list(g) for g in gaps]}


def unchanged(S, R, name, before):
    """The server's state is as it was (the API's view, and the store's when readable)."""
    changed = q.diff_tables(before, S.state())
    R.check(name, not changed, "changed " + ", ".join(sorted(changed)))


def server_device(S, dev):
    """The admin's view of a device: GET /devices."""
    for d in S.must("GET", "/devices").json["devices"]:
        if d["id"] == dev.id:
            return d
    return {}


def device_status(dev):
    """(events, acknowledged, to sync) as `quizkit status` tells them."""
    out = dev.must("--lang", "en", "status").stdout
    m = re.search(r"(\d+) events, (\d+) acknowledged by the server, (\d+) to sync", out)
    return tuple(int(x) for x in m.groups()) if m else out


def admin_import(S, path, ack_dir, *extra):
    """`quizkit admin import` of one USB file: (exit status, what it counted)."""
    os.makedirs(ack_dir, exist_ok=True)
    r = S.tool.run("--lang", "en", "admin", "import", path, "--db", S.server.db, "--ack-dir", ack_dir, *extra)
    m = re.search(r"(\d+) received, (\d+) new, (\d+) already held, (\d+) conflicting; acknowledged up to (\d+)",
                  r.stdout + r.stderr)
    return r.returncode, (tuple(int(x) for x in m.groups()) if m else (r.stdout + r.stderr).strip())


def ack_file(ack_dir, dev):
    return os.path.join(ack_dir, "ack-%s.json" % dev.id)


def once_each(S, dev):
    """The server holds each of dev's events once, all of them: its
    acknowledgement and last seq are the device's last seq (and, when the
    store can be read, no event twice)."""
    d = server_device(S, dev)
    last = dev.last_seq()
    st = S.server.store_state()
    if st is not None:
        rows = [r for r in st["events"] if r[1] == dev.id]
        ids, seqs = {r[0] for r in rows}, sorted(r[2] for r in rows)
        return (d.get("acked_seq"), d.get("last_seq"), len(rows), len(ids), seqs == list(range(1, last + 1))) == \
            (last, last, last, last, True), "server %s, %d rows, device last %d" % (d, len(rows), last)
    return (d.get("acked_seq"), d.get("last_seq")) == (last, last), "server %s, device last %d" % (d, last)


# --- the cases ----------------------------------------------------------------

def idempotent(S, R):
    """idempotent: the same batch twice changes nothing"""
    d = S.enrolled("idem", "b1")
    now = S.now()
    evs = [q.event(d.id, i, now) for i in (1, 2, 3)]
    R.eq("idempotent: a batch of 3 new events", summary(post_events(S, d, evs)), want(3, 3, 0, 3))
    before = S.state()
    R.eq("idempotent: the same batch again: 3 duplicates", summary(post_events(S, d, evs)), want(3, 0, 3, 3))
    R.eq("idempotent: and once more gzipped", summary(post_events(S, d, evs, gz=True)), want(3, 0, 3, 3))
    unchanged(S, R, "idempotent: nothing new on the server", before)

    ref = S.enrolled("idem-ref", "b1")
    ref.play(1)
    ref.must("sync")
    before = S.state()
    r = ref.run("--lang", "en", "sync")
    R.check("idempotent: the reference device's second sync sends nothing",
            r.returncode == 0 and "synced: 0 events sent" in r.stdout, r.stdout + r.stderr)
    unchanged(S, R, "idempotent: and changes nothing", before)

    if not S.server.db:
        return R.skip("idempotent: the same USB file twice", "no --db for admin import")
    usb = S.device("idem-usb")
    usb.play(1)
    stick = os.path.join(S.work, "idem.qkd")
    usb.must("export", "--out", stick)
    acks = os.path.join(S.work, "acks-idem")
    R.eq("idempotent: a USB file imported", admin_import(S, stick, acks), (0, (7, 7, 0, 0, 7)))
    before = S.state()
    R.eq("idempotent: the same USB file again: 7 already held", admin_import(S, stick, acks), (0, (7, 0, 7, 0, 7)))
    unchanged(S, R, "idempotent: nothing new on the server", before)


def acks_and_gaps(S, R):
    """acknowledgements and gaps"""
    d = S.enrolled("gaps", "b1")
    now = S.now()
    ev = {i: q.event(d.id, i, now) for i in range(1, 10)}
    R.eq("acks: seq 1-3 and 5: acked 3, gap [4,4]", summary(post_events(S, d, [ev[1], ev[2], ev[3], ev[5]])),
         want(4, 4, 0, 3, [(4, 4)]))
    R.eq("acks: GET /device says acked 3", S.api.call("GET", "/device", d.token).json.get("acked_seq"), 3)
    sd = server_device(S, d)
    R.eq("acks: GET /devices says acked 3, last 5", (sd.get("acked_seq"), sd.get("last_seq")), (3, 5))
    R.eq("acks: then 4: acked 5, no gap", summary(post_events(S, d, [ev[4]])), want(1, 1, 0, 5))
    R.eq("acks: GET /device says acked 5", S.api.call("GET", "/device", d.token).json.get("acked_seq"), 5)
    R.eq("acks: 7 and 9: acked 5, gaps [6,6] and [8,8]", summary(post_events(S, d, [ev[7], ev[9]])),
         want(2, 2, 0, 5, [(6, 6), (8, 8)]))
    R.eq("acks: 8 and 6 in one batch: acked 9", summary(post_events(S, d, [ev[8], ev[6]])), want(2, 2, 0, 9))
    R.eq("acks: an old event again changes no acknowledgement", summary(post_events(S, d, [ev[2]])),
         want(1, 0, 1, 9))


def conflicts(S, R):
    """conflicts: the same id or seq with other content"""
    d = S.enrolled("conflict", "b1")
    now = S.now()
    e1, e2 = q.event(d.id, 1, now), q.event(d.id, 2, now)
    R.eq("conflict: the first event", summary(post_events(S, d, [e1])), want(1, 1, 0, 1))
    before = S.state()
    other = dict(e1, payload={"step": 99})
    R.eq("conflict: the same id, other content: reported, not stored", summary(post_events(S, d, [other])),
         want(1, 0, 0, 1, conflicts=[e1["id"]]))
    r = post_events(S, d, [other])
    R.eq("conflict: reported as 409", [c.get("status") for c in (r.json or {}).get("conflicts", [])], [409])
    same_seq = q.event(d.id, 1, now)
    R.eq("conflict: the same device and seq under another id: reported, not stored",
         summary(post_events(S, d, [same_seq])), want(1, 0, 0, 1, conflicts=[same_seq["id"]]))
    unchanged(S, R, "conflict: the server still holds the first version only", before)
    R.eq("conflict: in a batch with a duplicate and a new event, only the new one is stored",
         summary(post_events(S, d, [e1, other, e2])), want(3, 1, 1, 2, conflicts=[e1["id"]]))


def restore(S, R):
    """restore: the server restored from a backup; the device resends"""
    if not S.server.can_restart():
        return R.skip("restore: gap recovery after a restore", "the suite cannot restart an external server")
    d = S.enrolled("restore", "b1")
    d.play(3)
    d.must("sync")
    backup = os.path.join(S.work, "backup-1.db")
    S.server.backup(backup)
    held = server_device(S, d).get("acked_seq")
    d.play(3)
    d.must("sync")
    R.check("restore: before the disk dies the server holds every event once", *once_each(S, d))
    S.server.restore(backup)
    S.admin = S.api.login(S.args.admin_user, S.server.admin_password)
    R.eq("restore: the restored server acknowledges what the backup held", server_device(S, d).get("acked_seq"), held)
    d.play(2)
    r = d.run("--lang", "en", "sync")
    R.check("restore: the next sync succeeds and says the server had lost records",
            r.returncode == 0 and "The server lost records of this device" in r.stdout, r.stdout + r.stderr)
    R.check("restore: every event on the server exactly once", *once_each(S, d))
    R.eq("restore: nothing left to sync", device_status(d)[2:], (0,))

    # by USB: the restored server's signed acknowledgement takes the device
    # back, and its next file carries what the server lost
    backup = os.path.join(S.work, "backup-2.db")
    S.server.backup(backup)
    d.play(2)
    d.must("sync")
    S.server.restore(backup)
    S.admin = S.api.login(S.args.admin_user, S.server.admin_password)
    d.play(1)
    stick = os.path.join(S.work, "restore-1.qkd")
    d.must("export", "--out", stick)
    acks = os.path.join(S.work, "acks-restore")
    rc, counts = admin_import(S, stick, acks)
    R.check("restore: the USB file after the restore is imported, with a gap", rc == 0 and counts[4] < d.last_seq(),
            str(counts))
    r = d.run("--lang", "en", "import-ack", ack_file(acks, d))
    R.check("restore: the restored server's acknowledgement applies", r.returncode == 0, r.stdout + r.stderr)
    stick2 = os.path.join(S.work, "restore-2.qkd")
    r = d.run("--lang", "en", "export", "--out", stick2)
    R.check("restore: the next file carries what the server lost", r.returncode == 0 and os.path.exists(stick2),
            r.stdout + r.stderr)
    rc, counts = admin_import(S, stick2, os.path.join(S.work, "acks-restore-2"))
    R.check("restore: by USB too, every event on the server exactly once", *once_each(S, d))


def forged_acks(S, R):
    """forged acknowledgements are refused by quizkit import-ack"""
    if not S.server.db:
        return R.skip("forged acks", "no --db for admin import")
    d = S.enrolled("acks", "b1")  # knows the server's key from its enrolment
    d.play(1)
    stick = os.path.join(S.work, "acks.qkd")
    d.must("export", "--out", stick)
    d.play(1)
    acks = os.path.join(S.work, "acks-good")
    R.eq("forged acks: the server imports the file (7 events)", admin_import(S, stick, acks), (0, (7, 7, 0, 0, 7)))
    good = ack_file(acks, d)
    with open(good) as f:
        genuine = json.load(f)
    R.eq("forged acks: nothing acknowledged yet on the device", device_status(d), (14, 0, 14))

    edited = os.path.join(S.work, "ack-edited.json")
    with open(edited, "w") as f:
        json.dump(dict(genuine, acked_seq=14), f)
    r = d.run("import-ack", edited)
    R.check("forged acks: an edited acknowledgement (7 -> 14) is refused", r.returncode != 0, r.stdout + r.stderr)
    R.eq("forged acks: nothing moved", device_status(d), (14, 0, 14))

    S.tool.must("keygen", "-o", os.path.join(S.work, "rogue-server"))
    rogue_dir = os.path.join(S.work, "acks-rogue")
    admin_import(S, stick, rogue_dir, "--key", os.path.join(S.work, "rogue-server.key"))
    r = d.run("import-ack", ack_file(rogue_dir, d))
    R.check("forged acks: an acknowledgement signed by another key is refused", r.returncode != 0, r.stdout + r.stderr)
    R.eq("forged acks: nothing moved", device_status(d), (14, 0, 14))

    other = S.device("acks-other")
    other.play(1)
    other_stick = os.path.join(S.work, "acks-other.qkd")
    other.must("export", "--out", other_stick)
    admin_import(S, other_stick, acks)
    mixed = os.path.join(S.work, "ack-of-another.json")
    with open(ack_file(acks, other)) as f:
        theirs = json.load(f)
    with open(mixed, "w") as f:
        json.dump(theirs, f)
    r = d.run("import-ack", mixed)
    R.check("forged acks: the server's genuine acknowledgement of another device is refused", r.returncode != 0,
            r.stdout + r.stderr)
    R.eq("forged acks: nothing moved", device_status(d), (14, 0, 14))

    r = d.run("import-ack", good)
    R.check("forged acks: the genuine one applies", r.returncode == 0, r.stdout + r.stderr)
    R.eq("forged acks: acknowledged 7, 7 still to sync", device_status(d), (14, 7, 7))


def usb_impostor(S, R):
    """a USB file naming an existing device, signed by another key, is refused whole"""
    if not S.server.db:
        return R.skip("usb impostor", "no --db for admin import")
    v = S.enrolled("usb-victim", "b1")
    v.play(1)
    stick = os.path.join(S.work, "usb-victim.qkd")
    v.must("export", "--out", stick)
    R.eq("usb impostor: the device's own file is imported", admin_import(S, stick, os.path.join(S.work, "acks-imp")),
         (0, (7, 7, 0, 0, 7)))
    ours = q.Signer(S.work, "usb-ours")
    fake = os.path.join(S.work, "usb-impostor.qkd")
    header = dict(q.usb_header(stick), device_key=ours.pem, device_key_id="impostor")
    now = S.now()
    q.signed_batch(fake, header, ours.key, [q.event(v.id, 8, now), q.event(v.id, 9, now)])
    before = S.state()
    rc, out = admin_import(S, fake, os.path.join(S.work, "acks-imp-2"))
    R.check("usb impostor: a file of its id with events 8-9, signed by another key: refused as another key",
            rc != 0 and "another key" in str(out), str(out))
    unchanged(S, R, "usb impostor: nothing of it stored", before)


def reenrolment(S, R):
    """re-enrolment needs the proof of the device's key"""
    v = S.enrolled("victim", "b1")
    v.play(1)
    stick = os.path.join(S.work, "victim.qkd")
    v.must("export", "--out", stick)
    v.must("sync")
    pem = q.usb_header(stick)["device_key"]  # anyone with the stick can read it
    ours = q.Signer(S.work, "enrol-ours")

    def attempt(name, status, key_pem, signer):
        code = S.code("b2")
        body = {"code": code, "device_id": v.id, "name": "taken over", "public_key": key_pem}
        if signer:
            body["proof"] = q.enrol_proof(signer, code, v.id, key_pem)
        before = S.state()
        r = S.api.call("POST", "/enroll", None, body)
        R.eq("re-enrolment: %s: %d" % (name, status), r.status, status)
        unchanged(S, R, "re-enrolment: %s: nothing changed" % name, before)
        x = S.api.call("GET", "/device", v.token)
        R.eq("re-enrolment: %s: the device keeps its token and branch" % name,
             (x.status, (x.json or {}).get("branch"), (x.json or {}).get("acked_seq")), (200, "b1", 7))
        return code

    attempt("its id and key, no proof", 400, pem, None)
    attempt("its id and key, a proof by another key", 422, pem, ours)
    code = attempt("its id, another key with a valid proof", 409, ours.pem, ours)
    fresh = S.device("after-refusal")
    r = fresh.run("enroll", S.server.url, code)
    R.check("re-enrolment: the code of a refused attempt was not used up", r.returncode == 0, r.stdout + r.stderr)

    old = v.token
    r = v.run("enroll", S.server.url, S.code("b2"))
    R.check("re-enrolment: the holder of the key re-enrols (to b2)", r.returncode == 0, r.stdout + r.stderr)
    x = S.api.call("GET", "/device", v.token)
    R.eq("re-enrolment: its new token: branch b2, its acknowledgement kept",
         (x.status, (x.json or {}).get("branch"), (x.json or {}).get("acked_seq")), (200, "b2", 7))
    R.eq("re-enrolment: its old token is no longer valid", S.api.call("GET", "/device", old).status, 401)


def time_bounds(S, R):
    """event time bounds"""
    d = S.enrolled("time", "b1")
    now = S.now()
    R.eq("time: created_ms 253402271999999 (the last instant) accepted",
         summary(post_events(S, d, [q.event(d.id, 1, TIME_MAX_MS)])), want(1, 1, 0, 1))
    R.eq("time: created_ms 0 accepted", summary(post_events(S, d, [q.event(d.id, 2, 0)])), want(1, 1, 0, 2))
    for name, value, index in (("253402272000000 (past 9999-12-31 Beijing)", TIME_MAX_MS + 1, 0),
                               ("-1", -1, 0), ("a string", str(now), 0), ("a fraction", now + 0.5, 0),
                               ("past the bound, second in its batch", TIME_MAX_MS + 1, 1), ("2^63", 2 ** 63, None)):
        evs = [q.event(d.id, 3, now), q.event(d.id, 4, now)]
        evs[index or 0]["created_ms"] = value
        before = S.state()
        r = post_events(S, d, evs)
        field = "events[%d].created_ms" % index if index is not None else ""
        R.check("time: created_ms %s: 400%s" % (name, " naming " + field if field else ""),
                r.status == 400 and field in r.text(), "%d %s" % (r.status, r.text()))
        unchanged(S, R, "time: created_ms %s: nothing of the batch stored" % name, before)

    if not S.server.db:
        return R.skip("time: a USB file with an event past the bound", "no --db for admin import")
    u = S.device("time-usb")
    u.play(1)
    genuine = os.path.join(S.work, "time-genuine.qkd")
    u.must("export", "--out", genuine)  # its header: the device's key as the device writes it
    header, key = q.usb_header(genuine), os.path.join(u.home, "device.key")
    control = os.path.join(S.work, "time-control.qkd")
    q.signed_batch(control, header, key, [q.event(u.id, 1, TIME_MAX_MS)])
    rc, out = admin_import(S, control, os.path.join(S.work, "acks-time"))
    R.eq("time: a USB file made here and signed with the device's key, its event at the bound: imported",
         (rc, out), (0, (1, 1, 0, 0, 1)))
    crafted = os.path.join(S.work, "time-crafted.qkd")
    q.signed_batch(crafted, header, key, [q.event(u.id, 2, now), q.event(u.id, 3, TIME_MAX_MS + 1)])
    before = S.state()
    rc, out = admin_import(S, crafted, os.path.join(S.work, "acks-time"))
    R.check("time: the same with a second event past the bound: refused, naming it",
            rc != 0 and "created_ms" in str(out), str(out))
    unchanged(S, R, "time: nothing of that file stored", before)


def body_limits(S, R):
    """body limits"""
    d = S.enrolled("limits", "b1")
    for path, limit, token in (("/events", 1 << 20, d.token), ("/login", 64 << 10, None),
                               ("/members/import", 4 << 20, S.admin), ("/bundles", 64 << 20, S.admin)):
        head = ("POST /api/v1%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n"
                "Content-Length: %d\r\n%s\r\n" % (path, S.api.host, limit + 1,
                                                  "Authorization: Bearer %s\r\n" % token if token else ""))
        before = S.state()
        status, reply = S.api.raw(head.encode(), timeout=10)
        R.check("limits: POST %s announcing %d bytes (limit %d): 413 before the body is sent"
                % (path, limit + 1, limit),
                status == 413 and b"too_large" in reply, repr(reply[:300]))
        unchanged(S, R, "limits: POST %s: nothing changed" % path, before)
    # The same without a Content-Length: a chunked body grows past the limit
    # while it is read; it is read to its end and answered with 413.
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(9)) + b"0\r\n\r\n"
    head = ("POST /api/v1/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" % S.api.host)
    before = S.state()
    status, reply = S.api.raw(head.encode() + body, timeout=10)
    R.check("limits: POST /login with a chunked body of %d bytes (limit %d): 413" % (9 * len(chunk), 64 << 10),
            status == 413 and b"too_large" in reply, repr(reply[:300]))
    unchanged(S, R, "limits: chunked: nothing changed", before)
    before = S.state()
    bomb = q.gz(b'{"events": [' + b" " * (2 << 20) + b"]}")
    r = S.api.call("POST", "/events", d.token, bomb, GZIP)
    R.check("limits: a gzip body of %d bytes inflating past 1 MiB: 413" % len(bomb),
            r.status == 413 and r.error_code() == "too_large", "%d %s" % (r.status, r.text()))
    now = S.now()
    r = post_events(S, d, [q.event(d.id, i, now) for i in range(1, 1002)])
    R.check("limits: 1,001 events in one batch refused (400 or 413)", r.status in (400, 413),
            "%d %s" % (r.status, r.text()[:200]))
    unchanged(S, R, "limits: nothing stored", before)
    R.eq("limits: 1,000 events in one batch are taken", summary(post_events(S, d, [q.event(d.id, i, now)
                                                                                   for i in range(1, 1001)])),
         want(1000, 1000, 0, 1000))


# Requests with a body, and what each needs to be read at all.
BODY_ENDPOINTS = (("/login", None), ("/enroll", None), ("/events", "device"), ("/branches", "admin"),
                  ("/users", "admin"), ("/members", "admin"), ("/enrol-codes", "admin"), ("/competitions", "admin"))
BAD_BODIES = (("bad JSON", b'{"user": "admin", "password":'),
              ("bad UTF-8", b'{"user": "\xff\xfe", "name": "\xc3\x28", "events": []}'),
              ("JSON nested 5,000 deep", b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
              ("a JSON array, not an object", b'[{"user": "admin"}]'),
              ("empty", b""))


def bad_bodies(S, R):
    """bad bodies"""
    d = S.enrolled("bad", "b1")
    tokens = {None: None, "device": d.token, "admin": S.admin}
    for path, who in BODY_ENDPOINTS:
        for name, body in BAD_BODIES:
            before = S.state()
            r = S.api.call("POST", path, tokens[who], body, {"Content-Type": "application/json"})
            code = r.error_code()
            R.check("bad bodies: POST %s, %s: 400 with a JSON error" % (path, name),
                    r.status == 400 and code in ("bad_json", "bad_event", "bad_field"),
                    "%d %s" % (r.status, r.text()[:200]))
            unchanged(S, R, "bad bodies: POST %s, %s: nothing changed" % (path, name), before)
    before = S.state()
    r = S.api.call("POST", "/events", d.token, b"not gzip at all", GZIP)
    R.eq("bad bodies: a body that is not gzip as it says: 400 bad_gzip", (r.status, r.error_code()), (400, "bad_gzip"))
    r = S.api.call("POST", "/events", d.token, b'{"events": []}', {"Content-Encoding": "br"})
    R.eq("bad bodies: an encoding the server does not speak: 415", (r.status, r.error_code()),
         (415, "unsupported_encoding"))
    for method, path in (("PUT", "/branches"), ("DELETE", "/members"), ("PATCH", "/events"), ("PUT", "/time")):
        r = S.api.call(method, path, S.admin)
        R.eq("bad bodies: %s %s: 405" % (method, path), (r.status, r.error_code()), (405, "method_not_allowed"))
    # With a body, too: what is wrong is the route or the method, not the size.
    r = S.api.call("POST", "/nothing-here", S.admin, b'{"a": 1}', {"Content-Type": "application/json"})
    R.eq("bad bodies: POST /nothing-here with a small body: 404", (r.status, r.error_code()), (404, "not_found"))
    r = S.api.call("PUT", "/branches", S.admin, b'{"id": "b9", "name": "x"}', {"Content-Type": "application/json"})
    R.eq("bad bodies: PUT /branches with a small body: 405", (r.status, r.error_code()), (405, "method_not_allowed"))
    unchanged(S, R, "bad bodies: nothing changed", before)


CASES = (idempotent, acks_and_gaps, conflicts, restore, forged_acks, usb_impostor, reenrolment, time_bounds,
         body_limits, bad_bodies)


def main():
    args = q.options(__doc__)
    S = q.Setup(args)
    # (409: a server given by --url may have them already)
    S.must("POST", "/branches", {"id": "b1", "name": "第一党支部"}, status=(201, 409))
    S.must("POST", "/branches", {"id": "b2", "name": "第二党支部"}, status=(201, 409))
    with open(S.bundle, "rb") as f:
        S.must("POST", "/bundles", f.read(), status=(201, 409))
    R = q.Report()
    for case in CASES:
        print("# " + case.__doc__, flush=True)
        try:
            case(S, R)
        except (RuntimeError, OSError, KeyError, TypeError, subprocess.SubprocessError) as e:
            R.fail("%s stopped" % case.__name__, "%s: %s" % (type(e).__name__, e))
    S.server.finish(R)
    return R.finish()


if __name__ == "__main__":
    sys.exit(main())
