//! Our side of the tshark differential test, and the comparison.
//!
//! In: a capture. Out: a [`Dissection`] in the same structs as [`crate::tshark`] fills from
//! tshark, but built from the events of our analyzer ([`ours`]); [`compare`] lists every field
//! where the two disagree as a [`Difference`]; [`Deviations`] (read from
//! `tests/conformance/tshark-deviations.toml`) says which differences are accepted and why.
//!
//! Our dissection comes from the product itself: `tls_analyzer::run::run` with JSON events, the
//! same path as `tls-analyzer events --format json`, run with `--no-stop-after-established` so
//! that everything still in the clear after `ssl_established` is compared as well. The events map
//! onto the structs as follows:
//! * a hello is `ssl_client_hello` / `ssl_server_hello` with the extension events raised before
//!   it by the same side: `ssl_extension` gives the wire order of the types, the specific events
//!   give SNI, ALPN, supported versions, groups, key-share groups, signature algorithms
//!   (`HashAlgorithm << 8 | SignatureAlgorithm`), signature_algorithms_cert (the schemes as
//!   Zeek passes them) and point formats;
//! * `ssl_handshake_message` gives the plaintext message types per direction and `ssl_alert`
//!   the plaintext alerts;
//! * events name the TLS role (`is_client`); the packet direction is `is_client` XOR "flipped",
//!   which toggles at every `ssl_connection_flipped`, as in Zeek;
//! * events carry no transport: a connection is DTLS (UDP) when a DTLS analyzer event or a DTLS
//!   record version (0xfeXX) shows up on it, else TLS (TCP).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, EventFormat, Outputs, RunOptions};

use crate::conformance::corpus::{parse_events, Event};
use crate::conformance::deviations::glob;
use crate::conformance::value::zeek_unescape;
use crate::tshark::{
    Alert, ClientHello, ConnKey, Connection, Direction, Dissection, Protocol, ServerHello,
    Transport, HRR_RANDOM,
};

/// Seed of our runs (uids are not compared, but runs must be reproducible).
const SEED: u64 = 1;

/// What one side has announced since its last hello: the extension events of the next hello.
#[derive(Default)]
struct PendingExtensions {
    types: Vec<u16>,
    server_names: Vec<String>,
    alpn: Vec<String>,
    supported_versions: Vec<u16>,
    groups: Vec<u16>,
    key_share_groups: Vec<u16>,
    signature_algorithms: Vec<u16>,
    signature_algorithms_cert: Vec<u16>,
    point_formats: Vec<u8>,
}

/// Per connection: what is built, and the state the events imply.
#[derive(Default)]
struct Builder {
    conn: Connection,
    flipped: bool,
    dtls: bool,
    /// A QUIC connection: left out, `tshark_quic` compares those (this differential dissects
    /// TLS over TCP and DTLS).
    quic: bool,
    /// Pending extensions of the client (index 0) and server (index 1) side.
    pending: [PendingExtensions; 2],
}

/// Runs our analyzer on `capture` and builds its dissection; see the module docs.
pub fn ours(capture: &Path) -> Result<Dissection, String> {
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(SEED);
    opts.ssl.disable_analyzer_after_detection = false;
    let mut out = Vec::new();
    let outputs = Outputs {
        events: Some((EventFormat::Json, &mut out)),
        log: None,
    };
    let input = [Input::Path(capture.to_path_buf())];
    let mut notes = Vec::new();
    if let Err(e) = run(&input, &opts, outputs) {
        // A truncated capture still yields what precedes the cut, as with tshark.
        notes.push(e.to_string());
    }
    let text = String::from_utf8(out).map_err(|e| format!("events are not UTF-8: {e}"))?;
    let events = parse_events(&text, "our events")?;
    let mut d = from_events(&events);
    d.notes = notes;
    Ok(d)
}

