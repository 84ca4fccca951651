//! The command line's options, run through the built binary: `--help` (snapshot), `--seed`,
//! `--no-stop-after-established`, `--compat-ssl-server-curve`, `--max-ssl-history-length` and
//! `--threads`, each shown to change exactly what it says and nothing else.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "cli_util.rs"]
mod util;

use util::*;

#[test]
fn help_reads_well() {
    let mut all = String::new();
    for args in [
        ["--help"].as_slice(),
        &["events", "--help"],
        &["log", "--help"],
    ] {
        let r = run(args).ok();
        all.push_str(&format!(
            "$ tls-analyzer {}\n{}\n",
            args.join(" "),
            r.stdout
        ));
    }
    insta::assert_snapshot!("help", all);
    // Every option of the help is documented in the README's "Using it" section, so a new
    // flag cannot ship undocumented.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let using_it = readme
        .split("\n## ")
        .find(|s| s.starts_with("Using it"))
        .expect("README has a 'Using it' section");
    let mut flags: Vec<&str> = all
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .collect();
    flags.sort_unstable();
    flags.dedup();
    flags.retain(|f| !matches!(*f, "--help" | "--version"));
    assert!(flags.len() >= 8, "{flags:?}");
    for flag in flags {
        assert!(
            using_it.contains(&format!("`{flag}")),
            "README's 'Using it' lacks {flag}"
        );
    }
}

/// The uids of an event run, in order of first appearance.
fn uids(events: &str) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for l in events.lines() {
        let u = event_uid(l);
        if !v.iter().any(|x| x == u) {
            v.push(u.to_owned());
        }
    }
    v
}

#[test]
fn seed_makes_uids_reproducible() {
    let file = capture_arg("tls12-resume-ticket.pcap");
    let a = run(&["events", "--seed", "42", &file]).ok();
    let b = run(&["events", "--seed", "42", &file]).ok();
    assert_eq!(a.stdout, b.stdout);
    let ua = uids(&a.stdout);
    assert_eq!(ua.len(), 2, "two connections");
    for u in &ua {
        // Zeek's shape: 'C' and base62, 15 to 18 characters.
        assert!(u.starts_with('C') && (15..=18).contains(&u.len()), "{u}");
        assert!(u.chars().all(|c| c.is_ascii_alphanumeric()), "{u}");
    }
    // Another seed: other uids, the same events otherwise.
    let c = run(&["events", "--seed", "43", &file]).ok();
    let uc = uids(&c.stdout);
    assert!(ua.iter().all(|u| !uc.contains(u)), "{ua:?} vs {uc:?}");
    let renamed = ua
        .iter()
        .zip(&uc)
        .fold(a.stdout.clone(), |s, (x, y)| s.replace(x.as_str(), y));
    assert_eq!(renamed, c.stdout);
    // No seed: fresh uids every run (drawn from the OS).
    let d = run(&["events", &file]).ok();
    let e = run(&["events", &file]).ok();
    assert_ne!(uids(&d.stdout), uids(&e.stdout));
    // The log uses the same uids as the events.
    let log = run(&["log", "--seed", "42", &file]).ok();
    let log_uids: Vec<&str> = tsv_rows(&log.stdout)
        .iter()
        .map(|r| r.split('\t').nth(1).unwrap())
        .collect();
    assert_eq!(log_uids, ua);
}

/// Event names of a text event run.
fn names(events: &str) -> Vec<&str> {
    events
        .lines()
        .map(|l| l.split(' ').nth(2).unwrap())
        .collect()
}

#[test]
fn no_stop_after_established_keeps_reporting_encrypted_data() {
    for name in ["tls12.pcap", "tls13.pcap"] {
        let file = capture_arg(name);
        let stop = run(&["events", "--seed", "1", &file]).ok();
        let go = run(&[
            "events",
            "--seed",
            "1",
            "--no-stop-after-established",
            &file,
        ])
        .ok();
        // Zeek's default: the analyzer is removed after ssl_established, so the record that
        // completed the establishment is the last thing reported, then the removal itself.
        let stop_names = names(&stop.stdout);
        let at = stop_names
            .iter()
            .position(|n| *n == "ssl_established")
            .unwrap();
        assert_eq!(
            &stop_names[at + 1..],
            ["ssl_encrypted_data", "analyzer_disabled"],
            "{name}"
        );
        let (stop_names, stop_out) = {
            let kept = stop_names.len() - 1;
            let cut = stop.stdout.lines().take(kept).map(|l| l.len() + 1).sum();
            (&stop_names[..kept], &stop.stdout[..cut])
        };
        // With the flag, the same events, then the rest of the connection: the client's
        // `hello\n`, the server's answer and both close_notify alerts, all encrypted.
        assert!(go.stdout.starts_with(stop_out), "{name}");
        let go_names = names(&go.stdout);
        let after: Vec<&str> = go_names[stop_names.len()..].to_vec();
        assert!(
            after.iter().filter(|n| **n == "ssl_encrypted_data").count() >= 4,
            "{name}: {after:?}"
        );
        assert!(!after.contains(&"ssl_established"), "{name}");
        // Both directions are reported.
        let tail = &go.stdout.lines().collect::<Vec<_>>()[stop_names.len()..];
        assert!(tail.iter().any(|l| l.contains("is_client=T")), "{name}");
        assert!(tail.iter().any(|l| l.contains("is_client=F")), "{name}");
    }
}

