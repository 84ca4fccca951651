//! The front end over Zeek's own test captures (`../shared/conformance/zeek/traces`, read
//! only): every trace reads without error, and the TCP bytes delivered per connection and
//! direction agree with an independent count of TCP payload made with etherparse.
//! When the directory is missing the test says so loudly and checks nothing.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use tls_analyzer::capture::source::{read_records, Record};
use tls_analyzer::capture::{self, ConnInfo, FlowHandler, Input, Options, Proto, Verdict};

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/zeek/traces")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

type Endpoint = (IpAddr, u16);

/// Per connection and direction: (data bytes, gap bytes).
#[derive(Default)]
struct Counter {
    conns: Vec<ConnInfo>,
    bytes: HashMap<(u64, bool), (u64, u64)>,
    udp: u64,
    ended: usize,
}

impl FlowHandler for Counter {
    fn new_connection(&mut self, c: &ConnInfo) -> Verdict {
        self.conns.push(c.clone());
        Verdict::Continue
    }
    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, data: &[u8]) -> Verdict {
        self.bytes.entry((c.handle, is_orig)).or_default().0 += data.len() as u64;
        Verdict::Continue
    }
    fn tcp_gap(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, len: u64) -> Verdict {
        self.bytes.entry((c.handle, is_orig)).or_default().1 += len;
        Verdict::Continue
    }
    fn udp_datagram(&mut self, _c: &ConnInfo, _o: bool, _ts: f64, data: &[u8]) -> Verdict {
        self.udp += data.len() as u64;
        Verdict::Continue
    }
    fn connection_end(&mut self, _c: &ConnInfo, _ts: f64, _r: capture::EndReason) {
        self.ended += 1;
    }
}

/// TCP payload bytes per (sender, receiver), counted with etherparse, packet by packet
/// (retransmissions included, so this is an upper bound on what reassembly may deliver).
fn raw_tcp_payload(input: &Input) -> HashMap<(Endpoint, Endpoint), u64> {
    let mut sums = HashMap::new();
    let _ = read_records(input, |rec| {
        let Record::Frame(f) = rec else { return };
        let sliced = match f.linktype {
            1 => SlicedPacket::from_ethernet(f.data),
            101 | 12 | 14 | 228 | 229 => SlicedPacket::from_ip(f.data),
            113 => SlicedPacket::from_linux_sll(f.data),
            0 | 108 => match f.data.get(4..) {
                Some(d) => SlicedPacket::from_ip(d),
                None => return,
            },
            _ => return,
        };
        let Ok(p) = sliced else { return };
        let (src, dst) = match &p.net {
            Some(NetSlice::Ipv4(s)) => (
                IpAddr::V4(s.header().source_addr()),
                IpAddr::V4(s.header().destination_addr()),
            ),
            Some(NetSlice::Ipv6(s)) => (
                IpAddr::V6(s.header().source_addr()),
                IpAddr::V6(s.header().destination_addr()),
            ),
            _ => return,
        };
        if let Some(TransportSlice::Tcp(t)) = &p.transport {
            *sums
                .entry(((src, t.source_port()), (dst, t.destination_port())))
                .or_default() += t.payload().len() as u64;
        }
    });
    sums
}

#[test]
fn zeek_traces_read_cleanly_with_sane_tcp_byte_counts() {
    let dir = traces_dir();
    if !dir.is_dir() {
        eprintln!(
            "\n!!!!! SKIPPED: {} is missing; the capture front end was NOT checked against \
             Zeek's traces !!!!!\n",
            dir.display()
        );
        return;
    }
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no traces in {}", dir.display());
    let opts = Options {
        seed: Some(1),
        ..Options::default()
    };
    let mut total_delivered = 0u64;
    for path in &files {
        let input = Input::Path(path.clone());
        let mut counter = Counter::default();
        let stats = capture::run(std::slice::from_ref(&input), &opts, &mut counter)
            .unwrap_or_else(|e| panic!("{e}"));
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        assert!(stats.packets > 0, "{name}: no packets");
        assert_eq!(
            counter.ended,
            counter.conns.len(),
            "{name}: every connection ends"
        );
        assert_eq!(stats.link_errors, 0, "{name}: undecodable frames");
        let raw = raw_tcp_payload(&input);
        // The same 5-tuple can be several connections (reuse); count its raw bytes once.
        let mut raw_total = 0;
        let mut counted = std::collections::HashSet::new();
        let mut delivered_total = 0;
        for c in counter.conns.iter().filter(|c| c.proto == Proto::Tcp) {
            let o = (c.id.orig_h, c.id.orig_p);
            let r = (c.id.resp_h, c.id.resp_p);
            for (is_orig, key) in [(true, (o, r)), (false, (r, o))] {
                let (data, _gap) = counter
                    .bytes
                    .get(&(c.handle, is_orig))
                    .copied()
                    .unwrap_or_default();
                let seen = raw.get(&key).copied().unwrap_or_default();
                // Never a byte more than was on the wire, and (these are mostly clean
                // captures) nearly all of what was.
                if stats.fragments == 0 {
                    assert!(
                        data <= seen,
                        "{name} {} orig={is_orig}: {data} > {seen}",
                        c.uid
                    );
                }
                if counted.insert(key) {
                    raw_total += seen;
                }
                delivered_total += data;
            }
        }
        if stats.fragments == 0 && raw_total > 0 {
            assert!(
                delivered_total * 10 >= raw_total * 9 || stats.tcp_retransmitted_bytes > 0,
                "{name}: delivered {delivered_total} of {raw_total} TCP payload bytes"
            );
        }
        eprintln!(
            "{name}: {} packets, {} conns, tcp delivered {delivered_total}/{raw_total} raw, gaps {}, rexmit {}, udp {}",
            stats.packets, stats.connections, stats.tcp_gap_bytes, stats.tcp_retransmitted_bytes, counter.udp
        );
        total_delivered += delivered_total;
    }
    assert!(total_delivered > 0);
}
