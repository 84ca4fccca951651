//! Event writers: fixed inputs give fixed lines, and every event line a real Zeek wrote
//! (`conformance/zeek-live/**/*.events.json`) is reproduced byte for byte when its values are
//! decoded and written again through [`JsonEventWriter`] (the one known exception: rapidjson
//! sometimes prints a timestamp with one digit more than the shortest form; such lines must still
//! parse to the same value). The corpus is read from `../shared/conformance` (or
//! `$ZEEK_CONFORMANCE_DIR`); when it is missing that test is ignored (probed at build time).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use pac_runtime::ValueSink;
use serde_json::Value;
use tls_analyzer::output::{
    ConnId, EventLines, JsonEventWriter, TextEventWriter, ANALYZER_DTLS, ANALYZER_SSL,
};

#[path = "../../tests/src/require.rs"]
mod require;

fn id4() -> ConnId {
    ConnId {
        orig_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 80)),
        orig_p: 56637,
        resp_h: IpAddr::V4(Ipv4Addr::new(68, 233, 76, 12)),
        resp_p: 443,
    }
}

fn sample_event(s: &mut dyn ValueSink) {
    s.field("is_client");
    s.boolean(true);
    s.field("code");
    s.count(10);
    s.field("val");
    s.string(b"\x002\x00\x0e\x00\r\"\\");
    s.field("possible_ts");
    s.time(1357328848.0);
    s.field("signature_algorithms");
    s.begin_vector();
    for (h, a) in [(6u64, 1u64), (4, 3)] {
        s.begin_record("SignatureAndHashAlgorithm");
        s.field("HashAlgorithm");
        s.count(h);
        s.field("SignatureAlgorithm");
        s.count(a);
        s.end_record();
    }
    s.end_vector();
    s.field("empty");
    s.begin_vector();
    s.end_vector();
    s.field("names");
    s.begin_vector();
    s.string(b"a");
    s.string(b"b");
    s.end_vector();
}

#[test]
fn json_line_for_fixed_input() {
    let mut w = JsonEventWriter::new();
    w.event(
        1357328848.54937,
        "Cp02TY3r6HRtlFYRK2",
        &id4(),
        "ssl_x",
        sample_event,
    );
    let line = String::from_utf8(w.buffer().to_vec()).expect("utf8");
    assert_eq!(
        line,
        concat!(
            r#"{"ts":1357328848.54937,"uid":"Cp02TY3r6HRtlFYRK2","id":{"orig_h":"10.0.0.80","orig_p":56637,"resp_h":"68.233.76.12","resp_p":443},"#,
            r#""event":"ssl_x","args":{"is_client":true,"code":10,"val":"\\x002\\x00\\x0e\\x00\r\"\\","possible_ts":1357328848.0,"#,
            r#""signature_algorithms":[{"HashAlgorithm":6,"SignatureAlgorithm":1},{"HashAlgorithm":4,"SignatureAlgorithm":3}],"#,
            r#""empty":[],"names":["a","b"]}}"#,
            "\n"
        )
    );
    let v: Value = serde_json::from_str(&line).expect("valid JSON");
    assert_eq!(v["args"]["val"], "\\x002\\x00\\x0e\\x00\r\"\\");
    assert_eq!(
        v["args"]["signature_algorithms"][1]["SignatureAlgorithm"],
        3
    );
}

