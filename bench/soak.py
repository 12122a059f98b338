#!/usr/bin/python3
"""bench/soak.py: oslotrace as the daemon runs it, for a long time, under
steady lab traffic with connection churn; samples its RSS, its CPU and every
counter it exports, and says whether anything grows.

    bench/soak.py --minutes 60 --out bench/soak        # the soak of bench/RESULTS.md
    bench/soak.py --minutes 3 --sample 10 --churn 40   # the short one make test runs

What runs (as root, loopback only, everything stopped by its pid):
  - a private RabbitMQ (tools/lab/broker.sh on free ports, tests/e2e/lab_broker.py);
  - the lab's oslo servers host-a, host-b, listener-1 (tools/lab/server.py);
  - clients: tools/lab/traffic.py at --rate operations/s, restarted every
    --churn seconds, so its connections close and new ones (new process, new
    pid, new reply queue) open: the churn of services restarting and of
    kombu reconnecting. Two overlapping clients at a time, so the traffic
    never stops during a restart;
  - the daemon: `oslotrace -i lo -q -f "tcp port P" --metrics-listen 127.0.0.1:M`.
Every --sample seconds: VmRSS and VmHWM from /proc/PID/status, utime+stime
from /proc/PID/stat, and a scrape of /metrics (every unlabelled sample).

Verdicts, on the samples after the warm-up (the first --warmup share of the run):
  - RSS flat: (max - min) / min of VmRSS within --rss-band (5 %);
  - no table grows: every gauge's maximum over the last third is at most 1.25x
    (+16) its maximum over the middle third;
  - CPU per operation steady: the median CPU per operation of the last half
    within --cpu-band (30 %) of the first half's;
  - the operations oslotrace counted are the operations the clients issued
    (their event logs), within what the churn's cut connections explain.
Writes OUT.csv (one row per sample), OUT.md (the figures, a RESULTS.md
section) and, when gnuplot is installed, OUT.png. Exit 0 when every verdict
holds, 1 otherwise, 77 when it cannot run here.
"""
import argparse
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))

from common import free_port, stop  # noqa: E402
from lab_broker import PrivateBroker, require_live_lab  # noqa: E402

PY = "/usr/bin/python3"
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
OPS_METRICS = ("oslotrace_calls_total", "oslotrace_casts_total", "oslotrace_fanouts_total",
               "oslotrace_notifications_total")


def proc_sample(pid):
    with open("/proc/%d/status" % pid) as f:
        kv = dict(line.split(":", 1) for line in f if ":" in line)
    rss = int(kv["VmRSS"].split()[0])
    hwm = int(kv["VmHWM"].split()[0])
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / HZ  # utime, stime (fields 14, 15)
    return rss, hwm, cpu


