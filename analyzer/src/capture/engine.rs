//! The connection table: frames in, flows out.
//!
//! In: [`Record`]s from [`super::source`] (or frames pushed directly with [`Engine::packet`]).
//! Out: [`FlowHandler`] calls. The engine decodes link and IP layers, reassembles fragments,
//! keeps one entry per TCP connection or UDP flow (keyed by the unordered 5-tuple), orients it
//! (originator = sender of the first packet; the receiver when that packet is a SYN-ACK; the
//! receiver when a non-SYN first packet comes from a likely server port to a port that is not),
//! runs TCP reassembly per direction, and ends connections on FIN from both sides or RST (after
//! the close delay), on inactivity, on eviction from a full table, and at the end of input.
//!
//! Time is the packets' time: timers fire when a packet's timestamp passes them, before that
//! packet is processed, as in Zeek. Timers are lazy (a connection's timer is re-armed when it
//! fires early), so a packet costs O(1) table work plus a heap operation per expiry.
//!
//! Sharding (`--threads`): with [`Options::shard`] set, an engine is one of several reading the
//! same input and analyses only its share of the flows (by [`symmetric_flow_hash`]); it still
//! decodes every frame down to the ports and runs its timers at every frame's time, so its
//! timers fire where a single engine's would.
//!
//! Memory: a connection is one [`FlowTable`] entry (its [`ConnInfo`], times, flags and the two
//! TCP directions inline, about 200 bytes), a few bytes of hash index and one timer entry.

use super::ip::{self, Defragmenter, Ip, Transport};
use super::link::{self, LinkError, Network};
use super::source::{Frame, Record};
use super::table::{Endpoint, FlowEntry, FlowHasher, FlowTable, MAX_TABLE_ENTRIES};
use super::tcp::{Chunk, Reassembler, ReassemblyLimits, StreamSink};
use super::timers::{Timer, Timers};
use super::tunnel::{self, Encap, Inner, Refusal, TunnelTable, TunnelType, UidSource};
use super::uid::UidGenerator;
use super::{weird, ConnId, ConnInfo, EndReason, FlowHandler, Options, Proto, Stats, Verdict};

const IPPROTO_ICMP: u8 = 1;
const IPPROTO_IPIP: u8 = 4;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_IPV6: u8 = 41;
const IPPROTO_GRE: u8 = 47;
const IPPROTO_ICMPV6: u8 = 58;

/// Mixed into the uid seed for the uids of tunnels (IP tunnels and tunnels' own connections),
/// which come from a generator of their own so that the connections inside a tunnel get the
/// uids they would get without it.
const TUNNEL_UID_SEED_MIX: u64 = 0x7475_6e6e_656c_7321;

/// A hash of a flow's endpoints and protocol that is symmetric (both directions give the same
/// value) and seedless (the same on every run and machine), for splitting flows between engines
/// (`--threads`): [`Options::shard`] here, and the routing reader of `run::sharded`. Each
/// endpoint is folded into 64 bits and mixed (SplitMix64's finalizer); the two are added, which
/// does not depend on direction.
pub fn symmetric_flow_hash(a: Endpoint, b: Endpoint, proto: u8) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn endpoint((addr, port): Endpoint) -> u64 {
        let a = match addr {
            std::net::IpAddr::V4(a) => u64::from(u32::from(a)),
            std::net::IpAddr::V6(a) => {
                let x = u128::from(a);
                (x as u64) ^ ((x >> 64) as u64).rotate_left(17)
            }
        };
        mix((a << 16) ^ (a >> 48) ^ u64::from(port))
    }
    let h = endpoint(a)
        .wrapping_add(endpoint(b))
        .wrapping_add(u64::from(proto));
    mix(h)
}

/// Most engines [`Options::shard`] splits flows between: the filter scales 32 bits of the flow
/// hash by the count, which must stay within 32 bits so the product fits in 64.
pub const MAX_SHARDS: usize = 1 << 16;

/// Which flows an engine analyses under [`Options::shard`].
#[derive(Debug, Clone, Copy)]
struct ShardFilter {
    index: u64,
    count: u64,
}

impl ShardFilter {
    /// `None` when every flow is this engine's (no sharding, a count of 1, a bad index, or a
    /// count beyond [`MAX_SHARDS`]).
    fn of(opts: &Options) -> Option<Self> {
        let (index, count) = opts.shard?;
        (count > 1 && index < count && count <= MAX_SHARDS).then_some(ShardFilter {
            index: index as u64,
            count: count as u64,
        })
    }
}

/// TCP state beyond the two streams.
#[derive(Debug, Default)]
struct TcpState {
    /// Index 0 is the originator's stream, 1 the responder's.
    dirs: [Reassembler; 2],
    fin_seen: [bool; 2],
    reset: bool,
    /// Both FINs or a RST were seen.
    closed: bool,
}

#[derive(Debug)]
struct Conn {
    info: ConnInfo,
    last_ts: f64,
    /// Generation of the connection's live timer; heap entries of older generations are stale.
    timer_gen: u32,
    /// The consumer asked for no more data.
    stopped: bool,
    tcp: Option<TcpState>,
    /// A tunnel's own connection (on a tunnel port): not handed to the handler.
    hidden: bool,
    /// It is (or was) an active tunnel: its end closes the tunnel (Zeek's `finalize_tunnel`).
    tunnel_hook: bool,
    /// A tunnel analyzer refused its content (Zeek's analyzer violation): no more
    /// decapsulation for it.
    tunnel_violated: bool,
    /// Fingerprint of the encapsulation its last packet came in (0: none), to notice a change
    /// (Zeek's `tunnel_changed`).
    encap_fp: u64,
}

