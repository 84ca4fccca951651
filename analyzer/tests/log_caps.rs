//! Zeek's logging-framework caps on ssl.log, through the whole pipeline: a ClientHello whose
//! SNI is 5,000 bytes long gets an ssl.log row whose `server_name` holds the first 4,096 of
//! them (`Log::default_max_field_string_bytes`), and the event stream of the same run carries
//! the weird Zeek's logging framework raises while writing that row: `net_weird`
//! `log_string_field_truncated` with `addl` `SSL::LOG`. (x509.log's caps are tested in
//! `captures_x509.rs` on Zeek's 10,000-SAN certificate.)
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "capture_util.rs"]
mod util;

use serde_json::Value;
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, EventFormat, LogFormat, Outputs, RunOptions};
use util::{pcap, tcp_ip, v4, wrap, Link};

/// A TLS 1.2 ClientHello record offering one cipher suite, with a server_name extension of one
/// host name of `sni_len` bytes.
fn client_hello(sni_len: usize) -> Vec<u8> {
    let name = vec![b'a'; sni_len];
    let mut sni = Vec::new();
    sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes()); // server_name_list
    sni.push(0); // host_name
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(&name);
    let mut ext = vec![0, 0]; // server_name
    ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    ext.extend_from_slice(&sni);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0xc0, 0x2f]); // one cipher suite
    body.extend_from_slice(&[1, 0]); // null compression
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// The connection: TCP handshake, the ClientHello, FIN both ways.
fn capture(sni_len: usize) -> Vec<u8> {
    let (a, b) = (v4(1), v4(2));
    let (c, s) = (1000u32, 5000u32);
    let hello = client_hello(sni_len);
    let n = hello.len() as u32;
    let packets = [
        (1.0, tcp_ip(a, b, 40000, 443, c, 0, "S", b"")),
        (1.1, tcp_ip(b, a, 443, 40000, s, c + 1, "SA", b"")),
        (1.2, tcp_ip(a, b, 40000, 443, c + 1, s + 1, "A", b"")),
        (1.3, tcp_ip(a, b, 40000, 443, c + 1, s + 1, "PA", &hello)),
        (1.4, tcp_ip(b, a, 443, 40000, s + 1, c + 1 + n, "FA", b"")),
        (1.5, tcp_ip(a, b, 40000, 443, c + 1 + n, s + 2, "FA", b"")),
    ];
    let linktype = wrap(Link::Ethernet, &packets[0].1).0;
    let frames: Vec<(f64, Vec<u8>)> = packets
        .iter()
        .map(|(t, ip)| (*t, wrap(Link::Ethernet, ip).1))
        .collect();
    pcap(linktype, false, false, &frames)
}

/// Events (JSON) and ssl.log rows of one run.
fn analyse(sni_len: usize) -> (Vec<Value>, Vec<Value>) {
    analyse_with(sni_len, 1)
}

/// [`analyse`] with `threads` worker threads.
fn analyse_with(sni_len: usize, threads: usize) -> (Vec<Value>, Vec<Value>) {
    let (mut events, mut log) = (Vec::new(), Vec::new());
    let mut opts = RunOptions {
        threads,
        ..RunOptions::default()
    };
    opts.capture.seed = Some(3);
    run(
        &[Input::Memory("sni".into(), capture(sni_len))],
        &opts,
        Outputs {
            events: Some((EventFormat::Json, &mut events)),
            log: Some((LogFormat::Json, &mut log)),
        },
    )
    .unwrap();
    let parse = |b: Vec<u8>| -> Vec<Value> {
        String::from_utf8(b)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    (parse(events), parse(log))
}

#[test]
fn an_sni_over_4096_bytes_is_cut_in_ssl_log_with_zeeks_weird() {
    let (events, rows) = analyse(5000);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["server_name"].as_str().unwrap().len(), 4096);
    // The event itself carries the whole name: only the log is capped.
    let sni = events
        .iter()
        .find(|e| e["event"] == "ssl_extension_server_name")
        .unwrap();
    assert_eq!(sni["args"]["names"][0].as_str().unwrap().len(), 5000);
    let weirds: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "net_weird")
        .collect();
    assert_eq!(weirds.len(), 1, "{weirds:?}");
    assert_eq!(weirds[0]["args"]["name"], "log_string_field_truncated");
    assert_eq!(weirds[0]["args"]["addl"], "SSL::LOG");
    assert!(weirds[0].get("uid").is_none(), "a weird of no connection");
}

#[test]
fn the_weird_is_the_same_with_threads() {
    assert_eq!(analyse_with(5000, 2), analyse_with(5000, 1));
}

#[test]
fn an_sni_of_4096_bytes_is_logged_whole() {
    let (events, rows) = analyse(4096);
    assert_eq!(rows[0]["server_name"].as_str().unwrap().len(), 4096);
    assert!(!events.iter().any(|e| e["event"] == "net_weird"));
}
