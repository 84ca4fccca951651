//! tshark as a second oracle for QUIC (issue 14): on every capture of `tests/captures/quic/` and
//! of the Zeek corpus's QUIC traces (`../shared/conformance/zeek/traces/quic/` and
//! `../shared/conformance/zeek-quic/traces/quic/`, skipped visibly without the corpus), what
//! tshark sees of each QUIC connection after decrypting its Initial packets
//! ([`pac_tests::tshark_quic`]) must equal what our analyzer's quic.log
//! (`tls-analyzer log --log quic --format json`) and ssl.log (`tls-analyzer log --format json`)
//! say of that connection:
//!
//! - quic.log, first row of the connection: `version` (Zeek's text: `1`, `quicv2`, `draft-29`,
//!   `unknown-<hex>`), `client_initial_dcid`, `client_scid` (in JSON an empty ID is `""`);
//!   first row that has them: `server_scid`, `server_name`, `client_protocol` (after a Retry Zeek
//!   logs a row without the server's SCID and starts a new one);
//! - ssl.log, first row of the connection: `version` (`TLSv13`), `cipher` (Zeek's name),
//!   `server_name`.
//!
//! Values both sides have must be equal; a connection on which tshark saw a client Initial must
//! have a quic.log row, and a value tshark has must be in the log (on Zeek's own traces, Zeek's
//! logs have every value tshark has). Values only the log has are counted and printed, not
//! failures: Zeek (and so we) log packets that tshark does not take for QUIC.
//!
//! Our side runs the `tls-analyzer` binary: `$TLS_ANALYZER_BIN`, else the one cargo built next
//! to this test (`target/<profile>/tls-analyzer`; `cargo test --workspace` builds it, `cargo
//! build -p tls-analyzer` does on its own).
//!
//! The oracle itself is checked: [`tshark_sees_our_quic_captures`] holds the tshark half to what
//! `tests/captures/README.md` says of each QUIC capture (and prints what tshark extracts from
//! every capture, ours and the corpus's), and [`tshark_agrees_with_zeek_quic_and_ssl_logs`] to
//! Zeek's own quic.log (`zeek-quic/*/quic.log`) and ssl.log (`zeek/expected/quic/`) of the corpus
//! traces, with the same comparison rules.

// A poisoned mutex means another worker thread already panicked; unwrapping re-raises that.
#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use pac_tests::conformance::corpus;
use pac_tests::fingerprints::ConnPair;
use pac_tests::tshark;
use pac_tests::tshark_quic::{quic_facts, zeek_version, QuicFacts, QUIC_V2};
use serde_json::Value;
use tls_analyzer::log::names::{cipher_name, version_name};

/// Writes past libtest's output capture, so the summary shows in a plain `cargo test`.
fn loud(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// Every capture below `dir` (recursively), named `<prefix>/<path below dir>`, sorted.
fn captures_below(dir: &Path, prefix: &str) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    corpus::list_files_ending(dir, "", &mut files);
    let mut out: Vec<(String, PathBuf)> = files
        .into_iter()
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .map(|p| {
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            (format!("{prefix}/{rel}"), p)
        })
        .collect();
    out.sort();
    out
}

/// Our own QUIC captures.
fn own_captures() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/quic");
    let v = captures_below(&dir, "captures/quic");
    assert!(v.len() >= 9, "tests/captures/quic lost captures: {v:?}");
    v
}

/// The corpus's QUIC traces, or `None` (after a visible skip, or a failure when the corpus is
/// required) without the corpus.
fn corpus_captures(what: &str) -> Option<Vec<(String, PathBuf)>> {
    let Some(root) = corpus::locate() else {
        pac_tests::require::skip_or_fail(
            "conformance",
            &format!("{what} over {}", corpus::default_location().display()),
        );
        return None;
    };
    let mut v = captures_below(&root.join("zeek/traces/quic"), "zeek/quic");
    v.extend(captures_below(
        &root.join("zeek-quic/traces/quic"),
        "zeek-quic/quic",
    ));
    assert!(!v.is_empty(), "no QUIC traces below {}", root.display());
    Some(v)
}

