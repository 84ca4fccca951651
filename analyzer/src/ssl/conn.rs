//! The per-connection SSL state machine shared by TLS (TCP) and DTLS (UDP).
//!
//! In: classified records (content type, version, length, body) and complete handshake messages,
//! each with its direction and timestamp. Out: every `ssl_*` event, weirds, violations and
//! confirmations, in Zeek's order, through an [`EventSink`]; plus the facts the ssl.log builder
//! reads (negotiated version, cipher, flipped, established).
//!
//! Record contents (alerts, heartbeats, SSLv2 messages) and handshake messages are parsed with
//! the spec's generated parsers (`tls_grammar`) and turned into events by its generated walkers,
//! with a [`Context`] that carries what only the connection knows (direction, TLS role, record
//! version, negotiated version). The parameters some layouts need (DTLS or not, TLS 1.3 or not,
//! signature algorithms present, the chosen suite's key-exchange class) come from this state.
//! The stateful events (`ssl_established`, `ssl_encrypted_data`, …) are built here directly
//! from the same generated `SslEvent` enum.
//!
//! Semantics (Zeek's `ssl-dtls-protocol.pac`, `ssl-dtls-analyzer.pac`, `ssl-analyzer.pac`,
//! `tls-handshake-analyzer.pac`):
//! * Encryption state is kept per *packet direction* (Zeek's `client_state_` is the originator's).
//!   A ChangeCipherSpec switches its direction to encrypted unless the negotiated version is
//!   TLS 1.3 or a draft. In TLS, an application-data record in a clear direction switches it when
//!   the negotiated version is anything but SSLv2 … TLS 1.2 (so also "not yet known"); DTLS
//!   decides by the record's epoch instead, and a DTLS 1.3 unified-header record encrypts its
//!   direction.
//! * A ciphertext record: first `ssl_probable_encrypted_handshake_message` (TLS 1.3, not yet
//!   established), then `ssl_established` if both directions are encrypted and it was not raised
//!   yet, then `ssl_encrypted_data`.
//! * A plaintext record's body is a sequence of units (Zeek's `RecordText[] &length=length`): a
//!   ChangeCipherSpec unit is one byte, all other content types take the rest. After each unit,
//!   `ssl_plaintext_data` for the whole record. An empty record raises nothing.
//! * Alerts: at most `max_alerts_per_record` per record (one for TLS 1.3), else the weird
//!   `SSL_excessive_alerts_in_record` with the number of alerts and the rest is ignored.
//! * Direction: a ClientHello from the responder, or a ServerHello/HelloRequest from the
//!   originator, flips the connection (`ssl_connection_flipped`); flipping back raises the event
//!   again and, once, the weird `SSL_unclear_connection_direction`. `is_client = is_orig ^ flipped`.
//! * The negotiated version is the server's `supported_versions` selection if present, else the
//!   ServerHello version; the first value set wins.
//! * Hellos: an unsupported client (server) version is the violation `unsupported client
//!   (server) SSL version 0x…` raised right before the hello event, after the extension events,
//!   and parsing stops after this message (`SetSkip`); a supported client version confirms the
//!   analyzer. `ssl_server_curve` (retired in Zeek 3.0) only goes out under
//!   [`Config::raise_ssl_server_curve`] (the spec's context value `emit_server_curve`).
//! * A handshake message that does not parse raises none of its events: violation
//!   `Binpac exception: …` (binpac's text where we can reproduce it), no
//!   `ssl_handshake_message`, and the rest of the buffered handshake data is dropped, as binpac
//!   drops its flow buffer. Events of earlier messages and records stay raised. Record-level
//!   errors end the current delivery.
//! * After `ssl_established` (if `disable_analyzer_after_detection`) or any violation (if
//!   `disable_analyzer_after_violation`) the analyzer finishes the current packet and is then
//!   removed, like Zeek's script-level `disable_analyzer` that runs after the packet's events
//!   (the front end then raises [`Event::Disabled`]). [`Config::min_encrypted_data_before_disable`]
//!   defers the stop after `ssl_established` until that many `ssl_encrypted_data` events were
//!   raised. Violations Zeek pairs with `SetSkip(true)` stop parsing immediately.

