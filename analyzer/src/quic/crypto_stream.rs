//! One direction's CRYPTO stream in the Initial packets: reassembly, and the TLS record that
//! carries the first handshake message to the SSL analyzer.
//!
//! In: the offset and bytes of each CRYPTO frame of a decrypted Initial packet, in packet
//! order (frames may be out of order, overlap, repeat, and span several packets). Out: the bytes
//! the SSL analyzer gets, through a callback: a TLS record header (`16 03 03` and the message
//! length) followed by the first handshake message (the ClientHello or ServerHello) as its
//! bytes become contiguous.
//!
//! This is what Zeek's `CryptoSinkUnit` does (`QUIC.spicy`): the first four bytes are the
//! handshake message's type and 24-bit length; the message may be at most 2^14 + 256 bytes
//! (RFC 8446 §5.1's TLSCiphertext bound, which Zeek applies); once it has been forwarded the
//! stream is finished and later Initial packets of that side are not decrypted any more. Bytes
//! delivered in order beyond the message's length are an error (an analyzer violation), as in
//! Zeek.
//!
//! Out-of-order bytes wait in a bounded buffer: at most [`MAX_CRYPTO_BUFFERED`] bytes, and only
//! within [`MAX_CRYPTO_BUFFERED`] of the contiguous position; what lies beyond is dropped with
//! the weird [`WEIRD_CRYPTO_BEYOND_WINDOW`] (Zeek's sink buffers without a limit); so are
//! segments past [`MAX_CRYPTO_SEGMENTS`].

/// The largest handshake message Zeek forwards: 2^14 + 256 bytes, header included.
pub const MAX_HANDSHAKE_MESSAGE: u32 = (1 << 14) + 256;
/// Zeek's limit on CRYPTO bytes before the message length is known.
pub const MAX_BYTES_WITHOUT_LENGTH: u64 = 2000;
/// Bytes of out-of-order CRYPTO data kept per direction, and how far beyond the contiguous
/// position they may start: a whole message and its header.
pub const MAX_CRYPTO_BUFFERED: u64 = MAX_HANDSHAKE_MESSAGE as u64 + 4;
/// Out-of-order segments kept per direction: the byte cap alone would let one-byte frames cost
/// a heap block each and quadratic insertion time; real stacks send a handful.
pub const MAX_CRYPTO_SEGMENTS: usize = 256;
/// Weird for CRYPTO data too far ahead of the contiguous position to be kept.
pub const WEIRD_CRYPTO_BEYOND_WINDOW: &str = "QUIC_crypto_frame_beyond_window";

/// The TLS record header's content type and version (`handshake`, 0x0303), as Zeek writes it.
const RECORD_PREFIX: [u8; 3] = [0x16, 0x03, 0x03];

/// Why the stream failed; the text is the violation's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// The handshake message claims more than [`MAX_HANDSHAKE_MESSAGE`] bytes.
    MessageTooLong(u32),
    /// More bytes than the message has.
    TooMuch { have: u64, length: u64 },
    /// More than [`MAX_BYTES_WITHOUT_LENGTH`] bytes before the length was known.
    TooMuchWithoutLength(u64),
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CryptoError::MessageTooLong(n) => write!(
                f,
                "&requires failed: (self.length <= 2**14 + 256) (handshake message of {n} bytes)"
            ),
            CryptoError::TooMuch { have, length } => {
                write!(f, "too much crypto data received {have} > {length}")
            }
            CryptoError::TooMuchWithoutLength(n) => {
                write!(f, "too much crypto data without length received {n}")
            }
        }
    }
}

/// What a write reports besides the bytes handed on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteNotes {
    /// Bytes dropped because they lay beyond the reassembly window.
    pub dropped_beyond_window: bool,
}

/// One direction's CRYPTO stream; see the module docs.
#[derive(Debug, Default)]
pub struct CryptoStream {
    /// Bytes delivered in order so far (Zeek's `|crypto_sink|`).
    delivered: u64,
    /// Out-of-order segments (offset, bytes), sorted by offset, not overlapping `delivered`.
    pending: Vec<(u64, Vec<u8>)>,
    pending_bytes: u64,
    /// The handshake header's bytes collected so far.
    header: [u8; 4],
    /// Message length with its header, once known.
    length: Option<u32>,
    /// Bytes of the message forwarded so far (header included).
    forwarded: u64,
    finished: bool,
}

