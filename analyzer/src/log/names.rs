//! The names ssl.log prints for numeric codes, as Zeek's `base/protocols/ssl/consts.zeek` maps them.
//!
//! In: a numeric version, curve (named group) or alert description. Out: its ssl.log text; codes
//! Zeek does not know print as `unknown-N`. Cipher names come from the generated `CipherSuite`
//! enum through [`NameTables`], with the same `unknown-N` fallback.

/// Lookup functions for the names ssl.log prints. The defaults use the tables below; the
/// integrator plugs in the generated enums' `name()` for cipher suites.
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
            cipher: |_| None,
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
pub fn version_name(v: u64) -> String {
    let known = match v {
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv10",
        0x0302 => "TLSv11",
        0x0303 => "TLSv12",
        0x0304 => "TLSv13",
        0xFEFF => "DTLSv10",
        0xFEFD => "DTLSv12",
        0xFEFC => "DTLSv13",
        _ if is_tls13_draft(v) => return format!("TLSv13-draft{}", v % DRAFT_QUOTIENT),
        _ => return format!("unknown-{v}"),
    };
    known.to_owned()
}

/// Zeek's curve (named group) names.
pub fn curve_name(c: u64) -> Option<&'static str> {
    Some(match c {
        1 => "sect163k1",
        2 => "sect163r1",
        3 => "sect163r2",
        4 => "sect193r1",
        5 => "sect193r2",
        6 => "sect233k1",
        7 => "sect233r1",
        8 => "sect239k1",
        9 => "sect283k1",
        10 => "sect283r1",
        11 => "sect409k1",
        12 => "sect409r1",
        13 => "sect571k1",
        14 => "sect571r1",
        15 => "secp160k1",
        16 => "secp160r1",
        17 => "secp160r2",
        18 => "secp192k1",
        19 => "secp192r1",
        20 => "secp224k1",
        21 => "secp224r1",
        22 => "secp256k1",
        23 => "secp256r1",
        24 => "secp384r1",
        25 => "secp521r1",
        26 => "brainpoolP256r1",
        27 => "brainpoolP384r1",
        28 => "brainpoolP512r1",
        29 => "x25519",
        30 => "x448",
        31 => "brainpoolP256r1tls13",
        32 => "brainpoolP384r1tls13",
        33 => "brainpoolP512r1tls13",
        34 => "GC256A",
        35 => "GC256B",
        36 => "GC256C",
        37 => "GC256D",
        38 => "GC512A",
        39 => "GC512B",
        40 => "GC512C",
        41 => "curveSM2",
        256 => "ffdhe2048",
        257 => "ffdhe3072",
        258 => "ffdhe4096",
        259 => "ffdhe6144",
        260 => "ffdhe8192",
        512 => "MLKEM512",
        513 => "MLKEM768",
        514 => "MLKEM1024",
        4587 => "SecP256r1MLKEM768",
        4588 => "X25519MLKEM768",
        4589 => "SecP384r1MLKEM1024",
        4590 => "curveSM2MLKEM768",
        16696 => "CECPQ2",
        25497 => "X25519Kyber768Draft00",
        25498 => "SecP256r1Kyber768Draft00",
        0xFF01 => "arbitrary_explicit_prime_curves",
        0xFF02 => "arbitrary_explicit_char2_curves",
        _ => return grease_name(c),
    })
}

/// GREASE values (RFC 8701) as Zeek names them in its group and extension tables.
fn grease_name(c: u64) -> Option<&'static str> {
    Some(match c {
        0x0A0A => "grease_0x0A0A",
        0x1A1A => "grease_0x1A1A",
        0x2A2A => "grease_0x2A2A",
        0x3A3A => "grease_0x3A3A",
        0x4A4A => "grease_0x4A4A",
        0x5A5A => "grease_0x5A5A",
        0x6A6A => "grease_0x6A6A",
        0x7A7A => "grease_0x7A7A",
        0x8A8A => "grease_0x8A8A",
        0x9A9A => "grease_0x9A9A",
        0xAAAA => "grease_0xAAAA",
        0xBABA => "grease_0xBABA",
        0xCACA => "grease_0xCACA",
        0xDADA => "grease_0xDADA",
        0xEAEA => "grease_0xEAEA",
        0xFAFA => "grease_0xFAFA",
        _ => return None,
    })
}

/// Zeek's alert description names.
pub fn alert_name(d: u64) -> Option<&'static str> {
    Some(match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        117 => "general_error",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => return None,
    })
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
