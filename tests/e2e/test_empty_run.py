"""Issue 18 point 13: a batch run that reports no operation says on stderr
what it saw and what to try, read from the counters: no packets at all (-f
that matches nothing), TCP without AMQP, AMQP that is no RPC, TLS without
keys, operations all filtered out, TCP gaps. -q keeps it quiet, and stdout
stays empty."""
import os
import sys
import tempfile

from common import PCAPS, Checker, run
from pcapgen import tcp_conversation, write_pcap


def stderr_of(args):
    p = run(args)
    return p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def main():
    c = Checker("empty_run")
    with tempfile.TemporaryDirectory(prefix="oslotrace-empty-") as tmp:
        http = os.path.join(tmp, "http.pcap")
        write_pcap(http, tcp_conversation(
            "10.0.0.1", "10.0.0.2", 40000, 80,
            [(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]))
        out, err = stderr_of(["-r", http])
        c.check(out == "", "non-AMQP TCP: stdout %r" % out)
        c.check("no AMQP at all" in err, "non-AMQP TCP: stderr %r says no AMQP at all" % err)
        c.check(len(err.splitlines()) in (1, 2), "non-AMQP TCP: one or two lines, got %r" % err)
        out, err = stderr_of(["-r", http, "-q"])
        c.check(err == "", "-q: stderr %r" % err)

        basic = os.path.join(PCAPS, "basic.pcap")
        out, err = stderr_of(["-r", basic, "-f", "udp"])
        c.check(out == "" and "0 packets" in err and "-f" in err,
                "-f matching nothing: stderr %r" % err)

        out, err = stderr_of(["-r", basic, "--topic", "no-such-topic"])
        c.check(out == "" and "operation filters" in err,
                "all filtered out: stderr %r" % err)

        tls = os.path.join(PCAPS, "tls.pcap")
        out, err = stderr_of(["-r", tls])
        c.check("--tls-keylog" in err and len(err.splitlines()) <= 2,
                "TLS without keys: stderr %r" % err)

        # operations found: nothing added
        out, err = stderr_of(["-r", basic])
        c.check("no operation reported" not in err, "basic: stderr %r" % err)
        lossy = os.path.join(PCAPS, "lossy.pcap")
        out, err = stderr_of(["-r", lossy, "--topic", "no-such-topic"])
        c.check("TCP gaps" in err, "lossy, all filtered: gaps said, stderr %r" % err)
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
