"""oslotrace -r F -j on every capture in pcaps/, checked operation by operation
against the truth file the lab's clients, servers and notifiers wrote.

Every operation that happened during the capture must be present exactly once
with the right type, topic, server, method, namespace, version, status, error
class and late-reply flag, and a latency inside the client's own window
(t_end - t_start). No record may describe an operation that did not happen.
Captures the lab made lossy list, in their meta file, the operations that lost
packets; those may be missing or incomplete, never invented. Generic AMQP RPC
calls (truth and records with "dialect": "amqp", in amqp-rpc.pcap) are
test_generic_rpc.py's: this test checks the oslo operations beside them."""
import sys

from common import Checker, captures, meta, ndjson, truth, SKIP

TYPES = {"call": "call", "cast": "cast", "fanout_cast": "fanout", "notification": "notification"}


def key_of_truth(t):
    if t["kind"] == "call":
        return ("call", t["msg_id"])
    if t["kind"] == "notification":
        return ("notification", t["message_id"])
    return ("cast", t["unique_id"])


def key_of_record(r):
    if r["type"] == "call":
        return ("call", r["msg_id"])
    if r["type"] == "notification":
        return ("notification", r["message_id"])
    return ("cast", r["unique_id"])


def expected_status(t):
    return {"result": "ok", "remote_error": "error", "timeout": "timeout", "sent": "ok",
            "undeliverable": "unroutable"}[t["outcome"]]


def is_oslo(o):
    return o.get("dialect", "oslo") == "oslo"


def check_capture(c, name, path, truth_path, extra=()):
    records = [r for r in ndjson(["-r", path, "-j"] + list(extra)) if is_oslo(r)]
    lossy = set(meta(name).get("affected_ids", []))
    by_key = {}
    for r in records:
        by_key.setdefault(key_of_record(r), []).append(r)
    oslo_truth = [t for t in truth(truth_path) if is_oslo(t)]
    wanted = [t for t in oslo_truth if t.get("in_capture", True)]
    truth_keys = {key_of_truth(t) for t in oslo_truth}
    for t in wanted:
        k = key_of_truth(t)
        got = by_key.get(k, [])
        where = "%s %s %s" % (name, t["kind"], k[1])
        if k[1] in lossy:
            c.check(len(got) <= 1, "%s: lossy op reported %d times" % (where, len(got)))
            continue
        if not c.check(len(got) == 1, "%s: expected once, got %d" % (where, len(got))):
            continue
        r = got[0]
        c.check(r["type"] == TYPES[t["kind"]], "%s: type %s" % (where, r["type"]))
        c.check(r.get("topic") == t["topic"], "%s: topic %r != %r" % (where, r.get("topic"), t["topic"]))
        if t["kind"] != "notification":
            c.check(r.get("server") == t.get("server"),
                    "%s: server %r != %r" % (where, r.get("server"), t.get("server")))
            c.check(r.get("method") == t["method"], "%s: method %r" % (where, r.get("method")))
            c.check(r.get("namespace") == t.get("namespace"), "%s: namespace %r" % (where, r.get("namespace")))
            c.check(r.get("version") == t.get("version"),
                    "%s: version %r != %r" % (where, r.get("version"), t.get("version")))
        else:
            c.check(r.get("event_type") == t["event_type"], "%s: event_type %r" % (where, r.get("event_type")))
        c.check(r["status"] == expected_status(t), "%s: status %s != %s" % (where, r["status"], expected_status(t)))
        if t["outcome"] == "remote_error":
            err = r.get("error") or {}
            c.check(err.get("class") == t["remote_exc_type"],
                    "%s: error class %r != %r" % (where, err.get("class"), t["remote_exc_type"]))
        if t["kind"] == "call":
            c.check(bool(r.get("late_reply")) == ("t_late_reply" in t),
                    "%s: late_reply %r" % (where, r.get("late_reply")))
        if t["outcome"] in ("result", "remote_error"):
            window_ms = (t["t_end"] - t["t_start"]) * 1000.0
            lat = r.get("latency_ms")
            c.check(lat is not None and 0 <= lat <= window_ms + 0.001,
                    "%s: latency %r outside [0, %.3f]" % (where, lat, window_ms))
    for k, rs in by_key.items():
        c.check(k in truth_keys, "%s: record for an operation that did not happen: %s %s"
                % (name, k[0], k[1]))


def main():
    caps = captures()
    if not caps:
        print("no captures with truth files in pcaps/")
        sys.exit(SKIP)
    c = Checker("truth")
    for name, path, truth_path in caps:
        if meta(name).get("tls"):
            continue  # TLS captures need their keys: test_tls.py
        check_capture(c, name, path, truth_path)
    c.finish()


if __name__ == "__main__":
    main()
