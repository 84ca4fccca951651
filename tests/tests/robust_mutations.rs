//! A deterministic, bounded mutation campaign over every capture in `tests/captures` and every
//! fixture in `tests/fixtures`, run through the whole pipeline (`run::run` on
//! `Input::Memory`) and through `SslAnalyzer` directly. The stable-toolchain counterpart of the
//! fuzz targets in `fuzz/`: it runs in every `cargo test`.
//!
//! Mutations: bit flips, byte insertions and deletions, length-field changes (TLS record,
//! handshake and DTLS lengths set to 0, ±1, 0x4000, 0xFFFF ...), splices between captures (at a
//! packet boundary and at an arbitrary byte). For each mutated input the test asserts:
//!
//! * no panic (each run is caught and reported with the input's name and the mutation, which
//!   is reproducible from the fixed seed);
//! * bounded output: event and log bytes at most [`OUTPUT_FACTOR`] times the input plus
//!   [`OUTPUT_SLACK`];
//! * bounded memory: the heap grows by at most [`HEAP_SLACK`] plus [`HEAP_FACTOR`] times the
//!   input during a run (sampled on every output write and every event by a counting global
//!   allocator, `stats_alloc`; the runs of this binary are serialized so the count is theirs);
//! * nothing before the damage is lost: the events the clean input produces before the packet
//!   (or delivery) holding the first damaged byte are a prefix of the mutated run's events.
//!
//! QUIC: the captures of `tests/captures/quic` join the pipeline campaign, and a third campaign
//! drives `quic::Quic` with an `SslAnalyzer` behind it (as `session.rs` wires them) on each QUIC
//! flow: half of its mutations damage a datagram's raw bytes, the other half open a decryptable
//! Initial (`pac_tests::quic_craft`), mutate its plaintext frames and seal it again, so that
//! the damage reaches CRYPTO reassembly and the SSL hand-off instead of failing the AEAD tag.
//!
//! Iteration counts are small enough for a debug build on two cores in well under two minutes
//! (see docs/ROBUSTNESS.md for the measured time); set `ROBUST_MUTATIONS_SCALE=N` to run N
//! times as many mutations per input locally.

#[path = "robust_support.rs"]
mod support;

use std::alloc::System;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use pac_tests::quic_craft::{decryptable_initials, pcap_udp_flows, Datagrams};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use support::*;
use tls_analyzer::capture::Proto;
use tls_analyzer::quic::{Out, Quic, QuicConfig};
use tls_analyzer::ssl::{Config, Event, EventSink, SslAnalyzer};

/// Every allocation of this test binary goes through the counting system allocator.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Serializes the campaigns so that the allocator's counts belong to one run at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Mutations per capture for the pipeline campaign.
const PIPELINE_MUTATIONS_PER_CAPTURE: usize = 40;
/// Mutations per connection (and per fixture) for the analyzer campaign.
const ANALYZER_MUTATIONS_PER_FLOW: usize = 60;
/// Mutations per QUIC flow for the QUIC analyzer campaign (half raw, half on decrypted frames).
const QUIC_MUTATIONS_PER_FLOW: usize = 200;
/// Output bytes allowed per input byte. Linear, but large: like Zeek (`RecordText(this)[]`),
/// a ChangeCipherSpec record raises one `ssl_change_cipher_spec` per byte, and each becomes a
/// JSON line of ~190 bytes (more with IPv6 addresses); an empty extension (4 bytes) raises two
/// events. A mutated CCS length reached 111 bytes out per byte in.
const OUTPUT_FACTOR: usize = 256;
/// Output bytes allowed regardless of the input (a log header, a few events of empty input).
const OUTPUT_SLACK: usize = 64 * 1024;
/// Heap growth allowed per input byte during one run.
const HEAP_FACTOR: usize = 16;
/// Heap growth allowed regardless of the input.
const HEAP_SLACK: usize = 4 * 1024 * 1024;

/// SplitMix64: a tiny deterministic generator, so every failure is reproducible by name.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes on the heap right now.
fn live_bytes() -> usize {
    let s = GLOBAL.stats();
    // stats_alloc adds a realloc's growth to `bytes_allocated` (and its shrinking to
    // `bytes_deallocated`) as well as to `bytes_reallocated`: the first two alone are the heap.
    s.bytes_allocated.saturating_sub(s.bytes_deallocated)
}

/// Records the highest heap use seen since `base`.
struct HeapWatch {
    base: usize,
    peak: usize,
}

