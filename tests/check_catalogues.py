#!/usr/bin/env python3
"""Every message catalogue entry must take the same printf arguments, in the
same order, in zh-CN and in English: the compiler cannot check formats that
come from a table, and a mismatch prints garbage or crashes."""
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
print(f"{count - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
