//! The reading side of a sharded run: capture records in, routed to engines; the merged output
//! out through the [`Merger`].
//!
//! In: the run's [`Input`]s. Out: frames run inline through engine 0 or copied into batches
//! for the worker engines (by a symmetric, seedless hash of the flow, so that both directions
//! of a flow meet in one engine and the split is the same on every run), ticks and input
//! boundaries broadcast to every engine, and the workers' output messages fed to the merge as
//! they arrive. The [`Dispatcher`] never blocks on a worker without also serving the merge:
//! when a worker's queue is full it waits for output messages instead, after handing every
//! other worker its batch, so that the engine holding the merge back always has input.
//!
//! When every engine reads the input itself ([`DispatcherSetup::replicated`]), the same
//! [`Dispatcher`] numbers the records as the reading workers do (one index per record and per
//! end of an input), runs engine 0 on every one of them and only serves the merge: no routing,
//! no batches, no ticks.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use super::merge::Merger;
use super::shard::{Msg, Outbox, Shard, Shared, WorkerEnd};
use super::{
    OrderKey, SHARD_BATCH_BYTES, SHARD_BATCH_FRAMES, SHARD_BUCKETS, SHARD_POLL_RECORDS,
    SHARD_QUEUE_DEPTH, SHARD_TICK_INTERVAL, SHARD_WATERMARK_FRAMES,
};
use crate::capture::{self, CaptureError, Input};

/// A tick is an Ethernet frame of the IEEE 802 local experimental ethertype: the engine runs
/// its timers for the frame's timestamp, then counts it as "not IP" (subtracted again later).
pub(super) const SHARD_TICK_FRAME: [u8; 14] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0xb5];
/// LINKTYPE_ETHERNET, for ticks.
pub(super) const SHARD_LINKTYPE_ETHERNET: u32 = 1;
/// Room in a new batch above [`SHARD_BATCH_BYTES`] for the frame that crosses it; a larger
/// frame grows the batch (up to `capture::MAX_PACKET_SIZE`).
const SHARD_BATCH_SLACK: usize = 64 << 10;
/// LINKTYPE_RAW, for datagrams the reader rebuilt from fragments.
const SHARD_LINKTYPE_RAW: u32 = 101;

/// What the reader sends an engine; `seq` is the global index the item belongs to.
pub(super) enum ShardItem {
    /// A frame whose bytes are `bytes[start..end]` of the batch.
    Frame {
        seq: u64,
        ts: f64,
        linktype: u32,
        start: usize,
        end: usize,
    },
    /// A file-level or fragment weird (always engine 0).
    Weird {
        seq: u64,
        ts: f64,
        name: &'static str,
        addl: String,
    },
    /// Time passed (every engine).
    Tick { seq: u64, ts: f64 },
    /// A new input starts (every engine).
    BeginInput { seq: u64 },
    /// The input ended: end every connection (every engine).
    Finish { seq: u64 },
}

impl ShardItem {
    pub(super) fn seq(&self) -> u64 {
        match self {
            ShardItem::Frame { seq, .. }
            | ShardItem::Weird { seq, .. }
            | ShardItem::Tick { seq, .. }
            | ShardItem::BeginInput { seq }
            | ShardItem::Finish { seq } => *seq,
        }
    }
}

/// Items for one worker, and the frames' bytes.
#[derive(Default)]
pub(super) struct ShardBatch {
    pub(super) items: Vec<ShardItem>,
    pub(super) bytes: Vec<u8>,
    /// The reader's global index when it sent the batch: every later item has at least this.
    pub(super) watermark: u64,
}

impl ShardBatch {
    /// An empty batch that will not grow in the common case. Batches come back to the reader
    /// once a worker is done with them: fresh allocations of this size would cost a page fault
    /// per 4 KiB, which is more than the copy into them.
    fn with_capacity() -> Self {
        ShardBatch {
            items: Vec::with_capacity(SHARD_BATCH_FRAMES + 16),
            bytes: Vec::with_capacity(SHARD_BATCH_BYTES + SHARD_BATCH_SLACK),
            watermark: 0,
        }
    }
}

