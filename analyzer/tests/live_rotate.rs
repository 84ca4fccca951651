//! Log rotation of a live run (`--logdir DIR --rotate SECONDS`, SIGHUP): the rotated files
//! carry Zeek's names (`ssl.<open time>.log`), each is a complete TSV log whose `#open` is the
//! time in its name, and together they hold exactly the rows of the file run on tcpdump's
//! capture of the same traffic: none lost, none doubled across the cuts.
//!
//! Needs root, openssl and tcpdump (see `live_rig`).
#![cfg(feature = "live")]

mod live_rig;

use std::path::Path;
use std::time::{Duration, Instant};

use live_rig::*;

/// The rotated ssl.logs in `dir`, in name (that is, time) order.
fn rotated(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("logdir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ssl.") && n != "ssl.log")
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).expect("rotated log");
            (n, text)
        })
        .collect();
    files.sort();
    files
}

/// Checks that `name` is Zeek's rotated name and `text` a complete log opened at that time.
fn check_rotated(name: &str, text: &str) {
    let stamp = name
        .strip_prefix("ssl.")
        .and_then(|n| n.strip_suffix(".log"))
        .unwrap_or_else(|| panic!("not a rotated ssl.log name: {name}"));
    // %Y-%m-%d-%H-%M-%S, as Log::default_rotation_date_format.
    let digits: Vec<&str> = stamp.split('-').collect();
    assert_eq!(digits.len(), 6, "{name}");
    assert!(
        digits.iter().all(|d| d.chars().all(|c| c.is_ascii_digit())),
        "{name}"
    );
    assert!(text.starts_with("#separator"), "{name}:\n{text}");
    assert!(
        text.contains(&format!("\n#open\t{stamp}\n")),
        "{name}'s #open is not its name's time:\n{text}"
    );
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("#close\t"),
        "{name} has no footer:\n{text}"
    );
}

#[test]
#[cfg_attr(
    pac_no_live,
    ignore = "live capture needs root, openssl and tcpdump; probed at build time"
)]
fn rotation_under_traffic_loses_and_doubles_nothing() {
    if !ready("log rotation on lo") {
        return;
    }
    let dir = scratch("rotate");
    let port = free_port();
    let logdir = dir.join("logs");
    let _server = server(&dir, port);
    let dump = tcpdump(&dir, port);
    let mut live = analyzer(
        &dir,
        port,
        &["--logdir", logdir.to_str().expect("utf-8"), "--rotate", "1"],
    );
    // About 2.5 s of handshakes: at least two cuts fall between them.
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_millis(2500) {
        handshake(port, &format!("h{n}.rotate.test"));
        n += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SIGTERM stops as SIGINT does.
    live.signal("TERM");
    let status = live.wait();
    assert!(status.success(), "{status}\n{}", live.stderr_text());
    let pcap = stop_tcpdump(dump, &dir);

    let files = rotated(&logdir);
    assert!(files.len() >= 2, "{n} handshakes, files: {files:?}");
    assert!(
        !logdir.join("ssl.log").exists(),
        "rotated at exit too, as Zeek does"
    );
    for (name, text) in &files {
        check_rotated(name, text);
    }
    let joined: String = files.iter().map(|(_, t)| t.as_str()).collect();
    let file_log = file_run(&pcap, &[]);
    assert_eq!(rows_without_uid(&joined).len(), n, "{joined}");
    assert_same_rows(&joined, &file_log);
}

#[test]
#[cfg_attr(
    pac_no_live,
    ignore = "live capture needs root, openssl and tcpdump; probed at build time"
)]
fn sighup_rotates_now() {
    if !ready("SIGHUP rotation on lo") {
        return;
    }
    let dir = scratch("sighup");
    let port = free_port();
    let logdir = dir.join("logs");
    let _server = server(&dir, port);
    let mut live = analyzer(&dir, port, &["--logdir", logdir.to_str().expect("utf-8")]);
    handshake(port, "before.hup.test");
    // The row is written once the analyzer has read the handshake.
    let deadline = Instant::now() + DEADLINE;
    while !std::fs::read_to_string(logdir.join("ssl.log"))
        .unwrap_or_default()
        .contains("before.hup.test")
    {
        assert!(Instant::now() < deadline, "no row before SIGHUP");
        std::thread::sleep(Duration::from_millis(20));
    }
    live.signal("HUP");
    let deadline = Instant::now() + DEADLINE;
    while rotated(&logdir).is_empty() {
        assert!(Instant::now() < deadline, "SIGHUP did not rotate");
        std::thread::sleep(Duration::from_millis(20));
    }
    handshake(port, "after.hup.test");
    std::thread::sleep(Duration::from_millis(300));
    live.signal("INT");
    assert!(live.wait().success(), "{}", live.stderr_text());

    let files = rotated(&logdir);
    assert_eq!(files.len(), 1, "{files:?}");
    let (name, text) = &files[0];
    check_rotated(name, text);
    assert!(text.contains("before.hup.test") && !text.contains("after.hup.test"));
    // Without --rotate the current file keeps its name at exit.
    let current = std::fs::read_to_string(logdir.join("ssl.log")).expect("ssl.log");
    assert!(current.contains("after.hup.test") && !current.contains("before.hup.test"));
    assert!(current.contains("\n#close\t"), "{current}");
}
