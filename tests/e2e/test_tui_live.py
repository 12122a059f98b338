"""oslotrace --tui -i lo on live traffic: the lab's broker, two RPC servers
and tools/lab/traffic.py calling compute and conductor while the TUI
watches. Operations must show up while the traffic runs (not only at the
end), the status line must name the interface and count packets, and once
the traffic has stopped the Topics view must count exactly the calls the
client recorded in its event log. Skipped (77) when tmux, the traffic
generator, root (live capture) or the broker is missing; the broker is
started for the test only if it was not running, and then stopped again."""
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BIN, Checker, SRC, skip  # noqa: E402
from tui_driver import TuiSession, require_tmux, rows  # noqa: E402
from lab_broker import PrivateBroker, require_live_lab  # noqa: E402

LAB = os.path.join(SRC, "tools", "lab")


def main():
    require_tmux()
    traffic = os.path.join(LAB, "traffic.py")
    if not os.path.exists(traffic):
        skip("tools/lab/traffic.py (the lab's traffic generator) is not there")
    require_live_lab(("oslo_messaging",))
    c = Checker("tui-live")
    with PrivateBroker("tui-live") as broker:
        run_with_broker(c, broker, traffic)
    c.finish()


def run_with_broker(c, broker, traffic):
    PORT = broker.port
    work = tempfile.mkdtemp(prefix="oslotrace-tui-live-")
    events = os.path.join(work, "events.jsonl")
    t = TuiSession(c, "live")
    gen = None
    try:
        # Only our broker's port: another broker on 5672 (a second test run, the
        # lab) must not leak into the counts.
        t.start(["-i", "lo", "--amqp-port", str(PORT), "-f", "tcp port %d" % PORT])
        s = t.wait_for(lambda x: "iface lo" in x, 15, "the live status line")
        time.sleep(1.0)  # the capture is open; start the traffic now
        # its own process group, so the servers it starts go with it on any failure
        gen = subprocess.Popen(["/usr/bin/python3", traffic, "--rate", "20", "--duration", "8",
                                "--servers", "--events", events, "--slow-every", "3",
                                "--url", broker.oslo_url],
                               env=broker.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
        # operations appear while the traffic runs
        s = t.wait_for(lambda x: re.search(r"\d\d:\d\d:\d\d\.\d{6} call", x), 30,
                       "live operations in the list")
        c.check(gen.poll() is None, "operations were listed before the traffic ended")
        # calls the server sleeps on (0.2 s) are listed as open while they wait
        t.wait_for(lambda x: re.search(r"call +\S+ +sleep +open", x), 15,
                   "a call still waiting for its reply, shown as open")
        c.check(re.search(r"(\d+) pkts", rows(s)[-2]) and
                int(re.search(r"(\d+) pkts", rows(s)[-2]).group(1)) > 0,
                "the status line counts packets: %r" % rows(s)[-2])
        try:
            out = gen.communicate(timeout=120)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            out = "(still running after 120 s)"
        if not c.check(gen.returncode == 0 and os.path.exists(events),
                       "traffic.py ran: %s" % out[-300:]):
            c.finish()
        time.sleep(2.0)  # the last replies through the capture and the next frame

        calls = collections.Counter()
        with open(events) as f:
            for line in f:
                ev = json.loads(line)
                if ev.get("kind") == "call":
                    calls[ev["topic"]] += 1
        c.check(sum(calls.values()) > 50, "the traffic made calls: %r" % dict(calls))
        # w, live: the selected (newest) operation's packets from the ring of
        # recent packets, read back: operations that really happened (the
        # client's own event log), the selected one complete.
        wdir = tempfile.mkdtemp(prefix="oslotrace-tui-live-w-")
        os.chmod(wdir, 0o777)  # written after the drop to nobody
        out = os.path.join(wdir, "selected.pcap")
        t.keys("1")
        t.wait_for(lambda x: re.search(r"\d\d:\d\d:\d\d\.\d{6} call", x), 10, "the Calls view")
        t.keys("w", "C-u")
        t.literal(out)
        t.keys("Enter")
        s = t.wait_for(lambda x: "wrote " in x or "ERROR" in x or "cannot" in x, 30, "w to finish")
        c.check(re.search(r"wrote [1-9]\d* packets to", s) is not None,
                "live w reports what it wrote: %r" % rows(s)[-1])
        made = {}
        with open(events) as f:
            for line in f:
                ev = json.loads(line)
                if ev.get("ev") == "op" and (ev.get("msg_id") or ev.get("unique_id")):
                    made[ev.get("msg_id") or ev.get("unique_id")] = ev
        if c.check(os.path.exists(out), "live w created %s" % out):
            p = subprocess.run([BIN, "-r", out, "-j"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
            c.check(p.returncode == 0 and recs, "the written pcap reads back: %r" % p.stderr[-200:])
            real = [r for r in recs if (r.get("msg_id") or r.get("unique_id")) in made]
            c.check(real and len(real) == len(recs),
                    "every operation in the written pcap was made by the client: %r" % recs[:2])
            c.check(any(r.get("status") == "ok" for r in recs),
                    "the written operation is complete (status ok): %r" % recs[:2])

        t.keys("3")
        s = t.wait_for(lambda x: "P99" in x, 10, "the Topics view")
        for topic, want in calls.items():
            line = [l for l in rows(s) if l.startswith(topic + " ")]
            if not c.check(line, "Topics lists %s" % topic):
                continue
            got = int(line[0].split()[1])
            c.check(got == want, "%s: %d calls shown, the client made %d" % (topic, got, want))
        t.quit(timeout=30)
        c.check(not t.alternate_on(), "q: the alternate screen is off")
    finally:
        if gen:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(gen.pid, sig)  # the generator and the servers it started
                except ProcessLookupError:
                    break
                try:
                    gen.wait(timeout=30)
                    time.sleep(1)
                except subprocess.TimeoutExpired:
                    pass
        t.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
