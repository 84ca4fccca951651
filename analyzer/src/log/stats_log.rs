//! stats.log of a live run (`--stats-interval`): packets processed, received and dropped, per
//! worker and interval, with the columns of Zeek's stats.log where they apply.
//!
//! In: a [`StatsRow`] per worker at each interval. Out: TSV (Zeek's header and footer, `#path
//! stats`) or JSON Lines, written to the caller's writer. Columns, in Zeek's order: `ts`,
//! `peer` (the worker, as Zeek names a cluster node), `mem` (resident MB), `pkts_proc`,
//! `bytes_recv`, `pkts_dropped` (by the kernel: the analyzer fell behind), `pkts_link` (packets
//! the kernel passed the filter), then, ours, `pkts_ifdropped` (dropped by the interface or its
//! driver, libpcap's `ps_ifdrop`, which Zeek folds into nothing) and `active_conns` (Zeek
//! splits it per protocol), then Zeek's `tcp_conns`, `udp_conns` and `reassem_tcp_size`.
//! Counts are per interval, as Zeek's; `mem`, `active_conns` and `reassem_tcp_size` are the
//! current values. Zeek's columns about events, timers, files, DNS and ICMP do not apply.

use std::io::{self, Write};

use super::stream::LogFormat;
use super::writer::{format_log_time, tsv_header};

/// stats.log's `#path`.
pub const STATS_LOG_PATH: &str = "stats";
/// stats.log's columns.
pub const STATS_LOG_FIELDS: [&str; 12] = [
    "ts",
    "peer",
    "mem",
    "pkts_proc",
    "bytes_recv",
    "pkts_dropped",
    "pkts_link",
    "pkts_ifdropped",
    "active_conns",
    "tcp_conns",
    "udp_conns",
    "reassem_tcp_size",
];
/// Their Zeek types.
pub const STATS_LOG_TYPES: [&str; 12] = [
    "time", "string", "count", "count", "count", "count", "count", "count", "count", "count",
    "count", "count",
];

/// One worker's interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsRow {
    /// The end of the interval (wall clock).
    pub ts: f64,
    /// The worker (`worker-1`, ...).
    pub peer: String,
    /// Resident memory of the process, in MB.
    pub mem: u64,
    /// Packets the worker's engine processed in the interval.
    pub pkts_proc: u64,
    /// Their captured bytes.
    pub bytes_recv: u64,
    /// Packets the kernel dropped in the interval (its buffer was full).
    pub pkts_dropped: u64,
    /// Packets the kernel passed the filter in the interval.
    pub pkts_link: u64,
    /// Packets the interface or its driver dropped in the interval.
    pub pkts_ifdropped: u64,
    /// Connections tracked now.
    pub active_conns: u64,
    /// TCP connections created in the interval.
    pub tcp_conns: u64,
    /// UDP flows created in the interval.
    pub udp_conns: u64,
    /// Out-of-order TCP bytes buffered now.
    pub reassem_tcp_size: u64,
}

/// stats.log and where it goes.
pub struct StatsLog<'w> {
    format: LogFormat,
    header_written: bool,
    open_ts: f64,
    buf: Vec<u8>,
    out: &'w mut dyn Write,
}

impl<'w> StatsLog<'w> {
    /// stats.log in `format`, written to `out`, opened at `open_ts`.
    pub fn new(format: LogFormat, out: &'w mut dyn Write, open_ts: f64) -> Self {
        StatsLog {
            format,
            header_written: false,
            open_ts,
            buf: Vec::new(),
            out,
        }
    }

