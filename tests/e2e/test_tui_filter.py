"""Issue 18 points 11 and 20 in the TUI: the `/` prompt compiles the same
display filter language as -Y. On errors.pcap, each expression shows as many
operations as the truth file says it selects; "/latency<2" is a latency bound
(the operations the command line's -Y 'latency<2' prints), not a topic glob;
a bad line says what and where and leaves the filter as it was."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checker, capture_ops, ndjson  # noqa: E402
from tui_driver import TuiSession, require_tmux, rows  # noqa: E402


def title_counts(screen):
    m = re.search(r"(\d+)/(\d+)", rows(screen)[0])
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def set_filter(t, expr):
    t.keys("/", "C-u")
    t.literal(expr)
    t.keys("Enter")


def main():
    require_tmux()
    pcap, tr = capture_ops("errors")
    calls = [r for r in tr if r["kind"] == "call"]
    c = Checker("tui_filter")
    cases = [
        ("status==timeout", sum(r["outcome"] == "timeout" for r in calls)),
        ("status==error or (topic==compute && status==timeout)",
         sum(r["outcome"] == "remote_error" or (r["topic"] == "compute" and r["outcome"] == "timeout")
             for r in calls)),
        ("topic==compute.host-a", sum(r.get("server") == "host-a" for r in tr)),
        ("type==cast", sum(r["kind"] == "cast" for r in tr)),
    ]
    # latency<2 ms: the truth has no wire latency; the command line's -Y is the other front-end
    # of the same parser, and the TUI must agree with it (and not read it as a topic).
    fast = len(ndjson(["-r", pcap, "-j", "-Y", "latency<2"]))
    c.check(0 < fast < len(tr), "-Y latency<2 selects some operations (%d of %d)" % (fast, len(tr)))

    with TuiSession(c, "filter", 132, 40) as t:
        s = t.read_capture(pcap)
        _, total = title_counts(s)
        c.check(total == len(tr), "the TUI holds %s ops, truth %d" % (total, len(tr)))
        for expr, want in cases:
            set_filter(t, expr)
            s = t.wait_for(lambda x, e=expr: e in rows(x)[0], 10, "the filter " + expr)
            shown, _ = title_counts(s)
            c.check(shown == want, "/%s shows %s ops, truth %d" % (expr, shown, want))

        set_filter(t, "latency<2")
        s = t.wait_for(lambda x: "latency<2" in rows(x)[0], 10, "the latency filter")
        shown, _ = title_counts(s)
        c.check(shown == fast, "/latency<2 shows %s ops, -Y latency<2 printed %d" % (shown, fast))
        c.check("topic=latency" not in s, "latency<2 did not become a topic glob")

        set_filter(t, "compute")
        s = t.wait_for(lambda x: "unknown field" in x, 10, "the error message")
        c.check("unknown field 'compute' (a topic glob is topic==compute) at column 1" in s,
                "the message says what and where:\n" + s)
        shown, _ = title_counts(s)
        c.check(shown == fast and "latency<2" in rows(s)[0],
                "a bad line leaves the filter as it was (%s ops)" % shown)

        set_filter(t, "")
        s = t.wait_for(lambda x: "filter cleared" in x, 10, "the filter cleared")
        shown, total = title_counts(s)
        c.check(shown == total == len(tr), "an empty line clears the filter: %s/%s" % (shown, total))
        t.quit()
    c.finish()


if __name__ == "__main__":
    main()