fn tshark_present(what: &str) -> bool {
    match tshark::version() {
        Ok(_) => true,
        Err(e) => {
            tshark::skip_or_fail(what, &e);
            false
        }
    }
}

/// One line per connection: what tshark extracted.
fn describe(f: &QuicFacts) -> String {
    let o = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    format!(
        "{}:{} -> {}:{} version={} dcid={} scid={} server_scid={} sni={} alpn={} cipher={} tls={} initials={:?} crypto_initials={} retries={}",
        f.orig_h,
        f.orig_p,
        f.resp_h,
        f.resp_p,
        f.version.map_or("-".into(), zeek_version),
        o(&f.client_initial_dcid),
        o(&f.client_scid),
        o(&f.server_scid),
        o(&f.server_name),
        o(&f.client_protocol),
        f.cipher.map_or("-".into(), |c| format!("{c:#06x}")),
        f.tls_version.map_or("-".into(), |v| format!("{v:#06x}")),
        f.initials,
        f.client_crypto_initials,
        f.retries,
    )
}

fn facts_or_panic(name: &str, path: &Path) -> Vec<QuicFacts> {
    quic_facts(path).unwrap_or_else(|e| panic!("tshark on {name}: {e}"))
}

/// The tshark half on its own: on our captures tshark must see what the README says they show,
/// and it must dissect QUIC on every corpus trace. Prints what it extracted from each.
#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "needs tshark, which is not installed; probed at build time"
)]
fn tshark_sees_our_quic_captures() {
    if !tshark_present("tshark QUIC facts") {
        return;
    }
    let mut all = own_captures();
    if let Some(root) = corpus::locate() {
        all.extend(captures_below(&root.join("zeek/traces/quic"), "zeek/quic"));
        all.extend(captures_below(
            &root.join("zeek-quic/traces/quic"),
            "zeek-quic/quic",
        ));
    }
    for (name, path) in &all {
        let facts = facts_or_panic(name, path);
        loud(&format!("{name}: {} QUIC connections", facts.len()));
        for f in &facts {
            loud(&format!("  {}", describe(f)));
        }
        if !name.starts_with("captures/") {
            continue;
        }
        let file = name.rsplit('/').next().unwrap_or_default();
        check_own(file, &facts);
    }
}

/// What tests/captures/README.md says tshark sees in each of our QUIC captures.
fn check_own(file: &str, facts: &[QuicFacts]) {
    let conns = match file {
        "quic-resume.pcap" | "quic-0rtt.pcap" => 2,
        _ => 1,
    };
    assert_eq!(facts.len(), conns, "{file}: connections {facts:#?}");
    for f in facts {
        let ipv6 = file == "quic-ipv6.pcap";
        assert_eq!(f.orig_h, if ipv6 { "::1" } else { "127.0.0.1" }, "{file}");
        assert_eq!(
            f.resp_p,
            if file == "quic-port-4433.pcap" {
                4433
            } else {
                443
            }
        );
        assert!((24501..=24511).contains(&f.orig_p), "{file}: client port");
        let v2 = file == "quic-v2.pcap";
        assert_eq!(f.version, Some(if v2 { QUIC_V2 } else { 1 }), "{file}");
        // aioquic's connection IDs are 8 bytes.
        for id in [&f.client_initial_dcid, &f.client_scid] {
            assert_eq!(id.as_ref().map(String::len), Some(16), "{file}: {f:?}");
        }
        assert_eq!(f.server_name.as_deref(), Some("quic.test"), "{file}");
        let alpn = if file == "quic-fail.pcap" {
            "h3"
        } else {
            "echo"
        };
        assert_eq!(f.client_protocol.as_deref(), Some(alpn), "{file}");
        if file == "quic-fail.pcap" {
            // The server's only Initial carries CONNECTION_CLOSE, no ServerHello.
            assert_eq!((f.cipher, f.tls_version), (None, None), "{file}");
            assert_eq!(f.initials, (1, 1), "{file}");
        } else {
            assert_eq!(f.cipher, Some(0x1302), "{file}: TLS_AES_256_GCM_SHA384");
            assert_eq!(f.tls_version, Some(0x0304), "{file}");
            assert_eq!(f.server_scid.as_ref().map(String::len), Some(16), "{file}");
        }
        match file {
            "quic-retry.pcap" => {
                assert_eq!(f.retries, 1, "{file}");
                assert_eq!(
                    f.client_crypto_initials, 2,
                    "{file}: ClientHello sent twice"
                );
            }
            // The ClientHello's CRYPTO data spans two of the client's Initials.
            "quic-split-hello.pcap" => assert_eq!(f.client_crypto_initials, 2, "{file}"),
            _ => {
                assert_eq!(f.retries, 0, "{file}");
                assert_eq!(f.client_crypto_initials, 1, "{file}");
            }
        }
    }
}

