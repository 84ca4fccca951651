//! Value comparison: JSON values from Zeek's outputs and ours, compared field by field.
//!
//! In: an expected and an actual [`serde_json::Value`], each with the [`Style`] its strings are
//! written in. Out: the number of leaf values compared and a [`FieldDiff`] for each difference,
//! named by its path (`args.signature_algorithms[3].SignatureAlgorithm`).
//!
//! Strings are compared as bytes, because the same byte string is written three ways: the
//! btest conversion writes `hex:<digits>` or the plain printed text, and Zeek's JSON (and ours)
//! writes `\xNN` for bytes outside printable ASCII.

use serde_json::Value;

/// How the strings of a value are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `zeek/expected/`: `hex:<lowercase hex>` stands for bytes, any other string for its own
    /// bytes.
    Expected,
    /// Zeek's JSON logs, `zeek-live/` and our output: `\xNN` (NN not printable ASCII) is one
    /// byte; a backslash byte itself is not escaped.
    Zeek,
}

/// Tolerance for `time` and `interval` values: Zeek's JSON writes microseconds.
const FLOAT_TOLERANCE: f64 = 5e-6;

/// Longest rendering of a value in a report before it is cut.
const RENDER_LIMIT: usize = 160;

/// One differing field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    /// Path of the field inside the compared value.
    pub path: String,
    /// The expected value, rendered.
    pub expected: String,
    /// Our value, rendered (`<absent>` when missing).
    pub got: String,
}

/// The bytes a JSON string stands for.
pub fn string_bytes(s: &str, style: Style) -> Vec<u8> {
    match style {
        Style::Expected => match s.strip_prefix("hex:") {
            Some(h) => decode_hex(h).unwrap_or_else(|| s.as_bytes().to_vec()),
            None => s.as_bytes().to_vec(),
        },
        Style::Zeek => zeek_unescape(s),
    }
}

/// Decodes lowercase or uppercase hex digits; `None` when they are not hex.
pub fn decode_hex(h: &str) -> Option<Vec<u8>> {
    if h.len() & 1 == 1 {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| h.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

/// Reverses Zeek's string escaping: `\xNN` becomes one byte when NN is not printable ASCII
/// (Zeek never escapes a printable byte, so a printable `\xNN` is literal text after an
/// unescaped backslash). Other characters are taken as their UTF-8 bytes.
pub fn zeek_unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            if let Some(v) = std::str::from_utf8(&b[i + 2..i + 4])
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
            {
                if !(0x20..0x7f).contains(&v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Writes bytes the way Zeek does, for reports.
pub fn zeek_escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &c in bytes {
        if (0x20..0x7f).contains(&c) {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// Renders a value for a report, strings as the bytes they stand for.
pub fn render(v: &Value, style: Style) -> String {
    let s = match v {
        Value::String(s) => {
            let bytes = string_bytes(s, style);
            format!("\"{}\" ({} bytes)", zeek_escape(&bytes), bytes.len())
        }
        other => other.to_string(),
    };
    cut(&s)
}

fn render_opt(v: Option<&Value>, style: Style) -> String {
    v.map_or_else(|| "<absent>".to_owned(), |v| render(v, style))
}

fn cut(s: &str) -> String {
    if s.chars().count() <= RENDER_LIMIT {
        s.to_owned()
    } else {
        let head: String = s.chars().take(RENDER_LIMIT).collect();
        format!("{head}…")
    }
}

/// Compares two values; both sides say how their strings are written.
#[derive(Debug, Clone, Copy)]
pub struct Comparer {
    /// Style of the expected side.
    pub expected: Style,
    /// Style of our side.
    pub got: Style,
}

impl Comparer {
    /// Compares `exp` with `got` (absent when `None`), appending differences under `path`.
    /// Returns the number of leaf values compared.
    ///
    /// `null` on the expected side means unset, which equals an absent value (Zeek's JSON logs
    /// drop unset columns). `{"any_of": [...]}` matches any of the listed values.
    pub fn compare(
        &self,
        exp: &Value,
        got: Option<&Value>,
        path: &str,
        diffs: &mut Vec<FieldDiff>,
    ) -> usize {
        if let Some(options) = any_of(exp) {
            let ok = options.iter().any(|o| self.equal(o, got));
            if !ok {
                diffs.push(self.diff(path, exp, got));
            }
            return 1;
        }
        let got = match (exp, got) {
            (Value::Null, None | Some(Value::Null)) => return 1,
            (_, None) | (_, Some(Value::Null)) => {
                diffs.push(self.diff(path, exp, got));
                return 1;
            }
            (_, Some(g)) => g,
        };
        match (exp, got) {
            (Value::Array(e), Value::Array(g)) => {
                let mut n = 0;
                if e.len() != g.len() {
                    diffs.push(FieldDiff {
                        path: format!("{path}.len()"),
                        expected: e.len().to_string(),
                        got: g.len().to_string(),
                    });
                    n += 1;
                }
                for (i, (ev, gv)) in e.iter().zip(g).enumerate() {
                    n += self.compare(ev, Some(gv), &format!("{path}[{i}]"), diffs);
                }
                n
            }
            (Value::Object(e), Value::Object(g)) => {
                let mut n = 0;
                for (k, ev) in e {
                    n += self.compare(ev, g.get(k), &join(path, k), diffs);
                }
                for (k, gv) in g {
                    if !e.contains_key(k) && !gv.is_null() {
                        diffs.push(FieldDiff {
                            path: join(path, k),
                            expected: "<absent>".into(),
                            got: render(gv, self.got),
                        });
                        n += 1;
                    }
                }
                n
            }
            _ => {
                if !self.scalar_equal(exp, got) {
                    diffs.push(self.diff(path, exp, Some(got)));
                }
                1
            }
        }
    }

    /// Whether `exp` and `got` compare equal.
    pub fn equal(&self, exp: &Value, got: Option<&Value>) -> bool {
        let mut d = Vec::new();
        self.compare(exp, got, "", &mut d);
        d.is_empty()
    }

    fn scalar_equal(&self, exp: &Value, got: &Value) -> bool {
        match (exp, got) {
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => {
                if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                    a == b
                } else if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
                    a == b
                } else {
                    match (a.as_f64(), b.as_f64()) {
                        (Some(a), Some(b)) => (a - b).abs() <= FLOAT_TOLERANCE,
                        _ => false,
                    }
                }
            }
            (Value::String(a), Value::String(b)) => {
                string_bytes(a, self.expected) == string_bytes(b, self.got)
            }
            _ => false,
        }
    }

    fn diff(&self, path: &str, exp: &Value, got: Option<&Value>) -> FieldDiff {
        let mut expected = render(exp, self.expected);
        let mut got_s = render_opt(got, self.got);
        if let (Value::String(a), Some(Value::String(b))) = (exp, got) {
            let (a, b) = (string_bytes(a, self.expected), string_bytes(b, self.got));
            if let Some(at) = a.iter().zip(&b).position(|(x, y)| x != y) {
                expected = format!("{expected}, first difference at byte {at}");
                got_s = format!("{got_s}, byte {at} is {:#04x}", b[at]);
            }
        }
        FieldDiff {
            path: path.to_owned(),
            expected,
            got: got_s,
        }
    }
}

/// The options of an `{"any_of": [...]}` value.
fn any_of(v: &Value) -> Option<&Vec<Value>> {
    match v {
        Value::Object(m) if m.len() == 1 => m.get("any_of").and_then(Value::as_array),
        _ => None,
    }
}

/// `a.b`, or `b` when `a` is empty.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}
