//! IP packets in, transport payloads out.
//!
//! In: an IPv4 or IPv6 packet as [`super::link`] found it. Out: [`Ip::Whole`] — addresses,
//! protocol number and the transport-layer bytes (a sub-slice trimmed to the IP length, so
//! Ethernet padding never reaches TCP) — or [`Ip::Fragment`], which [`Defragmenter`] turns into a
//! whole datagram (an owned buffer) once every piece is there. IPv6 extension headers are
//! skipped; IPv6 fragments are reassembled by the same machinery as IPv4 ones. Checksums are not
//! verified (like `zeek -C`). Problems come back as a weird name plus detail; the packet is then
//! dropped.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::weird;

/// Largest datagram the defragmenter rebuilds (the IPv4 maximum); fragments reaching beyond
/// raise [`weird::EXCESSIVELY_LARGE_FRAGMENT`] and their datagram is dropped.
pub const MAX_REASSEMBLED_SIZE: usize = 65_535;
/// Most fragments kept for one datagram ([`weird::TOO_MANY_FRAGMENTS`] beyond).
pub const MAX_FRAGMENTS_PER_DATAGRAM: usize = 64;
/// Most datagrams under reassembly at once ([`weird::FRAGMENT_TABLE_FULL`] beyond, evicting the
/// oldest). With [`MAX_REASSEMBLED_SIZE`] this bounds defragmentation memory to about 32 MiB.
pub const MAX_PENDING_DATAGRAMS: usize = 256;
/// Seconds a datagram may wait for its missing fragments ([`weird::FRAGMENT_TIMEOUT`] after).
pub const FRAGMENT_TIMEOUT: f64 = 60.0;
/// Most IPv6 extension headers walked before giving up ([`weird::IPV6_EXTENSION_LIMIT`]).
pub const MAX_IPV6_EXTENSION_HEADERS: usize = 16;

/// A transport-layer payload with its IP envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number (6 TCP, 17 UDP, ...).
    pub proto: u8,
    /// The transport header and its data.
    pub payload: &'a [u8],
}

/// One fragment of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// The datagram's addresses and protocol; `payload` is this fragment's piece.
    pub transport: Transport<'a>,
    /// IPv4 identification (16 bits) or IPv6 fragment identification (32 bits).
    pub id: u32,
    /// Byte offset of the piece in the datagram's payload.
    pub offset: usize,
    /// More fragments follow.
    pub more: bool,
}

/// A decoded IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ip<'a> {
    /// A complete datagram.
    Whole(Transport<'a>),
    /// A piece of one.
    Fragment(Fragment<'a>),
}

/// Why a packet was dropped: a weird name and details.
pub type IpError = (&'static str, String);

fn be16(d: &[u8], at: usize) -> Option<u16> {
    let b: [u8; 2] = d.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(b))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn truncated(what: &str) -> IpError {
    (weird::TRUNCATED_IP, what.to_string())
}

/// Decodes an IPv4 packet.
pub fn parse_ipv4(data: &[u8]) -> Result<Ip<'_>, IpError> {
    let first = *data.first().ok_or_else(|| truncated("empty IPv4 packet"))?;
    if first >> 4 != 4 {
        return Err((
            weird::BAD_IP_HEADER_LEN,
            format!("IP version {}", first >> 4),
        ));
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 {
        return Err((weird::BAD_IP_HEADER_LEN, format!("header length {ihl}")));
    }
    if data.len() < ihl {
        return Err(truncated("IPv4 header"));
    }
    let mut total = usize::from(be16(data, 2).ok_or_else(|| truncated("IPv4 header"))?);
    if total == 0 {
        // Segmentation offload leaves the length at zero; the capture knows the real size.
        total = data.len();
    }
    if total < ihl {
        return Err((
            weird::BAD_IP_HEADER_LEN,
            format!("total length {total} below header length {ihl}"),
        ));
    }
    let payload = data
        .get(ihl..total)
        .ok_or_else(|| truncated("captured length below IPv4 total length"))?;
    let frag = be16(data, 6).ok_or_else(|| truncated("IPv4 header"))?;
    let proto = *data.get(9).ok_or_else(|| truncated("IPv4 header"))?;
    let src: [u8; 4] = data
        .get(12..16)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| truncated("IPv4 header"))?;
    let dst: [u8; 4] = data
        .get(16..20)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| truncated("IPv4 header"))?;
    let transport = Transport {
        src: IpAddr::V4(Ipv4Addr::from(src)),
        dst: IpAddr::V4(Ipv4Addr::from(dst)),
        proto,
        payload,
    };
    let more = frag & 0x2000 != 0;
    let offset = usize::from(frag & 0x1fff) * 8;
    if more || offset != 0 {
        Ok(Ip::Fragment(Fragment {
            transport,
            id: u32::from(be16(data, 4).unwrap_or(0)),
            offset,
            more,
        }))
    } else {
        Ok(Ip::Whole(transport))
    }
}

