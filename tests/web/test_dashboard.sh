#!/usr/bin/env bash
# Issue 7's "done means" in a real browser: a branch leader with only a
# browser opens the dashboard that `quizkit serve` serves, sees this month's
# participation rate and who has not taken part (the numbers the API gives),
# and downloads the Excel report, which holds the Chinese names and the
# figures. Downloads go to $QK_ARTIFACTS (default build/artifacts); every
# screen at 1080×1920, 1920×1080 and 390×844 to build/screens/dashboard, with
# the kiosk's beside it and build/screens/index.html to page through.
#
# The test runs on whatever clock the environment sets (QUIZKIT_NOW and
# QUIZKIT_NOW_SINCE are inherited: a date sweep runs it at month ends): the
# server says when the answers were given, and dashboard.mjs checks the
# figures of the month they were given in even if a month ends meanwhile.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/procs.sh"
ART=${QK_ARTIFACTS:-$(dirname "$QK")/artifacts}
mkdir -p "$ART"
# Every dashboard screen at the three sizes, for a reviewer to page through.
SCREENS=${QK_SCREENS:-$(dirname "$QK")/screens}/dashboard
export QUIZKIT_HOME="$WORK/kiosk"
if ! command -v node >/dev/null || [ ! -d "$TESTS/web/node_modules/playwright-core" ]; then
    fail "node and playwright-core are needed (scripts/install-deps.sh installs them)"
    finish
    exit 1
fi
mini_bundle
serve_test
adopt_server
branch_fixture 'm1,张三,b1,内科,1111\nm2,李晓红,b1,内科,2222\nm3,王五,b1,护理部,3333\nm4,赵六,b1,护理部,4444\nm9,周九,b2,内科,9999\n'
"$QK" enroll "$URL" "$(A code --branch b1 | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1)" --name kiosk >/dev/null 2>&1 || fail "enrol"
"$QK" sync >/dev/null 2>&1 || fail "roster sync"
# m1 answers all right, m2 one wrong; m3 and m4 do not take part this month.
server_ms() { node -e 'fetch(process.argv[1] + "/api/v1/time").then(r => r.json()).then(j => console.log(j.server_ms))' "$URL"; }
PLAYS_FROM=$(server_ms)
printf '1111\nB\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq --member m1 >/dev/null 2>&1
printf '2222\nA\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq --member m2 >/dev/null 2>&1
"$QK" sync >/dev/null 2>&1 || fail "sync the answers"
PLAYS_TO=$(server_ms)

spawn node "$TESTS/web/dashboard.mjs" "$URL" li leader-pass-1 admin "$ADMIN_PW" "$ART" "$SCREENS" "$PLAYS_FROM" "$PLAYS_TO" \
    >"$WORK/web" 2>&1
reap "$LAST_PID"
cat "$WORK/web"
PASSES=$((PASSES + $(grep -c '^ok - ' "$WORK/web")))
FAILS=$((FAILS + $(grep -c '^FAIL - ' "$WORK/web")))
grep -q ' passed, ' "$WORK/web" || fail "the browser test ran to its end (status $REAPED)"

# The downloaded report, read back from its XML.
python3 - "$ART/report.xlsx" >"$WORK/x" 2>&1 <<'PY'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
strings = re.findall(r"<t[^>]*>([^<]*)</t>", z.read("xl/sharedStrings.xml").decode())
cells = dict(re.findall(r'<c r="([A-Z]+[0-9]+)"[^>]*><v>([^<]*)</v>', z.read("xl/worksheets/sheet2.xml").decode()))
print(" ".join(names))
print("王五" in strings, "赵六" in strings, "周九" in strings)
print(cells.get("C2"), cells.get("D2"), cells.get("E2"))
sheet = z.read("xl/worksheets/sheet5.xml").decode()
print(" ".join(strings[int(v)] for v in re.findall(r'<c r="[AB][0-9]+"[^>]*t="s"[^>]*><v>([^<]*)</v>', sheet)))
PY
expect_eq "the downloaded report has every sheet" "$(sed -n 1p "$WORK/x")" "汇总 参与率 成员 未参与 主题与竞赛 每周趋势 逐题分析 存疑记录"
expect_eq "with the Chinese names of those who did not take part, not another branch's" "$(sed -n 2p "$WORK/x")" "True True False"
expect_eq "and the branch's figures (roster, active, rate)" "$(sed -n 3p "$WORK/x")" "4 2 50"
expect_eq "its themes sheet names the theme and the way it was taken, not their codes" "$(sed -n 4p "$WORK/x")" "主题或竞赛 方式 测试主题 练习"
expect_contains "the dashboard's requests are in the server log" "$SRV/log" "path=/vendor/chart.js status=200"
expect_contains "and the pages' calendar (web/common)" "$SRV/log" "path=/common/calendar.js status=200"
finish
