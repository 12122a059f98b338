"""--max-body limits what is kept of a body for display, never which operations
are found (issue 18, point 1): with --max-body 0, 1000 and 65536 every capture
must still give every operation of its truth file, each as right as without
the limit (test_truth.py's checks), and a record whose message body was cut
says so with "body_truncated": true."""
import sys

from common import Checker, SANITIZED, SKIP, captures, meta, ndjson
from test_truth import check_capture


def main():
    caps = [c for c in captures(small_only=SANITIZED) if not meta(c[0]).get("tls")]
    if not caps:
        print("no captures with truth files in pcaps/")
        sys.exit(SKIP)
    c = Checker("max_body")
    for limit in ("0", "1000", "65536"):
        for name, path, truth_path in caps:
            check_capture(c, "%s --max-body %s" % (name, limit), path, truth_path,
                          ["--max-body", limit])
    # Every oslo operation has a body: with nothing kept, each is flagged, and
    # with --args its bodies are absent rather than made up.
    for name, path, _ in caps:
        for r in ndjson(["-r", path, "-j", "--args", "--max-body", "0"]):
            if r.get("dialect") != "oslo":
                continue
            c.check(r.get("body_truncated") is True,
                    "%s --max-body 0: %s %s not flagged body_truncated" % (name, r["type"], r.get("msg_id")))
            c.check("args" not in r, "%s --max-body 0: args shown from a cut body" % name)
    # Without a limit nothing is flagged.
    for name, path, _ in caps:
        flagged = [r for r in ndjson(["-r", path, "-j"]) if "body_truncated" in r]
        c.check(not flagged, "%s: %d records flagged body_truncated without --max-body" % (name, len(flagged)))
    c.finish()


if __name__ == "__main__":
    main()
