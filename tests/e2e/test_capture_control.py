"""Issue 18 point 21, capture control like tcpdump/tshark: --count-ops N stops
after N operations (those the filters let through), --duration S and
tshark's -a duration:S stop after S seconds of packet time (live: wall time
too, so a quiet network still ends), -D lists the interfaces. The oracle is
the truth files (which operations exist, when they ended on the clients),
the pcap's own first timestamp, and /sys/class/net for -D."""
import os
import struct
import subprocess
import sys
import time

from common import BIN, PCAPS, Checker, ndjson, run, truth


def first_ts(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
        sec, frac = struct.unpack("<II", f.read(8))
        return sec + frac / (1e9 if nano else 1e6)


def main():
    c = Checker("capture_control")
    pcap = os.path.join(PCAPS, "errors.pcap")
    tr = {t.get("msg_id") or t["unique_id"]: t for t in truth(os.path.join(PCAPS, "errors.truth.jsonl"))}

    for n in (1, 5, 20):
        got = ndjson(["-r", pcap, "-j", "--count-ops", str(n)])
        c.check(len(got) == n, "--count-ops %d: %d operations" % (n, len(got)))
        c.check(all((r["msg_id"] or r["unique_id"]) in tr for r in got),
                "--count-ops %d: every one is an operation of the truth" % n)
    got = ndjson(["-r", pcap, "-j", "--count-ops", "4", "-Y", "status==timeout"])
    timeouts = [t for t in tr.values() if t.get("outcome") == "timeout"]
    c.check(len(got) == 4 and all(tr[r["msg_id"]]["outcome"] == "timeout" for r in got),
            "--count-ops 4 -Y status==timeout: 4 of the truth's %d timeouts, got %d"
            % (len(timeouts), len(got)))
    p = run(["-r", pcap, "--count-ops", "3"])
    c.check("stopped after 3 operations" in p.stderr.decode(), "--count-ops says it stopped")
    everything = ndjson(["-r", pcap, "-j", "--count-ops", "100000"])
    c.check(len(everything) == len(tr), "--count-ops above the total: all %d" % len(tr))

    t0 = first_ts(pcap)
    for d in (2, 5):
        for args in (["--duration", str(d)], ["-a", "duration:%d" % d]):
            got = ndjson(["-r", pcap, "-j"] + args)
            ids = set(r["msg_id"] or r["unique_id"] for r in got)
            c.check(got and all(r["ts"] <= t0 + d for r in got),
                    "%s: every operation started in the first %d s" % (args, d))
            ended = [k for k, t in tr.items() if t["t_end"] < t0 + d - 0.2]
            c.check(ended and all(k in ids for k in ended),
                    "%s: the %d operations the truth ended in the window are all there"
                    % (args, len(ended)))
            c.check(len(got) < len(tr), "%s: fewer than the whole capture" % (args,))

    for args, msg in ((["--count-ops", "0"], "bad --count-ops"), (["--duration", "0"], "bad duration"),
                      (["-a", "packets:3"], "bad -a"), (["-a", "duration:x"], "bad duration")):
        p = run(["-r", pcap] + args, check=False)
        c.check(p.returncode == 2 and msg in p.stderr.decode(),
                "%s: exit %d %r" % (args, p.returncode, p.stderr.decode()))

    p = run(["-D"], check=False)
    out = p.stdout.decode()
    c.check(p.returncode == 0, "-D exits 0 (%d: %s)" % (p.returncode, p.stderr.decode()))
    names = [l.split(" ")[0].split(".", 1)[1] for l in out.splitlines() if "." in l.split(" ")[0]]
    for dev in sorted(os.listdir("/sys/class/net")):
        if dev in ("lo",) or os.path.exists("/sys/class/net/%s/operstate" % dev):
            c.check(dev in names, "-D lists %s: %r" % (dev, names))
    c.check(out.splitlines()[0].startswith("1."), "-D numbers the interfaces as tcpdump")

    if os.geteuid() == 0:
        # live: a capture on a quiet port ends on wall time
        start = time.time()
        p = subprocess.run([BIN, "-i", "lo", "-f", "tcp port 9", "-q", "--duration", "1.5"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        took = time.time() - start
        c.check(p.returncode == 0 and 1.4 <= took < 10,
                "live --duration 1.5 ended after %.1f s, exit %d %s" % (took, p.returncode,
                                                                        p.stderr.decode()))
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
