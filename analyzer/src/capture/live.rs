//! Live capture: network interfaces in, timestamped link-layer frames out (`-i IFACE`).
//!
//! In: [`LiveOptions`] (interface names, a BPF filter in tcpdump's syntax, a snap length).
//! Out: [`Frame`]s with the kernel's timestamps, handed to a callback as they arrive
//! ([`LiveSource::poll`]), and per-interface counters of packets received and dropped
//! ([`LiveSource::stats`]).
//!
//! The packet source is libpcap, through the `pcap` crate (cargo feature `live`; it links the
//! system's libpcap, `apt-get install libpcap-dev`): it compiles tcpdump's filter language to
//! the kernel's BPF, reads Linux's TPACKET_V3 ring and keeps the kernel's and the interface's drop
//! counters, which is everything a sensor needs from a packet source and more than the pure-Rust
//! AF_PACKET crates offer (none compiles tcpdump filters). In a build without the feature every
//! type here still exists, and [`LiveSource::open`] says how to get a build that captures.
//!
//! Interfaces are read in turn, each handle non-blocking, and [`LiveSource::poll`] sleeps
//! [`IDLE_SLEEP_MS`] when none had a packet: a busy interface is never held up by an idle one,
//! and the caller regains control (signals, timers, rotation) at once. (A blocking read would
//! not do: libpcap 1.10 keeps polling past its timeout until `pcap_breakloop`, which a signal
//! handler cannot call safely.)

use std::fmt;

use super::source::Frame;

/// Default snap length, tcpdump's and Zeek's (the whole frame, TSO super-frames included).
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// Pause when no interface had a packet, in milliseconds: what a packet may wait in the kernel
/// buffer on a quiet link (the buffer holds far more than a millisecond of a busy one).
pub const IDLE_SLEEP_MS: u64 = 1;

/// TPACKET_V3 block timeout (libpcap's read timeout), in milliseconds: how long a packet may
/// wait in a block that is not full yet, the latency on a quiet link.
pub const BLOCK_TIMEOUT_MS: i32 = 10;

/// Frames read from one interface before the next interface (or the caller) gets its turn.
pub const POLL_BATCH: usize = 256;

/// Kernel receive buffer per interface, in bytes: libpcap's ring. 32 MiB holds a third of a
/// second of a saturated gigabit link, enough to absorb a slow handshake burst.
pub const DEFAULT_BUFFER_BYTES: u32 = 32 << 20;

/// What to capture.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Interface names (`-i`), at least one.
    pub interfaces: Vec<String>,
    /// A BPF filter in tcpdump's syntax (`-f`), applied in the kernel.
    pub filter: Option<String>,
    /// Bytes kept of each frame (`--snaplen`).
    pub snaplen: u32,
    /// Kernel buffer per interface, in bytes.
    pub buffer_bytes: u32,
    /// Put the interfaces in promiscuous mode (as tcpdump and Zeek do by default).
    pub promisc: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            interfaces: Vec::new(),
            filter: None,
            snaplen: DEFAULT_SNAPLEN,
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            promisc: true,
        }
    }
}

/// Packet counters of one interface since it was opened, as libpcap reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfaceStats {
    /// The interface's name.
    pub name: String,
    /// Packets the kernel passed the filter (libpcap's `ps_recv`).
    pub received: u64,
    /// Packets the kernel dropped because its buffer was full: the analyzer fell behind
    /// (`ps_drop`).
    pub dropped: u64,
    /// Packets the interface or its driver dropped (`ps_ifdrop`).
    pub if_dropped: u64,
}

impl IfaceStats {
    /// Adds `other`'s counters to these.
    pub fn add(&mut self, other: &IfaceStats) {
        self.received += other.received;
        self.dropped += other.dropped;
        self.if_dropped += other.if_dropped;
    }
}

/// Why live capture failed.
#[derive(Debug)]
pub enum LiveError {
    /// This build has no live capture (cargo feature `live` off).
    NotBuilt,
    /// An interface could not be opened (no such interface, no permission, ...).
    Open {
        /// The interface.
        iface: String,
        /// libpcap's message.
        msg: String,
    },
    /// The filter does not compile.
    Filter {
        /// The interface it was set on.
        iface: String,
        /// libpcap's message.
        msg: String,
    },
    /// Reading failed (the interface went away, ...).
    Read {
        /// The interface.
        iface: String,
        /// libpcap's message.
        msg: String,
    },
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::NotBuilt => write!(
                f,
                "this tls-analyzer was built without live capture (-i); install libpcap's \
                 development files (apt-get install libpcap-dev) and rebuild with \
                 `cargo build --release --features live`"
            ),
            LiveError::Open { iface, msg } if is_permission(msg) => write!(
                f,
                "cannot capture on {iface}: {msg} (live capture needs root or the \
                 CAP_NET_RAW and CAP_NET_ADMIN capabilities)"
            ),
            LiveError::Open { iface, msg } => write!(f, "cannot capture on {iface}: {msg}"),
            LiveError::Filter { iface, msg } => {
                write!(f, "bad capture filter (on {iface}): {msg}")
            }
            LiveError::Read { iface, msg } => write!(f, "capture on {iface} failed: {msg}"),
        }
    }
}

