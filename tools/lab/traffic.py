#!/usr/bin/python3
"""Long-running oslo.messaging load for live tests of capture and the TUI:
N calls per second to topics compute/conductor (plus casts and, optionally,
notifications and failing calls) against the lab broker, for --duration
seconds, then it stops by itself.

    tools/lab/traffic.py --rate 20 --duration 30 [--servers] [--events F]

--servers starts host-a/host-b (and listener-1) as child processes and stops
them (by pid) at the end; without it, servers must already run.  The broker
must be up (tools/lab/broker.sh start).  --events keeps the client's op events
(same format run.py merges) so a live test can compare what it saw with what
really happened.  Calls are issued on a fixed schedule from a small thread
pool, so a slow reply does not lower the rate; the schedule is kept even when
replies are slower than 1/rate (up to --threads calls in flight).
"""
import argparse
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def start_servers(work, url):
    procs, ready = [], []
    for name, flag in (("host-a", "--name"), ("host-b", "--name"), ("listener-1", "--listener")):
        r = os.path.join(work, name + ".ready")
        p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "server.py"), flag, name,
                              "--url", url, "--ready", r,
                              "--events", os.path.join(work, "events-%s.jsonl" % name)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        ready.append(r)
    deadline = time.time() + 60
    while not all(os.path.exists(r) for r in ready):
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            stop_servers(procs)
            raise SystemExit("traffic.py: servers did not start (is the broker up?)")
        time.sleep(0.05)
    return procs


def stop_servers(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=10.0, help="calls per second")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds, then stop")
    ap.add_argument("--url", default="rabbit://guest:guest@127.0.0.1:%s/"
                    % os.environ.get("LAB_PORT", "5672"))
    ap.add_argument("--servers", action="store_true", help="start host-a/host-b/listener-1")
    ap.add_argument("--events", default=None, help="write the client's op events here")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--cast-every", type=int, default=4, help="every Nth op is a cast (0: none)")
    ap.add_argument("--notify-every", type=int, default=0, help="every Nth op is a notification")
    ap.add_argument("--error-every", type=int, default=0, help="every Nth op raises remotely")
    ap.add_argument("--timeout", type=float, default=30.0, help="each call's timeout, seconds")
    ap.add_argument("--slow-every", type=int, default=0,
                    help="every Nth call makes the server sleep 0.2 s")
    args = ap.parse_args()

    import labrt
    from client import Lab, SERVERS, TOPICS
    labrt.quiet_logging()

    work = tempfile.mkdtemp(prefix="oslotrace-traffic-")
    procs = start_servers(work, args.url) if args.servers else []
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    events = args.events or os.path.join(work, "events-client.jsonl")
    rec = labrt.EventLog(events)
    lab = Lab(rec, "traffic", args.url)
    todo = queue.Queue(maxsize=args.threads * 4)
    done = {"ops": 0, "late": 0}
    lock = threading.Lock()

    def worker():
        while True:
            i = todo.get()
            if i is None:
                return
            topic = TOPICS[i % 2]
            if args.notify_every and i % args.notify_every == 0:
                lab.notify("messagingv2", "compute." + SERVERS[i % 2], "info",
                           "compute.instance.exists", {"i": i})
            elif args.cast_every and i % args.cast_every == 0:
                lab.rpc("cast", topic, "cast_sink", {"n": i})
            elif args.error_every and i % args.error_every == 0:
                lab.rpc("call", topic, "fail_builtin", {"msg": "traffic %d" % i},
                        timeout=args.timeout)
            elif args.slow_every and i % args.slow_every == 0:
                lab.rpc("call", topic, "sleep", {"seconds": 0.2, "value": i},
                        timeout=args.timeout)
            else:
                lab.rpc("call", topic, "echo", {"value": i},
                        server=random.choice(SERVERS) if i % 10 == 0 else None,
                        timeout=args.timeout)
            with lock:
                done["ops"] += 1

    ths = [threading.Thread(target=worker, name="traffic-%d" % t) for t in range(args.threads)]
    for th in ths:
        th.start()
    t0 = time.time()
    i = 0
    try:
        while not stop.is_set():
            now = time.time()
            if now - t0 >= args.duration:
                break
            due = t0 + i / args.rate
            if due > now:
                stop.wait(due - now)
                continue
            try:
                todo.put(i, timeout=1)
            except queue.Full:
                with lock:
                    done["late"] += 1
                continue
            i += 1
        elapsed = time.time() - t0
    finally:
        for _ in ths:
            todo.put(None)
        for th in ths:
            th.join()
        lab.close()
        rec.close()
        stop_servers(procs)
        if not args.events:
            shutil.rmtree(work, ignore_errors=True)
    print("traffic.py: %d operations issued over %.1f s (%d schedule slips)"
          % (done["ops"], elapsed, done["late"]))


if __name__ == "__main__":
    main()
