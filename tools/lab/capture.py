#!/usr/bin/python3
"""tcpdump control for the lab: start it on loopback, wait until it really
listens (its stderr says "listening on"), stop it with SIGINT and read its
drop counters, so every capture's meta.json says what tcpdump saw and lost.

Used by run.py; also a CLI that captures while a command runs:
    capture.py [--nano] OUT.pcap -- COMMAND ARGS...
writes OUT.pcap and OUT.pcap.capture.json (command, counters, times).
"""
import json
import os
import re
import signal
import subprocess
import sys
import time


class Tcpdump:
    def __init__(self, path, port=5672, nano=False, iface="lo"):
        self.path = path
        self.cmd = ["tcpdump", "-i", iface, "-s", "0", "-n", "-B", "65536"]
        if nano:
            self.cmd.append("--time-stamp-precision=nano")
        self.cmd += ["-w", path, "tcp port %d" % port]
        self.proc = None
        self.info = {"cmd": " ".join(self.cmd), "file": os.path.basename(path)}

    def start(self, timeout=10):
        self.info["t_requested"] = time.time()
        self.errpath = self.path + ".stderr"
        self._err = open(self.errpath, "w+")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self._err)
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.errpath) as f:
                if "listening on" in f.read():
                    self.info["t_listen"] = time.time()
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("tcpdump did not start listening: %s" % open(self.errpath).read())

    def stop(self):
        if self.proc is None:
            return self.info
        self.info["t_stop"] = time.time()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.info["rc"] = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.info["rc"] = self.proc.wait()
        self._err.close()
        with open(self.errpath) as f:
            err = f.read()
        stats = {}
        for key, pat in (("captured", r"(\d+) packets? captured"),
                         ("received_by_filter", r"(\d+) packets? received by filter"),
                         ("dropped_by_kernel", r"(\d+) packets? dropped by kernel")):
            m = re.search(pat, err)
            if m:
                stats[key] = int(m.group(1))
        self.info["stats"] = stats
        self.info["size"] = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        os.unlink(self.errpath)
        self.proc = None
        return self.info


def main(argv):
    nano = "--nano" in argv
    argv = [a for a in argv if a != "--nano"]
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.strip().splitlines()[-2].strip(), file=sys.stderr)
        return 2
    td = Tcpdump(argv[0], nano=nano).start()
    rc = subprocess.call(argv[2:])
    time.sleep(0.3)
    info = td.stop()
    info["command_rc"] = rc
    with open(argv[0] + ".capture.json", "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
    print(json.dumps(info["stats"]))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
