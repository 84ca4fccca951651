//! One engine of a sharded run: a capture `Engine` and a [`Pipeline`] whose writers record
//! every piece of output under its [`OrderKey`], inline on the calling thread, on a worker
//! thread fed routed batches ([`worker`]), or on a worker thread that reads the inputs itself
//! ([`reader`]).
//!
//! In: [`ShardItem`]s (frames, ticks, weirds, input boundaries) or, for a reading worker, the
//! records of the inputs. Out: [`Output`]s, the recorded pieces with where the writers put
//! each uid in them (under `--seed`) and the uids created and ended meanwhile; a worker sends them to the merge as [`Msg`]s, each with a watermark (no later
//! piece of this engine sorts below it), and waits while the merge holds more than its share of
//! this engine's output and a slower engine holds the merge back ([`Shared`]). A worker's
//! messages stay small: a write that would take them past the message size is cut at a line
//! boundary and the rest goes into the next message under the same key. Only a single line
//! longer than the message size can exceed it (the ends of one timer pass are keyed in the
//! order the timers fire, by `capture::Engine::advance`, so a message can be cut between
//! them).

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::route::{ShardBatch, ShardItem, SHARD_LINKTYPE_ETHERNET, SHARD_TICK_FRAME};
use super::{OrderKey, SHARD_WATERMARK_FRAMES};
use crate::capture::{self, CaptureError, ConnInfo, EndReason, FlowHandler, Input, Verdict};
use crate::output::UidMark;
use crate::run::{EventFormat, LogFormat, Outputs, Pipeline, RunOptions, Summary};

/// Spare output buffers kept per engine for reuse.
const SHARD_SPARE_BUFFERS: usize = 4;
/// Room in a message buffer above the message size, for the line that crosses it.
const SHARD_SPARE_SLACK: usize = 16 << 10;

/// One output stream's recorded bytes and the ordered pieces they consist of.
#[derive(Default)]
pub(super) struct Recorded {
    pub(super) bytes: Vec<u8>,
    /// (key, start, end) into `bytes`, in the order written.
    pub(super) chunks: Vec<(OrderKey, usize, usize)>,
    /// Where the engine-local uids are in `bytes`, in order (only when renumbering): the
    /// writers noted them, so the merge replaces them without looking for them.
    pub(super) uids: Vec<UidMark>,
}

impl Recorded {
    /// Appends `buf`, whose uids are `marks` (relative to `buf`).
    fn push(&mut self, key: OrderKey, buf: &[u8], marks: impl Iterator<Item = UidMark>) {
        let start = self.bytes.len();
        self.uids.extend(marks.map(|(at, len)| (start + at, len)));
        self.bytes.extend_from_slice(buf);
        let end = self.bytes.len();
        match self.chunks.last_mut() {
            Some((k, _, e)) if *k == key && *e == start => *e = end,
            _ => self.chunks.push((key, start, end)),
        }
    }
}

/// What an engine produced since it last handed its output over.
#[derive(Default)]
pub(super) struct Output {
    pub(super) events: Recorded,
    pub(super) log: Recorded,
    /// (global creation index, engine-local uid), in creation order (only when renumbering).
    pub(super) creations: Vec<(u64, String)>,
    /// (global index of the item that ended it, engine-local uid) (only when renumbering).
    pub(super) ends: Vec<(u64, String)>,
    /// The engine's first connection: its creation index and the pipeline's first timestamp
    /// (what the single-threaded ssl.log's `#open` shows if it is the run's first connection).
    pub(super) first: Option<(u64, f64)>,
}

impl Output {
    /// Output bytes held (what the merge bound counts).
    pub(super) fn bytes(&self) -> usize {
        self.events.bytes.len() + self.log.bytes.len()
    }
}

/// What a worker sends to the merge.
pub(super) enum Msg {
    /// Output, and the promise that nothing this engine writes later sorts below `watermark`.
    Output {
        engine: usize,
        watermark: OrderKey,
        /// Boxed: messages pass through a queue, and most carry little.
        out: Box<Output>,
        /// The batch just processed, emptied, for reuse.
        batch: Option<ShardBatch>,
    },
    /// The worker panicked; joining it reports why.
    Gone { engine: usize },
}

