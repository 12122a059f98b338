"""Privilege drop of a live capture (ui/main.c, like tcpdump -Z): run as root,
oslotrace opens the device and then becomes `nobody` (or -Z USER) before it
reads a packet, after it has created its -w file; `-Z root` keeps root. The uid is read from
/proc/PID/status while the capture runs, then one connection to a listening
socket on loopback (on an --amqp-port of our own, so the default filter lets
it through) gives -c 1 its packet and the run must end with exit 0. A -w file
of a live capture is created before the drop, as root.
Skipped (77) when not root, when there is no `nobody`, or when lo cannot be
opened for capture here."""
import os
import pwd
import socket
import subprocess
import tempfile
import time

from common import BIN, Checker, skip


def ids(pid):
    """(real, effective, saved, fs uid), (gids), [groups] from /proc, or None once it exited."""
    try:
        with open("/proc/%d/status" % pid) as f:
            lines = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except (FileNotFoundError, ProcessLookupError):
        return None
    return ([int(x) for x in lines["Uid"].split()], [int(x) for x in lines["Gid"].split()],
            [int(x) for x in lines.get("Groups", "").split()])


def has_packet_socket(pid):
    """True once the capture device is open (an AF_PACKET socket among its fds)."""
    try:
        inodes = set()
        for fd in os.listdir("/proc/%d/fd" % pid):
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        with open("/proc/net/packet") as f:
            return any(line.split()[-1] in inodes for line in f.readlines()[1:])
    except OSError:
        return False


def poke(port):
    """One TCP connection to our listener on loopback: packets on the capture's filter."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"AMQP\x00\x00\x09\x01")


def start(args, port):
    return subprocess.Popen([BIN, "-i", "lo", "-c", "1", "-q", "--amqp-port", str(port)] + args,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    return None


def finish(c, what, p, port):
    """Generate traffic until -c 1 ends the capture; it must exit 0."""
    for _ in range(50):
        if p.poll() is not None:
            break
        poke(port)
        time.sleep(0.1)
    try:
        _, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        c.check(False, "%s: -c 1 did not end the capture" % what)
        return err
    c.check(p.returncode == 0, "%s: exit %d: %s" % (what, p.returncode, err.decode(errors="replace")))
    return err


def main():
    if os.geteuid() != 0:
        skip("dropping privileges is only tested when run as root")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        skip("no user 'nobody'")
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    port = lst.getsockname()[1]

    probe = start(["-Z", "root"], port)
    if not wait_for(lambda: has_packet_socket(probe.pid) or probe.poll() is not None):
        probe.kill()
    if probe.poll() is not None:
        err = probe.stderr.read().decode(errors="replace")
        skip("cannot capture on lo here: " + err.strip()[:200])
    c = Checker("privileges")

    # -Z root: once the device is open the process is still root.
    seen = ids(probe.pid)
    c.check(seen is not None and seen[0] == [0, 0, 0, 0],
            "-Z root: want uid 0 while capturing, got %r" % (seen,))
    finish(c, "-Z root", probe, port)

    # Default: nobody, every uid and gid, no supplementary root group.
    p = start([], port)
    seen = wait_for(lambda: (lambda v: v if v is None or v[0][1] != 0 else None)(ids(p.pid)) or
                    (p.poll() is not None and "exited"))
    c.check(seen not in (None, "exited"), "default: never stopped being root while it ran (%r)" % (seen,))
    if seen not in (None, "exited"):
        uids, gids, groups = seen
        c.check(uids == [nobody.pw_uid] * 4, "default: want uid %d everywhere, got %r" % (nobody.pw_uid, uids))
        c.check(gids == [nobody.pw_gid] * 4, "default: want gid %d everywhere, got %r" % (nobody.pw_gid, gids))
        c.check(0 not in groups, "default: root group kept: %r" % groups)
        c.check(has_packet_socket(p.pid), "default: the capture socket survives the drop")
    finish(c, "default", p, port)

    # -w with -i: the file is created before the drop (with the rights the
    # capture started with, so a directory only root may write works), and the
    # capture itself still runs as nobody.
    wdir = tempfile.mkdtemp(prefix="oslotrace-priv-")
    os.chmod(wdir, 0o700)
    wfile = os.path.join(wdir, "out.pcap")
    p = start(["-w", wfile], port)
    seen = wait_for(lambda: (lambda v: v if v is None or v[0][1] != 0 else None)(ids(p.pid)) or
                    (p.poll() is not None and "exited"))
    c.check(seen not in (None, "exited") and seen[0] == [nobody.pw_uid] * 4,
            "-w: want the capture to run as nobody, got %r" % (seen,))
    finish(c, "-w", p, port)
    if c.check(os.path.exists(wfile), "-w: %s was not created" % wfile):
        c.check(os.stat(wfile).st_uid == 0, "-w: file not created before the drop (uid %d)"
                % os.stat(wfile).st_uid)
        os.unlink(wfile)
    os.rmdir(wdir)

    # -Z USER names the user (here with --immediate-mode, the other way of
    # opening the device); an unknown one is a one-line error, exit 1.
    p = start(["-Z", "daemon", "--immediate-mode"], port)
    daemon = pwd.getpwnam("daemon").pw_uid if "daemon" in [u.pw_name for u in pwd.getpwall()] else None
    if daemon is not None:
        seen = wait_for(lambda: (lambda v: v if v is None or v[0][1] != 0 else None)(ids(p.pid)))
        c.check(seen is not None and seen[0] == [daemon] * 4, "-Z daemon: got %r" % (seen,))
    finish(c, "-Z daemon", p, port)

    # Without -q it says where it listens, as tcpdump does.
    p = subprocess.Popen([BIN, "-i", "lo", "-c", "1", "--amqp-port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = finish(c, "no -q", p, port).decode(errors="replace")
    c.check(("listening on lo, link-type EN10MB, filter \"tcp and (port 5672 or port %d or port 5671)\""
             % port) in err,
            "no -q: want the listening line, got %r" % err)

    p = start(["-Z", "no-such-user-oslotrace"], port)
    try:
        _, err = p.communicate(timeout=20)
        lines = err.decode(errors="replace").strip().splitlines()
        c.check(p.returncode == 1 and len(lines) == 1 and "no-such-user-oslotrace" in lines[0],
                "-Z unknown user: want exit 1 and one line, got %d %r" % (p.returncode, lines))
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        c.check(False, "-Z unknown user: kept running")
    lst.close()
    c.finish()


if __name__ == "__main__":
    main()