/// The flow's bucket by the capture engine's [`capture::engine::symmetric_flow_hash`] (the one
/// `capture::Options::shard` uses): both directions of a flow land in the same bucket, and the
/// choice is the same on every run. `None`: no ports, no flow to keep together.
fn bucket_of(t: &capture::ip::Transport<'_>) -> Option<usize> {
    let (sport, dport) = match (t.proto, t.payload.get(..4)) {
        (6 | 17, Some(&[a, b, c, d])) => (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])),
        _ => return None,
    };
    let h = capture::engine::symmetric_flow_hash((t.src, sport), (t.dst, dport), t.proto);
    Some((h % SHARD_BUCKETS as u64) as usize)
}

/// Which engine owns each bucket: engine 0 (inline on the reading thread) `main_percent` of a
/// fair share, at least one bucket; the others the rest, in turn.
fn bucket_owners(engines: usize, main_percent: usize) -> [usize; SHARD_BUCKETS] {
    let mut owners = [0; SHARD_BUCKETS];
    if engines <= 1 {
        return owners;
    }
    let main = (SHARD_BUCKETS * main_percent / (100 * engines)).clamp(1, SHARD_BUCKETS - 1);
    for (i, o) in owners.iter_mut().enumerate().skip(main) {
        *o = 1 + (i - main) % (engines - 1);
    }
    owners
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

/// What the [`Dispatcher`] is made of.
pub(super) struct DispatcherSetup<'a, 'w> {
    /// Engines in all, engine 0 included.
    pub(super) engines: usize,
    /// Every engine reads the input itself (see the `sharded` module): the dispatcher only
    /// runs engine 0 on every record and serves the merge; `txs` is empty.
    pub(super) replicated: bool,
    /// Batch queues of engines 1.. (index 0 is engine 1).
    pub(super) txs: Vec<SyncSender<ShardBatch>>,
    pub(super) rx: Receiver<Msg>,
    pub(super) shared: Arc<Shared>,
    pub(super) merger: Merger<'w>,
    /// Engine 0, run inline, and its recorded output.
    pub(super) shard: Shard<'a>,
    pub(super) outbox: Rc<RefCell<Outbox>>,
    pub(super) share: usize,
    pub(super) message_bytes: usize,
    pub(super) main_share_percent: usize,
}

/// What the reading thread hands back at the end.
pub(super) struct MainEnd<'w> {
    /// Engine 0's end.
    pub(super) end: WorkerEnd,
    /// What the reader counted (inputs, packets, bytes, fragments).
    pub(super) read_stats: capture::Stats,
    pub(super) merger: Merger<'w>,
    /// Times the reading thread waited for the merge.
    pub(super) waits: u64,
}

/// The reader side: counts, routes and batches records, runs engine 0, feeds the merge.
pub(super) struct Dispatcher<'a, 'w> {
    seq: u64,
    now: f64,
    last_tick: f64,
    defrag: capture::ip::Defragmenter,
    stats: capture::Stats,
    owners: [usize; SHARD_BUCKETS],
    engines: usize,
    /// See [`DispatcherSetup::replicated`].
    replicated: bool,
    since_watermark: u64,
    txs: Vec<SyncSender<ShardBatch>>,
    /// The batch being filled for each worker (index 0 is engine 1).
    partial: Vec<ShardBatch>,
    /// The watermark last sent to each worker.
    sent: Vec<u64>,
    /// Emptied batches back from the workers.
    free: Vec<ShardBatch>,
    rx: Receiver<Msg>,
    shared: Arc<Shared>,
    /// Per worker: no more messages will come (index 0 is engine 1).
    gone: Vec<bool>,
    /// Engine 0; taken when it ends.
    shard: Option<Shard<'a>>,
    outbox: Rc<RefCell<Outbox>>,
    merger: Merger<'w>,
    /// Engine 0 has ended: its watermark is above every key.
    done: bool,
    /// Bytes freed by the merge per engine, not yet published to the workers.
    freed: Vec<usize>,
    share: usize,
    message_bytes: usize,
    waits: u64,
}

