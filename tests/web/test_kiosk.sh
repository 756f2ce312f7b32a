#!/usr/bin/env bash
# The kiosk (issue 8) in a real browser: `quizkit kiosk` on loopback with the
# sample bundle and three members; tests/web/kiosk.mjs walks it. Screenshots
# of every screen, each at 1080×1920, 1920×1080 and 390×844, go to
# $QK_SCREENS/kiosk (default build/screens/kiosk), numbered in the walk's
# order, beside the dashboard's, with build/screens/index.html to page through.
#
# The walk runs on whatever clock the environment sets (QUIZKIT_NOW and
# QUIZKIT_NOW_SINCE are inherited: a date sweep runs it at midnights and month
# ends). Two things need a date of their own, each on its own clock and data:
# the themed-day home screen (5 March, 学雷锋纪念日), and a daily quiz left
# unfinished on 2 December that the next day's kiosk finishes on its own day
# (kiosk.mjs starts and stops those kiosks itself).
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/procs.sh"
SCREENS=${QK_SCREENS:-$(dirname "$QK")/screens}/kiosk
"$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1 || fail "member m1"
"$QK" member add m2 --name 李四 --pin 5678 >/dev/null 2>&1 || fail "member m2"
# A member id with a letter, signed in on the keypad (issue 15, item 5).
"$QK" member add A12 --name 王医生 --pin 2468 >/dev/null 2>&1 || fail "member A12"
# Another, to walk that again when Beijing midnight passes on the way.
"$QK" member add B34 --name 赵护士 --pin 1357 >/dev/null 2>&1 || fail "member B34"
spawn "$QK" kiosk --port 0 --port-file "$WORK/port" --idle 12 --log "$WORK/log" >"$WORK/out" 2>&1
KPID=$LAST_PID
wait_file "$WORK/port" || { fail "the kiosk started: $(cat "$WORK/out")"; finish; exit 1; }
URL="http://127.0.0.1:$(cat "$WORK/port")/"

if ! command -v node >/dev/null || [ ! -d "$TESTS/web/node_modules/playwright-core" ]; then
    fail "node and playwright-core are needed (scripts/install-deps.sh installs them)"
    finish
    exit 1
fi
# A clock of its own, whatever the walk's is: env "${OWN_CLOCK[@]}" QUIZKIT_NOW=...
# (env execs the command, so the PID kept is the command's).
OWN_CLOCK=(-u QUIZKIT_NOW_SINCE -u QUIZKIT_NOW_RATE)
# The kiosk on 5 March, 10:00 Beijing time.
spawn env "${OWN_CLOCK[@]}" QUIZKIT_NOW=2027-03-05T10:00:00+08:00 QUIZKIT_HOME="$WORK/day" \
    "$QK" kiosk --port 0 --port-file "$WORK/port2" >"$WORK/out2" 2>&1
K2PID=$LAST_PID
URL2=""
if wait_file "$WORK/port2"; then
    URL2="http://127.0.0.1:$(cat "$WORK/port2")/"
else
    fail "the 5 March kiosk started: $(cat "$WORK/out2")"
fi
# A member of the kiosks that kiosk.mjs starts for the unfinished daily quiz.
mkdir -p "$WORK/daily"
env "${OWN_CLOCK[@]}" QUIZKIT_NOW=2026-12-02T20:00:00+08:00 QUIZKIT_HOME="$WORK/daily" \
    "$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1 || fail "member m1 of the daily kiosks"

# A kiosk with a theme of fill-in questions only (issue 15, item 2: answered
# with the touch screen alone), and choice questions in another theme whose
# options give the pads other characters; m1 is a member there too.
FILL="$WORK/fill"
mkdir -p "$FILL/src"
cat >"$FILL/src/bundle.json" <<'JSON'
{"id": "test.fill", "version": "1", "title": "填空测试题库", "language": "zh-CN",
 "themes": [{"id": "tiankong", "title": "填空练习", "guests": true},
            {"id": "xuanze", "title": "选择练习", "guests": true}],
 "files": ["fill.json", "choice.json"]}
JSON
cat >"$FILL/src/fill.json" <<'JSON'
{"theme": "tiankong", "questions": [
 {"id": "tk-1", "type": "fill", "stem": "雷锋同志的原名是____。", "answer": [["雷正兴"]],
  "explanation": "雷锋原名雷正兴，参加工作后改名雷锋。"},
 {"id": "tk-2", "type": "fill", "stem": "中国医师节是每年的____月____日。", "answer": [["8", "八"], ["19", "十九"]],
  "explanation": "2018年起，每年8月19日为中国医师节。"},
 {"id": "tk-3", "type": "fill", "stem": "《中国医学生誓言》的第一句是：“健康所系，____相托。”", "answer": [["性命"]],
  "explanation": "誓言开头是“健康所系，性命相托”。"}]}
