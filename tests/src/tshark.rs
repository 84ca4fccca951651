//! tshark's side of the differential test: what Wireshark's dissectors see in a capture.
//!
//! In: a capture file. Out: a [`Dissection`], one [`Connection`] per TCP/UDP 4-tuple with the
//! plaintext handshake fields that both tshark and our analyzer can observe: client and server
//! hellos (versions, cipher suites, extension types in wire order, SNI, ALPN, supported
//! versions and groups, key-share groups, signature algorithms and signature_algorithms_cert,
//! EC point formats), the sequence of plaintext handshake message types per direction, and
//! plaintext alerts per direction.
//!
//! The structs are plain data with `serde` derives and no tshark-specific types, so that the
//! analyzer's side of the comparison can fill the same structs from its events and the two can be
//! compared with `==` or serialized side by side.
//!
//! tshark is run as `tshark -n -r FILE -T json -J "ip ipv6 tcp udp tls dtls"` with TCP and TLS
//! reassembly on. Its JSON repeats keys inside one object (one `tls.record` key per record, for
//! instance) and the order of keys is meaningful (extension order), so the JSON is read into an
//! ordered tree ([`Node`]) rather than into `serde_json::Value`, which would drop both.
//!
//! When tshark is not installed, [`dissect`] returns [`TsharkError::NotInstalled`]; callers report
//! that loudly with [`skip_or_fail`] and skip — unless `PAC_REQUIRE_TOOLS` names tshark (or
//! `PAC_REQUIRE_TSHARK=1`; `.ci/run` sets the first), in which case a missing tshark is a test
//! failure. The tests that need tshark are `#[ignore]`d when the build script found none.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::process::Command;

/// The environment variable that names the tshark binary (default: `tshark` on `PATH`).
pub const TSHARK_ENV: &str = "TSHARK";

/// When this environment variable is `1`, a missing tshark fails the caller instead of skipping
/// (as `PAC_REQUIRE_TOOLS=tshark` does).
pub const REQUIRE_ENV: &str = "PAC_REQUIRE_TSHARK";

/// The TLS `HelloRetryRequest.random` value (RFC 8446 §4.1.3): a ServerHello with this random is
/// a HelloRetryRequest.
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Why there is no dissection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsharkError {
    /// tshark is not on `PATH` (or where `$TSHARK` points).
    NotInstalled,
    /// tshark ran and failed (for instance: not a capture file).
    Failed { status: Option<i32>, stderr: String },
    /// tshark's output could not be read as its JSON format.
    BadOutput(String),
}

impl fmt::Display for TsharkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TsharkError::NotInstalled => write!(
                f,
                "tshark not installed (install the `tshark` package, or set ${TSHARK_ENV})"
            ),
            TsharkError::Failed { status, stderr } => {
                write!(
                    f,
                    "tshark failed (exit status {status:?}): {}",
                    stderr.trim()
                )
            }
            TsharkError::BadOutput(m) => write!(f, "tshark output not understood: {m}"),
        }
    }
}

impl std::error::Error for TsharkError {}

/// TCP or UDP.
#[derive(Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Tcp,
    Udp,
}

/// The protocol tshark recognized on a connection.
#[derive(Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tls,
    Dtls,
}

/// A connection's 4-tuple (plus transport), oriented the way Zeek orients it: `orig` sent the
/// SYN, or, without a SYN in the capture, the first packet.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ConnKey {
    pub transport: Transport,
    pub orig_h: String,
    pub orig_p: u16,
    pub resp_h: String,
    pub resp_p: u16,
}

/// The fields of one ClientHello.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    /// True when the connection's originator sent it (false on a flipped connection).
    pub is_orig: bool,
    /// The version of the record that carried it (e.g. 0x0301), or for DTLS 0xfeff...
    pub record_version: u16,
    /// `legacy_version` / `client_version`.
    pub version: u16,
    /// 16-bit TLS suites; 24-bit cipher kinds in an SSLv2 CLIENT-HELLO.
    pub cipher_suites: Vec<u32>,
    pub compression_methods: Vec<u8>,
    /// Extension types in wire order (GREASE values included).
    pub extensions: Vec<u16>,
    pub server_names: Vec<String>,
    pub alpn_protocols: Vec<String>,
    pub supported_versions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub key_share_groups: Vec<u16>,
    pub signature_algorithms: Vec<u16>,
    /// `signature_algorithms_cert` (extension 50), same encoding as `signature_algorithms`.
    pub signature_algorithms_cert: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
}

