"""The bad-input corpus (tests/bad/make_corpus.py plus the regression files in
tests/bad/): oslotrace must exit 0 or 1, never crash or hang, print a single
line on stderr for a file it cannot read, stay within its memory limits, and
say in its counters what it skipped or evicted. Run by both the plain and the
sanitizer build, so an ASan/UBSan report anywhere is a failure.

Each limit of docs/hardening.md is proven here from the counters of
`--report -j` (ui/report.c collect_counters) and from the peak RSS of that one
run (wait4, not RUSAGE_CHILDREN, which is a maximum over every child)."""
import glob
import json
import os
import subprocess
import sys
import tempfile

from common import BIN, SRC, Checker

# Files oslotrace cannot read at all: exit 1 and exactly one line on stderr.
# A header with a cut first record has no packet to give, so it is one too;
# truncated-24 is a valid empty capture (the header alone): exit 0.
UNREADABLE = {"empty", "text", "linktype-105", "record-4gb", "truncated-10", "truncated-30",
              "truncated-40", "truncated-57", "truncated-100"}
SANITIZER_WORDS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer")


def is_sanitized(path):
    with open(path, "rb") as f:  # gcc links libasan dynamically: look for its entry point
        data = f.read()
    return b"__asan_init" in data or b"AddressSanitizer" in data


SANITIZED = is_sanitized(BIN)
# Peak RSS bound of any one run. Under ASan/UBSan the shadow memory, the
# quarantine and the instrumented allocator add a few hundred MB.
RSS_LIMIT_MB = 1200 if SANITIZED else 200
TIMEOUT = 400 if SANITIZED else 120
BIG_FILE = 4 << 20  # the synthetic limit captures (pending-100k...)


# (file, extra arguments, what the counters must show, why)
LIMITS = [
    ("pending-100k", ["--max-pending", "1000"],
     lambda n: n["calls_evicted"] > 0 and n["pending_peak"] <= 1000 and
     n["calls_evicted"] + n["open_calls"] + n["timeouts"] >= 100000,
     "pending-call table capped at --max-pending: oldest calls evicted, counted"),
    ("topics-50k", [],
     lambda n: n["stats_overflow_ops"] > 0 and n["casts"] == 50000,
     "statistics keys capped at 10000: further topics counted in stats_overflow_ops"),
    ("orphans-20k", [],
     lambda n: n["orphan_replies"] == 20000,
     "replies without a call are counted, not kept"),
    ("replies-unknown", [],
     lambda n: n["orphan_replies"] == 50, "orphan replies counted one per msg_id"),
    ("frame-4gb", [],
     lambda n: n["amqp_oversize_frames"] + n["amqp_malformed_frames"] > 0 or n["amqp_skipped_bytes"] >= 7,
     "a frame header claiming 4 GB while hunting is rejected (its bytes skipped), never buffered"),
    ("frame-4gb-synced", [],
     lambda n: n["amqp_oversize_frames"] + n["amqp_malformed_frames"] > 0 and n["amqp_resyncs"] > 0,
     "a 4 GB frame after the protocol header is counted oversize and framing is found again"),
    ("time-backwards", [],
     lambda n: n["timestamps_backwards"] > 0 and n["calls"] == 20,
     "packets older than packet time are counted and still decoded"),
    ("table-deep", [],
     lambda n: n["amqp_malformed_frames"] > 0, "a 50000-deep field table is rejected at depth 32"),
    ("table-overrun", [],
     lambda n: n["amqp_malformed_frames"] > 0, "a table length past its frame is malformed"),
    ("json-deep", [],
     lambda n: n["oslo_malformed_json"] > 0, "50000-deep JSON is a counted decode error"),
    ("json-broken", [],
     lambda n: n["oslo_malformed_json"] >= 2 and n["oslo_not_oslo"] >= 1,
     "bodies that are not oslo JSON are counted by reason"),
    ("body-2-63", [],
     lambda n: n["amqp_contents_dropped"] > 0, "a content header declaring 2^63 bytes is dropped"),
    ("garbage-5672", [],
     lambda n: n["amqp_skipped_bytes"] > 0 and n["amqp_frames"] == 0, "random bytes are skipped"),
    ("tls-5672", [],
     lambda n: n["tls_connections"] == 1 and n["amqp_frames"] == 0,
     "TLS on 5672 is taken as TLS (its first record), never decoded as AMQP"),
    ("connections-20k", [],
     lambda n: n["tcp_flows_opened"] == 20000 and n["amqp_connections"] == 20000,
     "20000 connections tracked within the memory bound"),
    ("connections-20k", [],
     lambda n: n["tcp_flows_closed"] + n["tcp_flows_evicted"] + n["tcp_flows_idle_closed"] >= 20000,
     "every flow is closed at the end"),
    ("truncated-24", [],
     lambda n: n["packets"] == 0, "a header-only capture is a valid empty capture"),
    ("truncated-333", [],
     lambda n: n["bad_records"] == 1, "a cut last record is counted, the rest decoded"),
]


