#!/usr/bin/env bash
# A member's quiz starts without the network libraries (sync/src/netlib.h):
# the `quizkit` process maps neither libcurl nor libmicrohttpd, nor what they
# bring (GnuTLS, Kerberos, LDAP…), until a command goes on the network.
# Usage: test_links.sh QUIZKIT
set -euo pipefail
qk=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
# What the dynamic loader maps at start (LD_DEBUG is glibc's).
loaded=$(LD_DEBUG=files "$qk" --version 2>&1 >/dev/null | sed -n 's/.*file=\([^ ]*\) \[0\];  needed by.*/\1/p' | sort -u)
[ -n "$loaded" ] || fail "LD_DEBUG=files listed no library (not glibc?)"
echo "$loaded" | grep -q '^libsqlite3' || fail "libsqlite3 is not among the loaded libraries: $loaded"
for lib in libcurl libmicrohttpd libgnutls libgssapi_krb5 libldap; do
    if echo "$loaded" | grep -q "^$lib"; then
        fail "$lib is loaded at start: $(echo "$loaded" | tr '\n' ' ')"
    fi
done
# They are not linked either: nothing in the file's dynamic section names them.
if readelf -d "$qk" | grep NEEDED | grep -E 'libcurl|libmicrohttpd'; then
    fail "quizkit is linked with the network libraries"
fi
echo "ok: $(echo "$loaded" | wc -l) libraries at start, none of the network's"
