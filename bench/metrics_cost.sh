#!/usr/bin/env bash
# What --metrics-listen and --metrics-file cost (docs/fleet.md "Costs").
#
# Offline: oslotrace -q -r CAPTURE without metrics, with --metrics-file and with
# --metrics-listen (no scraper), N runs each, user+sys CPU seconds and peak RSS
# (/usr/bin/time). Live: a private lab broker on its own ports, two oslotrace
# captures of the same loopback traffic (tools/lab/traffic.py), one plain and
# one serving /metrics scraped every second; their CPU time (from /proc/PID/stat)
# and peak RSS (VmHWM) at the end.
#   bash bench/metrics_cost.sh [BIN] [CAPTURE] [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/release/oslotrace}
CAP=${2:-pcaps/concurrency.pcap}
RATE=${3:-200}
DUR=${4:-30}
RUNS=5
TMP=$(mktemp -d /tmp/oslotrace-metrics-cost.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "${LAB_PORT:-}" ]; then sh tools/lab/broker.sh stop >/dev/null 2>&1 || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

echo "## offline: $BIN -q -r $CAP ($RUNS runs each; median user+sys s, peak RSS KiB)"
offline() {
    local label=$1; shift
    local cpus=() rss=()
    for _ in $(seq $RUNS); do
        /usr/bin/time -f "%U %S %M" -o "$TMP/t" "$BIN" -q -r "$CAP" "$@" >/dev/null 2>&1
        read -r u s m <"$TMP/t"
        cpus+=("$(echo "$u + $s" | bc)")
        rss+=("$m")
    done
    printf '%-26s cpu %ss  rss %s KiB\n' "$label" \
        "$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")" \
        "$(printf '%s\n' "${rss[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")"
}
offline "no metrics"
offline "--metrics-file" --metrics-file "$TMP/m.prom"
offline "--metrics-listen" --metrics-listen 127.0.0.1:0

[ "$(id -u)" -eq 0 ] || { echo "live part skipped: needs root"; exit 0; }
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || { echo "live part skipped: no rabbitmq-server"; exit 0; }
export LAB_PORT=5696 LAB_EPMD_PORT=4376 LAB_DIR=$TMP/lab LAB_NODE=oslotrace-mcost@localhost
sh tools/lab/broker.sh start >/dev/null
"$BIN" -i lo -q -f "tcp port $LAB_PORT" --amqp-port $LAB_PORT >/dev/null 2>"$TMP/plain.err" &
plain=$!; pids+=($plain)
"$BIN" -i lo -q -f "tcp port $LAB_PORT" --amqp-port $LAB_PORT --metrics-listen 127.0.0.1:0 \
    >/dev/null 2>"$TMP/metrics.err" &
metrics=$!; pids+=($metrics)
sleep 1.5
url=$(grep -o 'http://[^ ]*' "$TMP/metrics.err")
( while sleep 1; do curl -s -o /dev/null -H 'Accept: application/openmetrics-text' "$url"; done ) &
pids+=($!)
/usr/bin/python3 tools/lab/traffic.py --rate "$RATE" --duration "$DUR" --servers \
    --url "rabbit://guest:guest@127.0.0.1:$LAB_PORT/" >/dev/null 2>&1
sleep 1
tck=$(getconf CLK_TCK)
echo "## live: $RATE calls/s of lab traffic on lo for $DUR s, scraped every second"
for p in $plain $metrics; do
    read -r -a st <"/proc/$p/stat"
    cpu=$(echo "scale=2; (${st[13]} + ${st[14]}) / $tck" | bc)
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$p/status")
    label=$([ "$p" = "$plain" ] && echo "no metrics" || echo "--metrics-listen")
    printf '%-26s cpu %ss (%s%% of a core)  peak rss %s KiB\n' "$label" "$cpu" \
        "$(echo "scale=2; 100 * $cpu / $DUR" | bc)" "$hwm"
done
curl -s "$url" | grep -E '^oslotrace_(rpc_operations_total\{call_type="call"|packets_total|pcap_drops_total|metrics_exposition_bytes|metrics_scrapes_total)' | head -8
