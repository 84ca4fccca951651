//! The byte cursor generated parsers read from.
//!
//! In: a byte slice (plus the absolute offset of its first byte, for bounded sub-inputs). Out:
//! big-endian integers, borrowed byte slices, bounded sub-readers and the absolute offset of every
//! failure. Every read is one range check from the current position; integers are decoded from
//! the taken bytes with `from_be_bytes` (one load: nom's number parsers, which this once used,
//! compile to a byte loop). All reads are checked; none allocates or panics. The `*_validated`
//! readers serve the build pass over bytes that validation accepted: they have no error path.

use crate::error::{ErrorKind, ParseError};

/// A cursor over a bounded window of the top-level input.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    /// The window: everything this reader may consume.
    data: &'a [u8],
    /// Bytes of `data` already consumed (never more than `data.len()`).
    pos: usize,
    /// Absolute offset of `data[0]` in the top-level input, so errors point at the right byte.
    base: usize,
}

/// Generates one fixed-width big-endian reader: the bytes are taken with nom's `take` (one length
/// check), then decoded from a fixed-size array (one load).
macro_rules! be_reader {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $width:expr, $decode:expr) => {
        $(#[$doc])*
        #[inline]
        pub fn $name(&mut self, path: &'static str) -> Result<$ty, ParseError> {
            match self.take_array::<$width>() {
                Some(bytes) => Ok($decode(bytes)),
                None => Err(self.incomplete(path, $width)),
            }
        }
    };
}

/// Generates one fixed-width big-endian reader for validated bytes: no error, 0 past the end.
macro_rules! be_reader_validated {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $width:expr, $decode:expr) => {
        $(#[$doc])*
        #[inline]
        pub fn $name(&mut self) -> $ty {
            match self.take_array::<$width>() {
                Some(bytes) => $decode(bytes),
                None => {
                    self.take_rest();
                    0
                }
            }
        }
    };
}

