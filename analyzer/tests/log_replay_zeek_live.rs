//! Replays the event streams a real Zeek raised (`conformance/zeek-live/**/*.events.json`) through
//! [`SslLogBuilder`] and compares the rows with the ssl.log Zeek wrote for the same capture
//! (`*.ssl.json`), connection by connection (matched by uid).
//!
//! Certificates are not part of the event streams (Zeek hands them to file analysis), so the
//! certificate columns (`cert_chain_fps`, `client_cert_chain_fps`, `sni_matches_cert`) are not
//! compared here; everything else is. The corpus is read from `../shared/conformance` (or
//! `$ZEEK_CONFORMANCE_DIR`); when it is missing the test is ignored (probed at build time).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tls_analyzer::log::{NameTables, SslLogBuilder, SslLogRow};
use tls_analyzer::output::ConnId;

#[path = "../../tests/src/require.rs"]
mod require;

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ZEEK_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"))
        .join("zeek-live");
    if dir.is_dir() {
        Some(dir)
    } else {
        require::skip_or_fail(
            "conformance",
            &format!("ssl.log replay of {}", dir.display()),
        );
        None
    }
}

fn files_with_suffix(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_with_suffix(&p, suffix, out);
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
}

/// The IANA names of the cipher suites that occur in the corpus; the real table is generated
/// from the spec and plugged in by the integrator.
fn test_cipher_name(c: u64) -> Option<&'static str> {
    Some(match c {
        0x0002 => "TLS_RSA_WITH_NULL_SHA",
        0x0004 => "TLS_RSA_WITH_RC4_128_MD5",
        0x002F => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x0088 => "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
        0x009D => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x009F => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0xC00A => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xC011 => "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
        0xC013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xC014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xC028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0xC02F => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xC030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xCCA8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xCCA9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0x0700C0 => "SSLv20_CK_DES_192_EDE3_CBC_WITH_MD5",
        _ => return None,
    })
}

/// Decodes a Zeek-rendered byte string (`\xNN` for non-printable bytes) back to bytes.
fn zeek_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 2..i + 4], 16) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn arg<'a>(ev: &'a Value, name: &str) -> &'a Value {
    &ev["args"][name]
}

fn count(ev: &Value, name: &str) -> u64 {
    arg(ev, name)
        .as_u64()
        .unwrap_or_else(|| panic!("{name} is a count in {ev}"))
}

fn flag(ev: &Value, name: &str) -> bool {
    arg(ev, name)
        .as_bool()
        .unwrap_or_else(|| panic!("{name} is a bool in {ev}"))
}

fn bytes(ev: &Value, name: &str) -> Vec<u8> {
    zeek_bytes(
        arg(ev, name)
            .as_str()
            .unwrap_or_else(|| panic!("{name} is a string in {ev}")),
    )
}

fn counts(ev: &Value, name: &str) -> Vec<u64> {
    arg(ev, name)
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn strings(ev: &Value, name: &str) -> Vec<Vec<u8>> {
    arg(ev, name)
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(zeek_bytes).collect())
        .unwrap_or_default()
}

fn conn_id(ev: &Value) -> ConnId {
    let id = &ev["id"];
    let addr = |k: &str| -> IpAddr {
        id[k]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("address")
    };
    let port = |k: &str| -> u16 {
        id[k]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .expect("port")
    };
    ConnId {
        orig_h: addr("orig_h"),
        orig_p: port("orig_p"),
        resp_h: addr("resp_h"),
        resp_p: port("resp_p"),
    }
}

const SESSION_EVENTS: &[&str] = &tls_analyzer::log::builder::SESSION_EVENTS;

/// Feeds one event to the builder; returns a row when this event writes one.
fn apply(b: &mut SslLogBuilder, ev: &Value) -> Option<SslLogRow> {
    let name = ev["event"].as_str().unwrap_or_default();
    match name {
        "ssl_client_hello" => b.client_hello(count(ev, "record_version"), &bytes(ev, "session_id")),
        "ssl_server_hello" => b.server_hello(
            count(ev, "version"),
            &bytes(ev, "server_random"),
            &bytes(ev, "session_id"),
            count(ev, "cipher"),
        ),
        "ssl_extension_supported_versions" => {
            b.extension_supported_versions(flag(ev, "is_client"), counts(ev, "versions"))
        }
        "ssl_ecdh_server_params" => b.ecdh_server_params(count(ev, "curve")),
        "ssl_extension_key_share" => {
            b.extension_key_share(flag(ev, "is_client"), counts(ev, "curves"))
        }
        "ssl_extension_server_name" => {
            let names = strings(ev, "names");
            b.extension_server_name(flag(ev, "is_client"), names.iter().map(Vec::as_slice));
        }
        "ssl_extension_application_layer_protocol_negotiation" => {
            let p = strings(ev, "protocols");
            b.extension_alpn(flag(ev, "is_client"), p.iter().map(Vec::as_slice));
        }
        "ssl_connection_flipped" => b.connection_flipped(),
        "ssl_handshake_message" => {
            b.handshake_message(flag(ev, "is_client"), count(ev, "msg_type"))
        }
        "ssl_extension" => b.extension(
            flag(ev, "is_client"),
            count(ev, "code"),
            bytes(ev, "val").len(),
        ),
        "ssl_change_cipher_spec" => b.change_cipher_spec(flag(ev, "is_client")),
        "ssl_alert" => b.alert(flag(ev, "is_client"), count(ev, "level"), count(ev, "desc")),
        "ssl_heartbeat" => b.heartbeat(flag(ev, "is_client")),
        "ssl_established" => return b.established(),
        "analyzer_violation_info" => return b.violation(),
        _ => {}
    }
    None
}

