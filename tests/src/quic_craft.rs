//! QUIC packets for hostile-input tests and the `quic_datagrams` fuzz target: the UDP payloads
//! of a capture, the Initial packets in them opened into their header fields and plaintext
//! frames ([`Initial`]), and new Initials sealed from edited fields, so that tests can send
//! well-formed-but-hostile packets that the analyzer decrypts.
//!
//! The crypto is the analyzer's own: [`InitialKeys::open_in_place`] and
//! [`InitialKeys::seal_in_place`] (ring's AES-128-GCM and AES header protection). This module
//! only lays out bytes: long headers (RFC 9000 §17.2), variable-length integers (§16) and the
//! frames the analyzer accepts in an Initial (§19).
//!
//! Standard library and `tls_analyzer` only, so that it can be included with `#[path]` from
//! the analyzer's tests and from the fuzz crate (which is not a workspace member) as well as
//! used as `pac_tests::quic_craft`. Nothing here panics on wire data: hostile inputs give
//! `None`.
#![allow(dead_code)] // Each includer uses a different part.

use tls_analyzer::quic::protection::{InitialKeys, Side, TAG_LEN, VERSION_2};

/// A QUIC variable-length integer's encoding (RFC 9000 §16), in its shortest form; values
/// above 2^62 - 1 are cut to that maximum.
pub fn varint(v: u64) -> Vec<u8> {
    let v = v.min((1 << 62) - 1);
    match v {
        0..=0x3f => vec![v as u8],
        0x40..=0x3fff => ((v as u16) | 0x4000).to_be_bytes().to_vec(),
        0x4000..=0x3fff_ffff => ((v as u32) | 0x8000_0000).to_be_bytes().to_vec(),
        _ => (v | 0xc000_0000_0000_0000).to_be_bytes().to_vec(),
    }
}

/// `v` as a variable-length integer of exactly `len` bytes (1, 2, 4 or 8), or `None` when it
/// does not fit: the non-shortest encodings RFC 9000 allows.
pub fn varint_with_len(v: u64, len: usize) -> Option<Vec<u8>> {
    let (prefix, bits) = match len {
        1 => (0u64, 6),
        2 => (1, 14),
        4 => (2, 30),
        8 => (3, 62),
        _ => return None,
    };
    if v >= 1u64 << bits {
        return None;
    }
    let word = (prefix << (len * 8 - 2)) | v;
    Some(word.to_be_bytes()[8 - len..].to_vec())
}

/// Reads a variable-length integer at the start of `data`: its value and encoded length.
pub fn read_varint(data: &[u8]) -> Option<(u64, usize)> {
    let first = *data.first()?;
    let len = 1usize << (first >> 6);
    let bytes = data.get(..len)?;
    let v = bytes
        .iter()
        .skip(1)
        .fold(u64::from(first & 0x3f), |v, &b| (v << 8) | u64::from(b));
    Some((v, len))
}

/// A flow's datagrams in order: (sent by the flow's originator, UDP payload).
pub type Datagrams = Vec<(bool, Vec<u8>)>;

/// A CRYPTO frame (type 0x06).
pub fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend(varint(offset));
    f.extend(varint(data.len() as u64));
    f.extend_from_slice(data);
    f
}

/// A transport CONNECTION_CLOSE frame (type 0x1c).
pub fn connection_close_frame(error_code: u64, frame_type: u64, reason: &[u8]) -> Vec<u8> {
    let mut f = vec![0x1c];
    f.extend(varint(error_code));
    f.extend(varint(frame_type));
    f.extend(varint(reason.len() as u64));
    f.extend_from_slice(reason);
    f
}

/// `n` PADDING frames.
pub fn padding(n: usize) -> Vec<u8> {
    vec![0; n]
}

/// The long-header packet type bits (0x30 of the first byte) of an Initial in `version`.
pub fn initial_type_bits(version: u32) -> u8 {
    if version == VERSION_2 {
        0x10
    } else {
        0x00
    }
}

/// Where the parts of an unprotected-so-far long header lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongLayout {
    /// The version field.
    pub version: u32,
    /// The Destination Connection ID.
    pub dcid: Vec<u8>,
    /// The Source Connection ID.
    pub scid: Vec<u8>,
    /// The token (Initial packets only; empty otherwise).
    pub token: Vec<u8>,
    /// The Length field's value.
    pub length: u64,
    /// Where the protected packet number starts.
    pub pn_offset: usize,
    /// The packet's end in the datagram: `pn_offset + length`, or `None` if that is beyond it.
    pub end: Option<usize>,
    /// Whether the type bits say Initial for this version.
    pub is_initial: bool,
}

/// The layout of a long-header Initial, 0-RTT or Handshake packet at the start of `data`.
/// `None` for a short header, a Retry, a Version Negotiation packet or a truncated header.
pub fn long_layout(data: &[u8]) -> Option<LongLayout> {
    let first = *data.first()?;
    if first & 0xc0 != 0xc0 {
        return None;
    }
    let version = u32::from_be_bytes(data.get(1..5)?.try_into().ok()?);
    if version == 0 {
        return None;
    }
    let mut p = 5;
    let dcid_len = usize::from(*data.get(p)?);
    let dcid = data.get(p + 1..p + 1 + dcid_len)?.to_vec();
    p += 1 + dcid_len;
    let scid_len = usize::from(*data.get(p)?);
    let scid = data.get(p + 1..p + 1 + scid_len)?.to_vec();
    p += 1 + scid_len;
    let type_bits = first & 0x30;
    let is_initial = type_bits == initial_type_bits(version);
    let retry_bits = if version == VERSION_2 { 0x00 } else { 0x30 };
    if type_bits == retry_bits {
        return None;
    }
    let mut token = Vec::new();
    if is_initial {
        let (token_len, n) = read_varint(data.get(p..)?)?;
        p += n;
        let token_len = usize::try_from(token_len).ok()?;
        token = data.get(p..p.checked_add(token_len)?)?.to_vec();
        p += token_len;
    }
    let (length, n) = read_varint(data.get(p..)?)?;
    p += n;
    let end = usize::try_from(length)
        .ok()
        .and_then(|l| p.checked_add(l))
        .filter(|&e| e <= data.len());
    Some(LongLayout {
        version,
        dcid,
        scid,
        token,
        length,
        pn_offset: p,
        end,
        is_initial,
    })
}

/// An Initial packet's fields in the clear: what [`Initial::open`] reads and [`Initial::seal`]
/// writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initial {
    /// The version field (decides the type bits and the keys).
    pub version: u32,
    /// The Destination Connection ID written in the header.
    pub dcid: Vec<u8>,
    /// The Source Connection ID.
    pub scid: Vec<u8>,
    /// The token.
    pub token: Vec<u8>,
    /// The packet number.
    pub packet_number: u32,
    /// The packet number's encoded length, 1 to 4.
    pub pn_len: u8,
    /// The plaintext frames.
    pub frames: Vec<u8>,
}

impl Initial {
    /// A new Initial with a 1-byte packet number `pn` and the given frames.
    pub fn new(version: u32, dcid: &[u8], scid: &[u8], pn: u8, frames: Vec<u8>) -> Self {
        Initial {
            version,
            dcid: dcid.to_vec(),
            scid: scid.to_vec(),
            token: Vec::new(),
            packet_number: u32::from(pn),
            pn_len: 1,
            frames,
        }
    }

    /// Opens the Initial packet at the start of `data` with the keys of `side` derived from
    /// `client_dcid` (the client's first Destination Connection ID); returns it and the bytes
    /// it spans. `None` when it is not a complete Initial or does not decrypt.
    pub fn open(data: &[u8], client_dcid: &[u8], side: Side) -> Option<(Initial, usize)> {
        let layout = long_layout(data)?;
        if !layout.is_initial {
            return None;
        }
        let end = layout.end?;
        let keys = InitialKeys::derive(layout.version, client_dcid, side)?;
        let mut packet = data.get(..end)?.to_vec();
        let opened = keys.open_in_place(&mut packet, layout.pn_offset).ok()?;
        let pn_len = u8::try_from(opened.payload.start - layout.pn_offset).ok()?;
        let initial = Initial {
            version: layout.version,
            dcid: layout.dcid,
            scid: layout.scid,
            token: layout.token,
            packet_number: u32::try_from(opened.packet_number).ok()?,
            pn_len,
            frames: packet.get(opened.payload)?.to_vec(),
        };
        Some((initial, end))
    }

    /// The protected packet, keyed for `side` from `client_dcid`. Frames too short for the
    /// header protection sample are padded (PADDING frames) first; the Length field takes
    /// two bytes, or four past 16,383. `None` when the analyzer's sealing refuses (a
    /// protected part longer than its 10,000-byte cap, an unknown version).
    pub fn seal(&self, client_dcid: &[u8], side: Side) -> Option<Vec<u8>> {
        let pn_len = usize::from(self.pn_len.clamp(1, 4));
        let mut frames = self.frames.clone();
        // The sample starts 4 bytes after the packet number offset and is 16 bytes long.
        let min_frames = 4usize.saturating_sub(pn_len);
        if frames.len() < min_frames {
            frames.resize(min_frames, 0);
        }
        let length = (pn_len + frames.len() + TAG_LEN) as u64;
        let len_field = varint_with_len(length, 2).or_else(|| varint_with_len(length, 4))?;
        let mut p = vec![0xc0 | initial_type_bits(self.version) | (pn_len as u8 - 1)];
        p.extend_from_slice(&self.version.to_be_bytes());
        p.push(u8::try_from(self.dcid.len()).ok()?);
        p.extend_from_slice(&self.dcid);
        p.push(u8::try_from(self.scid.len()).ok()?);
        p.extend_from_slice(&self.scid);
        p.extend(varint(self.token.len() as u64));
        p.extend_from_slice(&self.token);
        p.extend(len_field);
        let pn_offset = p.len();
        p.extend_from_slice(&self.packet_number.to_be_bytes()[4 - pn_len..]);
        p.extend_from_slice(&frames);
        p.extend_from_slice(&[0; TAG_LEN]);
        let keys = InitialKeys::derive(self.version, client_dcid, side)?;
        keys.seal_in_place(&mut p, pn_offset).ok()?;
        Some(p)
    }
}

/// Whether `data` starts with a Retry packet (long header, the version's Retry type bits).
pub fn is_retry(data: &[u8]) -> bool {
    let (Some(&first), Some(version)) = (data.first(), data.get(1..5)) else {
        return false;
    };
    let version = u32::from_be_bytes([version[0], version[1], version[2], version[3]]);
    let retry_bits = if version == VERSION_2 { 0x00 } else { 0x30 };
    first & 0xc0 == 0xc0 && version != 0 && first & 0x30 == retry_bits
}

/// An Initial of a flow that opens with the keys the analyzer would use.
#[derive(Debug, Clone)]
pub struct Decryptable {
    /// Index of its datagram.
    pub datagram: usize,
    /// Where it starts in the datagram (after coalesced packets before it).
    pub offset: usize,
    /// Its length.
    pub len: usize,
    /// Whose keys.
    pub side: Side,
    /// The client Destination Connection ID the keys come from.
    pub client_dcid: Vec<u8>,
    /// The packet opened.
    pub initial: Initial,
}

impl Decryptable {
    /// `self.initial` edited and sealed again with its keys; `None` when sealing refuses.
    pub fn reseal(&self, edited: &Initial) -> Option<Vec<u8>> {
        edited.seal(&self.client_dcid, self.side)
    }
}

/// Every Initial of `flow` that opens, walking coalesced packets by their Length fields. The
/// keys are the analyzer's: from the first client Initial's Destination Connection ID, and
/// after a Retry from the next client Initial's.
pub fn decryptable_initials(flow: &[(bool, &[u8])]) -> Vec<Decryptable> {
    let mut dcid: Option<Vec<u8>> = None;
    let mut out = Vec::new();
    for (i, (is_orig, d)) in flow.iter().enumerate() {
        if !*is_orig && is_retry(d) {
            dcid = None;
            continue;
        }
        if *is_orig && dcid.is_none() {
            dcid = long_layout(d).filter(|l| l.is_initial).map(|l| l.dcid);
        }
        let Some(client_dcid) = &dcid else {
            continue;
        };
        let side = if *is_orig { Side::Client } else { Side::Server };
        let mut at = 0;
        while let Some(end) = d.get(at..).and_then(long_layout).and_then(|l| l.end) {
            if let Some((initial, len)) = d
                .get(at..)
                .and_then(|p| Initial::open(p, client_dcid, side))
            {
                out.push(Decryptable {
                    datagram: i,
                    offset: at,
                    len,
                    side,
                    client_dcid: client_dcid.clone(),
                    initial,
                });
            }
            at += end;
        }
    }
    out
}

