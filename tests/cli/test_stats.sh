#!/usr/bin/env bash
# `quizkit stats --local`: a kiosk's own figures as a table, CSV for Excel/WPS
# (BOM, quoting, Chinese intact) and JSON; bad input named.
. "$(dirname "$0")/lib.sh"
mini_bundle
"$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1
"$QK" member add m2 --name "李,四" --pin 5678 >/dev/null 2>&1
printf '1234\nB\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq --member m1 >/dev/null 2>&1

"$QK" stats participation --local >"$WORK/o" 2>&1
expect_eq "participation exits 0" "$?" 0
expect_contains "the period is this month in Beijing time" "$WORK/o" "（北京时间）"
expect_contains "header" "$WORK/o" "参与率%"
expect_contains "one of two members took part" "$WORK/o" "全部"
expect_eq "rate" "$("$QK" stats participation --local --json | python3 -c 'import json,sys;t=json.load(sys.stdin);print(t["rows"][0][2], t["rows"][0][3], t["rows"][0][4])')" "2 1 50.0"

"$QK" stats inactive --local --csv --out "$WORK/inactive.csv" 2>"$WORK/e"
expect_eq "CSV written" "$?" 0
expect_contains "and said so" "$WORK/e" "已写入"
expect_eq "CSV starts with the UTF-8 BOM" "$(head -c 3 "$WORK/inactive.csv" | od -An -tx1 | tr -d ' \n')" efbbbf
python3 - "$WORK/inactive.csv" >"$WORK/read" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
print(rows[0][1], rows[1][0], rows[1][1], len(rows))
PY
expect_eq "CSV reads back: header, quoted name with a comma, Chinese intact" "$(cat "$WORK/read")" "姓名 m2 李,四 2"

"$QK" stats members --local --json >"$WORK/m.json"
expect_eq "members as JSON" "$(python3 -c 'import json,sys;t=json.load(open(sys.argv[1]));r=t["rows"][0];print(r[0], r[3], r[4], r[5])' "$WORK/m.json")" "m1 1 5 100.0"

"$QK" stats nonsense --local >"$WORK/o" 2>&1
expect_eq "unknown subject is a usage error" "$?" 2
"$QK" stats members --local --from 2026-02-30 >"$WORK/o" 2>&1
expect_contains "bad date named" "$WORK/o" "--from 的值无效：2026-02-30"
"$QK" stats members --local --from 2026-03-31 --to 2026-03-01 >"$WORK/o" 2>&1
expect_eq "an empty period is refused" "$?" 2
"$QK" stats members >"$WORK/o" 2>&1
expect_contains "the data source must be said" "$WORK/o" "--local"
finish
