"""The outputs of the CLI issue, checked against the truth files:
each filter selects exactly the operations it should; --report -j is one JSON
document whose per-topic counts equal the truth; -w --topic compute writes a
capture whose read-back holds every compute call with its status (and other
operations only where they shared a packet); text lines never carry the token
marker; the progress bar shows on a terminal and never in a pipe."""
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

from common import BIN, Checker, PCAPS, SKIP, TOKEN_MARKER, capture_ops, ndjson, run

TYPES = {"call": "call", "cast": "cast", "fanout_cast": "fanout", "notification": "notification"}
STATUS = {"result": "ok", "remote_error": "error", "timeout": "timeout", "sent": "ok"}


def tkey(t):
    return t.get("msg_id") if t["kind"] == "call" else (
        t.get("message_id") if t["kind"] == "notification" else t.get("unique_id"))


def rkey(r):
    return r.get("msg_id") if r["type"] == "call" else (
        r.get("message_id") if r["type"] == "notification" else r.get("unique_id"))


def check_filters(c):
    path, tr = capture_ops("errors")
    basic, btr = capture_ops("basic")
    cases = [
        (path, tr, ["--topic", "compute"], lambda t: t["topic"] == "compute"),
        (path, tr, ["--topic", "comp*"], lambda t: t["topic"].startswith("comp")),
        (path, tr, ["--method", "fail_*"], lambda t: (t.get("method") or "").startswith("fail_")),
        (path, tr, ["--status", "error"], lambda t: STATUS[t["outcome"]] == "error"),
        (path, tr, ["--status", "timeout,error"], lambda t: STATUS[t["outcome"]] in ("timeout", "error")),
        (path, tr, ["--type", "cast"], lambda t: t["kind"] == "cast"),
        (basic, btr, ["--type", "fanout"], lambda t: t["kind"] == "fanout_cast"),
        (basic, btr, ["--server", "host-a"], lambda t: t.get("server") == "host-a"),
        (basic, btr, ["--type", "call", "--topic", "conductor", "--server", "host-b"],
         lambda t: t["kind"] == "call" and t["topic"] == "conductor" and t.get("server") == "host-b"),
    ]
    for cap, tr_, args, want in cases:
        expect = {tkey(t) for t in tr_ if want(t)}
        got = [rkey(r) for r in ndjson(["-r", cap, "-j"] + args)]
        c.check(len(expect) > 0, "%s: the truth has something to select" % args)
        c.check(Counter(got) == Counter(expect), "%s: selected %d, truth %d (extra %s, missing %s)" % (
            args, len(got), len(expect), sorted(set(got) - expect)[:3], sorted(expect - set(got))[:3]))
    # --request-id follows one request; --min-latency keeps only slow ones.
    rid = btr[5]["request_id"]
    got = ndjson(["-r", basic, "-j", "--request-id", rid])
    c.check([rkey(r) for r in got] == [tkey(btr[5])], "--request-id %s" % rid)
    allrec = ndjson(["-r", basic, "-j"])
    slow = [r for r in allrec if r.get("latency_ms") is not None and r["latency_ms"] >= 5.0]
    got = ndjson(["-r", basic, "-j", "--min-latency", "5"])
    c.check(len(slow) > 0 and sorted(map(rkey, got)) == sorted(map(rkey, slow)),
            "--min-latency 5: %d vs %d" % (len(got), len(slow)))
    # Filters apply to the report too.
    rep = json.loads(run(["-q", "-r", path, "--report", "-j", "--status", "error"]).stdout)
    c.check(rep["total"]["ops"] == sum(1 for t in tr if STATUS[t["outcome"]] == "error"),
            "--report honours --status")


