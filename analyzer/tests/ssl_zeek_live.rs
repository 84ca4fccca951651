//! Zeek's complete event streams (`../shared/conformance/zeek-live`) against our state machine.
//!
//! For every capture Zeek 8.2.2 analysed, the capture layer feeds each connection Zeek analysed
//! into an `SslAnalyzer`, and the events this module raises itself (record-level and stateful
//! ones, violations) are compared, connection by connection and in order, with Zeek's. Events of
//! parsed message contents (hellos, extensions, key exchange) are the generated parsers' and are
//! left out here. When `../shared` is absent the test says so loudly and passes nothing silently:
//! it returns early after printing the reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use tls_analyzer::capture::{self, ConnInfo, FlowHandler, Input, Options, Verdict};
use tls_analyzer::ssl::{Config, Event, EventSink, SslAnalyzer, StateEvent};

const LIVE: &str = "../../shared/conformance/zeek-live";
const TRACES: &str = "../../shared/conformance/zeek/traces";

/// The events compared: everything `ssl` raises itself.
const COMPARED: [&str; 10] = [
    "ssl_established",
    "ssl_encrypted_data",
    "ssl_plaintext_data",
    "ssl_change_cipher_spec",
    "ssl_probable_encrypted_handshake_message",
    "ssl_connection_flipped",
    "ssl_alert",
    "ssl_heartbeat",
    "ssl_handshake_message",
    "analyzer_violation_info",
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

fn render_expected(o: &Value) -> Option<String> {
    let name = o["event"].as_str()?;
    if !COMPARED.contains(&name) {
        return None;
    }
    let a = &o["args"];
    let f = |k: &str| a[k].to_string();
    Some(match name {
        "ssl_encrypted_data" | "ssl_plaintext_data" => format!(
            "{name} {} {} {} {}",
            f("is_client"),
            f("record_version"),
            f("content_type"),
            f("length")
        ),
        "ssl_change_cipher_spec" => format!("{name} {}", f("is_client")),
        "ssl_probable_encrypted_handshake_message" => {
            format!("{name} {} {}", f("is_client"), f("length"))
        }
        "ssl_alert" => format!("{name} {} {} {}", f("is_client"), f("level"), f("desc")),
        "ssl_heartbeat" => format!(
            "{name} {} {} {} {}",
            f("is_client"),
            f("length"),
            f("heartbeat_type"),
            f("payload_length")
        ),
        "ssl_handshake_message" => {
            format!(
                "{name} {} {} {}",
                f("is_client"),
                f("msg_type"),
                f("length")
            )
        }
        "analyzer_violation_info" => format!("violation {}", a["reason"].as_str()?),
        _ => name.to_string(),
    })
}

struct Collect<'a>(&'a mut Vec<String>);

impl EventSink for Collect<'_> {
    fn event(&mut self, _ts: f64, ev: &Event<'_>) {
        let line = match ev {
            Event::State(s) => {
                let name = s.name();
                match *s {
                    StateEvent::SslEncryptedData {
                        is_client,
                        record_version,
                        content_type,
                        length,
                    }
                    | StateEvent::SslPlaintextData {
                        is_client,
                        record_version,
                        content_type,
                        length,
                    } => format!("{name} {is_client} {record_version} {content_type} {length}"),
                    StateEvent::SslChangeCipherSpec { is_client } => format!("{name} {is_client}"),
                    StateEvent::SslProbableEncryptedHandshakeMessage { is_client, length } => {
                        format!("{name} {is_client} {length}")
                    }
                    StateEvent::SslAlert {
                        is_client,
                        level,
                        desc,
                    } => format!("{name} {is_client} {level} {desc}"),
                    StateEvent::SslHeartbeat {
                        is_client,
                        length,
                        heartbeat_type,
                        payload_length,
                        ..
                    } => format!("{name} {is_client} {length} {heartbeat_type} {payload_length}"),
                    StateEvent::SslHandshakeMessage {
                        is_client,
                        msg_type,
                        length,
                    } => format!("{name} {is_client} {msg_type} {length}"),
                    StateEvent::SslEstablished | StateEvent::SslConnectionFlipped => {
                        name.to_string()
                    }
                }
            }
            Event::Violation { reason, .. } => format!("violation {reason}"),
            _ => return,
        };
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
fn stateful_events_match_zeek_live() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let live = base.join(LIVE);
    if !live.is_dir() {
        eprintln!(
            "SKIPPED LOUDLY: {} is absent; no comparison with Zeek was made",
            live.display()
        );
        return;
    }
    let mut files = Vec::new();
    live_files(&live, &mut files);
    files.sort();
    let (mut same, mut total) = (0usize, 0usize);
    let mut report = Vec::new();
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
        let Some(trace) = trace else { continue };
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
    eprintln!("{same}/{total} connections identical");
    assert!(total > 0, "no connection compared");
    assert_eq!(
        same, total,
        "connections whose stateful events differ from Zeek's (see above)"
    );
}
