//! Event output: one line per Zeek event, as JSON Lines or as readable text.
//!
//! In: the connection's identity ([`ConnId`] + uid string), a timestamp, an event name and the
//! event's arguments reported through [`pac_runtime::ValueSink`] (the generated
//! `SslEvent::visit` drives it), plus weirds and analyzer violations, confirmations and removals. Out: bytes appended to a
//! reusable buffer that the caller flushes to any `std::io::Write`.
//!
//! [`json::JsonEventWriter`] reproduces the lines of Zeek's JSON rendering as found in
//! `conformance/zeek-live/*.events.json`; [`text::TextEventWriter`] is for humans;
//! [`stream::EventOutput`] is a run's event stream in either format.
//! Every writer notes where it put each connection uid ([`UidMark`]), for sharded runs.
//! [`escape`] holds the value renderings (Zeek's string escaping, Zeek's doubles) shared with the
//! ssl.log writers.

pub mod escape;
pub mod json;
pub mod stream;
pub mod text;

use pac_runtime::ValueSink;

/// The connection's endpoints, as the capture layer found them (Zeek's `conn_id`).
pub use crate::capture::ConnId;
pub use json::JsonEventWriter;
pub use stream::{EventFormat, EventOutput, EVENT_FLUSH_BYTES};
pub use text::TextEventWriter;

/// Where a writer put a connection's uid in its buffer: (byte offset, length). The writers note
/// every uid they write so that a sharded run can put the run's uid there while merging,
/// without looking for uids in the text (`run::sharded`).
pub type UidMark = (usize, usize);

/// What the JSON and the text writer have in common: a line is a header (time, connection,
/// event name), the arguments through [`ValueSink`], and an end. The lines the analyzer writes
/// besides Zeek's `ssl_*` events are built here once, for both formats.
pub trait EventLines: ValueSink {
    /// Starts the line of an event of a connection.
    fn begin_event(&mut self, ts: f64, uid: &str, id: &ConnId, event: &str);

    /// Starts the line of an event that belongs to no connection (`net_weird`).
    fn begin_net_event(&mut self, ts: f64, event: &str);

    /// Ends the line started by `begin_event` or `begin_net_event`.
    fn end_event(&mut self);

    /// Notes a uid of `len` bytes that the next value written starts with (behind its opening
    /// quote): a weird's `addl` that names the connection (see [`UidMark`]).
    fn mark_uid_in_next_string(&mut self, len: usize);

    /// Writes one whole event line whose arguments `visit` reports.
    fn event(
        &mut self,
        ts: f64,
        uid: &str,
        id: &ConnId,
        event: &str,
        visit: impl FnOnce(&mut dyn ValueSink),
    ) where
        Self: Sized,
    {
        self.begin_event(ts, uid, id, event);
        visit(self);
        self.end_event();
    }

    /// Writes a `conn_weird` line: `name`, `addl`, `source`.
    fn conn_weird(
        &mut self,
        ts: f64,
        uid: &str,
        id: &ConnId,
        name: &str,
        addl: &[u8],
        source: &str,
    ) {
        self.begin_event(ts, uid, id, CONN_WEIRD_EVENT);
        // The capture layer's text of a few weirds starts with the connection's uid.
        let addl_uid = crate::capture::weird::addl_uid_prefix(name, uid, addl);
        self.weird_args(name, addl, addl_uid, source);
    }

    /// Writes a `net_weird` line, a weird that belongs to no connection (pcapng blocks, IP
    /// fragments, link layers): no `uid` and `id`, as Zeek's `net_weird(name, addl, source)`
    /// has no connection.
    fn net_weird(&mut self, ts: f64, name: &str, addl: &[u8], source: &str) {
        self.begin_net_event(ts, NET_WEIRD_EVENT);
        self.weird_args(name, addl, 0, source);
    }

    /// A weird's arguments, then the end of the line; `addl` starts with a uid of `addl_uid`
    /// bytes (0: none).
    fn weird_args(&mut self, name: &str, addl: &[u8], addl_uid: usize, source: &str) {
        self.field("name");
        self.string(name.as_bytes());
        self.field("addl");
        if addl_uid > 0 {
            self.mark_uid_in_next_string(addl_uid);
        }
        self.string(addl);
        self.field("source");
        self.string(source.as_bytes());
        self.end_event();
    }

    /// Writes an `analyzer_violation_info` line: `atype` ([`ANALYZER_SSL`] or
    /// [`ANALYZER_DTLS`]) and `reason`.
    fn analyzer_violation(&mut self, ts: f64, uid: &str, id: &ConnId, atype: &str, reason: &[u8]) {
        self.begin_event(ts, uid, id, VIOLATION_EVENT);
        self.field("atype");
        self.string(atype.as_bytes());
        self.field("reason");
        self.string(reason);
        self.end_event();
    }

    /// Writes an `analyzer_confirmation_info` line: `atype`.
    fn analyzer_confirmation(&mut self, ts: f64, uid: &str, id: &ConnId, atype: &str) {
        self.analyzer_line(ts, uid, id, CONFIRMATION_EVENT, atype);
    }

    /// Writes an `analyzer_disabled` line (see [`DISABLED_EVENT`]): `atype`.
    fn analyzer_disabled(&mut self, ts: f64, uid: &str, id: &ConnId, atype: &str) {
        self.analyzer_line(ts, uid, id, DISABLED_EVENT, atype);
    }

    /// A line whose only argument is the analyzer's `atype`.
    fn analyzer_line(&mut self, ts: f64, uid: &str, id: &ConnId, event: &str, atype: &str) {
        self.begin_event(ts, uid, id, event);
        self.field("atype");
        self.string(atype.as_bytes());
        self.end_event();
    }
}

/// `atype` of SSL analyzer violations, as Zeek names the analyzer tag.
pub const ANALYZER_SSL: &str = "Analyzer::ANALYZER_SSL";
/// `atype` of DTLS analyzer violations.
pub const ANALYZER_DTLS: &str = "Analyzer::ANALYZER_DTLS";
/// Zeek's tag of its QUIC analyzer.
pub const ANALYZER_QUIC: &str = "Analyzer::ANALYZER_QUIC";
/// Event name under which weirds appear in the event stream.
pub const CONN_WEIRD_EVENT: &str = "conn_weird";
/// Event name under which weirds that belong to no connection appear (Zeek's `net_weird`).
pub const NET_WEIRD_EVENT: &str = "net_weird";
/// Event name under which analyzer violations appear in the event stream.
pub const VIOLATION_EVENT: &str = "analyzer_violation_info";
/// Event name under which analyzer confirmations appear in the event stream.
pub const CONFIRMATION_EVENT: &str = "analyzer_confirmation_info";
/// Event name under which the removal of the analyzer from a connection (after
/// `ssl_established` or a violation) appears in the event stream. Zeek has no such event; this
/// line stands for the `disabled` record of Zeek's analyzer debug log
/// (`policy/frameworks/analyzer/debug-logging.zeek`).
pub const DISABLED_EVENT: &str = "analyzer_disabled";
