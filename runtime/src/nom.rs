//! nom entry points for generated parsers, and [`ParseError`] as a nom error.
//!
//! In: a generated type (anything implementing [`Element`]: every record, enum and integer of a
//! spec) and its parameters. Out: a nom parser, `fn(&[u8]) -> nom::IResult<&[u8], T, E>`, that
//! runs what `T::parse` runs (validate with `skip`, then build with `read_validated`), so Rust
//! users can put generated parsers inside their own nom pipelines (`many0`, `map_parser`,
//! `context`, ...), next to rusticata's parsers.
//!
//! The runtime itself does not parse with nom (its readers are faster, docs/PERFORMANCE.md §1);
//! this module only adapts at the edge: no generated code changes, every generated type gets the
//! entry points through the blanket [`Nom`] impl.
//!
//! Errors. `E` is chosen by the pipeline: [`ParseError`] keeps the field path and offset (relative
//! to the input the entry point was given, exactly as `parse` reports them), and implements nom's
//! `ParseError`, `ContextError` (each `context()` label is pushed onto its [`Context`], the
//! innermost two kept) and `FromExternalError`. Errors of the caller's nom combinators become
//! [`ErrorKind::Combinator`]: nom hands over only the unconsumed input, so they carry how many
//! bytes were left instead of an offset. nom's own `nom::error::Error<&[u8]>` and
//! `(&[u8], ErrorKind)` get the input from the failing byte on (a slice of the caller's buffer, so
//! `nom::Offset` gives its absolute position) and the closest nom `ErrorKind`: generated parsers
//! compose with parsers written against nom's default error type (tls-parser's). Failures are
//! `Err::Error`, so `alt` and `many0` may backtrack; wrap with `cut` for `Failure`.
//!
//! Streaming. Like rusticata's parsers, the default entry points are streaming: an input that
//! ends inside the value gives `Err::Incomplete(Needed::new(n))` with the runtime's count of
//! missing bytes for the read that ran out. A read that overruns a length bound *inside* the
//! value (a field longer than its extension, say) is malformed, not truncated, and gives
//! `Err::Error`: more input cannot fix it. The reader that ran out records its window in the
//! error, which tells the two apart ([`ParseError::input_ended`]; one blind spot: a bound given
//! as a spec parameter at offset 0 that spans the whole input looks like the input). The
//! `*_complete` entry points treat the input as everything there is and report every failure as
//! `Err::Error` with the runtime's error (nom's `complete()` would replace it with its own): use
//! them over a buffer that holds whole records, where `many0` of a streaming parser would end in
//! `Incomplete`.
//!
//! [`Context`]: crate::error::Context

use crate::error::{ErrorKind, ParseError};
use crate::list::Element;
use crate::reader::Reader;
use ::nom::error::{
    ContextError, Error as NomError, ErrorKind as NomKind, FromExternalError,
    ParseError as NomParseError,
};
use ::nom::{Err, IResult, InputLength, Needed};

/// Whether the input may grow (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Truncation is `Err::Incomplete`: more input may come (rusticata's convention).
    Streaming,
    /// The input is all there is: every failure is `Err::Error`.
    Complete,
}

/// An error type a generated parser's failure converts into.
pub trait FromParseError<'a>: Sized {
    /// Converts `e`, whose offset is relative to `input` (the entry point's input).
    fn from_parse_error(input: &'a [u8], e: ParseError) -> Self;
}

impl<'a> FromParseError<'a> for ParseError {
    #[inline]
    fn from_parse_error(_: &'a [u8], e: ParseError) -> Self {
        e
    }
}

impl<'a> FromParseError<'a> for NomError<&'a [u8]> {
    /// nom's default error: the input from the failing byte on, and the closest nom kind.
    fn from_parse_error(input: &'a [u8], e: ParseError) -> Self {
        NomError::new(input.get(e.offset..).unwrap_or_default(), nom_kind(e.kind))
    }
}

impl<'a> FromParseError<'a> for (&'a [u8], NomKind) {
    fn from_parse_error(input: &'a [u8], e: ParseError) -> Self {
        (input.get(e.offset..).unwrap_or_default(), nom_kind(e.kind))
    }
}

/// The nom kind closest to a runtime error kind (for nom's own error types, which hold no more).
fn nom_kind(kind: ErrorKind) -> NomKind {
    match kind {
        ErrorKind::Incomplete { .. } => NomKind::Eof,
        ErrorKind::TrailingBytes { .. } | ErrorKind::NotDivisible { .. } => NomKind::LengthValue,
        ErrorKind::EmptyElement => NomKind::Many0,
        ErrorKind::Check(_) => NomKind::Verify,
        ErrorKind::Arithmetic => NomKind::TooLarge,
        ErrorKind::Combinator { .. } => NomKind::Fail,
    }
}

