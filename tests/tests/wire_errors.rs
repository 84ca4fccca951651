//! Wire tests of the generated parsers on input that is wrong or unexpected.
//!
//! In: small messages built here byte by byte. Out: assertions that unknown message and
//! extension types land in the `Unknown` arm with their raw bytes (and still raise the generic
//! events), and that malformed lengths fail with a `ParseError` naming the spec field (path and
//! kind), at the right offset, without a panic.

use pac_runtime::{ErrorKind, ParseError};
use tls_grammar::{
    ChangeCipherSpec, Context, DtlsHandshake, ECHClientHelloPayload, EncryptedClientHelloEch,
    Extension, ExtensionBody, Handshake, HandshakeMessageBody, HandshakeType, KeyExchangeClass,
    SSLv2MessageBody, SSLv2Record, ServerKeyExchangeExchange, SslEvent, TlsRecord,
};

/// A TLS 1.2 context for the client side.
const CLIENT: Context<'static> = Context {
    is_orig: true,
    is_client: true,
    record_version: 0x0303,
    version: 0x0303,
    emit_server_curve: false,
    quic_version: 0,
    quic_dcid: b"",
    quic_scid: b"",
    quic_short_header_threshold: 0,
};

/// A handshake message: type, 24-bit length, body.
fn hs(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).expect("small body").to_be_bytes();
    let mut v = vec![msg_type, len[1], len[2], len[3]];
    v.extend_from_slice(body);
    v
}

/// A ClientHello body with the given cipher-suite length field and bytes, and extension block
/// (`None`: an old hello without one).
fn client_hello(cipher_len: u16, ciphers: &[u8], extensions: Option<&[u8]>) -> Vec<u8> {
    let mut b = vec![0x03, 0x03];
    b.extend_from_slice(&[0x11; 32]);
    b.push(0); // no session id
    b.extend_from_slice(&cipher_len.to_be_bytes());
    b.extend_from_slice(ciphers);
    b.extend_from_slice(&[1, 0]); // one compression method: null
    if let Some(e) = extensions {
        b.extend_from_slice(&u16::try_from(e.len()).expect("small").to_be_bytes());
        b.extend_from_slice(e);
    }
    b
}

/// One extension: type, 16-bit length, body.
fn ext(code: u16, body: &[u8]) -> Vec<u8> {
    let mut v = code.to_be_bytes().to_vec();
    v.extend_from_slice(&u16::try_from(body.len()).expect("small").to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn parse_hs(bytes: &[u8]) -> Result<Handshake<'_>, ParseError> {
    let (m, rest) = Handshake::parse(bytes, false, false, true, KeyExchangeClass::ECDHE)?;
    assert!(rest.is_empty(), "{} bytes left", rest.len());
    Ok(m)
}

fn events_of(m: &Handshake<'_>) -> Vec<String> {
    let mut out = Vec::new();
    m.walk(&CLIENT, &mut |e: SslEvent<'_>| {
        out.push(e.name().to_string())
    });
    out
}

/// Asserts an error names `path` with `kind`.
fn assert_error<T: std::fmt::Debug>(r: Result<T, ParseError>, path: &str, kind: ErrorKind) {
    match r {
        Ok(v) => panic!("expected an error at {path}, parsed {v:?}"),
        Err(e) => {
            assert_eq!(e.path, path, "wrong field in {e:?}");
            assert_eq!(e.kind, kind, "wrong kind in {e:?}");
        }
    }
}

#[test]
fn unknown_handshake_type_lands_in_unknown_and_still_raises_handshake_message() {
    let bytes = hs(0x99, b"abc");
    let m = parse_hs(&bytes).expect("unknown types parse");
    assert_eq!(
        m.message.body,
        HandshakeMessageBody::Unknown {
            tag: HandshakeType(0x99),
            body: b"abc"
        }
    );
    let mut seen = Vec::new();
    m.walk(&CLIENT, &mut |e| {
        if let SslEvent::SslHandshakeMessage {
            msg_type, length, ..
        } = e
        {
            seen.push((msg_type, length));
        }
    });
    assert_eq!(seen, [(0x99, 3)]);
}

