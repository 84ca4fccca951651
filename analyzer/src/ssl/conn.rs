//! The per-connection SSL state machine shared by TLS (TCP) and DTLS (UDP).
//!
//! In: classified records (content type, version, length, body) and complete handshake messages,
//! each with its direction and timestamp. Out: the stateful `ssl_*` events, weirds, violations and
//! confirmations, in Zeek's order, through an [`EventSink`]; plus the facts the ssl.log builder
//! reads (negotiated version, cipher, flipped, established).
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
//! * Handshake message errors are caught per message: violation `Binpac exception: …`, no
//!   `ssl_handshake_message`, parsing goes on. Record-level errors end the current delivery.
//! * After `ssl_established` (if `disable_analyzer_after_detection`) or any violation (if
//!   `disable_analyzer_after_violation`) the analyzer finishes the current delivery and is then
//!   removed, like Zeek's script-level `disable_analyzer` that runs after the packet's events.
//!   Violations Zeek pairs with `SetSkip(true)` stop parsing immediately.

use super::event::{Analyzer, Event, EventSink, StateEvent};
use super::hello;
use super::version::{self, is_pre_tls13, is_tls13, orig_label, version_ok, UNKNOWN_VERSION};
use super::Config;

/// `CHANGE_CIPHER_SPEC`.
pub const CHANGE_CIPHER_SPEC: u16 = 20;
/// `ALERT`.
pub const ALERT: u16 = 21;
/// `HANDSHAKE`.
pub const HANDSHAKE: u16 = 22;
/// `APPLICATION_DATA`.
pub const APPLICATION_DATA: u16 = 23;
/// `HEARTBEAT`.
pub const HEARTBEAT: u16 = 24;
/// `V2_ERROR`.
pub const V2_ERROR: u16 = 300;
/// `V2_CLIENT_HELLO`.
pub const V2_CLIENT_HELLO: u16 = 301;
/// `V2_CLIENT_MASTER_KEY`.
pub const V2_CLIENT_MASTER_KEY: u16 = 302;
/// `V2_SERVER_HELLO`.
pub const V2_SERVER_HELLO: u16 = 304;

/// Handshake types Zeek's handshake parser knows; any other is the violation
/// `unknown handshake message (N) from originator|responder`.
pub const KNOWN_HANDSHAKE_TYPES: [u8; 21] = [
    0, 1, 2, 3, 4, 5, 6, 8, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 254,
];

/// Bytes of the handshake message header (type, 24-bit length).
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// Zeek's `SSL_excessive_alerts_in_record`.
pub const WEIRD_EXCESSIVE_ALERTS: &str = "SSL_excessive_alerts_in_record";
/// Zeek's `SSL_unclear_connection_direction`.
pub const WEIRD_UNCLEAR_DIRECTION: &str = "SSL_unclear_connection_direction";

/// What Zeek knows about a record when it processes its body.
#[derive(Debug, Clone, Copy)]
pub struct RecordInfo {
    /// Zeek's `content_type`.
    pub content_type: u16,
    /// Zeek's `raw_tls_version`.
    pub raw_version: u16,
    /// Zeek's record `length`.
    pub length: u64,
    /// Header bytes 3 and 4 (SSLv2 messages keep fields there).
    pub head34: [u8; 2],
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
    /// Remove the analyzer at the end of the current delivery.
    pub remove_pending: bool,
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

