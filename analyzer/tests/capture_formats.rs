//! Capture formats and link types: pcap (both byte orders, micro/nano), pcapng (two
//! interfaces), gzip, truncation, absurd snap lengths, errors, several inputs.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "capture_util.rs"]
mod util;

use tls_analyzer::capture::{self, CaptureError, EndReason, Input};
use util::*;

/// Wraps the reference conversation in `link` and returns (linktype, timestamped frames).
fn framed(link: Link, v6addrs: bool) -> (u32, Vec<(f64, Vec<u8>)>) {
    let (a, b) = if v6addrs {
        (v6(1), v6(2))
    } else {
        (v4(1), v4(2))
    };
    let mut lt = 0;
    let frames = conversation(a, b, 1_700_000_000.25)
        .into_iter()
        .map(|(ts, ip)| {
            let (l, f) = wrap(link, &ip);
            lt = l;
            (ts, f)
        })
        .collect();
    (lt, frames)
}

fn assert_reference(rec: &Recorder) {
    let conns = rec.conns();
    assert_eq!(conns.len(), 1, "{:?}", rec.events);
    let c = &conns[0];
    assert_eq!((c.id.orig_p, c.id.resp_p), (40000, 443));
    assert_eq!(rec.stream(c.handle, true), "hello");
    assert_eq!(rec.stream(c.handle, false), "world");
    assert_eq!(rec.ends(), vec![(c.handle, EndReason::EndOfInput)]);
    assert!(rec.weirds().is_empty(), "{:?}", rec.weirds());
}

#[test]
fn every_link_type_both_ip_versions() {
    let links = [
        Link::Ethernet,
        Link::Vlan(1),
        Link::Vlan(2),
        Link::Sll,
        Link::Sll2,
        Link::Raw(101),
        Link::Raw(12),
        Link::Raw(14),
        Link::Null { big_endian: false },
        Link::Null { big_endian: true },
        Link::Loop,
        Link::Ppp,
    ];
    for link in links {
        for v6addrs in [false, true] {
            let (lt, frames) = framed(link, v6addrs);
            let (rec, res) = run_bytes(&[pcap(lt, false, false, &frames)], &seeded());
            let stats = res.unwrap_or_else(|e| panic!("{link:?}: {e}"));
            assert_eq!(stats.packets, 8, "{link:?}");
            assert_eq!(stats.tcp_bytes_delivered, 10, "{link:?}");
            assert_reference(&rec);
            let c = &rec.conns()[0];
            assert_eq!(c.id.orig_h.is_ipv6(), v6addrs);
        }
    }
    // The version-specific raw types.
    let (_, frames) = framed(Link::Raw(0), false);
    let (rec, res) = run_bytes(&[pcap(228, false, false, &frames)], &seeded());
    assert!(res.is_ok());
    assert_reference(&rec);
    let (_, frames) = framed(Link::Raw(0), true);
    let (rec, res) = run_bytes(&[pcap(229, false, false, &frames)], &seeded());
    assert!(res.is_ok());
    assert_reference(&rec);
}

#[test]
fn etherparse_built_vlan_and_cooked_frames() {
    use etherparse::{LinuxSllPacketType, PacketBuilder, VlanId};
    let payload = b"vlan payload";
    let mut eth = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .double_vlan(VlanId::try_new(10).unwrap(), VlanId::try_new(20).unwrap())
        .ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
        .udp(5000, 443)
        .write(&mut eth, payload)
        .unwrap();
    let mut sll = Vec::new();
    PacketBuilder::linux_sll(LinuxSllPacketType::OUTGOING, 6, [1, 2, 3, 4, 5, 6, 0, 0])
        .ipv6([1; 16], [2; 16], 64)
        .udp(5001, 443)
        .write(&mut sll, payload)
        .unwrap();
    for (lt, frame) in [(1, eth), (113, sll)] {
        let (rec, res) = run_bytes(&[pcap(lt, false, false, &[(1.0, frame)])], &seeded());
        assert!(res.is_ok());
        let c = &rec.conns()[0];
        assert_eq!(c.proto, capture::Proto::Udp);
        assert_eq!(c.id.resp_p, 443);
        assert_eq!(rec.stream(c.handle, true), "vlan payload");
    }
}

