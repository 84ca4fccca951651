//! One SSL connection's analysis and its outputs.
//!
//! In: the connection's payload (from the run's pipeline), and where detection found it starts. Out: event lines (weirds,
//! analyzer violations, confirmations and removals included) and, once per connection, an ssl.log row. The [`SslAnalyzer`] raises
//! events; a [`Session`] prints them and feeds the ones ssl.log needs to an [`SslLogState`],
//! the way Zeek's `base/protocols/ssl/main.zeek` builds `ssl.log` from the same events.

use pac_runtime::{ValueSink, ZeekString};

use crate::capture::{ConnId, ConnInfo};
use crate::detect::Detected;
use crate::fingerprint::ja4::Transport;
use crate::ftp_adat::{self, FtpAdat};
use crate::log::builder::SESSION_EVENTS;
use crate::log::limits::{limit_ssl_row, SSL_LOG_STREAM};
use crate::log::quic_log::{QuicLogState, QuicPacketEvent};
use crate::log::x509_log::X509_LOG_STREAM;
use crate::log::{LogOutput, LogShared, LogTrigger, QuicOutput, SslLogState, X509Output};
use crate::output::{EventLines, EventOutput, ANALYZER_DTLS, ANALYZER_QUIC, ANALYZER_SSL};
use crate::quic::{self, Quic, QuicConfig};
use crate::ssl::{Analyzer, Config, Event, EventSink, HelloView, SslAnalyzer, SslEvent};

/// Source named in `conn_weird` lines raised by the SSL analyzer.
const WEIRD_SOURCE_SSL: &str = "SSL";
/// Source named in `conn_weird` lines raised by the QUIC analyzer.
const WEIRD_SOURCE_QUIC: &str = "QUIC";

/// Where a session's output goes, borrowed from the pipeline for one call: the event stream
/// (when events are printed) and the ssl.log side (the builders' shared state, and the log
/// itself when it is written).
pub struct Outputs<'a, 'w> {
    /// The event lines, when printed.
    pub events: Option<&'a mut EventOutput<'w>>,
    /// ssl.log, when written.
    pub log: Option<&'a mut LogOutput<'w>>,
    /// What every connection's ssl.log builder shares.
    pub log_shared: &'a mut LogShared,
    /// x509.log, when written.
    pub x509: Option<&'a mut X509Output<'w>>,
    /// quic.log, when written.
    pub quic: Option<&'a mut QuicOutput<'w>>,
}

/// What carries a connection's TLS bytes, as detection found it.
#[derive(Debug)]
enum Carrier {
    /// TLS records directly in the stream (also after a STARTTLS switch).
    Direct,
    /// GridFTP's GSI exchange: TLS in the base64 tokens of FTP `ADAT` commands and replies.
    FtpAdat(Box<FtpAdat>),
    /// QUIC: the handshake in the CRYPTO frames of Initial packets.
    Quic(Box<QuicCarrier>),
}

/// A QUIC connection's analyzer and its quic.log state.
#[derive(Debug)]
struct QuicCarrier {
    quic: Quic,
    log: QuicLogState,
}

/// One connection handed to the SSL analyzer. The connection's uid and endpoints are not kept
/// here (the connection table has them): every call gets the connection's [`ConnInfo`].
pub struct Session {
    analyzer: SslAnalyzer,
    /// The SSL analyzer's options (a QUIC Retry starts a new analyzer with them).
    config: Config,
    carrier: Carrier,
    log: Option<SslLogState>,
}

/// Options of the QUIC analysis and of quic.log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuicOptions {
    /// The analyzer's options.
    pub analyzer: QuicConfig,
    /// `QUIC::max_history_length`.
    pub max_history_length: usize,
}

impl Default for QuicOptions {
    fn default() -> Self {
        QuicOptions {
            analyzer: QuicConfig::default(),
            max_history_length: crate::log::quic_log::DEFAULT_MAX_HISTORY_LENGTH,
        }
    }
}

impl Session {
    /// A session with the SSL analyzer's options `config`, for a connection whose start
    /// detection found to be `detected` ([`Detected::FtpAdat`]: TLS inside FTP `ADAT` lines).
    pub fn new(config: Config, detected: Detected, quic: QuicOptions) -> Self {
        let carrier = match detected {
            Detected::FtpAdat => Carrier::FtpAdat(Box::default()),
            Detected::Quic => Carrier::Quic(Box::new(QuicCarrier {
                quic: Quic::new(quic.analyzer),
                log: QuicLogState::new(quic.max_history_length),
            })),
            _ => Carrier::Direct,
        };
        Session {
            analyzer: SslAnalyzer::new(config),
            config,
            carrier,
            log: None,
        }
    }

