//! QUIC: the packets of a UDP flow in, Zeek's `QUIC::*` events and the TLS handshake out.
//!
//! In: one UDP datagram at a time ([`Quic::datagram`]), each holding one or more QUIC packets
//! (RFC 9000 §12.2, coalesced). Out, through a callback, in Zeek's order ([`Out`]): the QUIC
//! events of the spec's glue (`grammar/quic.pac`), the bytes of the first handshake message of
//! each side as a TLS record for the connection's SSL analyzer, the analyzer's confirmation and
//! violations, and a request to start a fresh SSL analyzer after a Retry.
//!
//! Layers:
//! * `packet`: the spec's generated parsers for long and short headers and frames;
//! * `protection`: Initial keys (RFC 9001 §5.2, RFC 9369 §3.3), header protection and AEAD;
//! * `crypto_stream`: CRYPTO frame reassembly into the first handshake message.
//!
//! What Zeek's QUIC analyzer does and this module reproduces (`QUIC.spicy`): only Initial
//! packets are decrypted — the client's with the keys of its first Destination Connection ID,
//! the server's with the same ID once the client's was seen — and only until that side's first
//! handshake message (ClientHello, ServerHello) has been handed on. A Retry resets all of it,
//! SSL analyzer included, so the client's next Initial starts over with the new ID. Frames in
//! decrypted packets: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE (transport, 0x1c); any other
//! is a violation. A packet with a clear fixed bit is discarded (`QUIC::discarded_packet` once
//! something was decrypted, at most `QUIC::max_discarded_packet_events` times). Short-header
//! packets are counted per side and reported at 1, 2, 4, 8, … A version Zeek does not know
//! raises `QUIC::unhandled_version` and is a violation. A violation ends the datagram's parsing
//! and, as Zeek's DPD does, removes the analyzer unless the connection has carried more than
//! [`DPD_IGNORE_VIOLATIONS_AFTER`] bytes.

pub mod crypto_stream;
pub mod packet;
pub mod protection;

use crypto_stream::CryptoStream;
use packet::{LongKind, Packet};
use protection::{InitialKeys, Side};
use tls_grammar::SslEvent;

/// Zeek's default for `QUIC::max_discarded_packet_events` (0: unlimited, -1: none).
pub const DEFAULT_MAX_DISCARDED_PACKET_EVENTS: i64 = 100;
/// Zeek's `short_header_packet_threshold_base`: short-header packets are reported at the
/// powers of this base.
pub const SHORT_HEADER_PACKET_THRESHOLD_BASE: u64 = 2;
/// Zeek's `DPD::ignore_violations_after`: past this many payload bytes in both directions a
/// violation no longer removes the analyzer.
pub const DPD_IGNORE_VIOLATIONS_AFTER: u64 = 10 * 1024;
/// The largest QUIC packet decrypted: a UDP datagram's payload limit (65,527 bytes).
pub const MAX_PACKET_LEN: usize = 65_527;

/// Options, named after the Zeek options they mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuicConfig {
    /// `QUIC::max_discarded_packet_events`.
    pub max_discarded_packet_events: i64,
}

impl Default for QuicConfig {
    fn default() -> Self {
        QuicConfig {
            max_discarded_packet_events: DEFAULT_MAX_DISCARDED_PACKET_EVENTS,
        }
    }
}

