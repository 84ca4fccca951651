//! quic.log: Zeek's per-QUIC-session summary, built from the QUIC and SSL events.
//!
//! In: a connection's `QUIC::*` events and the few `ssl_*` events Zeek's
//! `base/protocols/quic/main.zeek` handles, fed to a [`QuicLogState`] in event order. Out:
//! [`QuicLogRow`]s, written by [`QuicOutput`] in Zeek's TSV or JSON format.
//!
//! The rules are main.zeek's: the record (`c$quic`) is created by the first Initial, Handshake,
//! 0-RTT, Retry or unhandled-version packet (`set_session`), and written — then forgotten, so
//! that the next packet starts a new one — by a Retry, an unhandled version or a
//! CONNECTION_CLOSE frame, or at the connection's end if it is still pending. A connection can
//! therefore have several rows (a Retry writes the first). `history` gets one letter per event,
//! upper case for the client (originator), and stops at `QUIC::max_history_length` letters
//! with the weird `QUIC_max_history_length_reached`.

use std::io::Write;

use super::stream::LogFormat;
use super::table::{json_conn, tsv_conn, TableLog};
use super::writer::{json_key, json_opt, sep, tsv_opt, tsv_str};
use crate::capture::ConnId;
use crate::output::escape::json_string;
use crate::output::stream::Destination;

/// Zeek's default for `QUIC::max_history_length`.
pub const DEFAULT_MAX_HISTORY_LENGTH: usize = 100;
/// Weird raised when the history reaches its maximum length.
pub const WEIRD_HISTORY_LIMIT: &str = "QUIC_max_history_length_reached";
/// Weird raised when a client offers more than one ALPN protocol (quic.log keeps the first).
pub const WEIRD_MANY_PROTOCOLS: &str = "QUIC_many_protocols";
/// Weird raised for a short-header threshold before any long-header packet created the record.
pub const WEIRD_SPURIOUS_SHORT_HEADER: &str = "QUIC_spurious_short_header_packet_threshold_crossed";
/// Weird raised for a discarded packet before the record exists (main.zeek: "should not happen").
pub const WEIRD_SPURIOUS_DISCARDED: &str = "QUIC_spurious_discarded_packet";

/// quic.log's path (file name without `.log`).
pub const QUIC_LOG_PATH: &str = "quic";
/// Column names of Zeek's quic.log, in Zeek's order.
pub const QUIC_LOG_FIELDS: [&str; 13] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "version",
    "client_initial_dcid",
    "client_scid",
    "server_scid",
    "server_name",
    "client_protocol",
    "history",
];
/// Column types of Zeek's quic.log.
pub const QUIC_LOG_TYPES: [&str; 13] = [
    "time", "string", "addr", "port", "addr", "port", "string", "string", "string", "string",
    "string", "string", "string",
];

/// Zeek's `QUIC::version_strings`: the readable name of a QUIC version, or `unknown-<hex>`.
pub fn version_string(version: u32) -> String {
    let known = match version {
        0x0000_0001 => "1",
        0x6b33_43cf => "quicv2",
        0xff00_0016 => "draft-22",
        0xff00_0017 => "draft-23",
        0xff00_0018 => "draft-24",
        0xff00_0019 => "draft-25",
        0xff00_001a => "draft-26",
        0xff00_001b => "draft-27",
        0xff00_001c => "draft-28",
        0xff00_001d => "draft-29",
        // Zeek's table names 0xff00001f "draft-30" too (sic); reproduced.
        0xff00_001e | 0xff00_001f => "draft-30",
        0xff00_0020 => "draft-32",
        0xff00_0021 => "draft-33",
        0xff00_0022 => "draft-34",
        0xface_b001 => "mvfst (faceb001)",
        0xface_b002 => "mvfst (faceb002)",
        0xface_b00e => "mvfst (faceb00e)",
        0xface_b011 => "mvfst (faceb011)",
        0xface_b012 => "mvfst (faceb012)",
        0xface_b013 => "mvfst (faceb013)",
        other => return format!("unknown-{other:x}"),
    };
    known.to_string()
}

