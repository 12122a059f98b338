#!/usr/bin/python3
"""Regenerate one lab capture with its truth and meta: run.py NAME [--out DIR].

Orchestrates processes only (no oslo in this process): tcpdump (capture.py),
the RPC servers host-a/host-b and listener-1 (server.py), and one or more
scenario clients (client.py).  Then merges every process's event file into
NAME.truth.jsonl (one record per operation, field names as in
/work/shared/pcaps/README.md), writes NAME.meta.json, and verifies the capture
against the truth (pcaptool.py): every in-capture op must be on the wire.

Derived captures (lossy, cut) are rewritten from a whole capture by
pcaptool.py, deterministically, with the list of packets removed in the meta.
"""
import argparse
import collections
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import amqp_truth  # noqa: E402
import capture  # noqa: E402
import pcaptool  # noqa: E402

PY = "/usr/bin/python3"
URL4 = "rabbit://guest:guest@127.0.0.1:%d/"
URL6 = "rabbit://guest:guest@[::1]:%d/"
PIKA_URL = "amqp://guest:guest@127.0.0.1:%d/%%2F"

# name -> how to make it.  client: scenario in client.py; pause: connections
# and servers up before the capture starts; nano/pcapng: tcpdump ns stamps then
# editcap -F pcapng; derive: rewrite another capture; amqp_rpc: also run
# amqp_rpc.py's generic (pika) RPC servers and client in the same capture.
SCENARIOS = {
    "basic": dict(client="basic"),
    "errors": dict(client="errors"),
    "concurrency": dict(client="concurrency"),
    "notifications": dict(client="notifications"),
    "midconn": dict(client="midconn", pause=True),
    "ipv6": dict(client="mixed", ipv6=True),
    "pcapng-ns": dict(client="mixed", nano=True, pcapng=True),
    "heartbeat": dict(client="heartbeat"),
    "compression": dict(client="compression", compression="gzip"),
    "bigmsg": dict(client="bigmsg"),
    "cutsrc": dict(client="cutsrc"),
    "lossy": dict(derive="lossy", source="basic", every=50),
    # bench/make_captures.sh (not committed; scaled by --scale)
    "bytes-heavy": dict(client="bulk", clients=2,
                        bulk=dict(ops=10000, bytes=8000, threads=4)),
    "message-heavy": dict(client="bulk", clients=4,
                       bulk=dict(ops=200000, bytes=0, threads=8, notif_every=10, cast_every=4)),
    # a busy control plane (issue 19): 3 processes x 4 threads paced at 200 ops/s in all,
    # 71 % calls, 28 % casts, 1 in 200 a fanout, 10-200 byte arguments, full contexts
    "control-plane": dict(client="bulk", clients=3,
                          bulk=dict(ops=30000, bytes=0, threads=4, rate=200, mix="control")),
    "cut": dict(derive="cut", source="cutsrc"),
    "amqp-rpc": dict(client="handful", amqp_rpc=True),
    # one call per cause of failure or slowness; its own orchestrator (diagnosis.py)
    "diagnosis": dict(custom="diagnosis.py"),
    # user requests as chains of RPC across services, with each op's parent (chain.py)
    "chain": dict(custom="chain.py"),
    # TLS (port --tls-port): each process's version and suite; every process
    # writes its secrets through tools/tls-keylog/sitecustomize.py.
    # keys: NAME.keys beside the capture (and NAME.wrong.keys: same client
    # randoms, wrong secrets); dsb: pcapng with the secrets injected instead.
    "tls": dict(client="tlsmix", keys=True, tls={
        "host-a": "1.3:TLS_AES_256_GCM_SHA384", "host-b": "1.3:TLS_CHACHA20_POLY1305_SHA256",
        "listener-1": "1.2:ECDHE-RSA-AES256-GCM-SHA384",
        "client": "1.2:ECDHE-RSA-CHACHA20-POLY1305"}),
    "tls-dsb": dict(client="tlsmix", dsb=True, tls={
        "host-a": "1.2:ECDHE-RSA-AES128-GCM-SHA256", "host-b": "1.2:ECDHE-RSA-AES128-SHA256",
        "listener-1": "1.3:TLS_CHACHA20_POLY1305_SHA256",
        "client": "1.3:TLS_AES_128_GCM_SHA256"}),
    # bench: bytes-heavy's traffic over TLS 1.3 (speed of -j on TLS vs plaintext)
    "tls-bytes-heavy": dict(client="bulk", clients=2, keys=True,
                            bulk=dict(ops=10000, bytes=8000, threads=4), tls={
        "host-a": "1.3:TLS_AES_256_GCM_SHA384", "host-b": "1.3:TLS_AES_256_GCM_SHA384",
        "listener-1": "1.3:TLS_AES_256_GCM_SHA384", "client": "1.3:TLS_AES_256_GCM_SHA384"}),
    "tls-late": dict(client="tlsmix", pause=True, keys=True, tls={
        "host-a": "1.3:TLS_AES_256_GCM_SHA384", "host-b": "1.3:TLS_AES_256_GCM_SHA384",
        "listener-1": "1.3:TLS_AES_256_GCM_SHA384", "client": "1.3:TLS_AES_256_GCM_SHA384"}),
}

