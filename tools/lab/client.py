#!/usr/bin/python3
"""The lab's client process: runs one scenario of real oslo.messaging
operations (calls, casts, fanout casts, notifications) against the lab broker
and writes one "op" event per operation, as seen by the client, to --events.

Each operation gets its own context (unique request_id, fake auth_token);
servers key their own events by that request_id, which is how run.py joins
client and server views into one truth record.  Scenarios are plain functions
of a Lab object; --worker/--workers split a scenario across processes (bench).
With --pause the client first makes its connections (warm-up operations),
touches --warm and waits for --go: the capture then starts mid-connection.
"""
import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oslo_messaging  # noqa: E402

import labrt  # noqa: E402


class Lab:
    """One client process: an RPC client, notifiers and the op recorder."""

    def __init__(self, rec, scenario, url, compression=None):
        self.rec = rec
        self.scenario = scenario
        self.url = url
        self.probe = labrt.install_client_patches(rec)
        self.conf, self.tr = labrt.rpc_transport(url, compression)
        self.client = oslo_messaging.RPCClient(
            self.tr, oslo_messaging.Target(exchange=labrt.EXCHANGE, topic="compute"))
        self.compression = compression
        self._ntr = None
        self._notifiers = {}
        self._extra = []
        self.phase = "main"

    def notifier(self, driver, publisher_id):
        if self._ntr is None:
            _, self._ntr = labrt.notification_transport(self.url, self.compression)
        key = (driver, publisher_id)
        if key not in self._notifiers:
            self._notifiers[key] = oslo_messaging.Notifier(
                self._ntr, publisher_id=publisher_id, driver=driver, topics=["notifications"])
        return self._notifiers[key]

    def plain_client(self):
        """An uncompressed second transport (the compression scenario mixes both)."""
        _, tr = labrt.rpc_transport(self.url, None)
        self._extra.append(tr)
        return oslo_messaging.RPCClient(tr, oslo_messaging.Target(exchange=labrt.EXCHANGE,
                                                                   topic="compute"))

    def close(self):
        self.tr.cleanup()
        for tr in self._extra:
            tr.cleanup()
        if self._ntr is not None:
            self._ntr.cleanup()

    # ------------------------------------------------------------ operations

    def _base(self, kind, topic, method, args, ctxt, note):
        op = {"ev": "op", "scenario": self.scenario, "kind": kind, "topic": topic,
              "method": method, "args": labrt.summarize(args),
              "args_json_bytes": labrt.json_bytes(args),
              "request_id": ctxt["request_id"], "auth_token": ctxt["auth_token"],
              "client": "client/%d/%s" % (os.getpid(), threading.current_thread().name),
              "phase": self.phase}
        if note:
            op["note"] = note
        return op

    def rpc(self, kind, topic, method, args=None, server=None, namespace=None,
            version="2.0", timeout=30, cm=None, note=None, client=None, transport_options=None):
        """kind: call, cast or fanout_cast.  Records one op event; never raises."""
        args = args or {}
        ctxt = labrt.make_context()
        fanout = kind == "fanout_cast"
        cl = (client or self.client).prepare(
            topic=topic, server=server, namespace=namespace, version=version,
            timeout=timeout, fanout=fanout, call_monitor_timeout=cm,
            transport_options=transport_options)
        op = self._base(kind, topic, method, args, ctxt, note)
        op.update({"server": server, "namespace": namespace, "version": version,
                   "timeout": timeout, "fanout": fanout, "exchange": labrt.EXCHANGE,
                   "compressed": bool(self.compression) and client is None})
        if cm:
            op["call_monitor_timeout"] = cm
        self.probe.begin()
        op["t_start"] = time.time()
        try:
            if kind == "call":
                res = cl.call(ctxt, method, **args)
                op["outcome"] = "result"
                op["result"] = labrt.summarize(res)
                op["result_json_bytes"] = labrt.json_bytes(res)
            else:
                cl.cast(ctxt, method, **args)
                op["outcome"] = "sent"
        except oslo_messaging.MessagingTimeout:
            op["outcome"] = "timeout"
            op["exception"] = "MessagingTimeout"
        except oslo_messaging.MessageUndeliverable:
            # at_least_once=True and no queue bound: the broker returned the call
            op["outcome"] = "undeliverable"
            op["exception"] = "MessageUndeliverable"
        except oslo_messaging.RemoteError as e:
            op["outcome"] = "remote_error"
            op["exception"] = type(e).__name__
            op["remote_exc_type"] = e.exc_type
            op["remote_exc_value"] = str(e.value)[:200]
        except Exception as e:
            if "t_publish" not in self.probe.current():
                # Failed before anything reached the wire: a lab bug, not an
                # operation outcome.  Stop loudly rather than write bad truth.
                raise
            name = type(e).__name__
            op["outcome"] = "remote_error"
            op["exception"] = name
            op["remote_exc_type"] = name[:-len("_Remote")] if name.endswith("_Remote") else name
            op["remote_exc_value"] = str(e)[:200]
        op["t_end"] = time.time()
        self._finish(op)

    def notify(self, driver, publisher_id, priority, event_type, payload):
        ctxt = labrt.make_context()
        n = self.notifier(driver, publisher_id)
        op = self._base("notification", "notifications", None, {}, ctxt, None)
        del op["args"], op["args_json_bytes"]
        op.update({"driver": driver, "oslo_version": 2.0 if driver == "messagingv2" else 1.0,
                   "event_type": event_type, "priority": priority,
                   "publisher_id": publisher_id, "payload": labrt.summarize(payload),
                   "payload_json_bytes": labrt.json_bytes(payload), "server": None,
                   "namespace": None, "version": None, "timeout": None, "fanout": False,
                   "exchange": labrt.EXCHANGE, "compressed": bool(self.compression)})
        self.probe.begin()
        op["t_start"] = time.time()
        getattr(n, priority)(ctxt, event_type, payload)
        op["outcome"] = "sent"
        op["t_end"] = time.time()
        self._finish(op)

    def _finish(self, op):
        cur = self.probe.end()
        for k in ("msg_id", "reply_q", "unique_id", "t_publish", "auth_token_on_wire",
                  "message_id", "priority_field", "notif_timestamp"):
            if cur.get(k) is not None:
                op[k] = cur[k]
        op["auth_token_on_wire"] = bool(cur.get("auth_token_on_wire"))
        if "wire_exchange" in cur:
            op["exchange"] = cur["wire_exchange"] or ""
            op["routing_key"] = cur["wire_routing_key"]
        if op["kind"] == "call":
            op["msg_id_source"] = "amqpdriver-debug-log"
            op["msg_id_crosscheck"] = (cur.get("log_msg_id") is not None
                                       and cur.get("log_msg_id") == cur.get("msg_id"))
        elif cur.get("log_unique_id"):
            op["unique_id_crosscheck"] = cur.get("log_unique_id") == cur.get("unique_id")
        self.rec.emit(op)