/// State shared by the merge and the workers, for the workers' waits.
pub(super) struct Shared {
    state: Mutex<SharedState>,
    changed: Condvar,
}

struct SharedState {
    /// Output bytes each engine has sent and the merge not yet written.
    held: Vec<usize>,
    /// Output buffers the merge is done with, for the workers' next messages: a fresh buffer
    /// of a message's size would cost a page fault per 4 KiB it fills.
    spare: Vec<Vec<u8>>,
    /// The smallest (watermark, engine) the merge knows of: that engine is the one holding the
    /// merge back and never waits.
    min: (OrderKey, usize),
    /// No more waiting (the merge is gone or done).
    closed: bool,
    waits: u64,
}

impl Shared {
    pub(super) fn new(engines: usize) -> Self {
        Shared {
            state: Mutex::new(SharedState {
                held: vec![0; engines],
                spare: Vec::new(),
                min: (OrderKey::default(), 0),
                closed: false,
                waits: 0,
            }),
            changed: Condvar::new(),
        }
    }

    /// A panicking thread cannot leave the counters inconsistent in a way that matters (they
    /// only delay), so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, SharedState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes the merge holds for the workers (sent and not yet written).
    pub(super) fn held_total(&self) -> usize {
        self.lock().held.iter().sum()
    }

    /// The merge wrote (or dropped) `freed[e]` bytes of engine `e` and now knows `min` as the
    /// smallest (watermark, engine): wakes the workers to re-check their waits.
    pub(super) fn publish(
        &self,
        freed: &mut [usize],
        min: (OrderKey, usize),
        spare: &mut Vec<Vec<u8>>,
    ) {
        let mut s = self.lock();
        let room = (SHARD_SPARE_BUFFERS * s.held.len()).saturating_sub(s.spare.len());
        let n = spare.len().min(room);
        s.spare.extend(spare.drain(..n));
        for (h, f) in s.held.iter_mut().zip(freed.iter_mut()) {
            *h = h.saturating_sub(*f);
            *f = 0;
        }
        s.min = min;
        drop(s);
        self.changed.notify_all();
    }

    /// Stops all waiting, for good.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// Times engines waited.
    pub(super) fn waits(&self) -> u64 {
        self.lock().waits
    }

    /// A buffer for the next message, empty, with at least `capacity` bytes.
    fn buffer(&self, capacity: usize) -> Vec<u8> {
        match self.lock().spare.pop() {
            Some(b) if b.capacity() >= capacity => b,
            _ => Vec::with_capacity(capacity),
        }
    }

    fn sent(&self, engine: usize, bytes: usize) {
        if let Some(h) = self.lock().held.get_mut(engine) {
            *h += bytes;
        }
    }