/// One quic.log row; `None` is an unset column (`-` in TSV, absent in JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct QuicLogRow {
    /// Time of the packet that created the record.
    pub ts: f64,
    /// Connection uid.
    pub uid: String,
    /// Connection 4-tuple.
    pub id: ConnId,
    /// [`version_string`] of the version of the packet that created the record.
    pub version: String,
    /// The client's first non-empty Destination Connection ID, hex.
    pub client_initial_dcid: Option<String>,
    /// The client's latest Source Connection ID, hex.
    pub client_scid: Option<String>,
    /// The server's latest Source Connection ID, hex.
    pub server_scid: Option<String>,
    /// The first name of the client's server_name extension.
    pub server_name: Option<Vec<u8>>,
    /// The first protocol of the client's ALPN extension.
    pub client_protocol: Option<Vec<u8>>,
    /// One letter per event (see the module docs).
    pub history: String,
}

/// A weird the quic.log logic raises, for the event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuicLogWeird {
    /// Weird name.
    pub name: &'static str,
    /// Additional information (`addl`).
    pub addl: String,
}

/// The packet kinds that call main.zeek's `set_session` and add a history letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicPacketEvent {
    /// `QUIC::initial_packet`: `I`.
    Initial,
    /// `QUIC::handshake_packet`: `H`.
    Handshake,
    /// `QUIC::zero_rtt_packet`: `Z`.
    ZeroRtt,
    /// `QUIC::retry_packet`: `R`, then the row is written.
    Retry,
    /// `QUIC::unhandled_version`: `U`, then the row is written.
    UnhandledVersion,
}

/// The record being built (Zeek's `c$quic`).
#[derive(Debug, Clone)]
struct Info {
    ts: f64,
    version: String,
    client_initial_dcid: Option<String>,
    client_scid: Option<String>,
    server_scid: Option<String>,
    server_name: Option<Vec<u8>>,
    client_protocol: Option<Vec<u8>>,
    history: String,
}

/// One connection's quic.log state; see the module docs.
#[derive(Debug)]
pub struct QuicLogState {
    max_history_length: usize,
    info: Option<Info>,
    /// Rows written by the events so far, not yet taken by the caller.
    rows: Vec<QuicLogRow>,
    weirds: Vec<QuicLogWeird>,
}

impl QuicLogState {
    /// A connection's state with Zeek's `QUIC::max_history_length`.
    pub fn new(max_history_length: usize) -> Self {
        QuicLogState {
            max_history_length,
            info: None,
            rows: Vec::new(),
            weirds: Vec::new(),
        }
    }

    /// main.zeek's `set_session`.
    fn set_session(&mut self, ts: f64, is_orig: bool, version: u64, dcid: &[u8], scid: &[u8]) {
        let info = self.info.get_or_insert_with(|| Info {
            ts,
            version: version_string(u32::try_from(version).unwrap_or(u32::MAX)),
            client_initial_dcid: None,
            client_scid: None,
            server_scid: None,
            server_name: None,
            client_protocol: None,
            history: String::new(),
        });
        if is_orig && !dcid.is_empty() && info.client_initial_dcid.is_none() {
            info.client_initial_dcid = Some(hex(dcid));
        }
        if is_orig {
            info.client_scid = Some(hex(scid));
        } else {
            info.server_scid = Some(hex(scid));
        }
    }

    /// main.zeek's `add_to_history`: the letter in the sender's case, up to the limit.
    fn add_to_history(&mut self, is_orig: bool, letter: char) {
        let Some(info) = self.info.as_mut() else {
            return;
        };
        let len = info.history.len();
        if len >= self.max_history_length {
            return;
        }
        info.history.push(if is_orig {
            letter.to_ascii_uppercase()
        } else {
            letter.to_ascii_lowercase()
        });
        if len + 1 == self.max_history_length {
            self.weirds.push(QuicLogWeird {
                name: WEIRD_HISTORY_LIMIT,
                addl: String::new(),
            });
        }
    }

    /// main.zeek's `log_record` followed by `delete c$quic`.
    fn log_and_forget(&mut self, uid: &str, id: ConnId) {
        if let Some(info) = self.info.take() {
            self.rows.push(QuicLogRow {
                ts: info.ts,
                uid: uid.to_string(),
                id,
                version: info.version,
                client_initial_dcid: info.client_initial_dcid,
                client_scid: info.client_scid,
                server_scid: info.server_scid,
                server_name: info.server_name,
                client_protocol: info.client_protocol,
                history: info.history,
            });
        }
    }

