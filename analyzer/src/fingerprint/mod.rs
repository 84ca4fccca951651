//! TLS client and server fingerprints computed from the parsed hellos: JA3 and JA3S (BSD
//! 3-Clause, Salesforce's definition), JA4 (BSD 3-Clause, FoxIO's `technical_details/JA4.md`)
//! and, only with the cargo feature `ja4plus`, JA4S (module `ja4plus`, FoxIO License 1.1).
//!
//! In: the generated [`ClientHello`] / [`ServerHello`] views the analyzer already parsed to
//! raise its events (no second parse). Out: the fingerprint texts, through the
//! [`ClientHelloFingerprints`] / [`ServerHelloFingerprints`] traits for library users and as
//! [`Fingerprints`] (one text per requested ssl.log column) for the log.
//!
//! A hello's extensions are walked once ([`facts`]), the hashes are fed straight from the
//! formatting through a stack buffer, and JA4's sorted lists are sorted on the stack, so a
//! fingerprint allocates only its own column text (lists longer than
//! [`facts::STACK_LIST`] values, which no real hello has, use a `Vec`).

use tls_grammar::{ClientHello, ServerHello};

use facts::{ClientFacts, ServerFacts};
use ja4::{ja4_of, Form, Transport};

pub mod facts;
pub mod ja3;
pub mod ja4;
#[cfg(feature = "ja4plus")]
pub mod ja4plus;

/// One fingerprint column of ssl.log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `ja3`: MD5 of the client's JA3 string.
    Ja3,
    /// `ja3s`: MD5 of the server's JA3S string.
    Ja3s,
    /// `ja4`: the JA4 fingerprint (sorted lists, hashed).
    Ja4,
    /// `ja4_r`: JA4 with the sorted lists written out instead of hashed.
    Ja4R,
    /// `ja4_o`: JA4 over the lists in their original order (SNI and ALPN included), hashed.
    Ja4O,
    /// `ja4_ro`: `ja4_o` with the lists written out.
    Ja4Ro,
    /// `ja4s` (JA4+, FoxIO License 1.1; needs the `ja4plus` feature).
    Ja4s,
    /// `ja4s_r`: `ja4s` with the extension list written out (JA4+).
    Ja4sR,
}

/// Every method, in the order their columns appear in ssl.log.
pub const METHODS: [Method; 8] = [
    Method::Ja3,
    Method::Ja3s,
    Method::Ja4,
    Method::Ja4R,
    Method::Ja4O,
    Method::Ja4Ro,
    Method::Ja4s,
    Method::Ja4sR,
];

/// The cargo feature that carries the JA4+ methods.
pub const JA4PLUS_FEATURE: &str = "ja4plus";

impl Method {
    /// The ssl.log column name (as the Zeek packages and FoxIO's tools name it).
    pub fn column(self) -> &'static str {
        match self {
            Method::Ja3 => "ja3",
            Method::Ja3s => "ja3s",
            Method::Ja4 => "ja4",
            Method::Ja4R => "ja4_r",
            Method::Ja4O => "ja4_o",
            Method::Ja4Ro => "ja4_ro",
            Method::Ja4s => "ja4s",
            Method::Ja4sR => "ja4s_r",
        }
    }

    /// Whether the method fingerprints the ServerHello (else the ClientHello).
    pub fn is_server(self) -> bool {
        matches!(self, Method::Ja3s | Method::Ja4s | Method::Ja4sR)
    }

    /// Whether the method is JA4+ (FoxIO License 1.1), only available with `ja4plus`.
    pub fn is_ja4plus(self) -> bool {
        matches!(self, Method::Ja4s | Method::Ja4sR)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A set of [`Method`]s: which fingerprint columns ssl.log gets (none by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FingerprintSet(u8);

impl FingerprintSet {
    /// No fingerprints (Zeek's default ssl.log).
    pub const NONE: FingerprintSet = FingerprintSet(0);

    /// Parses the `--fingerprints` list: comma-separated column names. A JA4+ method in a build
    /// without the `ja4plus` feature is an error naming the feature.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut set = FingerprintSet::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let Some(m) = METHODS.iter().find(|m| m.column() == name) else {
                let known: Vec<&str> = METHODS.iter().map(|m| m.column()).collect();
                return Err(format!(
                    "unknown fingerprint `{name}` (known: {})",
                    known.join(", ")
                ));
            };
            if m.is_ja4plus() && !cfg!(feature = "ja4plus") {
                return Err(format!(
                    "fingerprint `{name}` is JA4+ (FoxIO License 1.1) and needs a build with the \
                     cargo feature `{JA4PLUS_FEATURE}` (cargo build --features {JA4PLUS_FEATURE})"
                ));
            }
            set = set.with(*m);
        }
        Ok(set)
    }

    /// This set plus `m`.
    pub fn with(self, m: Method) -> Self {
        FingerprintSet(self.0 | 1 << m.index())
    }

    /// Whether `m` is in the set.
    pub fn contains(self, m: Method) -> bool {
        self.0 & 1 << m.index() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The methods in the set, in column order.
    pub fn iter(self) -> impl Iterator<Item = Method> {
        METHODS.into_iter().filter(move |m| self.contains(*m))
    }
}

/// One text per fingerprint column; `None` is unset (no such hello seen, or the method does
/// not apply to it, e.g. an SSLv2 hello).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprints([Option<String>; METHODS.len()]);

impl Fingerprints {
    /// The text of `m`'s column.
    pub fn get(&self, m: Method) -> Option<&str> {
        self.0[m.index()].as_deref()
    }

