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

use std::fmt::Write as _;

use tls_grammar::{ExtensionBody, ServerHello, SupportedVersionsVersions};

use super::ja4::{alpn_chars, hex_list, section, version_name};
use super::{extensions_of, first_alpn, server_parts};

/// JA4S of `hello` (`raw`: `ja4s_r`); `dtls` selects the `d` prefix.
pub fn ja4s(hello: &ServerHello<'_>, dtls: bool, raw: bool) -> String {
    let (cipher, block) = server_parts(hello);
    let exts = || extensions_of(block).map(|e| e.ext_type.0);
    let version = extensions_of(block)
        .find_map(|e| match e.body {
            ExtensionBody::SupportedVersions(sv) => match sv.versions {
                SupportedVersionsVersions::Server(s) => s.selected_version.iter().next(),
                SupportedVersionsVersions::Client(_) => None,
            },
            _ => None,
        })
        .map_or(hello.server_version.0, |v| v.0);
    let mut out = String::with_capacity(if raw { 96 } else { 25 });
    out.push(if dtls { 'd' } else { 't' });
    out.push_str(version_name(version));
    let _ = write!(out, "{:02}", exts().count().min(99));
    out.extend(alpn_chars(first_alpn(extensions_of(block))));
    let _ = write!(out, "_{cipher:04x}_");
    let empty = exts().next().is_none();
    section(&mut out, raw, empty, |w| hex_list(w, exts()));
    out
}
