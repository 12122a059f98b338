"""-q means one thing, and --amqp means AMQP only (issue 18, point 9).

-q silences per-operation output of every kind: text, -j records and --amqp
frames (stdout empty), while -q --report -j still gives the one report
document. --amqp -j gives AMQP method records only, as many as tshark counts
AMQP methods in tests/expected/ (test_amqp_counts.py checks which)."""
import json
import os

from common import PCAPS, Checker, run

PCAP = os.path.join(PCAPS, "errors.pcap")


def main():
    c = Checker("quiet_amqp")
    lines = run(["-r", PCAP, "--amqp", "-j"]).stdout.decode().splitlines()
    types = {}
    for l in lines:
        t = json.loads(l).get("type")
        types[t] = types.get(t, 0) + 1
    c.check(set(types) == {"amqp"}, "--amqp -j: record types %r, want only amqp" % types)
    for args in (["-j"], ["--amqp"], ["--amqp", "-j"], []):
        p = run(["-q", "-r", PCAP] + args)
        c.check(p.stdout == b"", "-q %s: stdout not empty (%d bytes)" % (" ".join(args), len(p.stdout)))
        c.check(p.stderr == b"", "-q %s: stderr not empty: %r" % (" ".join(args), p.stderr[:200]))
    rep = run(["-q", "-r", PCAP, "--report", "-j"]).stdout
    c.check(json.loads(rep).get("type") == "report", "-q --report -j: one report document")
    c.finish()


if __name__ == "__main__":
    main()
