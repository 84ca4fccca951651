//! Fuzz target `structured_flight`: structure-aware. The input is not bytes for the analyzer
//! but the choices that build a TLS handshake in both directions from the generated encoders'
//! owned types (`tls_grammar::*Owned`, `arbitrary::Arbitrary` with the grammar's `arbitrary`
//! feature): handshake messages, alerts, ChangeCipherSpec and application data, framed into
//! records of arbitrary fragment sizes and versions, delivered to `ssl::SslAnalyzer` in
//! arbitrary chunks. Messages are encoded strictly (lengths and counts computed, so the bytes
//! get past every length field) and, where the value breaks a rule of its layout, through
//! `encode_raw` (the deliberately malformed path).
//!
//! In: arbitrary bytes, read by `arbitrary::Unstructured`. Out: nothing; panics are findings.
//! One oracle: a message that encoded strictly parses back to the same value. With
//! `STRUCTURED_FLIGHT_DUMP=DIR` each input's deliveries are also written to `DIR` in
//! `ssl_stream`'s input format, so that both targets' corpora can be measured by one binary
//! (`ssl_stream DIR -runs=0` prints the coverage they reach; docs/ROBUSTNESS.md).

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use tls_analyzer::ssl::{Config, SslAnalyzer};
use tls_analyzer_fuzz::Drain;
use tls_grammar::{
    AlertOwned, ContentType, Handshake, HandshakeOwned, KeyExchangeClass, ProtocolVersion,
};

/// What one record of the flight carries.
#[derive(Arbitrary, Debug)]
enum Content {
    /// A handshake message, encoded under the layout facts given.
    Handshake {
        message: HandshakeOwned,
        tls13: bool,
        has_sigalgs: bool,
        kex: KeyExchangeClass,
    },
    /// One or more alerts.
    Alerts(Vec<AlertOwned>),
    /// ChangeCipherSpec (its single byte).
    ChangeCipherSpec(u8),
    /// Application data (opaque, possibly the encrypted handshake of TLS 1.3).
    ApplicationData(Vec<u8>),
}

/// One record of the flight.
#[derive(Arbitrary, Debug)]
struct Item {
    /// Sent by the client.
    is_orig: bool,
    /// The record layer version.
    version: ProtocolVersion,
    /// Fragment size for splitting the content over records (0: one record).
    fragment: u16,
    content: Content,
}

/// The whole flight and how it is delivered.
#[derive(Arbitrary, Debug)]
struct Flight {
    items: Vec<Item>,
    /// Delivery chunk sizes per direction (cycled; 0 means the whole rest).
    chunks: Vec<u16>,
    /// Keep analyzing after `ssl_established` and after violations.
    keep_going: bool,
}

/// The content bytes and their record content type.
fn content_bytes(c: &Content) -> (ContentType, Vec<u8>) {
    match c {
        Content::Handshake {
            message,
            tls13,
            has_sigalgs,
            kex,
        } => {
            let mut out = Vec::new();
            match message.encode(&mut out, false, *tls13, *has_sigalgs, *kex) {
                Ok(()) => {
                    // Oracle: what encodes strictly parses back to the same value.
                    let parsed = Handshake::parse(&out, false, *tls13, *has_sigalgs, *kex);
                    match parsed {
                        Ok((p, rest)) => {
                            assert!(rest.is_empty(), "bytes left after a strict encoding");
                            assert_eq!(&p.owned(), message, "strict encoding parsed back differs");
                        }
                        Err(e) => panic!("strict encoding does not parse: {e:?}\n{message:?}"),
                    }
                }
                Err(_) => {
                    out.clear();
                    // Malformed on purpose: hand-set lengths as they are.
                    let _ = message.encode_raw(&mut out, false, *tls13, *has_sigalgs, *kex);
                }
            }
            (ContentType::handshake, out)
        }
        Content::Alerts(alerts) => {
            let mut out = Vec::new();
            for a in alerts {
                let _ = a.encode(&mut out);
            }
            (ContentType::alert, out)
        }
        Content::ChangeCipherSpec(b) => (ContentType::change_cipher_spec, vec![*b]),
        Content::ApplicationData(d) => (ContentType::application_data, d.clone()),
    }
}

/// Frames content into TLS records of at most `fragment` bytes (and at most 2^14).
fn records(
    out: &mut Vec<u8>,
    ty: ContentType,
    version: ProtocolVersion,
    data: &[u8],
    fragment: u16,
) {
    let size = match usize::from(fragment) {
        0 => 1 << 14,
        n => n.min(1 << 14),
    };
    let mut parts: Vec<&[u8]> = data.chunks(size).collect();
    if parts.is_empty() {
        parts.push(&[]);
    }
    for p in parts {
        let rec = tls_grammar::TlsRecordOwned {
            content_type: ty,
            version,
            fragment: p.to_vec(),
            ..Default::default()
        };
        let _ = rec.encode(out);
    }
}

/// A stable name for a dumped input (FNV-1a).
fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x0100_0000_01b3)
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(flight) = Flight::arbitrary(&mut u) else {
        return;
    };
    // Each direction's byte stream, records in flight order.
    let mut streams: [Vec<(usize, Vec<u8>)>; 2] = [Vec::new(), Vec::new()];
    for (i, item) in flight.items.iter().enumerate() {
        let (ty, bytes) = content_bytes(&item.content);
        let mut recs = Vec::new();
        records(&mut recs, ty, item.version, &bytes, item.fragment);
        streams[usize::from(!item.is_orig)].push((i, recs));
    }
    let cfg = Config {
        disable_analyzer_after_detection: !flight.keep_going,
        disable_analyzer_after_violation: !flight.keep_going,
        ..Config::default()
    };
    let mut a = SslAnalyzer::new(cfg);
    let mut sink = Drain::default();
    // Deliver in flight order, each record's bytes cut into the chunk sizes given.
    let mut order: Vec<(usize, bool, &[u8])> = Vec::new();
    for (side, s) in streams.iter().enumerate() {
        for (i, bytes) in s {
            order.push((*i, side == 0, bytes));
        }
    }
    order.sort_by_key(|(i, _, _)| *i);
    let mut chunk = flight.chunks.iter().cycle();
    let mut ts = 1000.0;
    let mut delivered: Vec<(bool, &[u8])> = Vec::new();
    for (_, is_orig, bytes) in order {
        let mut rest = bytes;
        while !rest.is_empty() {
            if a.is_done() {
                break;
            }
            let n = match chunk.next().map(|c| usize::from(*c)) {
                Some(0) | None => rest.len(),
                Some(n) => n.min(rest.len()),
            };
            let (now, later) = rest.split_at(n);
            a.deliver(is_orig, ts, now, &mut sink);
            delivered.push((is_orig, now));
            ts += 0.001;
            rest = later;
        }
    }
    let _ = (a.negotiated_version(), a.chosen_cipher(), a.established());
    a.finish(&mut sink);
    if let Some(dir) = std::env::var_os("STRUCTURED_FLIGHT_DUMP") {
        let mut input = vec![if flight.keep_going { 3 } else { 0 }];
        input.extend(tls_analyzer_fuzz::encode(&delivered));
        let name = format!("{:016x}", fxhash(&input));
        let _ = std::fs::write(std::path::Path::new(&dir).join(name), input);
    }
});
