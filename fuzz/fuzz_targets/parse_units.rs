//! Fuzz target `parse_units`: every top-level unit the spec generates, parsed, walked into
//! events and visited.
//!
//! In: `[selector][unit bytes...]`. The selector picks a unit family; parameterized units are
//! parsed under every parameter combination (handshake messages: `is_dtls` x `tls13` x
//! `has_sigalgs` x every key-exchange class; extension blocks: every handshake type), and each
//! successful parse is formatted with `Debug` and walked under several contexts, visiting every
//! event value. Record streams are parsed record after record and their fragments dispatched by
//! content type, as the analyzer does. Every parse is checked against the unit's one-pass
//! `visit` on the same bytes (same acceptance, length and error). Out: nothing; a panic,
//! overflow, hang or parse/visit disagreement is the finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pac_runtime::Reader;
use tls_analyzer_fuzz::{debug_into_sink, NullValues};
use tls_grammar::{
    AlertRecord, ApplicationData, ChangeCipherSpec, Context, DtlsHandshake, DtlsRecord,
    DtlsUnifiedHeader, Extension, Extensions, Handshake, HandshakeMessage, HandshakeType,
    Heartbeat, KeyExchangeClass, SSLv2Message, SSLv2Record, SSLv2RecordPadded, SslEvent, TlsRecord,
    Visitor,
};

/// A visitor that looks at nothing (the oracle compares outcomes, not values).
struct NoOp;
impl Visitor<'_> for NoOp {}

/// `Unit::parse(input, args..)`, with the one-pass `Unit::visit` on the same bytes and
/// arguments as an oracle: it must accept exactly what `parse` accepts, consume the same bytes
/// and fail with the same error (path, offset, kind). Evaluates to the parse result.
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

/// Every key-exchange class the spec names, plus one unnamed value.
const KEX_CLASSES: std::ops::RangeInclusive<u8> = 0..=23;

/// Handshake types whose extension blocks the spec distinguishes, plus an unknown one.
const EXTENSION_CONTEXTS: [u8; 9] = [1, 2, 4, 6, 8, 11, 13, 0, 200];

/// Contexts the walkers run under: both directions, flipped or not, before and after a TLS
/// 1.2 / 1.3 ServerHello, with the retired `ssl_server_curve` enabled.
fn contexts(record_version: u64) -> [Context<'static>; 4] {
    let ctx = |is_orig: bool, is_client: bool, version: u64| Context {
        is_orig,
        is_client,
        record_version,
        version,
        emit_server_curve: true,
        ..Context::default()
    };
    [
        ctx(true, true, 0),
        ctx(false, false, 0x0303),
        ctx(true, false, 0x0304),
        ctx(false, true, 0x7f1c),
    ]
}

/// Runs `walk` under every context and visits every event it raises.
fn walk_all<'a>(
    record_version: u64,
    walk: impl Fn(&Context<'static>, &mut dyn FnMut(SslEvent<'a>)),
) {
    let mut values = NullValues::default();
    for ctx in contexts(record_version) {
        walk(&ctx, &mut |ev: SslEvent<'a>| {
            let _ = ev.name();
            debug_into_sink(&ev);
            ev.visit(&mut values);
        });
    }
}

/// One handshake message (4-byte header included) under one parameter combination.
fn handshake(input: &[u8], is_dtls: bool, tls13: bool, has_sigalgs: bool, kex: u8) {
    if let Ok((hs, _)) = parse!(Handshake(
        input,
        is_dtls,
        tls13,
        has_sigalgs,
        KeyExchangeClass(kex)
    )) {
        debug_into_sink(&hs);
        walk_all(0x0303, |ctx, f| hs.walk(ctx, f));
    }
}

/// A handshake message under every parameter combination.
fn handshake_all_params(input: &[u8]) {
    for bits in 0u8..8 {
        for kex in KEX_CLASSES {
            handshake(input, bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, kex);
        }
    }
}

/// A handshake body of a given type and length (DTLS reassembled messages take this path).
fn handshake_body(msg_type: u8, input: &[u8], is_dtls: bool, params: u8) {
    let len = input.len() as u64;
    for kex in KEX_CLASSES {
        if let Ok((m, _)) = parse!(HandshakeMessage(
            input,
            HandshakeType(msg_type),
            len,
            is_dtls,
            params & 1 != 0,
            params & 2 != 0,
            KeyExchangeClass(kex),
        )) {
            debug_into_sink(&m);
            walk_all(0xfefd, |ctx, f| m.walk(ctx, f));
        }
    }
}

