#!/usr/bin/env bash
# Runs one golden scenario: `mesocore sim --check - < NAME.sim` must print
# exactly NAME.out on stdout and exit with NAME.status (0 when absent); when
# NAME.err exists, stderr must equal it too.
#   usage: golden.sh MESOCORE NAME.sim
set -u
bin=$1 sim=$2 base=${2%.sim}
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$bin" sim --check - <"$sim" >"$out" 2>"$err"
status=$?
want_status=0
[ -f "$base.status" ] && want_status=$(cat "$base.status")
fail=0
if [ "$status" -ne "$want_status" ]; then
    echo "exit status $status, want $want_status"
    fail=1
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
