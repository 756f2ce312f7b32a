#!/usr/bin/env bash
# The kiosk's local API with the real kiosk server: every endpoint, and bad
# input answered with a 4xx JSON error that says what is wrong (malformed
# JSON, wrong member, locked PIN, expired session, guests outside their
# themes); the API listens on 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"
"$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1
"$QK" member add m2 --name 李四 --pin 5678 >/dev/null 2>&1
"$QK" member add m3 --name 王五 --pin 2468 >/dev/null 2>&1
"$QK" member add A12 --name 周医生 --pin 1357 >/dev/null 2>&1
# Competitions as a leader would publish them for the branch: a members-only
# one without a window, one for the week of 学雷锋纪念日 2027 and one that
# closed at the end of 2026 (the sample bundle's own are always open).
comp() { printf "('%s', 'cn.quizkit.samples', '%s', 0)" "$1" "$2"; }
sql "insert into competitions(id, bundle_id, spec, received_ms) values
  $(comp members-only '{"id":"members-only","title":"党员专场","theme":"jiankang","count":3,"seconds":20,"attempts":1}'),
  $(comp leifeng-week '{"id":"leifeng-week","title":"学雷锋周竞赛","theme":"leifeng","count":3,"seconds":20,"opens":"2027-03-05 08:00","closes":"2027-03-12 20:00"}'),
  $(comp autumn-2026 '{"id":"autumn-2026","title":"秋季竞赛","theme":"dangzhang","count":3,"seconds":20,"opens":"2026-11-01 08:00","closes":"2026-12-31 20:00"}')"
json_start
spawn "$QK" kiosk --port 0 --port-file "$WORK/port" --idle 300 >"$WORK/out" 2>&1
KPID=$LAST_PID
wait_file "$WORK/port" || fail "the kiosk started: $(cat "$WORK/out")"
K="http://127.0.0.1:$(cat "$WORK/port")"
expect_contains "it says where it runs" "$WORK/out" "一体机界面已启动：http://127.0.0.1:"

# call METHOD PATH [BODY] [TOKEN]: prints the status, the body goes to $WORK/b
call() {
    curl -s -o "$WORK/b" -w '%{http_code}' -X "$1" ${4:+-H "X-Kiosk-Session: $4"} ${3:+--data-binary "$3"} "$K$2"
}
j() { jv "$WORK/b" "$1"; }
# a readable answer to the question in the last reply: 对, x in each blank, or A
answer() { j '{"judge": "对", "fill": "|".join(["x"] * d["item"]["blanks"])}.get(d["item"]["type"], "A")'; }
token() { call POST /api/login "{\"member\":\"$1\",\"pin\":\"$2\"}" >/dev/null; j 'd["token"]'; }

expect_eq "home" "$(call GET /api/home)" 200
expect_eq "home names the bundle and the idle time" "$(j 'd["bundle"]["id"], d["idle_seconds"]')" "cn.quizkit.samples 300"
expect_eq "the page itself" "$(call GET /)" 200
expect_contains "is the kiosk's" "$WORK/b" "党员学习一体机"
expect_eq "no way out of the web folder" "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$K/../../etc/passwd")" 404
expect_eq "unknown endpoint" "$(call GET /api/nope)" 404
expect_eq "with a JSON error" "$(j 'd["error"]["code"]')" not_found

expect_eq "malformed JSON" "$(call POST /api/login '{"member":')" 400
expect_eq "is named" "$(j 'd["error"]["code"]')" bad_json
expect_eq "a JSON array is not an object" "$(call POST /api/login '[1]')" 400
expect_eq "a missing field" "$(call POST /api/login '{"member":"m1"}')" 400
expect_contains "is named" "$WORK/b" "pin"
expect_eq "an unknown member" "$(call POST /api/login '{"member":"zz","pin":"1234"}')" 401
expect_contains "gets the same answer as a wrong PIN (ids are not revealed)" "$WORK/b" "编号或 PIN 不对"
for i in 1 2 3 4; do call POST /api/login '{"member":"m2","pin":"0000"}' >/dev/null; done
expect_contains "tries left are counted down" "$WORK/b" "再错 1 次"
expect_eq "the fifth wrong PIN locks" "$(call POST /api/login '{"member":"m2","pin":"0000"}')" 423
expect_contains "and says for how long" "$WORK/b" "5 分钟后再试"
expect_eq "the right PIN does not open a locked member" "$(call POST /api/login '{"member":"m2","pin":"5678"}')" 423

