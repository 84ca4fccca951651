//! Conformance with Zeek's QUIC regression tests: quic.log, ssl.log, weird.log and the printed
//! events of every test under `zeek-quic/` of the conformance corpus, step by step as each
//! test's run.txt says (harness: `pac_tests::zeek_quic`).
//!
//! * `zeek_quic_conformance` runs [`our_quic_analyzer`] through every test and compares every
//!   row and column with Zeek's baselines, tolerating only what
//!   `tests/conformance/quic-deviations.toml` lists. It is skipped while
//!   [`our_quic_analyzer`] returns `None`.
//! * The `self_check_*` tests prove the harness right and able to fail, using Zeek's own
//!   baselines as the "analyzer" ([`ReplayQuic`]): replayed, every diff of every test matches;
//!   perturbed (a history letter, a dropped row, a server_name, a dropped event), the report
//!   names the file, row and column.
//!
//! Without the corpus these tests are ignored (probed at build time) or, when
//! `PAC_REQUIRE_TOOLS` names `conformance`, fail.

use std::path::{Path, PathBuf};

use pac_tests::conformance::corpus;
use pac_tests::zeek_quic::deviations::{self, QuicDeviations};
use pac_tests::zeek_quic::{
    test_dirs, Outcome, Perturbation, QuicAnalyzer, QuicOptions, QuicReport, QuicRunOutput,
    ReplayQuic, TestDir,
};

// =============================================================================================
// The analyzer under test: `tls_analyzer` through `pac_tests::adapter::TlsAnalyzer`, which runs
// one trace with Zeek's QUIC options mapped to ours and returns quic.log and ssl.log as Zeek TSV
// and the events as JSON Lines (see tests/src/zeek_quic/mod.rs).
// =============================================================================================
fn our_quic_analyzer() -> Option<Box<dyn QuicAnalyzer>> {
    Some(Box::new(pac_tests::adapter::TlsAnalyzer))
}

/// Writes past libtest's capture: a skipped run or a summary must show in a plain `cargo test`.
fn loud(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// The corpus root when it has `zeek-quic/`, or `None` after a loud notice.
fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    match corpus::locate() {
        Some(root) if root.join("zeek-quic").is_dir() => Some(root),
        _ => {
            let at = corpus::default_location().join("zeek-quic");
            if pac_tests::require::required("conformance") {
                panic!(
                    "{test}: the QUIC conformance corpus is absent at {}, and PAC_REQUIRE_TOOLS \
                     requires it",
                    at.display()
                );
            }
            loud(&format!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! {test}: QUIC CONFORMANCE CORPUS ABSENT at {} \n\
                 !!! (set {} to the corpus). NOTHING WAS COMPARED; TEST SKIPPED.\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
                at.display(),
                corpus::CORPUS_ENV
            ));
            None
        }
    }
}

fn load_tests(root: &Path) -> (Vec<TestDir>, Vec<String>) {
    test_dirs(root).unwrap_or_else(|e| panic!("zeek-quic corpus unreadable: {e}"))
}

fn load_deviations() -> QuicDeviations {
    let path = deviations::default_path();
    QuicDeviations::load(&path)
        .unwrap_or_else(|e| panic!("deviations file {}: {e}", path.display()))
}

