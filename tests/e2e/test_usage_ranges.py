"""Usage errors say what is valid (issue 18, points 10 and 17): --call-timeout 0
and --max-pending 0 are refused (exit 2) with the valid range in the one-line
message; a missing input names its path once; the man page no longer claims
--show-secrets shows the AMQP password, and --amqp --show-secrets indeed
never prints it."""
import os

from common import PCAPS, SRC, Checker, run


def main():
    c = Checker("usage_ranges")
    pcap = os.path.join(PCAPS, "basic.pcap")
    for opt, want in (("--call-timeout", "more than 0"), ("--max-pending", "1 to 100000000")):
        p = run(["-r", pcap, opt, "0"], check=False)
        err = p.stderr.decode(errors="replace")
        c.check(p.returncode == 2 and want in err, "%s 0: exit %d %r, want 2 and '%s'" % (opt, p.returncode, err, want))
    missing = "/nonexistent-oslotrace-dir/x.pcap"
    p = run(["-r", missing], check=False)
    err = p.stderr.decode(errors="replace")
    c.check(p.returncode == 1 and err.count(missing) == 1, "missing file: %d %r" % (p.returncode, err))
    with open(os.path.join(SRC, "docs", "oslotrace.1")) as f:
        man = f.read()
    sec = man[man.index("show\\-secrets"):][:400]
    c.check("never shown" in sec, "man: --show-secrets must say the PLAIN password is never shown")
    out = run(["-r", pcap, "--amqp", "--show-secrets"]).stdout.decode(errors="replace")
    c.check("response=***" in out, "--amqp --show-secrets: the login response is masked")
    c.finish()


if __name__ == "__main__":
    main()