# Member ids compare without regard to case (issue 15, item 5): A12 signs in
# as typed on the keypad (A12) or in lower case, and the screen's member is
# A12 as added, whose records the quiz then writes.
expect_eq "A12 signs in as A12" "$(call POST /api/login '{"member":"A12","pin":"1357"}')" 200
expect_eq "and as a12, as the member added" "$(call POST /api/login '{"member":"a12","pin":"1357"}'; echo " $(j 'd["member"]["id"], d["member"]["name"]')")" "200 A12 周医生"
TA=$(j 'd["token"]')
call POST /api/quiz '{"mode":"practice","theme":"jiankang"}' "$TA" >/dev/null
call POST /api/quiz/answer "{\"response\":\"$(answer)\"}" "$TA" >/dev/null
expect_eq "the quiz of a12 is A12's" "$(sql "select group_concat(distinct member_id) from events where kind like 'attempt.%' or kind='answer'")" "A12"
call POST /api/logout "" "$TA" >/dev/null

T=$(token m1 1234)
expect_eq "a token of 64 hex digits" "${#T}" 64
expect_eq "themes" "$(call GET /api/themes "" "$T")" 200
expect_eq "a member sees every theme" "$(j 'len(d["themes"]) > 1')" True
expect_eq "me" "$(call GET /api/me "" "$T")" 200
expect_eq "me: who and the caps" "$(j 'd["member"]["name"], len(d["activities"])')" "张三 5"
expect_eq "no quiz yet" "$(call GET /api/quiz "" "$T")" 404
expect_eq "answering without a quiz" "$(call POST /api/quiz/answer '{"response":"A"}' "$T")" 404
expect_eq "a bad mode" "$(call POST /api/quiz '{"mode":"nap"}' "$T")" 400
expect_contains "is named" "$WORK/b" "nap"
expect_eq "an unknown theme" "$(call POST /api/quiz '{"mode":"practice","theme":"nope"}' "$T")" 404
expect_eq "a practice quiz starts" "$(call POST /api/quiz '{"mode":"practice","theme":"jiankang"}' "$T")" 200
expect_eq "with its first question" "$(j 'd["item"]["index"], d["done"]')" "0 False"
expect_eq "the current question again" "$(call GET /api/quiz "" "$T")" 200
A1=$(answer)
expect_eq "an empty answer is refused" "$(call POST /api/quiz/answer '{"response":""}' "$T")" 400
expect_eq "as unreadable" "$(j 'd["error"]["code"]')" bad_answer
expect_eq "an answer" "$(call POST /api/quiz/answer "{\"response\":\"$A1\"}" "$T")" 200
expect_eq "practice shows the feedback and the next question" "$(j '"correct" in d["feedback"], d["item"]["index"]')" "True 1"
expect_eq "no time left to expire outside a challenge" "$(call POST /api/quiz/expire "" "$T")" 409
expect_eq "finish" "$(call POST /api/quiz/finish "" "$T")" 200
expect_eq "the summary: 1 answered of the 10, reviewed alone (no answers to questions it never asked)" \
    "$(j 'd["answered"], d["total"], len(d["review"]), d["review"][0]["given"] is not None')" "1 10 1 True"
expect_eq "a challenge: one question at a time, each on its own clock" \
    "$(call POST /api/quiz '{"mode":"challenge"}' "$T"; echo; j 'd["item"]["mode"], 0 < d["item"]["remaining_ms"] <= 20000')" "200
challenge True"
expect_eq "its time cannot be declared over early" "$(call POST /api/quiz/expire "" "$T")" 409
expect_eq "the challenge ends" "$(call POST /api/quiz/finish "" "$T")" 200
expect_eq "with no review of the theme's questions it never asked (no answer sheet)" "$(j 'd["answered"], len(d["review"])')" "0 0"
expect_eq "the exam keeps its feedback for the end" "$(call POST /api/quiz '{"mode":"exam","theme":"jiankang"}' "$T")" 200
expect_eq "with a time limit" "$(j 'd["item"]["remaining_ms"] > 0')" True
call POST /api/quiz/answer "{\"response\":\"$(answer)\"}" "$T" >/dev/null
expect_eq "no feedback in an exam" "$(j 'd["feedback"]')" "{'reveal': False}"

