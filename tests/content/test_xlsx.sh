#!/usr/bin/env bash
# .xlsx question banks as staff's software saves them (tests/content/xlsx_fixtures.py
# writes them with LibreOffice and openpyxl): each builds exactly the questions
# of the same bank kept as CSV, plays right, and what cannot be read as the
# author saw it is refused with the sheet row and cell named.
. "$(dirname "$0")/../cli/lib.sh"
F="$WORK/fx"
/usr/bin/python3 "$TESTS/content/xlsx_fixtures.py" "$F" >"$WORK/fx.log" 2>&1 ||
    { cat "$WORK/fx.log"; fail "the fixtures could not be written"; finish; }

# same_as_csv NAME XLSX CSV [--sheet S]: both build, and no question differs.
same_as_csv() {
    local name=$1 x=$2 c=$3
    shift 3
    "$QK" bundle build "$x" -o "$WORK/x.qkb" "$@" >"$WORK/bx" 2>&1
    expect_eq "$name: the workbook builds" "$?" 0
    "$QK" bundle build "$c" -o "$WORK/c.qkb" >"$WORK/bc" 2>&1
    expect_eq "$name: the CSV builds" "$?" 0
    "$QK" bundle diff "$WORK/c.qkb" "$WORK/x.qkb" >"$WORK/d" 2>&1
    expect_contains "$name: the same questions, options, answers and explanations" "$WORK/d" \
        "新增 0 题，删除 0 题，修改 0 题"
    expect_not_contains "$name: nothing changed" "$WORK/d" "修改  "
}

# LibreOffice: a merged title row, the options under one merged 选项 cell with
# the letters in the row below, rich text, a number typed as the fill-in's answer,
# an empty last row.
unzip -p "$F/lo/题库.xlsx" xl/worksheets/sheet1.xml >"$WORK/lo-sheet.xml"
unzip -p "$F/lo/题库.xlsx" xl/sharedStrings.xml >"$WORK/lo-sst.xml"
expect_contains "LibreOffice merged the title" "$WORK/lo-sheet.xml" '<mergeCell ref="A1:H1"/>'
expect_contains "LibreOffice merged 选项 over the options" "$WORK/lo-sheet.xml" '<mergeCell ref="C2:F2"/>'
expect_contains "LibreOffice wrote rich text" "$WORK/lo-sst.xml" '<r><rPr>'
expect_contains "LibreOffice wrote the empty last row" "$WORK/lo-sheet.xml" '<row r="8"'
same_as_csv "LibreOffice bank" "$F/lo/题库.xlsx" "$F/lo-csv/题库.csv"
expect_not_contains "no warnings about the title or the 选项 cell" "$WORK/bx" "warning"

# The same bank signed, installed and played with the right answers.
"$QK" keygen -o "$WORK/支部" >/dev/null
"$QK" bundle build "$F/lo/题库.xlsx" -o "$WORK/lo.qkb" --key "$WORK/支部.key" >/dev/null 2>&1
"$QK" trust add "$WORK/支部.pub" >/dev/null
"$QK" bundle install "$WORK/lo.qkb" >/dev/null 2>&1
expect_eq "the workbook's bundle installs" "$?" 0
printf 'A\nABC\n对\n1963\n' | "$QK" play --theme 题库 --order seq --count 0 >"$WORK/play" 2>&1
expect_contains "every answer from the workbook is right" "$WORK/play" "答对：4 / 4 题"

# openpyxl: two sheets (questions on the second), numbers in formats (50%,
# 6,300, 1963年, 3.14, TRUE), rounded as Excel shows them (2.5 as 3, 1.005 as
# 1.01, 0.125 as 13%), leading zeros (007), 0.000001 in full, text in a
# format that adds words (@"年"), a line break in a stem, formatted empty rows.
unzip -p "$F/py/题库.xlsx" xl/worksheets/sheet2.xml >"$WORK/py-sheet.xml"
expect_contains "openpyxl wrote the text in the cells (LibreOffice's bank has shared strings)" \
    "$WORK/py-sheet.xml" '<c r="B2" t="inlineStr"><is><t>&#38647;'
expect_contains "openpyxl wrote 50% as a number formatted as a percentage" "$WORK/py-sheet.xml" '<v>0.5</v>'
expect_contains "LibreOffice's text is in shared strings" "$WORK/lo-sst.xml" '<si><t xml:space="preserve">单选</t></si>' 
same_as_csv "openpyxl bank" "$F/py/题库.xlsx" "$F/py-csv/题库.csv" --sheet 题库
expect_contains "a bare / is questioned at its sheet row" "$WORK/bx" "题库.xlsx:4: warning: 题目 “三分之一写成分数是____。”"
same_as_csv "the sheet by its number" "$F/py/题库.xlsx" "$F/py-csv/题库.csv" --sheet 2

"$QK" bundle check "$F/py/题库.xlsx" >"$WORK/o" 2>&1
expect_eq "the first sheet holds no questions" "$?" 1
expect_contains "says which sheet it read and which there are" "$WORK/o" \
    "题库.xlsx: warning: 读的是工作表“说明”，最左边没有隐藏的一个（本文件的工作表：“说明”、“题库”；要读别的，用 --sheet 工作表名）"

# An old bank kept in a hidden first sheet is not the one read.
same_as_csv "a hidden first sheet" "$F/hidden/题库.xlsx" "$F/hidden-csv/题库.csv"
expect_contains "says which sheet it read, and which is hidden" "$WORK/bx" \
    "读的是工作表“题库”，最左边没有隐藏的一个（本文件的工作表：“旧题库”（隐藏）、“题库”"