/// What the analyzer hands to its caller; borrowed values live for the callback only.
#[derive(Debug)]
pub enum Out<'a> {
    /// A `QUIC::*` event.
    Event(SslEvent<'a>),
    /// Bytes of the sender's TLS stream for the SSL analyzer (in stream order).
    Tls(&'a [u8]),
    /// A Retry: the SSL analyzer is closed, a new one gets the next handshake.
    ResetSsl,
    /// The first successful decryption: `analyzer_confirmation_info` for QUIC.
    Confirmation,
    /// An analyzer violation with its reason.
    Violation(&'a str),
    /// The analyzer is removed after a violation.
    Disabled,
    /// A weird of the analyzer's own.
    Weird {
        /// Weird name.
        name: &'static str,
        /// Additional information.
        addl: &'a str,
    },
}

/// Per side (client = 0): the CRYPTO stream, the Initial keys and the short-header counts.
#[derive(Debug, Default)]
struct SideState {
    crypto: CryptoStream,
    /// The side's Initial keys and the version they were derived for: derived once (about a
    /// microsecond), not per packet as Zeek does; forgotten with the DCID they come from.
    keys: Option<(u32, Box<InitialKeys>)>,
    short_total: u64,
    short_next_threshold: u64,
}

/// One UDP flow's QUIC analysis; see the module docs.
#[derive(Debug)]
pub struct Quic {
    config: QuicConfig,
    /// Connection ID lengths from the Initials: short headers are parsed with the client's.
    client_cid_len: u8,
    /// The client's first Destination Connection ID: the Initial keys' input.
    initial_dcid: Option<Vec<u8>>,
    sides: [SideState; 2],
    total_decrypted: u64,
    total_discarded: u64,
    confirmed: bool,
    /// Removed after a violation.
    done: bool,
    /// Payload bytes seen in both directions (Zeek's `c$orig$size + c$resp$size`).
    bytes_seen: u64,
    /// Reused for each packet being decrypted (no allocation per packet after the first).
    scratch: Vec<u8>,
}

impl Quic {
    /// A new flow's analyzer.
    pub fn new(config: QuicConfig) -> Self {
        let side = || SideState {
            short_next_threshold: 1,
            ..SideState::default()
        };
        Quic {
            config,
            client_cid_len: 0,
            initial_dcid: None,
            sides: [side(), side()],
            total_decrypted: 0,
            total_discarded: 0,
            confirmed: false,
            done: false,
            bytes_seen: 0,
            scratch: Vec::new(),
        }
    }

    /// Whether the analyzer was removed (after a violation).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// One datagram from the originator (`is_orig`) or the responder.
    pub fn datagram(&mut self, is_orig: bool, data: &[u8], out: &mut dyn FnMut(Out<'_>)) {
        if self.done {
            return;
        }
        self.bytes_seen += data.len() as u64;
        let mut rest = data;
        while !rest.is_empty() {
            match self.packet(is_orig, rest, out) {
                Ok(used) => rest = rest.get(used..).unwrap_or_default(),
                Err(reason) => {
                    out(Out::Violation(&reason));
                    if self.bytes_seen <= DPD_IGNORE_VIOLATIONS_AFTER {
                        self.done = true;
                        out(Out::Disabled);
                    }
                    return;
                }
            }
        }
    }

    /// One packet at the start of `data`; returns how many bytes it used.
    fn packet(
        &mut self,
        is_orig: bool,
        data: &[u8],
        out: &mut dyn FnMut(Out<'_>),
    ) -> Result<usize, String> {
        let side = usize::from(!is_orig);
        match packet::parse(data, self.client_cid_len)? {
            Packet::Discarded => {
                self.total_discarded += 1;
                let max = self.config.max_discarded_packet_events;
                let within = max == 0
                    || i64::try_from(self.total_discarded).is_ok_and(|n| max > 0 && n <= max);
                if self.total_decrypted > 0 && within {
                    out(Out::Event(SslEvent::QuicDiscardedPacket {
                        is_orig,
                        total_decrypted: self.total_decrypted,
                    }));
                }
                Ok(data.len())
            }
            Packet::Short(header) => {
                let s = &mut self.sides[side];
                s.short_total += 1;
                if s.short_total == s.short_next_threshold {
                    s.short_next_threshold = s
                        .short_next_threshold
                        .saturating_mul(SHORT_HEADER_PACKET_THRESHOLD_BASE);
                    packet::short_header_event(&header, is_orig, s.short_total, &mut |ev| {
                        out(Out::Event(ev))
                    });
                }
                Ok(data.len())
            }
            Packet::Long(long) => {
                long.raise_events(is_orig, &mut |ev| out(Out::Event(ev)));
                match long.kind {
                    LongKind::Unhandled => {
                        return Err(format!("unhandled QUIC version 0x{:x}", long.version))
                    }
                    LongKind::Retry => {
                        // Zeek's reset_crypto: new streams, new SSL analyzer, the next client
                        // Initial's Destination Connection ID keys the packets.
                        self.initial_dcid = None;
                        for s in &mut self.sides {
                            s.crypto = CryptoStream::default();
                            s.keys = None;
                        }
                        out(Out::ResetSsl);
                        return Ok(long.packet_len);
                    }
                    LongKind::Initial => {}
                    LongKind::ZeroRtt | LongKind::Handshake => return Ok(long.packet_len),
                }
                if self.sides[side].crypto.finished() || (!is_orig && self.initial_dcid.is_none()) {
                    return Ok(long.packet_len);
                }
                if is_orig {
                    self.client_cid_len = long.scid_len();
                    if self.initial_dcid.is_none() {
                        self.initial_dcid = Some(long.dcid.to_vec());
                    }
                } else {
                    self.client_cid_len = long.dcid_len();
                }
                self.decrypt_initial(is_orig, data, &long, out)?;
                Ok(long.packet_len)
            }
        }
    }

    /// Decrypts an Initial packet and handles its frames.
    fn decrypt_initial(
        &mut self,
        is_orig: bool,
        data: &[u8],
        long: &packet::Long<'_>,
        out: &mut dyn FnMut(Out<'_>),
    ) -> Result<(), String> {
        const DECRYPTION_FAILED: &str = "decryption failed";
        let side = &mut self.sides[usize::from(!is_orig)];
        let keys = match &mut side.keys {
            Some((version, keys)) if *version == long.version => keys,
            slot => {
                let dcid = self.initial_dcid.as_deref().unwrap_or_default();
                let which = if is_orig { Side::Client } else { Side::Server };
                let keys = InitialKeys::derive(long.version, dcid, which)
                    .ok_or_else(|| DECRYPTION_FAILED.to_string())?;
                &mut slot.insert((long.version, Box::new(keys))).1
            }
        };
        let packet = data
            .get(..long.packet_len)
            // Refused before the copy: a larger scratch buffer would stay with the connection.
            .filter(|p| {
                !long.truncated
                    && p.len() <= MAX_PACKET_LEN
                    && p.len().saturating_sub(long.pn_offset) <= protection::MAX_PROTECTED_LEN
            })
            .ok_or_else(|| DECRYPTION_FAILED.to_string())?;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(packet);
        let opened = keys.open_in_place(&mut scratch, long.pn_offset);
        let result = match opened {
            // Zeek counts a decryption that yields no frames as a failure.
            Ok(opened) if opened.payload.is_empty() => Err(DECRYPTION_FAILED.to_string()),
            Ok(opened) => {
                if !self.confirmed {
                    self.confirmed = true;
                    out(Out::Confirmation);
                }
                self.total_decrypted += 1;
                let payload = scratch.get(opened.payload).unwrap_or_default();
                self.frames(is_orig, long.ids(), payload, out)
            }
            Err(_) => Err(DECRYPTION_FAILED.to_string()),
        };
        self.scratch = scratch;
        result
    }

    /// The frames of a decrypted Initial packet: CRYPTO data goes to the side's stream,
    /// CONNECTION_CLOSE raises its event; the first failure ends the packet.
    fn frames(
        &mut self,
        is_orig: bool,
        ids: packet::HeaderIds<'_>,
        payload: &[u8],
        out: &mut dyn FnMut(Out<'_>),
    ) -> Result<(), String> {
        let crypto = &mut self.sides[usize::from(!is_orig)].crypto;
        packet::frames(payload, ids, is_orig, &mut |frame| match frame {
            packet::Frame::Crypto { offset, data } => {
                let notes = crypto
                    .write(offset, data, &mut |tls| out(Out::Tls(tls)))
                    .map_err(|e| e.to_string())?;
                if notes.dropped_beyond_window {
                    out(Out::Weird {
                        name: crypto_stream::WEIRD_CRYPTO_BEYOND_WINDOW,
                        addl: "",
                    });
                }
                Ok(())
            }
            packet::Frame::Event(ev) => {
                out(Out::Event(ev));
                Ok(())
            }
        })
    }
}
