"""A small pcap writer for tests that need a capture the lab does not make:
Ethernet/IPv4/TCP packets with any payload, in a classic pcap (microsecond
timestamps, this host's byte order)."""
import struct


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    """One Ethernet frame: IPv4 addresses as dotted strings, flags as TCP flag bits."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + tcp


def tcp_conversation(client, server, cport, sport, exchanges):
    """Frames of a TCP connection (handshake, each (client_bytes, server_bytes) pair, FIN)."""
    SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
    c, s = 1000, 5000
    out = [tcp_packet(client, server, cport, sport, c, 0, SYN),
           tcp_packet(server, client, sport, cport, s, c + 1, SYN | ACK),
           tcp_packet(client, server, cport, sport, c + 1, s + 1, ACK)]
    c += 1
    s += 1
    for req, resp in exchanges:
        out.append(tcp_packet(client, server, cport, sport, c, s, PSH | ACK, req))
        c += len(req)
        out.append(tcp_packet(server, client, sport, cport, s, c, PSH | ACK, resp))
        s += len(resp)
    out.append(tcp_packet(client, server, cport, sport, c, s, FIN | ACK))
    out.append(tcp_packet(server, client, sport, cport, s, c + 1, FIN | ACK))
    out.append(tcp_packet(client, server, cport, sport, c + 1, s + 1, ACK))
    return out


def write_pcap(path, frames, start=1_700_000_000.0, step=0.01):
    """frames: bytes (timed start + i*step) or (ts, bytes) pairs."""
    with open(path, "wb") as f:
        f.write(struct.pack("=IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            ts, data = fr if isinstance(fr, tuple) else (start + i * step, fr)
            sec = int(ts)
            usec = int(round((ts - sec) * 1e6))
            f.write(struct.pack("=IIII", sec, usec, len(data), len(data)))
            f.write(data)
