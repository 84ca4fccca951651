//! Runs parsers generated from `tests/codegen/runnable/*.pac` (compiled by tests/build.rs) on
//! bytes: values, error paths and offsets, post-order events, and that every strict prefix of
//! every fixture is an `Err`, never a panic.

#[allow(
    clippy::all,
    dead_code,
    non_upper_case_globals,
    non_snake_case,
    unused_parens,
    unreachable_patterns
)]
mod gen {
    include!(concat!(env!("OUT_DIR"), "/runnable.rs"));
}

use gen::*;
use pac_runtime::{ErrorKind, ValueSink};

/// A handshake record: header, then a hello with session id, suites, pairs, names, extensions.
const HELLO: &[u8] = &[
    0x16, 0x03, 0x03, 0x00, 0x1b, // header: handshake, TLS 1.2, 27 bytes
    0x03, 0x03, // version
    0x02, b'a', b'b', // session id
    0x00, 0x04, 0xc0, 0x2f, 0x00, 0x01, // suites
    0x02, 0x01, 0x02, 0x03, 0x04, // two pairs
    0x04, 0x01, 0x02, b'x', b'y', // names: one item
    0x00, 0x04, 0x07, 0x01, b'z', 0x09, // extensions: one item with flags
];

/// An alert record with two alerts.
const ALERTS: &[u8] = &[0x15, 0x03, 0x03, 0x00, 0x04, 0x01, 0x28, 0x02, 0x00];

/// A record of an unknown content type.
const UNKNOWN: &[u8] = &[0x63, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb];

/// A change-cipher-spec record (empty arm).
const CCS: &[u8] = &[0x14, 0x03, 0x03, 0x00, 0x00];

#[test]
fn parses_hello_fields() {
    let (rec, rest) = Record::parse(HELLO).expect("fixture parses");
    assert!(rest.is_empty());
    assert_eq!(rec.content_type, ContentType::handshake);
    assert_eq!(rec.len_body, 27);
    assert_eq!(rec.sourcedata, HELLO);
    let RecordBody::Hello(h) = rec.body else {
        panic!("expected a hello, got {:?}", rec.body)
    };
    assert_eq!(h.record_version, 0x0303);
    assert_eq!(h.session_id, b"ab");
    assert_eq!(
        h.suites.iter().collect::<Vec<_>>(),
        vec![Suite::TLS_ECDHE_RSA_X, Suite::TLS_RSA_WITH_NULL]
    );
    assert_eq!(h.pairs.iter().collect::<Vec<_>>(), vec![0x0102, 0x0304]);
    assert!(h.is_new);
    let names: Vec<Item<'_>> = h.names.iter().collect();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].r#type, 1);
    assert_eq!(names[0].data, b"xy");
    assert_eq!(names[0].flags, None);
    let exts = h.exts.expect("extensions present");
    let items: Vec<Item<'_>> = exts.items.iter().collect();
    assert_eq!(items[0].flags, Some(9));
    assert_eq!(items[0].data_sourcedata, b"z");
}

#[test]
fn enums_names_and_derived_tables() {
    assert_eq!(ContentType::application_data.name(), Some("appdata"));
    assert_eq!(ContentType(99).name(), None);
    assert_eq!(ContentType::from_name("appdata"), Some(ContentType(23)));
    assert_eq!(ContentType::from_name("handshake"), Some(ContentType(22)));
    // The alias shares the value; name() keeps the first constant's name.
    assert_eq!(Suite::TLS_NULL_ALIAS.name(), Some("TLS_RSA_WITH_NULL"));
    assert_eq!(Suite::TLS_ECDHE_OLD.kex(), Kex::ECDHE);
    assert_eq!(Suite::TLS_RSA_WITH_NULL.kex(), Kex::RSA);
    assert_eq!(Suite(0x1234).kex(), Kex::UNKNOWN);
    assert_eq!(format!("{:?}", Suite(0xc02f)), "TLS_ECDHE_RSA_X(0xc02f)");
}

#[test]
fn case_arms_unknown_and_empty() {
    let (rec, _) = Record::parse(ALERTS).expect("alerts parse");
    let RecordBody::Alerts(alerts) = rec.body else {
        panic!("expected alerts")
    };
    assert_eq!(alerts.len(), 2);
    assert_eq!(
        alerts.iter().map(|a| a.description).collect::<Vec<_>>(),
        vec![0x28, 0]
    );
    let (rec, _) = Record::parse(UNKNOWN).expect("unknown parses");
    assert_eq!(
        rec.body,
        RecordBody::Unknown {
            tag: ContentType(0x63),
            body: &[0xaa, 0xbb]
        }
    );
    let (rec, _) = Record::parse(CCS).expect("ccs parses");
    assert_eq!(rec.body, RecordBody::ChangeCipherSpec);
}

