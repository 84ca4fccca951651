//! Parse errors of generated parsers.
//!
//! In: the spec path of the field being parsed (`"ClientHello.cipher_suites"`), the byte offset
//! relative to the input given to the top-level `parse`, and what went wrong. Out: a small `Copy`
//! value with a human-readable `Display`; building one never allocates. Callers composing
//! parsers (nom's `context()`, see [`crate::nom`]) may wrap labels around it, kept in a
//! fixed-capacity [`Context`] so that stays allocation-free too.

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
    /// A parser combinator outside the generated code failed (a nom combinator of the caller's
    /// pipeline, see [`crate::nom`]). Such a failure knows only the unconsumed input, not where
    /// it began, so the error's `offset` is 0 and this says how many bytes were left: in a buffer
    /// the combinator ran on a suffix of, it failed at `buf.len() - remaining`.
    Combinator {
        /// The combinator's name (nom's `ErrorKind::description`, e.g. `"Tag"`).
        name: &'static str,
        /// Bytes of the combinator's input left unconsumed where it failed.
        remaining: usize,
    },
}

/// How many context labels a [`ParseError`] keeps; outer ones beyond this are counted only. Two,
/// so that nom's `Err<ParseError>` stays under clippy's `result_large_err` limit.
pub const CONTEXT_DEPTH: usize = 2;

/// The labels callers wrapped around a failure (nom's `context("handshake", ...)`), innermost
/// first. Fixed capacity so that a `ParseError` stays `Copy` and never allocates: the innermost
/// [`CONTEXT_DEPTH`] labels, which name the failure most precisely, are kept and the outer ones
/// beyond them counted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// `labels[..len]`, innermost first.
    labels: [&'static str; CONTEXT_DEPTH],
    /// How many of `labels` are set.
    len: u8,
    /// Outer labels that did not fit (saturating).
    elided: u8,
}

impl Context {
    /// No labels.
    pub const EMPTY: Self = Self {
        labels: [""; CONTEXT_DEPTH],
        len: 0,
        elided: 0,
    };

    /// Adds a label outside the ones already there.
    #[must_use]
    pub fn push(mut self, label: &'static str) -> Self {
        match self.labels.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = label;
                self.len += 1;
            }
            None => self.elided = self.elided.saturating_add(1),
        }
        self
    }

    /// The kept labels, outermost first (the order of a path).
    pub fn labels(&self) -> impl DoubleEndedIterator<Item = &'static str> + '_ {
        self.labels
            .get(..usize::from(self.len))
            .unwrap_or(&[])
            .iter()
            .rev()
            .copied()
    }

    /// How many outer labels were dropped for lack of room.
    pub const fn elided(&self) -> usize {
        self.elided as usize
    }

    /// True when no label was added.
    pub const fn is_empty(&self) -> bool {
        self.len == 0 && self.elided == 0
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        if self.elided > 0 {
            list.entry(&format_args!("<{} more>", self.elided));
        }
        list.entries(self.labels()).finish()
    }
}

impl fmt::Display for Context {
    /// `outer/inner/` (with a leading `.../` when labels were dropped), or nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.elided > 0 {
            f.write_str(".../")?;
        }
        for label in self.labels() {
            write!(f, "{label}/")?;
        }
        Ok(())
    }
}

/// A parse failure: which field, where, and why.
///
/// Equality and `Debug` cover the path, offset, kind and context: what failed. The window of
/// the reader that ran out (see [`ParseError::input_ended`]) is where the parser was, not part of
/// the error's identity, so an error built with [`ParseError::new`] equals the reader's.
#[derive(Clone, Copy)]
pub struct ParseError {
    /// `"Record.field"`, as written in the spec.
    pub path: &'static str,
    /// Byte offset relative to the input of the top-level `parse` call.
    pub offset: usize,
    /// What went wrong.
    pub kind: ErrorKind,
    /// Labels the caller wrapped around the failure (empty for errors of generated code).
    pub context: Context,
    /// For [`ErrorKind::Incomplete`] from a reader whose window started at offset 0: the window's
    /// end (the input's length if it was the input's own window); `usize::MAX` otherwise (a
    /// bound inside the input, or another error). One word: this type is on every parser's
    /// return path.
    top_window_end: usize,
}

