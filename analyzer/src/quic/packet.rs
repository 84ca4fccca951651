//! QUIC packets and frames as the spec (`grammar/quic.pac`) lays them out, with Zeek's rules for
//! what one packet spans and which frames its analyzer accepts.
//!
//! In: the rest of a datagram, starting at a packet; or a decrypted Initial payload. Out: a
//! [`Packet`] (with the generated header, so that its glue can raise the QUIC events) and how
//! many bytes it spans; or the frames, one at a time, through a callback.

use tls_grammar::{
    Context, QuicFrame, QuicFrameBody, QuicLongHeader, QuicLongHeaderBody, QuicShortHeader,
    SslEvent,
};

/// First-byte bit of a long header (RFC 9000 §17.2).
const HEADER_FORM_LONG: u8 = 0x80;
/// First-byte bit that must be 1 (RFC 9000 §17.2, §17.3); Zeek discards packets without it.
const FIXED_BIT: u8 = 0x40;
/// The CONNECTION_CLOSE frame type Zeek handles (transport errors; 0x1d, application errors,
/// is an unhandled frame for it).
const FRAME_CONNECTION_CLOSE: u64 = 0x1c;

/// What a long-header packet is, after the version decided its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongKind {
    /// An Initial packet (decrypted when keys allow).
    Initial,
    /// A 0-RTT packet.
    ZeroRtt,
    /// A Handshake packet.
    Handshake,
    /// A Retry packet (to the end of the datagram).
    Retry,
    /// Version Negotiation or a version Zeek does not handle (to the end of the datagram).
    Unhandled,
}

/// A parsed long-header packet.
#[derive(Debug)]
pub struct Long<'a> {
    /// The generated header (its glue raises the packet's event).
    pub header: QuicLongHeader<'a>,
    /// What it is.
    pub kind: LongKind,
    /// The version field.
    pub version: u32,
    /// Destination Connection ID.
    pub dcid: &'a [u8],
    /// Source Connection ID.
    pub scid: &'a [u8],
    /// Bytes of the datagram this packet spans.
    pub packet_len: usize,
    /// The Length field claims more bytes than the datagram has left (the packet then spans
    /// the rest of it and cannot be decrypted).
    pub truncated: bool,
    /// Where the protected Packet Number starts (the header's length).
    pub pn_offset: usize,
}

impl<'a> Long<'a> {
    /// The connection id lengths as Zeek keeps them (one byte each on the wire).
    pub fn dcid_len(&self) -> u8 {
        self.header.dcid_len
    }

    /// See [`Self::dcid_len`].
    pub fn scid_len(&self) -> u8 {
        self.header.scid_len
    }

    /// The header values its frames' glue needs.
    pub fn ids(&self) -> HeaderIds<'a> {
        HeaderIds {
            version: self.version,
            dcid: self.dcid,
            scid: self.scid,
            packet_type: self.header.packet_type,
        }
    }

    /// Raises the packet's event through the spec's glue (initial, 0-RTT, handshake, retry or
    /// unhandled version).
    pub fn raise_events(&self, is_orig: bool, sink: &mut dyn FnMut(SslEvent<'a>)) {
        self.header.walk(&self.ids().context(is_orig), sink);
    }
}

/// A long header's values that the glue of its frames reads from the context.
#[derive(Debug, Clone, Copy)]
pub struct HeaderIds<'a> {
    /// The version field.
    pub version: u32,
    /// Destination Connection ID.
    pub dcid: &'a [u8],
    /// Source Connection ID.
    pub scid: &'a [u8],
    /// The version-independent packet type (0 Initial … 3 Retry).
    pub packet_type: u64,
}

impl<'a> HeaderIds<'a> {
    /// The values the QUIC glue reads from the context while the packet is walked.
    fn context(self, is_orig: bool) -> Context<'a> {
        Context {
            is_orig,
            is_client: is_orig,
            quic_version: u64::from(self.version),
            quic_dcid: self.dcid,
            quic_scid: self.scid,
            ..Context::default()
        }
    }
}

