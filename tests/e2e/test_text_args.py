"""Issue 18 point 10: --args in text mode shows each operation's arguments and
result (redacted) on indented lines after its line, as the lab's clients sent
and got them; without --args there are none; no secret reaches them; and the
man page says --show-secrets never shows the AMQP PLAIN password."""
import json
import os
import sys

from common import PCAPS, SRC, TOKEN_MARKER, Checker, captures, run, truth


def same(got, want):
    """The lab's truth shortens long strings to {"head": first 16 chars, "str_len": N}
    and deep containers to {"dict_len": N} / {"list_len": N}."""
    if isinstance(want, dict) and set(want) == {"head", "str_len"} and isinstance(got, str):
        return got.startswith(want["head"]) and len(got) == want["str_len"]
    if isinstance(want, dict) and set(want) == {"dict_len"} and isinstance(got, dict):
        return len(got) == want["dict_len"]
    if isinstance(want, dict) and set(want) == {"list_len"} and isinstance(got, list):
        return len(got) == want["list_len"]
    if isinstance(want, dict) and isinstance(got, dict):
        return set(want) == set(got) and all(same(got[k], want[k]) for k in want)
    if isinstance(want, list) and isinstance(got, list):
        return len(want) == len(got) and all(same(g, w) for g, w in zip(got, want))
    return got == want


def bodies(text):
    """{request_id: {"args": ..., "result": ...}} from text lines and their continuations."""
    out, cur = {}, None
    for line in text.splitlines():
        if line.startswith("    "):
            label, _, js = line.strip().partition(": ")
            if cur is not None:
                cur[label] = js
            continue
        f = line.split()
        rid = next((w for w in f if w.startswith("req-")), None)
        cur = out.setdefault(rid, {}) if rid else None
    return out


def main():
    c = Checker("text_args")
    for name in ("basic", "errors", "compression"):
        path = os.path.join(PCAPS, name + ".pcap")
        calls = [t for t in truth(os.path.join(PCAPS, name + ".truth.jsonl"))
                 if t["kind"] == "call" and t.get("in_capture", True)]
        text = run(["-r", path, "--args"]).stdout.decode()
        got = bodies(text)
        checked = 0
        for t in calls:
            b = got.get(t["request_id"])
            if not c.check(b is not None and "args" in b,
                           "%s: no args line for %s" % (name, t["request_id"])):
                continue
            c.check(same(json.loads(b["args"]), t["args"]),
                    "%s %s: args %s, truth %s" % (name, t["request_id"], b["args"][:80], t["args"]))
            if t["outcome"] == "result":
                c.check("result" in b and same(json.loads(b["result"]), t.get("result")),
                        "%s %s: result %s, truth %r" % (name, t["request_id"],
                                                         b.get("result", "")[:80], t.get("result")))
            checked += 1
        c.check(checked == len(calls) and checked > 0,
                "%s: %d of %d calls checked" % (name, checked, len(calls)))
        plain = run(["-r", path]).stdout.decode()
        c.check(not any(l.startswith("    ") for l in plain.splitlines()),
                "%s: continuation lines without --args" % name)
    # notifications: the payload, as the notifier sent it
    path = os.path.join(PCAPS, "notifications.pcap")
    notes = {t["request_id"]: t for t in truth(os.path.join(PCAPS, "notifications.truth.jsonl"))
             if t["kind"] == "notification"}
    got = bodies(run(["-r", path, "--args"]).stdout.decode())
    ok = sum(1 for rid, t in notes.items()
             if "payload" in got.get(rid, {}) and same(json.loads(got[rid]["payload"]), t["payload"]))
    c.check(ok == len(notes) and ok > 0, "notifications: %d of %d payloads as sent" % (ok, len(notes)))

    for name, path, _ in captures(small_only=True):
        out = run(["-r", path, "--args"], check=False).stdout.decode(errors="replace")
        c.check(TOKEN_MARKER not in out, "%s: a secret in the --args text" % name)

    with open(os.path.join(SRC, "docs", "oslotrace.1")) as f:
        man = f.read()
    sec = man[man.index(".B \\-\\-show\\-secrets"):]
    sec = sec[:sec.index(".TP", 5)]
    c.check("PLAIN" in sec and "never shown" in sec,
            "the man page's --show-secrets says the PLAIN password is never shown")
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
