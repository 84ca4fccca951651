//! The packet front end: capture files in, per-connection byte streams and datagrams out.
//!
//! In: [`Input`]s (pcap/pcapng, possibly gzip, files or stdin). Out: calls on a
//! [`FlowHandler`] — a new connection, in-order TCP data per direction, content gaps, UDP
//! datagrams, connection end, weirds — in file order, with `f64` timestamps, and a [`Stats`]
//! summary. Nothing here knows about TLS.
//!
//! Layers: [`source`] (records) -> [`link`] (link layers) -> [`ip`] (IPv4/IPv6, fragments) ->
//! [`tunnel`] (decapsulation: IP-in-IP, GRE, VXLAN, Geneve, GTPv1-U, Teredo, AYIYA; the packet
//! inside goes back to [`link`] or [`ip`]) -> [`engine`] (connection table, TCP/UDP flows, timeouts) with [`table`] (the table's storage
//! and flow hash), [`timers`], [`tcp`] (per-direction reassembly) and [`uid`] (Zeek-style
//! uids). [`live`] reads network interfaces instead of files (`-i`). Every bound is a `pub const`; every breach is a weird named in [`weird`].
//!
//! Gap handling: gaps are reported to the consumer and the stream then continues (resync)
//! with the next bytes seen; it is up to the consumer to stop, as Zeek's SSL analyzer does.

pub mod engine;
pub mod error;
pub mod ip;
pub mod link;
pub mod live;
pub mod source;
pub mod table;
pub mod tcp;
pub mod timers;
pub mod tunnel;
pub mod uid;
pub mod weird;

use std::net::IpAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub use engine::Engine;
pub use error::CaptureError;
pub use source::{Input, MAX_PACKET_SIZE};

/// What the consumer wants after a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep delivering this connection's data.
    Continue,
    /// Deliver no more data (nor gaps) for this connection and free its buffers; the connection
    /// is still tracked (same uid for its later packets) and still gets `connection_end`.
    Stop,
}

/// Transport protocol of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// Zeek's spelling (`tcp`, `udp`), as in `conn.log`'s `proto` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// Zeek's `conn_id`: the originator and responder endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    /// Originator address.
    pub orig_h: IpAddr,
    /// Originator port.
    pub orig_p: u16,
    /// Responder address.
    pub resp_h: IpAddr,
    /// Responder port.
    pub resp_p: u16,
}

/// What the layer above knows about a connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnInfo {
    /// A number unique within one [`run`] (never reused, increasing with creation), meant as a
    /// map key for per-connection state above.
    pub handle: u64,
    /// The connection's entry in the engine's table: dense (below the most connections tracked
    /// at once) and reused once the connection has ended, so that the layer above can keep its
    /// per-connection state in a `Vec` indexed by it instead of a map.
    pub slot: u32,
    /// Zeek-style uid (`C` + base62), deterministic under [`Options::seed`].
    pub uid: String,
    /// The endpoints, oriented originator -> responder.
    pub id: ConnId,
    /// TCP or UDP.
    pub proto: Proto,
    /// Timestamp of the connection's first packet.
    pub start_ts: f64,
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Both sides sent FIN (after the close delay).
    Closed,
    /// A side sent RST (after the close delay).
    Reset,
    /// No packet for the inactivity timeout.
    Timeout,
    /// Removed to make room in a full table ([`weird::CONNECTION_TABLE_FULL`]).
    Evicted,
    /// The input (or the run) ended.
    EndOfInput,
}

