#!/usr/bin/python3
"""The `diagnosis` scenario: one oslo.messaging call per cause of failure or
slowness, each made to happen for real, with truth that records the cause.

    diagnosis.py run --port N --out DIR [--work DIR]   (orchestrator; run.py diagnosis calls it)
    diagnosis.py client ...                            (the client process, started by run)

What oslo.messaging 14.0.3 does on the wire decides what each case looks like
(amqpdriver.py, impl_rabbit.py): requests are published without `mandatory`
unless the caller passes TransportOptions(at_least_once=True); replies always
with it (direct_mandatory_flag), retried every 0.25 s for
kombu_missing_consumer_retry_timeout after a basic.return; a server acks a
request when it takes it, so a backlog behind a busy executor waits in the
server process (server time), not in the broker's queue.

Cases (truth "cause" → the verdict and slow_in oslotrace must give):
  ok_slow_handler      sleep 0.4 s                       ok, server
  slow_failure         raises after 0.3 s                remote_error, server
  server_killed        server SIGKILLed mid-call         no_reply
  queue_no_consumer    queue bound, nobody consumes      not_delivered
  topic_unbound        nobody bound the topic            not_delivered (dropped: no mandatory)
  topic_unbound_mandatory  same, at_least_once=True      not_routed
  consumer_started_late    server starts after the call     ok, queue
  reply_after_timeout  sleep 1.5 s, timeout 1 s          late_reply, server
  reply_queue_deleted  reply queue deleted in flight     reply_returned
  burst_single_thread  6 calls at once, 1 executor thread ok, server
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
PY = "/usr/bin/python3"
URL4 = "rabbit://guest:guest@127.0.0.1:%d/"
EXPECT = {
    "ok_slow_handler": "ok", "slow_failure": "remote_error", "server_killed": "no_reply",
    "queue_no_consumer": "not_delivered", "topic_unbound": "not_delivered",
    "topic_unbound_mandatory": "not_routed", "consumer_started_late": "ok",
    "reply_after_timeout": "late_reply", "reply_queue_deleted": "reply_returned",
    "burst_single_thread": "ok",
}


def admin(port):
    """A py-amqp connection for what a lab operator does by hand (declare, delete)."""
    import amqp
    c = amqp.Connection("127.0.0.1:%d" % port, userid="guest", password="guest")
    c.connect()
    return c, c.channel()


def start_server(name, port, work, topics, extra=()):
    ready = os.path.join(work, name + ".ready")
    log = open(os.path.join(work, name + ".log"), "w")
    p = subprocess.Popen([PY, os.path.join(HERE, "server.py"), "--name", name, "--topics", topics,
                          "--url", URL4 % port, "--events",
                          os.path.join(work, "events-%s.jsonl" % name), "--ready", ready]
                         + list(extra), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while not os.path.exists(ready):
        if p.poll() is not None or time.time() > deadline:
            raise RuntimeError("server %s did not start; see %s.log" % (name, name))
        time.sleep(0.05)
    time.sleep(0.1)
    return p


# ------------------------------------------------------------------ client side

def client_main(args):
    import oslo_messaging
    import client as labclient
    import labrt
    labrt.quiet_logging()
    rec = labrt.EventLog(args.events)
    lab = labclient.Lab(rec, "diagnosis", URL4 % args.port)
    orig_finish = lab._finish
    seen = {}

    def tag(case):
        def finish(op):
            op["case"] = case
            op["client_pid"] = os.getpid()
            orig_finish(op)
            if op.get("reply_q"):
                seen["reply_q"] = op["reply_q"]
        lab._finish = finish

    def call(case, topic, method, args, timeout=2, **kw):
        tag(case)
        lab.rpc("call", topic, method, args, timeout=timeout, note=case, **kw)

    ac, ch = admin(args.port)
    for q in ("orphan", "late"):
        ch.queue_declare(q, durable=False, auto_delete=False)
        ch.queue_bind(q, "openstack", q)

    call("ok_slow_handler", "compute", "sleep", {"seconds": 0.4, "value": 1})
    call("slow_failure", "compute", "slow_fail", {"seconds": 0.3})

    # server_killed: the victim takes the request, then dies (acked: no redelivery).
    def kill_victim():
        time.sleep(0.5)
        os.kill(args.victim_pid, signal.SIGKILL)
    threading.Thread(target=kill_victim).start()
    call("server_killed", "victim", "sleep", {"seconds": 5})

    call("queue_no_consumer", "orphan", "echo", {"value": 1}, timeout=1)
    call("topic_unbound", "nobody_bound", "echo", {"value": 2}, timeout=1)
    call("topic_unbound_mandatory", "nobody_bound", "echo", {"value": 3}, timeout=1,
         transport_options=oslo_messaging.TransportOptions(at_least_once=True))

    # consumer_started_late: the request waits in queue "late" until a server comes.
    late = {}

    def start_late():
        time.sleep(0.5)  # the process takes seconds more to import and connect
        late["p"] = start_server("late-host", args.port, args.work, "late")
    threading.Thread(target=start_late).start()
    call("consumer_started_late", "late", "sleep", {"seconds": 0.05}, timeout=90)

    call("reply_after_timeout", "compute", "sleep", {"seconds": 1.5}, timeout=1)
    time.sleep(1.0)  # the late reply arrives while the next case starts otherwise

    # reply_queue_deleted: the caller is frozen (it cannot re-declare its queue),
    # its reply queue deleted; the server's reply comes back (312 NO_ROUTE) and is
    # retried until kombu_missing_consumer_retry_timeout; then the caller thaws.
    reply_q = seen["reply_q"]
    ready, go = os.path.join(args.work, "freeze.ready"), os.path.join(args.work, "freeze.go")
    helper = subprocess.Popen([PY, os.path.abspath(__file__), "freeze", "--port", str(args.port),
                               "--pid", str(os.getpid()), "--queue", reply_q,
                               "--ready", ready, "--go", go])
    while not os.path.exists(ready):
        time.sleep(0.02)
    open(go, "w").close()
    call("reply_queue_deleted", "compute", "sleep", {"seconds": 2.0}, timeout=3)
    helper.wait()
    time.sleep(3.0)  # the thawed caller reconnects and re-declares its reply queue

    # burst_single_thread: six calls at once to a server with one executor thread.
    ths = [threading.Thread(target=call, args=("burst_single_thread", "solo", "sleep",
                                               {"seconds": 0.25, "value": i}),
                            kwargs={"timeout": 5}) for i in range(6)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    time.sleep(0.5)
    ch.queue_delete("orphan")
    ch.queue_delete("late")
    ac.close()
    if "p" in late:
        late["p"].send_signal(signal.SIGTERM)
        late["p"].wait(timeout=20)
    lab.close()
    rec.close()


def freeze_main(args):
    """SIGSTOPs the caller, deletes its reply queue, thaws it after the server gave up."""
    ac, ch = admin(args.port)
    open(args.ready, "w").close()
    while not os.path.exists(args.go):
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(args.pid, signal.SIGSTOP)
    ch.queue_delete(args.queue)
    ac.close()
    time.sleep(6.0)  # call timeout 3 s; the server retries 1 s after its reply at ~2 s
    os.kill(args.pid, signal.SIGCONT)


# ------------------------------------------------------------------ orchestrator

def slow_part(parts):
    """The largest of the parts (name, seconds) and whether it clearly is."""
    known = sorted(parts, key=lambda x: -x[1])
    clear = known[0][1] > 0.02 and known[0][1] > 3 * known[1][1]
    return known[0][0], clear


def build_truth(work, pids):
    evs = []
    for name in sorted(os.listdir(work)):
        if name.startswith("events-"):
            with open(os.path.join(work, name)) as f:
                evs += [json.loads(line) for line in f if line.strip()]
    recv, reply, got = {}, {}, {}
    for e in evs:
        if e["ev"] == "recv":
            recv.setdefault(e["request_id"], e)
        elif e["ev"] == "reply" and e.get("ending"):
            reply.setdefault(e["request_id"], e)
        elif e["ev"] == "reply_recv" and e.get("ending"):
            got.setdefault(e["msg_id"], e)
    truth = []
    for o in sorted((e for e in evs if e["ev"] == "op"), key=lambda e: e["t_start"]):
        rid, case = o["request_id"], o["case"]
        rv, rp, g = recv.get(rid), reply.get(rid), got.get(o.get("msg_id"))
        t = {"case": case, "cause": case, "verdict": EXPECT[case], "msg_id": o.get("msg_id"),
             "request_id": rid, "topic": o["topic"], "method": o["method"],
             "outcome": o["outcome"], "timeout": o["timeout"], "t_start": o["t_start"],
             "client_process": "diagnosis.py:%d" % o["client_pid"],
             "server_process": None, "slow_in": None, "slow_in_clear": False,
             "in_capture": True, "dialect": "oslo"}
        # what test_truth.py reads of every capture's truth
        for k in ("kind", "server", "namespace", "version", "t_end", "remote_exc_type",
                  "exchange", "routing_key", "reply_q", "unique_id", "t_publish"):
            if k in o:
                t[k] = o[k]
        if case == "reply_after_timeout" and g:
            t["t_late_reply"] = g["t"]
        if rv:
            t["server_process"] = "server.py:%d" % pids[rv["server"]]
            t["t_server_recv"] = rv["t"]
        if EXPECT[case] in ("ok", "remote_error", "late_reply") and rv and rp and g:
            q = rv["t"] - o.get("t_publish", o["t_start"])
            s = rp["t"] - rv["t"]
            r = g["t"] - rp["t"]
            t["slow_in"], t["slow_in_clear"] = slow_part([("queue", q), ("server", s), ("reply", r)])
            t["parts_s"] = {"queue": round(q, 6), "server": round(s, 6), "reply": round(r, 6)}
        elif rv and rp:
            # published, never received: the time up to the reply's publish
            q = rv["t"] - o.get("t_publish", o["t_start"])
            s = rp["t_first"] - rv["t"] if "t_first" in rp else rp["t"] - rv["t"]
            t["slow_in"], t["slow_in_clear"] = slow_part([("queue", q), ("server", s)])
            t["parts_s"] = {"queue": round(q, 6), "server": round(s, 6)}
        truth.append(t)
    return truth


def run_main(args):
    import capture
    work = args.work or os.path.join(HERE, "out", "diagnosis")
    os.makedirs(work, exist_ok=True)
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    pcap = os.path.join(args.out, "diagnosis.pcap")
    td = capture.Tcpdump(pcap, port=args.port)
    servers, pids = {}, {}
    td.start()
    time.sleep(0.2)
    try:
        servers["host-a"] = start_server("host-a", args.port, work, "compute",
                                         ["--reply-retry", "1"])
        servers["victim"] = start_server("victim", args.port, work, "victim")
        servers["solo"] = start_server("solo", args.port, work, "solo", ["--pool-size", "1"])
        for n, p in servers.items():
            pids[n] = p.pid
        cl = subprocess.Popen([PY, os.path.abspath(__file__), "client", "--port", str(args.port),
                               "--work", work, "--events", os.path.join(work, "events-client.jsonl"),
                               "--victim-pid", str(pids["victim"])],
                              stdout=open(os.path.join(work, "client.log"), "w"),
                              stderr=subprocess.STDOUT)
        if cl.wait() != 0:
            raise RuntimeError("client failed; see %s/client.log" % work)
        time.sleep(0.5)
    finally:
        for p in servers.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in servers.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        time.sleep(0.3)
        info = td.stop()
        if os.path.exists(pcap + ".stderr"):
            os.unlink(pcap + ".stderr")
    for f in os.listdir(work):
        if f == "late-host.ready":
            with open(os.path.join(work, f)) as fh:
                pids["late-host"] = int(fh.read())
    truth = build_truth(work, pids)
    with open(os.path.join(args.out, "diagnosis.truth.jsonl"), "w") as f:
        for t in truth:
            f.write(json.dumps(t, sort_keys=True) + "\n")
    meta = {"scenario": "diagnosis", "capture": info, "servers": pids,
            "causes": sorted({t["cause"] for t in truth}), "calls": len(truth),
            "notes": __doc__.strip().splitlines()[0]}
    with open(os.path.join(args.out, "diagnosis.meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True, default=str)
        f.write("\n")
    bad = [t for t in truth if not t["msg_id"]]
    print("diagnosis: %s, %d calls, %d without msg_id" % (pcap, len(truth), len(bad)))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["run", "client", "freeze"])
    ap.add_argument("--port", type=int, default=int(os.environ.get("LAB_PORT", "5672")))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "pcaps"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--events")
    ap.add_argument("--victim-pid", type=int)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--queue")
    ap.add_argument("--ready")
    ap.add_argument("--go")
    args = ap.parse_args()
    if args.mode == "run":
        return run_main(args)
    if args.mode == "client":
        return client_main(args)
    return freeze_main(args)


if __name__ == "__main__":
    sys.exit(main())
