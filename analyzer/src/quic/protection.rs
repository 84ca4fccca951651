//! QUIC Initial packet protection: the keys every observer can derive, and how to open a packet
//! with them.
//!
//! Initial packets are encrypted, but with keys that anyone who sees the client's first
//! Destination Connection ID can compute (RFC 9001 §5.2): `HKDF-Extract(version salt, DCID)`,
//! then `HKDF-Expand-Label` to a "client in" / "server in" secret per direction, then to the
//! AEAD key, IV and header protection key. Zeek decrypts the Initials this way to reach the TLS
//! ClientHello and ServerHello inside them (`src/analyzer/protocol/quic/decrypt_crypto.cc`);
//! this module does the same, with the same rules:
//!
//! * versions (see [`is_supported`]): QUIC v1; the IETF drafts 22 to 34 with each draft's own
//!   Initial salt; Facebook's mvfst versions `0xfaceb001` to `0xfaceb013` (draft-22 and
//!   draft-23 salts); QUIC v2 (RFC 9369) with its own salt and its own labels ("quicv2 key",
//!   "quicv2 iv", "quicv2 hp"). Only AES-128-GCM: Initials never use another AEAD.
//! * both directions are keyed from the *client's* first DCID (the server's Initials too).
//! * header protection is removed as for a long header (4 low bits of the first byte, then up
//!   to 4 packet number bytes), with the mask from AES-128-ECB over the 16-byte sample that
//!   starts 4 bytes after the packet number offset.
//! * the packet number is the truncated one read from the header, without reconstruction
//!   against the largest acknowledged (RFC 9000 §A.3): Initial packet numbers start at 0 and
//!   stay small, so the truncated value is the full one. A peer that numbered an Initial past
//!   `2^(8 * pn_length)` would make the nonce wrong and the tag fail, as it does in Zeek.
//! * a packet whose protected part (packet number, payload and tag) is shorter than 20 bytes
//!   (no room for the header protection sample, which starts 4 bytes in and is 16 long) or
//!   longer than 10,000 bytes (Zeek's cap, sized for jumbo frames) is not opened. Zeek also
//!   counts a decryption that yields no frames as a failure; [`Opened::payload`] can be empty
//!   and the caller decides.
//!
//! Everything works in place on the caller's buffer and allocates nothing: [`InitialKeys`]
//! holds the expanded AES-GCM key, the header protection key and the IV by value.
//!
//! Crypto, chosen by measurement (benches/quic_initial.rs, docs/PERFORMANCE.md): `ring` for
//! AES-128-GCM and the AES header protection mask (`ring::aead::quic`), RustCrypto's `hkdf` over
//! the `sha2` 0.10 the analyzer already uses for the key schedule. Against ring alone,
//! aws-lc-rs and RustCrypto alone (`aes-gcm` 0.10 and 0.11 lines): ring opens the 1200-byte RFC
//! 9001 client Initial in about 195 ns (aws-lc-rs 160 ns, RustCrypto 0.11 355 ns, 0.10 840 ns),
//! while RustCrypto's HKDF derives the keys in about 840 ns against ring's 1070 ns (aws-lc-rs
//! 1300 ns). The only code of ours is the label format of HKDF-Expand-Label (RFC 8446 §7.1) and
//! the XORs of the mask and of the nonce.

use core::fmt;
use core::ops::Range;

use ring::aead::quic::{HeaderProtectionKey, AES_128};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use sha2::Sha256;

/// HKDF-SHA256 keyed with a pseudorandom key (the result of an extract, or a secret).
type Hkdf = hkdf::Hkdf<Sha256>;

/// Which side's Initial keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The client's Initials (secret label "client in").
    Client,
    /// The server's Initials (secret label "server in").
    Server,
}

/// QUIC version 1 (RFC 9000).
pub const VERSION_1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369).
pub const VERSION_2: u32 = 0x6b33_43cf;

/// Length of the AEAD authentication tag (AES-128-GCM).
pub const TAG_LEN: usize = 16;
/// Length of the header protection sample.
const SAMPLE_LEN: usize = 16;
/// Largest packet number encoding: the sample starts this far after the packet number offset,
/// whatever the packet number's real length.
const MAX_PN_LEN: usize = 4;
/// Shortest protected part (packet number, payload, tag) that can be opened: the sample must fit.
/// Zeek's `payload too small` check uses the same 20.
pub const MIN_PROTECTED_LEN: usize = MAX_PN_LEN + SAMPLE_LEN;
/// Longest protected part opened: Zeek's `payload_length too large` cap.
pub const MAX_PROTECTED_LEN: usize = 10_000;
/// Smallest packet number offset of a long header: first byte, version, DCID length, SCID
/// length and a one-byte Length field.
pub const MIN_PN_OFFSET: usize = 7;