/// The replay of every test, perturbed by `p` if given.
fn replay_report(tests: &[TestDir], skipped: Vec<String>, p: Option<Perturbation>) -> QuicReport {
    QuicReport::run(tests, skipped, &QuicDeviations::default(), |t| {
        let r = ReplayQuic::new(&t.dir, &t.plan);
        assert!(
            r.notes.is_empty(),
            "{}: the replay could not rebuild everything: {:?}",
            t.name,
            r.notes
        );
        Box::new(match p {
            Some(p) => r.perturbed(p),
            None => r,
        })
    })
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn zeek_quic_conformance() {
    let Some(root) = corpus_or_skip("zeek_quic_conformance") else {
        return;
    };
    let Some(analyzer) = our_quic_analyzer() else {
        loud(
            "\n!!! zeek_quic_conformance: SKIPPED — our_quic_analyzer() in tests/tests/zeek_quic.rs \
             returns None (the QUIC analyzer is not wired in yet). Only the self-checks of the \
             harness ran.\n",
        );
        return;
    };
    let (tests, skipped) = load_tests(&root);
    let devs = load_deviations();
    let analyzer: std::rc::Rc<dyn QuicAnalyzer> = std::rc::Rc::from(analyzer);
    let report = QuicReport::run(&tests, skipped, &devs, |_| {
        Box::new(Shared(std::rc::Rc::clone(&analyzer)))
    });
    loud(&format!(
        "\n--- conformance with Zeek's QUIC tests ---\n{}{}",
        report.details(),
        report.summary()
    ));
    let stale = report.stale_deviations();
    assert!(
        report.passed() && stale.is_empty(),
        "{}; {} stale deviation entries (details above)",
        report.summary(),
        stale.len()
    );
}

/// One analyzer shared by every test of a run.
struct Shared(std::rc::Rc<dyn QuicAnalyzer>);

impl QuicAnalyzer for Shared {
    fn run(&self, trace: &Path, opts: &QuicOptions) -> Result<QuicRunOutput, String> {
        self.0.run(trace, opts)
    }
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_replay_matches() {
    let Some(root) = corpus_or_skip("self_check_replay_matches") else {
        return;
    };
    let (tests, skipped) = load_tests(&root);
    assert!(
        tests.len() >= 20,
        "only {} zeek-quic tests found under {}",
        tests.len(),
        root.display()
    );
    let report = replay_report(&tests, skipped, None);
    loud(&format!(
        "\n--- zeek-quic harness self-check (Zeek's baselines replayed) ---\n{}{}",
        report.details(),
        report.summary()
    ));
    assert!(report.passed(), "{}", report.details());
    let t = report.totals();
    // Everything a test diffs is accounted for: compared, or not produced (conn.log,
    // analyzer_debug.log); and the comparisons are real.
    assert!(t.files >= 30, "only {} files compared", t.files);
    assert_eq!(t.rows, t.rows_matched);
    assert_eq!(t.no_baseline, 0, "{t:?}");
    assert!(t.rows >= 100, "{t:?}");
    for (test, f) in report.files() {
        match &f.outcome {
            Outcome::NotProduced(_) => assert!(
                f.file.starts_with("conn.log") || f.file.starts_with("analyzer_debug.log"),
                "{}: {} reported as not produced",
                test.test,
                f.file
            ),
            // Zeek's `.stderr` baselines are empty: zero rows, and the replay's runs succeed.
            Outcome::Compared { rows_total, .. } => assert!(
                *rows_total > 0 || f.file == ".stderr",
                "{}: {} compared no rows",
                test.test,
                f.file
            ),
            other => panic!("{}: {}: {other:?}", test.test, f.file),
        }
    }
    // The event tests went through the script formatter, not around it.
    for (name, lines) in [
        ("events", 72),
        ("analyzer-confirmations", 2),
        ("vector-max-size-crash", 1),
    ] {
        let t = report
            .tests
            .iter()
            .find(|t| t.test == name)
            .unwrap_or_else(|| panic!("test {name} missing"));
        let out = t
            .files
            .iter()
            .find(|f| f.file == "out")
            .unwrap_or_else(|| panic!("{name}: no out diffed"));
        assert!(
            matches!(out.outcome, Outcome::Compared { rows_total, .. } if rows_total == lines),
            "{name}: {:?}",
            out.outcome
        );
    }
}

/// The untolerated mismatches of a report as `(test, file, row, column)`.
fn mismatches(r: &QuicReport) -> Vec<(String, String, usize, String)> {
    r.files()
        .flat_map(|(t, f)| {
            let found = match &f.outcome {
                Outcome::Compared { found, .. } => found.clone(),
                _ => Vec::new(),
            };
            found
                .into_iter()
                .filter(|x| x.tolerated_by.is_none())
                .map(|x| {
                    (
                        t.test.clone(),
                        f.file.clone(),
                        x.mismatch.row,
                        x.mismatch.column,
                    )
                })
        })
        .collect()
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_detects_perturbations() {
    let Some(root) = corpus_or_skip("self_check_detects_perturbations") else {
        return;
    };
    let (tests, _) = load_tests(&root);
    let pick = |names: &[&str]| -> Vec<TestDir> {
        tests
            .iter()
            .filter(|t| names.contains(&t.name.as_str()))
            .cloned()
            .collect()
    };
    let has = |m: &[(String, String, usize, String)], test: &str, file: &str, row, col: &str| {
        m.iter()
            .any(|(t, f, r, c)| t == test && f == file && *r == row && c == col)
    };

    // A history letter: in a full quic.log, in a zeek-cut of it, and in btest-diff-cut.
    let sel = pick(&[
        "chromium",
        "max-history-length",
        "dpd-custom-port",
        "discarded-packet",
    ]);
    let r = replay_report(&sel, Vec::new(), Some(Perturbation::HistoryLetter));
    let m = mismatches(&r);
    assert!(has(&m, "chromium", "quic.log", 1, "history"), "{m:?}");
    assert!(
        has(&m, "max-history-length", "quic.log.cut", 1, "history"),
        "{m:?}"
    );
    assert!(
        has(&m, "dpd-custom-port", "quic.log", 1, "history"),
        "{m:?}"
    );
    for f in [
        "quic.log.no-discarded-packets",
        "quic.log.one-discarded-packet",
        "quic.log.default-discarded-packets",
    ] {
        assert!(has(&m, "discarded-packet", f, 1, "history"), "{m:?}");
    }
    assert_eq!(m.len(), 6, "only the history cells differ: {m:?}");
    assert!(!r.passed());
    assert!(r
        .details()
        .contains("MISMATCH quic.log row 1 column history"));

    // A dropped row, and a changed server_name.
    let sel = pick(&["chromium", "fragmented-crypto"]);
    let m = mismatches(&replay_report(
        &sel,
        Vec::new(),
        Some(Perturbation::DropRow("ssl.log")),
    ));
    assert!(has(&m, "chromium", "ssl.log", 1, "(row)"), "{m:?}");
    assert!(
        has(&m, "fragmented-crypto", "ssl.log.cut", 1, "(row)"),
        "{m:?}"
    );
    assert_eq!(m.len(), 2, "{m:?}");
    let m = mismatches(&replay_report(
        &sel,
        Vec::new(),
        Some(Perturbation::ServerName),
    ));
    assert!(has(&m, "chromium", "ssl.log", 1, "server_name"), "{m:?}");
    assert!(
        has(&m, "fragmented-crypto", "ssl.log.cut", 1, "server_name"),
        "{m:?}"
    );
    assert_eq!(m.len(), 2, "{m:?}");

    // A dropped event is one missing printed line, not a shift of every line after it.
    let sel = pick(&["events", "analyzer-confirmations"]);
    let m = mismatches(&replay_report(
        &sel,
        Vec::new(),
        Some(Perturbation::DropEvent("QUIC::retry_packet")),
    ));
    assert_eq!(m, vec![("events".into(), "out".into(), 3, "(row)".into())]);
    let m = mismatches(&replay_report(
        &sel,
        Vec::new(),
        Some(Perturbation::DropEvent("analyzer_confirmation_info")),
    ));
    assert_eq!(
        m,
        vec![(
            "analyzer-confirmations".into(),
            "out".into(),
            1,
            "(row)".into()
        )]
    );

    // A changed value in a printed line is named by its field.
    let m = mismatches(&replay_report(
        &sel,
        Vec::new(),
        Some(Perturbation::FlipIsOrig("QUIC::initial_packet")),
    ));
    assert!(has(&m, "events", "out", 2, "field 4"), "{m:?}");
    assert!(m.iter().all(|x| x.3 == "field 4"), "{m:?}");
}

/// The deviations file parses, and each entry names a test of the corpus (when present).
#[test]
fn deviations_file_is_valid() {
    let devs = load_deviations();
    let Some(root) = corpus::locate().filter(|r| r.join("zeek-quic").is_dir()) else {
        return;
    };
    let (tests, _) = load_tests(&root);
    for d in &devs.deviation {
        assert!(
            tests
                .iter()
                .any(|t| pac_tests::conformance::deviations::glob(&d.test, &t.name)),
            "quic-deviations.toml: test `{}` names no folder of zeek-quic/",
            d.test
        );
    }
}

/// An analyzer that finds nothing, or fails.
struct Fixed(Result<QuicRunOutput, String>);

impl QuicAnalyzer for Fixed {
    fn run(&self, _: &Path, _: &QuicOptions) -> Result<QuicRunOutput, String> {
        self.0.clone()
    }
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_reports_empty_and_failed_runs() {
    let Some(root) = corpus_or_skip("self_check_reports_empty_and_failed_runs") else {
        return;
    };
    let (tests, _) = load_tests(&root);
    let sel: Vec<TestDir> = tests
        .iter()
        .filter(|t| {
            ["chromium", "max-history-length", "events", "quic-log"].contains(&t.name.as_str())
        })
        .cloned()
        .collect();
    assert_eq!(sel.len(), 4);

    // Nothing found: every log and printed line is missing; an empty .stderr still matches.
    let r = QuicReport::run(&sel, Vec::new(), &QuicDeviations::default(), |_| {
        Box::new(Fixed(Ok(QuicRunOutput::default())))
    });
    let m = mismatches(&r);
    for (test, file, row, col) in [
        ("chromium", "quic.log", 0, "(#fields)"),
        ("chromium", "quic.log", 1, "(row)"),
        ("chromium", "ssl.log", 1, "(row)"),
        ("max-history-length", "quic.log.cut", 0, "(header)"),
        ("max-history-length", "weird.log", 1, "(row)"),
        ("events", "out", 72, "(row)"),
    ] {
        assert!(
            m.iter()
                .any(|(t, f, r, c)| t == test && f == file && *r == row && c == col),
            "{test} {file} row {row} {col} not reported: {m:?}"
        );
    }
    let t = r.totals();
    assert_eq!(
        t.rows_matched, 2,
        "only the echoed lines of events/out match: {t:?}"
    );
    assert!(r
        .files()
        .any(|(t, f)| t.test == "quic-log" && f.file == ".stderr" && f.outcome.matches()));

    // A failing analyzer: every file of its runs fails, and .stderr shows the error.
    let r = QuicReport::run(&sel, Vec::new(), &QuicDeviations::default(), |_| {
        Box::new(Fixed(Err("boom".into())))
    });
    assert!(!r.passed());
    for (t, f) in r.files() {
        match (&f.outcome, f.file.as_str()) {
            (Outcome::Compared { found, .. }, ".stderr") => assert!(
                found.iter().any(|x| x.mismatch.got.ends_with("boom")),
                "{}: {found:?}",
                t.test
            ),
            (Outcome::RunFailed { error, .. }, _) => assert!(error.ends_with("boom")),
            (o, file) => assert!(
                matches!(o, Outcome::NotProduced(_)),
                "{}: {file}: {o:?}",
                t.test
            ),
        }
    }
    assert!(r.details().contains("run failed: $TRACES/quic/"));
}
