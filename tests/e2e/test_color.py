"""Issue 18 point 22: --color=auto|always|never. auto is the old behaviour
(colour on a terminal only, NO_COLOR honoured); always and never win over the
terminal and NO_COLOR; a bad value is a usage error; the man page and -h
name the option."""
import os
import subprocess
import sys

from common import BIN, PCAPS, SRC, Checker, run

ESC = b"\033["


def on_pty(args, env_extra=None):
    """stdout on a pseudo-terminal: what a user at a terminal sees."""
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    master, slave = os.openpty()
    p = subprocess.Popen([BIN] + args, stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    p.wait(timeout=120)
    return p.returncode, out


def piped(args, env_extra=None):
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    p = subprocess.run([BIN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=120)
    return p.returncode, p.stdout


def main():
    c = Checker("color")
    cap = ["-r", os.path.join(PCAPS, "errors.pcap")]
    cases = [  # (how, args, env, colour expected)
        (on_pty, [], None, True),
        (on_pty, ["--color=auto"], None, True),
        (on_pty, ["--color=auto"], {"NO_COLOR": "1"}, False),
        (on_pty, ["--color=never"], None, False),
        (on_pty, ["--color", "always"], {"NO_COLOR": "1"}, True),
        (piped, [], None, False),
        (piped, ["--color=auto"], None, False),
        (piped, ["--color=always"], None, True),
        (piped, ["--color=never"], None, False),
    ]
    for how, args, env, want in cases:
        rc, out = how(cap + args, env)
        what = "%s %s %s" % (how.__name__, " ".join(args), env or "")
        c.check(rc == 0, "%s: exit %d" % (what, rc))
        c.check(b"error" in out, "%s: no operations printed" % what)
        c.check((ESC in out) == want, "%s: colour %s, want %s" % (what, ESC in out, want))
    rc, out = piped(cap + ["--color=always", "-j"])
    c.check(rc == 0 and ESC not in out, "-j --color=always: JSON never coloured")
    p = run(cap + ["--color=sometimes"], check=False)
    c.check(p.returncode == 2 and b"--color" in p.stderr, "bad --color: exit %d %r"
            % (p.returncode, p.stderr))
    c.check(b"--color" in run(["-h"]).stdout, "-h names --color")
    with open(os.path.join(SRC, "docs", "oslotrace.1")) as f:
        man = f.read()
    c.check("\\-\\-color" in man and "NO_COLOR" in man, "the man page names --color and NO_COLOR")
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