/// Builds a dissection from an event stream (ours, parsed); connections in order of their first
/// event.
pub fn from_events(events: &[Event]) -> Dissection {
    let mut order: Vec<String> = Vec::new();
    let mut builders: HashMap<String, Builder> = HashMap::new();
    for e in events {
        let key = e.conn.to_string();
        let b = builders.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Builder {
                conn: Connection {
                    id: ConnKey {
                        transport: Transport::Tcp,
                        orig_h: e.conn.orig_h.clone(),
                        orig_p: e
                            .conn
                            .orig_p
                            .and_then(|p| u16::try_from(p).ok())
                            .unwrap_or(0),
                        resp_h: e.conn.resp_h.clone(),
                        resp_p: e
                            .conn
                            .resp_p
                            .and_then(|p| u16::try_from(p).ok())
                            .unwrap_or(0),
                    },
                    ..Connection::default()
                },
                ..Builder::default()
            }
        });
        b.event(e);
    }
    let connections = order
        .into_iter()
        .filter_map(|k| builders.remove(&k))
        .filter(|b| !b.quic)
        .map(Builder::finish)
        .collect();
    Dissection {
        connections,
        notes: Vec::new(),
    }
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn counts<T: TryFrom<u64>>(v: &Value) -> Vec<T> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .filter_map(|x| T::try_from(x).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| String::from_utf8_lossy(&zeek_unescape(s)).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A `signature_and_hashalgorithm_vec` as 16-bit code points (`HashAlgorithm << 8 |
/// SignatureAlgorithm`).
fn sig_algs(v: &Value) -> Vec<u16> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    let h = count(&x["HashAlgorithm"]);
                    let s = count(&x["SignatureAlgorithm"]);
                    u16::try_from(h << 8 | s).unwrap_or(u16::MAX)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_dtls_version(v: u64) -> bool {
    v >> 8 == 0xfe
}

impl Builder {
    fn event(&mut self, e: &Event) {
        let arg = |k: &str| e.args.get(k).unwrap_or(&Value::Null);
        let is_client = arg("is_client").as_bool().unwrap_or(false);
        // Hello events have no `is_client`: the client hello is the client's, the server's is
        // the server's.
        let side = usize::from(!is_client);
        if let Some(atype) = arg("atype").as_str() {
            self.dtls |= atype.ends_with("DTLS");
        }
        self.quic |= e.name.starts_with("QUIC::");
        if is_dtls_version(count(arg("record_version"))) {
            self.dtls = true;
        }
        match e.name.as_str() {
            "ssl_connection_flipped" => self.flipped = !self.flipped,
            "ssl_extension" => self.pending[side]
                .types
                .push(u16::try_from(count(arg("code"))).unwrap_or(u16::MAX)),
            "ssl_extension_server_name" => {
                self.pending[side].server_names.extend(texts(arg("names")))
            }
            "ssl_extension_application_layer_protocol_negotiation" => {
                self.pending[side].alpn.extend(texts(arg("protocols")))
            }
            "ssl_extension_supported_versions" => self.pending[side]
                .supported_versions
                .extend(counts::<u16>(arg("versions"))),
            "ssl_extension_elliptic_curves" => self.pending[side]
                .groups
                .extend(counts::<u16>(arg("curves"))),
            "ssl_extension_key_share" => self.pending[side]
                .key_share_groups
                .extend(counts::<u16>(arg("curves"))),
            "ssl_extension_signature_algorithm" => self.pending[side]
                .signature_algorithms
                .extend(sig_algs(arg("signature_algorithms"))),
            // Zeek passes these as plain 16-bit schemes, not as pairs.
            "ssl_extension_signature_algorithms_cert" => self.pending[side]
                .signature_algorithms_cert
                .extend(counts::<u16>(arg("signature_schemes"))),
            "ssl_extension_ec_point_formats" => self.pending[side]
                .point_formats
                .extend(counts::<u8>(arg("point_formats"))),
            "ssl_client_hello" => {
                let p = std::mem::take(&mut self.pending[0]);
                self.conn.client_hellos.push(ClientHello {
                    // The client's packets come from the originator unless flipped.
                    is_orig: !self.flipped,
                    record_version: u16::try_from(count(arg("record_version"))).unwrap_or(0),
                    version: u16::try_from(count(arg("version"))).unwrap_or(0),
                    cipher_suites: counts(arg("ciphers")),
                    compression_methods: counts(arg("comp_methods")),
                    extensions: p.types,
                    server_names: p.server_names,
                    alpn_protocols: p.alpn,
                    supported_versions: p.supported_versions,
                    supported_groups: p.groups,
                    key_share_groups: p.key_share_groups,
                    signature_algorithms: p.signature_algorithms,
                    signature_algorithms_cert: p.signature_algorithms_cert,
                    ec_point_formats: p.point_formats,
                });
            }
            "ssl_server_hello" => {
                let p = std::mem::take(&mut self.pending[1]);
                let random = arg("server_random")
                    .as_str()
                    .map(zeek_unescape)
                    .unwrap_or_default();
                self.conn.server_hellos.push(ServerHello {
                    is_orig: self.flipped,
                    record_version: u16::try_from(count(arg("record_version"))).unwrap_or(0),
                    version: u16::try_from(count(arg("version"))).unwrap_or(0),
                    cipher_suite: u32::try_from(count(arg("cipher"))).unwrap_or(u32::MAX),
                    compression_method: u8::try_from(count(arg("comp_method"))).unwrap_or(0),
                    selected_version: p.supported_versions.first().copied(),
                    extensions: p.types,
                    alpn_protocols: p.alpn,
                    key_share_group: p.key_share_groups.first().copied(),
                    hello_retry_request: random == HRR_RANDOM,
                });
            }
            "ssl_handshake_message" => {
                let ty = u8::try_from(count(arg("msg_type"))).unwrap_or(u8::MAX);
                self.direction(is_client).handshake_types.push(ty);
                // Extension events belong to the hello they precede (which took them); those of
                // any other message do not carry over to the next hello.
                self.pending[side] = PendingExtensions::default();
            }
            "ssl_alert" => {
                let alert = Alert {
                    level: u8::try_from(count(arg("level"))).unwrap_or(u8::MAX),
                    description: u8::try_from(count(arg("desc"))).unwrap_or(u8::MAX),
                };
                self.direction(is_client).alerts.push(alert);
            }
            _ => {}
        }
    }

    /// The packet direction of a TLS role.
    fn direction(&mut self, is_client: bool) -> &mut Direction {
        if is_client != self.flipped {
            &mut self.conn.orig
        } else {
            &mut self.conn.resp
        }
    }

    fn finish(mut self) -> Connection {
        let (transport, protocol) = if self.dtls {
            (Transport::Udp, Protocol::Dtls)
        } else {
            (Transport::Tcp, Protocol::Tls)
        };
        self.conn.id.transport = transport;
        self.conn.protocol = Some(protocol);
        self.conn
    }
}

// ---------------------------------------------------------------------------------------------
// Comparison.
// ---------------------------------------------------------------------------------------------

/// One field where tshark and we disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The capture, as named in the deviations file (`captures/...` or `zeek/...`).
    pub capture: String,
    /// `tcp 1.2.3.4:5 > 6.7.8.9:10`.
    pub connection: String,
    /// The field path, e.g. `client_hellos[0].extensions`, `resp.alerts`, `connection`.
    pub field: String,
    /// tshark's value (JSON), or `<none>`.
    pub tshark: String,
    /// Our value (JSON), or `<none>`.
    pub ours: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{}] {}\n    tshark: {}\n    ours:   {}",
            self.capture, self.connection, self.field, self.tshark, self.ours
        )
    }
}

