#!/usr/bin/python3
"""Fault scenarios for the lab: real oslo.messaging servers and clients on a
lab broker, and one fault in the middle of their traffic. The truth is what
every process wrote (the clients' op records and reply arrivals, the
servers' receives and replies, as in every lab scenario) plus faults.jsonl,
the fault's own events with their times.

    faults.py SCENARIO --url URL --out DIR [--broker-env-file F]

Scenarios:
  broker-restart  the broker is stopped (every connection reset) and started
                  again on the same port; kombu reconnects clients and servers,
                  which declare their reply queues and consumers again; calls
                  in flight fail or time out. Needs --broker-env-file: the
                  environment tools/lab/broker.sh runs with (KEY=VALUE lines).
  server-restart  the RPC server host-a is killed (SIGKILL) and started again:
                  new connections, new connection names, the same queue names.
  client-kill     a client is killed (SIGKILL) with calls pending (every call
                  sleeps 0.3 s on the server): their replies find no reply queue.
  burst           a burst of calls as fast as 32 threads can make them, for a
                  capture with a small kernel buffer (-B) to drop packets.
Every process it starts is stopped by its pid, whatever happens.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


class Run:
    def __init__(self, url, out):
        self.url, self.out = url, out
        self.procs = {}
        self.faults = open(os.path.join(out, "faults.jsonl"), "a", buffering=1)

    def note(self, fault, **kw):
        ev = dict(kw, fault=fault, t=time.time())
        self.faults.write(json.dumps(ev, sort_keys=True) + "\n")

    def server(self, name, generation=0):
        ready = os.path.join(self.out, "%s-%d.ready" % (name, generation))
        p = subprocess.Popen([PY, os.path.join(HERE, "server.py"), "--name", name,
                              "--url", self.url, "--ready", ready,
                              "--events", os.path.join(self.out, "events-%s.jsonl" % name)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs["%s-%d" % (name, generation)] = p
        deadline = time.time() + 120
        while not os.path.exists(ready):
            if p.poll() is not None or time.time() > deadline:
                raise RuntimeError("faults.py: server %s did not start" % name)
            time.sleep(0.05)
        self.note("server_ready", server=name, pid=p.pid)
        return p

    def client(self, name, *args):
        p = subprocess.Popen([PY, os.path.join(HERE, "traffic.py"), "--url", self.url,
                              "--events", os.path.join(self.out, "events-%s.jsonl" % name)]
                             + list(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs[name] = p
        self.note("client_start", client=name, pid=p.pid)
        return p

    def stop_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.faults.close()


def broker_sh(env_file, action):
    env = dict(os.environ)
    with open(env_file) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            if k:
                env[k] = v
    subprocess.run(["sh", os.path.join(HERE, "broker.sh"), action], env=env, check=True,
                   timeout=240, stdout=subprocess.DEVNULL)


def broker_restart(run, args):
    run.server("host-a")
    run.server("host-b")
    cl = run.client("client", "--rate", "15", "--duration", "16", "--threads", "8",
                    "--cast-every", "5")
    time.sleep(6)
    run.note("broker_stop")
    broker_sh(args.broker_env_file, "stop")
    time.sleep(1)
    broker_sh(args.broker_env_file, "start")
    run.note("broker_started")
    cl.wait(timeout=240)
    time.sleep(2)


def server_restart(run, args):
    a = run.server("host-a")
    run.server("host-b")
    cl = run.client("client", "--rate", "15", "--duration", "12", "--threads", "8")
    time.sleep(4)
    a.kill()
    a.wait()
    run.note("server_killed", server="host-a", pid=a.pid)
    time.sleep(2)
    run.server("host-a", 1)
    cl.wait(timeout=240)
    time.sleep(2)


def client_kill(run, args):
    run.server("host-a")
    run.server("host-b")
    keep = run.client("client", "--rate", "10", "--duration", "10", "--threads", "4")
    doomed = run.client("doomed", "--rate", "20", "--duration", "60", "--threads", "16",
                        "--slow-every", "1", "--cast-every", "0")
    # Killed once it is well under way (importing oslo takes seconds).
    events = os.path.join(run.out, "events-doomed.jsonl")
    deadline = time.time() + 120
    while time.time() < deadline and doomed.poll() is None:
        if os.path.exists(events) and open(events).read().count('"ev": "op"') >= 20:
            break
        time.sleep(0.1)
    doomed.kill()
    doomed.wait()
    run.note("client_killed", client="doomed", pid=doomed.pid)
    keep.wait(timeout=240)
    time.sleep(2)


def burst(run, args):
    run.server("host-a")
    run.server("host-b")
    cl = run.client("client", "--rate", "3000", "--duration", "4", "--threads", "32",
                    "--cast-every", "4", "--timeout", "3")
    cl.wait(timeout=240)
    time.sleep(1)


SCENARIOS = {"broker-restart": broker_restart, "server-restart": server_restart,
             "client-kill": client_kill, "burst": burst}


def on_term(*_):
    raise SystemExit(1)  # unwinds through run.stop_all(): every child stopped by pid


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--broker-env-file")
    args = ap.parse_args()
    if args.scenario == "broker-restart" and not args.broker_env_file:
        ap.error("broker-restart needs --broker-env-file")
    os.makedirs(args.out, exist_ok=True)
    run = Run(args.url, args.out)
    signal.signal(signal.SIGTERM, on_term)
    try:
        run.note("scenario_start", scenario=args.scenario)
        SCENARIOS[args.scenario](run, args)
        run.note("scenario_end", scenario=args.scenario)
    finally:
        run.stop_all()


if __name__ == "__main__":
    sys.exit(main())
