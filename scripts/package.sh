#!/usr/bin/env bash
# package.sh: quizkit's Debian package, from a build of its own (build-deb:
# -DQK_PACKAGE=ON, prefix /usr, no tests; CPack's DEB generator), and with
# `test` its smoke test in a clean root (root; CI does it): a minimal Debian
# 12 made by debootstrap (build-deb/root; the first run fetches it, later
# runs copy it), the package installed there with apt-get and nothing else
# beside it; its files, its system user; a first run that trusts no key by
# itself, then a quiz as the message says; the server started as its unit
# starts it (no systemctl) and asked over HTTP; its units checked by
# systemd-analyze (installed in the root after the quiz and the server ran,
# with the program the kiosk's screen starts); then removed and purged, the
# records kept. This machine's packages are not touched (but for debootstrap,
# installed when missing, as install-deps.sh does). docs/packaging.md.
#   usage: scripts/package.sh [test]
# QK_DEB_BUILD names another build folder than build-deb; QK_DEB_MIRROR the
# Debian mirror debootstrap and the root's apt use (default deb.debian.org).
set -euo pipefail
say() { echo "package: $*"; }
script="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"

if [ "${1:-}" = --in-root ]; then
    # (inside the clean root: package.sh test runs this part there)
    deb=${2:?--in-root needs the package}
else
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${QK_DEB_BUILD:-$root/build-deb}"
jobs="$(nproc 2>/dev/null || echo 2)"

mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DQK_PACKAGE=ON -DQK_TESTS=OFF >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
if ! cmake --build "$build" -j "$jobs" >"$build/build.log" 2>&1; then
    grep -v -E '^\[ *[0-9]+%\] (Building|Linking|Built)' "$build/build.log"
    exit 1
fi
(cd "$build" && cpack -G DEB >cpack.log 2>&1) || { cat "$build/cpack.log"; exit 1; }
deb=$(ls "$build"/quizkit_*.deb)
say "built $deb ($(du -k "$deb" | cut -f1) KB)"
dpkg-deb -f "$deb" Package Version Architecture Depends Recommends | sed 's/^/package:   /'
[ "${1:-}" = test ] || exit 0
# a district's server on PostgreSQL opens libpq, which dpkg-shlibdeps cannot see
if grep -q '^QK_WITH_POSTGRESQL:BOOL=ON' "$build/CMakeCache.txt" && ! dpkg-deb -f "$deb" Recommends | grep -q libpq5; then
    say "the package does not recommend libpq5 (built with PostgreSQL)"
    exit 1
fi

