//! Sharded runs (`RunOptions::threads` > 1): connections spread over engines by flow hash,
//! each engine (its own capture `Engine` and [`Pipeline`]) on its own thread, their outputs
//! merged while the input is read, in bounded memory.
//!
//! In: [`Input`]s and [`RunOptions`]. Out: the same bytes a single-threaded [`super::run`]
//! writes (see [`run_sharded`] for where the order may differ), written as the input is read.
//!
//! Two ways to feed the engines; the first whenever every input can be read more than once.
//!
//! - Every engine reads the input itself (regular files and captures in memory, not gzip; see
//!   [`can_read_twice`]). Engine 0 runs on the calling thread, the others on worker threads;
//!   each reads every record of every input and decodes every frame down to its ports, then
//!   analyses only the flows whose symmetric, seedless flow hash is its own
//!   (`capture::Options::shard`). Nothing is copied between threads on the way in, and since
//!   every engine sees every packet, every engine knows each record's global index and runs its
//!   timers at exactly the packet where a single engine would. Connection-less weirds and the
//!   counters of the capture itself come from engine 0 only; connection counters are summed.
//!   IP fragments are reassembled by every engine. The price is that each thread reads and
//!   decodes the whole input (docs/PERFORMANCE.md §4).
//! - Otherwise (stdin, a pipe, gzip, which would be decompressed once per thread) the calling
//!   thread reads the captures, decodes just enough of each frame to find its flow (link, IP,
//!   ports), reassembles IP fragments itself (a fragment has no ports), and routes the frame by
//!   the same hash to one of [`SHARD_BUCKETS`] buckets, each owned by one engine. Engine 0 runs
//!   inline on the calling thread, on the frame where it lies in the read buffer; it owns fewer
//!   buckets, because the calling thread also reads, routes and merges. Frames of the other
//!   engines are copied into batches for their worker threads, with time ticks so that their
//!   timers fire although most packets go elsewhere.
//!
//! Every piece of output is tagged with an [`OrderKey`], the global position of the item that
//! produced it (for connections ended by timers, also the time the timer was set for and the
//! connection's creation index, the order in which one engine's timer queue ends them). Merged
//! in that order it is the single-threaded order; with routed frames except where timers fired
//! (a worker's timers fire at the ticks rather than at the exact packet). Workers send their
//! pieces back as they go, each message with a watermark: a key below which the worker will
//! produce nothing more (the global index of the record it is at). The calling thread, which
//! owns the writers, writes every piece that sorts below every engine's watermark (`merge`).
//! What it holds is bounded by [`MERGE_BUFFER_BYTES`]: a worker whose output waits for a slower
//! one stops until the merge catches up, and so does the calling thread's engine itself. Uids
//! are renumbered in global creation order as they are written, so `--seed` gives the same uids
//! as a single-threaded run: each engine records, beside its output, where its writers put
//! each uid, and the merge writes the global uid there.
//!
//! Modules: `route` (the calling thread: reading, routing and the items sent to workers, or
//! only engine 0 when every engine reads; and serving the merge), `shard` (one engine with its
//! recording writers, inline, on a routed worker thread or on a reading worker thread),
//! `merge` (the streaming merge).

mod merge;
mod route;
mod shard;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use super::{Outputs, RunError, RunOptions, Summary};
use crate::capture::{self, Input};
use merge::Merger;
use route::{Dispatcher, ShardBatch};
use shard::{Msg, Outbox, Recorder, Shard, Shared, WorkerEnd};

