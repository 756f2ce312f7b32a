#!/usr/bin/env bash
# Midnight has one rule (DESIGN.md decision 10), the same on the terminal,
# the kiosk and the server: the daily quiz played from 23:58 to 00:00 Beijing
# time belongs wholly to the day it began: its points, its cap, the streak and
# the statistics; a daily quiz left unfinished at midnight is finished on its
# own day the next time the member starts one, and the new day has a new set.
#
# Every process of the test shares one clock that runs four times faster than
# real time: it reads 2026-12-02 23:56:40 when the test starts, 23:58 once the
# server and the two devices are set up (20 s), and midnight 30 s later. (At
# eight times, 15 s from 23:58 to midnight were too few for the steps before
# it on a machine with a load of 7 on 2 cores: m1 began after midnight.)
#   terminal device: m1 plays 23:58-00:00:10 (2 answers, then 3 after
#                    midnight); m4 answers 2 at 23:59 and walks away
#   kiosk device:    m2 plays 23:58-00:00:10 the same way; m3 answers 2 at
#                    23:59 and signs out
# After midnight m4 and m3 start the daily quiz again; both devices sync; the
# points, streaks, statistics and what can be resumed are compared.
. "$(dirname "$0")/lib.sh"
RATE=4
SETUP_S=20
export QUIZKIT_NOW=2026-12-02T23:58:00+08:00 QUIZKIT_NOW_RATE=$RATE
QUIZKIT_NOW_SINCE=$(($(date +%s%3N) + SETUP_S * 1000))
export QUIZKIT_NOW_SINCE
ms_of() { python3 -c "import datetime as d; print(int(d.datetime.fromisoformat('$1').timestamp() * 1000))"; }
MIDNIGHT=$(ms_of 2026-12-03T00:00:00+08:00)
AT_2358=$(ms_of 2026-12-02T23:58:00+08:00)
# The shared clock now, as clock.h computes it.
clock_ms() { echo $(( $(ms_of 2026-12-02T23:58:00+08:00) + ($(date +%s%3N) - QUIZKIT_NOW_SINCE) * RATE )); }
wait_clock() { # wait_clock MS: until the shared clock reads MS (at most 60 s)
    for _ in $(seq 1200); do [ "$(clock_ms)" -ge "$1" ] && return 0; sleep 0.05; done
    return 1
}
KEY="$TESTS/fixtures/mini/q.json"

