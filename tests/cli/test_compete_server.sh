#!/usr/bin/env bash
# Issue 6's whole story: four members play a 4-player hot-seat round on one
# kiosk with no network; another member plays on a phone (and one member a
# second time there); both sync; the branch leaderboard on the server ranks
# them all with points the server computed itself, counts one entry per
# member, catches a tampered total, and keeps branches apart.
. "$(dirname "$0")/lib.sh"
export QUIZKIT_HOME="$WORK/kiosk"
mini_bundle
# The server's workbooks are made in $TMPDIR (checked below)
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"
serve_test
branch_fixture 'm1,张三,b1,内科,1111\nm2,李四,b1,内科,2222\nm3,王五,b1,护理部,3333\nm4,赵六,b1,护理部,4444\nm5,孙七,b1,药房,5555\nm9,周九,b2,内科,9999\n'
code() { A code --branch "$1" | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1; }
json_start
# Statistics are asked for over the days that hold the attempts: from the day
# the first began to the day asked (midnight or a month's end may pass between).
FROM=$(clock_date)
period() { echo --from "$FROM" --to "$(clock_date)"; }

# The kiosk enrols and syncs once (for the roster), then the network is gone.
"$QK" enroll "$URL" "$(code b1)" --name kiosk >/dev/null 2>&1 || fail "enrol kiosk"
"$QK" sync >/dev/null 2>&1 || fail "first kiosk sync"

# Four members, one screen: PINs, then turn by turn (Enter, answer), a hand-over
# Enter between players and after each scoreboard.
hotseat_input() {
    printf '1111\n2222\n3333\n4444\n'
    # question 1: m1 right, m2 right, m3 wrong, m4 right; question 2: all right
    for q in 1 2; do
        for p in 1 2 3 4; do
            ans=对; [ "$q$p" = 13 ] && ans=错
            printf '\n%s\n' "$ans"
            [ "$p" -lt 4 ] && printf '\n'
        done
        [ "$q" -lt 2 ] && printf '\n'
    done
}
hotseat_input | "$QK" compete hotseat mini-cup --players m1,m2,m3,m4 --preset 4p >"$WORK/h" 2>&1
expect_eq "4-player hot-seat on the kiosk" "$?" 0
expect_contains "a podium of four" "$WORK/h" "第 4 名"
expect_eq "four entries in the kiosk's log" \
    "$(sql "select count(*) from events where kind='attempt.finish' and json_extract(payload,'\$.competition')='mini-cup'")" 4

# A phone of the same branch: m5 plays there, and m1 a second time.
PHONE="$WORK/phone"
"$QK" --data-dir "$PHONE" bundle install "$WORK/mini.qkb" >/dev/null 2>&1
"$QK" --data-dir "$PHONE" trust add "$WORK/pub.pub" >/dev/null 2>&1
"$QK" --data-dir "$PHONE" bundle install "$WORK/mini.qkb" >/dev/null 2>&1
"$QK" --data-dir "$PHONE" enroll "$URL" "$(code b1)" --name phone >/dev/null 2>&1 || fail "enrol phone"
"$QK" --data-dir "$PHONE" sync >/dev/null 2>&1
printf '5555\n\n对\n对\n' | "$QK" --data-dir "$PHONE" compete start mini-cup --member m5 >"$WORK/p5" 2>&1
expect_eq "m5 plays on the phone" "$?" 0
printf '1111\n\n对\n对\n' | "$QK" --data-dir "$PHONE" compete start mini-cup --member m1 >"$WORK/p1" 2>&1
expect_eq "m1 can play again on another device (it does not know)" "$?" 0
# The phone claims a total its answers do not give (the log edited by hand).
sqlite3 "$PHONE/progress.db" "drop trigger events_no_update;
  update events set payload = json_set(payload, '\$.comp_points', 99999)
  where kind = 'attempt.finish' and member_id = 'm5'"

# A kiosk of the other branch.
OTHER="$WORK/other"
"$QK" --data-dir "$OTHER" trust add "$WORK/pub.pub" >/dev/null 2>&1
"$QK" --data-dir "$OTHER" bundle install "$WORK/mini.qkb" >/dev/null 2>&1
"$QK" --data-dir "$OTHER" enroll "$URL" "$(code b2)" --name other >/dev/null 2>&1 || fail "enrol other"
"$QK" --data-dir "$OTHER" sync >/dev/null 2>&1
printf '9999\n\n对\n对\n' | "$QK" --data-dir "$OTHER" compete start mini-cup --member m9 >/dev/null 2>&1