use pac_runtime::{ErrorKind, ParseError};
use tls_grammar::{
    Alert, CertificateCertificates, CipherSuite, ContentType, Context, ExtensionBody, Extensions,
    Handshake, HandshakeMessageBody, HandshakeType, Heartbeat, KeyExchangeClass, ProtocolVersion,
    SSLv2Message, SSLv2MessageBody, SSLv2MessageType, ServerHelloHello, SslEvent,
    SupportedVersionsVersions,
};

use super::event::{Analyzer, Event, EventSink, HelloView};
use super::record::V2_CONTENT_TYPE_BASE;
use super::version::{is_pre_tls13, is_tls13, orig_label, version_ok, UNKNOWN_VERSION};
use super::Config;

/// Handshake types Zeek's handshake parser knows; any other is the violation
/// `unknown handshake message (N) from originator|responder`. (The spec knows a few more, e.g.
/// `request_connection_id`; Zeek's verdict is what we reproduce.)
pub const KNOWN_HANDSHAKE_TYPES: [HandshakeType; 21] = {
    use HandshakeType as H;
    [
        H::hello_request,
        H::client_hello,
        H::server_hello,
        H::hello_verify_request,
        H::new_session_ticket,
        H::end_of_early_data,
        H::hello_retry_request,
        H::encrypted_extensions,
        H::certificate,
        H::server_key_exchange,
        H::certificate_request,
        H::server_hello_done,
        H::certificate_verify,
        H::client_key_exchange,
        H::finished,
        H::certificate_url,
        H::certificate_status,
        H::supplemental_data,
        H::key_update,
        H::compressed_certificate,
        H::message_hash,
    ]
};

/// What a record's `content_type` (Zeek's number, see [`RecordInfo::content_type`]) stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordContent {
    /// A TLS/DTLS record of this content type.
    Tls(ContentType),
    /// An SSLv2 message of this type (Zeek's pseudo content type `300 + type`).
    V2(SSLv2MessageType),
}

impl RecordContent {
    /// The content of Zeek's `content_type` number.
    pub fn of(content_type: u16) -> Self {
        match content_type
            .checked_sub(V2_CONTENT_TYPE_BASE)
            .and_then(|t| u8::try_from(t).ok())
        {
            Some(t) => RecordContent::V2(SSLv2MessageType(t)),
            // TLS content types are one byte; nothing between 256 and 299 is ever produced.
            None => RecordContent::Tls(ContentType(u8::try_from(content_type).unwrap_or(u8::MAX))),
        }
    }

    /// Zeek's `content_type` number for this content.
    pub fn zeek_number(self) -> u16 {
        match self {
            RecordContent::Tls(t) => u16::from(t.0),
            RecordContent::V2(t) => V2_CONTENT_TYPE_BASE + u16::from(t.0),
        }
    }
}

/// Bytes of one alert (level, description).
pub const ALERT_LEN: usize = 2;

/// Bytes of the heartbeat header (type, payload length) that must be present.
pub const HEARTBEAT_HEADER_LEN: usize = 3;

/// `level` of the `ssl_alert` Zeek raises for an SSLv2 ERROR message: binpac passes `-1` into a
/// `count`, which Zeek prints as the largest count.
pub const V2_ERROR_ALERT_LEVEL: u64 = u64::MAX;

/// Bytes of the handshake message header (type, 24-bit length).
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// Zeek's `SSL_excessive_alerts_in_record`.
pub const WEIRD_EXCESSIVE_ALERTS: &str = "SSL_excessive_alerts_in_record";
/// Zeek's `SSL_unclear_connection_direction`.
pub const WEIRD_UNCLEAR_DIRECTION: &str = "SSL_unclear_connection_direction";

/// What Zeek knows about a record when it processes its body. For SSLv2 records the body
/// handed to [`Conn::record_text`] is the SSLv2 message from its type byte on (record bytes 2…),
/// which is what the spec's `SSLv2Message` parses.
#[derive(Debug, Clone, Copy)]
pub struct RecordInfo {
    /// Zeek's `content_type`.
    pub content_type: u16,
    /// Zeek's `raw_tls_version`.
    pub raw_version: u16,
    /// Zeek's record `length`.
    pub length: u64,
}

