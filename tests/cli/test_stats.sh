#!/usr/bin/env bash
# `quizkit stats --local`: a kiosk's own figures as a table, CSV for Excel/WPS
# (BOM, quoting, Chinese intact) and JSON; bad input named.
. "$(dirname "$0")/lib.sh"
mini_bundle
"$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1
"$QK" member add m2 --name "李,四" --pin 5678 >/dev/null 2>&1
# The figures are asked for over a period that holds the attempts: from the
# day the first began to the day asked (the run's clock may pass midnight or
# a month's end between the two).
FROM=$(clock_date)
printf '1234\nB\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq --member m1 >/dev/null 2>&1
period() { echo --from "$FROM" --to "$(clock_date)"; }

"$QK" stats participation --local >"$WORK/o" 2>&1
expect_eq "participation exits 0" "$?" 0
expect_contains "the period is this month in Beijing time" "$WORK/o" "（北京时间）"
expect_contains "header" "$WORK/o" "参与率%"
"$QK" stats participation --local $(period) >"$WORK/o" 2>&1
expect_contains "one of two members took part" "$WORK/o" "全部"
expect_eq "rate" "$("$QK" stats participation --local --json $(period) | python3 -c 'import json,sys;t=json.load(sys.stdin);print(t["rows"][0][2], t["rows"][0][3], t["rows"][0][4])')" "2 1 50.0"

"$QK" stats inactive --local --csv --out "$WORK/inactive.csv" $(period) 2>"$WORK/e"
expect_eq "CSV written" "$?" 0
expect_contains "and said so" "$WORK/e" "已写入"
expect_eq "CSV starts with the UTF-8 BOM" "$(head -c 3 "$WORK/inactive.csv" | od -An -tx1 | tr -d ' \n')" efbbbf
python3 - "$WORK/inactive.csv" >"$WORK/read" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
print(rows[0][1], rows[1][0], rows[1][1], len(rows))
PY
expect_eq "CSV reads back: header, quoted name with a comma, Chinese intact" "$(cat "$WORK/read")" "姓名 m2 李,四 2"

"$QK" stats members --local --json $(period) >"$WORK/m.json"
expect_eq "members as JSON" "$(python3 -c 'import json,sys;t=json.load(open(sys.argv[1]));r=t["rows"][0];print(r[0], r[3], r[4], r[5])' "$WORK/m.json")" "m1 1 5 100.0"

# The monthly report as an Excel workbook, read back from its XML.
"$QK" report --xlsx "$WORK/report.xlsx" --local $(period) 2>"$WORK/e"
expect_eq "report written" "$?" 0
python3 - "$WORK/report.xlsx" >"$WORK/x" <<'PY'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
strings = re.findall(r"<t[^>]*>([^<]*)</t>", z.read("xl/sharedStrings.xml").decode())
part = z.read("xl/worksheets/sheet2.xml").decode()
cells = dict(re.findall(r'<c r="([A-Z]+[0-9]+)"[^>]*><v>([^<]*)</v>', part))
frozen = 'state="frozen"' in part
print(" ".join(names))
print("张三" in strings, "李,四" in strings, "参与率%" in strings, frozen)
print(cells.get("C2"), cells.get("D2"), cells.get("E2"))
themes = z.read("xl/worksheets/sheet5.xml").decode()
shown = [strings[int(v)] for v in re.findall(r'<c r="[AB][0-9]+"[^>]*t="s"[^>]*><v>([^<]*)</v>', themes)]
print(" ".join(shown))
PY
expect_eq "one sheet per subject, the summary first" "$(sed -n 1p "$WORK/x")" "汇总 参与率 成员 未参与 主题与竞赛 每周趋势 逐题分析"
expect_eq "Chinese text intact, header frozen" "$(sed -n 2p "$WORK/x")" "True True True True"
expect_eq "the participation sheet holds the numbers (roster, active, rate)" "$(sed -n 3p "$WORK/x")" "2 1 50"
expect_eq "the themes sheet names themes and modes as people do" "$(sed -n 4p "$WORK/x")" "主题或竞赛 方式 测试主题 练习"
"$QK" stats trend --local --xlsx "$WORK/trend.xlsx" 2>/dev/null
expect_eq "one subject as a workbook" "$(python3 -c 'import sys,zipfile;print(len([n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("xl/worksheets/sheet")]))' "$WORK/trend.xlsx")" 2
"$QK" report --local >"$WORK/o" 2>&1
expect_eq "report without --xlsx is a usage error" "$?" 2
# A folder that is not there: one line in the person's language, nothing half-written.
"$QK" report --xlsx "$WORK/nowhere/report.xlsx" --local $(period) >"$WORK/o" 2>&1
expect_eq "a report into a missing folder fails" "$?" 1
expect_contains "saying so in Chinese" "$WORK/o" "无法写入 $WORK/nowhere/report.xlsx：文件或文件夹不存在"
expect_not_contains "without libxlsxwriter's English" "$WORK/o" "[ERROR]"

