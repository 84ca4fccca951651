//! Zeek's complete event streams (`../shared/conformance/zeek-live`) against our SSL analyzer.
//!
//! For every capture Zeek 8.2.2 analysed, the capture layer feeds each connection Zeek analysed
//! into an `SslAnalyzer`, and every event it raises (the generated parsers' events of hellos,
//! extensions, key exchange, … and the state machine's record-level and stateful ones, SSL
//! weirds and violations) is compared, connection by connection, in order, argument by
//! argument in Zeek's JSON rendering, with Zeek's. Left out: events Zeek 8.2.2 does not have
//! (see [`ZEEK_LIVE_EVENTS`]), weirds of other sources, and captures whose TLS sits inside a
//! carrier protocol. When `../shared` is absent the test says so loudly and passes nothing silently:
//! it returns early after printing the reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use std::net::Ipv4Addr;

use serde_json::Value;
use tls_analyzer::capture::{self, ConnInfo, FlowHandler, Input, Options, Verdict};
use tls_analyzer::output::json::JsonEventWriter;
use tls_analyzer::output::{ConnId, EventLines};
use tls_analyzer::ssl::{Config, Event, EventSink, SslAnalyzer};

#[path = "../../tests/src/require.rs"]
mod require;

const LIVE: &str = "../../shared/conformance/zeek-live";
const TRACES: &str = "../../shared/conformance/zeek/traces";

/// The `ssl_*` events of Zeek 8.2.2, which produced zeek-live. We raise a few more (the two of
/// the newest Zeek, `ssl_extension_signature_algorithms_cert` and
/// `ssl_extension_encrypted_client_hello`, and extensions of our own spec); Zeek could not have
/// raised those, so they are left out of the comparison. Every event in this list is compared.
const ZEEK_LIVE_EVENTS: [&str; 33] = [
    "ssl_client_hello",
    "ssl_server_hello",
    "ssl_extension",
    "ssl_extension_elliptic_curves",
    "ssl_extension_ec_point_formats",
    "ssl_extension_signature_algorithm",
    "ssl_extension_key_share",
    "ssl_extension_pre_shared_key_client_hello",
    "ssl_extension_pre_shared_key_server_hello",
    "ssl_extension_application_layer_protocol_negotiation",
    "ssl_extension_server_name",
    "ssl_extension_signed_certificate_timestamp",
    "ssl_extension_supported_versions",
    "ssl_extension_psk_key_exchange_modes",
    "ssl_extension_connection_id",
    "ssl_ecdh_server_params",
    "ssl_dh_server_params",
    "ssl_server_signature",
    "ssl_ecdh_client_params",
    "ssl_dh_client_params",
    "ssl_rsa_client_pms",
    "ssl_handshake_message",
    "ssl_session_ticket_handshake",
    "ssl_certificate_request",
    "ssl_stapled_ocsp",
    "ssl_alert",
    "ssl_heartbeat",
    "ssl_change_cipher_spec",
    "ssl_plaintext_data",
    "ssl_encrypted_data",
    "ssl_probable_encrypted_handshake_message",
    "ssl_established",
    "ssl_connection_flipped",
];

/// Captures where Zeek's carrier-protocol analyzers (STARTTLS, FTP AUTH TLS, MySQL, RDP,
/// WebSocket) hand only the TLS part of the stream to the SSL analyzer. Finding that start is
/// the detection layer's job, not this module's, so these are not compared here.
const CARRIED: [&str; 9] = [
    "ftp/",
    "globus-url-copy",
    "mysql/",
    "rdp/",
    "imap-starttls",
    "irc-starttls",
    "pop3-starttls",
    "smtp-starttls",
    "websocket/",
];
/// XMPP STARTTLS belongs to the same group.
const CARRIED_XMPP: &str = "xmpp-";

type Tuple = (String, u16, String, u16);

/// One event as `["name", {args}]` in Zeek's JSON rendering, so both sides compare as text.
fn canonical(o: &Value) -> String {
    Value::Array(vec![o["event"].clone(), o["args"].clone()]).to_string()
}

/// Zeek's events that this module is responsible for: every `ssl_*` event, the SSL/DTLS
/// analyzers' violations and the weirds whose source is SSL (other sources are the TCP layer's
/// or a carrier protocol's).
fn render_expected(o: &Value) -> Option<String> {
    let name = o["event"].as_str()?;
    let ours = match name {
        "conn_weird" => o["args"]["source"].as_str() == Some("SSL"),
        "analyzer_violation_info" => true,
        // An ssl_* event outside the list would be one we cannot raise: compare it (and fail).
        _ => name.starts_with("ssl_"),
    };
    ours.then(|| canonical(o))
}

/// Renders our events through the JSON event writer the CLI uses, then reads them back.
struct Collect<'a>(&'a mut Vec<String>);

