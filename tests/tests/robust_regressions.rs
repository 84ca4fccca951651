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
