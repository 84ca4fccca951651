#!/usr/bin/env python3
"""Adversarial captures for tls-analyzer: generate them, run the analyzer on each, report.

    scripts/make-adversarial.py            # write target/adversarial/*.pcap[ng]
    scripts/make-adversarial.py --run      # ... then run the release CLI on each under
                                           # /usr/bin/time -v; table in target/adversarial/report.md
    scripts/make-adversarial.py --run NAME...   # only these

Each capture stresses one bound (docs/LIMITS.md) and must finish in bounded time and memory
with the weird or violation named in CASES. The files are large (up to ~100 MB) and are not
committed; small versions of the same cases run in `cargo test` (tests/tests/robust_adversarial.rs).
Capture-layer weirds (reassembly, connection table, truncation) are counted by the capture
front end but not printed by `tls-analyzer events`; `cargo test --release -p pac-tests --test
robust_adversarial -- --ignored --nocapture` lists them for these files.

Standard library only. Checksums are left zero: the analyzer ignores them like `zeek -C`.
"""

import json
import os
import random
import re
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target", "adversarial")
BIN = os.path.join(ROOT, "target", "release", "tls-analyzer")

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


class Pcap:
    """A little-endian microsecond pcap written straight to a file."""

    def __init__(self, path, snaplen=262144, linktype=1):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        self.ts = 1_700_000_000.0

    def frame(self, frame, caplen=None, tick=0.000001):
        self.ts += tick
        caplen = len(frame) if caplen is None else caplen
        sec = int(self.ts)
        usec = int(round((self.ts - sec) * 1e6)) % 1_000_000
        self.f.write(struct.pack("<IIII", sec, usec, caplen, len(frame)))
        self.f.write(frame[:caplen])

    def close(self):
        self.f.close()


def ipv4(src, dst, proto, l4):
    eth = b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x08\x00"
    total = 20 + len(l4)
    total = total if total <= 0xFFFF else 0  # 0: segmentation offload, "the captured length"
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, proto, 0, src, dst)
    return eth + hdr + l4


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0) + payload


def addr(n):
    return bytes([10, (n >> 16) & 255, (n >> 8) & 255, n & 255])


class Conn:
    """One TCP connection written into a Pcap, tracking both sequence numbers."""

    def __init__(self, pcap, cport, sport=443, client=b"\x0a\x00\x00\x01", server=b"\x0a\x00\x00\x02"):
        self.p, self.cport, self.sport, self.c, self.s = pcap, cport, sport, client, server
        self.cseq, self.sseq = 1000, 500000

    def seg(self, from_client, flags, data=b"", seq=None):
        if from_client:
            s = self.cseq if seq is None else seq
            f = ipv4(self.c, self.s, 6, tcp(self.cport, self.sport, s, self.sseq, flags, data))
        else:
            s = self.sseq if seq is None else seq
            f = ipv4(self.s, self.c, 6, tcp(self.sport, self.cport, s, self.cseq, flags, data))
        self.p.frame(f)
        if seq is None:
            adv = len(data) + (1 if flags & (SYN | FIN) else 0)
            if from_client:
                self.cseq += adv
            else:
                self.sseq += adv

    def open(self):
        self.seg(True, SYN)
        self.seg(False, SYN | ACK)
        self.seg(True, ACK)

    def send(self, from_client, data, mss=1400):
        for i in range(0, len(data), mss):
            self.seg(from_client, PSH | ACK, data[i : i + mss])

    def close(self):
        self.seg(True, FIN | ACK)
        self.seg(False, FIN | ACK)
        self.seg(True, ACK)


def record(ct, body, version=0x0303):
    return struct.pack(">BHH", ct, version, len(body)) + body


def handshake(t, body):
    return struct.pack(">B", t) + len(body).to_bytes(3, "big") + body


def client_hello(extensions=b""):
    body = b"\x03\x03" + b"\x42" * 32 + b"\x00" + b"\x00\x02\xc0\x2f" + b"\x01\x00"
    return handshake(1, body + struct.pack(">H", len(extensions)) + extensions)


def records_of(msg, ct=22, size=16384):
    return b"".join(record(ct, msg[i : i + size]) for i in range(0, len(msg), size))


# ---------------------------------------------------------------------------------------------
# The cases. Each writes one file and returns nothing; CASES below names what each must raise.


