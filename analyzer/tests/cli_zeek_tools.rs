//! The outputs load unchanged in the tools Zeek users feed logs to.
//!
//! - `zeek-cut` (Zeek's `zeek-aux`; not packaged in Debian, so not installable here): the test
//!   implements its documented behaviour — separator from `#separator \xHH`, column names from
//!   `#fields`, which must be followed by `#types`, unset marker from `#unset_field`, columns
//!   selected by name (or all but some with `-n`), header lines dropped (or, with `-c`, the
//!   `#fields`/`#types` lines cut to the selection), and `-d` time conversion, which needs
//!   `digits.digits` in every `time` column — and checks our TSV log against it.
//! - Python's `parsezeeklogs` (TSV and JSON readers, and its 2.x `ParseZeekLogs` API): run from
//!   here when `python3` and the module are installed (`.ci/run` installs it), ignored (probed
//!   at build time) otherwise. The typed records it reads from the TSV log must equal the JSON log's records.
//! - Python's `json`: every line of `events --format json` and `log --format json`.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "cli_util.rs"]
mod util;

#[path = "../../tests/src/require.rs"]
mod require;

use std::process::Command;

use serde_json::Value;
use tls_analyzer::output::{CONFIRMATION_EVENT, CONN_WEIRD_EVENT, DISABLED_EVENT, VIOLATION_EVENT};
use util::*;

/// zeek-cut's options that matter for a log's readability.
#[derive(Default)]
struct CutOpts<'a> {
    columns: &'a [&'a str],
    /// `-n`: every column except `columns`.
    negate: bool,
    /// `-c`: keep the first header block (with `#fields`/`#types` cut to the selection).
    header: bool,
    /// `-d`/`-u`: convert `time` columns (here: only check they are convertible).
    time: bool,
}

