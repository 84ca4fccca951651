//! One run of the analyzer: capture inputs in, event lines and/or ssl.log rows out.
//!
//! In: [`Input`]s and [`RunOptions`]. Out: bytes written to the caller's writers in the
//! requested [`EventFormat`] / [`LogFormat`], and a [`Summary`]. This is the glue between the
//! layers: the capture front end delivers flows to [`Pipeline`] (a [`FlowHandler`]), which detects
//! SSL by content ([`crate::detect`]), feeds an [`SslAnalyzer`] per connection and turns its
//! events into output lines and ssl.log rows ([`crate::session`]).

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

use crate::capture::{self, CaptureError, ConnInfo, EndReason, FlowHandler, Input, Proto, Verdict};
use crate::detect::{self, Detected, MAX_STARTTLS_SCAN_BYTES};
use crate::log::{format_log_time, JsonLogWriter, TsvLogWriter};
use crate::output::{ConnId, JsonEventWriter, TextEventWriter};
use crate::session::Session;
use crate::ssl;

/// How events are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// One readable line per event.
    Text,
    /// JSON Lines in the shape of Zeek's JSON logs.
    Json,
}

/// How ssl.log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Zeek's tab-separated ASCII log with its header and footer lines.
    Tsv,
    /// JSON Lines with Zeek's field names.
    Json,
}

/// What a run does beyond the defaults.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Options of the SSL state machine (Zeek's `SSL::` options).
    pub ssl: ssl::Config,
    /// Options of the capture front end (timeouts, limits, uid seed).
    pub capture: capture::Options,
    /// Zeek's `SSL::max_ssl_history_length`.
    pub max_ssl_history_length: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            ssl: ssl::Config::default(),
            capture: capture::Options::default(),
            max_ssl_history_length: crate::log::MAX_SSL_HISTORY_LENGTH,
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

/// Event writer of the requested format.
pub(crate) enum EventWriter {
    Text(TextEventWriter),
    Json(JsonEventWriter),
}

/// ssl.log writer of the requested format.
pub(crate) enum LogWriter {
    Tsv {
        w: TsvLogWriter,
        header_written: bool,
    },
    Json(JsonLogWriter),
}

/// What the pipeline knows about one connection.
enum ConnState {
    /// Not recognised yet; `scanned` bytes of it were looked at.
    Detecting { scanned: u64 },
    /// Handed to the SSL analyzer.
    Ssl(Box<Session>),
    /// Not SSL, or the analyzer is finished with it.
    Ignored,
}

