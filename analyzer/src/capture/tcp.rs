//! One direction of a TCP byte stream: segments in, ordered bytes and gaps out.
//!
//! In: segments of one direction (sequence number of the first payload byte, payload), the
//! peer's acknowledgements, FIN positions, and the end of the connection. Out: [`Chunk`]s through
//! a [`StreamSink`] — `Data` in stream order with no byte twice, `Gap(len)` for bytes that will
//! never be seen — and weirds.
//!
//! Zero copy in order: a segment that starts where the stream stands and does not run into
//! buffered data is handed out as the packet's own slice. Only out-of-order data is copied, into
//! a per-direction buffer bounded by [`ReassemblyLimits`]; when a bound is hit the hole before
//! the buffered data is declared a gap ([`weird::REASSEMBLY_BUFFER_OVERFLOW`]) and the stream
//! moves on. A hole is also declared a gap when the peer acknowledges data beyond it (the
//! receiver got bytes the capture missed — Zeek's "ack above hole"), and at connection end.
//!
//! Overlaps: the first data seen wins. Data overlapping still-buffered bytes is compared and a
//! difference raises [`weird::REXMIT_INCONSISTENCY`]; data overlapping bytes already handed out is
//! dropped without comparison, because keeping delivered bytes would cost a copy of everything.

use std::collections::BTreeMap;

use super::weird;
use super::Verdict;

/// Default most bytes of out-of-order data buffered for one direction.
pub const DEFAULT_MAX_BUFFERED_BYTES_PER_DIRECTION: usize = 1024 * 1024;
/// Default most out-of-order segments buffered for one direction.
pub const DEFAULT_MAX_BUFFERED_SEGMENTS_PER_DIRECTION: usize = 1024;
/// Default most bytes of out-of-order data buffered over all connections.
pub const DEFAULT_MAX_BUFFERED_BYTES_TOTAL: usize = 256 * 1024 * 1024;

/// What all reassemblers of an engine share: the bounds on out-of-order buffering, the running
/// total they are checked against, and the byte counters (kept here rather than per direction,
/// so that an idle direction costs no counter memory).
#[derive(Debug, Clone)]
pub struct ReassemblyLimits {
    /// Per-direction byte bound.
    pub max_bytes_per_direction: usize,
    /// Per-direction segment bound.
    pub max_segments_per_direction: usize,
    /// Bound on the sum over all directions of all connections.
    pub max_bytes_total: usize,
    /// The current sum (maintained by the reassemblers).
    pub buffered_total: usize,
    /// Byte counters summed over all directions.
    pub totals: StreamCounters,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            max_bytes_per_direction: DEFAULT_MAX_BUFFERED_BYTES_PER_DIRECTION,
            max_segments_per_direction: DEFAULT_MAX_BUFFERED_SEGMENTS_PER_DIRECTION,
            max_bytes_total: DEFAULT_MAX_BUFFERED_BYTES_TOTAL,
            buffered_total: 0,
            totals: StreamCounters::default(),
        }
    }
}

/// A piece of the reassembled stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes, in order.
    Data(&'a [u8]),
    /// This many bytes are missing at this point of the stream.
    Gap(u64),
}

/// Receives the stream of one direction.
pub trait StreamSink {
    /// The next piece; `Verdict::Stop` ends delivery for good (buffers are freed).
    fn chunk(&mut self, chunk: Chunk<'_>) -> Verdict;
    /// Something odd about this direction.
    fn weird(&mut self, name: &'static str, addl: String);
}

/// Byte counters, for [`super::Stats`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StreamCounters {
    /// Bytes handed out as data.
    pub delivered: u64,
    /// Bytes handed out as gaps.
    pub gap: u64,
    /// Bytes dropped because they had been seen before.
    pub retransmitted: u64,
}

/// Out-of-order data of one direction.
#[derive(Debug, Default)]
struct Buffered {
    /// Pieces by stream offset; they never overlap.
    segments: BTreeMap<i64, Vec<u8>>,
    /// Their total length.
    bytes: usize,
}

/// Reassembly state of one direction: 32 bytes while nothing is out of order (nearly every
/// connection, nearly always); the buffer exists only while data waits behind a hole.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// Sequence number of stream offset 0.
    base: u32,
    initialized: bool,
    stopped: bool,
    /// Whether `fin` is set (a flag rather than an `Option<i64>`, which would take 16 bytes).
    has_fin: bool,
    /// Stream offset of the next byte to hand out.
    next: i64,
    /// Stream offset of the FIN, once seen.
    fin: i64,
    buffered: Option<Box<Buffered>>,
}