impl std::error::Error for LiveError {}

/// Whether libpcap's message is about privileges.
fn is_permission(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("permission") || m.contains("not permitted")
}

#[cfg(feature = "live")]
mod imp {
    use super::*;
    use pcap::{Active, Capture};

    /// One open interface.
    struct Handle {
        name: String,
        cap: Capture<Active>,
        /// The link type as the capture layer numbers it.
        linktype: u32,
    }

    /// Open interfaces, read in turn; see the module docs.
    pub struct LiveSource {
        handles: Vec<Handle>,
        /// Index of the handle read first in the next round (fairness between interfaces).
        next: usize,
    }

    impl LiveSource {
        /// Opens every interface of `opts` with its filter.
        pub fn open(opts: &LiveOptions) -> Result<LiveSource, LiveError> {
            let mut handles = Vec::with_capacity(opts.interfaces.len());
            for name in &opts.interfaces {
                let open_err = |e: pcap::Error| LiveError::Open {
                    iface: name.clone(),
                    msg: e.to_string(),
                };
                let clamp = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
                let cap = Capture::from_device(name.as_str())
                    .map_err(open_err)?
                    .promisc(opts.promisc)
                    .snaplen(clamp(opts.snaplen))
                    .buffer_size(clamp(opts.buffer_bytes))
                    // Not immediate mode: libpcap then uses TPACKET_V3, whose blocks hold
                    // packets at their own size; immediate mode falls back to TPACKET_V2,
                    // whose slots are sized for the snap length (128 of them in 32 MiB at
                    // 256 KiB), and dropped 42 % of a 250 kpps flood on lo that V3 takes
                    // (docs/PERFORMANCE.md). A block is handed over when full or after
                    // BLOCK_TIMEOUT_MS.
                    .timeout(BLOCK_TIMEOUT_MS)
                    .open()
                    .map_err(open_err)?;
                let mut cap = cap.setnonblock().map_err(open_err)?;
                if let Some(filter) = opts.filter.as_deref() {
                    cap.filter(filter, true).map_err(|e| LiveError::Filter {
                        iface: name.clone(),
                        msg: e.to_string(),
                    })?;
                }
                let linktype = u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX);
                handles.push(Handle {
                    name: name.clone(),
                    cap,
                    linktype,
                });
            }
            Ok(LiveSource { handles, next: 0 })
        }

        /// Reads the frames available now (up to [`POLL_BATCH`] per interface) and hands each
        /// to `f`; when there are none, waits a little first (see the module docs). Returns
        /// the number of frames handed over.
        pub fn poll(&mut self, f: &mut dyn FnMut(Frame<'_>)) -> Result<usize, LiveError> {
            let n = self.handles.len();
            let mut got = 0;
            for k in 0..n {
                let i = (self.next + k) % n;
                let Some(h) = self.handles.get_mut(i) else {
                    continue;
                };
                for _ in 0..POLL_BATCH {
                    match h.cap.next_packet() {
                        Ok(p) => {
                            let ts = p.header.ts.tv_sec as f64
                                + p.header.ts.tv_usec as f64 / 1_000_000.0;
                            f(Frame {
                                ts,
                                linktype: h.linktype,
                                data: p.data,
                            });
                            got += 1;
                        }
                        Err(pcap::Error::TimeoutExpired) => break,
                        Err(e) => {
                            return Err(LiveError::Read {
                                iface: h.name.clone(),
                                msg: e.to_string(),
                            })
                        }
                    }
                }
            }
            self.next = (self.next + 1) % n.max(1);
            if got == 0 {
                std::thread::sleep(std::time::Duration::from_millis(IDLE_SLEEP_MS));
            }
            Ok(got)
        }

        /// Counters of every interface since it was opened.
        pub fn stats(&mut self) -> Vec<IfaceStats> {
            self.handles
                .iter_mut()
                .map(|h| {
                    let s = h.cap.stats().unwrap_or(pcap::Stat {
                        received: 0,
                        dropped: 0,
                        if_dropped: 0,
                    });
                    IfaceStats {
                        name: h.name.clone(),
                        received: u64::from(s.received),
                        dropped: u64::from(s.dropped),
                        if_dropped: u64::from(s.if_dropped),
                    }
                })
                .collect()
        }
    }
}

