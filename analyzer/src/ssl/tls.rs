//! The TCP front end: one direction's byte stream in, records and handshake messages out.
//!
//! In: TCP payload bytes of one direction, arbitrarily split. Out: calls into the shared state
//! machine ([`Conn`]) for every complete record, and for every complete handshake message that
//! the handshake records of that direction carry, in stream order. Feeding a stream whole or in
//! 1-byte pieces gives the same calls, because both layers go through the runtime's
//! [`StreamBuffer`] (borrowed when a unit is whole in the segment, copied into one capped buffer
//! otherwise).
//!
//! Limits: a record is at most [`MAX_RECORD_LENGTH`] bytes (what a 16-bit length allows); a
//! handshake message at most [`MAX_HANDSHAKE_MESSAGE_LENGTH`] bytes, the size binpac's flow
//! buffer may grow to in Zeek (`BinPAC::flowbuffer_capacity_max`). A longer message is the
//! violation [`handshake_too_large`] and its bytes are dropped.

use core::cell::Cell;

use pac_runtime::stream::{Flow, Frame, StreamBuffer, StreamError};

use super::conn::{Aborted, Conn, RecordInfo, StateRule, HANDSHAKE_HEADER_LEN};
use super::event::EventSink;
use super::record::{classify, Header, Verdict, HEADER_LEN, MAX_RECORD_LENGTH, V2_HEADER_LEN};
use super::version::UNKNOWN_VERSION;

/// Largest handshake message reassembled across records (Zeek's binpac flow-buffer cap,
/// `BinPAC::flowbuffer_capacity_max`, 10 MiB).
pub const MAX_HANDSHAKE_MESSAGE_LENGTH: usize = 10 * 1024 * 1024;

/// The violation text for a handshake message over the cap (binpac's flow buffer refuses to
/// grow past its maximum capacity).
pub fn handshake_too_large(needed: usize, cap: usize) -> String {
    format!(
        "Binpac exception: binpac exception: flow buffer expand past max capacity {needed}/{cap}"
    )
}

/// Both directions' buffers and the latched record-layer version.
#[derive(Debug)]
pub struct TlsStreams {
    /// Record reassembly, `[responder, originator]`.
    records: [StreamBuffer; 2],
    /// Handshake-message reassembly across records, `[responder, originator]`.
    handshakes: [StreamBuffer; 2],
    /// Zeek's `record_layer_version_`; a `Cell` because the record framer updates it.
    latched: Cell<u16>,
}

impl Default for TlsStreams {
    fn default() -> Self {
        TlsStreams {
            records: [
                StreamBuffer::new(MAX_RECORD_LENGTH),
                StreamBuffer::new(MAX_RECORD_LENGTH),
            ],
            handshakes: [
                StreamBuffer::new(MAX_HANDSHAKE_MESSAGE_LENGTH),
                StreamBuffer::new(MAX_HANDSHAKE_MESSAGE_LENGTH),
            ],
            latched: Cell::new(UNKNOWN_VERSION),
        }
    }
}

/// What the record framer learned about the record it just sized.
#[derive(Debug, Clone, Default)]
enum Sized {
    #[default]
    Nothing,
    Record(Header),
    Violation(String),
}

impl TlsStreams {
    /// The latched record-layer version (0 while unknown, 2 for SSLv2).
    pub fn record_layer_version(&self) -> u16 {
        self.latched.get()
    }

    /// Drops partial records and messages (after a content gap or at the end).
    pub fn clear(&mut self) {
        for b in self.records.iter_mut().chain(self.handshakes.iter_mut()) {
            b.clear();
        }
    }

