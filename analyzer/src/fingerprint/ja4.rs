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
//! QUIC hellos are not analysed yet; when TLS-in-QUIC arrives it passes [`Transport::Quic`].

use std::fmt::{self, Write};

use sha2::{Digest, Sha256};
use tls_grammar::{ClientHello, ExtensionBody, ExtensionType, SupportedVersionsVersions};

use super::{client_extensions, first_alpn, is_grease, push_hex, with_sorted, HashWriter};

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
        if hello.is_dtls {
            Transport::Dtls
        } else {
            Transport::Tcp
        }
    }

    fn letter(self) -> char {
        match self {
            Transport::Tcp => 't',
            Transport::Quic => 'q',
            Transport::Dtls => 'd',
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
pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// The highest version the hello offers: `supported_versions` without GREASE, else its version.
/// DTLS numbers count down (0xfefc is DTLS 1.3), so for them the lowest number is the highest.
pub fn offered_version(hello: &ClientHello<'_>) -> u16 {
    let listed = client_extensions(hello).find_map(|e| match e.body {
        ExtensionBody::SupportedVersions(sv) => match sv.versions {
            SupportedVersionsVersions::Client(c) => Some(c.versions),
            SupportedVersionsVersions::Server(_) => None,
        },
        _ => None,
    });
    let rank = |v: u16| if v >= 0xfe00 { 0xffff - v } else { v };
    listed
        .and_then(|l| {
            l.iter()
                .map(|v| v.0)
                .filter(|v| !is_grease(*v))
                .max_by_key(|v| rank(*v))
        })
        .unwrap_or(hello.client_version.0)
}

/// Two digits, capped at 99.
fn count2(out: &mut String, n: usize) {
    let _ = write!(out, "{:02}", n.min(99));
}

/// JA4's ALPN characters for the first ALPN value `alpn`.
pub fn alpn_chars(alpn: Option<&[u8]>) -> [char; 2] {
    let (Some(&first), Some(&last)) = (alpn.and_then(|a| a.first()), alpn.and_then(|a| a.last()))
    else {
        return ['0', '0'];
    };
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        [char::from(first), char::from(last)]
    } else {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        [
            char::from(HEX[usize::from(first >> 4)]),
            char::from(HEX[usize::from(last & 0x0f)]),
        ]
    }
}

/// Writes `values` as 4-digit lower-case hex, comma-separated.
pub(crate) fn hex_list(out: &mut dyn Write, values: impl Iterator<Item = u16>) -> fmt::Result {
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write!(out, "{v:04x}")?;
    }
    Ok(())
}

/// Appends a section: the list itself (`raw`) or its truncated hash, `000000000000` when the
/// list is empty.
pub(crate) fn section(
    out: &mut String,
    raw: bool,
    empty: bool,
    write: impl Fn(&mut dyn Write) -> fmt::Result,
) {
    if raw {
        let _ = write(out);
    } else if empty {
        out.push_str(EMPTY_HASH);
    } else {
        let mut h = HashWriter(Sha256::new());
        let _ = write(&mut h);
        let digest = h.0.finalize();
        push_hex(out, &digest[..HASH_HEX_LEN / 2]);
    }
}

/// JA4 of `hello` in the form `form`, with `transport`'s prefix letter.
pub fn ja4(hello: &ClientHello<'_>, transport: Transport, form: Form) -> String {
    let ciphers = || {
        hello
            .cipher_suites
            .iter()
            .map(|c| c.0)
            .filter(|c| !is_grease(*c))
    };
    let exts = || {
        client_extensions(hello)
            .map(|e| e.ext_type.0)
            .filter(|e| !is_grease(*e))
    };
    let sni = ExtensionType::server_name.0;
    let alpn = ExtensionType::application_layer_protocol_negotiation.0;
    let sigalgs = client_extensions(hello).find_map(|e| match e.body {
        ExtensionBody::SignatureAlgorithms(s) => Some(s.supported_signature_algorithms),
        _ => None,
    });
    let sigalgs = || {
        sigalgs
            .iter()
            .flat_map(|l| l.iter())
            .map(|s| s.0)
            .filter(|s| !is_grease(*s))
    };

    let mut out = String::with_capacity(if form.raw { 256 } else { 36 });
    out.push(transport.letter());
    out.push_str(version_name(offered_version(hello)));
    out.push(if exts().any(|e| e == sni) { 'd' } else { 'i' });
    count2(&mut out, ciphers().count());
    count2(&mut out, exts().count());
    out.extend(alpn_chars(first_alpn(client_extensions(hello))));
    out.push('_');

    let ciphers_empty = ciphers().next().is_none();
    if form.sorted {
        with_sorted(ciphers, |sorted| {
            section(&mut out, form.raw, ciphers_empty, |w| {
                hex_list(w, sorted.iter().copied())
            })
        });
    } else {
        section(&mut out, form.raw, ciphers_empty, |w| {
            hex_list(w, ciphers())
        });
    }
    out.push('_');

    let has_sigalgs = sigalgs().next().is_some();
    let write_tail = |w: &mut dyn Write| -> fmt::Result {
        if has_sigalgs {
            w.write_char('_')?;
            hex_list(w, sigalgs())?;
        }
        Ok(())
    };
    if form.sorted {
        let kept = || exts().filter(|e| *e != sni && *e != alpn);
        let empty = kept().next().is_none();
        with_sorted(kept, |sorted| {
            section(&mut out, form.raw, empty, |w| {
                hex_list(w, sorted.iter().copied())?;
                write_tail(w)
            })
        });
    } else {
        let empty = exts().next().is_none();
        section(&mut out, form.raw, empty, |w| {
            hex_list(w, exts())?;
            write_tail(w)
        });
    }
    out
}
