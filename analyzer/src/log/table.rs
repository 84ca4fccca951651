//! What every Zeek log file this crate writes besides ssl.log shares: the TSV header written
//! before the first row (none without rows, as Zeek), the `#close` footer, the JSON Lines
//! alternative, buffering and the first I/O error; and the `ts`, `uid`, `id.*` columns that
//! start a connection's row.
//!
//! In: rows formatted by the log's own writer into [`TableLog::row`]'s buffer. Out: the bytes,
//! on [`TableLog::flush`], to the caller's writer.

use std::io::Write;

use super::stream::LogFormat;
use super::writer::{format_log_time, json_key, sep, tsv_header, tsv_str};
use crate::capture::ConnId;
use crate::output::escape::{fixed6, json_double, json_string, push_addr, push_u64};
use crate::output::stream::Destination;

/// One log file: its name and columns, format, buffer and destination.
pub struct TableLog<'w> {
    format: LogFormat,
    path: &'static str,
    fields: &'static [&'static str],
    types: &'static [&'static str],
    buf: Vec<u8>,
    header_written: bool,
    open_ts: f64,
    /// Where the rows go, and how many there were.
    pub dest: Destination<'w>,
}

impl<'w> TableLog<'w> {
    /// The log `path` (`quic` for quic.log) with Zeek's `fields` and `types`, in `format`,
    /// written to `out`.
    pub fn new(
        format: LogFormat,
        path: &'static str,
        fields: &'static [&'static str],
        types: &'static [&'static str],
        out: &'w mut dyn Write,
    ) -> Self {
        TableLog {
            format,
            path,
            fields,
            types,
            buf: Vec::new(),
            header_written: false,
            open_ts: 0.0,
            dest: Destination::new(out),
        }
    }

    /// Sets the time the TSV header's `#open` shows (the run's first timestamp).
    pub fn set_open_ts(&mut self, ts: f64) {
        self.open_ts = ts;
    }

    /// Formats one row with `write` (given the buffer and the format), after the TSV header
    /// the first time.
    pub fn row(&mut self, write: impl FnOnce(&mut Vec<u8>, LogFormat)) {
        if self.format == LogFormat::Tsv && !self.header_written {
            tsv_header(
                &mut self.buf,
                self.path,
                self.open_ts,
                self.fields,
                self.types,
            );
            self.header_written = true;
        }
        write(&mut self.buf, self.format);
        self.dest.count();
    }

    /// Formats the TSV footer (`#close` at `close_ts`) if a row was written.
    pub fn footer(&mut self, close_ts: f64) {
        if self.header_written {
            let _ = writeln!(self.buf, "#close\t{}", format_log_time(close_ts));
        }
    }

    /// Ends the current file at `now` (the TSV footer, if a row was written) and starts the
    /// next one opened at `now` (log rotation; see [`crate::log::LogOutput::rotate`]).
    pub fn rotate(&mut self, now: f64) {
        self.footer(now);
        self.header_written = false;
        self.open_ts = now;
    }

    /// Flushes the writer itself (a live run's rows reach their readers while it runs).
    pub fn flush_writer(&mut self) {
        self.dest.write(|w| w.flush());
    }

    /// Moves the formatted rows to the output; remembers the first error.
    pub fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let buf = &mut self.buf;
        self.dest.write(|out| {
            let r = out.write_all(buf);
            buf.clear();
            r
        });
    }
}

/// The `ts`, `uid` and `id.*` cells that start a connection's TSV row, each followed by the
/// separator.
pub fn tsv_conn(b: &mut Vec<u8>, ts: f64, uid: &str, id: &ConnId) {
    fixed6(b, ts);
    sep(b);
    tsv_str(b, uid.as_bytes());
    sep(b);
    push_addr(b, id.orig_h);
    sep(b);
    push_u64(b, u64::from(id.orig_p));
    sep(b);
    push_addr(b, id.resp_h);
    sep(b);
    push_u64(b, u64::from(id.resp_p));
    sep(b);
}

/// The opening of a connection's JSON row: `{"ts":…,"uid":…,"id.orig_h":…,…,"id.resp_p":…`.
pub fn json_conn(b: &mut Vec<u8>, ts: f64, uid: &str, id: &ConnId) {
    b.extend_from_slice(b"{\"ts\":");
    json_double(b, ts);
    json_key(b, "uid");
    json_string(b, uid.as_bytes());
    b.extend_from_slice(b",\"id.orig_h\":\"");
    push_addr(b, id.orig_h);
    b.extend_from_slice(b"\",\"id.orig_p\":");
    push_u64(b, u64::from(id.orig_p));
    b.extend_from_slice(b",\"id.resp_h\":\"");
    push_addr(b, id.resp_h);
    b.extend_from_slice(b"\",\"id.resp_p\":");
    push_u64(b, u64::from(id.resp_p));
}
