//! GridFTP's GSI exchange end to end: a real TLS handshake (one of `tests/captures/`) replayed
//! inside an FTP control connection as base64 `ADAT` tokens, the way Globus tunnels it, gives the
//! same SSL events and ssl.log values as the handshake sent directly over TCP; and the FTP
//! exchange around it is not mistaken for TLS.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "capture_util.rs"]
mod util;

use std::path::Path;

use serde_json::Value;
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, EventFormat, LogFormat, Outputs, RunOptions};
use util::{pcap, run_bytes, seeded, tcp_ip, v4, wrap, Ev, Link};

/// Standard base64 with padding (RFC 4648 §4).
fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            s.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
        }
        for _ in chunk.len()..3 {
            s.push('=');
        }
    }
    s
}

/// The TCP deliveries of the capture's (only) connection, in order: (is_orig, bytes).
fn deliveries(capture: &[u8]) -> Vec<(bool, Vec<u8>)> {
    let (rec, res) = run_bytes(&[capture.to_vec()], &seeded());
    res.unwrap();
    rec.events
        .iter()
        .filter_map(|e| match e {
            Ev::Data { is_orig, data, .. } => Some((*is_orig, data.clone())),
            _ => None,
        })
        .collect()
}

/// An FTP control connection (client 10.0.0.1:40000, server 10.0.0.2:2811) with these lines,
/// one segment each: `(from_client, line)`.
fn ftp_capture(lines: &[(bool, String)]) -> Vec<u8> {
    let (a, b) = (v4(1), v4(2));
    let (mut c, mut s) = (1000u32, 5000u32);
    let mut t = 1.0;
    let mut packets = vec![
        (t, tcp_ip(a, b, 40000, 2811, c, 0, "S", b"")),
        (t + 0.01, tcp_ip(b, a, 2811, 40000, s, c + 1, "SA", b"")),
    ];
    c += 1;
    s += 1;
    for (from_client, line) in lines {
        t += 0.01;
        let data = line.as_bytes();
        let len = u32::try_from(data.len()).unwrap();
        if *from_client {
            packets.push((t, tcp_ip(a, b, 40000, 2811, c, s, "PA", data)));
            c += len;
        } else {
            packets.push((t, tcp_ip(b, a, 2811, 40000, s, c, "PA", data)));
            s += len;
        }
    }
    packets.push((t + 0.01, tcp_ip(a, b, 40000, 2811, c, s, "FA", b"")));
    packets.push((t + 0.02, tcp_ip(b, a, 2811, 40000, s, c + 1, "FA", b"")));
    let frames: Vec<(f64, Vec<u8>)> = packets
        .into_iter()
        .map(|(t, ip)| (t, wrap(Link::Raw(101), &ip).1))
        .collect();
    pcap(101, false, false, &frames)
}

/// The event lines of a capture without what depends on the carrier (time, uid, addresses).
fn events(capture: Vec<u8>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(1);
    let outputs = Outputs {
        events: Some((EventFormat::Json, &mut out)),
        log: None,
    };
    run(&[Input::Memory("mem".into(), capture)], &opts, outputs).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            serde_json::json!({"event": v["event"], "args": v["args"]})
        })
        .collect()
}

/// The ssl.log row of a capture without ts, uid and id.
fn log_row(capture: Vec<u8>) -> Value {
    let mut out = Vec::new();
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(1);
    let outputs = Outputs {
        events: None,
        log: Some((LogFormat::Json, &mut out)),
    };
    run(&[Input::Memory("mem".into(), capture)], &opts, outputs).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let mut row: Value = serde_json::from_str(text.trim()).unwrap();
    for k in [
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
    ] {
        row.as_object_mut().unwrap().remove(k);
    }
    row
}

/// The FTP lines of a GSI login carrying `tls` (the deliveries of a direct TLS connection).
fn gsi_lines(tls: &[(bool, Vec<u8>)]) -> Vec<(bool, String)> {
    let mut lines = vec![
        (false, "220 GridFTP Server ready.\r\n".to_owned()),
        (true, "AUTH GSSAPI\r\n".to_owned()),
        (
            false,
            "334 Using authentication type; ADAT must follow.\r\n".to_owned(),
        ),
    ];
    for (is_orig, bytes) in tls {
        lines.push(if *is_orig {
            (true, format!("ADAT {}\r\n", b64(bytes)))
        } else {
            (false, format!("335 ADAT={}\r\n", b64(bytes)))
        });
    }
    lines
}

#[test]
fn tls_in_adat_tokens_gives_the_events_of_direct_tls() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/captures/tls12-client-cert.pcap");
    let direct = std::fs::read(path).unwrap();
    let tls = deliveries(&direct);
    assert!(
        tls.len() >= 4,
        "a whole handshake: {} deliveries",
        tls.len()
    );
    let tunnelled = ftp_capture(&gsi_lines(&tls));

    let want = events(direct.clone());
    let got = events(tunnelled.clone());
    assert!(want.iter().any(|e| e["event"] == "ssl_established"));
    assert_eq!(got, want);
    assert_eq!(log_row(tunnelled), log_row(direct));
}

#[test]
fn the_ftp_exchange_alone_and_a_non_tls_first_token_are_not_ssl() {
    let plain = vec![
        (false, "220 ready\r\n".to_owned()),
        (true, "AUTH GSSAPI\r\n".to_owned()),
        (false, "334 ADAT must follow\r\n".to_owned()),
        // A Kerberos GSS-API token, not TLS.
        (true, "ADAT YIIBhwYJKoZIhvcSAQICAQBu\r\n".to_owned()),
        (false, "535 Authentication failed\r\n".to_owned()),
        (true, "QUIT\r\n".to_owned()),
    ];
    assert_eq!(events(ftp_capture(&plain)), Vec::<Value>::new());
}