    /// Feeds one segment of one direction.
    pub fn deliver(
        &mut self,
        conn: &mut Conn,
        sink: &mut dyn EventSink,
        is_orig: bool,
        ts: f64,
        bytes: &[u8],
    ) {
        let side = usize::from(is_orig);
        let latched = &self.latched;
        let sized = core::cell::RefCell::new(Sized::Nothing);
        let handshakes = &mut self.handshakes[side];

        // The framer applies Zeek's header rules as soon as 5 bytes are there, so a bad header
        // is reported without waiting for the length it claims.
        let framer = |pending: &[u8]| -> Frame {
            let Some(head) = pending.get(..HEADER_LEN) else {
                return Frame::Need(HEADER_LEN);
            };
            let mut h = [0u8; HEADER_LEN];
            h.copy_from_slice(head);
            match classify(h, latched.get(), is_orig) {
                Verdict::Record(header, latch) => {
                    latched.set(latch);
                    let total = header.total;
                    *sized.borrow_mut() = Sized::Record(header);
                    Frame::Unit(total)
                }
                Verdict::Violation(reason) => {
                    *sized.borrow_mut() = Sized::Violation(reason);
                    Frame::Invalid
                }
            }
        };

        let on_record = |record: &[u8]| -> Flow {
            let Sized::Record(header) = sized.replace(Sized::Nothing) else {
                return Flow::Stop;
            };
            let info = RecordInfo {
                content_type: header.content_type,
                raw_version: header.raw_version,
                length: header.length as u64,
            };
            // An SSLv2 message is parsed from its type byte on (the spec's `SSLv2Message`);
            // Zeek reads that byte and the next two as part of its 5-byte header.
            let body_start = if header.v2 { V2_HEADER_LEN } else { HEADER_LEN };
            let body = record.get(body_start..).unwrap_or(&[]);
            let mut on_handshake = |conn: &mut Conn, sink: &mut dyn EventSink, data: &[u8]| {
                feed_handshake(
                    handshakes,
                    conn,
                    sink,
                    is_orig,
                    ts,
                    header.raw_version,
                    data,
                )
            };
            let r = conn.record_text(
                sink,
                ts,
                is_orig,
                info,
                body,
                StateRule::Tls,
                &mut on_handshake,
            );
            if r.is_err() || conn.skip {
                Flow::Stop
            } else {
                Flow::Continue
            }
        };

        let result = self.records[side].feed(bytes, framer, on_record);
        if let Err(e) = result {
            let reason = match (sized.replace(Sized::Nothing), e) {
                (Sized::Violation(reason), StreamError::Invalid) => reason,
                (_, e) => format!("Binpac exception: binpac exception: {e}"),
            };
            conn.fatal(sink, ts, &reason);
        }
    }
}

/// Appends handshake-record payload to the direction's message stream and processes every
/// message it completes (Zeek's `SendHandshake` into the handshake flow).
pub fn feed_handshake(
    buffer: &mut StreamBuffer,
    conn: &mut Conn,
    sink: &mut dyn EventSink,
    is_orig: bool,
    ts: f64,
    record_version: u16,
    data: &[u8],
) -> Result<(), Aborted> {
    let framer = |pending: &[u8]| -> Frame {
        match pending {
            [_, l0, l1, l2, ..] => Frame::Unit(
                HANDSHAKE_HEADER_LEN
                    + (usize::from(*l0) << 16 | usize::from(*l1) << 8 | usize::from(*l2)),
            ),
            _ => Frame::Need(HANDSHAKE_HEADER_LEN),
        }
    };
    let result = buffer.feed(data, framer, |msg| {
        let parsed = conn.handshake_message(sink, ts, is_orig, record_version, msg);
        if parsed.is_err() || conn.skip {
            Flow::Stop
        } else {
            Flow::Continue
        }
    });
    if let Err(e) = result {
        // Caught in SendHandshake in Zeek: a violation, but the record itself completes.
        let reason = match e {
            StreamError::UnitTooLarge { needed, cap } => handshake_too_large(needed, cap),
            other => format!("Binpac exception: binpac exception: {other}"),
        };
        conn.violation(sink, ts, &reason);
    }
    Ok(())
}
