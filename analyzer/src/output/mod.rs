//! Event output: one line per Zeek event, as JSON Lines or as readable text.
//!
//! In: the connection's identity ([`ConnId`] + uid string), a timestamp, an event name and the
//! event's arguments reported through [`pac_runtime::ValueSink`] (the generated
//! `SslEvent::visit` drives it), plus weirds and analyzer violations, confirmations and removals. Out: bytes appended to a
//! reusable buffer that the caller flushes to any `std::io::Write`.
//!
//! [`json::JsonEventWriter`] reproduces the lines of Zeek's JSON rendering as found in
//! `conformance/zeek-live/*.events.json`; [`text::TextEventWriter`] is for humans.
//! [`escape`] holds the value renderings (Zeek's string escaping, Zeek's doubles) shared with the
//! ssl.log writers.

pub mod escape;
pub mod json;
pub mod text;

use std::net::IpAddr;

pub use json::JsonEventWriter;
pub use text::TextEventWriter;

/// The connection 4-tuple as Zeek's `conn_id` shows it (the capture layer converts its own
/// connection key into this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    /// Originator address (the side that sent the first packet).
    pub orig_h: IpAddr,
    /// Originator port.
    pub orig_p: u16,
    /// Responder address.
    pub resp_h: IpAddr,
    /// Responder port.
    pub resp_p: u16,
}

/// `atype` of SSL analyzer violations, as Zeek names the analyzer tag.
pub const ANALYZER_SSL: &str = "Analyzer::ANALYZER_SSL";
/// `atype` of DTLS analyzer violations.
pub const ANALYZER_DTLS: &str = "Analyzer::ANALYZER_DTLS";
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
