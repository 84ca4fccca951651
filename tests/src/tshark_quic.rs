//! tshark as an oracle for QUIC: the facts of each QUIC connection that tshark sees after
//! decrypting the Initial packets itself (RFC 9001 §5.2; tshark knows the v1 and v2 salts and
//! the drafts), in the shape of Zeek's quic.log and of the ssl.log columns a QUIC handshake fills.
//!
//! In: a capture. Out: one [`QuicFacts`] per UDP 4-tuple on which tshark dissected QUIC, in the
//! order of the 4-tuple's first packet, oriented as Zeek orients UDP (the sender of the first
//! packet is the originator): the version of the client's first Initial, the DCID and SCID of
//! that Initial, the SCID of the server's first Initial, the SNI and first ALPN of the first
//! ClientHello, and the cipher and the negotiated TLS version of the first ServerHello.
//!
//! tshark is run as `tshark -n -r FILE -d udp.port==853,quic -T json -J "ip ipv6 udp quic"`: with `-J`, the TLS
//! handshake messages a CRYPTO frame carries appear below that frame (after tshark's own CRYPTO
//! reassembly, in the packet that completes a message), and each QUIC packet of a datagram is its
//! own `quic` key in packet order, so coalesced packets stay apart. The JSON is read into the
//! ordered tree of [`crate::tshark`] ([`Node`]), which keeps repeated keys.
//!
//! What tshark does not give is left `None`; the comparison test
//! (`tests/tests/tshark_quic.rs`) compares only what both sides have.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::tshark::{output, Node, TsharkError, TSHARK_ENV};

/// The client sent a TLS ClientHello (`tls.handshake.type`).
const CLIENT_HELLO: &str = "1";
/// The server sent a TLS ServerHello.
const SERVER_HELLO: &str = "2";

/// The CRYPTO frame's type (RFC 9000 §19.6), as tshark writes `quic.frame_type`.
const CRYPTO_FRAME: &str = "6";

/// RFC 9369 (QUIC v2).
pub const QUIC_V2: u32 = 0x6b33_43cf;

/// A long-header packet type, after undoing QUIC v2's reshuffled type bits (RFC 9369 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LongType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

impl LongType {
    /// The type of a long-header packet of `version` whose two type bits are `bits`.
    pub fn of(version: u32, bits: u64) -> Option<LongType> {
        let t = if version == QUIC_V2 {
            match bits {
                1 => LongType::Initial,
                2 => LongType::ZeroRtt,
                3 => LongType::Handshake,
                0 => LongType::Retry,
                _ => return None,
            }
        } else {
            match bits {
                0 => LongType::Initial,
                1 => LongType::ZeroRtt,
                2 => LongType::Handshake,
                3 => LongType::Retry,
                _ => return None,
            }
        };
        Some(t)
    }
}

/// What tshark saw of one QUIC connection (a UDP 4-tuple).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QuicFacts {
    /// Originator: the sender of the 4-tuple's first packet.
    pub orig_h: String,
    pub orig_p: u16,
    pub resp_h: String,
    pub resp_p: u16,
    /// The version of the client's first Initial packet.
    pub version: Option<u32>,
    /// The Destination Connection ID of the client's first Initial, lowercase hex.
    pub client_initial_dcid: Option<String>,
    /// The Source Connection ID of the client's first Initial, lowercase hex (`""` when empty).
    pub client_scid: Option<String>,
    /// The Source Connection ID of the server's first Initial, lowercase hex (`""` when empty).
    pub server_scid: Option<String>,
    /// The first server name of the first ClientHello.
    pub server_name: Option<String>,
    /// The first ALPN protocol of the first ClientHello.
    pub client_protocol: Option<String>,
    /// The cipher suite of the first ServerHello.
    pub cipher: Option<u16>,
    /// The TLS version the first ServerHello negotiates: its `supported_versions` if present,
    /// else its `legacy_version`.
    pub tls_version: Option<u16>,
    /// Initial packets (client, server).
    pub initials: (usize, usize),
    /// The client's Initial packets that carry a CRYPTO frame: 1 normally, 2 when the
    /// ClientHello spans two Initials or is sent again after a Retry.
    pub client_crypto_initials: usize,
    /// Retry packets.
    pub retries: usize,
}

