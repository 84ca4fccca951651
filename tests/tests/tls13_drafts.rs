//! TLS 1.3 draft ServerHellos through the whole pipeline, one per layout Zeek tells apart.
//!
//! In: the crafted ServerHello fixtures `tests/fixtures/crafted/server_hello-tls13-*.hex`
//! (built by `tests/tests/crafted_fixtures.rs` from the encoders), each put into a synthetic TCP conversation: a
//! ClientHello offering the drafts, the fixture's ServerHello, then encrypted records both
//! ways. Out: the ssl.log row Zeek writes for such a connection (read off Zeek's
//! `tls-handshake-protocol.pac`, whose `ServerHelloChoice` picks the layout by the version
//! field, and `consts.zeek`, which names 0x7fNN `TLSv13-draftNN`): version, cipher, curve,
//! `ssl_history` `Cs`, established, and no violation. Before the draft layout followed Zeek's
//! choice, a draft ServerHello without session id ended in `out_of_bound: ServerHello`.
//!
//! The real draft captures of Zeek's test suite (draft 14 from Chrome 55, draft 19 with early
//! data, draft 23 from Chrome 67, and Firefox 52's aborted draft-16 attempts) are compared
//! with Zeek's own output by `conformance.rs`.

#[path = "robust_support.rs"]
mod support;

use serde_json::Value;
use support::{crate_dir, from_hex, handshake, options, tls_record, Pcap, TcpConn};
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, LogFormat, Outputs};

/// A ClientHello as Firefox 52 / Chrome 67 sent them (reduced): version 0x0303, one cipher
/// suite, and supported_versions offering draft 23, draft 16 and TLS 1.2.
fn client_hello() -> Vec<u8> {
    let versions = [0x7f17u16, 0x7f10, 0x0303];
    let mut sv = vec![u8::try_from(versions.len() * 2).expect("short list")];
    for v in versions {
        sv.extend_from_slice(&v.to_be_bytes());
    }
    let mut ext = 43u16.to_be_bytes().to_vec();
    ext.extend_from_slice(&u16::try_from(sv.len()).expect("short").to_be_bytes());
    ext.extend_from_slice(&sv);
    handshake(1, &support::client_hello_body(&ext))
}

/// The handshake bytes of a crafted fixture.
fn fixture(name: &str) -> Vec<u8> {
    let path = crate_dir().join(format!("fixtures/crafted/{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let hex: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("");
    from_hex(&hex)
}

/// The ssl.log rows (JSON) and the events of one connection carrying `server_hello`.
fn run_connection(server_hello: &[u8]) -> (Vec<Value>, String) {
    let mut pcap = Pcap::new();
    let mut conn = TcpConn::new(50_000, 443);
    conn.open(&mut pcap, 1.0);
    conn.send(
        &mut pcap,
        1.1,
        true,
        &tls_record(22, 0x0301, &client_hello()),
        1400,
    );
    // The ServerHello, then the encrypted rest of the server's flight.
    let mut flight = tls_record(22, 0x0303, server_hello);
    flight.extend(tls_record(23, 0x0303, &[0xAA; 60]));
    conn.send(&mut pcap, 1.2, false, &flight, 1400);
    // The client's encrypted Finished, then data from the server.
    conn.send(
        &mut pcap,
        1.3,
        true,
        &tls_record(23, 0x0303, &[0xBB; 40]),
        1400,
    );
    conn.send(
        &mut pcap,
        1.4,
        false,
        &tls_record(23, 0x0303, &[0xCC; 40]),
        1400,
    );

    let mut log = Vec::new();
    let mut events = Vec::new();
    run(
        &[Input::Memory("drafts".into(), pcap.bytes)],
        &options(),
        Outputs {
            events: Some((tls_analyzer::run::EventFormat::Json, &mut events)),
            log: Some((LogFormat::Json, &mut log)),
        },
    )
    .expect("an in-memory capture runs");
    let rows = String::from_utf8(log)
        .expect("UTF-8 log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON row per line"))
        .collect();
    (rows, String::from_utf8(events).expect("UTF-8 events"))
}

#[test]
fn every_draft_server_hello_layout_gives_zeeks_ssl_log_row() {
    // (fixture, version, curve): the cipher is TLS_AES_128_GCM_SHA256 in all of them.
    let cases: [(&str, &str, Option<&str>); 5] = [
        // Firefox 52 and a server accepting draft 16: the draft layout.
        (
            "server_hello-tls13-draft16",
            "TLSv13-draft16",
            Some("x25519"),
        ),
        // The draft layout's extension block is optional: no key_share, so no curve.
        (
            "server_hello-tls13-draft16-no_extensions",
            "TLSv13-draft16",
            None,
        ),
        // 0x0304 in the version field also selects the draft layout in Zeek.
        ("server_hello-tls13-0x0304", "TLSv13", Some("x25519")),
        // So does any 0x7fNN, whatever the draft number.
        (
            "server_hello-tls13-0x7f17",
            "TLSv13-draft23",
            Some("x25519"),
        ),
        // Draft 22 and later: the TLS 1.2 layout, the draft number in supported_versions.
        (
            "server_hello-tls13-draft23",
            "TLSv13-draft23",
            Some("x25519"),
        ),
    ];
    for (name, version, curve) in cases {
        let (rows, events) = run_connection(&fixture(name));
        assert_eq!(rows.len(), 1, "{name}: one ssl.log row, got {rows:?}");
        let row = &rows[0];
        let field = |k: &str| row.get(k).cloned().unwrap_or(Value::Null);
        assert_eq!(field("version"), version, "{name}: {row}");
        assert_eq!(field("cipher"), "TLS_AES_128_GCM_SHA256", "{name}: {row}");
        assert_eq!(
            field("curve"),
            curve.map_or(Value::Null, Value::from),
            "{name}: {row}"
        );
        assert_eq!(field("ssl_history"), "Cs", "{name}: {row}");
        assert_eq!(field("established"), true, "{name}: {row}");
        assert!(
            !events.contains("analyzer_violation"),
            "{name}: a violation was raised:\n{events}"
        );
        assert!(
            events.contains(r#""event":"ssl_established""#),
            "{name}: no ssl_established:\n{events}"
        );
    }
}

/// The spec's names of the draft versions are the ones Zeek prints (`consts.zeek`'s
/// `version_strings` default, which ssl.log's `version_name` reproduces), and every published
/// draft, 00 to 28, has one.
#[test]
fn draft_version_names_are_zeeks() {
    use tls_analyzer::log::names::version_name;
    use tls_grammar::ProtocolVersion;
    for v in 0x7f00u16..=0x7fff {
        if let Some(name) = ProtocolVersion(v).name() {
            assert_eq!(name, version_name(u64::from(v)), "{v:#06x}");
        }
    }
    for draft in 0u16..=28 {
        assert_eq!(
            ProtocolVersion(0x7f00 + draft).name(),
            Some(format!("TLSv13-draft{draft}").as_str()),
            "draft {draft}"
        );
    }
}
