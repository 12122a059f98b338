"""TLS (AMQPS) end to end, against the lab's truth: the TLS captures in pcaps/
(tls: TLS 1.3 AES-256-GCM and ChaCha20 plus TLS 1.2 AES-256-GCM and ChaCha20
connections, keys in tls.keys; tls-dsb: TLS 1.3 AES-128-GCM and ChaCha20 plus
TLS 1.2 AES-128-GCM and AES-128-CBC-SHA256, secrets injected in the pcapng;
tls-late: capture begun after the handshakes).

- with the key log, every truth operation is reported right (test_truth's
  checks), with the port recognised by the first record or named by
  --amqps-port; the pcapng with injected secrets needs no option;
- without keys: exit 0, no operations, one stderr line naming --tls-keylog
  and docs/tls.md; with wrong keys: failures counted, no operations;
- a capture begun after the handshakes: counted, not fatal, nothing invented;
- no secret from the key log appears in any output."""
import json
import os
import sys

from common import Checker, PCAPS, run, ndjson, truth, meta, SKIP
from test_truth import check_capture, key_of_record, key_of_truth

TLS_PORT = 25671  # the lab's AMQPS port when these captures were made


def p(name):
    return os.path.join(PCAPS, name)


def counters(args):
    r = run(args + ["-q", "--report", "-j"])
    out = r.stdout.decode()
    try:
        return json.loads(out)["counters"], r
    except (ValueError, KeyError):
        raise AssertionError("no counters in --report -j output: %r" % out[:300])


def secrets_of(path):
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and not line.startswith("#"):
                out.append(parts[2].lower())
    return out


def main():
    if not os.path.exists(p("tls.pcap")):
        print("no TLS captures")
        sys.exit(SKIP)
    c = Checker("tls")
    keys = p("tls.keys")
    # 1. Truth with the key log: port found by the first record, and named.
    check_capture(c, "tls", p("tls.pcap"), p("tls.truth.jsonl"), ["--tls-keylog", keys])
    check_capture(c, "tls", p("tls.pcap"), p("tls.truth.jsonl"),
                  ["--tls-keylog", keys, "--amqps-port", str(TLS_PORT)])
    # 2. pcapng with secrets injected: no option.
    check_capture(c, "tls-dsb", p("tls-dsb.pcapng"), p("tls-dsb.truth.jsonl"))
    cnt, _ = counters(["-r", p("tls-dsb.pcapng")])
    c.check(cnt.get("tls12_handshakes", 0) > 0 and cnt.get("tls13_handshakes", 0) > 0,
            "tls-dsb: both versions seen: %r" % cnt)
    c.check(cnt.get("tls_records_undecrypted") == 0, "tls-dsb: undecrypted records %r" % cnt)

    # 3. No keys: exit 0, no operations, the hint once.
    r = run(["-r", p("tls.pcap"), "-j"], check=False)
    err = r.stderr.decode()
    c.check(r.returncode == 0, "no keys: exit %d" % r.returncode)
    c.check(r.stdout.strip() == b"", "no keys: operations reported: %r" % r.stdout[:200])
    c.check(err.count("--tls-keylog") == 1 and "docs/tls.md" in err,
            "no keys: stderr hint missing or repeated: %r" % err)
    cnt, _ = counters(["-r", p("tls.pcap")])
    c.check(cnt["tls_connections_without_keys"] == cnt["tls_connections"] > 0,
            "no keys: counted %r" % cnt)

    # 4. Wrong keys: counted, nothing decoded, still exit 0 with a hint.
    r = run(["-r", p("tls.pcap"), "-j", "--tls-keylog", p("tls.wrong.keys")], check=False)
    c.check(r.returncode == 0 and r.stdout.strip() == b"", "wrong keys: rc %d out %r"
            % (r.returncode, r.stdout[:100]))
    c.check("docs/tls.md" in r.stderr.decode(), "wrong keys: no hint")
    cnt, _ = counters(["-r", p("tls.pcap"), "--tls-keylog", p("tls.wrong.keys")])
    c.check(cnt["tls_decryption_failures"] > 0 and cnt["tls_records_decrypted"] == 0,
            "wrong keys: %r" % cnt)

    # 5. Capture begun after the handshakes: counted, not fatal, nothing invented;
    #    connections opened during the capture are still decrypted.
    late = ["-r", p("tls-late.pcap"), "--tls-keylog", p("tls-late.keys")]
    cnt, r = counters(late)
    c.check(r.returncode == 0, "late: exit %d" % r.returncode)
    c.check(cnt["tls_without_handshake"] > 0, "late: mid-stream not counted: %r" % cnt)
    recs = ndjson(late + ["-j"])
    tkeys = {key_of_truth(t) for t in truth(p("tls-late.truth.jsonl"))}
    c.check(len(recs) > 0, "late: nothing from the connections that began in the capture")
    for rec in recs:
        c.check(key_of_record(rec) in tkeys, "late: invented %r" % (key_of_record(rec),))

    # 6. Key material never appears in any output.
    secrets = secrets_of(keys)
    for args in (["-j", "--args", "--report"], ["--amqp", "-j"], ["--report"], []):
        r = run(["-r", p("tls.pcap"), "--tls-keylog", keys] + args)
        text = (r.stdout + r.stderr).decode(errors="replace").lower()
        c.check(not any(s in text for s in secrets), "secret in output of %s" % args)
    r = run(["-r", p("tls.pcap"), "--tls-keylog", "/nonexistent/keys.txt"], check=False)
    c.check(r.returncode != 0 and b"/nonexistent/keys.txt" in r.stderr,
            "missing key log: rc %d %r" % (r.returncode, r.stderr[:200]))
    c.finish()


if __name__ == "__main__":
    main()