# ------------------------------------------------------------------ scenarios

TOPICS = ("compute", "conductor")
SERVERS = ("host-a", "host-b")
ODD_VALUES = ["plain", "", "ünïcödé ✓ 日本", {"nested": {"deep": {"deeper": [1, 2, {"x": None}]}}},
              [1, 2.5, True, False, None], 0, -1, 2**53, 1e-9, "quote\"back\\slash\nnl\ttab",
              {"": "empty key"}, list(range(40)), "x" * 300]


def sc_basic(lab, rnd, n_calls=200, n_casts=100, n_fanout=20):
    ops = (["call"] * n_calls) + (["cast"] * n_casts) + (["fanout_cast"] * n_fanout)
    rnd.shuffle(ops)
    for i, kind in enumerate(ops):
        topic = TOPICS[i % 2]
        r = rnd.random()
        server = rnd.choice(SERVERS) if r < 0.2 else None
        if kind == "fanout_cast":
            lab.rpc(kind, "compute", "fanout_event", {"event": "refresh", "n": i})
        elif kind == "cast":
            lab.rpc(kind, topic, "cast_sink", {"n": i, "note": "cast-%d" % i, "flag": i % 2 == 0},
                    server=server)
        elif r > 0.9:
            lab.rpc(kind, topic, "get_info", {}, server=server, namespace="baseapi",
                    version=rnd.choice(["1.1", "1.2", "1.3"]))
        else:
            lab.rpc(kind, topic, "echo", {"value": rnd.choice(ODD_VALUES)}, server=server)


