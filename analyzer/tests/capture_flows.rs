//! Flows: TCP reassembly (out of order, retransmission, overlap, gaps), orientation of
//! connections picked up mid-stream, timeouts and closes, fragments, IPv6, UDP, the consumer's
//! Stop, table bounds, and uid determinism.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "capture_util.rs"]
mod util;

use tls_analyzer::capture::source::Frame;
use tls_analyzer::capture::{weird, EndReason, Engine, Options, Proto};
use util::*;

/// Feeds raw IP packets (link type 101) to a fresh engine, then finishes it.
fn feed(opts: Options, packets: &[(f64, Vec<u8>)]) -> (Recorder, Engine) {
    let mut rec = Recorder::default();
    let mut engine = Engine::new(opts);
    for (ts, ip) in packets {
        engine.packet(
            Frame {
                ts: *ts,
                linktype: 101,
                data: ip,
            },
            &mut rec,
        );
    }
    engine.finish(&mut rec);
    (rec, engine)
}

const C: u32 = 100;
const S: u32 = 9000;

fn cli(seq: u32, flags: &str, data: &[u8]) -> Vec<u8> {
    tcp_ip(v4(1), v4(2), 40000, 443, C + seq, S + 1, flags, data)
}

fn srv(seq: u32, ack: u32, flags: &str, data: &[u8]) -> Vec<u8> {
    tcp_ip(v4(2), v4(1), 443, 40000, S + seq, C + ack, flags, data)
}

fn handshake() -> Vec<(f64, Vec<u8>)> {
    vec![
        (1.0, tcp_ip(v4(1), v4(2), 40000, 443, C, 0, "S", b"")),
        (1.1, srv(0, 1, "SA", b"")),
        (1.2, cli(1, "A", b"")),
    ]
}

#[test]
fn out_of_order_retransmitted_and_overlapping_segments() {
    let mut p = handshake();
    p.push((2.0, cli(1, "PA", b"0123")));
    p.push((2.1, cli(9, "PA", b"89ab"))); // ahead: buffered
    p.push((2.2, cli(1, "PA", b"0123"))); // retransmission: dropped
    p.push((2.3, cli(7, "PA", b"67XY"))); // overlaps buffered "89" with "XY": first wins
    p.push((2.4, cli(5, "PA", b"45"))); // fills the hole
    p.push((2.5, cli(13, "PA", b"cd")));
    let (rec, engine) = feed(seeded(), &p);
    assert_eq!(rec.stream(0, true), "0123456789abcd");
    assert_eq!(rec.weirds(), vec![weird::REXMIT_INCONSISTENCY]);
    let stats = engine.stats();
    assert_eq!(stats.tcp_bytes_delivered, 14);
    assert_eq!(stats.tcp_retransmitted_bytes, 4);
    assert_eq!(stats.tcp_gap_bytes, 0);
    assert_eq!(engine.buffered_bytes(), 0);
}

#[test]
fn in_order_data_is_delivered_per_packet() {
    // Each in-order segment is one delivery of exactly its payload (no coalescing copies).
    let mut p = handshake();
    p.push((2.0, cli(1, "PA", b"abc")));
    p.push((2.1, cli(4, "PA", b"defg")));
    let (rec, _) = feed(seeded(), &p);
    let datas: Vec<&[u8]> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::Data { data, .. } => Some(data.as_slice()),
            _ => None,
        })
        .collect();
    assert_eq!(datas, vec![&b"abc"[..], &b"defg"[..]]);
}

#[test]
fn gaps_on_ack_above_hole_and_at_end() {
    let mut p = handshake();
    p.push((2.0, cli(1, "PA", b"aaaa")));
    // Bytes 5..9 are never captured; the server acknowledges them.
    p.push((2.2, cli(9, "PA", b"cccc")));
    p.push((2.3, srv(1, 13, "A", b"")));
    // Later: another hole, this one only closed by the connection's end.
    p.push((2.4, cli(20, "PA", b"eeee")));
    let (rec, engine) = feed(seeded(), &p);
    assert_eq!(rec.stream(0, true), "aaaa<gap 4>cccc<gap 7>eeee");
    assert_eq!(engine.stats().tcp_gap_bytes, 11);
    // The gap is reported before the data after it, and before the end.
    let last = rec.events.last().unwrap();
    assert!(matches!(
        last,
        Ev::End {
            reason: EndReason::EndOfInput,
            ..
        }
    ));
}

#[test]
fn buffer_overflow_turns_the_hole_into_a_gap() {
    let opts = Options {
        max_buffered_bytes_per_direction: 10,
        ..seeded()
    };
    let mut p = handshake();
    p.push((2.0, cli(5, "PA", b"xxxxxx")));
    p.push((2.1, cli(11, "PA", b"yyyyyy")));
    let (rec, _) = feed(opts, &p);
    assert_eq!(rec.stream(0, true), "<gap 4>xxxxxxyyyyyy");
    assert_eq!(rec.weirds(), vec![weird::REASSEMBLY_BUFFER_OVERFLOW]);
}

