"""Issue 18 point 15: `oslotrace --tui -r -` reads the capture from stdin
(a pipe) and the keys from the terminal. In tmux, `cat errors.pcap |
oslotrace --tui -r -` holds as many operations as the truth file and
per topic as many calls, and q exits 0; without a terminal it says why and
exits 1."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BIN, Checker, capture_ops  # noqa: E402
from tui_driver import TuiSession, require_tmux, rows  # noqa: E402


def main():
    require_tmux()
    pcap, tr = capture_ops("errors")
    c = Checker("tui_stdin")
    with TuiSession(c, "stdin", 132, 40) as t:
        t.literal("cat '%s' | '%s' --tui -r -; echo TUI-EXIT=$?" % (pcap, BIN))
        t.keys("Enter")
        s = t.wait_for(lambda x: "(end)" in x, 60, "the end of stdin")
        m = re.search(r"(\d+)/(\d+)", rows(s)[0])
        c.check(m and int(m.group(2)) == len(tr),
                "the TUI read %s operations from stdin, truth %d" % (m and m.group(2), len(tr)))
        c.check("file stdin" in s, "the status line names stdin")
        t.keys("3")
        s = t.wait_for(lambda x: "CALLS" in x and "P99" in x, 10, "Topics")
        for topic in ("compute", "conductor", "nobody_listens"):
            want = sum(r["topic"] == topic and r["kind"] == "call" for r in tr)
            line = [l for l in rows(s) if l.startswith(topic + " ")]
            c.check(line and int(line[0].split()[1]) == want,
                    "%s: %s calls, truth %d" % (topic, line and line[0].split()[1], want))
        t.quit()
    with open(pcap, "rb") as f:
        p = subprocess.run([BIN, "--tui", "-r", "-"], stdin=f, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30, start_new_session=True)
    err = p.stderr.decode(errors="replace")
    c.check(p.returncode == 1 and "--tui" in err and "terminal" in err,
            "no terminal: exit 1 and why (%d %r)" % (p.returncode, err))
    c.finish()


if __name__ == "__main__":
    main()
