//! Generated parsers inside nom pipelines (`pac_runtime::nom`), on a real capture.
//!
//! The client and server TCP streams of `tests/captures/tls12-ecdhe.pcap` (read with the
//! analyzer's own capture front end) go through `many0` of TLS records, each handshake record's
//! fragment through `map_parser` into the handshake parser. The messages must equal what the
//! plain `parse` loop builds, and carry the values tshark shows for that capture (28 cipher
//! suites, SNI `server.example.test`). Then: the same with rusticata's record parser in front
//! (nom's default error type), a corrupted length field failing with our field path through
//! `cut` and `context`, and streaming (`Incomplete` with the exact missing byte count on every
//! truncation of the real records, `Error` for a length that overruns its bound).

use std::path::PathBuf;

use nom::combinator::{all_consuming, cut, map, map_parser, verify};
use nom::error::{context, Error as NomError, ErrorKind as NomKind};
use nom::multi::{many0, many1};
use nom::sequence::pair;
use nom::{Err, IResult, Needed, Offset};
use pac_runtime::nom::Nom;
use pac_runtime::{ErrorKind, ParseError};
use tls_grammar::*;

/// The handshake parameters of that connection (TLS 1.2, ECDHE, TLS 1.2 signature algorithms).
const PARAMS: (bool, bool, bool, KeyExchangeClass) = (false, false, true, KeyExchangeClass::ECDHE);

/// (client stream, server stream) of `tests/captures/tls12-ecdhe.pcap`.
fn streams() -> (Vec<u8>, Vec<u8>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/tls12-ecdhe.pcap");
    let (orig, resp) = pac_tests::support::capture_streams(&path);
    assert!(!orig.is_empty() && !resp.is_empty(), "no TCP payload");
    (orig, resp)
}

/// One plaintext handshake record's messages: the record must be a handshake record, its
/// fragment must hold whole messages and nothing else. Once the record header matched, a
/// malformed message is a `Failure` (`cut`), so that `many0` around it reports it instead of
/// stopping quietly.
fn handshake_record(i: &[u8]) -> IResult<&[u8], Vec<Handshake<'_>>, ParseError> {
    map_parser(
        map(
            verify(TlsRecord::nom_complete, |r: &TlsRecord<'_>| {
                r.content_type == ContentType::handshake
            }),
            |r| r.fragment,
        ),
        cut(context(
            "handshake messages",
            all_consuming(many1(Handshake::nom_complete_with(PARAMS))),
        )),
    )(i)
}

/// A direction's plaintext handshake: handshake records up to ChangeCipherSpec, then that
/// record, checked.
fn plaintext_handshake(i: &[u8]) -> IResult<&[u8], Vec<Handshake<'_>>, ParseError> {
    map(
        pair(
            context("handshake records", many0(handshake_record)),
            context(
                "change_cipher_spec",
                verify(TlsRecord::nom_complete, |r: &TlsRecord<'_>| {
                    r.content_type == ContentType::change_cipher_spec && r.fragment == [1]
                }),
            ),
        ),
        |(records, _ccs)| records.into_iter().flatten().collect(),
    )(i)
}

/// The same with the plain API: records with `TlsRecord::parse`, messages with
/// `Handshake::parse`, up to ChangeCipherSpec.
fn with_parse(mut rest: &[u8]) -> Vec<Handshake<'_>> {
    let mut out = Vec::new();
    loop {
        let (rec, r) = TlsRecord::parse(rest).expect("record parses");
        rest = r;
        if rec.content_type != ContentType::handshake {
            return out;
        }
        let mut frag = rec.fragment;
        while !frag.is_empty() {
            let (hs, r) = Handshake::parse(frag, PARAMS.0, PARAMS.1, PARAMS.2, PARAMS.3)
                .expect("message parses");
            out.push(hs);
            frag = r;
        }
    }
}

/// The ClientHello among `msgs`.
fn client_hello<'a>(msgs: &[Handshake<'a>]) -> ClientHello<'a> {
    match msgs.first().map(|m| m.message.body) {
        Some(HandshakeMessageBody::ClientHello(ch)) => ch,
        other => panic!("first message is not a ClientHello: {other:?}"),
    }
}

/// The host names of a ClientHello's server_name extension.
fn server_names<'a>(ch: &ClientHello<'a>) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    for ext in ch.extensions.iter().flat_map(|e| e.extensions.iter()) {
        if let ExtensionBody::ServerName(Some(list)) = ext.body {
            out.extend(list.server_name_list.iter().map(|n| n.host_name));
        }
    }
    out
}

