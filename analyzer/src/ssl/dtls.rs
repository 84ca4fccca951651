//! The UDP front end: DTLS datagrams in, records and reassembled handshake messages out.
//!
//! In: one UDP payload of one direction. Out: calls into the shared state machine ([`Conn`]).
//!
//! Zeek's rules (`DTLS.cc`, `dtls-protocol.pac`, `dtls-analyzer.pac`):
//! * A STUN packet (more than 20 bytes, magic cookie 0x2112A442 at offset 4) is skipped silently,
//!   so WebRTC flows that mix STUN and DTLS work.
//! * A datagram holds records back to back: 13-byte header (type, version, epoch, 48-bit
//!   sequence number, length). Only DTLS 1.0/1.2 record versions are parsed; an invalid one
//!   swallows the rest of the datagram, is reported (`Invalid version in DTLS connection. Packet
//!   reported version: N`) only after the analyzer was confirmed and at most
//!   `dtls_max_reported_version_errors` times, and more than `dtls_max_version_errors` of them in a
//!   row stop the analyzer. Epoch 0 is plaintext, any other epoch ciphertext.
//! * Once DTLS 1.3 is negotiated, a first byte `001xxxxx` starts a unified-header record
//!   (RFC 9147 §4): it encrypts its direction and is reported as ciphertext of version 0xFEFC,
//!   content type 23, whose length is everything after the header. With a connection id present
//!   nothing after the first byte is read (the id's length is not in the packet).
//! * Handshake fragments (12-byte header) are reassembled per direction: one message at a time,
//!   identified by `message_seq` and length; at most [`MAX_DTLS_HANDSHAKE_RECORD`] bytes; record
//!   sequence numbers of its fragments within a [`REASSEMBLY_WINDOW`] and at most
//!   [`MAX_FRAGMENT_SPAN`] apart; each breach is Zeek's violation. A complete message goes through
//!   the same handshake path as TLS (HelloVerifyRequest and the second ClientHello included).

use pac_runtime::stream::StreamBuffer;

use tls_grammar::{ContentType, ProtocolVersion};

use super::conn::{Aborted, Conn, RecordInfo, StateRule};
use super::event::EventSink;
use super::tls::{feed_handshake, MAX_HANDSHAKE_MESSAGE_LENGTH};

/// Bytes of a DTLS 1.0/1.2 record header.
pub const DTLS_HEADER_LEN: usize = 13;
/// Bytes of a DTLS handshake fragment header.
pub const DTLS_HANDSHAKE_HEADER_LEN: usize = 12;
/// Zeek's `MAX_DTLS_HANDSHAKE_RECORD`: the largest message it reassembles from fragments.
pub const MAX_DTLS_HANDSHAKE_RECORD: u32 = 100_000;
/// Record sequence numbers a message's fragments may span (Zeek keeps a 32-bit "seen" mask).
pub const REASSEMBLY_WINDOW: u64 = 32;
/// Zeek: "DTLS Message fragmented over more than 30 pieces".
pub const MAX_FRAGMENT_SPAN: u64 = 30;
/// STUN magic cookie (RFC 5389 §6) at offset 4.
pub const STUN_MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];

/// One direction's fragment reassembly (Zeek's `message_info`).
#[derive(Debug, Default)]
struct MessageInfo {
    first_sequence: u64,
    first_sequence_seen: bool,
    last_sequence: u64,
    handshake_sequence: u16,
    length: u32,
    sequence_seen: u32,
    /// `None` until a fragmented message starts; at most `MAX_DTLS_HANDSHAKE_RECORD` bytes.
    buffer: Option<Vec<u8>>,
}

/// DTLS per-connection state outside [`Conn`].
#[derive(Debug)]
pub struct Dtls {
    fragments: [MessageInfo; 2],
    handshakes: [StreamBuffer; 2],
    invalid_version_count: u32,
    reported_errors: u32,
}

impl Default for Dtls {
    fn default() -> Self {
        Dtls {
            fragments: Default::default(),
            handshakes: [
                StreamBuffer::new(MAX_HANDSHAKE_MESSAGE_LENGTH),
                StreamBuffer::new(MAX_HANDSHAKE_MESSAGE_LENGTH),
            ],
            invalid_version_count: 0,
            reported_errors: 0,
        }
    }
}

/// Whether a UDP payload is a STUN message Zeek skips.
pub fn is_stun(payload: &[u8]) -> bool {
    payload.len() > 20 && payload.get(4..8) == Some(&STUN_MAGIC_COOKIE[..])
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b))
}