/// The consumer of flows. Calls come in packet order; all data for a connection comes between
/// its `new_connection` and its `connection_end`.
pub trait FlowHandler {
    /// A connection was seen for the first time. Returning `Stop` means no data will be
    /// delivered for it.
    fn new_connection(&mut self, c: &ConnInfo) -> Verdict {
        let _ = c;
        Verdict::Continue
    }
    /// In-order TCP payload of one direction. Slices of in-order packets are the packet's own
    /// bytes; nothing was copied.
    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict;
    /// `len` bytes of this direction will never be delivered (not captured); the data that
    /// follows starts after them.
    fn tcp_gap(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, len: u64) -> Verdict {
        let _ = (c, is_orig, ts, len);
        Verdict::Continue
    }
    /// One UDP datagram's payload.
    fn udp_datagram(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict;
    /// The connection is gone; `ts` is the time at which this was noticed.
    fn connection_end(&mut self, c: &ConnInfo, ts: f64, reason: EndReason) {
        let _ = (c, ts, reason);
    }
    /// The current frame is fully processed: every delivery it caused (its own payload and any
    /// buffered segments it released) has been made. Zeek drains a packet's events only now, so
    /// script-level decisions (removing an analyzer) take effect from the next packet on.
    fn packet_done(&mut self) {}
    /// A tunnel.log row: a tunnel discovered, closed or expired (Zeek's `Tunnel::` actions).
    /// Tunnels' own connections (VXLAN, Geneve, GTP-U, Teredo, AYIYA, GRE over UDP on their
    /// ports) are not handed to the handler: they carry no TLS, and leaving them out keeps the
    /// connections inside a tunnel numbered (uids) as without it.
    fn tunnel(&mut self, record: &tunnel::TunnelRecord<'_>) {
        let _ = record;
    }
    /// An anomaly, with the connection it belongs to when there is one.
    fn weird(&mut self, c: Option<&ConnInfo>, ts: f64, name: &'static str, addl: &str) {
        let _ = (c, ts, name, addl);
    }
}

/// Zeek's `tcp_inactivity_timeout`.
pub const DEFAULT_TCP_INACTIVITY_TIMEOUT: f64 = 300.0;
/// Zeek's `udp_inactivity_timeout`.
pub const DEFAULT_UDP_INACTIVITY_TIMEOUT: f64 = 60.0;
/// Zeek's `tcp_close_delay`/`tcp_connection_linger`: how long after its last packet a closed
/// connection lingers to absorb final ACKs and retransmissions before it ends.
pub const DEFAULT_TCP_CLOSE_DELAY: f64 = 5.0;
/// Default bound on tracked connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1_000_000;

/// TCP ports the base scripts of Zeek register analyzers for (its `likely_server_ports`),
/// used to orient connections picked up without a SYN.
pub const DEFAULT_LIKELY_SERVER_PORTS_TCP: &[u16] = &[
    21, 22, 25, 53, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614, 631,
    636, 989, 990, 992, 993, 995, 1080, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 6666,
    6667, 6668, 6669, 8000, 8080, 8888, 20000,
];
/// UDP ports of the same list.
pub const DEFAULT_LIKELY_SERVER_PORTS_UDP: &[u16] = &[
    53, 67, 68, 69, 88, 123, 137, 161, 162, 443, 514, 1812, 1813, 2123, 2152, 3544, 4789, 5060,
    5072, 5353, 5355, 6081,
];

/// Knobs of a run. `Options::default()` is Zeek's defaults.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed for connection uids; `None` draws one from the OS (uids then differ per run).
    pub seed: Option<u64>,
    /// Seconds without a packet after which a TCP connection ends.
    pub tcp_inactivity_timeout: f64,
    /// Seconds without a packet after which a UDP flow ends.
    pub udp_inactivity_timeout: f64,
    /// Seconds a TCP connection lingers after its last packet once both sides sent FIN or one
    /// sent RST.
    pub tcp_close_delay: f64,
    /// Most connections tracked at once; when full the least recently active one is ended.
    pub max_connections: usize,
    /// Per-direction bound on out-of-order TCP bytes.
    pub max_buffered_bytes_per_direction: usize,
    /// Per-direction bound on out-of-order TCP segments.
    pub max_buffered_segments_per_direction: usize,
    /// Bound on out-of-order TCP bytes over all connections.
    pub max_buffered_bytes_total: usize,
    /// Ports that make a sender without SYN look like the responder (TCP).
    pub likely_server_ports_tcp: Vec<u16>,
    /// Same for UDP.
    pub likely_server_ports_udp: Vec<u16>,
    /// Treat several inputs as one continuous capture (connections span files, as with
    /// rotated `tcpdump -C` output). By default each input's connections end with the input.
    pub continue_across_inputs: bool,
    /// When set, the count of input bytes read so far (as stored: compressed bytes for a
    /// gzip file), added to as reading proceeds, so that another thread can show progress.
    pub progress: Option<Arc<AtomicU64>>,
    /// `Some((index, count))`: this engine is one of `count` that each read the whole input
    /// (`--threads`, see `run::sharded`) and analyses only the flows whose
    /// [`engine::symmetric_flow_hash`] is `index` modulo `count`; the others are dropped right
    /// after their ports are known, before the connection table. Connection-less weirds (link,
    /// IP, fragment, transport-header, file-level) are raised by index 0 only, so that they
    /// are reported once. `None`, or a count of 1: every flow.
    pub shard: Option<(usize, usize)>,
    /// Zeek's `Tunnel::max_depth`: most encapsulations decapsulated around one packet; 0 turns
    /// decapsulation off (tunnel traffic is then plain IP and UDP, as without this feature).
    pub tunnel_max_depth: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: None,
            tcp_inactivity_timeout: DEFAULT_TCP_INACTIVITY_TIMEOUT,
            udp_inactivity_timeout: DEFAULT_UDP_INACTIVITY_TIMEOUT,
            tcp_close_delay: DEFAULT_TCP_CLOSE_DELAY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_buffered_bytes_per_direction: tcp::DEFAULT_MAX_BUFFERED_BYTES_PER_DIRECTION,
            max_buffered_segments_per_direction: tcp::DEFAULT_MAX_BUFFERED_SEGMENTS_PER_DIRECTION,
            max_buffered_bytes_total: tcp::DEFAULT_MAX_BUFFERED_BYTES_TOTAL,
            likely_server_ports_tcp: DEFAULT_LIKELY_SERVER_PORTS_TCP.to_vec(),
            likely_server_ports_udp: DEFAULT_LIKELY_SERVER_PORTS_UDP.to_vec(),
            continue_across_inputs: false,
            progress: None,
            shard: None,
            tunnel_max_depth: tunnel::DEFAULT_MAX_DEPTH,
        }
    }
}

