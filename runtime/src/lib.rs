//! `pac-runtime`: what code generated from a `.pac` spec calls.
//!
//! In: byte slices. Out: primitive values, list views, parse errors that name the field, Zeek value
//! types for events. It knows nothing about TLS. With the default `nom` feature, module `nom`
//! gives every generated type nom entry points and makes [`ParseError`] a nom error.

pub mod encode;
pub mod error;
pub mod list;
#[cfg(feature = "nom")]
pub mod nom;
pub mod reader;
pub mod stream;
pub mod value;

pub use encode::{EncodeError, EncodeMode, VarIntWidths};
pub use error::{checked, to_usize, to_usize_validated, Context, ErrorKind, ParseError};
pub use list::{Element, List, ListIter, VarInt, U24, U48};
pub use reader::{be_uint, varint_len, Reader};
pub use value::{Time, ValueSink, VecView, ZeekString, ZeekValue, MAX_PADDED_STRING};