/// Bytes of one tracked connection's entry in the engine's table (TCP state inline), for
/// memory accounting; heap parts (the uid string) come on top.
pub const CONN_ENTRY_BYTES: usize = FlowTable::<Conn>::ENTRY_BYTES;

impl FlowEntry for Conn {
    fn flow(&self) -> (Endpoint, Endpoint, u8) {
        let id = &self.info.id;
        let proto = match self.info.proto {
            Proto::Tcp => IPPROTO_TCP,
            Proto::Udp => IPPROTO_UDP,
        };
        ((id.orig_h, id.orig_p), (id.resp_h, id.resp_p), proto)
    }
}

/// A set of ports as a bitmap: one lookup per new connection, no hashing.
struct PortSet(Vec<u64>);

impl PortSet {
    fn new(ports: &[u16]) -> Self {
        let mut bits = vec![0u64; 1024];
        for &p in ports {
            if let Some(w) = bits.get_mut(usize::from(p) / 64) {
                *w |= 1 << (p % 64);
            }
        }
        PortSet(bits)
    }
    fn contains(&self, p: u16) -> bool {
        self.0
            .get(usize::from(p) / 64)
            .is_some_and(|w| w & (1 << (p % 64)) != 0)
    }
}

/// Routes one direction's reassembled stream to the handler.
struct DirSink<'a, H: ?Sized> {
    handler: &'a mut H,
    info: &'a ConnInfo,
    is_orig: bool,
    ts: f64,
    weirds: &'a mut u64,
}

impl<H: FlowHandler + ?Sized> StreamSink for DirSink<'_, H> {
    fn chunk(&mut self, chunk: Chunk<'_>) -> Verdict {
        match chunk {
            Chunk::Data(d) => self.handler.tcp_data(self.info, self.is_orig, self.ts, d),
            Chunk::Gap(n) => self.handler.tcp_gap(self.info, self.is_orig, self.ts, n),
        }
    }
    fn weird(&mut self, name: &'static str, addl: String) {
        *self.weirds += 1;
        self.handler.weird(Some(self.info), self.ts, name, &addl);
    }
}

/// The fixed part of a TCP header.
struct TcpHeader<'a> {
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    syn: bool,
    ack_flag: bool,
    fin: bool,
    rst: bool,
    payload: &'a [u8],
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    let b: [u8; 2] = d.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(b))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn parse_tcp(p: &[u8]) -> Result<TcpHeader<'_>, (&'static str, String)> {
    let short = || (weird::TRUNCATED_TCP_HEADER, format!("{} bytes", p.len()));
    let sport = be16(p, 0).ok_or_else(short)?;
    let dport = be16(p, 2).ok_or_else(short)?;
    let seq = be32(p, 4).ok_or_else(short)?;
    let ack = be32(p, 8).ok_or_else(short)?;
    let off = usize::from(p.get(12).ok_or_else(short)? >> 4) * 4;
    let flags = *p.get(13).ok_or_else(short)?;
    if p.len() < 20 {
        return Err(short());
    }
    if off < 20 || off > p.len() {
        return Err((
            weird::BAD_TCP_HEADER_LEN,
            format!("data offset {off} in {} bytes", p.len()),
        ));
    }
    Ok(TcpHeader {
        sport,
        dport,
        seq,
        ack,
        fin: flags & 0x01 != 0,
        syn: flags & 0x02 != 0,
        rst: flags & 0x04 != 0,
        ack_flag: flags & 0x10 != 0,
        payload: p.get(off..).unwrap_or_default(),
    })
}

