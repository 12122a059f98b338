"""Issue 18 point 15: on a wide terminal the Calls view has an ERROR column
(the remote exception's class and message) and a SERVER column (the server's
process, else its address). Checked on errors.pcap against the truth file:
every call that ended in a remote error shows the truth's exception type,
the others none; each server host of the truth shows as one process and
two hosts never as the same one."""
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checker, capture_ops  # noqa: E402
from tui_driver import TuiSession, require_tmux, rows  # noqa: E402


def table(screen):
    lines = rows(screen)
    head = [l for l in lines if l.startswith("TIME ")]
    if not head:
        return None, []
    h = head[0]
    starts = [(m.group(0), m.start()) for m in re.finditer(r"\S+", h)]
    out = []
    for l in lines[lines.index(h) + 1:]:
        if not re.match(r"\d\d:\d\d:\d\d\.\d{6} ", l):
            break
        cells = {}
        for i, (name, x) in enumerate(starts):
            end = starts[i + 1][1] if i + 1 < len(starts) else len(l)
            cells[name] = l[x:end].strip()
        out.append(cells)
    return [n for n, _ in starts], out


def main():
    require_tmux()
    pcap, tr = capture_ops("errors")
    by_req = {r["request_id"]: r for r in tr if r.get("request_id")}
    c = Checker("tui_wide")
    with TuiSession(c, "wide", 230, 70) as t:
        s = t.read_capture(pcap)
        names, got = table(s)
        if c.check(names, "the Calls header is there"):
            for col in ("ERROR", "SERVER", "CLIENT", "REQUEST_ID"):
                c.check(col in names, "230 columns: Calls shows %s: %r" % (col, names))
        c.check(len(got) == len(tr), "all %d operations on screen (%d)" % (len(tr), len(got)))
        host_proc = collections.defaultdict(set)
        nerr = 0
        for cells in got:
            r = by_req.get(cells.get("REQUEST_ID"))
            if not c.check(r, "row's request id is in the truth: %r" % cells):
                continue
            if r["outcome"] == "remote_error":
                nerr += 1
                c.check(cells.get("ERROR", "").startswith(r["remote_exc_type"]),
                        "%s: ERROR %r starts with the truth's %s" %
                        (r["request_id"], cells.get("ERROR"), r["remote_exc_type"]))
            else:
                c.check(cells.get("ERROR") == "", "%s (%s): no ERROR: %r" %
                        (r["request_id"], r["outcome"], cells.get("ERROR")))
            hosts = {x["server"] for x in r.get("served_by") or []}
            if len(hosts) == 1 and r["kind"] == "call":
                host_proc[hosts.pop()].add(cells.get("SERVER"))
        c.check(nerr == sum(r["outcome"] == "remote_error" for r in tr),
                "every remote error of the truth was checked (%d)" % nerr)
        procs = [next(iter(p)) for p in host_proc.values() if len(p) == 1]
        c.check(host_proc and all(len(p) == 1 and "-" not in p for p in host_proc.values()),
                "each server host of the truth shows as one process: %r" % dict(host_proc))
        c.check(len(set(procs)) == len(procs),
                "two hosts never show as the same server: %r" % dict(host_proc))
        t.quit()
    c.finish()


if __name__ == "__main__":
    main()
