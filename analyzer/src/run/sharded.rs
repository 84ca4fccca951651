//! Sharded runs (`RunOptions::threads` > 1): connections spread over worker threads by flow
//! hash, each worker running its own engine and [`Pipeline`]; their outputs merged at the end.
//!
//! In: [`Input`]s and [`RunOptions`]. Out: the same bytes a single-threaded [`super::run`]
//! writes (see [`run_sharded`] for where the order may differ).

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::{EventFormat, LogFormat, Outputs, Pipeline, RunError, RunOptions, Summary};
use crate::capture::{self, CaptureError, ConnInfo, EndReason, FlowHandler, Input, Verdict};
use crate::log::{OptionalColumns, TsvLogWriter};

// ---------------------------------------------------------------------------------------------
// Sharded runs (`RunOptions::threads` > 1)
// ---------------------------------------------------------------------------------------------
//
// The calling thread reads the captures, decodes just enough of each frame to find its flow
// (link, IP, ports), reassembles IP fragments itself (a fragment has no ports), and sends frames
// in batches to one of N workers chosen by a symmetric hash of the flow. Each worker runs its own
// `Engine` and `Pipeline` and records its output in memory, each piece tagged with the global
// position of the item that produced it. At the end the pieces are merged in that order, which
// is the single-threaded order except where timers fired (a worker's timers fire at broadcast
// ticks rather than at the exact packet), and uids are renumbered in global creation order, so
// `--seed` gives the same uids as a single-threaded run. Output is buffered until the end: this
// mode is for offline captures, not live capture.

/// Frames per batch sent to a worker: large enough that channel operations are rare, small
/// enough that workers start early.
const SHARD_BATCH_FRAMES: usize = 512;
/// Bytes per batch before it is sent whatever its frame count.
const SHARD_BATCH_BYTES: usize = 256 << 10;
/// Batches queued per worker before the reader waits (bounds the memory in flight).
const SHARD_QUEUE_DEPTH: usize = 8;
/// Capture seconds between time ticks broadcast to every worker, so that a worker's
/// inactivity and close timers fire although most packets go to other workers.
const SHARD_TICK_INTERVAL: f64 = 1.0;
/// A tick is an Ethernet frame of the IEEE 802 local experimental ethertype: the engine runs
/// its timers for the frame's timestamp, then counts it as "not IP" (subtracted again below).
const SHARD_TICK_FRAME: [u8; 14] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0xb5];
/// LINKTYPE_ETHERNET, for ticks.
const SHARD_LINKTYPE_ETHERNET: u32 = 1;
/// LINKTYPE_RAW, for datagrams the reader rebuilt from fragments.
const SHARD_LINKTYPE_RAW: u32 = 101;

/// Where a piece of output belongs in the single-threaded order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey {
    /// Global index of the packet (or end of input) being processed.
    seq: u64,
    /// 0: timers and ends (which run before the packet itself); 1: the packet.
    phase: u8,
    /// Among connections ended at the same point: the creation index, as the single-threaded
    /// engine ends them in creation order.
    sub: u64,
}

/// What the reader sends a worker.
enum ShardItem {
    /// A frame whose bytes are `bytes[start..end]` of the batch.
    Frame {
        seq: u64,
        ts: f64,
        linktype: u32,
        start: usize,
        end: usize,
    },
    /// A file-level or fragment weird (always worker 0).
    Weird {
        seq: u64,
        ts: f64,
        name: &'static str,
        addl: String,
    },
    /// Time passed (every worker).
    Tick { seq: u64, ts: f64 },
    /// A new input starts (every worker).
    BeginInput,
    /// The input ended: end every connection (every worker).
    Finish { seq: u64 },
}

#[derive(Default)]
struct ShardBatch {
    items: Vec<ShardItem>,
    bytes: Vec<u8>,
}