#[test]
fn compat_ssl_server_curve_adds_only_the_deprecated_event() {
    let file = capture_arg("tls12-ecdhe.pcap");
    let plain = run(&["events", "--seed", "1", &file]).ok();
    let compat = run(&["events", "--seed", "1", "--compat-ssl-server-curve", &file]).ok();
    assert!(!plain.stdout.contains("ssl_server_curve"));
    let added: Vec<&str> = compat
        .stdout
        .lines()
        .filter(|l| !plain.stdout.lines().any(|p| p == *l))
        .collect();
    assert_eq!(added.len(), 1, "{added:?}");
    // Bro 2.6 raised it with the curve of the ServerKeyExchange, right before
    // ssl_ecdh_server_params.
    let ecdh = plain
        .stdout
        .lines()
        .find(|l| l.contains(" ssl_ecdh_server_params "))
        .unwrap();
    let curve = ecdh.split(' ').find(|a| a.starts_with("curve=")).unwrap();
    assert!(
        added[0].ends_with(&format!(" ssl_server_curve {curve}")),
        "{}",
        added[0]
    );
    let lines: Vec<&str> = compat.stdout.lines().collect();
    let i = lines.iter().position(|l| *l == added[0]).unwrap();
    assert_eq!(lines[i + 1], ecdh);
    // ssl.log is unaffected.
    let log = run(&["log", "--seed", "1", "--compat-ssl-server-curve", &file]).ok();
    assert_eq!(log.stdout, run(&["log", "--seed", "1", &file]).ok().stdout);
}

#[test]
fn max_ssl_history_length_truncates_the_history_column() {
    let file = capture_arg("tls12.pcap");
    let full = run(&["log", "--format", "json", &file]).ok();
    let short = run(&[
        "log",
        "--format",
        "json",
        "--max-ssl-history-length",
        "3",
        &file,
    ])
    .ok();
    let history = |s: &str| {
        let v: serde_json::Value = serde_json::from_str(s.lines().next().unwrap()).unwrap();
        v["ssl_history"].as_str().unwrap().to_owned()
    };
    let (full, short) = (history(&full.stdout), history(&short.stdout));
    assert!(full.len() > 3, "{full}");
    assert_eq!(short, full[..3]);
}

#[test]
fn threads_give_the_same_output() {
    let mut files: Vec<String> = all_captures()
        .iter()
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    files.sort();
    for cmd in [["events", "--format", "json"], ["log", "--format", "tsv"]] {
        let mut one: Vec<&str> = vec![cmd[0], cmd[1], cmd[2], "--seed", "3"];
        one.extend(files.iter().map(String::as_str));
        let mut three = one.clone();
        three.extend(["--threads", "3"]);
        let a = run(&one).ok();
        let b = run(&three).ok();
        assert_eq!(a.stdout, b.stdout, "{cmd:?}");
    }
}

#[test]
fn subject_issuer_columns_on_request() {
    let file = capture_arg("tls12-client-cert.pcap");
    let plain = run(&["log", "--seed", "1", &file]).ok();
    assert!(!plain.stdout.contains("subject"));
    let fields = |tsv: &str| -> Vec<String> {
        tsv.lines()
            .find_map(|l| l.strip_prefix("#fields\t"))
            .unwrap()
            .split('\t')
            .map(str::to_owned)
            .collect()
    };
    let server = run(&["log", "--seed", "1", "--log-cert-subject-issuer", &file]).ok();
    let f = fields(&server.stdout);
    assert!(f.contains(&"subject".to_owned()) && f.contains(&"issuer".to_owned()));
    assert!(!f.contains(&"client_subject".to_owned()));
    let both = run(&[
        "log",
        "--format",
        "json",
        "--seed",
        "1",
        "--log-cert-subject-issuer",
        "--log-client-cert-subject-issuer",
        &file,
    ])
    .ok();
    let row: serde_json::Value = serde_json::from_str(both.stdout.trim()).unwrap();
    // The certificates of tests/captures (scripts/make-captures.sh).
    assert_eq!(row["subject"], "CN=server.example.test");
    assert_eq!(row["issuer"], "CN=Test Root CA");
    assert_eq!(row["client_subject"], "CN=client.example.test");
    assert_eq!(row["client_issuer"], "CN=Test Root CA");
}

#[test]
fn max_connections_ends_the_least_recently_active_connection() {
    // Two TLS 1.2 connections, the second (the resumption) opened while the first still
    // lingers: with room for one, the first is ended early with `connection_table_full`.
    let file = capture_arg("tls12-resume-ticket.pcap");
    let full = run(&["events", "--seed", "1", &file]).ok();
    let capped = run(&["events", "--seed", "1", "--max-connections", "1", &file]).ok();
    let weird = |s: &str| {
        s.lines()
            .filter(|l| l.contains("conn_weird") && l.contains("connection_table_full"))
            .count()
    };
    assert_eq!(weird(&full.stdout), 0);
    assert_eq!(weird(&capped.stdout), 1, "{}", capped.stdout);
    // Nothing else changes: both handshakes are fully reported.
    let established = |s: &str| s.lines().filter(|l| l.contains("ssl_established")).count();
    assert_eq!(established(&full.stdout), 2);
    assert_eq!(established(&capped.stdout), 2);
    // And the table size only bounds, never breaks, the log.
    let log = run(&["log", "--seed", "1", "--max-connections", "1", &file]).ok();
    assert_eq!(tsv_rows(&log.stdout).len(), 2);
}

#[test]
fn max_buffered_bytes_is_a_flag() {
    // Nothing in the bundled captures arrives out of order, so a tiny budget changes nothing
    // there; the limit itself is exercised by the capture tests and robust_adversarial.rs.
    let file = capture_arg("tls13.pcap");
    let a = run(&["log", "--seed", "1", &file]).ok();
    let b = run(&["log", "--seed", "1", "--max-buffered-bytes", "1", &file]).ok();
    assert_eq!(tsv_rows(&a.stdout), tsv_rows(&b.stdout));
    let bad = run(&["log", "--max-buffered-bytes", "lots", &file]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
}
