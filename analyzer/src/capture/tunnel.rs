//! Tunnels: the headers of an encapsulation in, the packet inside it out, and the tunnel
//! bookkeeping behind Zeek's `tunnel.log`.
//!
//! In: the bytes after an outer IP header (IP-in-IP, GRE) or after an outer UDP header (VXLAN,
//! Geneve, GTPv1-U, Teredo, AYIYA, GRE over UDP). Out: [`Inner`], what the engine
//! ([`super::engine`]) decodes next, or a [`Refusal`] naming Zeek's weird or analyzer violation.
//! The header layouts are `grammar/tunnels.pac`, parsed by generated code; the rules here are
//! those of Zeek's packet analyzers (`src/packet_analysis/protocol/{gre,iptunnel,vxlan,geneve,
//! gtpv1,teredo,ayiya}`): which flags are refused, what counts as truncated, where the payload
//! goes.
//!
//! [`TunnelTable`] is Zeek's `Tunnel::active` table (`base/frameworks/tunnels/main.zeek`): a
//! tunnel is logged `Tunnel::DISCOVER` when a connection is first seen inside it, `Tunnel::CLOSE`
//! when its own (UDP) connection ends, `Tunnel::EXPIRE` when no new connection used it for
//! [`EXPIRATION_INTERVAL`]. IP tunnels (IP-in-IP and GRE, which have no connection) keep one uid
//! per address pair, as Zeek's IP tunnel analyzer does. Both tables are bounded
//! ([`MAX_ACTIVE_TUNNELS`], [`MAX_IP_TUNNELS`]) with the weird [`super::weird::TUNNEL_TABLE_FULL`].

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use tls_grammar::{
    AyiyaHeader, ErspanIIIHeader, GeneveHeader, GreHeader, GtpV1ExtHeader, GtpV1Header,
    PptpPppHeader, TeredoAuthentication, TeredoOriginIndication, VxlanHeader,
};

use super::uid::UidGenerator;
use super::ConnId;

/// Zeek's `Tunnel::max_depth` default: most encapsulations decapsulated around one packet; a
/// deeper one raises `exceeded_tunnel_max_depth` and is dropped. 0 disables decapsulation.
pub const DEFAULT_MAX_DEPTH: usize = 4;
/// Zeek's `Tunnel::expiration_interval`: a tunnel no new connection used for this long is
/// logged `Tunnel::EXPIRE` and forgotten.
pub const EXPIRATION_INTERVAL: f64 = 3600.0;
/// Zeek's `Tunnel::ip_tunnel_timeout`: an IP tunnel's uid is kept this long after its last
/// packet.
pub const IP_TUNNEL_TIMEOUT: f64 = 86_400.0;
/// Most tunnels in the active table (Zeek's `Tunnel::active` has no bound). When full, the
/// tunnel least recently used is expired early (a `Tunnel::EXPIRE` row) with the weird
/// [`super::weird::TUNNEL_TABLE_FULL`]: a flood of tunnel endpoints costs rows, not memory.
pub const MAX_ACTIVE_TUNNELS: usize = 100_000;
/// Most IP tunnels (address pairs) with a remembered uid. When full, idle ones are dropped; if
/// none is idle the new pair's packets get a fresh uid each time (not remembered) and
/// [`super::weird::TUNNEL_TABLE_FULL`].
pub const MAX_IP_TUNNELS: usize = 100_000;
/// Most GTPv1 extension headers walked in one packet; more is a violation (Zeek walks until the
/// chain ends; a chain this long only comes from crafted input).
pub const MAX_GTP_EXTENSION_HEADERS: usize = 64;

/// UDP ports Zeek's base scripts give to tunnel analyzers (by the responder's port).
pub const VXLAN_PORT: u16 = 4789;
/// Geneve.
pub const GENEVE_PORT: u16 = 6081;
/// Teredo (also found by content on any port).
pub const TEREDO_PORT: u16 = 3544;
/// AYIYA (also found by content on any port).
pub const AYIYA_PORT: u16 = 5072;
/// GTPv1-U.
pub const GTP_U_PORT: u16 = 2152;
/// GTPv1-C (Zeek's `gtpv1_ports` has both).
pub const GTP_C_PORT: u16 = 2123;
/// GRE over UDP (RFC 8086).
pub const GRE_UDP_PORT: u16 = 4754;

/// Zeek's `Tunnel::Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelType {
    /// IP-in-IP (4in4, 4in6, 6in4, 6in6).
    Ip,
    /// GRE (also PPTP's enhanced GRE, ERSPAN, GRE over UDP).
    Gre,
    /// VXLAN.
    Vxlan,
    /// Geneve.
    Geneve,
    /// Teredo.
    Teredo,
    /// AYIYA.
    Ayiya,
    /// GTPv1-U.
    Gtpv1,
}