/// HKDF-Expand-Label labels for the key, IV and header protection key of one version family.
struct KeyLabels {
    key: &'static [u8],
    iv: &'static [u8],
    hp: &'static [u8],
}

/// QUIC v1 and its drafts (RFC 9001 §5.1).
const LABELS_V1: KeyLabels = KeyLabels {
    key: b"quic key",
    iv: b"quic iv",
    hp: b"quic hp",
};

/// QUIC v2 (RFC 9369 §3.3.2).
const LABELS_V2: KeyLabels = KeyLabels {
    key: b"quicv2 key",
    iv: b"quicv2 iv",
    hp: b"quicv2 hp",
};

/// RFC 9001 §5.2; also drafts 33 and 34.
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// RFC 9369 §3.3.1.
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
/// draft-ietf-quic-tls-22; mvfst `0xfaceb001`.
const SALT_DRAFT_22: [u8; 20] = [
    0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd,
    0x7a, 0x02, 0x64, 0x4a,
];
/// draft-ietf-quic-tls-23 to -28; mvfst `0xfaceb002` to `0xfaceb013`.
const SALT_DRAFT_23: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65,
    0xbe, 0xf9, 0xf5, 0x02,
];
/// draft-ietf-quic-tls-29 to -32.
const SALT_DRAFT_29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];

/// The Initial salt and labels of `version`, or `None` when Zeek does not decrypt it.
fn version_params(version: u32) -> Option<(&'static [u8; 20], &'static KeyLabels)> {
    let salt = match version {
        VERSION_2 => return Some((&SALT_V2, &LABELS_V2)),
        VERSION_1 => &SALT_V1,
        0xff00_0016 => &SALT_DRAFT_22,
        0xff00_0017..=0xff00_001c => &SALT_DRAFT_23,
        0xff00_001d..=0xff00_0020 => &SALT_DRAFT_29,
        0xff00_0021..=0xff00_0022 => &SALT_V1,
        0xface_b001 => &SALT_DRAFT_22,
        0xface_b002..=0xface_b013 => &SALT_DRAFT_23,
        _ => return None,
    };
    Some((salt, &LABELS_V1))
}

/// Whether the Initial packets of `version` can be decrypted (their salt is known).
pub fn is_supported(version: u32) -> bool {
    version_params(version).is_some()
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context: the `HkdfLabel` structure
/// (`uint16 length`, `opaque label<7..255>` = "tls13 " + label, `opaque context<0..255>`)
/// passed as HKDF-Expand's info in pieces. `None` only if HKDF refuses the length, which the
/// fixed lengths used here never make it do.
fn expand_label(prk: &Hkdf, label: &[u8], out: &mut [u8]) -> Option<()> {
    const PREFIX: &[u8] = b"tls13 ";
    let length = u16::try_from(out.len()).ok()?.to_be_bytes();
    let label_len = [u8::try_from(PREFIX.len() + label.len()).ok()?];
    let info: [&[u8]; 5] = [&length, &label_len, PREFIX, label, &[0]];
    prk.expand_multi_info(&info, out).ok()
}

/// The raw key material of one direction (what the RFCs' appendices print).
struct KeyMaterial {
    key: [u8; 16],
    iv: [u8; 12],
    hp: [u8; 16],
}

impl KeyMaterial {
    fn derive(version: u32, client_dcid: &[u8], side: Side) -> Option<KeyMaterial> {
        let (salt, labels) = version_params(version)?;
        let initial_secret = Hkdf::new(Some(salt), client_dcid);
        let side_label: &[u8] = match side {
            Side::Client => b"client in",
            Side::Server => b"server in",
        };
        let mut secret = [0u8; 32];
        expand_label(&initial_secret, side_label, &mut secret)?;
        let secret = Hkdf::from_prk(&secret).ok()?;
        let mut material = KeyMaterial {
            key: [0; 16],
            iv: [0; 12],
            hp: [0; 16],
        };
        expand_label(&secret, labels.key, &mut material.key)?;
        expand_label(&secret, labels.iv, &mut material.iv)?;
        expand_label(&secret, labels.hp, &mut material.hp)?;
        Some(material)
    }
}

/// Keys for one direction of the Initial packet number space.
///
/// Derive once per connection and direction (about 1 µs), then open any number of packets
/// (about 0.2 µs for a 1200-byte Initial).
pub struct InitialKeys {
    aead: LessSafeKey,
    hp: HeaderProtectionKey,
    iv: [u8; 12],
}

impl fmt::Debug for InitialKeys {
    /// Prints no key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitialKeys").finish_non_exhaustive()
    }
}

