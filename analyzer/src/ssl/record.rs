//! Record-layer framing for SSL/TLS over TCP: the 5 header bytes Zeek reads first, the version it
//! latches, and how long the record is.
//!
//! In: the first [`HEADER_LEN`] bytes of a record, the record-layer version latched so far and the
//! direction. Out: a [`Header`] (content type, raw version, reported length, total size) plus the
//! new latched version, or the violation text Zeek reports when the bytes cannot be a record
//! (after which Zeek stops parsing the connection, `SetSkip(true)`).
//!
//! Zeek's rules (`determine_ssl_record_layer` in `ssl-protocol.pac`), reproduced exactly:
//! * Once a TLS version is latched, every header's bytes 1–2 must again be SSL 3.0 … TLS 1.2, else
//!   `Invalid version late in TLS connection. Packet reported version: N`. The latched version,
//!   not the header's, decides how the record is read; content types are not re-checked.
//! * The first record decides: with bit 0x80 of byte 0 set it is SSLv2 (2-byte header): a client
//!   hello (`head2 == 1`, from the originator, version bytes 3–4 valid) is accepted *without*
//!   latching; a server hello (`head2 == 4`, `head4 < 2`, from the responder) latches SSLv2 for
//!   the rest of the connection; anything else is `Invalid headers in SSL connection. Head1: …`.
//! * Otherwise bytes 1–2 must be SSL 3.0 … TLS 1.2 (`Invalid version in TLS connection. Version:
//!   N`) and byte 0 a content type in 20..=30 (`Invalid type in TLS connection. Version: N, Type:
//!   T`); then that version is latched.
//! * SSLv2 records: `length = ((head0 & 0x7f) << 8 | head1) - 3` (the message after its type byte
//!   and two more header bytes), content type `head2 + 300`, record version 0. The 3-byte SSLv2
//!   header (padding) is not recognised, as in Zeek.
//!
//! The header is read here, not with the spec's `TlsRecord`: the framer has to decide from the
//! first five bytes, before the record is complete (it may span many segments), whether the
//! record is SSLv2 (a 2-byte header with the length in 15 bits) or TLS, and how long it is;
//! `TlsRecord` parses a complete TLS record. Zeek's violation texts also need the raw bytes
//! (`Head1: …`). The record's contents are then parsed with the spec's types.

use tls_grammar::{ContentType, ProtocolVersion, SSLv2MessageType};

use super::version::{is_tls_record_version, UNKNOWN_VERSION};

/// SSL 2.0, latched once an SSLv2 server hello was seen (Zeek's `SSLv20`).
const SSLV2: u16 = ProtocolVersion::SSLv2.0;

/// The highest first byte Zeek takes for a TLS record's content type (`head0 <= 30` in
/// `determine_ssl_record_layer`): a plausibility bound of Zeek's, not a content type.
const ZEEK_MAX_RECORD_CONTENT_TYPE: u8 = 30;

/// Bytes Zeek reads before it can say anything about a record (`head0` … `head4`).
pub const HEADER_LEN: usize = 5;

/// Bytes of the SSLv2 record header proper (a 15-bit length); the message follows.
pub const V2_HEADER_LEN: usize = 2;

/// Largest possible record on the wire: 5 header bytes plus a 16-bit length. SSLv2 records (15-bit
/// length plus a 2-byte header) are smaller. This is the cap of the per-direction record buffer.
pub const MAX_RECORD_LENGTH: usize = HEADER_LEN + 0xFFFF;

/// Offset added to an SSLv2 message type to give Zeek's `content_type` (`V2_ERROR = 300`, …).
pub const V2_CONTENT_TYPE_BASE: u16 = 300;

/// One classified record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// True for an SSLv2 record (2-byte header; body read from offset 5).
    pub v2: bool,
    /// Zeek's `content_type`: byte 0 for TLS, `head2 + 300` for SSLv2.
    pub content_type: u16,
    /// Zeek's `raw_tls_version`: bytes 1–2 for TLS, 0 for SSLv2.
    pub raw_version: u16,
    /// Zeek's `length`: the bytes after the 5 header bytes (what the events report).
    pub length: usize,
    /// Total bytes of the record on the wire, header included.
    pub total: usize,
}

/// What the header says: a record (and the version latched from now on), or a violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A record to read; the second value is the latched record-layer version afterwards.
    Record(Header, u16),
    /// Zeek's violation text; the analyzer stops parsing (`SetSkip(true)`).
    Violation(String),
}

/// Classifies the 5 header bytes of the next record; see the module docs for the rules.
pub fn classify(head: [u8; HEADER_LEN], latched: u16, is_orig: bool) -> Verdict {
    let [head0, head1, head2, head3, head4] = head;
    let tls_version = u16::from_be_bytes([head1, head2]);

    if latched != UNKNOWN_VERSION && latched != SSLV2 && !is_tls_record_version(tls_version) {
        return Verdict::Violation(format!(
            "Invalid version late in TLS connection. Packet reported version: {tls_version}"
        ));
    }

    if latched == SSLV2 {
        return v2_record(head, latched);
    }
    if latched != UNKNOWN_VERSION {
        return Verdict::Record(tls_record(head), latched);
    }

    if head0 & 0x80 != 0 {
        if head2 == SSLv2MessageType::client_hello.0 && is_orig {
            let version = u16::from_be_bytes([head3, head4]);
            if version != SSLV2 && !is_tls_record_version(version) {
                return Verdict::Violation(format!(
                    "Invalid version in SSL client hello. Version: {version}"
                ));
            }
            // A v2 client hello does not latch: the server may answer in TLS.
            return v2_record(head, UNKNOWN_VERSION);
        }
        if head2 == SSLv2MessageType::server_hello.0 && head4 < 2 && !is_orig {
            return v2_record(head, SSLV2);
        }
        return Verdict::Violation(format!(
            "Invalid headers in SSL connection. Head1: {head1}, head2: {head2}, head3: {head3}"
        ));
    }

    if !is_tls_record_version(tls_version) {
        return Verdict::Violation(format!(
            "Invalid version in TLS connection. Version: {tls_version}"
        ));
    }
    if (ContentType::change_cipher_spec.0..=ZEEK_MAX_RECORD_CONTENT_TYPE).contains(&head0) {
        return Verdict::Record(tls_record(head), tls_version);
    }
    Verdict::Violation(format!(
        "Invalid type in TLS connection. Version: {tls_version}, Type: {head0}"
    ))
}

