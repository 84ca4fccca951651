//! JSON Lines event writer, line for line like `conformance/zeek-live/*.events.json`.
//!
//! In: per event the timestamp, uid, [`ConnId`], event name, then the arguments through
//! [`ValueSink`]; or a weird / an analyzer violation. Out: one line per event appended to an
//! internal byte buffer:
//! `{"ts":1.5,"uid":"C..","id":{"orig_h":..,"orig_p":..,"resp_h":..,"resp_p":..},"event":"..","args":{..}}`.
//! Values are written straight into the buffer (no intermediate JSON tree): this is the hot path.

use std::io::{self, Write};

use pac_runtime::ValueSink;

use super::escape::{json_double, json_string, push_addr, push_u64};
use super::{ConnId, EventLines, UidMark};

/// Writes events as JSON Lines into a reusable buffer; see the module docs.
#[derive(Debug, Default)]
pub struct JsonEventWriter {
    buf: Vec<u8>,
    /// One entry per open object/array: whether nothing has been written into it yet, and the
    /// byte that closes it.
    open: Vec<(bool, u8)>,
    /// A `field` call wrote a key; the next value belongs to it and needs no comma.
    after_key: bool,
    /// Where uids of connections went into `buf`.
    uids: Vec<UidMark>,
}

impl JsonEventWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`JsonEventWriter::begin_event`], with `uid` and `id` only for an event of a connection.
    fn begin_line(&mut self, ts: f64, conn: Option<(&str, &ConnId)>, event: &str) {
        self.open.clear();
        self.after_key = false;
        let b = &mut self.buf;
        b.extend_from_slice(b"{\"ts\":");
        json_double(b, ts);
        if let Some((uid, id)) = conn {
            b.extend_from_slice(b",\"uid\":");
            // Behind the opening quote: a uid is base62, which JSON does not escape.
            let at = b.len() + 1;
            json_string(b, uid.as_bytes());
            b.extend_from_slice(b",\"id\":{\"orig_h\":\"");
            push_addr(b, id.orig_h);
            b.extend_from_slice(b"\",\"orig_p\":");
            push_u64(b, u64::from(id.orig_p));
            b.extend_from_slice(b",\"resp_h\":\"");
            push_addr(b, id.resp_h);
            b.extend_from_slice(b"\",\"resp_p\":");
            push_u64(b, u64::from(id.resp_p));
            b.push(b'}');
            self.uids.push((at, uid.len()));
        }
        let b = &mut self.buf;
        b.extend_from_slice(b",\"event\":");
        json_string(b, event.as_bytes());
        b.extend_from_slice(b",\"args\":{");
        self.open.push((true, b'}'));
    }

    /// The bytes written so far.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Where the uids of connections are in [`Self::buffer`] (see [`UidMark`]).
    pub fn uid_marks(&self) -> &[UidMark] {
        &self.uids
    }

    /// Forgets the bytes written so far, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.uids.clear();
    }

    /// Writes the buffered lines to `w` and empties the buffer.
    pub fn flush_to<W: Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(&self.buf)?;
        self.clear();
        Ok(())
    }

    /// Writes the comma that separates this value from the previous one, unless it follows a key.
    fn before_value(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        self.separate();
    }

    fn separate(&mut self) {
        if let Some((first, _)) = self.open.last_mut() {
            if *first {
                *first = false;
            } else {
                self.buf.push(b',');
            }
        }
    }
}

impl EventLines for JsonEventWriter {
    /// Starts an event line: writes everything up to and including `"args":{`. Arguments follow
    /// through the [`ValueSink`] methods; [`JsonEventWriter::end_event`] closes the line.
    fn begin_event(&mut self, ts: f64, uid: &str, id: &ConnId, event: &str) {
        self.begin_line(ts, Some((uid, id)), event);
    }

    fn mark_uid_in_next_string(&mut self, len: usize) {
        // `string` writes the opening quote first (a value that follows its key needs no
        // comma).
        self.uids.push((self.buf.len() + 1, len));
    }

    fn begin_net_event(&mut self, ts: f64, event: &str) {
        self.begin_line(ts, None, event);
    }

    /// Closes the line opened by [`JsonEventWriter::begin_event`] (and any container a broken
    /// visitor left open, so the line stays valid JSON).
    fn end_event(&mut self) {
        // An unbalanced visitor would leave containers open: close them so the line stays valid.
        while self.open.len() > 1 {
            if let Some((_, closer)) = self.open.pop() {
                self.buf.push(closer);
            }
        }
        self.open.clear();
        self.buf.extend_from_slice(b"}}\n");
    }
}

impl ValueSink for JsonEventWriter {
    fn field(&mut self, name: &'static str) {
        self.separate();
        json_string(&mut self.buf, name.as_bytes());
        self.buf.push(b':');
        self.after_key = true;
    }

    fn count(&mut self, v: u64) {
        self.before_value();
        push_u64(&mut self.buf, v);
    }

    fn int(&mut self, v: i64) {
        self.before_value();
        let _ = write!(self.buf, "{v}");
    }

    fn double(&mut self, v: f64) {
        self.before_value();
        json_double(&mut self.buf, v);
    }

    fn boolean(&mut self, v: bool) {
        self.before_value();
        self.buf
            .extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
    }

    fn string(&mut self, v: &[u8]) {
        self.before_value();
        json_string(&mut self.buf, v);
    }

    fn time(&mut self, secs: f64) {
        self.before_value();
        json_double(&mut self.buf, secs);
    }

    fn begin_vector(&mut self) {
        self.before_value();
        self.buf.push(b'[');
        self.open.push((true, b']'));
    }

    fn end_vector(&mut self) {
        self.open.pop();
        self.buf.push(b']');
    }

    fn begin_record(&mut self, _type_name: &'static str) {
        self.before_value();
        self.buf.push(b'{');
        self.open.push((true, b'}'));
    }

    fn end_record(&mut self) {
        self.open.pop();
        self.buf.push(b'}');
    }
}
