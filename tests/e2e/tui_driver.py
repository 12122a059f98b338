"""Drives `oslotrace --tui` in a detached tmux session, the way an operator's
keyboard and eyes would: send-keys in, capture-pane out. Shared by the
offline and live TUI tests. Every screen captured is also checked for the
fake token marker, so a secret that reaches any frame fails the test."""
import os
import shutil
import subprocess
import time

from common import BIN, TOKEN_MARKER

PROMPT = "TUITEST$ "


def tmux_available():
    return shutil.which("tmux") is not None


class TuiSession:
    def __init__(self, checker, name, width=132, height=40):
        self.c = checker
        self.name = "oslotrace-tui-%d-%s" % (os.getpid(), name)
        self.screens = 0
        # A plain shell with a known prompt, so "the prompt is back" can be checked.
        env = "env -i PATH=/usr/bin:/bin HOME=/tmp TERM=xterm-256color LANG=C.UTF-8 PS1='%s'" % PROMPT
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y",
                        str(height), "%s bash --norc --noprofile" % env], check=True)
        self.wait_for(lambda s: PROMPT.strip() in s, 10, "shell prompt")

    def tmux(self, *args):
        return subprocess.run(["tmux"] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False).stdout.decode(errors="replace")

    def start(self, args, pidfile):
        """Runs oslotrace from the session's shell; sh -c + exec makes the pid
        written to pidfile oslotrace's own, for the signal tests."""
        quoted = " ".join("'%s'" % a for a in args)
        self.literal('sh -c "echo \\$\\$ > %s; exec %s --tui %s"; echo TUI-EXIT=$?' %
                     (pidfile, BIN, quoted))
        self.keys("Enter")

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


def rows(screen):
    return screen.rstrip("\n").split("\n")
