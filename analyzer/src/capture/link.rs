//! Link-layer frames in, network-layer packets out.
//!
//! In: a link type (LINKTYPE_* number) and the captured frame. Out: [`Network`], the IPv4 or
//! IPv6 packet inside it (a sub-slice, nothing copied), `NotIp` for ARP and friends, or a
//! [`LinkError`]. Decoded: Ethernet with any stack of 802.1Q/802.1ad/QinQ tags, MPLS and PPPoE
//! sessions; Linux cooked capture v1 (SLL) and v2 (SLL2); raw IP (101, DLT_RAW 12 and 14, 228,
//! 229); BSD null and OpenBSD loop; PPP (9) and PPP in HDLC framing (50).

/// Ethernet.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// BSD loopback: 4-byte address family in the capturing host's byte order.
pub const LINKTYPE_NULL: u32 = 0;
/// OpenBSD loopback: 4-byte address family in network byte order.
pub const LINKTYPE_LOOP: u32 = 108;
/// PPP with a 2-byte protocol field (optionally after `ff 03`).
pub const LINKTYPE_PPP: u32 = 9;
/// PPP in HDLC-like framing (RFC 1662).
pub const LINKTYPE_PPP_HDLC: u32 = 50;
/// Raw IP, the version nibble says which.
pub const LINKTYPE_RAW: u32 = 101;
/// DLT_RAW as most systems number it, found in some pcap files.
pub const DLT_RAW_12: u32 = 12;
/// DLT_RAW as OpenBSD numbers it.
pub const DLT_RAW_14: u32 = 14;
/// Raw IPv4 only.
pub const LINKTYPE_IPV4: u32 = 228;
/// Raw IPv6 only.
pub const LINKTYPE_IPV6: u32 = 229;
/// Linux cooked capture v1.
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// Linux cooked capture v2.
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// Most VLAN tags, MPLS labels and PPPoE headers peeled from one frame; a frame nesting more is
/// dropped with [`super::weird::ENCAPSULATION_TOO_DEEP`] so a crafted frame cannot loop long.
pub const MAX_ENCAPSULATION_DEPTH: usize = 8;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// The network-layer content of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network<'a> {
    /// An IPv4 packet (starting at its header).
    Ipv4(&'a [u8]),
    /// An IPv6 packet (starting at its header).
    Ipv6(&'a [u8]),
    /// Something other than IP (ARP, LLDP, ...): not an error, nothing to analyse.
    NotIp,
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Shorter than its headers.
    Truncated,
    /// A link type this module does not know.
    Unsupported,
    /// More than [`MAX_ENCAPSULATION_DEPTH`] nested headers.
    TooDeep,
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

fn first4(d: &[u8]) -> Result<[u8; 4], LinkError> {
    d.get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(LinkError::Truncated)
}

/// Decodes one frame of link type `linktype`.
pub fn decode(linktype: u32, frame: &[u8]) -> Result<Network<'_>, LinkError> {
    match linktype {
        LINKTYPE_ETHERNET => {
            let ethertype = be16(frame, 12).ok_or(LinkError::Truncated)?;
            by_ethertype(ethertype, frame.get(14..).ok_or(LinkError::Truncated)?, 0)
        }
        LINKTYPE_LINUX_SLL => {
            let proto = be16(frame, 14).ok_or(LinkError::Truncated)?;
            by_ethertype(proto, frame.get(16..).ok_or(LinkError::Truncated)?, 0)
        }
        LINKTYPE_LINUX_SLL2 => {
            let proto = be16(frame, 0).ok_or(LinkError::Truncated)?;
            by_ethertype(proto, frame.get(20..).ok_or(LinkError::Truncated)?, 0)
        }
        LINKTYPE_RAW | DLT_RAW_12 | DLT_RAW_14 => by_version(frame),
        LINKTYPE_IPV4 => Ok(Network::Ipv4(frame)),
        LINKTYPE_IPV6 => Ok(Network::Ipv6(frame)),
        LINKTYPE_NULL => {
            let arr = first4(frame)?;
            // The family is in the byte order of the host that captured, which the file does not
            // say; families are small numbers, so the reading that is small is the right one.
            let le = u32::from_le_bytes(arr);
            let family = if le < 0x1_0000 {
                le
            } else {
                u32::from_be_bytes(arr)
            };
            by_family(family, frame.get(4..).ok_or(LinkError::Truncated)?)
        }
        LINKTYPE_LOOP => {
            let family = u32::from_be_bytes(first4(frame)?);
            by_family(family, frame.get(4..).ok_or(LinkError::Truncated)?)
        }
        LINKTYPE_PPP | LINKTYPE_PPP_HDLC => {
            // Address and control bytes (ff 03) are present in HDLC framing and optional in
            // plain PPP captures.
            let body = match frame {
                [0xff, 0x03, rest @ ..] => rest,
                _ => frame,
            };
            by_ppp_protocol(body)
        }
        _ => Err(LinkError::Unsupported),
    }
}

/// Picks IPv4 or IPv6 from the version nibble (raw IP, MPLS payloads).
fn by_version(packet: &[u8]) -> Result<Network<'_>, LinkError> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => Ok(Network::Ipv4(packet)),
        Some(6) => Ok(Network::Ipv6(packet)),
        Some(_) => Ok(Network::NotIp),
        None => Err(LinkError::Truncated),
    }
}

