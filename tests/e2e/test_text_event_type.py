"""Issue 18 point 16: text lines print a notification's event type whole
(39 of the 57 in notifications.pcap used to end in "…"): the event types of
the text lines are exactly the ones the lab's notifiers sent."""
import collections
import os
import sys

from common import PCAPS, Checker, run, truth


def main():
    c = Checker("text_event_type")
    for name in ("notifications", "diagnosis"):
        path = os.path.join(PCAPS, name + ".pcap")
        want = collections.Counter(
            t["event_type"] for t in truth(os.path.join(PCAPS, name + ".truth.jsonl"))
            if t.get("kind") == "notification" and t.get("in_capture", True)
            and t.get("outcome", "sent") == "sent")
        got = collections.Counter()
        for line in run(["-r", path]).stdout.decode().splitlines():
            f = line.split()
            if len(f) > 3 and f[1] == "notif":
                c.check("…" not in f[3], "%s: event type cut: %r" % (name, line[:90]))
                got[f[3]] += 1
        c.check(got == want, "%s: event types of the text lines %s, truth %s"
                % (name, dict(got - want), dict(want - got)))
        if name == "notifications":
            c.check(sum(want.values()) == 57, "notifications: 57 in the truth, %d" % sum(want.values()))
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