impl TunnelType {
    /// Zeek's enum name, as tunnel.log writes it.
    pub fn name(self) -> &'static str {
        match self {
            TunnelType::Ip => "Tunnel::IP",
            TunnelType::Gre => "Tunnel::GRE",
            TunnelType::Vxlan => "Tunnel::VXLAN",
            TunnelType::Geneve => "Tunnel::GENEVE",
            TunnelType::Teredo => "Tunnel::TEREDO",
            TunnelType::Ayiya => "Tunnel::AYIYA",
            TunnelType::Gtpv1 => "Tunnel::GTPv1",
        }
    }

    /// The UDP tunnel Zeek's scripts register for responder port `port`.
    pub fn for_udp_port(port: u16) -> Option<TunnelType> {
        match port {
            VXLAN_PORT => Some(TunnelType::Vxlan),
            GENEVE_PORT => Some(TunnelType::Geneve),
            TEREDO_PORT => Some(TunnelType::Teredo),
            AYIYA_PORT => Some(TunnelType::Ayiya),
            GTP_U_PORT | GTP_C_PORT => Some(TunnelType::Gtpv1),
            GRE_UDP_PORT => Some(TunnelType::Gre),
            _ => None,
        }
    }
}

/// Zeek's `Tunnel::Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelAction {
    /// A connection was seen inside a tunnel not in the active table.
    Discover,
    /// The tunnel's own connection ended.
    Close,
    /// No new connection used the tunnel for [`EXPIRATION_INTERVAL`] (or the table was full).
    Expire,
}

impl TunnelAction {
    /// Zeek's enum name.
    pub fn name(self) -> &'static str {
        match self {
            TunnelAction::Discover => "Tunnel::DISCOVER",
            TunnelAction::Close => "Tunnel::CLOSE",
            TunnelAction::Expire => "Tunnel::EXPIRE",
        }
    }
}

/// One tunnel.log row.
#[derive(Debug, Clone, PartialEq)]
pub struct TunnelRecord<'a> {
    /// When it happened (the time of the packet that caused it).
    pub ts: f64,
    /// The tunnel's uid: its connection's for UDP tunnels, its own for IP tunnels.
    pub uid: &'a str,
    /// The tunnel's endpoints (ports 0 for IP tunnels).
    pub id: ConnId,
    /// Its type.
    pub tunnel_type: TunnelType,
    /// What happened.
    pub action: TunnelAction,
}

