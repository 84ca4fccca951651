//! One SSL connection's analysis and its outputs.
//!
//! In: the connection's payload (from [`crate::run::Pipeline`]). Out: event lines (weirds and
//! violations included) and, once per connection, an ssl.log row. The [`SslAnalyzer`] raises
//! events; a [`Session`] prints them and feeds the ones ssl.log needs to an [`SslLogBuilder`],
//! the way Zeek's `base/protocols/ssl/main.zeek` builds `ssl.log` from the same events.

use pac_runtime::ValueSink;

use crate::log::{names::NameTables, LogTrigger, SslLogBuilder};
use crate::output::{ConnId, ANALYZER_DTLS, ANALYZER_SSL};
use crate::run::{EventWriter, LogWriter, RunOptions};
use crate::ssl::{Analyzer, Config, Event, EventSink, SslAnalyzer, StateEvent};

/// Source named in `conn_weird` lines raised by the SSL analyzer.
const WEIRD_SOURCE_SSL: &str = "SSL";

/// The writers a session writes into, borrowed from the pipeline for one call.
pub struct Writers<'p> {
    pub(crate) events: Option<&'p mut EventWriter>,
    pub(crate) log: Option<&'p mut LogWriter>,
    pub(crate) log_open_ts: f64,
    pub(crate) events_written: &'p mut u64,
    pub(crate) rows_written: &'p mut u64,
}

/// One connection handed to the SSL analyzer.
pub struct Session {
    uid: String,
    id: ConnId,
    analyzer: SslAnalyzer,
    log: Option<SslLogBuilder>,
    max_history: usize,
}

impl Session {
    /// A session for the connection `uid`/`id`.
    pub fn new(uid: String, id: ConnId, opts: &RunOptions) -> Self {
        let config: Config = opts.ssl;
        Session {
            uid,
            id,
            analyzer: SslAnalyzer::new(config),
            log: None,
            max_history: opts.max_ssl_history_length,
        }
    }

    /// Whether the analyzer wants no more data.
    pub fn is_done(&self) -> bool {
        self.analyzer.is_done()
    }

    /// TCP payload of one direction.
    pub fn deliver(&mut self, is_orig: bool, ts: f64, data: &[u8], w: &mut Writers<'_>) {
        let Session { analyzer, .. } = self;
        let mut sink = Sink {
            uid: &self.uid,
            id: &self.id,
            log: &mut self.log,
            max_history: self.max_history,
            w,
        };
        analyzer.deliver(is_orig, ts, data, &mut sink);
    }

    /// A content gap in one direction.
    pub fn gap(&mut self, is_orig: bool, ts: f64, len: u64, w: &mut Writers<'_>) {
        let mut sink = Sink {
            uid: &self.uid,
            id: &self.id,
            log: &mut self.log,
            max_history: self.max_history,
            w,
        };
        let _ = ts;
        self.analyzer.gap(is_orig, len, &mut sink);
    }

    /// One UDP datagram.
    pub fn datagram(&mut self, is_orig: bool, ts: f64, data: &[u8], w: &mut Writers<'_>) {
        let mut sink = Sink {
            uid: &self.uid,
            id: &self.id,
            log: &mut self.log,
            max_history: self.max_history,
            w,
        };
        self.analyzer.datagram(is_orig, ts, data, &mut sink);
    }

    /// The connection ended at `ts`: flush the analyzer and write the row if not yet written.
    pub fn end(&mut self, ts: f64, w: &mut Writers<'_>) {
        let mut sink = Sink {
            uid: &self.uid,
            id: &self.id,
            log: &mut self.log,
            max_history: self.max_history,
            w,
        };
        self.analyzer.finish(&mut sink);
        let _ = ts;
        sink.finish_log(LogTrigger::ConnectionEnd);
    }
}

/// The [`EventSink`] of one delivery: prints events and feeds the ssl.log builder.
struct Sink<'s, 'p> {
    uid: &'s str,
    id: &'s ConnId,
    log: &'s mut Option<SslLogBuilder>,
    max_history: usize,
    w: &'s mut Writers<'p>,
}

impl Sink<'_, '_> {
    /// The ssl.log builder, created at the connection's first SSL event (Zeek's `set_session`).
    fn builder(&mut self, ts: f64) -> &mut SslLogBuilder {
        let (uid, id, max) = (self.uid, *self.id, self.max_history);
        self.log.get_or_insert_with(|| {
            SslLogBuilder::new(ts, uid, id, name_tables()).with_max_history(max)
        })
    }

    fn print(&mut self, ts: f64, name: &'static str, visit: impl FnOnce(&mut dyn ValueSink)) {
        let Some(w) = self.w.events.as_deref_mut() else {
            return;
        };
        match w {
            EventWriter::Text(t) => t.event(ts, self.uid, self.id, name, visit),
            EventWriter::Json(j) => j.event(ts, self.uid, self.id, name, visit),
        }
        *self.w.events_written += 1;
    }

    fn print_weird(&mut self, ts: f64, name: &str, addl: &[u8], source: &str) {
        let Some(w) = self.w.events.as_deref_mut() else {
            return;
        };
        match w {
            EventWriter::Text(t) => t.conn_weird(ts, self.uid, self.id, name, addl, source),
            EventWriter::Json(j) => j.conn_weird(ts, self.uid, self.id, name, addl, source),
        }
        *self.w.events_written += 1;
    }

