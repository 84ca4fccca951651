//! Helpers shared by the `capture_*` tests (included with `#[path]`): packets built with
//! etherparse, wrapped in hand-made link headers, written as pcap/pcapng bytes, and a handler
//! that records every call.
#![allow(dead_code)]

use std::net::IpAddr;

use etherparse::PacketBuilder;
use tls_analyzer::capture::{
    self, CaptureError, ConnInfo, EndReason, FlowHandler, Input, Options, Stats, Verdict,
};

/// A raw IPv4/IPv6 packet with a TCP segment. `flags`: any of `S A F R P`.
#[allow(clippy::too_many_arguments)]
pub fn tcp_ip(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: &str,
    payload: &[u8],
) -> Vec<u8> {
    let step = match (src, dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
        (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
        _ => panic!("mixed address families"),
    };
    let mut t = step.tcp(sport, dport, seq, 65535);
    if flags.contains('S') {
        t = t.syn();
    }
    if flags.contains('A') {
        t = t.ack(ack);
    }
    if flags.contains('F') {
        t = t.fin();
    }
    if flags.contains('R') {
        t = t.rst();
    }
    if flags.contains('P') {
        t = t.psh();
    }
    let mut out = Vec::new();
    t.write(&mut out, payload).expect("build tcp packet");
    out
}

/// A raw IPv4/IPv6 packet with a UDP datagram.
pub fn udp_ip(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let step = match (src, dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
        (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
        _ => panic!("mixed address families"),
    };
    let mut out = Vec::new();
    step.udp(sport, dport)
        .write(&mut out, payload)
        .expect("build udp packet");
    out
}

/// Link layers the tests wrap packets in.
#[derive(Debug, Clone, Copy)]
pub enum Link {
    Ethernet,
    /// Ethernet with this many 802.1Q/802.1ad tags.
    Vlan(usize),
    Sll,
    Sll2,
    /// Raw IP under this link type (101, 12, 14, 228, 229).
    Raw(u32),
    /// BSD null, family in little- or big-endian order.
    Null {
        big_endian: bool,
    },
    Loop,
    Ppp,
}

fn version(ip: &[u8]) -> u8 {
    ip[0] >> 4
}

/// Wraps a raw IP packet; returns the link type and the frame.
pub fn wrap(link: Link, ip: &[u8]) -> (u32, Vec<u8>) {
    let v6 = version(ip) == 6;
    let ethertype: [u8; 2] = if v6 { [0x86, 0xdd] } else { [0x08, 0x00] };
    let mut f = Vec::new();
    let lt = match link {
        Link::Ethernet | Link::Vlan(_) => {
            f.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
            if let Link::Vlan(n) = link {
                for i in 0..n {
                    let tpid: [u8; 2] = if i + 1 < n {
                        [0x88, 0xa8]
                    } else {
                        [0x81, 0x00]
                    };
                    f.extend_from_slice(&tpid);
                    f.extend_from_slice(&[0x00, (i + 1) as u8]);
                }
            }
            f.extend_from_slice(&ethertype);
            1
        }
        Link::Sll => {
            f.extend_from_slice(&[0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            f.extend_from_slice(&ethertype);
            113
        }
        Link::Sll2 => {
            f.extend_from_slice(&ethertype);
            f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            276
        }
        Link::Raw(lt) => lt,
        Link::Null { big_endian } => {
            let fam: u32 = if v6 { 30 } else { 2 };
            if big_endian {
                f.extend_from_slice(&fam.to_be_bytes());
            } else {
                f.extend_from_slice(&fam.to_le_bytes());
            }
            0
        }
        Link::Loop => {
            let fam: u32 = if v6 { 24 } else { 2 };
            f.extend_from_slice(&fam.to_be_bytes());
            108
        }
        Link::Ppp => {
            f.extend_from_slice(&[0xff, 0x03]);
            f.extend_from_slice(if v6 { &[0x00, 0x57] } else { &[0x00, 0x21] });
            9
        }
    };
    f.extend_from_slice(ip);
    (lt, f)
}

/// A classic pcap file.
pub fn pcap(linktype: u32, big_endian: bool, nano: bool, packets: &[(f64, Vec<u8>)]) -> Vec<u8> {
    pcap_with_snaplen(linktype, big_endian, nano, 65535, packets)
}

/// A classic pcap file with a chosen snap length in its header.
pub fn pcap_with_snaplen(
    linktype: u32,
    big_endian: bool,
    nano: bool,
    snaplen: u32,
    packets: &[(f64, Vec<u8>)],
) -> Vec<u8> {
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    out.extend_from_slice(&u32b(if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    out.extend_from_slice(&u16b(2));
    out.extend_from_slice(&u16b(4));
    out.extend_from_slice(&u32b(0));
    out.extend_from_slice(&u32b(0));
    out.extend_from_slice(&u32b(snaplen));
    out.extend_from_slice(&u32b(linktype));
    for (ts, data) in packets {
        let secs = ts.floor();
        let frac = if nano {
            ((ts - secs) * 1e9).round() as u32
        } else {
            ((ts - secs) * 1e6).round() as u32
        };
        out.extend_from_slice(&u32b(secs as u32));
        out.extend_from_slice(&u32b(frac));
        out.extend_from_slice(&u32b(data.len() as u32));
        out.extend_from_slice(&u32b(data.len() as u32));
        out.extend_from_slice(data);
    }
    out
}

fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let mut body = body.to_vec();
    while body.len() & 3 != 0 {
        body.push(0);
    }
    let len = (12 + body.len()) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&len.to_le_bytes());
}

/// A little-endian pcapng file: interfaces (link type, if_tsresol) and packets
/// (interface, timestamp, frame).
pub fn pcapng(interfaces: &[(u32, u8)], packets: &[(u32, f64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    for &(lt, tsresol) in interfaces {
        let mut idb = Vec::new();
        idb.extend_from_slice(&(lt as u16).to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes());
        idb.extend_from_slice(&9u16.to_le_bytes());
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&[tsresol, 0, 0, 0]);
        idb.extend_from_slice(&[0, 0, 0, 0]);
        block(&mut out, 1, &idb);
    }
    for (iface, ts, data) in packets {
        let res = 10f64.powi(i32::from(interfaces[*iface as usize].1));
        let raw = (ts * res).round() as u64;
        let mut epb = Vec::new();
        epb.extend_from_slice(&iface.to_le_bytes());
        epb.extend_from_slice(&((raw >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(raw as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(data);
        block(&mut out, 6, &epb);
    }
    out
}

/// Gzip-compresses bytes.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// One handler call.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    New(ConnInfo),
    Data {
        handle: u64,
        is_orig: bool,
        ts: f64,
        data: Vec<u8>,
    },
    Gap {
        handle: u64,
        is_orig: bool,
        len: u64,
    },
    Udp {
        handle: u64,
        is_orig: bool,
        ts: f64,
        data: Vec<u8>,
    },
    End {
        handle: u64,
        ts: f64,
        reason: EndReason,
    },
    Weird {
        handle: Option<u64>,
        name: &'static str,
    },
}

/// Records every call; can be told to stop a connection after some deliveries.
#[derive(Debug, Default)]
pub struct Recorder {
    pub events: Vec<Ev>,
    /// Return `Stop` once this many data deliveries were made on a connection.
    pub stop_after: Option<usize>,
    pub deliveries: std::collections::HashMap<u64, usize>,
}

impl Recorder {
    fn verdict(&mut self, handle: u64) -> Verdict {
        let n = self.deliveries.entry(handle).or_default();
        *n += 1;
        match self.stop_after {
            Some(limit) if *n >= limit => Verdict::Stop,
            _ => Verdict::Continue,
        }
    }

    /// Connections in creation order.
    pub fn conns(&self) -> Vec<ConnInfo> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::New(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    /// One direction's stream, gaps shown as `<gap N>`.
    pub fn stream(&self, handle: u64, orig: bool) -> String {
        let mut s = String::new();
        for e in &self.events {
            match e {
                Ev::Data {
                    handle: h,
                    is_orig,
                    data,
                    ..
                }
                | Ev::Udp {
                    handle: h,
                    is_orig,
                    data,
                    ..
                } if *h == handle && *is_orig == orig => {
                    s.push_str(&String::from_utf8_lossy(data));
                }
                Ev::Gap {
                    handle: h,
                    is_orig,
                    len,
                } if *h == handle && *is_orig == orig => s.push_str(&format!("<gap {len}>")),
                _ => {}
            }
        }
        s
    }

    /// Names of the weirds raised.
    pub fn weirds(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::Weird { name, .. } => Some(*name),
                _ => None,
            })
            .collect()
    }

    /// (handle, reason) of every connection end.
    pub fn ends(&self) -> Vec<(u64, EndReason)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::End { handle, reason, .. } => Some((*handle, *reason)),
                _ => None,
            })
            .collect()
    }
}

impl FlowHandler for Recorder {
    fn new_connection(&mut self, c: &ConnInfo) -> Verdict {
        self.events.push(Ev::New(c.clone()));
        Verdict::Continue
    }
    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.events.push(Ev::Data {
            handle: c.handle,
            is_orig,
            ts,
            data: data.to_vec(),
        });
        self.verdict(c.handle)
    }
    fn tcp_gap(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, len: u64) -> Verdict {
        self.events.push(Ev::Gap {
            handle: c.handle,
            is_orig,
            len,
        });
        Verdict::Continue
    }
    fn udp_datagram(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.events.push(Ev::Udp {
            handle: c.handle,
            is_orig,
            ts,
            data: data.to_vec(),
        });
        self.verdict(c.handle)
    }
    fn connection_end(&mut self, c: &ConnInfo, ts: f64, reason: EndReason) {
        self.events.push(Ev::End {
            handle: c.handle,
            ts,
            reason,
        });
    }
    fn weird(&mut self, c: Option<&ConnInfo>, _ts: f64, name: &'static str, _addl: &str) {
        self.events.push(Ev::Weird {
            handle: c.map(|c| c.handle),
            name,
        });
    }
}

/// Options with a fixed seed.
pub fn seeded() -> Options {
    Options {
        seed: Some(7),
        ..Options::default()
    }
}

/// Runs the front end over in-memory captures.
pub fn run_bytes(files: &[Vec<u8>], opts: &Options) -> (Recorder, Result<Stats, CaptureError>) {
    let inputs: Vec<Input> = files
        .iter()
        .enumerate()
        .map(|(i, b)| Input::Memory(format!("mem{i}"), b.clone()))
        .collect();
    let mut rec = Recorder::default();
    let res = capture::run(&inputs, opts, &mut rec);
    (rec, res)
}

pub fn v4(last: u8) -> IpAddr {
    IpAddr::from([10, 0, 0, last])
}

pub fn v6(last: u16) -> IpAddr {
    IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, last])
}

/// A complete little TCP conversation (client `a`:40000 -> server `b`:443) as raw IP packets
/// with timestamps: handshake, "hello" / "world", FIN both ways, final ACK.
pub fn conversation(a: IpAddr, b: IpAddr, t0: f64) -> Vec<(f64, Vec<u8>)> {
    let (c, s) = (1000u32, 5000u32);
    vec![
        (t0, tcp_ip(a, b, 40000, 443, c, 0, "S", b"")),
        (t0 + 0.1, tcp_ip(b, a, 443, 40000, s, c + 1, "SA", b"")),
        (t0 + 0.2, tcp_ip(a, b, 40000, 443, c + 1, s + 1, "A", b"")),
        (
            t0 + 0.3,
            tcp_ip(a, b, 40000, 443, c + 1, s + 1, "PA", b"hello"),
        ),
        (
            t0 + 0.4,
            tcp_ip(b, a, 443, 40000, s + 1, c + 6, "PA", b"world"),
        ),
        (t0 + 0.5, tcp_ip(a, b, 40000, 443, c + 6, s + 6, "FA", b"")),
        (t0 + 0.6, tcp_ip(b, a, 443, 40000, s + 6, c + 7, "FA", b"")),
        (t0 + 0.7, tcp_ip(a, b, 40000, 443, c + 7, s + 7, "A", b"")),
    ]
}
