"""Drives `oslotrace --tui` in a detached tmux session, the way an operator's
keyboard and eyes would: send-keys in, capture-pane out. Shared by the
offline and live TUI tests. Every screen captured is also checked for the
fake token marker, so a secret that reaches any frame fails the test.

    require_tmux()
    with TuiSession(checker, "name", 80, 24) as t:   # closed however it ends
        s = t.read_capture(pcap)                      # the screen at "(end)"
        ...
        t.quit()                                      # q, and exit status 0
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

from common import BIN, TOKEN_MARKER, skip

PROMPT = "TUITEST$ "


def tmux_available():
    return shutil.which("tmux") is not None


def require_tmux():
    """Skips the test (77) where tmux is not installed."""
    if not tmux_available():
        skip("tmux is not installed")


def exit_status(screen):
    """The last oslotrace exit status the shell printed (TUI-EXIT=N), or None.
    The typed command line holds "TUI-EXIT=$?": only digits count."""
    m = re.findall(r"TUI-EXIT=(\d+)", screen)
    return int(m[-1]) if m else None


def at_end(screen):
    """An offline run has read its whole input: the status line's "(end)" or
    the message "end of capture"."""
    return "(end)" in screen or "end of capture" in screen


class TuiSession:
    """A detached tmux session with a plain shell, to run oslotrace --tui in.
    It has a private directory for the pid file; close() (or the end of a
    with block) kills the session and removes the directory."""

    def __init__(self, checker, name, width=132, height=40):
        self.c = checker
        self.name = "oslotrace-tui-%d-%s" % (os.getpid(), name)
        self.screens = 0
        self.dir = tempfile.mkdtemp(prefix="oslotrace-tuisession-%s-" % name)
        self.pidfile = os.path.join(self.dir, "pid")
        # A plain shell with a known prompt, so "the prompt is back" can be checked.
        env = "env -i PATH=/usr/bin:/bin HOME=/tmp TERM=xterm-256color LANG=C.UTF-8 PS1='%s'" % PROMPT
        try:
            subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y",
                            str(height), "%s bash --norc --noprofile" % env], check=True)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.wait_for(lambda s: PROMPT.strip() in s, 10, "shell prompt")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def tmux(self, *args):
        return subprocess.run(["tmux"] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False).stdout.decode(errors="replace")

    def start(self, args):
        """Runs oslotrace from the session's shell; sh -c + exec makes the pid
        written to the pid file oslotrace's own (pid()), for the signal tests."""
        quoted = " ".join("'%s'" % a for a in args)
        self.literal('sh -c "echo \\$\\$ > %s; exec %s --tui %s"; echo TUI-EXIT=$?' %
                     (self.pidfile, BIN, quoted))
        self.keys("Enter")

    def pid(self):
        """The pid of the oslotrace that start() ran last."""
        with open(self.pidfile) as f:
            return int(f.read().strip())

    def read_capture(self, pcap, timeout=60):
        """start(["-r", pcap]) and waits until the whole capture is read
        (at_end); returns that screen."""
        self.start(["-r", pcap])
        return self.wait_for(at_end, timeout, "the end of " + os.path.basename(pcap))

    def wait_exit(self, how, status=0, timeout=20):
        """Waits for the shell to print oslotrace's exit status and checks it;
        returns the screen."""
        s = self.wait_for(lambda x: exit_status(x) is not None, timeout, "oslotrace to exit after " + how)
        self.c.check(exit_status(s) == status,
                     "%s: exit status %s, want %d:\n%s" % (how, exit_status(s), status, s))
        return s

    def quit(self, status=0, timeout=20):
        """q, then wait_exit()."""
        self.keys("q")
        return self.wait_exit("q", status, timeout)

    def keys(self, *keys):
        subprocess.run(["tmux", "send-keys", "-t", self.name] + list(keys), check=True)

    def literal(self, text):
        subprocess.run(["tmux", "send-keys", "-l", "-t", self.name, text], check=True)

    def screen(self):
        s = self.tmux("capture-pane", "-p", "-t", self.name)
        self.screens += 1
        self.c.check(TOKEN_MARKER not in s, "the fake token marker appears on screen:\n" + s)
        return s

    def alternate_on(self):
        return self.tmux("display-message", "-p", "-t", self.name, "#{alternate_on}").strip() == "1"

    def wait_for(self, pred, timeout, what):
        deadline = time.time() + timeout
        s = ""
        while time.time() < deadline:
            s = self.tmux("capture-pane", "-p", "-t", self.name)
            if pred(s):
                return self.screen()
            time.sleep(0.1)
        self.c.check(False, "timed out waiting for %s; screen:\n%s" % (what, s))
        return self.screen()

    def resize(self, width, height):
        self.tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def close(self):
        self.tmux("kill-session", "-t", self.name)
        shutil.rmtree(self.dir, ignore_errors=True)


def rows(screen):
    return screen.rstrip("\n").split("\n")