/// Buckets the flow hash is reduced to; each is owned by one engine. Many more buckets than
/// engines let the calling thread's engine own a fraction of a fair share.
pub(super) const SHARD_BUCKETS: usize = 64;
/// The calling thread's engine owns this percentage of a fair share of the buckets: it also
/// reads the capture, routes every frame, copies the other engines' frames and writes the
/// merged output. Measured on two cores (docs/PERFORMANCE.md §4): 75 % was best for both
/// ssl.log and JSON events on the handshake capture, 25 % and 50 % left the worker idle.
const SHARD_MAIN_SHARE_PERCENT: usize = 75;
/// Whether every engine reads a re-readable input itself by default rather than one reader
/// routing frames to the engines. Measured on two (shared) cores: faster on the handshake
/// capture for ssl.log and events, slower on the bulk capture, where each thread's copy of
/// every byte out of the page cache costs more than the routing it saves (docs/PERFORMANCE.md
/// §4); chosen for the handshake-heavy case and for its exact order of timer-driven ends.
const SHARD_REPLICATE: bool = true;
/// Gzip's magic: a compressed input is read once and routed (see [`can_read_twice`]).
const SHARD_GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Frames per batch sent to a worker: large enough that channel operations are rare, small
/// enough that workers start early.
const SHARD_BATCH_FRAMES: usize = 512;
/// Bytes per batch before it is sent whatever its frame count.
const SHARD_BATCH_BYTES: usize = 256 << 10;
/// Batches queued per worker before the reader waits (bounds the input in flight).
const SHARD_QUEUE_DEPTH: usize = 8;
/// Output messages queued per worker for the merge before the worker waits.
const SHARD_RESULT_DEPTH: usize = 4;
/// Frames read between watermark rounds: every worker is sent its batch, even an empty one, so
/// that the watermark of a worker that gets few packets keeps up and output keeps flowing.
const SHARD_WATERMARK_FRAMES: u64 = 4096;
/// Records between the reading thread's looks at the workers' messages when every engine reads
/// the input itself (it has no batches to hand out in between); a divisor of
/// [`SHARD_WATERMARK_FRAMES`].
const SHARD_POLL_RECORDS: u64 = 256;
/// Capture seconds between time ticks broadcast to every worker, so that a worker's
/// inactivity and close timers fire although most packets go to other workers.
const SHARD_TICK_INTERVAL: f64 = 1.0;
/// The most output bytes the merge holds: pieces received from the engines (or recorded
/// inline) and not yet written because a slower engine may still produce output that sorts
/// before them. Each engine waits once it holds half of its share; with the message size and
/// queue depth below, the total stays under this. (A single line longer than a message, or one
/// pass of timers ending many connections in one worker, comes on top: see [`shard`].)
pub const MERGE_BUFFER_BYTES: usize = 8 << 20;
/// Output bytes a worker collects before it sends them to the merge, at most: a
/// `MERGE_BUFFER_BYTES / 16` share per engine, so that messages in flight stay within the bound.
const SHARD_MESSAGE_BYTES_MAX: usize = 128 << 10;

/// Where a piece of output belongs in the single-threaded order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct OrderKey {
    /// Global index of the packet (or end of input) being processed.
    seq: u64,
    /// 0: timers and ends (which run before the packet itself); 1: the packet.
    phase: u8,
    /// Among connections ended by timers at the same point: the time the timer was set for
    /// (as [`ordered_bits`]; 0 for the ends at the end of an input, and before any timer), as
    /// one engine's timer queue fires the earliest first.
    at: u64,
    /// Among connections ended at the same point (and time): the creation index, as the
    /// single-threaded engine ends them in creation order.
    sub: u64,
}

/// `x` as an integer of the same order (every number above 0, so that 0 sorts first).
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

impl OrderKey {
    /// Above every key: what an engine promises once it is done.
    const MAX: OrderKey = OrderKey {
        seq: u64::MAX,
        phase: u8::MAX,
        at: u64::MAX,
        sub: u64::MAX,
    };

    /// The first key of item `seq`.
    fn at(seq: u64) -> OrderKey {
        OrderKey {
            seq,
            phase: 0,
            at: 0,
            sub: 0,
        }
    }
}

