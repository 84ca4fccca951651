//! The parsers and walkers generated from `grammar/quic.pac`, on real bytes: the Initial, Retry
//! and payload examples of RFC 9001 Appendix A (QUIC v1) and RFC 9369 Appendix A (QUIC v2),
//! hand-built frames of every type of RFC 9000 §19, and variable-length integers of every length,
//! at their maximum and cut at every byte.

use tls_grammar::pac_runtime::{ErrorKind, ValueSink};
use tls_grammar::{
    Context, QuicConnectionClose, QuicFrame, QuicFrameBody, QuicFrames, QuicLongHeader,
    QuicLongHeaderBody, QuicShortHeader, QuicStreamFrameData, SslEvent,
};

/// Bytes from hex text (whitespace ignored).
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| {
            let text = std::str::from_utf8(p).expect("ascii");
            u8::from_str_radix(text, 16).expect("hex digits")
        })
        .collect()
}

/// RFC 9001 A.2 / RFC 9369 A.2: the client's Initial, unprotected header (version 1, DCID
/// 8394c8f03e515708, no SCID, no token, Length 1182, then the 4-byte Packet Number 2).
const V1_CLIENT_HEADER: &str = "c300000001088394c8f03e5157080000449e00000002";
const V2_CLIENT_HEADER: &str = "d36b3343cf088394c8f03e5157080000449e00000002";
/// RFC 9001 A.3 / RFC 9369 A.3: the server's Initial, unprotected header (SCID f067a5502a4262b5,
/// Length 117, 2-byte Packet Number 1).
const V1_SERVER_HEADER: &str = "c1000000010008f067a5502a4262b50040750001";
const V2_SERVER_HEADER: &str = "d16b3343cf0008f067a5502a4262b50040750001";
/// RFC 9001 A.4 / RFC 9369 A.4: Retry packets with the token "token" and their integrity tags.
const V1_RETRY: &str = "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba";
const V2_RETRY: &str = "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6";

/// RFC 9001 A.2: the CRYPTO frame with the client's ClientHello (241 bytes at offset 0). The
/// payload is this plus 917 PADDING frames (1162 bytes).
const CLIENT_CRYPTO: &str = "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868
    04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578
    616d706c652e636f6dff01000100000a00080006001d00170018001000070005
    04616c706e000500050100000000003300260024001d00209370b2c9caa47fba
    baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400
    0d0010000e0403050306030203080408050806002d00020101001c0002400100
    3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000
    75300901100f088394c8f03e51570806048000ffff";

/// RFC 9001 A.3: the server's payload, an ACK frame and a CRYPTO frame with its ServerHello.
const SERVER_PAYLOAD: &str = "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739
    88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94
    0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00
    020304";

/// An event as one line of text: its Zeek name and `name=value` per argument.
#[derive(Default)]
struct Line(String);

impl ValueSink for Line {
    fn field(&mut self, name: &'static str) {
        self.0.push_str(&format!(" {name}="));
    }
    fn count(&mut self, v: u64) {
        self.0.push_str(&v.to_string());
    }
    fn int(&mut self, v: i64) {
        self.0.push_str(&v.to_string());
    }
    fn double(&mut self, v: f64) {
        self.0.push_str(&v.to_string());
    }
    fn boolean(&mut self, v: bool) {
        self.0.push_str(&v.to_string());
    }
    fn string(&mut self, v: &[u8]) {
        for b in v {
            self.0.push_str(&format!("{b:02x}"));
        }
    }
    fn time(&mut self, secs: f64) {
        self.0.push_str(&secs.to_string());
    }
    fn begin_vector(&mut self) {
        self.0.push('[');
    }
    fn end_vector(&mut self) {
        self.0.push(']');
    }
    fn begin_record(&mut self, _: &'static str) {
        self.0.push('{');
    }
    fn end_record(&mut self) {
        self.0.push('}');
    }
}