/// `--threads N` on live interfaces: N AF_PACKET sockets per interface in one fanout group
/// each, with the kernel's symmetric flow hash; see [`FanoutWorker`].
#[cfg(feature = "live")]
mod fanout {
    use super::*;
    use netring::{BpfFilter, BpfInsn, Capture, FanoutFlags, FanoutMode, PacketDirection};

    /// TPACKET_V3 block retirement timeout: how long a packet may wait in a block that is not
    /// full yet (the ring's latency on a quiet link).
    const BLOCK_TIMEOUT_MS: u32 = 10;
    /// Ring blocks handed over per interface and poll before the next interface's turn.
    const BATCHES_PER_POLL: usize = 4;

    /// One interface's socket of one worker.
    struct Member {
        name: String,
        cap: Capture,
        /// libpcap's rule, kept: on a loopback device every packet shows up twice, once
        /// outgoing and once incoming; only the incoming copy is analysed.
        loopback: bool,
        /// The interface's `rx_dropped` when the capture started (worker 0 reports the
        /// difference: it is the interface's, not a socket's).
        if_dropped_base: Option<u64>,
    }

    /// One worker's sockets, one per interface; each is a member of its interface's fanout
    /// group, so the kernel hands this worker every packet of the flows it hashes to it (both
    /// directions: `PACKET_FANOUT_HASH` hashes with `__skb_get_hash_symmetric`, which orders
    /// the addresses and ports first) and no other. `PACKET_FANOUT_FLAG_DEFRAG` reassembles IP
    /// fragments before hashing, so that a fragment without ports lands with its flow.
    pub struct FanoutWorker {
        members: Vec<Member>,
        next: usize,
    }

