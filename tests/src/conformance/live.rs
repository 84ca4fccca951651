//! zeek-live comparison: our complete event stream against Zeek's, connection by connection.
//!
//! In: Zeek's stream (`zeek-live/*.events.json`) and ours, both parsed into
//! [`Event`]s. Out: mismatches for missing, extra and differing events.
//!
//! Both streams are split by connection 4-tuple, keeping the order within a connection (the
//! order across connections depends on packet interleaving only and is not compared). Within a
//! connection the two sequences are aligned on `(event, is_client)` with a longest common
//! subsequence, so one dropped or swapped event is reported as such instead of shifting every
//! later comparison; aligned events are compared argument by argument, strings as bytes.

use std::collections::HashMap;

use serde_json::Value;

use super::corpus::{ConnId, Event};
use super::mismatch::{Mismatch, MismatchKind, Tally};
use super::value::{render, Comparer, Style};

/// Source name of zeek-live event mismatches.
pub const LIVE_EVENTS: &str = "zeek-live events";
/// Source name of zeek-live ssl.log mismatches.
pub const LIVE_SSL: &str = "zeek-live ssl.log";
/// Source name of zeek-live x509.log mismatches.
pub const LIVE_X509: &str = "zeek-live x509.log";

/// Everything a zeek-live stream can contain: the `ssl_*` events of Zeek 8.2.2 (the version
/// that recorded it), SSL/DTLS violations and weirds. Events of ours outside this set — events
/// newer than Zeek 8.2.2 (`ssl_extension_signature_algorithms_cert`,
/// `ssl_extension_encrypted_client_hello`), events the spec adds on its own (e.g.
/// `ssl_extension_record_size_limit`), analyzer confirmations and removals — are left out before
/// comparing, so adding an event to the spec never needs a change here.
pub const RECORDED_BY_ZEEK_LIVE: [&str; 35] = [
    "ssl_alert",
    "ssl_certificate_request",
    "ssl_change_cipher_spec",
    "ssl_client_hello",
    "ssl_connection_flipped",
    "ssl_dh_client_params",
    "ssl_dh_server_params",
    "ssl_ecdh_client_params",
    "ssl_ecdh_server_params",
    "ssl_encrypted_data",
    "ssl_established",
    "ssl_extension",
    "ssl_extension_application_layer_protocol_negotiation",
    "ssl_extension_connection_id",
    "ssl_extension_ec_point_formats",
    "ssl_extension_elliptic_curves",
    "ssl_extension_key_share",
    "ssl_extension_pre_shared_key_client_hello",
    "ssl_extension_pre_shared_key_server_hello",
    "ssl_extension_psk_key_exchange_modes",
    "ssl_extension_server_name",
    "ssl_extension_signature_algorithm",
    "ssl_extension_signed_certificate_timestamp",
    "ssl_extension_supported_versions",
    "ssl_handshake_message",
    "ssl_heartbeat",
    "ssl_plaintext_data",
    "ssl_probable_encrypted_handshake_message",
    "ssl_rsa_client_pms",
    "ssl_server_hello",
    "ssl_server_signature",
    "ssl_session_ticket_handshake",
    "ssl_stapled_ocsp",
    "analyzer_violation_info",
    "conn_weird",
];

/// Whether zeek-live could have recorded this event of ours.
pub fn recorded_by_zeek_live(e: &Event) -> bool {
    is_zeek_live_event(&e.name)
}

/// Whether an event of this name can appear in a zeek-live stream.
pub fn is_zeek_live_event(name: &str) -> bool {
    RECORDED_BY_ZEEK_LIVE.contains(&name)
}

