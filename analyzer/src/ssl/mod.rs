//! The SSL/TLS/DTLS connection analysis: one connection's payload in, Zeek's `ssl_*` events out.
//!
//! In: TCP payload per direction ([`SslAnalyzer::deliver`], [`SslAnalyzer::gap`]) or UDP payloads
//! ([`SslAnalyzer::datagram`]), each with its timestamp. Out: [`Event`]s, in the order Zeek raises
//! them, through a caller-supplied [`EventSink`]; plus per-connection facts for ssl.log
//! ([`SslAnalyzer::negotiated_version`], [`SslAnalyzer::flipped`], …) and [`SslAnalyzer::is_done`],
//! which tells the capture layer to stop feeding.
//!
//! Layers:
//! * `record`: TLS/SSLv2 record headers, version latching and its violations;
//! * `tls`: TCP framing of records and of handshake messages across records (runtime
//!   `StreamBuffer`s, capped);
//! * `dtls`: DTLS records, DTLS 1.3 unified headers, handshake fragment reassembly, STUN skipping;
//! * `conn`: the state machine both share (encryption per direction, `ssl_established`,
//!   direction flipping, alerts, heartbeats, CCS, SSLv2 messages, handshake messages), which
//!   parses record contents and handshake messages with the spec's generated parsers
//!   (`tls_grammar`) and raises their events through the generated walkers;
//! * `event`: the event types ([`SslEvent`] is the spec's generated event enum).
//!
//! Zeek behaviours reproduced (details in each module): the first record's version is latched
//! and every later header re-checked; encryption per direction starts with CCS (TLS ≤ 1.2) or the
//! first application-data record (TLS 1.3, drafts, unknown); `ssl_established` on the first
//! ciphertext record once both directions are encrypted; `ssl_probable_encrypted_handshake_message`
//! for TLS 1.3 ciphertext before that; `is_client = is_orig XOR flipped`; after `ssl_established`
//! (default) or a violation the analyzer finishes the current packet and is removed; after a
//! content gap Zeek delivers nothing more to the analyzer, so neither do we.

pub mod conn;
pub mod dtls;
pub mod event;
pub mod record;
pub mod tls;
pub mod version;

pub use event::{Analyzer, Event, EventSink, HelloView, SslEvent};

use conn::Conn;

/// Zeek's default for `SSL::max_alerts_per_record`.
pub const DEFAULT_MAX_ALERTS_PER_RECORD: usize = 10;
/// Zeek's default for `SSL::dtls_max_version_errors`.
pub const DEFAULT_DTLS_MAX_VERSION_ERRORS: u32 = 10;
/// Zeek's default for `SSL::dtls_max_reported_version_errors`.
pub const DEFAULT_DTLS_MAX_REPORTED_VERSION_ERRORS: u32 = 1;

/// Options, named after the Zeek options they mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// `SSL::disable_analyzer_after_detection`: stop after `ssl_established` (default true).
    pub disable_analyzer_after_detection: bool,
    /// Defers that stop until this many `ssl_encrypted_data` events were raised on the
    /// connection (counted from its start); the delivery that raises the last of them ends the
    /// analysis. 0 (the default) defers nothing. This is what a Zeek script does that vetoes the
    /// removal in the `Analyzer::disabling_analyzer` hook to see the first encrypted records
    /// (Zeek's `prevent-disable-analyzer` test).
    pub min_encrypted_data_before_disable: u32,
    /// Zeek's DPD framework removes an analyzer that reported a violation (default true).
    pub disable_analyzer_after_violation: bool,
    /// `SSL::max_alerts_per_record`.
    pub max_alerts_per_record: usize,
    /// `SSL::dtls_max_version_errors`.
    pub dtls_max_version_errors: u32,
    /// `SSL::dtls_max_reported_version_errors`.
    pub dtls_max_reported_version_errors: u32,
    /// Raise `ssl_server_curve`, which Zeek 3.0 retired in favour of `ssl_ecdh_server_params`
    /// (default false: current Zeek never raises it).
    pub raise_ssl_server_curve: bool,
    /// Raise [`Event::Hello`] with each parsed hello (for fingerprints; default false).
    pub hello_views: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            disable_analyzer_after_detection: true,
            min_encrypted_data_before_disable: 0,
            disable_analyzer_after_violation: true,
            max_alerts_per_record: DEFAULT_MAX_ALERTS_PER_RECORD,
            dtls_max_version_errors: DEFAULT_DTLS_MAX_VERSION_ERRORS,
            dtls_max_reported_version_errors: DEFAULT_DTLS_MAX_REPORTED_VERSION_ERRORS,
            raise_ssl_server_curve: false,
            hello_views: false,
        }
    }
}

/// The transport-specific half of the analyzer, chosen by the first delivery.
#[derive(Debug)]
enum Transport {
    Undecided,
    Tls(Box<tls::TlsStreams>),
    Dtls(Box<dtls::Dtls>),
}

/// One connection's SSL analyzer; see the module docs.
#[derive(Debug)]
pub struct SslAnalyzer {
    conn: Conn,
    transport: Transport,
    done: bool,
    /// Timestamp of the TCP packet during which the analyzer's removal was requested. Zeek's
    /// script-level `disable_analyzer` only runs once the packet's events are drained, so the
    /// rest of that packet's data (e.g. out-of-order segments it releases) is still analysed;
    /// the removal takes effect with the next packet.
    removal_ts: Option<f64>,
}

