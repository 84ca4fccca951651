//! Names of the weirds the packet front end raises.
//!
//! In: nothing. Out: one `pub const` per anomaly, passed as `name` to
//! [`super::FlowHandler::weird`]. Names that Zeek also uses keep Zeek's spelling so that a
//! `weird.log` produced from these reads like Zeek's; the others say what happened.

/// A frame too short for its link-layer header.
pub const TRUNCATED_LINK_HEADER: &str = "truncated_link_header";
/// A link type this reader does not decode (reported once per input and link type).
pub const UNSUPPORTED_LINK_TYPE: &str = "unsupported_link_type";
/// More stacked VLAN/MPLS headers than [`super::link::MAX_ENCAPSULATION_DEPTH`].
pub const ENCAPSULATION_TOO_DEEP: &str = "encapsulation_too_deep";
/// An IP header that is cut short or inconsistent (Zeek: `truncated_IP`).
pub const TRUNCATED_IP: &str = "truncated_IP";
/// An IPv4 header length below 20 bytes.
pub const BAD_IP_HEADER_LEN: &str = "invalid_IP_header_size";
/// More IPv6 extension headers than [`super::ip::MAX_IPV6_EXTENSION_HEADERS`].
pub const IPV6_EXTENSION_LIMIT: &str = "ipv6_extension_header_limit";
/// A fragment whose bytes differ from an overlapping earlier fragment (first one wins).
pub const FRAGMENT_INCONSISTENCY: &str = "fragment_inconsistency";
/// A fragment reaching beyond [`super::ip::MAX_REASSEMBLED_SIZE`].
pub const EXCESSIVELY_LARGE_FRAGMENT: &str = "excessively_large_fragment";
/// A datagram with more than [`super::ip::MAX_FRAGMENTS_PER_DATAGRAM`] fragments; dropped.
pub const TOO_MANY_FRAGMENTS: &str = "too_many_fragments";
/// The fragment table held [`super::ip::MAX_PENDING_DATAGRAMS`]; the oldest datagram was dropped.
pub const FRAGMENT_TABLE_FULL: &str = "fragment_table_full";
/// A partly reassembled datagram timed out ([`super::ip::FRAGMENT_TIMEOUT`]) and was dropped.
pub const FRAGMENT_TIMEOUT: &str = "fragment_reassembly_timeout";
/// A TCP header cut short (Zeek: `truncated_header`).
pub const TRUNCATED_TCP_HEADER: &str = "truncated_header";
/// A TCP data offset below 5 words or beyond the segment (Zeek: `bad_TCP_header_len`).
pub const BAD_TCP_HEADER_LEN: &str = "bad_TCP_header_len";
/// A UDP header cut short.
pub const TRUNCATED_UDP_HEADER: &str = "truncated_UDP_header";
/// Retransmitted or overlapping TCP data that differs from what was seen first (Zeek's name);
/// the first data wins.
pub const REXMIT_INCONSISTENCY: &str = "rexmit_inconsistency";
/// Out-of-order data for one direction exceeded its bound; the hole was reported as a gap.
pub const REASSEMBLY_BUFFER_OVERFLOW: &str = "reassembly_buffer_overflow";
/// The connection table held `max_connections`; the least recently active one was ended.
pub const CONNECTION_TABLE_FULL: &str = "connection_table_full";
/// A pcapng packet block names an interface that was never described (or is over the limit).
pub const PCAPNG_UNKNOWN_INTERFACE: &str = "pcapng_unknown_interface";
/// A pcapng interface with an impossible timestamp resolution; microseconds are assumed.
pub const PCAPNG_BAD_TS_RESOLUTION: &str = "pcapng_bad_ts_resolution";
/// A pcapng block of a type not needed for analysis could not be parsed; it was skipped by its
/// length fields and reading went on.
pub const PCAPNG_MALFORMED_BLOCK: &str = "pcapng_malformed_block";

/// What follows the evicted connection's uid in the `addl` of [`CONNECTION_TABLE_FULL`].
const CONNECTION_TABLE_FULL_ADDL: &str = " ended to make room";

