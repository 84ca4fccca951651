//! Tests of the tshark side of the differential test (`pac_tests::tshark`) on the project's own
//! captures in `tests/captures/` (see its README for what each capture holds).
//!
//! Every test needs tshark: when the build script found none, they are ignored (with the reason
//! in the test summary); when tshark is missing at run time all the same, a test prints a loud
//! SKIPPED banner and returns, or fails when `PAC_REQUIRE_TOOLS` names tshark (as in CI).

use pac_tests::tshark::{self, Alert, Connection, Dissection, Protocol, Transport};
use std::path::PathBuf;

fn capture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(format!("{name}.pcap"))
}

/// The dissection of a capture, or `None` (after a loud skip message) without tshark.
fn dissect(name: &str) -> Option<Dissection> {
    match tshark::dissect(&capture(name)) {
        Ok(d) => Some(d),
        Err(e) => {
            tshark::skip_or_fail(&format!("tshark dissection of {name}.pcap"), &e);
            None
        }
    }
}

/// The single TLS/DTLS connection of a capture.
fn only_tls(name: &str) -> Option<Connection> {
    let d = dissect(name)?;
    let tls: Vec<&Connection> = d.tls_connections().collect();
    assert_eq!(
        tls.len(),
        1,
        "{name}: expected one TLS connection, got {d:#?}"
    );
    Some(tls[0].clone())
}

