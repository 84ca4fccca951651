//! The byte cursor generated parsers read from.
//!
//! In: a byte slice (plus the absolute offset of its first byte, for bounded sub-inputs). Out:
//! big-endian integers (via nom's number parsers), borrowed byte slices, bounded sub-readers and
//! the absolute offset of every failure. All reads are checked; none allocates or panics.

use crate::error::{ErrorKind, ParseError};
use nom::number::complete as num;

/// The nom error type used inside the primitives; it is immediately replaced by [`ParseError`].
type NomErr<'a> = nom::error::Error<&'a [u8]>;

/// A cursor over a bounded window of the top-level input.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    /// The window: everything this reader may consume.
    data: &'a [u8],
    /// Bytes of `data` already consumed.
    pos: usize,
    /// Absolute offset of `data[0]` in the top-level input, so errors point at the right byte.
    base: usize,
}

/// Generates one fixed-width big-endian reader on top of a nom number parser.
macro_rules! be_reader {
    ($(#[$doc:meta])* $name:ident, $parser:ident, $ty:ty, $width:expr) => {
        $(#[$doc])*
        #[inline]
        pub fn $name(&mut self, path: &'static str) -> Result<$ty, ParseError> {
            match num::$parser::<_, NomErr<'a>>(self.rest()) {
                Ok((_, v)) => {
                    self.pos += $width;
                    Ok(v)
                }
                Err(_) => Err(self.incomplete(path, $width)),
            }
        }
    };
}

impl<'a> Reader<'a> {
    /// A reader over the whole top-level input.
    #[inline]
    pub const fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            base: 0,
        }
    }

    /// A reader over `data`, whose first byte is at absolute offset `base`.
    #[inline]
    pub const fn with_base(data: &'a [u8], base: usize) -> Self {
        Self { data, pos: 0, base }
    }

    /// Absolute offset of the next byte.
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
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// True when the window is used up.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
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

    /// The error for "needed `n` bytes here".
    #[cold]
    fn incomplete(&self, path: &'static str, n: usize) -> ParseError {
        self.error(
            path,
            ErrorKind::Incomplete {
                needed: n.saturating_sub(self.remaining()),
            },
        )
    }

    be_reader!(
        /// Reads a `uint8`.
        u8, be_u8, u8, 1
    );
    be_reader!(
        /// Reads a big-endian `uint16`.
        u16, be_u16, u16, 2
    );
    be_reader!(
        /// Reads a big-endian `uint24` into a `u32`.
        u24, be_u24, u32, 3
    );
    be_reader!(
        /// Reads a big-endian `uint32`.
        u32, be_u32, u32, 4
    );
    be_reader!(
        /// Reads a big-endian `uint64`.
        u64, be_u64, u64, 8
    );

    /// Reads a big-endian `uint48` into a `u64` (nom has no 48-bit parser).
    #[inline]
    pub fn u48(&mut self, path: &'static str) -> Result<u64, ParseError> {
        let bytes = self.take(6, path)?;
        Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// Consumes exactly `n` bytes and returns them.
    #[inline]
    pub fn take(&mut self, n: usize, path: &'static str) -> Result<&'a [u8], ParseError> {
        match num_take(self.rest(), n) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(self.incomplete(path, n)),
        }
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
            left => Err(self.error(path, ErrorKind::TrailingBytes { left })),
        }
    }
}

/// `n` bytes from the front of `input` via nom's `take`, or `None` when too short.
#[inline]
fn num_take(input: &[u8], n: usize) -> Option<&[u8]> {
    nom::bytes::complete::take::<_, _, NomErr<'_>>(n)(input)
        .ok()
        .map(|(_, taken)| taken)
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
}