    /// A long-header packet event (`QUIC::initial_packet` and its siblings).
    #[allow(clippy::too_many_arguments)]
    pub fn packet(
        &mut self,
        kind: QuicPacketEvent,
        ts: f64,
        is_orig: bool,
        version: u64,
        dcid: &[u8],
        scid: &[u8],
        uid: &str,
        id: ConnId,
    ) {
        match kind {
            QuicPacketEvent::Initial => {
                self.set_session(ts, is_orig, version, dcid, scid);
                self.add_to_history(is_orig, 'I');
            }
            QuicPacketEvent::Handshake => {
                self.set_session(ts, is_orig, version, dcid, scid);
                self.add_to_history(is_orig, 'H');
            }
            QuicPacketEvent::ZeroRtt => {
                self.set_session(ts, is_orig, version, dcid, scid);
                self.add_to_history(is_orig, 'Z');
            }
            QuicPacketEvent::Retry | QuicPacketEvent::UnhandledVersion => {
                if self.info.is_none() {
                    self.set_session(ts, is_orig, version, dcid, scid);
                }
                let letter = if kind == QuicPacketEvent::Retry {
                    'R'
                } else {
                    'U'
                };
                self.add_to_history(is_orig, letter);
                self.log_and_forget(uid, id);
            }
        }
    }

    /// `QUIC::connection_close_frame`: `C`, then the row is written (if there is a record).
    pub fn connection_close(&mut self, is_orig: bool, uid: &str, id: ConnId) {
        if self.info.is_none() {
            return;
        }
        self.add_to_history(is_orig, 'C');
        self.log_and_forget(uid, id);
    }

    /// `QUIC::short_header_packet_threshold_crossed`: `O`.
    pub fn short_header_threshold(&mut self, is_orig: bool, threshold: u64) {
        if self.info.is_none() {
            self.weirds.push(QuicLogWeird {
                name: WEIRD_SPURIOUS_SHORT_HEADER,
                addl: threshold.to_string(),
            });
            return;
        }
        self.add_to_history(is_orig, 'O');
    }

    /// `QUIC::discarded_packet`: `X`.
    pub fn discarded_packet(&mut self, is_orig: bool) {
        if self.info.is_none() {
            self.weirds.push(QuicLogWeird {
                name: WEIRD_SPURIOUS_DISCARDED,
                addl: String::new(),
            });
            return;
        }
        self.add_to_history(is_orig, 'X');
    }

    /// `ssl_client_hello` (`S`) and `ssl_server_hello` (`s`), only while a record exists.
    pub fn ssl_hello(&mut self, is_client: bool) {
        if self.info.is_some() {
            self.add_to_history(is_client, 'S');
        }
    }

    /// The client's `ssl_extension_server_name`: the first name.
    pub fn server_name<'n>(&mut self, is_client: bool, mut names: impl Iterator<Item = &'n [u8]>) {
        let Some(info) = self.info.as_mut() else {
            return;
        };
        if !is_client {
            return;
        }
        if let Some(first) = names.next() {
            info.server_name = Some(first.to_vec());
        }
    }

    /// The client's ALPN extension: the first protocol; more than one is a weird whose
    /// `addl` is Zeek's `cat(protocols)`.
    pub fn alpn(&mut self, is_client: bool, protocols: &[&[u8]]) {
        let Some(info) = self.info.as_mut() else {
            return;
        };
        if !is_client {
            return;
        }
        let Some(first) = protocols.first() else {
            return;
        };
        info.client_protocol = Some(first.to_vec());
        if protocols.len() > 1 {
            // cat() of a vector of strings: `[a, b]`.
            let mut addl = String::from("[");
            for (i, p) in protocols.iter().enumerate() {
                if i > 0 {
                    addl.push_str(", ");
                }
                addl.push_str(&String::from_utf8_lossy(p));
            }
            addl.push(']');
            self.weirds.push(QuicLogWeird {
                name: WEIRD_MANY_PROTOCOLS,
                addl,
            });
        }
    }

    /// The connection ended: main.zeek's `finalize_quic` writes a pending record.
    pub fn finish(&mut self, uid: &str, id: ConnId) {
        self.log_and_forget(uid, id);
    }

    /// Rows written since the last call.
    pub fn take_rows(&mut self) -> Vec<QuicLogRow> {
        std::mem::take(&mut self.rows)
    }

    /// Whether rows or weirds wait to be taken.
    pub fn has_output(&self) -> bool {
        !self.rows.is_empty() || !self.weirds.is_empty()
    }

    /// Weirds raised since the last call.
    pub fn take_weirds(&mut self) -> Vec<QuicLogWeird> {
        std::mem::take(&mut self.weirds)
    }
}

