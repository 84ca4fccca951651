//! Round trip of every hex fixture: `encode(parse(bytes)) == bytes` through the generated
//! encoders, for the unit the fixture is parsed as and for the units inside it (a record's
//! alerts, heartbeat and handshake fragments, a DTLS fragment's message), and the same through
//! the owned value (`parse(bytes).owned().encode(..)`).
//!
//! In: `tests/fixtures/*/*.hex` (the set `wire_fixtures.rs` snapshots). Out: a failure names
//! the fixture, the spec type and the first differing byte.

use pac_tests::fixtures::{load_all, Fixture};
use pac_tests::roundtrip::same;
use tls_grammar::{
    AlertRecord, ChangeCipherSpec, ContentType, DtlsHandshake, DtlsRecord, DtlsUnifiedHeader,
    Extension, Handshake, HandshakeMessage, HandshakeType, Heartbeat, SSLv2Record, TlsRecord,
};

/// Re-encodes `bytes` as the fixture's unit (and the units inside it); returns how many units
/// were compared, or the first difference.
fn round_trip(f: &Fixture) -> Result<usize, String> {
    let bytes = f.bytes.as_slice();
    let kind = match f.dir.as_str() {
        "handshake" | "rfc8448" => "Handshake",
        "dtls" => "DtlsHandshake",
        "records" if f.num("record_version") >= 0xfe00 => "DtlsRecord",
        "records" => "TlsRecord",
        _ => f.param("parse"),
    };
    let err = |e: pac_runtime::ParseError| format!("parse: {e:?}");
    let mut n = 0;
    match kind {
        "Handshake" => {
            let (m, _) =
                Handshake::parse(bytes, false, f.tls13(), f.has_sigalgs(), f.kex()).map_err(err)?;
            same("Handshake", bytes, |o| m.encode(o))?;
            let owned = m.owned();
            same("HandshakeOwned", bytes, |o| {
                owned.encode(o, false, f.tls13(), f.has_sigalgs(), f.kex())
            })?;
            n += 2;
        }
        "DtlsHandshake" => {
            let (frag, _) = DtlsHandshake::parse(bytes).map_err(err)?;
            same("DtlsHandshake", bytes, |o| frag.encode(o))?;
            n += 1;
            if frag.fragment_offset == 0 && frag.fragment_length == frag.length {
                let (m, _) = HandshakeMessage::parse(
                    frag.fragment,
                    frag.msg_type,
                    u64::from(frag.length),
                    true,
                    f.tls13(),
                    f.has_sigalgs(),
                    f.kex(),
                )
                .map_err(err)?;
                same("HandshakeMessage", frag.fragment, |o| m.encode(o))?;
                n += 1;
            }
        }
        "DtlsRecord" => {
            let (rec, _) = DtlsRecord::parse(bytes).map_err(err)?;
            same("DtlsRecord", bytes, |o| rec.encode(o))?;
            n += 1;
            if rec.content_type == ContentType::handshake {
                let mut body = rec.fragment;
                while !body.is_empty() {
                    let (frag, more) = DtlsHandshake::parse(body).map_err(err)?;
                    let used = &body[..body.len() - more.len()];
                    same("DtlsHandshake", used, |o| frag.encode(o))?;
                    n += 1;
                    body = more;
                }
            }
        }
        "TlsRecord" => {
            let (rec, _) = TlsRecord::parse(bytes).map_err(err)?;
            same("TlsRecord", bytes, |o| rec.encode(o))?;
            n += 1;
            let c = rec.fragment;
            match rec.content_type {
                ContentType::alert => {
                    let (a, _) = AlertRecord::parse(c).map_err(err)?;
                    same("AlertRecord", c, |o| a.encode(o))?;
                }
                ContentType::change_cipher_spec => {
                    let (x, _) = ChangeCipherSpec::parse(c).map_err(err)?;
                    same("ChangeCipherSpec", c, |o| x.encode(o))?;
                }
                ContentType::heartbeat => {
                    let (h, _) = Heartbeat::parse(c).map_err(err)?;
                    same("Heartbeat", c, |o| h.encode(o))?;
                }
                other => return Err(format!("no content parser for {other:?}")),
            }
            n += 1;
        }
        "SSLv2Record" => {
            let (rec, _) = SSLv2Record::parse(bytes).map_err(err)?;
            same("SSLv2Record", bytes, |o| rec.encode(o))?;
            n += 1;
        }
        "DtlsUnifiedHeader" => {
            let (h, _) = DtlsUnifiedHeader::parse(bytes, f.num("cid_length")).map_err(err)?;
            same("DtlsUnifiedHeader", bytes, |o| h.encode(o))?;
            n += 1;
        }
        "Extension" => {
            let msg = HandshakeType::from_name(f.param("msg"))
                .ok_or_else(|| format!("unknown msg {}", f.param("msg")))?;
            let (x, _) = Extension::parse(bytes, msg).map_err(err)?;
            same("Extension", bytes, |o| x.encode(o))?;
            let owned = x.owned();
            same("ExtensionOwned", bytes, |o| owned.encode(o, msg))?;
            n += 2;
        }
        other => return Err(format!("no parser named {other:?}")),
    }
    Ok(n)
}

#[test]
fn every_fixture_re_encodes_to_its_bytes() {
    let all = load_all();
    assert!(
        all.len() >= 60,
        "expected the fixture set, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    let mut units = 0;
    for f in &all {
        match round_trip(f) {
            Ok(n) => units += n,
            Err(e) => failures.push(format!("{} ({}): {e}", f.name, f.title)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!(
        "{} fixtures, {units} units re-encoded byte for byte",
        all.len()
    );
    assert!(units >= all.len());
}
