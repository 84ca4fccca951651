//! `run.txt` of one Zeek QUIC regression test, read as a list of [`Step`]s.
//!
//! In: the text of `zeek-quic/<test>/run.txt` (the btest command lines, then, for some tests, the
//! Zeek script the test loads as `%INPUT`) and the corpus root (to resolve `$TRACES`). Out: a
//! [`TestPlan`]: the steps in order, the test's script (see [`super::script`]) and the lines
//! that were not interpreted, each with why. Nothing here is fatal: a line we do not understand
//! becomes [`Step::Unknown`], so that a new kind of line shows up in the report instead of
//! breaking the run.

use std::path::{Path, PathBuf};

use super::script::Script;

/// Zeek's default of `QUIC::max_history_length` (`base/protocols/quic/main.zeek`).
pub const DEFAULT_MAX_HISTORY_LENGTH: i64 = 100;
/// Zeek's default of `QUIC::max_discarded_packet_events`.
pub const DEFAULT_MAX_DISCARDED_PACKET_EVENTS: i64 = 100;

/// The Zeek settings of one `zeek -r` run that matter to the QUIC analyzer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct QuicOptions {
    /// `QUIC::max_history_length=N` (`None`: Zeek's default, [`DEFAULT_MAX_HISTORY_LENGTH`]).
    pub max_history_length: Option<i64>,
    /// `QUIC::max_discarded_packet_events=N`; negative means "no `discarded_packet` events"
    /// (`None`: Zeek's default, [`DEFAULT_MAX_DISCARDED_PACKET_EVENTS`]).
    pub max_discarded_packet_events: Option<i64>,
    /// `-C`: checksums are not verified.
    pub ignore_checksums: bool,
    /// Every other `X=Y` of the command line, as written; the analyzer cannot honour them, and the
    /// report lists them.
    pub unsupported: Vec<String>,
}

impl QuicOptions {
    /// The effective `QUIC::max_history_length`.
    pub fn max_history_length(&self) -> i64 {
        self.max_history_length
            .unwrap_or(DEFAULT_MAX_HISTORY_LENGTH)
    }

    /// The effective `QUIC::max_discarded_packet_events`.
    pub fn max_discarded_packet_events(&self) -> i64 {
        self.max_discarded_packet_events
            .unwrap_or(DEFAULT_MAX_DISCARDED_PACKET_EVENTS)
    }
}

/// Where a command's standard output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The file name (relative to the test's directory).
    pub file: String,
    /// `>>` (append) rather than `>` (truncate).
    pub append: bool,
}

/// One `zeek -r TRACE ...` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStep {
    /// The trace as written in run.txt (`$TRACES/quic/...`).
    pub trace_arg: String,
    /// The resolved trace (it may not exist; running it then fails and is reported).
    pub trace: PathBuf,
    /// The analyzer settings.
    pub options: QuicOptions,
    /// The scripts loaded, as written (`base/protocols/quic`, `%INPUT`, ...).
    pub scripts: Vec<String>,
    /// Where the printed events go (`None`: nowhere that is compared).
    pub stdout: Option<Redirect>,
}

impl RunStep {
    /// Whether the test's own script (`%INPUT`) is loaded, so that its prints are output.
    pub fn loads_input(&self) -> bool {
        self.scripts.iter().any(|s| s == "%INPUT")
    }
}

/// One interpreted line of run.txt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `zeek -r ...`: run the analyzer, which "writes" quic.log, ssl.log, weird.log and the
    /// printed events.
    Run(RunStep),
    /// `zeek-cut -m COLS < FROM > TO` (`columns` empty: all of them).
    Cut {
        /// The columns kept, in order.
        columns: Vec<String>,
        /// Input file.
        from: String,
        /// Output file.
        to: String,
    },
    /// `btest-diff FILE`, or `btest-diff-cut -m [COLS] FILE` (`cut_columns` is then `Some`, and
    /// empty for all columns).
    Diff {
        /// The file compared with the baseline of the same name.
        file: String,
        /// The columns btest-diff-cut keeps before comparing.
        cut_columns: Option<Vec<String>>,
    },
    /// `echo "TEXT" >>FILE` (or `>`).
    Echo {
        /// The text (a newline follows it).
        text: String,
        /// The file written.
        to: Redirect,
    },
    /// A line that is not interpreted, with the reason.
    Unknown {
        /// The line.
        line: String,
        /// Why it is not interpreted.
        note: String,
    },
}

