//! One ssl.log row per connection, filled the way Zeek's `base/protocols/ssl/main.zeek` (and the
//! certificate part of `files.zeek`) fill `SSL::Info`.
//!
//! In: the connection's already decoded event values, one method per Zeek event handler that
//! touches the log (`client_hello`, `server_hello`, `extension`, `handshake_message`, ...), called
//! in event order. Out: an [`SslLogRow`], returned exactly once by [`SslLogState::finish`]
//! (or [`SslLogBuilder::established`], [`SslLogBuilder::violation`],
//! [`SslLogBuilder::connection_end`]) — whichever trigger comes first, as Zeek writes the row at
//! `ssl_established`, at an analyzer violation, or when the connection is removed — plus the
//! `conn_weird`s the script raises ([`SslLogState::take_weirds`]).
//!
//! [`SslLogState`] is what a connection table keeps per connection: compact, with codes rather
//! than names, and without the uid and endpoints, which the row gets when it is written.
//! [`SslLogBuilder`] adds those for standalone use.
//!
//! Create the state at the connection's first SSL event (Zeek's `set_session`); its `ts` is the
//! time of that event. Events that call `set_session` in Zeek are listed in [`SESSION_EVENTS`].

use std::rc::Rc;

use tls_grammar::{ExtensionType, HandshakeType, ProtocolVersion};

use super::cert::cert_matches_hostname;
use super::cert_cache::{CertCache, CertFacts};
use super::compact::{InlineBytes, HISTORY_INLINE, SESSION_ID_INLINE};
use super::names::{is_tls13_draft, name_or_unknown, version_name, NameTables};
use super::writer::OptionalColumns;
use crate::fingerprint::ja4::Transport;
use crate::fingerprint::Fingerprints;
use crate::output::ConnId;
use tls_grammar::{ClientHello, ServerHello};

/// Zeek's default `SSL::max_ssl_history_length`.
pub const MAX_SSL_HISTORY_LENGTH: usize = 100;
/// Fingerprints kept per certificate chain; bounds memory on endless renegotiation. Zeek has no
/// such limit; no real chain comes near it.
pub const MAX_CHAIN_CERTS: usize = 1000;
/// Weird raised when the history reaches its maximum length.
pub const WEIRD_HISTORY_LIMIT: &str = "SSL_max_ssl_history_length_reached";
/// Weird raised when a client sends more than one server name.
pub const WEIRD_MANY_SERVER_NAMES: &str = "SSL_many_server_names";
/// `source` of the weirds the SSL scripts raise.
pub const WEIRD_SOURCE: &str = "SSL";

/// Zeek events whose handlers create the ssl.log record (`set_session`) when it does not exist.
/// Not in the list: `ssl_encrypted_data` and the other events main.zeek does not handle.
pub const SESSION_EVENTS: [&str; 16] = [
    "ssl_client_hello",
    "ssl_server_hello",
    "ssl_extension_supported_versions",
    "ssl_ecdh_server_params",
    "ssl_extension_key_share",
    "ssl_extension_server_name",
    "ssl_extension_application_layer_protocol_negotiation",
    "ssl_connection_flipped",
    "ssl_handshake_message",
    "ssl_extension",
    "ssl_change_cipher_spec",
    "ssl_alert",
    "ssl_heartbeat",
    "ssl_established",
    "ssl_plaintext_data",
    "analyzer_confirmation_info",
];

/// The ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// Why a row is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTrigger {
    /// `ssl_established`.
    Established,
    /// An SSL/DTLS analyzer violation.
    Violation,
    /// The connection ended (or timed out, or the capture ended).
    ConnectionEnd,
}

/// A `conn_weird` raised by the ssl.log script logic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogWeird {
    /// Weird name.
    pub name: &'static str,
    /// Additional information (`addl`).
    pub addl: Vec<u8>,
    /// Raising component.
    pub source: &'static str,
}

