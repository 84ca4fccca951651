//! Round trip of every TLS, DTLS and QUIC message in the project's captures
//! (`tests/captures/*.pcap`, `tests/captures/quic/*.pcap`): whatever the generated parsers
//! accept re-encodes to exactly the bytes they consumed, `encode(parse(bytes)) == bytes`.
//!
//! In: the captures through the analyzer's capture front end. TLS: each direction's stream
//! cut into records (every record), the plaintext handshake stream (before ChangeCipherSpec)
//! cut into messages, alerts and ChangeCipherSpec before encryption. DTLS: every record of a
//! datagram and the epoch-0 handshake fragments (and the messages whole in one fragment).
//! QUIC: every long header (coalesced packets too) and short header, the Initial payloads
//! decrypted with `tls_analyzer::quic::protection` and parsed as frames, and the handshake
//! messages of the reassembled CRYPTO streams. A handshake message is parsed under every
//! combination of the connection facts that change its layout; each combination that parses
//! must round-trip. Out: counts per kind, and on failure the capture, the spec type and the
//! first differing byte.

use pac_tests::roundtrip::same;
use pac_tests::support::workspace_root;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tls_analyzer::capture::{self, ConnInfo, FlowHandler, Input, Verdict};
use tls_analyzer::quic::protection::{InitialKeys, Side};
use tls_grammar::{
    AlertRecord, ApplicationData, ChangeCipherSpec, ContentType, DtlsHandshake, DtlsRecord,
    Handshake, HandshakeMessage, KeyExchangeClass, QuicFrames, QuicLongHeader, QuicLongHeaderBody,
    QuicShortHeader, TlsRecord,
};

/// Everything one capture carries, per connection handle.
#[derive(Default)]
struct Collected {
    /// TCP: (client stream, server stream).
    tcp: BTreeMap<u64, (Vec<u8>, Vec<u8>)>,
    /// UDP: datagrams in order with their direction.
    udp: BTreeMap<u64, Vec<(bool, Vec<u8>)>>,
}

impl FlowHandler for Collected {
    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, data: &[u8]) -> Verdict {
        let (o, r) = self.tcp.entry(c.handle).or_default();
        if is_orig { o } else { r }.extend_from_slice(data);
        Verdict::Continue
    }
    fn udp_datagram(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, d: &[u8]) -> Verdict {
        self.udp
            .entry(c.handle)
            .or_default()
            .push((is_orig, d.to_vec()));
        Verdict::Continue
    }
}

fn collect(path: &Path) -> Collected {
    let mut c = Collected::default();
    let opts = capture::Options {
        seed: Some(1),
        ..Default::default()
    };
    if let Err(e) = capture::run(&[Input::Path(path.to_path_buf())], &opts, &mut c) {
        panic!("cannot read {}: {e}", path.display());
    }
    c
}

/// Counts of units re-encoded, by spec type, and failures.
#[derive(Default)]
struct Tally {
    units: BTreeMap<&'static str, usize>,
    failures: Vec<String>,
    capture: String,
}

impl Tally {
    fn check(
        &mut self,
        what: &'static str,
        bytes: &[u8],
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), pac_runtime::EncodeError>,
    ) {
        match same(what, bytes, encode) {
            Ok(()) => *self.units.entry(what).or_default() += 1,
            Err(e) => self.failures.push(format!("{}: {e}", self.capture)),
        }
    }
}

/// The key exchange classes whose layouts differ, to parse messages under each.
const KEXES: [KeyExchangeClass; 4] = [
    KeyExchangeClass::RSA,
    KeyExchangeClass::DHE,
    KeyExchangeClass::ECDHE,
    KeyExchangeClass::PSK,
];

