//! Helpers shared by the `cli_*` tests (included with `#[path]`): running the built
//! `tls-analyzer` binary with arguments and standard input, the project's captures, scratch
//! files, and the record layout of a classic pcap file (to cut or rebuild one).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts a successful run with nothing on stderr (no warnings, no progress bar).
    pub fn ok(self) -> Run {
        assert_eq!(self.code, Some(0), "run failed: {}", self.stderr);
        assert_eq!(self.stderr, "", "unexpected stderr");
        self
    }
}

/// Runs the binary with `args` and an empty standard input.
pub fn run(args: &[&str]) -> Run {
    run_stdin(args, &[])
}

/// Runs the binary with `args`, feeding `stdin` (from a thread, so that a large input cannot
/// deadlock against a full stdout pipe).
pub fn run_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tls-analyzer"))
        .args(args)
        // Help text is wrapped to the terminal, or to $COLUMNS without one: fix it so that the
        // help snapshot does not depend on the environment the tests run in.
        .env("COLUMNS", "80")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tls-analyzer");
    let mut pipe = child.stdin.take().expect("stdin pipe");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may exit (e.g. on an error) before reading everything: a broken pipe
        // here is its business, not the test's.
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for tls-analyzer");
    writer.join().expect("stdin writer");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// `tests/captures/<name>`.
pub fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/captures")
        .join(name)
}

/// `capture(name)` as a `&str` argument.
pub fn capture_arg(name: &str) -> String {
    capture(name).to_str().expect("UTF-8 path").to_owned()
}

/// Every capture of `tests/captures`, in name order.
pub fn all_captures() -> Vec<PathBuf> {
    let dir = capture("");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/captures")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    v.sort();
    assert!(v.len() >= 33, "expected the 33 captures of tests/captures");
    v
}

/// A scratch path for this test binary (`CARGO_TARGET_TMPDIR/<test>/<name>`).
pub fn scratch(test: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// Writes `bytes` to a scratch file and returns its path as an argument.
pub fn scratch_file(test: &str, name: &str, bytes: &[u8]) -> String {
    let p = scratch(test, name);
    std::fs::write(&p, bytes).expect("write scratch file");
    p.to_str().expect("UTF-8 path").to_owned()
}

/// Byte ranges of the records (16-byte header + data) of a classic little-endian pcap.
pub fn pcap_records(pcap: &[u8]) -> Vec<std::ops::Range<usize>> {
    assert_eq!(
        pcap.get(..4),
        Some(&[0xd4, 0xc3, 0xb2, 0xa1][..]),
        "pcap LE"
    );
    let mut out = Vec::new();
    let mut off = 24;
    while off < pcap.len() {
        let hdr = pcap.get(off..off + 16).expect("record header");
        let caplen = u32::from_le_bytes(hdr[8..12].try_into().expect("4 bytes")) as usize;
        out.push(off..off + 16 + caplen);
        off += 16 + caplen;
    }
    assert_eq!(off, pcap.len(), "records end at the end of the file");
    out
}

/// gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// The data lines of a TSV log (header and footer lines dropped).
pub fn tsv_rows(log: &str) -> Vec<&str> {
    log.lines().filter(|l| !l.starts_with('#')).collect()
}

/// A TSV row without its uid (second column), for comparing runs with different uids.
pub fn without_uid(row: &str) -> String {
    let mut cols: Vec<&str> = row.split('\t').collect();
    assert!(cols.len() > 2, "not a row: {row}");
    cols.remove(1);
    cols.join("\t")
}

/// The uid of a text event line (`ts uid name args`).
pub fn event_uid(line: &str) -> &str {
    line.split(' ').nth(1).expect("event line has a uid")
}
