//! Both outputs of every capture in `tests/captures/`, snapshotted: the events (text), ssl.log
//! as JSON Lines, and ssl.log as TSV with its two wall-clock-looking lines (`#open`, `#close`)
//! masked. Uids come from a fixed seed, so a snapshot changes only when what the analyzer reports
//! changes. Each snapshot was read against `tests/captures/README.md`; the facts that README
//! states are also asserted below, so that a wrong snapshot cannot be accepted by accident.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, EventFormat, LogFormat, Outputs, RunOptions};

/// The seed every snapshot is made with.
const SEED: u64 = 1;

fn captures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    v.sort();
    assert_eq!(
        v.len(),
        31,
        "the captures listed in tests/captures/README.md"
    );
    v
}

fn opts() -> RunOptions {
    let mut o = RunOptions::default();
    o.capture.seed = Some(SEED);
    o
}

fn events(path: &Path, format: EventFormat) -> String {
    let mut out = Vec::new();
    let outputs = Outputs {
        events: Some((format, &mut out)),
        log: None,
    };
    run(&[Input::Path(path.to_owned())], &opts(), outputs).unwrap();
    String::from_utf8(out).unwrap()
}

fn log(path: &Path, format: LogFormat) -> String {
    let mut out = Vec::new();
    let outputs = Outputs {
        events: None,
        log: Some((format, &mut out)),
    };
    run(&[Input::Path(path.to_owned())], &opts(), outputs).unwrap();
    String::from_utf8(out).unwrap()
}

/// `#open`/`#close` carry a time (Zeek writes the wall clock there); mask it.
fn mask_open_close(tsv: &str) -> String {
    tsv.lines()
        .map(|l| match l.split_once('\t') {
            Some((k @ ("#open" | "#close"), _)) => format!("{k}\t<time>"),
            _ => l.to_owned(),
        })
        .map(|l| l + "\n")
        .collect()
}