    /// Whether the analyzer wants no more data (it is done, or the ADAT exchange that carried
    /// its bytes is over: Zeek then removes the SSL analyzer). A QUIC connection is done when
    /// its QUIC analyzer is: the SSL analyzer inside it only sees the hellos.
    pub fn is_done(&self) -> bool {
        match &self.carrier {
            Carrier::Quic(q) => q.quic.is_done(),
            Carrier::FtpAdat(a) => self.analyzer.is_done() || a.is_done(),
            Carrier::Direct => self.analyzer.is_done(),
        }
    }

    /// Whether the analyzer asked to be removed once the current packet is over.
    pub fn removal_pending(&self) -> bool {
        self.analyzer.removal_pending()
    }

    /// The packet that requested the removal is over: the removal takes effect now.
    pub fn end_of_packet(&mut self, c: &ConnInfo, w: &mut Outputs<'_, '_>) {
        let mut sink = Sink::new(c, &mut self.log, quic_log(&mut self.carrier), w);
        self.analyzer.end_of_packet(&mut sink);
    }

    /// TCP payload of one direction; the first delivery starts where detection found SSL.
    pub fn deliver(
        &mut self,
        c: &ConnInfo,
        is_orig: bool,
        ts: f64,
        data: &[u8],
        w: &mut Outputs<'_, '_>,
    ) {
        let Session {
            analyzer,
            carrier,
            log,
            ..
        } = self;
        let mut sink = Sink::new(c, log, None, w);
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
            Carrier::Direct | Carrier::Quic(_) => analyzer.deliver(is_orig, ts, data, &mut sink),
        }
    }

    /// A content gap in one direction.
    pub fn gap(&mut self, c: &ConnInfo, is_orig: bool, len: u64, w: &mut Outputs<'_, '_>) {
        let mut sink = Sink::new(c, &mut self.log, None, w);
        self.analyzer.gap(is_orig, len, &mut sink);
    }

    /// One UDP datagram.
    pub fn datagram(
        &mut self,
        c: &ConnInfo,
        is_orig: bool,
        ts: f64,
        data: &[u8],
        w: &mut Outputs<'_, '_>,
    ) {
        let Session {
            analyzer,
            config,
            carrier,
            log,
        } = self;
        let Carrier::Quic(q) = carrier else {
            let mut sink = Sink::new(c, log, None, w);
            analyzer.datagram(is_orig, ts, data, &mut sink);
            return;
        };
        let QuicCarrier { quic, log: qlog } = &mut **q;
        let mut sink = Sink::new(c, log, Some(qlog), w);
        quic.datagram(is_orig, data, &mut |o| match o {
            quic::Out::Event(ev) => sink.ssl_event(ts, &ev),
            quic::Out::Tls(bytes) => analyzer.deliver(is_orig, ts, bytes, &mut sink),
            quic::Out::ResetSsl => {
                // Zeek closes the SSL analyzer (its end-of-data) and makes a new one.
                analyzer.finish(&mut sink);
                *analyzer = SslAnalyzer::new(*config);
            }
            quic::Out::Confirmation => sink.print_analyzer(ts, Analyzer::Quic, false),
            quic::Out::Disabled => sink.print_analyzer(ts, Analyzer::Quic, true),
            quic::Out::Violation(reason) => {
                sink.print_violation(ts, Analyzer::Quic, reason.as_bytes())
            }
            quic::Out::Weird { name, addl } => {
                sink.print_weird(ts, name, addl.as_bytes(), WEIRD_SOURCE_QUIC)
            }
        });
        sink.drain_quic_log(ts);
    }

    /// The connection ended at `ts`: flush the analyzer and write the rows not yet written.
    pub fn end(&mut self, c: &ConnInfo, ts: f64, w: &mut Outputs<'_, '_>) {
        let mut sink = Sink::new(c, &mut self.log, quic_log(&mut self.carrier), w);
        self.analyzer.finish(&mut sink);
        sink.finish_log(ts, LogTrigger::ConnectionEnd);
        let (uid, id) = (sink.uid, *sink.id);
        if let Some(q) = sink.quic.as_deref_mut() {
            q.finish(uid, id);
        }
        sink.drain_quic_log(c.start_ts);
    }
}

/// The quic.log state of a QUIC connection.
fn quic_log(carrier: &mut Carrier) -> Option<&mut QuicLogState> {
    match carrier {
        Carrier::Quic(q) => Some(&mut q.log),
        _ => None,
    }
}

/// The [`EventSink`] of one delivery: prints events and feeds the ssl.log builder.
struct Sink<'s, 'a, 'w> {
    uid: &'s str,
    id: &'s ConnId,
    log: &'s mut Option<SslLogState>,
    /// quic.log's state, on QUIC connections.
    quic: Option<&'s mut QuicLogState>,
    w: &'s mut Outputs<'a, 'w>,
}

