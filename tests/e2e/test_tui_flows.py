"""The TUI's Flows view on pcaps/chain.pcap, driven through tmux at 200x50 and
80x24: `5` lists one row per user request (as many as the truth's requests
linked by request_id / global_request_id), each with the truth's number of
operations and worst status; Enter draws the ladder of the selected flow,
whose `<#N` parent references are the truth's parents (the services
recorded which message they were handling) and whose timeout is marked; at
80x24 the ladder pages to its last leg (PgDn) and back; Esc returns to the list, `F`
opens the view from another one."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checker, PCAPS, SKIP, truth  # noqa: E402
from test_flows import RANK, STATUS, truth_flows  # noqa: E402
from tui_driver import TuiSession, require_tmux, rows  # noqa: E402

LIST_ROW = re.compile(r"^(\d\d:\d\d:\d\d\.\d{6})\s+(\S+)\s+(\w+)\s+(\d+)\s+(\d+)\s")


def list_rows(screen):
    return [m for m in (LIST_ROW.match(line) for line in rows(screen)[:-2]) if m]


def worst(fl):
    return max((STATUS[t["outcome"]] for t in fl), key=lambda s: RANK[s])


def check_list(c, t, flows, width):
    s = t.wait_for(lambda x: len(list_rows(x)) >= len(flows), 20, "the flows list at %d" % width)
    got = sorted((int(m.group(4)), m.group(3)) for m in list_rows(s))
    want = sorted((len(fl), worst(fl)) for fl in flows)
    c.check(got == want, "%d cols: flows (ops, worst) %s, truth %s" % (width, got, want))
    if width >= 200:
        for fl in flows:
            c.check(any(t_["request_id"] in s for t_ in fl),
                    "the list names request %s" % fl[0]["request_id"])
        c.check("services" in rows(s)[1] and "api,conductor" in s, "services column")
    return s


def select_row(t, screen, pred):
    """Moves the selection to the first list row matching pred; its index."""
    ms = list_rows(screen)
    for i, m in enumerate(ms):
        if pred(m):
            t.keys(*(["k"] * 20))  # to the top (tmux's Home is not xterm's)
            for _ in range(i):
                t.keys("j")
            return i
    return None


def check_ladder(c, t, fl, width):
    ordered = sorted(fl, key=lambda x: x["t_publish"])
    num = {o["id"]: k + 1 for k, o in enumerate(ordered)}
    t.keys("Enter")
    s = t.wait_for(lambda x: "gap ms" in x, 10, "the ladder")
    c.check(any(o["request_id"] in rows(s)[1] for o in fl) or width < 120,
            "%d cols: the ladder names its request" % width)
    text = "\n".join(rows(s))
    for o in ordered:
        if o["parent"] and width >= 200:
            pat = r"#%d \S+ .*<#%d\s*$" % (num[o["id"]], num[o["parent"]])
            c.check(re.search(pat, text, re.M), "%d cols: #%d's parent is #%d (truth)"
                    % (width, num[o["id"]], num[o["parent"]]))
    return s


def main():
    require_tmux()
    pcap = os.path.join(PCAPS, "chain.pcap")
    tpath = os.path.join(PCAPS, "chain.truth.jsonl")
    if not os.path.exists(tpath):
        print("SKIP: no chain capture")
        sys.exit(SKIP)
    ops = [x for x in truth(tpath) if x.get("in_capture", True)]
    flows = truth_flows(ops)
    boot = max(flows, key=len)
    migrate = next(fl for fl in flows if worst(fl) == "timeout")
    c = Checker("tui_flows")
    with TuiSession(c, "flows", width=200, height=50) as t:
        t.read_capture(pcap)
        t.keys("5")
        s = check_list(c, t, flows, 200)
        c.check("5 Flows" in rows(s)[0], "the title bar names the Flows view")
        # the biggest boot flow's ladder: every parent reference is the truth's
        i = select_row(t, s, lambda m: any(o["request_id"] in m.string for o in boot))
        c.check(i is not None, "the list has the boot request")
        s = check_ladder(c, t, boot, 200)
        legs = len([ln for ln in rows(s) if re.match(r"^\s+\d+\.\d{3}\s+\d+\.\d{3}\s", ln)])
        c.check(legs >= 2 * len(boot), "200x50: the whole boot ladder on screen (%d rows)" % legs)
        t.keys("Escape")
        s = check_list(c, t, flows, 200)
        # the timed-out request: the inner call's timeout is marked
        select_row(t, s, lambda m: m.group(3) == "timeout")
        s = check_ladder(c, t, migrate, 200)
        c.check(re.search(r"X\s+\|?\s*#2 TIMEOUT after 1\.000s", "\n".join(rows(s))),
                "the timeout is marked on the caller's column")
        t.keys("Escape")
        # 80x24: the list still has every flow; the boot ladder scrolls to its end
        t.resize(80, 24)
        t.keys("1")
        t.keys("F")
        s = check_list(c, t, flows, 80)
        select_row(t, s, lambda m: int(m.group(4)) == len(boot))
        t.keys("Enter")
        s = t.wait_for(lambda x: "gap ms" in x, 10, "the narrow ladder")
        c.check(all(len(line) <= 80 for line in rows(s)), "80 columns: no line wider")
        c.check(re.search(r"mq\s+api\s+condu", s), "80 columns: short column names")
        last = "#%d deliver" % len(boot)
        c.check(last not in s, "24 rows: the ladder is longer than the screen")
        t.keys("NPage")
        s = t.wait_for(lambda x: last in x, 10, "the ladder's last leg after PgDn")
        t.keys("PPage")
        s = t.wait_for(lambda x: "#1 call" in x, 10, "the ladder's first leg after PgUp")
        t.keys("Escape")
        t.wait_for(lambda x: len(list_rows(x)) >= len(flows), 10, "the list after Esc")
        t.quit()
    c.finish()


if __name__ == "__main__":
    main()
