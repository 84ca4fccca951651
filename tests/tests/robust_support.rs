//! Shared helpers of the robustness tests (`robust_*.rs`), included by them with
//! `#[path = "robust_support.rs"] mod support;`. Cargo also builds this file as a test target of
//! its own; it has no tests, and the `allow(dead_code)` below keeps each includer free to use
//! only part of it.
//!
//! In: the project's captures and fixtures, or hand-made TLS bytes. Out: synthetic pcaps
//! (Ethernet/IPv4/IPv6, TCP conversations with correct sequence numbers, UDP datagrams), the
//! record layout of a pcap (to cut it at a packet or to find the packet a byte belongs to),
//! the TCP/UDP payloads of each connection of a capture (through the analyzer's own capture
//! front end), and runs of the whole pipeline or of the bare SSL analyzer into memory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tls_analyzer::capture::{self, ConnInfo, FlowHandler, Input, Proto, Verdict};
use tls_analyzer::run::{run, EventFormat, LogFormat, Outputs, RunError, RunOptions};
use tls_analyzer::ssl::{Config, Event, EventSink, SslAnalyzer};

/// The directory of the `pac-tests` crate (`tests/`).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.pcap` of `tests/captures`, sorted.
pub fn captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(crate_dir().join("captures"))
        .expect("tests/captures is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    v
}

/// Every `*.pcap` of `tests/captures/quic` (QUIC on loopback, see tests/captures/README.md),
/// sorted.
pub fn quic_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(crate_dir().join("captures").join("quic"))
        .expect("tests/captures/quic is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    v.sort();
    v
}

/// One hex fixture of `tests/fixtures`: its bytes and what its `# params:` line says.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// File name.
    pub name: String,
    /// `records`, `handshake` or `dtls` (the fixture's directory).
    pub kind: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Sent by the client (`side=c`).
    pub client: bool,
    /// The version of the record that carried it.
    pub record_version: u16,
}

/// Every fixture under `tests/fixtures/**/*.hex`, sorted by path.
pub fn fixtures() -> Vec<Fixture> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "hex") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&crate_dir().join("fixtures"), &mut paths);
    paths.sort();
    paths
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            let mut hex = String::new();
            let mut client = true;
            let mut record_version = 0x0303;
            for line in text.lines() {
                if let Some(params) = line.strip_prefix("# params:") {
                    for kv in params.split_whitespace() {
                        match kv.split_once('=') {
                            Some(("side", s)) => client = s == "c",
                            Some(("record_version", v)) => {
                                record_version =
                                    u16::from_str_radix(v.trim_start_matches("0x"), 16).ok()?;
                            }
                            _ => {}
                        }
                    }
                } else if !line.starts_with('#') {
                    hex.extend(line.chars().filter(|c| c.is_ascii_hexdigit()));
                }
            }
            Some(Fixture {
                name: p.file_name()?.to_string_lossy().into_owned(),
                kind: p.parent()?.file_name()?.to_string_lossy().into_owned(),
                bytes: from_hex(&hex),
                client,
                record_version,
            })
        })
        .collect()
}

/// Bytes of a hex string (whitespace and odd trailing digits ignored).
pub fn from_hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|c| match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => c - b'A' + 10,
        })
        .collect();
    digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect()
}

