"""Issue 18 point 21, -w like tcpdump: pcapng output with a comment naming the
filters (-F pcapng or a .pcapng name), and rotated files: -C MB (size), -G SEC
(seconds of packet time), -W N (a ring of N files). Oracle: the truth files
(the operations read back from the written files are the ones the filter
selects in the truth), the files' own headers and timestamps, and capinfos
(Wireshark's reader) when it is installed."""
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from common import PCAPS, Checker, ndjson, run, truth


def pcap_times(path):
    """Packet timestamps of a pcap (ns or us magic, this host's order)."""
    out = []
    with open(path, "rb") as f:
        magic = struct.unpack("<I", f.read(24)[:4])[0]
        div = 1e9 if magic == 0xa1b23c4d else 1e6
        while True:
            h = f.read(16)
            if len(h) < 16:
                return out
            sec, frac, caplen, _ = struct.unpack("<IIII", h)
            f.seek(caplen, 1)
            out.append(sec + frac / div)


def shb_comment(path):
    with open(path, "rb") as f:
        data = f.read(4096)
    btype, blen, bom = struct.unpack("<III", data[:12])
    if btype != 0x0A0D0D0A or bom != 0x1A2B3C4D:
        return None
    i = 24
    while i + 4 <= blen - 4:
        code, olen = struct.unpack("<HH", data[i:i + 4])
        if code == 0:
            break
        if code == 1:
            return data[i + 4:i + 4 + olen].decode()
        i += 4 + olen + (4 - olen % 4) % 4
    return ""


def ids(records):
    return sorted(r.get("msg_id") or r.get("unique_id") for r in records)


def main():
    c = Checker("write_rotate")
    tmp = tempfile.mkdtemp(prefix="oslotrace-rotate-")
    try:
        errors = os.path.join(PCAPS, "errors.pcap")
        tr = truth(os.path.join(PCAPS, "errors.truth.jsonl"))
        want_err = sorted(t["msg_id"] for t in tr if t.get("outcome") == "remote_error")
        expr = "status==error and topic==comp*"
        want_expr = sorted(t["msg_id"] for t in tr if t.get("outcome") == "remote_error"
                           and t["topic"].startswith("comp"))

        # pcapng, by name and by -F; its comment names the filters
        for name, extra in (("sel.pcapng", []), ("sel.out", ["-F", "pcapng"])):
            path = os.path.join(tmp, name)
            run(["-r", errors, "-q", "-w", path, "-Y", expr] + extra)
            with open(path, "rb") as f:
                c.check(f.read(4) == b"\x0a\x0d\x0d\x0a", "%s is pcapng" % name)
            com = shb_comment(path) or ""
            c.check(expr in com and "oslotrace" in com, "%s comment %r names the filter" % (name, com))
            c.check(ids(ndjson(["-r", path, "-j"])) == want_expr,
                    "%s read back: the truth's %d errors on comp*" % (name, len(want_expr)))
            if shutil.which("capinfos"):
                p = subprocess.run(["capinfos", "-c", path], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
                c.check(p.returncode == 0, "capinfos reads %s: %s" % (name, p.stderr.decode()))
        path = os.path.join(tmp, "plain.pcapng")
        run(["-r", errors, "-q", "-w", path, "-F", "pcap", "--status", "error"])
        with open(path, "rb") as f:
            c.check(f.read(4) == b"\x4d\x3c\xb2\xa1", "-F pcap wins over the .pcapng name")
        c.check(ids(ndjson(["-r", path, "-j"])) == want_err, "-F pcap read back")

        # -G 2: each file spans less than 2 s of packet time; together they hold every operation
        base = os.path.join(tmp, "g.pcap")
        run(["-r", errors, "-q", "-w", base, "-G", "2"])
        files = sorted(glob.glob(base + "*"), key=lambda p: (len(p), p))
        c.check(len(files) >= 3 and files[0] == base and files[1] == base + "1",
                "-G 2 on 11 s: files %s" % [os.path.basename(f) for f in files])
        for f in files:
            t = pcap_times(f)
            c.check(t and t[-1] - t[0] < 2.0, "%s spans %.2f s" % (os.path.basename(f), t[-1] - t[0]))
        args = []
        for f in files:
            args += ["-r", f]
        c.check(ids(ndjson(args + ["-j"])) == sorted(t.get("msg_id") or t["unique_id"] for t in tr),
                "-G files read together: the truth's %d operations" % len(tr))

        # -C 1: files of at most a million bytes, the whole set = the single file's operations
        conc = os.path.join(PCAPS, "concurrency.pcap")
        ctr = truth(os.path.join(PCAPS, "concurrency.truth.jsonl"))
        base = os.path.join(tmp, "c.pcapng")
        run(["-r", conc, "-q", "-w", base, "-C", "1"])
        files = sorted(glob.glob(base + "*"), key=lambda p: (len(p), p))
        c.check(len(files) >= 3, "-C 1 on a %d-byte capture: %d files" % (os.path.getsize(conc), len(files)))
        c.check(all(os.path.getsize(f) <= 1000000 for f in files),
                "-C 1: sizes %s" % [os.path.getsize(f) for f in files])
        args = []
        for f in files:
            args += ["-r", f]
        got = ids(ndjson(args + ["-j"]))
        c.check(got == sorted(t.get("msg_id") or t["unique_id"] for t in ctr if t.get("in_capture", True)),
                "-C files read together: the truth's operations (%d)" % len(got))

        # -W 2 with -C 1: a ring of two files
        base = os.path.join(tmp, "w.pcap")
        p = run(["-r", conc, "-w", base, "-C", "1", "-W", "2"])
        files = sorted(glob.glob(base + "*"))
        c.check([os.path.basename(f) for f in files] == ["w.pcap0", "w.pcap1"],
                "-W 2: %s" % [os.path.basename(f) for f in files])
        c.check("the last 2 kept" in p.stderr.decode(), "-W says the ring went round: %r" % p.stderr.decode())

        for args, msg in ((["-C", "1"], "give -w too"), (["-w", "x", "-W", "2"], "give -C or -G"),
                          (["-w", "x", "-F", "erf"], "bad -F"), (["-w", "x", "-C", "0"], "bad -C"),
                          (["-w", "x", "-G", "0.5"], "bad -G")):
            p = run(["-r", errors] + args, check=False)
            c.check(p.returncode == 2 and msg in p.stderr.decode(),
                    "%s: exit %d %r" % (args, p.returncode, p.stderr.decode()))
        c.check(not os.path.exists("x"), "a refused -w created nothing")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
