#!/usr/bin/env bash
# Bad input gets a clear one-line error, a non-zero exit, and loses nothing.
. "$(dirname "$0")/lib.sh"
mini_bundle

run() { "$QK" "$@" >"$WORK/o" 2>&1; echo $?; }

expect_eq "no command: usage, exit 2" "$(run)" 2
expect_eq "unknown command exits 2" "$(run frobnicate)" 2
expect_contains "unknown command named" "$WORK/o" "未知命令 \"frobnicate\""
expect_eq "unknown option exits 2" "$(run play --colour)" 2
expect_contains "unknown option named" "$WORK/o" "--colour"
expect_eq "bad --lang exits 2" "$(run --lang fr play)" 2
expect_eq "bad --mode exits 2" "$(run play --mode race)" 2
expect_contains "bad mode named" "$WORK/o" "--mode 的值无效：race"
expect_eq "bad --count exits 2" "$(run play --count -3)" 2
expect_eq "unknown theme exits 2" "$(run play --bundle test.mini --theme 不存在)" 2
expect_contains "unknown theme named" "$WORK/o" "--theme 的值无效：不存在"
for c in play history member bundle status points review; do
    expect_eq "$c --help exits 0" "$(run $c --help)" 0
    expect_contains "$c --help is $c's own help" "$WORK/o" "quizkit $c"
done
run status --help >/dev/null
expect_contains "status --help says what status shows" "$WORK/o" "用法：quizkit status"
expect_not_contains "status --help is not export's help" "$WORK/o" "quizkit export"
expect_eq "--version exits 0" "$(run --version)" 0

# A server that is not there: the reason in Chinese, not libcurl's English.
expect_eq "enrolling with no server there fails" "$(run enroll http://127.0.0.1:1 ABCD-EFGH)" 1
expect_contains "saying why in Chinese" "$WORK/o" "无法连接服务器 http://127.0.0.1:1：连不上（服务器没有运行，或地址、端口不对）"
expect_not_contains "not in libcurl's words" "$WORK/o" "Couldn't connect"

# import-ack: what is wrong with the file is said before any question of keys.
expect_eq "import-ack of a missing file exits 1" "$(run import-ack "$WORK/nope.json")" 1
expect_contains "it says it cannot read it" "$WORK/o" "无法读取 $WORK/nope.json"
printf '{"format":"quizkit-batch"}' >"$WORK/notack.json"
expect_eq "import-ack of a file that is no acknowledgement exits 1" "$(run import-ack "$WORK/notack.json")" 1
expect_contains "it says so" "$WORK/o" "notack.json 不是确认文件"
expect_not_contains "and does not talk of keys" "$WORK/o" "签名密钥"

expect_eq "nothing to resume exits 1" "$(run play --bundle test.mini --resume)" 1
expect_contains "nothing to resume explained" "$WORK/o" "没有可以继续的答题"
expect_eq "missing bundle file exits 1" "$(run play --bundle /nonexistent/x.qkb)" 1
expect_contains "missing bundle named" "$WORK/o" "/nonexistent/x.qkb"

# A damaged bundle is refused at install and nothing is installed.
cp "$WORK/mini.qkb" "$WORK/bad.qkb"
sqlite3 "$WORK/bad.qkb" "update options set correct = 1 - correct where question_id='q1'"
sqlite3 "$WORK/bad.qkb" "update manifest set value='test.bad' where key='id'"
expect_eq "tampered bundle refused" "$(run bundle install "$WORK/bad.qkb")" 1
expect_contains "tampered bundle explained" "$WORK/o" "已被改动或损坏，不符的部分：清单、选项与答案"
expect_eq "tampered bundle not installed" "$(ls "$QUIZKIT_HOME/bundles" | grep -c bad)" 0
expect_eq "tampered bundle refused by play --bundle" "$(run play --bundle "$WORK/bad.qkb" --theme t)" 1

