//! What the fingerprints read from a hello, collected in one pass over its extensions, and the
//! byte sinks the fingerprint texts are written to.
//!
//! In: a generated [`ClientHello`] / [`ServerHello`] view. Out: [`ClientFacts`] /
//! [`ServerFacts`]: the cipher and extension codes without GREASE (on the stack up to
//! [`STACK_LIST`] values), the lists some methods need as the parser's views, and the first
//! ALPN value. Every method then works off these, so the extension list (whose elements are
//! rebuilt from their bytes on each iteration) is walked once per hello, not once per method.
//! [`Out`] is where text goes: a `Vec<u8>` for a column, or a [`Text`] on the stack that is
//! then hashed.

use tls_grammar::{
    ClientHello, ECPointFormat, ExtensionBody, Extensions, NamedGroup, ServerHello,
    ServerHelloHello, SignatureScheme, SupportedVersionsVersions,
};

use pac_runtime::List;

use super::is_grease;

/// Values kept on the stack per list; longer lists (no real hello has them) move to a `Vec`.
pub const STACK_LIST: usize = 64;

/// A list of 16-bit values, on the stack up to [`STACK_LIST`] values.
#[derive(Debug, Clone)]
pub struct U16List {
    stack: [u16; STACK_LIST],
    len: usize,
    heap: Vec<u16>,
}

impl Default for U16List {
    fn default() -> Self {
        U16List {
            stack: [0; STACK_LIST],
            len: 0,
            heap: Vec::new(),
        }
    }
}

impl U16List {
    /// Appends `v`.
    pub fn push(&mut self, v: u16) {
        if self.heap.is_empty() && self.len < STACK_LIST {
            self.stack[self.len] = v;
            self.len += 1;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.stack[..self.len]);
            }
            self.heap.push(v);
        }
    }

    /// The values in order.
    pub fn as_slice(&self) -> &[u16] {
        if self.heap.is_empty() {
            &self.stack[..self.len]
        } else {
            &self.heap
        }
    }

    /// A copy sorted ascending.
    pub fn sorted(&self) -> U16List {
        let mut s = self.clone();
        if s.heap.is_empty() {
            s.stack[..s.len].sort_unstable();
        } else {
            s.heap.sort_unstable();
        }
        s
    }
}

/// A ClientHello as the fingerprints see it.
#[derive(Debug)]
pub struct ClientFacts<'a> {
    /// The hello is DTLS.
    pub dtls: bool,
    /// `client_version`.
    pub version: u16,
    /// Cipher suites without GREASE, in order.
    pub ciphers: U16List,
    /// Extension codes without GREASE, in order.
    pub extensions: U16List,
    /// The first `supported_groups` list.
    pub groups: Option<List<'a, NamedGroup>>,
    /// The first `ec_point_formats` list.
    pub point_formats: Option<List<'a, ECPointFormat>>,
    /// The first `signature_algorithms` list.
    pub signature_algorithms: Option<List<'a, SignatureScheme>>,
    /// The highest non-GREASE version of the first `supported_versions` (DTLS numbers count
    /// down, so for them the lowest number), if it lists one.
    pub supported_version: Option<u16>,
    /// The first value of the first ALPN extension (`Some(empty)` for an empty value or list).
    pub alpn: Option<&'a [u8]>,
}

/// A ServerHello as the fingerprints see it.
#[derive(Debug)]
pub struct ServerFacts<'a> {
    /// The hello's version field.
    pub version: u16,
    /// The chosen cipher suite.
    pub cipher: u16,
    /// Extension codes in order (without GREASE, which servers do not send).
    pub extensions: U16List,
    /// The `supported_versions` selection, if any.
    pub selected_version: Option<u16>,
    /// The chosen ALPN protocol.
    pub alpn: Option<&'a [u8]>,
}

/// The first ALPN value of an ALPN extension body (empty when the list is).
fn first_alpn<'a>(list: &tls_grammar::ProtocolNameList<'a>) -> &'a [u8] {
    list.protocol_name_list
        .iter()
        .next()
        .map_or(&[][..], |p| p.name)
}

