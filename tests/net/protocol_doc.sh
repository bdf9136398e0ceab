#!/bin/sh
# tests/net/protocol_doc.sh MESOCORE DOC [--update]: the tables in DOC between
# the "mesocore protocol" markers must be what `MESOCORE protocol` prints
# (net/msg.h is the schema; the document must not drift from it).
set -eu
bin=$1 doc=$2
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.new"' EXIT
"$bin" protocol >"$tmp"
if [ "${3:-}" = --update ]; then
    awk -v gen="$tmp" '
        /<!-- BEGIN mesocore protocol -->/ { print; while ((getline l < gen) > 0) print l; skip = 1; next }
        /<!-- END mesocore protocol -->/ { skip = 0 }
        !skip { print }' "$doc" >"$tmp.new"
    mv "$tmp.new" "$doc"
    exit 0
fi
awk '/<!-- END mesocore protocol -->/ { on = 0 } on { print } /<!-- BEGIN mesocore protocol -->/ { on = 1 }' \
    "$doc" | diff -u - "$tmp" >&2 || {
    echo "protocol_doc: $doc is out of date; run: $0 $bin $doc --update" >&2
    exit 1
}