/// One ssl.log row; `None` is an unset column (`-` in TSV, absent in JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct SslLogRow {
    /// Time of the connection's first SSL event.
    pub ts: f64,
    /// Connection uid.
    pub uid: String,
    /// Connection 4-tuple.
    pub id: ConnId,
    /// Negotiated version name.
    pub version: Option<String>,
    /// Chosen cipher suite name.
    pub cipher: Option<String>,
    /// Key-exchange group name.
    pub curve: Option<String>,
    /// First SNI host name of the (last) ClientHello.
    pub server_name: Option<Vec<u8>>,
    /// Session resumed (session id, ticket, or PSK).
    pub resumed: bool,
    /// Description of the last alert.
    pub last_alert: Option<String>,
    /// First ALPN protocol the server chose.
    pub next_protocol: Option<Vec<u8>>,
    /// Handshake completed.
    pub established: bool,
    /// History letters.
    pub ssl_history: String,
    /// Server chain fingerprints (set, possibly empty, once any certificate was seen).
    pub cert_chain_fps: Option<Vec<String>>,
    /// Client chain fingerprints (set together with `cert_chain_fps`).
    pub client_cert_chain_fps: Option<Vec<String>>,
    /// Subject of the server's first certificate (optional column, see [`OptionalColumns`]).
    pub subject: Option<String>,
    /// Issuer of the server's first certificate (optional column).
    pub issuer: Option<String>,
    /// Subject of the client's first certificate (optional column).
    pub client_subject: Option<String>,
    /// Issuer of the client's first certificate (optional column).
    pub client_issuer: Option<String>,
    /// Whether the SNI matches the server's leaf certificate (unset without SNI or leaf).
    pub sni_matches_cert: Option<bool>,
    /// Fingerprint columns (`--fingerprints`; all unset unless switched on in
    /// [`OptionalColumns::fingerprints`]).
    pub fingerprints: Fingerprints,
}

/// One certificate chain as the log needs it.
#[derive(Debug, Default)]
struct Chain {
    /// The certificates that parsed as X.509, in order (Zeek has no fingerprint for the
    /// others).
    certs: Vec<Rc<CertFacts>>,
    /// The first certificate.
    leaf: Option<Rc<CertFacts>>,
    /// Whether the row shows the first certificate's subject and issuer (its side's optional
    /// columns are on and it parsed; the text is in its facts).
    leaf_dn: bool,
}

/// One connection's ssl.log state without the connection's own uid and endpoints (the
/// connection table has them; [`SslLogState::finish`] takes them): what [`SslLogBuilder`] keeps
/// per tracked connection, in about 250 bytes and usually no heap allocation. Codes are kept
/// as numbers and turned into the log's names only when the row is written.
#[derive(Debug)]
pub struct SslLogState {
    ts: f64,
    names: NameTables,
    max_history: usize,
    /// Negotiated version (the hello's, or the server's `supported_versions`).
    version: Option<u64>,
    cipher: Option<u64>,
    curve: Option<u64>,
    /// Description code of the last alert.
    last_alert: Option<u64>,
    server_name: Option<Box<[u8]>>,
    next_protocol: Option<Box<[u8]>>,
    /// History letters (ASCII).
    history: InlineBytes<HISTORY_INLINE>,
    /// The client's session id when it was not empty (all zero).
    session_id: Option<InlineBytes<SESSION_ID_INLINE>>,
    resumed: bool,
    established: bool,
    client_ticket_empty_session_seen: bool,
    client_key_exchange_seen: bool,
    client_psk_seen: bool,
    hrr_seen: bool,
    logged: bool,
    /// Which optional columns are filled.
    columns: OptionalColumns,
    /// Server and client chains; both exist once any certificate was seen (Zeek's
    /// `file_sniff`). Boxed: most tracked connections never get that far.
    chains: Option<Box<(Chain, Chain)>>,
    /// Fingerprint texts of the first hellos; boxed, only present when any is on.
    fingerprints: Option<Box<Fingerprints>>,
    weirds: Vec<LogWeird>,
}

