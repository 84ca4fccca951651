//! Running one test's steps against an analyzer and comparing at each `btest-diff`.
//!
//! In: a test folder (its baselines), its [`TestPlan`], a [`QuicAnalyzer`] and the deviations.
//! Out: a [`TestResult`]: per compared file an [`Outcome`], and notes (lines not interpreted,
//! options the analyzer cannot honour, script statements not understood).
//!
//! The steps run in order over a set of virtual files: a `zeek` run "writes" quic.log, ssl.log,
//! weird.log (from the `conn_weird` events) and, when its stdout is redirected and it loads the
//! test's script, the lines that script prints for our events; `zeek-cut` and `echo` write as
//! they would; `btest-diff` compares. conn.log and analyzer_debug.log are Zeek's connection and
//! analyzer logs, which the analyzer does not write: files derived from them are
//! [`Outcome::NotProduced`], listed but not failures.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::compare::{compare, Mismatch, Rules};
use super::deviations::QuicDeviations;
use super::steps::{Redirect, RunStep, Step, TestPlan};
use super::table::{self, Form, Table};
use super::{QuicAnalyzer, QuicRunOutput};

/// A virtual file's state.
#[derive(Debug, Clone)]
enum FileState {
    /// Its text.
    Written(String),
    /// A Zeek file the analyzer does not produce (the reason).
    NotProduced(String),
    /// The run that should have written it failed (the error).
    RunFailed(String),
}

/// A mismatch and the deviation entry that tolerates it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The difference.
    pub mismatch: Mismatch,
    /// The index of the covering entry of the deviations file.
    pub tolerated_by: Option<usize>,
}

/// What comparing one file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Compared row by row.
    Compared {
        /// Rows compared (baseline rows plus extra rows of ours).
        rows_total: usize,
        /// Rows without an untolerated mismatch.
        rows_matched: usize,
        /// Every difference, header ones included.
        found: Vec<Found>,
    },
    /// A file the analyzer does not produce (conn.log, analyzer_debug.log); not a failure.
    NotProduced(String),
    /// The corpus has no baseline for it; nothing to compare.
    NoBaseline,
    /// We wrote no such file (a failure unless a deviation covers the file).
    Missing {
        /// The covering deviation entry.
        tolerated_by: Option<usize>,
    },
    /// The run that writes it failed (a failure unless a deviation covers the file).
    RunFailed {
        /// The analyzer's error.
        error: String,
        /// The covering deviation entry.
        tolerated_by: Option<usize>,
    },
    /// The baseline could not be read.
    BadBaseline(String),
}

impl Outcome {
    /// Whether the file counts as matching (compared without untolerated mismatches, or a
    /// failure that a deviation covers).
    pub fn matches(&self) -> bool {
        match self {
            Outcome::Compared { found, .. } => found.iter().all(|f| f.tolerated_by.is_some()),
            Outcome::Missing { tolerated_by } | Outcome::RunFailed { tolerated_by, .. } => {
                tolerated_by.is_some()
            }
            Outcome::BadBaseline(_) => false,
            Outcome::NotProduced(_) | Outcome::NoBaseline => true,
        }
    }

    /// Whether the file was compared, or should have been (neither not produced nor without a
    /// baseline).
    pub fn counts(&self) -> bool {
        !matches!(self, Outcome::NotProduced(_) | Outcome::NoBaseline)
    }
}

/// One `btest-diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileResult {
    /// The file (as btest-diff names it).
    pub file: String,
    /// What comparing it gave.
    pub outcome: Outcome,
}

/// One test folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestResult {
    /// The folder name.
    pub test: String,
    /// Per `btest-diff`, in order.
    pub files: Vec<FileResult>,
    /// Lines not interpreted, unsupported options, script statements not understood.
    pub notes: Vec<String>,
}

/// Why Zeek's `file` is not produced by the analyzer, if it is one of those.
pub fn not_produced_reason(file: &str) -> Option<String> {
    ["conn.log", "analyzer_debug.log", "analyzer.log", "dpd.log"]
        .iter()
        .find(|l| file == **l || file.starts_with(&format!("{l}.")))
        .map(|l| format!("not produced (no {l})"))
}

/// btest's file of the commands' standard error.
const STDERR: &str = ".stderr";

/// The columns of Zeek's weird.log.
const WEIRD_COLUMNS: [&str; 11] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "name",
    "addl",
    "notice",
    "peer",
    "source",
];

/// Their types.
const WEIRD_TYPES: [&str; 11] = [
    "time", "string", "addr", "port", "addr", "port", "string", "string", "bool", "string",
    "string",
];

