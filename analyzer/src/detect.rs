//! Protocol detection by content: does a flow carry SSL/TLS/DTLS, and where does it start?
//!
//! In: the first bytes of a TCP direction (at a delivery boundary) or one UDP datagram. Out: a
//! [`Detected`] verdict. Zeek attaches its SSL analyzer either by well-known port or by its DPD
//! signatures (`dpd_ssl_client`: a TLS or SSLv2 ClientHello from the originator). We detect by
//! content only, on every port: a flow is SSL when a side opens with something only an SSL/TLS
//! speaker sends — a handshake record carrying a ClientHello or ServerHello, an SSLv2
//! CLIENT-HELLO, or a DTLS handshake record. A plain-HTTP connection on 443 therefore is not TLS.
//!
//! STARTTLS (SMTP, IMAP, POP3, FTP, XMPP, IRC, MySQL, RDP …) switches to TLS in the middle of a
//! stream. The flow layer keeps looking at the start of each delivery for a ClientHello, up to
//! [`MAX_STARTTLS_SCAN_BYTES`] of a connection, and attaches the analyzer at that point.
//!
//! GridFTP's GSI authentication does not switch: it tunnels the TLS handshake, base64-encoded,
//! through FTP `ADAT` commands and replies (Zeek's FTP analyzer hands it to the SSL analyzer). Its
//! first `ADAT` command is recognised as [`Detected::FtpAdat`]; [`crate::ftp_adat`] unwraps it.

/// How many bytes of a connection (both directions together) are searched for a late
/// ClientHello (STARTTLS upgrades) before the connection is given up as not SSL.
pub const MAX_STARTTLS_SCAN_BYTES: u64 = 64 * 1024;

/// The verdict on the first bytes of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// A TLS record carrying a ClientHello, or an SSLv2-format CLIENT-HELLO.
    ClientHello,
    /// A TLS record carrying a ServerHello (the responder spoke first, or we missed the hello).
    ServerHello,
    /// An FTP `ADAT` command whose token is a TLS handshake record: a GSI security exchange
    /// (GridFTP) whose TLS travels inside the FTP control connection, see [`crate::ftp_adat`].
    FtpAdat,
    /// A QUIC flow: a long-header Initial of QUIC v1 or v2 (Zeek's `dpd_quic_initial` and
    /// `dpd_quic_v2_initial` signatures), or any datagram to Zeek's QUIC port (443/udp).
    Quic,
    /// Not recognisably SSL.
    No,
}

use tls_grammar::{ContentType, HandshakeType, ProtocolVersion, SSLv2MessageType};

/// Zeek's `QUIC::quic_ports`: its QUIC analyzer is attached to every flow to this UDP port.
pub const QUIC_PORT: u16 = 443;

/// QUIC version 1 (RFC 9000 §15).
const QUIC_V1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369 §3.1).
const QUIC_V2: u32 = 0x6b33_43cf;
/// The IETF drafts' versions are `0xff0000NN` (RFC 9000 §15).
const QUIC_DRAFT_MASK: u32 = 0xffff_ff00;
/// See [`QUIC_DRAFT_MASK`].
const QUIC_DRAFT_PREFIX: u32 = 0xff00_0000;
/// Bits 0x80 (long header) and 0x40 (fixed bit) of a QUIC long-header packet's first byte.
const QUIC_LONG_HEADER_BITS: u8 = 0xc0;

/// Looks at the start of a TCP delivery.
///
/// Mirrors Zeek's `dpd_ssl_client`/`dpd_ssl_server` signatures: record major version 3 with a
/// minor of 0..=4, a handshake record whose first message is a hello whose own version is 3.x
/// (the server side may be preceded by an alert record, as in Zeek's signature), or an SSLv2
/// CLIENT-HELLO offering version 2 or 3.x.
pub fn tcp(data: &[u8]) -> Detected {
    if is_tls_hello(data, HandshakeType::client_hello) || is_sslv2_client_hello(data) {
        return Detected::ClientHello;
    }
    if is_tls_hello(data, HandshakeType::server_hello) {
        return Detected::ServerHello;
    }
    if crate::ftp_adat::starts_gsi_exchange(data) {
        return Detected::FtpAdat;
    }
    // Zeek's server signature allows one alert record before the ServerHello.
    if data.first() == Some(&ContentType::alert.0) && is_record_version(data.get(1..3)) {
        if let Some(rest) = data.get(7..) {
            if is_tls_hello(rest, HandshakeType::server_hello) {
                return Detected::ServerHello;
            }
        }
    }
    Detected::No
}

