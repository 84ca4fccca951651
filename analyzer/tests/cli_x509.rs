//! `log --log x509` and `log --logdir DIR` through the built binary: x509.log on stdout, and
//! ssl.log plus x509.log written side by side, byte for byte what the two stdout runs print;
//! a log without rows is not created (as Zeek); `--threads` does not change x509.log.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "cli_util.rs"]
mod util;

use util::*;

#[test]
fn log_x509_prints_zeeks_x509_log() {
    let cap = capture_arg("tls12-client-cert.pcap");
    let r = run(&["log", "--log", "x509", &cap]).ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.contains(&"#path\tx509"));
    let fields = lines.iter().find(|l| l.starts_with("#fields\t")).unwrap();
    assert!(fields.ends_with("\thost_cert\tclient_cert"));
    assert_eq!(lines.iter().filter(|l| !l.starts_with('#')).count(), 4);
    let json = run(&["log", "--log", "x509", "--format", "json", &cap]).ok();
    assert_eq!(json.stdout.lines().count(), 4);
    assert!(json.stdout.starts_with("{\"ts\":"));
}

#[test]
fn logdir_writes_ssl_and_x509_logs_side_by_side() {
    let cap = capture_arg("tls12-large-chain.pcap");
    let dir = scratch("cli_x509", "logs");
    let _ = std::fs::remove_dir_all(&dir);
    for format in ["tsv", "json"] {
        let d = dir.join(format);
        let r = run(&[
            "log",
            "--format",
            format,
            "--seed",
            "1",
            "--logdir",
            d.to_str().unwrap(),
            &cap,
        ])
        .ok();
        assert_eq!(r.stdout, "", "nothing on stdout with --logdir");
        let ssl = run(&["log", "--format", format, "--seed", "1", &cap]).ok();
        let x509 = run(&["log", "--format", format, "--log", "x509", &cap]).ok();
        assert_eq!(
            std::fs::read_to_string(d.join("ssl.log")).unwrap(),
            ssl.stdout
        );
        assert_eq!(
            std::fs::read_to_string(d.join("x509.log")).unwrap(),
            x509.stdout
        );
    }
}

#[test]
fn logdir_creates_no_x509_log_without_certificates() {
    let cap = capture_arg("tls13.pcap");
    let dir = scratch("cli_x509", "tls13");
    let _ = std::fs::remove_dir_all(&dir);
    run(&["log", "--logdir", dir.to_str().unwrap(), &cap]).ok();
    assert!(dir.join("ssl.log").is_file());
    assert!(
        !dir.join("x509.log").exists(),
        "TLS 1.3 certificates are encrypted"
    );
}

#[test]
fn threads_do_not_change_x509_log() {
    let cap = capture_arg("tls12-client-cert.pcap");
    let one = run(&["log", "--log", "x509", "--format", "json", &cap]).ok();
    let four = run(&[
        "log",
        "--log",
        "x509",
        "--format",
        "json",
        "--threads",
        "4",
        &cap,
    ])
    .ok();
    assert_eq!(one.stdout, four.stdout);
}

#[test]
fn log_and_logdir_conflict() {
    let r = run(&["log", "--log", "x509", "--logdir", "/nonexistent", "x.pcap"]);
    assert_eq!(r.code, Some(2), "a usage error: {}", r.stderr);
}