/// What zeek-cut does with a log, or the error it would print (it stops at a bad header and
/// skips data lines that have too few fields; both are errors here).
fn zeek_cut(log: &str, o: &CutOpts<'_>) -> Result<String, String> {
    let mut sep = '\t';
    let mut unset = "-".to_string();
    let mut selected: Vec<Option<usize>> = Vec::new();
    let mut nfields = 0;
    let mut time_cols: Vec<bool> = Vec::new();
    let mut after_fields = false;
    let mut out = String::new();
    for line in log.lines() {
        if after_fields && !line.starts_with("#types") {
            return Err("bad log header (missing #types line)".into());
        }
        if let Some(rest) = line.strip_prefix("#separator ") {
            let hex = rest
                .strip_prefix("\\x")
                .ok_or("bad log header (invalid #separator line)")?;
            let b = u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
            sep = char::from(b);
            if o.header {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let (key, value) = rest
                .split_once(sep)
                .ok_or(format!("header line without separator: {line}"))?;
            let cut_header = |names: Vec<&str>, sel: &[Option<usize>]| {
                let mut l = format!("#{key}");
                for i in sel {
                    l.push(sep);
                    l.push_str(i.and_then(|i| names.get(i).copied()).unwrap_or(""));
                }
                l
            };
            match key {
                "unset_field" => {
                    if value.is_empty() {
                        return Err("bad log header (invalid #unset_field line)".into());
                    }
                    unset = value.to_string();
                }
                "fields" => {
                    let names: Vec<&str> = value.split(sep).collect();
                    nfields = names.len();
                    selected = if o.negate {
                        (0..nfields)
                            .filter(|i| !o.columns.contains(&names[*i]))
                            .map(Some)
                            .collect()
                    } else if o.columns.is_empty() {
                        (0..nfields).map(Some).collect()
                    } else {
                        // A column the log lacks prints as an empty field.
                        o.columns
                            .iter()
                            .map(|c| names.iter().position(|n| n == c))
                            .collect()
                    };
                    after_fields = true;
                    if o.header {
                        out.push_str(&cut_header(names, &selected));
                        out.push('\n');
                    }
                    continue;
                }
                "types" => {
                    if !after_fields {
                        return Err("bad log header (missing #fields line)".into());
                    }
                    after_fields = false;
                    let types: Vec<&str> = value.split(sep).collect();
                    time_cols = types.iter().map(|t| *t == "time").collect();
                    if o.header {
                        out.push_str(&cut_header(types, &selected));
                        out.push('\n');
                    }
                    continue;
                }
                _ => {}
            }
            if o.header && key != "close" {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        let fields: Vec<&str> = line.split(sep).collect();
        // zeek-cut only needs enough fields; a Zeek log has exactly as many as #fields.
        if fields.len() != nfields {
            return Err(format!(
                "log line has {} fields, #fields has {nfields}: {line}",
                fields.len()
            ));
        }
        let mut cells = Vec::new();
        for i in &selected {
            let cell = i.map(|i| fields[i]).unwrap_or("");
            if o.time && i.is_some_and(|i| time_cols[i]) && cell != unset {
                // zeek-cut: strtol() up to a '.', else "time field is not valid".
                let (secs, frac) = cell
                    .split_once('.')
                    .ok_or(format!("time field is not valid: {cell}"))?;
                if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!("time field is not valid: {cell}"));
                }
                assert!(frac.bytes().all(|b| b.is_ascii_digit()), "{cell}");
            }
            cells.push(cell);
        }
        out.push_str(&cells.join(&sep.to_string()));
        out.push('\n');
    }
    Ok(out)
}

/// Every capture of the project as one ssl.log, TSV and JSON.
fn logs() -> (String, String) {
    let files: Vec<String> = all_captures()
        .iter()
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    let run_log = |format: &str| {
        let mut args = vec!["log", "--seed", "11", "--format", format];
        args.extend(files.iter().map(String::as_str));
        run(&args).ok().stdout
    };
    (run_log("tsv"), run_log("json"))
}

/// A JSON value as the TSV writer prints it: `-` for unset, `(empty)` for an empty vector.
fn as_tsv_cell(v: Option<&Value>) -> String {
    match v {
        None => "-".into(),
        Some(Value::Bool(b)) => if *b { "T" } else { "F" }.into(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) if a.is_empty() => "(empty)".into(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => panic!("unexpected JSON value {other}"),
    }
}

#[test]
fn tsv_log_reads_in_zeek_cut() {
    let (tsv, json) = logs();
    let rows: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() >= 30);

    // The usual pipeline: pick columns by name.
    let cols = [
        "uid",
        "server_name",
        "version",
        "cipher",
        "resumed",
        "last_alert",
        "next_protocol",
        "cert_chain_fps",
        "sni_matches_cert",
    ];
    let cut = zeek_cut(
        &tsv,
        &CutOpts {
            columns: &cols,
            time: true,
            ..CutOpts::default()
        },
    )
    .unwrap();
    let lines: Vec<&str> = cut.lines().collect();
    assert_eq!(lines.len(), rows.len(), "one line per row, no header");
    for (line, row) in lines.iter().zip(&rows) {
        let expected: Vec<String> = cols.iter().map(|c| as_tsv_cell(row.get(*c))).collect();
        assert_eq!(line.split('\t').collect::<Vec<_>>(), expected, "{row}");
    }
    assert!(cut.contains("\tother.example.org\tTLSv12\t"));
    assert!(cut.contains("\tunknown_ca\t"));
    assert!(cut.contains("\thttp/1.1\t"));

    // All columns: the log's data lines unchanged.
    let all = zeek_cut(&tsv, &CutOpts::default()).unwrap();
    assert_eq!(all, tsv_rows(&tsv).join("\n") + "\n");
    // -n: everything but the uid; a column the log lacks prints empty.
    let negated = zeek_cut(
        &tsv,
        &CutOpts {
            columns: &["uid"],
            negate: true,
            ..CutOpts::default()
        },
    )
    .unwrap();
    let first = tsv_rows(&tsv)[0];
    assert_eq!(negated.lines().next().unwrap(), without_uid(first));
    let missing = zeek_cut(
        &tsv,
        &CutOpts {
            columns: &["version", "no_such_column"],
            ..CutOpts::default()
        },
    )
    .unwrap();
    assert!(missing.lines().all(|l| l.ends_with('\t')), "{missing}");
    // -c: the header block, with #fields and #types cut to the selection.
    let with_header = zeek_cut(
        &tsv,
        &CutOpts {
            columns: &["ts", "server_name", "cert_chain_fps"],
            header: true,
            ..CutOpts::default()
        },
    )
    .unwrap();
    let head: Vec<&str> = with_header.lines().take(8).collect();
    assert_eq!(
        head,
        [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tssl",
            head[5],
            "#fields\tts\tserver_name\tcert_chain_fps",
            "#types\ttime\tstring\tvector[string]",
        ]
    );
    assert!(head[5].starts_with("#open\t"), "{}", head[5]);
}

#[test]
fn zeek_cut_model_rejects_what_zeek_cut_rejects() {
    // The checks above mean something only if the model fails where zeek-cut fails.
    let good = "#separator \\x09\n#unset_field\t-\n#fields\ta\tb\n#types\ttime\tstring\n1.5\tx\n";
    let all = CutOpts::default();
    assert_eq!(zeek_cut(good, &all).unwrap(), "1.5\tx\n");
    let no_types = good.replace("#types\ttime\tstring\n", "");
    assert!(zeek_cut(&no_types, &all).is_err());
    let short = good.replace("1.5\tx", "1.5");
    assert!(zeek_cut(&short, &all).is_err());
    let bad_time = good.replace("1.5\tx", "T\tx");
    let time = CutOpts {
        time: true,
        ..CutOpts::default()
    };
    assert!(zeek_cut(&bad_time, &time).is_err());
    let bad_sep = good.replace("\\x09", "tab");
    assert!(zeek_cut(&bad_sep, &all).is_err());
}

/// `python3` if it runs.
fn python() -> Option<Command> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| Command::new("python3"))
}