#[test]
fn unknown_extension_type_lands_in_unknown_and_raises_only_ssl_extension() {
    let bytes = ext(0x1234, b"xyz");
    let (x, rest) = Extension::parse(&bytes, HandshakeType::client_hello).expect("parses");
    assert!(rest.is_empty());
    assert_eq!(
        x.body,
        ExtensionBody::Unknown {
            tag: tls_grammar::ExtensionType(0x1234),
            body: b"xyz"
        }
    );
    let mut names = Vec::new();
    x.walk(&CLIENT, &mut |e| names.push(e.name()));
    assert_eq!(names, ["ssl_extension"]);
}

#[test]
fn unknown_extension_inside_a_client_hello_keeps_the_hello_events() {
    let exts = [ext(0x1234, b""), ext(0x002b, &[2, 0x03, 0x04])].concat();
    let bytes = hs(1, &client_hello(2, &[0x13, 0x01], Some(&exts)));
    let m = parse_hs(&bytes).expect("parses");
    assert_eq!(
        events_of(&m),
        [
            "ssl_extension",
            "ssl_extension_supported_versions",
            "ssl_extension",
            "ssl_client_hello",
            "ssl_handshake_message"
        ]
    );
}

#[test]
fn other_open_cases_have_unknown_arms() {
    // An ECH extension of an unassigned ECHClientHelloType.
    let bytes = ext(0xfe0d, &[7, 1, 2]);
    let (x, _) = Extension::parse(&bytes, HandshakeType::client_hello).expect("parses");
    let ExtensionBody::EncryptedClientHello(ech) = x.body else {
        panic!("ECH arm expected, got {:?}", x.body);
    };
    let EncryptedClientHelloEch::Client(client) = ech.ech else {
        panic!("client form expected, got {:?}", ech.ech);
    };
    assert!(matches!(
        client.payload,
        ECHClientHelloPayload::Unknown { body: [1, 2], .. }
    ));

    // A ServerKeyExchange for a key exchange the spec does not lay out.
    let bytes = hs(12, b"opaque");
    let (m, _) =
        Handshake::parse(&bytes, false, false, true, KeyExchangeClass::UNKNOWN).expect("parses");
    let HandshakeMessageBody::ServerKeyExchange(ske) = m.message.body else {
        panic!("ServerKeyExchange expected");
    };
    assert!(matches!(
        ske.exchange,
        ServerKeyExchangeExchange::Unknown {
            body: b"opaque",
            ..
        }
    ));

    // An SSLv2 message type without a layout (SERVER-VERIFY, 5).
    let bytes = [0x80, 3, 5, 0xaa, 0xbb];
    let (rec, _) = SSLv2Record::parse(&bytes).expect("parses");
    assert!(matches!(
        rec.message.body,
        SSLv2MessageBody::Unknown {
            body: [0xaa, 0xbb],
            ..
        }
    ));
}

#[test]
fn odd_length_lists_fail_naming_the_list() {
    // Three bytes of 2-byte cipher suites.
    let bytes = hs(1, &client_hello(3, &[0x13, 0x01, 0x13], None));
    assert_error(
        parse_hs(&bytes),
        "ClientHello.cipher_suites",
        ErrorKind::NotDivisible { len: 3, elem: 2 },
    );

    // supported_groups, signature_algorithms, supported_versions with an odd byte count.
    let cases: [(u16, &[u8], &str, usize); 3] = [
        (
            10,
            &[0, 3, 0, 0x1d, 0],
            "SupportedGroups.named_group_list",
            3,
        ),
        (
            13,
            &[0, 1, 4],
            "SignatureSchemeList.supported_signature_algorithms",
            1,
        ),
        (
            43,
            &[3, 3, 4, 3],
            "SupportedVersionsClientHello.versions",
            3,
        ),
    ];
    for (code, body, path, len) in cases {
        assert_error(
            Extension::parse(&ext(code, body), HandshakeType::client_hello),
            path,
            ErrorKind::NotDivisible { len, elem: 2 },
        );
    }

    // SSLv2 cipher kinds are 3 bytes each; 4 bytes do not divide.
    let mut msg = vec![1, 0, 2, 0, 4, 0, 0, 0, 16];
    msg.extend_from_slice(&[0x07, 0x00, 0xc0, 0x01]);
    msg.extend_from_slice(&[0x55; 16]);
    let mut bytes = vec![0x80, u8::try_from(msg.len()).expect("short")];
    bytes.extend_from_slice(&msg);
    assert_error(
        SSLv2Record::parse(&bytes),
        "SSLv2ClientHello.cipher_specs",
        ErrorKind::NotDivisible { len: 4, elem: 3 },
    );
}