/// The `addl` of [`CONNECTION_TABLE_FULL`] for the evicted connection `uid`: the uid first, so
/// that the writers can note where it goes ([`addl_uid_prefix`]).
pub fn connection_table_full_addl(uid: &str) -> String {
    let mut s = String::with_capacity(uid.len() + CONNECTION_TABLE_FULL_ADDL.len());
    s.push_str(uid);
    s.push_str(CONNECTION_TABLE_FULL_ADDL);
    s
}

/// How many bytes at the start of the `addl` of weird `name`, raised for connection `uid`, are
/// that uid (0 for weirds whose text names no connection). The layout is fixed by
/// [`connection_table_full_addl`], so this only compares the prefix; payload-derived text is
/// never taken for a uid.
pub fn addl_uid_prefix(name: &str, uid: &str, addl: &[u8]) -> usize {
    let named = name == CONNECTION_TABLE_FULL
        && !uid.is_empty()
        && addl.starts_with(uid.as_bytes())
        && addl.get(uid.len()..) == Some(CONNECTION_TABLE_FULL_ADDL.as_bytes());
    if named {
        uid.len()
    } else {
        0
    }
}

/// The tunnel table ([`super::tunnel::MAX_ACTIVE_TUNNELS`]) or the IP tunnel table
/// ([`super::tunnel::MAX_IP_TUNNELS`]) was full.
pub const TUNNEL_TABLE_FULL: &str = "tunnel_table_full";
/// Zeek's weird for an encapsulation beyond `Tunnel::max_depth`.
pub const EXCEEDED_TUNNEL_MAX_DEPTH: &str = "exceeded_tunnel_max_depth";
/// Zeek's weird for a GTPv1 packet beyond `Tunnel::max_depth`.
pub const TUNNEL_DEPTH: &str = "tunnel_depth";
/// Zeek's weird for an IP-in-IP payload whose version is not the one the protocol number says.
pub const INVALID_INNER_IP_VERSION: &str = "invalid_inner_IP_version";
/// Zeek's weird for a Teredo bubble (an IPv6 header without payload) followed by bytes.
pub const TEREDO_BUBBLE_WITH_PAYLOAD: &str = "Teredo_bubble_with_payload";

/// Zeek's packet analyzers append `_in_tunnel` to the name of a weird raised inside a tunnel;
/// the tunnel weirds have that form too.
pub fn in_tunnel(name: &'static str) -> &'static str {
    match name {
        EXCEEDED_TUNNEL_MAX_DEPTH => "exceeded_tunnel_max_depth_in_tunnel",
        TUNNEL_DEPTH => "tunnel_depth_in_tunnel",
        INVALID_INNER_IP_VERSION => "invalid_inner_IP_version_in_tunnel",
        "truncated_GRE" => "truncated_GRE_in_tunnel",
        "unknown_gre_version" => "unknown_gre_version_in_tunnel",
        "egre_protocol_type" => "egre_protocol_type_in_tunnel",
        "gre_routing" => "gre_routing_in_tunnel",
        "unknown_gre_flags" => "unknown_gre_flags_in_tunnel",
        "non_ip_packet_in_encap" => "non_ip_packet_in_encap_in_tunnel",
        "vxlan_empty_packet" => "vxlan_empty_packet_in_tunnel",
        "geneve_invalid_version" => "geneve_invalid_version_in_tunnel",
        "geneve_empty_packet" => "geneve_empty_packet_in_tunnel",
        "ayiya_empty_packet" => "ayiya_empty_packet_in_tunnel",
        other => in_tunnel_owned(other),
    }
}

/// [`in_tunnel`] for the 802.11 weirds, which are only ever raised inside a tunnel (Aruba's GRE).
pub fn in_tunnel_owned(name: &'static str) -> &'static str {
    match name {
        "truncated_802_11_header" => "truncated_802_11_header_in_tunnel",
        "truncated_802_11_amsdu_header" => "truncated_802_11_amsdu_header_in_tunnel",
        "truncated_802_11_amsdu_packet" => "truncated_802_11_amsdu_packet_in_tunnel",
        "invalid_802_11_amsdu_inner_packet" => "invalid_802_11_amsdu_inner_packet_in_tunnel",
        "truncated_802_11_llc_header" => "truncated_802_11_llc_header_in_tunnel",
        other => other,
    }
}
