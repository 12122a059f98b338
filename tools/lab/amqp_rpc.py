#!/usr/bin/python3
"""Generic AMQP 0-9-1 RPC with pika (not oslo): the second dialect the decoder
knows.  A request is published with the AMQP properties reply_to and
correlation_id; the server publishes its reply to the default exchange with
routing key = reply_to and the same correlation_id.

    amqp_rpc.py server --url U --events F --ready R
        three consumers, one connection each: rpc.echo (replies at once),
        rpc.slow (sleeps the request's `sleep_ms` header, then replies),
        rpc.sink (takes every request, never replies).  Queues are
        auto-delete, so they vanish with the server.  rpc.echo is also bound
        to the direct exchange lab.rpc under its own name.
    amqp_rpc.py client --url U --events F [--seed N]
        four threads, one connection each: classic exclusive reply queue or
        RabbitMQ direct reply-to ("amq.rabbitmq.reply-to"), with and without
        publisher confirms.  Calls that succeed, calls whose `expiration`
        passes before the (slow or silent) server answers, and mandatory
        publishes to a routing key no queue is bound to (basic.return).

Each process writes its own JSONL events (amqp_call, amqp_late_reply,
amqp_served); amqp_truth.py turns them into truth records.  Times are
time.time(), the clock of the pcap stamps: t_send just before the publish,
t_recv just after the reply (or the basic.return) reached the client, or the
moment the client gave up (timeout).
"""
import argparse
import json
import os
import random
import signal
import sys
import threading
import time
import uuid

import pika

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from labrt import EventLog  # noqa: E402  (labrt imports oslo; fine on the lab's python)

QUEUES = ("rpc.echo", "rpc.slow", "rpc.sink")
# One consumer (connection) per entry: three on rpc.slow, so a slow request
# rarely waits behind another in the queue.
CONSUMERS = ("rpc.echo", "rpc.slow", "rpc.slow", "rpc.slow", "rpc.sink")
EXCHANGE = "lab.rpc"          # a named direct exchange, besides the default one
UNROUTED = "rpc.nobody"       # no queue is ever bound to this key
DIRECT = "amq.rabbitmq.reply-to"
ECHO_LIMIT = 1024             # larger requests get a short reply (keeps the capture small)


def params(url, name):
    p = pika.URLParameters(url)
    p.client_properties = {"connection_name": name, "product": "oslotrace-lab amqp_rpc.py"}
    return p


# ------------------------------------------------------------------ server

def reply_body(props, body):
    hdr = props.headers or {}
    if "reply_bytes" in hdr:
        return b"r" * int(hdr["reply_bytes"])
    if len(body) <= ECHO_LIMIT:
        return body
    return json.dumps({"received_bytes": len(body)}).encode()


def serve(url, queue, k, rec, stop, ready):
    conn = pika.BlockingConnection(params(url, "amqp_rpc server %s/%d" % (queue, k)))
    ch = conn.channel()
    ch.queue_declare(queue=queue, auto_delete=True)
    if queue == "rpc.echo":
        ch.exchange_declare(exchange=EXCHANGE, exchange_type="direct", auto_delete=True)
        ch.queue_bind(queue=queue, exchange=EXCHANGE, routing_key=queue)
    ch.basic_qos(prefetch_count=1)

    def on_request(chan, method, props, body):
        t = time.time()
        ev = {"ev": "amqp_served", "queue": queue, "consumer": k, "correlation_id": props.correlation_id,
              "reply_to": props.reply_to, "t_recv": t, "request_bytes": len(body),
              "redelivered": bool(method.redelivered), "t_reply": None}
        if queue == "rpc.sink":
            rec.emit(ev)
            return  # consumed with auto_ack; never answered
        if queue == "rpc.slow":
            conn.sleep(int((props.headers or {}).get("sleep_ms", 1000)) / 1000.0)
        out = reply_body(props, body)
        chan.basic_publish(exchange="", routing_key=props.reply_to, body=out,
                           properties=pika.BasicProperties(correlation_id=props.correlation_id,
                                                           content_type="application/octet-stream"))
        ev["t_reply"] = time.time()
        ev["reply_bytes"] = len(out)
        chan.basic_ack(delivery_tag=method.delivery_tag)
        rec.emit(ev)

    ch.basic_consume(queue=queue, on_message_callback=on_request,
                     auto_ack=(queue == "rpc.sink"))
    ready.release()
    while not stop.is_set():
        conn.process_data_events(time_limit=0.1)
    conn.close()


