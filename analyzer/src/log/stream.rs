//! A run's ssl.log: rows formatted in the requested [`LogFormat`] and handed to the run's
//! writer, and what every connection's log builder shares ([`LogShared`]).
//!
//! In: [`SslLogRow`]s as connections finish, the run's first and last timestamps. Out: bytes
//! written to the caller's `std::io::Write` when [`LogOutput::flush`] is called; the TSV header
//! before the first row and the footer at the end only if a row was written (Zeek writes no
//! log at all without a first write); the number of rows; the first write error.

use std::io::Write;

use super::builder::{SslLogRow, SslLogState, MAX_SSL_HISTORY_LENGTH};
use super::cert_cache::CertCache;
use super::names::NameTables;
use super::writer::{JsonLogWriter, OptionalColumns, TsvLogWriter};
use crate::output::stream::Destination;

/// How ssl.log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Zeek's tab-separated ASCII log with its header and footer lines.
    Tsv,
    /// JSON Lines with Zeek's field names.
    Json,
}

/// The row formatter of the requested format.
enum Rows {
    Tsv {
        w: TsvLogWriter,
        header_written: bool,
    },
    Json(JsonLogWriter),
}

/// The ssl.log of a run and where it goes; see the module docs.
pub struct LogOutput<'w> {
    rows: Rows,
    /// The time `#open` shows: the run's first timestamp.
    open_ts: f64,
    /// Where the rows go, and how many there were.
    pub dest: Destination<'w>,
}

impl<'w> LogOutput<'w> {
    /// ssl.log in `format` with the optional `columns`, written to `out`.
    pub fn new(format: LogFormat, columns: OptionalColumns, out: &'w mut dyn Write) -> Self {
        let rows = match format {
            LogFormat::Tsv => Rows::Tsv {
                w: TsvLogWriter::with_columns(columns),
                header_written: false,
            },
            LogFormat::Json => Rows::Json(JsonLogWriter::with_columns(columns)),
        };
        LogOutput {
            rows,
            open_ts: 0.0,
            dest: Destination::new(out),
        }
    }

    /// Sets the time the TSV header's `#open` shows (the run's first timestamp).
    pub fn set_open_ts(&mut self, ts: f64) {
        self.open_ts = ts;
    }

    /// Formats one row (after the TSV header, the first time).
    pub fn row(&mut self, row: &SslLogRow) {
        match &mut self.rows {
            Rows::Tsv { w, header_written } => {
                if !*header_written {
                    w.header(self.open_ts);
                    *header_written = true;
                }
                w.row(row);
            }
            Rows::Json(j) => j.row(row),
        }
        self.dest.count();
    }

    /// Formats the TSV footer (`#close` at `close_ts`) if a row was written.
    pub fn footer(&mut self, close_ts: f64) {
        if let Rows::Tsv {
            w,
            header_written: true,
        } = &mut self.rows
        {
            w.footer(close_ts);
        }
    }

    /// Ends the current file at `now` (the TSV footer, if a row was written) and starts the
    /// next one opened at `now`: its first row brings a new header (log rotation, `--rotate`).
    /// The caller flushes, then closes and renames the file, before the next row is written.
    pub fn rotate(&mut self, now: f64) {
        self.footer(now);
        if let Rows::Tsv { header_written, .. } = &mut self.rows {
            *header_written = false;
        }
        self.open_ts = now;
    }

    /// Moves the formatted rows to the output; remembers the first error.
    pub fn flush(&mut self) {
        self.dest.mark_uids(match &self.rows {
            Rows::Tsv { w, .. } => w.uid_marks(),
            Rows::Json(j) => j.uid_marks(),
        });
        let rows = &mut self.rows;
        self.dest.write(|out| match rows {
            Rows::Tsv { w, .. } => w.flush_to(out),
            Rows::Json(j) => j.flush_to(out),
        });
    }
}

/// What every connection's ssl.log builder shares: the run's log options and the facts of the
/// certificates seen so far. Needed whether or not ssl.log is written, since the builder also
/// raises weirds (the history limit) into the event stream.
#[derive(Debug)]
pub struct LogShared {
    /// Zeek's `SSL::max_ssl_history_length`.
    pub max_history: usize,
    /// ssl.log's optional columns.
    pub columns: OptionalColumns,
    /// Certificates seen on earlier connections.
    pub certs: CertCache,
}

impl Default for LogShared {
    fn default() -> Self {
        LogShared::new(MAX_SSL_HISTORY_LENGTH, OptionalColumns::default())
    }
}

impl LogShared {
    /// Builders limited to `max_history` letters, writing `columns`.
    pub fn new(max_history: usize, columns: OptionalColumns) -> Self {
        LogShared {
            max_history,
            columns,
            certs: CertCache::new(),
        }
    }

    /// A connection's builder, started at `ts` (Zeek's `set_session`).
    pub fn builder(&self, ts: f64) -> SslLogState {
        SslLogState::new(ts, NameTables::default())
            .with_max_history(self.max_history)
            .with_columns(self.columns)
    }
}
