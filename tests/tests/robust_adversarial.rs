//! Adversarial captures, built in memory at a size a debug-mode `cargo test` handles in
//! seconds: each must finish with bounded heap (counted by `stats_alloc`) and raise the named
//! weird or violation. The full-size versions (a million records, a million SYNs ...) are made
//! by scripts/make-adversarial.py and measured there (time, peak RSS); the ignored test at the
//! end lists the capture-layer weirds of those files, which `tls-analyzer events` does not print.

#[path = "robust_support.rs"]
mod support;

use std::alloc::System;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Mutex;

use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use support::*;
use tls_analyzer::capture::{self, ConnInfo, FlowHandler, Input, Verdict};
use tls_analyzer::run::RunOptions;

/// Every allocation of this test binary goes through the counting system allocator.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// One test at a time, so the heap counts are the test's own.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn live_bytes() -> usize {
    let s = GLOBAL.stats();
    // stats_alloc adds a realloc's growth to `bytes_allocated` (and its shrinking to
    // `bytes_deallocated`) as well as to `bytes_reallocated`: the first two alone are the heap.
    s.bytes_allocated.saturating_sub(s.bytes_deallocated)
}

/// Event output that counts lines by event name, keeps the weird and violation lines, and
/// samples the heap on every write.
struct Summary {
    base: usize,
    peak: usize,
    counts: BTreeMap<String, usize>,
    notable: Vec<String>,
    partial: Vec<u8>,
}

