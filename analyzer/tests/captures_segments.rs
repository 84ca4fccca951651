//! The captures' TCP segments rewritten in memory — split into tiny segments, duplicated,
//! overlapped with identical content, delivered out of order, one dropped — and analysed again.
//!
//! What TCP reassembly promises the analyzer: the same bytes in the same order whatever the
//! segmentation, so the same events (and ssl.log). With a segment dropped, Zeek's behaviour: the
//! SSL analyzer sees a content gap and delivers nothing more for the connection, so its events
//! are exactly those from before the lost segment, and other connections are untouched.
//!
//! Comparisons run with `--no-stop-after-established` (every record analysed, so the
//! application data and close_notify alerts after the handshake are compared too) and with the
//! default, where the analyzer stops once the connection is established.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use serde_json::Value;
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, EventFormat, LogFormat, Outputs, RunOptions};

/// One pcap record: timestamp and frame.
#[derive(Clone, Debug)]
struct Packet {
    sec: u32,
    usec: u32,
    frame: Vec<u8>,
}

impl Packet {
    fn micros(&self) -> u64 {
        u64::from(self.sec) * 1_000_000 + u64::from(self.usec)
    }
}

/// The TCP facts of a frame needed to rebuild it with another payload or sequence number.
#[derive(Clone, Debug)]
struct Tcp {
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    psh: bool,
    window: u16,
    payload: Vec<u8>,
}

/// Reads a little-endian microsecond pcap (what `tests/captures` holds).
fn read_pcap(bytes: &[u8]) -> (Vec<u8>, Vec<Packet>) {
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "LE microsecond pcap"
    );
    let header = bytes[..24].to_vec();
    let mut packets = Vec::new();
    let mut off = 24;
    let le = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap());
    while off < bytes.len() {
        let h = &bytes[off..off + 16];
        let caplen = le(&h[8..12]) as usize;
        packets.push(Packet {
            sec: le(&h[0..4]),
            usec: le(&h[4..8]),
            frame: bytes[off + 16..off + 16 + caplen].to_vec(),
        });
        off += 16 + caplen;
    }
    (header, packets)
}

fn write_pcap(header: &[u8], packets: &[Packet]) -> Vec<u8> {
    let mut out = header.to_vec();
    for p in packets {
        let len = u32::try_from(p.frame.len()).unwrap().to_le_bytes();
        out.extend_from_slice(&p.sec.to_le_bytes());
        out.extend_from_slice(&p.usec.to_le_bytes());
        out.extend_from_slice(&len);
        out.extend_from_slice(&len);
        out.extend_from_slice(&p.frame);
    }
    out
}

/// The TCP segment of an Ethernet/IPv4 frame, if it is one.
fn tcp_of(frame: &[u8]) -> Option<Tcp> {
    let s = SlicedPacket::from_ethernet(frame).unwrap();
    let Some(NetSlice::Ipv4(ip)) = &s.net else {
        return None;
    };
    let Some(TransportSlice::Tcp(t)) = &s.transport else {
        return None;
    };
    Some(Tcp {
        src: ip.header().source(),
        dst: ip.header().destination(),
        sport: t.source_port(),
        dport: t.destination_port(),
        seq: t.sequence_number(),
        ack: t.ack().then(|| t.acknowledgment_number()),
        syn: t.syn(),
        fin: t.fin(),
        rst: t.rst(),
        psh: t.psh(),
        window: t.window_size(),
        payload: t.payload().to_vec(),
    })
}

