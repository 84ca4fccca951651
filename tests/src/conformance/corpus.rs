//! Finding and reading the conformance corpus, and parsing event streams.
//!
//! In: the corpus directory (`../shared/conformance` next to the workspace, or
//! `$TLS_ANALYZER_CONFORMANCE_DIR`). Out: a [`Corpus`] listing every capture with its manifest
//! entry and its zeek-live files, JSON Lines readers, and [`Event`], the parsed form of one line
//! of an event stream (ours or zeek-live's).
//!
//! The corpus is never copied into this repository; it is read where it lies.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Environment variable that overrides the corpus location.
pub const CORPUS_ENV: &str = "TLS_ANALYZER_CONFORMANCE_DIR";

/// Where the corpus is expected: `$TLS_ANALYZER_CONFORMANCE_DIR`, else
/// `<workspace>/../shared/conformance`.
pub fn default_location() -> PathBuf {
    match std::env::var_os(CORPUS_ENV) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"),
    }
}

/// The corpus directory if it exists (it has `zeek/manifest.json`).
pub fn locate() -> Option<PathBuf> {
    let p = default_location();
    p.join("zeek/manifest.json").is_file().then_some(p)
}

/// One capture of the corpus and everything known about it.
#[derive(Debug, Clone)]
pub struct CaptureEntry {
    /// Path relative to the traces directory, e.g. `tls/tls1.2.pcap`.
    pub name: String,
    /// The manifest's category (`ssl-base`, `quic`, ...), if the manifest lists the capture.
    pub category: Option<String>,
    /// The capture file.
    pub trace: PathBuf,
    /// The manifest entry.
    pub manifest: Option<Value>,
    /// `zeek-live/<name>.events.json`, when it exists.
    pub live_events: Option<PathBuf>,
    /// `zeek-live/<name>.ssl.json`, when it exists.
    pub live_ssl: Option<PathBuf>,
    /// `zeek-live/<name>.x509.json`, when it exists.
    pub live_x509: Option<PathBuf>,
}

/// Which zeek-live file of a capture.
enum LiveKind {
    Events,
    Ssl,
    X509,
}

/// The loaded corpus.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The corpus root (holds `zeek/` and `zeek-live/`).
    pub root: PathBuf,
    /// Every capture, sorted by name.
    pub captures: Vec<CaptureEntry>,
    /// zeek-live files whose capture neither the manifest lists nor `zeek/traces` holds: nothing
    /// can be run to compare with them, so they are left out of `captures` (a file added to the
    /// corpus must not fail a run that has never seen it); the tests report them.
    pub orphans: Vec<PathBuf>,
}

impl Corpus {
    /// Loads the manifest and lists the zeek-live files.
    pub fn load(root: &Path) -> Result<Corpus, String> {
        let manifest_path = root.join("zeek/manifest.json");
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
        let manifest: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
        let traces = manifest
            .get("traces")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{}: no `traces` object", manifest_path.display()))?;
        let mut captures: BTreeMap<String, CaptureEntry> = BTreeMap::new();
        for (name, entry) in traces {
            let trace_file = entry
                .get("trace_file")
                .and_then(Value::as_str)
                .map_or_else(|| format!("traces/{name}"), str::to_owned);
            captures.insert(
                name.clone(),
                CaptureEntry {
                    name: name.clone(),
                    category: entry
                        .get("category")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    trace: root.join("zeek").join(trace_file),
                    manifest: Some(entry.clone()),
                    live_events: None,
                    live_ssl: None,
                    live_x509: None,
                },
            );
        }
        let live = root.join("zeek-live");
        let mut orphans = Vec::new();
        let mut files = Vec::new();
        list_files(&live, &mut files);
        for f in files {
            let Ok(rel) = f.strip_prefix(&live) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let (name, kind) = if let Some(n) = rel.strip_suffix(".events.json") {
                (n.to_owned(), LiveKind::Events)
            } else if let Some(n) = rel.strip_suffix(".ssl.json") {
                (n.to_owned(), LiveKind::Ssl)
            } else if let Some(n) = rel.strip_suffix(".x509.json") {
                (n.to_owned(), LiveKind::X509)
            } else {
                continue;
            };
            // zeek-live names a gzip-compressed capture without its `.gz`
            // (`tls-fragmented-handshake.pcap` for `tls-fragmented-handshake.pcap.gz`): both
            // describe the same capture, so they share one entry.
            let gz = format!("{name}.gz");
            let name = if !captures.contains_key(&name)
                && (captures.contains_key(&gz) || root.join("zeek/traces").join(&gz).is_file())
            {
                gz
            } else {
                name
            };
            if !captures.contains_key(&name) && !root.join("zeek/traces").join(&name).is_file() {
                orphans.push(f);
                continue;
            }
            let e = captures
                .entry(name.clone())
                .or_insert_with(|| CaptureEntry {
                    name: name.clone(),
                    category: None,
                    trace: root.join("zeek/traces").join(&name),
                    manifest: None,
                    live_events: None,
                    live_ssl: None,
                    live_x509: None,
                });
            match kind {
                LiveKind::Events => e.live_events = Some(f),
                LiveKind::Ssl => e.live_ssl = Some(f),
                LiveKind::X509 => e.live_x509 = Some(f),
            }
        }
        Ok(Corpus {
            root: root.to_owned(),
            captures: captures.into_values().collect(),
            orphans,
        })
    }

