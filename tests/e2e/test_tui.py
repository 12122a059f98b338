"""oslotrace --tui on a real capture, driven through tmux like an operator:
the Calls list, the Detail of a call (msg_id, four-leg timeline), the
Topics view (call counts and p99 per topic), the `/` filter, `w`, help,
the Connections view, a resize to 80x24, and every way out (q, SIGTERM,
Ctrl-C) leaving the terminal restored with the shell prompt back. The
oracle is the capture's truth file (what the lab's clients and servers
recorded), never a snapshot of the TUI's own output."""
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BIN, Checker, PCAPS, SKIP, truth  # noqa: E402
from tui_driver import PROMPT, TuiSession, at_end, require_tmux, rows  # noqa: E402


def find_capture():
    for d in (PCAPS, "/work/shared/pcaps"):
        p = os.path.join(d, "basic.pcap")
        t = os.path.join(d, "basic.truth.jsonl")
        if os.path.exists(p) and os.path.exists(t):
            return p, t
    return None, None


def ms(text):
    """'1.25ms' / '1.25s' -> milliseconds."""
    m = re.fullmatch(r"([0-9.]+)(ms|s)", text)
    if not m:
        return None
    return float(m.group(1)) * (1000.0 if m.group(2) == "s" else 1.0)


def list_rows(screen):
    """The Calls view's data rows: between the header (TIME ...) and the status line."""
    lines = rows(screen)
    out, started = [], False
    for line in lines[:-2]:
        if line.startswith("TIME "):
            started = True
            continue
        if started and re.match(r"\d\d:\d\d:\d\d\.\d{6} ", line):
            out.append(line)
    return out


def title_counts(screen):
    m = re.search(r"(\d+)/(\d+)", rows(screen)[0])
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def check_calls_and_filter(c, t, ops, by_topic):
    s = t.wait_for(at_end, 60, "the end of the capture")
    shown, total = title_counts(s)
    c.check(total == len(ops), "title counts %s ops, truth has %d" % (total, len(ops)))
    body = "\n".join(list_rows(s))
    for topic in ("compute", "conductor"):
        c.check(topic in body, "the Calls list shows topic %s" % topic)
    head = [l for l in rows(s) if l.startswith("TIME ")]
    c.check(head and all(w in head[0] for w in ("TYPE", "METHOD", "STATUS", "LATENCY")),
            "the Calls header names its columns: %r" % head)

    # `/` by topic narrows the list to exactly that topic's operations
    t.keys("/")
    t.literal("topic=conductor")
    t.keys("Enter")
    s = t.wait_for(lambda x: "/topic=conductor" in rows(x)[0], 10, "the topic filter")
    shown, total = title_counts(s)
    want = sum(by_topic["conductor"].values())
    c.check(shown == want, "topic=conductor shows %s ops, truth has %d" % (shown, want))
    lr = list_rows(s)
    c.check(lr and all(" conductor" in l and " compute" not in l for l in lr),
            "every listed row is a conductor op:\n" + "\n".join(lr[:5]))


