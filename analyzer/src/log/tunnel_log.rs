//! tunnel.log: Zeek's log of tunnels discovered, closed and expired.
//!
//! In: [`TunnelRecord`]s from the capture layer ([`crate::capture::tunnel`], which keeps Zeek's
//! `Tunnel::active` table). Out: rows with the columns of Zeek's `Tunnel::Info` (`ts`, `uid`,
//! `id.*`, `tunnel_type`, `action`), written by [`TunnelOutput`] as Zeek's TSV (with its header
//! lines, `#path tunnel`) or as JSON Lines.

use std::io::Write;

use super::stream::LogFormat;
use super::table::TableLog;
use super::writer::{sep, tsv_str};
use crate::capture::tunnel::TunnelRecord;
use crate::output::escape::{fixed6, json_double, json_string, push_addr, push_u64};
use crate::output::stream::Destination;

/// tunnel.log's path (file name without `.log`).
pub const TUNNEL_LOG_PATH: &str = "tunnel";
/// Column names of Zeek's tunnel.log, in Zeek's order.
pub const TUNNEL_LOG_FIELDS: [&str; 8] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "tunnel_type",
    "action",
];
/// Column types of Zeek's tunnel.log.
pub const TUNNEL_LOG_TYPES: [&str; 8] = [
    "time", "string", "addr", "port", "addr", "port", "enum", "enum",
];

/// tunnel.log of a run.
pub struct TunnelOutput<'w> {
    table: TableLog<'w>,
}

impl<'w> TunnelOutput<'w> {
    /// tunnel.log in `format`, written to `out`.
    pub fn new(format: LogFormat, out: &'w mut dyn Write) -> Self {
        TunnelOutput {
            table: TableLog::new(
                format,
                TUNNEL_LOG_PATH,
                &TUNNEL_LOG_FIELDS,
                &TUNNEL_LOG_TYPES,
                out,
            ),
        }
    }

    /// Formats one row (after the TSV header, the first time).
    pub fn row(&mut self, r: &TunnelRecord<'_>) {
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

fn tsv_row(b: &mut Vec<u8>, r: &TunnelRecord<'_>) {
    fixed6(b, r.ts);
    sep(b);
    // An IP tunnel beyond the table's bound has no uid: Zeek's unset `-`.
    if r.uid.is_empty() {
        b.push(b'-');
    } else {
        tsv_str(b, r.uid.as_bytes());
    }
    sep(b);
    push_addr(b, r.id.orig_h);
    sep(b);
    push_u64(b, u64::from(r.id.orig_p));
    sep(b);
    push_addr(b, r.id.resp_h);
    sep(b);
    push_u64(b, u64::from(r.id.resp_p));
    sep(b);
    b.extend_from_slice(r.tunnel_type.name().as_bytes());
    sep(b);
    b.extend_from_slice(r.action.name().as_bytes());
    b.push(b'\n');
}

fn json_row(b: &mut Vec<u8>, r: &TunnelRecord<'_>) {
    b.extend_from_slice(b"{\"ts\":");
    json_double(b, r.ts);
    if !r.uid.is_empty() {
        b.extend_from_slice(b",\"uid\":");
        json_string(b, r.uid.as_bytes());
    }
    b.extend_from_slice(b",\"id.orig_h\":\"");
    push_addr(b, r.id.orig_h);
    b.extend_from_slice(b"\",\"id.orig_p\":");
    push_u64(b, u64::from(r.id.orig_p));
    b.extend_from_slice(b",\"id.resp_h\":\"");
    push_addr(b, r.id.resp_h);
    b.extend_from_slice(b"\",\"id.resp_p\":");
    push_u64(b, u64::from(r.id.resp_p));
    b.extend_from_slice(b",\"tunnel_type\":\"");
    b.extend_from_slice(r.tunnel_type.name().as_bytes());
    b.extend_from_slice(b"\",\"action\":\"");
    b.extend_from_slice(r.action.name().as_bytes());
    b.extend_from_slice(b"\"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::tunnel::{TunnelAction, TunnelType};
    use crate::capture::ConnId;

    #[test]
    fn rows_in_zeeks_formats() {
        let r = TunnelRecord {
            ts: 1673516612.582234,
            uid: "CRHh1K54KFmZFQIpj",
            id: ConnId {
                orig_h: "127.0.0.1".parse().expect("addr"),
                orig_p: 47101,
                resp_h: "127.0.0.1".parse().expect("addr"),
                resp_p: 6081,
            },
            tunnel_type: TunnelType::Geneve,
            action: TunnelAction::Discover,
        };
        let mut json = Vec::new();
        {
            let mut o = TunnelOutput::new(LogFormat::Json, &mut json);
            o.row(&r);
            o.table().flush();
        }
        // Byte for byte the row of Zeek's live/tunnels/geneve-47101.pcap.tunnel.json.
        assert_eq!(
            String::from_utf8_lossy(&json),
            "{\"ts\":1673516612.582234,\"uid\":\"CRHh1K54KFmZFQIpj\",\"id.orig_h\":\"127.0.0.1\",\
             \"id.orig_p\":47101,\"id.resp_h\":\"127.0.0.1\",\"id.resp_p\":6081,\
             \"tunnel_type\":\"Tunnel::GENEVE\",\"action\":\"Tunnel::DISCOVER\"}\n"
        );
        let mut tsv = Vec::new();
        {
            let mut o = TunnelOutput::new(LogFormat::Tsv, &mut tsv);
            o.row(&r);
            o.table().footer(1673516613.0);
            o.table().flush();
        }
        let tsv = String::from_utf8_lossy(&tsv);
        assert!(tsv.contains("#path\ttunnel\n"));
        assert!(tsv.contains(
            "1673516612.582234\tCRHh1K54KFmZFQIpj\t127.0.0.1\t47101\t127.0.0.1\t6081\t\
             Tunnel::GENEVE\tTunnel::DISCOVER\n"
        ));
        assert!(tsv.contains("#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tenum\n"));
    }
}
