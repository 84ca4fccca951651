//! The deviations file: every difference from Zeek we accept, each with a reason.
//!
//! In: `tests/conformance/deviations.toml`. Out: [`Deviations`], which says whether a capture is
//! unsupported and which entry (if any) covers a [`Mismatch`].
//!
//! Format (TOML):
//!
//! ```toml
//! # A capture that is not run at all; it appears in the summary as UNSUPPORTED with the reason.
//! [[unsupported]]
//! capture = "quic/quicdoq.pcap"
//! reason  = "QUIC: needs Initial-packet decryption and CRYPTO-frame reassembly"
//!
//! # A tolerated mismatch. Every selector is optional except `capture`; an entry covers a
//! # mismatch when all its selectors match. `capture`, `source`, `connection`, `event` and
//! # `field` are glob patterns (`*` matches any text, everything else is literal); `kind` is one
//! # of value, missing-event, extra-event, missing-row, extra-row, run-failed; `index` is the
//! # event or row index shown in the report; `contains` is a substring of the expected or the
//! # got value as shown in the report.
//! [[deviation]]
//! capture    = "tls/https-to-http.pcap"
//! source     = "zeek-live events"
//! kind       = "missing-event"
//! event      = "conn_weird"
//! contains   = "source=\"HTTP\""
//! reason     = "weirds of Zeek's HTTP analyzer; we have no HTTP analyzer"
//! ```
//!
//! An entry that covers no mismatch in a full run is stale and is reported (and fails the
//! test), so the file never keeps excuses for problems that are gone.

use std::path::Path;

use serde::Deserialize;

use super::mismatch::Mismatch;

/// A capture the analyzer does not support.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Unsupported {
    /// Capture name (glob).
    pub capture: String,
    /// Why it is not supported.
    pub reason: String,
}

/// A tolerated mismatch.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// Capture name (glob).
    pub capture: String,
    /// Expectation source (glob), e.g. `zeek-live*`.
    pub source: Option<String>,
    /// Mismatch kind name.
    pub kind: Option<String>,
    /// Connection `orig_h:orig_p > resp_h:resp_p` (glob).
    pub connection: Option<String>,
    /// Event name (glob).
    pub event: Option<String>,
    /// Event or row index.
    pub index: Option<usize>,
    /// Field path (glob).
    pub field: Option<String>,
    /// Substring of the expected or got value.
    pub contains: Option<String>,
    /// Why the difference is accepted.
    pub reason: String,
}

/// The parsed deviations file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Deviations {
    /// Unsupported captures.
    #[serde(default)]
    pub unsupported: Vec<Unsupported>,
    /// Tolerated mismatches.
    #[serde(default)]
    pub deviation: Vec<Deviation>,
}

/// Where the deviations file lives.
pub fn default_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/deviations.toml")
}

impl Deviations {
    /// Reads and checks the file.
    pub fn load(path: &Path) -> Result<Deviations, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Deviations::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and checks the text of a deviations file.
    pub fn parse(text: &str) -> Result<Deviations, String> {
        let d: Deviations = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, u) in d.unsupported.iter().enumerate() {
            if u.capture.trim().is_empty() || u.reason.trim().is_empty() {
                return Err(format!(
                    "unsupported entry {i}: capture and reason must not be empty"
                ));
            }
        }
        for (i, e) in d.deviation.iter().enumerate() {
            if e.capture.trim().is_empty() || e.reason.trim().is_empty() {
                return Err(format!(
                    "deviation entry {i}: capture and reason must not be empty"
                ));
            }
            const KINDS: [&str; 6] = [
                "value",
                "missing-event",
                "extra-event",
                "missing-row",
                "extra-row",
                "run-failed",
            ];
            if let Some(k) = &e.kind {
                if !KINDS.contains(&k.as_str()) {
                    return Err(format!(
                        "deviation entry {i}: unknown kind `{k}` (one of {KINDS:?})"
                    ));
                }
            }
        }
        Ok(d)
    }

    /// The reason a capture is unsupported, if it is.
    pub fn unsupported(&self, capture: &str) -> Option<&Unsupported> {
        self.unsupported.iter().find(|u| glob(&u.capture, capture))
    }

    /// The index of the first deviation entry that covers `m`.
    pub fn covering(&self, m: &Mismatch) -> Option<usize> {
        self.deviation.iter().position(|d| d.covers(m))
    }
}

impl Deviation {
    /// Whether every selector of the entry matches `m`.
    pub fn covers(&self, m: &Mismatch) -> bool {
        let opt_glob = |pat: &Option<String>, v: Option<&str>| match pat {
            None => true,
            Some(p) => matches!(v, Some(v) if glob(p, v)),
        };
        glob(&self.capture, &m.capture)
            && opt_glob(&self.source, Some(&m.source))
            && all_or_none(self.kind.as_deref(), |k| k == m.kind.name())
            && opt_glob(&self.connection, m.connection.as_deref())
            && opt_glob(&self.event, m.event.as_deref())
            && all_or_none(self.index, |i| m.index == Some(i))
            && opt_glob(&self.field, m.field.as_deref())
            && all_or_none(self.contains.as_deref(), |c| {
                m.expected.contains(c) || m.got.contains(c)
            })
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        let mut s = format!("capture={}", self.capture);
        let mut add = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                s.push_str(&format!(" {k}={v}"));
            }
        };
        add("source", self.source.clone());
        add("kind", self.kind.clone());
        add("connection", self.connection.clone());
        add("event", self.event.clone());
        add("index", self.index.map(|i| i.to_string()));
        add("field", self.field.clone());
        add("contains", self.contains.clone());
        format!("{s} ({})", self.reason)
    }
}

/// Glob match where `*` matches any (possibly empty) text and every other character is literal.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(p) => rest = &rest[p + mid.len()..],
            None => return false,
        }
    }
    true
}

/// True when the selector is absent, else whether it holds.
fn all_or_none<T>(selector: Option<T>, holds: impl FnOnce(T) -> bool) -> bool {
    match selector {
        None => true,
        Some(v) => holds(v),
    }
}
