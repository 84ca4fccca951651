#!/usr/bin/env python3
"""Wraps the packets of captures in every tunnel tls-analyzer decapsulates.

In: captures of tests/captures (Ethernet, IPv4). Out: tests/captures/tunnels/<name>-<tunnel>.pcap,
one per tunnel type, whose inner packets are the original IP packets byte for byte with the
original timestamps; and <name>-ipv6.pcap, the same capture moved to IPv6 (::1), the baseline of
the tunnels that carry only IPv6 (Teredo) and of 6in4/6in6. analyzer/tests/tunnels_wrapped.rs
checks that tls-analyzer's events and ssl.log of each wrapped capture are byte-identical to those
of its baseline.

The tunnel endpoints are 192.0.2.1 (the side of the inner originator) and 198.51.100.1 (IPv6:
2001:db8::1 and 2001:db8::2); each direction's outer packets go from its side to the other, as
two tunnel endpoints send them. UDP tunnels use source port 40000 (40001 for the reverse
direction) and the tunnel's port as destination, so each direction is its own outer flow, as
with VXLAN's hashed source ports.

Usage: scripts/wrap-in-tunnels.py [--out DIR] [--tunnels NAME,...] [CAPTURE...]
(default: tls13.pcap dtls12.pcap of tests/captures, every tunnel, into tests/captures/tunnels;
a CAPTURE that is not in tests/captures is taken as a path). For the benchmark of
docs/PERFORMANCE.md: --out target/bulk --tunnels vxlan target/bulk/bench.pcap. Needs scapy
(python3 -m venv /tmp/v && /tmp/v/bin/pip install scapy).
"""

import os
import struct
import sys

