#!/bin/sh
# bench/capture_bench.sh — how fast is the capture stage (pcap_source + packet_decode +
# tcp_stream, bytes discarded) next to `tcpdump -r F -w /dev/null`, libpcap's own
# read-and-write floor? Builds tools/capture_bench.c with -O2 from the sources (no cmake
# option needed) into build/capture-bench/, then times both on each capture, best of N.
#
#   bench/capture_bench.sh [FILE...]     default: bench/data/*.pcap, else pcaps/*.pcap
#   RUNS=5 bench/capture_bench.sh        (default 3)
#
# The first run of each file also warms the page cache, so both sides read from memory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
RUNS=${RUNS:-3}
out="$root/build/capture-bench"
mkdir -p "$out"
${CC:-cc} -std=c11 -O2 -DNDEBUG -D_GNU_SOURCE -I"$root" -o "$out/capture_bench" \
    "$root/tools/capture_bench.c" "$root"/capture/*.c "$root"/common/*.c -lpcap

if [ $# -eq 0 ]; then
    set -- $(ls "$root"/bench/data/*.pcap 2>/dev/null || true)
    [ $# -gt 0 ] || set -- "$root"/pcaps/*.pcap
fi

now() { date +%s.%N; }
best() { # best wall time of RUNS runs of "$@", output discarded
    b=""
    i=0
    while [ $i -lt "$RUNS" ]; do
        t0=$(now)
        "$@" >/dev/null 2>&1
        t1=$(now)
        b=$(echo "$t0 $t1 ${b:-999999}" | awk '{d=$2-$1; print (d<$3)?d:$3}')
        i=$((i + 1))
    done
    echo "$b"
}

printf '%-28s %10s %12s %12s %8s\n' capture MB tcpdump_s capture_s ratio
for f in "$@"; do
    mb=$(stat -c %s "$f" | awk '{printf "%.1f", $1/1e6}')
    td=$(best tcpdump -r "$f" -w /dev/null)
    cb=$(best "$out/capture_bench" "$f")
    printf '%-28s %10s %12.3f %12.3f %8.2f\n' "$(basename "$f")" "$mb" "$td" "$cb" \
        "$(echo "$cb $td" | awk '{print ($2>0)?$1/$2:0}')"
    "$out/capture_bench" "$f" | sed 's/^/    /'
done