/// What a tunnel carries, for the engine to decode next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inner<'a> {
    /// An IP packet, IPv4 or IPv6 by its version nibble.
    Ip(&'a [u8]),
    /// An Ethernet frame.
    Ethernet(&'a [u8]),
    /// An IEEE 802.11 frame (Aruba's GRE), see [`ieee802_11_payloads`].
    Ieee80211(&'a [u8]),
    /// Nothing to decode (a non-IP payload Zeek hands to an analyzer without connections, such
    /// as ARP, or an AYIYA packet that forwards nothing).
    Nothing,
}

/// Why a tunnel header was not decapsulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Zeek raises this weird (the engine adds `_in_tunnel` inside another tunnel).
    Weird(&'static str),
    /// Zeek reports an analyzer violation and stops decapsulating this connection.
    Violation(&'static str),
}

/// GRE decapsulation (Zeek's GRE analyzer): the payload, and whether it is enhanced GRE
/// (version 1, whose inner packet is checked before the tunnel is recorded).
pub fn gre(data: &[u8]) -> Result<(Inner<'_>, bool), Refusal> {
    const TRUNCATED: Refusal = Refusal::Weird("truncated_GRE");
    let (h, rest) = GreHeader::parse(data).map_err(|_| TRUNCATED)?;
    // Header length as Zeek computes it; the optional fields are parsed by the spec above, so
    // `rest` starts after them.
    if h.version > 1 {
        return Err(Refusal::Weird("unknown_gre_version"));
    }
    let mut skip = 0usize;
    let mut ethernet = false;
    let mut ieee80211 = false;
    if h.version == 0 {
        match h.proto_type {
            0x6558 => {
                if rest.len() <= 14 {
                    return Err(TRUNCATED);
                }
                ethernet = true;
            }
            0x88be => {
                // ERSPAN type I has no sequence number and no ERSPAN header; type II has both.
                if rest.len() <= 14 {
                    return Err(TRUNCATED);
                }
                ethernet = true;
                if h.seq_present {
                    skip = 8;
                    if rest.len() < 14 + 8 {
                        return Err(TRUNCATED);
                    }
                }
            }
            0x22eb => {
                if rest.len() <= 14 + 12 {
                    return Err(TRUNCATED);
                }
                let (e, after) = ErspanIIIHeader::parse(rest).map_err(|_| TRUNCATED)?;
                if e.has_platform && after.len() < 14 {
                    return Err(TRUNCATED);
                }
                skip = rest.len() - after.len();
                ethernet = true;
            }
            p if is_aruba(p) => {
                // Aruba's 802.11 frames in GRE (Zeek's IP tunnel analyzer hands them to its
                // 802.11 analyzer).
                if rest.is_empty() {
                    return Err(TRUNCATED);
                }
                ieee80211 = true;
            }
            _ => {}
        }
    } else if h.proto_type != 0x880b {
        return Err(Refusal::Weird("egre_protocol_type"));
    }
    if h.routing_present {
        return Err(Refusal::Weird("gre_routing"));
    }
    if h.reserved_flags != 0 {
        return Err(Refusal::Weird("unknown_gre_flags"));
    }
    let payload = rest.get(skip..).ok_or(TRUNCATED)?;
    if h.version == 1 {
        let (ppp, inner) = PptpPppHeader::parse(payload).map_err(|_| TRUNCATED)?;
        if ppp.ppp_protocol != 0x0021 && ppp.ppp_protocol != 0x0057 {
            return Err(Refusal::Weird("non_ip_packet_in_encap"));
        }
        return Ok((Inner::Ip(inner), true));
    }
    if ieee80211 {
        Ok((Inner::Ieee80211(payload), false))
    } else if ethernet {
        Ok((Inner::Ethernet(payload), false))
    } else {
        // Everything else goes to Zeek's IP tunnel analyzer as raw IP.
        Ok((Inner::Ip(payload), false))
    }
}

/// The packets of an IEEE 802.11 data frame as Zeek's 802.11 analyzer finds them: after the
/// MAC header (24 bytes, 30 with a fourth address, 2 more with QoS), one LLC/SNAP-framed packet,
/// or with A-MSDU (the QoS field's 0x80) a sequence of subframes (14-byte header, LLC/SNAP packet,
/// padding to 4 bytes). `f` gets each packet's EtherType and bytes and says whether it was
/// forwarded. Management, control, data-less and protected frames carry nothing. Errors are
/// Zeek's weirds.
pub fn ieee802_11_payloads<'a>(
    data: &'a [u8],
    f: &mut dyn FnMut(u16, &'a [u8]) -> bool,
) -> Result<(), &'static str> {
    const TRUNCATED: &str = "truncated_802_11_header";
    let mut hdr = 24usize;
    if data.len() <= hdr {
        return Err(TRUNCATED);
    }
    let fc = data[0];
    let flags = data[1];
    if (fc >> 2) & 0x02 == 0 || (fc >> 4) & 0x04 != 0 {
        return Ok(());
    }
    if flags & 0x03 == 0x03 {
        hdr += 6;
    }
    if data.len() <= hdr {
        return Err(TRUNCATED);
    }
    let mut amsdu = false;
    if (fc >> 4) & 0x08 != 0 {
        amsdu = data[hdr] & 0x80 != 0;
        if flags & 0x40 != 0 {
            return Ok(());
        }
        hdr += 2;
    }
    let mut rest = data.get(hdr..).filter(|r| !r.is_empty()).ok_or(TRUNCATED)?;
    if !amsdu {
        llc_snap(rest, f)?;
        return Ok(());
    }
    while !rest.is_empty() {
        if rest.len() < 14 {
            return Err("truncated_802_11_amsdu_header");
        }
        let sub_len = usize::from(u16::from_be_bytes([rest[12], rest[13]]));
        let sub = rest
            .get(14..14 + sub_len)
            .ok_or("truncated_802_11_amsdu_packet")?;
        if !llc_snap(sub, f)? {
            return Err("invalid_802_11_amsdu_inner_packet");
        }
        rest = rest.get(14 + sub_len..).unwrap_or_default();
        // Subframes but the last are padded to 4 bytes; the padding is not in the length.
        let pad = sub_len % 4;
        if rest.len() >= pad {
            rest = rest.get(pad..).unwrap_or_default();
        }
    }
    Ok(())
}

/// An LLC/SNAP header with a zero OUI (encapsulated Ethernet): hands the EtherType and the
/// packet to `f`. `Ok(false)` for other LLC frames.
fn llc_snap<'a>(
    data: &'a [u8],
    f: &mut dyn FnMut(u16, &'a [u8]) -> bool,
) -> Result<bool, &'static str> {
    if data.len() < 8 {
        return Err("truncated_802_11_llc_header");
    }
    if data[..6] != [0xaa, 0xaa, 0x03, 0, 0, 0] {
        return Ok(false);
    }
    let ethertype = u16::from_be_bytes([data[6], data[7]]);
    Ok(f(ethertype, data.get(8..).unwrap_or_default()))
}

/// Aruba's GRE protocol types (Zeek's GRE analyzer hands them to 802.11).
fn is_aruba(p: u16) -> bool {
    ((p & 0x8200) == 0x8200 && (p & 0x0f) == 0)
        || ((p & 0x8300) == 0x8300 && (p & 0x0f) == 0 && p <= 0x8370)
        || p == 0x9000
}

/// VXLAN decapsulation: the Ethernet frame after the header.
pub fn vxlan(data: &[u8]) -> Result<Inner<'_>, Refusal> {
    let (h, rest) =
        VxlanHeader::parse(data).map_err(|_| Refusal::Violation("VXLAN header truncation"))?;
    if !h.i_flag {
        return Err(Refusal::Violation("VXLAN 'I' flag not set"));
    }
    if rest.is_empty() {
        return Err(Refusal::Weird("vxlan_empty_packet"));
    }
    Ok(Inner::Ethernet(rest))
}

