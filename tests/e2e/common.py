"""Shared helpers of the end-to-end tests: where the binary and the captures
are, how to run oslotrace, how to read truth files. The oracle is always what
really happened (truth files written by the lab's clients and servers, or
tshark), never a snapshot of oslotrace's own output."""
import glob
import json
import os
import signal
import subprocess
import sys

SRC = os.environ.get("OSLOTRACE_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("OSLOTRACE", os.path.join(SRC, "build", "debug", "oslotrace"))
PCAPS = os.environ.get("OSLOTRACE_PCAPS", os.path.join(SRC, "pcaps"))
sys.path.append(os.path.join(SRC, "tools", "lab"))  # after the tests own modules
from ports import free_port  # noqa: E402,F401 (the lab's, re-exported for the tests)
TOKEN_MARKER = "HARNESSFAKETOKEN"
SKIP = 77


def skip(why):
    """Ends a test as skipped (ctest's SKIP_RETURN_CODE), saying why."""
    print("SKIPPED: " + why)
    sys.exit(SKIP)


# The sanitizer build runs ~5x slower; tests that repeat many runs per capture
# may keep to the small captures there (the plain build covers them all).
SANITIZED = os.environ.get("OSLOTRACE_SANITIZED") == "1"


def captures(small_only=False):
    """(name, path, truth path) for every capture in pcaps/ that has a truth file."""
    out = []
    for path in sorted(glob.glob(os.path.join(PCAPS, "*.pcap*"))):
        if small_only and os.path.getsize(path) > 2_000_000:
            continue
        name = os.path.basename(path).split(".")[0]
        truth = os.path.join(PCAPS, name + ".truth.jsonl")
        if os.path.exists(truth):
            out.append((name, path, truth))
    return out


def run(args, check=True, stdin=None, timeout=300):
    p = subprocess.run([BIN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=stdin, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("oslotrace %s exited %d: %s" % (" ".join(args), p.returncode,
                                                             p.stderr.decode(errors="replace")))
    return p


def ndjson(args):
    p = run(args)
    return [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]


def truth(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def capture_ops(name):
    """pcaps/<name>.pcap and its truth's operations that are in the capture."""
    path = os.path.join(PCAPS, name + ".pcap")
    return path, [t for t in truth(os.path.join(PCAPS, name + ".truth.jsonl")) if t.get("in_capture", True)]


def meta(name):
    path = os.path.join(PCAPS, name + ".meta.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {}


class Checker:
    """Collects failures so one run reports all of them, then exits 1."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.checks = 0

    def check(self, cond, msg):
        self.checks += 1
        if not cond:
            self.failures.append(msg)
        return cond

    def finish(self):
        for f in self.failures[:60]:
            print("FAIL:", f)
        if len(self.failures) > 60:
            print("... and %d more" % (len(self.failures) - 60))
        print("%s: %d passed, %d failed" % (self.name, self.checks - len(self.failures),
                                            len(self.failures)))
        sys.exit(1 if self.failures else 0)


def stop(p, sig=signal.SIGTERM, timeout=30):
    """Ends a process we started, by pid; returns its exit status."""
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode
