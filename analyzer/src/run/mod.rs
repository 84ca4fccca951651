//! One run of the analyzer: capture inputs in, event lines and/or ssl.log rows out.
//!
//! In: [`Input`]s and [`RunOptions`]. Out: bytes written to the caller's writers in the
//! requested [`EventFormat`] / [`LogFormat`], and a [`Summary`]. This is the glue between the
//! layers: the capture front end delivers flows to [`Pipeline`] (a
//! [`FlowHandler`](crate::capture::FlowHandler)), which detects SSL by content
//! ([`crate::detect`]), feeds an [`SslAnalyzer`](crate::ssl::SslAnalyzer) per connection and turns
//! its events into output lines and ssl.log rows ([`crate::session`]).
//!
//! Modules: `pipeline` (the single-threaded flow handler), `sharded` (`--threads N`:
//! connections sharded over worker threads, each running its own pipeline).

mod pipeline;
mod sharded;

use std::fmt;
use std::io::{self, Write};

use crate::capture::{self, CaptureError, Input};
use crate::log::OptionalColumns;
use crate::ssl;

pub use crate::log::LogFormat;
pub use crate::output::EventFormat;

pub use pipeline::{Pipeline, CONN_STATE_BYTES};
pub use sharded::run_sharded;

/// What a run does beyond the defaults.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Options of the SSL state machine (Zeek's `SSL::` options).
    pub ssl: ssl::Config,
    /// Options of the capture front end (timeouts, limits, uid seed).
    pub capture: capture::Options,
    /// Zeek's `SSL::max_ssl_history_length`.
    pub max_ssl_history_length: usize,
    /// Worker threads; above 1, connections are sharded by flow hash (see [`run_sharded`]).
    pub threads: usize,
    /// ssl.log's optional columns (Zeek's `SSL::log_include_*_certificate_subject_issuer`).
    pub log_columns: OptionalColumns,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            ssl: ssl::Config::default(),
            capture: capture::Options::default(),
            max_ssl_history_length: crate::log::MAX_SSL_HISTORY_LENGTH,
            threads: 1,
            log_columns: OptionalColumns::default(),
        }
    }
}

/// Where the outputs go; `None` means not wanted.
pub struct Outputs<'w> {
    /// Event lines.
    pub events: Option<(EventFormat, &'w mut dyn Write)>,
    /// ssl.log.
    pub log: Option<(LogFormat, &'w mut dyn Write)>,
}

/// Counters of a finished run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// What the capture front end counted.
    pub capture: capture::Stats,
    /// Connections handed to the SSL analyzer.
    pub ssl_connections: u64,
    /// Event lines written (including weirds and violations).
    pub events: u64,
    /// ssl.log rows written.
    pub log_rows: u64,
}

/// Why a run failed. Everything before the failure has been written.
#[derive(Debug)]
pub enum RunError {
    /// The capture could not be read (missing, not a capture, truncated ...).
    Capture(CaptureError),
    /// Writing the output failed.
    Output(io::Error),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Capture(e) => write!(f, "{e}"),
            RunError::Output(e) => write!(f, "cannot write output: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Analyzes `inputs` and writes the requested outputs.
///
/// A capture error (e.g. a truncated file) still writes everything derived from the packets
/// before it, including the ssl.log rows of connections that were open, then returns the error.
pub fn run(inputs: &[Input], opts: &RunOptions, outputs: Outputs<'_>) -> Result<Summary, RunError> {
    if opts.threads > 1 {
        return run_sharded(inputs, opts, outputs);
    }
    let mut pipeline = Pipeline::new(opts, outputs);
    let result = capture::run(inputs, &opts.capture, &mut pipeline);
    let close_ts = pipeline.last_ts;
    pipeline.finish(close_ts)?;
    let mut summary = pipeline.summary;
    match result {
        Ok(stats) => {
            summary.capture = stats;
            Ok(summary)
        }
        Err(e) => Err(RunError::Capture(e)),
    }
}
