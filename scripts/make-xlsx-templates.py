#!/usr/bin/python3
"""Writes the .xlsx question-bank templates from the CSV ones beside them:
content/templates/题库模板.csv -> 题库模板.xlsx, template-en.csv -> template-en.xlsx.

The workbooks are what staff open in WPS or Excel: a bold, frozen header row,
columns wide enough to read, a drop-down list for 题型/type, and every cell
formatted as text, so an answer typed as 1/3, 1921 or 50% stays as typed.
Needs Debian's python3-openpyxl. tests/content/test_xlsx.sh checks that each
template builds the same questions as its CSV. Run it again after editing a
CSV template, and commit both.

usage: scripts/make-xlsx-templates.py [TEMPLATES_DIR]
"""
import csv
import os
import sys

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

WIDTHS = {  # by header, in characters
    '编号': 9, 'id': 9, '题型': 7, 'type': 8, '题干': 44, 'stem': 44, '答案': 14, 'answer': 14,
    '解析': 36, 'explanation': 36, '主题': 10, 'theme': 10, '分值': 6, 'points': 7,
    '难度': 6, 'difficulty': 9, '标签': 10, 'tags': 10, '出处': 18, 'source': 18,
}
TYPES = {'zh': '单选,多选,判断,填空', 'en': 'single,multi,judge,fill'}


def make(csv_path, xlsx_path, lang):
    with open(csv_path, encoding='utf-8-sig', newline='') as f:
        rows = list(csv.reader(f))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = '题库' if lang == 'zh' else 'questions'
    head = rows[0]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=value if value != '' else None)
            cell.number_format = '@'
            cell.alignment = Alignment(vertical='top', wrap_text=r > 1)
            if r == 1:
                cell.font = Font(bold=True)
                cell.fill = PatternFill('solid', fgColor='DDEBF7')
    # Text format for the rows still to be filled in, too.
    for r in range(len(rows) + 1, 501):
        for c in range(1, len(head) + 1):
            ws.cell(row=r, column=c).number_format = '@'
    for c, name in enumerate(head, start=1):
        letter = openpyxl.utils.get_column_letter(c)
        ws.column_dimensions[letter].width = WIDTHS.get(name, 12)
        if name in ('题型', 'type'):
            dv = DataValidation(type='list', formula1='"%s"' % TYPES[lang], allow_blank=True)
            dv.error = '题型只能是：' + TYPES['zh'] if lang == 'zh' else 'type is one of ' + TYPES['en']
            ws.add_data_validation(dv)
            dv.add('%s2:%s500' % (letter, letter))
    ws.freeze_panes = 'A2'
    wb.save(xlsx_path)


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ('-h', '--help'):
        print(__doc__.strip())
        return 0
    here = os.path.dirname(os.path.abspath(__file__))
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', 'content', 'templates')
    for name, lang in (('题库模板', 'zh'), ('template-en', 'en')):
        make(os.path.join(d, name + '.csv'), os.path.join(d, name + '.xlsx'), lang)
        print('wrote', os.path.join(d, name + '.xlsx'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
