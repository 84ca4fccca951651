//! The QUIC deviations file: differences from Zeek's QUIC baselines we accept, each with a
//! reason.
//!
//! In: `tests/conformance/quic-deviations.toml`. Out: [`QuicDeviations`], which says which entry
//! (if any) covers a mismatch of a test's file.
//!
//! Format (TOML), one table per tolerated difference:
//!
//! ```toml
//! [[deviation]]
//! test   = "max-history-length"   # the test folder under zeek-quic/ (glob)
//! file   = "weird.log"            # the compared file (glob)
//! column = "addl"                 # optional (glob): only this column's mismatches; absent:
//!                                 # every mismatch of the file, a missing or failed file too
//! reason = "why the difference is accepted"
//! ```
//!
//! Globs: `*` matches any text, everything else is literal. An entry that covers nothing in a
//! run of the real analyzer is stale; the report lists it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::conformance::deviations::glob;

/// One tolerated difference.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QuicDeviation {
    /// Test folder (glob).
    pub test: String,
    /// Compared file (glob).
    pub file: String,
    /// Column (glob); `None`: the whole file.
    pub column: Option<String>,
    /// Why it is accepted.
    pub reason: String,
}

impl QuicDeviation {
    /// Whether the entry covers a difference in `column` (`None`: the file as a whole, e.g. not
    /// written or its run failed) of `file` in `test`.
    pub fn covers(&self, test: &str, file: &str, column: Option<&str>) -> bool {
        glob(&self.test, test)
            && glob(&self.file, file)
            && match (&self.column, column) {
                (None, _) => true,
                (Some(p), Some(c)) => glob(p, c),
                (Some(_), None) => false,
            }
    }
}

/// The parsed file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QuicDeviations {
    /// The entries.
    #[serde(default)]
    pub deviation: Vec<QuicDeviation>,
}

/// Where the file lives.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/quic-deviations.toml")
}

impl QuicDeviations {
    /// Reads the file; an absent file is an empty list.
    pub fn load(path: &Path) -> Result<QuicDeviations, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                QuicDeviations::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(QuicDeviations::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Parses and checks the text.
    pub fn parse(text: &str) -> Result<QuicDeviations, String> {
        let d: QuicDeviations = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, e) in d.deviation.iter().enumerate() {
            if e.test.trim().is_empty() || e.file.trim().is_empty() || e.reason.trim().is_empty() {
                return Err(format!(
                    "deviation entry {i}: test, file and reason must not be empty"
                ));
            }
        }
        Ok(d)
    }

    /// The index of the first entry covering the difference.
    pub fn covering(&self, test: &str, file: &str, column: Option<&str>) -> Option<usize> {
        self.deviation
            .iter()
            .position(|d| d.covers(test, file, column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_cover() {
        let d = QuicDeviations::parse(
            "[[deviation]]\ntest = \"max-*\"\nfile = \"weird.log\"\ncolumn = \"addl\"\nreason = \"r\"\n\
             [[deviation]]\ntest = \"chromium\"\nfile = \"ssl.log\"\nreason = \"r\"\n",
        )
        .expect("valid");
        assert_eq!(
            d.covering("max-history-length", "weird.log", Some("addl")),
            Some(0)
        );
        assert_eq!(
            d.covering("max-history-length", "weird.log", Some("name")),
            None
        );
        assert_eq!(d.covering("max-history-length", "weird.log", None), None);
        assert_eq!(d.covering("chromium", "ssl.log", None), Some(1));
        assert_eq!(d.covering("chromium", "ssl.log", Some("x")), Some(1));
        assert!(QuicDeviations::parse(
            "[[deviation]]\ntest = \"a\"\nfile = \"b\"\nreason = \"\"\n"
        )
        .is_err());
        assert!(QuicDeviations::parse(
            "[[deviation]]\ntest = \"a\"\nfile = \"b\"\nreason = \"r\"\nrow = 1\n"
        )
        .is_err());
    }
}