/// Where the `tls-analyzer` binary is.
fn analyzer_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TLS_ANALYZER_BIN") {
        return PathBuf::from(p);
    }
    // This test runs as target/<profile>/deps/tshark_quic-<hash>; cargo puts the binaries of
    // the workspace in target/<profile>/.
    let exe = std::env::current_exe().expect("the test's own path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    dir.join(format!("tls-analyzer{}", std::env::consts::EXE_SUFFIX))
}

/// `tls-analyzer log <args> --format json FILE` as JSON rows.
fn analyzer_log(args: &[&str], capture: &Path) -> Result<Vec<Value>, String> {
    let bin = analyzer_bin();
    if !bin.is_file() {
        return Err(format!(
            "{} is missing: build it (`cargo build -p tls-analyzer`) or set TLS_ANALYZER_BIN",
            bin.display()
        ));
    }
    let out = Command::new(&bin)
        .arg("log")
        .args(args)
        .args(["--format", "json"])
        .arg(capture)
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    // A capture cut short still yields the rows before the cut (and a failing status).
    let text = String::from_utf8(out.stdout).map_err(|e| format!("not UTF-8: {e}"))?;
    if text.trim().is_empty() && !out.status.success() {
        return Err(format!(
            "tls-analyzer log {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad JSON line {l}: {e}")))
        .collect()
}

/// Counts over a set of captures.
#[derive(Debug, Default)]
struct Tally {
    /// Values both sides have, equal.
    matched: usize,
    /// Values both sides have, different (failures).
    mismatched: Vec<String>,
    /// Connections with a client Initial in tshark's view and no quic.log row (failures).
    missing_rows: Vec<String>,
    /// Values only tshark has.
    tshark_only: Vec<String>,
    /// Values only we have.
    ours_only: Vec<String>,
}

impl Tally {
    fn value(&mut self, what: String, ours: Option<&str>, theirs: Option<&str>) {
        match (ours, theirs) {
            (Some(o), Some(t)) if o == t => self.matched += 1,
            (Some(o), Some(t)) => self
                .mismatched
                .push(format!("{what}: ours {o}, tshark {t}")),
            (Some(o), None) => self.ours_only.push(format!("{what}: ours {o}")),
            (None, Some(t)) => self.tshark_only.push(format!("{what}: tshark {t}")),
            (None, None) => {}
        }
    }
}

fn pair(f: &QuicFacts) -> ConnPair {
    ConnPair::new((f.orig_h.clone(), f.orig_p), (f.resp_h.clone(), f.resp_p))
}

/// The string value of column `col` of the first of `rows` that has it.
fn first_with<'a>(rows: &[&'a Value], col: &str) -> Option<&'a str> {
    rows.iter().find_map(|r| r.get(col).and_then(Value::as_str))
}