/// One packet at the start of a datagram's rest.
#[derive(Debug)]
pub enum Packet<'a> {
    /// The fixed bit is clear: Zeek discards the rest of the datagram.
    Discarded,
    /// A short header (1-RTT): the rest of the datagram.
    Short(QuicShortHeader<'a>),
    /// A long header.
    Long(Long<'a>),
}

/// Parses the packet at the start of `data` (not empty); `client_cid_len` is the length of
/// the Destination Connection ID of short headers (Zeek uses the client's for both sides).
pub fn parse(data: &[u8], client_cid_len: u8) -> Result<Packet<'_>, String> {
    let first = data.first().copied().unwrap_or_default();
    if first & FIXED_BIT == 0 {
        return Ok(Packet::Discarded);
    }
    if first & HEADER_FORM_LONG == 0 {
        let (short, _) =
            QuicShortHeader::parse(data, u64::from(client_cid_len)).map_err(|e| e.to_string())?;
        return Ok(Packet::Short(short));
    }
    let (header, rest) = QuicLongHeader::parse(data).map_err(|e| e.to_string())?;
    let pn_offset = data.len() - rest.len();
    let (kind, length) = match &header.body {
        QuicLongHeaderBody::Initial(f) => (LongKind::Initial, Some(f.length)),
        QuicLongHeaderBody::ZeroRtt(f) => (LongKind::ZeroRtt, Some(f.length)),
        QuicLongHeaderBody::Handshake(f) => (LongKind::Handshake, Some(f.length)),
        QuicLongHeaderBody::Retry(_) => (LongKind::Retry, None),
        QuicLongHeaderBody::VersionNegotiation(_)
        | QuicLongHeaderBody::Unhandled(_)
        | QuicLongHeaderBody::Unknown { .. } => (LongKind::Unhandled, None),
    };
    // Packet Number and payload: `length` bytes, or what the datagram has left. Zeek skips them
    // without failing when the datagram is shorter (its analysis of
    // `383379789-decrypt-crash.pcap` raises the Initial's event, then fails to decrypt).
    let (packet_len, truncated) = match length {
        Some(len) => {
            let end = u64::try_from(pn_offset)
                .ok()
                .and_then(|o| o.checked_add(len))
                .unwrap_or(u64::MAX);
            match usize::try_from(end) {
                Ok(end) if end <= data.len() => (end, false),
                _ => (data.len(), true),
            }
        }
        None => (data.len(), false),
    };
    Ok(Packet::Long(Long {
        version: header.version,
        dcid: header.dcid,
        scid: header.scid,
        kind,
        packet_len,
        truncated,
        pn_offset,
        header,
    }))
}

/// Raises the short header's threshold event through its glue.
pub fn short_header_event<'a>(
    header: &QuicShortHeader<'a>,
    is_orig: bool,
    threshold: u64,
    sink: &mut dyn FnMut(SslEvent<'a>),
) {
    let ctx = Context {
        is_orig,
        is_client: is_orig,
        quic_short_header_threshold: threshold,
        ..Context::default()
    };
    header.walk(&ctx, sink);
}

/// A frame of a decrypted Initial packet that matters to the analyzer.
#[derive(Debug)]
pub enum Frame<'a> {
    /// CRYPTO data at its stream offset.
    Crypto {
        /// Offset in the side's CRYPTO stream.
        offset: u64,
        /// The data.
        data: &'a [u8],
    },
    /// An event of a frame's glue (`QUIC::connection_close_frame`).
    Event(SslEvent<'a>),
}

/// Walks the frames of a decrypted Initial payload in order, as Zeek's analyzer does: PADDING,
/// PING and ACK are skipped, CRYPTO and CONNECTION_CLOSE (0x1c) go to `f`, any other frame type
/// — or a frame that does not parse — ends the walk with an error (a violation). Frames before
/// the failure have been handed on.
pub fn frames<'a>(
    payload: &'a [u8],
    ids: HeaderIds<'a>,
    is_orig: bool,
    f: &mut dyn FnMut(Frame<'a>) -> Result<(), String>,
) -> Result<(), String> {
    let ctx = ids.context(is_orig);
    let mut rest = payload;
    while !rest.is_empty() {
        let (frame, after) = QuicFrame::parse(rest).map_err(|e| e.to_string())?;
        rest = after;
        match &frame.body {
            QuicFrameBody::Padding | QuicFrameBody::Ping | QuicFrameBody::Ack(_) => {}
            QuicFrameBody::Crypto(c) => f(Frame::Crypto {
                offset: c.offset,
                data: c.data,
            })?,
            QuicFrameBody::ConnectionClose(_) if frame.frame_type == FRAME_CONNECTION_CLOSE => {
                let mut result = Ok(());
                frame.walk(&ctx, &mut |ev| {
                    if result.is_ok() {
                        result = f(Frame::Event(ev));
                    }
                });
                result?;
            }
            _ => {
                return Err(format!(
                    "unhandled frame type {} in {}",
                    frame.frame_type, ids.packet_type
                ))
            }
        }
    }
    Ok(())
}