def scrape(port):
    """Every unlabelled sample of /metrics, and which of them are gauges."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    values, gauges = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE ") and line.endswith(" gauge"):
            gauges.add(line.split()[2])
        elif line and not line.startswith("#") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values, gauges


def start_servers(work, url):
    procs = []
    for name, flag in (("host-a", "--name"), ("host-b", "--name"), ("listener-1", "--listener")):
        ready = os.path.join(work, name + ".ready")
        p = subprocess.Popen([PY, os.path.join(SRC, "tools", "lab", "server.py"), flag, name,
                              "--url", url, "--ready", ready,
                              "--events", os.path.join(work, "events-%s.jsonl" % name)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append((p, ready))
    deadline = time.time() + 120
    while not all(os.path.exists(r) for _, r in procs):
        if time.time() > deadline or any(p.poll() is not None for p, _ in procs):
            raise RuntimeError("the lab's oslo servers did not start")
        time.sleep(0.1)
    return [p for p, _ in procs]


class Churn:
    """Two traffic.py clients at rate/2 each, each living `churn` seconds,
    started half a period apart: one of them restarts every churn/2 s."""

    def __init__(self, work, url, rate, churn):
        self.work, self.url, self.rate, self.churn = work, url, rate, churn
        self.procs = []
        self.n = 0
        self.next_start = 0.0

    def tick(self, now):
        self.procs = [p for p in self.procs if p.poll() is None]
        if now >= self.next_start:
            self.n += 1
            events = os.path.join(self.work, "events-client-%d.jsonl" % self.n)
            self.procs.append(subprocess.Popen(
                [PY, os.path.join(SRC, "tools", "lab", "traffic.py"), "--url", self.url,
                 "--rate", str(self.rate / 2.0), "--duration", str(self.churn),
                 "--threads", "4", "--cast-every", "4", "--notify-every", "10",
                 "--error-every", "25", "--events", events],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self.next_start = now + self.churn / 2.0

    def stop(self):
        for p in self.procs:
            stop(p)

    def issued(self):
        """Operations the clients sent (their event logs): calls, casts, notifications."""
        n = 0
        for name in os.listdir(self.work):
            if not name.startswith("events-client-"):
                continue
            with open(os.path.join(self.work, name)) as f:
                for line in f:
                    try:
                        ev = json.loads(line)
                    except ValueError:
                        continue  # a client killed mid-line: its last line is cut
                    # an operation record (client.py's Lab) that reached the wire
                    if ev.get("kind") and ev.get("t_publish") is not None:
                        n += 1
        return n


def judge(rows, gauges, args):
    """The verdicts, as (name, ok, detail) rows."""
    out = []
    start = int(len(rows) * args.warmup)
    post = rows[start:]
    if len(post) < 4:
        return [("enough samples", False, "%d samples after warm-up" % len(post))]
    rss = [r["rss_kb"] for r in post]
    band = (max(rss) - min(rss)) / min(rss)
    out.append(("RSS flat after warm-up", band <= args.rss_band,
                "VmRSS %d..%d KiB, band %.1f %% (limit %.0f %%)"
                % (min(rss), max(rss), 100 * band, 100 * args.rss_band)))
    third = len(post) // 3
    mid, last = post[third:2 * third], post[2 * third:]
    grown = []
    for g in sorted(gauges):
        m = max(r["m"].get(g, 0) for r in mid)
        lst = max(r["m"].get(g, 0) for r in last)
        if lst > 1.25 * m + 16:
            grown.append("%s %g -> %g" % (g, m, lst))
    out.append(("no table grows", not grown,
                "; ".join(grown) if grown else "%d gauges, none grew in the last third"
                % len(gauges)))
    per_op = []
    for a, b in zip(post, post[1:]):
        dops = b["ops"] - a["ops"]
        if dops > 0:
            per_op.append((b["cpu_s"] - a["cpu_s"]) / dops)
    half = len(per_op) // 2
    if half >= 2:
        first, second = statistics.median(per_op[:half]), statistics.median(per_op[half:])
        drift = abs(second - first) / first if first > 0 else 0.0
        out.append(("CPU per operation steady", drift <= args.cpu_band,
                    "median %.1f us/op then %.1f us/op (%+.0f %%, limit %.0f %%)"
                    % (1e6 * first, 1e6 * second, 100 * (second - first) / first if first else 0,
                       100 * args.cpu_band)))
    return out


def plot(csv_path, png_path, title):
    if not shutil.which("gnuplot"):
        return False
    script = """
set terminal pngcairo size 1000,700
set output '%s'
set datafile separator ','
set multiplot layout 3,1 title '%s'
set key left top
set xlabel 'minutes'
set ylabel 'RSS (MiB)'
plot '%s' using ($1/60):($2/1024) skip 1 with lines title 'VmRSS'
set ylabel 'CPU (us/op)'
plot '%s' using ($1/60):7 skip 1 with linespoints title 'CPU per operation, per sample'
set ylabel 'operations/s'
plot '%s' using ($1/60):6 skip 1 with lines title 'operations/s', \
     '%s' using ($1/60):8 skip 1 with lines title 'AMQP connections open'