def server_main(args):
    rec = EventLog(args.events)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    ready = threading.Semaphore(0)
    ths = [threading.Thread(target=serve, args=(args.url, q, k, rec, stop, ready),
                            name="%s/%d" % (q, k))
           for k, q in enumerate(CONSUMERS)]
    for th in ths:
        th.start()
    for _ in ths:
        while not ready.acquire(timeout=0.5):
            if not all(th.is_alive() for th in ths):
                stop.set()
                sys.exit("amqp_rpc server: a consumer thread died before it was ready")
    with open(args.ready, "w") as f:
        f.write(str(os.getpid()))
    while not stop.wait(0.2):
        pass
    for th in ths:
        th.join()
    rec.close()


# ------------------------------------------------------------------ client

class Caller:
    """One connection and channel making RPC calls and waiting for the replies."""

    def __init__(self, url, rec, style, confirms, name):
        self.rec, self.style, self.confirms, self.name = rec, style, confirms, name
        self.conn = pika.BlockingConnection(params(url, "amqp_rpc client %s" % name))
        self.ch = self.conn.channel()
        if confirms:
            self.ch.confirm_delivery()
        if style == "direct":
            self.reply_to = DIRECT
        else:
            self.reply_to = self.ch.queue_declare(queue="", exclusive=True).method.queue
        self.ch.basic_consume(queue=self.reply_to, on_message_callback=self._on_reply,
                              auto_ack=True)
        self.ch.add_on_return_callback(self._on_return)
        self.pending = {}     # correlation_id -> call record
        self.gave_up = {}     # correlation_id -> call record (timed out)

    def _on_reply(self, chan, method, props, body):
        t = time.time()
        c = self.pending.pop(props.correlation_id, None)
        if c is not None:
            c.update(outcome="ok", t_recv=t, reply_bytes=len(body))
            self._emit(c)
        elif props.correlation_id in self.gave_up:
            self.rec.emit({"ev": "amqp_late_reply", "correlation_id": props.correlation_id,
                           "t": t, "reply_bytes": len(body)})
        else:
            self.rec.emit({"ev": "amqp_stray_reply", "correlation_id": props.correlation_id,
                           "t": t})

    def _on_return(self, chan, method, props, body):
        t = time.time()
        c = self.pending.pop(props.correlation_id, None)
        if c is not None:
            c.update(outcome="unroutable", t_recv=t, reply_code=method.reply_code,
                     reply_text=method.reply_text)
            self._emit(c)

    def _emit(self, c):
        self.rec.emit(dict(c, ev="amqp_call"))

    def publish(self, routing_key, body, exchange="", expiration_ms=None, headers=None,
                mandatory=False, wait_s=10.0, corr=None, note=None):
        corr = corr or str(uuid.uuid4())
        timeout_s = expiration_ms / 1000.0 if expiration_ms else wait_s
        props = pika.BasicProperties(reply_to=self.reply_to, correlation_id=corr,
                                     content_type="application/octet-stream", headers=headers,
                                     expiration=str(expiration_ms) if expiration_ms else None)
        c = {"dialect": "amqp", "kind": "call", "correlation_id": corr, "exchange": exchange,
             "routing_key": routing_key, "reply_style": self.style, "confirms": self.confirms,
             "mandatory": mandatory, "expiration": props.expiration, "timeout_s": timeout_s,
             "request_bytes": len(body), "headers": headers or {}, "client": self.name,
             "reply_to_published": self.reply_to}
        if note:
            c["note"] = note
        self.pending[corr] = c
        c["t_send"] = time.time()
        try:
            self.ch.basic_publish(exchange=exchange, routing_key=routing_key, body=body,
                                  properties=props, mandatory=mandatory)
        except pika.exceptions.UnroutableError:
            # With publisher confirms pika reports the basic.return as this error.
            if self.pending.pop(corr, None) is not None:
                c.update(outcome="unroutable", t_recv=time.time())
                self._emit(c)
        c["t_published"] = time.time()
        return c

    def wait(self):
        """Serve replies until every pending call is answered, returned or timed out."""
        while self.pending:
            self.conn.process_data_events(time_limit=0.02)
            now = time.time()
            for corr, c in list(self.pending.items()):
                if now >= c["t_send"] + c["timeout_s"]:
                    del self.pending[corr]
                    c.update(outcome="timeout", t_recv=now)
                    self.gave_up[corr] = c
                    self._emit(c)

    def linger(self, seconds):
        """Keep consuming (late replies are recorded), then close."""
        end = time.time() + seconds
        while time.time() < end:
            self.conn.process_data_events(time_limit=0.05)

    def close(self):
        self.conn.close()