/// A TLS record around `body`.
pub fn tls_record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![content_type];
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(&u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A DTLS record (epoch 0, sequence `seq`) around `body`.
pub fn dtls_record(content_type: u8, version: u16, seq: u64, body: &[u8]) -> Vec<u8> {
    let mut v = vec![content_type];
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&seq.to_be_bytes()[2..]);
    v.extend_from_slice(&u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A handshake message header + body.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut v = vec![msg_type];
    v.extend_from_slice(&len.to_be_bytes()[1..]);
    v.extend_from_slice(body);
    v
}

/// A TLS 1.2 ClientHello body with the given extension block bytes (without its length).
pub fn client_hello_body(extensions: &[u8]) -> Vec<u8> {
    let mut v = vec![0x03, 0x03];
    v.extend_from_slice(&[0x42; 32]);
    v.push(0); // no session id
    v.extend_from_slice(&[0x00, 0x02, 0xc0, 0x2f]);
    v.extend_from_slice(&[0x01, 0x00]);
    v.extend_from_slice(
        &u16::try_from(extensions.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    v.extend_from_slice(extensions);
    v
}

/// Flags of a TCP segment.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// A classic little-endian pcap (microsecond stamps) being written in memory.
#[derive(Debug, Clone)]
pub struct Pcap {
    /// The file so far.
    pub bytes: Vec<u8>,
    /// Packets written.
    pub packets: usize,
}

impl Pcap {
    /// An empty Ethernet pcap with the given snaplen.
    pub fn new() -> Self {
        Self::with_header(1, 262_144)
    }

    /// An empty pcap of `linktype` whose header claims `snaplen`.
    pub fn with_header(linktype: u32, snaplen: u32) -> Self {
        let mut bytes = Vec::with_capacity(1 << 16);
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&snaplen.to_le_bytes());
        bytes.extend_from_slice(&linktype.to_le_bytes());
        Pcap { bytes, packets: 0 }
    }

    /// Appends one frame captured whole at `ts` seconds.
    pub fn frame(&mut self, ts: f64, frame: &[u8]) {
        self.frame_cut(ts, frame, frame.len());
    }

    /// Appends one frame of which only the first `caplen` bytes were captured.
    pub fn frame_cut(&mut self, ts: f64, frame: &[u8], caplen: usize) {
        let caplen = caplen.min(frame.len());
        let secs = ts.floor();
        let usecs = ((ts - secs) * 1e6).round();
        self.bytes.extend_from_slice(&(secs as u32).to_le_bytes());
        self.bytes.extend_from_slice(&(usecs as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&u32::try_from(caplen).unwrap_or(u32::MAX).to_le_bytes());
        self.bytes
            .extend_from_slice(&u32::try_from(frame.len()).unwrap_or(u32::MAX).to_le_bytes());
        self.bytes.extend_from_slice(&frame[..caplen]);
        self.packets += 1;
    }
}

impl Default for Pcap {
    fn default() -> Self {
        Self::new()
    }
}

/// An Ethernet + IPv4 frame around `l4` of protocol `proto`.
pub fn ipv4_frame(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(34 + l4.len());
    f.extend_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00]);
    let total = u16::try_from(20 + l4.len()).unwrap_or(u16::MAX);
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(l4);
    f
}

/// A TCP header (no options) + payload.
pub fn tcp_segment(sport: u16, dport: u16, seq: u32, ack: u32, fl: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, fl, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

/// A UDP header + payload.
pub fn udp_datagram(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(
        &u16::try_from(8 + payload.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// A TCP connection being written into a [`Pcap`]: tracks both sequence numbers.
#[derive(Debug, Clone)]
pub struct TcpConn {
    /// Client address.
    pub client: [u8; 4],
    /// Server address.
    pub server: [u8; 4],
    /// Client port.
    pub cport: u16,
    /// Server port.
    pub sport: u16,
    /// Next client sequence number.
    pub cseq: u32,
    /// Next server sequence number.
    pub sseq: u32,
}

impl TcpConn {
    /// A connection between two fixed addresses on the given ports.
    pub fn new(cport: u16, sport: u16) -> Self {
        TcpConn {
            client: [10, 0, 0, 1],
            server: [10, 0, 0, 2],
            cport,
            sport,
            cseq: 1000,
            sseq: 5000,
        }
    }

    /// The three-way handshake.
    pub fn open(&mut self, pcap: &mut Pcap, ts: f64) {
        self.segment(pcap, ts, true, flags::SYN, &[]);
        self.segment(pcap, ts, false, flags::SYN | flags::ACK, &[]);
        self.segment(pcap, ts, true, flags::ACK, &[]);
    }

    /// One segment in a direction; advances that direction's sequence number by the payload
    /// (and by one for SYN/FIN).
    pub fn segment(&mut self, pcap: &mut Pcap, ts: f64, from_client: bool, fl: u8, data: &[u8]) {
        let frame = self.frame(from_client, fl, data);
        pcap.frame(ts, &frame);
        let adv = u32::try_from(data.len()).unwrap_or(u32::MAX)
            + u32::from(fl & (flags::SYN | flags::FIN) != 0);
        if from_client {
            self.cseq = self.cseq.wrapping_add(adv);
        } else {
            self.sseq = self.sseq.wrapping_add(adv);
        }
    }

    /// The frame of a segment at the current sequence numbers, without advancing them.
    pub fn frame(&self, from_client: bool, fl: u8, data: &[u8]) -> Vec<u8> {
        let (src, dst, sp, dp, seq, ack) = if from_client {
            (
                self.client,
                self.server,
                self.cport,
                self.sport,
                self.cseq,
                self.sseq,
            )
        } else {
            (
                self.server,
                self.client,
                self.sport,
                self.cport,
                self.sseq,
                self.cseq,
            )
        };
        let fl = if fl & flags::SYN != 0 && fl & flags::ACK == 0 {
            fl
        } else {
            fl | flags::ACK
        };
        ipv4_frame(src, dst, 6, &tcp_segment(sp, dp, seq, ack, fl, data))
    }

    /// Data in a direction, one segment per `mss` bytes, 1 µs apart (packets sharing a
    /// timestamp are one packet to the SSL analyzer's removal logic: docs/ROBUSTNESS.md F6).
    pub fn send(&mut self, pcap: &mut Pcap, ts: f64, from_client: bool, data: &[u8], mss: usize) {
        for (i, chunk) in data.chunks(mss.max(1)).enumerate() {
            self.segment(pcap, ts + i as f64 * 1e-6, from_client, flags::PSH, chunk);
        }
    }
}

/// Where the records of a classic pcap start: (offset of the 16-byte record header, captured
/// length). Stops at the first record that does not fit. Empty for anything but a classic pcap.
pub fn pcap_records(bytes: &[u8]) -> Vec<(usize, usize)> {
    let le = match bytes.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1]) | Some([0x4d, 0x3c, 0xb2, 0xa1]) => true,
        Some([0xa1, 0xb2, 0xc3, 0xd4]) | Some([0xa1, 0xb2, 0x3c, 0x4d]) => false,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    let mut off = 24;
    while let Some(h) = bytes.get(off..off + 16) {
        let raw = [h[8], h[9], h[10], h[11]];
        let incl = if le {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        } as usize;
        if off + 16 + incl > bytes.len() {
            break;
        }
        out.push((off, incl));
        off += 16 + incl;
    }
    out
}

/// The index of the pcap record that contains byte `pos` (the global header counts as record
/// 0's), or the number of records when `pos` is past them.
pub fn record_of(records: &[(usize, usize)], pos: usize) -> usize {
    records
        .iter()
        .position(|(off, len)| pos < off + 16 + len)
        .unwrap_or(records.len())
}

/// The capture cut right before record `k` (global header + records `0..k`).
pub fn cut_before(bytes: &[u8], records: &[(usize, usize)], k: usize) -> Vec<u8> {
    let end = records.get(k).map_or(bytes.len(), |(off, _)| *off);
    bytes[..end].to_vec()
}

/// What a whole-pipeline run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// JSON Lines events.
    pub events: Vec<u8>,
    /// TSV ssl.log.
    pub log: Vec<u8>,
    /// The run's result (errors are expected for damaged captures).
    pub result: Result<tls_analyzer::run::Summary, String>,
}

/// Options of every robustness run: fixed uid seed so two runs are comparable.
pub fn options() -> RunOptions {
    let mut o = RunOptions::default();
    o.capture.seed = Some(7);
    o
}

/// `run::run` on one in-memory capture with both outputs.
pub fn run_capture(name: &str, bytes: &[u8], opts: &RunOptions) -> RunOutput {
    let mut events = Vec::new();
    let mut log = Vec::new();
    let result = run(
        &[Input::Memory(name.to_string(), bytes.to_vec())],
        opts,
        Outputs {
            events: Some((EventFormat::Json, &mut events)),
            log: Some((LogFormat::Tsv, &mut log)),
        },
    )
    .map_err(|e: RunError| e.to_string());
    RunOutput {
        events,
        log,
        result,
    }
}

/// `run::run` with the event output only, into `w`.
pub fn run_events_into(
    name: &str,
    bytes: &[u8],
    opts: &RunOptions,
    w: &mut dyn std::io::Write,
) -> Result<tls_analyzer::run::Summary, String> {
    run(
        &[Input::Memory(name.to_string(), bytes.to_vec())],
        opts,
        Outputs {
            events: Some((EventFormat::Json, w)),
            log: None,
        },
    )
    .map_err(|e| e.to_string())
}

/// One connection's payloads as the capture front end delivered them, in order.
#[derive(Debug, Clone)]
pub struct Flow {
    /// TCP or UDP.
    pub proto: Proto,
    /// (from the originator, payload) per delivery (gaps are not recorded).
    pub items: Vec<(bool, Vec<u8>)>,
}

/// Collects every connection's deliveries.
#[derive(Default)]
struct Collector {
    flows: Vec<(u64, Flow)>,
}

impl Collector {
    fn flow(&mut self, c: &ConnInfo) -> &mut Flow {
        if let Some(i) = self.flows.iter().position(|(h, _)| *h == c.handle) {
            return &mut self.flows[i].1;
        }
        self.flows.push((
            c.handle,
            Flow {
                proto: c.proto,
                items: Vec::new(),
            },
        ));
        let last = self.flows.len() - 1;
        &mut self.flows[last].1
    }
}

impl FlowHandler for Collector {
    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, data: &[u8]) -> Verdict {
        self.flow(c).items.push((is_orig, data.to_vec()));
        Verdict::Continue
    }
    fn udp_datagram(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, data: &[u8]) -> Verdict {
        self.flow(c).items.push((is_orig, data.to_vec()));
        Verdict::Continue
    }
}

/// The flows of a capture, through the analyzer's own capture front end.
pub fn flows(bytes: &[u8]) -> Vec<Flow> {
    let mut c = Collector::default();
    let _ = capture::run(
        &[Input::Memory("flows".into(), bytes.to_vec())],
        &capture::Options::default(),
        &mut c,
    );
    c.flows.into_iter().map(|(_, f)| f).collect()
}

/// Keeps every event's printed form.
#[derive(Debug, Default)]
pub struct Transcript {
    /// One `Debug` line per event.
    pub lines: Vec<String>,
    /// Sum of the lines' lengths.
    pub bytes: usize,
}

impl EventSink for Transcript {
    fn event(&mut self, _ts: f64, ev: &Event<'_>) {
        let line = format!("{ev:?}");
        self.bytes += line.len();
        self.lines.push(line);
    }
}

/// Feeds `items` (TCP deliveries or UDP datagrams) to a fresh analyzer. Returns the events
/// and, per delivery, how many events existed before it.
pub fn analyze(
    proto: Proto,
    items: &[(bool, Vec<u8>)],
    config: Config,
) -> (Transcript, Vec<usize>) {
    let mut a = SslAnalyzer::new(config);
    let mut t = Transcript::default();
    let mut before = Vec::with_capacity(items.len());
    for (i, (is_orig, data)) in items.iter().enumerate() {
        before.push(t.lines.len());
        let ts = 1.0 + i as f64;
        match proto {
            Proto::Tcp => a.deliver(*is_orig, ts, data, &mut t),
            Proto::Udp => a.datagram(*is_orig, ts, data, &mut t),
        }
    }
    a.finish(&mut t);
    (t, before)
}

/// An IPv4 address for tests that need many distinct hosts.
pub fn addr(n: u32) -> [u8; 4] {
    let b = n.to_be_bytes();
    [10, b[1], b[2], b[3]]
}
