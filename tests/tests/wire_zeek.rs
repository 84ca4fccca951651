//! Our extension glue against what a real Zeek raised, extension by extension.
//!
//! In: the complete event streams Zeek 8.2.2 wrote for its own test captures
//! (`<shared>/conformance/zeek-live/**/*.events.json`, see that directory's README). Every
//! `ssl_extension` event carries the extension's code and raw body, so the extension can be
//! rebuilt byte for byte, parsed by the generated `Extension` parser and walked. Out: the
//! assertion that our walker raises exactly what Zeek raised for it — the specific event(s) with
//! the same argument names and values, then `ssl_extension` — apart from the events Zeek 8.2.2
//! never raises (see `extension_events_match_zeek_live`). This checks the glue's semantics
//! (names, value forms, order) on real traffic without needing the analyzer.

use pac_runtime::ValueSink;
use serde_json::{Map, Number, Value};
use std::path::{Path, PathBuf};
use tls_grammar::{Context, Extension, HandshakeType};

/// Builds Zeek's JSON rendering of an event's arguments: counts and times as numbers, strings
/// with bytes outside printable ASCII as `\xNN` (except the few control bytes JSON escapes
/// itself), vectors as arrays, records as objects.
#[derive(Default)]
struct JsonArgs {
    args: Map<String, Value>,
    /// Open vectors and records, with the field name each was opened under.
    stack: Vec<(Option<String>, Value)>,
    /// The name the next value goes under.
    pending: Option<String>,
}

impl JsonArgs {
    fn put(&mut self, v: Value) {
        let name = self.pending.take();
        match self.stack.last_mut() {
            None => {
                self.args.insert(name.unwrap_or_default(), v);
            }
            Some((_, Value::Array(a))) => a.push(v),
            Some((_, Value::Object(o))) => {
                o.insert(name.unwrap_or_default(), v);
            }
            Some(_) => unreachable!("only arrays and objects are pushed"),
        }
    }
    fn close(&mut self) {
        if let Some((name, v)) = self.stack.pop() {
            self.pending = name;
            self.put(v);
        }
    }
}

/// Zeek's escaping of a byte string in its JSON output.
fn zeek_string(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            0x20..=0x7e | 8 | 9 | 10 | 12 | 13 => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

impl ValueSink for JsonArgs {
    fn field(&mut self, name: &'static str) {
        self.pending = Some(name.to_string());
    }
    fn count(&mut self, v: u64) {
        self.put(Value::from(v));
    }
    fn int(&mut self, v: i64) {
        self.put(Value::from(v));
    }
    fn double(&mut self, v: f64) {
        self.put(Number::from_f64(v).map_or(Value::Null, Value::Number));
    }
    fn boolean(&mut self, v: bool) {
        self.put(Value::from(v));
    }
    fn string(&mut self, v: &[u8]) {
        self.put(Value::from(zeek_string(v)));
    }
    fn time(&mut self, secs: f64) {
        self.double(secs);
    }
    fn begin_vector(&mut self) {
        let name = self.pending.take();
        self.stack.push((name, Value::Array(Vec::new())));
    }
    fn end_vector(&mut self) {
        self.close();
    }
    fn begin_record(&mut self, _type_name: &'static str) {
        let name = self.pending.take();
        self.stack.push((name, Value::Object(Map::new())));
    }
    fn end_record(&mut self) {
        self.close();
    }
}

/// Reverses Zeek's string escaping: `\xNN` is one byte, every other character its own byte.
/// (A literal backslash byte followed by `x` and two hex digits would be misread; Zeek does
/// not escape backslashes, so the rendering is ambiguous there and so is this.)
fn zeek_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 2..i + 4])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
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

fn live_dir() -> PathBuf {
    pac_tests::conformance::corpus::default_location().join("zeek-live")
}

fn event_files(dir: &Path, out: &mut Vec<PathBuf>) {
    pac_tests::conformance::corpus::list_files_ending(dir, ".events.json", out);
}

/// One event of Zeek's stream: connection, name, arguments.
struct ZeekEvent {
    uid: String,
    name: String,
    args: Map<String, Value>,
}

