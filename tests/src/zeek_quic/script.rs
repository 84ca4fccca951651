//! The Zeek script a test loads as `%INPUT`, reduced to what its `print` statements print.
//!
//! In: the script text that follows run.txt's command lines. Out: a [`Script`]: one [`Handler`]
//! per `event NAME(...) { print ...; }`, whose print expressions form the small language these
//! tests use (`network_time()`, string literals, `c$uid` / `info$c$uid`, a parameter,
//! `b2hex(param)`, `|param|`). [`Script::format`] prints our events (JSON Lines, as in
//! zeek-live) as Zeek would, and [`Script::unformat`] turns a printed line back into an event
//! (for the replay self-check). An expression outside that language is kept as
//! [`Expr::Unsupported`] and printed as `<unsupported: ...>`, so the mismatch names it.

use serde_json::{json, Map, Value};

use crate::conformance::value::{decode_hex, zeek_escape, zeek_unescape};

/// One expression of a `print` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `network_time()`: the event's `ts`.
    NetworkTime,
    /// A string literal.
    Literal(String),
    /// `c$uid`, `info$c$uid`: the connection's uid.
    Uid,
    /// `b2hex(p)` / `bytestring_to_hexstr(p)`: the bytes of parameter `p` in lowercase hex.
    Hex(String),
    /// `|p|`: the length of parameter `p` (bytes of a string).
    Len(String),
    /// A parameter, printed according to its type.
    Arg(String),
    /// Anything else (as written).
    Unsupported(String),
}

/// One event handler and its prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// The event name as the script writes it (`QUIC::initial_packet`).
    pub event: String,
    /// Parameters `(name, type)`, the connection included.
    pub params: Vec<(String, String)>,
    /// The `print` statements, in order.
    pub prints: Vec<Vec<Expr>>,
}

impl Handler {
    fn param_type(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }
}

/// The test's script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// Handlers that print something.
    pub handlers: Vec<Handler>,
    /// What was not understood (statements other than `print`, unparsable handlers).
    pub notes: Vec<String>,
}

/// Prints a `time` or `double` as Zeek's `print` does: six decimals with trailing zeros removed,
/// and `.0` when nothing is left after the point (`1.0`, `1692198386.837988`).
pub fn zeek_double(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.contains('.') {
        s.to_string()
    } else {
        format!("{s}.0")
    }
}

impl Script {
    /// Parses the script text.
    pub fn parse(text: &str) -> Script {
        let mut script = Script::default();
        let mut rest = text;
        while let Some(pos) = find_event_keyword(rest) {
            rest = &rest[pos + "event".len()..];
            match parse_handler(rest) {
                Ok((h, consumed, notes)) => {
                    script.notes.extend(notes);
                    if !h.prints.is_empty() {
                        script.handlers.push(h);
                    }
                    rest = &rest[consumed..];
                }
                Err(e) => {
                    script.notes.push(e);
                    break;
                }
            }
        }
        script
    }

    /// The handler of `event`, if the script has one.
    pub fn handler(&self, event: &str) -> Option<&Handler> {
        self.handlers.iter().find(|h| h.event == event)
    }

    /// The lines Zeek would print for our events (JSON Lines) in order; `uid`s are printed as
    /// the events carry them. Lines of the stream that are not JSON are reported as `Err`.
    pub fn format(&self, events_json: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for (n, line) in events_json.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line)
                .map_err(|e| format!("events line {}: not JSON: {e}", n + 1))?;
            let Some(name) = v.get("event").and_then(Value::as_str) else {
                continue;
            };
            let Some(h) = self.handler(name) else {
                continue;
            };
            for print in &h.prints {
                let fields: Vec<String> = print.iter().map(|e| eval(h, e, &v)).collect();
                out.push(fields.join(", "));
            }
        }
        Ok(out)
    }

    /// The event a printed line stands for, as a JSON Lines event (`None` when no print
    /// statement of the script produces such a line). Parameters that the line does not show
    /// are absent; `|p|` gives a string of that many `x`.
    pub fn unformat(&self, line: &str) -> Option<Value> {
        let fields: Vec<&str> = line.split(", ").collect();
        self.handlers.iter().find_map(|h| {
            h.prints
                .iter()
                .find_map(|print| unformat_with(h, print, &fields))
        })
    }
}

/// `event` as a keyword at the start of a line (not inside a name).
fn find_event_keyword(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = text[from..].find("event") {
        let at = from + p;
        let before_ok = at == 0 || text[..at].ends_with('\n');
        let after_ok = text[at + 5..].starts_with([' ', '\t']);
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + 5;
    }
    None
}

