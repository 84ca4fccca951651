//! Conformance harness: compares the analyzer's output with what Zeek produced.
//!
//! In: the conformance corpus outside this repository (`../shared/conformance`, see
//! [`corpus::locate`]), an [`Analyzer`] to run on its captures, and the deviations file
//! `tests/conformance/deviations.toml`. Out: a [`report::Report`] with one line per capture
//! (rows, events and fields compared, mismatches, deviations applied) and every mismatch not
//! covered by a deviation, rendered so that a human can act on it.
//!
//! Two kinds of expectations are compared:
//! * `zeek/expected/`: what Zeek's own regression tests printed or logged, under the run options
//!   recorded in `zeek/manifest.json` (see [`expected`]);
//! * `zeek-live/`: the complete event stream and `ssl.log` of a running Zeek with default
//!   options, compared connection by connection (see [`live`]).
//!
//! The harness only relies on the analyzer's output contract (DESIGN §5), through the
//! [`Analyzer`] trait, so it can be exercised before the analyzer exists (see [`replay`]).

pub mod analyzer;
pub mod corpus;
pub mod deviations;
pub mod expected;
pub mod live;
pub mod mismatch;
pub mod replay;
pub mod report;
pub mod rows;
pub mod runner;
pub mod value;

pub use analyzer::{AfterEstablished, Analyzer, AnalyzerOutput, PortRegistration, RunOptions};
pub use corpus::Corpus;
pub use deviations::Deviations;
pub use mismatch::{Mismatch, MismatchKind};
pub use report::Report;
pub use runner::{run_conformance, Scope};