/// Splits a stream by connection, in order of first appearance.
pub fn by_connection<'a>(events: &[&'a Event]) -> Vec<(ConnId, Vec<&'a Event>)> {
    let mut index: HashMap<ConnId, usize> = HashMap::new();
    let mut out: Vec<(ConnId, Vec<&'a Event>)> = Vec::new();
    for e in events {
        let i = *index.entry(e.conn.clone()).or_insert_with(|| {
            out.push((e.conn.clone(), Vec::new()));
            out.len() - 1
        });
        out[i].1.push(e);
    }
    out
}

/// Aligns two sequences by a longest common subsequence of their keys. Returns pairs in order:
/// `(Some(i), Some(j))` aligned, `(Some(i), None)` only expected, `(None, Some(j))` only ours.
pub fn align<K: PartialEq>(exp: &[K], got: &[K]) -> Vec<(Option<usize>, Option<usize>)> {
    let (n, m) = (exp.len(), got.len());
    // lcs[i][j]: length of the LCS of exp[i..] and got[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if exp[i] == got[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n.max(m));
    while i < n || j < m {
        if i < n && j < m && exp[i] == got[j] {
            out.push((Some(i), Some(j)));
            i += 1;
            j += 1;
        } else if j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push((Some(i), None));
            i += 1;
        } else {
            out.push((None, Some(j)));
            j += 1;
        }
    }
    out
}

/// A one-line rendering of an event for reports.
pub fn summarize(e: &Event, style: Style) -> String {
    let args: Vec<String> = e
        .args
        .iter()
        .map(|(k, v)| format!("{k}={}", render(v, style)))
        .collect();
    let s = format!("{}({})", e.name, args.join(", "));
    if s.chars().count() > 240 {
        format!("{}…", s.chars().take(240).collect::<String>())
    } else {
        s
    }
}

fn key(e: &Event) -> (&str, Option<bool>) {
    (
        e.name.as_str(),
        e.args.get("is_client").and_then(Value::as_bool),
    )
}

/// Compares Zeek's complete stream with ours.
pub fn compare_events(
    capture: &str,
    zeek: &[Event],
    ours: &[Event],
    tally: &mut Tally,
    out: &mut Vec<Mismatch>,
) {
    let cmp = Comparer {
        expected: Style::Zeek,
        got: Style::Zeek,
    };
    let zeek_refs: Vec<&Event> = zeek.iter().collect();
    let our_refs: Vec<&Event> = ours.iter().filter(|e| recorded_by_zeek_live(e)).collect();
    let zeek_conns = by_connection(&zeek_refs);
    let mut our_conns = by_connection(&our_refs);
    for (conn, zev) in &zeek_conns {
        let pos = our_conns.iter().position(|(c, _)| c.matches(conn));
        let oev = pos.map(|p| our_conns.remove(p).1).unwrap_or_default();
        compare_connection(capture, conn, zev, &oev, cmp, tally, out);
    }
    for (conn, oev) in our_conns {
        compare_connection(capture, &conn, &[], &oev, cmp, tally, out);
    }
}

fn compare_connection(
    capture: &str,
    conn: &ConnId,
    zeek: &[&Event],
    ours: &[&Event],
    cmp: Comparer,
    tally: &mut Tally,
    out: &mut Vec<Mismatch>,
) {
    let zk: Vec<_> = zeek.iter().map(|e| key(e)).collect();
    let ok: Vec<_> = ours.iter().map(|e| key(e)).collect();
    tally.events += zeek.len();
    for pair in align(&zk, &ok) {
        let mut m = Mismatch::new(capture, LIVE_EVENTS, MismatchKind::Value);
        m.connection = Some(conn.to_string());
        match pair {
            (Some(i), Some(j)) => {
                let (e, g) = (zeek[i], ours[j]);
                let mut diffs = Vec::new();
                tally.fields += cmp.compare(
                    &Value::Object(e.args.clone()),
                    Some(&Value::Object(g.args.clone())),
                    "args",
                    &mut diffs,
                );
                for d in diffs {
                    let mut v = m.clone();
                    v.index = Some(i);
                    v.event = Some(e.name.clone());
                    v.field = Some(d.path);
                    v.expected = d.expected;
                    v.got = d.got;
                    out.push(v);
                }
            }
            (Some(i), None) => {
                m.kind = MismatchKind::MissingEvent;
                m.index = Some(i);
                m.event = Some(zeek[i].name.clone());
                m.expected = summarize(zeek[i], Style::Zeek);
                m.got = "<no such event at this point of the connection>".into();
                out.push(m);
            }
            (None, Some(j)) => {
                m.kind = MismatchKind::ExtraEvent;
                m.index = Some(j);
                m.event = Some(ours[j].name.clone());
                m.expected = "<no such event at this point of the connection>".into();
                m.got = summarize(ours[j], Style::Zeek);
                out.push(m);
            }
            (None, None) => {}
        }
    }
}