/// A nom parser for `T` with `params`: what `T::parse` does (validate with `skip`, then build
/// with `read_validated`), so values and errors equal `parse`'s; the rest of the input after it.
#[inline]
pub fn parser<'a, T, E>(
    params: T::Params,
    mode: Mode,
) -> impl FnMut(&'a [u8]) -> IResult<&'a [u8], T::Item, E>
where
    T: Element<'a>,
    E: FromParseError<'a>,
{
    move |input| run::<T, E>(input, params, mode)
}

/// The body of every entry point: `T::parse`'s steps, validate with `skip`, then build with
/// `read_validated` from the same start.
///
/// Nothing else may call `T::skip` (no re-parse on the error path, say): with a second call site
/// LLVM stops inlining these large functions into their caller (measured: 15 % to 18 % more
/// instructions than `parse` on a TLS 1.2 server flight, docs/PERFORMANCE.md §1).
#[inline]
fn run<'a, T, E>(input: &'a [u8], params: T::Params, mode: Mode) -> IResult<&'a [u8], T::Item, E>
where
    T: Element<'a>,
    E: FromParseError<'a>,
{
    let mut r = Reader::new(input);
    let mut built = r;
    match T::skip(&mut r, params) {
        Ok(()) => Ok((r.rest(), T::read_validated(&mut built, params))),
        Err(e) => Err(fail(input, e, mode)),
    }
}

/// A failure of the generated parser as nom's `Err`: `Incomplete` when streaming and the input
/// itself ended ([`ParseError::input_ended`]: more input gets past the read), `Error` otherwise.
#[cold]
#[inline(never)]
fn fail<'a, E: FromParseError<'a>>(input: &'a [u8], e: ParseError, mode: Mode) -> Err<E> {
    match e.kind {
        ErrorKind::Incomplete { needed }
            if mode == Mode::Streaming && e.input_ended(input.len()) =>
        {
            Err::Incomplete(Needed::new(needed))
        }
        _ => Err::Error(E::from_parse_error(input, e)),
    }
}

/// The nom entry points of every generated type (a blanket impl over [`Element`]).
///
/// `TlsRecord::nom` is a `fn(&[u8]) -> IResult<&[u8], TlsRecord, E>` to hand to nom combinators;
/// types with spec parameters take them first: `Handshake::nom_with((false, false, false, kex))`
/// returns the parser. `E` is [`ParseError`], `nom::error::Error<&[u8]>` or
/// `(&[u8], nom::error::ErrorKind)`, usually inferred from the pipeline.
pub trait Nom<'a>: Element<'a> + Sized {
    /// Streaming entry point of a type without parameters.
    #[inline]
    fn nom<E: FromParseError<'a>>(input: &'a [u8]) -> IResult<&'a [u8], Self::Item, E>
    where
        Self: Element<'a, Params = ()>,
    {
        run::<Self, E>(input, (), Mode::Streaming)
    }

    /// Complete-input entry point of a type without parameters: never `Incomplete`.
    #[inline]
    fn nom_complete<E: FromParseError<'a>>(input: &'a [u8]) -> IResult<&'a [u8], Self::Item, E>
    where
        Self: Element<'a, Params = ()>,
    {
        run::<Self, E>(input, (), Mode::Complete)
    }

    /// Streaming parser for the given spec parameters.
    #[inline]
    fn nom_with<E: FromParseError<'a>>(
        params: Self::Params,
    ) -> impl FnMut(&'a [u8]) -> IResult<&'a [u8], Self::Item, E> {
        parser::<Self, E>(params, Mode::Streaming)
    }

    /// Complete-input parser for the given spec parameters: never `Incomplete`.
    #[inline]
    fn nom_complete_with<E: FromParseError<'a>>(
        params: Self::Params,
    ) -> impl FnMut(&'a [u8]) -> IResult<&'a [u8], Self::Item, E> {
        parser::<Self, E>(params, Mode::Complete)
    }
}

impl<'a, T: Element<'a>> Nom<'a> for T {}

/// The name of a nom error kind, as `'static` text (nom's `description` borrows its argument).
macro_rules! nom_kind_name {
    ($kind:expr, $($variant:ident),* $(,)?) => {
        #[allow(deprecated)]
        match $kind {
            $(NomKind::$variant => stringify!($variant),)*
        }
    };
}

