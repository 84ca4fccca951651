//! Runs the analyzer over the corpus and compares everything.
//!
//! In: a [`Corpus`], an [`Analyzer`], [`Deviations`] and a [`Scope`]. Out: a [`Report`].
//! The analyzer runs once per capture and distinct set of options (most captures need one or
//! two runs); every mismatch is checked against the deviations, and entries that covered
//! nothing are reported as stale.

use serde_json::Value;

use super::analyzer::{Analyzer, RunOptions};
use super::corpus::{parse_events, parse_jsonl, read_jsonl, CaptureEntry, Corpus, Event};
use super::deviations::Deviations;
use super::expected::{checks_for, run_check};
use super::live::{compare_events, LIVE_EVENTS, LIVE_SSL, LIVE_X509};
use super::mismatch::{Mismatch, MismatchKind, Tally, X509Tally};
use super::report::{CaptureReport, Report, Status};
use super::rows::{compare_rows, Columns, RowContext};
use super::value::{Comparer, Style};

/// What to compare.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Compare `zeek/expected/`.
    pub expected: bool,
    /// Compare `zeek-live/`.
    pub live: bool,
    /// Restrict to these captures (all when `None`).
    pub only: Option<Vec<String>>,
    /// Report deviation entries that covered nothing as stale. Only meaningful when every
    /// capture and source the entries name was compared (the full run, or a self-check with a
    /// deviations text made for its scope).
    pub check_stale: bool,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            expected: true,
            live: true,
            only: None,
            check_stale: true,
        }
    }
}

/// Our parsed output of one run.
/// Our events, ssl.log rows and x509.log rows.
type Parsed = Result<(Vec<Event>, Vec<Value>, Vec<Value>), String>;

/// Runs every capture in scope.
pub fn run_conformance(
    corpus: &Corpus,
    analyzer: &dyn Analyzer,
    deviations: &Deviations,
    scope: &Scope,
) -> Report {
    let mut used_dev = vec![0usize; deviations.deviation.len()];
    let mut used_unsupported = vec![false; deviations.unsupported.len()];
    let mut report = Report::default();
    for entry in &corpus.captures {
        if let Some(only) = &scope.only {
            if !only.contains(&entry.name) {
                continue;
            }
        }
        let mut cr = CaptureReport {
            name: entry.name.clone(),
            category: entry.category.clone(),
            status: Status::Compared,
            tally: Tally::default(),
            runs: 0,
            deviations_applied: 0,
            skipped: Vec::new(),
            uncovered: Vec::new(),
        };
        if let Some(i) = deviations
            .unsupported
            .iter()
            .position(|u| super::deviations::glob(&u.capture, &entry.name))
        {
            used_unsupported[i] = true;
            cr.status = Status::Unsupported(deviations.unsupported[i].reason.clone());
            report.captures.push(cr);
            continue;
        }
        let mut found = Vec::new();
        compare_capture(corpus, entry, analyzer, scope, &mut cr, &mut found);
        for m in found {
            match deviations.covering(&m) {
                Some(i) => {
                    used_dev[i] += 1;
                    cr.deviations_applied += 1;
                }
                None => cr.uncovered.push(m),
            }
        }
        report.captures.push(cr);
    }
    if scope.check_stale {
        for (i, d) in deviations.deviation.iter().enumerate() {
            if used_dev[i] == 0 {
                report.stale.push(format!("[[deviation]] {}", d.describe()));
            }
        }
        for (i, u) in deviations.unsupported.iter().enumerate() {
            if !used_unsupported[i] {
                report.stale.push(format!(
                    "[[unsupported]] capture={} matches no capture of the corpus",
                    u.capture
                ));
            }
        }
    }
    report
}