/// How the body's encryption state is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateRule {
    /// TLS/SSL: the direction's state, switched by application data (`determine_state`).
    Tls,
    /// DTLS: epoch 0 is plaintext, anything else ciphertext.
    DtlsEpoch(u16),
}

/// A record-level parse failure: the rest of the delivery is dropped (binpac's exception left
/// `NewData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aborted;

/// Where a plaintext handshake unit goes: TLS appends it to the direction's message stream,
/// DTLS reassembles fragments; both end in [`Conn::handshake_message`].
pub type HandshakeInput<'h> =
    dyn FnMut(&mut Conn, &mut dyn EventSink, &[u8]) -> Result<(), Aborted> + 'h;

/// Connection state; see the module docs.
#[derive(Debug)]
pub struct Conn {
    /// SSL or DTLS, for violation tags.
    pub analyzer: Analyzer,
    /// Options.
    pub config: Config,
    /// Zeek's `client_state_`: the originator's direction is encrypted.
    orig_encrypted: bool,
    /// Zeek's `server_state_`: the responder's direction is encrypted.
    resp_encrypted: bool,
    established: bool,
    flipped: bool,
    already_alerted: bool,
    chosen_version: u16,
    chosen_cipher: Option<u16>,
    confirmed: bool,
    /// Zeek's `SetSkip(true)`: parse nothing more.
    pub skip: bool,
    /// Remove the analyzer at the end of the current packet.
    pub remove_pending: bool,
    /// `ssl_encrypted_data` events raised so far (for `min_encrypted_data_before_disable`).
    encrypted_data_events: u32,
    /// The stop after `ssl_established` is waiting for more `ssl_encrypted_data` events.
    disable_deferred: bool,
}

impl Conn {
    /// A fresh connection.
    pub fn new(analyzer: Analyzer, config: Config) -> Self {
        Conn {
            analyzer,
            config,
            orig_encrypted: false,
            resp_encrypted: false,
            established: false,
            flipped: false,
            already_alerted: false,
            chosen_version: UNKNOWN_VERSION,
            chosen_cipher: None,
            confirmed: false,
            skip: false,
            remove_pending: false,
            encrypted_data_events: 0,
            disable_deferred: false,
        }
    }

    /// The TLS role of a direction.
    pub fn is_client(&self, is_orig: bool) -> bool {
        is_orig ^ self.flipped
    }

    /// Whether the responder turned out to be the TLS client.
    pub fn flipped(&self) -> bool {
        self.flipped
    }

    /// Whether `ssl_established` was raised through the ciphertext path.
    pub fn established(&self) -> bool {
        self.established
    }

    /// The negotiated version, 0 while unknown.
    pub fn chosen_version(&self) -> u16 {
        self.chosen_version
    }

    /// The server's chosen cipher suite.
    pub fn chosen_cipher(&self) -> Option<u16> {
        self.chosen_cipher
    }

    /// Whether a ClientHello with a supported version was seen.
    pub fn confirmed(&self) -> bool {
        self.confirmed
    }

    /// Raises one `ssl_*` event.
    fn emit(&mut self, sink: &mut dyn EventSink, ts: f64, ev: SslEvent<'_>) {
        sink.event(ts, &Event::Ssl(ev));
    }

