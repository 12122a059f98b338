"""The 2024+ queue layout against what really happened: tools/lab/layout2024.py
on a private lab broker (free loopback ports, its own files, stopped by its
pid), captured with tcpdump into a private directory (the whole run, and a
second capture begun after the queue-manager caller had set up), then
oslotrace -r on both. Truth is what the lab processes did:

- quorum topic queues (real oslo.messaging 14.0.3, rabbit_quorum_queue): every
  call answered, with its caller's and server's processes;
- queue-manager reply queues "reply_<host>:<process>:<n>", durable quorum
  (emulated with pika as oslo.messaging 18.1.0 declares them): every call ok,
  its reply_q; where the caller's handshake is not in the capture the caller
  is read from the reply queue's name ("<process>@<host>");
- stream fanout (emulated, one shared "<topic>_fanout" stream read with
  x-stream-offset): one record per fanout whatever how many times the stream
  hands it out again, its receivers those that had it when it was sent, and
  the re-reads counted (fanout_replays) as many as the consumers got;
- quorum redeliveries: a "redelivery" broker event per delivery made again,
  with the x-delivery-count the consumer saw.
Skipped (77) where the lab cannot run (not root, no rabbitmq-server, no pika
or oslo.messaging)."""
import json
import os

from common import ndjson, run
from lab_broker import run_lab_scenario


def main():
    run_lab_scenario("layout2024", "layout2024.py", 400, check_run)


def check_run(c, out):
    with open(os.path.join(out, "layout2024.truth.json")) as f:
        truth = json.load(f)
    check(c, os.path.join(out, "layout2024.pcap"), os.path.join(out, "layout2024-midstart.pcap"), truth)


def check(c, pcap, midstart, truth):
    recs = ndjson(["-r", pcap, "-j"])
    calls = {r["request_id"]: r for r in recs if r["type"] == "call"}
    proc, sproc = truth["process"], truth["server_process"]

    # The declares are what the scenario says (the lab really ran in that mode).
    amqp = ndjson(["-r", pcap, "--amqp", "-j"])
    decl = {r["args"]["queue"]: r["args"] for r in amqp if r.get("method") == "queue.declare"}
    c.check(decl.get("qtopic", {}).get("arguments", {}).get("x-queue-type") == "quorum",
            "topic queue declared quorum: %s" % decl.get("qtopic"))
    qm = truth["qmanager_calls"]
    c.check(decl.get(qm[0]["reply_q"], {}).get("arguments", {}).get("x-queue-type") == "quorum"
            and decl[qm[0]["reply_q"]]["durable"], "reply queue durable quorum: %s" % decl.get(qm[0]["reply_q"]))
    st = truth["stream"]
    sq = "%s_fanout" % st["topic"]
    c.check(decl.get(sq, {}).get("arguments", {}).get("x-queue-type") == "stream",
            "stream fanout queue: %s" % decl.get(sq))

    for t in truth["quorum_calls"]:
        r = calls.get(t["request_id"])
        if c.check(r is not None, "quorum call %s: no record" % t["request_id"]):
            c.check((r["status"], r["verdict"], r["method"], r["topic"]) == ("ok", "ok", "echo", t["topic"]),
                    "quorum call %s: %s %s" % (t["request_id"], r["status"], r["verdict"]))
            c.check(r["client_process"] == proc and r["server_process"] == sproc,
                    "quorum call processes %s / %s, want %s / %s" % (
                        r["client_process"], r["server_process"], proc, sproc))

    for t in qm:
        c.check(t["t_reply"] is not None, "the lab's qmanager call %s got no reply" % t["msg_id"])
        r = calls.get(t["request_id"])
        if c.check(r is not None, "qmanager call %s: no record" % t["msg_id"]):
            c.check((r["msg_id"], r["reply_q"], r["verdict"], r["client_process"], r["server_process"])
                    == (t["msg_id"], t["reply_q"], "ok", proc, sproc),
                    "qmanager call %s: %s" % (t["msg_id"], {k: r[k] for k in (
                        "msg_id", "reply_q", "verdict", "client_process", "server_process")}))
    # The caller's handshake is not in the mid-start capture: its name comes from the queue.
    mid = {r["request_id"]: r for r in ndjson(["-r", midstart, "-j"]) if r["type"] == "call"}
    want = "%s@%s" % (proc.split(":")[0], truth["hostname"])  # reply_<host>:<process>:<n>
    for t in qm:
        r = mid.get(t["request_id"])
        if c.check(r is not None, "mid-start capture lacks %s" % t["msg_id"]):
            c.check(r["client_process"] == want and r["verdict"] == "ok",
                    "mid-start caller %r (want %r from %s), verdict %s" % (
                        r["client_process"], want, t["reply_q"], r["verdict"]))

    # Stream fanout: one record per fanout; receivers as delivered when sent; re-reads counted.
    fan = {}
    for r in recs:
        if r["type"] == "fanout" and r["topic"] == st["topic"]:
            c.check(r["unique_id"] not in fan, "fanout %s reported twice" % r["unique_id"])
            fan[r["unique_id"]] = r
    sent = st["first"] + st["last"]
    c.check(set(fan) == {f["unique_id"] for f in sent},
            "fanout records %s, sent %s" % (sorted(fan), sorted(f["unique_id"] for f in sent)))
    for f in sent:
        had = {name for name, got in st["deliveries"].items()
               for g in got if g["unique_id"] == f["unique_id"] and g["t"] - f["t"] < 1.5}
        r = fan.get(f["unique_id"])
        c.check(r is not None and r["fanout_receivers"] == len(had),
                "fanout %s: receivers %s, consumers that had it when sent %s" % (
                    f["unique_id"], r and r["fanout_receivers"], sorted(had)))
    c.check(st["replays"] >= 1, "the lab made no stream re-read (B got %s)" % st["deliveries"].get("B"))
    rep = json.loads(run(["-r", pcap, "--report", "-j", "-q"]).stdout.decode())
    c.check(rep["counters"].get("fanout_replays") == st["replays"],
            "fanout_replays %s, the consumers re-read %d" % (rep["counters"].get("fanout_replays"), st["replays"]))
    # Quorum redeliveries: one broker event per delivery made again, its x-delivery-count.
    rd = truth["redelivery"]
    want_rd = [(d["delivery_tag"], d["x_delivery_count"]) for d in rd["deliveries"]
               if d["redelivered"] or d["x_delivery_count"]]
    c.check(any(n for _, n in want_rd), "the lab made no counted redelivery: %s" % rd["deliveries"])
    events = [r for r in ndjson(["-r", pcap, "-j", "--broker-events"]) if r["type"] == "broker_event"]
    got_rd = [(e["delivery_tag"], e["delivery_count"]) for e in events
              if e["event"] == "redelivery" and e["queue"] == rd["queue"]]
    c.check(got_rd == want_rd and all(e["process"] == proc for e in events if e["event"] == "redelivery"),
            "redelivery events %s, the consumer saw %s" % (got_rd, want_rd))
    amp = {r["topic"]: r for r in (rep.get("diagnosis") or {}).get("fanout_amplification", [])}
    c.check(amp.get(st["topic"], {}).get("fanouts") == len(sent),
            "report amplification %s, %d fanouts sent" % (amp.get(st["topic"]), len(sent)))


if __name__ == "__main__":
    main()