impl ParseError {
    /// Builds an error; a plain constructor so generated code stays short.
    pub const fn new(path: &'static str, offset: usize, kind: ErrorKind) -> Self {
        Self {
            path,
            offset,
            kind,
            context: Context::EMPTY,
            top_window_end: usize::MAX,
        }
    }

    /// The same error, noting that the failing reader's window was `start..end` (absolute
    /// offsets); what [`ParseError::input_ended`] decides on.
    #[must_use]
    pub(crate) const fn in_window(mut self, start: usize, end: usize) -> Self {
        self.top_window_end = if start == 0 { end } else { usize::MAX };
        self
    }

    /// True when this is an [`ErrorKind::Incomplete`] of a read in the input's own window, for an
    /// input of `input_len` bytes: the input ended, so more input would let the read proceed
    /// (streaming: "incomplete"). False when the read ran out of a length bound inside the input
    /// (malformed whatever follows), and for every other error.
    ///
    /// The reader's window tells the two apart: the whole input starts at 0 and ends at
    /// `input_len`, a bound starts after the length field that made it. (A bound given as a spec
    /// parameter at offset 0 that spans the whole input looks like the input itself.)
    pub fn input_ended(&self, input_len: usize) -> bool {
        matches!(self.kind, ErrorKind::Incomplete { .. }) && self.top_window_end == input_len
    }

    /// The same error with `label` added outside the labels it has (see [`Context`]).
    #[must_use]
    pub fn with_context(mut self, label: &'static str) -> Self {
        self.context = self.context.push(label);
        self
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
            ErrorKind::Combinator { name, remaining } => {
                write!(f, "combinator {name} failed with {remaining} byte(s) left")
            }
        }
    }
}

impl PartialEq for ParseError {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
            && self.offset == other.offset
            && self.kind == other.kind
            && self.context == other.context
    }
}

impl Eq for ParseError {}

impl fmt::Debug for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseError")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .field("kind", &self.kind)
            .field("context", &self.context)
            .finish()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            // Its offset is unknown (see the variant); the kind says where instead.
            ErrorKind::Combinator { .. } => {
                write!(f, "{}{}: {}", self.context, self.path, self.kind)
            }
            _ => write!(
                f,
                "{}{} at offset {}: {}",
                self.context, self.path, self.offset, self.kind
            ),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_labels_read_outermost_first_and_overflow_is_counted() {
        let e = ParseError::new("A.b", 3, ErrorKind::Arithmetic);
        assert!(e.context.is_empty());
        assert_eq!(
            e.to_string(),
            "A.b at offset 3: length arithmetic out of range"
        );
        let e = e.with_context("inner").with_context("middle");
        assert_eq!(e.context.labels().collect::<Vec<_>>(), ["middle", "inner"]);
        assert_eq!(
            e.to_string(),
            "middle/inner/A.b at offset 3: length arithmetic out of range"
        );
        // Past capacity the innermost labels stay; the outer ones are counted.
        let e = e.with_context("outer").with_context("top");
        assert_eq!(e.context.labels().collect::<Vec<_>>(), ["middle", "inner"]);
        assert_eq!(e.context.elided(), 2);
        assert_eq!(
            format!("{:?}", e.context),
            r#"[<2 more>, "middle", "inner"]"#
        );
        assert!(e
            .to_string()
            .starts_with(".../middle/inner/A.b at offset 3"));
        // Small enough that nom's `Err` around it stays under clippy's `result_large_err` limit
        // (128 bytes), which users' `IResult` functions would otherwise trip.
        assert!(core::mem::size_of::<ParseError>() <= 112);
        // Labels are part of the error's identity.
        assert_ne!(e, ParseError::new("A.b", 3, ErrorKind::Arithmetic));
    }

    #[test]
    fn combinator_errors_say_what_was_left_instead_of_an_offset() {
        let e = ParseError::new(
            "nom",
            0,
            ErrorKind::Combinator {
                name: "Tag",
                remaining: 7,
            },
        )
        .with_context("magic");
        assert_eq!(
            e.to_string(),
            "magic/nom: combinator Tag failed with 7 byte(s) left"
        );
    }
}