/// The ssl.log rows of a capture as JSON objects.
fn rows(path: &Path) -> Vec<Value> {
    log(path, LogFormat::Json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_str().unwrap().to_owned()
}

#[test]
fn every_capture_snapshot() {
    for path in captures() {
        let name = stem(&path);
        let text = events(&path, EventFormat::Text);
        let json = log(&path, LogFormat::Json);
        let tsv = mask_open_close(&log(&path, LogFormat::Tsv));
        let snap = format!(
            "== events (text)\n{text}== ssl.log (JSON Lines)\n{json}== ssl.log (TSV)\n{tsv}"
        );
        insta::assert_snapshot!(name, snap);
    }
}

/// Events of one capture, as (event name, text line) pairs.
fn named_events(name: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/captures")
        .join(name);
    events(&path, EventFormat::Text)
        .lines()
        .map(|l| (l.split(' ').nth(2).unwrap().to_owned(), l.to_owned()))
        .collect()
}

fn count(events: &[(String, String)], name: &str) -> usize {
    events.iter().filter(|(n, _)| n == name).count()
}

fn row_of(name: &str) -> Vec<Value> {
    rows(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/captures")
            .join(name),
    )
}

#[test]
fn snapshots_agree_with_the_captures_readme() {
    // Versions and ciphers of the plain handshakes.
    for (cap, version, cipher) in [
        (
            "tls10.pcap",
            "TLSv10",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        ),
        (
            "tls11.pcap",
            "TLSv11",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        ),
        (
            "tls12.pcap",
            "TLSv12",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ),
        ("tls13.pcap", "TLSv13", "TLS_AES_256_GCM_SHA384"),
        (
            "tls12-ecdhe.pcap",
            "TLSv12",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            "tls12-dhe.pcap",
            "TLSv12",
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            "tls12-rsa.pcap",
            "TLSv12",
            "TLS_RSA_WITH_AES_128_GCM_SHA256",
        ),
        ("dtls12.pcap", "DTLSv12", ""),
        ("dtls10.pcap", "DTLSv10", ""),
    ] {
        let r = row_of(cap);
        assert_eq!(r.len(), 1, "{cap}");
        assert_eq!(r[0]["version"], version, "{cap}");
        if !cipher.is_empty() {
            assert_eq!(r[0]["cipher"], cipher, "{cap}");
        }
        assert_eq!(r[0]["established"], true, "{cap}");
    }

    // HRR: two client hellos, the second with the P-256 key share.
    let hrr = named_events("tls13-hrr.pcap");
    assert_eq!(count(&hrr, "ssl_client_hello"), 2);
    let shares: Vec<&str> = hrr
        .iter()
        .filter(|(n, l)| n == "ssl_extension_key_share" && l.contains("is_client=T"))
        .map(|(_, l)| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(shares, ["curves=[29]", "curves=[23]"]);
    assert_eq!(row_of("tls13-hrr.pcap")[0]["curve"], "secp256r1");

    // Resumption: the second connection is resumed, the first is not.
    for cap in [
        "tls12-resume-session-id.pcap",
        "tls12-resume-ticket.pcap",
        "tls13-resume-psk.pcap",
    ] {
        let r = row_of(cap);
        let resumed: Vec<&Value> = r.iter().map(|x| &x["resumed"]).collect();
        assert_eq!(resumed, [&Value::Bool(false), &Value::Bool(true)], "{cap}");
    }
    // ... and PSK shows pre_shared_key on both sides of the second connection.
    let psk = named_events("tls13-resume-psk.pcap");
    assert_eq!(count(&psk, "ssl_extension_pre_shared_key_client_hello"), 1);
    assert_eq!(count(&psk, "ssl_extension_pre_shared_key_server_hello"), 1);

    // Plain HTTP on 443 is not TLS: nothing at all.
    assert!(named_events("http-on-443.pcap").is_empty());
    assert!(row_of("http-on-443.pcap").is_empty());

    // Alerts: last_alert, and the handshake never established.
    for (cap, alert) in [
        ("alert-handshake-failure.pcap", "handshake_failure"),
        ("alert-unknown-ca.pcap", "unknown_ca"),
        ("alert-unknown-ca-tls13.pcap", "unknown_ca"),
    ] {
        let r = row_of(cap);
        assert_eq!(r[0]["last_alert"], alert, "{cap}");
        assert_eq!(r[0]["established"], false, "{cap}");
    }

    // ALPN: the TLS 1.2 server's choice is in the clear; TLS 1.3's is encrypted.
    assert_eq!(row_of("tls12-alpn.pcap")[0]["next_protocol"], "http/1.1");
    assert!(row_of("tls13-alpn.pcap")[0].get("next_protocol").is_none());

    // SNI: mismatch, match, absent.
    let mismatch = &row_of("tls12-sni-mismatch.pcap")[0];
    assert_eq!(mismatch["server_name"], "other.example.org");
    assert_eq!(mismatch["sni_matches_cert"], false);
    assert_eq!(row_of("tls12.pcap")[0]["sni_matches_cert"], true);
    let no_sni = &row_of("tls12-no-sni.pcap")[0];
    assert!(no_sni.get("server_name").is_none());
    assert!(no_sni.get("sni_matches_cert").is_none());

    // Certificates: chain lengths.
    let fps = |cap: &str, col: &str| -> usize {
        row_of(cap)[0][col]
            .as_array()
            .map(|a| a.len())
            .unwrap_or_default()
    };
    assert_eq!(fps("tls12.pcap", "cert_chain_fps"), 1);
    assert_eq!(
        fps("tls12-large-chain.pcap", "cert_chain_fps"),
        5,
        "leaf + 4 intermediates"
    );
    // Both peers of the client-certificate capture send their leaf and the root CA (tshark).
    assert_eq!(fps("tls12-client-cert.pcap", "cert_chain_fps"), 2);
    assert_eq!(fps("tls12-client-cert.pcap", "client_cert_chain_fps"), 2);
    // TLS 1.3 certificates are encrypted.
    assert_eq!(fps("tls13-client-cert.pcap", "cert_chain_fps"), 0);
    assert_eq!(
        fps("gnutls-tls12.pcap", "client_cert_chain_fps"),
        0,
        "empty Certificate"
    );

    // OCSP stapling, SCT, early data, client authentication requests.
    let ocsp = named_events("tls12-ocsp.pcap");
    assert_eq!(count(&ocsp, "ssl_stapled_ocsp"), 1);
    let sct = named_events("tls12-sct.pcap");
    assert!(count(&sct, "ssl_extension_signed_certificate_timestamp") >= 1);
    let early = named_events("tls13-early-data.pcap");
    assert!(early
        .iter()
        .any(|(n, l)| n == "ssl_extension" && l.contains("is_client=T code=42 ")));
    assert_eq!(
        count(
            &named_events("tls12-client-cert.pcap"),
            "ssl_certificate_request"
        ),
        1
    );
    assert_eq!(
        count(
            &named_events("gnutls-tls12.pcap"),
            "ssl_certificate_request"
        ),
        1
    );

    // signature_algorithms_cert (ext 50) from the tlslite-ng client: 0x0403, 0x0503, 0x0804,
    // 0x0401, 0x0501 (tshark's tls.handshake.sig_hash_alg for that extension).
    let sac = named_events("tls13-sigalgs-cert.pcap");
    let cert_sigalgs: Vec<&str> = sac
        .iter()
        .filter(|(n, _)| n == "ssl_extension_signature_algorithms_cert")
        .map(|(_, l)| {
            l.split_once(" ssl_extension_signature_algorithms_cert ")
                .unwrap()
                .1
        })
        .collect();
    assert_eq!(
        cert_sigalgs,
        [
            "is_client=T signature_algorithms=[{HashAlgorithm=4,SignatureAlgorithm=3},\
          {HashAlgorithm=5,SignatureAlgorithm=3},{HashAlgorithm=8,SignatureAlgorithm=4},\
          {HashAlgorithm=4,SignatureAlgorithm=1},{HashAlgorithm=5,SignatureAlgorithm=1}]"
        ]
    );
    let r = row_of("tls13-sigalgs-cert.pcap");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["version"], "TLSv13");
    assert_eq!(r[0]["established"], true);

    // DTLS: HelloVerifyRequest means two client hellos.
    for cap in ["dtls10.pcap", "dtls12.pcap", "dtls12-fragmented.pcap"] {
        assert_eq!(count(&named_events(cap), "ssl_client_hello"), 2, "{cap}");
    }
}