impl HeapWatch {
    fn start() -> Self {
        HeapWatch {
            base: live_bytes(),
            peak: 0,
        }
    }
    fn sample(&mut self) {
        self.peak = self.peak.max(live_bytes().saturating_sub(self.base));
    }
}

/// An output that keeps its bytes and samples the heap on every write.
struct WatchedOutput<'h> {
    bytes: Vec<u8>,
    heap: &'h mut HeapWatch,
}

impl Write for WatchedOutput<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.heap.sample();
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One mutation and where its first damaged byte is.
#[derive(Debug, Clone)]
struct Mutation {
    what: String,
    first_damaged: usize,
}

/// Offsets of likely length fields in `data`: the 16-bit length of every TLS record header
/// (`[20..=24] 03 [00..=04]`), the 24-bit length of a handshake header right after a
/// handshake record header, and the 16-bit length of DTLS record headers (`[20..=25] fe xx`).
/// Each entry is (offset, width in bytes).
fn length_fields(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for i in 0..data.len().saturating_sub(5) {
        let (ct, v0, v1) = (data[i], data[i + 1], data[i + 2]);
        if (20..=24).contains(&ct) && v0 == 3 && v1 <= 4 {
            out.push((i + 3, 2));
            if ct == 22 && i + 9 <= data.len() {
                out.push((i + 6, 3));
            }
        }
        if (20..=25).contains(&ct) && v0 == 0xfe && i + 13 <= data.len() {
            out.push((i + 11, 2));
        }
    }
    out
}

/// Applies one random mutation to `data`, never touching bytes before `floor` (a capture's
/// global header stays intact so the run gets past it). `other` is the splice partner.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>, floor: usize, other: &[u8]) -> Mutation {
    if data.len() <= floor {
        let byte = rng.next() as u8;
        data.push(byte);
        return Mutation {
            what: format!("append {byte:#04x} to a short input"),
            first_damaged: data.len() - 1,
        };
    }
    let span = data.len().saturating_sub(floor).max(1);
    let pos = floor + rng.below(span);
    let pos = pos.min(data.len().saturating_sub(1));
    match rng.below(6) {
        0 => {
            let bit = rng.below(8);
            if let Some(b) = data.get_mut(pos) {
                *b ^= 1 << bit;
            }
            Mutation {
                what: format!("flip bit {bit} of byte {pos}"),
                first_damaged: pos,
            }
        }
        1 => {
            let byte = rng.next() as u8;
            let n = 1 + rng.below(4);
            for _ in 0..n {
                data.insert(pos.min(data.len()), byte);
            }
            Mutation {
                what: format!("insert {n} x {byte:#04x} at {pos}"),
                first_damaged: pos,
            }
        }
        2 => {
            let n = (1 + rng.below(8)).min(data.len().saturating_sub(pos));
            data.drain(pos..pos + n);
            Mutation {
                what: format!("delete {n} bytes at {pos}"),
                first_damaged: pos,
            }
        }
        3 | 4 => {
            let fields: Vec<(usize, usize)> = length_fields(data)
                .into_iter()
                .filter(|(off, _)| *off >= floor)
                .collect();
            if fields.is_empty() {
                data[pos] = 0xff;
                return Mutation {
                    what: format!("set byte {pos} to 0xff (no length field)"),
                    first_damaged: pos,
                };
            }
            let (off, width) = fields[rng.below(fields.len())];
            let old = data[off..off + width]
                .iter()
                .fold(0u32, |a, b| a << 8 | u32::from(*b));
            let max = if width == 2 { 0xffff } else { 0xff_ffff };
            let new = match rng.below(7) {
                0 => 0,
                1 => old.wrapping_add(1) & max,
                2 => old.wrapping_sub(1) & max,
                3 => max,
                4 => 0x4000,
                5 => old.wrapping_mul(2) & max,
                _ => (rng.next() as u32) & max,
            };
            let be = new.to_be_bytes();
            data[off..off + width].copy_from_slice(&be[4 - width..]);
            Mutation {
                what: format!("length field at {off} ({width} bytes): {old:#x} -> {new:#x}"),
                first_damaged: off,
            }
        }
        _ => {
            // Splice: our bytes up to `pos`, then the partner's from a random point after its
            // own header.
            let from = floor.min(other.len()) + rng.below(other.len().saturating_sub(floor).max(1));
            data.truncate(pos);
            data.extend_from_slice(other.get(from..).unwrap_or(&[]));
            Mutation {
                what: format!("splice at {pos} with partner bytes from {from}"),
                first_damaged: pos,
            }
        }
    }
}