/// The text inside the brackets that open at `text[0]` (`open`), and the index after the
/// matching close.
fn bracketed(text: &str, open: char, close: char) -> Option<(&str, usize)> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some((&text[open.len_utf8()..i], i + close.len_utf8()));
            }
        }
    }
    None
}

/// Parses ` NAME(PARAMS) { BODY }` after the `event` keyword.
fn parse_handler(text: &str) -> Result<(Handler, usize, Vec<String>), String> {
    let paren = text
        .find('(')
        .ok_or("event handler without a parameter list")?;
    let event = text[..paren].trim().to_string();
    let (params_text, after_params) = bracketed(&text[paren..], '(', ')')
        .ok_or_else(|| format!("event {event}: unbalanced parameter list"))?;
    let params = split_top_level(params_text)
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once(':') {
            Some((n, t)) => (n.trim().to_string(), t.trim().to_string()),
            None => (p.trim().to_string(), String::new()),
        })
        .collect();
    let body_start = paren + after_params;
    let brace = text[body_start..]
        .find('{')
        .ok_or_else(|| format!("event {event}: no body"))?;
    let (body, after_body) = bracketed(&text[body_start + brace..], '{', '}')
        .ok_or_else(|| format!("event {event}: unbalanced body"))?;
    let mut h = Handler {
        event,
        params,
        prints: Vec::new(),
    };
    let mut notes = Vec::new();
    for stmt in body.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        match stmt.strip_prefix("print ") {
            Some(exprs) => h.prints.push(
                split_top_level(exprs)
                    .into_iter()
                    .map(|e| parse_expr(&h, e.trim()))
                    .collect(),
            ),
            None => notes.push(format!(
                "event {}: statement not interpreted: {stmt}",
                h.event
            )),
        }
    }
    Ok((h, body_start + brace + after_body, notes))
}

/// Splits at commas outside brackets and string literals.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => depth -= 1,
            ',' if !in_str && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_expr(h: &Handler, e: &str) -> Expr {
    if e == "network_time()" {
        return Expr::NetworkTime;
    }
    if let Some(lit) = e.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return Expr::Literal(lit.to_string());
    }
    if e.ends_with("$uid") && e.split('$').all(is_ident) {
        return Expr::Uid;
    }
    for f in ["b2hex(", "bytestring_to_hexstr("] {
        if let Some(p) = e.strip_prefix(f).and_then(|r| r.strip_suffix(')')) {
            if h.param_type(p.trim()).is_some() {
                return Expr::Hex(p.trim().to_string());
            }
        }
    }
    if let Some(p) = e.strip_prefix('|').and_then(|r| r.strip_suffix('|')) {
        if h.param_type(p.trim()).is_some() {
            return Expr::Len(p.trim().to_string());
        }
    }
    if is_ident(e) && h.param_type(e).is_some() {
        return Expr::Arg(e.to_string());
    }
    Expr::Unsupported(e.to_string())
}

/// Handler parameters the tests' scripts name differently from the event's declaration (Zeek
/// binds a handler's parameters by position): (the script's name, the declared name).
const PARAM_ALIASES: [(&str, &str); 1] = [("integrity_tag", "retry_integrity_tag")];

/// The event argument a handler parameter is bound to.
fn arg<'v>(v: &'v Value, p: &str) -> Option<&'v Value> {
    let args = v.get("args")?;
    args.get(p).or_else(|| {
        let (_, declared) = PARAM_ALIASES.iter().find(|(alias, _)| *alias == p)?;
        args.get(declared)
    })
}

fn arg_bytes(v: &Value, p: &str) -> Option<Vec<u8>> {
    arg(v, p)?.as_str().map(zeek_unescape)
}

/// One expression's printed form for the event `v`.
fn eval(h: &Handler, e: &Expr, v: &Value) -> String {
    let missing = |what: &str| format!("<missing {what}>");
    match e {
        Expr::NetworkTime => v
            .get("ts")
            .and_then(Value::as_f64)
            .map_or_else(|| missing("ts"), zeek_double),
        Expr::Literal(s) => s.clone(),
        Expr::Uid => v
            .get("uid")
            .and_then(Value::as_str)
            .map_or_else(|| missing("uid"), str::to_string),
        Expr::Hex(p) => arg_bytes(v, p).map_or_else(
            || missing(p),
            |b| b.iter().map(|x| format!("{x:02x}")).collect(),
        ),
        Expr::Len(p) => arg_bytes(v, p).map_or_else(|| missing(p), |b| b.len().to_string()),
        Expr::Arg(p) => {
            let Some(a) = arg(v, p) else {
                return missing(p);
            };
            match (h.param_type(p).unwrap_or(""), a) {
                (_, Value::Bool(b)) => if *b { "T" } else { "F" }.to_string(),
                ("time" | "double" | "interval", Value::Number(n)) => {
                    n.as_f64().map_or_else(|| n.to_string(), zeek_double)
                }
                (_, Value::Number(n)) => n.to_string(),
                ("string", Value::String(s)) => zeek_escape(&zeek_unescape(s)),
                (_, Value::String(s)) => s.clone(),
                (_, other) => other.to_string(),
            }
        }
        Expr::Unsupported(s) => format!("<unsupported: {s}>"),
    }
}

