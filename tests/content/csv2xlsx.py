#!/usr/bin/python3
"""Turns a CSV question bank into an .xlsx with openpyxl (Debian's
python3-openpyxl) the way a person retyping it in Excel would leave it: text
as text, and a cell that is a plain number (1921, 3.5) as a number, since
that is what Excel makes of it. For tests/content/test_roundtrip.c.

usage: csv2xlsx.py IN.csv OUT.xlsx
"""
import csv
import sys

import openpyxl


def number(text):
    """The number Excel would make of text, or None."""
    try:
        v = int(text)
        return v if str(v) == text and abs(v) < 10**15 else None
    except ValueError:
        pass
    try:
        v = float(text)
        return v if repr(v) == text else None
    except ValueError:
        return None


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding='utf-8-sig', newline='') as f:
        rows = list(csv.reader(f))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = '题库'
    for r, row in enumerate(rows, start=1):
        for c, text in enumerate(row, start=1):
            if text == '':
                continue
            n = number(text) if r > 1 else None
            cell = ws.cell(row=r, column=c, value=n if n is not None else text)
            if n is None and text.startswith('='):
                cell.data_type = 's'  # typed as text, not a formula
    wb.save(sys.argv[2])
    return 0


if __name__ == '__main__':
    sys.exit(main())
