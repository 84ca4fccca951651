//! [`ReplayQuic`]: Zeek's own baselines served as if an analyzer had produced them, to check the
//! harness (parser, executor, comparator) on the real corpus.
//!
//! In: a test folder and its [`TestPlan`]. Out: for each `zeek` run of the plan, keyed by its
//! trace and options, the [`QuicRunOutput`] that reproduces the baselines:
//! * quic.log / ssl.log: the full baseline when the test diffs the log itself; otherwise a log
//!   rebuilt from the `zeek-cut` baselines that run feeds (their columns, their rows);
//! * events: Zeek's printed lines (`out`) turned back into events through the test's script
//!   ([`Script::unformat`]), the part of `out` that run printed (between the `echo`ed lines),
//!   plus one `conn_weird` per weird.log row.
//!
//! A [`Perturbation`] changes the served output, so that a test can check that the comparison
//! notices.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::steps::{QuicOptions, Step, TestPlan};
use super::table::{self, Table};
use super::{QuicAnalyzer, QuicRunOutput};

/// A change to the replayed output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perturbation {
    /// The first letter of quic.log's first `history` changes (`I` to `Z`, anything else to
    /// `I`).
    HistoryLetter,
    /// The first row of the log (`quic.log` or `ssl.log`) is dropped.
    DropRow(&'static str),
    /// ssl.log's first `server_name` becomes `perturbed.example`.
    ServerName,
    /// The first event of this name is dropped from the event stream.
    DropEvent(&'static str),
    /// `is_orig` of the first event of this name is negated.
    FlipIsOrig(&'static str),
}

/// Zeek's baselines as an analyzer.
#[derive(Debug, Clone, Default)]
pub struct ReplayQuic {
    runs: Vec<((PathBuf, QuicOptions), QuicRunOutput)>,
    /// What could not be reproduced (printed lines no handler prints, unreadable baselines).
    pub notes: Vec<String>,
}

fn read_baseline(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

/// A Zeek TSV log (`#fields`) holding the columns of cut baselines, row by row.
fn log_from_cuts(path: &str, cuts: &[Table]) -> String {
    let mut columns: Vec<String> = Vec::new();
    for c in cuts {
        for name in c.columns.iter().filter(|n| !n.is_empty()) {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    let n = cuts.iter().map(|c| c.rows.len()).max().unwrap_or(0);
    let rows: Vec<Vec<String>> = (0..n)
        .map(|i| {
            columns
                .iter()
                .map(|name| {
                    cuts.iter()
                        .find_map(|c| c.rows.get(i).and_then(|r| c.cell(r, name)))
                        .unwrap_or("-")
                        .to_string()
                })
                .collect()
        })
        .collect();
    table::write_log(path, &columns, &[], &rows)
}

impl ReplayQuic {
    /// The replay of one test.
    pub fn new(dir: &Path, plan: &TestPlan) -> ReplayQuic {
        let mut replay = ReplayQuic::default();
        let runs: Vec<usize> = plan
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, Step::Run(_)))
            .map(|(i, _)| i)
            .collect();
        // The printed lines of each run come from the baseline in order; `cursor` walks it.
        let mut out_cursor: std::collections::HashMap<String, usize> = Default::default();
        for (k, &at) in runs.iter().enumerate() {
            let Step::Run(run) = &plan.steps[at] else {
                continue;
            };
            let last = k + 1 == runs.len();
            let end = runs.get(k + 1).copied().unwrap_or(plan.steps.len());
            let log = |name: &str| -> String {
                let mut cuts = Vec::new();
                // A diff of the log itself (only meaningful for the last run).
                for s in &plan.steps {
                    if let Step::Diff { file, cut_columns } = s {
                        if file == name && last {
                            let Some(t) = read_baseline(dir, file) else {
                                continue;
                            };
                            match cut_columns {
                                None if table::parse_log(&t).is_some() => {
                                    return table::strip_banner(&t).to_string()
                                }
                                _ => cuts.push(table::parse_cut(&t)),
                            }
                        }
                    }
                }
                for s in &plan.steps[at + 1..end] {
                    if let Step::Cut { from, to, .. } = s {
                        if from == name {
                            if let Some(t) = read_baseline(dir, to) {
                                cuts.push(table::parse_cut(&t));
                            }
                        }
                    }
                }
                if cuts.is_empty() {
                    String::new()
                } else {
                    log_from_cuts(name.trim_end_matches(".log"), &cuts)
                }
            };
            let quic_log_tsv = log("quic.log");
            let ssl_log_tsv = log("ssl.log");
            let mut events: Vec<Value> = Vec::new();
            if let (Some(to), Some(script), true) = (&run.stdout, &plan.script, run.loads_input()) {
                let lines: Vec<String> = read_baseline(dir, &to.file)
                    .map(|t| {
                        table::strip_banner(&t)
                            .lines()
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                let cursor = out_cursor.entry(to.file.clone()).or_insert(0);
                // Skip what `echo` wrote before this run.
                let echoes = plan.echo_texts(&to.file);
                while lines
                    .get(*cursor)
                    .is_some_and(|l| echoes.contains(&l.as_str()))
                {
                    *cursor += 1;
                }
                while let Some(l) = lines.get(*cursor) {
                    if echoes.contains(&l.as_str()) {
                        break;
                    }
                    match script.unformat(l) {
                        Some(ev) => events.push(ev),
                        None => replay
                            .notes
                            .push(format!("{}: no handler prints `{l}`", to.file)),
                    }
                    *cursor += 1;
                }
            }
            if last {
                if let Some(w) = read_baseline(dir, "weird.log").and_then(|t| table::parse_log(&t))
                {
                    events.extend(weird_events(&w));
                }
            }
            let events_json = events.iter().map(|e| format!("{e}\n")).collect();
            replay.runs.push((
                (run.trace.clone(), run.options.clone()),
                QuicRunOutput {
                    quic_log_tsv,
                    ssl_log_tsv,
                    events_json,
                },
            ));
        }
        replay
    }

    /// The same replay with `p` applied to every run's output.
    pub fn perturbed(mut self, p: Perturbation) -> ReplayQuic {
        for (_, out) in &mut self.runs {
            match p {
                Perturbation::HistoryLetter => {
                    out.quic_log_tsv = edit_first_cell(&out.quic_log_tsv, "history", |h| {
                        let mut c = h.chars();
                        match c.next() {
                            Some('I') => format!("Z{}", c.as_str()),
                            Some(_) => format!("I{}", c.as_str()),
                            None => "I".into(),
                        }
                    });
                }
                Perturbation::DropRow(log) => {
                    let text = if log == "ssl.log" {
                        &mut out.ssl_log_tsv
                    } else {
                        &mut out.quic_log_tsv
                    };
                    *text = drop_first_row(text);
                }
                Perturbation::ServerName => {
                    out.ssl_log_tsv = edit_first_cell(&out.ssl_log_tsv, "server_name", |_| {
                        "perturbed.example".into()
                    });
                }
                Perturbation::FlipIsOrig(name) => {
                    let mut done = false;
                    out.events_json = out
                        .events_json
                        .lines()
                        .map(|l| match serde_json::from_str::<Value>(l) {
                            Ok(mut v)
                                if !done
                                    && v.get("event").and_then(Value::as_str) == Some(name) =>
                            {
                                if let Some(b) = v.pointer_mut("/args/is_orig") {
                                    *b = json!(!b.as_bool().unwrap_or(false));
                                    done = true;
                                }
                                format!("{v}\n")
                            }
                            _ => format!("{l}\n"),
                        })
                        .collect();
                }
                Perturbation::DropEvent(name) => {
                    let mut dropped = false;
                    out.events_json = out
                        .events_json
                        .lines()
                        .filter(|l| {
                            let hit = !dropped
                                && serde_json::from_str::<Value>(l).is_ok_and(|v| {
                                    v.get("event").and_then(Value::as_str) == Some(name)
                                });
                            dropped |= hit;
                            !hit
                        })
                        .map(|l| format!("{l}\n"))
                        .collect();
                }
            }
        }
        self
    }
}

/// One `conn_weird` per weird.log row.
fn weird_events(w: &Table) -> Vec<Value> {
    w.rows
        .iter()
        .map(|r| {
            let cell = |c: &str| w.cell(r, c).unwrap_or("").to_string();
            let unset = |c: &str| {
                let v = cell(c);
                if v == "-" {
                    String::new()
                } else {
                    v
                }
            };
            json!({
                "ts": 0.0,
                "uid": cell("uid"),
                "id": {
                    "orig_h": cell("id.orig_h"),
                    "orig_p": cell("id.orig_p").parse::<u64>().unwrap_or(0),
                    "resp_h": cell("id.resp_h"),
                    "resp_p": cell("id.resp_p").parse::<u64>().unwrap_or(0),
                },
                "event": "conn_weird",
                "args": {"name": cell("name"), "addl": unset("addl"), "source": unset("source")},
            })
        })
        .collect()
}

/// The log with `f` applied to `column` of its first data row.
fn edit_first_cell(log: &str, column: &str, f: impl Fn(&str) -> String) -> String {
    let Some(t) = table::parse_log(log) else {
        return log.to_string();
    };
    let Some(i) = t.column(column) else {
        return log.to_string();
    };
    let mut done = false;
    log.lines()
        .map(|l| {
            if done || l.starts_with('#') {
                return format!("{l}\n");
            }
            done = true;
            let mut cells: Vec<String> = l.split('\t').map(str::to_string).collect();
            if let Some(c) = cells.get_mut(i) {
                *c = f(c);
            }
            format!("{}\n", cells.join("\t"))
        })
        .collect()
}

/// The log without its first data row.
fn drop_first_row(log: &str) -> String {
    let mut done = false;
    log.lines()
        .filter(|l| {
            if done || l.starts_with('#') {
                return true;
            }
            done = true;
            false
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

impl QuicAnalyzer for ReplayQuic {
    fn run(&self, trace: &Path, opts: &QuicOptions) -> Result<QuicRunOutput, String> {
        self.runs
            .iter()
            .find(|((t, o), _)| t == trace && o == opts)
            .map(|(_, out)| out.clone())
            .ok_or_else(|| format!("replay: no run of {} with {opts:?}", trace.display()))
    }
}