/// A successfully opened packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The packet number as sent (truncated encoding; for Initials that is the full number).
    pub packet_number: u64,
    /// Where the decrypted frames are within the packet: from the end of the packet number to
    /// the start of the tag. Can be empty (Zeek treats an empty decryption as a failure).
    pub payload: Range<usize>,
}

/// Why a packet could not be opened (or sealed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenError {
    /// The first byte does not have the long header bit set (or the packet is empty).
    NotLongHeader,
    /// `pn_offset` is before the end of the smallest long header ([`MIN_PN_OFFSET`]) or past
    /// the end of the packet.
    PnOffset,
    /// Fewer than [`MIN_PROTECTED_LEN`] bytes from the packet number offset to the end: no
    /// room for the header protection sample.
    TooShort,
    /// More than [`MAX_PROTECTED_LEN`] bytes from the packet number offset to the end.
    TooLong,
    /// The authentication tag does not match: wrong keys (version, DCID, side), a corrupted
    /// packet, or not an Initial at all.
    BadTag,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpenError::NotLongHeader => "not a long header packet",
            OpenError::PnOffset => "packet number offset outside the packet",
            OpenError::TooShort => "protected payload too short for the header protection sample",
            OpenError::TooLong => "protected payload longer than 10000 bytes",
            OpenError::BadTag => "decryption failed (authentication tag mismatch)",
        })
    }
}

impl std::error::Error for OpenError {}

impl InitialKeys {
    /// The Initial keys of `side` for a connection whose client chose `client_dcid` as the
    /// Destination Connection ID of its first Initial. `None` when `version` is not one whose
    /// Initial salt is known (see [`is_supported`]).
    pub fn derive(version: u32, client_dcid: &[u8], side: Side) -> Option<InitialKeys> {
        let material = KeyMaterial::derive(version, client_dcid, side)?;
        let aead = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &material.key).ok()?);
        let hp = HeaderProtectionKey::new(&AES_128, &material.hp).ok()?;
        Some(InitialKeys {
            aead,
            hp,
            iv: material.iv,
        })
    }

    /// Removes header protection and opens the payload of ONE long-header packet in place.
    ///
    /// `packet` is the whole packet, from its first byte to the end of the payload its Length
    /// field covers; `pn_offset` is where the protected packet number starts. On success the
    /// first byte and the packet number bytes are unprotected in `packet`, and the frames are
    /// decrypted in `packet[opened.payload]`. On error the contents of `packet` are
    /// unspecified (callers work on a scratch copy). Never panics.
    pub fn open_in_place(&self, packet: &mut [u8], pn_offset: usize) -> Result<Opened, OpenError> {
        check_layout(packet, pn_offset)?;
        let sample = sample(packet, pn_offset)?;
        let mask = self.hp.new_mask(sample).map_err(|_| OpenError::TooShort)?;
        let (packet_number, header_len) = toggle_header_protection(packet, pn_offset, mask, true)?;
        let nonce = self.nonce(packet_number);
        let (header, protected) = packet.split_at_mut(header_len);
        let plaintext_len = self
            .aead
            .open_in_place(nonce, Aad::from(&*header), protected)
            .map_err(|_| OpenError::BadTag)?
            .len();
        Ok(Opened {
            packet_number,
            payload: header_len..header_len + plaintext_len,
        })
    }

    /// The inverse of [`open_in_place`](Self::open_in_place), for building test packets:
    /// `packet` holds the unprotected header (first byte with its packet number length bits,
    /// packet number at `pn_offset`), the plaintext frames, and [`TAG_LEN`] bytes at the end
    /// that receive the tag. Encrypts the frames, writes the tag and applies header protection.
    pub fn seal_in_place(&self, packet: &mut [u8], pn_offset: usize) -> Result<(), OpenError> {
        check_layout(packet, pn_offset)?;
        let (packet_number, header_len) = read_packet_number(packet, pn_offset)?;
        let nonce = self.nonce(packet_number);
        let tag_start = packet.len() - TAG_LEN;
        let (header, rest) = packet.split_at_mut(header_len);
        let (frames, tag_out) = rest.split_at_mut(tag_start - header_len);
        let tag = self
            .aead
            .seal_in_place_separate_tag(nonce, Aad::from(&*header), frames)
            .map_err(|_| OpenError::TooLong)?;
        tag_out.copy_from_slice(tag.as_ref());
        let mask = self
            .hp
            .new_mask(sample(packet, pn_offset)?)
            .map_err(|_| OpenError::TooShort)?;
        toggle_header_protection(packet, pn_offset, mask, false)?;
        Ok(())
    }

    /// The AEAD nonce: the IV XORed with the packet number, right-aligned (RFC 9001 §5.3).
    fn nonce(&self, packet_number: u64) -> Nonce {
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(packet_number.to_be_bytes()) {
            *n ^= p;
        }
        Nonce::assume_unique_for_key(nonce)
    }
}

