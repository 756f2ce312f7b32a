#!/usr/bin/env bash
# Replays the bundle fuzz target over a real bundle built now and damaged
# copies of it (bytes flipped at many offsets, truncations), plus the corpus.
set -eu
qk=$1 fuzz=$2 tests=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/qkfz-XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$tests/fuzz/corpus/bundle/"* "$work/"
"$qk" bundle build "$tests/fixtures/mini" -o "$work/mini.qkb" --quiet
size=$(stat -c %s "$work/mini.qkb")
i=0
for off in $(seq 0 997 "$size"); do
    cp "$work/mini.qkb" "$work/flip$i"
    printf '\xa5' | dd of="$work/flip$i" bs=1 seek="$off" conv=notrunc status=none
    i=$((i + 1))
done
head -c $((size / 2)) "$work/mini.qkb" >"$work/half"
head -c 100 "$work/mini.qkb" >"$work/header"
"$fuzz" "$work"