    /// Waits while `engine` holds more than `share` bytes in the merge and another engine is
    /// behind its `watermark` (then the merge cannot write them yet, and will once that engine
    /// moves on). The engine holding the merge back never waits, so neither can all.
    fn wait_turn(&self, engine: usize, watermark: OrderKey, share: usize) {
        let mut s = self.lock();
        let mut counted = false;
        while !s.closed
            && s.held.get(engine).copied().unwrap_or(0) > share
            && (watermark, engine) > s.min
        {
            if !counted {
                s.waits += 1;
                counted = true;
            }
            s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Where a worker's messages go.
struct Sink {
    engine: usize,
    tx: SyncSender<Msg>,
    shared: Arc<Shared>,
    share: usize,
}

/// An engine's recorded output and where it stands.
pub(super) struct Outbox {
    /// The key of what is being written now.
    key: OrderKey,
    /// A valid watermark in the middle of the current item (see [`Outbox::send`]).
    mid: OrderKey,
    pub(super) out: Output,
    /// None inline: the reading thread takes the output itself.
    sink: Option<Sink>,
    message_bytes: usize,
    /// Per stream (events, log): where the uids are in the bytes being written, relative to
    /// the start of the writer's flush, and how many bytes of that flush were recorded.
    marks: [(Vec<UidMark>, usize); 2],
}

impl Outbox {
    pub(super) fn inline() -> Self {
        Outbox {
            key: OrderKey::default(),
            mid: OrderKey::default(),
            out: Output::default(),
            sink: None,
            message_bytes: usize::MAX,
            marks: Default::default(),
        }
    }

    /// A worker's outbox, sending to `sink`.
    fn worker(sink: Sink, message_bytes: usize) -> Self {
        Outbox {
            sink: Some(sink),
            message_bytes,
            ..Outbox::inline()
        }
    }

    /// A writer is about to write bytes whose uids are at `marks` (see [`UidMark`]).
    fn set_marks(&mut self, log: bool, marks: &[UidMark]) {
        if let Some((m, done)) = self.marks.get_mut(usize::from(log)) {
            m.clear();
            m.extend_from_slice(marks);
            *done = 0;
        }
    }

    /// Sends what was recorded, with `watermark`, then waits for its turn if the merge holds
    /// too much of this engine's output. Nothing is sent inline.
    fn send(&mut self, watermark: OrderKey, batch: Option<ShardBatch>) {
        let Some(sink) = &self.sink else {
            return;
        };
        let out = Box::new(std::mem::take(&mut self.out));
        sink.shared.sent(sink.engine, out.bytes());
        let msg = Msg::Output {
            engine: sink.engine,
            watermark,
            out,
            batch,
        };
        // The merge is gone only when the reading thread panicked; that panic is reported.
        if sink.tx.send(msg).is_ok() {
            sink.shared.wait_turn(sink.engine, watermark, sink.share);
        }
    }

    /// Records `buf` for one stream; a worker sends a message whenever it reaches the message
    /// size, cutting `buf` after a line so that the merge sees whole lines.
    fn record(&mut self, log: bool, mut buf: &[u8]) {
        if let Some(sink) = &self.sink {
            let rec = if log {
                &mut self.out.log
            } else {
                &mut self.out.events
            };
            if rec.bytes.capacity() == 0 {
                // Room for a message and the line that crosses its size.
                rec.bytes = sink.shared.buffer(self.message_bytes + SHARD_SPARE_SLACK);
            }
        }
        while !buf.is_empty() {
            let room = self.message_bytes.saturating_sub(self.out.bytes());
            let cut = if buf.len() <= room || self.sink.is_none() {
                buf.len()
            } else {
                let head = buf.get(..room).unwrap_or_default();
                match head.iter().rposition(|&b| b == b'\n') {
                    Some(p) => p + 1,
                    // A line longer than the room left: the whole line, then send.
                    None => buf
                        .get(room..)
                        .and_then(|r| r.iter().position(|&b| b == b'\n'))
                        .map_or(buf.len(), |p| room + p + 1),
                }
            };
            let (now, rest) = buf.split_at(cut.min(buf.len()));
            let key = self.key;
            let (marks, done) = if log {
                &mut self.marks[1]
            } else {
                &mut self.marks[0]
            };
            let from = *done;
            let to = from + now.len();
            *done = to;
            let marks = marks
                .iter()
                .filter(|&&(at, _)| at >= from && at < to)
                .map(|&(at, len)| (at - from, len));
            if log {
                self.out.log.push(key, now, marks);
            } else {
                self.out.events.push(key, now, marks);
            }
            buf = rest;
            if self.sink.is_some() && self.out.bytes() >= self.message_bytes {
                self.send(self.mid, None);
            }
        }
    }
}

/// A `Write` that records into an [`Outbox`] under its current key.
pub(super) struct Recorder {
    outbox: Rc<RefCell<Outbox>>,
    log: bool,
}

impl Recorder {
    pub(super) fn new(outbox: &Rc<RefCell<Outbox>>, log: bool) -> Self {
        Recorder {
            outbox: Rc::clone(outbox),
            log,
        }
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbox.borrow_mut().record(self.log, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Wraps an engine's pipeline: notes when each connection was created (for uids and for the
/// order of ends) and tags ends with it.
struct ShardHandler<'w> {
    pipeline: Pipeline<'w>,
    outbox: Rc<RefCell<Outbox>>,
    /// Global creation index of each open connection, by [`ConnInfo::slot`].
    created: Vec<u64>,
    renumber: bool,
    first_seen: bool,
}

impl FlowHandler for ShardHandler<'_> {
    fn new_connection(&mut self, c: &ConnInfo) -> Verdict {
        let seq = self.outbox.borrow().key.seq;
        let i = c.slot as usize;
        if i >= self.created.len() {
            self.created.resize(i + 1, 0);
        }
        if let Some(x) = self.created.get_mut(i) {
            *x = seq;
        }
        if self.renumber {
            self.outbox
                .borrow_mut()
                .out
                .creations
                .push((seq, c.uid.clone()));
        }
        let verdict = self.pipeline.new_connection(c);
        if !self.first_seen {
            self.first_seen = true;
            let ts = self.pipeline.first_ts.unwrap_or(c.start_ts);
            self.outbox.borrow_mut().out.first = Some((seq, ts));
        }
        verdict
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
        let seq = {
            let mut o = self.outbox.borrow_mut();
            if o.key.phase == 0 {
                o.key.sub = created;
                // Timers end connections by (time set for, age) and the end of input by age
                // (`ShardHandler::timer_fires` sets the time), so no later end of this item
                // sorts below this one.
                o.mid = o.key;
            }
            o.key.seq
        };
        self.pipeline.connection_end(c, ts, reason);
        if self.renumber {
            self.outbox.borrow_mut().out.ends.push((seq, c.uid.clone()));
        }
    }
    fn weird(&mut self, c: Option<&ConnInfo>, ts: f64, name: &'static str, addl: &str) {
        self.pipeline.weird(c, ts, name, addl);
    }
}

impl ShardHandler<'_> {
    /// A timer set for `at` is about to end a connection (see `Engine::advance`).
    fn timer_fires(&mut self, at: f64) {
        let mut o = self.outbox.borrow_mut();
        if o.key.phase == 0 {
            o.key.at = super::ordered_bits(at);
        }
    }
}

/// What an engine hands back at the end.
#[derive(Default)]
pub(super) struct WorkerEnd {
    pub(super) summary: Summary,
    pub(super) last_ts: f64,
    /// Ticks it processed (counted as non-IP frames by its engine).
    pub(super) ticks: u64,
}

/// One engine: the capture engine and the recording pipeline.
pub(super) struct Shard<'w> {
    engine: capture::Engine,
    handler: ShardHandler<'w>,
    ticks: u64,
}

impl<'w> Shard<'w> {
    pub(super) fn new(
        opts: &RunOptions,
        outputs: Outputs<'w>,
        outbox: &Rc<RefCell<Outbox>>,
        renumber: bool,
    ) -> Self {
        let mut pipeline = Pipeline::new(opts, outputs);
        if renumber {
            let sink = |log: bool| {
                let outbox = Rc::clone(outbox);
                Box::new(move |marks: &[UidMark]| outbox.borrow_mut().set_marks(log, marks))
            };
            pipeline.set_uid_sinks(sink(false), sink(true));
        }
        Shard {
            engine: capture::Engine::new(opts.capture.clone()),
            handler: ShardHandler {
                pipeline,
                outbox: Rc::clone(outbox),
                created: Vec::new(),
                renumber,
                first_seen: false,
            },
            ticks: 0,
        }
    }

    /// Sets the key of what follows and the watermark valid in the middle of it.
    fn position(&mut self, key: OrderKey, mid: OrderKey) {
        let mut o = self.handler.outbox.borrow_mut();
        o.key = key;
        o.mid = mid;
    }

    /// Runs the timers due by `ts`, as item `seq` (phase 0, each end keyed by its timer).
    fn advance(&mut self, seq: u64, ts: f64) {
        self.position(OrderKey::at(seq), OrderKey::at(seq));
        self.engine
            .advance(ts, &mut self.handler, &mut ShardHandler::timer_fires);
    }

    /// A frame, `seq`-th of the run: its timers first, then the frame itself.
    pub(super) fn frame(&mut self, seq: u64, frame: capture::source::Frame<'_>) {
        self.advance(seq, frame.ts);
        // Everything the frame itself writes has this one key, and the frame is the last item
        // of its index, so the key itself is a valid watermark meanwhile.
        let key = OrderKey {
            seq,
            phase: 1,
            at: 0,
            sub: 0,
        };
        self.position(key, key);
        self.engine.packet(frame, &mut self.handler);
    }

    /// A record read by this engine's own reader, `seq`-th of the run.
    pub(super) fn record(&mut self, seq: u64, rec: capture::source::Record<'_>) {
        match rec {
            capture::source::Record::Frame(f) => self.frame(seq, f),
            capture::source::Record::Weird { ts, name, addl } => self.item(
                ShardItem::Weird {
                    seq,
                    ts,
                    name,
                    addl,
                },
                &[],
            ),
        }
    }

    /// Any item; frames find their bytes in `bytes`.
    pub(super) fn item(&mut self, item: ShardItem, bytes: &[u8]) {
        match item {
            ShardItem::Frame {
                seq,
                ts,
                linktype,
                start,
                end,
            } => {
                let data = bytes.get(start..end).unwrap_or_default();
                self.frame(seq, capture::source::Frame { ts, linktype, data });
            }
            ShardItem::Tick { seq, ts } => {
                self.advance(seq, ts);
                self.ticks += 1;
                let frame = capture::source::Frame {
                    ts,
                    linktype: SHARD_LINKTYPE_ETHERNET,
                    data: &SHARD_TICK_FRAME,
                };
                self.engine.packet(frame, &mut self.handler);
            }
            ShardItem::Weird {
                seq,
                ts,
                name,
                addl,
            } => {
                // A weird of index `seq` may come before that index's tick: only the start of
                // the index is a valid watermark.
                let key = OrderKey {
                    seq,
                    phase: 1,
                    at: 0,
                    sub: 0,
                };
                self.position(key, OrderKey::at(seq));
                let rec = capture::source::Record::Weird { ts, name, addl };
                self.engine.record(rec, &mut self.handler);
            }
            ShardItem::BeginInput { .. } => self.engine.begin_input(),
            ShardItem::Finish { seq } => {
                self.position(OrderKey::at(seq), OrderKey::at(seq));
                self.engine.finish(&mut self.handler);
            }
        }
    }

    /// Ends the pipeline (its TSV footer, which the merge replaces, sorts last).
    pub(super) fn finish(mut self) -> WorkerEnd {
        self.position(OrderKey::MAX, OrderKey::MAX);
        let pipeline = &mut self.handler.pipeline;
        let close_ts = pipeline.last_ts;
        // The recorders cannot fail, and header and footer are rewritten by the merge.
        let _ = pipeline.finish(close_ts);
        let mut summary = std::mem::take(&mut pipeline.summary);
        summary.capture = self.engine.stats().clone();
        WorkerEnd {
            summary,
            last_ts: pipeline.last_ts,
            ticks: self.ticks,
        }
    }
}

/// Tells the merge that a worker is gone when it unwinds, so that the merge does not wait for
/// its watermark.
struct GoneGuard {
    engine: usize,
    tx: SyncSender<Msg>,
}

impl Drop for GoneGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.tx.try_send(Msg::Gone {
                engine: self.engine,
            });
        }
    }
}

