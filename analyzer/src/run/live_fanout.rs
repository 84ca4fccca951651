//! `--threads N` on live interfaces: N workers, each reading its own AF_PACKET socket of a
//! fanout group and running its own engine and pipeline; the calling thread only merges their
//! output, writes the logs, rotates them and reports.
//!
//! In: the sockets of [`open_fanout`], the run's options and writers. Out: the rows and events
//! of all workers in the order they were finished, whole lines only, in one set of logs.
//!
//! The kernel shards: `PACKET_FANOUT_HASH` sends every packet of a flow, both directions, to
//! the same socket (the hash is Linux's symmetric flow hash, `__skb_get_hash_symmetric`; kernels
//! before the 2016 fix eb70db8756717b90c01ccc765fdefc4dd969fc74 hashed asymmetrically and would
//! split connections), so no packet is copied or routed in user space. Each worker has its
//! share of `--max-connections` and `--max-buffered-bytes`, as in a sharded file run.
//!
//! Merging: a worker's writers collect its output and hand over complete lines only, in
//! chunks of at most [`CHUNK_BYTES`], through a bounded channel (a worker whose output is not
//! taken waits, and the kernel then counts drops: visible, not unbounded). The calling thread
//! writes each log through a [`MergeSink`], which keeps one TSV header per file (the workers'
//! own headers and footers are dropped and rewritten once, with the file's wall-clock
//! `#open`/`#close`), so that `--logdir` has one ssl.log, not one per worker: Zeek's
//! tools expect one, and one writer thread keeps up with many workers (a row is a few hundred
//! bytes per connection, not per packet). x509.log's deduplication is per worker here.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use super::{
    next_boundary, wall_clock, LiveSetup, LiveSummary, Signals, StatsBase, LIVE_FLUSH_INTERVAL,
};
use crate::capture::live::{open_fanout, FanoutWorker, IfaceStats};
use crate::capture::Engine;
use crate::log::stats_log::{StatsLog, StatsRow};
use crate::log::{format_log_time, LogFormat};
use crate::output::EventFormat;
use crate::run::{OtherLogs, Outputs, Pipeline, RunError, RunOptions, Summary};

/// Largest chunk of complete lines a worker sends at once.
const CHUNK_BYTES: usize = 64 << 10;
/// Chunks in flight from all workers before they wait for the writer.
const CHANNEL_DEPTH: usize = 64;
/// How long the writer waits for a chunk before it looks at signals and timers.
const WRITER_TICK: Duration = Duration::from_millis(50);

/// Which output a chunk belongs to.
#[derive(Debug, Clone, Copy)]
enum Out {
    Events = 0,
    Log = 1,
    X509 = 2,
    Quic = 3,
}

/// What workers tell the writer.
enum Msg {
    Chunk(Out, Vec<u8>),
    Stats(StatsRow),
    Done(Box<WorkerEnd>),
}

/// A worker's totals.
struct WorkerEnd {
    index: usize,
    summary: Summary,
    ifaces: Vec<IfaceStats>,
    error: Option<RunError>,
}

/// A worker's writer: collects output, sends complete lines.
struct ChunkWriter {
    out: Out,
    tx: SyncSender<Msg>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn new(out: Out, tx: SyncSender<Msg>) -> Self {
        ChunkWriter {
            out,
            tx,
            buf: Vec::new(),
        }
    }

    /// Sends the complete lines collected so far.
    fn send_lines(&mut self) -> io::Result<()> {
        let Some(end) = self.buf.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let rest = self.buf.split_off(end + 1);
        let lines = std::mem::replace(&mut self.buf, rest);
        self.tx
            .send(Msg::Chunk(self.out, lines))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the log writer stopped"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= CHUNK_BYTES {
            self.send_lines()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_lines()
    }
}

