//! x509.log of every capture in `tests/captures/`, snapshotted as JSON Lines and as TSV (with
//! `#open`/`#close` masked), plus the facts `tests/captures/README.md` states about their
//! certificates asserted directly: TLS 1.3 certificates are encrypted (no rows), the client
//! certificate of `tls12-client-cert.pcap` is flagged, the chain of `tls12-large-chain.pcap` is
//! logged certificate by certificate with the leaf's 61 SANs, DTLS certificates are logged,
//! QUIC certificates (ours and those of Zeek's QUIC corpus) are encrypted, so not logged.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};

#[path = "../../tests/src/snapshot_failures.rs"]
mod snapshot_failures;
use snapshot_failures::SnapshotFailures;
#[path = "log_text.rs"]
mod log_text;
#[path = "../../tests/src/require.rs"]
mod require;
use log_text::mask_open_close;

use serde_json::Value;
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run_with_x509, EventFormat, LogFormat, Outputs, RunOptions};

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/captures")
        .join(name)
}

fn captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(capture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    v.sort();
    v
}

fn x509(path: &Path, format: LogFormat) -> String {
    let mut out = Vec::new();
    let outputs = Outputs {
        events: None,
        log: None,
    };
    let mut o = RunOptions::default();
    o.capture.seed = Some(1);
    run_with_x509(
        &[Input::Path(path.to_owned())],
        &o,
        outputs,
        Some((format, &mut out)),
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn rows(name: &str) -> Vec<Value> {
    x509(&capture(name), LogFormat::Json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_capture_snapshot() {
    let mut failures = SnapshotFailures::new();
    for path in captures() {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let json = x509(&path, LogFormat::Json);
        let tsv = mask_open_close(&x509(&path, LogFormat::Tsv));
        if json.is_empty() {
            // Zeek writes no log without a row: no header either.
            assert!(tsv.is_empty(), "{name}");
        }
        let snap = format!("== x509.log (JSON Lines)\n{json}== x509.log (TSV)\n{tsv}");
        failures.check(&name, || insta::assert_snapshot!(name.as_str(), snap));
    }
    failures.finish();
}

#[test]
fn tls13_certificates_are_encrypted_so_not_logged() {
    for name in ["tls13.pcap", "tls13-client-cert.pcap", "gnutls-tls13.pcap"] {
        assert!(rows(name).is_empty(), "{name}");
    }
}

#[test]
fn client_certificates_are_flagged() {
    let r = rows("tls12-client-cert.pcap");
    let flags: Vec<(bool, bool)> = r
        .iter()
        .map(|r| {
            (
                r["host_cert"].as_bool().unwrap(),
                r["client_cert"].as_bool().unwrap(),
            )
        })
        .collect();
    // Server leaf + CA, then client leaf + the same CA: the CA is logged twice because Zeek's
    // deduplication index includes client_cert.
    assert_eq!(
        flags,
        [(true, false), (false, false), (true, true), (false, true)]
    );
    assert_eq!(r[1]["fingerprint"], r[3]["fingerprint"]);
    assert_eq!(r[1]["basic_constraints.ca"], true);
    assert_eq!(r[0]["certificate.key_type"], "ecdsa");
    assert_eq!(r[0]["certificate.curve"], "prime256v1");
    assert_eq!(r[0]["certificate.key_length"], 256);
}

#[test]
fn large_chain_is_logged_certificate_by_certificate() {
    let r = rows("tls12-large-chain.pcap");
    assert_eq!(r.len(), 5, "a leaf and 4 intermediates");
    assert_eq!(r[0]["host_cert"], true);
    assert!(r[1..].iter().all(|r| r["host_cert"] == false));
    assert_eq!(r[0]["san.dns"].as_array().unwrap().len(), 61);
    // The server sends its intermediates root-first (CA 1 .. CA 4, leaf issued by CA 4); the
    // log keeps the order of the message. Every issuer but the root's is in the chain.
    let subjects: Vec<&Value> = r.iter().map(|r| &r["certificate.subject"]).collect();
    assert_eq!(r[0]["certificate.issuer"], "CN=Test Intermediate CA 4");
    assert_eq!(r[1]["certificate.issuer"], "CN=Test Root CA");
    assert!(r[1..]
        .iter()
        .skip(1)
        .all(|r| subjects.contains(&&r["certificate.issuer"])));
}

#[test]
fn dtls_certificates_are_logged() {
    for name in ["dtls10.pcap", "dtls12.pcap", "dtls12-fragmented.pcap"] {
        assert_eq!(rows(name).len(), 1, "{name}");
    }
}

#[test]
fn a_capture_read_twice_logs_each_certificate_once() {
    let p = capture("tls12-client-cert.pcap");
    let mut out = Vec::new();
    run_with_x509(
        &[Input::Path(p.clone()), Input::Path(p)],
        &RunOptions::default(),
        Outputs {
            events: None,
            log: None,
        },
        Some((LogFormat::Json, &mut out)),
    )
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 4);
}

/// `.pcap`/`.pcapng` files under `dir`, recursively, sorted.
fn pcaps_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            pcaps_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
            out.push(p);
        }
    }
    out.sort();
}

