//! Shared pieces of the fuzz targets: how a fuzz input becomes a sequence of deliveries, and
//! sinks that touch every value of every event so that formatting and walking are fuzzed too.
//!
//! In: raw fuzz inputs. Out: [`Delivery`]s (for the connection-level targets) and sinks that
//! consume events without keeping them ([`Drain`]) or keep their printed form for comparisons
//! ([`Transcript`]). The delivery encoding is mirrored in `tests/tests/robust_regressions.rs`,
//! which replays findings without this crate (the fuzz crate is outside the workspace); change
//! both together. [`quic_craft`] (shared with the tests, `tests/src/quic_craft.rs`) opens and
//! seals QUIC Initials for the `quic_datagrams` target's frames mutator.

/// QUIC Initials opened and sealed with the analyzer's keys (see the file's docs).
#[path = "../../tests/src/quic_craft.rs"]
pub mod quic_craft;

use std::fmt::Write as _;
use std::io::Write as _;

use pac_runtime::ValueSink;
use tls_analyzer::ssl::{Event, EventSink};

/// One call on the analyzer, decoded from a fuzz input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// Direction: true for the originator.
    pub is_orig: bool,
    /// A content gap of `data.len()` bytes instead of data (TCP only).
    pub gap: bool,
    /// The bytes delivered (or, for a gap, only their count matters).
    pub data: &'a [u8],
}

/// Decodes `[ctl: u8][len: u16 big-endian][len bytes]...` into deliveries. `ctl` bit 0 is the
/// direction (1 = originator); `ctl & 0x0e == 0x0e` makes the delivery a gap (one in eight, so
/// that gaps, which end TCP analysis, do not dominate). A length beyond the end of the input is
/// cut to what remains, so every input decodes and the fuzzer never wastes executions on
/// framing errors.
pub fn deliveries(mut data: &[u8]) -> Vec<Delivery<'_>> {
    let mut out = Vec::new();
    while let [ctl, hi, lo, rest @ ..] = data {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
        let (chunk, tail) = rest.split_at(len);
        out.push(Delivery {
            is_orig: ctl & 1 == 1,
            gap: ctl & 0x0e == 0x0e,
            data: chunk,
        });
        data = tail;
    }
    out
}

/// Encodes deliveries in the format [`deliveries`] reads (for seeds and round-trip checks).
/// Data longer than 65535 bytes is split into several deliveries of the same direction.
pub fn encode(items: &[(bool, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (is_orig, data) in items {
        // An empty delivery is still a delivery (`chunks` would yield nothing for it).
        let empty: [&[u8]; 1] = [&[]];
        let chunks: Vec<&[u8]> = if data.is_empty() {
            empty.to_vec()
        } else {
            data.chunks(usize::from(u16::MAX)).collect()
        };
        for chunk in chunks {
            out.push(u8::from(*is_orig));
            out.extend_from_slice(&u16::try_from(chunk.len()).unwrap_or(u16::MAX).to_be_bytes());
            out.extend_from_slice(chunk);
        }
    }
    out
}

/// A [`ValueSink`] that looks at every value (so `visit` code runs in full) and keeps only a
/// count and a checksum, so the optimizer cannot drop the work.
#[derive(Debug, Default)]
pub struct NullValues {
    /// Values seen.
    pub values: u64,
    /// Sum of the bytes of every string seen.
    pub bytes: u64,
}

impl ValueSink for NullValues {
    fn field(&mut self, name: &'static str) {
        self.bytes = self.bytes.wrapping_add(name.len() as u64);
    }
    fn count(&mut self, v: u64) {
        self.values += 1;
        self.bytes = self.bytes.wrapping_add(v);
    }
    fn int(&mut self, v: i64) {
        self.values += 1;
        self.bytes = self.bytes.wrapping_add(v as u64);
    }
    fn double(&mut self, v: f64) {
        self.values += 1;
        self.bytes = self.bytes.wrapping_add(v.to_bits());
    }
    fn boolean(&mut self, v: bool) {
        self.values += 1;
        self.bytes = self.bytes.wrapping_add(u64::from(v));
    }
    fn string(&mut self, v: &[u8]) {
        self.values += 1;
        for b in v {
            self.bytes = self.bytes.wrapping_add(u64::from(*b));
        }
    }
    fn time(&mut self, secs: f64) {
        self.values += 1;
        self.bytes = self.bytes.wrapping_add(secs.to_bits());
    }
    fn begin_vector(&mut self) {
        self.values += 1;
    }
    fn end_vector(&mut self) {
        self.values += 1;
    }
    fn begin_record(&mut self, type_name: &'static str) {
        self.values += 1;
        self.bytes = self.bytes.wrapping_add(type_name.len() as u64);
    }
    fn end_record(&mut self) {
        self.values += 1;
    }
}

/// Formats `v` with `Debug` into nowhere: runs every `Debug` impl (list views re-read their
/// elements) without keeping the text.
pub fn debug_into_sink(v: &dyn std::fmt::Debug) {
    // Writing to io::sink cannot fail; a formatting error would be a bug in a Debug impl, which
    // the fuzzer should report.
    write!(std::io::sink(), "{v:?}").expect("Debug formatting failed");
}

/// An [`EventSink`] that formats every event and visits every generated event's values.
#[derive(Debug, Default)]
pub struct Drain {
    /// Events received.
    pub events: u64,
    /// What the value visits saw.
    pub values: NullValues,
}

impl EventSink for Drain {
    fn event(&mut self, _ts: f64, ev: &Event<'_>) {
        self.events += 1;
        debug_into_sink(ev);
        if let Event::Ssl(e) = ev {
            let _ = e.name();
            e.visit(&mut self.values);
        }
    }
}

/// An [`EventSink`] that keeps the printed form of every event, for comparing two runs.
#[derive(Debug, Default)]
pub struct Transcript {
    /// One `Debug` line per event, in order.
    pub lines: Vec<String>,
}

impl EventSink for Transcript {
    fn event(&mut self, _ts: f64, ev: &Event<'_>) {
        let mut line = String::new();
        // Writing into a String cannot fail.
        let _ = write!(line, "{ev:?}");
        self.lines.push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_round_trip() {
        let items: [(bool, &[u8]); 3] = [(true, b"abc"), (false, b""), (false, b"de")];
        let enc = encode(&items);
        let dec = deliveries(&enc);
        assert_eq!(dec.len(), 3);
        for (d, (o, b)) in dec.iter().zip(items.iter()) {
            assert_eq!((d.is_orig, d.gap, d.data), (*o, false, *b));
        }
    }

    #[test]
    fn length_past_the_end_is_cut() {
        let dec = deliveries(&[1, 0xff, 0xff, 7, 8]);
        assert_eq!(dec.len(), 1);
        assert_eq!(dec[0].data, &[7, 8]);
    }
}