#[test]
fn lengths_that_overrun_their_parent_fail_naming_the_field() {
    // An extension claiming 9 bytes where its block has 3 left.
    let exts = [0x12, 0x34, 0, 9, 1, 2, 3];
    let bytes = hs(1, &client_hello(2, &[0x13, 0x01], Some(&exts)));
    assert_error(
        parse_hs(&bytes),
        "Extension.body",
        ErrorKind::Incomplete { needed: 6 },
    );

    // A host name longer than its server_name list.
    let sni = [0, 5, 0, 0, 9, b'a', b'b'];
    assert_error(
        Extension::parse(&ext(0, &sni), HandshakeType::client_hello),
        "ServerName.host_name",
        ErrorKind::Incomplete { needed: 7 },
    );

    // A session id longer than the message.
    let mut body = client_hello(2, &[0x13, 0x01], None);
    body[34] = 200;
    let bytes = hs(1, &body);
    let e = parse_hs(&bytes).expect_err("overrun");
    assert_eq!(e.path, "ClientHello.session_id");
    assert!(matches!(e.kind, ErrorKind::Incomplete { .. }), "{e:?}");
    // The offset is where the session id starts, counted from the handshake header.
    assert_eq!(e.offset, 4 + 2 + 32 + 1);

    // A handshake length beyond the bytes given, a record length beyond the record.
    let mut bytes = hs(14, b"");
    bytes[3] = 4;
    assert_error(
        parse_hs(&bytes),
        "HandshakeMessage",
        ErrorKind::Incomplete { needed: 4 },
    );
    assert_error(
        TlsRecord::parse(&[22, 3, 3, 0, 10, 1, 2]),
        "TlsRecord.fragment",
        ErrorKind::Incomplete { needed: 8 },
    );

    // An extension block claiming more than the ClientHello holds.
    let mut body = client_hello(2, &[0x13, 0x01], Some(&[]));
    let n = body.len();
    body[n - 1] = 8;
    assert_error(
        parse_hs(&hs(1, &body)),
        "Extensions.extensions",
        ErrorKind::Incomplete { needed: 8 },
    );
}

#[test]
fn bytes_left_inside_a_bound_are_an_error() {
    // A server_name body with one byte after its list.
    let sni = [0, 0, 0xff];
    assert_error(
        Extension::parse(&ext(0, &sni), HandshakeType::client_hello),
        "Extension.body",
        ErrorKind::TrailingBytes { left: 1 },
    );
    // A ServerHelloDone (empty body) that is not empty.
    assert_error(
        parse_hs(&hs(14, b"x")),
        "HandshakeMessage",
        ErrorKind::TrailingBytes { left: 1 },
    );
}

#[test]
fn checks_fail_naming_the_field_and_the_constraint() {
    assert_error(
        ChangeCipherSpec::parse(&[2]),
        "ChangeCipherSpec.cs_type",
        ErrorKind::Check("cs_type == 1"),
    );
    // A DTLS fragment reaching past the end of its message (RFC 6347 §4.2.3).
    let frag = [1, 0, 0, 4, 0, 0, 0, 0, 2, 0, 0, 3, 9, 9, 9];
    let e = DtlsHandshake::parse(&frag).expect_err("out of bounds");
    assert_eq!(e.path, "DtlsHandshake.fragment_length");
    assert!(matches!(e.kind, ErrorKind::Check(_)), "{e:?}");
}

#[test]
fn server_curve_is_raised_only_in_compatibility_mode() {
    // ServerKeyExchange, named curve x25519, a 1-byte point, TLS 1.2 signature (sha256/ecdsa).
    let body = [3, 0, 0x1d, 1, 0xab, 4, 3, 0, 1, 0xcd];
    let bytes = hs(12, &body);
    let m = parse_hs(&bytes).expect("parses");
    let with = Context {
        emit_server_curve: true,
        ..CLIENT
    };
    for (ctx, expected) in [
        (
            CLIENT,
            &[
                "ssl_ecdh_server_params",
                "ssl_server_signature",
                "ssl_handshake_message",
            ][..],
        ),
        (
            with,
            &[
                "ssl_server_curve",
                "ssl_ecdh_server_params",
                "ssl_server_signature",
                "ssl_handshake_message",
            ][..],
        ),
    ] {
        let mut names = Vec::new();
        m.walk(&ctx, &mut |e| names.push(e.name()));
        assert_eq!(names, expected);
    }
}