/// The events `walk` raises, one line each.
fn lines(walk: impl FnOnce(&mut dyn FnMut(SslEvent<'_>))) -> Vec<String> {
    let mut out = Vec::new();
    walk(&mut |ev: SslEvent<'_>| {
        let mut l = Line(ev.name().to_string());
        ev.visit(&mut l);
        out.push(l.0);
    });
    out
}

/// The context the analyzer walks a client's packet with: no QUIC values yet.
fn client() -> Context<'static> {
    Context {
        is_orig: true,
        ..Context::default()
    }
}

#[test]
fn client_initials_v1_and_v2_end_at_the_packet_number() {
    for (text, version) in [(V1_CLIENT_HEADER, 1), (V2_CLIENT_HEADER, 0x6b33_43cf)] {
        let bytes = hex(text);
        let (h, rest) = QuicLongHeader::parse(&bytes).expect("client Initial header");
        assert_eq!(rest, [0, 0, 0, 2], "{text}: the rest is the Packet Number");
        assert_eq!(h.version, version);
        assert_eq!(h.dcid, hex("8394c8f03e515708"));
        assert!(h.scid.is_empty());
        assert_eq!((h.packet_type, h.handled, h.form), (0, true, 0));
        let QuicLongHeaderBody::Initial(i) = h.body else {
            panic!("{text}: expected an Initial, got {:?}", h.body)
        };
        assert!(i.token.is_empty());
        assert_eq!(i.length, 1182);
        assert_eq!(
            lines(|s| h.walk(&client(), s)),
            [format!(
                "QUIC::initial_packet is_orig=true version={version} dcid=8394c8f03e515708 scid="
            )]
        );
    }
}

#[test]
fn server_initials_v1_and_v2() {
    for (text, version) in [(V1_SERVER_HEADER, 1), (V2_SERVER_HEADER, 0x6b33_43cf)] {
        let bytes = hex(text);
        let (h, rest) = QuicLongHeader::parse(&bytes).expect("server Initial header");
        assert_eq!(rest, [0, 1]);
        assert_eq!(h.version, version);
        assert!(h.dcid.is_empty());
        assert_eq!(h.scid, hex("f067a5502a4262b5"));
        assert_eq!(h.packet_type, 0);
        let QuicLongHeaderBody::Initial(i) = h.body else {
            panic!("{text}: expected an Initial, got {:?}", h.body)
        };
        assert_eq!(i.length, 117);
    }
}

#[test]
fn packet_type_bits_of_v1_and_v2() {
    // The same bits mean different types in v1 and v2 (RFC 9369 §3.2): 0-RTT and Handshake.
    let header = |first: u8, version: [u8; 4]| {
        let mut b = vec![first];
        b.extend_from_slice(&version);
        b.extend_from_slice(&[1, 0xaa, 1, 0xbb, 0x40, 0x20]);
        b
    };
    let v1 = [0, 0, 0, 1];
    let v2 = [0x6b, 0x33, 0x43, 0xcf];
    let draft29 = [0xff, 0, 0, 0x1d];
    let mvfst = [0xfa, 0xce, 0xb0, 0x02];
    for (first, version, form) in [
        (0xd0, v1, 1),
        (0xe0, v1, 2),
        (0xe0, v2, 1),
        (0xf0, v2, 2),
        (0xd0, draft29, 1),
        (0xe0, mvfst, 2),
    ] {
        let bytes = header(first, version);
        let (h, rest) = QuicLongHeader::parse(&bytes).expect("0-RTT or Handshake header");
        assert!(rest.is_empty());
        assert_eq!(h.form, form, "{bytes:02x?}");
        let (body_len, event) = match h.body {
            QuicLongHeaderBody::ZeroRtt(l) if form == 1 => (l.length, "QUIC::zero_rtt_packet"),
            QuicLongHeaderBody::Handshake(l) if form == 2 => (l.length, "QUIC::handshake_packet"),
            other => panic!("{bytes:02x?}: unexpected {other:?}"),
        };
        assert_eq!(body_len, 0x20);
        let events = lines(|s| h.walk(&client(), s));
        assert_eq!(events.len(), 1);
        assert!(events[0].starts_with(event), "{events:?}");
    }
}

