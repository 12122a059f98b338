"""Secrets never leave the machine by default: no output mode of any capture
contains the lab's fake auth_token marker or the AMQP PLAIN password, and
--show-secrets brings the token back (so the check above can fail)."""
import json
import sys

from common import Checker, SANITIZED, TOKEN_MARKER, captures, run, SKIP

MODES = [[], ["-j"], ["-j", "--args"], ["--amqp"], ["--amqp", "-j"], ["--report"],
         ["--report", "-j"], ["--args"]]


def main():
    caps = captures(small_only=SANITIZED)
    if not caps:
        sys.exit(SKIP)
    c = Checker("secrets")
    for name, path, _ in caps:
        for mode in MODES:
            p = run(["-r", path] + mode, check=False)
            out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
            c.check(p.returncode == 0, "%s %s: exit %d" % (name, mode, p.returncode))
            c.check(TOKEN_MARKER not in out, "%s %s: token marker in output" % (name, mode))
        # The PLAIN response of connection.start-ok carries "\0guest\0guest".
        p = run(["-r", path, "--amqp", "-j"], check=False)
        for line in p.stdout.decode(errors="replace").splitlines():
            rec = json.loads(line)
            if rec.get("method") == "connection.start-ok":
                resp = json.dumps(rec.get("args", {}).get("response"))
                c.check("guest\\u0000guest" not in resp and resp.count("guest") <= 1,
                        "%s: PLAIN password in start-ok response %s" % (name, resp))
    # --show-secrets must really show them, or the checks above prove nothing.
    seen = False
    for name, path, _ in caps:
        p = run(["-r", path, "-j", "--args", "--show-secrets"], check=False)
        seen = seen or TOKEN_MARKER in p.stdout.decode(errors="replace")
    c.check(seen, "--show-secrets never showed the token marker")
    c.finish()


if __name__ == "__main__":
    main()