"$QK" stats nonsense --local >"$WORK/o" 2>&1
expect_eq "unknown subject is a usage error" "$?" 2
"$QK" stats members --local --from 2026-02-30 >"$WORK/o" 2>&1
expect_contains "bad date named" "$WORK/o" "--from 的值无效：2026-02-30"
"$QK" stats members --local --from 2026-03-31 --to 2026-03-01 >"$WORK/o" 2>&1
expect_eq "an empty period is refused" "$?" 2
expect_contains "it says the end is before the start" "$WORK/o" "期间的结束 2026-03-01 早于开始 2026-03-31；请把 --from 和 --to 对调"
# --from alone, after this month: the end it is after is named
frozen_at 2026-12-02T02:00:00Z "$QK" stats members --local --from 2027-02-01 >"$WORK/o" 2>&1
expect_eq "--from after this month alone: usage error" "$?" 2
expect_contains "it names this month's last day as the end" "$WORK/o" "期间的开始 2027-02-01 晚于结束 2026-12-31（没有给 --to 时，结束是本月最后一天）"
# --to alone, before this month: the start it is before is named (Beijing's
# month: at 00:30 on 1 January it is already January there)
frozen_at 2026-12-31T16:30:00Z "$QK" stats members --local --to 2026-12-31 >"$WORK/o" 2>&1
expect_eq "--to before this month alone: usage error" "$?" 2
expect_contains "it names this month's first day as the start" "$WORK/o" "期间的结束 2026-12-31 早于开始 2027-01-01（没有给 --from 时，开始是本月 1 日）"
"$QK" stats members >"$WORK/o" 2>&1
expect_contains "the data source must be said" "$WORK/o" "--local"

# The period another way: a month, a week, the last N days.
per() { "$QK" stats trend --local --json "$@" | python3 -c 'import json,sys;t=json.load(sys.stdin);print(t["from"], t["to"])'; }
expect_eq "--month is the whole month" "$(per --month 2026-02)" "2026-02-01 2026-02-28"
expect_eq "--week is Monday to Sunday around the day" "$(per --week 2026-11-05)" "2026-11-02 2026-11-08"
expect_eq "--week on a Sunday" "$(per --week 2026-11-08)" "2026-11-02 2026-11-08"
T=$(clock_now)
expect_eq "--days 30 ends today (Beijing)" "$(frozen_at "$T" per --days 30)" \
    "$(clock_date --at "$T" --days -29) $(clock_date --at "$T")"
"$QK" stats inactive --local --month 2026-13 >"$WORK/o" 2>&1
expect_eq "a bad month is a usage error" "$?" 2
expect_contains "and is named" "$WORK/o" "--month 的值无效：2026-13"
"$QK" stats inactive --local --month 2026-11 --days 7 >"$WORK/o" 2>&1
expect_contains "one way of giving the period" "$WORK/o" "只能用一种方式"

# The themes table for people: the theme's title, the mode's name in
# Chinese (JSON keeps the ids); all themes as 全部主题, never "*".
printf '1234\nB\n' | "$QK" play --bundle test.mini --theme 3 --count 1 --order seq --member m1 >/dev/null 2>&1
"$QK" stats themes --local $(period) >"$WORK/th" 2>&1
expect_contains "themes: the title, not the id" "$WORK/th" "测试主题    练习"
expect_contains "themes: all themes named in Chinese" "$WORK/th" "全部主题    练习"
expect_not_contains "themes: no mode ids" "$WORK/th" "practice"
expect_not_contains "themes: no *" "$WORK/th" "*"
expect_eq "themes as JSON keep the ids" \
    "$("$QK" stats themes --local --json $(period) | python3 -c 'import json,sys;print(" ".join(sorted(r[0]+"/"+r[1] for r in json.load(sys.stdin)["rows"])))')" \
    "*/practice t/practice"
# A period with nothing in it: one line that says so.
"$QK" stats themes --local --month 2020-01 >"$WORK/none" 2>&1
expect_eq "an empty period exits 0" "$?" 0
expect_contains "an empty period says so" "$WORK/none" "这段时间没有记录。"
expect_not_contains "no header over nothing" "$WORK/none" "主题或竞赛"
# Statistics only read: in a fresh data folder they install no sample
# bundle and trust no key.
QUIZKIT_HOME="$WORK/fresh" "$QK" stats questions --local >"$WORK/fresh.out" 2>&1
expect_eq "stats in a fresh folder exits 0" "$?" 0
expect_not_contains "and installs nothing" "$WORK/fresh.out" "已安装示例题库"
expect_eq "no bundle installed by statistics" "$(ls "$WORK/fresh/bundles" 2>/dev/null | wc -l)" 0
expect_eq "no key trusted by statistics" "$(ls "$WORK/fresh/trust" 2>/dev/null | wc -l)" 0

# Sorting by a column.
"$QK" member add m3 --name 王五 --pin 1357 >/dev/null 2>&1
printf '1357\nA\nB\n错\n1900|x\nB\n' | "$QK" play --bundle test.mini --theme t --order seq --member m3 >/dev/null 2>&1
srt() { "$QK" stats members --local --json --sort "$1" $(period) | python3 -c 'import json,sys;print(" ".join(r[0] for r in json.load(sys.stdin)["rows"]))'; }
expect_eq "--sort -accuracy_pct: most accurate first, no answers last" "$(srt -accuracy_pct)" "m1 m3 m2"
expect_eq "--sort name" "$(srt member_id)" "m1 m2 m3"
"$QK" stats members --local --sort nonsense >"$WORK/o" 2>&1
expect_eq "an unknown column is a usage error" "$?" 2
finish
