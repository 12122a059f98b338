"""The command line as an operator meets it: exit codes (0 ok, 1 runtime
error, 2 usage error with one line on stderr plus a hint), -h, --version,
unreadable files, and reading a capture from stdin."""
import os
import sys
import tempfile

from common import Checker, PCAPS, run, ndjson


def main():
    c = Checker("cli")
    p = run(["-h"], check=False)
    c.check(p.returncode == 0 and b"Usage" in p.stdout, "-h exits 0 with usage")
    p = run(["--version"], check=False)
    c.check(p.returncode == 0 and b"libpcap" in p.stdout and b"jansson" in p.stdout,
            "--version names libpcap and jansson")
    for bad in (["--no-such-option"], ["-r"], ["-c", "zero", "-r", "x"], ["--status", "fine", "-r", "x"],
                ["--type", "rpc", "-r", "x"], ["--min-latency", "-3", "-r", "x"], []):
        p = run(bad, check=False)
        err = p.stderr.decode()
        c.check(p.returncode == 2, "%s: exit %d, want 2" % (bad, p.returncode))
        c.check(err.startswith("oslotrace: ") and "-h" in err, "%s: stderr %r" % (bad, err))
    p = run(["-r", "/nonexistent/file.pcap"], check=False)
    c.check(p.returncode == 1 and b"/nonexistent/file.pcap" in p.stderr,
            "unreadable file: exit 1 naming it (%d %r)" % (p.returncode, p.stderr))
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(b"this is not a capture file\n" * 10)
        f.flush()
        p = run(["-r", f.name], check=False)
        c.check(p.returncode == 1 and len(p.stderr.decode().strip().splitlines()) == 1,
                "text file: exit 1 with one line (%d %r)" % (p.returncode, p.stderr))
    basic = os.path.join(PCAPS, "basic.pcap")
    if os.path.exists(basic):
        direct = ndjson(["-r", basic, "-j"])
        with open(basic, "rb") as f:
            p = run(["-r", "-", "-j"], stdin=f)
        piped = [l for l in p.stdout.decode().splitlines() if l.strip()]
        c.check(len(piped) == len(direct) and len(direct) > 0,
                "-r - reads stdin: %d vs %d records" % (len(piped), len(direct)))
        few = ndjson(["-r", basic, "-j", "-c", "50"])
        c.check(len(few) < len(direct), "-c 50 stops early (%d vs %d)" % (len(few), len(direct)))
    c.finish()


if __name__ == "__main__":
    main()