#[test]
fn mid_stream_pickup_orientation() {
    // First packet is the server's data from 443: the client is the originator anyway
    // (443 is a likely server port, 40000 is not).
    let (rec, _) = feed(
        seeded(),
        &[(1.0, srv(1, 1, "PA", b"hi")), (1.1, cli(1, "A", b"yo"))],
    );
    let c = &rec.conns()[0];
    assert_eq!((c.id.orig_h, c.id.orig_p, c.id.resp_p), (v4(1), 40000, 443));
    assert_eq!(rec.stream(0, false), "hi");
    assert_eq!(rec.stream(0, true), "yo");
    // First packet a SYN-ACK: its receiver is the originator, whatever the ports.
    let synack = tcp_ip(v4(2), v4(1), 7000, 8001, S, C + 1, "SA", b"");
    let (rec, _) = feed(seeded(), &[(1.0, synack)]);
    let c = &rec.conns()[0];
    assert_eq!((c.id.orig_h, c.id.orig_p, c.id.resp_p), (v4(1), 8001, 7000));
    // Neither port likely: the sender of the first packet is the originator.
    let p = tcp_ip(v4(2), v4(1), 7000, 8001, S, C, "PA", b"z");
    let (rec, _) = feed(seeded(), &[(1.0, p)]);
    let c = &rec.conns()[0];
    assert_eq!((c.id.orig_h, c.id.orig_p), (v4(2), 7000));
    // With the heuristic switched off, the first sender wins even from 443.
    let opts = Options {
        likely_server_ports_tcp: Vec::new(),
        ..seeded()
    };
    let (rec, _) = feed(opts, &[(1.0, srv(1, 1, "PA", b"hi"))]);
    assert_eq!(rec.conns()[0].id.orig_p, 443);
}

#[test]
fn fin_rst_close_delay_and_inactivity_timeouts() {
    let mut p = conversation(v4(1), v4(2), 10.0);
    // A packet on another flow 4.9 s after both FINs: the closed connection still lingers.
    p.push((15.5, udp_ip(v4(3), v4(4), 1, 2, b"u")));
    // 5 s after the close it is gone.
    p.push((15.7, udp_ip(v4(3), v4(4), 1, 2, b"u")));
    // The UDP flow times out after 60 s of silence; the next datagram starts a new flow.
    p.push((80.0, udp_ip(v4(3), v4(4), 1, 2, b"v")));
    let (rec, engine) = feed(seeded(), &p);
    assert_eq!(
        rec.ends(),
        vec![
            (0, EndReason::Closed),
            (1, EndReason::Timeout),
            (2, EndReason::EndOfInput)
        ]
    );
    let end_ts: Vec<f64> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::End { ts, .. } => Some(*ts),
            _ => None,
        })
        .collect();
    assert_eq!(end_ts[0], 15.7);
    assert_eq!(engine.stats().udp_connections, 2);

    // RST ends a connection after the same delay; TCP inactivity after 300 s.
    let mut p = handshake();
    p.push((2.0, cli(1, "R", b"")));
    p.push((3.0, tcp_ip(v4(5), v4(6), 1234, 80, 1, 0, "S", b"")));
    p.push((8.0, tcp_ip(v4(7), v4(8), 1, 2, 1, 0, "S", b"")));
    p.push((400.0, tcp_ip(v4(7), v4(8), 1, 2, 1, 0, "S", b"")));
    let (rec, _) = feed(seeded(), &p);
    assert_eq!(
        rec.ends(),
        vec![
            (0, EndReason::Reset),
            (1, EndReason::Timeout),
            (2, EndReason::Timeout),
            (3, EndReason::EndOfInput)
        ]
    );
}

#[test]
fn port_reuse_after_close_is_a_new_connection() {
    let mut p = conversation(v4(1), v4(2), 10.0);
    p.extend(conversation(v4(1), v4(2), 11.0));
    let (rec, _) = feed(seeded(), &p);
    assert_eq!(rec.conns().len(), 2);
    assert_eq!(rec.stream(1, true), "hello");
    assert_eq!(
        rec.ends(),
        vec![(0, EndReason::Closed), (1, EndReason::EndOfInput)]
    );
}

#[test]
fn ipv4_fragments_are_reassembled() {
    // A TCP segment of 40 bytes split into three fragments, sent last-first.
    let seg = cli(1, "PA", b"0123456789abcdefghijklmnopqrstuvwxyz!@#$");
    let ihl = 20;
    let body = &seg[ihl..];
    let frag = |off: usize, len: usize, more: bool| {
        let mut h = seg[..ihl].to_vec();
        let total = (ihl + len) as u16;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        let v = ((off / 8) as u16) | if more { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&v.to_be_bytes());
        h[4..6].copy_from_slice(&77u16.to_be_bytes());
        h.extend_from_slice(&body[off..off + len]);
        h
    };
    let n = body.len();
    let mut p = handshake();
    p.push((2.0, frag(40, n - 40, false)));
    p.push((2.0, frag(24, 16, true)));
    p.push((2.0, frag(0, 24, true)));
    let (rec, engine) = feed(seeded(), &p);
    assert_eq!(
        rec.stream(0, true),
        "0123456789abcdefghijklmnopqrstuvwxyz!@#$"
    );
    assert_eq!(engine.stats().fragments, 3);
    assert_eq!(engine.stats().reassembled, 1);
    assert!(rec.weirds().is_empty());
}

