#!/usr/bin/env python3
"""Answers a quizkit command's questions the way a person at the terminal
would: it reads the question on the screen, looks it up in the bundles'
answer keys and types a right (or, as planned, a wrong) answer in the form
the question asks for: a letter or letters for a choice, 对/错 for a judgment,
one answer per blank separated by | for a fill-in. So a test of the daily
quiz, a challenge or a review does not depend on which questions the day or
the random draw gives.

usage: answer.py [options] -- COMMAND [ARGS...]
  --plan PLAN      r (right) or w (wrong) for each question in turn; the last
                   letter goes on for the rest (default r: all right)
  --pin PIN        typed at each PIN prompt, in order (the last one repeats)
  --theme TEXT     at the theme list, the number of the theme whose line holds TEXT
  --stop-after N   ends the input after N answers (the command sees no more input)
  --wait-after N MS
                   after the Nth answer, waits until the quizkit clock the
                   command runs on (tests/cli/qkclock.py) reads MS (Unix ms)
                   before the next: a test can cross midnight inside an attempt
  --bundle FILE    a bundle to take answer keys from (repeatable); the bundles
                   installed in the data folder (QUIZKIT_HOME or --data-dir
                   in COMMAND) are read too
Everything the command prints goes to stdout (stderr folded in, as with
2>&1); the exit status is the command's. A line "answer.py: ..." on stderr
says when a question was not found in any bundle (answered by its type only)
or when the command stopped asking and the input was ended.
"""
import glob
import os
import re
import select
import sqlite3
import subprocess
import sys
import time
import codecs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qkclock  # noqa: E402  the clock the commands run on

HEAD = re.compile(r"^(?:第 (\d+)/(\d+) 题|Question (\d+)/(\d+)) · ([^·]+?) ·", re.M)
OPTION = re.compile(r"^  ([A-Z])\. (.*)$")
TYPES = {"单选题": "single", "single choice": "single", "多选题": "multi",
         "multiple choice": "multi", "判断题": "judge", "true/false": "judge",
         "填空题": "fill", "fill in the blank": "fill"}
PROMPTS = [
    ("pin", re.compile(r"(?:请输入 [^\n]* 的 PIN：|PIN for [^\n]*: )$")),
    ("theme", re.compile(r"(?:输入编号（1-(\d+)）> |Enter a number \(1-(\d+)\)> )$")),
    ("single", re.compile(r"(?:你的答案（一个字母）> |Your answer \(one letter\)> )$")),
    ("multi", re.compile(r"(?:你的答案（所有正确选项的字母，如 ABD）> |"
                         r"Your answer \(all right letters, e\.g\. ABD\)> )$")),
    ("judge", re.compile(r"(?:你的答案（对 / 错）> |Your answer \(T / F\)> )$")),
    ("fill", re.compile(r"(?:你的答案（共 (\d+) 个空，用 \| 分隔）> |Your answer \((\d+) blanks, "
                        r"separated by \|\)> |你的答案> |Your answer> )$")),
]
QUIET_LIMIT_S = 20  # no output and no prompt this long: the command waits for something else


def note(text):
    sys.stderr.write("answer.py: %s\n" % text)
    sys.stderr.flush()


def squash(text):
    return re.sub(r"\s+", "", text)


class Keys:
    """Answer keys of the bundles, read when first needed (the command may
    install the sample bundle on first use) and again when a question is new."""

    def __init__(self, files, data_dir):
        self.files = list(files)
        self.data_dir = data_dir
        self.loaded = set()
        self.questions = []  # (squashed stem, type, id, db)

    def refresh(self):
        found = list(self.files)
        if self.data_dir:
            found += sorted(glob.glob(os.path.join(self.data_dir, "bundles", "*.qkb")))
        for f in found:
            if f in self.loaded or not os.path.exists(f):
                continue
            self.loaded.add(f)
            db = sqlite3.connect("file:%s?mode=ro&immutable=1" % f, uri=True)
            for qid, qtype, stem in db.execute("select id, type, stem from questions"):
                self.questions.append((squash(stem), qtype, qid, db))

    def find(self, qtype, stem):
        want = squash(stem)
        for again in (False, True):
            if again:
                self.refresh()
            exact = [q for q in self.questions if q[1] == qtype and q[0] == want]
            if exact:
                return exact[0]
            # a stem shown with its Markdown rendered: the longest shared start
            near = [q for q in self.questions if q[1] == qtype and want[:12] and
                    (q[0].startswith(want[:12]) or want.startswith(q[0][:12]))]
            if len(near) == 1:
                return near[0]
        return None


def option_letters(db, qid, shown, want_correct):
    """Letters, as shown on the screen (options may be shuffled), of the
    options that are correct (want_correct) or not."""
    rows = db.execute("select text, correct from options where question_id = ? order by idx",
                      (qid,)).fetchall()
    by_text = {squash(t): c for t, c in rows}
    letters = []
    for letter, text in shown:
        c = by_text.get(squash(text))
        if c is None:  # rendered differently: match by the start
            c = next((cc for t, cc in rows if squash(t)[:8] == squash(text)[:8]), 0)
        if bool(c) == want_correct:
            letters.append(letter)
    return letters