# --- set up before 23:58: a server, two devices enrolled, four members ---
TERM_HOME="$WORK/terminal" KIOSK_HOME="$WORK/kiosk"
export QUIZKIT_HOME="$TERM_HOME"
mini_bundle
serve_test
branch_fixture 'm1,张一,b1,内科,1111\nm2,张二,b1,内科,2222\nm3,张三,b1,内科,3333\nm4,张四,b1,内科,4444\n'
code() { A code --branch b1 | grep -o '[A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | head -1; }
"$QK" enroll "$URL" "$(code)" --name terminal >/dev/null 2>&1 || fail "enrol the terminal"
"$QK" sync >/dev/null 2>&1 || fail "the terminal gets the roster"
QK_K() { QUIZKIT_HOME="$KIOSK_HOME" "$QK" "$@"; }
QK_K trust add "$WORK/pub.pub" >/dev/null 2>&1
QK_K bundle install "$WORK/mini.qkb" >/dev/null 2>&1 || fail "the kiosk installs the bundle"
QK_K enroll "$URL" "$(code)" --name kiosk >/dev/null 2>&1 || fail "enrol the kiosk"
QK_K sync >/dev/null 2>&1 || fail "the kiosk gets the roster"
# (env, not QK_K: a function in the background is a subshell, and its PID is
# not the kiosk's; lib.sh's spawn keeps the kiosk's PID and ends it at exit)
spawn env QUIZKIT_HOME="$KIOSK_HOME" "$QK" kiosk --bundle test.mini --port 0 --port-file "$WORK/kport" \
    --idle 3600 --sync-interval 86400 >"$WORK/kout" 2>&1
KPID=$LAST_PID
wait_file "$WORK/kport" || fail "the kiosk started: $(cat "$WORK/kout")"
K="http://127.0.0.1:$(cat "$WORK/kport")"
call() {
    curl -s -o "$WORK/b" -w '%{http_code}' -X "$1" ${4:+-H "X-Kiosk-Session: $4"} ${3:+--data-binary "$3"} "$K$2"
}
j() { python3 -c "import json,sys; d=json.load(open('$WORK/b')); print($1)"; }
token() { call POST /api/login "{\"member\":\"$1\",\"pin\":\"$2\"}" >/dev/null; j 'd["token"]'; }
# The right answer to the question in the last reply, by its stem, as shown.
right() {
    python3 - "$WORK/b" "$KEY" <<'PY'
import json, sys
item = json.load(open(sys.argv[1]))["item"]
q = {x["stem"]: x for x in json.load(open(sys.argv[2], encoding="utf-8"))["questions"]}[item["stem"]]
if item["type"] == "judge":
    print("对" if q["answer"] in (True, "对") else "错")
elif item["type"] == "fill":
    print("|".join(a[0] for a in q["answer"]))
else:
    texts = [q["options"][ord(c) - 65] for c in q["answer"]]
    print("".join(o["key"] for o in item["options"] if o["text"] in texts))
PY
}
kiosk_answer() { # the current question of the session's quiz, answered right
    call GET /api/quiz "" "$1" >/dev/null
    call POST /api/quiz/answer "{\"response\":\"$(right)\"}" "$1" >/dev/null
}
now=$(clock_ms)
[ "$now" -lt "$AT_2358" ] || fail "set-up finished before 23:58 (it took too long: the clock reads $now)"
wait_clock "$AT_2358" || fail "the clock reached 23:58"

# --- 23:58: the kiosk's two members begin, the terminal's m4 answers two ---
T2=$(token m2 2222)
expect_eq "23:58 kiosk: m2 begins the daily quiz" "$(call POST /api/quiz '{"mode":"daily"}' "$T2"; echo; j 'd["day"]')" "200
2026-12-02"
kiosk_answer "$T2"
kiosk_answer "$T2"
T3=$(token m3 3333)
call POST /api/quiz '{"mode":"daily"}' "$T3" >/dev/null
kiosk_answer "$T3"
kiosk_answer "$T3"
call POST /api/logout "" "$T3" >/dev/null
answer_quiz --pin 4444 --stop-after 2 -- \
    "$QK" play --bundle test.mini --mode daily --member m4 >"$WORK/m4-before" 2>&1
expect_eq "23:59 terminal: m4 answers two and walks away (progress kept)" "$?" 3
# --- the terminal's m1 answers two, waits for midnight, answers three ---
answer_quiz --pin 1111 --wait-after 2 $((MIDNIGHT + 10000)) -- \
    "$QK" play --bundle test.mini --mode daily --member m1 >"$WORK/m1" 2>&1
expect_eq "terminal: m1's daily quiz, 23:58 to 00:00:10" "$?" 0
expect_contains "the terminal names the day it began" "$WORK/m1" "2026-12-02（北京时间）的每日答题"
expect_contains "five right, five points" "$WORK/m1" "本次获得 5 学习积分"
[ "$(clock_ms)" -ge "$MIDNIGHT" ] || fail "midnight had passed"
# --- after midnight the kiosk's m2 answers the rest ---
kiosk_answer "$T2"
kiosk_answer "$T2"
kiosk_answer "$T2"
expect_eq "00:00 kiosk: m2 finishes" "$(call POST /api/quiz/finish "" "$T2"; echo; j 'd["correct"], d["points"]')" "200
5 5"

# --- where everything landed ---
pts() { # pts MEMBER PIN: "today total streak" on the terminal
    printf '%s\n' "$2" | "$QK" points --member "$1" 2>/dev/null |
        sed -n 's/.*今日共 \([0-9]*\) 分，累计 \([0-9]*\) 分，已连续学习 \([0-9]*\) 天.*/\1 \2 \3/p'
}
expect_eq "terminal, 3 December: m1 has 0 points today, 5 in all, a 1-day streak" "$(pts m1 1111)" "0 5 1"
call GET /api/me "" "$T2" >/dev/null
expect_eq "kiosk, 3 December: m2 has the same" "$(j 'd["today_total"], d["total"], d["streak_days"]')" "0 5 1"
awards() { sqlite3 "$1/progress.db" "select group_concat(json_extract(payload,'\$.day') || ':' || json_extract(payload,'\$.amount'), ',') from events where kind='points.award' and member_id='$2'"; }
expect_eq "terminal: m1's award is booked on 2 December" "$(awards "$TERM_HOME" m1)" "2026-12-02:5"
expect_eq "kiosk: m2's award is booked on 2 December" "$(awards "$KIOSK_HOME" m2)" "2026-12-02:5"

# m4 and m3 come back after midnight: yesterday's quiz is finished on its day,
# today's is a new set.
printf '4444\n' | "$QK" play --bundle test.mini --mode daily --member m4 >"$WORK/m4-after" 2>&1
expect_contains "terminal: m4 is told yesterday's quiz counted for its day" "$WORK/m4-after" \
    "2026-12-02 的每日答题没有做完，那一天已经过去：已答的 2 / 5 题计入那一天（答对 2 题，得 2 积分）"
expect_contains "and gets 3 December's set" "$WORK/m4-after" "2026-12-03（北京时间）的每日答题"
expect_not_contains "and does not continue yesterday's" "$WORK/m4-after" "继续上次的答题"
T3=$(token m3 3333)
expect_eq "kiosk: m3 taps 每日答题 after midnight: a new set for 3 December" \
    "$(call POST /api/quiz '{"mode":"daily"}' "$T3"; echo; j 'd["day"], d["resumed"], d["item"]["index"]')" "200
2026-12-03 False 0"
expect_eq "and is told yesterday's counted for its day" \
    "$(j 'd["expired_daily"]["day"], d["expired_daily"]["answered"], d["expired_daily"]["points"]')" "2026-12-02 2 2"
expect_eq "terminal: m4's 2 points on 2 December" "$(awards "$TERM_HOME" m4)" "2026-12-02:2"
expect_eq "kiosk: m3's 2 points on 2 December" "$(awards "$KIOSK_HOME" m3)" "2026-12-02:2"
printf '4444\n' | "$QK" play --resume --member m4 --bundle test.mini >"$WORK/m4-resume" 2>&1
expect_contains "terminal: --resume offers today's quiz, never yesterday's" "$WORK/m4-resume" "2026-12-03（北京时间）的每日答题"

# Statistics on each device and on the server: 2 December holds every answer.
members() { # members SOURCE-ARGS...: "id attempts answers points" for m1-m4 on 2 December
    "$QK" stats members --from 2026-12-02 --to 2026-12-02 --csv "$@" 2>/dev/null |
        python3 -c "
import csv, sys
rows = list(csv.reader(l.lstrip('\ufeff') for l in sys.stdin))
head = rows[0]
col = {n: head.index(n) for n in ('编号', '答题次数', '答题数', '积分')}
print(' '.join('%s:%s/%s/%s' % (r[col['编号']], r[col['答题次数']], r[col['答题数']], r[col['积分']])
               for r in rows[1:] if r and r[col['编号']] in ('m1', 'm2', 'm3', 'm4')))"
}
expect_eq "terminal statistics, 2 December: m1's attempt, its 5 answers and points; m4's 2" \
    "$(members --local)" "m1:1/5/5 m2:0/0/0 m3:0/0/0 m4:1/2/2"
expect_eq "kiosk statistics, 2 December: m2 and m3 the same way" \
    "$(QUIZKIT_HOME="$KIOSK_HOME" members --local)" "m1:0/0/0 m2:1/5/5 m3:1/2/2 m4:0/0/0"
"$QK" sync >"$WORK/s1" 2>&1 || fail "terminal sync: $(cat "$WORK/s1")"
QK_K sync >"$WORK/s2" 2>&1 || fail "kiosk sync: $(cat "$WORK/s2")"
export QUIZKIT_PASSWORD=leader-pass-1
expect_eq "server statistics, 2 December: all four as the devices say" \
    "$(members --server "$URL" --user li)" "m1:1/5/5 m2:1/5/5 m3:1/2/2 m4:1/2/2"
day3=$("$QK" stats members --from 2026-12-03 --to 2026-12-03 --server "$URL" --user li --csv 2>/dev/null |
       python3 -c "
import csv, sys
rows = list(csv.reader(l.lstrip('\ufeff') for l in sys.stdin))
i = rows[0].index('答题数')
print(sum(int(r[i] or 0) for r in rows[1:] if r))")
expect_eq "server statistics, 3 December: not one of those answers" "$day3" 0
finish