/// Everything read from one run.txt.
#[derive(Debug, Clone, Default)]
pub struct TestPlan {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The test's own script, when run.txt has one.
    pub script: Option<Script>,
}

impl TestPlan {
    /// The lines that were not interpreted, with why.
    pub fn unknown(&self) -> impl Iterator<Item = (&str, &str)> {
        self.steps.iter().filter_map(|s| match s {
            Step::Unknown { line, note } => Some((line.as_str(), note.as_str())),
            _ => None,
        })
    }

    /// The texts that `echo` writes into `file`, in order.
    pub fn echo_texts(&self, file: &str) -> Vec<&str> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Echo { text, to } if to.file == file => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// The line in run.txt after which the test's own script follows.
const SCRIPT_MARKER: &str = "# the test's own script";

/// Resolves `$TRACES/quic/X`: `<root>/zeek/traces/quic/X`, else
/// `<root>/zeek-quic/traces/quic/X` (the four traces the main corpus lacks).
pub fn resolve_trace(root: &Path, arg: &str) -> PathBuf {
    let rel = arg
        .strip_prefix("$TRACES/")
        .or_else(|| arg.strip_prefix("${TRACES}/"))
        .unwrap_or(arg);
    let main = root.join("zeek/traces").join(rel);
    if main.is_file() {
        return main;
    }
    let extra = root.join("zeek-quic/traces").join(rel);
    if extra.is_file() {
        return extra;
    }
    main
}

/// Parses run.txt.
pub fn parse_run_txt(text: &str, corpus_root: &Path) -> TestPlan {
    let mut plan = TestPlan::default();
    let mut lines = text.lines();
    for raw in lines.by_ref() {
        let line = raw.trim();
        if line.starts_with(SCRIPT_MARKER) {
            break;
        }
        if line.is_empty() {
            continue;
        }
        plan.steps.push(parse_line(line, corpus_root));
    }
    let script_text: Vec<&str> = lines.collect();
    if !script_text.is_empty() {
        plan.script = Some(Script::parse(&script_text.join("\n")));
    }
    plan
}

fn unknown(line: &str, note: &str) -> Step {
    Step::Unknown {
        line: line.to_string(),
        note: note.to_string(),
    }
}

/// One command line.
fn parse_line(line: &str, root: &Path) -> Step {
    let words = match shell_words(line) {
        Ok(w) => w,
        Err(e) => return unknown(line, &e),
    };
    // Leading `NAME=value` assignments set the command's environment (btest's
    // TEST_DIFF_CANONIFIER); the canonifiers only remove paths and locations from files we do not
    // produce, so they are ignored.
    let start = words
        .iter()
        .position(|w| !is_assignment(w))
        .unwrap_or(words.len());
    let words = &words[start..];
    let Some(cmd) = words.first() else {
        return unknown(line, "only environment assignments");
    };
    match cmd.as_str() {
        "zeek" => parse_zeek(line, &words[1..], root),
        "zeek-cut" => parse_cut(line, &words[1..]),
        "btest-diff" => match &words[1..] {
            [file] => Step::Diff {
                file: file.clone(),
                cut_columns: None,
            },
            _ => unknown(line, "btest-diff takes exactly one file"),
        },
        "btest-diff-cut" => {
            let rest = &words[1..];
            let rest = match rest.first().map(String::as_str) {
                Some("-m") => &rest[1..],
                _ => return unknown(line, "btest-diff-cut without -m is not interpreted"),
            };
            match rest.split_last() {
                Some((file, cols)) => Step::Diff {
                    file: file.clone(),
                    cut_columns: Some(cols.to_vec()),
                },
                None => unknown(line, "btest-diff-cut without a file"),
            }
        }
        "echo" => parse_echo(line, &words[1..]),
        "test" => unknown(
            line,
            "file-existence check (analyzer.log, dpd.log): the analyzer writes neither file, so \
             there is nothing to check",
        ),
        _ => unknown(line, "unknown command"),
    }
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// Splits off a redirection word (`>f`, `>>f`, `>`, `>>`, `<f`, `<`); returns
/// (operator, target if attached).
fn redirection(w: &str) -> Option<(&str, &str)> {
    for op in [">>", ">", "<"] {
        if let Some(rest) = w.strip_prefix(op) {
            return Some((op, rest));
        }
    }
    None
}

/// A command's redirections, `(operator, target)`.
type Redirections = Vec<(String, String)>;

/// Separates a command's words into arguments and redirections.
fn split_redirections(words: &[String]) -> Result<(Vec<String>, Redirections), String> {
    let mut args = Vec::new();
    let mut redirs = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if let Some((op, target)) = redirection(w) {
            if target.is_empty() {
                let t = words
                    .get(i + 1)
                    .ok_or_else(|| format!("`{op}` without a target"))?;
                redirs.push((op.to_string(), t.clone()));
                i += 2;
                continue;
            }
            redirs.push((op.to_string(), target.to_string()));
        } else {
            args.push(w.clone());
        }
        i += 1;
    }
    Ok((args, redirs))
}

fn stdout_of(redirs: &[(String, String)]) -> Option<Redirect> {
    redirs
        .iter()
        .rev()
        .find(|(op, _)| op != "<")
        .map(|(op, file)| Redirect {
            file: file.clone(),
            append: op == ">>",
        })
}

fn parse_zeek(line: &str, words: &[String], root: &Path) -> Step {
    let (args, redirs) = match split_redirections(words) {
        Ok(x) => x,
        Err(e) => return unknown(line, &e),
    };
    let mut options = QuicOptions::default();
    let mut trace = None;
    let mut scripts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(flags) = a.strip_prefix('-') {
            // Single-letter flags, possibly bundled (`-Cr`); `r` takes the next word.
            for f in flags.chars() {
                match f {
                    'C' => options.ignore_checksums = true,
                    'r' => {
                        i += 1;
                        match args.get(i) {
                            Some(t) => trace = Some(t.clone()),
                            None => return unknown(line, "-r without a trace"),
                        }
                    }
                    other => options.unsupported.push(format!("-{other}")),
                }
            }
        } else if let Some((name, value)) = a.split_once('=') {
            let n = value.trim().parse::<i64>();
            match (name, n) {
                ("QUIC::max_history_length", Ok(n)) => options.max_history_length = Some(n),
                ("QUIC::max_discarded_packet_events", Ok(n)) => {
                    options.max_discarded_packet_events = Some(n)
                }
                _ => options.unsupported.push(a.clone()),
            }
        } else {
            scripts.push(a.clone());
        }
        i += 1;
    }
    let Some(trace_arg) = trace else {
        return unknown(line, "zeek without -r: no trace to run");
    };
    Step::Run(RunStep {
        trace: resolve_trace(root, &trace_arg),
        trace_arg,
        options,
        scripts,
        stdout: stdout_of(&redirs),
    })
}