/// Runs `f`, turning a panic into an error naming the case.
fn guarded<T>(case: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("{case}: panicked: {msg}")
    })
}

/// What one pipeline run produced, with the heap peak.
struct Measured {
    events: Vec<u8>,
    log_len: usize,
    heap_peak: usize,
}

fn run_measured(name: &str, bytes: &[u8]) -> Measured {
    let opts = options();
    let mut heap = HeapWatch::start();
    let mut log_heap = HeapWatch::start();
    let (events, log_len) = {
        let mut ev = WatchedOutput {
            bytes: Vec::with_capacity(64 * 1024),
            heap: &mut heap,
        };
        let mut log = WatchedOutput {
            bytes: Vec::with_capacity(16 * 1024),
            heap: &mut log_heap,
        };
        let _ = tls_analyzer::run::run(
            &[tls_analyzer::capture::Input::Memory(
                name.to_string(),
                bytes.to_vec(),
            )],
            &opts,
            tls_analyzer::run::Outputs {
                events: Some((tls_analyzer::run::EventFormat::Json, &mut ev)),
                log: Some((tls_analyzer::run::LogFormat::Tsv, &mut log)),
            },
        );
        (ev.bytes, log.bytes.len())
    };
    Measured {
        events,
        log_len,
        heap_peak: heap.peak.max(log_heap.peak),
    }
}

/// The event lines of a run cut before packet k, minus what only the end of the input
/// produced: an analyzer whose removal was pending (it takes effect with the connection's next
/// packet) is removed by the end of the input, which prints `analyzer_disabled` at the end; in
/// the longer run that line comes later, after other packets' events.
fn without_end_of_input_lines(mut out: Vec<u8>) -> Vec<u8> {
    loop {
        let body = out.strip_suffix(b"\n").unwrap_or(&out);
        let start = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let last = &body[start..];
        if last.is_empty()
            || !last
                .windows(27)
                .any(|w| w == b"\"event\":\"analyzer_disabled\"")
        {
            return out;
        }
        out.truncate(start);
    }
}

/// Statistics of a campaign, printed for docs/ROBUSTNESS.md.
#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    max_output_ratio: f64,
    max_heap: usize,
    prefix_checked_events: usize,
}

/// A fixture as a capture: a TCP (or, for DTLS fixtures, UDP) conversation in which the
/// fixture is sent by its side, after a ClientHello-less start (the analyzer is attached by
/// content, so handshake fixtures are wrapped in records and preceded by a minimal hello).
fn fixture_capture(f: &Fixture) -> Vec<u8> {
    let mut pcap = Pcap::new();
    if f.kind == "dtls" || f.name.starts_with("dtls") {
        let payload = if f.kind == "records" {
            f.bytes.clone()
        } else {
            dtls_record(22, f.record_version, 1, &f.bytes)
        };
        let (src, dst, sp, dp) = if f.client {
            ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 4433)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], 4433, 40000)
        };
        pcap.frame(
            1.0,
            &ipv4_frame(src, dst, 17, &udp_datagram(sp, dp, &payload)),
        );
        return pcap.bytes;
    }
    let mut c = TcpConn::new(40000, 4433);
    c.open(&mut pcap, 1.0);
    let hello = tls_record(22, 0x0301, &handshake(1, &client_hello_body(&[])));
    c.send(&mut pcap, 1.1, true, &hello, 1460);
    let payload = if f.kind == "records" {
        f.bytes.clone()
    } else {
        tls_record(22, f.record_version, &f.bytes)
    };
    c.send(&mut pcap, 1.2, f.client, &payload, 1460);
    pcap.bytes
}

/// Every input of the campaigns: (name, capture bytes).
fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = captures()
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, std::fs::read(p).expect("capture readable"))
        })
        .collect();
    for f in fixtures() {
        v.push((
            format!("fixture {}/{}", f.kind, f.name),
            fixture_capture(&f),
        ));
    }
    v
}

/// The QUIC captures: (name, capture bytes). Kept apart from [`inputs`]: the SSL analyzer
/// campaign would read their UDP payloads as DTLS.
fn quic_inputs() -> Vec<(String, Vec<u8>)> {
    quic_captures()
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| format!("quic/{}", n.to_string_lossy()))
                .unwrap_or_default();
            (name, std::fs::read(p).expect("capture readable"))
        })
        .collect()
}