#[test]
fn retries_v1_and_v2_split_token_and_tag() {
    for (text, version, tag) in [
        (V1_RETRY, 1, "04a265ba2eff4d829058fb3f0f2496ba"),
        (V2_RETRY, 0x6b33_43cf, "c8646ce8bfe33952d955543665dcc7b6"),
    ] {
        let bytes = hex(text);
        let (h, rest) = QuicLongHeader::parse(&bytes).expect("Retry");
        assert!(rest.is_empty());
        assert_eq!((h.packet_type, h.form), (3, 3));
        let QuicLongHeaderBody::Retry(r) = h.body else {
            panic!("{text}: expected a Retry, got {:?}", h.body)
        };
        assert_eq!(r.retry_token, b"token");
        assert_eq!(r.integrity_tag, hex(tag));
        // The analyzer walks with the header's version and connection ids as context values.
        let ctx = Context {
            is_orig: false,
            quic_version: u64::from(h.version),
            quic_dcid: h.dcid,
            quic_scid: h.scid,
            ..Context::default()
        };
        assert_eq!(
            lines(|s| h.walk(&ctx, s)),
            [format!(
                "QUIC::retry_packet is_orig=false version={version} dcid= scid=f067a5502a4262b5 \
                 retry_token=746f6b656e retry_integrity_tag={tag}"
            )]
        );
    }
    // A Retry shorter than its tag is malformed.
    let short = hex("ff000000010008f067a5502a4262b5746f6b656e");
    let e = QuicLongHeader::parse(&short).expect_err("no room for the tag");
    assert_eq!(e.path, "QuicRetryFields.retry_token");
}

#[test]
fn version_negotiation_and_unhandled_versions_raise_unhandled_version() {
    // Version 0 with two supported versions.
    let vn = hex("80 00000000 01aa 01bb 00000001 6b3343cf");
    let (h, rest) = QuicLongHeader::parse(&vn).expect("Version Negotiation");
    assert!(rest.is_empty());
    let QuicLongHeaderBody::VersionNegotiation(v) = h.body else {
        panic!("expected Version Negotiation, got {:?}", h.body)
    };
    assert_eq!(
        v.supported_versions.iter().collect::<Vec<_>>(),
        [1, 0x6b33_43cf]
    );
    assert_eq!(
        lines(|s| h.walk(&client(), s)),
        ["QUIC::unhandled_version is_orig=true version=0 dcid=aa scid=bb"]
    );
    // A version Zeek does not know (a greased one): the rest is kept, unparsed.
    let grease = hex("c0 0a0a0a0a 00 00 1234");
    let (h, _) = QuicLongHeader::parse(&grease).expect("unhandled version");
    assert!(!h.handled);
    assert_eq!(h.body, QuicLongHeaderBody::Unhandled(&[0x12, 0x34]));
    assert_eq!(
        lines(|s| h.walk(&client(), s)),
        ["QUIC::unhandled_version is_orig=true version=168430090 dcid= scid="]
    );
}

#[test]
fn header_form_and_initial_length_are_checked() {
    let mut short_form = hex(V1_CLIENT_HEADER);
    short_form[0] = 0x43;
    let e = QuicLongHeader::parse(&short_form).expect_err("not a long header");
    assert_eq!(e.path, "QuicLongHeader.first_byte");
    assert!(matches!(e.kind, ErrorKind::Check(_)));
    // Length 19: too short for header protection's sample.
    let small = hex("c300000001088394c8f03e515708000013");
    let e = QuicLongHeader::parse(&small).expect_err("Length below 20");
    assert_eq!(e.path, "QuicInitialFields.length");
    // Every cut inside the header is an error.
    let whole = hex(V1_CLIENT_HEADER);
    for n in 0..whole.len() - 4 {
        assert!(
            QuicLongHeader::parse(&whole[..n]).is_err(),
            "{n}-byte prefix parsed"
        );
    }
}

