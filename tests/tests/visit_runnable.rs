//! The one-pass `visit` of the small runnable spec (`tests/codegen/runnable/demo.pac`, compiled
//! by tests/build.rs): every construct the generator supports, including members that later
//! expressions read although they are lists, records or raw bytes (`Nested`, which `visit`
//! builds again from where they started).
//!
//! In: the fixtures of `codegen_run.rs`, a `Nested` unit, and 30,000 pseudo-random short byte
//! strings (small byte values, so lengths and selectors often fit). Out: for every unit type,
//! every fixture prefix and every random string, `visit` succeeds exactly when `parse` does,
//! consumes the same bytes and otherwise fails with the identical `ParseError`; the values a
//! recording visitor sees equal the built struct's, in wire order.

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
use pac_runtime::{ErrorKind, ParseError, Reader};

/// The fixtures of `codegen_run.rs`: a hello, two alerts, an unknown and a change-cipher-spec
/// record.
const RECORDS: [&[u8]; 4] = [
    &[
        0x16, 0x03, 0x03, 0x00, 0x1b, 0x03, 0x03, 0x02, b'a', b'b', 0x00, 0x04, 0xc0, 0x2f, 0x00,
        0x01, 0x02, 0x01, 0x02, 0x03, 0x04, 0x04, 0x01, 0x02, b'x', b'y', 0x00, 0x04, 0x07, 0x01,
        b'z', 0x09,
    ],
    &[0x15, 0x03, 0x03, 0x00, 0x04, 0x01, 0x28, 0x02, 0x00],
    &[0x63, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb],
    &[0x14, 0x03, 0x03, 0x00, 0x00],
];

/// A `Nested`: header (kind 5, size 3), three items, three data bytes, three alerts.
const NESTED: &[u8] = &[5, 3, 1, 2, 3, b'a', b'b', b'c', 1, 0, 2, 40, 1, 1];

/// A visitor that looks at nothing.
struct NoOp;
impl Visitor<'_> for NoOp {}

type Outcome = (
    &'static str,
    Result<usize, ParseError>,
    Result<usize, ParseError>,
);

/// Runs `parse` and `visit` of one unit type with the same arguments.
macro_rules! both {
    ($out:ident, $b:expr, $ty:ident ( $($arg:expr),* )) => {{
        let b: &[u8] = $b;
        let parsed = $ty::parse(b, $($arg),*).map(|(_, rest)| b.len() - rest.len());
        let mut r = Reader::new(b);
        let visited = $ty::visit(&mut r, $($arg,)* &mut NoOp).map(|()| r.pos());
        $out.push((stringify!($ty), parsed, visited));
    }};
}

fn outcomes(b: &[u8]) -> Vec<Outcome> {
    let mut out = Vec::new();
    both!(out, b, Record());
    both!(out, b, Alert());
    both!(out, b, Hello(0));
    both!(out, b, Hello(0x0303));
    both!(out, b, Extensions());
    both!(out, b, Item());
    both!(out, b, Header());
    both!(out, b, Nested());
    both!(out, b, VarFrame());
    both!(out, b, VarCrypto());
    out
}

fn agree(what: &str, b: &[u8]) {
    for (unit, parsed, visited) in outcomes(b) {
        assert_eq!(
            parsed, visited,
            "{what} {b:02x?}: {unit}: parse (left) and visit (right) disagree"
        );
    }
}

#[test]
fn visit_agrees_with_parse_on_fixtures_and_prefixes() {
    for fixture in RECORDS.iter().chain([&NESTED]) {
        for n in 0..=fixture.len() {
            agree("prefix", &fixture[..n]);
        }
    }
    // The checks of `Nested` fail the same way.
    let mut empty_items = NESTED.to_vec();
    empty_items[1] = 0;
    let mut bad_alert = NESTED.to_vec();
    bad_alert[10] = 3;
    for b in [&empty_items, &bad_alert] {
        agree("mutant", b);
    }
    assert_eq!(
        Nested::visit(&mut Reader::new(&empty_items), &mut NoOp),
        Err(ParseError::new(
            "Nested.items",
            2,
            ErrorKind::Check("len(items) > 0")
        ))
    );
}

