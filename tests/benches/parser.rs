//! Parser benchmark: the generated parser (`tls_grammar`) against `tls-parser` 0.12 and against a
//! hand-written zero-allocation walker, on the same bytes, doing the same work; plus the same
//! walker on `pac_runtime::Reader` (checked reads with field paths, as generated code does it),
//! and the generated one-pass visitor (`Handshake::visit` with a `Visitor` that folds the
//! values as they are read: `generated-visit`).
//!
//! With `--features nom-entry`, `generated` goes through the nom entry points instead of `parse`
//! (`TlsRecord::nom`, the parser of `Handshake::nom_with`; see `pac_runtime::nom`), under the
//! same benchmark ids, so criterion compares it with a saved `parse` run:
//! `cargo bench -p pac-tests --bench parser -- --save-baseline parse 'generated$'`, then
//! `cargo bench -p pac-tests --bench parser --features nom-entry -- --baseline parse 'generated$'`.
//! Not both in one binary: a second caller of `Handshake::skip`/`read_validated` makes LLVM stop
//! inlining them into either (measured: `parse` itself then ran 30 % more instructions), which
//! would measure the inliner, not the adaptor.
//!
//! Run with `cargo bench -p pac-tests --bench parser`. Each corpus is a list of TLS byte streams
//! (one per direction). Every implementation frames records, splits handshake records into
//! messages and touches every element the analyzer cares about: record headers, message types,
//! versions, every cipher suite, compression method, extension type, server name, group,
//! point format, signature scheme, ALPN name, key share (group and key length), supported
//! version, PSK mode, every certificate length and the ServerKeyExchange curve, point and
//! signature. The touched values are folded into a digest; all digests must agree before
//! anything is timed, which is how we know they do the same work.
//!
//! Corpora:
//! - `chrome-ch`: a Chrome-like TLS 1.3 ClientHello built below from its documented layout
//!   (GREASE, 18 extensions, an X25519MLKEM768 key share of 1216 bytes, GREASE ECH).
//! - `openssl-ch`: the ClientHello record of `tests/captures/tls13.pcap` (OpenSSL 3.0).
//! - `tls12-server-flight`: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone of
//!   `tests/captures/tls12-ecdhe.pcap`.
//! - `tls12-handshake`: both directions of that connection, start to end (records after
//!   ChangeCipherSpec are encrypted; only their headers are read).
//!
//! Negotiated state (key exchange class, TLS 1.2 signature algorithms) is fixed per corpus: the
//! corpora are ECDHE with TLS 1.2 signatures, and every implementation is told so.
//!
//! After criterion's groups, a paired summary times the implementations round-robin in
//! one process (so machine noise hits all of them alike) and prints messages/s, MB/s and the
//! ratios.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};

/// One corpus: TLS byte streams (each a sequence of whole records, one direction each).
struct Corpus {
    name: &'static str,
    streams: Vec<Vec<u8>>,
}

impl Corpus {
    fn bytes(&self) -> usize {
        self.streams.iter().map(Vec::len).sum()
    }
}

/// What every implementation folds the touched values into: the sum of the values and their
/// count. The order of additions does not matter, the set of values does.
///
/// Both halves live in one `u128` (count high, sum low; the values are lengths and codes far
/// below 2^32, so the sum never carries into the count). With two `u64` fields the compiler
/// fused `sum += v; count += 1` into one 16-byte vector add, whose load could not be forwarded
/// from the two 8-byte stores of the previous call: a store-forwarding stall of the harness,
/// not of the parser, that cost whichever implementation the compiler inlined that way up to a
/// quarter of its time (26 % of the generated parser's samples on tls12-server-flight).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Digest {
    acc: u128,
    messages: u64,
}

impl Digest {
    #[inline]
    fn add(&mut self, v: u64) {
        self.acc = self.acc.wrapping_add((1u128 << 64) | u128::from(v));
    }

    /// How many values were added.
    fn count(&self) -> u64 {
        (self.acc >> 64) as u64
    }
}

const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_HANDSHAKE: u8 = 22;

const HT_CLIENT_HELLO: u8 = 1;
const HT_SERVER_HELLO: u8 = 2;
const HT_NEW_SESSION_TICKET: u8 = 4;
const HT_CERTIFICATE: u8 = 11;
const HT_SERVER_KEY_EXCHANGE: u8 = 12;
const HT_CLIENT_KEY_EXCHANGE: u8 = 16;

const EXT_SERVER_NAME: u16 = 0;
const EXT_SUPPORTED_GROUPS: u16 = 10;
const EXT_EC_POINT_FORMATS: u16 = 11;
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
const EXT_ALPN: u16 = 16;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
const EXT_PSK_KEY_EXCHANGE_MODES: u16 = 45;
const EXT_KEY_SHARE: u16 = 51;

// ---------------------------------------------------------------------------------------------
// Corpora
// ---------------------------------------------------------------------------------------------

/// Appends `body` prefixed by its big-endian length of `width` bytes.
fn put_vec(out: &mut Vec<u8>, width: usize, body: &[u8]) {
    let len = body.len() as u64;
    for i in (0..width).rev() {
        out.push((len >> (8 * i)) as u8);
    }
    out.extend_from_slice(body);
}

