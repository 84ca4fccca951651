//! Fuzz target `quic_datagrams`: a QUIC connection's datagrams through the analyzer's
//! `session::Session` (QUIC carrier): `quic::Quic` decrypts Initials and reassembles CRYPTO
//! frames, the first handshake messages go to the connection's `SslAnalyzer`, the events go to
//! the JSON event writer, ssl.log and quic.log rows to their TSV writers (all into
//! `io::sink()`).
//!
//! In: `[flags][ctl len16 datagram]...` (`tls_analyzer_fuzz::deliveries`; ctl bit 0 is the
//! direction, the gap bit is ignored). Flag bits 0-1 pick `QUIC::max_discarded_packet_events`
//! (100, 0 = unlimited, -1 = none, 1) and bits 2-3 `QUIC::max_history_length` (100, 0, 1, 5);
//! bit 4 keeps the SSL analyzer running after `ssl_established`.
//!
//! Random bytes never pass an AEAD tag, so a custom mutator makes the fuzzer structure-aware:
//! in `QUIC_FUZZ_FRAMES` percent of the mutations (environment variable, default 50) it opens
//! one decryptable Initial of the input (the keys come from the first client Initial's
//! Destination Connection ID, after a Retry from the next one's, as the analyzer's do), lets
//! libFuzzer mutate only the plaintext frames (or the packet number or token), and seals it
//! again with the analyzer's own sealing (`InitialKeys::seal_in_place`: ring). The remaining
//! mutations are libFuzzer's own on the raw bytes. `QUIC_FUZZ_FRAMES=0` is the raw mode,
//! `=100` the frames mode. Seeds: the datagrams of real captures (`fuzz/seeds.py`).
//!
//! Out: nothing; a panic, overflow, hang or runaway allocation is the finding.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use tls_analyzer::capture::{ConnId, ConnInfo, Proto};
use tls_analyzer::detect::Detected;
use tls_analyzer::log::{LogFormat, LogOutput, LogShared, OptionalColumns, QuicOutput};
use tls_analyzer::output::{EventFormat, EventOutput};
use tls_analyzer::quic::QuicConfig;
use tls_analyzer::session::{Outputs, QuicOptions, Session};
use tls_analyzer::ssl::Config;
use tls_analyzer_fuzz::quic_craft::decryptable_initials;
use tls_analyzer_fuzz::{deliveries, encode};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let quic = QuicOptions {
        analyzer: QuicConfig {
            max_discarded_packet_events: [100, 0, -1, 1][usize::from(flags & 3)],
        },
        max_history_length: [100, 0, 1, 5][usize::from((flags >> 2) & 3)],
    };
    let ssl = Config {
        disable_analyzer_after_detection: flags & 0x10 == 0,
        ..Config::default()
    };
    let conn = ConnInfo {
        handle: 1,
        slot: 0,
        uid: "CfuzzQUIC".to_string(),
        id: ConnId {
            orig_h: [10, 0, 0, 1].into(),
            orig_p: 50000,
            resp_h: [10, 0, 0, 2].into(),
            resp_p: 443,
        },
        proto: Proto::Udp,
        start_ts: 1000.0,
    };
    let (mut ev_out, mut log_out, mut quic_out) =
        (std::io::sink(), std::io::sink(), std::io::sink());
    let mut events = EventOutput::new(EventFormat::Json, &mut ev_out);
    let mut log = LogOutput::new(LogFormat::Tsv, OptionalColumns::default(), &mut log_out);
    let mut qlog = QuicOutput::new(LogFormat::Tsv, &mut quic_out);
    let mut shared = LogShared::default();
    let mut session = Session::new(ssl, Detected::Quic, quic);
    for (i, d) in deliveries(rest).iter().enumerate() {
        if session.is_done() {
            break;
        }
        let mut w = Outputs {
            events: Some(&mut events),
            log: Some(&mut log),
            log_shared: &mut shared,
            x509: None,
            quic: Some(&mut qlog),
        };
        let ts = 1000.0 + i as f64 * 0.001;
        session.datagram(&conn, d.is_orig, ts, d.data, &mut w);
        if session.removal_pending() {
            session.end_of_packet(&conn, &mut w);
        }
    }
    let mut w = Outputs {
        events: Some(&mut events),
        log: Some(&mut log),
        log_shared: &mut shared,
        x509: None,
        quic: Some(&mut qlog),
    };
    session.end(&conn, &mut w);
});