/// Counters of a run, per phase: read -> link -> IP -> transport -> flows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Inputs read.
    pub inputs: u64,
    /// Frames read from the captures.
    pub packets: u64,
    /// Captured bytes of those frames.
    pub bytes: u64,
    /// Frames whose link layer could not be decoded (truncated, unsupported type).
    pub link_errors: u64,
    /// Frames carrying something other than IP.
    pub non_ip: u64,
    /// IP packets dropped as malformed or truncated.
    pub ip_errors: u64,
    /// IP fragments seen.
    pub fragments: u64,
    /// Datagrams rebuilt from fragments.
    pub reassembled: u64,
    /// TCP segments processed.
    pub tcp_packets: u64,
    /// UDP datagrams processed.
    pub udp_packets: u64,
    /// IP packets of other protocols (ICMP, ...), not analysed.
    pub other_ip: u64,
    /// Connections created (TCP + UDP).
    pub connections: u64,
    /// TCP connections created.
    pub tcp_connections: u64,
    /// UDP flows created.
    pub udp_connections: u64,
    /// Connections ended to make room.
    pub evicted: u64,
    /// TCP payload bytes delivered in order.
    pub tcp_bytes_delivered: u64,
    /// TCP bytes reported as gaps.
    pub tcp_gap_bytes: u64,
    /// TCP bytes dropped as already seen.
    pub tcp_retransmitted_bytes: u64,
    /// UDP payload bytes delivered.
    pub udp_bytes_delivered: u64,
    /// Weirds raised.
    pub weirds: u64,
    /// Packets taken out of a tunnel (one per level of encapsulation removed).
    pub decapsulated: u64,
}

/// Reads `inputs` in order and drives `handler`.
///
/// On an error (missing file, not a capture, truncated capture, ...) everything before it has
/// been delivered and the open connections have been ended (`EndReason::EndOfInput`) before
/// the error is returned; later inputs are not read.
pub fn run<H: FlowHandler + ?Sized>(
    inputs: &[Input],
    options: &Options,
    handler: &mut H,
) -> Result<Stats, CaptureError> {
    let mut engine = Engine::new(options.clone());
    for input in inputs {
        engine.begin_input();
        let result = source::read_records_counting(input, options.progress.as_deref(), |rec| {
            engine.record(rec, handler)
        });
        if result.is_err() || !options.continue_across_inputs {
            engine.finish(handler);
        }
        result?;
    }
    engine.finish(handler);
    Ok(engine.stats().clone())
}

/// The physical ceiling for benchmarks: iterates the records of `inputs` and does nothing
/// else. Returns (packets, captured bytes).
pub fn count_packets(inputs: &[Input]) -> Result<(u64, u64), CaptureError> {
    let mut packets = 0u64;
    let mut bytes = 0u64;
    for input in inputs {
        source::read_records(input, |rec| {
            if let source::Record::Frame(f) = rec {
                packets += 1;
                bytes += f.data.len() as u64;
            }
        })?;
    }
    Ok((packets, bytes))
}
