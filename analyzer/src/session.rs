//! One SSL connection's analysis and its outputs.
//!
//! In: the connection's payload (from [`crate::run::Pipeline`]). Out: event lines (weirds,
//! analyzer violations, confirmations and removals included) and, once per connection, an ssl.log row. The [`SslAnalyzer`] raises
//! events; a [`Session`] prints them and feeds the ones ssl.log needs to an [`SslLogState`],
//! the way Zeek's `base/protocols/ssl/main.zeek` builds `ssl.log` from the same events.

use std::io::{self, Write};

use pac_runtime::ValueSink;

use crate::capture::ConnInfo;
use crate::detect::{self, Detected};
use crate::ftp_adat::{self, FtpAdat};
use crate::log::builder::SESSION_EVENTS;
use crate::log::cert_cache::CertCache;
use crate::log::{names::NameTables, LogTrigger, OptionalColumns, SslLogState};
use crate::output::{ConnId, EventLines, ANALYZER_DTLS, ANALYZER_SSL};
use crate::run::{EventWriter, LogWriter, EVENT_FLUSH_BYTES};
use crate::ssl::{Analyzer, Config, Event, EventSink, SslAnalyzer, SslEvent};

/// Source named in `conn_weird` lines raised by the SSL analyzer.
const WEIRD_SOURCE_SSL: &str = "SSL";

/// The writers a session writes into and the run's log options, borrowed from the pipeline
/// for one call (kept there rather than copied into every session).
pub struct Writers<'p> {
    /// The event writer and where its lines go once [`EVENT_FLUSH_BYTES`] are buffered.
    pub(crate) events: Option<(&'p mut EventWriter, &'p mut dyn Write)>,
    pub(crate) log: Option<&'p mut LogWriter>,
    pub(crate) log_open_ts: f64,
    pub(crate) events_written: &'p mut u64,
    pub(crate) rows_written: &'p mut u64,
    /// Zeek's `SSL::max_ssl_history_length`.
    pub(crate) max_history: usize,
    /// ssl.log's optional columns.
    pub(crate) log_columns: OptionalColumns,
    /// Certificates seen on earlier connections.
    pub(crate) certs: &'p mut CertCache,
    /// The first error writing the output.
    pub(crate) io_error: &'p mut Option<io::Error>,
}

impl Writers<'_> {
    /// Counts an event line just formatted, and hands the buffered lines to the output once
    /// they pass [`EVENT_FLUSH_BYTES`], so that a delivery raising millions of events (F2)
    /// holds no more than that.
    fn event_written(&mut self) {
        *self.events_written += 1;
        if let Some((w, out)) = self.events.as_mut() {
            if w.buffered() >= EVENT_FLUSH_BYTES {
                if let Err(e) = w.flush_to(&mut **out) {
                    self.io_error.get_or_insert(e);
                }
            }
        }
    }
}

/// What carries a TCP connection's TLS bytes, decided at its first delivery to the session.
#[derive(Debug)]
enum Carrier {
    /// No TCP data yet.
    Undecided,
    /// TLS records directly in the stream (also after a STARTTLS switch).
    Direct,
    /// GridFTP's GSI exchange: TLS in the base64 tokens of FTP `ADAT` commands and replies.
    FtpAdat(Box<FtpAdat>),
}

/// One connection handed to the SSL analyzer. The connection's uid and endpoints are not kept
/// here (the connection table has them): every call gets the connection's [`ConnInfo`].
pub struct Session {
    analyzer: SslAnalyzer,
    carrier: Carrier,
    log: Option<SslLogState>,
}

/// The connection's identity as the output writers take it.
fn output_id(c: &ConnInfo) -> ConnId {
    ConnId {
        orig_h: c.id.orig_h,
        orig_p: c.id.orig_p,
        resp_h: c.id.resp_h,
        resp_p: c.id.resp_p,
    }
}

impl Session {
    /// A session with the SSL analyzer's options `config`.
    pub fn new(config: Config) -> Self {
        Session {
            analyzer: SslAnalyzer::new(config),
            carrier: Carrier::Undecided,
            log: None,
        }
    }

    /// Whether the analyzer wants no more data (it is done, or the ADAT exchange that carried
    /// its bytes is over: Zeek then removes the SSL analyzer).
    pub fn is_done(&self) -> bool {
        self.analyzer.is_done() || matches!(&self.carrier, Carrier::FtpAdat(a) if a.is_done())
    }

    /// Whether the analyzer asked to be removed once the current packet is over.
    pub fn removal_pending(&self) -> bool {
        self.analyzer.removal_pending()
    }

    /// The packet that requested the removal is over: the removal takes effect now.
    pub fn end_of_packet(&mut self, c: &ConnInfo, w: &mut Writers<'_>) {
        let mut sink = Sink {
            uid: &c.uid,
            id: output_id(c),
            log: &mut self.log,
            w,
        };
        self.analyzer.end_of_packet(&mut sink);
    }

