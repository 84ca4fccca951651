//! Both outputs of every capture in `tests/captures/`, snapshotted: the events (text), ssl.log
//! as JSON Lines, and ssl.log as TSV with its two wall-clock-looking lines (`#open`, `#close`)
//! masked. Uids come from a fixed seed, so a snapshot changes only when what the analyzer reports
//! changes. Each snapshot was read against `tests/captures/README.md`; the facts that README
//! states are also asserted below, so that a wrong snapshot cannot be accepted by accident.
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
        33,
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
    let mut failures = SnapshotFailures::new();
    for path in captures() {
        let name = stem(&path);
        let text = events(&path, EventFormat::Text);
        let json = log(&path, LogFormat::Json);
        let tsv = mask_open_close(&log(&path, LogFormat::Tsv));
        let snap = format!(
            "== events (text)\n{text}== ssl.log (JSON Lines)\n{json}== ssl.log (TSV)\n{tsv}"
        );
        failures.check(&name, || insta::assert_snapshot!(name.as_str(), snap));
    }
    failures.finish();
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

/// The text event lines of one capture with the analyzer kept after `ssl_established`
/// (`--no-stop-after-established`, Zeek's `SSL::disable_analyzer_after_detection=F`).
fn events_kept(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/captures")
        .join(name);
    let mut o = opts();
    o.ssl.disable_analyzer_after_detection = false;
    let mut out = Vec::new();
    let outputs = Outputs {
        events: Some((EventFormat::Text, &mut out)),
        log: None,
    };
    run(&[Input::Path(path)], &o, outputs).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The TCP source and destination ports of the packet that carries the first ClientHello record
/// of a capture (Ethernet, IPv4, little-endian microsecond pcap: what `tests/captures` holds),
/// read from the capture itself rather than from the analyzer.
fn client_hello_ports(name: &str) -> (u16, u16) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/captures")
        .join(name);
    let data = std::fs::read(path).unwrap();
    assert_eq!(
        data[..4],
        [0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian microsecond pcap"
    );
    let mut at = 24;
    while at + 16 <= data.len() {
        let caplen = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &data[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        let ip = &frame[14..];
        if frame[12..14] != [0x08, 0x00] || ip[9] != 6 {
            continue;
        }
        let tcp = &ip[usize::from(ip[0] & 0x0f) * 4..];
        let payload = &tcp[usize::from(tcp[12] >> 4) * 4..];
        // A handshake record (22) whose first message is a ClientHello (1).
        if payload.len() > 5 && payload[0] == 22 && payload[5] == 1 {
            let port = |i: usize| u16::from_be_bytes([tcp[i], tcp[i + 1]]);
            return (port(0), port(2));
        }
    }
    panic!("no ClientHello in {name}");
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
        ["is_client=T signature_schemes=[1027,1283,2052,1025,1281]"]
    );
    let r = row_of("tls13-sigalgs-cert.pcap");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["version"], "TLSv13");
    assert_eq!(r[0]["established"], true);

    // Heartbeats (tlslite-ng on both sides): a request from the client in clear before its
    // ChangeCipherSpec, answered in clear by the server before its own (tshark: content type 24,
    // record length 32, payload_length 13, payload `ping in clear` + 16 bytes of padding).
    let hb = named_events("tls12-heartbeat.pcap");
    let beats: Vec<&str> = hb
        .iter()
        .filter(|(n, _)| n == "ssl_heartbeat")
        .map(|(_, l)| l.split_once(" ssl_heartbeat ").unwrap().1)
        .collect();
    assert_eq!(beats.len(), 2, "{beats:?}");
    assert!(beats[0].starts_with(
        "is_client=T length=32 heartbeat_type=1 payload_length=13 payload=\"ping in clear"
    ));
    assert!(beats[1].starts_with(
        "is_client=F length=32 heartbeat_type=2 payload_length=13 payload=\"ping in clear"
    ));
    let at = |wanted: &str| hb.iter().position(|(_, l)| l.ends_with(wanted)).unwrap();
    let beat = |side: &str| {
        hb.iter()
            .position(|(n, l)| n == "ssl_heartbeat" && l.contains(side))
            .unwrap()
    };
    assert!(beat("is_client=T") < at("ssl_change_cipher_spec is_client=T"));
    assert!(beat("is_client=F") < at("ssl_change_cipher_spec is_client=F"));
    assert!(beat("is_client=F") < at("ssl_established"));
    let r = row_of("tls12-heartbeat.pcap");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["version"], "TLSv12");
    assert_eq!(r[0]["established"], true);
    // Heartbeats in history: B from the client, b from the server.
    assert_eq!(r[0]["ssl_history"], "CsxknBGIbi");
    // The second pair is encrypted (tshark: "Encrypted Heartbeat", length 49 each way): never
    // ssl_heartbeat, only ssl_encrypted_data with content type 24, and only seen when the
    // analyzer is kept after ssl_established (Zeek's heartbleed policy does that).
    let kept = events_kept("tls12-heartbeat.pcap");
    let encrypted_beats: Vec<&str> = kept
        .iter()
        .filter(|l| l.contains(" ssl_encrypted_data ") && l.contains(" content_type=24 "))
        .map(|l| l.split_once(" ssl_encrypted_data ").unwrap().1)
        .collect();
    assert_eq!(
        encrypted_beats,
        [
            "is_client=T record_version=771 content_type=24 length=49",
            "is_client=F record_version=771 content_type=24 length=49"
        ]
    );
    assert_eq!(
        kept.iter()
            .filter(|l| l.contains(" ssl_heartbeat "))
            .count(),
        2
    );
    assert!(!hb
        .iter()
        .any(|(_, l)| l.contains(" content_type=24 length=49")));

    // Flipped roles: the TCP responder (port 24433, which accepted the connection) sends the
    // ClientHello. Zeek flips the connection first thing, ssl.log's history starts with `^`,
    // and the ClientHello is the TLS client's (is_client=T) although the responder sent it.
    let (src, dst) = client_hello_ports("tls13-flipped.pcap");
    let r = row_of("tls13-flipped.pcap");
    assert_eq!(r.len(), 1);
    assert_eq!(src, 24433);
    assert_eq!(
        r[0]["id.resp_p"],
        u64::from(src),
        "the ClientHello's sender is the responder"
    );
    assert_eq!(r[0]["id.orig_p"], u64::from(dst));
    assert_eq!(r[0]["ssl_history"], "^CsiI");
    assert_eq!(r[0]["version"], "TLSv13");
    assert_eq!(r[0]["established"], true);
    assert_eq!(r[0]["server_name"], "server.example.test");
    let fl = named_events("tls13-flipped.pcap");
    assert_eq!(count(&fl, "ssl_connection_flipped"), 1);
    assert_eq!(
        fl[0].0, "ssl_connection_flipped",
        "before anything of the hello"
    );
    let side_of = |msg_type: &str| -> &str {
        fl.iter()
            .find(|(n, l)| n == "ssl_handshake_message" && l.contains(msg_type))
            .map(|(_, l)| l.split(' ').nth(3).unwrap())
            .unwrap()
    };
    assert_eq!(side_of(" msg_type=1 "), "is_client=T", "ClientHello");
    assert_eq!(side_of(" msg_type=2 "), "is_client=F", "ServerHello");
    assert_eq!(
        count(&named_events("tls13.pcap"), "ssl_connection_flipped"),
        0
    );

    // DTLS: HelloVerifyRequest means two client hellos.
    for cap in ["dtls10.pcap", "dtls12.pcap", "dtls12-fragmented.pcap"] {
        assert_eq!(count(&named_events(cap), "ssl_client_hello"), 2, "{cap}");
    }
}