impl<'a, 'w> Dispatcher<'a, 'w> {
    pub(super) fn new(s: DispatcherSetup<'a, 'w>) -> Self {
        let engines = s.engines.max(1);
        let workers = engines - 1;
        // Batches only for the workers this reader routes to (none when they read themselves).
        let routed = s.txs.len();
        Dispatcher {
            seq: 0,
            now: 0.0,
            last_tick: f64::NEG_INFINITY,
            defrag: capture::ip::Defragmenter::new(),
            stats: capture::Stats::default(),
            owners: bucket_owners(engines, s.main_share_percent),
            engines,
            replicated: s.replicated,
            since_watermark: 0,
            txs: s.txs,
            partial: (0..routed).map(|_| ShardBatch::with_capacity()).collect(),
            sent: vec![0; routed],
            free: Vec::new(),
            rx: s.rx,
            shared: s.shared,
            gone: vec![false; workers],
            shard: Some(s.shard),
            outbox: s.outbox,
            merger: s.merger,
            done: false,
            freed: vec![0; engines],
            share: s.share,
            message_bytes: s.message_bytes,
            waits: 0,
        }
    }

    /// Hands `item` to `engine`: inline for engine 0, else into its batch.
    fn push(&mut self, engine: usize, item: ShardItem) {
        if engine == 0 {
            if let Some(shard) = self.shard.as_mut() {
                shard.item(item, &[]);
            }
            return;
        }
        let Some(b) = self.partial.get_mut(engine - 1) else {
            return;
        };
        b.items.push(item);
        if b.items.len() >= SHARD_BATCH_FRAMES || b.bytes.len() >= SHARD_BATCH_BYTES {
            self.send(engine);
        }
    }

    fn push_frame(&mut self, engine: usize, ts: f64, linktype: u32, data: &[u8]) {
        let seq = self.seq;
        if engine == 0 {
            let frame = capture::source::Frame { ts, linktype, data };
            if let Some(shard) = self.shard.as_mut() {
                shard.frame(seq, frame);
            }
            return;
        }
        let Some(b) = self.partial.get_mut(engine - 1) else {
            return;
        };
        let start = b.bytes.len();
        b.bytes.extend_from_slice(data);
        let end = b.bytes.len();
        self.push(
            engine,
            ShardItem::Frame {
                seq,
                ts,
                linktype,
                start,
                end,
            },
        );
    }

    fn broadcast(&mut self, item: impl Fn() -> ShardItem) {
        for e in 0..self.engines {
            self.push(e, item());
        }
    }

    /// Sends worker `engine` its batch (even an empty one, to move its watermark) unless its
    /// queue is full; true when nothing is left to send.
    fn try_send(&mut self, engine: usize) -> bool {
        let i = engine - 1;
        let seq = self.seq;
        let (Some(p), Some(tx), Some(sent), Some(gone)) = (
            self.partial.get_mut(i),
            self.txs.get(i),
            self.sent.get_mut(i),
            self.gone.get(i),
        ) else {
            return true;
        };
        if p.items.is_empty() && *sent >= seq {
            return true;
        }
        if *gone {
            p.items.clear();
            p.bytes.clear();
            return true;
        }
        let fresh = self.free.pop().unwrap_or_else(ShardBatch::with_capacity);
        let mut batch = std::mem::replace(p, fresh);
        batch.watermark = seq;
        match tx.try_send(batch) {
            Ok(()) => {
                *sent = seq;
                true
            }
            Err(TrySendError::Full(batch)) => {
                let fresh = std::mem::replace(p, batch);
                self.free.push(fresh);
                false
            }
            // A worker that is gone has panicked; joining it reports that.
            Err(TrySendError::Disconnected(_)) => true,
        }
    }

