#!/usr/bin/python3
"""The cluster lab: a three-node RabbitMQ cluster on loopback, oslo clients and
servers spread over its nodes, one capture per node, and copies of each
node's capture with its clock shifted by a known offset (issue 20).

    cluster.py --out DIR [--offsets 0,0.004,-0.003] [--keep-raw]

Each node is tools/lab/broker.sh with its own RABBITMQ_NODENAME
(rabbit-a-<pid>@localhost ...), AMQP port and distribution port (AMQP port +
20000) on free loopback ports, its own data and log directory under a private
temp dir; the three share one epmd (on a free port) and one Erlang cookie
written before they start. Nodes b and c join a with rabbitmqctl
join_cluster. The oslo processes: RPC server host-a on node b, host-b and the
notification listener on node c, one client on node a and one on node c, so
calls cross nodes both ways (a call published on a is delivered on b, its
reply published on b and delivered on a). tcpdump captures each node's AMQP
port on lo; the truth is written by the clients and servers (run.py's
build_truth), never by oslotrace.

DIR gets node-a.pcap, node-b.pcap, node-c.pcap (the real clocks: one host,
one clock), node-X.shifted.pcap (node X's timestamps + its offset), the
truth cluster.truth.jsonl and cluster.meta.json (ports, offsets, counts). With
--one-sided it also writes the two one-sided views of node a (every flow of
the client processes, every flow of the servers: clients.pcap,
servers.pcap, servers.shifted.pcap by the second offset) from a run where
everything connects to node a. Every process started is stopped by its pid
whatever happens (broker.sh stop for each node, then the shared epmd).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import capture  # noqa: E402
import pcaptool  # noqa: E402
from ports import free_port  # noqa: E402
import run  # noqa: E402

BROKER_SH = os.path.join(HERE, "broker.sh")
URL = "rabbit://guest:guest@127.0.0.1:%d/"


class Cluster:
    """Three RabbitMQ nodes joined in a cluster; `with Cluster(base) as c:`
    c.ports[i] is node i's AMQP port, c.nodes[i] its node name."""

    def __init__(self, base, n=3):
        self.base = base
        self.epmd_port = free_port()
        cookie = os.urandom(20).hex()
        self.nodes, self.ports, self.envs = [], [], []
        for i in range(n):
            letter = "abc"[i]
            port = free_port(also_free=(20000,))
            d = os.path.join(base, "node-" + letter)
            os.makedirs(os.path.join(d, "home"), mode=0o700)
            cpath = os.path.join(d, "home", ".erlang.cookie")
            with open(cpath, "w") as f:
                f.write(cookie)
            os.chmod(cpath, 0o400)
            node = "rabbit-%s-%d@localhost" % (letter, os.getpid())
            self.nodes.append(node)
            self.ports.append(port)
            self.envs.append(dict(os.environ, LAB_PORT=str(port), LAB_DIR=d,
                                  LAB_EPMD_PORT=str(self.epmd_port), LAB_NODE=node))
        self.started = []

    def ctl(self, i, *args):
        subprocess.run(["sh", BROKER_SH, "ctl"] + list(args), env=self.envs[i], check=True,
                       timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def __enter__(self):
        try:
            for i, env in enumerate(self.envs):
                self.started.append(i)
                subprocess.run(["sh", BROKER_SH, "start"], env=env, check=True, timeout=180,
                               stdout=subprocess.DEVNULL)
            for i in range(1, len(self.envs)):
                self.ctl(i, "stop_app")
                self.ctl(i, "join_cluster", self.nodes[0])
                self.ctl(i, "start_app")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        # Node a started the shared epmd: it goes last.
        for i in reversed(self.started):
            subprocess.run(["sh", BROKER_SH, "stop"], env=self.envs[i], timeout=180,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started = []
        return False


def run_traffic(work, urls_servers, urls_clients):
    """Servers and clients of the oslo lab, each on its own node's URL
    ((node, url) pairs); the captures must be running. Returns after every
    client ended, with where each process was: {"server.py:PID": node, ...}."""
    procs = run.Procs(work)
    where = {}
    try:
        ready = []
        for name, flag, (node, url) in urls_servers:
            r = os.path.join(work, name + ".ready")
            p = procs.start(name, [run.PY, os.path.join(HERE, "server.py"), flag, name,
                                   "--url", url,
                                   "--events", os.path.join(work, "events-%s.jsonl" % name),
                                   "--ready", r])
            where["server.py:%d" % p.pid] = node
            ready.append(r)
        run.wait_files(ready, procs=procs)
        cl = []
        for i, (node, url) in enumerate(urls_clients):
            p = procs.start("client-%d" % i,
                            run.client_argv(work, "handful", "cluster", url, None, i))
            where["client.py:%d" % p.pid] = node
            cl.append(p)
        for p in cl:
            if p.wait() != 0:
                raise RuntimeError("a client failed; see %s" % work)
        time.sleep(0.5)
    finally:
        procs.stop_all()
    time.sleep(0.5)
    return where


def captured(work, ports, names, urls_servers, urls_clients):
    """tcpdump on lo for each port while the traffic runs; the truth."""
    tds = [capture.Tcpdump(os.path.join(work, n + ".pcap"), port=p) for n, p in zip(names, ports)]
    try:
        for td in tds:
            td.start()
        time.sleep(0.2)
        where = run_traffic(work, urls_servers, urls_clients)
    finally:
        infos = [td.stop() for td in tds]
    evs = run.load_events(work)
    truth, _ = run.build_truth(evs, max(i["t_listen"] for i in infos),
                               min(i["t_stop"] for i in infos))
    return truth, infos, where


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--offsets", default="0,0.004,-0.003",
                    help="seconds added to node a,b,c's timestamps in the shifted copies")
    ap.add_argument("--one-sided", action="store_true")
    args = ap.parse_args()
    offsets = [float(x) for x in args.offsets.split(",")]
    os.makedirs(args.out, exist_ok=True)
    base = tempfile.mkdtemp(prefix="oslotrace-cluster-")
    meta = {"offsets_s": dict(zip(("node-a", "node-b", "node-c"), offsets))}
    try:
        with Cluster(base) as c:
            meta["nodes"] = c.nodes
            meta["ports"] = c.ports
            work = os.path.join(base, "work")
            os.makedirs(work)
            names = ["node-a", "node-b", "node-c"]
            u = [(n, URL % p) for n, p in zip(names, c.ports)]
            truth, infos, meta["placement"] = captured(work, c.ports, names,
                                    [("host-a", "--name", u[1]), ("host-b", "--name", u[2]),
                                     ("listener-1", "--listener", u[2])],
                                    [u[0], u[2]])
            meta["captures"] = infos
            for n, off in zip(names, offsets):
                shutil.copy(os.path.join(work, n + ".pcap"), os.path.join(args.out, n + ".pcap"))
                pcaptool.shift(os.path.join(work, n + ".pcap"),
                               os.path.join(args.out, n + ".shifted.pcap"), off)
            run.write_truth(os.path.join(args.out, "cluster.truth.jsonl"), truth)
            if args.one_sided:
                w1 = os.path.join(base, "work1")
                os.makedirs(w1)
                t1, _, _ = captured(w1, [c.ports[0]], ["one"],
                                  [("host-a", "--name", u[0]), ("host-b", "--name", u[0]),
                                   ("listener-1", "--listener", u[0])], [u[0]])
                one = os.path.join(w1, "one.pcap")
                meta["one_sided"] = pcaptool.split_by_process(
                    one, os.path.join(args.out, "clients.pcap"),
                    os.path.join(args.out, "servers.pcap"), b"client.py:", b"server.py:")
                pcaptool.shift(os.path.join(args.out, "servers.pcap"),
                               os.path.join(args.out, "servers.shifted.pcap"), offsets[1])
                meta["one_sided"]["offset_s"] = offsets[1]
                run.write_truth(os.path.join(args.out, "one-sided.truth.jsonl"), t1)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    meta.update(run.summary(truth))
    with open(os.path.join(args.out, "cluster.meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    print("cluster: %d records in %s" % (len(truth), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
