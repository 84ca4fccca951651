//! Wire tests: every hex fixture of `tests/fixtures/` through the generated parsers and walkers.
//!
//! In: the fixtures (`handshake/`, `dtls/`, `records/` cut from our captures by
//! `tests/fixtures/extract.py`; `rfc8448/` from RFC 8448; `crafted/` built by
//! `tests/tests/crafted_fixtures.rs` from the encoders), each a `# title` line, a `# params:` line and hex.
//! Out: one snapshot per fixture holding the parse (the generated `Debug`, with byte
//! strings shown as hex) and the events the walker raises (`name(arg=value, ...)`), plus the
//! property that every strict prefix of a fixture is a parse error, never a panic.

use pac_runtime::{ParseError, ValueSink};
use pac_tests::snapshot_failures::SnapshotFailures;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tls_grammar::{
    AlertRecord, ChangeCipherSpec, CipherSuite, ContentType, Context, DtlsHandshake, DtlsRecord,
    DtlsUnifiedHeader, Extension, Handshake, HandshakeMessage, HandshakeType, Heartbeat,
    KeyExchangeClass, SSLv2Record, SslEvent, TlsRecord,
};

/// One fixture file.
struct Fixture {
    /// `<dir>/<file stem>`, which also names the snapshot.
    name: String,
    /// The directory, which says how the bytes are framed.
    dir: String,
    /// The first comment line.
    title: String,
    /// The `# params:` line as key/value pairs.
    params: BTreeMap<String, String>,
    /// The decoded hex.
    bytes: Vec<u8>,
}

impl Fixture {
    fn param(&self, key: &str) -> &str {
        self.params.get(key).map(String::as_str).unwrap_or("")
    }

