//! Live capture (`-i`): the analyzer on `lo` during real openssl handshakes writes the same
//! ssl.log rows as the file run on tcpdump's capture of the same packets; SIGINT with a
//! connection still open writes that connection's row and exits 0; a second signal exits at
//! once with status 1, even while the orderly stop cannot finish; a bad interface, a bad
//! filter and a build without live capture each give a clear error and exit 1.
//!
//! The tests that capture need root, openssl and tcpdump (see `live_rig`); they are ignored,
//! with the reason, where the build probe did not find them, and fail under
//! `PAC_REQUIRE_TOOLS=live` (`.ci/run`).

mod live_rig;

use std::process::Command;

use live_rig::*;

#[cfg(feature = "live")]
#[test]
#[cfg_attr(
    pac_no_live,
    ignore = "live capture needs root, openssl and tcpdump; probed at build time"
)]
fn live_rows_equal_the_file_run_of_the_same_packets() {
    if !ready("live capture on lo") {
        return;
    }
    let dir = scratch("equal");
    let port = free_port();
    let logdir = dir.join("logs");
    let _server = server(&dir, port);
    let dump = tcpdump(&dir, port);
    let mut live = analyzer(&dir, port, &["--logdir", logdir.to_str().expect("utf-8")]);
    for i in 0..4 {
        handshake(port, &format!("host{i}.live.test"));
    }
    // Still open when the analyzer stops: its row comes from the shutdown.
    let open = open_client(port, "open.live.test");
    std::thread::sleep(std::time::Duration::from_millis(300));
    live.signal("INT");
    let status = live.wait();
    let stderr = live.stderr_text();
    assert!(status.success(), "analyzer: {status}\n{stderr}");
    let pcap = stop_tcpdump(dump, &dir);
    drop(open);

    let live_log = std::fs::read_to_string(logdir.join("ssl.log")).expect("live ssl.log");
    let file_log = file_run(&pcap, &[]);
    let live_rows = rows_without_uid(&live_log);
    assert_eq!(live_rows.len(), 5, "{live_log}");
    assert_same_rows(&live_log, &file_log);
    for name in ["host0.live.test", "host3.live.test", "open.live.test"] {
        assert!(
            live_rows.iter().any(|r| r.contains(&format!("\t{name}\t"))),
            "{name} missing:\n{live_log}"
        );
    }
    // A complete TSV log: header, rows, footer.
    assert!(live_log.starts_with("#separator"), "{live_log}");
    assert!(live_log.contains("\n#close\t"), "{live_log}");
    // The drop report on stderr.
    assert!(
        stderr.contains("lo: ") && stderr.contains(" dropped by the kernel"),
        "{stderr}"
    );
}

#[cfg(feature = "live")]
#[test]
#[cfg_attr(
    pac_no_live,
    ignore = "live capture needs root, openssl and tcpdump; probed at build time"
)]
fn threads_2_fanout_writes_each_connection_once() {
    if !ready("fanout capture on lo") {
        return;
    }
    let dir = scratch("fanout");
    let port = free_port();
    let logdir = dir.join("logs");
    let _server = server(&dir, port);
    let dump = tcpdump(&dir, port);
    let mut live = analyzer(
        &dir,
        port,
        &[
            "--logdir",
            logdir.to_str().expect("utf-8"),
            "--threads",
            "2",
        ],
    );
    assert!(live.stderr_text().contains("2 workers, fanout hash"));
    // 16 connections: the chance that the hash gives every one to the same worker is 2^-15.
    for i in 0..16 {
        handshake(port, &format!("f{i}.fanout.test"));
    }
    let open = open_client(port, "open.fanout.test");
    std::thread::sleep(std::time::Duration::from_millis(300));
    live.signal("INT");
    let status = live.wait();
    let stderr = live.stderr_text();
    assert!(status.success(), "analyzer: {status}\n{stderr}");
    let pcap = stop_tcpdump(dump, &dir);
    drop(open);

    let live_log = std::fs::read_to_string(logdir.join("ssl.log")).expect("live ssl.log");
    // One header and one footer although two workers wrote rows.
    assert_eq!(live_log.matches("#fields\t").count(), 1, "{live_log}");
    assert_eq!(live_log.matches("#close\t").count(), 1, "{live_log}");
    assert!(live_log.ends_with('\n'));
    // Workers finish connections in their own order: compare as sets (each row once).
    let mut live_rows = rows_without_uid(&live_log);
    let mut file_rows = rows_without_uid(&file_run(&pcap, &[]));
    assert_eq!(live_rows.len(), 17, "{live_log}");
    live_rows.sort();
    file_rows.sort();
    let live_sorted = live_rows.join("\n");
    let file_sorted = file_rows.join("\n");
    assert_same_rows(&live_sorted, &file_sorted);
    // Both workers had packets, and the total is their sum.
    let received = |who: &str| -> u64 {
        stderr
            .lines()
            .find(|l| l.contains(who))
            .and_then(|l| l.split(": ").nth(2))
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count for {who}:\n{stderr}"))
    };
    let (w1, w2) = (received("(worker-1)"), received("(worker-2)"));
    assert!(w1 > 0 && w2 > 0, "{stderr}");
    assert_eq!(received("total"), w1 + w2, "{stderr}");
}

