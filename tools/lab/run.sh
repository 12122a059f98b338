#!/bin/sh
# tools/lab/run.sh NAME — regenerate pcaps/NAME.{pcap|pcapng,truth.jsonl,meta.json}.
# Starts the lab broker if needed (tools/lab/broker.sh; it keeps running, stop
# it with `tools/lab/broker.sh stop`), then runs tools/lab/run.py NAME, which
# captures a real oslo.messaging scenario (or derives lossy/cut from another
# capture) and verifies the capture against its truth.  Extra args go to run.py
# (e.g. --out DIR).  Uses Debian's /usr/bin/python3 (it has oslo.messaging).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 NAME [--out DIR]" >&2; exit 2; }
case "$1" in
    # TLS scenarios need the broker's AMQPS listener (a broker already running
    # without one must be stopped first: tools/lab/broker.sh stop).
    tls*) LAB_TLS_PORT=${LAB_TLS_PORT:-5671}; export LAB_TLS_PORT ;;
esac
"$here/broker.sh" start >/dev/null
exec /usr/bin/python3 "$here/run.py" "$@"