fn parse_cut(line: &str, words: &[String]) -> Step {
    let (args, redirs) = match split_redirections(words) {
        Ok(x) => x,
        Err(e) => return unknown(line, &e),
    };
    let columns = match args.split_first() {
        Some((m, cols)) if m == "-m" => cols.to_vec(),
        _ => return unknown(line, "zeek-cut without -m is not interpreted"),
    };
    let from = redirs.iter().find(|(op, _)| op == "<").map(|(_, f)| f);
    let to = stdout_of(&redirs);
    match (from, to) {
        (Some(from), Some(to)) if !to.append => Step::Cut {
            columns,
            from: from.clone(),
            to: to.file,
        },
        _ => unknown(line, "zeek-cut needs `< FROM > TO`"),
    }
}

fn parse_echo(line: &str, words: &[String]) -> Step {
    let (args, redirs) = match split_redirections(words) {
        Ok(x) => x,
        Err(e) => return unknown(line, &e),
    };
    match stdout_of(&redirs) {
        Some(to) => Step::Echo {
            text: args.join(" "),
            to,
        },
        None => unknown(line, "echo to the terminal is not compared"),
    }
}

/// Splits a command line into words as a POSIX shell would for these simple lines: blanks
/// separate words, and `"..."` / `'...'` quote (the quotes are removed). No expansion.
pub fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '"' | '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\\') if c == '"' => match chars.next() {
                            Some(e) => cur.push(e),
                            None => return Err("unterminated quote".into()),
                        },
                        Some(o) => cur.push(o),
                        None => return Err("unterminated quote".into()),
                    }
                }
            }
            o => {
                in_word = true;
                cur.push(o);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from("/nonexistent-corpus")
    }

    #[test]
    fn zeek_lines() {
        let plan = parse_run_txt(
            "zeek -Cr $TRACES/quic/a.pcap base/protocols/quic QUIC::max_discarded_packet_events=-1 Foo::bar=T %INPUT >>out\n",
            &root(),
        );
        let Step::Run(r) = &plan.steps[0] else {
            panic!("not a run: {:?}", plan.steps[0]);
        };
        assert_eq!(r.trace, root().join("zeek/traces/quic/a.pcap"));
        assert!(r.options.ignore_checksums);
        assert_eq!(r.options.max_discarded_packet_events, Some(-1));
        assert_eq!(r.options.max_history_length(), DEFAULT_MAX_HISTORY_LENGTH);
        assert_eq!(r.options.unsupported, vec!["Foo::bar=T".to_string()]);
        assert!(r.loads_input());
        assert_eq!(
            r.stdout,
            Some(Redirect {
                file: "out".into(),
                append: true
            })
        );
    }

    #[test]
    fn cut_diff_echo_and_unknown() {
        let plan = parse_run_txt(
            "zeek-cut -m ts uid history < quic.log > quic.log.cut\n\
             TEST_DIFF_CANONIFIER=\"$SCRIPTS/a | $SCRIPTS/b\" btest-diff x.cut\n\
             btest-diff-cut -m quic.log\n\
             btest-diff-cut -m uid history service conn.log\n\
             echo \"retry.pcap\" >>out\n\
             test ! -f analyzer.log\n\
             frobnicate\n\
             \n# the test's own script (loaded as %INPUT):\n@load base/protocols/quic\n",
            &root(),
        );
        assert_eq!(
            plan.steps[0],
            Step::Cut {
                columns: vec!["ts".into(), "uid".into(), "history".into()],
                from: "quic.log".into(),
                to: "quic.log.cut".into()
            }
        );
        assert_eq!(
            plan.steps[1],
            Step::Diff {
                file: "x.cut".into(),
                cut_columns: None
            }
        );
        assert_eq!(
            plan.steps[2],
            Step::Diff {
                file: "quic.log".into(),
                cut_columns: Some(vec![])
            }
        );
        assert_eq!(
            plan.steps[3],
            Step::Diff {
                file: "conn.log".into(),
                cut_columns: Some(vec!["uid".into(), "history".into(), "service".into()])
            }
        );
        assert_eq!(
            plan.steps[4],
            Step::Echo {
                text: "retry.pcap".into(),
                to: Redirect {
                    file: "out".into(),
                    append: true
                }
            }
        );
        assert_eq!(plan.unknown().count(), 2);
        assert!(plan.script.is_some());
        assert_eq!(plan.steps.len(), 7);
    }
}