JSON
cat >"$FILL/src/choice.json" <<'JSON'
{"theme": "xuanze", "questions": [
 {"id": "xz-1", "type": "single", "stem": "国际护士节是每年的哪一天？", "options": ["5月12日", "3月5日", "7月1日", "8月19日"],
  "answer": "A", "explanation": "5月12日是南丁格尔的生日，定为国际护士节。"},
 {"id": "xz-2", "type": "single", "stem": "家庭医生签约服务面向哪些人？", "options": ["辖区内的常住居民", "只有老年人", "只有儿童", "只有党员"],
  "answer": "A", "explanation": "家庭医生签约服务面向辖区内的常住居民，重点人群优先。"}]}
JSON
test_key
"$QK" bundle build "$FILL/src" -o "$FILL/fill.qkb" --key "$WORK/pub.key" --quiet >"$FILL/o" 2>&1 || fail "build the fill-in bundle: $(cat "$FILL/o")"
env QUIZKIT_HOME="$FILL/home" "$QK" trust add "$WORK/pub.pub" >/dev/null 2>&1 || fail "trust the test key"
env QUIZKIT_HOME="$FILL/home" "$QK" bundle install "$FILL/fill.qkb" >/dev/null 2>&1 || fail "install the fill-in bundle"
env QUIZKIT_HOME="$FILL/home" "$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1 || fail "member m1 of the fill-in kiosk"
spawn env QUIZKIT_HOME="$FILL/home" "$QK" kiosk --bundle test.fill --port 0 --port-file "$FILL/port" >"$FILL/out" 2>&1
K3PID=$LAST_PID
URL3=""
if wait_file "$FILL/port"; then
    URL3="http://127.0.0.1:$(cat "$FILL/port")/"
else
    fail "the fill-in kiosk started: $(cat "$FILL/out")"
fi

spawn node "$TESTS/web/kiosk.mjs" "$URL" "$SCREENS" "$URL2" "$QK" "$WORK/daily" "$URL3" >"$WORK/web" 2>&1
reap "$LAST_PID"
cat "$WORK/web"
PASSES=$((PASSES + $(grep -c '^ok - ' "$WORK/web")))
FAILS=$((FAILS + $(grep -c '^FAIL - ' "$WORK/web")))
grep -q ' passed, ' "$WORK/web" || fail "the browser test ran to its end (status $REAPED)"
stop "$KPID"
stop "$K2PID"
stop "$K3PID"

# What the walk left in the progress file: the guest's quiz without a member,
# the member's daily quiz, the half-done practice.
expect_eq "a guest attempt, with no member id" \
    "$(sql "select count(*) from events where kind='attempt.finish' and member_id is null")" 1
expect_eq "m1's daily quiz, finished" \
    "$(sql "select count(*) from events e where kind='attempt.finish' and member_id='m1' and exists (select 1 from events s where s.attempt_id=e.attempt_id and s.kind='attempt.start' and json_extract(s.payload,'\$.mode')='daily')")" 1
expect_eq "one practice left unfinished (resumed, not restarted)" \
    "$(sql "select count(*) from events s where kind='attempt.start' and member_id='m1' and json_extract(payload,'\$.mode')='practice' and not exists (select 1 from events f where f.attempt_id=s.attempt_id and f.kind='attempt.finish')")" 1
expect_contains "the kiosk logs each request" "$WORK/log" "path=/api/login status=401"
expect_contains "and serves the pages' calendar (web/common)" "$WORK/log" "path=/common/calendar.js status=200"
# The daily quiz of 2 December, finished by the kiosk of 3 December: on its
# own day, as expired, and a new one for the new day.
DDB="$WORK/daily/progress.db"
if [ -f "$DDB" ]; then
    expect_eq "2 December's daily quiz was finished as expired, by the next day's kiosk" \
        "$(sqlite3 "$DDB" "select json_extract(s.payload,'\$.day') || ' ' || json_extract(f.payload,'\$.reason') from events s join events f on f.attempt_id=s.attempt_id and f.kind='attempt.finish' where s.kind='attempt.start' and json_extract(s.payload,'\$.mode')='daily'")" \
        "2026-12-02 expired"
    expect_eq "and 3 December has a daily quiz of its own" \
        "$(sqlite3 "$DDB" "select group_concat(json_extract(payload,'\$.day'), ' ') from (select payload from events where kind='attempt.start' and json_extract(payload,'\$.mode')='daily' order by created_ms)")" \
        "2026-12-02 2026-12-03"
else
    fail "the daily kiosks left their progress file"
fi
finish
