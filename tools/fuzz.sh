#!/bin/bash
# tools/fuzz.sh: builds the libFuzzer targets and runs them.
#
#   bash tools/fuzz.sh [TARGET|all] [SECONDS]     default: all, 15 s each
#
# TARGET is fuzz_amqp_stream, fuzz_amqp_table, fuzz_oslo, fuzz_json_quoted, fuzz_pcap, fuzz_tls or
# fuzz_display_filter (the "fuzz_" may be left out). Builds build/fuzz with clang (OSLOTRACE_FUZZ=ON),
# cuts seeds from pcaps/ once (tests/fuzz/make_seeds.py), and keeps each
# target's growing corpus in $FUZZ_WORK/corpus/TARGET (default build/fuzz, not
# in git). Crash inputs land in $FUZZ_WORK/artifacts/TARGET/. Exit status is
# non-zero when any target crashed, leaked, timed out or ran out of memory:
# that is what makes `make test` red.
#
# Long runs (docs/hardening.md): FUZZ_WORK=/tmp/fz FUZZ_JOBS=1 bash tools/fuzz.sh fuzz_oslo 1800
# (FUZZ_JOBS=N passes -jobs=N -workers=N; logs go to $FUZZ_WORK/logs/TARGET/).
# Extra libFuzzer flags: FUZZ_ARGS="-max_len=65536".
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${1:-all}
SECONDS_EACH=${2:-15}
BUILD=${FUZZ_BUILD:-$SRC/build/fuzz}
WORK=${FUZZ_WORK:-$BUILD}
JOBS=${FUZZ_JOBS:-0}
ALL="fuzz_amqp_stream fuzz_amqp_table fuzz_oslo fuzz_json_quoted fuzz_pcap fuzz_tls fuzz_display_filter"

if ! command -v clang >/dev/null; then
    echo "fuzz.sh: clang is needed for libFuzzer" >&2
    exit 1
fi
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    CC=clang cmake -S "$SRC" -B "$BUILD" -DOSLOTRACE_FUZZ=ON -DOSLOTRACE_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j 2 --target $ALL >/dev/null

SEEDS=$BUILD/seeds
if [ ! -d "$SEEDS" ]; then
    python3 "$SRC/tests/fuzz/make_seeds.py" "$SRC/pcaps" "$SEEDS" >/dev/null
fi
cat "$SRC"/tests/fuzz/dict/*.dict > "$BUILD/all.dict"

dict_for() {
    case $1 in
        fuzz_oslo | fuzz_json_quoted) echo "$SRC/tests/fuzz/dict/oslo.dict" ;;
        fuzz_display_filter) echo "$SRC/tests/fuzz/dict/display_filter.dict" ;;
        fuzz_pcap) echo "$BUILD/all.dict" ;;
        *) echo "$SRC/tests/fuzz/dict/amqp.dict" ;;
    esac
}

maxlen_for() {
    case $1 in
        fuzz_amqp_table) echo 16384 ;;
        fuzz_display_filter) echo 1024 ;;
        *) echo 65536 ;;
    esac
}

run_one() {
    local t=$1
    local corpus=$WORK/corpus/$t art=$WORK/artifacts/$t/ logs=$WORK/logs/$t
    mkdir -p "$corpus" "$art" "$logs"
    local seeds=()
    [ -d "$SEEDS/$t" ] && seeds=("$SEEDS/$t")
    # Inputs that once crashed a target are replayed first on every run.
    [ -d "$SRC/tests/bad/fuzz/$t" ] && seeds+=("$SRC/tests/bad/fuzz/$t")
    local jobargs=()
    if [ "$JOBS" -gt 0 ]; then
        jobargs=(-jobs="$JOBS" -workers="$JOBS")
    fi
    echo "fuzz.sh: $t for ${SECONDS_EACH}s (corpus $corpus)"
    # -timeout: one input taking 25 s is a hang; -rss_limit_mb: a leak or an
    # unbounded table shows as an out-of-memory crash.
    (cd "$logs" && "$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=25 \
        -rss_limit_mb=2048 -max_len="$(maxlen_for "$t")" -dict="$(dict_for "$t")" \
        -artifact_prefix="$art" -print_final_stats=1 ${jobargs[@]+"${jobargs[@]}"} \
        ${FUZZ_ARGS:-} "$corpus" ${seeds[@]+"${seeds[@]}"})
}

case $TARGET in
    all) targets=$ALL ;;
    fuzz_*) targets=$TARGET ;;
    *) targets=fuzz_$TARGET ;;
esac
status=0
for t in $targets; do
    case " $ALL " in
        *" $t "*) ;;
        *) echo "fuzz.sh: unknown target '$t' (one of: $ALL)" >&2; exit 2 ;;
    esac
    if ! run_one "$t"; then
        echo "fuzz.sh: $t FAILED; crash inputs in $WORK/artifacts/$t/" >&2
        status=1
    fi
done
exit $status
