//! The rig of the live capture tests (`live_*.rs`): real TLS traffic on `lo` made with openssl,
//! the analyzer capturing it with `-i lo`, and tcpdump writing the same packets to a file, so
//! that a test can compare the live run's logs with a file run's.
//!
//! Needs root (or CAP_NET_RAW), openssl and tcpdump, and a build with the cargo feature `live`.
//! The build script probes the first three (`cfg(pac_no_live)`); [`ready`] checks them again at
//! run time and skips loudly, or fails when `PAC_REQUIRE_TOOLS` names `live` (as `.ci/run` does).
//! Every wait has a deadline, so that a hang fails the test instead of stalling the suite.
#![allow(dead_code)] // Each test file uses part of the rig.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[path = "../../../tests/src/require.rs"]
mod require;

/// How long any single wait (a process starting, exiting, a line appearing) may take.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The analyzer under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tls-analyzer")
}

/// Whether the tools are here; otherwise skips loudly (or fails, when required) and the caller
/// returns.
pub fn ready(what: &str) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let tool = |t: &str| {
        Command::new(t)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    let ok = root && tool("openssl") && tool("tcpdump");
    if !ok {
        require::skip_or_fail("live", &format!("{what} (needs root, openssl and tcpdump)"));
    }
    ok
}

/// A fresh scratch directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("live")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A TCP port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A process started by a test, killed if the test ends early; its stderr goes to a file.
pub struct Bg {
    pub child: Child,
    pub stderr: PathBuf,
    name: String,
}

impl Bg {
    /// Starts `cmd` with stdout to `dir/<name>.out` and stderr to `dir/<name>.err`.
    pub fn spawn(name: &str, dir: &Path, cmd: &mut Command) -> Bg {
        let out = std::fs::File::create(dir.join(format!("{name}.out"))).expect("stdout file");
        let err_path = dir.join(format!("{name}.err"));
        let err = std::fs::File::create(&err_path).expect("stderr file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Bg {
            child,
            stderr: err_path,
            name: name.to_owned(),
        }
    }

    /// Starts `cmd` with stdout to a pipe that nobody reads (`child.stdout` holds it open) and
    /// stderr to `dir/<name>.err`.
    pub fn spawn_unread(name: &str, dir: &Path, cmd: &mut Command) -> Bg {
        let err_path = dir.join(format!("{name}.err"));
        let err = std::fs::File::create(&err_path).expect("stderr file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Bg {
            child,
            stderr: err_path,
            name: name.to_owned(),
        }
    }

    /// The process's stderr so far.
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until the process's stderr contains `needle`.
    pub fn wait_stderr(&mut self, needle: &str) {
        let start = Instant::now();
        while !self.stderr_text().contains(needle) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before saying {needle:?}:\n{}",
                    self.name,
                    self.stderr_text()
                );
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{} never said {needle:?}:\n{}",
                self.name,
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (`INT`, `TERM`, `HUP`).
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{signal} {}", self.name);
    }

    /// Waits for the process to exit.
    pub fn wait(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{} did not exit:\n{}",
                self.name,
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process's peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The analyzer capturing `tcp port {port}` on `lo` with `args` added, once it has said it is
/// listening.
pub fn analyzer(dir: &Path, port: u16, args: &[&str]) -> Bg {
    let filter = format!("tcp port {port}");
    let mut cmd = Command::new(bin());
    cmd.arg("log").args(["-i", "lo", "-f", &filter]).args(args);
    let mut bg = Bg::spawn("analyzer", dir, &mut cmd);
    bg.wait_stderr("listening on lo");
    bg
}

/// tcpdump writing `tcp port {port}` on `lo` to `dir/capture.pcap`, once it is listening.
pub fn tcpdump(dir: &Path, port: u16) -> Bg {
    let path = dir.join("capture.pcap");
    let mut cmd = Command::new("tcpdump");
    cmd.args([
        "-Z",
        "root",
        "-U",
        "--immediate-mode",
        "-n",
        "-i",
        "lo",
        "-w",
    ])
    .arg(&path)
    .arg(format!("tcp port {port}"));
    let mut bg = Bg::spawn("tcpdump", dir, &mut cmd);
    bg.wait_stderr("listening on");
    bg
}

/// Stops tcpdump (SIGINT: it writes out what it has) and returns its capture file.
pub fn stop_tcpdump(mut t: Bg, dir: &Path) -> PathBuf {
    t.signal("INT");
    let status = t.wait();
    assert!(status.success(), "tcpdump: {status}\n{}", t.stderr_text());
    dir.join("capture.pcap")
}

/// A self-signed certificate for `CN=live.test` and its key, in `dir`.
pub fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=live.test", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl req");
    assert!(status.success(), "openssl req failed");
    (cert, key)
}

