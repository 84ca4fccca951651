//! ssl.log rows built from decoded values: history letters, the three ways to `resumed`, version
//! and group names, certificate columns; then the TSV writer read back by a tiny zeek-cut, and the
//! JSON writer read back by serde_json, with and without the optional subject/issuer columns.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;
use tls_analyzer::fingerprint::FingerprintSet;
use tls_analyzer::log::builder::{
    HELLO_RETRY_REQUEST_RANDOM, WEIRD_HISTORY_LIMIT, WEIRD_MANY_SERVER_NAMES,
};
use tls_analyzer::log::{
    JsonLogWriter, NameTables, OptionalColumns, SslLogBuilder, SslLogRow, TsvLogWriter,
    SSL_LOG_FIELDS,
};
use tls_analyzer::output::ConnId;

/// Self-signed test certificate made for this test with openssl: CN=leaf.example.org,
/// SAN DNS:*.example.org, DNS:example.org.
const CERT_SAN_HEX: &str = "308201b230820158a003020102021459cf732fc3ac634479763c3f660b4252afdc8efa300a06082a8648ce3d040302301b3119301706035504030c106c6561662e6578616d706c652e6f7267301e170d3236313132363133343530325a170d3336313132333133343530325a301b3119301706035504030c106c6561662e6578616d706c652e6f72673059301306072a8648ce3d020106082a8648ce3d0301070342000482fd88f203be4bb836c7056019c4d495220ee447100fd045bddd49f24bcec7806aea9e37cf6b4602df1bbe0f157497533710363f04c9ed3978c2b101e849ac29a37a3078301d0603551d0e041604141b5d98f320ab8124c73b99e99e30fc1a65c4747b301f0603551d230418301680141b5d98f320ab8124c73b99e99e30fc1a65c4747b300f0603551d130101ff040530030101ff30250603551d11041e301c820d2a2e6578616d706c652e6f7267820b6578616d706c652e6f7267300a06082a8648ce3d0403020348003045022100ea16786e061a0db86666425059fd461074217f2b0786369b7b854d5db768608102206a616886909a483deddbbfc6107e4d814e7ba0913a2507f50bb54eb3dc9e382b";
const CERT_SAN_SHA256: &str = "14ed39260b49a21196defebe76c231ca9ad0685e7edd46504f8ae5f958e720bf";
/// Self-signed test certificate: CN=cn-only.test, no SAN.
const CERT_CN_HEX: &str = "3082018230820129a00302010202144a52470c67bfce94be9e8cd028d1928d63b59b65300a06082a8648ce3d04030230173115301306035504030c0c636e2d6f6e6c792e74657374301e170d3236313132363133343530325a170d3336313132333133343530325a30173115301306035504030c0c636e2d6f6e6c792e746573743059301306072a8648ce3d020106082a8648ce3d03010703420004f11de3e4bd9c22f7eff9125bc02f1f698afbe145329b7129bd35a6a2dafdcd6aa16201dfc9247fa9d65741ccae44ca94895a2af8bc2e2ed9ee9879569831042da3533051301d0603551d0e0416041430d67c7e7fbc25dbf81c44ffce835b8b114b08fb301f0603551d2304183016801430d67c7e7fbc25dbf81c44ffce835b8b114b08fb300f0603551d130101ff040530030101ff300a06082a8648ce3d0403020347003044022015fce26b9772f4b87c2d6a08313b7f8f195ecdb6eb476f3eecb6ac389d7f606a02207397224853c8a6047f60b3112985b6504ad9de5ca38abb32a83b40ca764071ff";
const CERT_CN_SHA256: &str = "5603628390a56d8175e1d936ada504328831b935855cc285a9d3797961eb0755";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn id() -> ConnId {
    ConnId {
        orig_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 80)),
        orig_p: 56637,
        resp_h: IpAddr::V4(Ipv4Addr::new(68, 233, 76, 12)),
        resp_p: 443,
    }
}

fn cipher(c: u64) -> Option<&'static str> {
    match c {
        0x0004 => Some("TLS_RSA_WITH_RC4_128_MD5"),
        0x1301 => Some("TLS_AES_128_GCM_SHA256"),
        _ => None,
    }
}

fn builder() -> SslLogBuilder {
    let names = NameTables {
        cipher,
        ..NameTables::default()
    };
    SslLogBuilder::new(1357328848.54937, "Cp02TY3r6HRtlFYRK2", id(), names)
}