fn scale() -> usize {
    std::env::var("ROBUST_MUTATIONS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

#[test]
fn pipeline_survives_mutations_and_keeps_the_prefix() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut inputs = inputs();
    let quic = quic_inputs();
    assert_eq!(quic.len(), 9, "the QUIC captures");
    inputs.extend(quic);
    assert!(
        inputs.len() >= 30,
        "captures and fixtures found: {}",
        inputs.len()
    );
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    for (idx, (name, clean)) in inputs.iter().enumerate() {
        let records = pcap_records(clean);
        assert!(!records.is_empty(), "{name}: not a pcap with records");
        let partner = &inputs[(idx + 1) % inputs.len()].1;
        // The clean events before record k, computed once per k.
        let mut prefixes: HashMap<usize, Vec<u8>> = HashMap::new();
        let per_input = if name.starts_with("fixture") {
            PIPELINE_MUTATIONS_PER_CAPTURE / 4
        } else {
            PIPELINE_MUTATIONS_PER_CAPTURE
        };
        let mut rng = Rng(0x5eed ^ idx as u64);
        for i in 0..per_input * scale() {
            let mut data = clean.clone();
            let m = if i == 0 {
                // One packet-boundary splice per input: our first half, the partner's packets.
                let k = records.len() / 2;
                let cut = records[k].0;
                let other = pcap_records(partner);
                let from = other.get(other.len() / 2).map_or(partner.len(), |r| r.0);
                data.truncate(cut);
                data.extend_from_slice(&partner[from..]);
                Mutation {
                    what: format!("splice before packet {k} with the partner's packets"),
                    first_damaged: cut,
                }
            } else {
                mutate(&mut rng, &mut data, 24, partner)
            };
            let case = format!("{name}: mutation {i}: {}", m.what);
            let measured = match guarded(&case, || run_measured(name, &data)) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            tally.runs += 1;
            let out = measured.events.len() + measured.log_len;
            tally.max_output_ratio = tally
                .max_output_ratio
                .max(out as f64 / data.len().max(1) as f64);
            tally.max_heap = tally.max_heap.max(measured.heap_peak);
            if out > OUTPUT_FACTOR * data.len() + OUTPUT_SLACK {
                failures.push(format!(
                    "{case}: {out} output bytes for {} input bytes",
                    data.len()
                ));
            }
            if measured.heap_peak > HEAP_FACTOR * data.len() + HEAP_SLACK {
                failures.push(format!(
                    "{case}: heap grew by {} bytes for {} input bytes",
                    measured.heap_peak,
                    data.len()
                ));
            }
            let k = record_of(&records, m.first_damaged);
            let prefix = prefixes.entry(k).or_insert_with(|| {
                let cut = cut_before(clean, &records, k);
                let mut out = Vec::new();
                let _ = run_events_into(name, &cut, &options(), &mut out);
                without_end_of_input_lines(out)
            });
            if !measured.events.starts_with(prefix) {
                let lines = prefix.split(|b| *b == b'\n').count();
                failures.push(format!(
                    "{case}: the {lines} event lines before packet {k} are not a prefix of the mutated run's"
                ));
            }
            tally.prefix_checked_events += prefix.split(|b| *b == b'\n').count().saturating_sub(1);
        }
    }
    eprintln!("pipeline campaign: {tally:?}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Keeps a hash per event (not the text, so the sink's own memory stays flat) and samples the
/// heap on every event.
struct HashingSink<'h> {
    hashes: Vec<u64>,
    buf: String,
    bytes: usize,
    heap: &'h mut HeapWatch,
}

impl HashingSink<'_> {
    /// Hashes one line of output that is not an SSL event (the QUIC campaign's).
    fn record(&mut self, line: &str) {
        self.buf.clear();
        self.buf.push_str(line);
        self.hash_buf();
    }

    fn hash_buf(&mut self) {
        self.bytes += self.buf.len();
        // FNV-1a: stable and dependency-free.
        let h = self.buf.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        self.hashes.push(h);
    }
}

impl EventSink for HashingSink<'_> {
    fn event(&mut self, _ts: f64, ev: &Event<'_>) {
        self.heap.sample();
        self.buf.clear();
        let _ = write!(self.buf, "{ev:?}");
        self.hash_buf();
    }
}