def tiny_records(path, n=1_000_000):
    """A ClientHello, then n one-byte handshake records: a stream of 4-byte hello_request
    messages cut into single bytes (handshake reassembly across records at its worst)."""
    p = Pcap(path)
    c = Conn(p, 40001)
    c.open()
    c.send(True, records_of(client_hello()))
    c.send(False, records_of(handshake(2, b"\x03\x03" + b"\x11" * 32 + b"\x00\xc0\x2f\x00")))
    stream = bytearray()
    msg = handshake(0, b"")
    for i in range(n):
        stream += record(22, msg[i % 4 : i % 4 + 1])
    c.send(True, bytes(stream))
    c.close()
    p.close()


def huge_handshake(path, sent=12 * 1024 * 1024):
    """A handshake message declaring 16 MiB - 1 (0xFFFFFF), followed by 12 MiB of records."""
    p = Pcap(path)
    c = Conn(p, 40002)
    c.open()
    c.send(True, records_of(client_hello()))
    head = b"\x0b\xff\xff\xff"
    body = head + b"\x00" * (sent - len(head))
    c.send(False, records_of(body))
    c.close()
    p.close()


def many_one_byte_connections(path, n=100_000):
    """n TCP connections, each: handshake, one byte (0x16) from the client, no close."""
    p = Pcap(path)
    for i in range(n):
        c = Conn(p, 1024 + i % 60000, 443, addr(i + 1), b"\xc0\xa8\x00\x01")
        c.open()
        c.seg(True, PSH | ACK, b"\x16")
    p.close()


def syn_flood(path, n=1_000_000):
    """n SYNs from distinct sources to one server port; never answered."""
    p = Pcap(path)
    rnd = random.Random(1)
    dst = b"\xc0\xa8\x00\x01"
    for i in range(n):
        f = ipv4(addr(i + 1), dst, 6, tcp(1024 + rnd.randrange(60000), 443, rnd.getrandbits(32), 0, SYN))
        p.frame(f)
    p.close()


def overlapping_retransmissions(path, rounds=2000):
    """A client sending ClientHello after ClientHello with conflicting copies of each: the
    second half first (held out of order), then a copy of that half with different bytes (0xff,
    compared with the held bytes: rexmit_inconsistency), then the first half (which delivers the
    hello), then zeros over the whole, already delivered, range (dropped: the first bytes seen
    win; delivered bytes are not kept for comparison)."""
    p = Pcap(path)
    c = Conn(p, 40003)
    c.open()
    hello = records_of(client_hello(b"\x00\x00\x00\x00" * 8))
    half = len(hello) // 2
    for _ in range(rounds):
        seq = c.cseq
        c.seg(True, PSH | ACK, hello[half:], seq=seq + half)
        c.seg(True, PSH | ACK, b"\xff" * (len(hello) - half), seq=seq + half)
        c.seg(True, PSH | ACK, hello[:half], seq=seq)
        c.seg(True, PSH | ACK, bytes(len(hello)), seq=seq)
        c.cseq += len(hello)
    c.close()
    p.close()


def many_extensions(path):
    """Hellos whose lists have tens of thousands of entries, one connection each (a hello's
    extension block is at most 65,535 bytes): 16,000 empty unknown extensions; supported_groups
    with 32,000 groups; signature_algorithms with 32,000 pairs; server_name with 10,000 names;
    and a server Certificate message listing 20,000 one-byte certificates."""
    p = Pcap(path)
    server_hello = records_of(handshake(2, b"\x03\x03" + b"\x11" * 32 + b"\x00\xc0\x2f\x00"))

    def conn(port, hello_exts, server=b""):
        c = Conn(p, port)
        c.open()
        c.send(True, records_of(client_hello(hello_exts)))
        if server:
            c.send(False, server)
        c.close()

    def ext(code, body):
        return struct.pack(">HH", code, len(body)) + body

    def vec16(items):
        return struct.pack(">H", len(items)) + items

    conn(40004, b"".join(struct.pack(">HH", 0xFF00 + (i % 200), 0) for i in range(16_000)))
    conn(40005, ext(10, vec16(b"".join(struct.pack(">H", 0x0100 + i % 4000) for i in range(32_000)))))
    conn(40006, ext(13, vec16(b"".join(struct.pack(">H", 0x0401 + i % 300) for i in range(32_000)))))
    names = b"".join(b"\x00" + struct.pack(">H", 3) + b"a%02d" % (i % 100) for i in range(10_000))
    conn(40007, ext(0, vec16(names)))
    certs = b"".join(b"\x00\x00\x01" + bytes([i % 256]) for i in range(20_000))
    cert_msg = handshake(11, len(certs).to_bytes(3, "big") + certs)
    conn(40008, b"", server_hello + records_of(cert_msg))
    p.close()