/// The fields of one ServerHello (or HelloRetryRequest).
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerHello {
    /// True when the connection's originator sent it (true only on a flipped connection).
    pub is_orig: bool,
    pub record_version: u16,
    /// `legacy_version` / `server_version`.
    pub version: u16,
    /// The chosen suite; for an SSLv2 SERVER-HELLO, the first cipher kind it lists.
    pub cipher_suite: u32,
    pub compression_method: u8,
    /// The `supported_versions` extension's selected version, if present.
    pub selected_version: Option<u16>,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// ALPN protocol(s) the server selected (in the clear only up to TLS 1.2).
    pub alpn_protocols: Vec<String>,
    /// The key share's group (ServerHello) or the selected group (HelloRetryRequest).
    pub key_share_group: Option<u16>,
    /// True when the random is the HelloRetryRequest magic value.
    pub hello_retry_request: bool,
}

/// One plaintext alert.
#[derive(Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Alert {
    pub level: u8,
    pub description: u8,
}

/// What one direction sent in the clear.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Direction {
    /// Plaintext handshake message types in order (1 = client_hello, 2 = server_hello, ...).
    /// DTLS messages count once, when complete; retransmissions are not repeated. SSLv2
    /// messages are not listed: their type numbers are not TLS handshake types (their hellos
    /// are in the connection's hellos).
    pub handshake_types: Vec<u8>,
    /// Plaintext alerts in order (encrypted alerts are not visible).
    pub alerts: Vec<Alert>,
}

/// Everything extracted for one connection.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Connection {
    pub id: ConnKey,
    /// `Some` when any TLS/DTLS record was dissected on the connection.
    pub protocol: Option<Protocol>,
    pub client_hellos: Vec<ClientHello>,
    pub server_hellos: Vec<ServerHello>,
    pub orig: Direction,
    pub resp: Direction,
}

/// The result for one capture: connections in order of their first packet.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Dissection {
    pub connections: Vec<Connection>,
    /// What the dissector said besides its output (e.g. tshark on a capture cut short in the
    /// middle of a packet); not part of what is compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Dissection {
    /// The connections on which tshark recognized TLS or DTLS.
    pub fn tls_connections(&self) -> impl Iterator<Item = &Connection> {
        self.connections.iter().filter(|c| c.protocol.is_some())
    }

    /// The connection with this key, if any.
    pub fn connection(&self, id: &ConnKey) -> Option<&Connection> {
        self.connections.iter().find(|c| &c.id == id)
    }
}

/// Extra tshark options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-d` arguments, e.g. `udp.port==4433,dtls` for DTLS that tshark's heuristics miss.
    pub decode_as: Vec<String>,
}

fn tshark_program() -> String {
    std::env::var(TSHARK_ENV).unwrap_or_else(|_| "tshark".to_string())
}

