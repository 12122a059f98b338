"""The Prometheus sink (ui/metrics*.c) against the truth files, offline.

- --metrics-file on pcaps/errors.pcap, basic.pcap and concurrency.pcap:
  oslotrace_rpc_operations_total summed by (call_type, topic, status) equals
  what the lab's clients wrote in the truth file; the latency histogram of
  every topic counts exactly the answered calls, its buckets are cumulative
  and +Inf equals _count; every counter of the registry is exported
  (oslotrace_packets_total equals the capture's packet count from its meta
  file); the exposition carries no token.
- --metrics-max-series 2: the label sets beyond the limit fold into
  topic="other" and the totals still equal the truth; the fold is counted.
- --metrics-listen 127.0.0.1:0 --linger: /metrics serves the text format by
  default and OpenMetrics when Accept asks for it (both parsed by
  prometheus_client's strict parsers), the same numbers as the file, 404
  elsewhere, 405 for POST; SIGTERM ends the linger with exit 0.
- Usage errors: --linger without --metrics-listen, a bad listen address.
- oslotrace_rpc_call_verdicts_total on pcaps/diagnosis.pcap: calls per (topic, verdict)
  equal the causes the lab recorded in its truth file.
Skipped (77) when python3-prometheus-client is missing."""
import os
import shutil
import signal
import sys
import tempfile

from common import PCAPS, TOKEN_MARKER, Checker, SKIP, meta, run
from promutil import (answered_bounds, http_get, ops_by, samples, start_serving, stop,
                      truth_ops, value)

try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
    from prometheus_client.parser import text_string_to_metric_families as text_parse
except ImportError:
    print("SKIPPED: python3-prometheus-client is not installed")
    sys.exit(SKIP)

CAPTURES = ["errors", "basic", "concurrency"]
KEYS = ("call_type", "topic", "status")


def check_histograms(c, name, text, truth_path):
    answered = {}
    for n, ls, v in samples(text):
        if n == "oslotrace_rpc_call_latency_seconds_count":
            answered[ls["topic"]] = answered.get(ls["topic"], 0) + v
    want = {}
    for (ct, topic, status), n in truth_ops(truth_path, KEYS).items():
        if ct == "call" and status in ("ok", "error"):
            want[topic] = want.get(topic, 0) + n
    c.check(answered == want, "%s: latency _count by topic %r != truth %r" % (name, answered, want))
    c.check(len(answered_bounds(truth_path)) == sum(want.values()), "%s: truth bounds" % name)
    buckets = {}
    for n, ls, v in samples(text):
        if n.endswith("_bucket"):
            key = (n[:-7],) + tuple(sorted((k, x) for k, x in ls.items() if k != "le"))
            le = float("inf") if ls["le"] == "+Inf" else float(ls["le"])
            buckets.setdefault(key, []).append((le, v))
    for key, bs in buckets.items():
        vals = [v for _, v in bs]
        c.check(vals == sorted(vals), "%s: buckets of %s not cumulative" % (name, key))
        c.check([le for le, _ in bs] == sorted(le for le, _ in bs), "%s: le order %s" % (name, key))
        count = value(text, key[0] + "_count", **dict(key[1:]))
        c.check(bs[-1][0] == float("inf") and bs[-1][1] == count,
                "%s: +Inf %r != _count %r for %s" % (name, bs[-1], count, key))


def check_file(c, tmp, name):
    pcap = os.path.join(PCAPS, name + ".pcap")
    truth_path = os.path.join(PCAPS, name + ".truth.jsonl")
    path = os.path.join(tmp, name + ".prom")
    run(["-r", pcap, "-q", "--metrics-file", path])
    with open(path) as f:
        text = f.read()
    c.check(not [x for x in os.listdir(tmp) if ".tmp." in x], "%s: temp file left" % name)
    got = ops_by(text, KEYS)
    want = truth_ops(truth_path, KEYS)
    c.check(got == want, "%s: operations by %s %r != truth %r" % (name, KEYS, got, want))
    check_histograms(c, name, text, truth_path)
    packets = meta(name).get("capture", {}).get("stats", {}).get("captured")
    c.check(packets is not None and value(text, "oslotrace_packets_total") == packets,
            "%s: oslotrace_packets_total %r != %r" % (name, value(text, "oslotrace_packets_total"),
                                                       packets))
    c.check(value(text, "oslotrace_pending_calls") == 0, "%s: pending calls at the end" % name)
    c.check(value(text, "oslotrace_build_info", version=run(["--version"]).stdout.decode().split()[1],
                  libpcap=value_label(text, "oslotrace_build_info", "libpcap")) == 1,
            "%s: build_info" % name)
    c.check(TOKEN_MARKER not in text, "%s: a token in the exposition" % name)
    try:
        list(text_parse(text))
    except Exception as e:  # the parser's own error types vary
        c.check(False, "%s: text exposition does not parse: %s" % (name, e))
    return text


def check_verdicts(c, tmp):
    import json
    path = os.path.join(tmp, "diagnosis.prom")
    run(["-r", os.path.join(PCAPS, "diagnosis.pcap"), "-q", "--metrics-file", path])
    with open(path) as f:
        text = f.read()
    got = {}
    for n, ls, v in samples(text):
        if n == "oslotrace_rpc_call_verdicts_total":
            key = (ls["topic"], ls["verdict"])
            got[key] = got.get(key, 0) + int(v)
    want = {}
    with open(os.path.join(PCAPS, "diagnosis.truth.jsonl")) as f:
        for t in map(json.loads, f):
            if t.get("kind") == "call" and t.get("in_capture", True) and t.get("verdict"):
                key = (t["topic"], t["verdict"])
                want[key] = want.get(key, 0) + 1
    c.check(want and got == want, "diagnosis: verdicts by topic %r != truth %r" % (got, want))


