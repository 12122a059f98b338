"""What a daemon meets in weeks of running, done for real:

1. Log rotation: live on lo against the lab's broker, with --output FILE and
   -w FILE; halfway through, both files are renamed (as logrotate does) and
   SIGHUP sent. Every call the lab's client made is in exactly one of the two
   NDJSON files, every line is whole JSON, and the two pcaps read together
   hold every call. Oracle: the client's event log.
2. A full disk: --output /dev/full while the lab makes calls. The capture goes
   on (every operation still counted in --metrics-file), every record is
   counted as lost, stderr is told at once and at the end, not per record,
   and the run exits 1.
3. An interface that goes away, in a private network namespace (unshare -n)
   with a veth pair: without --wait-iface the run ends at once with a clear
   line and exit 1; with it, oslotrace waits for an interface that does not
   exist yet, survives its deletion, captures again when it is back (packets
   sent through the peer are counted each time), keeps only CAP_NET_RAW and
   CAP_NET_ADMIN as nobody, and counts the blind time.
Skipped (77) where live capture, the lab's broker or namespaces are impossible."""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from common import BIN, SRC, Checker, skip, stop
from lab_broker import PrivateBroker, require_live_lab

TRAFFIC = os.path.join(SRC, "tools", "lab", "traffic.py")


def metrics(path):
    out = {}
    if not os.path.exists(path):
        print("no metrics file %s" % path)
        return out
    with open(path) as f:
        for line in f:
            if line.startswith("#") or "{" in line or not line.strip():
                continue
            name, value = line.split()
            out[name] = float(value)
    return out


def calls_made(events, t_start):
    made = set()
    with open(events) as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("ev") == "op" and ev.get("kind") == "call" and ev.get("msg_id") \
                    and ev.get("t_start", 0) >= t_start and ev.get("outcome") == "result":
                made.add(ev["msg_id"])
    return made


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    print("timed out waiting for " + what)
    return False


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def start_capture(args, work, name):
    err_path = os.path.join(work, name + ".err")
    errf = open(err_path, "w")
    # No terminal anywhere: SIGHUP is the daemon's "reopen your files".
    p = subprocess.Popen([BIN] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=errf)
    errf.close()
    ok = wait_for(lambda: "listening on" in read_text(err_path) or p.poll() is not None, 20,
                  name + " to listen")
    return p, err_path, ok