/// Decodes an IPv6 packet, walking its extension headers.
pub fn parse_ipv6(data: &[u8]) -> Result<Ip<'_>, IpError> {
    if data.len() < 40 {
        return Err(truncated("IPv6 header"));
    }
    let plen = usize::from(be16(data, 4).unwrap_or(0));
    let end = if plen == 0 {
        // Jumbograms and segmentation offload: trust the capture.
        data.len()
    } else {
        40 + plen
    };
    let body = data
        .get(40..end)
        .ok_or_else(|| truncated("captured length below IPv6 payload length"))?;
    let src: [u8; 16] = data
        .get(8..24)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| truncated("IPv6 header"))?;
    let dst: [u8; 16] = data
        .get(24..40)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| truncated("IPv6 header"))?;
    let src = IpAddr::V6(Ipv6Addr::from(src));
    let dst = IpAddr::V6(Ipv6Addr::from(dst));
    let mut next = *data.get(6).ok_or_else(|| truncated("IPv6 header"))?;
    let mut rest = body;
    let mut fragment: Option<(u32, usize, bool)> = None;
    for _ in 0..MAX_IPV6_EXTENSION_HEADERS {
        let len = match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6: length in
            // 8-octet units after the first 8.
            0 | 43 | 60 | 135 | 139 | 140 => {
                (usize::from(*rest.get(1).ok_or_else(|| truncated("IPv6 extension"))?) + 1) * 8
            }
            // Authentication header: length in 4-octet units, minus 2.
            51 => (usize::from(*rest.get(1).ok_or_else(|| truncated("IPv6 AH"))?) + 2) * 4,
            44 => {
                let off_flags = be16(rest, 2).ok_or_else(|| truncated("IPv6 fragment"))?;
                let id = be32(rest, 4).ok_or_else(|| truncated("IPv6 fragment"))?;
                fragment = Some((id, usize::from(off_flags >> 3) * 8, off_flags & 1 != 0));
                8
            }
            _ => {
                let transport = Transport {
                    src,
                    dst,
                    proto: next,
                    payload: rest,
                };
                return Ok(match fragment {
                    Some((id, offset, more)) if more || offset != 0 => Ip::Fragment(Fragment {
                        transport,
                        id,
                        offset,
                        more,
                    }),
                    _ => Ip::Whole(transport),
                });
            }
        };
        next = *rest.first().ok_or_else(|| truncated("IPv6 extension"))?;
        rest = rest.get(len..).ok_or_else(|| truncated("IPv6 extension"))?;
        if fragment.is_some_and(|(_, offset, _)| offset != 0) {
            // A non-first fragment's payload is opaque: the header chain ends here.
            let (id, offset, more) = fragment.unwrap_or((0, 0, false));
            return Ok(Ip::Fragment(Fragment {
                transport: Transport {
                    src,
                    dst,
                    proto: next,
                    payload: rest,
                },
                id,
                offset,
                more,
            }));
        }
    }
    Err((
        weird::IPV6_EXTENSION_LIMIT,
        format!("more than {MAX_IPV6_EXTENSION_HEADERS} extension headers"),
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

#[derive(Debug)]
struct Pending {
    /// Pieces in arrival order; assembly lets the earliest win where they overlap.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Payload length, known once the last fragment (more = false) arrived.
    total: Option<usize>,
    serial: u64,
}

/// Rebuilds fragmented datagrams, with bounded memory and time.
#[derive(Debug, Default)]
pub struct Defragmenter {
    pending: HashMap<FragKey, Pending>,
    /// Creation order, for timeouts and eviction; entries whose serial no longer matches are
    /// stale (the datagram completed) and are skipped.
    order: VecDeque<(FragKey, u64, f64)>,
    next_serial: u64,
}

impl Defragmenter {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of datagrams under reassembly.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Drops datagrams that waited longer than [`FRAGMENT_TIMEOUT`].
    pub fn expire(&mut self, now: f64, weird: &mut dyn FnMut(&'static str, String)) {
        while let Some(&(key, serial, created)) = self.order.front() {
            if created + FRAGMENT_TIMEOUT > now {
                break;
            }
            self.order.pop_front();
            if self.pending.get(&key).is_some_and(|p| p.serial == serial) {
                self.pending.remove(&key);
                weird(weird::FRAGMENT_TIMEOUT, describe(&key));
            }
        }
    }

    /// Adds a fragment; returns the datagram's payload when it is complete.
    pub fn add(
        &mut self,
        now: f64,
        frag: &Fragment<'_>,
        weird: &mut dyn FnMut(&'static str, String),
    ) -> Option<Vec<u8>> {
        self.expire(now, weird);
        let t = &frag.transport;
        let key = FragKey {
            src: t.src,
            dst: t.dst,
            proto: t.proto,
            id: frag.id,
        };
        let end = frag.offset.saturating_add(t.payload.len());
        if end > MAX_REASSEMBLED_SIZE {
            self.pending.remove(&key);
            weird(
                weird::EXCESSIVELY_LARGE_FRAGMENT,
                format!("{} ends at {end}", describe(&key)),
            );
            return None;
        }
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= MAX_PENDING_DATAGRAMS {
                self.evict_oldest(weird);
            }
            let serial = self.next_serial;
            self.next_serial += 1;
            self.pending.insert(
                key,
                Pending {
                    pieces: Vec::new(),
                    total: None,
                    serial,
                },
            );
            self.order.push_back((key, serial, now));
            if self.order.len() > 2 * MAX_PENDING_DATAGRAMS + 16 {
                let pending = &self.pending;
                self.order
                    .retain(|(k, s, _)| pending.get(k).is_some_and(|p| p.serial == *s));
            }
        }
        let p = self.pending.get_mut(&key)?;
        if p.pieces.len() >= MAX_FRAGMENTS_PER_DATAGRAM {
            self.pending.remove(&key);
            weird(weird::TOO_MANY_FRAGMENTS, describe(&key));
            return None;
        }
        for (off, bytes) in &p.pieces {
            let lo = frag.offset.max(*off);
            let hi = end.min(off + bytes.len());
            if lo < hi {
                let old = bytes.get(lo - off..hi - off);
                let new = t.payload.get(lo - frag.offset..hi - frag.offset);
                if old != new {
                    weird(
                        weird::FRAGMENT_INCONSISTENCY,
                        format!("{} bytes {lo}..{hi}", describe(&key)),
                    );
                    break;
                }
            }
        }
        if !frag.more {
            match p.total {
                Some(total) if total != end => weird(
                    weird::FRAGMENT_INCONSISTENCY,
                    format!("{} second last fragment", describe(&key)),
                ),
                Some(_) => {}
                None => p.total = Some(end),
            }
        }
        p.pieces.push((frag.offset, t.payload.to_vec()));
        let total = p.total?;
        // Complete when the pieces cover 0..total without a hole.
        let mut spans: Vec<(usize, usize)> =
            p.pieces.iter().map(|(o, b)| (*o, o + b.len())).collect();
        spans.sort_unstable();
        let mut covered = 0;
        for (lo, hi) in spans {
            if lo > covered {
                return None;
            }
            covered = covered.max(hi);
        }
        if covered < total {
            return None;
        }
        let p = self.pending.remove(&key)?;
        let mut out = vec![0u8; total];
        // Later pieces first, so that earlier ones overwrite them: the first data wins.
        for (off, bytes) in p.pieces.iter().rev() {
            let hi = (off + bytes.len()).min(total);
            if let (Some(dst), Some(src)) = (out.get_mut(*off..hi), bytes.get(..hi - off)) {
                dst.copy_from_slice(src);
            }
        }
        Some(out)
    }

    fn evict_oldest(&mut self, weird: &mut dyn FnMut(&'static str, String)) {
        while let Some((key, serial, _)) = self.order.pop_front() {
            if self.pending.get(&key).is_some_and(|p| p.serial == serial) {
                self.pending.remove(&key);
                weird(weird::FRAGMENT_TABLE_FULL, describe(&key));
                return;
            }
        }
    }
}

fn describe(k: &FragKey) -> String {
    format!("{} -> {} proto {} id {}", k.src, k.dst, k.proto, k.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(id: u16, off8: u16, more: bool, payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&id.to_be_bytes());
        let flags = off8 | if more { 0x2000 } else { 0 };
        h.extend_from_slice(&flags.to_be_bytes());
        h.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        h.extend_from_slice(payload);
        h
    }

    #[test]
    fn ipv4_trims_padding_and_handles_zero_length() {
        let mut p = v4(1, 0, false, b"abcd");
        p.extend_from_slice(&[0; 6]);
        let Ok(Ip::Whole(t)) = parse_ipv4(&p) else {
            panic!("not whole")
        };
        assert_eq!(t.payload, b"abcd");
        assert_eq!(t.proto, 17);
        p[2] = 0;
        p[3] = 0;
        let Ok(Ip::Whole(t)) = parse_ipv4(&p) else {
            panic!("not whole")
        };
        assert_eq!(t.payload.len(), 10);
        let short = v4(1, 0, false, b"abcdef");
        assert_eq!(
            parse_ipv4(&short[..22]).map_err(|e| e.0),
            Err(weird::TRUNCATED_IP)
        );
    }

    #[test]
    fn fragments_out_of_order_first_wins() {
        let mut d = Defragmenter::new();
        let mut weirds = Vec::new();
        let mut sink = |n: &'static str, _: String| weirds.push(n);
        let p2 = v4(7, 1, false, b"IJKLMNOP");
        let p1 = v4(7, 0, true, b"ABCDEFGH");
        let p1b = v4(7, 0, true, b"ABCDxxxx");
        let Ok(Ip::Fragment(f2)) = parse_ipv4(&p2) else {
            panic!()
        };
        let Ok(Ip::Fragment(f1b)) = parse_ipv4(&p1b) else {
            panic!()
        };
        let Ok(Ip::Fragment(f1)) = parse_ipv4(&p1) else {
            panic!()
        };
        assert_eq!(d.add(0.0, &f2, &mut sink), None);
        // The last piece came first; the first piece completes the datagram.
        let out = d.add(0.1, &f1b, &mut sink);
        assert_eq!(out.as_deref(), Some(&b"ABCDxxxxIJKLMNOP"[..]));
        assert_eq!(d.pending(), 0);
        // A fresh datagram: overlap with different bytes raises a weird, first data wins.
        assert_eq!(d.add(1.0, &f1, &mut sink), None);
        let out = d.add(1.0, &f1b, &mut sink);
        assert_eq!(out, None);
        let out = d.add(1.1, &f2, &mut sink);
        assert_eq!(out.as_deref(), Some(&b"ABCDEFGHIJKLMNOP"[..]));
        assert_eq!(weirds, vec![weird::FRAGMENT_INCONSISTENCY]);
    }

    #[test]
    fn fragment_limits() {
        let mut d = Defragmenter::new();
        let mut weirds = Vec::new();
        let mut sink = |n: &'static str, _: String| weirds.push(n);
        let big = v4(1, 8190, true, &[0u8; 64]);
        let Ok(Ip::Fragment(f)) = parse_ipv4(&big) else {
            panic!()
        };
        assert_eq!(d.add(0.0, &f, &mut sink), None);
        let first = v4(2, 0, true, &[0u8; 8]);
        let Ok(Ip::Fragment(f)) = parse_ipv4(&first) else {
            panic!()
        };
        assert_eq!(d.add(0.0, &f, &mut sink), None);
        assert_eq!(d.pending(), 1);
        d.expire(FRAGMENT_TIMEOUT + 1.0, &mut sink);
        assert_eq!(d.pending(), 0);
        for i in 0..(MAX_PENDING_DATAGRAMS + 1) {
            let p = v4(i as u16, 0, true, &[0u8; 8]);
            let Ok(Ip::Fragment(f)) = parse_ipv4(&p) else {
                panic!()
            };
            d.add(100.0, &f, &mut sink);
        }
        assert_eq!(d.pending(), MAX_PENDING_DATAGRAMS);
        for i in 0..MAX_FRAGMENTS_PER_DATAGRAM + 1 {
            let p = v4(9999, i as u16, true, &[0u8; 8]);
            let Ok(Ip::Fragment(f)) = parse_ipv4(&p) else {
                panic!()
            };
            d.add(100.0, &f, &mut sink);
        }
        assert_eq!(
            weirds,
            vec![
                weird::EXCESSIVELY_LARGE_FRAGMENT,
                weird::FRAGMENT_TIMEOUT,
                weird::FRAGMENT_TABLE_FULL,
                weird::FRAGMENT_TABLE_FULL,
                weird::TOO_MANY_FRAGMENTS,
            ]
        );
    }

    #[test]
    fn ipv6_skips_extension_headers_and_finds_fragments() {
        let mut p = vec![0x60, 0, 0, 0, 0, 0, 0, 64];
        p.extend_from_slice(&[0u8; 16]);
        p.extend_from_slice(&[0u8; 15]);
        p.push(1);
        // Hop-by-hop (8 bytes) -> fragment header (first piece, more) -> TCP.
        p.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
        p.extend_from_slice(&[6, 0, 0x00, 0x01, 0, 0, 0, 42]);
        p.extend_from_slice(b"payload!");
        let plen = (p.len() - 40) as u16;
        p[4..6].copy_from_slice(&plen.to_be_bytes());
        let Ok(Ip::Fragment(f)) = parse_ipv6(&p) else {
            panic!("not a fragment")
        };
        assert_eq!(
            (f.id, f.offset, f.more, f.transport.proto),
            (42, 0, true, 6)
        );
        assert_eq!(f.transport.payload, b"payload!");
        // Without the fragment header the packet is whole.
        let mut q = p[..40].to_vec();
        q[6] = 0;
        q.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
        q.extend_from_slice(b"udp");
        let plen = (q.len() - 40) as u16;
        q[4..6].copy_from_slice(&plen.to_be_bytes());
        let Ok(Ip::Whole(t)) = parse_ipv6(&q) else {
            panic!("not whole")
        };
        assert_eq!((t.proto, t.payload), (17, &b"udp"[..]));
    }
}
