//! The front end over Zeek's own test captures, read where they lie (`../shared/conformance`,
//! or `$TLS_ANALYZER_CONFORMANCE_DIR`): `zeek/traces` and `zeek-quic/traces` (the four QUIC
//! traces the first corpus lacks; its README says to look in both places). `$PAC_TRACES_DIR`
//! replaces both with one directory of captures.
//!
//! Every capture reads without error, every connection ends, and no connection direction gets
//! a TCP byte more than an independent count of TCP payload on the wire (made with etherparse,
//! packet by packet, with Zeek's and tshark's reading of the IPv4 total length: see
//! [`ip_endpoints`]). The captures `zeek/manifest.json` lists are known to be clean, so for them
//! also no frame is undecodable and nearly every byte on the wire is delivered; a capture the
//! manifest does not list is held only to what holds for any capture, and one the front end
//! refuses is reported and skipped instead of failing the run.
//! When the corpus is missing the test is ignored (probed at build time, see `analyzer/build.rs`).
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "../../tests/src/require.rs"]
mod require;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, LenSource, TransportSlice};
use tls_analyzer::capture::source::{read_records, Record};
use tls_analyzer::capture::{self, ConnInfo, FlowHandler, Input, Options, Proto, Verdict};

fn conformance_dir() -> PathBuf {
    match std::env::var_os("TLS_ANALYZER_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"),
    }
}

/// The directories of captures to walk.
fn traces_dirs() -> Vec<PathBuf> {
    if let Some(d) = std::env::var_os("PAC_TRACES_DIR") {
        return vec![PathBuf::from(d)];
    }
    let c = conformance_dir();
    vec![c.join("zeek/traces"), c.join("zeek-quic/traces")]
}