/// How a connection is named in differences.
pub fn connection_name(id: &ConnKey) -> String {
    let t = match id.transport {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    };
    format!(
        "{t} {}:{} > {}:{}",
        id.orig_h, id.orig_p, id.resp_h, id.resp_p
    )
}

/// Whether a connection shows anything of a handshake: a hello, a handshake message or an alert.
fn has_content(c: &Connection) -> bool {
    !c.client_hellos.is_empty()
        || !c.server_hellos.is_empty()
        || !c.orig.handshake_types.is_empty()
        || !c.resp.handshake_types.is_empty()
        || !c.orig.alerts.is_empty()
        || !c.resp.alerts.is_empty()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("<{e}>"))
}

/// How much a comparison looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compared {
    /// Connections with a handshake on at least one side.
    pub connections: usize,
    /// Hellos (client and server) present on both sides and compared field by field.
    pub hellos: usize,
}

/// Compares tshark's dissection of `capture` with ours. Connections where neither side saw a
/// handshake message or alert are not compared (tshark marks, e.g., plain HTTP on 443 as TLS
/// without dissecting a record).
pub fn compare(capture: &str, tshark: &Dissection, ours: &Dissection) -> Vec<Difference> {
    compare_counted(capture, tshark, ours).0
}

/// [`compare`], also saying how much was compared.
pub fn compare_counted(
    capture: &str,
    tshark: &Dissection,
    ours: &Dissection,
) -> (Vec<Difference>, Compared) {
    let mut n = Compared::default();
    for t in tshark.connections.iter().filter(|c| has_content(c)) {
        n.connections += 1;
        if let Some(o) = ours.connection(&t.id) {
            n.hellos += t.client_hellos.len().min(o.client_hellos.len());
            n.hellos += t.server_hellos.len().min(o.server_hellos.len());
        }
    }
    n.connections += ours
        .connections
        .iter()
        .filter(|o| has_content(o) && !tshark.connection(&o.id).is_some_and(has_content))
        .count();
    (differences(capture, tshark, ours), n)
}