    /// What the generated walkers need to know about the connection for a unit of one
    /// direction.
    fn context(&self, is_orig: bool, record_version: u16) -> Context<'static> {
        Context {
            is_orig,
            is_client: self.is_client(is_orig),
            record_version: u64::from(record_version),
            version: u64::from(self.chosen_version),
            emit_server_curve: self.config.raise_ssl_server_curve,
            // The QUIC values (connection ids, version) mean nothing to TLS units.
            ..Context::default()
        }
    }

    /// Reports a violation; the analyzer goes away after this delivery (if so configured).
    pub fn violation(&mut self, sink: &mut dyn EventSink, ts: f64, reason: &str) {
        sink.event(
            ts,
            &Event::Violation {
                analyzer: self.analyzer,
                reason,
            },
        );
        if self.config.disable_analyzer_after_violation {
            self.remove_pending = true;
        }
    }

    /// A violation Zeek pairs with `SetSkip(true)`.
    pub fn fatal(&mut self, sink: &mut dyn EventSink, ts: f64, reason: &str) {
        self.violation(sink, ts, reason);
        self.skip = true;
    }

    /// Reports a weird.
    pub fn weird(&mut self, sink: &mut dyn EventSink, ts: f64, name: &'static str, addl: &str) {
        sink.event(ts, &Event::Weird { name, addl });
    }

    /// Zeek's `startEncryption`.
    pub fn start_encryption(&mut self, is_orig: bool) {
        if is_orig {
            self.orig_encrypted = true;
        } else {
            self.resp_encrypted = true;
        }
    }

    fn encrypted(&self, is_orig: bool) -> bool {
        if is_orig {
            self.orig_encrypted
        } else {
            self.resp_encrypted
        }
    }

    /// Zeek's `determine_state` (TLS only): true when the unit is ciphertext.
    fn determine_state(&mut self, is_orig: bool, content_type: u16) -> bool {
        if self.encrypted(is_orig)
            || RecordContent::of(content_type) != RecordContent::Tls(ContentType::application_data)
        {
            return self.encrypted(is_orig);
        }
        if !is_pre_tls13(self.chosen_version) {
            self.start_encryption(is_orig);
            return true;
        }
        false
    }

    /// Zeek's `set_version`: the first value wins (the server's `supported_versions`, which is
    /// parsed before the outer ServerHello version is applied).
    fn set_version(&mut self, v: u16) {
        if self.chosen_version == UNKNOWN_VERSION {
            self.chosen_version = v;
        }
    }

    /// Zeek's `proc_ciphertext_record`.
    pub fn ciphertext_record(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        is_orig: bool,
        raw_version: u16,
        content_type: u16,
        length: u64,
    ) {
        if !self.established && is_tls13(self.chosen_version) {
            self.emit(
                sink,
                ts,
                SslEvent::SslProbableEncryptedHandshakeMessage {
                    is_client: is_orig,
                    length,
                },
            );
        }
        if self.orig_encrypted && self.resp_encrypted && !self.established {
            self.established = true;
            self.raise_established(sink, ts);
        }
        let is_client = self.is_client(is_orig);
        self.emit(
            sink,
            ts,
            SslEvent::SslEncryptedData {
                is_client,
                record_version: u64::from(raw_version),
                content_type: u64::from(content_type),
                length,
            },
        );
        self.encrypted_data_events = self.encrypted_data_events.saturating_add(1);
        if self.disable_deferred
            && self.encrypted_data_events >= self.config.min_encrypted_data_before_disable
        {
            self.disable_deferred = false;
            self.remove_pending = true;
        }
    }

    fn raise_established(&mut self, sink: &mut dyn EventSink, ts: f64) {
        self.emit(sink, ts, SslEvent::SslEstablished {});
        if self.config.disable_analyzer_after_detection {
            if self.encrypted_data_events >= self.config.min_encrypted_data_before_disable {
                self.remove_pending = true;
            } else {
                self.disable_deferred = true;
            }
        }
    }

    /// Processes a record body (after its header): ciphertext or a sequence of plaintext units.
    /// Handshake units are handed to `handshake` (TLS appends them to the message stream, DTLS
    /// reassembles fragments).
    #[allow(clippy::too_many_arguments)]
    pub fn record_text(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        is_orig: bool,
        info: RecordInfo,
        body: &[u8],
        rule: StateRule,
        handshake: &mut HandshakeInput<'_>,
    ) -> Result<(), Aborted> {
        let mut rest = body;
        while !rest.is_empty() && !self.skip {
            let ciphertext = match rule {
                StateRule::Tls => self.determine_state(is_orig, info.content_type),
                StateRule::DtlsEpoch(epoch) => epoch != 0,
            };
            if ciphertext {
                self.ciphertext_record(
                    sink,
                    ts,
                    is_orig,
                    info.raw_version,
                    info.content_type,
                    info.length,
                );
                return Ok(());
            }
            let ccs = RecordContent::Tls(ContentType::change_cipher_spec);
            let unit_len = if RecordContent::of(info.content_type) == ccs {
                1
            } else {
                rest.len()
            };
            let (unit, tail) = rest.split_at(unit_len);
            rest = tail;
            self.plaintext_unit(sink, ts, is_orig, info, unit, handshake)?;
            let is_client = self.is_client(is_orig);
            self.emit(
                sink,
                ts,
                SslEvent::SslPlaintextData {
                    is_client,
                    record_version: u64::from(info.raw_version),
                    content_type: u64::from(info.content_type),
                    length: info.length,
                },
            );
        }
        Ok(())
    }

    fn plaintext_unit(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        is_orig: bool,
        info: RecordInfo,
        unit: &[u8],
        handshake: &mut HandshakeInput<'_>,
    ) -> Result<(), Aborted> {
        let is_client = self.is_client(is_orig);
        use RecordContent::{Tls, V2};
        match RecordContent::of(info.content_type) {
            Tls(ContentType::change_cipher_spec) => {
                // The byte's value is not checked (the spec's `ChangeCipherSpec` insists on 1,
                // Zeek does not), so the unit is not parsed at all.
                // TLS 1.3 middlebox-compatibility CCS does not change the state.
                if !is_tls13(self.chosen_version) {
                    self.start_encryption(is_orig);
                }
                self.emit(sink, ts, SslEvent::SslChangeCipherSpec { is_client });
            }
            Tls(ContentType::alert) => self.alerts(sink, ts, is_orig, info.raw_version, unit)?,
            Tls(ContentType::heartbeat) => {
                let Ok((heartbeat, _)) = Heartbeat::parse(unit) else {
                    return self.abort(sink, ts, "Heartbeat", HEARTBEAT_HEADER_LEN, unit.len());
                };
                let ctx = self.context(is_orig, info.raw_version);
                heartbeat.walk(&ctx, &mut |ev| sink.event(ts, &Event::Ssl(ev)));
            }
            Tls(ContentType::handshake) => handshake(self, sink, unit)?,
            // Plaintext application data (TLS <= 1.2 before CCS, DTLS epoch 0): nothing to parse.
            Tls(ContentType::application_data) => {}
            V2(
                SSLv2MessageType::error
                | SSLv2MessageType::client_hello
                | SSLv2MessageType::client_master_key
                | SSLv2MessageType::server_hello,
            ) => self.v2_message(sink, ts, is_orig, info, unit)?,
            other => {
                let reason = format!(
                    "unknown SSL record type ({}) from {}",
                    other.zeek_number(),
                    orig_label(is_orig)
                );
                self.violation(sink, ts, &reason);
            }
        }
        Ok(())
    }

    /// The alerts of one plaintext alert record, each parsed with the spec's `Alert` and raised
    /// by its walker; capped per record (see the module docs).
    fn alerts(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        is_orig: bool,
        record_version: u16,
        unit: &[u8],
    ) -> Result<(), Aborted> {
        // RFC 8446 §5.1: a TLS 1.3 alert record holds exactly one alert.
        let max_len = if is_tls13(self.chosen_version) {
            ALERT_LEN
        } else {
            self.config.max_alerts_per_record.saturating_mul(ALERT_LEN)
        };
        let mut alerts = unit;
        if alerts.len() > max_len {
            let addl = (alerts.len() / ALERT_LEN).to_string();
            self.weird(sink, ts, WEIRD_EXCESSIVE_ALERTS, &addl);
            alerts = alerts.get(..max_len).unwrap_or(alerts);
        }
        let ctx = self.context(is_orig, record_version);
        // One alert at a time, so the alerts before a truncated last one are still raised, as
        // binpac raises each array element's event while it parses the array.
        for pair in alerts.chunks(ALERT_LEN) {
            let Ok((alert, _)) = Alert::parse(pair) else {
                return self.abort(sink, ts, "Alert", ALERT_LEN, pair.len());
            };
            alert.walk(&ctx, &mut |ev| sink.event(ts, &Event::Ssl(ev)));
        }
        Ok(())
    }

    /// One SSLv2 message (`msg` starts at its type byte), parsed with the spec's `SSLv2Message`.
    fn v2_message(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        is_orig: bool,
        info: RecordInfo,
        msg: &[u8],
    ) -> Result<(), Aborted> {
        let parsed = match SSLv2Message::parse(msg) {
            Ok((parsed, _)) => parsed,
            Err(e) => {
                // Zeek's SSLv2 units start after the 3 header bytes it reads (2 length bytes and
                // the type), so its byte counts leave out the type byte we parsed.
                let have = msg.len().saturating_sub(1);
                let reason = binpac_text(v2_unit_name(info.content_type), &e, have);
                self.violation(sink, ts, &reason);
                return Err(Aborted);
            }
        };
        let is_client = self.is_client(is_orig);
        let ctx = self.context(is_orig, info.raw_version);
        match parsed.body {
            SSLv2MessageBody::ClientHello(hello) => {
                let version = hello.client_version.0;
                let mut forward = |ev: SslEvent<'_>| {
                    if matches!(ev, SslEvent::SslClientHello { .. }) {
                        self.client_hello_version(sink, ts, version);
                    }
                    sink.event(ts, &Event::Ssl(ev));
                };
                parsed.walk(&ctx, &mut forward);
            }
            SSLv2MessageBody::ServerHello(hello) => {
                let version = hello.server_version.0;
                if ProtocolVersion(version) != ProtocolVersion::SSLv2 {
                    let reason = format!("Invalid version in SSL server hello. Version: {version}");
                    self.fatal(sink, ts, &reason);
                    return Ok(());
                }
                parsed.walk(&ctx, &mut |ev| sink.event(ts, &Event::Ssl(ev)));
                sink.event(
                    ts,
                    &Event::Certificate {
                        is_client,
                        der: hello.certificate,
                        first: true,
                    },
                );
            }
            SSLv2MessageBody::ClientMasterKey(_) => {
                // Encryption starts for both sides; Zeek raises ssl_established directly here,
                // without marking the connection established.
                self.start_encryption(true);
                self.start_encryption(false);
                self.raise_established(sink, ts);
            }
            SSLv2MessageBody::Error(error) => {
                // Zeek: proc_alert(rec, -1, error_code).
                self.emit(
                    sink,
                    ts,
                    SslEvent::SslAlert {
                        is_client,
                        level: V2_ERROR_ALERT_LEVEL,
                        desc: u64::from(error.error_code),
                    },
                );
            }
            SSLv2MessageBody::Unknown { .. } => {}
        }
        Ok(())
    }

    /// A binpac out-of-bound exception: violation, and the rest of the delivery is dropped.
    fn abort(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        unit: &str,
        needed: usize,
        have: usize,
    ) -> Result<(), Aborted> {
        self.violation(sink, ts, &out_of_bound(unit, needed, have));
        Err(Aborted)
    }

    /// Zeek's `check_flipped`, run before anything else of a hello is parsed.
    fn check_flipped(&mut self, sink: &mut dyn EventSink, ts: f64, desired: bool, is_orig: bool) {
        if self.flipped {
            if desired == is_orig {
                self.flipped = false;
                self.emit(sink, ts, SslEvent::SslConnectionFlipped {});
                if !self.already_alerted {
                    self.already_alerted = true;
                    self.weird(sink, ts, WEIRD_UNCLEAR_DIRECTION, "");
                }
            }
        } else if desired != is_orig {
            self.flipped = true;
            self.emit(sink, ts, SslEvent::SslConnectionFlipped {});
        }
    }

    /// Zeek's `proc_client_hello` verdict on the hello's version, raised right before
    /// `ssl_client_hello`: a confirmation, or a violation after which nothing more is parsed.
    fn client_hello_version(&mut self, sink: &mut dyn EventSink, ts: f64, version: u16) {
        if version_ok(version) {
            // Zeek's `AnalyzerConfirmation` raises its event once per analyzer.
            if !self.confirmed {
                self.confirmed = true;
                sink.event(
                    ts,
                    &Event::Confirmation {
                        analyzer: self.analyzer,
                    },
                );
            }
        } else {
            let reason = format!("unsupported client SSL version 0x{version:04x}");
            self.fatal(sink, ts, &reason);
        }
    }

    /// The parameters the spec's `Handshake` takes, from what was negotiated so far.
    fn handshake_params(&self) -> (bool, bool, bool, KeyExchangeClass) {
        let v = self.chosen_version;
        let is_dtls = self.analyzer == Analyzer::Dtls;
        let tls13 = is_tls13(v) || ProtocolVersion(v) == ProtocolVersion::DTLSv13;
        // Zeek's `uses_signature_and_hashalgorithm`: TLS 1.2 and later (drafts, DTLS 1.2 and
        // 1.3 included, as their numbers compare above TLS 1.1), but not DTLS 1.0.
        let has_sigalgs =
            v > ProtocolVersion::TLSv11.0 && ProtocolVersion(v) != ProtocolVersion::DTLSv10;
        let kex = self
            .chosen_cipher
            .map(|c| CipherSuite(c).key_exchange())
            .unwrap_or(KeyExchangeClass::UNKNOWN);
        (is_dtls, tls13, has_sigalgs, kex)
    }

    /// One complete handshake message (header included), as Zeek's handshake analyzer sees it.
    /// `record_version` is the version of the record that completed it (Zeek's
    /// `set_record_version`), for the hello events. Returns [`Aborted`] when parsing the
    /// message failed: binpac then discards everything buffered in the handshake flow, so the
    /// caller drops the rest of the data it was given.
    pub fn handshake_message(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        is_orig: bool,
        record_version: u16,
        msg: &[u8],
    ) -> Result<(), Aborted> {
        if self.skip {
            return Ok(());
        }
        let Some(&msg_type) = msg.first() else {
            // The framer only hands out messages with a complete header.
            return Ok(());
        };
        match HandshakeType(msg_type) {
            HandshakeType::hello_request | HandshakeType::server_hello => {
                self.check_flipped(sink, ts, false, is_orig)
            }
            HandshakeType::client_hello => self.check_flipped(sink, ts, true, is_orig),
            _ => {}
        }
        let (is_dtls, tls13, has_sigalgs, kex) = self.handshake_params();
        let hs = match Handshake::parse(msg, is_dtls, tls13, has_sigalgs, kex) {
            Ok((hs, _)) => hs,
            Err(e) => {
                let body_len = msg.len().saturating_sub(HANDSHAKE_HEADER_LEN);
                let reason = binpac_text(handshake_unit_name(msg_type), &e, body_len);
                self.violation(sink, ts, &reason);
                return Err(Aborted);
            }
        };
        let is_client = self.is_client(is_orig);
        // The parsed hello goes out right after its hello event, which created the log
        // record, so fingerprints need no second parse.
        let mut hello_view = match &hs.message.body {
            HandshakeMessageBody::ClientHello(h) if self.config.hello_views => {
                Some(HelloView::Client(h))
            }
            HandshakeMessageBody::ServerHello(h) if self.config.hello_views => {
                Some(HelloView::Server(h))
            }
            _ => None,
        };

        // What the state machine takes from the parsed message before its events go out.
        // `pending` is the hello verdict Zeek raises between the extension events and the
        // hello event.
        let mut pending: Option<u16> = None;
        match &hs.message.body {
            HandshakeMessageBody::ClientHello(hello) => pending = Some(hello.client_version.0),
            HandshakeMessageBody::ServerHello(hello) => {
                let (cipher, extensions) = match &hello.hello {
                    ServerHelloHello::Classic(c) => (c.cipher_suite, c.extensions.as_ref()),
                    ServerHelloHello::Draft(d) => (d.cipher_suite, d.extensions.as_ref()),
                };
                if let Some(v) = extensions.and_then(selected_version) {
                    self.set_version(v);
                }
                self.set_version(hello.server_version.0);
                self.chosen_cipher = Some(cipher.0);
                pending = Some(hello.server_version.0);
            }
            HandshakeMessageBody::Certificate(certificate) => match &certificate.certificates {
                CertificateCertificates::Tls12Certificates(c) => {
                    for (i, cert) in c.certificate_list.iter().enumerate() {
                        sink.event(
                            ts,
                            &Event::Certificate {
                                is_client,
                                der: cert.cert,
                                first: i == 0,
                            },
                        );
                    }
                }
                CertificateCertificates::Tls13Certificates(c) => {
                    for (i, entry) in c.certificate_list.iter().enumerate() {
                        sink.event(
                            ts,
                            &Event::Certificate {
                                is_client,
                                der: entry.cert_data,
                                first: i == 0,
                            },
                        );
                    }
                }
            },
            _ => {}
        }
        if !KNOWN_HANDSHAKE_TYPES.contains(&HandshakeType(msg_type)) {
            let reason = format!(
                "unknown handshake message ({msg_type}) from {}",
                orig_label(is_orig)
            );
            self.violation(sink, ts, &reason);
        }

        let ctx = self.context(is_orig, record_version);
        let mut forward = |ev: SslEvent<'_>| {
            match ev {
                SslEvent::SslClientHello { .. } => {
                    if let Some(v) = pending.take() {
                        self.client_hello_version(sink, ts, v);
                    }
                }
                SslEvent::SslServerHello { .. } => {
                    if let Some(v) = pending.take().filter(|v| !version_ok(*v)) {
                        let reason = format!("unsupported server SSL version 0x{v:04x}");
                        self.fatal(sink, ts, &reason);
                    }
                }
                _ => {}
            }
            let is_hello = matches!(
                ev,
                SslEvent::SslClientHello { .. } | SslEvent::SslServerHello { .. }
            );
            sink.event(ts, &Event::Ssl(ev));
            if is_hello {
                if let Some(hello) = hello_view.take() {
                    sink.event(
                        ts,
                        &Event::Hello {
                            dtls: is_dtls,
                            hello,
                        },
                    );
                }
            }
        };
        hs.walk(&ctx, &mut forward);
        Ok(())
    }
}

