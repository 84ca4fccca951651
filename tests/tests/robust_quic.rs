//! The QUIC analyzer's memory under hostile CRYPTO frames, counted by a global allocator
//! (`stats_alloc`; the tests of this binary take turns, so the counts are theirs).
//!
//! In: client Initials built with `pac_tests::quic_craft` (sealed with the analyzer's own keys,
//! so they decrypt) carrying one-byte CRYPTO frames out of order. Out: the heap growth while
//! `quic::Quic` reassembles them, compared with `crypto_stream::MAX_CRYPTO_BUFFERED`, the cap
//! on the bytes it keeps out of order; and what one oversized Initial leaves behind (the
//! connection's scratch buffer). Findings Q1 and Q2 of docs/ROBUSTNESS.md.

use std::alloc::System;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pac_tests::quic_craft::{crypto_frame, padding, Initial};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use tls_analyzer::quic::crypto_stream::{MAX_CRYPTO_BUFFERED, MAX_HANDSHAKE_MESSAGE};
use tls_analyzer::quic::protection::Side;
use tls_analyzer::quic::{Out, Quic, QuicConfig};

/// Every allocation of this test binary goes through the counting system allocator.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The tests take turns: the allocator's counts are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

const DCID: &[u8] = &[0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

/// Bytes on the heap now (see robust_mutations.rs for why not `bytes_reallocated`).
fn live_bytes() -> usize {
    let s = GLOBAL.stats();
    s.bytes_allocated.saturating_sub(s.bytes_deallocated)
}

/// A sealed client Initial with these frames (padded to 1,200 bytes or more).
fn client_initial(pn: u8, mut frames: Vec<u8>) -> Vec<u8> {
    if frames.len() < 1150 {
        frames.extend(padding(1150 - frames.len()));
    }
    Initial::new(1, DCID, b"", pn, frames)
        .seal(DCID, Side::Client)
        .expect("sealable")
}

/// The datagrams of the attack: a short-header filler (so that the connection is past Zeek's
/// 10 KiB DPD limit and violations do not remove the analyzer), then one-byte CRYPTO frames
/// from offset `top - 1` down to 1, `per_packet` per Initial, with offset 0 last (the bytes
/// then make a handshake header of 66,051 bytes: a violation, after the reassembly).
fn one_byte_frames(top: usize, per_packet: usize) -> Vec<(bool, Vec<u8>)> {
    let mut frames: Vec<Vec<u8>> = (1..top)
        .rev()
        .map(|off| crypto_frame(off as u64, &[off as u8]))
        .collect();
    frames.push(crypto_frame(0, &[1]));
    let mut out = vec![(true, vec![0x40; 1200])];
    out.extend(
        frames
            .chunks(per_packet)
            .enumerate()
            .map(|(pn, fs)| (true, client_initial(pn as u8, fs.concat()))),
    );
    out
}

/// Runs the datagrams through `Quic`; returns the heap peak above the start (sampled on every
/// output and after every datagram) and the time taken.
fn measure(datagrams: &[(bool, Vec<u8>)]) -> (usize, Duration, usize) {
    let base = live_bytes();
    let mut peak = 0usize;
    let mut weirds = 0usize;
    let mut quic = Quic::new(QuicConfig::default());
    let started = Instant::now();
    for (is_orig, d) in datagrams {
        quic.datagram(*is_orig, d, &mut |o| {
            peak = peak.max(live_bytes().saturating_sub(base));
            if matches!(o, Out::Weird { .. }) {
                weirds += 1;
            }
        });
        peak = peak.max(live_bytes().saturating_sub(base));
    }
    let took = started.elapsed();
    drop(quic);
    (peak, took, weirds)
}

#[test]
fn crypto_reassembly_heap_is_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // In order, whole: the message is forwarded as it comes, nothing is kept.
    let in_order = {
        let len = MAX_HANDSHAKE_MESSAGE as usize - 4;
        let mut m = vec![1, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        m.extend(std::iter::repeat_n(7u8, len));
        let mut v = vec![(true, vec![0x40; 1200])];
        for (pn, c) in m.chunks(1000).enumerate() {
            v.push((
                true,
                client_initial(pn as u8, crypto_frame((pn * 1000) as u64, c)),
            ));
        }
        v
    };
    let (peak, took, _) = measure(&in_order);
    eprintln!("in order: {peak} bytes of heap, {took:?}");
    assert!(peak < 64 * 1024, "{peak}");

    // The worst case for the window: one-byte frames back to front, 2,000 of them beyond it.
    let hostile = one_byte_frames(MAX_CRYPTO_BUFFERED as usize + 2_000, 1_200);
    let input: usize = hostile.iter().map(|(_, d)| d.len()).sum();
    let (peak, took, weirds) = measure(&hostile);
    eprintln!(
        "one-byte frames: {peak} bytes of heap for {input} input bytes, {weirds} weirds, {took:?}"
    );
    assert!(weirds >= 2_000, "one per frame beyond the window: {weirds}");
    // The kept bytes and segments are capped (Q1 in docs/ROBUSTNESS.md, fixed with
    // MAX_CRYPTO_SEGMENTS); see the test below for the tight bound.
    assert!(peak < 2 * 1024 * 1024, "{peak}");
}

#[test]
fn crypto_reassembly_heap_stays_near_max_crypto_buffered() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let hostile = one_byte_frames(MAX_CRYPTO_BUFFERED as usize, 1_200);
    let (peak, took, _) = measure(&hostile);
    eprintln!("{peak} bytes of heap, {took:?}");
    // The kept bytes, the analyzer's scratch buffer (a 10,000-byte packet) and slack.
    let bound = 2 * MAX_CRYPTO_BUFFERED as usize + 32 * 1024;
    assert!(peak <= bound, "{peak} bytes of heap, bound {bound}");
}

#[test]
fn a_packet_too_long_to_open_is_not_copied() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A client Initial header whose Length covers 60,000 bytes of the datagram: too long to
    // open (MAX_PROTECTED_LEN), `decryption failed`, refused before the copy (Q2, fixed).
    let mut d = vec![0xc0, 0, 0, 0, 1, 8];
    d.extend_from_slice(DCID);
    d.extend_from_slice(&[0, 0]);
    d.extend(pac_tests::quic_craft::varint_with_len(60_000, 4).expect("fits"));
    d.resize(d.len() + 60_000, 0x5a);
    let base = live_bytes();
    let mut quic = Quic::new(QuicConfig::default());
    let mut violations = Vec::new();
    quic.datagram(true, &d, &mut |o| {
        if let Out::Violation(r) = o {
            violations.push(r.to_string());
        }
    });
    let kept = live_bytes().saturating_sub(base);
    eprintln!("kept after one {}-byte Initial: {kept} bytes", d.len());
    assert_eq!(violations, ["decryption failed"]);
    assert!(kept <= 4096, "{kept}");
    drop(quic);
}