#[test]
fn weird_and_violation_lines() {
    let id = ConnId {
        orig_h: IpAddr::V6(Ipv6Addr::LOCALHOST),
        orig_p: 1,
        resp_h: IpAddr::V6(Ipv6Addr::new(0xfd42, 0, 0, 0, 0, 0, 0, 1)),
        resp_p: 2,
    };
    let mut w = JsonEventWriter::new();
    w.conn_weird(1.5, "C1", &id, "SSL_many_server_names", b"[a, b]", "SSL");
    w.analyzer_violation(
        2.0,
        "C1",
        &id,
        ANALYZER_SSL,
        b"Invalid version late in TLS connection. Packet reported version: 0",
    );
    let text = String::from_utf8(w.buffer().to_vec()).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        r#"{"ts":1.5,"uid":"C1","id":{"orig_h":"::1","orig_p":1,"resp_h":"fd42::1","resp_p":2},"event":"conn_weird","args":{"name":"SSL_many_server_names","addl":"[a, b]","source":"SSL"}}"#
    );
    assert_eq!(
        lines[1],
        r#"{"ts":2.0,"uid":"C1","id":{"orig_h":"::1","orig_p":1,"resp_h":"fd42::1","resp_p":2},"event":"analyzer_violation_info","args":{"atype":"Analyzer::ANALYZER_SSL","reason":"Invalid version late in TLS connection. Packet reported version: 0"}}"#
    );
    let mut out = Vec::new();
    w.flush_to(&mut out).expect("flush");
    assert!(w.buffer().is_empty());
    assert_eq!(out.len(), text.len());
}

#[test]
fn confirmation_and_disabled_lines() {
    let mut w = JsonEventWriter::new();
    w.analyzer_confirmation(1.25, "C1", &id4(), ANALYZER_SSL);
    w.analyzer_disabled(3.0, "C1", &id4(), ANALYZER_DTLS);
    let text = String::from_utf8(w.buffer().to_vec()).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"ts":1.25,"uid":"C1","id":{"orig_h":"10.0.0.80","orig_p":56637,"resp_h":"68.233.76.12","resp_p":443},"event":"analyzer_confirmation_info","args":{"atype":"Analyzer::ANALYZER_SSL"}}"#,
            r#"{"ts":3.0,"uid":"C1","id":{"orig_h":"10.0.0.80","orig_p":56637,"resp_h":"68.233.76.12","resp_p":443},"event":"analyzer_disabled","args":{"atype":"Analyzer::ANALYZER_DTLS"}}"#,
        ]
    );
    let mut t = TextEventWriter::new();
    t.analyzer_confirmation(1.25, "C1", &id4(), ANALYZER_SSL);
    t.analyzer_disabled(3.0, "C1", &id4(), ANALYZER_DTLS);
    assert_eq!(
        String::from_utf8(t.buffer().to_vec()).expect("utf8"),
        "1.250000 C1 analyzer_confirmation_info atype=\"Analyzer::ANALYZER_SSL\"\n\
         3.000000 C1 analyzer_disabled atype=\"Analyzer::ANALYZER_DTLS\"\n"
    );
}

#[test]
fn text_line_for_fixed_input() {
    let mut w = TextEventWriter::new();
    w.event(
        1357328848.54937,
        "Cp02TY3r6HRtlFYRK2",
        &id4(),
        "ssl_x",
        sample_event,
    );
    let line = String::from_utf8(w.buffer().to_vec()).expect("utf8");
    assert_eq!(
        line,
        "1357328848.549370 Cp02TY3r6HRtlFYRK2 ssl_x is_client=T code=10 \
         val=\"\\x002\\x00\\x0e\\x00\\x0d\\\"\\\\\" possible_ts=1357328848.000000 \
         signature_algorithms=[{HashAlgorithm=6,SignatureAlgorithm=1},{HashAlgorithm=4,SignatureAlgorithm=3}] \
         empty=[] names=[\"a\",\"b\"]\n"
    );
}

