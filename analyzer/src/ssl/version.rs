//! Protocol version numbers and the version predicates Zeek's SSL analyzer applies.
//!
//! In: 16-bit version fields from record headers and hellos. Out: named constants and the
//! yes/no answers Zeek's checks give (`version_ok`, the record-layer set, "is this TLS 1.3").
//! The version numbers themselves are the spec's `ProtocolVersion` constants.

use tls_grammar::ProtocolVersion as V;

/// Zeek's `UNKNOWN_VERSION`: nothing negotiated (or latched) yet. Not a wire value (the spec's
/// `ProtocolVersion` has no such code point): the analyzer's "none" in its 16-bit version
/// fields.
pub const UNKNOWN_VERSION: u16 = 0x0000;

/// The record-layer versions a TLS record header may carry once the connection is known to be
/// TLS (Zeek's `determine_ssl_record_layer`): SSL 3.0 up to TLS 1.2. TLS 1.3 records keep
/// announcing 0x0303 (RFC 8446 §5.1), so 0x0304 on the record layer is not accepted either.
pub fn is_tls_record_version(version: u16) -> bool {
    matches!(V(version), V::SSLv3 | V::TLSv10 | V::TLSv11 | V::TLSv12)
}

/// Zeek's `version_ok` for hello versions: a bad one is the violation
/// `unsupported client SSL version 0x%04x` (or `server`). TLS 1.3 and its drafts are accepted
/// because servers of those versions put them into `supported_versions` / draft hellos.
pub fn version_ok(version: u16) -> bool {
    matches!(
        V(version),
        V::SSLv2
            | V::SSLv3
            | V::TLSv10
            | V::TLSv11
            | V::TLSv12
            | V::TLSv13
            | V::DTLSv10
            | V::DTLSv12
            | V::DTLSv13
    ) || is_tls13_draft(version)
}

/// TLS 1.3 draft code points 0x7F00..=0x7FFF (Zeek's test: the high byte; the spec names the
/// drafts it knows, `TLSv13_draft01` on, all of that form).
pub fn is_tls13_draft(version: u16) -> bool {
    version >> 8 == V::TLSv13_draft01.0 >> 8
}

/// Zeek's `determine_tls13`: conservative, only TLS 1.3 proper or a draft number.
pub fn is_tls13(negotiated: u16) -> bool {
    V(negotiated) == V::TLSv13 || is_tls13_draft(negotiated)
}

/// Zeek's test in `determine_state`: anything that is not a known pre-1.3 version (including
/// "nothing negotiated yet", DTLS, and odd numbers) is treated as TLS 1.3-like, so its first
/// application-data record starts encryption for that direction.
pub fn is_pre_tls13(negotiated: u16) -> bool {
    matches!(
        V(negotiated),
        V::SSLv2 | V::SSLv3 | V::TLSv10 | V::TLSv11 | V::TLSv12
    )
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
        assert!(is_tls_record_version(V::TLSv10.0));
        assert!(!is_tls_record_version(V::TLSv13.0));
        assert!(!is_tls_record_version(V::SSLv2.0));
        assert!(version_ok(0x7F12));
        assert!(!version_ok(0x0305));
        assert!(is_tls13(0x7F17));
        assert!(!is_tls13(V::DTLSv13.0));
        assert!(!is_pre_tls13(UNKNOWN_VERSION));
        assert!(!is_pre_tls13(V::DTLSv12.0));
        assert!(is_pre_tls13(V::TLSv12.0));
    }
}
