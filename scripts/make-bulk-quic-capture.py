#!/usr/bin/env python3
"""Makes a QUIC capture of many connections for the end-to-end benchmark.

Usage: scripts/make-bulk-quic-capture.py OUT N [CAPTURE...]

Replays the QUIC connections of real captures (default: the IPv4 captures of tests/captures/quic/,
made with aioquic on loopback) N times over, each copy from its own client address and port
(10.x.y.z, ports 20000-59999; one per original client address and port), its packets shifted in time so that copies follow each other. The
QUIC packets are untouched, so every copy decrypts and analyses exactly as the original; only the
IPv4 header (new source or destination address, its checksum recomputed) and the UDP header (new
client port, checksum 0 = none, which IPv4 allows) change. Standard library only.
"""

import glob
import os
import struct
import sys

PCAP_MAGIC_US = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
ETHERTYPE_IPV4 = 0x0800
IPPROTO_UDP = 17
SERVER_PORTS = {443, 4433}


def read_pcap(path):
    """(header bytes, [(ts_sec, ts_usec, frame bytes)]) of a little-endian microsecond pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack("<I", data[:4])
    if magic != PCAP_MAGIC_US:
        raise SystemExit(f"{path}: not a little-endian microsecond pcap")
    linktype, = struct.unpack("<I", data[20:24])
    if linktype != LINKTYPE_ETHERNET:
        raise SystemExit(f"{path}: link type {linktype}, expected Ethernet")
    at, packets = 24, []
    while at + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack("<IIII", data[at:at + 16])
        packets.append((sec, usec, data[at + 16:at + 16 + incl]))
        at += 16 + incl
    return data[:24], packets


def checksum(header):
    s = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def rewrite(frame, client_of):
    """The frame with its client side (the non-server port) moved to `client_of(ip, port)`."""
    if struct.unpack("!H", frame[12:14])[0] != ETHERTYPE_IPV4:
        return None
    ip = bytearray(frame[14:])
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != IPPROTO_UDP:
        return None
    sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
    if dport in SERVER_PORTS:  # client to server
        new_ip, new_port = client_of(bytes(ip[12:16]), sport)
        ip[12:16] = new_ip
        ip[ihl:ihl + 2] = struct.pack("!H", new_port)
    elif sport in SERVER_PORTS:  # server to client
        new_ip, new_port = client_of(bytes(ip[16:20]), dport)
        ip[16:20] = new_ip
        ip[ihl + 2:ihl + 4] = struct.pack("!H", new_port)
    else:
        return None
    ip[ihl + 6:ihl + 8] = b"\x00\x00"  # no UDP checksum
    ip[10:12] = b"\x00\x00"
    ip[10:12] = struct.pack("!H", checksum(bytes(ip[:ihl])))
    return frame[:14] + bytes(ip)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out, copies = sys.argv[1], int(sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    inputs = sys.argv[3:] or sorted(
        p for p in glob.glob(os.path.join(here, "../tests/captures/quic/*.pcap")) if "ipv6" not in p
    )
    sources = [read_pcap(p) for p in inputs]
    header = sources[0][0]
    written = flows = 0
    t = 1_700_000_000.0
    with open(out, "wb") as f:
        f.write(header)
        for _ in range(copies):
            for _, packets in sources:
                # Each original client (address, port) of this copy gets its own new one.
                clients = {}

                def client_of(ip, port):
                    nonlocal flows
                    if (ip, port) not in clients:
                        n = flows
                        flows += 1
                        clients[(ip, port)] = (
                            bytes([10, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF]),
                            20000 + n % 40000,
                        )
                    return clients[(ip, port)]

                base = packets[0][0] + packets[0][1] / 1e6
                last = t
                for sec, usec, frame in packets:
                    new = rewrite(frame, client_of)
                    if new is None:
                        continue
                    ts = t + (sec + usec / 1e6 - base)
                    last = ts
                    s = int(ts)
                    f.write(struct.pack("<IIII", s, int((ts - s) * 1e6), len(new), len(new)))
                    f.write(new)
                    written += 1
                t = last + 0.001
    print(f"{out}: {written} packets, {flows} QUIC connections, from {len(inputs)} captures",
          file=sys.stderr)


if __name__ == "__main__":
    main()
