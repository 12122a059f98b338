"""Issue 18 point 15: the TUI at 80x24 on errors.pcap, checked against the
lab's truth file. The Topics view keeps OPS, RATE/s and P90 at 80 columns,
and per topic OK + ERR + TMO + OPEN adds up to OPS (the truth's operations);
the sort column is marked and never hidden (the second `s` sorts by RATE/s,
the seventh by MAX: both shown at 80 columns); the Calls view sorts too
(`s` there: latency, slowest first, the truth's timed-out calls on top);
`n` finds the next row holding a text, cycling through the truth's matches
(each one's Detail names a msg_id the truth has for that topic); Detail
wraps at blanks, never inside a word, an address or a connection name."""
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checker, capture_ops  # noqa: E402
from tui_driver import TuiSession, require_tmux, rows  # noqa: E402

MARKS = "\u25bc\u25b2v^"


def ms(text):
    m = re.fullmatch(r"([0-9.]+)(ms|s)", text)
    if not m:
        return None
    return float(m.group(1)) * (1000.0 if m.group(2) == "s" else 1.0)


def topics_table(screen, topics):
    """{column title (marker stripped): index}, the marked column, {topic: cells}.
    The name column is one cell in a row (and may be cut with a mark at 80
    columns), several words in the header: everything before CALLS."""
    lines = rows(screen)
    head = [l for l in lines if l.lstrip(MARKS).startswith("TOPIC")]
    if not head:
        return None, None, {}
    words = head[0].split()
    first = [i for i, w in enumerate(words) if w.strip(MARKS) == "CALLS"]
    if not first:
        return None, None, {}
    words = ["NAME" + ("\u25b2" if "\u25b2" in head[0].split("CALLS")[0] else "")] + \
        words[first[0]:]
    col, marked = {}, None
    for i, w in enumerate(words):
        name = w.strip(MARKS)
        if name != w:
            marked = name
        col[name] = i
    table = {}
    for l in lines[lines.index(head[0]) + 1:]:
        if l.startswith(" ") or not l.strip():
            continue  # method rows are indented
        cells = l.split()
        shown = cells[0].rstrip("\u2026~")
        full = [tp for tp in topics if tp == cells[0] or (shown != cells[0] and tp.startswith(shown))]
        if len(cells) == len(words) and len(full) == 1:
            table[full[0]] = cells
    return col, marked, table


def check_topics(c, t, tr):
    t.keys("3")
    s = t.wait_for(lambda x: "CALLS" in x and "P99" in x, 10, "the Topics view")
    c.check(all(len(l) <= 80 for l in rows(s)), "no line is wider than 80 columns")
    want = collections.defaultdict(collections.Counter)
    for r in tr:
        w = want[r["topic"]]
        w["ops"] += 1
        w["calls"] += r["kind"] == "call"
        w["ok"] += r["outcome"] in ("result", "sent")
        w["err"] += r["outcome"] == "remote_error"
        w["tmo"] += r["outcome"] == "timeout"
    col, marked, table = topics_table(s, want)
    if not c.check(col, "the Topics header is there:\n" + s):
        return
    for name in ("OPS", "RATE/s", "P90", "OK", "ERR", "TMO", "OPEN", "CALLS"):
        c.check(name in col, "80 columns: Topics shows %s: %r" % (name, sorted(col)))
    for topic, w in want.items():
        cells = table.get(topic)
        if not c.check(cells, "Topics lists %s:\n%s" % (topic, s)):
            continue
        try:
            got = {k: int(cells[col[k]]) for k in ("OPS", "CALLS", "OK", "ERR", "TMO", "OPEN")}
        except (KeyError, ValueError):
            c.check(False, "%s: the counts read as numbers: %r" % (topic, cells))
            continue
        c.check(got["OPS"] == w["ops"] and got["CALLS"] == w["calls"],
                "%s: %d ops %d calls shown, truth %d ops %d calls" %
                (topic, got["OPS"], got["CALLS"], w["ops"], w["calls"]))
        c.check((got["OK"], got["ERR"], got["TMO"]) == (w["ok"], w["err"], w["tmo"]),
                "%s: ok/err/tmo %r, truth %r" % (topic, (got["OK"], got["ERR"], got["TMO"]),
                                                 (w["ok"], w["err"], w["tmo"])))
        c.check(got["OK"] + got["ERR"] + got["TMO"] + got["OPEN"] == got["OPS"],
                "%s: OK+ERR+TMO+OPEN adds up to OPS: %r" % (topic, got))
    # the second s: RATE/s, marked and shown; topics in descending rate
    t.keys("s", "s")
    s = t.wait_for(lambda x: "\u25bcRATE/s" in x, 10, "the RATE/s sort marker")
    col, marked, table = topics_table(s, want)
    if not c.check(marked == "RATE/s" and "RATE/s" in col, "the second s marks RATE/s: %r" % marked):
        return
    rates = {k: float(v[col["RATE/s"]]) for k, v in table.items()}
    order = sorted(table, key=lambda k: [i for i, l in enumerate(rows(s)) if l.split() and
                                         l.split()[0] == table[k][0]][0])
    c.check(order and [rates[k] for k in order] == sorted((rates[k] for k in order), reverse=True),
            "topics in descending RATE/s: %r %r" % (order, rates))
    c.check(order and order[0] == max(want, key=lambda k: want[k]["ops"]),
            "the busiest topic of the truth comes first: %r" % order)
    # five more: MAX, which does not fit at 80 columns unless it is the sort column
    t.keys("s", "s", "s", "s", "s")
    s = t.wait_for(lambda x: "\u25bcMAX" in x, 10, "the MAX sort marker")
    col, marked, table = topics_table(s, want)
    c.check(marked == "MAX" and "MAX" in col, "sorted by MAX: the column is shown and marked")
    c.check(all(len(l) <= 80 for l in rows(s)), "no line is wider than 80 columns (MAX shown)")
    t.keys("s")
    t.wait_for(lambda x: "\u25b2TOPIC" in x, 10, "back to the name sort, marked")