/// When `tool` is missing: fails if `PAC_REQUIRE_TOOLS` names it, else reports the skip.
fn skip_loudly(tool: &str, what: &str) {
    require::skip_or_fail(tool, what);
}

/// Reads the TSV log with parsezeeklogs' `read_zeek` (typed records; malformed lines fail the
/// check instead of being skipped) and its 2.x `ParseZeekLogs`, the JSON log with `json` and
/// with `read_zeek`, and requires the same records from all four.
const PARSEZEEKLOGS_CHECK: &str = r#"
import json, sys
from parsezeeklogs import ParseZeekLogs, read_zeek

tsv_path, json_path = sys.argv[1], sys.argv[2]
errors = []
tsv = list(read_zeek(tsv_path, on_error=lambda n, line, exc: errors.append((n, str(exc)))))
assert not errors, errors
with open(json_path) as f:
    js = [json.loads(line) for line in f]
assert js == list(read_zeek(json_path)), "read_zeek(JSON) differs from json"
assert len(tsv) == len(js), (len(tsv), len(js))

def same(t, j):
    # parsezeeklogs gives None for unset; Zeek's JSON leaves unset fields out.
    t = {k: v for k, v in t.items() if v is not None}
    assert set(t) == set(j), (sorted(t), sorted(j))
    for k in t:
        if k == "ts":
            assert abs(t[k] - j[k]) < 1e-6, (t[k], j[k])
        else:
            assert t[k] == j[k], (k, t[k], j[k])

for t, j in zip(tsv, js):
    same(t, j)
old = [json.loads(x) for x in ParseZeekLogs(tsv_path, output_format="json") if x is not None]
assert len(old) == len(js)
for t, j in zip(old, js):
    same(t, j)
print(len(tsv))
"#;

#[test]
#[cfg_attr(
    any(pac_no_python3, pac_no_parsezeeklogs),
    ignore = "Python's parsezeeklogs is not installed (pip install parsezeeklogs); probed at build time"
)]
fn tsv_and_json_logs_read_in_parsezeeklogs() {
    let Some(mut py) = python() else {
        skip_loudly("python3", "parsezeeklogs check");
        return;
    };
    let has_module = Command::new("python3")
        .args(["-c", "import parsezeeklogs"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_module {
        skip_loudly(
            "parsezeeklogs",
            "parsezeeklogs check (pip install parsezeeklogs; .ci/run does)",
        );
        return;
    }
    let (tsv, json) = logs();
    let tsv_path = scratch_file("parsezeeklogs", "ssl.log", tsv.as_bytes());
    let json_path = scratch_file("parsezeeklogs", "ssl.json", json.as_bytes());
    let out = py
        .args(["-c", PARSEZEEKLOGS_CHECK, &tsv_path, &json_path])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "parsezeeklogs check failed:\n{stderr}"
    );
    let n: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(n, json.lines().count());
}

/// Loads every line with `json.loads` and checks the shape DESIGN §5 promises.
const JSON_LINES_CHECK: &str = r#"
import json, sys
n = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        e = json.loads(line)
        assert isinstance(e["ts"], float), e
        assert e["uid"].startswith("C"), e
        assert set(e["id"]) == {"orig_h", "orig_p", "resp_h", "resp_p"}, e
        assert isinstance(e["id"]["orig_p"], int), e
        assert isinstance(e["event"], str) and isinstance(e["args"], dict), e
        n += 1
print(n)
"#;

#[test]
#[cfg_attr(
    pac_no_python3,
    ignore = "python3 is not installed; probed at build time"
)]
fn json_lines_read_in_python_json() {
    let Some(mut py) = python() else {
        skip_loudly("python3", "Python json check");
        return;
    };
    let mut args = vec!["events", "--format", "json", "--seed", "1"];
    let files: Vec<String> = all_captures()
        .iter()
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    args.extend(files.iter().map(String::as_str));
    let events = run(&args).ok().stdout;
    let path = scratch_file("python_json", "events.json", events.as_bytes());
    let out = py.args(["-c", JSON_LINES_CHECK, &path]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(n, events.lines().count());
    assert!(n > 1000, "{n} events");
    // The same lines also parse in serde_json, with every event name an ssl_* event, a
    // weird, or an analyzer violation, confirmation or removal.
    for line in events.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let name = v["event"].as_str().unwrap();
        assert!(
            name.starts_with("ssl_")
                || [
                    CONN_WEIRD_EVENT,
                    VIOLATION_EVENT,
                    CONFIRMATION_EVENT,
                    DISABLED_EVENT
                ]
                .contains(&name),
            "{name}"
        );
    }
}