/// Geneve decapsulation: the payload by its protocol type.
pub fn geneve(data: &[u8]) -> Result<Inner<'_>, Refusal> {
    if data.len() < 8 {
        return Err(Refusal::Violation("Geneve header truncation"));
    }
    if data.first().is_some_and(|b| b >> 6 != 0) {
        return Err(Refusal::Weird("geneve_invalid_version"));
    }
    let (h, rest) = GeneveHeader::parse(data)
        .map_err(|_| Refusal::Violation("Geneve option header truncation"))?;
    if rest.is_empty() {
        return Err(Refusal::Weird("geneve_empty_packet"));
    }
    Ok(match h.protocol_type {
        0x6558 => Inner::Ethernet(rest),
        0x0800 | 0x86dd => Inner::Ip(rest),
        _ => Inner::Nothing,
    })
}

/// The options of a Geneve header, as (class, critical, type, data), for callers that want them
/// (Zeek's `geneve_options` event).
pub fn geneve_options(data: &[u8]) -> impl Iterator<Item = (u16, bool, u8, &[u8])> {
    let opts = GeneveHeader::parse(data)
        .map(|(h, _)| h.options)
        .unwrap_or_default();
    let mut rest = opts;
    std::iter::from_fn(move || {
        let (o, after) = tls_grammar::GeneveOption::parse(rest).ok()?;
        rest = after;
        Some((o.option_class, o.critical, o.option_type & 0x7f, o.data))
    })
}

/// GTPv1 decapsulation of a G-PDU. `in_gtp`: the packet is already inside a GTPv1 tunnel
/// (GTP-in-GTP is refused, as in Zeek). `Ok(None)`: a valid GTP message that carries no user
/// packet (control messages, not user plane).
pub fn gtpv1(data: &[u8], in_gtp: bool) -> Result<Option<Inner<'_>>, Refusal> {
    let (h, mut rest) =
        GtpV1Header::parse(data).map_err(|_| Refusal::Violation("Truncated GTPv1"))?;
    if in_gtp {
        return Err(Refusal::Violation("GTP-in-GTP"));
    }
    if h.version != 1 {
        return Err(Refusal::Violation("GTPv1 bad Version"));
    }
    if !h.pt_flag {
        return Ok(None);
    }
    if h.e_flag {
        for _ in 0..MAX_GTP_EXTENSION_HEADERS {
            let (e, after) =
                GtpV1ExtHeader::parse(rest).map_err(|_| Refusal::Violation("Truncated GTPv1"))?;
            rest = after;
            if e.next_type == 0 {
                break;
            }
        }
    }
    if h.msg_type != 255 {
        return Ok(None);
    }
    if rest.len() < 20 {
        return Err(Refusal::Violation("Truncated GTPv1"));
    }
    match rest.first().map(|b| b >> 4) {
        Some(4) | Some(6) => Ok(Some(Inner::Ip(rest))),
        _ => Err(Refusal::Violation("non-IP packet in GTPv1")),
    }
}

/// What a Teredo packet carried besides the IPv6 packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TeredoExtras {
    /// An authentication encapsulation was present.
    pub authentication: bool,
    /// The origin indication (port, IPv4 address), de-obfuscated.
    pub origin: Option<(u16, u32)>,
}

/// Teredo decapsulation (Zeek's Teredo analyzer): the IPv6 packet after the optional
/// authentication and origin indication.
pub fn teredo(data: &[u8]) -> Result<(&[u8], TeredoExtras), Refusal> {
    const BAD: Refusal = Refusal::Violation("Bad Teredo encapsulation");
    let mut extras = TeredoExtras::default();
    let mut rest = data;
    loop {
        let tag = match rest {
            [a, b, ..] => u16::from_be_bytes([*a, *b]),
            _ => return Err(BAD),
        };
        if tag == 0 {
            if extras.origin.is_some() {
                return Err(BAD);
            }
            let (o, after) = TeredoOriginIndication::parse(rest).map_err(|_| BAD)?;
            extras.origin = Some((o.origin_port as u16, o.origin_addr as u32));
            rest = after;
        } else if tag == 1 {
            if extras.origin.is_some() || extras.authentication {
                return Err(BAD);
            }
            let (_, after) = TeredoAuthentication::parse(rest).map_err(|_| BAD)?;
            extras.authentication = true;
            rest = after;
        } else if tag >> 12 == 6 {
            if rest.len() < 40 {
                return Err(BAD);
            }
            return Ok((rest, extras));
        } else {
            return Err(BAD);
        }
    }
}

