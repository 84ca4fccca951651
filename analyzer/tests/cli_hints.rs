//! What the command line says when it has nothing to show: a capture given without a command
//! gets clap's usage error plus the command that analyses it (exit 2), and traffic that was
//! seen but not analysed (QUIC, plain TCP) is counted on stderr when asked with
//! `--report-unanalysed` (or when stderr is a terminal) — never otherwise, so that pipes and
//! the other tests see only the output, which the report never changes.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "cli_util.rs"]
mod util;

use std::path::PathBuf;

use util::*;

/// Zeek's QUIC test captures, or `None` (said loudly) when `../shared` is absent.
fn quic_captures() -> Option<Vec<PathBuf>> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/zeek/traces/quic");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "SKIPPED: {} is absent; the QUIC report is not tested",
            dir.display()
        );
        return None;
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no captures in {}", dir.display());
    Some(files)
}

#[test]
fn a_capture_without_a_command_gets_a_hint_to_the_log_command() {
    let file = capture_arg("tls12.pcap");
    let r = run(&[&file]);
    assert_eq!(r.code, Some(2), "a usage error");
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .starts_with(&format!("error: unrecognized subcommand '{file}'\n")),
        "{}",
        r.stderr
    );
    let tip = format!(
        "  tip: to analyse it, run 'tls-analyzer log {file}' (ssl.log) or 'tls-analyzer events {file}'\n"
    );
    assert!(r.stderr.contains(&tip), "{}", r.stderr);
    // The suggested command does analyse it.
    let log = run(&["log", &file]).ok();
    assert_eq!(tsv_rows(&log.stdout).len(), 1, "{}", log.stdout);

    // A word that is no file is only clap's error.
    let r = run(&["no-such-capture.pcap"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("unrecognized subcommand"), "{}", r.stderr);
    assert!(!r.stderr.contains("tip:"), "{}", r.stderr);
}

#[test]
fn quic_flows_are_analysed_not_reported() {
    let Some(files) = quic_captures() else {
        return;
    };
    for file in &files {
        let file = file.to_str().unwrap();
        // Zeek's QUIC captures hold QUIC connections on 443/udp or opening with an Initial:
        // each is analysed (an ssl.log or quic.log row), so the report has nothing to say.
        let quic = run(&["log", "--log", "quic", file]).ok();
        assert!(
            quic.stdout.lines().any(|l| !l.starts_with('#')),
            "{file}: a quic.log row"
        );
        for threads in ["1", "2"] {
            let r = run(&["events", "--report-unanalysed", "--threads", threads, file]);
            assert_eq!(r.code, Some(0), "{file}: {}", r.stderr);
            assert!(r.stdout.contains("QUIC::"), "{file}: QUIC events");
            assert!(
                !r.stderr.contains("QUIC"),
                "{file} (--threads {threads}): {}",
                r.stderr
            );
        }
    }
}

#[test]
fn the_projects_captures_report_only_their_plain_http() {
    for path in all_captures() {
        let file = path.to_str().unwrap();
        let plain = run(&["log", "--seed", "1", file]).ok();
        let r = run(&["log", "--seed", "1", "--report-unanalysed", file]);
        assert_eq!(r.code, Some(0), "{file}: {}", r.stderr);
        assert_eq!(
            r.stdout, plain.stdout,
            "{file}: the report changes no output"
        );
        let expected = if file.ends_with("http-on-443.pcap") {
            "tls-analyzer: not analysed: 1 TCP connection without SSL/TLS\n"
        } else {
            ""
        };
        assert_eq!(r.stderr, expected, "{file}");
    }
}
