//! `List<'a, E>`: a validated, zero-copy view of a sequence of elements.
//!
//! In: a [`Reader`] positioned at the list, a bound (byte length, element count, or the rest of
//! the current bound) and the element type's parameters. Out: a `Copy` view of the raw bytes
//! (exactly the elements' bytes) and the parameters. Parsing validates every element once with
//! [`Element::skip`], which builds nothing; [`List::iter`] builds each element on demand with
//! [`Element::read_validated`], which trusts that validation: it has no error path and does not
//! validate the lists nested in the element again. Iterating never allocates.

use crate::error::{ErrorKind, ParseError};
use crate::reader::Reader;
use core::fmt;
use core::marker::PhantomData;

/// A type that can appear as a list element: integers, enums and records.
///
/// The three readers agree: on any input, `skip` consumes what `read` consumes and fails with the
/// same error; on bytes that `skip` accepted, `read_validated` consumes the same bytes and builds
/// what `read` builds.
pub trait Element<'a> {
    /// What iteration yields (the Rust value of one element).
    type Item;
    /// The spec parameters the element type takes (`()` when none, a tuple otherwise).
    type Params: Copy;
    /// The encoded size when every element has the same size; lets validation skip re-parsing.
    const FIXED_SIZE: Option<usize>;
    /// Reads one element, validating everything in it.
    fn read(r: &mut Reader<'a>, params: Self::Params) -> Result<Self::Item, ParseError>;
    /// Validates one element without building it: bounds, constraints and nested lists.
    fn skip(r: &mut Reader<'a>, params: Self::Params) -> Result<(), ParseError>;
    /// Builds one element from bytes that [`Element::skip`] accepted with the same parameters,
    /// without checking anything again. On other bytes it builds nonsense, but never panics.
    fn read_validated(r: &mut Reader<'a>, params: Self::Params) -> Self::Item;
}

/// Implements [`Element`] for a fixed-width integer read by [`Reader`] methods.
macro_rules! int_element {
    ($marker:ty, $item:ty, $method:ident, $validated:ident, $width:expr) => {
        impl<'a> Element<'a> for $marker {
            type Item = $item;
            type Params = ();
            const FIXED_SIZE: Option<usize> = Some($width);
            #[inline]
            fn read(r: &mut Reader<'a>, _: ()) -> Result<$item, ParseError> {
                r.$method(LIST_ELEMENT_PATH)
            }
            #[inline]
            fn skip(r: &mut Reader<'a>, _: ()) -> Result<(), ParseError> {
                r.skip($width, LIST_ELEMENT_PATH)
            }
            #[inline]
            fn read_validated(r: &mut Reader<'a>, _: ()) -> $item {
                r.$validated()
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

int_element!(u8, u8, u8, u8_validated, 1);
int_element!(u16, u16, u16, u16_validated, 2);
int_element!(U24, u32, u24, u24_validated, 3);
int_element!(u32, u32, u32, u32_validated, 4);
int_element!(U48, u64, u48, u48_validated, 6);
int_element!(u64, u64, u64, u64_validated, 8);

/// Marker element type for QUIC's `varint` (RFC 9000 §16; yields `u64`). Its elements vary in
/// size (1, 2, 4 or 8 bytes), so lists of them are walked, not divided.
#[derive(Clone, Copy, Debug)]
pub struct VarInt;

impl<'a> Element<'a> for VarInt {
    type Item = u64;
    type Params = ();
    const FIXED_SIZE: Option<usize> = None;
    #[inline]
    fn read(r: &mut Reader<'a>, _: ()) -> Result<u64, ParseError> {
        r.varint(LIST_ELEMENT_PATH)
    }
    #[inline]
    fn skip(r: &mut Reader<'a>, _: ()) -> Result<(), ParseError> {
        r.skip_varint(LIST_ELEMENT_PATH)
    }
    #[inline]
    fn read_validated(r: &mut Reader<'a>, _: ()) -> u64 {
        r.varint_validated()
    }
}

/// A validated sequence of `E` elements borrowed from the input: the elements' bytes and the
/// element type's parameters, nothing else, so that records holding lists stay small.
pub struct List<'a, E: Element<'a>> {
    /// The bytes of all elements, exactly.
    raw: &'a [u8],
    /// The element type's parameters, kept so iteration can read elements.
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
        Self::from_raw(&[], params)
    }

    /// The view over `raw`, whose elements were validated.
    #[inline]
    fn from_raw(raw: &'a [u8], params: E::Params) -> Self {
        Self {
            raw,
            params,
            _elem: PhantomData,
        }
    }

    /// Elements until the window of `r` is used up (`T[] &restofdata`, or `T[] &length = n` after
    /// the caller bounded `r` to `n` bytes). Consumes the whole window.
    #[inline]
    pub fn read_all(
        r: &mut Reader<'a>,
        params: E::Params,
        path: &'static str,
    ) -> Result<Self, ParseError> {
        let start = r.pos();
        Self::skip_all(r, params, path)?;
        Ok(Self::from_raw(r.since(start), params))
    }

    /// Validates the elements of [`List::read_all`] without building the view.
    #[inline]
    pub fn skip_all(
        r: &mut Reader<'a>,
        params: E::Params,
        path: &'static str,
    ) -> Result<(), ParseError> {
        if let Some(size) = E::FIXED_SIZE {
            let len = r.remaining();
            if size == 0 || !len.is_multiple_of(size) {
                return Err(r.error(path, ErrorKind::NotDivisible { len, elem: size }));
            }
            r.take_rest();
        } else {
            while !r.is_empty() {
                one_element(r, path, |r| E::skip(r, params))?;
            }
        }
        Ok(())
    }

    /// Exactly `count` elements (`T[count]`).
    #[inline]
    pub fn read_count(
        r: &mut Reader<'a>,
        count: usize,
        params: E::Params,
        path: &'static str,
    ) -> Result<Self, ParseError> {
        let start = r.pos();
        Self::skip_count(r, count, params, path)?;
        Ok(Self::from_raw(r.since(start), params))
    }

    /// Validates the elements of [`List::read_count`] without building the view.
    #[inline]
    pub fn skip_count(
        r: &mut Reader<'a>,
        count: usize,
        params: E::Params,
        path: &'static str,
    ) -> Result<(), ParseError> {
        if let Some(size) = E::FIXED_SIZE {
            let len = count
                .checked_mul(size)
                .ok_or(r.error(path, ErrorKind::Arithmetic))?;
            r.skip(len, path)
        } else {
            for _ in 0..count {
                one_element(r, path, |r| E::skip(r, params))?;
            }
            Ok(())
        }
    }

    /// One-pass form of [`List::skip_all`] for generated `visit` functions: calls `f` on each
    /// element in order (`f` reads exactly one element from the reader it is given and reports
    /// it), accepting and rejecting exactly what [`List::skip_all`] does, with the same error.
    /// Fixed-size elements are checked as a whole (the window must hold whole elements) before
    /// the first is given to `f`, which then reads from a window holding exactly that many.
    #[inline]
    pub fn visit_all<F>(
        r: &mut Reader<'a>,
        params: E::Params,
        path: &'static str,
        mut f: F,
    ) -> Result<(), ParseError>
    where
        F: FnMut(&mut Reader<'a>, E::Params) -> Result<(), ParseError>,
    {
        if let Some(size) = E::FIXED_SIZE {
            let len = r.remaining();
            if size == 0 || !len.is_multiple_of(size) {
                return Err(r.error(path, ErrorKind::NotDivisible { len, elem: size }));
            }
            let mut items = r.sub_rest();
            for _ in 0..len / size {
                f(&mut items, params)?;
            }
        } else {
            while !r.is_empty() {
                one_element(r, path, |r| f(r, params))?;
            }
        }
        Ok(())
    }

    /// One-pass form of [`List::skip_count`] (see [`List::visit_all`]): exactly `count`
    /// elements, each given to `f`; same acceptance and errors as [`List::skip_count`].
    #[inline]
    pub fn visit_count<F>(
        r: &mut Reader<'a>,
        count: usize,
        params: E::Params,
        path: &'static str,
        mut f: F,
    ) -> Result<(), ParseError>
    where
        F: FnMut(&mut Reader<'a>, E::Params) -> Result<(), ParseError>,
    {
        if let Some(size) = E::FIXED_SIZE {
            let len = count
                .checked_mul(size)
                .ok_or(r.error(path, ErrorKind::Arithmetic))?;
            let mut items = r.sub(len, path)?;
            for _ in 0..count {
                f(&mut items, params)?;
            }
        } else {
            for _ in 0..count {
                one_element(r, path, |r| f(r, params))?;
            }
        }
        Ok(())
    }

    /// [`List::read_all`] over bytes that were validated already (by the `skip` of an enclosing
    /// unit, with the same parameters): takes the rest of the window without looking at it.
    #[inline]
    pub fn read_all_validated(r: &mut Reader<'a>, params: E::Params) -> Self {
        Self::from_raw(r.take_rest(), params)
    }

    /// [`List::read_count`] over bytes that were validated already. Fixed-size elements are
    /// taken at once; variable-size ones are walked with [`Element::skip`] to find the end.
    #[inline]
    pub fn read_count_validated(r: &mut Reader<'a>, count: usize, params: E::Params) -> Self {
        let start = r.pos();
        if let Some(size) = E::FIXED_SIZE {
            r.take_validated(count.saturating_mul(size));
        } else {
            for _ in 0..count {
                if E::skip(r, params).is_err() {
                    r.take_rest();
                    break;
                }
            }
        }
        Self::from_raw(r.since(start), params)
    }

    /// Number of elements: the byte length divided by the element size, or, for elements that
    /// vary in size, counted by walking them with [`Element::skip`].
    #[inline]
    pub fn len(&self) -> usize {
        if let Some(size) = E::FIXED_SIZE.filter(|s| *s > 0) {
            return self.raw.len() / size;
        }
        let mut r = Reader::new(self.raw);
        let mut count = 0usize;
        while !r.is_empty() {
            let before = r.pos();
            // Validated bytes never fail nor hold empty elements; stop rather than loop if not.
            if E::skip(&mut r, self.params).is_err() || r.pos() == before {
                break;
            }
            count += 1;
        }
        count
    }

    /// True when the list has no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The encoded bytes of all elements.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Iterates the elements, building each from the raw bytes.
    #[inline]
    pub fn iter(&self) -> ListIter<'a, E> {
        ListIter {
            reader: Reader::new(self.raw),
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
    /// Two lists are equal when they hold the same bytes (which, elements being read the same
    /// way, means the same elements).
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

/// Iterator over a [`List`]; yields each element once, never allocates.
pub struct ListIter<'a, E: Element<'a>> {
    /// Cursor over the remaining raw bytes (the list's bytes are exactly its elements).
    reader: Reader<'a>,
    /// Parameters for each element read.
    params: E::Params,
}

impl<'a, E: Element<'a>> Iterator for ListIter<'a, E> {
    type Item = E::Item;

    #[inline]
    fn next(&mut self) -> Option<E::Item> {
        if self.reader.is_empty() {
            return None;
        }
        let before = self.reader.pos();
        let item = E::read_validated(&mut self.reader, self.params);
        // Validated elements are never empty; should one be, end here instead of looping.
        if self.reader.pos() == before {
            self.reader.take_rest();
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.reader.remaining();
        match E::FIXED_SIZE {
            Some(size) if size > 0 => (left / size, Some(left / size)),
            // Every element of a validated list consumes at least one byte.
            _ => (0, Some(left)),
        }
    }
}

/// Reads one variable-size element with `f`, which must consume at least one byte: an element
/// that reads nothing would repeat forever (or without end of input, to the end of a count).
#[inline]
fn one_element<'a, F>(r: &mut Reader<'a>, path: &'static str, f: F) -> Result<(), ParseError>
where
    F: FnOnce(&mut Reader<'a>) -> Result<(), ParseError>,
{
    let before = r.pos();
    // Elements without a field path of their own (varints) report the list's path instead.
    f(r).map_err(|mut e| {
        if e.path == LIST_ELEMENT_PATH {
            e.path = path;
        }
        e
    })?;
    if r.pos() == before {
        return Err(r.error(path, ErrorKind::EmptyElement));
    }
    Ok(())
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

    /// A variable-size element as generated code implements it: a byte string with a one-byte
    /// length whose value must not exceed the parameter.
    struct Pascal;

    impl<'a> Element<'a> for Pascal {
        type Item = &'a [u8];
        type Params = (u8,);
        const FIXED_SIZE: Option<usize> = None;
        fn read(r: &mut Reader<'a>, (max,): (u8,)) -> Result<&'a [u8], ParseError> {
            let mut built = *r;
            Self::skip(r, (max,))?;
            Ok(Self::read_validated(&mut built, (max,)))
        }
        fn skip(r: &mut Reader<'a>, (max,): (u8,)) -> Result<(), ParseError> {
            let n = r.u8("P.len")?;
            if n > max {
                return Err(r.error("P.len", ErrorKind::Check("len <= max")));
            }
            r.skip(usize::from(n), "P.body")
        }
        fn read_validated(r: &mut Reader<'a>, _: (u8,)) -> &'a [u8] {
            let n = r.u8_validated();
            r.take_validated(usize::from(n))
        }
    }

    #[test]
    fn variable_size_elements_validate_once_and_iterate() {
        let data = [2u8, b'h', b'i', 0, 1, b'x', 9];
        let mut r = Reader::new(&data);
        let mut window = r.sub(6, "T.l").unwrap_or(Reader::new(&[]));
        let list = List::<Pascal>::read_all(&mut window, (5,), "T.l").unwrap_or(List::empty((5,)));
        assert_eq!(list.len(), 3);
        assert_eq!(list.iter().collect::<Vec<_>>(), vec![&b"hi"[..], b"", b"x"]);
        // Built from the validated bytes without looking at them: same elements, counted on
        // demand.
        let mut again = Reader::new(list.raw());
        let view = List::<Pascal>::read_all_validated(&mut again, (5,));
        assert_eq!(view, list);
        assert_eq!(view.len(), 3);
        assert_eq!(r.rest(), &[9]);
    }

    #[test]
    fn element_errors_name_the_element_field() {
        let data = [2u8, b'h', b'i', 7, 0];
        let mut r = Reader::new(&data);
        let err = List::<Pascal>::read_all(&mut r, (5,), "T.l").err();
        assert_eq!(
            err,
            Some(ParseError::new("P.len", 4, ErrorKind::Check("len <= max")))
        );
        let data = [2u8, b'h'];
        let mut r = Reader::new(&data);
        let err = List::<Pascal>::read_count(&mut r, 1, (5,), "T.l").err();
        assert_eq!(
            err,
            Some(ParseError::new(
                "P.body",
                1,
                ErrorKind::Incomplete { needed: 1 }
            ))
        );
    }

    /// `visit_all`/`visit_count` accept, reject and consume exactly what `skip_all`/`skip_count`
    /// do, reporting the elements in order.
    #[test]
    fn visit_agrees_with_skip() {
        let inputs: [&[u8]; 6] = [
            &[],
            &[0, 1, 0, 2],
            &[0, 1, 0],
            &[2, b'h', b'i', 0, 1],
            &[9, 1],
            &[0],
        ];
        for data in inputs {
            for count in 0..4 {
                let (mut a, mut b) = (Reader::new(data), Reader::new(data));
                let mut seen = Vec::new();
                let visited = List::<u16>::visit_count(&mut a, count, (), "T.l", |r, ()| {
                    seen.push(u16::read_validated(r, ()));
                    Ok(())
                });
                assert_eq!(visited, List::<u16>::skip_count(&mut b, count, (), "T.l"));
                if visited.is_ok() {
                    assert_eq!(a.pos(), b.pos());
                    assert_eq!(seen.len(), count);
                }
                let (mut a, mut b) = (Reader::new(data), Reader::new(data));
                let visited = List::<Pascal>::visit_count(&mut a, count, (5,), "T.l", |r, p| {
                    Pascal::skip(r, p)
                });
                assert_eq!(
                    visited,
                    List::<Pascal>::skip_count(&mut b, count, (5,), "T.l")
                );
                assert!(visited.is_err() || a.pos() == b.pos());
            }
            let (mut a, mut b) = (Reader::new(data), Reader::new(data));
            let mut seen = Vec::new();
            let visited = List::<u16>::visit_all(&mut a, (), "T.l", |r, ()| {
                seen.push(u16::read_validated(r, ()));
                Ok(())
            });
            assert_eq!(visited, List::<u16>::skip_all(&mut b, (), "T.l"));
            if visited.is_ok() {
                let list = List::<u16>::read_all(&mut Reader::new(data), (), "T.l");
                assert_eq!(Ok(seen), list.map(|l| l.iter().collect::<Vec<_>>()));
            }
            let (mut a, mut b) = (Reader::new(data), Reader::new(data));
            let visited = List::<Pascal>::visit_all(&mut a, (5,), "T.l", Pascal::skip);
            assert_eq!(visited, List::<Pascal>::skip_all(&mut b, (5,), "T.l"));
            assert!(visited.is_err() || a.pos() == b.pos());
        }
    }

    #[test]
    fn count_list_of_variable_elements_finds_its_end_when_validated() {
        let data = [1u8, b'a', 2, b'b', b'c', 3];
        let mut r = Reader::new(&data);
        let list = List::<Pascal>::read_count_validated(&mut r, 2, (5,));
        assert_eq!(list.iter().collect::<Vec<_>>(), vec![&b"a"[..], b"bc"]);
        assert_eq!(r.rest(), &[3]);
    }

    #[test]
    fn iteration_over_unvalidated_bytes_ends_without_panicking() {
        // Bytes that never passed validation: the element claims more than there is.
        let mut r = Reader::new(&[5u8, 1]);
        let list = List::<Pascal>::read_all_validated(&mut r, (5,));
        assert_eq!(list.iter().collect::<Vec<_>>(), vec![&[1u8][..]]);
        assert_eq!(list.len(), 0);
    }
}