/// The handshake messages of a plaintext handshake stream, each parsed under every layout
/// combination and re-encoded; returns how many messages parsed at all.
fn handshakes(t: &mut Tally, mut hs: &[u8], is_dtls: bool) -> usize {
    let mut messages = 0;
    while hs.len() >= 4 {
        let len = (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
        let Some(msg) = hs.get(..4 + len) else { break };
        let mut parsed = false;
        for tls13 in [false, true] {
            for sigalgs in [false, true] {
                for kex in KEXES {
                    if let Ok((m, rest)) = Handshake::parse(msg, is_dtls, tls13, sigalgs, kex) {
                        if rest.is_empty() {
                            parsed = true;
                            t.check("Handshake", msg, |o| m.encode(o));
                        }
                    }
                }
            }
        }
        messages += usize::from(parsed);
        hs = &hs[4 + len..];
    }
    messages
}

/// One TLS direction: records, then the plaintext contents.
fn tls_stream(t: &mut Tally, mut s: &[u8]) {
    let mut hs = Vec::new();
    let mut encrypted = false;
    while let Ok((rec, rest)) = TlsRecord::parse(s) {
        let used = &s[..s.len() - rest.len()];
        t.check("TlsRecord", used, |o| rec.encode(o));
        let f = rec.fragment;
        match rec.content_type {
            ContentType::handshake if !encrypted => hs.extend_from_slice(f),
            ContentType::change_cipher_spec => {
                if let Ok((c, _)) = ChangeCipherSpec::parse(f) {
                    t.check("ChangeCipherSpec", f, |o| c.encode(o));
                }
                encrypted = true;
            }
            ContentType::alert if !encrypted => {
                if let Ok((a, _)) = AlertRecord::parse(f) {
                    t.check("AlertRecord", f, |o| a.encode(o));
                }
            }
            ContentType::application_data => {
                if let Ok((a, _)) = ApplicationData::parse(f) {
                    t.check("ApplicationData", f, |o| a.encode(o));
                }
            }
            _ => {}
        }
        s = rest;
    }
    let n = handshakes(t, &hs, false);
    *t.units.entry("(handshake messages parsed)").or_default() += n;
}

/// One DTLS datagram: its records and the epoch-0 handshake fragments.
fn dtls_datagram(t: &mut Tally, mut d: &[u8]) {
    while let Ok((rec, rest)) = DtlsRecord::parse(d) {
        let used = &d[..d.len() - rest.len()];
        t.check("DtlsRecord", used, |o| rec.encode(o));
        if rec.content_type == ContentType::handshake && rec.epoch == 0 {
            let mut body = rec.fragment;
            while let Ok((frag, more)) = DtlsHandshake::parse(body) {
                let used = &body[..body.len() - more.len()];
                t.check("DtlsHandshake", used, |o| frag.encode(o));
                if frag.fragment_offset == 0 && frag.fragment_length == frag.length {
                    for kex in KEXES {
                        for sigalgs in [false, true] {
                            if let Ok((m, _)) = HandshakeMessage::parse(
                                frag.fragment,
                                frag.msg_type,
                                u64::from(frag.length),
                                true,
                                false,
                                sigalgs,
                                kex,
                            ) {
                                t.check("HandshakeMessage", frag.fragment, |o| m.encode(o));
                            }
                        }
                    }
                }
                body = more;
            }
        }
        d = rest;
    }
}

/// One QUIC connection: headers of every packet, Initial frames, CRYPTO handshakes.
fn quic_connection(t: &mut Tally, datagrams: &[(bool, Vec<u8>)]) {
    let mut client_dcid: Option<Vec<u8>> = None;
    let mut short_dcid_len = 0u8;
    // Per side (client, server): CRYPTO data by offset.
    let mut crypto: [BTreeMap<u64, Vec<u8>>; 2] = Default::default();
    for (is_orig, d) in datagrams {
        let mut d = d.as_slice();
        while let Some(&first) = d.first() {
            if first & 0x80 == 0 {
                if let Ok((h, _)) = QuicShortHeader::parse(d, u64::from(short_dcid_len)) {
                    t.check("QuicShortHeader", d, |o| h.encode(o));
                }
                break;
            }
            let Ok((h, rest)) = QuicLongHeader::parse(d) else {
                break;
            };
            let header = &d[..d.len() - rest.len()];
            t.check("QuicLongHeader", header, |o| h.encode(o));
            let length = match h.body {
                QuicLongHeaderBody::Initial(i) => {
                    // Senders pad the Length field (RFC 9000 §16): kept, so it re-encodes.
                    if i.varint_widths != pac_runtime::VarIntWidths::default() {
                        *t.units
                            .entry("(non-minimal Initial varints kept)")
                            .or_default() += 1;
                    }
                    Some(i.length)
                }
                QuicLongHeaderBody::ZeroRtt(l) | QuicLongHeaderBody::Handshake(l) => Some(l.length),
                _ => None,
            };
            let Some(length) = length.and_then(|l| usize::try_from(l).ok()) else {
                break;
            };
            let packet_len = header.len() + length;
            if *is_orig {
                short_dcid_len = u8::try_from(h.scid.len()).unwrap_or(0);
            }
            if let QuicLongHeaderBody::Initial(_) = h.body {
                if *is_orig && client_dcid.is_none() {
                    client_dcid = Some(h.dcid.to_vec());
                }
                let side = if *is_orig { Side::Client } else { Side::Server };
                let dcid = client_dcid.clone().unwrap_or_default();
                if let (Some(keys), Some(packet)) = (
                    InitialKeys::derive(h.version, &dcid, side),
                    d.get(..packet_len),
                ) {
                    let mut scratch = packet.to_vec();
                    if let Ok(opened) = keys.open_in_place(&mut scratch, header.len()) {
                        let payload = scratch.get(opened.payload).unwrap_or_default();
                        if let Ok((frames, _)) = QuicFrames::parse(payload) {
                            t.check("QuicFrames", payload, |o| frames.encode(o));
                            for f in frames.frames.iter() {
                                if let tls_grammar::QuicFrameBody::Crypto(c) = f.body {
                                    crypto[usize::from(!is_orig)]
                                        .entry(c.offset)
                                        .or_insert_with(|| c.data.to_vec());
                                }
                            }
                        }
                    }
                }
            }
            d = d.get(packet_len..).unwrap_or_default();
        }
    }
    for side in crypto {
        // The in-order prefix of the stream.
        let mut stream = Vec::new();
        for (off, data) in side {
            let at = usize::try_from(off).unwrap_or(usize::MAX);
            if at <= stream.len() && at + data.len() > stream.len() {
                let skip = stream.len() - at;
                stream.extend_from_slice(&data[skip..]);
            }
        }
        let n = handshakes(t, &stream, false);
        *t.units
            .entry("(QUIC handshake messages parsed)")
            .or_default() += n;
    }
}

fn captures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["tests/captures", "tests/captures/quic"] {
        let dir = workspace_root().join(dir);
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|it| it.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.retain(|p| p.extension().is_some_and(|x| x == "pcap"));
        v.sort();
        out.extend(v);
    }
    out
}