#[test]
fn records_then_handshake_messages_in_a_nom_pipeline_equal_parse() {
    let (client, server) = streams();

    let (rest, msgs) = plaintext_handshake(&client).expect("client pipeline parses");
    assert_eq!(msgs, with_parse(&client));
    let types: Vec<u8> = msgs.iter().map(|m| m.msg_type.0).collect();
    assert_eq!(types, [1, 16], "ClientHello, ClientKeyExchange");
    let ch = client_hello(&msgs);
    // tshark: tls.handshake.cipher_suites_length 56, server_name server.example.test,
    // extensions 0,11,10,35,22,23,13.
    assert_eq!(ch.cipher_suites.len(), 28);
    assert_eq!(server_names(&ch), [b"server.example.test".as_slice()]);
    let ext_types: Vec<u16> = ch
        .extensions
        .iter()
        .flat_map(|e| e.extensions.iter())
        .map(|e| e.ext_type.0)
        .collect();
    assert_eq!(ext_types, [0, 11, 10, 35, 22, 23, 13]);
    // What follows ChangeCipherSpec is the encrypted Finished record, untouched.
    assert_eq!(rest.first(), Some(&22));

    let (_, msgs) = plaintext_handshake(&server).expect("server pipeline parses");
    assert_eq!(msgs, with_parse(&server));
    let types: Vec<u8> = msgs.iter().map(|m| m.msg_type.0).collect();
    // tshark: 2,11,12,14 in one segment, then 4 (NewSessionTicket) before ChangeCipherSpec.
    assert_eq!(types, [2, 11, 12, 14, 4], "ServerHello .. NewSessionTicket");
}

