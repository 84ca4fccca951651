//! Regression tests for robustness findings: every input that once made the analyzer panic,
//! hang, lose data or grow without bound, inline as hex, with what it must do now. The list of
//! findings, how each was found and fixed, is in docs/ROBUSTNESS.md.

#[path = "robust_support.rs"]
mod support;

use support::*;
use tls_analyzer::capture::{self, ConnInfo, FlowHandler, Input, Verdict};

/// Counts frames' worth of deliveries and remembers the capture layer's weirds.
#[derive(Default)]
struct Weirds {
    names: Vec<&'static str>,
    deliveries: usize,
}

impl FlowHandler for Weirds {
    fn tcp_data(&mut self, _: &ConnInfo, _: bool, _: f64, _: &[u8]) -> Verdict {
        self.deliveries += 1;
        Verdict::Continue
    }
    fn udp_datagram(&mut self, _: &ConnInfo, _: bool, _: f64, _: &[u8]) -> Verdict {
        self.deliveries += 1;
        Verdict::Continue
    }
    fn weird(&mut self, _: Option<&ConnInfo>, _: f64, name: &'static str, _: &str) {
        self.names.push(name);
    }
}

/// R1 (found by scripts/make-adversarial.py, pcapng-unknown-blocks): a pcapng Process
/// Information Block (type 0x80000001) of 12 bytes — valid framing, but no room for the process
/// id pcap-parser expects — made pcap-parser report the block as incomplete. The reader then
/// refilled until the end of the input and reported a truncated capture: every packet after the
/// block was lost (on a large file, "record larger than the limit of 1 MiB" instead). tshark and
/// libpcap skip such blocks. Fix: analyzer/src/capture/source.rs skips a block of a type not
/// needed for analysis that pcap-parser cannot parse, by its length fields, and raises the
/// capture weird `pcapng_malformed_block`.
const R1_PCAPNG_SHORT_PROCESS_INFORMATION_BLOCK: &[&str] = &[
    // SHB, IDB (Ethernet), the 12-byte PIB, then one EPB carrying a ClientHello.
    "0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c0000000100000014000000010000000000040014000000",
    "010000800c0000000c000000060000008c00000000000000240a060000401e186a0000006a0000000001020304050607",
    "08090a0b08004500005c00004000400600000a0000010a0000029c4001bb000003e8000000005018ffff000000001603",
    "03002f0100002b03034242424242424242424242424242424242424242424242424242424242424242000002c02f0100",
    "000000008c000000",
];

#[test]
fn r1_malformed_optional_pcapng_block_is_skipped() {
    let bytes = from_hex(&R1_PCAPNG_SHORT_PROCESS_INFORMATION_BLOCK.concat());
    let mut w = Weirds::default();
    let stats = capture::run(
        &[Input::Memory("r1".into(), bytes.clone())],
        &capture::Options::default(),
        &mut w,
    )
    .expect("the capture reads to its end");
    assert_eq!(
        stats.packets, 1,
        "the packet after the malformed block is read"
    );
    assert_eq!(w.deliveries, 1);
    assert_eq!(w.names, ["pcapng_malformed_block"]);
    let out = run_capture("r1", &bytes, &options());
    assert!(out.result.is_ok(), "{:?}", out.result);
    let events = String::from_utf8_lossy(&out.events);
    assert!(events.contains("\"ssl_client_hello\""), "{events}");
}

#[test]
fn r1_holds_for_every_size_and_position_of_the_block() {
    // The same packet after malformed optional blocks of several types and body sizes, in a
    // capture large enough that pcap-parser's buffer must be refilled: all packets are read.
    let base = from_hex(&R1_PCAPNG_SHORT_PROCESS_INFORMATION_BLOCK.concat());
    let (head, tail) = base.split_at(48 + 12); // SHB + IDB + PIB | EPB
    let epb = tail.to_vec();
    for (block_type, body) in [
        (0x8000_0001u32, vec![]),
        (0x8000_0001, vec![1, 2, 3, 4, 5, 6, 7, 8]),
        (0x0000_0bad, vec![]),
        (0x4000_0bad, vec![0, 0]),
        (0x0000_0004, vec![9, 9, 9, 9]),
        (0x0000_0005, vec![]),
    ] {
        let mut body = body;
        body.resize(body.len().div_ceil(4) * 4, 0);
        let len = u32::try_from(12 + body.len()).expect("small");
        let mut block = Vec::new();
        block.extend_from_slice(&block_type.to_le_bytes());
        block.extend_from_slice(&len.to_le_bytes());
        block.extend_from_slice(&body);
        block.extend_from_slice(&len.to_le_bytes());
        let mut bytes = head[..48].to_vec();
        bytes.extend_from_slice(&epb);
        bytes.extend_from_slice(&block);
        for _ in 0..3000 {
            bytes.extend_from_slice(&epb);
        }
        let mut w = Weirds::default();
        let stats = capture::run(
            &[Input::Memory("r1".into(), bytes)],
            &capture::Options::default(),
            &mut w,
        );
        let stats = stats.unwrap_or_else(|e| panic!("block {block_type:#x}: {e}"));
        assert_eq!(stats.packets, 3001, "block {block_type:#x}: {:?}", w.names);
    }
}