/// The ssl.log JSON a row would give, restricted to the columns the replay can know.
fn row_json(r: &SslLogRow) -> Value {
    let mut w = tls_analyzer::log::JsonLogWriter::new();
    w.row(r);
    let mut v: Value = serde_json::from_slice(w.buffer()).expect("writer emits valid JSON");
    strip(&mut v);
    v
}

fn strip(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        for k in [
            "cert_chain_fps",
            "client_cert_chain_fps",
            "sni_matches_cert",
        ] {
            o.remove(k);
        }
    }
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn replayed_events_give_zeeks_ssl_log_rows() {
    let Some(dir) = corpus_dir() else {
        return;
    };
    let mut event_files = Vec::new();
    files_with_suffix(&dir, ".events.json", &mut event_files);
    event_files.sort();
    assert!(
        !event_files.is_empty(),
        "no events.json under {}",
        dir.display()
    );

    let names = NameTables {
        cipher: test_cipher_name,
        ..NameTables::default()
    };
    let (mut compared, mut mismatches) = (0usize, Vec::new());
    for ev_path in &event_files {
        let log_path = PathBuf::from(
            ev_path
                .to_string_lossy()
                .replace(".events.json", ".ssl.json"),
        );
        let Ok(log_text) = std::fs::read_to_string(&log_path) else {
            continue;
        };
        let text = std::fs::read_to_string(ev_path).expect("read events");
        let mut builders: BTreeMap<String, SslLogBuilder> = BTreeMap::new();
        let mut rows: BTreeMap<String, SslLogRow> = BTreeMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let ev: Value = serde_json::from_str(line).expect("event line is JSON");
            let uid = ev["uid"].as_str().unwrap_or_default().to_owned();
            let name = ev["event"].as_str().unwrap_or_default();
            if !builders.contains_key(&uid) {
                if !SESSION_EVENTS.contains(&name) {
                    continue;
                }
                let ts = ev["ts"].as_f64().expect("ts");
                builders.insert(
                    uid.clone(),
                    SslLogBuilder::new(ts, &uid, conn_id(&ev), names),
                );
            }
            if let Some(b) = builders.get_mut(&uid) {
                if let Some(row) = apply(b, &ev) {
                    rows.insert(uid.clone(), row);
                }
            }
        }
        for (uid, b) in builders.iter_mut() {
            if let Some(row) = b.connection_end() {
                rows.insert(uid.clone(), row);
            }
        }
        let mut expected: BTreeMap<String, Value> = BTreeMap::new();
        for line in log_text.lines().filter(|l| !l.trim().is_empty()) {
            let mut v: Value = serde_json::from_str(line).expect("ssl.json line");
            strip(&mut v);
            let uid = v["uid"].as_str().unwrap_or_default().to_owned();
            expected.insert(uid, v);
        }
        let file = ev_path
            .strip_prefix(&dir)
            .unwrap_or(ev_path)
            .display()
            .to_string();
        for (uid, want) in &expected {
            compared += 1;
            match rows.get(uid) {
                None => mismatches.push(format!("{file} {uid}: no row built")),
                Some(r) => {
                    let got = row_json(r);
                    if &got != want {
                        mismatches.push(format!("{file} {uid}:\n  got  {got}\n  want {want}"));
                    }
                }
            }
        }
        for uid in rows.keys().filter(|u| !expected.contains_key(*u)) {
            mismatches.push(format!("{file} {uid}: row built but Zeek logged none"));
        }
    }
    eprintln!(
        "compared {compared} ssl.log rows, {} mismatches",
        mismatches.len()
    );
    assert!(
        compared > 50,
        "the corpus should hold many rows, compared {compared}"
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
