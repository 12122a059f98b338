"""The short soak: bench/soak.py (the hour-long soak of bench/RESULTS.md) for
three minutes on this build (RSS band 10 %: three minutes hold less warm-up than an hour): the daemon on lo under steady lab traffic with a
client process restarting every 20 s. RSS must stay flat after warm-up, no
gauge (table size) may grow, CPU per operation must stay steady, and the
operations oslotrace counted must be the ones the clients issued (their event
logs). Under ASan freed memory waits in the sanitizer's quarantine, so RSS
says nothing there: the RSS verdict is left out of that build only."""
import os
import subprocess
import sys

from common import BIN, SANITIZED, SRC
from lab_broker import require_live_lab


def main():
    require_live_lab(("oslo_messaging",))
    args = [sys.executable, os.path.join(SRC, "bench", "soak.py"), "--bin", BIN,
            "--minutes", "3", "--sample", "10", "--churn", "40", "--rate", "30",
            "--warmup", "0.4", "--cpu-band", "0.5", "--rss-band", "0.10"]
    if SANITIZED:
        args[-1] = "100"
    p = subprocess.run(args, timeout=600)
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
