#!/usr/bin/env bash
# Runs one golden scenario: `mesocore sim --check - < NAME.sim` must print
# exactly NAME.out on stdout and exit with NAME.status (0 when absent); when
# NAME.err exists, stderr must equal it too.
#   usage: golden.sh [--shards N] MESOCORE NAME.sim
# With --shards N the decisions may differ from the one-shard golden output, so
# only the exit status and the books (--check) are compared.
set -u
shards=1
if [ "$1" = --shards ]; then shards=$2; shift 2; fi
bin=$1 sim=$2 base=${2%.sim}
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$bin" sim --check --shards "$shards" - <"$sim" >"$out" 2>"$err"
status=$?
want_status=0
[ -f "$base.status" ] && want_status=$(cat "$base.status")
fail=0
if [ "$status" -ne "$want_status" ]; then
    echo "exit status $status, want $want_status"
    fail=1
fi
if [ "$shards" -gt 1 ]; then
    if [ "$want_status" -eq 0 ] && [ -s "$err" ]; then cat "$err"; fail=1; fi
    exit $fail
fi
if ! diff -u "$base.out" "$out"; then
    echo "stdout differs from $base.out"
    fail=1
fi
if [ -f "$base.err" ]; then
    if ! diff -u "$base.err" "$err"; then
        echo "stderr differs from $base.err"
        fail=1
    fi
elif [ -s "$err" ] && [ "$want_status" -eq 0 ]; then
    echo "unexpected stderr:"
    cat "$err"
    fail=1
fi
exit $fail