# Runs the command in a fork of a small helper and writes its peak RSS (KiB) to
# argv[1]: ru_maxrss survives fork and exec, so measuring a child of this
# (large) test process would report the test's own size.
RSS_HELPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(ru.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""


def run(args, timeout=TIMEOUT):
    """(returncode, stdout file, stderr text, peak RSS in MB) of one run."""
    out = tempfile.TemporaryFile()
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        p = subprocess.Popen([sys.executable, "-c", RSS_HELPER, rss.name, BIN] + args,
                             stdout=out, stderr=err)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            out.close()
            raise
        out.seek(0)
        err.seek(0)
        kib = rss.read().strip()
        return p.returncode, out, err.read().decode(errors="replace"), int(kib or 0) / 1024.0


def check_run(c, name, mode, rc, err, rss):
    c.check(rc in (0, 1), "%s %s: exit %d: %s" % (name, mode, rc, err[-500:]))
    c.check(not any(w in err for w in SANITIZER_WORDS), "%s %s: sanitizer: %s" % (name, mode, err[-2000:]))
    c.check(rss < RSS_LIMIT_MB, "%s %s: peak RSS %.0f MB over %d MB" % (name, mode, rss, RSS_LIMIT_MB))


def main():
    c = Checker("bad-inputs")
    out = tempfile.mkdtemp(prefix="oslotrace-bad-")
    subprocess.run([sys.executable, os.path.join(SRC, "tests", "bad", "make_corpus.py"), out],
                   check=True, stdout=subprocess.DEVNULL)
    files = sorted(glob.glob(os.path.join(out, "*.pcap")) +
                   glob.glob(os.path.join(SRC, "tests", "bad", "*.pcap*")))
    byname = {os.path.basename(p).rsplit(".", 1)[0]: p for p in files}

    for path in files:
        name = os.path.basename(path).rsplit(".", 1)[0]
        modes = (["-j"], ["--amqp", "-j"], ["--report", "-j", "--args"])
        if os.path.getsize(path) > BIG_FILE:
            modes = modes[:1]  # the limit runs below read it again; keep the test under ctest's timeout
        for mode in modes:
            try:
                rc, stdout, err, rss = run(["-q", "-r", path] + mode)
            except subprocess.TimeoutExpired:
                c.check(False, "%s %s: hung" % (name, mode))
                continue
            check_run(c, name, mode, rc, err, rss)
            if name in UNREADABLE:
                c.check(rc == 1 and len(err.strip().splitlines()) == 1,
                        "%s: want exit 1 and one stderr line, got %d %r" % (name, rc, err))
            elif mode != ["--report", "-j", "--args"]:
                c.check(rc == 0, "%s %s: a readable capture exits 0, got %d: %s" % (name, mode, rc, err[-300:]))
                for line in stdout:
                    try:
                        json.loads(line)
                    except ValueError:
                        c.check(False, "%s %s: output line is not JSON: %r" % (name, mode, line[:200]))
                        break
            stdout.close()

    # Every limit, proven by its counter (and the run's peak RSS).
    for name, extra, pred, why in LIMITS:
        path = byname.get(name)
        if not c.check(path is not None, "%s: not in the corpus" % name):
            continue
        try:
            rc, stdout, err, rss = run(["-q", "-r", path, "--report", "-j"] + extra)
        except subprocess.TimeoutExpired:
            c.check(False, "%s %s: hung" % (name, extra))
            continue
        check_run(c, name, extra, rc, err, rss)
        text = stdout.read()
        stdout.close()
        try:
            rep = json.loads(text)  # -q --report -j: the report is all of stdout
        except ValueError:
            c.check(False, "%s: -q --report -j is not one JSON document: %r" % (name, text[:200]))
            continue
        n = rep["counters"]
        try:
            ok = pred(n)
        except KeyError as e:
            ok = False
            why += " (no counter %s)" % e
        c.check(ok, "%s %s: %s; counters: %s" % (name, extra, why,
                                                 {k: v for k, v in n.items() if v}))
        print("limit %-18s rss %6.1f MB  %s" % (name, rss, why))
    c.finish()


if __name__ == "__main__":
    main()