fn read_events(path: &Path) -> Vec<ZeekEvent> {
    let text = std::fs::read_to_string(path).expect("readable events file");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON object per line");
            ZeekEvent {
                uid: v["uid"].as_str().unwrap_or_default().to_string(),
                name: v["event"].as_str().unwrap_or_default().to_string(),
                args: v["args"].as_object().cloned().unwrap_or_default(),
            }
        })
        .collect()
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn extension_events_match_zeek_live() {
    let dir = live_dir();
    if !dir.is_dir() {
        pac_tests::require::skip_or_fail(
            "conformance",
            &format!(
                "comparison of our extension events with Zeek's ({})",
                dir.display()
            ),
        );
        return;
    }
    let mut files = Vec::new();
    event_files(&dir, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no *.events.json under {}",
        dir.display()
    );

    let mut compared = 0usize;
    // Events the corpus never contains cannot be judged by it: the Zeek that wrote it predates
    // ssl_extension_signature_algorithms_cert and ssl_extension_encrypted_client_hello (its
    // README says so), and events of our own have no Zeek counterpart. They are left out of the
    // comparison and counted; every other event must match in presence, order and arguments.
    let mut known = std::collections::BTreeSet::new();
    for file in &files {
        known.extend(read_events(file).into_iter().map(|e| e.name));
    }
    let mut unjudged: std::collections::BTreeMap<String, usize> = Default::default();
    let mut specific = 0usize;
    let mut failures = Vec::new();
    for file in &files {
        let events = read_events(file);
        for (i, ev) in events.iter().enumerate() {
            if ev.name != "ssl_extension" {
                continue;
            }
            // Zeek's specific events for this extension: those just before it on the same
            // connection, back to the previous ssl_extension or any other event.
            let mut expected: Vec<(String, Map<String, Value>)> = events[..i]
                .iter()
                .rev()
                .filter(|e| e.uid == ev.uid)
                .take_while(|e| e.name.starts_with("ssl_extension_"))
                .map(|e| (e.name.clone(), e.args.clone()))
                .collect();
            expected.reverse();
            expected.push((ev.name.clone(), ev.args.clone()));

            let code = ev.args["code"].as_u64().expect("code is a count");
            let is_client = ev.args["is_client"].as_bool().expect("is_client is a bool");
            let val = zeek_bytes(ev.args["val"].as_str().expect("val is a string"));
            let mut bytes = u16::try_from(code)
                .expect("16-bit code")
                .to_be_bytes()
                .to_vec();
            bytes.extend_from_slice(&u16::try_from(val.len()).expect("short").to_be_bytes());
            bytes.extend_from_slice(&val);
            // In clear, a client's extensions are in its ClientHello, a server's in its
            // ServerHello (TLS 1.3 HelloRetryRequests included).
            let msg = if is_client {
                HandshakeType::client_hello
            } else {
                HandshakeType::server_hello
            };
            let where_ = format!("{}: uid {} code {code}", file.display(), ev.uid);
            let x = match Extension::parse(&bytes, msg) {
                Ok((x, [])) => x,
                Ok((_, rest)) => {
                    failures.push(format!("{where_}: {} bytes left", rest.len()));
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{where_}: {e:?}"));
                    continue;
                }
            };
            let ctx = Context {
                is_orig: is_client,
                is_client,
                ..Context::default()
            };
            let mut ours = Vec::new();
            x.walk(&ctx, &mut |e| {
                let mut j = JsonArgs::default();
                e.visit(&mut j);
                ours.push((e.name().to_string(), j.args));
            });
            ours.retain(|(n, _)| {
                let judged = known.contains(n);
                if !judged {
                    *unjudged.entry(n.clone()).or_default() += 1;
                }
                judged
            });
            if ours != expected {
                failures.push(format!("{where_}:\n  zeek: {expected:?}\n  ours: {ours:?}"));
            }
            compared += 1;
            specific += expected.len() - 1;
        }
    }
    eprintln!(
        "compared {compared} extensions and {specific} specific events with Zeek's \
         (left out, as the corpus has none: {unjudged:?})"
    );
    assert!(compared > 500, "only {compared} extensions compared");
    assert!(specific > 300, "only {specific} specific events compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} extensions differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn zeek_string_escaping_round_trips() {
    let bytes: Vec<u8> = (0..=255).collect();
    assert_eq!(zeek_bytes(&zeek_string(&bytes)), bytes);
}