/// nom's 7.1 error kinds, all of them (the match is exhaustive, so a new one fails the build).
fn kind_name(kind: NomKind) -> &'static str {
    nom_kind_name!(
        kind,
        Tag,
        MapRes,
        MapOpt,
        Alt,
        IsNot,
        IsA,
        SeparatedList,
        SeparatedNonEmptyList,
        Many0,
        Many1,
        ManyTill,
        Count,
        TakeUntil,
        LengthValue,
        TagClosure,
        Alpha,
        Digit,
        HexDigit,
        OctDigit,
        AlphaNumeric,
        Space,
        MultiSpace,
        LengthValueFn,
        Eof,
        Switch,
        TagBits,
        OneOf,
        NoneOf,
        Char,
        CrLf,
        RegexpMatch,
        RegexpMatches,
        RegexpFind,
        RegexpCapture,
        RegexpCaptures,
        TakeWhile1,
        Complete,
        Fix,
        Escaped,
        EscapedTransform,
        NonEmpty,
        ManyMN,
        Not,
        Permutation,
        Verify,
        TakeTill1,
        TakeWhileMN,
        TooLarge,
        Many0Count,
        Many1Count,
        Float,
        Satisfy,
        Fail,
    )
}

/// The path of errors that nom combinators raised (they know no field).
pub const COMBINATOR_PATH: &str = "nom";

impl<I: InputLength> NomParseError<I> for ParseError {
    /// A combinator of the caller's pipeline failed: its name and how much input was left (the
    /// offset is unknown: nom passes only the unconsumed input).
    fn from_error_kind(input: I, kind: NomKind) -> Self {
        ParseError::new(
            COMBINATOR_PATH,
            0,
            ErrorKind::Combinator {
                name: kind_name(kind),
                remaining: input.input_len(),
            },
        )
    }

    /// Keeps the innermost failure (the field that failed), as nom's own `Error` does.
    fn append(_: I, _: NomKind, other: Self) -> Self {
        other
    }
}

impl<I> ContextError<I> for ParseError {
    /// `context(label, p)` pushes `label` as an outer path segment.
    fn add_context(_: I, label: &'static str, other: Self) -> Self {
        other.with_context(label)
    }
}