/// What a worker thread needs.
pub(super) struct WorkerSetup {
    pub(super) engine: usize,
    /// Batches from the routing reader; `None` for a worker that reads the input itself.
    pub(super) rx: Option<Receiver<ShardBatch>>,
    pub(super) tx: SyncSender<Msg>,
    pub(super) shared: Arc<Shared>,
    pub(super) opts: RunOptions,
    pub(super) formats: (Option<EventFormat>, Option<LogFormat>),
    pub(super) renumber: bool,
    pub(super) message_bytes: usize,
    pub(super) share: usize,
}

/// A worker thread: runs the batches it is sent through its engine and sends its output to the
/// merge after each batch (and whenever it reaches the message size).
pub(super) fn worker(setup: WorkerSetup) -> WorkerEnd {
    let _guard = GoneGuard {
        engine: setup.engine,
        tx: setup.tx.clone(),
    };
    let sink = Sink {
        engine: setup.engine,
        tx: setup.tx,
        shared: setup.shared,
        share: setup.share,
    };
    let outbox = Rc::new(RefCell::new(Outbox::worker(sink, setup.message_bytes)));
    let mut events = Recorder::new(&outbox, false);
    let mut log = Recorder::new(&outbox, true);
    let outputs = Outputs {
        events: setup.formats.0.map(|f| (f, &mut events as &mut dyn Write)),
        log: setup.formats.1.map(|f| (f, &mut log as &mut dyn Write)),
    };
    let mut shard = Shard::new(&setup.opts, outputs, &outbox, setup.renumber);
    for mut batch in setup.rx.into_iter().flatten() {
        let ShardBatch {
            items,
            bytes,
            watermark,
        } = &mut batch;
        for item in items.drain(..) {
            let full = outbox.borrow().out.bytes() >= setup.message_bytes;
            if full {
                outbox.borrow_mut().send(OrderKey::at(item.seq()), None);
            }
            shard.item(item, bytes);
        }
        bytes.clear();
        let watermark = OrderKey::at(*watermark);
        outbox.borrow_mut().send(watermark, Some(batch));
    }
    let end = shard.finish();
    outbox.borrow_mut().send(OrderKey::MAX, None);
    end
}

