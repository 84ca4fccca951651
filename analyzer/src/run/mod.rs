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
//! connections sharded over worker threads, each running its own pipeline), `live` (`-i`:
//! network interfaces instead of files, until a signal).

mod live;
mod pipeline;
mod sharded;

use std::fmt;
use std::io::{self, Write};

use crate::capture::{self, CaptureError, Input};
use crate::log::OptionalColumns;
use crate::ssl;

pub use crate::log::LogFormat;
pub use crate::output::EventFormat;

pub use live::{report_drops, run_live, wall_clock, LiveSetup, LiveSummary, RotateFiles};
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
    /// The QUIC analyzer's and quic.log's options (Zeek's `QUIC::` options).
    pub quic: crate::session::QuicOptions,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            ssl: ssl::Config::default(),
            capture: capture::Options::default(),
            max_ssl_history_length: crate::log::MAX_SSL_HISTORY_LENGTH,
            threads: 1,
            log_columns: OptionalColumns::default(),
            quic: crate::session::QuicOptions::default(),
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
    /// Connections with payload in which no SSL/TLS/DTLS was found.
    pub not_analysed: NotAnalysed,
}

/// Connections that carried payload but in which no SSL/TLS/DTLS was found: what a run saw
/// and did not analyse (the CLI tells a person about them, since they produce no output).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotAnalysed {
    /// TCP connections.
    pub tcp: u64,
    /// UDP flows.
    pub udp: u64,
    /// Of the UDP flows, those whose first datagram looks like QUIC (a long header with a
    /// known version, see [`crate::detect::looks_like_quic`]) but that Zeek's rules do not give
    /// to its QUIC analyzer (not to port 443, and not opening with a v1 or v2 Initial; e.g. a
    /// draft version on another port).
    pub udp_quic: u64,
}

impl NotAnalysed {
    /// Counts a connection given up on after `scanned` payload bytes (none: nothing to say).
    pub fn count(&mut self, proto: capture::Proto, scanned: u64, quic: bool) {
        if scanned == 0 {
            return;
        }
        match proto {
            capture::Proto::Tcp => self.tcp += 1,
            capture::Proto::Udp => {
                self.udp += 1;
                self.udp_quic += u64::from(quic);
            }
        }
    }

    /// Adds the counts of `other` (another engine's).
    pub fn add(&mut self, other: &NotAnalysed) {
        self.tcp += other.tcp;
        self.udp += other.udp;
        self.udp_quic += other.udp_quic;
    }

    /// A line for a person, e.g. `not analysed: 2 QUIC flows (neither to 443/udp nor opening
    /// with a v1/v2 Initial); 1 TCP
    /// connection without SSL/TLS`; `None` when there is nothing to say.
    pub fn describe(&self) -> Option<String> {
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if self.udp_quic == self.udp && self.udp > 0 {
            parts.push(format!(
                "{} (neither to 443/udp nor opening with a v1/v2 Initial)",
                plural(self.udp, "QUIC flow", "QUIC flows")
            ));
        } else if self.udp > 0 {
            let mut udp = plural(self.udp, "UDP flow", "UDP flows") + " without DTLS";
            if self.udp_quic > 0 {
                udp += &format!(
                    ", {} of them QUIC-like (neither to 443/udp nor opening with a v1/v2 Initial)",
                    self.udp_quic
                );
            }
            parts.push(udp);
        }
        if self.tcp > 0 {
            parts.push(format!(
                "{} without SSL/TLS",
                plural(self.tcp, "TCP connection", "TCP connections")
            ));
        }
        (!parts.is_empty()).then(|| format!("not analysed: {}", parts.join("; ")))
    }
}

/// Why a run failed. Everything before the failure has been written.
#[derive(Debug)]
pub enum RunError {
    /// The capture could not be read (missing, not a capture, truncated ...).
    Capture(CaptureError),
    /// Writing the output failed.
    Output(io::Error),
    /// Live capture could not start or failed.
    Live(capture::live::LiveError),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Capture(e) => write!(f, "{e}"),
            RunError::Output(e) => write!(f, "cannot write output: {e}"),
            RunError::Live(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Analyzes `inputs` and writes the requested outputs.
///
/// A capture error (e.g. a truncated file) still writes everything derived from the packets
/// before it, including the ssl.log rows of connections that were open, then returns the error.
pub fn run(inputs: &[Input], opts: &RunOptions, outputs: Outputs<'_>) -> Result<Summary, RunError> {
    run_with_x509(inputs, opts, outputs, None)
}

/// [`run`], also writing x509.log in `x509`'s format to its writer when given.
pub fn run_with_x509<'w>(
    inputs: &[Input],
    opts: &RunOptions,
    outputs: Outputs<'w>,
    x509: Option<(LogFormat, &'w mut dyn Write)>,
) -> Result<Summary, RunError> {
    let logs = OtherLogs {
        x509,
        ..OtherLogs::default()
    };
    run_with_logs(inputs, opts, outputs, logs)
}

/// The logs besides ssl.log; `None` means not wanted.
#[derive(Default)]
pub struct OtherLogs<'w> {
    /// x509.log.
    pub x509: Option<(LogFormat, &'w mut dyn Write)>,
    /// quic.log.
    pub quic: Option<(LogFormat, &'w mut dyn Write)>,
    /// tunnel.log.
    pub tunnel: Option<(LogFormat, &'w mut dyn Write)>,
}

/// [`run`], also writing the other logs that `logs` asks for.
///
/// x509.log's deduplication is run-wide and its rows, like quic.log's and tunnel.log's, are in
/// the order they happened, so a run that writes any of them is single-threaded whatever
/// [`RunOptions::threads`] says.
pub fn run_with_logs<'w>(
    inputs: &[Input],
    opts: &RunOptions,
    outputs: Outputs<'w>,
    logs: OtherLogs<'w>,
) -> Result<Summary, RunError> {
    if opts.threads > 1 && logs.x509.is_none() && logs.quic.is_none() && logs.tunnel.is_none() {
        return run_sharded(inputs, opts, outputs);
    }
    let mut pipeline = Pipeline::new(opts, outputs);
    if let Some((format, w)) = logs.x509 {
        pipeline.set_x509(crate::log::X509Output::new(format, w));
    }
    if let Some((format, w)) = logs.quic {
        pipeline.set_quic(crate::log::QuicOutput::new(format, w));
    }
    if let Some((format, w)) = logs.tunnel {
        pipeline.set_tunnel(crate::log::TunnelOutput::new(format, w));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Proto;

    #[test]
    fn not_analysed_counts_connections_with_payload_and_says_what_they_are() {
        let mut n = NotAnalysed::default();
        assert_eq!(n.describe(), None);
        // A connection that carried nothing (a port scan, a lone SYN) is not worth a word.
        n.count(Proto::Tcp, 0, false);
        assert_eq!(n.describe(), None);
        n.count(Proto::Udp, 1200, true);
        n.count(Proto::Udp, 1200, true);
        assert_eq!(
            n.describe().as_deref(),
            Some(
                "not analysed: 2 QUIC flows (neither to 443/udp nor opening with a v1/v2 Initial)"
            )
        );
        n.count(Proto::Udp, 40, false);
        n.count(Proto::Tcp, 100, false);
        let mut sum = NotAnalysed::default();
        sum.add(&n);
        assert_eq!(
            sum.describe().as_deref(),
            Some(
                "not analysed: 3 UDP flows without DTLS, 2 of them QUIC-like (neither to \
                 443/udp nor opening with a v1/v2 Initial); \
                 1 TCP connection without SSL/TLS"
            )
        );
    }
}
