#!/usr/bin/python3
"""Small, independent pcap reader/writer and AMQP 0-9-1 message mapper for the
lab: it lets the lab verify its own captures (is every msg_id on the wire?),
and derive the `lossy` and `cut` captures from whole ones while knowing exactly
which operations each removed packet touched.

Deliberately separate from the C code under test (written in Python, simple,
whole-file): a capture made by tcpdump on loopback has no loss, so plain
in-order reassembly by sequence number is enough here.  For
every AMQP message (basic.publish / basic.deliver + header + body frames) it
records the packets that carried its bytes and the oslo ids inside its body
(_msg_id, _unique_id, message_id; gzip/zlib bodies are decompressed).

Holes (lossy captures) are zero-filled and the frame walker resynchronises
after them or after a mid-frame start; that is enough to find ids, nothing more.

Also `shift` (a node's clock offset) and `split_by_process` (one-sided views) for the
cluster lab (cluster.py).

CLI: pcaptool.py messages F | lossy IN OUT EVERY | cut IN OUT | shift IN OUT SECONDS | verify F TRUTH
"""
import bisect
import json
import os
import re
import struct
import sys
import zlib

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D


class Pcap:
    """A classic pcap file held in memory: header bytes and packet records."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        magic = struct.unpack("<I", data[:4])[0]
        if magic in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            self.endian = "<"
        elif struct.unpack(">I", data[:4])[0] in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            self.endian = ">"
            magic = struct.unpack(">I", data[:4])[0]
        else:
            raise ValueError("%s: not a classic pcap file" % path)
        self.nano = magic == PCAP_MAGIC_NS
        self.header = data[:24]
        self.linktype = struct.unpack(self.endian + "I", data[20:24])[0] & 0xFFFF
        self.packets = []  # (ts_sec, ts_frac, orig_len, data)
        off = 24
        while off + 16 <= len(data):
            ts, frac, incl, orig = struct.unpack(self.endian + "IIII", data[off:off + 16])
            self.packets.append((ts, frac, orig, data[off + 16:off + 16 + incl]))
            off += 16 + incl

    def time(self, i):
        ts, frac = self.packets[i][0], self.packets[i][1]
        return ts + frac / (1e9 if self.nano else 1e6)

    def write(self, path, keep):
        with open(path, "wb") as f:
            f.write(self.header)
            for i in keep:
                ts, frac, orig, data = self.packets[i]
                f.write(struct.pack(self.endian + "IIII", ts, frac, len(data), orig))
                f.write(data)


def tcp_of(linktype, pkt):
    """(src, sport, dst, dport, seq, flags, payload) or None; Ethernet/IPv4/IPv6 only."""
    if linktype == 1:
        if len(pkt) < 14:
            return None
        etype, off = struct.unpack(">H", pkt[12:14])[0], 14
    elif linktype == 113:  # Linux cooked (tcpdump -i any)
        etype, off = struct.unpack(">H", pkt[14:16])[0], 16
    else:
        raise ValueError("linktype %d not handled by the lab tool" % linktype)
    if etype == 0x0800:
        ihl = (pkt[off] & 0x0F) * 4
        if pkt[off + 9] != 6:
            return None
        total = struct.unpack(">H", pkt[off + 2:off + 4])[0]
        src, dst = pkt[off + 12:off + 16], pkt[off + 16:off + 20]
        end = off + total
        off += ihl
    elif etype == 0x86DD:
        if pkt[off + 6] != 6:
            return None
        plen = struct.unpack(">H", pkt[off + 4:off + 6])[0]
        src, dst = pkt[off + 8:off + 24], pkt[off + 24:off + 40]
        off += 40
        end = off + plen
    else:
        return None
    sport, dport, seq = struct.unpack(">HHI", pkt[off:off + 8])
    doff = (pkt[off + 12] >> 4) * 4
    flags = pkt[off + 13]
    return (src, sport, dst, dport, seq, flags, pkt[off + doff:end])


def _shortstr(b, o):
    n = b[o]
    return b[o + 1:o + 1 + n].decode("utf-8", "replace"), o + 1 + n


def _oslo_ids(body):
    """Ids oslo put in a message body (decompressing when kombu compressed it)."""
    try:
        doc = json.loads(body)
    except ValueError:
        try:
            doc = json.loads(zlib.decompress(body))
        except Exception:
            return {"undecodable": True}
    if isinstance(doc, dict) and "oslo.message" in doc:
        try:
            doc = json.loads(doc["oslo.message"])
        except ValueError:
            return {"undecodable": True}
    if not isinstance(doc, dict):
        return {}
    out = {}
    for k, name in (("_msg_id", "msg_id"), ("_unique_id", "unique_id"),
                    ("message_id", "message_id"), ("ending", "ending"),
                    ("_reply_q", "reply_q")):
        if k in doc:
            out[name] = doc[k]
    out["is_reply"] = "ending" in doc or "failure" in doc
    return out


class _Dir:
    """One direction of one TCP connection: stream bytes + which packet carried each."""

    def __init__(self):
        self.isn = None
        self.buf = bytearray()
        self.owner = []  # (stream offset where a packet's new bytes start, packet index)
        self.gaps = 0
        self.resyncs = 0

    def add(self, seq, payload, pkt_index):
        if self.isn is None:
            self.isn = seq
        rel = (seq - self.isn) & 0xFFFFFFFF
        have = len(self.buf)
        if rel + len(payload) <= have:
            return  # retransmission
        if rel > have:
            # A hole (lossy capture): fill it with zeros so stream offsets stay
            # true; the frame walker resynchronises after it.
            self.gaps += 1
            self.buf += bytes(rel - have)
            have = rel
        new = payload[have - rel:]
        self.owner.append((have, pkt_index))
        self.buf += new

    def packets_for(self, start, end):
        """Indexes of the packets that carried stream bytes [start, end)."""
        offs = self.offsets()
        i = max(0, bisect.bisect_right(offs, start) - 1)
        out = []
        while i < len(self.owner) and self.owner[i][0] < end:
            nxt = self.owner[i + 1][0] if i + 1 < len(self.owner) else len(self.buf)
            if nxt > start:
                out.append(self.owner[i][1])
            i += 1
        return out

    def offsets(self):
        if getattr(self, "_offs", None) is None or len(self._offs) != len(self.owner):
            self._offs = [o for o, _ in self.owner]
        return self._offs


def _frame_end(buf, off):
    """End offset of a plausible AMQP frame at off, or None."""
    if off + 8 > len(buf):
        return None
    ftype, _, size = struct.unpack(">BHI", buf[off:off + 7])
    if ftype not in (1, 2, 3, 8) or size > (1 << 22):
        return None
    end = off + 7 + size
    if end >= len(buf) or buf[end] != 0xCE:
        return None
    return end + 1


def _frames(buf, d):
    """Yield (offset, type, channel, payload) of AMQP frames in a stream.  After
    garbage (a capture that starts mid-frame, a zero-filled hole) it scans for a
    plausible frame confirmed by the one after it, and counts the resync."""
    off = 8 if buf[:4] == b"AMQP" else 0
    synced = off == 8 or _frame_end(buf, 0) is not None
    if not synced:
        d.resyncs += 1
    while off + 8 <= len(buf):
        end = _frame_end(buf, off)
        if end is not None and (synced or end == len(buf) or _frame_end(buf, end) is not None):
            ftype, ch, size = struct.unpack(">BHI", buf[off:off + 7])
            yield off, ftype, ch, bytes(buf[off + 7:off + 7 + size])
            off = end
            synced = True
            continue
        if synced:
            d.resyncs += 1
        synced = False
        off += 1


def amqp_messages(pcap):
    """All AMQP content messages in a whole capture, in stream order per direction."""
    dirs = {}
    for i, (_, _, _, data) in enumerate(pcap.packets):
        t = tcp_of(pcap.linktype, data)
        if t is None:
            continue
        src, sport, dst, dport, seq, flags, payload = t
        key = (src, sport, dst, dport)
        d = dirs.setdefault(key, _Dir())
        if flags & 0x02:  # SYN: data starts at seq+1
            d.isn = (seq + 1) & 0xFFFFFFFF
            continue
        if payload:
            d.add(seq, payload, i)
    msgs = []
    for key, d in dirs.items():
        pending = {}  # channel -> message under construction
        for off, ftype, ch, payload in _frames(d.buf, d):
            if ftype == 1 and len(payload) >= 4:
                cls, meth = struct.unpack(">HH", payload[:4])
                if cls == 60 and meth in (40, 60):
                    m = {"dir": key, "channel": ch, "start": off, "end": None,
                         "method": "publish" if meth == 40 else "deliver"}
                    a = payload[4:]
                    if meth == 40:
                        ex, o = _shortstr(a, 2)
                        rk, o = _shortstr(a, o)
                    else:
                        _, o = _shortstr(a, 0)
                        ex, o = _shortstr(a, o + 9)
                        rk, o = _shortstr(a, o)
                    m["exchange"], m["routing_key"] = ex, rk
                    pending[ch] = m
            elif ftype == 2 and ch in pending:
                m = pending[ch]
                m["body_size"] = struct.unpack(">Q", payload[4:12])[0]
                m["body"] = bytearray()
                if m["body_size"] == 0:
                    m["end"] = off + 8 + len(payload)
            elif ftype == 3 and ch in pending and "body" in pending[ch]:
                m = pending[ch]
                m["body"] += payload
                if len(m["body"]) >= m["body_size"]:
                    m["end"] = off + 8 + len(payload)
            if ch in pending and pending[ch]["end"] is not None:
                m = pending.pop(ch)
                m.update(_oslo_ids(bytes(m.pop("body", b""))))
                m["packets"] = d.packets_for(m["start"], m["end"])
                m["t"] = pcap.time(m["packets"][0])
                msgs.append(m)
    msgs.sort(key=lambda m: m["packets"][0])
    return msgs, dirs


def op_key_ids(op):
    """The ids that name an operation's messages on the wire."""
    ids = set()
    for k in ("msg_id", "unique_id", "message_id"):
        if op.get(k):
            ids.add(op[k])
    return ids