G=$(call POST /api/guest >/dev/null; j 'd["token"]')
expect_eq "a guest sees only the residents' themes" "$(call GET /api/themes "" "$G"; echo; j '[t["id"] for t in d["themes"]]')" "200
['jiankang']"
expect_eq "a guest cannot take a members' theme" "$(call POST /api/quiz '{"mode":"practice","theme":"dangshi"}' "$G")" 403
expect_eq "nor the daily quiz" "$(call POST /api/quiz '{"mode":"daily"}' "$G")" 403
expect_eq "nor see a member's page" "$(call GET /api/me "" "$G")" 403
expect_eq "a guest quiz" "$(call POST /api/quiz '{"mode":"practice","theme":"jiankang"}' "$G")" 200
call POST /api/quiz/answer "{\"response\":\"$(answer)\"}" "$G" >/dev/null
expect_eq "keeps no member id" "$(sql "select count(*) from events where kind='answer' and member_id is null")" 1

expect_eq "lessons for a guest: the residents' theme only" "$(call GET /api/lessons "" "$G"; echo; j '[l["id"] for l in d["lessons"]]')" "200
['lesson-duty-scenario']"
expect_eq "a guest cannot open a members' lesson" "$(call POST /api/lesson '{"id":"lesson-leifeng-story"}' "$G")" 403
expect_eq "an unknown lesson" "$(call POST /api/lesson '{"id":"nope"}' "$G")" 404
expect_eq "no lesson open yet" "$(call POST /api/lesson/continue "" "$G")" 404
expect_eq "the scenario lesson opens" "$(call POST /api/lesson '{"id":"lesson-duty-scenario"}' "$G")" 200
expect_eq "on its first page" "$(j 'd["type"], d["step"]')" "page start"
expect_eq "a choice on a page is refused" "$(call POST /api/lesson/choose '{"index":0}' "$G")" 409
expect_eq "continue" "$(call POST /api/lesson/continue "" "$G")" 200
expect_eq "to the choice, with its options" "$(j 'd["type"], len(d["choices"])')" "choice 3"
expect_eq "a bad choice index" "$(call POST /api/lesson/choose '{"index":"x"}' "$G")" 400
expect_eq "one past the last choice" "$(call POST /api/lesson/choose '{"index":3}' "$G")" 409
expect_eq "a choice" "$(call POST /api/lesson/choose '{"index":0}' "$G")" 200
expect_eq "leads on, with its score" "$(j 'd["step"], d["score"]')" "assess 2"
expect_eq "an unknown picture" "$(call GET /api/media/nope.png)" 404
# A member's lesson left part-way continues at the next visit, on the same step.
T=$(token m3 2468)
call POST /api/lesson '{"id":"lesson-duty-scenario"}' "$T" >/dev/null
call POST /api/lesson/continue "" "$T" >/dev/null
call POST /api/lesson/choose '{"index":1}' "$T" >/dev/null
STEP=$(j 'd["step"]')
call POST /api/logout "" "$T" >/dev/null
T=$(token m3 2468)
expect_eq "a lesson left part-way resumes on its step, with its score" \
    "$(call POST /api/lesson '{"id":"lesson-duty-scenario"}' "$T"; echo; j 'd["resumed"], d["step"], d["score"]')" "200
True $STEP -1"
call POST /api/logout "" "$T" >/dev/null

expect_eq "logout" "$(call POST /api/logout "" "$G")" 200
expect_eq "ends the session" "$(call GET /api/themes "" "$G")" 401
expect_eq "a made-up token is refused" "$(call GET /api/themes "" "0123456789abcdef")" 401
# Idle sign-out, on a kiosk whose clock runs five times fast (--idle 10: two
# seconds of real time) in a data folder of its own.
QUIZKIT_HOME="$WORK/idle" "$QK" member add m1 --name 张三 --pin 1234 >/dev/null 2>&1
QUIZKIT_HOME="$WORK/idle" spawn env QUIZKIT_NOW="$(clock_now)" QUIZKIT_NOW_RATE=5 QUIZKIT_NOW_SINCE= \
    "$QK" kiosk --port 0 --port-file "$WORK/port4" --idle 10 >"$WORK/out4" 2>&1
