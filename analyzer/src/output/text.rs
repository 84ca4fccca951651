//! Readable event writer: one line per event, `ts uid event name=value ...`.
//!
//! In: the same calls as [`super::JsonEventWriter`] (timestamp, uid, event name, arguments through
//! [`ValueSink`]). Out: lines such as
//! `1357328848.549370 Cp02TY3r6HRtlFYRK2 ssl_extension is_client=T code=11 val="\x03\x00\x01\x02"`
//! appended to an internal buffer. Times use Zeek's log rendering (six decimals), booleans `T`/`F`,
//! strings are quoted with Zeek's `\xNN` escaping, vectors `[a,b]`, records `{name=value,..}`.

use std::io::{self, Write};

use pac_runtime::ValueSink;

use super::escape::{fixed6, push_u64};
use super::{ConnId, EventLines, UidMark};

/// Writes events as text lines into a reusable buffer; see the module docs.
#[derive(Debug, Default)]
pub struct TextEventWriter {
    buf: Vec<u8>,
    /// One entry per open vector/record: `true` while nothing has been written into it yet.
    first: Vec<bool>,
    after_key: bool,
    /// Where uids of connections went into `buf`.
    uids: Vec<UidMark>,
}

impl TextEventWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
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

    /// Starts a line: `ts uid event`, `-` for the uid of a line without a connection.
    fn begin_line(&mut self, ts: f64, uid: Option<&str>, event: &str) {
        self.first.clear();
        self.after_key = false;
        fixed6(&mut self.buf, ts);
        self.buf.push(b' ');
        match uid {
            Some(uid) => {
                self.uids.push((self.buf.len(), uid.len()));
                self.buf.extend_from_slice(uid.as_bytes());
            }
            None => self.buf.push(b'-'),
        }
        self.buf.push(b' ');
        self.buf.extend_from_slice(event.as_bytes());
    }

    fn before_value(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        self.separate();
    }

    fn separate(&mut self) {
        match self.first.last_mut() {
            Some(first) if *first => *first = false,
            Some(_) => self.buf.push(b','),
            // Top level: arguments are separated by spaces.
            None => self.buf.push(b' '),
        }
    }
}

impl EventLines for TextEventWriter {
    /// Starts a line with `ts uid event`; arguments follow as ` name=value`.
    fn begin_event(&mut self, ts: f64, uid: &str, _id: &ConnId, event: &str) {
        self.begin_line(ts, Some(uid), event);
    }

    fn mark_uid_in_next_string(&mut self, len: usize) {
        // `string` writes the opening quote first (a value that follows its key needs no
        // separator).
        self.uids.push((self.buf.len() + 1, len));
    }

    /// `-` where the uid goes.
    fn begin_net_event(&mut self, ts: f64, event: &str) {
        self.begin_line(ts, None, event);
    }

    /// Ends the line.
    fn end_event(&mut self) {
        self.first.clear();
        self.buf.push(b'\n');
    }
}

impl ValueSink for TextEventWriter {
    fn field(&mut self, name: &'static str) {
        self.separate();
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(b'=');
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
        let _ = write!(self.buf, "{v}");
    }

    fn boolean(&mut self, v: bool) {
        self.before_value();
        self.buf.push(if v { b'T' } else { b'F' });
    }

    fn string(&mut self, v: &[u8]) {
        self.before_value();
        self.buf.push(b'"');
        for &b in v {
            match b {
                b'"' => self.buf.extend_from_slice(b"\\\""),
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                0x20..=0x7e => self.buf.push(b),
                _ => {
                    let _ = write!(self.buf, "\\x{b:02x}");
                }
            }
        }
        self.buf.push(b'"');
    }

    fn time(&mut self, secs: f64) {
        self.before_value();
        fixed6(&mut self.buf, secs);
    }

    fn begin_vector(&mut self) {
        self.before_value();
        self.buf.push(b'[');
        self.first.push(true);
    }

    fn end_vector(&mut self) {
        self.first.pop();
        self.buf.push(b']');
    }

    fn begin_record(&mut self, _type_name: &'static str) {
        self.before_value();
        self.buf.push(b'{');
        self.first.push(true);
    }

    fn end_record(&mut self) {
        self.first.pop();
        self.buf.push(b'}');
    }
}