/// Zeek's content test for Teredo on a port not registered for it (`TeredoAnalyzer::
/// DetectProtocol`): an IPv6 header with a Teredo (2001:0000::/32) address, possibly after an
/// authentication encapsulation and an origin indication.
pub fn looks_like_teredo(data: &[u8]) -> bool {
    let len = data.len();
    let (Some(&b0), Some(&b1)) = (data.first(), data.get(1)) else {
        return false;
    };
    if len < 40 || (len > 8 && b0 >> 4 != 6 && (b0 != 0 || (b1 != 0 && b1 != 1))) {
        return false;
    }
    let teredo_prefix = |at: usize| data.get(at..at + 4) == Some(&[0x20, 0x01, 0x00, 0x00][..]);
    // Zeek's pattern (the old DPD signature, anchored at the start): an IPv6 header with a
    // Teredo (2001:0000::/32) source (offset 8) or destination (offset 24).
    if (0x60..=0x6f).contains(&b0) && (teredo_prefix(8) || teredo_prefix(24)) {
        return true;
    }
    let mut rest = data;
    let mut val = u16::from(b1);
    if val == 1 {
        let (Some(&id_len), Some(&au_len)) = (data.get(2), data.get(3)) else {
            return false;
        };
        let skip = 13 + usize::from(id_len) + usize::from(au_len);
        let Some(after) = data.get(skip..) else {
            return false;
        };
        if after.len() < 40 {
            return false;
        }
        rest = after;
        val = u16::from_be_bytes([after[0], after[1]]);
    }
    if val == 0 {
        let Some(after) = rest.get(8..) else {
            return false;
        };
        return after.len() >= 40 && after.first().is_some_and(|b| b >> 4 == 6);
    }
    false
}

/// AYIYA decapsulation: `Ok(None)` for an opcode that forwards nothing.
pub fn ayiya(data: &[u8]) -> Result<Option<Inner<'_>>, Refusal> {
    let (h, rest) = AyiyaHeader::parse(data).map_err(|_| Refusal::Violation("Truncated AYIYA"))?;
    if h.op_code != 1 {
        return Ok(None);
    }
    if rest.is_empty() {
        return Err(Refusal::Weird("ayiya_empty_packet"));
    }
    Ok(Some(match h.next_header {
        4 | 41 => Inner::Ip(rest),
        _ => Inner::Nothing,
    }))
}

/// Zeek's content test for AYIYA on other ports.
pub fn looks_like_ayiya(data: &[u8]) -> bool {
    data.len() >= 3 && data.get(1) == Some(&0x52) && data.get(2) == Some(&0x11)
}

/// Where a tunnel's uid comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UidSource {
    /// The tunnel's own connection, in the engine's table (slot, handle).
    Conn(u32, u64),
    /// The IP tunnel table, by address pair.
    IpPair,
    /// None known (a sharded engine decapsulating a flow it does not own).
    None,
}

/// One level of a packet's encapsulation (Zeek's `EncapsulatingConn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encap {
    /// The tunnel's endpoints (ports 0 for IP tunnels).
    pub id: ConnId,
    /// The tunnel type.
    pub tunnel_type: TunnelType,
    /// Where its uid is.
    pub uid: UidSource,
}

impl Encap {
    /// A value that differs between encapsulations (for noticing a connection's change of
    /// tunnel, Zeek's `tunnel_changed`): endpoints and type folded into 64 bits with two
    /// multiplications. It is computed for every packet in a tunnel, so it is kept cheap; a
    /// collision would only make a change of tunnel go unnoticed (no `DISCOVER` for a tunnel
    /// no new connection used).
    pub fn fingerprint(&self) -> u64 {
        fn fold(a: IpAddr) -> u64 {
            match a {
                IpAddr::V4(x) => u64::from(u32::from(x)),
                IpAddr::V6(x) => {
                    let v = u128::from(x);
                    (v as u64) ^ ((v >> 64) as u64).rotate_left(29)
                }
            }
        }
        let x = fold(self.id.orig_h).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ fold(self.id.resp_h).rotate_left(23)
            ^ (u64::from(self.id.orig_p) << 48)
            ^ (u64::from(self.id.resp_p) << 32)
            ^ self.tunnel_type as u64;
        x.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (x >> 31)
    }
}

#[derive(Debug)]
struct Active {
    uid: String,
    tunnel_type: TunnelType,
    last_read: f64,
}

#[derive(Debug, Clone)]
struct IpTunnel {
    id: ConnId,
    tunnel_type: TunnelType,
    uid: String,
    last_seen: f64,
}

/// Zeek's `Tunnel::active` table and the IP tunnel analyzer's uid table, bounded.
#[derive(Debug)]
pub struct TunnelTable {
    active: HashMap<ConnId, Active>,
    /// Expiry order: (tunnel, last read when queued); stale entries are re-queued or skipped.
    order: VecDeque<(ConnId, f64)>,
    ip: HashMap<(IpAddr, IpAddr), IpTunnel>,
    uids: UidGenerator,
}