#[test]
fn visit_agrees_with_parse_on_random_bytes() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut accepted = 0;
    for _ in 0..30_000 {
        let len = (next() % 24) as usize;
        let b: Vec<u8> = (0..len)
            .map(|_| {
                let x = next();
                // Mostly small values, so that lengths, counts and selectors often fit.
                if x % 4 == 0 {
                    (x >> 8) as u8
                } else {
                    (x >> 8) as u8 % 8
                }
            })
            .collect();
        agree("random", &b);
        accepted += outcomes(&b).iter().filter(|o| o.1.is_ok()).count();
    }
    assert!(accepted > 1000, "only {accepted} accepted units");
}

/// What a recording visitor saw, in order.
#[derive(Debug, Default, PartialEq)]
struct Seen<'a> {
    kinds: Vec<u8>,
    items: Vec<u8>,
    data: Vec<&'a [u8]>,
    sources: Vec<&'a [u8]>,
    levels: Vec<u8>,
    totals: Vec<u64>,
    suites: Vec<Suite>,
    pairs: Vec<u16>,
    item_data: Vec<&'a [u8]>,
    flags: Vec<u8>,
    unknown: Vec<(ContentType, &'a [u8])>,
    record_sources: Vec<&'a [u8]>,
}

impl<'a> Visitor<'a> for Seen<'a> {
    fn header_kind(&mut self, v: u8) {
        self.kinds.push(v);
    }
    fn nested_items(&mut self, v: u8) {
        self.items.push(v);
    }
    fn nested_data(&mut self, v: &'a [u8]) {
        self.data.push(v);
    }
    fn nested_data_sourcedata(&mut self, v: &'a [u8]) {
        self.sources.push(v);
    }
    fn alert_level(&mut self, v: u8) {
        self.levels.push(v);
    }
    fn nested_total(&mut self, v: u64) {
        self.totals.push(v);
    }
    fn hello_suites(&mut self, v: Suite) {
        self.suites.push(v);
    }
    fn hello_pairs(&mut self, v: u16) {
        self.pairs.push(v);
    }
    fn item_data(&mut self, v: &'a [u8]) {
        self.item_data.push(v);
    }
    fn item_flags(&mut self, v: u8) {
        self.flags.push(v);
    }
    fn record_body_unknown(&mut self, tag: ContentType, body: &'a [u8]) {
        self.unknown.push((tag, body));
    }
    fn record_sourcedata(&mut self, v: &'a [u8]) {
        self.record_sources.push(v);
    }
}

#[test]
fn recording_visitor_sees_the_built_values() {
    let (n, _) = Nested::parse(NESTED).expect("Nested parses");
    let mut seen = Seen::default();
    assert_eq!(Nested::visit(&mut Reader::new(NESTED), &mut seen), Ok(()));
    assert_eq!(seen.kinds, [n.hdr.kind]);
    assert_eq!(seen.items, n.items.iter().collect::<Vec<_>>());
    assert_eq!(seen.data, [n.data]);
    assert_eq!(seen.sources, [n.data_sourcedata]);
    assert_eq!(
        seen.levels,
        n.pairs.iter().map(|a| a.level).collect::<Vec<_>>()
    );
    assert_eq!(seen.totals, [n.total]);
    assert_eq!(n.total, 8);

    for rec in RECORDS {
        let (built, _) = Record::parse(rec).expect("fixture parses");
        let mut seen = Seen::default();
        assert_eq!(Record::visit(&mut Reader::new(rec), &mut seen), Ok(()));
        assert_eq!(seen.record_sources, [built.sourcedata]);
        let mut want = Seen {
            record_sources: vec![built.sourcedata],
            ..Seen::default()
        };
        match built.body {
            RecordBody::Hello(h) => {
                want.suites = h.suites.iter().collect();
                want.pairs = h.pairs.iter().collect();
                for i in h
                    .names
                    .iter()
                    .chain(h.exts.iter().flat_map(|e| e.items.iter()))
                {
                    want.item_data.push(i.data);
                    want.flags.extend(i.flags);
                }
            }
            RecordBody::Alerts(a) => want.levels = a.iter().map(|a| a.level).collect(),
            RecordBody::Unknown { tag, body } => want.unknown.push((tag, body)),
            RecordBody::ChangeCipherSpec => {}
        }
        assert_eq!(seen, want, "{rec:02x?}");
    }
}
