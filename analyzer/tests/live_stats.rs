//! Drops made visible and bounds kept under a flood, in a live run: `--stats-interval` writes
//! stats.log with Zeek's columns (packets processed, seen on the link, dropped by the kernel and
//! by the interface), the drop report on stderr at exit, and a UDP flood of distinct flows on
//! `lo` keeps the connection table at `--max-connections` (weird `connection_table_full`) with
//! the process's peak memory bounded.
//!
//! Needs root, openssl and tcpdump (see `live_rig`).
#![cfg(feature = "live")]

mod live_rig;

use std::process::Command;
use std::time::{Duration, Instant};

use live_rig::*;

/// The values of column `name` in a TSV log's rows.
fn column(tsv: &str, name: &str) -> Vec<String> {
    let fields: Vec<&str> = tsv
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .map(|f| f.split('\t').collect())
        .unwrap_or_default();
    let Some(i) = fields.iter().position(|f| *f == name) else {
        panic!("no column {name} in\n{tsv}");
    };
    tsv.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(i).map(str::to_owned))
        .collect()
}

fn sum(values: &[String]) -> u64 {
    values
        .iter()
        .map(|v| v.parse::<u64>().expect("a count"))
        .sum()
}

#[test]
#[cfg_attr(
    pac_no_live,
    ignore = "live capture needs root, openssl and tcpdump; probed at build time"
)]
fn stats_log_counts_packets_and_drops_per_interval() {
    if !ready("stats.log on lo") {
        return;
    }
    let dir = scratch("stats");
    let port = free_port();
    let logdir = dir.join("logs");
    let _server = server(&dir, port);
    let mut live = analyzer(
        &dir,
        port,
        &[
            "--logdir",
            logdir.to_str().expect("utf-8"),
            "--stats-interval",
            "0.3",
        ],
    );
    for i in 0..3 {
        handshake(port, &format!("s{i}.stats.test"));
    }
    std::thread::sleep(Duration::from_millis(800));
    live.signal("INT");
    assert!(live.wait().success(), "{}", live.stderr_text());

    let stats = std::fs::read_to_string(logdir.join("stats.log")).expect("stats.log");
    assert!(stats.contains("#path\tstats\n"), "{stats}");
    assert!(
        stats.contains(
            "#fields\tts\tpeer\tmem\tpkts_proc\tbytes_recv\tpkts_dropped\tpkts_link\t\
             pkts_ifdropped\tactive_conns\ttcp_conns\tudp_conns\treassem_tcp_size\n"
        ),
        "{stats}"
    );
    assert!(stats.contains("\n#close\t"), "{stats}");
    let peers = column(&stats, "peer");
    assert!(peers.len() >= 3, "{stats}");
    assert!(peers.iter().all(|p| p == "worker-1"), "{stats}");
    // Every packet of the handshakes was processed in some interval, each connection counted
    // once; nothing was dropped at this rate.
    let processed = sum(&column(&stats, "pkts_proc"));
    assert!(processed >= 3 * 10, "{processed} packets\n{stats}");
    assert_eq!(sum(&column(&stats, "tcp_conns")), 3, "{stats}");
    assert_eq!(sum(&column(&stats, "pkts_dropped")), 0, "{stats}");
    assert!(sum(&column(&stats, "pkts_link")) >= processed, "{stats}");
    // And the drop report on stderr at exit.
    let stderr = live.stderr_text();
    assert!(
        stderr.contains("lo: ")
            && stderr.contains(" 0 dropped by the kernel, 0 dropped by the interface"),
        "{stderr}"
    );
}

/// Sends `datagrams` UDP datagrams from `sockets` sockets to `ports` destination ports on
/// 127.0.0.1 from `base` on: almost every datagram a new flow.
fn udp_flood(datagrams: usize, sockets: usize, base: u16, ports: u16) {
    let script = format!(
        "import socket\n\
         ss=[socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range({sockets})]\n\
         for i in range({datagrams}):\n    \
         ss[(i // {ports}) % {sockets}].sendto(b'flood', ('127.0.0.1', {base} + i % {ports}))\n"
    );
    let status = Command::new("python3")
        .args(["-c", &script])
        .status()
        .expect("python3");
    assert!(status.success());
}

#[test]
#[cfg_attr(
    pac_no_live,
    ignore = "live capture needs root, openssl and tcpdump; probed at build time"
)]
fn a_udp_flood_stays_within_the_connection_cap() {
    if !ready("UDP flood on lo") {
        return;
    }
    let dir = scratch("flood");
    let (base, ports) = (31000u16, 20000u16);
    let filter = format!("udp and dst portrange {base}-{}", base + ports - 1);
    let mut cmd = Command::new(bin());
    cmd.args(["events", "--format", "json", "-i", "lo", "-f", &filter])
        // Without --logdir, stats.log goes to stderr, here as JSON Lines.
        .args(["--max-connections", "1000", "--stats-interval", "0.2"]);
    let mut live = Bg::spawn("flood", &dir, &mut cmd);
    live.wait_stderr("listening on lo");
    let before = live.peak_rss_kib();
    let start = Instant::now();
    udp_flood(150_000, 8, base, ports);
    let sent_in = start.elapsed();
    std::thread::sleep(Duration::from_millis(700));
    let after = live.peak_rss_kib();
    live.signal("INT");
    assert!(live.wait().success(), "{}", live.stderr_text());

    let events = std::fs::read_to_string(dir.join("flood.out")).expect("events");
    let weirds = events
        .lines()
        .filter(|l| l.contains("\"connection_table_full\""))
        .count();
    let stderr = live.stderr_text();
    let stats: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON stats row"))
        .collect();
    let count = |row: &serde_json::Value, name: &str| row[name].as_u64().expect("a count");
    let active: Vec<u64> = stats.iter().map(|r| count(r, "active_conns")).collect();
    let flows: u64 = stats.iter().map(|r| count(r, "udp_conns")).sum();
    eprintln!(
        "flood: 150000 datagrams in {sent_in:?}; {flows} flows analysed, {weirds} evicted, \
         peak RSS {before} -> {after} KiB, drops: {}",
        live.stderr_text()
            .lines()
            .find(|l| l.contains("lo: "))
            .unwrap_or_default()
    );
    assert!(
        flows > 5_000,
        "too few flows reached the engine: {flows}\n{stderr}"
    );
    assert!(active.iter().all(|&a| a <= 1000), "{active:?}");
    // Every flow past the first thousand evicted the least recently active one.
    assert_eq!(weirds as u64, flows - 1000, "{flows} flows");
    // A thousand connections cost well under a megabyte; the rest is the output buffers.
    assert!(
        after.saturating_sub(before) < 16 * 1024,
        "peak RSS grew from {before} to {after} KiB"
    );
}
