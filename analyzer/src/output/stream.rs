//! A run's event stream: event lines formatted in the requested [`EventFormat`] and handed to
//! the run's writer.
//!
//! In: events, weirds and analyzer lines with their connection ([`ConnId`] + uid). Out: bytes
//! written to the caller's `std::io::Write` whenever [`EventOutput::flush`] is called, and also
//! in the middle of a delivery once [`EVENT_FLUSH_BYTES`] are formatted; the number of lines;
//! the first write error (after which lines are still formatted and dropped, and the caller
//! stops analysing).

use std::io::{self, Write};

use pac_runtime::ValueSink;

use super::{ConnId, EventLines, JsonEventWriter, TextEventWriter, UidMark};

/// How events are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// One readable line per event.
    Text,
    /// JSON Lines in the shape of Zeek's JSON logs.
    Json,
}

/// Bytes of formatted event lines held before they are handed to the output, also in the
/// middle of a delivery: one delivery can raise millions of events (a TLS 1.3 ChangeCipherSpec
/// record raises one per byte), and holding them all was robustness finding F2 (402 MiB for a
/// 1 MB capture).
pub const EVENT_FLUSH_BYTES: usize = 64 << 10;

/// The line formatter of the requested format.
enum Lines {
    Text(TextEventWriter),
    Json(JsonEventWriter),
}

/// Where a run's output goes: the caller's writer, the lines (or rows) formatted for it so
/// far, and the first error writing it.
pub struct Destination<'w> {
    out: &'w mut dyn Write,
    written: u64,
    error: Option<io::Error>,
    /// Told, before each write, where the uids are in the bytes written (sharded runs).
    uids: Option<UidSink<'w>>,
}

/// Takes the [`UidMark`]s of the bytes about to be written, relative to their start.
pub type UidSink<'w> = Box<dyn FnMut(&[UidMark]) + 'w>;

impl<'w> Destination<'w> {
    /// Output to `out`.
    pub fn new(out: &'w mut dyn Write) -> Self {
        Destination {
            out,
            written: 0,
            error: None,
            uids: None,
        }
    }

    /// From now on, tells `sink` where the uids are in what is written.
    pub fn set_uid_sink(&mut self, sink: UidSink<'w>) {
        self.uids = Some(sink);
    }

    /// Tells the uid sink, if any, where the uids are in the bytes written next.
    pub fn mark_uids(&mut self, marks: &[UidMark]) {
        if let Some(sink) = self.uids.as_mut() {
            sink(marks);
        }
    }

    /// Counts a line (or row) formatted.
    pub fn count(&mut self) {
        self.written += 1;
    }

    /// Lines (or rows) formatted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Whether writing to the output failed (nobody reads it any more, e.g. `| head`).
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// The first write error, if any.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Runs `flush` on the writer; remembers the first error.
    pub fn write(&mut self, flush: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if let Err(e) = flush(&mut *self.out) {
            self.error.get_or_insert(e);
        }
    }
}

/// The event lines of a run and where they go; see the module docs.
pub struct EventOutput<'w> {
    lines: Lines,
    /// Where the lines go, and how many there were.
    pub dest: Destination<'w>,
}

impl<'w> EventOutput<'w> {
    /// Lines in `format`, written to `out`.
    pub fn new(format: EventFormat, out: &'w mut dyn Write) -> Self {
        let lines = match format {
            EventFormat::Text => Lines::Text(TextEventWriter::new()),
            EventFormat::Json => Lines::Json(JsonEventWriter::new()),
        };
        EventOutput {
            lines,
            dest: Destination::new(out),
        }
    }

    /// One event line whose arguments `visit` reports (the hot path: no dynamic dispatch).
    pub fn event(
        &mut self,
        ts: f64,
        uid: &str,
        id: &ConnId,
        name: &str,
        visit: impl FnOnce(&mut dyn ValueSink),
    ) {
        match &mut self.lines {
            Lines::Text(t) => t.event(ts, uid, id, name, visit),
            Lines::Json(j) => j.event(ts, uid, id, name, visit),
        }
        self.line_done();
    }

    /// One line written by `write` through [`EventLines`] (weirds, analyzer lines).
    pub fn line(&mut self, write: impl FnOnce(&mut dyn EventLines)) {
        match &mut self.lines {
            Lines::Text(t) => write(t),
            Lines::Json(j) => write(j),
        }
        self.line_done();
    }

    /// Moves the formatted lines to the output; remembers the first error.
    pub fn flush(&mut self) {
        self.dest.mark_uids(match &self.lines {
            Lines::Text(t) => t.uid_marks(),
            Lines::Json(j) => j.uid_marks(),
        });
        let lines = &mut self.lines;
        self.dest.write(|out| match lines {
            Lines::Text(t) => t.flush_to(out),
            Lines::Json(j) => j.flush_to(out),
        });
    }

    /// Counts a line just formatted, and hands the buffered lines to the output once they pass
    /// [`EVENT_FLUSH_BYTES`], so that a delivery raising millions of events (F2) holds no more
    /// than that.
    fn line_done(&mut self) {
        self.dest.count();
        let buffered = match &self.lines {
            Lines::Text(t) => t.buffer().len(),
            Lines::Json(j) => j.buffer().len(),
        };
        if buffered >= EVENT_FLUSH_BYTES {
            self.flush();
        }
    }
}

#[cfg(test)]
mod uid_mark_tests {
    use super::*;
    use crate::capture::weird::{connection_table_full_addl, CONNECTION_TABLE_FULL};

    const UID: &str = "CAbcdefgh1234567";

    fn conn() -> ConnId {
        ConnId {
            orig_h: std::net::Ipv4Addr::new(10, 0, 0, 1).into(),
            orig_p: 40001,
            resp_h: std::net::Ipv4Addr::new(10, 0, 0, 2).into(),
            resp_p: 443,
        }
    }

    /// Every mark covers exactly the uid; `expected` marks in all.
    fn assert_marks(buf: &[u8], marks: &[UidMark], expected: usize) {
        assert_eq!(marks.len(), expected, "{}", String::from_utf8_lossy(buf));
        for &(at, len) in marks {
            assert_eq!(buf.get(at..at + len), Some(UID.as_bytes()));
        }
    }

    /// An event, a connection_table_full weird (the uid also in its text), a weird whose text
    /// only looks like a uid, and a net_weird: four uids noted, none in payload or `-`.
    fn write_lines(l: &mut dyn EventLines) {
        l.begin_event(1.5, UID, &conn(), "ssl_client_hello");
        l.field("server_name");
        l.string(UID.as_bytes());
        l.end_event();
        let addl = connection_table_full_addl(UID);
        l.conn_weird(
            2.0,
            UID,
            &conn(),
            CONNECTION_TABLE_FULL,
            addl.as_bytes(),
            "TCP",
        );
        l.conn_weird(
            2.5,
            UID,
            &conn(),
            "rexmit_inconsistency",
            addl.as_bytes(),
            "TCP",
        );
        l.net_weird(3.0, "truncated_IP", UID.as_bytes(), "");
    }

    #[test]
    fn event_writers_note_where_uids_go() {
        let mut text = TextEventWriter::new();
        write_lines(&mut text);
        assert_marks(text.buffer(), text.uid_marks(), 4);
        let mut json = JsonEventWriter::new();
        write_lines(&mut json);
        assert_marks(json.buffer(), json.uid_marks(), 4);
        let mut sink: Vec<u8> = Vec::new();
        assert!(json.flush_to(&mut sink).is_ok());
        assert!(json.uid_marks().is_empty());
    }
}
