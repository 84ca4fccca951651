//! Per-direction stream buffer: arbitrarily split bytes in, complete units out.
//!
//! In: successive chunks of one byte stream (TCP segments, or the payloads of handshake records), a
//! *framer* that looks at the start of the pending bytes and says how long the next unit is, and a
//! callback that receives each complete unit. Out: every complete unit exactly once, in order, as a
//! byte slice, plus an error when a unit would not fit the configured cap or the framer rejects the
//! bytes.
//!
//! Units that lie wholly inside the chunk passed to [`StreamBuffer::feed`] are handed out as
//! borrowed sub-slices of that chunk: no copy. Only a unit that straddles chunks is copied into one
//! reused `Vec` whose capacity never exceeds the cap given to [`StreamBuffer::new`]; a unit longer
//! than the cap is refused with [`StreamError::UnitTooLarge`] (naming the cap) instead of growing
//! memory. The buffer knows nothing about TLS: for records the framer reads a 5-byte header, for
//! handshake messages a 4-byte header (`Frame::Unit(4 + length)`).

use core::fmt;

/// What the framer says about the bytes at the start of the pending stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// At least this many bytes (in total, from the start of the unit) are needed before the
    /// length of the unit is known. Must be larger than the number of bytes the framer was shown.
    Need(usize),
    /// The next unit is this many bytes long (header included). Must be at least 1.
    Unit(usize),
    /// The bytes cannot start a unit: the stream is broken.
    Invalid,
}

/// What the unit callback wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep delivering units.
    Continue,
    /// Stop now; bytes after this unit are dropped and the buffer is left empty. Used when the
    /// consumer gives up on the stream (encryption started, analyzer disabled, fatal error).
    Stop,
}

/// Why [`StreamBuffer::feed`] stopped before the end of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamError {
    /// A unit (or a header still being assembled) needs more bytes than the buffer's cap.
    UnitTooLarge {
        /// The length the framer asked for.
        needed: usize,
        /// The cap the buffer was created with.
        cap: usize,
    },
    /// The framer said the bytes cannot start a unit.
    Invalid,
    /// The framer broke its contract (`Need(n)` with `n` not larger than what it was shown, or
    /// `Unit(0)`); reported rather than looping forever.
    FramerContract,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::UnitTooLarge { needed, cap } => {
                write!(
                    f,
                    "unit of {needed} bytes exceeds the stream buffer cap of {cap} bytes"
                )
            }
            StreamError::Invalid => f.write_str("framer rejected the stream bytes"),
            StreamError::FramerContract => f.write_str("framer returned an unusable length"),
        }
    }
}

impl std::error::Error for StreamError {}

/// How a [`StreamBuffer::feed`] call ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fed {
    /// All input was consumed; a partial unit may be pending.
    Consumed,
    /// The callback returned [`Flow::Stop`].
    Stopped,
}

/// Reassembles one direction of a stream into units; see the module docs.
#[derive(Debug)]
pub struct StreamBuffer {
    /// Bytes of the unit that straddles chunks. Its capacity is grown on demand, never past `cap`.
    pending: Vec<u8>,
    cap: usize,
}

impl StreamBuffer {
    /// A buffer that will hold at most `cap` bytes of one partial unit. Nothing is allocated
    /// until a unit actually straddles two chunks.
    pub fn new(cap: usize) -> Self {
        StreamBuffer {
            pending: Vec::new(),
            cap,
        }
    }

    /// The cap given to [`StreamBuffer::new`].
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes of an incomplete unit waiting for more input.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Current capacity of the internal copy buffer (never more than the cap); exposed so tests
    /// and memory accounting can check that whole units caused no allocation.
    pub fn buffer_capacity(&self) -> usize {
        self.pending.capacity()
    }