/// weird.log in Zeek's TSV for the `conn_weird` events of an event stream (lines that are not
/// JSON are skipped; they are reported where the stream is formatted).
pub fn weird_log(events_json: &str) -> String {
    let text = |v: Option<&Value>| -> String {
        match v {
            Some(Value::String(s)) if s.is_empty() => "-".into(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => "-".into(),
        }
    };
    let rows: Vec<Vec<String>> = events_json
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("event").and_then(Value::as_str) == Some("conn_weird"))
        .map(|v| {
            let id = v.get("id");
            let idf = |k: &str| text(id.and_then(|i| i.get(k)));
            let arg = |k: &str| text(v.get("args").and_then(|a| a.get(k)));
            let ts = v
                .get("ts")
                .and_then(Value::as_f64)
                .map_or("-".into(), |t| format!("{t:.6}"));
            vec![
                ts,
                text(v.get("uid")),
                idf("orig_h"),
                idf("orig_p"),
                idf("resp_h"),
                idf("resp_p"),
                arg("name"),
                arg("addl"),
                "F".into(),
                "zeek".into(),
                arg("source"),
            ]
        })
        .collect();
    let cols: Vec<String> = WEIRD_COLUMNS.iter().map(|s| s.to_string()).collect();
    let types: Vec<String> = WEIRD_TYPES.iter().map(|s| s.to_string()).collect();
    table::write_log("weird", &cols, &types, &rows)
}

/// The executor's state for one test.
struct Exec<'a> {
    test: &'a str,
    dir: &'a Path,
    plan: &'a TestPlan,
    devs: &'a QuicDeviations,
    files: BTreeMap<String, FileState>,
    result: TestResult,
}