/// Zeek's quic.log `version` text for a QUIC version (Zeek's `QUIC::version_strings`): `1`,
/// `quicv2`, `draft-NN`, the mvfst names, else `unknown-<hex>`.
pub fn zeek_version(v: u32) -> String {
    match v {
        1 => "1".into(),
        QUIC_V2 => "quicv2".into(),
        // Zeek's table maps 0xff00001f to "draft-30" as well (a typo of its own, kept).
        0xff00_001f => "draft-30".into(),
        0xff00_0016..=0xff00_0022 => format!("draft-{}", v & 0xff),
        0xface_b001 | 0xface_b002 | 0xface_b00e | 0xface_b011 | 0xface_b012 | 0xface_b013 => {
            format!("mvfst ({v:08x})")
        }
        _ => format!("unknown-{v:x}"),
    }
}

/// Runs tshark on `path` and returns the QUIC connections it saw.
pub fn quic_facts(path: &Path) -> Result<Vec<QuicFacts>, TsharkError> {
    let bin = std::env::var(TSHARK_ENV).unwrap_or_else(|_| "tshark".into());
    let mut cmd = Command::new(bin);
    cmd.arg("-n")
        .arg("-r")
        .arg(path)
        // DNS over QUIC's port (RFC 9250), which Zeek analyses as QUIC and tshark 4.0 does
        // not by itself.
        .args(["-d", "udp.port==853,quic"])
        .args(["-T", "json", "-J", "ip ipv6 udp quic"]);
    let out = output(&mut cmd)?;
    // tshark exits with 2 on a capture cut short, after printing what precedes the cut.
    if !out.status.success() && out.stdout.is_empty() {
        return Err(TsharkError::Failed {
            status: out.status.code(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    parse_quic_json(&out.stdout)
}

/// Extracts the facts from `tshark -T json -J "ip ipv6 udp quic"` output.
pub fn parse_quic_json(json: &[u8]) -> Result<Vec<QuicFacts>, TsharkError> {
    let root: Node =
        serde_json::from_slice(json).map_err(|e| TsharkError::BadOutput(e.to_string()))?;
    let Node::Arr(packets) = root else {
        return Err(TsharkError::BadOutput("top level is not an array".into()));
    };
    let mut conns: Vec<QuicFacts> = Vec::new();
    for p in &packets {
        let Some(layers) = p.get("_source").and_then(|s| s.get("layers")) else {
            continue;
        };
        packet(layers, &mut conns);
    }
    Ok(conns)
}

/// The string value of `key` directly under `n`.
fn field<'a>(n: &'a Node, key: &str) -> Option<&'a str> {
    n.get(key).and_then(Node::as_str)
}

/// `0x...` or decimal text as a number.
fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// tshark's `aa:bb:cc` bytes as lowercase `aabbcc`.
fn hex(s: &str) -> String {
    s.chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A connection ID field: its hex, or `""` when the length field says 0 (tshark then writes no
/// ID field).
fn connection_id(q: &Node, id: &str, len: &str) -> Option<String> {
    match field(q, id) {
        Some(v) => Some(hex(v)),
        None if field(q, len) == Some("0") => Some(String::new()),
        None => None,
    }
}

/// Adds one packet's QUIC packets to their connection.
fn packet(layers: &Node, conns: &mut Vec<QuicFacts>) {
    let mut addrs = None;
    for (k, src, dst) in [("ip", "ip.src", "ip.dst"), ("ipv6", "ipv6.src", "ipv6.dst")] {
        // The innermost IP header (the last one) is the one UDP sits on.
        if let Some(ip) = layers.all(k).last() {
            if let (Some(s), Some(d)) = (field(ip, src), field(ip, dst)) {
                addrs = Some((s.to_owned(), d.to_owned()));
            }
        }
    }
    let Some((src_h, dst_h)) = addrs else { return };
    let Some(udp) = layers.all("udp").last() else {
        return;
    };
    let (Some(sp), Some(dp)) = (
        field(udp, "udp.srcport").and_then(number),
        field(udp, "udp.dstport").and_then(number),
    ) else {
        return;
    };
    let (Ok(sp), Ok(dp)) = (u16::try_from(sp), u16::try_from(dp)) else {
        return;
    };
    let quic: Vec<&Node> = layers
        .all("quic")
        .flat_map(|q| match q {
            Node::Arr(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .filter(|q| q.get("quic.header_form").is_some())
        .collect();
    if quic.is_empty() {
        return;
    }
    let idx = conns.iter().position(|c| {
        (c.orig_h == src_h && c.orig_p == sp && c.resp_h == dst_h && c.resp_p == dp)
            || (c.orig_h == dst_h && c.orig_p == dp && c.resp_h == src_h && c.resp_p == sp)
    });
    let ci = match idx {
        Some(i) => i,
        None => {
            conns.push(QuicFacts {
                orig_h: src_h.clone(),
                orig_p: sp,
                resp_h: dst_h.clone(),
                resp_p: dp,
                ..QuicFacts::default()
            });
            conns.len() - 1
        }
    };
    let c = &mut conns[ci];
    let from_client = c.orig_h == src_h && c.orig_p == sp;
    for q in quic {
        quic_packet(c, from_client, q);
    }
}

/// Adds one QUIC packet (long or short header) to `c`.
fn quic_packet(c: &mut QuicFacts, from_client: bool, q: &Node) {
    if field(q, "quic.header_form") == Some("1") {
        let version = field(q, "quic.version")
            .and_then(number)
            .and_then(|v| u32::try_from(v).ok());
        let bits = field(q, "quic.long.packet_type")
            .or_else(|| field(q, "quic.long.packet_type_v2"))
            .and_then(number);
        let kind = match (version, bits) {
            // Version 0 is a Version Negotiation packet, which has no type bits.
            (Some(v), Some(b)) if v != 0 => LongType::of(v, b),
            _ => None,
        };
        match kind {
            Some(LongType::Initial) if from_client => {
                c.initials.0 += 1;
                let mut types = Vec::new();
                q.find_strings("quic.frame_type", &mut types);
                if types.contains(&CRYPTO_FRAME) {
                    c.client_crypto_initials += 1;
                }
                if c.initials.0 == 1 {
                    c.version = version;
                    c.client_initial_dcid = connection_id(q, "quic.dcid", "quic.dcil");
                    c.client_scid = connection_id(q, "quic.scid", "quic.scil");
                }
            }
            Some(LongType::Initial) => {
                c.initials.1 += 1;
                if c.initials.1 == 1 {
                    c.server_scid = connection_id(q, "quic.scid", "quic.scil");
                }
            }
            Some(LongType::Retry) => c.retries += 1,
            _ => {}
        }
    }
    // TLS handshake messages: in the CRYPTO frames of Initial (and Handshake) packets, where
    // tshark could decrypt them.
    let mut hs = Vec::new();
    handshakes(q, &mut hs);
    for h in hs {
        match field(h, "tls.handshake.type") {
            Some(CLIENT_HELLO) if from_client && c.server_name.is_none() => {
                let mut names = Vec::new();
                h.find_strings("tls.handshake.extensions_server_name", &mut names);
                c.server_name = names.first().map(|s| (*s).to_owned());
                let mut alpn = Vec::new();
                h.find_strings("tls.handshake.extensions_alpn_str", &mut alpn);
                c.client_protocol = alpn.first().map(|s| (*s).to_owned());
            }
            Some(SERVER_HELLO) if !from_client && c.cipher.is_none() => {
                c.cipher = field(h, "tls.handshake.ciphersuite")
                    .and_then(number)
                    .and_then(|v| u16::try_from(v).ok());
                let mut sv = Vec::new();
                h.find_strings("tls.handshake.extensions.supported_version", &mut sv);
                c.tls_version = sv
                    .first()
                    .copied()
                    .or_else(|| field(h, "tls.handshake.version"))
                    .and_then(number)
                    .and_then(|v| u16::try_from(v).ok());
            }
            _ => {}
        }
    }
}

/// Every `tls.handshake` object below `n`, in document order (one per handshake message; a
/// CRYPTO frame may carry several, and tshark writes repeated keys or an array).
fn handshakes<'a>(n: &'a Node, out: &mut Vec<&'a Node>) {
    match n {
        Node::Obj(entries) => {
            for (k, v) in entries {
                if k == "tls.handshake" {
                    match v {
                        Node::Arr(items) => out.extend(items.iter()),
                        other => out.push(other),
                    }
                } else {
                    handshakes(v, out);
                }
            }
        }
        Node::Arr(items) => items.iter().for_each(|v| handshakes(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_version_names() {
        assert_eq!(zeek_version(1), "1");
        assert_eq!(zeek_version(QUIC_V2), "quicv2");
        assert_eq!(zeek_version(0xff00_001d), "draft-29");
        assert_eq!(zeek_version(0xff00_001f), "draft-30");
        assert_eq!(zeek_version(0xface_b002), "mvfst (faceb002)");
        assert_eq!(zeek_version(0x1a2a_3a4a), "unknown-1a2a3a4a");
    }

    #[test]
    fn v2_type_bits_are_reshuffled() {
        assert_eq!(LongType::of(1, 0), Some(LongType::Initial));
        assert_eq!(LongType::of(QUIC_V2, 1), Some(LongType::Initial));
        assert_eq!(LongType::of(QUIC_V2, 0), Some(LongType::Retry));
        assert_eq!(LongType::of(1, 3), Some(LongType::Retry));
    }

    /// Two datagrams of one connection: the client's Initial with a ClientHello, and the
    /// server's Initial (empty SCID) coalesced with a Handshake packet.
    #[test]
    fn facts_from_json() {
        let json = br#"[
 {"_source":{"layers":{"ip":{"ip.src":"10.0.0.1","ip.dst":"10.0.0.2"},
  "udp":{"udp.srcport":"5000","udp.dstport":"443"},
  "quic":{"quic.header_form":"1","quic.long.packet_type":"0","quic.version":"0x00000001",
    "quic.dcil":"4","quic.dcid":"0A:0b:0c:0d","quic.scil":"0",
    "quic.frame":{"quic.frame_type":"6","tls":{"tls.handshake":{"tls.handshake.type":"1",
      "Extension: server_name":{"x":{"tls.handshake.extensions_server_name":"a.test"}},
      "Extension: alpn":{"tls.handshake.extensions_alpn_list":{
        "tls.handshake.extensions_alpn_str":"h3","tls.handshake.extensions_alpn_str":"h2"}}}}}}}}},
 {"_source":{"layers":{"ip":{"ip.src":"10.0.0.2","ip.dst":"10.0.0.1"},
  "udp":{"udp.srcport":"443","udp.dstport":"5000"},
  "quic":{"quic.header_form":"1","quic.long.packet_type":"0","quic.version":"0x00000001",
    "quic.dcil":"0","quic.scil":"2","quic.scid":"ff:01",
    "quic.frame":{"tls":{"tls.handshake":{"tls.handshake.type":"2","tls.handshake.version":"0x0303",
      "tls.handshake.ciphersuite":"0x1301",
      "e":{"tls.handshake.extensions.supported_version":"0x0304"}}}}},
  "quic":{"quic.header_form":"1","quic.long.packet_type":"2","quic.version":"0x00000001",
    "quic.scil":"2","quic.scid":"ee:ee"}}}}
]"#;
        let f = parse_quic_json(json).expect("parses");
        assert_eq!(f.len(), 1);
        let c = &f[0];
        assert_eq!((c.orig_h.as_str(), c.orig_p), ("10.0.0.1", 5000));
        assert_eq!(c.version, Some(1));
        assert_eq!(c.client_initial_dcid.as_deref(), Some("0a0b0c0d"));
        assert_eq!(c.client_scid.as_deref(), Some(""));
        assert_eq!(c.server_scid.as_deref(), Some("ff01"));
        assert_eq!(c.server_name.as_deref(), Some("a.test"));
        assert_eq!(c.client_protocol.as_deref(), Some("h3"));
        assert_eq!(c.cipher, Some(0x1301));
        assert_eq!(c.tls_version, Some(0x0304));
        assert_eq!(c.initials, (1, 1));
        assert_eq!(c.client_crypto_initials, 1);
    }
}
