"""Generic AMQP RPC, live: a private lab broker on free loopback ports, oslotrace
-i lo capturing only that broker's port, and tools/lab/amqp_rpc.py's pika
servers and client (classic reply queue and direct reply-to; ok, timeout and
unroutable calls). Every call the client made must appear once as a "dialect":
"amqp" call with the client's outcome and topic. Two runs can share a machine:
ports are free ones, the broker's files live in a private temporary directory,
and every process started here is stopped by its pid whatever happens.
Skipped (exit 77) where live capture or the lab is impossible: not root, no
rabbitmq-server, no pika."""
import json
import os
import signal
import subprocess
import time

from common import BIN, SRC, Checker, skip, stop
from lab_broker import PrivateBroker, require_live_lab

LAB = os.path.join(SRC, "tools", "lab")
PY = "/usr/bin/python3"



def main():
    require_live_lab(("pika", "oslo_messaging"))
    if not os.path.exists(BIN):
        skip("no binary at " + BIN)
    c = Checker("live_generic")
    with PrivateBroker("live-generic") as broker:
        run_with_broker(c, broker)
    c.finish()


def run_with_broker(c, broker):
    work, port, url = broker.dir, broker.port, broker.amqp_url
    ot = server = None
    try:
        out_f = open(os.path.join(work, "oslotrace.out"), "w+b")
        err_f = open(os.path.join(work, "oslotrace.err"), "w+b")
        ot = subprocess.Popen([BIN, "-i", "lo", "-f", "tcp port %d" % port, "--amqp-port",
                               str(port), "-j"], stdout=out_f, stderr=err_f)
        time.sleep(1.5)
        ready = os.path.join(work, "server.ready")
        server = subprocess.Popen([PY, os.path.join(LAB, "amqp_rpc.py"), "server", "--url", url,
                                   "--events", os.path.join(work, "server.jsonl"),
                                   "--ready", ready], stdout=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not os.path.exists(ready):
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError("amqp_rpc server did not get ready")
            time.sleep(0.1)
        events = os.path.join(work, "client.jsonl")
        subprocess.run([PY, os.path.join(LAB, "amqp_rpc.py"), "client", "--url", url,
                        "--events", events, "--rounds", "5", "--seed", "1"],
                       check=True, timeout=300, stdout=subprocess.DEVNULL)
        stop(server)
        time.sleep(1.0)
        ot.send_signal(signal.SIGINT)
        ot.wait(timeout=60)
        c.check(ot.returncode == 0, "oslotrace exit %d" % ot.returncode)
        err_f.seek(0)
        err = err_f.read().decode(errors="replace")
        c.check("packets" in err, "SIGINT printed the final counters: %s" % err[-300:])
        out_f.seek(0)
        records = [json.loads(line) for line in out_f.read().decode().splitlines() if line.strip()]
        amqp = {}
        for r in records:
            if r.get("dialect") == "amqp":
                c.check(r.get("msg_id") not in amqp, "msg_id %r reported twice" % r.get("msg_id"))
                amqp[r.get("msg_id")] = r
        with open(events) as f:
            calls = [e for e in map(json.loads, f) if e.get("ev") == "amqp_call"]
        outcomes = {e["outcome"] for e in calls}
        c.check(len(calls) >= 30 and outcomes == {"ok", "timeout", "unroutable"},
                "the client made %d calls with outcomes %s" % (len(calls), sorted(outcomes)))
        for e in calls:
            r = amqp.get(e["correlation_id"])
            if c.check(r is not None, "%s call %s not seen live" % (e["outcome"],
                                                                   e["correlation_id"])):
                c.check(r.get("status") == e["outcome"] and r.get("topic") == e["routing_key"],
                        "call %s: status %r topic %r, client %s %s" % (
                            e["correlation_id"], r.get("status"), r.get("topic"), e["outcome"],
                            e["routing_key"]))
        made = {e["correlation_id"] for e in calls}
        for cid in amqp:
            c.check(cid in made, "amqp record for a call the client did not make: %r" % cid)
        print("live_generic: %d calls made, %d amqp records" % (len(calls), len(amqp)))
    finally:
        stop(server)
        stop(ot, signal.SIGINT)


if __name__ == "__main__":
    main()
