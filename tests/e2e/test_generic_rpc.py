"""Generic AMQP 0-9-1 RPC (reply_to + correlation_id, as pika, amqplib, Celery
and nameko do it; classic reply queues and RabbitMQ direct reply-to) beside
oslo.messaging in one capture, pcaps/amqp-rpc.pcap, checked against the truth
its clients wrote (tools/lab/amqp_rpc.py and client.py; `run.sh amqp-rpc`).

- every generic call of the truth is exactly one record with "type": "call",
  "dialect": "amqp", msg_id = its correlation_id, topic = its routing key,
  status = its outcome (ok, timeout, unroutable), a latency inside the
  client's own window (t_recv - t_send) when ok, timeout_s = its AMQP
  expiration when it had one, late_reply when the client saw a late reply
  (and never when the server did not answer at all), and the verdict that
  follows from the truth (not_routed, no_reply, late_reply, ok);
- no "amqp" record names a correlation_id that is not in the truth;
- every oslo operation of the same capture is exactly one record with
  "dialect": "oslo", and no "amqp" record carries any oslo id;
- `--report -j` counts, per generic topic, the truth's calls and outcomes.
Every record must say its dialect."""
import collections
import json
import os
import sys
from urllib.parse import urlsplit

from common import BIN, PCAPS, Checker, SKIP, ndjson, run, truth, meta

NAME = "amqp-rpc"


def oslo_key(t):
    if t["kind"] == "call":
        return ("call", t["msg_id"])
    if t["kind"] == "notification":
        return ("notification", t["message_id"])
    return ("cast", t["unique_id"])


def oslo_rkey(r):
    if r["type"] == "call":
        return ("call", r.get("msg_id"))
    if r["type"] == "notification":
        return ("notification", r.get("message_id"))
    return ("cast", r.get("unique_id"))


OSLO_STATUS = {"result": "ok", "remote_error": "error", "timeout": "timeout", "sent": "ok"}
OSLO_TYPE = {"call": "call", "cast": "cast", "fanout_cast": "fanout",
             "notification": "notification"}


def port_args(m):
    """The lab may capture on a private broker port; name it when it is not 5672."""
    port = urlsplit(m.get("amqp_rpc", {}).get("url") or m.get("url") or "").port
    return ["--amqp-port", str(port)] if port and port != 5672 else []


def check_generic(c, records, gen_all, gen):
    amqp = collections.defaultdict(list)
    for r in records:
        if r.get("dialect") == "amqp":
            amqp[r.get("msg_id")].append(r)
    for t in gen:
        cid = t["correlation_id"]
        where = "%s %s %s/%s" % (t["outcome"], cid, t["reply_style"], t["routing_key"])
        got = amqp.get(cid, [])
        if not c.check(len(got) == 1, "%s: expected one amqp record, got %d" % (where, len(got))):
            continue
        r = got[0]
        c.check(r.get("type") == "call", "%s: type %r" % (where, r.get("type")))
        c.check(r.get("topic") == t["routing_key"],
                "%s: topic %r != %r" % (where, r.get("topic"), t["routing_key"]))
        c.check(r.get("status") == t["outcome"],
                "%s: status %r != %r" % (where, r.get("status"), t["outcome"]))
        if t["outcome"] == "ok":
            window_ms = (t["t_recv"] - t["t_send"]) * 1000.0
            lat = r.get("latency_ms")
            c.check(lat is not None and 0 <= lat <= window_ms + 0.001,
                    "%s: latency %r outside [0, %.3f]" % (where, lat, window_ms))
        if t.get("expiration"):
            want = int(t["expiration"]) / 1000.0
            c.check(r.get("timeout_s") is not None and abs(r["timeout_s"] - want) < 1e-6,
                    "%s: timeout_s %r != expiration %r s" % (where, r.get("timeout_s"), want))
        if "t_late_reply" in t:
            c.check(r.get("late_reply") is True, "%s: the client saw a late reply" % where)
        if t["replies_sent"] == 0:
            c.check(not r.get("late_reply"), "%s: late_reply but the server never answered" % where)
        # Why it ended, from the truth: returned, never answered (a server got it), late, ok.
        want = ("not_routed" if t["outcome"] == "unroutable"
                else "late_reply" if "t_late_reply" in t
                else "no_reply" if t["outcome"] == "timeout" and t.get("server_recv") and t["replies_sent"] == 0
                else "not_delivered" if t["outcome"] == "timeout" and not t.get("server_recv")
                else "ok" if t["outcome"] == "ok" else None)
        c.check(want is not None and r.get("verdict") == want,
                "%s: verdict %r != %r" % (where, r.get("verdict"), want))
    known = {t["correlation_id"] for t in gen_all}
    for cid, rs in amqp.items():
        c.check(cid in known, "amqp record for a call that did not happen: msg_id %r topic %r (%d)"
                % (cid, rs[0].get("topic"), len(rs)))


