"""Issue 18 points 13 and 14 in the TUI, at 80x24: the end of an input that
held no operation says what it held instead (the sentence a batch run prints
on stderr) rather than "(no operations yet)"; a capture cut in the middle
gives the same outcome as a batch run (a warning, exit 0, the operations read
before the cut) and one cut before any packet the same error (exit 1), with
the whole message on screen, never cut at the width. The oracle is the batch
run on the same input (the two front-ends must agree) and the truth file for
the operations before the cut."""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import PCAPS, Checker, run  # noqa: E402
from pcapgen import tcp_conversation, write_pcap  # noqa: E402
from tui_driver import TuiSession, require_tmux, rows  # noqa: E402


def joined(screen):
    """The screen's text with every blank and row break taken out, so a message
    wrapped over rows (or by the terminal) reads as one string."""
    return "".join(screen.split())


def whole(text, screen):
    return "".join(text.split()) in joined(screen)


def main():
    require_tmux()
    c = Checker("tui_end_states")
    tmp = tempfile.mkdtemp(prefix="oslotrace-tui-end-")
    t = TuiSession(c, "end", 80, 24)
    try:
        # 1. TCP without AMQP: the batch run's sentence, in the Calls view
        http = os.path.join(tmp, "http.pcap")
        write_pcap(http, tcp_conversation("127.0.0.1", "127.0.0.2", 40000, 80,
                                          [(b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\n")]))
        p = run(["-r", http], check=False)
        said = p.stderr.decode().strip().splitlines()[0]
        c.check(p.returncode == 0 and "no AMQP at all" in said, "batch run: %r" % said)
        sentence = said.replace("oslotrace: ", "", 1)
        t.start(["-r", http])
        s = t.wait_for(lambda x: "no AMQP" in x, 20, "the empty-run note")
        c.check(whole(sentence, s), "the TUI says %r whole:\n%s" % (sentence, s))
        c.check("(no operations yet)" not in s, "not just '(no operations yet)'")
        t.keys("3")
        s = t.wait_for(lambda x: "no AMQP" in x, 10, "the note in Topics")
        c.check(whole(sentence, s), "Topics says it too")
        t.quit()  # exit 0 on an input without operations

        # 2. a capture cut mid-packet: a warning, exit 0, the operations before the cut
        src = os.path.join(PCAPS, "basic.pcap")
        cut = os.path.join(tmp, "a-rather-long-directory-name-for-the-message", "cut.pcap")
        os.makedirs(os.path.dirname(cut))
        with open(src, "rb") as f, open(cut, "wb") as g:
            g.write(f.read(100007))
        p = run(["-r", cut, "-j"], check=False)
        err = p.stderr.decode().strip()
        batch_ops = len(p.stdout.splitlines())
        c.check(p.returncode == 0 and err.startswith("oslotrace: warning: ") and batch_ops > 0,
                "batch run on the cut file: exit %d %r, %d ops" % (p.returncode, err, batch_ops))
        msg = err.replace("oslotrace: warning: ", "", 1)
        c.check(len("warning: " + msg) > 78, "the message is longer than the screen (%d)" % len(msg))
        t.keys("clear", "Enter")
        t.start(["-r", cut])
        s = t.wait_for(lambda x: "(end)" in x or "truncated" in x, 30, "the end of the cut file")
        s = t.wait_for(lambda x: "warning" in x, 10, "the warning")
        c.check(whole("warning: " + msg, s), "the warning whole on screen %r:\n%s" % (msg, s))
        m = re.search(r"(\d+)/(\d+)", rows(s)[0])
        c.check(m and int(m.group(2)) == batch_ops,
                "the TUI holds %s ops, the batch run printed %d" % (m and m.group(2), batch_ops))
        s = t.quit()  # exit 0 like the batch run
        c.check(whole("oslotrace: warning: " + msg, s), "the warning on stderr after the TUI")

        # 3. cut before the first packet: an error, exit 1, in both
        empty = os.path.join(tmp, "head.pcap")
        with open(src, "rb") as f, open(empty, "wb") as g:
            g.write(f.read(30))
        p = run(["-r", empty], check=False)
        err = p.stderr.decode().strip()
        c.check(p.returncode == 1, "batch run on a cut header: exit %d %r" % (p.returncode, err))
        t.keys("clear", "Enter")
        t.start(["-r", empty])
        s = t.wait_for(lambda x: "ERROR" in x, 30, "the error")
        c.check(whole("ERROR: " + err.replace("oslotrace: ", "", 1), s),
                "the whole message %r on screen:\n%s" % (err, s))
        s = t.quit(1)  # exit 1 like the batch run
        c.check(whole(err, s), "the whole message %r on stderr after the TUI" % err)

        # 4. (point 15) a call without a reply says why in its Detail; ok rows are green
        errors = os.path.join(PCAPS, "errors.pcap")
        t.keys("clear", "Enter")
        t.read_capture(errors, 30)
        colored = t.tmux("capture-pane", "-p", "-e", "-t", t.name)
        ok_rows = [l for l in colored.splitlines() if re.search(r" ok +\d", re.sub(r"\x1b\[[0-9;]*m", "", l))]
        c.check(ok_rows and all("\x1b[32m" in l or "\x1b[38;5;2m" in l for l in ok_rows),
                "ok rows are green: %r" % ok_rows[:2])
        for expr, why in (("verdict==not_delivered",
                           "(no reply: published, but no consumer received it before the call ended)"),
                          ("status==error", "(none: the server answered with an exception, above)")):
            t.keys("/", "C-u")
            t.literal(expr)
            t.keys("Enter")
            t.wait_for(lambda x, e=expr: ("filter: " + e) in x, 10, "the filter " + expr)
            t.keys("Enter")
            s = t.wait_for(lambda x: "Result" in x or "Timeline" in x, 10, "the Detail")
            for _ in range(8):
                if "Result" in s:
                    break
                t.keys("PgDn")
                s = t.wait_for(lambda x: True, 2, "a page down")
            c.check(whole(why, s) and "(not captured)" not in s,
                    "%s: the Result says %r:\n%s" % (expr, why, s))
            t.keys("Escape")
        t.quit()
    finally:
        t.close()
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