/// Lowercase hex, Zeek's `bytestring_to_hexstr`.
fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * b.len());
    for &x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 0x0f)]));
    }
    s
}

/// quic.log of a run.
pub struct QuicOutput<'w> {
    table: TableLog<'w>,
}

impl<'w> QuicOutput<'w> {
    /// quic.log in `format`, written to `out`.
    pub fn new(format: LogFormat, out: &'w mut dyn Write) -> Self {
        QuicOutput {
            table: TableLog::new(
                format,
                QUIC_LOG_PATH,
                &QUIC_LOG_FIELDS,
                &QUIC_LOG_TYPES,
                out,
            ),
        }
    }

    /// Formats one row (after the TSV header, the first time).
    pub fn row(&mut self, r: &QuicLogRow) {
        self.table.row(|b, format| match format {
            LogFormat::Tsv => tsv_row(b, r),
            LogFormat::Json => json_row(b, r),
        });
    }

    /// The log file (header, footer, rotation, buffer, destination), which the pipeline
    /// handles alike for every log beside ssl.log.
    pub fn table(&mut self) -> &mut TableLog<'w> {
        &mut self.table
    }

    /// Where the rows go, and how many there were.
    pub fn dest(&self) -> &Destination<'w> {
        &self.table.dest
    }
}

fn tsv_row(b: &mut Vec<u8>, r: &QuicLogRow) {
    tsv_conn(b, r.ts, &r.uid, &r.id);
    tsv_str(b, r.version.as_bytes());
    sep(b);
    tsv_opt(b, r.client_initial_dcid.as_deref().map(str::as_bytes));
    sep(b);
    tsv_opt(b, r.client_scid.as_deref().map(str::as_bytes));
    sep(b);
    tsv_opt(b, r.server_scid.as_deref().map(str::as_bytes));
    sep(b);
    tsv_opt(b, r.server_name.as_deref());
    sep(b);
    tsv_opt(b, r.client_protocol.as_deref());
    sep(b);
    tsv_str(b, r.history.as_bytes());
    b.push(b'\n');
}

fn json_row(b: &mut Vec<u8>, r: &QuicLogRow) {
    json_conn(b, r.ts, &r.uid, &r.id);
    json_str(b, "version", r.version.as_bytes());
    let opt = json_opt;
    opt(
        b,
        "client_initial_dcid",
        r.client_initial_dcid.as_deref().map(str::as_bytes),
    );
    opt(
        b,
        "client_scid",
        r.client_scid.as_deref().map(str::as_bytes),
    );
    opt(
        b,
        "server_scid",
        r.server_scid.as_deref().map(str::as_bytes),
    );
    opt(b, "server_name", r.server_name.as_deref());
    opt(b, "client_protocol", r.client_protocol.as_deref());
    json_str(b, "history", r.history.as_bytes());
    b.extend_from_slice(b"}\n");
}