#[test]
fn errors_name_the_field_and_offset() {
    let bad_level = [0x15, 0x03, 0x03, 0x00, 0x02, 0x03, 0x28];
    let err = Record::parse(&bad_level).expect_err("level 3 is rejected");
    assert_eq!(err.path, "Alert.level");
    assert_eq!(err.kind, ErrorKind::Check("level == 1 || level == 2"));
    assert_eq!(err.offset, 6);
    let short = &HELLO[..HELLO.len() - 1];
    let err = Record::parse(short).expect_err("truncated");
    assert_eq!(err.path, "Record.body");
    assert_eq!(err.offset, 5);
    assert_eq!(err.kind, ErrorKind::Incomplete { needed: 1 });
    // A body longer than its content: bytes left inside the bound.
    let mut long = ALERTS.to_vec();
    long[4] = 5;
    long.push(0x01);
    let err = Record::parse(&long).expect_err("odd alert bytes");
    assert_eq!(err.path, "Alert.description");
    assert_eq!(
        err.to_string(),
        "Alert.description at offset 10: input ends 1 byte(s) too early"
    );
}

#[test]
fn every_strict_prefix_is_an_error() {
    for fixture in [HELLO, ALERTS, UNKNOWN, CCS] {
        for n in 0..fixture.len() {
            assert!(
                Record::parse(&fixture[..n]).is_err(),
                "prefix of {n} bytes of {fixture:02x?} parsed"
            );
        }
        assert!(Record::parse(fixture).is_ok());
    }
}

/// Collects what a sink sees, as text.
#[derive(Default)]
struct Text(String);

impl ValueSink for Text {
    fn field(&mut self, name: &'static str) {
        self.0.push_str(&format!(" {name}="));
    }
    fn count(&mut self, v: u64) {
        if self.0.ends_with(|c: char| c.is_ascii_digit()) {
            self.0.push(',');
        }
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
        self.0
            .push_str(&format!("{:?}", String::from_utf8_lossy(v)));
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
    fn begin_record(&mut self, type_name: &'static str) {
        self.0.push_str(type_name);
        self.0.push('{');
    }
    fn end_record(&mut self) {
        self.0.push('}');
    }
}

#[test]
fn walk_raises_events_in_post_order() {
    let (rec, _) = Record::parse(HELLO).expect("fixture parses");
    let ctx = Context {
        is_orig: true,
        version: 0,
        cid: b"",
    };
    let mut lines = Vec::new();
    rec.walk(&ctx, &mut |ev| {
        let mut t = Text::default();
        ev.visit(&mut t);
        lines.push(format!("{}{}", ev.name(), t.0));
    });
    assert_eq!(
        lines,
        vec![
            r#"demo_item kind=1 val="xy" raw="xy""#.to_string(),
            r#"demo_item kind=7 val="z" raw="z""#.to_string(),
            r#"demo_hello version=771 session="ab\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" suites=[49199,1] pairs=[Pair{ hi=1 lo=2}Pair{ hi=3 lo=4}] names=["xy"] kex=0"#.to_string(),
            format!("demo_record is_orig=true content_type=22 length={}", HELLO.len()),
        ]
    );
    assert_eq!(
        EVENT_NAMES,
        ["demo_record", "demo_item", "demo_hello", "var_crypto"]
    );
}

#[test]
fn lists_of_fixed_size_records_are_validated_by_their_length() {
    assert_eq!(
        <FixedEntry as pac_runtime::Element<'_>>::FIXED_SIZE,
        Some(3)
    );
    let bytes = [1, 0xaa, 0x00, 0x01, 0xbb, 0x00, 0x02, 0xcc, 0x00, 0x03];
    let (list, rest) = FixedList::parse(&bytes).expect("fixed list parses");
    assert!(rest.is_empty());
    let entries = |l: &pac_runtime::List<'_, FixedEntry>| {
        l.iter().map(|e| (e.tag, e.value)).collect::<Vec<_>>()
    };
    assert_eq!(entries(&list.counted), vec![(0xaa, 1)]);
    assert_eq!(entries(&list.rest), vec![(0xbb, 2), (0xcc, 3)]);
    assert_eq!(list.rest.len(), 2);
    // A partial element at the end: the list's bytes are not a multiple of the element size.
    let err = FixedList::parse(&bytes[..9]).expect_err("partial element");
    assert_eq!(err.path, "FixedList.rest");
    assert_eq!(err.kind, ErrorKind::NotDivisible { len: 5, elem: 3 });
    // A count past the end of the input: the bytes of the whole count are missing.
    let err = FixedList::parse(&[2, 0xaa, 0x00, 0x01, 0xbb]).expect_err("count too large");
    assert_eq!(err.path, "FixedList.counted");
    assert_eq!(err.kind, ErrorKind::Incomplete { needed: 2 });
}