# A corrupt progress file is reported and left as it was.
printf 'B\nAC\n对\n1921|南湖\nA\n' | "$QK" play --bundle test.mini --theme t --order seq >/dev/null 2>&1
cp "$QUIZKIT_HOME/progress.db" "$WORK/saved.db"
mkdir -p "$WORK/corrupt"
head -c 4096 /dev/urandom >"$WORK/corrupt/progress.db"
sum_before=$(md5sum <"$WORK/corrupt/progress.db")
expect_eq "corrupt progress file exits 1" "$(run --data-dir "$WORK/corrupt" history)" 1
expect_contains "corrupt progress file named" "$WORK/o" "$WORK/corrupt/progress.db"
expect_contains "corrupt progress file: it was left alone" "$WORK/o" "quizkit 没有改动这个文件。怎么办："
expect_contains "corrupt progress file: rename it and start again" "$WORK/o" "mv $WORK/corrupt/progress.db $WORK/corrupt/progress.db.damaged"
expect_eq "corrupt progress file untouched" "$(md5sum <"$WORK/corrupt/progress.db")" "$sum_before"

# A data folder that is a file.
touch "$WORK/afile"
expect_eq "data dir that is a file exits 1" "$(run --data-dir "$WORK/afile" history)" 1
expect_contains "data dir problem named" "$WORK/o" "无法使用数据文件夹"