def check_detail(c, t, truth_by_msg):
    t.keys("/", "C-u")
    t.literal("type=call status=ok")
    t.keys("Enter")
    s = t.wait_for(lambda x: "status=ok" in rows(x)[0] and "type=call" in rows(x)[0], 10,
                   "the call filter")
    shown, _ = title_counts(s)
    want = sum(1 for r in truth_by_msg.values() if r.get("outcome") == "result")
    c.check(shown == want, "type=call status=ok shows %s, truth has %d answered calls" %
            (shown, want))
    t.keys("Up", "Up", "Enter")
    s = t.wait_for(lambda x: "Timeline" in x, 10, "the Detail view")
    m = re.search(r"msg_id\s+([0-9a-f]{32})", s)
    c.check(m is not None, "the Detail view shows a msg_id:\n" + s)
    if not m:
        return None
    msg_id = m.group(1)
    tr = truth_by_msg.get(msg_id)
    c.check(tr is not None, "msg_id %s is a call of the capture" % msg_id)
    for leg in ("request_publish", "request_deliver", "reply_publish", "reply_deliver"):
        line = [l for l in rows(s) if leg in l]
        c.check(line and re.search(r"\d\d:\d\d:\d\d\.\d{6}", line[0]),
                "the timeline shows when %s happened: %r" % (leg, line))
    c.check("queue wait" in s and "server time" in s, "queue wait and server time are shown")
    lat = re.search(r"status ok\s+latency (\S+)", s)
    if tr and lat and ms(lat.group(1)) is not None:
        window = (tr["t_end"] - tr["t_start"]) * 1000.0
        c.check(0 < ms(lat.group(1)) <= window + 0.01,
                "latency %s lies inside the client's window %.3fms" % (lat.group(1), window))
    else:
        c.check(False, "the Detail header shows the call's latency:\n" + rows(s)[1])
    # the context is there, its token is not (screen() checks the marker on every frame)
    t.keys("NPage")
    s = t.wait_for(lambda x: "Context" in x or "auth_token" in x or "Arguments" in x, 5,
                   "the context section")
    c.check("request_id" in s, "the context fields are listed")
    return msg_id


