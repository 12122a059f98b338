"""Issue 18 points 11 and 20: the filters match what the output shows, and the
display filter expression (-Y) selects exactly the operations the truth files
say it should. The oracle is the lab's truth (topics, servers, outcomes, event
types, priorities, timeouts as the clients and notifiers recorded them).

- --topic compute.host-a matches the lines that show compute.host-a;
- --method on notifications matches their event type (the METHOD column),
  --event-type and --priority select notifications;
- --min-latency keeps timed-out calls (their latency is at least the timeout);
- empty patterns and bad expressions are usage errors (exit 2) saying where;
- -Y with and, or, not, parentheses, comma lists, units and globs."""
import fnmatch
import os
import sys

from common import PCAPS, Checker, ndjson, run, truth


def load(name):
    return [t for t in truth(os.path.join(PCAPS, name + ".truth.jsonl"))
            if t.get("in_capture", True)]


def ops(name, *args):
    return ndjson(["-r", os.path.join(PCAPS, name + ".pcap"), "-j"] + list(args))


def shown_target(t):
    return t["topic"] + ("." + t["server"] if t.get("server") else "")


def ids(records, key):
    return sorted(r.get(key) or "" for r in records)


def check_topic_as_shown(c):
    tr = load("basic")
    for glob in ("conductor.host-a", "compute.host-*", "conductor"):
        want = [t for t in tr if fnmatch.fnmatchcase(t["topic"], glob)
                or fnmatch.fnmatchcase(shown_target(t), glob)]
        for args in (["--topic", glob], ["-Y", "topic==" + glob]):
            got = ops("basic", *args)
            c.check(len(got) == len(want), "basic %s: %d ops, truth %d" % (args, len(got), len(want)))
            c.check(all(fnmatch.fnmatchcase(r["topic"], glob) or fnmatch.fnmatchcase(
                r["topic"] + "." + (r["server"] or ""), glob) for r in got),
                "basic %s: every op shows the topic" % args)
    want = [t for t in tr if t.get("server") == "host-a" and t["kind"] == "call"]
    got = ops("basic", "-Y", "server==host-a and type==call")
    c.check(ids(got, "msg_id") == ids(want, "msg_id"),
            "-Y server==host-a and type==call: the truth's %d calls, got %d" % (len(want), len(got)))


def check_notifications(c):
    tr = [t for t in load("notifications") if t["kind"] == "notification"]
    for glob in ("compute.instance.*", "*.end", "volume.usage"):
        want = sorted(t["message_id"] for t in tr if fnmatch.fnmatchcase(t["event_type"], glob))
        c.check(want, "the truth has %s notifications" % glob)
        for args in (["--method", glob], ["--event-type", glob], ["-Y", "method==" + glob],
                     ["-Y", "event_type==" + glob]):
            got = ops("notifications", *args)
            c.check(ids(got, "message_id") == want,
                    "notifications %s: %d, truth %d" % (args, len(got), len(want)))
    for prio in ("WARN", "INFO"):
        want = sorted(t["message_id"] for t in tr if t["priority_field"] == prio)
        got = ops("notifications", "--priority", prio)
        c.check(ids(got, "message_id") == want,
                "--priority %s: %d, truth %d" % (prio, len(got), len(want)))
    want = sorted(t["message_id"] for t in tr
                  if t["priority_field"] in ("ERROR", "CRITICAL") and "instance" not in t["event_type"])
    got = ops("notifications", "-Y",
              '(priority==ERROR or priority=="CRITICAL") && not event_type~instance')
    c.check(ids(got, "message_id") == want,
            "-Y priorities and not: %d, truth %d" % (len(got), len(want)))


def check_status_and_latency(c):
    tr = load("errors")
    calls = [t for t in tr if t["kind"] == "call"]
    by_outcome = lambda *o: sorted(t["msg_id"] for t in calls if t["outcome"] in o)  # noqa: E731
    cases = [
        ("status==timeout", by_outcome("timeout")),
        ("status==error", by_outcome("remote_error")),
        ("status==error,timeout", by_outcome("remote_error", "timeout")),
        ("type==call and not (status==error or status==timeout)", by_outcome("result")),
        ("status!=ok and type==call", by_outcome("remote_error", "timeout")),
        ("topic==nobody_listens or (topic==compute.host-zzz && status==timeout)",
         sorted(t["msg_id"] for t in calls if t["topic"] == "nobody_listens"
                or (t.get("server") == "host-zzz" and t["outcome"] == "timeout"))),
        ("verdict==not_delivered", sorted(t["msg_id"] for t in calls
                                          if t["outcome"] == "timeout" and not t["served_by"])),
    ]
    for expr, want in cases:
        c.check(want, "the truth has ops for %s" % expr)
        got = ops("errors", "-Y", expr)
        c.check(ids(got, "msg_id") == want, "-Y %r: %d ops, truth %d" % (expr, len(got), len(want)))

    # Timed-out calls lasted at least their timeout: --min-latency and latency> keep them.
    timeouts = [t for t in calls if t["outcome"] == "timeout"]
    c.check(timeouts and all(t["timeout"] >= 1 for t in timeouts), "the truth's timeouts are >= 1 s")
    for args in (["--min-latency", "500"], ["-Y", "latency>0.5s"], ["-Y", "latency>=500ms"]):
        got = ops("errors", *args)
        got_ids = set(r["msg_id"] for r in got)
        missing = [t["msg_id"] for t in timeouts if t["msg_id"] not in got_ids]
        c.check(not missing, "%s leaves out %d timed-out calls" % (args, len(missing)))
        c.check(all(r["status"] == "timeout" or r["latency_ms"] >= 500 for r in got),
                "%s: every op kept lasted 500 ms or more" % args)
    # ... and a bound above the timeout leaves them out (nothing says they lasted that long)
    got = ops("errors", "-Y", "status==timeout and latency>%ds" % (max(t["timeout"] for t in timeouts) + 1))
    c.check(all(r.get("latency_ms") for r in got), "latency above every timeout: only measured ones")


def check_usage_errors(c):
    pcap = os.path.join(PCAPS, "basic.pcap")
    cases = [
        (["--topic", ""], "bad --topic: empty pattern"),
        (["--method", ""], "bad --method: empty pattern"),
        (["--event-type", ""], "bad --event-type: empty pattern"),
        (["-Y", ""], "-Y needs an expression"),
        (["-Y", "compute"], "unknown field 'compute' (a topic glob is topic==compute) at column 1"),
        (["-Y", "topic=="], "expected a value at column 8"),
        (["-Y", "latency>2 and (status==ok"], "unclosed '(' at column 15"),
        (["-Y", "status==ok,late"], "unknown status 'late'"),
        (["-Y", "latency>2parsecs"], "unknown unit 'parsecs'"),
        (["-Y", "topic>3"], "'>' compares numbers"),
        (["-Y", "topic==a", "-Y", "method==b"], "-Y given twice"),
        (["-Y", "a==1"], "unknown field 'a' (man oslotrace lists them) at column 1"),
    ]
    for args, msg in cases:
        p = run(["-r", pcap] + args, check=False)
        err = p.stderr.decode()
        c.check(p.returncode == 2, "%s: exit %d, want 2" % (args, p.returncode))
        c.check(msg in err and err.count("\n") <= 2, "%s: stderr %r lacks %r" % (args, err, msg))
        c.check(not p.stdout, "%s: nothing on stdout" % args)


def main():
    c = Checker("filters")
    check_topic_as_shown(c)
    check_notifications(c)
    check_status_and_latency(c)
    check_usage_errors(c)
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