from scapy.all import (  # noqa: E402  (scapy is heavy; import once)
    GRE,
    IP,
    UDP,
    Ether,
    IPv6,
    Raw,
    rdpcap,
    wrpcap,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPTURES = os.path.join(ROOT, "tests", "captures")
OUT = os.path.join(CAPTURES, "tunnels")

A4, B4 = "192.0.2.1", "198.51.100.1"
A6, B6 = "2001:db8::1", "2001:db8::2"
MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"


def outer_ip(forward, payload, proto, v6=False):
    """The outer IP header (addresses by direction) around payload bytes."""
    if v6:
        src, dst = (A6, B6) if forward else (B6, A6)
        return IPv6(src=src, dst=dst, nh=proto) / Raw(payload)
    src, dst = (A4, B4) if forward else (B4, A4)
    return IP(src=src, dst=dst, proto=proto, id=0) / Raw(payload)


def outer_udp(forward, payload, port, v6=False):
    """Outer IP and UDP to the tunnel port."""
    sport = 40000 if forward else 40001
    udp = bytes(UDP(sport=sport, dport=port) / Raw(payload))
    return outer_ip(forward, udp, 17, v6)


def ether(inner_ip, forward):
    """An Ethernet frame around an inner IP packet."""
    src, dst = (MAC_A, MAC_B) if forward else (MAC_B, MAC_A)
    etype = 0x86DD if inner_ip[0] >> 4 == 6 else 0x0800
    return bytes(Ether(src=src, dst=dst, type=etype)) + inner_ip


def ethertype(ip):
    return 0x86DD if ip[0] >> 4 == 6 else 0x0800


def gre_header(proto, key=None, seq=None, csum=False, version=0, ack=None):
    """A GRE header (RFC 2784/2890; version 1 is PPTP's enhanced GRE)."""
    flags = version
    rest = b""
    if csum:
        flags |= 0x8000
        rest += b"\x00\x00\x00\x00"
    if key is not None:
        flags |= 0x2000
        rest += struct.pack(">I", key)
    if seq is not None:
        flags |= 0x1000
        rest += struct.pack(">I", seq)
    if ack is not None:
        flags |= 0x0080
        rest += struct.pack(">I", ack)
    return struct.pack(">HH", flags, proto) + rest


def ip_proto(ip):
    return 41 if ip[0] >> 4 == 6 else 4


# Each tunnel: name -> function(inner IP bytes, forward, index) -> outer packet (scapy, L3).
def t_ipip(ip, fwd, i):
    return outer_ip(fwd, ip, ip_proto(ip))


def t_ipip_v6outer(ip, fwd, i):
    return outer_ip(fwd, ip, ip_proto(ip), v6=True)


def t_gre(ip, fwd, i):
    return outer_ip(fwd, gre_header(ethertype(ip)) + ip, 47)


def t_gre_keyseq(ip, fwd, i):
    return outer_ip(fwd, gre_header(ethertype(ip), key=0x1234, seq=i, csum=True) + ip, 47)


def t_pptp(ip, fwd, i):
    ppp = b"\xff\x03" + struct.pack(">H", 0x0057 if ip[0] >> 4 == 6 else 0x0021)
    # Enhanced GRE: key = payload length and call id; sequence number.
    key = (len(ppp) + len(ip)) << 16 | (7 if fwd else 9)
    return outer_ip(fwd, gre_header(0x880B, key=key, seq=i, version=1) + ppp + ip, 47)


def t_gre_teb(ip, fwd, i):
    return outer_ip(fwd, gre_header(0x6558) + ether(ip, fwd), 47)


def t_erspan1(ip, fwd, i):
    return outer_ip(fwd, gre_header(0x88BE) + ether(ip, fwd), 47)


def t_erspan2(ip, fwd, i):
    erspan = struct.pack(">HHI", 0x1000 | 10, 0x0000 | 5, 0)
    return outer_ip(fwd, gre_header(0x88BE, seq=i) + erspan + ether(ip, fwd), 47)


def t_erspan3(ip, fwd, i):
    # Type III with the O flag and an 8-byte platform-specific subheader.
    erspan = struct.pack(">HHIHH", 0x2000 | 10, 5, i, 0, 0x0001) + b"\x00" * 8
    return outer_ip(fwd, gre_header(0x22EB, seq=i) + erspan + ether(ip, fwd), 47)


def t_gre_udp(ip, fwd, i):
    return outer_udp(fwd, gre_header(ethertype(ip)) + ip, 4754)


def t_gre_in_gre(ip, fwd, i):
    inner = bytes(outer_ip(fwd, gre_header(ethertype(ip)) + ip, 47))
    # The outer GRE tunnel between other endpoints.
    src, dst = ("203.0.113.1", "203.0.113.2") if fwd else ("203.0.113.2", "203.0.113.1")
    return IP(src=src, dst=dst, proto=47, id=0) / Raw(gre_header(0x0800) + inner)


def t_vxlan(ip, fwd, i):
    vxlan = struct.pack(">B3s3sB", 0x08, b"\0\0\0", (4242).to_bytes(3, "big"), 0)
    return outer_udp(fwd, vxlan + ether(ip, fwd), 4789)


def t_geneve(ip, fwd, i):
    # One 8-byte option (class 0x0102, type 0x80 critical, 4 bytes of data): opt len 2 words.
    opt = struct.pack(">HBB", 0x0102, 0x80, 1) + b"\xde\xad\xbe\xef"
    hdr = struct.pack(">BBH", len(opt) // 4, 0x40, ethertype(ip)) + (4242).to_bytes(3, "big") + b"\0"
    return outer_udp(fwd, hdr + opt + ip, 6081)


def t_geneve_eth(ip, fwd, i):
    hdr = struct.pack(">BBH", 0, 0, 0x6558) + (7).to_bytes(3, "big") + b"\0"
    return outer_udp(fwd, hdr + ether(ip, fwd), 6081)


def t_gtp(ip, fwd, i):
    # G-PDU with E and S flags: sequence number, one 4-byte extension header (PDU session
    # container, 0x85), then the end of the chain.
    ext = b"\x01\x00\x01\x00"  # length 1 word: contents 2 bytes, next type 0
    opt = struct.pack(">HBB", i & 0xFFFF, 0, 0x85)
    length = len(opt) + len(ext) + len(ip)
    hdr = struct.pack(">BBHI", 0x36, 0xFF, length, 0x1000 + (0 if fwd else 1))
    return outer_udp(fwd, hdr + opt + ext + ip, 2152)


def t_ayiya(ip, fwd, i):
    # Identity 2^0 = 1 byte, SHA-1 signature (5 words = 20 bytes), opcode 1 (forward).
    hdr = struct.pack(">BBBBI", 0x01, 0x52, 0x11, ip_proto(ip), 0) + b"\x01" + b"\x00" * 20
    return outer_udp(fwd, hdr + ip, 5072)


def t_teredo(ip, fwd, i):
    if ip[0] >> 4 != 6:
        return None
    # The server's replies carry an origin indication (port and address XOR all ones).
    origin = b"" if fwd else b"\x00\x00" + struct.pack(">H", 40000 ^ 0xFFFF) + bytes(b ^ 0xFF for b in (192, 0, 2, 1))
    return outer_udp(fwd, origin + ip, 3544)


def t_nested(ip, fwd, i):
    # VXLAN in GRE in IP-in-IP: three levels (Zeek's default Tunnel::max_depth is 4).
    vx = bytes(t_vxlan(ip, fwd, i))
    gre = bytes(outer_ip(fwd, gre_header(0x0800) + vx, 47))
    src, dst = ("203.0.113.1", "203.0.113.2") if fwd else ("203.0.113.2", "203.0.113.1")
    return IP(src=src, dst=dst, proto=4, id=0) / Raw(gre)


TUNNELS = {
    "ipip": t_ipip,
    "ipip-v6outer": t_ipip_v6outer,
    "gre": t_gre,
    "gre-keyseq": t_gre_keyseq,
    "pptp": t_pptp,
    "gre-teb": t_gre_teb,
    "erspan1": t_erspan1,
    "erspan2": t_erspan2,
    "erspan3": t_erspan3,
    "gre-udp": t_gre_udp,
    "gre-in-gre": t_gre_in_gre,
    "vxlan": t_vxlan,
    "geneve": t_geneve,
    "geneve-eth": t_geneve_eth,
    "gtp": t_gtp,
    "ayiya": t_ayiya,
    "teredo": t_teredo,
    "nested": t_nested,
}

# Tunnels wrapped around the IPv6 copy (6in4, 6in6 and Teredo, which carries IPv6 only).
TUNNELS_V6 = ["ipip", "ipip-v6outer", "teredo", "vxlan"]


def to_ipv6(ip4):
    """The IPv4 packet moved to IPv6 (::1 both ends), transport bytes unchanged (checksums are
    not verified by the analyzer)."""
    p = IP(ip4)
    payload = bytes(p.payload)
    return bytes(IPv6(src="::1", dst="::1", nh=p.proto, hlim=64, plen=len(payload))) + payload


def write(path, frames):
    """Ethernet frames with the original timestamps."""
    pkts = []
    for ts, l3 in frames:
        raw = bytes(l3)
        f = Ether(src=MAC_A, dst=MAC_B, type=ethertype(raw)) / Raw(raw)
        f.time = ts
        pkts.append(f)
    wrpcap(path, pkts)


def main():
    args = sys.argv[1:]
    out = OUT
    only = None
    while args and args[0].startswith("--"):
        opt, val, args = args[0], args[1], args[2:]
        if opt == "--out":
            out = val
        elif opt == "--tunnels":
            only = set(val.split(","))
        else:
            sys.exit(f"wrap-in-tunnels: unknown option {opt}")
    names = args or ["tls13.pcap", "dtls12.pcap"]
    os.makedirs(out, exist_ok=True)
    for name in names:
        path = os.path.join(CAPTURES, name)
        if not os.path.exists(path):
            path = name
        pkts = rdpcap(path)
        base = os.path.splitext(os.path.basename(name))[0]
        inner = []
        first = None
        for p in pkts:
            ip = bytes(p[IP]) if IP in p else bytes(p[IPv6])
            sport = bytes(ip[20:22])
            if first is None:
                first = sport
            # The originator's packets go forward through the tunnel.
            inner.append((p.time, ip, sport == first))
        v6 = [(ts, to_ipv6(ip), fwd) for ts, ip, fwd in inner] if only is None else []
        if only is None:
            write(os.path.join(out, f"{base}-ipv6.pcap"), [(ts, ip) for ts, ip, _ in v6])
        for tname, wrap in TUNNELS.items():
            if only is not None and tname not in only:
                continue
            for label, packets in ((tname, inner), (f"ipv6-{tname}", v6)):
                if label.startswith("ipv6-") and (tname not in TUNNELS_V6 or only is not None):
                    continue
                frames = []
                for i, (ts, ip, fwd) in enumerate(packets):
                    outer = wrap(ip, fwd, i)
                    if outer is None:
                        frames = []
                        break
                    frames.append((ts, outer))
                if frames:
                    write(os.path.join(out, f"{base}-{label}.pcap"), frames)


if __name__ == "__main__":
    main()