#[test]
fn pcap_byte_orders_and_resolutions() {
    let (lt, frames) = framed(Link::Ethernet, false);
    for big_endian in [false, true] {
        for nano in [false, true] {
            let (rec, res) = run_bytes(&[pcap(lt, big_endian, nano, &frames)], &seeded());
            assert!(res.is_ok(), "be={big_endian} nano={nano}");
            assert_reference(&rec);
            let c = &rec.conns()[0];
            assert!((c.start_ts - 1_700_000_000.25).abs() < 1e-6);
        }
    }
    // Nanoseconds survive: 123 ns after the second.
    let ip = udp_ip(v4(1), v4(2), 1, 2, b"x");
    let (rec, _) = run_bytes(
        &[pcap(101, true, true, &[(1_000.000_000_123, ip.clone())])],
        &seeded(),
    );
    let Some(Ev::Udp { ts, .. }) = rec.events.iter().find(|e| matches!(e, Ev::Udp { .. })) else {
        panic!("no datagram")
    };
    assert!((ts - 1_000.000_000_123).abs() < 1e-10, "{ts}");
}

#[test]
fn pcapng_two_interfaces_different_link_types_and_resolutions() {
    // Interface 0: Ethernet, microseconds. Interface 1: raw IP, nanoseconds.
    let conv = conversation(v4(1), v4(2), 50.0);
    let mut packets = Vec::new();
    for (i, (ts, ip)) in conv.into_iter().enumerate() {
        if i % 2 == 0 {
            packets.push((0, ts, wrap(Link::Ethernet, &ip).1));
        } else {
            packets.push((1, ts + 0.000_000_007, ip));
        }
    }
    let udp = udp_ip(v6(1), v6(2), 4433, 53, b"dns?");
    packets.push((1, 60.000_000_001, udp));
    let bytes = pcapng(&[(1, 6), (101, 9)], &packets);
    let (rec, res) = run_bytes(&[bytes], &seeded());
    let stats = res.expect("pcapng reads");
    assert_eq!(stats.packets, 9);
    let conns = rec.conns();
    assert_eq!(conns.len(), 2);
    assert_eq!(rec.stream(conns[0].handle, true), "hello");
    assert_eq!(rec.stream(conns[0].handle, false), "world");
    // "hello" came on the nanosecond interface.
    let hello_ts = rec
        .events
        .iter()
        .find_map(|e| match e {
            Ev::Data {
                is_orig: true, ts, ..
            } => Some(*ts),
            _ => None,
        })
        .unwrap();
    assert!((hello_ts - 50.300_000_007).abs() < 1e-9, "{hello_ts}");
    // UDP from port 4433 to 53: 53 is a likely server port, so 4433 is the originator.
    assert_eq!(conns[1].id.orig_p, 4433);
    assert!((conns[1].start_ts - 60.000_000_001).abs() < 1e-9);
}

#[test]
fn gzip_compressed_captures() {
    let (lt, frames) = framed(Link::Ethernet, true);
    let plain = pcap(lt, false, false, &frames);
    let (rec, res) = run_bytes(&[gzip(&plain)], &seeded());
    assert!(res.is_ok());
    assert_reference(&rec);
    let ng = pcapng(
        &[(lt, 6)],
        &frames
            .iter()
            .map(|(ts, f)| (0, *ts, f.clone()))
            .collect::<Vec<_>>(),
    );
    let (rec, res) = run_bytes(&[gzip(&ng)], &seeded());
    assert!(res.is_ok());
    assert_reference(&rec);
}

#[test]
fn truncated_capture_delivers_before_the_cut_then_errors() {
    let (lt, frames) = framed(Link::Ethernet, false);
    let full = pcap(lt, false, false, &frames);
    // Cut inside the fifth record ("world"): "hello" must still arrive, then the error.
    let cut =
        full.len() - frames[7].1.len() - 16 - frames[6].1.len() - 16 - frames[5].1.len() - 16 - 10;
    for bytes in [full[..cut].to_vec(), gzip(&full[..cut])] {
        let (rec, res) = run_bytes(&[bytes], &seeded());
        match res {
            Err(CaptureError::Truncated { packets_before, .. }) => assert_eq!(packets_before, 4),
            other => panic!("expected truncation, got {other:?}"),
        }
        let c = &rec.conns()[0];
        assert_eq!(rec.stream(c.handle, true), "hello");
        assert_eq!(rec.ends(), vec![(c.handle, EndReason::EndOfInput)]);
    }
    // A gzip stream cut short (mid-deflate) is a truncated capture too, even when the cut
    // falls where no record is open.
    let gz = gzip(&full);
    let (rec, res) = run_bytes(&[gz[..gz.len() - 12].to_vec()], &seeded());
    assert!(
        matches!(res, Err(CaptureError::Truncated { .. })),
        "{res:?}"
    );
    assert_eq!(rec.conns().len(), 1);
    // Only a partial file header.
    let (_, res) = run_bytes(&[full[..10].to_vec()], &seeded());
    assert!(
        matches!(
            res,
            Err(CaptureError::Truncated {
                packets_before: 0,
                ..
            })
        ),
        "{res:?}"
    );
}

