"""Issue 18 point 19: report rates are operations per second over the
capture's span (its first to its last packet, read here from the pcap
itself), not between a row's first and last operation (57 notifications in a
burst once showed 2016.7/s)."""
import json
import os
import re
import struct
import sys

from common import PCAPS, Checker, run


def pcap_span(path):
    """First and last packet time of a classic pcap, in seconds."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = struct.unpack(e + "I", hdr[:4])[0] == 0xA1B23C4D
        first = last = None
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, caplen, _ = struct.unpack(e + "IIII", rec)
            f.seek(caplen, 1)
            ts = sec + frac / (1e9 if nano else 1e6)
            first = ts if first is None else min(first, ts)
            last = ts if last is None else max(last, ts)
    return first, last


def rows(doc):
    yield doc["total"]
    for t in doc.get("topics", []):
        yield t
        for m in t.get("methods", []):
            yield m


def main():
    c = Checker("report_rates")
    for name in ("notifications", "errors", "basic", "diagnosis"):
        path = os.path.join(PCAPS, name + ".pcap")
        first, last = pcap_span(path)
        span = last - first
        doc = json.loads(run(["-q", "-r", path, "--report", "-j"]).stdout)
        c.check(abs(doc["first_ts"] - first) < 1e-5 and abs(doc["last_ts"] - last) < 1e-5,
                "%s: report span %.6f..%.6f, capture %.6f..%.6f"
                % (name, doc["first_ts"], doc["last_ts"], first, last))
        n = 0
        for r in rows(doc):
            n += 1
            want = r["ops"] / span
            c.check(abs(r["rate"] - want) <= 1e-6 * max(1.0, want),
                    "%s %s/%s: rate %r, want ops/capture span %r"
                    % (name, r.get("topic"), r.get("method"), r["rate"], want))
        c.check(n > 1, "%s: rows in the report" % name)
        # the text report, to its one decimal
        text = run(["-q", "-r", path, "--report"]).stdout.decode()
        m = re.search(r"^\(all\)\s+(\d+)\s+\d+\s+([\d.]+)", text, re.M)
        c.check(m and abs(float(m.group(2)) - int(m.group(1)) / span) < 0.051,
                "%s: text (all) rate %r, want %.1f" % (name, m and m.group(2),
                                                       doc["total"]["ops"] / span))
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