/// One log as the workers' lines merge into it; see the module docs.
struct MergeSink<'w> {
    out: &'w mut dyn Write,
    /// The TSV header as the first worker wrote it, `None` in place of its `#open` line.
    template: Vec<Option<Vec<u8>>>,
    /// The whole header has been seen (its `#types` line).
    template_done: bool,
    /// The current file has its header.
    header_in_file: bool,
    open_ts: f64,
}

impl<'w> MergeSink<'w> {
    fn new(out: &'w mut dyn Write, open_ts: f64) -> Self {
        MergeSink {
            out,
            template: Vec::new(),
            template_done: false,
            header_in_file: false,
            open_ts,
        }
    }

    /// Writes a chunk of complete lines: rows as they are, header lines only once per file.
    fn write_lines(&mut self, chunk: &[u8]) -> io::Result<()> {
        for line in chunk.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"#") {
                if !self.template_done && !line.starts_with(b"#close") {
                    self.template
                        .push((!line.starts_with(b"#open")).then(|| line.to_vec()));
                    self.template_done = line.starts_with(b"#types");
                }
                continue;
            }
            if !self.header_in_file && !self.template.is_empty() {
                for l in &self.template {
                    match l {
                        Some(l) => self.out.write_all(l)?,
                        None => writeln!(self.out, "#open\t{}", format_log_time(self.open_ts))?,
                    }
                }
                self.header_in_file = true;
            }
            self.out.write_all(line)?;
        }
        Ok(())
    }

    /// Ends the current file (footer if it has a header) at `now`; the next row starts a new
    /// one opened at `now`.
    fn rotate(&mut self, now: f64) -> io::Result<()> {
        if self.header_in_file {
            writeln!(self.out, "#close\t{}", format_log_time(now))?;
        }
        self.header_in_file = false;
        self.open_ts = now;
        self.out.flush()
    }
}

/// What a worker needs.
struct WorkerSetup {
    index: usize,
    source: FanoutWorker,
    opts: RunOptions,
    events: Option<EventFormat>,
    log: Option<LogFormat>,
    x509: Option<LogFormat>,
    quic: Option<LogFormat>,
    tx: SyncSender<Msg>,
    halt: Arc<AtomicBool>,
    stats_interval: Option<f64>,
    start: f64,
}

/// One worker: its socket through its engine and pipeline until halted.
fn worker(w: WorkerSetup) {
    let mut events = ChunkWriter::new(Out::Events, w.tx.clone());
    let mut log = ChunkWriter::new(Out::Log, w.tx.clone());
    let mut x509 = ChunkWriter::new(Out::X509, w.tx.clone());
    let mut quic = ChunkWriter::new(Out::Quic, w.tx.clone());
    let mut source = w.source;
    let peer = format!("worker-{}", w.index + 1);
    let mut error = None;
    let (summary, engine_stats) = {
        let outputs = Outputs {
            events: w.events.map(|f| (f, &mut events as &mut dyn Write)),
            log: w.log.map(|f| (f, &mut log as &mut dyn Write)),
        };
        let mut pipeline = Pipeline::new(&w.opts, outputs);
        if let Some(f) = w.x509 {
            pipeline.set_x509(crate::log::X509Output::new(f, &mut x509));
        }
        if let Some(f) = w.quic {
            pipeline.set_quic(crate::log::QuicOutput::new(f, &mut quic));
        }
        let mut engine = Engine::new(w.opts.capture.clone());
        engine.begin_input();
        pipeline.note_ts(w.start);
        let mut next_flush = w.start + LIVE_FLUSH_INTERVAL;
        let mut next_stats = w.stats_interval.map(|i| w.start + i);
        let mut base = StatsBase::default();
        while !w.halt.load(Ordering::Relaxed) {
            let got = match source.poll(&mut |frame| engine.packet(frame, &mut pipeline)) {
                Ok(n) => n,
                Err(e) => {
                    error = Some(RunError::Live(e));
                    w.halt.store(true, Ordering::Relaxed);
                    break;
                }
            };
            let now = wall_clock();
            if got == 0 {
                engine.advance(now, &mut pipeline, &mut |_, _| {});
            }
            if now >= next_flush {
                pipeline.flush_writers();
                next_flush = now + LIVE_FLUSH_INTERVAL;
            }
            if let (Some(t), Some(i)) = (next_stats, w.stats_interval) {
                if now >= t {
                    let row = base.row(now, &peer, &engine, &source.stats());
                    if w.tx.send(Msg::Stats(row)).is_err() {
                        break;
                    }
                    next_stats = Some(if t + i > now { t + i } else { now + i });
                }
            }
            if pipeline.output_failed() {
                break;
            }
        }
        let close = wall_clock();
        engine.advance(close, &mut pipeline, &mut |_, _| {});
        engine.finish(&mut pipeline);
        if let Err(e) = pipeline.finish(close) {
            error = error.or(Some(e));
        }
        pipeline.flush_writers();
        (pipeline.summary.clone(), engine.stats().clone())
    };
    let mut summary = summary;
    summary.capture = engine_stats;
    for w in [&mut events, &mut log, &mut x509, &mut quic] {
        let _ = w.flush();
    }
    let mut ifaces = source.stats();
    for s in &mut ifaces {
        s.name = format!("{} ({peer})", s.name);
    }
    let _ = w.tx.send(Msg::Done(Box::new(WorkerEnd {
        index: w.index,
        summary,
        ifaces,
        error,
    })));
}

