//! The one-pass `visit` against the two-pass `parse`: same acceptance, same errors, same values.
//!
//! In: every hex fixture of `tests/fixtures/` (as `wire_fixtures.rs` loads them) and the TLS
//! records, handshake messages and DTLS datagrams of every capture of `tests/captures/`
//! (through the analyzer's capture front end, as the robustness tests get them). Out:
//! - for every such byte string and every truncation prefix of it, and for each of the spec's
//!   top-level units (records, handshake messages, extensions, ... whether or not the bytes are
//!   that unit, which exercises the error paths), `visit` with a no-op visitor succeeds exactly
//!   when `parse` does, consumes the same bytes, and otherwise fails with the identical
//!   `ParseError` (path, offset, kind);
//! - a recording visitor reports the same extension types, cipher suites, supported groups,
//!   server names, key share groups, offered versions and certificate lengths that the built
//!   structs hold, for every handshake message that parses.

#[path = "robust_support.rs"]
mod support;

use pac_runtime::{ParseError, Reader};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tls_analyzer::capture::Proto;
use tls_grammar::*;

/// A visitor that looks at nothing.
struct NoOp;
impl Visitor<'_> for NoOp {}

/// Parameters of the units that take some (from a fixture's `# params:` line, or fixed).
#[derive(Clone, Copy)]
struct P {
    is_dtls: bool,
    tls13: bool,
    has_sigalgs: bool,
    kex: KeyExchangeClass,
    msg: HandshakeType,
    cid_length: u64,
}

impl Default for P {
    fn default() -> Self {
        P {
            is_dtls: false,
            tls13: false,
            has_sigalgs: true,
            kex: KeyExchangeClass::ECDHE,
            msg: HandshakeType::client_hello,
            cid_length: 0,
        }
    }
}

/// One unit's outcome: (name, bytes consumed by `parse` or its error, the same of `visit`).
type Outcome = (
    &'static str,
    Result<usize, ParseError>,
    Result<usize, ParseError>,
);

/// Runs `parse` and `visit` of one unit type with the same arguments.
macro_rules! both {
    ($out:ident, $b:expr, $ty:ident ( $($arg:expr),* )) => {{
        let b: &[u8] = $b;
        let parsed = $ty::parse(b, $($arg),*).map(|(_, rest)| b.len() - rest.len());
        let mut r = Reader::new(b);
        let visited = $ty::visit(&mut r, $($arg,)* &mut NoOp).map(|()| r.pos());
        $out.push((stringify!($ty), parsed, visited));
    }};
}

/// Every top-level unit of the spec on `b`, with parameters `p` and a second, flipped set.
fn outcomes(b: &[u8], p: P) -> Vec<Outcome> {
    let mut out = Vec::new();
    both!(out, b, TlsRecord());
    both!(out, b, DtlsRecord());
    both!(out, b, DtlsHandshake());
    both!(out, b, AlertRecord());
    both!(out, b, ChangeCipherSpec());
    both!(out, b, Heartbeat());
    both!(out, b, ApplicationData());
    both!(out, b, SSLv2Record());
    both!(out, b, SSLv2RecordPadded());
    both!(out, b, DtlsUnifiedHeader(p.cid_length));
    both!(out, b, Handshake(p.is_dtls, p.tls13, p.has_sigalgs, p.kex));
    both!(
        out,
        b,
        Handshake(!p.is_dtls, !p.tls13, !p.has_sigalgs, KeyExchangeClass::DHE)
    );
    if let Some(&t) = b.first() {
        let body = b.get(4..).unwrap_or_default();
        let len = body.len() as u64;
        let t = HandshakeType(t);
        both!(
            out,
            body,
            HandshakeMessage(t, len, p.is_dtls, p.tls13, p.has_sigalgs, p.kex)
        );
    }
    both!(out, b, Extension(p.msg));
    both!(out, b, Extensions(p.msg));
    both!(out, b, Extension(HandshakeType::server_hello));
    both!(out, b, ClientHello(p.is_dtls));
    both!(out, b, ServerHello());
    out
}