/// The checks both directions share: long header, packet number offset inside the packet,
/// protected part within [`MIN_PROTECTED_LEN`]..=[`MAX_PROTECTED_LEN`].
fn check_layout(packet: &[u8], pn_offset: usize) -> Result<(), OpenError> {
    match packet.first() {
        Some(first) if first & 0x80 != 0 => {}
        _ => return Err(OpenError::NotLongHeader),
    }
    if pn_offset < MIN_PN_OFFSET || pn_offset > packet.len() {
        return Err(OpenError::PnOffset);
    }
    match packet.len() - pn_offset {
        n if n < MIN_PROTECTED_LEN => Err(OpenError::TooShort),
        n if n > MAX_PROTECTED_LEN => Err(OpenError::TooLong),
        _ => Ok(()),
    }
}

/// The header protection sample: 16 bytes starting 4 bytes after the packet number offset.
fn sample(packet: &[u8], pn_offset: usize) -> Result<&[u8], OpenError> {
    let start = pn_offset + MAX_PN_LEN;
    packet
        .get(start..start + SAMPLE_LEN)
        .ok_or(OpenError::TooShort)
}

/// The packet number length from an unprotected first byte.
fn pn_len(first: u8) -> usize {
    usize::from(first & 0x03) + 1
}

/// Reads the (unprotected) packet number; returns it and the header length (AAD length).
fn read_packet_number(packet: &[u8], pn_offset: usize) -> Result<(u64, usize), OpenError> {
    let first = *packet.first().ok_or(OpenError::NotLongHeader)?;
    let header_len = pn_offset + pn_len(first);
    let bytes = packet
        .get(pn_offset..header_len)
        .ok_or(OpenError::TooShort)?;
    let packet_number = bytes.iter().fold(0u64, |pn, &b| (pn << 8) | u64::from(b));
    Ok((packet_number, header_len))
}

/// Applies the long-header mask (RFC 9001 §5.4.1): the low 4 bits of the first byte, then the
/// packet number bytes. The packet number length comes from the unprotected first byte, which is
/// the result when removing (`removing`) and the input when applying. Returns the packet number
/// and the header length.
fn toggle_header_protection(
    packet: &mut [u8],
    pn_offset: usize,
    mask: [u8; 5],
    removing: bool,
) -> Result<(u64, usize), OpenError> {
    let first = packet.first_mut().ok_or(OpenError::NotLongHeader)?;
    let length_from = if removing {
        *first ^ (mask[0] & 0x0f)
    } else {
        *first
    };
    *first ^= mask[0] & 0x0f;
    let header_len = pn_offset + pn_len(length_from);
    let pn_bytes = packet
        .get_mut(pn_offset..header_len)
        .ok_or(OpenError::TooShort)?;
    let mut packet_number = 0u64;
    for (byte, m) in pn_bytes.iter_mut().zip(&mask[1..]) {
        let unprotected = if removing { *byte ^ m } else { *byte };
        *byte ^= m;
        packet_number = (packet_number << 8) | u64::from(unprotected);
    }
    Ok((packet_number, header_len))
}

#[cfg(test)]
mod tests;
