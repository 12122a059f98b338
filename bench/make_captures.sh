#!/bin/sh
# bench/make_captures.sh — make the big benchmark captures on demand (never
# committed): bench/data/bytes-heavy.pcap (>= 300 MB, >= 10,000 calls with
# ~8 KB args and ~8 KB results, so every call moves ~33 KB over four legs) and
# bench/data/message-heavy.pcap (>= 200,000 small operations: calls, casts and
# notifications from 4 client processes x 8 threads, unpaced, so many messages
# share a segment) and bench/data/control-plane.pcap (a busy control plane:
# 3 processes x 4 threads paced at 200 operations/s, 71 % calls, 28 % casts,
# 0.5 % fanouts, 10-200 byte arguments in full contexts, ~30,000 operations,
# one message per segment: the shape of issue 19), each with .truth.jsonl
# and .meta.json in the same format as pcaps/.  Real oslo.messaging over the
# lab broker (tools/lab/broker.sh), captured by tcpdump like every lab capture.
#
#   bench/make_captures.sh [bytes|msgs|ctl|all] (default all)
#   SCALE=0.05 bench/make_captures.sh           (5% of the sizes, for a quick check)
#   BENCH_DATA=DIR bench/make_captures.sh       (write there instead of bench/data)
#
# bench/run compares with tshark, whose AMQP dissector listens on 5672 only: on
# a private broker port (LAB_PORT=...), rewrite the captures afterwards with
# `tcprewrite --portmap=PORT:5672 --fixcsum -i F -o F2`.
# Time on the 2-core lab machine, see pcaps/README.md.  The broker is left
# running; stop it with tools/lab/broker.sh stop.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
SCALE=${SCALE:-1}
out=${BENCH_DATA:-$here/data}
mkdir -p "$out"
out=$(cd "$out" && pwd)
"$root/tools/lab/broker.sh" start >/dev/null
what=${1:-all}
run() {
    echo "== $1 (scale $SCALE) -> $out"
    start=$(date +%s)
    /usr/bin/python3 "$root/tools/lab/run.py" "$1" --out "$out" --scale "$SCALE" \
        --work "$out/$1.work"
    rm -rf "$out/$1.work"
    echo "== $1 took $(( $(date +%s) - start )) s; $(du -h "$out/$1.pcap" | cut -f1)"
}
case "$what" in
    bytes) run bytes-heavy ;;
    msgs) run message-heavy ;;
    ctl) run control-plane ;;
    all) run bytes-heavy; run message-heavy; run control-plane ;;
    *) echo "usage: $0 [bytes|msgs|ctl|all]" >&2; exit 2 ;;
esac
