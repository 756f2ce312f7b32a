#!/usr/bin/env python3
"""The end-to-end tests' view of quizkit's clock (docs/time.md), so a test
can ask what the commands it runs will take as "now" and "today" without
reading the wall clock itself.

The clock is the one quizkit reads from QUIZKIT_NOW, QUIZKIT_NOW_RATE and
QUIZKIT_NOW_SINCE (tests/cli/lib.sh sets QUIZKIT_NOW_SINCE when only
QUIZKIT_NOW is given, so every process of a test shares one moving clock);
without QUIZKIT_NOW it is the system clock.

usage: qkclock.py now [--at INSTANT] [--days N] [--seconds N]
                                      the instant, as quizkit parses it back
                                      (2026-12-02T23:59:30.250+08:00)
       qkclock.py date [--at INSTANT] [--days N]
                                      the Beijing date (2026-12-02)
       qkclock.py month [--at INSTANT] the Beijing month (2026-12)
       qkclock.py ms [--at INSTANT]   Unix milliseconds
       qkclock.py day-of MS           the Beijing date of Unix milliseconds
--at takes an instant in QUIZKIT_NOW's syntax instead of the clock's now;
--days and --seconds move it."""
import datetime
import os
import re
import sys
import time

BEIJING = datetime.timezone(datetime.timedelta(hours=8))
DAY_MS = 86400000

_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$")


def parse_instant(s):
    """Unix ms of an instant in quizkit's syntax (calendar.c qk_parse_instant):
    @SECONDS, a date (midnight), or date and time; no offset is Beijing."""
    if s.startswith("@"):
        return int(s[1:]) * 1000
    m = _INSTANT.match(s)
    if not m:
        raise ValueError("not an instant: %r" % s)
    y, mo, d, h, mi, sec, frac, off = m.groups()
    if frac and not h:
        raise ValueError("not an instant: %r" % s)
    ms = int((frac or "0")[:3].ljust(3, "0"))
    if off is None:
        tz = BEIJING
    elif off in ("Z", "z"):
        tz = datetime.timezone.utc
    else:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
        tz = datetime.timezone(sign * datetime.timedelta(minutes=minutes))
    t = datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0),
                          tzinfo=tz)
    return int(t.timestamp()) * 1000 + ms


def _rate_milli(s):
    whole, _, frac = s.partition(".")
    return int(whole or "0") * 1000 + int((frac + "000")[:3])


def now_ms(env=None):
    """What quizkit's clock shows now for a process started with env."""
    env = os.environ if env is None else env
    real = time.time_ns() // 1000000
    at = env.get("QUIZKIT_NOW", "")
    if not at:
        return real
    at_ms = parse_instant(at)
    since = env.get("QUIZKIT_NOW_SINCE", "")
    if not since:
        # Each process anchors its clock when it reads it: a process started now.
        return at_ms
    rate = _rate_milli(env.get("QUIZKIT_NOW_RATE", "") or "1")
    return at_ms + (real - int(since)) * rate // 1000


def beijing(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, BEIJING)


def show_instant(ms):
    t = beijing(ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+08:00" % (ms % 1000)


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    what, rest = argv[0], argv[1:]
    if what == "day-of":
        print(beijing(int(rest[0])).date().isoformat())
        return 0
    at = None
    days = seconds = 0
    i = 0
    while i < len(rest):
        if rest[i] == "--at":
            at = parse_instant(rest[i + 1])
        elif rest[i] == "--days":
            days = int(rest[i + 1])
        elif rest[i] == "--seconds":
            seconds = float(rest[i + 1])
        else:
            print("qkclock.py: unknown option %s" % rest[i], file=sys.stderr)
            return 2
        i += 2
    ms = (now_ms() if at is None else at) + days * DAY_MS + int(seconds * 1000)
    if what == "now":
        print(show_instant(ms))
    elif what == "date":
        print(beijing(ms).date().isoformat())
    elif what == "month":
        print(beijing(ms).strftime("%Y-%m"))
    elif what == "ms":
        print(ms)
    else:
        print("qkclock.py: unknown command %s" % what, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
