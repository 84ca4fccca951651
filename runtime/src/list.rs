//! `List<'a, E>`: a validated, zero-copy view of a sequence of elements.
//!
//! In: a [`Reader`] positioned at the list, a bound (byte length, element count, or the rest of
//! the current bound) and the element type's parameters. Out: a `Copy` view that remembers the raw
//! bytes and the element count. Parsing validates every element once; [`List::iter`] re-reads them
//! on demand, so iterating never allocates.

use crate::error::{ErrorKind, ParseError};
use crate::reader::Reader;
use core::fmt;
use core::marker::PhantomData;

/// A type that can appear as a list element: integers, enums and records.
pub trait Element<'a> {
    /// What iteration yields (the Rust value of one element).
    type Item;
    /// The spec parameters the element type takes (`()` when none, a tuple otherwise).
    type Params: Copy;
    /// The encoded size when every element has the same size; lets validation skip re-parsing.
    const FIXED_SIZE: Option<usize>;
    /// Reads one element.
    fn read(r: &mut Reader<'a>, params: Self::Params) -> Result<Self::Item, ParseError>;
}

/// Implements [`Element`] for a fixed-width integer read by one [`Reader`] method.
macro_rules! int_element {
    ($marker:ty, $item:ty, $method:ident, $width:expr) => {
        impl<'a> Element<'a> for $marker {
            type Item = $item;
            type Params = ();
            const FIXED_SIZE: Option<usize> = Some($width);
            #[inline]
            fn read(r: &mut Reader<'a>, _: ()) -> Result<$item, ParseError> {
                r.$method(LIST_ELEMENT_PATH)
            }
        }
    };
}

/// The path reported if an integer element fails (only possible for a list built by hand: a
/// validated list of fixed-size elements always has whole elements).
const LIST_ELEMENT_PATH: &str = "list element";

/// Marker element type for `uint24` (yields `u32`).
#[derive(Clone, Copy, Debug)]
pub struct U24;
/// Marker element type for `uint48` (yields `u64`).
#[derive(Clone, Copy, Debug)]
pub struct U48;

int_element!(u8, u8, u8, 1);
int_element!(u16, u16, u16, 2);
int_element!(U24, u32, u24, 3);
int_element!(u32, u32, u32, 4);
int_element!(U48, u64, u48, 6);
int_element!(u64, u64, u64, 8);

/// A validated sequence of `E` elements borrowed from the input.
pub struct List<'a, E: Element<'a>> {
    /// The bytes of all elements, exactly.
    raw: &'a [u8],
    /// Number of elements.
    count: usize,
    /// Absolute offset of `raw[0]`, so re-reading reports the same offsets as parsing did.
    offset: usize,
    /// The element type's parameters, kept so iteration can re-read elements.
    params: E::Params,
    /// `fn() -> E` keeps the view `Copy`, `Send` and covariant whatever `E` is.
    _elem: PhantomData<fn() -> E>,
}

impl<'a, E: Element<'a>> Clone for List<'a, E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<'a, E: Element<'a>> Copy for List<'a, E> {}

