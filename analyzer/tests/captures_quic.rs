//! Every QUIC capture of `tests/captures/quic/` (made with aioquic on loopback, see
//! `tests/captures/README.md`), snapshotted: the events (text), ssl.log and quic.log as JSON
//! Lines, and quic.log as TSV with `#open`/`#close` masked. Uids come from a fixed seed. The
//! facts the README states about each capture are asserted as well, so that a wrong snapshot
//! cannot be accepted by accident.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};

#[path = "../../tests/src/snapshot_failures.rs"]
mod snapshot_failures;
use snapshot_failures::SnapshotFailures;
#[path = "log_text.rs"]
mod log_text;
use log_text::mask_open_close;

use serde_json::Value;
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run_with_logs, EventFormat, LogFormat, OtherLogs, Outputs, RunOptions};

/// The seed every snapshot is made with.
const SEED: u64 = 1;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/captures/quic")
}

fn captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    v.sort();
    assert_eq!(
        v.len(),
        9,
        "the QUIC captures listed in tests/captures/README.md"
    );
    v
}

/// What one run writes: events, ssl.log, quic.log.
struct Run {
    events: String,
    ssl: String,
    quic: String,
}

fn run(path: &Path, events: EventFormat, logs: LogFormat) -> Run {
    let mut o = RunOptions::default();
    o.capture.seed = Some(SEED);
    let (mut ev, mut ssl, mut quic) = (Vec::new(), Vec::new(), Vec::new());
    // Events and logs come from separate runs, as the CLI prints one or the other.
    run_with_logs(
        &[Input::Path(path.to_owned())],
        &o,
        Outputs {
            events: Some((events, &mut ev)),
            log: None,
        },
        OtherLogs::default(),
    )
    .unwrap();
    run_with_logs(
        &[Input::Path(path.to_owned())],
        &o,
        Outputs {
            events: None,
            log: Some((logs, &mut ssl)),
        },
        OtherLogs {
            x509: None,
            quic: Some((logs, &mut quic)),
            tunnel: None,
        },
    )
    .unwrap();
    let s = |b: Vec<u8>| String::from_utf8(b).unwrap();
    Run {
        events: s(ev),
        ssl: s(ssl),
        quic: s(quic),
    }
}

fn rows(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// ssl.log and quic.log rows of one capture, as JSON.
fn logs(name: &str) -> (Vec<Value>, Vec<Value>) {
    let r = run(&dir().join(name), EventFormat::Text, LogFormat::Json);
    (rows(&r.ssl), rows(&r.quic))
}

fn s<'v>(row: &'v Value, k: &str) -> &'v str {
    row.get(k).and_then(Value::as_str).unwrap_or("")
}

#[test]
fn every_quic_capture_snapshot() {
    let mut failures = SnapshotFailures::new();
    for path in captures() {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let json = run(&path, EventFormat::Text, LogFormat::Json);
        let tsv = run(&path, EventFormat::Text, LogFormat::Tsv);
        let snap = format!(
            "== events (text)\n{}== ssl.log (JSON Lines)\n{}== quic.log (JSON Lines)\n{}\
             == quic.log (TSV)\n{}",
            json.events,
            json.ssl,
            json.quic,
            mask_open_close(&tsv.quic)
        );
        failures.check(&name, || insta::assert_snapshot!(name.as_str(), snap));
    }
    failures.finish();
}

#[test]
fn every_capture_has_its_hello_names_and_tls_13() {
    for path in captures() {
        let name = path.file_name().unwrap().to_str().unwrap();
        let (ssl, quic) = logs(name);
        assert!(!quic.is_empty(), "{name}: quic.log rows");
        for r in &quic {
            assert_eq!(s(r, "server_name"), "quic.test", "{name}");
        }
        for r in &ssl {
            assert_eq!(s(r, "server_name"), "quic.test", "{name}");
            if name != "quic-fail.pcap" {
                assert_eq!(s(r, "version"), "TLSv13", "{name}");
                assert_eq!(s(r, "cipher"), "TLS_AES_256_GCM_SHA384", "{name}");
            }
        }
    }
}

#[test]
fn versions_ports_and_addresses() {
    let (_, q) = logs("quic-v1.pcap");
    assert_eq!(s(&q[0], "version"), "1");
    assert_eq!(s(&q[0], "client_protocol"), "echo");
    let (_, q) = logs("quic-v2.pcap");
    assert_eq!(s(&q[0], "version"), "quicv2");
    let (_, q) = logs("quic-ipv6.pcap");
    assert_eq!(s(&q[0], "id.orig_h"), "::1");
    let (_, q) = logs("quic-port-4433.pcap");
    assert_eq!(q[0].get("id.resp_p").and_then(Value::as_u64), Some(4433));
}

#[test]
fn retry_writes_a_row_and_the_second_initial_uses_the_new_id() {
    let (ssl, q) = logs("quic-retry.pcap");
    assert_eq!(q.len(), 2);
    assert!(s(&q[0], "history").ends_with('r'), "{:?}", q[0]);
    assert_ne!(
        s(&q[0], "client_initial_dcid"),
        s(&q[1], "client_initial_dcid")
    );
    // One connection, two ClientHellos (one per SSL analyzer), one ServerHello.
    assert_eq!(ssl.len(), 1);
    assert_eq!(s(&ssl[0], "ssl_history"), "CCs");
}

#[test]
fn a_client_hello_over_two_initials_is_reassembled() {
    let (ssl, q) = logs("quic-split-hello.pcap");
    assert!(s(&q[0], "history").starts_with("IIS"), "{:?}", q[0]);
    assert_eq!(s(&ssl[0], "ssl_history"), "Cs");
}

#[test]
fn resumption_and_zero_rtt() {
    for name in ["quic-resume.pcap", "quic-0rtt.pcap"] {
        let (ssl, _) = logs(name);
        assert_eq!(ssl.len(), 2, "{name}");
        assert_eq!(ssl[0].get("resumed"), Some(&Value::Bool(false)), "{name}");
        assert_eq!(ssl[1].get("resumed"), Some(&Value::Bool(true)), "{name}");
    }
    let (_, q) = logs("quic-0rtt.pcap");
    assert!(s(&q[1], "history").contains('Z'), "{:?}", q[1]);
    assert!(!s(&q[0], "history").contains('Z'), "{:?}", q[0]);
}

#[test]
fn a_failed_handshake_closes_in_the_servers_initial() {
    let (ssl, q) = logs("quic-fail.pcap");
    assert!(s(&q[0], "history").ends_with('c'), "{:?}", q[0]);
    assert_eq!(s(&ssl[0], "ssl_history"), "C");
    let r = run(
        &dir().join("quic-fail.pcap"),
        EventFormat::Text,
        LogFormat::Json,
    );
    let close: Vec<&str> = r
        .events
        .lines()
        .filter(|l| l.contains("QUIC::connection_close_frame"))
        .collect();
    assert_eq!(close.len(), 1, "{}", r.events);
    // TLS alert 120 (no_application_protocol) as a CRYPTO_ERROR: 0x100 + 120.
    assert!(close[0].contains("error_code=376"), "{}", close[0]);
    assert!(close[0].contains("is_orig=F"), "{}", close[0]);
}