impl EventSink for Collect<'_> {
    fn event(&mut self, ts: f64, ev: &Event<'_>) {
        let id = ConnId {
            orig_h: Ipv4Addr::UNSPECIFIED.into(),
            orig_p: 0,
            resp_h: Ipv4Addr::UNSPECIFIED.into(),
            resp_p: 0,
        };
        let mut w = JsonEventWriter::new();
        match ev {
            Event::Ssl(s) if !ZEEK_LIVE_EVENTS.contains(&s.name()) => return,
            Event::Ssl(s) => w.event(ts, "C", &id, s.name(), |v| s.visit(v)),
            Event::Weird { name, addl } => w.conn_weird(ts, "C", &id, name, addl.as_bytes(), "SSL"),
            Event::Violation { analyzer, reason } => {
                w.analyzer_violation(ts, "C", &id, analyzer.zeek_name(), reason.as_bytes())
            }
            Event::Confirmation { .. }
            | Event::Disabled { .. }
            | Event::Certificate { .. }
            | Event::Hello { .. } => return,
        }
        let line = serde_json::from_slice::<Value>(w.buffer())
            .map(|o| canonical(&o))
            .unwrap_or_else(|e| format!("unparsable JSON ({e}): {:?}", w.buffer()));
        self.0.push(line);
    }
}

#[derive(Default)]
struct Handler {
    wanted: HashSet<Tuple>,
    conns: HashMap<u64, (Tuple, SslAnalyzer)>,
    events: BTreeMap<Tuple, Vec<String>>,
}

fn tuple(c: &ConnInfo) -> Tuple {
    (
        c.id.orig_h.to_string(),
        c.id.orig_p,
        c.id.resp_h.to_string(),
        c.id.resp_p,
    )
}

impl Handler {
    fn with<F: FnOnce(&mut SslAnalyzer, &mut Collect<'_>)>(
        &mut self,
        c: &ConnInfo,
        f: F,
    ) -> Verdict {
        let t = tuple(c);
        if !self.wanted.contains(&t) {
            return Verdict::Stop;
        }
        let (t, a) = self
            .conns
            .entry(c.handle)
            .or_insert_with(|| (t, SslAnalyzer::new(Config::default())));
        let out = self.events.entry(t.clone()).or_default();
        f(a, &mut Collect(out));
        if a.is_done() {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }
}

impl FlowHandler for Handler {
    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.with(c, |a, s| a.deliver(is_orig, ts, data, s))
    }
    fn tcp_gap(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, len: u64) -> Verdict {
        self.with(c, |a, s| a.gap(is_orig, len, s))
    }
    fn udp_datagram(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.with(c, |a, s| a.datagram(is_orig, ts, data, s))
    }
}

fn live_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            live_files(&p, out);
        } else if p.to_string_lossy().ends_with(".events.json") {
            out.push(p);
        }
    }
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn all_events_match_zeek_live() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let live = base.join(LIVE);
    if !live.is_dir() {
        require::skip_or_fail(
            "conformance",
            &format!("comparison with Zeek's events in {}", live.display()),
        );
        return;
    }
    let mut files = Vec::new();
    live_files(&live, &mut files);
    files.sort();
    let (mut same, mut total, mut events) = (0usize, 0usize, 0usize);
    let mut report = Vec::new();
    let mut no_trace = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&live)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace(".events.json", "");
        let trace = [
            base.join(TRACES).join(&rel),
            base.join(TRACES).join(format!("{rel}.gz")),
        ]
        .into_iter()
        .find(|p| p.is_file());
        // A zeek-live file whose capture is not in the corpus cannot be compared: reported
        // below and skipped, never a failure.
        let Some(trace) = trace else {
            no_trace.push(rel);
            continue;
        };
        if CARRIED.iter().any(|c| rel.contains(c)) || rel.contains(CARRIED_XMPP) {
            eprintln!("not compared (TLS inside a carrier protocol): {rel}");
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut expected: BTreeMap<Tuple, Vec<String>> = BTreeMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(o) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let id = &o["id"];
            let t: Tuple = (
                id["orig_h"].as_str().unwrap_or("").to_string(),
                id["orig_p"].as_u64().unwrap_or(0) as u16,
                id["resp_h"].as_str().unwrap_or("").to_string(),
                id["resp_p"].as_u64().unwrap_or(0) as u16,
            );
            if let Some(r) = render_expected(&o) {
                expected.entry(t).or_default().push(r);
            }
        }
        let mut handler = Handler {
            wanted: expected.keys().cloned().collect(),
            ..Handler::default()
        };
        let options = Options {
            seed: Some(1),
            ..Options::default()
        };
        if capture::run(&[Input::Path(trace)], &options, &mut handler).is_err() {
            report.push(format!("{rel}: capture error"));
        }
        for (t, exp) in &expected {
            total += 1;
            events += exp.len();
            let got = handler.events.get(t).cloned().unwrap_or_default();
            if &got == exp {
                same += 1;
            } else {
                let first = exp
                    .iter()
                    .zip(&got)
                    .position(|(e, g)| e != g)
                    .unwrap_or(exp.len().min(got.len()));
                report.push(format!(
                    "{rel} {t:?}: first difference at #{first}: zeek {:?} ours {:?} (zeek {} events, ours {})",
                    exp.get(first),
                    got.get(first),
                    exp.len(),
                    got.len()
                ));
            }
        }
    }
    for r in &report {
        eprintln!("{r}");
    }
    eprintln!("{same}/{total} connections identical ({events} events of Zeek's compared)");
    if !no_trace.is_empty() {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr().lock(),
            "all_events_match_zeek_live: REPORTED AND SKIPPED {} zeek-live files without a capture \
             in {TRACES}: {no_trace:?}",
            no_trace.len()
        );
    }
    assert!(total > 0, "no connection compared");
    // The parsed-message events are compared too, not only the stateful ones: there are far
    // more events than connections.
    assert!(events > 20 * total, "suspiciously few events compared");
    assert_eq!(
        same, total,
        "connections whose events differ from Zeek's (see above)"
    );
}