impl Summary {
    fn new() -> Self {
        Summary {
            base: live_bytes(),
            peak: 0,
            counts: BTreeMap::new(),
            notable: Vec::new(),
            partial: Vec::new(),
        }
    }
    fn count(&self, event: &str) -> usize {
        self.counts.get(event).copied().unwrap_or(0)
    }
    fn has(&self, text: &str) -> bool {
        self.notable.iter().any(|l| l.contains(text))
    }
    fn line(&mut self, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        let name = line
            .split("\"event\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("?");
        if name == "conn_weird" || name == "analyzer_violation_info" {
            self.notable.push(line.trim_end().to_string());
        }
        match self.counts.get_mut(name) {
            Some(n) => *n += 1,
            None => {
                self.counts.insert(name.to_string(), 1);
            }
        }
    }
}

impl Write for Summary {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Sampled before this method allocates anything of its own.
        self.peak = self.peak.max(live_bytes().saturating_sub(self.base));
        let mut rest = buf;
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(nl + 1);
            rest = tail;
            if self.partial.is_empty() {
                self.line(head);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(head);
                self.line(&line);
            }
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs the pipeline (events only) and returns the summary and the run's result.
fn run_summarized(name: &str, bytes: Vec<u8>, opts: &RunOptions) -> (Summary, Result<(), String>) {
    let mut s = Summary::new();
    let result = tls_analyzer::run::run(
        &[Input::Memory(name.to_string(), bytes)],
        opts,
        tls_analyzer::run::Outputs {
            events: Some((tls_analyzer::run::EventFormat::Json, &mut s)),
            log: None,
        },
    )
    .map(|_| ())
    .map_err(|e| e.to_string());
    s.peak = s.peak.max(live_bytes().saturating_sub(s.base));
    (s, result)
}

/// The capture layer's weirds (by name) and statistics.
#[derive(Default)]
struct CaptureWeirds {
    names: BTreeMap<&'static str, usize>,
}

impl FlowHandler for CaptureWeirds {
    fn tcp_data(&mut self, _: &ConnInfo, _: bool, _: f64, _: &[u8]) -> Verdict {
        Verdict::Continue
    }
    fn udp_datagram(&mut self, _: &ConnInfo, _: bool, _: f64, _: &[u8]) -> Verdict {
        Verdict::Continue
    }
    fn weird(&mut self, _: Option<&ConnInfo>, _: f64, name: &'static str, _: &str) {
        *self.names.entry(name).or_default() += 1;
    }
}

fn capture_weirds(
    input: Input,
    opts: &capture::Options,
) -> (CaptureWeirds, Result<capture::Stats, String>) {
    let mut w = CaptureWeirds::default();
    let r = capture::run(&[input], opts, &mut w).map_err(|e| e.to_string());
    (w, r)
}

const SERVER_HELLO_BODY: &[u8] = &[
    0x03, 0x03, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x00, 0xc0, 0x2f, 0x00,
];

/// Records of at most 16 KiB carrying `msg`.
fn records_of(msg: &[u8]) -> Vec<u8> {
    msg.chunks(16384)
        .flat_map(|c| tls_record(22, 0x0303, c))
        .collect()
}

/// A conversation: hello exchange, then `then` from the client.
fn hello_exchange(pcap: &mut Pcap, port: u16) -> TcpConn {
    let mut c = TcpConn::new(port, 443);
    c.open(pcap, 1.0);
    let hello = records_of(&handshake(1, &client_hello_body(&[0, 0x17, 0, 0])));
    c.send(pcap, 1.1, true, &hello, 1400);
    c.send(
        pcap,
        1.2,
        false,
        &records_of(&handshake(2, SERVER_HELLO_BODY)),
        1400,
    );
    c
}

#[test]
fn tiny_records_are_one_event_each_and_the_history_is_capped() {
    let _s = serial();
    let n = 40_000;
    let mut pcap = Pcap::new();
    let mut c = hello_exchange(&mut pcap, 40001);
    // hello_request messages (4 bytes each) cut into one-byte handshake records.
    let msg = handshake(0, &[]);
    let stream: Vec<u8> = (0..n)
        .flat_map(|i| tls_record(22, 0x0303, &msg[i % 4..i % 4 + 1]))
        .collect();
    c.send(&mut pcap, 2.0, true, &stream, 1400);
    let (s, r) = run_summarized("tiny", pcap.bytes, &options());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(s.count("ssl_plaintext_data"), n + 2);
    assert_eq!(s.count("ssl_handshake_message"), n / 4 + 2);
    assert!(
        s.has("SSL_max_ssl_history_length_reached"),
        "{:?}",
        s.notable
    );
    assert!(s.peak < 1 << 20, "heap grew by {} bytes", s.peak);
}

#[test]
fn a_handshake_message_declaring_16_mib_is_a_violation_without_allocating_it() {
    let _s = serial();
    let mut pcap = Pcap::new();
    let mut c = hello_exchange(&mut pcap, 40002);
    let mut body = vec![0x0b, 0xff, 0xff, 0xff];
    body.resize(2 * 1024 * 1024, 0);
    c.send(&mut pcap, 2.0, false, &records_of(&body), 1400);
    let (s, r) = run_summarized("huge", pcap.bytes, &options());
    assert!(r.is_ok(), "{r:?}");
    assert!(
        s.has("flow buffer expand past max capacity 16777219/10485760"),
        "{:?}",
        s.notable
    );
    // The capture itself (in memory before the count starts) is outside the count; the
    // analyzer must not reserve the declared 16 MiB nor buffer the 2 MiB it was sent.
    assert!(
        s.peak < 1 << 20,
        "heap grew by {} bytes: {:?}",
        s.peak,
        s.counts
    );
}

#[test]
fn many_connections_of_one_byte_cost_bounded_memory_each() {
    let _s = serial();
    let n: u32 = 5_000;
    let mut pcap = Pcap::new();
    for i in 0..n {
        let mut c = TcpConn::new(1024 + (i % 60000) as u16, 443);
        c.client = addr(i + 1);
        c.open(&mut pcap, 1.0 + f64::from(i) * 1e-4);
        c.segment(
            &mut pcap,
            1.0 + f64::from(i) * 1e-4,
            true,
            flags::PSH,
            &[0x16],
        );
    }
    let len = pcap.bytes.len();
    let (s, r) = run_summarized("one-byte", pcap.bytes, &options());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(s.counts.values().sum::<usize>(), 0, "{:?}", s.counts);
    // The input copy (len) plus a few KiB per tracked connection at most.
    let per_conn = s.peak.saturating_sub(len) / n as usize;
    assert!(per_conn < 4096, "{per_conn} bytes per connection");
}

#[test]
fn a_syn_flood_fills_the_table_to_its_cap_and_no_further() {
    let _s = serial();
    let n: u32 = 20_000;
    let mut pcap = Pcap::new();
    for i in 0..n {
        let seg = tcp_segment(
            1024 + (i % 60000) as u16,
            443,
            i.wrapping_mul(7919),
            0,
            flags::SYN,
            &[],
        );
        pcap.frame(
            1.0 + f64::from(i) * 1e-5,
            &ipv4_frame(addr(i + 1), [192, 168, 0, 1], 6, &seg),
        );
    }
    let bytes = pcap.bytes;
    let opts = capture::Options {
        max_connections: 1_000,
        seed: Some(1),
        ..capture::Options::default()
    };
    let base = live_bytes();
    let (w, r) = capture_weirds(Input::Memory("syn".into(), bytes.clone()), &opts);
    let stats = r.expect("reads");
    assert_eq!(stats.tcp_connections, u64::from(n));
    assert_eq!(stats.evicted, u64::from(n) - 1_000);
    assert!(
        w.names.contains_key("connection_table_full"),
        "{:?}",
        w.names
    );
    let after = live_bytes().saturating_sub(base);
    assert!(after < 1 << 20, "{after} bytes left after the run");
    // The whole pipeline with the default (1,000,000) cap: no output, bounded memory.
    let len = bytes.len();
    let (s, r) = run_summarized("syn", bytes, &options());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(s.counts.values().sum::<usize>(), 0);
    let per_conn = s.peak.saturating_sub(len) / n as usize;
    assert!(per_conn < 4096, "{per_conn} bytes per connection");
}

#[test]
fn conflicting_retransmissions_keep_the_first_bytes() {
    let _s = serial();
    let rounds = 50;
    let mut pcap = Pcap::new();
    let mut c = TcpConn::new(40003, 443);
    c.open(&mut pcap, 1.0);
    let hello = tls_record(22, 0x0303, &handshake(1, &client_hello_body(&[0; 32])));
    let half = hello.len() / 2;
    let half32 = u32::try_from(half).expect("small");
    for _ in 0..rounds {
        let seq = c.cseq;
        // The second half first (buffered out of order), then a conflicting copy of it
        // (compared with the buffered bytes: rexmit_inconsistency), then the first half, which
        // delivers the whole hello, then zeros over the delivered range (dropped unseen).
        c.cseq = seq.wrapping_add(half32);
        pcap.frame(2.0, &c.frame(true, flags::PSH, &hello[half..]));
        pcap.frame(
            2.0,
            &c.frame(true, flags::PSH, &vec![0xff; hello.len() - half]),
        );
        c.cseq = seq;
        pcap.frame(2.0, &c.frame(true, flags::PSH, &hello[..half]));
        pcap.frame(2.0, &c.frame(true, flags::PSH, &vec![0; hello.len()]));
        c.cseq = seq.wrapping_add(u32::try_from(hello.len()).expect("small"));
    }
    let bytes = pcap.bytes;
    let (w, r) = capture_weirds(
        Input::Memory("rexmit".into(), bytes.clone()),
        &capture::Options::default(),
    );
    assert!(r.is_ok(), "{r:?}");
    assert!(
        w.names.get("rexmit_inconsistency").copied().unwrap_or(0) >= rounds,
        "{:?}",
        w.names
    );
    let (s, r) = run_summarized("rexmit", bytes, &options());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(s.count("ssl_client_hello"), rounds, "{:?}", s.notable);
    assert!(
        s.notable.iter().all(|l| !l.contains("violation")),
        "{:?}",
        s.notable
    );
}

#[test]
fn a_change_cipher_spec_record_of_64_kib_is_one_event_per_byte() {
    let _s = serial();
    // Like Zeek (`RecordText(this)[]`), every byte of a CCS record is one ChangeCipherSpec:
    // the largest amplification of input into events. One IPv4 segment carries the record,
    // so all its events come out of one delivery.
    // In TLS 1.3 a CCS changes no state, so every byte stays a CCS (in TLS 1.2 the first
    // one starts encryption and the rest of the record is ciphertext).
    let n = 65_000;
    let mut pcap = Pcap::new();
    let mut c = TcpConn::new(40009, 443);
    c.open(&mut pcap, 1.0);
    let hello = records_of(&handshake(1, &client_hello_body(&[0, 0x17, 0, 0])));
    c.send(&mut pcap, 1.1, true, &hello, 1400);
    let mut sh = SERVER_HELLO_BODY[..SERVER_HELLO_BODY.len() - 3].to_vec();
    sh.extend_from_slice(&[
        0x13, 0x01, 0x00, 0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
    ]);
    c.send(&mut pcap, 1.2, false, &records_of(&handshake(2, &sh)), 1400);
    let ccs = tls_record(20, 0x0303, &vec![1; n]);
    c.send(&mut pcap, 2.0, false, &ccs, 65_495);
    let (s, r) = run_summarized("ccs", pcap.bytes, &options());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(s.count("ssl_change_cipher_spec"), n, "{:?}", s.counts);
    // The writer hands its lines on every 64 KiB (`EVENT_FLUSH_BYTES`), also inside one
    // delivery: before that fix (F2) the 130,000 lines of the delivery (~34 MB) were held.
    assert!(s.peak < 1 << 20, "heap grew by {} bytes", s.peak);
    eprintln!("CCS record of {n} bytes: heap peak {} bytes", s.peak);
}

#[test]
fn extension_lists_of_tens_of_thousands_of_entries() {
    let _s = serial();
    let ext = |code: u16, body: &[u8]| -> Vec<u8> {
        let mut v = code.to_be_bytes().to_vec();
        v.extend_from_slice(&u16::try_from(body.len()).expect("fits").to_be_bytes());
        v.extend_from_slice(body);
        v
    };
    let vec16 = |items: Vec<u8>| -> Vec<u8> {
        let mut v = u16::try_from(items.len())
            .expect("fits")
            .to_be_bytes()
            .to_vec();
        v.extend(items);
        v
    };
    let empty: Vec<u8> = (0..16_000u16)
        .flat_map(|i| ext(0xff00 + i % 200, &[]))
        .collect();
    let groups = ext(
        10,
        &vec16(
            (0..32_000u16)
                .flat_map(|i| (0x100 + i % 4000).to_be_bytes())
                .collect(),
        ),
    );
    let names = ext(
        0,
        &vec16(
            (0..10_000)
                .flat_map(|i| [0, 0, 3, b'a', b'0' + (i % 10) as u8, b'x'])
                .collect(),
        ),
    );
    let mut pcap = Pcap::new();
    for (i, exts) in [empty, groups, names].iter().enumerate() {
        let mut c = TcpConn::new(40004 + i as u16, 443);
        c.open(&mut pcap, 1.0);
        c.send(
            &mut pcap,
            1.1,
            true,
            &records_of(&handshake(1, &client_hello_body(exts))),
            1400,
        );
    }
    let (s, r) = run_summarized("extensions", pcap.bytes, &options());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(s.count("ssl_extension"), 16_002);
    assert_eq!(s.count("ssl_client_hello"), 3);
    assert_eq!(s.count("ssl_extension_elliptic_curves"), 1);
    assert!(s.has("SSL_many_server_names"), "{:?}", s.notable);
    // The event lines of one delivery are buffered until it is done: the 16,000 lines of the
    // first hello (~220 bytes each, in a doubling buffer) are most of this.
    assert!(s.peak < 16 << 20, "heap grew by {} bytes", s.peak);
}

#[test]
fn a_capture_cut_inside_a_packet_keeps_everything_before() {
    let _s = serial();
    let mut pcap = Pcap::new();
    hello_exchange(&mut pcap, 40006);
    let full = pcap.bytes.clone();
    let (clean, r) = run_summarized("whole", full.clone(), &options());
    assert!(r.is_ok());
    let cut = full[..full.len() - 30].to_vec();
    let (s, r) = run_summarized("cut", cut, &options());
    let err = r.expect_err("a cut capture is an error");
    assert!(err.contains("truncated"), "{err}");
    // The server hello was in the cut packet: everything of the client's side is there.
    assert_eq!(s.count("ssl_client_hello"), 1);
    assert_eq!(clean.count("ssl_server_hello"), 1);
    assert_eq!(s.count("ssl_server_hello"), 0);
}

/// A pcapng block (little-endian).
fn ng_block(block_type: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    body.resize(body.len().div_ceil(4) * 4, 0);
    let len = u32::try_from(12 + body.len()).expect("small");
    let mut v = block_type.to_le_bytes().to_vec();
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(&body);
    v.extend_from_slice(&len.to_le_bytes());
    v
}

#[test]
fn pcapng_unknown_blocks_are_skipped() {
    let _s = serial();
    let mut pcap = Pcap::new();
    hello_exchange(&mut pcap, 40007);
    let records = pcap_records(&pcap.bytes);
    let (clean, _) = run_summarized("pcap", pcap.bytes.clone(), &options());
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let shb = ng_block(0x0a0d_0d0a, &shb);
    let mut idb = vec![1, 0, 0, 0, 0, 0, 4, 0];
    idb.extend_from_slice(&[
        0xff, 0x7f, 5, 0, b'h', b'e', b'l', b'l', b'o', 0, 0, 0, 0, 0, 0, 0,
    ]);
    let idb = ng_block(1, &idb);
    let mut ng = [shb.clone(), idb.clone()].concat();
    for (i, (off, len)) in records.iter().enumerate() {
        let frame = &pcap.bytes[off + 16..off + 16 + len];
        ng.extend(ng_block(0x0bad_f00d, format!("unknown {i}").as_bytes()));
        ng.extend(ng_block(0x8000_0001 + i as u32, &vec![1; i % 3 * 4]));
        ng.extend(ng_block(0x0000_0bad, &[0xd9, 0x7e, 0, 0, b'c']));
        let us = 1_000_000u64 + i as u64;
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((us >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(us as u32).to_le_bytes());
        let l = u32::try_from(frame.len()).expect("small").to_le_bytes();
        epb.extend_from_slice(&l);
        epb.extend_from_slice(&l);
        epb.extend_from_slice(frame);
        ng.extend(ng_block(6, &epb));
        if i == 2 {
            // A packet of an interface that does not exist.
            let mut bad = epb.clone();
            bad[..4].copy_from_slice(&7u32.to_le_bytes());
            ng.extend(ng_block(6, &bad));
        }
    }
    ng.extend([shb, idb, ng_block(0x0bad_f00d, b"tail")].concat());
    let (w, r) = capture_weirds(
        Input::Memory("ng".into(), ng.clone()),
        &capture::Options::default(),
    );
    let stats = r.expect("the pcapng reads to its end");
    assert_eq!(stats.packets as usize, records.len());
    assert_eq!(
        w.names.get("pcapng_unknown_interface"),
        Some(&1),
        "{:?}",
        w.names
    );
    // The local-use blocks with an empty body cannot be parsed as process information blocks.
    assert!(
        w.names.contains_key("pcapng_malformed_block"),
        "{:?}",
        w.names
    );
    let (mut s, r) = run_summarized("ng", ng, &options());
    assert!(r.is_ok(), "{r:?}");
    // The capture weirds are printed as `net_weird` lines (they belong to no connection);
    // everything else is what the clean pcap gives.
    let printed = s.counts.remove("net_weird").unwrap_or(0);
    let counted: usize = w.names.values().sum();
    assert_eq!(printed, counted, "{:?}", w.names);
    assert_eq!(s.counts, clean.counts);
}

#[test]
fn a_4_gib_snaplen_and_record_allocate_nothing_of_that_size() {
    let _s = serial();
    let mut pcap = Pcap::with_header(1, u32::MAX);
    hello_exchange(&mut pcap, 40008);
    let mut bytes = pcap.bytes;
    let packets = pcap.packets;
    // One more record header claiming 4 GiB - 1 captured bytes, then 64 bytes and the end.
    for v in [2_000_000_000u32, 0, u32::MAX, u32::MAX] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes.extend_from_slice(&[0; 64]);
    let len = bytes.len();
    let (s, r) = run_summarized("snaplen", bytes, &options());
    assert!(r.is_err(), "the 4 GiB record is an error");
    assert_eq!(
        s.count("ssl_server_hello"),
        1,
        "packets before it are analysed"
    );
    assert!(s.peak < len + (2 << 20), "heap grew by {} bytes", s.peak);
    assert_eq!(packets, 5);
}

/// The capture-layer weirds of the full-size files of scripts/make-adversarial.py.
#[test]
#[ignore = "needs target/adversarial (scripts/make-adversarial.py); run with --release"]
fn full_size_adversarial_captures_list_their_capture_weirds() {
    let dir = crate_dir().join("..").join("target").join("adversarial");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("run scripts/make-adversarial.py first")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    entries.sort();
    for path in entries {
        let opts = capture::Options {
            seed: Some(1),
            ..capture::Options::default()
        };
        let (w, r) = capture_weirds(Input::Path(path.clone()), &opts);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        match r {
            Ok(st) => println!(
                "{}: {} packets, {} connections, {} evicted, weirds {:?}",
                name.unwrap_or_default(),
                st.packets,
                st.connections,
                st.evicted,
                w.names
            ),
            Err(e) => println!(
                "{}: error {e}; weirds {:?}",
                name.unwrap_or_default(),
                w.names
            ),
        }
    }
}
