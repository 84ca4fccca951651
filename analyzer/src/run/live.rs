//! Live runs (`-i IFACE`): packets from network interfaces through the same engine and
//! pipeline as files, until a signal stops the capture.
//!
//! In: a [`LiveSetup`] (interfaces, filter, rotation and stats intervals, and how to rotate
//! the log files) and the run's [`RunOptions`] and writers. Out: the same rows and events a file
//! run writes for the same packets, then a [`LiveSummary`].
//!
//! The lifecycle is a sensor's. SIGINT or SIGTERM stops the capture: every open connection is
//! ended as Zeek ends them at shutdown (their ssl.log rows are written), the logs get their
//! footers and are flushed, and the run returns normally; a second SIGINT/SIGTERM exits at
//! once (status 1). SIGHUP rotates the logs now. With no packet arriving, the engine's clock
//! follows the wall clock, so inactivity timeouts end idle connections as they would in Zeek.
//! `#open` and `#close` are wall-clock times: the start of the run (or of the rotation
//! interval) and the time of the rotation or of the stop. With `--rotate`, the files are
//! rotated at exit too (as Zeek does), so the directory holds only rotated logs afterwards.
//!
//! A rotation is a cut between rows: the pipeline writes each row whole, the footer goes after
//! the last row of the interval and the file is renamed before the next row is formatted, so
//! no row is lost or written twice.

#[cfg(feature = "live")]
#[path = "live_fanout.rs"]
mod fanout;

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{LogFormat, OtherLogs, Outputs, Pipeline, RunError, RunOptions, Summary};
use crate::capture::live::{IfaceStats, LiveOptions, LiveSource};
use crate::capture::Engine;
use crate::capture::Stats;
use crate::log::stats_log::{resident_mb, StatsLog, StatsRow};

/// Seconds between flushes of the writers in a live run: how late a row may reach its file or
/// pipe (Zeek's ASCII writer flushes on a similar beat).
pub const LIVE_FLUSH_INTERVAL: f64 = 0.5;

/// Called at each rotation, after the logs' footers are written and flushed, with the time
/// the ending interval was opened: closes and renames the log files (see
/// [`crate::log::file::LogFile::rotate`]).
pub type RotateFiles<'a> = dyn FnMut(f64) -> io::Result<()> + 'a;

/// What a live run reads and how it manages its logs.
pub struct LiveSetup<'a> {
    /// Interfaces, filter, snap length.
    pub capture: LiveOptions,
    /// Rotate the logs every this many seconds (aligned to multiples of it, as Zeek aligns
    /// rotation to its base time); `None`: only on SIGHUP.
    pub rotate_interval: Option<f64>,
    /// Renames the log files at a rotation; `None` when the logs are not files (stdout).
    pub rotate_files: Option<&'a mut RotateFiles<'a>>,
    /// Write a stats.log row every this many seconds (`--stats-interval`).
    pub stats_interval: Option<f64>,
    /// Where stats.log goes (DIR/stats.log, rotated with the other logs, or stderr).
    pub stats: Option<(LogFormat, &'a mut dyn Write)>,
    /// Say `listening on IFACE` on stderr once the interfaces are open (as Zeek does), so that
    /// a person or a script knows when capture has begun.
    pub announce: bool,
}

/// Counters of a finished live run.
#[derive(Debug, Clone, Default)]
pub struct LiveSummary {
    /// What the engine and pipeline counted, as for a file run.
    pub run: Summary,
    /// Packets received and dropped, per interface.
    pub interfaces: Vec<IfaceStats>,
    /// Whether a signal stopped the run (rather than an error).
    pub stopped_by_signal: bool,
    /// Rotations done.
    pub rotations: u64,
}

impl LiveSummary {
    /// The drop report printed on stderr at exit: one line per interface and, for several, the
    /// total.
    pub fn drop_lines(&self) -> Vec<String> {
        let line = |s: &IfaceStats| {
            format!(
                "{}: {} packets received, {} dropped by the kernel, {} dropped by the interface",
                s.name, s.received, s.dropped, s.if_dropped
            )
        };
        let mut lines: Vec<String> = self.interfaces.iter().map(line).collect();
        if self.interfaces.len() > 1 {
            let mut total = IfaceStats {
                name: "total".into(),
                ..IfaceStats::default()
            };
            for s in &self.interfaces {
                total.add(s);
            }
            lines.push(line(&total));
        }
        lines
    }
}

