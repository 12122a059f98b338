#!/usr/bin/python3
"""Seed corpora for the libFuzzer targets, cut from the real captures.

usage: make_seeds.py PCAPDIR OUTDIR
writes OUTDIR/<target>/<name> for each target:
  fuzz_amqp_stream  per TCP connection, its segments in capture order as
                    [flags][ctl dir][len be16][bytes] records (the harness's
                    format), in pieces of at most 32 KiB
  fuzz_amqp_table   the field tables found on the wire: connection.start /
                    start-ok properties and content-header `headers`
  fuzz_json_quoted  oslo envelope message strings, escaped and not
  fuzz_oslo         windows of consecutive oslo messages (publish and deliver
                    legs of calls and replies) in the harness's record format
  fuzz_tls          per TLS connection of a capture with a NAME.keys key log:
                    [flags][key log len be16][key log][ctl dir][len be16][bytes]...
  fuzz_pcap         small captures: the first packets of each capture and a
                    few slices from its middle (editcap, so pcapng stays pcapng)
Deterministic: the same captures give the same seeds."""
import hashlib
import json
import os
import struct
import subprocess
import sys

BROKER_PORT = 5672
STREAM_PIECE = 32 * 1024


def read_pcap(path):
    """Yields (ts_float, frame bytes) of a classic pcap with an Ethernet link."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return  # pcapng: the stream seeds come from the classic captures
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        return
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield sec + frac / (1e9 if nano else 1e6), data[off:off + caplen]
        off += caplen


def tcp_of(frame):
    """(src, dst, payload) of an Ethernet/IPv4|IPv6/TCP frame, else None."""
    if len(frame) < 14:
        return None
    et = struct.unpack(">H", frame[12:14])[0]
    p = frame[14:]
    while et == 0x8100 and len(p) >= 4:
        et = struct.unpack(">H", p[2:4])[0]
        p = p[4:]
    if et == 0x0800 and len(p) >= 20 and p[9] == 6:
        ihl = (p[0] & 15) * 4
        total = struct.unpack(">H", p[2:4])[0]
        src, dst = p[12:16], p[16:20]
        seg = p[ihl:total]
    elif et == 0x86DD and len(p) >= 40 and p[6] == 6:
        plen = struct.unpack(">H", p[4:6])[0]
        src, dst = p[8:24], p[24:40]
        seg = p[40:40 + plen]
    else:
        return None
    if len(seg) < 20:
        return None
    sport, dport = struct.unpack(">HH", seg[:4])
    doff = (seg[12] >> 4) * 4
    return (src, sport), (dst, dport), seg[doff:]


def flows_of(path):
    """{flow key: [(ts, dir, payload)]}; dir 0 = towards the broker port."""
    flows = {}
    for ts, frame in read_pcap(path):
        t = tcp_of(frame)
        if not t or not t[2]:
            continue
        src, dst, payload = t
        d = 1 if src[1] == BROKER_PORT else 0
        key = (dst, src) if d else (src, dst)
        flows.setdefault(key, []).append((ts, d, bytes(payload)))
    return flows


def shortstr(b, off):
    n = b[off]
    return b[off + 1:off + 1 + n], off + 1 + n


def frames_of(stream):
    """The frames of one direction's bytes, from its start; stops at the first bad one."""
    off = 8 if stream.startswith(b"AMQP") else 0
    while off + 7 <= len(stream):
        ftype, ch, size = struct.unpack(">BHI", stream[off:off + 7])
        end = off + 7 + size
        if end >= len(stream) or stream[end] != 0xCE:
            return
        yield ftype, ch, stream[off + 7:end]
        off = end + 1


