"""-w and the combinations a tcpdump user tries (issue 18, points 2, 3, 5, 6).

- `-r F -w F` (by the same or another name of the file) is refused with exit
  2 and F is left as it was; `-r - -w X` is refused before stdin is read.
- An unwritable -w path fails at once, exit 1, naming the path once.
- `--tui -w FILE --report` writes the file and prints the report when the TUI
  ends (tmux; skipped without it): the file read back holds every operation
  of the truth file.
- Live, as root: -w is created before the privilege drop, so a directory only
  root may write still gets the file while the capture runs as nobody
  (skipped when not root or lo cannot be captured)."""
import hashlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from common import BIN, PCAPS, Checker, ndjson, run, truth

SRC = os.path.join(PCAPS, "errors.pcap")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_refusals(c, tmp):
    copy = os.path.join(tmp, "in.pcap")
    shutil.copy(SRC, copy)
    before = digest(copy)
    for w in (copy, os.path.join(tmp, ".", "in.pcap")):
        p = run(["-r", copy, "-w", w], check=False)
        err = p.stderr.decode(errors="replace")
        c.check(p.returncode == 2, "-r F -w %s: exit %d, want 2" % (w, p.returncode))
        c.check("names an input" in err, "-r F -w F: says why: %r" % err)
    link = os.path.join(tmp, "link.pcap")
    os.symlink(copy, link)
    p = run(["-r", link, "-w", copy], check=False)
    c.check(p.returncode == 2, "-r LINK -w TARGET: exit %d, want 2" % p.returncode)
    c.check(digest(copy) == before, "-r F -w F: the input was changed")

    # -r - -w: refused before reading stdin (a pipe that never ends would hang otherwise).
    r, wfd = os.pipe()
    try:
        p = subprocess.run([BIN, "-r", "-", "-w", os.path.join(tmp, "x.pcap")], stdin=r,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        err = p.stderr.decode(errors="replace")
        c.check(p.returncode == 2 and "stdin" in err, "-r - -w: exit %d %r, want 2" % (p.returncode, err))
        c.check(not os.path.exists(os.path.join(tmp, "x.pcap")), "-r - -w: created its output anyway")
    except subprocess.TimeoutExpired:
        c.check(False, "-r - -w: read stdin instead of refusing")
    finally:
        os.close(r)
        os.close(wfd)

    bad = os.path.join(tmp, "no-such-dir", "out.pcap")
    t0 = time.monotonic()
    p = run(["-q", "-r", SRC, "-w", bad], check=False)
    err = p.stderr.decode(errors="replace").strip()
    c.check(p.returncode == 1, "-w unwritable: exit %d, want 1" % p.returncode)
    c.check(err.count(bad) == 1 and len(err.splitlines()) == 1,
            "-w unwritable: one line naming the path once: %r" % err)


def check_tui(c, tmp):
    if not shutil.which("tmux"):
        print("tmux missing: --tui -w --report not checked")
        return
    from tui_driver import TuiSession, PROMPT  # noqa: F401 (needs tmux)
    out = os.path.join(tmp, "tui.pcap")
    errf = os.path.join(tmp, "tui.err")
    t = TuiSession(c, "write-safety")
    try:
        t.literal("%s --tui -r %s -w %s --report 2>%s; echo TUI-EXIT=$?" % (BIN, SRC, out, errf))
        t.keys("Enter")
        t.wait_for(lambda s: "(end)" in s or "end of capture" in s, 60, "the TUI at the end of the file")
        t.keys("q")
        s = t.wait_for(lambda x: re.search(r"TUI-EXIT=\d+", x), 30, "the TUI to exit")
        m = re.search(r"TUI-EXIT=(\d+)", s)
        c.check(m and m.group(1) == "0", "--tui -w --report: exit %s" % (m and m.group(1)))
        c.check("Counters" in s or "calls without a reply" in s.lower(),
                "--tui --report: no report after the TUI ended:\n%s" % s)
    finally:
        t.close()
    with open(errf) as f:
        err = f.read()
    c.check(("wrote" in err and out in err), "--tui -w: no 'wrote N packets to FILE': %r" % err)
    if c.check(os.path.exists(out), "--tui -w: %s not written" % out):
        got = {(r["type"], r.get("msg_id") or r.get("unique_id")) for r in ndjson(["-r", out, "-j"])}
        want = [t for t in truth(os.path.join(PCAPS, "errors.truth.jsonl")) if t.get("in_capture", True)]
        c.check(len(got) == len(want), "--tui -w: the file holds %d operations, truth %d" % (len(got), len(want)))


def check_live_root(c, tmp):
    if os.geteuid() != 0:
        print("not root: the live -w before the privilege drop is not checked")
        return
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    port = lst.getsockname()[1]
    rootonly = os.path.join(tmp, "rootonly")
    os.mkdir(rootonly, 0o700)
    out = os.path.join(rootonly, "live.pcap")
    p = subprocess.Popen([BIN, "-i", "lo", "-c", "1", "-q", "--amqp-port", str(port), "-w", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(50):
            if p.poll() is not None:
                break
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"AMQP\x00\x00\x09\x01")
            time.sleep(0.1)
        _, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    finally:
        lst.close()
    err = err.decode(errors="replace")
    if "Operation not permitted" in err or "permission" in err.lower() and "live.pcap" not in err:
        print("cannot capture on lo here: " + err[:200])
        return
    c.check(p.returncode == 0, "live -w in a root-only directory: exit %d %r" % (p.returncode, err))
    c.check(os.path.exists(out), "live -w: %s was not created" % out)
    c.check(err.count(out) <= 1, "live -w: the path printed more than once: %r" % err)
    del nobody


def main():
    c = Checker("write_safety")
    tmp = tempfile.mkdtemp(prefix="oslotrace-wsafe-")
    try:
        check_refusals(c, tmp)
        check_tui(c, tmp)
        check_live_root(c, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