/// Compares tshark's facts `f` with the quic.log rows of its connection (ours, or Zeek's).
fn compare_quic_rows(t: &mut Tally, what: &dyn Fn(&str) -> String, f: &QuicFacts, rows: &[Value]) {
    let q: Vec<&Value> = rows.iter().collect();
    let Some(&first) = q.first() else {
        if f.initials.0 > 0 {
            t.missing_rows
                .push(format!("{}: {}", what("quic.log"), describe(f)));
        }
        return;
    };
    let first = [first];
    let version = f.version.map(zeek_version);
    t.value(
        what("version"),
        first_with(&first, "version"),
        version.as_deref(),
    );
    // The client's IDs of its first Initial are the first row's; the server's SCID, the SNI and
    // ALPN are in the first row that has them (after a Retry, Zeek's first row has no server
    // SCID: the server has sent no Initial yet).
    // Zeek sets client_initial_dcid only from a non-empty DCID.
    let dcid = f.client_initial_dcid.as_deref().filter(|d| !d.is_empty());
    t.value(
        what("client_initial_dcid"),
        first_with(&first, "client_initial_dcid"),
        dcid,
    );
    t.value(
        what("client_scid"),
        first_with(&first, "client_scid"),
        f.client_scid.as_deref(),
    );
    for (col, theirs) in [
        ("server_scid", &f.server_scid),
        ("server_name", &f.server_name),
        ("client_protocol", &f.client_protocol),
    ] {
        t.value(what(col), first_with(&q, col), theirs.as_deref());
    }
}

/// Compares tshark's ServerHello facts and SNI with the first ssl.log row of the connection.
fn compare_ssl_rows(t: &mut Tally, what: &dyn Fn(&str) -> String, f: &QuicFacts, rows: &[Value]) {
    let first: Vec<&Value> = rows.iter().take(1).collect();
    let version = f.tls_version.map(|v| version_name(u64::from(v)));
    let cipher = f
        .cipher
        .map(|c| cipher_name(u64::from(c)).map_or_else(|| format!("unknown-{c}"), str::to_owned));
    t.value(
        what("ssl version"),
        first_with(&first, "version"),
        version.as_deref(),
    );
    t.value(
        what("ssl cipher"),
        first_with(&first, "cipher"),
        cipher.as_deref(),
    );
    t.value(
        what("ssl server_name"),
        first_with(&first, "server_name"),
        f.server_name.as_deref(),
    );
}

fn compare(name: &str, path: &Path, tally: &Mutex<Tally>) {
    let facts = facts_or_panic(name, path);
    let quic = analyzer_log(&["--log", "quic"], path)
        .unwrap_or_else(|e| panic!("quic.log of {name}: {e}"));
    let ssl = analyzer_log(&[], path).unwrap_or_else(|e| panic!("ssl.log of {name}: {e}"));
    let mut t = tally.lock().unwrap();
    for f in &facts {
        let key = pair(f);
        let what = |col: &str| format!("{name} {}:{} {col}", f.orig_h, f.orig_p);
        let rows_of = |log: &[Value]| -> Vec<Value> {
            log.iter()
                .filter(|r| ConnPair::of_row(r).as_ref() == Some(&key))
                .cloned()
                .collect()
        };
        compare_quic_rows(&mut t, &what, f, &rows_of(&quic));
        compare_ssl_rows(&mut t, &what, f, &rows_of(&ssl));
    }
    // quic.log rows of connections tshark did not see as QUIC.
    for r in &quic {
        let Some(k) = ConnPair::of_row(r) else {
            continue;
        };
        if !facts.iter().any(|f| pair(f) == k) {
            t.ours_only.push(format!(
                "{name} {k:?}: a quic.log row, and tshark saw no QUIC"
            ));
        }
    }
}

fn run_all(label: &str, captures: &[(String, PathBuf)]) {
    let next = Mutex::new(captures.iter());
    let tally = Mutex::new(Tally::default());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some((name, path)) = next.lock().unwrap().next() else {
                    return;
                };
                compare(name, path, &tally);
            });
        }
    });
    report(label, "quic.log/ssl.log", tally.into_inner().unwrap());
}