def size_pick(rnd):
    """Mostly small requests, a few KB-sized ones: 10 B .. 4 KB."""
    r = rnd.random()
    if r < 0.8:
        return rnd.randint(10, 64)
    if r < 0.97:
        return rnd.randint(64, 1000)
    return rnd.randint(1000, 4000)


def body_of(rnd, n):
    return bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def worker(url, rec, idx, style, confirms, seed, n_rounds, errors):
    """n_rounds rounds; a round publishes 1-4 calls back to back, then waits for them."""
    rnd = random.Random(seed)
    name = "%s%s-%d" % (style, "+confirms" if confirms else "", idx)
    try:
        cl = Caller(url, rec, style, confirms, name)
        for rnd_i in range(n_rounds):
            for _ in range(rnd.choice((1, 1, 2, 3, 4))):
                r = rnd.random()
                body = body_of(rnd, size_pick(rnd))
                if r < 0.06:
                    cl.publish(UNROUTED, body, mandatory=True, wait_s=5.0,
                               note="mandatory, no queue bound: basic.return")
                elif r < 0.08:
                    cl.publish("rpc.unbound", body, exchange=EXCHANGE, mandatory=True,
                               wait_s=5.0, note="mandatory on lab.rpc, key not bound")
                elif r < 0.13:
                    cl.publish("rpc.sink", body, expiration_ms=rnd.choice((400, 700)),
                               note="sink never replies")
                elif r < 0.18:
                    exp = rnd.choice((300, 500))
                    cl.publish("rpc.slow", body, expiration_ms=exp,
                               headers={"sleep_ms": exp + 600},
                               note="server sleeps past the expiration: late reply")
                elif r < 0.26:
                    cl.publish("rpc.slow", body, expiration_ms=10000,
                               headers={"sleep_ms": rnd.choice((20, 80, 150))},
                               note="slow but inside the expiration")
                elif r < 0.36:
                    cl.publish("rpc.echo", body, exchange=EXCHANGE,
                               note="via the named direct exchange lab.rpc")
                elif r < 0.50:
                    cl.publish("rpc.echo", body, expiration_ms=rnd.choice((3000, 10000)))
                else:
                    cl.publish("rpc.echo", body)
            cl.wait()
        if idx == 0:
            # The large ones, once: a 100 KB request (short reply), a 10 KB reply.
            cl.publish("rpc.echo", body_of(rnd, 100000), note="100 KB request")
            cl.publish("rpc.echo", b"give me 10000 bytes", headers={"reply_bytes": 10000},
                       note="10 KB reply")
            cl.publish("rpc.echo", body_of(rnd, 5000), expiration_ms=10000,
                       note="5 KB request with an expiration")
            cl.wait()
        if idx == 1:
            for n in range(3):
                cl.publish("rpc.echo", body_of(rnd, 10), corr="c-%06d" % (idx * 1000 + n),
                           note="short non-uuid correlation_id")
            cl.wait()
        cl.linger(2.0)
        cl.close()
    except Exception as e:  # a lab bug: make the run fail loudly
        errors.append("%s: %r" % (name, e))
        raise


def client_main(args):
    rec = EventLog(args.events)
    errors = []
    plan = [("queue", False), ("direct", False), ("queue", True), ("direct", True)]
    ths = [threading.Thread(target=worker, name="amqp-%d" % i,
                            args=(args.url, rec, i, style, confirms, args.seed * 100 + i,
                                  args.rounds, errors))
           for i, (style, confirms) in enumerate(plan)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    # A tail after every thread's linger: packet time passes every timeout's
    # deadline well before the capture ends, so none of them is still "open".
    tail = Caller(args.url, rec, "direct", False, "tail-direct")
    for i in range(2):
        tail.publish("rpc.echo", b"tail-%d" % i, note="tail call")
    tail.wait()
    tail.close()
    tail = Caller(args.url, rec, "queue", False, "tail-queue")
    for i in range(2):
        tail.publish("rpc.echo", b"tail-q-%d" % i, note="tail call")
    tail.wait()
    tail.close()
    rec.close()
    if errors:
        sys.exit("amqp_rpc client: " + "; ".join(errors))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=("server", "client"))
    ap.add_argument("--url", required=True, help="amqp://guest:guest@127.0.0.1:PORT/%%2F")
    ap.add_argument("--events", required=True)
    ap.add_argument("--ready", help="server: file touched once every consumer is up")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=12, help="client: rounds per thread")
    args = ap.parse_args()
    if args.role == "server":
        if not args.ready:
            ap.error("server needs --ready")
        server_main(args)
    else:
        client_main(args)


if __name__ == "__main__":
    main()
