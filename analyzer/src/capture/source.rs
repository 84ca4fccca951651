//! Capture files in, timestamped link-layer frames out.
//!
//! In: an [`Input`] (a path, `-` for stdin, or bytes in memory) holding pcap (either byte order,
//! micro- or nanosecond timestamps, the "modified" Kuznetzov variant) or pcapng (any number of
//! sections and interfaces, per-interface link type, timestamp resolution and offset), optionally
//! gzip-compressed (detected by the magic `1f 8b`, not by the file name).
//! Out: a callback per [`Record`] — a frame with its link type and `f64` timestamp, or a
//! file-level weird — in file order, then `Ok` at the end of the input or the [`CaptureError`]
//! that stopped reading. Every record before a failure has been handed out before the error.
//!
//! Memory is bounded: `pcap-parser` works over one circular buffer of [`READ_BUFFER_SIZE`] bytes,
//! grown only when a single record needs it and never beyond [`MAX_PACKET_SIZE`]; a header
//! claiming a 4 GiB snap length allocates nothing.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

use super::error::CaptureError;

/// Initial size of the reader's circular buffer. Large enough that the common case (records up
/// to 64 KiB) never grows it and reads come in big chunks.
pub const READ_BUFFER_SIZE: usize = 256 * 1024;

/// Largest record (pcap record or pcapng block, headers included) the reader accepts. Bigger
/// records end the input with [`CaptureError::PacketTooLarge`]; libpcap's own ceiling is 256 KiB,
/// so this leaves room for TSO/GRO super-packets and pcapng options.
pub const MAX_PACKET_SIZE: usize = 1024 * 1024;

/// Room above [`MAX_PACKET_SIZE`] in the grown buffer for record headers and pcapng options.
const RECORD_SLACK: usize = 64 * 1024;

/// Most pcapng interfaces remembered per section; more are ignored (their packets raise
/// [`super::weird::PCAPNG_UNKNOWN_INTERFACE`]) so that a hostile file cannot grow the table.
pub const MAX_PCAPNG_INTERFACES: usize = 4096;

/// One capture to read.
#[derive(Debug, Clone)]
pub enum Input {
    /// A file on disk.
    Path(PathBuf),
    /// Standard input (`-` on the command line).
    Stdin,
    /// A capture already in memory (tests, a bundled sample); the string names it in errors.
    Memory(String, Vec<u8>),
}

impl Input {
    /// Interprets a command-line argument: `-` is stdin, anything else a path.
    pub fn from_arg(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }

    /// The name used in errors and logs.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
            Input::Memory(name, _) => name.clone(),
        }
    }
}

/// A frame as stored in the capture.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Capture timestamp, seconds since the epoch.
    pub ts: f64,
    /// The link type (LINKTYPE_* value, lower 16 bits only: the upper bits carry FCS flags).
    pub linktype: u32,
    /// The captured bytes (possibly fewer than were on the wire).
    pub data: &'a [u8],
}

/// What the reader hands to its consumer.
#[derive(Debug)]
pub enum Record<'a> {
    /// A captured frame.
    Frame(Frame<'a>),
    /// Something odd at file level that does not stop reading.
    Weird {
        /// Timestamp of the last frame (0 before the first).
        ts: f64,
        /// The weird's name (see [`super::weird`]).
        name: &'static str,
        /// Details.
        addl: String,
    },
}

/// Gzip's two magic bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The pcapng section header block type, identical in both byte orders.
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// pcap magics as they appear on disk: micro/nano in both byte orders, and the modified format.
const PCAP_MAGICS: [[u8; 4]; 6] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x34, 0xcd, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xcd, 0x34],
];

/// Shared between [`FillReader`] (owned by pcap-parser) and the read loop, because pcap-parser
/// flattens every I/O error into `ReadError` and a cut gzip stream must read as truncation.
#[derive(Default)]
struct ReadStatus {
    error: Option<io::Error>,
    truncated: bool,
}

/// Makes every `read` fill the whole buffer unless the input ends, so that pcap-parser (which
/// reads the file header with a single `read` and treats a 0-byte read as the end) works on pipes
/// and decompressors that return short reads. Errors are parked in [`ReadStatus`].
struct FillReader<'a> {
    inner: Box<dyn Read + 'a>,
    status: Rc<RefCell<ReadStatus>>,
}