    /// TCP payload of one direction. The first delivery starts where detection found SSL and
    /// decides how TLS is carried ([`Detected::FtpAdat`] or directly).
    pub fn deliver(
        &mut self,
        c: &ConnInfo,
        is_orig: bool,
        ts: f64,
        data: &[u8],
        w: &mut Writers<'_>,
    ) {
        if matches!(self.carrier, Carrier::Undecided) {
            self.carrier = if detect::tcp(data) == Detected::FtpAdat {
                Carrier::FtpAdat(Box::default())
            } else {
                Carrier::Direct
            };
        }
        let Session {
            analyzer,
            carrier,
            log,
        } = self;
        let mut sink = Sink {
            uid: &c.uid,
            id: output_id(c),
            log,
            w,
        };
        match carrier {
            Carrier::FtpAdat(adat) => {
                let status = adat.deliver(is_orig, data, |tls| {
                    analyzer.deliver(is_orig, ts, tls, &mut sink);
                });
                if status == ftp_adat::Status::LineTooLong {
                    sink.print_weird(
                        ts,
                        ftp_adat::WEIRD_LINE_TOO_LONG,
                        b"",
                        ftp_adat::WEIRD_SOURCE,
                    );
                }
            }
            Carrier::Direct | Carrier::Undecided => analyzer.deliver(is_orig, ts, data, &mut sink),
        }
    }

    /// A content gap in one direction.
    pub fn gap(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, len: u64, w: &mut Writers<'_>) {
        let mut sink = Sink {
            uid: &c.uid,
            id: output_id(c),
            log: &mut self.log,
            w,
        };
        let _ = ts;
        self.analyzer.gap(is_orig, len, &mut sink);
    }

    /// One UDP datagram.
    pub fn datagram(
        &mut self,
        c: &ConnInfo,
        is_orig: bool,
        ts: f64,
        data: &[u8],
        w: &mut Writers<'_>,
    ) {
        let mut sink = Sink {
            uid: &c.uid,
            id: output_id(c),
            log: &mut self.log,
            w,
        };
        self.analyzer.datagram(is_orig, ts, data, &mut sink);
    }