impl Reassembler {
    /// A direction that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fixes the sequence number of the first stream byte (ISN + 1 after a SYN, the first seen
    /// sequence number when picked up mid-stream). Later calls are ignored.
    pub fn init(&mut self, first_byte_seq: u32) {
        if !self.initialized {
            self.initialized = true;
            self.base = first_byte_seq;
            self.next = 0;
        }
    }

    /// Whether delivery was stopped by the consumer.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Bytes currently buffered.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered.as_ref().map_or(0, |b| b.bytes)
    }

    /// Segments currently buffered.
    fn buffered_segments(&self) -> usize {
        self.buffered.as_ref().map_or(0, |b| b.segments.len())
    }

    /// Stream offset of the first buffered byte.
    fn first_buffered(&self) -> Option<i64> {
        self.buffered
            .as_ref()
            .and_then(|b| b.segments.keys().next().copied())
    }

    /// The FIN's stream offset, once seen.
    fn fin_offset(&self) -> Option<i64> {
        self.has_fin.then_some(self.fin)
    }

    /// Frees the buffer and takes its bytes off the shared total.
    fn drop_buffer(&mut self, limits: &mut ReassemblyLimits) {
        if let Some(b) = self.buffered.take() {
            limits.buffered_total = limits.buffered_total.saturating_sub(b.bytes);
        }
    }

    /// Stream offset of the next byte to hand out (bytes delivered plus gaps).
    pub fn position(&self) -> i64 {
        self.next
    }

    /// Whether a FIN was seen and everything before it has been handed out.
    pub fn is_finished(&self) -> bool {
        self.fin_offset().is_some_and(|f| self.next >= f)
    }

    /// Stream offset of a sequence number: the 32-bit value taken in the 2^32 window closest
    /// to the current position, so wrap-around is transparent.
    fn offset_of(&self, seq: u32) -> i64 {
        let d = i64::from(seq.wrapping_sub(self.base));
        let mut v = (self.next & !0xffff_ffff) + d;
        if v - self.next > 1 << 31 {
            v -= 1 << 32;
        } else if self.next - v > 1 << 31 {
            v += 1 << 32;
        }
        v
    }

    /// Drops all buffered data and ignores everything from now on.
    pub fn stop(&mut self, limits: &mut ReassemblyLimits) {
        self.stopped = true;
        self.drop_buffer(limits);
    }

    fn emit(&mut self, chunk: Chunk<'_>, sink: &mut dyn StreamSink, limits: &mut ReassemblyLimits) {
        match chunk {
            Chunk::Data(d) => limits.totals.delivered += d.len() as u64,
            Chunk::Gap(n) => limits.totals.gap += n,
        }
        if sink.chunk(chunk) == Verdict::Stop {
            self.stop(limits);
        }
    }

    /// Notes a FIN at `seq` (the sequence number just after the segment's data).
    pub fn fin(&mut self, seq: u32) {
        if self.initialized && !self.has_fin {
            self.fin = self.offset_of(seq);
            self.has_fin = true;
        }
    }

    /// Takes a segment whose first payload byte has sequence number `seq`.
    pub fn segment(
        &mut self,
        seq: u32,
        data: &[u8],
        sink: &mut dyn StreamSink,
        limits: &mut ReassemblyLimits,
    ) {
        if data.is_empty() {
            return;
        }
        self.init(seq);
        if self.stopped {
            return;
        }
        let mut start = self.offset_of(seq);
        let end = start + data.len() as i64;
        if end <= self.next {
            limits.totals.retransmitted += data.len() as u64;
            return;
        }
        let mut data = data;
        if start < self.next {
            let skip = (self.next - start) as usize;
            limits.totals.retransmitted += skip as u64;
            data = data.get(skip..).unwrap_or_default();
            start = self.next;
        }
        let clear_of_buffer = match self.first_buffered() {
            Some(b) => end <= b,
            None => true,
        };
        if start == self.next && clear_of_buffer {
            // In order and clear of buffered data: hand out the packet's own bytes.
            self.next = end;
            self.emit(Chunk::Data(data), sink, limits);
        } else {
            self.insert(start, data, sink, limits);
        }
        self.drain(sink, limits);
        self.enforce_limits(sink, limits);
    }

    /// Copies the parts of `data` that fill holes into the buffer; compares the parts that
    /// overlap buffered data (the buffered bytes win).
    fn insert(
        &mut self,
        start: i64,
        data: &[u8],
        sink: &mut dyn StreamSink,
        limits: &mut ReassemblyLimits,
    ) {
        let end = start + data.len() as i64;
        let buffered = self.buffered.get_or_insert_with(Box::default);
        let from = match buffered.segments.range(..=start).next_back() {
            Some((&k, v)) if k + v.len() as i64 > start => k,
            _ => start,
        };
        let mut pieces: Vec<(i64, i64)> = Vec::new();
        let mut pos = start;
        let mut inconsistent = false;
        for (&k, v) in buffered.segments.range(from..end) {
            let kend = k + v.len() as i64;
            if kend <= pos {
                continue;
            }
            if k > pos {
                pieces.push((pos, k));
            }
            let lo = k.max(pos);
            let hi = kend.min(end);
            let old = v.get((lo - k) as usize..(hi - k) as usize);
            let new = data.get((lo - start) as usize..(hi - start) as usize);
            if old != new {
                inconsistent = true;
            }
            pos = hi;
            if pos >= end {
                break;
            }
        }
        if pos < end {
            pieces.push((pos, end));
        }
        if inconsistent {
            sink.weird(
                weird::REXMIT_INCONSISTENCY,
                format!("overlapping data differs at stream offset {start}"),
            );
        }
        for (lo, hi) in pieces {
            if let Some(bytes) = data.get((lo - start) as usize..(hi - start) as usize) {
                buffered.bytes += bytes.len();
                limits.buffered_total += bytes.len();
                buffered.segments.insert(lo, bytes.to_vec());
            }
        }
    }

    /// Hands out buffered data that has become contiguous with the stream position.
    fn drain(&mut self, sink: &mut dyn StreamSink, limits: &mut ReassemblyLimits) {
        while !self.stopped {
            let Some(buffered) = self.buffered.as_mut() else {
                break;
            };
            let Some(entry) = buffered.segments.first_entry() else {
                // Drained: an idle direction keeps no buffer.
                self.buffered = None;
                break;
            };
            let k = *entry.key();
            if k > self.next {
                break;
            }
            let v = entry.remove();
            buffered.bytes -= v.len();
            limits.buffered_total = limits.buffered_total.saturating_sub(v.len());
            let kend = k + v.len() as i64;
            if kend <= self.next {
                continue;
            }
            let tail = v.get((self.next - k) as usize..).unwrap_or_default();
            self.next = kend;
            self.emit(Chunk::Data(tail), sink, limits);
        }
    }

    /// Declares a gap up to `to` (or the first buffered byte before it), then drains.
    fn skip_to(&mut self, to: i64, sink: &mut dyn StreamSink, limits: &mut ReassemblyLimits) {
        while !self.stopped && self.next < to {
            let target = match self.first_buffered() {
                Some(k) if k <= self.next => {
                    self.drain(sink, limits);
                    continue;
                }
                Some(k) => k.min(to),
                None => to,
            };
            let len = (target - self.next) as u64;
            self.next = target;
            self.emit(Chunk::Gap(len), sink, limits);
            self.drain(sink, limits);
        }
    }

    fn enforce_limits(&mut self, sink: &mut dyn StreamSink, limits: &mut ReassemblyLimits) {
        let over = |r: &Self, l: &ReassemblyLimits| {
            r.buffered_bytes() > l.max_bytes_per_direction
                || r.buffered_segments() > l.max_segments_per_direction
                || l.buffered_total > l.max_bytes_total
        };
        if self.stopped || self.buffered_segments() == 0 || !over(self, limits) {
            return;
        }
        sink.weird(
            weird::REASSEMBLY_BUFFER_OVERFLOW,
            format!(
                "{} bytes in {} segments buffered behind a hole at stream offset {}",
                self.buffered_bytes(),
                self.buffered_segments(),
                self.next
            ),
        );
        while !self.stopped && over(self, limits) {
            let Some(k) = self.first_buffered() else {
                break;
            };
            self.skip_to(k, sink, limits);
        }
    }

    /// The peer acknowledged everything before `ack`: bytes of a hole before it were received
    /// but not captured, so they become a gap now.
    pub fn ack(&mut self, ack: u32, sink: &mut dyn StreamSink, limits: &mut ReassemblyLimits) {
        if !self.initialized || self.stopped {
            return;
        }
        let mut to = self.offset_of(ack);
        if let Some(f) = self.fin_offset() {
            // The FIN occupies a sequence number but no byte.
            to = to.min(f);
        }
        if to > self.next {
            self.skip_to(to, sink, limits);
        }
    }

    /// Connection end: every remaining hole becomes a gap, buffered data is handed out, and a
    /// hole before a seen FIN is reported too.
    pub fn finish(&mut self, sink: &mut dyn StreamSink, limits: &mut ReassemblyLimits) {
        if !self.initialized || self.stopped {
            return;
        }
        let last = self
            .buffered
            .as_ref()
            .and_then(|b| b.segments.iter().next_back())
            .map(|(k, v)| k + v.len() as i64);
        let to = match (last, self.fin_offset()) {
            (Some(l), Some(f)) => l.max(f),
            (Some(l), None) => l,
            (None, Some(f)) => f,
            (None, None) => self.next,
        };
        self.skip_to(to, sink, limits);
        // Nothing can remain, but free it either way.
        self.drop_buffer(limits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Rec {
        out: Vec<String>,
        weirds: Vec<&'static str>,
        stop_after: Option<usize>,
    }

    impl StreamSink for Rec {
        fn chunk(&mut self, chunk: Chunk<'_>) -> Verdict {
            self.out.push(match chunk {
                Chunk::Data(d) => String::from_utf8_lossy(d).into_owned(),
                Chunk::Gap(n) => format!("<gap {n}>"),
            });
            if self.stop_after.is_some_and(|n| self.out.len() >= n) {
                Verdict::Stop
            } else {
                Verdict::Continue
            }
        }
        fn weird(&mut self, name: &'static str, _addl: String) {
            self.weirds.push(name);
        }
    }

    const ISN: u32 = 1000;

    #[test]
    fn in_order_out_of_order_and_retransmission() {
        let (mut r, mut s, mut l) = (
            Reassembler::new(),
            Rec::default(),
            ReassemblyLimits::default(),
        );
        r.init(ISN);
        r.segment(ISN, b"hello ", &mut s, &mut l);
        r.segment(ISN + 11, b"!!", &mut s, &mut l);
        assert_eq!(r.buffered_bytes(), 2);
        r.segment(ISN, b"hello ", &mut s, &mut l);
        r.segment(ISN + 6, b"world", &mut s, &mut l);
        assert_eq!(s.out, ["hello ", "world", "!!"]);
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(l.buffered_total, 0);
        assert_eq!(l.totals.delivered, 13);
        assert_eq!(l.totals.retransmitted, 6);
        assert!(s.weirds.is_empty());
    }

    #[test]
    fn overlap_first_wins_with_weird() {
        let (mut r, mut s, mut l) = (
            Reassembler::new(),
            Rec::default(),
            ReassemblyLimits::default(),
        );
        r.init(ISN);
        r.segment(ISN + 4, b"EFGH", &mut s, &mut l);
        // Overlaps the buffered EFGH with different bytes: the buffered ones win.
        r.segment(ISN, b"ABCDxxGHIJ", &mut s, &mut l);
        assert_eq!(s.out.concat(), "ABCDEFGHIJ");
        assert_eq!(s.weirds, [weird::REXMIT_INCONSISTENCY]);
        // A consistent overlap is silent.
        r.segment(ISN + 12, b"MN", &mut s, &mut l);
        r.segment(ISN + 10, b"KLMN", &mut s, &mut l);
        assert_eq!(s.out.concat(), "ABCDEFGHIJKLMN");
        assert_eq!(s.weirds.len(), 1);
    }

    #[test]
    fn ack_above_hole_becomes_gap() {
        let (mut r, mut s, mut l) = (
            Reassembler::new(),
            Rec::default(),
            ReassemblyLimits::default(),
        );
        r.init(ISN);
        r.segment(ISN, b"abc", &mut s, &mut l);
        r.segment(ISN + 10, b"xyz", &mut s, &mut l);
        r.ack(ISN + 5, &mut s, &mut l);
        assert_eq!(s.out, ["abc", "<gap 2>"]);
        r.ack(ISN + 13, &mut s, &mut l);
        assert_eq!(s.out, ["abc", "<gap 2>", "<gap 5>", "xyz"]);
        assert_eq!(l.totals.gap, 7);
    }

    #[test]
    fn finish_reports_holes_and_fin_gap() {
        let (mut r, mut s, mut l) = (
            Reassembler::new(),
            Rec::default(),
            ReassemblyLimits::default(),
        );
        r.init(ISN);
        r.segment(ISN + 2, b"cd", &mut s, &mut l);
        r.fin(ISN + 8);
        r.finish(&mut s, &mut l);
        assert_eq!(s.out, ["<gap 2>", "cd", "<gap 4>"]);
        assert!(r.is_finished());
    }

    #[test]
    fn overflow_forces_gap() {
        let (mut r, mut s) = (Reassembler::new(), Rec::default());
        let mut l = ReassemblyLimits {
            max_bytes_per_direction: 8,
            ..ReassemblyLimits::default()
        };
        r.init(ISN);
        r.segment(ISN + 10, b"12345", &mut s, &mut l);
        r.segment(ISN + 20, b"67890", &mut s, &mut l);
        assert_eq!(s.out, ["<gap 10>", "12345"]);
        assert_eq!(s.weirds, [weird::REASSEMBLY_BUFFER_OVERFLOW]);
        assert_eq!(r.buffered_bytes(), 5);
        assert_eq!(l.buffered_total, 5);
    }

    #[test]
    fn sequence_wraparound() {
        let (mut r, mut s, mut l) = (
            Reassembler::new(),
            Rec::default(),
            ReassemblyLimits::default(),
        );
        let isn = u32::MAX - 2;
        r.init(isn);
        r.segment(isn, b"abcdef", &mut s, &mut l);
        r.segment(isn.wrapping_add(6), b"gh", &mut s, &mut l);
        assert_eq!(s.out, ["abcdef", "gh"]);
    }

    #[test]
    fn stop_frees_buffers_and_silences() {
        let (mut r, mut l) = (Reassembler::new(), ReassemblyLimits::default());
        let mut s = Rec {
            stop_after: Some(1),
            ..Rec::default()
        };
        r.init(ISN);
        r.segment(ISN + 3, b"def", &mut s, &mut l);
        r.segment(ISN, b"abc", &mut s, &mut l);
        assert_eq!(s.out, ["abc"]);
        assert!(r.is_stopped());
        assert_eq!(l.buffered_total, 0);
        r.segment(ISN + 6, b"ghi", &mut s, &mut l);
        r.finish(&mut s, &mut l);
        assert_eq!(s.out, ["abc"]);
    }
}