/// What a reading worker thread needs (every engine reads the input itself).
pub(super) struct ReaderSetup<'i> {
    pub(super) worker: WorkerSetup,
    /// The run's inputs, read by this thread on its own.
    pub(super) inputs: &'i [Input],
}

/// A worker thread that reads the inputs itself: every record goes through its engine, which
/// analyses only its own flows (`capture::Options::shard`). The records are numbered as the
/// reading thread numbers them (`route::read_inputs`: one index per record and per end of an
/// input), so that keys and watermarks agree. Output goes to the merge whenever it reaches the
/// message size and, with the watermark, every [`SHARD_WATERMARK_FRAMES`] records.
pub(super) fn reader(setup: ReaderSetup<'_>) -> (WorkerEnd, Result<(), CaptureError>) {
    let ReaderSetup { worker: w, inputs } = setup;
    let _guard = GoneGuard {
        engine: w.engine,
        tx: w.tx.clone(),
    };
    let across = w.opts.capture.continue_across_inputs;
    let sink = Sink {
        engine: w.engine,
        tx: w.tx,
        shared: w.shared,
        share: w.share,
    };
    let outbox = Rc::new(RefCell::new(Outbox::worker(sink, w.message_bytes)));
    let mut events = Recorder::new(&outbox, false);
    let mut log = Recorder::new(&outbox, true);
    let outputs = Outputs {
        events: w.formats.0.map(|f| (f, &mut events as &mut dyn Write)),
        log: w.formats.1.map(|f| (f, &mut log as &mut dyn Write)),
    };
    let mut shard = Shard::new(&w.opts, outputs, &outbox, w.renumber);
    let mut seq: u64 = 0;
    let mut since_watermark: u64 = 0;
    let mut result = Ok(());
    for input in inputs {
        shard.engine.begin_input();
        let read = capture::source::read_records(input, |rec| {
            if outbox.borrow().out.bytes() >= w.message_bytes {
                outbox.borrow_mut().send(OrderKey::at(seq), None);
            }
            shard.record(seq, rec);
            seq += 1;
            since_watermark += 1;
            if since_watermark >= SHARD_WATERMARK_FRAMES {
                since_watermark = 0;
                outbox.borrow_mut().send(OrderKey::at(seq), None);
            }
        });
        if read.is_err() || !across {
            shard.item(ShardItem::Finish { seq }, &[]);
            seq += 1;
        }
        if let Err(e) = read {
            result = Err(e);
            break;
        }
    }
    if result.is_ok() {
        shard.item(ShardItem::Finish { seq }, &[]);
    }
    let end = shard.finish();
    outbox.borrow_mut().send(OrderKey::MAX, None);
    (end, result)
}