/// Decodes a Zeek-rendered byte string (`\xNN` for non-printable bytes) back to bytes.
fn zeek_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 2..i + 4], 16) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A JSON value that keeps object keys in file order (serde_json's `Value` sorts them here).
enum Ordered {
    Bool(bool),
    Count(u64),
    Double(f64),
    Str(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
    Null,
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Ordered, E> {
                Ok(Ordered::Bool(b))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Ordered, E> {
                Ok(Ordered::Count(n))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Ordered, E> {
                Ok(Ordered::Double(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Ordered, E> {
                Ok(Ordered::Double(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Ordered, E> {
                Ok(Ordered::Str(s.to_owned()))
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = a.next_element()? {
                    v.push(e);
                }
                Ok(Ordered::Array(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some((k, e)) = a.next_entry()? {
                    v.push((k, e));
                }
                Ok(Ordered::Object(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reports a parsed JSON value to a sink the way the generated visitors would.
fn visit(v: &Ordered, s: &mut dyn ValueSink) {
    match v {
        Ordered::Bool(b) => s.boolean(*b),
        Ordered::Count(c) => s.count(*c),
        Ordered::Double(d) => s.time(*d),
        Ordered::Str(t) => s.string(&zeek_bytes(t)),
        Ordered::Array(a) => {
            s.begin_vector();
            for e in a {
                visit(e, s);
            }
            s.end_vector();
        }
        Ordered::Object(o) => {
            s.begin_record("record");
            for (k, e) in o {
                s.field(Box::leak(k.clone().into_boxed_str()));
                visit(e, s);
            }
            s.end_record();
        }
        Ordered::Null => {}
    }
}

fn files_with_suffix(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_with_suffix(&p, suffix, out);
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
}

fn conn_id(v: &Value) -> ConnId {
    let addr = |k: &str| -> IpAddr { v[k].as_str().and_then(|s| s.parse().ok()).expect("addr") };
    let port = |k: &str| -> u16 {
        v[k].as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .expect("port")
    };
    ConnId {
        orig_h: addr("orig_h"),
        orig_p: port("orig_p"),
        resp_h: addr("resp_h"),
        resp_p: port("resp_p"),
    }
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn zeek_live_event_lines_are_reproduced() {
    let dir = std::env::var_os("ZEEK_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"))
        .join("zeek-live");
    if !dir.is_dir() {
        require::skip_or_fail(
            "conformance",
            &format!("event line format against {}", dir.display()),
        );
        return;
    }
    let mut files = Vec::new();
    files_with_suffix(&dir, ".events.json", &mut files);
    files.sort();
    let (mut lines_seen, mut ts_form_only, mut bad) = (0usize, 0usize, Vec::new());
    let mut w = JsonEventWriter::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            lines_seen += 1;
            // Preserve the key order of the args as written by Zeek.
            let v: Value = serde_json::from_str(line).expect("json");
            let Ordered::Object(full) = serde_json::from_str::<Ordered>(line).expect("json") else {
                panic!("event line is an object");
            };
            let Some((_, Ordered::Object(args))) = full.iter().find(|(k, _)| k == "args") else {
                panic!("args object");
            };
            w.clear();
            w.begin_event(
                v["ts"].as_f64().expect("ts"),
                v["uid"].as_str().expect("uid"),
                &conn_id(&v["id"]),
                v["event"].as_str().expect("event"),
            );
            for (k, a) in args {
                w.field(Box::leak(k.clone().into_boxed_str()));
                visit(a, &mut w);
            }
            w.end_event();
            let got = std::str::from_utf8(w.buffer()).expect("utf8").trim_end();
            if got == line {
                continue;
            }
            let reparsed: Value = serde_json::from_str(got).expect("our line is JSON");
            let ts_field = |s: &str| s.split_once(",\"uid\"").map(|(_, rest)| rest.to_owned());
            if reparsed == v && ts_field(got) == ts_field(line) {
                ts_form_only += 1;
            } else {
                bad.push(format!("{}:\n  got  {got}\n  want {line}", f.display()));
            }
        }
    }
    eprintln!("{lines_seen} lines, {ts_form_only} differ only in the digits of an equal ts");
    assert!(lines_seen > 1000, "corpus too small: {lines_seen}");
    assert!(
        ts_form_only * 100 < lines_seen,
        "ts form differences should be rare"
    );
    assert!(
        bad.is_empty(),
        "{} lines differ:\n{}",
        bad.len(),
        bad.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}
