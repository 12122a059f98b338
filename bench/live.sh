#!/usr/bin/env bash
# bench/live.sh: oslotrace capturing live on loopback, as root. Two parts:
#
#  1. The lab at its full rate: the lab broker, oslo servers and traffic.py's
#     client threads as fast as this machine lets them run, `oslotrace -i lo -j`
#     watching. Reports the packet and operation rates, libpcap's drops and
#     oslotrace's CPU (utime+stime from /proc) as a share of one core.
#  2. A replay ladder: `tcpreplay -i lo` sends the bytes-heavy capture at
#     increasing rates, then --topspeed, each time to a fresh `oslotrace -i lo -j`.
#     Reports the rate tcpreplay reached, packets captured, drops, operations
#     decoded (against the same file read offline) and CPU.
#  3. The same ladder in packets per second on the message shapes
#     (control-plane, message-heavy): the operations per second one core
#     decodes with no drop.
#
# Replayed segments reach loopback's own TCP stack, which answers them with
# resets (nothing listens on their ports); the capture filter leaves those out
# so the replayed connections are decoded as they were recorded. The broker is
# stopped before the replay so nothing on port 5672 can answer either.
#
#   bench/live.sh            writes a markdown section to stdout
#   LAB_SECONDS=20 LAB_RATE=3000 RATES="500 1000 2000 4000 8000 top" bench/live.sh
#   PARTS=ops OPS_REPLAYS="control-plane:218000" OPS_RATES="50000 100000 top" bench/live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/release/oslotrace}
DATA=${BENCH_DATA:-bench/data}
REPLAY=${REPLAY:-$DATA/bytes-heavy.pcap}
LAB_SECONDS=${LAB_SECONDS:-20}
LAB_RATE=${LAB_RATE:-3000}
RATES=${RATES:-"500 1000 2000 4000 8000 16000 top"}
# Which parts run (all by default).
PARTS=${PARTS:-"lab replay ops"}
# Part 3: NAME:PACKETS of captures in $DATA, and the packet rates to try.
OPS_REPLAYS=${OPS_REPLAYS-"control-plane:218000 message-heavy:400000"}
OPS_RATES=${OPS_RATES:-"25000 50000 100000 150000 200000 top"}
HZ=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/oslotrace-live-bench.XXXXXX)
CAP_PID=

if [ "$(id -u)" -ne 0 ]; then
    echo "bench/live.sh: live capture needs root" >&2
    exit 1