def check_report(c):
    for name in ("basic", "errors", "notifications", "concurrency"):
        path, tr = capture_ops(name)
        p = run(["-q", "-r", path, "--report", "-j"])
        doc = json.loads(p.stdout)  # one document, or this raises
        per_topic = Counter(t["topic"] for t in tr)
        got = {t["topic"]: t["ops"] for t in doc["topics"]}
        c.check(got == dict(per_topic), "%s: report per-topic ops %s != truth %s" % (name, got, dict(per_topic)))
        calls = Counter(t["topic"] for t in tr if t["kind"] == "call")
        got_calls = {t["topic"]: t["types"]["call"] for t in doc["topics"] if t["types"]["call"]}
        c.check(got_calls == dict(calls), "%s: report per-topic calls %s != %s" % (name, got_calls, dict(calls)))
        status = Counter(STATUS[t["outcome"]] for t in tr)
        for s, n in status.items():
            c.check(doc["total"]["status"][s] == n, "%s: report %s %d != %d" % (name, s, doc["total"]["status"][s], n))
        c.check(doc["counters"]["packets"] > 0, "%s: counters present" % name)
        # Calls without a reply: the earliest made, in the order they were made.
        unanswered = sorted((t for t in tr if t["kind"] == "call" and STATUS[t["outcome"]] == "timeout"),
                            key=lambda t: t["t_start"])
        got_ids = [k["msg_id"] for k in doc["no_reply"]]
        c.check(doc["no_reply_total"] == len(unanswered) and
                got_ids == [t["msg_id"] for t in unanswered[:20]],
                "%s: no_reply lists %r, want the earliest unanswered calls in order %r"
                % (name, got_ids, [t["msg_id"] for t in unanswered[:20]]))
    # Text report: a person sees the topics and percentiles.
    out = run(["-r", os.path.join(PCAPS, "errors.pcap"), "--report"]).stdout.decode()
    for word in ("compute", "p99", "Slowest calls", "Calls without a reply", "Counters", "█"):
        c.check(word in out, "text report shows %r" % word)
    # -j on stdout with --report: the report goes to stderr as one JSON document.
    p = run(["-r", os.path.join(PCAPS, "basic.pcap"), "-j", "--report"])
    json.loads(p.stderr)
    lines = p.stdout.decode().splitlines()
    c.check(len(lines) == 320 and all(json.loads(l)["schema"] == 1 for l in lines), "-j --report: NDJSON on stdout")


def check_write(c):
    path, tr = capture_ops("errors")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "compute.pcap")
        run(["-q", "-r", path, "--topic", "compute", "-w", out])
        back = ndjson(["-r", out, "-j"])
        orig = {rkey(r): r for r in ndjson(["-r", path, "-j"])}
        want = {rkey(r): r for r in orig.values() if r["topic"] == "compute" and r["type"] == "call"}
        got = {rkey(r): r for r in back}
        for k, r in want.items():
            if c.check(k in got, "-w: compute call %s missing in read-back" % k):
                c.check(got[k]["status"] == r["status"], "-w: %s status %s != %s" % (k, got[k]["status"], r["status"]))
        others = [r for k, r in got.items() if k not in want]
        c.check(all(r["topic"] != "compute" or r["type"] != "call" for r in others), "-w: only expected extras")
        c.check(len(others) <= len(orig) - len(want), "-w: extras bounded")
        # tshark opens it cleanly.
        if subprocess.run(["which", "tshark"], stdout=subprocess.DEVNULL).returncode == 0:
            p = subprocess.run(["tshark", "-r", out, "-c", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            c.check(p.returncode == 0, "tshark reads the -w file: %r" % p.stderr[-200:])


def check_text(c):
    for name in ("basic", "errors", "notifications"):
        path, tr = capture_ops(name)
        out = run(["-r", path]).stdout.decode()
        lines = out.splitlines()
        c.check(len(lines) == len(tr), "%s: %d text lines for %d operations" % (name, len(lines), len(tr)))
        c.check(TOKEN_MARKER not in out and "\033[" not in out, "%s: no token, no colour in a pipe" % name)
        # A notification's event type is printed whole (its column grows past 20 by design).
        def grown(l):
            f = l.split()
            return max(0, len(f[3]) - 20) if len(f) > 3 and f[1] == "notif" else 0
        c.check(all(len(l.split(" > ")[0]) <= 100 + grown(l) for l in lines),
                "%s: columns before the addresses fit" % name)


def check_progress(c):
    path = os.path.join(PCAPS, "concurrency.pcap")
    # script(1) gives oslotrace a pseudo-terminal on stderr; the bar is redrawn with \r.
    p = subprocess.run(["script", "-qec", "%s -q -r %s -j --args -r %s >/dev/null" % (BIN, path, path), "/dev/null"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    tty = p.stdout.decode(errors="replace")
    c.check("MB/s" not in tty, "-q: no progress bar even on a terminal")
    p = subprocess.run(["script", "-qec", "%s -r %s -j --args -r %s >/dev/null" % (BIN, path, path), "/dev/null"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    tty = p.stdout.decode(errors="replace")
    c.check("MB/s" in tty and "\r" in tty, "progress bar on a terminal: %r" % tty[-300:])
    p = run(["-r", path, "-r", path, "-j", "--args"], check=False)
    c.check("MB/s" not in p.stderr.decode(errors="replace"), "no progress bar in a pipe")


def main():
    if not os.path.exists(os.path.join(PCAPS, "errors.pcap")):
        sys.exit(SKIP)
    c = Checker("outputs")
    check_filters(c)
    check_report(c)
    check_write(c)
    check_text(c)
    check_progress(c)
    c.finish()


if __name__ == "__main__":
    main()