impl SslLogState {
    /// Starts the record at the connection's first SSL event, at time `ts`.
    pub fn new(ts: f64, names: NameTables) -> Self {
        SslLogState {
            ts,
            names,
            max_history: MAX_SSL_HISTORY_LENGTH,
            version: None,
            cipher: None,
            curve: None,
            last_alert: None,
            server_name: None,
            next_protocol: None,
            history: InlineBytes::default(),
            session_id: None,
            resumed: false,
            established: false,
            client_ticket_empty_session_seen: false,
            client_key_exchange_seen: false,
            client_psk_seen: false,
            hrr_seen: false,
            logged: false,
            columns: OptionalColumns::default(),
            chains: None,
            fingerprints: None,
            weirds: Vec::new(),
        }
    }

    /// Fills the optional columns switched on in `columns` (by default none, as Zeek).
    pub fn with_columns(mut self, columns: OptionalColumns) -> Self {
        self.columns = columns;
        self
    }

    /// Overrides `SSL::max_ssl_history_length`.
    pub fn with_max_history(mut self, max: usize) -> Self {
        self.max_history = max;
        self
    }

    /// Weirds raised since the last call, in order.
    pub fn take_weirds(&mut self) -> Vec<LogWeird> {
        std::mem::take(&mut self.weirds)
    }

    /// Whether [`Self::take_weirds`] has anything to hand out.
    pub fn has_weirds(&self) -> bool {
        !self.weirds.is_empty()
    }

    fn add_to_history(&mut self, is_client: bool, letter: u8) {
        if self.history.len() == self.max_history {
            return;
        }
        self.history.push(if is_client {
            letter.to_ascii_uppercase()
        } else {
            letter.to_ascii_lowercase()
        });
        if self.history.len() == self.max_history {
            self.weirds.push(LogWeird {
                name: WEIRD_HISTORY_LIMIT,
                addl: Vec::new(),
                source: WEIRD_SOURCE,
            });
        }
    }

    /// `ssl_client_hello`: `session_id` as the event carries it (32 bytes, zero-padded).
    pub fn client_hello(&mut self, record_version: u64, session_id: &[u8]) {
        if !session_id.is_empty() && session_id.iter().any(|&b| b != 0) {
            self.session_id = Some(InlineBytes::from_slice(session_id));
            self.client_ticket_empty_session_seen = false;
        }
        // SSLv2 hellos have no handshake-message event; record_version 0 marks them.
        if record_version == 0 {
            self.add_to_history(true, b'c');
        }
    }

    /// A parsed ClientHello ([`crate::ssl::Event::Hello`]): its fingerprint columns, when on.
    /// The connection's first ClientHello sets them (see [`Fingerprints::client_hello`]).
    pub fn client_hello_view(&mut self, hello: &ClientHello<'_>, quic: bool) {
        let set = self.columns.fingerprints;
        if !set.is_empty() {
            self.fingerprints
                .get_or_insert_with(Box::default)
                .client_hello(set, hello, quic);
        }
    }

    /// A parsed ServerHello: its fingerprint columns, when on; `transport` for JA4S's prefix.
    pub fn server_hello_view(&mut self, hello: &ServerHello<'_>, transport: Transport) {
        let set = self.columns.fingerprints;
        if !set.is_empty() {
            self.fingerprints
                .get_or_insert_with(Box::default)
                .server_hello(set, hello, transport);
        }
    }

    /// `ssl_server_hello`: `version` from the hello, its 32-byte random, the event's session id.
    pub fn server_hello(
        &mut self,
        version: u64,
        server_random: &[u8],
        session_id: &[u8],
        cipher: u64,
    ) {
        // A supported_versions extension seen earlier overrides the hello's version.
        let negotiated = *self.version.get_or_insert(version);
        self.cipher = Some(cipher);
        if server_random == HELLO_RETRY_REQUEST_RANDOM {
            self.hrr_seen = true;
        }
        if self.session_id.as_ref().is_some_and(|s| *s == *session_id)
            && !is_tls13_draft(negotiated)
            && negotiated != u64::from(ProtocolVersion::TLSv13)
        {
            self.resumed = true;
        }
        if version == u64::from(ProtocolVersion::SSLv2) {
            self.add_to_history(false, b's');
        }
    }