/// `openssl s_server`, killed when dropped; its stdin stays open (at end of input it stops).
pub struct Server {
    child: Child,
    _stdin: Option<ChildStdin>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `openssl s_server` on 127.0.0.1:`port`, once it accepts connections.
pub fn server(dir: &Path, port: u16) -> Server {
    let (cert, key) = certificate(dir);
    let mut child = Command::new("openssl")
        .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-cert"])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        // Answers every connection in turn and never exits on its own.
        .args(["-naccept", "1000000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let stdout = child.stdout.take().expect("s_server stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Reads until "ACCEPT" and then drains, so that s_server never blocks on its stdout.
        let mut said = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !said && line.contains("ACCEPT") {
                said = true;
                let _ = tx.send(());
            }
        }
    });
    let stdin = child.stdin.take();
    rx.recv_timeout(DEADLINE)
        .expect("s_server never said ACCEPT");
    Server {
        child,
        _stdin: stdin,
    }
}

/// One complete TLS handshake to 127.0.0.1:`port` with `sni`; the client then quits.
pub fn handshake(port: u16, sni: &str) {
    let mut child = client(port, sni);
    if let Some(stdin) = child.stdin.as_mut() {
        // s_client quits on a line starting with Q, after the handshake.
        let _ = stdin.write_all(b"Q\n");
    }
    let start = Instant::now();
    loop {
        // Its status says little (1 after Q on some versions): the test checks the rows.
        if child.try_wait().expect("s_client").is_some() {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "s_client to {sni} hangs");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// An `openssl s_client` to 127.0.0.1:`port` with `sni`, left connected until its stdin closes
/// or it is killed.
pub fn client(port: u16, sni: &str) -> Child {
    Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            sni,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_client")
}

/// A client that keeps its connection open: the handshake is done once `s_client` printed
/// its session (it is then waiting on stdin).
pub struct OpenClient {
    pub child: Child,
    _stdin: ChildStdin,
}

/// Opens a connection with `sni` and leaves it open after the handshake.
pub fn open_client(port: u16, sni: &str) -> OpenClient {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            sni,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_client");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut said = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !said && line.contains("Verify return code") {
                said = true;
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(DEADLINE)
        .expect("s_client never finished its handshake");
    OpenClient {
        child,
        _stdin: stdin,
    }
}

impl Drop for OpenClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The rows of a TSV log (no `#` lines) with the uid column (the second) removed: uids are
/// random per run.
pub fn rows_without_uid(tsv: &str) -> Vec<String> {
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            l.split('\t')
                .enumerate()
                .filter(|(i, _)| *i != 1)
                .map(|(_, f)| f)
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect()
}

/// ssl.log of the analyzer run on a capture file, as TSV text.
pub fn file_run(pcap: &Path, args: &[&str]) -> String {
    let out = Command::new(bin())
        .arg("log")
        .args(args)
        .arg(pcap)
        .output()
        .expect("analyzer on the capture file");
    assert!(
        out.status.success(),
        "file run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until `path` exists and ends with a newline (a writer flushed it), or the deadline.
pub fn read_when_flushed(path: &Path) -> String {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.ends_with('\n') || start.elapsed() > DEADLINE {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts that two ssl.logs have the same rows, uids aside and with timestamps within a
/// millisecond: two packet sockets can stamp the same loopback packet a microsecond apart (the
/// kernel stamps an outgoing packet when each socket receives its copy).
pub fn assert_same_rows(live: &str, file: &str) {
    let split = |tsv: &str| -> Vec<(f64, String)> {
        rows_without_uid(tsv)
            .into_iter()
            .map(|r| {
                let (ts, rest) = r.split_once('\t').unwrap_or((r.as_str(), ""));
                (ts.parse::<f64>().unwrap_or(f64::NAN), rest.to_owned())
            })
            .collect()
    };
    let (a, b) = (split(live), split(file));
    assert_eq!(
        a.len(),
        b.len(),
        "row counts differ\nlive:\n{live}\nfile:\n{file}"
    );
    for ((ta, ra), (tb, rb)) in a.iter().zip(&b) {
        assert_eq!(ra, rb, "\nlive:\n{live}\nfile:\n{file}");
        assert!(
            (ta - tb).abs() < 1e-3,
            "ts {ta} vs {tb}\nlive:\n{live}\nfile:\n{file}"
        );
    }
}
