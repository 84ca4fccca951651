//! Parse errors of generated parsers.
//!
//! In: the spec path of the field being parsed (`"ClientHello.cipher_suites"`), the byte offset
//! relative to the input given to the top-level `parse`, and what went wrong. Out: a small `Copy`
//! value with a human-readable `Display`; building one never allocates.

use core::fmt;

/// What went wrong while parsing one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input (or the field's bound) ended; `needed` more bytes were required.
    Incomplete {
        /// How many bytes were missing.
        needed: usize,
    },
    /// A `&length` bound was not consumed exactly: `left` bytes remained.
    TrailingBytes {
        /// Bytes left over inside the bound.
        left: usize,
    },
    /// A byte-bounded list of fixed-size elements whose length is not a multiple of the element.
    NotDivisible {
        /// The byte length of the list.
        len: usize,
        /// The size of one element.
        elem: usize,
    },
    /// A list element that consumed no bytes (it would repeat forever).
    EmptyElement,
    /// A `&check` constraint was false; the text is the constraint as written in the spec.
    Check(&'static str),
    /// Length arithmetic underflowed, overflowed or divided by zero.
    Arithmetic,
}

/// A parse failure: which field, where, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// `"Record.field"`, as written in the spec.
    pub path: &'static str,
    /// Byte offset relative to the input of the top-level `parse` call.
    pub offset: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    /// Builds an error; a plain constructor so generated code stays short.
    pub const fn new(path: &'static str, offset: usize, kind: ErrorKind) -> Self {
        Self { path, offset, kind }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Incomplete { needed } => write!(f, "input ends {needed} byte(s) too early"),
            ErrorKind::TrailingBytes { left } => {
                write!(f, "{left} byte(s) left over inside the field's length")
            }
            ErrorKind::NotDivisible { len, elem } => {
                write!(
                    f,
                    "length {len} is not a multiple of the element size {elem}"
                )
            }
            ErrorKind::EmptyElement => write!(f, "a list element consumed no bytes"),
            ErrorKind::Check(text) => write!(f, "constraint failed: {text}"),
            ErrorKind::Arithmetic => write!(f, "length arithmetic out of range"),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}: {}", self.path, self.offset, self.kind)
    }
}

impl std::error::Error for ParseError {}

/// Turns a checked arithmetic result into a value or an [`ErrorKind::Arithmetic`] error.
///
/// Generated code evaluates every length expression with `checked_*` operations and passes the
/// result through here, so a hostile length can never panic or wrap.
#[inline]
pub fn checked(v: Option<u64>, path: &'static str, offset: usize) -> Result<u64, ParseError> {
    v.ok_or(ParseError::new(path, offset, ErrorKind::Arithmetic))
}

/// Converts a spec integer to a byte count while building from validated bytes, where the
/// conversion succeeded during validation; `usize::MAX` (then cut to what is left) otherwise.
#[inline]
pub fn to_usize_validated(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Converts a spec integer (always `u64`) to a byte count, failing instead of truncating.
#[inline]
pub fn to_usize(v: u64, path: &'static str, offset: usize) -> Result<usize, ParseError> {
    usize::try_from(v).map_err(|_| ParseError::new(path, offset, ErrorKind::Arithmetic))
}