#[test]
fn every_capture_message_re_encodes_to_its_bytes() {
    let files = captures();
    assert!(files.len() >= 30, "captures missing: {}", files.len());
    let mut t = Tally::default();
    for f in &files {
        t.capture = f
            .strip_prefix(workspace_root())
            .unwrap_or(f)
            .display()
            .to_string();
        let c = collect(f);
        for (orig, resp) in c.tcp.values() {
            tls_stream(&mut t, orig);
            tls_stream(&mut t, resp);
        }
        for datagrams in c.udp.values() {
            let quic = datagrams
                .first()
                .is_some_and(|(_, d)| d.first().is_some_and(|b| b & 0xc0 == 0xc0));
            if quic {
                quic_connection(&mut t, datagrams);
            } else {
                for (_, d) in datagrams {
                    dtls_datagram(&mut t, d);
                }
            }
        }
    }
    assert!(t.failures.is_empty(), "{}", t.failures.join("\n"));
    println!("{} captures; units re-encoded byte for byte:", files.len());
    for (k, v) in &t.units {
        println!("  {k}: {v}");
    }
    // Every kind of unit the captures hold was reached.
    for kind in [
        "TlsRecord",
        "Handshake",
        "ChangeCipherSpec",
        "AlertRecord",
        "DtlsRecord",
        "DtlsHandshake",
        "QuicLongHeader",
        "QuicFrames",
        "QuicShortHeader",
    ] {
        assert!(
            t.units.get(kind).is_some_and(|n| *n > 0),
            "no {kind} in the captures"
        );
    }
    assert!(t.units["(QUIC handshake messages parsed)"] >= 9);
    assert!(t
        .units
        .get("(non-minimal Initial varints kept)")
        .is_some_and(|n| *n > 0));
}