/// R2 (fuzz target `capture`, crash-bedf00d3...): a pcapng block whose length field (6) is below
/// the 12 bytes of its own frame. pcap-parser 0.16 checks it only against the block type's
/// header size (4 for a Process Information Block) and then computes `block_len - 12`: an
/// overflow panic in debug builds (the fuzzing build), a 4 GiB read request in release builds.
/// Fix: analyzer/src/capture/source.rs refuses such a block before pcap-parser sees it (the
/// framing cannot be trusted, so it is `CaptureError::Malformed` after the packets before it).
const R2_PCAPNG_BLOCK_SHORTER_THAN_ITS_FRAME: &str =
    "0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c0000000100008006000000 6c0080";

#[test]
fn r2_pcapng_block_shorter_than_its_frame_is_an_error_not_a_panic() {
    let bytes = from_hex(R2_PCAPNG_BLOCK_SHORTER_THAN_ITS_FRAME);
    let r = capture::run(
        &[Input::Memory("r2".into(), bytes.clone())],
        &capture::Options::default(),
        &mut Weirds::default(),
    );
    let err = r.expect_err("malformed").to_string();
    assert!(err.contains("below the 12-byte minimum"), "{err}");
    let out = run_capture("r2", &bytes, &options());
    assert!(out.result.is_err());

    // The same short block after a real packet: the packet is still analysed, and every short
    // length (0..12) and block type is refused the same way.
    let r1 = from_hex(&R1_PCAPNG_SHORT_PROCESS_INFORMATION_BLOCK.concat());
    let (head, epb) = (&r1[..48], &r1[60..]);
    for len in 0u32..12 {
        for block_type in [0x8000_0001u32, 6, 1, 3, 0x0bad, 0x1234] {
            let mut bytes = [head, epb].concat();
            bytes.extend_from_slice(&block_type.to_le_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&[0; 12]);
            let mut w = Weirds::default();
            let r = capture::run(
                &[Input::Memory("r2".into(), bytes)],
                &capture::Options::default(),
                &mut w,
            );
            assert!(r.is_err(), "type {block_type:#x} length {len}");
            assert_eq!(w.deliveries, 1, "type {block_type:#x} length {len}");
        }
    }
}

/// R3 (found while writing robust_adversarial.rs; docs/ROBUSTNESS.md F6, fixed by c79cf60):
/// since b438301 a removal after a violation waits for "the next packet", which the analyzer
/// recognised by a new timestamp, and the pipeline never told it where packets end. Packets
/// sharing a timestamp (coarse clocks, offloaded bursts, hostile captures) kept a removed
/// analyzer running: a handshake header declaring 16 MiB, then 2 MiB of zeros, gave 520,194
/// `ssl_handshake_message` events after the violation. Now the capture front end reports the
/// end of every frame (`FlowHandler::packet_done`) and the removal happens there.
const R3_CLIENT_HELLO: &str =
    "160301002f0100002b03034242424242424242424242424242424242424242424242424242424242424242000002c02f01000000";
/// A Certificate header declaring 16 MiB - 1: the violation.
const R3_HUGE_HEADER: &str = "16030300040bffffff";
/// 16 zero bytes in a handshake record: four hello_request messages if still analysed.
const R3_ZEROS: &str = "160303001000000000000000000000000000000000";

#[test]
fn r3_packets_sharing_a_timestamp_end_the_analyzer_after_a_violation() {
    let mut pcap = Pcap::new();
    let mut c = TcpConn::new(40000, 443);
    // Every frame at the same time.
    c.open(&mut pcap, 1.0);
    c.segment(&mut pcap, 1.0, true, flags::PSH, &from_hex(R3_CLIENT_HELLO));
    c.segment(&mut pcap, 1.0, false, flags::PSH, &from_hex(R3_HUGE_HEADER));
    for _ in 0..3 {
        c.segment(&mut pcap, 1.0, false, flags::PSH, &from_hex(R3_ZEROS));
    }
    let out = run_capture("r3", &pcap.bytes, &options());
    assert!(out.result.is_ok(), "{:?}", out.result);
    let events = String::from_utf8_lossy(&out.events);
    let names: Vec<&str> = events
        .lines()
        .filter_map(|l| l.split("\"event\":\"").nth(1)?.split('"').next())
        .collect();
    let violation = names
        .iter()
        .position(|n| *n == "analyzer_violation_info")
        .expect("the 16 MiB header is a violation");
    assert!(
        !names[violation..].contains(&"ssl_handshake_message"),
        "events after the violation: {:?}",
        &names[violation..]
    );
}
