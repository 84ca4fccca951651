//! One difference between Zeek's behaviour and ours, described so that a human can act on it.
//!
//! In: what the comparators found. Out: [`Mismatch`] values that name the capture, the
//! expectation source, the connection, the event index, the field, and both values; the
//! deviations file selects mismatches by the same names.

use std::fmt;

/// What kind of difference a [`Mismatch`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MismatchKind {
    /// A field of a matched event or row differs.
    Value,
    /// An expected event has no counterpart in our stream.
    MissingEvent,
    /// Our stream has an event that the expectation does not have.
    ExtraEvent,
    /// An expected ssl.log row has no counterpart.
    MissingRow,
    /// We wrote an ssl.log row that the expectation does not have.
    ExtraRow,
    /// The analyzer could not run on the capture, or its output is not valid JSON Lines.
    RunFailed,
    /// A file of the corpus could not be read (a corpus problem, not an analyzer one).
    CorpusError,
}

impl MismatchKind {
    /// The name used in reports and in the deviations file (`kind = "..."`).
    pub fn name(self) -> &'static str {
        match self {
            MismatchKind::Value => "value",
            MismatchKind::MissingEvent => "missing-event",
            MismatchKind::ExtraEvent => "extra-event",
            MismatchKind::MissingRow => "missing-row",
            MismatchKind::ExtraRow => "extra-row",
            MismatchKind::RunFailed => "run-failed",
            MismatchKind::CorpusError => "corpus-error",
        }
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Capture path relative to the traces directory (`tls/tls1.2.pcap`).
    pub capture: String,
    /// Which expectation: `zeek-live events`, `zeek-live ssl.log`, or the `source` of an
    /// expected file's group (`scripts/base/protocols/ssl/basic.test:ssl.log`).
    pub source: String,
    /// What kind of difference.
    pub kind: MismatchKind,
    /// The connection, `orig_h:orig_p > resp_h:resp_p` (parts the expectation did not give are
    /// `?`).
    pub connection: Option<String>,
    /// The event name, for event mismatches.
    pub event: Option<String>,
    /// Index of the event in the expected sequence (per connection for zeek-live, per group for
    /// expected files), of our event for extra events, or of the row for ssl.log mismatches.
    pub index: Option<usize>,
    /// The differing field (`args.client_random`, `ssl_history`).
    pub field: Option<String>,
    /// The expected value, rendered.
    pub expected: String,
    /// Our value, rendered.
    pub got: String,
    /// Parts of the Zeek run that our options did not reproduce.
    pub notes: Vec<String>,
}

impl Mismatch {
    /// A mismatch with only capture, source and kind set; callers fill in the rest.
    pub fn new(capture: &str, source: &str, kind: MismatchKind) -> Self {
        Mismatch {
            capture: capture.to_owned(),
            source: source.to_owned(),
            kind,
            connection: None,
            event: None,
            index: None,
            field: None,
            expected: String::new(),
            got: String::new(),
            notes: Vec::new(),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] {}", self.capture, self.source, self.kind.name())?;
        if let Some(c) = &self.connection {
            write!(f, " conn {c}")?;
        }
        if let Some(i) = self.index {
            write!(f, " #{i}")?;
        }
        if let Some(e) = &self.event {
            write!(f, " {e}")?;
        }
        if let Some(fl) = &self.field {
            write!(f, " field {fl}")?;
        }
        write!(
            f,
            "\n    expected: {}\n    got:      {}",
            self.expected, self.got
        )?;
        for n in &self.notes {
            write!(f, "\n    note: {n}")?;
        }
        Ok(())
    }
}

/// What a comparison covered, for the summary table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// ssl.log rows compared (expected rows, matched or not).
    pub rows: usize,
    /// Events compared (expected events, matched or not).
    pub events: usize,
    /// Leaf fields compared in matched events and rows.
    pub fields: usize,
    /// zeek-live x509.log, counted apart for its summary line.
    pub x509: X509Tally,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.rows += o.rows;
        self.events += o.events;
        self.fields += o.fields;
        self.x509 += o.x509;
    }
}

/// zeek-live x509.log rows: Zeek's, those of ours equal to them in every column, ours that Zeek
/// did not write, and the captures with at least one of Zeek's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct X509Tally {
    /// Zeek's rows.
    pub rows: usize,
    /// Zeek's rows matched by one of ours in every column (before deviations).
    pub matched: usize,
    /// Our rows without a Zeek row.
    pub extra: usize,
    /// Captures with at least one Zeek row.
    pub captures: usize,
}

impl std::ops::AddAssign for X509Tally {
    fn add_assign(&mut self, o: X509Tally) {
        self.rows += o.rows;
        self.matched += o.matched;
        self.extra += o.extra;
        self.captures += o.captures;
    }
}

impl X509Tally {
    /// The tally of one capture's comparison, from the mismatches it produced.
    pub fn of(zeek_rows: usize, mismatches: &[Mismatch]) -> X509Tally {
        let mut bad: Vec<usize> = mismatches
            .iter()
            .filter(|m| m.kind != MismatchKind::ExtraRow)
            .filter_map(|m| m.index)
            .collect();
        bad.sort_unstable();
        bad.dedup();
        X509Tally {
            rows: zeek_rows,
            matched: zeek_rows.saturating_sub(bad.len()),
            extra: mismatches
                .iter()
                .filter(|m| m.kind == MismatchKind::ExtraRow)
                .count(),
            captures: usize::from(zeek_rows > 0),
        }
    }

    /// The summary line.
    pub fn line(&self) -> String {
        format!(
            "zeek-live x509.log: {}/{} of Zeek's rows matched in every column ({} captures with \
             rows); rows of ours without a Zeek row: {} (each needs a deviation)",
            self.matched, self.rows, self.captures, self.extra
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x509_tally_counts_rows_not_mismatches() {
        let at = |kind, i| {
            let mut m = Mismatch::new("c", "zeek-live x509.log", kind);
            m.index = Some(i);
            m
        };
        // Row 1 differs in two columns, row 3 is missing, and one of ours is extra.
        let ms = [
            at(MismatchKind::Value, 1),
            at(MismatchKind::Value, 1),
            at(MismatchKind::MissingRow, 3),
            at(MismatchKind::ExtraRow, 4),
        ];
        let t = X509Tally::of(5, &ms);
        assert_eq!(
            t,
            X509Tally {
                rows: 5,
                matched: 3,
                extra: 1,
                captures: 1
            }
        );
        assert_eq!(X509Tally::of(0, &[]).captures, 0);
        assert!(t.line().contains("3/5 of Zeek's rows"));
    }
}