def calls_rows(screen):
    """The Calls list's rows: after the header (TIME ...), before the status line."""
    lines = rows(screen)
    head = [i for i, l in enumerate(lines) if l.startswith("TIME ")]
    if not head:
        return []
    out = []
    for l in lines[head[0] + 1:]:
        if not re.match(r"\d\d:\d\d:\d\d\.\d{6} ", l):
            break
        out.append(l.split())
    return out


def check_calls_sort(c, t, tr):
    t.keys("1")
    s = t.wait_for(lambda x: "TIME " in x, 10, "the Calls view")
    plain = calls_rows(s)
    ntmo = sum(r["kind"] == "call" and r["outcome"] == "timeout" for r in tr)
    c.check(plain and any(r[4] == "timeout" for r in plain[ntmo:]),
            "in arrival order a timed-out call sits among answered ones")
    t.keys("s")
    s = t.wait_for(lambda x: "\u25bcLATENCY" in x, 10, "the Calls LATENCY sort marker")
    got = calls_rows(s)
    c.check(len(got) > ntmo, "80x24: the sorted list fills the screen (%d rows)" % len(got))
    c.check([r[4] for r in got[:ntmo]] == ["timeout"] * ntmo,
            "sorted by latency: the %d timed-out calls of the truth come first: %r" %
            (ntmo, [r[4] for r in got[:ntmo + 1]]))
    lat = [ms(r[5]) for r in got[ntmo:]]
    c.check(lat and None not in lat and lat == sorted(lat, reverse=True),
            "then the answered calls, slowest first: %r" % lat)
    for _ in range(4):
        t.keys("s")
    t.wait_for(lambda x: "arrival order" in x, 10, "back to arrival order")
    t.keys("s")
    t.wait_for(lambda x: "\u25bcLATENCY" in x, 10, "the LATENCY sort again")


def check_find(c, t, tr):
    want = [r["msg_id"] for r in tr if r["topic"] == "nobody_listens"]
    t.keys("n", "C-u")
    t.literal("NOBODY_listens")
    t.keys("Enter")
    seen = set()
    for k in range(1, len(want) + 2):
        if k > 1:
            t.keys("n", "Enter")
        exp = "match %d of %d" % ((k - 1) % len(want) + 1, len(want))
        s = t.wait_for(lambda x, e=exp: e in x, 10, "find: " + exp)
        c.check(exp in s, "n finds the truth's %d nobody_listens calls in turn: %s" %
                (len(want), exp))
        t.keys("Enter")
        s = t.wait_for(lambda x: "msg_id" in x, 10, "the Detail of the match")
        m = re.search(r"msg_id\s+([0-9a-f]{32})", s)
        c.check(m and m.group(1) in want, "match %d is a nobody_listens call of the truth: %s" %
                (k, m and m.group(1)))
        if m:
            seen.add(m.group(1))
        t.keys("Escape")
        t.wait_for(lambda x: "\u25bcLATENCY" in x, 10, "back in Calls")
    c.check(seen == set(want), "n visited every nobody_listens call: %d of %d" %
            (len(seen), len(want)))
    t.keys("n", "C-u")
    t.literal("no-such-text")
    t.keys("Enter")
    t.wait_for(lambda x: "no row holds" in x, 10, "find with no match")


def check_detail_wrap(c, t, tr):
    """Detail at 80 columns wraps at blanks: the verdict sentence, the client's
    address and connection name, and the truth's reply queue stay whole."""
    calls = [r for r in tr if r["topic"] == "nobody_listens"]
    t.keys("n", "C-u")
    t.literal("nobody_listens")
    t.keys("Enter")
    t.wait_for(lambda x: "match " in x, 10, "find nobody_listens")
    t.keys("Enter")
    s = t.wait_for(lambda x: "msg_id" in x, 10, "the Detail")
    c.check(all(len(l) <= 80 for l in rows(s)), "Detail: no line wider than 80 columns")
    m = re.search(r"msg_id\s+([0-9a-f]{32})", s)
    call = [r for r in calls if m and r["msg_id"] == m.group(1)]
    if not c.check(call, "the Detail shows a nobody_listens call of the truth"):
        return
    c.check(call[0]["reply_q"] in s, "the reply queue %s is whole" % call[0]["reply_q"])
    words = [re.escape(w) for w in
             "published, but no consumer received it before the call ended".split()]
    text = " ".join(l.strip() for l in rows(s))
    c.check(re.search(r"not_delivered: " + r"\s+".join(words), text) is not None,
            "the verdict sentence wraps between words:\n" + s)
    t.keys("PPage", "NPage")
    s = t.wait_for(lambda x: "Peers" in x, 10, "the Detail's Peers")
    c.check(re.search(r"\b127\.0\.0\.1:\d+\b", s) and
            re.search(r"scenario\.py:\d+:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                      r"[0-9a-f]{12}", s),
            "the client's address and connection name are whole tokens:\n" + s)
    t.keys("Escape")


def main():
    require_tmux()
    pcap, tr = capture_ops("errors")
    c = Checker("tui_80x24")
    with TuiSession(c, "80x24", 80, 24) as t:
        t.read_capture(pcap)
        check_topics(c, t, tr)
        check_calls_sort(c, t, tr)
        check_find(c, t, tr)
        check_detail_wrap(c, t, tr)
        t.quit()
    c.finish()


if __name__ == "__main__":
    main()