fn tls_record(head: [u8; HEADER_LEN]) -> Header {
    let length = usize::from(u16::from_be_bytes([head[3], head[4]]));
    Header {
        v2: false,
        content_type: u16::from(head[0]),
        raw_version: u16::from_be_bytes([head[1], head[2]]),
        length,
        total: HEADER_LEN + length,
    }
}

fn v2_record(head: [u8; HEADER_LEN], latch: u16) -> Verdict {
    let v2_len = usize::from(u16::from_be_bytes([head[0] & 0x7f, head[1]]));
    // The 2-byte header is followed by `v2_len` bytes; Zeek reads three of them as header bytes.
    // A message shorter than that cannot hold the bytes Zeek insists on reading; binpac throws.
    let Some(length) = v2_len.checked_sub(HEADER_LEN - V2_HEADER_LEN) else {
        return Verdict::Violation(format!(
            "Binpac exception: binpac exception: out_of_bound: SSLRecord: {HEADER_LEN} > {}",
            v2_len + V2_HEADER_LEN
        ));
    };
    Verdict::Record(
        Header {
            v2: true,
            content_type: V2_CONTENT_TYPE_BASE + u16::from(head[2]),
            raw_version: 0,
            length,
            total: HEADER_LEN + length,
        },
        latch,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    const TLSV10: u16 = ProtocolVersion::TLSv10.0;
    const TLSV12: u16 = ProtocolVersion::TLSv12.0;

    #[test]
    fn first_tls_record_latches_its_version() {
        let v = classify([22, 3, 1, 0, 10], UNKNOWN_VERSION, true);
        let Verdict::Record(h, latched) = v else {
            panic!("expected a record, got {v:?}")
        };
        assert_eq!(latched, TLSV10);
        assert_eq!(
            (h.content_type, h.raw_version, h.length, h.total),
            (22, TLSV10, 10, 15)
        );
    }

    #[test]
    fn late_bad_version_is_zeeks_violation() {
        let v = classify([0xff, 0xff, 0xff, 0, 1], TLSV12, false);
        assert_eq!(
            v,
            Verdict::Violation(
                "Invalid version late in TLS connection. Packet reported version: 65535".into()
            )
        );
        // Plain HTTP after a ClientHello: "HTTP" -> 0x5454 = 21588.
        let v = classify(*b"HTTP/", TLSV12, false);
        assert_eq!(
            v,
            Verdict::Violation(
                "Invalid version late in TLS connection. Packet reported version: 21588".into()
            )
        );
    }

    #[test]
    fn first_record_checks() {
        assert_eq!(
            classify([22, 3, 5, 0, 1], UNKNOWN_VERSION, true),
            Verdict::Violation("Invalid version in TLS connection. Version: 773".into())
        );
        assert_eq!(
            classify([40, 3, 3, 0, 1], UNKNOWN_VERSION, true),
            Verdict::Violation("Invalid type in TLS connection. Version: 771, Type: 40".into())
        );
        assert_eq!(
            classify([0x80, 10, 7, 0, 2], UNKNOWN_VERSION, true),
            Verdict::Violation(
                "Invalid headers in SSL connection. Head1: 10, head2: 7, head3: 0".into()
            )
        );
    }

    #[test]
    fn sslv2_client_hello_does_not_latch_but_server_hello_does() {
        let v = classify([0x80, 0x2e, 1, 0, 2], UNKNOWN_VERSION, true);
        let Verdict::Record(h, latched) = v else {
            panic!("expected a record, got {v:?}")
        };
        assert_eq!(latched, UNKNOWN_VERSION);
        assert_eq!(
            (h.v2, h.content_type, h.raw_version, h.length, h.total),
            (true, 301, 0, 43, 48)
        );

        let v = classify([0x83, 0xb4, 4, 0, 1], UNKNOWN_VERSION, false);
        let Verdict::Record(h, latched) = v else {
            panic!("expected a record, got {v:?}")
        };
        assert_eq!(latched, SSLV2);
        assert_eq!((h.content_type, h.length), (304, 945));

        // Once SSLv2 is latched every record is read as SSLv2, without further checks.
        let v = classify([0x81, 0x12, 2, 0, 0], SSLV2, true);
        assert!(matches!(
            v,
            Verdict::Record(
                Header {
                    content_type: 302,
                    ..
                },
                SSLV2
            )
        ));
    }

    #[test]
    fn sslv2_record_too_short_is_a_violation_not_a_panic() {
        let v = classify([0x80, 0x01, 1, 3, 1], UNKNOWN_VERSION, true);
        assert!(matches!(v, Verdict::Violation(_)));
    }
}