/// The share of mutations that edit decrypted frames (`QUIC_FUZZ_FRAMES`, 0 to 100).
fn frames_percent() -> u32 {
    static PCT: OnceLock<u32> = OnceLock::new();
    *PCT.get_or_init(|| {
        std::env::var("QUIC_FUZZ_FRAMES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50)
            .min(100)
    })
}

/// A small deterministic generator from libFuzzer's seed (SplitMix64).
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
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutates the plaintext of one decryptable Initial and seals it again; the new input's length,
/// or `None` when the input has no such Initial or the result does not fit.
fn mutate_frames(data: &mut [u8], size: usize, max_size: usize, seed: u32) -> Option<usize> {
    let input = data.get(..size)?;
    let (&flags, rest) = input.split_first()?;
    let datagrams: Vec<(bool, &[u8])> = deliveries(rest)
        .iter()
        .map(|d| (d.is_orig, d.data))
        .collect();
    let found = decryptable_initials(&datagrams);
    if found.is_empty() {
        return None;
    }
    let mut rng = Rng(u64::from(seed));
    let f = &found[rng.below(found.len())];
    let mut initial = f.initial.clone();
    match rng.below(16) {
        // Mostly the frames: libFuzzer's mutations on the plaintext, which may grow by
        // up to 1 KiB (the analyzer refuses protected parts above 10,000 bytes anyway).
        0..=12 => {
            let len = initial.frames.len();
            let cap = len + 1024;
            initial.frames.resize(cap, 0);
            let n = fuzzer_mutate(&mut initial.frames, len, cap);
            initial.frames.truncate(n);
        }
        // The packet number (its length too): the nonce follows it.
        13 => {
            initial.pn_len = (rng.below(4) + 1) as u8;
            initial.packet_number =
                rng.next() as u32 & (u32::MAX >> (32 - 8 * u32::from(initial.pn_len)));
        }
        // The token.
        14 => {
            let len = initial.token.len();
            let cap = len + 64;
            initial.token.resize(cap, 0);
            let n = fuzzer_mutate(&mut initial.token, len, cap);
            initial.token.truncate(n);
        }
        // The frames of this packet twice (a retransmission with the same data).
        _ => {
            let copy = initial.frames.clone();
            initial.frames.extend_from_slice(&copy);
        }
    }
    let sealed = f.reseal(&initial)?;
    let items: Vec<(bool, Vec<u8>)> = datagrams
        .iter()
        .enumerate()
        .map(|(i, (o, d))| {
            if i == f.datagram {
                let mut n = d[..f.offset].to_vec();
                n.extend_from_slice(&sealed);
                n.extend_from_slice(&d[f.offset + f.len..]);
                (*o, n)
            } else {
                (*o, d.to_vec())
            }
        })
        .collect();
    let refs: Vec<(bool, &[u8])> = items.iter().map(|(o, d)| (*o, d.as_slice())).collect();
    let mut out = vec![flags];
    out.extend(encode(&refs));
    if out.len() > max_size || out.len() > data.len() {
        return None;
    }
    data[..out.len()].copy_from_slice(&out);
    Some(out.len())
}

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    if seed % 100 < frames_percent() {
        if let Some(n) = mutate_frames(data, size, max_size, seed) {
            return n;
        }
    }
    fuzzer_mutate(data, size, max_size)
});