impl CryptoStream {
    /// Whether the first handshake message has been forwarded completely.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// One CRYPTO frame's data at `offset`; `out` gets the bytes for the SSL analyzer.
    pub fn write(
        &mut self,
        offset: u64,
        data: &[u8],
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<WriteNotes, CryptoError> {
        let mut notes = WriteNotes::default();
        let end = offset.saturating_add(data.len() as u64);
        if end <= self.delivered {
            return self.check();
        }
        if offset > self.delivered {
            notes.dropped_beyond_window = !self.keep(offset, data);
            self.check()?;
            return Ok(notes);
        }
        // Skip what was delivered already.
        let skip = usize::try_from(self.delivered - offset).unwrap_or(data.len());
        self.deliver(data.get(skip..).unwrap_or_default(), out)?;
        // Pending segments that became contiguous follow.
        while let Some(pos) = self.pending.iter().position(|(o, _)| *o <= self.delivered) {
            let (o, seg) = self.pending.remove(pos);
            self.pending_bytes -= seg.len() as u64;
            let seg_end = o + seg.len() as u64;
            if seg_end > self.delivered {
                let skip = usize::try_from(self.delivered - o).unwrap_or(seg.len());
                self.deliver(seg.get(skip..).unwrap_or_default(), out)?;
            }
        }
        self.check()?;
        Ok(notes)
    }

    /// Keeps an out-of-order segment if it fits the window; false when it was dropped.
    fn keep(&mut self, offset: u64, data: &[u8]) -> bool {
        let end = offset.saturating_add(data.len() as u64);
        if end - self.delivered > MAX_CRYPTO_BUFFERED
            || self.pending_bytes + data.len() as u64 > MAX_CRYPTO_BUFFERED
        {
            return false;
        }
        // A repeat of a kept segment adds nothing.
        if self
            .pending
            .iter()
            .any(|(o, s)| *o <= offset && o + s.len() as u64 >= end)
        {
            return true;
        }
        if self.pending.len() >= MAX_CRYPTO_SEGMENTS {
            return false;
        }
        let at = self.pending.partition_point(|(o, _)| *o <= offset);
        self.pending.insert(at, (offset, data.to_vec()));
        self.pending_bytes += data.len() as u64;
        true
    }

    /// Zeek's checks after each frame's write, on the bytes its sink delivered in order
    /// (`|crypto_sink|`; bytes waiting out of order do not count: Zeek's analysis of
    /// `quic-decrypt-fail-google-de-51833.pcap`, whose client repeats CRYPTO data ahead of
    /// the gap, succeeds). With in-order bytes only, the length is known from the fourth byte
    /// on, so the 2000-byte rule cannot trigger; it is kept as Zeek has it.
    fn check(&self) -> Result<WriteNotes, CryptoError> {
        let size = self.delivered;
        match self.length {
            Some(len) if size > u64::from(len) => Err(CryptoError::TooMuch {
                have: size,
                length: u64::from(len),
            }),
            None if size > MAX_BYTES_WITHOUT_LENGTH => Err(CryptoError::TooMuchWithoutLength(size)),
            _ => Ok(WriteNotes::default()),
        }
    }

    /// In-order bytes: the message header, then the message, then nothing.
    fn deliver(&mut self, mut data: &[u8], out: &mut dyn FnMut(&[u8])) -> Result<(), CryptoError> {
        self.delivered += data.len() as u64;
        while !data.is_empty() && !self.finished {
            match self.length {
                None => {
                    let have = self.forwarded as usize;
                    let take = (4 - have).min(data.len());
                    self.header[have..have + take].copy_from_slice(&data[..take]);
                    self.forwarded += take as u64;
                    data = &data[take..];
                    if self.forwarded == 4 {
                        let [_, a, b, c] = self.header;
                        let len = u32::from_be_bytes([0, a, b, c]) + 4;
                        if len > MAX_HANDSHAKE_MESSAGE {
                            return Err(CryptoError::MessageTooLong(len));
                        }
                        self.length = Some(len);
                        let [_, _, hi, lo] = len.to_be_bytes();
                        let mut record = [0u8; 9];
                        record[..3].copy_from_slice(&RECORD_PREFIX);
                        record[3..5].copy_from_slice(&[hi, lo]);
                        record[5..].copy_from_slice(&self.header);
                        out(&record);
                    }
                }
                Some(len) => {
                    let left = u64::from(len) - self.forwarded;
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
                    out(&data[..take]);
                    self.forwarded += take as u64;
                    data = &data[take..];
                    if self.forwarded == u64::from(len) {
                        self.finished = true;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A handshake message of `body` bytes: type 1 and the 24-bit length.
    fn message(body: usize) -> Vec<u8> {
        let mut m = vec![1, 0, (body >> 8) as u8, body as u8];
        m.extend((0..body).map(|i| i as u8));
        m
    }

    fn collect(s: &mut CryptoStream, frames: &[(u64, &[u8])]) -> (Vec<u8>, Option<CryptoError>) {
        let mut got = Vec::new();
        for (off, d) in frames {
            if let Err(e) = s.write(*off, d, &mut |b| got.extend_from_slice(b)) {
                return (got, Some(e));
            }
        }
        (got, None)
    }

    fn record(m: &[u8]) -> Vec<u8> {
        let mut r = vec![0x16, 3, 3, (m.len() >> 8) as u8, m.len() as u8];
        r.extend_from_slice(m);
        r
    }

    #[test]
    fn in_order_frames_become_one_record() {
        let m = message(300);
        let mut s = CryptoStream::default();
        let (got, err) = collect(&mut s, &[(0, &m[..2]), (2, &m[2..100]), (100, &m[100..])]);
        assert_eq!(err, None);
        assert_eq!(got, record(&m));
        assert!(s.finished());
    }

    #[test]
    fn out_of_order_overlapping_and_repeated_frames() {
        let m = message(1500);
        let mut s = CryptoStream::default();
        let frames: [(u64, &[u8]); 6] = [
            (1000, &m[1000..]),
            (500, &m[500..1200]),
            (500, &m[500..1200]),
            (0, &m[..10]),
            (5, &m[5..600]),
            (0, &m[..10]),
        ];
        let (got, err) = collect(&mut s, &frames);
        assert_eq!(err, None);
        assert_eq!(got, record(&m));
        assert!(s.finished());
    }

    #[test]
    fn zeeks_limits_are_violations() {
        // A message longer than 2^14 + 256.
        let mut s = CryptoStream::default();
        let (_, err) = collect(&mut s, &[(0, &[1, 0x01, 0x00, 0x00])]);
        assert_eq!(err, Some(CryptoError::MessageTooLong(0x1_0004)));
        // More bytes than the message has.
        let mut m = message(10);
        m.extend_from_slice(&[0; 5]);
        let mut s = CryptoStream::default();
        let (got, err) = collect(&mut s, &[(0, &m)]);
        assert_eq!(
            err,
            Some(CryptoError::TooMuch {
                have: 19,
                length: 14
            })
        );
        assert_eq!(got, record(&message(10)), "the message still went out");
        // Bytes waiting for the message's first bytes do not count against its length.
        let m = message(2500);
        let mut s = CryptoStream::default();
        let (got, err) = collect(&mut s, &[(10, &m[10..]), (2400, &m[2400..]), (0, &m[..10])]);
        assert_eq!(err, None);
        assert_eq!(got, record(&m));
        // Data beyond the window is dropped, not kept.
        let mut s = CryptoStream::default();
        let notes = s.write(MAX_CRYPTO_BUFFERED, &[0u8; 100], &mut |_| {});
        assert_eq!(
            notes,
            Ok(WriteNotes {
                dropped_beyond_window: true
            })
        );
    }

    #[test]
    fn every_split_point_gives_the_same_record() {
        let m = message(40);
        for cut in 0..m.len() {
            let mut s = CryptoStream::default();
            // Second half first.
            let (got, err) = collect(&mut s, &[(cut as u64, &m[cut..]), (0, &m[..cut])]);
            assert_eq!(err, None, "cut {cut}");
            assert_eq!(got, record(&m), "cut {cut}");
        }
    }

    #[test]
    fn kept_bytes_are_bounded() {
        // Whatever the writes, the kept bytes stay within the cap (the 2000-byte rule ends
        // the stream first here; the cap holds regardless).
        let mut s = CryptoStream::default();
        let chunk = vec![7u8; 1000];
        for i in 1..100u64 {
            let _ = s.write(i * 1000, &chunk, &mut |_| {});
            assert!(s.pending_bytes <= MAX_CRYPTO_BUFFERED);
        }
    }
}