    /// A file of `zeek/` named by the manifest (`expected/...`).
    pub fn zeek_file(&self, rel: &str) -> PathBuf {
        self.root.join("zeek").join(rel)
    }
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) {
    list_files_ending(dir, "", out);
}

/// Every file below `dir` (recursively) whose name ends with `suffix`, in directory order;
/// an unreadable directory adds nothing. Callers sort when they need an order.
pub fn list_files_ending(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            list_files_ending(&p, suffix, out);
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
}

/// Reads a JSON Lines file (blank lines skipped).
pub fn read_jsonl(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_jsonl(&text, &path.display().to_string())
}

/// Parses JSON Lines text; `what` names the text in errors.
pub fn parse_jsonl(text: &str, what: &str) -> Result<Vec<Value>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{what}:{}: {e}", i + 1)))
        .collect()
}

/// A connection 4-tuple (ports may be unknown in expectations).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    /// Originator address, as Zeek writes it.
    pub orig_h: String,
    /// Originator port.
    pub orig_p: Option<u64>,
    /// Responder address.
    pub resp_h: String,
    /// Responder port.
    pub resp_p: Option<u64>,
}

impl ConnId {
    /// Reads `{"orig_h", "orig_p", "resp_h", "resp_p"}` (missing parts stay unknown).
    pub fn from_id(id: &Value) -> ConnId {
        ConnId {
            orig_h: id
                .get("orig_h")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned(),
            orig_p: id.get("orig_p").and_then(Value::as_u64),
            resp_h: id
                .get("resp_h")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned(),
            resp_p: id.get("resp_p").and_then(Value::as_u64),
        }
    }

    /// Reads the `id.*` columns of an ssl.log row; `None` when the row has none of them.
    pub fn from_row(row: &Value) -> Option<ConnId> {
        let h = |k: &str| row.get(k).and_then(Value::as_str).map(str::to_owned);
        let p = |k: &str| row.get(k).and_then(Value::as_u64);
        let (oh, op, rh, rp) = (
            h("id.orig_h"),
            p("id.orig_p"),
            h("id.resp_h"),
            p("id.resp_p"),
        );
        if oh.is_none() && op.is_none() && rh.is_none() && rp.is_none() {
            return None;
        }
        Some(ConnId {
            orig_h: oh.unwrap_or_else(|| "?".into()),
            orig_p: op,
            resp_h: rh.unwrap_or_else(|| "?".into()),
            resp_p: rp,
        })
    }

    /// Whether `self` (possibly partial, from an expectation) names the connection `ours`.
    /// Addresses are compared as parsed IP addresses, so `::1` and `0:0::1` agree.
    pub fn matches(&self, ours: &ConnId) -> bool {
        let host = |a: &str, b: &str| {
            a == "?"
                || a == b
                || matches!((a.parse::<std::net::IpAddr>(), b.parse::<std::net::IpAddr>()),
                    (Ok(x), Ok(y)) if x == y)
        };
        let port = |a: Option<u64>, b: Option<u64>| a.is_none() || a == b;
        host(&self.orig_h, &ours.orig_h)
            && host(&self.resp_h, &ours.resp_h)
            && port(self.orig_p, ours.orig_p)
            && port(self.resp_p, ours.resp_p)
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = |p: Option<u64>| p.map_or_else(|| "?".to_owned(), |p| p.to_string());
        write!(
            f,
            "{}:{} > {}:{}",
            self.orig_h,
            p(self.orig_p),
            self.resp_h,
            p(self.resp_p)
        )
    }
}

/// One line of an event stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the whole stream.
    pub seq: usize,
    /// The connection.
    pub conn: ConnId,
    /// The event name.
    pub name: String,
    /// The arguments (without the connection).
    pub args: Map<String, Value>,
}

impl Event {
    /// Parses one stream line.
    pub fn from_line(seq: usize, v: &Value) -> Result<Event, String> {
        let name = v
            .get("event")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("line {}: no `event`", seq + 1))?;
        let id = v
            .get("id")
            .ok_or_else(|| format!("line {}: no `id`", seq + 1))?;
        Ok(Event {
            seq,
            conn: ConnId::from_id(id),
            name: name.to_owned(),
            args: v
                .get("args")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// Parses a whole event stream.
///
/// `net_weird` lines are left out: they belong to no connection (ours are the logging
/// framework's `log_*_truncated` weirds and capture-level weirds), zeek-live records only
/// connection events, and every comparison here is per connection.
pub fn parse_events(text: &str, what: &str) -> Result<Vec<Event>, String> {
    parse_jsonl(text, what)?
        .iter()
        .enumerate()
        .filter(|(_, v)| v.get("event").and_then(Value::as_str) != Some(NET_WEIRD))
        .map(|(i, v)| Event::from_line(i, v).map_err(|e| format!("{what}: {e}")))
        .collect()
}

/// The event of a weird without a connection.
pub const NET_WEIRD: &str = "net_weird";