const ZERO_SID: [u8; 32] = [0; 32];
const RANDOM: [u8; 32] = [7; 32];

/// The TLS 1.2 RSA handshake of tls/tls1.2.pcap, as decoded values.
fn tls12(b: &mut SslLogBuilder, client_sid: &[u8], server_sid: &[u8], with_cke: bool) {
    b.client_hello(0x0301, client_sid);
    b.handshake_message(true, 1);
    b.server_hello(0x0303, &RANDOM, server_sid, 4);
    b.handshake_message(false, 2);
    b.handshake_message(false, 11);
    b.handshake_message(false, 14);
    if with_cke {
        b.handshake_message(true, 16);
    }
    b.change_cipher_spec(true);
    b.change_cipher_spec(false);
}

#[test]
fn tls12_row_and_history() {
    let mut b = builder();
    tls12(&mut b, &ZERO_SID, &[9; 32], true);
    let row = b.established().expect("row at established");
    assert_eq!(row.ssl_history, "CsxnGIi");
    assert_eq!(row.version.as_deref(), Some("TLSv12"));
    assert_eq!(row.cipher.as_deref(), Some("TLS_RSA_WITH_RC4_128_MD5"));
    assert!(row.established);
    assert!(!row.resumed);
    assert_eq!(
        row.cert_chain_fps, None,
        "no certificate seen: column unset"
    );
    assert!(b.connection_end().is_none(), "one row per connection");
    assert!(b.violation().is_none());
}

#[test]
fn resumed_by_session_id() {
    let mut b = builder();
    b.client_hello(0x0301, &[9; 32]);
    b.server_hello(0x0303, &RANDOM, &[9; 32], 4);
    assert!(b.row().resumed);
    // Not for TLS 1.3 (supported_versions seen before the hello event).
    let mut b = builder();
    b.client_hello(0x0303, &[9; 32]);
    b.extension_supported_versions(false, [0x0304]);
    b.server_hello(0x0303, &RANDOM, &[9; 32], 0x1301);
    assert!(!b.row().resumed);
    assert_eq!(b.row().version.as_deref(), Some("TLSv13"));
    // Nor for a TLS 1.3 draft.
    let mut b = builder();
    b.client_hello(0x0303, &[9; 32]);
    b.extension_supported_versions(false, [0x7f12]);
    b.server_hello(0x0303, &RANDOM, &[9; 32], 0x1301);
    assert!(!b.row().resumed);
    assert_eq!(b.row().version.as_deref(), Some("TLSv13-draft18"));
}

#[test]
fn resumed_by_ticket_without_key_exchange() {
    let mut b = builder();
    b.extension(true, 35, 192);
    tls12(&mut b, &ZERO_SID, &[9; 32], false);
    assert!(b.row().resumed);
    // A full handshake (client key exchange) is not a resumption.
    let mut b = builder();
    b.extension(true, 35, 192);
    tls12(&mut b, &ZERO_SID, &[9; 32], true);
    assert!(!b.row().resumed);
    // An empty ticket extension is not a ticket.
    let mut b = builder();
    b.extension(true, 35, 0);
    tls12(&mut b, &ZERO_SID, &[9; 32], false);
    assert!(!b.row().resumed);
}

#[test]
fn resumed_by_accepted_psk() {
    let mut b = builder();
    b.extension(true, 41, 50);
    b.extension(false, 41, 2);
    assert!(b.row().resumed);
    let mut b = builder();
    b.extension(false, 41, 2);
    assert!(!b.row().resumed, "server PSK without a client offer");
}

#[test]
fn hello_retry_flipped_and_sslv2_letters() {
    let mut b = builder();
    b.connection_flipped();
    b.handshake_message(true, 1);
    b.server_hello(0x0303, &HELLO_RETRY_REQUEST_RANDOM, &ZERO_SID, 0x1301);
    b.handshake_message(false, 2);
    b.handshake_message(true, 1);
    b.server_hello(0x0303, &RANDOM, &ZERO_SID, 0x1301);
    b.handshake_message(false, 2);
    b.handshake_message(false, 8);
    b.alert(false, 2, 40);
    b.heartbeat(true);
    b.handshake_message(false, 99);
    assert_eq!(b.row().ssl_history, "^CjCsolBz");
    assert_eq!(b.row().last_alert.as_deref(), Some("handshake_failure"));

    let mut b = builder();
    b.client_hello(0, &ZERO_SID);
    b.server_hello(0x0002, &RANDOM, &ZERO_SID, 0x0700c0);
    assert_eq!(b.row().ssl_history, "Cs");
    assert_eq!(b.row().version.as_deref(), Some("SSLv2"));
    assert_eq!(b.row().cipher.as_deref(), Some("unknown-458944"));
}