impl<I: InputLength, X> FromExternalError<I, X> for ParseError {
    /// As [`NomParseError::from_error_kind`]; the external error value is dropped, since a
    /// `ParseError` is `Copy` and holds no heap data.
    fn from_external_error(input: I, kind: NomKind, _: X) -> Self {
        <Self as NomParseError<I>>::from_error_kind(input, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::List;

    /// A hand-written element: a one-byte length, then that many bytes holding a `u16` list.
    struct Framed;

    impl<'a> Element<'a> for Framed {
        type Item = List<'a, u16>;
        type Params = ();
        const FIXED_SIZE: Option<usize> = None;
        fn read(r: &mut Reader<'a>, (): ()) -> Result<Self::Item, ParseError> {
            let n = usize::from(r.u8("Framed.len")?);
            let mut sub = r.sub(n, "Framed.items")?;
            List::read_all(&mut sub, (), "Framed.items")
        }
        fn skip(r: &mut Reader<'a>, (): ()) -> Result<(), ParseError> {
            Self::read(r, ()).map(drop)
        }
        fn read_validated(r: &mut Reader<'a>, (): ()) -> Self::Item {
            let n = usize::from(r.u8_validated());
            List::read_all_validated(&mut r.sub_validated(n), ())
        }
    }

    type Res<'a> = IResult<&'a [u8], List<'a, u16>, ParseError>;

    #[test]
    fn values_and_rest_match_read() {
        let input = [4u8, 0, 1, 0, 2, 9];
        let (rest, list): (&[u8], _) = Framed::nom::<ParseError>(&input).expect("parses");
        assert_eq!(rest, &[9]);
        assert_eq!(list.iter().collect::<Vec<_>>(), [1, 2]);
        let (rest, v) = u16::nom::<ParseError>(&input).expect("parses");
        assert_eq!((rest.len(), v), (4, 0x0400));
    }

    #[test]
    fn truncation_is_incomplete_with_the_missing_count() {
        // The bound needs 4 bytes, 2 are there: the input itself is short.
        let r: Res<'_> = Framed::nom(&[4, 0, 1]);
        assert_eq!(r, Err(Err::Incomplete(Needed::new(2))));
        // Empty input: the length byte is missing.
        let r: Res<'_> = Framed::nom(&[]);
        assert_eq!(r, Err(Err::Incomplete(Needed::new(1))));
        // Complete mode keeps the runtime's error.
        let r: Res<'_> = Framed::nom_complete(&[4, 0, 1]);
        assert_eq!(
            r,
            Err(Err::Error(ParseError::new(
                "Framed.items",
                1,
                ErrorKind::Incomplete { needed: 2 }
            )))
        );
    }

    /// An element whose second read lies inside a bound: `len`, then a bound of `len` bytes
    /// holding a `u16`, then one more byte outside it.
    struct Bounded;

    impl<'a> Element<'a> for Bounded {
        type Item = (u16, u8);
        type Params = ();
        const FIXED_SIZE: Option<usize> = None;
        fn read(r: &mut Reader<'a>, (): ()) -> Result<Self::Item, ParseError> {
            let n = usize::from(r.u8("B.len")?);
            let v = r.sub(n, "B.body")?.u16("B.value")?;
            Ok((v, r.u8("B.tail")?))
        }
        fn skip(r: &mut Reader<'a>, (): ()) -> Result<(), ParseError> {
            Self::read(r, ()).map(drop)
        }
        fn read_validated(r: &mut Reader<'a>, (): ()) -> Self::Item {
            let n = usize::from(r.u8_validated());
            let v = r.sub_validated(n).u16_validated();
            (v, r.u8_validated())
        }
    }

    #[test]
    fn overrunning_a_bound_is_an_error_not_incomplete() {
        type R<'a> = IResult<&'a [u8], (u16, u8), ParseError>;
        // A 1-byte bound cannot hold the u16, however much input follows.
        let r: R<'_> = Bounded::nom(&[1, 7, 8, 9]);
        assert_eq!(
            r,
            Err(Err::Error(ParseError::new(
                "B.value",
                1,
                ErrorKind::Incomplete { needed: 1 }
            )))
        );
        // The same with the bound ending at the input's end: still an error (the reader that ran
        // out was the bound's, which starts at 1, not the input's).
        let r: R<'_> = Bounded::nom(&[1, 7]);
        assert!(
            matches!(r, Err(Err::Error(e)) if e.path == "B.value"),
            "{r:?}"
        );
        // Also when the read starts right at the end of the input: an empty bound there.
        let r: R<'_> = Bounded::nom(&[0]);
        assert!(
            matches!(r, Err(Err::Error(e)) if e.path == "B.value"),
            "{r:?}"
        );
        // A tail byte missing after a whole bound is truncation.
        let r: R<'_> = Bounded::nom(&[2, 7, 8]);
        assert_eq!(r, Err(Err::Incomplete(Needed::new(1))));
        // A truncated bound is truncation too.
        let r: R<'_> = Bounded::nom(&[2, 7]);
        assert_eq!(r, Err(Err::Incomplete(Needed::new(1))));
    }

    #[test]
    fn nom_default_errors_get_the_failing_input() {
        let input = [1u8, 7, 8, 9];
        let r: IResult<&[u8], (u16, u8), NomError<&[u8]>> = Bounded::nom(&input);
        assert_eq!(r, Err(Err::Error(NomError::new(&input[1..], NomKind::Eof))));
        type Tuple<'a> = (&'a [u8], NomKind);
        let r: IResult<&[u8], (u16, u8), Tuple<'_>> = Bounded::nom(&input);
        assert_eq!(r, Err(Err::Error((&input[1..], NomKind::Eof))));
    }

    #[test]
    fn nom_errors_convert_with_their_name_and_remaining_input() {
        let e =
            <ParseError as NomParseError<&[u8]>>::from_error_kind(&[1u8, 2, 3][..], NomKind::Tag);
        assert_eq!(
            e.kind,
            ErrorKind::Combinator {
                name: "Tag",
                remaining: 3
            }
        );
        let e = <ParseError as ContextError<&[u8]>>::add_context(&[][..], "magic", e);
        assert_eq!(
            e.to_string(),
            "magic/nom: combinator Tag failed with 3 byte(s) left"
        );
        let x = <ParseError as FromExternalError<&[u8], &str>>::from_external_error(
            &[0u8][..],
            NomKind::MapRes,
            "bad",
        );
        assert_eq!(
            x.to_string(),
            "nom: combinator MapRes failed with 1 byte(s) left"
        );
        // append keeps the inner failure.
        let inner = ParseError::new("A.b", 2, ErrorKind::Arithmetic);
        assert_eq!(
            <ParseError as NomParseError<&[u8]>>::append(&[][..], NomKind::Many1, inner),
            inner
        );
    }
}