    /// Drops any partial unit (after a content gap, for instance). Keeps the allocation for reuse.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Feeds the next chunk of the stream. Each complete unit is passed to `on_unit`, borrowed from
    /// `data` when it lies wholly inside it. On error the partial unit is discarded, so the
    /// buffer can be reused after a resync.
    pub fn feed<F, U>(&mut self, data: &[u8], framer: F, mut on_unit: U) -> Result<Fed, StreamError>
    where
        F: Fn(&[u8]) -> Frame,
        U: FnMut(&[u8]) -> Flow,
    {
        let mut rest = data;

        // First finish the unit that straddles the previous chunk(s), if there is one. The
        // framer is asked again after every append, because the header may complete first.
        while !self.pending.is_empty() {
            let want = match framer(&self.pending) {
                Frame::Need(n) if n > self.pending.len() => n,
                Frame::Unit(n) if n > 0 => n,
                Frame::Invalid => return Err(self.fail(StreamError::Invalid)),
                _ => return Err(self.fail(StreamError::FramerContract)),
            };
            if want > self.cap {
                return Err(self.fail(StreamError::UnitTooLarge {
                    needed: want,
                    cap: self.cap,
                }));
            }
            if want <= self.pending.len() {
                // Only `Unit(n)` gets here: the copied bytes hold a whole unit.
                let flow = on_unit(&self.pending[..want]);
                self.pending.drain(..want);
                if flow == Flow::Stop {
                    self.pending.clear();
                    return Ok(Fed::Stopped);
                }
                continue;
            }
            let missing = want - self.pending.len();
            if rest.len() < missing {
                self.append(rest);
                return Ok(Fed::Consumed);
            }
            self.append(&rest[..missing]);
            rest = &rest[missing..];
        }

        // Then hand out every unit that lies wholly inside `rest`, borrowed.
        while !rest.is_empty() {
            match framer(rest) {
                Frame::Unit(n) if n > 0 && n <= rest.len() => {
                    let (unit, tail) = rest.split_at(n);
                    rest = tail;
                    if on_unit(unit) == Flow::Stop {
                        return Ok(Fed::Stopped);
                    }
                }
                Frame::Unit(n) if n > rest.len() => {
                    return self.keep_partial(rest, n);
                }
                Frame::Need(n) if n > rest.len() => {
                    return self.keep_partial(rest, n);
                }
                Frame::Invalid => return Err(self.fail(StreamError::Invalid)),
                _ => return Err(self.fail(StreamError::FramerContract)),
            }
        }
        Ok(Fed::Consumed)
    }

    /// Copies the tail of a chunk that starts a unit of (at least) `want` bytes.
    fn keep_partial(&mut self, tail: &[u8], want: usize) -> Result<Fed, StreamError> {
        if want > self.cap {
            return Err(self.fail(StreamError::UnitTooLarge {
                needed: want,
                cap: self.cap,
            }));
        }
        self.append(tail);
        Ok(Fed::Consumed)
    }

    /// Appends to the copy buffer; callers have checked that the result stays within the cap.
    fn append(&mut self, bytes: &[u8]) {
        let needed = self.pending.len() + bytes.len();
        if needed > self.pending.capacity() {
            // Reserve exactly what the cap allows at most, so capacity never exceeds the cap
            // (Vec's doubling would otherwise overshoot it).
            let target = needed
                .max(self.pending.capacity().saturating_mul(2))
                .min(self.cap);
            self.pending.reserve_exact(target - self.pending.len());
        }
        self.pending.extend_from_slice(bytes);
    }

