"""--report-interval and the JSON report (issue 18, points 4 and 7).

The capture is fed through a pipe in slices with pauses, so interval reports
come while it is read. With -j -q every report is a JSON document on stdout:
the interval ones ("type": "interval_report") hold only their interval's
operations, and with the final report's they add up to the truth; each
carries "since_start" (running totals), never fewer than the interval.
Timestamps in the JSON report keep their microseconds: first_ts equals the
first packet's time and slowest[].ts the NDJSON record's ts, to the
microsecond."""
import json
import os
import subprocess
import threading
import time

from common import BIN, PCAPS, Checker, ndjson, run, truth

PCAP = os.path.join(PCAPS, "errors.pcap")


def documents(text):
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        doc, i = dec.raw_decode(text, i)
        out.append(doc)


def slow_feed(pipe, data, slices=12, pause=0.15):
    step = len(data) // slices + 1
    try:
        for k in range(0, len(data), step):
            pipe.write(data[k:k + step])
            pipe.flush()
            time.sleep(pause)
    finally:
        pipe.close()


def main():
    c = Checker("report_interval")
    with open(PCAP, "rb") as f:
        data = f.read()
    r, w = os.pipe()
    p = subprocess.Popen([BIN, "-r", "-", "-j", "-q", "--report", "--report-interval", "0.2"],
                         stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(r)
    t = threading.Thread(target=slow_feed, args=(os.fdopen(w, "wb"), data))
    t.start()
    try:
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
        t.join()
    c.check(p.returncode == 0, "exit %d: %r" % (p.returncode, err[-300:]))
    c.check(b"oslotrace report" not in err and b"oslotrace report" not in out,
            "a text report came with -j: %r" % err[-300:])
    try:
        docs = documents(out.decode())
    except ValueError as e:
        docs = []
        c.check(False, "stdout is not a sequence of JSON documents: %s: %r" % (e, out[:300]))
    ivs = [d for d in docs if d.get("type") == "interval_report"]
    finals = [d for d in docs if d.get("type") == "report"]
    c.check(len(ivs) >= 2, "want at least 2 interval reports over ~1.8 s, got %d" % len(ivs))
    c.check(len(finals) == 1 and docs and docs[-1].get("type") == "report",
            "want one final report, last: %r" % [d.get("type") for d in docs])
    want = len([x for x in truth(os.path.join(PCAPS, "errors.truth.jsonl")) if x.get("in_capture", True)])
    if finals:
        final = finals[0]
        c.check(final["total"]["ops"] == want, "final report: %d ops, truth %d" % (final["total"]["ops"], want))
        summed = sum(d["total"]["ops"] for d in ivs)
        c.check(summed <= want, "interval reports count %d ops, more than the %d there are" % (summed, want))
        running = 0
        for d in ivs:
            running += d["total"]["ops"]
            c.check(d["since_start"]["ops"] == running,
                    "interval %s: since_start %d, the intervals so far add to %d"
                    % (d.get("interval"), d["since_start"]["ops"], running))
        c.check([d.get("interval") for d in ivs] == list(range(1, len(ivs) + 1)), "intervals numbered from 1")

    # Microseconds in the JSON report.
    rep = json.loads(run(["-q", "-r", PCAP, "--report", "-j"]).stdout)
    recs = ndjson(["-r", PCAP, "-j"])
    first_pkt = subprocess.run(["tshark", "-r", PCAP, "-c", "1", "-T", "fields", "-e", "frame.time_epoch"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
    if first_pkt:
        c.check(abs(rep["first_ts"] - float(first_pkt)) < 1e-6,
                "first_ts %r, first packet at %s" % (rep["first_ts"], first_pkt))
    by_msg = {r.get("msg_id"): r for r in recs}
    for s in rep["slowest"]:
        r = by_msg.get(s["msg_id"])
        if c.check(r is not None, "slowest %s not among the records" % s["msg_id"]):
            c.check(abs(s["ts"] - r["ts"]) < 1e-6, "slowest %s: ts %r, record %r" % (s["msg_id"], s["ts"], r["ts"]))
    c.finish()


if __name__ == "__main__":
    main()
