//! What generated encoders call: big-endian writers that check the value fits its width, QUIC
//! variable-length integers (minimal by default, or at a width kept from the parsed bytes), and
//! the [`EncodeError`] that names the field.
//!
//! In: values of owned types and the output buffer. Out: bytes appended to the buffer, or an
//! error naming the spec path (`"ClientHello.random"`) and what did not fit. Nothing here runs
//! on the parse path: a user who never encodes pays nothing for this module.

use core::fmt;

/// How an encoder treats the values an owned type lets a user set by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeMode {
    /// Lengths and counts are computed from the content; a hand-set one that disagrees, a case
    /// variant its selector does not choose, or an `&if` field present against its condition
    /// is an error.
    Strict,
    /// The escape hatch for negative tests: hand-set lengths and counts are written as they
    /// are (computed only where none is set) and no consistency is checked, so the bytes may
    /// not parse. Values must still fit their widths.
    Raw,
    /// Used internally to measure a member whose length is passed to it as a parameter:
    /// lengths computed, consistency not checked (the parameter is not known yet).
    Measure,
}

impl EncodeMode {
    /// True when consistency (case selectors, conditions, `&check`s) is checked.
    #[inline]
    pub fn checks(self) -> bool {
        self == EncodeMode::Strict
    }
}

/// Why an owned value could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// A value does not fit its field (`uint24` above 2^24 - 1, a varint above 2^62 - 1, a
    /// varint width too small for the value).
    Overflow {
        /// Spec path of the field.
        path: &'static str,
        /// The value.
        value: u64,
        /// Width in bytes it had to fit.
        width: u8,
    },
    /// A length or count set by hand disagrees with the content (or a fixed `&length`).
    LengthMismatch {
        /// Spec path of the length field (or the bounded field).
        path: &'static str,
        /// The value set (or required).
        declared: u64,
        /// The value the content gives.
        actual: u64,
    },
    /// A case value holds a variant that its selector does not choose.
    CaseMismatch {
        /// Spec path of the case field.
        path: &'static str,
    },
    /// An `&if` field is present while its condition is false, or absent while it is true.
    Condition {
        /// Spec path of the field.
        path: &'static str,
        /// The condition's value.
        expected_present: bool,
    },
    /// A member that runs to the end of its input (`&restofdata`, an unknown case body, an
    /// `&optional` field) is followed by more bytes, which the parser would read as part of it
    /// (a QUIC STREAM frame without a length must be a packet's last frame).
    OpenEnded {
        /// Spec path of the member.
        path: &'static str,
    },
    /// A `let` the layout evaluates fails on the value (an out-of-range slice or arithmetic),
    /// as the parser would fail on the encoding.
    Arithmetic {
        /// Spec path of the `let`.
        path: &'static str,
    },
    /// A `&check` constraint does not hold for the value.
    Check {
        /// Spec path of the field.
        path: &'static str,
        /// The constraint as written in the spec.
        constraint: &'static str,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Overflow { path, value, width } => {
                write!(f, "{path}: value {value} does not fit in {width} bytes")
            }
            EncodeError::LengthMismatch {
                path,
                declared,
                actual,
            } => write!(
                f,
                "{path}: length set to {declared} but the content gives {actual}"
            ),
            EncodeError::CaseMismatch { path } => {
                write!(f, "{path}: the variant is not the one its selector chooses")
            }
            EncodeError::Condition {
                path,
                expected_present,
            } => {
                if *expected_present {
                    write!(f, "{path}: absent but its condition is true")
                } else {
                    write!(f, "{path}: present but its condition is false")
                }
            }
            EncodeError::OpenEnded { path } => {
                write!(f, "{path}: runs to the end of its input but more follows")
            }
            EncodeError::Arithmetic { path } => {
                write!(f, "{path}: out-of-range arithmetic or slice on the value")
            }
            EncodeError::Check { path, constraint } => {
                write!(f, "{path}: constraint `{constraint}` does not hold")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// Appends `value` big-endian in `width` bytes (1 to 8), or fails when it does not fit.
#[inline]
pub fn put_uint(
    out: &mut Vec<u8>,
    value: u64,
    width: u8,
    path: &'static str,
) -> Result<(), EncodeError> {
    let bits = u32::from(width) * 8;
    if width == 0 || width > 8 || (bits < 64 && value >> bits != 0) {
        return Err(EncodeError::Overflow { path, value, width });
    }
    let bytes = value.to_be_bytes();
    out.extend_from_slice(&bytes[8 - usize::from(width)..]);
    Ok(())
}

/// The largest value a QUIC variable-length integer holds (RFC 9000 §16).
pub const VARINT_MAX: u64 = (1 << 62) - 1;

/// The minimal encoded length of a varint value (1, 2, 4 or 8 bytes).
#[inline]
pub fn varint_min_len(value: u64) -> u8 {
    match value {
        0..=0x3f => 1,
        0x40..=0x3fff => 2,
        0x4000..=0x3fff_ffff => 4,
        _ => 8,
    }
}

/// Appends a QUIC variable-length integer. `width` 0 means the minimal encoding (the rule for
/// values built by hand: RFC 9000 §16 allows any width, and a parser must accept them all, so
/// an encoder picks the shortest); 1, 2, 4 or 8 forces that width (to re-emit a parsed value
/// byte for byte).
#[inline]
pub fn put_varint(
    out: &mut Vec<u8>,
    value: u64,
    width: u8,
    path: &'static str,
) -> Result<(), EncodeError> {
    if value > VARINT_MAX {
        return Err(EncodeError::Overflow {
            path,
            value,
            width: 8,
        });
    }
    let min = varint_min_len(value);
    let w = if width == 0 { min } else { width };
    let code: u8 = match w {
        1 => 0,
        2 => 1,
        4 => 2,
        8 => 3,
        _ => {
            return Err(EncodeError::Overflow {
                path,
                value,
                width: w,
            })
        }
    };
    if w < min {
        return Err(EncodeError::Overflow {
            path,
            value,
            width: w,
        });
    }
    let start = out.len();
    put_uint(out, value, w, path)?;
    if let Some(first) = out.get_mut(start) {
        *first |= code << 6;
    }
    Ok(())
}

/// The encoded widths of the varints of one record that were not minimal, so that a parsed
/// value re-encodes byte for byte (RFC 9000 §16 lets a sender pad a varint; Zeek accepts it).
/// Slot `i` (one per varint member of the record, in order) holds 0 for the minimal width, else
/// the width's code plus one, in 3 bits. A value built by hand leaves it at the default: every
/// varint minimal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VarIntWidths(pub u64);

impl VarIntWidths {
    /// Records the width `len` (in bytes) read for `value` in slot `slot`; a minimal width
    /// records nothing.
    #[inline]
    pub fn note(&mut self, slot: u32, value: u64, len: usize) {
        let code: u64 = match len {
            1 => 1,
            2 => 2,
            4 => 3,
            8 => 4,
            _ => 0,
        };
        if code == 0 || usize::from(varint_min_len(value)) == len || slot >= 21 {
            return;
        }
        self.0 |= code << (3 * slot);
    }

    /// The width to write slot `slot` with: 0 for minimal, else 1, 2, 4 or 8.
    #[inline]
    pub fn width(self, slot: u32) -> u8 {
        if slot >= 21 {
            return 0;
        }
        match (self.0 >> (3 * slot)) & 7 {
            1 => 1,
            2 => 2,
            3 => 4,
            4 => 8,
            _ => 0,
        }
    }
}

/// A length or count for a field: the content's `actual` value, unless one was set by hand. A
/// hand-set value must agree in [`EncodeMode::Strict`] (and is then the same), is written as
/// set in [`EncodeMode::Raw`], and is ignored while measuring.
#[inline]
pub fn derived_len(
    set: Option<u64>,
    actual: u64,
    mode: EncodeMode,
    path: &'static str,
) -> Result<u64, EncodeError> {
    match (set, mode) {
        (Some(v), EncodeMode::Raw) => Ok(v),
        (Some(v), EncodeMode::Strict) if v != actual => Err(EncodeError::LengthMismatch {
            path,
            declared: v,
            actual,
        }),
        _ => Ok(actual),
    }
}

/// Checks that content of `actual` bytes (or elements) meets a bound the spec gives by an
/// expression (a literal, arithmetic, a parameter): only in [`EncodeMode::Strict`].
#[inline]
pub fn check_len(
    required: u64,
    actual: usize,
    mode: EncodeMode,
    path: &'static str,
) -> Result<(), EncodeError> {
    let actual = u64::try_from(actual).unwrap_or(u64::MAX);
    if mode.checks() && required != actual {
        return Err(EncodeError::LengthMismatch {
            path,
            declared: required,
            actual,
        });
    }
    Ok(())
}

/// A `usize` length as a `u64` (saturating; lengths of Rust buffers always fit).
#[inline]
pub fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Generators for [`arbitrary`] values that meet a field's width, used by the owned types'
/// `Arbitrary` derives (feature `arbitrary`).
#[cfg(feature = "arbitrary")]
pub mod arb {
    use arbitrary::{Result, Unstructured};

    /// A `uint24`.
    pub fn u24(u: &mut Unstructured<'_>) -> Result<u32> {
        Ok(u.arbitrary::<u32>()? & 0x00ff_ffff)
    }

    /// A `uint48`.
    pub fn u48(u: &mut Unstructured<'_>) -> Result<u64> {
        Ok(u.arbitrary::<u64>()? & 0xffff_ffff_ffff)
    }

    /// A varint value: mostly small, as real ones are, up to 2^62 - 1.
    pub fn varint(u: &mut Unstructured<'_>) -> Result<u64> {
        let v = u.arbitrary::<u64>()?;
        Ok(match v & 3 {
            0 => v >> 58,
            1 => (v >> 50) & 0x3fff,
            2 => (v >> 34) & 0x3fff_ffff,
            _ => v & super::VARINT_MAX,
        })
    }

    /// An optional `uint24`.
    pub fn u24_opt(u: &mut Unstructured<'_>) -> Result<Option<u32>> {
        Ok(if u.arbitrary()? { Some(u24(u)?) } else { None })
    }

    /// An optional `uint48`.
    pub fn u48_opt(u: &mut Unstructured<'_>) -> Result<Option<u64>> {
        Ok(if u.arbitrary()? { Some(u48(u)?) } else { None })
    }

    /// An optional varint.
    pub fn varint_opt(u: &mut Unstructured<'_>) -> Result<Option<u64>> {
        Ok(if u.arbitrary()? {
            Some(varint(u)?)
        } else {
            None
        })
    }

    /// A list of `uint24`s.
    pub fn u24_vec(u: &mut Unstructured<'_>) -> Result<Vec<u32>> {
        u.arbitrary_iter::<u32>()?
            .map(|x| x.map(|x| x & 0x00ff_ffff))
            .collect()
    }

    /// A list of `uint48`s.
    pub fn u48_vec(u: &mut Unstructured<'_>) -> Result<Vec<u64>> {
        u.arbitrary_iter::<u64>()?
            .map(|x| x.map(|x| x & 0xffff_ffff_ffff))
            .collect()
    }

    /// A list of varints.
    pub fn varint_vec(u: &mut Unstructured<'_>) -> Result<Vec<u64>> {
        let n = u.arbitrary_len::<u64>()?;
        (0..n).map(|_| varint(u)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reader;

    #[test]
    fn uint_widths_are_checked() {
        let mut out = Vec::new();
        put_uint(&mut out, 0x01_0203, 3, "T.x").expect("fits");
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(
            put_uint(&mut out, 0x0100_0000, 3, "T.x"),
            Err(EncodeError::Overflow {
                path: "T.x",
                value: 0x0100_0000,
                width: 3
            })
        );
        put_uint(&mut out, u64::MAX, 8, "T.y").expect("fits");
        assert_eq!(out.len(), 11);
    }

    #[test]
    fn varints_are_minimal_unless_a_width_is_kept() {
        // RFC 9000 Appendix A.1's examples.
        for (value, bytes) in [
            (
                151_288_809_941_952_652u64,
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c][..],
            ),
            (494_878_333, &[0x9d, 0x7f, 0x3e, 0x7d]),
            (15_293, &[0x7b, 0xbd]),
            (37, &[0x25]),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, value, 0, "T.v").expect("encodes");
            assert_eq!(out, bytes);
            assert_eq!(Reader::new(&out).varint("T.v"), Ok(value));
        }
        // The non-minimal two-byte 37 of the same appendix, kept through VarIntWidths.
        let mut w = VarIntWidths::default();
        w.note(2, 37, 2);
        w.note(0, 37, 1);
        assert_eq!((w.width(0), w.width(2)), (0, 2));
        let mut out = Vec::new();
        put_varint(&mut out, 37, w.width(2), "T.v").expect("encodes");
        assert_eq!(out, [0x40, 0x25]);
        assert!(put_varint(&mut out, 1 << 62, 0, "T.v").is_err());
        assert!(put_varint(&mut out, 0x4000, 2, "T.v").is_err());
        assert!(put_varint(&mut out, 1, 3, "T.v").is_err());
    }

    #[test]
    fn derived_lengths_agree_or_fail_unless_raw() {
        let s = EncodeMode::Strict;
        assert_eq!(derived_len(None, 5, s, "T.n"), Ok(5));
        assert_eq!(derived_len(Some(5), 5, s, "T.n"), Ok(5));
        assert!(derived_len(Some(4), 5, s, "T.n").is_err());
        assert_eq!(derived_len(Some(4), 5, EncodeMode::Raw, "T.n"), Ok(4));
        assert_eq!(derived_len(Some(4), 5, EncodeMode::Measure, "T.n"), Ok(5));
        assert!(check_len(32, 31, s, "T.r").is_err());
        assert!(check_len(32, 31, EncodeMode::Raw, "T.r").is_ok());
    }
}
