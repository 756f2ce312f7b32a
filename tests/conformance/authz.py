#!/usr/bin/env python3
"""The authorization matrix of the server's API v1 (docs/protocol.md; the route
table at the end of sync/src/api.c), one cell per line of CELLS below: every
endpoint x every role x read and write x own and other branch, including
writes that name an existing id of another branch (a member, a device, a
branch, a competition, an account, an event).

Each cell is sent as it stands; the answer's status must be the one given,
and the server's state (what the API shows an admin and, on SQLite, every
table of the store but those a request may touch for its own bookkeeping:
qkconf.VOLATILE_*) is read before and after: a refused write and every read
leave it as it was; an allowed write changes only the tables it names, and
its check says what it must have done. One line per cell, "ok - ..." or
"FAIL - ...", then "N passed, M failed".

Roles: none (no token), bogus (a token the server never gave), dev-b1 and
dev-b2 (enrolled devices of branches b1 and b2), revoked (a revoked device of
b1), li (the leader of b1), wang (the leader of b2), admin. Members have no
API access at all (they log in with id and PIN on a kiosk, not here): their
one cell is a login with id and PIN, refused. "own" and "other" say whose
branch the request is about, from the caller's side.

usage: authz.py --qk QUIZKIT --tests TESTS_DIR [--url URL --admin-password PW ...]
(see qkconf.py for running it against a server of another backend)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qkconf as q  # noqa: E402
from authz_lib import (FILE, GET, NEW_LEADER, NOTHING, POST, READ, WRITES, XLSX, Effect, Fixture,  # noqa: E402
                       added_event, admin_sees, all_in, attempt_events, both, comp, conflict_reported, content_type, enrol,
                       event_reusing_b2_id, lacks_text, lists, login_as, member, member_of, own_event,
                       pin_event, roster_pin, run_cell, same_bytes, says, stat_row, token_gets)

# {name} in a path or body is the fixture's (authz_lib.Fixture): admin_pw;
# dev_b1, dev_b2, dev_r1 (b1), dev_r2 (b2), unknown_device: device ids;
# mini_v1, mini_v2, mini_v1_other (version 1 again, other content), mini_rogue
# (signed by a key the server does not trust): bundle files, sent as the body
# by FILE(name); b2_event: the id of one of dev-b2's events on the server;
# period: from= and to= around the day the fixture's members played.
# An effect is NOTHING or READ (no table changes; READ may check the answer)
# or WRITES({tables it may change}, what must hold afterwards).
B3 = {"id": "b3", "name": "第三党支部"}
CSV_M5 = "编号,姓名,PIN\nm5,周八,5555\n"
CSV_M6 = "编号,姓名,PIN\nm6,吴九,6666\n"
BOARD = "/competitions/mini-cup/leaderboard"
DEV_B2_KEPT = token_gets("dev-b2", 200, "b2")

CELLS = [
    # endpoint, role, case, request, status, effect
    ("GET /time", "none", "read", GET("/time"), 200, READ()),
    ("GET /time", "dev-b1", "read", GET("/time"), 200, READ()),
    ("GET /time", "li", "read", GET("/time"), 200, READ()),
    ("GET /time", "admin", "read", GET("/time"), 200, READ()),

    ("POST /login", "none", "admin's password", POST("/login", {"user": "admin", "password": "{admin_pw}"}),
     200, READ(says(role="admin"))),
    ("POST /login", "none", "leader's password", POST("/login", {"user": "li", "password": "leader-pass-1"}),
     200, READ(says(role="leader", branch="b1"))),
    ("POST /login", "none", "leader, wrong password", POST("/login", {"user": "li", "password": "wrong-wrong"}),
     401, NOTHING),
    ("POST /login", "member", "member m1 with id and PIN", POST("/login", {"user": "m1", "password": "1111"}),
     401, NOTHING),

    ("GET /branches", "none", "read", GET("/branches"), 401, READ()),
    ("GET /branches", "bogus", "read", GET("/branches"), 401, READ()),
    ("GET /branches", "dev-b1", "read", GET("/branches"), 403, READ()),
    ("GET /branches", "li", "read own", GET("/branches"), 200, READ(lists("branches", ["b1"], ["b2"]))),
    ("GET /branches", "wang", "read own", GET("/branches"), 200, READ(lists("branches", ["b2"], ["b1"]))),
    ("GET /branches", "admin", "read all", GET("/branches"), 200, READ(lists("branches", ["b1", "b2"]))),
    ("POST /branches", "none", "write", POST("/branches", B3), 401, NOTHING),
    ("POST /branches", "bogus", "write", POST("/branches", B3), 401, NOTHING),
    ("POST /branches", "dev-b1", "write", POST("/branches", B3), 403, NOTHING),
    ("POST /branches", "li", "write", POST("/branches", B3), 403, NOTHING),
    ("POST /branches", "li", "write other: rename b2", POST("/branches", {"id": "b2", "name": "改名"}), 403, NOTHING),
    ("POST /branches", "admin", "write new b3", POST("/branches", B3),
     201, WRITES({"branches"}, admin_sees("/branches", "branches", "b3"))),
    ("POST /branches", "admin", "write existing id b2", POST("/branches", {"id": "b2", "name": "改名"}), 409, NOTHING),

    ("POST /users", "none", "write", POST("/users", NEW_LEADER), 401, NOTHING),
    ("POST /users", "dev-b1", "write", POST("/users", NEW_LEADER), 403, NOTHING),
    ("POST /users", "li", "write own: a leader of b1", POST("/users", NEW_LEADER), 403, NOTHING),
    ("POST /users", "li", "write: an admin", POST("/users", dict(NEW_LEADER, role="admin", branch=None)), 403, NOTHING),
    ("POST /users", "wang", "write other: a leader of b1", POST("/users", NEW_LEADER), 403, NOTHING),
    ("POST /users", "admin", "write: a leader of b3", POST("/users", dict(NEW_LEADER, name="zhao", branch="b3")),
     201, WRITES({"users"}, login_as("zhao", "leader-pass-9", "leader", "b3"))),
    ("POST /users", "admin", "write existing name wang (b2's leader) as leader of b1",
     POST("/users", dict(NEW_LEADER, name="wang")), 409, NOTHING),
    ("POST /users", "admin", "write: leader of a branch that does not exist",
     POST("/users", dict(NEW_LEADER, name="qian", branch="nope")), 404, NOTHING),

    ("GET /members", "none", "read", GET("/members"), 401, READ()),
    ("GET /members", "dev-b1", "read own", GET("/members?branch=b1"), 403, READ()),
    ("GET /members", "li", "read own (no branch named)", GET("/members"),
     200, READ(both(lists("members", ["m1", "m2"], ["m9"]), all_in("members", "b1"), lacks_text("pin_hash")))),
    ("GET /members", "li", "read own (?branch=b1)", GET("/members?branch=b1"),
     200, READ(both(lists("members", ["m1"], ["m9"]), all_in("members", "b1")))),
    ("GET /members", "li", "read other (?branch=b2)", GET("/members?branch=b2"), 403, READ()),
    ("GET /members", "wang", "read other (?branch=b1)", GET("/members?branch=b1"), 403, READ()),
    ("GET /members", "wang", "read own", GET("/members"),
     200, READ(both(lists("members", ["m9"], ["m1"]), all_in("members", "b2")))),
    ("GET /members", "admin", "read b2", GET("/members?branch=b2"), 200, READ(all_in("members", "b2"))),
    ("GET /members", "admin", "read, no branch named", GET("/members"), 400, READ()),

    ("POST /members", "none", "write", POST("/members", member("m3", "b1")), 401, NOTHING),
    ("POST /members", "dev-b1", "write own", POST("/members", member("m3", "b1")), 403, NOTHING),
    ("POST /members", "li", "write own: new m3 in b1", POST("/members", member("m3", "b1")),
     201, WRITES({"members"}, member_of("m3", "b1"))),
    ("POST /members", "li", "write own: new m4, no branch named", POST("/members", member("m4")),
     201, WRITES({"members"}, member_of("m4", "b1"))),
    ("POST /members", "li", "write own: existing m1 renamed", POST("/members", member("m1", "b1", "张三丰", "1234")),
     201, WRITES({"members"}, member_of("m1", "b1", "张三丰"))),
    ("POST /members", "li", "write other: new m5 in b2", POST("/members", member("m5", "b2")), 403, NOTHING),
    ("POST /members", "li", "write other: existing m9 (b2) moved into b1",
     POST("/members", member("m9", "b1", "冒名", "0000")), 403, NOTHING),
    ("POST /members", "li", "write other: existing m9 (b2) changed in b2",
     POST("/members", member("m9", "b2", "冒名", "0000")), 403, NOTHING),
    ("POST /members", "wang", "write other: existing m1 (b1) moved into b2",
     POST("/members", member("m1", "b2", "冒名", "0000")), 403, NOTHING),
    ("POST /members", "admin", "write b2's m9", POST("/members", member("m9", "b2", "王五", "9998")),
     201, WRITES({"members"}, member_of("m9", "b2", "王五"))),
    ("POST /members", "admin", "write, no branch named", POST("/members", member("m6")), 400, NOTHING),
    ("POST /members", "admin", "write into a branch that does not exist", POST("/members", member("m6", "nope")),
     404, NOTHING),

    ("POST /members/import", "none", "write", POST("/members/import", CSV_M5), 401, NOTHING),
    ("POST /members/import", "dev-b1", "write own", POST("/members/import?branch=b1", CSV_M5), 403, NOTHING),
    ("POST /members/import", "li", "write own: m5", POST("/members/import", CSV_M5),
     200, WRITES({"members"}, both(says(imported=1), member_of("m5", "b1")))),
    ("POST /members/import", "li", "write other: ?branch=b2", POST("/members/import?branch=b2", CSV_M6),
     403, NOTHING),
    ("POST /members/import", "li", "write other: a row of branch b2",
     POST("/members/import", "编号,姓名,支部,PIN\nm6,吴九,b2,6666\n"), 403, NOTHING),
    ("POST /members/import", "li", "write other: new m6 and existing m9 (b2) into b1, all or none",
     POST("/members/import", "编号,姓名,PIN\nm6,吴九,6666\nm9,冒名,0000\n"), 403, NOTHING),
    ("POST /members/import", "wang", "write other: ?branch=b1", POST("/members/import?branch=b1", CSV_M6),
     403, NOTHING),
    ("POST /members/import", "admin", "write b2: m7", POST("/members/import?branch=b2", "编号,姓名,PIN\nm7,郑十,7777\n"),
     200, WRITES({"members"}, member_of("m7", "b2"))),

    ("POST /enrol-codes", "none", "write", POST("/enrol-codes", {"branch": "b1"}), 401, NOTHING),
    ("POST /enrol-codes", "dev-b1", "write own", POST("/enrol-codes", {"branch": "b1"}), 403, NOTHING),
    ("POST /enrol-codes", "li", "write own, no branch named", POST("/enrol-codes", {}),
     201, WRITES({"enrol_codes"}, says(branch="b1"))),
    ("POST /enrol-codes", "li", "write own", POST("/enrol-codes", {"branch": "b1"}),
     201, WRITES({"enrol_codes"}, says(branch="b1"))),
    ("POST /enrol-codes", "li", "write other", POST("/enrol-codes", {"branch": "b2"}), 403, NOTHING),
    ("POST /enrol-codes", "wang", "write other", POST("/enrol-codes", {"branch": "b1"}), 403, NOTHING),
    ("POST /enrol-codes", "admin", "write b2", POST("/enrol-codes", {"branch": "b2"}),
     201, WRITES({"enrol_codes"}, says(branch="b2"))),
    ("POST /enrol-codes", "li", "write own, a phone's", POST("/enrol-codes", {"branch": "b1", "kind": "phone"}),
     201, WRITES({"enrol_codes"}, says(branch="b1", kind="phone"))),
    ("POST /enrol-codes", "li", "write own, a kind there is not", POST("/enrol-codes", {"branch": "b1", "kind": "laptop"}),
     400, NOTHING),
    ("POST /enrol-codes", "admin", "write, no branch named", POST("/enrol-codes", {}), 400, NOTHING),
    ("POST /enrol-codes", "admin", "write, a branch that does not exist", POST("/enrol-codes", {"branch": "nope"}),
     404, NOTHING),

    # anyone may enrol with a code; the id of an existing device only with the proof of its own key
    ("POST /enroll", "none", "an unknown code, a new id, a key and its proof",
     POST("/enroll", enrol(None, "new", "ours", code="ZZZZ-ZZZZ")), 404, NOTHING),
    ("POST /enroll", "none", "other: a b1 code, dev-b2's id and key (from its USB file), proof by another key",
     POST("/enroll", enrol("b1", "dev-b2", "dev-b2")), 422, Effect("nothing changed", (), DEV_B2_KEPT)),
    ("POST /enroll", "none", "other: a b1 code, dev-b2's id and key, no proof",
     POST("/enroll", enrol("b1", "dev-b2", "dev-b2", proof=False)), 400, NOTHING),
    ("POST /enroll", "none", "other: a b1 code, dev-b2's id, another key with its valid proof",
     POST("/enroll", enrol("b1", "dev-b2", "ours")), 409, Effect("nothing changed", (), DEV_B2_KEPT)),
    ("POST /enroll", "none", "own: a b1 code, a new id, a key and its proof",
     POST("/enroll", enrol("b1", "new", "ours")), 201, WRITES({"devices", "enrol_codes"}, says(branch="b1"))),

    ("GET /devices", "none", "read", GET("/devices"), 401, READ()),
    ("GET /devices", "dev-b1", "read own", GET("/devices?branch=b1"), 403, READ()),
    ("GET /devices", "li", "read own", GET("/devices"),
     200, READ(both(lists("devices", ["{dev_b1}"], ["{dev_b2}"]), all_in("devices", "b1")))),
    ("GET /devices", "li", "read other (?branch=b2)", GET("/devices?branch=b2"), 403, READ()),
    ("GET /devices", "wang", "read other (?branch=b1)", GET("/devices?branch=b1"), 403, READ()),
    ("GET /devices", "admin", "read all", GET("/devices"), 200, READ(lists("devices", ["{dev_b1}", "{dev_b2}"]))),
    ("GET /devices", "admin", "read b2", GET("/devices?branch=b2"),
     200, READ(both(lists("devices", ["{dev_b2}"]), all_in("devices", "b2")))),

    ("POST /devices/{id}/revoke", "none", "write own", POST("/devices/{dev_r1}/revoke"), 401, NOTHING),
    ("POST /devices/{id}/revoke", "dev-b1", "write own: another b1 device", POST("/devices/{dev_r1}/revoke"),
     403, NOTHING),
    ("POST /devices/{id}/revoke", "li", "write other: dev-b2", POST("/devices/{dev_b2}/revoke"),
     404, Effect("nothing changed", (), DEV_B2_KEPT)),
    ("POST /devices/{id}/revoke", "wang", "write other: a b1 device", POST("/devices/{dev_r1}/revoke"),
     404, Effect("nothing changed", (), token_gets("dev-r1", 200, "b1"))),
    ("POST /devices/{id}/revoke", "li", "write: a device id that does not exist",
     POST("/devices/{unknown_device}/revoke"), 404, NOTHING),
    ("POST /devices/{id}/revoke", "li", "write own: a b1 device", POST("/devices/{dev_r1}/revoke"),
     200, WRITES({"devices"}, token_gets("dev-r1", 401))),
    ("POST /devices/{id}/revoke", "admin", "write: a b2 device", POST("/devices/{dev_r2}/revoke"),
     200, WRITES({"devices"}, token_gets("dev-r2", 401))),

    ("GET /device", "none", "read", GET("/device"), 401, READ()),
    ("GET /device", "bogus", "read", GET("/device"), 401, READ()),
    ("GET /device", "revoked", "read", GET("/device"), 401, READ()),
    ("GET /device", "li", "read", GET("/device"), 403, READ()),
    ("GET /device", "admin", "read", GET("/device"), 403, READ()),
    ("GET /device", "dev-b1", "read own", GET("/device"), 200, READ(says(device_id="{dev_b1}", branch="b1"))),

    ("POST /events", "none", "write", POST("/events", own_event()), 401, NOTHING),
    ("POST /events", "bogus", "write", POST("/events", own_event()), 401, NOTHING),
    ("POST /events", "revoked", "write own", POST("/events", own_event("revoked")), 401, NOTHING),
    ("POST /events", "li", "write", POST("/events", own_event()), 403, NOTHING),
    ("POST /events", "admin", "write", POST("/events", own_event()), 403, NOTHING),
    ("POST /events", "dev-b1", "write own: its next event", POST("/events", own_event()),
     200, WRITES({"events", "devices"}, says(inserted=1))),
    ("POST /events", "dev-b1", "write other: an event naming dev-b2", POST("/events", own_event("dev-b2")),
     403, NOTHING),
    ("POST /events", "dev-b1", "write other: its own event under the id of a dev-b2 event",
     POST("/events", event_reusing_b2_id()), 200, READ(conflict_reported())),
    ("POST /events", "dev-b1", "write own: member.pin_changed of m2 (b1)", POST("/events", pin_event("m2")),
     200, WRITES({"events", "devices", "members"}, both(says(inserted=1), roster_pin("dev-b1", "m2", True)))),
    # Events for a member of another branch are held apart: acknowledged (the
    # device's sequence goes on), never counted, judged, scored or ranked.
    ("POST /events", "dev-b1", "write other: member.pin_changed of m9 (b2)", POST("/events", pin_event("m9")),
     200, WRITES({"events_apart", "devices"}, both(says(inserted=1, apart=1), roster_pin("dev-b2", "m9", False)))),
    ("POST /events", "dev-b1", "write other: member.added naming m9 (b2)", POST("/events", added_event("m9")),
     200, WRITES({"events_apart", "devices"}, both(says(inserted=1, apart=1), roster_pin("dev-b2", "m9", False),
                                                 member_of("m9", "b2", "王五")))),
    ("POST /events", "dev-b1", "write other: a competition entry of m9 (b2)", POST("/events", attempt_events("m9")),
     200, WRITES({"events_apart", "devices"}, says(inserted=3, apart=3))),

    ("GET /roster", "none", "read", GET("/roster"), 401, READ()),
    ("GET /roster", "revoked", "read", GET("/roster"), 401, READ()),
    ("GET /roster", "li", "read", GET("/roster"), 403, READ()),
    ("GET /roster", "admin", "read", GET("/roster"), 403, READ()),
    ("GET /roster", "dev-b1", "read own", GET("/roster"),
     200, READ(both(lists("members", ["m1", "m2"], ["m9", "m7"]), all_in("members", "b1")))),
    ("GET /roster", "dev-b2", "read own", GET("/roster"),
     200, READ(both(lists("members", ["m9"], ["m1"]), all_in("members", "b2")))),

    ("GET /bundles", "none", "read", GET("/bundles"), 401, READ()),
    ("GET /bundles", "dev-b1", "read", GET("/bundles"), 200, READ(lists("bundles", ["test.mini"]))),
    ("GET /bundles", "li", "read", GET("/bundles"), 200, READ(lists("bundles", ["test.mini"]))),
    ("GET /bundles", "admin", "read", GET("/bundles"), 200, READ(lists("bundles", ["test.mini"]))),
    ("GET /bundles/{id}/{v}", "none", "read", GET("/bundles/test.mini/1"), 401, READ()),
    ("GET /bundles/{id}/{v}", "dev-b1", "read", GET("/bundles/test.mini/1"), 200, READ(same_bytes("mini_v1"))),
    ("GET /bundles/{id}/{v}", "li", "read", GET("/bundles/test.mini/1"), 200, READ(same_bytes("mini_v1"))),
    ("GET /bundles/{id}/{v}", "admin", "read", GET("/bundles/test.mini/1"), 200, READ(same_bytes("mini_v1"))),
    ("GET /bundles/{id}/{v}", "dev-b1", "read, not published", GET("/bundles/test.nothing"), 404, READ()),
    ("POST /bundles", "none", "write", POST("/bundles", FILE("mini_v2")), 401, NOTHING),
    ("POST /bundles", "dev-b1", "write", POST("/bundles", FILE("mini_v2")), 403, NOTHING),
    ("POST /bundles", "li", "write: version 2", POST("/bundles", FILE("mini_v2")),
     201, WRITES({"bundles", "bundle_chunks"}, says(id="test.mini", version="2"))),
    ("POST /bundles", "li", "write: version 1 again, other content", POST("/bundles", FILE("mini_v1_other")),
     409, NOTHING),
    ("POST /bundles", "li", "write: signed by a key the server does not trust", POST("/bundles", FILE("mini_rogue")),
     422, NOTHING),
    ("POST /bundles", "admin", "write: version 1 again, the same file: said to be published before",
     POST("/bundles", FILE("mini_v1")), 200, READ(says(already_published=True))),

    ("GET /competitions/{id}/leaderboard", "none", "read", GET(BOARD), 401, READ()),
    ("GET /competitions/{id}/leaderboard", "dev-b1", "read own", GET(BOARD), 200, READ(says(branch="b1"))),
    ("GET /competitions/{id}/leaderboard", "dev-b1", "read other (?branch=b2): its own board anyway",
     GET(BOARD + "?branch=b2"), 200, READ(says(branch="b1"))),
    ("GET /competitions/{id}/leaderboard", "li", "read own", GET(BOARD), 200, READ(says(branch="b1"))),
    ("GET /competitions/{id}/leaderboard", "li", "read other (?branch=b2)", GET(BOARD + "?branch=b2"), 403, READ()),
    ("GET /competitions/{id}/leaderboard", "wang", "read other (?branch=b1)", GET(BOARD + "?branch=b1"), 403, READ()),
    ("GET /competitions/{id}/leaderboard", "wang", "read own", GET(BOARD), 200, READ(says(branch="b2"))),
    ("GET /competitions/{id}/leaderboard", "admin", "read all", GET(BOARD), 200, READ(says(branch=None))),
    ("GET /competitions/{id}/leaderboard", "admin", "read b2", GET(BOARD + "?branch=b2"), 200, READ(says(branch="b2"))),
    ("GET /competitions/{id}/leaderboard", "li", "read, no such competition", GET("/competitions/nothing/leaderboard"),
     404, READ()),
    ("GET /competitions/{id}/leaderboard", "li", "read other: c-b2 (b2's competition)",
     GET("/competitions/c-b2/leaderboard"), 404, READ()),
    ("GET /competitions/{id}/leaderboard", "dev-b1", "read other: c-b2 (b2's competition)",
     GET("/competitions/c-b2/leaderboard"), 404, READ()),
    ("GET /competitions/{id}/leaderboard", "wang", "read own: c-b2", GET("/competitions/c-b2/leaderboard"),
     200, READ(says(branch="b2"))),
    ("GET /competitions/{id}/leaderboard", "dev-b1", "read: c-all (every branch's)",
     GET("/competitions/c-all/leaderboard"), 200, READ(says(branch="b1"))),
    ("GET /competitions/{id}/leaderboard", "admin", "read: c-b2", GET("/competitions/c-b2/leaderboard?branch=b2"),
     200, READ(says(branch="b2"))),

    ("GET /competitions", "none", "read", GET("/competitions"), 401, READ()),
    ("GET /competitions", "dev-b1", "read own", GET("/competitions"), 200, READ(lists("competitions", ["c-all"], ["c-b2"]))),
    ("GET /competitions", "dev-b2", "read own", GET("/competitions"), 200, READ(lists("competitions", ["c-all", "c-b2"]))),
    ("GET /competitions", "li", "read own", GET("/competitions"), 200, READ(lists("competitions", ["c-all"], ["c-b2"]))),
    ("GET /competitions", "wang", "read own", GET("/competitions"), 200, READ(lists("competitions", ["c-all", "c-b2"]))),
    ("GET /competitions", "admin", "read all", GET("/competitions"), 200, READ(lists("competitions", ["c-all", "c-b2"]))),
    ("POST /competitions", "none", "write", POST("/competitions", comp("c-b1", "b1")), 401, NOTHING),
    ("POST /competitions", "dev-b1", "write own", POST("/competitions", comp("c-b1", "b1")), 403, NOTHING),
    ("POST /competitions", "li", "write own", POST("/competitions", comp("c-b1", "b1")),
     201, WRITES({"competitions"}, says(id="c-b1", branch="b1"))),
    ("POST /competitions", "li", "write own, no branch named", POST("/competitions", comp("c-b1b")),
     201, WRITES({"competitions"}, says(id="c-b1b", branch="b1"))),
    ("POST /competitions", "li", "write other", POST("/competitions", comp("c-x", "b2")), 403, NOTHING),
    ("POST /competitions", "wang", "write other", POST("/competitions", comp("c-x", "b1")), 403, NOTHING),
    ("POST /competitions", "li", "write other: existing id c-b2 (b2's)", POST("/competitions", comp("c-b2", "b1")),
     409, NOTHING),
    ("POST /competitions", "li", "write: the bundle's own mini-cup", POST("/competitions", comp("mini-cup", "b1")),
     409, NOTHING),
    ("POST /competitions", "admin", "write b2", POST("/competitions", comp("c-b2b", "b2")),
     201, WRITES({"competitions"}, says(id="c-b2b", branch="b2"))),
    ("POST /competitions", "admin", "write: a branch that does not exist", POST("/competitions", comp("c-y", "nope")),
     404, NOTHING),

    ("GET /stats/{subject}", "none", "read", GET("/stats/members?{period}"), 401, READ()),
    ("GET /stats/{subject}", "dev-b1", "read own", GET("/stats/members?{period}"), 403, READ()),
    ("GET /stats/{subject}", "li", "read own: members", GET("/stats/members?{period}"),
     200, READ(both(says(branch="b1"), lacks_text("m9", "王五")))),
    ("GET /stats/{subject}", "li", "read own: inactive", GET("/stats/inactive?{period}"),
     200, READ(both(says(branch="b1"), lacks_text("m9", "王五")))),
    ("GET /stats/{subject}", "li", "read own: questions (m1 answered q1 in b1, m9 in b2)", GET("/stats/questions?{period}"),
     200, READ(both(says(branch="b1"), stat_row("q1", 1, 1)))),
    ("GET /stats/{subject}", "li", "read own: participation (m1 active, not m9)", GET("/stats/participation?{period}"),
     200, READ(both(says(branch="b1"), stat_row("all", 3, 1)))),
    ("GET /stats/{subject}", "li", "read other (?branch=b2)", GET("/stats/members?branch=b2&{period}"), 403, READ()),
    ("GET /stats/{subject}", "wang", "read other (?branch=b1)", GET("/stats/participation?branch=b1&{period}"), 403, READ()),
    ("GET /stats/{subject}", "wang", "read own", GET("/stats/members?{period}"),
     200, READ(both(says(branch="b2"), lacks_text("m1", "m2")))),
    ("GET /stats/{subject}", "admin", "read b2", GET("/stats/members?branch=b2&{period}"), 200, READ(says(branch="b2"))),
    ("GET /stats/{subject}", "admin", "read all", GET("/stats/participation?{period}"), 200, READ(says(branch=None))),
    ("GET /report", "none", "read", GET("/report"), 401, READ()),
    ("GET /report", "dev-b1", "read own", GET("/report"), 403, READ()),
    ("GET /report", "li", "read own", GET("/report"), 200, READ(content_type(XLSX))),
    ("GET /report", "li", "read other (?branch=b2)", GET("/report?branch=b2"), 403, READ()),
    ("GET /report", "admin", "read b2", GET("/report?branch=b2"), 200, READ(content_type(XLSX))),
    # Last: it changes what the statistics cells above read. The same entry as
    # m9's above, for a member of the device's own branch, is counted.
    ("POST /events", "dev-b1", "write own: a competition entry of m2 (b1)", POST("/events", attempt_events("m2")),
     200, WRITES({"events", "devices", "attempt_scores", "member_points", "points_judged", "points_claims",
                  "points_folds"},
                 says(inserted=3, apart=0))),
]

def main():
    args = q.options(__doc__)
    S = q.Setup(args)
    R = q.Report()
    F = Fixture(S)
    for cell in CELLS:
        run_cell(F, R, cell)
    roles = sorted({c[1] for c in CELLS})
    print("# %d cells: %d endpoints x roles %s" % (len(CELLS), len({c[0] for c in CELLS}), ", ".join(roles)))
    S.server.finish(R)
    return R.finish()


if __name__ == "__main__":
    sys.exit(main())
