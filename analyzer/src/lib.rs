//! `tls-analyzer`: packet captures in, Zeek's `ssl_*` events and `ssl.log` out.
//!
//! Layers, bottom up: `capture` (pcap/pcapng, link, IP, TCP/UDP flows) -> `ssl` (the SSL/TLS/DTLS
//! connection state machine over the generated parsers) -> `log` and `output` (ssl.log, event lines).

pub mod capture;
pub mod detect;
pub mod fasthash;
pub mod fingerprint;
pub mod ftp_adat;
pub mod log;
pub mod output;
pub mod quic;
pub mod run;
pub mod session;
pub mod ssl;