/// Looks at one UDP datagram: a DTLS handshake record (versions 1.0, 1.2, and the 1.2
/// version number that DTLS 1.3 hellos carry), possibly after STUN packets on the same flow.
pub fn udp(data: &[u8]) -> Detected {
    let (Some(&content), Some(&major), Some(&minor)) = (data.first(), data.get(1), data.get(2))
    else {
        return Detected::No;
    };
    let version = ProtocolVersion(u16::from_be_bytes([major, minor]));
    let dtls = matches!(
        version,
        ProtocolVersion::DTLSv10 | ProtocolVersion::DTLSv12 | ProtocolVersion::DTLSv13
    );
    if ContentType(content) != ContentType::handshake || !dtls {
        return Detected::No;
    }
    // DTLS record header is 13 bytes; the handshake type follows.
    match data.get(13).map(|&t| HandshakeType(t)) {
        Some(HandshakeType::client_hello) => Detected::ClientHello,
        Some(HandshakeType::server_hello | HandshakeType::hello_verify_request) => {
            Detected::ServerHello
        }
        _ => Detected::No,
    }
}

/// Whether a UDP flow is QUIC, as Zeek decides: its responder port is [`QUIC_PORT`], or the
/// datagram matches Zeek's DPD signatures, a QUIC v1 Initial (`^[\xC0-\xCF]\x00\x00\x00\x01`)
/// or a QUIC v2 Initial (`^[\xD0-\xDF]\x6b\x33\x43\xcf`).
pub fn udp_quic(data: &[u8], resp_port: u16) -> bool {
    if resp_port == QUIC_PORT {
        return true;
    }
    let (Some(&first), Some(&[a, b, c, d])) = (data.first(), data.get(1..5)) else {
        return false;
    };
    match u32::from_be_bytes([a, b, c, d]) {
        QUIC_V1 => first & 0xf0 == 0xc0,
        QUIC_V2 => first & 0xf0 == 0xd0,
        _ => false,
    }
}

/// Whether a UDP datagram looks like a QUIC long-header packet (RFC 9000 §17.2: long-header
/// and fixed bits set, then version 1, 2 or a draft), as the first datagrams of a QUIC
/// connection (Initial, Handshake, 0-RTT) are. Used only to describe what was not analysed.
pub fn looks_like_quic(data: &[u8]) -> bool {
    let (Some(&first), Some(&[a, b, c, d])) = (data.first(), data.get(1..5)) else {
        return false;
    };
    let version = u32::from_be_bytes([a, b, c, d]);
    first & QUIC_LONG_HEADER_BITS == QUIC_LONG_HEADER_BITS
        && (version == QUIC_V1
            || version == QUIC_V2
            || version & QUIC_DRAFT_MASK == QUIC_DRAFT_PREFIX)
}

/// SSL 3.0 up to TLS 1.3 (Zeek's signatures: major 3, minor 0 to 4).
fn is_record_version(v: Option<&[u8]>) -> bool {
    let range = ProtocolVersion::SSLv3.0..=ProtocolVersion::TLSv13.0;
    matches!(v, Some(&[major, minor]) if range.contains(&u16::from_be_bytes([major, minor])))
}

fn is_tls_hello(data: &[u8], hs_type: HandshakeType) -> bool {
    data.first() == Some(&ContentType::handshake.0)
        && is_record_version(data.get(1..3))
        && data.get(5) == Some(&hs_type.0)
        // The hello's own version follows the 4-byte handshake header.
        && is_record_version(data.get(9..11))
}