impl<'a> ClientFacts<'a> {
    /// Collects the facts of `hello` in one pass over its extensions.
    pub fn of(hello: &ClientHello<'a>) -> Self {
        let mut f = ClientFacts {
            dtls: hello.is_dtls,
            version: hello.client_version.0,
            ciphers: U16List::default(),
            extensions: U16List::default(),
            groups: None,
            point_formats: None,
            signature_algorithms: None,
            supported_version: None,
            alpn: None,
        };
        for c in hello.cipher_suites.iter() {
            if !is_grease(c.0) {
                f.ciphers.push(c.0);
            }
        }
        let Some(block) = &hello.extensions else {
            return f;
        };
        let mut versions_seen = false;
        for e in block.extensions.iter() {
            if !is_grease(e.ext_type.0) {
                f.extensions.push(e.ext_type.0);
            }
            match e.body {
                ExtensionBody::SupportedGroups(g) if f.groups.is_none() => {
                    f.groups = Some(g.named_group_list)
                }
                ExtensionBody::EcPointFormats(p) if f.point_formats.is_none() => {
                    f.point_formats = Some(p.ec_point_format_list)
                }
                ExtensionBody::SignatureAlgorithms(s) if f.signature_algorithms.is_none() => {
                    f.signature_algorithms = Some(s.supported_signature_algorithms)
                }
                ExtensionBody::Alpn(a) if f.alpn.is_none() => f.alpn = Some(first_alpn(&a)),
                ExtensionBody::SupportedVersions(sv) if !versions_seen => {
                    versions_seen = true;
                    if let SupportedVersionsVersions::Client(c) = sv.versions {
                        let rank = |v: u16| if v >= 0xfe00 { 0xffff - v } else { v };
                        f.supported_version = c
                            .versions
                            .iter()
                            .map(|v| v.0)
                            .filter(|v| !is_grease(*v))
                            .max_by_key(|v| rank(*v));
                    }
                }
                _ => {}
            }
        }
        f
    }

    /// The version JA4 reports: the highest offered in `supported_versions`, else the hello's.
    pub fn offered_version(&self) -> u16 {
        self.supported_version.unwrap_or(self.version)
    }
}

impl<'a> ServerFacts<'a> {
    /// Collects the facts of `hello` in one pass over its extensions.
    pub fn of(hello: &ServerHello<'a>) -> Self {
        let (cipher, block): (u16, Option<&Extensions<'a>>) = match &hello.hello {
            ServerHelloHello::Classic(c) => (c.cipher_suite.0, c.extensions.as_ref()),
            ServerHelloHello::Draft(d) => (d.cipher_suite.0, d.extensions.as_ref()),
        };
        let mut f = ServerFacts {
            version: hello.server_version.0,
            cipher,
            extensions: U16List::default(),
            selected_version: None,
            alpn: None,
        };
        for e in block.into_iter().flat_map(|b| b.extensions.iter()) {
            if !is_grease(e.ext_type.0) {
                f.extensions.push(e.ext_type.0);
            }
            match e.body {
                ExtensionBody::Alpn(a) if f.alpn.is_none() => f.alpn = Some(first_alpn(&a)),
                ExtensionBody::SupportedVersions(sv) if f.selected_version.is_none() => {
                    if let SupportedVersionsVersions::Server(s) = sv.versions {
                        f.selected_version = s.selected_version.iter().next().map(|v| v.0);
                    }
                }
                _ => {}
            }
        }
        f
    }
}

/// Where fingerprint text goes: ASCII bytes only.
pub trait Out {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);

    /// Appends one byte.
    fn byte(&mut self, b: u8) {
        self.put(&[b]);
    }

    /// Appends `v` in decimal.
    fn decimal(&mut self, mut v: u16) {
        let mut buf = [0u8; 5];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + u8::try_from(v % 10).unwrap_or(0);
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.put(&buf[i..]);
    }

    /// Appends `v` as 4 lower-case hex digits.
    fn hex4(&mut self, v: u16) {
        let b = v.to_be_bytes();
        self.put(&[
            HEX[usize::from(b[0] >> 4)],
            HEX[usize::from(b[0] & 0xf)],
            HEX[usize::from(b[1] >> 4)],
            HEX[usize::from(b[1] & 0xf)],
        ]);
    }
}

/// Lower-case hex digits.
pub const HEX: &[u8; 16] = b"0123456789abcdef";

impl Out for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// Bytes of text kept on the stack before a hash input moves to a `Vec`.
pub const STACK_TEXT: usize = 512;

/// A hash input written on the stack (up to [`STACK_TEXT`] bytes, then in a `Vec`), then
/// hashed in one call: the pieces are a few bytes each, and feeding them one by one to the
/// hash or through `memcpy` cost more than the hash itself.
pub struct Text {
    buf: [u8; STACK_TEXT],
    len: usize,
    heap: Vec<u8>,
}

impl Default for Text {
    fn default() -> Self {
        Text {
            buf: [0; STACK_TEXT],
            len: 0,
            heap: Vec::new(),
        }
    }
}

impl Text {
    /// What was written.
    pub fn as_slice(&self) -> &[u8] {
        if self.heap.is_empty() {
            &self.buf[..self.len]
        } else {
            &self.heap
        }
    }
}

impl Out for Text {
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.byte(b);
        }
    }

    fn byte(&mut self, b: u8) {
        if self.heap.is_empty() {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
                return;
            }
            self.heap.extend_from_slice(&self.buf);
        }
        self.heap.push(b);
    }
}

/// `bytes` (ASCII by construction) as a `String`.
pub fn ascii(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
    ascii(out)
}