impl SslAnalyzer {
    /// A new analyzer. Whether it is Zeek's SSL or DTLS analyzer is decided by the first call
    /// to [`deliver`](Self::deliver) or [`datagram`](Self::datagram).
    pub fn new(config: Config) -> Self {
        SslAnalyzer {
            conn: Conn::new(Analyzer::Ssl, config),
            transport: Transport::Undecided,
            done: false,
            removal_ts: None,
        }
    }

    /// TCP payload of one direction, in stream order.
    pub fn deliver(&mut self, is_orig: bool, ts: f64, bytes: &[u8], sink: &mut dyn EventSink) {
        if self.removal_ts.is_some_and(|t| t != ts) {
            self.complete_removal(sink);
        }
        if self.done || self.conn.skip {
            return;
        }
        if matches!(self.transport, Transport::Undecided) {
            self.transport = Transport::Tls(Box::default());
        }
        if let Transport::Tls(streams) = &mut self.transport {
            streams.deliver(&mut self.conn, sink, is_orig, ts, bytes);
        }
        if self.conn.remove_pending && self.removal_ts.is_none() {
            self.removal_ts = Some(ts);
        }
    }

    /// A content gap of `len` bytes in one direction. Zeek's SSL analyzer delivers nothing
    /// after a gap (in either direction), so the analyzer is done.
    pub fn gap(&mut self, _is_orig: bool, _len: u64, sink: &mut dyn EventSink) {
        self.complete_removal(sink);
        if let Transport::Tls(streams) = &mut self.transport {
            streams.clear();
        }
        self.done = true;
    }

    /// One UDP payload of one direction (DTLS).
    pub fn datagram(&mut self, is_orig: bool, ts: f64, payload: &[u8], sink: &mut dyn EventSink) {
        if self.done || self.conn.skip {
            return;
        }
        if matches!(self.transport, Transport::Undecided) {
            self.conn.analyzer = Analyzer::Dtls;
            self.transport = Transport::Dtls(Box::default());
        }
        if let Transport::Dtls(dtls) = &mut self.transport {
            dtls.datagram(&mut self.conn, sink, is_orig, ts, payload);
        }
        self.end_of_delivery(ts, sink);
    }

    /// The connection ended: partial records and messages are dropped, as binpac drops a
    /// partial flow unit at end of flow.
    pub fn finish(&mut self, sink: &mut dyn EventSink) {
        self.complete_removal(sink);
        if let Transport::Tls(streams) = &mut self.transport {
            streams.clear();
        }
        self.done = true;
    }

    /// The current packet is over: a removal requested while it was analysed takes effect.
    /// Callers that know packet boundaries call this; otherwise the next delivery with another
    /// timestamp, a gap or [`finish`](Self::finish) does it.
    pub fn end_of_packet(&mut self, sink: &mut dyn EventSink) {
        self.complete_removal(sink);
    }

    /// A removal requested during an earlier TCP packet takes effect (see `removal_ts`).
    fn complete_removal(&mut self, sink: &mut dyn EventSink) {
        if let Some(ts) = self.removal_ts.take() {
            self.end_of_delivery(ts, sink);
        }
    }

    /// A removal requested during the delivery takes effect now, as Zeek's script-level
    /// `disable_analyzer` runs after the packet's events (a datagram is a whole packet).
    fn end_of_delivery(&mut self, ts: f64, sink: &mut dyn EventSink) {
        if self.conn.remove_pending && !self.done {
            self.done = true;
            sink.event(
                ts,
                &Event::Disabled {
                    analyzer: self.conn.analyzer,
                },
            );
        }
    }

    /// True once the analyzer was removed (after `ssl_established` by default, a violation, a
    /// gap, or [`finish`](Self::finish)) or stopped parsing: the caller can stop feeding it.
    pub fn is_done(&self) -> bool {
        self.done || self.conn.skip
    }

    /// True when the analyzer will be removed before the next packet's data (after
    /// `ssl_established` or a violation): data of the current packet is still welcome.
    pub fn removal_pending(&self) -> bool {
        self.removal_ts.is_some()
    }

    /// SSL or DTLS (SSL until a datagram arrives).
    pub fn analyzer(&self) -> Analyzer {
        self.conn.analyzer
    }

    /// The negotiated version: the server's `supported_versions` choice, else its hello
    /// version; `None` before a ServerHello.
    pub fn negotiated_version(&self) -> Option<u16> {
        Some(self.conn.chosen_version()).filter(|v| *v != version::UNKNOWN_VERSION)
    }

    /// The cipher suite of the ServerHello.
    pub fn chosen_cipher(&self) -> Option<u16> {
        self.conn.chosen_cipher()
    }

    /// Whether the responder is the TLS client.
    pub fn flipped(&self) -> bool {
        self.conn.flipped()
    }

    /// Whether the handshake completed (both directions encrypted and a ciphertext record seen).
    pub fn established(&self) -> bool {
        self.conn.established()
    }

    /// Whether a ClientHello with a supported version confirmed the protocol.
    pub fn confirmed(&self) -> bool {
        self.conn.confirmed()
    }

    /// The record-layer version latched from the first TLS record (0 while unknown, 2 for SSLv2).
    pub fn record_layer_version(&self) -> u16 {
        match &self.transport {
            Transport::Tls(streams) => streams.record_layer_version(),
            _ => version::UNKNOWN_VERSION,
        }
    }
}