    /// Sends worker `engine` its batch, serving the merge while its queue is full.
    fn send(&mut self, engine: usize) {
        while !self.try_send(engine) {
            self.wait_message();
        }
    }

    /// Sends every worker its batch.
    fn send_all(&mut self) {
        for e in 1..self.engines {
            self.send(e);
        }
    }

    /// Blocks until a worker reports, after making sure every worker that can take a batch has
    /// one up to the current index (so the engine holding the merge back is never idle).
    fn wait_message(&mut self) {
        for e in 1..self.engines {
            self.try_send(e);
        }
        self.publish();
        match self.rx.recv() {
            Ok(m) => self.take(m),
            Err(_) => self.gone.iter_mut().for_each(|g| *g = true),
        }
        self.take_ready();
        self.emit();
    }

    /// Files a worker's message with the merge.
    fn take(&mut self, m: Msg) {
        match m {
            Msg::Output {
                engine,
                watermark,
                out,
                batch,
            } => {
                self.merger.add(engine, watermark, *out);
                if let Some(b) = batch {
                    // Enough batches to refill every queue; more would only hold memory.
                    if self.free.len() < (SHARD_QUEUE_DEPTH + 2) * self.engines {
                        self.free.push(b);
                    }
                }
            }
            Msg::Gone { engine } => {
                self.merger.add(engine, OrderKey::MAX, Default::default());
                if let Some(g) = self.gone.get_mut(engine.wrapping_sub(1)) {
                    *g = true;
                }
            }
        }
    }

    /// Takes every message already waiting; true if there was one.
    fn take_ready(&mut self) -> bool {
        let mut any = false;
        while let Ok(m) = self.rx.try_recv() {
            self.take(m);
            any = true;
        }
        any
    }

    /// Tells the workers what the merge freed and which engine holds it back.
    fn publish(&mut self) {
        let own = self.own_watermark();
        self.merger.set_watermark(0, own);
        let min = self.merger.min();
        self.shared
            .publish(&mut self.freed, min, &mut self.merger.spare);
    }

    /// Engine 0 will write nothing below this: it runs every item of index `seq` and later.
    fn own_watermark(&self) -> OrderKey {
        if self.done {
            OrderKey::MAX
        } else {
            OrderKey::at(self.seq)
        }
    }

    /// Moves engine 0's output to the merge and writes what can be written.
    fn emit(&mut self) {
        let out = {
            let o = &mut *self.outbox.borrow_mut();
            let out = std::mem::take(&mut o.out);
            // Engine 0 refills the streams it writes from the written buffers first (see
            // `Shared::buffer`).
            for (rec, used) in [
                (&mut o.out.events, out.events.bytes.capacity() > 0),
                (&mut o.out.log, out.log.bytes.capacity() > 0),
            ] {
                if let Some(b) = self.merger.spare.pop().filter(|_| used) {
                    rec.bytes = b;
                }
            }
            out
        };
        let worker_held = self.shared.held_total();
        let own = self.own_watermark();
        self.merger.add(0, own, out);
        self.merger.emit(worker_held, &mut self.freed);
        self.publish();
    }