def messages_of(flows):
    """oslo-ish messages in the harness's terms: dicts with kind, dir, conn, ts, fields."""
    out = []
    for ci, (key, segs) in enumerate(sorted(flows.items())):
        for d in (0, 1):
            parts = [(ts, p) for ts, dd, p in segs if dd == d]
            if not parts:
                continue
            stream = b"".join(p for _, p in parts)
            ts0 = parts[0][0]
            cur = {}
            for ftype, ch, payload in frames_of(stream):
                if ftype == 1 and len(payload) >= 4:
                    cls, mth = struct.unpack(">HH", payload[:4])
                    a = payload[4:]
                    try:
                        if (cls, mth) == (60, 40):
                            ex, o = shortstr(a, 2)
                            rk, o = shortstr(a, o)
                            cur[ch] = {"kind": 0, "ex": ex, "rk": rk}
                        elif (cls, mth) == (60, 60):
                            _, o = shortstr(a, 0)
                            ex, o = shortstr(a, o + 9)
                            rk, o = shortstr(a, o)
                            cur[ch] = {"kind": 1, "ex": ex, "rk": rk}
                    except IndexError:
                        pass
                elif ftype == 2 and ch in cur:
                    m = cur[ch]
                    m["headers"], m["expiration"] = header_fields(payload)
                    m["body"] = b""
                    m["size"] = struct.unpack(">Q", payload[4:12])[0] if len(payload) >= 12 else 0
                    if m["size"] == 0:
                        out.append(dict(m, dir=d, conn=ci, ts=ts0))
                        del cur[ch]
                elif ftype == 3 and ch in cur and "body" in cur[ch]:
                    m = cur[ch]
                    m["body"] += payload
                    if len(m["body"]) >= m["size"]:
                        out.append(dict(m, dir=d, conn=ci, ts=ts0))
                        del cur[ch]
    return out


def header_fields(payload):
    """(headers table without its length, expiration) of a content header payload."""
    try:
        flags = struct.unpack(">H", payload[12:14])[0]
        o = 14
        headers = b""
        expiration = b""
        for bit in range(15, 1, -1):
            if not flags & (1 << bit):
                continue
            if bit in (15, 14, 10, 9, 8, 7, 6, 4, 3, 2):  # short strings
                v, o = shortstr(payload, o)
                if bit == 8:
                    expiration = v
            elif bit == 13:
                n = struct.unpack(">I", payload[o:o + 4])[0]
                headers = payload[o + 4:o + 4 + n]
                o += 4 + n
            elif bit in (12, 11):
                o += 1
            elif bit == 5:
                o += 8
        return headers, expiration
    except (IndexError, struct.error):
        return b"", b""


def tables_of(flows):
    found = []
    for segs in flows.values():
        for d in (0, 1):
            stream = b"".join(p for _, dd, p in segs if dd == d)
            for ftype, _, payload in frames_of(stream):
                if ftype == 1 and payload[:4] == b"\x00\x0a\x00\x0a" and len(payload) >= 10:
                    n = struct.unpack(">I", payload[6:10])[0]
                    found.append(payload[10:10 + n])
                elif ftype == 1 and payload[:4] == b"\x00\x0a\x00\x0b" and len(payload) >= 8:
                    n = struct.unpack(">I", payload[4:8])[0]
                    found.append(payload[8:8 + n])
                elif ftype == 2:
                    h, _ = header_fields(payload)
                    if h:
                        found.append(h)
    return found


