#!/usr/bin/env python3
"""quiz_driver.py: answers `quizkit play` (or `quizkit compete start`) at a
terminal, as a person would: it runs the command in a pseudo-terminal, reads
each question as shown (number, type, stem, options in their shown order) and
types an answer that fits it, whatever the draw gave.

    quiz_driver.py [--key Q.json] [--pin PIN] [--wrong N,M] [--answers N]
                   [--wait-after N --until-ms MS] [--transcript FILE] -- CMD ARGS...

--key       a question source (JSON, tests/fixtures/mini/q.json) whose answers
            are typed for questions it holds (by stem); other questions get a
            readable answer of the right shape (a letter, 对, one text per blank)
--wrong     1-based question numbers to answer wrongly on purpose
--answers   answer this many questions, then end the input (Ctrl-D): the
            command saves its progress and exits 3
--wait-after N --until-ms MS
            after the Nth answer, wait until the shared quizkit clock
            (QUIZKIT_NOW + (now - QUIZKIT_NOW_SINCE) * QUIZKIT_NOW_RATE) reads
            MS (Unix ms) before the next one, so a test can cross midnight in
            the middle of an attempt
Exits with the command's status; the whole screen goes to --transcript."""
import argparse
import json
import os
import pty
import re
import select
import sys
import time

QUESTION = re.compile(r"第 (\d+)/(\d+) 题 · (\S+)")
QUESTION_EN = re.compile(r"Question (\d+)/(\d+) · (\S+)")
OPTION = re.compile(r"^\s+([A-H])\. (.*)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
BLANKS = re.compile(r"共 (\d+) 个空|(\d+) blanks")


def load_key(path):
    key = {}
    if not path:
        return key
    with open(path, encoding="utf-8") as f:
        src = json.load(f)
    for q in src["questions"]:
        key[q["stem"]] = q
    return key


def clock_ms():
    """The shared quizkit clock, as clock.h defines it."""
    now = os.environ.get("QUIZKIT_NOW")
    since = os.environ.get("QUIZKIT_NOW_SINCE")
    if not now or not since:
        return int(time.time() * 1000)
    rate = float(os.environ.get("QUIZKIT_NOW_RATE") or "1")
    from datetime import datetime, timezone, timedelta
    text = now if re.search(r"(Z|[+-]\d\d:?\d\d)$", now) else now + "+08:00"
    at = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone(timedelta(hours=8)))
    at_ms = int(at.timestamp() * 1000)
    return at_ms + int((time.time() * 1000 - int(since)) * rate)


def answer_for(kind, stem, options, blanks, key, wrong):
    q = key.get(stem)
    letters = [l for l, _ in options]
    if kind in ("判断题", "True/false", "true/false"):
        right = "对"
        if q is not None:
            right = "对" if q["answer"] in (True, "对", "true", "T") else "错"
        return ("错" if right == "对" else "对") if wrong else right
    if kind in ("填空题", "Fill-in", "fill-in"):
        if q is not None and not wrong:
            return "|".join(alts[0] for alts in q["answer"])
        return "|".join(["不知道"] * max(blanks, 1))
    # choice: the shown letters of the right options' texts
    if q is not None:
        texts = [q["options"][ord(c) - ord("A")] for c in q["answer"]]
        right = "".join(l for l, t in options if t in texts)
        if wrong:
            others = [l for l in letters if l not in right]
            return others[0] if others else letters[0]
        return right
    return letters[-1] if wrong else letters[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key")
    ap.add_argument("--pin")
    ap.add_argument("--wrong", default="")
    ap.add_argument("--answers", type=int, default=0)
    ap.add_argument("--wait-after", type=int, default=0)
    ap.add_argument("--until-ms", type=int, default=0)
    ap.add_argument("--transcript")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    key = load_key(a.key)
    wrong = {int(x) for x in a.wrong.split(",") if x}
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    screen = ""
    pos = 0          # how far the screen has been read
    answered = 0
    pin_sent = False
    deadline = time.monotonic() + 120
    while True:
        r, _, _ = select.select([fd], [], [], 0.2)
        chunk = b""
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            screen += ANSI.sub("", chunk.decode("utf-8", "replace"))
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            print("quiz_driver: no end after 120 s", file=sys.stderr)
            break
        tail = screen[pos:]
        if not pin_sent and a.pin and "PIN" in tail and tail.rstrip().endswith("："):
            os.write(fd, (a.pin + "\n").encode())
            pin_sent = True
            pos = len(screen)
            continue
        if not tail.endswith("> "):
            continue
        # A prompt: the question is the last header before it.
        block = screen
        heads = list(QUESTION.finditer(block)) or list(QUESTION_EN.finditer(block))
        if not heads:
            os.write(fd, b"\n")  # "press Enter to start" and the like
            pos = len(screen)
            continue
        h = heads[-1]
        number, kind = int(h.group(1)), h.group(3)
        body = block[h.end():].split("\n")[1:]
        stem = body[0].strip() if body else ""
        options = [(m.group(1), m.group(2).strip()) for m in map(OPTION.match, body) if m]
        b = BLANKS.search(body[-1] if body else "")
        blanks = int(b.group(1) or b.group(2)) if b else 1
        if a.answers and answered >= a.answers:
            os.write(fd, b"\x04")  # Ctrl-D: the input ends here
            pos = len(screen)
            continue
        if a.wait_after and answered == a.wait_after and a.until_ms:
            while clock_ms() < a.until_ms:
                time.sleep(0.05)
        text = answer_for(kind, stem, options, blanks, key, number in wrong)
        os.write(fd, (text + "\n").encode())
        answered += 1
        pos = len(screen)
    _, st = os.waitpid(pid, 0)
    status = os.waitstatus_to_exitcode(st)
    if a.transcript:
        with open(a.transcript, "w", encoding="utf-8") as f:
            f.write(screen.replace("\r\n", "\n"))
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