def check_oslo(c, records, oslo_all, oslo):
    by_key = collections.defaultdict(list)
    for r in records:
        if r.get("dialect") == "oslo":
            by_key[oslo_rkey(r)].append(r)
    for t in oslo:
        k = oslo_key(t)
        where = "oslo %s %s" % (t["kind"], k[1])
        got = by_key.get(k, [])
        if not c.check(len(got) == 1, "%s: expected one oslo record, got %d" % (where, len(got))):
            continue
        r = got[0]
        c.check(r["type"] == OSLO_TYPE[t["kind"]], "%s: type %r" % (where, r["type"]))
        c.check(r.get("topic") == t["topic"], "%s: topic %r" % (where, r.get("topic")))
        c.check(r["status"] == OSLO_STATUS[t["outcome"]], "%s: status %r" % (where, r["status"]))
    known = {oslo_key(t) for t in oslo_all}
    for k in by_key:
        c.check(k in known, "oslo record for an operation that did not happen: %s %s" % k)
    # An oslo message must never also be read as a generic call.
    oslo_ids = set()
    for t in oslo_all:
        oslo_ids.update(t.get(f) for f in ("msg_id", "unique_id", "message_id", "request_id"))
    oslo_ids.discard(None)
    for r in records:
        if r.get("dialect") == "amqp":
            ids = {r.get(f) for f in ("msg_id", "unique_id", "message_id", "request_id")}
            c.check(not (ids & oslo_ids), "amqp record for an oslo message: %s" % sorted(
                i for i in ids & oslo_ids))
            c.check(r.get("topic") not in {t["topic"] for t in oslo_all},
                    "amqp record on oslo topic %r (msg_id %r)" % (r.get("topic"), r.get("msg_id")))


def check_report(c, path, args, gen, oslo):
    doc = json.loads(run(["-q", "-r", path, "--report", "-j"] + args).stdout)
    rows = {t["topic"]: t for t in doc["topics"]}
    for topic, n in collections.Counter(t["routing_key"] for t in gen).items():
        row = rows.get(topic)
        if not c.check(row is not None, "report: no row for generic topic %r" % topic):
            continue
        c.check(row["types"]["call"] == n and row["ops"] == n,
                "report %s: %d ops, %d calls, truth %d calls" % (topic, row["ops"],
                                                                row["types"]["call"], n))
        want = collections.Counter(t["outcome"] for t in gen if t["routing_key"] == topic)
        got = {s: k for s, k in row["status"].items() if k}
        c.check(got == dict(want), "report %s: status %s != truth %s" % (topic, got, dict(want)))
    per_topic = collections.Counter(t["topic"] for t in oslo)
    for topic, n in per_topic.items():
        row = rows.get(topic)
        c.check(row is not None and row["ops"] == n, "report oslo %s: %s ops, truth %d"
                % (topic, row and row["ops"], n))
    want_topics = set(per_topic) | {t["routing_key"] for t in gen}
    c.check(set(rows) == want_topics, "report topics %s != truth %s"
            % (sorted(rows), sorted(want_topics)))
    c.check(doc["total"]["status"]["unroutable"] ==
            sum(1 for t in gen if t["outcome"] == "unroutable"), "report: total unroutable")


def main():
    path = os.path.join(PCAPS, NAME + ".pcap")
    tpath = os.path.join(PCAPS, NAME + ".truth.jsonl")
    if not os.path.exists(BIN):
        print("SKIPPED: no binary at", BIN)
        sys.exit(SKIP)
    if not (os.path.exists(path) and os.path.exists(tpath)):
        print("SKIPPED: no %s capture with truth in %s" % (NAME, PCAPS))
        sys.exit(SKIP)
    args = port_args(meta(NAME))
    tr = truth(tpath)
    gen_all = [t for t in tr if t.get("dialect") == "amqp"]
    oslo_all = [t for t in tr if t.get("dialect", "oslo") == "oslo"]
    gen = [t for t in gen_all if t.get("in_capture", True)]
    oslo = [t for t in oslo_all if t.get("in_capture", True)]
    c = Checker("generic_rpc")
    c.check(len(gen) > 0 and len(oslo) > 0, "the truth holds both dialects")
    for style in ("queue", "direct"):
        for outcome in ("ok", "timeout", "unroutable"):
            c.check(any(t["reply_style"] == style and t["outcome"] == outcome for t in gen),
                    "the truth has a %s call with reply style %s" % (outcome, style))
    records = ndjson(["-r", path, "-j"] + args)
    for r in records:
        c.check(r.get("dialect") in ("oslo", "amqp"), "record without a dialect: %s %s %s"
                % (r.get("type"), r.get("msg_id"), r.get("topic")))
    check_generic(c, records, gen_all, gen)
    check_oslo(c, records, oslo_all, oslo)
    check_report(c, path, args, gen, oslo)
    # --dialect selects by the same field, in every output (here -j and the text lines).
    only_amqp = ndjson(["-r", path, "-j", "--dialect", "amqp"] + args)
    c.check(len(only_amqp) == len(gen) and all(r["dialect"] == "amqp" for r in only_amqp),
            "--dialect amqp: %d records, the truth has %d generic calls" % (len(only_amqp), len(gen)))
    only_oslo = ndjson(["-r", path, "-j", "--dialect", "oslo"] + args)
    c.check(len(only_oslo) == len(oslo) and all(r["dialect"] == "oslo" for r in only_oslo),
            "--dialect oslo: %d records, the truth has %d oslo operations" % (len(only_oslo), len(oslo)))
    lines = run(["-r", path, "--dialect", "amqp"] + args).stdout.decode().splitlines()
    c.check(len(lines) == len(gen) and all(l.endswith(" dialect=amqp") for l in lines),
            "text lines of --dialect amqp say their dialect: %r" % lines[:2])
    print("%s: %d generic calls, %d oslo operations in the truth; %d records" % (
        NAME, len(gen), len(oslo), len(records)))
    c.finish()


if __name__ == "__main__":
    main()
