//! Decapsulation on damaged input, on stable Rust in every `cargo test` (the `tunnels` fuzz
//! target goes further with libFuzzer): every byte of the first 96 bytes of every packet of a
//! set of wrapped captures (the outer headers and the tunnel headers) is damaged, one at a
//! time (set to 0x00, to 0xff or flipped, in turn from byte to byte, so that each byte gets one
//! damage and each damage every third byte), and every packet is cut at every eighth length up
//! to 96 bytes; each
//! damaged capture is analysed with tunnel.log. Nothing may panic, and tunnel.log must stay
//! consistent: a tunnel is closed or expired only after it was discovered, and discovered
//! again only after that.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::collections::HashSet;
use std::path::Path;

use tls_analyzer::capture::Input;
use tls_analyzer::run::{run_with_logs, LogFormat, OtherLogs, Outputs, RunOptions};

/// The wrappings with the most header logic (every tunnel type, nesting, options, extension
/// headers, origin indication).
const CAPTURES: [&str; 7] = [
    "tls13-nested.pcap",
    "tls13-gtp.pcap",
    "tls13-ipv6-teredo.pcap",
    "tls13-erspan3.pcap",
    "tls13-pptp.pcap",
    "dtls12-geneve.pcap",
    "dtls12-ayiya.pcap",
];

/// Bytes of each packet that are damaged.
const HEAD: usize = 96;

/// Offsets of the records of a classic pcap file: (offset of the record header, captured
/// length).
fn records(pcap: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push((at, len));
        at += 16 + len;
    }
    out
}

/// Runs a capture and checks tunnel.log's consistency.
fn check(name: &str, what: &str, bytes: Vec<u8>) {
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(1);
    let mut tunnel = Vec::new();
    let mut events = Vec::new();
    let _ = run_with_logs(
        &[Input::Memory(name.to_string(), bytes)],
        &opts,
        Outputs {
            events: Some((tls_analyzer::run::EventFormat::Json, &mut events)),
            log: None,
        },
        OtherLogs {
            tunnel: Some((LogFormat::Json, &mut tunnel)),
            ..OtherLogs::default()
        },
    );
    let mut active: HashSet<String> = HashSet::new();
    for line in String::from_utf8(tunnel).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = format!(
            "{} {} {} {}",
            v["id.orig_h"], v["id.orig_p"], v["id.resp_h"], v["id.resp_p"]
        );
        let ok = if v["action"] == "Tunnel::DISCOVER" {
            active.insert(key)
        } else {
            active.remove(&key)
        };
        assert!(ok, "{name} {what}: inconsistent tunnel.log at {line}");
    }
}

#[test]
fn damaged_tunnel_headers_neither_panic_nor_confuse_tunnel_log() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/captures/tunnels");
    let mut runs = 0usize;
    for name in CAPTURES {
        let pcap = std::fs::read(dir.join(name)).unwrap();
        let recs = records(&pcap);
        assert!(recs.len() > 10, "{name}: {} records", recs.len());
        for (r, &(rec, len)) in recs.iter().enumerate() {
            let data = rec + 16;
            for i in 0..HEAD.min(len) {
                let orig = pcap[data + i];
                let v = [0x00, 0xff, orig ^ 0x80][(i + r) % 3];
                if v == orig {
                    continue;
                }
                let mut m = pcap.clone();
                m[data + i] = v;
                check(name, &format!("byte {i} of record at {rec} = {v:#x}"), m);
                runs += 1;
            }
            // Cut the packet (the record's captured length shrinks, the rest of the file
            // follows unchanged).
            for cut in (0..HEAD.min(len)).step_by(8) {
                let mut m = pcap[..rec].to_vec();
                let mut hdr = pcap[rec..rec + 16].to_vec();
                hdr[8..12].copy_from_slice(&(cut as u32).to_le_bytes());
                m.extend_from_slice(&hdr);
                m.extend_from_slice(&pcap[data..data + cut]);
                m.extend_from_slice(&pcap[data + len..]);
                check(name, &format!("record at {rec} cut to {cut}"), m);
                runs += 1;
            }
        }
    }
    assert!(runs > 8_000, "{runs} runs");
}
