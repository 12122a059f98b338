"""Memcheck over a few captures, good and bad: no invalid read or write, no
use of uninitialised memory, no leak (definite or possible), in the plain
build (the sanitizer build is checked by ASan/LSan instead, and valgrind
cannot run it). Skipped (77) when valgrind is not installed or the binary
is the sanitizer build."""
import os
import shutil
import subprocess
import sys
import tempfile

from common import BIN, PCAPS, SRC, Checker, SKIP

RUNS = [
    # (corpus, file, arguments)
    ("pcaps", "basic.pcap", ["-j", "--args"]),
    ("pcaps", "compression.pcap", ["--report", "-j", "--args"]),
    ("pcaps", "cut.pcap", ["--amqp", "-j"]),
    ("pcaps", "pcapng-ns.pcapng", ["--report"]),
    ("bad", "json-deep.pcap", ["-j", "--args"]),
    ("bad", "table-deep.pcap", ["--amqp", "-j"]),
    ("bad", "frame-4gb-synced.pcap", ["--report", "-j"]),
    ("bad", "body-2-63.pcap", ["-j"]),
    ("bad", "truncated-333.pcap", ["-j"]),
    ("bad", "utf8-invalid.pcap", ["--args"]),
    ("bad", "text.pcap", ["-j"]),
]


def main():
    vg = shutil.which("valgrind")
    if not vg:
        print("SKIPPED: valgrind is not installed")
        sys.exit(SKIP)
    with open(BIN, "rb") as f:  # gcc links libasan dynamically: look for its entry point
        data = f.read()
        if b"__asan_init" in data or b"AddressSanitizer" in data:
            print("SKIPPED: the sanitizer build is checked by ASan, not valgrind")
            sys.exit(SKIP)
    c = Checker("valgrind")
    bad = tempfile.mkdtemp(prefix="oslotrace-vg-")
    subprocess.run([sys.executable, os.path.join(SRC, "tests", "bad", "make_corpus.py"), bad],
                   check=True, stdout=subprocess.DEVNULL)
    for corpus, name, args in RUNS:
        path = os.path.join(PCAPS if corpus == "pcaps" else bad, name)
        if not os.path.exists(path):
            c.check(False, "%s: missing" % path)
            continue
        p = subprocess.run([vg, "--tool=memcheck", "--error-exitcode=99", "--leak-check=full",
                            "--errors-for-leak-kinds=definite,possible", "--track-origins=yes",
                            "--quiet", BIN, "-q", "-r", path] + args,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=500)
        err = p.stderr.decode(errors="replace")
        c.check(p.returncode in (0, 1) and "==" not in err,
                "%s %s: valgrind exit %d:\n%s" % (name, args, p.returncode, err[-3000:]))
        print("valgrind %-24s %-28s exit %d" % (name, " ".join(args), p.returncode))
    c.finish()


if __name__ == "__main__":
    main()