/// The wall clock, in seconds since the epoch.
pub fn wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What the previous stats.log row of a worker counted, for the next row's differences.
#[derive(Default)]
struct StatsBase {
    engine: Stats,
    iface: IfaceStats,
}

impl StatsBase {
    /// The row of the interval ending at `now`, and the new base.
    fn row(&mut self, now: f64, peer: &str, engine: &Engine, ifaces: &[IfaceStats]) -> StatsRow {
        let mut iface = IfaceStats::default();
        for s in ifaces {
            iface.add(s);
        }
        let e = engine.stats();
        let row = StatsRow {
            ts: now,
            peer: peer.to_owned(),
            mem: resident_mb(),
            pkts_proc: e.packets.saturating_sub(self.engine.packets),
            bytes_recv: e.bytes.saturating_sub(self.engine.bytes),
            pkts_dropped: iface.dropped.saturating_sub(self.iface.dropped),
            pkts_link: iface.received.saturating_sub(self.iface.received),
            pkts_ifdropped: iface.if_dropped.saturating_sub(self.iface.if_dropped),
            active_conns: engine.active_connections() as u64,
            tcp_conns: e
                .tcp_connections
                .saturating_sub(self.engine.tcp_connections),
            udp_conns: e
                .udp_connections
                .saturating_sub(self.engine.udp_connections),
            reassem_tcp_size: engine.buffered_bytes() as u64,
        };
        self.engine = e.clone();
        self.iface = iface;
        row
    }
}

/// The first multiple of `interval` after `t`.
fn next_boundary(t: f64, interval: f64) -> f64 {
    ((t / interval).floor() + 1.0) * interval
}

/// Flags set by the signal handlers: stop, rotate.
struct Signals {
    stop: Arc<AtomicBool>,
    rotate: Arc<AtomicBool>,
}