    fn fail(&mut self, e: StreamError) -> StreamError {
        self.pending.clear();
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test framing: a 2-byte big-endian length header, then that many bytes.
    fn len16(b: &[u8]) -> Frame {
        if b.len() < 2 {
            return Frame::Need(2);
        }
        Frame::Unit(2 + usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn stream() -> Vec<u8> {
        let mut s = Vec::new();
        for (i, len) in [0usize, 1, 5, 3, 17, 2].iter().enumerate() {
            s.extend_from_slice(&(*len as u16).to_be_bytes());
            s.extend((0..*len).map(|j| (i * 31 + j) as u8));
        }
        s
    }

    fn units_of(chunks: &[&[u8]], cap: usize) -> Result<Vec<Vec<u8>>, StreamError> {
        let mut buf = StreamBuffer::new(cap);
        let mut out = Vec::new();
        for c in chunks {
            buf.feed(c, len16, |u| {
                out.push(u.to_vec());
                Flow::Continue
            })?;
        }
        assert_eq!(buf.pending_len(), 0, "stream ends on a unit boundary");
        Ok(out)
    }

    #[test]
    fn split_at_every_byte_gives_the_same_units() {
        let s = stream();
        let whole = units_of(&[&s], 64).expect("whole stream");
        assert_eq!(whole.len(), 6);
        for cut in 0..=s.len() {
            let (a, b) = s.split_at(cut);
            assert_eq!(
                units_of(&[a, b], 64).expect("two chunks"),
                whole,
                "cut at {cut}"
            );
        }
        for cut1 in 0..=s.len() {
            for cut2 in cut1..=s.len() {
                let parts = [&s[..cut1], &s[cut1..cut2], &s[cut2..]];
                assert_eq!(units_of(&parts, 64).expect("three chunks"), whole);
            }
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = s.chunks(1).collect();
        assert_eq!(units_of(&bytes, 64).expect("bytewise"), whole);
    }

    #[test]
    fn whole_units_are_borrowed_without_copy() {
        let s = stream();
        let mut buf = StreamBuffer::new(64);
        let base = s.as_ptr() as usize;
        let mut n = 0;
        buf.feed(&s, len16, |u| {
            let off = u.as_ptr() as usize - base;
            assert!(off + u.len() <= s.len(), "unit points into the input");
            n += 1;
            Flow::Continue
        })
        .expect("feed");
        assert_eq!(n, 6);
        assert_eq!(buf.buffer_capacity(), 0, "no allocation for whole units");
    }

    #[test]
    fn unit_larger_than_cap_is_refused_naming_the_cap() {
        let mut buf = StreamBuffer::new(8);
        let mut data = vec![0u8, 20];
        data.extend([7u8; 3]);
        let err = buf
            .feed(&data, len16, |_| Flow::Continue)
            .expect_err("over cap");
        assert_eq!(err, StreamError::UnitTooLarge { needed: 22, cap: 8 });
        assert!(err.to_string().contains("cap of 8 bytes"));
        assert!(buf.buffer_capacity() <= 8);
        assert_eq!(buf.pending_len(), 0);
    }

    #[test]
    fn over_cap_detected_when_header_completes_across_chunks() {
        let mut buf = StreamBuffer::new(8);
        buf.feed(&[0u8], len16, |_| Flow::Continue)
            .expect("first byte");
        let err = buf.feed(&[30u8, 1, 2], len16, |_| Flow::Continue);
        assert_eq!(err, Err(StreamError::UnitTooLarge { needed: 32, cap: 8 }));
        assert!(buf.buffer_capacity() <= 8);
    }

    #[test]
    fn capacity_never_exceeds_cap() {
        let s = stream();
        let mut buf = StreamBuffer::new(19);
        for c in s.chunks(1) {
            buf.feed(c, len16, |_| Flow::Continue).expect("fits");
            assert!(buf.buffer_capacity() <= 19);
        }
    }

    #[test]
    fn stop_drops_the_rest() {
        let s = stream();
        let mut buf = StreamBuffer::new(64);
        let mut n = 0;
        let fed = buf
            .feed(&s, len16, |_| {
                n += 1;
                if n == 2 {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            })
            .expect("feed");
        assert_eq!(fed, Fed::Stopped);
        assert_eq!(n, 2);
        assert_eq!(buf.pending_len(), 0);
    }

    #[test]
    fn invalid_and_contract_errors() {
        let mut buf = StreamBuffer::new(64);
        let r = buf.feed(&[1, 2, 3], |_| Frame::Invalid, |_| Flow::Continue);
        assert_eq!(r, Err(StreamError::Invalid));
        let r = buf.feed(&[1, 2, 3], |_| Frame::Unit(0), |_| Flow::Continue);
        assert_eq!(r, Err(StreamError::FramerContract));
        let r = buf.feed(&[1, 2, 3], |b| Frame::Need(b.len()), |_| Flow::Continue);
        assert_eq!(r, Err(StreamError::FramerContract));
    }

    #[test]
    fn handshake_message_framing() {
        // 4-byte header: type, 24-bit length.
        let hs = |b: &[u8]| {
            if b.len() < 4 {
                Frame::Need(4)
            } else {
                Frame::Unit(
                    4 + (usize::from(b[1]) << 16 | usize::from(b[2]) << 8 | usize::from(b[3])),
                )
            }
        };
        let msgs = [1u8, 0, 0, 2, 0xaa, 0xbb, 14, 0, 0, 0];
        for cut in 0..=msgs.len() {
            let mut buf = StreamBuffer::new(16);
            let mut types = Vec::new();
            for part in [&msgs[..cut], &msgs[cut..]] {
                buf.feed(part, hs, |u| {
                    types.push((u[0], u.len()));
                    Flow::Continue
                })
                .expect("feed");
            }
            assert_eq!(types, vec![(1, 6), (14, 4)], "cut at {cut}");
        }
    }
}