    /// A numeric parameter (`0x` hex or decimal); missing means 0.
    fn num(&self, key: &str) -> u64 {
        let v = self.param(key);
        match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None if v.is_empty() => Ok(0),
            None => v.parse(),
        }
        .unwrap_or_else(|e| panic!("{}: bad {key}={v}: {e}", self.name))
    }

    /// The negotiated version and cipher decide the layouts that depend on the connection,
    /// as they will in the analyzer.
    fn tls13(&self) -> bool {
        self.num("version") == 0x0304
    }

    fn has_sigalgs(&self) -> bool {
        matches!(self.num("version"), 0x0303 | 0x0304 | 0xfefd | 0xfefc)
    }

    fn kex(&self) -> KeyExchangeClass {
        let cipher = u16::try_from(self.num("cipher")).expect("cipher fits 16 bits");
        CipherSuite(cipher).key_exchange()
    }

    fn context(&self) -> Context<'static> {
        let client = self.param("side") == "c";
        Context {
            is_orig: client,
            is_client: client,
            record_version: self.num("record_version"),
            version: self.num("version"),
            emit_server_curve: false,
            ..Context::default()
        }
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every `.hex` file under `tests/fixtures/`, sorted by name.
fn load_all() -> Vec<Fixture> {
    let mut out = Vec::new();
    let root = fixtures_dir();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fixtures exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("readable fixture dir")
            .map(|e| e.expect("readable dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "hex"))
            .collect();
        files.sort();
        for f in files {
            out.push(load(&dir, &f));
        }
    }
    out
}

fn load(dir: &Path, file: &Path) -> Fixture {
    let text = std::fs::read_to_string(file).expect("readable fixture");
    let dir = dir
        .file_name()
        .and_then(|d| d.to_str())
        .unwrap_or_default()
        .to_string();
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let name = format!("{dir}/{stem}");
    let mut title = String::new();
    let mut params = BTreeMap::new();
    let mut hex = String::new();
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("# params:") {
            for kv in p.split_whitespace() {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                params.insert(k.to_string(), v.to_string());
            }
        } else if let Some(t) = line.strip_prefix("# ") {
            if title.is_empty() {
                title = t.to_string();
            }
        } else {
            hex.push_str(line.trim());
        }
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect();
    Fixture {
        name,
        dir,
        title,
        params,
        bytes,
    }
}

/// The events a walker raised, rendered.
#[derive(Default)]
struct Walked {
    lines: Vec<String>,
}

impl Walked {
    fn push(&mut self, e: SslEvent<'_>) {
        let mut r = Render::default();
        e.visit(&mut r);
        self.lines.push(format!("{}({})", e.name(), r.out));
    }
}

/// A [`ValueSink`] that prints `name=value, ...`; vectors as `[a, b]`, records as
/// `{field: value}`, strings quoted with non-printable bytes as `\xNN` (Zeek's way) and long
/// strings cut in the middle with their length.
#[derive(Default)]
struct Render {
    out: String,
    /// Open containers: `true` for a vector, `false` for a record; with "nothing written yet".
    stack: Vec<(bool, bool)>,
    /// Nothing written at the top level yet.
    started: bool,
}

impl Render {
    /// Separates vector elements.
    fn value(&mut self) {
        if let Some((true, first)) = self.stack.last_mut() {
            if !*first {
                self.out.push_str(", ");
            }
            *first = false;
        }
    }
}

/// Strings longer than this are shown as head … tail.
const SHOW_WHOLE: usize = 64;

fn escape(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'"' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

impl ValueSink for Render {
    fn field(&mut self, name: &'static str) {
        match self.stack.last_mut() {
            None => {
                if self.started {
                    self.out.push_str(", ");
                }
                self.started = true;
                let _ = write!(self.out, "{name}=");
            }
            Some((_, first)) => {
                if !*first {
                    self.out.push_str(", ");
                }
                *first = false;
                let _ = write!(self.out, "{name}: ");
            }
        }
    }
    fn count(&mut self, v: u64) {
        self.value();
        let _ = write!(self.out, "{v}");
    }
    fn int(&mut self, v: i64) {
        self.value();
        let _ = write!(self.out, "{v}");
    }
    fn double(&mut self, v: f64) {
        self.value();
        let _ = write!(self.out, "{v:?}");
    }
    fn boolean(&mut self, v: bool) {
        self.value();
        let _ = write!(self.out, "{v}");
    }
    fn string(&mut self, v: &[u8]) {
        self.value();
        self.out.push('"');
        if v.len() <= SHOW_WHOLE {
            escape(&mut self.out, v);
            self.out.push('"');
        } else {
            escape(&mut self.out, &v[..32]);
            self.out.push_str("\"…\"");
            escape(&mut self.out, &v[v.len() - 8..]);
            let _ = write!(self.out, "\" ({} bytes)", v.len());
        }
    }
    fn time(&mut self, secs: f64) {
        self.value();
        let _ = write!(self.out, "{secs:?}");
    }
    fn begin_vector(&mut self) {
        self.value();
        self.out.push('[');
        self.stack.push((true, true));
    }
    fn end_vector(&mut self) {
        self.stack.pop();
        self.out.push(']');
    }
    fn begin_record(&mut self, _type_name: &'static str) {
        self.value();
        self.out.push('{');
        self.stack.push((false, true));
    }
    fn end_record(&mut self) {
        self.stack.pop();
        self.out.push('}');
    }
}

/// `{:#?}` output with byte lists (`[\n 12,\n 34,\n]`) folded into `hex(N) 0c22`; long ones
/// cut to their first 32 and last 8 bytes.
fn debug(v: &impl std::fmt::Debug) -> String {
    let pretty = format!("{v:#?}");
    let lines: Vec<&str> = pretty.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(head) = line.strip_suffix('[') {
            let mut bytes = Vec::new();
            let mut j = i + 1;
            while let Some(b) = lines
                .get(j)
                .and_then(|l| l.trim().strip_suffix(','))
                .and_then(|n| n.parse::<u8>().ok())
            {
                bytes.push(b);
                j += 1;
            }
            let close = lines.get(j).map(|l| l.trim()).unwrap_or_default();
            if !bytes.is_empty() && (close == "]" || close == "],") {
                let _ = write!(out, "{head}hex({}) ", bytes.len());
                if bytes.len() <= SHOW_WHOLE {
                    bytes.iter().for_each(|b| {
                        let _ = write!(out, "{b:02x}");
                    });
                } else {
                    bytes[..32].iter().for_each(|b| {
                        let _ = write!(out, "{b:02x}");
                    });
                    out.push('…');
                    bytes[bytes.len() - 8..].iter().for_each(|b| {
                        let _ = write!(out, "{b:02x}");
                    });
                }
                out.push_str(if close.ends_with(',') { ",\n" } else { "\n" });
                i = j + 1;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
        i += 1;
    }
    out
}

/// The snapshot text: YAML-shaped (a block scalar for the parse, a list for the events) but
/// written by hand, because insta's YAML writer quotes multi-line strings onto one line.
fn snapshot_text(f: &Fixture, parse_text: &str, events: &[String]) -> String {
    let mut s = format!("source: {}\nparams:", f.title);
    for (k, v) in &f.params {
        let _ = write!(s, " {k}={v}");
    }
    s.push_str("\nparse: |\n");
    for line in parse_text.lines() {
        let _ = writeln!(s, "  {line}");
    }
    s.push_str("events:");
    if events.is_empty() {
        s.push_str(" []");
    }
    for e in events {
        let _ = write!(s, "\n  - {e}");
    }
    s.push('\n');
    s
}

/// Parses `bytes` the way `f`'s directory and parameters say, requiring every byte to be used;
/// returns the `Debug` rendering and the walker's events.
fn parse(f: &Fixture, bytes: &[u8]) -> Result<(String, Vec<String>), ParseError> {
    let ctx = f.context();
    let mut ev = Walked::default();
    let kind = match f.dir.as_str() {
        "handshake" | "rfc8448" => "Handshake",
        "dtls" => "DtlsHandshake",
        "records" if f.num("record_version") >= 0xfe00 => "DtlsRecord",
        "records" => "TlsRecord",
        _ => f.param("parse"),
    };
    let (text, rest) = match kind {
        "Handshake" => {
            let (m, rest) = Handshake::parse(bytes, false, f.tls13(), f.has_sigalgs(), f.kex())?;
            m.walk(&ctx, &mut |e| ev.push(e));
            (debug(&m), rest)
        }
        "DtlsHandshake" => {
            let (frag, rest) = DtlsHandshake::parse(bytes)?;
            let mut text = debug(&frag);
            // A whole message in one fragment is parsed like a reassembled one.
            if frag.fragment_offset == 0 && frag.fragment_length == frag.length {
                let (m, _) = HandshakeMessage::parse(
                    frag.fragment,
                    frag.msg_type,
                    u64::from(frag.length),
                    true,
                    f.tls13(),
                    f.has_sigalgs(),
                    f.kex(),
                )?;
                m.walk(&ctx, &mut |e| ev.push(e));
                text.push_str(&debug(&m));
            }
            (text, rest)
        }
        "DtlsRecord" => {
            let (rec, rest) = DtlsRecord::parse(bytes)?;
            let mut text = debug(&rec);
            if rec.content_type == ContentType::handshake {
                let mut body = rec.fragment;
                while !body.is_empty() {
                    let (frag, more) = DtlsHandshake::parse(body)?;
                    text.push_str(&debug(&frag));
                    body = more;
                }
            }
            (text, rest)
        }
        "TlsRecord" => {
            let (rec, rest) = TlsRecord::parse(bytes)?;
            let mut text = debug(&rec);
            let content = match rec.content_type {
                ContentType::alert => {
                    let (a, more) = AlertRecord::parse(rec.fragment)?;
                    assert!(
                        more.is_empty(),
                        "{}: alerts run to the record's end",
                        f.name
                    );
                    a.walk(&ctx, &mut |e| ev.push(e));
                    debug(&a)
                }
                ContentType::change_cipher_spec => debug(&ChangeCipherSpec::parse(rec.fragment)?),
                ContentType::heartbeat => {
                    let (h, more) = Heartbeat::parse(rec.fragment)?;
                    assert!(
                        more.is_empty(),
                        "{}: the payload runs to the record's end",
                        f.name
                    );
                    h.walk(&ctx, &mut |e| ev.push(e));
                    debug(&h)
                }
                other => panic!("{}: no content parser for {other:?}", f.name),
            };
            text.push_str(&content);
            (text, rest)
        }
        "SSLv2Record" => {
            let (rec, rest) = SSLv2Record::parse(bytes)?;
            rec.walk(&ctx, &mut |e| ev.push(e));
            (debug(&rec), rest)
        }
        "DtlsUnifiedHeader" => {
            let (h, rest) = DtlsUnifiedHeader::parse(bytes, f.num("cid_length"))?;
            (debug(&h), rest)
        }
        "Extension" => {
            let msg = HandshakeType::from_name(f.param("msg"))
                .unwrap_or_else(|| panic!("{}: unknown msg {}", f.name, f.param("msg")));
            let (x, rest) = Extension::parse(bytes, msg)?;
            x.walk(&ctx, &mut |e| ev.push(e));
            (debug(&x), rest)
        }
        other => panic!("{}: no parser named {other:?}", f.name),
    };
    assert!(
        rest.is_empty(),
        "{}: {} bytes left after the parse",
        f.name,
        rest.len()
    );
    Ok((text, ev.lines))
}

/// Fixtures whose strict prefixes are valid units by design, with the reason.
const PREFIX_PARSES: &[(&str, &str)] = &[(
    "crafted/dtls13-unified-short",
    "without the L bit a DTLS 1.3 record runs to the end of the datagram (RFC 9147 §4)",
)];

#[test]
fn every_fixture_parses_and_matches_its_snapshot() {
    let all = load_all();
    assert!(
        all.len() >= 60,
        "expected the fixture set, found {} files",
        all.len()
    );
    let mut failures = SnapshotFailures::new();
    for f in &all {
        let (parse_text, events) =
            parse(f, &f.bytes).unwrap_or_else(|e| panic!("{} ({}): {e:?}", f.name, f.title));
        failures.check(&f.name, || {
            insta::assert_snapshot!(
                f.name.replace('/', "__"),
                snapshot_text(f, &parse_text, &events)
            );
        });
    }
    failures.finish();
}

#[test]
fn every_strict_prefix_is_an_error() {
    for f in load_all() {
        if PREFIX_PARSES.iter().any(|(n, _)| *n == f.name) {
            continue;
        }
        for n in 0..f.bytes.len() {
            let r = parse(&f, &f.bytes[..n]);
            assert!(r.is_err(), "{}: the {n}-byte prefix parsed", f.name);
        }
    }
}

#[test]
fn prefix_exceptions_name_real_fixtures() {
    let all = load_all();
    for (name, why) in PREFIX_PARSES {
        let f = all.iter().find(|f| f.name == *name);
        let f = f.unwrap_or_else(|| panic!("exception {name} ({why}) names no fixture"));
        // The exception is real: the shortest prefix that still has the header parses.
        assert!(
            parse(f, &f.bytes[..f.bytes.len() - 1]).is_ok(),
            "{name}: {why}"
        );
    }
}