fn u16s(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Deterministic filler bytes (key material, randoms) so runs see identical input.
fn filler(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A Chrome-like TLS 1.3 ClientHello record, as Chrome 131+ sends it (RFC 8446 §4.1.2 layout;
/// GREASE values from RFC 8701; X25519MLKEM768 = 0x11ec from draft-ietf-tls-ecdhe-mlkem, its
/// key share = 1184-byte ML-KEM-768 encapsulation key + 32-byte X25519 share; GREASE ECH per
/// RFC 9849 §6.2; ALPS 0x44cd and compress_certificate 0x1b per RFC 8879). Chrome shuffles its
/// extension order per connection; this is one fixed order.
fn chrome_client_hello() -> Vec<u8> {
    let grease = [0x0a0a_u16, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a];
    let mut exts = Vec::new();
    let mut ext = |t: u16, body: &[u8]| {
        exts.extend_from_slice(&t.to_be_bytes());
        put_vec(&mut exts, 2, body);
    };
    ext(grease[0], &[]);
    let mut sni = vec![0u8];
    put_vec(&mut sni, 2, b"www.google.com");
    let mut sni_list = Vec::new();
    put_vec(&mut sni_list, 2, &sni);
    ext(EXT_SERVER_NAME, &sni_list);
    ext(0x0017, &[]); // extended_master_secret
    ext(0xff01, &[0]); // renegotiation_info, empty
    let mut groups = Vec::new();
    put_vec(
        &mut groups,
        2,
        &u16s(&[grease[1], 0x11ec, 0x001d, 0x0017, 0x0018]),
    );
    ext(EXT_SUPPORTED_GROUPS, &groups);
    ext(EXT_EC_POINT_FORMATS, &[1, 0]);
    ext(0x0023, &[]); // session_ticket
    let mut alpn_names = Vec::new();
    put_vec(&mut alpn_names, 1, b"h2");
    put_vec(&mut alpn_names, 1, b"http/1.1");
    let mut alpn = Vec::new();
    put_vec(&mut alpn, 2, &alpn_names);
    ext(EXT_ALPN, &alpn);
    ext(0x0005, &[1, 0, 0, 0, 0]); // status_request: ocsp, no responder ids, no extensions
    let mut sigalgs = Vec::new();
    put_vec(
        &mut sigalgs,
        2,
        &u16s(&[
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ]),
    );
    ext(EXT_SIGNATURE_ALGORITHMS, &sigalgs);
    ext(0x0012, &[]); // signed_certificate_timestamp, empty in a ClientHello
    let mut shares = Vec::new();
    shares.extend_from_slice(&grease[2].to_be_bytes());
    put_vec(&mut shares, 2, &[0]);
    shares.extend_from_slice(&0x11ec_u16.to_be_bytes());
    put_vec(&mut shares, 2, &filler(1184 + 32, 7));
    shares.extend_from_slice(&0x001d_u16.to_be_bytes());
    put_vec(&mut shares, 2, &filler(32, 11));
    let mut key_share = Vec::new();
    put_vec(&mut key_share, 2, &shares);
    ext(EXT_KEY_SHARE, &key_share);
    ext(EXT_PSK_KEY_EXCHANGE_MODES, &[1, 1]);
    let mut versions = Vec::new();
    put_vec(&mut versions, 1, &u16s(&[grease[3], 0x0304, 0x0303]));
    ext(EXT_SUPPORTED_VERSIONS, &versions);
    ext(0x001b, &[2, 0, 2]); // compress_certificate: brotli
    let mut alps = Vec::new();
    let mut alps_names = Vec::new();
    put_vec(&mut alps_names, 1, b"h2");
    put_vec(&mut alps, 2, &alps_names);
    ext(0x44cd, &alps); // application_settings
    let mut ech = vec![0u8]; // outer
    ech.extend_from_slice(&u16s(&[0x0001, 0x0001])); // HKDF-SHA256, AES-128-GCM
    ech.push(0x7b); // config_id
    put_vec(&mut ech, 2, &filler(32, 13)); // enc
    put_vec(&mut ech, 2, &filler(208, 17)); // payload
    ext(0xfe0d, &ech);
    ext(grease[4], &[0]);

    let mut hello = Vec::new();
    hello.extend_from_slice(&0x0303_u16.to_be_bytes());
    hello.extend_from_slice(&filler(32, 3)); // random
    put_vec(&mut hello, 1, &filler(32, 5)); // legacy session id
    put_vec(
        &mut hello,
        2,
        &u16s(&[
            grease[5], 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
            0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
        ]),
    );
    put_vec(&mut hello, 1, &[0]);
    put_vec(&mut hello, 2, &exts);

    let mut msg = vec![HT_CLIENT_HELLO];
    put_vec(&mut msg, 3, &hello);
    let mut record = vec![CT_HANDSHAKE, 0x03, 0x01];
    put_vec(&mut record, 2, &msg);
    record
}

/// (client stream, server stream) of a capture under `tests/captures/`.
fn capture_streams(name: &str) -> (Vec<u8>, Vec<u8>) {
    pac_tests::support::capture_streams(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(name),
    )
}

/// The first `n` whole records of a stream (framing by the 5-byte header).
fn first_records(stream: &[u8], n: usize) -> Vec<u8> {
    let mut at = 0;
    for _ in 0..n {
        let len = match stream.get(at + 3..at + 5) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => break,
        };
        at = (at + 5 + len).min(stream.len());
    }
    stream.get(..at).unwrap_or(stream).to_vec()
}

fn corpora() -> Vec<Corpus> {
    let (tls13_client, _) = capture_streams("tls13.pcap");
    let (tls12_client, tls12_server) = capture_streams("tls12-ecdhe.pcap");
    vec![
        Corpus {
            name: "chrome-ch",
            streams: vec![chrome_client_hello()],
        },
        Corpus {
            name: "openssl-ch",
            streams: vec![first_records(&tls13_client, 1)],
        },
        Corpus {
            name: "tls12-server-flight",
            // ServerHello, Certificate, ServerKeyExchange, ServerHelloDone: one record each.
            streams: vec![first_records(&tls12_server, 4)],
        },
        Corpus {
            name: "tls12-handshake",
            streams: vec![tls12_client, tls12_server],
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// 1. The generated parser
// ---------------------------------------------------------------------------------------------

mod generated {
    use super::*;
    use tls_grammar::*;

    pub fn run(streams: &[Vec<u8>]) -> Digest {
        let mut d = Digest::default();
        for s in streams {
            stream(s, &mut d);
        }
        d
    }

    /// The next record and the rest: `TlsRecord::parse`, or its nom entry point.
    #[cfg(not(feature = "nom-entry"))]
    #[inline]
    fn record(rest: &[u8]) -> Option<(TlsRecord<'_>, &[u8])> {
        TlsRecord::parse(rest).ok()
    }

    #[cfg(feature = "nom-entry")]
    #[inline]
    fn record(rest: &[u8]) -> Option<(TlsRecord<'_>, &[u8])> {
        use pac_runtime::nom::Nom;
        TlsRecord::nom::<pac_runtime::ParseError>(rest)
            .ok()
            .map(|(r, rec)| (rec, r))
    }

    /// The next handshake message and the rest: `Handshake::parse`, or its nom entry point.
    #[cfg(not(feature = "nom-entry"))]
    #[inline]
    fn handshake(frag: &[u8]) -> Option<(Handshake<'_>, &[u8])> {
        Handshake::parse(frag, false, false, true, KeyExchangeClass::ECDHE).ok()
    }

    #[cfg(feature = "nom-entry")]
    #[inline]
    fn handshake(frag: &[u8]) -> Option<(Handshake<'_>, &[u8])> {
        use pac_runtime::nom::Nom;
        let mut parser = Handshake::nom_with::<pac_runtime::ParseError>((
            false,
            false,
            true,
            KeyExchangeClass::ECDHE,
        ));
        parser(frag).ok().map(|(r, hs)| (hs, r))
    }

    fn stream(mut rest: &[u8], d: &mut Digest) {
        let mut encrypted = false;
        while !rest.is_empty() {
            let Some((rec, r)) = record(rest) else {
                return;
            };
            rest = r;
            d.add(u64::from(rec.content_type.0));
            d.add(u64::from(rec.length));
            if encrypted {
                continue;
            }
            match rec.content_type.0 {
                CT_CHANGE_CIPHER_SPEC => encrypted = true,
                CT_HANDSHAKE => {
                    let mut frag = rec.fragment;
                    while !frag.is_empty() {
                        let Some((hs, r)) = handshake(frag) else {
                            break;
                        };
                        frag = r;
                        d.messages += 1;
                        d.add(u64::from(hs.msg_type.0));
                        message(&hs.message.body, d);
                    }
                }
                _ => {}
            }
        }
    }

    fn message(body: &HandshakeMessageBody<'_>, d: &mut Digest) {
        match body {
            HandshakeMessageBody::ClientHello(ch) => {
                d.add(u64::from(ch.client_version.0));
                d.add(ch.random.len() as u64);
                d.add(ch.session_id.len() as u64);
                for c in ch.cipher_suites.iter() {
                    d.add(u64::from(c.0));
                }
                for m in ch.compression_methods.iter() {
                    d.add(u64::from(m));
                }
                if let Some(e) = &ch.extensions {
                    extensions(e, d);
                }
            }
            HandshakeMessageBody::ServerHello(sh) => {
                if let ServerHelloHello::Classic(c) = &sh.hello {
                    d.add(u64::from(c.server_version.0));
                    d.add(c.random.len() as u64);
                    d.add(c.session_id.len() as u64);
                    d.add(u64::from(c.cipher_suite.0));
                    d.add(u64::from(c.compression_method));
                    if let Some(e) = &c.extensions {
                        extensions(e, d);
                    }
                }
            }
            HandshakeMessageBody::Certificate(c) => {
                if let CertificateCertificates::Tls12Certificates(list) = &c.certificates {
                    for cert in list.certificate_list.iter() {
                        d.add(cert.cert.len() as u64);
                    }
                }
            }
            HandshakeMessageBody::ServerKeyExchange(ske) => {
                if let ServerKeyExchangeExchange::Ecdhe(e) = &ske.exchange {
                    d.add(u64::from(e.params.curve_type.0));
                    if let ServerECDHParamsCurve::Named(n) = &e.params.curve {
                        d.add(u64::from(n.named_curve.0));
                        d.add(n.point.len() as u64);
                    }
                    if let Some(sig) = &e.signature {
                        if let ServerKeyExchangeSignatureSig::WithAlgorithm(s) = &sig.sig {
                            d.add(u64::from(s.hash_algorithm.0));
                            d.add(u64::from(s.signature_algorithm.0));
                            d.add(s.signature.len() as u64);
                        }
                    }
                }
            }
            HandshakeMessageBody::ClientKeyExchange(cke) => {
                if let ClientKeyExchangeExchange::Ecdh(e) = &cke.exchange {
                    // The spec keeps the point's 8-bit length prefix (Zeek reports it so).
                    d.add(e.point.len().saturating_sub(1) as u64);
                }
            }
            HandshakeMessageBody::NewSessionTicket(t) => {
                if let NewSessionTicketTicket::Tls12Ticket(t) = &t.ticket {
                    d.add(u64::from(t.ticket_lifetime_hint));
                    d.add(t.ticket.len() as u64);
                }
            }
            _ => {}
        }
    }

    fn extensions(e: &Extensions<'_>, d: &mut Digest) {
        for ext in e.extensions.iter() {
            d.add(u64::from(ext.ext_type.0));
            match &ext.body {
                ExtensionBody::ServerName(Some(l)) => {
                    for n in l.server_name_list.iter() {
                        d.add(u64::from(n.name_type.0));
                        d.add(n.host_name.len() as u64);
                    }
                }
                ExtensionBody::SupportedGroups(g) => {
                    for x in g.named_group_list.iter() {
                        d.add(u64::from(x.0));
                    }
                }
                ExtensionBody::EcPointFormats(f) => {
                    for x in f.ec_point_format_list.iter() {
                        d.add(u64::from(x.0));
                    }
                }
                ExtensionBody::SignatureAlgorithms(s) => {
                    for x in s.supported_signature_algorithms.iter() {
                        d.add(u64::from(x.0));
                    }
                }
                ExtensionBody::Alpn(p) => {
                    for x in p.protocol_name_list.iter() {
                        d.add(x.name.len() as u64);
                    }
                }
                ExtensionBody::KeyShare(k) => match &k.share {
                    KeyShareShare::Client(c) => {
                        for s in c.client_shares.iter() {
                            d.add(u64::from(s.group.0));
                            d.add(s.key_exchange.len() as u64);
                        }
                    }
                    KeyShareShare::Server(s) => {
                        for s in s.server_share.iter() {
                            d.add(u64::from(s.group.0));
                            d.add(s.key_exchange.len() as u64);
                        }
                    }
                    KeyShareShare::HelloRetryRequest(h) => {
                        for g in h.selected_group.iter() {
                            d.add(u64::from(g.0));
                        }
                    }
                },
                ExtensionBody::SupportedVersions(v) => match &v.versions {
                    SupportedVersionsVersions::Client(c) => {
                        for x in c.versions.iter() {
                            d.add(u64::from(x.0));
                        }
                    }
                    SupportedVersionsVersions::Server(s) => {
                        for x in s.selected_version.iter() {
                            d.add(u64::from(x.0));
                        }
                    }
                },
                ExtensionBody::PskKeyExchangeModes(m) => {
                    for x in m.ke_modes.iter() {
                        d.add(u64::from(x.0));
                    }
                }
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1b. The generated parser's one-pass visitor
// ---------------------------------------------------------------------------------------------

/// The same work through the generated `Visitor` API: each handshake message is read once by
/// `Handshake::visit`, which calls the visitor for every value as it reads it and dispatches
/// each `case` once; nothing is built. The record loop is the one of `generated`.
mod generated_visit {
    use super::*;
    use tls_grammar::pac_runtime::Reader;
    use tls_grammar::*;

    pub fn run(streams: &[Vec<u8>]) -> Digest {
        let mut t = Touch::default();
        for s in streams {
            stream(s, &mut t);
        }
        t.d
    }

    fn stream(mut rest: &[u8], t: &mut Touch) {
        let mut encrypted = false;
        while !rest.is_empty() {
            let Ok((rec, r)) = TlsRecord::parse(rest) else {
                return;
            };
            rest = r;
            t.d.add(u64::from(rec.content_type.0));
            t.d.add(u64::from(rec.length));
            if encrypted {
                continue;
            }
            match rec.content_type.0 {
                CT_CHANGE_CIPHER_SPEC => encrypted = true,
                CT_HANDSHAKE => {
                    let mut frag = Reader::new(rec.fragment);
                    while !frag.is_empty() {
                        let visited = Handshake::visit(
                            &mut frag,
                            false,
                            false,
                            true,
                            KeyExchangeClass::ECDHE,
                            t,
                        );
                        if visited.is_err() {
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Folds the values the other implementations touch into the digest, as they are read.
    #[derive(Default)]
    struct Touch {
        d: Digest,
    }

    impl Visitor<'_> for Touch {
        fn handshake_msg_type(&mut self, v: HandshakeType) {
            self.d.messages += 1;
            self.d.add(u64::from(v.0));
        }
        fn client_hello_client_version(&mut self, v: ProtocolVersion) {
            self.d.add(u64::from(v.0));
        }
        fn client_hello_random(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn client_hello_session_id(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn client_hello_cipher_suites(&mut self, v: CipherSuite) {
            self.d.add(u64::from(v.0));
        }
        fn client_hello_compression_methods(&mut self, v: u8) {
            self.d.add(u64::from(v));
        }
        fn server_hello_classic_server_version(&mut self, v: ProtocolVersion) {
            self.d.add(u64::from(v.0));
        }
        fn server_hello_classic_random(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn server_hello_classic_session_id(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn server_hello_classic_cipher_suite(&mut self, v: CipherSuite) {
            self.d.add(u64::from(v.0));
        }
        fn server_hello_classic_compression_method(&mut self, v: u8) {
            self.d.add(u64::from(v));
        }
        fn asn1_cert_cert(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn server_ecdh_params_curve_type(&mut self, v: ECCurveType) {
            self.d.add(u64::from(v.0));
        }
        fn ecdh_named_curve_params_named_curve(&mut self, v: NamedGroup) {
            self.d.add(u64::from(v.0));
        }
        fn ecdh_named_curve_params_point(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn server_signature_tls12_hash_algorithm(&mut self, v: HashAlgorithm) {
            self.d.add(u64::from(v.0));
        }
        fn server_signature_tls12_signature_algorithm(&mut self, v: SignatureAlgorithm) {
            self.d.add(u64::from(v.0));
        }
        fn server_signature_tls12_signature(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn client_ec_diffie_hellman_public_point(&mut self, v: &[u8]) {
            // The spec keeps the point's 8-bit length prefix (Zeek reports it so).
            self.d.add(v.len().saturating_sub(1) as u64);
        }
        fn new_session_ticket12_ticket_lifetime_hint(&mut self, v: u32) {
            self.d.add(u64::from(v));
        }
        fn new_session_ticket12_ticket(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn extension_ext_type(&mut self, v: ExtensionType) {
            self.d.add(u64::from(v.0));
        }
        fn server_name_name_type(&mut self, v: NameType) {
            self.d.add(u64::from(v.0));
        }
        fn server_name_host_name(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn supported_groups_named_group_list(&mut self, v: NamedGroup) {
            self.d.add(u64::from(v.0));
        }
        fn ec_point_format_list_ec_point_format_list(&mut self, v: ECPointFormat) {
            self.d.add(u64::from(v.0));
        }
        fn signature_scheme_list_supported_signature_algorithms(&mut self, v: SignatureScheme) {
            self.d.add(u64::from(v.0));
        }
        fn protocol_name_name(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn key_share_entry_group(&mut self, v: NamedGroup) {
            self.d.add(u64::from(v.0));
        }
        fn key_share_entry_key_exchange(&mut self, v: &[u8]) {
            self.d.add(v.len() as u64);
        }
        fn key_share_hello_retry_request_selected_group(&mut self, v: NamedGroup) {
            self.d.add(u64::from(v.0));
        }
        fn supported_versions_client_hello_versions(&mut self, v: ProtocolVersion) {
            self.d.add(u64::from(v.0));
        }
        fn supported_versions_server_hello_selected_version(&mut self, v: ProtocolVersion) {
            self.d.add(u64::from(v.0));
        }
        fn psk_key_exchange_modes_ke_modes(&mut self, v: PskKeyExchangeMode) {
            self.d.add(u64::from(v.0));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. tls-parser 0.12
// ---------------------------------------------------------------------------------------------

mod tlsparser {
    use super::*;
    use tls_parser::{
        parse_digitally_signed, parse_ecdh_params, parse_tls_plaintext, parse_tls_raw_record,
        ECParametersContent, TlsExtension, TlsMessage, TlsMessageHandshake,
    };

    pub fn run(streams: &[Vec<u8>]) -> Digest {
        let mut d = Digest::default();
        for s in streams {
            stream(s, &mut d);
        }
        d
    }

    fn stream(mut rest: &[u8], d: &mut Digest) {
        let mut encrypted = false;
        while !rest.is_empty() {
            if encrypted {
                let Ok((r, raw)) = parse_tls_raw_record(rest) else {
                    return;
                };
                rest = r;
                d.add(u64::from(raw.hdr.record_type.0));
                d.add(u64::from(raw.hdr.len));
                continue;
            }
            let Ok((r, plain)) = parse_tls_plaintext(rest) else {
                return;
            };
            rest = r;
            d.add(u64::from(plain.hdr.record_type.0));
            d.add(u64::from(plain.hdr.len));
            for m in &plain.msg {
                match m {
                    TlsMessage::ChangeCipherSpec => encrypted = true,
                    TlsMessage::Handshake(h) => {
                        d.messages += 1;
                        message(h, d);
                    }
                    _ => {}
                }
            }
        }
    }

    fn message(h: &TlsMessageHandshake<'_>, d: &mut Digest) {
        match h {
            TlsMessageHandshake::ClientHello(ch) => {
                d.add(u64::from(HT_CLIENT_HELLO));
                d.add(u64::from(ch.version.0));
                d.add(ch.random.len() as u64);
                d.add(ch.session_id.map_or(0, <[u8]>::len) as u64);
                for c in &ch.ciphers {
                    d.add(u64::from(c.0));
                }
                for m in &ch.comp {
                    d.add(u64::from(m.0));
                }
                if let Some(ext) = ch.ext {
                    if let Ok((_, exts)) = tls_parser::parse_tls_client_hello_extensions(ext) {
                        extensions(&exts, true, d);
                    }
                }
            }
            TlsMessageHandshake::ServerHello(sh) => {
                d.add(u64::from(HT_SERVER_HELLO));
                d.add(u64::from(sh.version.0));
                d.add(sh.random.len() as u64);
                d.add(sh.session_id.map_or(0, <[u8]>::len) as u64);
                d.add(u64::from(sh.cipher.0));
                d.add(u64::from(sh.compression.0));
                if let Some(ext) = sh.ext {
                    if let Ok((_, exts)) = tls_parser::parse_tls_server_hello_extensions(ext) {
                        extensions(&exts, false, d);
                    }
                }
            }
            TlsMessageHandshake::Certificate(c) => {
                d.add(u64::from(HT_CERTIFICATE));
                for cert in &c.cert_chain {
                    d.add(cert.data.len() as u64);
                }
            }
            TlsMessageHandshake::ServerKeyExchange(ske) => {
                d.add(u64::from(HT_SERVER_KEY_EXCHANGE));
                // tls-parser leaves the parameters raw: their layout depends on the suite.
                if let Ok((rest, p)) = parse_ecdh_params(ske.parameters) {
                    d.add(u64::from(p.curve_params.curve_type.0));
                    if let ECParametersContent::NamedGroup(g) = p.curve_params.params_content {
                        d.add(u64::from(g.0));
                        d.add(p.public.point.len() as u64);
                    }
                    if let Ok((_, sig)) = parse_digitally_signed(rest) {
                        if let Some(alg) = sig.alg {
                            d.add(u64::from(alg.hash.0));
                            d.add(u64::from(alg.sign.0));
                        }
                        d.add(sig.data.len() as u64);
                    }
                }
            }
            TlsMessageHandshake::ClientKeyExchange(cke) => {
                d.add(u64::from(HT_CLIENT_KEY_EXCHANGE));
                // Without the negotiated suite tls-parser leaves the exchange raw; the ECDH
                // point is then read the way tls-parser's ECPoint reads it (nom's length_data).
                if let tls_parser::TlsClientKeyExchangeContents::Unknown(b) = cke {
                    use tls_parser::nom::{multi::length_data, number::complete::be_u8};
                    let r: tls_parser::IResult<&[u8], &[u8]> = length_data(be_u8)(b);
                    if let Ok((_, point)) = r {
                        d.add(point.len() as u64);
                    }
                }
            }
            TlsMessageHandshake::NewSessionTicket(t) => {
                d.add(u64::from(HT_NEW_SESSION_TICKET));
                d.add(u64::from(t.ticket_lifetime_hint));
                // tls-parser's ticket is the rest of the message: its 16-bit length included.
                use tls_parser::nom::{multi::length_data, number::complete::be_u16};
                let r: tls_parser::IResult<&[u8], &[u8]> = length_data(be_u16)(t.ticket);
                if let Ok((_, ticket)) = r {
                    d.add(ticket.len() as u64);
                }
            }
            TlsMessageHandshake::ServerDone(_) => d.add(14),
            TlsMessageHandshake::Finished(_) => d.add(20),
            TlsMessageHandshake::CertificateVerify(_) => d.add(15),
            TlsMessageHandshake::CertificateRequest(_) => d.add(13),
            TlsMessageHandshake::HelloRequest => d.add(0),
            _ => {}
        }
    }

    fn extensions(exts: &[TlsExtension<'_>], client: bool, d: &mut Digest) {
        for e in exts {
            let t = match e {
                TlsExtension::Grease(t, _) => *t,
                other => tls_parser::TlsExtensionType::from(other).0,
            };
            d.add(u64::from(t));
            match e {
                TlsExtension::SNI(names) => {
                    for (t, n) in names {
                        d.add(u64::from(t.0));
                        d.add(n.len() as u64);
                    }
                }
                TlsExtension::EllipticCurves(g) => {
                    for x in g {
                        d.add(u64::from(x.0));
                    }
                }
                TlsExtension::EcPointFormats(f) => {
                    for x in *f {
                        d.add(u64::from(*x));
                    }
                }
                TlsExtension::SignatureAlgorithms(s) => {
                    for x in s {
                        d.add(u64::from(*x));
                    }
                }
                TlsExtension::ALPN(names) => {
                    for n in names {
                        d.add(n.len() as u64);
                    }
                }
                TlsExtension::KeyShare(raw) => {
                    // tls-parser keeps key_share raw; walk its entries the only way it allows.
                    key_share(raw, client, d);
                }
                TlsExtension::SupportedVersions(v) => {
                    for x in v {
                        d.add(u64::from(x.0));
                    }
                }
                TlsExtension::PskExchangeModes(m) => {
                    for x in m {
                        d.add(u64::from(*x));
                    }
                }
                _ => {}
            }
        }
    }

    fn key_share(raw: &[u8], client: bool, d: &mut Digest) {
        let mut c = crate::hand::Cur(raw);
        if client {
            let Some(mut list) = c.vec16() else { return };
            while !list.0.is_empty() {
                let (Some(g), Some(k)) = (list.u16(), list.vec16()) else {
                    return;
                };
                d.add(u64::from(g));
                d.add(k.0.len() as u64);
            }
        } else if raw.len() == 2 {
            d.add(u64::from(c.u16().unwrap_or(0)));
        } else if let (Some(g), Some(k)) = (c.u16(), c.vec16()) {
            d.add(u64::from(g));
            d.add(k.0.len() as u64);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. The hand-written walker (the ceiling)
// ---------------------------------------------------------------------------------------------

mod hand {
    use super::*;

    /// A checked cursor: every read either succeeds or returns `None`.
    #[derive(Clone, Copy)]
    pub struct Cur<'a>(pub &'a [u8]);

    impl<'a> Cur<'a> {
        #[inline]
        pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
            if self.0.len() < n {
                return None;
            }
            let (a, b) = self.0.split_at(n);
            self.0 = b;
            Some(a)
        }
        #[inline]
        pub fn u8(&mut self) -> Option<u8> {
            let (&b, rest) = self.0.split_first()?;
            self.0 = rest;
            Some(b)
        }
        #[inline]
        pub fn u16(&mut self) -> Option<u16> {
            let b = self.take(2)?;
            Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
        }
        #[inline]
        pub fn u24(&mut self) -> Option<u32> {
            let b = self.take(3)?;
            Some(u32::from_be_bytes([0, *b.first()?, *b.get(1)?, *b.get(2)?]))
        }
        #[inline]
        pub fn u32(&mut self) -> Option<u32> {
            let b = self.take(4)?;
            Some(u32::from_be_bytes(b.try_into().ok()?))
        }
        #[inline]
        pub fn vec8(&mut self) -> Option<Cur<'a>> {
            let n = usize::from(self.u8()?);
            Some(Cur(self.take(n)?))
        }
        #[inline]
        pub fn vec16(&mut self) -> Option<Cur<'a>> {
            let n = usize::from(self.u16()?);
            Some(Cur(self.take(n)?))
        }
        #[inline]
        pub fn vec24(&mut self) -> Option<Cur<'a>> {
            let n = self.u24()? as usize;
            Some(Cur(self.take(n)?))
        }
        #[inline]
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }

    pub fn run(streams: &[Vec<u8>]) -> Digest {
        let mut d = Digest::default();
        for s in streams {
            stream(s, &mut d);
        }
        d
    }

    fn stream(s: &[u8], d: &mut Digest) {
        let mut c = Cur(s);
        let mut encrypted = false;
        while !c.is_empty() {
            let (Some(ct), Some(_ver), Some(mut frag)) = (c.u8(), c.u16(), c.vec16()) else {
                return;
            };
            d.add(u64::from(ct));
            d.add(frag.0.len() as u64);
            if encrypted {
                continue;
            }
            match ct {
                CT_CHANGE_CIPHER_SPEC => encrypted = true,
                CT_HANDSHAKE => {
                    while !frag.is_empty() {
                        let (Some(t), Some(body)) = (frag.u8(), frag.vec24()) else {
                            break;
                        };
                        d.messages += 1;
                        d.add(u64::from(t));
                        if message(t, body, d).is_none() {
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn message(t: u8, mut b: Cur<'_>, d: &mut Digest) -> Option<()> {
        match t {
            HT_CLIENT_HELLO => {
                d.add(u64::from(b.u16()?));
                d.add(b.take(32)?.len() as u64);
                d.add(b.vec8()?.0.len() as u64);
                let mut suites = b.vec16()?;
                while !suites.is_empty() {
                    d.add(u64::from(suites.u16()?));
                }
                for &m in b.vec8()?.0 {
                    d.add(u64::from(m));
                }
                if !b.is_empty() {
                    extensions(b.vec16()?, true, d)?;
                }
            }
            HT_SERVER_HELLO => {
                d.add(u64::from(b.u16()?));
                d.add(b.take(32)?.len() as u64);
                d.add(b.vec8()?.0.len() as u64);
                d.add(u64::from(b.u16()?));
                d.add(u64::from(b.u8()?));
                if !b.is_empty() {
                    extensions(b.vec16()?, false, d)?;
                }
            }
            HT_CERTIFICATE => {
                let mut list = b.vec24()?;
                while !list.is_empty() {
                    d.add(list.vec24()?.0.len() as u64);
                }
            }
            HT_SERVER_KEY_EXCHANGE => {
                let curve_type = b.u8()?;
                d.add(u64::from(curve_type));
                if curve_type == 3 {
                    d.add(u64::from(b.u16()?));
                    d.add(b.vec8()?.0.len() as u64);
                }
                d.add(u64::from(b.u8()?));
                d.add(u64::from(b.u8()?));
                d.add(b.vec16()?.0.len() as u64);
            }
            HT_CLIENT_KEY_EXCHANGE => {
                d.add(b.vec8()?.0.len() as u64);
            }
            HT_NEW_SESSION_TICKET => {
                d.add(u64::from(b.u32()?));
                d.add(b.vec16()?.0.len() as u64);
            }
            _ => {}
        }
        Some(())
    }

    fn extensions(mut list: Cur<'_>, client: bool, d: &mut Digest) -> Option<()> {
        while !list.is_empty() {
            let t = list.u16()?;
            let mut body = list.vec16()?;
            d.add(u64::from(t));
            match t {
                EXT_SERVER_NAME if !body.is_empty() => {
                    let mut names = body.vec16()?;
                    while !names.is_empty() {
                        d.add(u64::from(names.u8()?));
                        d.add(names.vec16()?.0.len() as u64);
                    }
                }
                EXT_SUPPORTED_GROUPS | EXT_SIGNATURE_ALGORITHMS => {
                    let mut l = body.vec16()?;
                    while !l.is_empty() {
                        d.add(u64::from(l.u16()?));
                    }
                }
                EXT_EC_POINT_FORMATS | EXT_PSK_KEY_EXCHANGE_MODES => {
                    for &x in body.vec8()?.0 {
                        d.add(u64::from(x));
                    }
                }
                EXT_ALPN => {
                    let mut l = body.vec16()?;
                    while !l.is_empty() {
                        d.add(l.vec8()?.0.len() as u64);
                    }
                }
                EXT_KEY_SHARE if client => {
                    let mut l = body.vec16()?;
                    while !l.is_empty() {
                        d.add(u64::from(l.u16()?));
                        d.add(l.vec16()?.0.len() as u64);
                    }
                }
                EXT_KEY_SHARE if body.0.len() == 2 => d.add(u64::from(body.u16()?)),
                EXT_KEY_SHARE => {
                    d.add(u64::from(body.u16()?));
                    d.add(body.vec16()?.0.len() as u64);
                }
                EXT_SUPPORTED_VERSIONS if client => {
                    let mut l = body.vec8()?;
                    while !l.is_empty() {
                        d.add(u64::from(l.u16()?));
                    }
                }
                EXT_SUPPORTED_VERSIONS => d.add(u64::from(body.u16()?)),
                _ => {}
            }
        }
        Some(())
    }
}

// ---------------------------------------------------------------------------------------------
// 4. The hand walker on pac-runtime's Reader (what a one-pass generated walker would cost)
// ---------------------------------------------------------------------------------------------

/// The walker of section 3, rewritten on `pac_runtime::Reader`: every read is checked, names a
/// field path and fails with a `ParseError`, as generated code does, but each byte is read once
/// and no value is built. The gap between this and `generated` is the price of the generated
/// parser's second pass (validate, then build values); the gap between this and `hand-walker`
/// is the runtime's own price.
mod runtime_walker {
    use super::*;
    use tls_grammar::pac_runtime::{ParseError, Reader};

    type R<'a> = Reader<'a>;

    fn vec8<'a>(r: &mut R<'a>, path: &'static str) -> Result<R<'a>, ParseError> {
        let n = r.u8(path)?;
        r.sub(usize::from(n), path)
    }
    fn vec16<'a>(r: &mut R<'a>, path: &'static str) -> Result<R<'a>, ParseError> {
        let n = r.u16(path)?;
        r.sub(usize::from(n), path)
    }
    fn vec24<'a>(r: &mut R<'a>, path: &'static str) -> Result<R<'a>, ParseError> {
        let n = r.u24(path)?;
        r.sub(n as usize, path)
    }

    pub fn run(streams: &[Vec<u8>]) -> Digest {
        let mut d = Digest::default();
        for s in streams {
            let _ = stream(s, &mut d);
        }
        d
    }

    fn stream(s: &[u8], d: &mut Digest) -> Result<(), ParseError> {
        let mut r = Reader::new(s);
        let mut encrypted = false;
        while !r.is_empty() {
            let ct = r.u8("TlsRecord.content_type")?;
            r.u16("TlsRecord.version")?;
            let mut frag = vec16(&mut r, "TlsRecord.fragment")?;
            d.add(u64::from(ct));
            d.add(frag.remaining() as u64);
            if encrypted {
                continue;
            }
            match ct {
                CT_CHANGE_CIPHER_SPEC => encrypted = true,
                CT_HANDSHAKE => {
                    while !frag.is_empty() {
                        let t = frag.u8("Handshake.msg_type")?;
                        let body = vec24(&mut frag, "Handshake.message")?;
                        d.messages += 1;
                        d.add(u64::from(t));
                        message(t, body, d)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn message(t: u8, mut b: R<'_>, d: &mut Digest) -> Result<(), ParseError> {
        match t {
            HT_CLIENT_HELLO => {
                d.add(u64::from(b.u16("ClientHello.client_version")?));
                d.add(b.take(32, "ClientHello.random")?.len() as u64);
                d.add(vec8(&mut b, "ClientHello.session_id")?.remaining() as u64);
                let mut suites = vec16(&mut b, "ClientHello.cipher_suites")?;
                while !suites.is_empty() {
                    d.add(u64::from(suites.u16("ClientHello.cipher_suites")?));
                }
                let mut comp = vec8(&mut b, "ClientHello.compression_methods")?;
                while !comp.is_empty() {
                    d.add(u64::from(comp.u8("ClientHello.compression_methods")?));
                }
                if !b.is_empty() {
                    extensions(vec16(&mut b, "Extensions.extensions")?, true, d)?;
                }
            }
            HT_SERVER_HELLO => {
                d.add(u64::from(b.u16("ServerHello.server_version")?));
                d.add(b.take(32, "ServerHello.random")?.len() as u64);
                d.add(vec8(&mut b, "ServerHello.session_id")?.remaining() as u64);
                d.add(u64::from(b.u16("ServerHello.cipher_suite")?));
                d.add(u64::from(b.u8("ServerHello.compression_method")?));
                if !b.is_empty() {
                    extensions(vec16(&mut b, "Extensions.extensions")?, false, d)?;
                }
            }
            HT_CERTIFICATE => {
                let mut list = vec24(&mut b, "Certificate12.certificate_list")?;
                while !list.is_empty() {
                    d.add(vec24(&mut list, "ASN1Cert.cert")?.remaining() as u64);
                }
            }
            HT_SERVER_KEY_EXCHANGE => {
                let curve_type = b.u8("ServerECDHParams.curve_type")?;
                d.add(u64::from(curve_type));
                if curve_type == 3 {
                    d.add(u64::from(b.u16("ECDHNamedCurveParams.named_curve")?));
                    d.add(vec8(&mut b, "ECDHNamedCurveParams.point")?.remaining() as u64);
                }
                d.add(u64::from(b.u8("ServerSignatureTls12.hash_algorithm")?));
                d.add(u64::from(b.u8("ServerSignatureTls12.signature_algorithm")?));
                d.add(vec16(&mut b, "ServerSignatureTls12.signature")?.remaining() as u64);
            }
            HT_CLIENT_KEY_EXCHANGE => {
                d.add(vec8(&mut b, "ClientECDiffieHellmanPublic.point")?.remaining() as u64);
            }
            HT_NEW_SESSION_TICKET => {
                d.add(u64::from(b.u32("NewSessionTicket12.ticket_lifetime_hint")?));
                d.add(vec16(&mut b, "NewSessionTicket12.ticket")?.remaining() as u64);
            }
            _ => {}
        }
        Ok(())
    }

    fn extensions(mut list: R<'_>, client: bool, d: &mut Digest) -> Result<(), ParseError> {
        while !list.is_empty() {
            let t = list.u16("Extension.ext_type")?;
            let mut body = vec16(&mut list, "Extension.body")?;
            d.add(u64::from(t));
            match t {
                EXT_SERVER_NAME if !body.is_empty() => {
                    let mut names = vec16(&mut body, "ServerNameList.server_name_list")?;
                    while !names.is_empty() {
                        d.add(u64::from(names.u8("ServerName.name_type")?));
                        d.add(vec16(&mut names, "ServerName.host_name")?.remaining() as u64);
                    }
                }
                EXT_SUPPORTED_GROUPS | EXT_SIGNATURE_ALGORITHMS => {
                    let mut l = vec16(&mut body, "SupportedGroups.named_group_list")?;
                    while !l.is_empty() {
                        d.add(u64::from(l.u16("SupportedGroups.named_group_list")?));
                    }
                }
                EXT_EC_POINT_FORMATS | EXT_PSK_KEY_EXCHANGE_MODES => {
                    let mut l = vec8(&mut body, "ECPointFormatList.ec_point_format_list")?;
                    while !l.is_empty() {
                        d.add(u64::from(l.u8("ECPointFormatList.ec_point_format_list")?));
                    }
                }
                EXT_ALPN => {
                    let mut l = vec16(&mut body, "ProtocolNameList.protocol_name_list")?;
                    while !l.is_empty() {
                        d.add(vec8(&mut l, "ProtocolName.name")?.remaining() as u64);
                    }
                }
                EXT_KEY_SHARE if client => {
                    let mut l = vec16(&mut body, "KeyShareClientHello.client_shares")?;
                    while !l.is_empty() {
                        d.add(u64::from(l.u16("KeyShareEntry.group")?));
                        d.add(vec16(&mut l, "KeyShareEntry.key_exchange")?.remaining() as u64);
                    }
                }
                EXT_KEY_SHARE if body.remaining() == 2 => {
                    d.add(u64::from(
                        body.u16("KeyShareHelloRetryRequest.selected_group")?,
                    ));
                }
                EXT_KEY_SHARE => {
                    d.add(u64::from(body.u16("KeyShareEntry.group")?));
                    d.add(vec16(&mut body, "KeyShareEntry.key_exchange")?.remaining() as u64);
                }
                EXT_SUPPORTED_VERSIONS if client => {
                    let mut l = vec8(&mut body, "SupportedVersionsClientHello.versions")?;
                    while !l.is_empty() {
                        d.add(u64::from(l.u16("SupportedVersionsClientHello.versions")?));
                    }
                }
                EXT_SUPPORTED_VERSIONS => {
                    d.add(u64::from(
                        body.u16("SupportedVersionsServerHello.selected_version")?,
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

type Impl = (&'static str, fn(&[Vec<u8>]) -> Digest);

const IMPLS: [Impl; 5] = [
    ("generated", generated::run),
    ("tls-parser", tlsparser::run),
    ("hand-walker", hand::run),
    ("runtime-walker", runtime_walker::run),
    ("generated-visit", generated_visit::run),
];

/// Fails loudly unless all implementations touched the same values.
fn check(corpora: &[Corpus]) {
    for c in corpora {
        let digests: Vec<Digest> = IMPLS.iter().map(|(_, f)| f(&c.streams)).collect();
        for ((name, _), d) in IMPLS.iter().zip(&digests) {
            assert_eq!(
                *d, digests[0],
                "{}: {name} touched different values than {}",
                c.name, IMPLS[0].0
            );
        }
        assert!(
            digests[0].messages > 0,
            "{}: no handshake message parsed",
            c.name
        );
        eprintln!(
            "corpus {:<20} {:>6} bytes {:>3} streams {:>3} messages {:>5} values touched",
            c.name,
            c.bytes(),
            c.streams.len(),
            digests[0].messages,
            digests[0].count()
        );
    }
}

fn criterion_groups(c: &mut Criterion, corpora: &[Corpus]) {
    for corpus in corpora {
        let mut g = c.benchmark_group(corpus.name);
        g.throughput(Throughput::Bytes(corpus.bytes() as u64));
        for (name, f) in IMPLS {
            g.bench_function(name, |b| b.iter(|| f(black_box(&corpus.streams))));
        }
        g.finish();
    }
}

/// Times `f` over `iters` runs of the corpus.
fn time(f: fn(&[Vec<u8>]) -> Digest, streams: &[Vec<u8>], iters: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(f(black_box(streams)));
    }
    start.elapsed()
}

/// Round-robin timing of the implementations (median of rounds), printed as a table with
/// messages/s, MB/s and ratios. Pairing within rounds keeps the ratios meaningful on a busy
/// machine even when the absolute numbers are not.
fn paired_summary(corpora: &[Corpus]) {
    const ROUNDS: usize = 31;
    const ROUND_TIME: Duration = Duration::from_millis(20);
    println!();
    println!("paired summary (median of {ROUNDS} interleaved rounds)");
    println!(
        "{:<20} {:<16} {:>10} {:>12} {:>10} {:>12} {:>12}",
        "corpus", "impl", "ns/iter", "messages/s", "MB/s", "vs tls-parser", "vs hand"
    );
    for c in corpora {
        let msgs = IMPLS[0].1(&c.streams).messages as f64;
        // Calibrate the iteration count so one round of the slowest takes about ROUND_TIME.
        let mut iters = 1u32;
        while IMPLS
            .iter()
            .map(|(_, f)| time(*f, &c.streams, iters))
            .max()
            .unwrap_or_default()
            < ROUND_TIME
        {
            iters = iters.saturating_mul(2);
        }
        let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); IMPLS.len()];
        for _ in 0..ROUNDS {
            for (i, (_, f)) in IMPLS.iter().enumerate() {
                let t = time(*f, &c.streams, iters);
                samples[i].push(t.as_secs_f64() / f64::from(iters));
            }
        }
        let medians: Vec<f64> = samples
            .iter_mut()
            .map(|s| {
                s.sort_by(f64::total_cmp);
                s[s.len() / 2]
            })
            .collect();
        for (i, (name, _)) in IMPLS.iter().enumerate() {
            let t = medians[i];
            println!(
                "{:<20} {:<16} {:>10.0} {:>12.0} {:>10.1} {:>12.2}x {:>11.2}x",
                c.name,
                name,
                t * 1e9,
                msgs / t,
                c.bytes() as f64 / t / 1e6,
                medians[1] / t,
                medians[2] / t,
            );
        }
    }
}

fn main() {
    if cfg!(feature = "nom-entry") {
        eprintln!("nom-entry: `generated` runs through the nom entry points, not `parse`");
    }
    let corpora = corpora();
    check(&corpora);
    let mut c = Criterion::default().configure_from_args();
    criterion_groups(&mut c, &corpora);
    c.final_summary();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: skip the summary there,
    // and under `--profile-time` (profiling one benchmark with perf).
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--profile-time") {
        paired_summary(&corpora);
    }
}
