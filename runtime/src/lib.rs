//! `pac-runtime`: what code generated from a `.pac` spec calls.
//!
//! In: byte slices. Out: primitive values, list views, parse errors that name the field, Zeek value
//! types for events. It knows nothing about TLS.

pub mod value;

pub use value::ValueSink;