def put(outdir, target, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def stream_seeds(outdir, flows):
    for segs in flows.values():
        piece = bytearray(b"\x05")  # methods on, client is side a
        for _, d, p in segs:
            while p:
                chunk, p = p[:0xFFFF], p[0xFFFF:]
                piece += struct.pack(">BH", d, len(chunk)) + chunk
            if len(piece) >= STREAM_PIECE:
                put(outdir, "fuzz_amqp_stream", bytes(piece))
                piece = bytearray(b"\x05")
        if len(piece) > 1:
            put(outdir, "fuzz_amqp_stream", bytes(piece))


def tls_seeds(outdir, path):
    """The TLS connections of a capture that has a key log beside it."""
    keys = path.rsplit(".", 1)[0] + ".keys"
    if not os.path.exists(keys):
        return
    with open(keys, "rb") as f:
        kl = f.read()[:0xFFFF]
    conns = {}
    for ts, frame in read_pcap(path):
        t = tcp_of(frame)
        if not t or not t[2]:
            continue
        src, dst, payload = t
        key = tuple(sorted((src, dst)))
        first = conns.setdefault(key, (src, []))
        first[1].append((0 if src == first[0] else 1, bytes(payload)))
    for flags in (0, 1):
        for _, segs in conns.values():
            rec = bytearray([flags]) + struct.pack(">H", len(kl)) + kl
            for d, p in segs:
                rec += struct.pack(">BH", d, len(p[:0xFFFF])) + p[:0xFFFF]
                if len(rec) > 256 * 1024:
                    break
            put(outdir, "fuzz_tls", bytes(rec))


def oslo_record(m, prev_ts, compress=False):
    kind = m["kind"] | (m["dir"] << 2) | ((m["conn"] & 1) << 3) | (0x10 if compress else 0)
    dt = min(255, max(0, int((m["ts"] - prev_ts) / 0.05))) if prev_ts else 0
    body = m["body"][:0xFFFF]
    hdr = m["headers"][:0xFFFF] if not compress else b""
    return (struct.pack(">BB", kind, dt) + bytes([len(m["ex"])]) + m["ex"] +
            bytes([len(m["rk"])]) + m["rk"] + struct.pack(">H", len(hdr)) + hdr +
            bytes([min(255, len(m["expiration"]))]) + m["expiration"][:255] +
            struct.pack(">H", len(body)) + body)


def oslo_seeds(outdir, msgs, limit=60):
    msgs = sorted(msgs, key=lambda m: m["ts"])
    step = max(1, len(msgs) // limit)
    for i in range(0, len(msgs), step):
        window = msgs[i:i + 6]
        for conf, compress in ((1, False), (0, i % 2 == 1)):
            rec = bytearray([conf])
            prev = 0
            for m in window:
                rec += oslo_record(m, prev, compress)
                prev = m["ts"]
            put(outdir, "fuzz_oslo", bytes(rec))


def quoted_seeds(outdir, msgs, limit=40):
    """Envelope message strings for fuzz_json_quoted: the inner JSON (mode 0,
    the harness escapes it) and the escaped text as it lies (mode 1)."""
    marker = b'"oslo.message": "'
    bodies = [m["body"] for m in msgs if marker in m.get("body", b"")]
    step = max(1, len(bodies) // limit)
    for body in bodies[::step]:
        at = body.index(marker) + len(marker)
        end = body.rfind(b'"')
        if end <= at:
            continue
        escaped = body[at:end]
        put(outdir, "fuzz_json_quoted", b"\x01" + escaped + b'"')
        try:
            inner = json.loads(b'"' + escaped + b'"').encode()
        except ValueError:
            continue
        put(outdir, "fuzz_json_quoted", b"\x00" + inner)


def pcap_seeds(outdir, path):
    """A few small captures per input: the first 30 packets and two slices of 20."""
    tmp = os.path.join(outdir, ".slice")
    n = 0
    try:
        out = subprocess.run(["capinfos", "-c", "-M", path], capture_output=True, text=True).stdout
        n = int(out.strip().splitlines()[-1].split()[-1])
    except (ValueError, IndexError, OSError):
        pass
    ranges = ["1-30"] + ["%d-%d" % (k, k + 19) for k in (n // 3, 2 * n // 3) if k > 30]
    for r in ranges:
        if subprocess.run(["editcap", "-r", path, tmp, r], capture_output=True).returncode == 0:
            with open(tmp, "rb") as f:
                data = f.read()
            if len(data) <= 64 * 1024:
                put(outdir, "fuzz_pcap", data)
    if os.path.exists(tmp):
        os.unlink(tmp)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    pcapdir, outdir = sys.argv[1:]
    for name in sorted(os.listdir(pcapdir)):
        path = os.path.join(pcapdir, name)
        if not name.endswith((".pcap", ".pcapng")):
            continue
        pcap_seeds(outdir, path)
        flows = flows_of(path)
        stream_seeds(outdir, flows)
        for t in tables_of(flows):
            put(outdir, "fuzz_amqp_table", b"\x00" + t)
        msgs = messages_of(flows)
        oslo_seeds(outdir, msgs)
        quoted_seeds(outdir, msgs)
        tls_seeds(outdir, path)
    for t in sorted(os.listdir(outdir)):
        print("%s: %d seeds" % (t, len(os.listdir(os.path.join(outdir, t)))))


if __name__ == "__main__":
    main()