fn differences(capture: &str, tshark: &Dissection, ours: &Dissection) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |c: &ConnKey, field: String, t: String, o: String| {
        out.push(Difference {
            capture: capture.to_owned(),
            connection: connection_name(c),
            field,
            tshark: t,
            ours: o,
        });
    };
    let none = || "<none>".to_owned();
    for t in tshark.connections.iter().filter(|c| has_content(c)) {
        match ours.connection(&t.id) {
            Some(o) => compare_connection(t, o, &mut push),
            None => push(&t.id, "connection".into(), summary(t), none()),
        }
    }
    for o in ours.connections.iter().filter(|c| has_content(c)) {
        let seen = tshark.connection(&o.id).is_some_and(has_content);
        if !seen {
            push(&o.id, "connection".into(), none(), summary(o));
        }
    }
    out
}

/// A one-line description of a connection for a missing-connection difference.
fn summary(c: &Connection) -> String {
    format!(
        "{:?}, {} client hellos, {} server hellos, orig {:?}, resp {:?}",
        c.protocol,
        c.client_hellos.len(),
        c.server_hellos.len(),
        c.orig.handshake_types,
        c.resp.handshake_types
    )
}

fn compare_connection(
    t: &Connection,
    o: &Connection,
    push: &mut impl FnMut(&ConnKey, String, String, String),
) {
    let id = &t.id;
    if t.protocol != o.protocol {
        push(id, "protocol".into(), json(&t.protocol), json(&o.protocol));
    }
    if t.client_hellos.len() != o.client_hellos.len() {
        push(
            id,
            "client_hellos.len".into(),
            t.client_hellos.len().to_string(),
            o.client_hellos.len().to_string(),
        );
    }
    for (i, (a, b)) in t.client_hellos.iter().zip(&o.client_hellos).enumerate() {
        fields(id, &format!("client_hellos[{i}]"), a, b, push);
    }
    if t.server_hellos.len() != o.server_hellos.len() {
        push(
            id,
            "server_hellos.len".into(),
            t.server_hellos.len().to_string(),
            o.server_hellos.len().to_string(),
        );
    }
    for (i, (a, b)) in t.server_hellos.iter().zip(&o.server_hellos).enumerate() {
        fields(id, &format!("server_hellos[{i}]"), a, b, push);
    }
    for (name, a, b) in [("orig", &t.orig, &o.orig), ("resp", &t.resp, &o.resp)] {
        if a.handshake_types != b.handshake_types {
            push(
                id,
                format!("{name}.handshake_types"),
                json(&a.handshake_types),
                json(&b.handshake_types),
            );
        }
        if a.alerts != b.alerts {
            push(
                id,
                format!("{name}.alerts"),
                json(&a.alerts),
                json(&b.alerts),
            );
        }
    }
}

