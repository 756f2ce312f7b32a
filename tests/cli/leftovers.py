#!/usr/bin/env python3
"""No process of the end-to-end suite outlives it. The suite's tests run with
QK_E2E_MARK=<build folder> in their environment (tests/CMakeLists.txt), which
every process they start inherits; a ctest fixture runs this first ("start")
and last ("check", after every end-to-end test, also with ctest -j).

usage: leftovers.py start STATE MARK QUIZKIT
       leftovers.py check STATE MARK QUIZKIT
start notes the processes that are already there (left by an earlier run,
which that run's check reported) in STATE, so they are not counted again.
check fails, naming each, if a process carrying the mark, or running the
quizkit binary under test (and carrying no other suite's mark), is still
alive a few seconds after the last test
(zombies, which are dead, and processes that were there at start do not
count). Linux /proc only."""
import json
import os
import sys
import time

GRACE_S = 5  # a process killed at a test's end may take a moment to go


def read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return None


def stat_of(pid):
    """(state, parent, start time) of a process, or None."""
    s = read("/proc/%d/stat" % pid)
    if not s:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def ancestors():
    out, pid = set(), os.getpid()
    while pid > 1:
        out.add(pid)
        st = stat_of(pid)
        if not st:
            break
        pid = st[1]
    return out


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid).removesuffix(" (deleted)")
    except OSError:
        return None


def suite_processes(mark, quizkit):
    """{pid: (start time, why, exe, command line)} of live processes of the suite."""
    want = ("QK_E2E_MARK=" + mark).encode()
    quizkit = os.path.realpath(quizkit)
    skip = ancestors()
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in skip:
            continue
        pid = int(name)
        st = stat_of(pid)
        if not st or st[0] == "Z":
            continue
        env = read("/proc/%d/environ" % pid, "rb") or b""
        exe = exe_of(pid)
        why = None
        marks = [e for e in env.split(b"\0") if e.startswith(b"QK_E2E_MARK=")]
        if want in marks:
            why = "carries QK_E2E_MARK"
        elif exe and os.path.realpath(exe) == quizkit and not marks:
            # (one carrying another suite's mark is that suite's: the wasm
            # build's browser test runs this binary beside a date sweep)
            why = "runs the quizkit under test"
        if why:
            cmd = (read("/proc/%d/cmdline" % pid, "rb") or b"").replace(b"\0", b" ")
            found[pid] = (st[2], why, exe, cmd.decode(errors="replace").strip())
    return found


def main(argv):
    if len(argv) != 4 or argv[0] not in ("start", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    what, state, mark, quizkit = argv
    if what == "start":
        there = suite_processes(mark, quizkit)
        for pid, (_, why, _, cmd) in sorted(there.items()):
            print("# already running before this run (%s), not counted: %d %s" % (why, pid, cmd))
        with open(state, "w") as f:
            json.dump({str(p): v[0] for p, v in there.items()}, f)
        print("ok - %d process(es) of an earlier run noted" % len(there))
        return 0
    try:
        with open(state) as f:
            before = {int(p): t for p, t in json.load(f).items()}
    except (OSError, ValueError):
        before = {}
    deadline = time.monotonic() + GRACE_S
    while True:
        left = {p: v for p, v in suite_processes(mark, quizkit).items() if before.get(p) != v[0]}
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    for pid, (_, why, exe, cmd) in sorted(left.items()):
        print("FAIL - left running after the suite (%s): pid %d, %s: %s" % (why, pid, exe, cmd))
    if not left:
        print("ok - no process of the suite is left running")
    print("%d passed, %d failed" % (0 if left else 1, len(left)))
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