def check_write(c, t, msg_id):
    if msg_id is None:
        return
    out = os.path.join(tempfile.mkdtemp(prefix="oslotrace-tui-"), "one-call.pcap")
    t.keys("w", "C-u")
    t.literal(out)
    t.keys("Enter")
    s = t.wait_for(lambda x: "wrote " in x or "ERROR" in x or "cannot" in x, 30, "w to finish")
    c.check(re.search(r"wrote \d+ packets", s) is not None, "w reports what it wrote:\n" +
            rows(s)[-1])
    if os.path.exists(out):
        p = subprocess.run([BIN, "-r", out, "-j"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
        calls = [r for r in recs if r.get("msg_id") == msg_id]
        c.check(len(calls) == 1 and calls[0].get("status") == "ok",
                "the written pcap holds the selected call %s, answered: %r" % (msg_id, recs[:3]))
    else:
        c.check(False, "w created %s" % out)


def check_topics(c, t, by_topic, durations, width):
    t.keys("3")
    s = t.wait_for(lambda x: "P99" in x and "CALLS" in x, 10, "the Topics view")
    head = [l for l in rows(s) if "P99" in l]
    if not c.check(head, "the Topics header names P99:\n" + s):
        return s
    head = head[0].split()
    col = {name.rstrip("\u25bcv"): i for i, name in enumerate(head)}
    # "TOPIC / METHOD" is three words in the header, one in a row
    shift = 2
    for topic in ("compute", "conductor"):
        line = [l for l in rows(s) if l.startswith(topic + " ")]
        if not c.check(line, "Topics lists %s (%d columns)" % (topic, width)):
            continue
        cells = line[0].split()
        calls = int(cells[col["CALLS"] - shift])
        c.check(calls == by_topic[topic]["call"],
                "%s: %d calls shown, truth has %d" % (topic, calls, by_topic[topic]["call"]))
        p99 = ms(cells[col["P99"] - shift])
        c.check(p99 is not None and 0 < p99 <= max(durations[topic]) * 1.01,
                "%s: p99 %s within the slowest client-side call %.3fms" %
                (topic, cells[col["P99"] - shift], max(durations[topic])))
    return s


def tshark_connections(pcap):
    """AMQP connections in the capture by tshark (SYNs to 5672), None without tshark."""
    try:
        p = subprocess.run(["tshark", "-r", pcap, "-Y",
                            "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport==5672",
                            "-T", "fields", "-e", "tcp.stream"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return len(p.stdout.split()) if p.returncode == 0 else None


def check_conns(c, t, nconns):
    t.keys("4")
    s = t.wait_for(lambda x: "BROKER" in x, 5, "the Connections view")
    lines = [l for l in rows(s) if re.match(r"\s*\d+ 127\.0\.0\.1:\d+ ", l)]
    if nconns is not None:
        c.check(len(lines) == nconns, "Connections lists %d connections, tshark counts %d" %
                (len(lines), nconns))
    c.check(all("127.0.0.1:5672" in l for l in lines), "each names the broker 127.0.0.1:5672")
    c.check(any("py-amqp" in l for l in lines), "client identities (product) are shown")


def check_resize(c, t, by_topic):
    t.keys("1")
    t.resize(80, 24)
    time.sleep(0.6)
    s = t.wait_for(lambda x: len(rows(x)) <= 24, 5, "the 80x24 redraw")
    lines = rows(s)
    c.check(all(len(l) <= 80 for l in lines), "no line is wider than 80 columns")
    head = [l for l in lines if l.startswith("TIME ")]
    c.check(head and all(w in head[0] for w in ("TYPE", "METHOD", "STATUS", "LATENCY")),
            "80x24: the Calls header keeps its main columns: %r" % head)
    c.check(len(list_rows(s)) >= 15, "80x24: the list fills the screen (%d rows)" %
            len(list_rows(s)))
    c.check("pkts" in lines[-2], "80x24: the status line is readable: %r" % lines[-2])
    check_topics(c, t, by_topic, collections.defaultdict(lambda: [float("inf")]), 80)
    t.keys("4")
    s = t.wait_for(lambda x: "CLIENT" in x, 5, "the Connections view at 80 columns")
    c.check("127.0.0.1:" in s, "80x24: Connections lists the clients")
    t.keys("?")
    s = t.wait_for(lambda x: "Keys" in x, 5, "the help")
    c.check("filter" in s and "quit" in s, "help lists the keys")
    t.keys("Escape")


def wait_exit(c, t, how):
    s = t.wait_exit(how, timeout=30)
    c.check(not t.alternate_on(), "%s: the alternate screen is off" % how)
    c.check(rows(s)[-1].startswith(PROMPT.strip()) or PROMPT.strip() in rows(s)[-1],
            "%s: the shell prompt is back: %r" % (how, rows(s)[-3:]))


def main():
    require_tmux()
    pcap, truth_path = find_capture()
    if not pcap:
        print("SKIP: no basic.pcap with its truth file")
        sys.exit(SKIP)
    c = Checker("tui")
    ops = [r for r in truth(truth_path) if r.get("in_capture", True)]
    by_topic = collections.defaultdict(collections.Counter)
    durations = collections.defaultdict(list)
    truth_by_msg = {}
    for r in ops:
        kind = "call" if r["kind"] == "call" else "other"
        by_topic[r["topic"]][kind] += 1
        if r["kind"] == "call":
            durations[r["topic"]].append((r["t_end"] - r["t_start"]) * 1000.0)
            truth_by_msg[r["msg_id"]] = r

    with TuiSession(c, "offline") as t:
        t.start(["-r", pcap])
        check_calls_and_filter(c, t, ops, by_topic)
        msg_id = check_detail(c, t, truth_by_msg)
        check_write(c, t, msg_id)
        check_topics(c, t, by_topic, durations, 132)
        check_conns(c, t, tshark_connections(pcap))
        check_resize(c, t, by_topic)
        t.keys("q")
        wait_exit(c, t, "q")

        # SIGTERM (main's handler only sets a flag: the loop must restore the terminal)
        t.keys("clear", "Enter")
        t.read_capture(pcap)
        os.kill(t.pid(), signal.SIGTERM)
        wait_exit(c, t, "SIGTERM")

        # Ctrl-C from the keyboard is SIGINT through the terminal
        t.keys("clear", "Enter")
        t.read_capture(pcap)
        t.keys("C-c")
        wait_exit(c, t, "Ctrl-C")
    c.check(t.screens > 10, "screens were captured (%d)" % t.screens)
    c.finish()


if __name__ == "__main__":
    main()