/// Compares two serializable structs field by field (through their JSON objects).
fn fields<T: serde::Serialize>(
    id: &ConnKey,
    prefix: &str,
    a: &T,
    b: &T,
    push: &mut impl FnMut(&ConnKey, String, String, String),
) {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return;
    };
    for (k, av) in &a {
        let bv = b.get(k).unwrap_or(&Value::Null);
        if av != bv {
            push(id, format!("{prefix}.{k}"), av.to_string(), bv.to_string());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Deviations.
// ---------------------------------------------------------------------------------------------

/// One accepted kind of difference.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// Capture name (glob): `captures/<file>` or `zeek/<path>`.
    pub capture: String,
    /// Connection (glob), as [`connection_name`] prints it.
    pub connection: Option<String>,
    /// Field path (glob), e.g. `client_hellos[*].cipher_suites`.
    pub field: Option<String>,
    /// Why the difference is expected.
    pub reason: String,
}

/// The tshark deviations file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Deviations {
    /// Accepted differences.
    #[serde(default)]
    pub deviation: Vec<Deviation>,
}

/// Where the tshark deviations file lives.
pub fn deviations_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/tshark-deviations.toml")
}

impl Deviations {
    /// Reads and checks the file.
    pub fn load(path: &Path) -> Result<Deviations, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let d: Deviations =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for (i, e) in d.deviation.iter().enumerate() {
            if e.capture.trim().is_empty() || e.reason.trim().is_empty() {
                return Err(format!(
                    "{}: entry {i}: capture and reason must not be empty",
                    path.display()
                ));
            }
        }
        Ok(d)
    }

    /// The index of the first entry that covers `d`.
    pub fn covering(&self, d: &Difference) -> Option<usize> {
        self.deviation.iter().position(|e| {
            glob(&e.capture, &d.capture)
                && optional_glob(e.connection.as_deref(), &d.connection)
                && optional_glob(e.field.as_deref(), &d.field)
        })
    }
}