fn by_family(family: u32, packet: &[u8]) -> Result<Network<'_>, LinkError> {
    match family {
        2 => Ok(Network::Ipv4(packet)),
        // AF_INET6 differs per system: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30.
        10 | 24 | 28 | 30 => Ok(Network::Ipv6(packet)),
        _ => Ok(Network::NotIp),
    }
}

fn by_ppp_protocol(body: &[u8]) -> Result<Network<'_>, LinkError> {
    let proto = be16(body, 0).ok_or(LinkError::Truncated)?;
    let packet = body.get(2..).ok_or(LinkError::Truncated)?;
    match proto {
        PPP_IPV4 => Ok(Network::Ipv4(packet)),
        PPP_IPV6 => Ok(Network::Ipv6(packet)),
        _ => Ok(Network::NotIp),
    }
}

/// Follows an ethertype through VLAN tags, MPLS labels and PPPoE to IP.
fn by_ethertype(ethertype: u16, payload: &[u8], depth: usize) -> Result<Network<'_>, LinkError> {
    if depth > MAX_ENCAPSULATION_DEPTH {
        return Err(LinkError::TooDeep);
    }
    match ethertype {
        ETHERTYPE_IPV4 => Ok(Network::Ipv4(payload)),
        ETHERTYPE_IPV6 => Ok(Network::Ipv6(payload)),
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
            // A tag is 2 bytes of TCI followed by the inner ethertype.
            let inner = be16(payload, 2).ok_or(LinkError::Truncated)?;
            by_ethertype(
                inner,
                payload.get(4..).ok_or(LinkError::Truncated)?,
                depth + 1,
            )
        }
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => {
            let mut rest = payload;
            for _ in 0..MAX_ENCAPSULATION_DEPTH {
                let bos = rest.get(2).ok_or(LinkError::Truncated)? & 0x01 != 0;
                rest = rest.get(4..).ok_or(LinkError::Truncated)?;
                if bos {
                    // MPLS does not say what it carries; IP is recognised by its version.
                    return by_version(rest);
                }
            }
            Err(LinkError::TooDeep)
        }
        ETHERTYPE_PPPOE_SESSION => {
            // 6 bytes of PPPoE header, then the PPP protocol field.
            by_ppp_protocol(payload.get(6..).ok_or(LinkError::Truncated)?)
        }
        _ => Ok(Network::NotIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP4: [u8; 4] = [0x45, 0, 0, 20];
    const IP6: [u8; 4] = [0x60, 0, 0, 0];

    fn eth(ethertype: u16, rest: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 12];
        v.extend_from_slice(&ethertype.to_be_bytes());
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn ethernet_plain_vlan_and_qinq() {
        assert_eq!(decode(1, &eth(0x0800, &IP4)), Ok(Network::Ipv4(&IP4)));
        let mut tagged = vec![0x00, 0x05, 0x86, 0xdd];
        tagged.extend_from_slice(&IP6);
        assert_eq!(decode(1, &eth(0x8100, &tagged)), Ok(Network::Ipv6(&IP6)));
        let mut qinq = vec![0x00, 0x07, 0x81, 0x00];
        qinq.extend_from_slice(&tagged);
        assert_eq!(decode(1, &eth(0x88a8, &qinq)), Ok(Network::Ipv6(&IP6)));
        assert_eq!(decode(1, &eth(0x0806, &[0; 28])), Ok(Network::NotIp));
        assert_eq!(decode(1, &[0u8; 13]), Err(LinkError::Truncated));
    }

    #[test]
    fn vlan_bomb_is_bounded() {
        let mut body = Vec::new();
        for _ in 0..100 {
            body.extend_from_slice(&[0x00, 0x01, 0x81, 0x00]);
        }
        assert_eq!(decode(1, &eth(0x8100, &body)), Err(LinkError::TooDeep));
    }

    #[test]
    fn mpls_and_pppoe() {
        let mut mpls = vec![0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40];
        mpls.extend_from_slice(&IP4);
        assert_eq!(decode(1, &eth(0x8847, &mpls)), Ok(Network::Ipv4(&IP4)));
        let mut pppoe = vec![0x11, 0x00, 0x00, 0x01, 0x00, 0x16, 0x00, 0x21];
        pppoe.extend_from_slice(&IP4);
        assert_eq!(decode(1, &eth(0x8864, &pppoe)), Ok(Network::Ipv4(&IP4)));
    }

    #[test]
    fn null_family_either_byte_order() {
        let mut le = 2u32.to_le_bytes().to_vec();
        le.extend_from_slice(&IP4);
        assert_eq!(decode(0, &le), Ok(Network::Ipv4(&IP4)));
        let mut be = 30u32.to_be_bytes().to_vec();
        be.extend_from_slice(&IP6);
        assert_eq!(decode(0, &be), Ok(Network::Ipv6(&IP6)));
        let mut lo = 24u32.to_be_bytes().to_vec();
        lo.extend_from_slice(&IP6);
        assert_eq!(decode(108, &lo), Ok(Network::Ipv6(&IP6)));
    }

    #[test]
    fn cooked_raw_and_ppp() {
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(&IP4);
        assert_eq!(decode(113, &sll), Ok(Network::Ipv4(&IP4)));
        let mut sll2 = vec![0x86, 0xdd];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&IP6);
        assert_eq!(decode(276, &sll2), Ok(Network::Ipv6(&IP6)));
        for lt in [101, 12, 14] {
            assert_eq!(decode(lt, &IP6), Ok(Network::Ipv6(&IP6)));
            assert_eq!(decode(lt, &IP4), Ok(Network::Ipv4(&IP4)));
        }
        assert_eq!(decode(228, &IP4), Ok(Network::Ipv4(&IP4)));
        assert_eq!(decode(229, &IP6), Ok(Network::Ipv6(&IP6)));
        let mut ppp = vec![0xff, 0x03, 0x00, 0x57];
        ppp.extend_from_slice(&IP6);
        assert_eq!(decode(9, &ppp), Ok(Network::Ipv6(&IP6)));
        assert_eq!(decode(9, &ppp[2..]), Ok(Network::Ipv6(&IP6)));
        assert_eq!(decode(50, &ppp), Ok(Network::Ipv6(&IP6)));
        assert_eq!(decode(147, &IP4), Err(LinkError::Unsupported));
    }
}
