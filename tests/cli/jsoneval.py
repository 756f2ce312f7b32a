#!/usr/bin/env python3
"""Evaluates Python expressions over JSON files for the end-to-end tests, as
one long-running process (tests/cli/lib.sh starts it as a coprocess): a
test asks hundreds of questions of the replies it gets, and starting a
Python for each one cost more than the rest of the test.

Reads lines "FILE<TAB>EXPR"; for each, loads FILE as JSON into d (and b, the
name some tests use), runs print(EXPR) and ends the answer with a line
holding only \\x1e. An error is printed as "jsoneval: TYPE: message"."""
import json
import sys


def main():
    for line in sys.stdin:
        path, _, expr = line.rstrip("\n").partition("\t")
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            exec(compile("print(%s)" % expr, "<expr>", "exec"),
                 {"json": json, "d": data, "b": data})
        except Exception as e:  # the test shows the error as the value it got
            print("jsoneval: %s: %s" % (type(e).__name__, e))
        print("\x1e", flush=True)


if __name__ == "__main__":
    main()