def cut_mid_packet(path):
    """A normal TLS 1.2 hello exchange whose file ends in the middle of the last packet."""
    p = Pcap(path)
    c = Conn(p, 40006)
    c.open()
    c.send(True, records_of(client_hello(b"\x00\x17\x00\x00")))
    c.send(False, records_of(handshake(2, b"\x03\x03" + b"\x11" * 32 + b"\x00\xc0\x2f\x00")))
    c.send(True, records_of(handshake(16, b"\x20" + b"\x33" * 32)))
    p.close()
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - 30)


def pcapng_unknown_blocks(path):
    """A pcapng whose packets are interleaved with blocks of unknown and reserved types, a
    custom block, an unknown option in the interface description, a second section, and an
    Enhanced Packet Block naming an interface that does not exist."""

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def epb(iface, ts_us, frame):
        return block(6, struct.pack("<IIIII", iface, ts_us >> 32, ts_us & 0xFFFFFFFF, len(frame), len(frame)) + frame)

    tmp = path + ".tmp.pcap"
    p = Pcap(tmp)
    c = Conn(p, 40007)
    c.open()
    c.send(True, records_of(client_hello(b"\x00\x17\x00\x00")))
    c.send(False, records_of(handshake(2, b"\x03\x03" + b"\x11" * 32 + b"\x00\xc0\x2f\x00")))
    c.close()
    p.close()
    frames = []
    data = open(tmp, "rb").read()
    os.remove(tmp)
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[off : off + 16])
        frames.append((sec * 1_000_000 + usec, data[off + 16 : off + 16 + incl]))
        off += 16 + incl

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    unknown_opt = struct.pack("<HH", 0x7FFF, 5) + b"hello\0\0\0" + struct.pack("<HH", 0, 0)
    idb = block(1, struct.pack("<HHI", 1, 0, 262144) + unknown_opt)
    out = bytearray(shb + idb)
    for i, (ts, fr) in enumerate(frames):
        out += block(0x0BADF00D, b"unknown block type %d" % i)
        out += block(0x80000001 + i, b"\x01\x02\x03\x04" * (i % 5))  # local-use types
        out += block(0x00000042, b"")  # an unassigned type, empty body
        # Custom blocks (copiable and not): a private enterprise number, then anything.
        out += block(0x00000BAD, struct.pack("<I", 32473) + b"custom block, copyable")
        out += block(0x40000BAD, struct.pack("<I", 32473) + b"custom block")
        out += epb(0, ts, fr)
        if i == 3:
            out += epb(7, ts, fr)  # no interface 7
    # A second section with its own interface, then one more unknown block.
    out += shb + idb + block(0x0BADF00D, b"tail")
    open(path, "wb").write(bytes(out))


def snaplen_4gib(path):
    """A pcap whose header claims a 4 GiB - 1 snaplen, with normal packets, then one record
    claiming 4 GiB - 1 captured bytes (the file ends long before)."""
    p = Pcap(path, snaplen=0xFFFFFFFF)
    c = Conn(p, 40008)
    c.open()
    c.send(True, records_of(client_hello(b"\x00\x17\x00\x00")))
    c.send(False, records_of(handshake(2, b"\x03\x03" + b"\x11" * 32 + b"\x00\xc0\x2f\x00")))
    p.f.write(struct.pack("<IIII", int(p.ts) + 1, 0, 0xFFFFFFFF, 0xFFFFFFFF))
    p.f.write(b"\x00" * 64)
    p.close()


def ccs_flood(path, records=15):
    """TLS 1.3 hello exchange, then one TSO-sized frame (IPv4 total length 0, ~1 MiB, as
    captured with segmentation offload) of ChangeCipherSpec records of 65,535 bytes. Like Zeek,
    every CCS byte is one ssl_change_cipher_spec (TLS 1.3 CCS changes no state): ~2 million
    events out of one delivery, the largest amplification of input into output."""
    p = Pcap(path)
    c = Conn(p, 40010)
    c.open()
    c.send(True, records_of(client_hello(b"\x00\x17\x00\x00")))
    sh = b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x13\x01\x00" + b"\x00\x06\x00\x2b\x00\x02\x03\x04"
    c.send(False, records_of(handshake(2, sh)))
    payload = b"".join(record(20, b"\x01" * 65535) for _ in range(records))
    seg = tcp(c.sport, c.cport, c.sseq, c.cseq, PSH | ACK, payload)
    frame = ipv4(c.s, c.c, 6, seg)  # over 64 KiB: total length 0, as with offload
    p.frame(frame)
    c.sseq += len(payload)
    c.close()
    p.close()


