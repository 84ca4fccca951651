//! Errors of the packet front end.
//!
//! In: failures met while opening or reading a capture (I/O errors, bad magic, a record cut short,
//! a record bigger than [`super::MAX_PACKET_SIZE`]). Out: [`CaptureError`], one variant per cause,
//! with a `Display` meant for a user (stderr of the CLI) that always names the input.

use std::fmt;
use std::io;

/// Why a capture could not be read to its end.
///
/// Every packet before the point of failure has already been delivered when this is returned, so
/// a truncated capture still yields all events before the cut.
#[derive(Debug)]
pub enum CaptureError {
    /// The input could not be opened (missing file, no permission, ...).
    Open {
        /// The input's name as given (`-` for stdin).
        input: String,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The input does not start with a pcap, pcapng or gzip magic number.
    NotACapture {
        /// The input's name as given.
        input: String,
        /// The first bytes of the input (fewer than 4 when the input is that short).
        magic: Vec<u8>,
    },
    /// The input ends in the middle of a record (or of a gzip stream).
    Truncated {
        /// The input's name as given.
        input: String,
        /// Packets read completely before the cut.
        packets_before: u64,
    },
    /// A record claims a size above [`super::MAX_PACKET_SIZE`]; reading stops there because the
    /// framing cannot be trusted any more.
    PacketTooLarge {
        /// The input's name as given.
        input: String,
        /// Packets read completely before the oversized record.
        packets_before: u64,
    },
    /// A record or block is malformed in a way the reader cannot skip.
    Malformed {
        /// The input's name as given.
        input: String,
        /// Packets read completely before the malformed record.
        packets_before: u64,
        /// What the parser reported.
        detail: String,
    },
    /// Reading (or decompressing) failed after the input was opened.
    Read {
        /// The input's name as given.
        input: String,
        /// The underlying error.
        source: io::Error,
    },
}

impl CaptureError {
    /// The name of the input the error is about.
    pub fn input(&self) -> &str {
        match self {
            CaptureError::Open { input, .. }
            | CaptureError::NotACapture { input, .. }
            | CaptureError::Truncated { input, .. }
            | CaptureError::PacketTooLarge { input, .. }
            | CaptureError::Malformed { input, .. }
            | CaptureError::Read { input, .. } => input,
        }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Open { input, source } => {
                write!(f, "{input}: cannot open capture: {source}")
            }
            CaptureError::NotACapture { input, magic } => {
                write!(f, "{input}: not a capture file (pcap, pcapng or gzip); starts with")?;
                if magic.is_empty() {
                    write!(f, " nothing (empty input)")
                } else {
                    for b in magic {
                        write!(f, " {b:02x}")?;
                    }
                    Ok(())
                }
            }
            CaptureError::Truncated {
                input,
                packets_before,
            } => write!(
                f,
                "{input}: truncated capture: input ends inside a record after {packets_before} complete packets"
            ),
            CaptureError::PacketTooLarge {
                input,
                packets_before,
            } => write!(
                f,
                "{input}: record after packet {packets_before} is larger than the limit of {} bytes",
                super::MAX_PACKET_SIZE
            ),
            CaptureError::Malformed {
                input,
                packets_before,
                detail,
            } => write!(
                f,
                "{input}: malformed capture after {packets_before} packets: {detail}"
            ),
            CaptureError::Read { input, source } => {
                write!(f, "{input}: error while reading capture: {source}")
            }
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CaptureError::Open { source, .. } | CaptureError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}
