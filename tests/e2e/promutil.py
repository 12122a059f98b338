"""Helpers of the Prometheus tests (test_metrics.py, test_prometheus.py): read
an exposition, start oslotrace serving /metrics on a port of its own choosing,
and what the truth files say the metrics must hold.

Every process started here is ended by pid by its caller (try/finally); ports
are chosen by the kernel (port 0) or probed free, and every file lives in a
private temp dir, so two runs can share the machine."""
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from common import BIN, free_port, stop, truth  # noqa: F401 (re-exported)

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

KIND_TO_CALL_TYPE = {"call": "call", "cast": "cast", "fanout_cast": "fanout",
                     "notification": "notification"}
OUTCOME_TO_STATUS = {"result": "ok", "remote_error": "error", "timeout": "timeout", "sent": "ok"}


def samples(text):
    """[(name, {label: value}, float)] of every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def value(text, name, **labels):
    """The one sample of name with exactly these labels (None when absent)."""
    for n, ls, v in samples(text):
        if n == name and ls == labels:
            return v
    return None


def ops_by(text, keys, **match):
    """Sum of oslotrace_rpc_operations_total by the label names in keys."""
    out = {}
    for n, ls, v in samples(text):
        if n != "oslotrace_rpc_operations_total":
            continue
        if any(ls.get(k) != want for k, want in match.items()):
            continue
        k = tuple(ls[x] for x in keys)
        out[k] = out.get(k, 0) + v
    return out


def truth_ops(truth_path, keys):
    """What the truth file says oslotrace_rpc_operations_total must sum to, by
    (call_type, topic, status) projected on keys."""
    out = {}
    for t in truth(truth_path):
        if not t.get("in_capture", True):
            continue
        full = {"call_type": KIND_TO_CALL_TYPE[t["kind"]], "topic": t["topic"],
                "status": OUTCOME_TO_STATUS[t["outcome"]]}
        k = tuple(full[x] for x in keys)
        out[k] = out.get(k, 0) + 1
    return out


def answered_bounds(truth_path):
    """For every answered call: (lower, upper) bounds of its latency on the wire.
    The server's own receive-to-reply time is a lower bound (it received the
    request after the broker delivered it and replied before the reply was
    published); the client's t_start..t_end window an upper bound."""
    out = []
    for t in truth(truth_path):
        if t["kind"] != "call" or t["outcome"] not in ("result", "remote_error"):
            continue
        if not t.get("in_capture", True):
            continue
        lo = 0.0
        if t.get("server_recv") and t.get("server_reply"):
            lo = max(0.0, t["server_reply"][-1]["t"] - t["server_recv"][0]["t"])
        out.append((lo, t["t_end"] - t["t_start"]))
    return out


def http_get(url, accept=None, timeout=10):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def start_serving(args, workdir, wait_for_end=True, wrapper=()):
    """oslotrace ARGS --metrics-listen 127.0.0.1:0 (--linger is up to args),
    stderr to a file; returns (process, metrics URL). With wait_for_end, waits
    until it says the input ended (--linger). wrapper: a command that runs
    the binary (setpriv ... --)."""
    err_path = os.path.join(workdir, "oslotrace.err")
    err = open(err_path, "wb")
    p = subprocess.Popen(list(wrapper) + [BIN] + args + ["--metrics-listen", "127.0.0.1:0"],
                         stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    url = None
    deadline = time.time() + 60
    while time.time() < deadline:
        with open(err_path, "rb") as f:
            text = f.read().decode(errors="replace")
        m = re.search(r"serving metrics on (http://\S+)", text)
        if m:
            url = m.group(1)
        if url and (not wait_for_end or "input ended" in text):
            return p, url
        if p.poll() is not None:
            raise AssertionError("oslotrace exited %s: %s" % (p.returncode, text[-500:]))
        time.sleep(0.05)
    stop(p)
    raise AssertionError("oslotrace did not start serving metrics: %s" % text[-500:])


def query(prom, expr):
    """An instant PromQL query through Prometheus's HTTP API: [(labels, value)]."""
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, _, body = http_get(url)
    doc = json.loads(body)
    if status != 200 or doc.get("status") != "success":
        raise AssertionError("query %s: %s %s" % (expr, status, body[:300]))
    return [(r["metric"], float(r["value"][1])) for r in doc["data"]["result"]]
