//! The analyzer's removal (after a violation or `ssl_established`) takes effect at the end of
//! the packet that caused it, as in Zeek — also when later packets carry the same timestamp
//! (coarse or offloaded capture clocks), which the capture engine tells apart for us.

#[path = "capture_util.rs"]
mod capture_util;

use capture_util::{pcap, tcp_ip, v4};
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, EventFormat, Outputs, RunOptions};

const C: u32 = 100;
const S: u32 = 9000;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn events(packets: &[(f64, Vec<u8>)]) -> Vec<String> {
    let bytes = pcap(101, false, false, packets);
    let mut out = Vec::new();
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(3);
    run(
        &[Input::Memory("removal.pcap".into(), bytes)],
        &opts,
        Outputs {
            events: Some((EventFormat::Json, &mut out)),
            log: None,
        },
    )
    .expect("run");
    String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["event"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

#[test]
fn nothing_is_analysed_after_a_violation_in_a_later_packet_with_the_same_timestamp() {
    let hello = hex(concat!(
        "160301002f0100002b0303",
        "4242424242424242424242424242424242424242424242424242424242424242",
        "000002c02f01000000"
    ));
    // A Certificate message declaring 16 MiB - 1: Zeek's out-of-bound violation.
    let bad_cert = hex("16030300040bffffff");
    // More bytes from the server, in a separate packet but with the same timestamp.
    let zeros = hex("160303001000000000000000000000000000000000");
    let cli = |seq: u32, data: &[u8]| tcp_ip(v4(1), v4(2), 40000, 443, C + seq, S + 1, "PA", data);
    let srv = |seq: u32, data: &[u8]| tcp_ip(v4(2), v4(1), 443, 40000, S + seq, C + 1, "PA", data);
    let mut packets = vec![
        (1.0, tcp_ip(v4(1), v4(2), 40000, 443, C, 0, "S", b"")),
        (1.0, tcp_ip(v4(2), v4(1), 443, 40000, S, C + 1, "SA", b"")),
        (1.0, cli(1, b"")),
        (1.0, cli(1, &hello)),
        (1.0, srv(1, &bad_cert)),
    ];
    let n = 1 + bad_cert.len() as u32;
    packets.push((1.0, srv(n, &zeros)));
    let names = events(&packets);
    let violation = names
        .iter()
        .position(|e| e == "analyzer_violation_info")
        .expect("a violation");
    // The violating record still gets its ssl_plaintext_data (it closes the record that caused
    // the violation, in the same packet); the later packet yields nothing.
    assert_eq!(
        &names[violation..],
        [
            "analyzer_violation_info",
            "ssl_plaintext_data",
            "analyzer_disabled"
        ],
        "{names:?}"
    );
}
