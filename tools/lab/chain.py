#!/usr/bin/python3
"""The `chain` scenario: user requests that become chains of RPC across
services, as in nova, with truth recording each operation's parent.

    chain.py run --port N --out DIR [--work DIR] [--name chain]   (orchestrator)
    <work>/nova-api client ...      (started by run; argv0 names the process)
    <work>/nova-conductor service --role conductor ...

Every process is this file started through a symlink named like the service
(nova-api, nova-conductor, nova-scheduler, nova-compute, cinder-volume,
ceilometer), so oslo.messaging's connection name "<argv0>:<pid>:<uuid>" names
the service: the ladder's columns are what an operator would expect.

Servers pass the context they received on to the calls, casts and
notifications they make while handling a message, as nova does. Each process
knows which message it is handling (RPCServer._process_incoming is wrapped to
keep it in a thread-local), so every operation's truth has `parent`: the
unique_id of the message whose handler made it (null for the api's own), and
`id`: its own unique_id (calls, casts, fanouts) or message_id (notifications).

Chains (the api runs them from threads, several at once, each with its own
request_id):
  boot     call conductor.instance_create; cast conductor.build_instances →
           conductor calls scheduler.select_destinations (→ 2 notifications),
           casts compute.build_and_run_instance to host c1 → compute notifies
           create.start, fanout-casts scheduler.update_instance_info, calls
           conductor.instance_update, notifies create.end
  resize   call conductor.resize → conductor calls compute.prep_resize, which
           raises: both calls end in a remote error (ValueError)
  migrate  call conductor.live_migrate → conductor calls
           compute.check_can_live_migrate with timeout 1 s, the handler takes
           1.5 s: the inner call times out (its reply comes late), the outer
           returns a result
  attach   call compute.attach_volume (request R1) → compute makes a new
           context (request R2, global_request_id R1) as nova does for cinder,
           calls volume.reserve (→ a notification) and casts volume.attach:
           one flow of two request ids linked by the global one
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
PY = "/usr/bin/python3"
URL4 = "rabbit://guest:guest@127.0.0.1:%d/"
SERVICES = {  # role → (process name, topics, server name)
    "conductor": ("nova-conductor", ["conductor"], "cond-1"),
    "scheduler": ("nova-scheduler", ["scheduler"], "sched-1"),
    "compute": ("nova-compute", ["compute"], "c1"),
    "volume": ("cinder-volume", ["volume"], "vol-1"),
}
LISTENER = "ceilometer"
VERSION = "1.0"


# ------------------------------------------------------------------ recording

class Recorder:
    """Makes calls, casts and notifications with a given context and parent,
    and writes one `op` event per operation with the ids oslo put in it."""

    def __init__(self, rec, url, process):
        import oslo_messaging
        import labrt
        self.om = oslo_messaging
        self.labrt = labrt
        self.rec = rec
        self.process = process
        self.probe = labrt.install_client_patches(rec)
        _, self.tr = labrt.rpc_transport(url)
        _, self.ntr = labrt.notification_transport(url)
        self.client = oslo_messaging.RPCClient(
            self.tr, oslo_messaging.Target(exchange=labrt.EXCHANGE, topic="conductor"))
        self.notifiers = {}
        self.lock = threading.Lock()

    def close(self):
        self.tr.cleanup()
        self.ntr.cleanup()

    def _op(self, kind, ctxt, parent, label, topic, method, server=None):
        return {"ev": "op", "kind": kind, "topic": topic, "method": method, "server": server,
                "namespace": None, "version": VERSION if kind != "notification" else None,
                "request_id": ctxt.get("request_id"),
                "global_request_id": ctxt.get("global_request_id"),
                "parent": parent, "flow": label, "client_pid": os.getpid(),
                "client_process": "%s:%d" % (self.process, os.getpid()),
                "exchange": self.labrt.EXCHANGE, "scenario": "chain", "in_capture": True}

    def _finish(self, op):
        cur = self.probe.end()
        for k in ("msg_id", "reply_q", "unique_id", "t_publish", "message_id"):
            if cur.get(k) is not None:
                op[k] = cur[k]
        if "wire_exchange" in cur:
            op["exchange"] = cur["wire_exchange"] or ""
            op["routing_key"] = cur["wire_routing_key"]
        op["id"] = op.get("message_id") if op["kind"] == "notification" else op.get("unique_id")
        self.rec.emit(op)

    def rpc(self, kind, ctxt, parent, label, topic, method, server=None, timeout=10, **args):
        """Returns the result of a call (None otherwise); raises what the call raised."""
        fanout = kind == "fanout_cast"
        cl = self.client.prepare(topic=topic, server=server, version=VERSION, timeout=timeout,
                                 fanout=fanout)
        op = self._op(kind, ctxt, parent, label, topic, method, server)
        op.update({"timeout": timeout, "fanout": fanout})
        self.probe.begin()
        op["t_start"] = time.time()
        err = None
        res = None
        try:
            if kind == "call":
                res = cl.call(ctxt, method, **args)
                op["outcome"] = "result"
            else:
                cl.cast(ctxt, method, **args)
                op["outcome"] = "sent"
        except self.om.MessagingTimeout as e:
            op["outcome"], op["exception"], err = "timeout", "MessagingTimeout", e
        except self.om.RemoteError as e:
            op["outcome"], op["exception"], err = "remote_error", type(e).__name__, e
            op["remote_exc_type"] = e.exc_type
        except Exception as e:
            if "t_publish" not in (self.probe.current() or {}):
                raise
            name = type(e).__name__
            op["outcome"], op["exception"], err = "remote_error", name, e
            op["remote_exc_type"] = name[:-len("_Remote")] if name.endswith("_Remote") else name
        op["t_end"] = time.time()
        self._finish(op)
        if err is not None:
            err.lab_recorded = True  # the op's outcome says it; the caller decides
            raise err
        return res

    def notify(self, ctxt, parent, label, publisher_id, event_type, payload):
        with self.lock:
            n = self.notifiers.get(publisher_id)
            if n is None:
                n = self.om.Notifier(self.ntr, publisher_id=publisher_id, driver="messagingv2",
                                     topics=["notifications"])
                self.notifiers[publisher_id] = n
        op = self._op("notification", ctxt, parent, label, "notifications", None)
        op.update({"event_type": event_type, "priority": "info", "publisher_id": publisher_id,
                   "timeout": None, "fanout": False})
        self.probe.begin()
        op["t_start"] = time.time()
        n.info(ctxt, event_type, payload)
        op["outcome"] = "sent"
        op["t_end"] = time.time()
        self._finish(op)


# ------------------------------------------------------------------ services

class Handling:
    """What message the current executor thread is handling (its unique_id)."""

    def __init__(self, rec, process):
        self.local = threading.local()
        self.rec = rec
        self.process = process

    def install(self):
        from oslo_messaging.rpc import server as rpc_server
        orig = rpc_server.RPCServer._process_incoming
        me = self

        def process_incoming(srv, incoming):
            msg = incoming[0]
            me.rec.emit({"ev": "recv", "unique_id": msg.unique_id, "msg_id": msg.msg_id,
                         "process": "%s:%d" % (me.process, os.getpid()), "t": time.time()})
            me.local.uid = msg.unique_id
            try:
                return orig(srv, incoming)
            finally:
                me.local.uid = None
        rpc_server.RPCServer._process_incoming = process_incoming

    def parent(self):
        return getattr(self.local, "uid", None)


def endpoints(role, r, h):
    """The endpoint object of a role; each method passes the context on."""

    class Conductor:
        def instance_create(self, ctxt, flow, n):
            time.sleep(0.01)
            return {"uuid": "inst-%d" % n}

        def build_instances(self, ctxt, flow, n):
            p = h.parent()
            host = r.rpc("call", ctxt, p, flow, "scheduler", "select_destinations", n=n, flow=flow)
            time.sleep(0.005)
            r.rpc("cast", ctxt, p, flow, "compute", "build_and_run_instance", server=host,
                  n=n, flow=flow)

        def instance_update(self, ctxt, flow, n, state):
            time.sleep(0.01)
            return {"uuid": "inst-%d" % n, "state": state}

        def resize(self, ctxt, flow, n):
            try:
                r.rpc("call", ctxt, h.parent(), flow, "compute", "prep_resize", server="c1",
                      n=n, flow=flow)
            except Exception:
                raise ValueError("resize of inst-%d failed on c1" % n)

        def live_migrate(self, ctxt, flow, n):
            try:
                r.rpc("call", ctxt, h.parent(), flow, "compute", "check_can_live_migrate",
                      server="c1", timeout=1, n=n, flow=flow)
            except Exception:
                return {"migrated": False}
            return {"migrated": True}

    class Scheduler:
        def select_destinations(self, ctxt, flow, n):
            p = h.parent()
            r.notify(ctxt, p, flow, "scheduler.sched-1", "scheduler.select_destinations.start",
                     {"n": n})
            time.sleep(0.02)
            r.notify(ctxt, p, flow, "scheduler.sched-1", "scheduler.select_destinations.end",
                     {"n": n, "host": "c1"})
            return "c1"

        def update_instance_info(self, ctxt, flow, n):
            return None

    class Compute:
        def build_and_run_instance(self, ctxt, flow, n):
            p = h.parent()
            r.notify(ctxt, p, flow, "compute.c1", "compute.instance.create.start", {"n": n})
            r.rpc("fanout_cast", ctxt, p, flow, "scheduler", "update_instance_info", n=n,
                  flow=flow)
            r.rpc("call", ctxt, p, flow, "conductor", "instance_update", n=n, state="active",
                  flow=flow)
            time.sleep(0.02)
            r.notify(ctxt, p, flow, "compute.c1", "compute.instance.create.end", {"n": n})

        def prep_resize(self, ctxt, flow, n):
            time.sleep(0.01)
            raise ValueError("no room on c1 for inst-%d" % n)

        def check_can_live_migrate(self, ctxt, flow, n):
            time.sleep(1.5)
            return True

        def attach_volume(self, ctxt, flow, n):
            p = h.parent()
            # a new request for another service, linked by global_request_id (nova → cinder)
            c2 = dict(ctxt)
            c2["global_request_id"] = ctxt.get("global_request_id") or ctxt["request_id"]
            c2["request_id"] = "req-" + str(uuid.uuid4())
            r.rpc("call", c2, p, flow, "volume", "reserve", n=n, flow=flow)
            r.rpc("cast", c2, p, flow, "volume", "attach", n=n, flow=flow)
            return {"attached": True}

    class Volume:
        def reserve(self, ctxt, flow, n):
            r.notify(ctxt, h.parent(), flow, "volume.vol-1", "volume.attach.start", {"n": n})
            return {"volume": "vol-%d" % n}

        def attach(self, ctxt, flow, n):
            time.sleep(0.01)

    return {"conductor": Conductor, "scheduler": Scheduler, "compute": Compute,
            "volume": Volume}[role]()


def service_main(args):
    import oslo_messaging
    from oslo_messaging.rpc import dispatcher as rpc_dispatcher
    import labrt
    labrt.quiet_logging()
    rec = labrt.EventLog(args.events)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    process = os.path.basename(sys.argv[0])
    servers = []
    if args.role == "listener":
        _, tr = labrt.notification_transport(URL4 % args.port)

        class Listener:
            def info(self, ctxt, publisher_id, event_type, payload, metadata):
                rec.emit({"ev": "notif_recv", "message_id": metadata.get("message_id"),
                          "process": "%s:%d" % (process, os.getpid()), "t": time.time()})
        lst = oslo_messaging.get_notification_listener(
            tr, [oslo_messaging.Target(topic="notifications", exchange=labrt.EXCHANGE)],
            [Listener()], executor="threading")
        lst.start()
        servers.append(lst)
        r = None
    else:
        _, topics, name = SERVICES[args.role]
        r = Recorder(rec, URL4 % args.port, process)
        h = Handling(rec, process)
        h.install()
        tr = r.tr
        for topic in topics:
            srv = oslo_messaging.get_rpc_server(
                tr, oslo_messaging.Target(topic=topic, server=name, exchange=labrt.EXCHANGE,
                                          version=VERSION),
                [endpoints(args.role, r, h)], executor="threading",
                access_policy=rpc_dispatcher.DefaultRPCAccessPolicy)
            srv.start()
            servers.append(srv)
    with open(args.ready, "w") as f:
        f.write(str(os.getpid()))
    while not stop.wait(0.2):
        pass
    for s in servers:
        s.stop()
    for s in servers:
        s.wait()
    if r is not None:
        r.close()
    else:
        tr.cleanup()
    rec.close()


# ------------------------------------------------------------------ the api

def client_main(args):
    import labrt
    labrt.quiet_logging()
    rec = labrt.EventLog(args.events)
    r = Recorder(rec, URL4 % args.port, os.path.basename(sys.argv[0]))

    errors = []

    def chain(kind, n):
        ctxt = labrt.make_context()
        flow = "%s-%d" % (kind, n)
        try:
            if kind == "boot":
                r.rpc("call", ctxt, None, flow, "conductor", "instance_create", n=n, flow=flow)
                r.rpc("cast", ctxt, None, flow, "conductor", "build_instances", n=n, flow=flow)
            elif kind == "resize":
                r.rpc("call", ctxt, None, flow, "conductor", "resize", n=n, flow=flow)
            elif kind == "migrate":
                r.rpc("call", ctxt, None, flow, "conductor", "live_migrate", n=n, flow=flow)
            elif kind == "attach":
                r.rpc("call", ctxt, None, flow, "compute", "attach_volume", server="c1", n=n,
                      flow=flow)
        except Exception as e:
            if getattr(e, "lab_recorded", False):
                return  # recorded as the op's outcome
            import traceback
            traceback.print_exc()
            errors.append(flow)

    plan = [("boot", 1), ("boot", 2), ("resize", 3), ("attach", 4), ("migrate", 5),
            ("boot", 6), ("boot", 7), ("attach", 8), ("resize", 9)]
    ths = []
    for i, (kind, n) in enumerate(plan):
        t = threading.Thread(target=chain, args=(kind, n), name="chain-%d" % n)
        t.start()
        ths.append(t)
        time.sleep(0.03 if i % 3 else 0.2)
    for t in ths:
        t.join()
    time.sleep(2.5)  # casts, notifications and the late reply finish downstream
    r.close()
    rec.close()
    return 1 if errors else 0


# ------------------------------------------------------------------ orchestrator

def start(work, role, port, mode="service"):
    name = SERVICES[role][0] if role in SERVICES else (LISTENER if role == "listener" else role)
    link = os.path.join(work, name)
    if not os.path.exists(link):
        os.symlink(os.path.realpath(__file__), link)
    ready = os.path.join(work, name + ".ready")
    log = open(os.path.join(work, name + ".log"), "w")
    cmd = [PY, link, mode, "--port", str(port), "--events",
           os.path.join(work, "events-%s.jsonl" % name), "--ready", ready]
    if mode == "service":
        cmd += ["--role", role]
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    if mode != "service":
        return p
    deadline = time.time() + 60
    while not os.path.exists(ready):
        if p.poll() is not None or time.time() > deadline:
            raise RuntimeError("%s did not start; see %s.log" % (name, name))
        time.sleep(0.05)
    return p


def build_truth(work, t_listen, t_stop):
    evs = []
    for name in sorted(os.listdir(work)):
        if name.startswith("events-"):
            with open(os.path.join(work, name)) as f:
                evs += [json.loads(line) for line in f if line.strip()]
    recv, nrecv, late = {}, {}, {}
    for e in evs:
        if e["ev"] == "recv":
            recv.setdefault(e["unique_id"], []).append(e)
        elif e["ev"] == "notif_recv":
            nrecv.setdefault(e["message_id"], []).append(e)
        elif e["ev"] == "reply_recv" and e.get("ending"):
            late.setdefault(e["msg_id"], []).append(e["t"])
    truth = []
    for o in sorted((e for e in evs if e["ev"] == "op"), key=lambda e: e["t_start"]):
        t = {k: v for k, v in o.items() if k not in ("ev", "client_pid")}
        got = nrecv.get(o["id"], []) if o["kind"] == "notification" else recv.get(o["id"], [])
        t["receivers"] = sorted({g["process"] for g in got})
        t["server_process"] = t["receivers"][0] if len(t["receivers"]) == 1 else None
        if o["outcome"] == "timeout":
            lt = [x for x in late.get(o.get("msg_id"), []) if x > o["t_end"]]
            if lt:
                t["t_late_reply"] = min(lt)
        t["in_capture"] = t_listen < o["t_start"] and o["t_end"] < t_stop
        truth.append(t)
    # the flow label of each op is its root's: ids linked by parents
    by_id = {t["id"]: t for t in truth}
    for t in truth:
        root = t
        while root["parent"] in by_id:
            root = by_id[root["parent"]]
        t["flow_root"] = root["id"]
    return truth


def run_main(args):
    import capture
    work = args.work or os.path.join(HERE, "out", args.name)
    os.makedirs(work, exist_ok=True)
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    os.makedirs(args.out, exist_ok=True)
    pcap = os.path.join(args.out, args.name + ".pcap")
    td = capture.Tcpdump(pcap, port=args.port)
    procs = []
    td.start()
    time.sleep(0.2)
    try:
        procs.append(start(work, "listener", args.port))
        for role in SERVICES:
            procs.append(start(work, role, args.port))
        time.sleep(0.3)
        cl = start(work, "nova-api", args.port, mode="client")
        procs.append(cl)
        if cl.wait(timeout=300) != 0:
            raise RuntimeError("client failed; see %s/nova-api.log" % work)
        time.sleep(0.3)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        time.sleep(0.3)
        info = td.stop()
        if os.path.exists(pcap + ".stderr"):
            os.unlink(pcap + ".stderr")
    truth = build_truth(work, info["t_listen"], info["t_stop"])
    with open(os.path.join(args.out, args.name + ".truth.jsonl"), "w") as f:
        for t in truth:
            f.write(json.dumps(t, sort_keys=True) + "\n")
    counts, outcomes = {}, {}
    for t in truth:
        counts[t["kind"]] = counts.get(t["kind"], 0) + 1
        outcomes[t["outcome"]] = outcomes.get(t["outcome"], 0) + 1
    flows = sorted({t["flow_root"] for t in truth})
    meta = {"scenario": "chain", "capture": info, "counts": counts, "outcomes": outcomes,
            "records": len(truth), "flows": len(flows),
            "request_ids": len({t["request_id"] for t in truth}),
            "notes": __doc__.strip().splitlines()[0]}
    with open(os.path.join(args.out, args.name + ".meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True, default=str)
        f.write("\n")
    bad = [t for t in truth if not t.get("id") or
           (t["kind"] != "notification" and not t["receivers"] and t["outcome"] != "timeout")]
    print("chain: %s, %d ops in %d flows %s, %d bad" % (pcap, len(truth), len(flows),
                                                       json.dumps(outcomes), len(bad)))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["run", "client", "service"])
    ap.add_argument("--port", type=int, default=int(os.environ.get("LAB_PORT", "5672")))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "pcaps"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--name", default="chain")
    ap.add_argument("--events")
    ap.add_argument("--ready")
    ap.add_argument("--role")
    args = ap.parse_args()
    if args.mode == "run":
        return run_main(args)
    if args.mode == "client":
        return client_main(args)
    return service_main(args)


if __name__ == "__main__":
    sys.exit(main())