impl<'a, E: Element<'a>> List<'a, E> {
    /// An empty list (what an absent optional list looks like).
    pub fn empty(params: E::Params) -> Self {
        Self {
            raw: &[],
            count: 0,
            offset: 0,
            params,
            _elem: PhantomData,
        }
    }

    /// Elements until the window of `r` is used up (`T[] &restofdata`, or `T[] &length = n` after
    /// the caller bounded `r` to `n` bytes). Consumes the whole window.
    pub fn read_all(
        r: &mut Reader<'a>,
        params: E::Params,
        path: &'static str,
    ) -> Result<Self, ParseError> {
        let offset = r.offset();
        let start = r.pos();
        let mut count = 0usize;
        if let Some(size) = E::FIXED_SIZE {
            let len = r.remaining();
            if size == 0 || !len.is_multiple_of(size) {
                return Err(r.error(path, ErrorKind::NotDivisible { len, elem: size }));
            }
            count = len / size;
            r.take_rest();
        } else {
            while !r.is_empty() {
                let before = r.pos();
                E::read(r, params)?;
                if r.pos() == before {
                    return Err(r.error(path, ErrorKind::EmptyElement));
                }
                count += 1;
            }
        }
        Ok(Self {
            raw: r.since(start),
            count,
            offset,
            params,
            _elem: PhantomData,
        })
    }

    /// Exactly `count` elements (`T[count]`).
    pub fn read_count(
        r: &mut Reader<'a>,
        count: usize,
        params: E::Params,
        path: &'static str,
    ) -> Result<Self, ParseError> {
        let offset = r.offset();
        let start = r.pos();
        if let Some(size) = E::FIXED_SIZE {
            let len = count
                .checked_mul(size)
                .ok_or(r.error(path, ErrorKind::Arithmetic))?;
            r.take(len, path)?;
        } else {
            for _ in 0..count {
                let before = r.pos();
                E::read(r, params)?;
                if r.pos() == before {
                    return Err(r.error(path, ErrorKind::EmptyElement));
                }
            }
        }
        Ok(Self {
            raw: r.since(start),
            count,
            offset,
            params,
            _elem: PhantomData,
        })
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the list has no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The encoded bytes of all elements.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Iterates the elements, re-reading them from the raw bytes.
    #[inline]
    pub fn iter(&self) -> ListIter<'a, E> {
        ListIter {
            reader: Reader::with_base(self.raw, self.offset),
            left: self.count,
            params: self.params,
        }
    }
}

impl<'a, E: Element<'a>> IntoIterator for &List<'a, E> {
    type Item = E::Item;
    type IntoIter = ListIter<'a, E>;
    fn into_iter(self) -> ListIter<'a, E> {
        self.iter()
    }
}

impl<'a, E: Element<'a>> fmt::Debug for List<'a, E>
where
    E::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, E: Element<'a>> PartialEq for List<'a, E> {
    /// Two lists are equal when they hold the same bytes and element count.
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw && self.count == other.count
    }
}

/// Iterator over a [`List`]; yields each element once, never allocates.
pub struct ListIter<'a, E: Element<'a>> {
    /// Cursor over the remaining raw bytes.
    reader: Reader<'a>,
    /// Elements not yet yielded.
    left: usize,
    /// Parameters for each element read.
    params: E::Params,
}

impl<'a, E: Element<'a>> Iterator for ListIter<'a, E> {
    type Item = E::Item;

    #[inline]
    fn next(&mut self) -> Option<E::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The list was validated when it was parsed, so this read succeeds; if it somehow did
        // not, ending the iteration is the only non-panicking answer.
        match E::read(&mut self.reader, self.params) {
            Ok(v) => Some(v),
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_size_list_by_bytes() {
        let data = [0u8, 1, 0, 2];
        let mut r = Reader::new(&data);
        let list = List::<u16>::read_all(&mut r, (), "T.l");
        assert_eq!(list.map(|l| l.iter().collect::<Vec<_>>()), Ok(vec![1, 2]));
    }

    #[test]
    fn not_divisible_is_an_error() {
        let data = [0u8, 1, 0];
        let mut r = Reader::new(&data);
        let err = List::<u16>::read_all(&mut r, (), "T.l").err();
        assert_eq!(
            err.map(|e| e.kind),
            Some(ErrorKind::NotDivisible { len: 3, elem: 2 })
        );
    }

    #[test]
    fn count_list_u24() {
        let data = [0u8, 0, 1, 0, 0, 2, 7];
        let mut r = Reader::new(&data);
        let list = List::<U24>::read_count(&mut r, 2, (), "T.l");
        assert_eq!(list.map(|l| l.iter().collect::<Vec<_>>()), Ok(vec![1, 2]));
        assert_eq!(r.rest(), &[7]);
    }
}
