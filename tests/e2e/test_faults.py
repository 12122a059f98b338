"""Faults during a live capture, against their truth (tools/lab/faults.py):
the broker restarted mid-traffic, an RPC server killed and restarted, a
client killed with calls pending, and a burst into a small kernel buffer (-B)
that makes libpcap drop packets. oslotrace captures each on lo.

After each: no crash (exit 0 on SIGINT), and no operation reported wrong:
  - a call reported ok reached its caller (the client's reply arrival or its
    op record says so); reported error: the client got a remote error;
    reported timeout: the reply never reached a living caller in time;
  - open, evicted and unknown claim nothing and are always allowed, but
    where the capture lost nothing (no drops, no TCP gaps) every call whose
    caller got its result is reported ok: no call is lost to a fault;
  - the burst: the drops are counted, the blind time is in the report, and no
    call is called a timeout when its caller got the reply: a call the
    capture could not see whole is 'unknown'.
Oracle: the lab processes' event logs. Skipped (77) without root, the broker
or oslo.messaging."""
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from common import BIN, SANITIZED, SRC, Checker, stop
from lab_broker import PrivateBroker, require_live_lab

FAULTS = os.path.join(SRC, "tools", "lab", "faults.py")


def read_events(out):
    """msg_id -> what the truth says: the client's op record, whether a reply
    reached the client (and when), the servers' receive and reply."""
    calls = {}
    for path in glob.glob(os.path.join(out, "events-*.jsonl")):
        with open(path) as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue  # a process killed mid-line
                mid = ev.get("msg_id")
                if not mid:
                    continue
                t = calls.setdefault(mid, {})
                if ev.get("ev") == "op" and ev.get("kind") == "call":
                    t["op"] = ev
                elif ev.get("ev") == "reply_recv" and ev.get("ending"):
                    t["reply_recv"] = ev["t"]
                elif ev.get("ev") == "recv":
                    t["recv"] = ev["t"]
                elif ev.get("ev") == "reply" and ev.get("ending"):
                    t["reply"] = ev
    return calls


def judge(c, name, records, truth, counters, lossless):
    calls = [r for r in records if r.get("type") == "call"]
    by_id = {}
    for r in calls:
        c.check(r["msg_id"] not in by_id, "%s: call %s reported twice" % (name, r["msg_id"]))
        by_id[r["msg_id"]] = r
    wrong = []
    for r in calls:
        t = truth.get(r["msg_id"])
        if t is None or ("op" not in t and "reply_recv" not in t):
            # No client record: the caller was killed before it could write one
            # (a reply on the wire it had not read yet is still a reply
            # delivered). The client-kill check below judges these.
            continue
        op = t.get("op") or {}
        got_reply = "reply_recv" in t or op.get("outcome") in ("result", "remote_error")
        st = r["status"]
        if st == "ok":
            ok = got_reply and op.get("outcome", "result") == "result"
        elif st == "error":
            ok = got_reply and op.get("outcome", "remote_error") == "remote_error"
        elif st == "timeout":
            # the reply never reached a living caller before its timeout
            ok = op.get("outcome") in (None, "timeout") and (
                "reply_recv" not in t or op.get("outcome") == "timeout")
        else:  # open, evicted, unknown: no claim
            ok = True
        if not ok:
            wrong.append("%s %s (truth: %s, reply_recv %s)" % (r["msg_id"], st,
                                                                op.get("outcome"),
                                                                "reply_recv" in t))
    c.check(not wrong, "%s: %d calls reported wrong, e.g. %s" % (name, len(wrong), wrong[:3]))
    answered = [m for m, t in truth.items() if (t.get("op") or {}).get("outcome") == "result"]
    if lossless:
        missing = [m for m in answered if by_id.get(m, {}).get("status") != "ok"]
        c.check(not missing, "%s: %d of %d answered calls not reported ok, e.g. %s"
                % (name, len(missing), len(answered),
                   [(m, by_id.get(m, {}).get("status")) for m in missing[:3]]))
    statuses = {}
    for r in calls:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    print("%s: %d calls answered in the truth, reported %s; drops %s, TCP gaps %s, blind %s s"
          % (name, len(answered), statuses, counters.get("pcap_drops"),
             counters.get("tcp_gaps"), counters.get("blind_seconds")))
    return statuses