/// Zeek's `IP::ParsePacket` checks of a tunnelled IP packet whose version the outer protocol
/// number says (4 or 41): the version, then the captured length against the header's.
fn check_inner_ip(proto: u8, p: &[u8]) -> Result<(), &'static str> {
    let version = p.first().map(|b| b >> 4);
    let total = match (proto, version) {
        (IPPROTO_IPV6, _) if p.len() < 40 => return Err("truncated_inner_IP"),
        (IPPROTO_IPV6, Some(6)) => 40 + usize::from(be16(p, 4).unwrap_or(0)),
        (IPPROTO_IPIP, _) if p.len() < 20 => return Err(weird::INVALID_INNER_IP_VERSION),
        (IPPROTO_IPIP, Some(4)) => usize::from(be16(p, 2).unwrap_or(0)),
        _ => return Err(weird::INVALID_INNER_IP_VERSION),
    };
    match p.len().cmp(&total) {
        std::cmp::Ordering::Less => Err("truncated_inner_IP"),
        std::cmp::Ordering::Greater => Err("inner_IP_payload_length_mismatch"),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// The connection table and everything below it. [`super::run`] drives one; use it directly to
/// feed frames from elsewhere (a live capture, a test).
pub struct Engine {
    opts: Options,
    uids: UidGenerator,
    conns: FlowTable<Conn>,
    timers: Timers,
    defrag: Defragmenter,
    limits: ReassemblyLimits,
    likely_tcp: PortSet,
    likely_udp: PortSet,
    next_handle: u64,
    now: f64,
    stats: Stats,
    /// Link types already reported as unsupported in the current input.
    reported_linktypes: Vec<u32>,
    /// [`Options::shard`], checked.
    shard: Option<ShardFilter>,
    /// Active tunnels and IP tunnel uids (and the generator of every tunnel's uid).
    tunnels: TunnelTable,
    /// The encapsulation of the packet being decoded, outermost first.
    encap: Vec<Encap>,
    /// Fingerprint of `encap` (0 when empty).
    encap_fp: u64,
}

impl Engine {
    /// An empty table with these options.
    pub fn new(opts: Options) -> Self {
        let uids = match opts.seed {
            Some(s) => UidGenerator::from_seed(s),
            None => UidGenerator::from_entropy(),
        };
        let tunnels = TunnelTable::new(match opts.seed {
            Some(s) => UidGenerator::from_seed(s ^ TUNNEL_UID_SEED_MIX),
            None => UidGenerator::from_entropy(),
        });
        Engine {
            uids,
            conns: FlowTable::new(FlowHasher::random()),
            timers: Timers::default(),
            defrag: Defragmenter::new(),
            limits: ReassemblyLimits {
                max_bytes_per_direction: opts.max_buffered_bytes_per_direction,
                max_segments_per_direction: opts.max_buffered_segments_per_direction,
                max_bytes_total: opts.max_buffered_bytes_total,
                ..ReassemblyLimits::default()
            },
            likely_tcp: PortSet::new(&opts.likely_server_ports_tcp),
            likely_udp: PortSet::new(&opts.likely_server_ports_udp),
            next_handle: 0,
            now: 0.0,
            stats: Stats::default(),
            reported_linktypes: Vec::new(),
            shard: ShardFilter::of(&opts),
            tunnels,
            encap: Vec::new(),
            encap_fp: 0,
            opts,
        }
    }

    /// Counters so far (TCP byte counters include the connections still open).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Connections currently tracked.
    pub fn active_connections(&self) -> usize {
        self.conns.len()
    }

    /// Out-of-order TCP bytes currently buffered over all connections.
    pub fn buffered_bytes(&self) -> usize {
        self.limits.buffered_total
    }

    /// Marks the start of a new input (resets once-per-input weirds).
    pub fn begin_input(&mut self) {
        self.stats.inputs += 1;
        self.reported_linktypes.clear();
    }

    /// Takes one record from [`super::source::read_records`].
    pub fn record<H: FlowHandler + ?Sized>(&mut self, rec: Record<'_>, handler: &mut H) {
        match rec {
            Record::Frame(f) => self.packet(f, handler),
            Record::Weird { ts, name, addl } => self.weird(handler, None, ts, name, &addl),
        }
    }

    fn weird<H: FlowHandler + ?Sized>(
        &mut self,
        handler: &mut H,
        c: Option<&ConnInfo>,
        ts: f64,
        name: &'static str,
        addl: &str,
    ) {
        // Every engine of a sharded run sees the packets that raise connection-less weirds;
        // one of them reports them.
        if c.is_none() && self.shard.is_some_and(|s| s.index != 0) {
            return;
        }
        self.stats.weirds += 1;
        handler.weird(c, ts, name, addl);
    }

    /// Whether the flow between `a` and `b` is this engine's (see [`Options::shard`]).
    fn owns(&self, a: Endpoint, b: Endpoint, proto: u8) -> bool {
        match self.shard {
            // The hash's high half scaled to the count (Lemire's reduction): no division per
            // packet, which every engine of a sharded run pays for every packet.
            Some(s) => {
                let h = symmetric_flow_hash(a, b, proto) >> 32;
                (h * s.count) >> 32 == s.index
            }
            None => true,
        }
    }

    /// Runs the timers due by `ts`, as a frame of that time does before anything else; a frame
    /// of time `ts` handed to [`Engine::packet`] afterwards runs none. `before_end` is called
    /// with the time each timer was set for, just before the connection it ends is ended, so
    /// that a caller merging several engines' output (`run::sharded`) can order those ends as
    /// one engine's timer queue would (by that time, then by age).
    pub fn advance<H: FlowHandler + ?Sized>(
        &mut self,
        ts: f64,
        handler: &mut H,
        before_end: &mut dyn FnMut(&mut H, f64),
    ) {
        if ts > self.now {
            self.now = ts;
            self.expire(handler, before_end);
        }
    }

    /// Processes one captured frame, then tells the handler the frame is done.
    pub fn packet<H: FlowHandler + ?Sized>(&mut self, frame: Frame<'_>, handler: &mut H) {
        self.frame(frame, handler);
        handler.packet_done();
    }

    /// Everything one captured frame causes: decoding, reassembly, deliveries, timers.
    fn frame<H: FlowHandler + ?Sized>(&mut self, frame: Frame<'_>, handler: &mut H) {
        let ts = frame.ts;
        self.stats.packets += 1;
        self.stats.bytes += frame.data.len() as u64;
        if ts > self.now {
            self.now = ts;
            self.expire(handler, &mut |_, _| {});
        }
        let network = match link::decode(frame.linktype, frame.data) {
            Ok(n) => n,
            Err(e) => {
                self.stats.link_errors += 1;
                match e {
                    LinkError::Truncated => self.weird(
                        handler,
                        None,
                        ts,
                        weird::TRUNCATED_LINK_HEADER,
                        &format!("link type {}, {} bytes", frame.linktype, frame.data.len()),
                    ),
                    LinkError::TooDeep => {
                        self.weird(handler, None, ts, weird::ENCAPSULATION_TOO_DEEP, "")
                    }
                    LinkError::Unsupported => {
                        if !self.reported_linktypes.contains(&frame.linktype) {
                            self.reported_linktypes.push(frame.linktype);
                            self.weird(
                                handler,
                                None,
                                ts,
                                weird::UNSUPPORTED_LINK_TYPE,
                                &format!("link type {}", frame.linktype),
                            );
                        }
                    }
                }
                return;
            }
        };
        self.network(ts, network, handler);
    }

    /// An IP packet (of a frame, or out of a tunnel) down to its transport. Always inlined,
    /// into [`Engine::frame`] and into [`Engine::decapsulate`] (which is where the recursion of
    /// nested tunnels goes through), so that packets outside tunnels pay no extra call.
    #[inline(always)]
    fn network<H: FlowHandler + ?Sized>(&mut self, ts: f64, network: Network<'_>, handler: &mut H) {
        let parsed = match network {
            Network::Ipv4(p) => ip::parse_ipv4(p),
            Network::Ipv6(p) => ip::parse_ipv6(p),
            Network::NotIp => {
                self.stats.non_ip += 1;
                return;
            }
        };
        match parsed {
            Ok(Ip::Whole(t)) => self.transport(ts, t, handler),
            Ok(Ip::Fragment(f)) => {
                self.stats.fragments += 1;
                let mut weirds: Vec<(&'static str, String)> = Vec::new();
                let whole = self.defrag.add(ts, &f, &mut |n, a| weirds.push((n, a)));
                for (n, a) in weirds {
                    self.weird(handler, None, ts, n, &a);
                }
                if let Some(payload) = whole {
                    self.stats.reassembled += 1;
                    let t = Transport {
                        payload: &payload,
                        ..f.transport
                    };
                    self.transport(ts, t, handler);
                }
            }
            Err((name, addl)) => {
                self.stats.ip_errors += 1;
                self.weird(handler, None, ts, name, &addl);
            }
        }
    }

    fn transport<H: FlowHandler + ?Sized>(&mut self, ts: f64, t: Transport<'_>, handler: &mut H) {
        match t.proto {
            IPPROTO_TCP => {
                self.stats.tcp_packets += 1;
                match parse_tcp(t.payload) {
                    Ok(h) => self.tcp(ts, &t, &h, handler),
                    Err((name, addl)) => self.weird(handler, None, ts, name, &addl),
                }
            }
            IPPROTO_UDP => {
                self.stats.udp_packets += 1;
                self.udp(ts, &t, handler);
            }
            IPPROTO_IPIP | IPPROTO_IPV6 if self.opts.tunnel_max_depth > 0 => {
                self.ip_in_ip(ts, &t, handler)
            }
            IPPROTO_GRE if self.opts.tunnel_max_depth > 0 => {
                self.gre(ts, t.src, t.dst, t.payload, handler)
            }
            IPPROTO_ICMP | IPPROTO_ICMPV6 => {
                self.stats.other_ip += 1;
                // Zeek makes ICMP "connections", whose creation registers their tunnels; ICMP
                // is not tracked here, so every ICMP packet in a tunnel registers it (the same
                // rows: registering an active tunnel only marks it used).
                if !self.encap.is_empty() {
                    self.register_tunnels(ts, handler);
                }
            }
            _ => self.stats.other_ip += 1,
        }
    }

    /// A tunnel weird, with Zeek's `_in_tunnel` suffix inside a tunnel.
    fn tunnel_weird<H: FlowHandler + ?Sized>(
        &mut self,
        handler: &mut H,
        ts: f64,
        name: &'static str,
        addl: &str,
    ) {
        let name = if self.encap.is_empty() {
            name
        } else {
            weird::in_tunnel(name)
        };
        self.weird(handler, None, ts, name, addl);
    }

    /// Whether one more level of encapsulation is allowed (Zeek's `Tunnel::max_depth`); raises
    /// the weird `name` when not.
    fn depth_ok<H: FlowHandler + ?Sized>(
        &mut self,
        handler: &mut H,
        ts: f64,
        name: &'static str,
    ) -> bool {
        if self.encap.len() >= self.opts.tunnel_max_depth {
            self.tunnel_weird(handler, ts, name, "");
            return false;
        }
        true
    }

    /// Decodes `inner` inside one more level of encapsulation `e`.
    fn decapsulate<H: FlowHandler + ?Sized>(
        &mut self,
        ts: f64,
        e: Encap,
        inner: Inner<'_>,
        handler: &mut H,
    ) {
        let network = match inner {
            Inner::Ip(p) => match p.first().map(|b| b >> 4) {
                Some(4) => Network::Ipv4(p),
                Some(6) => Network::Ipv6(p),
                _ => {
                    self.tunnel_weird(handler, ts, weird::INVALID_INNER_IP_VERSION, "");
                    return;
                }
            },
            Inner::Ethernet(f) => match link::decode(link::LINKTYPE_ETHERNET, f) {
                Ok(n) => n,
                Err(_) => {
                    self.tunnel_weird(handler, ts, weird::TRUNCATED_LINK_HEADER, "");
                    return;
                }
            },
            Inner::Ieee80211(f) => {
                self.decapsulate_80211(ts, e, f, handler);
                return;
            }
            Inner::Nothing => return,
        };
        self.stats.decapsulated += 1;
        let saved_fp = self.encap_fp;
        self.encap_fp = self.encap_fp.rotate_left(5) ^ e.fingerprint() | 1;
        self.encap.push(e);
        self.network(ts, network, handler);
        self.encap.pop();
        self.encap_fp = saved_fp;
    }

    /// The packets of an 802.11 frame (Aruba's GRE), each inside `e`.
    fn decapsulate_80211<H: FlowHandler + ?Sized>(
        &mut self,
        ts: f64,
        e: Encap,
        frame: &[u8],
        handler: &mut H,
    ) {
        let mut packets: Vec<(u16, &[u8])> = Vec::new();
        let result = tunnel::ieee802_11_payloads(frame, &mut |ethertype, p| {
            packets.push((ethertype, p));
            matches!(ethertype, 0x0800 | 0x86dd)
        });
        let saved_fp = self.encap_fp;
        self.encap_fp = self.encap_fp.rotate_left(5) ^ e.fingerprint() | 1;
        self.encap.push(e);
        for (ethertype, p) in packets {
            let network = match ethertype {
                0x0800 => Network::Ipv4(p),
                0x86dd => Network::Ipv6(p),
                _ => continue,
            };
            self.stats.decapsulated += 1;
            self.network(ts, network, handler);
        }
        if let Err(name) = result {
            self.weird(handler, None, ts, weird::in_tunnel_owned(name), "");
        }
        self.encap.pop();
        self.encap_fp = saved_fp;
    }

    /// IP-in-IP (protocol 4 or 41): the inner packet must be of the version the protocol
    /// number says and fill the outer payload exactly (Zeek's `IP::ParsePacket`).
    fn ip_in_ip<H: FlowHandler + ?Sized>(&mut self, ts: f64, t: &Transport<'_>, handler: &mut H) {
        if !self.depth_ok(handler, ts, weird::EXCEEDED_TUNNEL_MAX_DEPTH) {
            return;
        }
        if let Err(name) = check_inner_ip(t.proto, t.payload) {
            self.tunnel_weird(handler, ts, name, "");
            return;
        }
        let e = self.ip_tunnel(ts, t.src, t.dst, TunnelType::Ip, handler);
        self.decapsulate(ts, e, Inner::Ip(t.payload), handler);
    }

    /// The IP tunnel between two addresses (Zeek's IP tunnel analyzer: one uid per pair).
    fn ip_tunnel<H: FlowHandler + ?Sized>(
        &mut self,
        ts: f64,
        src: std::net::IpAddr,
        dst: std::net::IpAddr,
        ty: TunnelType,
        handler: &mut H,
    ) -> Encap {
        match self.tunnels.ip_tunnel(ts, src, dst, ty) {
            Ok(e) => e,
            Err(e) => {
                self.tunnel_weird(handler, ts, weird::TUNNEL_TABLE_FULL, "IP tunnels");
                e
            }
        }
    }

    /// GRE over IP (protocol 47) or over UDP (port 4754): an IP tunnel of type GRE between
    /// the outer addresses.
    fn gre<H: FlowHandler + ?Sized>(
        &mut self,
        ts: f64,
        src: std::net::IpAddr,
        dst: std::net::IpAddr,
        payload: &[u8],
        handler: &mut H,
    ) {
        let (inner, enhanced) = match tunnel::gre(payload) {
            Ok(x) => x,
            Err(Refusal::Weird(name)) | Err(Refusal::Violation(name)) => {
                self.tunnel_weird(handler, ts, name, "");
                return;
            }
        };
        if !self.depth_ok(handler, ts, weird::EXCEEDED_TUNNEL_MAX_DEPTH) {
            return;
        }
        if enhanced {
            if let Inner::Ip(p) = inner {
                let proto = if p.first().is_some_and(|b| b >> 4 == 6) {
                    IPPROTO_IPV6
                } else {
                    IPPROTO_IPIP
                };
                if let Err(name) = check_inner_ip(proto, p) {
                    self.tunnel_weird(handler, ts, name, "");
                    return;
                }
            }
        }
        let e = self.ip_tunnel(ts, src, dst, TunnelType::Gre, handler);
        self.decapsulate(ts, e, inner, handler);
    }

    /// Zeek's `Tunnel::register_all` for the current packet's encapsulation (rare: a new
    /// connection in a tunnel, or a change of tunnel; kept out of the per-packet path).
    #[cold]
    #[inline(never)]
    fn register_tunnels<H: FlowHandler + ?Sized>(&mut self, ts: f64, handler: &mut H) {
        for i in 0..self.encap.len() {
            let Some(e) = self.encap.get(i).copied() else {
                break;
            };
            let conns = &self.conns;
            let conn_uid = |slot: u32, handle: u64| {
                conns
                    .get(slot)
                    .filter(|c| c.info.handle == handle)
                    .map(|c| c.info.uid.clone())
            };
            let full = self
                .tunnels
                .register(ts, &e, &conn_uid, &mut |r| handler.tunnel(&r));
            if let UidSource::Conn(slot, handle) = e.uid {
                if let Some(c) = self.conns.get_mut(slot).filter(|c| c.info.handle == handle) {
                    c.tunnel_hook = true;
                }
            }
            if full {
                self.weird(
                    handler,
                    None,
                    ts,
                    weird::TUNNEL_TABLE_FULL,
                    "active tunnels",
                );
            }
        }
    }

    /// A UDP datagram to a tunnel port (or whose content says Teredo or AYIYA): decapsulated
    /// as Zeek's tunnel analyzer of that type does. `conn` is the datagram's connection
    /// (slot, handle), `None` in a sharded engine that does not own it.
    #[allow(clippy::too_many_arguments)]
    fn udp_tunnel<H: FlowHandler + ?Sized>(
        &mut self,
        ts: f64,
        ty: TunnelType,
        t: &Transport<'_>,
        id: ConnId,
        conn: Option<(u32, u64)>,
        data: &[u8],
        handler: &mut H,
    ) {
        if ty == TunnelType::Gre {
            self.gre(ts, t.src, t.dst, data, handler);
            return;
        }
        let depth_weird = if ty == TunnelType::Gtpv1 {
            weird::TUNNEL_DEPTH
        } else {
            weird::EXCEEDED_TUNNEL_MAX_DEPTH
        };
        if !self.depth_ok(handler, ts, depth_weird) {
            return;
        }
        let result = match ty {
            TunnelType::Vxlan => tunnel::vxlan(data),
            TunnelType::Geneve => tunnel::geneve(data),
            TunnelType::Ayiya => tunnel::ayiya(data).map(|i| i.unwrap_or(Inner::Nothing)),
            TunnelType::Gtpv1 => {
                let in_gtp = self
                    .encap
                    .last()
                    .is_some_and(|e| e.tunnel_type == TunnelType::Gtpv1);
                tunnel::gtpv1(data, in_gtp).map(|i| i.unwrap_or(Inner::Nothing))
            }
            TunnelType::Teredo => match tunnel::teredo(data) {
                Ok((ip6, _)) => self.teredo_inner(ts, ip6, handler),
                Err(r) => Err(r),
            },
            TunnelType::Ip | TunnelType::Gre => Ok(Inner::Nothing),
        };
        let inner = match result {
            Ok(i) => i,
            Err(Refusal::Weird(name)) => {
                self.tunnel_weird(handler, ts, name, "");
                return;
            }
            Err(Refusal::Violation(_)) => {
                if let Some((slot, handle)) = conn {
                    if let Some(c) = self.conns.get_mut(slot).filter(|c| c.info.handle == handle) {
                        c.tunnel_violated = true;
                    }
                }
                return;
            }
        };
        let e = Encap {
            id,
            tunnel_type: ty,
            uid: conn.map_or(UidSource::None, |(s, h)| UidSource::Conn(s, h)),
        };
        self.decapsulate(ts, e, inner, handler);
    }

    /// The IPv6 packet of a Teredo datagram, with Zeek's checks: a bubble (no next header)
    /// followed by bytes is a weird, any other length mismatch a violation.
    fn teredo_inner<'p, H: FlowHandler + ?Sized>(
        &mut self,
        ts: f64,
        ip6: &'p [u8],
        handler: &mut H,
    ) -> Result<Inner<'p>, Refusal> {
        let plen = ip6
            .get(4..6)
            .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
        let next = ip6.get(6).copied().unwrap_or(0);
        let total = 40 + plen;
        if ip6.len() > total {
            if next == 59 && plen == 0 {
                self.tunnel_weird(handler, ts, weird::TEREDO_BUBBLE_WITH_PAYLOAD, "");
                return Ok(Inner::Ip(ip6.get(..40).unwrap_or(ip6)));
            }
            return Err(Refusal::Violation("Teredo payload length"));
        }
        if ip6.len() < total {
            return Err(Refusal::Violation(
                "Truncated Teredo or invalid inner IP version",
            ));
        }
        Ok(Inner::Ip(ip6))
    }

    fn deadline(&self, c: &Conn) -> f64 {
        match &c.tcp {
            // Like Zeek's connection linger, the close delay counts from the last packet, so
            // trailing retransmissions of a closed connection do not start a new one.
            Some(t) if t.closed => c.last_ts + self.opts.tcp_close_delay,
            Some(_) => c.last_ts + self.opts.tcp_inactivity_timeout,
            None => c.last_ts + self.opts.udp_inactivity_timeout,
        }
    }

    fn arm(&mut self, slot: u32) {
        if let Some(c) = self.conns.get(slot) {
            let at = self.deadline(c);
            self.timers.push(Timer {
                at,
                handle: c.info.handle,
                slot,
                generation: c.timer_gen,
            });
        }
    }

    /// The connection a timer is for, unless the timer is stale.
    fn timer_conn(&self, t: &Timer) -> Option<&Conn> {
        self.conns
            .get(t.slot)
            .filter(|c| c.info.handle == t.handle && c.timer_gen == t.generation)
    }

    /// Ends connections whose deadline passed; `before_end` as in [`Engine::advance`].
    fn expire<H: FlowHandler + ?Sized>(
        &mut self,
        handler: &mut H,
        before_end: &mut dyn FnMut(&mut H, f64),
    ) {
        let mut dweirds: Vec<(&'static str, String)> = Vec::new();
        self.defrag
            .expire(self.now, &mut |n, a| dweirds.push((n, a)));
        for (n, a) in dweirds {
            let now = self.now;
            self.weird(handler, None, now, n, &a);
        }
        let now = self.now;
        self.tunnels.expire(now, &mut |r| handler.tunnel(&r));
        while let Some(top) = self.timers.peek() {
            if top.at > self.now {
                break;
            }
            self.timers.pop();
            let Some(c) = self.timer_conn(&top) else {
                continue;
            };
            let due = self.deadline(c);
            if due > self.now {
                self.timers.push(Timer { at: due, ..top });
                continue;
            }
            let reason = match c.tcp.as_ref() {
                Some(t) if t.closed && t.reset => EndReason::Reset,
                Some(t) if t.closed => EndReason::Closed,
                _ => EndReason::Timeout,
            };
            if let Some(c) = self.conns.remove(top.slot) {
                before_end(handler, top.at);
                self.end(c, reason, handler);
            }
        }
        // Stale entries (from closes) pile up only until their time comes; compact if they
        // ever dominate.
        if self.timers.len() > 2 * self.conns.len() + 1024 {
            self.timers.clear();
            let slots: Vec<u32> = self.conns.slots_by_age().collect();
            for slot in slots {
                self.arm(slot);
            }
        }
    }

    /// Hands out what is left of a connection and tells the handler it ended.
    fn end<H: FlowHandler + ?Sized>(&mut self, mut c: Conn, reason: EndReason, handler: &mut H) {
        let now = self.now;
        if let Some(t) = c.tcp.as_mut() {
            for (i, dir) in t.dirs.iter_mut().enumerate() {
                if !c.stopped {
                    let mut sink = DirSink {
                        handler: &mut *handler,
                        info: &c.info,
                        is_orig: i == 0,
                        ts: now,
                        weirds: &mut self.stats.weirds,
                    };
                    dir.finish(&mut sink, &mut self.limits);
                }
                dir.stop(&mut self.limits);
            }
        }
        self.sync_tcp_stats();
        if !c.hidden {
            handler.connection_end(&c.info, now, reason);
        }
        if c.tunnel_hook {
            self.tunnels
                .connection_closed(now, &c.info.id, &mut |r| handler.tunnel(&r));
        }
    }

    /// Copies the reassemblers' shared byte counters into [`Stats`].
    fn sync_tcp_stats(&mut self) {
        let totals = self.limits.totals;
        self.stats.tcp_bytes_delivered = totals.delivered;
        self.stats.tcp_gap_bytes = totals.gap;
        self.stats.tcp_retransmitted_bytes = totals.retransmitted;
    }

    /// Removes the connection whose deadline is earliest (for connections of one protocol and
    /// state: the least recently active).
    fn evict_one<H: FlowHandler + ?Sized>(&mut self, handler: &mut H) {
        while let Some(top) = self.timers.pop() {
            let Some(c) = self.timer_conn(&top) else {
                continue;
            };
            // Timers are not moved on every packet; bring this one up to date first.
            let due = self.deadline(c);
            if due > top.at {
                self.timers.push(Timer { at: due, ..top });
                continue;
            }
            if let Some(c) = self.conns.remove(top.slot) {
                self.stats.evicted += 1;
                let now = self.now;
                let addl = weird::connection_table_full_addl(&c.info.uid);
                self.weird(
                    handler,
                    Some(&c.info),
                    now,
                    weird::CONNECTION_TABLE_FULL,
                    &addl,
                );
                self.end(c, EndReason::Evicted, handler);
            }
            return;
        }
    }

    /// Creates a connection oriented `orig` -> `resp` (tracked even when the consumer declines
    /// it); returns its slot.
    fn create<H: FlowHandler + ?Sized>(
        &mut self,
        ts: f64,
        orig: Endpoint,
        resp: Endpoint,
        proto: Proto,
        hidden: bool,
        handler: &mut H,
    ) -> Option<u32> {
        let max = self.opts.max_connections.clamp(1, MAX_TABLE_ENTRIES);
        if self.conns.len() >= max {
            self.evict_one(handler);
        }
        let slot = self.conns.next_slot()?;
        let info = ConnInfo {
            handle: self.next_handle,
            slot,
            uid: if hidden {
                self.tunnels.next_uid()
            } else {
                self.uids.next_uid('C')
            },
            id: ConnId {
                orig_h: orig.0,
                orig_p: orig.1,
                resp_h: resp.0,
                resp_p: resp.1,
            },
            proto,
            start_ts: ts,
        };
        self.next_handle += 1;
        self.stats.connections += 1;
        match proto {
            Proto::Tcp => self.stats.tcp_connections += 1,
            Proto::Udp => self.stats.udp_connections += 1,
        }
        let stopped = !hidden && handler.new_connection(&info) == Verdict::Stop;
        let conn = Conn {
            info,
            last_ts: ts,
            timer_gen: 0,
            stopped,
            tcp: (proto == Proto::Tcp).then(TcpState::default),
            hidden,
            tunnel_hook: false,
            tunnel_violated: false,
            encap_fp: self.encap_fp,
        };
        let slot = match self.conns.insert(conn) {
            Ok(slot) => slot,
            // Cannot happen (`next_slot` said there is room); end it rather than lose it.
            Err(c) => {
                self.end(c, EndReason::Evicted, handler);
                return None;
            }
        };
        self.arm(slot);
        // Zeek's `new_connection` handler of the tunnel framework.
        if !self.encap.is_empty() {
            self.register_tunnels(ts, handler);
        }
        Some(slot)
    }

    fn tcp<H: FlowHandler + ?Sized>(
        &mut self,
        ts: f64,
        t: &Transport<'_>,
        h: &TcpHeader<'_>,
        handler: &mut H,
    ) {
        let src = (t.src, h.sport);
        let dst = (t.dst, h.dport);
        if !self.owns(src, dst, IPPROTO_TCP) {
            return;
        }
        let mut found = self.conns.find(src, dst, IPPROTO_TCP);
        // A SYN on a closed connection's tuple starts a new connection (port reuse).
        if let Some(slot) = found.filter(|_| h.syn && !h.ack_flag) {
            let closed = self
                .conns
                .get(slot)
                .and_then(|c| c.tcp.as_ref())
                .is_some_and(|tc| tc.closed);
            if closed {
                if let Some(old) = self.conns.remove(slot) {
                    let reason = match old.tcp.as_ref() {
                        Some(tc) if tc.reset => EndReason::Reset,
                        _ => EndReason::Closed,
                    };
                    self.end(old, reason, handler);
                }
                found = None;
            }
        }
        let slot = match found {
            None => {
                let flip = if h.syn {
                    h.ack_flag
                } else {
                    self.likely_tcp.contains(h.sport) && !self.likely_tcp.contains(h.dport)
                };
                let (orig, resp) = if flip { (dst, src) } else { (src, dst) };
                let Some(slot) = self.create(ts, orig, resp, Proto::Tcp, false, handler) else {
                    return;
                };
                slot
            }
            Some(slot) => slot,
        };
        let encap_fp = self.encap_fp;
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        if c.encap_fp != encap_fp {
            // Zeek's `tunnel_changed` (a new connection already has the packet's encapsulation).
            c.encap_fp = encap_fp;
            if encap_fp != 0 {
                self.register_tunnels(ts, handler);
            }
        }
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        c.last_ts = c.last_ts.max(ts);
        let is_orig = c.info.id.orig_h == t.src && c.info.id.orig_p == h.sport;
        let Some(tc) = c.tcp.as_mut() else {
            return;
        };
        let (me, peer) = if is_orig { (0, 1) } else { (1, 0) };
        let syn = u32::from(h.syn);
        let data_seq = h.seq.wrapping_add(syn);
        if h.syn {
            tc.dirs[me].init(data_seq);
            if h.ack_flag {
                // The SYN-ACK tells where the other side's stream starts.
                tc.dirs[peer].init(h.ack);
            }
        } else if !h.rst || !h.payload.is_empty() {
            // A RST's sequence number is not always meaningful; do not anchor a stream on it.
            tc.dirs[me].init(h.seq);
        }
        if !c.stopped {
            if h.ack_flag && !h.rst {
                let mut sink = DirSink {
                    handler: &mut *handler,
                    info: &c.info,
                    is_orig: !is_orig,
                    ts,
                    weirds: &mut self.stats.weirds,
                };
                tc.dirs[peer].ack(h.ack, &mut sink, &mut self.limits);
            }
            if !h.payload.is_empty() && !tc.dirs[me].is_stopped() {
                let mut sink = DirSink {
                    handler: &mut *handler,
                    info: &c.info,
                    is_orig,
                    ts,
                    weirds: &mut self.stats.weirds,
                };
                tc.dirs[me].segment(data_seq, h.payload, &mut sink, &mut self.limits);
            }
            if tc.dirs.iter().any(Reassembler::is_stopped) {
                // Stop is per connection: free the other direction too.
                c.stopped = true;
                for d in tc.dirs.iter_mut() {
                    d.stop(&mut self.limits);
                }
            }
        }
        if h.fin {
            tc.dirs[me].fin(data_seq.wrapping_add(h.payload.len() as u32));
            tc.fin_seen[me] = true;
        }
        if h.rst {
            tc.reset = true;
        }
        if !tc.closed && (tc.reset || (tc.fin_seen[0] && tc.fin_seen[1])) {
            tc.closed = true;
            c.timer_gen = c.timer_gen.wrapping_add(1);
            self.arm(slot);
        }
    }

    fn udp<H: FlowHandler + ?Sized>(&mut self, ts: f64, t: &Transport<'_>, handler: &mut H) {
        let p = t.payload;
        let (Some(sport), Some(dport), Some(len)) = (be16(p, 0), be16(p, 2), be16(p, 4)) else {
            self.weird(
                handler,
                None,
                ts,
                weird::TRUNCATED_UDP_HEADER,
                &format!("{} bytes", p.len()),
            );
            return;
        };
        if p.len() < 8 {
            self.weird(
                handler,
                None,
                ts,
                weird::TRUNCATED_UDP_HEADER,
                &format!("{} bytes", p.len()),
            );
            return;
        }
        // The UDP length bounds the payload when it is plausible; a length of 0 (jumbograms)
        // or beyond the packet falls back to what the IP layer delivered.
        let end = usize::from(len);
        let data = if (8..=p.len()).contains(&end) {
            p.get(8..end)
        } else {
            p.get(8..)
        }
        .unwrap_or_default();
        let src = (t.src, sport);
        let dst = (t.dst, dport);
        let tunnels_on = self.opts.tunnel_max_depth > 0;
        if !self.owns(src, dst, IPPROTO_UDP) {
            // Another engine tracks this flow, but the connections inside a tunnel may be
            // this engine's: decapsulate without the outer connection.
            if tunnels_on {
                let resp_port =
                    if self.likely_udp.contains(sport) && !self.likely_udp.contains(dport) {
                        sport
                    } else {
                        dport
                    };
                if let Some(ty) = TunnelType::for_udp_port(resp_port) {
                    let id = ConnId {
                        orig_h: t.src,
                        orig_p: sport,
                        resp_h: t.dst,
                        resp_p: dport,
                    };
                    self.udp_tunnel(ts, ty, t, id, None, data, handler);
                }
            }
            return;
        }
        let slot = match self.conns.find(src, dst, IPPROTO_UDP) {
            Some(slot) => slot,
            None => {
                let flip = self.likely_udp.contains(sport) && !self.likely_udp.contains(dport);
                let (orig, resp) = if flip { (dst, src) } else { (src, dst) };
                let hidden = tunnels_on && TunnelType::for_udp_port(resp.1).is_some();
                let Some(slot) = self.create(ts, orig, resp, Proto::Udp, hidden, handler) else {
                    return;
                };
                slot
            }
        };
        let encap_fp = self.encap_fp;
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        if c.encap_fp != encap_fp {
            // Zeek's `tunnel_changed`, as for TCP.
            c.encap_fp = encap_fp;
            if encap_fp != 0 {
                self.register_tunnels(ts, handler);
            }
        }
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        c.last_ts = c.last_ts.max(ts);
        if tunnels_on && !c.tunnel_violated {
            // Zeek's UDP analyzer forwards by the responder's port, else to the analyzers that
            // recognise their protocol by content (Teredo, AYIYA).
            let ty = TunnelType::for_udp_port(c.info.id.resp_p).or_else(|| {
                if tunnel::looks_like_teredo(data) {
                    Some(TunnelType::Teredo)
                } else if tunnel::looks_like_ayiya(data) {
                    Some(TunnelType::Ayiya)
                } else {
                    None
                }
            });
            if let Some(ty) = ty {
                let id = c.info.id;
                let conn = Some((slot, c.info.handle));
                self.udp_tunnel(ts, ty, t, id, conn, data, handler);
                return;
            }
        }
        if c.hidden {
            return;
        }
        if c.stopped {
            return;
        }
        let is_orig = c.info.id.orig_h == t.src && c.info.id.orig_p == sport;
        self.stats.udp_bytes_delivered += data.len() as u64;
        if handler.udp_datagram(&c.info, is_orig, ts, data) == Verdict::Stop {
            c.stopped = true;
        }
    }

    /// Ends every connection (in creation order, straight from the table) and forgets pending
    /// fragments.
    pub fn finish<H: FlowHandler + ?Sized>(&mut self, handler: &mut H) {
        self.timers.clear();
        self.defrag = Defragmenter::new();
        while let Some(slot) = self.conns.oldest() {
            let Some(c) = self.conns.remove(slot) else {
                break;
            };
            self.end(c, EndReason::EndOfInput, handler);
        }
        self.tunnels.clear();
        self.sync_tcp_stats();
    }
}