fn json_str(b: &mut Vec<u8>, k: &str, v: &[u8]) {
    json_key(b, k);
    json_string(b, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn id() -> ConnId {
        ConnId {
            orig_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            orig_p: 50000,
            resp_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            resp_p: 443,
        }
    }

    #[test]
    fn versions_are_named_as_zeek_names_them() {
        assert_eq!(version_string(1), "1");
        assert_eq!(version_string(0x6b33_43cf), "quicv2");
        assert_eq!(version_string(0xff00_001d), "draft-29");
        assert_eq!(version_string(0xff00_001f), "draft-30");
        assert_eq!(version_string(0x1a2a_3a4a), "unknown-1a2a3a4a");
        assert_eq!(version_string(0), "unknown-0");
    }

    #[test]
    fn a_retry_writes_a_row_and_the_next_initial_starts_another() {
        let mut s = QuicLogState::new(DEFAULT_MAX_HISTORY_LENGTH);
        let (uid, id) = ("Cx", id());
        s.packet(
            QuicPacketEvent::Initial,
            1.0,
            true,
            1,
            &[0xab, 0xcd],
            &[],
            uid,
            id,
        );
        s.ssl_hello(true);
        s.server_name(true, [&b"example.com"[..]].into_iter());
        s.packet(QuicPacketEvent::Retry, 2.0, false, 1, &[], &[0x01], uid, id);
        s.packet(
            QuicPacketEvent::Initial,
            3.0,
            true,
            1,
            &[0x01],
            &[],
            uid,
            id,
        );
        s.short_header_threshold(false, 1);
        s.finish(uid, id);
        let rows = s.take_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].history, "ISr");
        assert_eq!(rows[0].client_initial_dcid.as_deref(), Some("abcd"));
        // A Retry of a session that exists only adds its letter (main.zeek calls set_session
        // only when there is none), so the server's id stays unset, as in Zeek's retry test.
        assert_eq!(rows[0].server_scid, None);
        assert_eq!(rows[0].server_name.as_deref(), Some(&b"example.com"[..]));
        assert_eq!(rows[1].ts, 3.0);
        assert_eq!(rows[1].history, "Io");
        assert_eq!(rows[1].client_initial_dcid.as_deref(), Some("01"));
        assert_eq!(rows[1].client_scid.as_deref(), Some(""));
        assert_eq!(rows[1].server_scid, None);
    }

    #[test]
    fn history_stops_at_its_limit_with_one_weird() {
        let mut s = QuicLogState::new(3);
        for _ in 0..5 {
            s.packet(QuicPacketEvent::Initial, 1.0, true, 1, &[1], &[], "C", id());
        }
        let w = s.take_weirds();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].name, WEIRD_HISTORY_LIMIT);
        s.finish("C", id());
        assert_eq!(s.take_rows()[0].history, "III");
    }

    #[test]
    fn events_without_a_record_raise_zeeks_weirds_or_nothing() {
        let mut s = QuicLogState::new(DEFAULT_MAX_HISTORY_LENGTH);
        s.short_header_threshold(true, 1);
        s.discarded_packet(false);
        s.connection_close(true, "C", id());
        s.ssl_hello(true);
        let names: Vec<_> = s.take_weirds().iter().map(|w| w.name).collect();
        assert_eq!(
            names,
            [WEIRD_SPURIOUS_SHORT_HEADER, WEIRD_SPURIOUS_DISCARDED]
        );
        s.finish("C", id());
        assert!(s.take_rows().is_empty());
    }

    #[test]
    fn many_alpn_values_keep_the_first_and_say_so() {
        let mut s = QuicLogState::new(DEFAULT_MAX_HISTORY_LENGTH);
        s.packet(QuicPacketEvent::Initial, 1.0, true, 1, &[1], &[], "C", id());
        s.alpn(true, &[&b"h3"[..], b"h3-29"]);
        let w = s.take_weirds();
        assert_eq!(w[0].addl, "[h3, h3-29]");
        s.finish("C", id());
        assert_eq!(
            s.take_rows()[0].client_protocol.as_deref(),
            Some(&b"h3"[..])
        );
    }

    #[test]
    fn tsv_and_json_rows() {
        let mut s = QuicLogState::new(DEFAULT_MAX_HISTORY_LENGTH);
        s.packet(
            QuicPacketEvent::Initial,
            1.5,
            true,
            1,
            &[0x95],
            &[],
            "Cq",
            id(),
        );
        s.finish("Cq", id());
        let row = s.take_rows().remove(0);
        let mut tsv = Vec::new();
        let mut o = QuicOutput::new(LogFormat::Tsv, &mut tsv);
        o.row(&row);
        o.table().footer(2.0);
        o.table().flush();
        drop(o);
        let text = String::from_utf8_lossy(&tsv);
        assert!(text.contains("#path\tquic\n"), "{text}");
        assert!(
            text.contains(
                "1.500000\tCq\t10.0.0.1\t50000\t10.0.0.2\t443\t1\t95\t(empty)\t-\t-\t-\tI\n"
            ),
            "{text}"
        );
        let mut json = Vec::new();
        let mut o = QuicOutput::new(LogFormat::Json, &mut json);
        o.row(&row);
        o.table().flush();
        drop(o);
        assert_eq!(
            String::from_utf8_lossy(&json),
            "{\"ts\":1.5,\"uid\":\"Cq\",\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":50000,\
             \"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":443,\"version\":\"1\",\
             \"client_initial_dcid\":\"95\",\"client_scid\":\"\",\"history\":\"I\"}\n"
        );
    }
}