/// The captures `zeek/manifest.json` lists (paths relative to `zeek/traces`).
fn manifest_traces() -> HashSet<PathBuf> {
    let path = conformance_dir().join("zeek/manifest.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return HashSet::new();
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    v["traces"]
        .as_object()
        .map(|m| m.keys().map(PathBuf::from).collect())
        .unwrap_or_default()
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

/// The addresses of a packet whose IP payload Zeek and tshark read, or `None` for one whose
/// payload they skip.
///
/// An IPv4 total length of 0 is what TCP segmentation offload leaves in captures taken on the
/// sending host: Zeek (weird `ip_hdr_len_zero`) and tshark ("reported as 0, presumed to be
/// because of TSO") both take the packet to run to the end of the captured frame. Any other
/// total length that disagrees with the frame (shorter than the header, or longer than the
/// frame: a truncated packet) makes both of them skip the packet's payload, and so does an IPv6
/// payload length that disagrees with the frame. etherparse's strict slicer rejects the TSO
/// packet outright (that counted 0 bytes where 22354 were on the wire, in
/// `quic/383379789-decrypt-crash.pcap`); its lax slicer falls back to the frame length for every
/// disagreement, so the rule is applied here from what it reports.
fn ip_endpoints(net: &LaxNetSlice<'_>) -> Option<(IpAddr, IpAddr)> {
    match net {
        LaxNetSlice::Ipv4(s) => {
            let h = s.header();
            let p = s.payload();
            let tso = h.total_len() == 0 && !p.incomplete;
            (p.len_source == LenSource::Ipv4HeaderTotalLen || tso).then(|| {
                (
                    IpAddr::V4(h.source_addr()),
                    IpAddr::V4(h.destination_addr()),
                )
            })
        }
        LaxNetSlice::Ipv6(s) => {
            let h = s.header();
            let p = s.payload();
            (p.len_source == LenSource::Ipv6HeaderPayloadLen).then(|| {
                (
                    IpAddr::V6(h.source_addr()),
                    IpAddr::V6(h.destination_addr()),
                )
            })
        }
    }
}

/// TCP payload bytes per (sender, receiver), counted with etherparse, packet by packet
/// (retransmissions included, so this is an upper bound on what reassembly may deliver).
fn raw_tcp_payload(input: &Input) -> HashMap<(Endpoint, Endpoint), u64> {
    let mut sums = HashMap::new();
    let _ = read_records(input, |rec| {
        let Record::Frame(f) = rec else { return };
        let sliced = match f.linktype {
            1 => LaxSlicedPacket::from_ethernet(f.data).ok(),
            101 | 12 | 14 | 228 | 229 => LaxSlicedPacket::from_ip(f.data).ok(),
            // Linux cooked capture: 16 bytes of header, the EtherType in the last two.
            113 => match (f.data.get(14..16), f.data.get(16..)) {
                (Some(&[a, b]), Some(rest)) => Some(LaxSlicedPacket::from_ether_type(
                    EtherType(u16::from_be_bytes([a, b])),
                    rest,
                )),
                _ => None,
            },
            0 | 108 => f
                .data
                .get(4..)
                .and_then(|d| LaxSlicedPacket::from_ip(d).ok()),
            _ => None,
        };
        let Some(p) = sliced else { return };
        let Some((src, dst)) = p.net.as_ref().and_then(ip_endpoints) else {
            return;
        };
        if let Some(TransportSlice::Tcp(t)) = &p.transport {
            *sums
                .entry(((src, t.source_port()), (dst, t.destination_port())))
                .or_default() += t.payload().len() as u64;
        }
    });
    sums
}

/// Writes past libtest's output capture (which only takes `print!`/`eprint!`), so that what the
/// test reported and skipped is seen in a plain `cargo test`.
fn report(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn zeek_traces_read_cleanly_with_sane_tcp_byte_counts() {
    let dirs: Vec<PathBuf> = traces_dirs().into_iter().filter(|d| d.is_dir()).collect();
    if dirs.is_empty() {
        require::skip_or_fail(
            "conformance",
            &format!(
                "the capture front end over Zeek's traces ({:?})",
                traces_dirs()
            ),
        );
        return;
    }
    let listed: HashSet<PathBuf> = {
        let base = conformance_dir().join("zeek/traces");
        manifest_traces()
            .iter()
            .map(|rel| canonical(&base.join(rel)))
            .collect()
    };
    let mut files = Vec::new();
    for dir in &dirs {
        let mut v = Vec::new();
        collect(dir, &mut v);
        v.sort();
        files.extend(v.into_iter().map(|p| (dir.clone(), p)));
    }
    assert!(!files.is_empty(), "no traces in {dirs:?}");
    let opts = Options {
        seed: Some(1),
        ..Options::default()
    };
    let mut total_delivered = 0u64;
    let mut unlisted = Vec::new();
    let mut refused = Vec::new();
    for (dir, path) in &files {
        let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        // The manifest vouches for its captures being clean; any other file is held only to
        // what holds for every capture.
        let clean = listed.contains(&canonical(path));
        if !clean {
            unlisted.push(name.clone());
        }
        let input = Input::Path(path.clone());
        let mut counter = Counter::default();
        let stats = match capture::run(std::slice::from_ref(&input), &opts, &mut counter) {
            Ok(s) => s,
            Err(e) if !clean => {
                refused.push(format!("{name}: {e}"));
                continue;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        assert!(stats.packets > 0 || !clean, "{name}: no packets");
        assert_eq!(
            counter.ended,
            counter.conns.len(),
            "{name}: every connection ends"
        );
        if clean {
            assert_eq!(stats.link_errors, 0, "{name}: undecodable frames");
        }
        let raw = raw_tcp_payload(&input);
        // The same 5-tuple can be several connections (reuse); count its raw bytes once.
        let mut raw_total = 0;
        let mut counted = HashSet::new();
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
                // Never a byte more than was on the wire (fragments are reassembled by the
                // front end but not by the count)...
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
        // ... and, in a clean capture, nearly all of what was.
        if clean && stats.fragments == 0 && raw_total > 0 {
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
    if !unlisted.is_empty() {
        report(&format!(
            "capture_traces: {} captures not in zeek/manifest.json were held only to the \
             invariants of any capture: {}",
            unlisted.len(),
            unlisted.join(", ")
        ));
    }
    if !refused.is_empty() {
        report(&format!(
            "capture_traces: REPORTED AND SKIPPED {} unlisted files the front end refused:\n  {}",
            refused.len(),
            refused.join("\n  ")
        ));
    }
    assert!(total_delivered > 0);
}
