#!/usr/bin/env python3
"""Every message catalogue entry must take the same printf arguments, in the
same order, in zh-CN and in English: the compiler cannot check formats that
come from a table, and a mismatch prints garbage or crashes. And the Chinese
speaks to people one way everywhere: 你 (never 您), 访客 (never 游客), in
the catalogues and the pages' own texts alike."""
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
files = ["engine/src/messages.def", "content/src/messages.def", "cli/messages.def",
         "sync/src/messages.def"]
spec = re.compile(r"%(?:%|[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t)?[diouxXcspfeEgG])")
string = re.compile(r'"((?:[^"\\]|\\.)*)"')
bad = 0
count = 0
for name in files:
    text = open(f"{root}/{name}", encoding="utf-8").read()
    # drop comments
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for m in re.finditer(r"MSG\(\s*(\w+)\s*,(.*?)\)\s*(?=\nMSG\(|\Z)", text, flags=re.S):
        ident, body = m.group(1), m.group(2)
        # zh and en are each one or more adjacent string literals separated by ","
        depth_text = body
        # split on the comma between the two groups of adjacent literals
        groups, cur = [], ""
        for lit in re.finditer(r'"((?:[^"\\]|\\.)*)"|,', depth_text):
            if lit.group(0) == ",":
                groups.append(cur)
                cur = ""
            else:
                cur += lit.group(1)
        groups.append(cur)
        if len(groups) != 2:
            print(f"{name}: {ident}: expected a zh and an en text, found {len(groups)}")
            bad += 1
            continue
        zh = [s for s in spec.findall(groups[0]) if s != "%%"]
        en = [s for s in spec.findall(groups[1]) if s != "%%"]
        count += 1
        if zh != en:
            print(f"{name}: {ident}: zh takes {zh}, en takes {en}")
            bad += 1
words = re.compile("您|游客")
for name in files + ["web/kiosk/kiosk.js", "web/kiosk/index.html", "web/dashboard/app.js",
                     "web/dashboard/index.html", "sync/src/api.c", "sync/src/kiosk.c"]:
    for n, line in enumerate(open(f"{root}/{name}", encoding="utf-8"), 1):
        count += 1
        m = words.search(line)
        if m:
            print(f"{name}:{n}: {m.group(0)} (say 你 and 访客): {line.strip()}")
            bad += 1
print(f"{count - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
