//! The streaming merge of a sharded run: the engines' recorded pieces in, the run's event lines
//! and ssl.log out, in [`OrderKey`] order, while the input is still being read.
//!
//! In: per engine, [`Output`]s with a watermark (the engine writes nothing later that sorts
//! below it). Out: every piece that can no longer be preceded by one still to come, written in
//! (key, engine, production) order, which is the order a merge of everything at the end gives.
//! A piece of engine `e` with key `k` is written once `k` is at most `e`'s watermark and
//! `(k, e)` is below every other engine's `(watermark, engine)`. Under `--seed` the engines'
//! uids are replaced by those one engine seeded alike would have handed out: connections are
//! numbered in global creation order as soon as every earlier creation is known, and forgotten
//! once every engine is past the item that ended them. The writers noted where each uid went
//! (`output::UidMark`), so the merge writes the global uid at those bytes while copying a
//! piece and never looks for uids in the text: payload that looks like a uid stays as it is. For the TSV log, the engines' header and
//! footer lines are dropped and one header (before the first row) and one footer are written.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, Write};

use super::shard::Output;
use super::OrderKey;
use crate::capture::uid::UidGenerator;
use crate::log::{OptionalColumns, TsvLogWriter};
use crate::output::UidMark;
use crate::run::{EventFormat, LogFormat, Outputs};

/// Bytes of rewritten lines collected before they are handed to the writer.
const MERGE_WRITE_CHUNK: usize = 64 << 10;

/// Written messages' buffers kept for reuse by the engines.
const MERGE_SPARE_BUFFERS: usize = 16;

/// One output of the run.
struct Stream<'w> {
    w: &'w mut dyn Write,
    /// The ssl.log in Zeek's TSV format: header and footer are the merge's.
    tsv: bool,
    /// Rows written (TSV).
    rows: u64,
    /// Rewritten lines not yet handed to `w`.
    out: Vec<u8>,
}

/// Numbering of connections in global creation order (under `--seed`).
struct Uids {
    generator: UidGenerator,
    /// Creations not yet numbered, by global creation index: (engine, engine-local uid).
    pending: BTreeMap<u64, (usize, String)>,
    /// Per engine: local uid -> global uid, for the connections still written about.
    map: Vec<HashMap<String, String>>,
    /// Per engine: (index of the item that ended it, local uid), in order.
    ends: Vec<VecDeque<(u64, String)>>,
}

/// A piece of output waiting in the merge.
#[derive(Clone, Copy)]
struct Piece {
    key: OrderKey,
    /// Order among the engine's pieces (both streams), as produced.
    idx: u64,
    /// Serial number of the message holding its bytes.
    msg: u64,
    start: usize,
    end: usize,
    /// Its uids: a range of the message's marks of its stream.
    uids: (usize, usize),
}

/// A message's bytes, kept until all its pieces are written.
struct Held {
    events: Vec<u8>,
    log: Vec<u8>,
    /// Where the uids are in `events` and in `log`.
    uids: [Vec<UidMark>; 2],
    remaining: usize,
    bytes: usize,
}

/// What the merge holds for one engine.
#[derive(Default)]
struct EngineQueue {
    watermark: OrderKey,
    msgs: VecDeque<Held>,
    /// Serial number of `msgs.front()`.
    first_msg: u64,
    /// Pieces of the event stream and of the log stream, as produced.
    pieces: [VecDeque<Piece>; 2],
    next_idx: u64,
    /// Bytes of `msgs`.
    held: usize,
}

/// The streaming merge (see the module documentation).
pub(super) struct Merger<'w> {
    engines: Vec<EngineQueue>,
    /// The event output and the log output.
    streams: [Option<Stream<'w>>; 2],
    log_columns: OptionalColumns,
    uids: Option<Uids>,
    /// Per engine: creation index and first timestamp of its first connection.
    first: Vec<Option<(u64, f64)>>,
    /// Pieces being written: (key, engine, idx, piece).
    ready: Vec<(OrderKey, usize, u64, Piece)>,
    error: Option<io::Error>,
    peak_held: usize,
    /// Buffers of written messages, for reuse (emptied).
    pub(super) spare: Vec<Vec<u8>>,
}

