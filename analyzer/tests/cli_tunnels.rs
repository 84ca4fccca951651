//! `log --log tunnel` and `--logdir` through the built binary: tunnel.log on stdout in Zeek's
//! TSV and as JSON, the same bytes in `DIR/tunnel.log` beside ssl.log, none without tunnels, and
//! `--tunnel-max-depth 0` turning decapsulation off.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "cli_util.rs"]
mod util;

use util::*;

fn wrapped(name: &str) -> String {
    capture_arg(&format!("tunnels/{name}"))
}

#[test]
fn log_tunnel_prints_zeeks_tunnel_log() {
    let cap = wrapped("tls13-vxlan.pcap");
    let r = run(&["log", "--log", "tunnel", "--seed", "1", &cap]).ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.contains(&"#path\ttunnel"));
    assert!(lines.contains(
        &"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttunnel_type\taction"
    ));
    let rows: Vec<Vec<&str>> = lines
        .iter()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
        .collect();
    // Both directions' outer flows (source ports 40000 and 40001), discovered, then closed at
    // the end of the capture.
    let actions: Vec<(&str, &str)> = rows.iter().map(|r| (r[3], r[7])).collect();
    assert_eq!(
        actions,
        [
            ("40000", "Tunnel::DISCOVER"),
            ("40001", "Tunnel::DISCOVER"),
            ("40000", "Tunnel::CLOSE"),
            ("40001", "Tunnel::CLOSE"),
        ]
    );
    assert!(rows
        .iter()
        .all(|r| r[6] == "Tunnel::VXLAN" && r[5] == "4789"));
    let json = run(&["log", "--log", "tunnel", "--format", "json", &cap]).ok();
    assert_eq!(json.stdout.lines().count(), 4);
    assert!(json.stdout.contains("\"tunnel_type\":\"Tunnel::VXLAN\""));
}

#[test]
fn logdir_writes_tunnel_log_beside_ssl_log() {
    let dir = scratch("cli_tunnels", "logs");
    let _ = std::fs::remove_dir_all(&dir);
    let cap = wrapped("tls13-nested.pcap");
    let d = dir.join("nested");
    let r = run(&["log", "--seed", "1", "--logdir", d.to_str().unwrap(), &cap]).ok();
    assert_eq!(r.stdout, "");
    let tunnel = run(&["log", "--log", "tunnel", "--seed", "1", &cap]).ok();
    let ssl = run(&["log", "--seed", "1", &capture_arg("tls13.pcap")]).ok();
    assert_eq!(
        std::fs::read_to_string(d.join("tunnel.log")).unwrap(),
        tunnel.stdout
    );
    // The inner connection's ssl.log is the unwrapped capture's, byte for byte.
    assert_eq!(
        std::fs::read_to_string(d.join("ssl.log")).unwrap(),
        ssl.stdout
    );
    // Without tunnels, no tunnel.log (as Zeek).
    let plain = dir.join("plain");
    run(&[
        "log",
        "--logdir",
        plain.to_str().unwrap(),
        &capture_arg("tls13.pcap"),
    ])
    .ok();
    assert!(plain.join("ssl.log").is_file());
    assert!(!plain.join("tunnel.log").exists());
}

#[test]
fn tunnel_max_depth_zero_turns_decapsulation_off() {
    let cap = wrapped("tls13-gre.pcap");
    let on = run(&["log", "--seed", "1", &cap]).ok();
    assert_eq!(on.stdout.lines().filter(|l| !l.starts_with('#')).count(), 1);
    let off = run(&["log", "--tunnel-max-depth", "0", &cap]).ok();
    assert_eq!(off.stdout, "");
}