VERSION_PKGS = ["rabbitmq-server", "erlang-base", "python3-oslo.messaging", "python3-kombu",
                "python3-amqp", "python3-pika", "tcpdump", "wireshark-common"]


def versions():
    out = {}
    for p in VERSION_PKGS:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", p],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if r.returncode == 0:
            out[p] = r.stdout
    return out


class Procs:
    """Lab child processes, each stopped by its own pid."""

    def __init__(self, work):
        self.work = work
        self.procs = []

    def start(self, name, argv, env=None):
        log = open(os.path.join(self.work, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.procs.append((name, p, log))
        return p

    def stop_all(self, timeout=20):
        for _, p, _ in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p, log in self.procs:
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()
        self.procs = []


def wait_files(paths, timeout=60, procs=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(os.path.exists(p) for p in paths):
            return
        if procs:
            for name, p, _ in procs.procs:
                if p.poll() is not None:
                    raise RuntimeError("%s exited early (rc %s); see its log" % (name, p.returncode))
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for %s" % paths)


TLS_CA = None  # set by main(): the lab broker's CA (LAB_DIR/tls/ca.pem)
TLS_PORT = 5671  # --tls-port, LAB_TLS_PORT


def tls_env(spec, work, who):
    """The environment of one lab process in a TLS scenario (None: inherit):
    key log through the sitecustomize hook, version and suite as spec'd."""
    if "tls" not in spec:
        return None
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "tools", "tls-keylog")
    env["SSLKEYLOGFILE"] = os.path.join(work, "keys.txt")
    env["LAB_TLS_CA"] = TLS_CA
    version, _, suite = spec["tls"][who].partition(":")
    if version == "1.2":
        env["LAB_TLS_MAX"] = "1.2"
        env["LAB_TLS_CIPHERS"] = suite
    else:
        conf = os.path.join(work, "openssl-%s.cnf" % who)
        with open(conf, "w") as f:
            f.write("openssl_conf = c\n[c]\nssl_conf = s\n[s]\nsystem_default = d\n"
                    "[d]\nCiphersuites = %s\n" % suite)
        env["OPENSSL_CONF"] = conf
    return env


def start_servers(procs, work, url, compression, spec=None):
    ready = []
    for name, flag in (("host-a", "--name"), ("host-b", "--name"), ("listener-1", "--listener")):
        r = os.path.join(work, name + ".ready")
        argv = [PY, os.path.join(HERE, "server.py"), flag, name, "--url", url,
                "--events", os.path.join(work, "events-%s.jsonl" % name), "--ready", r]
        if compression:
            argv += ["--compression", compression]
        procs.start(name, argv, env=tls_env(spec or {}, work, name))
        ready.append(r)
    wait_files(ready, procs=procs)


def start_amqp_rpc_server(procs, work, port):
    r = os.path.join(work, "amqp-server.ready")
    procs.start("amqp-server", [PY, os.path.join(HERE, "amqp_rpc.py"), "server",
                                "--url", PIKA_URL % port, "--ready", r,
                                "--events", os.path.join(work, "events-amqp-server.jsonl")])
    wait_files([r], procs=procs)


def amqp_rpc_client_argv(work, port):
    return [PY, os.path.join(HERE, "amqp_rpc.py"), "client", "--url", PIKA_URL % port,
            "--events", os.path.join(work, "events-amqp-client.jsonl")]


def client_argv(work, scenario, name, url, compression, idx=0, extra=()):
    argv = [PY, os.path.join(HERE, "client.py"), scenario, "--name", name, "--url", url,
            "--events", os.path.join(work, "events-client-%d.jsonl" % idx), "--seed", str(idx + 1)]
    if compression:
        argv += ["--compression", compression]
    return argv + list(extra)


def run_capture(name, spec, work, pcap_path, port, clients=1, client_extra=None):
    """Servers + clients under tcpdump.  Returns the tcpdump info."""
    if "tls" in spec:
        port = TLS_PORT
    url = (URL6 if spec.get("ipv6") else URL4) % port
    comp = spec.get("compression")
    procs = Procs(work)
    td = capture.Tcpdump(pcap_path, port=port, nano=spec.get("nano", False))
    try:
        if not spec.get("pause"):
            td.start()
            time.sleep(0.2)
        start_servers(procs, work, url, comp, spec)
        cl = []
        if spec.get("amqp_rpc"):
            start_amqp_rpc_server(procs, work, port)
            cl.append(procs.start("amqp-client", amqp_rpc_client_argv(work, port)))
        for i in range(clients):
            extra = list(client_extra(i) if client_extra else [])
            if spec.get("pause"):
                extra += ["--pause", "--warm", os.path.join(work, "warm-%d" % i),
                          "--go", os.path.join(work, "go")]
            cl.append(procs.start("client-%d" % i,
                                  client_argv(work, spec["client"], name, url, comp, i, extra),
                                  env=tls_env(spec, work, "client")))
        if spec.get("pause"):
            wait_files([os.path.join(work, "warm-%d" % i) for i in range(clients)], procs=procs)
            time.sleep(1.0)  # quiet gap: nothing in flight when the capture begins
            td.start()
            time.sleep(0.5)
            open(os.path.join(work, "go"), "w").close()
        for p in cl:
            rc = p.wait()
            if rc != 0:
                name = [n for n, q, _ in procs.procs if q is p][0]
                raise RuntimeError("%s failed (rc %d); see %s/%s.log" % (name, rc, work, name))
        time.sleep(0.5)
        procs.stop_all()
        time.sleep(0.5)
    finally:
        procs.stop_all()
        info = td.stop()
    return info


# ---------------------------------------------------------------- the truth

def load_events(work):
    evs = []
    for path in sorted(glob.glob(os.path.join(work, "events-*.jsonl"))):
        with open(path) as f:
            evs += [json.loads(line) for line in f if line.strip()]
    return evs


def build_truth(evs, t_listen, t_stop):
    by_req = collections.defaultdict(lambda: collections.defaultdict(list))
    replies_recv = collections.defaultdict(list)
    notif = collections.defaultdict(list)
    ops, stats = [], []
    for e in evs:
        kind = e["ev"]
        if kind == "op":
            ops.append(e)
        elif kind in ("recv", "reply", "served"):
            by_req[e.get("request_id")][kind].append(e)
        elif kind == "reply_recv":
            replies_recv[e.get("msg_id")].append(e)
        elif kind == "notif_recv":
            notif[e.get("message_id")].append(e)
        elif kind == "client_stats":
            stats.append(e)
    ops.sort(key=lambda o: (o["t_start"], o["request_id"]))
    truth = []
    for seq, o in enumerate(ops, 1):
        t = {k: v for k, v in o.items() if k not in ("ev",)}
        t["seq"] = seq
        sv = by_req.get(o["request_id"], {})
        times = [o["t_start"], o["t_end"]]
        if o["kind"] != "notification":
            t["server_recv"] = [{"server": e["server"], "t": e["t"]} for e in sv.get("recv", [])]
            t["served_by"] = [{k: e[k] for k in ("endpoint", "server", "topic", "t_begin", "t_end",
                                                  "raised") if k in e}
                              for e in sv.get("served", [])]
            times += [e["t"] for e in sv.get("recv", [])] + [e["t_end"] for e in sv.get("served", [])]
        if o["kind"] == "call":
            reps = sv.get("reply", [])
            finals = [e for e in reps if e["ending"]]
            t["server_reply"] = [{"server": e["server"], "t": e["t"], "elapsed": e["elapsed"]}
                                 for e in finals]
            t["replies_sent"] = len(finals)
            t["heartbeats_sent"] = len(reps) - len(finals)
            for e in finals:
                if "failure_class" in e:
                    t["remote_exc_module"] = e["failure_module"]
                    t.setdefault("remote_exc_type", e["failure_class"])
            got = sorted(replies_recv.get(o.get("msg_id"), []), key=lambda e: e["t"])
            fin = [e for e in got if e["ending"]]
            t["heartbeats_recv"] = len(got) - len(fin)
            if fin:
                t["t_reply_recv"] = fin[0]["t"]
                if o["outcome"] == "timeout":
                    t["t_late_reply"] = fin[0]["t"]
            times += [e["t"] for e in reps] + [e["t"] for e in got]
        if o["kind"] == "notification":
            t["routing_key"] = t.get("routing_key") or "notifications." + o["priority"]
            t["received_by"] = [{"listener": e["listener"], "t": e["t"]}
                                for e in notif.get(o.get("message_id"), [])]
            times += [e["t"] for e in notif.get(o.get("message_id"), [])]
        t["in_capture"] = bool(t_listen is not None and min(times) >= t_listen
                               and max(times) <= t_stop)
        truth.append(t)
    return truth, stats


def write_truth(path, truth):
    with open(path, "w") as f:
        for t in truth:
            f.write(json.dumps(t, sort_keys=True, ensure_ascii=False) + "\n")


def summary(truth):
    c = collections.Counter(t["kind"] for t in truth)
    oc = collections.Counter("%s:%s" % (t["kind"], t["outcome"]) for t in truth)
    ic = collections.Counter(str(bool(t["in_capture"])) for t in truth)
    calls = [t for t in truth if t["kind"] == "call"]
    return {"records": len(truth), "counts": dict(c), "outcomes": dict(oc), "in_capture": dict(ic),
            "calls_with_msg_id": sum(1 for t in calls if t.get("msg_id")),
            "calls_msg_id_from_log": sum(1 for t in calls if t.get("msg_id_crosscheck") is not None),
            "calls_msg_id_crosscheck_ok": sum(1 for t in calls if t.get("msg_id_crosscheck")),
            "reply_queues": sorted({t["reply_q"] for t in calls if t.get("reply_q")})}


def check_verify(name, v, truth, allow_missing=False):
    problems = []
    g = v.get("amqp_rpc_tshark")
    if g is not None:
        problems += ["generic rpc vs tshark: " + p for p in g["problems"]]
        near = [t["correlation_id"] for t in truth if t.get("near_deadline")]
        if near:
            problems.append("generic calls answered within 50 ms of their deadline "
                            "(ambiguous, run again): %s" % near[:5])
        out = [t["correlation_id"] for t in truth
               if t.get("dialect") == "amqp" and not t["in_capture"]]
        if out:
            problems.append("generic calls not wholly inside the capture: %s" % out[:5])
    if v["missing_on_wire"] and not allow_missing:
        problems.append("%d in-capture ops not on the wire: %s" % (
            v["in_capture_ops"] - v["in_capture_ops_on_wire"], v["missing_on_wire"][:5]))
    if v["latency_outside_client_window"]:
        problems.append("wire latency outside the client's [t_start, t_end] for %s"
                        % v["latency_outside_client_window"][:5])
    if v["token_marker_in_raw_bytes"] == 0:
        problems.append("fake token marker not in the capture")
    return problems


def tshark_publishes(path, port=5672, keylog=None):
    """basic.publish methods as Wireshark's AMQP dissector counts them: an
    independent check of pcaptool's own frame walker (skipped over 100 MB).
    tshark knows AMQP on 5672 only; another broker port is named with -d."""
    if os.path.getsize(path) > 100 * 1024 * 1024:
        return None
    opts = ["-d", "tcp.port==%d,amqp" % port]
    if keylog:
        opts = ["-o", "tls.keylog_file:" + keylog, "-d", "tcp.port==%d,tls" % TLS_PORT,
                "-o", "amqp.tls.port:%d" % TLS_PORT]
    r = subprocess.run(["tshark", "-r", path] + opts + ["-Y", "amqp.method.class == 60",
                        "-T", "fields", "-e", "amqp.method.class", "-e", "amqp.method.method"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    n = 0
    for line in r.stdout.splitlines():
        cls, _, meth = line.partition("\t")
        n += sum(1 for c, m in zip(cls.split(","), meth.split(",")) if c == "60" and m == "40")
    return n


def tshark_ok(path):
    r = subprocess.run(["tshark", "-r", path, "-q", "-z", "io,stat,0"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    return r.returncode == 0, r.stderr.strip()[:300]


# ---------------------------------------------------------------- main steps

def bulk_args(spec, scale):
    """client.py arguments for client i of a bulk (bench) scenario."""
    b = spec["bulk"]
    n = spec["clients"]
    total = max(n, int(b["ops"] * scale))

    def extra(i):
        ops = total // n + (1 if i < total % n else 0)
        return ["--bulk-ops", str(ops), "--bulk-bytes", str(b["bytes"]),
                "--bulk-threads", str(b["threads"]),
                "--bulk-notif-every", str(b.get("notif_every", 0)),
                "--bulk-cast-every", str(b.get("cast_every", 0)),
                "--bulk-rate", str(b.get("rate", 0) / n), "--bulk-mix", b.get("mix", "")]
    return extra


def make_live(name, spec, out, work, port, scale=1.0):
    raw = os.path.join(work, name + (".nano.pcap" if spec.get("nano") else ".pcap"))
    if "bulk" in spec:
        info = run_capture(name, spec, work, raw, port, clients=spec["clients"],
                           client_extra=bulk_args(spec, scale))
    else:
        info = run_capture(name, spec, work, raw, port)
    evs = load_events(work)
    truth, stats = build_truth(evs, info.get("t_listen"), info["t_stop"])
    generic = []
    if spec.get("amqp_rpc"):
        generic = amqp_truth.build(evs, info.get("t_listen"), info["t_stop"], name)
    url = (URL6 if spec.get("ipv6") else URL4) % port
    meta = {"scenario": name, "client_scenario": spec["client"], "url": url,
            "clock": "time.time() (CLOCK_REALTIME)", "versions": versions(),
            "msg_id_source": "amqpdriver-debug-log",
            "unbound_driver_log_lines": sum(s["unbound_driver_log_lines"] for s in stats)}
    if spec.get("compression"):
        meta["kombu_compression"] = spec["compression"]
    if "bulk" in spec:
        meta["bulk"] = dict(spec["bulk"], clients=spec["clients"], scale=scale)
    if spec.get("pause"):
        meta["capture_started"] = ("after the servers and the client had connected and made "
                                   "warm-up operations: no protocol header, no connection.tune")
    meta.update(summary(truth))
    if "tls" in spec:
        meta["url"] = URL4 % TLS_PORT
        v = tls_outputs(name, spec, raw, out, work, meta)
        final = os.path.join(out, name + (".pcapng" if spec.get("dsb") else ".pcap"))
        if spec.get("dsb"):
            subprocess.run(["editcap", "--inject-secrets", "tls," + os.path.join(work, "keys.txt"),
                            "-F", "pcapng", raw, final], check=True, stderr=subprocess.DEVNULL)
        else:
            shutil.move(raw, final)
        info["file"] = os.path.basename(final)
        meta["capture"] = info
        return final, truth, meta, v
    v = pcaptool.verify(raw, truth)
    if spec.get("amqp_rpc"):
        meta["amqp_rpc"] = dict(amqp_truth.summary(generic), url=PIKA_URL % port,
                                client="tools/lab/amqp_rpc.py (pika)")
        v["amqp_rpc_tshark"] = amqp_truth.tshark_check(raw, generic, port)
        for t in truth:
            t["dialect"] = "oslo"
        truth = sorted(truth + generic, key=lambda t: t.get("t_start", t.get("t_send")))
        for seq, t in enumerate(truth, 1):
            t["seq"] = seq
    if spec.get("pcapng"):
        final = os.path.join(out, name + ".pcapng")
        subprocess.run(["editcap", "-F", "pcapng", raw, final], check=True,
                       stderr=subprocess.DEVNULL)
        meta["pcapng"] = {"from": "tcpdump --time-stamp-precision=nano, then editcap -F pcapng",
                          "file": os.path.basename(final), "size": os.path.getsize(final)}
        meta["pcapng"]["ns_timestamps"] = ns_check(final)
    else:
        final = os.path.join(out, name + ".pcap")
        shutil.move(raw, final)
    info["file"] = os.path.basename(raw)
    meta["capture"] = info
    return final, truth, meta, v


def tls_outputs(name, spec, raw, out, work, meta):
    """Key files and the independent check of a TLS capture: tshark, given the
    key log, decrypts it and counts basic.publish (pcaptool reads no TLS)."""
    keys = os.path.join(work, "keys.txt")
    with open(keys) as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip() and not ln.startswith("#")]
    meta["tls"] = {"per_process": spec["tls"], "port": TLS_PORT,
                   "keylog_lines": len(lines),
                   "keylog_labels": dict(collections.Counter(ln.split()[0] for ln in lines)),
                   "keys": ("pcapng Decryption Secrets Block (editcap --inject-secrets)"
                            if spec.get("dsb") else name + ".keys")}
    if spec.get("keys"):
        shutil.copy(keys, os.path.join(out, name + ".keys"))
        # Same labels and client randoms, every secret changed: "wrong keys".
        with open(os.path.join(out, name + ".wrong.keys"), "w") as f:
            for ln in lines:
                label, cr, secret = ln.split()
                bad = bytes(b ^ 0x5A for b in bytes.fromhex(secret)).hex()
                f.write("%s %s %s\n" % (label, cr, bad))
    n = tshark_publishes(raw, keylog=keys)
    v = {"tshark_basic_publish_decrypted": n,
         "note": "TLS: pcaptool cannot read the records; tshark with the key log is the check"}
    v["missing_on_wire"] = [] if (n or spec.get("pause")) else ["tshark decrypted no publish"]
    return v


def ns_check(path):
    r = subprocess.run(["tshark", "-r", path, "-c", "5", "-T", "fields", "-e", "frame.time_epoch"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True)
    stamps = r.stdout.split()
    return {"sample": stamps[:3], "nine_decimals": all(len(s.split(".")[1]) == 9 for s in stamps)}


def make_derived(name, spec, out, work, port, src_dir):
    src = os.path.join(src_dir, spec["source"] + ".pcap")
    src_truth_path = os.path.join(src_dir, spec["source"] + ".truth.jsonl")
    if not os.path.exists(src):
        # Make the source capture first, in the work dir.
        sspec = SCENARIOS[spec["source"]]
        swork = os.path.join(work, "source")
        os.makedirs(swork, exist_ok=True)
        f, t, m, _ = make_live(spec["source"], sspec, swork, swork, port)
        write_truth(os.path.join(swork, spec["source"] + ".truth.jsonl"), t)
        with open(os.path.join(swork, spec["source"] + ".meta.json"), "w") as fh:
            json.dump(m, fh, indent=2, sort_keys=True)
        src, src_truth_path = f, os.path.join(swork, spec["source"] + ".truth.jsonl")
    truth = pcaptool._load_truth(src_truth_path)
    final = os.path.join(out, name + ".pcap")
    meta = {"scenario": name, "derived_from": os.path.basename(src),
            "clock": "time.time() (CLOCK_REALTIME)", "versions": versions(),
            "msg_id_source": "amqpdriver-debug-log"}
    if spec["derive"] == "lossy":
        info = pcaptool.make_lossy(src, final, spec["every"], truth)
        meta.update(info)
        for t in truth:
            t["scenario"] = name
    else:
        info, inside, t_first = pcaptool.make_cut(src, final)
        meta.update(info)
        for t in truth:
            t["scenario"] = name
            key = pcaptool._op_key(t)
            t["in_capture"] = bool(t.get("in_capture")) and key in inside and t["t_start"] >= t_first
    meta.update(summary(truth))
    p = pcaptool.Pcap(final)
    meta["capture"] = {"file": os.path.basename(final), "size": os.path.getsize(final),
                       "packets": len(p.packets),
                       "cmd": "tools/lab/run.py %s (pcaptool.py %s of %s)" % (
                           name, spec["derive"], os.path.basename(src))}
    v = pcaptool.verify(final, truth)
    return final, truth, meta, v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name", choices=sorted(SCENARIOS))
    ap.add_argument("--out", default=os.path.join(ROOT, "pcaps"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--port", type=int, default=int(os.environ.get("LAB_PORT", "5672")))
    ap.add_argument("--scale", type=float, default=1.0, help="bench scenarios: size factor")
    ap.add_argument("--tls-port", type=int, default=int(os.environ.get("LAB_TLS_PORT", "5671")))
    args = ap.parse_args()
    global TLS_CA, TLS_PORT
    TLS_PORT = args.tls_port
    TLS_CA = os.path.join(os.environ.get("LAB_DIR", "/tmp/oslotrace-lab"), "tls", "ca.pem")
    spec = SCENARIOS[args.name]
    if "custom" in spec:
        return subprocess.call([PY, os.path.join(HERE, spec["custom"]), "run", "--port",
                                str(args.port), "--out", args.out]
                               + (["--work", args.work] if args.work else []))
    work = args.work or os.path.join(HERE, "out", args.name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.makedirs(args.out, exist_ok=True)
    if "derive" in spec:
        final, truth, meta, v = make_derived(args.name, spec, args.out, work, args.port, args.out)
        allow_missing = spec["derive"] == "lossy"
        if allow_missing:
            v["note"] = ("pcaptool's simple mapper stops at the first hole of each direction, "
                         "so the on-wire counts of a lossy capture are lower bounds")
    else:
        final, truth, meta, v = make_live(args.name, spec, args.out, work, args.port, args.scale)
        allow_missing = False
    ok, err = tshark_ok(final)
    v["tshark_opens"] = ok
    if "tls" not in spec:
        v["tshark_basic_publish"] = tshark_publishes(final, 5672 if "derive" in spec else args.port)
    meta["verify"] = v
    write_truth(os.path.join(args.out, args.name + ".truth.jsonl"), truth)
    with open(os.path.join(args.out, args.name + ".meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    if "tls" in spec:
        problems = list(v["missing_on_wire"])
    else:
        problems = check_verify(args.name, v, truth, allow_missing)
    if not ok:
        problems.append("tshark cannot open %s: %s" % (final, err))
    if v.get("tshark_basic_publish") is not None and "derive" not in spec \
            and v["tshark_basic_publish"] != v["amqp_publish"]:
        problems.append("tshark counts %d basic.publish, pcaptool %d"
                        % (v["tshark_basic_publish"], v["amqp_publish"]))
    outcomes = dict(meta["outcomes"])
    if "amqp_rpc" in meta:
        outcomes.update({"amqp:" + k: n for k, n in meta["amqp_rpc"]["style_outcomes"].items()})
    print("%s: %s, %d records %s, verify %s" % (args.name, final, len(truth),
                                                json.dumps(outcomes, sort_keys=True),
                                                "OK" if not problems else "FAILED"))
    for p in problems:
        print("  problem:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