fn is_sslv2_client_hello(data: &[u8]) -> bool {
    // Two-byte header with the high bit set, then msg type 1 and version 0x0002 or 0x03xx.
    let (Some(&h0), Some(&msg), Some(&major), Some(&minor)) =
        (data.first(), data.get(2), data.get(3), data.get(4))
    else {
        return false;
    };
    h0 & 0x80 != 0
        && msg == SSLv2MessageType::client_hello.0
        && (ProtocolVersion(u16::from_be_bytes([major, minor])) == ProtocolVersion::SSLv2
            || is_record_version(Some(&[major, minor])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_client_and_server_hello() {
        let ch = [22, 3, 1, 0, 50, 1, 0, 0, 46, 3, 3];
        assert_eq!(tcp(&ch), Detected::ClientHello);
        let sh = [22, 3, 3, 0, 50, 2, 0, 0, 46, 3, 3];
        assert_eq!(tcp(&sh), Detected::ServerHello);
        let alert_then_sh = [21, 3, 3, 0, 2, 1, 0, 22, 3, 3, 0, 50, 2, 0, 0, 46, 3, 3];
        assert_eq!(tcp(&alert_then_sh), Detected::ServerHello);
    }

    #[test]
    fn sslv2_client_hello() {
        let v2 = [0x80, 0x2e, 1, 3, 1, 0, 0x15];
        assert_eq!(tcp(&v2), Detected::ClientHello);
    }

    #[test]
    fn http_and_short_input_are_not_tls() {
        assert_eq!(tcp(b"GET / HTTP/1.1\r\n"), Detected::No);
        assert_eq!(tcp(b"HTTP/1.1 200 OK\r\n"), Detected::No);
        assert_eq!(tcp(&[22, 3]), Detected::No);
        assert_eq!(tcp(&[]), Detected::No);
        // A handshake record whose message is not a hello.
        assert_eq!(tcp(&[22, 3, 3, 0, 4, 11, 0, 0, 0, 3, 3]), Detected::No);
    }

    #[test]
    fn gsi_adat_command_with_a_tls_record() {
        // `ADAT ` + base64 of 16 03 01 00 06 01 00 00 02 03 03 (a handshake record, 6 bytes).
        assert_eq!(tcp(b"ADAT FgMBAAYBAAACAwM=\r\n"), Detected::FtpAdat);
        // The FTP exchange before it and other FTP commands are not.
        assert_eq!(tcp(b"AUTH GSSAPI\r\n"), Detected::No);
        assert_eq!(
            tcp(b"334 Using authentication type; ADAT must follow.\r\n"),
            Detected::No
        );
        assert_eq!(tcp(b"ADAT bm90IHRscw==\r\n"), Detected::No);
    }

    #[test]
    fn quic_by_port_or_zeeks_signatures() {
        // Any datagram to 443.
        assert!(udp_quic(b"anything", 443));
        // v1 Initial (long packet type 0) and v2 Initial (type 1) on another port.
        assert!(udp_quic(&[0xc3, 0, 0, 0, 1, 8], 4433));
        assert!(udp_quic(&[0xd1, 0x6b, 0x33, 0x43, 0xcf, 8], 4433));
        // A v1 Handshake packet, a v2 packet with v1's Initial bits, a draft: not signatures.
        assert!(!udp_quic(&[0xe3, 0, 0, 0, 1, 8], 4433));
        assert!(!udp_quic(&[0xc3, 0x6b, 0x33, 0x43, 0xcf, 8], 4433));
        assert!(!udp_quic(&[0xc0, 0xff, 0, 0, 29, 8], 4433));
        assert!(!udp_quic(&[0xc3, 0, 0], 4433));
    }

    #[test]
    fn quic_long_headers() {
        // An Initial of QUIC v1 and of v2, and a draft-29 one.
        assert!(looks_like_quic(&[0xc3, 0, 0, 0, 1, 8]));
        assert!(looks_like_quic(&[0xd1, 0x6b, 0x33, 0x43, 0xcf, 8]));
        assert!(looks_like_quic(&[0xc0, 0xff, 0, 0, 29, 8]));
        // A short header, an unknown version, DTLS, STUN, too short.
        assert!(!looks_like_quic(&[0x43, 0, 0, 0, 1, 8]));
        assert!(!looks_like_quic(&[0xc3, 0, 0, 0, 7, 8]));
        assert!(!looks_like_quic(&[22, 0xfe, 0xfd, 0, 0, 0]));
        assert!(!looks_like_quic(b"\x00\x01\x00\x00\x21\x12\xa4\x42"));
        assert!(!looks_like_quic(&[0xc3, 0, 0]));
    }

    #[test]
    fn dtls_hellos() {
        let mut ch = [0u8; 14];
        ch[..3].copy_from_slice(&[22, 0xfe, 0xfd]);
        ch[13] = 1;
        assert_eq!(udp(&ch), Detected::ClientHello);
        ch[13] = 3; // HelloVerifyRequest
        assert_eq!(udp(&ch), Detected::ServerHello);
        ch[2] = 0x01;
        assert_eq!(udp(&ch), Detected::No);
        assert_eq!(udp(b"\x00\x01\x00\x00\x21\x12\xa4\x42"), Detected::No);
    }
}
