"""Every bounded table says so once when it is full: a run that evicts
(--max-pending 3 on a capture with more calls in flight) prints exactly one
warning line for that table, naming its counter, however many evictions
follow, and the counter in the JSON report shows it (the truth has more than 3
calls in flight at once); a run within its limits prints none.
Oracle: the capture's truth file (its calls) and the documented conventions."""
import json
import os

from common import PCAPS, Checker, run, truth


def max_in_flight(ops):
    edges = []
    for t in ops:
        if t.get("kind") == "call" and t.get("t_start") and t.get("t_end"):
            edges += [(t["t_start"], 1), (t["t_end"], -1)]
    n = best = 0
    for _, d in sorted(edges):
        n += d
        best = max(best, n)
    return best


def main():
    c = Checker("limit-warn")
    pcap = os.path.join(PCAPS, "concurrency.pcap")
    p = run(["-r", pcap, "-q", "--max-pending", "3", "--report", "-j"])
    err = p.stderr.decode()
    lines = [l for l in err.splitlines() if "a limit was reached" in l]
    c.check(len(lines) == 1, "want one warning line, got %d: %r" % (len(lines), err[-400:]))
    c.check(lines and "calls_evicted" in lines[0] and "--max-pending" in lines[0],
            "the warning names the counter and the option: %r" % lines[:1])
    rep = json.loads(p.stdout)
    evicted = rep["counters"]["calls_evicted"]
    # The truth has more calls in flight at once than 3: the table evicted
    # many times, and said so once.
    inflight = max_in_flight(truth(os.path.join(PCAPS, "concurrency.truth.jsonl")))
    c.check(inflight > 3, "the truth has only %d calls in flight at once" % inflight)
    c.check(evicted > 1, "calls_evicted %d: the limit did not bite" % evicted)
    p = run(["-r", pcap, "-q", "--report"])
    c.check("a limit was reached" not in p.stderr.decode(),
            "a warning without a limit reached: %r" % p.stderr.decode()[-300:])
    c.finish()


if __name__ == "__main__":
    main()