impl Read for FillReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            let Some(space) = buf.get_mut(filled..) else {
                break;
            };
            match self.inner.read(space) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // flate2 reports a gzip stream cut short this way: end the input here and
                    // let the read loop report truncation.
                    self.status.borrow_mut().truncated = true;
                    break;
                }
                Err(e) => {
                    self.status.borrow_mut().error = Some(e);
                    return Err(io::Error::other("read error (kept in ReadStatus)"));
                }
            }
        }
        Ok(filled)
    }
}

/// Adds the bytes read through it to a shared counter (progress display); the counter is
/// relaxed because it is only ever displayed, never used to synchronise.
struct CountingReader<'a, R> {
    inner: R,
    count: &'a AtomicU64,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the input.
fn read_prefix(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(space) = buf.get_mut(filled..) else {
            break;
        };
        match r.read(space) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The container format found behind the (possibly gzip) magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcap,
    PcapNg,
}

/// Opens an input, peels gzip, and identifies the format. The returned reader still yields the
/// magic bytes (they were read ahead and chained back in front).
fn open<'a>(
    input: &'a Input,
    progress: Option<&'a AtomicU64>,
) -> Result<(Format, Box<dyn Read + 'a>), CaptureError> {
    let name = input.name();
    let mut raw: Box<dyn Read + '_> = match input {
        Input::Path(p) => Box::new(File::open(p).map_err(|source| CaptureError::Open {
            input: name.clone(),
            source,
        })?),
        Input::Stdin => Box::new(io::stdin().lock()),
        Input::Memory(_, bytes) => Box::new(bytes.as_slice()),
    };
    if let Some(count) = progress {
        raw = Box::new(CountingReader { inner: raw, count });
    }
    let read_err = |source| CaptureError::Read {
        input: name.clone(),
        source,
    };
    let mut magic = [0u8; 4];
    let n = read_prefix(&mut raw, &mut magic).map_err(read_err)?;
    let head = magic.get(..n).unwrap_or_default().to_vec();
    let mut reader: Box<dyn Read + '_> = Box::new(io::Cursor::new(head.clone()).chain(raw));
    let mut head = head;
    if head.starts_with(&GZIP_MAGIC) {
        // Concatenated gzip members (as `cat a.gz b.gz` produces) are one stream to gunzip.
        let mut gz: Box<dyn Read + '_> = Box::new(MultiGzDecoder::new(reader));
        let n = match read_prefix(&mut gz, &mut magic) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(read_err(e)),
        };
        head = magic.get(..n).unwrap_or_default().to_vec();
        reader = Box::new(io::Cursor::new(head.clone()).chain(gz));
    }
    let format = if head.as_slice() == PCAPNG_MAGIC {
        Format::PcapNg
    } else if PCAP_MAGICS.iter().any(|m| head.as_slice() == m) {
        Format::Pcap
    } else {
        return Err(CaptureError::NotACapture {
            input: name,
            magic: head,
        });
    };
    Ok((format, reader))
}

/// Per-interface facts needed to turn a pcapng packet block into a [`Frame`].
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Timestamp units per second.
    resolution: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset: i64,
}

/// Converts a pcapng 64-bit timestamp without the overflow of a naive `u32` seconds cast.
fn pcapng_ts(high: u32, low: u32, iface: &Interface) -> f64 {
    let raw = (u64::from(high) << 32) | u64::from(low);
    let res = iface.resolution.max(1);
    let secs = raw / res;
    let frac = raw % res;
    secs as f64 + frac as f64 / res as f64 + iface.offset as f64
}

