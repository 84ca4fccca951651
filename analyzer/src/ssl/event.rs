//! What the SSL analyzer hands to its caller: [`Event`]s through an [`EventSink`].
//!
//! In: nothing (types only). Out: the event vocabulary shared by the state machine (`conn`), the
//! TCP and UDP front ends (`tls`, `dtls`) and whoever consumes them (event printer, ssl.log
//! builder). Every `ssl_*` event is a variant of the spec's generated [`SslEvent`]: the events of
//! parsed units come from the generated walkers, the stateful ones (`ssl_established`,
//! `ssl_encrypted_data`, …) are built by the state machine from the same enum, so each event
//! has one declaration, one doc and one argument layout. Every borrowed value points into the
//! bytes of the current delivery or into the analyzer's reassembly buffers and is only valid
//! during the `event` call.

pub use tls_grammar::SslEvent;
use tls_grammar::{ClientHello, ServerHello};

/// A parsed hello, as the generated parser returned it (see [`Event::Hello`]); borrowed, so
/// handing it out copies nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HelloView<'a> {
    /// A TLS/DTLS ClientHello.
    Client(&'a ClientHello<'a>),
    /// A TLS/DTLS ServerHello.
    Server(&'a ServerHello<'a>),
}

/// Which of Zeek's two analyzers a violation or confirmation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Analyzer {
    /// `Analyzer::ANALYZER_SSL`: SSL/TLS over TCP.
    Ssl,
    /// `Analyzer::ANALYZER_DTLS`: DTLS over UDP.
    Dtls,
    /// `Analyzer::ANALYZER_QUIC`: QUIC, whose handshake an SSL analyzer below it gets.
    Quic,
}

impl Analyzer {
    /// The tag as Zeek prints it (`analyzer_violation_info`'s `atype`).
    pub fn zeek_name(self) -> &'static str {
        match self {
            Analyzer::Ssl => "Analyzer::ANALYZER_SSL",
            Analyzer::Dtls => "Analyzer::ANALYZER_DTLS",
            Analyzer::Quic => "Analyzer::ANALYZER_QUIC",
        }
    }
}

/// One thing the analyzer reports, in the order Zeek would raise it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<'a> {
    /// One of Zeek's `ssl_*` events, with Zeek's argument names (see the spec's `events.pac`).
    /// `is_client` is the TLS role (`is_orig XOR flipped`), except for
    /// `ssl_probable_encrypted_handshake_message`, where Zeek passes the packet direction.
    Ssl(SslEvent<'a>),
    /// Zeek's `conn_weird` with source SSL: `name` and `addl` (empty when Zeek gives none).
    Weird {
        /// Zeek's weird name, e.g. `SSL_excessive_alerts_in_record`.
        name: &'static str,
        /// Zeek's additional text.
        addl: &'a str,
    },
    /// Zeek's `analyzer_violation_info`: the analyzer is removed after the current packet.
    Violation {
        /// Which analyzer.
        analyzer: Analyzer,
        /// Zeek's violation text.
        reason: &'a str,
    },
    /// Zeek's `analyzer_confirmation_info` (the first ClientHello with a supported version;
    /// Zeek confirms an analyzer once).
    Confirmation {
        /// Which analyzer.
        analyzer: Analyzer,
    },
    /// The analyzer is removed from the connection after the current packet: Zeek's script-level
    /// `disable_analyzer` after `ssl_established` (`SSL::disable_analyzer_after_detection`) or
    /// after a violation (the DPD framework). No Zeek event; it stands for the `disabled` record of
    /// Zeek's analyzer debug log. Not raised when the connection ends or after a content gap,
    /// where Zeek disables nothing.
    Disabled {
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
        /// Whether it is the first of its message (Zeek's `application/x-x509-user-cert`,
        /// x509.log's `host_cert`).
        first: bool,
    },
    /// Internal, no Zeek event: a parsed TLS/DTLS ClientHello or ServerHello (not SSLv2), for
    /// ssl.log's fingerprint columns; raised right after `ssl_client_hello` / `ssl_server_hello`,
    /// and only when
    /// [`crate::ssl::Config::hello_views`] is on.
    Hello {
        /// The connection is DTLS.
        dtls: bool,
        /// The parsed hello.
        hello: HelloView<'a>,
    },
}

/// Receives the analyzer's events. `ts` is the timestamp of the delivery that produced them.
pub trait EventSink {
    /// Called once per event, in order.
    fn event(&mut self, ts: f64, ev: &Event<'_>);
}
