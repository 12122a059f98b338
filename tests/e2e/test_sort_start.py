"""Issue 18 point 12: --sort-start prints operations in the order they
began. Without it a timed-out call prints when it times out, after calls
that began later; with it the text lines and the -j records come in the
order the lab's clients published their requests (the truth files'
t_publish), on errors.pcap and diagnosis.pcap (both have timeouts). A
buffer too small to wait for the timeouts says so on stderr with its
counter; options with no per-operation lines refuse it (exit 2)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BIN, PCAPS, Checker, truth  # noqa: E402


def run(args):
    p = subprocess.run([BIN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def truth_order(name, key):
    tr = [r for r in truth(os.path.join(PCAPS, name + ".truth.jsonl"))
          if r.get("in_capture", True) and r.get(key)]
    return [r[key] for r in sorted(tr, key=lambda r: r.get("t_publish") or r["t_start"])]


def in_order(got, want):
    """got (ids as printed) keeps want's order for the ids both have."""
    pos = {k: i for i, k in enumerate(want)}
    seq = [pos[k] for k in got if k in pos]
    return len(seq) == len(want) and seq == sorted(seq)


def main():
    c = Checker("sort_start")
    for name in ("errors", "diagnosis"):
        pcap = os.path.join(PCAPS, name + ".pcap")
        want_msg = truth_order(name, "msg_id")
        want_req = truth_order(name, "request_id")
        rc, out, err = run(["-r", pcap, "-j"])
        plain = [json.loads(l).get("msg_id") for l in out.splitlines() if l.strip()]
        c.check(rc == 0 and not in_order(plain, want_msg),
                "%s: without --sort-start -j is not in publish order (a timeout prints late)" % name)
        rc, out, err = run(["-r", pcap, "-j", "--sort-start"])
        recs = [json.loads(l) for l in out.splitlines() if l.strip()]
        got = [r.get("msg_id") for r in recs]
        c.check(rc == 0 and in_order(got, want_msg),
                "%s: -j --sort-start follows the truth's publish order (%d calls): %s" %
                (name, len(want_msg), err.strip()[-300:]))
        ts = [r["ts"] for r in recs]
        c.check(ts == sorted(ts), "%s: -j --sort-start: ts never goes back" % name)
        rc, out, err = run(["-r", pcap])
        plain = [w for l in out.splitlines() for w in l.split() if w in set(want_req)]
        c.check(rc == 0 and not in_order(plain, want_req),
                "%s: without --sort-start text lines are not in publish order" % name)
        rc, out, err = run(["-r", pcap, "--sort-start", "-ttt"])
        got = [w for l in out.splitlines() for w in l.split() if w in set(want_req)]
        c.check(rc == 0 and in_order(got, want_req),
                "%s: text --sort-start follows the truth's publish order (%d requests)" %
                (name, len(want_req)))
        deltas = [l.split()[0] for l in out.splitlines() if l.strip()]
        c.check(deltas and not any(d.startswith("-") for d in deltas),
                "%s: -ttt deltas follow the printed order (none negative): %r" % (name, deltas[:5]))

    pcap = os.path.join(PCAPS, "errors.pcap")
    rc, out, err = run(["-r", pcap, "-j", "--sort-start=3", "--report"])
    c.check(rc == 0 and "--sort-start" in err and "buffer of 3 was full" in err,
            "a full buffer says so on stderr: %r" % err[-300:])
    ntruth = sum(1 for r in truth(os.path.join(PCAPS, "errors.truth.jsonl"))
                 if r.get("in_capture", True))
    nrec = sum(1 for l in out.splitlines() if l.startswith('{"schema":1,"type":'))
    c.check(nrec == ntruth, "a full buffer loses no operation: %d records, truth %d" %
            (nrec, ntruth))
    for args in (["--tui"], ["--amqp"], ["-q"], ["--report"], ["--sort-start=0"]):
        rc, out, err = run(["-r", pcap, "--sort-start"] + args)
        c.check(rc == 2 and "sort-start" in err, "--sort-start %s: exit 2 (%d) %r" %
                (" ".join(args), rc, err[:200]))
    c.finish()


if __name__ == "__main__":
    main()