/// Reads every record of `input` in file order and hands it to `f`.
///
/// Returns the number of frames read. On failure the frames before it have been handed out.
pub fn read_records<F>(input: &Input, f: F) -> Result<u64, CaptureError>
where
    F: FnMut(Record<'_>),
{
    read_records_counting(input, None, f)
}

/// [`read_records`] that also adds the input bytes it reads to `progress` (see
/// [`super::Options::progress`]).
pub fn read_records_counting<F>(
    input: &Input,
    progress: Option<&AtomicU64>,
    mut f: F,
) -> Result<u64, CaptureError>
where
    F: FnMut(Record<'_>),
{
    let name = input.name();
    let (format, reader) = open(input, progress)?;
    let status = Rc::new(RefCell::new(ReadStatus::default()));
    let fill = FillReader {
        inner: reader,
        status: Rc::clone(&status),
    };
    let mut packets: u64 = 0;
    let header_err = |e: PcapError<&'static [u8]>, status: &Rc<RefCell<ReadStatus>>| {
        map_error(&name, e, status, 0)
    };
    let mut reader: Box<dyn PcapReaderIterator + '_> = match format {
        Format::Pcap => Box::new(
            LegacyPcapReader::new(READ_BUFFER_SIZE, fill).map_err(|e| header_err(e, &status))?,
        ),
        Format::PcapNg => {
            Box::new(PcapNGReader::new(READ_BUFFER_SIZE, fill).map_err(|e| header_err(e, &status))?)
        }
    };
    let mut legacy_linktype: u32 = 0;
    let mut nanosecond = false;
    // How legacy pcap records are framed, known once the file header has been handed out.
    let mut legacy_framing: Option<LegacyFraming> = None;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut last_ts = 0.0;
    // Byte order of the current pcapng section, to skip blocks pcap-parser cannot parse.
    let mut ng_big_endian = false;
    loop {
        if format == Format::PcapNg {
            // A block shorter than its own 12-byte frame makes pcap-parser 0.16 compute
            // `block_len - 12` with overflow (a panic in debug builds, a 4 GiB request in
            // release builds). Its framing cannot be trusted, so reading stops here.
            if let Some(len) = short_block_length(reader.data(), ng_big_endian) {
                return Err(CaptureError::Malformed {
                    input: name,
                    packets_before: packets,
                    detail: format!("pcapng block length {len} is below the 12-byte minimum"),
                });
            }
            // A malformed block of a type we do not analyse (process information, custom,
            // name resolution, statistics ...) is skipped by its length fields, as libpcap skips
            // the blocks it does not know; otherwise pcap-parser reports it as incomplete and
            // the rest of the capture would be lost.
            if let Some((len, block_type)) = unparsable_optional_block(&mut *reader, ng_big_endian)
            {
                f(Record::Weird {
                    ts: last_ts,
                    name: super::weird::PCAPNG_MALFORMED_BLOCK,
                    addl: format!("block type {block_type:#010x}, {len} bytes"),
                });
                reader.consume(len);
                continue;
            }
        }
        if let Some(framing) = legacy_framing {
            // The common case: every whole record in the buffer, read in place here rather than
            // through pcap-parser's per-record `next` (which moves a large block enum per
            // record). What is not whole (the buffer's tail, a record larger than the buffer,
            // the end of the file) still goes through `next` below, so errors stay the same.
            let mut used = 0;
            let data = reader.data();
            while let Some((rec, len)) = data.get(used..).and_then(|d| framing.record(d)) {
                let frac = if nanosecond {
                    f64::from(rec.ts_usec) / 1e9
                } else {
                    f64::from(rec.ts_usec) / 1e6
                };
                let ts = f64::from(rec.ts_sec) + frac;
                last_ts = ts;
                packets += 1;
                f(Record::Frame(Frame {
                    ts,
                    linktype: legacy_linktype,
                    data: rec.data,
                }));
                used += len;
            }
            if used > 0 {
                reader.consume_noshift(used);
                continue;
            }
        }
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(hdr) => {
                        legacy_linktype = (hdr.network.0 as u32) & 0xffff;
                        nanosecond = hdr.is_nanosecond_precision();
                        legacy_framing = Some(LegacyFraming::of(&hdr));
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let frac = if nanosecond {
                            f64::from(b.ts_usec) / 1e9
                        } else {
                            f64::from(b.ts_usec) / 1e6
                        };
                        let ts = f64::from(b.ts_sec) + frac;
                        last_ts = ts;
                        packets += 1;
                        f(Record::Frame(Frame {
                            ts,
                            linktype: legacy_linktype,
                            data: b.data,
                        }));
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
                        // Interface ids are per section.
                        interfaces.clear();
                        ng_big_endian = shb.big_endian();
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        if interfaces.len() < MAX_PCAPNG_INTERFACES {
                            let resolution = match idb.ts_resolution() {
                                Some(r) => r,
                                None => {
                                    f(Record::Weird {
                                        ts: last_ts,
                                        name: super::weird::PCAPNG_BAD_TS_RESOLUTION,
                                        addl: format!("if_tsresol={}", idb.if_tsresol),
                                    });
                                    1_000_000
                                }
                            };
                            interfaces.push(Interface {
                                linktype: (idb.linktype.0 as u32) & 0xffff,
                                resolution,
                                offset: idb.if_tsoffset,
                            });
                        }
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        match interfaces.get(epb.if_id as usize) {
                            Some(iface) => {
                                let ts = pcapng_ts(epb.ts_high, epb.ts_low, iface);
                                last_ts = ts;
                                packets += 1;
                                f(Record::Frame(Frame {
                                    ts,
                                    linktype: iface.linktype,
                                    data: epb.packet_data(),
                                }));
                            }
                            None => f(Record::Weird {
                                ts: last_ts,
                                name: super::weird::PCAPNG_UNKNOWN_INTERFACE,
                                addl: format!("interface {}", epb.if_id),
                            }),
                        }
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        // Simple packet blocks belong to interface 0 and carry no timestamp;
                        // they get the previous packet's time so time never runs backwards.
                        match interfaces.first() {
                            Some(iface) => {
                                packets += 1;
                                f(Record::Frame(Frame {
                                    ts: last_ts,
                                    linktype: iface.linktype,
                                    data: spb.packet_data(),
                                }));
                            }
                            None => f(Record::Weird {
                                ts: last_ts,
                                name: super::weird::PCAPNG_UNKNOWN_INTERFACE,
                                addl: "interface 0 (simple packet block)".to_string(),
                            }),
                        }
                    }
                    // Name resolution, statistics, secrets, custom blocks: nothing to analyse.
                    PcapBlockOwned::NG(_) => {}
                }
                // No shift of the buffer per record: `refill` moves the unread tail to the front
                // when the buffer runs dry, so each byte is copied once (by `read`), not twice.
                reader.consume_noshift(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                reader
                    .refill()
                    .map_err(|e| map_error(&name, e.to_owned_vec(), &status, packets))?;
            }
            Err(PcapError::BufferTooSmall) => {
                // One record is bigger than the buffer: grow, within the limit.
                let have = reader.data().len();
                let want = (have * 2).clamp(READ_BUFFER_SIZE * 2, MAX_PACKET_SIZE + RECORD_SLACK);
                if have > MAX_PACKET_SIZE || !reader.grow(want) {
                    return Err(CaptureError::PacketTooLarge {
                        input: name,
                        packets_before: packets,
                    });
                }
                reader
                    .refill()
                    .map_err(|e| map_error(&name, e.to_owned_vec(), &status, packets))?;
            }
            Err(e) => {
                let e = e.to_owned_vec();
                return Err(map_error(&name, e, &status, packets));
            }
        }
    }
    // A gzip stream cut exactly at a record boundary still is a truncated capture.
    let mut st = status.borrow_mut();
    if let Some(source) = st.error.take() {
        return Err(CaptureError::Read {
            input: name,
            source,
        });
    }
    if st.truncated {
        return Err(CaptureError::Truncated {
            input: name,
            packets_before: packets,
        });
    }
    Ok(packets)
}