/// The version a ServerHello's `supported_versions` extension selected, if it has one.
fn selected_version(extensions: &Extensions<'_>) -> Option<u16> {
    extensions
        .extensions
        .iter()
        .find_map(|ext| match ext.body {
            ExtensionBody::SupportedVersions(sv) => match sv.versions {
                SupportedVersionsVersions::Server(s) => s.selected_version.iter().next(),
                SupportedVersionsVersions::Client(_) => None,
            },
            _ => None,
        })
        .map(|v| v.0)
}

/// Zeek's violation text for a binpac out-of-bound exception.
pub fn out_of_bound(unit: &str, needed: usize, have: usize) -> String {
    format!("Binpac exception: binpac exception: out_of_bound: {unit}: {needed} > {have}")
}

/// The violation text for a unit the generated parser rejected. A unit that ran out of bytes
/// becomes binpac's out-of-bound text for Zeek's unit `unit`, counting from the unit's start
/// (`have` bytes available there), which is exact when the failing field lies directly in
/// the unit's bound and close otherwise. Rejections binpac does not make (left-over bytes
/// inside a length, failed constraints) keep the generated parser's own description.
pub fn binpac_text(unit: &str, e: &ParseError, have: usize) -> String {
    match e.kind {
        ErrorKind::Incomplete { needed } => out_of_bound(unit, have.saturating_add(needed), have),
        _ => format!("Binpac exception: binpac exception: {e}"),
    }
}