    /// Computes the client-side methods of `set` from `hello` unless an earlier ClientHello of
    /// the connection set them: the first hello counts, as in FoxIO's reference implementation
    /// (the ClientHello a client sends again after a HelloRetryRequest differs, e.g. it drops
    /// the padding extension, and would give the same client two fingerprints).
    pub fn client_hello(&mut self, set: FingerprintSet, hello: &ClientHello<'_>, quic: bool) {
        if set
            .iter()
            .all(|m| m.is_server() || self.0[m.index()].is_some())
        {
            return;
        }
        let f = ClientFacts::of(hello);
        let t = if quic {
            Transport::Quic
        } else {
            Transport::of(hello)
        };
        for m in set.iter().filter(|m| !m.is_server()) {
            if self.0[m.index()].is_some() {
                continue;
            }
            let v = match m {
                Method::Ja3 => ja3::ja3(&f),
                Method::Ja4 => ja4_of(&f, t, Form::HASHED),
                Method::Ja4R => ja4_of(&f, t, Form::RAW),
                Method::Ja4O => ja4_of(&f, t, Form::ORIGINAL),
                Method::Ja4Ro => ja4_of(&f, t, Form::RAW_ORIGINAL),
                _ => continue,
            };
            self.0[m.index()] = Some(v);
        }
    }

    /// Computes the server-side methods of `set` from `hello` unless an earlier ServerHello
    /// (a HelloRetryRequest) set them; `transport` is JA4S's first letter.
    pub fn server_hello(
        &mut self,
        set: FingerprintSet,
        hello: &ServerHello<'_>,
        transport: Transport,
    ) {
        let _ = transport;
        if set
            .iter()
            .all(|m| !m.is_server() || self.0[m.index()].is_some())
        {
            return;
        }
        let f = ServerFacts::of(hello);
        for m in set.iter().filter(|m| m.is_server()) {
            if self.0[m.index()].is_some() {
                continue;
            }
            let v = match m {
                Method::Ja3s => ja3::ja3s(&f),
                #[cfg(feature = "ja4plus")]
                Method::Ja4s => ja4plus::ja4s_of(&f, transport, false),
                #[cfg(feature = "ja4plus")]
                Method::Ja4sR => ja4plus::ja4s_of(&f, transport, true),
                _ => continue,
            };
            self.0[m.index()] = Some(v);
        }
    }
}

/// Fingerprints of a parsed ClientHello.
///
/// ```
/// use tls_analyzer::fingerprint::ClientHelloFingerprints;
/// use tls_grammar::ClientHello;
///
/// // A TLS 1.2 ClientHello body (after the handshake header): version, random, empty session
/// // id, two cipher suites, null compression, and one extension (SNI "a.b").
/// let mut body = vec![0x03, 0x03];
/// body.extend([0u8; 32]);
/// body.extend([0x00, 0x00, 0x04, 0xc0, 0x2f, 0x00, 0x9c, 0x01, 0x00]);
/// body.extend([0x00, 0x0c, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x03, b'a', b'.', b'b']);
/// let (hello, _) = ClientHello::parse(&body, false).expect("a valid hello");
///
/// assert_eq!(hello.ja3_string(), "771,49199-156,0,,");
/// assert_eq!(hello.ja3(), "c6cd73bc6983b532b87fcb43f26cba39");
/// assert!(hello.ja4().starts_with("t12d020100_"));
/// ```
pub trait ClientHelloFingerprints {
    /// The JA3 string (before hashing).
    fn ja3_string(&self) -> String;
    /// JA3: the MD5 of [`Self::ja3_string`], lower-case hex.
    fn ja3(&self) -> String;
    /// JA4 (`d` prefix for a DTLS hello, else `t`).
    fn ja4(&self) -> String;
    /// JA4_r: the sorted lists written out.
    fn ja4_r(&self) -> String;
    /// JA4_o: original order, hashed.
    fn ja4_o(&self) -> String;
    /// JA4_ro: original order, written out.
    fn ja4_ro(&self) -> String;
}

impl ClientHelloFingerprints for ClientHello<'_> {
    fn ja3_string(&self) -> String {
        ja3::ja3_string(&ClientFacts::of(self))
    }
    fn ja3(&self) -> String {
        ja3::ja3(&ClientFacts::of(self))
    }
    fn ja4(&self) -> String {
        ja4::ja4(self, Transport::of(self), Form::HASHED)
    }
    fn ja4_r(&self) -> String {
        ja4::ja4(self, Transport::of(self), Form::RAW)
    }
    fn ja4_o(&self) -> String {
        ja4::ja4(self, Transport::of(self), Form::ORIGINAL)
    }
    fn ja4_ro(&self) -> String {
        ja4::ja4(self, Transport::of(self), Form::RAW_ORIGINAL)
    }
}

/// Fingerprints of a parsed ServerHello.
pub trait ServerHelloFingerprints {
    /// The JA3S string (before hashing).
    fn ja3s_string(&self) -> String;
    /// JA3S: the MD5 of [`Self::ja3s_string`], lower-case hex.
    fn ja3s(&self) -> String;
}

impl ServerHelloFingerprints for ServerHello<'_> {
    fn ja3s_string(&self) -> String {
        ja3::ja3s_string(&ServerFacts::of(self))
    }
    fn ja3s(&self) -> String {
        ja3::ja3s(&ServerFacts::of(self))
    }
}

/// Whether `v` is a GREASE value (RFC 8701: 0x?a?a with both bytes equal).
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}