    /// The filter compiled by libpcap for Ethernet frames, as raw BPF for the sockets.
    fn compile(filter: &str, iface: &str) -> Result<BpfFilter, LiveError> {
        let bad = |msg: String| LiveError::Filter {
            iface: iface.to_owned(),
            msg,
        };
        let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).map_err(|e| bad(e.to_string()))?;
        let program = dead.compile(filter, true).map_err(|e| bad(e.to_string()))?;
        // The pcap crate shows an instruction only as text, "code jt jf k".
        let insns = program
            .get_instructions()
            .iter()
            .map(|i| {
                let text = i.to_string();
                let v: Vec<u32> = text.split(' ').filter_map(|w| w.parse().ok()).collect();
                match v.as_slice() {
                    [code, jt, jf, k] => Ok(BpfInsn {
                        code: u16::try_from(*code).map_err(|e| bad(e.to_string()))?,
                        jt: u8::try_from(*jt).map_err(|e| bad(e.to_string()))?,
                        jf: u8::try_from(*jf).map_err(|e| bad(e.to_string()))?,
                        k: *k,
                    }),
                    _ => Err(bad(format!("unreadable BPF instruction {text:?}"))),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        BpfFilter::new(insns).map_err(|e| bad(e.to_string()))
    }

    /// `/sys/class/net/IFACE/<file>` as a number.
    fn sysfs(iface: &str, file: &str) -> Option<u64> {
        std::fs::read_to_string(format!("/sys/class/net/{iface}/{file}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Opens `workers` sockets on every interface of `opts`, one fanout group per interface,
    /// and returns one [`FanoutWorker`] per socket index.
    pub fn open_fanout(opts: &LiveOptions, workers: usize) -> Result<Vec<FanoutWorker>, LiveError> {
        let mut out: Vec<FanoutWorker> = (0..workers)
            .map(|_| FanoutWorker {
                members: Vec::new(),
                next: 0,
            })
            .collect();
        // Fanout groups are per network namespace: one id per interface and process.
        let base = (std::process::id() as u16).wrapping_mul(31);
        for (k, name) in opts.interfaces.iter().enumerate() {
            let open_err = |msg: String| LiveError::Open {
                iface: name.clone(),
                msg,
            };
            // ARPHRD_ETHER (1) and ARPHRD_LOOPBACK (772) carry Ethernet frames, which the
            // filter is compiled for and the link layer expects.
            let arphrd =
                sysfs(name, "type").ok_or_else(|| open_err("No such device exists".into()))?;
            if arphrd != 1 && arphrd != 772 {
                return Err(open_err(format!(
                    "--threads above 1 needs an Ethernet interface (ARPHRD {arphrd})"
                )));
            }
            let filter = opts
                .filter
                .as_deref()
                .map(|f| compile(f, name))
                .transpose()?;
            let group = base.wrapping_add(k as u16);
            let if_dropped_base = sysfs(name, "statistics/rx_dropped");
            for (w, worker) in out.iter_mut().enumerate() {
                let mut b = Capture::builder()
                    .interface(name)
                    .snap_len(opts.snaplen)
                    .promiscuous(opts.promisc)
                    .block_timeout_ms(BLOCK_TIMEOUT_MS)
                    .fanout(FanoutMode::Hash, group)
                    .fanout_flags(FanoutFlags::DEFRAG);
                if let Some(f) = filter.clone() {
                    b = b.bpf_filter(f);
                }
                let cap = b.build().map_err(|e| open_err(error_chain(&e)))?;
                worker.members.push(Member {
                    name: name.clone(),
                    cap,
                    loopback: arphrd == 772,
                    if_dropped_base: if w == 0 { if_dropped_base } else { None },
                });
            }
        }
        Ok(out)
    }

    /// An error with its sources, as one line.
    fn error_chain(e: &dyn std::error::Error) -> String {
        let mut s = e.to_string();
        let mut cur = e.source();
        while let Some(c) = cur {
            s.push_str(": ");
            s.push_str(&c.to_string());
            cur = c.source();
        }
        s
    }

    impl FanoutWorker {
        /// As [`LiveSource::poll`]: the frames available now, or a short sleep.
        pub fn poll(&mut self, f: &mut dyn FnMut(Frame<'_>)) -> Result<usize, LiveError> {
            let n = self.members.len();
            let mut got = 0;
            for k in 0..n {
                let i = (self.next + k) % n;
                let Some(m) = self.members.get_mut(i) else {
                    continue;
                };
                for _ in 0..BATCHES_PER_POLL {
                    let Some(batch) = m.cap.next_batch() else {
                        break;
                    };
                    for p in &batch {
                        if m.loopback && p.direction() == PacketDirection::Outgoing {
                            continue;
                        }
                        let t = p.timestamp();
                        // Microseconds, as libpcap and capture files give them.
                        let ts = f64::from(t.sec) + f64::from(t.nsec / 1000) / 1_000_000.0;
                        f(Frame {
                            ts,
                            linktype: 1,
                            data: p.data(),
                        });
                        got += 1;
                    }
                }
            }
            self.next = (self.next + 1) % n.max(1);
            if got == 0 {
                std::thread::sleep(std::time::Duration::from_millis(IDLE_SLEEP_MS));
            }
            Ok(got)
        }

        /// This worker's counters per interface: its socket's packets and kernel drops; the
        /// interface's own drops are reported by worker 0 only.
        pub fn stats(&mut self) -> Vec<IfaceStats> {
            self.members
                .iter()
                .map(|m| {
                    let s = m.cap.cumulative_stats().ok();
                    let if_dropped = m.if_dropped_base.map_or(0, |base| {
                        sysfs(&m.name, "statistics/rx_dropped")
                            .unwrap_or(base)
                            .saturating_sub(base)
                    });
                    IfaceStats {
                        name: m.name.clone(),
                        received: s.map_or(0, |s| u64::from(s.packets)),
                        dropped: s.map_or(0, |s| u64::from(s.drops)),
                        if_dropped,
                    }
                })
                .collect()
        }
    }
}

#[cfg(feature = "live")]
pub use fanout::{open_fanout, FanoutWorker};

#[cfg(not(feature = "live"))]
mod imp {
    use super::*;

    /// Live capture in a build without it: opening says how to get it.
    pub struct LiveSource {
        _none: (),
    }

    impl LiveSource {
        /// Always [`LiveError::NotBuilt`].
        pub fn open(_opts: &LiveOptions) -> Result<LiveSource, LiveError> {
            Err(LiveError::NotBuilt)
        }

        /// Never called: there is no source to poll.
        pub fn poll(&mut self, _f: &mut dyn FnMut(Frame<'_>)) -> Result<usize, LiveError> {
            Err(LiveError::NotBuilt)
        }

        /// No interfaces, no counters.
        pub fn stats(&mut self) -> Vec<IfaceStats> {
            Vec::new()
        }
    }
}

pub use imp::LiveSource;

/// Whether this build can capture live (cargo feature `live`).
pub const AVAILABLE: bool = cfg!(feature = "live");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_to_do() {
        let not_built = LiveError::NotBuilt.to_string();
        assert!(not_built.contains("libpcap-dev"), "{not_built}");
        assert!(not_built.contains("--features live"), "{not_built}");
        let perm = LiveError::Open {
            iface: "eth0".into(),
            msg: "eth0: You don't have permission to perform this capture on that device".into(),
        }
        .to_string();
        assert!(perm.contains("CAP_NET_RAW"), "{perm}");
        let missing = LiveError::Open {
            iface: "nosuch0".into(),
            msg: "No such device exists".into(),
        }
        .to_string();
        assert!(!missing.contains("CAP_NET_RAW"), "{missing}");
    }

    #[test]
    fn stats_add_up() {
        let mut total = IfaceStats::default();
        let one = IfaceStats {
            name: "lo".into(),
            received: 10,
            dropped: 2,
            if_dropped: 1,
        };
        total.add(&one);
        total.add(&one);
        assert_eq!(
            (total.received, total.dropped, total.if_dropped),
            (20, 4, 2)
        );
    }
}