impl ShardBatch {
    /// An empty batch that will not grow in the common case. Batches go back to the reader
    /// once a worker is done with them: fresh allocations of this size would cost a page fault
    /// per 4 KiB, which is more than the copy into them.
    fn with_capacity() -> Self {
        ShardBatch {
            items: Vec::with_capacity(SHARD_BATCH_FRAMES + 16),
            bytes: Vec::with_capacity(SHARD_BATCH_BYTES + capture::MAX_PACKET_SIZE),
        }
    }
}

/// Output of one worker: bytes and the ordered pieces they consist of.
#[derive(Default)]
struct Recorded {
    bytes: Vec<u8>,
    chunks: Vec<(OrderKey, usize, usize)>,
}

/// A `Write` that files what is written under the current [`OrderKey`].
struct Recorder {
    key: Rc<Cell<OrderKey>>,
    out: Recorded,
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let key = self.key.get();
        let start = self.out.bytes.len();
        self.out.bytes.extend_from_slice(buf);
        let end = self.out.bytes.len();
        match self.out.chunks.last_mut() {
            Some((k, _, e)) if *k == key && *e == start => *e = end,
            _ => self.out.chunks.push((key, start, end)),
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Wraps a worker's pipeline: notes when each connection was created (for uids and for the
/// order of ends) and tags ends with it.
struct ShardHandler<'p, 'w> {
    pipeline: &'p mut Pipeline<'w>,
    key: Rc<Cell<OrderKey>>,
    /// Global creation index of each open connection, by [`ConnInfo::slot`].
    created: Vec<u64>,
    /// (global creation index, worker-local uid), in creation order.
    creations: Vec<(u64, String)>,
}

impl FlowHandler for ShardHandler<'_, '_> {
    fn new_connection(&mut self, c: &ConnInfo) -> Verdict {
        let seq = self.key.get().seq;
        let i = c.slot as usize;
        if i >= self.created.len() {
            self.created.resize(i + 1, 0);
        }
        if let Some(x) = self.created.get_mut(i) {
            *x = seq;
        }
        self.creations.push((seq, c.uid.clone()));
        self.pipeline.new_connection(c)
    }
    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.pipeline.tcp_data(c, is_orig, ts, data)
    }
    fn tcp_gap(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, len: u64) -> Verdict {
        self.pipeline.tcp_gap(c, is_orig, ts, len)
    }
    fn udp_datagram(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.pipeline.udp_datagram(c, is_orig, ts, data)
    }
    fn packet_done(&mut self) {
        self.pipeline.packet_done();
    }
    fn connection_end(&mut self, c: &ConnInfo, ts: f64, reason: EndReason) {
        let created = self.created.get(c.slot as usize).copied().unwrap_or(0);
        let key = self.key.get();
        if key.phase == 0 {
            self.key.set(OrderKey {
                sub: created,
                ..key
            });
        }
        self.pipeline.connection_end(c, ts, reason);
    }
    fn weird(&mut self, c: Option<&ConnInfo>, ts: f64, name: &'static str, addl: &str) {
        self.pipeline.weird(c, ts, name, addl);
    }
}

/// What a worker hands back.
struct WorkerResult {
    events: Recorded,
    log: Recorded,
    creations: Vec<(u64, String)>,
    summary: Summary,
    first_ts: Option<f64>,
    last_ts: f64,
    ticks: u64,
}

fn shard_worker(
    rx: Receiver<ShardBatch>,
    back: SyncSender<ShardBatch>,
    opts: RunOptions,
    formats: (Option<EventFormat>, Option<LogFormat>),
) -> WorkerResult {
    let key = Rc::new(Cell::new(OrderKey::default()));
    let mut events = Recorder {
        key: Rc::clone(&key),
        out: Recorded::default(),
    };
    let mut log = Recorder {
        key: Rc::clone(&key),
        out: Recorded::default(),
    };
    let mut ticks = 0u64;
    let (creations, summary, first_ts, last_ts) = {
        let outputs = Outputs {
            events: formats.0.map(|f| (f, &mut events as &mut dyn Write)),
            log: formats.1.map(|f| (f, &mut log as &mut dyn Write)),
        };
        let mut pipeline = Pipeline::new(&opts, outputs);
        let mut engine = capture::Engine::new(opts.capture.clone());
        let mut handler = ShardHandler {
            pipeline: &mut pipeline,
            key: Rc::clone(&key),
            created: Vec::new(),
            creations: Vec::new(),
        };
        for mut batch in rx {
            let ShardBatch { items, bytes } = &mut batch;
            for item in items.drain(..) {
                match item {
                    ShardItem::Frame {
                        seq,
                        ts,
                        linktype,
                        start,
                        end,
                    } => {
                        key.set(OrderKey {
                            seq,
                            phase: 1,
                            sub: 0,
                        });
                        let data = bytes.get(start..end).unwrap_or_default();
                        let frame = capture::source::Frame { ts, linktype, data };
                        engine.packet(frame, &mut handler);
                    }
                    ShardItem::Tick { seq, ts } => {
                        key.set(OrderKey {
                            seq,
                            phase: 0,
                            sub: 0,
                        });
                        ticks += 1;
                        let frame = capture::source::Frame {
                            ts,
                            linktype: SHARD_LINKTYPE_ETHERNET,
                            data: &SHARD_TICK_FRAME,
                        };
                        engine.packet(frame, &mut handler);
                    }
                    ShardItem::Weird {
                        seq,
                        ts,
                        name,
                        addl,
                    } => {
                        key.set(OrderKey {
                            seq,
                            phase: 1,
                            sub: 0,
                        });
                        let rec = capture::source::Record::Weird { ts, name, addl };
                        engine.record(rec, &mut handler);
                    }
                    ShardItem::BeginInput => engine.begin_input(),
                    ShardItem::Finish { seq } => {
                        key.set(OrderKey {
                            seq,
                            phase: 0,
                            sub: 0,
                        });
                        engine.finish(&mut handler);
                    }
                }
            }
            bytes.clear();
            // Back to the reader for reuse; when its queue is full the batch is just freed.
            let _ = back.try_send(batch);
        }
        let creations = std::mem::take(&mut handler.creations);
        key.set(OrderKey {
            seq: u64::MAX,
            phase: 0,
            sub: 0,
        });
        let close_ts = pipeline.last_ts;
        // The recorders cannot fail, and header and footer are rewritten by the merge.
        let _ = pipeline.finish(close_ts);
        let mut summary = std::mem::take(&mut pipeline.summary);
        summary.capture = engine.stats().clone();
        (creations, summary, pipeline.first_ts, pipeline.last_ts)
    };
    WorkerResult {
        events: events.out,
        log: log.out,
        creations,
        summary,
        first_ts,
        last_ts,
        ticks,
    }
}

/// A symmetric hash of the flow's endpoints and protocol: both directions of a flow land on the
/// same worker, and the choice is the same on every run. Each endpoint is folded into 64 bits
/// and mixed (SplitMix64's finalizer); the two are added, which does not depend on direction.
fn shard_of(t: &capture::ip::Transport<'_>, workers: usize) -> usize {
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn endpoint(addr: std::net::IpAddr, port: u16) -> u64 {
        let a = match addr {
            std::net::IpAddr::V4(a) => u64::from(u32::from(a)),
            std::net::IpAddr::V6(a) => {
                let x = u128::from(a);
                (x as u64) ^ ((x >> 64) as u64).rotate_left(17)
            }
        };
        mix((a << 16) ^ (a >> 48) ^ u64::from(port))
    }
    let (sport, dport) = match (t.proto, t.payload.get(..4)) {
        (6 | 17, Some(&[a, b, c, d])) => (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])),
        // No ports: no flow to keep together; worker 0 counts it.
        _ => return 0,
    };
    let h = endpoint(t.src, sport)
        .wrapping_add(endpoint(t.dst, dport))
        .wrapping_add(u64::from(t.proto));
    (mix(h) % workers.max(1) as u64) as usize
}

