"""Two captures with different clocks, from files and from named pipes (issue 20).

pcaps/cluster/ holds two one-sided views of one lab broker made by
tools/lab/cluster.py: every connection of the oslo clients (clients.pcap),
every connection of the servers (servers-shifted.pcap, its timestamps moved
by +4 ms), and the truth the clients and servers wrote. Checked:
  - read together, the servers' offset is estimated within 1 ms of -4 ms,
    every operation of the truth is reported right (test_truth's checks),
    queue wait and server time are never negative and fit in the latency;
  - --clock-offset by hand is applied as given, and a bad one is a usage error;
  - the same captures through named pipes (mkfifo) and through bash process
    substitution give the same records as the files with the same offsets;
  - a pipe that stays silent does not hold the others back for more than the
    merge's bounded wait: records come out while it is still open.
"""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from common import BIN, PCAPS, Checker, run
from test_cluster import check_offsets, check_times
from test_truth import check_capture

DIR = os.path.join(PCAPS, "cluster")
CLIENTS = os.path.join(DIR, "clients.pcap")
SERVERS = os.path.join(DIR, "servers-shifted.pcap")
TRUTH = os.path.join(DIR, "one-sided.truth.jsonl")
NAMED = ["-r", CLIENTS, "--node-name", "clients", "-r", SERVERS, "--node-name", "servers"]
HAND = ["--clock-offset", "servers=-0.004"]


def feed(path, data, chunk=None, pause=0.0, hold=0.0):
    """Writes data into the fifo at path (opening blocks until the reader opens it)."""
    with open(path, "wb") as f:
        if chunk:
            for i in range(0, len(data), chunk):
                f.write(data[i:i + chunk])
                f.flush()
                time.sleep(pause)
        else:
            f.write(data)
            f.flush()
        time.sleep(hold)


def pipes_run(c, tmp, args_after, server_bytes, **server_feed):
    """oslotrace on two fifos fed by threads; returns (stdout lines, seconds to the first)."""
    fa, fb = os.path.join(tmp, "clients"), os.path.join(tmp, "servers")
    for f in (fa, fb):
        if os.path.exists(f):
            os.unlink(f)
        os.mkfifo(f)
    with open(CLIENTS, "rb") as f:
        ta = threading.Thread(target=feed, args=(fa, f.read()))
    tb = threading.Thread(target=feed, args=(fb, server_bytes), kwargs=server_feed)
    ta.start()
    tb.start()
    t0 = time.monotonic()
    p = subprocess.Popen([BIN, "-r", fa, "--node-name", "clients", "-r", fb, "--node-name",
                          "servers"] + args_after + ["-j"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    lines, first = [], None
    try:
        for line in p.stdout:
            if first is None:
                first = time.monotonic() - t0
            lines.append(line.decode())
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        ta.join(30)
        tb.join(30)
    c.check(p.returncode == 0, "fifo run exited %s: %s" % (p.returncode, p.stderr.read()[:300]))
    return lines, first


def main():
    c = Checker("cluster_pipes")
    # Estimated from the traffic.
    check_capture(c, "one-sided", CLIENTS, TRUTH, NAMED[2:])
    recs = [json.loads(x) for x in run(NAMED + ["-j"]).stdout.decode().splitlines()]
    check_times(c, "one-sided", recs)
    rep = json.loads(run(NAMED + ["-q", "--report", "-j"]).stdout)
    check_offsets(c, "one-sided", rep, {"clients": 0.0, "servers": 0.004}, "clients")
    for k in rep["clocks"]:
        if k["how"] != "estimated":
            continue
        big = k["uncertainty_ms"] > 0.25 * k["cross_node_p50_ms"]
        c.check((k["warning"] is not None) == big, "%s: warning %r for ±%r ms vs median %r ms"
                % (k["node"], k["warning"], k["uncertainty_ms"], k["cross_node_p50_ms"]))
    # A capture that shares no message with the other: its clock is unknown, said so.
    other = json.loads(run(["-r", CLIENTS, "-r", os.path.join(PCAPS, "basic.pcap"), "-q",
                            "--report", "-j"]).stdout)
    k = other["clocks"][1]
    c.check(k["how"] == "unknown" and k["uncertainty_ms"] is None and k["offset_ms"] == 0
            and k["cross_node_latencies"] == 0, "unrelated capture's clock %r" % k)

    # By hand, and by a wrong hand.
    by_hand = run(NAMED + HAND + ["-j"]).stdout.decode().splitlines()
    check_capture(c, "one-sided by hand", CLIENTS, TRUTH, NAMED[2:] + HAND)
    for bad in (["--clock-offset", "nosuch=1"], ["--clock-offset", "servers=x"],
                ["--clock-offset", "=1"], ["--node-name", "x"]):
        args = (NAMED + bad) if bad[0] == "--clock-offset" else (bad + NAMED)
        p = run(args, check=False)
        c.check(p.returncode == 2, "%s: exit %d, want 2" % (bad, p.returncode))

    tmp = tempfile.mkdtemp(prefix="oslotrace-pipes-")
    try:
        with open(SERVERS, "rb") as f:
            sbytes = f.read()
        # Named pipes, the servers' trickling in small pieces.
        lines, _ = pipes_run(c, tmp, HAND, sbytes, chunk=4096, pause=0.01)
        c.check(lines == [x + "\n" for x in by_hand],
                "fifo records differ from the files' (%d vs %d lines)" % (len(lines), len(by_hand)))
        # A silent pipe (its header only, open for 4 s) holds the other back at most ~1 s.
        lines, first = pipes_run(c, tmp, [], sbytes[:24], hold=4.0)
        c.check(first is not None and first < 3.0,
                "first record after %r s with a silent pipe open for 4 s" % first)
        c.check(len(lines) > 10, "only %d records from the clients' pipe" % len(lines))
        # bash process substitution, as in docs/cluster.md.
        if shutil.which("bash"):
            cmd = ('"$0" -r <(cat "$1") --node-name clients -r <(cat "$2") --node-name servers '
                   '--clock-offset servers=-0.004 -j')
            p = subprocess.run(["bash", "-c", cmd, BIN, CLIENTS, SERVERS], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120)
            c.check(p.returncode == 0 and p.stdout.decode().splitlines() == by_hand,
                    "process substitution: exit %d, %d lines vs %d: %s"
                    % (p.returncode, len(p.stdout.splitlines()), len(by_hand), p.stderr[:200]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