/// Prints the summary and the one-sided values of `t`; fails on differences and missing rows.
fn report(label: &str, logs: &str, t: Tally) {
    loud(&format!(
        "{label}: {logs} agree with tshark on {} values; {} differ; {} connections \
         without a quic.log row; {} values only tshark has; {} only the log has",
        t.matched,
        t.mismatched.len(),
        t.missing_rows.len(),
        t.tshark_only.len(),
        t.ours_only.len()
    ));
    for l in &t.ours_only {
        loud(&format!("  only in the log: {l}"));
    }
    assert!(t.matched > 0, "{label}: nothing compared");
    // A value only tshark has is a failure too: on Zeek's own QUIC traces Zeek's logs have every
    // value tshark has (tshark_agrees_with_zeek_quic_and_ssl_logs), so a log without it is not
    // what Zeek writes. A value only the log has is not: Zeek analyses packets tshark does not
    // take for QUIC (an unknown version in zeek-quic/vector-max-size-crash).
    let failures: Vec<&str> = t
        .mismatched
        .iter()
        .chain(&t.missing_rows)
        .chain(&t.tshark_only)
        .map(String::as_str)
        .collect();
    assert!(
        failures.is_empty(),
        "{label}: {logs} differ from tshark:\n{}",
        failures.join("\n")
    );
}

/// Zeek's own quic.log expectations: for each test folder of `zeek-quic/` with a `quic.log`,
/// (test name, the trace its `run.txt` reads, the rows as JSON objects like our JSON writer's:
/// unset columns left out, `(empty)` as `""`, ports as numbers).
fn zeek_quic_logs(root: &Path) -> Vec<(String, PathBuf, Vec<Value>)> {
    let mut logs = Vec::new();
    corpus::list_files_ending(&root.join("zeek-quic"), "/quic.log", &mut logs);
    logs.sort();
    let mut out = Vec::new();
    for log in logs {
        let dir = log.parent().expect("quic.log is in a folder");
        let test = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let run = std::fs::read_to_string(dir.join("run.txt")).unwrap_or_default();
        let Some(rel) = run
            .split_whitespace()
            .find_map(|w| w.strip_prefix("$TRACES/"))
        else {
            continue;
        };
        let Some(trace) = ["zeek/traces", "zeek-quic/traces"]
            .iter()
            .map(|d| root.join(d).join(rel))
            .find(|p| p.is_file())
        else {
            panic!("{test}: run.txt names {rel}, which is in neither traces folder");
        };
        let text = std::fs::read_to_string(&log).expect("quic.log is readable");
        out.push((test, trace, tsv_rows(&text)));
    }
    out
}

/// The rows of a Zeek TSV log (Zeek's ASCII writer's, or `zeek-cut -m`'s) as JSON objects.
fn tsv_rows(text: &str) -> Vec<Value> {
    let mut fields: Vec<&str> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').collect();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        // `zeek-cut -m` output (btest-diff-cut) has no `#fields`: its first line names them.
        if fields.is_empty() {
            fields = line.split('\t').collect();
            continue;
        }
        let mut row = serde_json::Map::new();
        for (k, v) in fields.iter().zip(line.split('\t')) {
            let v = match (*k, v) {
                (_, "-") => continue,
                (_, "(empty)") => Value::from(""),
                ("id.orig_p" | "id.resp_p", p) => {
                    p.parse::<u64>().map_or(Value::from(p), Value::from)
                }
                (_, v) => Value::from(v),
            };
            row.insert((*k).to_owned(), v);
        }
        rows.push(Value::Object(row));
    }
    rows
}

