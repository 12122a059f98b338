"""Issue 18 point 17: an empty file (or empty stdin) is one clear line, not
libpcap's "truncated dump file; tried to read 4 file header bytes"; a gzip'd
capture (pcap or pcapng, found by its magic whatever its name) is read
directly, with the same operations as the plain file, and -w from it works."""
import gzip
import os
import shutil
import sys
import tempfile

from common import PCAPS, Checker, run


def main():
    c = Checker("gzip_empty")
    with tempfile.TemporaryDirectory(prefix="oslotrace-gz-") as tmp:
        empty = os.path.join(tmp, "empty.pcap")
        open(empty, "wb").close()
        p = run(["-r", empty], check=False)
        err = p.stderr.decode(errors="replace")
        c.check(p.returncode == 1, "empty file: exit %d" % p.returncode)
        c.check(len(err.splitlines()) == 1 and "empty" in err and "truncated dump" not in err,
                "empty file: one clear line, got %r" % err)
        with open(empty, "rb") as f:
            p = run(["-r", "-"], check=False, stdin=f)
        err = p.stderr.decode(errors="replace")
        c.check(p.returncode == 1 and "empty" in err and "truncated dump" not in err,
                "empty stdin: exit %d, %r" % (p.returncode, err))

        for name in ("basic.pcap", "pcapng-ns.pcapng", "notifications.pcap"):
            src = os.path.join(PCAPS, name)
            plain = run(["-r", src, "-j"]).stdout
            for gzname in (name + ".gz", name + ".capture"):  # by magic, not by name
                gz = os.path.join(tmp, gzname)
                with open(src, "rb") as fi, gzip.open(gz, "wb") as fo:
                    shutil.copyfileobj(fi, fo)
                p = run(["-r", gz, "-j"], check=False)
                c.check(p.returncode == 0, "%s: exit %d %r" % (gzname, p.returncode, p.stderr))
                c.check(p.stdout == plain and plain,
                        "%s: -j differs from the plain file's" % gzname)
        gz = os.path.join(tmp, "basic.pcap.gz")
        out = os.path.join(tmp, "out.pcap")
        p = run(["-r", gz, "-q", "--topic", "compute", "-w", out], check=False)
        c.check(p.returncode == 0 and os.path.exists(out), "-w from a gzip'd file: exit %d %r"
                % (p.returncode, p.stderr))
        if not os.path.exists(out):
            c.finish()
        want = run(["-r", os.path.join(PCAPS, "basic.pcap"), "-j", "--topic", "compute"]).stdout
        got = run(["-r", out, "-j", "--topic", "compute"]).stdout
        c.check(got.count(b"\n") == want.count(b"\n") and want,
                "-w from a gzip'd file: %d operations read back, want %d"
                % (got.count(b"\n"), want.count(b"\n")))
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