/// How the records of a legacy pcap file are laid out (pcap-parser's `parse_pcap_frame`,
/// `parse_pcap_frame_be` and `parse_pcap_frame_modified`, which this reproduces).
#[derive(Debug, Clone, Copy)]
struct LegacyFraming {
    big_endian: bool,
    /// 16, or 24 in the modified (Kuznetzov) format, which pcap-parser reads little-endian.
    header_len: usize,
}

/// One legacy pcap record read in place.
struct LegacyRecord<'a> {
    ts_sec: u32,
    ts_usec: u32,
    data: &'a [u8],
}

/// Bytes of a legacy pcap record header.
const LEGACY_RECORD_HEADER: usize = 16;
/// Bytes of a record header in the modified (Kuznetzov) format.
const MODIFIED_RECORD_HEADER: usize = 24;

impl LegacyFraming {
    fn of(hdr: &pcap_parser::PcapHeader) -> Self {
        if hdr.is_modified_format() {
            LegacyFraming {
                big_endian: false,
                header_len: MODIFIED_RECORD_HEADER,
            }
        } else {
            LegacyFraming {
                big_endian: hdr.is_bigendian(),
                header_len: LEGACY_RECORD_HEADER,
            }
        }
    }

    /// The record at the start of `d` and its length, when it is whole.
    fn record<'a>(&self, d: &'a [u8]) -> Option<(LegacyRecord<'a>, usize)> {
        let word = |at: usize| -> Option<u32> {
            let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
            Some(if self.big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            })
        };
        if d.len() < self.header_len {
            return None;
        }
        let caplen = usize::try_from(word(8)?).ok()?;
        let end = self.header_len.checked_add(caplen)?;
        let data = d.get(self.header_len..end)?;
        let rec = LegacyRecord {
            ts_sec: word(0)?,
            ts_usec: word(4)?,
            data,
        };
        Some((rec, end))
    }
}