    /// After each record: serves the merge, moves watermarks on, and waits while engine 0's
    /// output held by the merge is over its share.
    fn after_record(&mut self) {
        self.since_watermark += 1;
        if self.replicated
            && !self.since_watermark.is_multiple_of(SHARD_POLL_RECORDS)
            && self.outbox.borrow().out.bytes() < self.message_bytes
        {
            // The workers send a message per message size or per `SHARD_WATERMARK_FRAMES`
            // records: looking for one after every record costs more than it serves.
            return;
        }
        let got = self.take_ready();
        if self.since_watermark >= SHARD_WATERMARK_FRAMES {
            self.since_watermark = 0;
            self.send_all();
        }
        let inline = self.outbox.borrow().out.bytes();
        if got || inline >= self.message_bytes {
            self.emit();
        }
        if self.merger.held(0) > self.share {
            self.waits += 1;
            while self.merger.held(0) > self.share && self.gone.iter().any(|g| !g) {
                self.wait_message();
            }
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
        if self.merger.failed() {
            // Nobody reads the output any more (`| head`): analyse nothing else.
            return;
        }
        if self.replicated {
            // Engine 0 reads like every other engine: all records, its own flows.
            if let Some(shard) = self.shard.as_mut() {
                shard.record(self.seq, rec);
            }
            self.seq += 1;
            self.after_record();
            return;
        }
        let f = match rec {
            capture::source::Record::Frame(f) => f,
            capture::source::Record::Weird { ts, name, addl } => {
                self.weird(ts, name, addl);
                self.seq += 1;
                self.after_record();
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
        let parsed = match clink::decode(f.linktype, f.data) {
            Ok(Network::Ipv4(p)) => Some(cip::parse_ipv4(p)),
            Ok(Network::Ipv6(p)) => Some(cip::parse_ipv6(p)),
            _ => None,
        };
        match parsed {
            Some(Ok(Ip::Whole(t))) => {
                let e = self.engine_of(&t);
                self.push_frame(e, f.ts, f.linktype, f.data);
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
                    let e = self.engine_of(&t);
                    self.push_frame(e, f.ts, SHARD_LINKTYPE_RAW, &packet);
                }
            }
            // Not IP, or not decodable: no flow, and engine 0 counts it and raises the weird.
            _ => self.push_frame(0, f.ts, f.linktype, f.data),
        }
        self.seq += 1;
        self.after_record();
    }

    fn engine_of(&self, t: &capture::ip::Transport<'_>) -> usize {
        bucket_of(t)
            .and_then(|b| self.owners.get(b).copied())
            .unwrap_or(0)
    }

    fn begin_input(&mut self) {
        self.stats.inputs += 1;
        let seq = self.seq;
        self.broadcast(|| ShardItem::BeginInput { seq });
    }

    fn finish_input(&mut self) {
        let seq = self.seq;
        self.broadcast(|| ShardItem::Finish { seq });
        self.seq += 1;
        self.defrag = capture::ip::Defragmenter::new();
        self.after_record();
    }

    /// The input is over: the workers get their last batches and end, engine 0 ends, and the
    /// merge takes everything they still send.
    pub(super) fn finish(mut self) -> MainEnd<'w> {
        self.send_all();
        // Closing the queues ends the workers' loops.
        self.txs.clear();
        let end = match self.shard.take() {
            Some(shard) => shard.finish(),
            None => WorkerEnd::default(),
        };
        self.done = true;
        loop {
            self.emit();
            match self.rx.recv() {
                Ok(m) => {
                    self.take(m);
                    self.take_ready();
                }
                Err(_) => break,
            }
        }
        self.emit();
        self.shared.close();
        MainEnd {
            end,
            read_stats: self.stats,
            merger: self.merger,
            waits: self.waits,
        }
    }
}

/// Reads `inputs` and feeds the engines; the error, if any, is the capture's.
pub(super) fn read_inputs(
    inputs: &[Input],
    opts: &capture::Options,
    d: &mut Dispatcher<'_, '_>,
) -> Result<(), CaptureError> {
    for input in inputs {
        d.begin_input();
        let result =
            capture::source::read_records_counting(input, opts.progress.as_deref(), |rec| {
                d.record(rec)
            });
        if result.is_err() || !opts.continue_across_inputs {
            d.finish_input();
        }
        result?;
    }
    d.finish_input();
    Ok(())
}