/// Asserts that `visit` and `parse` agree on `b` and on every prefix of it.
fn agree_on_prefixes(what: &str, b: &[u8], p: P) -> usize {
    let mut checked = 0;
    for n in (0..=b.len()).rev() {
        for (unit, parsed, visited) in outcomes(&b[..n], p) {
            assert_eq!(
                parsed, visited,
                "{what}: {unit} on the {n}-byte prefix: parse (left) and visit (right) disagree"
            );
            checked += 1;
        }
    }
    checked
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// A hex fixture: its name, bytes and `# params:` line.
struct Fixture {
    name: String,
    dir: String,
    params: BTreeMap<String, String>,
    bytes: Vec<u8>,
}

impl Fixture {
    fn num(&self, key: &str) -> u64 {
        let v = self.params.get(key).map(String::as_str).unwrap_or("");
        match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap_or(0),
            None => v.parse().unwrap_or(0),
        }
    }

    /// The unit parameters as `wire_fixtures.rs` derives them.
    fn p(&self) -> P {
        let cipher = u16::try_from(self.num("cipher")).unwrap_or(0);
        P {
            is_dtls: self.dir == "dtls",
            tls13: self.num("version") == 0x0304,
            has_sigalgs: matches!(self.num("version"), 0x0303 | 0x0304 | 0xfefd | 0xfefc),
            kex: CipherSuite(cipher).key_exchange(),
            msg: self
                .params
                .get("msg")
                .and_then(|m| HandshakeType::from_name(m))
                .unwrap_or(HandshakeType::client_hello),
            cid_length: self.num("cid_length"),
        }
    }
}

/// Every `tests/fixtures/*/*.hex`, sorted (the files `wire_fixtures.rs` reads).
fn fixtures() -> Vec<Fixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fixtures exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("readable fixture dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "hex"))
            .collect();
        files.sort();
        let d = dir
            .file_name()
            .and_then(|d| d.to_str())
            .unwrap_or_default()
            .to_string();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("readable fixture");
            let mut params = BTreeMap::new();
            let mut hex = String::new();
            for line in text.lines() {
                if let Some(p) = line.strip_prefix("# params:") {
                    for kv in p.split_whitespace() {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        params.insert(k.to_string(), v.to_string());
                    }
                } else if !line.starts_with('#') {
                    hex.push_str(line.trim());
                }
            }
            let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            out.push(Fixture {
                name: format!("{d}/{stem}"),
                dir: d.clone(),
                params,
                bytes: support::from_hex(&hex),
            });
        }
    }
    out
}