/// Sizes of a sharded run; the constants above, smaller in tests to exercise the waits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tuning {
    /// See [`MERGE_BUFFER_BYTES`].
    merge_buffer_bytes: usize,
    /// See [`SHARD_MAIN_SHARE_PERCENT`].
    main_share_percent: usize,
    /// Every engine reads the input itself when it can be read twice (see the module
    /// documentation); false: one reader routes frames to the engines.
    replicate: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            merge_buffer_bytes: MERGE_BUFFER_BYTES,
            main_share_percent: SHARD_MAIN_SHARE_PERCENT,
            replicate: SHARD_REPLICATE,
        }
    }
}

impl Tuning {
    /// What one engine may hold in the merge before it waits: half of an equal share, the other
    /// half being room for messages in flight and the one that crossed the line.
    fn engine_share(&self, engines: usize) -> usize {
        self.merge_buffer_bytes / engines.max(1) / 2
    }

    /// Output bytes per message to the merge.
    fn message_bytes(&self, engines: usize) -> usize {
        (self.merge_buffer_bytes / engines.max(1) / 16).clamp(1, SHARD_MESSAGE_BYTES_MAX)
    }
}

/// What a sharded run measured about itself. Only tests read it (the CLI has nowhere to show
/// it), hence the allowance outside tests.
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(not(test), allow(dead_code))]
pub(super) struct MergeStats {
    /// Most output bytes held by the merge at once (see [`MERGE_BUFFER_BYTES`]).
    peak_held: usize,
    /// Times an engine waited for the merge.
    waits: u64,
}

/// [`super::run`] with connections sharded over `opts.threads` engines by flow hash.
///
/// The same bytes as a single-threaded run (under `--seed`, the same uids; without it, the
/// engines' own random ones) and the same [`Summary`], when every engine reads the input
/// itself. With routed frames (stdin, gzip), the same lines, in the same order except around
/// timer-driven connection ends. (Both as long as no engine reaches its share of the bounds
/// below, where a single engine would not; and, for the order of connections ended by timers
/// at one packet, as long as no engine compacts its timer queue in a way that moves the time a
/// stale timer was set for: each engine compacts when its own stale entries pile up.)
/// The connection-table and out-of-order-buffer bounds are split evenly between the engines.
/// Output is written while the input is read; at most [`MERGE_BUFFER_BYTES`] of it is held.
pub fn run_sharded(
    inputs: &[Input],
    opts: &RunOptions,
    outputs: Outputs<'_>,
) -> Result<Summary, RunError> {
    run_sharded_with(inputs, opts, outputs, Tuning::default()).0
}

