"""oslotrace -r pcaps/diagnosis.pcap (tools/lab/diagnosis.py: one real
oslo.messaging call per cause of failure or slowness) against its truth.

Every call's "verdict" must be the one its cause implies (the truth's
"verdict"), "slow_in" the part of the time the processes' own clocks say was
the largest (when it clearly was), and "client_process"/"server_process" the
lab processes' argv0 and pid. The text line, the report (JSON) and the
verdict counts must say the same, and the deleted reply queue must show as a
broker event (basic.cancel of that queue, to the caller). Each cause must be present: a capture that
lost one would make the test pass on less than it claims."""
import json
import os
import sys

from common import PCAPS, SKIP, Checker, ndjson, run

CAUSES = {"ok_slow_handler", "slow_failure", "server_killed", "queue_no_consumer",
          "topic_unbound", "topic_unbound_mandatory", "consumer_started_late",
          "reply_after_timeout", "reply_queue_deleted", "burst_single_thread"}


def main():
    pcap = os.path.join(PCAPS, "diagnosis.pcap")
    truth_path = os.path.join(PCAPS, "diagnosis.truth.jsonl")
    if not os.path.exists(pcap):
        print("no pcaps/diagnosis.pcap")
        sys.exit(SKIP)
    with open(truth_path) as f:
        truth = [json.loads(line) for line in f if line.strip()]
    c = Checker("diagnosis")
    c.check({t["cause"] for t in truth} == CAUSES,
            "causes in the truth: %s" % sorted({t["cause"] for t in truth}))
    plain = ndjson(["-r", pcap, "-j"])
    c.check(all(r["type"] == "call" for r in plain), "-j without --broker-events: only operations")
    recs = {r["msg_id"]: r for r in plain if r["type"] == "call"}
    c.check(len(recs) == len(truth), "%d call records, %d in the truth" % (len(recs), len(truth)))
    clear = 0
    for t in truth:
        r = recs.get(t["msg_id"])
        where = "%s %s" % (t["cause"], t["msg_id"])
        if not c.check(r is not None, "%s: no record" % where):
            continue
        c.check(r["verdict"] == t["verdict"], "%s: verdict %r != %r" % (where, r["verdict"], t["verdict"]))
        if t["slow_in_clear"]:
            clear += 1
            c.check(r["slow_in"] == t["slow_in"],
                    "%s: slow_in %r != %r (%s)" % (where, r["slow_in"], t["slow_in"], t.get("parts_s")))
        if t["verdict"] in ("not_delivered", "not_routed", "no_reply"):
            c.check(r["slow_in"] is None, "%s: slow_in %r without a reply" % (where, r["slow_in"]))
        c.check(r["client_process"] == t["client_process"],
                "%s: client_process %r != %r" % (where, r["client_process"], t["client_process"]))
        c.check(r["server_process"] == t["server_process"],
                "%s: server_process %r != %r" % (where, r["server_process"], t["server_process"]))
    # Every part of the split must have been checked somewhere: queue and server at least.
    c.check(clear >= 8, "only %d calls with a clear slow_in" % clear)
    c.check({t["slow_in"] for t in truth if t["slow_in_clear"]} >= {"queue", "server"},
            "slow_in kinds checked: %s" % {t["slow_in"] for t in truth if t["slow_in_clear"]})

    # The text line says the same.
    text = run(["-r", pcap]).stdout.decode()
    for t in truth:
        r = recs.get(t["msg_id"])
        if not r:
            continue
        line = [ln for ln in text.splitlines() if r["request_id"] in ln]
        c.check(len(line) == 1 and (" verdict=%s" % t["verdict"]) in line[0]
                and (" by=%s" % t["client_process"]) in line[0],
                "%s: text line %r" % (t["cause"], line))

    # The report counts verdicts per topic/method and per process.
    rep = json.loads(run(["-r", pcap, "--report", "-j", "-q"]).stdout.decode())
    want = {}
    for t in truth:
        key = (t["topic"], t["method"])
        want.setdefault(key, {}).setdefault(t["verdict"], 0)
        want[key][t["verdict"]] += 1
    got = {}
    for row in rep.get("diagnosis", {}).get("by_method", []):
        got[(row["topic"], row["method"])] = row["verdicts"]
    c.check(got == want, "report verdicts per topic/method %s != %s" % (got, want))
    procs = {p["process"]: p for p in rep.get("diagnosis", {}).get("processes", [])}
    client = truth[0]["client_process"]
    c.check(client in procs and procs[client]["calls_made"] == len(truth),
            "report process %s: %s" % (client, procs.get(client)))
    served = {}
    for t in truth:
        if t["server_process"]:
            served[t["server_process"]] = served.get(t["server_process"], 0) + 1
    for p, n in served.items():
        c.check(p in procs and procs[p]["calls_served"] == n,
                "report process %s served %s, want %d" % (p, procs.get(p), n))
    # The report's "Calls without a reply" list says why each call got none: in
    # JSON and in the text report, the verdict the truth records.
    by_msg = {t["msg_id"]: t for t in truth}
    noreply = rep.get("no_reply", [])
    want_noreply = [t for t in truth if t["verdict"] not in ("ok", "remote_error")]
    c.check(len(noreply) == len(want_noreply) == rep.get("no_reply_total"),
            "report no_reply: %d listed, total %s, %d in the truth" % (
                len(noreply), rep.get("no_reply_total"), len(want_noreply)))
    rep_text = run(["-r", pcap, "--report", "-q"]).stdout.decode()
    listed = rep_text[rep_text.index("Calls without a reply"):].split("\n\n")[0].splitlines()[1:]
    for k in noreply:
        t = by_msg.get(k["msg_id"])
        if not c.check(t is not None, "no_reply lists a call the truth lacks: %s" % k):
            continue
        c.check(k.get("verdict") == t["verdict"],
                "no_reply %s: verdict %r != %r" % (t["cause"], k.get("verdict"), t["verdict"]))
        line = [ln for ln in listed if k["msg_id"] in ln]
        c.check(len(line) == 1 and line[0].split()[4] == t["verdict"],
                "text no_reply line of %s: %r, want verdict %s" % (t["cause"], line, t["verdict"]))
    # The injected broker-side failure: the caller's reply queue deleted while
    # its call was in flight. The broker cancels the caller's consumer
    # (basic.cancel, consumer_cancel_notify) on the caller's connection.
    deleted = [t for t in truth if t["cause"] == "reply_queue_deleted"]
    events = [r for r in ndjson(["-r", pcap, "-j", "--broker-events"]) if r["type"] == "broker_event"]
    for t in deleted:
        hit = [e for e in events if e["event"] == "basic.cancel" and e["queue"] == t["reply_q"]]
        c.check(len(hit) == 1 and hit[0]["process"] == t["client_process"],
                "reply_queue_deleted: basic.cancel of %s by %s: %s" % (t["reply_q"], t["client_process"], hit))
    rep_events = rep.get("diagnosis", {}).get("broker_events", [])
    c.check(any(e["event"] == "basic.cancel" and e["queue"] == deleted[0]["reply_q"]
                for e in rep_events) if deleted else False,
            "report broker_events lack the reply queue's cancel: %s" % rep_events)
    c.finish()


if __name__ == "__main__":
    main()