K4PID=$LAST_PID
wait_file "$WORK/port4" || fail "the fast kiosk started: $(cat "$WORK/out4")"
KMAIN=$K
K="http://127.0.0.1:$(cat "$WORK/port4")"
T4=$(token m1 1234)
expect_eq "a session in use is open" "$(call GET /api/me "" "$T4")" 200
# Wait on the kiosk's own clock (home needs no session, so asking does not
# keep the session alive) until more than ten seconds have passed on it.
kiosk_ms() { curl -s "$K/api/home" >"$WORK/h4" && jv "$WORK/h4" 'd["now_ms"]'; }
LAST=$(kiosk_ms)
idle_passed() { [ "$(kiosk_ms)" -gt $((LAST + 10500)) ]; }
wait_until 20 idle_passed || fail "ten seconds passed on the fast kiosk's clock"
expect_eq "a session left idle past --idle expires" "$(call GET /api/me "" "$T4")" 401
expect_contains "and says so" "$WORK/b" "长时间未操作"
stop "$K4PID"
K=$KMAIN
T=$(token m1 1234)
expect_eq "the daily quiz does not resume an unfinished exam" "$(call POST /api/quiz '{"mode":"daily"}' "$T"; echo; j 'd["resumed"], d["item"]["mode"]')" "200
False daily"
call POST /api/logout "" "$T" >/dev/null
T=$(token m1 1234)
expect_eq "the unfinished exam resumes at the next login when the exam is chosen" "$(call POST /api/quiz '{"mode":"exam","theme":"jiankang"}' "$T"; echo; j 'd["resumed"], d["answered"], d["item"]["mode"]')" "200
True 1 exam"

ADDR=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$ADDR" ]; then
    curl -s -o /dev/null --max-time 3 "http://$ADDR:$(cat "$WORK/port")/api/home"
    expect_eq "nothing answers on the machine's network address ($ADDR)" "$?" 7
else
    ok "no network address on this machine: 127.0.0.1 is all there is"
fi
# Competitions: the open ones with their boards; a 4-player hot-seat game
# with a member and three guests, turn by turn, to the podium.
expect_eq "open competitions, with the one published for the branch" \
    "$(call GET /api/competitions; echo; j '"jiankang-changshe" in [c["id"] for c in d["competitions"]], "members-only" in [c["id"] for c in d["competitions"]]')" "200
True True"
expect_eq "a game needs 2 to 8 players" "$(call POST /api/hotseat '{"competition":"jiankang-changshe","players":[{"guest":true}]}')" 400
expect_eq "an unknown competition" "$(call POST /api/hotseat '{"competition":"nope","players":[{"guest":true},{"guest":true}]}')" 404
expect_eq "a player's wrong PIN stops the game before it starts" \
    "$(call POST /api/hotseat '{"competition":"jiankang-changshe","players":[{"member":"m1","pin":"0000"},{"guest":true}]}')" 401
expect_contains "naming the player" "$WORK/b" "m1"
expect_eq "the same member twice" \
    "$(call POST /api/hotseat '{"competition":"jiankang-changshe","players":[{"member":"m1","pin":"1234"},{"member":"m1","pin":"1234"}]}')" 400
expect_eq "guests cannot play a members-only competition" \
    "$(call POST /api/hotseat '{"competition":"members-only","players":[{"guest":true},{"guest":true}]}')" 409
expect_eq "a player must be {member, pin} or {guest: true}" \
    "$(call POST /api/hotseat '{"competition":"jiankang-changshe","players":[1,2]}')" 400
expect_eq "a member id must be text" \
    "$(call POST /api/hotseat '{"competition":"jiankang-changshe","players":[{"member":5},{"guest":true}]}')" 400
# A full kiosk turns a game away before it begins anyone's entry: m1 (one
# entry in jiankang-changshe) still plays the game after it.
full=()
for _ in $(seq 9); do
    [ "$(call POST /api/guest)" = 200 ] || break
    full+=("$(j 'd["token"]')")
done
expect_eq "a game on a full kiosk" \
    "$(call POST /api/hotseat '{"competition":"jiankang-changshe","players":[{"member":"m1","pin":"1234"},{"guest":true}]}')" 503
for t in "${full[@]}"; do call POST /api/logout "" "$t" >/dev/null; done
expect_eq "began no entry" \
    "$(sql "select count(*) from events where kind='attempt.start' and json_extract(payload,'\$.competition')='jiankang-changshe'")" 0
expect_eq "a 4-player game starts" \
    "$(call POST /api/hotseat '{"competition":"jiankang-changshe","players":[{"member":"m1","pin":"1234"},{"guest":true},{"guest":true},{"guest":true}]}')" 200
H=$(j 'd["token"]')
expect_eq "at the first player's handover" "$(j 'd["phase"], d["player"], d["total"], len(d["players"])')" "handover 张三 8 4"
expect_eq "no answer before the question is shown" "$(call POST /api/hotseat/answer '{"response":"A"}' "$H")" 409
expect_contains "the phase is named" "$WORK/b" "handover"
turns=0
for _ in $(seq 200); do
    call GET /api/hotseat "" "$H" >/dev/null
    phase=$(j 'd["phase"]')
    case "$phase" in
        handover) call POST /api/hotseat/reveal "" "$H" >/dev/null
                  call POST /api/hotseat/answer "{\"response\":\"$(answer)\"}" "$H" >/dev/null
                  turns=$((turns + 1)) ;;
        feedback|scoreboard) call POST /api/hotseat/continue "" "$H" >/dev/null ;;
        podium) break ;;
    esac
