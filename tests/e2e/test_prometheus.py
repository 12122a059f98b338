"""The real Prometheus server scraping oslotrace, queried with PromQL.

oslotrace reads pcaps/concurrency.pcap (then pcaps/errors.pcap) with
--metrics-listen 127.0.0.1:0 --linger; a Prometheus of our own (Debian's
`prometheus`, on 127.0.0.1 with a probed free port, a private data dir and a
generated config) scrapes it every second. Through /api/v1/query:
- `sum by (topic, status) (oslotrace_rpc_operations_total{call_type="call"})`
  equals the calls the truth file counts per topic and status;
- `histogram_quantile(q, sum by (le) (oslotrace_rpc_call_latency_seconds_bucket))`
  for q = 0.5, 0.9 lies in a bucket consistent with the truth: the bucket's
  upper bound holds at least q of the calls' lower bounds (their server's own
  receive-to-reply time) and its lower bound less than q of their upper bounds
  (the client's call window);
- `up` is 1 and oslotrace_packets_total matches the capture.
Prometheus negotiates OpenMetrics, so this is that format read by the real
parser. `promtool check metrics` must be clean on the text exposition.
Skipped (77) when prometheus or promtool is not installed."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from common import PCAPS, Checker, SKIP, meta
from promutil import (answered_bounds, free_port, http_get, query, start_serving, stop,
                      truth_ops)

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
BUCKETS = [.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, float("inf")]


def start_prometheus(tmp, target):
    """A private Prometheus scraping target every second; (process, base URL)."""
    for _ in range(5):
        port = free_port()
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: oslotrace\n    scrape_interval: 1s\n"
                    "    static_configs:\n      - targets: ['%s']\n" % target)
        data = tempfile.mkdtemp(prefix="data-", dir=tmp)
        log = open(os.path.join(tmp, "prometheus.log"), "wb")
        p = subprocess.Popen([PROMETHEUS, "--config.file=" + cfg, "--storage.tsdb.path=" + data,
                              "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn",
                              "--log.format=logfmt"],
                             stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        url = "http://127.0.0.1:%d" % port
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None:
            try:
                if http_get(url + "/-/ready", timeout=2)[0] == 200:
                    return p, url
            except OSError:
                pass
            time.sleep(0.2)
        stop(p)  # the port was taken meanwhile, or it did not start: try another
    with open(os.path.join(tmp, "prometheus.log")) as f:
        raise AssertionError("prometheus did not start: " + f.read()[-800:])


def wait_scraped(prom, packets, timeout=60):
    """Until Prometheus holds a scrape of oslotrace after the end of the input."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = query(prom, 'oslotrace_packets_total{job="oslotrace"}')
        if r and r[0][1] == packets:
            return True
        time.sleep(0.5)
    return False


def bucket_of(x):
    for i, le in enumerate(BUCKETS):
        if x <= le:
            return i
    return len(BUCKETS) - 1


def check_capture(c, tmp, name):
    pcap = os.path.join(PCAPS, name + ".pcap")
    truth_path = os.path.join(PCAPS, name + ".truth.jsonl")
    work = tempfile.mkdtemp(prefix=name + "-", dir=tmp)
    ot, url = start_serving(["-r", pcap, "--linger"], work)
    prom = None
    try:
        status, _, text = http_get(url)
        chk = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        c.check(chk.returncode == 0, "%s: promtool check metrics: %s" % (name, chk.stdout.decode()[-500:]))
        target = url.split("//", 1)[1].split("/", 1)[0]
        prom, purl = start_prometheus(work, target)
        packets = meta(name)["capture"]["stats"]["captured"]
        if not c.check(wait_scraped(prom=purl, packets=packets),
                       "%s: prometheus never scraped oslotrace's final numbers" % name):
            return
        up = query(purl, 'up{job="oslotrace"}')
        c.check(up and up[0][1] == 1, "%s: up %r" % (name, up))
        got = {(r["topic"], r["status"]): v for r, v in
               query(purl, 'sum by (topic, status) (oslotrace_rpc_operations_total{call_type="call"})')}
        want = {(t, s): n for (ct, t, s), n in
                truth_ops(truth_path, ("call_type", "topic", "status")).items() if ct == "call"}
        c.check(got == want, "%s: calls by topic and status %r != truth %r" % (name, got, want))
        bounds = answered_bounds(truth_path)
        n = len(bounds)
        for q in (0.5, 0.9):
            r = query(purl, "histogram_quantile(%s, sum by (le) "
                            "(oslotrace_rpc_call_latency_seconds_bucket))" % q)
            if not c.check(len(r) == 1, "%s: quantile %s: %r" % (name, q, r)):
                continue
            est = r[0][1]
            b = bucket_of(est)
            upper = BUCKETS[b]
            lower = BUCKETS[b - 1] if b > 0 else 0.0
            rank = q * n
            c.check(sum(1 for lo, _ in bounds if lo <= upper) >= rank,
                    "%s: p%d=%.4fs: fewer than %.1f calls' lower bounds <= %g" % (name, q * 100, est, rank, upper))
            c.check(sum(1 for _, hi in bounds if hi <= lower) < rank,
                    "%s: p%d=%.4fs: %.1f calls' upper bounds <= %g" % (name, q * 100, est, rank, lower))
            print("%s: p%d latency %.4f s (bucket %g..%g), %d answered calls" % (name, q * 100, est, lower, upper, n))
    finally:
        if prom is not None:
            stop(prom)
        rc = stop(ot, signal.SIGINT)
    c.check(rc == 0, "%s: oslotrace --linger ended by SIGINT with %s" % (name, rc))


def main():
    for tool in (PROMETHEUS, PROMTOOL):
        if not os.access(tool, os.X_OK):
            print("SKIPPED: %s is not installed (Debian package prometheus)" % tool)
            sys.exit(SKIP)
    c = Checker("prometheus")
    tmp = tempfile.mkdtemp(prefix="oslotrace-prometheus-")
    try:
        for name in ("concurrency", "errors"):
            check_capture(c, tmp, name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