impl Exec<'_> {
    /// Writes or appends; appending to the output of a failed run keeps the failure (the
    /// file's baseline cannot match, and the report should say why).
    fn write(&mut self, to: &Redirect, state: FileState) {
        let next = match (state, self.files.get(&to.file)) {
            (FileState::Written(add), Some(FileState::Written(old))) if to.append => {
                FileState::Written(format!("{old}{add}"))
            }
            (_, Some(failed @ FileState::RunFailed(_))) if to.append => failed.clone(),
            (s, _) => s,
        };
        self.files.insert(to.file.clone(), next);
    }

    fn run(&mut self, analyzer: &dyn QuicAnalyzer, r: &RunStep) {
        for u in &r.options.unsupported {
            self.result.notes.push(format!(
                "{}: option `{u}` is not passed to the analyzer",
                r.trace_arg
            ));
        }
        let out = analyzer.run(&r.trace, &r.options);
        let logs = ["quic.log", "ssl.log", "weird.log"];
        // btest collects every command's stderr in `.stderr`; Zeek's baselines of it are empty.
        // Ours is the error of a failed run.
        let stderr = Redirect {
            file: STDERR.into(),
            append: true,
        };
        let output = match out {
            Ok(o) => {
                self.write(&stderr, FileState::Written(String::new()));
                o
            }
            Err(e) => {
                let e = format!("{}: {e}", r.trace_arg);
                self.write(&stderr, FileState::Written(format!("{e}\n")));
                for l in logs {
                    self.files.insert(l.into(), FileState::RunFailed(e.clone()));
                }
                if let Some(to) = &r.stdout {
                    self.write(to, FileState::RunFailed(e.clone()));
                }
                return;
            }
        };
        let QuicRunOutput {
            quic_log_tsv,
            ssl_log_tsv,
            events_json,
        } = output;
        let weird = weird_log(&events_json);
        for (l, text) in logs.into_iter().zip([quic_log_tsv, ssl_log_tsv, weird]) {
            self.files.insert(l.into(), FileState::Written(text));
        }
        for l in ["conn.log", "analyzer_debug.log"] {
            if let Some(reason) = not_produced_reason(l) {
                self.files.insert(l.into(), FileState::NotProduced(reason));
            }
        }
        let Some(to) = &r.stdout else {
            return;
        };
        // Without the test's script loaded, a run prints nothing.
        let printed = match (&self.plan.script, r.loads_input()) {
            (Some(script), true) => match script.format(&events_json) {
                Ok(lines) => FileState::Written(lines.iter().map(|l| format!("{l}\n")).collect()),
                Err(e) => FileState::RunFailed(e),
            },
            _ => FileState::Written(String::new()),
        };
        self.write(to, printed);
    }

    fn cut(&mut self, columns: &[String], from: &str, to: &str) {
        let state = match self.files.get(from) {
            Some(FileState::Written(t)) => FileState::Written(table::zeek_cut(t, columns)),
            Some(other) => other.clone(),
            None => match not_produced_reason(from) {
                Some(r) => FileState::NotProduced(r),
                None => FileState::Written(String::new()),
            },
        };
        self.files.insert(to.to_string(), state);
    }

    fn diff(&mut self, file: &str, cut_columns: Option<&[String]>) {
        let outcome = self.diff_outcome(file, cut_columns);
        self.result.files.push(FileResult {
            file: file.to_string(),
            outcome,
        });
    }

    fn diff_outcome(&mut self, file: &str, cut_columns: Option<&[String]>) -> Outcome {
        let baseline = self.dir.join(file);
        let state = self.files.get(file).cloned().or_else(|| {
            // A file no step wrote: a Zeek log we never write, or nothing.
            not_produced_reason(file).map(FileState::NotProduced)
        });
        if let Some(FileState::NotProduced(r)) = &state {
            return Outcome::NotProduced(r.clone());
        }
        if !baseline.is_file() {
            return Outcome::NoBaseline;
        }
        let exp_text = match std::fs::read_to_string(&baseline) {
            Ok(t) => t,
            Err(e) => return Outcome::BadBaseline(format!("{}: {e}", baseline.display())),
        };
        let whole = self.devs.covering(self.test, file, None);
        let ours = match state {
            Some(FileState::Written(t)) => t,
            Some(FileState::RunFailed(error)) => {
                return Outcome::RunFailed {
                    error,
                    tolerated_by: whole,
                }
            }
            Some(FileState::NotProduced(r)) => return Outcome::NotProduced(r),
            None => {
                return Outcome::Missing {
                    tolerated_by: whole,
                }
            }
        };
        // btest-diff-cut cuts both sides' logs; a Cut step made our file a cut already, and
        // its baseline is one.
        let produced_by_cut = self
            .plan
            .steps
            .iter()
            .any(|s| matches!(s, Step::Cut { to, .. } if to == file));
        let (exp, got) = match cut_columns {
            Some(cols) => (
                table::parse_cut(&exp_text),
                table::parse_cut(&table::zeek_cut(&ours, cols)),
            ),
            None if produced_by_cut => (table::parse_cut(&exp_text), table::parse_cut(&ours)),
            None => {
                let exp = table::parse_as(&exp_text, false);
                (exp.clone(), self.ours_like(&exp, &ours))
            }
        };
        let rules = Rules {
            only_columns: file
                .starts_with("weird.log")
                .then(|| vec!["name".to_string(), "addl".to_string()]),
            run_markers: self
                .plan
                .echo_texts(file)
                .into_iter()
                .map(str::to_string)
                .collect(),
        };
        let mut d = compare(&exp, &got, &rules);
        if exp.form == Form::ZeekLog && table::parse_log(&ours).is_none() {
            d.header.insert(
                0,
                Mismatch {
                    row: 0,
                    column: "(#fields)".into(),
                    expected: "a Zeek TSV log".into(),
                    got: if ours.is_empty() {
                        "an empty file".into()
                    } else {
                        "no #fields line".into()
                    },
                },
            );
        }
        let tag = |m: Mismatch| Found {
            tolerated_by: self.devs.covering(self.test, file, Some(&m.column)),
            mismatch: m,
        };
        let mut found: Vec<Found> = d.header.into_iter().map(tag).collect();
        let rows_total = d.rows.len();
        let mut rows_matched = 0;
        for row in d.rows {
            let row: Vec<Found> = row.into_iter().map(tag).collect();
            if row.iter().all(|f| f.tolerated_by.is_some()) {
                rows_matched += 1;
            }
            found.extend(row);
        }
        Outcome::Compared {
            rows_total,
            rows_matched,
            found,
        }
    }

    /// Our file read in the baseline's form; a log we did not write as one compares as a log
    /// without rows (the header mismatch says why).
    fn ours_like(&self, exp: &Table, ours: &str) -> Table {
        match exp.form {
            Form::ZeekLog => table::parse_log(ours).unwrap_or_else(|| Table {
                form: Form::ZeekLog,
                columns: exp.columns.clone(),
                types: exp.types.clone(),
                rows: Vec::new(),
            }),
            Form::Cut => table::parse_cut(ours),
            Form::Lines => table::parse_lines(ours),
        }
    }
}

/// Runs one test's steps with `analyzer` and compares at each `btest-diff`.
pub fn run_test(
    test: &str,
    dir: &Path,
    plan: &TestPlan,
    analyzer: &dyn QuicAnalyzer,
    devs: &QuicDeviations,
) -> TestResult {
    let mut ex = Exec {
        test,
        dir,
        plan,
        devs,
        files: BTreeMap::new(),
        result: TestResult {
            test: test.to_string(),
            ..TestResult::default()
        },
    };
    for (line, note) in plan.unknown() {
        ex.result
            .notes
            .push(format!("not interpreted: `{line}` ({note})"));
    }
    if let Some(s) = &plan.script {
        ex.result.notes.extend(s.notes.iter().cloned());
    }
    for step in &plan.steps {
        match step {
            Step::Run(r) => ex.run(analyzer, r),
            Step::Cut { columns, from, to } => ex.cut(columns, from, to),
            Step::Diff { file, cut_columns } => ex.diff(file, cut_columns.as_deref()),
            Step::Echo { text, to } => ex.write(to, FileState::Written(format!("{text}\n"))),
            Step::Unknown { .. } => {}
        }
    }
    ex.result
}
