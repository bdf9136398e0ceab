#!/bin/sh
# tests/net/wire_dump.sh MESOCORE ROOT: `mesocore wire-dump` on a capture made
# of real frames (the encoder's seeds), an unknown type that is skipped, and
# then a frame with a duplicate field that ends the dump; and on a capture cut
# short. Output and status must be the ones in tests/net/dump/.
set -eu
bin=$1 root=$2
c=$root/fuzz/corpus/wire_roundtrip
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
    cat "$c/OFFERS-1" "$c/PING-0" "$c/AGENT_STATUS-1"
    # type 0x0777, session 9, 2 body bytes: unknown, skipped
    printf 'MC\001\000\167\007\000\000\002\000\000\000\011\000\000\000\000\000\000\000\010\001'
    # PING with SEQ twice: refused, the dump stops
    printf 'MC\001\000\003\000\000\000\004\000\000\000\001\000\000\000\000\000\000\000\002\001\002\002'
    cat "$c/PING-1"
} >"$tmp/capture"
status=0
"$bin" wire-dump "$tmp/capture" >"$tmp/out" || status=$?
[ "$status" -eq 1 ] || { echo "wire-dump: status $status, want 1" >&2; exit 1; }
diff -u "$root/tests/net/dump/capture.out" "$tmp/out"
head -c 30 "$c/AGENT_STATUS-1" >"$tmp/cut"
status=0
"$bin" wire-dump - <"$tmp/cut" >"$tmp/out" || status=$?
[ "$status" -eq 1 ] || { echo "wire-dump: status $status on a cut frame, want 1" >&2; exit 1; }
diff -u "$root/tests/net/dump/cut.out" "$tmp/out"
status=0
"$bin" wire-dump "$c/PING-1" >/dev/null || status=$?
[ "$status" -eq 0 ] || { echo "wire-dump: status $status on a good frame" >&2; exit 1; }