impl TunnelTable {
    /// An empty table drawing IP tunnel uids from `uids`.
    pub fn new(uids: UidGenerator) -> Self {
        TunnelTable {
            active: HashMap::new(),
            order: VecDeque::new(),
            ip: HashMap::new(),
            uids,
        }
    }

    /// A uid for a tunnel's own connection, from the generator of IP tunnel uids, so that no
    /// two tunnels share one.
    pub fn next_uid(&mut self) -> String {
        self.uids.next_uid('C')
    }

    /// Tunnels in the active table.
    pub fn active_len(&self) -> usize {
        self.active.len()
    }

    /// IP tunnels with a remembered uid.
    pub fn ip_len(&self) -> usize {
        self.ip.len()
    }

    /// The IP tunnel between `src` and `dst` (oriented as first seen), creating it with type
    /// `ty`. `Err` when the table is full (the caller raises the weird); the tunnel then has a
    /// fresh identity that is not remembered.
    pub fn ip_tunnel(
        &mut self,
        now: f64,
        src: IpAddr,
        dst: IpAddr,
        ty: TunnelType,
    ) -> Result<Encap, Encap> {
        let key = if src < dst { (src, dst) } else { (dst, src) };
        if let Some(t) = self.ip.get_mut(&key) {
            t.last_seen = now;
            return Ok(Encap {
                id: t.id,
                tunnel_type: t.tunnel_type,
                uid: UidSource::IpPair,
            });
        }
        let id = ConnId {
            orig_h: src,
            orig_p: 0,
            resp_h: dst,
            resp_p: 0,
        };
        let enc = Encap {
            id,
            tunnel_type: ty,
            uid: UidSource::IpPair,
        };
        if self.ip.len() >= MAX_IP_TUNNELS {
            self.ip.retain(|_, t| t.last_seen + IP_TUNNEL_TIMEOUT > now);
            if self.ip.len() >= MAX_IP_TUNNELS {
                return Err(Encap {
                    uid: UidSource::None,
                    ..enc
                });
            }
        }
        let uid = self.uids.next_uid('C');
        self.ip.insert(
            key,
            IpTunnel {
                id,
                tunnel_type: ty,
                uid,
                last_seen: now,
            },
        );
        Ok(enc)
    }

