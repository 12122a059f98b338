"""Live capture for real: a private lab broker on loopback (its own port, so
it never meets another broker), oslotrace -i lo capturing, and real
oslo.messaging servers and a client (tools/lab/traffic.py) making calls and
casts. Every call the client made and completed while oslotrace ran must
appear as one ok call; SIGINT must end the capture cleanly with the report.
Skipped (exit 77, with the reason) only where live capture or the broker is
impossible here: not root, no rabbitmq-server, no oslo.messaging."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from common import BIN, SRC, Checker, TOKEN_MARKER
from lab_broker import PrivateBroker, require_live_lab



def main():
    require_live_lab(("oslo_messaging",))
    c = Checker("live")
    with PrivateBroker("live") as broker:
        run_with_broker(c, broker)
    c.finish()


def run_with_broker(c, broker):
    PORT, ENV = str(broker.port), broker.env
    ot = None
    try:
        events = os.path.join(broker.dir, "events.jsonl")
        # -w is created after the drop to nobody: a directory nobody may write to.
        wdir = tempfile.mkdtemp(prefix="oslotrace-live-w-")
        os.chmod(wdir, 0o777)
        wfile = os.path.join(wdir, "live.pcap")
        # Output to a file: an undrained pipe would block oslotrace's writes while it captures.
        out_f = tempfile.TemporaryFile()
        ot = subprocess.Popen([BIN, "-i", "lo", "--amqp-port", PORT, "-f", "tcp port " + PORT, "-j", "--report", "-w", wfile],
                              stdout=out_f, stderr=subprocess.PIPE)
        time.sleep(1.5)  # the capture is active once pcap_activate returned
        t_start = time.time()
        subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tools", "lab", "traffic.py"),
                        "--rate", "20", "--duration", "6", "--servers", "--events", events,
                        "--url", "rabbit://guest:guest@127.0.0.1:%s/" % PORT],
                       env=ENV, check=True, timeout=180, stdout=subprocess.DEVNULL)
        time.sleep(1.0)
        ot.send_signal(signal.SIGINT)
        _, err = ot.communicate(timeout=60)
        out_f.seek(0)
        out = out_f.read()
        c.check(ot.returncode == 0, "oslotrace exit %d: %s" % (ot.returncode, err[-500:]))
        records = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
        calls = {r["msg_id"]: r for r in records if r.get("type") == "call"}
        made = []
        with open(events) as f:
            for line in f:
                ev = json.loads(line)
                if ev.get("ev") == "op" and ev.get("kind") == "call" and ev.get("msg_id") \
                        and ev.get("t_start", 0) >= t_start and ev.get("outcome") == "result":
                    made.append(ev)
        c.check(len(made) >= 50, "the client made only %d calls" % len(made))
        for ev in made:
            r = calls.get(ev["msg_id"])
            if c.check(r is not None, "call %s not seen live" % ev["msg_id"]):
                c.check(r["status"] == "ok", "call %s status %s" % (ev["msg_id"], r["status"]))
                c.check(r["topic"] == ev["topic"], "call %s topic %s" % (ev["msg_id"], r["topic"]))
        # The -w file read back holds every call seen live, with the same status.
        back = subprocess.run([BIN, "-r", wfile, "-j"], stdout=subprocess.PIPE, check=True).stdout
        back_calls = {r["msg_id"]: r for r in map(json.loads, back.decode().splitlines())
                      if r.get("type") == "call"}
        for ev in made:
            r = back_calls.get(ev["msg_id"])
            c.check(r is not None and r["status"] == "ok", "call %s not in the live -w file" % ev["msg_id"])
        shutil.rmtree(wdir, ignore_errors=True)
        text = out.decode() + err.decode()
        c.check(TOKEN_MARKER not in text, "token marker in live output")
        c.check(b"packets" in err, "SIGINT printed the final counters")
        print("live: %d calls made, %d call records" % (len(made), len(calls)))
    finally:
        if ot is not None and ot.poll() is None:
            ot.kill()
            ot.wait()


if __name__ == "__main__":
    main()