/// The byte strings of one capture worth checking: each TLS record (and its handshake
/// messages), each DTLS datagram's records (and their handshake fragments), every TCP
/// direction's handshake bytes joined (messages split over records), and any SSLv2 start.
fn capture_units(path: &Path) -> Vec<(String, Vec<u8>)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let bytes = std::fs::read(path).expect("readable capture");
    let mut out = Vec::new();
    for (fi, flow) in support::flows(&bytes).into_iter().enumerate() {
        match flow.proto {
            Proto::Tcp => {
                for dir in [true, false] {
                    let stream: Vec<u8> = flow
                        .items
                        .iter()
                        .filter(|(o, _)| *o == dir)
                        .flat_map(|(_, d)| d.iter().copied())
                        .collect();
                    let mut handshake = Vec::new();
                    let mut rest: &[u8] = &stream;
                    while let Ok((rec, more)) = TlsRecord::parse(rest) {
                        let len = rest.len() - more.len();
                        out.push((format!("{name} flow {fi} record"), rest[..len].to_vec()));
                        if rec.content_type == ContentType::handshake {
                            handshake.extend_from_slice(rec.fragment);
                        }
                        if rec.content_type == ContentType::change_cipher_spec {
                            break;
                        }
                        rest = more;
                    }
                    if stream.first().is_some_and(|b| b & 0x80 != 0) {
                        out.push((format!("{name} flow {fi} sslv2"), stream.clone()));
                    }
                    let mut msgs: &[u8] = &handshake;
                    while let Some(len) = msgs.get(1..4).map(|l| {
                        usize::from(l[0]) << 16 | usize::from(l[1]) << 8 | usize::from(l[2])
                    }) {
                        let end = (4 + len).min(msgs.len());
                        out.push((format!("{name} flow {fi} handshake"), msgs[..end].to_vec()));
                        msgs = &msgs[end..];
                    }
                }
            }
            _ => {
                for (_, datagram) in &flow.items {
                    let mut rest: &[u8] = datagram;
                    while let Ok((rec, more)) = DtlsRecord::parse(rest) {
                        let len = rest.len() - more.len();
                        out.push((
                            format!("{name} flow {fi} dtls record"),
                            rest[..len].to_vec(),
                        ));
                        if rec.content_type == ContentType::handshake {
                            out.push((
                                format!("{name} flow {fi} dtls fragment"),
                                rec.fragment.to_vec(),
                            ));
                        }
                        rest = more;
                    }
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Equivalence

#[test]
fn visit_agrees_with_parse_on_every_fixture_prefix() {
    let all = fixtures();
    assert!(
        all.len() >= 90,
        "expected the 91 fixtures, found {}",
        all.len()
    );
    let mut checked = 0;
    for f in &all {
        checked += agree_on_prefixes(&f.name, &f.bytes, f.p());
    }
    eprintln!("fixture comparisons: {checked}");
    assert!(checked > 100_000, "only {checked} comparisons");
}

#[test]
fn visit_agrees_with_parse_on_every_capture_unit_prefix() {
    let captures = support::captures();
    assert!(captures.len() >= 30, "captures missing");
    let mut units = 0;
    for path in &captures {
        for (what, bytes) in capture_units(path) {
            for p in [
                P::default(),
                P {
                    tls13: true,
                    msg: HandshakeType::server_hello,
                    ..P::default()
                },
                P {
                    is_dtls: true,
                    has_sigalgs: false,
                    kex: KeyExchangeClass::RSA,
                    ..P::default()
                },
            ] {
                agree_on_prefixes(&what, &bytes, p);
            }
            units += 1;
        }
    }
    eprintln!("capture units: {units}");
    assert!(units > 300, "only {units} capture units");
}

// ---------------------------------------------------------------------------------------------
// Values

/// The values the recording test compares, in wire order.
#[derive(Debug, Default, PartialEq)]
struct Seen<'a> {
    ext_types: Vec<ExtensionType>,
    offered_suites: Vec<CipherSuite>,
    chosen_suites: Vec<CipherSuite>,
    groups: Vec<NamedGroup>,
    server_names: Vec<&'a [u8]>,
    key_share_groups: Vec<NamedGroup>,
    versions: Vec<ProtocolVersion>,
    cert_lengths: Vec<usize>,
}

impl<'a> Visitor<'a> for Seen<'a> {
    fn extension_ext_type(&mut self, v: ExtensionType) {
        self.ext_types.push(v);
    }
    fn client_hello_cipher_suites(&mut self, v: CipherSuite) {
        self.offered_suites.push(v);
    }
    fn server_hello_classic_cipher_suite(&mut self, v: CipherSuite) {
        self.chosen_suites.push(v);
    }
    fn server_hello_draft_cipher_suite(&mut self, v: CipherSuite) {
        self.chosen_suites.push(v);
    }
    fn hello_retry_request_draft_cipher_suite(&mut self, v: CipherSuite) {
        self.chosen_suites.push(v);
    }
    fn supported_groups_named_group_list(&mut self, v: NamedGroup) {
        self.groups.push(v);
    }
    fn server_name_host_name(&mut self, v: &'a [u8]) {
        self.server_names.push(v);
    }
    fn key_share_entry_group(&mut self, v: NamedGroup) {
        self.key_share_groups.push(v);
    }
    fn supported_versions_client_hello_versions(&mut self, v: ProtocolVersion) {
        self.versions.push(v);
    }
    fn asn1_cert_cert(&mut self, v: &'a [u8]) {
        self.cert_lengths.push(v.len());
    }
    fn certificate_entry_cert_data(&mut self, v: &'a [u8]) {
        self.cert_lengths.push(v.len());
    }
}

/// The same values, taken from a built message.
fn from_struct<'a>(hs: &Handshake<'a>) -> Seen<'a> {
    let mut s = Seen::default();
    let mut exts: Vec<Extensions<'a>> = Vec::new();
    match &hs.message.body {
        HandshakeMessageBody::ClientHello(ch) => {
            s.offered_suites.extend(ch.cipher_suites.iter());
            exts.extend(ch.extensions);
        }
        HandshakeMessageBody::ServerHello(sh) => match &sh.hello {
            ServerHelloHello::Classic(c) => {
                s.chosen_suites.push(c.cipher_suite);
                exts.extend(c.extensions);
            }
            ServerHelloHello::Draft(d) => {
                s.chosen_suites.push(d.cipher_suite);
                exts.extend(d.extensions);
            }
        },
        HandshakeMessageBody::HelloRetryRequest(h) => {
            s.chosen_suites.extend(h.cipher_suite);
            exts.push(h.extensions);
        }
        HandshakeMessageBody::EncryptedExtensions(e) => exts.push(e.extensions),
        HandshakeMessageBody::NewSessionTicket(t) => {
            if let NewSessionTicketTicket::Tls13Ticket(t) = &t.ticket {
                exts.push(t.extensions);
            }
        }
        HandshakeMessageBody::CertificateRequest(c) => {
            if let CertificateRequestRequest::Tls13Request(c) = &c.request {
                exts.push(c.extensions);
            }
        }
        HandshakeMessageBody::Certificate(c) => match &c.certificates {
            CertificateCertificates::Tls12Certificates(l) => {
                s.cert_lengths
                    .extend(l.certificate_list.iter().map(|c| c.cert.len()));
            }
            CertificateCertificates::Tls13Certificates(l) => {
                s.cert_lengths
                    .extend(l.certificate_list.iter().map(|c| c.cert_data.len()));
            }
        },
        _ => {}
    }
    for e in exts {
        for x in e.extensions.iter() {
            s.ext_types.push(x.ext_type);
            match &x.body {
                ExtensionBody::ServerName(Some(l)) => {
                    s.server_names
                        .extend(l.server_name_list.iter().map(|n| n.host_name));
                }
                ExtensionBody::SupportedGroups(g) => s.groups.extend(g.named_group_list.iter()),
                ExtensionBody::KeyShare(k) => match &k.share {
                    KeyShareShare::Client(c) => {
                        s.key_share_groups
                            .extend(c.client_shares.iter().map(|e| e.group));
                    }
                    KeyShareShare::Server(sv) => {
                        s.key_share_groups
                            .extend(sv.server_share.iter().map(|e| e.group));
                    }
                    KeyShareShare::HelloRetryRequest(_) => {}
                },
                ExtensionBody::SupportedVersions(v) => {
                    if let SupportedVersionsVersions::Client(c) = &v.versions {
                        s.versions.extend(c.versions.iter());
                    }
                }
                _ => {}
            }
        }
    }
    s
}

