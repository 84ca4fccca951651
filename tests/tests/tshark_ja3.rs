//! JA3/JA3S differential against tshark (`tls.handshake.ja3`/`ja3s`, `dtls.handshake.ja3`/
//! `ja3s`): on every capture of `tests/captures` and of the Zeek corpus
//! (`../shared/conformance/zeek/traces`), every connection on which both tshark and our ssl.log
//! have a value must have the same value. Connections only one side fingerprints are counted and
//! printed (tshark dissects connections our analyzer does not analyse, e.g. TLS on a port with
//! no payload detection, and the other way round), not compared.
//!
//! Ignored when tshark is absent; the corpus half skips visibly without the corpus.

// A poisoned mutex means another worker thread already panicked; unwrapping re-raises that.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use pac_tests::conformance::corpus::{self, Corpus};
use pac_tests::fingerprints::{ours, tshark_ja3, ConnPair};
use pac_tests::tshark;
use tls_analyzer::fingerprint::{FingerprintSet, Method};

/// Counts of one corpus.
#[derive(Debug, Default)]
struct Tally {
    /// Connections where both sides have the value, and they agree.
    matched: usize,
    /// Where both have it and they differ (a failure).
    mismatched: Vec<String>,
    /// Only tshark has a value.
    tshark_only: Vec<String>,
    /// Only we have one.
    ours_only: Vec<String>,
}

fn compare(name: &str, capture: &Path, tally: &Mutex<Tally>) {
    let theirs = match tshark_ja3(capture) {
        Ok(t) => t,
        Err(e) => panic!("tshark on {name}: {e}"),
    };
    let set = FingerprintSet::NONE.with(Method::Ja3).with(Method::Ja3s);
    let rows = ours(capture, set).unwrap_or_else(|e| panic!("our run on {name}: {e}"));
    let mut t = tally.lock().unwrap();
    let mut seen = std::collections::HashSet::new();
    for row in &rows {
        let Some(key) = ConnPair::of_row(row) else {
            continue;
        };
        seen.insert(key.clone());
        let tv = theirs.get(&key).cloned().unwrap_or_default();
        for (col, their) in [("ja3", tv.ja3), ("ja3s", tv.ja3s)] {
            let mine = row.get(col).and_then(|v| v.as_str()).map(str::to_owned);
            let what = format!("{name} {key:?} {col}");
            match (mine, their) {
                (Some(m), Some(th)) if m == th => t.matched += 1,
                (Some(m), Some(th)) => t.mismatched.push(format!("{what}: ours {m}, tshark {th}")),
                (None, Some(th)) => t.tshark_only.push(format!("{what}: tshark {th}")),
                (Some(m), None) => t.ours_only.push(format!("{what}: ours {m}")),
                (None, None) => {}
            }
        }
    }
    for (key, tv) in &theirs {
        if seen.contains(key) {
            continue;
        }
        for (col, v) in [("ja3", &tv.ja3), ("ja3s", &tv.ja3s)] {
            if let Some(v) = v {
                t.tshark_only
                    .push(format!("{name} {key:?} {col}: tshark {v} (no ssl.log row)"));
            }
        }
    }
}

fn run_all(label: &str, captures: Vec<(String, PathBuf)>) -> Tally {
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
    let t = tally.into_inner().unwrap();
    eprintln!(
        "{label}: JA3/JA3S agree with tshark on {} values; {} differ; {} only tshark has; {} only we have",
        t.matched,
        t.mismatched.len(),
        t.tshark_only.len(),
        t.ours_only.len()
    );
    for l in t.tshark_only.iter().chain(&t.ours_only) {
        eprintln!("  one-sided: {l}");
    }
    t
}

fn tshark_present() -> bool {
    match tshark::version() {
        Ok(_) => true,
        Err(e) => {
            tshark::skip_or_fail("tshark JA3 differential", &e);
            false
        }
    }
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "needs tshark, which is not installed; probed at build time"
)]
fn ja3_matches_tshark_on_test_captures() {
    if !tshark_present() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    // The TCP and DTLS captures, and the QUIC ones in their folder.
    let mut captures: Vec<(String, PathBuf)> = [dir.clone(), dir.join("quic")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).expect("tests/captures"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    captures.sort();
    let t = run_all("tests/captures", captures);
    assert!(t.matched > 0, "nothing compared");
    assert!(
        t.mismatched.is_empty(),
        "JA3/JA3S differ from tshark:\n{}",
        t.mismatched.join("\n")
    );
}

#[test]
#[cfg_attr(
    any(pac_no_tshark, pac_no_conformance),
    ignore = "needs tshark and ../shared/conformance, and one is missing; probed at build time"
)]
fn ja3_matches_tshark_on_zeek_corpus() {
    let Some(root) = corpus::locate() else {
        pac_tests::require::skip_or_fail(
            "conformance",
            &format!(
                "JA3 differential over {}",
                corpus::default_location().display()
            ),
        );
        return;
    };
    if !tshark_present() {
        return;
    }
    let corpus = Corpus::load(&root).expect("corpus loads");
    let captures = corpus
        .captures
        .iter()
        .map(|c| {
            let mut trace = c.trace.clone();
            if !trace.exists() {
                trace.as_mut_os_string().push(".gz");
            }
            (c.name.clone(), trace)
        })
        .filter(|(_, t)| t.exists())
        .collect();
    let t = run_all("Zeek corpus", captures);
    assert!(t.matched > 0, "nothing compared");
    assert!(
        t.mismatched.is_empty(),
        "JA3/JA3S differ from tshark:\n{}",
        t.mismatched.join("\n")
    );
}