/// pcapng block types the reader needs (section header, interface description, enhanced,
/// simple and obsolete packet blocks): these are never skipped.
const NEEDED_PCAPNG_BLOCKS: [u32; 5] = [0x0A0D_0D0A, 1, 6, 3, 2];

/// The length field of the pcapng block at the front of `data` when it is below 12 (the block
/// type, both length fields), for any block but a section header (whose byte order is not known
/// before it is parsed, and which pcap-parser checks against its 28-byte minimum itself).
fn short_block_length(data: &[u8], big_endian: bool) -> Option<u32> {
    let head: [u8; 8] = data.get(..8)?.try_into().ok()?;
    if head[..4] == PCAPNG_MAGIC {
        return None;
    }
    let raw = [head[4], head[5], head[6], head[7]];
    let len = if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    };
    (len < 12).then_some(len)
}

/// If the block at the front of the reader's buffer is whole (both length fields agree and all
/// of it is buffered), is of a type we do not analyse, and pcap-parser fails to parse it, returns
/// its length and type so the caller can skip it.
fn unparsable_optional_block(
    reader: &mut dyn PcapReaderIterator,
    big_endian: bool,
) -> Option<(usize, u32)> {
    let data = reader.data();
    let word = |at: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let block_type = word(0)?;
    if NEEDED_PCAPNG_BLOCKS.contains(&block_type) {
        return None;
    }
    let len = usize::try_from(word(4)?).ok()?;
    if len < 12 || len % 4 != 0 || len > data.len() || usize::try_from(word(len - 4)?).ok()? != len
    {
        return None;
    }
    // Only blocks pcap-parser rejects are skipped here; the others go through `next()`.
    let parses = if big_endian {
        pcap_parser::pcapng::parse_block_be(data).is_ok()
    } else {
        pcap_parser::pcapng::parse_block_le(data).is_ok()
    };
    (!parses).then_some((len, block_type))
}

/// Turns pcap-parser's error into ours, preferring the I/O error parked by [`FillReader`].
fn map_error(
    name: &str,
    e: PcapError<&'static [u8]>,
    status: &Rc<RefCell<ReadStatus>>,
    packets: u64,
) -> CaptureError {
    let mut st = status.borrow_mut();
    if let Some(source) = st.error.take() {
        return CaptureError::Read {
            input: name.to_string(),
            source,
        };
    }
    match e {
        PcapError::UnexpectedEof | PcapError::Incomplete(_) | PcapError::Eof => {
            CaptureError::Truncated {
                input: name.to_string(),
                packets_before: packets,
            }
        }
        PcapError::BufferTooSmall => CaptureError::PacketTooLarge {
            input: name.to_string(),
            packets_before: packets,
        },
        PcapError::HeaderNotRecognized => CaptureError::NotACapture {
            input: name.to_string(),
            magic: Vec::new(),
        },
        PcapError::ReadError => CaptureError::Read {
            input: name.to_string(),
            source: io::Error::other("read error"),
        },
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            CaptureError::Malformed {
                input: name.to_string(),
                packets_before: packets,
                detail: format!("{kind:?}"),
            }
        }
    }
}