/// [`run_sharded`] with explicit sizes; also returns what the merge measured.
pub(super) fn run_sharded_with(
    inputs: &[Input],
    opts: &RunOptions,
    outputs: Outputs<'_>,
    tuning: Tuning,
) -> (Result<Summary, RunError>, MergeStats) {
    let engines = opts.threads.max(1);
    let seed = opts.capture.seed.unwrap_or_else(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x5eed);
        h.finish()
    });
    let formats = (
        outputs.events.as_ref().map(|(f, _)| *f),
        outputs.log.as_ref().map(|(f, _)| *f),
    );
    // Uids are only rewritten under --seed; without it the engines' own (distinct) ones stand.
    let renumber = opts.capture.seed.is_some();
    let replicated =
        tuning.replicate && engines <= capture::engine::MAX_SHARDS && can_read_twice(inputs);
    let engine_opts = |i: usize| {
        let mut o = opts.clone();
        o.threads = 1;
        // Local uids only need to be distinct; they are renumbered by the merge.
        o.capture.seed = Some(engine_seed(seed, i));
        o.capture.max_connections = (opts.capture.max_connections / engines).max(1);
        o.capture.max_buffered_bytes_total =
            (opts.capture.max_buffered_bytes_total / engines).max(1);
        if replicated {
            o.capture.shard = Some((i, engines));
            if i > 0 {
                // Progress counts the input once: engine 0's reader reports it.
                o.capture.progress = None;
            }
        }
        o
    };
    let shared = Arc::new(Shared::new(engines));
    let share = tuning.engine_share(engines);
    let message_bytes = tuning.message_bytes(engines);
    let merger = Merger::new(engines, renumber.then_some(seed), outputs, opts.log_columns);
    // Closes the workers' waits however this function is left (a panic included), so that
    // the scope can join them.
    let _close = CloseOnDrop(Arc::clone(&shared));

    std::thread::scope(|scope| {
        let (msg_tx, msg_rx): (SyncSender<Msg>, Receiver<Msg>) =
            sync_channel(SHARD_RESULT_DEPTH * engines);
        let mut txs = Vec::with_capacity(engines);
        let mut handles = Vec::with_capacity(engines);
        for i in 1..engines {
            let worker = shard::WorkerSetup {
                engine: i,
                rx: None,
                tx: msg_tx.clone(),
                shared: Arc::clone(&shared),
                opts: engine_opts(i),
                formats,
                renumber,
                message_bytes,
                share,
            };
            if replicated {
                handles.push(
                    scope.spawn(move || shard::reader(shard::ReaderSetup { worker, inputs })),
                );
            } else {
                let (tx, rx) = sync_channel::<ShardBatch>(SHARD_QUEUE_DEPTH);
                let worker = shard::WorkerSetup {
                    rx: Some(rx),
                    ..worker
                };
                handles.push(scope.spawn(move || (shard::worker(worker), Ok(()))));
                txs.push(tx);
            }
        }
        // Only the workers send: the merge sees the channel close once they are all done.
        drop(msg_tx);
        let main_opts = engine_opts(0);
        let outbox = Rc::new(RefCell::new(Outbox::inline()));
        let mut events = Recorder::new(&outbox, false);
        let mut log = Recorder::new(&outbox, true);
        let inline_outputs = Outputs {
            events: formats.0.map(|f| (f, &mut events as &mut dyn Write)),
            log: formats.1.map(|f| (f, &mut log as &mut dyn Write)),
        };
        let shard = Shard::new(&main_opts, inline_outputs, &outbox, renumber);
        let mut dispatcher = Dispatcher::new(route::DispatcherSetup {
            engines,
            replicated,
            txs,
            rx: msg_rx,
            shared: Arc::clone(&shared),
            merger,
            shard,
            outbox: Rc::clone(&outbox),
            share,
            message_bytes,
            main_share_percent: tuning.main_share_percent,
        });
        let mut read_result = route::read_inputs(inputs, &opts.capture, &mut dispatcher);
        let main_end = dispatcher.finish();
        let mut ends: Vec<WorkerEnd> = vec![main_end.end];
        for h in handles {
            let (end, read) = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            ends.push(end);
            // The engines read the same inputs and normally fail alike; a reader that failed
            // alone (the file changed or vanished meanwhile) missed flows: say so.
            if read_result.is_ok() {
                read_result = read;
            }
        }
        let summary = if replicated {
            summary_replicated(&ends)
        } else {
            summary_routed(&ends, &main_end.read_stats)
        };
        let close_ts = ends.iter().map(|e| e.last_ts).fold(0.0, f64::max);
        let mut merger = main_end.merger;
        let written = merger.finish(close_ts);
        let stats = MergeStats {
            peak_held: merger.peak_held(),
            waits: shared.waits() + main_end.waits,
        };
        let result = match (written, read_result) {
            (Err(e), _) => Err(RunError::Output(e)),
            (Ok(()), Ok(())) => Ok(summary),
            (Ok(()), Err(e)) => Err(RunError::Capture(e)),
        };
        (result, stats)
    })
}