/// The CRYPTO frames of a decrypted payload (offset, data), in order; `None` if a frame other
/// than PADDING, PING, ACK, CRYPTO or CONNECTION_CLOSE appears or one is cut.
pub fn crypto_frames(mut frames: &[u8]) -> Option<Vec<(u64, Vec<u8>)>> {
    let mut out = Vec::new();
    while let Some((ty, n)) = read_varint(frames) {
        frames = frames.get(n..)?;
        match ty {
            0x00 | 0x01 => {}
            0x02 | 0x03 => {
                // Largest acknowledged, delay, range count, first range, then the ranges.
                let mut fields = Vec::new();
                for _ in 0..4 {
                    let (v, n) = read_varint(frames)?;
                    fields.push(v);
                    frames = frames.get(n..)?;
                }
                let pairs = fields[2].checked_mul(2)?;
                let extra = if ty == 0x03 { 3 } else { 0 };
                for _ in 0..pairs.checked_add(extra)? {
                    let (_, n) = read_varint(frames)?;
                    frames = frames.get(n..)?;
                }
            }
            0x06 => {
                let (offset, n) = read_varint(frames)?;
                frames = frames.get(n..)?;
                let (len, n) = read_varint(frames)?;
                frames = frames.get(n..)?;
                let len = usize::try_from(len).ok()?;
                out.push((offset, frames.get(..len)?.to_vec()));
                frames = frames.get(len..)?;
            }
            0x1c => {
                for _ in 0..2 {
                    let (_, n) = read_varint(frames)?;
                    frames = frames.get(n..)?;
                }
                let (len, n) = read_varint(frames)?;
                frames = frames.get(n..)?;
                frames = frames.get(usize::try_from(len).ok()?..)?;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The CRYPTO stream bytes from offset 0 that the frames make contiguous.
pub fn crypto_stream(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    loop {
        let before = out.len();
        for (offset, data) in frames {
            let (start, end) = (*offset, offset.saturating_add(data.len() as u64));
            let have = out.len() as u64;
            if start <= have && end > have {
                let skip = usize::try_from(have - start).unwrap_or(data.len());
                out.extend_from_slice(data.get(skip..).unwrap_or_default());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// The UDP payloads of each UDP flow of a classic pcap (Ethernet, IPv4 or IPv6, no
/// fragments), in capture order: `(from the flow's first sender, payload)`. Other packets and
/// link types are skipped; a malformed file gives what was read up to the damage.
pub fn pcap_udp_flows(pcap: &[u8]) -> Vec<Datagrams> {
    // (one endpoint, the other, datagrams): endpoints as address bytes and port.
    let mut flows: Vec<(Vec<u8>, Vec<u8>, Datagrams)> = Vec::new();
    let Some(magic) = pcap.get(..4) else {
        return Vec::new();
    };
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return Vec::new(),
    };
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    if u32_at(pcap, 20) != Some(1) {
        return Vec::new();
    }
    let mut off = 24;
    while let Some(incl) = u32_at(pcap, off + 8) {
        let start = off + 16;
        let Some(frame) = pcap.get(start..start + incl as usize) else {
            break;
        };
        off = start + incl as usize;
        let Some((src, dst, payload)) = udp_of_ethernet(frame) else {
            continue;
        };
        let (a, b) = (src.clone(), dst.clone());
        match flows
            .iter_mut()
            .find(|(x, y, _)| (x == &a && y == &b) || (x == &b && y == &a))
        {
            Some((x, _, items)) => items.push((*x == a, payload.to_vec())),
            None => flows.push((a, b, vec![(true, payload.to_vec())])),
        }
    }
    flows.into_iter().map(|(_, _, items)| items).collect()
}

/// `(source address and port, destination address and port, payload)` of an Ethernet frame
/// carrying UDP.
fn udp_of_ethernet(frame: &[u8]) -> Option<(Vec<u8>, Vec<u8>, &[u8])> {
    let ethertype = u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?);
    let ip = frame.get(14..)?;
    let (proto, src, dst, l4) = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
            (
                *ip.get(9)?,
                ip.get(12..16)?,
                ip.get(16..20)?,
                ip.get(ihl..total)?,
            )
        }
        0x86dd => {
            let plen = usize::from(u16::from_be_bytes(ip.get(4..6)?.try_into().ok()?));
            (
                *ip.get(6)?,
                ip.get(8..24)?,
                ip.get(24..40)?,
                ip.get(40..40 + plen)?,
            )
        }
        _ => return None,
    };
    if proto != 17 {
        return None;
    }
    let mut s = src.to_vec();
    s.extend_from_slice(l4.get(0..2)?);
    let mut d = dst.to_vec();
    d.extend_from_slice(l4.get(2..4)?);
    Some((s, d, l4.get(8..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_in_every_length() {
        for v in [
            0u64,
            1,
            63,
            64,
            16383,
            16384,
            (1 << 30) - 1,
            1 << 30,
            (1 << 62) - 1,
        ] {
            let e = varint(v);
            assert_eq!(read_varint(&e), Some((v, e.len())), "{v}");
            for len in [1, 2, 4, 8] {
                if let Some(e) = varint_with_len(v, len) {
                    assert_eq!(read_varint(&e), Some((v, len)), "{v} in {len}");
                }
            }
        }
        assert_eq!(varint_with_len(64, 1), None);
        assert_eq!(varint(u64::MAX), varint((1 << 62) - 1));
    }

    #[test]
    fn a_sealed_initial_opens_to_the_same_fields() {
        let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
        for version in [1, VERSION_2] {
            let i = Initial::new(version, &dcid, b"", 2, crypto_frame(0, b"\x01\0\0\x01x"));
            let p = i.seal(&dcid, Side::Client).unwrap();
            let (back, used) = Initial::open(&p, &dcid, Side::Client).unwrap();
            assert_eq!(used, p.len());
            assert_eq!(back, i);
            assert!(Initial::open(&p, &dcid, Side::Server).is_none());
        }
    }
}
