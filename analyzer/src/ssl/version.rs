//! Protocol version numbers and the version predicates Zeek's SSL analyzer applies.
//!
//! In: 16-bit version fields from record headers and hellos. Out: named constants and the
//! yes/no answers Zeek's checks give (`version_ok`, the record-layer set, "is this TLS 1.3").

/// `UNKNOWN_VERSION`: nothing negotiated yet.
pub const UNKNOWN_VERSION: u16 = 0x0000;
/// SSL 2.0 (also the `record_version` of SSLv2 records is reported as 0, see `record`).
pub const SSLV20: u16 = 0x0002;
/// SSL 3.0.
pub const SSLV30: u16 = 0x0300;
/// TLS 1.0 (RFC 2246).
pub const TLSV10: u16 = 0x0301;
/// TLS 1.1 (RFC 4346).
pub const TLSV11: u16 = 0x0302;
/// TLS 1.2 (RFC 5246).
pub const TLSV12: u16 = 0x0303;
/// TLS 1.3 (RFC 8446).
pub const TLSV13: u16 = 0x0304;
/// DTLS 1.0 (RFC 4347).
pub const DTLSV10: u16 = 0xFEFF;
/// DTLS 1.2 (RFC 6347).
pub const DTLSV12: u16 = 0xFEFD;
/// DTLS 1.3 (RFC 9147).
pub const DTLSV13: u16 = 0xFEFC;

/// The record-layer versions a TLS record header may carry once the connection is known to be
/// TLS (Zeek's `determine_ssl_record_layer`): SSL 3.0 up to TLS 1.2. TLS 1.3 records keep
/// announcing 0x0303 (RFC 8446 §5.1), so 0x0304 on the record layer is not accepted either.
pub fn is_tls_record_version(version: u16) -> bool {
    matches!(version, SSLV30 | TLSV10 | TLSV11 | TLSV12)
}

/// Zeek's `version_ok` for hello versions: a bad one is the violation
/// `unsupported client SSL version 0x%04x` (or `server`). TLS 1.3 and its drafts are accepted
/// because servers of those versions put them into `supported_versions` / draft hellos.
pub fn version_ok(version: u16) -> bool {
    matches!(
        version,
        SSLV20 | SSLV30 | TLSV10 | TLSV11 | TLSV12 | TLSV13 | DTLSV10 | DTLSV12 | DTLSV13
    ) || is_tls13_draft(version)
}

/// TLS 1.3 draft code points 0x7F00..=0x7FFF.
pub fn is_tls13_draft(version: u16) -> bool {
    version >> 8 == 0x7F
}

/// Zeek's `determine_tls13`: conservative, only TLS 1.3 proper or a draft number.
pub fn is_tls13(negotiated: u16) -> bool {
    negotiated == TLSV13 || is_tls13_draft(negotiated)
}

/// Zeek's test in `determine_state`: anything that is not a known pre-1.3 version (including
/// "nothing negotiated yet", DTLS, and odd numbers) is treated as TLS 1.3-like, so its first
/// application-data record starts encryption for that direction.
pub fn is_pre_tls13(negotiated: u16) -> bool {
    matches!(negotiated, SSLV20 | SSLV30 | TLSV10 | TLSV11 | TLSV12)
}

/// Zeek's `orig_label`, used in violation texts.
pub fn orig_label(is_orig: bool) -> &'static str {
    if is_orig {
        "originator"
    } else {
        "responder"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates_follow_zeek() {
        assert!(is_tls_record_version(TLSV10));
        assert!(!is_tls_record_version(TLSV13));
        assert!(!is_tls_record_version(SSLV20));
        assert!(version_ok(0x7F12));
        assert!(!version_ok(0x0305));
        assert!(is_tls13(0x7F17));
        assert!(!is_tls13(DTLSV13));
        assert!(!is_pre_tls13(UNKNOWN_VERSION));
        assert!(!is_pre_tls13(DTLSV12));
        assert!(is_pre_tls13(TLSV12));
    }
}
