#!/bin/sh
# compare_outputs.sh: runs two oslotrace binaries over every capture in pcaps/
# with the output modes users rely on (-j, --args -j, text, --report,
# --report -j -q, --amqp -j, -w) and prints every difference. Used to prove a
# refactor changed nothing on the wire-to-output path. Exit 1 on any difference.
#
# usage: tools/compare_outputs.sh OLD_BIN NEW_BIN [PCAP...]
#
# COMPARE_SED, when set, is a sed script applied to both binaries' output
# before comparing: for a change that adds a field on purpose, e.g.
#   COMPARE_SED='s/"dialect":"oslo",//; /"by_dialect": {/,/},/d'
# proves that nothing else moved.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 OLD_BIN NEW_BIN [PCAP...]" >&2
    exit 2
fi
old=$1
new=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
    set -- "$here"/pcaps/*.pcap "$here"/pcaps/*.pcapng
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
runs=0

# one MODE-NAME ARGS...: runs both binaries on $pcap with ARGS, compares stdout and exit status.
one() {
    name=$1
    shift
    "$old" "$@" -r "$pcap" >"$tmp/old.out" 2>"$tmp/old.err"
    orc=$?
    "$new" "$@" -r "$pcap" >"$tmp/new.out" 2>"$tmp/new.err"
    nrc=$?
    if [ -n "${COMPARE_SED:-}" ]; then
        sed -i "$COMPARE_SED" "$tmp/old.out" "$tmp/new.out"
    fi
    runs=$((runs + 1))
    if [ $orc -ne $nrc ]; then
        echo "DIFF $(basename "$pcap") [$name]: exit status $orc -> $nrc"
        fail=1
    fi
    if ! cmp -s "$tmp/old.out" "$tmp/new.out"; then
        echo "DIFF $(basename "$pcap") [$name]: stdout differs"
        diff "$tmp/old.out" "$tmp/new.out" | head -20
        fail=1
    fi
}

for pcap in "$@"; do
    [ -e "$pcap" ] || continue
    one json -j
    one args-json --args -j
    one text
    one report --report
    one report-json --report -j -q
    one amqp-json --amqp -j
    one amqp-text --amqp
    one filtered -q --report --topic compute --status error,timeout
    one errors-json --status error,timeout -j
    "$old" -q -w "$tmp/old.pcap" -r "$pcap" >/dev/null 2>&1
    orc=$?
    "$new" -q -w "$tmp/new.pcap" -r "$pcap" >/dev/null 2>&1
    nrc=$?
    runs=$((runs + 1))
    if [ $orc -ne $nrc ] || ! cmp -s "$tmp/old.pcap" "$tmp/new.pcap"; then
        echo "DIFF $(basename "$pcap") [-w]: written capture differs (exit $orc -> $nrc)"
        fail=1
    fi
done
if [ $fail -eq 0 ]; then
    echo "identical: $runs runs"
fi
exit $fail