    /// `ssl_extension_supported_versions`: only a server's single selected version counts.
    pub fn extension_supported_versions(
        &mut self,
        is_client: bool,
        versions: impl IntoIterator<Item = u64>,
    ) {
        if is_client {
            return;
        }
        if let Some(v) = single(versions) {
            self.version = Some(v);
        }
    }

    /// `ssl_ecdh_server_params`.
    pub fn ecdh_server_params(&mut self, curve: u64) {
        self.curve = Some(curve);
    }

    /// `ssl_extension_key_share`: only a server's single share counts.
    pub fn extension_key_share(&mut self, is_client: bool, groups: impl IntoIterator<Item = u64>) {
        if is_client {
            return;
        }
        if let Some(g) = single(groups) {
            self.curve = Some(g);
        }
    }

    /// `ssl_extension_server_name`: the client's first name; more than one raises a weird whose
    /// `addl` lists them all as Zeek's `cat` prints a vector.
    pub fn extension_server_name<'n>(
        &mut self,
        is_client: bool,
        names: impl IntoIterator<Item = &'n [u8]>,
    ) {
        if !is_client {
            return;
        }
        let mut it = names.into_iter();
        let Some(first) = it.next() else {
            return;
        };
        self.server_name = Some(first.into());
        if let Some(second) = it.next() {
            let mut addl = b"[".to_vec();
            for (i, n) in [first, second].into_iter().chain(it).enumerate() {
                if i > 0 {
                    addl.extend_from_slice(b", ");
                }
                addl.extend_from_slice(n);
            }
            addl.push(b']');
            self.weirds.push(LogWeird {
                name: WEIRD_MANY_SERVER_NAMES,
                addl,
                source: WEIRD_SOURCE,
            });
        }
    }

    /// `ssl_extension_application_layer_protocol_negotiation`: the server's first protocol.
    pub fn extension_alpn<'p>(
        &mut self,
        is_client: bool,
        protocols: impl IntoIterator<Item = &'p [u8]>,
    ) {
        if is_client {
            return;
        }
        if let Some(p) = protocols.into_iter().next() {
            self.next_protocol = Some(p.into());
        }
    }

    /// `ssl_connection_flipped`: `^`, appended even past the history limit as Zeek does.
    pub fn connection_flipped(&mut self) {
        self.history.push(b'^');
    }

    /// `ssl_handshake_message`: one history letter per message type.
    pub fn handshake_message(&mut self, is_client: bool, msg_type: u64) {
        use HandshakeType as H;
        let msg_type = u8::try_from(msg_type).map_or(H(u8::MAX), H);
        if is_client && msg_type == H::client_key_exchange {
            self.client_key_exchange_seen = true;
        }
        let letter = match msg_type {
            H::hello_request => b'h',
            H::client_hello => b'c',
            H::server_hello if self.hrr_seen => {
                // The server_hello event came first and flagged the retry request.
                self.hrr_seen = false;
                b'j'
            }
            H::server_hello => b's',
            H::hello_verify_request => b'v',
            H::new_session_ticket => b't',
            H::end_of_early_data => b'e',
            H::hello_retry_request => b'j',
            H::encrypted_extensions => b'o',
            H::certificate => b'x',
            H::server_key_exchange => b'k',
            H::certificate_request => b'r',
            H::server_hello_done => b'n',
            H::certificate_verify => b'y',
            H::client_key_exchange => b'g',
            H::finished => b'f',
            H::certificate_url => b'w',
            H::certificate_status => b'u',
            H::supplemental_data => b'a',
            H::key_update => b'p',
            H::message_hash => b'm',
            _ => b'z',
        };
        self.add_to_history(is_client, letter);
    }

    /// `ssl_extension` (raised for every extension, before the hello event): tracks session
    /// tickets and pre-shared keys for `resumed`. `val_len` is the length of the raw body.
    pub fn extension(&mut self, is_client: bool, code: u64, val_len: usize) {
        let session_ticket = u64::from(ExtensionType::session_ticket);
        let pre_shared_key = u64::from(ExtensionType::pre_shared_key);
        if is_client && code == session_ticket && val_len > 0 {
            self.client_ticket_empty_session_seen = true;
        } else if is_client && code == pre_shared_key {
            self.client_psk_seen = true;
        } else if !is_client && code == pre_shared_key && self.client_psk_seen {
            self.resumed = true;
        }
    }

    /// `ssl_change_cipher_spec`.
    pub fn change_cipher_spec(&mut self, is_client: bool) {
        self.add_to_history(is_client, b'i');
        if is_client && self.client_ticket_empty_session_seen && !self.client_key_exchange_seen {
            self.resumed = true;
        }
    }

    /// `ssl_alert`.
    pub fn alert(&mut self, is_client: bool, _level: u64, desc: u64) {
        self.add_to_history(is_client, b'l');
        self.last_alert = Some(desc);
    }

    /// `ssl_heartbeat`.
    pub fn heartbeat(&mut self, is_client: bool) {
        self.add_to_history(is_client, b'b');
    }

    /// One certificate of a Certificate message, in chain order; `is_client` is the TLS role.
    pub fn certificate(&mut self, is_client: bool, der: &[u8]) {
        self.add_certificate(is_client, der, Rc::new(CertFacts::parse(der)));
    }

    /// [`Self::certificate`] with the facts of certificates seen before taken from `cache`.
    pub fn certificate_cached(&mut self, is_client: bool, der: &[u8], cache: &mut CertCache) {
        self.add_certificate(is_client, der, cache.facts(der));
    }

    fn add_certificate(&mut self, is_client: bool, der: &[u8], facts: Rc<CertFacts>) {
        let chains = self.chains.get_or_insert_with(Default::default);
        let (server, client) = &mut **chains;
        let chain = if is_client { client } else { server };
        let parsed = facts.names.is_some();
        if parsed && chain.certs.len() < MAX_CHAIN_CERTS {
            chain.certs.push(Rc::clone(&facts));
        }
        if chain.leaf.is_none() {
            let wanted = if is_client {
                self.columns.client_subject_issuer
            } else {
                self.columns.server_subject_issuer
            };
            // Only the first certificate's names are logged, and only when asked for: the text
            // costs a second parse (once per distinct certificate with a cache).
            chain.leaf_dn = wanted && parsed && facts.subject_issuer(der).is_some();
            chain.leaf = Some(facts);
        }
    }

    /// The row as it stands, for the connection `uid`/`id` (for inspection; the log gets it
    /// through [`Self::finish`]).
    pub fn row(&self, uid: &str, id: ConnId) -> SslLogRow {
        let name = |table: fn(u64) -> Option<&'static str>, code: Option<u64>| {
            code.map(|c| name_or_unknown(table(c), c))
        };
        let mut row = SslLogRow {
            ts: self.ts,
            uid: uid.to_owned(),
            id,
            version: self.version.map(version_name),
            cipher: name(self.names.cipher, self.cipher),
            curve: name(self.names.curve, self.curve),
            server_name: self.server_name.as_deref().map(<[u8]>::to_vec),
            resumed: self.resumed,
            last_alert: name(self.names.alert, self.last_alert),
            next_protocol: self.next_protocol.as_deref().map(<[u8]>::to_vec),
            established: self.established,
            // History letters are ASCII by construction.
            ssl_history: String::from_utf8_lossy(self.history.as_slice()).into_owned(),
            cert_chain_fps: None,
            client_cert_chain_fps: None,
            subject: None,
            issuer: None,
            client_subject: None,
            client_issuer: None,
            sni_matches_cert: None,
            fingerprints: self.fingerprints.as_deref().cloned().unwrap_or_default(),
        };
        // Zeek's `ssl_finishing`: the certificate columns.
        if let Some(chains) = &self.chains {
            let (server, client) = &**chains;
            let fps = |c: &Chain| {
                c.certs
                    .iter()
                    .filter_map(|f| f.fingerprint.clone())
                    .collect()
            };
            row.cert_chain_fps = Some(fps(server));
            row.client_cert_chain_fps = Some(fps(client));
            let leaf_names = server.leaf.as_ref().and_then(|l| l.names.as_ref());
            if let (Some(leaf), Some(sni)) = (leaf_names, &self.server_name) {
                row.sni_matches_cert = Some(cert_matches_hostname(leaf, sni));
            }
            let dn = |c: &Chain| {
                c.leaf
                    .as_ref()
                    .filter(|_| c.leaf_dn)
                    .and_then(|l| l.cached_subject_issuer())
                    .cloned()
            };
            if let Some((subject, issuer)) = dn(server) {
                row.subject = Some(subject);
                row.issuer = Some(issuer);
            }
            if let Some((subject, issuer)) = dn(client) {
                row.client_subject = Some(subject);
                row.client_issuer = Some(issuer);
            }
        }
        row
    }

    /// Returns the row of the connection `uid`/`id` unless it was already returned;
    /// `Established` marks it established first.
    pub fn finish(&mut self, trigger: LogTrigger, uid: &str, id: ConnId) -> Option<SslLogRow> {
        if self.logged {
            return None;
        }
        if trigger == LogTrigger::Established {
            self.established = true;
        }
        self.logged = true;
        // The texts move into the row: nothing reads them afterwards.
        let fingerprints = self.fingerprints.take();
        let mut row = self.row(uid, id);
        if let Some(f) = fingerprints {
            row.fingerprints = *f;
        }
        Some(row)
    }
}

