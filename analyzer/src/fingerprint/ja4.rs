//! JA4, the TLS client fingerprint (FoxIO, BSD 3-Clause), per FoxIO's
//! `technical_details/JA4.md`:
//!
//! `a_b_c` where `a` = transport (`t` TLS over TCP, `q` QUIC, `d` DTLS), the 2-character version
//! (the highest non-GREASE `supported_versions` value, else the hello's version), `d`/`i` for
//! SNI present or not, the 2-digit counts of cipher suites and of extensions (GREASE left out,
//! capped at 99), and the first and last characters of the first ALPN value (`00` without one;
//! the hex digits' first and last characters when either end byte is not ASCII alphanumeric);
//! `b` = the first 12 hex digits of SHA-256 over the sorted cipher list (4-digit lower-case hex,
//! comma-separated); `c` = the same over the sorted extension list without SNI (0x0000) and ALPN
//! (0x0010), followed by `_` and the signature algorithms in their original order when there
//! are any. An empty list hashes to `000000000000`. The raw forms write the lists out instead of
//! hashing them (`ja4_r`); the original-order forms (`ja4_o`, `ja4_ro`) keep the hello's order
//! and keep SNI and ALPN.
//!
//! QUIC hellos (the handshake of a QUIC connection) get [`Transport::Quic`].

use sha2::{Digest, Sha256};
use tls_grammar::{ClientHello, ExtensionType};

use super::facts::{ascii, ClientFacts, Out, Text, HEX};
use super::is_grease;

/// JA4 section `b`/`c` when the list is empty.
pub const EMPTY_HASH: &str = "000000000000";
/// Hex digits kept of each SHA-256.
pub const HASH_HEX_LEN: usize = 12;

/// What carried the hello: JA4's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TLS over TCP: `t`.
    Tcp,
    /// QUIC: `q`.
    Quic,
    /// DTLS: `d`.
    Dtls,
}

impl Transport {
    /// `Dtls` for a DTLS hello (it has a cookie field), else `Tcp`.
    pub fn of(hello: &ClientHello<'_>) -> Self {
        Self::dtls(hello.is_dtls)
    }

    fn dtls(dtls: bool) -> Self {
        if dtls {
            Transport::Dtls
        } else {
            Transport::Tcp
        }
    }

    /// The letter.
    pub fn letter(self) -> u8 {
        match self {
            Transport::Tcp => b't',
            Transport::Quic => b'q',
            Transport::Dtls => b'd',
        }
    }
}

/// Which of JA4's four forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form {
    /// Lists sorted (and SNI/ALPN left out of the extensions), as in `ja4` and `ja4_r`.
    pub sorted: bool,
    /// Lists written out rather than hashed.
    pub raw: bool,
}

impl Form {
    /// `ja4`.
    pub const HASHED: Form = Form {
        sorted: true,
        raw: false,
    };
    /// `ja4_r`.
    pub const RAW: Form = Form {
        sorted: true,
        raw: true,
    };
    /// `ja4_o`.
    pub const ORIGINAL: Form = Form {
        sorted: false,
        raw: false,
    };
    /// `ja4_ro`.
    pub const RAW_ORIGINAL: Form = Form {
        sorted: false,
        raw: true,
    };
}

/// JA4's 2-character version name.
pub fn version_name(v: u16) -> &'static [u8; 2] {
    match v {
        0x0304 => b"13",
        0x0303 => b"12",
        0x0302 => b"11",
        0x0301 => b"10",
        0x0300 => b"s3",
        0x0002 => b"s2",
        0xfeff => b"d1",
        0xfefd => b"d2",
        0xfefc => b"d3",
        _ => b"00",
    }
}

/// Two digits, capped at 99.
pub(crate) fn count2(out: &mut impl Out, n: usize) {
    let n = u8::try_from(n.min(99)).unwrap_or(99);
    out.put(&[b'0' + n / 10, b'0' + n % 10]);
}