impl<'s, 'a, 'w> Sink<'s, 'a, 'w> {
    fn new(
        c: &'s ConnInfo,
        log: &'s mut Option<SslLogState>,
        quic: Option<&'s mut QuicLogState>,
        w: &'s mut Outputs<'a, 'w>,
    ) -> Self {
        Sink {
            uid: &c.uid,
            id: &c.id,
            log,
            quic,
            w,
        }
    }

    /// Prints the weirds of the quic.log logic and hands its finished rows to quic.log.
    fn drain_quic_log(&mut self, ts: f64) {
        let Some(q) = self.quic.as_deref_mut() else {
            return;
        };
        if !q.has_output() {
            return;
        }
        let (rows, weirds) = (q.take_rows(), q.take_weirds());
        for wd in weirds {
            self.print_weird(ts, wd.name, wd.addl.as_bytes(), "");
        }
        if let Some(out) = self.w.quic.as_deref_mut() {
            for r in &rows {
                out.row(r);
            }
        }
    }

    /// Applies an event to quic.log's state, as `base/protocols/quic/main.zeek` does.
    fn quic_event(&mut self, ts: f64, ev: &SslEvent<'_>) {
        let (uid, id) = (self.uid, *self.id);
        let Some(q) = self.quic.as_deref_mut() else {
            return;
        };
        let packet =
            |q: &mut QuicLogState, kind, is_orig, version, dcid: ZeekString, scid: ZeekString| {
                q.packet(
                    kind,
                    ts,
                    is_orig,
                    version,
                    dcid.unpadded(),
                    scid.unpadded(),
                    uid,
                    id,
                )
            };
        match *ev {
            SslEvent::QuicInitialPacket {
                is_orig,
                version,
                dcid,
                scid,
            } => packet(q, QuicPacketEvent::Initial, is_orig, version, dcid, scid),
            SslEvent::QuicHandshakePacket {
                is_orig,
                version,
                dcid,
                scid,
            } => packet(q, QuicPacketEvent::Handshake, is_orig, version, dcid, scid),
            SslEvent::QuicZeroRttPacket {
                is_orig,
                version,
                dcid,
                scid,
            } => packet(q, QuicPacketEvent::ZeroRtt, is_orig, version, dcid, scid),
            SslEvent::QuicRetryPacket {
                is_orig,
                version,
                dcid,
                scid,
                ..
            } => packet(q, QuicPacketEvent::Retry, is_orig, version, dcid, scid),
            SslEvent::QuicUnhandledVersion {
                is_orig,
                version,
                dcid,
                scid,
            } => packet(
                q,
                QuicPacketEvent::UnhandledVersion,
                is_orig,
                version,
                dcid,
                scid,
            ),
            SslEvent::QuicConnectionCloseFrame { is_orig, .. } => {
                q.connection_close(is_orig, uid, id)
            }
            SslEvent::QuicShortHeaderPacketThresholdCrossed { is_orig, threshold } => {
                q.short_header_threshold(is_orig, threshold)
            }
            SslEvent::QuicDiscardedPacket { is_orig, .. } => q.discarded_packet(is_orig),
            SslEvent::SslClientHello { .. } => q.ssl_hello(true),
            SslEvent::SslServerHello { .. } => q.ssl_hello(false),
            SslEvent::SslExtensionServerName { is_client, names } => {
                q.server_name(is_client, names.iter().map(|n| n.unpadded()))
            }
            SslEvent::SslExtensionApplicationLayerProtocolNegotiation {
                is_client,
                protocols,
            } => {
                let protocols: Vec<&[u8]> = protocols.iter().map(|p| p.unpadded()).collect();
                q.alpn(is_client, &protocols)
            }
            _ => return,
        }
        self.drain_quic_log(ts);
    }

    /// The ssl.log builder, created at the connection's first SSL event (Zeek's `set_session`).
    fn builder(&mut self, ts: f64) -> &mut SslLogState {
        let shared = &*self.w.log_shared;
        self.log.get_or_insert_with(|| shared.builder(ts))
    }

    fn print(&mut self, ts: f64, name: &'static str, visit: impl FnOnce(&mut dyn ValueSink)) {
        if let Some(e) = self.w.events.as_deref_mut() {
            e.event(ts, self.uid, self.id, name, visit);
        }
    }

    /// Prints a line of the analyzer's own (a weird, a violation, ...) that `write` formats
    /// with the connection's uid and id.
    fn print_line(&mut self, write: impl FnOnce(&mut dyn EventLines, &str, &ConnId)) {
        let (uid, id) = (self.uid, self.id);
        if let Some(e) = self.w.events.as_deref_mut() {
            e.line(|l| write(l, uid, id));
        }
    }

