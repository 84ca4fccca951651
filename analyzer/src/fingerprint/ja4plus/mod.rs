//! JA4+ methods: JA4S, the TLS server fingerprint.
//!
//! **Licence: FoxIO License 1.1**, not the BSD 3-Clause of JA3 and JA4 (and not this crate's
//! own licence): free for non-commercial use; read the licence in FoxIO's `ja4` repository
//! before shipping JA4S in a product. This module is only compiled with the cargo feature
//! `ja4plus` (off by default), so a default build contains no JA4+ code.
//!
//! JA4S per FoxIO's `technical_details/JA4S.md`: `a_b_c` where `a` = transport letter
//! (`t`, `q`, or `d` for DTLS), the 2-character version (the server's `supported_versions`
//! selection, else the ServerHello version), the 2-digit extension count (capped at 99) and
//! the ALPN characters of the chosen protocol (`00` without one; JA4's rule for other bytes);
//! `b` = the chosen cipher suite as 4-digit hex; `c` = the first 12 hex digits of SHA-256 over
//! the extension list in the hello's order (`000000000000` when it has none). `ja4s_r` writes
//! the list out.

use tls_grammar::ServerHello;

use super::facts::{ascii, Out, ServerFacts};
use super::ja4::{alpn_bytes, count2, hex_list, section, version_name, Transport};

/// JA4S of `hello` (`raw`: `ja4s_r`); `transport` is the first letter (`t`, `q`, `d`).
pub fn ja4s(hello: &ServerHello<'_>, transport: Transport, raw: bool) -> String {
    ja4s_of(&ServerFacts::of(hello), transport, raw)
}

/// JA4S of the hello `f` describes.
pub fn ja4s_of(f: &ServerFacts<'_>, transport: Transport, raw: bool) -> String {
    let exts = f.extensions.as_slice();
    let mut out: Vec<u8> = Vec::with_capacity(if raw { 96 } else { 25 });
    out.byte(transport.letter());
    out.put(version_name(f.selected_version.unwrap_or(f.version)));
    count2(&mut out, exts.len());
    out.put(&alpn_bytes(f.alpn));
    out.byte(b'_');
    out.hex4(f.cipher);
    out.byte(b'_');
    section(&mut out, raw, exts.is_empty(), |w| {
        hex_list(&mut Put(w), exts.iter().copied())
    });
    ascii(out)
}

/// An [`Out`] over a byte callback.
struct Put<'f>(&'f mut dyn FnMut(&[u8]));

impl Out for Put<'_> {
    fn put(&mut self, bytes: &[u8]) {
        (self.0)(bytes)
    }
}