/// The oracle checked against Zeek: on each trace for which `zeek-quic/` holds Zeek's quic.log,
/// tshark's facts must equal Zeek's columns, with the same rules as for our quic.log; and on
/// each trace for which `zeek/expected/quic/` holds Zeek's ssl.log rows, tshark's cipher,
/// version and SNI must equal those rows'.
#[test]
#[cfg_attr(
    any(pac_no_tshark, pac_no_conformance),
    ignore = "needs tshark and ../shared/conformance, and one is missing; probed at build time"
)]
fn tshark_agrees_with_zeek_quic_and_ssl_logs() {
    let Some(root) = corpus::locate() else {
        pac_tests::require::skip_or_fail(
            "conformance",
            &format!(
                "tshark against Zeek's quic.log over {}",
                corpus::default_location().display()
            ),
        );
        return;
    };
    if !tshark_present("tshark against Zeek's quic.log") {
        return;
    }
    let expectations = zeek_quic_logs(&root);
    assert!(
        expectations.len() >= 10,
        "zeek-quic/ lost its quic.log files: {}",
        expectations.len()
    );
    let mut t = Tally::default();
    for (test, trace, rows) in &expectations {
        let facts = facts_or_panic(test, trace);
        for f in &facts {
            let key = pair(f);
            let what = |col: &str| format!("zeek-quic/{test} {}:{} {col}", f.orig_h, f.orig_p);
            let mine: Vec<Value> = rows
                .iter()
                .filter(|r| ConnPair::of_row(r).as_ref() == Some(&key))
                .cloned()
                .collect();
            compare_quic_rows(&mut t, &what, f, &mine);
        }
        for r in rows {
            if let Some(k) = ConnPair::of_row(r) {
                if !facts.iter().any(|f| pair(f) == k) {
                    t.ours_only.push(format!(
                        "zeek-quic/{test} {k:?}: a row in Zeek's quic.log, and tshark saw no QUIC"
                    ));
                }
            }
        }
    }
    report("Zeek's quic.log", "Zeek's quic.log", t);

    // Zeek's ssl.log rows of the QUIC traces (expected/quic/**.ssl.json, and .ssl-partial.json
    // with only some columns, sometimes without the connection's endpoints).
    let mut files = Vec::new();
    corpus::list_files_ending(&root.join("zeek/expected/quic"), ".json", &mut files);
    files.sort();
    let mut t = Tally::default();
    for file in files {
        let n = file.to_string_lossy().into_owned();
        let Some(trace) = [".ssl.json", ".ssl-partial.json"]
            .iter()
            .find_map(|suffix| n.strip_suffix(suffix))
        else {
            continue;
        };
        let trace = PathBuf::from(trace.replacen("/expected/", "/traces/", 1));
        let rows = corpus::read_jsonl(&file).unwrap_or_else(|e| panic!("{e}"));
        let name = trace
            .strip_prefix(&root)
            .unwrap_or(&trace)
            .display()
            .to_string();
        let facts = facts_or_panic(&name, &trace);
        for f in &facts {
            let key = pair(f);
            let what = |col: &str| format!("{name} {}:{} {col}", f.orig_h, f.orig_p);
            let mut mine: Vec<Value> = rows
                .iter()
                .filter(|r| ConnPair::of_row(r).as_ref() == Some(&key))
                .cloned()
                .collect();
            // A partial row without endpoints belongs to the trace's only connection.
            if mine.is_empty() && facts.len() == 1 && rows.len() == 1 {
                mine.clone_from(&rows);
            }
            compare_ssl_rows(&mut t, &what, f, &mine);
        }
    }
    report("Zeek's ssl.log of QUIC traces", "Zeek's ssl.log", t);
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "needs tshark, which is not installed; probed at build time"
)]
fn quic_log_matches_tshark_on_own_captures() {
    if !tshark_present("tshark QUIC differential") {
        return;
    }
    run_all("tests/captures/quic", &own_captures());
}

#[test]
#[cfg_attr(
    any(pac_no_tshark, pac_no_conformance),
    ignore = "needs tshark and ../shared/conformance, and one is missing; probed at build time"
)]
fn quic_log_matches_tshark_on_zeek_quic_traces() {
    let Some(captures) = corpus_captures("tshark QUIC differential") else {
        return;
    };
    if !tshark_present("tshark QUIC differential") {
        return;
    }
    run_all("Zeek QUIC traces", &captures);
}
