#!/usr/bin/env python3
"""pty_run.py: runs a command in a pseudo-terminal, as a person at a
terminal would use it, and types lines when the screen asks for them.

usage: pty_run.py [--transcript FILE] [--timeout S] WAIT=>TYPE ... -- COMMAND [ARGS...]
Each WAIT=>TYPE pair waits (in order) until the screen shows the text WAIT,
then types TYPE and Enter (the terminal does not echo what it should not:
a password typed at a prompt that turns echo off stays off the screen).
Exits with the command's status; the whole screen goes to FILE."""
import os
import pty
import re
import select
import sys
import time


def main(argv):
    transcript, timeout, steps = None, 30.0, []
    i = 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] == "--transcript":
            transcript, i = argv[i + 1], i + 2
        elif argv[i] == "--timeout":
            timeout, i = float(argv[i + 1]), i + 2
        elif "=>" in argv[i]:
            wait, typed = argv[i].split("=>", 1)
            steps.append((wait, typed))
            i += 1
        else:
            print(__doc__, file=sys.stderr)
            return 2
    cmd = argv[i + 1:]
    if not cmd:
        print(__doc__, file=sys.stderr)
        return 2
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    screen, seen = "", 0
    deadline = time.monotonic() + timeout
    while True:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            screen += re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", chunk.decode("utf-8", "replace"))
        if steps and steps[0][0] in screen[seen:]:
            seen = screen.index(steps[0][0], seen) + len(steps[0][0])
            os.write(fd, (steps.pop(0)[1] + "\r").encode())
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            screen += "\n[pty_run: no end after %g s]\n" % timeout
            break
    _, st = os.waitpid(pid, 0)
    if transcript:
        with open(transcript, "w", encoding="utf-8") as f:
            f.write(screen.replace("\r\n", "\n"))
    code = os.waitstatus_to_exitcode(st)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