def value_label(text, name, label):
    for n, ls, _ in samples(text):
        if n == name:
            return ls.get(label)
    return None


def check_folding(c, tmp):
    truth_path = os.path.join(PCAPS, "errors.truth.jsonl")
    path = os.path.join(tmp, "fold.prom")
    run(["-r", os.path.join(PCAPS, "errors.pcap"), "-q", "--metrics-file", path,
         "--metrics-max-series", "2"])
    with open(path) as f:
        text = f.read()
    sets = {(ls["exchange"], ls["topic"], ls["method"]) for n, ls, _ in samples(text)
            if n == "oslotrace_rpc_operations_total"}
    c.check(len(sets) == 3 and ("other", "other", "other") in sets,
            "fold: label sets %r (want 2 and other)" % sets)
    want_total = sum(truth_ops(truth_path, KEYS).values())
    got_total = sum(ops_by(text, KEYS).values())
    c.check(got_total == want_total, "fold: %r operations, truth %r" % (got_total, want_total))
    folded = value(text, "oslotrace_metrics_ops_folded_total")
    other = sum(v for k, v in ops_by(text, ("topic",)).items() if k == ("other",))
    evicted = value(text, "oslotrace_metrics_series_evicted_total")
    # 24 s of capture: no row is quiet for the 5-minute half-life, so nothing was evicted
    # and "other" holds exactly the operations that found the table full.
    c.check(evicted == 0, "fold: %r series evicted within 24 s" % evicted)
    c.check(folded is not None and folded > 0 and folded == other,
            "fold: ops_folded %r, in other %r" % (folded, other))
    c.check(value(text, "oslotrace_metrics_series") == 3, "fold: metrics_series gauge")


def check_http(c, tmp, file_text):
    p, url = start_serving(["-r", os.path.join(PCAPS, "errors.pcap"), "--linger"], tmp)
    try:
        status, ctype, text = http_get(url)
        c.check(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
                "http: %s %s" % (status, ctype))
        for key in (("call_type", "topic", "status"), ("topic",)):
            c.check(ops_by(text, key) == ops_by(file_text, key), "http: %s differ from the file" % (key,))
        c.check(TOKEN_MARKER not in text, "http: token in the exposition")
        list(text_parse(text))
        status, ctype, om = http_get(url, accept="application/openmetrics-text;version=1.0.0,"
                                                 "text/plain;version=0.0.4;q=0.5")
        c.check(status == 200 and ctype.startswith("application/openmetrics-text; version=1.0.0"),
                "http openmetrics: %s %s" % (status, ctype))
        c.check(om.endswith("# EOF\n"), "openmetrics: no # EOF at the end")
        try:
            fams = {f.name: f for f in om_parse(om)}
            c.check(fams.get("oslotrace_build") is not None and fams["oslotrace_build"].type == "info",
                    "openmetrics: build info family")
            c.check(fams.get("oslotrace_packets") is not None and
                    fams["oslotrace_packets"].type == "counter", "openmetrics: packets counter family")
            c.check(fams.get("oslotrace_rpc_call_latency_seconds") is not None and
                    fams["oslotrace_rpc_call_latency_seconds"].type == "histogram",
                    "openmetrics: latency histogram family")
        except Exception as e:
            c.check(False, "openmetrics exposition does not parse strictly: %s" % e)
        status, _, _ = http_get(url.replace("/metrics", "/nothing"))
        c.check(status == 404, "http: /nothing gave %s" % status)
        code = post(url)
        c.check(code == 405, "http: POST gave %s" % code)
        scrapes = value(http_get(url)[2], "oslotrace_metrics_scrapes_total")
        c.check(scrapes is not None, "http: scrapes counter exported")
    finally:
        rc = stop(p, signal.SIGTERM)
    c.check(rc == 0, "--linger ended by SIGTERM with %s" % rc)


def post(url):
    import urllib.request
    import urllib.error
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=b"x", method="POST"),
                                    timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def check_usage(c):
    pcap = os.path.join(PCAPS, "errors.pcap")
    p = run(["-r", pcap, "--linger"], check=False)
    c.check(p.returncode == 2, "--linger alone: exit %d" % p.returncode)
    p = run(["-r", pcap, "--metrics-listen", "nohost"], check=False)
    c.check(p.returncode == 1 and b"metrics-listen" in p.stderr,
            "bad listen address: exit %d %r" % (p.returncode, p.stderr[-200:]))
    p = run(["-r", pcap, "--metrics-max-series", "0"], check=False)
    c.check(p.returncode == 2, "--metrics-max-series 0: exit %d" % p.returncode)


def main():
    c = Checker("metrics")
    tmp = tempfile.mkdtemp(prefix="oslotrace-metrics-")
    try:
        texts = {name: check_file(c, tmp, name) for name in CAPTURES}
        check_folding(c, tmp)
        check_verdicts(c, tmp)
        check_http(c, tmp, texts["errors"])
        check_usage(c)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