/// The [`FlowHandler`] that ties capture, detection, analysis and output together.
pub struct Pipeline<'w> {
    opts: RunOptions,
    conns: HashMap<u64, ConnState>,
    events: Option<(EventWriter, &'w mut dyn Write)>,
    log: Option<(LogWriter, &'w mut dyn Write)>,
    summary: Summary,
    first_ts: Option<f64>,
    last_ts: f64,
    io_error: Option<io::Error>,
}

impl<'w> Pipeline<'w> {
    fn new(opts: &RunOptions, outputs: Outputs<'w>) -> Self {
        Pipeline {
            opts: opts.clone(),
            conns: HashMap::new(),
            events: outputs.events.map(|(f, w)| {
                let ew = match f {
                    EventFormat::Text => EventWriter::Text(TextEventWriter::new()),
                    EventFormat::Json => EventWriter::Json(JsonEventWriter::new()),
                };
                (ew, w)
            }),
            log: outputs.log.map(|(f, w)| {
                let lw = match f {
                    LogFormat::Tsv => LogWriter::Tsv {
                        w: TsvLogWriter::new(),
                        header_written: false,
                    },
                    LogFormat::Json => LogWriter::Json(JsonLogWriter::new()),
                };
                (lw, w)
            }),
            summary: Summary::default(),
            first_ts: None,
            last_ts: 0.0,
            io_error: None,
        }
    }

    fn note_ts(&mut self, ts: f64) {
        if self.first_ts.is_none() {
            self.first_ts = Some(ts);
        }
        if ts > self.last_ts {
            self.last_ts = ts;
        }
    }

    /// Runs `f` on the connection's session with the writers, then flushes what it wrote.
    fn with_session(
        &mut self,
        c: &ConnInfo,
        f: impl FnOnce(&mut Session, &mut crate::session::Writers<'_>),
    ) -> Verdict {
        let Some(ConnState::Ssl(session)) = self.conns.get_mut(&c.handle) else {
            return Verdict::Stop;
        };
        let mut writers = crate::session::Writers {
            events: self.events.as_mut().map(|(w, _)| w),
            log: self.log.as_mut().map(|(w, _)| w),
            log_open_ts: self.first_ts.unwrap_or(0.0),
            events_written: &mut self.summary.events,
            rows_written: &mut self.summary.log_rows,
        };
        f(session, &mut writers);
        let done = session.is_done();
        self.flush();
        if done {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }

    /// Moves buffered output to the writers; remembers the first I/O error.
    fn flush(&mut self) {
        if let Some((w, out)) = self.events.as_mut() {
            let r = match w {
                EventWriter::Text(t) => t.flush_to(&mut **out),
                EventWriter::Json(j) => j.flush_to(&mut **out),
            };
            if let Err(e) = r {
                self.io_error.get_or_insert(e);
            }
        }
        if let Some((w, out)) = self.log.as_mut() {
            let r = match w {
                LogWriter::Tsv { w, .. } => w.flush_to(&mut **out),
                LogWriter::Json(j) => j.flush_to(&mut **out),
            };
            if let Err(e) = r {
                self.io_error.get_or_insert(e);
            }
        }
    }

    fn start_ssl(&mut self, c: &ConnInfo) {
        let id = ConnId {
            orig_h: c.id.orig_h,
            orig_p: c.id.orig_p,
            resp_h: c.id.resp_h,
            resp_p: c.id.resp_p,
        };
        let session = Session::new(c.uid.clone(), id, &self.opts);
        self.summary.ssl_connections += 1;
        self.conns
            .insert(c.handle, ConnState::Ssl(Box::new(session)));
    }

    /// Decides from the first bytes of a delivery whether the connection is SSL. Returns
    /// whether the analyzer is attached now.
    fn detect(&mut self, c: &ConnInfo, data: &[u8]) -> bool {
        let Some(ConnState::Detecting { scanned }) = self.conns.get_mut(&c.handle) else {
            return matches!(self.conns.get(&c.handle), Some(ConnState::Ssl(_)));
        };
        let verdict = match c.proto {
            Proto::Tcp => detect::tcp(data),
            Proto::Udp => detect::udp(data),
        };
        if verdict == Detected::No {
            *scanned += data.len() as u64;
            if *scanned > MAX_STARTTLS_SCAN_BYTES {
                self.conns.insert(c.handle, ConnState::Ignored);
            }
            return false;
        }
        self.start_ssl(c);
        true
    }

    /// Writes the rows of connections still open and the log footer.
    fn finish(&mut self, close_ts: f64) -> Result<(), RunError> {
        let handles: Vec<u64> = {
            let mut h: Vec<u64> = self.conns.keys().copied().collect();
            h.sort_unstable();
            h
        };
        for handle in handles {
            if let Some(ConnState::Ssl(mut session)) = self.conns.remove(&handle) {
                let mut writers = crate::session::Writers {
                    events: self.events.as_mut().map(|(w, _)| w),
                    log: self.log.as_mut().map(|(w, _)| w),
                    log_open_ts: self.first_ts.unwrap_or(0.0),
                    events_written: &mut self.summary.events,
                    rows_written: &mut self.summary.log_rows,
                };
                session.end(close_ts, &mut writers);
            }
        }
        if let Some((LogWriter::Tsv { w, header_written }, _)) = self.log.as_mut() {
            // Like Zeek, no rows means no log at all (no header without a first write).
            if *header_written {
                w.footer(close_ts);
            }
        }
        self.flush();
        match self.io_error.take() {
            Some(e) => Err(RunError::Output(e)),
            None => Ok(()),
        }
    }
}

impl FlowHandler for Pipeline<'_> {
    fn new_connection(&mut self, c: &ConnInfo) -> Verdict {
        self.note_ts(c.start_ts);
        self.conns
            .insert(c.handle, ConnState::Detecting { scanned: 0 });
        Verdict::Continue
    }

    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.note_ts(ts);
        if !self.detect(c, data) {
            return match self.conns.get(&c.handle) {
                Some(ConnState::Detecting { .. }) => Verdict::Continue,
                _ => Verdict::Stop,
            };
        }
        self.with_session(c, |s, w| s.deliver(is_orig, ts, data, w))
    }

    fn tcp_gap(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, len: u64) -> Verdict {
        self.note_ts(ts);
        self.with_session(c, |s, w| s.gap(is_orig, ts, len, w))
    }

    fn udp_datagram(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.note_ts(ts);
        if !self.detect(c, data) {
            // STUN and other packets before the first DTLS hello keep the flow under watch.
            return match self.conns.get(&c.handle) {
                Some(ConnState::Detecting { .. }) => Verdict::Continue,
                _ => Verdict::Stop,
            };
        }
        self.with_session(c, |s, w| s.datagram(is_orig, ts, data, w))
    }

    fn connection_end(&mut self, c: &ConnInfo, ts: f64, _reason: EndReason) {
        self.note_ts(ts);
        if let Some(ConnState::Ssl(mut session)) = self.conns.remove(&c.handle) {
            let mut writers = crate::session::Writers {
                events: self.events.as_mut().map(|(w, _)| w),
                log: self.log.as_mut().map(|(w, _)| w),
                log_open_ts: self.first_ts.unwrap_or(0.0),
                events_written: &mut self.summary.events,
                rows_written: &mut self.summary.log_rows,
            };
            session.end(ts, &mut writers);
            self.flush();
        }
    }
}

/// Formats a run's time for the `#open`/`#close` lines (kept here so the CLI need not know
/// the log module).
pub fn log_time(ts: f64) -> String {
    format_log_time(ts)
}
