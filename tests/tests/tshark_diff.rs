//! The tshark differential test: for every capture of `tests/captures/` and of the conformance
//! corpus (`../shared/conformance/zeek/traces`, skipped loudly when absent), the handshake fields
//! tshark dissects ([`pac_tests::tshark`]) equal the ones our analyzer reports
//! ([`pac_tests::tshark_diff::ours`]): client and server hellos (versions, suites, extension types
//! in order, SNI, ALPN, supported versions, groups, key shares, signature algorithms, point
//! formats), plaintext handshake message types and alerts per direction.
//!
//! A difference fails the test unless `tests/conformance/tshark-deviations.toml` lists it with a
//! reason; an entry that covers nothing fails it too. Without tshark the test skips loudly (or
//! fails under `PAC_REQUIRE_TSHARK=1`, see [`tshark::skip_or_fail`]). tshark and our analyzer run
//! on two worker threads (one per core); the summary line says how long it took.

// A poisoned mutex means another worker already panicked; unwrapping re-raises that.
#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use pac_tests::conformance::corpus;
use pac_tests::tshark::{self, Dissection, TsharkError};
use pac_tests::tshark_diff::{self, compare_counted, Compared, Deviations, Difference};

/// Worker threads: tshark is the expensive part, one process per capture and core.
const WORKERS: usize = 2;

/// Writes to the process's stderr directly: libtest captures `eprintln!`, and the summary must be
/// visible in a plain `cargo test`.
fn loud(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// Every capture to compare: `(name, path)`, named as in the deviations file.
fn captures() -> Vec<(String, PathBuf)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .expect("tests/captures exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .map(|p| {
            let name = format!("captures/{}", p.file_name().unwrap().to_string_lossy());
            (name, p)
        })
        .collect();
    out.sort();
    match corpus::locate() {
        Some(root) => {
            let c = corpus::Corpus::load(&root).expect("conformance corpus loads");
            out.extend(
                c.captures
                    .into_iter()
                    .map(|e| (format!("zeek/{}", e.name), e.trace)),
            );
        }
        None if pac_tests::require::required("conformance") => panic!(
            "tshark_diff: the conformance corpus is absent at {}, and PAC_REQUIRE_TOOLS requires it",
            corpus::default_location().display()
        ),
        None => loud(&format!(
            "\n!!! tshark_diff: CONFORMANCE CORPUS ABSENT at {} (set {}); only tests/captures \
             is compared.\n",
            corpus::default_location().display(),
            corpus::CORPUS_ENV
        )),
    }
    out
}

/// What one capture gave.
struct Outcome {
    name: String,
    compared: Compared,
    differences: Vec<Difference>,
    problem: Option<String>,
}

fn diff_one(name: &str, path: &Path) -> Outcome {
    let mut outcome = Outcome {
        name: name.to_owned(),
        compared: Compared::default(),
        differences: Vec::new(),
        problem: None,
    };
    let theirs: Dissection = match tshark::dissect(path) {
        Ok(d) => d,
        Err(e @ TsharkError::NotInstalled) => panic!("{e}"),
        Err(e) => {
            outcome.problem = Some(format!("tshark: {e}"));
            return outcome;
        }
    };
    let ours = match tshark_diff::ours(path) {
        Ok(d) => d,
        Err(e) => {
            outcome.problem = Some(format!("ours: {e}"));
            return outcome;
        }
    };
    (outcome.differences, outcome.compared) = compare_counted(name, &theirs, &ours);
    outcome
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn handshakes_agree_with_tshark() {
    if let Err(e) = tshark::version() {
        tshark::skip_or_fail("tshark differential test", &e);
        return;
    }
    let devs = Deviations::load(&tshark_diff::deviations_path()).unwrap_or_else(|e| panic!("{e}"));
    let list = captures();
    let started = Instant::now();
    let next = Mutex::new(list.iter());
    let outcomes = Mutex::new(Vec::<Outcome>::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let Some((name, path)) = next.lock().unwrap().next() else {
                    return;
                };
                let o = diff_one(name, path);
                outcomes.lock().unwrap().push(o);
            });
        }
    });
    let elapsed = started.elapsed();
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));

    let mut used = vec![0usize; devs.deviation.len()];
    let mut uncovered = Vec::new();
    let mut problems = Vec::new();
    let (mut connections, mut hellos, mut differences) = (0, 0, 0);
    for o in &outcomes {
        connections += o.compared.connections;
        hellos += o.compared.hellos;
        differences += o.differences.len();
        if let Some(p) = &o.problem {
            problems.push(format!("{}: {p}", o.name));
        }
        for d in &o.differences {
            match devs.covering(d) {
                Some(i) => used[i] += 1,
                None => uncovered.push(d),
            }
        }
    }
    let stale: Vec<String> = devs
        .deviation
        .iter()
        .zip(&used)
        .filter(|(_, n)| **n == 0)
        .map(|(d, _)| format!("capture={} field={:?} ({})", d.capture, d.field, d.reason))
        .collect();
    let deviated = differences - uncovered.len();
    let mut report = format!(
        "\n--- tshark differential ---\n{} captures, {connections} TLS/DTLS connections, \
         {hellos} hellos compared field by field, {differences} differences ({deviated} covered by {} deviation entries, {} uncovered), \
         {} problems, {} stale entries; {:.1} s on {WORKERS} threads\n",
        outcomes.len(),
        devs.deviation.len(),
        uncovered.len(),
        problems.len(),
        stale.len(),
        elapsed.as_secs_f64()
    );
    for d in &uncovered {
        report.push_str(&format!("{d}\n"));
    }
    for p in &problems {
        report.push_str(&format!("PROBLEM {p}\n"));
    }
    for s in &stale {
        report.push_str(&format!("STALE {s}\n"));
    }
    loud(&report);
    assert!(
        uncovered.is_empty() && problems.is_empty() && stale.is_empty(),
        "{} uncovered differences, {} problems, {} stale entries in {} (details above)",
        uncovered.len(),
        problems.len(),
        stale.len(),
        tshark_diff::deviations_path().display()
    );
}
