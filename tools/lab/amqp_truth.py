#!/usr/bin/python3
"""Truth for the generic AMQP RPC calls of a lab capture (amqp_rpc.py), and
tshark's independent view of the same capture to check it against.

build() joins the client's amqp_call / amqp_late_reply events with the
servers' amqp_served events by correlation_id: one truth record per call
(field list in pcaps/README.md, "Generic AMQP RPC truth").

tshark_messages() reads the capture with Wireshark's AMQP dissector (never
our own code) and pairs each content method (basic.publish, basic.deliver,
basic.return, basic.get-ok) with the properties of the content header that
follows it on the same channel.  tshark_check() counts what the truth says
must be on the wire (requests with reply_to and correlation_id, replies,
returns, deliveries) and lists every disagreement.

CLI: amqp_truth.py check F.pcap F.truth.jsonl [--port 5672]
"""
import collections
import json
import subprocess
import sys

DIRECT = "amq.rabbitmq.reply-to"
CONTENT = {40: "publish", 50: "return", 60: "deliver", 71: "get-ok"}


def build(evs, t_listen, t_stop, scenario):
    served = collections.defaultdict(list)
    late = collections.defaultdict(list)
    calls = []
    for e in evs:
        if e["ev"] == "amqp_call":
            calls.append(e)
        elif e["ev"] == "amqp_served":
            served[e["correlation_id"]].append(e)
        elif e["ev"] == "amqp_late_reply":
            late[e["correlation_id"]].append(e)
    calls.sort(key=lambda c: (c["t_send"], c["correlation_id"]))
    truth = []
    for c in calls:
        t = {k: v for k, v in c.items() if k != "ev"}
        t["scenario"] = scenario
        t["topic"] = c["routing_key"]
        sv = sorted(served.get(c["correlation_id"], []), key=lambda e: e["t_recv"])
        t["server_recv"] = [{k: e.get(k) for k in ("queue", "consumer", "t_recv", "t_reply",
                                                   "reply_to", "redelivered", "reply_bytes")}
                            for e in sv]
        t["replies_sent"] = sum(1 for e in sv if e.get("t_reply") is not None)
        lt = sorted(e["t"] for e in late.get(c["correlation_id"], []))
        if lt:
            t["t_late_reply"] = lt[0]
        times = [c["t_send"], c["t_recv"]] + lt
        times += [e["t_recv"] for e in sv] + [e["t_reply"] for e in sv if e.get("t_reply")]
        t["in_capture"] = bool(t_listen is not None and min(times) >= t_listen
                               and max(times) <= t_stop)
        # A reply that reached the client within 50 ms of its deadline could be
        # judged either way by a decoder working in packet time: flag it.
        t["near_deadline"] = bool(
            c["outcome"] in ("ok", "timeout") and (lt or c["outcome"] == "ok")
            and abs((lt[0] if c["outcome"] == "timeout" else c["t_recv"])
                    - (c["t_send"] + c["timeout_s"])) < 0.05)
        truth.append(t)
    return truth


def summary(truth):
    oc = collections.Counter(t["outcome"] for t in truth)
    by = collections.Counter("%s:%s" % (t["reply_style"], t["outcome"]) for t in truth)
    return {"calls": len(truth), "outcomes": dict(oc), "style_outcomes": dict(by),
            "topics": dict(collections.Counter(t["topic"] for t in truth)),
            "with_expiration": sum(1 for t in truth if t.get("expiration")),
            "with_confirms": sum(1 for t in truth if t.get("confirms")),
            "late_replies": sum(1 for t in truth if "t_late_reply" in t),
            "near_deadline": sum(1 for t in truth if t.get("near_deadline")),
            "in_capture": sum(1 for t in truth if t.get("in_capture"))}


# ---------------------------------------------------------------- tshark's view

def _frames(layer):
    a = layer.get("amqp")
    if a is None:
        return []
    return a if isinstance(a, list) else [a]


def tshark_messages(path, port=5672):
    """Content methods with their header's properties, as tshark decodes them."""
    cmd = ["tshark", "-r", path, "-Y", "amqp", "-T", "json", "--no-duplicate-keys",
           "-d", "tcp.port==%d,amqp" % port]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    pkts = json.loads(r.stdout or b"[]")
    pending, out = {}, []
    for p in pkts:
        lay = p["_source"]["layers"]
        tcp = lay.get("tcp", {})
        src, dst = int(tcp.get("tcp.srcport", 0)), int(tcp.get("tcp.dstport", 0))
        t = float(lay["frame"]["frame.time_epoch"])
        for f in _frames(lay):
            ftype, ch = f.get("amqp.type"), f.get("amqp.channel")
            key = (src, dst, ch)
            if ftype == "1" and f.get("amqp.method.class") == "60" \
                    and int(f.get("amqp.method.method", 0)) in CONTENT:
                args = {k.rsplit(".", 1)[1]: v
                        for k, v in (f.get("amqp.method.arguments") or {}).items()}
                pending[key] = {"method": CONTENT[int(f["amqp.method.method"])],
                                "to_broker": dst == port, "t": t, "args": args,
                                "frame": int(lay["frame"]["frame.number"])}
            elif ftype == "2" and key in pending:
                m = pending.pop(key)
                props = f.get("amqp.header.properties") or {}
                m["props"] = {k.rsplit(".", 1)[1]: v for k, v in props.items()
                              if not isinstance(v, dict)}
                m["body_size"] = int(f.get("amqp.header.body-size", 0))
                out.append(m)
    return out