#[test]
fn ipv6_and_udp_flows() {
    let (a, b) = (v6(1), v6(2));
    let mut p: Vec<(f64, Vec<u8>)> = conversation(a, b, 3.0);
    p.push((4.0, udp_ip(a, b, 5555, 443, b"dtls hello")));
    p.push((4.1, udp_ip(b, a, 443, 5555, b"dtls reply")));
    let (rec, _) = feed(seeded(), &p);
    let conns = rec.conns();
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0].proto, Proto::Tcp);
    assert_eq!(conns[0].id.orig_h, a);
    assert_eq!(rec.stream(0, true), "hello");
    assert_eq!(conns[1].proto, Proto::Udp);
    assert_eq!((conns[1].id.orig_p, conns[1].id.resp_p), (5555, 443));
    assert_eq!(rec.stream(1, true), "dtls hello");
    assert_eq!(rec.stream(1, false), "dtls reply");
}

#[test]
fn stop_verdict_ends_delivery_but_not_tracking() {
    let mut p = handshake();
    p.push((2.0, cli(1, "PA", b"first")));
    p.push((2.1, cli(20, "PA", b"later, out of order")));
    p.push((2.2, srv(1, 6, "PA", b"reply")));
    p.push((2.3, cli(6, "PA", b"second")));
    let mut rec = Recorder {
        stop_after: Some(1),
        ..Recorder::default()
    };
    let mut engine = Engine::new(seeded());
    for (ts, ip) in &p {
        engine.packet(
            Frame {
                ts: *ts,
                linktype: 101,
                data: ip,
            },
            &mut rec,
        );
        assert_eq!(engine.buffered_bytes(), 0);
    }
    assert_eq!(engine.active_connections(), 1);
    engine.finish(&mut rec);
    assert_eq!(rec.stream(0, true), "first");
    assert_eq!(rec.stream(0, false), "");
    assert_eq!(
        rec.conns().len(),
        1,
        "later packets stay on the same connection"
    );
    assert_eq!(rec.ends(), vec![(0, EndReason::EndOfInput)]);
}

#[test]
fn full_table_evicts_least_recently_active() {
    let opts = Options {
        max_connections: 2,
        ..seeded()
    };
    let p = vec![
        (1.0, udp_ip(v4(1), v4(2), 1000, 53, b"a")),
        (2.0, udp_ip(v4(1), v4(2), 1001, 53, b"b")),
        (3.0, udp_ip(v4(1), v4(2), 1000, 53, b"a2")),
        (4.0, udp_ip(v4(1), v4(2), 1002, 53, b"c")),
    ];
    let (rec, engine) = feed(opts, &p);
    // Flow 1 (port 1001) was the least recently active when flow 2 arrived.
    assert_eq!(rec.ends()[0], (1, EndReason::Evicted));
    assert!(rec
        .events
        .iter()
        .any(|e| matches!(e, Ev::Weird { handle: Some(1), name } if *name == weird::CONNECTION_TABLE_FULL)));
    assert_eq!(engine.stats().evicted, 1);
}

#[test]
fn uids_are_deterministic_under_a_seed() {
    let mut p = Vec::new();
    for i in 0..20u8 {
        p.push((f64::from(i), udp_ip(v4(i), v4(200), 1000, 443, b"x")));
    }
    let uids = |seed| {
        let (rec, _) = feed(
            Options {
                seed: Some(seed),
                ..Options::default()
            },
            &p,
        );
        rec.conns().into_iter().map(|c| c.uid).collect::<Vec<_>>()
    };
    let a = uids(1);
    assert_eq!(a.len(), 20);
    assert_eq!(a, uids(1));
    assert_ne!(a, uids(2));
    assert!(a.iter().all(|u| u.starts_with('C') && u.len() >= 10));
    let handles: Vec<u64> = feed(seeded(), &p)
        .0
        .conns()
        .iter()
        .map(|c| c.handle)
        .collect();
    assert_eq!(handles, (0..20).collect::<Vec<u64>>());
}

#[test]
fn malformed_packets_raise_weirds_not_panics() {
    let good = cli(1, "PA", b"payload");
    let mut bad_off = good.clone();
    bad_off[20 + 12] = 0xf0; // data offset 60 bytes, beyond the segment
    let mut p = vec![
        (1.0, good[..30].to_vec()), // IP says longer than captured
        (1.1, bad_off),
        (1.2, vec![0x45]),
        (1.3, vec![0x60, 0, 0]),
    ];
    // Every prefix of a valid packet.
    for n in 0..good.len() {
        p.push((2.0, good[..n].to_vec()));
    }
    let (rec, _) = feed(seeded(), &p);
    let w = rec.weirds();
    assert!(w.contains(&weird::TRUNCATED_IP));
    assert!(w.contains(&weird::BAD_TCP_HEADER_LEN));
}
