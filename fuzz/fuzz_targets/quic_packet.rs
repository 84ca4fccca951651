//! Fuzz target `quic_packet`: the QUIC units of `grammar/quic.pac` on arbitrary bytes.
//!
//! In: `[dcid_len][bytes...]`. The bytes are parsed as a long header (`QuicLongHeader`; whatever
//! follows its unprotected part is parsed again as a long header, as coalesced packets are), as a
//! short header with an 8-byte connection id and with `dcid_len` (`QuicShortHeader`), and as a
//! decrypted payload (`QuicFrames`). Each parse is checked against the unit's one-pass `visit`
//! on the same bytes (same acceptance, length and error); each success is formatted with `Debug`
//! and walked into events under a context that carries the header's values (as the analyzer
//! walks them), visiting every event value. Out: nothing; a panic, overflow, hang or
//! parse/visit disagreement is the finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pac_runtime::Reader;
use tls_analyzer_fuzz::{debug_into_sink, NullValues};
use tls_grammar::{Context, QuicFrames, QuicLongHeader, QuicShortHeader, SslEvent, Visitor};

/// A visitor that looks at nothing (the oracle compares outcomes, not values).
struct NoOp;
impl Visitor<'_> for NoOp {}

/// `Unit::parse(input, args..)` checked against `Unit::visit` on the same bytes and arguments
/// (see the same macro in parse_units.rs). Evaluates to the parse result.
macro_rules! parse {
    ($unit:ident ( $input:expr $(, $arg:expr)* $(,)? )) => {{
        let input: &[u8] = $input;
        let parsed = $unit::parse(input $(, $arg)*);
        let mut r = Reader::new(input);
        let visited = $unit::visit(&mut r $(, $arg)*, &mut NoOp);
        match (&parsed, &visited) {
            (Ok((_, rest)), Ok(())) => assert_eq!(
                rest.len(),
                r.remaining(),
                "{}: parse and visit consumed different lengths",
                stringify!($unit)
            ),
            (Err(p), Err(v)) => assert_eq!(p, v, "{}: different errors", stringify!($unit)),
            (p, v) => panic!(
                "{}: parse {:?} but visit {:?}",
                stringify!($unit),
                p.as_ref().map(|_| ()),
                v
            ),
        }
        parsed
    }};
}

/// Walks a unit into events under `ctx` and visits every value of every event.
fn walk_all<'a>(ctx: &Context<'a>, walk: impl Fn(&Context<'a>, &mut dyn FnMut(SslEvent<'a>))) {
    let mut values = NullValues::default();
    walk(ctx, &mut |ev: SslEvent<'a>| {
        let _ = ev.name();
        debug_into_sink(&ev);
        ev.visit(&mut values);
    });
}

/// At most this many coalesced long headers per input (each consumes at least 7 bytes, so the
/// loop ends anyway; the cap keeps one input cheap).
const MAX_COALESCED: usize = 16;

fuzz_target!(|data: &[u8]| {
    let Some((&dcid_len, bytes)) = data.split_first() else {
        return;
    };
    // Long headers, one after another as in a datagram of coalesced packets. Protected bytes
    // after an Initial/0-RTT/Handshake header are skipped by its Length, as the analyzer does.
    let mut rest = bytes;
    for _ in 0..MAX_COALESCED {
        let Ok((h, after)) = parse!(QuicLongHeader(rest)) else {
            break;
        };
        debug_into_sink(&h);
        let ctx = Context {
            is_orig: h.version & 1 == 0,
            quic_version: u64::from(h.version),
            quic_dcid: h.dcid,
            quic_scid: h.scid,
            ..Context::default()
        };
        walk_all(&ctx, |c, f| h.walk(c, f));
        let protected = match h.body {
            tls_grammar::QuicLongHeaderBody::Initial(i) => i.length,
            tls_grammar::QuicLongHeaderBody::ZeroRtt(l)
            | tls_grammar::QuicLongHeaderBody::Handshake(l) => l.length,
            _ => break,
        };
        let skip = usize::try_from(protected).unwrap_or(usize::MAX);
        let Some(next) = after.get(skip..) else {
            break;
        };
        if next.is_empty() {
            break;
        }
        rest = next;
    }
    // Short headers: the connection id length an analyzer most often knows, and the input's.
    for len in [8u64, u64::from(dcid_len)] {
        if let Ok((h, _)) = parse!(QuicShortHeader(bytes, len)) {
            debug_into_sink(&h);
            let ctx = Context {
                quic_short_header_threshold: len,
                ..Context::default()
            };
            walk_all(&ctx, |c, f| h.walk(c, f));
        }
    }
    // A decrypted payload: the frames, with the CONNECTION_CLOSE event's context values.
    if let Ok((frames, _)) = parse!(QuicFrames(bytes)) {
        debug_into_sink(&frames);
        let ctx = Context {
            quic_version: 1,
            quic_dcid: bytes.get(..8).unwrap_or(&[]),
            quic_scid: bytes.get(8..16).unwrap_or(&[]),
            ..Context::default()
        };
        walk_all(&ctx, |c, f| frames.walk(c, f));
    }
});