fn compare_capture(
    corpus: &Corpus,
    entry: &CaptureEntry,
    analyzer: &dyn Analyzer,
    scope: &Scope,
    cr: &mut CaptureReport,
    out: &mut Vec<Mismatch>,
) {
    let mut runs: Vec<(RunOptions, Parsed)> = Vec::new();
    let mut run = |opts: &RunOptions, cr: &mut CaptureReport| -> Parsed {
        if let Some((_, p)) = runs.iter().find(|(o, _)| o == opts) {
            return p.clone();
        }
        cr.runs += 1;
        let parsed = analyzer.run(&entry.trace, opts).and_then(|o| {
            let ev = parse_events(&o.events, "our events")?;
            let rows = parse_jsonl(&o.ssl_log, "our ssl.log")?;
            let x509 = parse_jsonl(&o.x509_log, "our x509.log")?;
            Ok((ev, rows, x509))
        });
        runs.push((opts.clone(), parsed.clone()));
        parsed
    };
    let run_failed = |source: &str, opts: &RunOptions, e: &str| {
        let mut m = Mismatch::new(&entry.name, source, MismatchKind::RunFailed);
        m.expected = format!("a successful run with {opts:?}");
        m.got = e.to_owned();
        m
    };
    let mut compared_any = false;
    if scope.expected {
        match checks_for(corpus, entry) {
            Err(e) => {
                let mut m = Mismatch::new(&entry.name, "zeek/expected", MismatchKind::CorpusError);
                m.got = e;
                out.push(m);
            }
            Ok((checks, skipped)) => {
                cr.skipped.extend(skipped);
                for check in &checks {
                    compared_any = true;
                    match run(&check.plan.options, cr) {
                        Ok((events, rows, _)) => {
                            run_check(&entry.name, check, &events, &rows, &mut cr.tally, out);
                        }
                        Err(e) => {
                            let mut m = run_failed(&check.source, &check.plan.options, &e);
                            m.notes = check.plan.notes.clone();
                            out.push(m);
                        }
                    }
                }
            }
        }
    }
    if scope.live {
        if let Some(ev_path) = &entry.live_events {
            compared_any = true;
            let zeek = std::fs::read_to_string(ev_path)
                .map_err(|e| format!("{}: {e}", ev_path.display()))
                .and_then(|text| parse_events(&text, &ev_path.display().to_string()));
            let zeek_rows = match &entry.live_ssl {
                Some(p) => read_jsonl(p),
                None => Ok(Vec::new()),
            };
            let zeek_x509 = match &entry.live_x509 {
                Some(p) => read_jsonl(p),
                None => Ok(Vec::new()),
            };
            let opts = RunOptions::zeek_live();
            match (zeek, zeek_rows.and_then(|r| Ok((r, zeek_x509?)))) {
                (Ok(zeek), Ok((zeek_rows, zeek_x509))) => match run(&opts, cr) {
                    Ok((events, rows, x509)) => {
                        compare_events(&entry.name, &zeek, &events, &mut cr.tally, out);
                        let ctx = RowContext {
                            capture: &entry.name,
                            source: LIVE_SSL,
                            notes: &[],
                        };
                        let cmp = Comparer {
                            expected: Style::Zeek,
                            got: Style::Zeek,
                        };
                        compare_rows(
                            &ctx,
                            &zeek_rows,
                            &rows,
                            cmp,
                            &Columns::All,
                            true,
                            &mut cr.tally,
                            out,
                        );
                        // x509.log rows carry no connection: they are matched in order.
                        let ctx = RowContext {
                            capture: &entry.name,
                            source: LIVE_X509,
                            notes: &[],
                        };
                        let before = out.len();
                        compare_rows(
                            &ctx,
                            &zeek_x509,
                            &x509,
                            cmp,
                            &Columns::All,
                            true,
                            &mut cr.tally,
                            out,
                        );
                        cr.tally.x509 += X509Tally::of(zeek_x509.len(), &out[before..]);
                    }
                    Err(e) => out.push(run_failed(LIVE_EVENTS, &opts, &e)),
                },
                (Err(e), _) | (_, Err(e)) => {
                    let mut m = Mismatch::new(&entry.name, LIVE_EVENTS, MismatchKind::CorpusError);
                    m.got = e;
                    out.push(m);
                }
            }
        }
    }
    if !compared_any {
        cr.status = Status::NoExpectations;
    }
}