def op_packets(msgs):
    """id -> set of packet indexes that carry any message of that operation."""
    out = {}
    for m in msgs:
        for k in ("msg_id", "unique_id", "message_id"):
            v = m.get(k)
            if v:
                out.setdefault(v, set()).update(m["packets"])
    return out


def payload_packets(pcap):
    out = []
    for i, (_, _, _, data) in enumerate(pcap.packets):
        t = tcp_of(pcap.linktype, data)
        if t and t[6]:
            out.append(i)
    return out


def make_lossy(src, dst, every, truth, slack=2):
    """Drop every `every`-th packet that carries TCP payload; list the ops touched.

    An op is 'affected' when one of its messages had a byte in a dropped packet,
    or is one of the next `slack` messages on the same direction after a drop
    (a decoder that lost its frame boundary may need them to resynchronise)."""
    p = Pcap(src)
    msgs, _ = amqp_messages(p)
    pay = payload_packets(p)
    removed = set(pay[every - 1::every])
    affected = set()
    for m in msgs:
        if removed & set(m["packets"]):
            m["hit"] = True
    by_dir = {}
    for m in msgs:
        by_dir.setdefault(m["dir"], []).append(m)
    for lst in by_dir.values():
        for i, m in enumerate(lst):
            if any(x.get("hit") for x in lst[max(0, i - slack):i + 1]):
                for k in ("msg_id", "unique_id", "message_id"):
                    if m.get(k):
                        affected.add(m[k])
    keep = [i for i in range(len(p.packets)) if i not in removed]
    p.write(dst, keep)
    ops = [o for o in truth if op_key_ids(o) & affected]
    aff_ids = sorted({_op_key(o) for o in ops})
    return {"removed_packets": sorted(i + 1 for i in removed),
            "removed_rule": "every %dth packet that carries TCP payload (1-based frame numbers of %s)"
                            % (every, src.rsplit("/", 1)[-1]),
            "packets_in": len(p.packets), "packets_out": len(keep),
            "affected_rule": "ops with a message that lost bytes, or among the %d messages "
                             "after such a loss on the same TCP direction" % slack,
            "affected_ids": aff_ids, "affected_ops": len(aff_ids)}