#[test]
fn short_header_and_its_threshold_event() {
    let bytes = hex("41 8394c8f03e515708 aabbcc");
    let (h, rest) = QuicShortHeader::parse(&bytes, 8).expect("short header");
    assert!(rest.is_empty());
    assert_eq!(h.dcid, hex("8394c8f03e515708"));
    assert_eq!(h.rest, [0xaa, 0xbb, 0xcc]);
    assert!(lines(|s| h.walk(&client(), s)).is_empty());
    let crossed = Context {
        quic_short_header_threshold: 4,
        ..client()
    };
    assert_eq!(
        lines(|s| h.walk(&crossed, s)),
        ["QUIC::short_header_packet_threshold_crossed is_orig=true threshold=4"]
    );
    assert!(QuicShortHeader::parse(&hex(V1_CLIENT_HEADER), 8).is_err());
    assert!(QuicShortHeader::parse(&bytes[..8], 8).is_err());
}

#[test]
fn client_initial_payload_is_a_crypto_frame_and_padding() {
    let mut payload = hex(CLIENT_CRYPTO);
    payload.resize(1162, 0);
    let (f, rest) = QuicFrames::parse(&payload).expect("client payload");
    assert!(rest.is_empty());
    let frames: Vec<QuicFrame<'_>> = f.frames.iter().collect();
    assert_eq!(frames.len(), 1 + 917);
    let QuicFrameBody::Crypto(c) = frames[0].body else {
        panic!("expected CRYPTO, got {:?}", frames[0].body)
    };
    assert_eq!((c.offset, c.length, c.data.len()), (0, 241, 241));
    // A ClientHello (type 1) of 237 bytes.
    assert_eq!(c.data[..4], [0x01, 0x00, 0x00, 0xed]);
    assert!(frames[1..]
        .iter()
        .all(|f| f.frame_type == 0 && f.body == QuicFrameBody::Padding));
    // No CONNECTION_CLOSE, no event.
    assert!(lines(|s| f.walk(&client(), s)).is_empty());
}

#[test]
fn server_initial_payload_is_an_ack_and_a_crypto_frame() {
    let payload = hex(SERVER_PAYLOAD);
    let (f, rest) = QuicFrames::parse(&payload).expect("server payload");
    assert!(rest.is_empty());
    let frames: Vec<QuicFrame<'_>> = f.frames.iter().collect();
    assert_eq!(frames.len(), 2);
    let QuicFrameBody::Ack(a) = frames[0].body else {
        panic!("expected ACK, got {:?}", frames[0].body)
    };
    assert_eq!(
        (
            a.largest_acknowledged,
            a.ack_delay,
            a.ack_range_count,
            a.first_ack_range
        ),
        (0, 0, 0, 0)
    );
    assert!(a.ack_ranges.is_empty() && a.ecn_counts.is_none());
    let QuicFrameBody::Crypto(c) = frames[1].body else {
        panic!("expected CRYPTO, got {:?}", frames[1].body)
    };
    assert_eq!((c.offset, c.length), (0, 90));
    // A ServerHello (type 2) of 86 bytes.
    assert_eq!(c.data[..4], [0x02, 0x00, 0x00, 0x56]);
}

/// One frame of every type of RFC 9000 §19, in type order (of the STREAM types only 0x0f: one
/// without the LEN bit would take the rest of the payload), then one of an unknown type.
const EVERY_FRAME: &str = "
    00
    01
    02 05 01 01 00 02 03
    03 05 01 00 00 07 08 09
    04 01 02 03
    05 01 02
    06 00 02 aabb
    07 02 ccdd
    0f 04 4001 02 ff00
    10 4400
    11 04 05
    12 06
    13 07
    14 08
    15 04 09
    16 0a
    17 0b
    18 01 00 04 01020304 000102030405060708090a0b0c0d0e0f
    19 03
    1a 0001020304050607
    1b 0001020304050607
    1c 0a 06 02 6869
    1d 0b 00
    1e
    21 beef";

