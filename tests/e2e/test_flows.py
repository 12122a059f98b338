"""Flows (issue 21) on pcaps/chain.pcap against the truth the lab's services
wrote: every flow of `-j --flows` holds exactly the operations of one user
request (the ops whose request_id / global_request_id are linked), each op's
parent is the op whose handler made it (the truth's `parent`), processes are
the truth's, the worst status is the worst of the truth's outcomes, and the
critical path follows parent links. `--flow REQ_ID` prints the same flow as a
ladder: one row per leg, parent references, errors and timeouts marked; a
request id linked by a global one finds the same flow; an unknown one says so.
The report lists the slowest flows and those that ended badly."""
import json
import os
import re

from common import Checker, PCAPS, run, ndjson, skip, truth

NAME = "chain"
RANK = {"ok": 0, "open": 1, "evicted": 2, "unroutable": 3, "error": 4, "timeout": 5}
STATUS = {"result": "ok", "remote_error": "error", "timeout": "timeout", "sent": "ok"}


def truth_flows(ops):
    """Union of ops linked by request_id / global_request_id."""
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in ops:
        ids = [i for i in (t["request_id"], t.get("global_request_id")) if i]
        for i in ids[1:]:
            parent[find(i)] = find(ids[0])
        find(ids[0])
    flows = {}
    for t in ops:
        flows.setdefault(find(t["request_id"]), []).append(t)
    return list(flows.values())


def rec_id(o):
    return o["message_id"] if o["type"] == "notification" else o["unique_id"]


def check_json(c, ops, by_id):
    records = ndjson(["-r", os.path.join(PCAPS, NAME + ".pcap"), "-j", "--flows"])
    check_records(c, records, ops, by_id)
    return records


def check_records(c, records, ops, by_id):
    """The flow records equal the truth's requests, op by op and parent by parent."""
    c.check(all(r["type"] == "flow" and r["schema"] == 1 for r in records),
            "-j --flows writes flow records only")
    want = {frozenset(t["id"] for t in fl): fl for fl in truth_flows(ops)}
    got = {frozenset(rec_id(o) for o in r["ops"]): r for r in records}
    c.check(len(records) == len(want), "%d flows, truth has %d" % (len(records), len(want)))
    for ids, fl in want.items():
        r = got.get(ids)
        if not c.check(r is not None, "no flow with the ops of request %s" % fl[0]["request_id"]):
            continue
        label = fl[0]["flow"]
        c.check(set(r["request_ids"]) == {i for t in fl for i in (t["request_id"],
                                                                   t.get("global_request_id")) if i},
                "%s: request ids %s" % (label, r["request_ids"]))
        for o in r["ops"]:
            t = by_id[rec_id(o)]
            p = r["ops"][o["parent"]] if o["parent"] is not None else None
            c.check((rec_id(p) if p else None) == t["parent"],
                    "%s: %s %s parent %s, truth %s" % (label, o["type"], o.get("method") or
                                                       o.get("event_type"),
                                                       rec_id(p) if p else None, t["parent"]))
            c.check(o["client_process"] == t["client_process"],
                    "%s: client %s != %s" % (label, o["client_process"], t["client_process"]))
            if t.get("server_process"):
                c.check(o["server_process"] == t["server_process"],
                        "%s: server %s != %s" % (label, o["server_process"], t["server_process"]))
            c.check(o["status"] == STATUS[t["outcome"]], "%s: status %s" % (label, o["status"]))
        worst = max((STATUS[t["outcome"]] for t in fl), key=lambda s: RANK[s])
        c.check(r["worst_status"] == worst, "%s: worst %s != %s" % (label, r["worst_status"], worst))
        # the critical path: a root, then each op a child of the one before, ending last
        cp = r["critical_path"]
        c.check(cp and r["ops"][cp[0]]["parent"] is None, "%s: path starts at a root" % label)
        c.check(all(r["ops"][b]["parent"] == a for a, b in zip(cp, cp[1:])),
                "%s: path follows parents" % label)
        # each step goes to the child whose subtree (truth's parent links) ended last
        ends = [max(v for v in o["timeline"].values() if v) for o in r["ops"]]
        kids = {}
        for o in r["ops"]:
            kids.setdefault(o["parent"], []).append(o["i"])

        def sub_end(i):
            return max([ends[i]] + [sub_end(k) for k in kids.get(i, [])])
        c.check(cp and sub_end(cp[0]) == max(ends), "%s: path starts where the flow ended" % label)
        c.check(all(sub_end(b) == max(sub_end(k) for k in kids[a]) for a, b in zip(cp, cp[1:])),
                "%s: path takes the child that ended last" % label)
        c.check(cp and not kids.get(cp[-1]), "%s: path ends at a leaf" % label)
        c.check(abs(r["total_ms"] - (r["end"] - r["start"]) * 1000) < 0.01,
                "%s: total_ms" % label)
        procs = {p["name"] for p in r["processes"]}
        c.check(procs == {t["client_process"] for t in fl} |
                {x for t in fl for x in t["receivers"]},
                "%s: processes %s" % (label, sorted(procs)))