    /// Writes one row (after the TSV header, the first time) and flushes.
    pub fn row(&mut self, r: &StatsRow) -> io::Result<()> {
        let counts = [
            r.mem,
            r.pkts_proc,
            r.bytes_recv,
            r.pkts_dropped,
            r.pkts_link,
            r.pkts_ifdropped,
            r.active_conns,
            r.tcp_conns,
            r.udp_conns,
            r.reassem_tcp_size,
        ];
        match self.format {
            LogFormat::Tsv => {
                if !self.header_written {
                    tsv_header(
                        &mut self.buf,
                        STATS_LOG_PATH,
                        self.open_ts,
                        &STATS_LOG_FIELDS,
                        &STATS_LOG_TYPES,
                    );
                    self.header_written = true;
                }
                let _ = write!(self.buf, "{:.6}\t{}", r.ts, tsv_text(&r.peer));
                for c in counts {
                    let _ = write!(self.buf, "\t{c}");
                }
                self.buf.push(b'\n');
            }
            LogFormat::Json => {
                let _ = write!(
                    self.buf,
                    "{{\"ts\":{:.6},\"peer\":\"{}\"",
                    r.ts,
                    json_text(&r.peer)
                );
                for (name, c) in STATS_LOG_FIELDS.iter().skip(2).zip(counts) {
                    let _ = write!(self.buf, ",\"{name}\":{c}");
                }
                self.buf.extend_from_slice(b"}\n");
            }
        }
        self.flush()
    }

    /// Ends the current file at `now` (TSV footer if a row was written) and starts the next.
    pub fn rotate(&mut self, now: f64) -> io::Result<()> {
        self.footer(now)?;
        self.header_written = false;
        self.open_ts = now;
        Ok(())
    }

    /// Writes the TSV footer if a row was written.
    pub fn footer(&mut self, now: f64) -> io::Result<()> {
        if self.format == LogFormat::Tsv && self.header_written {
            let _ = writeln!(self.buf, "#close\t{}", format_log_time(now));
        }
        self.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.out.flush()
    }
}

/// A worker name as a TSV field: tabs and newlines cannot occur in it, but escape anyway.
fn tsv_text(s: &str) -> String {
    s.replace('\t', "\\x09").replace('\n', "\\x0a")
}

/// A worker name as JSON string content.
fn json_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The process's resident memory in MB (`VmRSS`), 0 where `/proc` is not there.
pub fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> StatsRow {
        StatsRow {
            ts: 1_796_533_200.5,
            peer: "worker-1".into(),
            mem: 12,
            pkts_proc: 100,
            bytes_recv: 6400,
            pkts_dropped: 3,
            pkts_link: 103,
            pkts_ifdropped: 1,
            active_conns: 7,
            tcp_conns: 5,
            udp_conns: 2,
            reassem_tcp_size: 0,
        }
    }

    #[test]
    fn tsv_has_zeeks_header_rows_and_footer_per_file() {
        let mut out = Vec::new();
        {
            let mut log = StatsLog::new(LogFormat::Tsv, &mut out, 1_796_533_200.0);
            log.row(&row()).expect("row");
            log.rotate(1_796_533_210.0).expect("rotate");
            log.row(&row()).expect("row");
            log.footer(1_796_533_220.0).expect("footer");
        }
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(text.matches("#path\tstats\n").count(), 2, "{text}");
        assert!(text.contains("#open\t2026-12-06-05-00-00\n"), "{text}");
        assert!(text.contains("#open\t2026-12-06-05-00-10\n"), "{text}");
        assert!(
            text.contains("1796533200.500000\tworker-1\t12\t100\t6400\t3\t103\t1\t7\t5\t2\t0\n")
        );
        assert!(text.ends_with("#close\t2026-12-06-05-00-20\n"), "{text}");
    }

    #[test]
    fn json_lines_have_the_same_columns() {
        let mut out = Vec::new();
        StatsLog::new(LogFormat::Json, &mut out, 0.0)
            .row(&row())
            .expect("row");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "{\"ts\":1796533200.500000,\"peer\":\"worker-1\",\"mem\":12,\"pkts_proc\":100,\
             \"bytes_recv\":6400,\"pkts_dropped\":3,\"pkts_link\":103,\"pkts_ifdropped\":1,\
             \"active_conns\":7,\"tcp_conns\":5,\"udp_conns\":2,\"reassem_tcp_size\":0}\n"
        );
    }
}