impl Dtls {
    /// Processes one datagram of one direction.
    pub fn datagram(
        &mut self,
        conn: &mut Conn,
        sink: &mut dyn EventSink,
        is_orig: bool,
        ts: f64,
        payload: &[u8],
    ) {
        if is_stun(payload) {
            return;
        }
        let mut rest = payload;
        while let Some(&first) = rest.first() {
            if conn.skip {
                return;
            }
            // The unified header's fixed bits, as the spec's `DtlsUnifiedHeader.flags` checks them.
            if ProtocolVersion(conn.chosen_version()) == ProtocolVersion::DTLSv13
                && first & 0xE0 == 0x20
            {
                unified_record(conn, sink, is_orig, ts, first, rest.get(1..).unwrap_or(&[]));
                return;
            }
            // The header is read here rather than with the spec's `DtlsRecord`: Zeek checks the
            // version before the length (an invalid version swallows the datagram silently,
            // a short body is an `SSLRecord:rec` out-of-bound with its own numbers), an order
            // and texts that the generated parser's single bounds check would not give.
            let Some(header) = rest.get(..DTLS_HEADER_LEN) else {
                abort(conn, sink, ts, "SSLRecord", DTLS_HEADER_LEN, rest.len());
                return;
            };
            let content_type = u16::from(first);
            let version = be(&header[1..3]) as u16;
            let epoch = be(&header[3..5]) as u16;
            let sequence = be(&header[5..11]);
            let length = be(&header[11..13]) as usize;
            let after = rest.get(DTLS_HEADER_LEN..).unwrap_or(&[]);
            if !self.version_ok(conn, sink, ts, version) {
                // Zeek swallows the rest of the datagram.
                return;
            }
            let Some(body) = after.get(..length) else {
                abort(conn, sink, ts, "SSLRecord:rec", length, after.len());
                return;
            };
            rest = after.get(length..).unwrap_or(&[]);
            let info = RecordInfo {
                content_type,
                raw_version: version,
                length: length as u64,
            };
            let side = usize::from(is_orig);
            let fragments = &mut self.fragments[side];
            let handshakes = &mut self.handshakes[side];
            let mut on_handshake = |conn: &mut Conn, sink: &mut dyn EventSink, data: &[u8]| {
                handshake_fragment(
                    fragments, handshakes, conn, sink, is_orig, ts, version, sequence, data,
                )
            };
            let r = conn.record_text(
                sink,
                ts,
                is_orig,
                info,
                body,
                StateRule::DtlsEpoch(epoch),
                &mut on_handshake,
            );
            if r.is_err() {
                return;
            }
        }
    }

    /// Zeek's `dtls_version_ok` with its error counters.
    fn version_ok(&mut self, conn: &mut Conn, sink: &mut dyn EventSink, ts: f64, v: u16) -> bool {
        if matches!(
            ProtocolVersion(v),
            ProtocolVersion::DTLSv10 | ProtocolVersion::DTLSv12
        ) {
            // The count is reset only once a ClientHello confirmed the analyzer.
            if conn.confirmed() {
                self.invalid_version_count = 0;
            }
            return true;
        }
        self.invalid_version_count = self.invalid_version_count.saturating_add(1);
        if conn.confirmed() {
            self.reported_errors = self.reported_errors.saturating_add(1);
            if self.reported_errors <= conn.config.dtls_max_reported_version_errors {
                let reason =
                    format!("Invalid version in DTLS connection. Packet reported version: {v}");
                conn.violation(sink, ts, &reason);
            }
        }
        if self.invalid_version_count > conn.config.dtls_max_version_errors {
            conn.skip = true;
        }
        false
    }
}

fn abort(
    conn: &mut Conn,
    sink: &mut dyn EventSink,
    ts: f64,
    unit: &str,
    needed: usize,
    have: usize,
) {
    let reason =
        format!("Binpac exception: binpac exception: out_of_bound: {unit}: {needed} > {have}");
    conn.violation(sink, ts, &reason);
}

/// A DTLS 1.3 unified-header record: `after` is everything after the first byte.
///
/// The flag bits are read here rather than with the spec's `DtlsUnifiedHeader`: Zeek reads no
/// connection id (its length is not in the packet) and reports the rest as ciphertext whatever
/// the length field says, so nothing past the header is parsed.
fn unified_record(
    conn: &mut Conn,
    sink: &mut dyn EventSink,
    is_orig: bool,
    ts: f64,
    first: u8,
    after: &[u8],
) {
    let with_cid = first & 0x10 != 0;
    let long_sequence = first & 0x08 != 0;
    let length_present = first & 0x04 != 0;
    let header = if with_cid {
        0
    } else {
        (if long_sequence { 2 } else { 1 }) + if length_present { 2 } else { 0 }
    };
    let Some(swallow) = after.get(header..) else {
        abort(conn, sink, ts, "UnifiedRecord", header, after.len());
        return;
    };
    conn.start_encryption(is_orig);
    conn.ciphertext_record(
        sink,
        ts,
        is_orig,
        ProtocolVersion::DTLSv13.0,
        u16::from(ContentType::application_data.0),
        swallow.len() as u64,
    );
}

