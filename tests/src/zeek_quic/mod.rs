//! Conformance with Zeek's QUIC regression tests (`zeek-quic/` of the conformance corpus).
//!
//! In: the corpus folder `zeek-quic/<test>/` (each with `run.txt`, the btest command lines and
//! the test's own script, and Zeek's baselines), a [`QuicAnalyzer`] and
//! `tests/conformance/quic-deviations.toml`. Out: a [`QuicReport`]: per test and per compared
//! file, rows matched and every mismatch (file, row, column, expected, got), and a summary line.
//!
//! The pieces, in the order a test goes through them:
//! * [`steps`] reads run.txt into steps (`zeek` runs with their options, `zeek-cut`,
//!   `btest-diff`, `btest-diff-cut`, `echo`); lines it does not know are reported, not fatal;
//! * [`script`] reads the test's Zeek script and prints our events the way its `print`
//!   statements do;
//! * [`exec`] runs the steps over virtual files and compares at each diff ([`compare`], on
//!   [`table`]s);
//! * [`replay`] serves Zeek's own baselines as an analyzer, to check the harness itself;
//! * [`deviations`] reads the tolerated differences.

pub mod compare;
pub mod deviations;
pub mod exec;
pub mod replay;
pub mod script;
pub mod steps;
pub mod table;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use deviations::QuicDeviations;
pub use exec::{run_test, FileResult, Outcome, TestResult};
pub use replay::{Perturbation, ReplayQuic};
pub use steps::{QuicOptions, TestPlan};

/// What one `zeek -r TRACE` run of the analyzer under test produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuicRunOutput {
    /// quic.log in Zeek's TSV format (with the `#fields` header); empty when none was written.
    pub quic_log_tsv: String,
    /// ssl.log in Zeek's TSV format (with the `#fields` header); empty when none was written.
    pub ssl_log_tsv: String,
    /// The events as JSON Lines, as in `zeek-live/*.events.json`: `{"ts", "uid", "id",
    /// "event", "args"}` with byte strings `\xNN`-escaped. The QUIC events
    /// (`QUIC::initial_packet`, ...) with their arguments named as in Zeek's signatures,
    /// `analyzer_confirmation_info` with `args.atype` (`Analyzer::ANALYZER_QUIC`,
    /// `Analyzer::ANALYZER_SSL`), and `conn_weird` (`name`, `addl`, `source`), from which
    /// weird.log is made.
    pub events_json: String,
}

/// The QUIC analyzer as the harness sees it.
pub trait QuicAnalyzer {
    /// Analyses one trace with Zeek's settings `opts`.
    fn run(&self, trace: &Path, opts: &QuicOptions) -> Result<QuicRunOutput, String>;
}

/// One test folder of `zeek-quic/`.
#[derive(Debug, Clone)]
pub struct TestDir {
    /// The folder name.
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// Its plan.
    pub plan: TestPlan,
}

/// The test folders under `<corpus>/zeek-quic/`, sorted; folders without `run.txt` (such as
/// `traces/`) are skipped and named in the second list.
pub fn test_dirs(corpus_root: &Path) -> Result<(Vec<TestDir>, Vec<String>), String> {
    let base = corpus_root.join("zeek-quic");
    let entries = std::fs::read_dir(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let mut dirs = Vec::new();
    let mut skipped = Vec::new();
    for e in entries {
        let e = e.map_err(|e| format!("{}: {e}", base.display()))?;
        let path = e.path();
        if !path.is_dir() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let run = path.join("run.txt");
        match std::fs::read_to_string(&run) {
            Ok(text) => dirs.push(TestDir {
                name,
                plan: steps::parse_run_txt(&text, corpus_root),
                dir: path,
            }),
            Err(_) => skipped.push(name),
        }
    }
    dirs.sort_by(|a, b| a.name.cmp(&b.name));
    skipped.sort();
    Ok((dirs, skipped))
}

/// Every test's result.
#[derive(Debug, Clone, Default)]
pub struct QuicReport {
    /// Per test, sorted by name.
    pub tests: Vec<TestResult>,
    /// Folders without run.txt.
    pub skipped_dirs: Vec<String>,
    /// The deviations used, for the stale-entry check.
    pub deviations: QuicDeviations,
}

/// The counts of a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Files compared (or that should have been).
    pub files: usize,
    /// Of those, matching.
    pub files_matched: usize,
    /// Rows compared.
    pub rows: usize,
    /// Of those, matching.
    pub rows_matched: usize,
    /// Files the analyzer does not produce (conn.log, analyzer_debug.log).
    pub not_produced: usize,
    /// Diffs without a baseline in the corpus.
    pub no_baseline: usize,
    /// Mismatches tolerated by a deviation.
    pub tolerated: usize,
}

impl QuicReport {
    /// Runs every test; `analyzer_for` gives the analyzer of a test (the real one, or a replay).
    pub fn run(
        tests: &[TestDir],
        skipped_dirs: Vec<String>,
        devs: &QuicDeviations,
        mut analyzer_for: impl FnMut(&TestDir) -> Box<dyn QuicAnalyzer>,
    ) -> QuicReport {
        let tests = tests
            .iter()
            .map(|t| run_test(&t.name, &t.dir, &t.plan, &*analyzer_for(t), devs))
            .collect();
        QuicReport {
            tests,
            skipped_dirs,
            deviations: devs.clone(),
        }
    }