#[test]
fn generated_parsers_compose_with_tls_parser_under_nom_default_error() {
    let (client, _) = streams();
    let at = cipher_suites_length_at(&client);
    let mut bad = client.clone();
    bad[at + 1] = 57; // odd: not a whole number of 2-byte cipher suites
                      // rusticata's record parser frames, ours parses the handshake; one error type for both.
    let mut hello = map_parser(
        map(tls_parser::parse_tls_raw_record, |r| r.data),
        Handshake::nom_complete_with::<NomError<&[u8]>>(PARAMS),
    );
    let (rest, msg) = hello(&client).expect("ClientHello parses");
    assert_eq!(client_hello(&[msg]).cipher_suites.len(), 28);
    assert_eq!(Some(msg), with_parse(&client).first().copied());
    // The next record is the ClientKeyExchange.
    assert_eq!(rest.first(), Some(&22));
    // A failure of ours inside, in nom's error type: the input from the failing byte on (the
    // cipher suites, just after their length) to the end of the fragment, and the nearest nom
    // kind. Being a slice of the caller's buffer, it gives the absolute offset through
    // `map_parser`, which our own `ParseError` (relative to the fragment) cannot.
    match hello(&bad) {
        Err(Err::Error(e)) => {
            assert_eq!(e.code, NomKind::LengthValue);
            assert_eq!(bad.offset(e.input), at + 2);
            assert_eq!(
                e.input.len(),
                5 + usize::from(client[4]) + 256 * usize::from(client[3]) - (at + 2)
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The offset of the ClientHello's `cipher_suites_length` in the client stream: record header
/// (5), handshake header (4), version (2), random (32), session id length (1) and session id.
fn cipher_suites_length_at(client: &[u8]) -> usize {
    5 + 4 + 2 + 32 + 1 + usize::from(client[5 + 4 + 2 + 32])
}

#[test]
fn a_corrupted_length_fails_with_our_field_path_and_the_context_labels() {
    let (client, _) = streams();
    let at = cipher_suites_length_at(&client);
    assert_eq!(&client[at..at + 2], &[0, 56]);
    let mut bad = client.clone();
    bad[at + 1] = 57; // odd: not a whole number of 2-byte cipher suites

    // What the plain API says about the message (offsets relative to the fragment).
    let fragment = &bad[5..];
    let expected = Handshake::parse(fragment, PARAMS.0, PARAMS.1, PARAMS.2, PARAMS.3)
        .expect_err("the message is malformed");
    assert_eq!(expected.path, "ClientHello.cipher_suites");
    assert_eq!(expected.kind, ErrorKind::NotDivisible { len: 57, elem: 2 });
    assert_eq!(expected.offset, at + 2 - 5);

    // Through the pipeline: `cut` makes it a Failure, which `many0` passes on; each
    // `context` around it adds a label, innermost first.
    match plaintext_handshake(&bad) {
        Err(Err::Failure(e)) => {
            assert_eq!(
                (e.path, e.offset, e.kind),
                (expected.path, expected.offset, expected.kind)
            );
            assert_eq!(
                e.context.labels().collect::<Vec<_>>(),
                ["handshake records", "handshake messages"]
            );
            assert_eq!(
                e.to_string(),
                format!(
                    "handshake records/handshake messages/ClientHello.cipher_suites at offset \
                     {}: length 57 is not a multiple of the element size 2",
                    expected.offset
                )
            );
        }
        other => panic!("expected a Failure, got {other:?}"),
    }

    // Without `cut`, the failure is an Error and `many0` stops before the bad record: the
    // pipeline then fails on what follows, a nom combinator's error, labelled.
    let lenient = |i| -> IResult<&[u8], _, ParseError> {
        pair(
            many0(map_parser(
                map(TlsRecord::nom_complete, |r: TlsRecord<'_>| r.fragment),
                many1(Handshake::nom_complete_with(PARAMS)),
            )),
            context("end", nom::combinator::eof),
        )(i)
    };
    match lenient(&bad) {
        Err(Err::Error(e)) => {
            assert_eq!(
                e.kind,
                ErrorKind::Combinator {
                    name: "Eof",
                    remaining: bad.len()
                }
            );
            assert_eq!(e.context.labels().collect::<Vec<_>>(), ["end"]);
        }
        other => panic!("expected an Error, got {other:?}"),
    }
}

#[test]
fn streaming_truncation_is_incomplete_with_the_exact_missing_count() {
    let (client, _) = streams();
    let (first, _) = TlsRecord::parse(&client).expect("record parses");
    let record_len = 5 + first.fragment.len();
    // Every prefix of the first record: Incomplete, asking for no byte past the record, and
    // for exactly the rest of it once the header (with its length) is there.
    for p in 0..record_len {
        match TlsRecord::nom::<ParseError>(&client[..p]) {
            Err(Err::Incomplete(Needed::Size(n))) => {
                assert!(p + n.get() <= record_len, "prefix {p} asks for {n}");
                if p >= 5 {
                    assert_eq!(p + n.get(), record_len, "prefix {p}");
                }
            }
            other => panic!("prefix {p}: {other:?}"),
        }
    }
    let (rest, rec) = TlsRecord::nom::<ParseError>(&client[..record_len]).expect("whole record");
    assert_eq!((rest.len(), rec), (0, first));

    // The same for the ClientHello inside: the handshake header's 24-bit length bounds it.
    let frag = first.fragment;
    let mut hs = Handshake::nom_with::<ParseError>(PARAMS);
    for p in 0..frag.len() {
        match hs(&frag[..p]) {
            Err(Err::Incomplete(Needed::Size(n))) => {
                assert!(p + n.get() <= frag.len(), "prefix {p} asks for {n}");
                if p >= 4 {
                    assert_eq!(p + n.get(), frag.len(), "prefix {p}");
                }
            }
            other => panic!("prefix {p}: {other:?}"),
        }
    }
    assert!(hs(frag).is_ok());
}

#[test]
fn a_length_overrunning_its_bound_is_an_error_even_when_streaming() {
    let (client, _) = streams();
    let at = cipher_suites_length_at(&client);
    let mut bad = client[..5 + usize::from(u16::from_be_bytes([client[3], client[4]]))].to_vec();
    bad[at] = 0xff; // the cipher suites now claim more than the ClientHello holds
    let fragment = &bad[5..];
    let expected = Handshake::parse(fragment, PARAMS.0, PARAMS.1, PARAMS.2, PARAMS.3)
        .expect_err("the message is malformed");
    assert_eq!(expected.path, "ClientHello.cipher_suites");
    assert!(
        matches!(expected.kind, ErrorKind::Incomplete { .. }),
        "{expected:?}"
    );
    // The runtime says Incomplete (the bound ran out), but more input cannot help: Error.
    assert_eq!(
        Handshake::nom_with::<ParseError>(PARAMS)(fragment),
        Err(Err::Error(expected))
    );
    // A truncated message is Incomplete, though, with what is missing.
    let cut_at = fragment.len() - 10;
    assert_eq!(
        Handshake::nom_with::<ParseError>(PARAMS)(&client[5..5 + cut_at]),
        Err(Err::Incomplete(Needed::new(10)))
    );
}