/// An [`SslLogState`] together with its connection's uid and endpoints: the standalone builder
/// for callers without a connection table (replaying events, tests). The event methods are
/// [`SslLogState`]'s, reached through `Deref`.
#[derive(Debug)]
pub struct SslLogBuilder {
    state: SslLogState,
    uid: String,
    id: ConnId,
}

impl std::ops::Deref for SslLogBuilder {
    type Target = SslLogState;
    fn deref(&self) -> &SslLogState {
        &self.state
    }
}

impl std::ops::DerefMut for SslLogBuilder {
    fn deref_mut(&mut self) -> &mut SslLogState {
        &mut self.state
    }
}

impl SslLogBuilder {
    /// Starts the record at the connection's first SSL event, at time `ts`.
    pub fn new(ts: f64, uid: &str, id: ConnId, names: NameTables) -> Self {
        SslLogBuilder {
            state: SslLogState::new(ts, names),
            uid: uid.to_owned(),
            id,
        }
    }

    /// Fills the optional columns switched on in `columns` (by default none, as Zeek).
    pub fn with_columns(mut self, columns: OptionalColumns) -> Self {
        self.state = self.state.with_columns(columns);
        self
    }

    /// Overrides `SSL::max_ssl_history_length`.
    pub fn with_max_history(mut self, max: usize) -> Self {
        self.state = self.state.with_max_history(max);
        self
    }

