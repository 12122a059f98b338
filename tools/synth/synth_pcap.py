#!/usr/bin/python3
"""Writes synthetic AMQP/oslo captures that no real client can produce in a
reasonable time: a million calls that never get a reply, 100,000 AMQP
connections, a million distinct topics. Used by bench/ (memory per pending call
and per connection) and by tests/bad/ (limits hold, counters say what was
evicted). Frames are built by hand following AMQP 0-9-1; the oslo bodies use
the 2.0 envelope exactly as oslo.messaging writes it.

usage: synth_pcap.py MODE N OUT.pcap
  MODE pending      N calls published on one connection, no replies
       connections  N connections, each publishing one call and one reply
       topics       N casts, each on its own topic
       replies      N replies for msg_ids never requested (orphans)
"""
import json
import struct
import sys
import uuid

BROKER = (b"\x7f\x00\x00\x01", 5672)


class PcapWriter:
    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.t = 1_700_000_000.0

    def packet(self, src, dst, seq, payload, flags=0x18, dt=0.00001):
        self.t += dt
        tcp = struct.pack(">HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF, 1, 5 << 4, flags,
                          65535, 0, 0)
        total = 20 + len(tcp) + len(payload)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src[0], dst[0])
        eth = b"\x00" * 12 + b"\x08\x00"
        frame = eth + ip + tcp + payload
        sec = int(self.t)
        usec = int((self.t - sec) * 1e6)
        self.f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
        self.f.write(frame)

    def close(self):
        self.f.close()


def shortstr(s):
    b = s.encode()
    return struct.pack(">B", len(b)) + b


def frame(ftype, channel, payload):
    return struct.pack(">BHI", ftype, channel, len(payload)) + payload + b"\xce"


def publish(exchange, routing_key, body, expiration=None):
    method = struct.pack(">HHH", 60, 40, 0) + shortstr(exchange) + shortstr(routing_key) + b"\x00"
    flags = 0x8000 | 0x4000 | 0x1000
    props = shortstr("application/json") + shortstr("utf-8") + b"\x02"
    if expiration:
        flags |= 0x0100
        props += shortstr(expiration)
    header = struct.pack(">HHQH", 60, 0, len(body), flags) + props
    return frame(1, 1, method) + frame(2, 1, header) + frame(3, 1, body)


def envelope(msg):
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(msg)}).encode()


def call_body(i, topic_method="get"):
    return envelope({"method": topic_method, "args": {"i": i}, "namespace": None, "version": "1.0",
                     "_msg_id": uuid.UUID(int=i + 1).hex, "_reply_q": "reply_synth",
                     "_unique_id": uuid.UUID(int=(1 << 64) + i).hex,
                     # as oslo.context makes them: "req-" + a uuid4
                     "_context_request_id": "req-" + str(uuid.UUID(int=(1 << 96) + i)),
                     "_timeout": None})


def client_addr(i):
    return (bytes([127, 1 + (i >> 16) % 250, (i >> 8) & 255, i & 255]), 30000 + i % 30000)


def main():
    mode, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    w = PcapWriter(out)
    if mode == "pending":
        client, seq = client_addr(1), 1000
        for i in range(n):
            data = publish("openstack", "compute", call_body(i), expiration="60000")
            w.packet(client, BROKER, seq, data)
            seq += len(data)
    elif mode == "connections":
        for i in range(n):
            client = client_addr(i)
            w.packet(client, BROKER, 100, b"", flags=0x02)
            data = publish("openstack", "conductor", call_body(i), expiration="60000")
            w.packet(client, BROKER, 101, data)
    elif mode == "topics":
        client, seq = client_addr(1), 1000
        for i in range(n):
            body = envelope({"method": "m", "args": {}, "_unique_id": uuid.UUID(int=i + 7).hex})
            data = publish("openstack", "topic-%d" % i, body)
            w.packet(client, BROKER, seq, data)
            seq += len(data)
    elif mode == "replies":
        client, seq = client_addr(2), 5000
        for i in range(n):
            body = envelope({"result": i, "failure": None, "ending": True,
                             "_msg_id": uuid.UUID(int=(1 << 100) + i).hex,
                             "_unique_id": uuid.UUID(int=(1 << 90) + i).hex})
            data = publish("", "reply_synth", body)
            w.packet(client, BROKER, seq, data)
            seq += len(data)
    else:
        sys.exit("unknown mode " + mode)
    w.close()


if __name__ == "__main__":
    main()