#[test]
fn history_cap_raises_one_weird() {
    let mut b = builder().with_max_history(3);
    for _ in 0..5 {
        b.handshake_message(true, 1);
    }
    assert_eq!(b.row().ssl_history, "CCC");
    let w = b.take_weirds();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].name, WEIRD_HISTORY_LIMIT);
    assert_eq!(w[0].source, "SSL");
}

#[test]
fn server_name_alpn_and_groups() {
    let mut b = builder();
    b.extension_server_name(false, [b"ignored".as_slice()]);
    assert_eq!(b.row().server_name, None, "only the client's names count");
    b.extension_server_name(true, [b"a.example".as_slice(), b"b.example".as_slice()]);
    assert_eq!(
        b.row().server_name.as_deref(),
        Some(b"a.example".as_slice())
    );
    let w = b.take_weirds();
    assert_eq!(w[0].name, WEIRD_MANY_SERVER_NAMES);
    assert_eq!(w[0].addl, b"[a.example, b.example]");
    b.extension_alpn(true, [b"h2".as_slice(), b"http/1.1".as_slice()]);
    assert_eq!(b.row().next_protocol, None);
    b.extension_alpn(false, [b"http/1.1".as_slice()]);
    assert_eq!(
        b.row().next_protocol.as_deref(),
        Some(b"http/1.1".as_slice())
    );
    b.extension_key_share(false, [29, 23]);
    assert_eq!(b.row().curve, None, "several server shares: not a choice");
    b.extension_key_share(false, [0x11ec]);
    assert_eq!(b.row().curve.as_deref(), Some("X25519MLKEM768"));
    b.ecdh_server_params(23);
    assert_eq!(b.row().curve.as_deref(), Some("secp256r1"));
}

#[test]
fn certificate_columns() {
    let san = unhex(CERT_SAN_HEX);
    let cn = unhex(CERT_CN_HEX);
    let mut b = builder();
    b.extension_server_name(true, [b"www.example.org".as_slice()]);
    b.certificate(false, &san);
    b.certificate(false, b"garbage is no certificate");
    b.certificate(false, &cn);
    let row = b.established().expect("row");
    assert_eq!(
        row.cert_chain_fps,
        Some(vec![CERT_SAN_SHA256.to_owned(), CERT_CN_SHA256.to_owned()])
    );
    assert_eq!(row.client_cert_chain_fps, Some(vec![]));
    assert_eq!(row.sni_matches_cert, Some(true));

    let mut b = builder();
    b.extension_server_name(true, [b"leaf.example.org.evil".as_slice()]);
    b.certificate(false, &san);
    assert_eq!(
        b.connection_end().and_then(|r| r.sni_matches_cert),
        Some(false)
    );

    // Without SAN the last CN counts.
    let mut b = builder();
    b.extension_server_name(true, [b"CN-ONLY.test".as_slice()]);
    b.certificate(false, &cn);
    assert_eq!(b.violation().and_then(|r| r.sni_matches_cert), Some(true));

    // Without SNI the match stays unset; a client chain alone sets both chain columns.
    let mut b = builder();
    b.certificate(true, &cn);
    let row = b.connection_end().expect("row");
    assert_eq!(row.sni_matches_cert, None);
    assert_eq!(row.cert_chain_fps, Some(vec![]));
    assert_eq!(
        row.client_cert_chain_fps,
        Some(vec![CERT_CN_SHA256.to_owned()])
    );
}

/// A tiny zeek-cut: reads an ASCII log into header facts and rows keyed by field name.
fn zeek_cut(text: &str) -> (BTreeMap<String, String>, Vec<BTreeMap<String, String>>) {
    let mut meta = BTreeMap::new();
    let mut fields: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#separator ") {
            meta.insert("separator".to_owned(), rest.to_owned());
        } else if let Some(rest) = line.strip_prefix('#') {
            let (k, v) = rest.split_once('\t').expect("header line has a tab");
            if k == "fields" {
                fields = v.split('\t').map(str::to_owned).collect();
            }
            meta.insert(k.to_owned(), v.to_owned());
        } else {
            let vals: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                vals.len(),
                fields.len(),
                "row has one value per field: {line}"
            );
            rows.push(
                fields
                    .iter()
                    .cloned()
                    .zip(vals.iter().map(|v| (*v).to_owned()))
                    .collect(),
            );
        }
    }
    (meta, rows)
}

