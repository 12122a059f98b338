#!/usr/bin/python3
"""Builds the corpus of bad inputs into a directory: each file is something a
hostile or broken network, or a broken disk, can hand oslotrace. The files are
generated (deterministically) rather than committed, except the regression
files found by fuzzing, which live beside this script as tests/bad/*.pcap.

usage: make_corpus.py OUTDIR   → writes OUTDIR/NAME.pcap (+ prints the names)"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "synth"))
import synth_pcap as s  # noqa: E402

CLIENT = (b"\x7f\x00\x00\x02", 40000)
BROKER = s.BROKER


def stream(path, chunks, dts=None):
    """One client→broker connection carrying the given byte chunks, one packet each."""
    w = s.PcapWriter(path)
    seq = 1
    for i, data in enumerate(chunks):
        for off in range(0, max(len(data), 1), 60000):  # an IP packet holds at most 64 KiB
            piece = data[off:off + 60000]
            w.packet(CLIENT, BROKER, seq, piece, dt=(dts[i] if dts else 0.001))
            seq += len(piece)
    w.close()


def method(class_id, method_id, args=b"", channel=1):
    return s.frame(1, channel, struct.pack(">HH", class_id, method_id) + args)


def table_entry(key, letter, value):
    return s.shortstr(key) + letter + value


def deep_table(depth):
    """A field table nesting `depth` tables, each the only entry "x" of its parent."""
    parts = [struct.pack(">I", 7 * depth)]
    for i in range(depth):
        parts.append(table_entry("x", b"F", struct.pack(">I", 7 * (depth - 1 - i))))
    return b"".join(parts)


def build(out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)  # noqa: E731
    open(p("empty.pcap"), "wb").close()
    with open(p("text.pcap"), "w") as f:
        f.write("this is a text file, not a capture\n" * 20)

    # A good small capture to cut into pieces.
    good = p("good.pcap")
    chunks = [b"AMQP\x00\x00\x09\x01"] + [s.publish("openstack", "compute", s.call_body(i)) for i in range(20)]
    stream(good, chunks)
    data = open(good, "rb").read()
    for off in (10, 24, 30, 40, 57, 100, 333, len(data) // 2, len(data) - 1):
        with open(p("truncated-%d.pcap" % off), "wb") as f:
            f.write(data[:off])

    # A record header claiming 4 GB of captured data.
    with open(p("record-4gb.pcap"), "wb") as f:
        f.write(data[:24] + struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 0xFFFFFFF0) + b"\x00" * 64)
    # Unknown link type (IEEE 802.11 = 105).
    with open(p("linktype-105.pcap"), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105) + data[24:])

    rnd = bytes((i * 7919 + 13) % 251 for i in range(20000))
    stream(p("garbage-5672.pcap"), [rnd[i:i + 1400] for i in range(0, len(rnd), 1400)])
    tls = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + rnd[:500]
    stream(p("tls-5672.pcap"), [tls, b"\x17\x03\x03\x40\x00" + rnd[:1000]])
    stream(p("frame-4gb.pcap"), [struct.pack(">BHI", 1, 1, 0xFFFFFFF0) + rnd[:1000]] +
           chunks[1:4])
    # The same after a protocol header: the splitter is in sync, so the size is an error.
    stream(p("frame-4gb-synced.pcap"), [chunks[0], struct.pack(">BHI", 1, 1, 0xFFFFFFF0) + rnd[:1000]] +
           chunks[1:4])
    header_2_63 = s.frame(2, 1, struct.pack(">HHQH", 60, 0, 1 << 63, 0))
    stream(p("body-2-63.pcap"), [method(60, 40, b"\x00\x00" + s.shortstr("openstack") +
                                        s.shortstr("compute") + b"\x00") + header_2_63,
                                 s.frame(3, 1, b"{}" * 100)] + chunks[1:3])
    # connection.start with a server-properties table whose length runs past the frame.
    bad_table = method(10, 10, b"\x00\x09" + struct.pack(">I", 5000) + b"\x01\x02", channel=0)
    stream(p("table-overrun.pcap"), [bad_table] + chunks[1:3])
    stream(p("table-deep.pcap"), [method(10, 10, b"\x00\x09" + deep_table(50000), channel=0)] +
           chunks[1:3])

    def publish_raw(body, rk="compute", exchange="openstack"):
        return s.publish(exchange, rk, body, expiration="30000")

    deep_json = ("[" * 50000 + "]" * 50000)
    stream(p("json-deep.pcap"), [publish_raw(s.envelope({"method": "m", "args": {}, "_msg_id": "a" * 32,
                                                         "_reply_q": "reply_x"})[:-1] + b", \"x\": " +
                                             deep_json.encode() + b"}"),
                                 publish_raw(json.dumps({"oslo.version": "2.0", "oslo.message": deep_json}).encode())])
    stream(p("utf8-invalid.pcap"), [publish_raw(b'{"oslo.version": "2.0", "oslo.message": "{\\"method\\": \\"\xff\xfe\\", '
                                                b'\\"_msg_id\\": \\"ab\xc3\\", \\"_reply_q\\": \\"reply_\xe2\\"}"}'),
                                    s.publish("openstack", "comp\xffute".encode("latin-1").decode("latin-1"),
                                              s.call_body(1))])
    stream(p("json-broken.pcap"), [publish_raw(b'{"oslo.version": "2.0", "oslo.message": "{\\"method\\": '),
                                   publish_raw(b"not json at all"),
                                   publish_raw(b'{"oslo.message": 42}'),
                                   publish_raw(b'{"hello": "world", "list": [1, 2, 3]}')])
    s_main = s.main  # noqa: F841  (the module's CLI is not used here)
    # Replies for unknown msg_ids, a reply before its request, one msg_id used by two calls.
    reply = lambda mid: s.publish("", "reply_x", s.envelope({"result": 1, "failure": None, "ending": True,  # noqa: E731
                                                             "_msg_id": mid, "_unique_id": mid[::-1]}))
    call = lambda mid: publish_raw(s.envelope({"method": "m", "args": {}, "_msg_id": mid, "_reply_q": "reply_x",  # noqa: E731
                                               "_unique_id": mid + "u"}))
    stream(p("replies-unknown.pcap"), [reply("%032x" % i) for i in range(50)])
    stream(p("reply-before-request.pcap"), [reply("c" * 32), call("c" * 32)])
    stream(p("msgid-reused.pcap"), [call("d" * 32), call("d" * 32), reply("d" * 32), reply("d" * 32)])
    stream(p("time-backwards.pcap"), chunks, dts=[0.5, -3.0, 0.001, -100.0] + [0.001] * (len(chunks) - 4))
    s_args = [("pending", 100000, "pending-100k.pcap"), ("connections", 20000, "connections-20k.pcap"),
              ("topics", 50000, "topics-50k.pcap"), ("replies", 20000, "orphans-20k.pcap")]
    for mode, n, name in s_args:
        if not os.path.exists(p(name)):
            sys.argv = ["synth", mode, str(n), p(name)]
            s.main()
    return sorted(f for f in os.listdir(out) if f.endswith(".pcap"))


if __name__ == "__main__":
    for name in build(sys.argv[1]):
        print(name)