    fn print_violation(&mut self, ts: f64, analyzer: Analyzer, reason: &[u8]) {
        let Some(w) = self.w.events.as_deref_mut() else {
            return;
        };
        let atype = match analyzer {
            Analyzer::Ssl => ANALYZER_SSL,
            Analyzer::Dtls => ANALYZER_DTLS,
        };
        match w {
            EventWriter::Text(t) => t.analyzer_violation(ts, self.uid, self.id, atype, reason),
            EventWriter::Json(j) => j.analyzer_violation(ts, self.uid, self.id, atype, reason),
        }
        *self.w.events_written += 1;
    }

    /// Prints the weirds the log builder raised (history limit).
    fn drain_log_weirds(&mut self, ts: f64) {
        let weirds = match self.log.as_mut() {
            Some(b) => b.take_weirds(),
            None => return,
        };
        for wd in weirds {
            self.print_weird(ts, wd.name, &wd.addl, wd.source);
        }
    }

    /// Hands the row out if this trigger writes it (only the first trigger does).
    fn finish_log(&mut self, trigger: LogTrigger) {
        let Some(b) = self.log.as_mut() else {
            return;
        };
        let Some(row) = b.finish(trigger) else {
            return;
        };
        if let Some(lw) = self.w.log.as_deref_mut() {
            match lw {
                LogWriter::Tsv { w, header_written } => {
                    if !*header_written {
                        w.header(self.w.log_open_ts);
                        *header_written = true;
                    }
                    w.row(&row);
                }
                LogWriter::Json(j) => j.row(&row),
            }
            *self.w.rows_written += 1;
        }
    }

    fn state_event(&mut self, ts: f64, ev: &StateEvent<'_>) {
        self.print(ts, ev.name(), |v| visit_state(ev, v));
        let b = self.builder(ts);
        match *ev {
            StateEvent::SslChangeCipherSpec { is_client } => b.change_cipher_spec(is_client),
            StateEvent::SslConnectionFlipped => b.connection_flipped(),
            StateEvent::SslAlert {
                is_client,
                level,
                desc,
            } => b.alert(is_client, level, desc),
            StateEvent::SslHeartbeat { is_client, .. } => b.heartbeat(is_client),
            StateEvent::SslHandshakeMessage {
                is_client,
                msg_type,
                ..
            } => b.handshake_message(is_client, u64::from(msg_type)),
            _ => {}
        }
        self.drain_log_weirds(ts);
        if matches!(ev, StateEvent::SslEstablished) {
            self.finish_log(LogTrigger::Established);
        }
    }
}

impl EventSink for Sink<'_, '_> {
    fn event(&mut self, ts: f64, ev: &Event<'_>) {
        match ev {
            Event::State(se) => self.state_event(ts, se),
            Event::Weird { name, addl } => {
                self.print_weird(ts, name, addl.as_bytes(), WEIRD_SOURCE_SSL)
            }
            Event::Violation { analyzer, reason } => {
                self.print_violation(ts, *analyzer, reason.as_bytes());
                self.finish_log(LogTrigger::Violation);
            }
            Event::Confirmation { .. } => {}
            Event::Certificate { is_client, der } => self.builder(ts).certificate(*is_client, der),
        }
    }
}

/// Names ssl.log prints for codes: cipher names come from the spec's `CipherSuite` enum.
fn name_tables() -> NameTables {
    NameTables::default()
}

/// Reports a stateful event's arguments (Zeek's parameter names, in signature order).
fn visit_state(ev: &StateEvent<'_>, v: &mut dyn ValueSink) {
    match *ev {
        StateEvent::SslEstablished | StateEvent::SslConnectionFlipped => {}
        StateEvent::SslEncryptedData {
            is_client,
            record_version,
            content_type,
            length,
        }
        | StateEvent::SslPlaintextData {
            is_client,
            record_version,
            content_type,
            length,
        } => {
            v.field("is_client");
            v.boolean(is_client);
            v.field("record_version");
            v.count(u64::from(record_version));
            v.field("content_type");
            v.count(u64::from(content_type));
            v.field("length");
            v.count(length);
        }
        StateEvent::SslChangeCipherSpec { is_client } => {
            v.field("is_client");
            v.boolean(is_client);
        }
        StateEvent::SslProbableEncryptedHandshakeMessage { is_client, length } => {
            v.field("is_client");
            v.boolean(is_client);
            v.field("length");
            v.count(length);
        }
        StateEvent::SslAlert {
            is_client,
            level,
            desc,
        } => {
            v.field("is_client");
            v.boolean(is_client);
            v.field("level");
            v.count(level);
            v.field("desc");
            v.count(desc);
        }
        StateEvent::SslHeartbeat {
            is_client,
            length,
            heartbeat_type,
            payload_length,
            payload,
        } => {
            v.field("is_client");
            v.boolean(is_client);
            v.field("length");
            v.count(length);
            v.field("heartbeat_type");
            v.count(u64::from(heartbeat_type));
            v.field("payload_length");
            v.count(u64::from(payload_length));
            v.field("payload");
            v.string(payload);
        }
        StateEvent::SslHandshakeMessage {
            is_client,
            msg_type,
            length,
        } => {
            v.field("is_client");
            v.boolean(is_client);
            v.field("msg_type");
            v.count(u64::from(msg_type));
            v.field("length");
            v.count(u64::from(length));
        }
    }
}
