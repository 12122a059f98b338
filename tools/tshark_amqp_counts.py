#!/usr/bin/env python3
"""tshark_amqp_counts.py: the oracle for tests/e2e/test_amqp_counts.py.

For each capture, asks tshark (never oslotrace) which AMQP methods it decodes
and writes tests/expected/<capture>.amqp-counts.json with the count of each
"class.method" name. One packet can carry several frames; tshark then lists
the class and method ids comma-separated, in the same order.

    tools/tshark_amqp_counts.py                 # every capture in pcaps/
    tools/tshark_amqp_counts.py pcaps/x.pcap    # just these
"""
import json
import os
import subprocess
import sys
import urllib.parse

# (class id, method id) -> name, as the AMQP 0-9-1 spec and RabbitMQ's extensions spell them
# (the same names dissect/amqp_method.c uses).
NAMES = {
    (10, 10): "connection.start", (10, 11): "connection.start-ok",
    (10, 20): "connection.secure", (10, 21): "connection.secure-ok",
    (10, 30): "connection.tune", (10, 31): "connection.tune-ok",
    (10, 40): "connection.open", (10, 41): "connection.open-ok",
    (10, 50): "connection.close", (10, 51): "connection.close-ok",
    (10, 60): "connection.blocked", (10, 61): "connection.unblocked",
    (10, 70): "connection.update-secret", (10, 71): "connection.update-secret-ok",
    (20, 10): "channel.open", (20, 11): "channel.open-ok",
    (20, 20): "channel.flow", (20, 21): "channel.flow-ok",
    (20, 40): "channel.close", (20, 41): "channel.close-ok",
    (30, 10): "access.request", (30, 11): "access.request-ok",
    (40, 10): "exchange.declare", (40, 11): "exchange.declare-ok",
    (40, 20): "exchange.delete", (40, 21): "exchange.delete-ok",
    (40, 30): "exchange.bind", (40, 31): "exchange.bind-ok",
    (40, 40): "exchange.unbind", (40, 51): "exchange.unbind-ok",
    (50, 10): "queue.declare", (50, 11): "queue.declare-ok",
    (50, 20): "queue.bind", (50, 21): "queue.bind-ok",
    (50, 30): "queue.purge", (50, 31): "queue.purge-ok",
    (50, 40): "queue.delete", (50, 41): "queue.delete-ok",
    (50, 50): "queue.unbind", (50, 51): "queue.unbind-ok",
    (60, 10): "basic.qos", (60, 11): "basic.qos-ok",
    (60, 20): "basic.consume", (60, 21): "basic.consume-ok",
    (60, 30): "basic.cancel", (60, 31): "basic.cancel-ok",
    (60, 40): "basic.publish", (60, 50): "basic.return",
    (60, 60): "basic.deliver", (60, 70): "basic.get",
    (60, 71): "basic.get-ok", (60, 72): "basic.get-empty",
    (60, 80): "basic.ack", (60, 90): "basic.reject",
    (60, 100): "basic.recover-async", (60, 110): "basic.recover",
    (60, 111): "basic.recover-ok", (60, 120): "basic.nack",
    (85, 10): "confirm.select", (85, 11): "confirm.select-ok",
    (90, 10): "tx.select", (90, 11): "tx.select-ok",
    (90, 20): "tx.commit", (90, 21): "tx.commit-ok",
    (90, 30): "tx.rollback", (90, 31): "tx.rollback-ok",
}
CONTENT = {"basic.publish", "basic.deliver", "basic.get-ok", "basic.return"}
CAPTURE_EXT = (".pcap", ".pcapng", ".cap")


def tshark_version():
    out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "tshark"


def broker_port(path):
    """The lab's broker port from the capture's meta url; tshark knows 5672 only."""
    meta = os.path.splitext(path)[0] + ".meta.json"
    try:
        with open(meta) as f:
            url = json.load(f).get("url") or ""
    except (OSError, ValueError):
        return 5672
    return urllib.parse.urlsplit(url).port or 5672


def decode_as(path):
    port = broker_port(path)
    return [] if port == 5672 else ["-d", "tcp.port==%d,amqp" % port]


def count(path):
    cmd = ["tshark", "-n", "-r", path] + decode_as(path) + [
           "-Y", "amqp", "-T", "fields", "-e", "amqp.method.class", "-e", "amqp.method.method"]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    counts = {}
    for line in res.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) < 2 or not cols[0]:
            continue  # an AMQP packet with no method frame (header, body, heartbeat)
        classes, methods = cols[0].split(","), cols[1].split(",")
        for c, m in zip(classes, methods):
            key = (int(c), int(m))
            name = NAMES.get(key, "unknown.%d.%d" % key)
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pcaps = argv[1:] or sorted(
        os.path.join(root, "pcaps", f) for f in os.listdir(os.path.join(root, "pcaps"))
        if f.endswith(CAPTURE_EXT))
    outdir = os.path.join(root, "tests", "expected")
    os.makedirs(outdir, exist_ok=True)
    version = tshark_version()
    for p in pcaps:
        counts = count(p)
        name = os.path.basename(p)
        doc = {
            "capture": name,
            "capture_bytes": os.path.getsize(p),  # tests call the file stale when this differs
            "oracle": version,
            "command": "tshark -n -r %s %s-Y amqp -T fields -e amqp.method.class "
                       "-e amqp.method.method" % (name, "".join(a + " " for a in decode_as(p))),
            "methods": counts,
            "total_methods": sum(counts.values()),
            "content_methods": sum(v for k, v in counts.items() if k in CONTENT),
        }
        out = os.path.join(outdir, os.path.splitext(name)[0] + ".amqp-counts.json")
        with open(out, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=False)
            f.write("\n")
        print("%s: %d methods, %d content" % (name, doc["total_methods"], doc["content_methods"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
