#!/usr/bin/python3
"""The `layout2024` scenario: the queue layout kolla-ansible 2025.1 and
OpenStack-Ansible 2024.1 turn on, with truth from the processes.

    layout2024.py --port N --out DIR   (DIR/layout2024.pcap, layout2024-midstart.pcap,
                                        layout2024.truth.json)

Debian's oslo.messaging 14.0.3 has rabbit_quorum_queue but none of the
later options, so the scenario is real where it can be and emulated with
pika where it cannot, declaring exactly what oslo.messaging 18.1.0 declares
(oslo_messaging/_drivers/impl_rabbit.py and amqpdriver.py at 18.1.0, line
numbers below; fetched from github:openstack/oslo.messaging):

  quorum     REAL: server.py --quorum and an oslo 14.0.3 client with
             rabbit_quorum_queue=True: the topic queue is declared durable
             with x-queue-type quorum (impl_rabbit.py 14.0.3 _get_queue_arguments,
             declare_topic_consumer). QUORUM_CALLS calls.
  qmanager   EMULATED (use_queue_manager + rabbit_transient_quorum_queue):
             the caller's reply queue is "reply_" + QManager.get() =
             "reply_<hostname>:<processname>:<n>" (impl_rabbit.py 18.1.0
             L1777-1781, amqpdriver.py L44-117; hostname = socket.gethostname(),
             processname = basename(argv[0]), L262-270), declared durable with
             x-queue-type quorum and x-expires (declare_direct_consumer L1448-1469,
             _get_queue_arguments L284-363, rabbit_transient_queues_ttl 1800 s).
             The request is oslo's own envelope (rpc_common.serialize_msg),
             published to exchange "openstack" with the topic as routing key and
             the timeout as expiration, as kombu does; the REAL quorum server
             answers it. QM_CALLS calls. A second tcpdump starts after this
             caller's connection and consumer are set up: in that capture the
             caller is named only by its reply queue.
  stream     EMULATED (rabbit_stream_fanout): one shared stream queue
             "<topic>_fanout" (declare_fanout_consumer L1490-1521), durable,
             {"x-queue-type": "stream", "x-max-age": "1800s"} (L359-362), bound to
             the fanout exchange "<topic>_fanout" (fanout_send L1700-1709);
             consumers set basic.qos (streams need a prefetch, L743-746) and
             consume with x-stream-offset = next_stream_offset, "last" at first
             (Consumer.declare L458-468), then the delivered x-stream-offset + 1
             (_callback L611-616). Consumer A reads STREAM_FANOUTS fanouts, goes
             away and comes back at its next offset (nothing old again); consumer
             B, a service started later, consumes from "last" and so reads the
             stream's last chunk again: old fanouts, same _unique_id, seconds
             after their records were written. Then one more fanout reaches both.

  redelivery REAL (RabbitMQ): a message on a quorum queue rejected with requeue
             REJECTS times, then acked: each delivery again carries the redelivered
             flag and x-delivery-count (the attempts before it).

RabbitMQ 4.3's 541 on transient non-exclusive queues is not made here (the
lab's RabbitMQ is 3.10; see docs/design.md).
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
PY = "/usr/bin/python3"

QUORUM_CALLS = 3
QM_CALLS = 3
STREAM_FANOUTS = 3
REJECTS = 2
TOPIC = "qtopic"
STREAM_TOPIC = "stream_lab"


def pika_conn(port, process):
    import pika
    return pika.BlockingConnection(pika.ConnectionParameters(
        host="127.0.0.1", port=port, credentials=pika.PlainCredentials("guest", "guest"),
        client_properties={"connection_name": "%s:%s" % (process, uuid.uuid4())}))


def start_server(port, work):
    ready = os.path.join(work, "qserver.ready")
    log = open(os.path.join(work, "qserver.log"), "w")
    p = subprocess.Popen([PY, os.path.join(HERE, "server.py"), "--name", "qhost", "--topics", TOPIC,
                          "--url", "rabbit://guest:guest@127.0.0.1:%d/" % port, "--quorum",
                          "--events", os.path.join(work, "events-qserver.jsonl"), "--ready", ready],
                         stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while not os.path.exists(ready):
        if p.poll() is not None or time.time() > deadline:
            raise RuntimeError("quorum server did not start; see qserver.log")
        time.sleep(0.05)
    time.sleep(0.2)
    return p


def quorum_calls(port, truth):
    """Real oslo.messaging 14.0.3 calls with rabbit_quorum_queue=True."""
    import oslo_messaging
    import labrt
    labrt.quiet_logging()
    conf = labrt.make_conf()
    conf.set_override("rabbit_quorum_queue", True, group="oslo_messaging_rabbit")
    tr = oslo_messaging.get_rpc_transport(conf, url="rabbit://guest:guest@127.0.0.1:%d/" % port)
    cl = oslo_messaging.RPCClient(tr, oslo_messaging.Target(topic=TOPIC, exchange=labrt.EXCHANGE, version="2.4"),
                                  timeout=20)
    calls = []
    for i in range(QUORUM_CALLS):
        rid = "req-%s" % uuid.uuid4()
        t = time.time()
        r = cl.call({"request_id": rid}, "echo", value=i)
        calls.append({"request_id": rid, "result": r, "t": t, "method": "echo", "topic": TOPIC})
    tr.cleanup()
    truth["quorum_calls"] = calls


class QManagerCaller:
    """An oslo 18.x caller with use_queue_manager and transient quorum queues,
    on pika: its reply queue named and declared as amqpdriver/impl_rabbit 18.1.0 do."""

    def __init__(self, port, process):
        from oslo_messaging._drivers import common as rpc_common
        self.rpc_common = rpc_common
        self.conn = pika_conn(port, process)
        self.ch = self.conn.channel()
        host, pname = socket.gethostname(), os.path.basename(sys.argv[0])
        self.reply_q = "reply_%s:%s:%d" % (host, pname, 1)  # QManager.get(): the first name
        self.ch.queue_declare(self.reply_q, durable=True, auto_delete=False,
                              arguments={"x-queue-type": "quorum", "x-expires": 1800 * 1000})
        self.replies = {}
        self.ch.basic_consume(self.reply_q, self._on_reply, auto_ack=False)

    def _on_reply(self, ch, method, props, body):
        msg = json.loads(json.loads(body)["oslo.message"])
        if msg.get("ending", True) and "_msg_id" in msg:
            self.replies[msg["_msg_id"]] = (time.time(), msg)
        ch.basic_ack(method.delivery_tag)

    def call(self, rid, value, timeout=20):
        import pika
        msg_id = uuid.uuid4().hex
        msg = {"method": "echo", "args": {"value": value}, "version": "2.4",
               "_msg_id": msg_id, "_reply_q": self.reply_q, "_unique_id": uuid.uuid4().hex,
               "_timeout": None, "_context_request_id": rid}
        body = json.dumps(self.rpc_common.serialize_msg(msg)).encode()
        t = time.time()
        self.ch.basic_publish("openstack", TOPIC, body, pika.BasicProperties(
            content_type="application/json", content_encoding="utf-8", delivery_mode=2,
            expiration=str(timeout * 1000)))
        deadline = t + timeout
        while msg_id not in self.replies and time.time() < deadline:
            self.conn.process_data_events(time_limit=0.05)
        got = self.replies.get(msg_id)
        return {"msg_id": msg_id, "request_id": rid, "reply_q": self.reply_q, "t": t,
                "result": got[1].get("result") if got else None, "t_reply": got[0] if got else None,
                "method": "echo", "topic": TOPIC}

    def close(self):
        self.conn.close()


class StreamConsumer:
    """A fanout consumer of oslo 18.x with rabbit_stream_fanout, on pika."""

    def __init__(self, port, process, name, offset="last"):
        self.name = name
        self.conn = pika_conn(port, process)
        self.ch = self.conn.channel()
        q = "%s_fanout" % STREAM_TOPIC
        self.ch.exchange_declare(q, exchange_type="fanout", durable=False, auto_delete=True)
        self.ch.queue_declare(q, durable=True, auto_delete=False,
                              arguments={"x-queue-type": "stream", "x-max-age": "1800s"})
        self.ch.queue_bind(q, q, routing_key=STREAM_TOPIC)
        self.ch.basic_qos(prefetch_count=100)
        self.got = []
        self.next_offset = offset
        self.ch.basic_consume(q, self._on_msg, auto_ack=False,
                              arguments={"x-stream-offset": offset})

    def _on_msg(self, ch, method, props, body):
        off = (props.headers or {}).get("x-stream-offset")
        if off is not None:
            self.next_offset = off + 1
        msg = json.loads(json.loads(body)["oslo.message"])
        self.got.append({"unique_id": msg["_unique_id"], "t": time.time(), "offset": off})
        ch.basic_ack(method.delivery_tag)

    def pump(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            self.conn.process_data_events(time_limit=0.05)

    def close(self):
        self.conn.close()


def stream_publish(port, process, n):
    import pika
    from oslo_messaging._drivers import common as rpc_common
    c = pika_conn(port, process)
    ch = c.channel()
    ex = "%s_fanout" % STREAM_TOPIC
    ch.exchange_declare(ex, exchange_type="fanout", durable=False, auto_delete=True)
    sent = []
    for i in range(n):
        uid = uuid.uuid4().hex
        msg = {"method": "refresh", "args": {"n": i}, "version": "1.0", "_unique_id": uid,
               "_context_request_id": "req-%s" % uuid.uuid4()}
        ch.basic_publish(ex, STREAM_TOPIC, json.dumps(rpc_common.serialize_msg(msg)).encode(),
                         pika.BasicProperties(content_type="application/json",
                                              content_encoding="utf-8", delivery_mode=2))
        sent.append({"unique_id": uid, "t": time.time()})
    c.close()
    return sent


def stream_case(port, process, truth):
    a = StreamConsumer(port, process, "A")
    a.pump(0.5)
    first = stream_publish(port, process, STREAM_FANOUTS)
    a.pump(1.5)
    a_offset = a.next_offset
    a.close()
    # Past the records' hold and linger (packet time: other traffic keeps it
    # moving, as on any busy broker), so a repeat is no longer a leg of them.
    tick = pika_conn(port, process)
    tch = tick.channel()
    tch.queue_declare("layout_ticker", auto_delete=True)
    for _ in range(20):
        tch.basic_publish("", "layout_ticker", b"tick")
        time.sleep(0.3)
    tick.close()
    a2 = StreamConsumer(port, process, "A-again", offset=a_offset)  # oslo keeps its offset
    b = StreamConsumer(port, process, "B")  # a service started later: "last"
    a2.pump(1.5)
    b.pump(1.5)
    last = stream_publish(port, process, 1)
    a2.pump(1.0)
    b.pump(1.0)
    for c in (a2, b):
        c.close()
    first_ids = {f["unique_id"] for f in first}
    truth["stream"] = {
        "topic": STREAM_TOPIC, "first": first, "last": last,
        "deliveries": {c.name: c.got for c in (a, a2, b)},
        # deliveries of an id some consumer had had seconds before
        "replays": sum(1 for c in (a2, b) for g in c.got if g["unique_id"] in first_ids),
    }


def redelivery_case(port, process, truth):
    """A quorum queue hands a rejected (requeued) message out again with
    x-delivery-count: one message rejected REJECTS times, then acked."""
    c = pika_conn(port, process)
    ch = c.channel()
    ch.queue_declare("layout_quorum_redeliver", durable=True,
                     arguments={"x-queue-type": "quorum"})
    ch.basic_publish("", "layout_quorum_redeliver", b"poison")
    ch.basic_qos(prefetch_count=1)
    seen = []

    def on_msg(chan, method, props, body):
        seen.append({"redelivered": bool(method.redelivered), "delivery_tag": method.delivery_tag,
                     "x_delivery_count": (props.headers or {}).get("x-delivery-count"),
                     "t": time.time()})
        if len(seen) <= REJECTS:
            chan.basic_reject(method.delivery_tag, requeue=True)
        else:
            chan.basic_ack(method.delivery_tag)
    ch.basic_consume("layout_quorum_redeliver", on_msg)
    end = time.time() + 10
    while len(seen) <= REJECTS and time.time() < end:
        c.process_data_events(time_limit=0.05)
    ch.queue_delete("layout_quorum_redeliver")
    c.close()
    truth["redelivery"] = {"queue": "layout_quorum_redeliver", "deliveries": seen}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import capture
    process = "%s:%d" % (os.path.basename(sys.argv[0]), os.getpid())
    work = os.path.join(args.out, "work")
    os.makedirs(work, exist_ok=True)
    td = capture.Tcpdump(os.path.join(args.out, "layout2024.pcap"), port=args.port)
    td2 = capture.Tcpdump(os.path.join(args.out, "layout2024-midstart.pcap"), port=args.port)
    truth = {"process": process, "hostname": socket.gethostname()}
    server = None
    td.start()
    time.sleep(0.3)
    try:
        server = start_server(args.port, work)
        truth["server_process"] = "server.py:%d" % server.pid
        quorum_calls(args.port, truth)
        qm = QManagerCaller(args.port, process)
        qm.conn.process_data_events(time_limit=0.2)
        td2.start()  # the caller's handshake and declares are not in this one
        time.sleep(0.5)
        truth["qmanager_calls"] = [qm.call("req-%s" % uuid.uuid4(), i) for i in range(QM_CALLS)]
        qm.close()
        stream_case(args.port, process, truth)
        redelivery_case(args.port, process, truth)
        time.sleep(0.5)
    finally:
        if server and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        time.sleep(2.5)  # tcpdump's last block (see broker_events.py)
        for t in (td2, td):
            t.stop()
    with open(os.path.join(args.out, "layout2024.truth.json"), "w") as f:
        json.dump(truth, f, indent=1, sort_keys=True)
        f.write("\n")
    print("layout2024: %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