    fn print_weird(&mut self, ts: f64, name: &str, addl: &[u8], source: &str) {
        self.print_line(|l, uid, id| l.conn_weird(ts, uid, id, name, addl, source));
    }

    fn print_violation(&mut self, ts: f64, analyzer: Analyzer, reason: &[u8]) {
        let atype = atype(analyzer);
        self.print_line(|l, uid, id| l.analyzer_violation(ts, uid, id, atype, reason));
    }

    /// Prints an `analyzer_confirmation_info` line, or (`disabled`) an `analyzer_disabled` line.
    fn print_analyzer(&mut self, ts: f64, analyzer: Analyzer, disabled: bool) {
        let atype = atype(analyzer);
        self.print_line(|l, uid, id| {
            if disabled {
                l.analyzer_disabled(ts, uid, id, atype);
            } else {
                l.analyzer_confirmation(ts, uid, id, atype);
            }
        });
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

    /// Hands the row out if this trigger, at `ts`, writes it (only the first trigger does).
    fn finish_log(&mut self, ts: f64, trigger: LogTrigger) {
        let Some(b) = self.log.as_mut() else {
            return;
        };
        let Some(mut row) = b.finish(trigger, self.uid, *self.id) else {
            return;
        };
        if let Some(log) = self.w.log.as_deref_mut() {
            // Zeek's logging framework caps the row as it writes it; the weirds (nearly
            // always none) belong to no connection and name the stream.
            let mut weirds = Vec::new();
            limit_ssl_row(&mut row, &mut weirds);
            log.row(&row);
            if let (false, Some(e)) = (weirds.is_empty(), self.w.events.as_deref_mut()) {
                for name in weirds {
                    e.line(|l| l.net_weird(ts, name, SSL_LOG_STREAM.as_bytes(), ""));
                }
            }
        }
    }

    /// Prints one `ssl_*` event and applies it to the ssl.log builder the way Zeek's
    /// `base/protocols/ssl/main.zeek` handlers do.
    fn ssl_event(&mut self, ts: f64, ev: &SslEvent<'_>) {
        self.print(ts, ev.name(), |v| ev.visit(v));
        if self.quic.is_some() {
            self.quic_event(ts, ev);
            if ev.name().starts_with("QUIC::") {
                return;
            }
        }
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
            self.finish_log(ts, LogTrigger::Established);
        }
    }
}

impl EventSink for Sink<'_, '_, '_> {
    fn event(&mut self, ts: f64, ev: &Event<'_>) {
        match ev {
            Event::Ssl(ev) => self.ssl_event(ts, ev),
            Event::Weird { name, addl } => {
                self.print_weird(ts, name, addl.as_bytes(), WEIRD_SOURCE_SSL)
            }
            Event::Violation { analyzer, reason } => {
                self.print_violation(ts, *analyzer, reason.as_bytes());
                if *analyzer != Analyzer::Quic {
                    self.finish_log(ts, LogTrigger::Violation);
                }
            }
            // main.zeek's analyzer_confirmation_info handler creates the record as well (for
            // the SSL and DTLS analyzers only).
            Event::Confirmation { analyzer } => {
                self.print_analyzer(ts, *analyzer, false);
                if *analyzer != Analyzer::Quic {
                    self.builder(ts);
                }
            }
            Event::Disabled { analyzer } => self.print_analyzer(ts, *analyzer, true),
            Event::Certificate {
                is_client,
                der,
                first,
            } => {
                self.builder(ts);
                if let Some(b) = self.log.as_mut() {
                    b.certificate_cached(*is_client, der, &mut self.w.log_shared.certs);
                }
                if let Some(x) = self.w.x509.as_deref_mut() {
                    let weirds =
                        x.certificate(ts, *is_client, *first, der, &mut self.w.log_shared.certs);
                    // Zeek's logging framework raises them while writing the row: weirds of
                    // no connection, naming the stream.
                    if let (false, Some(e)) = (weirds.is_empty(), self.w.events.as_deref_mut()) {
                        for name in weirds {
                            e.line(|l| l.net_weird(ts, name, X509_LOG_STREAM.as_bytes(), ""));
                        }
                    }
                }
            }
            // Raised after the hello event, which created the record.
            Event::Hello { dtls, hello } => {
                let quic = self.quic.is_some();
                let transport = match (quic, *dtls) {
                    (true, _) => Transport::Quic,
                    (false, true) => Transport::Dtls,
                    (false, false) => Transport::Tcp,
                };
                let Some(b) = self.log.as_mut() else {
                    return;
                };
                match hello {
                    HelloView::Client(h) => b.client_hello_view(h, quic),
                    HelloView::Server(h) => b.server_hello_view(h, transport),
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
        Analyzer::Quic => ANALYZER_QUIC,
    }
}