#[test]
fn every_frame_type_of_rfc_9000() {
    let bytes = hex(EVERY_FRAME);
    let (f, rest) = QuicFrames::parse(&bytes).expect("every frame");
    assert!(rest.is_empty());
    let frames: Vec<QuicFrame<'_>> = f.frames.iter().collect();
    let types: Vec<u64> = frames.iter().map(|f| f.frame_type).collect();
    let mut expected: Vec<u64> = (0x00..=0x1e)
        .filter(|t| !(0x08..=0x0e).contains(t))
        .collect();
    expected.push(0x21);
    assert_eq!(types, expected);
    let body = |t: u64| {
        frames
            .iter()
            .find(|f| f.frame_type == t)
            .map(|f| f.body)
            .expect("frame present")
    };
    assert_eq!(body(0x00), QuicFrameBody::Padding);
    assert_eq!(body(0x01), QuicFrameBody::Ping);
    let QuicFrameBody::Ack(a) = body(0x02) else {
        panic!("ACK")
    };
    assert_eq!(
        a.ack_ranges
            .iter()
            .map(|r| (r.gap, r.ack_range_length))
            .collect::<Vec<_>>(),
        [(2, 3)]
    );
    assert!(a.ecn_counts.is_none());
    let QuicFrameBody::Ack(a) = body(0x03) else {
        panic!("ACK with ECN")
    };
    let ecn = a.ecn_counts.expect("ECN counts of type 0x03");
    assert_eq!((ecn.ect0, ecn.ect1, ecn.ecn_ce), (7, 8, 9));
    let QuicFrameBody::ResetStream(r) = body(0x04) else {
        panic!("RESET_STREAM")
    };
    assert_eq!((r.stream_id, r.error_code, r.final_size), (1, 2, 3));
    let QuicFrameBody::StopSending(s) = body(0x05) else {
        panic!("STOP_SENDING")
    };
    assert_eq!((s.stream_id, s.error_code), (1, 2));
    let QuicFrameBody::Crypto(c) = body(0x06) else {
        panic!("CRYPTO")
    };
    assert_eq!(c.data, [0xaa, 0xbb]);
    let QuicFrameBody::NewToken(t) = body(0x07) else {
        panic!("NEW_TOKEN")
    };
    assert_eq!(t.token, [0xcc, 0xdd]);
    let QuicFrameBody::Stream(s) = body(0x0f) else {
        panic!("STREAM")
    };
    assert_eq!((s.stream_id, s.offset, s.fin), (4, Some(1), true));
    let QuicFrameBody::MaxData(m) = body(0x10) else {
        panic!("MAX_DATA")
    };
    assert_eq!(m, 0x0400);
    assert_eq!(body(0x12), QuicFrameBody::MaxStreams(6));
    assert_eq!(body(0x13), QuicFrameBody::MaxStreams(7));
    assert_eq!(body(0x14), QuicFrameBody::DataBlocked(8));
    assert_eq!(body(0x16), QuicFrameBody::StreamsBlocked(10));
    assert_eq!(body(0x17), QuicFrameBody::StreamsBlocked(11));
    let QuicFrameBody::NewConnectionId(n) = body(0x18) else {
        panic!("NEW_CONNECTION_ID")
    };
    assert_eq!(
        (n.sequence_number, n.retire_prior_to, n.connection_id),
        (1, 0, &[1u8, 2, 3, 4][..])
    );
    assert_eq!(n.stateless_reset_token.len(), 16);
    assert_eq!(body(0x19), QuicFrameBody::RetireConnectionId(3));
    assert_eq!(
        body(0x1a),
        QuicFrameBody::PathChallenge(&[0, 1, 2, 3, 4, 5, 6, 7])
    );
    assert_eq!(
        body(0x1b),
        QuicFrameBody::PathResponse(&[0, 1, 2, 3, 4, 5, 6, 7])
    );
    let QuicFrameBody::ConnectionClose(c) = body(0x1c) else {
        panic!("CONNECTION_CLOSE")
    };
    assert_eq!(
        (c.error_code, c.error_frame_type, c.reason_phrase),
        (10, Some(6), &b"hi"[..])
    );
    let QuicFrameBody::ConnectionClose(c) = body(0x1d) else {
        panic!("CONNECTION_CLOSE (application)")
    };
    assert_eq!((c.error_code, c.error_frame_type), (11, None));
    assert_eq!(body(0x1e), QuicFrameBody::HandshakeDone);
    // An unknown type takes the rest of the payload.
    assert_eq!(
        body(0x21),
        QuicFrameBody::Unknown {
            tag: 0x21,
            body: &[0xbe, 0xef]
        }
    );
    // Only the 0x1c close raises Zeek's event, with the packet's header values.
    let ctx = Context {
        quic_version: 1,
        quic_dcid: &[0x83, 0x94],
        quic_scid: &[0xf0],
        ..client()
    };
    assert_eq!(
        lines(|s| f.walk(&ctx, s)),
        [
            "QUIC::connection_close_frame is_orig=true version=1 dcid=8394 scid=f0 error_code=10 \
          reason_phrase=6869"
        ]
    );
}

