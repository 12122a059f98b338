"""Broker events against what really happened: tools/lab/broker_events.py on a
private lab broker (free loopback ports, its own files, stopped by its pid),
captured with tcpdump into a private directory, then oslotrace -r on that
capture. The oracle is the truth the lab process wrote from what pika was
told: its own connects and closes (churn per process and minute), the acks
and nacks of its confirm-mode publishes and how long each blocking publish
took (confirm latency cannot exceed it), the codes and texts of the closes the
broker sent it (406 and 404 on queue.declare, 530 on connection.open), and the
deliveries its fanout consumers counted per _unique_id. Skipped (77) where the
lab cannot run (not root, no rabbitmq-server, no pika or oslo.messaging)."""
import json
import os

from common import ndjson, run
from lab_broker import run_lab_scenario


def main():
    run_lab_scenario("broker-events", "broker_events.py", 300, check_run)


def check_run(c, out):
    with open(os.path.join(out, "broker-events.truth.json")) as f:
        truth = json.load(f)
    check(c, os.path.join(out, "broker-events.pcap"), truth)


def check(c, pcap, truth):
    proc = truth["process"]
    recs = ndjson(["-r", pcap, "-j", "--broker-events"])
    events = [r for r in recs if r["type"] == "broker_event"]
    plain = ndjson(["-r", pcap, "-j"])
    c.check(all(r["type"] != "broker_event" for r in plain), "-j alone writes no broker events")

    # Churn: per minute and in total, what this process did.
    churn = [e for e in events if e["event"] == "connection_churn" and e["process"] == proc]
    t = truth["churn"]
    c.check(sum(e["opened"] for e in churn) == t["opened"],
            "churn opened %d != %d" % (sum(e["opened"] for e in churn), t["opened"]))
    c.check(sum(e["closed"] for e in churn) == t["closed"],
            "churn closed %d != %d" % (sum(e["closed"] for e in churn), t["closed"]))
    near_edge = any(abs(x - round(x / 60) * 60) < 1.0 for x in t["open_times"] + t["close_times"])
    if not near_edge:  # the client's clock and the packets' agree to well under a second
        got_o = {str(int(e["minute"])): e["opened"] for e in churn if e["opened"]}
        got_c = {str(int(e["minute"])): e["closed"] for e in churn if e["closed"]}
        c.check(got_o == t["opened_per_minute"], "opened per minute %s != %s" % (got_o, t["opened_per_minute"]))
        c.check(got_c == t["closed_per_minute"], "closed per minute %s != %s" % (got_c, t["closed_per_minute"]))
    c.check(all(e["connection"] is None for e in churn), "churn records name no connection")

    # Publisher confirms: the confirm-mode connection's summary, and the nacks.
    cf = truth["confirms"]
    summ = [e for e in events if e["event"] == "publisher_confirms" and e["process"] == proc]
    if c.check(len(summ) == 1, "publisher_confirms of %s: %s" % (proc, summ)):
        s = summ[0]
        c.check((s["published"], s["acked"], s["nacked"], s["unconfirmed"]) ==
                (cf["published"], cf["acked"], cf["nacked"], 0),
                "confirms %s != truth %s" % (s, cf))
        c.check(s["confirm_max_ms"] is not None and 0 < s["confirm_max_ms"] <= cf["max_wait_ms"],
                "confirm max %s ms, the publisher waited at most %.3f ms" % (s["confirm_max_ms"], cf["max_wait_ms"]))
    nacks = [e for e in events if e["event"] == "basic.nack"]
    c.check(sum(e["messages"] for e in nacks) == cf["nacked"] and
            all(e["process"] == proc and e["queue"] == cf["queue_nacked"] for e in nacks),
            "basic.nack events %s, truth %d nacked on %s" % (nacks, cf["nacked"], cf["queue_nacked"]))

    # Refused declares and the refused vhost: the broker's code and text, the name.
    for case, method, kind in (("declare_406", "queue.declare", "queue"),
                               ("declare_404", "queue.declare", "queue"),
                               ("vhost_530", "connection.open", None)):
        want = truth.get(case)
        if not c.check(want is not None, "the lab did not provoke %s" % case):
            continue
        hit = [e for e in events if e["reply_code"] == want["code"] and e["failed_method"] == method
               and e["process"] == proc]
        ok = len(hit) == 1
        if ok and kind:
            ok = hit[0]["event"] == "channel.close" and hit[0]["queue"] == want["queue"] and \
                hit[0]["reply_text"] == want["text"]
        elif ok:
            ok = hit[0]["event"] == "connection.close" and hit[0]["reply_text"] == want["text"]
        c.check(ok, "%s: %s, want %s" % (case, hit, want))

    # Fanout amplification: one record per fanout, receivers = deliveries counted.
    fo = truth["fanout"]
    fan = {r["unique_id"]: r for r in recs if r["type"] == "fanout" and r["topic"] == fo["topic"]}
    c.check(set(fan) == set(fo["unique_ids"]), "fanout records %s != %s" % (sorted(fan), sorted(fo["unique_ids"])))
    for uid, n in fo["unique_ids"].items():
        r = fan.get(uid)
        c.check(r is not None and r["fanout_receivers"] == n,
                "fanout %s: receivers %s, delivered %d" % (uid, r and r["fanout_receivers"], n))

    # The report says the same, in JSON and in text.
    rep = json.loads(run(["-r", pcap, "--report", "-j", "-q"]).stdout.decode())
    d = rep.get("diagnosis") or {}
    ch = {r["process"]: r for r in d.get("connection_churn", [])}
    c.check(proc in ch and (ch[proc]["opened"], ch[proc]["closed"]) == (t["opened"], t["closed"]),
            "report churn %s, truth %d/%d" % (ch.get(proc), t["opened"], t["closed"]))
    pc = {r["process"]: r for r in d.get("publisher_confirms", [])}
    c.check(proc in pc and (pc[proc]["published"], pc[proc]["acked"], pc[proc]["nacked"]) ==
            (cf["published"], cf["acked"], cf["nacked"]), "report confirms %s, truth %s" % (pc.get(proc), cf))
    amp = {r["topic"]: r for r in d.get("fanout_amplification", [])}
    ns = list(fo["unique_ids"].values())
    c.check(fo["topic"] in amp and (amp[fo["topic"]]["fanouts"], amp[fo["topic"]]["deliveries"],
                                    amp[fo["topic"]]["min_receivers"], amp[fo["topic"]]["max_receivers"])
            == (len(ns), sum(ns), min(ns), max(ns)), "report amplification %s, truth %s" % (amp.get(fo["topic"]), ns))
    be = d.get("broker_events", [])
    for case in ("declare_406", "declare_404"):
        want = truth.get(case) or {}
        c.check(any(e["reply_code"] == want.get("code") and e["queue"] == want.get("queue") for e in be),
                "report broker_events lack %s: %s" % (case, be))
    text = run(["-r", pcap, "--report", "-q"]).stdout.decode()
    c.check(("%s: opened %d, closed %d" % (proc, t["opened"], t["closed"])) in text,
            "text report churn line for %s" % proc)
    c.check(("published %d, acked %d, nacked %d" % (cf["published"], cf["acked"], cf["nacked"])) in text,
            "text report confirms line")
    lines = run(["-r", pcap, "--broker-events"]).stdout.decode().splitlines()
    c.check(sum(1 for ln in lines if " broker channel.close 406 " in ln and "queue=be_redeclared" in ln) == 1,
            "text line of the 406: %s" % [ln for ln in lines if " broker " in ln][:10])


if __name__ == "__main__":
    main()