fn sample_rows() -> Vec<SslLogRow> {
    let mut b = builder();
    tls12(&mut b, &ZERO_SID, &[9; 32], true);
    b.extension_server_name(true, [b"we\tird,\\name".as_slice()]);
    b.certificate(false, &unhex(CERT_SAN_HEX));
    let first = b.established().expect("row");
    let mut b = SslLogBuilder::new(2.0, "C2", id(), NameTables::default());
    b.extension_alpn(false, [b"-".as_slice()]);
    let second = b.connection_end().expect("row");
    vec![first, second]
}

#[test]
fn tsv_reads_back_with_zeek_cut() {
    let mut w = TsvLogWriter::new();
    w.header(1357328848.0);
    for r in sample_rows() {
        w.row(&r);
    }
    w.footer(1357328900.0);
    let text = String::from_utf8(w.buffer().to_vec()).expect("utf8");
    let (meta, rows) = zeek_cut(&text);
    assert_eq!(meta["separator"], "\\x09");
    assert_eq!(meta["set_separator"], ",");
    assert_eq!(meta["empty_field"], "(empty)");
    assert_eq!(meta["unset_field"], "-");
    assert_eq!(meta["path"], "ssl");
    assert_eq!(meta["open"], "2013-01-04-19-47-28");
    assert_eq!(meta["close"], "2013-01-04-19-48-20");
    assert_eq!(meta["fields"], SSL_LOG_FIELDS.join("\t"));
    assert_eq!(
        meta["types"],
        "time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tbool\tstring\tstring\tbool\tstring\tvector[string]\tvector[string]\tbool"
    );
    assert_eq!(rows.len(), 2);
    let r = &rows[0];
    assert_eq!(r["ts"], "1357328848.549370");
    assert_eq!(r["uid"], "Cp02TY3r6HRtlFYRK2");
    assert_eq!(r["id.orig_h"], "10.0.0.80");
    assert_eq!(r["id.resp_p"], "443");
    assert_eq!(r["version"], "TLSv12");
    assert_eq!(r["curve"], "-");
    assert_eq!(r["server_name"], "we\\x09ird,\\x5cname");
    assert_eq!(r["resumed"], "F");
    assert_eq!(r["established"], "T");
    assert_eq!(r["ssl_history"], "CsxnGIi");
    assert_eq!(r["cert_chain_fps"], CERT_SAN_SHA256);
    assert_eq!(r["client_cert_chain_fps"], "(empty)");
    assert_eq!(r["sni_matches_cert"], "F");
    let r = &rows[1];
    assert_eq!(r["ts"], "2.000000");
    assert_eq!(
        r["next_protocol"], "\\x2d",
        "a value equal to the unset marker is escaped"
    );
    assert_eq!(r["ssl_history"], "(empty)");
    assert_eq!(r["cert_chain_fps"], "-");
    assert_eq!(r["sni_matches_cert"], "-");
}

#[test]
fn json_rows_are_valid_and_leave_unset_columns_out() {
    let mut w = JsonLogWriter::new();
    for r in sample_rows() {
        w.row(&r);
    }
    let text = String::from_utf8(w.buffer().to_vec()).expect("utf8");
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON"))
        .collect();
    assert_eq!(rows.len(), 2);
    let keys: Vec<&str> = text
        .lines()
        .next()
        .map(|l| {
            SSL_LOG_FIELDS
                .iter()
                .copied()
                .filter(|k| l.contains(&format!("\"{k}\":")))
                .collect()
        })
        .expect("line");
    assert!(!keys.contains(&"curve"));
    assert_eq!(rows[0]["id.orig_p"], 56637);
    assert_eq!(rows[0]["server_name"], "we\tird,\\name");
    assert_eq!(rows[0]["cert_chain_fps"][0], CERT_SAN_SHA256);
    assert_eq!(rows[0]["client_cert_chain_fps"], serde_json::json!([]));
    assert_eq!(rows[1]["ts"], 2.0);
    assert!(text
        .lines()
        .nth(1)
        .is_some_and(|l| l.starts_with("{\"ts\":2.0,\"uid\":\"C2\",\"id.orig_h\"")));
    assert!(rows[1].get("cert_chain_fps").is_none());
    assert!(rows[1].get("sni_matches_cert").is_none());
    assert_eq!(rows[1]["ssl_history"], "");
    assert_eq!(rows[1]["resumed"], false);
}