/// The name of Zeek's binpac unit for a handshake message type, as its exceptions print it.
fn handshake_unit_name(msg_type: u8) -> &'static str {
    use HandshakeType as H;
    match H(msg_type) {
        H::client_hello => "ClientHello",
        H::server_hello => "ServerHello",
        H::hello_verify_request => "HelloVerifyRequest",
        H::new_session_ticket => "SessionTicketHandshake",
        H::certificate => "Certificate",
        H::server_key_exchange => "ServerKeyExchange",
        H::certificate_request => "CertificateRequest",
        H::certificate_verify => "CertificateVerify",
        H::client_key_exchange => "ClientKeyExchange",
        H::certificate_status => "CertificateStatus",
        _ => "Handshake",
    }
}

/// The name of Zeek's binpac unit for an SSLv2 message (by Zeek's content type).
fn v2_unit_name(content_type: u16) -> &'static str {
    match RecordContent::of(content_type) {
        RecordContent::V2(SSLv2MessageType::client_hello) => "V2ClientHello",
        RecordContent::V2(SSLv2MessageType::server_hello) => "V2ServerHello",
        RecordContent::V2(SSLv2MessageType::client_master_key) => "V2ClientMasterKey",
        RecordContent::V2(SSLv2MessageType::error) => "V2Error",
        _ => "SSLRecord",
    }
}