/// Whether process `pid` sleeps in a write to a full pipe (`/proc/PID/wchan` is `pipe_write`,
/// or `anon_pipe_write` on newer kernels).
#[cfg(feature = "live")]
fn blocked_on_pipe(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.contains("pipe_write"))
}

#[cfg(feature = "live")]
#[test]
#[cfg_attr(
    pac_no_live,
    ignore = "live capture needs root, openssl and tcpdump; probed at build time"
)]
fn a_second_signal_exits_at_once() {
    use std::time::{Duration, Instant};

    if !ready("second signal on lo") {
        return;
    }
    let dir = scratch("second-signal");
    let port = free_port();
    let _server = server(&dir, port);
    // Events go to a pipe nobody reads. Once it is full the analyzer sleeps in `write`, so the
    // orderly stop the first SIGINT asks for cannot happen: only the second signal ends it.
    let mut cmd = Command::new(bin());
    cmd.args(["events", "--format", "json", "-i", "lo", "-f"])
        .arg(format!("tcp port {port}"));
    let mut live = Bg::spawn_unread("analyzer", &dir, &mut cmd);
    live.wait_stderr("listening on lo");
    let pid = live.child.id();
    // About 11 KB of events per handshake: the 64 KiB pipe and the output buffer fill within
    // a dozen; the output is flushed at least every half second.
    let start = Instant::now();
    let mut handshakes = 0;
    while !blocked_on_pipe(pid) {
        assert!(
            start.elapsed() < DEADLINE * 3,
            "the analyzer never blocked on its full stdout after {handshakes} handshakes"
        );
        handshake(port, &format!("h{handshakes}.second.test"));
        handshakes += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    live.signal("INT");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        live.child.try_wait().expect("try_wait").is_none(),
        "the first SIGINT only asks for the orderly stop, which waits on the full pipe"
    );
    live.signal("INT");
    let status = live.wait();
    assert_eq!(status.code(), Some(1), "second SIGINT: {status}");
}

#[cfg(feature = "live")]
#[test]
fn a_missing_interface_is_a_clear_error() {
    let out = Command::new(bin())
        .args(["log", "-i", "nosuchif0"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot capture on nosuchif0"), "{stderr}");
}

#[cfg(feature = "live")]
#[test]
#[cfg_attr(
    pac_no_live,
    ignore = "live capture needs root, openssl and tcpdump; probed at build time"
)]
fn a_bad_filter_is_a_clear_error() {
    if !ready("bad filter on lo") {
        return;
    }
    let out = Command::new(bin())
        .args(["log", "-i", "lo", "-f", "tcp port"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad capture filter"), "{stderr}");
}

#[cfg(not(feature = "live"))]
#[test]
fn without_the_feature_the_error_says_how_to_get_it() {
    let out = Command::new(bin())
        .args(["log", "-i", "lo"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("libpcap-dev") && stderr.contains("--features live"),
        "{stderr}"
    );
}

#[test]
fn interface_and_files_do_not_mix() {
    let out = Command::new(bin())
        .args(["log", "-i", "lo", "some.pcap"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(bin())
        .args(["log", "-f", "tcp"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "-f needs -i");
}