/// tshark's version line (`TShark (Wireshark) 4.0.17 ...`), or `NotInstalled`.
pub fn version() -> Result<String, TsharkError> {
    let out = match Command::new(tshark_program()).arg("--version").output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TsharkError::NotInstalled)
        }
        Err(e) => {
            return Err(TsharkError::Failed {
                status: None,
                stderr: e.to_string(),
            })
        }
    };
    if !out.status.success() {
        return Err(TsharkError::Failed {
            status: out.status.code(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// For a caller that got `err`: when tshark is merely absent and not required
/// (`PAC_REQUIRE_TOOLS` naming `tshark`, or `PAC_REQUIRE_TSHARK=1`), prints a loud SKIPPED banner
/// naming `what` and returns (see [`crate::require`]); otherwise panics with the error (a test
/// failure).
pub fn skip_or_fail(what: &str, err: &TsharkError) {
    if *err == TsharkError::NotInstalled && !crate::require::required("tshark") {
        crate::require::skip_or_fail("tshark", what);
        return;
    }
    panic!("{what}: {err}");
}

/// Dissects `path` with default options.
pub fn dissect(path: &Path) -> Result<Dissection, TsharkError> {
    dissect_with(path, &Options::default())
}

/// Dissects `path` with tshark and extracts the per-connection summary.
pub fn dissect_with(path: &Path, options: &Options) -> Result<Dissection, TsharkError> {
    let mut cmd = Command::new(tshark_program());
    cmd.arg("-n")
        .arg("-r")
        .arg(path)
        .args(["-o", "tls.desegment_ssl_records:TRUE"])
        .args(["-o", "tcp.desegment_tcp_streams:TRUE"])
        .args(["-o", "tcp.reassemble_out_of_order:TRUE"])
        .args(["-T", "json", "-J", "ip ipv6 tcp udp tls dtls"]);
    for d in &options.decode_as {
        cmd.arg("-d").arg(d);
    }
    let out = output(&mut cmd)?;
    if !out.status.success() {
        // On a truncated capture tshark exits with status 2 after printing everything before
        // the cut, as complete JSON; keep that, like our analyzer keeps what precedes a cut.
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        return match parse_json(&out.stdout) {
            Ok(mut d) if !out.stdout.is_empty() => {
                d.notes.extend(
                    stderr
                        .lines()
                        .filter(|l| l.starts_with("tshark:"))
                        .map(str::to_string),
                );
                Ok(d)
            }
            _ => Err(TsharkError::Failed {
                status: out.status.code(),
                stderr,
            }),
        };
    }
    parse_json(&out.stdout)
}

/// Runs a tshark command to its end: a missing binary is [`TsharkError::NotInstalled`], any other
/// failure to start it [`TsharkError::Failed`]; the exit status is the caller's to judge.
pub fn output(cmd: &mut std::process::Command) -> Result<std::process::Output, TsharkError> {
    cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => TsharkError::NotInstalled,
        _ => TsharkError::Failed {
            status: None,
            stderr: e.to_string(),
        },
    })
}

/// Extracts the summary from the output of `tshark -T json -J "ip ipv6 tcp udp tls dtls"`.
pub fn parse_json(json: &[u8]) -> Result<Dissection, TsharkError> {
    let root: Node =
        serde_json::from_slice(json).map_err(|e| TsharkError::BadOutput(e.to_string()))?;
    let packets = match root {
        Node::Arr(p) => p,
        _ => return Err(TsharkError::BadOutput("top level is not an array".into())),
    };
    let mut b = Builder::default();
    for (i, p) in packets.iter().enumerate() {
        let layers = p
            .get("_source")
            .and_then(|s| s.get("layers"))
            .ok_or_else(|| TsharkError::BadOutput(format!("packet {} has no layers", i + 1)))?;
        b.packet(layers);
    }
    Ok(Dissection {
        connections: b.connections,
        notes: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// The ordered JSON tree.
// ---------------------------------------------------------------------------------------------

/// A JSON value that keeps object keys in order, duplicates included.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

impl Node {
    /// The first value under `key` (objects only).
    pub fn get(&self, key: &str) -> Option<&Node> {
        entries(self).find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Every value under `key`, in order (objects only).
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        let entries: &[(String, Node)] = match self {
            Node::Obj(e) => e,
            _ => &[],
        };
        entries
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Every string value under `key` anywhere below this node, in document order; array
    /// values (tshark's `--no-duplicate-keys` style) are flattened.
    pub fn find_strings<'a>(&'a self, key: &str, out: &mut Vec<&'a str>) {
        match self {
            Node::Obj(entries) => {
                for (k, v) in entries {
                    if k == key {
                        push_strings(v, out);
                    } else {
                        v.find_strings(key, out);
                    }
                }
            }
            Node::Arr(items) => {
                for v in items {
                    v.find_strings(key, out);
                }
            }
            _ => {}
        }
    }
}

fn push_strings<'a>(v: &'a Node, out: &mut Vec<&'a str>) {
    match v {
        Node::Str(s) => out.push(s),
        Node::Arr(items) => items.iter().for_each(|i| push_strings(i, out)),
        _ => {}
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Num(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Num(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = a.next_element()? {
                    items.push(v);
                }
                Ok(Node::Arr(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, Node>()? {
                    entries.push((k, v));
                }
                Ok(Node::Obj(entries))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Extraction.
// ---------------------------------------------------------------------------------------------

/// Parses tshark's rendering of an integer field: `0x0303` (hex) or `29` (decimal).
fn num(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn field_num(n: &Node, key: &str) -> Option<u64> {
    n.get(key).and_then(Node::as_str).and_then(num)
}

fn nums<T: TryFrom<u64>>(n: &Node, key: &str) -> Vec<T> {
    let mut v = Vec::new();
    n.find_strings(key, &mut v);
    v.into_iter()
        .filter_map(num)
        .filter_map(|x| T::try_from(x).ok())
        .collect()
}

fn strings(n: &Node, key: &str) -> Vec<String> {
    let mut v = Vec::new();
    n.find_strings(key, &mut v);
    v.into_iter().map(str::to_string).collect()
}

/// Parses tshark's colon-separated hex bytes.
fn hex_bytes(s: &str) -> Vec<u8> {
    s.split(':')
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect()
}

/// One end of a connection: address and port.
type Endpoint = (String, u16);

#[derive(Default)]
struct Builder {
    connections: Vec<Connection>,
    /// (transport, endpoint a, endpoint b) with a < b -> index in `connections`.
    index: HashMap<(Transport, Endpoint, Endpoint), usize>,
    /// DTLS messages already counted: (connection, is_orig, epoch, message_seq).
    dtls_seen: HashSet<(usize, bool, u64, u64)>,
}

impl Builder {
    fn packet(&mut self, layers: &Node) {
        // The innermost IP header and transport header of the packet.
        let mut addrs = None;
        for (k, v) in entries(layers) {
            let (src, dst) = match k.as_str() {
                "ip" => ("ip.src", "ip.dst"),
                "ipv6" => ("ipv6.src", "ipv6.dst"),
                _ => continue,
            };
            if let (Some(s), Some(d)) = (
                v.get(src).and_then(Node::as_str),
                v.get(dst).and_then(Node::as_str),
            ) {
                addrs = Some((s.to_string(), d.to_string()));
            }
        }
        let Some((src_h, dst_h)) = addrs else { return };
        let (transport, l4) = if let Some(t) = layers.all("tcp").last() {
            (Transport::Tcp, t)
        } else if let Some(u) = layers.all("udp").last() {
            (Transport::Udp, u)
        } else {
            return;
        };
        let p = match transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        };
        let (Some(sp), Some(dp)) = (
            field_num(l4, &format!("{p}.srcport")),
            field_num(l4, &format!("{p}.dstport")),
        ) else {
            return;
        };
        let (sp, dp) = (sp as u16, dp as u16);
        // TCP flags: SYN = 0x02, ACK = 0x10.
        let flags = field_num(l4, "tcp.flags").unwrap_or(0);
        let src = (src_h, sp);
        let dst = (dst_h, dp);
        let key = if src <= dst {
            (transport, src.clone(), dst.clone())
        } else {
            (transport, dst.clone(), src.clone())
        };
        let ci = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                // Zeek's orientation: the SYN's sender, the SYN-ACK's receiver, or else the
                // sender of the first packet.
                let syn_ack = transport == Transport::Tcp && flags & 0x12 == 0x12;
                let (o, r) = if syn_ack {
                    (dst.clone(), src.clone())
                } else {
                    (src.clone(), dst.clone())
                };
                self.connections.push(Connection {
                    id: ConnKey {
                        transport,
                        orig_h: o.0,
                        orig_p: o.1,
                        resp_h: r.0,
                        resp_p: r.1,
                    },
                    ..Connection::default()
                });
                self.index.insert(key, self.connections.len() - 1);
                self.connections.len() - 1
            }
        };
        let is_orig = {
            let id = &self.connections[ci].id;
            id.orig_h == src.0 && id.orig_p == src.1
        };
        for (k, v) in entries(layers) {
            let (prefix, proto) = match k.as_str() {
                "tls" => ("tls", Protocol::Tls),
                "dtls" => ("dtls", Protocol::Dtls),
                _ => continue,
            };
            // A layer that holds only a reassembly note is a string, not an object.
            if !matches!(v, Node::Obj(_)) {
                continue;
            }
            self.connections[ci].protocol.get_or_insert(proto);
            let record_key = format!("{prefix}.record");
            for record in v.all(&record_key) {
                self.record(ci, is_orig, prefix, record);
            }
        }
    }

    fn record(&mut self, ci: usize, is_orig: bool, p: &str, record: &Node) {
        let record_version = field_num(record, &format!("{p}.record.version")).unwrap_or(0) as u16;
        // An SSLv2 record: tshark puts the message's fields into the record itself.
        if let Some(ty) = field_num(record, &format!("{p}.handshake.type")) {
            let conn = &mut self.connections[ci];
            match ty {
                SSLV2_CLIENT_HELLO => {
                    conn.client_hellos
                        .push(sslv2_client_hello(p, record, is_orig, record_version))
                }
                SSLV2_SERVER_HELLO => {
                    conn.server_hellos
                        .push(sslv2_server_hello(p, record, is_orig, record_version))
                }
                _ => {}
            }
            return;
        }
        let epoch = field_num(record, &format!("{p}.record.epoch")).unwrap_or(0);
        let hs_key = format!("{p}.handshake");
        for hs in record.all(&hs_key) {
            // Encrypted handshake messages and fragments of a message completed later are
            // rendered as strings, not objects.
            let Some(ty) = field_num(hs, &format!("{p}.handshake.type")) else {
                continue;
            };
            if p == "dtls" {
                // Count a DTLS message once, at its last fragment (where tshark has the
                // reassembled body), and skip retransmissions.
                let len = field_num(hs, "dtls.handshake.length").unwrap_or(0);
                let off = field_num(hs, "dtls.handshake.fragment_offset").unwrap_or(0);
                let flen = field_num(hs, "dtls.handshake.fragment_length").unwrap_or(len);
                if off + flen < len {
                    continue;
                }
                let seq = field_num(hs, "dtls.handshake.message_seq").unwrap_or(0);
                if !self.dtls_seen.insert((ci, is_orig, epoch, seq)) {
                    continue;
                }
            }
            let conn = &mut self.connections[ci];
            let dir = if is_orig {
                &mut conn.orig
            } else {
                &mut conn.resp
            };
            dir.handshake_types.push(ty as u8);
            match ty {
                1 => conn
                    .client_hellos
                    .push(client_hello(p, hs, is_orig, record_version)),
                2 => conn
                    .server_hellos
                    .push(server_hello(p, hs, is_orig, record_version)),
                _ => {}
            }
        }
        let alert_key = format!("{p}.alert_message");
        for alert in record.all(&alert_key) {
            // Encrypted alerts are rendered as strings.
            let (Some(level), Some(desc)) = (
                field_num(alert, &format!("{p}.alert_message.level")),
                field_num(alert, &format!("{p}.alert_message.desc")),
            ) else {
                continue;
            };
            let conn = &mut self.connections[ci];
            let dir = if is_orig {
                &mut conn.orig
            } else {
                &mut conn.resp
            };
            dir.alerts.push(Alert {
                level: level as u8,
                description: desc as u8,
            });
        }
    }
}

fn entries(n: &Node) -> impl Iterator<Item = &(String, Node)> {
    let e: &[(String, Node)] = match n {
        Node::Obj(e) => e,
        _ => &[],
    };
    e.iter()
}

/// The extensions of a hello: (type, subtree) in wire order. tshark renders each as a child
/// object (`"Extension: server_name (len=24)"`) holding `<p>.handshake.extension.type`.
fn extensions<'a>(p: &str, hs: &'a Node) -> Vec<(u16, &'a Node)> {
    let type_key = format!("{p}.handshake.extension.type");
    let mut out = Vec::new();
    for (_, v) in entries(hs) {
        let items: Vec<&Node> = match v {
            Node::Arr(items) => items.iter().collect(),
            other => vec![other],
        };
        for item in items {
            if let Some(t) = field_num(item, &type_key) {
                out.push((t as u16, item));
            }
        }
    }
    out
}

fn client_hello(p: &str, hs: &Node, is_orig: bool, record_version: u16) -> ClientHello {
    let h = format!("{p}.handshake");
    let mut ch = ClientHello {
        is_orig,
        record_version,
        version: field_num(hs, &format!("{h}.version")).unwrap_or(0) as u16,
        cipher_suites: hs
            .get(&format!("{h}.ciphersuites"))
            .map(|c| nums(c, &format!("{h}.ciphersuite")))
            .unwrap_or_default(),
        compression_methods: hs
            .get(&format!("{h}.comp_methods"))
            .map(|c| nums(c, &format!("{h}.comp_method")))
            .unwrap_or_default(),
        ..ClientHello::default()
    };
    for (t, ext) in extensions(p, hs) {
        ch.extensions.push(t);
        match t {
            0 => ch
                .server_names
                .extend(strings(ext, &format!("{h}.extensions_server_name"))),
            10 => ch
                .supported_groups
                .extend(nums::<u16>(ext, &format!("{h}.extensions_supported_group"))),
            11 => ch
                .ec_point_formats
                .extend(nums::<u8>(ext, &format!("{h}.extensions_ec_point_format"))),
            13 => ch
                .signature_algorithms
                .extend(nums::<u16>(ext, &format!("{h}.sig_hash_alg"))),
            16 => ch
                .alpn_protocols
                .extend(strings(ext, &format!("{h}.extensions_alpn_str"))),
            43 => ch.supported_versions.extend(nums::<u16>(
                ext,
                &format!("{h}.extensions.supported_version"),
            )),
            50 => ch
                .signature_algorithms_cert
                .extend(nums::<u16>(ext, &format!("{h}.sig_hash_alg"))),
            51 => ch
                .key_share_groups
                .extend(nums::<u16>(ext, &format!("{h}.extensions_key_share_group"))),
            _ => {}
        }
    }
    ch
}

/// SSLv2 message type CLIENT-HELLO.
const SSLV2_CLIENT_HELLO: u64 = 1;
/// SSLv2 message type SERVER-HELLO.
const SSLV2_SERVER_HELLO: u64 = 4;

/// The cipher kinds of an SSLv2 hello (24-bit `cipherspec` values).
fn cipher_specs(p: &str, msg: &Node) -> Vec<u32> {
    let h = format!("{p}.handshake");
    msg.get(&format!("{h}.ciphersuites"))
        .map(|c| nums(c, &format!("{h}.cipherspec")))
        .unwrap_or_default()
}

/// An SSLv2 CLIENT-HELLO (also the SSLv2-format hello of SSLv3/TLS clients): version and cipher
/// kinds; no compression, no extensions.
fn sslv2_client_hello(p: &str, msg: &Node, is_orig: bool, record_version: u16) -> ClientHello {
    ClientHello {
        is_orig,
        record_version,
        version: field_num(msg, &format!("{p}.handshake.version")).unwrap_or(0) as u16,
        cipher_suites: cipher_specs(p, msg),
        ..ClientHello::default()
    }
}

/// An SSLv2 SERVER-HELLO: version and the first cipher kind it lists.
fn sslv2_server_hello(p: &str, msg: &Node, is_orig: bool, record_version: u16) -> ServerHello {
    ServerHello {
        is_orig,
        record_version,
        version: field_num(msg, &format!("{p}.handshake.version")).unwrap_or(0) as u16,
        cipher_suite: cipher_specs(p, msg).first().copied().unwrap_or(0),
        ..ServerHello::default()
    }
}

fn server_hello(p: &str, hs: &Node, is_orig: bool, record_version: u16) -> ServerHello {
    let h = format!("{p}.handshake");
    let random = hs
        .get(&format!("{h}.random"))
        .and_then(Node::as_str)
        .map(hex_bytes)
        .unwrap_or_default();
    let mut sh = ServerHello {
        is_orig,
        record_version,
        version: field_num(hs, &format!("{h}.version")).unwrap_or(0) as u16,
        cipher_suite: field_num(hs, &format!("{h}.ciphersuite")).unwrap_or(0) as u32,
        compression_method: field_num(hs, &format!("{h}.comp_method")).unwrap_or(0) as u8,
        hello_retry_request: random == HRR_RANDOM,
        ..ServerHello::default()
    };
    for (t, ext) in extensions(p, hs) {
        sh.extensions.push(t);
        match t {
            16 => sh
                .alpn_protocols
                .extend(strings(ext, &format!("{h}.extensions_alpn_str"))),
            43 => {
                sh.selected_version = nums::<u16>(ext, &format!("{h}.extensions.supported_version"))
                    .first()
                    .copied()
            }
            51 => {
                sh.key_share_group = nums::<u16>(ext, &format!("{h}.extensions_key_share_group"))
                    .first()
                    .copied()
                    .or_else(|| {
                        nums::<u16>(ext, &format!("{h}.extensions_key_share_selected_group"))
                            .first()
                            .copied()
                    })
            }
            _ => {}
        }
    }
    sh
}