    /// The row as it stands (for inspection; the log gets it through the finishing methods).
    pub fn row(&self) -> SslLogRow {
        self.state.row(&self.uid, self.id)
    }

    /// `ssl_established`: marks the row established and hands it out (once).
    pub fn established(&mut self) -> Option<SslLogRow> {
        self.finish(LogTrigger::Established)
    }

    /// An SSL/DTLS analyzer violation: hands the row out if not yet done.
    pub fn violation(&mut self) -> Option<SslLogRow> {
        self.finish(LogTrigger::Violation)
    }

    /// End of the connection: hands the row out if not yet done.
    pub fn connection_end(&mut self) -> Option<SslLogRow> {
        self.finish(LogTrigger::ConnectionEnd)
    }

    /// Runs Zeek's `ssl_finishing` (certificate columns) and returns the row unless it was
    /// already returned.
    pub fn finish(&mut self, trigger: LogTrigger) -> Option<SslLogRow> {
        self.state.finish(trigger, &self.uid, self.id)
    }
}

/// The only element of `it`, or `None` when it has zero or several.
fn single(it: impl IntoIterator<Item = u64>) -> Option<u64> {
    let mut it = it.into_iter();
    let first = it.next()?;
    match it.next() {
        Some(_) => None,
        None => Some(first),
    }
}
