"""Flows live: oslotrace -i lo -j --flows while the lab's chain scenario
(tools/lab/chain.py: services that call, cast and notify while handling a
call, passing the context on) runs on a private broker; at SIGINT every flow
must equal the truth the services wrote — the same operations, the same
parent links, processes and worst status (the checks of test_flows.py).
Skipped (77) where the lab cannot run (not root, no rabbitmq-server, no
oslo.messaging)."""
import os
import signal
import subprocess
import sys
import time

from common import BIN, Checker, SRC, skip, truth
from lab_broker import PrivateBroker, require_live_lab
from test_flows import check_records

PY = "/usr/bin/python3"
CHAIN = os.path.join(SRC, "tools", "lab", "chain.py")


def main():
    require_live_lab(("oslo_messaging",))
    if not os.path.exists(BIN):
        skip("no binary at " + BIN)
    c = Checker("live_flows")
    with PrivateBroker("live-flows") as broker:
        run_with_broker(c, broker)
    c.finish()


def run_with_broker(c, broker):
    work, port = broker.dir, broker.port
    out_dir = os.path.join(work, "out")
    ot = None
    try:
        out_f = open(os.path.join(work, "flows.out"), "w+b")
        err_f = open(os.path.join(work, "oslotrace.err"), "w+b")
        ot = subprocess.Popen([BIN, "-i", "lo", "-f", "tcp port %d" % port, "--amqp-port",
                               str(port), "-j", "--flows"], stdout=out_f, stderr=err_f)
        time.sleep(1.5)
        # chain.py run: its services, its api client, its own tcpdump and its truth
        r = subprocess.run([PY, CHAIN, "run", "--port", str(port), "--out", out_dir, "--work",
                            os.path.join(work, "chain")], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=600)
        c.check(r.returncode == 0, "chain.py run: %s" % r.stdout.decode(errors="replace")[-500:])
        time.sleep(1.0)
        ot.send_signal(signal.SIGINT)
        ot.wait(timeout=60)
        c.check(ot.returncode == 0, "oslotrace exit %d" % ot.returncode)
        out_f.seek(0)
        import json
        records = [json.loads(line) for line in out_f.read().decode().splitlines() if line.strip()]
        ops = [t for t in truth(os.path.join(out_dir, "chain.truth.jsonl"))
               if t.get("in_capture", True)]
        c.check(len(ops) >= 50, "the chain scenario made %d operations" % len(ops))
        check_records(c, records, ops, {t["id"]: t for t in ops})
    finally:
        if ot and ot.poll() is None:
            ot.kill()
            ot.wait()


if __name__ == "__main__":
    sys.exit(main())