/// A frame carrying `payload` at `offset` bytes into the segment `t` (valid checksums, no TCP
/// options: nothing the analyzer looks at). Only data-only segments are rebuilt, so SYN and
/// FIN never need to move.
fn rebuild(t: &Tcp, offset: usize, payload: &[u8]) -> Vec<u8> {
    assert!(
        !t.syn && !t.fin && !t.rst,
        "only data segments are rewritten"
    );
    let seq = t.seq.wrapping_add(u32::try_from(offset).unwrap());
    let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(t.src, t.dst, 64)
        .tcp(t.sport, t.dport, seq, t.window);
    if let Some(ack) = t.ack {
        b = b.ack(ack);
    }
    if t.psh {
        b = b.psh();
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

/// A data-only segment, the kind the variants rewrite.
fn data_segment(p: &Packet) -> Option<Tcp> {
    tcp_of(&p.frame).filter(|t| !t.payload.is_empty() && !t.syn && !t.fin && !t.rst)
}

/// Replaces every data segment by the pieces `pieces(len)` returns, as (offset, length), in
/// the order returned; each piece keeps the segment's timestamp.
fn rewrite(packets: &[Packet], pieces: impl Fn(usize) -> Vec<(usize, usize)>) -> Vec<Packet> {
    let mut out = Vec::new();
    for p in packets {
        match data_segment(p) {
            Some(t) => {
                for (off, len) in pieces(t.payload.len()) {
                    out.push(Packet {
                        frame: rebuild(&t, off, &t.payload[off..off + len]),
                        ..p.clone()
                    });
                }
            }
            None => out.push(p.clone()),
        }
    }
    out
}

/// How a variant cuts a segment of the given length: (offset, length) pieces, in sending order.
type Pieces = fn(usize) -> Vec<(usize, usize)>;

/// Tiny segments of 1, 2, 3, 5, 7, 11, 1, 2, ... bytes.
fn tiny(len: usize) -> Vec<(usize, usize)> {
    const SIZES: [usize; 6] = [1, 2, 3, 5, 7, 11];
    let mut v = Vec::new();
    let mut off = 0;
    for size in SIZES.iter().cycle() {
        if off == len {
            break;
        }
        let n = (*size).min(len - off);
        v.push((off, n));
        off += n;
    }
    v
}

/// The segment, then the same segment again (a retransmission).
fn duplicated(len: usize) -> Vec<(usize, usize)> {
    vec![(0, len), (0, len)]
}

/// The first two thirds, then the last two thirds (the middle third is sent twice, with the
/// same bytes), then the whole segment once more.
fn overlapping(len: usize) -> Vec<(usize, usize)> {
    if len < 3 {
        return vec![(0, len), (0, len)];
    }
    let (a, b) = (len / 3, 2 * len / 3);
    vec![(0, b), (a, len - a), (0, len)]
}

/// Three pieces, last first: the later bytes wait in the reassembler until the first piece
/// fills the hole.
fn reversed(len: usize) -> Vec<(usize, usize)> {
    if len < 3 {
        return vec![(0, len)];
    }
    let (a, b) = (len / 3, 2 * len / 3);
    vec![(b, len - b), (a, b - a), (0, a)]
}

/// Swaps every pair of adjacent data segments of the same direction of one connection; the
/// timestamps stay in place (so both are delivered at the second one's time).
fn swapped(packets: &[Packet]) -> (Vec<Packet>, usize) {
    let mut out = packets.to_vec();
    let mut swaps = 0;
    let mut i = 0;
    while i + 1 < out.len() {
        let (a, b) = (data_segment(&out[i]), data_segment(&out[i + 1]));
        if let (Some(a), Some(b)) = (a, b) {
            if (a.src, a.sport, a.dst, a.dport) == (b.src, b.sport, b.dst, b.dport) {
                let fa = std::mem::take(&mut out[i].frame);
                out[i].frame = std::mem::replace(&mut out[i + 1].frame, fa);
                swaps += 1;
                i += 2;
                continue;
            }
        }
        i += 1;
    }
    (out, swaps)
}

/// The TCP captures (DTLS ones are UDP; `http-on-443` yields nothing to compare).
fn tcp_captures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            !n.starts_with("dtls") && n != "http-on-443.pcap"
        })
        .collect();
    v.sort();
    assert_eq!(v.len(), 29);
    v
}

/// One event: when (microseconds), which connection (client port), and the rest.
#[derive(Debug, Clone, PartialEq)]
struct Ev {
    micros: u64,
    orig_p: u64,
    line: Value,
}

fn analyse(pcap: &[u8], stop_after_established: bool) -> (Vec<Ev>, String) {
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(1);
    opts.ssl.disable_analyzer_after_detection = stop_after_established;
    let input = [Input::Memory("variant".into(), pcap.to_vec())];
    let mut events = Vec::new();
    run(
        &input,
        &opts,
        Outputs {
            events: Some((EventFormat::Json, &mut events)),
            log: None,
        },
    )
    .unwrap();
    let mut log = Vec::new();
    run(
        &input,
        &opts,
        Outputs {
            events: None,
            log: Some((LogFormat::Json, &mut log)),
        },
    )
    .unwrap();
    let evs = String::from_utf8(events)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            Ev {
                micros: (v["ts"].as_f64().unwrap() * 1e6).round() as u64,
                orig_p: v["id"]["orig_p"].as_u64().unwrap(),
                line: v,
            }
        })
        .collect();
    (evs, String::from_utf8(log).unwrap())
}

/// The events without their timestamps.
fn untimed(evs: &[Ev]) -> Vec<Value> {
    evs.iter()
        .map(|e| {
            let mut v = e.line.clone();
            v.as_object_mut().unwrap().remove("ts");
            v
        })
        .collect()
}

const MODES: [(bool, &str); 2] = [(false, "no stop after established"), (true, "default")];

