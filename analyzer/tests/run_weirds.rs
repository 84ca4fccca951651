//! Capture-layer weirds reach the event output: a retransmission that contradicts buffered
//! out-of-order data is Zeek's `rexmit_inconsistency`, printed as a `conn_weird` line of the
//! connection (source `TCP`), whether or not the connection turns out to be SSL.

#[path = "capture_util.rs"]
mod capture_util;

use capture_util::{pcap, tcp_ip, v4};
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, EventFormat, Outputs, RunOptions};

const C: u32 = 100;
const S: u32 = 9000;

fn cli(seq: u32, data: &[u8]) -> Vec<u8> {
    tcp_ip(v4(1), v4(2), 40000, 443, C + seq, S + 1, "PA", data)
}

#[test]
fn conflicting_retransmission_is_a_conn_weird_line() {
    let packets = vec![
        (1.0, tcp_ip(v4(1), v4(2), 40000, 443, C, 0, "S", b"")),
        (1.1, tcp_ip(v4(2), v4(1), 443, 40000, S, C + 1, "SA", b"")),
        (1.2, cli(1, b"")),
        (2.0, cli(1, b"GET ")),
        (2.1, cli(9, b"89ab")), // ahead of the stream: buffered
        (2.3, cli(7, b"67XY")), // contradicts the buffered "89"
        (2.4, cli(5, b"45")),
    ];
    let bytes = pcap(101, false, false, &packets);
    let mut out = Vec::new();
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(7);
    run(
        &[Input::Memory("weird.pcap".into(), bytes)],
        &opts,
        Outputs {
            events: Some((EventFormat::Json, &mut out)),
            log: None,
        },
    )
    .expect("run");
    let text = String::from_utf8(out).expect("utf-8");
    let weirds: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|v| v["event"] == "conn_weird")
        .collect();
    assert_eq!(weirds.len(), 1, "{text}");
    assert_eq!(weirds[0]["args"]["name"], "rexmit_inconsistency");
    assert_eq!(weirds[0]["args"]["source"], "TCP");
    assert_eq!(weirds[0]["id"]["resp_p"], 443);
    assert_eq!(weirds[0]["ts"], 2.3);
}
