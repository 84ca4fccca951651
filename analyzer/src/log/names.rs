//! The names ssl.log prints for numeric codes, as Zeek's `base/protocols/ssl/consts.zeek` maps them.
//!
//! In: a numeric version, curve (named group) or alert description. Out: its ssl.log text; codes
//! Zeek does not know print as `unknown-N`. Every name comes from the spec's generated enums
//! (`ProtocolVersion`, `NamedGroup`, `AlertDescription`, `CipherSuite`, `SSLv2CipherSpec`),
//! whose labels carry Zeek's spelling; only Zeek's rule for unnamed TLS 1.3 drafts is here.

use tls_grammar::{AlertDescription, CipherSuite, NamedGroup, ProtocolVersion, SSLv2CipherSpec};

/// Lookup functions for the names ssl.log prints. The defaults are the spec's generated enums'
/// `name()`; tests plug in their own.
#[derive(Debug, Clone, Copy)]
pub struct NameTables {
    /// Cipher suite name (TLS 16-bit codes and SSLv2 24-bit codes), `None` when unknown.
    pub cipher: fn(u64) -> Option<&'static str>,
    /// Named group / curve name.
    pub curve: fn(u64) -> Option<&'static str>,
    /// Alert description name.
    pub alert: fn(u64) -> Option<&'static str>,
}

impl Default for NameTables {
    fn default() -> Self {
        NameTables {
            cipher: cipher_name,
            curve: curve_name,
            alert: alert_name,
        }
    }
}

/// Renders a looked-up name, or Zeek's `unknown-N` default.
pub fn name_or_unknown(name: Option<&str>, code: u64) -> String {
    match name {
        Some(n) => n.to_owned(),
        None => format!("unknown-{code}"),
    }
}

/// First code of the range Zeek treats as TLS 1.3 drafts (`code / 0xFF == 0x7F`).
const DRAFT_DIVISOR: u64 = 0xFF;
/// Quotient marking a TLS 1.3 draft version.
const DRAFT_QUOTIENT: u64 = 0x7F;

/// True when Zeek's version table would call `v` a TLS 1.3 draft (0x7E81..=0x7F7F).
pub fn is_tls13_draft(v: u64) -> bool {
    v / DRAFT_DIVISOR == DRAFT_QUOTIENT
}

/// ssl.log `version` text: `TLSv12`, `DTLSv10`, `TLSv13-draft18`, `unknown-N`.
/// The spec's `ProtocolVersion` names the versions (and the drafts it knows); any other code in
/// Zeek's draft range is named by Zeek's formula.
pub fn version_name(v: u64) -> String {
    match u16::try_from(v)
        .ok()
        .and_then(|v| ProtocolVersion(v).name())
    {
        Some(known) => known.to_owned(),
        None if is_tls13_draft(v) => format!("TLSv13-draft{}", v % DRAFT_QUOTIENT),
        None => format!("unknown-{v}"),
    }
}

/// Zeek's curve (named group) names: the spec's `NamedGroup` names (GREASE values included).
pub fn curve_name(c: u64) -> Option<&'static str> {
    u16::try_from(c).ok().and_then(|c| NamedGroup(c).name())
}

/// Zeek's alert description names: the spec's `AlertDescription` names.
pub fn alert_name(d: u64) -> Option<&'static str> {
    u8::try_from(d)
        .ok()
        .and_then(|d| AlertDescription(d).name())
}

/// Zeek's cipher name for a code of either width: the spec's `CipherSuite` (TLS, 16 bits) and
/// `SSLv2CipherSpec` (SSLv2 cipher kinds, 24 bits).
pub fn cipher_name(code: u64) -> Option<&'static str> {
    if let Ok(suite) = u16::try_from(code) {
        CipherSuite(suite).name()
    } else {
        u32::try_from(code)
            .ok()
            .and_then(|kind| SSLv2CipherSpec(kind).name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names() {
        assert_eq!(version_name(0x0303), "TLSv12");
        assert_eq!(version_name(0xFEFD), "DTLSv12");
        assert_eq!(version_name(0x7F12), "TLSv13-draft18");
        assert_eq!(version_name(0x7F17), "TLSv13-draft23");
        assert_eq!(version_name(0x1234), "unknown-4660");
        assert!(!is_tls13_draft(0x0304));
    }

    #[test]
    fn curve_and_alert_names() {
        assert_eq!(curve_name(23), Some("secp256r1"));
        assert_eq!(curve_name(0x11EC), Some("X25519MLKEM768"));
        assert_eq!(curve_name(0x2A2A), Some("grease_0x2A2A"));
        assert_eq!(name_or_unknown(curve_name(9999), 9999), "unknown-9999");
        assert_eq!(alert_name(40), Some("handshake_failure"));
    }
}