/// Zeek's `proc_handshake` for DTLS: a whole message goes straight on, fragments are collected.
///
/// The 12-byte fragment header is read here rather than with the spec's `DtlsHandshake`: Zeek
/// takes the fragment's data as the rest of the record (not `fragment_length` bytes) and checks
/// lengths and offsets itself, in its own order and with its own violation texts, which the
/// generated parser's bound and `&check` would pre-empt. The reassembled message is parsed
/// with the generated `Handshake` in [`Conn::handshake_message`].
#[allow(clippy::too_many_arguments)]
fn handshake_fragment(
    info: &mut MessageInfo,
    handshakes: &mut StreamBuffer,
    conn: &mut Conn,
    sink: &mut dyn EventSink,
    is_orig: bool,
    ts: f64,
    record_version: u16,
    sequence: u64,
    unit: &[u8],
) -> Result<(), Aborted> {
    let Some(h) = unit.get(..DTLS_HANDSHAKE_HEADER_LEN) else {
        abort(
            conn,
            sink,
            ts,
            "Handshake",
            DTLS_HANDSHAKE_HEADER_LEN,
            unit.len(),
        );
        return Err(Aborted);
    };
    let msg_type = h[0];
    let length = be(&h[1..4]) as u32;
    let message_seq = be(&h[4..6]) as u16;
    let foffset = be(&h[6..9]) as u32;
    let flength = be(&h[9..12]) as u32;
    let data = unit.get(DTLS_HANDSHAKE_HEADER_LEN..).unwrap_or(&[]);

    let mut send = |conn: &mut Conn, sink: &mut dyn EventSink, body: &[u8]| {
        // Zeek re-creates the TLS handshake header and feeds the handshake flow with it.
        let l = length.to_be_bytes();
        feed_handshake(
            handshakes,
            conn,
            sink,
            is_orig,
            ts,
            record_version,
            &[msg_type, l[1], l[2], l[3]],
        )?;
        feed_handshake(handshakes, conn, sink, is_orig, ts, record_version, body)
    };

    if foffset == 0 && length == flength {
        return send(conn, sink, data);
    }

    if length > MAX_DTLS_HANDSHAKE_RECORD {
        let reason = format!("DTLS record length {length} larger than allowed maximum.");
        conn.violation(sink, ts, &reason);
        return Ok(());
    }

    if info.handshake_sequence != message_seq || info.length != length || info.buffer.is_none() {
        // Cannot resume: abandon what we have and start this message anew.
        *info = MessageInfo {
            handshake_sequence: message_seq,
            length,
            buffer: Some(vec![0u8; length as usize]),
            first_sequence: sequence,
            ..MessageInfo::default()
        };
    }

    if info.first_sequence > sequence {
        if info.first_sequence_seen {
            conn.violation(
                sink,
                ts,
                "Saw second and different first message fragment for handshake.",
            );
            return Ok(());
        }
        let diff = info.first_sequence - sequence;
        if diff >= REASSEMBLY_WINDOW {
            return window_violation(conn, sink, ts);
        }
        info.sequence_seen <<= diff;
        info.first_sequence = sequence;
    }

    if foffset == 0 {
        info.first_sequence_seen = true;
    }

    let relative = sequence - info.first_sequence;
    if relative >= REASSEMBLY_WINDOW {
        return window_violation(conn, sink, ts);
    }
    let bit = 1u32 << relative;
    if info.sequence_seen & bit != 0 {
        // The same fragment again (retransmission).
        return Ok(());
    }

    if data.len() != flength as usize {
        conn.violation(
            sink,
            ts,
            "DTLS handshake record length does not match packet length",
        );
        return Ok(());
    }
    let end = u64::from(foffset) + u64::from(flength);
    if end > u64::from(length) {
        conn.violation(
            sink,
            ts,
            "DTLS handshake fragment trying to write past end of buffer",
        );
        return Ok(());
    }

    info.sequence_seen |= bit;
    if let Some(slot) = info
        .buffer
        .as_mut()
        .and_then(|b| b.get_mut(foffset as usize..end as usize))
    {
        slot.copy_from_slice(data);
    }

    if end == u64::from(length) {
        info.last_sequence = sequence;
    }

    if info.last_sequence != 0 && info.first_sequence_seen {
        let span = info.last_sequence.saturating_sub(info.first_sequence);
        if span > MAX_FRAGMENT_SPAN {
            conn.violation(
                sink,
                ts,
                "DTLS Message fragmented over more than 30 pieces. Cannot reassemble.",
            );
            return Ok(());
        }
        let wanted = (1u64 << (span + 1)) - 1;
        if !u64::from(info.sequence_seen) & wanted == 0 {
            let buffer = info.buffer.take().unwrap_or_default();
            let r = send(conn, sink, &buffer);
            // Keep the allocation: Zeek keeps the buffer until the next message replaces it.
            info.buffer = Some(buffer);
            return r;
        }
    }
    Ok(())
}

fn window_violation(conn: &mut Conn, sink: &mut dyn EventSink, ts: f64) -> Result<(), Aborted> {
    conn.violation(
        sink,
        ts,
        "DTLS handshake fragment sequence number outside reassembly window.",
    );
    Ok(())
}
