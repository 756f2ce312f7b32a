#!/usr/bin/python3
"""Writes .xlsx question banks the way staff's software writes them, for
tests/content/test_xlsx.sh: LibreOffice Calc (headless, from an HTML table
with merged cells and mixed fonts, as a sheet pasted from a web page is) and
openpyxl (Debian's python3-openpyxl: number formats, dates, formulas, styled
empty rows, two sheets). Each bank that should build has a CSV beside it with
the same questions as plain text: the test builds both and compares.

usage: xlsx_fixtures.py OUT_DIR
"""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile

import openpyxl
from openpyxl.styles import Font


def csv_line(cells):
    out = []
    for c in cells:
        c = str(c)
        if any(ch in c for ch in ',"\n'):
            c = '"' + c.replace('"', '""') + '"'
        out.append(c)
    return ','.join(out) + '\n'


def write_csv(path, rows):
    with open(path, 'w', encoding='utf-8') as f:
        for r in rows:
            f.write(csv_line(r))


# ---- LibreOffice: merged title, options under one merged 选项 cell, rich text
LO_HTML = """<html><head><meta charset="utf-8"></head><body><table>
<tr><td colspan="8">2026年学雷锋知识竞赛题库</td></tr>
<tr><td rowspan="2">题型</td><td rowspan="2">题干</td><td colspan="4">选项</td>
<td rowspan="2">答案</td><td rowspan="2">解析</td></tr>
<tr><td>A</td><td>B</td><td>C</td><td>D</td></tr>
<tr><td>单选</td><td>中国共产党第一次全国代表大会在哪一年召开？</td><td>1921年</td><td>1927年</td>
<td>1935年</td><td>1949年</td><td>A</td><td>1921年7月，中共一大在上海召开，后转移到浙江嘉兴南湖。</td></tr>
<tr><td>多选</td><td>雷锋精神包括下列哪些内容？</td><td>全心全意为人民服务</td><td>干一行爱一行</td>
<td>艰苦奋斗</td><td>追求个人享受</td><td>ABC</td><td></td></tr>
<tr><td>判断</td><td>“学习雷锋好榜样”这首歌诞生于1963年。</td><td></td><td></td><td></td><td></td>
<td>对</td><td>1963年毛泽东同志题词“向雷锋同志学习”后，这首歌随之诞生。</td></tr>
<tr><td>填空</td><td>毛泽东同志为雷锋题词“向雷锋同志学习”是在____年。</td><td></td><td></td><td></td><td></td>
<td>1963</td><td></td></tr>
<tr><td></td><td></td><td></td><td></td><td></td><td></td><td></td><td></td></tr>
</table></body></html>
"""
LO_CSV = [
    ['题型', '题干', 'A', 'B', 'C', 'D', '答案', '解析'],
    ['单选', '中国共产党第一次全国代表大会在哪一年召开？', '1921年', '1927年', '1935年', '1949年', 'A',
     '1921年7月，中共一大在上海召开，后转移到浙江嘉兴南湖。'],
    ['多选', '雷锋精神包括下列哪些内容？', '全心全意为人民服务', '干一行爱一行', '艰苦奋斗', '追求个人享受',
     'ABC', ''],
    ['判断', '“学习雷锋好榜样”这首歌诞生于1963年。', '', '', '', '', '对',
     '1963年毛泽东同志题词“向雷锋同志学习”后，这首歌随之诞生。'],
    ['填空', '毛泽东同志为雷锋题词“向雷锋同志学习”是在____年。', '', '', '', '', '1963', ''],
]