def make_answer(kind, nblanks, screen, keys, right):
    """The line to type for the question at the end of screen."""
    heads = list(HEAD.finditer(screen))
    body = screen[heads[-1].end():] if heads else screen
    lines = body.split("\n")[1:]  # the header line's rest (points, time left)
    stem_lines, shown = [], []
    for line in lines:
        if line.startswith(("你的答案", "Your answer")):
            break
        m = OPTION.match(line)
        if m:
            shown.append((m.group(1), m.group(2)))
        elif not shown and line.strip():
            stem_lines.append(line)
    q = keys.find(kind, "\n".join(stem_lines))
    if q is None:
        note("not in any bundle (answered by its type): %s" % " ".join(stem_lines)[:60])
        return {"single": "A", "multi": "A", "judge": "对",
                "fill": "|".join(["x"] * nblanks)}[kind]
    _, _, qid, db = q
    if kind in ("single", "multi"):
        good = option_letters(db, qid, shown, True)
        bad = option_letters(db, qid, shown, False)
        if right:
            return "".join(good)
        return bad[0] if bad else good[0]
    if kind == "judge":
        (yes,) = db.execute("select judge_answer from questions where id = ?", (qid,)).fetchone()
        return "对" if bool(yes) == right else "错"
    blanks = db.execute("select blank, accepted from blanks where question_id = ? and idx = 0 "
                        "order by blank", (qid,)).fetchall()
    if right:
        return "|".join(a for _, a in blanks)
    return "|".join(["x"] * max(nblanks, len(blanks)))


def data_dir_of(cmd):
    for i, a in enumerate(cmd):
        if a == "--data-dir" and i + 1 < len(cmd):
            return cmd[i + 1]
        if a.startswith("--data-dir="):
            return a.split("=", 1)[1]
    return os.environ.get("QUIZKIT_HOME")


def main(argv):
    plan, pins, files, theme, stop_after = "r", [], [], None, None
    wait_after, wait_until = None, None
    i = 0
    while i < len(argv) and argv[i] != "--":
        opt = argv[i]
        if opt == "--wait-after" and i + 2 < len(argv):
            wait_after, wait_until = int(argv[i + 1]), int(argv[i + 2])
            i += 3
            continue
        if opt not in ("--plan", "--pin", "--theme", "--stop-after", "--bundle") or i + 1 >= len(argv):
            print(__doc__, file=sys.stderr)
            return 2
        val = argv[i + 1]
        if opt == "--plan":
            plan = val
        elif opt == "--pin":
            pins.append(val)
        elif opt == "--theme":
            theme = val
        elif opt == "--stop-after":
            stop_after = int(val)
        else:
            files.append(val)
        i += 2
    cmd = argv[i + 1:]
    if not cmd:
        print(__doc__, file=sys.stderr)
        return 2
    keys = Keys(files, data_dir_of(cmd))
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = sys.stdout.buffer
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    screen = ""        # what the command printed since the last line typed
    answered = 0       # questions answered
    pin_i = 0
    tries = 0          # lines typed at the current question (a refused answer is asked again)
    last_head = None
    fd = proc.stdout.fileno()
    stdin_open = True

    def close_input():
        nonlocal stdin_open
        if stdin_open:
            stdin_open = False
            try:
                proc.stdin.close()
            except OSError:
                pass

    def send(line):
        try:
            proc.stdin.write((line + "\n").encode())
            proc.stdin.flush()
        except OSError:  # the command ended; its output says why
            close_input()

    while True:
        ready, _, _ = select.select([fd], [], [], QUIET_LIMIT_S)
        if not ready:
            if stdin_open:
                note("no prompt for %d s; ending the input" % QUIET_LIMIT_S)
                close_input()
                continue
            proc.kill()
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out.write(chunk)
        out.flush()
        screen += decoder.decode(chunk)
        if not stdin_open:
            continue
        tail = screen[-300:]
        for kind, pat in PROMPTS:
            m = pat.search(tail)
            if not m:
                continue
            if kind == "pin":
                send(pins[min(pin_i, len(pins) - 1)] if pins else "")
                pin_i += 1
            elif kind == "theme":
                line = next((x for x in screen.split("\n") if theme and theme in x), None)
                n = re.match(r"\s*(\d+)\.", line) if line else None
                if not n:
                    note("no theme line holds %r; ending the input" % theme)
                    close_input()
                else:
                    send(n.group(1))
            else:
                heads = list(HEAD.finditer(screen))
                head = heads[-1].group(0) if heads else None
                if head != last_head or not head:
                    last_head, tries = head, 0
                    answered += 1
                tries += 1
                if stop_after is not None and answered > stop_after:
                    close_input()
                    break
                if tries > 3:
                    note("the answer was refused 3 times; ending the input")
                    close_input()
                    break
                step = answered - 1
                if wait_after is not None and step == wait_after and tries == 1:
                    deadline = time.monotonic() + 120
                    while qkclock.now_ms() < wait_until and time.monotonic() < deadline:
                        time.sleep(0.05)
                right = (plan[step] if step < len(plan) else plan[-1]) == "r"
                nblanks = int(next((g for g in m.groups() if g), "1")) if kind == "fill" else 1
                send(make_answer(kind, nblanks, screen, keys, right))
                # keep the question on the screen: a refused answer is asked again
                screen = screen[heads[-1].start():] if heads else ""
                break
            screen = ""
            break
    rc = proc.wait()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