def _op_key(o):
    if o["kind"] == "call":
        return o["msg_id"]
    if o["kind"] == "notification":
        return o["message_id"]
    return o["unique_id"]


def make_cut(src, dst, min_body=200000):
    """Drop the first K packets so the capture starts inside an AMQP frame: K is
    chosen so the first kept packet of a large message's direction is the middle
    packet of that message's multi-packet body.  Everything before the cut is
    gone, including the protocol headers and connection.tune."""
    p = Pcap(src)
    msgs, _ = amqp_messages(p)
    big = [m for m in msgs if m.get("body_size", 0) >= min_body and len(m["packets"]) >= 3]
    if not big:
        raise SystemExit("cut: no message with a body >= %d bytes in %s" % (min_body, src))
    m = big[0]
    mid = sorted(m["packets"])[len(m["packets"]) // 2]
    keep = list(range(mid, len(p.packets)))
    p.write(dst, keep)
    kept = set(keep)
    pk = op_packets(msgs)
    inside = {k for k, v in pk.items() if v and v <= kept}
    return {"cut_first_kept_packet": mid + 1, "cut_dropped_packets": mid,
            "cut_inside_message": {"method": m["method"], "exchange": m["exchange"],
                                   "routing_key": m["routing_key"], "body_size": m["body_size"],
                                   "packets": len(m["packets"]), "msg_id": m.get("msg_id")},
            "cut_rule": "drop frames 1..%d: frame %d carries the middle of a %d-byte body "
                        "split over %d packets" % (mid, mid + 1, m["body_size"],
                                                    len(m["packets"]))}, inside, p.time(mid)


def verify(path, truth):
    """Check a capture against its truth: every in-capture op's ids on the wire."""
    p = Pcap(path)
    msgs, dirs = amqp_messages(p)
    seen = op_packets(msgs)
    with open(path, "rb") as f:
        raw = f.read()
    missing = []
    for o in truth:
        if not o.get("in_capture"):
            continue
        k = _op_key(o)
        if k not in seen:
            missing.append(k)
    calls = [o for o in truth if o["kind"] == "call" and o.get("in_capture")]
    # Latency on the wire (request publish -> final reply deliver) must lie in
    # the client's own window [t_start, t_end]: checks clocks and ids together.
    pub, fin = {}, {}
    for m in msgs:
        mid = m.get("msg_id")
        if not mid:
            continue
        if m["method"] == "publish" and not m.get("is_reply"):
            pub.setdefault(mid, m["t"])
        if m["method"] == "deliver" and m.get("is_reply") and m.get("ending"):
            fin.setdefault(mid, m["t"])
    outside, measured = [], 0
    for o in calls:
        if o["outcome"] not in ("result", "remote_error"):
            continue
        a, b = pub.get(o["msg_id"]), fin.get(o["msg_id"])
        if a is None or b is None:
            continue
        measured += 1
        if not (o["t_start"] - 1e-6 <= a <= b <= o["t_end"] + 1e-6):
            outside.append(o["msg_id"])
    hex32 = set(re.findall(rb"[0-9a-f]{32}", raw))  # one pass, not one per call
    raw_ok = sum(1 for o in calls if o["msg_id"].encode() in hex32)
    publishes = sum(1 for m in msgs if m["method"] == "publish")
    delivers = sum(1 for m in msgs if m["method"] == "deliver")
    return {"packets": len(p.packets), "amqp_publish": publishes, "amqp_deliver": delivers,
            "in_capture_ops": sum(1 for o in truth if o.get("in_capture")),
            "in_capture_ops_on_wire": sum(1 for o in truth if o.get("in_capture")) - len(missing),
            "missing_on_wire": missing[:20],
            "calls_msg_id_in_raw_bytes": raw_ok, "calls_in_capture": len(calls),
            "token_marker_in_raw_bytes": raw.count(b"HARNESSFAKETOKEN"),
            "tcp_gaps_seen": sum(d.gaps for d in dirs.values()),
            "frame_resyncs": sum(d.resyncs for d in dirs.values()),
            "latency_measured": measured, "latency_outside_client_window": outside[:20]}


def _load_truth(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def shift(src, dst, offset_s):
    """dst = src with every timestamp moved by offset_s seconds (either sign):
    the capture of a node whose clock is offset_s ahead."""
    p = Pcap(src)
    scale = 10**9 if p.nano else 10**6
    off = int(round(offset_s * scale))
    with open(dst, "wb") as f:
        f.write(p.header)
        for ts, frac, orig, data in p.packets:
            t = ts * scale + frac + off
            f.write(struct.pack(p.endian + "IIII", t // scale, t % scale, len(data), orig))
            f.write(data)
    return {"shifted_from": os.path.basename(src), "offset_s": offset_s, "packets": len(p.packets)}


def _flow_key(t):
    a, b = (t[0], t[1]), (t[2], t[3])
    return (a, b) if a < b else (b, a)


def split_by_process(src, dst_a, dst_b, marker_a, marker_b):
    """Two one-sided views of one capture: each TCP flow goes to dst_a when its
    bytes name marker_a (oslo's connection_name "client.py:<pid>:..." in
    connection.start-ok), to dst_b for marker_b; other flows are dropped.
    Returns how many flows went each way."""
    p = Pcap(src)
    flows, side = {}, {}
    for i, (_, _, _, data) in enumerate(p.packets):
        t = tcp_of(p.linktype, data)
        if t is None:
            continue
        k = _flow_key(t)
        flows.setdefault(k, []).append(i)
        if k not in side:
            if marker_a in t[6]:
                side[k] = "a"
            elif marker_b in t[6]:
                side[k] = "b"
    keep = {"a": [], "b": []}
    for k, idx in flows.items():
        if k in side:
            keep[side[k]] += idx
    p.write(dst_a, sorted(keep["a"]))
    p.write(dst_b, sorted(keep["b"]))
    return {"flows_a": sum(1 for v in side.values() if v == "a"),
            "flows_b": sum(1 for v in side.values() if v == "b"),
            "flows_dropped": len(flows) - len(side)}


def main(argv):
    if len(argv) >= 2 and argv[0] == "messages":
        msgs, _ = amqp_messages(Pcap(argv[1]))
        for m in msgs:
            m = dict(m, dir=None)
            print(json.dumps(m, default=str))
    elif len(argv) == 4 and argv[0] == "lossy":
        print(json.dumps(make_lossy(argv[1], argv[2], int(argv[3]), []), indent=1))
    elif len(argv) == 3 and argv[0] == "cut":
        print(json.dumps(make_cut(argv[1], argv[2])[0], indent=1))
    elif len(argv) == 4 and argv[0] == "shift":
        print(json.dumps(shift(argv[1], argv[2], float(argv[3]))))
    elif len(argv) == 3 and argv[0] == "verify":
        print(json.dumps(verify(argv[1], _load_truth(argv[2])), indent=1))
    else:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
