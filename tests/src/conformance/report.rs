//! The result of a conformance run: per-capture counts and the mismatches left unexplained.
//!
//! In: what [`super::runner`] collected. Out: a summary table (per capture and in total: rows,
//! events and fields compared, mismatches, deviations applied), the uncovered mismatches, the
//! stale deviation entries, and [`Report::passed`].

use std::fmt::Write as _;

use super::mismatch::{Mismatch, Tally};

/// How a capture was handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Expectations were compared.
    Compared,
    /// Listed as unsupported in the deviations file, with this reason.
    Unsupported(String),
    /// Neither an expected file nor a zeek-live stream exists for it.
    NoExpectations,
}

/// The outcome for one capture.
#[derive(Debug, Clone)]
pub struct CaptureReport {
    /// Capture name.
    pub name: String,
    /// Manifest category, if any.
    pub category: Option<String>,
    /// How it was handled.
    pub status: Status,
    /// What was compared.
    pub tally: Tally,
    /// Analyzer runs made (one per distinct set of options).
    pub runs: usize,
    /// Mismatches covered by deviation entries.
    pub deviations_applied: usize,
    /// Expectations deliberately not compared, with the reason.
    pub skipped: Vec<String>,
    /// Mismatches not covered by any deviation.
    pub uncovered: Vec<Mismatch>,
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One entry per capture, sorted by name.
    pub captures: Vec<CaptureReport>,
    /// Deviation and unsupported entries that covered nothing, described.
    pub stale: Vec<String>,
}

/// Uncovered mismatches printed per capture before the rest is only counted.
const DETAILS_PER_CAPTURE: usize = 25;

impl Report {
    /// Totals over all captures.
    pub fn total(&self) -> (Tally, usize, usize) {
        let mut t = Tally::default();
        let (mut mismatches, mut applied) = (0, 0);
        for c in &self.captures {
            t += c.tally;
            mismatches += c.uncovered.len();
            applied += c.deviations_applied;
        }
        (t, mismatches, applied)
    }

    /// Every uncovered mismatch.
    pub fn uncovered(&self) -> impl Iterator<Item = &Mismatch> {
        self.captures.iter().flat_map(|c| c.uncovered.iter())
    }

    /// No uncovered mismatch and no stale entry.
    pub fn passed(&self) -> bool {
        self.uncovered().next().is_none() && self.stale.is_empty()
    }

    /// The summary table.
    pub fn table(&self) -> String {
        let width = self
            .captures
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(7)
            .max(7);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:width$}  {:>4} {:>5} {:>6} {:>6} {:>10} {:>9}  status",
            "capture", "runs", "rows", "events", "fields", "mismatches", "deviated"
        );
        for c in &self.captures {
            let status = match &c.status {
                Status::Compared if c.uncovered.is_empty() => "ok".to_owned(),
                Status::Compared => "FAIL".to_owned(),
                Status::Unsupported(r) => format!("UNSUPPORTED: {r}"),
                Status::NoExpectations => "no expectations".to_owned(),
            };
            let _ = writeln!(
                s,
                "{:width$}  {:>4} {:>5} {:>6} {:>6} {:>10} {:>9}  {status}",
                c.name,
                c.runs,
                c.tally.rows,
                c.tally.events,
                c.tally.fields,
                c.uncovered.len(),
                c.deviations_applied
            );
        }
        let (t, mismatches, applied) = self.total();
        let runs: usize = self.captures.iter().map(|c| c.runs).sum();
        let _ = writeln!(
            s,
            "{:width$}  {:>4} {:>5} {:>6} {:>6} {:>10} {:>9}  {} captures, {} unsupported",
            "TOTAL",
            runs,
            t.rows,
            t.events,
            t.fields,
            mismatches,
            applied,
            self.captures.len(),
            self.captures
                .iter()
                .filter(|c| matches!(c.status, Status::Unsupported(_)))
                .count()
        );
        let _ = writeln!(s, "{}", t.x509.line());
        s
    }

    /// The uncovered mismatches, stale entries and skipped expectations, for humans.
    pub fn details(&self) -> String {
        let mut s = String::new();
        for c in &self.captures {
            if c.uncovered.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "\n=== {}: {} uncovered mismatches",
                c.name,
                c.uncovered.len()
            );
            for m in c.uncovered.iter().take(DETAILS_PER_CAPTURE) {
                let _ = writeln!(s, "{m}");
            }
            if c.uncovered.len() > DETAILS_PER_CAPTURE {
                let _ = writeln!(
                    s,
                    "... and {} more for this capture",
                    c.uncovered.len() - DETAILS_PER_CAPTURE
                );
            }
        }
        if !self.stale.is_empty() {
            let _ = writeln!(
                s,
                "\n=== stale deviation entries (they cover nothing; remove them):"
            );
            for e in &self.stale {
                let _ = writeln!(s, "  {e}");
            }
        }
        let skipped: Vec<(&str, &String)> = self
            .captures
            .iter()
            .flat_map(|c| c.skipped.iter().map(move |r| (c.name.as_str(), r)))
            .collect();
        if !skipped.is_empty() {
            let _ = writeln!(s, "\n=== expectations not compared:");
            for (c, r) in skipped {
                let _ = writeln!(s, "  {c}: {r}");
            }
        }
        s
    }
}
