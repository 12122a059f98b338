"""contrib/prometheus: the example scrape config and the recording/alerting
rules. `promtool check config` and `promtool check rules` must pass,
`promtool test rules` must pass its unit tests (oslotrace.rules.test.yml:
timeouts rising, p99 above the threshold, kernel drops, a controller down),
and every oslotrace_* series the rules and their tests name must be one that
oslotrace really exports (read from its exposition of pcaps/errors.pcap), so
a renamed metric cannot leave the alerts silently empty.
Skipped (77) when promtool (Debian package prometheus) is missing."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from common import PCAPS, SRC, Checker, SKIP, run
from promutil import samples

DIR = os.path.join(SRC, "contrib", "prometheus")


def promtool(c, *args):
    p = subprocess.run(["promtool"] + list(args), cwd=DIR, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    c.check(p.returncode == 0, "promtool %s: %s" % (" ".join(args), p.stdout.decode()[-1500:]))


def main():
    if not shutil.which("promtool"):
        print("SKIPPED: promtool is not installed (Debian package prometheus)")
        sys.exit(SKIP)
    c = Checker("prometheus-rules")
    promtool(c, "check", "config", "prometheus.yml")
    promtool(c, "check", "rules", "oslotrace.rules.yml")
    promtool(c, "test", "rules", "oslotrace.rules.test.yml")
    tmp = tempfile.mkdtemp(prefix="oslotrace-rules-")
    try:
        path = os.path.join(tmp, "m.prom")
        run(["-r", os.path.join(PCAPS, "errors.pcap"), "-q", "--metrics-file", path])
        with open(path) as f:
            exported = {n for n, _, _ in samples(f.read())}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name in ("oslotrace.rules.yml", "oslotrace.rules.test.yml"):
        with open(os.path.join(DIR, name)) as f:
            used = set(re.findall(r"\boslotrace_[a-z0-9_]+", f.read()))
        c.check(used, "%s names no oslotrace series" % name)
        for u in sorted(used):
            c.check(u in exported, "%s uses %s, which oslotrace does not export" % (name, u))
    c.finish()


if __name__ == "__main__":
    main()
