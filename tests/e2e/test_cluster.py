"""Captures of a three-node RabbitMQ cluster whose clocks disagree (issue 20).

tools/lab/cluster.py runs a real three-node cluster on loopback with oslo
servers and clients spread over the nodes, captures each node's AMQP port,
and shifts each node's capture by a known offset (node b +4 ms, node c
-3 ms). oslotrace reads the three shifted captures at once; against the
truth the clients and servers wrote:
  - every operation of the truth is reported once and right (test_truth's
    checks), and nothing else;
  - queue wait and server time are never negative, the legs of every call are
    in causal order, and queue wait + server time fit in the call's latency;
  - each estimated offset undoes the applied shift within 1 ms;
  - every leg names the node it was seen on: the client's legs the client's
    node, the server's legs the server's (the lab's placement);
  - the report gives the offsets and their uncertainty;
  - --clock-offset by hand is applied as given (and the result is right too);
  - two one-sided views of one broker (the clients' connections only, the
    servers' only, shifted by +4 ms) merge the same way.
Skips (77) without root, rabbitmq-server or oslo.messaging."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from common import SRC, Checker, run
from lab_broker import require_live_lab
from test_truth import check_capture

CLUSTER = os.path.join(SRC, "tools", "lab", "cluster.py")
OFFSETS = {"node-a": 0.0, "node-b": 0.004, "node-c": -0.003}
LEGS = ("request_publish", "request_deliver", "reply_publish", "reply_deliver")


def files_args(out, names, suffix=".shifted.pcap"):
    args = []
    for n in names:
        args += ["-r", os.path.join(out, n + suffix), "--node-name", n]
    return args


def records(args):
    p = run(args + ["-j"])
    return [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]


def check_times(c, name, recs):
    for r in recs:
        where = "%s %s %s" % (name, r["type"], r.get("msg_id") or r.get("unique_id"))
        q, s, lat = r.get("queue_wait_ms"), r.get("server_ms"), r.get("latency_ms")
        c.check(q is None or q >= 0, "%s: queue wait %r < 0" % (where, q))
        c.check(s is None or s >= 0, "%s: server time %r < 0" % (where, s))
        seen = [r["timeline"][leg] for leg in LEGS if r["timeline"][leg] is not None]
        c.check(seen == sorted(seen), "%s: legs out of causal order %r" % (where, r["timeline"]))
        if r["type"] == "call" and None not in (q, s, lat) and r["latency_from"] == LEGS[0] \
                and r["latency_to"] == LEGS[3]:
            c.check(q + s <= lat + 0.002, "%s: queue %.3f + server %.3f > latency %.3f"
                    % (where, q, s, lat))


def check_offsets(c, name, report, applied, ref):
    """The estimated offsets undo the applied shifts (relative to the reference)."""
    clocks = {k["node"]: k for k in report.get("clocks", [])}
    c.check(set(clocks) == set(applied), "%s: clocks for %s" % (name, sorted(clocks)))
    for node, shift in applied.items():
        k = clocks.get(node)
        if not k:
            continue
        want = -(shift - applied[ref]) * 1000.0
        c.check(abs(k["offset_ms"] - want) <= 1.0, "%s: %s offset %.3f ms, applied shift wants %.3f"
                % (name, node, k["offset_ms"], want))
        if node != ref:
            c.check(k["how"] == "estimated" and k["uncertainty_ms"] is not None
                    and not k["inconsistent"], "%s: %s clock %r" % (name, node, k))
    return clocks


def check_nodes(c, name, recs, placement):
    n = 0
    for r in recs:
        if r["type"] != "call" or None in r["timeline"].values():
            continue
        where = "%s call %s" % (name, r["msg_id"])
        cl = placement.get(r.get("client_process"))
        sv = placement.get(r.get("server_process"))
        if not c.check(cl and sv, "%s: processes %r %r not in the lab's placement"
                       % (where, r.get("client_process"), r.get("server_process"))):
            continue
        want = {"request_publish": cl, "reply_deliver": cl, "request_deliver": sv,
                "reply_publish": sv}
        c.check(r.get("nodes") == want, "%s: nodes %r, want %r" % (where, r.get("nodes"), want))
        n += 1
    c.check(n >= 20, "%s: only %d whole calls to check nodes on" % (name, n))
    cross = sum(1 for r in recs if r.get("nodes") and r["nodes"]["request_publish"]
                and r["nodes"]["request_deliver"]
                and r["nodes"]["request_publish"] != r["nodes"]["request_deliver"])
    c.check(cross >= 10, "%s: only %d calls cross nodes" % (name, cross))


def main():
    require_live_lab()
    if not shutil.which("tcpdump"):
        from common import skip
        skip("tcpdump is not installed")
    out = tempfile.mkdtemp(prefix="oslotrace-cluster-test-")
    try:
        offs = ",".join(str(OFFSETS[n]) for n in ("node-a", "node-b", "node-c"))
        subprocess.run([sys.executable, CLUSTER, "--out", out, "--offsets", offs, "--one-sided"],
                       check=True, timeout=900, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "cluster.meta.json")) as f:
            meta = json.load(f)
        c = Checker("cluster")
        names = ["node-a", "node-b", "node-c"]
        args = files_args(out, names)
        truth = os.path.join(out, "cluster.truth.jsonl")

        # The raw merge is what issue 20 is about: the shifted clocks break it.
        raw = records(args + ["--clock-offset", "node-b=0", "--clock-offset", "node-c=0"])
        broken = sum(1 for r in raw if (r.get("queue_wait_ms") or 0) < 0 or
                     (r.get("reply_ms") or 0) < 0 or
                     [v for v in r["timeline"].values() if v] !=
                     sorted(v for v in r["timeline"].values() if v))
        c.check(broken > 0, "shifted clocks left unset should show the problem (none did)")

        check_capture(c, "cluster", args[1], truth, args[2:])
        recs = records(args)
        check_times(c, "cluster", recs)
        check_nodes(c, "cluster", recs, meta["placement"])
        rep = json.loads(run(args + ["-q", "--report", "-j"]).stdout)
        check_offsets(c, "cluster", rep, OFFSETS, "node-a")
        text = run(args + ["-q", "--report"]).stdout.decode()
        c.check("Clocks (3 captures, offsets estimated from the traffic)" in text,
                "text report has no Clocks part")

        # By hand: the true corrections, as given.
        hand = args + ["--clock-offset", "node-b=-0.004", "--clock-offset", "node-c=0.003"]
        check_capture(c, "cluster by hand", hand[1], truth, hand[2:])
        hrep = json.loads(run(hand + ["-q", "--report", "-j"]).stdout)
        hk = {k["node"]: k for k in hrep["clocks"]}
        c.check(hk["node-b"]["how"] == "fixed" and hk["node-b"]["offset_ms"] == -4.0,
                "by hand: node-b %r" % hk["node-b"])

        # Two one-sided views of one broker, the servers' shifted.
        one = ["-r", os.path.join(out, "clients.pcap"), "--node-name", "clients",
               "-r", os.path.join(out, "servers.shifted.pcap"), "--node-name", "servers"]
        otruth = os.path.join(out, "one-sided.truth.jsonl")
        check_capture(c, "one-sided", one[1], otruth, one[2:])
        check_times(c, "one-sided", records(one))
        orep = json.loads(run(one + ["-q", "--report", "-j"]).stdout)
        check_offsets(c, "one-sided", orep,
                      {"clients": 0.0, "servers": meta["one_sided"]["offset_s"]}, "clients")
        c.finish()
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