/// A raw IP packet (LINKTYPE_RAW) carrying a datagram rebuilt from fragments.
fn raw_ip_packet(t: &capture::ip::Transport<'_>, out: &mut Vec<u8>) {
    use std::net::IpAddr;
    match (t.src, t.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // A length that does not fit says 0, which the engine reads as "the captured size".
            let total = u16::try_from(20 + t.payload.len()).unwrap_or(0);
            out.extend_from_slice(&[0x45, 0]);
            out.extend_from_slice(&total.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0, 64, t.proto, 0, 0]);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
        }
        (s, d) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V4(a) => a.to_ipv6_mapped(),
                IpAddr::V6(a) => a,
            };
            let len = u16::try_from(t.payload.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&[t.proto, 64]);
            out.extend_from_slice(&v6(s).octets());
            out.extend_from_slice(&v6(d).octets());
        }
    }
    out.extend_from_slice(t.payload);
}

/// The reader side: counts, routes and batches records.
struct Dispatcher<'t> {
    txs: &'t [SyncSender<ShardBatch>],
    /// Emptied batches coming back from each worker.
    returns: Vec<Receiver<ShardBatch>>,
    batches: Vec<ShardBatch>,
    seq: u64,
    now: f64,
    last_tick: f64,
    defrag: capture::ip::Defragmenter,
    stats: capture::Stats,
}