const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const CERTIFICATE: u8 = 11;
const SERVER_KEY_EXCHANGE: u8 = 12;
const CERTIFICATE_REQUEST: u8 = 13;
const SERVER_HELLO_DONE: u8 = 14;
const CERTIFICATE_VERIFY: u8 = 15;
const CLIENT_KEY_EXCHANGE: u8 = 16;
const CERTIFICATE_STATUS: u8 = 22;
const HELLO_VERIFY_REQUEST: u8 = 3;
const NEW_SESSION_TICKET: u8 = 4;

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn tls13_client_hello_offers_tls13() {
    let Some(c) = only_tls("tls13") else { return };
    assert_eq!(c.protocol, Some(Protocol::Tls));
    assert_eq!(c.id.transport, Transport::Tcp);
    assert_eq!(c.id.resp_p, 24404);
    assert_eq!(c.id.orig_h, "127.0.0.1");
    assert_eq!(c.client_hellos.len(), 1);
    let ch = &c.client_hellos[0];
    assert!(ch.is_orig);
    assert_eq!(ch.record_version, 0x0301);
    assert_eq!(ch.version, 0x0303);
    assert!(ch.supported_versions.contains(&0x0304), "{ch:#?}");
    assert_eq!(ch.server_names, ["server.example.test"]);
    assert_eq!(ch.key_share_groups, [0x001d]);
    assert!(
        ch.supported_groups.starts_with(&[0x001d, 0x0017]),
        "{ch:#?}"
    );
    assert!(ch.signature_algorithms.contains(&0x0403), "{ch:#?}");
    assert_eq!(ch.ec_point_formats, [0, 1, 2]);
    assert!(ch.cipher_suites.contains(&0x1301), "{ch:#?}");
    // OpenSSL 3.0's extension order; 0 (SNI) first, key_share (51) last.
    assert_eq!(ch.extensions, [0, 11, 10, 35, 22, 23, 13, 43, 45, 51]);

    assert_eq!(c.server_hellos.len(), 1);
    let sh = &c.server_hellos[0];
    assert!(!sh.is_orig);
    assert_eq!(sh.version, 0x0303);
    assert_eq!(sh.selected_version, Some(0x0304));
    assert_eq!(sh.extensions, [43, 51]);
    assert_eq!(sh.key_share_group, Some(0x001d));
    assert!(!sh.hello_retry_request);
    // Everything after the ServerHello is encrypted.
    assert_eq!(c.orig.handshake_types, [CLIENT_HELLO]);
    assert_eq!(c.resp.handshake_types, [SERVER_HELLO]);
    assert!(c.orig.alerts.is_empty() && c.resp.alerts.is_empty());
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn tlslite_client_hello_offers_signature_algorithms_cert() {
    let Some(c) = only_tls("tls13-sigalgs-cert") else {
        return;
    };
    assert_eq!(c.id.resp_p, 24431);
    let ch = &c.client_hellos[0];
    // signature_algorithms (13) is followed by signature_algorithms_cert (50); each extension's
    // sig_hash_alg list lands in its own field.
    assert_eq!(&ch.extensions[..4], [22, 23, 13, 50]);
    assert_eq!(
        ch.signature_algorithms_cert,
        [0x0403, 0x0503, 0x0804, 0x0401, 0x0501]
    );
    assert_eq!(ch.signature_algorithms.len(), 14, "{ch:#?}");
    assert!(!ch.signature_algorithms.contains(&0x0401), "{ch:#?}");
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn hrr_shows_two_client_hellos() {
    let Some(c) = only_tls("tls13-hrr") else {
        return;
    };
    assert_eq!(c.client_hellos.len(), 2, "{c:#?}");
    assert_eq!(c.client_hellos[0].key_share_groups, [0x001d]);
    assert_eq!(c.client_hellos[1].key_share_groups, [0x0017]);
    assert_eq!(c.server_hellos.len(), 2);
    assert!(c.server_hellos[0].hello_retry_request);
    assert_eq!(c.server_hellos[0].key_share_group, Some(0x0017));
    assert!(!c.server_hellos[1].hello_retry_request);
    assert_eq!(c.server_hellos[1].key_share_group, Some(0x0017));
    assert_eq!(c.orig.handshake_types, [CLIENT_HELLO, CLIENT_HELLO]);
    assert_eq!(c.resp.handshake_types, [SERVER_HELLO, SERVER_HELLO]);
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn tls12_full_handshake_in_the_clear() {
    let Some(c) = only_tls("tls12") else { return };
    let sh = &c.server_hellos[0];
    assert_eq!(sh.version, 0x0303);
    assert_eq!(sh.selected_version, None);
    // NewSessionTicket is sent before the server's ChangeCipherSpec, so it is in the clear.
    assert_eq!(sh.cipher_suite, 0xc02c);
    assert_eq!(sh.extensions, [65281, 11, 35, 23]);
    assert_eq!(
        c.resp.handshake_types,
        [
            SERVER_HELLO,
            CERTIFICATE,
            SERVER_KEY_EXCHANGE,
            SERVER_HELLO_DONE,
            NEW_SESSION_TICKET
        ]
    );
    assert_eq!(
        c.orig.handshake_types,
        [CLIENT_HELLO, CLIENT_KEY_EXCHANGE],
        "the encrypted Finished must not count"
    );
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn old_versions() {
    for (name, v) in [("tls10", 0x0301), ("tls11", 0x0302)] {
        let Some(c) = only_tls(name) else { return };
        assert_eq!(c.client_hellos[0].version, v, "{name}");
        assert_eq!(c.server_hellos[0].version, v, "{name}");
        assert!(c.client_hellos[0].supported_versions.is_empty(), "{name}");
    }
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn resumptions_are_abbreviated() {
    for name in ["tls12-resume-session-id", "tls12-resume-ticket"] {
        let Some(d) = dissect(name) else { return };
        let tls: Vec<&Connection> = d.tls_connections().collect();
        assert_eq!(tls.len(), 2, "{name}");
        assert!(tls[0].resp.handshake_types.contains(&CERTIFICATE), "{name}");
        // The resumed connection: ServerHello, then (encrypted) Finished; no Certificate.
        assert_eq!(tls[1].resp.handshake_types, [SERVER_HELLO], "{name}");
        assert_eq!(tls[1].orig.handshake_types, [CLIENT_HELLO], "{name}");
        assert_ne!(tls[0].id, tls[1].id);
        assert_eq!(tls[0].id.resp_p, tls[1].id.resp_p);
    }
    let Some(d) = dissect("tls13-resume-psk") else {
        return;
    };
    let tls: Vec<&Connection> = d.tls_connections().collect();
    assert_eq!(tls.len(), 2);
    assert!(!tls[0].client_hellos[0].extensions.contains(&41));
    // pre_shared_key (41) is the last extension of the resuming hello, and the server accepts it.
    assert_eq!(tls[1].client_hellos[0].extensions.last(), Some(&41));
    assert!(tls[1].server_hellos[0].extensions.contains(&41));
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn early_data_is_offered() {
    let Some(d) = dissect("tls13-early-data") else {
        return;
    };
    let tls: Vec<&Connection> = d.tls_connections().collect();
    assert_eq!(tls.len(), 2);
    assert!(tls[1].client_hellos[0].extensions.contains(&42));
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn key_exchanges() {
    let Some(rsa) = only_tls("tls12-rsa") else {
        return;
    };
    assert_eq!(rsa.server_hellos[0].cipher_suite, 0x009c);
    assert!(!rsa.resp.handshake_types.contains(&SERVER_KEY_EXCHANGE));
    let Some(dhe) = only_tls("tls12-dhe") else {
        return;
    };
    assert_eq!(dhe.server_hellos[0].cipher_suite, 0x009e);
    assert!(dhe.resp.handshake_types.contains(&SERVER_KEY_EXCHANGE));
    let Some(ecdhe) = only_tls("tls12-ecdhe") else {
        return;
    };
    assert_eq!(ecdhe.server_hellos[0].cipher_suite, 0xc02b);
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn client_certificate_and_ocsp() {
    let Some(c) = only_tls("tls12-client-cert") else {
        return;
    };
    assert!(c.resp.handshake_types.contains(&CERTIFICATE_REQUEST));
    assert_eq!(
        c.orig.handshake_types,
        [
            CLIENT_HELLO,
            CERTIFICATE,
            CLIENT_KEY_EXCHANGE,
            CERTIFICATE_VERIFY
        ]
    );
    let Some(o) = only_tls("tls12-ocsp") else {
        return;
    };
    assert!(o.client_hellos[0].extensions.contains(&5));
    assert!(o.server_hellos[0].extensions.contains(&5));
    assert_eq!(
        o.resp.handshake_types,
        [
            SERVER_HELLO,
            CERTIFICATE,
            CERTIFICATE_STATUS,
            SERVER_KEY_EXCHANGE,
            SERVER_HELLO_DONE,
            NEW_SESSION_TICKET
        ]
    );
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn alpn_sni_and_sct() {
    let Some(c) = only_tls("tls12-alpn") else {
        return;
    };
    assert_eq!(c.client_hellos[0].alpn_protocols, ["h2", "http/1.1"]);
    assert_eq!(c.server_hellos[0].alpn_protocols, ["http/1.1"]);
    let Some(c) = only_tls("tls12-sni-mismatch") else {
        return;
    };
    assert_eq!(c.client_hellos[0].server_names, ["other.example.org"]);
    let Some(c) = only_tls("tls12-no-sni") else {
        return;
    };
    assert!(c.client_hellos[0].server_names.is_empty());
    assert!(!c.client_hellos[0].extensions.contains(&0));
    let Some(c) = only_tls("tls12-sct") else {
        return;
    };
    assert!(c.client_hellos[0].extensions.contains(&18));
    assert_eq!(c.server_hellos[0].extensions.first(), Some(&18));
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn plaintext_alerts() {
    let Some(c) = only_tls("alert-handshake-failure") else {
        return;
    };
    assert_eq!(
        c.resp.alerts,
        [Alert {
            level: 2,
            description: 40
        }]
    );
    assert!(c.server_hellos.is_empty());
    for name in ["alert-unknown-ca", "alert-unknown-ca-tls13"] {
        let Some(c) = only_tls(name) else { return };
        assert_eq!(
            c.orig.alerts,
            [Alert {
                level: 2,
                description: 48
            }],
            "{name}"
        );
        assert!(c.resp.alerts.is_empty(), "{name}");
    }
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn large_chain_is_reassembled() {
    let Some(c) = only_tls("tls12-large-chain") else {
        return;
    };
    assert_eq!(
        c.resp.handshake_types,
        [
            SERVER_HELLO,
            CERTIFICATE,
            SERVER_KEY_EXCHANGE,
            SERVER_HELLO_DONE,
            NEW_SESSION_TICKET
        ]
    );
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn dtls_is_recognized() {
    for (name, version) in [
        ("dtls12", 0xfefd),
        ("dtls12-fragmented", 0xfefd),
        ("dtls10", 0xfeff),
    ] {
        let Some(c) = only_tls(name) else { return };
        assert_eq!(c.protocol, Some(Protocol::Dtls), "{name}");
        assert_eq!(c.id.transport, Transport::Udp, "{name}");
        // ClientHello, HelloVerifyRequest, ClientHello with the cookie.
        assert_eq!(c.client_hellos.len(), 2, "{name}");
        assert_eq!(c.client_hellos[0].version, version, "{name}");
        assert_eq!(c.server_hellos[0].version, version, "{name}");
        assert_eq!(
            c.resp.handshake_types,
            [
                HELLO_VERIFY_REQUEST,
                SERVER_HELLO,
                CERTIFICATE,
                SERVER_KEY_EXCHANGE,
                SERVER_HELLO_DONE,
                NEW_SESSION_TICKET
            ],
            "{name}: fragmented messages count once"
        );
        assert_eq!(
            c.orig.handshake_types,
            [CLIENT_HELLO, CLIENT_HELLO, CLIENT_KEY_EXCHANGE],
            "{name}"
        );
    }
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn plain_http_is_not_tls() {
    let Some(d) = dissect("http-on-443") else {
        return;
    };
    assert_eq!(d.connections.len(), 1);
    assert_eq!(d.connections[0].id.resp_p, 443);
    assert_eq!(d.connections[0].protocol, None);
}

#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn gnutls_tls13() {
    let Some(c) = only_tls("gnutls-tls13") else {
        return;
    };
    assert!(c.client_hellos[0].supported_versions.contains(&0x0304));
    assert_eq!(c.server_hellos[0].selected_version, Some(0x0304));
}

/// Heartbeat records (in clear, in front of the ClientKeyExchange in the same segment, and
/// encrypted later) do not hide the handshake messages around them.
#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn heartbeat_records_leave_the_handshake_alone() {
    let Some(c) = only_tls("tls12-heartbeat") else {
        return;
    };
    assert_eq!(c.id.resp_p, 24432);
    assert_eq!(c.server_hellos[0].cipher_suite, 0xcca9);
    // Both hellos carry heartbeat (15).
    assert!(c.client_hellos[0].extensions.contains(&15));
    assert!(c.server_hellos[0].extensions.contains(&15));
    assert_eq!(c.orig.handshake_types, [CLIENT_HELLO, CLIENT_KEY_EXCHANGE]);
    assert_eq!(
        c.resp.handshake_types,
        [
            SERVER_HELLO,
            CERTIFICATE,
            SERVER_KEY_EXCHANGE,
            SERVER_HELLO_DONE
        ]
    );
}

/// The TCP responder (port 24433) is the TLS client: its ClientHello is not the originator's.
#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn flipped_client_hello_comes_from_the_responder() {
    let Some(c) = only_tls("tls13-flipped") else {
        return;
    };
    // Zeek's orientation: the SYN's sender is the originator, whatever TLS does next.
    assert_eq!(c.id.resp_p, 24433);
    assert!(c.id.orig_p > 24433, "an ephemeral port: {:?}", c.id);
    assert_eq!(c.client_hellos.len(), 1);
    let ch = &c.client_hellos[0];
    assert!(!ch.is_orig);
    assert_eq!(ch.server_names, ["server.example.test"]);
    assert!(ch.supported_versions.contains(&0x0304));
    assert!(c.server_hellos[0].is_orig);
    assert_eq!(c.server_hellos[0].selected_version, Some(0x0304));
    assert_eq!(c.resp.handshake_types, [CLIENT_HELLO]);
    assert_eq!(c.orig.handshake_types, [SERVER_HELLO]);
}

/// Every committed capture dissects, and every one but the plain-HTTP one is TLS or DTLS with a
/// ClientHello from the originator (from the responder in `tls13-flipped`).
#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn every_capture_dissects() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/captures exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".pcap").map(str::to_string))
        .collect();
    names.sort();
    assert!(names.len() >= 25, "captures missing: {names:?}");
    for name in names {
        let Some(d) = dissect(&name) else { return };
        if name == "http-on-443" {
            continue;
        }
        let tls: Vec<&Connection> = d.tls_connections().collect();
        assert!(!tls.is_empty(), "{name}: no TLS/DTLS connection");
        // The TLS client is the TCP originator except where the capture flips the roles.
        let client_is_orig = name != "tls13-flipped";
        for c in tls {
            assert!(!c.client_hellos.is_empty(), "{name}: {c:#?}");
            assert!(
                c.client_hellos.iter().all(|h| h.is_orig == client_is_orig),
                "{name}"
            );
            assert!(
                c.server_hellos.iter().all(|h| h.is_orig != client_is_orig),
                "{name}"
            );
            // The structs serialize for side-by-side reports.
            assert!(serde_json::to_string(c).is_ok());
        }
    }
}

/// A capture cut short in the middle of a packet still yields what precedes the cut, with a note.
#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn truncated_capture_keeps_what_precedes_the_cut() {
    let bytes = std::fs::read(capture("tls12")).expect("capture reads");
    let path = std::env::temp_dir().join(format!("tshark-truncated-{}.pcap", std::process::id()));
    // The first four packets (SYN, SYN-ACK, ACK, ClientHello) end well before byte 1000.
    std::fs::write(&path, &bytes[..1000]).expect("temp file writes");
    let result = tshark::dissect(&path);
    let _ = std::fs::remove_file(&path);
    let d = match result {
        Ok(d) => d,
        Err(e) => return tshark::skip_or_fail("truncated capture test", &e),
    };
    assert!(
        d.notes.iter().any(|n| n.contains("cut short")),
        "{:?}",
        d.notes
    );
    let c = d
        .tls_connections()
        .next()
        .expect("the ClientHello survives the cut");
    assert_eq!(c.client_hellos.len(), 1);
}

/// A file that is not a capture is an error, not an empty dissection.
#[test]
#[cfg_attr(
    pac_no_tshark,
    ignore = "tshark is not installed (apt-get install tshark); probed at build time"
)]
fn not_a_capture_is_an_error() {
    match tshark::dissect(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")) {
        Err(tshark::TsharkError::NotInstalled) => {
            tshark::skip_or_fail("not-a-capture test", &tshark::TsharkError::NotInstalled)
        }
        Err(tshark::TsharkError::Failed { .. }) => {}
        other => panic!("expected a tshark failure, got {other:?}"),
    }
}
