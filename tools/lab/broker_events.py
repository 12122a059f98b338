#!/usr/bin/python3
"""The `broker-events` scenario: things the broker does to its clients that
are not RPC verdicts, each made to happen for real on a lab broker, with
truth written by this process from what pika was told.

    broker_events.py --port N --out DIR     (DIR/broker-events.pcap, .truth.json)

Cases (truth key → what oslotrace must report):
  churn        CHURN short-lived connections opened and closed (one process,
               connection_name "broker_events.py:<pid>:<uuid>" as oslo names
               them): connection_churn opened/closed per minute = the times
               this process recorded around each connect and close
  confirms     one connection in confirm mode (confirm.select): CONFIRMS
               publishes acked one by one, then publishes to a queue with
               x-max-length 1 and x-overflow reject-publish: the first acked,
               the rest nacked (pika raises NackError): publisher_confirms
               counts, basic.nack events, latency within what the publisher
               measured around each blocking publish
  declare_406  queue.declare of an existing queue with other arguments:
               channel.close 406 PRECONDITION_FAILED on queue.declare, queue named
  declare_404  passive queue.declare of a missing queue: channel.close 404
  vhost_530    connection.open to a vhost that does not exist: connection.close 530
  fanout       FANOUTS oslo fanout casts (the envelope from oslo.messaging's own
               serialize_msg, exchange "<topic>_fanout" of type fanout, as
               impl_rabbit.fanout_send) to RECEIVERS consumers, each on its own
               connection and queue: fanout_receivers and the report's
               amplification = the deliveries the consumers counted

RabbitMQ 4.3's 541 on a transient non-exclusive queue.declare cannot be made
with the lab's RabbitMQ 3.10; it takes the same path (a close naming the
failed method and the queue) as declare_406 and declare_404.
"""
import argparse
import json
import os
import re
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

CHURN = 6
CONFIRMS = 20
NACKED = 2
FANOUTS = 4
RECEIVERS = 3


class Lab:
    def __init__(self, port):
        self.port = port
        self.process = "broker_events.py:%d" % os.getpid()
        self.opens, self.closes = [], []

    def params(self, vhost="/"):
        import pika
        return pika.ConnectionParameters(
            host="127.0.0.1", port=self.port, virtual_host=vhost,
            credentials=pika.PlainCredentials("guest", "guest"),
            client_properties={"connection_name": "%s:%s" % (self.process, uuid.uuid4())})

    def connect(self, vhost="/"):
        import pika
        t = time.time()
        try:
            c = pika.BlockingConnection(self.params(vhost))
        finally:
            self.opens.append(t)  # start-ok is sent whatever the vhost
        return c

    def close(self, c):
        self.closes.append(time.time())
        c.close()


