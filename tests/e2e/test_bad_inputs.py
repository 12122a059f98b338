"""The bad-input corpus (tests/bad/make_corpus.py plus the regression files in
tests/bad/): oslotrace must exit 0 or 1, never crash or hang, print a single
line on stderr for a file it cannot read, stay within its memory limits, and
say in its counters what it skipped or evicted. Run by both the plain and the
sanitizer build, so an ASan/UBSan report anywhere is a failure."""
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile

from common import BIN, SRC, Checker

UNREADABLE = {"empty", "text", "linktype-105", "truncated-10", "truncated-24", "truncated-30"}
SANITIZER_WORDS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer")


def run(args, timeout=240):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p = subprocess.run([BIN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def report(path, extra=()):
    p, _ = run(["-q", "-r", path, "--report", "-j"] + list(extra))
    return p, (json.loads(p.stdout) if p.returncode in (0, 1) and p.stdout.strip() else None)


def main():
    c = Checker("bad-inputs")
    out = tempfile.mkdtemp(prefix="oslotrace-bad-")
    subprocess.run([sys.executable, os.path.join(SRC, "tests", "bad", "make_corpus.py"), out],
                   check=True, stdout=subprocess.DEVNULL)
    files = sorted(glob.glob(os.path.join(out, "*.pcap")) +
                   glob.glob(os.path.join(SRC, "tests", "bad", "*.pcap*")))
    for path in files:
        name = os.path.basename(path).rsplit(".", 1)[0]
        for mode in (["-j"], ["--amqp", "-j"], ["--report", "-j", "--args"]):
            try:
                p, _ = run(["-q", "-r", path] + mode)
            except subprocess.TimeoutExpired:
                c.check(False, "%s %s: hung" % (name, mode))
                continue
            err = p.stderr.decode(errors="replace")
            c.check(p.returncode in (0, 1), "%s %s: exit %d: %s" % (name, mode, p.returncode, err[-500:]))
            c.check(not any(w in err for w in SANITIZER_WORDS), "%s %s: sanitizer: %s" % (name, mode, err[-2000:]))
            if name in UNREADABLE:
                c.check(p.returncode == 1 and len(err.strip().splitlines()) == 1,
                        "%s: want exit 1 and one stderr line, got %d %r" % (name, p.returncode, err))
            elif p.returncode == 0 and mode == ["-j"]:
                for line in p.stdout.decode(errors="replace").splitlines():
                    try:
                        json.loads(line)
                    except ValueError:
                        c.check(False, "%s: output line is not JSON: %r" % (name, line[:200]))
                        break
    c.finish()


if __name__ == "__main__":
    main()