done
expect_eq "every player answered every question" "$turns" 32
expect_eq "the podium with the kiosk's board" "$(j 'd["phase"], len(d["board"]) >= 4')" "podium True"
expect_eq "four entries recorded, three without a member" \
    "$(sql "select count(*), sum(member_id is null) from events where kind='attempt.finish' and json_extract(payload,'\$.competition')='jiankang-changshe'")" "4|3"
T=$(token m3 2468)
expect_eq "a solo entry" "$(call POST /api/compete '{"id":"members-only"}' "$T"; echo; j 'd["item"]["mode"], 0 < d["item"]["remaining_ms"] <= 20000')" "200
competition True"
call POST /api/quiz/answer "{\"response\":\"$(answer)\"}" "$T" >/dev/null
expect_eq "each answer says its points and time" "$(j '"points" in d["feedback"], d["feedback"]["elapsed_ms"] >= 0')" "True True"
expect_eq "leaving part-way ends the entry with what was answered" "$(call POST /api/quiz/finish "" "$T"; echo; j 'd["mode"], d["answered"]')" "200
competition 1"
expect_eq "one entry only" "$(call POST /api/compete '{"id":"members-only"}' "$T")" 409
expect_eq "m1 has used the entry this competition allows" \
    "$(call POST /api/hotseat '{"competition":"jiankang-changshe","players":[{"member":"m1","pin":"1234"},{"guest":true}]}')" 409

stop "$KPID" TERM
expect_eq "SIGTERM stops the kiosk cleanly" "$?" 0
expect_contains "and it says so" "$WORK/out" "一体机界面已停止"
# On 5 March (学雷锋纪念日) the home screen leads with the themed day and that
# week's competition: a kiosk whose clock starts at 10:00 that day.
spawn env QUIZKIT_NOW=2027-03-05T10:00:00+08:00 QUIZKIT_NOW_SINCE= \
    "$QK" kiosk --port 0 --port-file "$WORK/port2" >"$WORK/out2" 2>&1
K2PID=$LAST_PID
wait_file "$WORK/port2" || fail "the themed-day kiosk started: $(cat "$WORK/out2")"
curl -s -o "$WORK/b" "http://127.0.0.1:$(cat "$WORK/port2")/api/home"
expect_eq "5 March: the themed day is 学雷锋" "$(j 'd["themed_day"]["id"], d["today"]')" "leifeng 2027-03-05"
expect_eq "and the week's 学雷锋 competition is open, the 2026 one closed, the standing one open" \
    "$(j '[c in [x["id"] for x in d["competitions"]] for c in ("leifeng-week", "autumn-2026", "leifeng-jingsai")]')" "[True, False, True]"
stop "$K2PID"
# --open starts the browser full screen on the kiosk's page (a stand-in
# chromium first on PATH records how it was started).
mkdir -p "$WORK/bin"
printf '#!/bin/sh\necho "$@" >"%s/browser-args"\n' "$WORK" >"$WORK/bin/chromium"
chmod +x "$WORK/bin/chromium"
PATH="$WORK/bin:$PATH" spawn "$QK" kiosk --open --port 0 --port-file "$WORK/port3" >"$WORK/out3" 2>&1
K3PID=$LAST_PID
wait_file "$WORK/browser-args"
expect_contains "--open starts chromium in kiosk mode on the page" "$WORK/browser-args" \
    "--kiosk --app=http://127.0.0.1:$(cat "$WORK/port3")/"
stop "$K3PID"
"$QK" kiosk --port 0 --web "$WORK/nowhere" >"$WORK/o" 2>&1
expect_eq "without its pages the kiosk does not start" "$?" 1
expect_contains "and says where it looked" "$WORK/o" "$WORK/nowhere/kiosk/index.html"
"$QK" kiosk --port nope >"$WORK/o" 2>&1
expect_eq "a bad port is a usage error" "$?" 2
"$QK" kiosk --help >"$WORK/o" 2>&1
expect_contains "--help explains --open" "$WORK/o" "chromium --kiosk --app="
# What the kiosk printed, when something failed (a sanitizer report, say).
[ "$FAILS" -gt 0 ] && sed 's/^/    kiosk| /' "$WORK/out"
finish