def confirms(lab, truth):
    import pika
    c = lab.connect()
    ch = c.channel()
    ch.queue_declare("be_confirms", auto_delete=True)
    ch.queue_declare("be_bounded", auto_delete=True,
                     arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    waits, acked, nacked = [], 0, 0
    for i in range(CONFIRMS + 1 + NACKED):
        q = "be_confirms" if i < CONFIRMS else "be_bounded"
        t = time.time()
        try:
            ch.basic_publish("", q, b"m%d" % i)
            acked += 1
        except pika.exceptions.NackError:
            nacked += 1
        waits.append(time.time() - t)
    lab.close(c)
    truth["confirms"] = {"published": len(waits), "acked": acked, "nacked": nacked,
                         "max_wait_ms": max(waits) * 1e3, "queue_nacked": "be_bounded",
                         "process": lab.process}


def declares(lab, truth):
    import pika
    c = lab.connect()
    ch = c.channel()
    ch.queue_declare("be_redeclared", auto_delete=True)
    got = {}
    try:
        c.channel().queue_declare("be_redeclared", auto_delete=True,
                                  arguments={"x-max-length": 5})
    except pika.exceptions.ChannelClosedByBroker as e:
        got["declare_406"] = {"code": e.reply_code, "text": e.reply_text, "queue": "be_redeclared"}
    try:
        c.channel().queue_declare("be_no_such_queue", passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        got["declare_404"] = {"code": e.reply_code, "text": e.reply_text,
                              "queue": "be_no_such_queue"}
    lab.close(c)
    try:
        lab.connect(vhost="/no-such-vhost")
    except pika.exceptions.AMQPConnectionError as e:
        lab.closes.append(time.time())
        # pika 1.2 wraps the broker's connection.close as
        # ProbableAccessDeniedError("ConnectionClosedByBroker: (530) NOT_ALLOWED - ...")
        m = re.search(r"\((\d{3})\) '?(.*?)'?$", str(e))
        if m:
            got["vhost_530"] = {"code": int(m.group(1)), "text": m.group(2)}
    truth.update(got)


def churn(lab, truth):
    for _ in range(CHURN):
        c = lab.connect()
        c.channel()
        lab.close(c)
        time.sleep(0.05)


def fanout(lab, truth):
    from oslo_messaging._drivers import common as rpc_common
    topic = "be_fan"
    pub = lab.connect()
    pch = pub.channel()
    pch.exchange_declare("%s_fanout" % topic, exchange_type="fanout", auto_delete=True)
    consumers, got = [], {}
    for i in range(RECEIVERS):
        c = lab.connect()
        ch = c.channel()
        q = "%s_fanout_%s" % (topic, uuid.uuid4().hex)  # oslo 14: "<topic>_fanout_<uuid hex>"
        ch.queue_declare(q, auto_delete=True)
        ch.queue_bind(q, "%s_fanout" % topic, routing_key=topic)
        got[q] = []

        def on_msg(chan, method, props, body, q=q):
            inner = json.loads(json.loads(body)["oslo.message"])
            got[q].append(inner["_unique_id"])
            chan.basic_ack(method.delivery_tag)
        ch.basic_consume(q, on_msg)
        consumers.append(c)
    import pika
    ids = []
    for n in range(FANOUTS):
        uid = uuid.uuid4().hex
        msg = {"method": "refresh", "args": {"n": n}, "version": "1.0", "_unique_id": uid,
               "_context_request_id": "req-%s" % uuid.uuid4()}
        body = json.dumps(rpc_common.serialize_msg(msg)).encode()
        pch.basic_publish("%s_fanout" % topic, "", body,
                          pika.BasicProperties(content_type="application/json",
                                               content_encoding="utf-8", delivery_mode=2))
        ids.append(uid)
    deadline = time.time() + 20
    while time.time() < deadline and sum(len(v) for v in got.values()) < FANOUTS * RECEIVERS:
        for c in consumers:
            c.process_data_events(time_limit=0.05)
    for c in consumers:
        lab.close(c)
    lab.close(pub)
    per_id = {u: sum(v.count(u) for v in got.values()) for u in ids}
    truth["fanout"] = {"topic": topic, "unique_ids": per_id}


def minutes(ts):
    out = {}
    for t in ts:
        m = int(t // 60 * 60)
        out[m] = out.get(m, 0) + 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-capture", action="store_true", help="the caller captures")
    args = ap.parse_args()
    import capture
    pcap = os.path.join(args.out, "broker-events.pcap")
    td = None
    if not args.no_capture:
        td = capture.Tcpdump(pcap, port=args.port)
        td.start()
        time.sleep(0.3)
    lab = Lab(args.port)
    truth = {"process": lab.process}
    try:
        churn(lab, truth)
        confirms(lab, truth)
        declares(lab, truth)
        fanout(lab, truth)
        # tcpdump hands packets over in blocks (up to 1 s late) and stops at
        # SIGINT without waiting for the last one: give it time.
        time.sleep(2.5)
    finally:
        if td:
            td.stop()
            if os.path.exists(pcap + ".stderr"):
                os.unlink(pcap + ".stderr")
    truth["churn"] = {"opened": len(lab.opens), "closed": len(lab.closes),
                      "open_times": lab.opens, "close_times": lab.closes,
                      "opened_per_minute": minutes(lab.opens),
                      "closed_per_minute": minutes(lab.closes)}
    with open(os.path.join(args.out, "broker-events.truth.json"), "w") as f:
        json.dump(truth, f, indent=1, sort_keys=True)
        f.write("\n")
    print("broker-events: %s" % pcap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