# The network is back.
"$QK" --data-dir "$PHONE" sync >"$WORK/s" 2>&1 || fail "phone sync: $(cat "$WORK/s")"
"$QK" sync >"$WORK/s" 2>&1 || fail "kiosk sync: $(cat "$WORK/s")"
"$QK" --data-dir "$OTHER" sync >/dev/null 2>&1 || fail "other sync"
"$QK" --data-dir "$PHONE" sync >/dev/null 2>&1 # again, to fetch the board with the kiosk's entries

LT=$(curl -s --data-binary '{"user":"li","password":"leader-pass-1"}' "$URL/api/v1/login" |
    python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
curl -s -H "Authorization: Bearer $LT" "$URL/api/v1/competitions/mini-cup/leaderboard" >"$WORK/board.json"
board() { jv "$WORK/board.json" "$1"; }
expect_eq "the branch board has all five members" "$(board "len(b['entries'])")" 5
expect_eq "ranked by points, then answer time" \
    "$(board "all((x['points'], -x['answer_ms']) >= (y['points'], -y['answer_ms']) for x, y in zip(b['entries'], b['entries'][1:]))")" True
expect_eq "ranks start at 1" "$(board "b['entries'][0]['rank']")" 1
expect_eq "m3 (one wrong) is last" "$(board "b['entries'][-1]['member_id']")" m3
expect_eq "m1 counts once: the kiosk entry, the first finished" \
    "$(board "[e['device_id'] for e in b['entries'] if e['member_id']=='m1'][0]")" \
    "$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["device_id"])' "$QUIZKIT_HOME/server.json")"
expect_eq "the tampered total is not trusted" "$(board "[e['points'] for e in b['entries'] if e['member_id']=='m5'][0] < 3000")" True
expect_eq "and it is flagged" "$(board "[e['mismatch'] for e in b['entries'] if e['member_id']=='m5'][0]")" True
expect_eq "the other branch is not in this board" "$(board "'m9' in [e['member_id'] for e in b['entries']]")" False
expect_eq "teams: none for this competition" "$(board "b['competition']['teams']")" none
expect_eq "the server stored its own points for every entry" \
    "$(sqlite3 "$SRV/server.db" "select count(*) from attempt_scores where competition='mini-cup' and server_points is not null")" 7
expect_eq "points match the devices' for untampered entries" \
    "$(sqlite3 "$SRV/server.db" "select count(*) from attempt_scores where competition='mini-cup' and mismatch = 0")" 6

AT=$(curl -s --data-binary "{\"user\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$URL/api/v1/login" |
    python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
curl -s -H "Authorization: Bearer $AT" "$URL/api/v1/competitions/mini-cup/leaderboard" >"$WORK/board.json"
expect_eq "an admin sees both branches" "$(board "len(b['entries'])")" 6
expect_eq "a leader cannot ask for another branch" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $LT" "$URL/api/v1/competitions/mini-cup/leaderboard?branch=b2")" 403
expect_eq "unknown competition" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $LT" "$URL/api/v1/competitions/nope/leaderboard")" 404

# A leader publishes a competition for the branch; its kiosks receive it.
R() { QUIZKIT_PASSWORD=leader-pass-1 "$QK" admin "$@" --server "$URL" --user li; }
printf '{"id": "b1-yuedu", "title": "一支部月度竞赛", "questions": ["q3", "u1"], "seconds": 25}\n' >"$WORK/comp.json"
R competition add "$WORK/comp.json" --bundle test.mini >"$WORK/o" 2>&1
expect_contains "leader publishes a competition" "$WORK/o" "已发布竞赛"
R competition add "$WORK/comp.json" --bundle test.mini >"$WORK/o" 2>&1
expect_contains "the same id twice is refused" "$WORK/o" "服务器回答 409"
printf '{"id": "x", "title": "x", "questions": ["nope"]}\n' >"$WORK/bad.json"
R competition add "$WORK/bad.json" --bundle test.mini >"$WORK/o" 2>&1
expect_contains "questions must be in the bundle" "$WORK/o" "不在题库 test.mini 的最新版本中"
R competition add "$WORK/comp.json" --bundle nope >"$WORK/o" 2>&1
expect_contains "the bundle must be published" "$WORK/o" "服务器回答 404"
R competition add "$WORK/comp.json" --bundle test.mini --branch b2 >"$WORK/o" 2>&1
expect_contains "a leader publishes for own branch only" "$WORK/o" "服务器回答 403"
# The same bundle file published again through the server: said so, nothing changed
R bundle publish "$WORK/mini.qkb" >"$WORK/o" 2>&1
expect_eq "publishing the same file again succeeds" "$?" 0
expect_contains "and says it was published before, by whom" "$WORK/o" "test.mini 版本 1 已经发布过（同一个文件，"
expect_contains "by whom: the account that ran the command, on its machine" "$WORK/o" "由 $(id -un 2>/dev/null || echo "uid$(id -u)")@$(uname -n | cut -d. -f1) 发布），没有改动"
expect_not_contains "not 'published' as new" "$WORK/o" "已发布 test.mini"
"$QK" sync >/dev/null 2>&1
"$QK" compete list >"$WORK/o" 2>&1
expect_contains "the kiosk received it" "$WORK/o" "一支部月度竞赛"
printf '2222\n\n对\n对\n' | "$QK" compete start b1-yuedu --member m2 >"$WORK/o" 2>&1
expect_eq "and plays it" "$?" 0
"$QK" sync >/dev/null 2>&1
curl -s -H "Authorization: Bearer $LT" "$URL/api/v1/competitions/b1-yuedu/leaderboard" >"$WORK/board.json"
expect_eq "the server scored the published competition" "$(board "b['entries'][0]['member_id'], b['entries'][0]['points'] > 0, b['entries'][0]['mismatch']")" "m2 True False"
"$QK" --data-dir "$OTHER" sync >/dev/null 2>&1
"$QK" --data-dir "$OTHER" compete list >"$WORK/o" 2>&1
expect_not_contains "another branch does not receive it" "$WORK/o" "一支部月度竞赛"

# Team rankings by department: the roster's departments reach the kiosk, and
# the server ranks departments by their members' mean points.
printf '{"id": "b1-keshi", "title": "科室对抗赛", "questions": ["q3", "u1"], "seconds": 25, "teams": "dept"}\n' >"$WORK/keshi.json"
R competition add "$WORK/keshi.json" --bundle test.mini >/dev/null 2>&1
"$QK" sync >/dev/null 2>&1
printf '1111\n\n对\n对\n' | "$QK" compete start b1-keshi --member m1 >/dev/null 2>&1
printf '2222\n\n对\n对\n' | "$QK" compete start b1-keshi --member m2 >/dev/null 2>&1
printf '3333\n\n对\n错\n' | "$QK" compete start b1-keshi --member m3 >/dev/null 2>&1
"$QK" compete board b1-keshi >"$WORK/o" 2>&1
expect_contains "the kiosk's own board shows departments" "$WORK/o" "护理部"
"$QK" sync >/dev/null 2>&1
curl -s -H "Authorization: Bearer $LT" "$URL/api/v1/competitions/b1-keshi/leaderboard" >"$WORK/board.json"
expect_eq "departments ranked by mean points" "$(board "[(t['team'], t['members']) for t in b['teams']]")" "[('内科', 2), ('护理部', 1)]"

# Branch statistics from the server, for the leader only for their branch.
S() { QUIZKIT_PASSWORD=leader-pass-1 "$QK" stats "$@" --server "$URL" --user li; }
S participation --json $(period) >"$WORK/p.json" 2>&1
expect_eq "the leader's branch: five on the roster, all took part" \
    "$(python3 -c 'import json,sys;r=json.load(open(sys.argv[1]))["rows"][0];print(r[2], r[3], r[4])' "$WORK/p.json")" "5 5 100.0"
QUIZKIT_PASSWORD=leader-pass-1 "$QK" --data-dir "$WORK/leader" stats participation --server "$URL" --user li \
    $(period) >/dev/null 2>&1
expect_eq "a leader asking the server gets figures" "$?" 0
expect_eq "and no progress file (nor device id) of their own made for it" "$(ls -A "$WORK/leader" 2>/dev/null)" ""
# a leader's machine holds no bundle: the server's tables come with titles
QUIZKIT_PASSWORD=leader-pass-1 "$QK" --data-dir "$WORK/leader" stats themes --server "$URL" --user li \
    $(period) >"$WORK/th.txt" 2>&1
expect_contains "a competition by its title on a machine without the bundle" "$WORK/th.txt" "测试杯"
expect_not_contains "not by its id" "$WORK/th.txt" "mini-cup"
QUIZKIT_PASSWORD=leader-pass-1 "$QK" --data-dir "$WORK/leader" stats themes --json --server "$URL" --user li \
    $(period) >"$WORK/th.json" 2>&1
expect_contains "--json keeps the ids (for programs)" "$WORK/th.json" '"mini-cup"'
expect_eq "still nothing of their own made" "$(ls -A "$WORK/leader" 2>/dev/null)" ""
S inactive --json $(period) >"$WORK/i.json" 2>&1
expect_eq "nobody in b1 left out" "$(python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1]))["rows"]))' "$WORK/i.json")" 0
S flagged --json $(period) >"$WORK/f.json" 2>&1
expect_eq "the tampered entry is listed apart, with both totals" \
    "$(python3 -c 'import json,sys;r=json.load(open(sys.argv[1]))["rows"];print([(x[1], x[4], x[8] != x[9]) for x in r if x[10]])' "$WORK/f.json")" \
    "[('m5', 'mini-cup', True)]"
expect_eq "every listed entry is doubtful (scores differ, too fast or outside the window)" \
    "$(python3 -c 'import json,sys;r=json.load(open(sys.argv[1]))["rows"];print(len(r) > 0 and all(x[10] or x[11] or x[12] for x in r))' "$WORK/f.json")" True
S flagged $(period) >"$WORK/f.txt" 2>&1
expect_contains "its table's last columns apart (14 of them)" "$WORK/f.txt" "不在竞赛时段  终端"
expect_eq "every line of the table as wide as its header up to the last column" \
    "$(python3 -c 'import sys,unicodedata as u
w=lambda s: sum(2 if u.east_asian_width(ch) in "WF" else 1 for ch in s)
ls=[l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
i=[k for k, l in enumerate(ls) if "不在竞赛时段" in l][0]; h=ls[i]; at=w(h[:h.rindex("终端")])
rows=[l for l in ls[i+1:] if l.startswith(("20", "-"))]
print(len(rows) > 0 and all(w(l[:len(l)-len(l.split()[-1])]) == at for l in rows))' "$WORK/f.txt" 2>&1)" True
S flagged --month 2020-01 >"$WORK/f0" 2>&1
expect_eq "no flagged attempts in a month: exit 0" "$?" 0
expect_contains "no flagged attempts: one line that says so" "$WORK/f0" "这段时间没有被标记的答题：服务器复核过的得分都与终端一致。"
expect_not_contains "no flagged attempts: no headers over nothing" "$WORK/f0" "终端得分"
"$QK" stats flagged --local >"$WORK/o" 2>&1
expect_eq "a kiosk cannot list flagged attempts (it does not re-score)" "$?" 1
expect_contains "and says to ask the server" "$WORK/o" "--server"
S members --branch b2 >"$WORK/o" 2>&1
expect_contains "another branch's figures are refused" "$WORK/o" "服务器回答 403"
QUIZKIT_PASSWORD="$ADMIN_PW" "$QK" stats participation --json $(period) \
    --server "$URL" --user admin >"$WORK/a.json" 2>&1
expect_eq "an admin sees every branch" "$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["rows"][0][2])' "$WORK/a.json")" 6
expect_eq "and the branches side by side (roster, active)" \
    "$(python3 -c 'import json,sys;print([(r[1], r[2], r[3]) for r in json.load(open(sys.argv[1]))["rows"] if r[0] == "支部"])' "$WORK/a.json")" \
    "[('第一党支部（b1）', 5, 5), ('第二党支部（b2）', 1, 1)]"
expect_eq "a leader's own figures have no branch rows" \
    "$(python3 -c 'import json,sys;print(sum(r[0] == "支部" for r in json.load(open(sys.argv[1]))["rows"]))' "$WORK/p.json")" 0
curl -s -o "$WORK/api.csv" -H "Authorization: Bearer $LT" "$URL/api/v1/stats/members?format=csv"
expect_eq "CSV from the API starts with the BOM" "$(head -c 3 "$WORK/api.csv" | od -An -tx1 | tr -d ' \n')" efbbbf
expect_contains "and holds the branch's members" "$WORK/api.csv" "孙七"
# Themes and competitions as people read them: in CSV and Excel the
# competition a leader published and the bundle's themes by title, the modes
# in words; the JSON keeps the ids for programs.
# (the test's own period: a month may end while it runs)
SPAN="from=$FROM&to=$(clock_date)"
# rounded figures travel as written (33.3), not as the nearest double's 17 digits
curl -s -H "Authorization: Bearer $LT" "$URL/api/v1/stats/themes?$SPAN" >"$WORK/themes.json"
expect_eq "the API's figures are as rounded" \
    "$(python3 -c 'import re,sys;t=open(sys.argv[1]).read();print(len(re.findall(r"\d\.\d+", t)) > 0, re.findall(r"\d\.\d{4,}", t))' "$WORK/themes.json")" "True []"
curl -s -o "$WORK/themes.csv" -H "Authorization: Bearer $LT" "$URL/api/v1/stats/themes?format=csv&$SPAN"
expect_contains "the themes CSV names the branch's competition" "$WORK/themes.csv" "一支部月度竞赛,竞赛"
expect_not_contains "not by its id" "$WORK/themes.csv" "b1-yuedu"
expect_not_contains "and no mode codes" "$WORK/themes.csv" "practice"
curl -s -o "$WORK/parts.csv" -H "Authorization: Bearer $LT" "$URL/api/v1/stats/participation?format=csv&$SPAN"
expect_contains "the participation CSV names it too" "$WORK/parts.csv" "竞赛,一支部月度竞赛"
expect_contains "the themes JSON keeps the id" \
    <(curl -s -H "Authorization: Bearer $LT" "$URL/api/v1/stats/themes?$SPAN") '"b1-yuedu"'
curl -s -o "$WORK/api.xlsx" -H "Authorization: Bearer $LT" "$URL/api/v1/stats/trend?format=xlsx"
expect_eq "XLSX from the API" "$(python3 -c 'import sys,zipfile;print(len([n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("xl/worksheets/")]))' "$WORK/api.xlsx")" 2
expect_eq "and no workbook left behind in TMPDIR" "$(ls -A "$TMPDIR" | grep -c quizkit-)" 0
# with TMPDIR not a folder the server says so, and where
mv "$TMPDIR" "$WORK/tmp.kept" && : >"$TMPDIR"
expect_eq "a workbook the server cannot make is a 500" \
    "$(curl -s -o "$WORK/b" -w '%{http_code}' -H "Authorization: Bearer $LT" "$URL/api/v1/stats/trend?format=xlsx")" 500
expect_contains "naming its TMPDIR" "$WORK/b" "$TMPDIR: Not a directory"
rm -f "$TMPDIR" && mv "$WORK/tmp.kept" "$TMPDIR"
DT=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["token"])' "$QUIZKIT_HOME/server.json")
expect_eq "devices get no statistics" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $DT" "$URL/api/v1/stats/members")" 403
expect_eq "bad dates are named" "$(curl -s -o "$WORK/b" -w '%{http_code}' -H "Authorization: Bearer $LT" "$URL/api/v1/stats/members?from=2026-13-01")" 400
expect_contains "as not a date, with the value" "$WORK/b" "字段 from 不是有效的日期（YYYY-MM-DD）：2026-13-01"
expect_eq "a value that is not UTF-8 is a 400 too (not a 500)" "$(curl -s -o "$WORK/b" -w '%{http_code}' -H "Authorization: Bearer $LT" "$URL/api/v1/stats/members?from=%FF%FE")" 400
expect_contains "not quoted back" "$WORK/b" "字段 from 不是有效的日期（YYYY-MM-DD）：…"
expect_eq "a period that ends before it begins: 400" "$(curl -s -o "$WORK/b" -w '%{http_code}' -H "Authorization: Bearer $LT" "$URL/api/v1/stats/members?from=2026-03-31&to=2026-03-01")" 400
expect_contains "saying so with both days" "$WORK/b" "期间的结束 2026-03-01 早于开始 2026-03-31"
QUIZKIT_PASSWORD=leader-pass-1 "$QK" report --xlsx "$WORK/branch.xlsx" --server "$URL" --user li 2>"$WORK/e"
expect_eq "the monthly report from the server" "$?" 0
expect_eq "with every sheet" "$(python3 -c 'import sys,zipfile;print(len([n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("xl/worksheets/")]))' "$WORK/branch.xlsx")" 8

# Offline again, the devices show the branch board from their last sync.
"$QK" --data-dir "$PHONE" compete board mini-cup >"$WORK/o" 2>&1
expect_contains "phone shows the server's board, the branch by name" "$WORK/o" "支部排行榜（服务器计分，支部 第一党支部"
expect_contains "with the kiosk's players" "$WORK/o" "赵六"
finish