#[test]
fn resegmented_streams_give_the_same_events() {
    let variants: [(&str, Pieces); 4] = [
        ("tiny segments", tiny),
        ("duplicated segments", duplicated),
        ("overlapping segments", overlapping),
        ("out-of-order pieces", reversed),
    ];
    for path in tcp_captures() {
        let name = path.file_name().unwrap().to_str().unwrap();
        let (header, packets) = read_pcap(&std::fs::read(&path).unwrap());
        for (stop, mode) in MODES {
            let (clean, clean_log) = analyse(&write_pcap(&header, &packets), stop);
            assert!(!clean.is_empty(), "{name}");
            for (variant, pieces) in variants {
                let rewritten = rewrite(&packets, pieces);
                assert!(
                    rewritten.len() > packets.len(),
                    "{name}: {variant} changed nothing"
                );
                let (evs, log) = analyse(&write_pcap(&header, &rewritten), stop);
                // In the default mode the analyzer stops after the delivery that established
                // the connection; with finer segments that delivery can end earlier in the
                // record stream, so only the handshake up to ssl_established and its record
                // are compared there. Without the stop, everything is.
                if stop {
                    assert_eq!(
                        through_established(&evs),
                        through_established(&clean),
                        "{name}: {variant} ({mode})"
                    );
                } else {
                    assert_eq!(evs, clean, "{name}: {variant} ({mode})");
                }
                assert_eq!(log, clean_log, "{name}: {variant} ({mode}): ssl.log");
            }
        }
    }
}

/// Per connection, its events up to `ssl_established` and the one after it (the record that
/// established the connection); all of them for a connection never established.
fn through_established(evs: &[Ev]) -> Vec<Ev> {
    let mut out = Vec::new();
    let mut cut: Vec<(u64, usize)> = Vec::new();
    for e in evs {
        let left = cut.iter_mut().find(|(p, _)| *p == e.orig_p);
        match left {
            Some((_, 0)) => continue,
            Some((_, n)) => *n -= 1,
            None => {}
        }
        if e.line["event"] == "ssl_established" {
            cut.retain(|(p, _)| *p != e.orig_p);
            cut.push((e.orig_p, 1));
        }
        out.push(e.clone());
    }
    out
}

#[test]
fn swapped_segments_give_the_same_events_later() {
    let mut total_swaps = 0;
    for path in tcp_captures() {
        let name = path.file_name().unwrap().to_str().unwrap();
        let (header, packets) = read_pcap(&std::fs::read(&path).unwrap());
        let (swapped, swaps) = swapped(&packets);
        if swaps == 0 {
            continue;
        }
        total_swaps += swaps;
        let (clean, clean_log) = analyse(&write_pcap(&header, &packets), false);
        let (evs, log) = analyse(&write_pcap(&header, &swapped), false);
        // The first of a swapped pair arrives with the second's timestamp, so the times of
        // its events move; nothing else may change.
        assert_eq!(untimed(&evs), untimed(&clean), "{name}");
        assert_eq!(log, clean_log, "{name}: ssl.log");
    }
    assert!(
        total_swaps >= 10,
        "only {total_swaps} swaps: the test lost its teeth"
    );
}

#[test]
fn a_dropped_segment_ends_the_connections_analysis_at_the_gap() {
    let mut victims = 0;
    for path in tcp_captures() {
        let name = path.file_name().unwrap().to_str().unwrap();
        let (header, packets) = read_pcap(&std::fs::read(&path).unwrap());
        for (stop, mode) in MODES {
            let (clean, _) = analyse(&write_pcap(&header, &packets), stop);
            for (i, p) in packets.iter().enumerate() {
                let Some(t) = data_segment(p) else {
                    continue;
                };
                // Events are told apart from the dropped packet's by time: skip a packet that
                // shares its timestamp with the one before.
                if i > 0 && packets[i - 1].micros() == p.micros() {
                    continue;
                }
                let client_port = if t.sport > t.dport { t.sport } else { t.dport };
                let mut dropped = packets.clone();
                dropped.remove(i);
                let (evs, log) = analyse(&write_pcap(&header, &dropped), stop);
                let expected: Vec<Ev> = clean
                    .iter()
                    .filter(|e| e.orig_p != u64::from(client_port) || e.micros < p.micros())
                    .cloned()
                    .collect();
                assert_eq!(evs, expected, "{name}: packet {i} dropped ({mode})");
                // The connection still has its ssl.log row once it was seen as SSL.
                let seen = expected.iter().any(|e| e.orig_p == u64::from(client_port));
                let has_row = log.lines().any(|l| {
                    let v: Value = serde_json::from_str(l).unwrap();
                    v["id.orig_p"] == u64::from(client_port)
                });
                assert_eq!(
                    has_row, seen,
                    "{name}: packet {i} dropped ({mode}): ssl.log"
                );
                victims += 1;
            }
        }
    }
    assert!(victims > 300, "{victims} segments dropped");
}