/// Adds what one worker counted to the run's summary.
fn add_summary(total: &mut Summary, s: &Summary) {
    total.ssl_connections += s.ssl_connections;
    total.events += s.events;
    total.log_rows += s.log_rows;
    total.not_analysed.add(&s.not_analysed);
    let (a, b) = (&mut total.capture, &s.capture);
    a.packets += b.packets;
    a.bytes += b.bytes;
    a.tcp_packets += b.tcp_packets;
    a.udp_packets += b.udp_packets;
    a.connections += b.connections;
    a.tcp_connections += b.tcp_connections;
    a.udp_connections += b.udp_connections;
    a.evicted += b.evicted;
    a.weirds += b.weirds;
}

/// [`super::run_live`] with `opts.threads` workers on a fanout group; see the module docs.
pub(super) fn run_fanout<'w>(
    mut setup: LiveSetup<'_>,
    opts: &RunOptions,
    outputs: Outputs<'w>,
    logs: OtherLogs<'w>,
) -> Result<LiveSummary, RunError> {
    let n = opts.threads.max(1);
    let sources = open_fanout(&setup.capture, n).map_err(RunError::Live)?;
    let signals = Signals::install().map_err(RunError::Output)?;
    if setup.announce {
        eprintln!(
            "tls-analyzer: listening on {} ({n} workers, fanout hash)",
            setup.capture.interfaces.join(", ")
        );
    }
    let mut opened = wall_clock();
    let halt = Arc::new(AtomicBool::new(false));
    let formats = (
        outputs.events.as_ref().map(|(f, _)| *f),
        outputs.log.as_ref().map(|(f, _)| *f),
        logs.x509.as_ref().map(|(f, _)| *f),
        logs.quic.as_ref().map(|(f, _)| *f),
    );
    let mut sinks: [Option<MergeSink<'_>>; 4] = [
        outputs.events.map(|(_, w)| MergeSink::new(w, opened)),
        outputs.log.map(|(_, w)| MergeSink::new(w, opened)),
        logs.x509.map(|(_, w)| MergeSink::new(w, opened)),
        logs.quic.map(|(_, w)| MergeSink::new(w, opened)),
    ];
    let mut stats_log = setup
        .stats
        .take()
        .map(|(format, w)| StatsLog::new(format, w, opened));
    let mut summary = LiveSummary::default();
    let mut failure: Option<RunError> = None;
    let mut ends: Vec<WorkerEnd> = Vec::new();
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Msg>(CHANNEL_DEPTH);
        for (index, source) in sources.into_iter().enumerate() {
            let mut o = opts.clone();
            o.threads = 1;
            o.capture.max_connections = (opts.capture.max_connections / n).max(1);
            o.capture.max_buffered_bytes_total = (opts.capture.max_buffered_bytes_total / n).max(1);
            // Distinct uids per worker under --seed (without it each draws its own).
            o.capture.seed = opts
                .capture
                .seed
                .map(|s| s ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let setup = WorkerSetup {
                index,
                source,
                opts: o,
                events: formats.0,
                log: formats.1,
                x509: formats.2,
                quic: formats.3,
                tx: tx.clone(),
                halt: Arc::clone(&halt),
                stats_interval: setup.stats_interval,
                start: opened,
            };
            scope.spawn(move || worker(setup));
        }
        drop(tx);
        let mut next_rotation = setup.rotate_interval.map(|i| next_boundary(opened, i));
        let mut next_flush = opened + LIVE_FLUSH_INTERVAL;
        loop {
            let write = |r: io::Result<()>, failure: &mut Option<RunError>| {
                if let Err(e) = r {
                    failure.get_or_insert(RunError::Output(e));
                    halt.store(true, Ordering::Relaxed);
                }
            };
            match rx.recv_timeout(WRITER_TICK) {
                Ok(Msg::Chunk(out, bytes)) => {
                    if let Some(sink) = sinks.get_mut(out as usize).and_then(Option::as_mut) {
                        write(sink.write_lines(&bytes), &mut failure);
                    }
                }
                Ok(Msg::Stats(row)) => {
                    if let Some(log) = stats_log.as_mut() {
                        write(log.row(&row), &mut failure);
                    }
                }
                Ok(Msg::Done(end)) => ends.push(*end),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if signals.stop.load(Ordering::Relaxed) {
                halt.store(true, Ordering::Relaxed);
            }
            let now = wall_clock();
            let hup = signals.rotate.swap(false, Ordering::Relaxed);
            if hup || next_rotation.is_some_and(|t| now >= t) {
                for sink in sinks.iter_mut().flatten() {
                    write(sink.rotate(now), &mut failure);
                }
                if let Some(log) = stats_log.as_mut() {
                    write(log.rotate(now), &mut failure);
                }
                if let Some(rotate_files) = setup.rotate_files.as_mut() {
                    write(rotate_files(opened), &mut failure);
                }
                summary.rotations += 1;
                opened = now;
                next_rotation = setup.rotate_interval.map(|i| next_boundary(now, i));
            }
            if now >= next_flush {
                for sink in sinks.iter_mut().flatten() {
                    write(sink.out.flush(), &mut failure);
                }
                next_flush = now + LIVE_FLUSH_INTERVAL;
            }
        }
    });
    let close = wall_clock();
    for sink in sinks.iter_mut().flatten() {
        if let Err(e) = sink.rotate(close) {
            failure.get_or_insert(RunError::Output(e));
        }
    }
    if let Some(log) = stats_log.as_mut() {
        if let Err(e) = log.footer(close) {
            failure.get_or_insert(RunError::Output(e));
        }
    }
    if setup.rotate_interval.is_some() {
        if let Some(rotate_files) = setup.rotate_files.as_mut() {
            if let Err(e) = rotate_files(opened) {
                failure.get_or_insert(RunError::Output(e));
            }
            summary.rotations += 1;
        }
    }
    ends.sort_by_key(|e| e.index);
    summary.stopped_by_signal = signals.stop.load(Ordering::Relaxed);
    for end in &mut ends {
        add_summary(&mut summary.run, &end.summary);
        summary.interfaces.append(&mut end.ifaces);
        if let Some(e) = end.error.take() {
            failure.get_or_insert(e);
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}