def sc_errors(lab, rnd, scale=1):
    """Remote errors of several classes, timeouts, late replies, some successes."""
    for i in range(scale):
        lab.rpc("call", "compute", "echo", {"value": 1}, server="host-zzz", timeout=1,
                note="no such server")
        lab.rpc("call", "compute", "echo", {"value": "ok-%d" % i})
        lab.rpc("call", "compute", "fail_builtin", {"msg": "bad value %d" % i})
        lab.rpc("call", "compute", "echo", {"value": 3}, version="3.0")
        lab.rpc("cast", "compute", "fail_builtin", {"msg": "cast failure %d" % i},
                note="cast whose endpoint raises")
        lab.rpc("call", "compute", "fail_expected", {"msg": "quota %d" % i})
        lab.rpc("call", "conductor", "fail_custom", {"msg": "instance %d not found" % i})
        lab.rpc("call", "nobody_listens", "echo", {"value": 2}, timeout=1,
                note="no server on topic")
        lab.rpc("call", "compute", "sleep", {"seconds": 2.5, "value": "late-%d" % i}, timeout=1,
                note="server sleeps 2.5s > timeout 1s; late reply")
        lab.rpc("call", "compute", "fail_keyerror", {"key": "k%d" % i},
                server=SERVERS[i % 2])
        lab.rpc("call", "compute", "no_such_method", {}, namespace="baseapi", version="1.3")
        lab.rpc("call", "compute", "no_such_method", {})
        lab.rpc("call", "compute", "get_info", {}, namespace="nosuchns", version="1.0")
        lab.rpc("call", "conductor", "ping", {"value": i}, namespace="baseapi", version="1.3")
    time.sleep(2.0)  # let the last late reply reach our reply queue


