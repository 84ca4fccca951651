//! Fuzz target `tunnels`: decapsulation. The input is a sequence of packets, each put behind a
//! synthetic outer header that sends it into one of the decapsulators (IP-in-IP, GRE, or UDP to
//! a tunnel port: VXLAN, Geneve, GTPv1-U, Teredo, AYIYA, GRE over UDP, or an unregistered port
//! where Teredo and AYIYA are found by content), and run through the engine with a small
//! maximum depth chosen by the input; every decapsulation function of
//! `tls_analyzer::capture::tunnel` also gets each packet directly.
//!
//! In: `[selector: u8][len: u16 big-endian][len bytes]...` (a length beyond the end is cut).
//! The selector's low 4 bits pick the outer header, bits 4-6 the maximum depth (0-7). Out:
//! nothing; a panic, a hang, runaway allocation, a decapsulated payload that is not a part of
//! its packet, or a tunnel closed that was never discovered is the finding.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use tls_analyzer::capture::source::Frame;
use tls_analyzer::capture::tunnel::{self, Inner, TunnelAction, TunnelRecord};
use tls_analyzer::capture::{ConnInfo, Engine, FlowHandler, Options, Verdict};

/// Checks tunnel.log's invariant: a tunnel is closed or expired only while discovered.
#[derive(Default)]
struct Checker {
    active: HashSet<String>,
}

impl FlowHandler for Checker {
    fn tcp_data(&mut self, _: &ConnInfo, _: bool, _: f64, _: &[u8]) -> Verdict {
        Verdict::Continue
    }
    fn udp_datagram(&mut self, _: &ConnInfo, _: bool, _: f64, _: &[u8]) -> Verdict {
        Verdict::Continue
    }
    fn tunnel(&mut self, r: &TunnelRecord<'_>) {
        let key = format!("{:?}", r.id);
        match r.action {
            TunnelAction::Discover => assert!(self.active.insert(key), "discovered twice"),
            _ => assert!(self.active.remove(&key), "closed but never discovered"),
        }
    }
}

fn within(outer: &[u8], inner: &[u8]) {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    assert!(o.start <= i.start && i.end <= o.end, "payload outside its packet");
}

fn check_inner(outer: &[u8], inner: Inner<'_>) {
    match inner {
        Inner::Ip(p) | Inner::Ethernet(p) | Inner::Ieee80211(p) => within(outer, p),
        Inner::Nothing => {}
    }
}

/// The packet behind an outer IPv4 header (and a UDP header for the UDP tunnels).
fn outer(selector: u8, payload: &[u8]) -> Vec<u8> {
    const PORTS: [u16; 8] = [4789, 6081, 2152, 3544, 5072, 4754, 2123, 40000];
    let (proto, udp_port) = match selector & 0x0f {
        0 => (4, None),
        1 => (41, None),
        2 | 3 => (47, None),
        n => (17, Some(PORTS[usize::from(n - 4) % PORTS.len()])),
    };
    let mut body = Vec::with_capacity(payload.len() + 8);
    if let Some(port) = udp_port {
        let len = (payload.len() + 8).min(0xffff) as u16;
        body.extend_from_slice(&40001u16.to_be_bytes());
        body.extend_from_slice(&port.to_be_bytes());
        body.extend_from_slice(&len.to_be_bytes());
        body.extend_from_slice(&[0, 0]);
    }
    body.extend_from_slice(payload);
    let total = (body.len() + 20).min(0xffff) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 64, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 1]);
    p.extend_from_slice(&body);
    p
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let mut packets: Vec<(u8, &[u8])> = Vec::new();
    while let [sel, hi, lo, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        packets.push((*sel, &tail[..n]));
        rest = &tail[n..];
    }
    let depth = packets.first().map_or(4, |(s, _)| usize::from((s >> 4) & 7));
    for (_, p) in &packets {
        if let Ok((inner, _)) = tunnel::gre(p) {
            check_inner(p, inner);
        }
        for inner in [tunnel::vxlan(p), tunnel::geneve(p)].into_iter().flatten() {
            check_inner(p, inner);
        }
        if let Ok(Some(inner)) = tunnel::gtpv1(p, false) {
            check_inner(p, inner);
        }
        if let Ok(Some(inner)) = tunnel::ayiya(p) {
            check_inner(p, inner);
        }
        if let Ok((ip6, _)) = tunnel::teredo(p) {
            within(p, ip6);
        }
        let _ = tunnel::looks_like_teredo(p) || tunnel::looks_like_ayiya(p);
        let _ = tunnel::ieee802_11_payloads(p, &mut |_, q| {
            within(p, q);
            true
        });
        let _ = tunnel::geneve_options(p).count();
    }
    let mut engine = Engine::new(Options {
        seed: Some(1),
        tunnel_max_depth: depth,
        ..Options::default()
    });
    let mut checker = Checker::default();
    for (i, (sel, p)) in packets.iter().enumerate() {
        let frame = outer(*sel, p);
        engine.packet(
            Frame {
                ts: i as f64,
                linktype: 101,
                data: &frame,
            },
            &mut checker,
        );
    }
    engine.finish(&mut checker);
    // A tunnel with a connection of its own is closed when that connection ends, at the
    // latest at the end of input; only IP tunnels (ports 0) stay open.
    for k in &checker.active {
        assert!(k.contains("orig_p: 0") || k.contains("resp_p: 0"), "never closed: {k}");
    }
});