#[test]
fn absurd_snaplen_and_caplen_are_bounded() {
    let (lt, frames) = framed(Link::Ethernet, false);
    // A header claiming a 4 GiB snap length is fine: nothing is sized from it.
    let bytes = pcap_with_snaplen(lt, false, false, u32::MAX, &frames);
    let (rec, res) = run_bytes(&[bytes], &seeded());
    assert!(res.is_ok());
    assert_reference(&rec);
    // A record claiming ~4 GiB of data stops reading with an error instead of allocating.
    let mut bytes = pcap(lt, false, false, &frames[..2]);
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    bytes.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    bytes.extend_from_slice(&vec![0u8; 3 * 1024 * 1024]);
    let (rec, res) = run_bytes(&[bytes], &seeded());
    assert!(
        matches!(
            res,
            Err(CaptureError::PacketTooLarge {
                packets_before: 2,
                ..
            })
        ),
        "{res:?}"
    );
    assert_eq!(rec.conns().len(), 1);
}

#[test]
fn errors_are_specific_and_readable() {
    let missing = Input::from_arg("/nonexistent/dir/trace.pcap");
    let mut rec = Recorder::default();
    let err = capture::run(&[missing], &seeded(), &mut rec).unwrap_err();
    assert!(matches!(err, CaptureError::Open { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/dir/trace.pcap") && msg.contains("cannot open"),
        "{msg}"
    );

    let (_, res) = run_bytes(&[b"GET / HTTP/1.1\r\n".to_vec()], &seeded());
    let err = res.unwrap_err();
    assert!(matches!(err, CaptureError::NotACapture { .. }));
    assert!(err.to_string().contains("not a capture file"), "{err}");
    assert!(err.to_string().contains("47 45 54 20"), "{err}");

    let (_, res) = run_bytes(&[Vec::new()], &seeded());
    assert!(matches!(res, Err(CaptureError::NotACapture { .. })));
    // Gzip of something that is not a capture.
    let (_, res) = run_bytes(&[gzip(b"hello world")], &seeded());
    assert!(matches!(res, Err(CaptureError::NotACapture { .. })));

    assert!(matches!(Input::from_arg("-"), Input::Stdin));
    assert_eq!(Input::from_arg("-").name(), "-");
}

#[test]
fn several_inputs_in_one_run_and_count_packets() {
    let (lt, frames) = framed(Link::Ethernet, false);
    let a = pcap(lt, false, false, &frames);
    let b = gzip(&pcap(lt, true, true, &frames));
    let (rec, res) = run_bytes(&[a.clone(), b.clone()], &seeded());
    let stats = res.unwrap();
    assert_eq!((stats.inputs, stats.packets), (2, 16));
    // Each input's connections end with it, so the same 5-tuple is two connections.
    let conns = rec.conns();
    assert_eq!(conns.len(), 2);
    assert_ne!(conns[0].uid, conns[1].uid);
    assert_eq!(
        rec.ends(),
        vec![(0, EndReason::EndOfInput), (1, EndReason::EndOfInput)]
    );
    // A conversation split over two files: one connection when inputs continue each other,
    // two (the second picked up mid-stream) when they do not.
    let first = pcap(lt, false, false, &frames[..4]);
    let second = pcap(lt, false, false, &frames[4..]);
    let opts = capture::Options {
        continue_across_inputs: true,
        ..seeded()
    };
    let (rec, _) = run_bytes(&[first.clone(), second.clone()], &opts);
    assert_eq!(rec.conns().len(), 1);
    assert_eq!(rec.stream(0, false), "world");
    assert_eq!(rec.ends(), vec![(0, EndReason::EndOfInput)]);
    let (rec, _) = run_bytes(&[first, second], &seeded());
    assert_eq!(rec.conns().len(), 2);
    // The second file starts with the server's data from port 443: still the responder.
    assert_eq!(rec.conns()[1].id.resp_p, 443);
    assert_eq!(rec.stream(1, false), "world");

    let inputs = [
        Input::Memory("a".into(), a.clone()),
        Input::Memory("b".into(), b),
    ];
    let (packets, bytes) = capture::count_packets(&inputs).unwrap();
    let frame_bytes: usize = frames.iter().map(|(_, f)| f.len()).sum();
    assert_eq!((packets, bytes), (16, 2 * frame_bytes as u64));
    assert_eq!(stats.bytes, 2 * frame_bytes as u64);
}

#[test]
fn unsupported_link_type_is_one_weird_per_input() {
    let frames: Vec<(f64, Vec<u8>)> = (0..5).map(|i| (f64::from(i), vec![0u8; 40])).collect();
    let (rec, res) = run_bytes(&[pcap(147, false, false, &frames)], &seeded());
    let stats = res.unwrap();
    assert_eq!(stats.link_errors, 5);
    assert_eq!(rec.weirds(), vec!["unsupported_link_type"]);
}