impl Dispatcher<'_> {
    fn push(&mut self, worker: usize, item: ShardItem) {
        let Some(b) = self.batches.get_mut(worker) else {
            return;
        };
        b.items.push(item);
        if b.items.len() >= SHARD_BATCH_FRAMES || b.bytes.len() >= SHARD_BATCH_BYTES {
            self.send(worker);
        }
    }

    fn push_frame(&mut self, worker: usize, ts: f64, linktype: u32, data: &[u8]) {
        let seq = self.seq;
        let Some(b) = self.batches.get_mut(worker) else {
            return;
        };
        let start = b.bytes.len();
        b.bytes.extend_from_slice(data);
        let end = b.bytes.len();
        self.push(
            worker,
            ShardItem::Frame {
                seq,
                ts,
                linktype,
                start,
                end,
            },
        );
    }

    fn send(&mut self, worker: usize) {
        if let (Some(b), Some(tx)) = (self.batches.get_mut(worker), self.txs.get(worker)) {
            if !b.items.is_empty() {
                let fresh = self
                    .returns
                    .get(worker)
                    .and_then(|r| r.try_recv().ok())
                    .unwrap_or_else(ShardBatch::with_capacity);
                // A worker that is gone has panicked; joining it reports that.
                let _ = tx.send(std::mem::replace(b, fresh));
            }
        }
    }

    fn broadcast(&mut self, item: impl Fn() -> ShardItem) {
        for w in 0..self.txs.len() {
            self.push(w, item());
        }
    }

    fn flush_all(&mut self) {
        for w in 0..self.txs.len() {
            self.send(w);
        }
    }

    fn weird(&mut self, ts: f64, name: &'static str, addl: String) {
        let seq = self.seq;
        self.push(
            0,
            ShardItem::Weird {
                seq,
                ts,
                name,
                addl,
            },
        );
    }

    fn record(&mut self, rec: capture::source::Record<'_>) {
        use capture::ip::{self as cip, Ip};
        use capture::link::{self as clink, Network};
        let f = match rec {
            capture::source::Record::Frame(f) => f,
            capture::source::Record::Weird { ts, name, addl } => {
                self.weird(ts, name, addl);
                self.seq += 1;
                return;
            }
        };
        self.stats.packets += 1;
        self.stats.bytes += f.data.len() as u64;
        if f.ts > self.now {
            // The single-threaded engine expires fragments here, before decoding the frame.
            self.now = f.ts;
            let mut weirds: Vec<(&'static str, String)> = Vec::new();
            self.defrag
                .expire(self.now, &mut |n, a| weirds.push((n, a)));
            for (n, a) in weirds {
                self.weird(f.ts, n, a);
            }
        }
        if f.ts >= self.last_tick + SHARD_TICK_INTERVAL {
            self.last_tick = f.ts;
            let (seq, ts) = (self.seq, f.ts);
            self.broadcast(|| ShardItem::Tick { seq, ts });
        }
        let workers = self.txs.len();
        let parsed = match clink::decode(f.linktype, f.data) {
            Ok(Network::Ipv4(p)) => Some(cip::parse_ipv4(p)),
            Ok(Network::Ipv6(p)) => Some(cip::parse_ipv6(p)),
            _ => None,
        };
        match parsed {
            Some(Ok(Ip::Whole(t))) => {
                let w = shard_of(&t, workers);
                self.push_frame(w, f.ts, f.linktype, f.data);
            }
            Some(Ok(Ip::Fragment(frag))) => {
                self.stats.fragments += 1;
                let mut weirds: Vec<(&'static str, String)> = Vec::new();
                let whole = self
                    .defrag
                    .add(f.ts, &frag, &mut |n, a| weirds.push((n, a)));
                for (n, a) in weirds {
                    self.weird(f.ts, n, a);
                }
                if let Some(payload) = whole {
                    self.stats.reassembled += 1;
                    let t = capture::ip::Transport {
                        payload: &payload,
                        ..frag.transport
                    };
                    let mut packet = Vec::with_capacity(payload.len() + 40);
                    raw_ip_packet(&t, &mut packet);
                    let w = shard_of(&t, workers);
                    self.push_frame(w, f.ts, SHARD_LINKTYPE_RAW, &packet);
                }
            }
            // Not IP, or not decodable: no flow, and worker 0 counts it and raises the weird.
            _ => self.push_frame(0, f.ts, f.linktype, f.data),
        }
        self.seq += 1;
    }

    fn finish(&mut self) {
        let seq = self.seq;
        self.broadcast(|| ShardItem::Finish { seq });
        self.seq += 1;
        self.defrag = capture::ip::Defragmenter::new();
    }
}

/// Reads `inputs` and feeds the workers; the error, if any, is the capture's.
fn shard_read(
    inputs: &[Input],
    opts: &capture::Options,
    d: &mut Dispatcher<'_>,
) -> Result<(), CaptureError> {
    for input in inputs {
        d.stats.inputs += 1;
        d.broadcast(|| ShardItem::BeginInput);
        let result =
            capture::source::read_records_counting(input, opts.progress.as_deref(), |rec| {
                d.record(rec)
            });
        if result.is_err() || !opts.continue_across_inputs {
            d.finish();
        }
        if let Err(e) = result {
            d.flush_all();
            return Err(e);
        }
    }
    d.finish();
    d.flush_all();
    Ok(())
}

/// Copies `line` to `out`, replacing every worker-local uid by its global one. A uid is a token
/// of 3 to 18 base62 characters starting with `C` (see `capture::uid`); only such tokens are
/// looked up, and the bytes between them are copied in bulk.
fn remap_uids(line: &[u8], uids: &HashMap<String, String>, out: &mut Vec<u8>) {
    if uids.is_empty() {
        out.extend_from_slice(line);
        return;
    }
    let mut copied = 0;
    let mut i = 0;
    while let Some(p) = line
        .get(i..)
        .and_then(|r| r.iter().position(|&b| b == b'C'))
    {
        let start = i + p;
        let end = line
            .get(start..)
            .and_then(|r| r.iter().position(|b| !b.is_ascii_alphanumeric()))
            .map_or(line.len(), |q| start + q);
        let token_start = start == 0
            || line
                .get(start - 1)
                .is_some_and(|b| !b.is_ascii_alphanumeric());
        if token_start && (3..=18).contains(&(end - start)) {
            let global = line
                .get(start..end)
                .and_then(|t| std::str::from_utf8(t).ok())
                .and_then(|t| uids.get(t));
            if let Some(g) = global {
                out.extend_from_slice(line.get(copied..start).unwrap_or_default());
                out.extend_from_slice(g.as_bytes());
                copied = end;
            }
        }
        i = end.max(start + 1);
    }
    out.extend_from_slice(line.get(copied..).unwrap_or_default());
}

/// Merges the workers' pieces of one output in [`OrderKey`] order; for the TSV log, drops the
/// workers' header and footer lines and writes one header and footer for the whole run.
fn merge_output(
    parts: &[(&Recorded, &HashMap<String, String>)],
    tsv: Option<(f64, f64, OptionalColumns)>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut order: Vec<(OrderKey, usize, usize)> = Vec::new();
    for (worker, (rec, _)) in parts.iter().enumerate() {
        for (i, (key, _, _)) in rec.chunks.iter().enumerate() {
            order.push((*key, worker, i));
        }
    }
    order.sort_unstable();
    let mut out = Vec::new();
    let mut rows = 0u64;
    for (_, worker, i) in order {
        let Some((rec, uids)) = parts.get(worker) else {
            continue;
        };
        let Some(&(_, start, end)) = rec.chunks.get(i) else {
            continue;
        };
        let bytes = rec.bytes.get(start..end).unwrap_or_default();
        if tsv.is_none() && uids.is_empty() {
            // Nothing to change line by line: the piece goes out as it is.
            w.write_all(&out)?;
            out.clear();
            w.write_all(bytes)?;
            continue;
        }
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            if let Some((open, _, columns)) = tsv {
                if line.first() == Some(&b'#') {
                    continue;
                }
                if rows == 0 {
                    let mut header = TsvLogWriter::with_columns(columns);
                    header.header(open);
                    header.flush_to(&mut out)?;
                }
                rows += 1;
            }
            remap_uids(line, uids, &mut out);
        }
        if out.len() >= 1 << 16 {
            w.write_all(&out)?;
            out.clear();
        }
    }
    if let Some((_, close, _)) = tsv {
        if rows > 0 {
            let mut footer = TsvLogWriter::new();
            footer.footer(close);
            footer.flush_to(&mut out)?;
        }
    }
    w.write_all(&out)
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

/// [`super::run`] with connections sharded over `opts.threads` worker threads by flow hash.
///
/// Same ssl.log rows and event lines as a single-threaded run (and, under `--seed`, the same
/// uids); the order is the single-threaded one except around timer-driven connection ends.
/// The connection-table and out-of-order-buffer bounds are split evenly between the workers.
pub fn run_sharded(
    inputs: &[Input],
    opts: &RunOptions,
    outputs: Outputs<'_>,
) -> Result<Summary, RunError> {
    let workers = opts.threads.max(1);
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
    let (results, read_result, read_stats) = std::thread::scope(|scope| {
        let mut txs = Vec::with_capacity(workers);
        let mut returns = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for i in 0..workers {
            let (tx, rx) = sync_channel::<ShardBatch>(SHARD_QUEUE_DEPTH);
            let (back_tx, back_rx) = sync_channel::<ShardBatch>(SHARD_QUEUE_DEPTH + 2);
            let mut wopts = opts.clone();
            wopts.threads = 1;
            // Local uids only need to be distinct; they are renumbered at the end.
            wopts.capture.seed = Some(seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            wopts.capture.max_connections = (opts.capture.max_connections / workers).max(1);
            wopts.capture.max_buffered_bytes_total =
                (opts.capture.max_buffered_bytes_total / workers).max(1);
            handles.push(scope.spawn(move || shard_worker(rx, back_tx, wopts, formats)));
            txs.push(tx);
            returns.push(back_rx);
        }
        let mut reader = Dispatcher {
            txs: &txs,
            returns,
            batches: (0..workers).map(|_| ShardBatch::with_capacity()).collect(),
            seq: 0,
            now: 0.0,
            last_tick: f64::NEG_INFINITY,
            defrag: capture::ip::Defragmenter::new(),
            stats: capture::Stats::default(),
        };
        let read_result = shard_read(inputs, &opts.capture, &mut reader);
        let read_stats = reader.stats;
        drop(txs);
        let results: Vec<WorkerResult> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        (results, read_result, read_stats)
    });

    // Uids in global creation order, as one engine seeded with `seed` would hand them out.
    let mut creations: Vec<(u64, usize, &str)> = Vec::new();
    for (w, r) in results.iter().enumerate() {
        creations.extend(r.creations.iter().map(|(seq, uid)| (*seq, w, uid.as_str())));
    }
    creations.sort_unstable_by_key(|&(seq, w, _)| (seq, w));
    // Without `--seed` uids are random anyway: the workers' own (distinct) ones stand.
    let mut uids: Vec<HashMap<String, String>> = vec![HashMap::new(); workers];
    if opts.capture.seed.is_some() {
        let mut generator = capture::uid::UidGenerator::from_seed(seed);
        for (_, w, local) in creations {
            if let Some(m) = uids.get_mut(w) {
                m.insert(local.to_owned(), generator.next_uid('C'));
            }
        }
    }

    // The single-threaded pipeline's first timestamp is that of its first callback, always a
    // new connection: take the worker that created the first connection.
    let first_ts = results
        .iter()
        .filter_map(|r| Some((r.creations.first()?.0, r.first_ts?)))
        .min_by_key(|&(seq, _)| seq)
        .map_or(0.0, |(_, ts)| ts);
    let close_ts = results.iter().map(|r| r.last_ts).fold(0.0, f64::max);
    let mut summary = Summary::default();
    let mut ticks = 0;
    for r in &results {
        add_stats(&mut summary.capture, &r.summary.capture);
        summary.ssl_connections += r.summary.ssl_connections;
        summary.events += r.summary.events;
        summary.log_rows += r.summary.log_rows;
        ticks += r.ticks;
    }
    // What the workers saw includes ticks and rebuilt datagrams; the reader saw the capture.
    summary.capture.inputs = read_stats.inputs;
    summary.capture.packets = read_stats.packets;
    summary.capture.bytes = read_stats.bytes;
    summary.capture.non_ip = summary.capture.non_ip.saturating_sub(ticks);
    summary.capture.fragments = read_stats.fragments;
    summary.capture.reassembled = read_stats.reassembled;

    let Outputs { events, log } = outputs;
    if let Some((_, w)) = events {
        let parts: Vec<_> = results
            .iter()
            .zip(&uids)
            .map(|(r, u)| (&r.events, u))
            .collect();
        merge_output(&parts, None, w).map_err(RunError::Output)?;
    }
    if let Some((format, w)) = log {
        let parts: Vec<_> = results
            .iter()
            .zip(&uids)
            .map(|(r, u)| (&r.log, u))
            .collect();
        let tsv = (format == LogFormat::Tsv).then_some((first_ts, close_ts, opts.log_columns));
        merge_output(&parts, tsv, w).map_err(RunError::Output)?;
    }
    match read_result {
        Ok(()) => Ok(summary),
        Err(e) => Err(RunError::Capture(e)),
    }
}

#[cfg(test)]
mod sharded_tests {
    use super::*;
    use crate::run::run;
    use std::path::PathBuf;

    /// Every capture of `tests/captures`, in name order.
    fn corpus() -> Vec<Input> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/captures");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "pcap"));
        files.sort();
        files.into_iter().map(Input::Path).collect()
    }

    fn output(inputs: &[Input], threads: usize, across: bool, events: bool) -> (String, Summary) {
        output_seeded(inputs, threads, across, events, Some(42))
    }

    fn output_seeded(
        inputs: &[Input],
        threads: usize,
        across: bool,
        events: bool,
        seed: Option<u64>,
    ) -> (String, Summary) {
        let mut opts = RunOptions {
            threads,
            ..RunOptions::default()
        };
        opts.capture.seed = seed;
        opts.capture.continue_across_inputs = across;
        let mut out: Vec<u8> = Vec::new();
        let outputs = if events {
            Outputs {
                events: Some((EventFormat::Json, &mut out as &mut dyn Write)),
                log: None,
            }
        } else {
            Outputs {
                events: None,
                log: Some((LogFormat::Tsv, &mut out as &mut dyn Write)),
            }
        };
        let summary = match run(inputs, &opts, outputs) {
            Ok(s) => s,
            Err(e) => panic!("run failed: {e}"),
        };
        (String::from_utf8_lossy(&out).into_owned(), summary)
    }

    fn sorted(s: &str) -> Vec<&str> {
        let mut v: Vec<&str> = s.lines().collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn sharded_output_equals_single_threaded() {
        let inputs = corpus();
        assert!(inputs.len() >= 20, "captures not found");
        for events in [false, true] {
            let (one, s1) = output(&inputs, 1, false, events);
            assert!(one.lines().count() > 30);
            for threads in [2, 3, 8] {
                let (many, sn) = output(&inputs, threads, false, events);
                // Each input ends all its connections, so no timer decides an order: identical.
                assert_eq!(one, many, "threads={threads} events={events}");
                assert_eq!(s1.capture, sn.capture, "threads={threads}");
                assert_eq!(
                    (s1.events, s1.log_rows, s1.ssl_connections),
                    (sn.events, sn.log_rows, sn.ssl_connections)
                );
            }
        }
    }

    #[test]
    fn sharded_output_equals_single_threaded_across_inputs() {
        // One continuous capture: connections now end by timers, which fire at ticks in the
        // workers, so only the order of lines may differ.
        let inputs = corpus();
        for events in [false, true] {
            let (one, _) = output(&inputs, 1, true, events);
            for threads in [2, 5] {
                let (many, _) = output(&inputs, threads, true, events);
                assert_eq!(
                    sorted(&one),
                    sorted(&many),
                    "threads={threads} events={events}"
                );
            }
        }
    }

    #[test]
    fn sharded_without_seed_keeps_distinct_random_uids() {
        // No renumbering without --seed: rows are the same apart from their (random) uids.
        let inputs = corpus();
        let strip = |s: &str| -> Vec<String> {
            let mut v: Vec<String> = s
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| {
                    let mut cols: Vec<&str> = l.split('\t').collect();
                    if cols.len() > 1 {
                        cols.remove(1);
                    }
                    cols.join("\t")
                })
                .collect();
            v.sort_unstable();
            v
        };
        let (one, _) = output_seeded(&inputs, 1, false, false, None);
        let (two, _) = output_seeded(&inputs, 2, false, false, None);
        assert_eq!(strip(&one), strip(&two));
        let mut uids: Vec<&str> = two
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split('\t').nth(1))
            .collect();
        let rows = uids.len();
        uids.sort_unstable();
        uids.dedup();
        assert_eq!(uids.len(), rows, "uids repeat across workers");
        // Events go out piece by piece, unchanged: same lines apart from the uids.
        let (one, _) = output_seeded(&inputs, 1, false, true, None);
        let (two, _) = output_seeded(&inputs, 3, false, true, None);
        let no_uid = |s: &str| -> Vec<String> {
            let mut v: Vec<String> = s
                .lines()
                .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
                    Ok(serde_json::Value::Object(mut o)) => {
                        o.remove("uid");
                        serde_json::Value::Object(o).to_string()
                    }
                    _ => l.to_owned(),
                })
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(no_uid(&one), no_uid(&two));
    }
}