impl<'a> Reader<'a> {
    /// Consumes the next `N` bytes as an array, or nothing when fewer are left.
    #[inline]
    fn take_array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let bytes = self
            .peek(N)
            .and_then(|taken| <[u8; N]>::try_from(taken).ok())?;
        self.pos += N;
        Some(bytes)
    }

    /// The next `n` bytes without consuming them, or `None` when fewer are left. Written as one
    /// range from the current position, which compiles to an add and a compare.
    #[inline]
    fn peek(&self, n: usize) -> Option<&'a [u8]> {
        self.data.get(self.pos..self.pos.checked_add(n)?)
    }

    /// A reader over the whole top-level input.
    #[inline]
    pub const fn new(data: &'a [u8]) -> Self {
        Self::with_base(data, 0)
    }

    /// A reader over `data`, whose first byte is at absolute offset `base`.
    #[inline]
    pub const fn with_base(data: &'a [u8], base: usize) -> Self {
        Self { data, pos: 0, base }
    }

    /// Absolute offset of the next byte (no overflow: both parts lie within the top-level
    /// input).
    #[inline]
    pub const fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Position within this reader's window (for [`Reader::since`]).
    #[inline]
    pub const fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left in the window.
    #[inline]
    pub const fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// True when the window is used up.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The unconsumed bytes, without consuming them.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// The bytes consumed since window position `start` (a unit's `$sourcedata`).
    #[inline]
    pub fn since(&self, start: usize) -> &'a [u8] {
        self.data.get(start..self.pos).unwrap_or(&[])
    }

    /// An error at the current offset.
    #[inline]
    pub fn error(&self, path: &'static str, kind: ErrorKind) -> ParseError {
        ParseError::new(path, self.offset(), kind)
    }

    /// The error for "needed `n` bytes here", noting this reader's window so that a caller can
    /// tell the input's end from a length bound's ([`ParseError::input_ended`]).
    #[cold]
    fn incomplete(&self, path: &'static str, n: usize) -> ParseError {
        self.error(
            path,
            ErrorKind::Incomplete {
                needed: n.saturating_sub(self.remaining()),
            },
        )
        .in_window(self.base, self.base.saturating_add(self.data.len()))
    }

    /// The error for "`left` bytes remain inside the bound".
    #[cold]
    fn trailing(&self, path: &'static str, left: usize) -> ParseError {
        self.error(path, ErrorKind::TrailingBytes { left })
    }

    be_reader!(
        /// Reads a `uint8`.
        u8, u8, 1, |[b]: [u8; 1]| b
    );
    be_reader!(
        /// Reads a big-endian `uint16`.
        u16, u16, 2, u16::from_be_bytes
    );
    be_reader!(
        /// Reads a big-endian `uint24` into a `u32`.
        u24, u32, 3, |[a, b, c]: [u8; 3]| u32::from_be_bytes([0, a, b, c])
    );
    be_reader!(
        /// Reads a big-endian `uint32`.
        u32, u32, 4, u32::from_be_bytes
    );
    be_reader!(
        /// Reads a big-endian `uint64`.
        u64, u64, 8, u64::from_be_bytes
    );

    /// Reads a big-endian `uint48` into a `u64` (nom has no 48-bit parser).
    #[inline]
    pub fn u48(&mut self, path: &'static str) -> Result<u64, ParseError> {
        let bytes = self.take(6, path)?;
        Ok(be_uint(bytes))
    }

    /// Reads a QUIC variable-length integer (RFC 9000 §16): the two high bits of the first byte
    /// give the encoded length (00 -> 1, 01 -> 2, 10 -> 4, 11 -> 8 bytes), the remaining bits,
    /// big-endian, the value (at most 2^62 - 1). Input that ends inside the encoding is an
    /// `Incomplete` error for the whole encoding, at its first byte.
    #[inline]
    pub fn varint(&mut self, path: &'static str) -> Result<u64, ParseError> {
        let Some(&first) = self.data.get(self.pos) else {
            return Err(self.incomplete(path, 1));
        };
        let bytes = self.take(varint_len(first), path)?;
        Ok(varint_value(bytes))
    }

    /// Skips a QUIC variable-length integer; fails exactly where [`Reader::varint`] would.
    #[inline]
    pub fn skip_varint(&mut self, path: &'static str) -> Result<(), ParseError> {
        self.varint(path).map(drop)
    }

    /// Reads a QUIC variable-length integer from validated bytes (0 past the end).
    #[inline]
    pub fn varint_validated(&mut self) -> u64 {
        let Some(&first) = self.data.get(self.pos) else {
            return 0;
        };
        varint_value(self.take_validated(varint_len(first)))
    }

    /// Consumes exactly `n` bytes and returns them.
    #[inline]
    pub fn take(&mut self, n: usize, path: &'static str) -> Result<&'a [u8], ParseError> {
        match self.peek(n) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(self.incomplete(path, n)),
        }
    }

    /// Consumes exactly `n` bytes without looking at them (validation that builds nothing); fails
    /// exactly where [`Reader::take`] would.
    #[inline]
    pub fn skip(&mut self, n: usize, path: &'static str) -> Result<(), ParseError> {
        self.take(n, path).map(drop)
    }

    /// Consumes everything left in the window.
    #[inline]
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.pos = self.data.len();
        rest
    }

    /// Consumes `n` bytes and returns a reader bounded to them (a `&length` bound).
    #[inline]
    pub fn sub(&mut self, n: usize, path: &'static str) -> Result<Reader<'a>, ParseError> {
        let base = self.offset();
        let bytes = self.take(n, path)?;
        Ok(Reader::with_base(bytes, base))
    }

    /// Consumes the rest of the window and returns a reader bounded to it (`&restofdata`).
    #[inline]
    pub fn sub_rest(&mut self) -> Reader<'a> {
        let base = self.offset();
        Reader::with_base(self.take_rest(), base)
    }

    /// Fails unless the window is used up exactly (the end of a `&length` bound).
    #[inline]
    pub fn expect_end(&self, path: &'static str) -> Result<(), ParseError> {
        match self.remaining() {
            0 => Ok(()),
            left => Err(self.trailing(path, left)),
        }
    }

    be_reader_validated!(
        /// Reads a `uint8` from validated bytes (see [`Reader::take_validated`]).
        u8_validated, u8, 1, |[b]: [u8; 1]| b
    );
    be_reader_validated!(
        /// Reads a big-endian `uint16` from validated bytes.
        u16_validated, u16, 2, u16::from_be_bytes
    );
    be_reader_validated!(
        /// Reads a big-endian `uint24` from validated bytes.
        u24_validated, u32, 3, |[a, b, c]: [u8; 3]| u32::from_be_bytes([0, a, b, c])
    );
    be_reader_validated!(
        /// Reads a big-endian `uint32` from validated bytes.
        u32_validated, u32, 4, u32::from_be_bytes
    );
    be_reader_validated!(
        /// Reads a big-endian `uint64` from validated bytes.
        u64_validated, u64, 8, u64::from_be_bytes
    );

    /// Reads a big-endian `uint48` from validated bytes.
    #[inline]
    pub fn u48_validated(&mut self) -> u64 {
        be_uint(self.take_validated(6))
    }

    /// Consumes `n` bytes of validated input and returns them. Building a value from bytes that
    /// validation accepted never runs short, so this has no error: should the window end early
    /// anyway, it returns what is left (and the integer readers above return 0). That keeps the
    /// build pass free of error paths without panicking on misuse.
    #[inline]
    pub fn take_validated(&mut self, n: usize) -> &'a [u8] {
        match self.peek(n) {
            Some(bytes) => {
                self.pos += n;
                bytes
            }
            None => self.take_rest(),
        }
    }

    /// A reader bounded to the next `n` bytes of validated input (see
    /// [`Reader::take_validated`]).
    #[inline]
    pub fn sub_validated(&mut self, n: usize) -> Reader<'a> {
        let base = self.offset();
        Reader::with_base(self.take_validated(n), base)
    }
}

