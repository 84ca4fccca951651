//! Spec names -> Rust identifiers.
//!
//! In: names as written in the spec. Out: identifiers that are always valid Rust: keywords are
//! escaped as raw identifiers (`r#type`), the four that cannot be raw (`self`, `Self`, `super`,
//! `crate`) get a trailing `_`, and CamelCase forms for variants and generated enums.

use proc_macro2::{Ident, Span};

/// Rust keywords (strict and reserved, all editions) that a raw identifier can escape.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];
/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// The Rust spelling of a spec name, as text (`r#type`, `self_`).
pub fn rust_ident_str(name: &str) -> String {
    if NOT_RAW.contains(&name) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

/// The Rust identifier token for a spec name (already escaped or not).
pub fn ident(name: &str) -> Ident {
    let escaped = if name.starts_with("r#") {
        name.to_string()
    } else {
        rust_ident_str(name)
    };
    match escaped.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(&escaped, Span::call_site()),
    }
}

/// `ssl_client_hello` -> `SslClientHello`; already-CamelCase names are kept.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if NOT_RAW.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// The enum variant of an event: `ssl_client_hello` -> `SslClientHello`; a Zeek module prefix
/// joins in CamelCase, `QUIC::initial_packet` -> `QuicInitialPacket`.
pub fn event_variant(name: &str) -> String {
    match name.split_once("::") {
        Some((module, event)) => format!("{}{}", camel(&module.to_lowercase()), camel(event)),
        None => camel(name),
    }
}

/// `ECPointFormatList` -> `ec_point_format_list`, `ASN1Cert` -> `asn1_cert`, `dh_Ys` -> `dh_ys`:
/// a word break before an upper-case letter that follows a lower-case letter or digit, or that
/// starts a word after an acronym; everything lower-cased. (`SSLv2Record` -> `sslv2_record`.)
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            // A new word after an acronym starts with two lower-case letters (`ECPoint`), which
            // keeps `SSLv2` one word.
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                && chars.get(i + 2).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_keywords() {
        assert_eq!(rust_ident_str("type"), "r#type");
        assert_eq!(rust_ident_str("self"), "self_");
        assert_eq!(ident("match").to_string(), "r#match");
        assert_eq!(camel("ssl_client_hello"), "SslClientHello");
        assert_eq!(camel("ServerName"), "ServerName");
        assert_eq!(event_variant("ssl_client_hello"), "SslClientHello");
        assert_eq!(event_variant("QUIC::initial_packet"), "QuicInitialPacket");
        assert_eq!(snake("ECPointFormatList"), "ec_point_format_list");
        assert_eq!(snake("ASN1Cert"), "asn1_cert");
        assert_eq!(snake("SSLv2ClientHello"), "sslv2_client_hello");
        assert_eq!(snake("KeyShareEntry"), "key_share_entry");
        assert_eq!(snake("dh_Ys"), "dh_ys");
        assert_eq!(snake("OCSPResponse"), "ocsp_response");
    }
}
