#!/usr/bin/env python3
"""test_amqp_counts.py: `oslotrace -r F --amqp -j` decodes the same AMQP methods as tshark.

For every capture with a tests/expected/<name>.amqp-counts.json (tshark's counts, written by
tools/tshark_amqp_counts.py), the per-method counts of our --amqp NDJSON must equal tshark's;
on captures that start inside a connection or a frame, or lost packets ("mid", "cut",
"lossy"), at least tshark's for every method, and on "cut" strictly more content methods
(tshark loses the stream where the capture starts mid-frame; we resynchronise). Every line
must carry the documented fields (docs/json.md) and no SASL response in clear.
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

CONTENT = ("basic.publish", "basic.deliver", "basic.get-ok", "basic.return")
REQUIRED = ("schema", "type", "ts", "client", "broker", "dir", "channel", "method")


def main():
    if not os.path.exists(common.BIN):
        print("no binary at", common.BIN)
        return common.SKIP
    expdir = os.path.join(common.SRC, "tests", "expected")
    ck = common.Checker("amqp_counts")
    seen = 0
    for path in sorted(os.listdir(common.PCAPS)):
        if not path.endswith((".pcap", ".pcapng")):
            continue
        name = path.rsplit(".", 1)[0]
        exp_path = os.path.join(expdir, name + ".amqp-counts.json")
        if not os.path.exists(exp_path):
            continue
        seen += 1
        with open(exp_path) as f:
            exp = json.load(f)
        theirs = exp["methods"]
        if not ck.check(exp.get("capture_bytes") == os.path.getsize(
                os.path.join(common.PCAPS, path)),
                "%s changed since its expected counts were written: run "
                "tools/tshark_amqp_counts.py" % path):
            continue
        p = common.run(["-r", os.path.join(common.PCAPS, path), "--amqp", "-j"],
                       check=False)
        if not ck.check(p.returncode == 0, "%s: exit %d: %s" % (
                path, p.returncode, p.stderr.decode(errors="replace")[:300])):
            continue
        ours = collections.Counter()
        incomplete = 0
        for line in p.stdout.decode().splitlines():
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                ck.check(False, "%s: not a JSON line: %r" % (path, line[:120]))
                break
            if obj.get("type") != "amqp":
                continue
            missing = [k for k in REQUIRED if k not in obj]
            ck.check(not missing, "%s: line without %s: %s" % (path, missing, line[:200]))
            ours[obj.get("method")] += 1
            if obj.get("incomplete"):
                incomplete += 1
            if obj.get("method") == "connection.start-ok":
                ck.check(obj["args"].get("response") == "***",
                         "%s: start-ok response not masked" % path)
            if obj.get("method") in CONTENT and not obj.get("incomplete"):
                ck.check("body_size" in obj and "properties" in obj,
                         "%s: content method without body_size/properties" % path)
        partial = any(k in name for k in ("mid", "cut", "lossy"))
        for method, n in sorted(theirs.items()):
            if partial:
                ck.check(ours[method] >= n, "%s: %s ours %d < tshark %d" % (
                    path, method, ours[method], n))
            else:
                ck.check(ours[method] == n, "%s: %s ours %d, tshark %d" % (
                    path, method, ours[method], n))
        if not partial:
            extra = sorted(set(ours) - set(theirs))
            ck.check(not extra, "%s: methods tshark does not see: %s" % (path, extra))
            ck.check(incomplete == 0, "%s: %d incomplete contents in a whole capture" % (
                path, incomplete))
        if "cut" in name:
            t = sum(theirs.get(m, 0) for m in CONTENT)
            o = sum(ours[m] for m in CONTENT)
            ck.check(o > t, "%s: %d content methods, tshark %d: expected strictly more" % (
                path, o, t))
    if seen == 0:
        print("no capture with an expected file")
        return common.SKIP
    ck.finish()


if __name__ == "__main__":
    sys.exit(main())
