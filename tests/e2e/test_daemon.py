"""oslotrace as a daemon (contrib/oslotrace.service, docs/fleet.md).

- `systemd-analyze verify` on the unit, with ExecStart pointed at the binary
  under test (verify wants the executable to exist): exit 0 and not a word on
  stderr. A copy with a misspelt key must make it complain, so the check can
  fail.
- What the unit does, without systemd: oslotrace started as a non-root user
  (nobody) holding only CAP_NET_RAW and CAP_NET_ADMIN as ambient capabilities
  (setpriv), as DynamicUser= and AmbientCapabilities= start it. It must open
  lo, keep running as that user (its -Z drop is a no-op), serve /metrics, and
  count the packets of one connection to a listener of ours.
Each part is skipped with its reason where this container cannot run it
(no systemd-analyze; not root, no setpriv, or lo cannot be captured); the
test exits 77 only when no part could run."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from common import BIN, SRC, Checker, SKIP
from promutil import http_get, start_serving, stop, value

UNIT = os.path.join(SRC, "contrib", "oslotrace.service")


def verify(unit_text, tmp, name="oslotrace.service"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(unit_text.replace("/usr/bin/oslotrace", os.path.abspath(BIN)))
    return subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


def check_unit(c, tmp):
    if not shutil.which("systemd-analyze"):
        print("part skipped: systemd-analyze is not installed (Debian package systemd)")
        return False
    with open(UNIT) as f:
        text = f.read()
    p = verify(text, tmp)
    out = (p.stdout + p.stderr).decode(errors="replace")
    if "Failed to" in out and "oslotrace.service" not in out:
        print("part skipped: systemd-analyze cannot run here: " + out[-300:])
        return False
    c.check(p.returncode == 0 and not p.stderr.strip(),
            "systemd-analyze verify: exit %d: %s" % (p.returncode, out[-800:]))
    for needed in ("AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN", "DynamicUser=yes",
                   "Restart=on-failure", "EnvironmentFile=", " -q ", "--metrics-listen"):
        c.check(needed in text, "unit lacks %r" % needed)
    bad = verify(text.replace("Restart=on-failure", "Restrat=on-failure"), tmp, "bad.service")
    c.check(b"Restrat" in bad.stderr, "a misspelt key went unnoticed: %r" % bad.stderr[-300:])
    return True


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def check_ambient(c, tmp):
    if os.geteuid() != 0:
        print("part skipped: starting with ambient capabilities needs root to set them up")
        return False
    if not shutil.which("setpriv"):
        print("part skipped: setpriv (util-linux) is not installed")
        return False
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        print("part skipped: no user nobody")
        return False
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    os.chmod(tmp, 0o755)
    wrapper = ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
               "--clear-groups", "--inh-caps=-all,+net_raw,+net_admin",
               "--ambient-caps=-all,+net_raw,+net_admin", "--bounding-set=-all,+net_raw,+net_admin",
               "--"]
    p = None
    try:
        try:
            p, url = start_serving(["-i", "lo", "-q", "--amqp-port", str(port),
                                    "-f", "tcp port %d" % port], tmp, wait_for_end=False,
                                   wrapper=wrapper)
        except AssertionError as e:
            if "lo" in str(e) and ("permission" in str(e).lower() or "socket" in str(e).lower()):
                print("part skipped: lo cannot be captured here: %s" % e)
                return False
            raise
        st = proc_status(p.pid)
        c.check(st["Uid"].split()[:2] == [str(nobody.pw_uid)] * 2, "runs as uid %s" % st["Uid"])
        caps = int(st["CapEff"], 16)
        c.check(caps == (1 << 13) | (1 << 12), "effective capabilities %s (want net_raw, net_admin)" % st["CapEff"])
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"AMQP\x00\x00\x09\x01")
            listener.accept()[0].close()
        packets = None
        deadline = time.time() + 15
        while time.time() < deadline:
            packets = value(http_get(url)[2], "oslotrace_packets_total")
            if packets and packets >= 6:
                break
            time.sleep(0.3)
        c.check(packets is not None and packets >= 6, "packets counted as nobody: %r" % packets)
    finally:
        listener.close()
        if p is not None:
            rc = stop(p, signal.SIGTERM)
            c.check(rc == 0, "SIGTERM: exit %s" % rc)
    return True


def main():
    c = Checker("daemon")
    tmp = tempfile.mkdtemp(prefix="oslotrace-daemon-")
    try:
        ran = [check_unit(c, tmp), check_ambient(c, tmp)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not any(ran):
        print("SKIPPED: no part could run here")
        sys.exit(SKIP)
    c.finish()


if __name__ == "__main__":
    main()