/// A QUIC server's Certificate message travels in Handshake packets, which an observer cannot
/// decrypt (only Initial packets can be): neither Zeek nor we log a QUIC certificate. Our QUIC
/// captures write ssl.log rows but no x509.log row.
#[test]
fn quic_certificates_are_encrypted_so_not_logged() {
    let mut ours = Vec::new();
    pcaps_under(&capture("quic"), &mut ours);
    assert!(ours.len() >= 5, "tests/captures/quic has its captures");
    for p in &ours {
        assert_eq!(x509(p, LogFormat::Json), "", "{}", p.display());
    }
}

/// The same on Zeek's QUIC traces; Zeek's own QUIC test baselines (`zeek-quic/*/`) hold ssl.log
/// and quic.log files but no x509.log.
#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn zeeks_quic_traces_log_no_certificate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let (zeek_quic, traces) = (root.join("zeek-quic"), root.join("zeek/traces/quic"));
    if !zeek_quic.is_dir() || !traces.is_dir() {
        require::skip_or_fail("conformance", "Zeek's QUIC traces and baselines");
        return;
    }
    let mut files = Vec::new();
    pcaps_under(&traces, &mut files);
    pcaps_under(&zeek_quic.join("traces"), &mut files);
    assert!(files.len() >= 10, "Zeek's QUIC traces");
    for p in &files {
        assert_eq!(x509(p, LogFormat::Json), "", "{}", p.display());
    }
    // Zeek's baselines: ssl.log for QUIC handshakes, never an x509.log.
    let mut logs = Vec::new();
    let mut stack = vec![zeek_quic];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(n) = p.file_name().and_then(|n| n.to_str()) {
                logs.push(n.to_owned());
            }
        }
    }
    assert!(logs.iter().any(|n| n == "ssl.log"));
    assert!(!logs.iter().any(|n| n.starts_with("x509")), "{logs:?}");
}

/// Zeek's `tls/tls-fragmented-handshake.pcap.gz`: one certificate with 10,000 SAN DNS names.
/// Zeek's logging framework writes its row with the first 500 names
/// (`X509::default_max_field_container_elements`) and raises the weird
/// `log_container_field_truncated` without a connection, naming the stream; the event stream
/// of the same run carries it as a `net_weird` line at the certificate's time.
#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn ten_thousand_sans_are_logged_as_zeek_caps_them() {
    let trace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/zeek/traces/tls/tls-fragmented-handshake.pcap.gz");
    if !trace.is_file() {
        require::skip_or_fail("conformance", "the 10,000-SAN certificate of Zeek's traces");
        return;
    }
    let (mut events, mut x509) = (Vec::new(), Vec::new());
    run_with_x509(
        &[Input::Path(trace)],
        &RunOptions::default(),
        Outputs {
            events: Some((EventFormat::Json, &mut events)),
            log: None,
        },
        Some((LogFormat::Json, &mut x509)),
    )
    .unwrap();
    let rows: Vec<Value> = String::from_utf8(x509)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    let dns = rows[0]["san.dns"].as_array().unwrap();
    assert_eq!(dns.len(), 500);
    assert_eq!(dns[0], "1.alt.helloIamADomain.example");
    assert_eq!(dns[499], "500.alt.helloIamADomain.example");
    assert_eq!(rows[0]["certificate.subject"], "CN=Bro");
    let weirds: Vec<Value> = String::from_utf8(events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "net_weird")
        .collect();
    assert_eq!(weirds.len(), 1, "{weirds:?}");
    assert_eq!(weirds[0]["args"]["name"], "log_container_field_truncated");
    assert_eq!(weirds[0]["args"]["addl"], "X509::LOG");
    assert_eq!(
        weirds[0]["ts"], rows[0]["ts"],
        "raised when the row is written"
    );
}