# A read-only progress file, as an unprivileged user (root could write it).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    ro="$WORK/ro"
    mkdir -p "$ro"
    cp "$WORK/saved.db" "$ro/progress.db"
    chown -R 65534:65534 "$ro"
    chmod 0555 "$ro"
    chmod 0444 "$ro/progress.db"
    chmod 0755 "$WORK"
    code=$(printf 'B\n' | setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$QK" --data-dir "$ro" play --bundle "$WORK/mini.qkb" --theme t >"$WORK/o" 2>&1; echo $?)
    expect_eq "read-only progress file exits 1" "$code" 1
    expect_contains "read-only progress file explained" "$WORK/o" "只读"
    expect_eq "read-only progress file unchanged" "$(sqlite3 "$ro/progress.db" 'select count(*) from events')" "$(sqlite3 "$WORK/saved.db" 'select count(*) from events')"
fi

# --data-dir and QUIZKIT_HOME choose where progress lives.
printf 'A\n' | "$QK" --data-dir "$WORK/elsewhere" play --bundle "$WORK/mini.qkb" --theme u --order seq >/dev/null 2>&1
expect_eq "--data-dir holds the progress file" "$(test -f "$WORK/elsewhere/progress.db" && echo yes)" yes

# A server command given a device's progress file (or any other SQLite file)
# as its database refuses it and leaves it exactly as it was: the store's
# migrations used to run on it (its own numbers taken for the store's).
P="$WORK/elsewhere/progress.db"
sum_before=$(sha256sum "$P" | cut -d' ' -f1)
mode_before=$(sqlite3 "$P" 'PRAGMA journal_mode')
expect_eq "admin on a progress file: exit 1" "$(run admin branch list --db "sqlite:$P")" 1
expect_contains "it says what the file is, and is not" "$WORK/o" "是设备的进度文件，不是 quizkit 服务器的数据库"
expect_contains "and names it" "$WORK/o" "$P"
expect_eq "the progress file is untouched" "$(sha256sum "$P" | cut -d' ' -f1)" "$sum_before"
expect_eq "its journal mode too" "$(sqlite3 "$P" 'PRAGMA journal_mode')" "$mode_before"
expect_eq "(a progress file in WAL mode)" "$mode_before" wal
expect_eq "told by its header: no -wal or -shm left beside it" "$(ls "$P"-wal "$P"-shm 2>/dev/null)" ""
# what is not a SQLite file is named for what it is, in the user's words
expect_eq "a folder as the database: exit 1" "$(run admin branch list --db "sqlite:$WORK")" 1
expect_contains "it says it is a folder" "$WORK/o" "$WORK 是一个文件夹，不是服务器数据库文件"
expect_not_contains "not SQLite's English" "$WORK/o" "unable to open"
expect_eq "a database in a missing folder: exit 1" "$(run admin branch list --db "sqlite:$WORK/nope/server.db")" 1
expect_contains "it says the folder is missing" "$WORK/o" "$WORK/nope/server.db 所在的文件夹不存在"
expect_eq "and makes nothing" "$(ls -d "$WORK/nope" 2>/dev/null)" ""
printf '编号,姓名\n' >"$WORK/roster.db"
expect_eq "a text file as the database: exit 1" "$(run admin branch list --db "sqlite:$WORK/roster.db")" 1
expect_contains "it says it is not a SQLite file" "$WORK/o" "不是 SQLite 数据库文件"
expect_not_contains "not SQLite's English" "$WORK/o" "file is not a database"
expect_eq "the text file is untouched" "$(cat "$WORK/roster.db")" "编号,姓名"
# tables that only share a store's names are not a store of before
sqlite3 "$WORK/lookalike.db" 'CREATE TABLE events(x); CREATE TABLE devices(y)'
expect_eq "a file with tables named events and devices: exit 1" "$(run admin branch list --db "sqlite:$WORK/lookalike.db")" 1
expect_contains "refused as another program's file" "$WORK/o" "不是 quizkit 服务器的数据库"
expect_eq "its tables as they were" "$(sqlite3 "$WORK/lookalike.db" "SELECT group_concat(name) FROM sqlite_schema")" "events,devices"
# an empty file made for the store becomes one, readable by its owner only
: >"$WORK/made.db"
chmod 0644 "$WORK/made.db"
expect_eq "an empty file becomes a store" "$(run admin branch add b1 一支部 --db "sqlite:$WORK/made.db")" 0
expect_eq "made 0600 (password hashes, PINs, every answer)" "$(stat -c %a "$WORK/made.db")" 600
# a store reached through a symbolic link opens (SQLite resolves it), and a
# link to nothing is named as such
ln -s "$WORK" "$WORK/via"
expect_eq "a store through a linked folder opens" "$(run admin branch list --db "sqlite:$WORK/via/made.db")" 0
expect_contains "with what it holds" "$WORK/o" "一支部"
ln -s "$WORK/gone.db" "$WORK/dangling.db"
expect_eq "a link to nothing: exit 1" "$(run admin branch list --db "sqlite:$WORK/dangling.db")" 1
expect_contains "it says the link points nowhere" "$WORK/o" "是一个符号链接，指向的文件不存在"
# a store in a folder its user cannot write (root could)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$QK" "$@" >"$WORK/o" 2>&1; echo $?; }
    mkdir -p "$WORK/locked"
    cp "$WORK/made.db" "$WORK/locked/server.db"
    chown -R 65534:65534 "$WORK/locked"
    chmod 0555 "$WORK/locked"
    chmod 0755 "$WORK"
    expect_eq "a store whose folder cannot be written: exit 1" "$(nobody admin branch list --db "sqlite:$WORK/locked/server.db")" 1
    expect_contains "it says the folder must be writable, and why" "$WORK/o" "所在的文件夹 $WORK/locked 不可写：数据库要在它旁边建 -wal 和 -shm 文件"
    expect_not_contains "not SQLite's English" "$WORK/o" "readonly database"
    expect_eq "a new store there: exit 1" "$(nobody admin branch list --db "sqlite:$WORK/locked/new.db")" 1
    expect_contains "it says it cannot make the file there" "$WORK/o" "不能在文件夹 $WORK/locked 里新建服务器数据库：没有写权限"
    # a link in a folder it cannot write, to a store in one it can: SQLite
    # keeps -wal and -shm beside the store itself, so it opens
    mkdir -p "$WORK/etc-like" "$WORK/var-like"
    cp "$WORK/made.db" "$WORK/var-like/server.db"
    chown -R 65534:65534 "$WORK/var-like"
    ln -s "$WORK/var-like/server.db" "$WORK/etc-like/server.db"
    expect_eq "a link from a folder it cannot write, to one it can: opens" "$(nobody admin branch list --db "sqlite:$WORK/etc-like/server.db")" 0
    expect_contains "with what it holds" "$WORK/o" "一支部"
fi
sqlite3 "$WORK/notes.db" 'CREATE TABLE notes(t TEXT); INSERT INTO notes VALUES ("mine")'
expect_eq "serve on another program's SQLite file: exit 1" "$(run serve --db "sqlite:$WORK/notes.db" --port 0)" 1
expect_contains "refused, not taken over" "$WORK/o" "不是 quizkit 服务器的数据库"
expect_eq "nothing added to it" "$(sqlite3 "$WORK/notes.db" "SELECT group_concat(name) FROM sqlite_schema")" notes
# a new file, and a store made before stores were marked, are taken
expect_eq "admin on a new file makes a store" "$(run admin branch add b1 一支部 --db "sqlite:$WORK/new.db")" 0
sqlite3 "$WORK/new.db" 'PRAGMA application_id=0'
expect_eq "an unmarked store of before opens" "$(run admin branch list --db "sqlite:$WORK/new.db")" 0
expect_contains "with what it held" "$WORK/o" "一支部"
expect_eq "and is marked as a store" "$(sqlite3 "$WORK/new.db" 'PRAGMA application_id')" 1902867318
finish
