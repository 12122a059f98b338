"""Issue 18 point 12: tcpdump's time formats on text lines (operations and
--amqp frames): -t none, -tt epoch seconds, -ttt since the previous line,
-tttt date and time, -ttttt since the first line. The oracle is the lab's
truth: a call's line is stamped with its request's publish on the wire,
which the client logged (t_publish, same host clock) a moment before; the
delta forms must add up to the same instants; a sixth -t is a usage error."""
import datetime
import os
import subprocess
import sys

from common import BIN, PCAPS, Checker, truth


def lines(args):
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run([BIN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=120)
    return p.returncode, p.stdout.decode().splitlines(), p.stderr.decode()


def hms(s):
    sign = -1 if s.startswith("-") else 1
    h, m, sec = s.lstrip("-").split(":")
    return sign * (int(h) * 3600 + int(m) * 60 + float(sec))


def rid(line):
    return next((w for w in line.split() if w.startswith("req-")), None)


def main():
    c = Checker("time_formats")
    pcap = os.path.join(PCAPS, "errors.pcap")
    calls = {t["request_id"]: t for t in truth(os.path.join(PCAPS, "errors.truth.jsonl"))
             if t["kind"] == "call"}

    rc, epoch_lines, _ = lines(["-r", pcap, "-tt"])
    epochs = [float(l.split()[0]) for l in epoch_lines]
    near = 0
    for l, e in zip(epoch_lines, epochs):
        t = calls.get(rid(l))
        if t:
            # the publish leaves the client just after it logged t_publish
            near += c.check(-0.001 <= e - t["t_publish"] < 0.05,
                            "-tt %.6f vs the truth's publish %.6f (%s)" % (e, t["t_publish"], rid(l)))
    c.check(near == len(calls), "-tt: %d of the %d calls checked" % (near, len(calls)))

    rc, date_lines, _ = lines(["-r", pcap, "-tttt"])
    for l, e in zip(date_lines, epochs):
        want = datetime.datetime.fromtimestamp(e, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        c.check(l.startswith(want + " "), "-tttt %r, want %s" % (l[:30], want))
    rc, plain_lines, _ = lines(["-r", pcap])
    for l, e in zip(plain_lines, epochs):
        want = datetime.datetime.fromtimestamp(e, datetime.timezone.utc).strftime("%H:%M:%S.%f")
        c.check(l.startswith(want + " "), "default %r, want %s" % (l[:20], want))

    rc, delta_lines, _ = lines(["-r", pcap, "-ttt"])
    at = epochs[0]
    for i, (l, e) in enumerate(zip(delta_lines, epochs)):
        at = e if i == 0 else at + hms(l.split()[0])
        c.check(abs(at - e) < 2e-6 * (i + 1), "-ttt line %d adds up to %.6f, -tt says %.6f" % (i, at, e))
    c.check(any(l.startswith("-") for l in delta_lines),
            "-ttt: a timed-out call printed after later calls has a negative delta")
    rc, since_lines, _ = lines(["-r", pcap, "-ttttt"])
    for l, e in zip(since_lines, epochs):
        c.check(abs(hms(l.split()[0]) - (e - epochs[0])) < 2e-6, "-ttttt %r" % l[:20])

    rc, none_lines, _ = lines(["-r", pcap, "-t"])
    c.check(len(none_lines) == len(epoch_lines) and
            all(l.split()[0] in ("call", "cast", "fanout", "notif") for l in none_lines),
            "-t: lines start with the type")
    c.check([l.split(None, 1)[1] for l in epoch_lines] == none_lines, "-t is -tt without the stamp")

    rc, amqp_lines, _ = lines(["-r", pcap, "--amqp", "-tt", "-c", "20"])
    c.check(amqp_lines and all(float(l.split()[0]) > 1.7e9 for l in amqp_lines),
            "--amqp -tt: epoch stamps")
    rc, out, err = lines(["-r", pcap, "-tttttt"])
    c.check(rc == 2 and "too many -t" in err and not out, "-tttttt: exit %d %r" % (rc, err))
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