impl<'w> Merger<'w> {
    /// A merge of `engines` engines into `outputs`; `seed` renumbers uids.
    pub(super) fn new(
        engines: usize,
        seed: Option<u64>,
        outputs: Outputs<'w>,
        log_columns: OptionalColumns,
    ) -> Self {
        let Outputs { events, log } = outputs;
        let stream = |w: &'w mut dyn Write, tsv: bool| Stream {
            w,
            tsv,
            rows: 0,
            out: Vec::new(),
        };
        Merger {
            engines: (0..engines).map(|_| EngineQueue::default()).collect(),
            streams: [
                events.map(|(_f, w): (EventFormat, _)| stream(w, false)),
                log.map(|(f, w)| stream(w, f == LogFormat::Tsv)),
            ],
            log_columns,
            uids: seed.map(|s| Uids {
                generator: UidGenerator::from_seed(s),
                pending: BTreeMap::new(),
                map: vec![HashMap::new(); engines],
                ends: vec![VecDeque::new(); engines],
            }),
            first: vec![None; engines],
            ready: Vec::new(),
            error: None,
            peak_held: 0,
            spare: Vec::new(),
        }
    }

    /// Writing failed: the rest of the run need not be analysed.
    pub(super) fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Output bytes of engine `e` held.
    pub(super) fn held(&self, e: usize) -> usize {
        self.engines.get(e).map_or(0, |q| q.held)
    }

    /// Most output bytes held at once (engine 0's here plus what workers reported sent).
    pub(super) fn peak_held(&self) -> usize {
        self.peak_held
    }

    /// The smallest (watermark, engine): the engine that holds the merge back.
    pub(super) fn min(&self) -> (OrderKey, usize) {
        self.engines
            .iter()
            .enumerate()
            .map(|(e, q)| (q.watermark, e))
            .min()
            .unwrap_or((OrderKey::MAX, 0))
    }

    /// Engine `e` will write nothing below `watermark`.
    pub(super) fn set_watermark(&mut self, e: usize, watermark: OrderKey) {
        if let Some(q) = self.engines.get_mut(e) {
            q.watermark = q.watermark.max(watermark);
        }
    }

    /// Files engine `e`'s output and its new watermark.
    pub(super) fn add(&mut self, e: usize, watermark: OrderKey, out: Output) {
        self.set_watermark(e, watermark);
        let Output {
            events,
            log,
            creations,
            ends,
            first,
        } = out;
        if let (Some(f), Some(slot)) = (first, self.first.get_mut(e)) {
            slot.get_or_insert(f);
        }
        if let Some(u) = self.uids.as_mut() {
            for (seq, uid) in creations {
                u.pending.insert(seq, (e, uid));
            }
            if let Some(q) = u.ends.get_mut(e) {
                q.extend(ends);
            }
        }
        let Some(q) = self.engines.get_mut(e) else {
            return;
        };
        let count = events.chunks.len() + log.chunks.len();
        if count == 0 {
            return;
        }
        let serial = q.first_msg + q.msgs.len() as u64;
        for (s, rec) in [&events, &log].into_iter().enumerate() {
            let Some(pieces) = q.pieces.get_mut(s) else {
                continue;
            };
            for &(key, start, end) in &rec.chunks {
                let uids = (
                    rec.uids.partition_point(|&(at, _)| at < start),
                    rec.uids.partition_point(|&(at, _)| at < end),
                );
                pieces.push_back(Piece {
                    key,
                    idx: q.next_idx,
                    msg: serial,
                    start,
                    end,
                    uids,
                });
                q.next_idx += 1;
            }
        }
        let bytes = events.bytes.len() + log.bytes.len();
        q.held += bytes;
        q.msgs.push_back(Held {
            events: events.bytes,
            log: log.bytes,
            uids: [events.uids, log.uids],
            remaining: count,
            bytes,
        });
    }

    /// Writes every piece that nothing still to come can precede; adds the bytes this frees per
    /// engine to `freed`. `worker_held` is what the workers have sent and not seen freed (for
    /// the peak).
    pub(super) fn emit(&mut self, worker_held: usize, freed: &mut [usize]) {
        self.peak_held = self
            .peak_held
            .max(worker_held + self.engines.first().map_or(0, |q| q.held));
        // The two smallest (watermark, engine): a piece of engine e is bounded by the smallest
        // of the others.
        let mut min1 = (OrderKey::MAX, usize::MAX);
        let mut min2 = (OrderKey::MAX, usize::MAX);
        for (e, q) in self.engines.iter().enumerate() {
            let k = (q.watermark, e);
            if k < min1 {
                min2 = min1;
                min1 = k;
            } else if k < min2 {
                min2 = k;
            }
        }
        // Every creation before the smallest watermark is known: number them.
        self.number_up_to(min1.0.seq.saturating_sub(1));
        for s in 0..2 {
            if self.streams.get(s).is_some_and(|x| x.is_some()) {
                self.emit_stream(s, min1, min2);
            }
        }
        for (e, q) in self.engines.iter_mut().enumerate() {
            while q.msgs.front().is_some_and(|m| m.remaining == 0) {
                if let Some(m) = q.msgs.pop_front() {
                    q.held = q.held.saturating_sub(m.bytes);
                    if let Some(f) = freed.get_mut(e) {
                        *f += m.bytes;
                    }
                    for mut b in [m.events, m.log] {
                        if b.capacity() > 0 && self.spare.len() < MERGE_SPARE_BUFFERS {
                            b.clear();
                            self.spare.push(b);
                        }
                    }
                }
                q.first_msg += 1;
            }
        }
        // Uids of connections every engine is past the end of are not written any more.
        let past = min1.0.seq;
        if let Some(u) = self.uids.as_mut() {
            for (ends, map) in u.ends.iter_mut().zip(u.map.iter_mut()) {
                while ends.front().is_some_and(|(seq, _)| *seq < past) {
                    if let Some((_, uid)) = ends.pop_front() {
                        map.remove(&uid);
                    }
                }
            }
        }
        for stream in self.streams.iter_mut().flatten() {
            if self.error.is_none() && !stream.out.is_empty() {
                if let Err(e) = stream.w.write_all(&stream.out) {
                    self.error = Some(e);
                }
            }
            stream.out.clear();
        }
    }

    fn emit_stream(&mut self, s: usize, min1: (OrderKey, usize), min2: (OrderKey, usize)) {
        self.ready.clear();
        for (e, q) in self.engines.iter_mut().enumerate() {
            let other = if (q.watermark, e) == min1 { min2 } else { min1 };
            let limit = other.0.seq.min(q.watermark.seq);
            let Some(pieces) = q.pieces.get_mut(s) else {
                continue;
            };
            let mut i = 0;
            while let Some(p) = pieces.get(i).copied() {
                if p.key.seq > limit {
                    break;
                }
                if p.key <= q.watermark && (p.key, e) < other {
                    // Almost always the front; an engine's keys only go back within one index
                    // (a fragment weird before that index's tick).
                    pieces.remove(i);
                    self.ready.push((p.key, e, p.idx, p));
                } else {
                    i += 1;
                }
            }
        }
        if self.ready.is_empty() {
            return;
        }
        self.ready
            .sort_unstable_by_key(|&(k, e, idx, _)| (k, e, idx));
        // Every creation up to the last index written is known by now (module docs).
        self.number_up_to(self.ready.last().map_or(0, |r| r.0.seq));
        let open_ts = self.open_ts();
        let Some(stream) = self.streams.get_mut(s).and_then(|x| x.as_mut()) else {
            return;
        };
        for &(_, e, _, p) in &self.ready {
            let Some(q) = self.engines.get_mut(e) else {
                continue;
            };
            let Some(held) = p
                .msg
                .checked_sub(q.first_msg)
                .and_then(|i| q.msgs.get_mut(i as usize))
            else {
                continue;
            };
            held.remaining = held.remaining.saturating_sub(1);
            if self.error.is_some() {
                continue;
            }
            let buf = if s == 0 { &held.events } else { &held.log };
            let bytes = buf.get(p.start..p.end).unwrap_or_default();
            let marks = held
                .uids
                .get(s)
                .and_then(|m| m.get(p.uids.0..p.uids.1))
                .unwrap_or_default();
            let uids = self
                .uids
                .as_ref()
                .and_then(|u| u.map.get(e))
                .filter(|m| !m.is_empty() && !marks.is_empty())
                .map(|m| (m, marks, p.start));
            let r = write_piece(stream, bytes, uids, open_ts, self.log_columns);
            if let Err(err) = r {
                self.error = Some(err);
            }
        }
    }

    /// Numbers the pending creations up to index `last`, in creation order.
    fn number_up_to(&mut self, last: u64) {
        let Some(u) = self.uids.as_mut() else {
            return;
        };
        while let Some(entry) = u.pending.first_entry() {
            if *entry.key() > last {
                break;
            }
            let (e, local) = entry.remove();
            let global = u.generator.next_uid('C');
            if let Some(m) = u.map.get_mut(e) {
                m.insert(local, global);
            }
        }
    }

    /// The TSV `#open` time: the first timestamp of the engine that created the run's first
    /// connection (the single-threaded pipeline's first timestamp is that of its first
    /// callback, always a new connection).
    fn open_ts(&self) -> f64 {
        self.first
            .iter()
            .flatten()
            .min_by_key(|(seq, _)| *seq)
            .map_or(0.0, |&(_, ts)| ts)
    }

    /// Writes the TSV footer (`close_ts`) if a row was written, and flushes; the first error
    /// of the run (`earlier` from the pipeline, or the merge's own) is returned.
    pub(super) fn finish(&mut self, close_ts: f64) -> io::Result<()> {
        for stream in self.streams.iter_mut().flatten() {
            if self.error.is_some() {
                break;
            }
            if stream.tsv && stream.rows > 0 {
                let mut footer = TsvLogWriter::new();
                footer.footer(close_ts);
                let r = footer
                    .flush_to(&mut stream.out)
                    .and_then(|()| stream.w.write_all(&stream.out));
                stream.out.clear();
                if let Err(e) = r {
                    self.error = Some(e);
                }
            }
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The engine-local uids of a piece and their global ones: (local -> global, where the uids
/// are, offset of the piece's first byte in the positions).
type PieceUids<'a> = (&'a HashMap<String, String>, &'a [UidMark], usize);

/// Writes one piece: as it is, or line by line when uids are replaced or the TSV log's header
/// and footer lines are. Uids are replaced where the writers noted them: the text between
/// them is copied as it is, whatever it looks like.
fn write_piece(
    stream: &mut Stream<'_>,
    bytes: &[u8],
    uids: Option<PieceUids<'_>>,
    open_ts: f64,
    columns: OptionalColumns,
) -> io::Result<()> {
    if !stream.tsv && uids.is_none() {
        // Nothing to change line by line: the piece goes out as it is.
        if !stream.out.is_empty() {
            stream.w.write_all(&stream.out)?;
            stream.out.clear();
        }
        return stream.w.write_all(bytes);
    }
    let (map, marks, base) = match uids {
        Some((map, marks, base)) => (Some(map), marks, base),
        None => (None, &[][..], 0),
    };
    let mut marks = marks
        .iter()
        .map(|&(at, len)| (at.saturating_sub(base), len));
    let mut next = marks.next();
    let mut line_start = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let line_end = line_start + line.len();
        let start = line_start;
        line_start = line_end;
        if stream.tsv {
            if line.first() == Some(&b'#') {
                while next.is_some_and(|(at, _)| at < line_end) {
                    next = marks.next();
                }
                continue;
            }
            if stream.rows == 0 {
                let mut header = TsvLogWriter::with_columns(columns);
                header.header(open_ts);
                header.flush_to(&mut stream.out)?;
            }
            stream.rows += 1;
        }
        let mut copied = start;
        while let Some((at, len)) = next.filter(|&(at, _)| at < line_end) {
            next = marks.next();
            let global = bytes
                .get(at..at + len)
                .and_then(|t| std::str::from_utf8(t).ok())
                .and_then(|t| map.and_then(|m| m.get(t)));
            if let (Some(g), true) = (global, at >= copied) {
                stream
                    .out
                    .extend_from_slice(bytes.get(copied..at).unwrap_or_default());
                stream.out.extend_from_slice(g.as_bytes());
                copied = at + len;
            }
        }
        stream
            .out
            .extend_from_slice(bytes.get(copied..line_end).unwrap_or_default());
    }
    if stream.out.len() >= MERGE_WRITE_CHUNK {
        stream.w.write_all(&stream.out)?;
        stream.out.clear();
    }
    Ok(())
}