/// An absent selector matches everything.
fn optional_glob(pattern: Option<&str>, text: &str) -> bool {
    match pattern {
        None => true,
        Some(p) => glob(p, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(lines: &[&str]) -> Vec<Event> {
        let text: Vec<String> = lines
            .iter()
            .map(|l| {
                format!(
                    r#"{{"ts":1.0,"uid":"C1","id":{{"orig_h":"10.0.0.1","orig_p":1000,"resp_h":"10.0.0.2","resp_p":443}},{l}}}"#
                )
            })
            .collect();
        parse_events(&text.join("\n"), "test").unwrap()
    }

    #[test]
    fn hellos_take_the_extension_events_before_them() {
        let d = from_events(&events(&[
            r#""event":"ssl_extension_server_name","args":{"is_client":true,"names":["a.example"]}"#,
            r#""event":"ssl_extension","args":{"is_client":true,"code":0,"val":""}"#,
            r#""event":"ssl_extension_signature_algorithm","args":{"is_client":true,"signature_algorithms":[{"HashAlgorithm":4,"SignatureAlgorithm":3},{"HashAlgorithm":8,"SignatureAlgorithm":4}]}"#,
            r#""event":"ssl_extension","args":{"is_client":true,"code":13,"val":""}"#,
            r#""event":"ssl_extension_signature_algorithms_cert","args":{"is_client":true,"signature_schemes":[1281]}"#,
            r#""event":"ssl_extension","args":{"is_client":true,"code":50,"val":""}"#,
            r#""event":"ssl_client_hello","args":{"version":771,"record_version":769,"ciphers":[4865,49195],"comp_methods":[0]}"#,
            r#""event":"ssl_handshake_message","args":{"is_client":true,"msg_type":1,"length":100}"#,
            r#""event":"ssl_extension_supported_versions","args":{"is_client":false,"versions":[772]}"#,
            r#""event":"ssl_extension","args":{"is_client":false,"code":43,"val":""}"#,
            r#""event":"ssl_server_hello","args":{"version":771,"record_version":771,"server_random":"x","cipher":4865,"comp_method":0}"#,
            r#""event":"ssl_handshake_message","args":{"is_client":false,"msg_type":2,"length":90}"#,
            r#""event":"ssl_alert","args":{"is_client":false,"level":2,"desc":40}"#,
        ]));
        assert_eq!(d.connections.len(), 1);
        let c = &d.connections[0];
        assert_eq!(c.id.transport, Transport::Tcp);
        assert_eq!(c.protocol, Some(Protocol::Tls));
        let ch = &c.client_hellos[0];
        assert!(ch.is_orig);
        assert_eq!(
            (ch.version, ch.record_version, ch.cipher_suites.as_slice()),
            (0x0303, 0x0301, [0x1301, 0xc02b].as_slice())
        );
        assert_eq!(ch.extensions, [0, 13, 50]);
        assert_eq!(ch.server_names, ["a.example"]);
        assert_eq!(ch.signature_algorithms, [0x0403, 0x0804]);
        assert_eq!(ch.signature_algorithms_cert, [0x0501]);
        let sh = &c.server_hellos[0];
        assert!(!sh.is_orig);
        assert_eq!(
            (sh.selected_version, sh.extensions.as_slice()),
            (Some(0x0304), [43].as_slice())
        );
        assert!(!sh.hello_retry_request);
        assert_eq!(c.orig.handshake_types, [1]);
        assert_eq!(c.resp.handshake_types, [2]);
        assert_eq!(
            c.resp.alerts,
            [Alert {
                level: 2,
                description: 40
            }]
        );
    }

    #[test]
    fn flipped_connections_and_dtls() {
        let d = from_events(&events(&[
            r#""event":"ssl_connection_flipped","args":{}"#,
            r#""event":"ssl_client_hello","args":{"version":65277,"record_version":65279,"ciphers":[],"comp_methods":[]}"#,
            r#""event":"ssl_handshake_message","args":{"is_client":true,"msg_type":1,"length":100}"#,
            r#""event":"ssl_alert","args":{"is_client":false,"level":1,"desc":0}"#,
        ]));
        let c = &d.connections[0];
        assert_eq!(c.id.transport, Transport::Udp);
        assert_eq!(c.protocol, Some(Protocol::Dtls));
        // The client is the responder: its hello and messages are the responder's packets.
        assert!(!c.client_hellos[0].is_orig);
        assert_eq!(c.resp.handshake_types, [1]);
        assert!(c.orig.handshake_types.is_empty());
        assert_eq!(c.orig.alerts.len(), 1);
    }

    #[test]
    fn differences_and_their_cover() {
        let ours = from_events(&events(&[
            r#""event":"ssl_client_hello","args":{"version":771,"record_version":769,"ciphers":[1],"comp_methods":[0]}"#,
            r#""event":"ssl_handshake_message","args":{"is_client":true,"msg_type":1,"length":10}"#,
        ]));
        let mut theirs = ours.clone();
        assert_eq!(compare_counted("c", &theirs, &ours).1.hellos, 1);
        assert!(compare("c", &theirs, &ours).is_empty());
        theirs.connections[0].client_hellos[0].cipher_suites = vec![2];
        theirs.connections[0].resp.handshake_types = vec![2];
        let diffs = compare("captures/x.pcap", &theirs, &ours);
        let fields: Vec<&str> = diffs.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            ["client_hellos[0].cipher_suites", "resp.handshake_types"]
        );
        assert_eq!(diffs[0].connection, "tcp 10.0.0.1:1000 > 10.0.0.2:443");
        assert_eq!(
            (diffs[0].tshark.as_str(), diffs[0].ours.as_str()),
            ("[2]", "[1]")
        );
        // A connection only one side has.
        let none = Dissection::default();
        let only_ours = compare("c", &none, &ours);
        assert_eq!(only_ours.len(), 1);
        assert_eq!(only_ours[0].field, "connection");
        assert_eq!(only_ours[0].tshark, "<none>");

        let devs: Deviations = toml::from_str(
            r#"
            [[deviation]]
            capture = "captures/*"
            field = "client_hellos[*].cipher_suites"
            reason = "test"
            "#,
        )
        .unwrap();
        assert_eq!(devs.covering(&diffs[0]), Some(0));
        assert_eq!(devs.covering(&diffs[1]), None);
    }
}
