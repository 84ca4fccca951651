//! What the SSL analyzer hands to its caller: [`Event`]s through an [`EventSink`].
//!
//! In: nothing (types only). Out: the event vocabulary shared by the state machine (`conn`), the
//! TCP and UDP front ends (`tls`, `dtls`) and whoever consumes them (event printer, ssl.log
//! builder). Every borrowed value points into the bytes of the current delivery or into the
//! analyzer's reassembly buffers and is only valid during the `event` call.

/// Which of Zeek's two analyzers a violation or confirmation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Analyzer {
    /// `Analyzer::ANALYZER_SSL`: SSL/TLS over TCP.
    Ssl,
    /// `Analyzer::ANALYZER_DTLS`: DTLS over UDP.
    Dtls,
}

impl Analyzer {
    /// The tag as Zeek prints it (`analyzer_violation_info`'s `atype`).
    pub fn zeek_name(self) -> &'static str {
        match self {
            Analyzer::Ssl => "Analyzer::ANALYZER_SSL",
            Analyzer::Dtls => "Analyzer::ANALYZER_DTLS",
        }
    }
}

/// The `ssl_*` events whose arguments come from connection state rather than from one parsed
/// unit alone, with Zeek's names and argument names. `is_client` is the TLS role
/// (`is_orig XOR flipped`) except where a variant says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateEvent<'a> {
    /// `ssl_established(c)`: first ciphertext record once both directions are encrypted, or an
    /// SSLv2 CLIENT-MASTER-KEY.
    SslEstablished,
    /// `ssl_encrypted_data(c, is_client, record_version, content_type, length)`.
    SslEncryptedData {
        /// TLS role of the sender.
        is_client: bool,
        /// The record header's version (0 for SSLv2, 0xFEFC for DTLS 1.3 unified headers).
        record_version: u16,
        /// The record header's content type (`head2 + 300` for SSLv2).
        content_type: u16,
        /// Zeek's record `length` (body bytes).
        length: u64,
    },
    /// `ssl_plaintext_data(c, is_client, record_version, content_type, length)`: after the
    /// events of a plaintext record's contents.
    SslPlaintextData {
        /// TLS role of the sender.
        is_client: bool,
        /// The record header's version.
        record_version: u16,
        /// The record header's content type.
        content_type: u16,
        /// Zeek's record `length`.
        length: u64,
    },
    /// `ssl_change_cipher_spec(c, is_client)`.
    SslChangeCipherSpec {
        /// TLS role of the sender.
        is_client: bool,
    },
    /// `ssl_probable_encrypted_handshake_message(c, is_client, length)`: a ciphertext record of
    /// a TLS 1.3 connection before `ssl_established`.
    SslProbableEncryptedHandshakeMessage {
        /// Zeek passes the packet direction (`is_orig`) here, not the TLS role; so do we.
        is_client: bool,
        /// Zeek's record `length`.
        length: u64,
    },
    /// `ssl_connection_flipped(c)`: the hello directions showed the responder is the TLS client
    /// (or flipped it back).
    SslConnectionFlipped,
    /// `ssl_alert(c, is_client, level, desc)`; SSLv2 ERROR records give level `-1` as a count
    /// (`u64::MAX`) and the error code as `desc`, as Zeek does.
    SslAlert {
        /// TLS role of the sender.
        is_client: bool,
        /// Alert level.
        level: u64,
        /// Alert description.
        desc: u64,
    },
    /// `ssl_heartbeat(c, is_client, length, heartbeat_type, payload_length, payload)` for a
    /// plaintext heartbeat record.
    SslHeartbeat {
        /// TLS role of the sender.
        is_client: bool,
        /// Zeek's record `length`.
        length: u64,
        /// 1 request, 2 response.
        heartbeat_type: u8,
        /// The length the message claims for its payload.
        payload_length: u16,
        /// Everything after the 3-byte heartbeat header (payload and padding).
        payload: &'a [u8],
    },
    /// `ssl_handshake_message(c, is_client, msg_type, length)`: after a handshake message's own
    /// events.
    SslHandshakeMessage {
        /// TLS role of the sender.
        is_client: bool,
        /// Handshake type.
        msg_type: u8,
        /// The 24-bit length from the message header.
        length: u32,
    },
}

impl StateEvent<'_> {
    /// The Zeek event name.
    pub fn name(&self) -> &'static str {
        match self {
            StateEvent::SslEstablished => "ssl_established",
            StateEvent::SslEncryptedData { .. } => "ssl_encrypted_data",
            StateEvent::SslPlaintextData { .. } => "ssl_plaintext_data",
            StateEvent::SslChangeCipherSpec { .. } => "ssl_change_cipher_spec",
            StateEvent::SslProbableEncryptedHandshakeMessage { .. } => {
                "ssl_probable_encrypted_handshake_message"
            }
            StateEvent::SslConnectionFlipped => "ssl_connection_flipped",
            StateEvent::SslAlert { .. } => "ssl_alert",
            StateEvent::SslHeartbeat { .. } => "ssl_heartbeat",
            StateEvent::SslHandshakeMessage { .. } => "ssl_handshake_message",
        }
    }
}

/// One thing the analyzer reports, in the order Zeek would raise it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A stateful `ssl_*` event (see [`StateEvent`]).
    State(StateEvent<'a>),
    /// Zeek's `conn_weird` with source SSL: `name` and `addl` (empty when Zeek gives none).
    Weird {
        /// Zeek's weird name, e.g. `SSL_excessive_alerts_in_record`.
        name: &'static str,
        /// Zeek's additional text.
        addl: &'a str,
    },
    /// Zeek's `analyzer_violation_info`: the analyzer is removed after the current delivery.
    Violation {
        /// Which analyzer.
        analyzer: Analyzer,
        /// Zeek's violation text.
        reason: &'a str,
    },
    /// Zeek's `analyzer_confirmation_info` (a ClientHello with a supported version).
    Confirmation {
        /// Which analyzer.
        analyzer: Analyzer,
    },
    /// Internal, no Zeek event: one DER certificate of a Certificate message (or an SSLv2
    /// SERVER-HELLO), in chain order, for ssl.log fingerprints (Zeek's file analysis).
    Certificate {
        /// TLS role of the sender.
        is_client: bool,
        /// The certificate's DER bytes.
        der: &'a [u8],
    },
}

/// Receives the analyzer's events. `ts` is the timestamp of the delivery that produced them.
pub trait EventSink {
    /// Called once per event, in order.
    fn event(&mut self, ts: f64, ev: &Event<'_>);
}