    fn state(&mut self, sink: &mut dyn EventSink, ts: f64, ev: StateEvent<'_>) {
        sink.event(ts, &Event::State(ev));
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
        if self.encrypted(is_orig) || content_type != APPLICATION_DATA {
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
            self.state(
                sink,
                ts,
                StateEvent::SslProbableEncryptedHandshakeMessage {
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
        self.state(
            sink,
            ts,
            StateEvent::SslEncryptedData {
                is_client,
                record_version: raw_version,
                content_type,
                length,
            },
        );
    }

    fn raise_established(&mut self, sink: &mut dyn EventSink, ts: f64) {
        self.state(sink, ts, StateEvent::SslEstablished);
        if self.config.disable_analyzer_after_detection {
            self.remove_pending = true;
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
            let unit_len = if info.content_type == CHANGE_CIPHER_SPEC {
                1
            } else {
                rest.len()
            };
            let (unit, tail) = rest.split_at(unit_len);
            rest = tail;
            self.plaintext_unit(sink, ts, is_orig, info, unit, handshake)?;
            let is_client = self.is_client(is_orig);
            self.state(
                sink,
                ts,
                StateEvent::SslPlaintextData {
                    is_client,
                    record_version: info.raw_version,
                    content_type: info.content_type,
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
        match info.content_type {
            CHANGE_CIPHER_SPEC => {
                // TLS 1.3 middlebox-compatibility CCS does not change the state.
                if !is_tls13(self.chosen_version) {
                    self.start_encryption(is_orig);
                }
                self.state(sink, ts, StateEvent::SslChangeCipherSpec { is_client });
            }
            ALERT => self.alerts(sink, ts, is_client, unit)?,
            HEARTBEAT => {
                let [heartbeat_type, p0, p1, payload @ ..] = unit else {
                    return self.abort(sink, ts, "Heartbeat", 3, unit.len());
                };
                self.state(
                    sink,
                    ts,
                    StateEvent::SslHeartbeat {
                        is_client,
                        length: info.length,
                        heartbeat_type: *heartbeat_type,
                        payload_length: u16::from_be_bytes([*p0, *p1]),
                        payload,
                    },
                );
            }
            HANDSHAKE => handshake(self, sink, unit)?,
            // Plaintext application data (TLS <= 1.2 before CCS, DTLS epoch 0): nothing to parse.
            APPLICATION_DATA => {}
            V2_ERROR => {
                // Zeek: proc_alert(rec, -1, error_code) with the code from header bytes 3-4.
                let desc = u64::from(u16::from_be_bytes(info.head34));
                self.state(
                    sink,
                    ts,
                    StateEvent::SslAlert {
                        is_client,
                        level: u64::MAX,
                        desc,
                    },
                );
            }
            V2_CLIENT_HELLO => {
                // The hello's version is the record layer's (SSLv2), always supported.
                sink.event(
                    ts,
                    &Event::Confirmation {
                        analyzer: self.analyzer,
                    },
                );
                self.confirmed = true;
            }
            V2_CLIENT_MASTER_KEY => {
                if unit.len() < 7 {
                    return self.abort(sink, ts, "V2ClientMasterKey", 7, unit.len());
                }
                // Encryption starts for both sides; Zeek raises ssl_established directly here,
                // without marking the connection established.
                self.start_encryption(true);
                self.start_encryption(false);
                self.raise_established(sink, ts);
            }
            V2_SERVER_HELLO => self.v2_server_hello(sink, ts, is_client, unit)?,
            other => {
                let reason = format!(
                    "unknown SSL record type ({other}) from {}",
                    orig_label(is_orig)
                );
                self.violation(sink, ts, &reason);
            }
        }
        Ok(())
    }

    fn alerts(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        is_client: bool,
        unit: &[u8],
    ) -> Result<(), Aborted> {
        // RFC 8446 §5.1: a TLS 1.3 alert record holds exactly one alert.
        let max_len = if is_tls13(self.chosen_version) {
            2
        } else {
            self.config.max_alerts_per_record.saturating_mul(2)
        };
        let mut alerts = unit;
        if alerts.len() > max_len {
            let addl = (alerts.len() / 2).to_string();
            self.weird(sink, ts, WEIRD_EXCESSIVE_ALERTS, &addl);
            alerts = alerts.get(..max_len).unwrap_or(alerts);
        }
        for pair in alerts.chunks(2) {
            let [level, desc] = pair else {
                return self.abort(sink, ts, "Alert", 2, pair.len());
            };
            self.state(
                sink,
                ts,
                StateEvent::SslAlert {
                    is_client,
                    level: u64::from(*level),
                    desc: u64::from(*desc),
                },
            );
        }
        Ok(())
    }

    fn v2_server_hello(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        is_client: bool,
        unit: &[u8],
    ) -> Result<(), Aborted> {
        // server_version, cert_len, ciph_len, conn_id_len, then the three blobs.
        let [v0, v1, c0, c1, ..] = unit else {
            return self.abort(sink, ts, "V2ServerHello", 8, unit.len());
        };
        if unit.len() < 8 {
            return self.abort(sink, ts, "V2ServerHello", 8, unit.len());
        }
        let server_version = u16::from_be_bytes([*v0, *v1]);
        let cert_len = usize::from(u16::from_be_bytes([*c0, *c1]));
        let Some(cert) = unit.get(8..8 + cert_len) else {
            return self.abort(sink, ts, "V2ServerHello", 8 + cert_len, unit.len());
        };
        if server_version != version::SSLV20 {
            let reason = format!("Invalid version in SSL server hello. Version: {server_version}");
            self.fatal(sink, ts, &reason);
            return Ok(());
        }
        sink.event(
            ts,
            &Event::Certificate {
                is_client,
                der: cert,
            },
        );
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
        let reason =
            format!("Binpac exception: binpac exception: out_of_bound: {unit}: {needed} > {have}");
        self.violation(sink, ts, &reason);
        Err(Aborted)
    }

    /// Zeek's `check_flipped`, run before anything else of a hello is parsed.
    fn check_flipped(&mut self, sink: &mut dyn EventSink, ts: f64, desired: bool, is_orig: bool) {
        if self.flipped {
            if desired == is_orig {
                self.flipped = false;
                self.state(sink, ts, StateEvent::SslConnectionFlipped);
                if !self.already_alerted {
                    self.already_alerted = true;
                    self.weird(sink, ts, WEIRD_UNCLEAR_DIRECTION, "");
                }
            }
        } else if desired != is_orig {
            self.flipped = true;
            self.state(sink, ts, StateEvent::SslConnectionFlipped);
        }
    }

    /// One complete handshake message (header included), as Zeek's handshake analyzer sees it.
    /// `record_version` is the version of the record that completed it (Zeek's
    /// `set_record_version`), for the generated hello events. Returns [`Aborted`] when parsing
    /// the message failed: binpac then discards everything buffered in the handshake flow, so
    /// the caller drops the rest of the data it was given.
    pub fn handshake_message(
        &mut self,
        sink: &mut dyn EventSink,
        ts: f64,
        is_orig: bool,
        _record_version: u16,
        msg: &[u8],
    ) -> Result<(), Aborted> {
        if self.skip {
            return Ok(());
        }
        let [msg_type, l0, l1, l2, body @ ..] = msg else {
            // The framer only hands out messages with a complete header.
            return Ok(());
        };
        let length = u32::from_be_bytes([0, *l0, *l1, *l2]);
        match msg_type {
            0 | 2 => self.check_flipped(sink, ts, false, is_orig),
            1 => self.check_flipped(sink, ts, true, is_orig),
            _ => {}
        }
        let is_client = self.is_client(is_orig);
        let outcome = match msg_type {
            1 => hello::client_version(body).map(|v| {
                if version_ok(v) {
                    self.confirmed = true;
                    sink.event(
                        ts,
                        &Event::Confirmation {
                            analyzer: self.analyzer,
                        },
                    );
                } else {
                    self.fatal(
                        sink,
                        ts,
                        &format!("unsupported client SSL version 0x{v:04x}"),
                    );
                }
            }),
            2 => hello::server_choice(body).map(|choice| {
                if let Some(v) = choice.selected_version {
                    self.set_version(v);
                }
                self.set_version(choice.server_version);
                self.chosen_cipher = Some(choice.cipher);
                if !version_ok(choice.server_version) {
                    let reason = format!(
                        "unsupported server SSL version 0x{:04x}",
                        choice.server_version
                    );
                    self.fatal(sink, ts, &reason);
                }
            }),
            11 => hello::certificates(body, |der| {
                sink.event(ts, &Event::Certificate { is_client, der })
            }),
            t if KNOWN_HANDSHAKE_TYPES.contains(t) => Ok(()),
            t => {
                let reason = format!(
                    "unknown handshake message ({t}) from {}",
                    orig_label(is_orig)
                );
                self.violation(sink, ts, &reason);
                Ok(())
            }
        };
        match outcome {
            Ok(()) => {
                self.state(
                    sink,
                    ts,
                    StateEvent::SslHandshakeMessage {
                        is_client,
                        msg_type: *msg_type,
                        length,
                    },
                );
                Ok(())
            }
            Err(reason) => {
                self.violation(sink, ts, &reason);
                Err(Aborted)
            }
        }
    }
}