/// The encoded length of a QUIC variable-length integer from its first byte (RFC 9000 §16).
#[inline]
pub const fn varint_len(first: u8) -> usize {
    1 << (first >> 6)
}

/// The value of a whole QUIC variable-length integer encoding: its bytes without the two length
/// bits.
#[inline]
fn varint_value(bytes: &[u8]) -> u64 {
    bytes.iter().enumerate().fold(0u64, |acc, (i, b)| {
        (acc << 8) | u64::from(if i == 0 { b & 0x3f } else { *b })
    })
}

/// Reads a big-endian unsigned integer of up to 8 bytes (the `be_uint` builtin); longer inputs
/// use their last 8 bytes, which is what a `count` can hold.
#[inline]
pub fn be_uint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_varints_of_every_length() {
        // RFC 9000 Appendix A.1's examples, plus the extremes of each length.
        let cases: &[(&[u8], u64)] = &[
            (&[0x25], 37),
            (&[0x00], 0),
            (&[0x3f], 63),
            (&[0x40, 0x25], 37),
            (&[0x7b, 0xbd], 15_293),
            (&[0x7f, 0xff], 16_383),
            (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            (&[0xbf, 0xff, 0xff, 0xff], (1 << 30) - 1),
            (
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
                151_288_809_941_952_652,
            ),
            (&[0xff; 8], (1 << 62) - 1),
        ];
        for (bytes, value) in cases {
            let mut input = bytes.to_vec();
            input.push(0x99);
            let mut r = Reader::new(&input);
            assert_eq!(r.varint("v"), Ok(*value), "{bytes:02x?}");
            assert_eq!(r.offset(), bytes.len());
            let mut v = Reader::new(&input);
            assert_eq!(v.varint_validated(), *value);
            assert_eq!(v.offset(), bytes.len());
            let mut s = Reader::new(&input);
            assert_eq!(s.skip_varint("v"), Ok(()));
            assert_eq!(s.offset(), bytes.len());
        }
    }

    #[test]
    fn truncated_varints_are_incomplete_at_their_first_byte() {
        let whole = [0xc2u8, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c];
        for cut in 0..whole.len() {
            let input = [&[7u8][..], &whole[..cut]].concat();
            let mut r = Reader::new(&input);
            assert_eq!(r.u8("x"), Ok(7));
            let e = r.varint("v");
            let needed = if cut == 0 { 1 } else { 8 - cut };
            assert_eq!(
                e,
                Err(ParseError::new("v", 1, ErrorKind::Incomplete { needed })
                    .in_window(0, input.len()))
            );
            assert_eq!(r.skip_varint("v"), e.map(drop));
            // The validated reader never fails or panics; it consumes what is there.
            let mut v = Reader::new(&input);
            v.u8_validated();
            let _ = v.varint_validated();
            assert!(v.is_empty());
        }
    }

    #[test]
    fn reads_integers_and_tracks_offsets() {
        let input = [1u8, 0, 2, 0, 0, 3, 9, 9];
        let mut r = Reader::new(&input);
        assert_eq!(r.u8("a"), Ok(1));
        assert_eq!(r.u16("b"), Ok(2));
        assert_eq!(r.u24("c"), Ok(3));
        let mut sub = r.sub(1, "d").unwrap_or(Reader::new(&[]));
        assert_eq!(sub.offset(), 6);
        assert_eq!(sub.u8("e"), Ok(9));
        assert_eq!(sub.expect_end("e"), Ok(()));
        assert_eq!(
            r.u16("f"),
            Err(ParseError::new("f", 7, ErrorKind::Incomplete { needed: 1 }))
        );
    }

    #[test]
    fn u48_and_be_uint() {
        let input = [0u8, 0, 0, 0, 1, 2];
        let mut r = Reader::new(&input);
        assert_eq!(r.u48("x"), Ok(0x0102));
        assert_eq!(be_uint(&[1, 0]), 256);
    }

    #[test]
    fn validated_reads_never_fail() {
        let input = [0u8, 1, 2, 3, 4, 5, 6];
        let mut r = Reader::new(&input);
        assert_eq!(r.u16_validated(), 1);
        assert_eq!(r.u24_validated(), 0x020304);
        let mut sub = r.sub_validated(1);
        assert_eq!((sub.offset(), sub.u8_validated()), (5, 5));
        // Past the end: what is left, then zeros.
        assert_eq!(r.take_validated(4), &[6]);
        assert_eq!(r.u32_validated(), 0);
        assert_eq!(r.u48_validated(), 0);
        assert!(r.is_empty());
    }

    #[test]
    fn incomplete_errors_tell_the_inputs_end_from_a_bounds() {
        let input = [2u8, 0xaa, 0xbb];
        let mut r = Reader::new(&input);
        let mut bound = r.sub(1, "bound").unwrap_or(Reader::new(&[]));
        // Past the bound: malformed, however long the input.
        let e =
            bound
                .u16("in_bound")
                .err()
                .unwrap_or(ParseError::new("", 0, ErrorKind::Arithmetic));
        assert_eq!(e.kind, ErrorKind::Incomplete { needed: 1 });
        assert!(!e.input_ended(input.len()));
        // Past the input: more input would help.
        let e = r
            .u24("top")
            .err()
            .unwrap_or(ParseError::new("", 0, ErrorKind::Arithmetic));
        assert_eq!(
            e,
            ParseError::new("top", 1, ErrorKind::Incomplete { needed: 1 })
        );
        assert!(e.input_ended(input.len()));
        assert!(!e.input_ended(input.len() + 1));
        // Other errors never say so.
        assert!(!ParseError::new("x", 0, ErrorKind::Arithmetic).input_ended(0));
    }

    #[test]
    fn skip_fails_like_take() {
        let input = [1u8, 2, 3];
        let mut r = Reader::new(&input);
        assert_eq!(r.skip(2, "a"), Ok(()));
        assert_eq!(r.offset(), 2);
        let mut t = r;
        assert_eq!(r.skip(3, "b").err(), t.take(3, "b").err());
        assert_eq!(r.offset(), 2);
    }
}