    /// The connection ended at `ts`: flush the analyzer and write the row if not yet written.
    pub fn end(&mut self, c: &ConnInfo, ts: f64, w: &mut Writers<'_>) {
        let mut sink = Sink {
            uid: &c.uid,
            id: output_id(c),
            log: &mut self.log,
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
    id: ConnId,
    log: &'s mut Option<SslLogState>,
    w: &'s mut Writers<'p>,
}

impl Sink<'_, '_> {
    /// The ssl.log builder, created at the connection's first SSL event (Zeek's `set_session`).
    fn builder(&mut self, ts: f64) -> &mut SslLogState {
        let (max, columns) = (self.w.max_history, self.w.log_columns);
        self.log.get_or_insert_with(|| {
            SslLogState::new(ts, NameTables::default())
                .with_max_history(max)
                .with_columns(columns)
        })
    }

    fn print(&mut self, ts: f64, name: &'static str, visit: impl FnOnce(&mut dyn ValueSink)) {
        let Some((w, _)) = self.w.events.as_mut() else {
            return;
        };
        match &mut **w {
            EventWriter::Text(t) => t.event(ts, self.uid, &self.id, name, visit),
            EventWriter::Json(j) => j.event(ts, self.uid, &self.id, name, visit),
        }
        self.w.event_written();
    }

    fn print_weird(&mut self, ts: f64, name: &str, addl: &[u8], source: &str) {
        let Some((w, _)) = self.w.events.as_mut() else {
            return;
        };
        match &mut **w {
            EventWriter::Text(t) => t.conn_weird(ts, self.uid, &self.id, name, addl, source),
            EventWriter::Json(j) => j.conn_weird(ts, self.uid, &self.id, name, addl, source),
        }
        self.w.event_written();
    }

    fn print_violation(&mut self, ts: f64, analyzer: Analyzer, reason: &[u8]) {
        let Some((w, _)) = self.w.events.as_mut() else {
            return;
        };
        let atype = atype(analyzer);
        match &mut **w {
            EventWriter::Text(t) => t.analyzer_violation(ts, self.uid, &self.id, atype, reason),
            EventWriter::Json(j) => j.analyzer_violation(ts, self.uid, &self.id, atype, reason),
        }
        self.w.event_written();
    }

    /// Prints an `analyzer_confirmation_info` line, or (`disabled`) an `analyzer_disabled` line.
    fn print_analyzer(&mut self, ts: f64, analyzer: Analyzer, disabled: bool) {
        let Some((w, _)) = self.w.events.as_mut() else {
            return;
        };
        let atype = atype(analyzer);
        match (&mut **w, disabled) {
            (EventWriter::Text(t), false) => t.analyzer_confirmation(ts, self.uid, &self.id, atype),
            (EventWriter::Json(j), false) => j.analyzer_confirmation(ts, self.uid, &self.id, atype),
            (EventWriter::Text(t), true) => t.analyzer_disabled(ts, self.uid, &self.id, atype),
            (EventWriter::Json(j), true) => j.analyzer_disabled(ts, self.uid, &self.id, atype),
        }
        self.w.event_written();
    }

    /// Prints the weirds the log builder raised (history limit).
    fn drain_log_weirds(&mut self, ts: f64) {
        // Called after every SSL event; nearly always there is nothing to print.
        let weirds = match self.log.as_mut() {
            Some(b) if b.has_weirds() => b.take_weirds(),
            _ => return,
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
        let Some(row) = b.finish(trigger, self.uid, self.id) else {
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

    /// Prints one `ssl_*` event and applies it to the ssl.log builder the way Zeek's
    /// `base/protocols/ssl/main.zeek` handlers do.
    fn ssl_event(&mut self, ts: f64, ev: &SslEvent<'_>) {
        self.print(ts, ev.name(), |v| ev.visit(v));
        // Only the events main.zeek handles create the log record (`set_session`).
        // Once the record exists (after the first few events) the name list is not searched.
        let b = if self.log.is_some() || SESSION_EVENTS.contains(&ev.name()) {
            self.builder(ts)
        } else {
            return;
        };
        match *ev {
            SslEvent::SslClientHello {
                record_version,
                session_id,
                ..
            } => session_id.with_bytes(|sid| b.client_hello(record_version, sid)),
            SslEvent::SslServerHello {
                version,
                server_random,
                session_id,
                cipher,
                ..
            } => session_id
                .with_bytes(|sid| b.server_hello(version, server_random.unpadded(), sid, cipher)),
            SslEvent::SslExtensionSupportedVersions {
                is_client,
                versions,
            } => b.extension_supported_versions(is_client, versions.iter()),
            SslEvent::SslEcdhServerParams { curve, .. } => b.ecdh_server_params(curve),
            SslEvent::SslExtensionKeyShare { is_client, curves } => {
                b.extension_key_share(is_client, curves.iter())
            }
            SslEvent::SslExtensionServerName { is_client, names } => {
                b.extension_server_name(is_client, names.iter().map(|n| n.unpadded()))
            }
            SslEvent::SslExtensionApplicationLayerProtocolNegotiation {
                is_client,
                protocols,
            } => b.extension_alpn(is_client, protocols.iter().map(|p| p.unpadded())),
            SslEvent::SslConnectionFlipped {} => b.connection_flipped(),
            SslEvent::SslHandshakeMessage {
                is_client,
                msg_type,
                ..
            } => b.handshake_message(is_client, msg_type),
            SslEvent::SslExtension {
                is_client,
                code,
                val,
            } => b.extension(is_client, code, val.len()),
            SslEvent::SslChangeCipherSpec { is_client } => b.change_cipher_spec(is_client),
            SslEvent::SslAlert {
                is_client,
                level,
                desc,
            } => b.alert(is_client, level, desc),
            SslEvent::SslHeartbeat { is_client, .. } => b.heartbeat(is_client),
            _ => {}
        }
        self.drain_log_weirds(ts);
        if matches!(ev, SslEvent::SslEstablished {}) {
            self.finish_log(LogTrigger::Established);
        }
    }
}

impl EventSink for Sink<'_, '_> {
    fn event(&mut self, ts: f64, ev: &Event<'_>) {
        match ev {
            Event::Ssl(ev) => self.ssl_event(ts, ev),
            Event::Weird { name, addl } => {
                self.print_weird(ts, name, addl.as_bytes(), WEIRD_SOURCE_SSL)
            }
            Event::Violation { analyzer, reason } => {
                self.print_violation(ts, *analyzer, reason.as_bytes());
                self.finish_log(LogTrigger::Violation);
            }
            // main.zeek's analyzer_confirmation_info handler creates the record as well.
            Event::Confirmation { analyzer } => {
                self.print_analyzer(ts, *analyzer, false);
                self.builder(ts);
            }
            Event::Disabled { analyzer } => self.print_analyzer(ts, *analyzer, true),
            Event::Certificate { is_client, der } => {
                self.builder(ts);
                if let Some(b) = self.log.as_mut() {
                    b.certificate_cached(*is_client, der, self.w.certs);
                }
            }
        }
    }
}

/// Zeek's analyzer tag name (`atype`).
fn atype(analyzer: Analyzer) -> &'static str {
    match analyzer {
        Analyzer::Ssl => ANALYZER_SSL,
        Analyzer::Dtls => ANALYZER_DTLS,
    }
}