/// The event behind `fields` if `print` of handler `h` printed them.
fn unformat_with(h: &Handler, print: &[Expr], fields: &[&str]) -> Option<Value> {
    if print.len() != fields.len() {
        return None;
    }
    let literals_match = print.iter().zip(fields).all(|(e, f)| match e {
        Expr::Literal(s) => s == f,
        _ => true,
    });
    if !literals_match || !print.iter().any(|e| matches!(e, Expr::Literal(_))) {
        return None;
    }
    let mut ev = Map::new();
    let mut args = Map::new();
    ev.insert("ts".into(), json!(0.0));
    for (e, f) in print.iter().zip(fields) {
        match e {
            Expr::NetworkTime => {
                ev.insert("ts".into(), json!(f.parse::<f64>().ok()?));
            }
            Expr::Uid => {
                ev.insert("uid".into(), json!(f));
            }
            Expr::Hex(p) => {
                let bytes = decode_hex(f)?;
                args.insert(p.clone(), json!(zeek_escape(&bytes)));
            }
            Expr::Len(p) => {
                let n: usize = f.parse().ok()?;
                args.insert(p.clone(), json!("x".repeat(n)));
            }
            Expr::Arg(p) => {
                let value = match (h.param_type(p).unwrap_or(""), *f) {
                    ("bool", "T") => json!(true),
                    ("bool", "F") => json!(false),
                    ("count" | "int", n) => json!(n.parse::<i64>().ok()?),
                    ("time" | "double" | "interval", n) => json!(n.parse::<f64>().ok()?),
                    (_, s) => json!(s),
                };
                args.insert(p.clone(), value);
            }
            Expr::Literal(_) | Expr::Unsupported(_) => {}
        }
    }
    ev.insert("event".into(), json!(h.event));
    ev.insert("args".into(), Value::Object(args));
    Some(Value::Object(ev))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "function b2hex(s: string):string { return bytestring_to_hexstr(s); }\n\
event QUIC::retry_packet(c: connection, is_orig: bool, version: count, dcid: string, scid: string, retry_token: string, integrity_tag: string)\n\
\t{\n\tprint network_time(), \"retry_packet\", c$uid, is_orig, version, b2hex(dcid), b2hex(scid), |retry_token|, b2hex(integrity_tag);\n\t}\n\
event analyzer_confirmation_info(atype: AllAnalyzers::Tag, info: AnalyzerConfirmationInfo)\n\
\t{\n\tprint \"analyzer_confirmation\", network_time(), info$c$uid, atype;\n\t}\n";

    #[test]
    fn parses_and_formats() {
        let s = Script::parse(SCRIPT);
        assert_eq!(s.handlers.len(), 2, "{s:?}");
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        let ev = r#"{"ts":1.0,"uid":"Cabc","event":"QUIC::retry_packet","args":{"is_orig":false,"version":1,"dcid":"","scid":"\\x1b\\x03j\\x11","retry_token":"abc","integrity_tag":"\\x9b:"}}
{"ts":1692198386.837988,"uid":"Cabc","event":"analyzer_confirmation_info","args":{"atype":"Analyzer::ANALYZER_QUIC"}}
{"ts":2.5,"uid":"Cabc","event":"QUIC::initial_packet","args":{}}"#;
        let lines = s.format(ev).expect("JSON");
        assert_eq!(
            lines,
            vec![
                "1.0, retry_packet, Cabc, F, 1, , 1b036a11, 3, 9b3a",
                "analyzer_confirmation, 1692198386.837988, Cabc, Analyzer::ANALYZER_QUIC",
            ]
        );
        // And back.
        let back = s.unformat(&lines[0]).expect("a retry_packet line");
        assert_eq!(back["args"]["scid"], json!("\\x1b\\x03j\\x11"));
        assert_eq!(back["args"]["retry_token"], json!("xxx"));
        assert_eq!(s.format(&back.to_string()).expect("JSON")[0], lines[0]);
        assert!(s.unformat("1.0, nothing, C, T").is_none());
    }

    #[test]
    fn doubles() {
        assert_eq!(zeek_double(1.0), "1.0");
        assert_eq!(zeek_double(1.5), "1.5");
        assert_eq!(zeek_double(1692198386.837988), "1692198386.837988");
    }
}