def rotation(c, broker, work):
    wdir = os.path.join(work, "rot")
    os.mkdir(wdir)
    os.chmod(wdir, 0o777)  # the reopen happens as nobody (-Z), like the files of a daemon's dir
    out, cap, prom = (os.path.join(wdir, n) for n in ("ops.ndjson", "cap.pcap", "m.prom"))
    events = os.path.join(work, "rot-events.jsonl")
    port = str(broker.port)
    ot, err_path, ok = start_capture(["-i", "lo", "-f", "tcp port " + port, "--amqp-port", port,
                                      "-j", "--output", out, "-w", cap, "--metrics-file", prom],
                                     work, "rotation")
    tr = None
    try:
        c.check(ok and ot.poll() is None, "rotation: oslotrace did not start: "
                + read_text(err_path)[-300:])
        t_start = time.time()
        tr = subprocess.Popen(["/usr/bin/python3", TRAFFIC, "--rate", "20", "--duration", "9",
                               "--servers", "--events", events, "--url", broker.oslo_url],
                              env=broker.env, stdout=subprocess.DEVNULL)
        # Rotate once the traffic is well under way (servers take seconds to start).
        c.check(wait_for(lambda: os.path.exists(out) and read_text(out).count("\n") >= 40, 120,
                         "records"), "rotation: no records before the rotation")
        os.rename(out, out + ".1")
        os.rename(cap, cap + ".1")
        ot.send_signal(signal.SIGHUP)
        c.check(tr.wait(timeout=180) == 0, "rotation: traffic.py failed")
        time.sleep(1.0)
        rc = stop(ot, signal.SIGINT)
    finally:
        if tr:
            stop(tr)
        stop(ot)
    err = read_text(err_path)
    c.check(rc == 0, "rotation: exit %d: %s" % (rc, err[-400:]))
    print("rotation stderr: " + err[-600:])
    made = calls_made(events, t_start)
    c.check(len(made) >= 60, "rotation: the client made only %d calls" % len(made))
    seen = {}
    lines = 0
    for path in (out + ".1", out):
        if not c.check(os.path.exists(path), "rotation: %s missing after SIGHUP" % path):
            continue
        n = 0
        with open(path) as f:
            for line in f:
                lines += 1
                n += 1
                try:
                    rec = json.loads(line)
                except ValueError:
                    c.check(False, "rotation: a cut line in %s: %r" % (path, line[:80]))
                    continue
                if rec.get("type") == "call":
                    c.check(rec["msg_id"] not in seen, "rotation: call %s in both files"
                            % rec["msg_id"])
                    seen[rec["msg_id"]] = rec
        c.check(n > 20, "rotation: %s holds only %d records (the rotation split nothing)"
                % (path, n))
    missing = [m for m in made if m not in seen]
    c.check(not missing, "rotation: %d of %d calls in neither file, e.g. %s"
            % (len(missing), len(made), missing[:2]))
    bad = [m for m in made if m in seen and seen[m]["status"] != "ok"]
    c.check(not bad, "rotation: calls not ok: %s" % bad[:3])
    m = metrics(prom)
    c.check(m.get("oslotrace_output_reopens_total") == 1, "rotation: output_reopens %s"
            % m.get("oslotrace_output_reopens_total"))
    c.check(m.get("oslotrace_pcap_reopens_total") == 1, "rotation: pcap_reopens %s"
            % m.get("oslotrace_pcap_reopens_total"))
    c.check(m.get("oslotrace_output_records_total") == lines,
            "rotation: output_records %s, lines in the files %d"
            % (m.get("oslotrace_output_records_total"), lines))
    c.check(m.get("oslotrace_output_write_failures_total") == 0, "rotation: write failures")
    # The two pcaps read together hold every call, whole.
    back = subprocess.run([BIN, "-r", cap + ".1", "-r", cap, "-j"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    c.check(back.returncode == 0, "rotation: -r of the two pcaps: %s" % back.stderr[-300:])
    back_ok = {r["msg_id"] for r in map(json.loads, back.stdout.decode().splitlines())
               if r.get("type") == "call" and r.get("status") == "ok"}
    missing = [m for m in made if m not in back_ok]
    c.check(not missing, "rotation: %d calls not ok in the two pcaps read together"
            % len(missing))
    print("rotation: %d calls made, %d records in two files" % (len(made), lines))


def hangup(c, work):
    """On a terminal SIGHUP is the terminal hanging up: the run ends, as on SIGINT
    (a capture that went on after its terminal closed would run orphaned)."""
    import pty
    master, slave = pty.openpty()
    err_path = os.path.join(work, "hangup.err")
    with open(err_path, "w") as errf:
        p = subprocess.Popen([BIN, "-i", "lo", "-f", "tcp port 9", "-j"], stdin=slave,
                             stdout=subprocess.DEVNULL, stderr=errf)
    os.close(slave)
    try:
        wait_for(lambda: "listening on" in read_text(err_path) or p.poll() is not None, 20,
                 "hangup to listen")
        p.send_signal(signal.SIGHUP)
        c.check(wait_for(lambda: p.poll() is not None, 10, "the end"),
                "hangup: still running 10 s after SIGHUP on a terminal")
    finally:
        stop(p)
        os.close(master)


def disk_full(c, broker, work):
    prom = os.path.join(work, "full.prom")
    events = os.path.join(work, "full-events.jsonl")
    port = str(broker.port)
    ot, err_path, ok = start_capture(["-i", "lo", "-f", "tcp port " + port, "--amqp-port", port,
                                      "-j", "--output", "/dev/full", "--metrics-file", prom,
                                      "-Z", "root"], work, "full")
    try:
        c.check(ok and ot.poll() is None, "full: oslotrace did not start: "
                + read_text(err_path)[-300:])
        t_start = time.time()
        subprocess.run(["/usr/bin/python3", TRAFFIC, "--rate", "20", "--duration", "5",
                        "--servers", "--events", events, "--url", broker.oslo_url],
                       env=broker.env, stdout=subprocess.DEVNULL, check=True, timeout=180)
        time.sleep(1.0)
        c.check(ot.poll() is None, "full: the capture stopped when its output failed")
        rc = stop(ot, signal.SIGINT)
    finally:
        stop(ot)
    err = read_text(err_path)
    c.check(rc == 1, "full: exit %d with every record lost (want 1)" % rc)
    told = [l for l in err.splitlines() if "cannot write --output /dev/full" in l]
    c.check(1 <= len(told) <= 2, "full: stderr told %d times in a few seconds (want at once "
            "and at the end): %s" % (len(told), told[:3]))
    c.check(all("No space left on device" in l for l in told), "full: reason not said: %s"
            % told[:1])
    made = calls_made(events, t_start)
    m = metrics(prom)
    c.check(m.get("oslotrace_calls_total", 0) >= len(made) >= 40,
            "full: %s calls counted, %d made" % (m.get("oslotrace_calls_total"), len(made)))
    c.check(m.get("oslotrace_output_write_failures_total") == m.get(
        "oslotrace_output_records_total") and m.get("oslotrace_output_records_total", 0) >= len(made),
        "full: %s records, %s failures" % (m.get("oslotrace_output_records_total"),
                                            m.get("oslotrace_output_write_failures_total")))
    if told:
        n = int(re.search(r"; (\d+) records? lost", told[-1]).group(1))
        c.check(n == m.get("oslotrace_output_write_failures_total"),
                "full: the last line says %d lost, the counter %s" %
                (n, m.get("oslotrace_output_write_failures_total")))


# ---- 3. the interface, inside `unshare -n` ----

def sh(*args):
    subprocess.run(["ip"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def veth(name, peer):
    sh("link", "add", name, "type", "veth", "peer", "name", peer)
    sh("link", "set", name, "up")
    sh("link", "set", peer, "up")


def inject(peer, n):
    """n TCP segments to port 5672 sent out of `peer`: they arrive on its twin."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((peer, 0))
    eth = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0,
                     bytes([10, 9, 9, 1]), bytes([10, 9, 9, 2]))
    for i in range(n):
        tcp = struct.pack("!HHIIBBHHH", 40000, 5672, 1000 + i, 0, 0x50, 0x02, 65535, 0, 0)
        s.send(eth + ip + tcp)
    s.close()


def caps(pid):
    st = read_text("/proc/%d/status" % pid)
    uid = int(re.search(r"^Uid:\s+(\d+)", st, re.M).group(1))
    eff = int(re.search(r"^CapEff:\s+([0-9a-f]+)", st, re.M).group(1), 16)
    return uid, eff


def iface_inner():
    c = Checker("daemon-habits-iface")
    work = tempfile.mkdtemp(prefix="oslotrace-iface-")
    os.chmod(work, 0o777)
    procs = []
    try:
        sh("link", "set", "lo", "up")
        # Without --wait-iface: the run ends at once, clearly, exit 1.
        veth("va", "vb")
        ot, err_path, ok = start_capture(["-i", "va", "-j"], work, "gone")
        procs.append(ot)
        c.check(ok and ot.poll() is None, "gone: did not start: " + read_text(err_path))
        sh("link", "del", "va")
        c.check(wait_for(lambda: ot.poll() is not None, 5, "the end"),
                "gone: still running 5 s after its interface went away")
        rc = stop(ot)
        err = read_text(err_path)
        c.check(rc == 1, "gone: exit %d (want 1)" % rc)
        c.check("va: the interface went away" in err and "--wait-iface" in err,
                "gone: message: %r" % err[-300:])
        # --wait-iface: an interface that does not exist yet, goes, comes back.
        prom = os.path.join(work, "wait.prom")
        err_path = os.path.join(work, "wait.err")
        with open(err_path, "w") as errf:
            ot = subprocess.Popen([BIN, "-i", "vc", "--wait-iface", "-j", "--metrics-file", prom],
                                  stdout=subprocess.DEVNULL, stderr=errf)
        procs.append(ot)
        c.check(wait_for(lambda: "waiting for interface vc to appear" in read_text(err_path),
                         5, "the wait"), "wait: no 'waiting' line: %r" % read_text(err_path))
        time.sleep(0.5)
        c.check(ot.poll() is None, "wait: gave up on a missing interface")
        veth("vc", "vd")
        c.check(wait_for(lambda: "listening on vc" in read_text(err_path), 10, "listening"),
                "wait: did not start on vc: %r" % read_text(err_path))
        # "listening" is printed before the outputs open and the privileges drop.
        wait_for(lambda: caps(ot.pid)[0] != 0, 10, "the privilege drop")
        uid, eff = caps(ot.pid)
        c.check(uid == 65534 and eff == (1 << 12) | (1 << 13),
                "wait: runs as uid %d with capabilities %#x (want nobody, NET_RAW|NET_ADMIN)"
                % (uid, eff))
        time.sleep(0.3)
        inject("vd", 5)
        time.sleep(0.5)
        sh("link", "del", "vc")
        c.check(wait_for(lambda: "vc went away; waiting" in read_text(err_path), 5, "away"),
                "wait: no 'went away' line: %r" % read_text(err_path))
        time.sleep(0.5)
        c.check(ot.poll() is None, "wait: ended when vc went away")
        veth("vc", "vd")
        c.check(wait_for(lambda: "vc is back" in read_text(err_path), 10, "back"),
                "wait: no 'is back' line: %r" % read_text(err_path))
        time.sleep(0.3)
        inject("vd", 7)
        time.sleep(0.5)
        rc = stop(ot, signal.SIGINT)
        c.check(rc == 0, "wait: exit %d: %r" % (rc, read_text(err_path)[-300:]))
        m = metrics(prom)
        c.check(m.get("oslotrace_packets_total") == 12, "wait: %s packets counted (12 sent)"
                % m.get("oslotrace_packets_total"))
        c.check(m.get("oslotrace_iface_lost_total") == 1, "wait: iface_lost %s"
                % m.get("oslotrace_iface_lost_total"))
        c.check(m.get("oslotrace_iface_down_seconds_total", 0) >= 1, "wait: blind time %s s"
                % m.get("oslotrace_iface_down_seconds_total"))
        c.check(m.get("oslotrace_iface_down") == 0, "wait: still down at the end")
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(work, ignore_errors=True)
    c.finish()


def iface(c):
    if not shutil.which("unshare") or not shutil.which("ip"):
        print("iface: skipped (no unshare or ip)")
        return
    p = subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), "--iface"],
                       timeout=120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print(p.stdout.decode(errors="replace"))
    c.check(p.returncode == 0, "iface: the namespace part failed (exit %d)" % p.returncode)


def main():
    if "--iface" in sys.argv:
        iface_inner()
        return
    require_live_lab(("oslo_messaging",))
    c = Checker("daemon-habits")
    work = tempfile.mkdtemp(prefix="oslotrace-habits-")
    os.chmod(work, 0o755)  # the -Z user (nobody) reaches rot/ through it
    try:
        iface(c)
        hangup(c, work)
        with PrivateBroker("habits") as broker:
            rotation(c, broker, work)
            disk_full(c, broker, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