    /// Zeek's `Tunnel::register`: logs `Tunnel::DISCOVER` for a tunnel not in the active table
    /// and adds it; marks it used otherwise. `conn_uid` resolves [`UidSource::Conn`]. Returns
    /// whether the table was full (an entry was expired to make room).
    pub fn register(
        &mut self,
        now: f64,
        e: &Encap,
        conn_uid: &dyn Fn(u32, u64) -> Option<String>,
        out: &mut dyn FnMut(TunnelRecord<'_>),
    ) -> bool {
        if let Some(a) = self.active.get_mut(&e.id) {
            a.last_read = now;
            return false;
        }
        let mut full = false;
        if self.active.len() >= MAX_ACTIVE_TUNNELS {
            full = true;
            self.evict_one(now, out);
        }
        let uid = match e.uid {
            UidSource::Conn(slot, handle) => conn_uid(slot, handle).unwrap_or_default(),
            UidSource::IpPair => {
                let key = if e.id.orig_h < e.id.resp_h {
                    (e.id.orig_h, e.id.resp_h)
                } else {
                    (e.id.resp_h, e.id.orig_h)
                };
                self.ip.get(&key).map(|t| t.uid.clone()).unwrap_or_default()
            }
            UidSource::None => String::new(),
        };
        out(TunnelRecord {
            ts: now,
            uid: &uid,
            id: e.id,
            tunnel_type: e.tunnel_type,
            action: TunnelAction::Discover,
        });
        self.active.insert(
            e.id,
            Active {
                uid,
                tunnel_type: e.tunnel_type,
                last_read: now,
            },
        );
        self.order.push_back((e.id, now));
        full
    }

    /// Zeek's `finalize_tunnel` hook: the connection `id` ended; if it is an active tunnel it
    /// is logged `Tunnel::CLOSE` and removed.
    pub fn connection_closed(
        &mut self,
        now: f64,
        id: &ConnId,
        out: &mut dyn FnMut(TunnelRecord<'_>),
    ) {
        if let Some(a) = self.active.remove(id) {
            out(TunnelRecord {
                ts: now,
                uid: &a.uid,
                id: *id,
                tunnel_type: a.tunnel_type,
                action: TunnelAction::Close,
            });
        }
    }

    /// Expires tunnels not used for [`EXPIRATION_INTERVAL`] by `now`. Called whenever the
    /// packets' time advances, so the common case (nothing due) is an inlined comparison.
    #[inline]
    pub fn expire(&mut self, now: f64, out: &mut dyn FnMut(TunnelRecord<'_>)) {
        let due = self
            .order
            .front()
            .is_some_and(|&(_, queued)| queued + EXPIRATION_INTERVAL <= now);
        if due || self.order.len() > 2 * self.active.len() + 1024 {
            self.expire_due(now, out);
        }
    }

    #[cold]
    #[inline(never)]
    fn expire_due(&mut self, now: f64, out: &mut dyn FnMut(TunnelRecord<'_>)) {
        while let Some(&(id, queued)) = self.order.front() {
            if queued + EXPIRATION_INTERVAL > now {
                break;
            }
            self.order.pop_front();
            let Some(a) = self.active.get(&id) else {
                continue;
            };
            if a.last_read + EXPIRATION_INTERVAL > now {
                // Used since it was queued: queue it again at its last use.
                let last = a.last_read;
                self.order.push_back((id, last));
                continue;
            }
            self.expire_entry(now, id, out);
        }
        if self.order.len() > 2 * self.active.len() + 1024 {
            let active = &self.active;
            self.order.retain(|(id, _)| active.contains_key(id));
        }
    }

    fn expire_entry(&mut self, now: f64, id: ConnId, out: &mut dyn FnMut(TunnelRecord<'_>)) {
        if let Some(a) = self.active.remove(&id) {
            out(TunnelRecord {
                ts: now,
                uid: &a.uid,
                id,
                tunnel_type: a.tunnel_type,
                action: TunnelAction::Expire,
            });
        }
    }

    /// Expires the tunnel at the head of the expiry queue (the least recently queued).
    fn evict_one(&mut self, now: f64, out: &mut dyn FnMut(TunnelRecord<'_>)) {
        while let Some((id, _)) = self.order.pop_front() {
            if self.active.contains_key(&id) {
                self.expire_entry(now, id, out);
                return;
            }
        }
    }

    /// Forgets everything without logging (the end of an input: Zeek logs no `EXPIRE` at
    /// shutdown; tunnels with a connection got their `CLOSE` when it ended).
    pub fn clear(&mut self) {
        self.active.clear();
        self.order.clear();
        self.ip.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn gre_flags_and_payloads() {
        // Plain GRE with key and sequence, IPv4 inside.
        let mut p = vec![0x30, 0x00, 0x08, 0x00, 0, 0, 0, 7, 0, 0, 0, 1];
        p.extend_from_slice(&[0x45, 0, 0, 20]);
        assert_eq!(gre(&p), Ok((Inner::Ip(&p[12..]), false)));
        // Routing flag, reserved flags, version 2, short header.
        assert_eq!(
            gre(&[0x40, 0, 8, 0, 0, 0, 0, 0]),
            Err(Refusal::Weird("gre_routing"))
        );
        assert_eq!(
            gre(&[0x00, 0x08, 8, 0, 1]),
            Err(Refusal::Weird("unknown_gre_flags"))
        );
        assert_eq!(
            gre(&[0x00, 0x02, 8, 0]),
            Err(Refusal::Weird("unknown_gre_version"))
        );
        assert_eq!(gre(&[0x00, 0x00, 8]), Err(Refusal::Weird("truncated_GRE")));
        // Enhanced GRE (PPTP): key, then PPP with IPv4.
        let mut e = vec![0x20, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0x21];
        e.extend_from_slice(&[0x45; 20]);
        assert_eq!(gre(&e), Ok((Inner::Ip(&e[12..]), true)));
        e[11] = 0x99;
        assert_eq!(gre(&e), Err(Refusal::Weird("non_ip_packet_in_encap")));
        // Transparent Ethernet bridging needs more than an Ethernet header.
        let mut t = vec![0x00, 0x00, 0x65, 0x58];
        t.extend_from_slice(&[0u8; 14]);
        assert_eq!(gre(&t), Err(Refusal::Weird("truncated_GRE")));
        t.push(0);
        assert_eq!(gre(&t), Ok((Inner::Ethernet(&t[4..]), false)));
        // ERSPAN III with the platform subheader.
        let mut s = vec![0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 1];
        s.extend_from_slice(&[0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
        s.extend_from_slice(&[0u8; 8]);
        s.extend_from_slice(&[0xaa; 15]);
        assert_eq!(gre(&s), Ok((Inner::Ethernet(&s[28..]), false)));
    }

    #[test]
    fn udp_encapsulations() {
        let mut v = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
        assert_eq!(vxlan(&v), Err(Refusal::Weird("vxlan_empty_packet")));
        v.push(1);
        assert_eq!(vxlan(&v), Ok(Inner::Ethernet(&v[8..])));
        v[0] = 0;
        assert_eq!(vxlan(&v), Err(Refusal::Violation("VXLAN 'I' flag not set")));
        // Geneve with one 4-byte option word, IPv4 inside.
        let g = [0x01, 0, 0x08, 0x00, 0, 0, 1, 0, 1, 2, 3, 4, 0x45];
        assert_eq!(geneve(&g), Ok(Inner::Ip(&g[12..])));
        assert_eq!(
            geneve(&g[..10]),
            Err(Refusal::Violation("Geneve option header truncation"))
        );
        // GTPv1 G-PDU with an extension header chain.
        let mut gtp = vec![0x34, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 9, 9, 0];
        gtp.extend_from_slice(&[0x45; 20]);
        assert_eq!(gtpv1(&gtp, false), Ok(Some(Inner::Ip(&gtp[16..]))));
        assert_eq!(gtpv1(&gtp, true), Err(Refusal::Violation("GTP-in-GTP")));
        // AYIYA: 1-byte identity, a 20-byte signature (0x52: 5 words, SHA-1), opcode 1, IPv6
        // inside; cut inside the signature it is truncated.
        let mut a = vec![0x01, 0x52, 0x11, 41, 0, 0, 0, 0, 7];
        a.extend_from_slice(&[0xee; 20]);
        a.push(0x60);
        assert!(looks_like_ayiya(&a));
        assert_eq!(ayiya(&a), Ok(Some(Inner::Ip(&a[29..]))));
        assert_eq!(ayiya(&a[..20]), Err(Refusal::Violation("Truncated AYIYA")));
    }

    #[test]
    fn teredo_origin_indication() {
        let mut t = vec![0, 0, 0xff ^ 0x0e, 0xff ^ 0xd5];
        t.extend_from_slice(&[!192, !168, !2, !16]);
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 0, 59, 0];
        ip6.extend_from_slice(&[0x20, 0x01, 0, 0]);
        ip6.extend_from_slice(&[0u8; 28]);
        t.extend_from_slice(&ip6);
        let (inner, extras) = teredo(&t).expect("teredo");
        assert_eq!(inner, &ip6[..]);
        assert_eq!(
            extras.origin,
            Some((0x0ed5, u32::from(Ipv4Addr::new(192, 168, 2, 16))))
        );
        assert!(looks_like_teredo(&t));
        assert!(looks_like_teredo(&ip6));
        assert!(!looks_like_teredo(&[0x16, 3, 1, 0, 5]));
    }

    #[test]
    fn table_discovers_closes_expires_and_is_bounded() {
        let mut t = TunnelTable::new(UidGenerator::from_seed(1));
        let a: IpAddr = Ipv4Addr::new(10, 0, 0, 1).into();
        let b: IpAddr = Ipv4Addr::new(10, 0, 0, 2).into();
        let mut rows: Vec<(TunnelAction, String)> = Vec::new();
        let mut out = |r: TunnelRecord<'_>| rows.push((r.action, r.uid.to_string()));
        let e = t.ip_tunnel(0.0, a, b, TunnelType::Gre).expect("room");
        // The reverse direction is the same tunnel, oriented as first seen.
        assert_eq!(t.ip_tunnel(1.0, b, a, TunnelType::Ip), Ok(e));
        let none = |_: u32, _: u64| None;
        t.register(1.0, &e, &none, &mut out);
        t.register(2.0, &e, &none, &mut out);
        t.expire(2.0 + EXPIRATION_INTERVAL - 1.0, &mut out);
        t.expire(2.0 + EXPIRATION_INTERVAL, &mut out);
        t.connection_closed(9e9, &e.id, &mut out);
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![TunnelAction::Discover, TunnelAction::Expire]
        );
        assert!(rows[0].1.starts_with('C') && rows[0].1 == rows[1].1);
        assert_eq!(t.active_len(), 0);
    }

    #[test]
    fn a_flood_of_tunnels_is_bounded() {
        let mut t = TunnelTable::new(UidGenerator::from_seed(2));
        let mut actions: Vec<TunnelAction> = Vec::new();
        let mut out = |r: TunnelRecord<'_>| actions.push(r.action);
        let uid = |_: u32, _: u64| Some("Cx".to_string());
        let mut full = 0;
        for i in 0..=MAX_ACTIVE_TUNNELS as u32 {
            let e = Encap {
                id: ConnId {
                    orig_h: Ipv4Addr::from(i).into(),
                    orig_p: 1,
                    resp_h: Ipv4Addr::new(10, 0, 0, 1).into(),
                    resp_p: VXLAN_PORT,
                },
                tunnel_type: TunnelType::Vxlan,
                uid: UidSource::Conn(0, 0),
            };
            full += usize::from(t.register(f64::from(i), &e, &uid, &mut out));
        }
        // One past the bound: the oldest tunnel was expired to make room, once.
        assert_eq!(full, 1);
        assert_eq!(t.active_len(), MAX_ACTIVE_TUNNELS);
        assert_eq!(actions.len(), MAX_ACTIVE_TUNNELS + 2);
        assert_eq!(
            actions
                .iter()
                .filter(|a| **a == TunnelAction::Expire)
                .count(),
            1
        );
    }
}