/// JA4's ALPN characters for the first ALPN value `alpn`.
pub fn alpn_chars(alpn: Option<&[u8]>) -> [char; 2] {
    let [a, b] = alpn_bytes(alpn);
    [char::from(a), char::from(b)]
}

/// [`alpn_chars`] as bytes.
pub(crate) fn alpn_bytes(alpn: Option<&[u8]>) -> [u8; 2] {
    let (Some(&first), Some(&last)) = (alpn.and_then(|a| a.first()), alpn.and_then(|a| a.last()))
    else {
        return *b"00";
    };
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        [first, last]
    } else {
        [HEX[usize::from(first >> 4)], HEX[usize::from(last & 0x0f)]]
    }
}

/// Writes `values` as 4-digit lower-case hex, comma-separated.
pub(crate) fn hex_list(out: &mut impl Out, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.byte(b',');
        }
        out.hex4(v);
    }
}

/// Appends a section: the list itself (`raw`) or its truncated hash, `000000000000` when the
/// list is empty.
pub(crate) fn section(
    out: &mut Vec<u8>,
    raw: bool,
    empty: bool,
    write: impl Fn(&mut dyn FnMut(&[u8])),
) {
    if raw {
        write(&mut |b| out.put(b));
    } else if empty {
        out.put(EMPTY_HASH.as_bytes());
    } else {
        let mut text = Text::default();
        write(&mut |b| text.put(b));
        let digest = Sha256::digest(text.as_slice());
        for b in &digest[..HASH_HEX_LEN / 2] {
            out.put(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        }
    }
}

/// An [`Out`] over a byte callback, so one writer serves both raw text and hashing.
struct Put<'f>(&'f mut dyn FnMut(&[u8]));

impl Out for Put<'_> {
    fn put(&mut self, bytes: &[u8]) {
        (self.0)(bytes)
    }
}

/// JA4 of `hello` in the form `form`, with `transport`'s prefix letter.
pub fn ja4(hello: &ClientHello<'_>, transport: Transport, form: Form) -> String {
    ja4_of(&ClientFacts::of(hello), transport, form)
}

/// JA4 of the hello `f` describes.
pub fn ja4_of(f: &ClientFacts<'_>, transport: Transport, form: Form) -> String {
    let sni = ExtensionType::server_name.0;
    let alpn = ExtensionType::application_layer_protocol_negotiation.0;
    let exts = f.extensions.as_slice();
    let sigalgs = || {
        f.signature_algorithms
            .iter()
            .flat_map(|l| l.iter())
            .map(|s| s.0)
            .filter(|s| !is_grease(*s))
    };

    let mut out: Vec<u8> = Vec::with_capacity(if form.raw { 256 } else { 36 });
    out.byte(transport.letter());
    out.put(version_name(f.offered_version()));
    out.byte(if exts.contains(&sni) { b'd' } else { b'i' });
    count2(&mut out, f.ciphers.as_slice().len());
    count2(&mut out, exts.len());
    out.put(&alpn_bytes(f.alpn));
    out.byte(b'_');

    let sorted_ciphers;
    let ciphers = if form.sorted {
        sorted_ciphers = f.ciphers.sorted();
        sorted_ciphers.as_slice()
    } else {
        f.ciphers.as_slice()
    };
    section(&mut out, form.raw, ciphers.is_empty(), |w| {
        hex_list(&mut Put(w), ciphers.iter().copied())
    });
    out.byte(b'_');

    let has_sigalgs = sigalgs().next().is_some();
    let kept;
    let listed: &[u16] = if form.sorted {
        let mut k = super::facts::U16List::default();
        for e in exts.iter().filter(|e| **e != sni && **e != alpn) {
            k.push(*e);
        }
        kept = k.sorted();
        kept.as_slice()
    } else {
        exts
    };
    section(&mut out, form.raw, listed.is_empty(), |w| {
        let mut w = Put(w);
        hex_list(&mut w, listed.iter().copied());
        if has_sigalgs {
            w.byte(b'_');
            hex_list(&mut w, sigalgs());
        }
    });
    ascii(out)
}