/// A builder and writers with the subject/issuer columns of both sides switched on.
const BOTH: OptionalColumns = OptionalColumns {
    server_subject_issuer: true,
    client_subject_issuer: true,
    fingerprints: FingerprintSet::NONE,
};

#[test]
fn subject_issuer_columns_only_when_switched_on() {
    let san = unhex(CERT_SAN_HEX);
    let cn = unhex(CERT_CN_HEX);
    // Off (Zeek's default): never filled.
    let mut b = builder();
    b.certificate(false, &san);
    let row = b.established().expect("row");
    assert_eq!((row.subject, row.issuer), (None, None));

    // On: the first certificate of each side; a garbage first certificate leaves them unset.
    let mut b = builder().with_columns(BOTH);
    b.certificate(false, &san);
    b.certificate(false, &cn);
    b.certificate(true, b"garbage is no certificate");
    b.certificate(true, &cn);
    let row = b.established().expect("row");
    assert_eq!(row.subject.as_deref(), Some("CN=leaf.example.org"));
    assert_eq!(row.issuer.as_deref(), Some("CN=leaf.example.org"));
    assert_eq!(row.client_subject, None);
    assert_eq!(row.client_issuer, None);

    // Only the client side asked for.
    let mut b = builder().with_columns(OptionalColumns {
        client_subject_issuer: true,
        ..OptionalColumns::default()
    });
    b.certificate(false, &san);
    b.certificate(true, &cn);
    let row = b.connection_end().expect("row");
    assert_eq!(row.subject, None);
    assert_eq!(row.client_subject.as_deref(), Some("CN=cn-only.test"));
    assert_eq!(row.client_issuer.as_deref(), Some("CN=cn-only.test"));
}

#[test]
fn optional_columns_sit_between_client_chain_and_sni_match() {
    let fields: Vec<&str> = BOTH.fields().iter().map(|(f, _)| *f).collect();
    let at = |name: &str| fields.iter().position(|f| *f == name).expect(name);
    assert_eq!(fields.len(), SSL_LOG_FIELDS.len() + 4);
    assert_eq!(
        &fields[at("client_cert_chain_fps")..=at("sni_matches_cert")],
        [
            "client_cert_chain_fps",
            "subject",
            "issuer",
            "client_subject",
            "client_issuer",
            "sni_matches_cert"
        ]
    );
    assert_eq!(
        OptionalColumns::default().fields().len(),
        SSL_LOG_FIELDS.len()
    );

    let mut b = builder().with_columns(BOTH);
    b.extension_server_name(true, [b"www.example.org".as_slice()]);
    b.certificate(false, &unhex(CERT_SAN_HEX));
    let row = b.established().expect("row");

    let mut w = TsvLogWriter::with_columns(BOTH);
    w.header(1357328848.0);
    w.row(&row);
    let text = String::from_utf8(w.buffer().to_vec()).expect("utf8");
    let (meta, rows) = zeek_cut(&text);
    assert_eq!(meta["fields"], fields.join("\t"));
    assert!(meta["types"].ends_with("vector[string]\tstring\tstring\tstring\tstring\tbool"));
    assert_eq!(rows[0]["subject"], "CN=leaf.example.org");
    assert_eq!(rows[0]["issuer"], "CN=leaf.example.org");
    assert_eq!(rows[0]["client_subject"], "-");
    assert_eq!(rows[0]["sni_matches_cert"], "T");

    // The default TSV writer leaves them out even when the row has them.
    let mut w = TsvLogWriter::new();
    w.header(1357328848.0);
    w.row(&row);
    let text = String::from_utf8(w.buffer().to_vec()).expect("utf8");
    let (_, rows) = zeek_cut(&text);
    assert!(!rows[0].contains_key("subject"));

    let mut w = JsonLogWriter::with_columns(BOTH);
    w.row(&row);
    let line = String::from_utf8(w.buffer().to_vec()).expect("utf8");
    let v: Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(v["subject"], "CN=leaf.example.org");
    assert!(v.get("client_subject").is_none());
    assert!(line.find("\"issuer\"") < line.find("\"sni_matches_cert\""));
    let mut w = JsonLogWriter::new();
    w.row(&row);
    assert!(!String::from_utf8_lossy(w.buffer()).contains("subject"));
}