# --- the clean root ---------------------------------------------------------
[ "$(id -u)" -eq 0 ] || { say "the smoke test makes a root and installs the package there: run it as root"; exit 2; }
mirror=${QK_DEB_MIRROR:-http://deb.debian.org/debian}
base="$build/root-base"
croot="$build/root"
# Every mount under a folder, deepest first (a debootstrap killed halfway
# leaves its /proc and /sys mounted in the base; the root has /proc).
unmount_under() {
    local m
    while IFS= read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m"
    done < <(QK_UNDER=$(realpath -m "$1") awk '
        { m = $2   # the kernel writes a space, a tab and a backslash as \040 \011 \134
          gsub(/\\040/, " ", m); gsub(/\\011/, "\t", m); gsub(/\\134/, "\\", m)
          d = ENVIRON["QK_UNDER"]
          if (m == d || index(m, d "/") == 1) print m }' /proc/self/mounts | LC_ALL=C sort -r)
}
if [ ! -e "$base/.complete" ]; then
    command -v debootstrap >/dev/null ||
        { say "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
    unmount_under "$base"
    rm -rf --one-file-system "$base"
    t=$(date +%s)
    say "making a clean Debian 12 root (debootstrap --variant=minbase bookworm) in $base"
    debootstrap --variant=minbase bookworm "$base" "$mirror" >"$build/debootstrap.log" 2>&1 ||
        { tail -30 "$build/debootstrap.log"; say "debootstrap failed (log: $build/debootstrap.log)"; exit 1; }
    touch "$base/.complete"
    say "the root took $(($(date +%s) - t)) s"
fi
unmount_root() { unmount_under "$croot"; }
unmount_root
rm -rf --one-file-system "$croot"
cp -a "$base" "$croot"
trap unmount_root EXIT
mount -t proc proc "$croot/proc"
cp /etc/resolv.conf "$croot/etc/resolv.conf" 2>/dev/null || true
# no service is started while packages go in (the usual policy of a chroot):
# the test starts the server itself, as its unit would
printf '#!/bin/sh\nexit 101\n' >"$croot/usr/sbin/policy-rc.d"
chmod 755 "$croot/usr/sbin/policy-rc.d"
mkdir -p "$croot/tmp/qk"
cp "$deb" "$script" "$croot/tmp/qk/"
rc=0
# (the machine's proxy, if it has one, for the root's apt)
proxy=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -z "${!v:-}" ] || proxy+=("$v=${!v}")
done
chroot "$croot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "${proxy[@]}" \
    bash /tmp/qk/package.sh --in-root "/tmp/qk/$(basename "$deb")" || rc=$?
exit "$rc"
fi

# --- the smoke test -------------------------------------------------------
fails=0
ok() { echo "ok - $1"; }
fail() { fails=$((fails + 1)); echo "FAIL - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@"; }
apt_get update >"$work/update.log" 2>&1 || { cat "$work/update.log"; exit 1; }
# the package with what it depends on, and nothing else
apt_get install --no-install-recommends "$deb" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; exit 1; }
ok "apt-get installs $(basename "$deb") in a clean Debian 12 root, with its dependencies alone"
# (quizkit's own part of the log: its unpacking and its postinst, up to the
# next package's; a dependency's maintainer script is not ours to judge)
awk '/^(Setting up|Unpacking|Preparing to unpack|Processing triggers|Selecting)/ { ours = ($0 ~ /quizkit/) }
     ours || /quizkit/' "$work/install.log" >"$work/ours.log"
if grep -i -E 'warning|cannot|can.t' "$work/ours.log" >"$work/warnings"; then
    fail "installing it warned: $(head -3 "$work/warnings")"
else
    ok "installing it warned of nothing"
fi
# what the test itself uses (asks the server over HTTP)
apt_get install --no-install-recommends curl >"$work/tools.log" 2>&1 || { cat "$work/tools.log"; exit 1; }
for f in /usr/bin/quizkit /usr/share/quizkit/samples.qkb /usr/share/quizkit/web/kiosk/index.html \
         /usr/share/man/man1/quizkit.1 /usr/include/quizkit/engine.h /etc/quizkit/serve.conf \
         /usr/lib/systemd/system/quizkit-serve.service /usr/lib/systemd/system/quizkit-kiosk.service \
         /usr/lib/systemd/system/quizkit-kiosk-screen.service; do
    check "installed: $f" test -e "$f"
done
check "installed: libquizkit.so.0" sh -c 'ls /usr/lib/*/libquizkit.so.0 /usr/lib/libquizkit.so.0 2>/dev/null | grep -q .'
check "no private key in the package" sh -c "! dpkg -L quizkit | grep -E '\\.key\$'"
check "the system user quizkit, home /var/lib/quizkit" \
    sh -c '[ "$(getent passwd quizkit | cut -d: -f6)" = /var/lib/quizkit ]'
check "/var/lib/quizkit is the quizkit user's" sh -c '[ "$(stat -c %U /var/lib/quizkit)" = quizkit ]'

# A first run: no bundle, and the sample's build key is not trusted unasked.
# (setpriv execs the command: the PID is the command's own)
as_quizkit() { setpriv --reuid=quizkit --regid=quizkit --init-groups "$@"; }
as_user() { as_quizkit env -u QUIZKIT_SAMPLE_BUNDLE QUIZKIT_HOME="$work/home" "$@"; }
mkdir -p "$work/home" && chown quizkit "$work" "$work/home"
rc=0
as_user quizkit play </dev/null >"$work/first" 2>&1 || rc=$?
check "a first quiz with no bundle fails (exit 1)" [ "$rc" = 1 ]
if grep -q "不会自动信任；只想试用的话：quizkit trust add /usr/share/quizkit/dev-key.pub" "$work/first"; then
    ok "saying the sample's key is not trusted by itself, and how to trust it"
else
    fail "the first run said: $(cat "$work/first")"
fi
check "and nothing is trusted" sh -c "! ls '$work/home/trust'/*.pub >/dev/null 2>&1"
as_user quizkit trust add /usr/share/quizkit/dev-key.pub >"$work/trust" 2>&1 || fail "trust add: $(cat "$work/trust")"
as_user quizkit bundle install /usr/share/quizkit/samples.qkb >"$work/bi" 2>&1 || fail "install: $(cat "$work/bi")"
printf 'A\n' | as_user quizkit play --theme jiankang --count 1 --order seq >"$work/play" 2>&1 || true
check "then a quiz runs from the installed command to its end" grep -q "答题结束" "$work/play"

# The server as its unit starts it (its ExecStart), on a port of its own.
exec_start=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/quizkit-serve.service)
user=$(sed -n 's/^User=//p' /usr/lib/systemd/system/quizkit-serve.service)
home=$(sed -n 's/^Environment=QUIZKIT_HOME=//p' /usr/lib/systemd/system/quizkit-serve.service)
check "the unit runs as quizkit" [ "$user" = quizkit ]
# shellcheck disable=SC2086 # (the unit's command line, split as systemd splits it)
setpriv --reuid=quizkit --regid=quizkit --init-groups env QUIZKIT_HOME="$home" $exec_start --port 0 \
    --port-file "$work/port" >"$work/serve" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