/// A CRYPTO-like frame: type 6 (1 byte), offset 0x1234 (2 bytes), length 2 (4 bytes), data, two
/// counted ids (1 and 8 bytes), then a rest of one 2-byte varint.
const VARINT_FRAME: &[u8] = &[
    0x06, // frame_type
    0x52, 0x34, // offset: 2-byte varint 0x1234
    0x80, 0x00, 0x00, 0x02, // length: 4-byte varint 2
    b'h', b'i', // data
    0x02, // n
    0x3f, // ids[0] = 63
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // ids[1] = 2^62 - 1
    0x40, 0x25, // rest[0] = 37
];

#[test]
fn varints_of_every_length_in_fields_counts_lengths_and_lists() {
    let (f, rest) = VarFrame::parse(VARINT_FRAME).expect("varint frame parses");
    assert!(rest.is_empty());
    assert_eq!(f.frame_type, 6);
    let VarFrameBody::Crypto(c) = f.body else {
        panic!("expected the crypto arm, got {:?}", f.body)
    };
    assert_eq!(
        (c.offset, c.length, c.data, c.n),
        (0x1234, 2, &b"hi"[..], 2)
    );
    assert_eq!(c.ids.iter().collect::<Vec<_>>(), vec![63, (1 << 62) - 1]);
    assert_eq!(c.ids.len(), 2);
    assert_eq!(c.rest.iter().collect::<Vec<_>>(), vec![37]);
    // An unknown type number selects the default arm, whatever its encoded length.
    let (f, _) = VarFrame::parse(&[0x40, 0x07, 0xaa]).expect("unknown frame parses");
    assert_eq!(
        f.body,
        VarFrameBody::Unknown {
            tag: 7,
            body: &[0xaa]
        }
    );
}

#[test]
fn varint_cut_anywhere_is_an_error_naming_the_field() {
    // Every cut before the trailing list is an error (a cut between the list's elements is a
    // shorter list, so the prefix without `rest` parses).
    let before_rest = VARINT_FRAME.len() - 2;
    assert!(VarFrame::parse(&VARINT_FRAME[..before_rest]).is_ok());
    for n in (0..before_rest).chain([before_rest + 1]) {
        let err = VarFrame::parse(&VARINT_FRAME[..n]).expect_err("strict prefix");
        assert!(
            matches!(err.kind, ErrorKind::Incomplete { .. }),
            "prefix {n}: {err:?}"
        );
    }
    // Cut inside the 4-byte length: the error points at the varint's first byte.
    let err = VarFrame::parse(&VARINT_FRAME[..5]).expect_err("cut length");
    assert_eq!(err.path, "VarCrypto.length");
    assert_eq!(err.offset, 3);
    assert_eq!(err.kind, ErrorKind::Incomplete { needed: 2 });
    // Cut inside an element of the trailing list: the list's path, at the element's first byte.
    let err = VarFrame::parse(&VARINT_FRAME[..before_rest + 1]).expect_err("cut element");
    assert_eq!(err.path, "VarCrypto.rest");
    assert_eq!(err.offset, before_rest);
}

/// The events a walk of `f` raises under `ctx`, as text.
fn walk_lines<'a>(f: &VarFrame<'a>, ctx: &Context<'a>) -> Vec<String> {
    let mut lines = Vec::new();
    f.walk(ctx, &mut |ev| {
        let mut t = Text::default();
        ev.visit(&mut t);
        lines.push(format!("{}{}", ev.name(), t.0));
    });
    lines
}

#[test]
fn string_context_values_reach_the_events() {
    let (f, _) = VarFrame::parse(VARINT_FRAME).expect("varint frame parses");
    // The host's bytes come out in the event; without them the condition holds the event back.
    let ctx = Context {
        cid: b"id7",
        ..Context::default()
    };
    assert_eq!(
        walk_lines(&f, &ctx),
        vec![r#"var_crypto cid="id7" offset=4660"#.to_string()]
    );
    assert!(walk_lines(&f, &Context::default()).is_empty());
}