def libreoffice(out):
    d = os.path.join(out, 'lo')
    os.makedirs(d, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        html = os.path.join(tmp, '题库.html')
        with open(html, 'w', encoding='utf-8') as f:
            f.write(LO_HTML)
        # A profile of its own: a LibreOffice already running elsewhere is not disturbed.
        profile = 'file://' + os.path.join(tmp, 'profile')
        subprocess.run(['soffice', '-env:UserInstallation=' + profile, '--headless',
                        '--infilter=HTML (StarCalc)', '--convert-to', 'xlsx', '--outdir', tmp, html],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
        shutil.copy(os.path.join(tmp, '题库.xlsx'), os.path.join(d, '题库.xlsx'))
    ref = os.path.join(out, 'lo-csv')
    os.makedirs(ref, exist_ok=True)
    write_csv(os.path.join(ref, '题库.csv'), LO_CSV)


# ---- openpyxl: numbers as their formats show them, a second sheet, empty styled rows
PY_ROWS = [
    # (type, stem, A, B, C, D, answer, points) -- values as a person types them into Excel
    ('单选', '雷锋同志牺牲时年仅多少岁？', 22, 25, 28, 30, 'A', 1),
    ('填空', '雷锋出生于____年。', None, None, None, None, 1940, 2),
    ('填空', '三分之一写成分数是____。', None, None, None, None, '1/3', 1),
    ('填空', '百分之五十写成百分数是____。', None, None, None, None, ('pct', 0.5), 1),
    ('填空', '长江全长约____千米。', None, None, None, None, ('thousands', 6300), 1),
    ('填空', '毛泽东同志为雷锋同志题词“向雷锋同志学习”是在____。', None, None, None, None, ('year', 1963), 1),
    ('判断', '雷锋是湖南望城人。', None, None, None, None, True, 1),
    ('单选', '圆周率取两位小数是多少？', 3.14, 3.41, 3.12, 3.16, 'A', 1),
    ('单选', '题干里有换行：\n下面哪一项是雷锋的家乡？', '湖南望城', '辽宁抚顺', '湖北武汉', '广东广州', 'A', 1),
    # Excel rounds what it shows half away from zero, on its 15 decimal digits
    ('填空', '2.5 四舍五入到整数是____。', None, None, None, None, ('fmt', 2.5, '0'), 1),
    ('填空', '1.005 四舍五入保留两位小数是____。', None, None, None, None, ('fmt', 1.005, '0.00'), 1),
    ('填空', '八分之一写成百分数，四舍五入到整数约为____。', None, None, None, None, ('fmt', 0.125, '0%'), 1),
    ('填空', '特工代号“零零七”用数字写作____。', None, None, None, None, ('fmt', 7, '000'), 1),
    ('填空', '二分之一写成小数、省略个位的 0，是____。', None, None, None, None, ('fmt', 0.5, '#.00'), 1),
    ('填空', '一百万分之一写成小数是____。', None, None, None, None, 0.000001, 1),
    # text typed into a cell whose format adds words: @"年" shows 1921 as 1921年
    ('填空', '中国共产党成立于____。', None, None, None, None, ('fmt', '1921', '@"年"'), 1),
    # General as WPS writes it, with a word after it
    ('填空', '“向雷锋同志学习”的题词发表于1963年3月____。', None, None, None, None,
     ('fmt', 5, 'G/通用格式"日"'), 1),
]
PY_CSV_ANSWERS = {
    1940: '1940', '1/3': '1/3', ('pct', 0.5): '50%', ('thousands', 6300): '6,300',
    ('year', 1963): '1963年', True: 'TRUE', 'A': 'A', 0.000001: '0.000001',
    ('fmt', 2.5, '0'): '3', ('fmt', 1.005, '0.00'): '1.01', ('fmt', 0.125, '0%'): '13%',
    ('fmt', 7, '000'): '007', ('fmt', 0.5, '#.00'): '.50', ('fmt', '1921', '@"年"'): '1921年', ('fmt', 5, 'G/通用格式"日"'): '5日',
}


def openpyxl_bank(out):
    d = os.path.join(out, 'py')
    os.makedirs(d, exist_ok=True)
    wb = openpyxl.Workbook()
    info = wb.active
    info.title = '说明'
    info['A1'] = '本工作簿的题目在“题库”工作表里。'
    ws = wb.create_sheet('题库')
    ws.append(['题型', '题干', '选项A', '选项B', '选项C', '选项D', '答案', '分值'])
    ref = [['题型', '题干', '选项A', '选项B', '选项C', '选项D', '答案', '分值']]
    for row in PY_ROWS:
        cells = []
        for v in row:
            cells.append(v[1] if isinstance(v, tuple) else v)
        ws.append(cells)
        r = ws.max_row
        ans = row[6]
        if isinstance(ans, tuple) and ans[0] == 'fmt':
            ws.cell(row=r, column=7).number_format = ans[2]
        elif isinstance(ans, tuple):
            ws.cell(row=r, column=7).number_format = {'pct': '0%', 'thousands': '#,##0',
                                                      'year': '0"年"'}[ans[0]]
        ref.append([row[0], row[1]] + ['' if v is None else
                                       ('%g' % v if isinstance(v, float) else str(v)) for v in row[2:6]]
                   + [PY_CSV_ANSWERS[ans], str(row[7])])
    # Empty rows that only carry formatting, as a sheet that was tidied up has.
    for r in range(ws.max_row + 1, ws.max_row + 4):
        ws.cell(row=r, column=1).font = Font(bold=True)
        ws.cell(row=r, column=7).number_format = '@'
    wb.save(os.path.join(d, '题库.xlsx'))
    refd = os.path.join(out, 'py-csv')
    os.makedirs(refd, exist_ok=True)
    write_csv(os.path.join(refd, '题库.csv'), ref)


# ---- openpyxl: a sheet with what cannot be read as the author saw it
def bad_bank(out):
    d = os.path.join(out, 'bad')
    os.makedirs(d, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = '题库'
    ws.append(['题型', '题干', 'A', 'B', '答案'])                                  # row 1
    ws.append(['填空', '新中国成立的日期是____。', None, None,
               datetime.datetime(1949, 10, 1)])                                    # row 2: a date
    ws.append(['单选', '这道题没问题吗？', '是', '否', 'A'])                          # row 3
    ws.append(['填空', '一加一等于____。', None, None, '=1+1'])                     # row 4: a formula
    ws.append(['单选', '答案字母写错的题', '甲', '乙', 'C'])                          # row 5
    ws.append(['填空', '阿伏加德罗常数约为____。', None, None, 6.02e23])            # row 6
    ws.cell(row=6, column=5).number_format = '0.00E+00'
    ws.append(['填空', '这个身份证号的末位是____。', None, None, 110101199001011234])  # row 7: 18 digits
    ws.append(['填空', '五十分写作____。', None, None, 50])                         # row 8: a condition
    ws.cell(row=8, column=5).number_format = '[>=100]"满分";0'
    ws.append(['填空', '三写成汉字是____。', None, None, 3])                        # row 9: [DBNum1]
    ws.cell(row=9, column=5).number_format = '[DBNum1]General'
    wb.save(os.path.join(d, '坏题库.xlsx'))


# ---- openpyxl: an old bank kept in a hidden first sheet
def hidden_first(out):
    d = os.path.join(out, 'hidden')
    os.makedirs(d, exist_ok=True)
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = '旧题库'
    old.append(['题型', '题干', 'A', 'B', '答案'])
    old.append(['单选', '中国共产党成立于哪一年？', '1920年', '1921年', 'A'])  # the old, wrong key
    old.sheet_state = 'hidden'
    ws = wb.create_sheet('题库')
    ws.append(['题型', '题干', 'A', 'B', '答案'])
    ws.append(['单选', '中国共产党成立于哪一年？', '1920年', '1921年', 'B'])
    wb.save(os.path.join(d, '题库.xlsx'))
    refd = os.path.join(out, 'hidden-csv')
    os.makedirs(refd, exist_ok=True)
    write_csv(os.path.join(refd, '题库.csv'), [['题型', '题干', 'A', 'B', '答案'],
                                              ['单选', '中国共产党成立于哪一年？', '1920年', '1921年', 'B']])


# ---- openpyxl: points and themes merged down beside the questions they belong to
def merged_down(out):
    d = os.path.join(out, 'merged')
    os.makedirs(d, exist_ok=True)
    rows = [['题型', '题干', 'A', 'B', '答案', '分值', '主题'],
            ['单选', '中国共产党第一次全国代表大会在哪一年召开？', '1921年', '1927年', 'A', 2, '党史'],
            ['判断', '中共一大最后一天的会议在嘉兴南湖的游船上举行。', None, None, '对', None, None],
            ['单选', '雷锋同志的家乡在哪里？', '湖南望城', '辽宁抚顺', 'A', None, '雷锋精神'],
            ['判断', '“向雷锋同志学习”的题词发表于1963年。', None, None, '对', None, None]]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = '题库'
    for r in rows:
        ws.append(r)
    ws.merge_cells('F2:F5')  # 每题 2 分
    ws.merge_cells('G2:G3')
    ws.merge_cells('G4:G5')
    wb.save(os.path.join(d, '题库.xlsx'))
    refd = os.path.join(out, 'merged-csv')
    os.makedirs(refd, exist_ok=True)
    ref = [rows[0]]
    for i, r in enumerate(rows[1:]):
        ref.append([r[0], r[1], r[2] or '', r[3] or '', r[4], '2', '党史' if i < 2 else '雷锋精神'])
    write_csv(os.path.join(refd, '题库.csv'), ref)


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ('-h', '--help'):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    openpyxl_bank(out)
    bad_bank(out)
    hidden_first(out)
    merged_down(out)
    libreoffice(out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