def sc_concurrency(lab, rnd, threads=8, per_thread=25, big=True):
    """Many threads share one reply queue; sleeps make replies come out of order."""
    def worker(t):
        r = random.Random(1000 + t)
        for i in range(per_thread):
            pad = "p" * r.randint(16, 1024)
            server = r.choice(SERVERS) if r.random() < 0.2 else None
            lab.rpc("call", r.choice(TOPICS), "sleep",
                    {"seconds": r.choice([0, 0.005, 0.02, 0.05]),
                     "value": {"i": i, "thread": t, "pad": pad}}, server=server)
    ths = [threading.Thread(target=worker, args=(t,), name="cthread-%d" % t)
           for t in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    if big:
        sc_bigmsg(lab, rnd)


def sc_bigmsg(lab, rnd):
    """Bodies over one 131072-byte frame: args and results of 131 KB .. 1 MB."""
    lab.rpc("call", "compute", "echo", {"value": "a" * 131100},
            note="~131 KB args (body just over one 131072-byte frame)")
    lab.rpc("call", "compute", "make_result", {"size": 300000, "value": 1},
            note="~300 KB result (3 body frames)")
    lab.rpc("call", "conductor", "echo", {"value": "b" * 1000000},
            note="~1 MB args, many body frames")
    lab.rpc("call", "compute", "make_result", {"size": 1000000, "value": 2},
            note="~1 MB result, many body frames")


def sc_cutsrc(lab, rnd):
    """Source of the `cut` capture: small calls, one ~200 KB request whose body
    spans several packets (the cut lands inside it), then more small traffic."""
    for i in range(30):
        lab.rpc("call", TOPICS[i % 2], "echo", {"value": "before-%d" % i})
    lab.rpc("call", "compute", "echo", {"value": "c" * 200000},
            note="~200 KB args: the cut capture starts inside this body")
    for i in range(60):
        lab.rpc("call", TOPICS[i % 2], "echo", {"value": {"after": i}},
                server=SERVERS[i % 2] if i % 6 == 0 else None)
        if i % 3 == 0:
            lab.rpc("cast", TOPICS[i % 2], "cast_sink", {"n": i})
    lab.rpc("call", "compute", "fail_custom", {"msg": "after the cut"})


def sc_notifications(lab, rnd, n_v2=45, n_v1=12):
    prios = ["info", "warn", "error", "audit", "debug", "critical"]
    ops = ["messagingv2"] * n_v2 + ["messaging"] * n_v1
    rnd.shuffle(ops)
    for i, driver in enumerate(ops):
        host = SERVERS[i % 2]
        if i % 3 == 0:
            lab.notify(driver, "volume." + host, rnd.choice(prios), "volume.usage",
                       {"volume_id": "vol-%d" % i, "size_gb": i})
        else:
            lab.notify(driver, "compute." + host, rnd.choice(prios),
                       "compute.instance.create.end",
                       {"instance_id": "00000000-0000-0000-0000-%012x" % i, "seq": i,
                        "host": host, "state": "active", "tags": ["a", "b"],
                        "flavor": {"name": "m1.médium", "ram_mb": 4096, "vcpus": 2}})


def sc_mixed(lab, rnd):
    """A small everything-mix: calls (directed, namespaced), casts, fanout, the
    error classes, timeouts, one late reply, both notification drivers."""
    for i in range(60):
        r = rnd.random()
        server = rnd.choice(SERVERS) if r < 0.25 else None
        if r > 0.85:
            lab.rpc("call", TOPICS[i % 2], "get_info", {}, server=server, namespace="baseapi",
                    version="1.3")
        else:
            lab.rpc("call", TOPICS[i % 2], "echo", {"value": rnd.choice(ODD_VALUES)},
                    server=server)
        if i % 2 == 0:
            lab.rpc("cast", TOPICS[i % 2], "cast_sink", {"n": i}, server=server)
        if i % 12 == 0:
            lab.rpc("fanout_cast", "compute", "fanout_event", {"event": "refresh", "n": i})
    sc_errors(lab, rnd, scale=1)
    sc_notifications(lab, rnd, n_v2=4, n_v1=2)


def sc_tlsmix(lab, rnd):
    """Small mix for the TLS captures (kept small: they are committed): calls
    (directed, namespaced), casts, a fanout, remote errors, notifications."""
    for i in range(14):
        server = SERVERS[i % 2] if i % 5 == 0 else None
        if i % 8 == 7:
            lab.rpc("call", TOPICS[i % 2], "get_info", {}, server=server, namespace="baseapi",
                    version="1.3")
        else:
            lab.rpc("call", TOPICS[i % 2], "echo", {"value": rnd.choice(ODD_VALUES)},
                    server=server)
        if i % 3 == 0:
            lab.rpc("cast", TOPICS[i % 2], "cast_sink", {"n": i}, server=server)
    lab.rpc("fanout_cast", "compute", "fanout_event", {"event": "refresh", "n": 1})
    lab.rpc("call", "compute", "fail_builtin", {"msg": "tls error"})
    lab.rpc("call", "conductor", "fail_custom", {"msg": "instance tls not found"})
    lab.rpc("call", "compute", "echo", {"value": "t" * 20000}, note="~20 KB args: several records")
    sc_notifications(lab, rnd, n_v2=3, n_v1=1)


def sc_midconn_main(lab, rnd):
    for i in range(70):
        server = SERVERS[i % 2] if i % 7 == 0 else None
        lab.rpc("call", TOPICS[i % 2], "echo", {"value": {"i": i, "v": rnd.choice(ODD_VALUES)}},
                server=server)
        if i % 2 == 0:
            lab.rpc("cast", TOPICS[(i + 1) % 2], "cast_sink", {"n": i})
    for i in range(5):
        lab.rpc("call", "conductor", "ping", {"value": i}, namespace="baseapi", version="1.3")
    lab.rpc("call", "compute", "fail_builtin", {"msg": "midconn"})


def sc_warmup(lab, rnd):
    """Opens every connection the client will use (send pool, reply queue)."""
    for i in range(10):
        lab.rpc("call", TOPICS[i % 2], "echo", {"value": "warm-%d" % i})
        lab.rpc("cast", TOPICS[i % 2], "cast_sink", {"n": i, "note": "warm"})
    # Directed calls make sure every server has opened its reply connection.
    for srv in SERVERS:
        for topic in TOPICS:
            lab.rpc("call", topic, "echo", {"value": "warm-" + srv}, server=srv)


def sc_heartbeat(lab, rnd):
    """call_monitor_timeout: servers work longer than the heartbeat interval,
    so they send ending:false replies; one monitored call to a topic nobody
    serves fails after call_monitor_timeout, not after timeout."""
    jobs = [
        dict(kind="call", topic="compute", method="sleep", args={"seconds": 5.2, "value": "hb-1"},
             cm=2, timeout=30, note="cm=2 -> heartbeat every 1 s, ~5 heartbeats"),
        dict(kind="call", topic="conductor", method="sleep", args={"seconds": 4.5, "value": "hb-2"},
             cm=4, timeout=30, note="cm=4 -> heartbeat every 2 s, 2 heartbeats"),
        dict(kind="call", topic="compute", method="sleep", args={"seconds": 3.5, "value": "hb-3"},
             cm=2, timeout=30, server="host-b", note="directed, cm=2"),
        dict(kind="call", topic="compute", method="echo", args={"value": "hb-fast"},
             cm=10, timeout=30, note="monitored call that ends before any heartbeat"),
        dict(kind="call", topic="nobody_listens", method="echo", args={"value": "hb-none"},
             cm=3, timeout=30, note="no server: fails after call_monitor_timeout 3 s"),
        dict(kind="call", topic="compute", method="sleep", args={"seconds": 3.0, "value": "hb-late"},
             cm=None, timeout=2, note="unmonitored, times out at 2 s; late reply"),
    ]

    def run(j):
        lab.rpc(j["kind"], j["topic"], j["method"], j["args"], server=j.get("server"),
                timeout=j["timeout"], cm=j["cm"], note=j["note"])
    ths = [threading.Thread(target=run, args=(j,), name="hb-%d" % i) for i, j in enumerate(jobs)]
    for th in ths:
        th.start()
        time.sleep(0.05)
    for i in range(20):
        lab.rpc("call", TOPICS[i % 2], "echo", {"value": i})
    for th in ths:
        th.join()
    time.sleep(1.5)


def sc_compression(lab, rnd):
    for i in range(40):
        lab.rpc("call", TOPICS[i % 2], "echo", {"value": {"i": i, "text": "compress me " * 40}},
                server=SERVERS[i % 2] if i % 5 == 0 else None)
        if i % 2 == 0:
            lab.rpc("cast", TOPICS[i % 2], "cast_sink", {"n": i, "text": "z" * 500})
    lab.rpc("fanout_cast", "compute", "fanout_event", {"event": "refresh", "n": 1})
    lab.rpc("call", "compute", "make_result", {"size": 200000, "value": 7},
            note="200 KB result, compresses to one frame")
    lab.rpc("call", "compute", "fail_custom", {"msg": "compressed failure"})
    sc_notifications(lab, rnd, n_v2=8, n_v1=4)
    plain = lab.plain_client()
    for i in range(5):
        lab.rpc("call", "compute", "echo", {"value": "uncompressed-%d" % i}, client=plain,
                note="from a transport without kombu_compression")


def sc_handful(lab, rnd):
    """A handful of oslo operations of every kind, made while the generic AMQP
    RPC clients of the amqp-rpc capture run: calls (one directed, one in
    namespace baseapi), casts, a fanout, a remote error, a timeout and two
    notifications, spread over a few seconds."""
    for i in range(12):
        server = SERVERS[i % 2] if i % 5 == 0 else None
        lab.rpc("call", TOPICS[i % 2], "echo", {"value": {"i": i, "v": rnd.choice(ODD_VALUES)}},
                server=server)
        if i % 2 == 0:
            lab.rpc("cast", TOPICS[i % 2], "cast_sink", {"n": i})
        time.sleep(0.2)
    lab.rpc("call", "conductor", "ping", {"value": 1}, namespace="baseapi", version="1.3")
    lab.rpc("fanout_cast", "compute", "fanout_event", {"event": "refresh", "n": 1})
    lab.rpc("call", "compute", "fail_builtin", {"msg": "oslo among generic rpc"})
    lab.rpc("call", "nobody_listens", "echo", {"value": 2}, timeout=1, note="no server on topic")
    lab.notify("messagingv2", "compute.host-a", "info", "compute.instance.exists", {"i": 1})
    lab.notify("messaging", "volume.host-b", "warn", "volume.usage", {"volume_id": "vol-1"})
    for i in range(4):
        lab.rpc("call", TOPICS[i % 2], "echo", {"value": "last-%d" % i})


def sc_bulk(lab, rnd, n_ops, big_bytes=0, threads=8, notif_every=0, cast_every=0,
            rate=0.0, mix=""):
    """Bench load: n_ops operations from `threads` threads; big_bytes>0 makes
    every call carry args and a result of about that size.  rate>0 paces this
    process at that many operations/s (a schedule, not a sleep per op);
    mix "control": 1 in 200 a fanout, 28 in 100 casts, the rest calls, with
    arguments of 10-200 bytes."""
    counter = iter(range(n_ops))
    lock = threading.Lock()
    t0 = time.time()

    def pace(i):
        if rate > 0:
            delay = t0 + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)

    def worker(t):
        r = random.Random(t)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            pace(i)
            if mix == "control":
                arg = {"value": "v" * r.randint(10, 200)}
                if i % 200 == 7:
                    lab.rpc("fanout_cast", TOPICS[i % 2], "cast_sink", arg)
                elif i % 100 < 28:
                    lab.rpc("cast", TOPICS[i % 2], "cast_sink", arg)
                else:
                    lab.rpc("call", TOPICS[i % 2], "echo", arg,
                            server=SERVERS[i % 2] if r.random() < 0.1 else None)
            elif notif_every and i % notif_every == 0:
                lab.notify("messagingv2", "compute." + SERVERS[i % 2], "info",
                           "compute.instance.exists", {"i": i})
            elif cast_every and i % cast_every == 0:
                lab.rpc("cast", TOPICS[i % 2], "cast_sink", {"n": i})
            elif big_bytes:
                lab.rpc("call", TOPICS[i % 2], "make_result",
                        {"size": big_bytes, "value": "a" * big_bytes})
            else:
                lab.rpc("call", TOPICS[i % 2], "echo", {"value": i},
                        server=SERVERS[i % 2] if r.random() < 0.1 else None)
    ths = [threading.Thread(target=worker, args=(t,), name="bulk-%d" % t) for t in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()


SCENARIOS = {
    "basic": sc_basic, "errors": sc_errors, "concurrency": sc_concurrency,
    "notifications": sc_notifications, "mixed": sc_mixed, "midconn": sc_midconn_main,
    "heartbeat": sc_heartbeat, "compression": sc_compression, "bigmsg": sc_bigmsg,
    "cutsrc": sc_cutsrc, "handful": sc_handful, "tlsmix": sc_tlsmix,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--name", default=None, help="scenario name written into the truth")
    ap.add_argument("--url", default=labrt.DEFAULT_URL)
    ap.add_argument("--compression", default=None)
    ap.add_argument("--events", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pause", action="store_true", help="warm up, touch --warm, wait for --go")
    ap.add_argument("--warm")
    ap.add_argument("--go")
    ap.add_argument("--bulk-ops", type=int, default=0)
    ap.add_argument("--bulk-bytes", type=int, default=0)
    ap.add_argument("--bulk-threads", type=int, default=8)
    ap.add_argument("--bulk-notif-every", type=int, default=0)
    ap.add_argument("--bulk-cast-every", type=int, default=0)
    ap.add_argument("--bulk-rate", type=float, default=0.0)
    ap.add_argument("--bulk-mix", default="")
    args = ap.parse_args()

    labrt.quiet_logging()
    rec = labrt.EventLog(args.events)
    lab = Lab(rec, args.name or args.scenario, args.url, args.compression)
    rnd = random.Random(args.seed)
    if args.pause:
        lab.phase = "warmup"
        sc_warmup(lab, rnd)
        lab.phase = "main"
        open(args.warm, "w").close()
        while not os.path.exists(args.go):
            time.sleep(0.05)
    if args.scenario == "bulk":
        sc_bulk(lab, rnd, args.bulk_ops, args.bulk_bytes, args.bulk_threads,
                args.bulk_notif_every, args.bulk_cast_every, args.bulk_rate, args.bulk_mix)
    else:
        SCENARIOS[args.scenario](lab, rnd)
    lab.close()
    rec.emit({"ev": "client_stats", "pid": os.getpid(),
              "unbound_driver_log_lines": lab.probe.unbound_log_lines})
    rec.close()


if __name__ == "__main__":
    main()