    /// Every (test, file) result.
    pub fn files(&self) -> impl Iterator<Item = (&TestResult, &FileResult)> {
        self.tests
            .iter()
            .flat_map(|t| t.files.iter().map(move |f| (t, f)))
    }

    /// The counts.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for (_, f) in self.files() {
            match &f.outcome {
                Outcome::NotProduced(_) => t.not_produced += 1,
                Outcome::NoBaseline => t.no_baseline += 1,
                o => {
                    t.files += 1;
                    t.files_matched += usize::from(o.matches());
                    if let Outcome::Compared {
                        rows_total,
                        rows_matched,
                        found,
                    } = o
                    {
                        t.rows += rows_total;
                        t.rows_matched += rows_matched;
                        t.tolerated += found.iter().filter(|f| f.tolerated_by.is_some()).count();
                    }
                }
            }
        }
        t
    }

    /// Whether every compared file matches.
    pub fn passed(&self) -> bool {
        self.files().all(|(_, f)| f.outcome.matches())
    }

    /// Deviation entries that covered nothing.
    pub fn stale_deviations(&self) -> Vec<usize> {
        let mut used = vec![false; self.deviations.deviation.len()];
        for (_, f) in self.files() {
            let mut mark = |i: &Option<usize>| {
                if let Some(i) = *i {
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                }
            };
            match &f.outcome {
                Outcome::Compared { found, .. } => found.iter().for_each(|x| mark(&x.tolerated_by)),
                Outcome::Missing { tolerated_by } | Outcome::RunFailed { tolerated_by, .. } => {
                    mark(tolerated_by)
                }
                _ => {}
            }
        }
        (0..used.len()).filter(|&i| !used[i]).collect()
    }

    /// `zeek-quic: 40/45 files match; rows 120/131; not produced: 20 (conn.log)`.
    pub fn summary(&self) -> String {
        let t = self.totals();
        let mut kinds: Vec<String> = self
            .files()
            .filter_map(|(_, f)| match &f.outcome {
                Outcome::NotProduced(r) => Some(
                    r.trim_start_matches("not produced (no ")
                        .trim_end_matches(')')
                        .to_string(),
                ),
                _ => None,
            })
            .collect();
        kinds.sort();
        kinds.dedup();
        format!(
            "zeek-quic: {}/{} files match; rows {}/{}; not produced: {} ({}); no baseline: {}; \
             tolerated mismatches: {}",
            t.files_matched,
            t.files,
            t.rows_matched,
            t.rows,
            t.not_produced,
            kinds.join(", "),
            t.no_baseline,
            t.tolerated
        )
    }

    /// One line per test and file, every untolerated mismatch, and the notes.
    pub fn details(&self) -> String {
        let mut s = String::new();
        for t in &self.tests {
            let _ = writeln!(s, "{}:", t.test);
            for f in &t.files {
                let _ = match &f.outcome {
                    Outcome::Compared {
                        rows_total,
                        rows_matched,
                        found,
                    } => {
                        let bad = found.iter().filter(|x| x.tolerated_by.is_none()).count();
                        let tol = found.len() - bad;
                        writeln!(
                            s,
                            "  {:<36} {} rows {rows_matched}/{rows_total}{}{}",
                            f.file,
                            if bad == 0 { "ok  " } else { "FAIL" },
                            if bad > 0 {
                                format!(", {bad} mismatches")
                            } else {
                                String::new()
                            },
                            if tol > 0 {
                                format!(", {tol} tolerated")
                            } else {
                                String::new()
                            },
                        )
                    }
                    Outcome::NotProduced(r) => writeln!(s, "  {:<36} --   {r}", f.file),
                    Outcome::NoBaseline => {
                        writeln!(s, "  {:<36} --   no baseline in the corpus", f.file)
                    }
                    Outcome::Missing { tolerated_by } => writeln!(
                        s,
                        "  {:<36} {} not written by the analyzer",
                        f.file,
                        if tolerated_by.is_some() {
                            "tol "
                        } else {
                            "FAIL"
                        }
                    ),
                    Outcome::RunFailed {
                        error,
                        tolerated_by,
                    } => writeln!(
                        s,
                        "  {:<36} {} run failed: {error}",
                        f.file,
                        if tolerated_by.is_some() {
                            "tol "
                        } else {
                            "FAIL"
                        }
                    ),
                    Outcome::BadBaseline(e) => {
                        writeln!(s, "  {:<36} FAIL baseline unreadable: {e}", f.file)
                    }
                };
                if let Outcome::Compared { found, .. } = &f.outcome {
                    for m in found
                        .iter()
                        .filter(|x| x.tolerated_by.is_none())
                        .map(|x| &x.mismatch)
                    {
                        let _ = writeln!(
                            s,
                            "      MISMATCH {} row {} column {}: expected {:?}, got {:?}",
                            f.file, m.row, m.column, m.expected, m.got
                        );
                    }
                }
            }
            for n in &t.notes {
                let _ = writeln!(s, "  note: {n}");
            }
        }
        for d in &self.skipped_dirs {
            let _ = writeln!(s, "skipped folder without run.txt: {d}");
        }
        for i in self.stale_deviations() {
            if let Some(d) = self.deviations.deviation.get(i) {
                let _ = writeln!(
                    s,
                    "STALE deviation #{i} (test {}, file {}, column {:?}): covers nothing",
                    d.test, d.file, d.column
                );
            }
        }
        s
    }
}