/// The uid seed of engine `i` of a run seeded (or drawn) `seed`: distinct per engine.
fn engine_seed(seed: u64, i: usize) -> u64 {
    seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Whether every input can be read by several threads at once, each from the start: regular
/// files and captures in memory, not compressed (each reader would gunzip the whole input
/// again). Not stdin, nor a path that is a pipe or device (`<(zcat ...)`, `/dev/stdin`).
fn can_read_twice(inputs: &[Input]) -> bool {
    use std::io::Read;
    let gzip = |head: &[u8]| head.starts_with(&SHARD_GZIP_MAGIC);
    inputs.iter().all(|input| match input {
        Input::Stdin => false,
        Input::Memory(_, bytes) => !gzip(bytes),
        Input::Path(p) => {
            let regular = std::fs::metadata(p).is_ok_and(|m| m.is_file());
            let mut head = [0u8; 2];
            regular
                && std::fs::File::open(p)
                    .and_then(|mut f| f.read_exact(&mut head))
                    .is_ok_and(|()| !gzip(&head))
        }
    })
}

/// The run's summary when one reader routed the frames: the engines' counters summed, except
/// what only the reader saw whole (the capture itself; the engines also saw ticks and rebuilt
/// datagrams).
fn summary_routed(ends: &[WorkerEnd], read_stats: &capture::Stats) -> Summary {
    let mut summary = Summary::default();
    let mut ticks = 0;
    for e in ends {
        add_stats(&mut summary.capture, &e.summary.capture);
        summary.ssl_connections += e.summary.ssl_connections;
        summary.events += e.summary.events;
        summary.log_rows += e.summary.log_rows;
        summary.not_analysed.add(&e.summary.not_analysed);
        ticks += e.ticks;
    }
    summary.capture.inputs = read_stats.inputs;
    summary.capture.packets = read_stats.packets;
    summary.capture.bytes = read_stats.bytes;
    summary.capture.non_ip = summary.capture.non_ip.saturating_sub(ticks);
    summary.capture.fragments = read_stats.fragments;
    summary.capture.reassembled = read_stats.reassembled;
    summary
}

/// The run's summary when every engine read the input: what each engine counted of the whole
/// capture (frames, link and IP layers, transport packets) once, from engine 0; what belongs to
/// connections summed. Weirds are summed too: only engine 0 raises connection-less ones.
fn summary_replicated(ends: &[WorkerEnd]) -> Summary {
    let mut summary = Summary::default();
    if let Some(first) = ends.first() {
        summary.capture = first.summary.capture.clone();
    }
    for e in ends {
        summary.ssl_connections += e.summary.ssl_connections;
        summary.events += e.summary.events;
        summary.log_rows += e.summary.log_rows;
        summary.not_analysed.add(&e.summary.not_analysed);
    }
    for e in ends.iter().skip(1) {
        add_connection_stats(&mut summary.capture, &e.summary.capture);
    }
    summary
}

/// Closes the workers' waits when dropped.
struct CloseOnDrop(Arc<Shared>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Adds the counters of `b` to `a`.
fn add_stats(a: &mut capture::Stats, b: &capture::Stats) {
    a.inputs += b.inputs;
    a.packets += b.packets;
    a.bytes += b.bytes;
    a.link_errors += b.link_errors;
    a.non_ip += b.non_ip;
    a.ip_errors += b.ip_errors;
    a.fragments += b.fragments;
    a.reassembled += b.reassembled;
    a.tcp_packets += b.tcp_packets;
    a.udp_packets += b.udp_packets;
    a.other_ip += b.other_ip;
    add_connection_stats(a, b);
}

/// Adds the counters of `b` that belong to connections (and the weirds) to `a`: what engines
/// that each saw the whole capture count of their own flows only.
fn add_connection_stats(a: &mut capture::Stats, b: &capture::Stats) {
    a.connections += b.connections;
    a.tcp_connections += b.tcp_connections;
    a.udp_connections += b.udp_connections;
    a.evicted += b.evicted;
    a.tcp_bytes_delivered += b.tcp_bytes_delivered;
    a.tcp_gap_bytes += b.tcp_gap_bytes;
    a.tcp_retransmitted_bytes += b.tcp_retransmitted_bytes;
    a.udp_bytes_delivered += b.udp_bytes_delivered;
    a.weirds += b.weirds;
}