"$QK" bundle check "$F/py/题库.xlsx" --sheet 题目 >"$WORK/o" 2>&1
expect_eq "a sheet that is not there" "$?" 1
expect_contains "names the sheets there are" "$WORK/o" "没有工作表“题目”；本文件的工作表：“说明”、“题库”"
"$QK" bundle check "$F/py/题库.xlsx" --sheet >"$WORK/o" 2>&1
expect_eq "--sheet without a name is a usage error" "$?" 2

# 分值 and 主题 merged down beside the questions: each question has them.
unzip -p "$F/merged/题库.xlsx" xl/worksheets/sheet1.xml >"$WORK/m-sheet.xml"
expect_contains "openpyxl merged 分值 down four rows" "$WORK/m-sheet.xml" '<mergeCell ref="F2:F5"/>'
same_as_csv "points and themes merged down" "$F/merged/题库.xlsx" "$F/merged-csv/题库.csv"

# Cells that do not hold what the author saw, each named, all in one run, by row.
"$QK" bundle check "$F/bad/坏题库.xlsx" >"$WORK/o" 2>&1
expect_eq "the bad bank fails" "$?" 1
grep -o '^[^ ]*坏题库.xlsx:[0-9]*' "$WORK/o" | sed 's/.*://' | tr '\n' ' ' >"$WORK/rows"
expect_eq "seven problems, in row order" "$(cat "$WORK/rows")" "2 4 5 6 7 8 9 "
expect_contains "a date" "$WORK/o" "坏题库.xlsx:2:5: error: 单元格 E2 是日期或时间（表格里存的是 18172，和看到的不一样）"
expect_contains "a formula with no value" "$WORK/o" "坏题库.xlsx:4:5: error: 单元格 E4 是公式，文件里没有算好的值"
expect_contains "a wrong letter, as in CSV" "$WORK/o" "坏题库.xlsx:5: error: 题目 “答案字母写错的题”：答案“C”"
expect_contains "a scientific number" "$WORK/o" "坏题库.xlsx:6:5: error: 单元格 E6 的数字格式“0.00E+00”"
expect_contains "an 18-digit number Excel cannot keep" "$WORK/o" "坏题库.xlsx:7:5: error: 单元格 E7 的数字 1.101011990010112e+17 超出 Excel 能原样保存的 15 位"
expect_contains "a conditional format" "$WORK/o" "坏题库.xlsx:8:5: error: 单元格 E8 的数字格式“[>=100]\"满分\";0”显示的样子读不出"
expect_contains "Chinese numerals are not a date" "$WORK/o" "坏题库.xlsx:9:5: error: 单元格 E9 的数字格式“[DBNum1]General”"
expect_not_contains "a refused cell is not also an empty answer" "$WORK/o" "答案为空"
"$QK" bundle build "$F/bad/坏题库.xlsx" -o "$WORK/bad.qkb" >/dev/null 2>&1
expect_eq "nothing is built" "$(ls "$WORK" | grep -c bad.qkb)" 0

# Files that are not workbooks, or not there.
"$QK" bundle check "$WORK/题库（新）.xlsx" >"$WORK/o" 2>&1
expect_eq "a file that is not there: exit 2" "$?" 2
expect_contains "says it is not there" "$WORK/o" "题库（新）.xlsx: error: 找不到这个文件或文件夹"
printf '题型,题干,答案\n' >"$WORK/renamed.xlsx"
"$QK" bundle check "$WORK/renamed.xlsx" >"$WORK/o" 2>&1
expect_eq "a renamed CSV fails" "$?" 1
expect_contains "says it is not a workbook" "$WORK/o" "renamed.xlsx: error: 不是能读的 .xlsx 文件（不是 zip 压缩包，可能只是改了扩展名）"
head -c 2000 "$F/py/题库.xlsx" >"$WORK/cut.xlsx"
"$QK" bundle check "$WORK/cut.xlsx" >"$WORK/o" 2>&1
expect_contains "a file cut short" "$WORK/o" "压缩包不完整或已损坏，可能没有传完"
printf '\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1%0500d' 0 >"$WORK/old.xlsx"
"$QK" bundle check "$WORK/old.xlsx" >"$WORK/o" 2>&1
expect_contains "an old .xls or a password" "$WORK/o" "这是旧的 .xls 文件，或设了打开密码的工作簿"
# A workbook whose sheet has a DOCTYPE (entities) is refused, not expanded.
python3 - "$F/lo/题库.xlsx" "$WORK/evil.xlsx" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], 'w') as out:
    for item in src.infolist():
        data = src.read(item)
        if item.filename == 'xl/worksheets/sheet1.xml':
            data = data.replace(b'<worksheet ', b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><worksheet ', 1)
        out.writestr(item, data)
PY
"$QK" bundle check "$WORK/evil.xlsx" >"$WORK/o" 2>&1
expect_eq "a DOCTYPE fails" "$?" 1
expect_contains "names the part" "$WORK/o" "“xl/worksheets/sheet1.xml”不是有效的 XML（DOCTYPE）"

# The templates shipped beside the CSV ones hold the same questions.
same_as_csv "题库模板.xlsx" "$TESTS/../content/templates/题库模板.xlsx" "$TESTS/../content/templates/题库模板.csv"
same_as_csv "template-en.xlsx" "$TESTS/../content/templates/template-en.xlsx" "$TESTS/../content/templates/template-en.csv"
expect_not_contains "the English template builds without warnings" "$WORK/bx" "warning"

finish
