#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the project's captures and fixtures.

In: tests/captures/*.pcap (Ethernet, from scripts/make-captures.sh), tests/fixtures/**/*.hex,
tests/captures/quic/*.pcap and, when present, Zeek's QUIC traces in
../shared/conformance/zeek/traces/quic/ (classic Ethernet pcaps only; never copied into the
repository, only read).
Out: fuzz/corpus/<target>/<name> files in each target's input format (see fuzz/src/lib.rs and
the targets' docs). Corpora are not committed: rerun this after a fresh clone, then let the
fuzzer grow them.

    python3 fuzz/seeds.py            # from the repository root or from fuzz/

Standard library only. The pcap reader here is deliberately minimal (Ethernet, IPv4/IPv6,
TCP/UDP, no reassembly): the captures are clean loopback conversations.
"""

import glob
import hashlib
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")

# parse_units selectors (selector % 6), see fuzz_targets/parse_units.rs.
SEL_TLS_RECORDS, SEL_DTLS_RECORDS, SEL_SSLV2, SEL_HANDSHAKE, SEL_BODY, SEL_EXTENSIONS = range(6)

# A minimal SSLv2 CLIENT-HELLO record (RFC 6101 appendix E): version 3.0, two cipher specs,
# no session id, a 16-byte challenge.
SSLV2_CLIENT_HELLO = bytes.fromhex(
    "8021" "01" "0300" "0006" "0000" "0010" "010080" "070080" + "ab" * 16
)


def write(target, data):
    """Writes one seed, named by its content hash so reruns do not duplicate it."""
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def encode(items):
    """The delivery encoding of fuzz/src/lib.rs: [ctl][len u16 BE][bytes]."""
    out = bytearray()
    for is_orig, data in items:
        for i in range(0, max(len(data), 1), 0xFFFF):
            chunk = data[i : i + 0xFFFF]
            out += bytes([1 if is_orig else 0]) + struct.pack(">H", len(chunk)) + chunk
    return bytes(out)


def pcap_frames(path):
    """Yields (link_type, ts, frame) of a classic little- or big-endian pcap."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return
    link = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(end + "IIII", data[off : off + 16])
        off += 16
        yield link, sec + frac / 1e6, data[off : off + incl]
        off += incl


def transport(frame):
    """(proto, src, sport, dst, dport, payload) of an Ethernet frame, or None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack(">H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        proto, src, dst = ip[9], ip[12:16], ip[16:20]
        l4 = ip[ihl:total]
    elif ethertype == 0x86DD and len(ip) >= 40:
        plen = struct.unpack(">H", ip[4:6])[0]
        proto, src, dst = ip[6], ip[8:24], ip[24:40]
        l4 = ip[40 : 40 + plen]
    else:
        return None
    if proto == 6 and len(l4) >= 20:
        sport, dport = struct.unpack(">HH", l4[:4])
        return "tcp", src, sport, dst, dport, l4[(l4[12] >> 4) * 4 :]
    if proto == 17 and len(l4) >= 8:
        sport, dport = struct.unpack(">HH", l4[:4])
        return "udp", src, sport, dst, dport, l4[8:]
    return None


def conversations(path):
    """Per connection, in first-packet order: (proto, [(is_orig, payload), ...])."""
    conns = {}
    order = []
    for link, _ts, frame in pcap_frames(path):
        if link != 1:
            continue
        t = transport(frame)
        if t is None:
            continue
        proto, src, sport, dst, dport, payload = t
        a, b = (src, sport), (dst, dport)
        key = (proto,) + tuple(sorted([a, b]))
        if key not in conns:
            conns[key] = (a, [])
            order.append(key)
        orig, items = conns[key]
        if payload:
            items.append((a == orig, payload))
    return [(k[0], conns[k][1]) for k in order]


def pcap_to_pcapng(path):
    """The same packets as a pcapng: SHB, one IDB, one EPB per frame (microsecond stamps)."""

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    frames = list(pcap_frames(path))
    if not frames:
        return None
    link = frames[0][0]
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", link, 0, 262144))
    for _link, ts, frame in frames:
        us = int(round(ts * 1e6))
        out += block(
            6,
            struct.pack("<IIIII", 0, us >> 32, us & 0xFFFFFFFF, len(frame), len(frame)) + frame,
        )
    return out


def read_hex(path):
    lines = [l for l in open(path) if not l.startswith("#")]
    return bytes.fromhex("".join(lines).replace(" ", "").replace("\n", ""))


def hello_extensions(msg):
    """The extension block of a ClientHello/ServerHello message (header included), or None."""
    try:
        t, body = msg[0], msg[4:]
        p = 2 + 32
        p += 1 + body[p]
        if t == 1:
            p += 2 + struct.unpack(">H", body[p : p + 2])[0]
            p += 1 + body[p]
        elif t == 2:
            p += 3
        else:
            return None
        return body[p:] if p < len(body) else None
    except IndexError:
        return None


def main():
    captures = sorted(glob.glob(os.path.join(ROOT, "tests", "captures", "*.pcap")))
    fixtures = sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "**", "*.hex"), recursive=True))
    if not captures:
        sys.exit("no captures under tests/captures")

    for path in captures:
        raw = open(path, "rb").read()
        write("capture", raw)
        ng = pcap_to_pcapng(path)
        if ng:
            write("capture", ng)
        for proto, items in conversations(path):
            if not items:
                continue
            if proto == "tcp":
                for flags in (0, 1):
                    write("ssl_stream", bytes([flags]) + encode(items))
                for is_orig in (True, False):
                    stream = b"".join(d for o, d in items if o == is_orig)
                    if stream:
                        write("parse_units", bytes([SEL_TLS_RECORDS]) + stream[:65536])
            else:
                write("dtls_datagrams", bytes([0]) + encode(items))
                for _o, d in items:
                    write("parse_units", bytes([SEL_DTLS_RECORDS]) + d)

    for path in fixtures:
        data = read_hex(path)
        name = os.path.basename(path)
        if "/records/" in path:
            write("parse_units", bytes([SEL_DTLS_RECORDS if "dtls" in name else SEL_TLS_RECORDS]) + data)
        elif "/dtls/" in path:
            # A DTLS handshake fragment (12-byte header); whole messages also as a body.
            rec = bytes.fromhex("16fefd0000000000000000") + struct.pack(">H", len(data)) + data
            write("parse_units", bytes([SEL_DTLS_RECORDS]) + rec)
            write("dtls_datagrams", bytes([0]) + encode([(name.split("-")[2] == "c", rec)]))
            if len(data) >= 12:
                write("parse_units", bytes([SEL_BODY]) + data[:1] + data[12:])
        else:
            write("parse_units", bytes([SEL_HANDSHAKE]) + data)
            write("parse_units", bytes([SEL_BODY]) + data[:1] + data[4:])
            ext = hello_extensions(data)
            if ext:
                write("parse_units", bytes([SEL_EXTENSIONS]) + ext)

    # quic_datagrams: each QUIC flow's datagrams, whole and cut to its first four (the Initials
    # and the first short headers: cheaper to execute, and what the frames mutator edits).
    quic = sorted(glob.glob(os.path.join(ROOT, "tests", "captures", "quic", "*.pcap")))
    quic += sorted(glob.glob(os.path.join(ROOT, "..", "shared", "conformance", "zeek", "traces", "quic", "*.pcap")))
    for path in quic:
        write("capture", open(path, "rb").read())
        for proto, items in conversations(path):
            if proto == "udp" and items:
                write("quic_datagrams", bytes([0]) + encode(items[:64]))
                write("quic_datagrams", bytes([0]) + encode(items[:4]))

    write("parse_units", bytes([SEL_SSLV2]) + SSLV2_CLIENT_HELLO)
    write("ssl_stream", bytes([0]) + encode([(True, SSLV2_CLIENT_HELLO)]))
    for t in sorted(os.listdir(CORPUS)):
        print(f"{t}: {len(os.listdir(os.path.join(CORPUS, t)))} seeds")


if __name__ == "__main__":
    main()
