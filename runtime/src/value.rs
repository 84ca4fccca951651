//! Zeek value types as event arguments see them, and the visitor that writes them out.
//!
//! Generated `SslEvent::visit` reports each argument as `field(name)` followed by exactly one value
//! call (a scalar, or a `begin_*`/`end_*` bracket around nested values). Output formats (JSON Lines,
//! text) implement [`ValueSink`]; nothing here allocates.
//!
//! Besides the sink, this module holds the Rust types of event arguments: [`ZeekString`] (bytes,
//! possibly zero-padded), [`Time`], [`VecView`] (a lazily projected view over a parsed list, for
//! `index_vec`, `string_vec` and `vector of T`), and [`ZeekValue`], which writes any of them into a
//! sink.

use crate::error::ParseError;
use crate::list::{Element, List};
use crate::reader::Reader;
use core::fmt;

/// Receives the arguments of one event, or the fields of one Zeek record, in declaration order.
pub trait ValueSink {
    /// Names the value that follows (an event parameter or a record field).
    fn field(&mut self, name: &'static str);
    /// A Zeek `count`.
    fn count(&mut self, v: u64);
    /// A Zeek `int`.
    fn int(&mut self, v: i64);
    /// A Zeek `double`.
    fn double(&mut self, v: f64);
    /// A Zeek `bool`.
    fn boolean(&mut self, v: bool);
    /// A Zeek `string`: raw bytes, escaping is the sink's business.
    fn string(&mut self, v: &[u8]);
    /// A Zeek `time`, seconds since the epoch.
    fn time(&mut self, secs: f64);
    /// Opens a vector; elements follow without `field` calls.
    fn begin_vector(&mut self);
    /// Closes the innermost vector.
    fn end_vector(&mut self);
    /// Opens a Zeek record of the named type; its fields follow with `field` calls.
    fn begin_record(&mut self, type_name: &'static str);
    /// Closes the innermost record.
    fn end_record(&mut self);
}

/// The longest zero-padded string [`ZeekString`] writes out; longer padding is cut here so a
/// hostile length cannot make `visit` use unbounded stack. Zeek pads session ids to 32 bytes.
pub const MAX_PADDED_STRING: usize = 256;

/// A Zeek `string` argument: borrowed bytes, optionally followed by zero bytes (`zero_pad`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ZeekString<'a> {
    /// The borrowed part.
    prefix: &'a [u8],
    /// How many zero bytes follow it.
    zeros: usize,
}

impl<'a> ZeekString<'a> {
    /// The bytes as they are.
    #[inline]
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self {
            prefix: bytes,
            zeros: 0,
        }
    }

    /// Zeek's padding rule for fixed-width strings such as session ids: shorter than `n` -> padded
    /// with zero bytes to `n`; longer than `n` -> `n` zero bytes.
    #[inline]
    pub fn zero_pad(bytes: &'a [u8], n: u64) -> Self {
        let n = usize::try_from(n).unwrap_or(MAX_PADDED_STRING);
        if bytes.len() <= n {
            Self {
                prefix: bytes,
                zeros: n - bytes.len(),
            }
        } else {
            Self {
                prefix: &[],
                zeros: n,
            }
        }
    }

    /// The borrowed bytes, without the padding.
    #[inline]
    pub const fn unpadded(&self) -> &'a [u8] {
        self.prefix
    }

    /// Logical length including padding.
    #[inline]
    pub const fn len(&self) -> usize {
        self.prefix.len() + self.zeros
    }

    /// True when the logical value is the empty string.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The logical bytes, padding included.
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        self.prefix
            .iter()
            .copied()
            .chain(core::iter::repeat_n(0, self.zeros))
    }

    /// Calls `f` with the logical bytes as one slice: borrowed when unpadded, otherwise copied
    /// into a stack buffer of at most [`MAX_PADDED_STRING`] bytes.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        if self.zeros == 0 {
            return f(self.prefix);
        }
        let mut buf = [0u8; MAX_PADDED_STRING];
        let n = self.len().min(MAX_PADDED_STRING);
        let copied = self.prefix.len().min(n);
        if let (Some(dst), Some(src)) = (buf.get_mut(..copied), self.prefix.get(..copied)) {
            dst.copy_from_slice(src);
        }
        f(buf.get(..n).unwrap_or(&[]))
    }
}

impl<'a> From<&'a [u8]> for ZeekString<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Self::new(bytes)
    }
}

impl fmt::Debug for ZeekString<'_> {
    /// Prints like a Rust byte string: `b"abc\x00"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("b\"")?;
        for b in self.bytes() {
            write!(f, "{}", core::ascii::escape_default(b))?;
        }
        f.write_str("\"")
    }
}

