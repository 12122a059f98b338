#!/usr/bin/env bash
# compare_tui.sh: what a person sees in the TUI, compared between two
# oslotrace binaries: each is run in tmux (132x40) on each capture, and the
# Calls list, the Detail of the first operation, Topics and Connections are
# captured once the file has loaded and diffed. The packet rate (wall-clock
# dependent) is masked. Used with tools/compare_outputs.sh to prove that a
# refactor changed nothing on screen. Exit 1 on any difference.
#
# usage: tools/compare_tui.sh OLD_BIN NEW_BIN [PCAP...]   (default: pcaps/*.pcap)
set -u
[ $# -ge 2 ] || { echo "usage: $0 OLD_BIN NEW_BIN [PCAP...]" >&2; exit 2; }
command -v tmux >/dev/null || { echo "compare_tui.sh: needs tmux" >&2; exit 2; }
old=$1 new=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "$here"/pcaps/*.pcap
tmp=$(mktemp -d)
session=compare-tui-$$
trap 'tmux kill-session -t "$session" 2>/dev/null; rm -rf "$tmp"' EXIT

screens() { # BIN PCAP DIR
    mkdir -p "$3"
    tmux new-session -d -s "$session" -x 132 -y 40 "$1 --tui -r $2; sleep 60"
    for _ in $(seq 1 200); do
        tmux capture-pane -p -t "$session" | grep -q "end of capture" && break
        sleep 0.1
    done
    sleep 0.3
    tmux capture-pane -p -t "$session" >"$3/calls"
    tmux send-keys -t "$session" Home; sleep 0.3
    tmux send-keys -t "$session" Enter; sleep 0.4
    tmux capture-pane -p -t "$session" >"$3/detail"
    tmux send-keys -t "$session" 3; sleep 0.4
    tmux capture-pane -p -t "$session" >"$3/topics"
    tmux send-keys -t "$session" 4; sleep 0.4
    tmux capture-pane -p -t "$session" >"$3/conns"
    tmux kill-session -t "$session" 2>/dev/null
    sed -i -E 's/[0-9]+\/s/N\/s/g' "$3"/*
}

fail=0 n=0
for pcap in "$@"; do
    name=$(basename "$pcap")
    screens "$old" "$pcap" "$tmp/old/$name"
    screens "$new" "$pcap" "$tmp/new/$name"
    n=$((n + 1))
    if ! diff -r "$tmp/old/$name" "$tmp/new/$name"; then
        echo "DIFF $name: screens differ"
        fail=1
    fi
done
[ $fail -eq 0 ] && echo "identical: $n captures x 4 screens"
exit $fail