def tshark_check(path, truth, port=5672):
    """tshark's counts next to the truth's, and every disagreement."""
    msgs = tshark_messages(path, port)
    gen = [t for t in truth if t.get("dialect") == "amqp" and t.get("in_capture")]
    by_corr = {t["correlation_id"]: t for t in gen}
    corr = lambda m: m["props"].get("correlation_id")  # noqa: E731
    pubs = [m for m in msgs if m["method"] == "publish"]
    req_pub = [m for m in pubs if corr(m) and m["props"].get("reply_to")]
    rep_pub = [m for m in pubs if corr(m) and not m["props"].get("reply_to")]
    dels = [m for m in msgs if m["method"] == "deliver"]
    req_del = [m for m in dels if corr(m) and m["props"].get("reply_to")]
    rep_del = [m for m in dels if corr(m) and not m["props"].get("reply_to")]
    rets = [m for m in msgs if m["method"] == "return"]
    problems = []

    def same(what, a, b):
        if a != b:
            problems.append("%s: tshark %s, truth %s" % (what, a, b))

    seen = collections.Counter(corr(m) for m in req_pub)
    same("requests published (publish with reply_to and correlation_id)", len(req_pub), len(gen))
    dup = sorted(c for c, n in seen.items() if n > 1)
    if dup:
        problems.append("correlation_id published more than once: %s" % dup[:5])
    missing = sorted(set(by_corr) - set(seen))
    extra = sorted(set(seen) - set(by_corr))
    if missing:
        problems.append("truth calls not published on the wire: %s" % missing[:5])
    if extra:
        problems.append("requests on the wire not in the truth: %s" % extra[:5])
    for m in req_pub:
        t = by_corr.get(corr(m))
        if t is None:
            continue
        wire = (m["args"].get("exchange", ""), m["args"].get("routing_key"),
                m["props"].get("reply_to"), m["props"].get("expiration"),
                m["args"].get("mandatory") == "1", m["body_size"])
        want = (t["exchange"], t["routing_key"], t["reply_to_published"], t.get("expiration"),
                t["mandatory"], t["request_bytes"])
        if wire != want:
            problems.append("request %s: wire %s, truth %s" % (t["correlation_id"], wire, want))
        if not t["t_send"] - 1e-6 <= m["t"] <= t["t_recv"] + 1e-6:
            problems.append("request %s published at %.6f outside the client's [%.6f, %.6f]"
                            % (t["correlation_id"], m["t"], t["t_send"], t["t_recv"]))
    same("requests published with reply_to amq.rabbitmq.reply-to",
         sum(1 for m in req_pub if m["props"].get("reply_to") == DIRECT),
         sum(1 for t in gen if t["reply_style"] == "direct"))
    same("requests delivered to a server (deliver with reply_to)",
         len(req_del), sum(len(t["server_recv"]) for t in gen))
    same("direct reply-to names seen by servers (amq.rabbitmq.reply-to.<token>)",
         sum(1 for m in req_del if m["props"]["reply_to"].startswith(DIRECT + ".")),
         sum(len(t["server_recv"]) for t in gen if t["reply_style"] == "direct"))
    same("replies published (publish with correlation_id, no reply_to)",
         len(rep_pub), sum(t["replies_sent"] for t in gen))
    same("replies delivered to clients",
         len(rep_del), sum(1 for t in gen if t["outcome"] == "ok" or "t_late_reply" in t))
    ret_corr = sorted(corr(m) for m in rets if corr(m) in by_corr)
    same("basic.return of generic requests (set of correlation_id)", ret_corr,
         sorted(t["correlation_id"] for t in gen if t["outcome"] == "unroutable"))
    codes = collections.Counter(m["args"].get("reply_code") for m in rets)
    for m in rep_pub:
        t = by_corr.get(corr(m))
        if t is None:
            continue
        rk = m["args"].get("routing_key", "")
        ok = rk.startswith(DIRECT + ".") if t["reply_style"] == "direct" \
            else rk == t["reply_to_published"]
        if not ok or m["args"].get("exchange", "") != "":
            problems.append("reply %s published to %r/%r" % (t["correlation_id"],
                                                              m["args"].get("exchange"), rk))
    other = [m for m in msgs if corr(m) and corr(m) not in by_corr]
    counts = {"content_methods": len(msgs), "basic_publish": len(pubs),
              "basic_publish_with_correlation_id": sum(1 for m in pubs if corr(m)),
              "requests_published": len(req_pub),
              "requests_published_direct_reply_to": sum(
                  1 for m in req_pub if m["props"].get("reply_to") == DIRECT),
              "replies_published": len(rep_pub), "basic_deliver": len(dels),
              "requests_delivered": len(req_del), "replies_delivered": len(rep_del),
              "basic_return": len(rets), "basic_return_reply_codes": dict(codes),
              "with_expiration_published": sum(1 for m in req_pub
                                               if m["props"].get("expiration")),
              "other_messages_with_correlation_id": len(other),
              "messages_without_correlation_id": sum(1 for m in msgs if not corr(m))}
    if other:
        problems.append("%d messages with a correlation_id that is no generic call: %s"
                        % (len(other), [corr(m) for m in other][:5]))
    return {"tool": "tshark -T json -d tcp.port==%d,amqp (Wireshark's AMQP dissector)" % port,
            "counts": counts, "problems": problems[:40], "problems_total": len(problems)}


def main(argv):
    if len(argv) >= 3 and argv[0] == "check":
        port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 5672
        with open(argv[2]) as f:
            truth = [json.loads(line) for line in f if line.strip()]
        res = tshark_check(argv[1], truth, port)
        print(json.dumps(res, indent=1, sort_keys=True))
        return 1 if res["problems"] else 0
    print(__doc__.strip().splitlines()[-1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