def run_scenario(c, broker, work, scenario, extra=()):
    out = os.path.join(work, scenario)
    os.mkdir(out)
    env_file = os.path.join(work, "broker.env")
    with open(env_file, "w") as f:
        for k in ("LAB_PORT", "LAB_DIR", "LAB_EPMD_PORT", "LAB_NODE"):
            f.write("%s=%s\n" % (k, broker.env[k]))
    port = str(broker.port)
    ndjson = os.path.join(work, scenario + ".ndjson")
    err_path = os.path.join(work, scenario + ".err")
    # Each call's timeout is its own (oslo sends it as the message's expiration):
    # 30 s, 3 s in the burst, whose calls without a reply end within the run.
    with open(ndjson, "w") as o, open(err_path, "w") as e:
        ot = subprocess.Popen([BIN, "-i", "lo", "-f", "tcp port " + port, "--amqp-port", port,
                               "-j"] + list(extra),
                              stdout=o, stderr=e)
    lab = None
    try:
        deadline = time.time() + 20
        while "listening on" not in open(err_path).read() and time.time() < deadline \
                and ot.poll() is None:
            time.sleep(0.05)
        lab = subprocess.Popen(["/usr/bin/python3", FAULTS, scenario, "--url", broker.oslo_url,
                                "--out", out, "--broker-env-file", env_file],
                               stdout=subprocess.DEVNULL)
        rc_lab = lab.wait(timeout=400)
        c.check(rc_lab == 0, "%s: the lab scenario failed (exit %d)" % (scenario, rc_lab))
        time.sleep(5)  # the burst's calls without a reply reach their timeout
        c.check(ot.poll() is None, "%s: oslotrace ended during the fault: %s"
                % (scenario, open(err_path).read()[-300:]))
        rc = stop(ot, signal.SIGINT)
    finally:
        if lab:
            stop(lab)
        stop(ot)
    err = open(err_path).read()
    c.check(rc == 0, "%s: exit %d: %s" % (scenario, rc, err[-400:]))
    records = []
    with open(ndjson) as f:
        for line in f:
            records.append(json.loads(line))
    return records, read_events(out)


def counters_from_metrics(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("oslotrace_") and "{" not in line:
                k, v = line.split()
                out[k[len("oslotrace_"):].replace("_total", "")] = float(v)
    return out


def main():
    require_live_lab(("oslo_messaging",))
    c = Checker("faults")
    work = tempfile.mkdtemp(prefix="oslotrace-faults-")
    os.chmod(work, 0o755)
    try:
        with PrivateBroker("faults") as broker:
            for scenario in ("broker-restart", "server-restart", "client-kill"):
                prom = os.path.join(work, scenario + ".prom")
                records, truth = run_scenario(c, broker, work, scenario,
                                                    ("--metrics-file", prom, "-Z", "root"))
                counters = counters_from_metrics(prom)
                lossless = counters.get("pcap_drops") == 0 and counters.get("tcp_gaps") == 0
                c.check(lossless, "%s: the capture lost packets on loopback: %s"
                        % (scenario, {k: counters.get(k) for k in ("pcap_drops", "tcp_gaps")}))
                judge(c, scenario, records, truth, counters, lossless)
                if scenario == "broker-restart":
                    c.check(counters.get("amqp_connections", 0) >= 8,
                            "broker-restart: %s AMQP connections (every client reconnects)"
                            % counters.get("amqp_connections"))
                if scenario == "client-kill":
                    # Calls whose server replied after the caller was killed:
                    # the reply cannot have reached it, whatever the wire shows.
                    killed = [json.loads(l) for l in open(os.path.join(work, scenario,
                                                                       "faults.jsonl"))]
                    t_kill = [f["t"] for f in killed if f["fault"] == "client_killed"][0]
                    doomed = [r for r in records if r.get("type") == "call"
                              and "op" not in truth.get(r["msg_id"], {})
                              and truth.get(r["msg_id"], {}).get("reply", {}).get("t", 0) > t_kill]
                    c.check(any(r["status"] != "ok" for r in doomed),
                            "client-kill: no call was left pending when the client died")
                    # ok is the wire's word that the reply was delivered to the
                    # caller's connection: wrong only if that was after the kill
                    # (the server logs its reply a moment after publishing it).
                    bad = [(r["msg_id"], r["status"]) for r in doomed if r["status"] == "ok"
                           and ((r.get("timeline") or {}).get("reply_deliver") or 0) > t_kill]
                    c.check(not bad, "client-kill: calls answered after their caller died "
                            "reported ok: %s" % bad[:3])
                    print("client-kill: %d calls answered after the caller died: %s"
                          % (len(doomed), sorted({(r["status"], r.get("verdict"))
                                                  for r in doomed})))
            # The burst: a 32 KiB kernel buffer cannot hold it (not under ASan:
            # too slow a reader drops everything and proves nothing more).
            if not SANITIZED:
                prom = os.path.join(work, "burst.prom")
                records, truth = run_scenario(c, broker, work, "burst",
                                                    ("-B", "32", "--metrics-file", prom,
                                                     "-Z", "root"))
                counters = counters_from_metrics(prom)
                judge(c, "burst", records, truth, counters, False)
                if counters.get("pcap_drops", 0) == 0 and counters.get("tcp_gaps", 0) == 0:
                    print("burst: no packet was lost this time; the loss checks did not run")
                else:
                    c.check(counters.get("blind_seconds", 0) >= 1,
                            "burst: packets lost but no blind time: %s" % counters)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