/// Compares the recording visitor with the built message; true when the message parsed.
fn same_values(what: &str, b: &[u8], p: P) -> bool {
    let Ok((hs, _)) = Handshake::parse(b, p.is_dtls, p.tls13, p.has_sigalgs, p.kex) else {
        return false;
    };
    let mut seen = Seen::default();
    let visited = Handshake::visit(
        &mut Reader::new(b),
        p.is_dtls,
        p.tls13,
        p.has_sigalgs,
        p.kex,
        &mut seen,
    );
    assert_eq!(visited, Ok(()), "{what}");
    assert_eq!(
        seen,
        from_struct(&hs),
        "{what}: visited (left) and built (right) values"
    );
    true
}

#[test]
fn recording_visitor_sees_what_the_structs_hold() {
    let mut messages = 0;
    let mut values = 0;
    for f in fixtures() {
        if matches!(f.dir.as_str(), "handshake" | "rfc8448")
            && same_values(&f.name, &f.bytes, f.p())
        {
            messages += 1;
        }
    }
    for path in support::captures() {
        for (what, bytes) in capture_units(&path) {
            if !what.ends_with("handshake") {
                continue;
            }
            // The layouts that depend on the connection: try both TLS 1.2 and 1.3 forms.
            for tls13 in [false, true] {
                let p = P {
                    tls13,
                    ..P::default()
                };
                if same_values(&what, &bytes, p) {
                    messages += 1;
                    let mut seen = Seen::default();
                    let _ = Handshake::visit(
                        &mut Reader::new(&bytes),
                        false,
                        tls13,
                        true,
                        p.kex,
                        &mut seen,
                    );
                    values +=
                        seen.ext_types.len() + seen.offered_suites.len() + seen.cert_lengths.len();
                }
            }
        }
    }
    eprintln!("messages {messages} values {values}");
    assert!(messages > 150, "only {messages} messages compared");
    assert!(values > 1000, "only {values} values compared");
}

/// On an error the visitor has seen a prefix of what it sees on the whole message.
#[test]
fn values_before_an_error_are_a_prefix() {
    for f in fixtures() {
        if !matches!(f.dir.as_str(), "handshake" | "rfc8448") {
            continue;
        }
        let p = f.p();
        let mut whole = Seen::default();
        let ok = Handshake::visit(
            &mut Reader::new(&f.bytes),
            p.is_dtls,
            p.tls13,
            p.has_sigalgs,
            p.kex,
            &mut whole,
        );
        if ok.is_err() {
            continue;
        }
        for n in 0..f.bytes.len() {
            let mut part = Seen::default();
            let r = Handshake::visit(
                &mut Reader::new(&f.bytes[..n]),
                p.is_dtls,
                p.tls13,
                p.has_sigalgs,
                p.kex,
                &mut part,
            );
            assert!(r.is_err(), "{}: the {n}-byte prefix visited", f.name);
            assert!(whole.ext_types.starts_with(&part.ext_types), "{}", f.name);
            assert!(
                whole.offered_suites.starts_with(&part.offered_suites),
                "{}",
                f.name
            );
            assert!(whole.groups.starts_with(&part.groups), "{}", f.name);
            assert!(
                whole.cert_lengths.starts_with(&part.cert_lengths),
                "{}",
                f.name
            );
        }
    }
}