unset multiplot
""" % (png_path, title, csv_path, csv_path, csv_path, csv_path)
    subprocess.run(["gnuplot"], input=script.encode(), check=True)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--sample", type=float, default=60.0, help="seconds between samples")
    ap.add_argument("--rate", type=float, default=40.0, help="operations per second")
    ap.add_argument("--churn", type=float, default=180.0,
                    help="seconds each client process lives (one restarts every churn/2 s)")
    ap.add_argument("--warmup", type=float, default=0.2, help="share of the run left out")
    ap.add_argument("--rss-band", type=float, default=0.05)
    ap.add_argument("--cpu-band", type=float, default=0.30)
    ap.add_argument("--bin", default=os.environ.get("OSLOTRACE",
                                                   os.path.join(SRC, "build", "release",
                                                                "oslotrace")))
    ap.add_argument("--out", default=None, help="OUT.csv, OUT.md, OUT.png (default: a temp dir)")
    ap.add_argument("--extra", default="", help="more oslotrace options, split on spaces")
    args = ap.parse_args()
    require_live_lab()
    if not os.access(args.bin, os.X_OK):
        print("soak.py: %s is not built" % args.bin, file=sys.stderr)
        return 2

    work = tempfile.mkdtemp(prefix="oslotrace-soak-")
    out = args.out or os.path.join(work, "soak")
    rows, gauges, verdicts = [], set(), []
    servers, churn, daemon = [], None, None
    try:
        with PrivateBroker("soak") as broker:
            servers = start_servers(work, broker.oslo_url)
            mport = free_port()
            log = open(os.path.join(work, "oslotrace.log"), "w")
            daemon = subprocess.Popen(
                [args.bin, "-i", "lo", "-q", "-f", "tcp port %d" % broker.port,
                 "--metrics-listen", "127.0.0.1:%d" % mport] + args.extra.split(),
                stdout=subprocess.DEVNULL, stderr=log)
            deadline = time.time() + 30
            while True:
                try:
                    scrape(mport)
                    break
                except OSError:
                    if daemon.poll() is not None or time.time() > deadline:
                        raise RuntimeError("oslotrace did not start: see %s" % log.name)
                    time.sleep(0.1)
            churn = Churn(work, broker.oslo_url, args.rate, args.churn)
            t0 = time.time()
            next_sample = t0
            end = t0 + 60 * args.minutes
            prev = None
            while True:
                now = time.time()
                if daemon.poll() is not None:
                    raise RuntimeError("oslotrace exited %d mid-run: see %s"
                                       % (daemon.returncode, log.name))
                if now < end:
                    churn.tick(now)
                if now >= next_sample:
                    rss, hwm, cpu = proc_sample(daemon.pid)
                    m, g = scrape(mport)
                    gauges |= g
                    ops = sum(m.get(k, 0) for k in OPS_METRICS)
                    row = {"t": round(now - t0, 1), "rss_kb": rss, "hwm_kb": hwm,
                           "cpu_s": cpu, "ops": ops, "m": m}
                    dt = row["t"] - prev["t"] if prev else 0
                    row["ops_per_s"] = (ops - prev["ops"]) / dt if prev and dt > 0 else 0
                    row["us_per_op"] = (1e6 * (cpu - prev["cpu_s"]) / (ops - prev["ops"])
                                        if prev and ops > prev["ops"] else 0)
                    rows.append(row)
                    prev = row
                    next_sample += args.sample
                    if now >= end:
                        break
                time.sleep(min(1.0, max(0.05, next_sample - time.time())))
            churn.stop()
            time.sleep(2)  # the last replies and the connections' close reach the capture
            final, _ = scrape(mport)
            counted = sum(final.get(k, 0) for k in OPS_METRICS)
            issued = churn.issued()
            stop(daemon)
            for s in servers:
                stop(s)
    finally:
        if churn:
            churn.stop()
        if daemon:
            stop(daemon)
        for s in servers:
            stop(s)

    with open(out + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "rss_kb", "hwm_kb", "cpu_s", "ops", "ops_per_s", "us_per_op",
                    "amqp_connections_open", "pending_calls", "tcp_flows_active"])
        for r in rows:
            w.writerow([r["t"], r["rss_kb"], r["hwm_kb"], "%.2f" % r["cpu_s"], int(r["ops"]),
                        "%.1f" % r["ops_per_s"], "%.1f" % r["us_per_op"],
                        int(r["m"].get("oslotrace_amqp_connections_open", 0)),
                        int(r["m"].get("oslotrace_pending_calls", 0)),
                        int(r["m"].get("oslotrace_tcp_flows_active", 0))])
    verdicts = judge(rows, gauges, args)
    # Connections cut by the churn end their clients mid-call: a few operations
    # the client logged may not have been published, never the other way round.
    slack = max(10, int(0.01 * issued))
    verdicts.append(("operations counted = operations issued", abs(counted - issued) <= slack,
                     "oslotrace %d, clients %d (slack %d)" % (counted, issued, slack)))
    conns = final.get("oslotrace_amqp_connections_total", 0)
    png = plot(out + ".csv", out + ".png",
               "oslotrace soak: %.0f min, %.0f ops/s, a client restart every %.0f s"
               % (args.minutes, args.rate, args.churn / 2))
    with open(out + ".md", "w") as f:
        f.write("Soak (bench/soak.py --minutes %g --rate %g --churn %g --sample %g), %s, %s:\n\n"
                % (args.minutes, args.rate, args.churn, args.sample,
                   time.strftime("%Y-%m-%d"), os.uname().nodename))
        f.write("%d samples, %d operations, %d AMQP connections opened over the run; "
                "peak RSS (VmHWM) %d KiB; CPU %.1f s in all.\n\n"
                % (len(rows), counted, conns, rows[-1]["hwm_kb"], rows[-1]["cpu_s"]))
        f.write("| verdict | holds | figures |\n| --- | --- | --- |\n")
        for name, ok, detail in verdicts:
            f.write("| %s | %s | %s |\n" % (name, "yes" if ok else "NO", detail))
        if png:
            f.write("\n![soak](%s)\n" % os.path.basename(out + ".png"))
    sys.stdout.write(open(out + ".md").read())
    if not args.out:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(ok for _, ok, _ in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