# name -> (generator, file name, what it must produce)
CASES = {
    "tiny-records": (tiny_records, "tiny-records.pcap",
                     "1,000,000 one-byte handshake records after a hello exchange"),
    "huge-handshake": (huge_handshake, "huge-handshake.pcap",
                       "violation: flow buffer expand past max capacity (16 MiB message > 10 MiB cap)"),
    "one-byte-connections": (many_one_byte_connections, "one-byte-connections.pcap",
                             "100,000 connections, 1 byte each: no SSL (detection waits), no output"),
    "syn-flood": (syn_flood, "syn-flood.pcap", "1,000,000 SYNs: connections tracked, no output"),
    "overlapping-retransmissions": (overlapping_retransmissions, "overlapping-retransmissions.pcap",
                                    "capture weird rexmit_inconsistency; the first transmission's 2,000 hellos analysed"),
    "many-extensions": (many_extensions, "many-extensions.pcap",
                        "16,000 ssl_extension events in one hello; vectors of 32,000; 10,000 server names; 20,000 certificates"),
    "cut-mid-packet": (cut_mid_packet, "cut-mid-packet.pcap",
                       "events before the cut, then a truncation error (exit 1)"),
    "pcapng-unknown-blocks": (pcapng_unknown_blocks, "pcapng-unknown-blocks.pcapng",
                              "unknown blocks skipped; capture weird pcapng_unknown_interface"),
    "ccs-flood": (ccs_flood, "ccs-flood.pcap",
                  "~2M ssl_change_cipher_spec + ssl_plaintext_data from one 1 MiB frame"),
    "snaplen-4gib": (snaplen_4gib, "snaplen-4gib.pcap",
                     "events of the packets, then an error for the 4 GiB record (no 4 GiB allocation)"),
}


def run_one(name, path):
    """Runs `tls-analyzer events --format json` under /usr/bin/time -v; returns a dict."""
    cmd = ["/usr/bin/time", "-v", BIN, "events", "--format", "json", "--seed", "1", path]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    err = proc.stderr.decode(errors="replace")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    counts = {}
    notable = {}
    for line in proc.stdout.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        counts[ev["event"]] = counts.get(ev["event"], 0) + 1
        args = ev.get("args", {})
        if ev["event"] in ("conn_weird", "net_weird", "weird", "flow_weird", "analyzer_violation_info"):
            key = args.get("name") or args.get("reason") or json.dumps(args)[:120]
            notable[key] = notable.get(key, 0) + 1
    msg = [l for l in err.splitlines() if l.startswith("tls-analyzer:")]
    return {
        "name": name,
        "size": os.path.getsize(path),
        "wall": wall,
        "rss_kb": int(rss.group(1)) if rss else None,
        "exit": proc.returncode,
        "events": sum(counts.values()),
        "top": sorted(counts.items(), key=lambda kv: -kv[1])[:4],
        "notable": notable,
        "stderr": msg[:2],
    }


def main(argv):
    run = "--run" in argv
    names = [a for a in argv if not a.startswith("--")] or list(CASES)
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        gen, fname, _ = CASES[name]
        path = os.path.join(OUT, fname)
        t0 = time.monotonic()
        gen(path)
        print(f"wrote {path} ({os.path.getsize(path):,} bytes, {time.monotonic() - t0:.1f}s)")
    if not run:
        return
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "tls-analyzer"], cwd=ROOT, check=True)
    rows = []
    for name in names:
        r = run_one(name, os.path.join(OUT, CASES[name][1]))
        rows.append(r)
        print(json.dumps(r))
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("| case | input | wall s | peak RSS MiB | exit | events | weirds / violations / errors |\n")
        f.write("|---|---|---|---|---|---|---|\n")
        for r in rows:
            notes = "; ".join(f"{k} x{v}" for k, v in r["notable"].items()) or "-"
            if r["stderr"]:
                notes += "; " + " ".join(r["stderr"])
            rss = f"{r['rss_kb'] / 1024:.1f}" if r["rss_kb"] else "?"
            f.write(f"| {r['name']} | {r['size'] / 1e6:.1f} MB | {r['wall']:.2f} | {rss} | {r['exit']} | {r['events']:,} | {notes} |\n")
    print(open(os.path.join(OUT, "report.md")).read())


if __name__ == "__main__":
    main(sys.argv[1:])