/// Runs the analyzer over `items`; returns (event hashes, events before each delivery, event
/// text bytes, heap peak).
fn analyze_hashed(
    proto: Proto,
    items: &[(bool, Vec<u8>)],
    config: Config,
) -> (Vec<u64>, Vec<usize>, usize, usize) {
    let mut heap = HeapWatch::start();
    let mut sink = HashingSink {
        hashes: Vec::with_capacity(4096),
        buf: String::with_capacity(1 << 16),
        bytes: 0,
        heap: &mut heap,
    };
    let mut before = Vec::with_capacity(items.len());
    let mut a = SslAnalyzer::new(config);
    for (i, (is_orig, data)) in items.iter().enumerate() {
        before.push(sink.hashes.len());
        let ts = 1.0 + i as f64;
        match proto {
            Proto::Tcp => a.deliver(*is_orig, ts, data, &mut sink),
            Proto::Udp => a.datagram(*is_orig, ts, data, &mut sink),
        }
        sink.heap.sample();
    }
    a.finish(&mut sink);
    let (hashes, bytes) = (sink.hashes, sink.bytes);
    (hashes, before, bytes, heap.peak)
}

#[test]
fn ssl_analyzer_survives_mutations_and_keeps_the_prefix() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut flows_all: Vec<(String, Flow)> = Vec::new();
    for (name, bytes) in inputs() {
        for (i, f) in flows(&bytes).into_iter().enumerate() {
            if !f.items.is_empty() {
                flows_all.push((format!("{name} flow {i}"), f));
            }
        }
    }
    assert!(flows_all.len() >= 30, "flows found: {}", flows_all.len());
    let configs = [
        Config::default(),
        Config {
            disable_analyzer_after_detection: false,
            disable_analyzer_after_violation: false,
            ..Config::default()
        },
    ];
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    for (idx, (name, flow)) in flows_all.iter().enumerate() {
        let partner = &flows_all[(idx + 1) % flows_all.len()].1;
        let partner_bytes: Vec<u8> = partner.items.iter().flat_map(|(_, d)| d.clone()).collect();
        let mut rng = Rng(0xa11ce ^ idx as u64);
        let per_flow = if name.starts_with("fixture") {
            ANALYZER_MUTATIONS_PER_FLOW / 4
        } else {
            ANALYZER_MUTATIONS_PER_FLOW
        };
        for (ci, config) in configs.iter().enumerate() {
            let clean = analyze_hashed(flow.proto, &flow.items, *config);
            for i in 0..per_flow * scale() / configs.len() {
                // Damage one delivery; the ones before it are untouched.
                let d = rng.below(flow.items.len());
                let mut items = flow.items.clone();
                let m = mutate(&mut rng, &mut items[d].1, 0, &partner_bytes);
                // Sometimes also re-chunk the damaged delivery in two (TCP only).
                if flow.proto == Proto::Tcp && rng.below(3) == 0 && items[d].1.len() > 1 {
                    let at = 1 + rng.below(items[d].1.len() - 1);
                    let tail = items[d].1.split_off(at);
                    let dir = items[d].0;
                    items.insert(d + 1, (dir, tail));
                }
                let case = format!(
                    "{name}: config {ci}: mutation {i}: delivery {d}: {}",
                    m.what
                );
                let input_len: usize = items.iter().map(|(_, b)| b.len()).sum();
                let (hashes, _, bytes, peak) =
                    match guarded(&case, || analyze_hashed(flow.proto, &items, *config)) {
                        Ok(r) => r,
                        Err(e) => {
                            failures.push(e);
                            continue;
                        }
                    };
                tally.runs += 1;
                tally.max_output_ratio = tally
                    .max_output_ratio
                    .max(bytes as f64 / input_len.max(1) as f64);
                tally.max_heap = tally.max_heap.max(peak);
                if bytes > OUTPUT_FACTOR * input_len + OUTPUT_SLACK {
                    failures.push(format!(
                        "{case}: {bytes} event bytes for {input_len} input bytes"
                    ));
                }
                if peak > HEAP_FACTOR * input_len + HEAP_SLACK {
                    failures.push(format!(
                        "{case}: heap grew by {peak} bytes for {input_len} input bytes"
                    ));
                }
                let keep = clean.1[d];
                if hashes.len() < keep || hashes[..keep] != clean.0[..keep] {
                    failures.push(format!(
                        "{case}: the {keep} events before the damaged delivery changed"
                    ));
                }
                tally.prefix_checked_events += keep;
            }
        }
    }
    eprintln!("analyzer campaign: {tally:?}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// What a QUIC analyzer run produced: hashes of every output (QUIC events, TLS bytes handed
/// on, SSL events, violations, weirds) and the number before each datagram, the outputs' text
/// size, the heap peak, each datagram's violations and whether it handed TLS bytes on.
struct QuicRun {
    hashes: Vec<u64>,
    before: Vec<usize>,
    bytes: usize,
    heap_peak: usize,
    violations: Vec<Vec<String>>,
    tls: Vec<bool>,
}

/// Runs `quic::Quic` over the datagrams with an `SslAnalyzer` behind it, as `session.rs` does
/// (TLS bytes to the analyzer, a fresh one after a Retry).
fn analyze_quic(datagrams: &[(bool, Vec<u8>)]) -> QuicRun {
    let mut heap = HeapWatch::start();
    let mut sink = HashingSink {
        hashes: Vec::with_capacity(1024),
        buf: String::with_capacity(1 << 16),
        bytes: 0,
        heap: &mut heap,
    };
    let mut before = Vec::with_capacity(datagrams.len());
    let mut violations = Vec::with_capacity(datagrams.len());
    let mut tls = Vec::with_capacity(datagrams.len());
    let mut quic = Quic::new(QuicConfig::default());
    let mut ssl = SslAnalyzer::new(Config::default());
    for (i, (is_orig, data)) in datagrams.iter().enumerate() {
        before.push(sink.hashes.len());
        let mut v = Vec::new();
        let mut handed_on = false;
        let ts = 1.0 + i as f64;
        quic.datagram(*is_orig, data, &mut |o| {
            sink.heap.sample();
            match o {
                Out::Tls(bytes) => {
                    handed_on = true;
                    sink.record(&format!("tls {bytes:?}"));
                    ssl.deliver(*is_orig, ts, bytes, &mut sink);
                }
                Out::ResetSsl => {
                    sink.record("reset");
                    ssl.finish(&mut sink);
                    ssl = SslAnalyzer::new(Config::default());
                }
                Out::Violation(r) => {
                    sink.record(&format!("violation {r}"));
                    v.push(r.to_string());
                }
                other => sink.record(&format!("{other:?}")),
            }
        });
        violations.push(v);
        tls.push(handed_on);
        sink.heap.sample();
    }
    ssl.finish(&mut sink);
    let (hashes, bytes) = (sink.hashes, sink.bytes);
    QuicRun {
        hashes,
        before,
        bytes,
        heap_peak: heap.peak,
        violations,
        tls,
    }
}

#[test]
fn quic_analyzer_survives_mutations_and_keeps_the_prefix() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut flows_all: Vec<(String, Datagrams)> = Vec::new();
    for (name, bytes) in quic_inputs() {
        for (i, f) in pcap_udp_flows(&bytes).into_iter().enumerate() {
            flows_all.push((format!("{name} flow {i}"), f));
        }
    }
    assert_eq!(flows_all.len(), 11, "UDP flows of the QUIC captures");
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    let (mut frame_runs, mut frame_runs_with_tls) = (0usize, 0usize);
    for (idx, (name, flow)) in flows_all.iter().enumerate() {
        let partner = &flows_all[(idx + 1) % flows_all.len()].1;
        let partner_bytes: Vec<u8> = partner.iter().flat_map(|(_, d)| d.clone()).collect();
        let refs: Vec<(bool, &[u8])> = flow.iter().map(|(o, d)| (*o, d.as_slice())).collect();
        let initials = decryptable_initials(&refs);
        assert!(
            initials.len() >= 2,
            "{name}: client and server Initials open"
        );
        let clean = analyze_quic(flow);
        let mut rng = Rng(0x901c ^ idx as u64);
        for i in 0..QUIC_MUTATIONS_PER_FLOW * scale() {
            let mut items = flow.clone();
            let frames_mode = i % 2 == 1;
            let (d, what) = if frames_mode {
                // An Initial's plaintext frames, damaged, sealed again in place.
                let f = &initials[rng.below(initials.len())];
                let mut edited = f.initial.clone();
                let m = mutate(&mut rng, &mut edited.frames, 0, &partner_bytes);
                let Some(sealed) = f.reseal(&edited) else {
                    continue; // grown past the 10,000-byte cap: nothing to seal
                };
                let (d, at) = (f.datagram, f.offset);
                items[d].1.splice(at..at + f.len, sealed);
                (
                    d,
                    format!("datagram {d} Initial at {at}, frames: {}", m.what),
                )
            } else {
                let d = rng.below(items.len());
                let m = mutate(&mut rng, &mut items[d].1, 0, &partner_bytes);
                (d, format!("datagram {d}: {}", m.what))
            };
            let case = format!("{name}: mutation {i}: {what}");
            let input_len: usize = items.iter().map(|(_, b)| b.len()).sum();
            let run = match guarded(&case, || analyze_quic(&items)) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            tally.runs += 1;
            tally.max_output_ratio = tally
                .max_output_ratio
                .max(run.bytes as f64 / input_len.max(1) as f64);
            tally.max_heap = tally.max_heap.max(run.heap_peak);
            if run.bytes > OUTPUT_FACTOR * input_len + OUTPUT_SLACK {
                failures.push(format!(
                    "{case}: {} output bytes for {input_len} input bytes",
                    run.bytes
                ));
            }
            if run.heap_peak > HEAP_FACTOR * input_len + HEAP_SLACK {
                failures.push(format!(
                    "{case}: heap grew by {} bytes for {input_len} input bytes",
                    run.heap_peak
                ));
            }
            let keep = clean.before[d];
            if run.hashes.len() < keep || run.hashes[..keep] != clean.hashes[..keep] {
                failures.push(format!(
                    "{case}: the {keep} outputs before the damaged datagram changed"
                ));
            }
            tally.prefix_checked_events += keep;
            if frames_mode {
                // A re-sealed Initial opens: its datagram never fails to decrypt.
                frame_runs += 1;
                if run.violations[d].iter().any(|v| v == "decryption failed") {
                    failures.push(format!("{case}: the re-sealed Initial did not decrypt"));
                }
                if run.tls[d] {
                    frame_runs_with_tls += 1;
                }
            }
        }
    }
    eprintln!(
        "QUIC analyzer campaign: {tally:?}, {frame_runs} frame mutations \
         ({frame_runs_with_tls} handed TLS bytes from the damaged datagram on)"
    );
    // Most re-sealed Initials reach the CRYPTO stream (the others are Initials of a side whose
    // hello was complete, which the analyzer does not decrypt, or lost their CRYPTO frames).
    assert!(frame_runs > 1_000, "{frame_runs}");
    assert!(
        frame_runs_with_tls * 2 > frame_runs,
        "{frame_runs_with_tls} of {frame_runs}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn mutation_helpers_do_what_they_say() {
    // Its last check reads the process-wide heap counter, which the campaigns move too.
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Length fields of a TLS handshake record: record length and handshake length.
    let rec = tls_record(22, 0x0303, &handshake(1, &[0; 8]));
    assert_eq!(length_fields(&rec), vec![(3, 2), (6, 3)]);
    // Bit flips are deterministic per seed and touch exactly one byte.
    let mut a = vec![0u8; 64];
    let mut rng = Rng(1);
    let mut b = a.clone();
    let m = loop {
        let m = mutate(&mut rng, &mut b, 0, &[]);
        if m.what.starts_with("flip") {
            break m;
        }
        b = a.clone();
    };
    let diff: Vec<usize> = (0..64).filter(|i| a[*i] != b[*i]).collect();
    assert_eq!(diff, vec![m.first_damaged], "{}", m.what);
    a[m.first_damaged] = b[m.first_damaged];
    assert_eq!(a, b);
    // Only trailing analyzer_disabled lines are dropped from a cut run's events.
    let lines = b"{\"event\":\"a\"}\n{\"event\":\"analyzer_disabled\"}\n{\"event\":\"b\"}\n{\"event\":\"analyzer_disabled\"}\n";
    assert_eq!(
        without_end_of_input_lines(lines.to_vec()),
        b"{\"event\":\"a\"}\n{\"event\":\"analyzer_disabled\"}\n{\"event\":\"b\"}\n".to_vec()
    );
    assert_eq!(without_end_of_input_lines(Vec::new()), Vec::<u8>::new());
    // The heap counter sees an allocation.
    let mut w = HeapWatch::start();
    let v: Vec<u8> = std::hint::black_box(vec![1; 1 << 20]);
    w.sample();
    assert!(w.peak >= 1 << 20 && v.len() == 1 << 20);
}