#[test]
fn stream_frame_bits_select_offset_length_and_fin() {
    // 0x0f: OFF, LEN and FIN; offset 1 (2-byte varint), 2 bytes of data, then a PING.
    let with_length = hex("0f 04 4001 02 ff00 01");
    let (f, rest) = QuicFrame::parse(&with_length).expect("STREAM 0x0f");
    assert_eq!(rest, [0x01]);
    let QuicFrameBody::Stream(s) = f.body else {
        panic!("STREAM")
    };
    assert_eq!((s.stream_id, s.offset, s.fin), (4, Some(1), true));
    let QuicStreamFrameData::WithLength(d) = s.data else {
        panic!("expected a length")
    };
    assert_eq!(d.data, [0xff, 0x00]);
    // 0x0c: OFF only; the data runs to the end.
    let to_end = hex("0c 04 07 aabbcc");
    let (f, rest) = QuicFrame::parse(&to_end).expect("STREAM 0x0c");
    assert!(rest.is_empty());
    let QuicFrameBody::Stream(s) = f.body else {
        panic!("STREAM")
    };
    assert_eq!(s.offset, Some(7));
    assert_eq!(s.data, QuicStreamFrameData::ToEnd(&[0xaa, 0xbb, 0xcc]));
    // A CONNECTION_CLOSE read on its own needs its frame type as the argument.
    let close = hex("0a 00 00");
    let (c, _) = QuicConnectionClose::parse(&close, 0x1d).expect("close");
    assert_eq!(c.error_frame_type, None);
}

#[test]
fn varints_of_every_length_up_to_the_maximum() {
    // MAX_DATA with its value in 1, 2, 4 and 8 bytes, the largest value of each length.
    for (enc, value) in [
        ("3f", 63u64),
        ("7fff", 16_383),
        ("bfffffff", (1 << 30) - 1),
        ("ffffffffffffffff", (1 << 62) - 1),
        ("c000000000000000", 0),
    ] {
        let bytes = hex(&format!("10{enc}"));
        let (f, rest) = QuicFrame::parse(&bytes).expect("MAX_DATA");
        assert!(rest.is_empty());
        assert_eq!(f.body, QuicFrameBody::MaxData(value), "{enc}");
        // Cut at every byte: an error at the varint, never a panic.
        for n in 1..bytes.len() {
            let e = QuicFrame::parse(&bytes[..n]).expect_err("truncated varint");
            assert_eq!(e.path, "QuicFrame.body.max_data", "{enc} cut at {n}");
            assert!(matches!(e.kind, ErrorKind::Incomplete { .. }));
        }
    }
    // A frame type in 2 bytes (0x4006 is CRYPTO, non-minimally encoded).
    let two_byte_type = hex("4006 00 01 aa");
    let (f, _) = QuicFrame::parse(&two_byte_type).expect("2-byte type");
    assert_eq!(f.frame_type, 6);
    assert!(matches!(f.body, QuicFrameBody::Crypto(_)));
}

#[test]
fn every_prefix_of_the_frames_fails_or_parses_fewer_frames() {
    let mut payload = hex(SERVER_PAYLOAD);
    payload.extend(hex(EVERY_FRAME));
    for n in 0..payload.len() {
        // Some prefixes end between frames and parse; none may panic.
        let _ = QuicFrames::parse(&payload[..n]);
    }
    // Cut inside the CRYPTO frame's data: an error naming it.
    let server = hex(SERVER_PAYLOAD);
    let e = QuicFrames::parse(&server[..server.len() - 1]).expect_err("cut ServerHello");
    assert_eq!(e.path, "QuicCryptoFrame.data");
}