impl Signals {
    /// Installs the handlers (see the module docs).
    #[cfg(feature = "live")]
    fn install() -> io::Result<Signals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        use signal_hook::flag;
        let stop = Arc::new(AtomicBool::new(false));
        let rotate = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            // Registered first, so it sees the flag as the previous signal left it: the second
            // signal exits at once.
            flag::register_conditional_shutdown(sig, 1, Arc::clone(&stop))?;
            flag::register(sig, Arc::clone(&stop))?;
        }
        flag::register(SIGHUP, Arc::clone(&rotate))?;
        Ok(Signals { stop, rotate })
    }

    /// Without live capture there is nothing to stop.
    #[cfg(not(feature = "live"))]
    fn install() -> io::Result<Signals> {
        Ok(Signals {
            stop: Arc::new(AtomicBool::new(false)),
            rotate: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// Captures live until a signal (see the module docs), writing what `outputs` and `logs` ask
/// for. The x509.log and quic.log writers are honoured as in a single-threaded file run. With
/// `opts.threads` above 1, the kernel shards the packets over that many workers (see
/// `live_fanout.rs`).
pub fn run_live<'w>(
    mut setup: LiveSetup<'_>,
    opts: &RunOptions,
    outputs: Outputs<'w>,
    logs: OtherLogs<'w>,
) -> Result<LiveSummary, RunError> {
    #[cfg(feature = "live")]
    if opts.threads > 1 {
        return fanout::run_fanout(setup, opts, outputs, logs);
    }
    let mut source = LiveSource::open(&setup.capture).map_err(RunError::Live)?;
    let signals = Signals::install().map_err(RunError::Output)?;
    if setup.announce {
        eprintln!(
            "tls-analyzer: listening on {}",
            setup.capture.interfaces.join(", ")
        );
    }
    let mut pipeline = Pipeline::new(opts, outputs);
    if let Some((format, w)) = logs.x509 {
        pipeline.set_x509(crate::log::X509Output::new(format, w));
    }
    if let Some((format, w)) = logs.quic {
        pipeline.set_quic(crate::log::QuicOutput::new(format, w));
    }
    let mut engine = Engine::new(opts.capture.clone());
    engine.begin_input();
    let mut opened = wall_clock();
    // `#open` is the start of the run, not the first packet's time.
    pipeline.note_ts(opened);
    let mut next_rotation = setup.rotate_interval.map(|i| next_boundary(opened, i));
    let mut next_flush = opened + LIVE_FLUSH_INTERVAL;
    let mut next_stats = setup.stats_interval.map(|i| opened + i);
    let mut stats_base = StatsBase::default();
    let mut stats_log = setup
        .stats
        .take()
        .map(|(format, w)| StatsLog::new(format, w, opened));
    let mut summary = LiveSummary::default();
    let mut failure: Option<RunError> = None;
    while !signals.stop.load(Ordering::Relaxed) {
        let got = match source.poll(&mut |frame| engine.packet(frame, &mut pipeline)) {
            Ok(n) => n,
            Err(e) => {
                failure = Some(RunError::Live(e));
                break;
            }
        };
        let now = wall_clock();
        if got == 0 {
            // Idle: time still passes for the connections' timers.
            engine.advance(now, &mut pipeline, &mut |_, _| {});
        }
        if now >= next_flush {
            pipeline.flush_writers();
            next_flush = now + LIVE_FLUSH_INTERVAL;
        }
        if let (Some(t), Some(log)) = (next_stats, stats_log.as_mut()) {
            if now >= t {
                // The engine counts what it processed; libpcap what the kernel passed or
                // dropped. Packets still in the kernel buffer are in the second only.
                let row = stats_base.row(now, "worker-1", &engine, &source.stats());
                if let Err(e) = log.row(&row) {
                    failure = Some(RunError::Output(e));
                    break;
                }
                next_stats = setup
                    .stats_interval
                    .map(|i| t + i)
                    .filter(|n| *n > now)
                    .or_else(|| setup.stats_interval.map(|i| now + i));
            }
        }
        let hup = signals.rotate.swap(false, Ordering::Relaxed);
        if hup || next_rotation.is_some_and(|t| now >= t) {
            pipeline.rotate(now);
            if let Some(log) = stats_log.as_mut() {
                if let Err(e) = log.rotate(now) {
                    failure = Some(RunError::Output(e));
                    break;
                }
            }
            if let Some(rotate_files) = setup.rotate_files.as_mut() {
                if let Err(e) = rotate_files(opened) {
                    failure = Some(RunError::Output(e));
                    break;
                }
            }
            summary.rotations += 1;
            opened = now;
            next_rotation = setup.rotate_interval.map(|i| next_boundary(now, i));
        }
        if pipeline.output_failed() {
            // Nobody reads the output any more (`| head`): stop as a file run would.
            break;
        }
    }
    summary.stopped_by_signal = signals.stop.load(Ordering::Relaxed);
    summary.interfaces = source.stats();
    // Shutdown as Zeek's: every open connection ends now (rows written), then the footers.
    let close = wall_clock();
    engine.advance(close, &mut pipeline, &mut |_, _| {});
    engine.finish(&mut pipeline);
    pipeline.finish(close)?;
    if let Some(log) = stats_log.as_mut() {
        log.footer(close).map_err(RunError::Output)?;
    }
    if setup.rotate_interval.is_some() {
        // As Zeek with rotation on: the last interval's files are rotated at exit too, so that
        // every finished log carries its interval in its name.
        if let Some(rotate_files) = setup.rotate_files.as_mut() {
            rotate_files(opened).map_err(RunError::Output)?;
            summary.rotations += 1;
        }
    }
    summary.run = pipeline.summary.clone();
    summary.run.capture = engine.stats().clone();
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// Writes `summary`'s drop report to `err`, one `tls-analyzer: ` line each.
pub fn report_drops(summary: &LiveSummary, err: &mut dyn Write) -> io::Result<()> {
    for line in summary.drop_lines() {
        writeln!(err, "tls-analyzer: {line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_boundaries_are_multiples_of_the_interval() {
        assert_eq!(next_boundary(3599.0, 3600.0), 3600.0);
        assert_eq!(next_boundary(3600.0, 3600.0), 7200.0);
        assert_eq!(next_boundary(10.5, 2.0), 12.0);
    }

    #[test]
    fn drop_lines_per_interface_and_total() {
        let s = LiveSummary {
            interfaces: vec![
                IfaceStats {
                    name: "eth0".into(),
                    received: 10,
                    dropped: 1,
                    if_dropped: 0,
                },
                IfaceStats {
                    name: "eth1".into(),
                    received: 5,
                    dropped: 0,
                    if_dropped: 2,
                },
            ],
            ..LiveSummary::default()
        };
        assert_eq!(
            s.drop_lines(),
            [
                "eth0: 10 packets received, 1 dropped by the kernel, 0 dropped by the interface",
                "eth1: 5 packets received, 0 dropped by the kernel, 2 dropped by the interface",
                "total: 15 packets received, 1 dropped by the kernel, 2 dropped by the interface",
            ]
        );
    }
}