if [ -s "$work/port" ]; then
    url="http://127.0.0.1:$(cat "$work/port")"
    check "the server answers /api/v1/time" sh -c "curl -sf '$url/api/v1/time' | grep -q server_ms"
    check "and serves the dashboard from /usr/share/quizkit/web" \
        sh -c "curl -sf '$url/dashboard/' | grep -q '<html'"
    check "its store is in /var/lib/quizkit, the quizkit user's" \
        sh -c '[ "$(stat -c %U /var/lib/quizkit/server.db)" = quizkit ]'
    check "the first start shows the admin's one-time password" grep -q "admin" "$work/serve"
    kill -TERM "$server_pid"
    rc=0
    wait "$server_pid" || rc=$?
    server_pid=
    if [ "$rc" = 0 ]; then ok "SIGTERM stops it cleanly (exit 0)"
    else fail "SIGTERM: exit $rc: $(tail -3 "$work/serve")"; fi
else
    fail "the server started: $(head -5 "$work/serve")"
fi

# The units, checked by systemd-analyze: it wants systemd's own units, the man
# page their Documentation= names, and the programs they start (cage starts
# the kiosk's screen), so these come into the root now, after the rest ran.
apt_get install --no-install-recommends systemd man-db cage >"$work/verify-tools.log" 2>&1 ||
    { cat "$work/verify-tools.log"; exit 1; }
if systemd-analyze verify /usr/lib/systemd/system/quizkit-serve.service \
        /usr/lib/systemd/system/quizkit-kiosk.service /usr/lib/systemd/system/quizkit-kiosk-screen.service \
        >"$work/verify" 2>&1; then
    ok "systemd-analyze verify: the three units"
else
    fail "systemd-analyze verify: $(head -5 "$work/verify")"
fi

apt_get remove quizkit >"$work/remove.log" 2>&1 || fail "apt-get remove"
check "removed: /usr/bin/quizkit is gone" test ! -e /usr/bin/quizkit
check "the records stay (/var/lib/quizkit/server.db)" test -e /var/lib/quizkit/server.db
check "and the settings, until purged" test -e /etc/quizkit/serve.conf
apt_get purge quizkit >"$work/purge.log" 2>&1 || fail "apt-get purge"
check "purged: the settings are gone" test ! -e /etc/quizkit/serve.conf
[ "$fails" -eq 0 ] || { say "$fails failed"; exit 1; }
say "the package's smoke test passed"