fi
command -v tcpreplay >/dev/null || { echo "bench/live.sh: tcpreplay is not installed" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench/live.sh: build $BIN first (bench/run does)" >&2; exit 1; }

SERVERS=()
cleanup() {
    [ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null || true
    [ ${#SERVERS[@]} -gt 0 ] && kill "${SERVERS[@]}" 2>/dev/null || true
    sh tools/lab/broker.sh stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_capture LOG [ARGS...]: oslotrace -i lo -j in the background, once it says it listens.
start_capture() {
    local log=$1
    shift
    "$BIN" -i lo -j "$@" > /dev/null 2> "$log" &
    CAP_PID=$!
    for _ in $(seq 100); do
        grep -q "listening on" "$log" && return 0
        kill -0 "$CAP_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench/live.sh: oslotrace did not start: $(cat "$log")" >&2
    exit 1
}

# stop_capture LOG: SIGINT, wait (in this shell: only it can wait for its child);
# sets pk, dr, ops from the summary line.
stop_capture() {
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || true
    CAP_PID=
    read -r pk dr ops < <(sed -n 's/^oslotrace: \([0-9]*\) packets, \([0-9]*\) dropped by kernel, \([0-9]*\) ops.*/\1 \2 \3/p' "$1" | tail -1)
}

pct() { python3 -c "print('%.1f' % (100.0 * $1 / $2))"; }

echo "## Live capture on loopback (bench/live.sh)"
echo

has_part() { [[ " $PARTS " == *" $1 "* ]]; }

# ---- 1. the lab at full rate ----
if has_part lab; then
sh tools/lab/broker.sh start >/dev/null
URL="rabbit://guest:guest@127.0.0.1:5672/"
# The oslo servers first, so the measured window is the traffic alone.
SERVERS=()
for s in "--name host-a" "--name host-b" "--listener listener-1"; do
    set -- $s
    /usr/bin/python3 tools/lab/server.py "$1" "$2" --url "$URL" --ready "$WORK/$2.ready" \
        --events "$WORK/events-$2.jsonl" > /dev/null 2>&1 &
    SERVERS+=($!)
done
for _ in $(seq 600); do
    [ -f "$WORK/host-a.ready" ] && [ -f "$WORK/host-b.ready" ] && [ -f "$WORK/listener-1.ready" ] && break
    sleep 0.1
done
start_capture "$WORK/lab.log"
t0=$(cpu_ticks "$CAP_PID")
w0=$(date +%s.%N)
/usr/bin/python3 tools/lab/traffic.py --url "$URL" --rate "$LAB_RATE" --duration "$LAB_SECONDS" \
    --threads 32 --cast-every 4 --notify-every 10 > "$WORK/traffic.out" 2>&1
w1=$(date +%s.%N)
t1=$(cpu_ticks "$CAP_PID")
sleep 1
stop_capture "$WORK/lab.log"
kill -TERM "${SERVERS[@]}" 2>/dev/null || true
wait "${SERVERS[@]}" 2>/dev/null || true
sh tools/lab/broker.sh stop >/dev/null
# Rates over the seconds traffic.py spent issuing operations (its start-up,
# importing oslo.messaging and connecting, is left out; oslotrace's CPU in
# that start-up is counted, so the share is if anything too high).
wall=$(sed -n 's/.* issued over \([0-9.]*\) s.*/\1/p' "$WORK/traffic.out")
[ -n "$wall" ] || wall=$(python3 -c "print($w1 - $w0)")
cpu=$(python3 -c "print(($t1 - $t0) / $HZ)")
echo "Lab at full rate: traffic.py asked for $LAB_RATE operations/s for $LAB_SECONDS s from 32 client"
echo "threads, with three oslo servers and the broker on the same 2 cores; it reports:"
echo "\`$(tail -1 "$WORK/traffic.out")\`."
echo
echo "| packets | packets/s | operations | operations/s | libpcap drops | oslotrace CPU | share of one core |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
printf '| %s | %.0f | %s | %.0f | %s | %.2f s | %s %% |\n' "$pk" "$(python3 -c "print($pk / $wall)")" \
    "$ops" "$(python3 -c "print($ops / $wall)")" "$dr" "$cpu" "$(pct "$cpu" "$wall")"
echo
fi

# ---- 2. replay ladder ----
FILTER="tcp port 5672 and (tcp[tcpflags] & tcp-rst) == 0"
if has_part replay; then
offline_ops=$("$BIN" -r "$REPLAY" -j 2>/dev/null | wc -l)
npk=$(capinfos -c -M "$REPLAY" 2>/dev/null | awk -F': *' '/Number of packets/ {print $2}')
echo "Replay of $(basename "$REPLAY") ($npk packets, $(( $(stat -c %s "$REPLAY") / 1000000 )) MB,"
echo "$offline_ops operations when read offline) with tcpreplay on lo, default 8 MiB kernel buffer:"
echo
echo "| tcpreplay rate asked | reached Mbps | reached packets/s | captured | libpcap drops | operations decoded | oslotrace CPU | share of one core |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for rate in $RATES; do
    start_capture "$WORK/replay.log" -f "$FILTER"
    if [ "$rate" = top ]; then
        args=(--topspeed)
        asked="topspeed"
    else
        args=(--mbps="$rate")
        asked="$rate Mbps"
    fi
    t0=$(cpu_ticks "$CAP_PID")
    w0=$(date +%s.%N)
    tcpreplay -i lo "${args[@]}" "$REPLAY" > "$WORK/tcpreplay.out" 2>&1
    w1=$(date +%s.%N)
    sleep 1 # let oslotrace drain what the kernel buffered
    t1=$(cpu_ticks "$CAP_PID")
    stop_capture "$WORK/replay.log"
    mbps=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($(i) ~ /^Mbps/) print $(i-1)}' "$WORK/tcpreplay.out" | tr -d ',')
    pps=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($(i) ~ /^pps/) print $(i-1)}' "$WORK/tcpreplay.out" | tr -d ',')
    wall=$(python3 -c "print($w1 - $w0)")
    cpu=$(python3 -c "print(($t1 - $t0) / $HZ)")
    printf '| %s | %s | %s | %s | %s | %s | %.2f s | %s %% |\n' "$asked" "$mbps" "$pps" "$pk" "$dr" "$ops" \
        "$cpu" "$(pct "$cpu" "$wall")"
done
echo
fi

# ---- 3. operations per second on the message shapes ----
# The same replay, on captures of many small oslo messages (where the work is
# per message, not per byte), at rising packet rates: the highest rate with
# no kernel drop and every operation decoded is what one core sustains.
# ops_ladder FILE PACKETS "PPS...": the first PACKETS packets of FILE.
ops_ladder() {
    local src=$1 npk=$2 ladder=$3 f="$WORK/ops-slice.pcap"
    editcap -F pcap -r "$src" "$f" "1-$npk" 2>/dev/null
    local want
    want=$("$BIN" -r "$f" -f "$FILTER" -j 2>/dev/null | wc -l)
    echo "$(basename "$src"), its first $npk packets ($(( $(stat -c %s "$f") / 1000000 )) MB, $want operations"
    echo "when read offline):"
    echo
    echo "| packets/s asked | reached | operations/s offered | operations decoded | libpcap drops | oslotrace CPU | share of one core | operations per CPU second |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    for rate in $ladder; do
        start_capture "$WORK/ops.log" -f "$FILTER"
        local args=(--pps="$rate") asked=$rate
        [ "$rate" = top ] && args=(--topspeed) && asked=topspeed
        local t0 w0 w1 t1
        t0=$(cpu_ticks "$CAP_PID")
        w0=$(date +%s.%N)
        tcpreplay -i lo "${args[@]}" "$f" > "$WORK/tcpreplay.out" 2>&1
        w1=$(date +%s.%N)
        sleep 1
        t1=$(cpu_ticks "$CAP_PID")
        stop_capture "$WORK/ops.log"
        local pps wall cpu
        pps=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($(i) ~ /^pps/) print $(i-1)}' "$WORK/tcpreplay.out" | tr -d ',')
        wall=$(python3 -c "print($w1 - $w0)")
        cpu=$(python3 -c "print(($t1 - $t0) / $HZ)")
        printf '| %s | %s | %.0f | %s of %s | %s | %.2f s | %s %% | %.0f |\n' "$asked" "$pps" \
            "$(python3 -c "print($want / $wall)")" "$ops" "$want" "$dr" "$cpu" "$(pct "$cpu" "$wall")" \
            "$(python3 -c "print($ops / max($cpu, 0.01))")"
    done
    echo
}
if has_part ops && [ -n "$OPS_REPLAYS" ]; then
    echo "Operations per second on the message shapes: the same replay at rising packet rates."
    echo "For scale: the OpenStack performance team's oslo.messaging simulator runs drove one"
    echo "3-node RabbitMQ cluster to at most 6,800 CALL, 14,700 CAST and 14,300 NOTIFY msg/s (HA"
    echo "queues off), 2,400-3,200 CALL msg/s with mirrored queues (\"RabbitMQ Performance Report\","
    echo "openstack/performance-docs, doc/source/test_results/mq/rabbitmq/index.rst, Intel-Mirantis"
    echo "lab): what one control plane's broker carries at its limit, so the rate a capture on it has"
    echo "to keep up with. No public figure for a production cloud's rate was found. The last"
    echo "column is what one core would decode if it did nothing else (operations over CPU time);"
    echo "tcpreplay itself tops out near 150,000-190,000 packets/s on this machine."
    echo
    for spec in $OPS_REPLAYS; do
        IFS=: read -r name npk <<< "$spec"
        [ -f "$DATA/$name.pcap" ] && ops_ladder "$DATA/$name.pcap" "$npk" "$OPS_RATES"
    done
fi
echo "CPU share: oslotrace's CPU time over the wall time of the traffic (the lab run or the replay)."
