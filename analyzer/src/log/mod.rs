//! ssl.log: Zeek's per-connection SSL summary.
//!
//! In: a connection's decoded event values, fed to an [`SslLogBuilder`] in event order. Out: one
//! [`SslLogRow`] per connection (when it is established, on a violation, or at its end — the
//! builder says which call hands it out), written by [`TsvLogWriter`] (Zeek's ASCII format) or
//! [`JsonLogWriter`] (Zeek's JSON format). [`names`] maps codes to the names the log prints,
//! [`cert`] derives fingerprints and the SNI/certificate match ([`cert_cache`] once per distinct
//! certificate), [`dn`] the subject and issuer text
//! of the optional columns ([`OptionalColumns`]). [`stream`] is a run's ssl.log in either format
//! and what all connections' builders share.
//!
//! x509.log: [`x509`] renders a certificate's columns, [`x509_log`] decides (Zeek's
//! deduplication) which certificates are logged and writes the rows, under Zeek's
//! logging-framework caps ([`limits`]).

pub mod builder;
pub mod cert;
pub mod cert_cache;
mod compact;
pub mod dn;
pub mod file;
pub mod limits;
pub mod names;
pub mod quic_log;
pub mod stats_log;
pub mod stream;
pub mod table;
pub mod tunnel_log;
pub mod writer;
pub mod x509;
pub mod x509_log;

pub use builder::{
    LogTrigger, LogWeird, SslLogBuilder, SslLogRow, SslLogState, MAX_SSL_HISTORY_LENGTH,
};
pub use names::NameTables;
pub use quic_log::{QuicLogState, QuicOutput};
pub use stream::{LogFormat, LogOutput, LogShared};
pub use tunnel_log::TunnelOutput;
pub use writer::{
    format_log_time, JsonLogWriter, OptionalColumns, TsvLogWriter, SSL_LOG_FIELDS, SSL_LOG_TYPES,
};
pub use x509_log::X509Output;