/// The contents of one plaintext record, dispatched on its content type.
fn record_content(content_type: u8, version: u64, body: &[u8], params: u8) {
    match content_type {
        20 => {
            if let Ok((ccs, _)) = parse!(ChangeCipherSpec(body)) {
                debug_into_sink(&ccs);
            }
        }
        21 => {
            if let Ok((alerts, _)) = parse!(AlertRecord(body)) {
                debug_into_sink(&alerts);
                walk_all(version, |ctx, f| alerts.walk(ctx, f));
            }
        }
        22 => {
            // Handshake messages back to back, under the parameters the selector byte chose.
            let mut rest = body;
            while !rest.is_empty() {
                match parse!(Handshake(
                    rest,
                    false,
                    params & 1 != 0,
                    params & 2 != 0,
                    KeyExchangeClass(params >> 3),
                )) {
                    Ok((hs, tail)) => {
                        debug_into_sink(&hs);
                        walk_all(version, |ctx, f| hs.walk(ctx, f));
                        if tail.len() >= rest.len() {
                            break;
                        }
                        rest = tail;
                    }
                    Err(e) => {
                        debug_into_sink(&e);
                        break;
                    }
                }
            }
        }
        23 => {
            if let Ok((data, _)) = parse!(ApplicationData(body)) {
                debug_into_sink(&data);
            }
        }
        24 => {
            if let Ok((hb, _)) = parse!(Heartbeat(body)) {
                debug_into_sink(&hb);
                walk_all(version, |ctx, f| hb.walk(ctx, f));
            }
        }
        _ => {}
    }
}

/// TLS records back to back, each fragment dispatched.
fn tls_records(input: &[u8], params: u8) {
    let mut rest = input;
    while let Ok((rec, tail)) = parse!(TlsRecord(rest)) {
        debug_into_sink(&rec);
        record_content(
            rec.content_type.0,
            u64::from(rec.version.0),
            rec.fragment,
            params,
        );
        if tail.len() >= rest.len() {
            break;
        }
        rest = tail;
    }
}

/// DTLS records back to back (classic 13-byte headers or DTLS 1.3 unified headers); whole
/// handshake fragments are parsed as messages.
fn dtls_records(input: &[u8], params: u8) {
    let mut rest = input;
    while let Some(&first) = rest.first() {
        if first & 0xe0 == 0x20 {
            // DTLS 1.3 unified header; its connection id length is connection state.
            match parse!(DtlsUnifiedHeader(rest, u64::from(params & 0x1f))) {
                Ok((h, tail)) if tail.len() < rest.len() => {
                    debug_into_sink(&h);
                    rest = tail;
                    continue;
                }
                _ => break,
            }
        }
        let Ok((rec, tail)) = parse!(DtlsRecord(rest)) else {
            break;
        };
        debug_into_sink(&rec);
        if rec.content_type.0 == 22 {
            let mut frags = rec.fragment;
            while let Ok((frag, more)) = parse!(DtlsHandshake(frags)) {
                debug_into_sink(&frag);
                if frag.fragment_offset == 0 && frag.fragment_length == frag.length {
                    handshake_body(frag.msg_type.0, frag.fragment, true, params);
                }
                if more.len() >= frags.len() {
                    break;
                }
                frags = more;
            }
        } else {
            record_content(
                rec.content_type.0,
                u64::from(rec.version.0),
                rec.fragment,
                params,
            );
        }
        if tail.len() >= rest.len() {
            break;
        }
        rest = tail;
    }
}

/// SSLv2 records (with and without padding) and bare SSLv2 messages.
fn sslv2(input: &[u8]) {
    if let Ok((rec, _)) = parse!(SSLv2Record(input)) {
        debug_into_sink(&rec);
        walk_all(0, |ctx, f| rec.walk(ctx, f));
    }
    if let Ok((rec, _)) = parse!(SSLv2RecordPadded(input)) {
        debug_into_sink(&rec);
        walk_all(0, |ctx, f| rec.walk(ctx, f));
    }
    if let Ok((msg, _)) = parse!(SSLv2Message(input)) {
        debug_into_sink(&msg);
        walk_all(0, |ctx, f| msg.walk(ctx, f));
    }
}

/// An extension block and a single extension, in every handshake-message context.
fn extensions(input: &[u8]) {
    for msg in EXTENSION_CONTEXTS {
        if let Ok((exts, _)) = parse!(Extensions(input, HandshakeType(msg))) {
            debug_into_sink(&exts);
            walk_all(0x0303, |ctx, f| exts.walk(ctx, f));
        }
        if let Ok((ext, _)) = parse!(Extension(input, HandshakeType(msg))) {
            debug_into_sink(&ext);
            walk_all(0x0303, |ctx, f| ext.walk(ctx, f));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    match selector % 6 {
        0 => tls_records(input, selector),
        1 => dtls_records(input, selector),
        2 => sslv2(input),
        3 => handshake_all_params(input),
        4 => {
            if let Some((&msg_type, body)) = input.split_first() {
                handshake_body(msg_type, body, selector & 8 != 0, selector >> 4);
            }
        }
        _ => extensions(input),
    }
});
