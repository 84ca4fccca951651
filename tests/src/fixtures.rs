//! The hex fixtures of `tests/fixtures/` as data: each a `# title` line, a `# params:` line
//! and hex, in a directory that says how the bytes are framed (`handshake/`, `dtls/`,
//! `records/`, `rfc8448/`, `crafted/` with a `parse=` parameter).
//!
//! In: the files. Out: [`Fixture`]s sorted by directory and name, with the connection facts
//! (`version`, `cipher`, `side`) that decide version-dependent layouts. Used by the round-trip
//! tests; `wire_fixtures.rs` keeps its own copy next to its snapshot rendering.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tls_grammar::{CipherSuite, KeyExchangeClass};

/// One fixture file.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// `<dir>/<file stem>`.
    pub name: String,
    /// The directory, which says how the bytes are framed.
    pub dir: String,
    /// The first comment line.
    pub title: String,
    /// The `# params:` line as key/value pairs.
    pub params: BTreeMap<String, String>,
    /// The decoded hex.
    pub bytes: Vec<u8>,
}

impl Fixture {
    /// A parameter's text ("" when missing).
    pub fn param(&self, key: &str) -> &str {
        self.params.get(key).map(String::as_str).unwrap_or("")
    }

    /// A numeric parameter (`0x` hex or decimal); missing or malformed means 0.
    pub fn num(&self, key: &str) -> u64 {
        let v = self.param(key);
        match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap_or(0),
            None => v.parse().unwrap_or(0),
        }
    }

    /// TLS 1.3 negotiated.
    pub fn tls13(&self) -> bool {
        self.num("version") == 0x0304
    }

    /// The version carries signature algorithms in its signatures (TLS 1.2, 1.3, DTLS 1.2, 1.3).
    pub fn has_sigalgs(&self) -> bool {
        matches!(self.num("version"), 0x0303 | 0x0304 | 0xfefd | 0xfefc)
    }

    /// The key exchange class of the negotiated cipher.
    pub fn kex(&self) -> KeyExchangeClass {
        CipherSuite(u16::try_from(self.num("cipher")).unwrap_or(0)).key_exchange()
    }
}

/// `tests/fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every `.hex` file under `tests/fixtures/`, sorted by directory and name.
pub fn load_all() -> Vec<Fixture> {
    let mut out = Vec::new();
    let sorted = |dir: &Path, want_dir: bool| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|it| it.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.retain(|p| {
            if want_dir {
                p.is_dir()
            } else {
                p.extension().is_some_and(|x| x == "hex")
            }
        });
        v.sort();
        v
    };
    for dir in sorted(&fixtures_dir(), true) {
        for f in sorted(&dir, false) {
            if let Some(fx) = load(&dir, &f) {
                out.push(fx);
            }
        }
    }
    out
}

/// Parses one fixture file (`None` when unreadable or not hex).
pub fn load(dir: &Path, file: &Path) -> Option<Fixture> {
    let text = std::fs::read_to_string(file).ok()?;
    let dir = dir.file_name()?.to_str()?.to_string();
    let stem = file.file_stem()?.to_str()?;
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
    Some(Fixture {
        name: format!("{dir}/{stem}"),
        dir,
        title,
        params,
        bytes: crate::roundtrip::unhex(&hex)?,
    })
}