def check_ladder(c, ops, records):
    pcap = os.path.join(PCAPS, NAME + ".pcap")
    for r in records:
        req = r["request_ids"][-1]  # a linked id finds the flow too
        p = run(["-r", pcap, "--flow", req])
        out = p.stdout.decode()
        lines = out.splitlines()
        c.check(lines and lines[0].startswith("flow %d " % r["flow"]), "--flow %s: header" % req)
        legs = sum(1 for o in r["ops"] for v in o["timeline"].values() if v)
        timeouts = sum(1 for o in r["ops"] if o["status"] == "timeout")
        rows = [ln for ln in lines if re.match(r"^\s+\d+\.\d{3}\s+\d+\.\d{3}\s", ln)]
        c.check(len(rows) == legs + timeouts,
                "--flow %s: %d rows, %d legs + %d timeouts" % (req, len(rows), legs, timeouts))
        for o in r["ops"]:
            if o["parent"] is not None:
                c.check(re.search(r"#%d \S+ .*<#%d$" % (o["i"] + 1, o["parent"] + 1), out, re.M),
                        "--flow %s: #%d names its parent #%d" % (req, o["i"] + 1, o["parent"] + 1))
            if o["status"] == "error":
                c.check("#%d ERROR %s" % (o["i"] + 1, o["error_class"]) in out,
                        "--flow %s: error of #%d marked" % (req, o["i"] + 1))
            if o["status"] == "timeout":
                c.check("#%d TIMEOUT" % (o["i"] + 1) in out, "--flow %s: timeout marked" % req)
        c.check("critical path:" in out and "processes:" in out, "--flow %s: summary" % req)
    p = run(["-r", pcap, "--flow", "req-nobody"])
    c.check(p.stdout == b"" and b"no flow holds request id req-nobody" in p.stderr,
            "--flow with an unknown id says so")


def check_report(c, records):
    pcap = os.path.join(PCAPS, NAME + ".pcap")
    rep = json.loads(run(["-q", "-r", pcap, "--report", "-j"]).stdout.decode())
    fl = rep.get("flows")
    if not c.check(fl is not None, "report -j has flows"):
        return
    slow = sorted(records, key=lambda r: -r["total_ms"])
    got = [x["request_ids"] for x in fl["slowest"]]
    c.check(got[:3] == [r["request_ids"] for r in slow[:3]], "slowest flows %s" % got[:3])
    bad = {tuple(r["request_ids"]) for r in records
           if r["worst_status"] in ("error", "timeout", "unroutable")}
    c.check({tuple(x["request_ids"]) for x in fl["failed"]} == bad, "failed flows")
    text = run(["-r", pcap, "--report"]).stdout.decode()
    c.check("Slowest flows" in text and "Flows that ended in an error or a timeout" in text,
            "text report lists flows")


def main():
    tpath = os.path.join(PCAPS, NAME + ".truth.jsonl")
    if not os.path.exists(tpath):
        skip("no %s capture" % NAME)
    ops = [t for t in truth(tpath) if t.get("in_capture", True)]
    by_id = {t["id"]: t for t in ops}
    c = Checker("flows")
    records = check_json(c, ops, by_id)
    check_ladder(c, ops, records)
    check_report(c, records)
    c.finish()


if __name__ == "__main__":
    main()