/// A Zeek `time`: seconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Time(pub f64);

/// One step of a [`VecView`]: read one element and project it (`None` = filtered out).
pub type Step<'a, O> = fn(&mut Reader<'a>) -> Result<Option<O>, ParseError>;

/// A vector argument computed lazily from a parsed list: `index_vec`, `string_vec`, `vector of T`.
///
/// It keeps the list's raw bytes and a function pointer that reads one element and projects it
/// (the body and filter of a spec comprehension), so building and iterating it never allocates.
pub struct VecView<'a, O> {
    /// The list's raw bytes (exactly its elements).
    raw: &'a [u8],
    /// Reads one element and projects it.
    step: Step<'a, O>,
}

impl<O> Clone for VecView<'_, O> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<O> Copy for VecView<'_, O> {}

impl<'a, O> VecView<'a, O> {
    /// A view over `list` that yields `step` of each element.
    #[inline]
    pub fn new<E: Element<'a>>(list: &List<'a, E>, step: Step<'a, O>) -> Self {
        Self {
            raw: list.raw(),
            step,
        }
    }

    /// The projected elements, filter applied.
    #[inline]
    pub fn iter(&self) -> VecViewIter<'a, O> {
        VecViewIter {
            reader: Reader::new(self.raw),
            step: self.step,
        }
    }
}

impl<O: fmt::Debug> fmt::Debug for VecView<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<O: PartialEq> PartialEq for VecView<'_, O> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

/// Iterator over a [`VecView`].
pub struct VecViewIter<'a, O> {
    /// Cursor over the remaining raw bytes.
    reader: Reader<'a>,
    /// Reads and projects one element.
    step: Step<'a, O>,
}

impl<O> Iterator for VecViewIter<'_, O> {
    type Item = O;

    fn next(&mut self) -> Option<O> {
        while !self.reader.is_empty() {
            let before = self.reader.pos();
            // The list was validated at parse time; a failing re-read (or one that consumes
            // nothing) ends the vector instead of panicking or looping.
            let step = (self.step)(&mut self.reader);
            if step.is_err() || self.reader.pos() == before {
                self.reader.take_rest();
            }
            if let Ok(Some(v)) = step {
                return Some(v);
            }
        }
        None
    }
}

/// A value that can be written into a [`ValueSink`] (everything an event argument can be).
pub trait ZeekValue {
    /// Writes the value (one scalar call, or a bracketed vector/record).
    fn visit_value(&self, sink: &mut dyn ValueSink);
}

impl ZeekValue for u64 {
    fn visit_value(&self, sink: &mut dyn ValueSink) {
        sink.count(*self);
    }
}
impl ZeekValue for i64 {
    fn visit_value(&self, sink: &mut dyn ValueSink) {
        sink.int(*self);
    }
}
impl ZeekValue for f64 {
    fn visit_value(&self, sink: &mut dyn ValueSink) {
        sink.double(*self);
    }
}
impl ZeekValue for bool {
    fn visit_value(&self, sink: &mut dyn ValueSink) {
        sink.boolean(*self);
    }
}
impl ZeekValue for Time {
    fn visit_value(&self, sink: &mut dyn ValueSink) {
        sink.time(self.0);
    }
}
impl ZeekValue for ZeekString<'_> {
    fn visit_value(&self, sink: &mut dyn ValueSink) {
        self.with_bytes(|b| sink.string(b));
    }
}
impl<O: ZeekValue> ZeekValue for VecView<'_, O> {
    fn visit_value(&self, sink: &mut dyn ValueSink) {
        sink.begin_vector();
        for v in self.iter() {
            v.visit_value(sink);
        }
        sink.end_vector();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_pad_follows_zeek() {
        let short = ZeekString::zero_pad(b"ab", 4);
        assert_eq!(short.bytes().collect::<Vec<_>>(), b"ab\0\0".to_vec());
        let long = ZeekString::zero_pad(b"abcdef", 4);
        assert_eq!(long.bytes().collect::<Vec<_>>(), vec![0; 4]);
        assert_eq!(long.with_bytes(|b| b.len()), 4);
    }

    #[test]
    fn vec_view_projects_and_filters() {
        let data = [1u8, 2, 3, 4];
        let mut r = Reader::new(&data);
        let list = List::<u8>::read_all(&mut r, (), "T.l").unwrap_or(List::empty(()));
        let view: VecView<'_, u64> = VecView::new(&list, |r| {
            let v = <u8 as Element>::read(r, ())?;
            Ok((v % 2 == 0).then_some(u64::from(v)))
        });
        assert_eq!(view.iter().collect::<Vec<_>>(), vec![2, 4]);
    }
}
